"""The harness itself, proven with an ordinary cell before any nbstream code is involved."""

from __future__ import annotations

import pytest

from ._notebook import NotebookPage, write_notebook

pytestmark = pytest.mark.browser


def test_markdown_cell_renders_saves_and_reopens_without_kernel(nb: NotebookPage) -> None:
    write_notebook(nb.server.root / "harness.ipynb", ["1 + 1"])
    nb.open("harness.ipynb")
    nb.type_cell(
        0,
        'from IPython.display import Markdown\ndisplay(Markdown("# Hello\\n\\n| a | b |\\n|---|---|\\n| 1 | 2 |"))',
    )
    nb.run_cell(0)

    rendered = nb.outputs(0)
    assert rendered.locator("h1").text_content() == "Hello¶"  # ¶: the heading's anchor link
    assert rendered.locator("table td").all_text_contents() == ["1", "2"]
    saved = nb.save()
    assert saved["cells"][0]["outputs"][0]["data"]["text/markdown"].startswith("# Hello")

    nb.close_and_reopen_page()
    nb.open("harness.ipynb", start_kernel=False)
    assert nb.kernel_status() is None
    assert nb.outputs(0).locator("h1").text_content() == "Hello¶"
    nb.screenshot("harness-reopened")

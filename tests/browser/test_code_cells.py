"""Issue 14, in JupyterLab 4 and Notebook 7: the code of an answer is one click from running.

While the answer streams, an **Insert below** button sits under each code block that has
settled; a click puts the block into a new cell below the answer's cell when it ends. Later,
``%chat code N`` does the same. No button is left in the saved notebook.
"""

from __future__ import annotations

import re

import pytest

from nbstream._core.markdown import code_blocks
from nbstream.server import BackgroundServer
from nbstream.server._content import answer

from ._chat import LOAD, chat
from ._notebook import NotebookPage, write_notebook

pytestmark = pytest.mark.browser

PROMPT = "Show me some code"  # the demo answer with a python and a bash block
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _sources(nb: NotebookPage) -> list[str]:
    sources: list[str] = nb.page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells"
        ".map(c => c.source)"
    )
    return sources


def test_insert_below_while_streaming_and_chat_code_afterwards(
    nb: NotebookPage, backend: BackgroundServer
) -> None:
    python, bash = (b.code for b in code_blocks(answer("demo", PROMPT)))
    cell = chat(backend, "demo:tps=20,ttft=0", PROMPT)
    write_notebook(nb.server.root / "code.ipynb", [LOAD, cell, "%chat code 1"])
    nb.open("code.ipynb")
    nb.run_cell(0)
    nb.run_cell(1, wait=False)

    insert = nb.cell(1).get_by_role("button", name="Insert below")
    insert.first.wait_for(timeout=30_000)  # under the python block, once it has settled
    assert nb.execution_prompt(1) == "[*]:", "the answer ended before the block settled"
    nb.screenshot("code-insert-button", cells=(1, 1))
    insert.first.click()
    nb.cell(1).get_by_role("button", name=re.compile("goes below")).wait_for()
    nb.wait_cell_done(1, timeout=60)
    nb.page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length === 4"
    )
    assert _sources(nb) == [LOAD, cell, python, "%chat code 1"]
    assert nb.cell(1).locator(".jp-OutputArea button").count() == 0, "buttons left after the end"

    nb.run_cell(3)  # (Shift+Enter on the last cell also adds an empty one at the end)
    nb.page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length >= 5"
    )
    assert _sources(nb)[4] == python
    assert "code block 1 of 2 (python)" in nb.output_text(3)
    assert bash not in _sources(nb)  # only the blocks asked for
    nb.screenshot("code-inserted")

    saved = nb.save()
    outputs = saved["cells"][1]["outputs"]
    assert all(WIDGET_MIME not in o.get("data", {}) for o in outputs)

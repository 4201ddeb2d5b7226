"""Scenario 5 of issue 8, in JupyterLab 4 and Notebook 7: a hostile answer executes nothing and
loads nothing from other hosts.
"""

from __future__ import annotations

import pytest

from nbstream.server import BackgroundServer

from ._chat import LOAD, chat, markdown_text
from ._notebook import NotebookPage, write_notebook

pytestmark = pytest.mark.browser


# -- 5. Hostile output ---------------------------------------------------------------------------

_FLAGS = "() => Object.keys(window).filter(k => k.startsWith('__nbstream_pwned'))"

# A payload that does run in an ordinary display(HTML) in the same session (FACTS: outputs of
# the current session are trusted): it proves that the flag check can see an execution.
CONTROL = (
    "from IPython.display import HTML\n"
    'display(HTML(\'<img src="data:," onerror="window.__nbstream_pwned_control = 1">\'))'
)


def test_hostile_answer_executes_nothing_and_loads_nothing(
    nb: NotebookPage, backend: BackgroundServer
) -> None:
    hostile = chat(backend, "hostile:tps=200,ttft=0", "hi")
    write_notebook(nb.server.root / "hostile.ipynb", [LOAD, hostile, CONTROL])
    requests: list[str] = []
    nb.page.on("request", lambda r: requests.append(r.url))
    nb.open("hostile.ipynb")
    nb.run_cell(0)
    nb.run_cell(1, timeout=30)
    nb.page.wait_for_timeout(1500)  # images, iframes and handlers fire asynchronously
    fired = nb.page.evaluate(_FLAGS)
    nb.screenshot("5-hostile")
    assert fired == [], f"hostile markup executed: {fired}"

    output = nb.cell(1).locator(".jp-OutputArea")
    assert output.locator("script, iframe, object, embed, style").count() == 0
    assert output.locator("[onerror], [onload], [ontoggle], [onclick]").count() == 0
    hrefs = output.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href') || '')")
    assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:"))], hrefs
    assert "203.0.113.7" not in " ".join(requests), "the remote image was requested"
    assert not nb.page.context.outside_requests  # type: ignore[attr-defined]
    assert "A hostile answer" in markdown_text(nb, 1), "the answer itself is not shown"

    nb.run_cell(2)
    nb.page.wait_for_function("() => window.__nbstream_pwned_control === 1", timeout=5000)

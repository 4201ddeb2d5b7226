"""Scenarios 3 and 4 of issue 8, in JupyterLab 4 and Notebook 7: Run All gives complete answers in
order, and a saved notebook reopened without a kernel shows them with no widget errors.
"""

from __future__ import annotations

import re

import pytest

from nbstream.server import BackgroundServer
from nbstream.server._content import answer

from ._chat import (
    LOAD,
    TOUR,
    chat,
    markdown,
    markdown_text,
    record_for,
    saved_answer,
    saved_status,
    wait_text,
    words,
)
from ._notebook import NotebookPage, write_notebook

pytestmark = pytest.mark.browser

WIDGET_ERROR = "Error displaying widget"


# -- 3. Run All --------------------------------------------------------------------------------


def test_run_all_runs_in_order_with_complete_answers(
    nb: NotebookPage, backend: BackgroundServer
) -> None:
    first = chat(backend, "demo:tps=200,ttft=0.2", "Show me a table", "-o", "first")
    second = chat(backend, "echo:tps=100,ttft=0.2", "Say hello back, twice: hello hello")
    use = "print(f'first reply: {len(first.text)} characters, {first.text[:24]!r}')"
    write_notebook(nb.server.root / "runall.ipynb", [LOAD, first, second, use])
    nb.open("runall.ipynb")
    nb.run_all(timeout=60)

    prompts = [nb.execution_prompt(i) for i in range(4)]
    assert prompts == ["[1]:", "[2]:", "[3]:", "[4]:"], f"cells did not run in order: {prompts}"
    expected_first = answer("demo", "Show me a table")
    expected_second = "Say hello back, twice: hello hello"
    assert (
        f"first reply: {len(expected_first)} characters, {expected_first[:24]!r}"
        in nb.output_text(3)
    )
    nb.screenshot("3-run-all")

    saved = nb.save()
    assert saved_answer(saved, 1) == expected_first
    assert saved_answer(saved, 2) == expected_second
    assert saved_status(saved, 1)["status"] == saved_status(saved, 2)["status"] == "finished"
    record_for(backend, first, outcome="finished")
    record_for(backend, second, outcome="finished")


# -- 4. Save, close, reopen without a kernel ---------------------------------------------------


def test_reopened_without_kernel_shows_answers_not_widget_errors(
    nb: NotebookPage, backend: BackgroundServer
) -> None:
    done = chat(backend, "demo:tps=0,ttft=0", TOUR)
    cancelled = chat(backend, "lorem:n=5000,tps=50,ttft=0", "go")
    write_notebook(nb.server.root / "reopen.ipynb", [LOAD, done, cancelled])
    nb.open("reopen.ipynb")
    nb.run_cell(0)
    nb.run_cell(1)
    nb.run_cell(2, wait=False)
    wait_text(nb, 2, lambda t: len(t.split()) >= 20)
    nb.cell(2).get_by_role("button", name=re.compile("cancel", re.I)).click()
    nb.wait_cell_done(2, timeout=10)
    assert record_for(backend, cancelled, outcome="disconnected").tokens_sent < 5000
    live_first = markdown_text(nb, 1)
    live_partial = markdown_text(nb, 2)
    saved = nb.save()

    widget_outputs = [
        o
        for c in saved["cells"]
        for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert not widget_outputs, f"the saved notebook still references widgets: {widget_outputs}"

    nb.close_and_reopen_page()
    nb.open("reopen.ipynb", start_kernel=False)
    assert nb.kernel_status() is None
    nb.page.wait_for_timeout(1000)  # widget views would render (or fail) asynchronously
    page_text = nb.page.locator(".jp-Notebook").text_content() or ""
    assert WIDGET_ERROR not in page_text
    assert "Output()" not in page_text
    assert markdown_text(nb, 1) == live_first
    assert markdown(nb, 1).locator("mjx-container, .MathJax").count() >= 2, "math not typeset"
    assert words(markdown_text(nb, 2)) == words(live_partial)
    assert markdown(nb, 1).locator("table").count() == 1
    nb.screenshot("4-reopened")

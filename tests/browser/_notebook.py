"""Drive one notebook in JupyterLab 4 or Notebook 7 the way a person does, and read what they see.

Modelled on JupyterLab's Galata helpers (``page.notebook.run``, ``getCellOutput``, ``save``):
actions are real keyboard and mouse events (Shift+Enter, Ctrl+S, the Run menu, a click on the
button); what the user sees is read from the rendered DOM; the application's state (document
ready, kernel status) from ``window.jupyterapp``, exposed by the server option
``expose_app_in_browser`` as Galata does. Both apps share the notebook widgets, so the same
selectors work in both.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, Route

from ._jupyter import JupyterServer

__all__ = ["Markdown", "NotebookPage", "write_notebook"]


@dataclass(frozen=True)
class Markdown:
    """The source of a markdown cell, for :func:`write_notebook`."""

    text: str


# The notebook widget currently in the main area (JupyterLab) or the page (Notebook 7).
_PANEL = "window.jupyterapp?.shell?.currentWidget"


def write_notebook(path: Path, sources: Sequence[str | Markdown]) -> None:
    """Write a notebook with the ``python3`` kernelspec, as a user would have it.

    Args:
        path: Where to write it.
        sources: A code cell's source, or :class:`Markdown` for a markdown cell.
    """
    cells: list[dict[str, Any]] = []
    for index, source in enumerate(sources):
        cell: dict[str, Any] = {"id": f"cell-{index}", "metadata": {}}
        if isinstance(source, Markdown):
            cell.update(cell_type="markdown", source=source.text)
        else:
            cell.update(cell_type="code", execution_count=None, outputs=[], source=source)
        cells.append(cell)
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1))


class NotebookPage:
    """One browser page showing one notebook of a running Jupyter server.

    Args:
        page: A fresh Playwright page.
        server: The Jupyter server that serves the notebook.
        artifacts: Directory for screenshots.
    """

    _workspaces = 0

    def __init__(self, page: Page, server: JupyterServer, artifacts: Path) -> None:
        self.server = server
        self.artifacts = artifacts
        self.name = ""
        #: Uncaught errors of the page(s), for the fixture to judge.
        self.errors: list[str] = []
        self.page = self._watch(page)

    def _watch(self, page: Page) -> Page:
        page.on("pageerror", lambda error: self.errors.append(f"{error}\n{error.stack}"))
        return page

    def close_and_reopen_page(self, *, shutdown_kernels: bool = True) -> None:
        """Close the page (the tab), shut the kernels down, take a fresh page in the same browser.

        In that order, as a person does: a kernel deleted under an open page makes the page
        throw ("Cannot read properties of null (reading 'kernel')").
        """
        context = self.page.context
        self.page.close()
        if shutdown_kernels:
            self.server.shutdown_kernels()
        self.page = self._watch(context.new_page())

    # -- opening -----------------------------------------------------------------------------

    def open(self, name: str, *, start_kernel: bool = True, timeout: float = 60.0) -> None:
        """Open notebook ``name`` and wait until it is shown (and its kernel idle, if started).

        Args:
            name: Path of the notebook relative to the server's root.
            start_kernel: ``False`` opens it as a reader without a kernel would see it: the page
                configuration ``notebookStartsKernel`` (the server option
                ``notebook_starts_kernel``) is turned off for this page load only.
            timeout: Seconds to wait.
        """
        self.name = name
        url = self.server.doc_url(name)
        if self.server.app == "lab":
            # A workspace of its own: the default one would reopen every earlier test's notebook.
            NotebookPage._workspaces += 1
            url = url.replace("/lab/tree/", f"/lab/workspaces/t{NotebookPage._workspaces}/tree/")
        if not start_kernel:
            self.page.route(url, _no_kernel_page_config)
        self.page.goto(url)
        self.page.wait_for_function(
            f"() => {_PANEL}?.context?.isReady === true && {_PANEL}.content?.widgets?.length > 0",
            timeout=timeout * 1000,
        )
        if start_kernel:
            self.wait_kernel_idle(timeout)
        else:
            self.page.unroute(url)
        # Rendering settles after the model is ready; the first cell shows when it has.
        self.cell(0).wait_for(state="visible", timeout=timeout * 1000)

    def kernel_status(self) -> str | None:
        """The kernel's status as the frontend knows it, ``None`` when there is no kernel."""
        status: str | None = self.page.evaluate(
            f"() => {_PANEL}?.sessionContext?.session?.kernel?.status ?? null"
        )
        return status

    def wait_kernel_idle(self, timeout: float = 60.0) -> None:
        """Wait until the notebook's kernel is started and idle."""
        self.page.wait_for_function(
            f"() => {_PANEL}?.sessionContext?.session?.kernel?.status === 'idle'",
            timeout=timeout * 1000,
        )

    # -- cells -------------------------------------------------------------------------------

    def cell(self, index: int) -> Locator:
        """The rendered cell ``index`` (0-based)."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def cell_count(self) -> int:
        """How many cells the notebook model has."""
        count: int = self.page.evaluate(f"() => {_PANEL}.content.widgets.length")
        return count

    def outputs(self, index: int) -> Locator:
        """The output area of cell ``index``."""
        return self.cell(index).locator(".jp-OutputArea-output")

    def output_text(self, index: int) -> str:
        """The text of cell ``index``'s outputs (``textContent``: unaffected by windowing)."""
        texts: list[str] = self.outputs(index).evaluate_all(
            "els => els.map(e => e.textContent ?? '')"
        )
        return "\n".join(texts)

    def traceback(self, index: int) -> str | None:
        """The text of a traceback shown in cell ``index``'s outputs, if there is one."""
        texts: list[str] = (
            self.cell(index)
            .locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            .evaluate_all("els => els.map(e => e.textContent ?? '')")
        )
        found = [t for t in texts if "Traceback" in t or "Error" in t]
        return "\n".join(found) if found else None

    def type_cell(self, index: int, source: str) -> None:
        """Replace cell ``index``'s source through its editor: click, select all, insert text.

        The text is inserted as one input event (as a paste is): typed key by key, the editor's
        bracket closing and auto-indent would change it.
        """
        editor = self.cell(index).locator(".jp-InputArea-editor .cm-content")
        editor.click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(source)

    def run_cell(self, index: int, *, wait: bool = True, timeout: float = 60.0) -> None:
        """Run cell ``index`` with Shift+Enter on the selected cell; optionally wait for the end."""
        self.select_cell(index)
        self.page.keyboard.press("Shift+Enter")
        if wait:
            self.wait_cell_done(index, timeout)

    def select_cell(self, index: int) -> None:
        """Make cell ``index`` the active cell in command mode."""
        self.page.evaluate(
            f"""i => {{
                const nb = {_PANEL}.content;
                nb.activeCellIndex = i;
                nb.mode = 'command';
                nb.node.focus();
            }}""",
            index,
        )

    def run_all(self, *, wait: bool = True, timeout: float = 120.0) -> None:
        """Click Run > Run All Cells in the menu bar; optionally wait until every cell has run."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        if wait:
            for index in range(self.cell_count()):
                self.wait_cell_done(index, timeout)

    def execution_prompt(self, index: int) -> str:
        """The cell's prompt text: ``[ ]:`` not run, ``[*]:`` running or queued, ``[3]:`` done."""
        text: str = self.cell(index).locator(".jp-InputPrompt").first.text_content() or ""
        return text.strip()

    def wait_cell_done(self, index: int, timeout: float = 60.0) -> None:
        """Wait until cell ``index`` shows an execution count (``[n]:``)."""
        deadline = time.monotonic() + timeout
        while not re.fullmatch(r"\[\d+\]:", self.execution_prompt(index)):
            self.raise_on_traceback(index)
            if time.monotonic() > deadline:
                self.screenshot(f"timeout-cell{index}")
                raise AssertionError(
                    f"cell {index} did not finish within {timeout:.0f} s "
                    f"(prompt {self.execution_prompt(index)!r}; outputs {self.output_text(index)[:300]!r})"
                )
            self.page.wait_for_timeout(50)

    def raise_on_traceback(self, index: int) -> None:
        """Fail at once, with the kernel's message, when cell ``index`` shows a traceback."""
        error = self.traceback(index)
        if error is not None:
            self.screenshot(f"traceback-cell{index}")
            raise AssertionError(f"cell {index} raised:\n{error[-1500:]}")

    # -- saving, screenshots ------------------------------------------------------------------

    def save(self) -> dict[str, Any]:
        """Save with Ctrl+S, wait until the document is clean, return the file as saved on disk."""
        self.select_cell(0)
        self.page.keyboard.press("ControlOrMeta+s")
        self.page.wait_for_function(f"() => {_PANEL}.context.model.dirty === false")
        # The contents API answers after the file is written; read it back the same way.
        model = self.server.api("GET", f"/api/contents/{self.name}")
        assert isinstance(model, dict)
        content: dict[str, Any] = model["content"]
        return content

    def screenshot(
        self, name: str, *, readme: str | None = None, cells: tuple[int, int] | None = None
    ) -> Path:
        """Save a screenshot of the page as ``<artifacts>/<app>-<name>.png``.

        Args:
            name: The moment it shows.
            readme: With ``NBSTREAM_README_SCREENSHOTS=1`` in the environment, also save the
                notebook area alone as ``docs/screenshots/<app>-<readme>.png`` (the README's).
            cells: Only these cells (first and last index, inclusive), scrolled into view, in
                both images.
        """
        path = self.artifacts / f"{self.server.app}-{name}.png"
        box = None
        self.page.mouse.move(1, 1)  # no hover highlight on the cells shown
        if cells is not None:
            self.cell(cells[0]).scroll_into_view_if_needed()
            box = self.cells_box(*cells)
        self.page.screenshot(path=str(path), clip=box)
        if readme is not None and os.environ.get("NBSTREAM_README_SCREENSHOTS") == "1":
            target = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
            target.mkdir(parents=True, exist_ok=True)
            # The cells only, not the empty space below them.
            box = box or self.cells_box(0, self.cell_count() - 1)
            self.page.screenshot(path=str(target / f"{self.server.app}-{readme}.png"), clip=box)
        return path

    def cells_box(self, first: int, last: int) -> dict[str, float]:
        """The page area covering cells ``first`` to ``last`` (with a small margin)."""
        box: dict[str, float] = self.page.evaluate(
            """([first, last]) => {
                const rects = [...document.querySelectorAll('.jp-Notebook .jp-Cell')]
                    .slice(first, last + 1)
                    .map(c => c.getBoundingClientRect()).filter(r => r.height > 0);
                const top = Math.max(0, Math.min(...rects.map(r => r.top)) - 8);
                const left = Math.max(0, Math.min(...rects.map(r => r.left)) - 8);
                const bottom = Math.min(window.innerHeight, Math.max(...rects.map(r => r.bottom)) + 8);
                const right = Math.max(...rects.map(r => r.right)) + 8;
                return { x: left, y: top, width: right - left, height: bottom - top };
            }""",
            [first, last],
        )
        return box


def _no_kernel_page_config(route: Route) -> None:
    response = route.fetch()
    body = response.text()
    if "jupyter-config-data" in body:
        body = body.replace('"notebookStartsKernel": true', '"notebookStartsKernel": false')
    route.fulfill(response=response, body=body)

"""What the chat scenarios share: ``%%chat`` cell sources, the backend's record of each
request, and the answer as the page renders it and as the notebook saves it.

Every expected answer comes from the backend's own deterministic content
(:func:`nbstream.server._content.answer`), so the checks are exact.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator

from nbstream.server import BackgroundServer, RequestRecord

from ._notebook import NotebookPage

__all__ = [
    "LOAD",
    "TOUR",
    "chat",
    "markdown",
    "markdown_text",
    "record_for",
    "saved_answer",
    "saved_status",
    "wait_text",
    "words",
]

LOAD = "%load_ext nbstream"
TOUR = "Give me the tour"


def chat(backend: BackgroundServer, model: str, prompt: str, *options: str) -> str:
    """The source of a ``%%chat`` cell asking ``model`` (options in the name) on the backend.

    A unique ``seed`` tags the request, so the test finds its own record in the shared log.
    """
    tag = uuid.uuid4().int % 1_000_000
    sep = "," if ":" in model else ":"
    line = " ".join(
        ["%%chat", "-m", f"{model}{sep}seed={tag}", "--base-url", backend.openai_base_url, *options]
    )
    return f"{line}\n{prompt}"


def seed_of(source: str) -> str:
    """The ``seed=N`` option that tags a chat cell's request."""
    match = re.search(r"seed=(\d+)", source)
    assert match is not None
    return f"seed={match.group(1)}"


def record_for(
    backend: BackgroundServer, source: str, outcome: str | None = None, timeout: float = 10.0
) -> RequestRecord:
    """The backend's log record of the request that ``source`` (a chat cell) made.

    Args:
        backend: The shared backend.
        source: The chat cell's source (its ``seed`` tags the request).
        outcome: Wait until the request has ended this way (``"disconnected"`` …).
        timeout: Seconds to wait.
    """
    seed = seed_of(source)
    return backend.wait_for(
        lambda r: seed in r.options.split(",") and outcome in (None, r.outcome), timeout
    )


def markdown(nb: NotebookPage, index: int) -> Locator:
    """The rendered markdown output(s) of cell ``index``."""
    return nb.outputs(index).and_(nb.page.locator(".jp-RenderedMarkdown"))


# The final status line (a markdown output of its own, shown above the answer) starts so.
_STATUS = re.compile(r"^\s*(✓ done|■ cancelled|✗ failed|… truncated)")


def markdown_text(nb: NotebookPage, index: int) -> str:
    """The rendered answer of cell ``index``: its markdown outputs' text, status line left out.

    The view sends settled blocks as outputs of their own, so an answer is several outputs.
    The frontend's heading anchors (``¶``, shown on hover) are left out: Notebook 7 adds a
    second one to each heading when it renders a reopened notebook.
    """
    texts: list[str] = markdown(nb, index).evaluate_all("els => els.map(e => e.textContent ?? '')")
    return "".join(t for t in texts if not _STATUS.match(t)).replace("¶", "")


def words(text: str) -> list[str]:
    """The words of ``text`` (rendered text and markdown differ in whitespace, not words)."""
    return text.split()


def wait_text(
    nb: NotebookPage, index: int, predicate: Callable[[str], bool], timeout: float = 30.0
) -> str:
    """Wait until cell ``index``'s rendered answer satisfies ``predicate``; return the text.

    Raises:
        AssertionError: The cell showed a traceback, or the time ran out.
    """
    deadline = time.monotonic() + timeout
    while True:
        text = markdown_text(nb, index)
        nb.raise_on_traceback(index)
        if predicate(text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"cell {index}: condition not met; text so far {text[:200]!r}")
        nb.page.wait_for_timeout(50)


def _joined(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


def saved_answer(notebook: dict[str, Any], index: int) -> str:
    """The answer saved in cell ``index``: the exact markdown (``text/plain``) of its outputs.

    The view saves each settled block as ``text/markdown`` (sanitized HTML) plus ``text/plain``
    (the exact markdown); the status line is the output with ``nbstream`` provenance metadata.
    """
    parts = []
    for output in notebook["cells"][index]["outputs"]:
        data = output.get("data", {})
        if output.get("output_type") == "display_data" and "nbstream" not in output.get(
            "metadata", {}
        ):
            parts.append(_joined(data.get("text/plain", "")))
    return "".join(parts)


def saved_status(notebook: dict[str, Any], index: int) -> dict[str, Any]:
    """The provenance metadata saved with cell ``index``'s status line."""
    found = [
        o["metadata"]["nbstream"]
        for o in notebook["cells"][index]["outputs"]
        if "nbstream" in o.get("metadata", {})
    ]
    assert len(found) == 1, f"expected one status output, found {len(found)}"
    return found[0]  # type: ignore[no-any-return]

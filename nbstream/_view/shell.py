"""Where nbstream runs, asked in one place: a Jupyter kernel, terminal IPython, or plain Python.

The view shows widgets and display outputs only in a kernel and plain text elsewhere; the chat
layer shows nothing in a script and warns when a kernel cannot deliver a Cancel click in time.
IPython is consulted only when something already imported it, so a plain script never loads it.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar
from typing import Any, Literal

__all__ = [
    "BACKGROUND",
    "Shell",
    "cancel_reaches_awaiting_cell",
    "execution_count",
    "ipython_shell",
    "shell_kind",
]

Shell = Literal["kernel", "terminal", "none"]

#: ``True`` in a task that streams after its cell returned (``%%chat --bg``): set by the caller
#: (:class:`~nbstream._chat.chat.ChatHandle`). Such a view offers no Insert buttons and
#: ``--code`` inserts nothing: a cell put "below" would land under whatever cell runs next.
BACKGROUND: ContextVar[bool] = ContextVar("nbstream_background", default=False)


def shell_kind() -> Shell:
    """Where we run: an IPython kernel, terminal IPython, or plain Python (``"none"``)."""
    shell = ipython_shell()
    if shell is None:
        return "none"
    return "kernel" if getattr(shell, "kernel", None) is not None else "terminal"


def cancel_reaches_awaiting_cell() -> bool:
    """Whether this kernel handles widget messages while a cell awaits (ipykernel >= 7.4).

    Measured (FACTS.md): on 6.x and 7.3 a click during a top-level ``await`` is handled only
    after the cell, except on 7.3 with JupyterLab >= 4.4 (subshells), which we cannot detect.
    """
    module = sys.modules.get("ipykernel")
    version = str(getattr(module, "__version__", "0"))
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        return True  # a development version: assume current behaviour
    return (major, minor) >= (7, 4)


def ipython_shell() -> Any:
    """The running IPython shell, or ``None`` (IPython is not imported for the question)."""
    ipython = sys.modules.get("IPython")
    return None if ipython is None else ipython.get_ipython()


def execution_count() -> int | None:
    """IPython's count of the cell running now (it moves on when the cell ends), or ``None``."""
    count = getattr(ipython_shell(), "execution_count", None)
    return count if isinstance(count, int) else None

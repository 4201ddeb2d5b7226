"""Typed handles on the few IPython display helpers the magics use (IPython is untyped there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython import display as _display

__all__ = ["Markdown", "display"]

display: Callable[..., Any] = _display.display
Markdown: Callable[[str], Any] = _display.Markdown

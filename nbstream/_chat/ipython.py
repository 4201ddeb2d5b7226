"""Typed handles on the two IPython display helpers that the chat and magic layers call.

IPython leaves them untyped; these aliases keep ``mypy --strict`` without an ignore per call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython import display as _display

__all__ = ["Markdown", "display"]

display: Callable[..., Any] = _display.display
Markdown: Callable[[str], Any] = _display.Markdown

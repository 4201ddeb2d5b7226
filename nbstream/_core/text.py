"""Text for messages: whatever a server sent, shown on one line and cut to a length."""

from __future__ import annotations

__all__ = ["excerpt"]


def excerpt(text: str, limit: int = 80) -> str:
    """Return ``text`` on one line, shortened to ``limit`` characters with an ellipsis.

    Args:
        text: Any text (a server's message, a chunk of a stream).
        limit: The longest result, ellipsis included.

    Returns:
        ``text`` with every run of whitespace folded to one space, cut to ``limit``.
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

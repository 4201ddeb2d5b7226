"""Raw text events: each event's data is a piece of the answer, as is.

This is what a FastAPI ``StreamingResponse`` yielding ``f"data: {piece}\\n\\n"`` produces. A
``[DONE]`` event, if the server sends one, is the terminal marker and is not shown; otherwise
such servers have no marker at all, so an orderly end of the stream counts as complete (a cut
connection surfaces as a transport error instead).
"""

from __future__ import annotations

from typing import Any

from .._core.deltas import Delta, TextDelta
from ._common import DONE, EventLike
from .provider import NOT_JSON, Provider

__all__ = ["PROVIDER", "TextFormat"]


class TextFormat:
    """Take every event's data as text."""

    name = "text"

    def __init__(self) -> None:
        self.complete = False

    def feed(self, item: EventLike) -> list[Delta]:
        """Return the event's data as one text delta."""
        if self.complete:
            return []
        if item.data == DONE:
            self.complete = True
            return []
        return [TextDelta(item.data, time=item.time)] if item.data else []

    def finish(self) -> list[Delta]:
        """The stream ended in order: with no marker to wait for, that is completion."""
        self.complete = True
        return []

    def parse_body(self, obj: Any, *, time: float = 0.0) -> list[Delta]:
        """A non-streamed body: a JSON string is the whole answer; anything else is shown as is."""
        self.complete = True
        text = obj if isinstance(obj, str) else str(obj)
        return [TextDelta(text, time=time)] if text else []


def _sniff(obj: Any, streamed: bool) -> bool:
    # Data that is not JSON; a bare number or boolean (a text server's piece that happens to
    # parse as JSON); a whole body that is one JSON string.
    if obj is NOT_JSON:
        return True
    return not isinstance(obj, dict) and not (streamed and isinstance(obj, str))


PROVIDER = Provider(
    name="text",
    servers="`data: <raw text>` events",
    ends_with="—",
    reader=lambda options: TextFormat(),
    sniff=_sniff,
    catch_all=True,
)

"""Raw text events: each event's data is a piece of the answer, as is.

This is what a FastAPI ``StreamingResponse`` yielding ``f"data: {piece}\\n\\n"`` produces. A
``[DONE]`` event, if the server sends one, is the terminal marker and is not shown; otherwise
such servers have no marker at all, so an orderly end of the stream counts as complete (a cut
connection surfaces as a transport error instead).

Named control events are not text: Replicate's streams (the same raw pieces, as ``event:
output``) end with ``event: done`` (data ``{}``, or ``{"reason": "error" | "canceled"}``) and
report a failure as ``event: error`` with ``{"detail": "…"}``
(https://replicate.com/docs/topics/predictions/streaming). ``done`` ends the answer, ``error``
is an error with the server's message; a ``done`` whose reason is ``canceled`` is one too, or
a cancelled prediction would read as a finished answer.
"""

from __future__ import annotations

import json
from typing import Any

from .._core.deltas import Delta, ErrorDelta, TextDelta
from .._core.text import excerpt
from ._common import DONE, EventLike, error_delta
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
        if item.event == "done":
            self.complete = True
            if _json(item.data).get("reason") == "canceled":
                return [
                    ErrorDelta("the server canceled the prediction", "canceled", time=item.time)
                ]
            return []
        if item.event == "error":
            return [_error(item)]
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


def _json(data: str) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    return obj if isinstance(obj, dict) else {}


def _error(item: EventLike) -> ErrorDelta:
    # Replicate sends {"detail": "…"}; other servers' error shapes (error_delta), or the data
    # itself, say the rest.
    obj = _json(item.data)
    detail = obj.get("detail")
    if isinstance(detail, str) and detail:
        return ErrorDelta(excerpt(detail, 500), time=item.time)
    known = error_delta(obj, item.time)
    if known is not None:
        return known
    return ErrorDelta(
        f"the server reported an error: {excerpt(item.data or '(no details)')}", time=item.time
    )


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

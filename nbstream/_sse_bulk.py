"""The SSE decoder's bulk path: streams of nothing but "data:" lines, decoded in C calls.

Nearly every LLM stream is ``data: <json>`` and a blank line, over and over. For those,
:func:`pieces` finds every event's data with a few ``str`` calls over the whole chunk, and
:func:`events_of` builds the events without running bytecode per event. Stdlib only.
"""

from __future__ import annotations

from functools import partial
from itertools import repeat

from ._sse_event import ServerSentEvent

__all__ = ["events_of", "make", "pieces"]

# Events are built by tuple.__new__ straight from C (see _sse_event.py); in bulk through
# map(make, zip(...)), which reuses zip's item tuple and runs no bytecode per event.
make = partial(tuple.__new__, ServerSentEvent)


def events_of(texts: list[str], event_id: str, now: float) -> list[ServerSentEvent]:
    """Events of type ``message`` with these data, the last event id and arrival time."""
    if len(texts) == 1:
        return [make(("message", texts[0], event_id, None, now))]
    return list(
        map(make, zip(repeat("message"), texts, repeat(event_id), repeat(None), repeat(now)))
    )


def pieces(text: str) -> list[str] | None:
    """The data of each event in ``text``, if it has the shape of nearly every LLM stream.

    ``text`` is LF-only events with their leading "data: " and last blank line cut off. If
    every line is a "data: " line or a single blank line between events, return each event's
    data: the text between separators ("\\n\\ndata: ") with each "\\ndata: " in it turned into
    "\\n". Otherwise (another field, a comment, a run of blank lines) return None. The shape
    is proved on the pieces: once each "\\ndata: " is removed, no LF may remain. Decoding all
    events at once equals decoding each one: LF is ASCII, never inside a UTF-8 sequence.
    """
    texts = text.split("\n\ndata: ")
    # Joined with CR, which the text cannot contain (the decoder turned every CR into LF): with
    # nothing between them, an event ending in "d" and the next one's data starting "ata: "
    # would make a "\ndata: " that is in neither, and hide a line that is not a data line.
    flat = "\r".join(texts)
    if "\n" not in flat:
        return texts
    if "\n" in flat.replace("\ndata: ", ""):  # (CR never completes a "\ndata: " either)
        return None
    return [t.replace("\ndata: ", "\n") for t in texts]

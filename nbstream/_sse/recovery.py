"""Sloppy SSE framing, recovered above the spec-exact decoder.

Two mistakes of home-made generators leave a spec-exact decoder with nothing to show:

- **no line breaks at all**: a generator yielding ``f"data:{json.dumps(chunk)}"`` writes
  ``data:{…}data:{…}data:[DONE]``, one line that never ends: no event, ever;
- **a single newline after each event**: ``data: {…}\\ndata: {…}\\n`` is, per the spec, one event
  whose data lines pile up until a blank line that never comes (or comes at the very end, and
  then the event's data is several JSON texts joined by LF, which is no JSON at all).

:class:`RecoveringSSEDecoder` feeds every chunk to :class:`~nbstream.SSEDecoder` unchanged, and
until the first event also keeps the chunks and watches them for the mistake: two ``data:``
records that are each a complete JSON object or array on its own, in what the spec reads as one
event (or a first event whose data lines are such values). Seeing that, it starts the decoder
afresh on the kept chunks with a blank line inserted after every ``data:`` record whose value is
a complete bracketed JSON value, and goes on that way, value by value, so words still appear as
they arrive. Seeing an ordinary first event instead, it hands ``decode`` over to the inner
decoder itself: from then on a well-formed stream goes through the spec decoder alone, byte for
byte and at its cost (benchmarks/sse_recovery.py).

Finding where a value ends needs no JSON parser: a bracket scanner that skips strings, as the
NDJSON decoder's (:mod:`nbstream._sse.ndjson`). ``[DONE]`` is bracketed too, so it ends its
record like any value. No I/O, stdlib only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from .decoder import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder

__all__ = ["NO_BLANK_LINES", "NO_LINE_BREAKS", "RecoveringSSEDecoder"]

NO_LINE_BREAKS = "repaired SSE framing: no line breaks between events"
NO_BLANK_LINES = "repaired SSE framing: no blank line between events"

# Kept while watching, at most: a sloppy stream shows itself in its first two records, which
# are a few hundred bytes; a body that has sent this much without an event is left to the spec.
_WATCH_LIMIT = 1 << 20
_BOM = b"\xef\xbb\xbf"
_DATA = b"data:"

_LINE_END = re.compile(rb"[\r\n]")
_NOT_SPACE = re.compile(rb"[^ \t]")
# Inside a value: everything up to the next bracket or line end, complete strings skipped whole;
# it stops at a string's quote only when the string does not end on this line of this chunk.
_VALUE_RUN = re.compile(rb'(?:[^{}\[\]"\r\n]++|"[^"\\\r\n]*+(?:\\[^\r\n][^"\\\r\n]*+)*+")*+')
# A JSON string's body up to its closing quote, a line end, or an unpaired backslash at the end.
_STRING_BODY = re.compile(rb'[^"\\\r\n]*(?:\\[^\r\n][^"\\\r\n]*)*')

# Where the scanner is in the line.
_START = 0  # at the start of a line: a line end here is a blank line
_AFTER = 1  # right after a complete value: a line end ends the line, "data:" starts a record
_PREFIX = 2  # inside a leading "data:" (it may be split across chunks)
_SPACE = 3  # after "data:", before the value
_VALUE = 4  # inside a bracketed value, outside its strings
_STRING = 5  # inside a string of the value
_OTHER = 6  # the rest of a line that is not a bracketed data value


class _Records:
    """Finds, incrementally, where each ``data:`` record that is a complete bracketed value ends.

    Args:
        watch: Also check each complete value with ``json.loads`` and count them per event
            (between blank lines): :attr:`evidence` becomes true at the second.

    Attributes:
        evidence: Two complete JSON values in what the spec reads as one event.
        same_line: The second of them followed the first on its line (no line breaks).
    """

    __slots__ = (
        "_count",
        "_cr",
        "_depth",
        "_escape",
        "_head",
        "_matched",
        "_pieces",
        "_same",
        "_start",
        "_state",
        "_watch",
        "evidence",
        "same_line",
    )

    def __init__(self, *, watch: bool) -> None:
        self._watch = watch
        self._state = _START
        self._head: bytes | None = b""  # bytes seen before we know whether a BOM leads
        self._cr = False  # the last line end was CR: an LF right after it belongs to it
        self._matched = 0  # bytes of "data:" matched so far
        self._same = False  # the record being matched starts right after a value, on its line
        self._depth = 0
        self._escape = False  # the chunk ended on a backslash inside a string
        self._pieces: list[bytes] = []  # (watching) earlier chunks' pieces of the value
        self._start = 0  # (watching) where the value starts in the current chunk
        self._count = 0  # (watching) complete JSON values since the last blank line
        self.evidence = False
        self.same_line = False

    def feed(self, chunk: bytes) -> list[tuple[int, bytes]]:
        """Scan the next chunk.

        Args:
            chunk: Bytes of the body, split anywhere.

        Returns:
            For each record that ends in ``chunk``, in order: where to insert what, so that a
            blank line follows it (see :func:`_blank_line_after`).
        """
        if self._head is not None:
            head = self._head + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._head = head
                return []
            self._head = None
            skip = 3 if head.startswith(_BOM) else 0
            # Positions must be in this chunk: scan what it adds past the BOM.
            ends = self._scan(head[skip:])
            shift = len(head) - skip - len(chunk)
            return [(end - shift, blank) for end, blank in ends]
        return self._scan(chunk)

    def _scan(self, chunk: bytes) -> list[tuple[int, bytes]]:
        ends: list[tuple[int, bytes]] = []
        pos, n = 0, len(chunk)
        state = self._state
        while pos < n:
            if self._cr:
                self._cr = False
                if chunk[pos] == 10:  # the LF of a CRLF: one line end, already counted
                    pos += 1
                    continue
            if state in (_START, _AFTER):
                if chunk[pos] in b"\r\n":
                    if state == _START:  # a blank line: the spec's event ends here
                        self._count = 0
                    state, pos = self._line_end(chunk, pos)
                    continue
                self._same = state == _AFTER
                self._matched = 0
                state = _PREFIX
            if state == _PREFIX:
                want = _DATA[self._matched :]
                got = chunk[pos : pos + len(want)]
                if not want.startswith(got):
                    state = _OTHER
                    continue
                pos += len(got)
                self._matched += len(got)
                if self._matched < len(_DATA):
                    break  # the chunk ended inside "data:"
                state = _SPACE
                if self._same and self._count:
                    self.same_line = True
                continue
            if state == _SPACE:
                m = _NOT_SPACE.search(chunk, pos)
                if m is None:
                    break
                pos = m.start()
                byte = chunk[pos]
                if byte in b"{[":
                    state, self._depth, self._start = _VALUE, 1, pos
                    pos += 1
                elif byte in b"\r\n":
                    state, pos = self._line_end(chunk, pos)
                else:
                    state = _OTHER
                continue
            if state == _VALUE:
                pos = _VALUE_RUN.match(chunk, pos).end()  # type: ignore[union-attr]
                if pos == n:
                    break
                byte = chunk[pos]
                if byte == 34:  # '"'
                    state = _STRING
                    pos += 1
                elif byte in b"{[":
                    self._depth += 1
                    pos += 1
                elif byte in b"}]":
                    pos += 1
                    self._depth -= 1
                    if self._depth == 0:
                        ends.append(_blank_line_after(chunk, pos))
                        if self._watch:
                            self._complete(chunk, pos)
                        state = _AFTER
                else:  # a line end inside the value: this record is not one value
                    self._pieces = []
                    state, pos = self._line_end(chunk, pos)
                continue
            if state == _STRING:
                if self._escape:
                    self._escape = False
                    if chunk[pos] not in b"\r\n":
                        pos += 1
                        continue
                    self._pieces = []
                    state, pos = self._line_end(chunk, pos)
                    continue
                end = _STRING_BODY.match(chunk, pos).end()  # type: ignore[union-attr]
                if end == n:
                    pos = n
                    break
                byte = chunk[end]
                if byte == 34:
                    state, pos = _VALUE, end + 1
                elif byte == 92 and end == n - 1:  # its escaped byte is in the next chunk
                    self._escape = True
                    pos = n
                else:  # a line end, maybe escaped: the string, and the record, end here
                    self._pieces = []
                    state, pos = self._line_end(chunk, end + (byte == 92))
                continue
            # _OTHER: skip to the end of the line.
            m = _LINE_END.search(chunk, pos)
            if m is None:
                break
            state, pos = self._line_end(chunk, m.start())
        if self._watch and state in (_VALUE, _STRING):
            self._pieces.append(chunk[self._start :])
            self._start = 0
        self._state = state
        return ends

    def _line_end(self, chunk: bytes, pos: int) -> tuple[int, int]:
        self._cr = chunk[pos] == 13
        return _START, pos + 1

    def _complete(self, chunk: bytes, end: int) -> None:
        # Watching: is the record one JSON object or array? Two in one event are the evidence.
        value = b"".join([*self._pieces, chunk[self._start : end]])
        self._pieces = []
        if _is_json(value):
            self._count += 1
            if self._count >= 2:
                self.evidence = True


def _blank_line_after(chunk: bytes, end: int) -> tuple[int, bytes]:
    """Where to insert what so that a blank line follows a record ending at ``end``.

    After the line end that follows the record, if one does in this chunk: ``data: {…}\\n``
    becomes ``data: {…}\\n\\n``, the bytes of a well-formed event (and the spec decoder's
    fast path). Otherwise right after the record, so that its event is dispatched now.
    """
    follows = chunk[end : end + 2]
    if follows[:1] == b"\n":
        return end + 1, b"\n"
    if follows == b"\r\n":
        return end + 2, b"\n"
    # A lone CR (or one whose LF is in the next chunk): CR + LF is one line end, LF the blank.
    return (end + 1 if follows[:1] == b"\r" else end), b"\n\n"


def _decoder(max_event_size: int) -> SSEDecoder:
    # The lenient reader also takes llama.cpp's non-standard "error: {…}" line as an error
    # event (see SSEDecoder's error_field): its message is the only word of why a stream ended.
    return SSEDecoder(max_event_size, error_field=True)


def _is_json(value: bytes | str) -> bool:
    """Whether ``value`` is one JSON object or array."""
    try:
        return isinstance(json.loads(value), dict | list)
    except (ValueError, RecursionError):
        return False


def _joined_values(data: str) -> bool:
    """Whether an event's data is several JSON objects or arrays, one a line (single newlines)."""
    if "\n" not in data:
        return False
    lines = data.split("\n")
    return sum(1 for line in lines if _is_json(line)) >= 2


class RecoveringSSEDecoder:
    """An :class:`~nbstream.SSEDecoder` that also reads streams whose events lack blank lines.

    Same shape as :class:`~nbstream.SSEDecoder`: :meth:`decode` each chunk, :meth:`flush` at the
    end. Until its first event it watches for sloppy framing (see the module docstring); a
    well-formed stream's events are exactly the spec decoder's, and after the first one
    ``decode`` *is* the spec decoder's method.

    Unlike the spec decoder it also reads llama.cpp's ``error: {…}`` line as an event named
    ``error`` (:class:`~nbstream.SSEDecoder`'s ``error_field``).

    Args:
        max_event_size: See :class:`~nbstream.SSEDecoder`.

    Attributes:
        decode: Feed the next chunk; returns the events it completed (see
            :meth:`SSEDecoder.decode <nbstream.SSEDecoder.decode>`).
        note: ``None``, or one line saying how the framing was repaired (for the reply's
            notes): :data:`NO_LINE_BREAKS` or :data:`NO_BLANK_LINES`.
    """

    __slots__ = ("_decoder", "_held", "_held_size", "_max", "_records", "decode", "note")

    decode: Callable[[bytes], list[ServerSentEvent]]

    def __init__(self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        self._max = max_event_size
        self._decoder = _decoder(max_event_size)
        self.note: str | None = None
        self._watch_from_start()

    def _watch_from_start(self) -> None:
        self._held: list[bytes] = []
        self._held_size = 0
        self._records: _Records | None = _Records(watch=True)
        self.decode = self._watching

    @property
    def ended_mid_event(self) -> bool:
        """After :meth:`flush`: whether the stream ended inside an event (truncated)."""
        return self._decoder.ended_mid_event

    @property
    def last_event_id(self) -> str:
        """The stream's last event id."""
        return self._decoder.last_event_id

    @property
    def retry(self) -> int | None:
        """The stream's reconnection time in ms, if the server set one."""
        return self._decoder.retry

    def _watching(self, chunk: bytes) -> list[ServerSentEvent]:
        events = self._decoder.decode(chunk)
        self._held.append(chunk)
        self._held_size += len(chunk)
        if events:
            if _joined_values(events[0].data):
                return self._recover(NO_BLANK_LINES)
            return self._proven(events)
        assert self._records is not None
        self._records.feed(chunk)
        if self._records.evidence:
            return self._recover(NO_LINE_BREAKS if self._records.same_line else NO_BLANK_LINES)
        if self._held_size > _WATCH_LIMIT:
            return self._proven([])
        return []

    def _proven(self, events: list[ServerSentEvent]) -> list[ServerSentEvent]:
        self._held = []
        self._records = None
        self.decode = self._decoder.decode
        return events

    def _recover(self, note: str) -> list[ServerSentEvent]:
        # Nothing was handed out yet: start over on everything kept, repaired.
        self.note = note
        held = b"".join(self._held)
        self._held = []
        self._records = _Records(watch=False)
        self._decoder = _decoder(self._max)
        self.decode = self._repairing
        return self._repairing(held)

    def _repairing(self, chunk: bytes) -> list[ServerSentEvent]:
        assert self._records is not None
        ends = self._records.feed(chunk)
        if ends:
            parts: list[bytes] = []
            last = 0
            for at, blank in ends:
                parts += (chunk[last:at], blank)
                last = at
            parts.append(chunk[last:])
            chunk = b"".join(parts)
        return self._decoder.decode(chunk)

    def flush(self) -> list[ServerSentEvent]:
        """Signal the end of the stream (see :meth:`SSEDecoder.flush <nbstream.SSEDecoder.flush>`).

        The decoder is then ready for a new stream, watching again; :attr:`note` stays until
        that stream repairs its own framing.

        Returns:
            Always an empty list.
        """
        events = self._decoder.flush()
        self._watch_from_start()
        return events

    def __repr__(self) -> str:
        return f"RecoveringSSEDecoder(note={self.note!r})"

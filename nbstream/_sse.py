"""Server-Sent Events: an incremental, spec-exact decoder from bytes to events.

Follows the WHATWG HTML Standard, section 9.2.6 "Parsing an event stream" and 9.2.7
"Interpreting an event stream" (https://html.spec.whatwg.org/multipage/server-sent-events.html):

- bytes in, in chunks of any size; a chunk boundary anywhere (inside a field name, between CR and
  LF, inside a multi-byte UTF-8 character, inside the BOM) never changes the result;
- one leading U+FEFF BOM is ignored; CR, LF and CRLF all end a line; invalid UTF-8 becomes
  U+FFFD and never raises;
- ``:`` starts a comment; a line with no colon is a field with an empty value; exactly one space
  after the colon is stripped;
- ``data`` lines are joined with LF; an event whose data buffer is empty is not dispatched;
- ``event`` defaults to ``message``; an ``id`` containing NULL is ignored; the last event id
  persists across events; ``retry`` is used only when it is all ASCII digits;
- at end of stream an unterminated event is discarded, and :attr:`SSEDecoder.ended_mid_event`
  says so, so that callers can report a truncated stream.

The decoder works on bytes and decodes each event's text once, at dispatch. That is exact: the
bytes CR, LF, ``:`` and space never occur inside a multi-byte UTF-8 sequence, and a UTF-8
decoder that meets them mid-sequence emits U+FFFD and then reads them as themselves, so splitting
before decoding gives the same characters as decoding before splitting. No I/O, stdlib only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

from ._errors import EventTooLargeError
from ._values import ValueRepr

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder", "ServerSentEvent"]

DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024
"""16 MiB: far above any real LLM event (a base64 image is a few MB), far below a memory problem."""

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True, repr=False)
class ServerSentEvent(ValueRepr):
    """One dispatched event.

    Attributes:
        event: The event type; ``"message"`` when the server gave none.
        data: The data lines joined with LF.
        id: The last event id at dispatch (it persists across events), ``""`` if none.
        retry: The reconnection time in ms given in this event's own block, else ``None``.
        time: Monotonic arrival time of the chunk that completed the event; not compared.
    """

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None
    time: float = field(default=0.0, compare=False, repr=False)

    def json(self) -> Any:
        """Parse :attr:`data` as JSON.

        Returns:
            The parsed value.

        Raises:
            json.JSONDecodeError: The data is not JSON (``[DONE]``, for instance).
        """
        return json.loads(self.data)


# The generated __init__ of a frozen dataclass sets each field through object.__setattr__;
# setting the slots through their descriptors directly is about 40 % cheaper, which matters on a
# stream of 100k small events (benchmarks/sse_decode.py).
_new = object.__new__
_set_event = ServerSentEvent.__dict__["event"].__set__
_set_data = ServerSentEvent.__dict__["data"].__set__
_set_id = ServerSentEvent.__dict__["id"].__set__
_set_retry = ServerSentEvent.__dict__["retry"].__set__
_set_time = ServerSentEvent.__dict__["time"].__set__


def _event(event: str, data: str, id: str, retry: int | None, time: float) -> ServerSentEvent:
    ev: ServerSentEvent = _new(ServerSentEvent)
    _set_event(ev, event)
    _set_data(ev, data)
    _set_id(ev, id)
    _set_retry(ev, retry)
    _set_time(ev, time)
    return ev


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


class SSEDecoder:
    """Turn the bytes of a ``text/event-stream`` body into :class:`ServerSentEvent` objects.

    Feed every chunk to :meth:`decode` as it arrives and call :meth:`flush` once at the end.
    Time is linear in the input and memory is bounded by the largest event.

    Args:
        max_event_size: The largest event, in bytes of data plus any unterminated line, that
            the decoder will buffer before raising :class:`~nbstream.EventTooLargeError`.

    Attributes:
        last_event_id: The stream's last event id (set when an event block ends, per spec).
        retry: The stream's reconnection time in ms, if the server set one.
        ended_mid_event: After :meth:`flush`: whether the stream ended inside an event, i.e.
            after field lines or inside a non-comment line, with no blank line after them.
    """

    __slots__ = (
        "_cr",
        "_data",
        "_event_type",
        "_head",
        "_id",
        "_in_event",
        "_max",
        "_partial",
        "_partial_len",
        "_retry_block",
        "_size",
        "ended_mid_event",
        "last_event_id",
        "retry",
    )

    def __init__(self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        if max_event_size < 1:
            raise ValueError(f"max_event_size must be positive, not {max_event_size}")
        self._max = max_event_size
        self.last_event_id = ""
        self.retry: int | None = None
        self.ended_mid_event = False
        self._id = ""  # the spec's "last event ID buffer"; copied to last_event_id on dispatch
        self._reset_stream()

    def _reset_stream(self) -> None:
        self._head: bytes | None = b""  # bytes seen before we know whether a BOM leads
        self._cr = False  # the previous chunk ended with CR: a leading LF belongs to it
        self._partial: list[bytes] = []  # pieces of an unterminated line
        self._partial_len = 0
        self._reset_event()

    def _reset_event(self) -> None:
        self._data: list[bytes] = []
        self._size = 0
        self._event_type = b""
        self._retry_block: int | None = None
        self._in_event = False

    def decode(self, chunk: bytes) -> list[ServerSentEvent]:
        """Feed the next chunk of the body.

        Args:
            chunk: Any number of bytes, split anywhere.

        Returns:
            The events that this chunk completed, in order (often none).

        Raises:
            EventTooLargeError: The current event grew past ``max_event_size``.
        """
        if not chunk:
            return []
        if self._head is not None:
            # The UTF-8 decode algorithm drops one leading BOM; it may arrive split over chunks.
            head = self._head + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._head = head
                return []
            self._head = None
            chunk = head[3:] if head.startswith(_BOM) else head
            if not chunk:
                return []
        if self._cr:
            self._cr = False
            if chunk[0] == 10:  # the LF of a CRLF split across chunks
                chunk = chunk[1:]
                if not chunk:
                    return []
        if self._partial:
            if b"\n" not in chunk and b"\r" not in chunk:
                self._partial.append(chunk)
                self._partial_len += len(chunk)
                if self._partial_len + self._size > self._max:
                    self._too_large()
                return []
            self._partial.append(chunk)
            chunk = b"".join(self._partial)
            self._partial = []
            self._partial_len = 0
        if b"\r" in chunk:
            # CRLF streams (sse-starlette) take the fast path too once CRLF is LF; a bare CR
            # (or a CR at the end whose LF is in the next chunk) leaves it to the general path.
            lf = chunk.replace(b"\r\n", b"\n")
            if b"\r" not in lf:
                chunk = lf
        if b"\r" not in chunk and not self._data and not self._in_event and not self._event_type:
            return self._blocks(chunk, monotonic())
        lines = chunk.splitlines()
        last = chunk[-1]
        if last == 13:
            self._cr = True
        elif last != 10:
            tail = lines.pop()
            self._partial.append(tail)
            self._partial_len = len(tail)
        events = self._lines(lines, monotonic()) if lines else []
        if self._partial_len + self._size > self._max:
            self._too_large()
        return events

    def _blocks(self, chunk: bytes, now: float) -> list[ServerSentEvent]:
        # Fast path for LF-only input that starts on an event boundary: split into blocks at
        # blank lines; a block that is one "data: " line (the shape of nearly every LLM event)
        # becomes an event directly, any other block goes through the line-by-line path.
        # Equivalent to _lines() on the same bytes; tests/unit/test_sse_properties.py checks it.
        blocks = chunk.split(b"\n\n")
        rest = blocks.pop()
        events: list[ServerSentEvent] = []
        append = events.append
        last_id = self._id
        for block in blocks:
            if block[:6] == b"data: " and b"\n" not in block:
                append(_event("message", _text(block[6:]), last_id, None, now))
            else:
                lines = block.split(b"\n")
                lines.append(b"")
                events += self._lines(lines, now)
                last_id = self._id
        if blocks:
            self.last_event_id = last_id
        if rest:
            lines = rest.split(b"\n")
            tail = lines.pop()
            if tail:
                self._partial.append(tail)
                self._partial_len = len(tail)
            if lines:
                events += self._lines(lines, now)
            if self._partial_len + self._size > self._max:
                self._too_large()
        return events

    def _lines(self, lines: list[bytes], now: float) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if line[:6] == b"data: ":  # the common case first: one line of an event's data
                data.append(line[6:])
                self._size += len(line) - 5
                if self._size > self._max:
                    self._too_large()
            elif not line:  # blank line: dispatch
                self.last_event_id = self._id
                if data:
                    events.append(
                        _event(
                            _text(self._event_type) if self._event_type else "message",
                            _text(data[0] if len(data) == 1 else b"\n".join(data)),
                            self._id,
                            self._retry_block,
                            now,
                        )
                    )
                    data = self._data = []
                    self._size = 0
                self._event_type = b""
                self._retry_block = None
                self._in_event = False
            elif line[0] != 58:  # not a ":" comment
                self._field(line)
                data = self._data
        return events

    def _field(self, line: bytes) -> None:
        self._in_event = True  # the hot "data: " path in _lines leaves this to bool(_data)
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
            self._size += len(value) + 1
            if self._size > self._max:
                self._too_large()
        elif name == b"event":
            self._event_type = value
        elif name == b"id":
            if b"\x00" not in value:
                self._id = _text(value)
        elif name == b"retry" and value.isdigit():
            # bytes.isdigit() accepts ASCII digits only, and is False for an empty value.
            self.retry = self._retry_block = int(value)
        # Any other field name is ignored (spec).

    def _too_large(self) -> None:
        limit = self._max
        self._partial = []
        self._partial_len = 0
        self._reset_event()
        raise EventTooLargeError(
            f"a server-sent event grew past {limit:,} bytes; raise max_event_size if the "
            "server really sends events that large",
            limit=limit,
        )

    def flush(self) -> list[ServerSentEvent]:
        """Signal the end of the stream.

        Per spec, an event not followed by a blank line is discarded; :attr:`ended_mid_event`
        records whether that happened. The decoder is then ready for a new connection's
        stream (keeping :attr:`last_event_id` and :attr:`retry`, as a reconnect would).

        Returns:
            Always an empty list (the method exists so all decoders share one shape).
        """
        partial = b"".join(self._partial) if self._partial else (self._head or b"")
        self.ended_mid_event = (
            self._in_event or bool(self._data) or (bool(partial) and partial[:1] != b":")
        )
        self._reset_stream()
        return []

    def __repr__(self) -> str:
        return f"SSEDecoder(last_event_id={self.last_event_id!r}, retry={self.retry!r})"

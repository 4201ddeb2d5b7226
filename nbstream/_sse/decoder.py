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

Pure Python on purpose, with no C accelerator: one saved about 2 µs per event, at the few
hundred events per second an LLM sends, and brought a class of bug that crashes the user's
kernel, builds that need a compiler (no prebuilt wheels) and no free-threaded or
sub-interpreter support. Decoding plus ``json.loads`` of a typical LLM stream takes 1.17-1.55x
the instructions of the ``json.loads`` alone (benchmarks/README-sse.md).
"""

from __future__ import annotations

from functools import partial
from itertools import repeat
from operator import index, itemgetter
from time import monotonic

from .._core.errors import EventTooLargeError
from .._core.values import public
from .event import ServerSentEvent, retry_value

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder", "ServerSentEvent", "skip_bom"]

DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024
"""16 MiB: far above any real LLM event (a base64 image is a few MB), far below a memory problem."""

_BOM = b"\xef\xbb\xbf"


def skip_bom(head: bytes, chunk: bytes) -> tuple[bytes | None, bytes]:
    """Drop one leading UTF-8 BOM from a body, which may arrive split over several chunks.

    The UTF-8 decode algorithm drops one leading U+FEFF (WHATWG Encoding, "UTF-8 decode"), which
    the SSE spec applies to the stream and JSON texts allow too. Both decoders keep the bytes
    seen before it is known whether a BOM leads (``head``) and call this for each chunk until it
    is.

    Args:
        head: The bytes kept from earlier chunks (``b""`` at the start of a body).
        chunk: The next chunk.

    Returns:
        ``(head, b"")`` while the bytes so far may still be a BOM's first bytes; else
        ``(None, rest)``: it is decided, and ``rest`` is the body without the BOM.
    """
    head += chunk
    if len(head) < 3 and _BOM.startswith(head):
        return head, b""
    return None, head[3:] if head.startswith(_BOM) else head


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


# The bulk path. Nearly every LLM stream is "data: <json>" and a blank line, over and over: for
# those, _pieces finds every event's data with a few str calls over the whole chunk, and
# _events_of builds the events without running bytecode per event.
#
# Events are built by tuple.__new__ straight from C (see event.py); in bulk through
# map(_make, zip(...)), which reuses zip's item tuple and runs no bytecode per event.
_make = partial(tuple.__new__, ServerSentEvent)


def _events_of(texts: list[str], event_id: str, now: float) -> list[ServerSentEvent]:
    """Events of type ``message`` with these data, the last event id and arrival time."""
    if len(texts) == 1:
        return [_make(("message", texts[0], event_id, None, now))]
    return list(
        map(_make, zip(repeat("message"), texts, repeat(event_id), repeat(None), repeat(now)))
    )


def _pieces(text: str) -> list[str] | None:
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


def _named(text: str) -> list[tuple[str, str, str]] | None:
    """``(type, "\\ndata: ", data)`` of each event in ``text``, if each is a named one-line event.

    ``text`` is LF-only events with their leading "event: " and last blank line cut off. The
    shape of the Anthropic and Responses streams is an ``event: NAME`` line and one
    ``data: DATA`` line per event; if every event has it, return each one's parts, else None
    (another field, a comment, several data lines, a run of blank lines). The shape is proved
    on the pieces between separators ("\\n\\nevent: "): each has a "\\ndata: ", and the text
    has no other LF than those and the separators'. Decoding them all at once equals decoding
    each event (see :func:`_pieces`).
    """
    blocks = text.split("\n\nevent: ")
    if text.count("\n") != 3 * len(blocks) - 2:
        return None
    parts = [block.partition("\ndata: ") for block in blocks]
    return parts if all(map(_separator, parts)) else None


_separator = itemgetter(1)


@public
class SSEDecoder:
    """Turn the bytes of a ``text/event-stream`` body into :class:`ServerSentEvent` objects.

    Feed every chunk to :meth:`decode` as it arrives and call :meth:`flush` once at the end.
    Time is linear in the input and memory is bounded by the largest event.

    Args:
        max_event_size: The largest event, in bytes of data plus any unterminated line, that
            the decoder will buffer before raising :class:`~nbstream.EventTooLargeError`.
        error_field: Also read a line ``error: VALUE`` as ``event: error`` plus ``data: VALUE``
            (off by default: the spec ignores unknown fields). llama.cpp's server reports an
            error mid-stream that way, its ``server_sent_event(sink, "error", error_data)``
            (tools/server/server.cpp; the helper in tools/server/utils.hpp writes the name it
            is given as the field name), so a spec-exact reader loses the server's message and
            sees a truncated stream. No well-formed stream has such a line, and only lines that
            are not ``data:`` lines ever reach the check, so the bulk paths are unchanged.

    Attributes:
        last_event_id: The stream's last event id (set when an event block ends, per spec).
        retry: The stream's reconnection time in ms, if the server set one.
        ended_mid_event: After :meth:`flush`: whether the stream ended inside an event, i.e.
            after field lines or inside a non-comment line, with no blank line after them.
    """

    __slots__ = (
        "_clean",
        "_cr",
        "_data",
        "_error_field",
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

    def __init__(
        self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE, *, error_field: bool = False
    ) -> None:
        max_event_size = index(max_event_size)
        if max_event_size < 1:
            raise ValueError(f"max_event_size must be positive, not {max_event_size}")
        self._max = max_event_size
        self._error_field = error_field
        self.last_event_id = ""
        self.retry: int | None = None
        self.ended_mid_event = False
        self._id = ""  # the spec's "last event ID buffer"; copied to last_event_id on dispatch
        self._reset_stream()

    def _reset_stream(self) -> None:
        self._head: bytes | None = b""  # bytes seen before we know whether a BOM leads
        self._clean = False  # on an event boundary, nothing pending: decode()'s fast path
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
        if self._clean and len(chunk) <= self._max:
            # Fast path: on an event boundary, a chunk of whole "data:" events (one event per
            # chunk is how most servers write). A CR at the very end may be half a CRLF: the
            # general path keeps track of that.
            if 13 in chunk and chunk[-1] != 13:
                chunk = chunk.replace(b"\r\n", b"\n")
                if 13 in chunk:  # a lone CR, rare: also a line end
                    chunk = chunk.replace(b"\r", b"\n")
            if chunk[-2:] == b"\n\n" and chunk[:6] == b"data: ":
                # Each event dispatched sets the last event id (spec); usually a no-op, but an
                # event dropped as too large may have carried an "id" line.
                self.last_event_id = self._id
                raw = chunk[6:-2]
                try:  # decode() with no arguments is the cheapest call; errors are rare
                    text = raw.decode()
                except UnicodeDecodeError:
                    text = raw.decode("utf-8", "replace")
                if "\n" not in text:
                    return [_make(("message", text, self._id, None, monotonic()))]
                if "\n\ndata: " not in text and "\n" not in text.replace("\ndata: ", ""):
                    # One event of several "data:" lines (see _pieces).
                    text = text.replace("\ndata: ", "\n")
                    return [_make(("message", text, self._id, None, monotonic()))]
                texts = _pieces(text)
                if texts is not None:
                    return _events_of(texts, self._id, monotonic())
        events = self._decode(chunk)
        self._clean = (
            self._head is None
            and not self._cr
            and not self._partial
            and not self._in_event
            and not self._data
        )
        return events

    def _decode(self, chunk: bytes) -> list[ServerSentEvent]:
        if not chunk:
            return []
        if self._head is not None:
            self._head, chunk = skip_bom(self._head, chunk)
            if not chunk:
                return []
        if self._cr:
            self._cr = False
            if chunk[0] == 10:  # the LF of a CRLF split across chunks
                chunk = chunk[1:]
                if not chunk:
                    return []
        # Byte tests use `int in bytes` (a memchr) and partition/split (no argument parsing):
        # in CPython 3.11 `b"\r" in chunk` first raises and clears a TypeError, and count/find
        # parse their arguments the slow way; on small chunks either costs more than the work.
        if 13 in chunk:
            # CR, LF and CRLF all end a line (spec), so the decoder works on LF only: CRLF and
            # then a lone CR become LF. A CR that ends the chunk may be the first half of a
            # CRLF: its LF, if it comes, is dropped from the next chunk (above).
            self._cr = chunk[-1] == 13
            chunk = chunk.replace(b"\r\n", b"\n")
            if 13 in chunk:
                chunk = chunk.replace(b"\r", b"\n")
        if self._partial:
            if 10 not in chunk:
                self._partial.append(chunk)
                self._partial_len += len(chunk)
                if self._partial_len + self._size > self._max:
                    self._too_large()
                return []
            self._partial.append(chunk)
            chunk = b"".join(self._partial)
            self._partial = []
            self._partial_len = 0
        now = monotonic()
        events: list[ServerSentEvent] = []
        if self._in_event or self._data:
            # Mid-event: finish the current event line by line; what follows its blank line
            # starts on an event boundary. With no partial line pending, the previous chunk
            # ended with LF, so a leading LF here is the blank line itself.
            if chunk[0] == 10:
                events = self._lines([b""], now)
                chunk = chunk[1:]
            else:
                head, blank, chunk = chunk.partition(b"\n\n")
                if not blank:
                    return self._rest(head, now, events)
                lines = head.split(b"\n")
                lines.append(b"")
                events = self._lines(lines, now)
            if not chunk:
                return events
        # Now on an event boundary: the complete events are `body`, up to the last blank line.
        if chunk[-2:] == b"\n\n":  # the common end of a chunk: skip the search
            body, rest = chunk[:-2], b""
        else:
            body, blank, rest = chunk.rpartition(b"\n\n")
            if not blank:
                return self._rest(rest, now, events)
        # Events of nothing but "data:" lines are built in bulk (_pieces); anything else
        # (another field, a comment, a run of blank lines, an event above the size limit)
        # goes line by line.
        texts = named = None
        if body[:6] == b"data: " and len(body) <= self._max:
            texts = _pieces(body[6:].decode("utf-8", "replace"))
        elif body[:7] == b"event: " and len(body) <= self._max:
            named = _named(body[7:].decode("utf-8", "replace"))
        if texts is not None:
            events += _events_of(texts, self._id, now)
            self.last_event_id = self._id  # dispatch sets it (see the fast path in decode)
        elif named is not None:
            event_id = self._id
            events += [
                _make((kind or "message", data, event_id, None, now)) for kind, _, data in named
            ]
            self.last_event_id = event_id
        else:
            lines = body.split(b"\n")
            lines.append(b"")
            events += self._lines(lines, now)
        return self._rest(rest, now, events) if rest else events

    def _rest(
        self, chunk: bytes, now: float, events: list[ServerSentEvent]
    ) -> list[ServerSentEvent]:
        # No blank line in `chunk`: its complete lines join the current event, the last
        # unterminated piece waits for the next chunk.
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if lines:
            events += self._lines(lines, now)
        if tail:
            self._partial.append(tail)
            self._partial_len = len(tail)
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
                        _make(
                            (
                                _text(self._event_type) if self._event_type else "message",
                                _text(data[0] if len(data) == 1 else b"\n".join(data)),
                                self._id,
                                self._retry_block,
                                now,
                            )
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
            self.retry = self._retry_block = retry_value(value)
        elif name == b"error" and self._error_field:
            # llama.cpp's error line (see the class docstring): an event named "error".
            self._event_type = b"error"
            self._data.append(value)
            self._size += len(value) + 1
            if self._size > self._max:
                self._too_large()
        # Any other field name is ignored (spec).

    def _too_large(self) -> None:
        limit = self._max
        self._clean = self._head is None and not self._cr
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

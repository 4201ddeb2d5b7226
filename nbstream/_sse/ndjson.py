"""NDJSON framing: split a stream of JSON texts into items, incrementally.

Ollama and others stream newline-delimited JSON (``application/x-ndjson``). Some servers write
bare JSON objects with no separator at all, often under ``text/event-stream`` (a FastAPI
endpoint yielding ``json.dumps(obj)``): ``{"a":1}{"a":2}``. :class:`NDJSONDecoder` copes with
both: an object or array ends at its matching bracket (found by a scanner that knows JSON
strings and escapes, so a ``}`` inside a string does not count), any other value ends at the end
of its line, and whitespace and blank lines between items are skipped.

Items are :class:`~nbstream.ServerSentEvent` objects whose ``data`` is one JSON text, so the wire
formats above consume one item type whatever the framing. The JSON itself is not parsed here.
No I/O, stdlib only.
"""

from __future__ import annotations

import re
from time import monotonic

from .._core.errors import EventTooLargeError
from .._core.values import public
from .decoder import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, skip_bom

__all__ = ["NDJSONDecoder"]

_NON_WS = re.compile(rb"[^ \t\r\n]")
# Outside a string: a bracket, a complete string literal (skipped whole), or a string's opening
# quote whose end is not in this chunk.
_TOKEN = re.compile(rb'[{}\[\]]|"[^"\\]*(?:\\.[^"\\]*)*"|"', re.DOTALL)
# Inside a string continued from an earlier chunk: everything up to and including its end.
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)

_BETWEEN, _LINE, _NESTED = 0, 1, 2


@public
class NDJSONDecoder:
    """Split the bytes of a JSON-lines (or bare concatenated JSON) body into items.

    Same shape as :class:`~nbstream.SSEDecoder`: :meth:`decode` each chunk, :meth:`flush` at
    the end. Each item is ``ServerSentEvent(data=<one JSON text>)``.

    Args:
        max_event_size: The largest item, in bytes, before
            :class:`~nbstream.EventTooLargeError` is raised.

    Attributes:
        ended_mid_event: After :meth:`flush`: whether the stream ended inside an object or
            array (a truncated item, which is discarded).
    """

    __slots__ = (
        "_depth",
        "_escape",
        "_head",
        "_in_string",
        "_max",
        "_mode",
        "_pending",
        "_pending_len",
        "ended_mid_event",
    )

    def __init__(self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        if max_event_size < 1:
            raise ValueError(f"max_event_size must be positive, not {max_event_size}")
        self._max = max_event_size
        self.ended_mid_event = False
        self._reset()

    def _reset(self) -> None:
        self._head: bytes | None = b""  # bytes seen before we know whether a BOM leads
        self._mode = _BETWEEN
        self._depth = 0
        self._in_string = False
        self._escape = False  # the previous chunk ended with a backslash inside a string
        self._pending: list[bytes] = []  # earlier chunks' pieces of the current item
        self._pending_len = 0

    def decode(self, chunk: bytes) -> list[ServerSentEvent]:
        """Feed the next chunk of the body.

        Args:
            chunk: Any number of bytes, split anywhere.

        Returns:
            The items this chunk completed, in order.

        Raises:
            EventTooLargeError: The current item grew past ``max_event_size``.
        """
        if self._head is not None:
            self._head, chunk = skip_bom(self._head, chunk)
        items: list[ServerSentEvent] = []
        now = monotonic()
        pos, n, start = 0, len(chunk), 0
        while pos < n:
            if self._mode == _BETWEEN:
                m = _NON_WS.search(chunk, pos)
                if m is None:
                    return items
                pos = start = m.start()
                if chunk[pos] in b"{[":
                    self._mode, self._depth = _NESTED, 1
                    pos += 1
                else:
                    self._mode = _LINE  # a scalar, or not JSON at all: it ends with its line
            elif self._mode == _LINE:
                end = chunk.find(b"\n", pos)
                if end < 0:
                    break
                self._emit(items, chunk[start:end], now)
                pos = end + 1
            elif self._in_string:
                if self._escape:
                    self._escape = False
                    pos += 1
                    continue
                m = _STRING_REST.match(chunk, pos)
                if m is None:
                    rest = chunk[pos:]
                    # An odd run of backslashes at the end escapes the next chunk's first byte.
                    self._escape = (len(rest) - len(rest.rstrip(b"\\"))) % 2 == 1
                    break
                self._in_string = False
                pos = m.end()
            else:
                m = _TOKEN.search(chunk, pos)
                if m is None:
                    break
                pos = m.end()
                c = chunk[m.start()]
                if c == 34:  # '"' with no end in this chunk
                    if pos - m.start() == 1:
                        self._in_string = True
                elif c in b"{[":
                    self._depth += 1
                else:
                    self._depth -= 1
                    if self._depth == 0:
                        self._emit(items, chunk[start:pos], now)
        if self._mode == _BETWEEN:
            return items
        # The chunk ended inside an item: keep its piece for the next chunk.
        piece = chunk[start:]
        self._pending.append(piece)
        self._pending_len += len(piece)
        if self._pending_len > self._max:
            self._reset()
            raise EventTooLargeError(
                f"a JSON item grew past {self._max:,} bytes; raise max_event_size if the "
                "server really sends items that large",
                limit=self._max,
            )
        return items

    def _emit(self, items: list[ServerSentEvent], last: bytes, now: float) -> None:
        if self._pending:
            self._pending.append(last)
            last = b"".join(self._pending)
            self._pending = []
            self._pending_len = 0
        self._mode = _BETWEEN
        text = last.strip()
        if text:
            items.append(ServerSentEvent(data=text.decode("utf-8", "replace"), time=now))

    def flush(self) -> list[ServerSentEvent]:
        """Signal the end of the stream.

        A last line without a trailing newline is still an item; an object or array that was
        never closed is discarded and :attr:`ended_mid_event` is set.

        Returns:
            The final item, if the stream ended with an unterminated line.
        """
        items: list[ServerSentEvent] = []
        self.ended_mid_event = self._mode == _NESTED
        if self._mode == _LINE:
            self._emit(items, b"", monotonic())
        self._reset()
        return items

    def __repr__(self) -> str:
        return f"NDJSONDecoder(max_event_size={self._max})"

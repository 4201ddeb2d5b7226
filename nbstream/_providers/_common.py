"""What every wire format shares: the :class:`WireFormat` protocol and small JSON helpers.

A wire format is a pure, stateful translator: it is fed the events of one response in order
(:meth:`WireFormat.feed`), told when the stream ended (:meth:`WireFormat.finish`), and says
whether it saw its terminal marker (:attr:`WireFormat.complete`). It never does I/O.

Malformed input policy: a chunk whose JSON cannot be parsed never raises out of ``feed``; it
becomes an :class:`~nbstream.ErrorDelta`. A live server that sends broken JSON has lost part of
the answer, so the reply must end ``"failed"`` with a message that says so, while the text that
did arrive is kept (the builder keeps the first error and every text delta). Events that are
valid JSON but carry nothing we know (keep-alives, new event types) are skipped silently: the
providers add event types over time and documented forward compatibility asks clients to
ignore unknown ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from .._core.deltas import Delta, ErrorDelta
from .._core.text import excerpt

__all__ = [
    "DONE",
    "EventLike",
    "WireFormat",
    "as_dict",
    "dig",
    "error_delta",
    "load_json",
    "load_object",
]

# The terminal marker of OpenAI-style streams, also used by many home-made servers (with or
# without the space after "data:", which the SSE decoder already strips).
DONE = "[DONE]"

# json.loads' own scanner (the C one when available), with its default settings.
_scan: Callable[[str, int], tuple[Any, int]] = vars(json.JSONDecoder())["scan_once"]


class EventLike(Protocol):
    """The shape of :class:`nbstream.ServerSentEvent` that formats rely on."""

    @property
    def event(self) -> str:
        """The SSE event name (``"message"`` when the server gave none)."""
        ...

    @property
    def data(self) -> str:
        """The event's data: one JSON text, or raw text."""
        ...

    @property
    def time(self) -> float:
        """Monotonic arrival time of the bytes that carried the event."""
        ...


class WireFormat(Protocol):
    """A translator from one server's events to deltas.

    Attributes:
        name: The format's registry name (``"openai-chat"`` …).
        complete: ``True`` once the format's terminal marker was seen.
    """

    name: str
    complete: bool

    def feed(self, item: EventLike) -> list[Delta]:
        """Translate one event into deltas (possibly none); never raises for bad input."""
        ...

    def finish(self) -> list[Delta]:
        """Signal the end of the stream; return any final deltas."""
        ...

    def parse_body(self, obj: Any, *, time: float = 0.0) -> list[Delta]:
        """Translate a complete, non-streamed JSON answer into deltas."""
        ...


def as_dict(value: Any) -> dict[str, Any]:
    """Return ``value`` if it is a JSON object, else an empty dict (servers omit or null fields)."""
    return value if isinstance(value, dict) else {}


def load_json(item: EventLike, format_name: str) -> tuple[Any, ErrorDelta | None]:
    """Parse an event's data as JSON.

    Args:
        item: The event.
        format_name: Named in the error message.

    Returns:
        ``(obj, None)`` on success, ``(None, ErrorDelta)`` for malformed JSON.
    """
    try:
        return json.loads(item.data), None
    except ValueError:
        message = (
            f"the server sent malformed JSON in its {format_name} stream, so part of the answer"
            f" may be missing: {excerpt(item.data)!r}"
        )
        return None, ErrorDelta(message, code="malformed_event", time=item.time)


def load_object(item: EventLike, format_name: str) -> tuple[dict[str, Any] | None, list[Delta]]:
    """Parse an event's data as a JSON object, the shape every provider's events have.

    Args:
        item: The event.
        format_name: Named in the error message.

    Returns:
        ``(obj, [])`` for an object; otherwise ``(None, deltas)`` where ``deltas`` is what
        ``feed`` should return: ``[]`` for empty data, ``[DONE]`` or another JSON value, and
        one :class:`~nbstream.ErrorDelta` for malformed JSON.
    """
    data = item.data
    if data[:1] == "{":
        # The usual event: one JSON object, nothing around it. The C scanner json.loads ends in
        # gives the same object without loads' three Python frames and two whitespace regex
        # matches (a fifth of its cost on a chat chunk); anything else takes the full path.
        try:
            obj, end = _scan(data, 0)
        except (ValueError, StopIteration):
            pass
        else:
            if end == len(data):
                return obj, []
    data = data.strip()
    # Gateways that speak OpenAI's chat streams first (OpenRouter, LiteLLM) end every stream
    # with "data: [DONE]", the Responses and Messages APIs' included, after their own terminal
    # event: it is an end marker, not broken JSON. Each format decides what completes it.
    if not data or data == DONE:
        return None, []
    obj, bad = load_json(item, format_name)
    if bad is not None:
        return None, [bad]
    return (obj, []) if isinstance(obj, dict) else (None, [])


def dig(obj: Any, path: str | tuple[str, ...]) -> Any:
    """Follow a dotted path (``"choices.0.text"``) into nested dicts and lists.

    Args:
        obj: Parsed JSON.
        path: Dot-separated keys; an all-digit key indexes a list.

    Returns:
        The value found, or ``None`` when any step is missing.
    """
    parts = path.split(".") if isinstance(path, str) else path
    for key in parts:
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and key.isdigit() and int(key) < len(obj):
            obj = obj[int(key)]
        else:
            return None
    return obj


def error_delta(obj: Any, time: float) -> ErrorDelta | None:
    """Recognise the usual in-band error shapes and turn them into an :class:`ErrorDelta`.

    Shapes: ``{"error": {"message": …, "type"/"code": …}}`` (OpenAI, vLLM, llama.cpp,
    Anthropic's ``{"type": "error", "error": {…}}``), ``{"error": "text"}`` (Ollama, LiteLLM),
    ``{"code": <non-zero>, "msg"/"message": …}`` (Sider-style home-made servers), an error
    object sent flat as a chunk, ``{"object": "error", "message": …, "type": …, "code": …}``
    (vLLM's ``ErrorResponse``, Mistral), and Dify's ``{"event": "error", "status": 400, "code":
    …, "message": …}`` (docs.dify.ai, chat-messages API, streaming ``event: error``). A chunk's
    ``message`` alone is never an error: chat messages are ``message`` objects too.

    Args:
        obj: Parsed JSON of one event.
        time: Arrival time for the delta.

    Returns:
        The delta, or ``None`` when ``obj`` is not an error.
    """
    if not isinstance(obj, dict):
        return None
    err = obj.get("error")
    if isinstance(err, dict):
        message = err.get("message") or err.get("msg") or json.dumps(err)
        code = err.get("type") or err.get("code")
        return ErrorDelta(excerpt(str(message), 500), _code(code), time=time)
    if isinstance(err, str) and err:
        return ErrorDelta(excerpt(err, 500), None, time=time)
    code = obj.get("code")
    message = obj.get("msg") or obj.get("message")
    if isinstance(code, int) and not isinstance(code, bool) and code != 0 and message:
        return ErrorDelta(excerpt(str(message), 500), str(code), time=time)
    # Named an error by its object or event; its message must be text (or absent), as a chat
    # chunk's "message" is a message object.
    named = obj.get("object") == "error" or obj.get("event") == "error"
    if named and (message is None or isinstance(message, str)):
        text = message or json.dumps(obj)
        status = obj.get("status")  # Dify's HTTP status for the failure
        if isinstance(status, int) and not isinstance(status, bool):
            text = f"{text} (status {status})"
        return ErrorDelta(excerpt(text, 500), _code(code or obj.get("type")), time=time)
    return None


def _code(value: Any) -> str | None:
    return None if value is None else str(value)

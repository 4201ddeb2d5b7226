"""What every wire format of the backend is made of: frames, a turn's state, the format base.

A wire format turns one answer into :class:`Frame` values (an SSE event or an NDJSON line);
:func:`encode` turns frames into bytes. Frames are built apart from their bytes so that the
``crlf`` fault can hand the same frames to sse-starlette, and so that the bytes of the default
formats are exactly the real services' (LF line endings, ``data: `` with one space, compact
JSON, UTF-8 as is).

Pure: stdlib only.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._prompt import prompt_of

__all__ = ["Frame", "Turn", "WireFormat", "dumps", "encode"]


def dumps(value: Any) -> str:
    """Compact JSON with non-ASCII kept as is, as OpenAI, Anthropic and Ollama send it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Frame:
    """One SSE event (``event`` and ``data``) or, for line formats, one line of ``data``."""

    data: str
    event: str | None = None


@dataclass(slots=True)
class Turn:
    """The state of one answer while it is being sent.

    Args:
        model: The model name echoed back to the client (as it asked, options included).
        prompt_tokens: The prompt's size, for usage.
        include_usage: Whether the client asked for usage in the stream (OpenAI chat).
    """

    model: str
    prompt_tokens: int = 0
    include_usage: bool = False
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:24])
    created: int = field(default_factory=lambda: int(time.time()))
    text: list[str] = field(default_factory=list)
    tokens: int = 0
    sequence: int = 0

    @property
    def so_far(self) -> str:
        """The answer sent so far."""
        return "".join(self.text)

    def add(self, token: str) -> None:
        """Count a token as sent."""
        self.text.append(token)
        self.tokens += 1

    def next_sequence(self) -> int:
        """The next ``sequence_number`` (OpenAI Responses numbers every event from 0)."""
        self.sequence += 1
        return self.sequence - 1


class WireFormat:
    """One service's stream shape. Subclasses override the frame builders.

    Attributes:
        name: The format's name (``openai-chat`` …).
        media_type: The streaming response's content type.
        sse: ``True`` for SSE framing, ``False`` for one JSON value per line.
        data_prefix: What starts a data line (Sider-style servers send ``data:`` with no space).
        stream_default: Whether a request that does not say ``stream`` gets a stream.
        key_header: The header the service's clients send their key in (echoed by the ``401``
            fault, as some proxies do).
    """

    name: ClassVar[str] = ""
    media_type: ClassVar[str] = "text/event-stream"
    sse: ClassVar[bool] = True
    data_prefix: ClassVar[str] = "data: "
    stream_default: ClassVar[bool] = False
    key_header: ClassVar[str] = "authorization"

    def prompt(self, body: dict[str, Any]) -> tuple[str, int]:
        """The last user message of a request, and the prompt's size in words.

        The request shapes that carry ``messages``, ``input``, ``query`` or ``prompt`` are read
        by :func:`~nbstream.server._prompt.prompt_of`; a format whose requests look otherwise
        reads its own.
        """
        return prompt_of(body)

    def head(self, turn: Turn) -> list[Frame]:
        """Frames before the first token."""
        return []

    def token(self, turn: Turn, text: str) -> list[Frame]:
        """Frames carrying one token (already added to ``turn``)."""
        raise NotImplementedError

    def tail(self, turn: Turn) -> list[Frame]:
        """Frames after the last token: finish reason, usage."""
        return []

    def done(self, turn: Turn) -> list[Frame]:
        """The terminal marker (left out by the ``no-done`` fault)."""
        return []

    def error_chunk(self, turn: Turn, message: str) -> list[Frame]:
        """An error reported in-band, as an ordinary data frame."""
        return [Frame(dumps({"error": {"message": message, "type": "server_error"}}))]

    def error_event(self, turn: Turn, message: str) -> list[Frame]:
        """An error reported as an ``event: error``."""
        return [Frame(dumps({"error": {"message": message, "type": "server_error"}}), "error")]

    def whole(self, turn: Turn, text: str) -> Any:
        """The non-streaming JSON body for the whole answer."""
        return {"text": text}

    def http_error(self, status: int, kind: str, message: str, code: str | None = None) -> Any:
        """The JSON body of an error status (OpenAI's shape unless the format has its own).

        Args:
            status: The HTTP status.
            kind: The error type (``invalid_request_error``, ``rate_limit_error`` …).
            message: What went wrong, one line.
            code: OpenAI's ``code`` (``invalid_api_key``), if any.
        """
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def encode(frame: Frame, fmt: WireFormat, eol: str = "\n", sloppy: str | None = None) -> bytes:
    """The bytes of a frame in ``fmt``'s framing.

    Lone surrogates in the text (``"\\udcff"``) become those raw bytes (``surrogateescape``):
    that is how the ``bad-utf8`` fault puts invalid UTF-8 on the wire.

    Args:
        frame: The frame.
        fmt: The wire format.
        eol: The line ending.
        sloppy: An SSE framing mistake of home-made generators: ``"nolf"`` writes
            ``data:<value>`` and no line break at all (nor the ``event:`` line, which such
            generators do not write); ``"single-lf"`` ends the event with one line ending
            instead of a blank line.
    """
    if fmt.sse and sloppy == "nolf":
        text = "".join("data:" + line for line in frame.data.split("\n"))
    elif fmt.sse:
        lines = [f"event: {frame.event}"] if frame.event is not None else []
        # SSE: a data value with newlines is sent as several data lines (WHATWG HTML 9.2.6).
        lines += [fmt.data_prefix + line for line in frame.data.split("\n")]
        text = eol.join(lines) + eol + ("" if sloppy == "single-lf" else eol)
    else:
        text = frame.data + eol
    return text.encode("utf-8", "surrogateescape")

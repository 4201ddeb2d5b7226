"""The exceptions nbstream raises, in one tree.

```
NbstreamError                     anything nbstream itself raises
├── HTTPStatusError               the server answered with a non-2xx status
│   ├── AuthenticationError       401 or 403: the key is missing, wrong, or not allowed
│   └── RateLimitError            429: slow down; ``retry_after`` says for how long
├── StreamError                   the response body is not a stream we can read to its end
│   ├── UnsupportedContentTypeError   a content type that is neither SSE, NDJSON nor JSON
│   ├── EventTooLargeError        one event grew past the configured maximum size
│   └── StreamTimeoutError        connect, first byte or idle time ran out (also a TimeoutError)
├── ServerReportedError           the server sent an error inside an HTTP 200 stream
├── FormatError                   a wire format could not be chosen or a body could not be built
├── ConfigError                   a setting is wrong or missing (also raised for a key in plain text)
├── CassetteError                 a recorded exchange is missing, too large or damaged
└── InterpolationError            a prompt's ``{{name}}`` names nothing defined (not exported)
```

httpx's own transport errors (``httpx.ConnectError``, ``httpx.ReadError`` …) are not wrapped:
they propagate unchanged so that code written against httpx keeps working. Timeouts are the one
exception, because httpx cannot tell "no first byte" from "no data for N s"; the original httpx
exception is kept as ``__cause__``.

Every message is one readable line that says what happened and, where there is something to do,
what to do. No message ever contains an API key: they are built from redacted parts only.
"""

from __future__ import annotations

from typing import Literal

from .values import public

__all__ = [
    "AuthenticationError",
    "CassetteError",
    "ConfigError",
    "EventTooLargeError",
    "FormatError",
    "HTTPStatusError",
    "InterpolationError",
    "NbstreamError",
    "RateLimitError",
    "ServerReportedError",
    "StreamError",
    "StreamTimeoutError",
    "UnsupportedContentTypeError",
]


@public
class NbstreamError(Exception):
    """Base class of every exception nbstream raises itself."""


@public
class HTTPStatusError(NbstreamError):
    """The server answered with a non-2xx status.

    The message is one line: status, reason phrase and the server's own message, e.g.
    ``HTTP 404 Not Found from 127.0.0.1:8000: model 'gpt-5' does not exist``.

    Attributes:
        status_code: The HTTP status code.
        reason: The reason phrase (``"Not Found"``).
        server_message: The message extracted from the body's usual JSON shapes, or a short
            excerpt of the body, or ``""``.
        body: The (bounded) body that was read, decoded as text.
        url: The request URL, without query string or credentials.
        retry_after: Seconds the server asked us to wait (its ``Retry-After`` header: 429 and
            503 often carry one), or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        reason: str = "",
        server_message: str = "",
        body: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.reason = reason
        self.server_message = server_message
        self.body = body
        self.url = url
        self.retry_after = retry_after


@public
class AuthenticationError(HTTPStatusError):
    """401 or 403: the API key is missing, wrong, or lacks permission."""


@public
class RateLimitError(HTTPStatusError):
    """429 Too Many Requests; ``retry_after`` says how long the server asked us to wait."""


@public
class StreamError(NbstreamError):
    """The response body cannot be read as a stream to its end."""


@public
class UnsupportedContentTypeError(StreamError):
    """The response's content type is neither SSE, NDJSON nor JSON.

    Attributes:
        content_type: The content type the server sent.
    """

    def __init__(self, message: str, *, content_type: str = "") -> None:
        super().__init__(message)
        self.content_type = content_type


@public
class EventTooLargeError(StreamError):
    """One event grew past the decoder's configured maximum size.

    Attributes:
        limit: The maximum event size in bytes.
    """

    def __init__(self, message: str, *, limit: int = 0) -> None:
        super().__init__(message)
        self.limit = limit


TimeoutPhase = Literal["connect", "first byte", "idle"]


@public
class StreamTimeoutError(StreamError, TimeoutError):
    """A connect, first-byte or idle timeout ran out.

    Also a builtin :class:`TimeoutError`, so ``except TimeoutError`` catches it.

    Attributes:
        phase: ``"connect"``, ``"first byte"`` or ``"idle"``.
        seconds: The limit that ran out.
    """

    def __init__(self, message: str, *, phase: TimeoutPhase, seconds: float) -> None:
        super().__init__(message)
        self.phase: TimeoutPhase = phase
        self.seconds = seconds


@public
class ServerReportedError(NbstreamError):
    """The server reported an error inside a successful (HTTP 200) stream.

    Attributes:
        code: The server's error type or code (``"overloaded_error"``), if it gave one.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@public
class FormatError(NbstreamError):
    """A wire format could not be chosen, or a request body could not be built."""


@public
class ConfigError(NbstreamError):
    """A setting is wrong or missing; the message says which and how to fix it."""


@public
class CassetteError(NbstreamError):
    """A cassette is missing (replay), too large, unreadable or damaged, or cannot be written."""


class InterpolationError(NbstreamError):
    """A ``{{name}}`` placeholder names something that is not defined."""

"""Turn an error body into one readable line, and a non-2xx response into the right exception.

Pure (stdlib only): the transport uses it for non-2xx responses, and the formats and engine reuse
:func:`extract_server_message` for errors sent inside a 200 stream and for the 400/422 retry
without ``stream_options``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from typing import Any

from .._core.errors import AuthenticationError, HTTPStatusError, RateLimitError
from .._core.secrets import redact

__all__ = ["extract_server_message", "parse_retry_after", "status_error"]

_EXCERPT = 200


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _from_json(value: Any) -> str:
    # The shapes servers use, most specific first: OpenAI / Anthropic / llama.cpp
    # {"error": {"message": …}}, Ollama {"error": "…"}, FastAPI {"detail": "…" | [{"msg": …}]},
    # and plain {"message": …}.
    if isinstance(value, list) and value:
        return _from_json(value[0])  # Gemini wraps its error object in a one-item list
    if not isinstance(value, dict):
        return ""
    error = value.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str) and message:
            return message
        for key in ("type", "code"):
            if isinstance(error.get(key), str | int) and error.get(key) != "":
                return str(error[key])
    if isinstance(error, str) and error:
        return error
    detail = value.get("detail")
    if isinstance(detail, str) and detail:
        return detail
    if isinstance(detail, list) and detail:
        parts = []
        for item in detail:
            if isinstance(item, dict) and isinstance(item.get("msg"), str):
                loc = item.get("loc")
                where = ".".join(str(x) for x in loc) if isinstance(loc, list) else ""
                parts.append(f"{where}: {item['msg']}" if where else item["msg"])
        if parts:
            return "; ".join(parts)
    message = value.get("message")
    if isinstance(message, str) and message:
        return message
    return ""


def extract_server_message(body: object, *, limit: int = _EXCERPT) -> str:
    """Pull the server's own error message out of an error body.

    Args:
        body: The body as ``bytes`` or ``str`` (parsed as JSON when it is JSON), or an already
            parsed JSON value (a ``dict`` from an in-band error event).
        limit: The longest message returned, in characters.

    Returns:
        The message from the usual JSON shapes (``{"error": {"message": …}}``,
        ``{"error": "…"}``, ``{"detail": …}`` with FastAPI's list of ``{"msg": …}``,
        ``{"message": …}``), else a short one-line excerpt of the text, else ``""``.
    """
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8", "replace")
    if isinstance(body, str):
        text = body.strip()
        if not text:
            return ""
        try:
            parsed = json.loads(text)
        except ValueError:
            return _one_line(text, limit)
        message = _from_json(parsed)
        return _one_line(message or text, limit)
    return _one_line(_from_json(body), limit)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Read a ``Retry-After`` header: delay-seconds or an HTTP date (RFC 9110 section 10.2.3).

    Args:
        value: The header value, or ``None``.
        now: The current time (seconds since the epoch); defaults to :func:`time.time`.

    Returns:
        Seconds to wait (never negative), or ``None`` when absent or unreadable.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if seconds == seconds else None  # NaN is not a delay


def status_error(
    status_code: int,
    *,
    reason: str = "",
    host: str = "",
    body: str = "",
    url: str = "",
    retry_after: str | None = None,
    secrets: Iterable[str | None] = (),
) -> HTTPStatusError:
    """Build the exception for a non-2xx response, with a one-line message.

    Args:
        status_code: The HTTP status.
        reason: The reason phrase (``"Not Found"``).
        host: ``host:port`` of the server, for the message.
        body: The (bounded) body, decoded.
        url: The request URL without query or credentials.
        retry_after: The ``Retry-After`` header, if any.
        secrets: Keys to mask in the message and the stored body.

    Returns:
        :class:`~nbstream.AuthenticationError` for 401/403, :class:`~nbstream.RateLimitError`
        for 429, else :class:`~nbstream.HTTPStatusError`; the caller raises it.
    """
    secrets = list(secrets)
    server_message = redact(extract_server_message(body), secrets)
    head = f"HTTP {status_code}{' ' + reason if reason else ''}{' from ' + host if host else ''}"
    message = f"{head}: {server_message}" if server_message else head
    fields: dict[str, Any] = {
        "status_code": status_code,
        "reason": reason,
        "server_message": server_message,
        "body": redact(body, secrets),
        "url": redact(url, secrets),
    }
    if status_code in (401, 403):
        return AuthenticationError(f"{message} (check the API key)", **fields)
    if status_code == 429:
        delay = parse_retry_after(retry_after)
        hint = f" (retry after {delay:g} s)" if delay is not None else ""
        return RateLimitError(f"{message}{hint}", retry_after=delay, **fields)
    return HTTPStatusError(redact(message, secrets), **fields)

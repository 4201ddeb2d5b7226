"""Turn an error body into one readable line, and a non-2xx response into the right exception.

Pure (stdlib only): the transport uses it for non-2xx responses, and the formats and engine reuse
:func:`extract_server_message` for errors sent inside a 200 stream and for the 400/422 retry
without ``stream_options``. An HTML error page (a proxy's 502, a framework's 500) is read for
its title or first heading, never shown as markup. :func:`no_events_message` describes an HTTP
200 body that held no event at all.
"""

from __future__ import annotations

import codecs
import html
import json
import re
import time
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from typing import Any

from .._core.errors import AuthenticationError, HTTPStatusError, RateLimitError
from .._core.secrets import redact
from .._core.text import excerpt

__all__ = ["extract_server_message", "no_events_message", "parse_retry_after", "status_error"]

_EXCERPT = 200


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


# A body that opens with markup and has an HTML element near its start: an error page.
_HTML = re.compile(r"<(?:!doctype\s+html|html|head|body|title|h[1-6]|center|div|p)\b", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
_HEADING = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.I | re.S)


def _from_html(page: str) -> str:
    """The title of an HTML error page, else its first heading, else its visible text."""
    for pattern, group in ((_TITLE, 1), (_HEADING, 2)):
        found = pattern.search(page)
        if found:
            text = _visible(found.group(group))
            if text:
                return text
    return _visible(_INVISIBLE.sub(" ", page))


def _visible(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def extract_server_message(body: object, *, limit: int = _EXCERPT) -> str:
    """Pull the server's own error message out of an error body.

    Args:
        body: The body as ``bytes`` or ``str`` (parsed as JSON when it is JSON), or an already
            parsed JSON value (a ``dict`` from an in-band error event).
        limit: The longest message returned, in characters.

    Returns:
        The message from the usual JSON shapes (``{"error": {"message": …}}``,
        ``{"error": "…"}``, ``{"detail": …}`` with FastAPI's list of ``{"msg": …}``,
        ``{"message": …}``); for an HTML page its ``<title>``, else its first heading, else its
        visible text; else a short one-line excerpt of the text; else ``""``.
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
            return excerpt(_from_html(text) if _HTML.match(text) else text, limit)
        message = _from_json(parsed)
        return excerpt(message or text, limit)
    return excerpt(_from_json(body), limit)


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
    # nginx's 502 page says "502 Bad Gateway" and nothing else: the status line said it.
    said = _repeats_status(server_message, status_code, reason)
    message = f"{head}: {server_message}" if server_message and not said else head
    delay = parse_retry_after(retry_after)
    fields: dict[str, Any] = {
        "status_code": status_code,
        "reason": reason,
        "server_message": server_message,
        "body": redact(body, secrets),
        "url": redact(url, secrets),
        "retry_after": delay,
    }
    if status_code in (401, 403):
        return AuthenticationError(f"{message} (check the API key)", **fields)
    if status_code == 429:
        hint = f" (retry after {delay:g} s)" if delay is not None else ""
        return RateLimitError(f"{message}{hint}", **fields)
    return HTTPStatusError(redact(message, secrets), **fields)


def _repeats_status(message: str, status_code: int, reason: str) -> bool:
    def letters(text: str) -> str:
        return "".join(c for c in text.lower() if c.isalnum())

    said = letters(message)
    return said in {letters(f"{status_code} {reason}"), letters(reason), str(status_code)}


def no_events_message(content_type: str, size: int, head: bytes, *, host: str = "") -> str:
    """Describe an HTTP 200 answer in which no event was found, by what did arrive.

    Args:
        content_type: The response's content type (without parameters), or ``""``.
        size: How many bytes the body had.
        head: Its first bytes.
        host: ``host:port`` of the server, for the message.

    Returns:
        One line: the content type and either "an empty body" or the byte count and the first
        bytes, escaped (``'<!DOCTYPE html>\\n<html>…'``).
    """
    where = f" from {host}" if host else ""
    kind = content_type or "no content type"
    if not size:
        return (
            f"HTTP 200{where} ({kind}) with no events: the body was empty, the server generated"
            " nothing (its log says why)"
        )
    whole = size <= _HEAD_SHOWN
    # A character cut at the end of the excerpt is left out; bytes that are not UTF-8 show as
    # \xNN, and line breaks and other control characters as their escapes: one line.
    decoder = codecs.getincrementaldecoder("utf-8")("backslashreplace")
    text = decoder.decode(head[:_HEAD_SHOWN], final=whole)
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    noun = "byte" if size == 1 else "bytes"
    return (
        f"HTTP 200{where} ({kind}) with no events in its {size:,} {noun}, which start"
        f" '{shown}'{'' if whole else '…'}: not a stream this API sends (check the URL and the"
        " api setting)"
    )


_HEAD_SHOWN = 48

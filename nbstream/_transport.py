"""The async HTTP transport: an httpx response in, events out, with timeouts that a notebook needs.

:func:`aconnect_sse` speaks httpx-sse's vocabulary (an async context manager whose value has
``response`` and ``aiter_sse()``) and adds what a notebook user needs: a one-line error for a
non-2xx answer, the framing chosen by content type (:meth:`EventSource.aiter_events`), connect /
first-byte / idle timeouts that end a stalled stream instead of hanging, and prompt cleanup on
cancellation: leaving the context (normally, by an exception or by ``CancelledError``) closes the
response, so the server sees the disconnect at once and stops generating.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from ._errors import StreamTimeoutError
from ._http_errors import status_error
from ._redact import redact
from ._sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder
from ._transport_source import EventMode, EventSource, OnBytes, Timeouts, host_of, timeout_error

__all__ = ["EventMode", "EventSource", "Timeouts", "aconnect_sse", "aiter_sse"]

_ERROR_BODY_LIMIT = 64 * 1024  # enough for any error JSON; a runaway error body is not read on
_ACCEPT = "text/event-stream, application/x-ndjson;q=0.9, application/json;q=0.8"


async def aiter_sse(
    chunks: AsyncIterable[bytes], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> AsyncIterator[ServerSentEvent]:
    """Decode server-sent events from any async source of bytes.

    Args:
        chunks: The body, in chunks split anywhere.
        max_event_size: See :class:`~nbstream.SSEDecoder`.

    Yields:
        Each event as its final line arrives.

    Raises:
        EventTooLargeError: An event grew past ``max_event_size``.
    """
    decoder = SSEDecoder(max_event_size)
    async for chunk in chunks:
        for event in decoder.decode(chunk):
            yield event
    decoder.flush()


@asynccontextmanager
async def aconnect_sse(
    client: httpx.AsyncClient,
    method: str,
    url: str | httpx.URL,
    *,
    timeouts: Timeouts | None = None,
    max_event_size: int | None = None,
    on_bytes: OnBytes | None = None,
    secrets: Iterable[str | None] = (),
    follow_redirects: bool | None = None,
    **kwargs: Any,
) -> AsyncIterator[EventSource]:
    """Send a request and stream its response as events (httpx-sse's ``aconnect_sse``, hardened).

    Usage::

        async with aconnect_sse(client, "POST", url, json=body) as source:
            async for event in source.aiter_events():
                ...

    Args:
        client: The httpx client that sends the request.
        method: The HTTP method (``"POST"`` for a chat request).
        url: The URL.
        timeouts: Connect, first-byte and idle limits; :class:`Timeouts` defaults if ``None``.
        max_event_size: The largest event in bytes (default 16 MiB).
        on_bytes: Called as ``on_bytes(chunk, monotonic_time)`` with every chunk of the body
            as it arrives (the wire view uses it); it must be quick and must not raise.
        secrets: Keys to mask in every error message.
        follow_redirects: Override the client's own setting for this request (as httpx's
            ``client.stream`` does); ``None`` keeps the client's.
        **kwargs: Passed to :meth:`httpx.AsyncClient.build_request` (``json=``, ``headers=``,
            ``params=``, ``timeout=`` to override the httpx timeouts this function sets).

    Yields:
        The open :class:`EventSource`; leaving the block closes the response.

    Raises:
        HTTPStatusError: A non-2xx status (:class:`~nbstream.AuthenticationError` for 401/403,
            :class:`~nbstream.RateLimitError` for 429), with the server's message.
        StreamTimeoutError: The connect or first-byte limit ran out (idle: while iterating).
        httpx.HTTPError: Other transport errors (connection refused, reset …), unchanged.
    """
    timeouts = timeouts or Timeouts()
    secrets = list(secrets)
    headers = httpx.Headers(kwargs.pop("headers", None))
    headers.setdefault("Accept", _ACCEPT)
    headers.setdefault("Cache-Control", "no-store")
    # httpx enforces connect (and pool) itself; reads are timed here, per phase (see _timed).
    kwargs.setdefault(
        "timeout", httpx.Timeout(timeouts.connect, read=None, write=None, pool=timeouts.connect)
    )
    request = client.build_request(method, url, headers=headers, **kwargs)
    where = host_of(request.url)
    loop = asyncio.get_running_loop()
    deadline = None if timeouts.first_byte is None else loop.time() + timeouts.first_byte
    try:
        async with asyncio.timeout_at(deadline):
            response = await client.send(
                request,
                stream=True,
                follow_redirects=(
                    client.follow_redirects if follow_redirects is None else follow_redirects
                ),
            )
    except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        seconds = timeouts.connect or 0.0
        what = "connect to" if isinstance(exc, httpx.ConnectTimeout) else "get a connection for"
        message = f"could not {what} {where} within {seconds:g} s (is the server running?)"
        raise StreamTimeoutError(
            redact(message, secrets), phase="connect", seconds=seconds
        ) from exc
    except TimeoutError as exc:
        raise timeout_error(where, timeouts, True, secrets) from exc
    source = EventSource(
        response,
        timeouts=timeouts,
        first_byte_deadline=deadline,
        max_event_size=max_event_size or DEFAULT_MAX_EVENT_SIZE,
        on_bytes=on_bytes,
        secrets=secrets,
    )
    try:
        if not response.is_success:
            raise await _status_error(source, secrets)
        yield source
    finally:
        await source.aclose()


async def _status_error(source: EventSource, secrets: list[str | None]) -> Exception:
    response = source.response
    parts: list[bytes] = []
    size = 0
    async for chunk in source._chunks():
        parts.append(chunk)
        size += len(chunk)
        if size >= _ERROR_BODY_LIMIT:
            break
    url = response.request.url
    return status_error(
        response.status_code,
        reason=response.reason_phrase,
        host=host_of(url),
        body=b"".join(parts)[:_ERROR_BODY_LIMIT].decode("utf-8", "replace"),
        url=str(url.copy_with(query=None, fragment=None)),
        retry_after=response.headers.get("retry-after"),
        secrets=secrets,
    )

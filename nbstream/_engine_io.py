"""The engine's one HTTP exchange: send the request, pick the format, yield the deltas.

Split from :mod:`nbstream._engine` (argument resolution, retries) so that each stays short.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._deltas import Delta, End, ErrorDelta, Metadata
from ._endpoint import Endpoint
from ._errors import StreamError
from ._formats import choose_format
from ._formats._common import excerpt
from ._http_errors import no_events_message
from ._ndjson import NDJSONDecoder
from ._redact import redact
from ._sse import ServerSentEvent
from ._transport_source import host_of

__all__ = ["Plan", "exchange"]


@dataclass(slots=True)
class Plan:
    """Everything one request needs, resolved from the arguments and the endpoint."""

    endpoint: Endpoint
    body: dict[str, Any]
    headers: dict[str, str]
    secrets: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)


async def exchange(
    plan: Plan, http: httpx.AsyncClient, on_bytes: Callable[..., Any] | None
) -> AsyncGenerator[Delta, None]:
    """Send ``plan``'s request once and yield its deltas: metadata, content, end.

    Args:
        plan: The resolved request.
        http: The client to send with.
        on_bytes: Called with every raw chunk, if given.

    Yields:
        :class:`~nbstream.Metadata` (format chosen, streamed or not), the format's deltas,
        then :class:`~nbstream.End`.

    Raises:
        StreamError: An HTTP 200 without a single event.
        HTTPStatusError: A non-2xx status (from the transport).
    """
    from ._transport import aconnect_sse  # imported on first use: engine imports stay light

    ep = plan.endpoint
    kwargs: dict[str, Any] = {"json": plan.body, "headers": plan.headers, "secrets": plan.secrets}
    if ep.timeouts is not None:
        kwargs["timeouts"] = ep.timeouts
    if on_bytes is not None:
        kwargs["on_bytes"] = on_bytes
    if plan.secrets:
        # httpx strips Authorization on a cross-origin redirect but not x-api-key or other
        # credential headers: with a key on board a redirect is reported, never followed,
        # whatever the caller's client is set to.
        kwargs["follow_redirects"] = False
    async with aconnect_sse(http, "POST", ep.url, **kwargs) as source:
        events: AsyncIterator[ServerSentEvent] = source.aiter_events()
        first = await anext(events, None)
        if first is None:
            # Say what arrived rather than guess why: an empty body (llama.cpp with a prompt
            # longer than its context, among others) and a body in some other framing differ.
            where = source.response.request.url
            message = no_events_message(
                source.content_type, source.bytes_read, source.head, host=host_of(where)
            )
            raise StreamError(redact(message, plan.secrets))
        if source.mode == "json":
            try:
                obj = json.loads(first.data)
            except ValueError:
                pieces = _json_pieces(first)
                if len(pieces) < 2:
                    for delta in _malformed_body(ep, first):
                        yield delta
                    return
                # JSON lines sent as application/json (ChatGLM-style servers): a stream that
                # the transport read whole; read it as the stream it is.
                first, events = pieces[0], _aiter(pieces[1:])
            else:
                fmt = choose_format(
                    ep.format, api=ep.api, body=obj, json_path=ep.json_path, json_mode=ep.json_mode
                )
                yield Metadata(model=ep.model, format=fmt.name, streamed=False, time=first.time)
                for delta in fmt.parse_body(obj, time=first.time):
                    yield delta
                yield End(complete=fmt.complete, time=time.monotonic())
                return
        fmt = choose_format(
            ep.format, api=ep.api, first=first, json_path=ep.json_path, json_mode=ep.json_mode
        )
        yield Metadata(model=ep.model, format=fmt.name, streamed=True, time=first.time)
        for delta in fmt.feed(first):
            yield delta
        async for item in events:
            for delta in fmt.feed(item):
                yield delta
        for delta in fmt.finish():
            yield delta
        yield End(complete=fmt.complete, time=time.monotonic())


def _json_pieces(item: ServerSentEvent) -> list[ServerSentEvent]:
    """Split a body of several JSON texts (one a line, or concatenated) into items."""
    decoder = NDJSONDecoder()
    try:
        found = [*decoder.decode(item.data.encode()), *decoder.flush()]
    except StreamError:
        return []
    return [ServerSentEvent(data=piece.data, time=item.time) for piece in found]


def _malformed_body(ep: Endpoint, item: ServerSentEvent) -> list[Delta]:
    fmt = choose_format(ep.format, api=ep.api, json_path=ep.json_path, json_mode=ep.json_mode)
    message = f"the server's JSON answer is not valid JSON: {excerpt(item.data)!r}"
    return [
        Metadata(model=ep.model, format=fmt.name, streamed=False, time=item.time),
        ErrorDelta(message, "malformed_body", time=item.time),
        End(complete=True, time=time.monotonic()),
    ]


async def _aiter(items: Iterable[ServerSentEvent]) -> AsyncIterator[ServerSentEvent]:
    for item in items:
        yield item

"""The engine: one request to any chat server, one :class:`~nbstream.DeltaStream` of its answer.

:func:`astream` builds the request for the chosen API (:mod:`nbstream._providers.request`), opens it with
the transport (:func:`nbstream.aconnect_sse`), picks the wire format (``"auto"``: from the first
event's shape, :mod:`nbstream._providers.registry`) and yields, in order:

1. a :class:`~nbstream.Metadata` delta: requested model, chosen format, streamed or not;
2. the content deltas (text, reasoning, tool calls, usage, finish reason, in-band errors);
3. an :class:`~nbstream.End` delta: ``complete`` says whether the terminal marker came.

Errors (HTTP status, connection, timeouts, an HTTP 200 with an empty stream) propagate as
exceptions; the :class:`~nbstream.DeltaStream` records them as status ``"failed"``. The response,
and the client when the engine created it, are closed in ``finally``: on cancellation that
happens at once, so the server sees the disconnect and stops generating.

``stream_options.include_usage`` is sent for ``openai-chat`` streams; a server that rejects it
(HTTP 400/422 naming it) is asked again once without it, and remembered per URL.

Retries, before the first byte only: a 429, 502, 503, 504 or 529, or a connection closed before
any byte of the answer, is sent again at most ``retries`` times (2), after the ``Retry-After``
the server asked for or a short backoff with jitter, and never after more than 20 s of waiting
in all (a longer ``Retry-After`` fails at once, saying so). Each wait is a
:class:`~nbstream.Retry` delta, so the view's status line shows it ("retrying in 3 s: 429 Too
Many Requests"), and an ``asyncio.sleep``, so Cancel and Interrupt end it at once. Once a byte
of the answer has arrived nothing is retried: the answer would repeat.

Inside: :func:`_plan` turns a chat's :class:`~nbstream._engine.settings.Settings` into a
:class:`Plan` (its endpoint, body and headers), :func:`_run` owns the client and the retries,
and :func:`exchange` is one HTTP exchange (send, pick the format, yield). The public
:func:`astream` and :func:`prepare_request` take the settings as keywords; the chat layer, which
layers them itself, calls :func:`stream_for` and :func:`request_for`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from http import HTTPStatus
from operator import index
from typing import Any, TypeAlias, Unpack

# httpx imports httpcore when the first client is built, and httpcore imports trio when it is
# installed: 0.6 s measured, which landed in the first answer's time to first token. Paying it
# when the engine is imported keeps TTFT a measure of the server.
import httpcore  # noqa: F401
import httpx

from .._core.deltas import Delta, End, ErrorDelta, Metadata, Notice, Retry
from .._core.errors import ConfigError, HTTPStatusError, StreamError
from .._core.secrets import redact
from .._core.stream import DeltaStream
from .._core.text import excerpt
from .._core.urls import host_of
from .._core.values import public
from .._http.errors import no_events_message
from .._http.transport import EventSource, aconnect_sse, describe_http_error
from .._providers.registry import choose_format
from .._providers.request import (
    PreparedRequest,
    as_messages,
    build_body,
    build_headers,
    endpoint_url,
    mask_headers,
)
from .._sse.decoder import ServerSentEvent
from .._sse.ndjson import NDJSONDecoder
from .context import apply_context
from .endpoint import Endpoint
from .settings import ChatOptions, Settings, takes_options

__all__ = [
    "RETRY_STATUSES",
    "Endpoint",
    "Plan",
    "WrapTransport",
    "astream",
    "exchange",
    "prepare_request",
    "request_for",
    "stream_for",
]

#: Given the network transport, the transport to send with (record / replay wrap it).
WrapTransport: TypeAlias = Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]

# URLs whose server rejected stream_options (HTTP 400/422): asked without it from then on.
_NO_STREAM_OPTIONS: set[str] = set()

# Statuses that say "not now" rather than "not this": too many requests (RFC 6585), a gateway or
# server that is overloaded or lost its upstream (RFC 9110 15.6.3-15.6.5), and Anthropic's 529
# "overloaded_error" (docs.anthropic.com, Errors), which its own SDK retries.
RETRY_STATUSES = frozenset({429, 502, 503, 504, 529})
# A connection closed or reset before the answer began: the server never started on it.
_RESETS = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
_RETRY_BUDGET_S = 20.0  # all the waits of one request together, Retry-After included
# Without Retry-After: 0.5 s, then twice as long, each up to a quarter shorter at random so that
# clients that failed together do not come back together (openai-python's schedule).
_BACKOFF_S = 0.5


@dataclass(slots=True)
class Plan:
    """Everything one request needs, resolved from the settings."""

    endpoint: Endpoint
    url: str
    body: dict[str, Any]
    headers: dict[str, str]
    secrets: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    retries: int = 0


def _plan(prompt_or_messages: str | Sequence[Mapping[str, Any]], settings: Settings) -> Plan:
    settings = settings.resolve()
    retries = index(settings.retries)  # a whole number (TypeError otherwise) …
    if retries < 0:  # … of at least 0
        raise ConfigError(f"retries takes a whole number of at least 0, not {retries}")
    endpoint = settings.endpoint()
    messages = as_messages(prompt_or_messages, settings.system)
    if settings.context:
        messages, _ = apply_context(messages, settings.context, settings.context_budget)
    url = endpoint_url(endpoint.api, endpoint.base_url, endpoint.model, settings.stream)
    include_usage = url not in _NO_STREAM_OPTIONS
    body = build_body(
        endpoint.api,
        messages,
        model=endpoint.model,
        stream=settings.stream,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        include_usage=include_usage,
        template=endpoint.body,
        params=settings.extra_body,
    )
    headers = build_headers(endpoint.api, endpoint.api_key or None, endpoint.headers)
    secrets = tuple(s for s in (endpoint.api_key, *endpoint.credential_headers().values()) if s)
    return Plan(endpoint, url, body, headers, secrets, settings.extra_body, retries)


def request_for(
    prompt_or_messages: str | Sequence[Mapping[str, Any]], settings: Settings
) -> PreparedRequest:
    """The request :func:`stream_for` would send, keys masked, without sending it.

    Args:
        prompt_or_messages: A user prompt, or chat messages.
        settings: The chat's settings (:class:`~nbstream._engine.settings.Settings`).

    Returns:
        Method, URL, headers with every key masked, and the JSON body.

    Raises:
        ConfigError: No server, an unknown API or format, or a key bound to another host.
    """
    plan = _plan(prompt_or_messages, settings)
    headers = mask_headers(plan.headers, plan.secrets)
    return PreparedRequest("POST", plan.url, headers, plan.body, plan.endpoint.format)


def stream_for(
    prompt_or_messages: str | Sequence[Mapping[str, Any]],
    settings: Settings,
    *,
    client: httpx.AsyncClient | None = None,
    on_bytes: Callable[..., Any] | None = None,
    wrap_transport: WrapTransport | None = None,
) -> DeltaStream:
    """The stream of one request built from ``settings`` (nothing is sent until it is iterated).

    Args:
        prompt_or_messages: A user prompt, or chat messages.
        settings: The chat's settings.
        client: An ``httpx.AsyncClient`` to use (left open); else one is made and closed.
        on_bytes: Called with every raw chunk as it arrives.
        wrap_transport: Given the network transport, returns the transport to send with (a
            :class:`~nbstream._http.cassette.CassetteTransport` records or replays there).
            Only for the engine's own client: not with ``client``.

    Returns:
        A :class:`~nbstream.DeltaStream`.

    Raises:
        ConfigError: No server, an unknown API or format, or a key bound to another host
            (raised at once, before anything is sent); ``wrap_transport`` with ``client``.
    """
    if client is not None and wrap_transport is not None:
        raise ConfigError("wrap_transport (record / replay) needs the engine's own client")
    plan = _plan(prompt_or_messages, settings)
    ep = plan.endpoint
    if client is None:
        _ssl_context()  # built now, before the stream's clock starts: see _ssl_context
    source = _run(plan, client, on_bytes, wrap_transport)
    fmt = "" if ep.format == "auto" else ep.format
    return DeltaStream(
        source,
        format=fmt,
        endpoint=ep.host,
        secrets=plan.secrets,
        describe=describe_http_error,
    )


@takes_options
def prepare_request(
    prompt_or_messages: str | Sequence[Mapping[str, Any]], **options: Unpack[ChatOptions]
) -> PreparedRequest:
    """Build the request :func:`astream` would send, without sending it (``--dry-run``).

    Args:
        prompt_or_messages: A user prompt, or chat messages (``{"role", "content"}`` dicts).
        **options: The chat's settings, as for :func:`astream` (below).

    Returns:
        Method, URL, headers with every key masked, and the JSON body.

    Raises:
        TypeError: A keyword that is not an option (body fields go in ``extra_body``).
        ConfigError: No server, an unknown API or format, or a key bound to another host.
    """
    return request_for(prompt_or_messages, Settings.from_options(options, caller="prepare_request"))


@public
@takes_options
def astream(
    prompt_or_messages: str | Sequence[Mapping[str, Any]],
    *,
    client: httpx.AsyncClient | None = None,
    on_bytes: Callable[..., Any] | None = None,
    wrap_transport: WrapTransport | None = None,
    **options: Unpack[ChatOptions],
) -> DeltaStream:
    """Ask a chat server and stream its answer as deltas.

    Nothing is sent until the stream is first iterated. Use it as
    ``async for delta in astream(...)``, then read ``stream.reply``; or ``async with`` it to
    be sure the connection is released when you stop early. Only the keywords given count: the
    environment and the notebook's ``%chat`` settings are :func:`nbstream.chat`'s.

    Args:
        prompt_or_messages: A user prompt, or chat messages (``{"role", "content"}`` dicts).
        client: An ``httpx.AsyncClient`` to use (left open); by default one is created and
            closed with the stream.
        on_bytes: Called with every raw chunk as it arrives (for wire inspection).
        wrap_transport: Given the network transport, returns the transport to send with (a
            :class:`~nbstream._http.cassette.CassetteTransport` records or replays there).
            Only for the engine's own client: not with ``client``. (The ``record`` and
            ``replay`` options are :func:`nbstream.chat`'s.)
        **options: The chat's settings (below): ``base_url`` or ``endpoint`` at least.

    Returns:
        A :class:`~nbstream.DeltaStream`; its ``reply`` is the :class:`~nbstream.Reply`.

    Raises:
        TypeError: A keyword that is not an option (body fields go in ``extra_body``).
        ConfigError: No server, an unknown API or format, or a key bound to another host
            (raised at once, before anything is sent); ``wrap_transport`` with ``client``.
    """
    settings = Settings.from_options(options, caller="astream")
    return stream_for(
        prompt_or_messages,
        settings,
        client=client,
        on_bytes=on_bytes,
        wrap_transport=wrap_transport,
    )


async def _run(
    plan: Plan,
    client: httpx.AsyncClient | None,
    on_bytes: Callable[..., Any] | None,
    wrap_transport: WrapTransport | None = None,
) -> AsyncIterator[Delta]:
    own = client is None
    # follow_redirects=False (httpx's default, said out loud): a key never follows a redirect.
    if client is not None:
        http = client
    elif wrap_transport is None:
        http = httpx.AsyncClient(follow_redirects=False, verify=_ssl_context())
    else:
        # trust_env=False: proxy mounts from the environment would route requests around the
        # wrapper, and a replay must never reach the network.
        network = httpx.AsyncHTTPTransport(verify=_ssl_context())
        http = httpx.AsyncClient(
            follow_redirects=False, transport=wrap_transport(network), trust_env=False
        )
    retried = 0
    waited = 0.0
    try:
        while True:
            opened: list[EventSource] = []  # the answer's response, once its headers are in
            try:
                # aclosing: when the consumer stops early, the exchange (and its response) is
                # closed now, not whenever the garbage collector finalizes the generator.
                async with aclosing(exchange(plan, http, on_bytes, opened)) as deltas:
                    async for delta in deltas:
                        yield delta
                return
            except HTTPStatusError as exc:
                # Nothing was yielded: a status comes before any event.
                if _rejects_stream_options(plan, exc):
                    # The server refused stream_options (some OpenAI-compatible servers
                    # validate strictly): ask once more without it, and remember that for this
                    # URL. Not a retry: no wait, not counted.
                    _NO_STREAM_OPTIONS.add(plan.url)
                    plan.body.pop("stream_options", None)
                    continue
                retry = _retry(exc, plan.retries, retried, waited)
                if retry is None:
                    raise
            except _RESETS as exc:
                # Once a byte of the answer arrived, sending again would repeat it.
                answered = any(source.bytes_read for source in opened)
                retry = None if answered else _retry(exc, plan.retries, retried, waited)
                if retry is None:
                    raise
            retried += 1
            waited += retry.wait
            yield retry
            await asyncio.sleep(retry.wait)  # Cancel and Interrupt end the wait here
    finally:
        if own:
            await http.aclose()


def _retry(exc: Exception, limit: int, retried: int, waited: float) -> Retry | None:
    """The wait before sending again after ``exc``, or ``None`` when it is not to be retried."""
    if retried >= limit:
        return None
    wait: float | None = None
    if isinstance(exc, HTTPStatusError):
        if exc.status_code not in RETRY_STATUSES:
            return None
        # Anthropic's 529 has no standard reason phrase: its body says "Overloaded".
        said = exc.reason or _phrase(exc.status_code) or exc.server_message
        reason = f"{exc.status_code} {said}".strip()
        wait = exc.retry_after
    elif isinstance(exc, _RESETS):
        reason = "the connection closed before the answer began"
    else:
        return None  # refused, timed out …: sending again would not help
    if wait is None:
        wait = _BACKOFF_S * 2**retried * (1 - 0.25 * random.random())
    if waited + wait > _RETRY_BUDGET_S:
        return None  # the error says how long the server asked for
    return Retry(retried + 1, wait, reason, time=time.monotonic())


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


async def exchange(
    plan: Plan,
    http: httpx.AsyncClient,
    on_bytes: Callable[..., Any] | None,
    opened: list[EventSource] | None = None,
) -> AsyncGenerator[Delta, None]:
    """Send ``plan``'s request once and yield its deltas: metadata, content, end.

    Args:
        plan: The resolved request.
        http: The client to send with.
        on_bytes: Called with every raw chunk, if given.
        opened: If given, the response's :class:`~nbstream.EventSource` is appended once its
            (2xx) headers are in, so that the caller can tell whether a byte of the answer
            arrived before a failure (``bytes_read``).

    Yields:
        :class:`~nbstream.Metadata` (format chosen, streamed or not), the format's deltas,
        then :class:`~nbstream.End`.

    Raises:
        StreamError: An HTTP 200 without a single event.
        HTTPStatusError: A non-2xx status (from the transport).
    """
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
    async with aconnect_sse(http, "POST", plan.url, **kwargs) as source:
        if opened is not None:
            opened.append(source)
        events: AsyncIterator[ServerSentEvent] = source.aiter_events()
        first = await anext(events, None)
        if first is None:
            # Say what arrived rather than guess why: an empty body (llama.cpp with a prompt
            # longer than its context, among others) and a body in some other framing differ.
            where = source.response.request.url
            message = no_events_message(
                source.content_type, source.bytes_read, source.head, host=host_of(str(where))
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
        if source.note is not None:
            # Known by the first event: the framing is repaired from the start or never.
            yield Notice(source.note, time=first.time)
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


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Every new AsyncClient builds its own SSL context, loading the CA bundle: measured 60 ms
    # idle and up to 500 ms on a loaded machine, added to each answer's time to first token
    # (even for plain-http local servers). One context, built on first use, serves them all.
    return httpx.create_ssl_context()


def _rejects_stream_options(plan: Plan, exc: HTTPStatusError) -> bool:
    if exc.status_code not in (400, 422) or "stream_options" not in plan.body:
        return False
    if "stream_options" in plan.params:  # the caller set it explicitly: not ours to drop
        return False
    said = f"{exc.server_message} {exc.body}".lower()
    return "stream_options" in said or "include_usage" in said

"""The async HTTP transport: an httpx response in, events out, with timeouts that a notebook needs.

:func:`aconnect_sse` speaks httpx-sse's vocabulary (an async context manager whose value has
``response`` and ``aiter_sse()``) and adds what a notebook user needs: a one-line error for a
non-2xx answer, the framing chosen by content type (:meth:`EventSource.aiter_events`), connect /
first-byte / idle timeouts that end a stalled stream instead of hanging, and prompt cleanup on
cancellation: leaving the context (normally, by an exception or by ``CancelledError``) closes the
response, so the server sees the disconnect at once and stops generating.

Once the headers are in, :class:`EventSource` frames the body by content type and times each
read by phase (first byte, then idle).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from time import monotonic
from typing import Any, Literal, TypeAlias, cast

import httpx

from .._core.errors import EventTooLargeError, StreamTimeoutError, UnsupportedContentTypeError
from .._core.secrets import redact
from .._core.stream import describe_error
from .._core.urls import host_of
from .._core.values import ValueRepr, public
from .._sse.decoder import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder
from .._sse.ndjson import NDJSONDecoder
from .._sse.recovery import RecoveringSSEDecoder
from .errors import status_error

__all__ = [
    "EventMode",
    "EventSource",
    "OnBytes",
    "Timeouts",
    "aconnect_sse",
    "aiter_sse",
    "describe_http_error",
]

EventMode: TypeAlias = Literal["sse", "ndjson", "json"]
OnBytes: TypeAlias = Callable[[bytes, float], None]

_HEAD = 64  # bytes of the body kept to describe it (EventSource.head)
_NDJSON_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/json-lines"})
_ERROR_BODY_LIMIT = 64 * 1024  # enough for any error JSON; a runaway error body is not read on
_ACCEPT = "text/event-stream, application/x-ndjson;q=0.9, application/json;q=0.8"

# httpx's transport errors, the first match wins; any other httpx.HTTPError: "<Name> from <host>".
_TRANSPORT_ERRORS: tuple[tuple[type[httpx.HTTPError], str], ...] = (
    (httpx.ConnectError, "could not connect to{where} ({detail}); is the server running?"),
    (httpx.RemoteProtocolError, "the server{where} closed the connection mid-stream ({detail})"),
    (httpx.ReadError, "the connection to{where} broke while reading ({detail})"),
    (httpx.TimeoutException, "timed out talking to{where} ({detail})"),
)


@public
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


@public
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
    where = host_of(str(request.url))
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
        host=host_of(str(url)),
        body=b"".join(parts)[:_ERROR_BODY_LIMIT].decode("utf-8", "replace"),
        url=str(url.copy_with(query=None, fragment=None)),
        retry_after=response.headers.get("retry-after"),
        secrets=secrets,
    )


@public
@dataclass(frozen=True, slots=True, repr=False)
class Timeouts(ValueRepr):
    """How long to wait, in seconds, at each phase of a streamed request (``None``: no limit).

    Attributes:
        connect: Opening the connection (TCP and TLS, or a free slot in the client's pool).
            10 s: a reachable server connects in milliseconds; longer means it is not there.
        first_byte: From sending the request to the first byte of the body. 300 s: before the
            first token an LLM reads the whole prompt (minutes on a CPU for a long context)
            and a reasoning model may think silently for minutes; openai-python allows 600 s.
        idle: The longest silence between two chunks of the body once it has started. 120 s:
            servers that pause (reasoning, tool calls) send keep-alive comments well inside
            that (sse-starlette every 15 s, Anthropic pings), so two minutes of nothing is a
            stalled stream.
    """

    connect: float | None = 10.0
    first_byte: float | None = 300.0
    idle: float | None = 120.0


def describe_http_error(exc: BaseException, secrets: Iterable[str | None] = ()) -> str:
    """Describe an exception in one readable line, naming the host of an httpx error.

    What the engine's streams and ``%chat models`` report; anything that is not an httpx error
    is described as :func:`nbstream._core.stream.describe_error` does.

    Args:
        exc: The exception that ended a stream.
        secrets: Keys to mask in addition to the registered ones.

    Returns:
        One line, e.g. ``"could not connect to 127.0.0.1:9 (All connection attempts failed)"``.
    """
    if not isinstance(exc, httpx.HTTPError):
        return describe_error(exc, secrets)
    where = ""
    # httpx raises RuntimeError when no request is attached to the exception.
    with suppress(RuntimeError):
        where = f" {host_of(str(exc.request.url))}"
    template = next(
        (text for kind, text in _TRANSPORT_ERRORS if isinstance(exc, kind)),
        "{name} from{where}: {detail}",
    )
    detail = str(exc) or type(exc).__name__
    text = template.format(where=where, detail=detail, name=type(exc).__name__)
    return redact(" ".join(text.split()), secrets)


def _content_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";")[0].strip().lower()


@public
class EventSource:
    """An open streamed response (the value of :func:`aconnect_sse`).

    Iterate it once, with :meth:`aiter_events` (framing chosen by content type) or
    :meth:`aiter_sse` (strict SSE).

    Attributes:
        mode: ``"sse"``, ``"ndjson"`` or ``"json"``, from the content type; a
            ``text/event-stream`` body that turns out to be bare JSON switches to ``"ndjson"``,
            and a body of any other type that starts as SSE does (``data:``, ``event:``,
            ``id:`` or ``:``) switches to ``"sse"``, when :meth:`aiter_events` sees its first
            bytes. ``None`` for another content type.
        ended_mid_event: After iteration: the body ended inside an event (truncated).
        note: Set once :meth:`aiter_events` had to repair an SSE body's framing (events without
            blank lines between them, or an SSE body under another content type): one line for
            the reply's notes; else ``None``.
        bytes_read: How many bytes of the body arrived so far.
        head: The body's first bytes (up to 64), to say what arrived when it was unreadable.
    """

    def __init__(
        self,
        response: httpx.Response,
        *,
        timeouts: Timeouts,
        first_byte_deadline: float | None,
        max_event_size: int,
        on_bytes: OnBytes | None,
        secrets: Iterable[str | None],
    ) -> None:
        self._response = response
        self._timeouts = timeouts
        self._deadline = first_byte_deadline  # loop time by which the first byte must come
        self._max = max_event_size
        self._on_bytes = on_bytes
        self._secrets = list(secrets)
        self._gens: list[AsyncGenerator[Any, None]] = []
        ctype = _content_type(response)
        self.content_type = ctype
        self.mode: EventMode | None = (
            "sse"
            if ctype == "text/event-stream"
            else "ndjson"
            if ctype in _NDJSON_TYPES
            else "json"
            if ctype == "application/json"
            else None
        )
        self.ended_mid_event = False
        self.bytes_read = 0
        self.head = b""
        self._framing: RecoveringSSEDecoder | None = None
        self._relabelled: str | None = None  # set when an SSE body came under another type

    @property
    def note(self) -> str | None:
        """One line when the SSE framing was repaired (see :attr:`mode`), else ``None``."""
        notes = [self._relabelled, None if self._framing is None else self._framing.note]
        return "; ".join(n for n in notes if n is not None) or None

    @property
    def response(self) -> httpx.Response:
        """The :class:`httpx.Response` (status and headers; the body is streamed)."""
        return self._response

    def _track(self, gen: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
        self._gens.append(gen)
        return gen

    def _unsupported(self) -> UnsupportedContentTypeError:
        shown = self.content_type or "no content type"
        where = host_of(str(self._response.request.url))
        return UnsupportedContentTypeError(
            redact(
                f"{where} answered with {shown!s}, not a stream nbstream can read "
                "(text/event-stream, application/x-ndjson or application/json)",
                self._secrets,
            ),
            content_type=self.content_type,
        )

    def aiter_sse(self) -> AsyncIterator[ServerSentEvent]:
        """Iterate the body as strict Server-Sent Events.

        Returns:
            An async iterator of events.

        Raises:
            UnsupportedContentTypeError: The content type is not ``text/event-stream``.
            StreamTimeoutError: No first byte, or no data for ``Timeouts.idle`` seconds.
            EventTooLargeError: An event grew past the maximum size.
        """
        if self.content_type != "text/event-stream":
            raise self._unsupported()
        return self._track(self._decode(SSEDecoder(self._max), self._chunks()))

    def aiter_events(self) -> AsyncIterator[ServerSentEvent]:
        """Iterate the body as items, with the framing chosen by content type (see :attr:`mode`).

        SSE is read by the spec-exact decoder; a body whose events have no blank line between
        them (``data:{…}data:{…}``, or one newline after each) is repaired above it, and
        :attr:`note` says so (:class:`~nbstream._sse.recovery.RecoveringSSEDecoder`). So is a
        body that starts as SSE under another content type: it is read as SSE.

        Returns:
            An async iterator of :class:`~nbstream.ServerSentEvent`; for NDJSON and JSON each
            item's ``data`` is one JSON text.

        Raises:
            UnsupportedContentTypeError: Neither SSE, NDJSON nor JSON (raised when iterating:
                the body's first bytes are read to tell whether it is SSE after all).
            StreamTimeoutError: No first byte, or no data for ``Timeouts.idle`` seconds.
            EventTooLargeError: An event grew past the maximum size.
        """
        return self._track(self._sniffed())

    async def _decode(
        self,
        decoder: SSEDecoder | NDJSONDecoder | RecoveringSSEDecoder,
        chunks: AsyncGenerator[bytes, None],
    ) -> AsyncGenerator[ServerSentEvent, None]:
        async for chunk in chunks:
            for event in decoder.decode(chunk):
                yield event
        for event in decoder.flush():
            yield event
        self.ended_mid_event = decoder.ended_mid_event

    async def _sniffed(self) -> AsyncGenerator[ServerSentEvent, None]:
        # The content type says the framing, and the first bytes after a BOM and whitespace
        # correct it both ways:
        # - a server yielding json.dumps(obj) under text/event-stream writes bare JSON: if the
        #   first byte opens a JSON object or array, frame it as NDJSON (in SSE such a line
        #   would be a field with an unknown name, ignored anyway);
        # - an SSE body under another type is SSE: Foundry Local sends its streams as
        #   application/json (microsoft/foundry-dev-tools#195), some proxies as text/plain or
        #   application/octet-stream. A body starting with an SSE field or comment is no JSON,
        #   NDJSON or plain text anybody sends, so nothing readable is misread this way.
        chunks = self._chunks()
        sse = self.mode == "sse"
        seen = await _before(chunks, bool if sse else _decided)
        head = _strip_blank(b"".join(seen))
        decoder: RecoveringSSEDecoder | NDJSONDecoder
        if sse and head[:1] in (b"{", b"["):
            self.mode = "ndjson"
            decoder = NDJSONDecoder(self._max)
        elif sse or _starts_as_sse(head):
            if not sse:
                shown = self.content_type or "no content type"
                self._relabelled = f"read as SSE: the server labels its event stream {shown}"
                self.mode = "sse"
            decoder = self._framing = RecoveringSSEDecoder(self._max)
        elif self.mode == "json":
            async for event in self._whole(seen, chunks):
                yield event
            return
        elif self.mode == "ndjson":
            decoder = NDJSONDecoder(self._max)
        else:
            raise self._unsupported()
        for chunk in seen:
            for event in decoder.decode(chunk):
                yield event
        async for event in self._decode(decoder, chunks):
            yield event

    async def _whole(
        self, seen: list[bytes], chunks: AsyncGenerator[bytes, None]
    ) -> AsyncGenerator[ServerSentEvent, None]:
        # The server ignored the stream flag and sent one JSON document: hand it up as one item.
        parts: list[bytes] = list(seen)
        size = sum(map(len, parts))
        async for chunk in chunks:
            parts.append(chunk)
            size += len(chunk)
            if size > self._max:
                break
        if size > self._max:
            raise EventTooLargeError(
                f"a JSON response grew past {self._max:,} bytes; raise max_event_size "
                "if the server really sends responses that large",
                limit=self._max,
            )
        text = b"".join(parts).decode("utf-8", "replace").lstrip("\ufeff")
        if text.strip():
            yield ServerSentEvent(data=text, time=monotonic())

    async def _chunks(self) -> AsyncGenerator[bytes, None]:
        async for chunk in _timed(self._response, self._timeouts, self._deadline, self._secrets):
            if len(self.head) < _HEAD:
                self.head += chunk[: _HEAD - len(self.head)]
            self.bytes_read += len(chunk)
            if self._on_bytes is not None:
                self._on_bytes(chunk, monotonic())
            yield chunk

    async def aclose(self) -> None:
        """Close the iterators handed out and the response (done by :func:`aconnect_sse`)."""
        for gen in self._gens:
            await gen.aclose()
        await self._response.aclose()


_BLANK = b"\xef\xbb\xbf \t\r\n"  # the bytes of a BOM, and whitespace
# How an SSE body starts: a field the formats use, or a comment (WHATWG HTML, 9.2.6).
_SSE_STARTS = (b"data:", b"event:", b"id:", b":")


def _strip_blank(head: bytes) -> bytes:
    return head.lstrip(_BLANK)


def _starts_as_sse(head: bytes) -> bool:
    """Whether a body whose first non-blank bytes are ``head`` is SSE."""
    return head.startswith(_SSE_STARTS)


def _decided(head: bytes) -> bool:
    """Whether ``head`` is enough to tell :func:`_starts_as_sse` (not a prefix of a start)."""
    return bool(head) and not any(start.startswith(head) and start != head for start in _SSE_STARTS)


async def _before(chunks: AsyncIterator[bytes], enough: Callable[[bytes], bool]) -> list[bytes]:
    """Read chunks until the body's first non-blank bytes are ``enough`` (or it ends)."""
    seen: list[bytes] = []
    head = b""
    async for chunk in chunks:
        seen.append(chunk)
        head = _strip_blank(head + chunk)[:8]
        if enough(head):
            break
    return seen


async def _timed(
    response: httpx.Response,
    timeouts: Timeouts,
    deadline: float | None,
    secrets: Iterable[str | None],
) -> AsyncGenerator[bytes, None]:
    """Yield the body's chunks, enforcing the first-byte deadline and then the idle limit."""
    loop = asyncio.get_running_loop()
    where = host_of(str(response.request.url))
    body = cast(AsyncGenerator[bytes, None], response.aiter_bytes())  # httpx: an async generator
    watch = _Watchdog(loop, deadline)
    first = True
    try:
        while True:
            # Each read is timed on its own, never across a yield: the consumer's own time
            # between chunks must not count as the server's silence.
            watch.reading()
            try:
                chunk = await anext(body)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                if watch.expired():
                    raise timeout_error(where, timeouts, first, secrets) from None
                raise
            finally:
                watch.idle = True
            if chunk:
                first = False
                yield chunk
                watch.deadline = None if timeouts.idle is None else loop.time() + timeouts.idle
    finally:
        watch.close()
        await body.aclose()


class _Watchdog:
    """One timer for all the reads of a body: cancels the read that outlives ``deadline``.

    ``asyncio.timeout`` around every read made and cancelled a timer per chunk (with its
    context manager's two coroutines); here a chunk only moves :attr:`deadline`, and the timer,
    when it fires early, re-arms itself at the deadline as it then stands. It fires about once
    per idle limit of a flowing stream, and cancels the reading task only while a read is
    pending and the deadline has passed; :meth:`expired` then tells that cancellation from any
    other, as ``asyncio.timeout`` does (``Task.uncancel``).
    """

    __slots__ = ("_cancelling", "_handle", "_loop", "_task", "_when", "deadline", "idle")

    def __init__(self, loop: asyncio.AbstractEventLoop, deadline: float | None) -> None:
        self._loop = loop
        self.deadline = deadline  # loop time by which the pending read must end
        self.idle = True  # no read pending: the consumer's time, never counted
        self._handle: asyncio.TimerHandle | None = None
        self._when = 0.0  # when the timer is set for
        self._task: asyncio.Task[Any] | None = None
        self._cancelling: int | None = None  # the task's cancel count when we cancelled it

    def reading(self) -> None:
        """A read starts now, in the current task."""
        self.idle = False
        self._task = asyncio.current_task()
        deadline = self.deadline
        if deadline is not None and (self._handle is None or deadline < self._when):
            self._arm(deadline)  # the first read, or the idle limit is shorter than the first

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._when = when
        self._handle = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        if self.idle or self.deadline is None or self._task is None:
            return  # re-armed by the next read
        if self._loop.time() < self.deadline:
            self._arm(self.deadline)
            return
        self._cancelling = self._task.cancelling()
        self._task.cancel()

    def expired(self) -> bool:
        """Whether the read was cancelled by this timer and by nothing else."""
        if self._cancelling is None or self._task is None:
            return False
        return self._task.uncancel() <= self._cancelling

    def close(self) -> None:
        """Cancel the timer."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def timeout_error(
    where: str, timeouts: Timeouts, first: bool, secrets: Iterable[str | None]
) -> StreamTimeoutError:
    if first:
        seconds = timeouts.first_byte or 0.0
        message = (
            f"no response from {where} within {seconds:g} s; the server may still be reading "
            "a long prompt (raise Timeouts.first_byte if that is expected)"
        )
        return StreamTimeoutError(redact(message, secrets), phase="first byte", seconds=seconds)
    seconds = timeouts.idle or 0.0
    message = (
        f"no data for {seconds:g} s from {where}: the stream stalled "
        "(raise Timeouts.idle if the server pauses that long)"
    )
    return StreamTimeoutError(redact(message, secrets), phase="idle", seconds=seconds)

"""Record and replay at httpx's transport seam: :class:`CassetteTransport`.

Everything above the transport — :func:`~nbstream.aconnect_sse`'s framing and timeouts, the SSE
decoder, the wire formats, the view, ``--wire``, the timings, Cancel — runs exactly as live: a
replayed response is an ``httpx.Response`` whose body stream yields the recorded chunks at their
recorded times (divided by the speed). Recording tees the real body as it passes, with each
chunk's arrival time, and writes the cassette when the response is closed, however it ended:
finished, failed mid-stream (the httpx error is kept and raised again on replay), or abandoned
by the client (a stall that timed out, a Cancel: replayed as the same silence).

The cassette format, its matching and what it never keeps are in
:mod:`nbstream._core.cassette`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import TypeAlias

import httpx

from .._core.cassette import (
    MAX_CASSETTE_BYTES,
    Cassette,
    CassetteSettings,
    Chunk,
    Ending,
    RecordedRequest,
    credentials_in,
    find,
    name_for,
    paced,
    read,
    record,
    recorded_request,
    request_key,
    write,
)
from .._core.errors import CassetteError

__all__ = ["CassetteTransport"]

# The httpx errors a body can end with, by the name a cassette records; another name replays as
# a ReadError (the connection broke while reading), the closest general meaning.
_ERRORS: dict[str, type[httpx.TransportError]] = {
    cls.__name__: cls
    for cls in (
        httpx.RemoteProtocolError,
        httpx.LocalProtocolError,
        httpx.ProtocolError,
        httpx.ReadError,
        httpx.WriteError,
        httpx.CloseError,
        httpx.NetworkError,
        httpx.ReadTimeout,
    )
}
_Save: TypeAlias = Callable[[list[Chunk], Ending, bool], None]


class CassetteTransport(httpx.AsyncBaseTransport):
    """An httpx transport that answers from cassettes, or records the real exchange.

    Args:
        settings: Mode (``record``, ``replay``, ``auto``), folder, replay speed, name prefix.
        network: The real transport, for ``record`` and for ``auto`` without a cassette;
            closed with this one.
        secrets: Keys in play, removed from the cassette wherever they appear (the request's
            own credentials and the registered keys are removed anyway).

    Attributes:
        events: One line per exchange: ``"replayed DIR/NAME.json"``, ``"recorded …"``, or why
            an exchange was not recorded.
        saved: The cassettes written.
    """

    def __init__(
        self,
        settings: CassetteSettings,
        network: httpx.AsyncBaseTransport | None = None,
        *,
        secrets: Iterable[str | None] = (),
    ) -> None:
        self.settings = settings
        self._network = network
        self._secrets = [s for s in secrets if s]
        self.events: list[str] = []
        self.saved: list[Path] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` from its cassette, or send it and record the exchange.

        Raises:
            CassetteError: ``replay`` and no cassette for the request (the message names the file
                it looked for), or a cassette that is too large or damaged.
        """
        content = await request.aread()
        headers = request.headers.multi_items()
        recorded = recorded_request(
            request.method, str(request.url), headers, content, self._secrets
        )
        key = request_key(request.method, str(request.url), headers, content)
        mode = self.settings.mode
        if mode in ("replay", "auto"):
            path = find(self.settings.directory, key)
            if path is not None:
                cassette = read(path)
                self.events.append(f"replayed {path}")
                return await self._replay(cassette, request)
            if mode == "replay":
                wanted = Path(self.settings.directory) / name_for(
                    recorded, key, self.settings.prefix
                )
                raise CassetteError(
                    f"no cassette for this request: looked for {wanted} (any *-{key}.json); "
                    "record it with %chat replay auto, --record or NBSTREAM_RECORD"
                )
        if self._network is None:
            raise CassetteError("cannot record: no network transport was given")
        secrets = [*self._secrets, *credentials_in(headers, str(request.url))]
        return await self._record(request, recorded, key, secrets)

    async def _replay(self, cassette: Cassette, request: httpx.Request) -> httpx.Response:
        loop = asyncio.get_running_loop()
        started = loop.time()
        speed = self.settings.speed
        # The wait for the headers is the server's time to answer: part of time to first token.
        await asyncio.sleep(cassette.head_at / speed)
        return httpx.Response(
            cassette.status,
            headers=list(cassette.headers.items()),
            stream=_Replay(cassette, speed, started, request),
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": cassette.reason.encode("ascii", "replace"),
            },
        )

    async def _record(
        self, request: httpx.Request, recorded: RecordedRequest, key: str, secrets: list[str]
    ) -> httpx.Response:
        assert self._network is not None
        started = time.monotonic()
        response = await self._network.handle_async_request(request)
        head_at = time.monotonic() - started
        assert isinstance(response.stream, httpx.AsyncByteStream)
        reason = response.extensions.get("reason_phrase", b"")

        def save(chunks: list[Chunk], end: Ending, too_large: bool) -> None:
            if too_large:
                limit = MAX_CASSETTE_BYTES // 2**20
                self.events.append(f"not recorded: the body grew past the {limit} MB limit")
                return
            try:
                cassette = record(
                    recorded,
                    status=response.status_code,
                    reason=reason.decode("ascii", "replace") if isinstance(reason, bytes) else "",
                    headers=response.headers.multi_items(),
                    head_at=head_at,
                    chunks=chunks,
                    end=end,
                    secrets=secrets,
                    key=key,
                )
                path = write(self.settings.directory, cassette, self.settings.prefix)
            except CassetteError as exc:
                self.events.append(str(exc))
                return
            self.saved.append(path)
            self.events.append(f"recorded {path}")

        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Recording(response.stream, started, save),
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close the network transport, if any."""
        if self._network is not None:
            await self._network.aclose()


class _Replay(httpx.AsyncByteStream):
    """A recorded body, played at its pace; ends as the recording did."""

    def __init__(
        self, cassette: Cassette, speed: float, started: float, request: httpx.Request
    ) -> None:
        self._cassette = cassette
        self._speed = speed
        self._started = started
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in paced(self._cassette, self._speed, self._started):
            yield chunk
        end = self._cassette.end
        if end.how == "error":
            raise _ERRORS.get(end.error, httpx.ReadError)(end.message, request=self._request)


class _Recording(httpx.AsyncByteStream):
    """The real body, passed on unchanged, each chunk kept with its arrival time."""

    def __init__(
        self,
        inner: httpx.AsyncByteStream,
        started: float,
        save: _Save,
    ) -> None:
        self._inner = inner
        self._started = started
        self._save: _Save | None = save
        self._chunks: list[Chunk] = []
        self._size = 0
        self._end: Ending | None = None

    def _now(self) -> float:
        return time.monotonic() - self._started

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                self._size += len(chunk)
                if self._size <= MAX_CASSETTE_BYTES:
                    self._chunks.append((self._now(), chunk))
                yield chunk
        except httpx.TransportError as exc:
            self._end = Ending("error", self._now(), type(exc).__name__, str(exc))
            raise
        self._end = Ending("eof", self._now())

    async def aclose(self) -> None:
        # Called however the body ended (httpx closes the response's stream): an end not seen
        # means the client stopped reading while the server still had the body open.
        if self._save is not None:
            save, self._save = self._save, None
            end = self._end or Ending("open", self._now())
            save(self._chunks, end, self._size > MAX_CASSETTE_BYTES)
        await self._inner.aclose()

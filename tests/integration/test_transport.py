"""aconnect_sse against a real uvicorn server on 127.0.0.1 (sse-starlette / starlette)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from nbstream import HTTPStatusError, StreamTimeoutError, Timeouts, aconnect_sse
from nbstream.server._thread import ServerThread

from .transport_app import Observed, build_app


@pytest.fixture
def server() -> Iterator[tuple[ServerThread, Observed]]:
    observed = Observed()
    thread = ServerThread(build_app(observed)).start()
    try:
        yield thread, observed
    finally:
        thread.stop()


async def test_crlf_and_ping_comments(server: tuple[ServerThread, Observed]) -> None:
    srv, _ = server
    raw: list[bytes] = []
    async with (
        httpx.AsyncClient() as client,
        aconnect_sse(
            client, "GET", f"{srv.url}/few", on_bytes=lambda b, t: raw.append(b)
        ) as source,
    ):
        events = [e async for e in source.aiter_events()]
    wire = b"".join(raw)
    assert b"\r\n" in wire
    assert b": ping" in wire
    assert [(e.data, e.id) for e in events] == [("0", "0"), ("1", "1"), ("2", "2")]
    assert not source.ended_mid_event


async def test_cancel_closes_connection_at_once(server: tuple[ServerThread, Observed]) -> None:
    srv, observed = server
    got = asyncio.Event()

    async def consume() -> None:
        async with (
            httpx.AsyncClient() as client,
            aconnect_sse(client, "GET", f"{srv.url}/sse?gap=5") as source,
        ):
            async for _ in source.aiter_events():
                got.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got.wait(), 10)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(observed.disconnected.wait, 5)
    assert observed.disconnected_at is not None
    lag = observed.disconnected_at - cancelled_at
    # Measured on the server's side (the handler's CancelledError, same monotonic clock):
    # 15 runs on the shared 2-core machine (load average 4.4): median 1.2 ms, max 19 ms
    # (benchmarks/README-sse.md). The requirement is 50 ms; 250 ms leaves room for a loaded
    # CI machine while staying far below the 5 s gap after which the next event would be due.
    assert lag < 0.25, f"server saw the disconnect {lag * 1000:.0f} ms after the cancel"


async def test_cancel_while_waiting_for_headers(server: tuple[ServerThread, Observed]) -> None:
    srv, observed = server

    async def consume() -> None:
        async with (
            httpx.AsyncClient() as client,
            aconnect_sse(client, "GET", f"{srv.url}/slow-headers"),
        ):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(observed.disconnected.wait, 5)
    assert observed.disconnected_at is not None
    assert observed.disconnected_at - cancelled_at < 0.5


async def test_stall_ends_with_idle_timeout(server: tuple[ServerThread, Observed]) -> None:
    srv, _ = server
    events: list[str] = []

    async def consume() -> None:
        async with (
            httpx.AsyncClient() as client,
            aconnect_sse(client, "GET", f"{srv.url}/stall", timeouts=Timeouts(idle=0.3)) as source,
        ):
            async for event in source.aiter_events():
                events.append(event.data)

    with pytest.raises(StreamTimeoutError, match=r"no data for 0\.3 s") as info:
        await consume()
    assert events == ["1"]
    assert info.value.phase == "idle"


async def test_refused_connection_propagates_unchanged() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            async with aconnect_sse(client, "GET", f"http://127.0.0.1:{port}/"):
                pass


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (404, "HTTP 404 Not Found from 127.0.0.1:{port}: error 404"),
        (422, "HTTP 422 Unprocessable Entity from 127.0.0.1:{port}: body.model: Field required"),
        (500, "HTTP 500 Internal Server Error from 127.0.0.1:{port}: upstream exploded"),
    ],
)
async def test_error_bodies(server: tuple[ServerThread, Observed], code: int, message: str) -> None:
    srv, _ = server
    async with httpx.AsyncClient() as client:
        with pytest.raises(HTTPStatusError) as info:
            async with aconnect_sse(
                client, "POST", f"{srv.url}/error/{code}", json={"stream": True}
            ):
                pass
    assert str(info.value) == message.format(port=srv.port)
    assert info.value.status_code == code

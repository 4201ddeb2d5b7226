"""Retries before the first byte, over real loopback sockets: the backend's faults, a raw server."""

from __future__ import annotations

import asyncio
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

import nbstream.server
from nbstream._core.deltas import Delta, Retry, TextDelta
from nbstream._core.errors import HTTPStatusError, RateLimitError
from nbstream._core.reply import Reply
from nbstream._engine.engine import astream
from nbstream.server import BackgroundServer


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with nbstream.server.start() as srv:
        yield srv


async def ask(base_url: str, model: str, **kwargs: object) -> tuple[list[Delta], Reply]:
    stream = astream("Say hello", base_url=base_url, model=model, **kwargs)  # type: ignore[arg-type]
    deltas: list[Delta] = []
    try:
        async for delta in stream:
            deltas.append(delta)
    except Exception:  # the reply records the failure; the tests assert on it
        pass
    return deltas, stream.reply


def requests_for(server: BackgroundServer, model: str) -> list[nbstream.server.RequestRecord]:
    return [r for r in server.log if r.requested_model == model]


async def test_a_429_waits_its_retry_after_then_is_answered(server: BackgroundServer) -> None:
    model = "echo:tps=0,ttft=0,fault=429,retry_after=1,fails=1,seed=1"
    deltas, reply = await ask(server.openai_base_url, model)
    assert (reply.status, reply.text) == ("finished", "Say hello")
    assert deltas[0] == Retry(1, 1.0, "429 Too Many Requests")
    assert isinstance(deltas[0], Retry)
    assert deltas[0].text == "retrying in 1 s: 429 Too Many Requests"
    assert reply.notes == ("retried once: 429 Too Many Requests",)
    first, second = requests_for(server, model)
    assert (first.status, second.status) == (429, 200)
    assert 1.0 <= second.started - first.started < 1.5  # Retry-After honoured, and no more
    assert reply.ttft is not None
    assert reply.ttft >= 1.0  # the wait is part of the time to the first token


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("502", "502 Bad Gateway"),
        ("503", "503 Service Unavailable"),
        ("504", "504 Gateway Timeout"),
        ("529", "529 Overloaded"),
        ("reset", "the connection closed before the answer began"),
    ],
)
async def test_each_not_now_failure_is_retried(
    server: BackgroundServer, fault: str, reason: str
) -> None:
    model = f"echo:tps=0,ttft=0,fault={fault},retry_after=0,fails=1,seed=2"
    deltas, reply = await ask(server.openai_base_url, model)
    assert (reply.status, reply.text) == ("finished", "Say hello")
    retries = [d for d in deltas if isinstance(d, Retry)]
    assert [r.reason for r in retries] == [reason]
    assert reply.notes == (f"retried once: {reason}",)
    assert len(requests_for(server, model)) == 2


async def test_at_most_twice(server: BackgroundServer) -> None:
    model = "echo:tps=0,ttft=0,fault=503,retry_after=0,seed=3"
    deltas, reply = await ask(server.openai_base_url, model)
    assert reply.status == "failed"
    assert reply.error is not None
    assert reply.error.startswith("HTTP 503 Service Unavailable")
    assert reply.notes == ("retried twice: 503 Service Unavailable",)
    assert [d.attempt for d in deltas if isinstance(d, Retry)] == [1, 2]
    assert len(requests_for(server, model)) == 3
    assert isinstance(reply.exception, HTTPStatusError)


async def test_a_retry_after_beyond_20_s_fails_at_once(server: BackgroundServer) -> None:
    model = "echo:tps=0,ttft=0,fault=429,retry_after=30,seed=4"
    started = time.monotonic()
    deltas, reply = await ask(server.openai_base_url, model)
    assert time.monotonic() - started < 1.0
    assert not [d for d in deltas if isinstance(d, Retry)]
    assert reply.status == "failed"
    assert isinstance(reply.exception, RateLimitError)
    assert reply.error is not None
    assert reply.error.endswith("(retry after 30 s)")
    assert len(requests_for(server, model)) == 1


async def test_nothing_is_retried_after_the_first_byte(server: BackgroundServer) -> None:
    model = "lorem:n=20,tps=0,ttft=0,fault=disconnect,after=3,seed=5"
    deltas, reply = await ask(server.openai_base_url, model)
    assert reply.status == "failed"
    assert reply.text  # the words before the hang-up stay, and are not repeated
    assert not [d for d in deltas if isinstance(d, Retry)]
    assert reply.notes == ()
    assert len(requests_for(server, model)) == 1


async def test_retries_0_turns_it_off(server: BackgroundServer) -> None:
    model = "echo:tps=0,ttft=0,fault=503,retry_after=0,fails=1,seed=6"
    _, reply = await ask(server.openai_base_url, model, retries=0)
    assert reply.status == "failed"
    assert len(requests_for(server, model)) == 1


async def test_cancelling_during_the_wait_ends_the_stream_at_once(server: BackgroundServer) -> None:
    model = "echo:tps=0,ttft=0,fault=429,retry_after=15,seed=7"
    stream = astream("x", base_url=server.openai_base_url, model=model)
    waiting = asyncio.Event()

    async def consume() -> None:
        async for delta in stream:
            if isinstance(delta, Retry):
                waiting.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(waiting.wait(), 10)
    cancelled = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    print(
        f"cancelled during the retry wait: stream ended in {(time.monotonic() - cancelled) * 1000:.1f} ms"
    )
    assert time.monotonic() - cancelled < 0.2
    assert stream.reply.status == "cancelled"
    await asyncio.sleep(0.3)
    assert len(requests_for(server, model)) == 1  # and it is never sent again


class _Flaky(socketserver.ThreadingTCPServer):
    """A raw HTTP/1.1 server whose first connection ends without a response (closed or reset)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, how: str) -> None:
        super().__init__(("127.0.0.1", 0), _FlakyHandler)
        self.how = how
        self.connections = 0
        self.lock = threading.Lock()


class _FlakyHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        assert isinstance(server, _Flaky)
        sock: socket.socket = self.request
        _read_request(sock)
        with server.lock:
            server.connections += 1
            first = server.connections == 1
        if first:
            if server.how == "reset":  # SO_LINGER 0: close sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return
        body = (
            b'data: {"choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\n'
            b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
            b"data: [DONE]\n\n"
        )
        head = (
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        sock.sendall(head + body)


def _read_request(sock: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)


@pytest.mark.parametrize("how", ["close", "reset"])
async def test_a_server_that_hangs_up_without_answering_is_asked_again(how: str) -> None:
    flaky = _Flaky(how)
    thread = threading.Thread(target=flaky.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = flaky.server_address[:2]
        deltas, reply = await ask(f"http://{host!s}:{port}/v1", "m")
    finally:
        flaky.shutdown()
        flaky.server_close()
    assert (reply.status, reply.text) == ("finished", "Hello")
    assert [d.reason for d in deltas if isinstance(d, Retry)] == [
        "the connection closed before the answer began"
    ]
    assert flaky.connections == 2
    assert [d for d in deltas if isinstance(d, TextDelta)] == [TextDelta("Hello")]


async def test_a_given_client_is_reused_across_retries(server: BackgroundServer) -> None:
    model = "echo:tps=0,ttft=0,fault=502,fails=1,seed=8"
    async with httpx.AsyncClient() as client:
        _, reply = await ask(server.openai_base_url, model, client=client)
        assert not client.is_closed
    assert reply.status == "finished"

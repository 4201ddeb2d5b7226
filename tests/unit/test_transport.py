"""aconnect_sse over httpx.MockTransport: framing by content type, errors, timeouts, on_bytes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from nbstream import (
    HTTPStatusError,
    RateLimitError,
    ServerSentEvent,
    StreamTimeoutError,
    Timeouts,
    UnsupportedContentTypeError,
    aconnect_sse,
    aiter_sse,
)


class Body(httpx.AsyncByteStream):
    def __init__(self, *chunks: bytes, stall: float = 0.0) -> None:
        self.chunks = chunks
        self.stall = stall

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.stall:
            await asyncio.sleep(self.stall)


def client(
    status: int, ctype: str | None, *chunks: bytes, stall: float = 0.0, **headers: str
) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        h = {"content-type": ctype} if ctype else {}
        return httpx.Response(status, headers={**h, **headers}, stream=Body(*chunks, stall=stall))

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def collect(c: httpx.AsyncClient, **kw: object) -> tuple[list[str], str | None, bool]:
    async with c, aconnect_sse(c, "POST", "http://test.local/v1/chat", json={}, **kw) as source:  # type: ignore[arg-type]
        data = [e.data async for e in source.aiter_events()]
        return data, source.mode, source.ended_mid_event


@pytest.mark.parametrize(
    ("ctype", "chunks", "data", "mode"),
    [
        (
            "text/event-stream; charset=utf-8",
            [b"data: 1\n\n", b": ping\n\ndata: 2\n\n"],
            ["1", "2"],
            "sse",
        ),
        (
            "text/event-stream",
            [b"\xef\xbb\xbf  \n", b'{"a":1}{"a":', b"2}"],
            ['{"a":1}', '{"a":2}'],
            "ndjson",
        ),
        ("application/x-ndjson", [b'{"a":1}\n{"a"', b":2}\n"], ['{"a":1}', '{"a":2}'], "ndjson"),
        ("application/jsonl", [b"[1]\n"], ["[1]"], "ndjson"),
        ("application/json", [b'{"choices":', b"[]}"], ['{"choices":[]}'], "json"),
    ],
)
async def test_framing_by_content_type(
    ctype: str, chunks: list[bytes], data: list[str], mode: str
) -> None:
    assert await collect(client(200, ctype, *chunks)) == (data, mode, False)


async def test_truncated_sse_is_reported() -> None:
    assert await collect(client(200, "text/event-stream", b"data: 1\n\ndata: [DO")) == (
        ["1"],
        "sse",
        True,
    )


async def test_unsupported_content_type() -> None:
    with pytest.raises(UnsupportedContentTypeError, match="text/html") as info:
        await collect(client(200, "text/html", b"<html>"))
    assert info.value.content_type == "text/html"


# Foundry Local streams SSE as application/json (microsoft/foundry-dev-tools#195); proxies and
# home-made servers send it as text/plain, application/octet-stream or with no content type.
@pytest.mark.parametrize(
    "ctype",
    [
        "application/json",
        "text/plain; charset=utf-8",
        "application/octet-stream",
        "application/x-ndjson",
        None,
    ],
)
@pytest.mark.parametrize(
    "chunks",
    [
        [b'data: {"a":1}\n\n', b"data: [DONE]\n\n"],
        [b"\xef\xbb\xbf\r\n", b"da", b'ta: {"a":1}\n\ndata: [DONE]\n\n'],  # BOM, split field
        [b"event: message\ndata: {", b'"a":1}\n\ndata: [DONE]\n\n'],
        [b'id: 7\ndata: {"a":1}\n\ndata: [DONE]\n\n'],
        [b": keep-alive\n\n", b'data: {"a":1}\n\ndata: [DONE]\n\n'],
    ],
)
async def test_an_sse_body_under_another_content_type_is_read_as_sse(
    ctype: str | None, chunks: list[bytes]
) -> None:
    c = client(200, ctype, *chunks)
    async with c, aconnect_sse(c, "POST", "http://test.local/v1/chat", json={}) as source:
        data = [e.data async for e in source.aiter_events()]
        assert (data, source.mode) == (['{"a":1}', "[DONE]"], "sse")
        shown = "no content type" if ctype is None else ctype.split(";")[0]
        assert source.note == f"read as SSE: the server labels its event stream {shown}"


@pytest.mark.parametrize(
    ("ctype", "chunks", "data", "mode"),
    [
        # What the sniffing must leave alone: JSON is never read as SSE.
        ("application/json", [b'{"data:"', b": 1}"], ['{"data:": 1}'], "json"),
        ("application/json", [b"[", b"1]"], ["[1]"], "json"),
        ("application/x-ndjson", [b'{"id:":1}\n{"a":2}\n'], ['{"id:":1}', '{"a":2}'], "ndjson"),
        ("application/json", [b""], [], "json"),
    ],
)
async def test_json_bodies_stay_json(
    ctype: str, chunks: list[bytes], data: list[str], mode: str
) -> None:
    c = client(200, ctype, *chunks)
    async with c, aconnect_sse(c, "POST", "http://test.local/v1/chat", json={}) as source:
        assert [e.data async for e in source.aiter_events()] == data
        assert (source.mode, source.note) == (mode, None)


@pytest.mark.parametrize("chunks", [[b"<html>"], [b"dat", b"um"], [b"  "], []])
async def test_a_body_that_is_not_sse_under_another_type_is_still_unsupported(
    chunks: list[bytes],
) -> None:
    with pytest.raises(UnsupportedContentTypeError, match="text/plain"):
        await collect(client(200, "text/plain", *chunks))


async def test_strict_aiter_sse_rejects_other_types() -> None:
    c = client(200, "application/x-ndjson", b"{}\n")
    async with c, aconnect_sse(c, "GET", "http://test.local/") as source:
        with pytest.raises(UnsupportedContentTypeError):
            source.aiter_sse()


async def test_error_status_with_server_message_and_secret_masked() -> None:
    body = b'{"error": {"message": "Incorrect API key provided: sk-abc123456789xyz"}}'
    with pytest.raises(HTTPStatusError) as info:
        await collect(client(401, "application/json", body), secrets=["sk-abc123456789xyz"])
    assert (
        str(info.value)
        == "HTTP 401 Unauthorized from test.local: Incorrect API key provided: *** (check the API key)"
    )
    assert info.value.status_code == 401


async def test_rate_limit_retry_after() -> None:
    with pytest.raises(RateLimitError) as info:
        await collect(
            client(429, "application/json", b'{"error": "slow down"}', **{"retry-after": "2"})
        )
    assert info.value.retry_after == 2.0


async def test_idle_timeout() -> None:
    c = client(200, "text/event-stream", b"data: 1\n\n", stall=30)
    with pytest.raises(StreamTimeoutError, match=r"no data for 0.2 s from test.local") as info:
        await collect(c, timeouts=Timeouts(idle=0.2))
    assert info.value.phase == "idle"


class Paced(httpx.AsyncByteStream):
    """One event every ``gap`` seconds."""

    def __init__(self, count: int, gap: float) -> None:
        self.count = count
        self.gap = gap

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(self.count):
            await asyncio.sleep(self.gap)
            yield b"data: %d\n\n" % i


def paced(count: int, gap: float) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream"}
        return httpx.Response(200, headers=headers, stream=Paced(count, gap))

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_idle_limit_restarts_with_every_chunk() -> None:
    # 12 events 0.03 s apart under a 0.3 s idle limit: 0.36 s in all, never 0.3 s of silence.
    data, _, _ = await collect(paced(12, 0.03), timeouts=Timeouts(idle=0.3, first_byte=0.3))
    assert data == [str(i) for i in range(12)]


async def test_the_consumers_own_time_is_not_silence() -> None:
    c = client(200, "text/event-stream", b"data: 1\n\n", b"data: 2\n\n", b"data: 3\n\n")
    seen = []
    async with c, aconnect_sse(c, "GET", "http://test.local/", timeouts=Timeouts(idle=0.2)) as source:  # fmt: skip
        async for event in source.aiter_events():
            seen.append(event.data)
            await asyncio.sleep(0.4)  # longer than the idle limit, between reads
    assert seen == ["1", "2", "3"]


async def test_a_timeout_leaves_the_task_uncancelled_and_other_cancels_pass() -> None:
    with pytest.raises(StreamTimeoutError):
        await collect(client(200, "text/event-stream", stall=30), timeouts=Timeouts(first_byte=0.1))
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0
    await asyncio.sleep(0)  # no cancellation left pending for the caller

    async def read() -> object:
        return await collect(
            client(200, "text/event-stream", b"data: 1\n\n", stall=30),
            timeouts=Timeouts(idle=0.3),
        )

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.1)
    reader.cancel()  # a user's cancel during a read is a cancel, not a timeout
    with pytest.raises(asyncio.CancelledError):
        await reader


async def test_first_byte_timeout() -> None:
    c = client(200, "text/event-stream", stall=30)
    with pytest.raises(
        StreamTimeoutError, match=r"no response from test\.local within 0\.2 s"
    ) as info:
        await collect(c, timeouts=Timeouts(first_byte=0.2))
    assert info.value.phase == "first byte"


async def test_on_bytes_sees_every_chunk() -> None:
    seen: list[tuple[bytes, float]] = []
    await collect(
        client(200, "text/event-stream", b"data: a\n", b"\n"),
        on_bytes=lambda b, t: seen.append((b, t)),
    )
    assert [b for b, _ in seen] == [b"data: a\n", b"\n"]
    assert all(t > 0 for _, t in seen)


async def test_request_headers() -> None:
    got: dict[str, str] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        got.update(request.headers)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=b"")

    c = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with c, aconnect_sse(c, "POST", "http://t/", headers={"X-Key": "1"}) as source:
        assert [e async for e in source.aiter_sse()] == []
    assert got["accept"].startswith("text/event-stream")
    assert got["x-key"] == "1"


async def test_aiter_sse_over_any_source() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: a\r"
        yield b"\n\r\ndata: b\n\n"

    assert [e async for e in aiter_sse(chunks())] == [
        ServerSentEvent(data="a"),
        ServerSentEvent(data="b"),
    ]


async def test_connect_timeout_keeps_httpx_cause() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    c = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    with pytest.raises(
        StreamTimeoutError, match=r"could not connect to test\.local within 10 s"
    ) as info:
        await collect(c)
    assert info.value.phase == "connect"
    assert isinstance(info.value.__cause__, httpx.ConnectTimeout)

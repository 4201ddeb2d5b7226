"""The engine against the embedded backend over real loopback sockets: every API, every fault."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

import nbstream._engine.engine as engine
import nbstream.server
from nbstream._core.deltas import TextDelta
from nbstream._core.errors import AuthenticationError, StreamError
from nbstream._core.reply import Reply
from nbstream._engine.engine import astream
from nbstream.server import BackgroundServer

KEY = "sk-integration-0123456789abcdef"


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with nbstream.server.start() as srv:
        yield srv


async def ask(prompt: str = "Say hello", **kwargs: object) -> Reply:
    stream = astream(prompt, **kwargs)  # type: ignore[arg-type]
    try:
        async for _ in stream:
            pass
    except Exception:  # the reply records the failure; the tests assert on it
        pass
    return stream.reply


@pytest.mark.parametrize(
    ("api", "suffix"),
    [
        ("openai-chat", "/v1"),
        ("openai-responses", "/v1"),
        ("anthropic", ""),
        ("ollama", ""),
    ],
)
async def test_every_api_streams_the_echo(server: BackgroundServer, api: str, suffix: str) -> None:
    reply = await ask(base_url=server.url + suffix, api=api, model="echo:tps=0", api_key=KEY)
    assert reply.status == "finished", reply.error
    assert reply.format == api
    assert reply.text == "Say hello"
    assert reply.streamed
    assert reply.usage is not None
    assert server.log[-1].headers.get("x-api-key" if api == "anthropic" else "authorization")


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("/seed/echo", "json"),
        ("/seed/plain", "text"),
        ("/seed/sider", "json"),
        ("/seed/cumulative", "json"),
    ],
)
async def test_home_made_servers(server: BackgroundServer, path: str, fmt: str) -> None:
    reply = await ask(
        base_url=server.url + path, api="custom", model="echo:tps=0",
        body='{"query": "{prompt}", "model": "{model}", "stream": true}',
    )  # fmt: skip
    assert reply.status == "finished", reply.error
    assert reply.format == fmt
    assert reply.text == "Say hello"


async def test_no_stream_asked_gives_one_json_body(server: BackgroundServer) -> None:
    reply = await ask(base_url=server.openai_base_url, model="echo", stream=False)
    assert reply.status == "finished"
    assert reply.streamed is False
    assert reply.text == "Say hello"


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        ("error-chunk", "failed"),
        ("malformed", "failed"),
        # llama.cpp-style servers that never send [DONE]: the finish_reason is terminal too.
        ("no-done", "finished"),
        ("disconnect", "failed"),
        ("empty", "failed"),
    ],
)
async def test_faults_end_with_the_right_status(
    server: BackgroundServer, fault: str, status: str
) -> None:
    reply = await ask(base_url=server.openai_base_url, model=f"lorem:n=20,tps=0,after=3,{fault}")
    assert reply.status == status, reply.error
    if fault != "empty":
        assert reply.text  # the partial answer is kept


@pytest.mark.parametrize(("api", "suffix"), [("anthropic", ""), ("ollama", "")])
async def test_missing_terminal_marker_is_truncated(
    server: BackgroundServer, api: str, suffix: str
) -> None:
    reply = await ask(base_url=server.url + suffix, api=api, model="lorem:n=20,tps=0,no-done")
    assert reply.status == "truncated", reply.error
    assert reply.text


async def test_anthropic_error_event_is_never_complete(server: BackgroundServer) -> None:
    reply = await ask(base_url=server.url, api="anthropic", model="lorem:n=20,tps=0,error-event")
    assert reply.status == "failed"
    assert reply.text


async def test_empty_200_says_why(server: BackgroundServer) -> None:
    stream = astream("x", base_url=server.openai_base_url, model="echo:empty")
    with pytest.raises(StreamError, match="no events"):
        async for _ in stream:
            pass


async def test_a_401_echoing_the_key_never_shows_it(server: BackgroundServer) -> None:
    stream = astream("x", base_url=server.openai_base_url, model="echo:401", api_key=KEY)
    with pytest.raises(AuthenticationError) as info:
        async for _ in stream:
            pass
    assert KEY not in str(info.value)
    assert KEY not in (stream.reply.error or "")
    assert stream.reply.status == "failed"


@pytest.mark.parametrize("fault", ["stream-options-400", "stream-options-422"])
async def test_stream_options_rejected_then_retried(server: BackgroundServer, fault: str) -> None:
    engine._NO_STREAM_OPTIONS.discard(server.openai_base_url + "/chat/completions")
    before = len(server.log)
    reply = await ask(base_url=server.openai_base_url, model=f"echo:tps=0,{fault}")
    assert reply.status == "finished", reply.error
    assert len(server.log) - before == 2
    # The fault rejects only bodies with stream_options: the second answer proves it was dropped.
    assert server.log[-1].status == 200
    engine._NO_STREAM_OPTIONS.discard(server.openai_base_url + "/chat/completions")


async def test_cancel_disconnects_within_50ms(server: BackgroundServer) -> None:
    stream = astream("x", base_url=server.openai_base_url, model="lorem:n=2000,tps=50")

    async def consume() -> None:
        async for delta in stream:
            if isinstance(delta, TextDelta):
                got_text.set()

    got_text = asyncio.Event()
    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_text.wait(), 10)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    latest = server.log[-1].id
    record = await asyncio.to_thread(
        server.wait_for, lambda r: r.id == latest and r.disconnected_at is not None, 5.0
    )
    assert record.disconnected_at is not None
    lag = record.disconnected_at - cancelled_at
    print(f"server saw the disconnect {lag * 1000:.1f} ms after the cancel")
    assert lag < 0.05, f"the server saw the disconnect {lag * 1000:.0f} ms after the cancel"
    assert stream.reply.status == "cancelled"
    assert stream.reply.text


async def test_stopping_early_with_a_given_client_releases_the_connection(
    server: BackgroundServer,
) -> None:
    async with httpx.AsyncClient() as client:
        stream = astream(
            "x", base_url=server.openai_base_url, model="lorem:n=2000,tps=50", client=client
        )
        async with stream:
            async for delta in stream:
                if isinstance(delta, TextDelta):
                    break
        stopped = time.monotonic()
        latest = server.log[-1].id
        record = await asyncio.to_thread(
            server.wait_for, lambda r: r.id == latest and r.disconnected_at is not None, 5.0
        )
        assert not client.is_closed
    assert record.disconnected_at is not None
    assert record.disconnected_at - stopped < 0.05
    assert stream.reply.status == "cancelled"

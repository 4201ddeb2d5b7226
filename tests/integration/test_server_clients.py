"""Real clients that nobody here wrote (openai, httpx-sse) stream from the backend as from the real service."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import openai
import pytest

import nbstream.server
from nbstream.server import BackgroundServer

FAST = "tps=0,ttft=0"


def test_openai_client_streams_chat_completions_with_usage(backend: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=backend.openai_base_url, api_key="sk-local")
    stream = client.chat.completions.create(
        model=f"echo:{FAST}",
        messages=[{"role": "user", "content": "streamed by the openai client"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "streamed by the openai client"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5
    client.close()


def test_openai_client_non_streamed(backend: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=backend.openai_base_url, api_key="sk-local")
    reply = client.chat.completions.create(
        model=f"echo:{FAST}", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "hi"
    assert [m.id for m in client.models.list()] == ["demo", "echo", "hostile", "lorem"]
    client.close()


def test_openai_client_streams_responses(backend: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=backend.openai_base_url, api_key="sk-local")
    with client.responses.stream(model=f"echo:{FAST}", input="a responses stream") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "a responses stream"
    assert final.output_text == "a responses stream"
    assert final.usage is not None
    assert final.usage.output_tokens == 3
    client.close()


async def test_async_openai_client_sees_in_band_error(backend: BackgroundServer) -> None:
    client = openai.AsyncOpenAI(base_url=backend.openai_base_url, api_key="sk-local")
    stream = await client.chat.completions.create(
        model=f"lorem:{FAST},fault=error-event,after=2",
        messages=[{"role": "user", "content": "x"}],
        stream=True,
    )
    with pytest.raises(openai.APIError, match="failed mid-stream"):
        async for _ in stream:
            pass
    await client.close()


def test_openai_client_maps_status_faults(backend: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=backend.openai_base_url, api_key="sk-local", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(
            model="demo:401", messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(
            model="demo:429", messages=[{"role": "user", "content": "x"}]
        )
    client.close()


def test_start_is_fast_and_stop_frees_the_server() -> None:
    began = time.monotonic()
    server = nbstream.server.start()
    took = time.monotonic() - began
    try:
        assert httpx.get(server.url + "/health").status_code == 200
    finally:
        server.stop()
    # Measured about 0.05 s; the issue asks for "well under a second" (a loaded CI box gets slack).
    assert took < 1.0
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/health")


def test_shared_is_one_server() -> None:
    first = nbstream.server.shared()
    assert nbstream.server.shared() is first
    assert first.running
    assert first.url.startswith("http://127.0.0.1:")


async def test_client_disconnect_is_logged_and_generation_stops(backend: BackgroundServer) -> None:
    body = {
        "model": "lorem:n=100000,tps=200,ttft=0",
        "messages": [{"role": "user", "content": "x"}],
        "stream": True,
    }
    async with httpx.AsyncClient() as client:
        async with client.stream("POST", backend.url + "/v1/chat/completions", json=body) as r:
            seen = 0
            async for line in r.aiter_lines():
                seen += line.startswith("data: ")
                if seen == 10:
                    break
        left_at = time.monotonic()
    record = await asyncio.to_thread(
        backend.wait_for,
        lambda r: r.requested_model == body["model"] and r.disconnected_at is not None,
        10,
    )
    assert record.outcome == "disconnected"
    assert record.disconnected_at is not None
    # Noticed within a generous 2 s of the client leaving (measured: a few ms).
    assert record.disconnected_at - left_at < 2.0
    sent = record.tokens_sent
    await asyncio.sleep(0.2)
    assert record.tokens_sent == sent  # stopped generating
    assert sent < 1000


async def test_twenty_concurrent_streams(backend: BackgroundServer) -> None:
    async def one(i: int, client: httpx.AsyncClient) -> str:
        body = {
            "model": "echo:tps=100,ttft=0",
            "messages": [{"role": "user", "content": f"stream number {i} of twenty"}],
        }
        r = await client.post("/api/chat", json=body)
        return "".join(json.loads(line)["message"]["content"] for line in r.text.splitlines())

    first = len(backend.log)
    async with httpx.AsyncClient(
        base_url=backend.url, limits=httpx.Limits(max_connections=20)
    ) as client:
        texts = await asyncio.gather(*(one(i, client) for i in range(20)))
    assert texts == [f"stream number {i} of twenty" for i in range(20)]
    records = [r for r in backend.log.snapshot()[first:] if r.path == "/api/chat"]
    assert len(records) == 20
    assert all(r.outcome == "finished" for r in records)
    # They ran side by side: the last one started before the first one finished.
    assert max(r.started for r in records) < min(r.finished_at or 0 for r in records)

"""Gemini's native API end to end: nbstream.astream(api="gemini") against the embedded backend's
Gemini endpoints, over real loopback sockets."""

from __future__ import annotations

import httpx

import nbstream
from nbstream import Reply
from nbstream.server import BackgroundServer

KEY = "AIzaSy-integration-0123456789abcdef"


async def ask(prompt: str = "Say hello", **kwargs: object) -> Reply:
    stream = nbstream.astream(prompt, api="gemini", **kwargs)  # type: ignore[arg-type]
    try:
        async for _ in stream:
            pass
    except nbstream.NbstreamError:  # the reply records the failure; the tests assert on it
        pass
    return stream.reply


async def test_a_stream_end_to_end(backend: BackgroundServer) -> None:
    reply = await ask(
        base_url=backend.url + "/v1beta", model="echo:tps=0", api_key=KEY, system="Be brief"
    )
    assert reply.status == "finished", reply.error
    assert reply.format == "gemini"
    assert reply.streamed
    assert reply.text == "Say hello"
    assert reply.finish_reason == "STOP"
    assert reply.model == "echo:tps=0"
    assert reply.usage is not None
    assert reply.usage.output_tokens == backend.log[-1].tokens_sent
    record = backend.log[-1]
    assert record.path == "/v1beta/models/echo:tps=0:streamGenerateContent"
    assert record.model == "echo"
    assert record.headers["x-goog-api-key"] == KEY
    assert "authorization" not in record.headers


async def test_a_whole_answer_through_generate_content(backend: BackgroundServer) -> None:
    reply = await ask(base_url=backend.url + "/v1beta", model="echo:tps=0", stream=False)
    assert reply.status == "finished", reply.error
    assert reply.format == "gemini"
    assert not reply.streamed
    assert reply.text == "Say hello"
    assert backend.log[-1].path == "/v1beta/models/echo:tps=0:generateContent"


async def test_the_embedded_backends_v1_base_serves_gemini_too(backend: BackgroundServer) -> None:
    # What %%chat --api gemini uses when no server is configured: the backend's /v1 base.
    reply = await ask(base_url=backend.openai_base_url, model="lorem:n=12,tps=0")
    assert reply.status == "finished", reply.error
    assert len(reply.text.split()) == 12


async def test_a_stream_cut_before_its_finish_reason_is_truncated(
    backend: BackgroundServer,
) -> None:
    reply = await ask(base_url=backend.url + "/v1beta", model="lorem:n=8,tps=0,no-done")
    assert reply.status == "truncated"
    assert len(reply.text.split()) == 8


async def test_an_error_mid_stream_keeps_the_text(backend: BackgroundServer) -> None:
    reply = await ask(
        base_url=backend.url + "/v1beta", model="lorem:n=20,tps=0,error-chunk,after=3"
    )
    assert reply.status == "failed"
    assert reply.error is not None
    assert "failed mid-stream" in reply.error
    assert len(reply.text.split()) == 3


async def test_an_error_status_names_googles_message_and_never_the_key(
    backend: BackgroundServer,
) -> None:
    reply = await ask(base_url=backend.url + "/v1beta", model="demo:401", api_key=KEY)
    assert reply.status == "failed"
    assert reply.error is not None
    assert "401" in reply.error
    assert "Incorrect API key" in reply.error
    assert KEY not in reply.error  # the backend echoes it, as some proxies do


def test_the_backend_answers_in_googles_error_shape(backend: BackgroundServer) -> None:
    url = backend.url + "/v1beta/models/demo:429:streamGenerateContent?alt=sse"
    r = httpx.post(url, json={"contents": [{"role": "user", "parts": [{"text": "x"}]}]})
    assert r.status_code == 429
    assert r.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert r.json()["error"]["code"] == 429

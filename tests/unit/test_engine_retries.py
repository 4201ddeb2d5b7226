"""Retries before the first byte, over httpx.MockTransport: what is retried, how long it waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from email.utils import formatdate

import httpx
import pytest

from nbstream import ConfigError, HTTPStatusError, Metadata, RateLimitError, Retry
from nbstream._engine.engine import _retry, astream
from nbstream._http.errors import status_error

from .test_engine import SSE, Recorder, drain, recorded

URL = "http://retry.test/v1"
TEXT = "Say hello mendatanguser\nSay hello mendatang"


def status(code: int, retry_after: str | None = None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    return httpx.Response(code, headers=headers, json={"error": {"message": "not now"}})


def reset(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")


class CutBody(httpx.AsyncByteStream):
    """A 200 body that breaks after its first bytes, as a connection reset mid-answer does."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'data: {"choices":[{"delta":{"content":"Hel'
        raise httpx.ReadError("Connection reset by peer")


@pytest.mark.parametrize("code", [429, 502, 503, 504, 529])
async def test_not_now_statuses_are_retried_then_answered(code: int) -> None:
    rec = Recorder(status(code, "0"), recorded("llamacpp_openai_chat.sse"))
    async with rec.client() as client:
        deltas, reply = await drain(base_url=URL, client=client)
    assert len(rec.requests) == 2
    retry = deltas[0]
    assert isinstance(retry, Retry)
    assert (retry.attempt, retry.wait) == (1, 0.0)
    assert retry.reason.startswith(f"{code} ")
    assert isinstance(deltas[1], Metadata)
    assert (reply.status, reply.text) == ("finished", TEXT)
    assert reply.notes == (f"retried once: {retry.reason}",)


async def test_a_connection_closed_before_the_answer_is_retried() -> None:
    rec = Recorder(reset, recorded("llamacpp_openai_chat.sse"))
    async with rec.client() as client:
        deltas, reply = await drain(base_url=URL, client=client)
    assert len(rec.requests) == 2
    assert reply.status == "finished"
    assert reply.notes == ("retried once: the connection closed before the answer began",)
    retry = deltas[0]
    assert isinstance(retry, Retry)
    assert 0.375 <= retry.wait <= 0.5  # the first backoff, with up to a quarter of jitter


async def test_nothing_is_retried_after_the_first_byte() -> None:
    rec = Recorder(
        httpx.Response(200, headers=SSE, stream=CutBody()), recorded("llamacpp_openai_chat.sse")
    )
    async with rec.client() as client:
        with pytest.raises(httpx.ReadError):
            await drain(base_url=URL, client=client)
    assert len(rec.requests) == 1


async def test_at_most_twice_then_the_error() -> None:
    rec = Recorder(status(503, "0"), status(503, "0"), status(503, "0"))
    async with rec.client() as client:
        stream = astream("x", base_url=URL, client=client)
        with pytest.raises(HTTPStatusError) as info:
            async for _ in stream:
                pass
    assert info.value.status_code == 503
    assert len(rec.requests) == 3
    reply = stream.reply
    assert reply.status == "failed"
    assert reply.notes == ("retried twice: 503 Service Unavailable",)


@pytest.mark.parametrize("retries", [0, 1])
async def test_retries_sets_how_many(retries: int) -> None:
    rec = Recorder(status(429, "0"), status(429, "0"), status(429, "0"))
    async with rec.client() as client:
        with pytest.raises(RateLimitError):
            await drain(base_url=URL, client=client, retries=retries)
    assert len(rec.requests) == retries + 1


@pytest.mark.parametrize("code", [400, 401, 404, 500])
async def test_other_statuses_are_not_retried(code: int) -> None:
    rec = Recorder(status(code, "0"), recorded("llamacpp_openai_chat.sse"))
    async with rec.client() as client:
        with pytest.raises(HTTPStatusError):
            await drain(base_url=URL, client=client)
    assert len(rec.requests) == 1


async def test_a_retry_after_beyond_the_budget_fails_at_once() -> None:
    rec = Recorder(status(429, "25"), recorded("llamacpp_openai_chat.sse"))
    started = time.monotonic()
    async with rec.client() as client:
        with pytest.raises(RateLimitError, match=r"\(retry after 25 s\)"):
            await drain(base_url=URL, client=client)
    assert time.monotonic() - started < 1
    assert len(rec.requests) == 1


def error(code: int, retry_after: str | None) -> HTTPStatusError:
    return status_error(code, reason="R", retry_after=retry_after)


def test_the_wait_follows_retry_after_in_seconds_or_as_a_date_within_20_s_in_all() -> None:
    assert _retry(error(429, "3"), 2, 0, 0.0) == Retry(1, 3.0, "429 R")
    soon = _retry(error(503, formatdate(time.time() + 10, usegmt=True)), 2, 0, 0.0)
    assert soon is not None
    assert 8.5 <= soon.wait <= 10.0  # an HTTP date, to the second
    assert _retry(error(429, "12"), 2, 1, 8.0) == Retry(2, 12.0, "429 R")  # 20 s in all
    assert _retry(error(429, "12.5"), 2, 1, 8.0) is None  # more than 20 s in all
    assert _retry(error(429, "0"), 2, 2, 0.0) is None  # the third retry
    assert _retry(error(429, "0"), 0, 0, 0.0) is None  # retries=0
    assert _retry(error(500, "0"), 2, 0, 0.0) is None


def test_without_retry_after_the_backoff_doubles_with_jitter() -> None:
    firsts = [_retry(error(502, None), 2, 0, 0.0) for _ in range(200)]
    seconds = [_retry(error(502, None), 2, 1, 0.5) for _ in range(200)]
    first_waits = {r.wait for r in firsts if r is not None}
    second_waits = {r.wait for r in seconds if r is not None}
    assert len(first_waits) > 100  # jittered
    assert min(first_waits) >= 0.375
    assert max(first_waits) <= 0.5
    assert min(second_waits) >= 0.75
    assert max(second_waits) <= 1.0
    assert _retry(httpx.ReadError("reset"), 2, 0, 0.0) is not None
    assert _retry(httpx.ConnectError("refused"), 2, 0, 0.0) is None  # no server: say so now


async def test_cancelling_during_the_wait_ends_it_at_once() -> None:
    rec = Recorder(status(429, "10"), recorded("llamacpp_openai_chat.sse"))
    async with rec.client() as client:
        stream = astream("x", base_url=URL, client=client)
        waiting = asyncio.Event()

        async def consume() -> None:
            async for delta in stream:
                if isinstance(delta, Retry):
                    waiting.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(waiting.wait(), 5)
        stream.note_cancel("cancelled by user")
        cancelled = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - cancelled < 0.5
    assert len(rec.requests) == 1
    assert (stream.reply.status, stream.reply.error) == ("cancelled", "cancelled by user")


def test_retries_must_be_a_whole_number_of_at_least_zero() -> None:
    with pytest.raises(ConfigError, match="retries"):
        astream("x", base_url=URL, retries=-1)
    with pytest.raises(TypeError):
        astream("x", base_url=URL, retries=1.5)  # type: ignore[arg-type]


def test_retries_is_one_setting_from_every_source() -> None:
    from nbstream._engine.engine import _plan
    from nbstream._engine.settings import Settings, env_layer, merge

    assert _plan("x", Settings.layer(base_url=URL)).retries == 2  # the default
    env = env_layer({"NBSTREAM_RETRIES": "0"})
    assert _plan("x", merge(env, Settings.layer(base_url=URL))).retries == 0
    cell = Settings.parse({"retries": "1"}, where="the %%chat line", flags=True)
    assert _plan("x", merge(env, cell, Settings.layer(base_url=URL))).retries == 1
    with pytest.raises(ConfigError, match="retries takes a whole number"):
        Settings.parse({"retries": "two"}, where="%chat config")

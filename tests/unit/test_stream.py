"""DeltaStream: the seam between producers and consumers of deltas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from nbstream import DeltaStream, End, HTTPStatusError, TextDelta
from nbstream._core.deltas import Delta
from nbstream._core.stream import describe_error
from nbstream._http.transport import describe_http_error

# Shaped like a provider key, built at run time so that secret scanners see no key here.
FAKE_KEY = "sk-" + "abcdefghijklmnopqrstu"


async def strings(*pieces: str, fail: BaseException | None = None) -> AsyncIterator[str]:
    for p in pieces:
        await asyncio.sleep(0)
        yield p
    if fail is not None:
        raise fail


async def test_plain_strings_become_text_deltas_and_finish() -> None:
    s = DeltaStream(strings("a", "b"))
    got = [d async for d in s]
    assert got == [TextDelta("a"), TextDelta("b")]
    assert all(d.time > 0 for d in got)
    assert (s.reply.text, s.reply.status, s.done) == ("ab", "finished", True)


async def test_incomplete_end_means_truncated() -> None:
    async def source() -> AsyncIterator[Delta]:
        yield TextDelta("partial")
        yield End(complete=False)

    s = DeltaStream(source())
    async for _ in s:
        pass
    assert (s.reply.status, s.reply.text) == ("truncated", "partial")


async def test_failure_keeps_text_describes_and_reraises() -> None:
    err = HTTPStatusError("HTTP 500 Internal Server Error from h: boom", status_code=500)
    s = DeltaStream(strings("kept", fail=err))
    with pytest.raises(HTTPStatusError):
        async for _ in s:
            pass
    r = s.reply
    assert (r.status, r.text, r.error, r.exception) == ("failed", "kept", str(err), err)


async def test_cancel_records_reason_and_propagates() -> None:
    started = asyncio.Event()

    async def slow() -> AsyncIterator[str]:
        yield "first"
        started.set()
        await asyncio.sleep(30)
        yield "never"

    s = DeltaStream(slow())

    async def consume() -> None:
        async for _ in s:
            pass

    task = asyncio.create_task(consume())
    await started.wait()
    s.note_cancel("cancelled by user")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (s.reply.status, s.reply.text, s.reply.error) == (
        "cancelled",
        "first",
        "cancelled by user",
    )


async def test_aclose_closes_the_source_and_is_idempotent() -> None:
    closed = []

    async def source() -> AsyncIterator[str]:
        try:
            yield "a"
            yield "b"
        finally:
            closed.append(True)

    s = DeltaStream(source())
    assert await s.__anext__() == TextDelta("a")
    await s.aclose()
    await s.aclose()
    assert closed == [True]
    assert s.reply.status == "cancelled"
    with pytest.raises(StopAsyncIteration):
        await s.__anext__()


def test_describe_error_is_one_line_and_masks_keys() -> None:
    req = httpx.Request("POST", "http://127.0.0.1:9/v1/chat")
    msg = describe_http_error(httpx.ConnectError("All connection\nattempts failed", request=req))
    assert (
        msg
        == "could not connect to 127.0.0.1:9 (All connection attempts failed); is the server running?"
    )
    for describe in (describe_error, describe_http_error):
        assert describe(ValueError(f"key {FAKE_KEY} leaked")) == "ValueError: key *** leaked"
        assert describe(RuntimeError()) == "RuntimeError"

"""Sloppy SSE framing recovered, over real loopback sockets: every SSE API of the backend."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest

import nbstream.server
from nbstream._core.deltas import Delta, Notice, TextDelta
from nbstream._core.reply import Reply
from nbstream._engine.engine import astream
from nbstream._http.transport import aconnect_sse
from nbstream._sse.recovery import NO_BLANK_LINES, NO_LINE_BREAKS
from nbstream.server import BackgroundServer

APIS = [("openai-chat", "/v1"), ("openai-responses", "/v1"), ("anthropic", "")]
PROMPT = "one two three four five six seven eight nine ten"


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with nbstream.server.start() as srv:
        yield srv


async def ask(
    server: BackgroundServer, api: str, suffix: str, model: str
) -> tuple[list[Delta], Reply]:
    stream = astream(PROMPT, base_url=server.url + suffix, api=api, model=model)
    deltas = [d async for d in stream]
    return deltas, stream.reply


@pytest.mark.parametrize(("api", "suffix"), APIS)
@pytest.mark.parametrize(
    ("fault", "note"), [("nolf", NO_LINE_BREAKS), ("single-lf", NO_BLANK_LINES)]
)
async def test_sloppy_streams_give_the_same_reply_and_say_so_once(
    server: BackgroundServer, api: str, suffix: str, fault: str, note: str
) -> None:
    _, good = await ask(server, api, suffix, "echo:tps=0,ttft=0")
    deltas, sloppy = await ask(server, api, suffix, f"echo:tps=0,ttft=0,fault={fault}")
    assert good.status == "finished"
    assert good.notes == ()
    for field in ("text", "status", "finish_reason", "usage", "format", "tool_calls"):
        assert getattr(sloppy, field) == getattr(good, field), field
    assert sloppy.notes == (note,)
    assert [d for d in deltas if isinstance(d, Notice)] == [Notice(note)]  # once, not per chunk


@pytest.mark.parametrize("fault", ["nolf", "single-lf"])
async def test_words_appear_as_they_arrive(server: BackgroundServer, fault: str) -> None:
    # 20 words/s: a decoder that waited for the end would deliver every word at once, ~0.5 s
    # after the first.
    _, reply = await ask(server, "openai-chat", "/v1", f"echo:tps=20,ttft=0,fault={fault}")
    assert reply.text == PROMPT
    times = [d.time for d in reply.deltas if isinstance(d, TextDelta)]
    assert len(times) == 10
    gaps = [b - a for a, b in itertools.pairwise(times[1:])]  # after the first pair
    # Words arrive on their own, not all at the end: most gaps are the server's pace (a loaded
    # machine may deliver two sends in one read now and then).
    assert sum(gap > 0.02 for gap in gaps) >= len(gaps) - 2, gaps
    assert times[-1] - times[0] > 0.35
    assert not reply.buffered


async def test_the_strict_reader_keeps_the_spec(server: BackgroundServer) -> None:
    # aiter_sse() is the spec, and nothing else: the same sloppy body gives no event at all.
    body = {"model": "echo:tps=0,ttft=0,fault=nolf", "messages": [{"role": "user", "content": "x"}]}
    async with (
        httpx.AsyncClient() as client,
        aconnect_sse(
            client,
            "POST",
            server.openai_base_url + "/chat/completions",
            json={**body, "stream": True},
        ) as source,
    ):
        events = [e async for e in source.aiter_sse()]
    assert events == []
    assert source.ended_mid_event
    assert source.note is None

"""Recorded streams for the format tests: load, decode, run through a format, build the reply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nbstream._core.deltas import Delta, End
from nbstream._core.reply import Reply, ReplyBuilder
from nbstream._providers.registry import WireFormat
from nbstream._sse.decoder import ServerSentEvent, SSEDecoder

DATA = Path(__file__).resolve().parents[1] / "data" / "streams"


def events(name: str) -> list[ServerSentEvent]:
    """The events of a recorded stream: SSE files decoded, NDJSON files one event a line."""
    raw = (DATA / name).read_bytes()
    if name.endswith(".ndjson"):
        return [ServerSentEvent(data=line) for line in raw.decode().splitlines() if line.strip()]
    decoder = SSEDecoder()
    return [*decoder.decode(raw), *decoder.flush()]


def body(name: str) -> Any:
    """A recorded non-streamed JSON body."""
    return json.loads((DATA / name).read_text())


def run(fmt: WireFormat, items: list[ServerSentEvent]) -> tuple[list[Delta], Reply]:
    """Feed every event, finish, and build the reply the way the engine does."""
    deltas: list[Delta] = []
    for item in items:
        deltas.extend(fmt.feed(item))
    deltas.extend(fmt.finish())
    builder = ReplyBuilder(format=fmt.name)
    for d in [*deltas, End(complete=fmt.complete)]:
        builder.add(d)
    return deltas, builder.build()

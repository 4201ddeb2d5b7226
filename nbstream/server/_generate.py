"""The paced stream: an answer's tokens as frames, in time, with a fault injected where asked.

:func:`paced_frames` is the one place that sleeps between tokens, injects mid-stream faults and
records in the log how the stream ended. When the client goes away, uvicorn reports
``http.disconnect``, Starlette cancels the body iterator at its next ``await`` and the
``finally`` below stamps ``disconnected_at``: generation stops there, as llama.cpp and the real
services do.
"""

from __future__ import annotations

import asyncio
import random
import time
import zlib
from collections.abc import AsyncIterator, Sequence

from ._frames import Frame, Turn, WireFormat, encode
from ._log import RequestLog, RequestRecord
from ._options import Options

__all__ = ["HangUp", "gzipped", "paced_bytes", "paced_frames"]

#: Truncated JSON: what a proxy that splits one event across two writes can produce.
MALFORMED = '{"id":"broken","choices":[{"delta":{"content":"this chunk is cut'
#: Lone surrogates become the raw bytes 0xFF 0xFE on the wire (see ``_frames.encode``).
BAD_UTF8 = "\udcff\udcfe"


class HangUp(Exception):
    """Raised inside a body iterator so that uvicorn drops the connection (``disconnect`` fault).

    uvicorn closes the socket without the final empty chunk, so the client sees the body end
    early (httpx: ``RemoteProtocolError: peer closed connection``). The backend installs a log
    filter so that this intended failure is not reported as a server error.
    """


async def paced_frames(
    fmt: WireFormat,
    turn: Turn,
    tokens: Sequence[str],
    options: Options,
    log: RequestLog,
    record: RequestRecord,
) -> AsyncIterator[Frame]:
    """Yield the frames of the answer at the requested pace, with the requested fault.

    Args:
        fmt: The wire format.
        turn: The answer's state (counts tokens as they go).
        tokens: The answer, cut into tokens.
        options: Pacing and fault.
        log: The request log to update.
        record: This request's record.

    Yields:
        Frames, in order.

    Raises:
        HangUp: Under the ``disconnect`` fault, after ``options.after`` tokens; under
            ``reset``, before the first byte of the body.
    """
    rng = random.Random(options.seed)
    fault = options.fault
    first = True
    due: float | None = None  # when the next token is due (deadline pacing, see below)

    def sent() -> None:
        nonlocal first
        if first:
            log.update(record, first_byte=time.monotonic())
            first = False

    try:
        if fault == "reset":
            # The status line and headers are out (Starlette sends them before the first
            # chunk); the connection drops before any byte of the body, as a proxy that lost
            # its upstream does.
            log.end(record, "hung-up")
            raise HangUp("the backend dropped the connection before the answer (fault=reset)")
        if options.ttft:
            await asyncio.sleep(options.ttft)
        for frame in fmt.head(turn):
            sent()
            yield frame
        for i in range(len(tokens) + 1):
            if i == min(options.after, len(tokens)):
                if fault == "stall":
                    await asyncio.sleep(options.stall)
                    due = None  # the pace restarts after the stall
                elif fault == "disconnect":
                    log.end(record, "hung-up")
                    raise HangUp("the backend dropped the connection (fault=disconnect)")
                elif fault in ("error-chunk", "error-event"):
                    message = f"the demo backend failed mid-stream (fault={fault})"
                    frames = (
                        fmt.error_chunk(turn, message)
                        if fault == "error-chunk"
                        else fmt.error_event(turn, message)
                    )
                    for frame in frames:
                        sent()
                        yield frame
                    log.end(record, "finished")
                    return
                elif fault == "malformed":
                    sent()
                    yield Frame(MALFORMED)
                elif fault == "huge":
                    turn.add(_huge(options.size))
                    for frame in fmt.token(turn, turn.text[-1]):
                        sent()
                        yield frame
            if i == len(tokens):
                break
            if i > 0:
                # Deadline pacing: sleeping one interval per token drifts, as every wake-up is
                # late by the loop's latency (20k tokens at 1000 tok/s took 33-42 s instead of
                # 20 s under load). Sleeping until each token's due time keeps the rate and
                # catches up after a late wake-up; sleep(0) still lets disconnects be seen.
                now = time.monotonic()
                due = (now if due is None else due) + _interval(options, rng)
                await asyncio.sleep(max(0.0, due - now))
            text = tokens[i]
            if fault == "bad-utf8" and i == min(options.after, len(tokens) - 1):
                text = BAD_UTF8 + text
            turn.add(text)
            for frame in fmt.token(turn, text):
                sent()
                yield frame
            log.update(record, tokens_sent=record.tokens_sent + 1)
        for frame in fmt.tail(turn):
            sent()
            yield frame
        if fault != "no-done":
            for frame in fmt.done(turn):
                sent()
                yield frame
        log.end(record, "finished")
    finally:
        # Still running here means we were cancelled or closed early: the client went away.
        log.end(record, "disconnected")


def _interval(options: Options, rng: random.Random) -> float:
    base = options.interval
    if options.jitter and base:
        base *= 1 + options.jitter * rng.uniform(-1, 1)
    return base


def _huge(size: int) -> str:
    word = "huge "
    return (word * (size // len(word) + 1))[:size]


async def paced_bytes(
    frames: AsyncIterator[Frame], fmt: WireFormat, eol: str = "\n", sloppy: str | None = None
) -> AsyncIterator[bytes]:
    """Encode frames in the format's framing, one write per frame (as the real servers flush).

    ``sloppy`` is a framing mistake to make (see :func:`~nbstream.server._frames.encode`).
    """
    async for frame in frames:
        yield encode(frame, fmt, eol, sloppy)


async def gzipped(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Gzip a byte stream, flushing after each chunk so that the stream stays a stream."""
    compressor = zlib.compressobj(wbits=31)  # 31: gzip header and trailer (zlib docs)
    async for chunk in chunks:
        yield compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
    yield compressor.flush()

"""Benchmark: decoding an LLM's SSE stream, nbstream vs httpx-sse vs openai-python vs the floor.

Run: ``python benchmarks/sse_decode.py`` (about a minute; ``--quick`` for a smoke run).

Every decoder gets the same bytes in the same chunks, in one process, and each timing is the
best of several repeats (the machine is shared; the minimum is the least disturbed run).

- floor: iterate the chunks, then ``json.loads`` each payload (already a ``str``): the work no
  decoder can avoid;
- nbstream: ``SSEDecoder.decode(chunk)`` then ``json.loads(event.data)``;
- httpx-sse: what ``EventSource.aiter_sse`` does: an incremental UTF-8 decoder (as
  ``response.aiter_text()``), ``SSELineDecoder``, ``SSEDecoder.decode(line)``, then JSON;
- openai: ``openai._streaming.SSEDecoder().iter_bytes(chunks)``, then JSON.

Streams: 100k OpenAI chat-completion chunks, with LF, CRLF (as sse-starlette writes) and
multi-line ``data:`` (the JSON split over three lines), cut into 1 KiB chunks, 64 KiB chunks
and one event per chunk; and one 1, 2 and 4 MB event in 64-byte chunks (linear time means
the time doubles with the size).
"""

from __future__ import annotations

import codecs
import json
import sys
import time
from collections.abc import Callable, Iterator

from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder
from httpx_sse._decoders import SSELineDecoder
from openai._streaming import SSEDecoder as OpenAISSEDecoder

from nbstream import SSEDecoder

QUICK = "--quick" in sys.argv
N_EVENTS = 10_000 if QUICK else 100_000
REPEATS = 2 if QUICK else 3

WORDS = [" The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]


def payloads(n: int) -> list[str]:
    """OpenAI chat-completions chunks as the API sends them (about 250 bytes each)."""
    out = []
    for i in range(n):
        word = WORDS[i % len(WORDS)]
        chunk = {
            "id": "chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012",
            "object": "chat.completion.chunk",
            "created": 1_730_000_000 + i // 1000,
            "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_0ba0d124f1",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": f"{word}é"},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        }
        out.append(json.dumps(chunk, separators=(",", ":"), ensure_ascii=False))
    return out


def frame(payload: str, variant: str) -> bytes:
    """One SSE event carrying ``payload`` in the given line-ending variant."""
    if variant == "multi-line":
        # Split the JSON at its commas over three data lines: joined with LF it is still JSON.
        a, b, c = payload.split(",", 2)
        return f"data: {a},\ndata: {b},\ndata: {c}\n\n".encode()
    nl = "\r\n" if variant == "CRLF" else "\n"
    return f"data: {payload}{nl}{nl}".encode()


def chunked(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def run_floor(chunks: list[bytes], loads: list[str]) -> int:
    for _ in chunks:
        pass
    for p in loads:
        json.loads(p)
    return len(loads)


def run_nbstream(chunks: list[bytes], loads: list[str]) -> int:
    decoder = SSEDecoder()
    n = 0
    for chunk in chunks:
        for event in decoder.decode(chunk):
            json.loads(event.data)
            n += 1
    decoder.flush()
    return n


def run_httpx_sse(chunks: list[bytes], loads: list[str]) -> int:
    text = codecs.getincrementaldecoder("utf-8")("replace")
    lines = SSELineDecoder()
    decoder = HttpxSSEDecoder()
    n = 0
    for chunk in chunks:
        for line in lines.decode(text.decode(chunk)):
            event = decoder.decode(line.rstrip("\n"))
            if event is not None:
                json.loads(event.data)
                n += 1
    for line in lines.flush():
        event = decoder.decode(line.rstrip("\n"))
        if event is not None:
            json.loads(event.data)
            n += 1
    return n


def run_openai(chunks: list[bytes], loads: list[str]) -> int:
    n = 0
    for event in OpenAISSEDecoder().iter_bytes(iter(chunks)):
        json.loads(event.data)
        n += 1
    return n


RUNNERS: dict[str, Callable[[list[bytes], list[str]], int]] = {
    "floor": run_floor,
    "nbstream": run_nbstream,
    "httpx-sse": run_httpx_sse,
    "openai": run_openai,
}


def best(fn: Callable[[], int], expect: int) -> float:
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        got = fn()
        times.append(time.perf_counter() - t)
        if got != expect:
            raise AssertionError(f"{fn} produced {got} events, expected {expect}")
    return min(times)


def cases() -> Iterator[tuple[str, list[bytes], list[str]]]:
    loads = payloads(N_EVENTS)
    for variant in ("LF", "CRLF", "multi-line"):
        events = [frame(p, variant) for p in loads]
        body = b"".join(events)
        expect = [p.replace(",", ",\n", 2) for p in loads] if variant == "multi-line" else loads
        yield f"{variant}, 1 KiB chunks", chunked(body, 1024), expect
        yield f"{variant}, 64 KiB chunks", chunked(body, 65536), expect
        yield f"{variant}, one event per chunk", events, expect


def main() -> None:
    print(f"{N_EVENTS:,} OpenAI chat-completion events; best of {REPEATS}; times in ms\n")
    head = f"{'stream':32} {'floor':>7} {'nbstream':>9} {'httpx-sse':>10} {'openai':>8}"
    print(head + f" {'nb/floor':>9} {'httpx-sse/nb':>13} {'openai/nb':>10}")
    for name, chunks, loads in cases():
        t = {
            k: best(lambda fn=fn, c=chunks, p=loads: fn(c, p), len(loads)) * 1000
            for k, fn in RUNNERS.items()
        }
        print(
            f"{name:32} {t['floor']:7.0f} {t['nbstream']:9.0f} {t['httpx-sse']:10.0f}"
            f" {t['openai']:8.0f} {t['nbstream'] / t['floor']:8.2f}x"
            f" {t['httpx-sse'] / t['nbstream']:12.2f}x {t['openai'] / t['nbstream']:9.2f}x"
        )
    print("\none large event in 64-byte chunks (decode only; linear = time doubles with size)")
    print(f"{'size':8} {'nbstream':>9} {'httpx-sse':>10} {'openai':>8}")
    prev: dict[str, float] = {}
    for mb in (1, 2, 4):
        payload = json.dumps({"b64": "A" * (mb * 1_000_000 - 12)})
        body = f"data: {payload}\n\n".encode()
        chunks = chunked(body, 64)
        loads = [payload]
        t = {
            k: best(lambda fn=fn, c=chunks, p=loads: fn(c, p), 1) * 1000
            for k, fn in RUNNERS.items()
        }
        growth = "" if not prev else f"  (x{t['nbstream'] / prev['nbstream']:.2f} vs half size)"
        print(
            f"{mb} MB{'':5} {t['nbstream']:9.0f} {t['httpx-sse']:10.0f} {t['openai']:8.0f}{growth}"
        )
        prev = t


if __name__ == "__main__":
    main()

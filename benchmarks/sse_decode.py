"""Benchmark: decoding an LLM's SSE stream, nbstream vs httpx-sse vs openai-python vs the floor.

Run: ``python benchmarks/sse_decode.py`` (under a minute; ``--quick`` for a smoke run;
``--callgrind`` adds instruction counts under valgrind on a reduced input).

Every decoder gets the same bytes in the same chunks, in one process:

- floor: iterate the chunks, then ``json.loads`` each payload (already a ``str``): the work no
  decoder can avoid;
- nbstream: ``SSEDecoder.decode(chunk)`` then ``json.loads(event.data)``;
- httpx-sse: what ``EventSource.aiter_sse`` does: an incremental UTF-8 decoder (as
  ``response.aiter_text()``), ``SSELineDecoder``, ``SSEDecoder.decode(line)``, then JSON;
- openai: ``openai._streaming.SSEDecoder().iter_bytes(chunks)``, then JSON.

Method (the machine is shared, so wall-clock time says more about the neighbours than about
the code): each stream is cut into segments of about 5,000 events; every candidate is a
generator that decodes one segment per step, keeping its decoder state across segments, and
the candidates take turns segment by segment (A B C D, then B C D A, ...). Each step is timed
with ``time.thread_time()``, the CPU time of this thread, which other processes do not add to.
A candidate's cost is the minimum per-event cost over its segments (the least disturbed
sample of identical work); the median of the per-segment ratios nbstream/floor, each from
two adjacent measurements, is printed beside it as a check. With ``--callgrind`` the same
loops run under ``valgrind --tool=callgrind`` on 2,000 events and the instruction counts
(repeatable to ~1 % between runs, independent of load) are printed as a second measurement.

Streams: 100k OpenAI chat-completion chunks, with LF, CRLF (as sse-starlette writes) and
multi-line ``data:`` (the JSON split over three lines), cut into 1 KiB chunks, 64 KiB chunks
and one event per chunk; and one 1, 2 and 4 MB event in 64-byte chunks (linear time means
the time doubles with the size).
"""

from __future__ import annotations

import bisect
import codecs
import functools
import itertools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder
from httpx_sse._decoders import SSELineDecoder
from openai._streaming import SSEDecoder as OpenAISSEDecoder

from nbstream import SSEDecoder

QUICK = "--quick" in sys.argv
N_EVENTS = 10_000 if QUICK else 100_000
SEGMENT = 5_000 if not QUICK else 1_000

WORDS = [" The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]

# A candidate decodes segments (lists of chunks) one per step and yields the number of events
# it completed; ``loads`` are the payloads of the events each segment completes (for the floor).
Segments = list[list[bytes]]
Runner = Callable[[Segments, list[list[str]]], Iterator[int]]


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


def run_floor(segments: Segments, loads: list[list[str]]) -> Iterator[int]:
    for chunks, texts in zip(segments, loads, strict=True):
        for _ in chunks:
            pass
        for p in texts:
            json.loads(p)
        yield len(texts)


def run_nbstream(segments: Segments, loads: list[list[str]]) -> Iterator[int]:
    decoder = SSEDecoder()
    for chunks in segments:
        n = 0
        for chunk in chunks:
            for event in decoder.decode(chunk):
                json.loads(event.data)
                n += 1
        yield n
    decoder.flush()


def run_httpx_sse(segments: Segments, loads: list[list[str]]) -> Iterator[int]:
    text = codecs.getincrementaldecoder("utf-8")("replace")
    lines = SSELineDecoder()
    decoder = HttpxSSEDecoder()
    for chunks in segments:
        n = 0
        for chunk in chunks:
            for line in lines.decode(text.decode(chunk)):
                event = decoder.decode(line.rstrip("\n"))
                if event is not None:
                    json.loads(event.data)
                    n += 1
        yield n


def run_openai(segments: Segments, loads: list[list[str]]) -> Iterator[int]:
    # iter_bytes pulls from one iterator; feed it the segments' chunks and count per segment.
    bounds = list(itertools.accumulate(len(c) for c in segments))
    fed = 0

    def feed() -> Iterator[bytes]:
        nonlocal fed
        for chunks in segments:
            for chunk in chunks:
                fed += 1
                yield chunk

    events = OpenAISSEDecoder().iter_bytes(feed())
    seg = 0
    n = 0
    for event in events:
        # openai yields an event once it has pulled the chunk that completes it.
        while fed > bounds[seg]:
            yield n
            seg, n = seg + 1, 0
        json.loads(event.data)
        n += 1
    yield n


RUNNERS: dict[str, Runner] = {
    "floor": run_floor,
    "nbstream": run_nbstream,
    "httpx-sse": run_httpx_sse,
    "openai": run_openai,
}


def segment(
    chunks: list[bytes], events: list[bytes], texts: list[str], size: int
) -> tuple[Segments, list[list[str]]]:
    """Cut the chunks into segments of about ``size`` events, each with the payloads it ends."""
    ends = list(itertools.accumulate(len(e) for e in events))
    per = max(1, len(chunks) * size // len(events))
    segs = [chunks[i : i + per] for i in range(0, len(chunks), per)]
    loads, pos, done = [], 0, 0
    for seg in segs:
        pos += sum(len(c) for c in seg)
        upto = bisect.bisect_right(ends, pos)
        loads.append(texts[done:upto])
        done = upto
    return segs, loads


def interleaved(segs: Segments, loads: list[list[str]]) -> dict[str, list[float]]:
    """Per-segment CPU seconds per event for every candidate, candidates taking turns."""
    gens = {name: fn(segs, loads) for name, fn in RUNNERS.items()}
    names = list(RUNNERS)
    costs: dict[str, list[float]] = {name: [] for name in names}
    for i, texts in enumerate(loads):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            t = time.thread_time()
            got = next(gens[name])
            dt = time.thread_time() - t
            if got != len(texts):
                raise AssertionError(f"{name}: {got} events in segment {i}, expected {len(texts)}")
            if texts:
                costs[name].append(dt / len(texts))
    return costs


def cases() -> Iterator[tuple[str, Segments, list[list[str]]]]:
    texts = payloads(N_EVENTS)
    for variant in ("LF", "CRLF", "multi-line"):
        events = [frame(p, variant) for p in texts]
        body = b"".join(events)
        expect = [p.replace(",", ",\n", 2) for p in texts] if variant == "multi-line" else texts
        for label, chunks in (
            ("1 KiB chunks", [body[i : i + 1024] for i in range(0, len(body), 1024)]),
            ("64 KiB chunks", [body[i : i + 65536] for i in range(0, len(body), 65536)]),
            ("one event per chunk", events),
        ):
            yield f"{variant}, {label}", *segment(chunks, events, expect, SEGMENT)


def streams() -> None:
    print(
        f"{N_EVENTS:,} OpenAI chat-completion events in segments of ~{SEGMENT:,}; candidates"
        " interleaved per segment;\nCPU time of this thread (time.thread_time); per candidate"
        " the minimum over segments; µs per event\n"
    )
    head = f"{'stream':30} {'floor':>6} {'nbstream':>8} {'httpx-sse':>9}"
    head += f" {'openai':>7} {'nb/floor':>8} {'(median)':>8}"
    print(head + f" {'httpx-sse/nb':>12} {'openai/nb':>9}")
    for name, segs, loads in cases():
        costs = interleaved(segs, loads)
        us = {k: min(v) * 1e6 for k, v in costs.items()}
        paired = statistics.median(
            nb / fl for nb, fl in zip(costs["nbstream"], costs["floor"], strict=True)
        )
        nb = us["nbstream"]
        print(
            f"{name:30} {us['floor']:6.2f} {nb:8.2f}"
            f" {us['httpx-sse']:9.2f} {us['openai']:7.2f} {nb / us['floor']:7.2f}x"
            f" {paired:7.2f}x {us['httpx-sse'] / nb:11.2f}x {us['openai'] / nb:8.2f}x"
        )


def large() -> None:
    print("\none large event in 64-byte chunks (decode + one json.loads; CPU ms, min of 5)")
    print(f"{'size':8} {'floor':>6} {'nbstream':>9} {'httpx-sse':>10} {'openai':>8}")
    prev = 0.0
    for mb in (1, 2, 4):
        payload = json.dumps({"b64": "A" * (mb * 1_000_000 - 12)})
        body = f"data: {payload}\n\n".encode()
        chunks = [body[i : i + 64] for i in range(0, len(body), 64)]
        best = dict.fromkeys(RUNNERS, float("inf"))
        for _ in range(5):
            for name, fn in RUNNERS.items():
                t = time.thread_time()
                got = sum(fn([chunks], [[payload]]))
                best[name] = min(best[name], time.thread_time() - t)
                assert got == 1, (name, got)
        ms = {k: v * 1000 for k, v in best.items()}
        growth = f"  (nbstream x{ms['nbstream'] / prev:.2f} vs half size)" if prev else ""
        print(
            f"{mb} MB{'':5} {ms['floor']:6.1f} {ms['nbstream']:9.1f} {ms['httpx-sse']:10.1f}"
            f" {ms['openai']:8.1f}{growth}"
        )
        prev = ms["nbstream"]


CALLGRIND_EVENTS = 2_000


def callgrind_child(case: str, name: str) -> None:
    """Under valgrind: build one reduced case, then run one candidate inside functools.reduce.

    ``functools.reduce`` is the only place this process enters that C function, so collecting
    inside it alone (``--toggle-collect``) counts the candidate's instructions and nothing of
    the interpreter's start-up, the imports or the input's construction.
    """
    texts = payloads(CALLGRIND_EVENTS)
    variant, label = case.split(", ")
    events = [frame(p, variant) for p in texts]
    body = b"".join(events)
    expect = [p.replace(",", ",\n", 2) for p in texts] if variant == "multi-line" else texts
    size = {"1 KiB chunks": 1024, "64 KiB chunks": 65536}.get(label)
    chunks = events if size is None else [body[i : i + size] for i in range(0, len(body), size)]
    segs, loads = segment(chunks, events, expect, CALLGRIND_EVENTS)
    got = functools.reduce(lambda _, __: sum(RUNNERS[name](segs, loads)), [0, 0])
    assert got == CALLGRIND_EVENTS, (name, got)


def instructions(case: str, name: str) -> int:
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    cmd += ["--collect-atstart=no", "--toggle-collect=functools_reduce"]
    cmd += [sys.executable, __file__, "--callgrind-child", case, name]
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    [line] = [ln for ln in run.stderr.splitlines() if "Collected :" in ln]
    return int(line.rsplit(":", 1)[1])


def callgrind() -> None:
    print(
        f"\ninstructions per event under valgrind --tool=callgrind ({CALLGRIND_EVENTS:,} events;"
        " repeatable to ~1 %, independent of load)"
    )
    head = f"{'stream':30} {'floor':>7} {'nbstream':>8} {'httpx-sse':>9}"
    print(head + f" {'openai':>7} {'nb/floor':>8} {'httpx-sse/nb':>12}")
    cases = [
        f"{variant}, {label}"
        for variant in ("LF", "CRLF", "multi-line")
        for label in ("1 KiB chunks", "64 KiB chunks", "one event per chunk")
    ]
    jobs = [(case, name) for case in cases for name in RUNNERS]
    with ThreadPoolExecutor(2) as pool:  # each valgrind is one process; two at a time
        counts = dict(zip(jobs, pool.map(lambda job: instructions(*job), jobs), strict=True))
    for case in cases:
        ir = {k: counts[case, k] / CALLGRIND_EVENTS for k in RUNNERS}
        print(
            f"{case:30} {ir['floor']:7.0f} {ir['nbstream']:8.0f}"
            f" {ir['httpx-sse']:9.0f} {ir['openai']:7.0f} {ir['nbstream'] / ir['floor']:7.2f}x"
            f" {ir['httpx-sse'] / ir['nbstream']:11.2f}x"
        )


def main() -> None:
    if "--callgrind-child" in sys.argv:
        i = sys.argv.index("--callgrind-child")
        callgrind_child(sys.argv[i + 1], sys.argv[i + 2])
        return
    started = time.monotonic()
    streams()
    large()
    if "--callgrind" in sys.argv:
        callgrind()
    print(f"\n(ran {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()

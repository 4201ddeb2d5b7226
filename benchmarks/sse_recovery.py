"""Benchmark: what the sloppy-framing recovery costs, on well-formed streams and on sloppy ones.

Run: ``python benchmarks/sse_recovery.py`` (about a minute; ``--quick`` for a smoke run;
``--callgrind`` adds instruction counts under valgrind, the measurement of record).

The transport reads SSE with :class:`~nbstream._sse.recovery.RecoveringSSEDecoder`, which
watches a stream until its first event and then hands ``decode`` to the spec decoder itself.
So on a well-formed stream it must cost what :class:`~nbstream.SSEDecoder` costs. Same streams
and method as ``sse_decode.py`` (100k OpenAI chat-completion events, LF / CRLF / multi-line,
1 KiB chunks / 64 KiB chunks / one event per chunk; candidates take turns segment by segment,
CPU time of this thread, the minimum per-event cost over segments), each candidate also
running ``json.loads`` on every event:

- spec: ``SSEDecoder.decode`` (what ``aiter_sse`` uses);
- recovering: ``RecoveringSSEDecoder.decode`` (what ``aiter_events`` uses).

Then the sloppy streams (``data:{…}data:{…}`` and ``data: {…}\\n`` per event, one record per
chunk as generators write them), read by the recovering decoder, against the spec decoder on
the same events well-formed: the price of the repair, paid only by the streams that need it.
"""

from __future__ import annotations

import functools
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from sse_decode import frame, payloads, segment  # the sibling benchmark's inputs

from nbstream import SSEDecoder
from nbstream._sse.recovery import RecoveringSSEDecoder

QUICK = "--quick" in sys.argv
N_EVENTS = 10_000 if QUICK else 100_000
SEGMENT = 1_000 if QUICK else 5_000
CALLGRIND_EVENTS = 2_000

Segments = list[list[bytes]]
Runner = Callable[[Segments], Iterator[int]]


def runner(make: Callable[[], SSEDecoder | RecoveringSSEDecoder]) -> Runner:
    def run(segments: Segments) -> Iterator[int]:
        import json

        decoder = make()
        for chunks in segments:
            n = 0
            for chunk in chunks:
                for event in decoder.decode(chunk):
                    if event.data != "[DONE]":
                        json.loads(event.data)
                    n += 1
            yield n
        decoder.flush()

    return run


RUNNERS: dict[str, Runner] = {
    "spec": runner(SSEDecoder),
    "recovering": runner(RecoveringSSEDecoder),
}


def sloppy(payload: str, variant: str) -> bytes:
    """One record of a sloppy stream."""
    return (
        f"data:{payload}".encode() if variant == "no line breaks" else f"data: {payload}\n".encode()
    )


def cases(n: int) -> Iterator[tuple[str, Segments, list[list[str]]]]:
    texts = payloads(n)
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


def sloppy_cases(n: int) -> Iterator[tuple[str, Segments, Segments]]:
    """Each sloppy stream beside the same events well-formed, both one record per chunk."""
    texts = payloads(n)
    good = [frame(p, "LF") for p in texts]
    for variant in ("no line breaks", "single LF"):
        records = [sloppy(p, variant) for p in texts]
        bad_segs, _ = segment(records, records, texts, SEGMENT)
        good_segs, _ = segment(good, good, texts, SEGMENT)
        yield variant, bad_segs, good_segs


def interleaved(runs: dict[str, Runner], segs: dict[str, Segments]) -> dict[str, list[float]]:
    """Per-segment CPU seconds per event for each candidate, candidates taking turns."""
    gens = {name: fn(segs[name]) for name, fn in runs.items()}
    names = list(runs)
    costs: dict[str, list[float]] = {name: [] for name in names}
    for i in range(len(next(iter(segs.values())))):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            t = time.thread_time()
            got = next(gens[name])
            dt = time.thread_time() - t
            if got:
                costs[name].append(dt / got)
    return costs


def well_formed() -> None:
    print(
        f"{N_EVENTS:,} OpenAI chat-completion events, well-formed; µs per event (decode + JSON),"
        " minimum over segments of CPU time; ratio = recovering / spec (median of pairs)\n"
    )
    print(f"{'stream':30} {'spec':>6} {'recovering':>10} {'ratio':>7} {'(median)':>8}")
    for name, segs, _ in cases(N_EVENTS):
        costs = interleaved(RUNNERS, dict.fromkeys(RUNNERS, segs))
        us = {k: min(v) * 1e6 for k, v in costs.items()}
        paired = statistics.median(
            r / s for r, s in zip(costs["recovering"], costs["spec"], strict=True)
        )
        print(
            f"{name:30} {us['spec']:6.2f} {us['recovering']:10.2f}"
            f" {us['recovering'] / us['spec']:6.3f}x {paired:7.3f}x"
        )


def repairs() -> None:
    print(
        "\nsloppy streams, one record per chunk, read by the recovering decoder, against the"
        " spec decoder\non the same events well-formed (µs per event, decode + JSON)\n"
    )
    print(f"{'stream':30} {'well-formed':>11} {'repaired':>9} {'ratio':>7}")
    for variant, bad, good in sloppy_cases(N_EVENTS):
        runs = {"well-formed": RUNNERS["spec"], "repaired": RUNNERS["recovering"]}
        costs = interleaved(runs, {"well-formed": good, "repaired": bad})
        us = {k: min(v) * 1e6 for k, v in costs.items()}
        print(
            f"{variant:30} {us['well-formed']:11.2f} {us['repaired']:9.2f}"
            f" {us['repaired'] / us['well-formed']:6.2f}x"
        )


def callgrind_child(case: str, name: str) -> None:
    """Under valgrind: run one candidate on one reduced case inside ``functools.reduce``."""
    if case.startswith("sloppy: "):
        variant = case.removeprefix("sloppy: ")
        texts = payloads(CALLGRIND_EVENTS)
        chunks = [sloppy(p, variant) for p in texts]
    else:
        variant, label = case.split(", ")
        texts = payloads(CALLGRIND_EVENTS)
        events = [frame(p, variant) for p in texts]
        body = b"".join(events)
        size = {"1 KiB chunks": 1024, "64 KiB chunks": 65536}.get(label)
        chunks = events if size is None else [body[i : i + size] for i in range(0, len(body), size)]
    got = functools.reduce(lambda _, __: sum(RUNNERS[name]([chunks])), [0, 0])
    assert got == CALLGRIND_EVENTS, (case, name, got)


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
        " repeatable to ~1 %)"
    )
    print(f"{'stream':38} {'spec':>7} {'recovering':>10} {'ratio':>7}")
    cases = [
        f"{variant}, {label}"
        for variant in ("LF", "CRLF", "multi-line")
        for label in ("1 KiB chunks", "64 KiB chunks", "one event per chunk")
    ]
    cases += ["sloppy: no line breaks", "sloppy: single LF"]
    # The spec decoder reads nothing of a sloppy stream: only the recovering one runs there.
    jobs = [
        (case, name)
        for case in cases
        for name in RUNNERS
        if not (case.startswith("sloppy") and name == "spec")
    ]
    with ThreadPoolExecutor(2) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: instructions(*job), jobs), strict=True))
    for case in cases:
        rec = counts[case, "recovering"] / CALLGRIND_EVENTS
        if case.startswith("sloppy"):
            # Compared with the same events well-formed, one per chunk, read by the spec.
            spec = counts["LF, one event per chunk", "spec"] / CALLGRIND_EVENTS
            case += " (vs LF well-formed)"
        else:
            spec = counts[case, "spec"] / CALLGRIND_EVENTS
        print(f"{case:38} {spec:7.0f} {rec:10.0f} {rec / spec:6.3f}x")


def main() -> None:
    if "--callgrind-child" in sys.argv:
        i = sys.argv.index("--callgrind-child")
        callgrind_child(sys.argv[i + 1], sys.argv[i + 2])
        return
    started = time.monotonic()
    well_formed()
    repairs()
    if "--callgrind" in sys.argv:
        callgrind()
    print(f"\n(ran {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()

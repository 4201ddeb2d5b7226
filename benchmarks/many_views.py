"""Fifty answers at once in a real kernel: does the notebook stay responsive?

Issue 16's third target. A real ipykernel (jupyter_client) streams ``--views`` answers of
``--tokens`` tokens at ``--rate`` tokens/s each from the embedded backend (``nbstream serve``'s
app, started with :func:`nbstream.server.start` in a child process of this script so that its
CPU is not the kernel's). Each answer is paragraphs of 60 words (``--paragraph``) opening with
its view's number (``v17 w1 w2 …``: the backend's ``echo`` model sends the prompt back, one
word a token). Two ways to start them:

- ``bg``: one ``%%chat --bg`` cell per answer (its prompt ``{{_a17}}``, a variable), sent back
  to back as a user running fifty cells;
- ``gather``: one cell that starts ``asyncio.gather(*(nbstream.chat(…) for …))`` as a task (a
  cell that awaited it would hold the kernel's shell for the whole answer: the trivial cells
  could not run at all).

Once the launching cells have replied, a trivial cell (``1``) is sent every 0.5 s and its round
trip (``execute_request`` sent → ``execute_reply`` received) measured, until every view has
drawn its final status line. Inside the kernel a 10 ms ticker records how late the event loop
wakes it, and how much of that lateness the kernel process spent computing (``process_time``;
the rest is waiting for a core on a loaded machine, which no code in the kernel causes). The
iopub stream is read as it arrives, in its own thread: every message counted per second, and
each view's first answer frame (the first ``display_data`` whose markdown starts ``v17``)
timed from the launch.

Before the runs, the cost of creating a view is measured in the kernel: ``StreamView()`` and
``display(view)`` for ``--views`` views, the main thread's CPU (``time.thread_time``: how long
the event loop is blocked) and the whole kernel's (``time.process_time``: its IOPub thread,
which sends the messages, too) per view.

Run: ``python benchmarks/many_views.py`` (about a minute and a half; ``--quick``: 10 views of
200 tokens).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import queue
import re
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from _kernel import kernel, printed

SETUP = r"""
import asyncio, time, nbstream
from IPython.display import display
%load_ext nbstream

_lags = []
async def _loop_lag(period=0.01):
    # How late the loop wakes a 10 ms sleeper (wall), and how much of that lateness the
    # kernel process itself spent computing (CPU): on a loaded machine the rest is waiting
    # for a core, which no code in the kernel causes or can fix.
    while True:
        t, c = time.monotonic(), time.process_time()
        await asyncio.sleep(period)
        late = time.monotonic() - t - period
        _lags.append((late, min(late, time.process_time() - c), t))

import gc
_gcs = []  # full collections: (start, seconds)
def _on_gc(phase, info, _start=[0.0]):
    if info["generation"] == 2:
        if phase == "start":
            _start[0] = time.monotonic()
        else:
            _gcs.append((_start[0], time.monotonic() - _start[0]))
gc.callbacks.append(_on_gc)

async def _empty():
    return
    yield
"""

CREATE = r"""
_thread, _cpu = time.thread_time(), time.process_time()
_views = []
for _i in range({n}):
    _v = nbstream.StreamView()
    display(_v)
    _views.append(_v)
_created = (time.thread_time() - _thread, time.process_time() - _cpu)
await asyncio.gather(*(_v.consume(_empty()) for _v in _views))
await asyncio.sleep(0.5)
print(*_created)
"""

# The answer is the prompt (the backend's echo model), taken from a variable: a cell holding the
# 1,000 words itself would cost the kernel more (hashing and storing the cell) than its view.
BG_CELL = "%%chat --bg --no-history --base-url {url}/v1 -m echo:tps={rate}\n{{{{_a{i}}}}}"
GATHER_CELL = (
    "_gather = asyncio.ensure_future(asyncio.gather(*(nbstream.chat("
    "_answer(i), base_url='{url}/v1', model='echo:tps={rate}') for i in range({n}))))"
)
ANSWER = r"""
def _answer(i, tokens={tokens}, paragraph={paragraph}):
    words = [f"v{{i}}"] + [f"w{{k}}" for k in range(1, tokens)]
    if paragraph:
        words = [w + ("\n\n" if k % paragraph == paragraph - 1 else "") for k, w in enumerate(words)]
    return " ".join(words).replace("\n\n ", "\n\n")
"""
_FIRST = re.compile(r"^<p>v(\d+)\b")


@dataclass
class Iopub:
    """What the frontend receives: messages per second, first frames, final status lines."""

    start: float = 0.0
    counts: Counter[int] = field(default_factory=Counter)  # second since start -> messages
    kinds: Counter[str] = field(default_factory=Counter)
    first_frame: dict[int, float] = field(default_factory=dict)  # view -> seconds
    finals: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def apply(self, msg: dict[str, Any], now: float) -> None:
        kind = msg["msg_type"]
        with self.lock:
            if self.start and now >= self.start:
                self.counts[int(now - self.start)] += 1
                self.kinds[kind] += 1
            if kind not in ("display_data", "update_display_data"):
                return
            content = msg["content"]
            markdown = content["data"].get("text/markdown")
            if markdown is None:
                return
            if "nbstream" in content.get("metadata", {}) and markdown.startswith("<p><small>"):
                self.finals += 1  # a view's final status line
                return
            first = _FIRST.match(markdown) if kind == "display_data" else None
            if first is not None and self.start:  # the answer's first frame ("v17 w1 …")
                self.first_frame.setdefault(int(first.group(1)), now - self.start)


def read_iopub(client: Any, iopub: Iopub, stop: threading.Event) -> None:
    """Drain iopub until ``stop`` is set (its own thread: nothing waits behind the shell)."""
    while not stop.is_set():
        try:
            msg = client.iopub_channel.get_msg(timeout=0.05)
        except queue.Empty:
            continue
        iopub.apply(msg, time.monotonic())


def execute(client: Any, code: str, timeout: float = 120.0) -> tuple[float, dict[str, Any]]:
    """Run ``code``; return the round trip (request sent → reply received) and the reply."""
    sent = time.monotonic()
    msg_id = client.execute(code)
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"{code[:60]!r} failed: {reply['content']}")
            return time.monotonic() - sent, reply


def kernel_value(client: Any, expression: str) -> Any:
    """Evaluate ``expression`` in the kernel (its JSON) through a user expression."""
    msg_id = client.execute("", user_expressions={"v": f"__import__('json').dumps({expression})"})
    while True:
        reply = client.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            value = reply["content"]["user_expressions"]["v"]
            if value["status"] != "ok":
                raise RuntimeError(f"{expression}: {value}")
            return json.loads(ast.literal_eval(value["data"]["text/plain"]))


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def burst(times: list[float], window: float) -> int:
    """The most of ``times`` that fall within any ``window`` seconds."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def run_mode(client: Any, mode: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Launch the views one way, probe with trivial cells until every view has ended."""
    iopub = Iopub()
    stop = threading.Event()
    reader = threading.Thread(target=read_iopub, args=(client, iopub, stop), daemon=True)
    reader.start()
    execute(client, ANSWER.format(tokens=args.tokens, paragraph=args.paragraph))
    execute(client, "\n".join(f"_a{i} = _answer({i})" for i in range(args.views)))
    execute(client, "_lags.clear(); _gcs.clear(); _lag_task = asyncio.ensure_future(_loop_lag())")
    cpu0 = kernel_value(client, "time.process_time()")
    t0 = kernel_value(client, "time.monotonic()") + 0.5  # about the launch, on the kernel's clock
    time.sleep(0.5)
    launch = time.monotonic()
    with iopub.lock:
        iopub.start = launch
    if mode == "bg":
        cells = [
            client.execute(BG_CELL.format(url=url, rate=args.rate, i=i)) for i in range(args.views)
        ]
    else:
        cells = [client.execute(GATHER_CELL.format(url=url, rate=args.rate, n=args.views))]
    pending = set(cells)
    while pending:  # the launching cells' replies: from here on, the views stream
        reply = client.get_shell_msg(timeout=120)
        pending.discard(reply["parent_header"].get("msg_id"))
    launched = time.monotonic() - launch
    trips: list[float] = []
    at: list[float] = []  # when each trivial cell was sent, from the launch
    deadline = launch + args.tokens / args.rate * 4 + 30
    while time.monotonic() < deadline:
        tick = time.monotonic()
        trip, _ = execute(client, "1")
        trips.append(trip)
        at.append(tick - launch)
        with iopub.lock:
            if iopub.finals >= args.views:
                break
        time.sleep(max(0.0, tick + 0.5 - time.monotonic()))
    else:
        raise RuntimeError(f"{mode}: only {iopub.finals} of {args.views} views ended in time")
    ended = time.monotonic() - launch
    execute(client, "_lag_task.cancel()")
    cpu = kernel_value(client, "time.process_time()") - cpu0
    lags = kernel_value(client, "_lags")
    gcs = kernel_value(client, f"[(t - {t0}, d) for t, d in _gcs if t > {t0}]")
    time.sleep(0.3)
    stop.set()
    reader.join()
    with iopub.lock:
        per_second = [iopub.counts[s] for s in range(int(ended) + 1)]
        firsts = sorted(iopub.first_frame.values())
        kinds = dict(iopub.kinds)
    return {
        "launched": launched,
        "gcs": gcs,
        "t0": t0,
        "trips": trips,
        "slowest": sorted(zip(trips, at, strict=True), reverse=True)[:5],
        "lags": lags,
        "ended": ended,
        "cpu": cpu,
        "per_second": per_second,
        "firsts": firsts,
        "kinds": kinds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=50)
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument(
        "--paragraph", type=int, default=60, help="words per paragraph (0: one paragraph)"
    )
    parser.add_argument("--modes", default="bg,gather")
    parser.add_argument("--quick", action="store_true", help="10 views of 200 tokens")
    args = parser.parse_args()
    if args.quick:
        args.views, args.tokens = 10, 200
    with kernel() as (url, client):
        client.execute_interactive(SETUP, timeout=60)
        # Warm up: the first view imports ipywidgets, markdown-it and nh3; the first request
        # builds the client's SSL context. Neither is what fifty views cost.
        execute(client, f"await nbstream.chat('warm', base_url='{url}/v1', model='lorem:n=5')")
        execute(client, CREATE.format(n=5))
        create: list[tuple[float, float]] = []
        for _ in range(5):
            out = printed(client, CREATE.format(n=args.views))
            thread, process = (float(x) / args.views for x in out.split())
            create.append((thread, process))
        main = statistics.median(t for t, _ in create) * 1e3
        whole = statistics.median(p for _, p in create) * 1e3
        print(
            f"Creating a view (StreamView() + display, {args.views} at a time, median of 5): "
            f"{main:.2f} ms of the kernel's main thread (the loop is blocked that long), "
            f"{whole:.2f} ms of kernel CPU in all (its IOPub thread sending the messages too)\n"
        )
        print(
            f"{args.views} views x {args.tokens} tokens at {args.rate:g} tok/s; a trivial cell "
            "every 0.5 s until every view has ended\n"
        )
        print(
            "| launch | launch cells replied ms | trivial cell p50 / p95 / max ms "
            "| kernel loop late p99 / max ms "
            "| of which the kernel computing p99 / max ms "
            "| first frames: from launch ms (first / median / last), most in 50 ms "
            "| iopub msgs/s peak / mean | kernel CPU s | all ended s |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for mode in args.modes.split(","):
            load = os.getloadavg()[0]
            r = run_mode(client, mode, url, args)
            trips, firsts = r["trips"], r["firsts"]
            late = [w for w, _, _ in r["lags"]] or [0.0]
            own = [c for _, c, _ in r["lags"]] or [0.0]
            worst = sorted(r["lags"], key=lambda x: -x[1])[:5]
            busy = r["per_second"][:-1] or r["per_second"]
            print(
                f"| {'%%chat --bg cells' if mode == 'bg' else 'asyncio.gather task'} "
                f"| {r['launched'] * 1e3:.0f} "
                f"| {pct(trips, 0.5) * 1e3:.0f} / {pct(trips, 0.95) * 1e3:.0f} / "
                f"{max(trips) * 1e3:.0f} "
                f"| {pct(late, 0.99) * 1e3:.0f} / {max(late) * 1e3:.0f} "
                f"| {pct(own, 0.99) * 1e3:.0f} / {max(own) * 1e3:.0f} "
                f"| {firsts[0] * 1e3:.0f} / {statistics.median(firsts) * 1e3:.0f} / "
                f"{firsts[-1] * 1e3:.0f}, {burst(firsts, 0.05)} "
                f"| {max(busy)} / {statistics.mean(busy):.0f} "
                f"| {r['cpu']:.1f} | {r['ended']:.1f} |",
                flush=True,
            )
            print(
                f"<!-- {mode}: load average {load:.1f} on {os.cpu_count()} cores; "
                f"{len(firsts)} first frames; messages by type {r['kinds']}; "
                f"per second {r['per_second']}; longest computing stretches (ms, at s): "
                f"{[(round(c * 1e3), round(t - r['t0'], 2)) for _, c, t in worst]}; "
                f"slowest trivial cells (ms, sent at s): "
                f"{[(round(d * 1e3), round(t, 2)) for d, t in r['slowest']]}; "
                f"full garbage collections (at s, ms): "
                f"{[(round(t, 2), round(d * 1e3)) for t, d in r['gcs']]} -->"
            )


if __name__ == "__main__":
    main()

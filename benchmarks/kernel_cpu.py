"""Kernel CPU per token of showing an answer, above the cost of receiving it at all.

Issue 16's fourth target. A real ipykernel (jupyter_client) receives the same answer (paragraphs
of 60 words, one word a token) from the embedded backend (``nbstream.server.start()`` in a child
process of this script, so that its CPU is not the kernel's) at a fixed pace, with
``nbstream.astream``, and shows it with each consumer in turn, in the same kernel:

- receive only: ``async for delta in astream(…): pass`` (the cost every consumer pays);
- nbstream: ``StreamView`` + ``display`` + ``consume(astream(…))``;
- per delta: ``update_display(Markdown(text), display_id=…)`` of the whole text after every
  text delta (what chatlas and most small magics do);
- throttled 50 ms: the same, at most once per 50 ms, and once at the end.

Each run's kernel CPU (``time.process_time()`` in the kernel: every thread of it, the IOPub
thread that sends the messages included) is taken around the consumer, after a full garbage
collection and a second's pause (the run before must not bill its garbage or its last messages
to this one: the per-delta peer sends 185 MB at 8,000 tokens); "above receiving" is a
consumer's CPU minus the receive-only run's of the same round, per token. The client counts the
messages and the bytes of content (every mimetype's text; the ~0.6 kB envelope of each Jupyter
message not included) that the cell published. Rounds alternate the consumers' order (A B C D,
D C B A, …), as many as give each consumer a minute of streaming (three at least); medians are
printed.

Run: ``python benchmarks/kernel_cpu.py`` (about half an hour: the 8,000-token answers stream
for 80 s at 100 tok/s, three times for each consumer); ``--quick``: 2,000 tokens only.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import statistics
from typing import Any

from _kernel import kernel

SETUP = r"""
import asyncio, gc, time, uuid, nbstream
from IPython.display import Markdown, display, update_display

URL = {url!r}

def answer(n, paragraph=60):
    words = [f"w{{k}}" + ("\n\n" if k % paragraph == paragraph - 1 else "") for k in range(n)]
    return " ".join(words).replace("\n\n ", "\n\n")

def stream(n, rate):
    return nbstream.astream(answer(n), base_url=URL + "/v1", model=f"echo:tps={{rate}}")

async def receive_only(n, rate):
    async for _ in stream(n, rate):
        pass

async def with_nbstream(n, rate):
    view = nbstream.StreamView()
    display(view)
    await view.consume(stream(n, rate))

async def whole_markdown(n, rate, interval):
    text, last, did = "", 0.0, f"peer-{{uuid.uuid4().hex}}"
    display(Markdown(""), display_id=did)
    async for delta in stream(n, rate):
        if delta.kind != "text":
            continue
        text += delta.text
        if time.monotonic() - last >= interval:
            update_display(Markdown(text), display_id=did)
            last = time.monotonic()
    update_display(Markdown(text), display_id=did)

async def timed(run):
    gc.collect()  # the garbage of the run before is not this one's to pay
    await asyncio.sleep(1.0)  # nor is its tail of messages still going out
    cpu = time.process_time()
    await run
    print(time.process_time() - cpu)
"""

CONSUMERS = {
    "receive only": "receive_only({n}, {rate})",
    "nbstream": "with_nbstream({n}, {rate})",
    "per delta": "whole_markdown({n}, {rate}, 0.0)",
    "throttled 50 ms": "whole_markdown({n}, {rate}, 0.05)",
}
CASES = [(2000, 100.0), (2000, 500.0), (8000, 100.0), (8000, 500.0)]


def run(client: Any, code: str, timeout: float) -> tuple[float, int, int]:
    """Run a timed consumer; return its kernel CPU, display messages and content bytes."""
    msg_id = client.execute(f"await timed({code})")
    out, messages, content = "", 0, 0
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "error":
            raise RuntimeError("\n".join(msg["content"]["traceback"]))
        if kind == "stream":
            out += msg["content"]["text"]
        if kind in ("display_data", "update_display_data"):
            messages += 1
            data = msg["content"]["data"]
            content += sum(
                len(v.encode()) if isinstance(v, str) else len(json.dumps(v)) for v in data.values()
            )
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            return float(out), messages, content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2,000 tokens only")
    parser.add_argument("--cases", help="e.g. 2000@100,8000@500 (default: all four)")
    args = parser.parse_args()
    cases = CASES[:2] if args.quick else CASES
    if args.cases:
        cases = [(int(n), float(r)) for n, r in (c.split("@") for c in args.cases.split(","))]
    with kernel() as (url, client):
        client.execute_interactive(SETUP.format(url=url), timeout=60)
        for code in CONSUMERS.values():  # warm up: imports, the SSL context, the first view
            run(client, code.format(n=20, rate=0), 60)
        print(
            f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; at least "
            f"{args.rounds} rounds and a minute of streaming per consumer, medians (and the "
            "range over rounds)\n"
        )
        print(
            "| tokens | tok/s | consumer | kernel CPU s | above receiving: µs per token "
            "| display messages | content KB (x answer) |"
        )
        print("|---:|---:|---|---:|---:|---:|---:|")
        for n, rate in cases:
            size = len(client_answer(client, n))
            cpu: dict[str, list[float]] = {name: [] for name in CONSUMERS}
            above: dict[str, list[float]] = {name: [] for name in CONSUMERS}
            sent: dict[str, tuple[int, int]] = {}
            names = list(CONSUMERS)
            # At least a minute of streaming per consumer: a short answer's CPU is a few tenths
            # of a second, and identical runs differ by 15 % on this machine.
            rounds = max(args.rounds, math.ceil(60 / (n / rate)))
            for r in range(rounds):
                order = names if r % 2 == 0 else names[::-1]  # A B C D, D C B A, …
                used: dict[str, float] = {}
                for name in order:
                    code = CONSUMERS[name].format(n=n, rate=rate)
                    used[name], messages, content = run(client, code, n / rate * 4 + 60)
                    sent[name] = (messages, content)
                for name in names:
                    cpu[name].append(used[name])
                    above[name].append((used[name] - used["receive only"]) / n)
            for name in names:
                messages, content = sent[name]
                extra = statistics.median(above[name]) * 1e6
                spread = f" ({min(above[name]) * 1e6:.0f} to {max(above[name]) * 1e6:.0f})"
                shown = "—" if name == "receive only" else f"{extra:.0f}"
                if rounds > 1 and name != "receive only":
                    shown += spread
                print(
                    f"| {n:,} | {rate:.0f} | {name} | {statistics.median(cpu[name]):.2f} "
                    f"| {shown} | {messages:,} "
                    f"| {content / 1e3:,.1f} ({content / size:.1f}x) |",
                    flush=True,
                )


def client_answer(client: Any, n: int) -> str:
    """The answer's text, as the kernel builds it."""
    reply = client.execute_interactive("", user_expressions={"a": f"answer({n})"}, timeout=60)
    return str(ast.literal_eval(reply["content"]["user_expressions"]["a"]["data"]["text/plain"]))


if __name__ == "__main__":
    main()

"""The frames benchmark in a real kernel: what a frontend receives, and when.

``benchmarks/frames.py`` simulates the clock; this one runs a real ipykernel through
jupyter_client and plays the frontend from the iopub messages it receives. A cell streams
tokens (unique words ``w0 w1 …``, in paragraphs or as one paragraph) from an async generator at
a fixed pace into a consumer, and records when it yielded each token; the client applies every
``display_data`` / ``update_display_data`` to a model of the output area as it arrives and notes
when each word first became visible. Lag = arrival of the message that shows a word minus the
moment the generator yielded it (both on the system's monotonic clock).

Consumers, each in the same kernel on the same stream: nbstream's ``StreamView``; the whole
markdown per delta (``update_display(Markdown(text))``); the same throttled to 50 ms.

Run: ``python benchmarks/kernel_frames.py`` (about two minutes).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from _kernel import kernel, printed

SETUP = r"""
import asyncio, time, nbstream
from IPython.display import Markdown, display, update_display

def words(n, paragraph):
    out = []
    for i in range(n):
        out.append(f"w{i} ")
        if paragraph and i % paragraph == paragraph - 1:
            out.append("\n\n")
    return out

async def source(tokens, rate, log):
    start = time.monotonic()
    for i, tok in enumerate(tokens):
        await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
        if tok.strip():
            log.append(time.monotonic())  # one entry per word: word i is log[i]
        yield tok

async def whole(tokens, rate, log, interval):
    text, last, pending, did = "", 0.0, False, f"peer-{time.monotonic()}"
    display(Markdown(""), display_id=did)
    async for tok in source(tokens, rate, log):
        text += tok
        if time.monotonic() - last >= interval:
            update_display(Markdown(text), display_id=did); last = time.monotonic()
    update_display(Markdown(text), display_id=did)
"""

CASES = [
    ("paragraphs of 60 words", 300, 60, 20.0),
    ("paragraphs of 60 words", 1500, 60, 100.0),
    ("one paragraph", 2000, 0, 100.0),
]
CONSUMERS = {
    "nbstream": "view = nbstream.StreamView()\ndisplay(view)\n"
    "await view.consume(source(words({n}, {p}), {rate}, log))",
    "per delta": "await whole(words({n}, {p}), {rate}, log, 0.0)",
    "throttled 50 ms": "await whole(words({n}, {p}), {rate}, log, 0.05)",
}
_WORD = re.compile(r"\bw(\d+)\b")


@dataclass
class Frontend:
    """The output area, from iopub messages: outputs by display id, and when words appeared."""

    outputs: dict[str, str] = field(default_factory=dict)
    seen: dict[int, float] = field(default_factory=dict)
    messages: int = 0
    content: int = 0
    times: list[float] = field(default_factory=list)

    def apply(self, msg: dict[str, Any], now: float) -> None:
        kind = msg["msg_type"]
        if kind not in ("display_data", "update_display_data"):
            return
        data = msg["content"]["data"]
        if "text/markdown" not in data:
            return  # the Cancel button and status line (a widget, then a status)
        self.messages += 1
        self.times.append(now)
        self.content += sum(len(json.dumps(v)) - 2 for v in data.values())
        did = msg["content"].get("transient", {}).get("display_id") or str(len(self.outputs))
        self.outputs[did] = data["text/markdown"]
        if data["text/markdown"].startswith("<p><small>"):
            return
        for match in _WORD.finditer(self.outputs[did]):
            self.seen.setdefault(int(match.group(1)), now)


def run(client: Any, code: str) -> tuple[Frontend, list[float]]:
    """Execute ``code`` (which fills ``log``) and play the frontend from its messages."""
    client.execute("log = []", reply=True)
    msg_id = client.execute(code)
    front = Frontend()
    while True:
        msg = client.get_iopub_msg(timeout=120)
        now = time.monotonic()
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "error":
            raise RuntimeError("\n".join(msg["content"]["traceback"]))
        front.apply(msg, now)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return front, _last_log(client)


def _last_log(client: Any) -> list[float]:
    return list(json.loads(printed(client, "import json; print(json.dumps(log))", 30)))


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short case (a smoke run)")
    cases = CASES[:1] if parser.parse_args().quick else CASES
    with kernel(backend=False) as (_, client):
        client.execute_interactive(SETUP)
        print(
            "| answer | tok/s | consumer | first word ms | lag p50 / p99 / max ms "
            "| longest gap between messages ms | messages | content KB (x answer) |"
        )
        print("|---|---:|---|---:|---:|---:|---:|---:|")
        for label, n, paragraph, rate in cases:
            size = sum(len(f"w{i} ") for i in range(n)) + (2 * (n // paragraph) if paragraph else 0)
            for name, template in CONSUMERS.items():
                code = template.format(n=n, p=paragraph, rate=rate)
                front, log = run(client, code)
                lags = [front.seen[i] - at for i, at in enumerate(log) if i in front.seen]
                missing = n - len(lags)
                during = [t for t in front.times if t <= log[-1]]
                gaps = [b - a for a, b in itertools.pairwise(during)] or [0.0]
                print(
                    f"| {label} ({n} tokens) | {rate:.0f} | {name} | {lags[0] * 1e3:.1f} "
                    f"| {pct(lags, 0.5) * 1e3:.0f} / {pct(lags, 0.99) * 1e3:.0f} / "
                    f"{max(lags) * 1e3:.0f} | {max(gaps) * 1e3:.0f} | {front.messages:,} "
                    f"| {front.content / 1e3:,.1f} ({front.content / size:.1f}x) |"
                    + (f" {missing} words never shown" if missing else ""),
                    flush=True,
                )


if __name__ == "__main__":
    main()

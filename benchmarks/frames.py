"""How long each word waits to be seen, and what showing it costs: nbstream's view against two peers.

Issue 18's benchmark. Tokens arrive on a simulated clock at 5, 20, 100 and 1,000 tokens/s; each
consumer turns them into the display messages a kernel would send, and a model of the frontend
applies them. Kernel work is real: nbstream's frames are rendered (markdown-it + nh3) and the CPU
time each takes is added to the clock, so a slow render shows up as lag.

Per token with visible text: the lag from its arrival to the first message after which the
frontend shows it. Per run: lag percentiles, the longest pause (the display unchanged although
visible text had arrived, from the first such arrival), content bytes sent (every mimetype, without the ~0.6 kB envelope of each Jupyter
message) against the answer's size, messages, and the highest bytes and messages in any one
second.

Consumers:
- nbstream: ``Painter`` with the view's ``Throttle`` (5 frames/s at most, rate-limited);
- per delta: ``update_display(Markdown(text))`` of the whole markdown after every delta (what
  chatlas and most small magics do);
- throttled: the same at most every 50 ms (with a trailing update when deltas pause).

Answers: "typical" (~60-token paragraphs, bullet lists, code blocks, a table) and "paragraph"
(5,000 tokens with no break). Run: ``python benchmarks/frames.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from nbstream._core.throttle import Bucket, Throttle
from nbstream._view.paint import Painter

WORDS = [
    *[
        "the",
        "model",
        "streams",
        "tokens",
        "into",
        "a",
        "notebook",
        "while",
        "the",
        "reader",
        "waits",
        "for",
        "code",
        "and",
        "math",
    ],
    *["results", "across", "every", "cell", "of", "the", "page"],
]
# IPython's Markdown object sends its text and this plain-text repr.
MARKDOWN_REPR = len(b"<IPython.core.display.Markdown object>")


def typical(tokens: int, seed: int = 0) -> list[str]:
    """An answer shaped like the issue's: ~60-token paragraphs, lists, code and a table."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < tokens:
        kind = rng.random()
        if kind < 0.55:
            for i in range(rng.randint(40, 80)):
                end = "." if rng.random() < 0.08 else ""
                out.append((" " if i else "") + rng.choice(WORDS) + end)
            out.append(".\n\n")
        elif kind < 0.75:
            for _ in range(rng.randint(3, 6)):
                out += ["- **", "item**", *[" " + rng.choice(WORDS) for _ in range(8)], "\n"]
            out.append("\n")
        elif kind < 0.9:
            out.append("```python\n")
            for i in range(rng.randint(4, 12)):
                out += [f"x{i}", " =", f" {i}", " *", " 2", "\n"]
            out.append("```\n\n")
        else:
            out += ["| name", " | value", " |\n", "|---|", "---:|\n"]
            for i in range(rng.randint(3, 6)):
                out += [f"| {rng.choice(WORDS)}", f" | {i}", " |\n"]
            out.append("\n")
    return out[:tokens]


def paragraph(tokens: int, seed: int = 0) -> list[str]:
    """One paragraph of ``tokens`` word tokens with no break (sentences, no blank line)."""
    rng = random.Random(seed)
    return [
        (" " if i else "") + rng.choice(WORDS) + ("." if rng.random() < 0.07 else "")
        for i in range(tokens)
    ]


@dataclass
class Result:
    """What one consumer did with one stream."""

    lags: list[float]
    pause: float
    sent: int
    messages: int
    peak_bytes: float
    peak_messages: float
    cpu: float
    first: float


class Consumer:
    """The interface the simulation drives (nbstream and the peers)."""

    def add(self, token: str, now: float) -> list[tuple[int, int]]:
        """Take a token at ``now``; return ``(bytes, shown)`` of each message sent."""
        raise NotImplementedError

    def due(self, now: float) -> float | None:
        """When the consumer wants to be woken next (a frame timer), or ``None``."""
        raise NotImplementedError

    def wake(self, now: float) -> list[tuple[int, int]]:
        """The timer fired at ``now``."""
        raise NotImplementedError

    def finish(self, now: float) -> list[tuple[int, int]]:
        """The stream ended."""
        raise NotImplementedError


class Nbstream(Consumer):
    """The view's painter and throttle, as ``StreamView`` sets them up."""

    def __init__(self) -> None:
        self.painter = Painter(throttle=Throttle(shared=(Bucket(500_000), Bucket(400.0))))

    def _frame(self, now: float) -> list[tuple[int, int]]:
        ops = self.painter.frame(now)
        return [(op.size, self.painter.shown) for op in ops]

    def add(self, token: str, now: float) -> list[tuple[int, int]]:
        self.painter.add_text(token)
        due = self.painter.next_frame_at(now)
        return self._frame(now) if due is not None and due <= now else []

    def due(self, now: float) -> float | None:
        return self.painter.next_frame_at(now)

    def wake(self, now: float) -> list[tuple[int, int]]:
        return self._frame(now)

    def finish(self, now: float) -> list[tuple[int, int]]:
        ops = self.painter.finish(now)
        return [(op.size, self.painter.shown) for op in ops]


class WholeMarkdown(Consumer):
    """``update_display(Markdown(text))`` of the whole text, per delta or at most per interval."""

    def __init__(self, interval: float = 0.0) -> None:
        self.interval = interval
        self.length = 0  # characters so far
        self.size = 0  # bytes so far
        self.last: float | None = None
        self.pending = False

    def _send(self, now: float) -> list[tuple[int, int]]:
        self.last, self.pending = now, False
        return [(self.size + MARKDOWN_REPR, self.length)]

    def add(self, token: str, now: float) -> list[tuple[int, int]]:
        self.length += len(token)
        self.size += len(token.encode())
        if self.last is None or now - self.last >= self.interval:
            return self._send(now)
        self.pending = True
        return []

    def due(self, now: float) -> float | None:
        if not self.pending or self.last is None:
            return None
        return self.last + self.interval

    def wake(self, now: float) -> list[tuple[int, int]]:
        return self._send(now) if self.pending else []

    def finish(self, now: float) -> list[tuple[int, int]]:
        return self._send(now)


def simulate(tokens: list[str], rate: float, consumer: Consumer) -> Result:
    """Play ``tokens`` at ``rate`` through ``consumer``; the kernel is busy while it computes."""
    arrivals = [(i + 1) / rate for i in range(len(tokens))]
    ends: list[tuple[float, int]] = []  # (arrival, end offset) of tokens with visible text
    sends: list[tuple[float, int, int]] = []  # (time, bytes, shown)
    busy, cpu, offset = 0.0, 0.0, 0

    def run(at: float, step: Callable[[float], list[tuple[int, int]]]) -> None:
        nonlocal busy, cpu
        start = max(at, busy)
        c0 = time.process_time()
        out = step(start)
        used = time.process_time() - c0
        cpu += used
        busy = start + used
        sends.extend((busy, size, shown) for size, shown in out)

    for token, arrival in zip(tokens, arrivals, strict=True):
        due = consumer.due(busy)
        while due is not None and max(due, busy) < arrival:
            run(due, consumer.wake)
            due = consumer.due(busy)
        offset += len(token)
        if any(ch.isalnum() for ch in token):
            ends.append((arrival, offset))
        run(arrival, lambda now, token=token: consumer.add(token, now))  # type: ignore[misc]
    run(arrivals[-1], consumer.finish)
    sends.append((busy, 0, offset))

    lags: list[float] = []
    k = 0
    shown_max = 0
    shown_at: list[tuple[float, int]] = []
    for at, _, shown in sends:
        if shown > shown_max:
            shown_max = shown
            shown_at.append((at, shown))
    for arrival, end in ends:
        while shown_at[k][1] < end:
            k += 1
        lags.append(max(0.0, shown_at[k][0] - arrival))
    # A pause: the display did not change although visible text had arrived (counted from that
    # arrival, so tokens of markup or whitespace, which change nothing, do not make one).
    pause, k = 0.0, 0
    previous = 0.0
    for at, _ in shown_at:
        while k < len(ends) and ends[k][0] <= at:
            if ends[k][0] > previous:
                pause = max(pause, at - ends[k][0])
                break
            k += 1
        previous = at
    return Result(
        lags=sorted(lags),
        pause=pause,
        sent=sum(size for _, size, _ in sends),
        messages=len(sends) - 1,
        peak_bytes=_peak([(at, size) for at, size, _ in sends[:-1]]),
        peak_messages=_peak([(at, 1) for at, _, _ in sends[:-1]]),
        cpu=cpu,
        first=lags[0] if lags else 0.0,
    )


def _peak(events: list[tuple[float, int]], window: float = 1.0) -> float:
    """The most that was sent in any ``window`` seconds."""
    best = total = 0
    i = 0
    for j, (at, amount) in enumerate(events):
        total += amount
        while events[i][0] <= at - window:
            total -= events[i][1]
            i += 1
        best = max(best, total)
        del j
    return best


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of sorted ``values`` (nearest rank)."""
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer tokens (a smoke run)")
    args = parser.parse_args()
    n_typical, n_paragraph = (300, 1000) if args.quick else (1500, 5000)
    shapes = {
        "typical": typical(n_typical),
        "paragraph": paragraph(n_paragraph),
    }
    consumers: dict[str, Callable[[], Consumer]] = {
        "nbstream": Nbstream,
        "per delta": WholeMarkdown,
        "throttled 50 ms": lambda: WholeMarkdown(0.05),
    }
    print(
        "| answer | tok/s | consumer | lag p50 ms | lag p99 ms | lag max ms | longest pause ms "
        "| KB sent (x answer) | msgs | peak KB/s | peak msgs/s | kernel CPU s |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    # jupyter_server drops a kernel's output above 1,000 messages/s or 1 MB/s (FACTS.md).
    over = " ⚠ over jupyter_server's limit"
    for shape, tokens in shapes.items():
        size = len("".join(tokens).encode())
        for rate in (5.0, 20.0, 100.0, 1000.0):
            for name, make in consumers.items():
                r = simulate(tokens, rate, make())
                print(
                    f"| {shape} ({size / 1e3:.1f} KB) | {rate:.0f} | {name} "
                    f"| {pct(r.lags, 0.5) * 1e3:.0f} | {pct(r.lags, 0.99) * 1e3:.0f} "
                    f"| {r.lags[-1] * 1e3:.0f} | {r.pause * 1e3:.0f} "
                    f"| {r.sent / 1e3:,.1f} ({r.sent / size:.1f}x) | {r.messages:,} "
                    f"| {r.peak_bytes / 1e3:,.1f} | {r.peak_messages:.0f} | {r.cpu:.2f} |"
                    + (over if r.peak_messages > 1000 or r.peak_bytes > 1e6 else ""),
                    flush=True,
                )


if __name__ == "__main__":
    main()

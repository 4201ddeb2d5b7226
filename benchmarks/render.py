"""Bytes to the frontend and kernel CPU of the view, against resending the full text.

Simulated clock (tokens arrive at 100 or 1000 tokens/s); real rendering (markdown-it + nh3).
Peers: the full text rendered and sent per delta, and the same throttled to one frame per 50 ms.
Prints a table with ratios to the final markdown's size. Run: python benchmarks/render.py
"""

from __future__ import annotations

import random
import time

from nbstream._render import Renderer
from nbstream._view_paint import Painter

WORDS = ["the", "model", "streams", "tokens", "into", "a", "notebook", "while", "the", "reader", "waits", "for", "code", "and", "math"]


def answer(tokens: int, seed: int = 0) -> list[str]:
    """An LLM-like markdown answer as ~4-character tokens: paragraphs, lists, code, headings."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < tokens:
        kind = rng.random()
        if kind < 0.1:
            out += ["## ", *[rng.choice(WORDS) + " " for _ in range(4)], "\n\n"]
        elif kind < 0.3:
            for _ in range(rng.randint(2, 5)):
                out += [
                    "- ",
                    "**",
                    "item",
                    "** ",
                    *[rng.choice(WORDS) + " " for _ in range(8)],
                    "\n",
                ]
            out.append("\n")
        elif kind < 0.4:
            out += [
                "```python\n",
                *[f"x{i} = {i} * 2\n" for i in range(rng.randint(3, 10))],
                "```\n\n",
            ]
        else:
            out += [
                rng.choice(WORDS) + rng.choice([" ", " ", ", ", " `code` ", " $x^2$ "])
                for _ in range(rng.randint(40, 120))
            ]
            out.append("\n\n")
    return out[:tokens]


def view(tokens: list[str], rate: float) -> tuple[int, float, int]:
    painter, now, sent, ops = Painter(), 0.0, 0, 0
    cpu = time.process_time()
    for tok in tokens:
        now += 1.0 / rate
        painter.add_text(tok)
        for op in painter.frame(now):
            sent += op.size
            ops += 1
    for op in painter.finish():
        sent += op.size
        ops += 1
    return sent, time.process_time() - cpu, ops


def full_resend(tokens: list[str], rate: float, interval: float) -> tuple[int, float, int]:
    renderer, text, now, last, sent, ops = Renderer(), "", 0.0, -1.0, 0, 0
    cpu = time.process_time()
    for i, tok in enumerate(tokens):
        text += tok
        now += 1.0 / rate
        if now - last >= interval or i == len(tokens) - 1:
            last = now
            html = renderer.render(text)
            sent += len(html.encode()) + len(text.encode())
            ops += 1
    return sent, time.process_time() - cpu, ops


def main() -> None:
    print(
        "| tokens | tok/s | final KB | view KB (x final) | msgs | view CPU s | throttled full KB (x) | CPU s | per-delta full KB (x) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    cpus: dict[float, dict[int, float]] = {100: {}, 1000: {}}
    for n in (5000, 10000, 20000, 40000):
        toks = answer(n)
        size = len("".join(toks).encode())
        for rate in (100.0, 1000.0):
            v_bytes, v_cpu, v_ops = view(toks, rate)
            cpus[rate][n] = v_cpu
            # The full-resend peers are quadratic: measured up to 10k tokens only (keeps the run short).
            if n <= 10000:
                t_bytes, t_cpu, _ = full_resend(toks, rate, 0.05)
                peer = f"{t_bytes / 1e3:,.0f} ({t_bytes / size:.0f}x) | {t_cpu:.2f}"
            else:
                peer = "not run | not run"
            # Per delta: at least the markdown prefix twice (rich + plain); computed, not rendered.
            prefix, per_delta = 0, 0
            for tok in toks:
                prefix += len(tok.encode())
                per_delta += 2 * prefix
            print(
                f"| {n:,} | {rate:.0f} | {size / 1e3:.0f} | {v_bytes / 1e3:.0f} ({v_bytes / size:.2f}x) | {v_ops} | {v_cpu:.2f} "
                f"| {peer} | >= {per_delta / 1e3:,.0f} ({per_delta / size:.0f}x) |"
            )
    for rate, c in cpus.items():
        print(
            f"CPU scaling at {rate:.0f} tok/s: 40k/10k tokens = {c[40000] / c[10000]:.2f}x (target <= 4.5x)"
        )


if __name__ == "__main__":
    main()

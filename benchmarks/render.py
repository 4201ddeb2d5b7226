"""Bytes to the frontend and kernel CPU of the view, against resending the full text.

Simulated clock (tokens arrive at 100 or 1000 tokens/s); real rendering (markdown-it + nh3).
Peers: the full text rendered and sent per 50 ms frame (measured at 5k tokens, extrapolated as
n^2 above) and per delta (computed). Prints a markdown table with ratios to the final markdown's
size, then the CPU scaling 40k/10k tokens, then the view before and after issue 14 in the same
run: the tree at ``--before`` (default :data:`BEFORE`), taken with ``git archive`` and measured
in a subprocess, alternating with this tree. About a minute of CPU.
Run: python benchmarks/render.py [--before REV]. Results and their reading:
benchmarks/README-render.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import itertools
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbstream._view.paint import Painter
from nbstream._view.render import Renderer

WORDS = [
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
]


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


@dataclass
class Run:
    """What one simulated stream cost."""

    sent: int  # content bytes of every display/update (the final outputs included)
    cpu: float  # kernel CPU seconds (process time)
    ops: int  # display operations
    first: float  # simulated seconds from the first token to the first frame
    gap: float  # longest simulated pause between two frames while tokens arrive
    rendered: int  # characters of markdown rendered (a CPU measure that load cannot disturb)


def view(tokens: list[str], rate: float) -> Run:
    """Stream ``tokens`` at ``rate`` tokens/s through the view's Painter."""
    painter, now, sent, ops, shown = Painter(), 0.0, 0, 0, [0.0]
    render, rendered = painter.renderer.render, [0]

    def counting(text: str, env: Any = None, **options: Any) -> str:
        rendered[0] += len(text)
        return str(render(text, env, **options))

    painter.renderer.render = counting  # type: ignore[method-assign]
    gc.collect()
    cpu = time.process_time()
    for tok in tokens:
        now += 1.0 / rate
        painter.add_text(tok)
        frame = painter.frame(now)
        if frame:
            shown.append(now)
        for op in frame:
            sent += op.size
            ops += 1
    for op in painter.finish():
        sent += op.size
        ops += 1
    used = time.process_time() - cpu
    gaps = [b - a for a, b in itertools.pairwise(shown[1:])] or [0.0]
    first = shown[1] - 1.0 / rate if len(shown) > 1 else now
    return Run(sent, used, ops, first, max(gaps), rendered[0])


def full_resend(tokens: list[str], rate: float, interval: float) -> tuple[int, float]:
    """The peer: render the whole text and send it (HTML and plain) once per ``interval``."""
    renderer, text, now, last, sent = Renderer(), "", 0.0, -1.0, 0
    cpu = time.process_time()
    for i, tok in enumerate(tokens):
        text += tok
        now += 1.0 / rate
        if now - last >= interval or i == len(tokens) - 1:
            last = now
            html = renderer.render(text)
            sent += len(html.encode()) + len(text.encode())
    return sent, time.process_time() - cpu


#: main before issue 14 (code fences, math that reaches MathJax, money as text, task lists).
BEFORE = "98f5d5d"
REPO = Path(__file__).resolve().parents[1]

PEER_TOKENS = 5000  # the full-resend peer is quadratic: measured here, extrapolated (n^2) above


def main(before: str = BEFORE) -> None:
    """Print the tables; the last one compares with the tree at git revision ``before``."""
    print(
        "| tokens | tok/s | final KB | view KB (x final) | msgs | first frame s | longest pause s "
        "| view CPU s | throttled full resend KB (x) | its CPU s | per-delta full resend KB (x) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    cpus: dict[float, dict[int, float]] = {100: {}, 1000: {}}
    work: dict[float, dict[int, int]] = {100: {}, 1000: {}}
    peers: dict[float, tuple[int, float]] = {}
    for n in (200, 1000, 5000, 10000, 20000, 40000):
        toks = answer(n)
        size = len("".join(toks).encode())
        for rate in (100.0, 1000.0):
            run = view(toks, rate)
            cpus[rate][n], work[rate][n] = run.cpu, run.rendered
            if n == PEER_TOKENS:
                peers[rate] = full_resend(toks, rate, 0.05)
            if n < PEER_TOKENS:
                peer = " | "
            elif n == PEER_TOKENS:
                t_bytes, t_cpu = peers[rate]
                peer = f"{t_bytes / 1e3:,.0f} ({t_bytes / size:.0f}x) | {t_cpu:.2f}"
            else:
                scale = (n / PEER_TOKENS) ** 2
                t_bytes, t_cpu = peers[rate]
                est = t_bytes * scale
                peer = f"~{est / 1e3:,.0f} (~{est / size:.0f}x), extrapolated | ~{t_cpu * scale:.0f}, extrapolated"
            # Per delta: at least the markdown prefix twice (rich + plain); computed, not rendered.
            prefix, per_delta = 0, 0
            for tok in toks:
                prefix += len(tok.encode())
                per_delta += 2 * prefix
            print(
                f"| {n:,} | {rate:.0f} | {size / 1e3:.1f} | {run.sent / 1e3:,.1f} ({run.sent / size:.2f}x) "
                f"| {run.ops} | {run.first:.2f} | {run.gap:.2f} | {run.cpu:.2f} | {peer} "
                f"| >= {per_delta / 1e3:,.0f} ({per_delta / size:.0f}x) |"
            )
    # CPU scaling: 10k and 40k tokens measured in alternation, best of 5 each, so that both
    # sizes see the same load on a shared machine (sequential runs differed by 2x per call).
    for rate in (100.0, 1000.0):
        t10, t40 = answer(10000), answer(40000)
        best = {10000: float("inf"), 40000: float("inf")}
        for _ in range(5):
            best[10000] = min(best[10000], view(t10, rate).cpu)
            best[40000] = min(best[40000], view(t40, rate).cpu)
        print(
            f"CPU scaling at {rate:.0f} tok/s (alternating, best of 5): 40k/10k tokens = "
            f"{best[40000] / best[10000]:.2f}x (target <= 4.5x); markdown rendered 40k/10k = "
            f"{work[rate][40000] / work[rate][10000]:.2f}x; 20k/5k CPU (single runs) = "
            f"{cpus[rate][20000] / cpus[rate][5000]:.2f}x"
        )

    print()
    compare(before)


def _tree(rev: str) -> Path | None:
    """The package as it was at ``rev``, extracted to a temporary directory (or ``None``)."""
    target = Path(tempfile.mkdtemp(prefix="nbstream-before-"))
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", rev, "nbstream"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        return None
    archive_path = target / "tree.tar"
    archive_path.write_bytes(archive.stdout)
    with tarfile.open(archive_path) as tar:
        tar.extractall(target, filter="data")
    return target


def _measure_in(tree: Path, n: int, rate: float) -> dict[str, Any]:
    """Run :func:`view` in a subprocess that imports nbstream from ``tree``."""
    path = os.pathsep.join([str(tree), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, __file__, "--measure", str(n), str(rate)],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["package"].startswith(str(tree)), result["package"]  # the tree asked for
    return result


def compare(rev: str) -> None:
    """The view before (``rev``) and after, same workloads, alternating, best CPU of 3."""
    before = _tree(rev)
    if before is None:
        print(f"(no comparison: git archive {rev} failed)")
        return
    print(f"Before ({rev}) and after, same run (alternating subprocesses, best CPU of 3):")
    print()
    print(
        "| tokens | tok/s | before KB (x final) | after KB (x final) | before msgs | after msgs "
        "| before CPU s | after CPU s | after / before CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in (10000, 40000):
        size = len("".join(answer(n)).encode())
        for rate in (100.0, 1000.0):
            runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
            for _ in range(3):
                runs["before"].append(_measure_in(before, n, rate))
                runs["after"].append(_measure_in(REPO, n, rate))
            b, a = (min(runs[k], key=lambda r: r["cpu"]) for k in ("before", "after"))
            print(
                f"| {n:,} | {rate:.0f} | {b['sent'] / 1e3:,.1f} ({b['sent'] / size:.2f}x) "
                f"| {a['sent'] / 1e3:,.1f} ({a['sent'] / size:.2f}x) | {b['ops']} | {a['ops']} "
                f"| {b['cpu']:.2f} | {a['cpu']:.2f} | {a['cpu'] / b['cpu']:.2f}x |"
            )


def _measure(n: int, rate: float) -> None:
    import nbstream

    run = view(answer(n), rate)
    print(json.dumps({**dataclasses.asdict(run), "package": nbstream.__file__}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--before", default=BEFORE, help="the git revision to compare with")
    parser.add_argument("--measure", nargs=2, metavar=("TOKENS", "RATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure(int(args.measure[0]), float(args.measure[1]))
    else:
        main(args.before)

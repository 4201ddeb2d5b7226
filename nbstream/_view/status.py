"""The view's live status line, from counters kept as deltas arrive (the final one is the
reply's own: :func:`nbstream._core.reply.status_line`).

Pure (stdlib and the core's deltas).

The line is refreshed about once a second while a stream runs, so it must not cost more as the
answer grows: building it from ``DeltaStream.reply`` copied and scanned every delta each time
(a 40k-token answer at 100 tokens/s: 400 refreshes over up to 40k deltas each, quadratic).
:class:`Progress` counts instead.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass

from .._core.deltas import Retry, retry_in

__all__ = ["Progress"]

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass(slots=True)
class Progress:
    """Counters of a running stream, for its live status line.

    Attributes:
        started: Monotonic time the request started.
        tokens: Text and reasoning deltas with content so far.
        first: Monotonic time of the first of them, or ``None``.
        tick: Refresh counter (turns the spinner).
        retry: The last retry announced, shown (counting down) until its wait is over.
    """

    started: float
    tokens: int = 0
    first: float | None = None
    tick: int = 0
    retry: Retry | None = None

    def token(self, now: float) -> None:
        """Count one delta with content, arrived at ``now``."""
        self.tokens += 1
        if self.first is None:
            self.first = now

    def line(self, now: float, model: str | None = None, notice: str | None = None) -> str:
        """The status as HTML (one ``<span>``, escaped): spinner, tokens, speed, timings.

        Args:
            now: The monotonic clock.
            model: The model's name, if known.
            notice: A line to append.

        Returns:
            ``"<span>streaming · 120 tokens · 48.1 tok/s · first token 0.31 s · 2.8 s</span>"``.
        """
        elapsed = max(0.0, now - self.started)
        retry = self.retry
        if self.first is None and retry is not None and now < retry.time + retry.wait:
            spin = _SPINNER[self.tick % len(_SPINNER)]
            left = retry.time + retry.wait - now
            text = f"{spin} {retry_in(left)}: {retry.reason} · {elapsed:.1f} s"
        elif self.first is None:
            spin = _SPINNER[self.tick % len(_SPINNER)]
            text = f"{spin} waiting for the first token… {elapsed:.1f} s"
        else:
            span = now - self.first
            # The first token starts the span, so it is not counted in the rate (as Reply does).
            rate = (
                f" · {(self.tokens - 1) / span:.1f} tok/s" if span > 0 and self.tokens > 1 else ""
            )
            ttft = f" · first token {self.first - self.started:.2f} s"
            text = f"streaming · {self.tokens:,} tokens{rate}{ttft} · {elapsed:.1f} s"
        text += "".join(f" · {part}" for part in (model, notice) if part)
        return f"<span>{html.escape(text)}</span>"

    @classmethod
    def now(cls) -> Progress:
        """Counters for a request starting now."""
        return cls(time.monotonic())

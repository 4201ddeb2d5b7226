"""The view's status lines: live, from counters kept as deltas arrive; final, from the Reply.

Pure (stdlib and the core's Reply).

The line is refreshed about once a second while a stream runs, so it must not cost more as the
answer grows: building it from ``DeltaStream.reply`` copied and scanned every delta each time
(a 40k-token answer at 100 tokens/s: 400 refreshes over up to 40k deltas each, quadratic).
:class:`Progress` counts instead.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from typing import Any

from .._core.deltas import Retry, retry_in
from .._core.reply import Reply

__all__ = ["Progress", "provenance", "status_line"]

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


def status_line(reply: Reply, notice: str | None = None) -> str:
    """Describe how a reply ended, in one line: status, model, tokens, speed, timings, notes.

    Args:
        reply: The reply; each of its ``notes`` is said once, at the end.
        notice: A line to append (``"demo backend, not a language model"``).

    Returns:
        Plain text, e.g. ``"done · gemma · 1,234 tokens · 45.2 tok/s · first token 0.31 s · 12.3 s"``.
    """
    head = {"finished": "✓ done", "cancelled": "■ cancelled", "failed": "✗ failed"}.get(
        reply.status, "… truncated"
    )
    if reply.error:
        head += f": {reply.error}"
    parts = [head]
    parts += [p for p in (reply.model, reply.endpoint) if p]
    parts.append(f"{reply.output_tokens:,} tokens")
    if reply.tokens_per_s is not None:
        parts.append(f"{reply.tokens_per_s:.1f} tok/s")
    if reply.ttft is not None:
        parts.append(f"first token {reply.ttft:.2f} s")
    parts.append(f"{reply.duration:.1f} s")
    if reply.finish_reason and reply.finish_reason not in ("stop", "end_turn"):
        parts.append(f"finish: {reply.finish_reason}")
    parts += reply.notes
    line = " · ".join(parts)
    return f"{line} · {notice}" if notice else line


def provenance(reply: Reply) -> dict[str, Any]:
    """Return the metadata saved with the final output: where the answer came from and how.

    Args:
        reply: The reply (its ``endpoint`` is a host, never a key).

    Returns:
        A JSON-able dict for the output's ``metadata["nbstream"]``.
    """
    usage = reply.usage
    return {
        "model": reply.model,
        "endpoint": reply.endpoint or None,
        "format": reply.format or None,
        "status": reply.status,
        "error": reply.error,
        "finish_reason": reply.finish_reason,
        "response_id": reply.response_id,
        "notes": list(reply.notes),
        "usage": None
        if usage is None
        else {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
        },
        "timings": {
            "ttft_s": None if reply.ttft is None else round(reply.ttft, 4),
            "duration_s": round(reply.duration, 4),
            "tokens_per_s": None if reply.tokens_per_s is None else round(reply.tokens_per_s, 2),
            "output_tokens": reply.output_tokens,
        },
    }

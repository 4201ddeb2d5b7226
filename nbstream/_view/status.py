"""The view's live status line, from counters kept as deltas arrive (the final one is the
reply's own: :func:`nbstream._core.reply.status_line`).

Pure (stdlib and the core's values).

The line is refreshed about once a second while a stream runs, so it must not cost more as the
answer grows: building it from ``DeltaStream.reply`` copied and scanned every delta each time
(a 40k-token answer at 100 tokens/s: 400 refreshes over up to 40k deltas each, quadratic).
:class:`Progress` counts instead.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field

from .._core.deltas import Retry, ServerToolCallDelta, retry_in
from .._core.reply import ServerToolCall
from .render import inline_text

__all__ = ["Progress", "server_tools"]

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
    running: dict[int, str] = field(default_factory=dict)

    def server_tool(self, delta: ServerToolCallDelta) -> None:
        """Follow a tool call the server runs: shown as running until its result arrives."""
        if delta.result:
            self.running.pop(delta.index, None)
        elif delta.name:
            self.running[delta.index] = delta.name

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
        if self.running:  # a web search or code run: the wait is the server's, not a stall
            text += f" · running {', '.join(dict.fromkeys(self.running.values()))}"
        text += "".join(f" · {part}" for part in (model, notice) if part)
        return f"<span>{html.escape(text)}</span>"

    @classmethod
    def now(cls) -> Progress:
        """Counters for a request starting now."""
        return cls(time.monotonic())


def server_tools(calls: tuple[ServerToolCall, ...], limit: int = 160) -> tuple[str, str]:
    """The tool calls the server ran, as HTML collapsed under their count and as plain text.

    One line each: the tool's name, its input and the summary of its result, each cut to
    ``limit`` characters (a search's input is a query; a code run's can be a whole program).
    Every value is escaped in the HTML: it comes from the server and the model.

    Returns:
        ``(html, text)``, both ``""`` without calls.
    """
    if not calls:
        return "", ""

    def cut(text: str) -> str:
        text = " ".join(text.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    items, lines = [], []
    for call in calls:
        name = cut(call.name or "tool")
        args = cut(call.arguments) if call.arguments.strip() not in ("", "{}") else ""
        result = f"→ {cut(call.result)}" if call.result else "(no result)"
        # inline_text: escaped, and nothing the frontend takes for math ("$5 and $10").
        items.append(
            f"<li><code>{inline_text(name)}</code> {inline_text(args)} {inline_text(result)}</li>"
        )
        lines.append(" ".join(part for part in (f"- {name}", args, result) if part))
    n = len(calls)
    summary = f"{n} tool call{'s' if n > 1 else ''} run by the server"
    markup = (
        f"<details><summary><small>{summary}</small></summary><ul>{''.join(items)}</ul></details>\n"
    )
    return markup, "\n".join([f"{summary}:", *lines])

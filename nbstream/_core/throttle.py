"""The frame scheduler: "redraw now?" for a growing answer. Pure, stdlib only.

Like rich's ``Live``: accumulate, redraw at a bounded rate, always a final refresh (the final
refresh is the caller's, and is never throttled). Three limits, all measured facts:

- the first frame is drawn at once (time to first token is what users judge);
- then at most ``fps`` frames per second: jupyter_server drops iopub output above 1000
  messages/s and a flooded frontend silently loses messages (FACTS.md, "Iopub traffic");
- adaptive on cost: the drawing may use at most ``cpu_share`` of the kernel's time (the interval
  stretches when rendering gets slow), and every byte sent is charged against a budget of
  ``budget_ratio`` times the answer's length plus an ``allowance`` that fades as the answer grows
  (``allowance * fade / (fade + length)``). A long live tail costs more per frame, so it is
  redrawn less often; short answers stay at full frame rate, and long ones stay below 3 times
  their size (a fixed 6000-byte allowance made a 5k-token answer cost 3.08 times; this one adds 0.025 times).
- the caller passes a ``reserve``: the bytes it will still have to send in any case (the exact
  final form of the unsettled tail), so a frame is drawn only if the end still fits the budget.
"""

from __future__ import annotations

__all__ = ["Throttle"]


class Throttle:
    """Decide when to draw the next frame.

    Args:
        fps: Highest frame rate.
        budget_ratio: Bytes that may be sent per character of answer, everything counted.
        allowance: Bytes that may be sent beyond the ratio at the start (keeps short answers
            smooth).
        fade: Answer length (characters) at which the allowance has halved.
        cpu_share: Largest share of the kernel's time that drawing may take.
        max_interval: The longest the CPU rule may stretch the interval to.
    """

    def __init__(
        self,
        *,
        fps: float = 15.0,
        budget_ratio: float = 2.9,
        allowance: int = 10000,
        fade: int = 4000,
        cpu_share: float = 0.2,
        max_interval: float = 1.0,
    ) -> None:
        self.base_interval = 1.0 / fps
        self.interval = self.base_interval
        self.budget_ratio = budget_ratio
        self.allowance = allowance
        self.fade = fade
        self.cpu_share = cpu_share
        self.max_interval = max_interval
        self.last: float | None = None
        self.spent = 0
        self.frames = 0

    def budget(self, content: int) -> float:
        """Bytes that may have been sent in all for an answer of ``content`` characters."""
        return self.budget_ratio * content + self.allowance * self.fade / (self.fade + content)

    def due(self, now: float) -> bool:
        """Tell whether enough time passed since the last frame (always for the first one).

        Args:
            now: The monotonic clock.
        """
        return self.last is None or now - self.last >= self.interval

    def affordable(self, cost: float, content: int, reserve: float = 0) -> bool:
        """Tell whether a frame of ``cost`` bytes fits the byte budget.

        Args:
            cost: Bytes the frame would send.
            content: Characters of answer (and reasoning) so far.
            reserve: Bytes that will be sent later whatever happens (not charged yet).
        """
        return self.spent + cost + reserve <= self.budget(content)

    def charge(self, cost: int) -> None:
        """Count bytes that were sent, whatever sent them (settled blocks, status, final).

        Args:
            cost: Bytes sent.
        """
        self.spent += cost

    def drew(self, now: float, cpu_seconds: float) -> None:
        """Record a drawn frame and adapt the interval to its cost.

        Args:
            now: The monotonic clock when the frame was drawn.
            cpu_seconds: Kernel CPU time the frame took (rendering and sending).
        """
        self.last = now
        self.frames += 1
        wanted = cpu_seconds / self.cpu_share
        self.interval = min(self.max_interval, max(self.base_interval, wanted))

"""The frame scheduler: "redraw now?" for a growing answer. Pure, stdlib only.

Like rich's ``Live``: accumulate, redraw at a bounded rate, always a final refresh (the final
refresh is the caller's, and is never throttled). The cost of a view is bounded by *rate*, not
by a multiple of the answer:

- the first frame is drawn at once (time to first token is what users judge);
- then at most one frame per ``interval`` (1/5 s): every word is on screen within about that
  long after it arrived, at any pace;
- every view may send at most ``byte_rate`` bytes and ``message_rate`` messages per second
  (token buckets holding one second's worth, so a burst is fine and a sustained flood is not),
  and all views in a process share one more pair of buckets: jupyter_server drops output above
  1000 iopub messages/s and 1 MB/s per kernel, and a flooded frontend silently loses messages
  (FACTS.md, "Iopub traffic");
- the interval stretches when drawing gets slow, so that drawing takes at most ``cpu_share`` of
  the kernel's time.

A byte budget proportional to the answer (what this replaced) froze long paragraphs: once the
live block was most of the answer, its redraw never fitted, so it waited until the block ended.
"""

from __future__ import annotations

__all__ = ["Bucket", "Throttle"]


class Bucket:
    """A token bucket: at most ``rate`` units per second on average, bursts up to ``capacity``.

    Args:
        rate: Units refilled per second.
        capacity: The most the bucket holds (the largest burst); default one second's worth.
    """

    __slots__ = ("_at", "capacity", "level", "rate")

    def __init__(self, rate: float, capacity: float | None = None) -> None:
        self.rate = rate
        self.capacity = rate if capacity is None else capacity
        self.level = self.capacity
        self._at: float | None = None

    def _refill(self, now: float) -> None:
        if self._at is not None and now > self._at:
            self.level = min(self.capacity, self.level + (now - self._at) * self.rate)
        if self._at is None or now > self._at:
            self._at = now

    def take(self, amount: float, now: float) -> None:
        """Spend ``amount`` units at ``now`` (the level may go negative: a debt paid by waiting)."""
        self._refill(now)
        self.level -= amount

    def wait(self, now: float) -> float:
        """Seconds until the bucket is out of debt (``0.0`` when it is not in debt)."""
        self._refill(now)
        return 0.0 if self.level >= 0 else -self.level / self.rate


class Throttle:
    """Decide when to draw the next frame of one view.

    Args:
        fps: Highest frame rate while text arrives (the interval is its inverse).
        byte_rate: Bytes per second this view may send, on average.
        message_rate: Messages per second this view may send, on average.
        cpu_share: Largest share of the kernel's time that drawing may take.
        max_interval: The longest the CPU rule may stretch the interval to.
        shared: Buckets shared by every view of the process (bytes, messages), charged too.
    """

    def __init__(
        self,
        *,
        fps: float = 5.0,
        byte_rate: float = 100_000,
        message_rate: float = 20.0,
        cpu_share: float = 0.25,
        max_interval: float = 0.5,
        shared: tuple[Bucket, Bucket] | None = None,
    ) -> None:
        self.base_interval = 1.0 / fps
        self.interval = self.base_interval
        self.cpu_share = cpu_share
        self.max_interval = max_interval
        self.bytes = Bucket(byte_rate)
        self.messages = Bucket(message_rate)
        self.shared = shared
        self.last: float | None = None
        self.sent = 0
        self.sent_messages = 0
        self.frames = 0

    def _buckets(self) -> tuple[Bucket, ...]:
        return (self.bytes, self.messages, *(self.shared or ()))

    def next_at(self, now: float) -> float:
        """The earliest time the next frame may be drawn (``now`` for the first one).

        Args:
            now: The monotonic clock.
        """
        debt = max(bucket.wait(now) for bucket in self._buckets())
        if self.last is None:
            return now + debt
        return max(self.last + self.interval, now + debt)

    def due(self, now: float) -> bool:
        """Tell whether a frame may be drawn at ``now``.

        Args:
            now: The monotonic clock.
        """
        return self.next_at(now) <= now

    def charge(self, nbytes: int, messages: int, now: float, *, own: bool = True) -> None:
        """Count what was sent, whatever sent it (frames, status line, final render).

        Args:
            nbytes: Bytes of content sent.
            messages: Messages sent.
            now: The monotonic clock.
            own: Charge this view's own limits too; ``False`` for the status line, which counts
                against the process-wide limits only, so that it never delays the answer.
        """
        if not messages:
            return
        self.sent += nbytes
        self.sent_messages += messages
        pairs = [(self.bytes, self.messages)] if own else []
        if self.shared is not None:
            pairs.append(self.shared)
        for byte_bucket, message_bucket in pairs:
            byte_bucket.take(nbytes, now)
            message_bucket.take(messages, now)

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

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
  the kernel's time;
- frames of different views that fall due together are drawn apart, each in a slot of its own
  (:class:`Pacer`): fifty answers started at once would otherwise draw fifty frames in one turn
  of the event loop, every interval, and a cell run meanwhile would wait for all of them.

A byte budget proportional to the answer (what this replaced) froze long paragraphs: once the
live block was most of the answer, its redraw never fitted, so it waited until the block ended.
"""

from __future__ import annotations

import bisect
import threading

__all__ = ["Bucket", "Pacer", "Throttle"]

_INF = float("inf")
_STATUS_SHARE = 0.25  # of the shared message rate, for the views' status lines
_MAX_FAIR_INTERVAL = 2.0  # the longest the number of views spaces frames (then debts do)


class Bucket:
    """A token bucket: at most ``rate`` units per second on average, bursts up to ``capacity``.

    Args:
        rate: Units refilled per second.
        capacity: The most the bucket holds (the largest burst); default one second's worth.
        max_debt: The deepest the level may go below zero (default: no bound).
    """

    __slots__ = ("_at", "capacity", "level", "max_debt", "rate")

    def __init__(
        self, rate: float, capacity: float | None = None, *, max_debt: float | None = None
    ) -> None:
        self.rate = rate
        self.capacity = rate if capacity is None else capacity
        self.max_debt = max_debt
        self.level = self.capacity
        self._at: float | None = None

    def _refill(self, now: float) -> None:
        if self._at is not None and now > self._at:
            self.level = min(self.capacity, self.level + (now - self._at) * self.rate)
        if self._at is None or now > self._at:
            self._at = now

    def take(self, amount: float, now: float) -> None:
        """Spend ``amount`` units at ``now`` (the level may go negative: a debt paid by waiting).

        The debt is capped at ``max_debt`` if given: what was sent is sent, and a limit kept
        for a kernel (jupyter_server's, averaged over 3 s) is not helped by making a burst far
        over it (a hundred views opened at once) delay every frame after it for minutes.
        """
        self._refill(now)
        self.level -= amount
        if self.max_debt is not None:
            self.level = max(self.level, -self.max_debt)

    def wait(self, now: float) -> float:
        """Seconds until the bucket is out of debt (``0.0`` when it is not in debt)."""
        self._refill(now)
        return 0.0 if self.level >= 0 else -self.level / self.rate


class Pacer:
    """Frame slots shared by every view of a process: frames at least ``spacing`` seconds apart.

    A view asks for a slot at or after the time its own limits allow (:meth:`claim`) and gets
    the earliest time that far from every other claimed slot: a frame wanted when nothing else
    is drawn is drawn when wanted; frames due together are spread ``spacing`` apart, over as
    many turns of the event loop; and a view that waits long (a rate limit) leaves the slots
    before it free.

    Args:
        spacing: Seconds between two frames of the process.
    """

    __slots__ = ("_lock", "_times", "active", "spacing")

    _KEEP = 1024  # slots remembered before the earliest half is forgotten

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self._times: list[float] = []  # claimed slots, sorted
        #: Views streaming now (:meth:`Throttle.start` / :meth:`Throttle.stop`).
        self.active = 0
        self._lock = threading.Lock()  # views on other threads' loops (chat_sync) join too

    def join(self, n: int) -> None:
        """Count ``n`` more views streaming now (negative: fewer)."""
        with self._lock:
            self.active = max(0, self.active + n)

    def claim(self, at: float) -> float:
        """Take the earliest free slot at or after ``at``.

        Args:
            at: The earliest time the frame may be drawn.

        Returns:
            The slot: ``at`` itself when no other slot is within ``spacing`` of it.
        """
        with self._lock:
            return self._claim(at)

    def release(self, slot: float) -> None:
        """Give back a slot that will not be drawn (its view took a later one, or stopped)."""
        with self._lock:
            i = bisect.bisect_left(self._times, slot)
            if i < len(self._times) and self._times[i] == slot:
                del self._times[i]

    def _claim(self, at: float) -> float:
        times, gap = self._times, self.spacing
        if len(times) > self._KEEP:  # the earliest are past: a view holds one slot at most
            del times[: len(times) - self._KEEP // 2]
        i = bisect.bisect_left(times, at)
        slot = at if i == 0 else max(at, times[i - 1] + gap)
        while i < len(times) and times[i] < slot + gap:
            slot = max(slot, times[i] + gap)
            i += 1
        times.insert(i, slot)
        return slot


class Throttle:
    """Decide when to draw the next frame of one view.

    Args:
        fps: Highest frame rate while text arrives (the interval is its inverse).
        byte_rate: Bytes per second this view may send, on average.
        message_rate: Messages per second this view may send, on average.
        cpu_share: Largest share of the kernel's time that drawing may take.
        max_interval: The longest the CPU rule may stretch the interval to.
        shared: Buckets shared by every view of the process (bytes, messages), charged too.
        pacer: Frame slots shared by every view of the process.
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
        pacer: Pacer | None = None,
    ) -> None:
        self.base_interval = 1.0 / fps
        self.interval = self.base_interval
        self.cpu_share = cpu_share
        self.max_interval = max_interval
        self.bytes = Bucket(byte_rate)
        self.messages = Bucket(message_rate)
        self.shared = shared
        self.pacer = pacer
        self._slot: float | None = None  # the pacer's slot this view holds for its next frame
        self._joined = False
        self.last: float | None = None
        self.sent = 0
        self.sent_messages = 0
        self.frames = 0

    def start(self) -> None:
        """Count this view among the views streaming now (their number spaces their frames)."""
        if self.pacer is not None and not self._joined:
            self._joined = True
            self.pacer.join(1)

    def stop(self) -> None:
        """This view has stopped streaming (idempotent)."""
        if self.pacer is not None and self._joined:
            self._joined = False
            self.pacer.join(-1)
            if self._slot is not None:
                self.pacer.release(self._slot)
                self._slot = None

    def _share(self, part: float) -> float:
        """Seconds between two messages of each streaming view, ``part`` of the shared rate."""
        if self.pacer is None or self.shared is None or self.pacer.active <= 1:
            return 0.0
        # 80 %: at the rate itself the shared bucket hovers at zero, and its debt, not the
        # interval, would again decide which view draws.
        rate = self.shared[1].rate * part * 0.8
        return min(_MAX_FAIR_INTERVAL, self.pacer.active / rate)

    def status_interval(self) -> float:
        """The shortest interval between two status lines of a view, given how many stream.

        Status lines take at most a quarter of the shared message rate (frames the rest):
        fifty views keep their once-a-second line, a hundred and fifty refresh it every 1.9 s.
        """
        return self._share(_STATUS_SHARE)

    def _fair_interval(self) -> float:
        """The interval that keeps every streaming view's frames within the shared rate.

        The interval grows with the number of views streaming, instead of the shared bucket's
        debt choosing who draws: waiting out a debt, the views whose timers fire first draw
        and the rest are pushed behind them again and again (simulated: 150 views, 1,100
        frames in 6 s, some views none at all).
        """
        return self._share(1.0 - _STATUS_SHARE)

    def _buckets(self) -> tuple[Bucket, ...]:
        return (self.bytes, self.messages, *(self.shared or ()))

    def next_at(self, now: float) -> float:
        """The earliest time the next frame may be drawn (``now`` for the first one).

        Args:
            now: The monotonic clock.
        """
        debt = max(bucket.wait(now) for bucket in self._buckets())
        # What the limits allow, which the passing of time alone never moves: the interval
        # since the last frame, and the end of a debt.
        at = -_INF if self.last is None else self.last + max(self.interval, self._fair_interval())
        if debt > 0:
            at = max(at, now + debt)
        if self.pacer is not None:
            # A slot, once taken, is kept until the frame is drawn, however late its timer
            # fires; only a limit moving past it takes another.
            if self._slot is None or self._slot < at:
                if self._slot is not None:
                    self.pacer.release(self._slot)
                self._slot = self.pacer.claim(max(at, now))
            at = self._slot
        return max(at, now)

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
        self._slot = None
        self.frames += 1
        wanted = cpu_seconds / self.cpu_share
        self.interval = min(self.max_interval, max(self.base_interval, wanted))

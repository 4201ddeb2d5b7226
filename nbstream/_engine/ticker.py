"""A short ticker that keeps the event loop waking while a stream runs.

A kernel interrupt during a top-level ``await`` becomes :class:`asyncio.CancelledError` only when
the loop next wakes up: with a silent server (prefill, hidden reasoning) that took 4 s, and 9 s
for ``sleep(10)`` (ipykernel #881, re-measured in FACTS.md). A task that sleeps 100 ms at a time
brings it under 55 ms. It runs only while a stream is open. The view rides the same ticker to
refresh its status line (``on_tick``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

__all__ = ["TICK_S", "ticker"]

TICK_S = 0.1


async def _tick(interval: float, on_tick: Callable[[], None] | None, phase: float) -> None:
    if phase:
        await asyncio.sleep(interval * phase)
    while True:
        await asyncio.sleep(interval)
        if on_tick is not None:
            # The wake-ups must go on whatever the callback does: they are what lets an
            # interrupt land.
            with contextlib.suppress(Exception):
                on_tick()


@asynccontextmanager
async def ticker(
    interval: float = TICK_S, on_tick: Callable[[], None] | None = None, phase: float = 0.0
) -> AsyncIterator[None]:
    """Wake the running loop every ``interval`` seconds for the duration of the block.

    Args:
        interval: Seconds between wake-ups.
        on_tick: Called at each wake-up (the view refreshes its status line); its exceptions
            are ignored, so the ticker keeps ticking.
        phase: The first wake-up comes after ``(1 + phase) * interval``: tickers of views
            started together (0 <= phase < 1) then wake at spread times, not all at once.
    """
    task = asyncio.get_running_loop().create_task(
        _tick(interval, on_tick, phase), name="nbstream-ticker"
    )
    try:
        yield
    finally:
        task.cancel()  # no await needed: the task only sleeps

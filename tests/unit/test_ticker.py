"""The one ticker: it wakes the loop while a block runs, calls on_tick, and stops after it."""

from __future__ import annotations

import asyncio

from nbstream._engine.ticker import ticker


async def test_ticks_go_on_through_a_failing_callback_and_stop_with_the_block() -> None:
    ticks: list[int] = []

    def on_tick() -> None:
        ticks.append(1)
        raise RuntimeError("a status line that could not be drawn")

    async with ticker(0.01, on_tick=on_tick):
        await asyncio.sleep(0.1)
    seen = len(ticks)
    assert seen >= 3
    await asyncio.sleep(0.05)
    assert len(ticks) == seen
    assert not [
        t for t in asyncio.all_tasks() if t.get_name() == "nbstream-ticker" and not t.done()
    ]

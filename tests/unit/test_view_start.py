"""Views taking turns to start: an interrupt while one waits still ends it properly."""

from __future__ import annotations

import asyncio

import pytest

from nbstream import StreamView
from nbstream._view import view as view_module


async def _words() -> object:
    yield "never read"


def test_a_view_interrupted_while_waiting_for_its_turn_still_ends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def scenario() -> StreamView:
        lock = view_module._STARTS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        view = StreamView()
        async with lock:  # views ahead of it are starting
            task = asyncio.ensure_future(view.consume(_words()))
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return view

    view = asyncio.run(scenario())
    assert view.reply is not None
    assert (view.reply.status, view.reply.error, view.reply.text) == (
        "cancelled",
        "interrupted",
        "",
    )
    assert "cancelled" in capsys.readouterr().out  # the final line, in a plain terminal
    assert view_module._KERNEL_PACER.active == 0

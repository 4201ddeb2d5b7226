"""``%%chat --wire``: the raw frames as they arrive, with arrival times, beside the answer.

For teaching: what the server actually sent (``data: {...}`` lines, pings, ``[DONE]``) and when.
The frames come from the engine's ``on_bytes`` hook. In a kernel they are a ``text/plain``
display updated by display id a few times a second (server bytes are untrusted, so never
markdown or HTML); elsewhere they are printed once the stream ends.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Sequence

from .._core.secrets import redact

__all__ = ["WirePanel", "wire_text"]

_REFRESH_S = 0.25


def wire_text(frames: Sequence[tuple[float, bytes]], limit: int = 400) -> str:
    """The frames as text, one per line with its arrival time, keys masked.

    Args:
        frames: ``(seconds since the request started, raw bytes)`` in arrival order.
        limit: Show at most this many (the last ones).

    Returns:
        Plain text.
    """
    lines = [f"{'t (s)':>8}  raw bytes ({len(frames)} frames)"]
    if len(frames) > limit:
        lines.append(f"{'':>8}  … {len(frames) - limit} earlier frames")
    for t, chunk in frames[-limit:]:
        lines.append(f"{t:8.3f}  {chunk.decode('utf-8', 'replace')!r}")
    return redact("\n".join(lines))


class WirePanel:
    """A live display of the frames of one stream.

    Args:
        frames: The list the engine's ``on_bytes`` hook appends to.
        live: Show and refresh a display while streaming (a kernel); else print at the end.
    """

    def __init__(self, frames: list[tuple[float, bytes]], *, live: bool) -> None:
        self.frames = frames
        self.live = live
        self._id = f"nbstream-wire-{uuid.uuid4().hex[:12]}"
        self._shown = -1
        self._task: asyncio.Task[None] | None = None

    def _bundle(self) -> dict[str, str]:
        return {"text/plain": wire_text(self.frames)}

    def open(self) -> None:
        """Show the (empty) panel and start refreshing it."""
        if not self.live:
            return
        from .ipython import display

        display(self._bundle(), raw=True, display_id=self._id)
        self._shown = len(self.frames)
        self._task = asyncio.get_running_loop().create_task(self._refresh())

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(_REFRESH_S)
            self._update()

    def _update(self) -> None:
        if len(self.frames) == self._shown:
            return
        from IPython.display import update_display

        self._shown = len(self.frames)
        update_display(self._bundle(), raw=True, display_id=self._id)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Stop refreshing and show every frame (synchronous: it runs even when cancelled)."""
        if self._task is not None:
            self._task.cancel()
        if self.live:
            self._update()
        else:
            sys.stdout.write(wire_text(self.frames) + "\n")
            sys.stdout.flush()

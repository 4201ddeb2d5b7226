"""StreamView: a streaming answer in a notebook that grows, stays, and cannot hurt.

``view = StreamView(); display(view); reply = await view.consume(deltas)``. What it sends is
decided by :class:`~nbstream._view.paint.Painter` (incremental, sanitized, within a byte
budget); where it goes is :class:`~nbstream._view.output.Surface` (display outputs, widgets in
a layout, or plain text). This module runs the stream: the pump, the ticker, the cancellation,
and the final render that always happens.

Durable by construction: the answer is ordinary ``display_data`` updated by display id (FACTS.md:
it survives save, reopen without a kernel and nbconvert; widget state does not). The Cancel
button and status line are widgets while streaming; at the end their display is replaced by a
static status line carrying the provenance metadata and the widgets are closed, so the saved
notebook holds no widget reference. IPython and ipywidgets are imported only by the surface.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import time
import uuid
import weakref
from collections.abc import AsyncIterable
from typing import Any

from .._core.context import ContextItem
from .._core.deltas import Delta, ReasoningDelta, Retry, ServerToolCallDelta, TextDelta
from .._core.reply import Reply, provenance, status_line
from .._core.stream import DeltaStream
from .._core.throttle import Bucket, Pacer, Throttle
from .._core.values import public
from .._engine.ticker import ticker
from .output import Mode, Surface, show_bundle
from .paint import Painter
from .render import Renderer
from .shell import shell_kind
from .status import Progress, server_tools

__all__ = ["StreamView", "show_stream"]

_STATUS_INTERVAL_S = 1.0  # status-line refresh while streaming

# Every view of the process shares these limits on top of its own, whatever the number of views
# streaming at once: half the bytes and 40 % of the messages jupyter_server accepts from one
# kernel before it drops output (1 MB/s, 1000 iopub messages/s averaged over 3 s). The widget
# messages of views opening and closing count too, and the kernel sends its own (a busy/idle
# pair and the input of every cell): 150 views started at once peaked at 915 messages/s with
# 500 here and without counting widgets (benchmarks/many_views.py). A debt deeper than a
# second's worth (opening hundreds of views) would only stall every answer after it.
_KERNEL_LIMITS = (Bucket(500_000, max_debt=500_000), Bucket(400.0, max_debt=400.0))
# ... and draw their frames at least 2 ms apart: frames that fall due together (answers started
# at once) are spread over turns of the event loop, so a cell run meanwhile is not held up by
# all of them (benchmarks/many_views.py). A frame takes about a millisecond of the kernel.
_KERNEL_PACER = Pacer(0.002)
# Views' tickers start at phases spread over a tick (golden-ratio steps), not all at once. A
# plain counter: a shared generator is not safe across threads (chat_sync runs its own loop).
_TICKERS = itertools.count()


# Per event loop (chat_sync runs its own): the lock views take turns with to start.
_STARTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


async def _turn() -> None:
    """Wait for this view's turn to start: views start one per turn of the event loop.

    Fifty chats gathered at once would otherwise all create their view and send their request
    in one turn (about 3 ms each: a 150 ms freeze, measured in a kernel); one at a time, a cell
    run meanwhile gets the loop between two of them.
    """
    loop = asyncio.get_running_loop()
    lock = _STARTS.get(loop)
    if lock is None:
        lock = _STARTS[loop] = asyncio.Lock()
    async with lock:
        await asyncio.sleep(0)  # the turn this view starts in ends here


@functools.cache
def _renderer(allow_remote_images: bool) -> Renderer:
    # Stateless between renders (each frame passes its own env): one per setting, not one
    # markdown-it parser built per view (0.13 ms of the view's creation, measured in a kernel).
    return Renderer(allow_remote_images=allow_remote_images)


@public
class StreamView:
    """Show a stream of deltas as growing, sanitized markdown with a Cancel button.

    Args:
        model: The model's name, for the status line and provenance (the reply's own
            ``model`` wins when the server names it).
        endpoint: The server's host (never a key), for provenance.
        format: The wire format's name, for provenance.
        notice: A line shown with the status (``"demo backend, not a language model"``).
        allow_remote_images: Show remote images instead of links to them.
        fps: Highest frame rate while text arrives: every word is on screen within about
            ``1/fps`` seconds of its arrival.
        controls: Show the Cancel button and live status line (widgets), and an Insert
            button under each code block that settles while the answer streams in a cell.
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        endpoint: str = "",
        format: str = "",
        notice: str | None = None,
        allow_remote_images: bool = False,
        fps: float = 5.0,
        controls: bool = True,
    ) -> None:
        self.model, self.endpoint, self.format, self.notice = model, endpoint, format, notice
        throttle = Throttle(fps=fps, shared=_KERNEL_LIMITS, pacer=_KERNEL_PACER)
        self.painter = Painter(_renderer(allow_remote_images), throttle)
        self.reply: Reply | None = None
        self._controls_wanted = controls
        self._surface: Surface | None = None
        self._id = f"nbstream-{uuid.uuid4().hex[:12]}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stream: DeltaStream | None = None
        self._cancel_reason: str | None = None
        self._ended = False
        self._progress = Progress.now()
        self._status_at = 0.0
        self._timer: asyncio.TimerHandle | None = None
        #: What the prompt's values were; saved with the answer's provenance.
        self.context: tuple[ContextItem, ...] = ()

    @property
    def messages(self) -> int:
        """Display operations and status updates sent so far."""
        return 0 if self._surface is None else self._surface.messages

    # -- showing ---------------------------------------------------------------------------------

    def _ipython_display_(self) -> None:
        _ = self._out  # shows the controls (in a kernel) before the request starts

    @property
    def widget(self) -> Any:
        """An ipywidgets ``VBox`` holding the whole view, for layouts (``HBox([a.widget, b.widget])``).

        In a layout the answer streams into widgets (``HTMLMath``), which a saved notebook keeps
        only with widget state saving on. So that the answer survives anyway, the end of the
        stream also leaves a regular display output in the running cell: the answer, collapsed
        under its status line (one line on the live page, the whole answer after a reopen or
        in ``nbconvert``). The layout's own output stays a widget reference (it is the caller's
        ``display``); ``display(view)`` is the form without any.
        """
        return self._show("widget").box

    @property
    def _out(self) -> Surface:
        """The surface, shown where this runs unless it was already shown elsewhere."""
        if self._surface is not None:  # read per delta: shell_kind() is not free
            return self._surface
        return self._show("display" if shell_kind() == "kernel" else "text")

    def _show(self, mode: Mode) -> Surface:
        if self._surface is None:
            # Widgets show HTML, not markdown: no code fences for them.
            self.painter.html_only = mode == "widget"
            self._surface = Surface(
                mode,
                self._id,
                controls=self._controls_wanted,
                on_cancel=self.cancel,
                on_insert=self._insert,
                status=self._live_status(),
            )
            self._charge_widgets()
        return self._surface

    def _charge_widgets(self) -> None:
        """Count the widget messages sent since the last call against the kernel's limits."""
        n = 0 if self._surface is None else self._surface.take_widget_messages()
        # About 500 bytes each; their number is what matters (1000 messages/s). charge() does
        # nothing for none.
        self.painter.throttle.charge(500 * n, n, time.monotonic(), own=False)

    # -- consuming -------------------------------------------------------------------------------

    async def consume(self, source: DeltaStream | AsyncIterable[Delta | str]) -> Reply:
        """Show ``source`` as it streams and return its :class:`~nbstream.Reply`.

        Stream errors do not raise: a failed stream keeps its partial text, shows its one-line
        error and returns a ``"failed"`` reply. A Cancel click (or :meth:`cancel`) ends it
        normally with status ``"cancelled"``.

        Args:
            source: A :class:`~nbstream.DeltaStream` (what the engine returns) or any async
                iterable of deltas or strings.

        Returns:
            The reply, with the partial text when the stream was cancelled or failed.

        Raises:
            asyncio.CancelledError: The awaiting task itself was cancelled (kernel interrupt),
                after the final render.
        """
        stream = source if isinstance(source, DeltaStream) else DeltaStream(source)
        self._stream = stream
        self._progress = Progress(stream.builder.started)
        try:
            await _turn()
        except asyncio.CancelledError:  # interrupted while views ahead of it start
            stream.note_cancel("interrupted")
            self._finish(dataclasses.replace(stream.reply, error="interrupted"))
            raise
        _ = self._out  # not displayed yet: show it here, where the stream runs
        self.painter.throttle.start()  # one more view streaming: frames of all get spaced
        self._loop = asyncio.get_running_loop()
        outer = asyncio.current_task()
        self._task = asyncio.ensure_future(self._pump(stream))
        if self._cancel_reason is not None:  # clicked before the stream started
            self._cancel_now()
        interrupted = False
        try:
            # The engine's ticker wakes the loop (an interrupt lands only at a wake-up) and
            # refreshes the status line; frames have their own timer.
            async with ticker(on_tick=self._on_tick, phase=next(_TICKERS) * 0.618034 % 1.0):
                await self._task
        except asyncio.CancelledError:
            interrupted = outer is not None and outer.cancelling() > 0
            if interrupted:
                stream.note_cancel("interrupted")
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(self._task)
                raise  # after the final render in `finally`
        finally:
            self.painter.throttle.stop()
            if self._timer is not None:
                self._timer.cancel()
            reply = stream.reply
            if interrupted and reply.status == "cancelled":
                reply = dataclasses.replace(reply, error="interrupted")
            self._finish(reply)
        return reply

    async def _pump(self, stream: DeltaStream) -> None:
        try:
            async for delta in stream:
                if isinstance(delta, TextDelta | ReasoningDelta) and delta.text:
                    self._progress.token(delta.time or time.monotonic())
                if isinstance(delta, TextDelta):
                    self._on_text(delta.text)
                elif isinstance(delta, ReasoningDelta):
                    self._on_reasoning(delta.text)
                elif isinstance(delta, Retry):
                    self._on_retry(delta)
                elif isinstance(delta, ServerToolCallDelta):
                    self._progress.server_tool(delta)
        except Exception:  # noqa: BLE001 - the stream recorded it: status "failed", described
            pass
        finally:
            # Release the connection at once, even when cancelled (bounded: a stuck close must
            # not hold the cell).
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stream.aclose(), 2.0)

    def _on_text(self, text: str) -> None:
        surface = self._out
        if surface.mode == "text":
            surface.write(text)
            return
        self.painter.add_text(text)
        self._paint(surface)

    def _on_reasoning(self, text: str) -> None:
        surface = self._out
        if surface.mode != "text":
            self.painter.add_reasoning(text)
            self._paint(surface)

    def _on_retry(self, retry: Retry) -> None:
        self._progress.retry = retry
        surface = self._out
        if surface.mode != "text" and surface.live:
            self._status_at = 0.0  # the wait shows now, then counts down with the spinner
            self._refresh_status(surface)

    def _paint(self, surface: Surface) -> None:
        """Draw a frame if one is due, else make sure a timer draws it when it is."""
        if self._ended or self._timer is not None:
            # A timer is set for the earliest time a frame may be drawn; text arriving since
            # cannot make it earlier (the limits only tighten until a frame is drawn).
            return
        now = time.monotonic()
        at = self.painter.next_frame_at(now)
        if at is None:
            return
        if at <= now:
            surface.apply(self.painter.frame(now))
            self._charge_widgets()  # Insert buttons under code blocks that settled
            if surface.live:  # the status rides on frames: the first one replaces the spinner
                self._refresh_status(surface)
            at = self.painter.next_frame_at(now)  # still dirty: the rate limits said wait
            if at is None:
                return
        if self._timer is None and self._loop is not None:
            # Scheduled, not polled: the frame is drawn when due even if no delta arrives then.
            self._timer = self._loop.call_at(at, self._on_timer, surface)

    def _on_timer(self, surface: Surface) -> None:
        self._timer = None
        # A loop callback must not raise (the loop would only log it); the final render shows all.
        with contextlib.suppress(Exception):
            self._paint(surface)

    def _on_tick(self) -> None:
        surface = self._surface
        if surface is None or surface.mode == "text" or not surface.live or self._ended:
            return
        # While frames flow the status line is refreshed with them (spread by the pacer); the
        # ticker keeps it alive before the first token and when the stream stalls.
        last = self.painter.throttle.last
        if last is None or time.monotonic() - last >= _STATUS_INTERVAL_S / 2:
            self._refresh_status(surface)

    def _refresh_status(self, surface: Surface) -> None:
        """The live status line: a spinner at 4 frames/s before the first token, then 1/s.

        Refreshed with frames while they flow (by the ticker when they stop), and no more often
        than the number of views streaming allows (:meth:`Throttle.status_interval`). It counts
        against the kernel-wide limits only, never this view's own: one view's frames never
        wait for its status line; many views' status lines share the kernel's rate with
        their frames.
        """
        now = time.monotonic()
        first = self._progress.first
        interval = 0.25 if first is None else _STATUS_INTERVAL_S
        interval = max(interval, self.painter.throttle.status_interval())
        if now - self._status_at < interval and self._status_at > (first or 0):
            return
        self._status_at = now
        self._progress.tick += 1
        value = self._live_status()
        surface.status(value)
        self.painter.throttle.charge(len(value.encode()), 1, now, own=False)

    # -- cancelling ------------------------------------------------------------------------------

    def cancel(self, reason: str = "cancelled by user") -> None:
        """Stop the stream, keeping the partial answer (status ``"cancelled"``).

        Safe from any thread (a click may arrive on a kernel subshell thread, where a bare
        ``task.cancel()`` took 1.5 s to act: FACTS.md); idempotent; a no-op after the end.

        Args:
            reason: Why, recorded as the reply's ``error``.
        """
        if self._ended or self._cancel_reason is not None:
            return
        self._cancel_reason = reason
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nothing left to cancel
                self._loop.call_soon_threadsafe(self._cancel_now)

    def _insert(self, index: int) -> None:
        """An Insert click (any thread): act on the loop, as Cancel does."""
        if self._loop is not None and self._surface is not None and not self._ended:
            with contextlib.suppress(RuntimeError):  # the loop closed: the cell is over anyway
                self._loop.call_soon_threadsafe(self._surface.insert, index)

    def _cancel_now(self) -> None:
        if self._stream is not None and self._task is not None and not self._task.done():
            self._stream.note_cancel(self._cancel_reason or "cancelled by user")
            self._task.cancel()

    # -- output ----------------------------------------------------------------------------------

    def _live_status(self) -> str:
        model = self.model or (self._stream.builder.model if self._stream is not None else None)
        return self._progress.line(time.monotonic(), model, self.notice)

    def _finish(self, reply: Reply) -> None:
        """The final render: synchronous, always runs, never throttled."""
        self._ended = True
        reply = dataclasses.replace(
            reply,
            model=reply.model or self.model,
            endpoint=reply.endpoint or self.endpoint,
            format=reply.format or self.format,
            context=reply.context or self.context,
        )
        self.reply = reply
        surface = self._out
        if surface.mode != "text":
            surface.apply(self.painter.finish())
        line = status_line(reply, self.notice)
        sent = surface.finish(
            line,
            {"nbstream": provenance(reply)},
            self.painter,
            details=server_tools(reply.server_tool_calls),
        )
        self.painter.throttle.charge(sent, 1, time.monotonic())
        self._charge_widgets()


async def show_stream(stream: DeltaStream, job: Any) -> Reply:
    """Show an engine stream for ``%%chat`` / :func:`nbstream.chat`: a displayed StreamView.

    Args:
        stream: The engine's stream.
        job: The chat job; its ``settings`` and ``notices`` give the model, format and
            notice line (the endpoint host comes from the stream).

    Returns:
        The reply (see :meth:`StreamView.consume`).

    Raises:
        asyncio.CancelledError: The cell was interrupted, after the final render.
    """
    settings = getattr(job, "settings", None)
    notices = tuple(getattr(job, "notices", ()) or ())
    fmt = str(getattr(settings, "format", "") or "")
    view = StreamView(
        model=getattr(settings, "model", None),
        endpoint=stream.builder.endpoint,  # the host the engine is talking to
        format="" if fmt == "auto" else fmt,
        notice=" · ".join(notices) or None,
    )
    view.context = tuple(getattr(job, "context", ()) or ())
    if view.context and shell_kind() == "kernel":
        from .context import context_bundle

        show_bundle(*context_bundle(view.context))
    return await view.consume(stream)

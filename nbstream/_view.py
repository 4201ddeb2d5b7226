"""StreamView: a streaming answer in a notebook that grows, stays, and cannot hurt.

``view = StreamView(); display(view); reply = await view.consume(deltas)``. What it sends is
decided by :class:`~nbstream._view_paint.Painter` (incremental, sanitized, within a byte
budget); this module is the Jupyter glue: the controls, the cancellation, and executing the
painter's operations as display outputs, on widgets (``view.widget``, for layouts) or as plain
text (terminal IPython, plain Python).

Durable by construction: the answer is ordinary ``display_data`` updated by display id (FACTS.md:
it survives save, reopen without a kernel and nbconvert; widget state does not). The Cancel
button and status line are widgets while streaming; at the end their display is replaced by a
static status line carrying the provenance metadata and the widgets are closed, so the saved
notebook holds no widget reference. IPython and ipywidgets are imported only in the methods
that need them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
import time
import uuid
from collections.abc import AsyncIterable
from typing import Any, Literal

from ._deltas import Delta, ReasoningDelta, TextDelta
from ._render import Renderer
from ._reply import Reply
from ._stream import DeltaStream
from ._throttle import Throttle
from ._view_paint import Op, Painter, provenance, status_line
from ._view_status import Progress

__all__ = ["StreamView", "show_stream"]

Mode = Literal["display", "widget", "text"]

# The ticker wakes the loop this often: it flushes a throttled frame when deltas pause, and a
# kernel interrupt only lands at a loop wake-up (FACTS.md: a 100 ms ticker → under 55 ms).
_TICK_S = 0.05
_STATUS_INTERVAL_S = 1.0  # status-line refresh while streaming (bytes count against the budget)


def _ipy(name: str) -> Any:
    """``IPython.display.<name>``, imported when first needed (it is untyped)."""
    import IPython.display

    return getattr(IPython.display, name)


def _in_kernel() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class StreamView:
    """Show a stream of deltas as growing, sanitized markdown with a Cancel button.

    Args:
        model: The model's name, for the status line and provenance (the reply's own
            ``model`` wins when the server names it).
        endpoint: The server's host (never a key), for provenance.
        format: The wire format's name, for provenance.
        notice: A line shown with the status (``"demo backend, not a language model"``).
        allow_remote_images: Show remote images instead of links to them.
        fps: Highest frame rate while streaming.
        controls: Show the Cancel button and live status line (widgets).
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        endpoint: str = "",
        format: str = "",
        notice: str | None = None,
        allow_remote_images: bool = False,
        fps: float = 15.0,
        controls: bool = True,
    ) -> None:
        self.model, self.endpoint, self.format, self.notice = model, endpoint, format, notice
        self.painter = Painter(Renderer(allow_remote_images=allow_remote_images), Throttle(fps=fps))
        self.reply: Reply | None = None
        self._controls_wanted = controls
        self._mode: Mode | None = None
        self._id = f"nbstream-{uuid.uuid4().hex[:12]}"
        self._widgets: dict[str, Any] = {}
        self._box: Any = None
        self._answer_box: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stream: DeltaStream | None = None
        self._cancel_reason: str | None = None
        self._ended = False
        self._progress = Progress.now()
        self._status_at = 0.0
        self.messages = 0  # display operations and status updates sent

    # -- showing ---------------------------------------------------------------------------------

    def _ipython_display_(self) -> None:
        self._show("display" if _in_kernel() else "text")

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
        self._show("widget")
        return self._box

    def _show(self, mode: Mode) -> None:
        if self._mode is not None:
            return
        self._mode = mode
        if mode == "text":
            return
        import ipywidgets as w

        controls: list[Any] = []
        if self._controls_wanted:
            button = w.Button(description="Cancel", icon="stop", button_style="warning")
            button.on_click(lambda _button: self.cancel())
            status = w.HTML(value=self._live_status())
            self._widgets = {"button": button, "status": status}
            controls = [w.HBox([button, status])]
        if mode == "widget":
            self._answer_box = w.VBox([])
            self._box = w.VBox([*controls, self._answer_box])
        elif controls:
            _ipy("display")(controls[0], display_id=self._id)
            self._widgets["row"] = controls[0]

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
        self._show("display" if _in_kernel() else "text")
        self._loop = asyncio.get_running_loop()
        outer = asyncio.current_task()
        self._task = asyncio.ensure_future(self._pump(stream))
        ticker = asyncio.ensure_future(self._ticker())
        if self._cancel_reason is not None:  # clicked before the stream started
            self._cancel_now()
        interrupted = False
        try:
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
            ticker.cancel()
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
        except Exception:  # noqa: BLE001 - the stream recorded it: status "failed", described
            pass
        finally:
            # Release the connection at once, even when cancelled (bounded: a stuck close must
            # not hold the cell).
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stream.aclose(), 2.0)

    def _on_text(self, text: str) -> None:
        if self._mode == "text":
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        self.painter.add_text(text)
        self._draw()

    def _on_reasoning(self, text: str) -> None:
        if self._mode != "text":
            self.painter.add_reasoning(text)
            self._draw()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(_TICK_S)
            if self._mode != "text":
                self._draw()

    def _draw(self) -> None:
        now = time.monotonic()
        self._apply(self.painter.frame(now))
        self._refresh_status(now)

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

    def _cancel_now(self) -> None:
        if self._stream is not None and self._task is not None and not self._task.done():
            self._stream.note_cancel(self._cancel_reason or "cancelled by user")
            self._task.cancel()

    # -- output ----------------------------------------------------------------------------------

    def _apply(self, ops: list[Op]) -> None:
        if not ops:
            return
        self.messages += len(ops)
        if self._mode == "widget":
            import ipywidgets as w

            for op in ops:
                value = op.data.get("text/markdown", "")
                if op.display_id in self._widgets:
                    self._widgets[op.display_id].value = value
                else:
                    self._widgets[op.display_id] = w.HTMLMath(value=value)
                    children = self._answer_box.children
                    self._answer_box.children = (*children, self._widgets[op.display_id])
            return
        display, update_display = _ipy("display"), _ipy("update_display")
        for op in ops:
            if op.update:
                update_display(op.data, raw=True, display_id=op.display_id, metadata=op.metadata)
            else:
                display(op.data, raw=True, display_id=op.display_id, metadata=op.metadata)

    def _live_status(self) -> str:
        model = self.model or (self._stream.builder.model if self._stream is not None else None)
        return self._progress.line(time.monotonic(), model, self.notice)

    def _refresh_status(self, now: float) -> None:
        status = self._widgets.get("status")
        # A spinner at 4 frames/s before the first token; then once a second (and at once
        # when the first token arrives: the spinner must not outlive it).
        first = self._progress.first
        interval = 0.25 if first is None else _STATUS_INTERVAL_S
        if status is None or (now - self._status_at < interval and self._status_at > (first or 0)):
            return
        self._status_at = now
        self._progress.tick += 1
        value = self._live_status()
        self.painter.throttle.charge(len(value.encode()))
        status.value = value
        self.messages += 1

    def _finish(self, reply: Reply) -> None:
        """The final render: synchronous, always runs, never throttled."""
        self._ended = True
        reply = dataclasses.replace(
            reply,
            model=reply.model or self.model,
            endpoint=reply.endpoint or self.endpoint,
            format=reply.format or self.format,
        )
        self.reply = reply
        line = status_line(reply, self.notice)
        if self._mode == "text":
            sys.stdout.write(f"\n[{line}]\n")
            sys.stdout.flush()
            return
        self._apply(self.painter.finish())
        import html

        bundle = {
            "text/markdown": f"<p><small>{html.escape(line)}</small></p>\n",
            "text/plain": line,
        }
        metadata = {"nbstream": provenance(reply)}
        if self._mode == "widget":
            import ipywidgets as w

            self._box.children = (w.HTML(value=bundle["text/markdown"]), self._answer_box)
            self._leave_durable_copy(line, metadata)
        else:
            display, update_display = _ipy("display"), _ipy("update_display")
            if "row" in self._widgets:
                update_display(bundle, raw=True, display_id=self._id, metadata=metadata)
            else:
                display(bundle, raw=True, display_id=self._id, metadata=metadata)
        self.painter.throttle.charge(Op(self._id, bundle, metadata).size)
        self.messages += 1
        for name in ("button", "status", "row"):
            widget = self._widgets.pop(name, None)
            if widget is not None:
                widget.close()

    def _leave_durable_copy(self, line: str, metadata: dict[str, Any]) -> None:
        """In a layout: leave the answer as a regular display output too (see :attr:`widget`)."""
        if not _in_kernel():
            return
        import html

        parts = [self.painter.reasoning_html, *(seg.html for seg in self.painter.segments)]
        # No blank line inside: the markdown renderer passes one HTML block through verbatim.
        summary = f"<summary>{html.escape(line)}</summary>\n"
        bundle = {
            "text/markdown": f"<details>\n{summary}{''.join(parts)}</details>\n",
            "text/plain": f"{self.painter.text}\n\n[{line}]",
        }
        _ipy("display")(bundle, raw=True, metadata=metadata)
        self.painter.throttle.charge(Op(self._id, bundle, metadata).size)
        self.messages += 1


async def show_stream(stream: DeltaStream, job: Any) -> Reply:
    """Show an engine stream for ``%%chat`` / :func:`nbstream.chat`: a displayed StreamView.

    Args:
        stream: The engine's stream.
        job: The chat job; its ``settings.model``, ``base_url`` and ``notices`` give the
            provenance and the notice line.

    Returns:
        The reply (see :meth:`StreamView.consume`).

    Raises:
        asyncio.CancelledError: The cell was interrupted, after the final render.
    """
    import httpx

    settings = getattr(job, "settings", None)
    base_url = str(getattr(job, "base_url", "") or "")
    host = httpx.URL(base_url).netloc.decode() if base_url else ""
    notices = tuple(getattr(job, "notices", ()) or ())
    view = StreamView(
        model=getattr(settings, "model", None),
        endpoint=host,
        format=str(getattr(settings, "format", "") or ""),
        notice=" · ".join(notices) or None,
    )
    return await view.consume(stream)

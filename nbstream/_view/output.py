"""Where a StreamView's output goes: display outputs, widgets in a layout, or plain text.

:class:`Surface` executes the painter's :class:`~nbstream._view.paint.Op` s and owns the
controls (Cancel button and live status line). Three modes:

- ``"display"`` (``display(view)`` in a kernel): every operation is a ``display_data`` /
  ``update_display_data`` by display id (FACTS.md: what survives save, reopen and nbconvert).
  The controls are a widget row shown under their own display id; at the end that display is
  replaced by a static status line carrying the provenance, and the widgets are closed, so no
  output references a widget. While the answer streams, an **Insert below** button appears
  under each code block that has settled; a click puts the block into a new cell below the
  running cell (IPython's ``set_next_input``, delivered with the cell's reply), and at the end
  the buttons' displays are emptied like the Cancel row. Measured in JupyterLab 4.6 and
  Notebook 7.6: ``set_next_input`` from a click *after* the cell ended inserts nothing at the
  click and rides on the reply of whatever cell runs next, below that cell; so the buttons live
  only while the cell runs, and ``%chat code N`` is the way afterwards.
- ``"widget"`` (``view.widget``, for ipywidgets layouts): the answer streams into ``HTMLMath``
  widgets; at the end a regular display output with the answer is left too (see
  :attr:`nbstream.StreamView.widget`).
- ``"text"`` (terminal IPython, plain Python): the text as it arrives, then the status line.

IPython and ipywidgets are imported only here, and only when a mode needs them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, Literal

from .._core.markdown import CodeBlock
from .paint import Op, Painter
from .render import inline_text
from .shell import BACKGROUND, execution_count, ipython_shell, shell_kind

__all__ = ["Mode", "Surface", "show_bundle"]

Mode = Literal["display", "widget", "text"]

_log = logging.getLogger("nbstream")
_INSERT = "Insert below"
_EMPTY = {"text/markdown": "", "text/plain": ""}


def _ipy(name: str) -> Any:
    """``IPython.display.<name>``, imported when first needed (it is untyped)."""
    import IPython.display

    return getattr(IPython.display, name)


def show_bundle(bundle: dict[str, str], metadata: dict[str, Any]) -> None:
    """Show a static display output (a raw mime bundle with its metadata) in the running cell."""
    _ipy("display")(bundle, raw=True, metadata=metadata)


_shared: tuple[Any, Any, Any, Any] | None = None


def _shared_parts() -> tuple[Any, Any, Any, Any]:
    """The layouts and styles every view's controls share (one of each per kernel).

    Never changed once made: restyling one view's row (``view.widget.children[0].layout``)
    would restyle every view's; give it a layout of its own instead.

    Returns:
        The default layout, a layout sized to its content (Insert buttons), the button style
        and the HTML style.
    """
    global _shared
    if _shared is None or any(part.comm is None for part in _shared):  # new, or closed
        import ipywidgets as w
        from ipywidgets.widgets.widget_string import HTMLStyle

        _shared = (w.Layout(), w.Layout(width="auto"), w.ButtonStyle(), HTMLStyle())
    return _shared


def _zmq_publisher() -> Any:
    """ipykernel's display publisher, when a message may go straight to it, else ``None``.

    Anything but a plain ipykernel publisher (terminal IPython, ``%%capture``, display hooks,
    display history kept) takes IPython's own way.
    """
    pub = getattr(ipython_shell(), "display_pub", None)
    parts = ("session", "pub_socket", "topic", "parent_header")
    if pub is None or any(getattr(pub, part, None) is None for part in parts):
        return None
    if getattr(pub, "_hooks", None) or getattr(pub, "store_display_history", False):
        return None
    return pub


def _io_thread(pub: Any) -> Any:
    """ipykernel's IOPub thread behind ``pub``, if stdout and stderr print through it too."""
    thread = getattr(pub.pub_socket, "io_thread", None)
    if thread is None or not hasattr(thread, "schedule"):
        return None
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "pub_thread", None) is not thread or not hasattr(stream, "_flush"):
            return None
    return thread


def _widget_bundle(widget: Any, text: str) -> dict[str, Any]:
    """The bundle ``display(widget)`` would build, without its repr of every trait."""
    view = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
    return {"application/vnd.jupyter.widget-view+json": view, "text/plain": text}


def publish(
    data: dict[str, Any], display_id: str, metadata: dict[str, Any], *, update: bool
) -> None:
    """Show (or, with ``update``, replace) the display ``display_id`` holding a raw bundle.

    What ``IPython.display.display(data, raw=True, display_id=…)`` and ``update_display`` send,
    without their wait: IPython flushes stdout and stderr before every display message so that
    text printed before it shows above it, two round trips to ipykernel's IOPub thread waited
    for (0.6-1.3 ms a message; an update took 200-550 µs through IPython, 45-180 µs this way,
    measured in a kernel). Here the flush and the message are handed to that thread together,
    flush first, and the event loop goes on at once. Outputs with metadata (the final ones, a
    few per answer) take IPython's way, with its cleaning of what JSON cannot hold.

    The order kept is the one a reader sees: text printed before the call shows above the
    output. The message itself reaches the socket a turn of the IOPub thread later, so a widget
    message sent right after it from the kernel's thread (a comm close) may overtake it; text
    printed right after it may too, as with IPython, whose flush only covers what came before.
    """
    pub: Any = None if metadata else _zmq_publisher()
    thread = None if pub is None else _io_thread(pub)
    if thread is None:
        if update:
            _ipy("update_display")(data, raw=True, display_id=display_id, metadata=metadata)
        else:
            _ipy("display")(data, raw=True, display_id=display_id, metadata=metadata)
        return
    content = {"data": data, "metadata": {}, "transient": {"display_id": display_id}}
    kind = "update_display_data" if update else "display_data"
    msg = pub.session.msg(kind, content, parent=pub.parent_header)  # the parent of this cell
    streams = (sys.stdout, sys.stderr)

    def send() -> None:  # on the IOPub thread: printed text is queued before the message
        try:
            for stream in streams:
                stream.flush()  # an OutStream's flush on its own thread: no wait, just queued
            pub.session.send(pub.pub_socket, msg, ident=pub.topic)
        except Exception:  # noqa: BLE001 - the IOPub thread must go on with the messages after it
            _log.exception("nbstream: a display message could not be sent")

    thread.schedule(send)


class Surface:
    """Execute display operations in one mode, with the controls while streaming.

    Args:
        mode: Where the output goes.
        display_id: The display id of the controls row and, at the end, the status line.
        controls: Show the Cancel button and live status line (and, in display mode, the
            Insert buttons under settled code blocks).
        on_cancel: Called on a Cancel click (must not fail: ipywidgets only prints callback
            errors).
        on_insert: Called with a code block's position on an Insert click, from whatever thread
            handles the click (must not fail); it should call :meth:`insert` on the loop.
        status: The status line's first value (HTML).
    """

    def __init__(
        self,
        mode: Mode,
        display_id: str,
        *,
        controls: bool,
        on_cancel: Callable[[], None],
        status: str,
        on_insert: Callable[[int], None] | None = None,
    ) -> None:
        self.mode = mode
        self.display_id = display_id
        self.messages = 0  # display operations and status updates sent
        # Widget messages (comm opens and closes, the controls' displays) not yet counted by
        # the view against the kernel's message rate (:meth:`take_widget_messages`), so that
        # fifty views opening at once delay frames rather than push the kernel's rate over
        # jupyter_server's limit.
        self._widget_messages = 0
        self.box: Any = None
        self._answer_box: Any = None
        self._widgets: dict[str, Any] = {}
        self._on_insert = on_insert
        self._code: dict[int, CodeBlock] = {}
        self._buttons: dict[int, Any] = {}  # code block position → its Insert button
        self._button_displays: list[str] = []
        # The cell this view runs in: a click inserts below it only while it still runs.
        self._cell = execution_count() if controls and mode == "display" else None
        if BACKGROUND.get():
            self._cell = None
        if mode == "text":
            return
        import ipywidgets as w

        row: list[Any] = []
        if controls:
            # Three widget models per view, not eight: every widget's layout and style is a
            # widget of its own (its own comm, state and messages), and these never change,
            # so all views share them (measured in a kernel: 2.7 ms → under 1 ms per view).
            layout, _auto, button_style, html_style = _shared_parts()
            button = w.Button(
                description="Cancel",
                icon="stop",
                button_style="warning",
                layout=layout,
                style=button_style,
            )
            button.on_click(lambda _button: on_cancel())
            self._status = w.HTML(value=status, layout=layout, style=html_style)
            row = [w.HBox([button, self._status], layout=layout)]
            self._controls = [button, self._status, row[0]]
            self._widget_messages += 3  # their comm_open messages
        else:
            self._controls = []
        if mode == "widget":
            self._answer_box = w.VBox([])
            self.box = w.VBox([*row, self._answer_box])
        elif row:
            publish(_widget_bundle(row[0], "Cancel"), display_id, {}, update=False)
            self._widget_messages += 1

    def take_widget_messages(self) -> int:
        """The widget messages sent since the last call (for the kernel's message rate)."""
        n, self._widget_messages = self._widget_messages, 0
        return n

    @property
    def live(self) -> bool:
        """Whether a live status line is shown (and worth refreshing)."""
        return bool(self._controls)

    def write(self, text: str) -> None:
        """Text mode: print answer text as it arrives."""
        sys.stdout.write(text)
        sys.stdout.flush()

    def status(self, value: str) -> None:
        """Replace the live status line (HTML)."""
        if self._controls:
            self._status.value = value
            self.messages += 1

    def apply(self, ops: list[Op]) -> None:
        """Execute display operations, in order."""
        if not ops:
            return
        self.messages += len(ops)
        if self.mode == "widget":
            import ipywidgets as w

            for op in ops:
                value = op.data.get("text/markdown", "")  # HTML: the painter's html_only
                if op.display_id in self._widgets:
                    self._widgets[op.display_id].value = value
                else:
                    self._widgets[op.display_id] = w.HTMLMath(value=value)
                    children = self._answer_box.children
                    self._answer_box.children = (*children, self._widgets[op.display_id])
            return
        for op in ops:
            publish(op.data, op.display_id, op.metadata, update=op.update)
            if op.blocks and self._controls and self._cell is not None:
                # Right after the display that shows them: below it, above the next live piece.
                self._offer(op.blocks)

    def _offer(self, blocks: tuple[tuple[int, CodeBlock], ...]) -> None:
        """Show an Insert button for each of ``blocks``, under their display."""
        import ipywidgets as w

        on_insert = self._on_insert or self.insert
        layout, auto_layout, button_style, _html_style = _shared_parts()
        row = []
        for index, block in blocks:
            what = f"code block {index + 1}" + (f" ({block.language})" if block.language else "")
            button = w.Button(
                description=_INSERT,
                icon="plus",
                tooltip=f"Put {what} in a new cell below when the answer ends "
                f"(afterwards: %chat code {index + 1})",
                layout=auto_layout,
                style=button_style,
            )
            button.on_click(lambda _button, i=index: on_insert(i))
            self._code[index], self._buttons[index] = block, button
            row.append(button)
        box = w.HBox(row, layout=layout)
        display_id = f"{self.display_id}-insert-{blocks[0][0]}"
        publish(_widget_bundle(box, "Insert below"), display_id, {}, update=False)
        self._button_displays.append(display_id)
        self._controls += [*row, box]
        self.messages += 1
        self._widget_messages += len(row) + 1

    def insert(self, index: int) -> None:
        """Put code block ``index`` into a new cell below the running cell, when it ends.

        The frontend creates the cell from the ``set_next_input`` payload of the cell's reply;
        IPython keeps one such payload per reply, so the last click wins (the buttons say which).
        Never raises (it runs as a widget callback).
        """
        try:
            shell = ipython_shell()
            button = self._buttons.get(index)
            if shell is None or button is None or not self._controls:
                return
            if getattr(shell, "execution_count", None) != self._cell:
                button.description = f"Cell ended: use %chat code {index + 1}"
                return
            shell.set_next_input(self._code[index].code, replace=False)
            for other in self._buttons.values():
                other.description, other.button_style = _INSERT, ""
            button.description, button.button_style = "✓ goes below when the answer ends", "success"
        except Exception:  # noqa: BLE001 - a callback must not fail; the click is lost, not the view
            return

    def finish(
        self,
        line: str,
        metadata: dict[str, Any],
        painter: Painter,
        *,
        details: tuple[str, str] = ("", ""),
    ) -> int:
        """Show the final status line (with its provenance) and close the controls.

        Args:
            line: The status line (plain text).
            metadata: The output metadata (``{"nbstream": provenance}``).
            painter: The painter, already finished (for the durable copy of a layout view).
            details: What to show under the line (the tool calls the server ran), as safe HTML
                and as plain text.

        Returns:
            Bytes sent.
        """
        if self.mode == "text":
            self.write(f"\n[{line}]\n" + (f"{details[1]}\n" if details[1] else ""))
            return 0
        bundle = {
            "text/markdown": f"<p><small>{inline_text(line)}</small></p>\n{details[0]}",
            "text/plain": f"{line}\n{details[1]}" if details[1] else line,
        }
        sent = Op(self.display_id, bundle, metadata).size
        if self.mode == "widget":
            import ipywidgets as w

            self.box.children = (w.HTML(value=bundle["text/markdown"]), self._answer_box)
            sent += self._durable_copy(line, metadata, painter)
        elif self._controls:
            publish(bundle, self.display_id, metadata, update=True)
        else:
            publish(bundle, self.display_id, metadata, update=False)
        self.messages += 1
        for display_id in self._button_displays:
            publish(dict(_EMPTY), display_id, {}, update=True)
            self.messages += 1
        shared = _shared_parts() if self._controls else ()
        for widget in self._controls:
            # Their layout and style are widgets too: close them, or they stay in the kernel
            # (and in a notebook saved with widget state); the shared ones serve other views.
            for part in (widget, getattr(widget, "layout", None), getattr(widget, "style", None)):
                if part is not None and part not in shared:
                    part.close()
                    self._widget_messages += 1  # its comm_close
        self._controls = []
        return sent

    def _durable_copy(self, line: str, metadata: dict[str, Any], painter: Painter) -> int:
        """Leave a layout view's answer as a regular display output too, collapsed."""
        if shell_kind() != "kernel":
            return 0
        # The live widgets showed HTML; the copy is a markdown output (code fences highlighted).
        summary = f"<summary>{inline_text(line)}</summary>\n"
        bundle = {
            "text/markdown": f"<details>\n{summary}{painter.markdown()}</details>\n",
            "text/plain": f"{painter.text}\n\n[{line}]",
        }
        _ipy("display")(bundle, raw=True, metadata=metadata)
        self.messages += 1
        return Op(self.display_id, bundle, metadata).size

"""Where a StreamView's output goes: display outputs, widgets in a layout, or plain text.

:class:`Surface` executes the painter's :class:`~nbstream._view.paint.Op` s and owns the
controls (Cancel button and live status line). Three modes:

- ``"display"`` (``display(view)`` in a kernel): every operation is a ``display_data`` /
  ``update_display_data`` by display id (FACTS.md: what survives save, reopen and nbconvert).
  The controls are a widget row shown under their own display id; at the end that display is
  replaced by a static status line carrying the provenance, and the widgets are closed, so no
  output references a widget.
- ``"widget"`` (``view.widget``, for ipywidgets layouts): the answer streams into ``HTMLMath``
  widgets; at the end a regular display output with the answer is left too (see
  :attr:`nbstream.StreamView.widget`).
- ``"text"`` (terminal IPython, plain Python): the text as it arrives, then the status line.

IPython and ipywidgets are imported only here, and only when a mode needs them.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Callable
from typing import Any, Literal

from .paint import Op, Painter
from .shell import shell_kind

__all__ = ["Mode", "Surface", "show_bundle"]

Mode = Literal["display", "widget", "text"]


def _ipy(name: str) -> Any:
    """``IPython.display.<name>``, imported when first needed (it is untyped)."""
    import IPython.display

    return getattr(IPython.display, name)


def show_bundle(bundle: dict[str, str], metadata: dict[str, Any]) -> None:
    """Show a static display output (a raw mime bundle with its metadata) in the running cell."""
    _ipy("display")(bundle, raw=True, metadata=metadata)


class Surface:
    """Execute display operations in one mode, with the controls while streaming.

    Args:
        mode: Where the output goes.
        display_id: The display id of the controls row and, at the end, the status line.
        controls: Show the Cancel button and live status line.
        on_cancel: Called on a Cancel click (must not fail: ipywidgets only prints callback
            errors).
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
    ) -> None:
        self.mode = mode
        self.display_id = display_id
        self.messages = 0  # display operations and status updates sent
        self.box: Any = None
        self._answer_box: Any = None
        self._widgets: dict[str, Any] = {}
        if mode == "text":
            return
        import ipywidgets as w

        row: list[Any] = []
        if controls:
            button = w.Button(description="Cancel", icon="stop", button_style="warning")
            button.on_click(lambda _button: on_cancel())
            self._status = w.HTML(value=status)
            row = [w.HBox([button, self._status])]
            self._controls = [button, self._status, row[0]]
        else:
            self._controls = []
        if mode == "widget":
            self._answer_box = w.VBox([])
            self.box = w.VBox([*row, self._answer_box])
        elif row:
            _ipy("display")(row[0], display_id=display_id)

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

    def finish(self, line: str, metadata: dict[str, Any], painter: Painter) -> int:
        """Show the final status line (with its provenance) and close the controls.

        Args:
            line: The status line (plain text).
            metadata: The output metadata (``{"nbstream": provenance}``).
            painter: The painter, already finished (for the durable copy of a layout view).

        Returns:
            Bytes sent.
        """
        if self.mode == "text":
            self.write(f"\n[{line}]\n")
            return 0
        bundle = {
            "text/markdown": f"<p><small>{html.escape(line)}</small></p>\n",
            "text/plain": line,
        }
        sent = Op(self.display_id, bundle, metadata).size
        if self.mode == "widget":
            import ipywidgets as w

            self.box.children = (w.HTML(value=bundle["text/markdown"]), self._answer_box)
            sent += self._durable_copy(line, metadata, painter)
        elif self._controls:
            _ipy("update_display")(bundle, raw=True, display_id=self.display_id, metadata=metadata)
        else:
            _ipy("display")(bundle, raw=True, display_id=self.display_id, metadata=metadata)
        self.messages += 1
        for widget in self._controls:
            # Their layout and style are widgets too: close them, or they stay in the kernel
            # (and in a notebook saved with widget state).
            for part in (widget, getattr(widget, "layout", None), getattr(widget, "style", None)):
                if part is not None:
                    part.close()
        self._controls = []
        return sent

    def _durable_copy(self, line: str, metadata: dict[str, Any], painter: Painter) -> int:
        """Leave a layout view's answer as a regular display output too, collapsed."""
        if shell_kind() != "kernel":
            return 0
        parts = [painter.reasoning_html, *(seg.html for seg in painter.segments)]
        # No blank line inside: the markdown renderer passes one HTML block through verbatim.
        summary = f"<summary>{html.escape(line)}</summary>\n"
        bundle = {
            "text/markdown": f"<details>\n{summary}{''.join(parts)}</details>\n",
            "text/plain": f"{painter.text}\n\n[{line}]",
        }
        _ipy("display")(bundle, raw=True, metadata=metadata)
        self.messages += 1
        return Op(self.display_id, bundle, metadata).size

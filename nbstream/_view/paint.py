"""What the view sends, decided without Jupyter: a growing answer → display operations.

:class:`Painter` turns text and reasoning as they arrive into :class:`Op` s: "show this bundle
under a new display id" or "replace the bundle of this display id". The view executes them with
IPython's ``display`` / ``update_display`` (or on widgets, in a layout); the benchmark counts
them. The shape of the output, top to bottom:

- a reasoning display (only when the model reasons): a one-line live preview while it thinks,
  then the whole reasoning once, in a collapsed ``<details>``;
- one display per settled segment of the answer, sent once with ``text/markdown`` (sanitized
  HTML and code fences, see :mod:`nbstream._view.render`) and ``text/plain`` (the exact
  markdown); a settled segment's operation lists the code blocks it completes, for the
  surface's Insert buttons;
- the live tail: one display id re-rendered per frame, healed, ``text/markdown`` only (the
  frontend shows only the richest mimetype; the plain copy comes once, when it settles). Code
  blocks in it are plain ``<pre>``: the frontend highlights them once they settle. When
  the tail's first block settles, the tail's display becomes that segment and a new display is
  opened below it for the new tail, so the order on the page stays the order of the text.
- a block longer than :data:`PIECE_CHARS` (a giant paragraph, a long code block or list) is
  shown in pieces while it grows, one display each, cut where the markdown allows; only the last
  piece is re-sent per frame. When the block settles, its first piece's display gets the whole
  block, exactly, and the other pieces' displays are emptied.

How often frames are drawn, and how many bytes and messages a view may send per second, is the
:class:`~nbstream._core.throttle.Throttle`'s decision.

The final render is exact: the last tail is rendered without healing, and when the answer
defines link references, segments that render differently with all definitions known are
updated once.
"""

from __future__ import annotations

import html
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .._core.markdown import CodeBlock, code_blocks, heal, piece_cut, settled_end
from .._core.throttle import Throttle
from .render import Renderer

__all__ = ["PIECE_CHARS", "Op", "Painter"]

_PREVIEW_CHARS = 160


@dataclass(frozen=True, slots=True)
class Op:
    """One display operation.

    Attributes:
        display_id: The display this operation shows or replaces.
        data: The mime bundle.
        metadata: Output metadata (provenance on final outputs).
        update: ``False`` to show a new display, ``True`` to replace an existing one.
        blocks: The code blocks this operation shows settled while the answer streams, with
            their 0-based position in the answer (``reply.code_blocks``).
    """

    display_id: str
    data: dict[str, str]
    metadata: dict[str, Any] = field(default_factory=dict)
    update: bool = False
    blocks: tuple[tuple[int, CodeBlock], ...] = ()

    @property
    def size(self) -> int:
        """Bytes of content this operation sends (every mimetype and the metadata)."""
        n = sum(len(v.encode()) for v in self.data.values())
        return n + (len(json.dumps(self.metadata)) if self.metadata else 0)


@dataclass(slots=True)
class _Segment:
    display_id: str
    text: str
    html: str


#: A live piece longer than this (characters) is cut in two where the markdown allows it
#: (:func:`~nbstream._core.markdown.piece_cut`), so that a frame re-sends at most about this much.
PIECE_CHARS = 2000

# What a piece's display is set to when its block settles into the first piece's display.
_EMPTY = {"text/markdown": "", "text/plain": ""}


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


class Painter:
    """Turn a growing answer into display operations, incrementally and at a bounded rate.

    The cost of a frame is bounded by the live piece, never by the answer: settled text is kept
    as a list of chunks and only the tail (the text after the last settled boundary) is scanned;
    only its last piece (at most about :data:`PIECE_CHARS`) is healed, rendered and re-sent.

    Args:
        renderer: The sanitizing markdown renderer.
        throttle: The frame scheduler (it is charged for every byte and message).

    Attributes:
        html_only: Render HTML alone (for widgets that show HTML, not markdown): code blocks
            as ``<pre>``, never as fences.
    """

    def __init__(self, renderer: Renderer | None = None, throttle: Throttle | None = None) -> None:
        self.renderer = renderer or Renderer()
        self.throttle = throttle or Throttle()
        self.html_only = False
        self._blocks = 0  # code blocks settled so far
        self._ids = (f"nbstream-{uuid.uuid4().hex[:12]}-{i}" for i in itertools.count())
        self._parts: list[str] = []
        self._tail = ""
        self._length = 0
        self._reasoning: list[str] = []
        self._reasoning_len = 0
        self.settled = 0
        self.segments: list[_Segment] = []
        self._env: dict[str, Any] = {}
        self._tail_id: str | None = None
        self._tail_sent: str | None = None
        # The unsettled block shown in pieces: the displays of the pieces above the live one,
        # where the live piece starts in the tail, and the fence line it reopens (if any).
        self._pieces: list[str] = []
        self._live_start = 0
        self._live_prefix = ""
        self._reasoning_id: str | None = None
        self._reasoning_sent: str | None = None
        self.dirty = False
        self.shown = 0
        self.ops_sent = 0
        self.cpu = 0.0

    @property
    def text(self) -> str:
        """The answer's text so far (joined on each call: for the end, not per frame)."""
        return "".join(seg.text for seg in self.segments) + self._live()

    @property
    def content_length(self) -> int:
        """Characters of answer and reasoning so far."""
        return self._length + self._reasoning_len

    @property
    def reasoning_html(self) -> str:
        """The reasoning display's HTML as last sent (``""`` without reasoning)."""
        return self._reasoning_sent or ""

    def add_text(self, text: str) -> None:
        """Append answer text (cheap: nothing is rendered here)."""
        if text:
            self._parts.append(text)
            self._length += len(text)
            self.dirty = True

    def add_reasoning(self, text: str) -> None:
        """Append reasoning text."""
        if text:
            self._reasoning.append(text)
            self._reasoning_len += len(text)
            self.dirty = True

    def _live(self) -> str:
        """The unsettled tail, with the text added since the last call appended."""
        if self._parts:
            self._tail += "".join(self._parts)
            self._parts.clear()
        return self._tail

    def next_frame_at(self, now: float) -> float | None:
        """When the next frame is due: ``None`` when nothing new waits to be shown.

        Args:
            now: The monotonic clock.
        """
        return self.throttle.next_at(now) if self.dirty else None

    def frame(self, now: float) -> list[Op]:
        """Return the operations of the next frame, or none when it is not time yet.

        Args:
            now: The monotonic clock (a simulated one in the benchmark).

        Returns:
            Operations to execute in order; every byte is already charged to the throttle.
        """
        if not self.dirty or not self.throttle.due(now):
            return []
        cpu0 = time.process_time()
        ops = self._settle(settled_end(self._live()))
        if self._reasoning and not self._length:
            preview = " ".join(
                "".join(self._reasoning[-_PREVIEW_CHARS:])[-_PREVIEW_CHARS * 2 :].split()
            )
            body = html.escape(preview[-_PREVIEW_CHARS:])
            ops += self._send_reasoning({"text/markdown": f"<p><em>Thinking…</em> {body}</p>\n"})
        ops += self._cut_pieces()
        live = self._tail[self._live_start :]
        healed = heal(self._live_prefix + live)
        rendered = self._render(healed, self._env_copy(), live=True)
        if rendered != (self._tail_sent or ""):
            op = self._tail_op({"text/markdown": rendered})
            self._tail_sent, self._tail_id = rendered, op.display_id
            ops.append(op)
        shown = _common_prefix(healed[len(self._live_prefix) :], live) if live.strip() else 0
        self.shown = self.settled + self._live_start + shown
        self._charge(ops, now)
        self.dirty = False
        self.throttle.drew(now, time.process_time() - cpu0)
        return ops

    def finish(self, now: float | None = None) -> list[Op]:
        """Return the final operations: the exact rest of the answer and the whole reasoning.

        Never throttled. Call once, when the stream has ended however it ended.

        Args:
            now: The monotonic clock (default: read it), for the throttle's accounting.
        """
        cpu0 = time.process_time()
        ops: list[Op] = []
        if self._reasoning:
            reasoning = "".join(self._reasoning)
            bundle = {
                "text/markdown": self._reasoning_details(self._render(reasoning)),
                "text/plain": f"Reasoning:\n{reasoning}",
            }
            ops += self._send_reasoning(bundle)
        # The shown tail (if any) becomes the last segment, rendered exactly. It cannot be blank:
        # a tail is shown only once it renders to something, and it only grows until it settles,
        # so no empty output is ever left behind.
        ops += self._settle(len(self._live()), final=True)
        self._tail_id = None
        if self._env.get("references"):
            full = self.renderer.references(self.text)
            for seg in self.segments:
                again = self._render(seg.text, dict(full))
                if again != seg.html:
                    seg.html = again
                    ops.append(Op(seg.display_id, self._final_bundle(seg), update=True))
        self.dirty = False
        self.shown = self.settled
        self._charge(ops, time.monotonic() if now is None else now)
        self.cpu += time.process_time() - cpu0
        return ops

    def markdown(self) -> str:
        """The whole answer (reasoning included) as one ``text/markdown`` bundle's value.

        For a durable copy of a view whose live output was HTML (``html_only``).
        """
        body = self.renderer.render(self.text)
        if not self._reasoning:
            return body
        return self._reasoning_details(self.renderer.render("".join(self._reasoning))) + body

    def _reasoning_details(self, inner: str) -> str:
        """The whole reasoning, collapsed under its word count."""
        words = len("".join(self._reasoning).split())
        return f"<details>\n<summary>Reasoning ({words:,} words)</summary>\n{inner}</details>\n"

    def _render(self, text: str, env: dict[str, Any] | None = None, *, live: bool = False) -> str:
        if self.html_only:
            return self.renderer.html(text, env)
        return self.renderer.render(text, env, live=live)

    @staticmethod
    def _final_bundle(seg: _Segment) -> dict[str, str]:
        return {"text/markdown": seg.html, "text/plain": seg.text}

    def _settle(self, cut: int, *, final: bool = False) -> list[Op]:
        """Send ``tail[:cut]`` as a settled segment (once) and keep the rest as the tail.

        Args:
            cut: Where the segment ends in the tail.
            final: The answer has ended: no Insert buttons are offered for its code blocks.
        """
        done = self._tail[:cut]
        if not done.strip():  # whitespace renders nothing: it stays, with the text after it
            return []
        self._tail = self._tail[cut:]
        self.settled += cut
        seg_html = self._render(done, self._env)
        found = code_blocks(done)
        blocks = () if final else tuple(enumerate(found, start=self._blocks))
        self._blocks += len(found)
        ops: list[Op] = []
        if self._pieces:
            # A block shown in pieces settles into its first piece's display, exactly; the
            # other pieces and the live piece are emptied (their text is in the segment now).
            first, *others = self._pieces
            seg = _Segment(first, done, seg_html)
            ops.append(Op(first, self._final_bundle(seg), update=True, blocks=blocks))
            rest = [*others, *([self._tail_id] if self._tail_id is not None else [])]
            ops += [Op(display_id, dict(_EMPTY), update=True) for display_id in rest]
            self._pieces, self._live_start, self._live_prefix = [], 0, ""
        elif self._tail_id is not None:
            seg = _Segment(self._tail_id, done, seg_html)
            ops.append(Op(seg.display_id, self._final_bundle(seg), update=True, blocks=blocks))
        else:
            seg = _Segment(next(self._ids), done, seg_html)
            ops.append(Op(seg.display_id, self._final_bundle(seg), blocks=blocks))
        self.segments.append(seg)
        self._tail_id, self._tail_sent = None, None
        return ops

    def _cut_pieces(self) -> list[Op]:
        """Freeze the live piece's head while the live piece is longer than PIECE_CHARS."""
        ops: list[Op] = []
        while len(self._tail) - self._live_start > PIECE_CHARS:
            found = piece_cut(self._tail, self._live_start, PIECE_CHARS // 2)
            if found is None:
                break
            cut, prefix = found
            head = heal(self._live_prefix + self._tail[self._live_start : cut])
            op = self._tail_op({"text/markdown": self._render(head, self._env_copy(), live=True)})
            ops.append(op)
            self._pieces.append(op.display_id)
            self._tail_id, self._tail_sent = None, None
            self._live_start, self._live_prefix = cut, prefix
        return ops

    def _tail_op(self, bundle: dict[str, str]) -> Op:
        if self._tail_id is None:
            return Op(next(self._ids), bundle)
        return Op(self._tail_id, bundle, update=True)

    def _send_reasoning(self, bundle: dict[str, str]) -> list[Op]:
        if bundle["text/markdown"] == self._reasoning_sent:
            return []
        update = self._reasoning_id is not None
        display_id = self._reasoning_id or next(self._ids)
        self._reasoning_id, self._reasoning_sent = display_id, bundle["text/markdown"]
        return [Op(display_id, bundle, update=update)]

    def _env_copy(self) -> dict[str, Any]:
        refs = self._env.get("references")
        return {"references": dict(refs)} if refs else {}

    def _charge(self, ops: list[Op], now: float) -> None:
        self.throttle.charge(sum(op.size for op in ops), len(ops), now)
        self.ops_sent += len(ops)

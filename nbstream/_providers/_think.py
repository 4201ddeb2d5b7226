"""A reply that opens with a think block (``<think>…</think>`` …): that block is reasoning.

DeepSeek-R1 and the models distilled from it, QwQ and Qwen3 write their reasoning inside
``<think>`` tags at the start of the answer. A server with a reasoning parser (vLLM's
``--reasoning-parser``, llama.cpp's ``--reasoning-format``, Ollama's ``think``) moves it to its
reasoning field; a server without one (vLLM and SGLang by default, Groq's ``raw`` reasoning
format, Together, Ollama's ``/api/generate`` ``response``, any home-made server in front of such
a model) leaves it in the text, in whatever wire format it speaks. Other servers use other tag
names for the same block: Gemini's OpenAI-compatible endpoint asked for ``include_thoughts``
(ai.google.dev/gemini-api/docs/openai, ``extra_body.google.thinking_config``) sends
``<thought>…</thought>`` in ``delta.content`` (those chunks marked ``extra_content.google``
``.thought``), Bedrock's OpenAI-compatible API puts gpt-oss's reasoning first in
``<reasoning>…</reasoning>``, and some fine-tunes write ``<thinking>`` (:data:`TAGS`).

So the split works on deltas, after any format: :class:`LeadingThink` moves the text of a
*leading* think block into :class:`~nbstream.ReasoningDelta` s as it streams (a tag cut across
chunks included) and passes the text after the matching closing tag on as the answer, its
leading blank lines dropped. Only a block that opens the text counts: a ``<think>`` later in an
answer is the answer's own text, and so is a closing tag other than the opening one's.
:class:`ThinkTagFormat` applies it to a :class:`WireFormat`; the format registry wraps every
format in it.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from .._core.deltas import Delta, ReasoningDelta, TextDelta
from ._common import EventLike, WireFormat

__all__ = ["TAGS", "LeadingThink", "ThinkTagFormat"]

# The tag names of a leading reasoning block, see the module docstring.
TAGS: tuple[str, ...] = ("think", "thinking", "thought", "reasoning")
_OPENS: tuple[str, ...] = tuple(f"<{tag}>" for tag in TAGS)

_State: TypeAlias = Literal["start", "think", "after", "text"]


class LeadingThink:
    """Move a leading think block (``<think>…</think>``, any of :data:`TAGS`) into reasoning.

    Feed it every delta in order (:meth:`feed`), then :meth:`flush` once at the end. Deltas
    other than text pass through unchanged and in order; text is held back only while it could
    still be the start of an opening tag, or the end of the reasoning (a piece of the closing
    tag, or whitespace that may precede it).
    """

    def __init__(self) -> None:
        self._state: _State = "start"
        self._held = ""  # text not yet passed on, see the class docstring
        self._reasoned = False  # some reasoning was passed on (its leading space is dropped)
        self._close = ""  # the closing tag that ends the block, once it has opened

    def feed(self, deltas: list[Delta]) -> list[Delta]:
        """Return ``deltas`` with the leading think block's text turned into reasoning.

        Args:
            deltas: The next deltas of the stream.

        Returns:
            The deltas to pass on now.
        """
        if self.decided:
            return deltas
        out: list[Delta] = []
        for delta in deltas:
            if isinstance(delta, TextDelta) and not self.decided:
                out.extend(self._text(delta.text, delta.time))
            else:
                out.append(delta)
        return out

    @property
    def decided(self) -> bool:
        """``True`` once the rest of the text is the answer, passed on as it comes."""
        return self._state == "text"

    def flush(self, time: float = 0.0) -> list[Delta]:
        """Pass on what is still held at the end of the stream.

        Args:
            time: Arrival time for the deltas made now.

        Returns:
            Text that never became a think block, or the reasoning of a block that never
            closed (a reply cut off while it was thinking).
        """
        held, self._held = self._held, ""
        if self._state == "start" and held:
            self._state = "text"
            return [TextDelta(held, time=time)]
        if self._state == "think":
            return self._reasoning(held.rstrip(), time)
        return []

    def _text(self, piece: str, time: float) -> list[Delta]:
        if self._state == "start":
            held = self._held + piece
            head = held.lstrip()
            if not head or any(tag.startswith(head) for tag in _OPENS):
                self._held = held  # blank so far, or a cut "<thi"
                return []
            self._held = ""
            # No opening tag is a prefix of another ("<think>" is not one of "<thinking>").
            tag = next((tag for tag in _OPENS if head.startswith(tag)), None)
            if tag is None:
                self._state = "text"
                return [TextDelta(held, time=time)]
            self._state = "think"
            self._close = f"</{tag[1:]}"
            piece = head[len(tag) :]
        if self._state == "think":
            held = self._held + piece
            end = held.find(self._close)
            if end < 0:
                keep = len(_tail(held, self._close))
                self._held = held[len(held) - keep :] if keep else ""
                return self._reasoning(held[: len(held) - keep], time)
            self._held = ""
            self._state = "after"
            out = self._reasoning(held[:end].rstrip(), time)
            return [*out, *self._text(held[end + len(self._close) :], time)]
        # after the closing tag: the answer starts at its first non-blank line
        held = self._held + piece
        if not held.strip():
            self._held = held
            return []
        self._held = ""
        self._state = "text"
        return [TextDelta(_drop_blank_lines(held), time=time)]

    def _reasoning(self, text: str, time: float) -> list[Delta]:
        if not self._reasoned:
            text = text.lstrip()  # "<think>\n" opens with a line break
        if not text:
            return []
        self._reasoned = True
        return [ReasoningDelta(text, time=time)]


def _tail(text: str, close: str) -> str:
    """The end of ``text`` that must wait: a cut ``close`` tag and the whitespace before it.

    Whitespace is held because, should the closing tag follow it, it belongs to neither the
    reasoning nor the answer.
    """
    cut = next((n for n in range(len(close) - 1, 0, -1) if text.endswith(close[:n])), 0)
    body = text[: len(text) - cut]
    return text[len(body.rstrip()) :]


def _drop_blank_lines(text: str) -> str:
    """Drop the blank lines before the answer's first line (and spaces, on the same line)."""
    lead = text[: len(text) - len(text.lstrip())]
    newline = lead.rfind("\n")
    # The first line's own indentation is kept when the blank lines end with a line break: it
    # may be the indentation of a code block.
    return text[newline + 1 :] if newline >= 0 else text.lstrip()


class ThinkTagFormat:
    """A wire format whose text has its leading think block turned into reasoning.

    Args:
        inner: The format that reads the events.
    """

    def __init__(self, inner: WireFormat) -> None:
        self.inner = inner
        self.name = inner.name
        self._split = LeadingThink()
        self._decided = False  # the split passes everything on as it is: skip it
        self._last = 0.0

    @property
    def complete(self) -> bool:
        """``True`` once the inner format's terminal marker was seen."""
        return self.inner.complete

    @complete.setter
    def complete(self, value: bool) -> None:
        self.inner.complete = value

    def feed(self, item: EventLike) -> list[Delta]:
        """Translate one event with the inner format, then split its text."""
        if self._decided:
            return self.inner.feed(item)
        self._last = item.time
        out = self._split.feed(self.inner.feed(item))
        self._decided = self._split.decided
        return out

    def finish(self) -> list[Delta]:
        """Finish the inner format, and pass on any text still held."""
        return [*self._split.feed(self.inner.finish()), *self._split.flush(self._last)]

    def parse_body(self, obj: Any, *, time: float = 0.0) -> list[Delta]:
        """Translate a non-streamed answer with the inner format, then split its text."""
        return [*self._split.feed(self.inner.parse_body(obj, time=time)), *self._split.flush(time)]

"""Any JSON event with the text at a field path: the format for home-made servers.

``path`` names the field (``"chunk"``, ``"data.text"``, ``"body.content"``, ``"choices.0.text"``);
without one, the first event decides among the usual names (:data:`GUESSES`). ``mode`` says
how to read the value:

- ``"delta"``: each event carries new text (the seeds' echo server: ``{"chunk": "e"}``);
- ``"cumulative"``: each event repeats the whole text so far (ChatGLM-style servers); the
  new text is what follows the previous value;
- ``"auto"``: decided by the second non-empty value: if it extends the first, the server is
  cumulative. The first value is the same in both modes, so it is shown at once (no delay).

``[DONE]`` (with or without the space, as Sider-style servers send it) is the terminal marker;
servers that send none end complete when the stream ends in order. An event without the field
is skipped, unless it has an error shape (``{"error": …}``, ``{"code": 1, "msg": …}``).
"""

from __future__ import annotations

from typing import Any

from .._core.deltas import Delta, TextDelta
from ._common import DONE, EventLike, dig, error_delta, load_json
from .provider import JsonMode, Provider, ReadOptions

__all__ = ["GUESSES", "PROVIDER", "JsonMode", "JsonPathFormat", "guess_path"]

# Field paths tried, in order, when no path is given: the shapes of home-made servers seen in
# the wild (echo servers, Sider, LangServe, FastAPI demos, Qwen/ChatGLM demo servers, Gemini).
GUESSES: tuple[str, ...] = (
    "chunk",
    "text",
    "content",
    "delta",
    "token",
    "response",
    "answer",
    "output",
    "message",
    "data.text",
    "data.content",
    "data.answer",
    "body.content",
    "message.content",
    "choices.0.delta.content",
    "choices.0.text",
    "choices.0.message.content",
    "candidates.0.content.parts.0.text",  # Gemini's native streamGenerateContent?alt=sse
    "token.text",  # Hugging Face TGI's /generate_stream
    "delta.message.content.text",  # Cohere's v2 /v2/chat stream (content-delta events)
)


def guess_path(obj: Any) -> str | None:
    """Return the first of :data:`GUESSES` that holds a string in ``obj``, or ``None``."""
    for path in GUESSES:
        if isinstance(dig(obj, path), str):
            return path
    return None


class JsonPathFormat:
    """Read text from one field of each JSON event.

    Args:
        path: Dotted field path; ``None`` guesses it from the first event that has one.
        mode: ``"delta"``, ``"cumulative"`` or ``"auto"``.
    """

    name = "json"

    def __init__(self, path: str | None = None, mode: JsonMode = "auto") -> None:
        self.path = path
        self.mode: JsonMode = mode
        self.complete = False
        self._previous = ""  # the whole text so far (cumulative mode needs it)
        self._values = 0

    def feed(self, item: EventLike) -> list[Delta]:
        """Translate one event."""
        if self.complete or not item.data.strip():
            return []
        if item.data.strip() == DONE:
            self.complete = True
            return []
        obj, bad = load_json(item, self.name)
        if bad is not None:
            return [bad]
        return self._value(obj, item.time)

    def finish(self) -> list[Delta]:
        """An orderly end is completion when the server has no terminal marker."""
        self.complete = True
        return []

    def parse_body(self, obj: Any, *, time: float = 0.0) -> list[Delta]:
        """A non-streamed body: the field's value is the whole answer."""
        self.complete = True
        return self._value(obj, time)

    def _value(self, obj: Any, time: float) -> list[Delta]:
        value: Any = obj  # a bare JSON string ("data: \"e\"") is the piece itself
        if not isinstance(obj, str):
            if self.path is None:
                self.path = guess_path(obj)
            value = dig(obj, self.path) if self.path is not None else None
        if not isinstance(value, str):
            err = error_delta(obj, time)
            return [err] if err is not None else []
        if not value:
            return []
        self._values += 1
        if self.mode == "auto" and self._values == 2:
            # The second value decides: a cumulative server repeats the first one as a prefix.
            grows = len(value) > len(self._previous) and value.startswith(self._previous)
            self.mode = "cumulative" if grows else "delta"
        if self.mode == "cumulative":
            new = _after(self._previous, value)
            self._previous = value
        else:
            new = value
            if self._values == 1:
                self._previous = value  # kept only for the auto decision
        return [TextDelta(new, time=time)] if new else []


def _after(old: str, new: str) -> str:
    """The part of ``new`` that extends ``old`` (cumulative mode).

    A cumulative server may rewrite its tail (a replacement character becoming the real one
    once the rest of a multi-byte sequence arrived). Text already shown cannot be taken back,
    so only what lies beyond the old length is new.
    """
    return new[len(old) :]


def _sniff(obj: Any, streamed: bool) -> bool:
    # Any object but an error (whose shape says nothing: the request's API decides), and, in a
    # stream, a bare JSON string ("data: \"e\"").
    if isinstance(obj, dict):
        return error_delta(obj, 0.0) is None
    return streamed and isinstance(obj, str)


def _reader(options: ReadOptions) -> JsonPathFormat:
    return JsonPathFormat(options.json_path, options.json_mode)


PROVIDER = Provider(
    name="json",
    servers="home-made servers: a field path (`chunk`, `data.text`, `response`) and `delta` /"
    " `cumulative` / `auto`",
    ends_with="—",
    reader=_reader,
    sniff=_sniff,
    catch_all=True,
)

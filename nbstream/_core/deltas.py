"""The delta model: what every wire format turns its events into.

A stream of deltas is the one seam between the wire formats below and the view, the magic and
user code above. Each delta is an immutable value with a ``kind`` tag, so code can either
``match`` on the class or compare ``delta.kind``:

================ ============================= =====================================================
kind             class                         meaning
================ ============================= =====================================================
text             :class:`TextDelta`            a piece of the answer
reasoning        :class:`ReasoningDelta`       a piece of the model's visible reasoning ("thinking")
tool_call        :class:`ToolCallDelta`        a fragment of a tool call (id and name come first,
                                               then arguments in pieces)
server_tool_call :class:`ServerToolCallDelta`  a fragment of a tool call the server ran itself (web
                                               search, code execution, MCP): shown, never the
                                               caller's to run
usage            :class:`Usage`                token counts; later usage deltas update earlier ones
                                               field by field (Anthropic sends input tokens first,
                                               output tokens last)
finish           :class:`Finish`               the server's finish reason (``stop``, ``length``,
                                               ``end_turn``…)
error            :class:`ErrorDelta`           an error the server reported inside an HTTP 200
                                               stream
notice           :class:`Notice`               a note about how the answer arrived (a repaired
                                               stream), kept on the reply
retry            :class:`Retry`                the request failed before its answer began and is
                                               sent again after a wait
metadata         :class:`Metadata`             model, response id, the wire format chosen, streamed
                                               or not
end              :class:`End`                  the stream ended; ``complete`` says whether the
                                               format's terminal marker (``[DONE]``,
                                               ``message_stop`` …) was seen
================ ============================= =====================================================

``time`` on every delta is the monotonic clock (:func:`time.monotonic`) at which the bytes that
produced it arrived. It takes no part in equality, so recorded streams compare equal whatever
their timing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, TypeVar

from .values import ValueRepr, public

__all__ = [
    "Delta",
    "DeltaKind",
    "End",
    "ErrorDelta",
    "Finish",
    "Metadata",
    "Notice",
    "ReasoningDelta",
    "Retry",
    "ServerToolCallDelta",
    "TextDelta",
    "ToolCallDelta",
    "Usage",
    "new_reasoning",
    "new_text",
    "retry_in",
]

DeltaKind: TypeAlias = Literal[
    "text",
    "reasoning",
    "tool_call",
    "server_tool_call",
    "usage",
    "finish",
    "error",
    "notice",
    "retry",
    "metadata",
    "end",
]


@public
@dataclass(frozen=True, slots=True, repr=False)
class TextDelta(ValueRepr):
    """A piece of the answer's text.

    Attributes:
        text: The new characters (never the whole text so far).
        time: Monotonic arrival time of the bytes that carried it.
    """

    text: str
    time: float = field(default=0.0, compare=False, repr=False)
    kind: Literal["text"] = field(default="text", init=False)


@public
@dataclass(frozen=True, slots=True, repr=False)
class ReasoningDelta(ValueRepr):
    """A piece of the model's reasoning ("thinking") text, shown apart from the answer.

    Attributes:
        text: The new characters.
        time: Monotonic arrival time.
    """

    text: str
    time: float = field(default=0.0, compare=False, repr=False)
    kind: Literal["reasoning"] = field(default="reasoning", init=False)


@public
@dataclass(frozen=True, slots=True, repr=False)
class ToolCallDelta(ValueRepr):
    """A fragment of a tool (function) call.

    Fragments with the same ``index`` belong to one call: the first usually carries ``id`` and
    ``name``, later ones carry pieces of ``arguments`` (a JSON text) to be concatenated.

    Attributes:
        index: Which call of the reply this fragment belongs to.
        id: The call's id, when this fragment carries it.
        name: The function's name, when this fragment carries it.
        arguments: A piece of the arguments' JSON text.
        time: Monotonic arrival time.
    """

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    time: float = field(default=0.0, compare=False, repr=False)
    kind: Literal["tool_call"] = field(default="tool_call", init=False)


@public
@dataclass(frozen=True, slots=True, repr=False)
class ServerToolCallDelta(ValueRepr):
    """A fragment of a tool call that the server ran itself, during this reply.

    Anthropic's server tools (``server_tool_use`` and ``mcp_tool_use`` blocks, answered by
    ``web_search_tool_result``, ``code_execution_tool_result``, ``mcp_tool_result`` …) and the
    Responses API's built-in tools (``web_search_call``, ``mcp_call`` …) are calls the server
    has already executed: they are shown, never handed to the caller's code to run, which is
    why they are not :class:`ToolCallDelta` s.

    Fragments with the same ``index`` belong to one call: the first usually carries ``id`` and
    ``name``, later ones pieces of ``arguments``, and one the ``result`` summary.

    Attributes:
        index: Which server tool call of the reply this fragment belongs to.
        id: The call's id, when this fragment carries it.
        name: The tool's name (``"web_search"``), when this fragment carries it.
        arguments: A piece of the call's input, as JSON text.
        result: A one-line summary of the result (``"5 results: …"``), when this fragment
            carries it.
        time: Monotonic arrival time.
    """

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    result: str = ""
    time: float = field(default=0.0, compare=False, repr=False)
    kind: Literal["server_tool_call"] = field(default="server_tool_call", init=False)


@public
@dataclass(frozen=True, slots=True, repr=False)
class Usage(ValueRepr):
    """Token counts reported by the server.

    A field left ``None`` is unknown, not zero; a later usage delta fills in or replaces the
    fields it carries (see :meth:`merged`).

    Attributes:
        input_tokens: Prompt tokens.
        output_tokens: Generated tokens (reasoning included, where the server counts it so).
        total_tokens: Both, as the server reported them.
        reasoning_tokens: Of the output, how many were reasoning.
        time: Monotonic arrival time.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    reasoning_tokens: int | None = None
    time: float = field(default=0.0, compare=False, repr=False)
    kind: Literal["usage"] = field(default="usage", init=False)

    def merged(self, newer: Usage) -> Usage:
        """Return these counts updated by the fields ``newer`` knows.

        Args:
            newer: A later usage report.

        Returns:
            A new :class:`Usage`; ``total_tokens`` is derived when the server gave none.
        """
        inp = newer.input_tokens if newer.input_tokens is not None else self.input_tokens
        out = newer.output_tokens if newer.output_tokens is not None else self.output_tokens
        total = newer.total_tokens if newer.total_tokens is not None else self.total_tokens
        if newer.total_tokens is None and inp is not None and out is not None:
            total = inp + out
        reasoning = (
            newer.reasoning_tokens if newer.reasoning_tokens is not None else self.reasoning_tokens
        )
        return Usage(inp, out, total, reasoning, time=newer.time)


@public
@dataclass(frozen=True, slots=True, repr=False)
class Finish(ValueRepr):
    """The server's reason for ending the answer, as it spelled it.

    Attributes:
        reason: ``"stop"``, ``"length"``, ``"tool_calls"``, ``"end_turn"``, ``"max_tokens"`` …
        time: Monotonic arrival time.
    """

    reason: str
    time: float = field(default=0.0, compare=False, repr=False)
    kind: Literal["finish"] = field(default="finish", init=False)


@public
@dataclass(frozen=True, slots=True, repr=False)
class ErrorDelta(ValueRepr):
    """An error the server reported inside a successful stream.

    Attributes:
        message: The server's message, one line.
        code: The server's error type or code (``"overloaded_error"``), if any.
        time: Monotonic arrival time.
    """

    message: str
    code: str | None = None
    time: float = field(default=0.0, compare=False, repr=False)
    kind: Literal["error"] = field(default="error", init=False)


@public
@dataclass(frozen=True, slots=True, repr=False)
class Notice(ValueRepr):
    """Something the user should know about how the answer arrived, which is not part of it.

    Said once per reply, never per chunk: e.g. that the server's events had no blank lines
    between them and were read anyway. The reply keeps each one in :attr:`Reply.notes`.

    Attributes:
        text: One line.
        time: Monotonic time it became known.
    """

    text: str
    time: float = field(default=0.0, compare=False, repr=False)
    kind: Literal["notice"] = field(default="notice", init=False)


@public
@dataclass(frozen=True, slots=True, repr=False)
class Retry(ValueRepr):
    """The request failed before any byte of its answer and will be sent again after a wait.

    Only failures before the answer begins are retried (nothing would be repeated): 429, 502,
    503, 504 and 529, and a connection closed before the first byte. The wait is an ordinary
    ``asyncio.sleep``, so Cancel and Interrupt end it at once.

    Attributes:
        attempt: Which retry this is (1 for the first).
        wait: Seconds until the request is sent again.
        reason: Why, one line (``"429 Too Many Requests"``).
        time: Monotonic time the wait began; it ends at ``time + wait``.
    """

    attempt: int
    wait: float
    reason: str
    time: float = field(default=0.0, compare=False, repr=False)
    kind: Literal["retry"] = field(default="retry", init=False)

    @property
    def text(self) -> str:
        """The line shown while waiting: ``"retrying in 3 s: 429 Too Many Requests"``."""
        return f"{retry_in(self.wait)}: {self.reason}"


def retry_in(seconds: float) -> str:
    """``"retrying in 3 s"`` for a wait of ``seconds`` (whole seconds, rounded up; "now" if none).

    Args:
        seconds: The time left.

    Returns:
        The phrase.
    """
    whole = math.ceil(seconds - 0.05) if seconds > 0.05 else 0
    return f"retrying in {whole} s" if whole else "retrying now"


@public
@dataclass(frozen=True, slots=True, repr=False)
class Metadata(ValueRepr):
    """Facts about the reply that are not content.

    Any field may be ``None`` (not told by this delta); later metadata fills in earlier.

    Attributes:
        model: The model that answered, as the server named it.
        response_id: The server's id for this response.
        format: The wire format chosen (``"openai-chat"``, ``"anthropic"`` …).
        streamed: ``False`` when the server answered with one JSON body instead of a stream.
        time: Monotonic arrival time.
    """

    model: str | None = None
    response_id: str | None = None
    format: str | None = None
    streamed: bool | None = None
    time: float = field(default=0.0, compare=False, repr=False)
    kind: Literal["metadata"] = field(default="metadata", init=False)


@public
@dataclass(frozen=True, slots=True, repr=False)
class End(ValueRepr):
    """The stream ended without an exception.

    Attributes:
        complete: ``True`` when the format's terminal marker was seen; ``False`` means the
            stream stopped early (the reply is then ``"truncated"``).
        time: Monotonic time the end was seen.
    """

    complete: bool
    time: float = field(default=0.0, compare=False, repr=False)
    kind: Literal["end"] = field(default="end", init=False)


Delta: TypeAlias = (
    TextDelta
    | ReasoningDelta
    | ToolCallDelta
    | ServerToolCallDelta
    | Usage
    | Finish
    | ErrorDelta
    | Notice
    | Retry
    | Metadata
    | End
)
"""Any item of a delta stream; narrow with ``isinstance`` or on ``.kind``."""


# The readers' hot path: nearly every event of a stream is one piece of text. A frozen slotted
# dataclass's generated __init__ goes through type.__call__ and object.__setattr__ per field
# (about 0.6 µs); setting the slots directly gives the same value in about half of that, which
# is a tenth of what reading a whole event costs (benchmarks/pipeline.py).
_new = object.__new__


def _setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The slot's own setter: it writes past the frozen ``__setattr__``, once, at creation."""
    setter: Callable[[Any, Any], None] = vars(cls)[name].__set__
    return setter


_D = TypeVar("_D", TextDelta, ReasoningDelta)


def _fast(cls: type[_D], kind: str, name: str) -> Callable[[str, float], _D]:
    """A constructor of ``cls(text, time=time)`` that sets the three slots directly."""
    set_text, set_time, set_kind = (_setter(cls, slot) for slot in ("text", "time", "kind"))

    def make(text: str, time: float) -> _D:
        delta: _D = _new(cls)
        set_text(delta, text)
        set_time(delta, time)
        set_kind(delta, kind)
        return delta

    make.__name__ = make.__qualname__ = name
    make.__doc__ = (
        f"``{cls.__name__}(text, time=time)``, built faster (for the wire formats' per-event "
        f"path): an equal :class:`{cls.__name__}`."
    )
    return make


new_text = _fast(TextDelta, "text", "new_text")
new_reasoning = _fast(ReasoningDelta, "reasoning", "new_reasoning")

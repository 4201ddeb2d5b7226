"""OpenAI Chat Completions streams, as OpenAI, vLLM, llama.cpp, Ollama's ``/v1`` and LiteLLM send them.

Each SSE event's data is one ``chat.completion.chunk``: text in ``choices[0].delta.content``,
reasoning in ``delta.reasoning_content`` (DeepSeek, vLLM, llama.cpp) or ``delta.reasoning``
(OpenRouter, Ollama), tool-call fragments in ``delta.tool_calls``, the finish reason in
``choices[0].finish_reason``, and, when ``stream_options.include_usage`` was sent, a last chunk
with empty ``choices`` and a ``usage`` object. The stream ends with ``data: [DONE]``.

Terminal marker: ``[DONE]`` or a ``finish_reason`` (some servers never send ``[DONE]``).
An ``{"error": …}`` chunk inside an HTTP 200 stream becomes an :class:`~nbstream.ErrorDelta`.
Legacy ``/v1/completions`` chunks (``choices[0].text``) are read as text too.
"""

from __future__ import annotations

from typing import Any

from .._core.deltas import (
    Delta,
    Finish,
    Metadata,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from ._common import DONE, EventLike, as_dict, error_delta, load_object

__all__ = ["OpenAIChatFormat", "openai_usage"]


def openai_usage(usage: Any, time: float) -> Usage | None:
    """Read an OpenAI ``usage`` object (chat completions) into a :class:`Usage` delta.

    Args:
        usage: The ``usage`` value of a chunk or body.
        time: Arrival time.

    Returns:
        The delta, or ``None`` when ``usage`` is not an object.
    """
    if not isinstance(usage, dict):
        return None
    details = usage.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    return Usage(
        _int(usage.get("prompt_tokens", usage.get("input_tokens"))),
        _int(usage.get("completion_tokens", usage.get("output_tokens"))),
        _int(usage.get("total_tokens")),
        _int(reasoning),
        time=time,
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class OpenAIChatFormat:
    """Translate Chat Completions chunks (and bodies) into deltas."""

    name = "openai-chat"

    def __init__(self) -> None:
        self.complete = False
        self._meta_sent = False

    def feed(self, item: EventLike) -> list[Delta]:
        """Translate one chunk; ``[DONE]`` marks the end."""
        if item.data.strip() == DONE:
            self.complete = True
            return []
        obj, early = load_object(item, self.name)
        if obj is None:
            return early
        return self._chunk(obj, item.time, streamed=True)

    def finish(self) -> list[Delta]:
        """Nothing to flush: every chunk is self-contained."""
        return []

    def parse_body(self, obj: Any, *, time: float = 0.0) -> list[Delta]:
        """Translate a non-streamed ``chat.completion`` body (or an error body)."""
        self.complete = True
        return self._chunk(obj, time, streamed=False)

    def _chunk(self, obj: Any, time: float, *, streamed: bool) -> list[Delta]:
        err = error_delta(obj, time)
        if err is not None:
            return [err]
        if not isinstance(obj, dict):
            return []
        out: list[Delta] = []
        if not self._meta_sent and (obj.get("model") or obj.get("id")):
            self._meta_sent = True
            out.append(Metadata(model=obj.get("model"), response_id=obj.get("id"), time=time))
        choices = obj.get("choices")
        if isinstance(choices, list) and choices:
            # n > 1 is not supported: the first choice is the answer.
            choice = next(
                (c for c in choices if isinstance(c, dict) and c.get("index", 0) == 0), None
            )
            if choice is not None:
                part = choice.get("delta") if streamed else choice.get("message")
                if isinstance(part, dict):
                    out.extend(_message_part(part, time))
                text = choice.get("text")
                if isinstance(text, str) and text:
                    out.append(TextDelta(text, time=time))
                reason = choice.get("finish_reason")
                if isinstance(reason, str) and reason:
                    self.complete = True
                    out.append(Finish(reason, time=time))
        usage = openai_usage(obj.get("usage"), time)
        if usage is not None:
            out.append(usage)
        return out


def _message_part(part: dict[str, Any], time: float) -> list[Delta]:
    """Deltas from a chunk's ``delta`` or a body's ``message``."""
    out: list[Delta] = []
    # Servers differ in the reasoning field's name; none sends both with content.
    for key in ("reasoning_content", "reasoning"):
        value = part.get(key)
        if isinstance(value, str) and value:
            out.append(ReasoningDelta(value, time=time))
            break
    content = part.get("content")
    if isinstance(content, str) and content:
        out.append(TextDelta(content, time=time))
    refusal = part.get("refusal")
    if isinstance(refusal, str) and refusal:
        out.append(TextDelta(refusal, time=time))
    calls = part.get("tool_calls")
    if isinstance(calls, list):
        for pos, call in enumerate(calls):
            if not isinstance(call, dict):
                continue
            fn = as_dict(call.get("function"))
            index = call.get("index", pos)
            out.append(
                ToolCallDelta(
                    index if isinstance(index, int) else pos,
                    id=call.get("id") or None,
                    name=fn.get("name") or None,
                    arguments=fn.get("arguments") or "",
                    time=time,
                )
            )
    legacy = part.get("function_call")  # pre-2023 "functions" API, still sent by some servers
    if isinstance(legacy, dict):
        out.append(
            ToolCallDelta(
                0,
                name=legacy.get("name") or None,
                arguments=legacy.get("arguments") or "",
                time=time,
            )
        )
    return out

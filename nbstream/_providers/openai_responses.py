"""OpenAI Responses API streams (``/v1/responses``), as OpenAI and llama.cpp send them.

Every event's data carries a ``type`` (the SSE event name repeats it):
``response.created`` (id, model), ``response.output_text.delta`` (text),
``response.reasoning_text.delta`` / ``response.reasoning_summary_text.delta`` (reasoning),
``response.output_item.added`` with a ``function_call`` item and
``response.function_call_arguments.delta`` (tool calls), and one terminal event:
``response.completed`` (usage), ``response.incomplete`` (``incomplete_details.reason``, e.g.
``max_output_tokens``) or ``response.failed`` (``response.error``). A bare ``error`` event
reports a failure mid-stream. Terminal marker: any of the three ``response.*`` terminal events.
"""

from __future__ import annotations

from typing import Any

from .._core.deltas import (
    Delta,
    ErrorDelta,
    Finish,
    Metadata,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from ._common import EventLike, error_delta, excerpt, load_object

__all__ = ["OpenAIResponsesFormat"]

_REASONING_DELTAS = frozenset(
    {
        "response.reasoning_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning.delta",  # early name, still sent by some servers
    }
)
_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


class OpenAIResponsesFormat:
    """Translate Responses API events (and bodies) into deltas."""

    name = "openai-responses"

    def __init__(self) -> None:
        self.complete = False
        # output_index -> tool-call index: a reply's calls are numbered 0, 1, … in order.
        self._tools: dict[int, int] = {}
        self._meta_sent = False

    def feed(self, item: EventLike) -> list[Delta]:
        """Translate one event."""
        obj, early = load_object(item, self.name)
        if obj is None:
            return early
        kind = obj.get("type") or item.event
        t = item.time
        if kind == "response.output_text.delta" or kind == "response.refusal.delta":
            return _text(TextDelta, obj.get("delta"), t)
        if kind in _REASONING_DELTAS:
            return _text(ReasoningDelta, obj.get("delta"), t)
        if kind == "response.output_item.added":
            added = obj.get("item")
            if isinstance(added, dict) and added.get("type") == "function_call":
                index = self._tool_index(obj.get("output_index"))
                return [ToolCallDelta(index, added.get("call_id"), added.get("name"), time=t)]
            return []
        if kind == "response.function_call_arguments.delta":
            index = self._tool_index(obj.get("output_index"))
            return [ToolCallDelta(index, arguments=str(obj.get("delta") or ""), time=t)]
        if kind in ("response.created", "response.in_progress"):
            return self._metadata(obj.get("response"), t)
        if kind in _TERMINAL:
            self.complete = True
            return [*self._metadata(obj.get("response"), t), *_ending(obj.get("response"), t)]
        if kind == "error":
            if isinstance(obj.get("message"), str):  # the documented shape: code and message
                code = obj.get("code")
                return [ErrorDelta(excerpt(obj["message"], 500), code and str(code), time=t)]
            err = error_delta(obj, t)
            return [
                err or ErrorDelta(f"the server reported an error: {excerpt(item.data)}", time=t)
            ]
        return []

    def finish(self) -> list[Delta]:
        """Nothing to flush."""
        return []

    def parse_body(self, obj: Any, *, time: float = 0.0) -> list[Delta]:
        """Translate a non-streamed ``response`` object (or an error body)."""
        self.complete = True
        err = error_delta(obj, time) if not _is_response(obj) else None
        if err is not None:
            return [err]
        if not isinstance(obj, dict):
            return []
        out: list[Delta] = [*self._metadata(obj, time)]
        for item in obj.get("output") or []:
            if not isinstance(item, dict):
                continue
            kind = item.get("type")
            if kind == "message":
                for part in item.get("content") or []:
                    if isinstance(part, dict) and part.get("type") in ("output_text", "refusal"):
                        out.extend(_text(TextDelta, part.get("text") or part.get("refusal"), time))
            elif kind == "reasoning":
                for key in ("content", "summary"):
                    for part in item.get(key) or []:
                        if isinstance(part, dict):
                            out.extend(_text(ReasoningDelta, part.get("text"), time))
            elif kind == "function_call":
                out.append(
                    ToolCallDelta(
                        len(self._tools),
                        item.get("call_id"),
                        item.get("name"),
                        str(item.get("arguments") or ""),
                        time=time,
                    )
                )
                self._tools[len(self._tools)] = len(self._tools)
        out.extend(_ending(obj, time))
        return out

    def _tool_index(self, output_index: Any) -> int:
        key = output_index if isinstance(output_index, int) else -1
        if key not in self._tools:
            self._tools[key] = len(self._tools)
        return self._tools[key]

    def _metadata(self, response: Any, time: float) -> list[Delta]:
        if self._meta_sent or not isinstance(response, dict):
            return []
        if not (response.get("model") or response.get("id")):
            return []
        self._meta_sent = True
        return [Metadata(model=response.get("model"), response_id=response.get("id"), time=time)]


def _is_response(obj: Any) -> bool:
    return isinstance(obj, dict) and (obj.get("object") == "response" or "output" in obj)


def _text(cls: type[TextDelta] | type[ReasoningDelta], value: Any, time: float) -> list[Delta]:
    return [cls(value, time=time)] if isinstance(value, str) and value else []


def _ending(response: Any, time: float) -> list[Delta]:
    """Usage, finish reason and error of a final ``response`` object."""
    if not isinstance(response, dict):
        return []
    out: list[Delta] = []
    usage = response.get("usage")
    if isinstance(usage, dict):
        details = usage.get("output_tokens_details")
        out.append(
            Usage(
                usage.get("input_tokens"),
                usage.get("output_tokens"),
                usage.get("total_tokens"),
                details.get("reasoning_tokens") if isinstance(details, dict) else None,
                time=time,
            )
        )
    status = response.get("status")
    if status == "failed":
        error = response.get("error")
        err = error_delta({"error": error}, time) if error else None
        out.append(err or ErrorDelta("the response failed without a message", time=time))
    elif status == "incomplete":
        details = response.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        out.append(Finish(str(reason or "incomplete"), time=time))
    elif isinstance(status, str) and status:
        out.append(Finish(status, time=time))
    return out

"""Anthropic Messages API streams (``/v1/messages``), as Anthropic and llama.cpp send them.

The event flow (named SSE events; each data object repeats the name in ``type``):
``message_start`` (id, model, input tokens) → per content block ``content_block_start`` /
``content_block_delta`` (``text_delta``, ``thinking_delta``, ``input_json_delta`` for tool
arguments, ``signature_delta``) / ``content_block_stop`` → ``message_delta`` (``stop_reason``,
output tokens) → ``message_stop``. ``ping`` events may appear anywhere.

Terminal marker: ``message_stop`` only. An ``event: error`` (``overloaded_error`` …) can arrive
after a partial answer; it becomes an :class:`~nbstream.ErrorDelta`, so the partial answer
ends ``"failed"`` and never passes as complete.
"""

from __future__ import annotations

import json
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
from ._common import EventLike, as_dict, error_delta, excerpt, load_object

__all__ = ["AnthropicFormat"]


def _usage(usage: Any, time: float) -> list[Delta]:
    if not isinstance(usage, dict):
        return []
    inp = usage.get("input_tokens")
    out = usage.get("output_tokens")
    # message_start reports output_tokens as 0 or 1 before any output, a placeholder: the
    # real count arrives with message_delta and replaces it (Usage.merged, field by field).
    return [Usage(inp, out, time=time)]


class AnthropicFormat:
    """Translate Messages API events (and bodies) into deltas."""

    name = "anthropic"

    def __init__(self) -> None:
        self.complete = False
        # content block index -> tool-call index (tool_use blocks are numbered 0, 1, …).
        self._tools: dict[int, int] = {}

    def feed(self, item: EventLike) -> list[Delta]:
        """Translate one event."""
        obj, early = load_object(item, self.name)
        if obj is None:
            return early
        kind = obj.get("type") or item.event
        t = item.time
        if kind == "content_block_delta":
            return self._block_delta(obj.get("index"), obj.get("delta"), t)
        if kind == "content_block_start":
            return self._block_start(obj.get("index"), obj.get("content_block"), t)
        if kind == "message_start":
            msg = as_dict(obj.get("message"))
            meta = Metadata(model=msg.get("model"), response_id=msg.get("id"), time=t)
            return [meta, *_usage(msg.get("usage"), t)]
        if kind == "message_delta":
            out: list[Delta] = []
            delta = as_dict(obj.get("delta"))
            if delta.get("stop_reason"):
                out.append(Finish(str(delta["stop_reason"]), time=t))
            out.extend(_usage(obj.get("usage"), t))
            return out
        if kind == "message_stop":
            self.complete = True
            return []
        if kind == "error":
            err = error_delta(obj, t)
            return [
                err or ErrorDelta(f"the server reported an error: {excerpt(item.data)}", time=t)
            ]
        return []  # ping, content_block_stop, and event types added later

    def finish(self) -> list[Delta]:
        """Nothing to flush."""
        return []

    def parse_body(self, obj: Any, *, time: float = 0.0) -> list[Delta]:
        """Translate a non-streamed ``message`` object (or an error body)."""
        self.complete = True
        err = error_delta(obj, time)
        if err is not None:
            return [err]
        if not isinstance(obj, dict):
            return []
        out: list[Delta] = [Metadata(model=obj.get("model"), response_id=obj.get("id"), time=time)]
        for index, block in enumerate(obj.get("content") or []):
            if not isinstance(block, dict):
                continue
            out.extend(self._block_start(index, block, time))
            if block.get("type") == "tool_use" and "input" in block:
                args = json.dumps(block["input"], ensure_ascii=False)
                out.append(ToolCallDelta(self._tools[index], arguments=args, time=time))
        if obj.get("stop_reason"):
            out.append(Finish(str(obj["stop_reason"]), time=time))
        out.extend(_usage(obj.get("usage"), time))
        return out

    def _block_start(self, index: Any, block: Any, t: float) -> list[Delta]:
        if not isinstance(block, dict):
            return []
        kind = block.get("type")
        if kind == "text":
            return [TextDelta(block["text"], time=t)] if block.get("text") else []
        if kind == "thinking":
            return [ReasoningDelta(block["thinking"], time=t)] if block.get("thinking") else []
        if kind in ("tool_use", "server_tool_use"):
            key = index if isinstance(index, int) else -1
            self._tools.setdefault(key, len(self._tools))
            return [ToolCallDelta(self._tools[key], block.get("id"), block.get("name"), time=t)]
        return []

    def _block_delta(self, index: Any, delta: Any, t: float) -> list[Delta]:
        if not isinstance(delta, dict):
            return []
        kind = delta.get("type")
        if kind == "text_delta":
            return [TextDelta(delta["text"], time=t)] if delta.get("text") else []
        if kind == "thinking_delta":
            return [ReasoningDelta(delta["thinking"], time=t)] if delta.get("thinking") else []
        if kind == "input_json_delta":
            key = index if isinstance(index, int) else -1
            tool = self._tools.setdefault(key, len(self._tools))
            return [ToolCallDelta(tool, arguments=str(delta.get("partial_json") or ""), time=t)]
        return []  # signature_delta, citations_delta: nothing to show

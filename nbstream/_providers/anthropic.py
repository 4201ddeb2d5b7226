"""Anthropic Messages API (``/v1/messages``), as Anthropic and llama.cpp speak it.

Request: ``POST {base_url}/v1/messages`` (``/v1`` added unless ``base_url`` ends with it; a
``base_url`` ending in ``/messages`` is used as is) with ``x-api-key: <key>`` and the
``anthropic-version`` header the API requires; the body has ``model``, ``messages``, a top-level
``system`` (the API rejects a system role in the list), ``max_tokens`` (required by the API),
``temperature`` and ``stream``.

The event flow (named SSE events; each data object repeats the name in ``type``):
``message_start`` (id, model, input tokens) → per content block ``content_block_start`` /
``content_block_delta`` (``text_delta``, ``thinking_delta``, ``input_json_delta`` for tool
arguments, ``signature_delta``) / ``content_block_stop`` → ``message_delta`` (``stop_reason``,
output tokens) → ``message_stop``. ``ping`` events may appear anywhere.

Server tools: ``server_tool_use`` and ``mcp_tool_use`` blocks (web search, web fetch, code
execution, the MCP connector) are calls the server runs itself, answered within the same reply
by a ``*_tool_result`` block (``web_search_tool_result``, ``code_execution_tool_result``,
``mcp_tool_result`` …) that names the call in ``tool_use_id``. They become
:class:`~nbstream.ServerToolCallDelta` s with a one-line result summary, never client tool
calls: only ``tool_use`` blocks are calls for the caller's code to run.

Terminal marker: ``message_stop`` only. An ``event: error`` (``overloaded_error`` …) can arrive
after a partial answer; it becomes an :class:`~nbstream.ErrorDelta`, so the partial answer
ends ``"failed"`` and never passes as complete.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import SplitResult

from .._core.deltas import (
    Delta,
    ErrorDelta,
    Finish,
    Metadata,
    ReasoningDelta,
    ServerToolCallDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    new_reasoning,
    new_text,
)
from .._core.text import excerpt
from ._common import EventLike, as_dict, error_delta, load_object
from .provider import Ask, Provider, RequestRule, compact, image_of, split_system, with_path

__all__ = [
    "ANTHROPIC_VERSION",
    "DEFAULT_ANTHROPIC_MAX_TOKENS",
    "PROVIDER",
    "AnthropicFormat",
    "result_summary",
]

# The Messages API rejects requests without this header; 2023-06-01 is the current version.
ANTHROPIC_VERSION = "2023-06-01"
# The Messages API requires max_tokens; the Anthropic SDK makes callers choose, we pick a
# value that lets ordinary answers finish.
DEFAULT_ANTHROPIC_MAX_TOKENS = 4096

# Every event of a Messages stream, named in the SSE event and repeated in the data's "type".
_EVENTS = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
    }
)


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
        # content block index -> (is a server tool, call number); calls of each kind are
        # numbered 0, 1, … in order.
        self._blocks: dict[int, tuple[bool, int]] = {}
        self._tools = 0
        self._server_ids: dict[str, int] = {}  # server tool_use id -> call number
        self._given_input: set[int] = set()  # blocks whose input came whole in their start

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
            out.extend(self._block_start(index, block, time))
        if obj.get("stop_reason"):
            out.append(Finish(str(obj["stop_reason"]), time=time))
        out.extend(_usage(obj.get("usage"), time))
        return out

    def _block_start(self, index: Any, block: Any, t: float) -> list[Delta]:
        if not isinstance(block, dict):
            return []
        kind = block.get("type")
        key = index if isinstance(index, int) else -1
        if kind == "text":
            return [TextDelta(block["text"], time=t)] if block.get("text") else []
        if kind == "thinking":
            return [ReasoningDelta(block["thinking"], time=t)] if block.get("thinking") else []
        if kind == "tool_use":
            call = self._tools
            self._tools += 1
            self._blocks[key] = (False, call)
            head: Delta = ToolCallDelta(call, block.get("id"), block.get("name"), time=t)
            return [head, *self._whole_input(key, block, t)]
        if isinstance(kind, str) and _is_server_tool_use(kind):
            call_id = block.get("id") if isinstance(block.get("id"), str) else None
            call = self._server_call(call_id)
            self._blocks[key] = (True, call)
            head = ServerToolCallDelta(call, call_id, block.get("name"), time=t)
            return [head, *self._whole_input(key, block, t)]
        if isinstance(kind, str) and kind.endswith("_tool_result"):
            use_id = block.get("tool_use_id") if isinstance(block.get("tool_use_id"), str) else None
            # A result whose call was never seen still shows, named after its block type.
            name = None if use_id in self._server_ids else kind.removesuffix("_tool_result")
            call = self._server_call(use_id)
            result = result_summary(block) or "done"
            return [ServerToolCallDelta(call, use_id, name, result=result, time=t)]
        return []  # redacted_thinking, and block types added later

    def _block_delta(self, index: Any, delta: Any, t: float) -> list[Delta]:
        if not isinstance(delta, dict):
            return []
        kind = delta.get("type")
        if kind == "text_delta":
            return [new_text(delta["text"], t)] if delta.get("text") else []
        if kind == "thinking_delta":
            return [new_reasoning(delta["thinking"], t)] if delta.get("thinking") else []
        if kind == "input_json_delta":
            key = index if isinstance(index, int) else -1
            piece = str(delta.get("partial_json") or "")
            if key in self._given_input or not piece:
                return []
            if key not in self._blocks:  # a delta without its block start: a client call
                self._blocks[key] = (False, self._tools)
                self._tools += 1
            server, call = self._blocks[key]
            if server:
                return [ServerToolCallDelta(call, arguments=piece, time=t)]
            return [ToolCallDelta(call, arguments=piece, time=t)]
        return []  # signature_delta, citations_delta: nothing to show

    def _server_call(self, call_id: str | None) -> int:
        """The number of the server tool call with this id (a new one for a new id)."""
        if call_id is not None and call_id in self._server_ids:
            return self._server_ids[call_id]
        number = len(self._server_ids)
        self._server_ids[call_id if call_id is not None else f"#{number}"] = number
        return number

    def _whole_input(self, key: int, block: dict[str, Any], t: float) -> list[Delta]:
        """A block start's ``input`` when it is already complete (a non-streamed body's blocks).

        A streamed block starts with ``"input": {}`` and sends the input in
        ``input_json_delta`` pieces; a start that carries a non-empty input has it whole, and
        any pieces that followed would repeat it.
        """
        value = block.get("input")
        if not isinstance(value, dict) or not value:
            return []
        self._given_input.add(key)
        server, call = self._blocks[key]
        args = json.dumps(value, ensure_ascii=False)
        if server:
            return [ServerToolCallDelta(call, arguments=args, time=t)]
        return [ToolCallDelta(call, arguments=args, time=t)]


def _is_server_tool_use(kind: str) -> bool:
    # server_tool_use (web search, web fetch, code execution), mcp_tool_use (MCP connector),
    # and the *_tool_use blocks added since; "tool_use" alone is the client's.
    return kind != "tool_use" and kind.endswith("_tool_use")


def result_summary(block: dict[str, Any]) -> str:
    """Summarize a server tool's result block in one line.

    Args:
        block: A ``*_tool_result`` content block.

    Returns:
        ``"3 results: title; title; …"`` for search results, ``"exit 0: <stdout>"`` for code
        execution, ``"error: <code>"`` for an error result, the text of a text result, else a
        short excerpt of the content's JSON; ``""`` when there is no content.
    """
    content = block.get("content")
    prefix = "error: " if block.get("is_error") is True else ""
    if isinstance(content, str):
        return prefix + excerpt(content, _SUMMARY)
    if isinstance(content, dict):
        return prefix + _summarize_object(content)
    if isinstance(content, list):
        items = [as_dict(item) for item in content]
        titles = [str(i["title"]) for i in items if i.get("title")]
        if titles and len(titles) == len(items):
            noun = "result" if len(items) == 1 else "results"
            return excerpt(f"{prefix}{len(items)} {noun}: {'; '.join(titles)}", _SUMMARY)
        texts = [str(i["text"]) for i in items if isinstance(i.get("text"), str)]
        if texts:
            return prefix + excerpt(" ".join(texts), _SUMMARY)
        return prefix + (
            excerpt(json.dumps(content, ensure_ascii=False), _SUMMARY) if items else ""
        )
    return "error" if prefix else ""


_SUMMARY = 200


def _summarize_object(content: dict[str, Any]) -> str:
    if content.get("error_code"):  # web_search_tool_result_error, code_execution_…_error …
        return f"error: {content['error_code']}"
    if "return_code" in content:  # code_execution_result, bash_code_execution_result
        output = content.get("stdout") or content.get("stderr") or ""
        return excerpt(f"exit {content['return_code']}: {output}".strip(), _SUMMARY)
    if content.get("url"):  # web_fetch_result
        title = as_dict(content.get("content")).get("title")
        return excerpt(f"{content['url']}" + (f" ({title})" if title else ""), _SUMMARY)
    if isinstance(content.get("content"), str):  # text_editor_code_execution_view_result
        return excerpt(content["content"], _SUMMARY)
    return excerpt(json.dumps(content, ensure_ascii=False), _SUMMARY)


def _url(parts: SplitResult, model: str | None, stream: bool) -> str:
    path = parts.path
    if not path.endswith("/messages"):
        path = (path if path.endswith("/v1") else path + "/v1") + "/messages"
    return with_path(parts, path)


def _headers(api_key: str | None) -> dict[str, str]:
    headers = {"anthropic-version": ANTHROPIC_VERSION}
    if api_key:
        headers["x-api-key"] = api_key
    return headers


def _message(message: dict[str, Any]) -> dict[str, Any]:
    """A chat message as a Messages API message: an image part becomes an ``image`` block
    (base64 ``source`` for a data URL, ``url`` otherwise; docs.anthropic.com, "Vision")."""
    content = message.get("content")
    if not isinstance(content, list):
        return message
    blocks: list[Any] = []
    for part in content:
        image = image_of(part)
        if image is None:
            blocks.append(part)  # text parts have the same shape in both APIs
        elif image[1]:
            source = {"type": "base64", "media_type": image[1], "data": image[2]}
            blocks.append({"type": "image", "source": source})
        else:
            blocks.append({"type": "image", "source": {"type": "url", "url": image[0]}})
    return {**message, "content": blocks}


def _body(ask: Ask) -> dict[str, Any]:
    system, rest = split_system(ask.messages)
    return compact(
        {
            "model": ask.model,
            "messages": [_message(m) for m in rest],
            "system": system or None,
            "max_tokens": DEFAULT_ANTHROPIC_MAX_TOKENS
            if ask.max_tokens is None
            else ask.max_tokens,
            "temperature": ask.temperature,
            "stream": ask.stream,
        }
    )


def _sniff(obj: Any, streamed: bool) -> bool:
    if not isinstance(obj, dict):
        return False
    kind = obj.get("type")
    return kind in _EVENTS or (kind == "message" and isinstance(obj.get("content"), list))


PROVIDER = Provider(
    name="anthropic",
    servers="Anthropic Messages, llama.cpp",
    ends_with="`message_stop`",
    capabilities=frozenset({"tools", "reasoning", "images", "usage"}),
    request=RequestRule(url=_url, body=_body, headers=_headers, key_header="x-api-key"),
    reader=lambda options: AnthropicFormat(),
    sniff=_sniff,
    event_names=_EVENTS,
)

"""OpenAI Responses API (``/v1/responses``), as OpenAI and the servers copying it speak it.

Request: ``POST {base_url}/responses`` (the OpenAI path convention of :mod:`.openai_chat`) with
``Authorization: Bearer <key>``; the body has ``model``, ``input`` (the messages),
``instructions`` (the system prompt), ``stream``, ``temperature`` and ``max_output_tokens``.

Every event's data carries a ``type`` (the SSE event name repeats it):
``response.created`` (id, model), ``response.output_text.delta`` (text),
``response.reasoning_text.delta`` / ``response.reasoning_summary_text.delta`` (reasoning),
``response.output_item.added`` with a ``function_call`` item and
``response.function_call_arguments.delta`` (tool calls), and one terminal event:
``response.completed`` (usage), ``response.incomplete`` (``incomplete_details.reason``, e.g.
``max_output_tokens``) or ``response.failed`` (``response.error``). A bare ``error`` event
reports a failure mid-stream. Terminal marker: any of the three ``response.*`` terminal events.

Each ``….delta`` has its ``….done`` event with the whole value (``output_text.done``,
``function_call_arguments.done``, ``output_item.done`` …). Most servers stream the deltas and
repeat the value there; some send only the ``done`` event (LM Studio's tool arguments, some
models behind ChatGPT's Codex endpoint), so a ``done`` value is read for an item that had no
deltas, and only once. A server that streamed nothing at all has its answer read from the
terminal event's ``response.output``. Events that name no item (no ``item_id``, no known
``output_index``) belong to the item before them.

Built-in tools the server runs itself (``web_search_call``, ``file_search_call``,
``code_interpreter_call``, ``image_generation_call``, ``mcp_call`` items) become
:class:`~nbstream.ServerToolCallDelta` s: they are not calls for the caller's code to run.
Gateways that speak OpenAI's chat streams first (OpenRouter, LiteLLM) send ``data: [DONE]``
after the terminal event: it is ignored.
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
    ServerToolCallDelta,
    ToolCallDelta,
    Usage,
    new_reasoning,
    new_text,
)
from .._core.text import excerpt
from ._common import EventLike, as_dict, error_delta, load_object
from .openai_chat import openai_url
from .provider import Ask, Provider, RequestRule, compact, image_of, split_system

__all__ = ["PROVIDER", "OpenAIResponsesFormat"]

# Reasoning deltas, and the key their text is kept under (a reasoning item's "content" parts
# and its "summary" parts are numbered apart).
_REASONING_DELTAS = {
    "response.reasoning_text.delta": "content_index",
    "response.reasoning_summary_text.delta": "summary_index",
    "response.reasoning.delta": "content_index",  # early name, still sent by some servers
}
_REASONING_DONE = {
    "response.reasoning_text.done": "content_index",
    "response.reasoning_summary_text.done": "summary_index",
}
_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})
# Client tool calls: function_call items (arguments: JSON text) and custom_tool_call items
# (input: free text), each with its own argument events.
_CALL_ITEMS = {"function_call": "arguments", "custom_tool_call": "input"}
_ARGUMENT_DELTAS = frozenset(
    {"response.function_call_arguments.delta", "response.custom_tool_call_input.delta"}
)
_ARGUMENT_DONE = {
    "response.function_call_arguments.done": "arguments",
    "response.custom_tool_call_input.done": "input",
}
# Built-in tools the server runs itself: item type -> the tool's name.
_SERVER_ITEMS = {
    "web_search_call": "web_search",
    "file_search_call": "file_search",
    "code_interpreter_call": "code_interpreter",
    "image_generation_call": "image_generation",
    "mcp_call": "mcp",
}


class OpenAIResponsesFormat:
    """Translate Responses API events (and bodies) into deltas."""

    name = "openai-responses"

    def __init__(self) -> None:
        self.complete = False
        self._meta_sent = False
        self._streamed = False  # some text, reasoning or call came before the terminal event
        self._aliases: dict[int, str] = {}  # output_index -> item id, once an event told both
        # Text and reasoning: the (family, item) pairs seen, those that had deltas (their done
        # events repeat them), the (kind, item, part) values filled in from done events, and
        # the item of each family seen last (see _family).
        self._items: set[tuple[str, str]] = set()
        self._delta_items: set[tuple[str, str]] = set()
        self._filled: set[tuple[str, str, int]] = set()
        self._last_item: dict[str, str] = {}
        self._shown: dict[str, list[str]] = {"text": [], "reasoning": []}
        # Client tool calls: item -> call number, each call's id, and what was passed on.
        self._calls: dict[str, int] = {}
        self._call_ids: dict[int, str | None] = {}
        self._heads: set[int] = set()  # calls whose id and name were passed on
        self._arguments: dict[int, str] = {}
        self._argument_deltas: set[int] = set()  # calls whose arguments came in deltas
        self._last_call: int | None = None
        self._server: dict[str, int] = {}  # item -> server tool-call number
        # (item_id, output_index) of the text delta just read, while no other event came since.
        self._text_run: tuple[str, int | None] | None = None

    def feed(self, item: EventLike) -> list[Delta]:
        """Translate one event."""
        obj, early = load_object(item, self.name)
        if obj is None:
            return early
        if (
            self._text_run is not None
            and obj.get("type") == "response.output_text.delta"
            and (obj.get("item_id"), obj.get("output_index")) == self._text_run
        ):
            # The next text delta of the same item, nothing in between: reading it in full
            # would find every key, alias and item already recorded, and only add the text.
            piece = obj.get("delta")
            if type(piece) is str:
                return self._text("text", piece, item.time)
        self._text_run = None
        kind = obj.get("type") or item.event
        t = item.time
        item_id, position = obj.get("item_id"), obj.get("output_index")
        key = self._key(item_id, position)
        if kind in ("response.output_text.delta", "response.refusal.delta"):
            if (
                kind == "response.output_text.delta"
                and type(item_id) is str
                and item_id
                and (position is None or type(position) is int)
            ):
                self._text_run = (item_id, position)
            return self._add("text", key, obj.get("delta"), t)
        if kind in _REASONING_DELTAS:
            return self._add(_part_kind(_REASONING_DELTAS[kind]), key, obj.get("delta"), t)
        if kind in ("response.output_text.done", "response.refusal.done"):
            whole = obj.get("text") if kind.endswith("text.done") else obj.get("refusal")
            return self._fill("text", key, obj.get("content_index"), whole, t)
        if kind in _REASONING_DONE:
            part = obj.get(_REASONING_DONE[kind])
            return self._fill(_part_kind(_REASONING_DONE[kind]), key, part, obj.get("text"), t)
        if kind in _ARGUMENT_DELTAS:
            return self._call_update(key, t, piece=str(obj.get("delta") or ""))
        if kind in _ARGUMENT_DONE:
            whole = obj.get(_ARGUMENT_DONE[kind])
            return self._call_update(key, t, name=obj.get("name"), arguments=whole)
        if kind in ("response.output_item.added", "response.output_item.done"):
            added = as_dict(obj.get("item"))
            key = self._key(added.get("id"), obj.get("output_index"))
            return self._item(key, added, t, done=kind.endswith("done"))
        if kind in ("response.created", "response.in_progress"):
            return self._metadata(obj.get("response"), t)
        if kind in _TERMINAL:
            self.complete = True
            response = as_dict(obj.get("response"))
            out = self._metadata(response, t)
            if not self._streamed:  # nothing streamed: the final object holds the answer
                out.extend(self._output(response.get("output"), t))
            return [*out, *_ending(response, t)]
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
        return [
            *self._metadata(obj, time),
            *self._output(obj.get("output"), time),
            *_ending(obj, time),
        ]

    def _key(self, item_id: Any, output_index: Any) -> str:
        """Name an output item by its id, or by its position when the event gives no id.

        OpenAI's events carry both; llama.cpp's carry only the item id; an event with both
        teaches which position the id stands for.
        """
        position = output_index if isinstance(output_index, int) else None
        if isinstance(item_id, str) and item_id:
            if position is not None:
                self._aliases[position] = item_id
            return item_id
        if position is None:
            return ""
        return self._aliases.get(position, f"#{position}")

    def _add(self, kind: str, key: str, piece: Any, t: float) -> list[Delta]:
        """Pass on a text or reasoning delta."""
        key = self._resolve(kind, key)
        self._delta_items.add((_family(kind), key))
        return self._text(kind, piece, t)

    def _fill(self, kind: str, key: str, part: Any, whole: Any, t: float) -> list[Delta]:
        """Pass on a done event's whole value, unless deltas (or another done event) showed it.

        The whole value is used only for an item that had no deltas: a server that streams
        deltas repeats them in its done events (``output_text.done``, ``output_item.done`` and
        the terminal event, each once more), while one that sends only done events (a done-only
        server) would otherwise show nothing.
        """
        key = self._resolve(kind, key)
        part_key = (kind, key, part if isinstance(part, int) else 0)
        # A reasoning item that streamed its text (or its summary) has its summary (or its
        # text) in the done item too: that is the same reasoning, told again.
        if (_family(kind), key) in self._delta_items or part_key in self._filled:
            return []
        self._filled.add(part_key)
        # And whatever the keys say, text already shown is not shown again: a server whose
        # deltas name no item and whose done item has an id would otherwise repeat it all.
        if isinstance(whole, str) and whole in "".join(self._shown[_family(kind)]):
            return []
        return self._text(kind, whole, t)

    def _text(self, kind: str, value: Any, t: float) -> list[Delta]:
        if not isinstance(value, str) or not value:
            return []
        self._streamed = True
        if kind == "text":
            self._shown["text"].append(value)
            return [new_text(value, t)]
        self._shown["reasoning"].append(value)
        return [new_reasoning(value, t)]

    def _resolve(self, kind: str, key: str) -> str:
        """The item an event belongs to; an event that names none belongs to the last one."""
        family = _family(kind)
        if (family, key) not in self._items and (not key or key.startswith("#")):
            key = self._last_item.get(family, key)
        self._items.add((family, key))
        self._last_item[family] = key
        return key

    def _call_number(self, key: str, call_id: str | None) -> int:
        """The number of the client tool call an event is about (a new one for a new call).

        An event is matched by its item, then by the call's ``call_id``, then to the call before
        if that one has no ``call_id`` yet; an event that names neither item nor call (a done
        event from a server that sends no ids nor positions) continues the last call.
        """
        number = self._calls.get(key)
        if call_id is not None:
            if number is not None and self._call_ids[number] not in (None, call_id):
                number = None  # the same position, another call
            if number is None:
                number = next((n for n, c in self._call_ids.items() if c == call_id), None)
            if number is None and self._last_call is not None:
                # The call before, still without an id, is the one this event names.
                number = self._last_call if self._call_ids[self._last_call] is None else None
        elif number is None and (not key or key.startswith("#")):
            number = self._last_call
        if number is None:
            number = len(self._call_ids)
            self._call_ids[number] = None
        if call_id is not None:
            self._call_ids[number] = call_id
        self._calls[key] = self._last_call = number
        return number

    def _call_update(
        self,
        key: str,
        t: float,
        *,
        call_id: Any = None,
        name: Any = None,
        arguments: Any = None,
        piece: str = "",
    ) -> list[Delta]:
        """One fragment of a client tool call: its id and name when first known, and either a
        ``piece`` of its arguments (a delta event) or its whole ``arguments`` (used only when no
        delta and no earlier event gave them)."""
        number = self._call_number(key, call_id if isinstance(call_id, str) and call_id else None)
        head = number not in self._heads and bool(call_id or name)
        if isinstance(arguments, dict):  # a few servers send the arguments as an object
            arguments = json.dumps(arguments, ensure_ascii=False)
        if piece:
            self._argument_deltas.add(number)
        elif (
            isinstance(arguments, str)
            and number not in self._argument_deltas
            and not self._arguments.get(number)
        ):
            piece = arguments
        if not head and not piece:
            return []
        if head:
            self._heads.add(number)
        self._arguments[number] = self._arguments.get(number, "") + piece
        self._streamed = True
        ids = (call_id or None, name or None) if head else (None, None)
        return [ToolCallDelta(number, *ids, arguments=piece, time=t)]

    def _item(self, key: str, item: dict[str, Any], t: float, *, done: bool) -> list[Delta]:
        """An output item as ``output_item.added`` / ``.done`` (or a final output) gives it."""
        kind = item.get("type")
        if kind in _CALL_ITEMS:
            # An added item's arguments are those so far (usually ""); a done item's are all.
            return self._call_update(
                key,
                t,
                call_id=item.get("call_id"),
                name=item.get("name"),
                arguments=item.get(_CALL_ITEMS[str(kind)]),
            )
        if kind in _SERVER_ITEMS:
            return self._server_item(key, item, t, done=done)
        if not done:
            return []
        out: list[Delta] = []
        if kind == "message":
            for index, part in enumerate(item.get("content") or []):
                part = as_dict(part)
                whole = (
                    part.get("text") if part.get("type") == "output_text" else part.get("refusal")
                )
                out.extend(self._fill("text", key, index, whole, t))
        elif kind == "reasoning":
            for field, part_kind in (("content", "reasoning"), ("summary", "summary")):
                for index, part in enumerate(item.get(field) or []):
                    out.extend(self._fill(part_kind, key, index, as_dict(part).get("text"), t))
        return out

    def _server_item(self, key: str, item: dict[str, Any], t: float, *, done: bool) -> list[Delta]:
        """A built-in tool's item: its call when added, its input and result when done."""
        first = key not in self._server
        if first:
            self._server[key] = len(self._server)
        number = self._server[key]
        call_id = item.get("id") if isinstance(item.get("id"), str) else None
        name = item.get("name") if isinstance(item.get("name"), str) else None
        out: list[Delta] = []
        if first:
            out.append(
                ServerToolCallDelta(number, call_id, name or _SERVER_ITEMS[item["type"]], time=t)
            )
        if done:
            arguments, result = _server_call(item)
            # A result is what ends the call in the view's live line: never an empty one.
            done_result = result or "done"
            out.append(ServerToolCallDelta(number, arguments=arguments, result=done_result, time=t))
        return out

    def _output(self, output: Any, time: float) -> list[Delta]:
        """Every item of a final ``output`` list (a body, or a stream that streamed nothing)."""
        out: list[Delta] = []
        for position, item in enumerate(output if isinstance(output, list) else []):
            if isinstance(item, dict):
                key = self._key(item.get("id"), position)
                out.extend(self._item(key, item, time, done=True))
        return out

    def _metadata(self, response: Any, time: float) -> list[Delta]:
        if self._meta_sent or not isinstance(response, dict):
            return []
        if not (response.get("model") or response.get("id")):
            return []
        self._meta_sent = True
        return [Metadata(model=response.get("model"), response_id=response.get("id"), time=time)]


def _part_kind(index_field: str) -> str:
    return "summary" if index_field == "summary_index" else "reasoning"


def _family(kind: str) -> str:
    """``"text"``, or ``"reasoning"`` for a reasoning item's text and its summary alike."""
    return "text" if kind == "text" else "reasoning"


def _server_call(item: dict[str, Any]) -> tuple[str, str]:
    """The input (JSON text) and a one-line result of a built-in tool's finished item."""
    kind = item.get("type")
    status = str(item.get("status") or "")
    if kind == "mcp_call":
        arguments = str(item.get("arguments") or "")
        error = item.get("error")
        result = f"error: {error}" if error else str(item.get("output") or status)
    elif kind == "web_search_call":
        arguments = _json(item.get("action"))
        sources = as_dict(item.get("action")).get("sources")
        result = f"{len(sources)} sources" if isinstance(sources, list) else status
    elif kind == "file_search_call":
        arguments = _json({"queries": item.get("queries")}) if item.get("queries") else ""
        results = item.get("results")
        result = f"{len(results)} results" if isinstance(results, list) else status
    elif kind == "code_interpreter_call":
        arguments = _json({"code": item.get("code")}) if item.get("code") else ""
        logs = [
            str(o.get("logs"))
            for o in map(as_dict, item.get("outputs") or [])
            if o.get("type") == "logs" and o.get("logs")
        ]
        result = " ".join(logs) or status
    else:  # image_generation_call: the result is the image itself, not a line of text
        arguments, result = "", status
    return arguments, excerpt(result, 200)


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def _is_response(obj: Any) -> bool:
    return isinstance(obj, dict) and (obj.get("object") == "response" or "output" in obj)


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


def _url(parts: SplitResult, model: str | None, stream: bool) -> str:
    return openai_url(parts, "/responses")


def _item(message: dict[str, Any]) -> dict[str, Any]:
    """A chat message as a Responses input item: content parts become ``input_text`` /
    ``input_image`` (``output_text`` for the assistant's), a string stays a string."""
    content = message.get("content")
    if not isinstance(content, list):
        return message
    text_type = "output_text" if message.get("role") == "assistant" else "input_text"
    parts: list[Any] = []
    for part in content:
        image = image_of(part)
        if image is not None:
            parts.append({"type": "input_image", "image_url": image[0]})
        elif isinstance(part, dict) and part.get("type") == "text":
            parts.append({"type": text_type, "text": part.get("text", "")})
        else:
            parts.append(part)  # already in the Responses API's form
    return {**message, "content": parts}


def _body(ask: Ask) -> dict[str, Any]:
    system, rest = split_system(ask.messages)
    return compact(
        {
            "model": ask.model,
            "input": [_item(m) for m in rest],
            "instructions": system or None,
            "temperature": ask.temperature,
            "max_output_tokens": ask.max_tokens,
            "stream": ask.stream,
        }
    )


def _sniff(obj: Any, streamed: bool) -> bool:
    if not isinstance(obj, dict):
        return False
    kind = obj.get("type")
    return (
        (isinstance(kind, str) and kind.startswith("response."))
        or obj.get("object") == "response"
        # A whole body's output list; in a stream, "output" alone says too little.
        or (not streamed and isinstance(obj.get("output"), list))
    )


PROVIDER = Provider(
    name="openai-responses",
    servers="OpenAI Responses API, llama.cpp",
    ends_with="`response.completed`",
    capabilities=frozenset({"tools", "reasoning", "images", "usage"}),
    request=RequestRule(url=_url, body=_body),
    reader=lambda options: OpenAIResponsesFormat(),
    sniff=_sniff,
)

"""Wire formats: every server's events in, one stream of deltas out (pure, no I/O).

=================== ========================================================================
name                what speaks it
=================== ========================================================================
``openai-chat``     OpenAI Chat Completions; vLLM, llama.cpp, Ollama ``/v1``, LiteLLM, Qwen
``openai-responses`` OpenAI Responses API (``/v1/responses``); llama.cpp
``anthropic``       Anthropic Messages API (``/v1/messages``); llama.cpp
``ollama``          Ollama's native ``/api/chat`` and ``/api/generate`` (NDJSON)
``json``            home-made servers: text at a JSON field path, delta or cumulative
``text``            home-made servers: each event's data is raw text
=================== ========================================================================

``"auto"`` is resolved by :func:`choose_format` from the first event's shape (or the JSON body's
shape for a non-streamed answer), falling back on the request's API when the shape says
nothing (an error object, ``[DONE]``, an empty stream). The chosen name is recorded on the
reply (:attr:`nbstream.Reply.format`).

Every format is made wrapped in :class:`~nbstream._providers._think.ThinkTagFormat`: whatever the
wire, an answer that opens with ``<think>…</think>`` (R1-style models behind a server without a
reasoning parser) has that block read as reasoning.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeAlias

from .._core.errors import FormatError
from ._common import DONE, EventLike, WireFormat, error_delta
from ._think import ThinkTagFormat
from .anthropic import AnthropicFormat
from .json_path import JsonMode, JsonPathFormat
from .ollama import OllamaFormat
from .openai_chat import OpenAIChatFormat
from .openai_responses import OpenAIResponsesFormat
from .text import TextFormat

__all__ = [
    "API_FORMAT",
    "FORMAT_NAMES",
    "EventLike",
    "FormatName",
    "JsonMode",
    "WireFormat",
    "choose_format",
    "make_format",
    "sniff_body",
    "sniff_event",
]

FormatName: TypeAlias = Literal[
    "openai-chat", "openai-responses", "anthropic", "ollama", "json", "text"
]
FORMAT_NAMES: tuple[str, ...] = (
    "openai-chat",
    "openai-responses",
    "anthropic",
    "ollama",
    "json",
    "text",
)

# The format each API answers in; "custom" (home-made servers) has none and is sniffed.
API_FORMAT: dict[str, str] = {
    "openai-chat": "openai-chat",
    "openai-responses": "openai-responses",
    "anthropic": "anthropic",
    "ollama": "ollama",
}

_ANTHROPIC_EVENTS = frozenset(
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


def make_format(
    name: str, *, json_path: str | None = None, json_mode: JsonMode = "auto"
) -> WireFormat:
    """Create a fresh format by name.

    Args:
        name: One of :data:`FORMAT_NAMES`.
        json_path: Field path for the ``json`` format (``None``: guessed).
        json_mode: ``"delta"``, ``"cumulative"`` or ``"auto"`` for the ``json`` format.

    Returns:
        A new, stateful :class:`WireFormat` for one response, its leading think block read as
        reasoning (:class:`~nbstream._providers._think.ThinkTagFormat`).

    Raises:
        FormatError: The name is unknown.
    """
    fmt: WireFormat
    if name == "openai-chat":
        fmt = OpenAIChatFormat()
    elif name == "openai-responses":
        fmt = OpenAIResponsesFormat()
    elif name == "anthropic":
        fmt = AnthropicFormat()
    elif name == "ollama":
        fmt = OllamaFormat()
    elif name == "json":
        fmt = JsonPathFormat(json_path, json_mode)
    elif name == "text":
        fmt = TextFormat()
    else:
        known = ", ".join(FORMAT_NAMES)
        raise FormatError(f"unknown wire format {name!r}; use 'auto' or one of: {known}")
    return ThinkTagFormat(fmt)


def sniff_event(item: EventLike) -> str | None:
    """Name the format a first event looks like, or ``None`` when its shape says nothing.

    Args:
        item: The first event of a stream.

    Returns:
        A format name, or ``None`` for ``[DONE]``, empty data and error objects (which every
        format reads), so that the request's API decides.
    """
    if item.event in _ANTHROPIC_EVENTS:
        return "anthropic"
    data = item.data.strip()
    if not data or data == DONE:
        return None
    try:
        obj = json.loads(data)
    except ValueError:
        return "text"
    return _shape(obj, streamed=True)


def sniff_body(obj: Any) -> str | None:
    """Name the format a complete (non-streamed) JSON answer looks like, or ``None``.

    Args:
        obj: The parsed body.

    Returns:
        A format name, or ``None`` for error objects.
    """
    return _shape(obj, streamed=False)


def _shape(obj: Any, *, streamed: bool) -> str | None:
    if isinstance(obj, str):
        return "json" if streamed else "text"
    if not isinstance(obj, dict):
        # A bare number or boolean: a text server whose piece happens to parse as JSON.
        return "text"
    kind = obj.get("type")
    if isinstance(kind, str) and kind.startswith("response."):
        return "openai-responses"
    if kind in _ANTHROPIC_EVENTS or (kind == "message" and isinstance(obj.get("content"), list)):
        return "anthropic"
    if obj.get("object") == "response" or (not streamed and isinstance(obj.get("output"), list)):
        return "openai-responses"
    obj_kind = obj.get("object")
    if isinstance(obj.get("choices"), list) or (
        isinstance(obj_kind, str) and obj_kind.startswith(("chat.completion", "text_completion"))
    ):
        return "openai-chat"
    if "done" in obj and ("message" in obj or "response" in obj):
        return "ollama"
    if error_delta(obj, 0.0) is not None:
        return None
    return "json"


def choose_format(
    format: str,
    *,
    api: str,
    first: EventLike | None = None,
    body: Any = None,
    json_path: str | None = None,
    json_mode: JsonMode = "auto",
) -> WireFormat:
    """Resolve ``format`` (a name or ``"auto"``) into a fresh format for one response.

    Args:
        format: A name from :data:`FORMAT_NAMES`, or ``"auto"``.
        api: The API the request was built for (``"openai-chat"`` … or ``"custom"``).
        first: The stream's first event, if any arrived.
        body: The parsed JSON body, for a non-streamed answer.
        json_path: Field path for the ``json`` format.
        json_mode: Mode for the ``json`` format.

    Returns:
        The format; its ``name`` is the choice to record on the reply.

    Raises:
        FormatError: ``format`` is not a known name.
    """
    if format != "auto":
        return make_format(format, json_path=json_path, json_mode=json_mode)
    if json_path is not None:
        # A field path only means something to the json format: asking for one chooses it.
        return make_format("json", json_path=json_path, json_mode=json_mode)
    guess: str | None = None
    if body is not None:
        guess = sniff_body(body)
    elif first is not None:
        guess = sniff_event(first)
    if guess is None:
        guess = API_FORMAT.get(api, "json")
    return make_format(guess, json_path=json_path, json_mode=json_mode)

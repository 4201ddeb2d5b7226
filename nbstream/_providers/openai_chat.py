"""OpenAI Chat Completions, as OpenAI and every server that copies it speak it.

Request: ``POST {base_url}/chat/completions`` with ``Authorization: Bearer <key>``; the body has
``model``, ``messages``, ``stream``, ``stream_options.include_usage`` (streams), ``temperature``
and ``max_tokens``. The path follows the OpenAI client's convention: ``base_url`` normally ends
in ``/v1``; a bare ``http://host:port`` gets ``/v1`` added; a ``base_url`` that already ends
with the full path is used as is. The stream flag is always in the body: Qwen-style servers
stream only when it says ``"stream": true``.

Each SSE event's data is one ``chat.completion.chunk``: text in ``choices[0].delta.content``,
reasoning in ``delta.reasoning_content`` (DeepSeek, vLLM, llama.cpp), ``delta.reasoning``
(OpenRouter, Ollama, Groq) or only in ``delta.reasoning_details[]`` (OpenRouter's documented
form, copied by other gateways), tool-call fragments in ``delta.tool_calls``, the finish reason
in ``choices[0].finish_reason``, and, when ``stream_options.include_usage`` was sent, a last
chunk with empty ``choices`` and a ``usage`` object. The stream ends with ``data: [DONE]``.

What servers do differently, all read here:

- ``delta.content`` as a list of typed parts (Mistral's reasoning models: ``{"type": "text"}``
  and ``{"type": "thinking", "thinking": [{"type": "text", …}]}``);
- the text both in ``delta.content`` and in the legacy ``choices[].text`` (Together): one of
  them is read, never both;
- chunks with ``choices: []`` (Azure's content-filter results, usage-only chunks), a ``delta``
  that is ``null``, role-only chunks, and ``n > 1`` choices (only choice 0 is the answer);
- tool calls without an ``index``, or a second call reusing an index under a new ``id``;
- a whole ``chat.completion`` (a ``message``, no ``delta``) sent as an event of the stream;
- an ``error`` object in a chunk that also carries usage and a finish reason (OpenRouter), and
  a named ``event: error`` (Groq);
- usage in ``x_groq.usage`` (Groq) or in the choice (Moonshot), and one tool call sent as an
  object instead of a list (older TGI).

Terminal marker: ``[DONE]`` or a ``finish_reason`` (some servers never send ``[DONE]``).
An ``{"error": …}`` chunk inside an HTTP 200 stream becomes an :class:`~nbstream.ErrorDelta`.
Legacy ``/v1/completions`` chunks (``choices[0].text``) are read as text too.
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
    TextDelta,
    ToolCallDelta,
    Usage,
    new_reasoning,
    new_text,
)
from .._core.text import excerpt
from ._common import DONE, EventLike, as_dict, error_delta, load_object
from .provider import Ask, Provider, RequestRule, compact, with_path

__all__ = ["PROVIDER", "OpenAIChatFormat", "openai_url", "openai_usage"]


def openai_url(parts: SplitResult, suffix: str) -> str:
    """The URL of an OpenAI-style endpoint: ``base_url`` + ``suffix``, ``/v1`` for a bare host.

    Args:
        parts: The base URL, split, its path's trailing ``/`` removed.
        suffix: The endpoint's path (``"/chat/completions"``).

    Returns:
        The full URL; a base URL that already ends with ``suffix`` is kept as is.
    """
    path = parts.path
    if not path.endswith(suffix):
        path = (path or "/v1") + suffix
    return with_path(parts, path)


def _url(parts: SplitResult, model: str | None, stream: bool) -> str:
    return openai_url(parts, "/chat/completions")


def _body(ask: Ask) -> dict[str, Any]:
    body = compact(
        {
            "model": ask.model,
            "messages": ask.messages,
            "temperature": ask.temperature,
            "max_tokens": ask.max_tokens,
            "stream": ask.stream,
        }
    )
    if ask.stream and ask.include_usage:
        body["stream_options"] = {"include_usage": True}
    return body


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
        self._tools = _ToolSlots()

    def feed(self, item: EventLike) -> list[Delta]:
        """Translate one chunk; ``[DONE]`` marks the end."""
        data = item.data
        if data[:1] != "{" and data.strip() == DONE:
            self.complete = True
            return []
        obj, early = load_object(item, self.name)
        if obj is None:
            return early
        if self._meta_sent and item.event == "message":
            fast = _plain_piece(obj, item.time)
            if fast is not None:
                return [fast]
        out = self._chunk(obj, item.time, streamed=True)
        if item.event == "error" and not any(isinstance(d, ErrorDelta) for d in out):
            # A named error event is an error whatever its data's shape (Groq sends one).
            out.append(
                ErrorDelta(f"the server reported an error: {excerpt(item.data)}", time=item.time)
            )
        return out

    def finish(self) -> list[Delta]:
        """Nothing to flush: every chunk is self-contained."""
        return []

    def parse_body(self, obj: Any, *, time: float = 0.0) -> list[Delta]:
        """Translate a non-streamed ``chat.completion`` body (or an error body)."""
        self.complete = True
        return self._chunk(obj, time, streamed=False)

    def _chunk(self, obj: Any, time: float, *, streamed: bool) -> list[Delta]:
        if not isinstance(obj, dict):
            return []
        out: list[Delta] = []
        if not self._meta_sent and (obj.get("model") or obj.get("id")):
            self._meta_sent = True
            out.append(Metadata(model=obj.get("model"), response_id=obj.get("id"), time=time))
        choice = _first_choice(obj.get("choices"))
        if choice is not None:
            part = choice.get("delta") if streamed else None
            whole = not streamed
            if not isinstance(part, dict):
                # A streamed choice without a delta but with a message: a server that sends
                # whole chat.completion objects in its stream (Amm1rr/WebAI-to-API#55). Perplexity
                # sends both, its message the text so far (open-webui/open-webui#9927,
                # BerriAI/litellm#8455): there the delta wins.
                part = choice.get("message")
                whole = True
            out.extend(
                self._message_part(as_dict(part), choice.get("text"), time, streamed=not whole)
            )
            reason = choice.get("finish_reason")
            if isinstance(reason, str) and reason:
                self.complete = True
                out.append(Finish(reason, time=time))
        # Groq reports a stream's usage in its own x_groq object, Moonshot (Kimi) in the
        # choice, not in "usage".
        usage = (
            openai_usage(obj.get("usage"), time)
            or openai_usage(as_dict(obj.get("x_groq")).get("usage"), time)
            or openai_usage(as_dict(choice).get("usage"), time)
        )
        if usage is not None:
            out.append(usage)
        # Read after the rest: OpenRouter's mid-stream error chunk also carries the usage so far
        # and a finish_reason of "error" (openrouter.ai/docs/api-reference/errors).
        err = error_delta(obj, time)
        if err is not None:
            out.append(err)
        return out

    def _message_part(
        self, part: dict[str, Any], legacy_text: Any, time: float, *, streamed: bool
    ) -> list[Delta]:
        """Deltas from a chunk's ``delta`` (or a body's ``message``) and its choice's ``text``."""
        out: list[Delta] = []
        reasoning = _reasoning(part)
        if reasoning:
            out.append(ReasoningDelta(reasoning, time=time))
        answered = False
        for is_reasoning, piece in _content_parts(part.get("content")):
            if piece:
                out.append((ReasoningDelta if is_reasoning else TextDelta)(piece, time=time))
                answered = answered or not is_reasoning
        # Together (also through Hugging Face's router) repeats each piece in the legacy
        # completions field choices[].text: read it only when the delta carried no text.
        if not answered and isinstance(legacy_text, str) and legacy_text:
            out.append(TextDelta(legacy_text, time=time))
        refusal = part.get("refusal")
        if isinstance(refusal, str) and refusal:
            out.append(TextDelta(refusal, time=time))
        calls = part.get("tool_calls")
        if isinstance(calls, dict):  # older TGI: one call as an object, not a list
            calls = [calls]
        if isinstance(calls, list):
            for pos, call in enumerate(calls):
                if not isinstance(call, dict):
                    continue
                fn = as_dict(call.get("function"))
                index = call.get("index")
                if index is None and not streamed:
                    index = pos  # a body's list is the calls, in order
                call_id = call.get("id") if isinstance(call.get("id"), str) else None
                out.append(
                    ToolCallDelta(
                        self._tools.slot(index, call_id or None),
                        id=call_id or None,
                        name=fn.get("name") or None,
                        arguments=_arguments(fn.get("arguments")),
                        time=time,
                    )
                )
        legacy = part.get("function_call")  # pre-2023 "functions" API, still sent by some servers
        if isinstance(legacy, dict):
            out.append(
                ToolCallDelta(
                    0,
                    name=legacy.get("name") or None,
                    arguments=_arguments(legacy.get("arguments")),
                    time=time,
                )
            )
        return out


class _ToolSlots:
    """Number a reply's tool calls 0, 1, … from the ``index`` and ``id`` their fragments carry.

    OpenAI numbers the calls with ``index`` and sends the ``id`` on a call's first fragment
    only. Some servers send no ``index`` (each complete call in its own chunk, told apart by its
    ``id``), and some reuse one ``index`` for several calls of a reply, each with its own
    ``id``; a fragment with neither continues the call before it.
    """

    def __init__(self) -> None:
        self._by_index: dict[int, int] = {}
        self._ids: dict[int, str | None] = {}
        self._last: int | None = None

    def slot(self, index: Any, call_id: str | None) -> int:
        """Return the reply's number for the call a fragment belongs to."""
        if isinstance(index, int) and not isinstance(index, bool):
            found = self._by_index.get(index)
            known = None if found is None else self._ids[found]
            if found is not None and (call_id is None or known is None or known == call_id):
                return self._use(found, call_id)
            self._by_index[index] = self._use(len(self._ids), call_id)
            return self._by_index[index]
        if call_id is not None:
            same = next((n for n, i in self._ids.items() if i == call_id), len(self._ids))
            return self._use(same, call_id)
        return self._use(len(self._ids) if self._last is None else self._last, None)

    def _use(self, slot: int, call_id: str | None) -> int:
        if call_id is not None or slot not in self._ids:
            self._ids[slot] = call_id
        self._last = slot
        return slot


# Keys of a streamed delta that never add a delta of their own, whatever their value.
_QUIET_DELTA_KEYS = frozenset({"content", "role", "reasoning_content", "reasoning", "token_id"})


def _plain_piece(obj: dict[str, Any], time: float) -> TextDelta | ReasoningDelta | None:
    """The one delta of the usual chunk, or ``None`` to read the chunk in full (``_chunk``).

    The usual chunk (nearly every chunk of every server in the recorded corpus) has one choice
    whose delta carries one piece of text or of reasoning, and nothing else that reads into a
    delta: no finish reason, usage, error, tool call or refusal. For those, this gives exactly
    what ``_chunk`` gives (checked chunk by chunk against it by the tests) at a third of its
    cost; anything else returns ``None``.
    """
    if (
        obj.get("usage") is not None
        or obj.get("error") is not None
        or obj.get("code") is not None
        or "x_groq" in obj
    ):
        return None
    choices = obj.get("choices")
    if type(choices) is not list or len(choices) != 1:
        return None
    choice = choices[0]
    if (
        type(choice) is not dict
        or choice.get("index", 0) != 0
        or choice.get("finish_reason") is not None
        or choice.get("usage") is not None
    ):
        return None
    delta = choice.get("delta")
    if type(delta) is not dict:
        return None
    for key in delta:
        if key not in _QUIET_DELTA_KEYS and delta[key] is not None:
            return None  # refusal, tool_calls, reasoning_details …
    content = delta.get("content")
    if content is not None:
        if type(content) is not str or not content:
            return None
        if delta.get("reasoning_content") is not None or delta.get("reasoning") is not None:
            return None
        return new_text(content, time)  # the delta answered, so choices[].text is not read
    reasoning = _reasoning(delta)
    text = choice.get("text")
    if not reasoning or (isinstance(text, str) and text):
        return None
    return new_reasoning(reasoning, time)


# OpenRouter's reasoning_details item types and the field holding their readable text
# (openrouter.ai/docs, "Reasoning Tokens"); "reasoning.encrypted" items have none.
_DETAIL_TEXT = {"reasoning.text": "text", "reasoning.summary": "summary"}


def _first_choice(choices: Any) -> dict[str, Any] | None:
    """The answer's choice: index 0 (with ``n > 1`` the others are alternatives, not shown)."""
    if not isinstance(choices, list):
        return None
    return next((c for c in choices if isinstance(c, dict) and c.get("index", 0) == 0), None)


def _reasoning(part: dict[str, Any]) -> str:
    """The reasoning text of a delta, from whichever field the server uses."""
    # Servers differ in the field's name; vLLM sends both names with the same text while it
    # renames one to the other, so the first one found is the reasoning.
    for key in ("reasoning_content", "reasoning"):
        value = part.get(key)
        if isinstance(value, str) and value:
            return value
    # OpenRouter documents reasoning_details[] as the structured form and repeats its text in
    # "reasoning"; some gateways send only the details. Encrypted items carry no readable text.
    details = part.get("reasoning_details")
    if not isinstance(details, list):
        return ""
    pieces: list[str] = []
    for item in details:
        field = _DETAIL_TEXT.get(str(as_dict(item).get("type")))
        text = as_dict(item).get(field) if field is not None else None
        if isinstance(text, str):
            pieces.append(text)
    return "".join(pieces)


def _content_parts(content: Any) -> list[tuple[bool, str]]:
    """``(is_reasoning, text)`` pieces of a delta's ``content``: a string or a list of parts.

    Mistral's reasoning models stream ``content`` as typed chunks (docs.mistral.ai, "Reasoning"):
    ``{"type": "text", "text": …}`` and ``{"type": "thinking", "thinking": [{"type": "text",
    "text": …}]}``. Other part types (``reference``, images) carry no text to show.
    """
    if isinstance(content, str):
        return [(False, content)]
    if not isinstance(content, list):
        return []
    out: list[tuple[bool, str]] = []
    for part in content:
        if isinstance(part, str):
            out.append((False, part))
            continue
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("text", "output_text") and isinstance(part.get("text"), str):
            out.append((False, part["text"]))
        elif kind == "thinking":
            out.extend((True, text) for _, text in _content_parts(part.get("thinking")))
    return out


def _arguments(value: Any) -> str:
    """A tool call's arguments as JSON text (a few servers send them as an object)."""
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def _sniff(obj: Any, streamed: bool) -> bool:
    if not isinstance(obj, dict):
        return False
    kind = obj.get("object")
    return isinstance(obj.get("choices"), list) or (
        isinstance(kind, str) and kind.startswith(("chat.completion", "text_completion"))
    )


PROVIDER = Provider(
    name="openai-chat",
    servers="OpenAI, vLLM, llama.cpp, Ollama `/v1`, LiteLLM, Qwen's `openai_api.py`",
    ends_with="`data: [DONE]` / a `finish_reason`",
    capabilities=frozenset({"tools", "reasoning", "images", "usage"}),
    request=RequestRule(url=_url, body=_body),
    reader=lambda options: OpenAIChatFormat(),
    sniff=_sniff,
)

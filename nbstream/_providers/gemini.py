"""Google Gemini's native API (``generativelanguage.googleapis.com``), as Google documents it.

Request (ai.google.dev/api/generate-content): ``POST
{base_url}/models/{model}:streamGenerateContent?alt=sse``, or ``…:generateContent`` for a whole
answer. A bare host gets ``/v1beta``, the version Google's own examples use; a ``base_url``
that already names a method (``…/models/gemini-2.5-flash:streamGenerateContent``) is used as
is. The model may be named ``gemini-2.5-flash`` or ``models/gemini-2.5-flash``, a tuned one
``tunedModels/…``. The key travels in the ``x-goog-api-key`` header (it usually lives in
``GEMINI_API_KEY`` or ``GOOGLE_API_KEY``: name that variable with ``api_key_env``). The body has
``contents`` (roles ``user`` and ``model``, each message's content as ``parts``: text, and
OpenAI-style ``image_url`` parts as ``inlineData`` / ``fileData``), ``systemInstruction`` (the
system prompt) and ``generationConfig`` (``temperature``, ``maxOutputTokens``). Thinking is left
to the model's default; thought summaries are asked for with the extra body field
``generationConfig={"thinkingConfig": {"includeThoughts": True}, …}`` (it replaces ours whole).

Answer: with ``alt=sse`` each event's data is one ``GenerateContentResponse``. The first
candidate's ``content.parts`` carry the text (a part with ``"thought": true`` is reasoning),
``functionCall`` parts (one whole call each: ``name``, ``args`` as an object, an ``id`` when the
API gives one) and the code execution tool's ``executableCode`` / ``codeExecutionResult``;
``finishReason`` (``STOP``, ``MAX_TOKENS``, ``SAFETY``, ``RECITATION`` …) comes with the last
chunk, and ``usageMetadata`` with every chunk, counts so far. A prompt Google refuses gets no
candidates, only ``promptFeedback.blockReason``: that is an error (there is no answer to keep).
An error mid-stream is ``{"error": {"code", "message", "status"}}``.

Usage: ``candidatesTokenCount`` leaves out the thoughts (``totalTokenCount`` is the sum of the
prompt, candidates, tool-use prompt and thoughts counts), so the output tokens reported here
are candidates + thoughts, as the other providers count reasoning in their output, and the
input tokens the prompt + tool-use prompt.

Terminal marker: a ``finishReason``, or a blocked prompt; there is no ``[DONE]``. A whole answer
is one such object; ``streamGenerateContent`` without ``alt=sse`` answers with a JSON array of
them, read the same way.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import SplitResult, parse_qsl, quote

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
)
from .._core.errors import ConfigError
from .._core.text import excerpt
from ._common import EventLike, as_dict, error_delta, load_object
from .provider import Ask, Provider, RequestRule, compact, image_of, split_system, with_path

__all__ = ["PROVIDER", "GeminiFormat"]

#: The API version a bare host gets: the one Google's examples use.
DEFAULT_VERSION = "/v1beta"
_METHODS = (":streamGenerateContent", ":generateContent")
# Enum values that say "not set": read as nothing.
_UNSET = frozenset({"FINISH_REASON_UNSPECIFIED", "BLOCK_REASON_UNSPECIFIED"})


def _url(parts: SplitResult, model: str | None, stream: bool) -> str:
    path, query = parts.path, parts.query
    if not path.endswith(_METHODS):
        if not model:
            raise ConfigError(
                "the gemini API names the model in its URL: pass one, e.g. model='gemini-2.5-flash'"
            )
        name = model.strip().strip("/")
        if "/" not in name:  # "tunedModels/x" and "models/x" are full names already
            name = "models/" + name
        method = _METHODS[0] if stream else _METHODS[1]
        path = (path or DEFAULT_VERSION) + "/" + quote(name, safe="/") + method
    if path.endswith(_METHODS[0]) and not any(k == "alt" for k, _ in parse_qsl(query)):
        # Without alt=sse the stream is one JSON array sent piece by piece, not events.
        query = f"{query}&alt=sse" if query else "alt=sse"
    return with_path(parts, path, query)


def _headers(api_key: str | None) -> dict[str, str]:
    return {"x-goog-api-key": api_key} if api_key else {}


def _body(ask: Ask) -> dict[str, Any]:
    system, rest = split_system(ask.messages)
    config = compact({"temperature": ask.temperature, "maxOutputTokens": ask.max_tokens})
    return compact(
        {
            "contents": [_content(m) for m in rest],
            "systemInstruction": {"parts": [{"text": system}]} if system else None,
            "generationConfig": config or None,
        }
    )


def _content(message: dict[str, Any]) -> dict[str, Any]:
    """A chat message as a Gemini ``Content``: the assistant's role is ``model``."""
    role = "model" if message.get("role") in ("assistant", "model") else "user"
    parts = message.get("parts")  # a message already in Gemini's shape
    if not isinstance(parts, list):
        parts = _parts(message.get("content"))
    return {"role": role, "parts": parts}


def _parts(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list):
        return [{"text": "" if content is None else str(content)}]
    out: list[Any] = []
    for part in content:
        if isinstance(part, str):
            out.append({"text": part})
        elif isinstance(part, dict) and part.get("type") in ("text", "input_text"):
            out.append({"text": str(part.get("text", ""))})
        elif (image := image_of(part)) is not None:
            # inline data for a data URL, else the URL by reference (ai.google.dev, "Image
            # understanding")
            if image[1]:
                out.append({"inlineData": {"mimeType": image[1], "data": image[2]}})
            else:
                out.append({"fileData": {"fileUri": image[0]}})
        else:
            out.append(part)  # a Gemini part ({"inlineData": …}) or one Google will name
    return out


class GeminiFormat:
    """Translate ``GenerateContentResponse`` chunks (and bodies) into deltas."""

    name = "gemini"

    def __init__(self) -> None:
        self.complete = False
        self._meta_sent = False
        self._tools = 0  # function calls so far
        self._runs = 0  # code executions so far
        self._usage: dict[str, Any] | None = None

    def feed(self, item: EventLike) -> list[Delta]:
        """Translate one chunk."""
        obj, early = load_object(item, self.name)
        if obj is None:
            return early
        return self._response(obj, item.time)

    def finish(self) -> list[Delta]:
        """Nothing to flush: every chunk is self-contained."""
        return []

    def parse_body(self, obj: Any, *, time: float = 0.0) -> list[Delta]:
        """Translate a whole answer: one response object, or a JSON array of them."""
        self.complete = True
        out: list[Delta] = []
        for response in obj if isinstance(obj, list) else [obj]:
            out.extend(self._response(response, time))
        return out

    def _response(self, obj: Any, t: float) -> list[Delta]:
        if not isinstance(obj, dict):
            return []
        if "error" in obj:
            err = _error(obj, t)
            if err is not None:
                return [err]
        out: list[Delta] = []
        if not self._meta_sent and (obj.get("modelVersion") or obj.get("responseId")):
            self._meta_sent = True
            out.append(
                Metadata(model=obj.get("modelVersion"), response_id=obj.get("responseId"), time=t)
            )
        out.extend(self._blocked(as_dict(obj.get("promptFeedback")), t))
        candidate = _first_candidate(obj.get("candidates"))
        if candidate is not None:
            for part in as_dict(candidate.get("content")).get("parts") or []:
                out.extend(self._part(as_dict(part), t))
            reason = candidate.get("finishReason")
            if isinstance(reason, str) and reason and reason not in _UNSET:
                self.complete = True
                out.append(Finish(reason, time=t))
        usage = obj.get("usageMetadata")
        if isinstance(usage, dict) and usage != self._usage:
            self._usage = usage  # every chunk repeats the counts so far: report changes only
            out.append(_usage(usage, t))
        return out

    def _blocked(self, feedback: dict[str, Any], t: float) -> list[Delta]:
        reason = feedback.get("blockReason")
        if not isinstance(reason, str) or not reason or reason in _UNSET:
            return []
        self.complete = True  # no candidates will follow: the answer is this refusal
        detail = feedback.get("blockReasonMessage")
        message = f"Gemini blocked the prompt ({reason})" + (f": {detail}" if detail else "")
        return [ErrorDelta(excerpt(message + "; rephrase it", 500), reason, time=t)]

    def _part(self, part: dict[str, Any], t: float) -> list[Delta]:
        text = part.get("text")
        if isinstance(text, str):
            if not text:
                return []
            return [(ReasoningDelta if part.get("thought") is True else TextDelta)(text, time=t)]
        call = part.get("functionCall")
        if isinstance(call, dict):
            index, self._tools = self._tools, self._tools + 1
            call_id = call.get("id") if isinstance(call.get("id"), str) else None
            args = json.dumps(call.get("args") or {}, ensure_ascii=False)
            return [ToolCallDelta(index, call_id or None, call.get("name"), args, time=t)]
        code = part.get("executableCode")
        if isinstance(code, dict):
            self._runs += 1
            args = json.dumps(code, ensure_ascii=False)
            return [
                ServerToolCallDelta(self._runs - 1, name="code_execution", arguments=args, time=t)
            ]
        result = part.get("codeExecutionResult")
        if isinstance(result, dict):
            # The result follows its executableCode part; one without it is a run of its own.
            if self._runs == 0:
                self._runs = 1
            outcome = str(result.get("outcome") or "").removeprefix("OUTCOME_").lower() or "done"
            output = str(result.get("output") or "").strip()
            summary = excerpt(f"{outcome}: {output}" if output else outcome, 200)
            return [ServerToolCallDelta(self._runs - 1, result=summary, time=t)]
        return []  # inlineData (generated images), thoughtSignature-only parts, newer kinds


def _first_candidate(candidates: Any) -> dict[str, Any] | None:
    """The answer's candidate: index 0 (with ``candidateCount > 1`` the others are alternatives)."""
    if not isinstance(candidates, list):
        return None
    return next((c for c in candidates if isinstance(c, dict) and c.get("index", 0) == 0), None)


def _error(obj: dict[str, Any], t: float) -> ErrorDelta | None:
    err = obj.get("error")
    if isinstance(err, dict) and err.get("message"):
        code = err.get("status") or err.get("code")  # "UNAVAILABLE" says more than 503
        return ErrorDelta(
            excerpt(str(err["message"]), 500), None if code is None else str(code), time=t
        )
    return error_delta(obj, t)


def _usage(usage: dict[str, Any], t: float) -> Usage:
    prompt, tool_prompt = (
        _int(usage.get("promptTokenCount")),
        _int(usage.get("toolUsePromptTokenCount")),
    )
    answer, thoughts = (
        _int(usage.get("candidatesTokenCount")),
        _int(usage.get("thoughtsTokenCount")),
    )
    inp = None if prompt is None else prompt + (tool_prompt or 0)
    out = None if answer is None and thoughts is None else (answer or 0) + (thoughts or 0)
    return Usage(inp, out, _int(usage.get("totalTokenCount")), thoughts, time=t)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _looks_like_a_response(obj: Any) -> bool:
    return isinstance(obj, dict) and (
        isinstance(obj.get("candidates"), list) or isinstance(obj.get("promptFeedback"), dict)
    )


def _sniff(obj: Any, streamed: bool) -> bool:
    if isinstance(obj, list):  # streamGenerateContent without alt=sse, read whole
        return bool(obj) and all(_looks_like_a_response(o) for o in obj)
    return _looks_like_a_response(obj)


PROVIDER = Provider(
    name="gemini",
    servers="Google Gemini API (`models/…:streamGenerateContent?alt=sse`)",
    ends_with="a `finishReason`",
    capabilities=frozenset({"tools", "reasoning", "images", "usage"}),
    request=RequestRule(url=_url, body=_body, headers=_headers, key_header="x-goog-api-key"),
    reader=lambda options: GeminiFormat(),
    sniff=_sniff,
)

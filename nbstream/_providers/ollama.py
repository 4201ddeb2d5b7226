"""Ollama's native API: ``/api/chat`` (and ``/api/generate``), NDJSON, one JSON object a line.

Request: ``POST {base_url}/api/chat`` (Ollama's OpenAI-compatible base ends in ``/v1``; the
native API lives at the root, so that ``/v1`` is dropped; a ``base_url`` ending in
``/api/chat`` or ``/api/generate`` is used as is), ``Authorization: Bearer <key>`` when a key is
set (Ollama's cloud); the body has ``model``, ``messages``, ``stream`` (Ollama streams unless it
says ``false``) and ``options.temperature`` / ``options.num_predict``.

Chat lines carry ``message.content``, ``message.thinking`` and ``message.tool_calls`` (complete
calls with ``arguments`` as an object); generate lines carry ``response`` and ``thinking``. The
last line has ``"done": true`` with ``done_reason`` and the counts ``prompt_eval_count`` /
``eval_count``. An error arrives as ``{"error": "…"}`` on its own line.

Terminal marker: ``"done": true``. A non-streamed answer is the same object, ``done`` included.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import SplitResult

from .._core.deltas import Delta, Finish, Metadata, ReasoningDelta, TextDelta, ToolCallDelta, Usage
from ._common import EventLike, as_dict, error_delta, load_object
from .provider import Ask, Provider, RequestRule, compact, image_of, with_path

__all__ = ["PROVIDER", "OllamaFormat"]


class OllamaFormat:
    """Translate Ollama NDJSON lines (and bodies) into deltas."""

    name = "ollama"

    def __init__(self) -> None:
        self.complete = False
        self._meta_sent = False
        self._tools = 0

    def feed(self, item: EventLike) -> list[Delta]:
        """Translate one line."""
        obj, early = load_object(item, self.name)
        if obj is None:
            return early
        return self._line(obj, item.time)

    def finish(self) -> list[Delta]:
        """Nothing to flush."""
        return []

    def parse_body(self, obj: Any, *, time: float = 0.0) -> list[Delta]:
        """Translate a non-streamed answer (the same shape as the last line)."""
        out = self._line(obj, time)
        self.complete = True
        return out

    def _line(self, obj: Any, t: float) -> list[Delta]:
        err = error_delta(obj, t)
        if err is not None:
            return [err]
        if not isinstance(obj, dict):
            return []
        out: list[Delta] = []
        if not self._meta_sent and obj.get("model"):
            self._meta_sent = True
            out.append(Metadata(model=obj.get("model"), time=t))
        chat = "message" in obj  # /api/chat nests the message; /api/generate does not
        msg = as_dict(obj.get("message")) if chat else obj
        thinking = msg.get("thinking")
        if isinstance(thinking, str) and thinking:
            out.append(ReasoningDelta(thinking, time=t))
        text = msg.get("content") if chat else obj.get("response")
        if isinstance(text, str) and text:
            out.append(TextDelta(text, time=t))
        for call in msg.get("tool_calls") or []:
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict):
                args = fn.get("arguments")
                text_args = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
                out.append(
                    ToolCallDelta(self._tools, call.get("id"), fn.get("name"), text_args, time=t)
                )
                self._tools += 1
        if obj.get("done") is True:
            self.complete = True
            out.append(Finish(str(obj.get("done_reason") or "stop"), time=t))
            inp, gen = obj.get("prompt_eval_count"), obj.get("eval_count")
            if isinstance(inp, int) or isinstance(gen, int):
                total = inp + gen if isinstance(inp, int) and isinstance(gen, int) else None
                out.append(Usage(inp, gen, total, time=t))
        return out


def _url(parts: SplitResult, model: str | None, stream: bool) -> str:
    path = parts.path
    if not path.endswith(("/api/chat", "/api/generate")):
        path = path.removesuffix("/v1")
        path = (path if path.endswith("/api") else path + "/api") + "/chat"
    return with_path(parts, path)


def _message(message: dict[str, Any]) -> dict[str, Any]:
    """A chat message as Ollama takes it: text ``content`` and an ``images`` list of base64
    data (docs.ollama.com, api: "images: a list of base64-encoded images")."""
    content = message.get("content")
    if not isinstance(content, list):
        return message
    text: list[str] = []
    images = list(message.get("images") or [])
    for part in content:
        image = image_of(part)
        if image is not None:
            images.append(image[2] or image[0])
        elif isinstance(part, dict):
            text.append(str(part.get("text", "")))
    return {**message, "content": "".join(text), "images": images}


def _body(ask: Ask) -> dict[str, Any]:
    options = compact({"temperature": ask.temperature, "num_predict": ask.max_tokens})
    return compact(
        {
            "model": ask.model,
            "messages": [_message(m) for m in ask.messages],
            "options": options or None,
            "stream": ask.stream,
        }
    )


def _sniff(obj: Any, streamed: bool) -> bool:
    return isinstance(obj, dict) and "done" in obj and ("message" in obj or "response" in obj)


PROVIDER = Provider(
    name="ollama",
    servers="Ollama `/api/chat` (NDJSON)",
    ends_with='`"done": true`',
    capabilities=frozenset({"tools", "reasoning", "images", "usage"}),
    request=RequestRule(url=_url, body=_body),
    reader=lambda options: OllamaFormat(),
    sniff=_sniff,
)

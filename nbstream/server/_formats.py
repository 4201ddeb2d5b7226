"""Anthropic, Ollama and the home-made servers' stream shapes, and the table of all formats.

- Anthropic Messages (``POST /v1/messages``): named events ``message_start``,
  ``content_block_start``, ``ping``, ``content_block_delta`` (``text_delta``) …,
  ``content_block_stop``, ``message_delta`` (stop reason, output usage), ``message_stop``;
  errors as ``event: error`` with ``{"type":"error","error":{"type":…,"message":…}}``.
- Ollama (``POST /api/chat``): NDJSON, one ``{"model","created_at","message","done":false}``
  per token, then ``"done":true`` with ``done_reason`` and the eval counts; streams unless the
  body says ``"stream": false``; errors as ``{"error": "…"}``.
- The seeds' home-made servers: ``/seed/echo`` (``data: {"chunk": "e"}`` per character of the
  query, no terminal marker), ``/seed/plain`` (``data: <text>`` per token), ``/seed/sider``
  (``data:{"code":0,"msg":"","data":{"text":…}}``, then ``data:[DONE]``, no space after the
  colon) and ``/seed/cumulative`` (ChatGLM-style: one JSON object per line, no SSE framing,
  each repeating the whole answer so far).

Pure: stdlib only.
"""

from __future__ import annotations

import datetime
from typing import Any

from ._frames import Frame, Turn, WireFormat, dumps
from ._gemini import GeminiStream, GeminiWhole
from ._openai import OpenAIChat, OpenAIResponses

__all__ = ["FORMATS", "Anthropic", "Ollama"]


class Anthropic(WireFormat):
    """``/v1/messages``."""

    name = "anthropic"
    key_header = "x-api-key"

    def head(self, turn: Turn) -> list[Frame]:
        message: dict[str, Any] = {
            "id": f"msg_{turn.id}",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": turn.model,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": turn.prompt_tokens, "output_tokens": 1},
        }
        return [
            Frame(dumps({"type": "message_start", "message": message}), "message_start"),
            Frame(
                dumps(
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    }
                ),
                "content_block_start",
            ),
            # Anthropic sends pings at any point of a stream; clients must skip them.
            Frame(dumps({"type": "ping"}), "ping"),
        ]

    def token(self, turn: Turn, text: str) -> list[Frame]:
        delta = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }
        return [Frame(dumps(delta), "content_block_delta")]

    def tail(self, turn: Turn) -> list[Frame]:
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": turn.tokens},
        }
        return [
            Frame(dumps({"type": "content_block_stop", "index": 0}), "content_block_stop"),
            Frame(dumps(delta), "message_delta"),
        ]

    def done(self, turn: Turn) -> list[Frame]:
        return [Frame(dumps({"type": "message_stop"}), "message_stop")]

    def error_chunk(self, turn: Turn, message: str) -> list[Frame]:
        return [Frame(dumps({"type": "error", "error": {"type": "api_error", "message": message}}))]

    def error_event(self, turn: Turn, message: str) -> list[Frame]:
        body = {"type": "error", "error": {"type": "overloaded_error", "message": message}}
        return [Frame(dumps(body), "error")]

    def whole(self, turn: Turn, text: str) -> Any:
        return {
            "id": f"msg_{turn.id}",
            "type": "message",
            "role": "assistant",
            "model": turn.model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": turn.prompt_tokens, "output_tokens": turn.tokens},
        }

    def http_error(self, status: int, kind: str, message: str, code: str | None = None) -> Any:
        return {"type": "error", "error": {"type": kind, "message": message}}


class Ollama(WireFormat):
    """``/api/chat``."""

    name = "ollama"
    media_type = "application/x-ndjson"
    sse = False
    stream_default = True

    def _line(self, turn: Turn, content: str, **extra: Any) -> dict[str, Any]:
        now = datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")
        body = {
            "model": turn.model,
            "created_at": now,
            "message": {"role": "assistant", "content": content},
        }
        body.update(extra)
        return body

    def _counts(self, turn: Turn) -> dict[str, Any]:
        return {
            "done_reason": "stop",
            "total_duration": 0,
            "load_duration": 0,
            "prompt_eval_count": turn.prompt_tokens,
            "prompt_eval_duration": 0,
            "eval_count": turn.tokens,
            "eval_duration": 0,
        }

    def token(self, turn: Turn, text: str) -> list[Frame]:
        return [Frame(dumps(self._line(turn, text, done=False)))]

    def done(self, turn: Turn) -> list[Frame]:
        return [Frame(dumps(self._line(turn, "", done=True, **self._counts(turn))))]

    def error_chunk(self, turn: Turn, message: str) -> list[Frame]:
        return [Frame(dumps({"error": message}))]

    error_event = error_chunk  # NDJSON has no event names

    def whole(self, turn: Turn, text: str) -> Any:
        return self._line(turn, text, done=True, **self._counts(turn))

    def http_error(self, status: int, kind: str, message: str, code: str | None = None) -> Any:
        return {"error": message}


class SeedEcho(WireFormat):
    """``/seed/echo``: one ``{"chunk": c}`` per character; the stream just ends."""

    name = "seed-echo"
    stream_default = True

    def token(self, turn: Turn, text: str) -> list[Frame]:
        return [Frame(dumps({"chunk": c})) for c in text]

    def whole(self, turn: Turn, text: str) -> Any:
        return {"chunk": text}


class SeedPlain(WireFormat):
    """``/seed/plain``: the token itself as the event's data, no JSON."""

    name = "seed-plain"
    stream_default = True

    def token(self, turn: Turn, text: str) -> list[Frame]:
        return [Frame(text)]

    def error_chunk(self, turn: Turn, message: str) -> list[Frame]:
        return [Frame(f"[ERROR] {message}")]


class SeedSider(WireFormat):
    """``/seed/sider``: ``data:{"code":0,"msg":"","data":{"text":…}}`` then ``data:[DONE]``."""

    name = "seed-sider"
    stream_default = True
    data_prefix = "data:"

    def token(self, turn: Turn, text: str) -> list[Frame]:
        return [Frame(dumps({"code": 0, "msg": "", "data": {"text": text}}))]

    def done(self, turn: Turn) -> list[Frame]:
        return [Frame("[DONE]")]

    def error_chunk(self, turn: Turn, message: str) -> list[Frame]:
        return [Frame(dumps({"code": 500, "msg": message, "data": None}))]

    def whole(self, turn: Turn, text: str) -> Any:
        return {"code": 0, "msg": "", "data": {"text": text}}

    def http_error(self, status: int, kind: str, message: str, code: str | None = None) -> Any:
        return {"code": status, "msg": message, "data": None}


class SeedCumulative(WireFormat):
    """``/seed/cumulative``: one JSON object per line, each with the whole text so far."""

    name = "seed-cumulative"
    stream_default = True
    media_type = "application/json"
    sse = False

    def token(self, turn: Turn, text: str) -> list[Frame]:
        return [Frame(dumps({"response": turn.so_far, "finished": False}))]

    def done(self, turn: Turn) -> list[Frame]:
        return [Frame(dumps({"response": turn.so_far, "finished": True}))]

    def whole(self, turn: Turn, text: str) -> Any:
        return {"response": text, "finished": True}


#: URL path -> format.
FORMATS: dict[str, WireFormat] = {
    "/v1/chat/completions": OpenAIChat(),
    "/v1/responses": OpenAIResponses(),
    "/v1/messages": Anthropic(),
    "/api/chat": Ollama(),
    "/v1beta/models/{model}:streamGenerateContent": GeminiStream(),
    "/v1beta/models/{model}:generateContent": GeminiWhole(),
    "/v1/models/{model}:streamGenerateContent": GeminiStream(),
    "/v1/models/{model}:generateContent": GeminiWhole(),
    "/seed/echo": SeedEcho(),
    "/seed/plain": SeedPlain(),
    "/seed/sider": SeedSider(),
    "/seed/cumulative": SeedCumulative(),
}

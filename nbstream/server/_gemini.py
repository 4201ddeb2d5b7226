"""Google Gemini's native shape: ``GenerateContentResponse`` chunks, the model in the path.

``POST /v1beta/models/{model}:streamGenerateContent?alt=sse`` (and ``/v1/…``, which Google
serves too): one unnamed SSE event per token, each a ``GenerateContentResponse`` with the token
in ``candidates[0].content.parts[0].text``, the counts so far in ``usageMetadata``,
``modelVersion`` and ``responseId``; the last chunk carries ``finishReason: "STOP"`` and the
candidates' token count. There is no ``[DONE]``. ``…:generateContent`` answers with one such
object. Errors, in the stream and as the body of an error status:
``{"error": {"code", "message", "status"}}``. The prompt is in ``contents`` (roles ``user`` and
``model``, text in ``parts``) and ``systemInstruction``; the key in ``x-goog-api-key``.

Pure: stdlib only.
"""

from __future__ import annotations

from typing import Any

from ._content import count_tokens
from ._frames import Frame, Turn, WireFormat, dumps

__all__ = ["GeminiStream", "GeminiWhole"]

# The google.rpc status each HTTP status of the backend's faults stands for.
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
}


class GeminiStream(WireFormat):
    """``/v1beta/models/{model}:streamGenerateContent``: a stream whatever the body says."""

    name = "gemini"
    stream_default = True
    key_header = "x-goog-api-key"

    def prompt(self, body: dict[str, Any]) -> tuple[str, int]:
        contents = body.get("contents")
        turns = [c for c in contents if isinstance(c, dict)] if isinstance(contents, list) else []
        users = [_text(c) for c in turns if c.get("role", "user") == "user"]
        words = " ".join([*(_text(c) for c in turns), _text(body.get("systemInstruction"))])
        return (users[-1] if users else ""), count_tokens(words)

    def _response(self, turn: Turn, text: str, *, final: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
        usage: dict[str, Any] = {"promptTokenCount": turn.prompt_tokens}
        if final:
            candidate["finishReason"] = "STOP"
            usage["candidatesTokenCount"] = turn.tokens
        usage["totalTokenCount"] = turn.prompt_tokens + (turn.tokens if final else 0)
        candidate["index"] = 0
        return {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": turn.model,
            "responseId": turn.id,
        }

    def token(self, turn: Turn, text: str) -> list[Frame]:
        return [Frame(dumps(self._response(turn, text, final=False)))]

    def done(self, turn: Turn) -> list[Frame]:
        return [Frame(dumps(self._response(turn, "", final=True)))]

    def error_chunk(self, turn: Turn, message: str) -> list[Frame]:
        return [Frame(dumps(self.http_error(500, "server_error", message)))]

    error_event = error_chunk  # Gemini's events have no names

    def whole(self, turn: Turn, text: str) -> Any:
        return self._response(turn, text, final=True)

    def http_error(self, status: int, kind: str, message: str, code: str | None = None) -> Any:
        return {
            "error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
        }


class GeminiWhole(GeminiStream):
    """``/v1beta/models/{model}:generateContent``: the whole answer as one object."""

    stream_default = False


def _text(content: Any) -> str:
    """The text parts of a Gemini ``Content``, joined."""
    if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
        return ""
    return "".join(str(p["text"]) for p in content["parts"] if isinstance(p, dict) and "text" in p)

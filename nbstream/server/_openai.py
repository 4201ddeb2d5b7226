"""OpenAI's two stream shapes: Chat Completions chunks and Responses events.

Chat Completions (``POST /v1/chat/completions``): unnamed events whose data is a
``chat.completion.chunk``; the first carries ``delta.role``, the last non-usage chunk an empty
delta and ``finish_reason``; with ``stream_options.include_usage`` every chunk has
``"usage":null`` and one more chunk with ``"choices":[]`` carries the usage; then
``data: [DONE]``.

Responses (``POST /v1/responses``): named events (``event:`` equals the data's ``type``), each
with a ``sequence_number`` from 0: ``response.created``, ``response.in_progress``,
``response.output_item.added``, ``response.content_part.added``, ``response.output_text.delta``
…, ``response.output_text.done``, ``response.content_part.done``, ``response.output_item.done``,
``response.completed`` with the usage. No ``[DONE]``.

Pure: stdlib only.
"""

from __future__ import annotations

from typing import Any

from ._frames import Frame, Turn, WireFormat, dumps

__all__ = ["OpenAIChat", "OpenAIResponses"]

_FINGERPRINT = "fp_nbstream"


class OpenAIChat(WireFormat):
    """``/v1/chat/completions``."""

    name = "openai-chat"

    def _chunk(self, turn: Turn, choices: list[dict[str, Any]]) -> Frame:
        body: dict[str, Any] = {
            "id": f"chatcmpl-{turn.id}",
            "object": "chat.completion.chunk",
            "created": turn.created,
            "model": turn.model,
            "system_fingerprint": _FINGERPRINT,
            "choices": choices,
        }
        if turn.include_usage:
            body["usage"] = None
        return Frame(dumps(body))

    @staticmethod
    def _choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    def head(self, turn: Turn) -> list[Frame]:
        return [
            self._chunk(turn, [self._choice({"role": "assistant", "content": "", "refusal": None})])
        ]

    def token(self, turn: Turn, text: str) -> list[Frame]:
        return [self._chunk(turn, [self._choice({"content": text})])]

    def tail(self, turn: Turn) -> list[Frame]:
        frames = [self._chunk(turn, [self._choice({}, "stop")])]
        if turn.include_usage:
            body = {
                "id": f"chatcmpl-{turn.id}",
                "object": "chat.completion.chunk",
                "created": turn.created,
                "model": turn.model,
                "system_fingerprint": _FINGERPRINT,
                "choices": [],
                "usage": _usage(turn),
            }
            frames.append(Frame(dumps(body)))
        return frames

    def done(self, turn: Turn) -> list[Frame]:
        return [Frame("[DONE]")]

    def error_chunk(self, turn: Turn, message: str) -> list[Frame]:
        # What OpenAI (and LiteLLM, vLLM) send when generation fails after the 200.
        error = {"message": message, "type": "server_error", "param": None, "code": None}
        return [Frame(dumps({"error": error}))]

    def error_event(self, turn: Turn, message: str) -> list[Frame]:
        error = {"message": message, "type": "server_error", "param": None, "code": None}
        return [Frame(dumps({"error": error}), "error")]

    def whole(self, turn: Turn, text: str) -> Any:
        return {
            "id": f"chatcmpl-{turn.id}",
            "object": "chat.completion",
            "created": turn.created,
            "model": turn.model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": text,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(turn),
            "system_fingerprint": _FINGERPRINT,
        }


def _usage(turn: Turn) -> dict[str, Any]:
    return {
        "prompt_tokens": turn.prompt_tokens,
        "completion_tokens": turn.tokens,
        "total_tokens": turn.prompt_tokens + turn.tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


class OpenAIResponses(WireFormat):
    """``/v1/responses``."""

    name = "openai-responses"

    def _event(self, turn: Turn, type_: str, **fields: Any) -> Frame:
        return Frame(
            dumps({"type": type_, "sequence_number": turn.next_sequence(), **fields}), type_
        )

    def _response(self, turn: Turn, status: str, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": f"resp_{turn.id}",
            "object": "response",
            "created_at": turn.created,
            "status": status,
            "error": None,
            "incomplete_details": None,
            "instructions": None,
            "max_output_tokens": None,
            "model": turn.model,
            "output": [],
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None},
            "store": False,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": None,
            "user": None,
            "metadata": {},
        }
        body.update(fields)
        return body

    def _item(self, turn: Turn, status: str, text: str | None) -> dict[str, Any]:
        content = [] if text is None else [_part(text)]
        return {
            "id": f"msg_{turn.id}",
            "type": "message",
            "status": status,
            "content": content,
            "role": "assistant",
        }

    def head(self, turn: Turn) -> list[Frame]:
        where = {"item_id": f"msg_{turn.id}", "output_index": 0, "content_index": 0}
        return [
            self._event(turn, "response.created", response=self._response(turn, "in_progress")),
            self._event(turn, "response.in_progress", response=self._response(turn, "in_progress")),
            self._event(
                turn,
                "response.output_item.added",
                output_index=0,
                item=self._item(turn, "in_progress", None),
            ),
            self._event(turn, "response.content_part.added", **where, part=_part("")),
        ]

    def token(self, turn: Turn, text: str) -> list[Frame]:
        where = {"item_id": f"msg_{turn.id}", "output_index": 0, "content_index": 0}
        return [self._event(turn, "response.output_text.delta", **where, delta=text, logprobs=[])]

    def tail(self, turn: Turn) -> list[Frame]:
        text = turn.so_far
        where = {"item_id": f"msg_{turn.id}", "output_index": 0, "content_index": 0}
        item = self._item(turn, "completed", text)
        return [
            self._event(turn, "response.output_text.done", **where, text=text, logprobs=[]),
            self._event(turn, "response.content_part.done", **where, part=_part(text)),
            self._event(turn, "response.output_item.done", output_index=0, item=item),
            self._event(
                turn,
                "response.completed",
                response=self._response(
                    turn, "completed", output=[item], usage=_responses_usage(turn)
                ),
            ),
        ]

    def error_chunk(self, turn: Turn, message: str) -> list[Frame]:
        error = {"code": "server_error", "message": message}
        return [
            self._event(
                turn, "response.failed", response=self._response(turn, "failed", error=error)
            )
        ]

    def error_event(self, turn: Turn, message: str) -> list[Frame]:
        return [self._event(turn, "error", code="server_error", message=message, param=None)]

    def whole(self, turn: Turn, text: str) -> Any:
        item = self._item(turn, "completed", text)
        return self._response(turn, "completed", output=[item], usage=_responses_usage(turn))


def _part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _responses_usage(turn: Turn) -> dict[str, Any]:
    return {
        "input_tokens": turn.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": turn.tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": turn.prompt_tokens + turn.tokens,
    }

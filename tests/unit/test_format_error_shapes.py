"""In-band error shapes (nbstream._providers._common.error_delta), and chunks that are not errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nbstream._core.deltas import ErrorDelta, TextDelta
from nbstream._providers._common import error_delta
from nbstream._providers.registry import make_format
from nbstream._sse.event import ServerSentEvent

from .format_streams import events, run

STREAMS = Path(__file__).resolve().parents[1] / "data" / "streams"

# (chunk, message, code): the error shapes servers send inside an HTTP 200 stream.
ERRORS: list[tuple[dict[str, Any], str, str | None]] = [
    # OpenAI-style error object sent flat as a chunk: vLLM's ErrorResponse (code null) and a
    # Mistral-style string code (the colleague's probes p4_edges.py, p5.py).
    (
        {"object": "error", "message": "Input too long", "type": "invalid_request_error",
         "param": None, "code": None},
        "Input too long",
        "invalid_request_error",
    ),
    (
        {"object": "error", "message": "Service unavailable", "type": "service_unavailable",
         "param": None, "code": "1000"},
        "Service unavailable",
        "1000",
    ),
    # Dify's streamed error event (docs.dify.ai, chat-messages API, "event: error").
    (
        {"event": "error", "task_id": "t", "message_id": "m", "status": 400,
         "code": "invalid_param", "message": "Model quota exceeded"},
        "Model quota exceeded (status 400)",
        "invalid_param",
    ),
    ({"event": "error", "task_id": "t"}, '{"event": "error", "task_id": "t"}', None),
]  # fmt: skip

# Chunks with a "message", "event", "object" or "status" that are not errors.
NOT_ERRORS: list[dict[str, Any]] = [
    {"model": "llama3", "message": {"role": "assistant", "content": "Hi"}, "done": False},
    {"type": "message_start", "message": {"id": "msg_1", "type": "message", "content": []}},
    {"object": "chat.completion", "choices": [{"index": 0, "message": {"content": "OK"}}]},
    {"event": "message", "task_id": "t", "message_id": "m", "answer": "Hi"},
    {"event": "message_end", "task_id": "t", "status": 200, "message_id": "m"},
    {"event": "workflow_started", "data": {"status": "running"}},
    {"code": 0, "message": "ok", "data": "Hi"},
    {"object": "error", "message": {"role": "assistant", "content": "error"}},
    {"event": "error", "message": {"role": "assistant", "content": "Hi"}},
]


@pytest.mark.parametrize(("chunk", "message", "code"), ERRORS)
def test_error_shapes_keep_the_servers_message(
    chunk: dict[str, Any], message: str, code: str | None
) -> None:
    assert error_delta(chunk, 1.0) == ErrorDelta(message, code)


@pytest.mark.parametrize("chunk", NOT_ERRORS)
def test_chunks_that_are_not_errors(chunk: dict[str, Any]) -> None:
    assert error_delta(chunk, 0.0) is None


RECORDED = sorted(
    p.name
    for p in STREAMS.iterdir()
    if p.suffix in (".sse", ".ndjson")
    and not p.name.startswith("text_")  # raw text, no JSON events
    and not any(w in p.name for w in ("error", "overloaded", "failed", "malformed", "blocked"))
)


@pytest.mark.parametrize("name", RECORDED)
def test_no_event_of_a_recorded_stream_without_errors_is_an_error(name: str) -> None:
    objs = [json.loads(e.data) for e in events(name) if e.data.strip().startswith("{")]
    assert objs
    assert [o for o in objs if error_delta(o, 0.0) is not None] == []


def test_flat_error_object_fails_an_openai_chat_stream_keeping_the_text() -> None:
    chunk = {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": "Hi"}}],
    }
    error = ERRORS[0][0]
    _, reply = run(
        make_format("openai-chat"), [ServerSentEvent(data=json.dumps(o)) for o in (chunk, error)]
    )
    assert (reply.text, reply.status, reply.error) == ("Hi", "failed", "Input too long")


def test_dify_error_event_fails_a_json_stream() -> None:
    # Dify chat-messages streaming: "message" events with the answer, then an error event.
    message = {"event": "message", "task_id": "t", "message_id": "m", "answer": "Hi"}
    deltas, reply = run(
        make_format("json"),
        [ServerSentEvent(data=json.dumps(o)) for o in (message, ERRORS[2][0])],
    )
    assert TextDelta("Hi") in deltas
    assert (reply.text, reply.status) == ("Hi", "failed")
    assert reply.error == "Model quota exceeded (status 400)"

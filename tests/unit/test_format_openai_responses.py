"""The openai-responses format, from a llama.cpp recording and streams written from OpenAI's docs."""

from __future__ import annotations

from nbstream._core.deltas import ErrorDelta, Finish, Metadata, TextDelta, ToolCallDelta, Usage
from nbstream._core.reply import ToolCall
from nbstream._providers.openai_responses import OpenAIResponsesFormat
from nbstream._sse.decoder import ServerSentEvent

from .format_streams import body, events, run


def test_llamacpp_stream() -> None:
    fmt = OpenAIResponsesFormat()
    deltas, reply = run(fmt, events("llamacpp_responses.sse"))
    assert deltas[0] == Metadata(response_id="resp_cqEwbmB5HgmwNNrxOzTOXbAHFdohviiR")
    assert sum(isinstance(d, TextDelta) for d in deltas) == 8
    # output_text.done repeats the whole text: it must not be shown twice.
    assert reply.text == "Say hello mendatanguser\nSay hello mendatang"
    assert fmt.complete
    assert reply.status == "finished"
    assert reply.finish_reason == "completed"
    assert reply.usage == Usage(11, 8, 19)


def test_reasoning_summary_and_function_call() -> None:
    deltas, reply = run(OpenAIResponsesFormat(), events("responses_reasoning_tools.sse"))
    assert deltas[0] == Metadata(model="o4-mini", response_id="resp_1")
    assert reply.reasoning == "Plan"
    assert reply.text == "Done"
    assert reply.tool_calls == (ToolCall(0, "call_1", "lookup", '{"q":1}'),)
    assert reply.usage == Usage(9, 7, 16, 3)
    assert reply.status == "finished"


def test_incomplete_is_terminal_with_its_reason() -> None:
    fmt = OpenAIResponsesFormat()
    _, reply = run(fmt, events("responses_incomplete.sse"))
    assert fmt.complete
    assert reply.status == "finished"
    assert reply.finish_reason == "max_output_tokens"
    assert reply.text == "Long"


def test_failed_response_fails_and_keeps_text() -> None:
    deltas, reply = run(OpenAIResponsesFormat(), events("responses_failed.sse"))
    assert ErrorDelta("The model failed to generate a response.", "server_error") in deltas
    assert reply.status == "failed"
    assert reply.text == "Half"


def test_error_event() -> None:
    fmt = OpenAIResponsesFormat()
    deltas, reply = run(fmt, events("responses_error_event.sse"))
    assert deltas[-1] == ErrorDelta("Rate limit reached", "rate_limit_exceeded")
    assert reply.status == "failed"
    assert reply.text == "Some"


def test_stream_cut_before_completed_is_truncated() -> None:
    items = events("llamacpp_responses.sse")[:-1]
    _, reply = run(OpenAIResponsesFormat(), items)
    assert reply.status == "truncated"
    assert reply.text.startswith("Say hello")


def test_unknown_event_types_are_ignored() -> None:
    fmt = OpenAIResponsesFormat()
    data = '{"type":"response.web_search_call.searching","output_index":0}'
    assert fmt.feed(ServerSentEvent(event="response.web_search_call.searching", data=data)) == []


def test_non_streamed_body() -> None:
    fmt = OpenAIResponsesFormat()
    deltas = fmt.parse_body(body("llamacpp_responses_body.json"))
    assert TextDelta("Say hello mendatanguser\nSay hello mendatang") in deltas
    assert Finish("completed") in deltas
    assert Usage(11, 8, 19) in deltas


def test_non_streamed_body_with_reasoning_and_function_call() -> None:
    obj = {
        "id": "resp_9",
        "object": "response",
        "status": "completed",
        "output": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "why"}]},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "message", "content": [{"type": "output_text", "text": "hi"}]},
        ],
    }
    deltas = OpenAIResponsesFormat().parse_body(obj)
    assert ToolCallDelta(0, "c1", "f", "{}") in deltas
    assert TextDelta("hi") in deltas
    assert [d.text for d in deltas if d.kind == "reasoning"] == ["why"]

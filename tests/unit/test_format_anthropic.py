"""The anthropic format, from a llama.cpp recording and streams written from Anthropic's docs."""

from __future__ import annotations

import pytest

from nbstream._core.deltas import (
    ErrorDelta,
    Finish,
    Metadata,
    ServerToolCallDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from nbstream._core.reply import ServerToolCall, ToolCall
from nbstream._providers.anthropic import AnthropicFormat, result_summary

from .format_streams import body, events, run


def test_llamacpp_stream() -> None:
    fmt = AnthropicFormat()
    deltas, reply = run(fmt, events("llamacpp_anthropic.sse"))
    assert isinstance(deltas[0], Metadata)
    assert deltas[0].response_id == "chatcmpl-v6GeOVcTpF67xNEjviwtcBtNAPjp2U1Y"
    assert sum(isinstance(d, TextDelta) for d in deltas) == 8
    assert reply.text == "Say hello mendatanguser\nSay hello mendatang"
    assert fmt.complete
    assert reply.status == "finished"
    assert reply.finish_reason == "max_tokens"
    # Input tokens come with message_start, output tokens with message_delta.
    assert reply.usage == Usage(5, 8, 13)


def test_thinking_text_tool_use_and_ping() -> None:
    _, reply = run(AnthropicFormat(), events("anthropic_thinking_tools.sse"))
    assert reply.reasoning == "Let me see."
    assert reply.text == "Checking."
    assert reply.tool_calls == (ToolCall(0, "toolu_01", "get_weather", '{"location": "Paris"}'),)
    assert reply.finish_reason == "tool_use"
    assert reply.usage == Usage(25, 89, 114)
    assert reply.status == "finished"


def test_overloaded_error_after_partial_answer_is_never_complete() -> None:
    fmt = AnthropicFormat()
    deltas, reply = run(fmt, events("anthropic_overloaded.sse"))
    assert deltas[-1] == ErrorDelta("Overloaded", "overloaded_error")
    assert not fmt.complete
    assert reply.status == "failed"
    assert reply.error == "Overloaded"
    assert reply.text == "Partial answer"


def test_missing_message_stop_is_truncated() -> None:
    fmt = AnthropicFormat()
    _, reply = run(fmt, events("llamacpp_anthropic.sse")[:-1])
    assert reply.finish_reason == "max_tokens"
    assert reply.status == "truncated"


def test_non_streamed_body() -> None:
    fmt = AnthropicFormat()
    deltas = fmt.parse_body(body("llamacpp_anthropic_body.json"))
    assert fmt.complete
    assert TextDelta("Say hello mendatanguser\nSay hello mendatang") in deltas
    assert Finish("max_tokens") in deltas
    assert Usage(5, 8) in deltas


def test_non_streamed_tool_use_and_error_body() -> None:
    obj = {
        "id": "msg_1",
        "type": "message",
        "model": "claude",
        "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}],
        "stop_reason": "tool_use",
    }
    deltas = AnthropicFormat().parse_body(obj)
    assert ToolCallDelta(0, "t1", "f") in deltas
    assert ToolCallDelta(0, arguments='{"a": 1}') in deltas
    err = {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}
    assert AnthropicFormat().parse_body(err) == [ErrorDelta("bad", "invalid_request_error")]


def test_server_tools_are_shown_apart_never_as_client_calls() -> None:
    # Written from Anthropic's docs on server tools (web search, code execution) and the MCP
    # connector: server_tool_use / mcp_tool_use blocks, answered by *_tool_result blocks.
    deltas, reply = run(AnthropicFormat(), events("anthropic_server_tools.sse"))
    assert reply.tool_calls == (ToolCall(0, "toolu_1", "save_note", '{"text": "mild"}'),)
    assert reply.server_tool_calls == (
        ServerToolCall(
            0,
            "srvtoolu_1",
            "web_search",
            '{"query": "Oslo weather"}',
            "2 results: Oslo weather; Norway forecast",
        ),
        ServerToolCall(
            1, "mcptoolu_1", "ask_question", '{"repo": "encode/httpx"}', "httpx is an HTTP client."
        ),
        ServerToolCall(2, "srvtoolu_2", "code_execution", '{"code": "print(1+1)"}', "exit 0: 2"),
    )
    assert reply.text == "Mild, and 1+1 is 2."
    assert reply.usage == Usage(22397, 637, 23034)
    assert reply.finish_reason == "tool_use"
    assert reply.status == "finished"
    kinds = {d.kind for d in deltas}
    assert "server_tool_call" in kinds


def test_non_streamed_server_tool_blocks() -> None:
    obj = {
        "type": "message",
        "content": [
            {"type": "server_tool_use", "id": "s1", "name": "web_fetch", "input": {"url": "u"}},
            {
                "type": "web_fetch_tool_result",
                "tool_use_id": "s1",
                "content": {
                    "type": "web_fetch_tool_result_error",
                    "error_code": "url_not_accessible",
                },
            },
        ],
    }
    deltas = AnthropicFormat().parse_body(obj)
    assert [d for d in deltas if isinstance(d, ToolCallDelta)] == []
    assert ServerToolCallDelta(0, "s1", "web_fetch") in deltas
    assert ServerToolCallDelta(0, arguments='{"url": "u"}') in deltas
    assert ServerToolCallDelta(0, "s1", result="error: url_not_accessible") in deltas


@pytest.mark.parametrize(
    ("block", "summary"),
    [
        ({"content": "plain"}, "plain"),
        ({"content": [{"type": "text", "text": "a"}], "is_error": True}, "error: a"),
        (
            {
                "content": {
                    "type": "bash_code_execution_result",
                    "stdout": "",
                    "stderr": "boom",
                    "return_code": 1,
                }
            },
            "exit 1: boom",
        ),
        (
            {
                "content": {
                    "type": "web_fetch_result",
                    "url": "https://x.test",
                    "content": {"title": "X"},
                }
            },
            "https://x.test (X)",
        ),
        ({"content": []}, ""),
        ({}, ""),
    ],
)
def test_result_summary(block: dict[str, object], summary: str) -> None:
    assert result_summary(block) == summary

"""The delta model and Reply: accumulation, status rules, timings, reprs."""

from __future__ import annotations

import pytest

from nbstream import (
    CodeBlock,
    End,
    ErrorDelta,
    Finish,
    Metadata,
    Notice,
    ReasoningDelta,
    Reply,
    ReplyBuilder,
    Retry,
    ServerReportedError,
    ServerToolCall,
    ServerToolCallDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)


def build(*deltas: object, **kw: object) -> Reply:
    b = ReplyBuilder(started=100.0)
    for d in deltas:
        b.add(d)  # type: ignore[arg-type]
    return b.build(ended=110.0, **kw)  # type: ignore[arg-type]


def test_text_reasoning_and_metadata_accumulate() -> None:
    r = build(
        Metadata(model="m1", format="openai-chat", time=100.0),
        ReasoningDelta("think ", time=100.5),
        ReasoningDelta("hard", time=100.6),
        TextDelta("Hel", time=101.0),
        TextDelta("lo", time=102.0),
        Metadata(response_id="r-1"),
        Finish("stop", time=102.5),
        End(complete=True, time=103.0),
    )
    assert (r.text, r.reasoning) == ("Hello", "think hard")
    assert (r.model, r.response_id, r.format) == ("m1", "r-1", "openai-chat")
    assert (r.status, r.finish_reason, r.error) == ("finished", "stop", None)
    assert r.ok
    assert str(r) == "Hello"
    assert r.ttft == pytest.approx(0.5)
    assert r.duration == pytest.approx(10.0)
    assert r.arrivals[:3] == pytest.approx((0.0, 0.5, 0.6))


def test_status_rules() -> None:
    truncated = build(TextDelta("a"), End(complete=False))
    assert truncated.status == "truncated"
    assert truncated.error is not None
    assert "end marker" in truncated.error
    assert build(TextDelta("a")).status == "truncated"  # never ended
    failed = build(TextDelta("a"), ErrorDelta("overloaded", code="overloaded_error"), End(True))
    assert (failed.status, failed.error, failed.text) == ("failed", "overloaded", "a")
    cancelled = build(TextDelta("a"), status="cancelled", error="cancelled by user")
    assert (cancelled.status, cancelled.error, cancelled.text) == (
        "cancelled",
        "cancelled by user",
        "a",
    )


def test_first_error_is_kept() -> None:
    r = build(ErrorDelta("first"), ErrorDelta("second"))
    assert r.error == "first"


def test_raise_for_status() -> None:
    ok = build(TextDelta("a"), End(True))
    assert ok.raise_for_status() is ok
    with pytest.raises(ServerReportedError, match="overloaded"):
        build(ErrorDelta("overloaded"), End(True)).raise_for_status()
    boom = ValueError("boom")
    with pytest.raises(ValueError, match="boom"):
        build(status="failed", error="boom", exception=boom).raise_for_status()


def test_usage_merges_field_by_field() -> None:
    r = build(Usage(input_tokens=12), Usage(output_tokens=30), End(True))
    assert r.usage == Usage(input_tokens=12, output_tokens=30, total_tokens=42)
    assert r.output_tokens == 30


def test_tokens_per_s_from_usage_or_delta_count() -> None:
    deltas = [TextDelta("x", time=101.0 + i * 0.1) for i in range(11)]
    b = ReplyBuilder(started=100.0)
    for d in deltas:
        b.add(d)
    r = b.build(ended=102.0)
    assert r.content_deltas == 11
    assert r.tokens_per_s == pytest.approx(10 / 1.0)
    assert build().tokens_per_s is None


def test_tokens_per_s_when_everything_arrived_at_once_is_throughput() -> None:
    # A non-streamed (or buffered) answer: the span after the first token is ~0, so the rate
    # over it would be absurd; the whole request's throughput is what means something.
    b = ReplyBuilder(started=100.0)
    b.add(Metadata(streamed=False))
    b.add(TextDelta("whole answer", time=104.0))
    b.add(Usage(output_tokens=40))
    assert b.build(ended=104.0).tokens_per_s == pytest.approx(10.0)
    burst = ReplyBuilder(started=100.0)
    for i in range(30):
        burst.add(TextDelta("x", time=101.0 + i * 1e-5))
    assert burst.build(ended=101.0).tokens_per_s == pytest.approx(30.0)


def test_tool_call_fragments_assemble() -> None:
    r = build(
        ToolCallDelta(0, id="call_1", name="get_weather"),
        ToolCallDelta(0, arguments='{"city":'),
        ToolCallDelta(1, id="call_2", name="now"),
        ToolCallDelta(0, arguments=' "Oslo"}'),
        End(True),
    )
    assert r.tool_calls == (
        ToolCall(0, "call_1", "get_weather", '{"city": "Oslo"}'),
        ToolCall(1, "call_2", "now", ""),
    )


def test_server_tool_calls_assemble_apart_from_the_clients() -> None:
    r = build(
        ServerToolCallDelta(0, id="srv_1", name="web_search"),
        ToolCallDelta(0, id="call_1", name="f", arguments="{}"),
        ServerToolCallDelta(0, arguments='{"query":'),
        ServerToolCallDelta(0, arguments=' "Oslo"}'),
        ServerToolCallDelta(0, result="2 results: a; b"),
        End(True),
    )
    assert r.tool_calls == (ToolCall(0, "call_1", "f", "{}"),)
    assert r.server_tool_calls == (
        ServerToolCall(0, "srv_1", "web_search", '{"query": "Oslo"}', "2 results: a; b"),
    )
    assert ServerToolCallDelta(0).kind == "server_tool_call"


def test_buffered_detects_one_burst() -> None:
    burst = build(*(TextDelta("x", time=105.0 + i * 0.0001) for i in range(50)), End(True))
    paced = build(*(TextDelta("x", time=101.0 + i * 0.05) for i in range(50)), End(True))
    assert burst.buffered
    assert not paced.buffered
    not_streamed = build(
        Metadata(streamed=False), TextDelta("x", time=105.0), TextDelta("y", time=105.0)
    )
    assert not not_streamed.buffered
    assert not not_streamed.streamed


def test_equality_ignores_arrival_time_and_repr_omits_defaults() -> None:
    assert TextDelta("a", time=1.0) == TextDelta("a", time=2.0)
    assert repr(TextDelta("a", time=3.0)) == "TextDelta(text='a')"
    assert repr(Usage(output_tokens=3)) == "Usage(output_tokens=3)"
    assert repr(build(TextDelta("hi"), End(True))) == "Reply(text='hi')"


def test_builder_text_is_readable_while_streaming() -> None:
    b = ReplyBuilder()
    for piece in ("a", "b", "", "c"):
        b.add(TextDelta(piece))
        assert b.text.endswith(piece)
    assert b.text == "abc"


def test_code_blocks_are_the_answers_fenced_blocks_exactly() -> None:
    b = ReplyBuilder()
    for part in ["Run this:\n\n```py", "thon\nprint('$5')\n", "```\n\nthen\n\n~~~\nls -l\n~~~\n"]:
        b.add(TextDelta(part))
    reply = b.build()
    assert reply.code_blocks == (CodeBlock("python", "print('$5')"), CodeBlock("", "ls -l"))
    assert repr(reply.code_blocks[1]) == "CodeBlock(code='ls -l')"


def test_notes_say_each_notice_once_and_sum_up_the_retries() -> None:
    plain = build(TextDelta("a"), End(True))
    assert plain.notes == ()
    assert "notes" not in repr(plain)
    r = build(
        Retry(1, 2.0, "429 Too Many Requests"),
        Retry(2, 0.4, "the connection closed before the answer began"),
        Notice("repaired SSE framing: no blank line between events"),
        TextDelta("a"),
        Notice("repaired SSE framing: no blank line between events"),
        End(True),
    )
    assert r.status == "finished"
    assert r.notes == (
        "repaired SSE framing: no blank line between events",
        "retried twice: 429 Too Many Requests; the connection closed before the answer began",
    )
    once = build(Retry(1, 0.0, "503 Service Unavailable"), TextDelta("a"), End(True))
    assert once.notes == ("retried once: 503 Service Unavailable",)
    same = [Retry(i, 0.0, "502 Bad Gateway") for i in (1, 2, 3)]
    assert build(*same).notes == ("retried 3 times: 502 Bad Gateway",)


def test_retry_and_notice_deltas() -> None:
    retry = Retry(1, 2.6, "429 Too Many Requests", time=5.0)
    assert (retry.kind, retry.text) == ("retry", "retrying in 3 s: 429 Too Many Requests")
    assert Retry(1, 0.0, "x").text == "retrying now: x"
    assert retry == Retry(1, 2.6, "429 Too Many Requests", time=9.0)  # time is not compared
    assert repr(Notice("n")) == "Notice(text='n')"
    assert Notice("n").kind == "notice"


def test_a_reply_shows_itself_as_sanitized_markdown_over_its_status_line() -> None:
    import nbstream._view.render  # noqa: F401 - the view hands the reply its renderer

    r = build(
        Metadata(model="m1", time=100.0),
        TextDelta("**hi** <img src=x onerror=alert(1)>", time=101.0),
        End(True),
    )
    data, metadata = r._repr_mimebundle_()
    assert data["text/plain"] == repr(r)
    markdown = data["text/markdown"]
    assert "<strong>hi</strong>" in markdown
    assert "<img" not in markdown  # the model's HTML is shown as text, never run
    assert "&lt;img" in markdown
    assert markdown.endswith(
        "<p><small>✓ done · m1 · 1 tokens · first token 1.00 s · 10.0 s</small></p>\n"
    )
    assert metadata["nbstream"]["status"] == "finished"
    assert metadata["nbstream"]["model"] == "m1"


def test_the_status_line_is_escaped_in_the_bundle() -> None:
    import nbstream._view.render  # noqa: F401

    r = build(ErrorDelta("<script>x</script>", "e", time=101.0), End(True))
    markdown = r._repr_mimebundle_()[0]["text/markdown"]
    assert "<script>" not in markdown
    assert "&lt;script&gt;" in markdown


@pytest.mark.parametrize("reason", ["stop", "STOP", "end_turn", "completed", "COMPLETE"])
def test_a_natural_end_is_not_named_in_the_status_line(reason: str) -> None:
    from nbstream._core.reply import status_line

    assert "finish:" not in status_line(Reply(text="hi", finish_reason=reason))


@pytest.mark.parametrize("reason", ["length", "MAX_TOKENS", "content_filter", "SAFETY"])
def test_an_end_the_user_should_know_of_is_named(reason: str) -> None:
    from nbstream._core.reply import status_line

    assert f"finish: {reason}" in status_line(Reply(text="hi", finish_reason=reason))

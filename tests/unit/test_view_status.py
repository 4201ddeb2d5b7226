"""The status lines: the view's live one (a retry's wait counting down), the reply's final one."""

from __future__ import annotations

from nbstream import End, Notice, ReplyBuilder, Retry, TextDelta
from nbstream._core.reply import provenance, status_line
from nbstream._view.status import Progress


def test_a_retry_wait_counts_down_then_the_wait_for_the_first_token_resumes() -> None:
    progress = Progress(started=100.0)
    progress.retry = Retry(1, 3.0, "429 Too Many Requests", time=100.2)
    assert "retrying in 3 s: 429 Too Many Requests · 0.2 s" in progress.line(100.2)
    assert "retrying in 2 s: 429 Too Many Requests · 1.4 s" in progress.line(101.4)
    assert "retrying in 1 s" in progress.line(103.1)
    assert "waiting for the first token… 3.2 s" in progress.line(103.2)  # the wait is over
    progress.token(104.0)
    assert progress.line(105.0).startswith("<span>streaming · 1 tokens")


def test_the_final_line_and_the_provenance_carry_each_note_once() -> None:
    builder = ReplyBuilder(started=10.0, endpoint="127.0.0.1:8000")
    for delta in (
        Retry(1, 1.0, "503 Service Unavailable", time=10.1),
        Notice("repaired SSE framing: no line breaks between events", time=11.2),
        TextDelta("Hello", time=11.2),
        End(True, time=11.5),
    ):
        builder.add(delta)
    reply = builder.build(ended=11.5)
    line = status_line(reply, "demo backend")
    assert line.startswith("✓ done · 127.0.0.1:8000 · 1 tokens")
    assert line.endswith(
        " · repaired SSE framing: no line breaks between events"
        " · retried once: 503 Service Unavailable · demo backend"
    )
    assert line.count("repaired") == 1
    assert provenance(reply)["notes"] == [
        "repaired SSE framing: no line breaks between events",
        "retried once: 503 Service Unavailable",
    ]


def test_a_running_server_tool_shows_in_the_live_line_until_its_result() -> None:
    from nbstream._core.deltas import ServerToolCallDelta
    from nbstream._view.status import Progress

    progress = Progress(0.0)
    progress.token(0.5)
    progress.server_tool(ServerToolCallDelta(index=0, name="web_search"))
    progress.server_tool(ServerToolCallDelta(index=1, name="web_search"))
    progress.server_tool(ServerToolCallDelta(index=2, name="code_execution"))
    assert "running web_search, code_execution" in progress.line(2.0)
    for index in range(3):
        progress.server_tool(ServerToolCallDelta(index=index, result="done"))
    assert "running" not in progress.line(3.0)


def test_server_tool_calls_are_listed_cut_and_escaped() -> None:
    from nbstream._core.reply import ServerToolCall
    from nbstream._view.status import server_tools

    assert server_tools(()) == ("", "")
    program = "print('<script>')\n" * 100
    markup, text = server_tools(
        (
            ServerToolCall(index=0, name="code_execution", arguments=program),
            ServerToolCall(index=1, name="web_search", arguments="{}", result="3 results"),
        )
    )
    assert "2 tool calls run by the server" in markup
    assert "<script>" not in markup
    assert "(no result)" in markup
    assert "→ 3 results" in markup
    assert max(len(line) for line in text.splitlines()) < 200  # a program is cut, not pasted
    assert text.splitlines()[2] == "- web_search → 3 results"

"""Conversations: re-run replaces, cancelled turns are marked, failed turns are not sent."""

from __future__ import annotations

from nbstream._core.conversation import Conversation, Conversations, Turn


def _chat() -> Conversation:
    c = Conversation("work")
    c.record(Turn("q1", "a1", key="cell-1"))
    c.record(Turn("q2", "a2", key="cell-2"))
    c.record(Turn("q3", "a3", key="cell-3"))
    return c


def test_new_turn_sees_every_turn_after_the_system_prompt() -> None:
    msgs = _chat().messages("q4", key="cell-4", system="be brief")
    assert [m["content"] for m in msgs] == ["be brief", "q1", "a1", "q2", "a2", "q3", "a3", "q4"]
    assert [m["role"] for m in msgs[:3]] == ["system", "user", "assistant"]


def test_rerun_sees_only_turns_above_it_and_replaces_in_place() -> None:
    c = _chat()
    msgs = c.messages("q2 again", key="cell-2")
    assert [m["content"] for m in msgs] == ["q1", "a1", "q2 again"]
    c.record(Turn("q2 again", "a2'", key="cell-2"))
    assert [t.prompt for t in c.turns] == ["q1", "q2 again", "q3"]


def test_turns_without_a_cell_id_append() -> None:
    c = Conversation()
    c.record(Turn("a"))
    c.record(Turn("a"))
    assert len(c.turns) == 2


def test_cancelled_turn_keeps_partial_text_marked() -> None:
    c = Conversation()
    c.record(Turn("tell me", "Once upon a", status="cancelled", key="k"))
    answer = c.messages("go on")[1]["content"]
    assert answer.startswith("Once upon a")
    assert "cancelled" in answer


def test_failed_turn_is_not_sent_back() -> None:
    c = Conversation()
    c.record(Turn("q1", "a1"))
    c.record(Turn("q2", "", status="failed", error="HTTP 500"))
    assert [m["content"] for m in c.messages("q3")] == ["q1", "a1", "q3"]
    assert "not sent back" in c.render()


def test_named_chats_are_separate_and_reset() -> None:
    chats = Conversations()
    chats.get("a").record(Turn("x", "y"))
    assert chats.get("b").turns == []
    assert chats.names() == ["a", "b"]
    chats.reset("a")
    assert chats.get("a").turns == []
    chats.get("b").record(Turn("x"))
    chats.reset()
    assert chats.names() == []


def test_render_lists_turns() -> None:
    text = _chat().render()
    assert "3 turn(s)" in text
    assert "q2" in text
    assert "no turns yet" in Conversation().render()

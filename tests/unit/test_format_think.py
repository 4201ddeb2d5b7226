"""A leading <think>…</think> block is reasoning, in every format (nbstream._providers._think)."""

from __future__ import annotations

import json

import pytest

from nbstream._core.deltas import Delta, Finish, ReasoningDelta, TextDelta, Usage
from nbstream._providers._think import LeadingThink, ThinkTagFormat
from nbstream._providers.registry import FORMAT_NAMES, make_format
from nbstream._sse.event import ServerSentEvent

from .format_streams import events, run

R1 = "<think>\nTwo and two.\n</think>\n\nFour, not <think>five</think>."


def split(pieces: list[str]) -> tuple[str, str, list[Delta]]:
    """Feed text pieces one delta at a time; return (reasoning, text, deltas)."""
    think = LeadingThink()
    out: list[Delta] = []
    for piece in pieces:
        out.extend(think.feed([TextDelta(piece)]))
    out.extend(think.flush())
    reasoning = "".join(d.text for d in out if isinstance(d, ReasoningDelta))
    text = "".join(d.text for d in out if isinstance(d, TextDelta))
    return reasoning, text, out


def test_whole_block_in_one_piece() -> None:
    assert split([R1])[:2] == ("Two and two.", "Four, not <think>five</think>.")


@pytest.mark.parametrize("cut", range(1, len(R1)))
def test_cut_anywhere_in_two(cut: int) -> None:
    assert split([R1[:cut], R1[cut:]])[:2] == ("Two and two.", "Four, not <think>five</think>.")


def test_one_character_at_a_time_streams_the_reasoning_as_it_comes() -> None:
    reasoning, text, out = split(list(R1))
    assert (reasoning, text) == ("Two and two.", "Four, not <think>five</think>.")
    # Reasoning is passed on while it streams, not held to the end of the block.
    assert sum(isinstance(d, ReasoningDelta) for d in out) > 5


def test_blank_lines_before_the_tag_and_an_indented_answer() -> None:
    assert split(["\n  <think>x</think>", "\n\n    code"])[:2] == ("x", "    code")
    assert split(["<think>x</think> Same line."])[:2] == ("x", "Same line.")


def test_text_that_does_not_open_with_the_tag_is_passed_on_at_once() -> None:
    think = LeadingThink()
    assert think.feed([TextDelta("<b>bold")]) == [TextDelta("<b>bold")]
    assert think.feed([TextDelta("<think>later</think>")]) == [TextDelta("<think>later</think>")]
    assert split(["Hi <think>"])[:2] == ("", "Hi <think>")


def test_a_block_that_never_closes_is_all_reasoning() -> None:
    assert split(["<think>still thinking…", " </thi"])[:2] == ("still thinking… </thi", "")


def test_text_held_as_a_possible_tag_is_text_at_the_end() -> None:
    assert split(["  <thi"])[:2] == ("", "  <thi")
    assert split(["\n\n"])[:2] == ("", "\n\n")


def test_empty_block_and_other_deltas_in_order() -> None:
    think = LeadingThink()
    out = think.feed([TextDelta("<think>\n\n</think>\n\n"), Usage(1, 2), TextDelta("Yes")])
    out += think.feed([Finish("stop")])
    assert out == [Usage(1, 2), TextDelta("Yes"), Finish("stop")]


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_format_from_the_registry_splits(name: str) -> None:
    fmt = make_format(name)
    assert isinstance(fmt, ThinkTagFormat)
    assert fmt.name == name
    fmt.complete = True
    assert fmt.inner.complete


def test_openai_chat_stream_with_the_tag_cut_across_chunks() -> None:
    # An R1 distill behind vLLM without --reasoning-parser.
    deltas, reply = run(make_format("openai-chat"), events("openai_chat_think_tags.sse"))
    assert reply.reasoning == "Two and two make four."
    assert reply.text == "4, not <think>5</think>."
    assert reply.usage == Usage(9, 14, 23)
    first_text = next(i for i, d in enumerate(deltas) if isinstance(d, TextDelta))
    assert not any(isinstance(d, ReasoningDelta) for d in deltas[first_text:])


def test_ollama_generate_response_with_think_tags() -> None:
    _, reply = run(make_format("ollama"), events("ollama_generate_think.ndjson"))
    assert (reply.reasoning, reply.text) == ("A greeting.", "Hello!")
    assert reply.usage == Usage(6, 12, 18)
    assert reply.status == "finished"


def test_non_streamed_body() -> None:
    fmt = make_format("openai-chat")
    message = {"role": "assistant", "content": "<think>Hm.</think>\n\nYes."}
    deltas = fmt.parse_body(
        {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    )
    assert deltas == [ReasoningDelta("Hm."), TextDelta("Yes."), Finish("stop")]


# Gemini's OpenAI-compatible endpoint with include_thoughts (the colleague's probe, p4_edges.py),
# Bedrock's gpt-oss through its OpenAI-compatible API (probe p6.py), and <thinking> fine-tunes.
OTHER_TAGS = {
    "thought": "<thought>Plan it.</thought>Bonjour, <thought>x</thought>.",
    "reasoning": "<reasoning>Plan it.</reasoning>\n\nBonjour, <thought>x</thought>.",
    "thinking": " <thinking>\nPlan it.\n</thinking> Bonjour, <thought>x</thought>.",
}


@pytest.mark.parametrize("tag", sorted(OTHER_TAGS))
def test_every_tag_name_cut_anywhere(tag: str) -> None:
    text = OTHER_TAGS[tag]
    want = ("Plan it.", "Bonjour, <thought>x</thought>.")
    assert split([text])[:2] == want
    assert split(list(text))[:2] == want
    for cut in range(1, len(text)):
        assert split([text[:cut], text[cut:]])[:2] == want, cut


def test_only_the_opening_tags_closing_tag_ends_the_block() -> None:
    # "</think>" inside a <thought> block is reasoning, not the end of it.
    assert split(["<thought>a </think>b</thought>c"])[:2] == ("a </think>b", "c")
    assert split(["<reasoning>a</think>", "b"])[:2] == ("a</think>b", "")


def test_unknown_or_malformed_tags_are_text() -> None:
    for text in ("<thoughts>x</thoughts>y", "<reason>x</reason>y", "<think >x</think>y"):
        assert split([text])[:2] == ("", text)
    # "<think" could still become "<thinking>": held, then text once it cannot.
    assert split(["<think", "er>x"])[:2] == ("", "<thinker>x")


def test_gemini_compat_thought_chunks_through_openai_chat() -> None:
    # Shape from Gemini's OpenAI-compatible endpoint with include_thoughts (probe p4_edges.py).
    def chunk(delta: dict[str, object], finish: str | None = None) -> str:
        choice = {"delta": delta, "finish_reason": finish, "index": 0}
        return json.dumps({"choices": [choice], "model": "gemini-2.5-flash", "object": "x"})

    thought = {"google": {"thought": True}}
    fmt = make_format("openai-chat")
    deltas = [
        d
        for data in (
            chunk({"content": "<thought>Plan", "extra_content": thought}),
            chunk({"content": " it.", "extra_content": thought}),
            chunk({"content": "</thought>Bonjour"}),
            chunk({"content": " à vous"}),
            chunk({"role": "assistant"}, "stop"),
        )
        for d in fmt.feed(ServerSentEvent(data=data))
    ]
    deltas += fmt.finish()
    assert "".join(d.text for d in deltas if isinstance(d, ReasoningDelta)) == "Plan it."
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == "Bonjour à vous"
    assert Finish("stop") in deltas

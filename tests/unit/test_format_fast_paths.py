"""The readers' shortcuts for the usual event give exactly what reading the event in full gives.

The openai-chat reader takes a shortcut for the usual chunk (one choice, one piece of text or
reasoning, nothing else) and the openai-responses reader for the next text delta of the same
item; both are checked event by event against the full reading, on every stream recorded here
and, when it is present, on the corpus of real servers' streams
(``../shared/realworld-streams``), plus chunks written to sit just off the shortcut's edge.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nbstream._core.deltas import ReasoningDelta, TextDelta
from nbstream._providers.openai_chat import OpenAIChatFormat, _plain_piece
from nbstream._providers.openai_responses import OpenAIResponsesFormat
from nbstream._sse.decoder import ServerSentEvent, SSEDecoder

from .format_streams import DATA

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "realworld-streams"


def _recordings(fmt: str, prefix: str) -> list[Path]:
    """This repository's recordings of a format, and the corpus's when it is here."""
    found = sorted(DATA.glob(f"{prefix}*.sse"))
    if fmt == "openai-chat":
        found += sorted(DATA.glob("llamacpp_openai_chat*.sse"))
    if fmt == "openai-responses":
        found += sorted(DATA.glob("llamacpp_responses*.sse"))
    if CORPUS.is_dir():
        for sidecar in sorted(CORPUS.glob("*.json")):
            case = json.loads(sidecar.read_text(encoding="utf-8"))
            if case["format"] == fmt and case["body"].endswith(".sse"):
                found.append(CORPUS / case["body"])
    return found


def _events(path: Path) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    return [*decoder.decode(path.read_bytes()), *decoder.flush()]


def _objects(paths: list[Path]) -> list[Any]:
    out = []
    for path in paths:
        for event in _events(path):
            try:
                out.append(json.loads(event.data))
            except ValueError:
                continue
    return out


# Usual chunks that must take the shortcut, and chunks one step off it (each of which adds or
# changes something the full reading reads).
USUAL: list[dict[str, Any]] = [
    {"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None}]},
    {"choices": [{"delta": {"role": "assistant", "content": "a"}, "index": 0}], "usage": None},
    {"choices": [{"index": 0, "delta": {"content": None, "reasoning_content": "r"}}]},
    {"choices": [{"index": 0, "delta": {"reasoning": "r", "role": "assistant"}}]},
    # vLLM while it renames the field: both names, the same text (read once).
    {"choices": [{"index": 0, "delta": {"reasoning_content": "r", "reasoning": "r"}}]},
    {"choices": [{"index": 0, "delta": {"reasoning_content": 5, "reasoning": "r"}}]},
    # Together: the text repeated in the legacy field, and a null tool_calls.
    {
        "choices": [
            {"index": 0, "text": "a", "delta": {"token_id": 1, "content": "a", "tool_calls": None}}
        ]
    },
]
OFF_EDGE: list[Any] = [
    {"choices": [{"index": 0, "delta": {"content": ""}}]},
    {"choices": [{"index": 0, "delta": {"content": ""}, "text": "legacy"}]},
    {"choices": [{"index": 0, "delta": {"reasoning_content": "r"}, "text": "legacy"}]},
    {"choices": [{"index": 0, "delta": {"content": "a", "reasoning_content": "r"}}]},
    {"choices": [{"index": 0, "delta": {"content": "a", "refusal": "no"}}]},
    {"choices": [{"index": 0, "delta": {"content": "a", "tool_calls": [{"index": 0}]}}]},
    {
        "choices": [
            {"index": 0, "delta": {"reasoning_details": [{"type": "reasoning.text", "text": "r"}]}}
        ]
    },
    {"choices": [{"index": 0, "delta": {"content": [{"type": "text", "text": "a"}]}}]},
    {"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": "stop"}]},
    {"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": ""}]},
    {"choices": [{"index": 0, "delta": {"content": "a"}, "usage": {"prompt_tokens": 1}}]},
    {"choices": [{"index": 1, "delta": {"content": "a"}}]},
    {"choices": [{"index": 1, "delta": {"content": "b"}}, {"index": 0, "delta": {"content": "a"}}]},
    {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}},
    {"choices": [{"index": 0, "delta": {"content": "a"}}], "usage": {"prompt_tokens": 1}},
    {"choices": [{"index": 0, "delta": {"content": "a"}}], "x_groq": {"id": "x"}},
    {"choices": [{"index": 0, "delta": {"content": "a"}}], "error": {"message": "boom"}},
    {"choices": [{"index": 0, "delta": {"content": "a"}}], "error": ""},
    {"choices": [{"index": 0, "delta": {"content": "a"}}], "code": 500, "msg": "boom"},
    {"choices": [{"index": 0, "delta": None}]},
    {"choices": [{"index": 0, "delta": {"content": 7}}]},
    {"choices": [None]},
    {"choices": {"index": 0}},
]


def _full(obj: Any, time: float) -> list[Any]:
    """What the full reading gives for a chunk, after the first (metadata) chunk."""
    fmt = OpenAIChatFormat()
    fmt._meta_sent = True
    return fmt._chunk(obj, time, streamed=True)


def test_openai_chat_shortcut_agrees_with_the_full_reading() -> None:
    paths = _recordings("openai-chat", "openai_chat")
    chunks = [obj for obj in _objects(paths) if isinstance(obj, dict)]
    taken = 0
    for obj in [*chunks, *USUAL, *OFF_EDGE]:
        fast = _plain_piece(obj, 1.5)
        if fast is not None:
            taken += 1
            [full] = _full(obj, 1.5)
            assert fast == full, obj
            assert type(fast) is type(full), obj
            assert fast.time == 1.5
    assert taken > len(chunks) // 2  # the shortcut is the usual way, not a curiosity
    for obj in USUAL:
        assert _plain_piece(obj, 0.0) is not None, obj
    for obj in OFF_EDGE:
        assert _plain_piece(obj, 0.0) is None, obj


def test_openai_chat_shortcut_gives_the_delta_types() -> None:
    assert _plain_piece(USUAL[0], 2.0) == TextDelta("a")
    assert isinstance(_plain_piece(USUAL[2], 2.0), ReasoningDelta)


def test_openai_chat_named_error_event_is_never_a_shortcut() -> None:
    fmt = OpenAIChatFormat()
    first = json.dumps({"id": "c", "model": "m", "choices": []})
    usual = json.dumps(USUAL[0])
    fmt.feed(ServerSentEvent(data=first))
    assert fmt.feed(ServerSentEvent(data=usual)) == [TextDelta("a")]
    out = fmt.feed(ServerSentEvent(event="error", data=usual))
    assert out[0] == TextDelta("a")
    assert "error" in out[1].kind


class _FullResponses(OpenAIResponsesFormat):
    """The Responses reader with its shortcut never taken: every event read in full."""

    def feed(self, item: Any) -> list[Any]:
        self._text_run = None
        return super().feed(item)


def _responses_runs() -> list[list[ServerSentEvent]]:
    runs = [_events(p) for p in _recordings("openai-responses", "responses")]

    # Written to sit off the shortcut's edge: the same item at another position, another item,
    # an item named only by position, a delta that is not text, events in between.
    def event(obj: dict[str, Any]) -> ServerSentEvent:
        return ServerSentEvent(event=obj["type"], data=json.dumps(obj), time=float(len(obj)))

    delta = "response.output_text.delta"
    runs.append(
        [
            event({"type": delta, "item_id": "m1", "output_index": 0, "delta": "a"}),
            event({"type": delta, "item_id": "m1", "output_index": 0, "delta": "b"}),
            event({"type": delta, "item_id": "m1", "output_index": 1, "delta": "c"}),
            event({"type": delta, "item_id": "m2", "output_index": 1, "delta": "d"}),
            event({"type": delta, "output_index": 1, "delta": "e"}),
            event({"type": delta, "output_index": 1, "delta": "f"}),
            event({"type": delta, "item_id": "m2", "output_index": 1, "delta": 5}),
            event({"type": delta, "item_id": "m2", "output_index": 1, "delta": ""}),
            event({"type": "response.output_text.done", "item_id": "m2", "text": "def"}),
            event({"type": delta, "item_id": "m2", "output_index": 1, "delta": "g"}),
            event(
                {"type": "response.refusal.delta", "item_id": "m2", "output_index": 1, "delta": "h"}
            ),
            event({"type": delta, "item_id": "#0", "delta": "i"}),
            event({"type": delta, "item_id": "#0", "delta": "j"}),
            event(
                {
                    "type": "response.output_item.done",
                    "item": {
                        "id": "m1",
                        "type": "message",
                        "content": [{"type": "output_text", "text": "abc"}],
                    },
                }
            ),
        ]
    )
    # A text delta at a new position teaches which item that position is: an event naming
    # only the position, and the done event of that item, depend on it.
    runs.append(
        [
            event({"type": delta, "item_id": "m1", "output_index": 0, "delta": "a"}),
            event({"type": delta, "item_id": "m1", "output_index": 0, "delta": "b"}),
            event({"type": delta, "item_id": "m1", "output_index": 1, "delta": "c"}),
            event({"type": "response.reasoning_text.delta", "output_index": 1, "delta": "r"}),
            event({"type": "response.reasoning_text.done", "item_id": "m1", "text": "rx"}),
        ]
    )
    return runs


@pytest.mark.parametrize("run", range(len(_responses_runs())))
def test_openai_responses_shortcut_agrees_with_the_full_reading(run: int) -> None:
    events = _responses_runs()[run]
    fast, full = OpenAIResponsesFormat(), _FullResponses()
    for item in events:
        got, want = fast.feed(item), full.feed(item)
        assert got == want, item
        assert [d.time for d in got] == [d.time for d in want]
    assert fast.complete == full.complete
    assert fast._shown == full._shown

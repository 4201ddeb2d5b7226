"""The json (field path, delta/cumulative) and text formats, for home-made servers."""

from __future__ import annotations

import pytest

from nbstream._core.deltas import ErrorDelta, TextDelta
from nbstream._providers._think import ThinkTagFormat
from nbstream._providers.json_path import JsonPathFormat, guess_path
from nbstream._providers.registry import choose_format
from nbstream._providers.text import TextFormat
from nbstream._sse.decoder import ServerSentEvent, SSEDecoder

from .format_streams import events, run


def _feed(fmt: JsonPathFormat, *datas: str) -> list[str]:
    out: list[str] = []
    for data in datas:
        out.extend(d.text for d in fmt.feed(ServerSentEvent(data=data)) if isinstance(d, TextDelta))
    return out


def test_echo_server_chunks_with_guessed_path() -> None:
    fmt = JsonPathFormat()
    deltas, reply = run(fmt, events("json_echo.sse"))
    assert fmt.path == "chunk"
    assert deltas == [TextDelta("e"), TextDelta("ch"), TextDelta("o")]
    assert reply.text == "echo"
    # No terminal marker exists for such servers: an orderly end is complete.
    assert reply.status == "finished"


def test_sider_style_nested_path_and_done_without_space() -> None:
    fmt = JsonPathFormat("data.text", "delta")
    _, reply = run(fmt, events("json_sider.sse"))
    assert reply.text == "Hello"
    assert reply.status == "finished"


def test_sider_style_error_code() -> None:
    deltas, reply = run(JsonPathFormat("data.text"), events("json_sider_error.sse"))
    assert deltas[-1] == ErrorDelta("quota exceeded", "1001")
    assert reply.status == "failed"
    assert reply.text == "Hel"


def test_cumulative_server_detected_automatically() -> None:
    fmt = JsonPathFormat()
    deltas, reply = run(fmt, events("json_chatglm_cumulative.sse"))
    assert fmt.mode == "cumulative"
    assert [d.text for d in deltas if isinstance(d, TextDelta)] == ["你", "好", "\uff01"]
    assert reply.text == "你好\uff01"


@pytest.mark.parametrize(
    ("mode", "datas", "expected"),
    [
        ("delta", ['{"t":"ab"}', '{"t":"abc"}'], ["ab", "abc"]),
        ("cumulative", ['{"t":"ab"}', '{"t":"abc"}', '{"t":"abcd"}'], ["ab", "c", "d"]),
        ("auto", ['{"t":"He"}', '{"t":"llo"}', '{"t":"Hello"}'], ["He", "llo", "Hello"]),
        # A rewritten tail cannot be taken back: only what lies beyond is new.
        ("cumulative", ['{"t":"a\\ufffd"}', '{"t":"a\\u00e9b"}'], ["a\ufffd", "b"]),
    ],
)
def test_modes(mode: str, datas: list[str], expected: list[str]) -> None:
    fmt = JsonPathFormat("t", mode)  # type: ignore[arg-type]
    assert _feed(fmt, *datas) == expected


def test_list_index_path_events_without_field_and_bare_strings() -> None:
    fmt = JsonPathFormat("choices.0.text", "delta")
    assert _feed(fmt, '{"choices":[{"text":"x"}]}', '{"ping":1}', '{"choices":[]}') == ["x"]
    assert _feed(JsonPathFormat(mode="delta"), '"e"', '"f"') == ["e", "f"]


def test_malformed_json_event_is_an_error_delta() -> None:
    deltas = JsonPathFormat("t").feed(ServerSentEvent(data="{nope"))
    assert len(deltas) == 1
    assert isinstance(deltas[0], ErrorDelta)


def test_guess_path_order() -> None:
    assert guess_path({"data": {"text": "x"}, "code": 0}) == "data.text"
    assert guess_path({"choices": [{"delta": {"content": "x"}}]}) == "choices.0.delta.content"
    assert guess_path({"n": 1}) is None
    # Gemini's native stream (streamGenerateContent?alt=sse), as its API reference shows it.
    gemini = {"candidates": [{"content": {"parts": [{"text": "x"}], "role": "model"}}]}
    assert guess_path(gemini) == "candidates.0.content.parts.0.text"


# Streams whose text sits in a nested field that no usual name reaches. With format="auto" and
# no json_path they used to read as an empty, "finished" answer: the path must be guessed.
# Cohere v2 chat streaming: content-delta events carry delta.message.content.text
# (https://docs.cohere.com/v2/docs/streaming).
COHERE_V2 = """\
event: message-start
data: {"id":"29f14a5a","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}

event: content-start
data: {"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}

event: content-delta
data: {"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hello"}}}}

event: content-delta
data: {"type":"content-delta","index":0,"delta":{"message":{"content":{"text":" world"}}}}

event: content-end
data: {"type":"content-end","index":0}

event: message-end
data: {"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":5,"output_tokens":2},"tokens":{"input_tokens":71,"output_tokens":2}}}}

"""
# Hugging Face TGI /generate_stream: each event's token.text (TextGenerationStreamOutput,
# https://huggingface.co/docs/huggingface.js/inference/interfaces/TextGenerationStreamOutput).
TGI_GENERATE_STREAM = """\
data:{"index":1,"token":{"id":18102,"text":" Ray","logprob":-0.3,"special":false},"generated_text":null,"details":null}

data:{"index":2,"token":{"id":29880,"text":"leigh","logprob":-0.01,"special":false},"generated_text":null,"details":null}

data:{"index":3,"token":{"id":22497,"text":" scattering","logprob":-0.2,"special":false},"generated_text":" Rayleigh scattering","details":{"finish_reason":"length","generated_tokens":3,"seed":null,"input_length":7}}

"""


@pytest.mark.parametrize(
    ("stream", "path", "text"),
    [
        (COHERE_V2, "delta.message.content.text", "Hello world"),
        (TGI_GENERATE_STREAM, "token.text", " Rayleigh scattering"),
    ],
    ids=["cohere-v2", "tgi-generate-stream"],
)
def test_nested_text_field_found_without_a_path(stream: str, path: str, text: str) -> None:
    decoder = SSEDecoder()
    items = [*decoder.decode(stream.encode()), *decoder.flush()]
    fmt = choose_format("auto", api="custom", first=items[0])
    _, reply = run(fmt, items)
    assert fmt.name == "json"
    assert isinstance(fmt, ThinkTagFormat)
    assert isinstance(fmt.inner, JsonPathFormat)
    assert fmt.inner.path == path
    assert reply.text == text
    assert reply.status == "finished"


def test_text_format_fastapi_stream() -> None:
    fmt = TextFormat()
    deltas, reply = run(fmt, events("text_fastapi.sse"))
    assert deltas == [TextDelta("你"), TextDelta("好"), TextDelta("\uff01")]
    assert reply.text == "你好\uff01"
    assert reply.status == "finished"


def test_text_format_done_marker_and_body() -> None:
    fmt = TextFormat()
    assert fmt.feed(ServerSentEvent(data="[DONE]")) == []
    assert fmt.complete
    assert fmt.feed(ServerSentEvent(data="late")) == []
    assert TextFormat().parse_body("whole") == [TextDelta("whole")]


# Replicate's stream, as its docs show it (https://replicate.com/docs/topics/predictions/
# streaming): "output" events of raw text, then "done" with {} (or {"reason": …}); a failure
# is an "error" event with {"detail": …} before "done".
def _replicate(*events: tuple[str, str]) -> list[ServerSentEvent]:
    return [ServerSentEvent(event=name, data=data) for name, data in events]


def test_text_format_ends_at_a_done_event_without_showing_it() -> None:
    fmt = TextFormat()
    stream = _replicate(("output", "Hello"), ("output", " world"), ("done", "{}"))
    deltas, reply = run(fmt, [*stream, ServerSentEvent(data="late")])
    assert deltas == [TextDelta("Hello"), TextDelta(" world")]
    assert (reply.text, reply.status) == ("Hello world", "finished")
    assert fmt.complete


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            '{"detail": "Prediction failed: CUDA out of memory"}',
            "Prediction failed: CUDA out of memory",
        ),
        ('{"error": {"message": "overloaded", "type": "server_error"}}', "overloaded"),
        ("model crashed", "the server reported an error: model crashed"),
        ("", "the server reported an error: (no details)"),
    ],
)
def test_text_format_error_event_fails_with_the_servers_message(data: str, message: str) -> None:
    stream = _replicate(("output", "Hel"), ("error", data), ("done", '{"reason": "error"}'))
    _, reply = run(TextFormat(), stream)
    assert (reply.text, reply.status, reply.error) == ("Hel", "failed", message)


def test_text_format_a_canceled_prediction_is_not_a_finished_answer() -> None:
    _, reply = run(TextFormat(), _replicate(("output", "Hel"), ("done", '{"reason": "canceled"}')))
    assert (reply.text, reply.status) == ("Hel", "failed")
    assert reply.error == "the server canceled the prediction"

"""The gemini provider (Google's native generateContent API), written from Google's API reference.

The fixtures (tests/data/streams/gemini_*) follow the documented ``GenerateContentResponse``
stream (``streamGenerateContent?alt=sse``): text and ``"thought": true`` parts, ``functionCall``
parts, ``finishReason``, ``usageMetadata``, ``promptFeedback.blockReason`` and the error shape.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbstream import Endpoint, Reply, astream
from nbstream._core.deltas import (
    ErrorDelta,
    Finish,
    Metadata,
    ReasoningDelta,
    ServerToolCallDelta,
    TextDelta,
    Usage,
)
from nbstream._core.errors import ConfigError
from nbstream._core.reply import ServerToolCall, ToolCall
from nbstream._engine.engine import prepare_request
from nbstream._providers.gemini import GeminiFormat
from nbstream._providers.registry import choose_format, sniff_body, sniff_event
from nbstream._providers.request import as_messages, build_body, build_headers, endpoint_url
from nbstream._sse.decoder import ServerSentEvent

from .format_streams import DATA, body, events, run

KEY = "AIzaSy-test-0123456789abcdefghijklmnop"
BASE = "https://generativelanguage.googleapis.com/v1beta"
STREAMS = [
    "gemini_thinking.sse",
    "gemini_function_calls.sse",
    "gemini_prompt_blocked.sse",
    "gemini_safety_stop.sse",
    "gemini_error.sse",
]


def _event(obj: object) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(obj))


# --- the answer ----------------------------------------------------------------------------


def test_thought_parts_are_reasoning_and_usage_counts_them_as_output() -> None:
    fmt = GeminiFormat()
    deltas, reply = run(fmt, events("gemini_thinking.sse"))
    assert deltas[0] == Metadata(model="gemini-2.5-flash", response_id="mKyIaN7yH9adz7IPu8OI4Qg")
    assert reply.reasoning.startswith("**Counting the letters**\n\nI spell out")
    assert reply.text == 'There are **three** r\'s in "strawberry".'
    assert reply.finish_reason == "STOP"
    # candidatesTokenCount (11) leaves the thoughts (122) out; totalTokenCount has both.
    assert reply.usage == Usage(9, 133, 142, 122)
    assert fmt.complete
    assert reply.status == "finished"


def test_usage_repeated_by_every_chunk_is_reported_when_it_changes() -> None:
    deltas, _ = run(GeminiFormat(), events("gemini_thinking.sse"))
    assert [d for d in deltas if isinstance(d, Usage)] == [
        Usage(9, 122, 131, 122),
        Usage(9, 133, 142, 122),
    ]


def test_function_call_parts_are_whole_tool_calls() -> None:
    _, reply = run(GeminiFormat(), events("gemini_function_calls.sse"))
    assert reply.text == "Let me look that up."
    assert reply.tool_calls == (
        ToolCall(0, "", "get_weather", '{"city": "Paris", "unit": "celsius"}'),
        ToolCall(1, "call-2", "get_time", '{"timezone": "Europe/Paris"}'),
    )
    assert reply.finish_reason == "STOP"
    assert reply.usage == Usage(58, 27, 85)
    assert reply.status == "finished"


def test_a_blocked_prompt_is_an_error_naming_the_reason() -> None:
    fmt = GeminiFormat()
    deltas, reply = run(fmt, events("gemini_prompt_blocked.sse"))
    assert ErrorDelta("Gemini blocked the prompt (SAFETY); rephrase it", "SAFETY") in deltas
    assert fmt.complete  # no candidates follow a block
    assert reply.status == "failed"
    assert "blocked the prompt (SAFETY)" in str(reply.error)
    assert reply.text == ""
    assert reply.usage == Usage(12, None, 12)


def test_a_block_message_is_kept() -> None:
    feedback = {"blockReason": "PROHIBITED_CONTENT", "blockReasonMessage": "Not allowed."}
    deltas = GeminiFormat().feed(_event({"promptFeedback": feedback}))
    assert deltas == [
        ErrorDelta(
            "Gemini blocked the prompt (PROHIBITED_CONTENT): Not allowed.; rephrase it",
            "PROHIBITED_CONTENT",
        )
    ]


def test_an_answer_stopped_for_safety_keeps_its_text_and_says_why() -> None:
    _, reply = run(GeminiFormat(), events("gemini_safety_stop.sse"))
    assert reply.text == "Here is how the"
    assert reply.finish_reason == "SAFETY"
    assert reply.status == "finished"  # the server ended it on purpose, as with content_filter


def test_an_error_mid_stream_fails_and_keeps_the_text() -> None:
    deltas, reply = run(GeminiFormat(), events("gemini_error.sse"))
    assert ErrorDelta("The model is overloaded. Please try again later.", "UNAVAILABLE") in deltas
    assert reply.text == "Partial"
    assert reply.status == "failed"


def test_a_stream_without_its_finish_reason_is_truncated() -> None:
    fmt = GeminiFormat()
    _, reply = run(fmt, events("gemini_thinking.sse")[:-1])
    assert not fmt.complete
    assert reply.status == "truncated"
    assert reply.text == "There are **three**"


def test_malformed_json_is_an_error_delta() -> None:
    [delta] = GeminiFormat().feed(ServerSentEvent(data='{"candidates": [{"content": '))
    assert isinstance(delta, ErrorDelta)
    assert delta.code == "malformed_event"


def test_only_the_first_candidate_is_the_answer() -> None:
    chunk = {
        "candidates": [
            {"content": {"parts": [{"text": "other"}]}, "index": 1},
            {"content": {"parts": [{"text": "first"}]}, "index": 0, "finishReason": "STOP"},
        ]
    }
    assert GeminiFormat().feed(_event(chunk)) == [TextDelta("first"), Finish("STOP")]


def test_an_unspecified_finish_reason_is_no_finish() -> None:
    fmt = GeminiFormat()
    chunk = {
        "candidates": [
            {"content": {"parts": [{"text": "x"}]}, "finishReason": "FINISH_REASON_UNSPECIFIED"}
        ]
    }
    assert fmt.feed(_event(chunk)) == [TextDelta("x")]
    assert not fmt.complete


def test_code_execution_parts_are_server_tool_calls() -> None:
    parts = [
        {"text": "Let me compute it."},
        {"executableCode": {"language": "PYTHON", "code": "print(2**10)"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1024\n"}},
        {"text": "It is 1024."},
    ]
    chunk = {"candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP"}]}
    deltas, reply = run(GeminiFormat(), [_event(chunk)])
    assert ServerToolCallDelta(0, result="ok: 1024") in deltas
    assert reply.server_tool_calls == (
        ServerToolCall(
            0, "", "code_execution", '{"language": "PYTHON", "code": "print(2**10)"}', "ok: 1024"
        ),
    )
    assert reply.text == "Let me compute it.It is 1024."


def test_a_whole_answer_body() -> None:
    fmt = GeminiFormat()
    deltas = fmt.parse_body(body("gemini_body.json"), time=1.0)
    assert deltas[:3] == [
        Metadata(model="gemini-2.5-flash", response_id="cm8PaKOtHI-4z7IPvc-8mQo"),
        ReasoningDelta("Planning a short poem."),
        TextDelta("Roses are red,\nviolets"),
    ]
    assert Finish("MAX_TOKENS") in deltas
    assert Usage(6, 58, 64, 50) in deltas
    assert fmt.complete


def test_a_json_array_body_is_read_chunk_by_chunk() -> None:
    # streamGenerateContent without alt=sse: one JSON array, read whole by the transport.
    chunks = [json.loads(e.data) for e in events("gemini_thinking.sse")]
    assert sniff_body(chunks) == "gemini"
    deltas = choose_format("auto", api="custom", body=chunks).parse_body(chunks)
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == (
        'There are **three** r\'s in "strawberry".'
    )


def test_an_error_body_is_an_error() -> None:
    error = {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}
    assert GeminiFormat().parse_body(error) == [
        ErrorDelta("API key not valid.", "INVALID_ARGUMENT")
    ]


# --- format="auto" ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", STREAMS)
def test_auto_recognises_gemini_whatever_the_api(name: str) -> None:
    first = events(name)[0]
    assert sniff_event(first) == "gemini"
    for api in ("openai-chat", "custom", "gemini"):
        assert choose_format("auto", api=api, first=first).name == "gemini"


def test_an_error_first_falls_back_on_the_gemini_api() -> None:
    first = events("gemini_error.sse")[1]
    assert sniff_event(first) is None
    assert choose_format("auto", api="gemini", first=first).name == "gemini"
    assert sniff_body(body("gemini_body.json")) == "gemini"


# --- the request -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "model", "stream", "url"),
    [
        (
            BASE,
            "gemini-2.5-flash",
            True,
            f"{BASE}/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        ),
        (
            BASE + "/",
            "models/gemini-2.5-flash",
            False,
            f"{BASE}/models/gemini-2.5-flash:generateContent",
        ),
        (
            "https://generativelanguage.googleapis.com",
            "gemini-2.0-flash",
            True,
            f"{BASE}/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
        ),
        (
            BASE,
            "tunedModels/my-model-1",
            True,
            f"{BASE}/tunedModels/my-model-1:streamGenerateContent?alt=sse",
        ),
        (
            f"{BASE}/models/gemini-2.5-pro:streamGenerateContent",
            None,
            True,
            f"{BASE}/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
        ),
        (
            "http://127.0.0.1:8000/v1?trace=1",
            "demo",
            True,
            "http://127.0.0.1:8000/v1/models/demo:streamGenerateContent?trace=1&alt=sse",
        ),
        (
            "http://h/v1beta?alt=json",
            "m",
            True,
            "http://h/v1beta/models/m:streamGenerateContent?alt=json",
        ),
    ],
)
def test_url_names_the_model_and_the_method(
    base: str, model: str | None, stream: bool, url: str
) -> None:
    assert endpoint_url("gemini", base, model, stream) == url


def test_the_url_needs_a_model() -> None:
    with pytest.raises(ConfigError, match="names the model in its URL"):
        endpoint_url("gemini", BASE)
    Endpoint(BASE, "gemini")  # the endpoint may get its model later: no error yet


def test_the_key_travels_in_x_goog_api_key() -> None:
    assert build_headers("gemini", KEY) == {"x-goog-api-key": KEY}
    assert build_headers("gemini", None) == {}


def test_body_contents_roles_system_instruction_and_generation_config() -> None:
    messages = as_messages(
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Name a colour."},
        ],
        system="Be brief",
    )
    built = build_body(
        "gemini", messages, model="m", temperature=0.2, max_tokens=30, params={"seed": 1}
    )
    assert built == {
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Hello!"}]},
            {"role": "user", "parts": [{"text": "Name a colour."}]},
        ],
        "systemInstruction": {"parts": [{"text": "Be brief"}]},
        "generationConfig": {"temperature": 0.2, "maxOutputTokens": 30},
        "seed": 1,
    }
    # The model and the stream flag are in the URL, never in the body.
    assert build_body("gemini", as_messages("x"), stream=False) == {
        "contents": [{"role": "user", "parts": [{"text": "x"}]}]
    }


def test_image_and_text_parts_take_gemini_shapes() -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
        {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
    ]
    [turn] = build_body("gemini", [{"role": "user", "content": content}])["contents"]
    assert turn["parts"] == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"fileData": {"fileUri": "https://example.com/cat.jpg"}},
        {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
    ]
    native = {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]}
    assert build_body("gemini", [native])["contents"] == [native]


def test_dry_run_masks_the_key_and_the_key_is_bound_to_its_host() -> None:
    req = prepare_request("Hi", base_url=BASE, api="gemini", model="gemini-2.5-flash", api_key=KEY)
    assert req.url == f"{BASE}/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert req.headers == {"x-goog-api-key": "***"}
    assert KEY not in str(req)
    assert KEY not in req.as_curl()
    ep = Endpoint(BASE, "gemini", headers={"x-goog-api-key": KEY})
    assert KEY not in repr(ep)
    assert "x-goog-api-key" not in ep.replace(base_url="https://elsewhere.test/v1beta").headers
    with pytest.raises(ConfigError, match="key is for generativelanguage"):
        prepare_request("x", endpoint=ep, model="m", base_url="https://elsewhere.test/v1beta")


async def _astream(
    respond: Callable[[httpx.Request], httpx.Response], prompt: str = "Hi", **kwargs: Any
) -> Reply:
    """Stream ``prompt`` with ``api="gemini"`` from a MockTransport answering with ``respond``."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(respond)) as client:
        stream = astream(prompt, base_url=BASE, api="gemini", client=client, **kwargs)
        async for _ in stream:
            pass
    return stream.reply


async def test_astream_sends_the_gemini_request_and_reads_the_answer() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        content = (DATA / "gemini_thinking.sse").read_bytes()
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=content)

    prompt = "How many r's in strawberry?"
    reply = await _astream(answer, prompt, model="gemini-2.5-flash", api_key=KEY, max_tokens=256)
    [request] = seen
    assert str(request.url) == f"{BASE}/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert request.headers["x-goog-api-key"] == KEY
    assert "authorization" not in request.headers
    assert json.loads(request.content) == {
        "contents": [{"role": "user", "parts": [{"text": prompt}]}],
        "generationConfig": {"maxOutputTokens": 256},
    }
    assert reply.format == "gemini"
    assert reply.status == "finished"
    assert reply.text == 'There are **three** r\'s in "strawberry".'
    assert reply.reasoning.startswith("**Counting the letters**")


async def test_a_whole_answer_through_generate_content() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith(":generateContent")
        return httpx.Response(200, json=body("gemini_body.json"))

    reply = await _astream(answer, model="m", stream=False)
    assert reply.format == "gemini"
    assert reply.finish_reason == "MAX_TOKENS"
    assert reply.text == "Roses are red,\nviolets"
    assert not reply.streamed


# --- a stream Gemini really sent -------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "realworld-streams"
RECORDED = CORPUS / "gemini-native_flash_path.json"


@pytest.mark.parametrize("format", ["gemini", "auto"])
async def test_the_recorded_gemini_stream_through_the_gemini_provider(format: str) -> None:
    if not RECORDED.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{RECORDED} is missing: CI must run the recorded streams")
        pytest.skip(f"the recorded streams are not here ({CORPUS})")
    case = json.loads(RECORDED.read_text(encoding="utf-8"))
    data = (CORPUS / case["body"]).read_bytes()

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 7):  # events, JSON and UTF-8 cut everywhere
            yield data[start : start + 7]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": case["content_type"]}, content=pieces())

    reply = await _astream(answer, model="gemini-2.0-flash-exp", format=format)
    assert reply.format == "gemini"
    assert reply.text == case["expected"]["text"]
    assert reply.status == case["expected"]["status"]
    assert reply.finish_reason == "STOP"
    assert reply.usage == Usage(13, 8, 21)  # the last chunk's counts
    assert reply.model == "gemini-2.0-flash-exp"

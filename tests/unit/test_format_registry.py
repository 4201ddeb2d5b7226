"""Choosing a wire format: by name, or "auto" from the first event, the body and the request's API."""

from __future__ import annotations

import pytest

from nbstream._core.errors import FormatError
from nbstream._providers.registry import (
    FORMAT_NAMES,
    choose_format,
    make_format,
    sniff_body,
    sniff_event,
)
from nbstream._sse.decoder import ServerSentEvent

from .format_streams import body, events


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_name_makes_a_fresh_format(name: str) -> None:
    a, b = make_format(name), make_format(name)
    assert a.name == name
    assert a is not b
    assert a.complete is False


def test_unknown_name_is_a_format_error_listing_the_choices() -> None:
    with pytest.raises(FormatError, match=r"unknown wire format 'sse'.*openai-chat"):
        make_format("sse")


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        ("llamacpp_openai_chat.sse", "openai-chat"),
        ("llamacpp_responses.sse", "openai-responses"),
        ("llamacpp_anthropic.sse", "anthropic"),
        ("ollama_chat.ndjson", "ollama"),
        ("json_echo.sse", "json"),
        ("json_sider.sse", "json"),
        ("json_chatglm_cumulative.sse", "json"),
        ("text_fastapi.sse", "text"),
    ],
)
def test_auto_recognises_each_recorded_stream_whatever_the_api(stream: str, expected: str) -> None:
    first = events(stream)[0]
    assert sniff_event(first) == expected
    for api in ("openai-chat", "anthropic", "custom"):
        assert choose_format("auto", api=api, first=first).name == expected


@pytest.mark.parametrize(
    ("data", "api", "expected"),
    [
        # Shapes that say nothing: the request's API decides.
        ('{"error":{"message":"boom","type":"server_error"}}', "anthropic", "anthropic"),
        ('{"error":"model not found"}', "ollama", "ollama"),
        ("[DONE]", "openai-responses", "openai-responses"),
        ("", "openai-chat", "openai-chat"),
        ('{"error":"x"}', "custom", "json"),
        # A bare number is a text server's piece, not a JSON document.
        ("42", "custom", "text"),
    ],
)
def test_auto_falls_back_on_the_api(data: str, api: str, expected: str) -> None:
    assert choose_format("auto", api=api, first=ServerSentEvent(data=data)).name == expected


def test_anthropic_recognised_by_event_name_alone() -> None:
    assert sniff_event(ServerSentEvent(event="ping", data="")) == "anthropic"


def test_auto_with_no_event_uses_the_api() -> None:
    assert choose_format("auto", api="ollama").name == "ollama"
    assert choose_format("auto", api="custom").name == "json"


def test_a_json_path_chooses_the_json_format() -> None:
    fmt = choose_format("auto", api="openai-chat", json_path="data.text", json_mode="delta")
    assert fmt.name == "json"


def test_explicit_name_wins_over_the_shape() -> None:
    first = events("llamacpp_openai_chat.sse")[0]
    assert choose_format("text", api="openai-chat", first=first).name == "text"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("llamacpp_openai_chat_body.json", "openai-chat"),
        ("llamacpp_responses_body.json", "openai-responses"),
        ("llamacpp_anthropic_body.json", "anthropic"),
        ("llamacpp_openai_chat_overflow_400.json", None),
    ],
)
def test_body_shapes(name: str, expected: str | None) -> None:
    assert sniff_body(body(name)) == expected


def test_body_shapes_of_other_servers() -> None:
    assert sniff_body({"model": "m", "message": {"content": "x"}, "done": True}) == "ollama"
    assert sniff_body({"answer": "x"}) == "json"
    assert sniff_body("plain") == "text"
    chosen = choose_format("auto", api="openai-chat", body={"answer": "x"})
    assert chosen.name == "json"

"""Request builders: URLs, headers, bodies per API, body templates for home-made servers."""

from __future__ import annotations

import json

import pytest

from nbstream._core.errors import ConfigError, FormatError
from nbstream._providers.request import (
    PreparedRequest,
    as_messages,
    build_body,
    build_headers,
    endpoint_url,
    mask_headers,
)
from nbstream._providers.template import render_template

MSGS = as_messages("Hi", system="Be brief")


def test_as_messages() -> None:
    assert MSGS == [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}]
    given = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    assert as_messages(given, system="ignored") == given
    assert as_messages(given) is not given
    with pytest.raises(FormatError, match="must be a dict with 'role'"):
        as_messages(["just a string"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("api", "base", "url"),
    [
        ("openai-chat", "http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/chat/completions"),
        ("openai-chat", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/chat/completions"),
        (
            "openai-chat",
            "https://openrouter.ai/api/v1",
            "https://openrouter.ai/api/v1/chat/completions",
        ),
        ("openai-chat", "http://h/v1/chat/completions", "http://h/v1/chat/completions"),
        (
            "openai-chat",
            "https://x.azure.com/openai/deployments/d?api-version=2024-10-21",
            "https://x.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21",
        ),
        ("openai-responses", "http://h:1/v1", "http://h:1/v1/responses"),
        ("anthropic", "https://api.anthropic.com", "https://api.anthropic.com/v1/messages"),
        ("anthropic", "http://h/v1", "http://h/v1/messages"),
        ("ollama", "http://localhost:11434", "http://localhost:11434/api/chat"),
        ("ollama", "http://localhost:11434/v1", "http://localhost:11434/api/chat"),
        ("ollama", "http://localhost:11434/api/generate", "http://localhost:11434/api/generate"),
        ("custom", "http://127.0.0.1:8000/stream", "http://127.0.0.1:8000/stream"),
    ],
)
def test_endpoint_url(api: str, base: str, url: str) -> None:
    assert endpoint_url(api, base) == url


def test_endpoint_url_errors() -> None:
    with pytest.raises(ConfigError, match="http\\(s\\) URL"):
        endpoint_url("openai-chat", "127.0.0.1:8080")
    with pytest.raises(ConfigError, match="unknown api 'soap'"):
        endpoint_url("soap", "http://h")


def test_headers_per_api() -> None:
    assert build_headers("openai-chat", None) == {}
    assert build_headers("openai-chat", "sk-x") == {"Authorization": "Bearer sk-x"}
    assert build_headers("anthropic", None) == {"anthropic-version": "2023-06-01"}
    assert build_headers("anthropic", "k") == {"anthropic-version": "2023-06-01", "x-api-key": "k"}
    merged = build_headers("ollama", "k", {"authorization": "Token t", "X-Trace": "1"})
    assert merged == {"authorization": "Token t", "X-Trace": "1"}


def test_mask_headers() -> None:
    headers = {
        "Authorization": "Bearer sk-secret-key",
        "x-api-key": "abc",
        "X-Note": "has sk-secret-key",
    }
    assert mask_headers(headers, ["sk-secret-key"]) == {
        "Authorization": "Bearer ***",
        "x-api-key": "***",
        "X-Note": "has ***",
    }


def test_openai_chat_body() -> None:
    body = build_body(
        "openai-chat", MSGS, model="m", temperature=0.2, max_tokens=5, params={"seed": 1}
    )
    assert body == {
        "model": "m",
        "messages": MSGS,
        "temperature": 0.2,
        "max_tokens": 5,
        "stream": True,
        "stream_options": {"include_usage": True},
        "seed": 1,
    }
    plain = build_body("openai-chat", MSGS, stream=False)
    assert plain == {"messages": MSGS, "stream": False}
    assert "stream_options" not in build_body("openai-chat", MSGS, include_usage=False)


def test_params_override_anything() -> None:
    body = build_body("openai-chat", MSGS, model="m", params={"stream_options": None, "model": "n"})
    assert body["model"] == "n"
    assert body["stream_options"] is None


def test_anthropic_body_top_level_system_and_required_max_tokens() -> None:
    body = build_body("anthropic", MSGS, model="claude", temperature=0)
    assert body == {
        "model": "claude",
        "messages": [{"role": "user", "content": "Hi"}],
        "system": "Be brief",
        "max_tokens": 4096,
        "temperature": 0,
        "stream": True,
    }
    assert build_body("anthropic", MSGS, max_tokens=7)["max_tokens"] == 7


def test_responses_body() -> None:
    body = build_body("openai-responses", MSGS, model="gpt", max_tokens=9, stream=False)
    assert body == {
        "model": "gpt",
        "input": [{"role": "user", "content": "Hi"}],
        "instructions": "Be brief",
        "max_output_tokens": 9,
        "stream": False,
    }


def test_ollama_body_options() -> None:
    body = build_body("ollama", MSGS, model="llama3", temperature=0.5, max_tokens=10)
    assert body == {
        "model": "llama3",
        "messages": MSGS,
        "options": {"temperature": 0.5, "num_predict": 10},
        "stream": True,
    }
    assert "options" not in build_body("ollama", MSGS)


def test_custom_default_body() -> None:
    body = build_body("custom", MSGS, stream=True, params={"user": "u"})
    assert body == {"messages": MSGS, "prompt": "Hi", "stream": True, "user": "u"}


def test_custom_template_from_json_text() -> None:
    # The seeds' echo server takes {"query": "..."}.
    body = build_body("custom", MSGS, template='{"query": "{prompt}"}')
    assert body == {"query": "Hi"}


def test_render_template_typed_embedded_and_dropped() -> None:
    values = {"prompt": 'say "x"', "messages": [{"role": "user"}], "stream": False, "model": None}
    template = {
        "q": "Q: {prompt}",
        "history": "{messages}",
        "opts": {"stream": "{stream}", "model": "{model}", "raw": "{not_a_name}"},
        "list": ["{prompt}", "{model}"],
        "n": 3,
    }
    assert render_template(template, values) == {
        "q": 'Q: say "x"',
        "history": [{"role": "user"}],
        "opts": {"stream": False, "raw": "{not_a_name}"},
        "list": ['say "x"'],
        "n": 3,
    }
    with pytest.raises(FormatError, match="not valid JSON"):
        render_template("{query: prompt}", values)


def test_prepared_request_text_and_curl() -> None:
    req = PreparedRequest(
        "POST", "http://h/v1/chat/completions", {"Authorization": "Bearer ***"}, {"a": 1}
    )
    assert str(req).splitlines()[:2] == [
        "POST http://h/v1/chat/completions",
        "Authorization: Bearer ***",
    ]
    curl = req.as_curl()
    assert curl.startswith("curl -N -X POST http://h/v1/chat/completions")
    assert json.dumps({"a": 1}) in curl

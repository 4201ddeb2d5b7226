"""Endpoint values and prepare_request (dry runs): no network needed."""

from __future__ import annotations

import pytest

from nbstream._core.errors import ConfigError
from nbstream._engine.endpoint import Endpoint
from nbstream._engine.engine import astream, prepare_request

KEY = "sk-test-0123456789abcdef"


def test_endpoint_repr_and_str_never_show_the_key() -> None:
    ep = Endpoint(
        "http://127.0.0.1:8080/v1",
        model="gemma",
        api_key=KEY,
        headers={"X-Api-Key": "hdr-secret-123", "X-Trace": "t1"},
    )
    for text in (repr(ep), str(ep), repr([ep])):
        assert KEY not in text
        assert "hdr-secret-123" not in text
    assert "t1" in repr(ep)
    assert repr(Endpoint("http://h/v1")) == "Endpoint(base_url='http://h/v1')"


def test_endpoint_url_and_host() -> None:
    ep = Endpoint("http://127.0.0.1:8080", api="anthropic")
    assert ep.url == "http://127.0.0.1:8080/v1/messages"
    assert ep.host == "127.0.0.1:8080"
    assert Endpoint("https://api.openai.com/v1").host == "api.openai.com:443"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"api": "soap"}, "unknown api 'soap'"),
        ({"format": "xml"}, "unknown format 'xml'"),
        ({"json_mode": "sometimes"}, "json_mode must be"),
    ],
)
def test_endpoint_validates_at_once(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Endpoint("http://h/v1", **kwargs)  # type: ignore[arg-type]


def test_endpoint_rejects_a_url_without_scheme() -> None:
    with pytest.raises(ConfigError, match="http\\(s\\) URL"):
        Endpoint("localhost:8080")


def test_moving_an_endpoint_to_another_host_drops_its_credentials() -> None:
    ep = Endpoint("http://a:1/v1", api_key=KEY, headers={"Authorization": "Bearer x", "X-T": "1"})
    moved = ep.replace(base_url="http://b:2/v1")
    assert moved.api_key is None
    assert dict(moved.headers) == {"X-T": "1"}
    same_host = ep.replace(base_url="http://a:1/other/v1")
    assert same_host.api_key == KEY


def test_prepare_request_masks_the_key_and_builds_the_body() -> None:
    req = prepare_request(
        "Hi", base_url="http://127.0.0.1:8080/v1", model="m", api_key=KEY, extra_body={"seed": 3}
    )
    assert req.method == "POST"
    assert req.url == "http://127.0.0.1:8080/v1/chat/completions"
    assert dict(req.headers) == {"Authorization": "Bearer ***"}
    assert req.json == {
        "model": "m",
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "seed": 3,
    }
    assert KEY not in str(req)
    assert KEY not in req.as_curl()


def test_arguments_override_the_endpoint() -> None:
    ep = Endpoint("http://h:1", api="anthropic", model="claude", api_key=KEY)
    req = prepare_request(
        [{"role": "user", "content": "Q"}], endpoint=ep, model="other", system="S", max_tokens=5
    )
    assert req.url == "http://h:1/v1/messages"
    assert req.headers == {"anthropic-version": "2023-06-01", "x-api-key": "***"}
    assert req.json["model"] == "other"
    assert req.json["system"] == "S"
    assert req.json["max_tokens"] == 5


def test_custom_server_with_a_body() -> None:
    ep = Endpoint("http://127.0.0.1:8000/chat", api="custom", body={"query": "{prompt}"})
    req = prepare_request("hello", endpoint=ep)
    assert req.url == "http://127.0.0.1:8000/chat"
    assert req.json == {"query": "hello"}


def test_a_key_is_never_sent_to_another_host() -> None:
    ep = Endpoint("https://api.example.com/v1", api_key=KEY)
    with pytest.raises(ConfigError, match=r"key is for api\.example\.com:443, not for evil\.test"):
        prepare_request("x", endpoint=ep, base_url="http://evil.test/v1")
    with pytest.raises(ConfigError, match="key is for"):
        astream("x", endpoint=ep, base_url="http://evil.test/v1")
    # Saying which key goes to the other host (or none) is fine.
    req = prepare_request("x", endpoint=ep, base_url="http://other.test/v1", api_key="")
    assert req.headers == {}


def test_no_server_is_a_config_error_before_anything_is_sent() -> None:
    with pytest.raises(ConfigError, match="no server given"):
        astream("x")


def test_an_unknown_keyword_is_a_type_error_not_a_body_field() -> None:
    with pytest.raises(TypeError, match=r"astream\(\) got an unexpected keyword argument 'modle'"):
        astream("x", base_url="http://h/v1", modle="m")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"prepare_request\(\) .* 'top_p'.*extra_body"):
        prepare_request("x", base_url="http://h/v1", top_p=0.9)  # type: ignore[call-arg]


def test_extra_body_is_merged_last() -> None:
    req = prepare_request(
        "x",
        base_url="http://h/v1",
        model="m",
        max_tokens=5,
        extra_body={"model": "override", "max_tokens": 9, "stream_options": None, "seed": 1},
    )
    assert req.json["model"] == "override"
    assert req.json["max_tokens"] == 9
    assert req.json["stream_options"] is None
    assert list(req.json)[-1] == "seed"

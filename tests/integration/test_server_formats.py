"""Every endpoint of the embedded backend, over a real loopback socket, checked for wire shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from nbstream.server import BackgroundServer

FAST = "tps=0,ttft=0"
USER = [{"role": "user", "content": "say something"}]


def sse(backend: BackgroundServer, path: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    with (
        httpx.Client(base_url=backend.url) as client,
        connect_sse(client, "POST", path, json=body) as source,
    ):
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [(e.event, e.data) for e in source.iter_sse()]


def test_openai_chat_stream_with_usage(backend: BackgroundServer) -> None:
    body = {
        "model": f"echo:{FAST}",
        "messages": USER,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    events = sse(backend, "/v1/chat/completions", body)
    assert events[-1] == ("message", "[DONE]")
    chunks = [json.loads(d) for _, d in events[:-1]]
    assert all(
        c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks
    )
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "say something"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 2
    assert chunks[-1]["usage"]["total_tokens"] == 4
    assert all(c["usage"] is None for c in chunks[:-1])


def test_openai_chat_stream_without_usage_has_no_usage_key(backend: BackgroundServer) -> None:
    events = sse(
        backend, "/v1/chat/completions", {"model": f"demo:{FAST}", "messages": USER, "stream": True}
    )
    chunks = [json.loads(d) for _, d in events[:-1]]
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_openai_chat_lines_end_with_lf_only(backend: BackgroundServer) -> None:
    body = {"model": f"echo:{FAST}", "messages": USER, "stream": True}
    raw = httpx.post(backend.url + "/v1/chat/completions", json=body).content
    assert b"\r" not in raw
    assert raw.startswith(b'data: {"id":"chatcmpl-')
    assert raw.endswith(b"\n\ndata: [DONE]\n\n")


def test_openai_chat_not_streamed(backend: BackgroundServer) -> None:
    r = httpx.post(
        backend.url + "/v1/chat/completions", json={"model": f"echo:{FAST}", "messages": USER}
    )
    body = r.json()
    assert r.headers["content-type"] == "application/json"
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "say something",
        "refusal": None,
        "annotations": [],
    }
    assert body["usage"]["completion_tokens"] == 2


def test_models(backend: BackgroundServer) -> None:
    body = httpx.get(backend.url + "/v1/models").json()
    assert body["object"] == "list"
    assert {m["id"] for m in body["data"]} == {"demo", "echo", "lorem", "hostile"}


def test_responses_event_sequence(backend: BackgroundServer) -> None:
    body = {"model": f"echo:{FAST}", "input": "hello there", "stream": True}
    events = sse(backend, "/v1/responses", body)
    datas = [json.loads(d) for _, d in events]
    assert [e for e, _ in events] == [d["type"] for d in datas]  # event name = data type
    assert [d["sequence_number"] for d in datas] == list(range(len(datas)))
    names = [d["type"] for d in datas]
    assert names[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert names[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert (
        "".join(d["delta"] for d in datas if d["type"] == "response.output_text.delta")
        == "hello there"
    )
    final = datas[-1]["response"]
    assert final["status"] == "completed"
    assert final["usage"]["output_tokens"] == 2
    assert final["output"][0]["content"][0]["text"] == "hello there"


def test_anthropic_messages_event_sequence(backend: BackgroundServer) -> None:
    body = {"model": f"echo:{FAST}", "max_tokens": 100, "messages": USER, "stream": True}
    events = sse(backend, "/v1/messages", body)
    names = [e for e, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    datas = [json.loads(d) for _, d in events]
    assert all(d["type"] == e for (e, _), d in zip(events, datas, strict=True))
    text = "".join(d["delta"]["text"] for d in datas if d["type"] == "content_block_delta")
    assert text == "say something"
    assert datas[0]["message"]["usage"]["input_tokens"] == 2
    assert datas[-2]["delta"]["stop_reason"] == "end_turn"
    assert datas[-2]["usage"] == {"output_tokens": 2}


def test_anthropic_not_streamed(backend: BackgroundServer) -> None:
    body = httpx.post(
        backend.url + "/v1/messages", json={"model": f"echo:{FAST}", "messages": USER}
    ).json()
    assert body["type"] == "message"
    assert body["content"] == [{"type": "text", "text": "say something"}]
    assert body["stop_reason"] == "end_turn"


def test_ollama_ndjson(backend: BackgroundServer) -> None:
    with httpx.stream(
        "POST", backend.url + "/api/chat", json={"model": f"echo:{FAST}", "messages": USER}
    ) as r:
        assert r.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in r.iter_lines() if line]
    assert [x["done"] for x in lines] == [False, False, True]
    assert "".join(x["message"]["content"] for x in lines) == "say something"
    assert lines[-1]["done_reason"] == "stop"
    assert lines[-1]["eval_count"] == 2


def test_ollama_stream_false(backend: BackgroundServer) -> None:
    body = {"model": f"echo:{FAST}", "messages": USER, "stream": False}
    reply = httpx.post(backend.url + "/api/chat", json=body).json()
    assert reply["done"] is True
    assert reply["message"]["content"] == "say something"


def test_seed_echo_one_chunk_per_character(backend: BackgroundServer) -> None:
    events = sse(backend, "/seed/echo?tps=0&ttft=0", {"query": "héllo 字"})
    assert [json.loads(d) for _, d in events] == [{"chunk": c} for c in "héllo 字"]


def test_seed_plain_text_events(backend: BackgroundServer) -> None:
    raw = httpx.post(
        backend.url + "/seed/plain", json={"model": f"echo:{FAST}", "query": "字 a"}
    ).content
    assert raw == "data: 字\n\ndata:  a\n\n".encode()


def test_seed_sider_no_space_after_colon(backend: BackgroundServer) -> None:
    raw = httpx.post(
        backend.url + "/seed/sider", json={"model": f"echo:{FAST}", "query": "hi you"}
    ).content
    assert raw == (
        b'data:{"code":0,"msg":"","data":{"text":"hi"}}\n\n'
        b'data:{"code":0,"msg":"","data":{"text":" you"}}\n\n'
        b"data:[DONE]\n\n"
    )


def test_seed_cumulative_repeats_the_whole_text(backend: BackgroundServer) -> None:
    raw = httpx.post(
        backend.url + "/seed/cumulative", json={"model": f"echo:{FAST}", "query": "a b c"}
    ).text
    objects = [json.loads(line) for line in raw.splitlines()]
    assert [o["response"] for o in objects] == ["a", "a b", "a b c", "a b c"]
    assert objects[-1]["finished"] is True
    assert "data:" not in raw


@pytest.mark.parametrize(
    ("prompt", "needle"),
    [
        ("hi", "# Hello from the nbstream demo backend"),
        ("show me code", "```python"),
        ("the math", "$$"),
        ("a table", "|---|"),
    ],
)
def test_demo_answers_by_keyword(backend: BackgroundServer, prompt: str, needle: str) -> None:
    body = {"model": f"demo:{FAST}", "messages": [{"role": "user", "content": prompt}]}
    text = httpx.post(backend.url + "/v1/chat/completions", json=body).json()["choices"][0][
        "message"
    ]["content"]
    assert needle in text


def test_demo_long_and_lorem_lengths(backend: BackgroundServer) -> None:
    body = {
        "model": f"demo:{FAST}",
        "messages": [{"role": "user", "content": "write something long"}],
    }
    long_text = httpx.post(backend.url + "/v1/chat/completions", json=body).json()["choices"][0][
        "message"
    ]["content"]
    assert len(long_text.split()) > 1500
    body = {"model": f"lorem:n=37,{FAST}", "messages": USER}
    lorem = httpx.post(backend.url + "/v1/chat/completions", json=body).json()
    assert len(lorem["choices"][0]["message"]["content"].split()) == 37
    assert lorem["usage"]["completion_tokens"] == 37


def test_hostile_payloads_each_set_a_distinct_flag(backend: BackgroundServer) -> None:
    body = {"model": f"hostile:{FAST}", "messages": USER}
    text = httpx.post(backend.url + "/v1/chat/completions", json=body).json()["choices"][0][
        "message"
    ]["content"]
    for needle in (
        "<script>",
        "onerror=",
        "javascript:",
        "<iframe",
        "<svg onload",
        "![x](http://203.0.113.7/x.png)",
    ):
        assert needle in text
    flags = {"script", "img", "link", "anchor", "iframe", "svg", "details"}
    assert all(f"__nbstream_pwned_{flag}" in text for flag in flags)


def test_unknown_model_answers_like_demo_and_echoes_its_name(backend: BackgroundServer) -> None:
    body = {"model": "gpt-4o-mini", "messages": USER}
    reply = httpx.post(backend.url + "/v1/chat/completions?tps=0&ttft=0", json=body).json()
    assert reply["model"] == "gpt-4o-mini"
    assert "nbstream demo backend" in reply["choices"][0]["message"]["content"]


def test_bad_option_is_a_readable_400(backend: BackgroundServer) -> None:
    r = httpx.post(
        backend.url + "/v1/chat/completions", json={"model": "demo:tsp=3", "messages": USER}
    )
    assert r.status_code == 400
    assert "unknown option 'tsp'" in r.json()["error"]["message"]
    r = httpx.post(
        backend.url + "/v1/messages", json={"model": "demo:fault=nope", "messages": USER}
    )
    assert r.status_code == 400
    assert r.json()["type"] == "error"
    assert "unknown fault 'nope'" in r.json()["error"]["message"]


def test_index_and_health(backend: BackgroundServer) -> None:
    assert "not a language model" in httpx.get(backend.url + "/").text
    assert httpx.get(backend.url + "/health").json() == {"status": "ok"}

"""Every fault of the embedded backend, selected per request, observed over a real socket."""

from __future__ import annotations

import gzip
import json
import time

import httpx
import pytest

from nbstream.server import BackgroundServer

USER = [{"role": "user", "content": "one two three four five six seven eight"}]
CHAT = "/v1/chat/completions"


def post(
    backend: BackgroundServer, model: str, path: str = CHAT, **extra: object
) -> httpx.Response:
    body = {"model": model, "messages": USER, "stream": True, **extra}
    return httpx.post(
        backend.url + path, json=body, headers={"Authorization": "Bearer sk-test-secret-123"}
    )


def test_401_echoes_the_authorization_header(backend: BackgroundServer) -> None:
    r = post(backend, "demo:401")
    assert r.status_code == 401
    error = r.json()["error"]
    assert error["code"] == "invalid_api_key"
    assert "Bearer sk-test-secret-123" in error["message"]
    assert backend.log[-1].outcome == "rejected"
    assert backend.log[-1].status == 401


def test_401_anthropic_shape_echoes_x_api_key(backend: BackgroundServer) -> None:
    body = {"model": "demo:401", "messages": USER}
    r = httpx.post(backend.url + "/v1/messages", json=body, headers={"x-api-key": "sk-ant-secret"})
    assert r.status_code == 401
    assert r.json()["type"] == "error"
    assert r.json()["error"]["type"] == "authentication_error"
    assert "sk-ant-secret" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fault", "status"), [("403", 403), ("429", 429), ("500", 500), ("503", 503), ("529", 529)]
)
def test_status_faults(backend: BackgroundServer, fault: str, status: int) -> None:
    r = post(backend, f"demo:{fault}")
    assert r.status_code == status
    assert r.json()["error"]["message"]
    assert ("retry-after" in r.headers) == (status in (429, 503))


def test_gateway_faults_answer_with_the_gateways_own_page(backend: BackgroundServer) -> None:
    r = post(backend, "demo:502")
    assert (r.status_code, r.headers["content-type"]) == (502, "text/html; charset=utf-8")
    assert "<title>502 Bad Gateway</title>" in r.text
    r = post(backend, "demo:504")
    assert (r.status_code, r.text) == (504, "upstream request timeout")
    assert backend.log[-1].outcome == "rejected"


def test_reset_drops_the_connection_before_the_first_byte(backend: BackgroundServer) -> None:
    body = {"model": "demo:reset", "messages": USER, "stream": True}
    with httpx.stream("POST", backend.url + CHAT, json=body) as r:
        assert r.status_code == 200  # the headers came; not one byte of the body does
        with pytest.raises(httpx.RemoteProtocolError):
            r.read()
    record = backend.log[-1]
    assert (record.outcome, record.first_byte, record.tokens_sent) == ("hung-up", None, 0)


def test_fails_lets_the_nth_repeat_through(backend: BackgroundServer) -> None:
    model = "echo:tps=0,ttft=0,fault=503,fails=2,seed=11"
    assert [post(backend, model).status_code for _ in range(4)] == [503, 503, 200, 200]
    assert [r.fault for r in backend.log[-4:]] == ["503", "503", None, None]
    # Another request (here another seed) starts its own count.
    assert post(backend, model.replace("seed=11", "seed=12")).status_code == 503


def test_sloppy_framing_faults(backend: BackgroundServer) -> None:
    raw = post(backend, "echo:tps=0,ttft=0,fault=nolf").content
    assert raw.startswith(b'data:{"id":')
    assert b"\n" not in raw
    assert raw.endswith(b"}]}data:[DONE]")
    raw = post(backend, "echo:tps=0,ttft=0,fault=single-lf").content
    assert raw.startswith(b'data: {"id":')
    assert b"\n\n" not in raw
    assert raw.endswith(b"}]}\ndata: [DONE]\n")
    body = {"model": "echo:tps=0,ttft=0,fault=single-lf", "messages": USER, "stream": True}
    raw = httpx.post(backend.url + "/v1/messages", json=body).content
    assert raw.startswith(b"event: message_start\ndata: {")
    assert b"\n\n" not in raw


def test_429_retry_after_from_options(backend: BackgroundServer) -> None:
    r = httpx.post(
        backend.url + CHAT + "?retry_after=7", json={"model": "demo:429", "messages": USER}
    )
    assert r.headers["retry-after"] == "7"
    r = httpx.post(backend.url + "/api/chat", json={"model": "demo:429", "messages": USER})
    assert r.status_code == 429
    assert r.headers["retry-after"] == "1"
    assert set(r.json()) == {"error"}  # Ollama's error shape


def test_stream_options_rejected_only_when_sent(backend: BackgroundServer) -> None:
    r = post(backend, "demo:stream-options-400", stream_options={"include_usage": True})
    assert r.status_code == 400
    assert "stream_options" in r.json()["error"]["message"]
    r = post(backend, "demo:stream-options-422", stream_options={"include_usage": True})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "stream_options"]
    r = post(backend, "echo:stream-options-400,tps=0,ttft=0")
    assert r.status_code == 200
    assert r.text.endswith("data: [DONE]\n\n")


def test_stall_after_n_tokens_then_client_timeout_is_seen_as_disconnect(
    backend: BackgroundServer,
) -> None:
    body = {
        "model": "lorem:n=20,tps=0,ttft=0,fault=stall,after=3",
        "messages": USER,
        "stream": True,
    }
    received = []
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream(
            "POST", backend.url + CHAT, json=body, timeout=httpx.Timeout(5, read=0.5)
        ) as r,
    ):
        received.extend(r.iter_lines())
    contents = [
        json.loads(x[6:])["choices"][0]["delta"].get("content")
        for x in received
        if x.startswith("data: ")
    ]
    assert len([c for c in contents if c]) == 3
    record = backend.wait_for_disconnect(timeout=10, model=body["model"])
    assert record.tokens_sent == 3
    assert record.fault == "stall"


def test_disconnect_drops_the_connection_mid_stream(backend: BackgroundServer) -> None:
    body = {
        "model": "lorem:n=20,tps=0,ttft=0,fault=disconnect,after=4",
        "messages": USER,
        "stream": True,
    }
    lines = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("POST", backend.url + CHAT, json=body) as r,
    ):
        lines.extend(r.iter_lines())
    assert 4 <= len([x for x in lines if x.startswith("data: ")]) <= 5  # role chunk + 4 tokens
    record = backend.log[-1]
    assert record.outcome == "hung-up"
    assert record.tokens_sent == 4


def test_error_chunk_and_error_event(backend: BackgroundServer) -> None:
    raw = post(backend, "lorem:tps=0,ttft=0,fault=error-chunk,after=2").text
    last = raw.strip().split("\n\n")[-1]
    assert last.startswith('data: {"error":{"message":"the demo backend failed mid-stream')
    assert "[DONE]" not in raw
    raw = post(backend, "lorem:tps=0,ttft=0,fault=error-event,after=2").text
    assert raw.strip().split("\n\n")[-1].startswith('event: error\ndata: {"error":')
    raw = post(backend, "lorem:tps=0,ttft=0,fault=error-event,after=2", path="/v1/messages").text
    assert (
        raw.strip()
        .split("\n\n")[-1]
        .startswith('event: error\ndata: {"type":"error","error":{"type":"overloaded_error"')
    )
    raw = post(backend, "lorem:tps=0,ttft=0,fault=error-chunk,after=2", path="/v1/responses").text
    assert raw.strip().split("\n\n")[-1].startswith("event: response.failed\n")


def test_malformed_chunk_then_the_stream_goes_on(backend: BackgroundServer) -> None:
    events = post(backend, "echo:tps=0,ttft=0,fault=malformed,after=1").text.strip().split("\n\n")
    bad = [e for e in events if e.startswith("data: {") and not e.endswith("}")]
    assert len(bad) == 1
    assert events[-1] == "data: [DONE]"


def test_no_done(backend: BackgroundServer) -> None:
    raw = post(backend, "echo:tps=0,ttft=0,fault=no-done").text
    assert "[DONE]" not in raw
    assert '"finish_reason":"stop"' in raw
    raw = post(backend, "echo:tps=0,ttft=0,fault=no-done", path="/v1/messages").text
    assert "message_stop" not in raw


def test_no_stream_ignores_stream_true(backend: BackgroundServer) -> None:
    r = post(backend, "echo:tps=0,ttft=0,fault=no-stream")
    assert r.headers["content-type"] == "application/json"
    assert r.json()["choices"][0]["message"]["content"] == USER[0]["content"]


def test_buffer_sends_everything_at_the_end(backend: BackgroundServer) -> None:
    body = {"model": "lorem:n=10,tps=50,ttft=0,fault=buffer", "messages": USER, "stream": True}
    with httpx.stream("POST", backend.url + CHAT, json=body) as r:
        headers_at = time.monotonic()
        raw = r.read()
    record = backend.log[-1]
    # The same monotonic clock on both sides: the headers came after the last token was made.
    assert record.finished_at is not None
    assert headers_at >= record.finished_at
    assert raw.count(b"data: ") == 13  # role, 10 tokens, finish, [DONE]
    assert r.headers["content-length"] == str(len(raw))  # one body, not chunked


def test_crlf_with_ping_comments(backend: BackgroundServer) -> None:
    raw = post(backend, "echo:tps=0,ttft=0,fault=crlf").content
    assert raw.startswith(b": ping\r\n\r\n")
    assert b"\r\n\r\ndata: [DONE]\r\n\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_bad_utf8_bytes(backend: BackgroundServer) -> None:
    raw = post(backend, "echo:tps=0,ttft=0,fault=bad-utf8,after=1").content
    assert b'"content":"\xff\xfe two"' in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_huge_event(backend: BackgroundServer) -> None:
    raw = post(backend, "echo:tps=0,ttft=0,fault=huge,size=300000,after=1").content
    sizes = sorted(len(e) for e in raw.split(b"\n\n"))
    assert sizes[-1] > 300_000
    assert sizes[-2] < 1_000


def test_gzip_content_encoding(backend: BackgroundServer) -> None:
    body = {"model": "echo:tps=0,ttft=0,fault=gzip", "messages": USER, "stream": True}
    with httpx.stream("POST", backend.url + CHAT, json=body) as r:
        assert r.headers["content-encoding"] == "gzip"
        text = gzip.decompress(b"".join(r.iter_raw())).decode()
    assert text.endswith("data: [DONE]\n\n")
    decoded = httpx.post(backend.url + CHAT, json=body).text  # httpx decodes it as it comes
    assert decoded.count("data: ") == text.count("data: ")
    assert decoded.endswith("data: [DONE]\n\n")


def test_empty_200(backend: BackgroundServer) -> None:
    r = post(backend, "demo:empty")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.content == b""


def test_fault_from_header_and_query_override_model(backend: BackgroundServer) -> None:
    r = httpx.post(
        backend.url + CHAT,
        json={"model": "demo:500", "messages": USER},
        headers={"X-Nbstream-Options": "fault=403"},
    )
    assert r.status_code == 403
    r = httpx.post(
        backend.url + CHAT + "?fault=429",
        json={"model": "demo:500", "messages": USER},
        headers={"X-Nbstream-Options": "fault=403"},
    )
    assert r.status_code == 429


def test_pacing_is_applied(backend: BackgroundServer) -> None:
    started = time.monotonic()
    post(backend, "lorem:n=11,tps=50,ttft=0.1")
    # 0.1 s to the first token, then 10 intervals of 20 ms: at least 0.3 s, generous upper bound.
    assert 0.28 <= time.monotonic() - started < 5

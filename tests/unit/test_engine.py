"""The engine over httpx.MockTransport: request sent, format chosen, deltas and reply, failures."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

import nbstream._engine.engine as engine
from nbstream._core.deltas import End, Metadata, TextDelta
from nbstream._core.errors import HTTPStatusError, StreamError
from nbstream._core.reply import Reply
from nbstream._engine.engine import astream

from .format_streams import DATA

KEY = "sk-engine-test-0123456789"
SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json"}


class Recorder:
    """A MockTransport handler answering from a list of responses, recording the requests."""

    def __init__(
        self, *responses: httpx.Response | Callable[[httpx.Request], httpx.Response]
    ) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0)
        return answer(request) if callable(answer) else answer

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def body(self, i: int = -1) -> dict[str, object]:
        return json.loads(self.requests[i].content)  # type: ignore[no-any-return]


def recorded(name: str, headers: dict[str, str] = SSE, status: int = 200) -> httpx.Response:
    return httpx.Response(status, headers=headers, content=(DATA / name).read_bytes())


async def drain(**kwargs: object) -> tuple[list[object], Reply]:
    stream = astream("Say hello", **kwargs)  # type: ignore[arg-type]
    deltas = [d async for d in stream]
    return deltas, stream.reply


async def test_openai_chat_stream_end_to_end() -> None:
    rec = Recorder(recorded("llamacpp_openai_chat.sse"))
    async with rec.client() as client:
        deltas, reply = await drain(
            base_url="http://127.0.0.1:8080/v1", model="gemma", api_key=KEY, client=client
        )
    request = rec.requests[0]
    assert str(request.url) == "http://127.0.0.1:8080/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert rec.body()["stream_options"] == {"include_usage": True}
    assert deltas[0] == Metadata(model="gemma", format="openai-chat", streamed=True)
    assert deltas[-1] == End(complete=True)
    assert reply.status == "finished"
    assert reply.format == "openai-chat"
    assert reply.text == "Say hello mendatanguser\nSay hello mendatang"
    assert reply.usage is not None
    assert reply.usage.output_tokens == 8
    assert reply.endpoint == "127.0.0.1:8080"
    assert reply.streamed


@pytest.mark.parametrize(
    ("api", "name", "path"),
    [
        ("anthropic", "llamacpp_anthropic.sse", "/v1/messages"),
        ("openai-responses", "llamacpp_responses.sse", "/v1/responses"),
    ],
)
async def test_other_apis(api: str, name: str, path: str) -> None:
    rec = Recorder(recorded(name))
    async with rec.client() as client:
        _, reply = await drain(
            base_url="http://127.0.0.1:8080", api=api, api_key=KEY, client=client
        )
    assert rec.requests[0].url.path == path
    assert reply.format == api
    assert reply.status == "finished"
    assert reply.text.startswith("Say hello")
    if api == "anthropic":
        assert rec.requests[0].headers["x-api-key"] == KEY
        assert "authorization" not in rec.requests[0].headers


async def test_auto_follows_the_answer_not_the_request() -> None:
    # A home-made server reached with the default API still streams its own shape.
    rec = Recorder(recorded("json_echo.sse"))
    async with rec.client() as client:
        _, reply = await drain(base_url="http://127.0.0.1:8000/v1", client=client)
    assert reply.format == "json"
    assert reply.text == "echo"


async def test_json_answer_to_a_stream_request_is_parsed_not_streamed() -> None:
    rec = Recorder(recorded("llamacpp_openai_chat_body.json", JSON))
    async with rec.client() as client:
        deltas, reply = await drain(base_url="http://h/v1", client=client)
    assert deltas[0] == Metadata(format="openai-chat", streamed=False)
    assert reply.streamed is False
    assert reply.status == "finished"
    assert reply.text == "Say hello mendatanguser\nSay hello mendatang"


async def test_an_sse_stream_labelled_json_is_streamed_and_the_label_noted() -> None:
    # Foundry Local labels its streams application/json (microsoft/foundry-dev-tools#195).
    rec = Recorder(recorded("llamacpp_openai_chat.sse", JSON))
    async with rec.client() as client:
        deltas, reply = await drain(base_url="http://h/v1", format="openai-chat", client=client)
    assert deltas[0] == Metadata(format="openai-chat", streamed=True)
    assert (reply.status, reply.text) == (
        "finished",
        "Say hello mendatanguser\nSay hello mendatang",
    )
    assert reply.notes == ("read as SSE: the server labels its event stream application/json",)


async def test_a_llamacpp_error_line_fails_the_reply_with_the_servers_message() -> None:
    # llama.cpp (tools/server/server.cpp) sends server_sent_event(sink, "error", error_data).
    body = (
        b'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Hi"}}],'
        b'"object":"chat.completion.chunk"}\n\n'
        b'error: {"code":500,"message":"context shift is disabled","type":"server_error"}\n\n'
    )
    rec = Recorder(httpx.Response(200, headers=SSE, content=body))
    async with rec.client() as client:
        _, reply = await drain(base_url="http://h/v1", client=client)
    assert (reply.status, reply.text) == ("failed", "Hi")
    assert reply.error == "context shift is disabled"


async def test_empty_200_stream_fails_with_a_message_that_says_so() -> None:
    rec = Recorder(httpx.Response(200, headers=SSE, content=b""))
    async with rec.client() as client:
        stream = astream("x", base_url="http://h/v1", client=client)
        with pytest.raises(StreamError, match=r"HTTP 200 from h \(text/event-stream\) with no ev"):
            async for _ in stream:
                pass
    assert stream.reply.status == "failed"
    assert "the body was empty" in (stream.reply.error or "")
    assert "llama.cpp" not in (stream.reply.error or "")


async def test_200_without_a_single_event_says_what_arrived() -> None:
    page = b"<!DOCTYPE html>\n<html><head><title>Chat UI</title></head><body>" + b"x" * 200
    rec = Recorder(httpx.Response(200, headers=SSE, content=page))
    async with rec.client() as client:
        stream = astream("x", base_url="http://h/v1", client=client)
        with pytest.raises(StreamError) as info:
            async for _ in stream:
                pass
    message = str(info.value)
    assert "(text/event-stream) with no events in its 263 bytes" in message
    assert "which start '<!DOCTYPE html>\\n<html><head><title>Chat UI</titl'…" in message
    assert "\n" not in message  # one line: the body's line breaks are escaped


async def test_missing_terminal_marker_is_truncated_text_kept() -> None:
    rec = Recorder(recorded("openai_chat_truncated.sse"))
    async with rec.client() as client:
        _, reply = await drain(base_url="http://h/v1", client=client)
    assert reply.status == "truncated"
    assert reply.text == "Cut off"


async def test_inband_error_fails_text_kept() -> None:
    rec = Recorder(recorded("anthropic_overloaded.sse"))
    async with rec.client() as client:
        _, reply = await drain(base_url="http://h", api="anthropic", client=client)
    assert reply.status == "failed"
    assert reply.error == "Overloaded"
    assert reply.text == "Partial answer"


def _rejects_stream_options(status: int) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        assert "stream_options" in json.loads(request.content)
        error = {"error": {"message": "Unrecognized request argument: stream_options"}}
        return httpx.Response(status, headers=JSON, json=error)

    return answer


@pytest.mark.parametrize("status", [400, 422])
async def test_stream_options_rejected_retry_once_and_remember(status: int) -> None:
    url = f"http://strict-{status}.test/v1"
    rec = Recorder(
        _rejects_stream_options(status),
        recorded("llamacpp_openai_chat_nousage.sse"),
        recorded("llamacpp_openai_chat_nousage.sse"),
    )
    async with rec.client() as client:
        _, reply = await drain(base_url=url, client=client)
        assert reply.status == "finished"
        assert len(rec.requests) == 2
        assert "stream_options" not in rec.body(1)
        # Remembered for this URL: the next request does not ask again.
        _, again = await drain(base_url=url, client=client)
    assert again.status == "finished"
    assert len(rec.requests) == 3
    assert "stream_options" not in rec.body(2)
    engine._NO_STREAM_OPTIONS.discard(url + "/chat/completions")


async def test_other_400s_are_not_retried() -> None:
    rec = Recorder(httpx.Response(400, headers=JSON, json={"error": {"message": "bad model"}}))
    async with rec.client() as client:
        stream = astream("x", base_url="http://h/v1", client=client)
        with pytest.raises(HTTPStatusError) as info:
            async for _ in stream:
                pass
    assert info.value.status_code == 400
    assert len(rec.requests) == 1
    assert stream.reply.status == "failed"


async def test_a_redirect_is_not_followed_with_the_key() -> None:
    rec = Recorder(
        httpx.Response(307, headers={"location": "http://elsewhere.test/v1/chat/completions"})
    )
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(rec), follow_redirects=True
    ) as client:
        stream = astream("x", base_url="http://h/v1", api_key=KEY, client=client)
        with pytest.raises(HTTPStatusError, match="307"):
            async for _ in stream:
                pass
    assert [r.url.host for r in rec.requests] == ["h"]


async def test_a_client_that_follows_redirects_still_follows_them_without_a_key() -> None:
    target = recorded("json_echo.sse")
    rec = Recorder(httpx.Response(307, headers={"location": "http://other.test/x"}), target)
    transport = httpx.MockTransport(rec)
    async with httpx.AsyncClient(transport=transport, follow_redirects=True) as client:
        _, reply = await drain(base_url="http://h/v1", client=client)
    assert reply.text == "echo"
    assert [r.url.host for r in rec.requests] == ["h", "other.test"]


async def test_a_given_client_is_left_open() -> None:
    rec = Recorder(recorded("json_echo.sse"))
    async with rec.client() as client:
        await drain(base_url="http://h/v1", client=client)
        assert not client.is_closed


async def test_early_close_releases_the_stream() -> None:
    rec = Recorder(recorded("llamacpp_openai_chat.sse"))
    async with rec.client() as client:
        stream = astream("x", base_url="http://h/v1", client=client)
        async with stream:
            async for delta in stream:
                if isinstance(delta, TextDelta):
                    break
    assert stream.reply.status == "cancelled"
    assert stream.reply.text == "Say"

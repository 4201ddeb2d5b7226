"""CassetteTransport under httpx: record a mocked exchange, replay it, miss, auto; the call options."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from nbstream._core.cassette import INSTANT, CassetteSettings, read
from nbstream._core.errors import CassetteError, ConfigError
from nbstream._engine.engine import astream
from nbstream._engine.settings import Settings, env_layer, merge
from nbstream._http.cassette import CassetteTransport

URL = "http://127.0.0.1:8080/v1/chat/completions"
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi there"}], "stream": True}
FRAMES = [b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n', b"data: [DONE]\n\n"]


class Body(httpx.AsyncByteStream):
    """A server body: some chunks, then optionally a broken connection."""

    def __init__(self, chunks: list[bytes], fail: bool = False) -> None:
        self.chunks = chunks
        self.fail = fail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.fail:
            raise httpx.RemoteProtocolError("peer closed connection")


def network(calls: list[httpx.Request], fail: bool = False) -> httpx.MockTransport:
    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        headers = {
            "content-type": "text/event-stream",
            "x-echo": request.headers.get("authorization", ""),
        }
        return httpx.Response(200, headers=headers, stream=Body(FRAMES, fail))

    return httpx.MockTransport(handler)


async def exchange(transport: CassetteTransport, **headers: str) -> tuple[httpx.Response, bytes]:
    async with (
        httpx.AsyncClient(transport=transport) as client,
        client.stream("POST", URL, json=BODY, headers=headers) as response,
    ):
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, body


async def test_record_then_replay_gives_the_same_bytes_without_the_network(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []
    recording = CassetteTransport(
        CassetteSettings("record", str(tmp_path)), network(calls), secrets=[]
    )
    _, live_body = await exchange(recording, authorization="Bearer sk-unit-test-key-0123456789")
    assert live_body == b"".join(FRAMES)
    [path] = recording.saved
    assert recording.events == [f"recorded {path}"]
    text = path.read_text()
    assert "sk-unit-test-key" not in text  # the request's header and the echoed header
    assert json.loads(text)["request"]["json"] == BODY  # readable JSON, not an escaped string
    assert "x-echo" not in read(path).headers

    replaying = CassetteTransport(CassetteSettings("replay", str(tmp_path), INSTANT))
    again, body = await exchange(replaying)
    assert (again.status_code, body) == (200, live_body)
    assert again.headers["content-type"] == "text/event-stream"
    assert replaying.events == [f"replayed {path}"]
    assert len(calls) == 1


async def test_a_missing_cassette_fails_naming_the_file_it_looked_for(tmp_path: Path) -> None:
    transport = CassetteTransport(
        CassetteSettings("replay", str(tmp_path / "cassettes"), prefix="nb")
    )
    with pytest.raises(CassetteError) as info:
        await exchange(transport)
    message = str(info.value)
    assert message.startswith(
        f"no cassette for this request: looked for {tmp_path}/cassettes/nb-hi-there-m-"
    )
    assert "record it with %chat replay auto" in message


async def test_auto_records_what_is_missing_then_replays_it(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []
    settings = CassetteSettings("auto", str(tmp_path), INSTANT)
    first = CassetteTransport(settings, network(calls))
    await exchange(first)
    second = CassetteTransport(settings, network(calls))
    _, body = await exchange(second)
    assert body == b"".join(FRAMES)
    assert [e.split()[0] for e in (*first.events, *second.events)] == ["recorded", "replayed"]
    assert len(calls) == 1


async def test_a_broken_connection_is_recorded_and_broken_again_on_replay(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []
    recording = CassetteTransport(CassetteSettings("record", str(tmp_path)), network(calls, True))
    with pytest.raises(httpx.RemoteProtocolError):
        await exchange(recording)
    [path] = recording.saved
    assert read(path).end.how == "error"
    replaying = CassetteTransport(CassetteSettings("replay", str(tmp_path), INSTANT))
    with pytest.raises(httpx.RemoteProtocolError, match="peer closed connection") as info:
        await exchange(replaying)
    assert info.value.request.url == URL


async def test_a_damaged_cassette_is_an_error_not_a_crash(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []
    recording = CassetteTransport(CassetteSettings("record", str(tmp_path)), network(calls))
    await exchange(recording)
    [path] = recording.saved
    path.write_text(path.read_text()[:-40])
    with pytest.raises(CassetteError, match="not valid JSON"):
        await exchange(CassetteTransport(CassetteSettings("replay", str(tmp_path))))


async def test_the_engine_reports_a_missing_cassette_as_a_failed_reply(tmp_path: Path) -> None:
    settings = CassetteSettings("replay", str(tmp_path))
    stream = astream(
        "hi there",
        model="m",
        base_url="http://127.0.0.1:9/v1",  # nothing listens: the replay must not go there
        wrap_transport=lambda net: CassetteTransport(settings, net),
    )
    with pytest.raises(CassetteError):
        async for _ in stream:
            pass
    assert stream.reply.status == "failed"
    assert stream.reply.error is not None
    assert stream.reply.error.startswith("no cassette for this request: looked for")


def test_the_engine_refuses_a_wrapper_with_a_callers_client() -> None:
    with pytest.raises(ConfigError, match="needs the engine's own client"):
        astream(
            "x",
            base_url="http://127.0.0.1:9/v1",
            client=httpx.AsyncClient(),
            wrap_transport=lambda net: net,
        )


def test_call_options_pick_the_mode_folder_and_speed() -> None:
    def cassettes(below: Settings, **call: object) -> CassetteSettings:
        return merge(below, Settings.layer(**call)).cassettes()

    env = env_layer({"NBSTREAM_REPLAY": "from-env"})
    assert cassettes(env) == CassetteSettings("replay", "from-env")
    assert cassettes(env, record=True).mode == "record"
    assert cassettes(env, record="elsewhere").directory == "elsewhere"
    assert cassettes(env, replay="auto").mode == "auto"
    assert cassettes(env, replay=False).mode == "off"
    assert cassettes(env, record=False).mode == "replay"  # nothing was recording
    assert cassettes(Settings(), replay="mine", speed="instant") == CassetteSettings(
        "replay", "mine", INSTANT
    )
    with pytest.raises(ConfigError, match="choose one"):
        cassettes(env, record=True, replay=True)


def test_the_cell_flags_give_the_same_options() -> None:
    from nbstream._magic.args import parse_cell_line

    _, layer = parse_cell_line("--record --speed instant")
    assert (layer.record, layer.replay, layer.speed) == (True, False, INSTANT)
    assert layer.given == {"record", "replay", "speed"}  # --record turns a replay below off
    session = env_layer({"NBSTREAM_REPLAY": "lessons"})
    assert merge(session, layer).cassettes() == CassetteSettings("record", "lessons", INSTANT)


async def test_chat_refuses_record_with_a_callers_client(tmp_path: Path) -> None:
    import nbstream

    async with httpx.AsyncClient() as client:
        with pytest.raises(ConfigError, match="own client"):
            await nbstream.chat(
                "x", base_url="http://127.0.0.1:9/v1", model="m", client=client,
                record=str(tmp_path), display=False,
            )  # fmt: skip
    assert not any(os.scandir(tmp_path))  # nothing recorded

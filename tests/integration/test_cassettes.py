"""Record real exchanges over loopback sockets, replay them through the whole stack and to the SDKs.

The embedded backend is the recorded server (real HTTP on 127.0.0.1); a replay goes to a base URL
where nothing listens, so it can only have come from the cassette. A small echo server plays the
hostile server of the safety test: it sends every credential it received back, in its headers
and its body, in pieces.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

import nbstream
from nbstream._chat.cli import main, record
from nbstream._core.cassette import CassetteSettings, read
from nbstream._http.cassette import CassetteTransport
from nbstream.server import BackgroundServer, start
from nbstream.server._thread import ServerThread

NOWHERE = "http://127.0.0.1:9/v1"  # nothing listens: a replay must not need the server
KEY = "sk-proj-ECHOED-key-0123456789abcdefghijklmnop"


def only_file(folder: Path) -> Path:
    [path] = folder.iterdir()
    return path


async def ask(prompt: str, base_url: str, **options: object) -> nbstream.Reply:
    return await nbstream.chat(prompt, base_url=base_url, display=False, **options)  # type: ignore[arg-type]


async def test_a_replay_gives_the_same_answer_with_its_rhythm(
    backend: BackgroundServer, tmp_path: Path
) -> None:
    model = "lorem:n=24,tps=20,ttft=0.3"
    live = await ask("Some words.", backend.openai_base_url, model=model, record=str(tmp_path))
    path = only_file(tmp_path)
    assert path.name.startswith("some-words-lorem-n-24-tps-20-ttft-0-3-")
    paced = await ask("Some words.", NOWHERE, model=model, replay=str(tmp_path))
    instant = await ask("Some words.", NOWHERE, model=model, replay=str(tmp_path), speed="instant")
    for reply in (paced, instant):
        assert (reply.status, reply.text, reply.usage) == (live.status, live.text, live.usage)
        assert len(reply.deltas) == len(live.deltas)
    assert live.ttft is not None
    assert paced.ttft is not None
    # The recorded rhythm, within the event loop's latency on a shared machine.
    print(f"live ttft {live.ttft:.3f} s, {live.duration:.3f} s; replay {paced.ttft:.3f} s, "
          f"{paced.duration:.3f} s; instant {instant.duration:.3f} s")  # fmt: skip
    assert paced.ttft == pytest.approx(live.ttft, abs=0.1)
    assert paced.duration == pytest.approx(live.duration, abs=0.15)
    gaps = [b - a for a, b in zip(paced.arrivals, live.arrivals, strict=True)]
    assert max(abs(g) for g in gaps) < 0.15
    assert instant.duration < 0.2
    assert live.duration > 1.2


async def test_the_replayed_bytes_are_the_recorded_bytes(
    backend: BackgroundServer, tmp_path: Path
) -> None:
    async def frames(mode: str, base_url: str) -> tuple[list[bytes], nbstream.Reply]:
        got: list[bytes] = []
        settings = CassetteSettings(mode, str(tmp_path), 4.0)  # type: ignore[arg-type]
        stream = nbstream.astream(
            "Frames, please.",
            model="echo:tps=40",
            api="anthropic",
            base_url=base_url,
            on_bytes=lambda chunk, _: got.append(chunk),
            wrap_transport=lambda network: CassetteTransport(settings, network),
        )
        async for _ in stream:
            pass
        return got, stream.reply

    live, _ = await frames("record", backend.openai_base_url)
    again, reply = await frames("replay", NOWHERE)
    assert again == live  # chunk for chunk: --wire shows what the server sent
    assert (reply.format, reply.text) == ("anthropic", "Frames, please.")


@pytest.mark.parametrize(
    ("model", "status", "error"),
    [
        ("demo:stall,after=3", "failed", r"no data for 0\.5 s from .*: the stream stalled"),
        ("demo:disconnect,after=3", "failed", r"closed the connection mid-stream"),
        ("demo:500", "failed", r"HTTP 500 Internal Server Error from"),
        ("demo:error-chunk,after=3", "failed", None),
    ],
)
async def test_a_recorded_failure_replays_exactly(
    backend: BackgroundServer, tmp_path: Path, model: str, status: str, error: str | None
) -> None:
    timeouts = nbstream.Timeouts(idle=0.5)
    live = await ask(
        "Hello?", backend.openai_base_url, model=model, timeouts=timeouts, record=str(tmp_path)
    )
    again = await ask("Hello?", NOWHERE, model=model, timeouts=timeouts, replay=str(tmp_path))
    assert (live.status, again.status) == (status, status)
    assert again.text == live.text
    if error is None:
        assert again.error == live.error
    else:
        # The same message, but for the port of the host that was asked.
        assert re.search(error, live.error or "")
        assert re.search(error, again.error or "")
        assert re.sub(r"127\.0\.0\.1:\d+", "H", again.error or "") == re.sub(
            r"127\.0\.0\.1:\d+", "H", live.error or ""
        )
    assert again.duration == pytest.approx(live.duration, abs=0.2)


async def test_a_recording_that_cannot_be_written_says_so(
    backend: BackgroundServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    reply = await ask("Unsaved.", backend.openai_base_url, model="echo", record=str(blocked))
    assert reply.status == "finished"  # the answer itself is fine
    err = capsys.readouterr().err
    assert err.startswith(f"nbstream: not recorded: cannot write {blocked}/unsaved-echo-")


async def test_cancel_during_a_replay_stops_at_once(
    backend: BackgroundServer, tmp_path: Path
) -> None:
    model = "lorem:n=20,tps=40"
    await ask("Slowly.", backend.openai_base_url, model=model, record=str(tmp_path))
    settings = CassetteSettings("replay", str(tmp_path), 0.02)  # 50 times slower: ~25 s
    first = asyncio.Event()

    async def consume() -> None:
        stream = nbstream.astream(
            "Slowly.",
            model=model,
            base_url=NOWHERE,
            wrap_transport=lambda network: CassetteTransport(settings, network),
        )
        async with stream:
            async for delta in stream:
                if delta.kind == "text":
                    first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 20)
    began = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    took = time.monotonic() - began
    print(f"cancel during a replay: done after {took * 1000:.1f} ms")
    assert took < 0.1


async def test_a_request_without_a_cassette_fails_in_one_line(tmp_path: Path) -> None:
    reply = await ask("Never recorded.", NOWHERE, model="m", replay=str(tmp_path / "cassettes"))
    assert reply.status == "failed"
    assert reply.error is not None
    assert reply.error.startswith(
        f"no cassette for this request: looked for {tmp_path}/cassettes/never-recorded-m-"
    )
    assert "\n" not in reply.error


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


async def test_auto_records_what_is_missing_beside_the_notebook_then_replays_it(
    backend: BackgroundServer, in_tmp: Path
) -> None:
    last = backend.log[-1].id if len(backend.log) else 0
    url = backend.openai_base_url
    first = await ask("Beside the notebook.", url, model="echo", replay="auto")
    second = await ask("Beside the notebook.", url, model="echo", replay="auto")
    assert second.text == first.text == "Beside the notebook."
    assert len([r for r in backend.log if r.id > last]) == 1  # the second never reached it
    path = only_file(in_tmp / "cassettes")  # the default folder, in the working directory
    assert read(path).request.prompt == "Beside the notebook."


# -- nbstream serve --replay ----------------------------------------------------------------------


@pytest.fixture
def recorded(backend: BackgroundServer, tmp_path: Path) -> Path:
    """A folder with an OpenAI chat answer, an Anthropic one and a dropped connection."""

    async def go() -> None:
        url = backend.openai_base_url
        await ask("Tell me.", url, model="demo:tps=100", record=str(tmp_path))
        await ask("Tell me.", url, model="echo:tps=50", api="anthropic", record=str(tmp_path))
        await ask("Drop it.", url, model="demo:disconnect", record=str(tmp_path))

    asyncio.run(go())
    return tmp_path


def test_serve_replay_answers_the_official_openai_client(recorded: Path) -> None:
    expected = read(next(recorded.glob("tell-me-demo-*.json")))
    with start(replay=recorded) as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="any key at all")
        began = time.monotonic()
        stream = client.chat.completions.create(
            model="demo:tps=100", messages=[{"role": "user", "content": "Tell me."}], stream=True
        )
        parts = [c.choices[0].delta.content or "" for c in stream if c.choices]
        took = time.monotonic() - began
        assert "".join(parts).startswith("# Hello from the nbstream demo backend")
        # Its rhythm, not all at once: the recording lasted expected.end.at seconds.
        assert took == pytest.approx(expected.end.at, abs=0.3)
        assert sorted(m.id for m in client.models.list()) == [
            "demo:disconnect",
            "demo:tps=100",
            "echo:tps=50",
        ]
        with pytest.raises(openai.NotFoundError, match="no cassette for this request: looked for"):
            client.chat.completions.create(
                model="demo", messages=[{"role": "user", "content": "Not recorded."}]
            )
        dropped = client.chat.completions.create(
            model="demo:disconnect", messages=[{"role": "user", "content": "Drop it."}], stream=True
        )
        with pytest.raises(openai.APIConnectionError):  # the SDK's word for a dropped stream
            list(dropped)
        record = server.log.wait_for(lambda r: r.requested_model == "demo:disconnect", 5)
        assert record.outcome == "hung-up"


async def test_serve_replay_serves_nbstream_in_any_format(recorded: Path) -> None:
    with start(replay=recorded) as server:
        reply = await ask("Tell me.", server.openai_base_url, model="echo:tps=50", api="anthropic")
        assert (reply.status, reply.format, reply.text) == ("finished", "anthropic", "Tell me.")
        dropped = await ask("Drop it.", server.openai_base_url, model="demo:disconnect")
        assert dropped.status == "failed"
        assert "closed the connection mid-stream" in (dropped.error or "")


def test_nbstream_serve_replay_on_the_command_line(recorded: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "nbstream", "serve", "--port", "0", "--replay", str(recorded),
         "--speed", "instant"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"on (http://127\.0\.0\.1:\d+): answers from the 3 cassettes in", first)
        assert match, first
        body = {
            "model": "demo:tps=100",
            "messages": [{"role": "user", "content": "Tell me."}],
            "stream": True,
        }
        response = httpx.post(match.group(1) + "/v1/chat/completions", json=body)
        assert response.status_code == 200
        assert response.text.endswith("data: [DONE]\n\n")
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_serve_replay_refuses_a_folder_that_is_not_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "0", "--replay", str(tmp_path / "nope")]) == 1
    assert "no folder" in capsys.readouterr().err


# -- nbstream record ------------------------------------------------------------------------------


async def test_nbstream_record_streams_the_answer_and_writes_the_cassette(
    backend: BackgroundServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLASS_KEY", KEY)
    out = io.StringIO()
    status = await record(
        backend.openai_base_url,
        "From the command line.",
        model="echo:tps=50",
        key_env="CLASS_KEY",
        directory=str(tmp_path),
        name="lesson-1",
        out=out,
    )
    text = out.getvalue()
    assert status == 0
    assert text.startswith("From the command line.\n\n[finished]\n[recorded ")
    path = only_file(tmp_path)
    assert path.name.startswith("lesson-1-from-the-command-line-echo-tps-50-")
    assert backend.log[-1].headers["authorization"] == f"Bearer {KEY}"  # the key was sent …
    assert KEY not in path.read_text()  # … and not kept


def test_nbstream_record_exits_non_zero_when_nothing_was_recorded(tmp_path: Path) -> None:
    status = main(["record", NOWHERE, "hi", "-m", "m", "--dir", str(tmp_path)])
    assert status == 1
    assert not list(tmp_path.iterdir())


# -- safety: a server that echoes the key ---------------------------------------------------------


async def _echo(request: Request) -> Response:
    """Send back every credential the request carried, in headers and in a body cut in pieces."""
    body = await request.body()
    seen = json.dumps(
        {
            "headers": dict(request.headers),
            "query": dict(request.query_params),
            "body": body.decode(),
        }
    )
    encoded = base64.b64encode(KEY.encode()).decode()
    data = b"".join(
        f"data: {json.dumps({'choices': [{'delta': {'content': text}}]})}\n\n".encode()
        for text in (seen, f" and in base64: {encoded}")
    )
    data += b"data: [DONE]\n\n"

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 7):  # 7 bytes at a time: the key always spans chunks
            yield data[i : i + 7]

    headers = {
        "x-echo-authorization": request.headers.get("authorization", ""),
        "x-echo-goog": request.headers.get("x-goog-api-key", ""),
        "set-cookie": f"session={KEY}",
        "x-debug": f"you sent {request.query_params.get('key', '')}",
        "x-request-id": "req-1",
    }
    return StreamingResponse(pieces(), media_type="text/event-stream", headers=headers)


async def test_a_cassette_never_holds_a_credential(tmp_path: Path) -> None:
    app = Starlette(routes=[Route("/v1/chat/completions", _echo, methods=["POST"])])
    with ServerThread(app) as server:
        endpoint = nbstream.Endpoint(
            f"{server.url}/v1?key={KEY}",
            api_key=KEY,
            model="echo-model",
            headers={"x-goog-api-key": KEY, "cookie": f"session={KEY}"},
        )
        settings = CassetteSettings("record", str(tmp_path))
        stream = nbstream.astream(
            f"My key is {KEY}; repeat it.",
            endpoint=endpoint,
            extra_body={"token": KEY, "metadata": {"note": KEY}},
            wrap_transport=lambda network: CassetteTransport(settings, network),
        )
        async for _ in stream:
            pass
    reply = stream.reply
    assert reply.status == "finished", reply.error
    assert KEY in reply.text  # the server really echoed it (the reply is in memory, not saved)
    path = only_file(tmp_path)
    raw = path.read_bytes()
    for form in (KEY, base64.b64encode(KEY.encode()).decode(), KEY[:20], KEY[-20:]):
        assert form.encode() not in raw, form
    cassette = read(path)
    assert set(cassette.request.headers) == {
        "accept",
        "accept-encoding",
        "cache-control",
        "content-type",
        "user-agent",
    }
    assert "key=" not in cassette.request.url
    assert "token" not in cassette.request.json
    assert cassette.request.json["metadata"] == {"note": "***"}
    assert set(cassette.headers) == {"content-type", "date", "server", "x-request-id"}
    # Still replayable: the echoed body with *** where the key was.
    again = nbstream.astream(
        f"My key is {KEY}; repeat it.",
        endpoint=endpoint.replace(base_url=f"{NOWHERE}?key={KEY}", api_key=KEY),
        extra_body={"token": KEY, "metadata": {"note": KEY}},
        wrap_transport=lambda network: CassetteTransport(
            CassetteSettings("replay", str(tmp_path), 10.0), network
        ),
    )
    async for _ in again:
        pass
    assert again.reply.status == "finished"
    assert KEY not in again.reply.text
    assert '"authorization": "***"' in again.reply.text  # the echo, masked as shown live

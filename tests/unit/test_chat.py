"""chat() and chat_sync(): keywords checked before anything is sent, nothing started by building."""

from __future__ import annotations

import threading

import httpx
import pytest

import nbstream
import nbstream.server._background as background
from nbstream._chat.run import EMBEDDED_PLACEHOLDER, Job, dry_run_request
from nbstream._engine.settings import Settings, env_layer, merge


def _refusing_client(sent: list[httpx.Request]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_an_unknown_keyword_is_a_type_error_and_nothing_is_sent() -> None:
    sent: list[httpx.Request] = []
    async with _refusing_client(sent) as client:
        with pytest.raises(TypeError, match="unexpected keyword argument 'modle'"):
            await nbstream.chat(
                "hi", modle="x", base_url="http://h/v1", client=client, display=False
            )  # type: ignore[call-arg]
        with pytest.raises(TypeError, match=r"'seed'.*extra_body"):
            await nbstream.chat("hi", seed=1, base_url="http://h/v1", client=client, display=False)  # type: ignore[call-arg]
    assert sent == []


def test_chat_sync_refuses_an_unknown_keyword_before_running_anything() -> None:
    with pytest.raises(
        TypeError, match=r"chat_sync\(\) got an unexpected keyword argument 'modle'"
    ):
        nbstream.chat_sync("hi", modle="x")  # type: ignore[call-arg]


async def test_extra_body_reaches_the_server_merged_last() -> None:
    sent: list[httpx.Request] = []
    async with _refusing_client(sent) as client:
        await nbstream.chat(
            "hi",
            base_url="http://h/v1",
            model="m",
            temperature=0.3,
            extra_body={"seed": 7, "temperature": 1.5},
            client=client,
            display=False,
        )
    body = httpx.Response(200, content=sent[0].content).json()
    assert body["seed"] == 7
    assert body["temperature"] == 1.5  # extra_body wins over the option of the same name


def test_building_a_job_or_a_dry_run_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Another test of this session may have started the shared backend: start from none, so a
    # call of shared() here would show.
    monkeypatch.setattr(background, "_shared", None)
    threads = {t.ident for t in threading.enumerate()}
    settings = merge(env_layer({}), Settings.layer()).resolve({})
    assert settings.embedded
    job = Job([{"role": "user", "content": "hi"}], settings)
    request = dry_run_request(job)
    assert request.url == EMBEDDED_PLACEHOLDER + "/chat/completions"
    assert request.json["model"] == "demo"  # the backend's model, filled in by resolve
    assert "demo backend" in job.notices[0]
    assert job.provenance == "demo @ the embedded demo backend"
    assert background._shared is None
    assert {t.ident for t in threading.enumerate()} == threads

"""The ``nbstream`` command line: ``serve`` in a real subprocess, ``demo`` end to end."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from nbstream._chat.cli import demo, main


def test_serve_prints_its_url_serves_and_stops_on_ctrl_c() -> None:
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "nbstream", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        ready = time.monotonic() - began
        match = re.search(r"on (http://127\.0\.0\.1:\d+)$", first.strip())
        assert match, first
        url = match.group(1)
        rest = "".join(process.stdout.readline() for _ in range(4))
        assert f'base_url="{url}/v1"' in rest
        body = {
            "model": "echo:tps=0,ttft=0",
            "messages": [{"role": "user", "content": "from the cli"}],
        }
        reply = httpx.post(url + "/v1/chat/completions", json=body).json()
        assert reply["choices"][0]["message"]["content"] == "from the cli"
        # A fresh interpreter, imports included; measured about 0.6 s here. Generous for CI.
        assert ready < 10
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
        assert "stopped" in out
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_serve_reports_a_taken_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    assert "try --port 0" in capsys.readouterr().err


async def test_demo_streams_to_the_terminal_and_prints_timings() -> None:
    out = io.StringIO()
    status = await demo("hello", "echo:tps=100,ttft=0.05", out)
    text = out.getvalue()
    assert status == 0
    assert "not a language model" in text
    assert "\nhello\n" in text
    assert re.search(
        r"\[finished: first token after \d+\.\d{3} s, 1 tokens in \d+\.\d\d s", text
    ), text

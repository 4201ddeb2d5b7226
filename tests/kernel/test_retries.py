"""``%%chat`` in a real ipykernel while a request is retried: the wait shown, Cancel, Interrupt.

The backend runs in this test process (``backend`` fixture): its request log shows how many
times a request was sent, and when.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from nbstream.server import BackgroundServer

from .harness import Kernel, Message
from .test_magic import _statuses, _text, _usage_error, echo_kernel

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def k(backend: BackgroundServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    with echo_kernel(backend, tmp_path_factory.mktemp("cfg")) as running:
        yield running


def _status_value(msg: Message) -> str:
    """The live status line a widget update carries, or ``""``."""
    if msg["msg_type"] not in ("comm_open", "comm_msg"):
        return ""
    state = msg["content"].get("data", {}).get("state", {})
    value = state.get("value")
    return value if isinstance(value, str) else ""


class Watch:
    """Collects the live status lines and the Cancel button of one ``%%chat`` cell."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.buttons: list[str] = []

    def __call__(self, msg: Message) -> None:
        if msg["msg_type"] == "comm_open":
            state = msg["content"].get("data", {}).get("state", {})
            if state.get("_model_name") == "ButtonModel":
                self.buttons.append(msg["content"]["comm_id"])
        line = _status_value(msg)
        if line:
            self.lines.append(line)


def _sent(backend: BackgroundServer, model: str) -> int:
    return len([r for r in backend.log if r.requested_model == model])


def test_the_wait_is_shown_then_the_answer_and_the_note(
    k: Kernel, backend: BackgroundServer
) -> None:
    model = "echo:tps=0,fault=503,retry_after=1,fails=1,seed=31"
    watch = Watch()
    ex = k.execute(f"%%chat --chat shown -m {model}\nhello there", on_message=watch, timeout=30)
    assert ex.status == "ok"
    waits = [line for line in watch.lines if "retrying in" in line]
    assert waits, watch.lines
    assert "retrying in 1 s: 503 Service Unavailable" in waits[0]
    outputs = ex.final_outputs()
    assert _statuses(outputs) == ["finished"]
    assert "hello there" in _text(outputs)
    assert "retried once: 503 Service Unavailable" in _text(outputs)
    [meta] = [o["metadata"]["nbstream"] for o in outputs if "nbstream" in o.get("metadata", {})]
    assert meta["notes"] == ["retried once: 503 Service Unavailable"]
    assert _sent(backend, model) == 2


def test_a_repaired_stream_says_so_once_in_the_final_status_line(k: Kernel) -> None:
    ex = k.execute("%%chat --chat sloppy -m echo:tps=0,fault=nolf\nno line breaks at all")
    assert ex.status == "ok"
    outputs = ex.final_outputs()
    assert _statuses(outputs) == ["finished"]
    text = _text(outputs)
    assert "no line breaks at all" in text
    assert "repaired SSE framing: no line breaks between events" in text
    [meta] = [o["metadata"]["nbstream"] for o in outputs if "nbstream" in o.get("metadata", {})]
    assert meta["notes"] == ["repaired SSE framing: no line breaks between events"]


def test_cancel_during_the_wait_ends_the_cell_at_once(k: Kernel, backend: BackgroundServer) -> None:
    model = "echo:tps=0,fault=429,retry_after=15,seed=32"
    watch = Watch()
    clicked: dict[str, float] = {}

    def on_message(msg: Message) -> None:
        watch(msg)
        if "t" not in clicked and watch.buttons and "retrying in" in _status_value(msg):
            clicked["t"] = k.click(watch.buttons[0])

    msg_id = k.submit(f"%%chat --chat cancel-wait -m {model}\nhello")
    ex = k.collect(msg_id, on_message=on_message, timeout=30)
    ended = max(m["received"] for m in ex.messages)
    assert "t" in clicked, watch.lines
    print(
        f"Cancel click during a 15 s retry wait → cell's last output: {(ended - clicked['t']) * 1000:.0f} ms"
    )
    assert ended - clicked["t"] < 1.0
    assert ex.status == "ok"
    assert _statuses(ex.final_outputs()) == ["cancelled"]
    time.sleep(0.3)
    assert _sent(backend, model) == 1  # never sent again


def test_interrupt_during_the_wait_ends_the_cell_at_once(
    k: Kernel, backend: BackgroundServer
) -> None:
    model = "echo:tps=0,fault=429,retry_after=15,seed=33"
    sent: dict[str, float] = {}

    def on_message(msg: Message) -> None:
        if "t" not in sent and "retrying in" in _status_value(msg):
            sent["t"] = k.interrupt()

    msg_id = k.submit(f"%%chat --chat interrupt-wait -m {model}\nhello")
    ex = k.collect(msg_id, on_message=on_message, timeout=30)
    assert "t" in sent
    ended = max(m["received"] for m in ex.messages)
    print(
        f"Interrupt during a 15 s retry wait → cell's last output: {(ended - sent['t']) * 1000:.0f} ms"
    )
    assert ended - sent["t"] < 1.0
    assert ex.status == "error"
    assert _statuses(ex.final_outputs()) == ["cancelled"]
    assert _sent(backend, model) == 1


def test_retries_option(k: Kernel, backend: BackgroundServer) -> None:
    model = "echo:tps=0,fault=503,retry_after=0,fails=1,seed=34"
    ex = k.execute(f"%%chat --chat off --retries 0 -m {model}\nhello")
    assert ex.status == "ok"
    assert _statuses(ex.final_outputs()) == ["failed"]
    assert _sent(backend, model) == 1
    _usage_error(k.execute("%%chat --retries -1\nhello"))
    help_reply: Any = k.ok("%%chat?").reply
    assert "--retries N" in str(help_reply["content"]["payload"])  # the pager's text

"""Record and replay in a real ipykernel: ``%%chat --record``, ``%chat replay on``, Interrupt.

The kernel runs in a temporary folder, as a notebook's kernel runs in the notebook's folder, so
``cassettes/`` is created there. The backend (in this test process) records what reached it: a
replay must never reach it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbstream.server import BackgroundServer

from .harness import Kernel
from .test_magic import CLEAN_ENV as MAGIC_ENV
from .test_magic import _usage_error

pytestmark = pytest.mark.kernel

CLEAN_ENV = {**MAGIC_ENV, "NBSTREAM_REPLAY": "", "NBSTREAM_RECORD": ""}
NOWHERE = "http://127.0.0.1:9/v1"


def _final(outputs: list[dict[str, Any]]) -> tuple[str, str, str]:
    """(status, answer text, status line) of the view in a cell's final outputs."""
    status = line = text = ""
    for out in outputs:
        data = out.get("data", {})
        if "nbstream" in out.get("metadata", {}):
            status = out["metadata"]["nbstream"]["status"]
            line = data.get("text/plain", "")
        elif data.get("text/plain"):
            text += data["text/plain"]
    return status, text, line


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    k = Kernel(env={**CLEAN_ENV, "NBSTREAM_CONFIG_DIR": str(tmp_path / "cfg")}, cwd=tmp_path)
    try:
        k.ok("%load_ext nbstream")
        yield k
    finally:
        k.shutdown()


def test_record_a_cell_then_replay_it_with_no_server(
    kernel: Kernel, backend: BackgroundServer, tmp_path: Path
) -> None:
    kernel.ok(f"%chat config base_url={backend.openai_base_url}")
    cell = "%%chat {} -m echo:tps=20 --no-history\nRecorded once, in a kernel."
    live = kernel.ok(cell.format("--record"))
    status, text, line = _final(live.final_outputs())
    assert (status, text) == ("finished", "Recorded once, in a kernel.")
    assert "recording to cassettes/" in line
    [path] = (tmp_path / "cassettes").iterdir()
    assert path.name.startswith("recorded-once-in-a-kernel-echo-tps-20-")

    shown = kernel.ok("%chat replay on")
    assert "replaying from cassettes/ (1x)" in str(shown.final_outputs())
    kernel.ok(f"%chat config base_url={NOWHERE}")  # nothing listens there
    asked = len(backend.log)
    again = kernel.ok(cell.format(""))
    status, text, line = _final(again.final_outputs())
    assert (status, text) == ("finished", "Recorded once, in a kernel.")
    assert "replaying from cassettes/ (1x)" in line
    assert len(backend.log) == asked

    # A prompt with no cassette, then a damaged cassette: one line each; the kernel lives on.
    missing = kernel.ok("%%chat -m echo --no-history\nNever recorded.")
    status, _, line = _final(missing.final_outputs())
    assert status == "failed"
    assert "no cassette for this request: looked for cassettes/never-recorded-echo-" in line
    path.write_text(path.read_text()[:100])
    damaged = kernel.ok(cell.format(""))
    status, _, line = _final(damaged.final_outputs())
    assert status == "failed"
    assert "is not valid JSON" in line
    assert "Traceback" not in damaged.stderr
    assert kernel.ok("print(1 + 1)").stdout == "2\n"


def test_interrupt_stops_a_replay_at_once(kernel: Kernel, backend: BackgroundServer) -> None:
    kernel.ok(f"%chat config base_url={backend.openai_base_url} model=lorem:n=30,tps=30")
    kernel.ok("%%chat --record --no-history\nA slow one.")
    kernel.ok("%chat replay on speed=0.1")  # ten times slower: about 10 s
    chat_id = kernel.submit("%%chat --no-history\nA slow one.")
    queued_id = kernel.submit("print('queued cell ran')")
    time.sleep(3)  # the first words (1.5 s to the first token at this pace)
    sent = kernel.interrupt()
    chat = kernel.collect(chat_id, timeout=30)
    assert chat.reply is not None
    ended = next(m for m in chat.messages if "■ cancelled: interrupted" in str(m["content"]))
    took = ended["received"] - sent
    print(f"Interrupt during a replay → the answer marked cancelled after {took * 1000:.0f} ms")
    assert took < 0.5  # the ticker lands an interrupt within ~100 ms; generous for CI
    assert chat.status == "error"
    status, text, _ = _final(chat.final_outputs())
    assert status == "cancelled"
    assert text.startswith("Lorem ipsum")
    queued = kernel.collect(queued_id, timeout=30)
    assert queued.status == "aborted"


def test_the_cassette_commands_say_what_is_in_force(kernel: Kernel) -> None:
    def shown(code: str) -> str:
        return str(kernel.ok(code).final_outputs())

    assert "| cassettes | cassettes off |" in shown("%chat show")
    assert "recording to lessons/" in shown("%chat record on lessons")
    assert "recording to lessons/" in shown("%chat replay off")  # a replay was not on
    assert "replaying from lessons/ (instant)" in shown("%chat replay on speed=instant")
    assert "replaying from lessons/ (instant)" in shown("%chat record off")
    assert "recording what is missing" in shown("%chat replay auto")
    assert "cassettes off" in shown("%chat replay off")
    assert "choose one" in _usage_error(kernel.execute("%%chat --record --replay\nx"))
    assert "--speed takes a number above 0 or 'instant'" in _usage_error(
        kernel.execute("%%chat --speed fast\nx")
    )
    assert "takes on | auto | off, not 'maybe'" in _usage_error(
        kernel.execute("%chat replay maybe")
    )
    assert "speed takes a number" in _usage_error(kernel.execute("%chat replay on speed=0"))


def test_a_replay_with_nothing_configured_starts_no_backend(tmp_path: Path) -> None:
    from .harness import kernel as fresh_kernel
    from .test_magic import _SOCKETS

    env = {**CLEAN_ENV, "NBSTREAM_CONFIG_DIR": str(tmp_path / "cfg")}
    cell = "%%chat -m echo --no-history\nAsked of the embedded backend once."
    with fresh_kernel(env=env, cwd=tmp_path) as first:  # records from the embedded backend
        first.ok("%load_ext nbstream")
        status, text, _ = _final(
            first.ok(cell.replace("%%chat", "%%chat --record")).final_outputs()
        )
    assert (status, text) == ("finished", "Asked of the embedded backend once.")
    with fresh_kernel(env=env, cwd=tmp_path) as second:  # a classroom machine, offline
        second.ok("%load_ext nbstream")
        second.ok(_SOCKETS)
        second.ok("_sockets_before = _tcp_sockets()\n%chat replay on")
        status, text, line = _final(second.ok(cell).final_outputs())
        after = second.ok(
            "import nbstream.server._background as _bg\n"
            "print(_bg._shared is None, sorted(set(_tcp_sockets()) - set(_sockets_before)))"
        )
    assert (status, text) == ("finished", "Asked of the embedded backend once.")
    assert "replaying from cassettes/" in line, line
    assert "invalid" not in line, line
    assert after.stdout.strip() == "True []"

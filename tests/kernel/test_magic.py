"""``%%chat`` in a real ipykernel: Run All, Cancel, Interrupt, re-runs, ``--bg``, secrets.

The backend runs in this test process (``backend`` fixture) so its request log shows what the
server saw: when a client disconnected, which headers arrived. The kernels talk to it over a
loopback socket.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from nbstream.server import BackgroundServer

from .harness import Execution, Kernel, Message, kernel, run_notebook

pytestmark = pytest.mark.kernel

SECRET = "sk-nbstream-test-SECRET-0123456789abcdef"

# Nothing configured from the developer's own environment leaks into the kernels.
CLEAN_ENV = {
    "OPENAI_API_KEY": "",
    "OPENAI_BASE_URL": "",
    "NBSTREAM_BASE_URL": "",
    "NBSTREAM_MODEL": "",
    "NBSTREAM_API_KEY_ENV": "",
}


def _text(outputs: list[dict]) -> str:  # type: ignore[type-arg]
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        for mime in ("text/plain", "text/markdown"):
            value = out.get("data", {}).get(mime)
            if value:
                parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def _usage_error(ex: Execution) -> str:
    """The one-line UsageError IPython printed (no traceback), or fail."""
    assert ex.status == "error"
    assert ex.stderr.startswith("UsageError: "), ex.stderr
    assert "Traceback" not in ex.stderr
    assert ex.stderr.strip().count("\n") == 0
    return ex.stderr


def _statuses(outputs: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [
        o["metadata"]["nbstream"]["status"] for o in outputs if "nbstream" in o.get("metadata", {})
    ]


@contextmanager
def echo_kernel(backend: BackgroundServer, config_dir: Path) -> Iterator[Kernel]:
    """A kernel with nbstream loaded, its chats answered by the test backend's echo model."""
    with kernel(env={**CLEAN_ENV, "NBSTREAM_CONFIG_DIR": str(config_dir)}) as running:
        running.ok("%load_ext nbstream")
        running.ok(f"%chat config base_url={backend.openai_base_url} model=echo")
        yield running


@pytest.fixture(scope="module")
def k(backend: BackgroundServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    """One kernel for the tests that can share it (each uses its own named chat)."""
    with echo_kernel(backend, tmp_path_factory.mktemp("cfg")) as running:
        yield running


def test_run_all_saves_each_answer_under_its_cell(backend: BackgroundServer) -> None:
    nb = run_notebook(
        [
            "%load_ext nbstream",
            f"%chat config base_url={backend.openai_base_url} model=echo",
            "%%chat\nfirst question about {'json': [1, 2]}",
            "%%chat -o second\nsecond question",
            "print(second.status, '|', second.text)",
        ],
        env=CLEAN_ENV,
    )
    first, second, printed = (c.outputs for c in nb.cells[2:])
    assert "first question about {'json': [1, 2]}" in _text(first)
    assert "second question" in _text(second)
    assert "first question" not in _text(second)
    assert _statuses(first) == ["finished"]
    assert _statuses(second) == ["finished"]
    assert _text(printed).strip() == "finished | second question"


def test_interpolation_and_dry_run_show_the_final_messages(k: Kernel) -> None:
    k.ok("topic = 'streams'; data = {'a': {'b': 1}}")
    ex = k.ok(
        '%%chat --chat dry --dry-run --system "about {{topic}}"\nExplain {{topic}}: {"x": data}'
    )
    shown = _text(ex.final_outputs())
    assert "dry run" in shown
    assert '"content": "about streams"' in shown
    assert 'Explain streams: {\\"x\\": data}' in shown
    ex = k.execute("%%chat --chat dry\nuse {{undefined_name}}")
    assert "\\{{undefined_name}}" in _usage_error(ex)


def test_home_made_servers_from_the_magic_and_a_profile(
    k: Kernel, backend: BackgroundServer
) -> None:
    # The seed tutorials' echo server wants {"query": …} and streams {"chunk": "e"} events: the
    # body template and the JSON path come from the cell (the path is found when not given).
    seed = backend.openai_base_url.rsplit("/v1", 1)[0] + "/seed"
    ex = k.ok(
        f"%%chat --chat seed --no-history --api custom --base-url {seed}/echo "
        """--body '{"query": "{prompt}"}'\nhello from a cell"""
    )
    assert "hello from a cell" in _text(ex.final_outputs())
    assert _statuses(ex.final_outputs()) == ["finished"]
    assert backend.log[-1].path == "/seed/echo"
    ex = k.ok(
        f"%%chat --chat seed --no-history --api custom --base-url {seed}/echo --dry-run "
        """--body '{"query": "{prompt}", "n": 1}' --json-path chunk\nshow me"""
    )
    shown = _text(ex.final_outputs())
    assert '"query": "show me"' in shown
    assert '"n": 1' in shown
    # A profile keeps the template and the path for every later cell.
    k.ok(
        f"%chat profile sider base_url={seed}/sider api=custom "
        """body='{"prompt": "{prompt}"}' json_path=data.text"""
    )
    ex = k.ok("%%chat --chat sider --no-history\nanything")
    assert "nbstream demo backend" in _text(ex.final_outputs())
    assert _statuses(ex.final_outputs()) == ["finished"]
    assert backend.log[-1].path == "/seed/sider"
    k.ok(
        f"%chat config base_url={backend.openai_base_url} model=echo api=openai-chat body= "
        "json_path="
    )


# The TCP sockets this process holds, from Linux's /proc: its socket fds, looked up in the tables
# of the network namespace (a socket there that is not one of our fds is another process's).
_SOCKETS = """
import os, threading

def _tcp_sockets():
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            mine.add(link[8:-1])
    found = {}
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                cols = row.split()
                if cols[9] in mine:
                    found[cols[9]] = "listening" if cols[3] == "0A" else "connected"
    return found
"""


def test_dry_run_with_nothing_configured_starts_and_sends_nothing() -> None:
    with kernel(env=CLEAN_ENV) as fresh:
        fresh.ok("%load_ext nbstream")
        fresh.ok(_SOCKETS)
        fresh.ok(
            "_sockets_before = _tcp_sockets()\n"
            "_threads_before = {t.ident for t in threading.enumerate()}"
        )
        shown = _text(fresh.ok("%%chat --dry-run\nhello there").final_outputs())
        after = fresh.ok(
            "import nbstream.server._background as _bg\n"
            "_new = set(_tcp_sockets()) - set(_sockets_before)\n"
            "print(_bg._shared is None, sorted(_new),\n"
            "      [t.name for t in threading.enumerate() if t.ident not in _threads_before])"
        )
    assert "nothing was sent" in shown
    assert "embedded-demo-backend.invalid" in shown
    assert '"content": "hello there"' in shown
    # No embedded server object, no new socket (listening or connected), no new thread.
    assert after.stdout.strip() == "True [] []"


def test_bad_options_and_typed_keys_are_one_line_usage_errors(k: Kernel) -> None:
    for line in (
        "%%chat --nope\nhi",
        "%%chat --temperature warm\nhi",
        f"%%chat --max-tokens 5 {SECRET}\nhi",
    ):
        ex = k.execute(line)
        _usage_error(ex)
        assert SECRET not in ex.stderr + json.dumps(ex.final_outputs())
    ex = k.execute(f"%chat config api_key={SECRET}")
    assert "environment variable" in _usage_error(ex)
    assert SECRET not in ex.stderr + json.dumps(ex.final_outputs())


def test_rerun_replaces_the_cells_turn(k: Kernel) -> None:
    k.ok("%%chat --chat rerun\nfirst", cell_id="cell-a")
    k.ok("%%chat --chat rerun\nsecond", cell_id="cell-b")
    k.ok("%%chat --chat rerun\nfirst, again", cell_id="cell-a")
    ex = k.ok(
        "import nbstream._magic.cell as m\n"
        "print([t.prompt for t in m.active.chats.get('rerun').turns])"
    )
    assert ex.stdout.strip() == "['first, again', 'second']"


def test_history_sends_earlier_turns_but_not_failed_ones(
    k: Kernel, backend: BackgroundServer
) -> None:
    k.ok("%%chat --chat hist\none")
    k.ok("%%chat --chat hist -m echo:500\nbroken")  # a 500: a failed turn, not raised
    k.ok("%%chat --chat hist --dry-run\nthree")
    ex = k.ok("%%chat --chat hist --dry-run\nthree")
    shown = _text(ex.final_outputs())
    assert '"content": "one"' in shown
    assert "broken" not in shown
    history = _text(k.ok("%chat history hist").final_outputs())
    assert "not sent back" in history


def _first_answer_message(msg: Message) -> bool:
    return (
        msg["msg_type"] in ("display_data", "update_display_data")
        and "text/markdown" in msg["content"].get("data", {})
        and "nbstream" not in msg["content"].get("metadata", {})
    )


def test_cancel_click_stops_the_server_and_keeps_partial_text(
    k: Kernel, backend: BackgroundServer
) -> None:
    last = backend.log[-1].id if len(backend.log) else 0
    buttons: list[str] = []
    clicked: dict[str, float] = {}

    def on_message(msg: Message) -> None:
        if msg["msg_type"] == "comm_open":
            state = msg["content"].get("data", {}).get("state", {})
            if state.get("_model_name") == "ButtonModel":
                buttons.append(msg["content"]["comm_id"])
        elif "t" not in clicked and buttons and _first_answer_message(msg):
            clicked["t"] = k.click(buttons[0])

    msg_id = k.submit("%%chat --chat cancel -m lorem:n=3000,tps=40\nwrite a lot")
    collected = k.collect(msg_id, on_message=on_message)
    assert collected.status == "ok"
    assert "t" in clicked, "no answer appeared to click Cancel on"
    record = backend.log.wait_for(lambda r: r.id > last and r.disconnected_at is not None, 5)
    assert record.disconnected_at is not None
    latency = record.disconnected_at - clicked["t"]
    print(f"Cancel click → server saw the disconnect: {latency * 1000:.1f} ms")
    assert latency < 0.1  # requirement 50 ms (measured ~4 ms); doubled for a loaded CI machine
    outputs = collected.final_outputs()
    assert _statuses(outputs) == ["cancelled"]
    assert "Lorem" in _text(outputs) or "lorem" in _text(outputs)
    ex = k.ok(
        "import nbstream._magic.cell as m\n"
        "t = m.active.chats.get('cancel').turns[-1]; print(t.status, len(t.answer) > 0)"
    )
    assert ex.stdout.strip() == "cancelled True"


def test_interrupt_cancels_quickly_and_queued_cells_do_not_run(
    backend: BackgroundServer, tmp_path: Path
) -> None:
    kernel = Kernel(env={**CLEAN_ENV, "NBSTREAM_CONFIG_DIR": str(tmp_path)})
    try:
        kernel.ok("%load_ext nbstream")
        last = backend.log[-1].id if len(backend.log) else 0
        # A silent server (30 s before the first token, like a long prefill): only the ticker
        # lets the interrupt land before the next chunk.
        chat_id = kernel.submit(
            f"%%chat --base-url {backend.openai_base_url} -m demo:ttft=30\nthink hard"
        )
        queued_id = kernel.submit("print('queued cell ran')")
        backend.log.wait_for(lambda r: r.id > last, 10)
        time.sleep(0.3)
        sent = kernel.interrupt()
        chat = kernel.collect(chat_id, timeout=30)
        record = backend.log.wait_for(lambda r: r.id > last and r.disconnected_at is not None, 5)
        assert record.disconnected_at is not None
        latency = record.disconnected_at - sent
        print(f"Interrupt → server saw the disconnect: {latency * 1000:.1f} ms")
        assert latency < 0.3  # requirement 150 ms (measured ~8 ms); doubled for a loaded CI machine
        assert chat.status == "error"
        queued = kernel.collect(queued_id, timeout=30)
        assert queued.status == "aborted"
        assert "queued cell ran" not in queued.stdout
        assert _statuses(chat.final_outputs()) == ["cancelled"]
    finally:
        kernel.shutdown()


def test_background_chats_are_saved_by_wait_headless(backend: BackgroundServer) -> None:
    nb = run_notebook(
        [
            "%load_ext nbstream",
            f"%chat config base_url={backend.openai_base_url}",
            "%%chat --bg --chat a -m echo:tps=30\nalpha answer",
            "%%chat --bg --chat b -m echo:tps=30\nbeta answer",
            "import nbstream\nreplies = await nbstream.wait()\nprint([r.status for r in replies])",
        ],
        env=CLEAN_ENV,
    )
    waited = nb.cells[4].outputs
    text = _text(waited)
    assert "alpha answer" in text
    assert "beta answer" in text
    assert "['finished', 'finished']" in text
    assert text.index("alpha answer") < text.index("beta answer")


def test_a_secret_never_reaches_the_saved_notebook(
    backend: BackgroundServer, tmp_path: Path
) -> None:
    path = tmp_path / "secret.ipynb"
    env = {**CLEAN_ENV, "OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": backend.openai_base_url}
    run_notebook(
        [
            "%load_ext nbstream",
            "%%chat -m echo:401\nwho am I?",
            "%%chat -m echo:500 -o failed\nand now?",
            "print(repr(failed), failed.error)",
            "%%chat -m echo --dry-run\nshow me the request",
            "%chat show",
            "%%chat -m echo\nfine",
        ],
        env=env,
        path=path,
    )
    saved = path.read_text()
    assert SECRET not in saved
    assert SECRET[10:30] not in saved
    assert "401" in saved  # the fault did happen and was shown
    seen = [
        r for r in backend.log.snapshot() if r.headers.get("authorization") == f"Bearer {SECRET}"
    ]
    assert seen, "the key was configured for this base URL and should have been sent"


def test_key_for_one_url_is_not_sent_to_another(backend: BackgroundServer, tmp_path: Path) -> None:
    env = {**CLEAN_ENV, "OPENAI_API_KEY": SECRET}  # bound to api.openai.com
    nb = run_notebook(
        ["%load_ext nbstream", f"%%chat --base-url {backend.openai_base_url} -m echo\nhello"],
        env=env,
    )
    assert "not sent to 127.0.0.1" in _text(nb.cells[1].outputs)
    recent = backend.log.snapshot()[-1]
    assert "authorization" not in recent.headers


def test_several_background_chats_each_keep_their_own_output(
    k: Kernel, backend: BackgroundServer
) -> None:
    # Live (not headless): each chat's display updates must land under the cell that started it.
    ids = {
        "alpha": k.submit("%%chat --bg --chat bg1 -m echo:tps=40\nalpha streams here"),
        "beta": k.submit("%%chat --bg --chat bg2 -m echo:tps=40\nbeta streams there"),
    }
    waiter = k.submit("import nbstream\n_ = await nbstream.wait()")
    by_parent: dict[str, list[Message]] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            msg = k.kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        parent = msg["parent_header"].get("msg_id", "")
        by_parent.setdefault(parent, []).append(msg)
        status = msg["content"].get("execution_state") if msg["msg_type"] == "status" else None
        if parent == waiter and status == "idle":
            break
    for word, msg_id in ids.items():
        ex = Execution(msg_id, [m for m in by_parent.get(msg_id, []) if m["msg_type"] != "status"])
        outputs = ex.final_outputs()
        other = "beta" if word == "alpha" else "alpha"
        assert f"{word} streams" in _text(outputs)
        assert f"{other} streams" not in _text(outputs)
        assert _statuses(outputs) == ["finished"]

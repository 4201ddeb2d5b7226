"""``nbstream.chat`` / ``chat_sync`` / ``run_cell_magic`` in a real kernel and in a plain script."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbstream.server import BackgroundServer

from .harness import Kernel
from .test_magic import CLEAN_ENV, _statuses, _text

pytestmark = pytest.mark.kernel

JUPYTER = ("IPython", "ipywidgets", "ipykernel", "nest_asyncio", "nest_asyncio2")


@pytest.fixture(scope="module")
def k(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    kernel = Kernel(env={**CLEAN_ENV, "NBSTREAM_CONFIG_DIR": str(tmp_path_factory.mktemp("c"))})
    try:
        kernel.ok("import nbstream")
        yield kernel
    finally:
        kernel.shutdown()


def test_await_chat_shows_the_view_and_returns_the_reply(
    k: Kernel, backend: BackgroundServer
) -> None:
    ex = k.ok(
        f"r = await nbstream.chat('hello api', model='echo', base_url={backend.openai_base_url!r})\n"
        "print(r.status, '|', r.text)"
    )
    assert ex.stdout.strip().endswith("finished | hello api")
    assert _statuses(ex.final_outputs()) == ["finished"]


def test_nothing_configured_uses_the_demo_backend_and_says_so(k: Kernel) -> None:
    ex = k.ok("r = await nbstream.chat('hi there')\nprint(r.status)")
    assert "demo backend, not a language model" in _text(ex.final_outputs())
    assert ex.stdout.strip().endswith("finished")


def test_chat_sync_inside_a_running_kernel_loop(k: Kernel, backend: BackgroundServer) -> None:
    ex = k.ok(
        f"r = nbstream.chat_sync('sync in a cell', model='echo', base_url={backend.openai_base_url!r},"
        " display=False)\nprint(r.text)"
    )
    assert ex.stdout.strip() == "sync in a cell"
    # The kernel keeps answering afterwards (nest-asyncio 1.6 lost the next request here).
    assert k.ok("print('still alive')").stdout.strip() == "still alive"


def test_run_cell_magic_in_a_running_loop_returns_a_handle(
    k: Kernel, backend: BackgroundServer
) -> None:
    k.ok("%load_ext nbstream")
    ex = k.ok(
        "h = get_ipython().run_cell_magic('chat', "
        f"'-m echo --chat rcm --base-url {backend.openai_base_url}', 'via run_cell_magic')\n"
        "print(type(h).__name__)"
    )
    assert "ChatHandle" in ex.stdout
    ex = k.ok("r = await h\nprint(r.status, '|', r.text)")
    assert ex.stdout.strip().endswith("finished | via run_cell_magic")
    assert "via run_cell_magic" in _text(ex.final_outputs())


def test_chat_sync_in_a_plain_script_loads_no_jupyter(
    backend: BackgroundServer, tmp_path: Path
) -> None:
    code = (
        "import sys, nbstream\n"
        f"r = nbstream.chat_sync('plain script', model='echo', base_url={backend.openai_base_url!r})\n"
        "print(r.status, r.text)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({JUPYTER!r})))\n"
    )
    env = {**CLEAN_ENV, "NBSTREAM_CONFIG_DIR": str(tmp_path)}
    import os

    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
        timeout=60,
    )
    status, loaded = out.stdout.strip().splitlines()
    assert status == "finished plain script"
    assert loaded == "[]"

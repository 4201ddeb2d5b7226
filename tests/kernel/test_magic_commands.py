"""``%chat`` subcommands and the ``%%chat`` options that shape a request, in a real kernel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbstream.server import BackgroundServer

from .harness import Kernel
from .test_magic import CLEAN_ENV, _statuses, _text, _usage_error

# Shaped like a provider key, built at run time so that secret scanners see no key here.
FAKE_KEY = "sk-" + "abcdefghijklmnopqrstu"

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cfg")


@pytest.fixture(scope="module")
def k(cfg: Path) -> Iterator[Kernel]:
    kernel = Kernel(
        env={**CLEAN_ENV, "NBSTREAM_CONFIG_DIR": str(cfg), "LOCAL_KEY": "lk-0123456789"}
    )
    try:
        kernel.ok("%load_ext nbstream")
        yield kernel
    finally:
        kernel.shutdown()


def test_show_config_and_traitlets(k: Kernel, backend: BackgroundServer) -> None:
    shown = _text(k.ok("%chat show").final_outputs())
    assert "embedded demo backend" in shown
    k.ok("%config ChatMagics.model = 'echo'")
    k.ok(f"%chat config base_url={backend.openai_base_url} temperature=0.2")
    shown = _text(k.ok("%chat show").final_outputs())
    assert "| model | echo |" in shown
    assert "| temperature | 0.2 |" in shown
    assert "unknown setting" in _usage_error(k.execute("%chat config colour=red"))
    assert "unknown %chat command" in _usage_error(k.execute("%chat hello there"))


def test_models_lists_the_endpoints_models(k: Kernel, backend: BackgroundServer) -> None:
    k.ok(f"%chat config base_url={backend.openai_base_url}")
    shown = _text(k.ok("%chat models").final_outputs())
    for name in ("echo", "demo", "lorem", "hostile"):
        assert f"`{name}`" in shown


def test_profile_stores_the_variable_name_and_binds_the_key(
    k: Kernel, backend: BackgroundServer, cfg: Path
) -> None:
    k.ok(f"%chat profile local base_url={backend.openai_base_url} model=echo key_env=LOCAL_KEY")
    stored = json.loads((cfg / "profiles.json").read_text())
    assert stored["local"]["api_key_env"] == "LOCAL_KEY"
    assert "lk-0123456789" not in (cfg / "profiles.json").read_text()
    shown = _text(k.ok("%chat show").final_outputs())
    assert "from $LOCAL_KEY" in shown
    last = len(backend.log.snapshot())
    k.ok("%%chat --chat prof\nwith a profile")
    sent = backend.log.snapshot()[last:]
    assert sent[-1].headers.get("authorization") == "Bearer lk-0123456789"
    assert "NAME" in _usage_error(k.execute("%chat profile bad key_env=" + FAKE_KEY))
    k.ok("%chat config api_key_env=")  # leave the key out for the other tests


def test_no_stream_wire_new_no_history_and_reset(k: Kernel, backend: BackgroundServer) -> None:
    k.ok(f"%chat config base_url={backend.openai_base_url} model=echo")
    ex = k.ok("%%chat --chat opts --no-stream -o r\nwhole answer at once\nprint(1)")
    assert "whole answer at once" in _text(ex.final_outputs())
    assert k.ok("print(r.streamed, r.status)").stdout.strip() == "False finished"
    ex = k.ok("%%chat --chat opts --wire\nshow the wire")
    wire = _text(ex.final_outputs())
    assert "raw bytes" in wire
    assert "data: " in wire
    k.ok("%%chat --chat opts --no-history\nnot remembered")
    turns = "import nbstream._magic.cell as m; print(len(m.active.chats.get('opts').turns))"
    assert k.ok(turns).stdout.strip() == "2"
    k.ok("%%chat --chat opts --new\nfresh start")
    assert k.ok(turns).stdout.strip() == "1"
    assert "no turns yet" not in _text(k.ok("%chat history opts").final_outputs())
    k.ok("%chat reset opts")
    assert "no turns yet" in _text(k.ok("%chat history opts").final_outputs())
    assert _statuses(ex.final_outputs()) == ["finished"]


def test_reload_keeps_one_transformer_and_a_working_magic(
    k: Kernel, backend: BackgroundServer
) -> None:
    k.ok("%load_ext nbstream")  # already loaded: a no-op
    k.ok("%reload_ext nbstream")
    count = k.ok(
        "from nbstream._magic.transform import rewrite_chat_cell as r\n"
        "print(get_ipython().input_transformers_cleanup.count(r))"
    )
    assert count.stdout.strip() == "1"
    ex = k.ok(f"%%chat --base-url {backend.openai_base_url} -m echo\nafter reload")
    assert "after reload" in _text(ex.final_outputs())


def test_timeout_ends_a_stalled_stream_with_a_clear_message(
    k: Kernel, backend: BackgroundServer
) -> None:
    k.ok(f"%chat config base_url={backend.openai_base_url}")
    model = "lorem:n=50,tps=0,ttft=0,fault=stall,after=3"
    ex = k.ok(f"%%chat --chat stall --timeout 0.5 -m {model} -o r\ngo")
    assert k.ok("print(r.status)").stdout.strip() == "failed"
    error = k.ok("print(r.error)").stdout.strip()
    assert "no data for 0.5 s" in error
    # The three tokens sent before the stall are kept.
    assert k.ok("print(len(r.text.split()))").stdout.strip() == "3"
    assert error in _text(ex.final_outputs())
    assert "above 0" in _usage_error(k.execute("%%chat --timeout 0\nx"))

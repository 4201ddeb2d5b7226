"""Imports point down only: the import contracts of pyproject.toml, run by import-linter.

import-linter reads every import statement of the package, including those inside functions
and under ``TYPE_CHECKING``, so a lazy upward import fails here as surely as a top-level one.
The same contracts run in CI as ``lint-imports`` (.ci/run).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_contracts_cover_every_layer() -> None:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    [layers] = [c for c in config["contracts"] if c["type"] == "layers"]
    named = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    packages = {
        f"nbstream.{p.name}"
        for p in (PYPROJECT.parent / "nbstream").iterdir()
        if (p / "__init__.py").is_file()
    }
    assert named == packages  # a new package must take its place in the layers
    assert not layers.get("ignore_imports")


def test_import_contracts_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    status = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert status == 0, report


# The chat layer may use IPython, but only inside the functions that display: importing it (as
# `import nbstream` followed by `nbstream.chat` does) must stay cheap in a plain script.
_PROBE = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
jupyter = {"IPython", "ipywidgets", "ipykernel", "nest_asyncio", "nest_asyncio2", "traitlets"}
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & jupyter)))
"""


def test_the_chat_layer_loads_no_jupyter_at_import() -> None:
    modules = [
        "nbstream._chat.chat",
        "nbstream._chat.run",
        "nbstream._chat.wire",
        "nbstream._chat.sync",
    ]
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(modules)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == []

"""Imports point down: the core and the engine load no IPython, ipywidgets or nest_asyncio."""

from __future__ import annotations

import subprocess
import sys

import pytest

JUPYTER = ("IPython", "ipywidgets", "ipykernel", "nest_asyncio", "nest_asyncio2", "traitlets")

# The layers below the Jupyter glue, plus the pure helpers of the chat layer.
BELOW_JUPYTER = [
    "nbstream._deltas",
    "nbstream._errors",
    "nbstream._redact",
    "nbstream._reply",
    "nbstream._stream",
    "nbstream._values",
    "nbstream._sse",
    "nbstream._markdown",
    "nbstream._throttle",
    "nbstream._config",
    "nbstream._config_profiles",
    "nbstream._chat_wire",
    "nbstream._conversation",
    "nbstream._interpolate",
    "nbstream._ticker",
    "nbstream._sync",
    "nbstream._chat",
    "nbstream._chat_run",
    "nbstream._engine",
]


def _loaded_after_import(module: str) -> list[str]:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({JUPYTER!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(eval(out.stdout))


@pytest.mark.parametrize("module", BELOW_JUPYTER)
def test_module_loads_no_jupyter(module: str) -> None:
    assert _loaded_after_import(module) == []


def test_all_of_them_together_load_no_jupyter() -> None:
    code = "; ".join(f"import {m}" for m in BELOW_JUPYTER)
    code += (
        f"; import sys; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({JUPYTER!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

"""Imports point down: the core and the engine load no IPython, ipywidgets or nest_asyncio."""

from __future__ import annotations

import json
import subprocess
import sys

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


# One interpreter imports the modules in order and reports, per module, which Jupyter packages
# had appeared by then: the first culprit is named, at the cost of a single subprocess.
_PROBE = """
import importlib, json, sys
jupyter = set(json.loads(sys.argv[1]))
report = {}
for name in json.loads(sys.argv[2]):
    importlib.import_module(name)
    report[name] = sorted({m.split(".")[0] for m in sys.modules} & jupyter)
print(json.dumps(report))
"""


def test_core_engine_and_chat_helpers_load_no_jupyter() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(JUPYTER), json.dumps(BELOW_JUPYTER)],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(out.stdout)
    assert list(report) == BELOW_JUPYTER
    assert {name: loaded for name, loaded in report.items() if loaded} == {}

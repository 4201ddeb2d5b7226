"""``%%chat`` in terminal IPython: the same rewrite, the answer as plain text on stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nbstream.server import BackgroundServer

from .test_magic import CLEAN_ENV

pytestmark = pytest.mark.kernel


def _ipython(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **CLEAN_ENV, "NBSTREAM_CONFIG_DIR": str(tmp_path)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "IPython",
            "--no-banner",
            "--HistoryManager.enabled=False",
            "--ext",
            "nbstream",
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        check=False,
    )


def test_chat_cell_streams_plain_text(backend: BackgroundServer, tmp_path: Path) -> None:
    out = _ipython(f"%%chat -m echo --base-url {backend.openai_base_url}\nhello terminal", tmp_path)
    assert out.returncode == 0, out.stderr
    assert "hello terminal" in out.stdout
    assert "done" in out.stdout
    assert "<" not in out.stdout  # plain text, not HTML


def test_usage_error_is_one_line(tmp_path: Path) -> None:
    out = _ipython("%%chat --nope\nhi", tmp_path)
    assert "UsageError" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr

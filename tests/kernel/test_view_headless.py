"""StreamView without a widget frontend: nbclient (Run All, save, reopen, nbconvert), terminal IPython.

Nothing tells a kernel that no frontend renders its widgets, so the view shows the same
controls either way; what must hold is that the saved result is clean: the answer in regular
``display_data`` outputs and no widget reference anywhere.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.kernel.harness import REPO, run_notebook

pytestmark = pytest.mark.kernel

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

SOURCE = """
import asyncio, nbstream
async def gen(n, pause):
    for i in range(n):
        await asyncio.sleep(pause)
        yield ("word%d " % i) + ("\\n\\n" if i % 40 == 39 else "")
"""

WORDS = 300
ANSWER = "".join(f"word{i} " + ("\n\n" if i % 40 == 39 else "") for i in range(WORDS))


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nb") / "answer.ipynb"
    run_notebook(
        [
            SOURCE,
            "view = nbstream.StreamView(model='m', endpoint='127.0.0.1:9')\n"
            f"display(view)\nreply = await view.consume(gen({WORDS}, 0.002))",
            "print(reply.status)",
        ],
        path=path,
    )
    return path


def test_reopened_without_a_kernel_the_answer_is_in_display_outputs(saved: Path) -> None:
    raw = saved.read_text()
    assert WIDGET_MIME not in raw
    nb = nbformat.read(str(saved), as_version=4)
    nbformat.validate(nb)
    outputs = nb.cells[1].outputs
    assert {o.output_type for o in outputs} == {"display_data"}
    for out in outputs:  # no empty output (an empty held-back tail left one before)
        assert out.data.get("text/plain", "").strip(), out
        assert set(out.data) == {"text/markdown", "text/plain"}
    status, *answer = outputs
    meta = status.metadata["nbstream"]
    assert (meta["model"], meta["endpoint"], meta["status"]) == ("m", "127.0.0.1:9", "finished")
    assert status.data["text/plain"].startswith("✓ done · m · 127.0.0.1:9")
    assert "".join(o.data["text/plain"] for o in answer) == ANSWER
    assert "<p>word0 word1" in answer[0].data["text/markdown"]
    assert nb.cells[2].outputs[0].text == "finished\n"


def test_nbconvert_to_markdown_keeps_the_answer(saved: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "markdown", "--stdout", str(saved)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    md = done.stdout
    assert "word0 word1" in md
    assert f"word{WORDS - 1}" in md
    assert "✓ done · m" in md
    assert "widget" not in md.lower()


def test_terminal_ipython_streams_plain_text(tmp_path: Path) -> None:
    go = tmp_path / "go"
    code = (
        "import asyncio, os, nbstream\n"
        "async def gen():\n"
        "    yield '**first** part '\n"
        f"    while not os.path.exists({str(go)!r}):\n"  # wait until the reader saw it
        "        await asyncio.sleep(0.01)\n"
        "    yield 'and `the rest`.'\n"
        "view = nbstream.StreamView(model='m')\n"
        "display(view)\n"
        "reply = await view.consume(gen())\n"
        "print('STATUS', reply.status)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "IPython", "--no-banner", "--quick", "--colors=NoColor", "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert proc.stdout is not None
    try:
        # The first delta is on stdout while the stream is still open: it streams.
        seen = b""
        deadline = time.monotonic() + 60
        while b"part" not in seen:
            assert time.monotonic() < deadline, seen
            chunk = proc.stdout.read1(1024)
            assert chunk, (seen, proc.stderr.read() if proc.stderr else b"")
            seen += chunk
        go.touch()
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    text = (seen + out).decode()
    assert proc.returncode == 0, err.decode()
    lines = text.splitlines()
    assert lines[0] == "**first** part and `the rest`."  # the exact markdown, as it came
    assert lines[1].startswith("[✓ done · m · 2 tokens")
    assert lines[2] == "STATUS finished"
    assert "<" not in text  # no HTML, no widget repr

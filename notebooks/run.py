"""Re-execute the teaching notebooks headless and save them with their outputs.

    python notebooks/run.py                 # all of them, saved in place
    python notebooks/run.py 02              # the ones whose name starts with 02
    python notebooks/run.py --check         # execute copies, compare with the saved files, save nothing
    python notebooks/run.py --record 04     # record 04's exchanges again, then run and save it

Each notebook runs top to bottom in a fresh kernel (nbclient, as "Run All" does), offline, in
replay mode: every chat is answered from its cassette in ``notebooks/cassettes/``
(``NBSTREAM_REPLAY=cassettes``), with the rhythm it was recorded with, so runs are the same
everywhere. Variables that would point ``%%chat`` at a real service are removed from the
kernel's environment first.

``--record`` deletes the notebook's cassettes and runs it once with ``NBSTREAM_RECORD`` to record
every exchange again, from the embedded backend and, for cells that name
``http://127.0.0.1:8080/v1``, from a real llama.cpp server (xllamacpp with gemma3-270m, started
on that port for the run); then it runs and saves the notebook in replay mode as usual.

``--check`` is what CI's notebook test does: the structure of a fresh run (cells, output types,
the texts of cells tagged ``check-output``) must equal the structure of the committed file.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
#: The notebooks' cassettes; the kernels run in HERE, so the relative name is what they see.
CASSETTES = "cassettes"
#: Where cells that replay a real model say it was: llama-server's default address.
LLAMA_URL = "http://127.0.0.1:8080/v1"

#: Cells with this tag must reproduce their text outputs exactly on every run.
CHECK_TAG = "check-output"

#: Environment variables that would send the notebooks to a real service instead of the
#: embedded backend (and the keys that would go with them).
_ENDPOINT_VARS = re.compile(r"^(OPENAI_|ANTHROPIC_|OLLAMA_|NBSTREAM_)")

# Output metadata that changes on every run and says nothing about the notebook's content.
_VOLATILE_CELL_METADATA = ("execution",)


def notebooks(prefixes: list[str] | None = None) -> list[Path]:
    """The teaching notebooks (``NN-name.ipynb``), optionally only those matching ``prefixes``."""
    paths = sorted(HERE.glob("[0-9][0-9]-*.ipynb"))
    if prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) for x in prefixes)]
    return paths


@contextmanager
def offline_environment(**extra: str) -> Iterator[None]:
    """Remove endpoint and key variables from ``os.environ`` (the kernel inherits it) for a while.

    Args:
        **extra: Variables to set meanwhile (the cassette mode, the notebook's name).
    """
    saved = {k: v for k, v in os.environ.items() if _ENDPOINT_VARS.match(k) or k in extra}
    for key in saved:
        del os.environ[key]
    os.environ.update(extra)
    try:
        yield
    finally:
        for key in extra:
            os.environ.pop(key, None)
        os.environ.update(saved)


def execute(path: Path, *, timeout: int = 120, record: bool = False) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in a fresh kernel and return it with its new outputs.

    Args:
        path: The notebook file; it is read, not written.
        timeout: Seconds any one cell may take.
        record: Record every exchange into the cassettes instead of replaying them.

    Returns:
        The executed notebook, with volatile metadata removed (see :func:`clean`).

    Raises:
        nbclient.exceptions.CellExecutionError: A cell raised (and is not tagged
            ``raises-exception``).
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        store_widget_state=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    mode = "NBSTREAM_RECORD" if record else "NBSTREAM_REPLAY"
    # JPY_SESSION_NAME is what jupyter_server tells a notebook's kernel: cassettes take its name.
    with offline_environment(**{mode: CASSETTES, "JPY_SESSION_NAME": path.name}):
        client.execute()
    return clean(nb)


def record(path: Path, *, timeout: int = 120) -> int:
    """Record a notebook's exchanges again: delete its cassettes, run it with ``NBSTREAM_RECORD``.

    Returns:
        How many cassettes it has now.
    """
    folder = HERE / CASSETTES
    for old in folder.glob(f"{path.stem}-*.json"):
        old.unlink()
    llama = None
    cells = nbformat.read(path, as_version=4).cells
    if any(c.cell_type == "code" and LLAMA_URL in c.source for c in cells):
        # The test helper that starts a real llama.cpp server, on llama-server's default port.
        sys.path.insert(0, str(HERE.parent))
        from tests.integration.llamacpp import LlamaCppServer

        llama = LlamaCppServer(port=8080, alias="gemma3-270m")
    try:
        execute(path, timeout=timeout, record=True)
    finally:
        if llama is not None:
            llama.close()
    return len(list(folder.glob(f"{path.stem}-*.json")))


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what differs between runs without meaning anything (timing records, widget state)."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    return nb


def _merge_streams(outputs: list[Any]) -> list[Any]:
    # How printed text is cut into stream outputs depends on when the kernel flushed stdout,
    # which varies from run to run; what the reader sees is the concatenation.
    merged: list[Any] = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (
            out.output_type == "stream"
            and last is not None
            and last.output_type == "stream"
            and last.name == out.name
        ):
            merged[-1] = nbformat.NotebookNode({**last, "text": last.text + out.text})
        else:
            merged.append(out)
    return merged


def _texts(outputs: list[Any]) -> list[str]:
    texts = []
    for out in outputs:
        if out.output_type == "stream":
            texts.append(out.text)
        elif out.output_type in ("display_data", "execute_result"):
            provenance = out.get("metadata", {}).get("nbstream")
            if provenance is not None:
                # The view's status line carries timings and the backend's port: only its
                # status word is reproducible.
                texts.append(f"[status: {provenance.get('status')}]")
                continue
            data = out.data
            texts.append(data.get("text/markdown") or data.get("text/plain") or "")
        elif out.output_type == "error":
            texts.append(f"{out.ename}: {out.evalue}")
    return texts


def structure(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """What must not change between two runs of a notebook, cell by cell.

    For every cell: its type; for code cells, the output types with their mime types;
    for cells tagged ``check-output``, also the texts of the outputs (of the view's status line,
    only the status: its timings and port change from run to run).
    """
    cells = []
    for cell in nb.cells:
        entry: dict[str, Any] = {"type": cell.cell_type}
        if cell.cell_type == "code":
            outputs = _merge_streams(cell.outputs)
            entry["outputs"] = [
                (out.output_type, sorted(out.get("data", {})) or out.get("name", ""))
                for out in outputs
            ]
            if CHECK_TAG in cell.metadata.get("tags", []):
                entry["texts"] = _texts(outputs)
        cells.append(entry)
    return cells


def differences(saved: nbformat.NotebookNode, fresh: nbformat.NotebookNode) -> list[str]:
    """Readable lines describing how a fresh run's structure differs from the saved one."""
    a, b = structure(saved), structure(fresh)
    lines = []
    if len(a) != len(b):
        lines.append(f"cell count: saved {len(a)}, fresh {len(b)}")
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        for key in ("type", "outputs", "texts"):
            if x.get(key) != y.get(key):
                lines.append(f"cell {i} {key}: saved {x.get(key)!r}, fresh {y.get(key)!r}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook name prefixes (default: all)")
    parser.add_argument("--check", action="store_true", help="compare, do not save")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    parser.add_argument(
        "--record", action="store_true", help="record the exchanges again before running"
    )
    args = parser.parse_args(argv)
    status = 0
    for path in notebooks(args.names):
        if args.record:
            start = time.monotonic()
            count = record(path, timeout=args.timeout)
            print(f"{path.name}: {time.monotonic() - start:.1f} s, {count} cassettes recorded")
        start = time.monotonic()
        fresh = execute(path, timeout=args.timeout)
        took = time.monotonic() - start
        if args.check:
            diff = differences(nbformat.read(path, as_version=4), fresh)
            print(f"{path.name}: {took:.1f} s, {'same structure' if not diff else 'DIFFERS'}")
            for line in diff:
                print(f"  {line}")
            status |= bool(diff)
        else:
            nbformat.validate(fresh)
            nbformat.write(fresh, path)
            print(f"{path.name}: {took:.1f} s, saved")
    return status


if __name__ == "__main__":
    sys.exit(main())

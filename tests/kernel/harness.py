"""A real IPython kernel driven through jupyter_client, for the view and magic tests.

No fakes: the kernel is ipykernel in its own process, messages go over ZMQ, widget clicks are the
comm messages a frontend sends. What a frontend would see is what :class:`Execution` collects.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

Message = dict[str, Any]

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Execution:
    """Everything the kernel published for one execute request, in order."""

    msg_id: str
    messages: list[Message] = field(default_factory=list)
    reply: Message | None = None

    @property
    def status(self) -> str:
        """``"ok"``, ``"error"`` or ``"aborted"`` from the execute reply."""
        assert self.reply is not None, "the execute request has not been answered"
        return str(self.reply["content"]["status"])

    def of_type(self, *types: str) -> list[Message]:
        """The iopub messages of the given types."""
        return [m for m in self.messages if m["msg_type"] in types]

    @property
    def stdout(self) -> str:
        """Everything printed to stdout."""
        return "".join(
            m["content"]["text"] for m in self.of_type("stream") if m["content"]["name"] == "stdout"
        )

    @property
    def stderr(self) -> str:
        """Everything printed to stderr."""
        return "".join(
            m["content"]["text"] for m in self.of_type("stream") if m["content"]["name"] == "stderr"
        )

    @property
    def error(self) -> Message | None:
        """The ``error`` message, if the cell raised."""
        errors = self.of_type("error")
        return errors[0] if errors else None

    def widget_comms(self, model_name: str | None = None) -> list[str]:
        """Comm ids of the widgets the cell created (optionally only of one model, e.g. ButtonModel)."""
        ids = []
        for m in self.of_type("comm_open"):
            state = m["content"].get("data", {}).get("state", {})
            if model_name is None or state.get("_model_name") == model_name:
                ids.append(m["content"]["comm_id"])
        return ids

    def final_outputs(self) -> list[dict[str, Any]]:
        """The outputs as a frontend would hold them at the end (display ids applied)."""
        outputs: list[dict[str, Any]] = []
        by_display: dict[str, list[int]] = {}
        for m in self.messages:
            t, c = m["msg_type"], m["content"]
            if t == "clear_output":
                outputs.clear()
                by_display.clear()
            elif t in ("display_data", "execute_result", "stream", "error"):
                out = {"output_type": t, **c}
                did = c.get("transient", {}).get("display_id")
                if did:
                    by_display.setdefault(did, []).append(len(outputs))
                outputs.append(out)
            elif t == "update_display_data":
                did = c.get("transient", {}).get("display_id")
                for i in by_display.get(did, []):
                    outputs[i] = {**outputs[i], "data": c["data"], "metadata": c["metadata"]}
        return outputs


def message_bytes(msg: Message) -> int:
    """Size of a message's header, metadata and content as JSON: what crosses the wire."""
    parts = (
        msg.get("header", {}),
        msg.get("parent_header", {}),
        msg.get("metadata", {}),
        msg["content"],
    )
    return sum(len(json.dumps(p, default=str).encode()) for p in parts)


class Kernel:
    """A running ipykernel with a connected client.

    Args:
        env: Extra environment variables for the kernel process.
        cwd: Working directory of the kernel.
    """

    def __init__(self, env: dict[str, str] | None = None, cwd: str | Path | None = None) -> None:
        self.km = KernelManager(kernel_name="python3")
        full_env = {**os.environ, **(env or {})}
        full_env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        self.km.start_kernel(
            env=full_env, cwd=str(cwd or REPO), extra_arguments=["--HistoryManager.enabled=False"]
        )
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def submit(self, code: str, *, cell_id: str | None = None) -> str:
        """Send an execute request without waiting; returns its msg_id."""
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        metadata = {"cellId": cell_id} if cell_id else {}
        msg = self.kc.session.msg("execute_request", content, metadata=metadata)
        self.kc.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])

    def collect(
        self,
        msg_id: str,
        *,
        timeout: float = 60,
        on_message: Callable[[Message], None] | None = None,
    ) -> Execution:
        """Gather iopub messages for ``msg_id`` until the kernel is idle and the reply arrived.

        Args:
            msg_id: The execute request's id.
            timeout: Seconds before giving up (raises ``TimeoutError``).
            on_message: Called with each of the request's iopub messages as it arrives (to click a
                button when the first token shows, say).
        """
        ex = Execution(msg_id)
        deadline = time.monotonic() + timeout
        idle = False
        while not (idle and ex.reply is not None):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"kernel did not finish {msg_id} in {timeout} s; got {len(ex.messages)} messages"
                )
            if not idle:
                try:
                    msg = self.kc.get_iopub_msg(timeout=min(remaining, 0.05))
                except queue.Empty:
                    msg = None
                if msg is not None and msg["parent_header"].get("msg_id") == msg_id:
                    if msg["msg_type"] == "status":
                        idle = msg["content"]["execution_state"] == "idle"
                    else:
                        msg["received"] = time.monotonic()
                        ex.messages.append(msg)
                        if on_message is not None:
                            on_message(msg)
            if ex.reply is None:
                try:
                    reply = self.kc.get_shell_msg(timeout=0 if not idle else min(remaining, 0.05))
                except queue.Empty:
                    reply = None
                if reply is not None and reply["parent_header"].get("msg_id") == msg_id:
                    ex.reply = reply
        return ex

    def execute(
        self, code: str, *, timeout: float = 60, cell_id: str | None = None, **kw: Any
    ) -> Execution:
        """Run ``code`` and return what it published."""
        return self.collect(self.submit(code, cell_id=cell_id), timeout=timeout, **kw)

    def ok(self, code: str, **kw: Any) -> Execution:
        """Run ``code`` and fail the test with the kernel's traceback if it raised."""
        ex = self.execute(code, **kw)
        if ex.status != "ok":
            err = ex.error["content"] if ex.error else ex.reply
            raise AssertionError(f"cell failed: {err}\nstderr: {ex.stderr}")
        return ex

    def comm_msg(self, comm_id: str, data: dict[str, Any]) -> None:
        """Send a comm message to the kernel, as a frontend does."""
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.kc.shell_channel.send(msg)

    def click(self, comm_id: str) -> float:
        """Click an ipywidgets Button; returns the monotonic time the click was sent."""
        sent = time.monotonic()
        self.comm_msg(comm_id, {"method": "custom", "content": {"event": "click"}})
        return sent

    def interrupt(self) -> float:
        """Send SIGINT to the kernel (the ■ button); returns the monotonic time it was sent."""
        sent = time.monotonic()
        self.km.interrupt_kernel()
        return sent

    def shutdown(self) -> None:
        """Stop the client and the kernel process."""
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@contextmanager
def kernel(env: dict[str, str] | None = None, cwd: str | Path | None = None) -> Iterator[Kernel]:
    """A kernel for the duration of a ``with`` block."""
    k = Kernel(env=env, cwd=cwd)
    try:
        yield k
    finally:
        k.shutdown()


def run_notebook(
    cells: list[str],
    *,
    timeout: int = 120,
    env: dict[str, str] | None = None,
    path: Path | None = None,
) -> nbformat.NotebookNode:
    """Execute code cells top to bottom with nbclient (Run All, headless) and return the notebook.

    Args:
        cells: Source of each code cell.
        timeout: Per-cell timeout in seconds.
        env: Extra environment variables for the kernel.
        path: Where to save the executed notebook, if anywhere.
    """
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
        )
        client.execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if path is not None:
        nbformat.write(nb, str(path))
    return nb


PYTHON = sys.executable

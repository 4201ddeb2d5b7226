"""What the real-kernel benchmarks share: a kernel, the embedded backend beside it, a cell's output.

The backend runs in a child process of the benchmark (``nbstream.server.start()``), so that its
CPU is never the kernel's; it lives until the benchmark closes its stdin.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jupyter_client.manager import start_new_kernel

_SERVER = (
    "import sys, nbstream.server as s\n"
    "server = s.start()\n"
    "print(server.url, flush=True)\n"
    "sys.stdin.read()\n"  # until the benchmark closes our stdin
)


@contextmanager
def kernel(*, backend: bool = True) -> Iterator[tuple[str, Any]]:
    """A started kernel's client and the backend's URL (``""`` without a backend)."""
    server = None
    if backend:
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    manager, client = start_new_kernel()
    try:
        url = ""
        if server is not None:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
        yield url, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        if server is not None:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(timeout=10)


def printed(client: Any, code: str, timeout: float = 60.0) -> str:
    """Run ``code`` and return what it printed, once the kernel is idle again."""
    msg_id = client.execute(code)
    text = ""
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            text += msg["content"]["text"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return text

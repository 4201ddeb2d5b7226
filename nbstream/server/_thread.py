"""Run an ASGI app with uvicorn in a background thread, on a free loopback port.

Used by :func:`nbstream.server.start`, by the tests (a real socket on 127.0.0.1, never a mock)
and by the notebooks. The thread owns its own event loop, so the server keeps answering while
the caller's loop (a notebook cell, a test) is busy awaiting the stream it serves.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

__all__ = ["ServerThread"]


class ServerThread:
    """A uvicorn server for ``app`` running in a daemon thread.

    Args:
        app: The ASGI application.
        host: Address to bind; loopback by default, and tests must keep it so.
        port: Port to bind; ``0`` picks a free one (see :attr:`port` after :meth:`start`).
        log_level: uvicorn's log level.
    """

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
    ) -> None:
        self.app = app
        self.host = host
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Bind before starting so that the port is known, and taken, before start() returns.
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level=log_level,
            lifespan="off",
            # Short keep-alive and graceful-shutdown timeouts: a stopped test server must not
            # hold the process for seconds waiting on an idle client.
            timeout_keep_alive=5,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"nbstream-server-{self.port}", daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:43123``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server thread is alive."""
        return self._thread.is_alive()

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self, timeout: float = 10.0) -> ServerThread:
        """Start serving and wait until the server accepts connections.

        Args:
            timeout: Seconds to wait for start-up.

        Returns:
            This server, running.

        Raises:
            RuntimeError: The server did not start in time.
        """
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.002)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the server to exit and wait for its thread; safe to call twice."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start() if not self._thread.is_alive() else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

"""The backend running in a background thread: :func:`start`, :func:`shared`, :class:`BackgroundServer`."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ._app import create_app
from ._log import RequestLog, RequestRecord
from ._thread import ServerThread

__all__ = ["BackgroundServer", "shared", "start"]


class BackgroundServer:
    """The backend serving on a loopback port from a daemon thread, with its request log.

    Use it as a context manager, or call :meth:`stop`. The thread has its own event loop, so
    the server keeps streaming while the caller's loop awaits the stream.

    Args:
        host: Address to bind (loopback by default).
        port: Port to bind; ``0`` picks a free one.
        replay: A folder of cassettes to answer from instead of the demo models.
        speed: The replay pace.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        replay: str | Path | None = None,
        speed: float = 1.0,
    ) -> None:
        self.log = RequestLog()
        self.app = create_app(self.log, replay=replay, speed=speed)
        self._thread = ServerThread(self.app, host=host, port=port)
        self._running = False

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:43123``."""
        return self._thread.url

    @property
    def openai_base_url(self) -> str:
        """The base URL an OpenAI client takes (``url + "/v1"``)."""
        return self.url + "/v1"

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self._thread.port

    @property
    def running(self) -> bool:
        """Whether it is serving."""
        return self._running

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Start serving; return once the port accepts connections.

        Raises:
            RuntimeError: It did not start within ``timeout`` seconds.
        """
        if not self._running:
            self._thread.start(timeout)
            self._running = True
        return self

    def stop(self) -> None:
        """Stop serving and join the thread; safe to call twice."""
        if self._running:
            self._running = False
            self._thread.stop()

    def wait_for(
        self, predicate: Callable[[RequestRecord], bool], timeout: float = 10.0
    ) -> RequestRecord:
        """Wait until a logged request satisfies ``predicate`` (see :meth:`RequestLog.wait_for`)."""
        return self.log.wait_for(predicate, timeout)

    def wait_for_disconnect(
        self, timeout: float = 10.0, *, model: str | None = None
    ) -> RequestRecord:
        """Wait until the server has noticed a client disconnect; return that request's record.

        Args:
            timeout: Seconds to wait.
            model: Only a request for this model, spelled as the client sent it (options
                included, e.g. ``"lorem:n=20,fault=stall"``). A server shared by many clients
                (a test session) has older disconnects in its log: name the request you mean.

        Raises:
            TimeoutError: No matching disconnect was seen within ``timeout`` seconds.
        """
        return self.log.wait_for(
            lambda r: (
                r.disconnected_at is not None and (model is None or r.requested_model == model)
            ),
            timeout,
        )

    def wait_until_done(self, timeout: float = 10.0) -> RequestRecord:
        """Wait until the latest request has ended, however it ended; return its record."""
        latest = self.log[-1].id if len(self.log) else 0
        return self.log.wait_for(lambda r: r.id == latest and r.outcome != "running", timeout)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        return f"<BackgroundServer {self.url} {state}, {len(self.log)} requests>"


def start(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    replay: str | Path | None = None,
    speed: float = 1.0,
) -> BackgroundServer:
    """Start the backend in a background thread on a free loopback port.

    Args:
        host: Address to bind; keep the loopback default unless you mean to serve a network.
        port: Port to bind; ``0`` picks a free one.
        replay: A folder of cassettes: answer every POST from the one recorded for it.
        speed: The replay pace (``1.0`` as recorded, ``math.inf`` at once).

    Returns:
        The running server (a context manager: ``with nbstream.server.start() as server:``).

    Raises:
        RuntimeError: It did not start within 10 s.
        OSError: The port could not be bound.
    """
    return BackgroundServer(host=host, port=port, replay=replay, speed=speed).start()


_shared: BackgroundServer | None = None
_shared_lock = threading.Lock()


def shared() -> BackgroundServer:
    """The process-wide backend, started on first use and stopped at exit.

    ``%%chat`` and :func:`nbstream.chat` use it when no endpoint is configured, and say so
    ("demo backend, not a language model").

    Returns:
        The running shared server.
    """
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running:
            _shared = start()
            atexit.register(_shared.stop)
        return _shared

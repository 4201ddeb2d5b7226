"""The backend's request log: what each request asked for and how its stream ended.

The server thread writes records; tests and notebooks on other threads read them and wait on
them. All times are :func:`time.monotonic` values, the same clock a client in the same process
(or, on Linux, any process) reads, so a client can subtract its own timestamps.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = ["Outcome", "RequestLog", "RequestRecord"]

#: ``finished``: the whole stream was sent; ``disconnected``: the client went away first;
#: ``hung-up``: the server dropped the connection (the ``disconnect`` fault); ``rejected``: an
#: error status was returned instead of a stream.
Outcome = Literal["running", "finished", "disconnected", "hung-up", "rejected"]


@dataclass(slots=True)
class RequestRecord:
    """One request, updated by the server as its stream progresses.

    Attributes:
        id: Sequence number, from 1.
        path: The URL path, e.g. ``/v1/chat/completions``.
        model: The model that answers (``demo``, ``echo`` …).
        requested_model: The model name as the client sent it, options included.
        fault: The fault applied, or ``None``.
        options: The non-default options, in the option syntax.
        stream: Whether a stream was asked for.
        status: The HTTP status sent.
        started: When the request arrived.
        first_byte: When the first body bytes were handed to the server.
        finished_at: When the last bytes were handed to the server.
        disconnected_at: When the server noticed the client had gone.
        tokens_sent: Answer tokens handed to the server so far.
        outcome: How the request ended (see :data:`Outcome`).
        headers: The request headers (lower-case names), as received.
    """

    id: int
    path: str
    model: str = ""
    requested_model: str = ""
    fault: str | None = None
    options: str = ""
    stream: bool = False
    status: int = 200
    started: float = dataclasses.field(default_factory=time.monotonic)
    first_byte: float | None = None
    finished_at: float | None = None
    disconnected_at: float | None = None
    tokens_sent: int = 0
    outcome: Outcome = "running"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


class RequestLog:
    """A thread-safe list of :class:`RequestRecord`, with waiting.

    Iterating or indexing gives a snapshot; records themselves keep changing while their
    stream runs.
    """

    def __init__(self) -> None:
        self._records: list[RequestRecord] = []
        self._count = 0
        self._changed = threading.Condition()

    def new(self, path: str) -> RequestRecord:
        """Start and append a record for a request to ``path``."""
        with self._changed:
            self._count += 1
            record = RequestRecord(id=self._count, path=path)
            self._records.append(record)
            self._changed.notify_all()
            return record

    def update(self, record: RequestRecord, **changes: object) -> None:
        """Change fields of ``record`` and wake the waiters."""
        with self._changed:
            for name, value in changes.items():
                setattr(record, name, value)
            self._changed.notify_all()

    def end(self, record: RequestRecord, outcome: Outcome) -> None:
        """Record how ``record`` ended (only the first call counts) and stamp the time."""
        with self._changed:
            if record.outcome != "running":
                return
            record.outcome = outcome
            now = time.monotonic()
            if outcome == "disconnected":
                record.disconnected_at = now
            else:
                record.finished_at = now
            self._changed.notify_all()

    def snapshot(self) -> list[RequestRecord]:
        """A copy of the list of records (the records are shared, not copied)."""
        with self._changed:
            return list(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._changed:
            return len(self._records)

    def __getitem__(self, index: int) -> RequestRecord:
        with self._changed:
            return self._records[index]

    def clear(self) -> None:
        """Forget all records (ids keep counting up)."""
        with self._changed:
            self._records.clear()

    def wait_for(
        self, predicate: Callable[[RequestRecord], bool], timeout: float = 10.0
    ) -> RequestRecord:
        """Wait until some record satisfies ``predicate``; return the latest such record.

        Args:
            predicate: Tested on every record whenever the log changes.
            timeout: Seconds to wait.

        Returns:
            The most recent matching record.

        Raises:
            TimeoutError: No record matched in time.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for record in reversed(self._records):
                    if predicate(record):
                        return record
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no request in the log matched within {timeout:g} s")
                self._changed.wait(left)

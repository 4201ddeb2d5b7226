"""DeltaStream: the seam between whatever produces deltas and whatever shows them.

The engine returns a :class:`DeltaStream` over its HTTP stream; the view wraps a user's own
async generator in one. Either way the consumer iterates deltas and, at any moment, asks
:attr:`DeltaStream.reply` for the :class:`~nbstream.Reply` so far, with the status that says how
the stream ended:

- the source is exhausted → ``"finished"`` (or ``"truncated"`` when the source said, with an
  :class:`~nbstream.End` delta, that the terminal marker never came);
- the source raised → ``"failed"``, the partial text kept, the error described in one line, and
  the exception re-raised to the consumer;
- the consuming task was cancelled → ``"cancelled"``, with the reason recorded by
  :meth:`DeltaStream.note_cancel` (``"cancelled by user"``, ``"interrupted"`` …); the
  :class:`asyncio.CancelledError` always propagates.

The seam knows no transport: the error of a failed source is described by ``describe``, which
the engine sets to the HTTP layer's :func:`~nbstream._http.transport.describe_http_error`.
Stdlib only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import TypeAlias

from .deltas import Delta, TextDelta
from .errors import NbstreamError
from .reply import Reply, ReplyBuilder, Status
from .secrets import redact
from .values import public

__all__ = ["DeltaStream", "Describe", "describe_error"]

Describe: TypeAlias = Callable[[BaseException, Iterable[str | None]], str]
"""How a stream describes the exception that ended it: ``describe(exc, secrets)``."""


def describe_error(exc: BaseException, secrets: Iterable[str | None] = ()) -> str:
    """Describe an exception in one readable line that says what happened, with keys masked.

    Args:
        exc: The exception that ended a stream.
        secrets: Keys to mask in addition to the registered ones.

    Returns:
        One line, e.g. ``"ValueError: not a number"``.
    """
    if isinstance(exc, NbstreamError):
        text = str(exc)
    else:
        detail = str(exc)
        text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return redact(" ".join(text.split()), secrets)


@public
class DeltaStream(AsyncIterator[Delta]):
    """An async iterator of deltas that accumulates its :class:`~nbstream.Reply` as it goes.

    Args:
        source: The deltas. Plain strings are taken as text deltas stamped on arrival, so any
            async generator of text can be shown and measured like a server's stream.
        format: The wire format's name, for the reply (a :class:`~nbstream.Metadata` delta in
            the source may set it instead).
        endpoint: The server's host, for provenance.
        started: Monotonic start time of the request (default: now).
        secrets: Keys to mask in error messages.
        describe: Describes the exception that ends the stream, for the reply's ``error``
            (default :func:`describe_error`).
    """

    def __init__(
        self,
        source: AsyncIterable[Delta | str],
        *,
        format: str = "",
        endpoint: str = "",
        started: float | None = None,
        secrets: Iterable[str | None] = (),
        describe: Describe = describe_error,
    ) -> None:
        self.builder = ReplyBuilder(started=started, format=format, endpoint=endpoint)
        self._source = source
        self._iterator = source.__aiter__()
        self._secrets = tuple(s for s in secrets if s)
        self._describe = describe
        self._final: Reply | None = None
        self._cancel_reason: str | None = None

    def __aiter__(self) -> DeltaStream:
        return self

    async def __anext__(self) -> Delta:
        if self._final is not None:
            raise StopAsyncIteration
        try:
            item = await self._iterator.__anext__()
        except StopAsyncIteration:
            # A source that just stops without an End delta (a user's generator) is complete.
            if self.builder.complete is None:
                self.builder.complete = True
            self._end()
            raise
        except asyncio.CancelledError:
            self._end("cancelled", self._cancel_reason or "cancelled")
            raise
        except Exception as exc:
            self._end("failed", self._describe(exc, self._secrets), exc)
            raise
        delta: Delta = TextDelta(item, time=time.monotonic()) if isinstance(item, str) else item
        self.builder.add(delta)
        return delta

    def note_cancel(self, reason: str) -> None:
        """Record why the consumer is about to cancel (shown as the reply's ``error``).

        Args:
            reason: A short phrase: ``"cancelled by user"``, ``"interrupted"``, ``"timed out"``.
        """
        if self._cancel_reason is None:
            self._cancel_reason = reason

    def _end(
        self,
        status: Status | None = None,
        error: str | None = None,
        exc: BaseException | None = None,
    ) -> None:
        if self._final is None:
            self._final = self.builder.build(status=status, error=error, exception=exc)

    @property
    def done(self) -> bool:
        """``True`` once the stream has ended, however it ended."""
        return self._final is not None

    @property
    def reply(self) -> Reply:
        """The reply: final once the stream ended, otherwise a snapshot of what arrived so far.

        A snapshot taken before the end has status ``"cancelled"`` when a cancel was noted and
        ``"truncated"`` otherwise.
        """
        if self._final is not None:
            return self._final
        if self._cancel_reason is not None:
            return self.builder.build(status="cancelled", error=self._cancel_reason)
        return self.builder.build(status="truncated", error="the stream has not ended")

    async def aclose(self) -> None:
        """Stop the stream and release its connection; the reply so far becomes final.

        Safe to call more than once, and after the stream ended.
        """
        if self._final is None:
            self._end("cancelled", self._cancel_reason or "closed before the end")
        closer = getattr(self._iterator, "aclose", None)
        if closer is not None:
            await closer()

    async def __aenter__(self) -> DeltaStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

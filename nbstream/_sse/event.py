"""The value the SSE decoder produces: one dispatched event, immutable and cheap to build.

:class:`ServerSentEvent` is a named tuple rather than a frozen dataclass for speed: the decoder
builds events from C (``tuple.__new__`` over ``zip``), about 10x fewer instructions per event
than a frozen slotted dataclass's ``__init__``, which matters on a stream of 100k small events
whose whole decoding budget is a quarter of one ``json.loads`` (benchmarks/sse_decode.py). It
keeps the value-object contract of the rest of the package: fields are read-only, equality and
hashing ignore the arrival time, the repr omits defaults. Stdlib only.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from .._core.values import public

__all__ = ["ServerSentEvent", "retry_value"]


def retry_value(digits: bytes) -> int:
    """The reconnection time a ``retry`` field of ASCII digits gives, in ms.

    ``int()`` refuses more than ``sys.get_int_max_str_digits()`` digits (4,300 by default); the
    spec has no such limit and a malformed stream must not raise, so a longer value goes
    through :class:`decimal.Decimal`, whose conversion to ``int`` has none either.
    """
    try:
        return int(digits)
    except ValueError:
        import decimal  # rare: only for absurdly long values

        return int(decimal.Decimal(digits.decode("ascii")))


@public
class ServerSentEvent(NamedTuple):
    """One dispatched event.

    Attributes:
        event: The event type; ``"message"`` when the server gave none.
        data: The data lines joined with LF.
        id: The last event id at dispatch (it persists across events), ``""`` if none.
        retry: The reconnection time in ms given in this event's own block, else ``None``.
        time: Monotonic arrival time of the chunk that completed the event; not compared.
    """

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None
    time: float = 0.0

    def json(self) -> Any:
        """Parse :attr:`data` as JSON.

        Returns:
            The parsed value.

        Raises:
            json.JSONDecodeError: The data is not JSON (``[DONE]``, for instance).
        """
        return json.loads(self.data)

    # Equality and hashing leave out `time` (two reads of the same stream are equal). Another
    # tuple is never equal, even with the same items: an event is a value, not a sequence.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, ServerSentEvent):
            return self[:4] == other[:4]
        return False if isinstance(other, tuple) else NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self[:4])

    # Tuple ordering would compare the arrival time too; events have no order (as a dataclass
    # without order=True), so <, <=, >, >= raise TypeError.
    def __lt__(self, other: object) -> bool:
        return NotImplemented

    def __le__(self, other: object) -> bool:
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        return NotImplemented

    def __repr__(self) -> str:
        defaults = self._field_defaults
        parts = [
            f"{name}={value!r}"
            for name, value in zip(self._fields[:4], self, strict=False)
            if value != defaults[name]
        ]
        return f"ServerSentEvent({', '.join(parts)})"

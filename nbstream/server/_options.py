"""Per-request options of the embedded backend: pacing and faults, parsed from a model name.

One syntax everywhere: ``key=value`` pairs separated by commas. They may follow the model name
after a colon (``demo:tps=20,fault=stall``), come in the ``X-Nbstream-Options`` header
(``tps=20,fault=stall``) or as query parameters (``?tps=20&fault=stall``). Later sources win:
model name, then header, then query. A bare word in the list is a fault (``demo:stall`` is
``demo:fault=stall``), so short names read well in a ``%%chat -m`` line.

Pure: stdlib only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["FAULTS", "MODELS", "OptionError", "Options", "parse_options", "split_model"]

#: The models with deterministic content; any other name answers like ``demo``.
MODELS: tuple[str, ...] = ("demo", "echo", "hostile", "lorem")

#: Every fault, by name (docs/backend.md describes each).
FAULTS: tuple[str, ...] = (
    "401",
    "403",
    "429",
    "500",
    "502",
    "503",
    "504",
    "529",
    "reset",
    "stream-options-400",
    "stream-options-422",
    "stall",
    "disconnect",
    "error-chunk",
    "error-event",
    "malformed",
    "no-done",
    "no-stream",
    "buffer",
    "crlf",
    "bad-utf8",
    "huge",
    "gzip",
    "empty",
    "nolf",
    "single-lf",
)


class OptionError(ValueError):
    """An option is unknown or its value is not valid; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Options:
    """Pacing and fault settings of one request.

    Args:
        tps: Tokens per second; ``0`` sends as fast as the socket takes them.
        ttft: Seconds before the first token (time to first token).
        jitter: Random spread of each interval, as a fraction of it (0 to 1), seeded by ``seed``.
        seed: Seed of the jitter, so that a paced run is repeatable.
        n: Number of tokens for ``lorem``.
        fault: One of :data:`FAULTS`, or ``None``.
        after: Tokens sent before a mid-stream fault (stall, disconnect, error, malformed …).
        stall: Seconds a ``stall`` lasts (the default is effectively forever).
        size: Characters in the ``huge`` event.
        ping: Seconds between ``: ping`` comments under the ``crlf`` fault.
        retry_after: The ``Retry-After`` header of the ``429`` and ``503`` faults, in seconds.
        fails: How many requests the fault hits before it lets one through: ``0`` (the
            default) hits every request, ``1`` only the first, and so on. Requests count as
            repeats of one another when path, model and options are the same (change ``seed``
            to start a new count).
    """

    tps: float = 40.0
    ttft: float = 0.15
    jitter: float = 0.0
    seed: int = 0
    n: int = 200
    fault: str | None = None
    after: int = 5
    stall: float = 3600.0
    size: int = 1_000_000
    ping: float = 0.05
    retry_after: int = 1
    fails: int = 0

    @property
    def interval(self) -> float:
        """Seconds between tokens before jitter (``0`` when unpaced)."""
        return 1.0 / self.tps if self.tps > 0 else 0.0

    def describe(self) -> str:
        """The options that differ from the defaults, in the input syntax (``tps=20,fault=stall``)."""
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                parts.append(
                    f"{f.name}={value:g}" if isinstance(value, float) else f"{f.name}={value}"
                )
        return ",".join(parts)


_FLOATS = {"tps", "ttft", "jitter", "stall", "ping"}
_INTS = {"seed", "n", "after", "size", "retry_after", "fails"}
_KEYS = sorted({*_FLOATS, *_INTS, "fault"})


def split_model(model: str) -> tuple[str, str]:
    """Split ``"demo:tps=20,stall"`` into the model and its option text.

    A colon followed by something without ``=`` or a known fault (``llama3.2:1b``) is part of the
    model's name, not options.

    Args:
        model: The model name as the client sent it.

    Returns:
        ``(name, option_text)``; the option text is ``""`` when there is none.
    """
    name, sep, rest = model.partition(":")
    if not sep:
        return model, ""
    words = [w.strip() for w in rest.split(",") if w.strip()]
    if words and all("=" in w or w in FAULTS for w in words):
        return name, rest
    return model, ""


def _pairs(text: str) -> Iterable[tuple[str, str]]:
    for word in text.split(","):
        word = word.strip()
        if not word:
            continue
        key, sep, value = word.partition("=")
        if not sep:
            key, value = "fault", key
        yield key.strip().replace("-", "_"), value.strip()


def parse_options(*sources: str | Mapping[str, str]) -> Options:
    """Build :class:`Options` from option texts and mappings, later sources overriding earlier.

    Args:
        sources: Option texts (``"tps=20,fault=stall"``) or mappings (query parameters); in a
            mapping, keys that are not options are ignored, since a query may carry others.

    Returns:
        The options.

    Raises:
        OptionError: An unknown option in a text, an unknown fault, or a value that is not a
            number (or is negative).
    """
    values: dict[str, object] = {}
    for source in sources:
        if isinstance(source, str):
            pairs = list(_pairs(source))
            for key, _ in pairs:
                if key not in _KEYS:
                    raise OptionError(f"unknown option {key!r}; known options: {', '.join(_KEYS)}")
        else:
            pairs = [
                (k.replace("-", "_"), v) for k, v in source.items() if k.replace("-", "_") in _KEYS
            ]
        for key, raw in pairs:
            values[key] = _convert(key, raw)
    return Options(**values)  # type: ignore[arg-type]


def _convert(key: str, raw: str) -> object:
    if key == "fault":
        if raw in ("", "none"):
            return None
        if raw not in FAULTS:
            raise OptionError(f"unknown fault {raw!r}; known faults: {', '.join(FAULTS)}")
        return raw
    try:
        number: float = int(raw) if key in _INTS else float(raw)
    except ValueError:
        kind = "a whole number" if key in _INTS else "a number"
        raise OptionError(f"option {key}={raw!r} is not {kind}") from None
    if number < 0 or number != number:  # NaN is not a pace either
        raise OptionError(f"option {key}={raw!r} must not be negative")
    if key == "jitter" and number > 1:
        raise OptionError(f"option jitter={raw!r} must be between 0 and 1")
    return number

"""A base for nbstream's value objects: frozen, slotted dataclasses whose repr omits defaults."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["ValueRepr"]


class ValueRepr:
    """Mixin giving a dataclass a short repr: only fields that differ from their default.

    Fields declared with ``repr=False`` (arrival times, for instance) are left out too.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if not f.repr or f.name == "kind":
                continue
            value: Any = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and value == f.default:
                continue
            if f.default_factory is not dataclasses.MISSING and value == f.default_factory():
                continue
            parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

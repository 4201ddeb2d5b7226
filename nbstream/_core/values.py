"""A base for nbstream's value objects (frozen, slotted dataclasses whose repr omits defaults), and
the mark of a public name.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

__all__ = ["ValueRepr", "public"]

T = TypeVar("T")


def public(obj: T) -> T:
    """Mark a class or function exported by ``nbstream`` (its ``__all__``): it names itself so.

    Reprs, tracebacks and ``help()`` then say ``nbstream.Reply``, not the private module that
    defines it (httpx does the same in its ``__init__``). It is set where the object is defined,
    not when ``nbstream.Reply`` is first looked up, because the package imports its modules
    lazily: a reply or an error reaches the user before the name is ever looked up.
    ``tests/unit/test_public_api.py`` checks that every exported name carries it.

    Args:
        obj: The class or function, defined at module level (apply this decorator last, above
            ``@dataclass``).

    Returns:
        ``obj`` itself.
    """
    obj.__module__ = "nbstream"
    return obj


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

"""Run a chat coroutine from synchronous code: the ONE place nest-asyncio2 is used.

- No loop running (a script, terminal IPython without autoawait): :func:`asyncio.run`.
- A loop already running (a notebook cell that calls ``chat_sync``): the loop is made re-entrant
  with ``nest_asyncio2`` — the maintained fork ipykernel 7 itself depends on — at that moment,
  for that loop, never at import. nest-asyncio 1.6 dropped the messages that arrived during the
  nested run on ipykernel 7.x; nest-asyncio2 delivers them after it (FACTS.md).

A blocking call cannot be cancelled by the view's Cancel button: the click is only handled after
the call returns. Interrupt (■) still works. The ``%%chat`` path never comes here: it awaits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``make()`` to completion and return its result.

    Args:
        make: Builds the coroutine (called only once it is known how it will run).

    Returns:
        The coroutine's result.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    import nest_asyncio2  # imported here: never loaded unless a nested run is needed

    nest_asyncio2.apply(loop)
    return loop.run_until_complete(make())

"""Turn a ``%%chat`` cell into a top-level ``await``, so the cell ends when the answer ends.

A cell magic is called synchronously and cannot await. Returning while a background task
streams loses the answer under Run All and nbclient, and a nested event loop makes ipykernel 7.4
drop the messages that arrive meanwhile, Cancel clicks included (FACTS.md). So the cell is
rewritten before IPython sees the ``%%``: the transformer sits at the end of
``input_transformers_cleanup``, which runs on the raw lines before the ``cell_magic`` line
transform, and produces one line::

    await __import__("nbstream._magic.cell", fromlist=["_"]).run_cell("<line>", "<body>")

ipykernel (and terminal IPython's autoawait) run that top-level ``await`` natively: the cell
blocks, Run All waits, outputs belong to the cell, and on ipykernel >= 7.4 widget messages are
handled while it waits.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["MAGIC", "rewrite_chat_cell"]

MAGIC = "%%chat"


def rewrite_chat_cell(lines: list[str]) -> list[str]:
    """Rewrite the lines of a ``%%chat`` cell into an ``await`` of the chat coroutine.

    Args:
        lines: The cell's lines, with their line endings (IPython's cleanup-transform contract).

    Returns:
        The rewritten lines, or ``lines`` unchanged for any other cell and for ``%%chat?``
        (IPython's help, generated from the magic's arguments).
    """
    if not lines:
        return lines
    first = lines[0].rstrip("\r\n")
    parts = first.split(None, 1)
    if not parts or parts[0] != MAGIC:  # "%%chat?" (help) and "%%chatty" pass through
        return lines
    line = parts[1] if len(parts) > 1 else ""
    body = "".join(lines[1:])
    call = f'await __import__("nbstream._magic.cell", fromlist=["_"]).run_cell({line.strip()!r}, {body!r})\n'
    return [call]


# check_complete() (the terminal's "is this cell finished?") must see the raw ``%%chat`` so a
# cell magic keeps reading lines until a blank one; IPython skips transformers marked so.
_marked: Callable[[list[str]], list[str]] = rewrite_chat_cell
_marked.has_side_effects = True  # type: ignore[attr-defined]

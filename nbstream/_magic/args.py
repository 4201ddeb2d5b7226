"""The options of ``%%chat`` and ``%chat``, declared once; ``%%chat?`` help is generated from them.

The flags that give settings (``-m``, ``--base-url``, ``--timeout`` …) come from the settings'
own declarations (:mod:`nbstream._engine.settings`); the flags about the cell itself
(``--new``, ``-o``, ``--dry-run`` …) are declared here.

IPython's ``magic_arguments`` parser raises :class:`~IPython.core.error.UsageError` for a bad
option, which IPython shows as one line without a traceback.
"""

from __future__ import annotations

import argparse
import re
import shlex
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from IPython.core import magic_arguments as _ipython_args

from .._core.errors import ConfigError
from .._engine.settings import Settings, options

__all__ = [
    "CellOptions",
    "cell_arguments",
    "line_arguments",
    "parse_cell_line",
    "parse_line",
    "plain",
]

F = TypeVar("F", bound=Callable[..., Any])

# IPython's helpers are untyped; typed aliases keep mypy --strict meaningful around them.
argument: Callable[..., Callable[[Any], Any]] = _ipython_args.argument
magic_arguments: Callable[[], Callable[[Any], Any]] = _ipython_args.magic_arguments
parse_argstring: Callable[[Any, str], Any] = _ipython_args.parse_argstring
kwds: Callable[..., Callable[[Any], Any]] = _ipython_args.kwds

SUBCOMMANDS = (
    "config",
    "show",
    "history",
    "reset",
    "models",
    "profile",
    "record",
    "replay",
    "code",
)
_SESSION = [name for name, opt, _ in options() if opt.session]


def plain(doc: str) -> str:
    """A docstring phrase as plain text for ``%%chat?`` and ``%config`` help (no reST marks)."""
    return re.sub(r":\w+:`~?([^`]+)`", r"\1", doc).replace("``", "")


def _setting_arguments() -> list[Callable[[Any], Any]]:
    """A ``%%chat`` flag for each setting that has one, from the settings' declarations."""
    out = []
    for name, opt, default in options():
        if not opt.flags:
            continue
        where = [f"%config ChatMagics.{name}"] if opt.session else []
        where += [f"${var}" for var in opt.env]
        # argparse formats help with %: a literal one is written twice.
        text = plain(opt.doc) + (f" (default: {', '.join(where)})" if where else "")
        kwargs: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS}
        if opt.kind == "switch":
            kwargs.update(action="store_const", const=not default)
        elif opt.kind == "cassette":  # --record, --replay: on for this cell
            kwargs.update(action="store_const", const=True)
        elif opt.metavar:
            kwargs["metavar"] = opt.metavar
        out.append(argument(*opt.flags, help=text.replace("%", "%%"), **kwargs))
    return out


_CELL = [
    *_setting_arguments(),
    argument("--new", action="store_true", help="Start a new conversation (forget earlier turns)."),
    argument("--chat", metavar="NAME", default="default", help="Use the named conversation."),
    argument("--no-history", action="store_true", help="Send only this prompt; do not record it."),
    argument("-o", "--out", metavar="VAR", help="Store the Reply in the variable VAR."),
    argument(
        "--wire",
        action="store_true",
        help="Show the raw frames, with arrival times, beside the answer.",
    ),
    argument(
        "--error",
        action="store_true",
        help="Add the session's last error (type, message, the frames of your cells) to the "
        "prompt, as {{_error}} does.",
    ),
    argument(
        "--dry-run",
        action="store_true",
        help="Show the exact request (key redacted) and send nothing.",
    ),
    argument(
        "--bg",
        action="store_true",
        help="Stream in the background; `await nbstream.wait()` collects it.",
    ),
    argument(
        "--code",
        action="store_true",
        help="When the answer ends, put its last code block into a new cell below.",
    ),
]

_LINE = [
    argument(
        "command",
        nargs="?",
        default="show",
        help=f"One of: {', '.join(SUBCOMMANDS)}. "
        f"config key=value …: set session defaults ({', '.join(_SESSION)}); "
        "show: the settings in force; history [NAME]: "
        "the conversation; reset [NAME]: forget it (every chat without NAME); models: the "
        "endpoint's models; profile NAME [key=value …]: use a named endpoint, or define it with "
        "the same keys (api_key_env, or key_env, is the NAME of the variable holding the key); "
        "record on|off [DIR]: save every exchange as a cassette; replay on|auto|off [DIR] "
        "[speed=X|instant]: answer from cassettes (auto: record what has none); code [N]: put "
        "code block N (from 1; default: the last) of the last answer into a new cell below.",
    ),
    argument("items", nargs="*", help="Arguments of the command."),
]


class _HelpFormatter(_ipython_args.MagicHelpFormatter):
    """``%%chat?`` help that never cuts a name at its hyphen (``openai-responses`` stays whole)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def _stack(decorators: list[Callable[[Any], Any]]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        # Applied bottom-up like stacked decorators, so --help lists them in declaration order.
        for decorate in reversed(decorators):
            func = decorate(func)
        func = cast(F, kwds(formatter_class=_HelpFormatter)(func))
        return cast(F, magic_arguments()(func))

    return apply


cell_arguments: Callable[[F], F] = _stack(_CELL)
line_arguments: Callable[[F], F] = _stack(_LINE)


@dataclass(frozen=True, slots=True)
class CellOptions:
    """What a ``%%chat`` line asks of the cell itself (the settings it gives are a layer apart)."""

    new: bool = False
    chat: str = "default"
    no_history: bool = False
    out: str | None = None
    wire: bool = False
    dry_run: bool = False
    bg: bool = False
    error: bool = False
    code: bool = False


def _unquote(value: Any) -> Any:
    # IPython splits magic lines with posix=False, which keeps the quotes: --system "be brief"
    # arrives as '"be brief"'.
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


@cell_arguments
def _cell_spec(line: str, cell: str) -> None:
    """The parser of ``%%chat`` lines (the magic itself carries the same one, for its help)."""


@line_arguments
def _line_spec(line: str) -> None:
    """The parser of ``%chat`` lines."""


def parse_line(line: str) -> tuple[str, list[str]]:
    """Parse a ``%chat`` line into its command and the command's arguments.

    Raises:
        UsageError: A bad line (one line).
    """
    from IPython.core.error import UsageError

    args = parse_argstring(_line_spec, line)
    # IPython splits without POSIX quoting, so body='{"query": "{prompt}"}' would come apart
    # at its space: the items are split again the way a shell quotes them.
    try:
        items = shlex.split(line)[1:]
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"%chat {line}: {exc}") from None
    return str(args.command), items


def parse_cell_line(line: str) -> tuple[CellOptions, Settings]:
    """Parse a ``%%chat`` line with the declared arguments.

    Args:
        line: The text after ``%%chat``.

    Returns:
        The cell's own options, and the layer of settings the line gives.

    Raises:
        UsageError: An unknown option or a bad value (one line).
    """
    from IPython.core.error import UsageError

    given = {k: _unquote(v) for k, v in vars(parse_argstring(_cell_spec, line)).items()}
    flagged = {name: opt.flags[-1] for name, opt, _ in options() if opt.flags}
    try:
        layer = Settings.parse(
            {k: given.pop(k) for k in list(given) if k in flagged},
            where="the %%chat line",
            labels=flagged,
            flags=True,
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    cell = CellOptions(**given)
    if cell.out is not None and not cell.out.isidentifier():
        raise UsageError(f"-o takes a variable name, not {cell.out!r}")
    if cell.code and cell.bg:
        raise UsageError("--code waits for the answer to end, --bg does not: use one of them")
    return cell, layer

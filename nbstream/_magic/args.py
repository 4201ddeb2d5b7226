"""The options of ``%%chat`` and ``%chat``, declared once; ``%%chat?`` help is generated from them.

IPython's ``magic_arguments`` parser raises :class:`~IPython.core.error.UsageError` for a bad
option, which IPython shows as one line without a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from IPython.core import magic_arguments as _ipython_args

__all__ = ["CellOptions", "cell_arguments", "line_arguments", "parse_cell_line", "parse_line"]

F = TypeVar("F", bound=Callable[..., Any])

# IPython's helpers are untyped; typed aliases keep mypy --strict meaningful around them.
argument: Callable[..., Callable[[Any], Any]] = _ipython_args.argument
magic_arguments: Callable[[], Callable[[Any], Any]] = _ipython_args.magic_arguments
parse_argstring: Callable[[Any, str], Any] = _ipython_args.parse_argstring

SUBCOMMANDS = ("config", "show", "history", "reset", "models", "profile")

_CELL = [
    argument(
        "-m", "--model", help="Model name (default: %%config ChatMagics.model, $NBSTREAM_MODEL)."
    ),
    argument("--system", help="System prompt; {{name}} takes a value from the notebook."),
    argument("--temperature", type=float, help="Sampling temperature."),
    argument("--max-tokens", type=int, help="Maximum number of tokens to generate."),
    argument("--base-url", help="The server's base URL, e.g. http://127.0.0.1:8080/v1."),
    argument(
        "--api",
        help="API family: openai-chat, openai-responses, anthropic, ollama, custom (default: openai-chat).",
    ),
    argument("--format", help="Wire format override, when the server speaks another than its API."),
    argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="Give up when the server sends nothing for this long, before the first byte or "
        "between bytes (default: 300 s to the first byte, 120 s between bytes).",
    ),
    argument(
        "--retries",
        type=int,
        metavar="N",
        help="Send the request again up to N times when it fails before any byte of the answer "
        "(429, 502, 503, 504, a connection closed), waiting as long as the server asks, 20 s at "
        "most in all (default: 2; 0: never).",
    ),
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
        "--no-stream",
        action="store_true",
        help="Ask for the whole answer at once, without streaming.",
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
]

_LINE = [
    argument(
        "command",
        nargs="?",
        default="show",
        help=f"One of: {', '.join(SUBCOMMANDS)}. "
        "config key=value …: set session defaults (model, base_url, api, format, system, "
        "temperature, max_tokens, api_key_env); show: the settings in force; history [NAME]: "
        "the conversation; reset [NAME]: forget it (every chat without NAME); models: the "
        "endpoint's models; profile NAME [key=value …]: use a named endpoint, or define it with "
        "base_url, api, model, key_env (the NAME of the variable holding the key).",
    ),
    argument("items", nargs="*", help="Arguments of the command."),
]


def _stack(decorators: list[Callable[[Any], Any]]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        # Applied bottom-up like stacked decorators, so --help lists them in declaration order.
        for decorate in reversed(decorators):
            func = decorate(func)
        return cast(F, magic_arguments()(func))

    return apply


cell_arguments: Callable[[F], F] = _stack(_CELL)
line_arguments: Callable[[F], F] = _stack(_LINE)


@dataclass(frozen=True, slots=True)
class CellOptions:
    """The parsed options of one ``%%chat`` cell (see ``%%chat?``)."""

    model: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    base_url: str | None = None
    api: str | None = None
    format: str | None = None
    timeout: float | None = None
    retries: int | None = None
    new: bool = False
    chat: str = "default"
    no_history: bool = False
    out: str | None = None
    wire: bool = False
    no_stream: bool = False
    dry_run: bool = False
    bg: bool = False


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
    args = parse_argstring(_line_spec, line)
    return str(args.command), list(args.items)


def parse_cell_line(line: str) -> CellOptions:
    """Parse a ``%%chat`` line with the declared arguments.

    Args:
        line: The text after ``%%chat``.

    Returns:
        The options.

    Raises:
        UsageError: An unknown option or a bad value (one line).
    """
    from IPython.core.error import UsageError

    args = parse_argstring(_cell_spec, line)
    options = CellOptions(**{k: _unquote(v) for k, v in vars(args).items()})
    if options.out is not None and not options.out.isidentifier():
        raise UsageError(f"-o takes a variable name, not {options.out!r}")
    if options.timeout is not None and not options.timeout > 0:
        raise UsageError(f"--timeout takes a number of seconds above 0, not {options.timeout:g}")
    if options.retries is not None and options.retries < 0:
        raise UsageError(f"--retries takes a whole number of at least 0, not {options.retries}")
    return options

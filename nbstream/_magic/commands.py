"""The ``%chat`` subcommands: ``config``, ``show``, ``history``, ``reset``, ``models``, ``profile``,
``record``, ``replay`` and ``code``.

Each returns something IPython displays (a :class:`~IPython.display.Markdown`) or ``None``;
mistakes raise :class:`~IPython.core.error.UsageError` with one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from IPython.core.error import UsageError
from traitlets import Unicode

from .._chat.ipython import Markdown
from .._core.cassette import INSTANT
from .._core.errors import ConfigError, NbstreamError
from .._core.reply import Reply
from .._core.secrets import redact
from .._core.urls import host_of
from .._engine.endpoint import Endpoint
from .._engine.settings import (
    ProfileStore,
    Settings,
    check_no_key,
    env_layer,
    merge,
    option_name,
    options,
    profile,
)
from .args import SUBCOMMANDS, parse_line

if TYPE_CHECKING:
    from .magics import ChatMagics

__all__ = ["put_code_below", "run"]

# %chat show says what these do together, in one "cassettes" row.
_CASSETTE_OPTIONS = ("record", "replay", "cassette_dir", "speed")

# Using a profile sets these, so nothing of the previous endpoint (its key variable above all)
# stays attached to the new base URL: the session options an Endpoint has, and the key's name.
_ENDPOINT_OPTIONS = tuple(
    name
    for name, opt, _ in options()
    if opt.session and (name == "api_key_env" or name in {f.name for f in fields(Endpoint)})
)


def _pairs(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"expected key=value, got {item!r}")
        out[key.strip().replace("-", "_")] = value.strip()
    return out


def current_settings(magics: ChatMagics) -> Settings:
    """The settings a ``%%chat`` without options would use now."""
    try:
        return merge(env_layer(), magics.layer()).resolve()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _set(magics: ChatMagics, layer: Settings, names: Iterable[str]) -> None:
    """Set the session's traits to what ``layer`` gives for ``names`` (unset: the default)."""
    traits = magics.traits()
    for name in names:
        value = getattr(layer, name) if name in layer.given else traits[name].default_value
        if isinstance(traits[name], Unicode) and not isinstance(value, str):
            value = _as_text(value)
        setattr(magics, name, value)


def _as_text(value: object) -> str:
    """A value as a text trait holds it, read back the same (``on``/``off``, ``instant``)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if value == INSTANT:
        return "instant"
    return str(value)


def _config(magics: ChatMagics, items: list[str]) -> Any:
    pairs = _pairs(items)
    try:
        layer = Settings.parse(pairs, where="%chat config")
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    # Turning record or replay on sets the other off: the layer says so (given).
    _set(magics, layer, dict.fromkeys([*(option_name(raw) for raw in pairs), *layer.given]))
    return _show(magics)


def _show(magics: ChatMagics) -> Any:
    s = current_settings(magics)
    rows = []
    for name, opt, _ in options():
        value = getattr(s, name)
        if not opt.session:
            continue
        if name == "base_url":
            rows.append(
                ("endpoint", "embedded demo backend" if s.embedded else _without_userinfo(value))
            )
        elif name == "model":
            rows.append(("model", value or "(none: set one with %chat config model=NAME)"))
        elif name == "api_key_env":
            rows.append(("key", f"from ${value}" if s.api_key else "none"))
        elif name == _CASSETTE_OPTIONS[0]:
            rows.append(("cassettes", s.cassettes().describe()))
        elif name in _CASSETTE_OPTIONS:
            continue
        else:
            rows.append((name, "" if value is None else str(value)))
    lines = ["| setting | value |", "|---|---|"]
    lines += [f"| {k} | {_cell(v)} |" for k, v in rows]
    lines += [f"\n*{n}*" for n in s.notices]
    return Markdown("\n".join(lines))


def _without_userinfo(url: str) -> str:
    # A base URL may carry credentials (https://user:pass@host/v1): show only the host part.
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _cell(text: str) -> str:
    return redact(" ".join(text.split())).replace("|", "\\|")


def _history(magics: ChatMagics, items: list[str]) -> Any:
    return Markdown(redact(magics.chats.get(items[0] if items else "default").render()))


def _reset(magics: ChatMagics, items: list[str]) -> None:
    magics.chats.reset(items[0] if items else None)
    print(f"forgot chat {items[0]!r}" if items else "forgot every chat")


def _models(magics: ChatMagics) -> Any:
    from .._chat.run import list_models

    try:
        ids = list_models(current_settings(magics))
    except NbstreamError as exc:
        raise UsageError(str(exc)) from None
    s = current_settings(magics)
    where = "the embedded demo backend" if s.embedded else host_of(s.base_url)
    return Markdown(f"**{len(ids)} model(s) at {where}:** " + ", ".join(f"`{i}`" for i in ids))


def _profile(magics: ChatMagics, items: list[str]) -> Any:
    store = ProfileStore()
    try:
        profiles = store.load()
        if not items:
            names = ", ".join(f"`{n}`" for n in sorted(profiles)) or "none yet"
            return Markdown(
                f"profiles ({store.path}): {names}. Define one with "
                "`%chat profile NAME base_url=… api=… model=… key_env=VARIABLE`."
            )
        name, pairs = items[0], _pairs(items[1:])
        if pairs:
            store.save(name, profile(name, pairs))
            profiles = store.load()
        if name not in profiles:
            raise UsageError(f"no profile {name!r}; define it with %chat profile {name} base_url=…")
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    chosen = profiles[name]
    _set(magics, chosen, dict.fromkeys([*_ENDPOINT_OPTIONS, *chosen.given]))
    return _show(magics)


def _cassettes(magics: ChatMagics, command: str, items: list[str]) -> Any:
    """``%chat record on|off [DIR]`` and ``%chat replay on|auto|off [DIR] [speed=X]``."""
    if items:
        switch, rest = items[0], items[1:]
        allowed = ("on", "off") if command == "record" else ("on", "auto", "off")
        if switch not in allowed:
            raise UsageError(f"%chat {command} takes {' | '.join(allowed)}, not {switch!r}")
        folders = [item for item in rest if "=" not in item]
        pairs = _pairs([item for item in rest if "=" in item])
        if len(folders) > 1 or set(pairs) - {"speed"}:
            raise UsageError(f"%chat {command} {switch} takes a folder and speed=X, not {rest}")
        values = {command: switch, **pairs}
        if folders:
            values["cassette_dir"] = folders[0]
        try:
            layer = Settings.parse(values, where=f"%chat {command}")
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
        _set(magics, layer, layer.given)
    return Markdown(f"**cassettes:** {current_settings(magics).cassettes().describe()}")


def _code(magics: ChatMagics, items: list[str]) -> Any:
    reply = magics.last_reply
    if reply is None:
        raise UsageError("no answer yet: %chat code takes code from the last %%chat answer")
    total = len(reply.code_blocks)
    if not total:
        raise UsageError("the last answer has no code block")
    try:
        number = int(items[0]) if items else total
    except ValueError:
        raise UsageError(f"%chat code takes a block number, not {items[0]!r}") from None
    if not 1 <= number <= total:
        raise UsageError(f"the last answer has {total} code block(s): %chat code 1 … {total}")
    return put_code_below(reply, number, show_code=True)


def put_code_below(reply: Reply, number: int, *, show_code: bool) -> Any:
    """Put code block ``number`` (from 1) of ``reply`` into a new cell below the running cell.

    With IPython's ``set_next_input``: the frontend creates the cell from the payload of the
    running cell's reply (JupyterLab, Notebook 7, VS Code, Colab). Headless runs (nbclient,
    papermill) ignore payloads; so, with ``show_code``, the note also holds the code, collapsed.

    Args:
        reply: The answer.
        number: Which block, counted from 1.
        show_code: Put the code under the note too (``%chat code``; ``--code`` shows the note
            only: the answer with the code is right above).

    Returns:
        The note, for IPython to display.
    """
    from IPython import get_ipython

    from .._view.render import Renderer, inline_text

    blocks = reply.code_blocks
    block = blocks[number - 1]
    shell = get_ipython()
    if shell is not None:
        shell.set_next_input(block.code, replace=False)
    language = f" ({block.language})" if block.language else ""
    lines = block.code.count("\n") + 1
    note = f"code block {number} of {len(blocks)}{language}, {lines} line(s) → a new cell below"
    line = f"<small>↓ {inline_text(note)}</small>"
    markdown = f"<p>{line}</p>\n"
    if show_code:
        fence = "`" * max(3, 1 + max((len(r) for r in re.findall("`+", block.code)), default=0))
        code = Renderer().render(f"{fence}{block.language}\n{block.code}\n{fence}\n")
        markdown = f"<details>\n<summary>{line}</summary>\n{code}</details>\n"
    return _Bundle({"text/markdown": markdown, "text/plain": note})


class _Bundle:
    """A raw display bundle that IPython shows as a command's result."""

    def __init__(self, data: dict[str, str]) -> None:
        self.data = data

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        return self.data


def run(magics: ChatMagics, line: str) -> Any:
    """Run one ``%chat`` line.

    Args:
        magics: The magics instance (settings, conversations).
        line: The text after ``%chat``.

    Returns:
        What IPython should display, or ``None``.

    Raises:
        UsageError: An unknown subcommand or a bad argument (one line).
    """
    try:
        check_no_key(line)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    command, items = parse_line(line)
    if command not in SUBCOMMANDS:
        raise UsageError(
            f"unknown %chat command {command!r}: use one of {', '.join(SUBCOMMANDS)} "
            "(ask a question with a %%chat cell)"
        )
    if command == "config":
        return _config(magics, items)
    if command == "show":
        return _show(magics)
    if command == "history":
        return _history(magics, items)
    if command == "reset":
        return _reset(magics, items)
    if command == "models":
        return _models(magics)
    if command in ("record", "replay"):
        return _cassettes(magics, command, items)
    if command == "code":
        return _code(magics, items)
    return _profile(magics, items)

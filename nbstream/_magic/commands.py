"""The ``%chat`` subcommands: ``config``, ``show``, ``history``, ``reset``, ``models``, ``profile``,
``record`` and ``replay``.

Each returns something IPython displays (a :class:`~IPython.display.Markdown`) or ``None``;
mistakes raise :class:`~IPython.core.error.UsageError` with one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from IPython.core.error import UsageError

from .._chat.ipython import Markdown
from .._core.errors import ConfigError, NbstreamError
from .._core.secrets import redact
from .._engine.settings import (
    KEY_HELP,
    Profile,
    ProfileStore,
    Settings,
    check_env_name,
    check_no_key,
    env_layer,
    host_of,
    resolve,
)
from .args import SUBCOMMANDS, parse_line

if TYPE_CHECKING:
    from .magics import ChatMagics

__all__ = ["run"]

# %chat config keys → trait names (api_key is refused, not mapped: keys are never settings).
_SETTABLE = {
    "model": "model",
    "base_url": "base_url",
    "api": "api",
    "format": "format",
    "system": "system",
    "temperature": "temperature",
    "max_tokens": "max_tokens",
    "api_key_env": "api_key_env",
    "key_env": "api_key_env",
}
_PROFILE_FIELDS = ("base_url", "api", "model", "key_env", "format")


def _pairs(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"expected key=value, got {item!r}")
        out[key.strip().replace("-", "_")] = value.strip()
    return out


def _refuse_keys(pairs: dict[str, str]) -> None:
    for key in pairs:
        if key in ("api_key", "key", "token", "password", "secret"):
            raise UsageError(f"a key typed in a cell is saved with the notebook: {KEY_HELP}")


def current_settings(magics: ChatMagics) -> Settings:
    """The settings a ``%%chat`` without options would use now."""
    try:
        return resolve(env_layer(), magics.layer())
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _config(magics: ChatMagics, items: list[str]) -> Any:
    pairs = _pairs(items)
    _refuse_keys(pairs)
    for key, value in pairs.items():
        trait = _SETTABLE.get(key)
        if trait is None:
            raise UsageError(f"unknown setting {key!r}; settable: {', '.join(sorted(_SETTABLE))}")
        try:
            if trait != "system":
                check_no_key(value, where=f"setting {key}")
            if trait == "api_key_env" and value:
                check_env_name(value)
            if trait == "temperature":
                setattr(magics, trait, float(value) if value else None)
            elif trait == "max_tokens":
                setattr(magics, trait, int(value) if value else None)
            else:
                setattr(magics, trait, value)
        except (ConfigError, ValueError) as exc:
            raise UsageError(f"{key}: {exc}") from None
    return _show(magics)


def _show(magics: ChatMagics) -> Any:
    s = current_settings(magics)
    rows = [
        ("endpoint", "embedded demo backend" if s.embedded else _without_userinfo(s.base_url)),
        ("model", s.model or "(none: set one with %chat config model=NAME)"),
        ("api", s.api or "(default)"),
        ("format", s.format or "auto"),
        ("system", s.system or ""),
        ("temperature", "" if s.temperature is None else str(s.temperature)),
        ("max_tokens", "" if s.max_tokens is None else str(s.max_tokens)),
        ("key", f"from ${s.key_env}" if s.api_key else "none"),
        ("cassettes", magics.cassettes().describe()),
    ]
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
        _refuse_keys(pairs)
        unknown = set(pairs) - set(_PROFILE_FIELDS)
        if unknown:
            raise UsageError(
                f"profile fields are {', '.join(_PROFILE_FIELDS)}; not {sorted(unknown)}"
            )
        if pairs:
            store.save(Profile(name, **pairs))
            profiles = store.load()
        if name not in profiles:
            raise UsageError(f"no profile {name!r}; define it with %chat profile {name} base_url=…")
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    p = profiles[name]
    # Using a profile sets every endpoint field, so nothing of the previous endpoint (its key
    # variable above all) stays attached to the new base URL.
    magics.base_url, magics.api, magics.model = p.base_url, p.api, p.model
    magics.format, magics.api_key_env = p.format, p.key_env
    return _show(magics)


def _cassettes(magics: ChatMagics, command: str, items: list[str]) -> Any:
    """``%chat record on|off [DIR]`` and ``%chat replay on|auto|off [DIR] [speed=X]``."""
    if not items:
        return Markdown(f"**cassettes:** {magics.cassettes().describe()}")
    switch, rest = items[0], items[1:]
    allowed = ("on", "off") if command == "record" else ("on", "auto", "off")
    if switch not in allowed:
        raise UsageError(f"%chat {command} takes {' | '.join(allowed)}, not {switch!r}")
    folders = [item for item in rest if "=" not in item]
    pairs = _pairs([item for item in rest if "=" in item])
    if len(folders) > 1 or set(pairs) - {"speed"}:
        raise UsageError(f"%chat {command} {switch} takes a folder and speed=X, not {rest}")
    mode = {"on": command, "auto": "auto", "off": "off"}[switch]
    if mode == "off" and magics.cassettes().mode not in (command, "auto"):
        mode = magics.cassettes().mode  # "record off" leaves a replay alone, and the reverse
    try:
        magics.cassettes().override(mode=mode, speed=pairs.get("speed"))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    magics.cassette_mode = mode
    if folders:
        magics.cassette_dir = folders[0]
    if "speed" in pairs:
        magics.replay_speed = pairs["speed"]
    return Markdown(f"**cassettes:** {magics.cassettes().describe()}")


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
    return _profile(magics, items)

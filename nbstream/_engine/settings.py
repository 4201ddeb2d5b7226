"""Where a chat's endpoint, model and key come from, and which key may go where.

Settings are layered, lowest first; a later layer overrides a field only when it sets it:

1. the environment: ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` (what the openai client reads) and
   ``NBSTREAM_BASE_URL``, ``NBSTREAM_MODEL``, ``NBSTREAM_API``, ``NBSTREAM_FORMAT``,
   ``NBSTREAM_SYSTEM``, ``NBSTREAM_API_KEY_ENV`` (the *name* of the variable holding the key);
2. the session's defaults (``%config ChatMagics.model = …``, ``%chat config …``, ``%chat profile``);
3. the options of one call (``%%chat -m … --base-url …``, ``chat(model=…)``).

Secrets: a key is only ever read from an environment variable, named by a layer (``key_env``),
and it is *bound* to the base URL in force in that layer. It is sent only when the final base URL
has the same origin (scheme, host, port), so ``--base-url http://elsewhere`` never receives the
key configured for api.openai.com. Profiles store the variable's name, never a key.

With no base URL anywhere, the chat goes to the embedded demo backend and says so.

Named endpoints (``%chat profile``) are kept in ``profiles.json`` so that they outlive the
kernel (:class:`ProfileStore`): a profile holds a base URL, an API, a model and the *name* of
the environment variable that holds the key — never a key.

Stdlib only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._core.errors import ConfigError
from .._core.secrets import KEY_SHAPES, register_secret
from .._core.values import ValueRepr

__all__ = [
    "EMBEDDED_MODEL",
    "OPENAI_BASE_URL",
    "Layer",
    "Profile",
    "ProfileStore",
    "Settings",
    "check_no_key",
    "config_dir",
    "env_layer",
    "resolve",
    "same_origin",
]

OPENAI_BASE_URL = "https://api.openai.com/v1"
EMBEDDED_MODEL = "demo"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

KEY_HELP = (
    "set the key in an environment variable before starting Jupyter (e.g. OPENAI_API_KEY) "
    "and, if it is another variable, name it: %chat config api_key_env=NAME"
)


def check_no_key(text: str, where: str = "the magic line") -> None:
    """Refuse text that contains something shaped like an API key.

    A key typed in a cell is saved with the notebook, shared and committed, so it is refused
    instead of used.

    Args:
        text: What the user typed (a magic line, a ``key=value`` setting).
        where: Where it was typed, for the message.

    Raises:
        ConfigError: The text holds a key-shaped token; the message says how to set keys.
    """
    if KEY_SHAPES.search(text):
        raise ConfigError(f"an API key on {where} would be saved with the notebook: {KEY_HELP}")


def check_env_name(name: str) -> str:
    """Validate the *name* of an environment variable meant to hold a key.

    Args:
        name: e.g. ``"OPENAI_API_KEY"``.

    Returns:
        The name.

    Raises:
        ConfigError: It is not a variable name (most likely the key itself).
    """
    if not _ENV_NAME.match(name) or KEY_SHAPES.search(name):
        raise ConfigError(f"api_key_env takes the NAME of an environment variable: {KEY_HELP}")
    return name


def same_origin(a: str, b: str) -> bool:
    """Tell whether two URLs share scheme, host and port (paths may differ: ``/v1``).

    Args:
        a: A base URL.
        b: Another base URL.

    Returns:
        ``True`` for the same origin.
    """

    def origin(url: str) -> tuple[str, str, int | None]:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        try:
            port = parts.port
        except ValueError:
            port = None
        default = {"http": 80, "https": 443}.get(scheme)
        return scheme, (parts.hostname or "").lower(), port if port is not None else default

    return bool(a and b) and origin(a) == origin(b)


def host_of(url: str) -> str:
    """Host and port of a URL, for messages (never credentials or paths)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.hostname or url}{f':{port}' if port else ''}"


@dataclass(frozen=True, slots=True, repr=False)
class Layer(ValueRepr):
    """One source of settings; ``None`` (or ``""``) means "not set here".

    Attributes:
        source: Where the layer comes from, for ``%chat show`` (``"environment"`` …).
        base_url: The endpoint's base URL.
        key_env: Name of the environment variable holding the key for ``base_url``.
        model: Model name.
        api: The API family (``"openai-chat"``, ``"openai-responses"``, ``"anthropic"`` …).
        format: Wire format override.
        system: System prompt.
        temperature: Sampling temperature.
        max_tokens: Output token limit.
    """

    source: str = ""
    base_url: str | None = None
    key_env: str | None = None
    model: str | None = None
    api: str | None = None
    format: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None


def env_layer(environ: Mapping[str, str] | None = None) -> Layer:
    """Read the settings the environment gives.

    Args:
        environ: The environment (default: ``os.environ``).

    Returns:
        The environment's layer. ``OPENAI_API_KEY`` alone implies api.openai.com.
    """
    env = os.environ if environ is None else environ
    base_url = env.get("NBSTREAM_BASE_URL") or env.get("OPENAI_BASE_URL") or None
    key_env = env.get("NBSTREAM_API_KEY_ENV") or None
    if key_env is None and env.get("OPENAI_API_KEY"):
        key_env = "OPENAI_API_KEY"
        base_url = base_url or OPENAI_BASE_URL
    temperature = env.get("NBSTREAM_TEMPERATURE")
    max_tokens = env.get("NBSTREAM_MAX_TOKENS")
    try:
        return Layer(
            source="environment",
            base_url=base_url,
            key_env=check_env_name(key_env) if key_env else None,
            model=env.get("NBSTREAM_MODEL") or None,
            api=env.get("NBSTREAM_API") or None,
            format=env.get("NBSTREAM_FORMAT") or None,
            system=env.get("NBSTREAM_SYSTEM") or None,
            temperature=float(temperature) if temperature else None,
            max_tokens=int(max_tokens) if max_tokens else None,
        )
    except ValueError as exc:
        raise ConfigError(f"an NBSTREAM_ environment variable has a bad value: {exc}") from None


@dataclass(frozen=True, slots=True, repr=False)
class Settings(ValueRepr):
    """The settings one chat uses, resolved from the layers.

    Attributes:
        base_url: The endpoint ("" means: the embedded backend, filled in by the caller).
        model: The model ("" when none was configured).
        api: API family, or ``None`` for the engine's default.
        format: Wire format override, or ``None``.
        system: System prompt, or ``None``.
        temperature: Sampling temperature, or ``None``.
        max_tokens: Output limit, or ``None``.
        key_env: Name of the variable the key came from (shown; the key never is).
        api_key: The key, or ``None``; never in the repr.
        embedded: ``True`` when nothing configured an endpoint.
        notices: Lines to show the user (a key withheld, a variable not set …).
    """

    base_url: str = ""
    model: str = ""
    api: str | None = None
    format: str | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    key_env: str | None = None
    api_key: str | None = field(default=None, repr=False)
    embedded: bool = False
    notices: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The settings as a dict for display, with the key shown only as set / not set."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "api_key"}
        out["api_key"] = "***" if self.api_key else "(none)"
        return out


def resolve(*layers: Layer, environ: Mapping[str, str] | None = None) -> Settings:
    """Merge layers (lowest first) into the settings of one chat, binding the key to its URL.

    Args:
        layers: Layers from lowest to highest priority.
        environ: Where keys are read (default: ``os.environ``).

    Returns:
        The settings. The key is included only when the final base URL has the origin of the
        URL the key was configured with; otherwise a notice says it was withheld.
    """
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    key_env: str | None = None
    key_url = ""
    for layer in layers:
        for f in fields(layer):
            value = getattr(layer, f.name)
            if f.name not in ("source", "key_env") and value not in (None, ""):
                merged[f.name] = value
        if layer.key_env:
            key_env = check_env_name(layer.key_env)
            # The key belongs to the URL in force where it was configured.
            key_url = merged.get("base_url", "")
    base_url: str = merged.pop("base_url", "")
    notices: list[str] = []
    api_key: str | None = None
    if key_env:
        value = env.get(key_env)
        if not value:
            notices.append(f"${key_env} is not set: sending no API key")
        elif not key_url:
            notices.append(
                f"${key_env} was named without a base URL: no key sent "
                "(set base_url and api_key_env together)"
            )
        elif not same_origin(key_url, base_url):
            notices.append(
                f"the key in ${key_env} is for {host_of(key_url)}: "
                f"not sent to {host_of(base_url) if base_url else 'the demo backend'}"
            )
        else:
            api_key = value
            register_secret(value)
    embedded = not base_url
    model = merged.pop("model", "") or (EMBEDDED_MODEL if embedded else "")
    return Settings(
        base_url=base_url,
        model=model,
        key_env=key_env if api_key else None,
        api_key=api_key,
        embedded=embedded,
        notices=tuple(notices),
        **merged,
    )


@dataclass(frozen=True, slots=True, repr=False)
class Profile(ValueRepr):
    """A named endpoint: where to send, how, and the *name* of the key's variable.

    Attributes:
        name: The profile's name.
        base_url: The endpoint's base URL.
        api: API family.
        model: Default model.
        key_env: Name of the environment variable that holds the key (never the key).
        format: Wire format override.
    """

    name: str
    base_url: str = ""
    api: str = ""
    model: str = ""
    key_env: str = ""
    format: str = ""

    def __post_init__(self) -> None:
        if self.key_env:
            check_env_name(self.key_env)
        for f in fields(self):
            check_no_key(str(getattr(self, f.name)), where=f"profile {self.name!r}")


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The directory holding ``profiles.json``: ``$NBSTREAM_CONFIG_DIR`` or the XDG default."""
    env = os.environ if environ is None else environ
    if env.get("NBSTREAM_CONFIG_DIR"):
        return Path(env["NBSTREAM_CONFIG_DIR"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "nbstream"


class ProfileStore:
    """Profiles kept in ``profiles.json`` so they outlive the kernel (no keys are stored).

    Args:
        path: The JSON file (default: ``config_dir() / "profiles.json"``).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "profiles.json"

    def load(self) -> dict[str, Profile]:
        """Read every profile; a missing file means none.

        Raises:
            ConfigError: The file is not valid profile JSON.
        """
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read profiles from {self.path}: {exc}") from None
        try:
            return {name: Profile(name=name, **body) for name, body in raw.items()}
        except (TypeError, AttributeError) as exc:
            raise ConfigError(f"bad profile in {self.path}: {exc}") from None

    def save(self, profile: Profile) -> None:
        """Add or replace one profile.

        Args:
            profile: The profile to store.
        """
        profiles = self.load()
        profiles[profile.name] = profile
        body = {
            p.name: {f.name: getattr(p, f.name) for f in fields(p) if f.name != "name"}
            for p in profiles.values()
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")

"""Named endpoints (``%chat profile``), kept in ``profiles.json`` so they outlive the kernel.

A profile holds a base URL, an API, a model and the *name* of the environment variable that
holds the key — never a key. Stdlib only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from ._config import check_env_name, check_no_key
from ._errors import ConfigError
from ._values import ValueRepr

__all__ = ["Profile", "ProfileStore", "config_dir"]


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

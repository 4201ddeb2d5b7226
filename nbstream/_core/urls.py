"""Where a URL points: its origin (where a key may be sent) and its host (what messages name).

One reading of a URL for the whole package, so that the rule binding a key to a server and the
host an error message names can never disagree. A port that is not a number from 0 to 65535
(``http://h:99999``, ``http://h:abc``) is a :class:`~nbstream.ConfigError` here, as httpx refuses
such a URL too: it is a mistake to report when the URL is configured, not a port to guess.

Stdlib only.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from .errors import ConfigError
from .secrets import redact

__all__ = ["host_of", "origin", "same_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _split(url: str) -> tuple[SplitResult, int | None]:
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{redact(url)!r} has a bad port: use a number from 0 to 65535") from None
    return parts, port


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of ``url``, the scheme's default port filled in.

    Two URLs with the same origin are the same server: a key configured for one may be sent to
    the other, whatever their paths.

    Args:
        url: Any URL.

    Returns:
        ``(scheme, host, port)``, scheme and host lower-cased; the port is ``None`` only for a
        scheme without a default and no port given.

    Raises:
        ConfigError: The port is not a number from 0 to 65535.
    """
    parts, port = _split(url)
    scheme = parts.scheme.lower()
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def same_origin(a: str, b: str) -> bool:
    """Tell whether two URLs share scheme, host and port (paths may differ: ``/v1``).

    Args:
        a: A base URL.
        b: Another base URL.

    Returns:
        ``True`` for the same origin; ``False`` when either is empty.

    Raises:
        ConfigError: A port is not a number from 0 to 65535.
    """
    return bool(a and b) and origin(a) == origin(b)


def host_of(url: str) -> str:
    """Host, and port unless it is the scheme's default, for messages (never credentials or paths).

    Args:
        url: Any URL.

    Returns:
        ``"127.0.0.1:8080"``, ``"api.openai.com"``; the URL itself when it names no host.

    Raises:
        ConfigError: The port is not a number from 0 to 65535.
    """
    parts, port = _split(url)
    host = parts.hostname or url
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        return host
    return f"{host}:{port}"

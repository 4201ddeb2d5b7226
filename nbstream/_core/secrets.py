"""Keep API keys out of everything a user or a log can see.

Every string that leaves nbstream for a person (error messages, ``--dry-run``, reprs, output
metadata) passes through :func:`redact` with the keys in play. Servers echo headers back in
error bodies (a 401 body quoting ``Authorization: Bearer …`` is common), so known keys are
replaced wherever they appear, and anything shaped like a bearer token or a provider key is
masked as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["KEY_SHAPES", "MASK", "known_secrets", "mask_key", "redact", "register_secret"]

MASK = "***"

# Shapes of credentials that must never be shown even when we do not know the key itself
# (the settings also refuse them where a key must not be typed):
# "Bearer <token>", "x-api-key: <token>", and the common provider key prefixes.
KEY_SHAPES = re.compile(
    r"(?i)(?P<prefix>bearer\s+|x-api-key[\"']?\s*[:=]\s*[\"']?|api[_-]?key[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<token>[A-Za-z0-9._~+/=-]{8,})"
    r"|(?P<key>\b(?:sk|rk|pk)-(?:ant-|proj-|or-)?[A-Za-z0-9_-]{16,})"
)

# Keys registered by whoever reads them (the engine, the magic), so that a key is masked even
# in places that were not handed it explicitly.
_known: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Remember a secret so every later :func:`redact` masks it.

    Args:
        secret: The key; empty values and very short ones (which would mask ordinary words)
            are ignored.
    """
    if secret and len(secret) >= 6:
        _known.add(secret)


def known_secrets() -> frozenset[str]:
    """The secrets registered so far (what a recording must remove wherever they appear)."""
    return frozenset(_known)


def mask_key(secret: str | None) -> str:
    """Describe a key without revealing it: ``"***"`` or ``"(none)"``.

    Args:
        secret: The key, or ``None``.

    Returns:
        A placeholder that says only whether a key is set.
    """
    return MASK if secret else "(none)"


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return ``text`` with every known or key-shaped secret replaced by ``***``.

    Args:
        text: Any text that may reach a person or a log.
        secrets: Keys to mask in addition to the registered ones.

    Returns:
        The text, with secrets masked.
    """
    for secret in sorted({*_known, *(s for s in secrets if s)}, key=len, reverse=True):
        if len(secret) >= 6 and secret in text:
            text = text.replace(secret, MASK)

    def _mask(m: re.Match[str]) -> str:
        if m.group("prefix") is not None:
            return m.group("prefix") + MASK
        return MASK

    return KEY_SHAPES.sub(_mask, text)

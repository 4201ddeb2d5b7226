"""Put values from the user's namespace into a prompt: ``{{name}}``, never ``{name}``.

jupyter-ai formats prompts with :meth:`str.format`, so any prompt holding JSON, a dict literal
or code with braces fails with ``KeyError`` (jupyter-ai issue #27). Here only a *double* brace
around a plain dotted name is a placeholder:

- ``{{df_summary}}`` or ``{{ result.text }}`` → ``str()`` of the value;
- ``\\{{name}}`` → the literal text ``{{name}}`` (the escape);
- anything else with braces — ``{"a": 1}``, ``{x}``, ``{{ 1 + 1 }}``, ``f"{x!r}"``,
  ``{% for %}`` — is left exactly as written.

A placeholder whose name is not defined is an error, not a silent literal: a typo would
otherwise send ``{{datframe}}`` to the model. The message names the escape for the rare prompt
that means the braces literally (a Jinja or Handlebars template, say).

Stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import InterpolationError

__all__ = ["interpolate", "placeholders", "split"]

_PLACEHOLDER = re.compile(
    r"(?P<escape>\\)?\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}"
)


def placeholders(text: str) -> list[str]:
    """List the names of the placeholders in ``text``, in order, escapes excluded.

    Args:
        text: A prompt.

    Returns:
        The dotted names, e.g. ``["df", "result.text"]``.
    """
    return [m["name"] for m in _PLACEHOLDER.finditer(text) if not m["escape"]]


def _lookup(dotted: str, namespace: Mapping[str, Any]) -> Any:
    head, *rest = dotted.split(".")
    if head not in namespace:
        raise InterpolationError(
            f"{{{{{dotted}}}}}: name {head!r} is not defined; define it, or write "
            f"\\{{{{{dotted}}}}} to send the braces literally"
        )
    value = namespace[head]
    for i, attr in enumerate(rest):
        try:
            value = getattr(value, attr)
        except AttributeError:
            path = ".".join([head, *rest[:i]])
            raise InterpolationError(
                f"{{{{{dotted}}}}}: {path} has no attribute {attr!r}; write "
                f"\\{{{{{dotted}}}}} to send the braces literally"
            ) from None
    return value


def split(text: str, namespace: Mapping[str, Any]) -> list[str | tuple[str, Any]]:
    """Cut ``text`` at its placeholders: literal text, and ``(name, value)`` for each one.

    Escapes (``\\{{``) become literal ``{{``; adjacent literals are joined.

    Args:
        text: The prompt as the user wrote it.
        namespace: Where names are looked up.

    Returns:
        The pieces in order.

    Raises:
        InterpolationError: A placeholder names something undefined (one line, with the fix).
    """
    out: list[str | tuple[str, Any]] = []
    at = 0
    for m in _PLACEHOLDER.finditer(text):
        literal = text[at : m.start()] + (m.group(0)[1:] if m["escape"] else "")
        at = m.end()
        if literal:
            if out and isinstance(out[-1], str):
                out[-1] += literal
            else:
                out.append(literal)
        if not m["escape"]:
            out.append((m["name"], _lookup(m["name"], namespace)))
    tail = text[at:]
    if tail:
        if out and isinstance(out[-1], str):
            out[-1] += tail
        else:
            out.append(tail)
    return out


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace each ``{{name}}`` in ``text`` with ``str()`` of its value in ``namespace``.

    Args:
        text: The prompt (or system prompt) as the user wrote it.
        namespace: Where names are looked up (the notebook's user namespace).

    Returns:
        The prompt with placeholders replaced and escapes (``\\{{``) turned into ``{{``.

    Raises:
        InterpolationError: A placeholder names something undefined (one line, with the fix).
    """

    def _replace(m: re.Match[str]) -> str:
        if m["escape"]:
            return m.group(0)[1:]
        return str(_lookup(m["name"], namespace))

    return _PLACEHOLDER.sub(_replace, text)

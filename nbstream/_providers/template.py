"""Body templates for home-made servers: ``{"query": "{prompt}"}`` filled with the request's values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._core.errors import FormatError

__all__ = ["DEFAULT_TEMPLATE", "render_template"]

# The body sent to a home-made server when no template is given.
DEFAULT_TEMPLATE: Mapping[str, Any] = {
    "model": "{model}",
    "messages": "{messages}",
    "prompt": "{prompt}",
    "stream": "{stream}",
}


def render_template(template: Mapping[str, Any] | str, values: Mapping[str, Any]) -> Any:
    """Fill a body template for a home-made server.

    A string that is exactly ``"{name}"`` becomes the value itself, typed (``"{messages}"`` a
    list, ``"{stream}"`` a boolean); a key whose whole value is a placeholder for an unset
    value (``None``) is left out. Inside longer strings ``{name}`` is replaced by the value's
    text (``"Q: {prompt}"``). Other braces are left alone.

    Args:
        template: A JSON-shaped mapping, or its JSON text (``'{"query": "{prompt}"}'``).
        values: ``prompt``, ``messages``, ``model``, ``system``, ``stream``, ``temperature``,
            ``max_tokens``.

    Returns:
        The rendered body.

    Raises:
        FormatError: ``template`` is a string that is not JSON.
    """
    if isinstance(template, str):
        try:
            template = json.loads(template)
        except ValueError as exc:
            raise FormatError(f"the body template is not valid JSON ({exc})") from None
    return _fill(template, values)


_DROP = object()


def _fill(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, str):
        if node.startswith("{") and node.endswith("}") and node[1:-1] in values:
            value = values[node[1:-1]]
            return _DROP if value is None else value
        for name, value in values.items():
            token = "{" + name + "}"
            if token in node:
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                node = node.replace(token, "" if value is None else text)
        return node
    if isinstance(node, Mapping):
        filled = {k: _fill(v, values) for k, v in node.items()}
        return {k: v for k, v in filled.items() if v is not _DROP}
    if isinstance(node, list):
        return [v for v in (_fill(v, values) for v in node) if v is not _DROP]
    return node

"""Home-made servers (``api="custom"``): the URL as given, a body template filled in.

Request: ``POST`` to ``base_url`` itself, ``Authorization: Bearer <key>`` when a key is set, and
the body a template (``{"query": "{prompt}"}``) filled with the request's values
(:func:`render_template`; :data:`DEFAULT_TEMPLATE` when none is given). Such servers have no
wire format of their own: ``format="auto"`` reads the answer by its shape, as the ``json``
format when the shape says nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult

from .._core.errors import FormatError
from .provider import Ask, Provider, RequestRule, last_user_text, with_path

__all__ = ["DEFAULT_TEMPLATE", "PROVIDER", "render_template"]

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


def _url(parts: SplitResult, model: str | None, stream: bool) -> str:
    return with_path(parts, parts.path)


def _body(ask: Ask) -> Any:
    values = {
        "model": ask.model,
        "messages": ask.messages,
        "prompt": last_user_text(ask.messages),
        "system": next((m.get("content") for m in ask.messages if m.get("role") == "system"), None),
        "stream": ask.stream,
        "temperature": ask.temperature,
        "max_tokens": ask.max_tokens,
    }
    return render_template(DEFAULT_TEMPLATE if ask.template is None else ask.template, values)


PROVIDER = Provider(
    name="custom",
    servers="home-made servers: the URL as given, a body template",
    ends_with="—",
    request=RequestRule(url=_url, body=_body),
    reads="json",
)

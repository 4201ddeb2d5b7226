"""Find the prompt in any of the request bodies the backend accepts.

OpenAI chat, Anthropic and Ollama send ``messages`` (content a string or a list of parts with
``text``); OpenAI Responses sends ``input`` (a string or a list of items) and ``instructions``;
the home-made servers send ``query`` or ``prompt``. Images come in each API's own form
(:func:`images_of`). Pure: stdlib only.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from .._core.context import image_size
from ._content import count_tokens

__all__ = ["images_of", "prompt_of"]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_text(part) for part in content)
    if isinstance(content, dict):
        if isinstance(content.get("text"), str):
            return str(content["text"])
        return _text(content.get("content"))
    return ""


def prompt_of(body: dict[str, Any]) -> tuple[str, int]:
    """The last user message of a request, and the prompt's size in words.

    Args:
        body: The request's JSON body.

    Returns:
        ``(last user text, words in the whole prompt)``; ``("", 0)`` when there is none.
    """
    for key in ("query", "prompt"):
        if isinstance(body.get(key), str):
            return body[key], count_tokens(body[key])
    items: Any = body.get("messages")
    if items is None:
        items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    if not isinstance(items, list):
        items = []
    texts = [_text(item) for item in items if isinstance(item, dict)]
    users = [
        _text(item)
        for item in items
        if isinstance(item, dict) and item.get("role", "user") == "user"
    ]
    extra = _text(body.get("system")) + " " + _text(body.get("instructions"))
    return (users[-1] if users else ""), count_tokens(" ".join([*texts, extra]))


def _image(node: dict[str, Any]) -> str | None:
    """The base64 data (or a URL) of an image in any of the APIs' forms, else ``None``."""
    kind = node.get("type")
    if kind == "image_url":  # OpenAI chat: {"image_url": {"url": "data:…"}}
        value = node.get("image_url")
        url = value.get("url") if isinstance(value, dict) else value
        return url if isinstance(url, str) else ""
    if kind == "input_image":  # OpenAI Responses: {"image_url": "data:…"}
        url = node.get("image_url")
        return url if isinstance(url, str) else ""
    if kind == "image" and isinstance(node.get("source"), dict):  # Anthropic
        source = node["source"]
        return str(source.get("data") or source.get("url") or "")
    inline = node.get("inlineData") or node.get("inline_data")  # Gemini
    if isinstance(inline, dict):
        return str(inline.get("data") or "")
    return None


def _describe(ref: str) -> str:
    """``image/png 640x480, 12,345 bytes`` for base64 data or a data URL; a URL as it is."""
    if ref.startswith("data:"):
        ref = ref.partition(",")[2]
    elif ref.startswith(("http://", "https://")):
        return f"a URL ({ref[:60]})"
    try:
        data = base64.b64decode(ref, validate=True)
    except (binascii.Error, ValueError):
        return "not base64 data"
    mime, width, height = image_size(data)
    return f"{mime} {width}x{height}, {len(data):,} bytes"


def images_of(body: Any) -> list[str]:
    """Describe every image a request carries, in any API's form (Ollama's ``images`` too).

    Args:
        body: The request's JSON body.

    Returns:
        One line per image: media type, pixel size and bytes.
    """
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            ref = _image(node)
            if ref is not None:
                found.append(_describe(ref))
                return
            if isinstance(node.get("images"), list):  # Ollama: base64 strings
                found.extend(_describe(str(i)) for i in node["images"])
            for key, value in node.items():
                if key != "images":
                    walk(value)

    walk(body)
    return found

"""Find the prompt in any of the request bodies the backend accepts.

OpenAI chat, Anthropic and Ollama send ``messages`` (content a string or a list of parts with
``text``); OpenAI Responses sends ``input`` (a string or a list of items) and ``instructions``;
the home-made servers send ``query`` or ``prompt``. Pure: stdlib only.
"""

from __future__ import annotations

from typing import Any

from ._content import count_tokens

__all__ = ["prompt_of"]


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

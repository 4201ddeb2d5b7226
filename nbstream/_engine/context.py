"""Values from the notebook into a request's messages: text within a budget, figures as images.

:func:`with_context` is what ``chat(…, context={…})``, ``astream`` and the ``%%chat`` cell share:
``{{name}}`` in the system prompt or the last user message takes a value (rendered by
:mod:`nbstream._core.context`), and a figure or an image becomes an image part of the message
(:func:`as_image`). Values given in ``context=`` that no placeholder names follow the prompt,
each under its name.

Images are PNG, downscaled so that the longer side is at most :data:`MAX_SIDE` pixels: a
matplotlib figure is saved at the dpi that fits, a PIL image is resized with PIL itself; an
``IPython.display.Image`` is sent as it is unless it is larger and PIL is installed. Nothing is
imported for a value that is not of its library: matplotlib, PIL and IPython are recognised by
the value's class, and used through its own methods.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from .._core.context import (
    Budget,
    ContextItem,
    ImagePart,
    check_name,
    fill,
    image_size,
    message_content,
    render_all,
)
from .._core.interpolate import placeholders

__all__ = ["MAX_SIDE", "THUMB_SIDE", "apply_context", "as_image", "with_context"]

#: The longest side of an image sent, in pixels. Anthropic's vision guide: larger images are
#: scaled down to about 1568 px on the long edge by the API anyway, costing time, not quality.
MAX_SIDE = 1568
#: The longest side of the view's thumbnail.
THUMB_SIDE = 160


def _root(value: Any) -> str:
    return type(value).__module__.split(".")[0]


def _figure(value: Any) -> Any:
    """The matplotlib figure a value is or belongs to (an ``Axes``), else ``None``."""
    if _root(value) != "matplotlib":
        return None
    if callable(getattr(value, "savefig", None)) and callable(
        getattr(value, "get_size_inches", None)
    ):
        return value
    get_figure = getattr(value, "get_figure", None)
    return _figure(get_figure()) if callable(get_figure) else None


def _savefig(fig: Any, longest: int) -> bytes:
    width, height = fig.get_size_inches()
    dpi = min(float(fig.dpi), longest / max(float(width), float(height), 1e-6))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _pil_png(img: Any, longest: int) -> bytes:
    if max(img.size) > longest:
        img = img.copy()
        img.thumbnail((longest, longest))
    if img.mode not in ("1", "L", "LA", "I", "P", "RGB", "RGBA"):  # what PNG can hold
        img = img.convert("RGBA" if "A" in img.mode else "RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _shrink(data: bytes, longest: int) -> bytes | None:
    """``data`` re-encoded as a PNG within ``longest`` pixels, with PIL if installed."""
    try:
        from PIL import Image
    except ImportError:
        return None
    with Image.open(io.BytesIO(data)) as img:
        return _pil_png(img, longest)


def as_image(value: Any) -> ImagePart | None:
    """A figure or an image as an image part, or ``None`` for any other value.

    Args:
        value: A matplotlib ``Figure`` (or ``Axes``), a PIL image, or an
            ``IPython.display.Image`` holding PNG or JPEG data.

    Returns:
        The image, downscaled to :data:`MAX_SIDE`, with a small thumbnail for the view.
    """
    fig = _figure(value)
    thumb: bytes | None
    if fig is not None:
        data, thumb = _savefig(fig, MAX_SIDE), _savefig(fig, THUMB_SIDE)
    elif _root(value) == "PIL" and callable(getattr(value, "save", None)):
        data, thumb = _pil_png(value, MAX_SIDE), _pil_png(value, THUMB_SIDE)
    elif _root(value) == "IPython" and type(value).__name__ == "Image":
        raw = getattr(value, "data", None)
        if not isinstance(raw, bytes) or image_size(raw)[0] == "application/octet-stream":
            return None
        _, width, height = image_size(raw)
        data = (_shrink(raw, MAX_SIDE) if max(width, height) > MAX_SIDE else None) or raw
        thumb = _shrink(raw, THUMB_SIDE)
    else:
        return None
    mime, width, height = image_size(data)
    return ImagePart(data, mime, width, height, thumb)


def _check_no_image_in_system(items: tuple[ContextItem, ...]) -> None:
    from .._core.errors import InterpolationError

    for item in items:
        if item.image is not None:
            raise InterpolationError(
                f"{{{{{item.name}}}}} is an image: images go in the prompt, not the system prompt"
            )


def with_context(
    messages: list[dict[str, Any]],
    namespace: Mapping[str, Any],
    tokens: int,
    *,
    append: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], tuple[ContextItem, ...]]:
    """Fill ``{{name}}`` in the system prompt and the last user message, within one budget.

    Args:
        messages: The request's messages (not changed: a new list is returned).
        namespace: Where placeholders are looked up.
        tokens: The budget, in tokens, shared by every value.
        append: Values to put after the last user message, each under its name (those of
            ``context=`` that no placeholder names).

    Returns:
        The messages to send (a user message holding an image gets content parts) and what each
        value was, in order.

    Raises:
        InterpolationError: An undefined name, a name that looks like a secret, or an image in
            the system prompt.
    """
    budget = Budget(tokens)
    out = [dict(m) for m in messages]
    items: list[ContextItem] = []
    system = next((m for m in out if m.get("role") == "system"), None)
    if system is not None and isinstance(system.get("content"), str):
        filled = fill(system["content"], namespace, budget)
        _check_no_image_in_system(filled.items)
        system["content"] = filled.text
        items.extend(filled.items)
    user = next((m for m in reversed(out) if m.get("role") == "user"), None)
    if user is None or not isinstance(user.get("content"), str):
        return out, tuple(items)
    filled = fill(user["content"], namespace, budget, image=as_image)
    pieces = list(filled.pieces)
    items.extend(filled.items)
    if append:
        for name in append:
            check_name(name)
        for piece, item in render_all(list(append.items()), budget, image=as_image):
            pieces.append(f"\n\n{item.name} ({item.kind}):\n")
            pieces.append(piece)
            items.append(item)
    user["content"] = message_content(tuple(pieces))
    return out, tuple(items)


def apply_context(
    messages: list[dict[str, Any]], values: Mapping[str, Any], tokens: int
) -> tuple[list[dict[str, Any]], tuple[ContextItem, ...]]:
    """``context=`` of the programmatic API: placeholders take their values, the rest follow.

    Args:
        messages: The request's messages.
        values: The values, by name.
        tokens: The budget, in tokens.

    Returns:
        As :func:`with_context`.

    Raises:
        InterpolationError: As :func:`with_context`.
    """
    named: set[str] = set()
    system = next((m for m in messages if m.get("role") == "system"), None)
    user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    for m in (system, user):
        if m is not None and isinstance(m.get("content"), str):
            named.update(n.split(".")[0] for n in placeholders(m["content"]))
    rest = {k: v for k, v in values.items() if k not in named}
    return with_context(messages, values, tokens, append=rest)

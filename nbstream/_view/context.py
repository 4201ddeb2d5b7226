"""What context was sent, as a collapsed section above the answer: names, kinds, sizes, cuts.

The section is our own HTML, built here from :class:`~nbstream._core.context.ContextItem` s with
every value escaped; its only URLs are the ``data:image/png`` thumbnails this process encoded
itself. It is a regular display output, so a saved notebook keeps it (and nbconvert shows it).
"""

from __future__ import annotations

import base64
import html
from typing import Any

from .._core.context import ContextItem, metadata

__all__ = ["context_bundle"]


def _row(item: ContextItem) -> str:
    picture = item.image
    thumb = ""
    if picture is not None:
        data = picture.thumbnail or picture.data
        mime = "image/png" if picture.thumbnail else picture.mime
        if mime in ("image/png", "image/jpeg"):
            src = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
            thumb = f'<br><img src="{src}" alt="{html.escape(item.name)}" style="max-width:160px">'
    cut = html.escape(item.cut) if item.cut else "—"
    sent = f"{item.chars:,} characters" if picture is None else "image"
    cells = [f"<code>{html.escape(item.name)}</code>", html.escape(item.kind)]
    cells += [html.escape(item.size) + thumb, sent, cut]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def context_bundle(items: tuple[ContextItem, ...]) -> tuple[dict[str, str], dict[str, Any]]:
    """The display bundle and metadata of the context section.

    Args:
        items: What each value of the prompt was.

    Returns:
        ``({"text/html": …, "text/plain": …}, {"nbstream": {"context": […]}})``.
    """
    cut = sum(1 for i in items if i.cut)
    summary = f"context sent: {', '.join(i.name for i in items)}" + (
        f" ({cut} cut to fit the budget)" if cut else ""
    )
    head = "<tr><th>name</th><th>kind</th><th>size</th><th>sent</th><th>left out</th></tr>"
    table = f"<table>{head}{''.join(_row(i) for i in items)}</table>"
    plain = "\n".join(
        f"{i.name}: {i.kind}, {i.size}" + (f" (cut: {i.cut})" if i.cut else "") for i in items
    )
    bundle = {
        "text/html": (
            f'<details class="nbstream-context"><summary><small>{html.escape(summary)}'
            f"</small></summary>{table}</details>"
        ),
        "text/plain": f"[{summary}]\n{plain}",
    }
    return bundle, {"nbstream": {"context": metadata(items)}}

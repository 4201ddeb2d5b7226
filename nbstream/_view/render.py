"""Markdown → HTML that cannot run script, for answers written by a model.

Why the view sends this HTML inside ``text/markdown`` (and not the model's raw markdown, nor a
separate ``text/html``):

- JupyterLab and Notebook 7 do not sanitize outputs produced in the current session (FACTS.md:
  ``display(Markdown(...))`` with ``<img onerror>``, ``<script>``, ``<iframe srcdoc>`` and
  ``<details ontoggle>`` all ran). Raw markdown in ``text/markdown`` would run them.
- "Neutralising" the markdown source by escaping it is only as safe as our guess of how the
  frontend's parser (marked) reads it; any difference between parsers (code spans, entities,
  lazy lines) lets HTML through. So we parse with markdown-it-py with raw HTML *off*, allow
  only ``http``/``https``/``mailto``/relative links (``javascript:``, ``vbscript:``, ``data:``
  and entity-encoded forms are decoded by the parser first, then refused), turn images into
  links unless remote images are explicitly allowed, and run the result through nh3 with a
  small allowlist as defence in depth. The browser only ever sees HTML that nh3 vetted.
- HTML is valid markdown: the frontend's markdown renderer passes an HTML block through
  verbatim as long as no blank line interrupts it (CommonMark 4.6, types 1 and 6), so we
  encode blank lines (inside ``<pre>``) as ``&#10;``. The markdown renderer still typesets
  math (JupyterLab's ``renderMarkdown`` extracts ``$…$`` / ``$$…$$`` before parsing and runs
  the LaTeX typesetter on the result), which is why math is emitted as TeX between dollars
  rather than pre-rendered; MathJax skips ``<code>``/``<pre>`` so code keeps its dollars.
- One rich mimetype instead of two keeps the bytes down (the issue's budget is 3 times the answer),
  and ``jupyter nbconvert --to markdown`` writes HTML that any markdown viewer shows.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin

from .._core.reply import set_markdown_renderer

__all__ = ["Renderer", "safe_url"]

_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_BLANK_LINE = re.compile(r"\n(?=[ \t]*\n)")

_TAGS = {
    "a", "blockquote", "br", "code", "del", "details", "div", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "li", "ol", "p", "pre", "s", "span", "strong", "summary", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "div": {"class"},
    "span": {"class"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}


def safe_url(url: str) -> bool:
    """Tell whether a link target may be shown as a link.

    Args:
        url: The destination, already entity-decoded and normalized by the parser.

    Returns:
        ``True`` for relative URLs and ``http``, ``https`` and ``mailto``; ``False`` for
        ``javascript:``, ``vbscript:``, ``data:``, ``file:`` and every other scheme.
    """
    # Browsers ignore ASCII whitespace and control characters inside a scheme ("java\tscript:").
    cleaned = "".join(c for c in url if c > " " and c != "\x7f")
    match = _SCHEME.match(cleaned)
    return match is None or match.group(1).lower() in _SAFE_SCHEMES


class Renderer:
    """Render markdown to sanitized HTML.

    Args:
        allow_remote_images: Show ``![alt](https://…)`` as an image. Off by default: a remote
            image loads by itself and tells its server who read the answer; it is shown as a
            link instead.
    """

    def __init__(self, *, allow_remote_images: bool = False) -> None:
        self.allow_remote_images = allow_remote_images
        md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        md.enable(["table", "strikethrough"])
        md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False)
        md.validateLink = safe_url  # type: ignore[method-assign]
        md.add_render_rule("image", _image_rule(self))
        md.add_render_rule("math_inline", _math("$", "$"))
        md.add_render_rule("math_inline_double", _math("$$", "$$"))
        md.add_render_rule("math_block", _math('<div class="math">$$', "$$</div>\n"))
        self._md = md
        tags = _TAGS | {"img"} if allow_remote_images else _TAGS
        attributes = {**_ATTRIBUTES, "img": {"src", "alt", "title"}}
        self._clean_args: dict[str, Any] = {
            "tags": tags,
            "attributes": attributes,
            "url_schemes": set(_SAFE_SCHEMES),
            "link_rel": None,  # no target=_blank is ever produced; saves bytes on every link
            "strip_comments": True,
            "filter_style_properties": {"text-align"},
        }

    def render(self, text: str, env: EnvType | None = None) -> str:
        """Render markdown to sanitized HTML without blank lines.

        Args:
            text: Markdown written by a model (untrusted).
            env: markdown-it environment shared between calls; link reference definitions
                found in one call are used by later ones.

        Returns:
            HTML safe to show in a trusted output, or ``""`` for blank text.
        """
        if not text.strip():
            return ""
        raw = self._md.render(text, env if env is not None else {})
        clean = nh3.clean(raw, **self._clean_args)
        return _BLANK_LINE.sub("&#10;", clean)

    def references(self, text: str) -> dict[str, Any]:
        """Return the link reference definitions of ``text`` as a markdown-it ``env``."""
        env: dict[str, Any] = {}
        self._md.parse(text, env)
        return env

    def image(self, token: Token, alt: str) -> str:
        """Render an image token: a link to it, or the image when remote images are allowed.

        Args:
            token: The ``image`` token (its ``src`` already checked by :func:`safe_url`).
            alt: The alt text, as plain text.

        Returns:
            HTML for the image.
        """
        src = str(token.attrGet("src") or "")
        remote = src.lower().startswith(("http://", "https://"))
        if self.allow_remote_images and remote:
            return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}">'
        return f'<a href="{html.escape(src)}">[image: {html.escape(alt or "image")}]</a>'


def _image_rule(owner: Renderer) -> Any:
    def rule(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        alt = self.renderInlineAsText(tokens[idx].children or [], options, env)
        return owner.image(tokens[idx], alt)

    return rule


def _math(before: str, after: str) -> Any:
    def rule(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return before + html.escape(tokens[idx].content, quote=False) + after

    return rule


@functools.cache
def _shared() -> Renderer:
    return Renderer()


def _render_reply(text: str) -> str:
    return _shared().render(text)


# A Reply shows its answer through this renderer (Reply._repr_mimebundle_). The core cannot import
# the view, so the view hands it down when it loads.
set_markdown_renderer(_render_reply)

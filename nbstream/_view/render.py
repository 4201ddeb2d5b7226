"""Markdown → what a Jupyter frontend shows like its own markdown, for answers written by a model.

The view sends a ``text/markdown`` output made of two kinds of blocks:

- **sanitized HTML** for everything but code blocks. JupyterLab and Notebook 7 do not sanitize
  outputs produced in the current session (FACTS.md: ``display(Markdown(...))`` with
  ``<img onerror>``, ``<script>``, ``<iframe srcdoc>`` and ``<details ontoggle>`` all ran), so
  the model's markdown is parsed here, by markdown-it-py with raw HTML *off*, links limited to
  ``http``/``https``/``mailto``/relative, images turned into links unless remote images are
  allowed, and the result run through nh3 with a small allowlist. HTML is valid markdown: the
  frontend passes an HTML block through verbatim until a blank line (CommonMark 4.6, types 1
  and 6), so no HTML block holds a blank line (``&#10;`` inside ``<pre>``) and every one starts
  with a block-level tag (checked after each fence: text there would be read as markdown);
- **fenced code blocks**, so that the frontend highlights them itself, in the user's theme
  (FACTS.md: a fence in a ``text/markdown`` output is highlighted by JupyterLab, the same code
  as ``<pre><code>`` HTML is plain). Every markdown renderer escapes a fence's content, so the
  code travels as written: the fence is longer than any backtick run inside it and the language
  tag is kept only when it is made of ``[\\w+#.-]`` (JupyterLab puts it into a ``class``
  attribute unescaped). ``mermaid`` blocks travel without their tag: JupyterLab would draw them
  with mermaid, in the live page, from the model's text. While a block is still open
  (``live=True``) it is sent as plain ``<pre>``: re-highlighting it at every frame cost the
  page 8-12 ms per frame for a 60-line live piece and 34-37 ms for 300 lines (median), against
  1-7 ms as plain ``<pre>`` (``benchmarks/browser_fence.py``).

Math reaches MathJax intact. The frontend's ``renderMarkdown`` first extracts ``$…$``,
``$$…$$``, ``\\\\(…\\\\)``, ``\\\\[…\\\\]`` and ``\\begin{…}…\\end{…}`` from the *source* of the
output (JupyterLab ``removeMath``: no flanking rules, a ``$`` pairs with the next one anywhere,
and ``&``, ``<``, ``>`` of the formula are HTML-escaped), then MathJax typesets the DOM (inline
``$``/``\\(``, display ``$$``/``\\[``, environments, ``\\$`` escapes; never inside ``<code>`` or
``<pre>``, never across an element boundary). So:

- formulas are written as ``$…$`` / ``$$…$$`` (or their environment) with ``&`` raw (it is
  escaped once, by the frontend), ``<`` before a letter as ``\\lt `` (it could open a tag where
  no frontend extracts the formula) and no blank line;
- no other character of the HTML can start or end a formula: ``\\``, ````` and ``~`` (the
  frontend's code-span and fence detection) are character references everywhere, and a ``$``
  is ``&#36;`` in code and attributes and ``<span>&#36;</span>`` in text, where its own element
  keeps MathJax from pairing it with another. "$5 and $10" stays money.

Which ``$`` is math is pandoc's ``tex_math_dollars`` rule (mdit-py-plugins' dollarmath with
``allow_space=False, allow_digits=False``, the same rule as :func:`nbstream._core.markdown.heal`
when it holds a half-written formula back). GitHub task lists, bare URLs (GFM autolinks) and
``~single~`` strikethrough render as in a markdown cell.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.gfm_autolink import gfm_autolink_plugin

from .._core.reply import set_markdown_renderer

__all__ = ["Renderer", "inline_text", "safe_url"]

_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_BLANK_LINE = re.compile(r"\n(?=[ \t]*\n)")

_TAGS = {
    "a", "blockquote", "br", "code", "del", "details", "div", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "input", "li", "ol", "p", "pre", "s", "span", "strong", "summary",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "input": {"checked", "disabled"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
# A task list's checkbox is the only <input> there is (raw HTML is off): only a checkbox.
_ATTRIBUTE_VALUES = {"input": {"type": {"checkbox"}}}

# Placeholders between rendering and sanitizing (private-use characters; removed from the input
# first, so the model cannot write one): a formula, and a code block, by index.
_MATH_OPEN, _MATH_CLOSE, _CODE_OPEN, _CODE_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_SENTINELS = re.compile("[\ue000-\ue003]")
_MATH_AT = re.compile("\ue000(\\d+)\ue001")
_CODE_AT = re.compile("\ue002(\\d+)\ue003")

_LANGUAGE = re.compile(r"[\w+#.-]+", re.ASCII)
_UNHIGHLIGHTED = frozenset({"mermaid"})
_BACKTICKS = re.compile(r"`+")

# HTML outside fences: characters the frontend's math and code detection reacts to.
_TEXT = str.maketrans({"\\": "&#92;", "`": "&#96;", "~": "&#126;", "$": "<span>&#36;</span>"})
_CODE_TEXT = str.maketrans({"\\": "&#92;", "`": "&#96;", "~": "&#126;", "$": "&#36;"})
# Code with its tags (nh3 escapes "<" in text), a tag with such a character in an attribute
# (nh3 escapes ">" inside attribute values), or one such character in text.
_SPECIAL = re.compile(r"<code[^>]*>[^<]*</code>|<[^>]*[\\`~$][^>]*>|[\\`~$]")
# CommonMark HTML blocks of types 1 and 6 (spec 4.6): what may start a block after a fence.
_BLOCK_START = re.compile(
    r"</?(?:address|article|aside|blockquote|details|div|dl|dd|dt|h[1-6]|hr|li|ol|p|pre|"
    r"summary|table|tbody|td|tfoot|th|thead|tr|ul)[\s/>]",
    re.IGNORECASE,
)

_TAG_LIKE = re.compile(r"<(?=[A-Za-z/!?])")
_MATH_BLANK_LINES = re.compile(r"\n[ \t]*(?=\n)")
_BARE_DOLLAR = re.compile(r"(?<!\\)\$")
_BEGIN = re.compile(r"\\begin\{([A-Za-z]+\*?)\}")


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


def inline_text(text: str) -> str:
    """Plain text (a status line, an error message) as HTML inside a ``text/markdown`` output.

    Escaped like the renderer's own text: no tag, and nothing the frontend takes for math.
    """
    return html.escape(text, quote=False).translate(_TEXT)


@dataclass(slots=True)
class _Render:
    """What one render collects between parsing and sanitizing."""

    fences: bool  # settled code blocks travel as fences (else as plain <pre>)
    html: bool  # the target is HTML (a widget), not a markdown output
    math: list[str] = field(default_factory=list)
    code: list[tuple[str, str]] = field(default_factory=list)


_KEY = "nbstream_render"


class Renderer:
    """Render markdown to what a frontend shows safely and like its own markdown.

    Args:
        allow_remote_images: Show ``![alt](https://…)`` as an image. Off by default: a remote
            image loads by itself and tells its server who read the answer; it is shown as a
            link instead.
    """

    def __init__(self, *, allow_remote_images: bool = False) -> None:
        self.allow_remote_images = allow_remote_images
        md = MarkdownIt("commonmark", {"html": False, "typographer": False})
        md.enable(["table", "strikethrough"])
        # GFM as the frontends' marked renders it: task lists, ~single~ tildes, bare URLs.
        md.options["tasklists"] = True
        md.options["strikethrough_single_tilde"] = True
        md.use(gfm_autolink_plugin)
        md.use(
            dollarmath_plugin,
            allow_labels=False,
            allow_space=False,
            allow_digits=False,
            double_inline=True,
        )
        md.inline.ruler.before("escape", "tex_inline", _tex_inline)
        md.block.ruler.before(
            "paragraph",
            "tex_block",
            _tex_block,
            {"alt": ["paragraph", "reference", "blockquote", "list"]},
        )
        md.validateLink = safe_url  # type: ignore[method-assign]
        md.add_render_rule("image", _image_rule(self))
        for name, delimiters in _MATH_TOKENS.items():
            md.add_render_rule(name, _math_rule(*delimiters))
        md.add_render_rule("fence", _code_rule)
        md.add_render_rule("code_block", _code_rule)
        # <del>, as marked writes strikethrough (markdown-it writes <s>).
        md.add_render_rule("s_open", lambda *_: "<del>")
        md.add_render_rule("s_close", lambda *_: "</del>")
        self._md = md
        tags = _TAGS | {"img"} if allow_remote_images else _TAGS
        attributes = {**_ATTRIBUTES, "img": {"src", "alt", "title"}}
        self._clean_args: dict[str, Any] = {
            "tags": tags,
            "attributes": attributes,
            "tag_attribute_values": _ATTRIBUTE_VALUES,
            "url_schemes": set(_SAFE_SCHEMES),
            "link_rel": None,  # no target=_blank is ever produced; saves bytes on every link
            "strip_comments": True,
            "filter_style_properties": {"text-align"},
        }

    def render(self, text: str, env: EnvType | None = None, *, live: bool = False) -> str:
        """Render markdown for a ``text/markdown`` output: sanitized HTML and code fences.

        Args:
            text: Markdown written by a model (untrusted).
            env: markdown-it environment shared between calls; link reference definitions
                found in one call are used by later ones.
            live: The text is still growing: code blocks are sent as plain ``<pre>`` (the
                frontend highlights a fence anew at every frame; a settled block is highlighted
                once).

        Returns:
            Markdown that renders safely, or ``""`` for blank text.
        """
        return self._render(text, env, _Render(fences=not live, html=False))

    def html(self, text: str, env: EnvType | None = None) -> str:
        """Render markdown to sanitized HTML only, for a widget that shows HTML and typesets math.

        Args:
            text: Markdown written by a model (untrusted).
            env: As for :meth:`render`.

        Returns:
            HTML (``<pre>`` code blocks, ``$``-delimited math), or ``""`` for blank text.
        """
        return self._render(text, env, _Render(fences=False, html=True))

    def _render(self, text: str, env: EnvType | None, state: _Render) -> str:
        if not text.strip():
            return ""
        env = env if env is not None else {}
        env[_KEY] = state
        try:
            raw = self._md.render(_SENTINELS.sub("\ufffd", text), env)
        finally:
            del env[_KEY]
        clean = nh3.clean(raw, **self._clean_args)
        return _assemble(_escape_delimiters(clean), state)

    def references(self, text: str) -> dict[str, Any]:
        """Return the link reference definitions of ``text`` as a markdown-it ``env``."""
        env: dict[str, Any] = {}
        self._md.parse(_SENTINELS.sub("\ufffd", text), env)
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


# -- markdown-it rules -------------------------------------------------------------------------

# token type → (HTML before, formula opener, formula closer, HTML after), in the output.
_MATH_TOKENS = {
    "math_inline": ("", "$", "$", ""),
    "math_inline_double": ("", "$$", "$$", ""),
    "math_env": ("", "", "", ""),
    # A paragraph, as the frontend makes of a formula standing alone in a markdown cell.
    "math_block": ("<p>", "$$", "$$", "</p>\n"),
    "math_block_env": ("<p>", "", "", "</p>\n"),
}


def _math_rule(html_open: str, math_open: str, math_close: str, html_close: str) -> Any:
    def rule(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        state: _Render = env[_KEY]
        state.math.append(math_open + _tex(tokens[idx].content, html=state.html) + math_close)
        return f"{html_open}{_MATH_OPEN}{len(state.math) - 1}{_MATH_CLOSE}{html_close}"

    return rule


def _tex(content: str, *, html: bool) -> str:
    """A formula as it must travel: no blank line, no tag opener, no bare ``$``."""
    content = _MATH_BLANK_LINES.sub("", content)
    content = _TAG_LIKE.sub(r"\\lt ", content)
    content = _BARE_DOLLAR.sub(r"\\$", content)
    # A markdown output: the frontend escapes "&" itself. HTML: escaped here, once.
    return content.replace("&", "&amp;") if html else content


def _code_rule(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    words = token.info.split(maxsplit=1) if token.type == "fence" else []
    language = words[0] if words and _LANGUAGE.fullmatch(words[0]) else ""
    state: _Render = env[_KEY]
    if state.fences:
        state.code.append(("" if language in _UNHIGHLIGHTED else language, token.content))
        return f"{_CODE_OPEN}{len(state.code) - 1}{_CODE_CLOSE}"
    return _pre(language, token.content)


def _pre(language: str, code: str) -> str:
    attribute = f' class="language-{language}"' if language else ""
    return f"<pre><code{attribute}>{html.escape(code, quote=False)}</code></pre>\n"


def _tex_inline(state: StateInline, silent: bool) -> bool:
    r"""``\(…\)``, ``\[…\]`` and ``\begin{env}…\end{env}`` inside a paragraph.

    Before markdown's escapes, which would turn ``\(`` into ``(`` (FACTS.md).
    """
    src, pos = state.src, state.pos
    if src[pos] != "\\" or pos + 1 >= state.posMax:
        return False
    opener = src[pos + 1]
    if opener in "([":
        closer = "\\)" if opener == "(" else "\\]"
        end = src.find(closer, pos + 2, state.posMax)
        if end == -1 or not src[pos + 2 : end].strip():
            return False
        kind, content, state_end = (
            "math_inline" if opener == "(" else "math_inline_double",
            src[pos + 2 : end],
            end + 2,
        )
    else:
        match = _BEGIN.match(src, pos, state.posMax)
        if match is None:
            return False
        end_tag = f"\\end{{{match.group(1)}}}"
        end = src.find(end_tag, match.end(), state.posMax)
        if end == -1:
            return False
        kind, state_end = "math_env", end + len(end_tag)
        content = src[pos:state_end]
    if not silent:
        token = state.push(kind, "math", 0)
        token.content = content
    state.pos = state_end
    return True


def _tex_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    r"""A ``\[…\]`` or ``\begin{env}…\end{env}`` block starting a line, with nothing after it."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start] + state.tShift[start]
    first = state.src[begin : state.eMarks[start]]
    match = _BEGIN.match(first)
    if first.startswith("\\["):
        kind, closer, skip = "math_block", "\\]", 2
    elif match is not None:
        kind, closer, skip = "math_block_env", f"\\end{{{match.group(1)}}}", match.end()
    else:
        return False
    line = start
    while line < end:
        lo = begin + skip if line == start else state.bMarks[line] + state.tShift[line]
        hi = state.eMarks[line]
        if line > start and lo >= hi:
            return False  # a blank line: no formula spans one
        found = state.src.find(closer, lo, hi)
        if found != -1:
            if state.src[found + len(closer) : hi].strip():
                return False  # text after the closer: a paragraph (the inline rule takes it)
            break
        line += 1
    else:
        return False
    if silent:
        return True
    if kind == "math_block":
        content = state.src[begin + 2 : found]
    else:
        content = state.src[begin : found + len(closer)]
    token = state.push(kind, "math", 0)
    token.block = True
    token.content = content
    token.map = [start, line + 1]
    state.line = line + 1
    return True


def _image_rule(owner: Renderer) -> Any:
    def rule(
        self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        alt = self.renderInlineAsText(tokens[idx].children or [], options, env)
        return owner.image(tokens[idx], alt)

    return rule


# -- after nh3 ---------------------------------------------------------------------------------


def _escape_delimiters(clean: str) -> str:
    """Make every character the frontend's math or code detection reacts to a reference."""
    return _SPECIAL.sub(_escape_one, clean)


def _escape_one(match: re.Match[str]) -> str:
    found = match.group()
    if len(found) == 1:
        return found.translate(_TEXT)
    return found.translate(_CODE_TEXT)  # code (its text and tags), or a tag's attributes


def _assemble(escaped: str, state: _Render) -> str:
    """Put the formulas and the code fences in; keep every HTML part one HTML block."""
    result = _BLANK_LINE.sub("&#10;", escaped)
    if state.math:
        result = _MATH_AT.sub(lambda m: state.math[int(m.group(1))], result)
    if not state.code:
        return result
    parts = _CODE_AT.split(result)
    out = [parts[0]]
    for k in range(1, len(parts), 2):
        language, code = state.code[int(parts[k])]
        # A blank line before the fence ends the HTML block above it (one "\n" when the output
        # starts with the fence, so that segments rendered apart join like the whole).
        before = "\n" if not out[-1] or out[-1].endswith("\n") else "\n\n"
        out.append(f"{before}{_fence(language, code)}\n\n")
        after = parts[k + 1]
        if after and not _BLOCK_START.match(after):
            # Text right after a code block (a tight list item): the frontend would read it as
            # a markdown paragraph, not as HTML. An empty block-level element keeps it HTML.
            after = "<div></div>" + after
        out.append(after)
    return "".join(out)


def _fence(language: str, code: str) -> str:
    """A fence around ``code`` that nothing inside it can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(code)), default=0)
    marks = "`" * max(3, longest + 1)
    if code and not code.endswith("\n"):
        code += "\n"
    return f"{marks}{language}\n{code}{marks}"


@functools.cache
def _shared() -> Renderer:
    return Renderer()


def _render_reply(text: str) -> str:
    return _shared().render(text)


# A Reply shows its answer through this renderer (Reply._repr_mimebundle_). The core cannot import
# the view, so the view hands it down when it loads.
set_markdown_renderer(_render_reply)

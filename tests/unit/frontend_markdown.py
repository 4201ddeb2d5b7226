"""What a Jupyter frontend does with a ``text/markdown`` output, modelled in Python for unit tests.

- :func:`remove_math` is JupyterLab 4.6's ``removeMath`` (``packages/rendermime/src/latex.ts``,
  read from the shipped bundle), transcribed: it runs over the *source* of every markdown
  output before the markdown parser, pairs ``$``, ``$$``, ``\\\\(``, ``\\\\[`` and
  ``\\begin{…}`` delimiters with no flanking rules, and HTML-escapes ``&``, ``<``, ``>`` of each
  formula. Only fenced code and backtick code spans protect a ``$``.
- :func:`parse` reads the output as the frontend's markdown parser does (marked, GFM): markdown-it
  with raw HTML on, which passes HTML blocks through verbatim and escapes fenced code.

The browser tests (``tests/browser/test_parity.py``) check the real thing; these models let the
unit tests check every payload fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["frontend_html", "parse", "remove_math"]

_SPLIT = re.compile(
    r"(\$\$?|\\(?:begin|end)\{[a-z]*\*?\}|\\[{}$]|[{}]|(?:\n\s*)+|@@\d+@@|\\\\[()[\]])",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^(?P<fence>`{3,}|(~T){3,})[^`\n]*\n([\s\S]*?)^(?P=fence)`*$", re.MULTILINE)
_SPAN = re.compile(r"(^|[^\\])(`+)([^\n]*?[^`\n])\2(?!`)", re.MULTILINE)


def remove_math(text: str) -> tuple[str, list[str]]:
    """JupyterLab's ``removeMath``: the text with ``@@n@@`` placeholders, and the formulas."""
    math: list[str] = []
    start: int | None = None
    end: str | None = None
    last: int | None = None
    braces = 0
    de_tilde: Callable[[str], str]
    if "`" in text or "~~~" in text:
        text = text.replace("~", "~T")
        text = _FENCE.sub(lambda m: m.group().replace("$", "~D"), text)
        text = _SPAN.sub(lambda m: m.group().replace("$", "~D"), text)

        def de_tilde(s: str) -> str:
            return re.sub(r"~([TD])", lambda m: "~" if m.group(1) == "T" else "$", s)

    else:

        def de_tilde(s: str) -> str:
            return s

    blocks = _SPLIT.split(re.sub(r"\r\n?", "\n", text))

    def process(i: int, j: int) -> None:
        block = "".join(blocks[i : j + 1])
        block = block.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for k in range(j, i, -1):
            blocks[k] = ""
        blocks[i] = f"@@{len(math)}@@"
        math.append(de_tilde(block))

    i = 1
    while i < len(blocks):
        block = blocks[i]
        if block.startswith("@"):
            blocks[i] = f"@@{len(math)}@@"
            math.append(block)
        elif start is not None:
            if block == end:
                if braces:
                    last = i
                else:
                    process(start, i)
                    start = end = last = None
            elif re.search(r"\n.*\n", block):
                if last is not None:
                    i = last
                    process(start, i)
                start = end = last = None
                braces = 0
            elif block == "{":
                braces += 1
            elif block == "}" and braces:
                braces -= 1
        elif block in ("$", "$$"):
            start, end, braces = i, block, 0
        elif block in ("\\\\(", "\\\\["):
            start, end, braces = i, "\\\\)" if block.endswith("(") else "\\\\]", 0
        elif block[1:6] == "begin":
            start, end, braces = i, "\\end" + block[6:], 0
        i += 2
    if start is not None and last is not None:
        process(start, last)
    return de_tilde("".join(blocks)), math


_MARKED = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def parse(markdown: str) -> list[Token]:
    """The top-level block tokens the frontend's markdown parser finds in ``markdown``."""
    return [t for t in _MARKED.parse(markdown) if t.level == 0]


def frontend_html(markdown: str) -> str:
    """The HTML the frontend puts into the page for ``markdown`` (math placeholders kept)."""
    text, _ = remove_math(markdown)
    return _MARKED.render(text)

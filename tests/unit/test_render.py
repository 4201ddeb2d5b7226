"""The sanitizing renderer against a hostile corpus (nbstream._view.render)."""

from __future__ import annotations

import re

import pytest

from nbstream._view.render import Renderer, safe_url

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<details open ontoggle=alert(1)>x</details>",
    "<svg onload=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "[r][1]\n\n[1]: javascript:alert(1)",
    "![r][img]\n\n[img]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "`<script>` in code and\n\n```\n<script>alert(1)</script>\n```",
    "$<img src=x onerror=alert(1)>$",
    "$$\n<script>alert(1)</script>\n$$",
    "| <b onmouseover=alert(1)>x</b> |\n|---|\n| y |",
]

# What would run script or load something by itself, in any attribute or element.
DANGER = re.compile(
    r"<script|<iframe|<svg|<img|<object|<embed|<style|\son\w+\s*=|javascript:|vbscript:|data:",
    re.IGNORECASE,
)


def tags_and_attrs(html: str) -> str:
    """The markup only: text content is escaped and cannot run."""
    return " ".join(re.findall(r"<[^>]*>", html))


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markdown_renders_inert(payload: str) -> None:
    html = Renderer().render(payload)
    assert not DANGER.search(tags_and_attrs(html)), html


def test_raw_html_is_shown_as_text() -> None:
    assert Renderer().render("<b>x</b>") == "<p>&lt;b&gt;x&lt;/b&gt;</p>\n"


def test_remote_images_become_links_by_default() -> None:
    html = Renderer().render("![chart](https://example.com/c.png)")
    assert "<img" not in html
    assert '<a href="https://example.com/c.png">[image: chart]</a>' in html


def test_remote_images_show_when_allowed() -> None:
    html = Renderer(allow_remote_images=True).render("![chart](https://example.com/c.png)")
    assert '<img src="https://example.com/c.png" alt="chart">' in html
    assert "<img" not in Renderer(allow_remote_images=True).render("![x](local.png)")


def test_safe_links_code_and_math_still_render() -> None:
    text = "[ok](https://a.b/c) <https://a.b>\n\n```python\nif a < b:\n\n    pass\n```\n\n$x^2$ and\n\n$$\n\\frac{a}{b}\n$$\n"
    html = Renderer().render(text)
    assert '<a href="https://a.b/c">ok</a>' in html
    assert '<a href="https://a.b">https://a.b</a>' in html
    assert '<pre><code class="language-python">if a &lt; b:&#10;\n    pass\n</code></pre>' in html
    assert "$x^2$" in html
    assert '<div class="math">$$\n\\frac{a}{b}\n$$</div>' in html


def test_output_has_no_blank_line_so_markdown_renderers_keep_it_one_html_block() -> None:
    html = Renderer().render("```\na\n\n\n   \nb\n```\n\n$$\na\n\nb\n$$\n")
    assert not re.search(r"\n[ \t]*\n", html)


def test_tables_keep_alignment_only() -> None:
    html = Renderer().render("| a | b |\n|:--|--:|\n| 1 | 2 |\n")
    assert '<th style="text-align:left">a</th>' in html


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://x", True),
        ("mailto:a@b", True),
        ("/relative", True),
        ("#anchor", True),
        ("javascript:x", False),
        ("java\tscript:x", False),
        ("DATA:text/html,x", False),
        ("file:///etc/passwd", False),
    ],
)
def test_safe_url(url: str, ok: bool) -> None:
    assert safe_url(url) is ok

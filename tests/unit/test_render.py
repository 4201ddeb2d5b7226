"""The renderer (nbstream._view.render) against hostile input, and against the frontend's reading.

What the frontend does with the output is modelled in :mod:`tests.unit.frontend_markdown`
(JupyterLab's ``removeMath`` transcribed, and a CommonMark parser with raw HTML on, as marked
reads it); ``tests/browser/test_parity.py`` checks the same in real JupyterLab and Notebook 7.
"""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from nbstream._core.markdown import code_blocks
from nbstream._view.render import Renderer, safe_url

from .frontend_markdown import frontend_html, parse, remove_math

R = Renderer()
COMMONMARK = MarkdownIt("commonmark")

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
    "\\(<img src=x onerror=alert(1)>\\)",
    "\\begin{align}<script>alert(1)</script>\\end{align}",
    "| <b onmouseover=alert(1)>x</b> |\n|---|\n| y |",
    # Aimed at the fence path:
    "```\n````\n</code></pre><script>alert(1)</script>\n```",  # a backtick run longer than 3
    "````\n```\n<img src=x onerror=alert(1)>\n```\n````\n\n<img src=x onerror=alert(1)>",
    '```python" onmouseover="alert(1)\nx = 1\n```',  # a hostile language tag
    "```<script>alert(1)</script>\nx\n```",
    "```py><img/src/onerror=alert(1)>\nx\n```",
    "```\n</code></pre><img src=x onerror=alert(1)>\n```",  # </code> inside code
    "~~~\n</code>\n```\n<script>alert(1)</script>\n~~~",
    # Text right after a fence in a tight list item would be read as markdown by the frontend:
    "- a\n  ```\n  x\n  ```\n  [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    "- a\n  ```\n  x\n  ```\n  `![x](http://203.0.113.7/x.png)`",
    "> ```\n> x\n> ```\n> [x](javascript:alert(1))",
    "\ue0020\ue003 and \ue0000\ue001 (forged placeholders)",
]

# What would run script or load something by itself, in any attribute or element.
DANGER = re.compile(
    r"<script|<iframe|<svg|<img|<object|<embed|<style|\son\w+\s*=|javascript:|vbscript:|data:",
    re.IGNORECASE,
)


def tags_and_attrs(markup: str) -> str:
    """The markup only: text content is escaped and cannot run."""
    return " ".join(re.findall(r"<[^>]*>", markup))


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markdown_renders_inert_in_the_frontend(payload: str) -> None:
    out = R.render(payload)
    page = frontend_html(out)
    assert not DANGER.search(tags_and_attrs(page)), page
    # Nothing the frontend would read as markdown: HTML blocks and code fences only.
    assert {t.type for t in parse(out)} <= {"html_block", "fence"}, out


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markdown_renders_inert_as_html(payload: str) -> None:
    assert not DANGER.search(tags_and_attrs(R.html(payload)))
    assert not DANGER.search(tags_and_attrs(R.render(payload, live=True)))


CORPUS = [
    "# Title\n\nSome *text* with `code`, $x^2$ and a [link](https://a.b).",
    "1. Install:\n   ```bash\n   pip install nbstream\n   ```\n2. Run:\n\n   ```python\n   import nbstream\n   ```\n",
    "- tight\n  ```js\n  let a = '$5';\n  ```\n  after the code\n- next",
    "> quote\n>\n> ```sql\n> SELECT '$1';\n> ```\n",
    "````md\n```python\nnested\n```\n````\n\ntext",
    "```\n\n\nblank lines\n\n\n```",
    "    indented code $x$\n\nafter",
    "| a | b |\n|:--|--:|\n| `$x` | 2 |\n",
    "<details>\n\n```py\nx\n```\n\n</details>",
]


@pytest.mark.parametrize("text", CORPUS)
def test_output_is_html_blocks_and_exact_code_fences(text: str) -> None:
    out = R.render(text)
    tokens = parse(out)
    assert {t.type for t in tokens} <= {"html_block", "fence"}, out
    fences = [t.content for t in tokens if t.type == "fence"]
    rendered_blocks = [t for t in COMMONMARK.parse(text) if t.type in ("fence", "code_block")]
    assert fences == [t.content for t in rendered_blocks]
    # Every fenced block of the answer is in reply.code_blocks, exactly.
    fenced = [t for t in rendered_blocks if t.type == "fence"]
    assert [b.code + "\n" for b in code_blocks(text)] == [t.content for t in fenced]


def test_a_fence_is_longer_than_any_backtick_run_in_the_code() -> None:
    code = "a = '````'\n```\nb"
    out = R.render(f"~~~python\n{code}\n~~~")
    assert "`````python\n" in out
    (fence,) = [t for t in parse(out) if t.type == "fence"]
    assert fence.content == code + "\n"
    assert fence.info == "python"


@pytest.mark.parametrize(
    ("tag", "kept"),
    [
        ("python", "python"),
        ("c++", "c++"),
        ("c#", "c#"),
        ("objective-c", "objective-c"),
        ("x.y_z", "x.y_z"),
        ("mermaid", ""),  # the frontend would draw it with mermaid, from the model's text
        ('python" onmouseover="alert(1)', ""),
        ("py<script>", ""),
        ("py{x}", ""),
        ("pythön", ""),
    ],
)
def test_only_a_plain_language_tag_reaches_the_fence(tag: str, kept: str) -> None:
    (fence,) = [t for t in parse(R.render(f"```{tag}\nx\n```")) if t.type == "fence"]
    assert fence.info == kept


def test_a_live_code_block_is_plain_and_a_settled_one_is_a_fence() -> None:
    text = "```python\nif a < b:\n\n    pass\n```\n"
    assert R.render(text, live=True) == (
        '<pre><code class="language-python">if a &lt; b:&#10;\n    pass\n</code></pre>\n'
    )
    assert R.render(text) == "\n```python\nif a < b:\n\n    pass\n```\n\n"


def test_text_after_a_fence_in_a_tight_list_stays_html() -> None:
    out = R.render("- a\n  ```\n  x\n  ```\n  more\n- b")
    assert "\n\n<div></div>more</li>" in out


# -- math: what MathJax receives -------------------------------------------------------------


def formulas(text: str) -> list[str]:
    """The formulas the frontend extracts from the rendered output, as MathJax reads them."""
    rest, math = remove_math(R.render(text))
    # Every other "$" of the HTML is a reference (fenced code keeps its own: it is protected).
    html_parts = "".join(t.content for t in parse(rest) if t.type == "html_block")
    assert "$" not in html_parts.replace("<span>&#36;</span>", "").replace("&#36;", "")
    return [html.unescape(m) for m in math]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a price of $5 and $10.", []),
        ("costs $5, $x$ is", ["$x$"]),
        ("`$HOME` and `$PATH`", []),
        ("$x > 88.7$ and $a<b$", ["$x > 88.7$", "$a\\lt b$"]),
        (
            "\\( \\pi r^2 \\) and \\[ \\int_0^1 x^2\\,dx \\]",
            ["$ \\pi r^2 $", "$$ \\int_0^1 x^2\\,dx $$"],
        ),
        ("Area:\n\n\\[\n\\pi r^2\n\\]\n\ndone", ["$$\n\\pi r^2\n$$"]),
        (
            "\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}",
            ["\\begin{align}\na &= b \\\\\nc &= d\n\\end{align}"],
        ),
        ("the matrix \\begin{pmatrix}a&b\\end{pmatrix} is", ["\\begin{pmatrix}a&b\\end{pmatrix}"]),
        ("$$\na\n\n  \nb\n$$", ["$$\na\nb\n$$"]),
        (
            "```python\nprice = '$5'\n```\n\n## Total $\n\n| item | cost |\n|---|--:|\n| a | $5 |\n\n"
            "- `$x` and \\$y\n\nfinally $z$",
            ["$z$"],
        ),
        ("escaped \\$x$ and \\\\( text \\\\)", []),
        ("a `\\begin{align} a&b \\end{align}` in code", []),
    ],
)
def test_formulas_reach_mathjax_intact_and_nothing_else_does(
    text: str, expected: list[str]
) -> None:
    assert formulas(text) == expected


def test_currency_dollars_are_each_in_their_own_element() -> None:
    # MathJax pairs delimiters only within one text string; an element boundary ends a string.
    assert R.render("a price of $5 and $10.") == (
        "<p>a price of <span>&#36;</span>5 and <span>&#36;</span>10.</p>\n"
    )


def test_html_target_escapes_formulas_once_and_keeps_code_plain() -> None:
    out = R.html("$a&b$\n\n```py\nx = '$'\n```")
    assert "$a&amp;b$" in out
    assert "<pre><code class=\"language-py\">x = '&#36;'\n</code></pre>" in out


# -- GitHub-flavoured markdown as the frontend renders it --------------------------------------


def test_task_lists_bare_urls_and_strikethrough() -> None:
    out = R.render("- [ ] todo\n- [x] done\n\nsee https://example.com/a_(b). ~gone~ ~~too~~")
    assert '<li><input disabled="" type="checkbox"> todo</li>' in out
    assert '<li><input disabled="" type="checkbox" checked=""> done</li>' in out
    assert '<a href="https://example.com/a_(b)">https://example.com/a_(b)</a>.' in out
    assert "<del>gone</del> <del>too</del>" in out


def test_raw_html_is_shown_as_text() -> None:
    assert R.render("<b>x</b>") == "<p>&lt;b&gt;x&lt;/b&gt;</p>\n"


def test_remote_images_become_links_by_default() -> None:
    out = R.render("![chart](https://example.com/c.png)")
    assert "<img" not in out
    assert '<a href="https://example.com/c.png">[image: chart]</a>' in out


def test_remote_images_show_when_allowed() -> None:
    out = Renderer(allow_remote_images=True).render("![chart](https://example.com/c.png)")
    assert '<img src="https://example.com/c.png" alt="chart">' in out
    assert "<img" not in Renderer(allow_remote_images=True).render("![x](local.png)")


def test_safe_links_and_math_still_render() -> None:
    out = R.render("[ok](https://a.b/c) <https://a.b>\n\n$x^2$ and\n\n$$\n\\frac{a}{b}\n$$\n")
    assert '<a href="https://a.b/c">ok</a>' in out
    assert '<a href="https://a.b">https://a.b</a>' in out
    assert "<p>$x^2$ and</p>" in out
    assert "<p>$$\n\\frac{a}{b}\n$$</p>" in out


def test_tables_keep_alignment_only() -> None:
    out = R.render("| a | b |\n|:--|--:|\n| 1 | 2 |\n")
    assert '<th style="text-align:left">a</th>' in out


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

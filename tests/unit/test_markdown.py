"""Incremental splitting and healing (nbstream._core.markdown), checked against markdown-it renders."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from nbstream._core.markdown import CodeBlock, code_blocks, heal, piece_cut, settled_end
from nbstream._view.render import Renderer

R = Renderer()

BLOCKS = [
    "# Heading",
    "A paragraph with **bold**, *em*, `code` and a [link](https://example.com).",
    "Two lines\nof one paragraph.",
    "- item one\n- item two",
    "1. first\n2. second",
    "- loose item",
    "```python\nx = 1\n\ny = 2\n```",
    "~~~\nraw <b>\n~~~",
    "    indented code",
    "> a quote\n> more",
    "$$\nx^2\n\ny\n$$",
    "Math $a+b$ inline.",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "---",
    "Setext\n===",
    "<script>alert(1)</script>",
    "  continuation after blank",
]


def stream_settled(text: str, cuts: list[int]) -> str:
    """Render as the view does: settled segments once each, then the exact rest."""
    out, start, env = [], 0, {}
    for cut in sorted({*cuts, len(text)}):
        end = settled_end(text[:cut], start)
        assert end >= start
        if end > start:
            out.append(R.render(text[start:end], env))
            start = end
    out.append(R.render(text[start:], env))
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=8),
    st.lists(st.sampled_from(["\n\n", "\n", "\n\n\n"]), min_size=8, max_size=8),
    st.lists(st.integers(min_value=0, max_value=400), max_size=30),
)
def test_settled_segments_render_like_the_whole(
    blocks: list[str], seps: list[str], cuts: list[int]
) -> None:
    text = "".join(b + s for b, s in zip(blocks, seps, strict=False))
    cuts = [c % (len(text) + 1) for c in cuts]
    assert stream_settled(text, cuts) == R.render(text)


def test_settles_paragraphs_once_the_next_block_starts() -> None:
    text = "First paragraph.\n\nSecond"
    assert settled_end(text) == len("First paragraph.\n\n")
    assert settled_end("First paragraph.\n\n") == 0  # nothing follows yet


def test_never_settles_inside_a_fence_or_math_block() -> None:
    assert settled_end("```\na\n\nb") == 0
    assert settled_end("$$\na\n\nb") == 0
    assert settled_end("```\na\n\nb\n```\n\nnext") == len("```\na\n\nb\n```\n\n")


def test_list_markers_and_indented_lines_keep_the_block_open() -> None:
    assert settled_end("- a\n\n- b") == 0  # a loose list: the blank line changes item one
    assert settled_end("- a\n\n  more of a") == 0
    assert settled_end("Para\n\n1") == 0  # undecided: "1" may become "1. item"
    assert settled_end("Para\n\n1999 was") == len("Para\n\n")


def test_start_offset_resumes_scanning() -> None:
    text = "a\n\nb\n\nc"
    first = settled_end(text)
    assert first == len("a\n\nb\n\n")
    assert settled_end(text, first) == first


def test_heal_closes_open_constructs() -> None:
    assert heal("```python\nx = 1") == "```python\nx = 1\n```\n"
    assert heal("some **bold") == "some **bold**"
    assert heal("an *em") == "an *em*"
    assert heal("an _em") == "an _em_"
    assert heal("`code") == "`code`"
    assert heal("~~gone") == "~~gone~~"
    assert heal("**bold and *em") == "**bold and *em***"


def test_heal_holds_back_a_half_written_formula() -> None:
    # A formula cut short is a TeX error on screen: it waits for its closer.
    assert heal("math $x^") == "math "
    assert heal("see $$\\int_0^1") == "see "
    assert heal("inline \\( \\pi r") == "inline "
    assert heal("display \\[ \\int_0^1 x") == "display "
    assert heal("env \\begin{align} a &= b") == "env "
    assert heal("Intro\n$$\nx^2") == "Intro\n"
    assert heal("$$\nx^2") == ""
    assert heal("**bold $x") == "**bold**"
    # Closed formulas and text that only looks like one are shown at once.
    assert heal("math $x^2$ and") == "math $x^2$ and"
    assert heal("a \\( x \\) b \\[ y \\] c") == "a \\( x \\) b \\[ y \\] c"
    assert heal("costs $5 and $10 today") == "costs $5 and $10 today"
    assert heal("a `$x` b") == "a `$x` b"
    assert heal("escaped \\$x and") == "escaped \\$x and"


def test_heal_gives_up_holding_back_a_dollar_that_never_closes() -> None:
    prose = "set $HOME to your home directory " + "and keep reading " * 20
    assert heal(prose) == prose


def test_heal_holds_back_half_written_links_and_images() -> None:
    assert heal("see [the docs](https://exa") == "see "
    assert heal("see [the do") == "see "
    assert heal("see [the docs]") == "see "
    assert heal("img ![alt](http://x") == "img "
    assert heal("done [a](https://b) ok") == "done [a](https://b) ok"
    assert heal("some **bold and [a link](https://exa") == "some **bold and**"


def test_heal_leaves_ordinary_text_alone() -> None:
    for text in ["snake_case_name here", "2 * 3 = 6", "- a bullet", "costs $5 and $6", "a\n\nb"]:
        assert heal(text) == text


def test_heal_ignores_markers_inside_code() -> None:
    assert heal("`a ** b` and") == "`a ** b` and"
    assert heal("```\n**not bold\n") == "```\n**not bold\n```\n"


def test_heal_drops_a_fence_whose_info_string_is_still_arriving() -> None:
    assert heal("Intro\n\n```pyt") == "Intro\n"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=5))
def test_healing_complete_text_changes_nothing(blocks: list[str]) -> None:
    text = "\n\n".join(blocks) + "\n"
    assert R.render(heal(text)) == R.render(text)


# -- piece_cut: where one long unsettled block can be shown in two pieces --------------------


def _pieces_render_like_the_whole(block: str, cut: int, prefix: str) -> None:
    renderer = Renderer()
    head = renderer.render(heal(block[:cut]))
    tail = renderer.render(prefix + block[cut:])
    whole = renderer.render(block)
    # The words of the two pieces, in order, are the words of the whole.
    strip = re.compile(r"<[^>]+>")
    assert (strip.sub(" ", head) + strip.sub(" ", tail)).split() == strip.sub(" ", whole).split()


def test_a_paragraph_is_cut_after_its_last_sentence_with_closed_markup() -> None:
    block = "First **bold** sentence. Second `code` one! Third one is still being writ"
    cut, prefix = piece_cut(block, 0, 10) or (0, "?")
    assert block[cut:] == "Third one is still being writ"
    assert prefix == ""
    _pieces_render_like_the_whole(block, cut, prefix)


def test_a_sentence_end_inside_open_markup_is_no_cut() -> None:
    block = "Before it. Then *an emphasis. That goes on* and on. And `a span. Still"
    cut, _ = piece_cut(block, 0, 5) or (0, "")
    assert block[cut:] == "And `a span. Still"


def test_a_paragraph_without_full_stops_is_cut_between_words() -> None:
    block = "lorem ipsum dolor sit amet " * 100 + "consec"
    cut, prefix = piece_cut(block, 0, 1000) or (0, "?")
    assert block[cut:] == "consec"
    assert prefix == ""
    _pieces_render_like_the_whole(block, cut, prefix)


def test_a_code_block_is_cut_between_lines_and_the_fence_reopened() -> None:
    block = "Here it is:\n~~~~python\n" + "".join(f"x{i} = {i}\n" for i in range(100)) + "y ="
    cut, prefix = piece_cut(block, 0, 200) or (0, "")
    assert block[cut:] == "y ="
    assert prefix == "~~~~python\n"
    # Live pieces show code plain (the frontend highlights it once the block settles).
    head = Renderer().render(heal(block[:cut]), live=True)
    assert head.count("<pre>") == 1
    assert head.endswith("x99 = 99\n</code></pre>\n")
    assert Renderer().render(heal(prefix + block[cut:]), live=True) == (
        '<pre><code class="language-python">y =\n</code></pre>\n'
    )


def test_a_list_is_cut_before_an_item_and_keeps_its_numbering() -> None:
    block = "".join(f"{i}. item number {i}\n" for i in range(1, 40)) + "40. la"
    cut, prefix = piece_cut(block, 0, 100) or (0, "?")
    assert block[cut:] == "40. la"
    assert prefix == ""
    assert Renderer().render(block[cut:]).startswith('<ol start="40">')


def test_blocks_that_cannot_be_cut() -> None:
    table = "| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 50
    assert piece_cut(table, 0, 10) is None
    assert piece_cut("$$\n" + "x + y \\\\\n" * 50, 0, 10) is None
    assert piece_cut("One paragraph.\n\nTwo paragraphs. Three", 0, 5) is None  # several blocks
    assert piece_cut("Short. Text", 0, 100) is None  # the piece would be too small
    # "- not a list" as a piece of its own would be a list: the cut falls between later words.
    assert piece_cut("A sentence. - not a list", 0, 3) == (20, "")


# -- code_blocks: the fenced blocks of an answer, as a CommonMark renderer reads them ----------

FENCED = [
    "```python\nx = 1\n\ny = 2\n```\n",
    "text\n\n1. Install:\n   ```bash\n   pip install x\n   ```\n2. Run:\n\n   ```\n   run it\n     indented\n   ```\n",
    "- ```py\n  a\n   b\n  ```\n",
    "> ```js\n> let a = 1;\n>\n> b\n> ```\n",
    "  ```\n  two\n three\n    four\n  ```",
    "````md\n```py\nnested\n```\n````\n",
    "~~~ ruby startline=3\nputs 1\n~~~\n",
    "- item\n\n  ```c\n  int x;\n  ```\n\nafter\n```\nlast\n```",
    "```a`b\nnot a fence\n```",
    "    ```\n    indented code, not a fence\n    ```\n",
    "> ```\n> a\nthe quote ended\n",
    "- a\n  ```\n  x\n- b\n",
    "```\n```",
    "Para\n```sh\nno blank line before\n```\n",
]


@pytest.mark.parametrize("text", FENCED)
def test_code_blocks_are_the_fences_markdown_it_finds(text: str) -> None:
    fences = [t for t in MarkdownIt("commonmark").parse(text) if t.type == "fence"]
    expected = [
        ((t.info.split() or [""])[0], t.content[:-1] if t.content.endswith("\n") else t.content)
        for t in fences
    ]
    assert [(b.language, b.code) for b in code_blocks(text)] == expected


def test_an_unclosed_block_runs_to_the_end_without_trailing_blank_lines() -> None:
    assert code_blocks("Look:\n```python\nx = 1\n\n") == (CodeBlock("python", "x = 1"),)


def test_a_fence_on_a_list_items_line_is_a_fence() -> None:
    text = "- ```sql\n  select 1\n  ```\n\nNext paragraph"
    assert settled_end(text) == len("- ```sql\n  select 1\n  ```\n\n")
    assert heal("- ```sql\n  select") == "- ```sql\n  select\n  ```\n"
    assert R.render(heal("- ```sql\n  select")) == R.render("- ```sql\n  select\n  ```\n")

"""Issue 14, in JupyterLab 4 and Notebook 7, light and dark: a streamed answer looks like the same
markdown in a markdown cell, and better where the cell gets model output wrong.

One notebook per app holds the whole corpus (``corpus.py``, 34 answers): each answer streams
through nbstream's view in a code cell, and the next cell is a markdown cell with the same text
(or the corrected text, where the markdown cell loses ``\\(…\\)`` or typesets currency). After
Run All, what the user sees is read from both and compared: the elements (headings, lists, table
cells with their alignment, links, checkboxes, code blocks), the text, the highlighted tokens of
every code block, and the typeset math (MathJax's MathML, and no MathJax error). Then the theme
changes to dark and the same holds, with highlighted tokens coloured by the theme as the cell's
are. Screenshots of every pair in both themes go to ``artifacts/browser`` (kept by CI).
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from typing import Any

import pytest

from nbstream.server import BackgroundServer

from ._chat import LOAD, TOUR, chat
from ._notebook import Markdown, NotebookPage, write_notebook
from .corpus import CORPUS

pytestmark = pytest.mark.browser

_PANEL = "window.jupyterapp.shell.currentWidget"

SETUP = """\
import asyncio, json, re, nbstream
CORPUS = json.load(open("corpus.json"))
async def tokens(text):
    # Word tokens at about 1,000 per second, as a fast model sends them.
    for i, token in enumerate(re.findall(r"\\s*\\S+|\\s+", text)):
        if i % 4 == 0:
            await asyncio.sleep(0.004)
        yield token
async def show(i):
    view = nbstream.StreamView(model=f"corpus {i}")
    display(view)
    await view.consume(tokens(CORPUS[i]))
"""
FIRST_ANSWER = 3  # cells: load, the README answer, setup, then (answer, markdown) pairs


def _pair(i: int) -> tuple[int, int]:
    """The cells of corpus answer ``i``: its streamed view and its markdown cell."""
    code = FIRST_ANSWER + 2 * i
    return code, code + 1


# What the user sees, read from rendered markdown: one entry per element that shows something
# (heading anchors and MathJax internals left out), the text (formulas as their MathML), every
# code block's text and highlighted tokens, and the formulas. The view's answer is several
# outputs (one per settled block, the status line apart): they are read in order as one.
_SEEN = """(roots) => {
    const tags = [], code = [], math = [], texts = [];
    let errors = 0;
    const status = /^\\s*(✓ done|■ cancelled|✗ failed|… truncated)/;
    for (const root of roots) {
        if (status.test(root.textContent || '')) continue;
        for (const el of root.querySelectorAll('*')) {
            if (el.closest('mjx-container') || el.closest('.jp-InternalAnchorLink')) continue;
            const tag = el.tagName;
            if (tag === 'MJX-CONTAINER') continue;
            if (tag === 'CODE' && el.closest('pre')) continue;
            if (['TH', 'TD'].includes(tag))  // align="right" computes to -webkit-right
                tags.push(tag + ':' + getComputedStyle(el).textAlign.replace('-webkit-', ''));
            else if (tag === 'INPUT') tags.push('INPUT:' + el.type + ':' + el.checked);
            else if (tag === 'A') tags.push('A:' + el.getAttribute('href'));
            else if (tag === 'PRE') {
                const c = el.querySelector('code') || el;
                const spans = [...c.querySelectorAll('span[class]')];
                code.push({text: c.textContent, lang: c.className,
                           tokens: spans.map(s => s.textContent),
                           color: spans.length ? getComputedStyle(spans[0]).color : null});
                tags.push('PRE');
            } else if (['H1','H2','H3','H4','H5','H6','P','UL','OL','LI','TABLE','BLOCKQUOTE',
                        'HR','DEL','STRONG','EM','CODE','IMG','KBD','SUB','BR'].includes(tag))
                tags.push(tag);
        }
        root.querySelectorAll('mjx-container').forEach(m => {
            const mml = m.querySelector('mjx-assistive-mml math');
            math.push(mml ? mml.outerHTML.replace(/\\s+/g, ' ') : '(no MathML)');
        });
        errors += root.querySelectorAll('mjx-merror, [data-mjx-error]').length;
        const copy = root.cloneNode(true);
        copy.querySelectorAll('.jp-InternalAnchorLink').forEach(a => a.remove());
        copy.querySelectorAll('mjx-container').forEach(m => m.replaceWith('⟨math⟩'));
        texts.push(copy.textContent);
    }
    return {tags, code, math, errors, text: texts.join('').replace(/\\s+/g, ' ').trim()};
}"""


# Every pair at once, in one call: the view's outputs (cell 2i + FIRST_ANSWER) and the rendered
# markdown cell after it.
_READ_ALL = (
    """([first, count]) => {
    const seen = """
    + _SEEN
    + """;
    const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
    const pairs = [];
    if (cells.length < first + 2 * count) return null;  // still attaching cells
    for (let i = 0; i < count; i++) {
        const view = cells[first + 2 * i].querySelectorAll('.jp-OutputArea-output.jp-RenderedMarkdown');
        const cell = cells[first + 2 * i + 1].querySelectorAll('.jp-MarkdownOutput');
        pairs.push([seen([...view]), seen([...cell])]);
    }
    return pairs;
}"""
)


def _read_all(nb: NotebookPage) -> list[tuple[dict[str, Any], dict[str, Any]]] | None:
    pairs = nb.page.evaluate(_READ_ALL, [FIRST_ANSWER, len(CORPUS)])
    return None if pairs is None else [(view, cell) for view, cell in pairs]


def _wait_rendered(nb: NotebookPage) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Read every pair until two reads agree (MathJax and highlighting finish asynchronously)."""
    last = None
    for _ in range(60):
        now = _read_all(nb)
        if now is not None and now == last:
            return now
        last = now
        nb.page.wait_for_timeout(500)
    raise AssertionError("the rendering did not settle")


def _compare(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    problems = []
    for answer, (view, cell) in zip(CORPUS, pairs, strict=True):
        if view["errors"]:
            problems.append(f"{answer.name}: MathJax errors in the view")
        if not view["text"]:
            problems.append(f"{answer.name}: nothing shown")
        if answer.differs:
            continue
        for key in ("tags", "text", "math", "code"):
            if view[key] != cell[key]:
                problems.append(
                    f"{answer.name}: {key} differ\n  view: {view[key]}\n  cell: {cell[key]}"
                )
    return problems


def _known_differences(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    by_name = {a.name: pair for a, pair in zip(CORPUS, pairs, strict=True)}
    view, cell = by_name["raw HTML from the model"]
    assert "<kbd>Ctrl</kbd>" in view["text"]
    assert "KBD" not in view["tags"]
    assert "KBD" in cell["tags"]
    view, _ = by_name["a mermaid diagram"]
    assert [b["text"].strip() for b in view["code"]] == ["graph LR\n  A[Prompt] --> B[Stream]"]


def _set_theme(nb: NotebookPage, theme: str) -> None:
    light = theme == "JupyterLab Light"
    nb.page.evaluate(
        "theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    nb.page.wait_for_function(
        f"() => document.body.dataset.jpThemeLight === '{str(light).lower()}'"
    )
    nb.page.wait_for_timeout(500)


# The element that scrolls the notebook (JupyterLab and Notebook 7 share the notebook widget).
_SCROLLER = """() => {
    const outer = document.querySelector('.jp-Notebook .jp-WindowedPanel-outer');
    if (outer && outer.scrollHeight > outer.clientHeight + 1) return outer;
    let el = document.querySelector('.jp-Notebook');
    while (el && !(el.scrollHeight > el.clientHeight + 1 && getComputedStyle(el).overflowY !== 'visible'))
        el = el.parentElement;
    return el;
}"""


def _screenshot_pages(nb: NotebookPage, name: str) -> int:
    """Screenshot the whole notebook, one viewport at a time; return how many pages."""
    scroller = nb.page.evaluate_handle(_SCROLLER)
    height, step = scroller.evaluate("el => [el.scrollHeight, el.clientHeight]")
    pages = 0
    for top in range(0, height, max(1, step - 40)):
        scroller.evaluate("(el, top) => { el.scrollTop = top; }", top)
        nb.page.wait_for_timeout(150)  # windowed cells attach, MathJax lays out
        pages += 1
        nb.screenshot(f"{name}-page-{pages:02d}")
    return pages


def _png(width: int, height: int) -> bytes:
    """A solid PNG image of this size (stdlib only)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x30\x80\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _wait_code_cells_done(nb: NotebookPage, count: int, timeout: float = 180) -> None:
    for index in range(count):
        if FIRST_ANSWER <= index < FIRST_ANSWER + 2 * len(CORPUS) and (index - FIRST_ANSWER) % 2:
            continue  # a markdown cell
        nb.cell(index).scroll_into_view_if_needed()
        nb.wait_cell_done(index, timeout)


# Wide content must scroll inside its own output, never widen the notebook.
_WIDTHS = """(cell) => {
    const notebook = document.querySelector('.jp-Notebook');
    const wide = [...cell.querySelectorAll('.jp-OutputArea-output')]
        .filter(o => o.scrollWidth > o.clientWidth + 1)
        .map(o => getComputedStyle(o).overflowX);
    return {widened: notebook.scrollWidth > notebook.clientWidth + 1, wide};
}"""


def test_streamed_answers_render_like_markdown_cells_in_both_themes(
    nb: NotebookPage, backend: BackgroundServer
) -> None:
    app = nb.server.app
    (nb.server.root / "corpus.json").write_text(json.dumps([a.text for a in CORPUS]))
    cells: list[str | Markdown] = [LOAD, chat(backend, "demo:tps=200,ttft=0", TOUR), SETUP]
    for i, answer in enumerate(CORPUS):
        cells += [f"await show({i})", Markdown(answer.cell)]
    # An image the user allowed, wider than the output: it must keep its aspect ratio.
    (nb.server.root / "wide.png").write_bytes(_png(1600, 200))
    image = f"{nb.server.url}/files/wide.png?token={nb.server.token}"
    cells.append(
        "image = nbstream.StreamView(allow_remote_images=True)\ndisplay(image)\n"
        f"await image.consume(tokens('A chart: ![wide chart]({image})'))"
    )
    write_notebook(nb.server.root / "parity.ipynb", cells)
    nb.page.set_viewport_size({"width": 1280, "height": 2000})
    nb.open("parity.ipynb")
    nb.run_all(wait=False)
    _wait_code_cells_done(nb, len(cells))

    seen: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for theme, name in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        _set_theme(nb, theme)
        pairs = _wait_rendered(nb)
        seen[name] = pairs
        readme = f"answer-{name}" if app == "lab" else None
        nb.screenshot(f"parity-{name}-tour", readme=readme, cells=(1, 1))
        pages = _screenshot_pages(nb, f"parity-{name}")
        problems = _compare(pairs)
        print(
            f"\n[{app}, {name}] {len(CORPUS)} answers: {len(problems)} differences ({pages} pages)"
        )
        for i, answer in enumerate(CORPUS):
            if any(p.startswith(f"{answer.name}:") for p in problems):
                slug = re.sub(r"[^a-z0-9]+", "-", answer.name.lower()).strip("-")
                nb.screenshot(f"FAILED-parity-{name}-{i:02d}-{slug}", cells=_pair(i))
        assert not problems, "\n".join(problems)
        _known_differences(pairs)

    # Code is highlighted (and exactly as in the cell: compared above), in the theme's colours.
    highlighted = [b for view, _ in seen["light"] for b in view["code"] if b["tokens"]]
    assert len(highlighted) >= 12, len(highlighted)
    light = [b["color"] for view, _ in seen["light"] for b in view["code"] if b["color"]]
    dark = [b["color"] for view, _ in seen["dark"] for b in view["code"] if b["color"]]
    assert light
    assert len(light) == len(dark)
    assert sum(a != b for a, b in zip(light, dark, strict=True)) >= len(light) // 2
    assert [v["code"] for v, _ in seen["dark"]] != [v["code"] for v, _ in seen["light"]]

    # The tour (%%chat, the demo backend) shows highlighted code and typeset math.
    tour = nb.outputs(1).and_(nb.page.locator(".jp-RenderedMarkdown")).evaluate_all(_SEEN)
    assert tour["math"]
    assert not tour["errors"]
    assert any(b["tokens"] for b in tour["code"])

    # Wide tables and long lines scroll inside their own output.
    wide = next(i for i, a in enumerate(CORPUS) if a.name == "long unbroken lines")
    widths = nb.cell(_pair(wide)[0]).evaluate(_WIDTHS)
    assert not widths["widened"], widths
    assert widths["wide"], widths
    assert set(widths["wide"]) == {"auto"}, widths

    size = (
        nb.cell(len(cells) - 1)
        .locator("img")
        .evaluate("img => [img.naturalWidth, img.naturalHeight, img.clientWidth, img.clientHeight]")
    )
    natural_w, natural_h, shown_w, shown_h = size
    assert (natural_w, natural_h) == (1600, 200)
    assert shown_w < natural_w  # scaled down to the output's width …
    assert abs(shown_w / shown_h - 8) < 0.1, size  # … keeping its aspect ratio

    # The saved notebook, reopened without a kernel and untrusted (as one that comes from
    # elsewhere: the frontend sanitizes its outputs), still renders like the markdown cells:
    # highlighted code, typeset math, money as text.
    nb.save()
    nb.close_and_reopen_page()
    path = nb.server.root / "parity.ipynb"
    saved = json.loads(path.read_text())
    saved["metadata"]["received_from"] = "elsewhere"  # the signature no longer matches
    path.write_text(json.dumps(saved))
    nb.page.set_viewport_size({"width": 1280, "height": 2000})
    nb.open("parity.ipynb", start_kernel=False)
    _set_theme(nb, "JupyterLab Light")
    trusted = f"() => {_PANEL}.content.widgets.map(c => c.model.trusted ?? null)"
    assert set(nb.page.evaluate(trusted)[FIRST_ANSWER::2]) == {False}
    reopened = _wait_rendered(nb)
    _screenshot_pages(nb, "parity-reopened")
    problems = _compare(reopened)
    assert not problems, "\n".join(problems)
    assert [v for v, _ in reopened] == [v for v, _ in seen["light"]]

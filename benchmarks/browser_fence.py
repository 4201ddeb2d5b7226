"""What a code block costs the browser per frame: a highlighted fence against plain ``<pre>``.

Issue 14's question: while a code block streams, each frame replaces the live piece's output;
should an open block travel as a fence (JupyterLab highlights it anew, in the user's theme) or as
plain ``<pre>`` (highlighted once, when it settles)? This renders both in real JupyterLab 4 and
Notebook 7 (headless Chromium, the browser tests' server and flags) with the notebook's own
``text/markdown`` renderer, the way a frame's ``update_display_data`` is rendered: a new source
each time (an open block changes every frame: no highlight cache hit), attached to the page,
timed until layout. Sizes: a live piece (about 2,000 characters, the view's ``PIECE_CHARS``:
60 lines) and a whole 300-line block (what a view without pieces would re-send per frame, and
what the settled block costs once).

Run: ``python benchmarks/browser_fence.py`` (about a minute; needs Chromium and Playwright).
"""

from __future__ import annotations

import html
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser._jupyter import JupyterServer
from tests.browser._notebook import NotebookPage, write_notebook
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path

LINES = [
    f"def f{i}(x: int, y: str = 'a') -> dict:  # comment {i}\n"
    f"    return {{'k': x * {i}, 'v': y + \"s\"}}"
    for i in range(150)
]
BLOCK_300 = "\n".join(LINES)
PIECE_60 = "\n".join(BLOCK_300.split("\n")[:60])

RENDER = """async ([src, n]) => {
    const rm = window.jupyterapp.shell.currentWidget.content.rendermime;
    const host = document.createElement('div');
    document.querySelector('.jp-Notebook').appendChild(host);
    const times = [];
    for (let i = 0; i < n; i++) {
        const renderer = rm.createRenderer('text/markdown');
        host.appendChild(renderer.node);
        const source = src.replace('comment 0', 'comment 0 ' + i + Math.random());
        const t0 = performance.now();
        await renderer.renderModel({data: {'text/markdown': source}, metadata: {},
                                    trusted: true, setData() {}});
        void host.offsetHeight;
        times.push(performance.now() - t0);
        renderer.dispose();
        host.innerHTML = '';
    }
    host.remove();
    times.sort((a, b) => a - b);
    return [times[Math.floor(times.length / 2)], times[Math.floor(times.length * 0.9)]];
}"""


def fence(code: str) -> str:
    """A settled block as the view sends it."""
    return f"\n```python\n{code}\n```\n\n"


def plain(code: str) -> str:
    """An open block as the view sends it."""
    return f'<pre><code class="language-python">{html.escape(code)}</code></pre>\n'


def main() -> None:
    print("| app | block | plain <pre> ms (p50 / p90) | fence ms (p50 / p90) | fence / plain |")
    print("|---|---|---:|---:|---:|")
    executable = chromium_path()
    for app in ("lab", "notebook"):
        server = JupyterServer(app).start()  # type: ignore[arg-type]
        try:
            with sync_playwright() as playwright:
                profile = tempfile.mkdtemp(prefix="nbstream-bench-")
                context = playwright.chromium.launch_persistent_context(
                    profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS
                )
                page = NotebookPage(context.new_page(), server, Path(profile))
                write_notebook(server.root / "bench.ipynb", ["1"])
                page.open("bench.ipynb")
                page.page.evaluate(RENDER, [fence(PIECE_60), 5])  # load marked and the language
                for name, code in (("live piece, 60 lines", PIECE_60), ("300 lines", BLOCK_300)):
                    p50_plain, p90_plain = page.page.evaluate(RENDER, [plain(code), 30])
                    p50_fence, p90_fence = page.page.evaluate(RENDER, [fence(code), 30])
                    print(
                        f"| {app} | {name} | {p50_plain:.1f} / {p90_plain:.1f} "
                        f"| {p50_fence:.1f} / {p90_fence:.1f} | {p50_fence / p50_plain:.0f}x |"
                    )
                context.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()

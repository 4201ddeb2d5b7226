r"""Answers as models write them, for the parity test (``test_parity.py``) and the unit tests.

Each :class:`Answer` is streamed through nbstream's view and also put, as ``reference``, into a
markdown cell. The reference is the answer itself, except where the markdown cell gets the
answer wrong (it loses ``\(…\)`` and ``\[…\]`` to markdown escapes and typesets currency): there
the reference is the corrected text (``$…$``, ``$$…$$``, ``\\$``) and the view must match the
corrected cell. ``differs`` names a difference we keep on purpose (listed in the README).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CORPUS", "Answer"]


@dataclass(frozen=True)
class Answer:
    """One answer of the corpus.

    Attributes:
        name: What it exercises.
        text: What the model wrote.
        reference: What the markdown cell gets (``None``: the same text).
        differs: A difference kept on purpose, and why; ``""`` when the two must match.
    """

    name: str
    text: str
    reference: str | None = None
    differs: str = ""

    @property
    def cell(self) -> str:
        """The markdown cell's source."""
        return self.text if self.reference is None else self.reference


CORPUS = [
    Answer(
        "headings",
        "# Streaming answers\n\n## Why it matters\n\nText under a heading.\n\n### A detail\n\n"
        "#### Smaller\n\nSetext heading\n==============\n\nAnother one\n-----------\n\nDone.",
    ),
    Answer(
        "nested lists",
        "- fruit\n  - apple\n  - pear\n    1. green\n    2. red\n- vegetables\n  * leek\n\n"
        "1. first\n2. second\n   - mixed in\n3. third\n\n3. starts at three\n4. and goes on",
    ),
    Answer(
        "loose list",
        "1. **Install** the package.\n\n   It takes a minute.\n\n2. **Import** it.\n\n"
        "   Then run a cell.\n",
    ),
    Answer(
        "table with alignment",
        "| Model | Context | Price (in) | Notes |\n|:------|:-------:|-----------:|-------|\n"
        "| gpt-4o | 128k | 2.50 | fast |\n| claude | 200k | 3.00 | long context |\n"
        "| llama | 8k | 0.00 | local |\n",
    ),
    Answer(
        "table with inline markup",
        "| Syntax | Meaning |\n|---|---|\n| `a \\| b` | a pipe in code |\n"
        "| **bold** and *em* | emphasis |\n| [link](https://jupyter.org) | a link |\n",
    ),
    Answer(
        "python code",
        "Here is a function:\n\n```python\nimport asyncio\n\n\nasync def fetch(url: str) -> dict:\n"
        '    """Fetch and decode."""\n    async with client.stream("GET", url) as r:\n'
        "        return await r.json()  # a comment\n```\n\nCall it with `await fetch(url)`.",
    ),
    Answer(
        "javascript and typescript",
        "```javascript\nconst add = (a, b) => a + b;\nconsole.log(`sum: ${add(1, 2)}`);\n```\n\n"
        "```typescript\ninterface Point { x: number; y: number }\n"
        "function norm(p: Point): number { return Math.hypot(p.x, p.y); }\n```",
    ),
    Answer(
        "shell, sql and json",
        '```bash\nexport KEY="$HOME/.key"\nfor f in *.txt; do echo "$f"; done\n```\n\n'
        "```sql\nSELECT name, COUNT(*) AS n FROM users WHERE price > $1 GROUP BY name;\n```\n\n"
        '```json\n{"model": "gpt-4o", "stream": true, "temperature": 0.2}\n```',
    ),
    Answer(
        "rust and c++ with angle brackets",
        "```rust\nfn largest<T: PartialOrd>(list: &[T]) -> &T {\n    let mut m = &list[0];\n"
        "    for i in list { if i > m { m = i; } }\n    m\n}\n```\n\n"
        "```c++\n#include <vector>\nint main() { std::vector<int> v{1, 2}; return v[0] && v[1]; }\n```",
    ),
    Answer(
        "code that looks like markup",
        "````markdown\n```python\nprint('nested fence')\n```\n````\n\n"
        "```html\n<script>alert('just code')</script>\n</code></pre><b>still code</b>\n```\n\n"
        "```\nno language, $5 and $10, \\(x\\)\n```",
    ),
    Answer(
        "code without a language and tildes",
        "~~~\nplain text block\n  indented\n~~~\n\n    indented code block\n    second line\n\nafter",
    ),
    Answer(
        "inline math with < > &",
        "The bound $0 < x \\le 1$ holds when $x > 88.7$ fails, and $a < b$ with $p \\& q$.",
    ),
    Answer(
        "display math in dollars",
        "The softmax:\n\n$$\np_i = \\frac{e^{z_i / T}}{\\sum_j e^{z_j / T}}\n$$\n\n"
        "and inline $\\lim_{T \\to \\infty} p_i = 1/V$.",
    ),
    Answer(
        "inline math in \\( \\)",
        "The area of a circle is \\( \\pi r^2 \\), and its circumference \\(2\\pi r\\).",
        reference="The area of a circle is $ \\pi r^2 $, and its circumference $2\\pi r$.",
    ),
    Answer(
        "display math in \\[ \\]",
        "The integral is\n\n\\[\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n\\]\n\nwhich is a third.",
        reference="The integral is\n\n$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$\n\nwhich is a third.",
    ),
    Answer(
        "\\[ \\] inside a paragraph",
        "So we get \\[ E = mc^2 \\] as expected, and \\(m > 0\\).",
        reference="So we get $$ E = mc^2 $$ as expected, and $m > 0$.",
    ),
    Answer(
        "align environment",
        "The system:\n\n\\begin{align}\nx + y &= 3 \\\\\nx - y &< 1\n\\end{align}\n\nhas solutions.",
    ),
    Answer(
        "matrix and cases",
        "A rotation \\begin{pmatrix} \\cos t & -\\sin t \\\\ \\sin t & \\cos t \\end{pmatrix} "
        "and\n\n$$\n|x| = \\begin{cases} x & x \\ge 0 \\\\ -x & x < 0 \\end{cases}\n$$",
    ),
    Answer(
        "currency",
        "A price of $5 and $10. Shipping costs $3.50, or $0 over $100.",
        reference="A price of \\\\$5 and \\\\$10. Shipping costs \\\\$3.50, or \\\\$0 over \\\\$100.",
    ),
    Answer(
        "currency beside math",
        "It costs $5, and the rate $r = 0.05$ gives $5.25 after a year.",
        reference="It costs \\\\$5, and the rate $r = 0.05$ gives \\\\$5.25 after a year.",
    ),
    Answer(
        "a $ in code, then blocks",
        "```python\nprice = f'${total:.2f}'\n```\n\n## Totals\n\n- item `$PATH`\n- cost 5\n\n"
        "| item | cost |\n|---|--:|\n| tea | 3 |\n| cake | 5 |\n\nDone with $x$.",
    ),
    Answer(
        "footnotes",
        "Streaming was added in 2023[^1], and cancellation later[^note].\n\n"
        "[^1]: In the first release.\n[^note]: After many requests.",
    ),
    Answer(
        "task list",
        "Before you ship:\n\n- [x] write the tests\n- [ ] update the docs\n- [X] tag the release\n"
        "  - [ ] nested task",
    ),
    Answer(
        "block quotes",
        "> A quote with **bold**.\n>\n> > And a nested quote.\n>\n> - a list in it\n\nAfter.",
    ),
    Answer(
        "long unbroken lines",
        "A very long word: " + "Supercalifragilistic" * 25 + ".\n\n"
        "And a long URL: https://example.com/" + "segment/" * 40 + "end\n\n"
        "| "
        + " | ".join(f"column {i}" for i in range(18))
        + " |\n|"
        + "---|" * 18
        + "\n| "
        + " | ".join(str(i) for i in range(18))
        + " |",
    ),
    Answer(
        "emoji and CJK",
        "Done 🎉✅ — 中文的段落，带有**粗体**和`代码`。\n\n日本語の文章です。한국어 문장입니다.\n\n"  # noqa: RUF001
        "| 名前 | 値 |\n|---|---|\n| 🍵 | 茶 |",
    ),
    Answer(
        "links",
        'See [the docs](https://jupyter.org "Jupyter"), <https://example.com>, '
        "https://github.com/jupyter and www.python.org, or write to help@example.com.",
    ),
    Answer(
        "emphasis and strikethrough",
        "**bold**, *italic*, ***both***, ~~gone~~, ~also gone~, `` code with ` backtick `` and "
        "__underscore bold__ in snake_case_names.",
    ),
    Answer(
        "rules and escapes",
        "Above\n\n---\n\n\\*not emphasis\\*, 1\\. not a list, \\# not a heading, &copy; &amp; "
        "&lt;tag&gt;\n\n***\n\nBelow",
    ),
    Answer(
        "code in a list item",
        "Steps:\n\n1. Install:\n   ```bash\n   pip install nbstream\n   ```\n2. Load it:\n\n"
        "   ```python\n   %load_ext nbstream\n   ```\n3. Ask.",
    ),
    Answer(
        "a GPT-style answer",
        "### Summary\n\nThe variance is \\( \\sigma^2 = \\frac{1}{n}\\sum_i (x_i - \\mu)^2 \\).\n\n"
        "```python\nimport numpy as np\nprint(np.var([1, 2, 3]))\n```\n\n"
        "| Symbol | Meaning |\n|:--:|---|\n| \\( \\mu \\) | mean |\n| \\( n \\) | count |\n\n"
        "**Note:** it costs $0 to try.",
        reference="### Summary\n\nThe variance is $ \\sigma^2 = \\frac{1}{n}\\sum_i (x_i - \\mu)^2 $.\n\n"
        "```python\nimport numpy as np\nprint(np.var([1, 2, 3]))\n```\n\n"
        "| Symbol | Meaning |\n|:--:|---|\n| $ \\mu $ | mean |\n| $ n $ | count |\n\n"
        "**Note:** it costs \\\\$0 to try.",
    ),
    Answer(
        "math in lists and tables",
        "- the mean $\\mu$\n- the sum $$\\sum_{i=1}^n x_i$$\n\n| $x$ | $x^2$ |\n|---|---|\n"
        "| $\\frac{1}{2}$ | $\\frac{1}{4}$ |",
    ),
    Answer(
        "raw HTML from the model",
        "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.<br>Then <sub>small</sub> text.",
        differs="raw HTML is shown as text: JupyterLab runs script in the outputs of the running "
        "session, so the view never passes the model's HTML on",
    ),
    Answer(
        "a mermaid diagram",
        "```mermaid\ngraph LR\n  A[Prompt] --> B[Stream]\n```",
        differs="a mermaid block is shown as code: JupyterLab draws mermaid in the live page "
        "from the model's text",
    ),
]

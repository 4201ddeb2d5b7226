"""The ``demo`` model's answers: markdown written to exercise a streaming renderer.

Each answer is chosen by keywords in the prompt (see :func:`nbstream.server._content.answer`).
Together they contain headings, nested lists, code fences, a table, inline and display math,
a quote and a link — what a live markdown view must render while the text is still growing.
"""

from __future__ import annotations

__all__ = ["ANSWERS", "long_answer"]

_CODE = r"""## Reading a stream in Python

A server-sent event stream is plain text: `data:` lines, separated by blank lines.

```python
import httpx

async def tokens(url: str, body: dict) -> None:
    async with httpx.AsyncClient() as client:
        async with client.stream("POST", url, json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    print(line[6:], flush=True)
```

Three things to notice:

1. `client.stream` does not read the body up front.
2. `aiter_lines` yields each line as soon as it arrives.
3. Leaving the `async with` closes the connection, and the server stops generating.

```bash
nbstream serve --port 8000
```
"""

_MATH = r"""## The softmax, step by step

A language model scores every token $i$ of its vocabulary with a logit $z_i$, then turns the
scores into probabilities:

$$
p_i = \frac{e^{z_i / T}}{\sum_{j} e^{z_j / T}}
$$

- With temperature $T \to 0$ the largest logit takes all the mass (greedy decoding).
- With $T = 1$ the model's own distribution is used.
- Higher $T$ flattens it: $\lim_{T \to \infty} p_i = 1/V$.

The loss it was trained with is the cross-entropy $\mathcal{L} = -\log p_{y}$ of the true
token $y$.
"""

_TABLE = r"""## Streaming formats at a glance

| Service | Framing | End of stream | Usage |
|---|---|---|---|
| OpenAI chat | SSE `data:` lines | `data: [DONE]` | last chunk, when asked |
| OpenAI Responses | SSE named events | `response.completed` | in the final response |
| Anthropic | SSE named events | `message_stop` | `message_start` and `message_delta` |
| Ollama | NDJSON | `"done": true` | counts on the last line |

> Every row is a different answer to the same question: *where does one token end?*
"""

_TOUR = r"""# Hello from the nbstream demo backend

This is **not a language model**: it is a small local server that streams *deterministic*
markdown, so that you can see how an answer renders while it grows.

## What a streamed answer can contain

- **Bold**, *italic*, `inline code` and [links](https://jupyter.org)
- Nested lists:
  1. first item
  2. second item
- Inline math such as $e^{i\pi} + 1 = 0$, and display math:

$$
\int_0^1 x^2 \, dx = \frac{1}{3}
$$

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```

| Model | What it sends |
|---|---|
| `demo` | answers like this one |
| `echo` | your own message back |
| `lorem` | as many words as you ask for |

Ask about *code*, *math*, a *table*, or for something *long* to get other answers.
"""

#: (keywords, answer), tried in order; the last entry is the default.
ANSWERS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"code", "python", "program", "function"}), _CODE),
    (frozenset({"math", "equation", "formula", "softmax", "latex"}), _MATH),
    (frozenset({"table", "tables", "format", "formats", "compare"}), _TABLE),
    (frozenset(), _TOUR),
)


def long_answer(sections: int = 30) -> str:
    """A long answer (about 3,000 words): every other answer, numbered, several times over.

    Args:
        sections: How many sections to write.

    Returns:
        The markdown text.
    """
    bodies = [_CODE, _MATH, _TABLE]
    parts = ["# A long answer\n\nLong enough to scroll, to cancel half-way, and to measure.\n"]
    for i in range(sections):
        body = bodies[i % len(bodies)].replace("## ", f"## {i + 1}. ", 1)
        parts.append(body)
    return "\n".join(parts)

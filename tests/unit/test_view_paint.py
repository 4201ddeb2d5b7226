"""The painter (nbstream._view.paint): what a frontend ends up holding, and what it cost."""

from __future__ import annotations

import random

from nbstream._view.paint import Op, Painter
from nbstream._view.render import Renderer


class Frontend:
    """Applies display operations the way JupyterLab does: new outputs in order, updates by id."""

    def __init__(self) -> None:
        self.outputs: dict[str, dict[str, str]] = {}
        self.bytes = 0

    def apply(self, ops: list[Op]) -> None:
        for op in ops:
            assert op.update == (op.display_id in self.outputs), op
            self.outputs[op.display_id] = op.data
            self.bytes += op.size


def stream(painter: Painter, tokens: list[str], rate: float, reasoning: int = 0) -> Frontend:
    front, now = Frontend(), 0.0
    for i in range(reasoning):
        now += 1 / rate
        painter.add_reasoning(f"thought {i} ")
        front.apply(painter.frame(now))
    for tok in tokens:
        now += 1 / rate
        painter.add_text(tok)
        front.apply(painter.frame(now))
    front.apply(painter.finish())
    return front


def answer(tokens: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    words = ["alpha", "beta", "**gamma**", "`delta`", "$x^2$", "[link](https://a.b/c)", "eps"]
    out: list[str] = []
    while len(out) < tokens:
        kind = rng.random()
        if kind < 0.15:
            out += ["```python\n", *[f"x{i} = {i}\n" for i in range(rng.randint(2, 8))], "```\n\n"]
        elif kind < 0.35:
            out += [
                f"- {rng.choice(words)} {rng.choice(words)}\n" for _ in range(rng.randint(2, 5))
            ]
            out.append("\n")
        else:
            out += [rng.choice(words) + " " for _ in range(rng.randint(20, 120))]
            out.append("\n\n")
    return out[:tokens]


def test_the_final_outputs_hold_the_exact_text_and_no_empty_output() -> None:
    tokens = answer(3000)
    painter = Painter()
    front = stream(painter, tokens, rate=200)
    text = "".join(tokens)
    assert painter.text == text
    plain = [data.get("text/plain", "") for data in front.outputs.values()]
    assert "".join(plain) == text  # segments in display order, nothing lost or repeated
    assert all(p.strip() for p in plain)
    for data in front.outputs.values():
        assert set(data) == {"text/markdown", "text/plain"}
    assert "".join(d["text/markdown"] for d in front.outputs.values()) == Renderer().render(text)


def test_long_answers_cost_at_most_three_times_their_size() -> None:
    tokens = answer(5000)
    for rate in (100, 1000):
        front = stream(Painter(), tokens, rate=rate)
        size = len("".join(tokens).encode())
        assert front.bytes <= 3 * size, (rate, front.bytes / size)


def test_the_first_token_shows_at_once_and_short_answers_get_frames() -> None:
    painter = Painter()
    front = Frontend()
    painter.add_text("Hello")
    front.apply(painter.frame(0.0))
    assert [d["text/markdown"] for d in front.outputs.values()] == ["<p>Hello</p>\n"]
    tokens = answer(150)
    painter = Painter()
    frames, now = 0, 0.0
    for tok in tokens:
        now += 0.02
        painter.add_text(tok)
        frames += bool(painter.frame(now))
    # Most of the 15 frames per second (a frame that would show no change is not sent).
    assert frames >= 9 * now


def test_an_unfinished_tail_is_healed_while_streaming_and_exact_at_the_end() -> None:
    painter = Painter()
    front = Frontend()
    painter.add_text("Some **bold and [a link](https://exa")
    front.apply(painter.frame(0.0))
    (live,) = front.outputs.values()
    assert live == {"text/markdown": "<p>Some <strong>bold and</strong></p>\n"}
    front.apply(painter.finish())
    (final,) = front.outputs.values()
    assert final["text/plain"] == "Some **bold and [a link](https://exa"
    assert "<strong>" not in final["text/markdown"]


def test_reasoning_is_collapsed_above_the_answer() -> None:
    painter = Painter()
    front = stream(painter, ["The ", "answer."], rate=50, reasoning=30)
    first, *rest = front.outputs.values()
    assert first["text/markdown"].startswith("<details>\n<summary>Reasoning (60 words)</summary>")
    assert first["text/plain"].startswith("Reasoning:\nthought 0 ")
    assert [d["text/plain"] for d in rest] == ["The answer."]

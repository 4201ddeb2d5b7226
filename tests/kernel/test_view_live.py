"""StreamView in a real ipykernel, live: interrupt (■), reasoning, two views side by side."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.kernel.harness import Kernel, kernel

pytestmark = pytest.mark.kernel

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

SOURCES = """
import asyncio, nbstream, ipywidgets
async def gen(n, pause, word="word"):
    for i in range(n):
        await asyncio.sleep(pause)
        yield ("%s%d " % (word, i)) + ("\\n\\n" if i % 40 == 39 else "")
async def stalls(n):
    for i in range(n):
        await asyncio.sleep(0.01)
        yield "word%d " % i
    await asyncio.sleep(60)  # the server goes quiet: only the view's ticker wakes the loop
    yield "never"
async def thinking(n):
    for i in range(n):
        await asyncio.sleep(0.001)
        yield nbstream.ReasoningDelta("step %d. " % i)
    for i in range(50):
        await asyncio.sleep(0.001)
        yield nbstream.TextDelta("answer%d " % i)
"""


@pytest.fixture(scope="module")
def k() -> Iterator[Kernel]:
    with kernel() as running:
        running.ok(SOURCES)
        yield running


def shows(msg: dict[str, Any], needle: str) -> bool:
    """Whether an iopub message displays ``needle`` in its markdown."""
    if msg["msg_type"] not in ("display_data", "update_display_data"):
        return False
    return needle in msg["content"]["data"].get("text/markdown", "")


def assert_no_empty_output(outputs: list[dict[str, Any]]) -> None:
    for out in outputs:
        if out["output_type"] == "display_data":
            assert any(str(v).strip() for v in out["data"].values()), out


def test_interrupt_ends_the_cell_after_the_final_render_and_keeps_the_partial_answer(
    k: Kernel,
) -> None:
    sent: list[float] = []

    def interrupt_when_text_shows(msg: dict[str, Any]) -> None:
        if not sent and shows(msg, "word9"):
            sent.append(k.interrupt())

    ex = k.execute(
        "view = nbstream.StreamView(model='m')\ndisplay(view)\n"
        "reply = await view.consume(stalls(10))",
        timeout=60,
        on_message=interrupt_when_text_shows,
    )
    assert sent, "the answer never showed"
    assert ex.status == "error"
    assert ex.error is not None
    assert ex.error["content"]["ename"] in ("KeyboardInterrupt", "CancelledError")
    # The final render comes first: the status display is replaced before the error arrives.
    final = [
        m
        for m in ex.of_type("update_display_data")
        if "nbstream" in m["content"].get("metadata", {})
    ]
    assert len(final) == 1
    assert ex.messages.index(final[0]) < ex.messages.index(ex.error)
    meta = final[0]["content"]["metadata"]["nbstream"]
    assert (meta["status"], meta["error"]) == ("cancelled", "interrupted")
    assert "■ cancelled: interrupted" in final[0]["content"]["data"]["text/plain"]
    outputs = ex.final_outputs()
    assert all(WIDGET_MIME not in o.get("data", {}) for o in outputs)
    assert_no_empty_output(outputs)
    answer = "".join(o["data"].get("text/plain", "") for o in outputs[1:] if "data" in o)
    assert answer == " ".join(f"word{i}" for i in range(10)) + " "
    # The partial answer is kept, exactly, and marked as interrupted.
    after = k.ok("print(view.reply.status, view.reply.error); print(view.reply.text, end='')")
    head, text = after.stdout.split("\n", 1)
    assert head == "cancelled interrupted"
    assert text == answer
    latency = final[0]["received"] - sent[0]
    error_latency = ex.error["received"] - sent[0]
    print(
        f"\ninterrupt → final render {latency * 1e3:.0f} ms, → error {error_latency * 1e3:.0f} ms"
    )
    # The target is 150 ms from the interrupt to the final render; without a loop
    # wake-up it would be the server's silence, here 60 s (ipykernel #881). Generous: CI is a
    # loaded 2-core machine. The error message follows once IPython formatted its traceback.
    assert latency < 1.0
    assert error_latency < 5.0


def test_reasoning_is_a_collapsed_section_above_the_answer(k: Kernel) -> None:
    ex = k.ok(
        "view = nbstream.StreamView()\ndisplay(view)\nreply = await view.consume(thinking(300))\n"
        "print(reply.status, len(reply.reasoning.split()))"
    )
    assert ex.stdout.split() == ["finished", "600"]
    live = [m for m in ex.of_type("display_data", "update_display_data") if shows(m, "Thinking…")]
    assert live, "no live preview while the model reasons"
    outputs = [o for o in ex.final_outputs() if o["output_type"] == "display_data"]
    assert_no_empty_output(outputs)
    status, reasoning, *answer = outputs
    assert "nbstream" in status["metadata"]
    md = reasoning["data"]["text/markdown"]
    assert md.startswith("<details>\n<summary>Reasoning (600 words)</summary>")
    assert "<details open" not in md  # collapsed
    assert "step 299." in md
    assert reasoning["data"]["text/plain"].startswith("Reasoning:\nstep 0. ")
    text = "".join(o["data"]["text/plain"] for o in answer)
    assert text == "".join(f"answer{i} " for i in range(50))


def test_two_views_side_by_side_both_complete_and_leave_durable_copies(k: Kernel) -> None:
    ex = k.ok(
        "a, b = nbstream.StreamView(model='left'), nbstream.StreamView(model='right')\n"
        "display(ipywidgets.HBox([a.widget, b.widget]))\n"
        "ra, rb = await asyncio.gather(a.consume(gen(300, 0.002, 'left')),"
        " b.consume(gen(200, 0.003, 'right')))\n"
        "print(ra.status, rb.status)",
        timeout=120,
    )
    assert ex.stdout.split() == ["finished", "finished"]
    texts = json.loads(
        k.ok("import json; print(json.dumps({'left': ra.text, 'right': rb.text}))").stdout
    )
    assert texts["left"].startswith("left0 left1")
    assert texts["left"].endswith("left299 ")
    assert texts["right"].startswith("right0 right1")
    assert texts["right"].endswith("right199 \n\n")
    # Both streamed live into their widgets (HTMLMath values, sent as comm messages).
    states = [json.dumps(m["content"]["data"]) for m in ex.of_type("comm_msg", "comm_open")]
    assert any("left150" in state for state in states)
    assert any("right150" in state for state in states)
    # The Cancel buttons were closed at the end.
    buttons = ex.widget_comms("ButtonModel")
    closed = {m["content"]["comm_id"] for m in ex.of_type("comm_close")}
    assert len(buttons) == 2
    assert set(buttons) <= closed
    # What a saved notebook keeps without widget state: one regular output per view, the
    # answer collapsed under its status line. (The HBox's own output stays a widget reference.)
    outputs = ex.final_outputs()
    assert_no_empty_output(outputs)
    copies = {
        o["metadata"]["nbstream"]["model"]: o
        for o in outputs
        if "nbstream" in o.get("metadata", {})
    }
    assert sorted(copies) == ["left", "right"]
    for side, copy in copies.items():
        assert copy["metadata"]["nbstream"]["status"] == "finished"
        assert WIDGET_MIME not in copy["data"]
        text, line = copy["data"]["text/plain"].rsplit("\n\n[", 1)
        assert text == texts[side]
        assert line.startswith("✓ done · " + side)
        md = copy["data"]["text/markdown"]
        assert md.startswith("<details>\n<summary>✓ done · " + side)
        assert "\n\n" not in md  # one HTML block: the markdown renderer passes it through
        assert f"{side}0 {side}1" in md
        assert f"{side}{len(texts[side].split()) - 1}" in md

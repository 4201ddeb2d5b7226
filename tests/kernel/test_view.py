"""StreamView in a real ipykernel: iopub traffic, Cancel by comm message, durable final outputs."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.kernel.harness import Kernel, kernel, message_bytes

pytestmark = pytest.mark.kernel

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

STREAM = """
import asyncio, nbstream
async def gen(n, pause):
    for i in range(n):
        await asyncio.sleep(pause)
        yield ("word%d " % i) + ("\\n\\n" if i % 40 == 39 else "")
"""


@pytest.fixture(scope="module")
def k() -> Iterator[Kernel]:
    with kernel() as running:
        running.ok(STREAM)
        yield running


def payload(outputs: list[dict[str, Any]]) -> str:
    return "".join(o.get("data", {}).get("text/plain", "") for o in outputs)


def test_streams_into_durable_display_outputs_within_the_byte_budget(k: Kernel) -> None:
    ex = k.ok(
        "view = nbstream.StreamView(model='m', endpoint='127.0.0.1:1', notice='demo backend')\n"
        "display(view)\nreply = await view.consume(gen(2000, 0.001))\n"
        "print(reply.status, len(reply.text))",
        timeout=120,
    )
    status, length = ex.stdout.split()
    assert status == "finished"
    outputs = ex.final_outputs()
    assert all(WIDGET_MIME not in o.get("data", {}) for o in outputs)
    first = outputs[0]
    meta = first["metadata"]["nbstream"]
    assert meta["model"] == "m"
    assert meta["endpoint"] == "127.0.0.1:1"
    assert meta["status"] == "finished"
    assert meta["timings"]["output_tokens"] == 2000
    assert "demo backend" in first["data"]["text/plain"]
    answer = [o for o in outputs[1:] if o["output_type"] == "display_data"]
    assert payload(answer) == k.ok("print(reply.text, end='')").stdout
    for out in answer:  # every segment carries both; no empty output is left behind
        assert set(out["data"]) == {"text/markdown", "text/plain"}
        assert out["data"]["text/plain"].strip()
    # Bytes of content sent (every mimetype of every display/update message) vs the answer.
    shown = ex.of_type("display_data", "update_display_data")
    content = sum(
        sum(
            len(v.encode() if isinstance(v, str) else json.dumps(v))
            for v in m["content"]["data"].values()
        )
        for m in shown
    )
    assert content <= 4 * int(length), (content, length)  # issue 18: at most 4x the answer
    assert len(ex.messages) < 2000  # far fewer messages than deltas
    print(
        f"\n2000 deltas, {length} chars: {len(ex.messages)} iopub messages, "
        f"{content} content bytes ({content / int(length):.2f}x), "
        f"{sum(message_bytes(m) for m in ex.messages)} bytes with headers"
    )


def test_cancel_click_keeps_the_partial_answer(k: Kernel) -> None:
    clicked: list[float] = []

    def click_when_text_shows(msg: dict[str, Any]) -> None:
        if not clicked and msg["msg_type"] in ("display_data", "update_display_data"):
            data = msg["content"]["data"]
            if "text/markdown" in data and "word" in data["text/markdown"]:
                button = [
                    m["content"]["comm_id"]
                    for m in ex_messages
                    if m["msg_type"] == "comm_open"
                    and m["content"]["data"]["state"].get("_model_name") == "ButtonModel"
                ]
                clicked.append(k.click(button[0]))

    ex_messages: list[dict[str, Any]] = []

    def on_message(msg: dict[str, Any]) -> None:
        ex_messages.append(msg)
        click_when_text_shows(msg)

    ex = k.execute(
        "view = nbstream.StreamView()\ndisplay(view)\nreply = await view.consume(gen(2000, 0.01))\n"
        "print(reply.status, reply.error, len(reply.text) > 0)",
        timeout=120,
        on_message=on_message,
    )
    assert ex.status == "ok"
    assert clicked
    assert ex.stdout.strip() == "cancelled cancelled by user True"
    outputs = ex.final_outputs()
    assert all(WIDGET_MIME not in o.get("data", {}) for o in outputs)
    assert outputs[0]["metadata"]["nbstream"]["status"] == "cancelled"
    assert "word0" in payload(outputs)
    assert json.dumps(outputs)  # plain JSON: what a saved notebook keeps
    # A click after the end does nothing.
    assert k.ok("view.cancel(); print(view.reply.status)").stdout.strip() == "cancelled"


def test_failed_stream_shows_its_error_and_keeps_the_text(k: Kernel) -> None:
    ex = k.ok(
        "async def bad():\n    yield 'partial answer'\n    raise RuntimeError('boom')\n"
        "view = nbstream.StreamView()\ndisplay(view)\nreply = await view.consume(bad())\n"
        "print(reply.status, reply.error)"
    )
    assert ex.stdout.strip() == "failed RuntimeError: boom"
    outputs = ex.final_outputs()
    assert "failed: RuntimeError: boom" in outputs[0]["data"]["text/plain"]
    assert "partial answer" in payload(outputs)


def test_views_started_together_share_their_widget_parts_and_all_end(k: Kernel) -> None:
    ex = k.ok(
        "views = [nbstream.StreamView() for _ in range(12)]\n"
        "async def one(i):\n"
        "    async def words():\n"
        "        for j in range(30):\n"
        "            await asyncio.sleep(0.01)\n"
        "            yield f'v{i}w{j} '\n"
        "    return await views[i].consume(words())\n"
        "replies = await asyncio.gather(*(one(i) for i in range(12)))\n"
        "print(sorted({r.status for r in replies}))",
        timeout=120,
    )
    assert ex.stdout.strip() == "['finished']"
    # Three widgets per view (Cancel, status, their row); the layout and styles that every
    # widget also has are shared by all views, not one more comm each.
    models = Counter(m["content"]["data"]["state"]["_model_name"] for m in ex.of_type("comm_open"))
    assert models["ButtonModel"] == models["HTMLModel"] == models["HBoxModel"] == 12
    assert sum(models.values()) <= 3 * 12 + 3
    closed = {m["content"]["comm_id"] for m in ex.of_type("comm_close")}
    per_view = set(ex.widget_comms("ButtonModel") + ex.widget_comms("HTMLModel"))
    assert per_view <= closed  # every view's own widgets are closed at its end
    # Each view's answer is whole, and ends under its final status line; the outputs are
    # rebuilt from the messages parented to this cell only (the updates, sent without IPython's
    # update_display, must be parented as it would).
    outputs = ex.final_outputs()
    statuses = [o for o in outputs if "nbstream" in o.get("metadata", {})]
    assert len(statuses) == 12
    assert all(WIDGET_MIME not in o.get("data", {}) for o in outputs)
    text = payload(outputs)
    assert all(f"v{i}w29" in text for i in range(12))


def test_printed_text_keeps_its_place_around_the_views_outputs(k: Kernel) -> None:
    # Display messages skip IPython's waited-for flush of stdout; text printed before a new
    # output must still arrive before it (the flush is queued ahead of the message).
    ex = k.ok(
        "print('before the view')\n"
        "view = nbstream.StreamView()\n"
        "display(view)\n"
        "async def words():\n"
        "    yield 'first paragraph\\n\\n'\n"
        "    await asyncio.sleep(0.3)\n"
        "    print('between the paragraphs')\n"
        "    yield 'second paragraph\\n\\n'\n"
        "    await asyncio.sleep(0.3)\n"
        "reply = await view.consume(words())\n"
        "print('after the view')",
        timeout=60,
    )
    order = []
    for m in ex.messages:
        if m["msg_type"] == "stream":
            order.append(m["content"]["text"].strip())
        elif m["msg_type"] == "display_data":
            text = m["content"]["data"].get("text/markdown", "")
            if "paragraph" in text:
                order.append(text.removeprefix("<p>").split()[0])
            elif WIDGET_MIME in m["content"]["data"]:
                order.append("controls")
    assert order == [
        "before the view",
        "controls",
        "first",
        "between the paragraphs",
        "second",
        "after the view",
    ]


def test_a_view_inside_capture_is_captured_whole(k: Kernel) -> None:
    # %%capture swaps the display publisher: the view's messages take IPython's way and land
    # in the captured outputs instead of the cell.
    ex = k.ok(
        "from IPython.utils.capture import capture_output\n"
        "with capture_output() as cap:\n"
        "    reply = await nbstream.StreamView().consume(gen(30, 0.005))\n"
        "print(reply.status, len(cap.outputs) > 0, 'word29' in str([o.data for o in cap.outputs]))",
        timeout=60,
    )
    assert ex.stdout.strip() == "finished True True"
    assert not ex.of_type("display_data", "update_display_data")


def test_tool_calls_the_server_ran_are_shown_running_then_listed_under_the_answer(
    k: Kernel,
) -> None:
    ex = k.ok(
        "from nbstream import ServerToolCallDelta\n"
        "async def searched():\n"
        "    yield ServerToolCallDelta(index=0, id='s1', name='web_search')\n"
        '    yield ServerToolCallDelta(index=0, arguments=\'{"query": "<img src=x onerror=alert(1)>"}\')\n'
        "    await asyncio.sleep(1.3)\n"
        "    yield ServerToolCallDelta(index=0, result='5 results: <b>a</b>')\n"
        "    yield 'The answer.'\n"
        "reply = await nbstream.StreamView().consume(searched())\n"
        "print(reply.status, len(reply.server_tool_calls))",
        timeout=60,
    )
    assert ex.stdout.strip() == "finished 1"
    live = [m["content"]["data"]["state"].get("value", "") for m in ex.of_type("comm_msg")]
    assert any("running web_search" in value for value in live)
    status = next(o for o in ex.final_outputs() if "nbstream" in o.get("metadata", {}))
    markup = status["data"]["text/markdown"]
    assert "1 tool call run by the server" in markup
    assert "<code>web_search</code>" in markup
    assert "&lt;img src=x onerror=alert(1)&gt;" in markup
    assert "<img" not in markup
    assert "&lt;b&gt;a&lt;/b&gt;" in markup
    assert "- web_search" in status["data"]["text/plain"]

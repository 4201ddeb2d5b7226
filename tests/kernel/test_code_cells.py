"""Code out of the answer and into the notebook, in a real kernel: ``%chat code [N]``,
``%%chat --code``, and the view's Insert buttons (issue 14).

A new cell below is what the frontend makes of the ``set_next_input`` payload in the reply of the
running cell; these tests read that payload. The browser test (``tests/browser/test_parity.py``)
checks that JupyterLab and Notebook 7 do create the cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nbstream.server import BackgroundServer
from nbstream.server._content import answer

from .harness import Execution, Kernel
from .test_magic import CLEAN_ENV, _text, _usage_error

pytestmark = pytest.mark.kernel

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CODE_PROMPT = "Show me some code"  # the demo backend's answer with a python and a bash block

SOURCES = """
import asyncio, contextvars, nbstream
from nbstream._chat.chat import ChatHandle
FIRST = "print('block one')\\nx = '$5'"
SECOND = "echo two"
async def slow_answer(words=150):
    yield "Here is the first:\\n\\n```python\\n" + FIRST + "\\n```\\n\\n"
    for i in range(words):
        await asyncio.sleep(0.02)
        yield "word%d " % i
    yield "\\n\\n```bash\\n" + SECOND + "\\n```\\n\\nThe end"
    for i in range(10):
        await asyncio.sleep(0.02)
        yield " and%d" % i
async def shown(source):
    view = nbstream.StreamView()
    display(view)
    return await view.consume(source)
"""


@pytest.fixture(scope="module")
def k(backend: BackgroundServer) -> Iterator[Kernel]:
    kernel = Kernel(env=CLEAN_ENV)
    try:
        kernel.ok("%load_ext nbstream")
        kernel.ok(f"%chat config base_url={backend.openai_base_url} model=demo:tps=0,ttft=0")
        kernel.ok(SOURCES)
        yield kernel
    finally:
        kernel.shutdown()


def next_input(ex: Execution) -> str | None:
    """The text of the ``set_next_input`` payload in the cell's reply (the new cell below)."""
    assert ex.reply is not None
    found = [p for p in ex.reply["content"].get("payload", []) if p["source"] == "set_next_input"]
    assert len(found) <= 1
    return found[0]["text"] if found else None


def insert_buttons(messages: list[dict[str, Any]]) -> list[str]:
    return [
        m["content"]["comm_id"]
        for m in messages
        if m["msg_type"] == "comm_open"
        and m["content"]["data"]["state"].get("_model_name") == "ButtonModel"
        and m["content"]["data"]["state"].get("description") == "Insert below"
    ]


def code_blocks_of(text: str) -> list[str]:
    from nbstream._core.markdown import code_blocks

    return [b.code for b in code_blocks(text)]


def test_chat_code_puts_a_block_of_the_last_answer_into_a_new_cell(k: Kernel) -> None:
    k.ok(f"%%chat\n{CODE_PROMPT}")
    python, bash = code_blocks_of(answer("demo", CODE_PROMPT))
    ex = k.ok("%chat code")
    assert next_input(ex) == bash  # the last block by default
    assert "code block 2 of 2 (bash), 1 line(s) → a new cell below" in _text(ex.final_outputs())
    ex = k.ok("%chat code 1")
    assert next_input(ex) == python
    # The note holds the code too (collapsed), for frontends and headless runs without payloads.
    assert "```python\n" in ex.final_outputs()[0]["data"]["text/markdown"]
    assert "1 … 2" in _usage_error(k.execute("%chat code 3"))
    assert "block number" in _usage_error(k.execute("%chat code last"))


def test_chat_code_without_code_or_answer_says_so(backend: BackgroundServer) -> None:
    kernel = Kernel(env=CLEAN_ENV)
    try:
        kernel.ok("%load_ext nbstream")
        assert "no answer yet" in _usage_error(kernel.execute("%chat code"))
        kernel.ok(f"%%chat --base-url {backend.openai_base_url} -m echo\nno code here")
        assert "no code block" in _usage_error(kernel.execute("%chat code"))
    finally:
        kernel.shutdown()


def test_chat_with_code_option_inserts_the_last_block_when_the_answer_ends(k: Kernel) -> None:
    ex = k.ok(f"%%chat --code\n{CODE_PROMPT}")
    assert next_input(ex) == code_blocks_of(answer("demo", CODE_PROMPT))[-1]
    assert "→ a new cell below" in _text(ex.final_outputs())
    assert "one of them" in _usage_error(k.execute(f"%%chat --code --bg\n{CODE_PROMPT}"))


def test_an_insert_click_while_the_answer_streams_puts_the_block_below_the_cell(
    k: Kernel,
) -> None:
    clicked: list[str] = []
    seen: list[dict[str, Any]] = []

    def click_the_first_insert_button(msg: dict[str, Any]) -> None:
        seen.append(msg)
        buttons = insert_buttons(seen)
        if buttons and not clicked:
            clicked.append(buttons[0])
            k.click(buttons[0])

    ex = k.ok(
        "reply = await shown(slow_answer())", timeout=60, on_message=click_the_first_insert_button
    )
    assert clicked, "no Insert button under the settled code block"
    assert len(insert_buttons(ex.messages)) == 2  # one per block that settled while streaming
    assert next_input(ex) == "print('block one')\nx = '$5'"
    # The buttons went with the cell: no widget left in the outputs, their displays emptied.
    outputs = ex.final_outputs()
    assert all(WIDGET_MIME not in o.get("data", {}) for o in outputs)
    # A click on a button of the ended cell reaches nothing; no cell lands below the next one.
    k.click(clicked[0])
    assert next_input(k.ok("1 + 1")) is None


def test_no_insert_button_for_a_view_that_streams_after_its_cell(k: Kernel) -> None:
    ex = k.ok(
        "handle = ChatHandle(shown(slow_answer(words=5)))\n"
        "reply = await handle.result(publish=False)\nprint(reply.status)"
    )
    assert ex.stdout.strip() == "finished"
    assert insert_buttons(ex.messages) == []
    assert next_input(ex) is None

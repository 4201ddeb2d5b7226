"""The notebook as context: values within a budget, secrets refused, errors, images per API."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import pytest

from nbstream._core.context import (
    Budget,
    ImagePart,
    fill,
    image_size,
    is_secret_name,
    message_content,
    metadata,
    render_error,
    strip_ansi,
)
from nbstream._core.errors import ConfigError, InterpolationError
from nbstream._engine.context import apply_context
from nbstream._providers.request import build_body
from nbstream.server._prompt import images_of


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_small_values_read_as_before_and_long_ones_say_what_was_cut() -> None:
    filled = fill("n={{n}} s={{s}} long={{text}}", {"n": 3, "s": "hi", "text": "x" * 50_000},
                  Budget(1000))  # fmt: skip
    assert filled.text.startswith("n=3 s=hi long=xxx")
    assert "more characters)" in filled.text
    assert len(filled.text) <= 1000 * 4 + 40
    long = filled.items[-1]
    assert long.cut is not None
    assert long.size == "50,000 characters"


def test_values_share_one_budget_and_collections_count_items() -> None:
    values = {"a": list(range(100_000)), "b": {str(i): i for i in range(100_000)}}
    filled = fill("{{a}} and {{b}}", values, Budget(500))
    assert len(filled.text) <= 500 * 4 + 100
    assert [i.cut is not None and "more items" in i.cut for i in filled.items] == [True, True]
    assert metadata(filled.items)[0] == {
        "name": "a", "kind": "list", "size": "100,000 items", "chars": filled.items[0].chars,
        "cut": filled.items[0].cut,
    }  # fmt: skip


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "gh_token", "my_secret", "cfg.db_password"])
def test_a_name_that_looks_like_a_secret_is_refused(name: str) -> None:
    assert is_secret_name(name)
    with pytest.raises(InterpolationError, match="looks like a secret"):
        fill(f"use {{{{{name}}}}}", {name.split(".")[0]: "value"}, Budget(100))


def test_keys_inside_values_are_redacted() -> None:
    key = "sk-proj-" + "a" * 40
    assert key not in fill("{{note}}", {"note": f"the key is {key}"}, Budget(100)).text


def test_an_error_keeps_the_cells_frames_without_colour_codes() -> None:
    code = compile("def f():\n    return 1 / 0\nf()\n", "/tmp/ipykernel_123/456.py", "exec")
    try:
        exec(code, {})
    except ZeroDivisionError as exc:
        text, frames = render_error(exc)
    assert frames == 2  # <module> and f, both in the cell
    assert "Cell, line 2, in f" in text
    assert text.endswith("ZeroDivisionError: division by zero")
    assert strip_ansi("\x1b[0;31mZeroDivisionError\x1b[0m") == "ZeroDivisionError"


def test_image_size_reads_png_headers() -> None:
    assert image_size(_png(7, 3)) == ("image/png", 7, 3)
    assert image_size(b"nope")[0] == "application/octet-stream"


PNG = _png(4, 2)
PICTURE = ImagePart(PNG, "image/png", 4, 2)
B64 = base64.b64encode(PNG).decode()


def _messages() -> list[dict[str, Any]]:
    return [{"role": "user", "content": message_content(("look at ", PICTURE))}]


def test_an_image_takes_each_apis_own_form() -> None:
    chat = build_body("openai-chat", _messages())["messages"][0]["content"]
    assert chat[1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{B64}"}}
    responses = build_body("openai-responses", _messages())["input"][0]["content"]
    assert responses == [
        {"type": "input_text", "text": "look at "},
        {"type": "input_image", "image_url": f"data:image/png;base64,{B64}"},
    ]
    anthropic = build_body("anthropic", _messages())["messages"][0]["content"]
    assert anthropic[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": B64},
    }
    ollama = build_body("ollama", _messages())["messages"][0]
    assert ollama["content"] == "look at "
    assert ollama["images"] == [B64]
    gemini = build_body("gemini", _messages())["contents"][0]["parts"]
    assert gemini[1] == {"inlineData": {"mimeType": "image/png", "data": B64}}
    for api in ("openai-chat", "openai-responses", "anthropic", "ollama", "gemini"):
        assert images_of(build_body(api, _messages())) == [f"image/png 4x2, {len(PNG)} bytes"]


def test_an_api_without_image_input_is_refused_before_sending() -> None:
    with pytest.raises(ConfigError, match="the custom API takes no images"):
        build_body("custom", _messages(), template={"q": "{prompt}"})


def test_context_values_not_named_follow_the_prompt() -> None:
    messages, items = apply_context(
        [{"role": "user", "content": "about {{a}}"}], {"a": 1, "b": "two"}, 100
    )
    assert messages[0]["content"] == "about 1\n\nb (str):\ntwo"
    assert [i.name for i in items] == ["a", "b"]

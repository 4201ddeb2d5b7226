"""Streams that real hosted servers sent, read through the public API and compared field by field.

The recordings live outside this repository, in ``../shared/realworld-streams/`` (other projects'
recorded test traffic: they are read from there, never copied here). Each ``NAME.json`` sidecar
names its body file, the format to read it with, the recorded content type and the fields a
reader of the provider's documented format should find (``expected``).

Each recording is run twice through :func:`nbstream.astream` over ``httpx.MockTransport``:

- with the sidecar's named ``format`` (and ``json_path``), the body cut into 7-byte chunks, so
  that events, JSON texts, UTF-8 sequences and ``<think>`` tags are split everywhere;
- with ``format="auto"`` and the body whole, so that format selection is exercised too.

The module is skipped only when the folder is absent, and never when ``CI`` is set: CI must run
it, not pass by skipping it.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbstream import Endpoint, NbstreamError, Reply, astream

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "realworld-streams"
CHUNK = 7

if not CORPUS.is_dir():
    if os.environ.get("CI"):
        pytest.fail(f"{CORPUS} is missing: CI must run the recorded streams", pytrace=False)
    pytest.skip(f"the recorded streams are not here ({CORPUS})", allow_module_level=True)

SIDECARS = sorted(p for p in CORPUS.glob("*.json") if p.is_file())


def _sidecar(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _client(data: bytes, content_type: str, chunk: int | None) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        content = _pieces(data, chunk) if chunk else data
        return httpx.Response(200, headers={"content-type": content_type}, content=content)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def _read(case: dict[str, Any], *, named: bool) -> Reply:
    data = (CORPUS / case["body"]).read_bytes()
    api = case.get("api") or "openai-chat"
    base_url = "http://recorded.test/stream" if api == "custom" else "http://recorded.test/v1"
    endpoint = Endpoint(
        base_url,
        api,
        model="recorded",
        format=case["format"] if named else "auto",
        json_path=case.get("json_path") if named else None,
    )
    async with _client(data, case["content_type"], CHUNK if named else None) as client:
        stream = astream("recorded", endpoint=endpoint, client=client)
        try:
            async for _ in stream:
                pass
        except NbstreamError:
            pass  # the reply records it (status "failed"); the comparison says if that is wrong
    return stream.reply


def _calls(calls: Any) -> list[dict[str, Any]]:
    """Tool calls (the sidecar's dicts, or the reply's values) as comparable dicts."""
    rows = [
        c if isinstance(c, dict) else {"id": c.id, "name": c.name, "arguments": c.arguments}
        for c in calls
    ]
    return [
        {
            "id": row.get("id") or "",
            "name": row.get("name") or "",
            "arguments": _arguments(row.get("arguments") or ""),
        }
        for row in rows
    ]


def _arguments(text: str) -> Any:
    # Arguments are compared as JSON values when they parse: a server that sends them as an
    # object (Ollama) leaves their spacing to whoever serializes them.
    try:
        return json.loads(text)
    except ValueError:
        return text


def _error_message(expected: str) -> str:
    """The message inside an expected error (written as the error object's JSON, cut short)."""
    try:
        obj = json.loads(expected)
    except ValueError:
        marker = '"message": "'
        if marker in expected:
            return expected.split(marker, 1)[1].split('", "', 1)[0]
        return expected
    if isinstance(obj, dict) and isinstance(obj.get("message"), str):
        return str(obj["message"])
    return expected


def _field(reply: Reply, name: str, expected: Any, strip: bool) -> tuple[Any, Any]:
    """(got, want) for one compared field, both normalised the same way."""
    if name in ("text", "reasoning"):
        got: str = getattr(reply, name)
        return (got.strip(), expected.strip()) if strip else (got, expected)
    if name in ("tool_calls", "server_tool_calls"):
        return _calls(getattr(reply, name)), _calls(expected or [])
    if name == "usage":
        usage = reply.usage
        want = {k: v for k, v in expected.items() if v is not None}
        got_usage = {k: getattr(usage, k, None) if usage else None for k in want}
        return got_usage, want
    if name == "error":
        # The sidecars write an error as its object's JSON, cut short: the reply's one-line
        # error must carry the server's message (its start, whitespace folded).
        if expected is None:
            return reply.error, None
        message = " ".join(_error_message(expected).split())[:60]
        got_error = " ".join((reply.error or "").split())
        return (message if message in got_error else reply.error), message
    return getattr(reply, name), expected


def _compare(reply: Reply, case: dict[str, Any]) -> list[str]:
    expected = case["expected"]
    fields = list(case.get("compare") or [])
    if "server_tool_calls" in expected and "server_tool_calls" not in fields:
        fields.append("server_tool_calls")
    if expected.get("error") and "error" not in fields:
        fields.append("error")
    strip = bool(case.get("strip_compare"))
    readings = [expected]
    alternative = expected.get("also_accept") or case.get("also_accept")
    if alternative:
        other = {**expected, **alternative}
        if "tool_calls" in alternative and "server_tool_calls" in expected:
            other["server_tool_calls"] = []  # listed with the client's calls instead
        readings.append(other)
    problems: list[str] = []
    for reading in readings:
        problems = []
        for name in fields:
            if name == "usage" and reading.get("usage") is None:
                continue  # null: not checked
            got, want = _field(reply, name, reading.get(name), strip)
            if got != want:
                problems.append(f"{name}: got {got!r:.300}, expected {want!r:.300}")
        if not problems:
            return []
    return problems


@pytest.mark.parametrize("path", SIDECARS, ids=[p.stem for p in SIDECARS])
async def test_named_format_in_small_chunks(path: Path) -> None:
    case = _sidecar(path)
    reply = await _read(case, named=True)
    assert _compare(reply, case) == [], case.get("note")


@pytest.mark.parametrize("path", SIDECARS, ids=[p.stem for p in SIDECARS])
async def test_auto_format_whole_body(path: Path) -> None:
    case = _sidecar(path)
    reply = await _read(case, named=False)
    assert _compare(reply, case) == [], case.get("note")
    if case["format"] != "json":
        assert reply.format == case["format"]


def test_every_recording_is_read() -> None:
    assert len(SIDECARS) >= 27

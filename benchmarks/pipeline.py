"""End to end: a consumer's CPU per streamed answer, nbstream against httpx-sse, openai and the floor.

Issue 16's benchmark. A loopback server (its own process) streams 50,000 events of one wire
format as fast as the socket takes them, in writes of 20 events (a fast server; the kernel
coalesces them anyway). Each consumer runs in a fresh process, connects, reads the whole answer
and reports the CPU time (``time.process_time()``) of the reading alone (imports and client set-up
left out) and the answer's length, so that every consumer is checked to produce the same text.

Consumers:
- floor: httpx ``aiter_bytes()``, split on blank lines, ``json.loads`` each ``data:`` payload and
  pick the text field: the work no SSE consumer can avoid;
- httpx-sse: ``aconnect_sse`` + ``aiter_sse()`` + ``json.loads`` + the text field;
- nbstream: ``nbstream.astream(...)`` to the end (deltas, reply, usage: everything);
- openai: the official ``AsyncOpenAI`` client's stream (chat completions and Responses).

The consumers take turns run by run (A B C D, B C D A, …) and each ratio is taken within a round,
so a drift of the machine's speed cancels; medians are printed. Run:
``python benchmarks/pipeline.py`` (about two minutes; ``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WORDS = [" The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]


# -- the streams -------------------------------------------------------------------------------


def openai_chat(n: int) -> list[bytes]:
    """``n`` chat-completion chunks as OpenAI sends them, then usage and ``[DONE]``."""
    out = []
    for i in range(n):
        chunk = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1733000000,
            "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_bench",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": WORDS[i % len(WORDS)]},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        }
        out.append(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")
    last = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1733000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": n, "total_tokens": n + 9},
    }
    out.append(b"data: " + json.dumps(last, separators=(",", ":")).encode() + b"\n\n")
    out.append(b"data: [DONE]\n\n")
    return out


def _event(name: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps({"type": name, **data}, separators=(",", ":"))
    return f"event: {name}\ndata: {payload}\n\n".encode()


def responses(n: int) -> list[bytes]:
    """``n`` ``response.output_text.delta`` events between the Responses API's frame events."""
    rid = "resp_bench"
    out = [
        _event("response.created", {"response": {"id": rid, "status": "in_progress"}}),
        _event(
            "response.output_item.added",
            {"output_index": 0, "item": {"id": "msg_1", "type": "message", "role": "assistant"}},
        ),
    ]
    for i in range(n):
        out.append(
            _event(
                "response.output_text.delta",
                {
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": WORDS[i % len(WORDS)],
                    "sequence_number": i + 3,
                },
            )
        )
    out.append(
        _event(
            "response.completed",
            {
                "response": {
                    "id": rid,
                    "status": "completed",
                    "usage": {"input_tokens": 9, "output_tokens": n, "total_tokens": n + 9},
                }
            },
        )
    )
    return out


def anthropic(n: int) -> list[bytes]:
    """``n`` ``content_block_delta`` text events of an Anthropic Messages stream."""
    out = [
        _event(
            "message_start",
            {
                "message": {
                    "id": "msg_bench",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5",
                    "content": [],
                    "usage": {"input_tokens": 9, "output_tokens": 1},
                }
            },
        ),
        _event(
            "content_block_start",
            {"index": 0, "content_block": {"type": "text", "text": ""}},
        ),
    ]
    for i in range(n):
        out.append(
            _event(
                "content_block_delta",
                {"index": 0, "delta": {"type": "text_delta", "text": WORDS[i % len(WORDS)]}},
            )
        )
    out += [
        _event("content_block_stop", {"index": 0}),
        _event(
            "message_delta",
            {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": n}},
        ),
        _event("message_stop", {}),
    ]
    return out


STREAMS: dict[str, tuple[str, Callable[[int], list[bytes]]]] = {
    "openai-chat": ("/v1/chat/completions", openai_chat),
    "openai-responses": ("/v1/responses", responses),
    "anthropic": ("/v1/messages", anthropic),
}


# -- the server (its own process) ---------------------------------------------------------------


async def serve(n: int, port_file: Path) -> None:
    """Serve every stream on a loopback port, chunked, 20 events per write."""
    bodies = {path: make(n) for path, make in STREAMS.values()}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                await reader.readexactly(length)
                events = bodies[path]
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    b"transfer-encoding: chunked\r\ncache-control: no-cache\r\n\r\n"
                )
                for i in range(0, len(events), 20):
                    data = b"".join(events[i : i + 20])
                    writer.write(b"%x\r\n%s\r\n" % (len(data), data))
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    port_file.write_text(str(port))  # noqa: ASYNC240 - once, before serving
    async with server:
        await server.serve_forever()


# -- the consumers (each in a fresh process) ----------------------------------------------------


def _text_of(fmt: str, obj: dict[str, Any]) -> str:
    if fmt == "openai-chat":
        choices = obj.get("choices") or [{}]
        return (choices[0].get("delta") or {}).get("content") or ""
    if fmt == "openai-responses":
        return obj.get("delta", "") if obj.get("type") == "response.output_text.delta" else ""
    delta = obj.get("delta") or {}
    return delta.get("text", "") if obj.get("type") == "content_block_delta" else ""


BODY = {"model": "gpt-4o-mini", "stream": True, "max_tokens": 100}


async def consume(name: str, fmt: str, base: str) -> tuple[float, int]:
    """Read one whole answer; return the reading's CPU seconds and the text's length."""
    import httpx

    path = STREAMS[fmt][0]
    url = base + path
    body = {**BODY, "messages": [{"role": "user", "content": "hi"}]}
    parts: list[str] = []
    if name == "floor":
        async with httpx.AsyncClient(timeout=None) as client:
            cpu = time.process_time()
            async with client.stream("POST", url, json=body) as response:
                buffer = b""
                async for chunk in response.aiter_bytes():
                    buffer += chunk
                    *events, buffer = buffer.split(b"\n\n")
                    for event in events:
                        for line in event.split(b"\n"):
                            if line.startswith(b"data: ") and line != b"data: [DONE]":
                                parts.append(_text_of(fmt, json.loads(line[6:])))
            return time.process_time() - cpu, len("".join(parts))
    if name == "httpx-sse":
        from httpx_sse import aconnect_sse

        async with httpx.AsyncClient(timeout=None) as client:
            cpu = time.process_time()
            async with aconnect_sse(client, "POST", url, json=body) as source:
                async for sse in source.aiter_sse():
                    if sse.data != "[DONE]":
                        parts.append(_text_of(fmt, json.loads(sse.data)))
            return time.process_time() - cpu, len("".join(parts))
    if name == "nbstream":
        import nbstream

        api = {"openai-chat": "openai-chat", "openai-responses": "openai-responses"}.get(
            fmt, "anthropic"
        )
        astream = nbstream.astream  # the first look-up imports the engine (PEP 562): set-up
        async with httpx.AsyncClient(timeout=None) as client:
            cpu = time.process_time()
            stream = astream("hi", model="m", base_url=base, api=api, client=client)
            async with stream:
                async for _ in stream:
                    pass
            reply = stream.reply
            used = time.process_time() - cpu
            if reply.status != "finished":
                raise RuntimeError(f"nbstream: {reply.status}: {reply.error}")
            return used, len(reply.text)
    if name == "openai":
        import openai

        client = openai.AsyncOpenAI(base_url=base + "/v1", api_key="bench", max_retries=0)
        cpu = time.process_time()
        if fmt == "openai-chat":
            stream = await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
        else:
            events = await client.responses.create(model="m", input="hi", stream=True)
            async for event in events:
                if event.type == "response.output_text.delta":
                    parts.append(event.delta)
        used = time.process_time() - cpu
        await client.close()
        return used, len("".join(parts))
    raise ValueError(name)


# -- the driver ---------------------------------------------------------------------------------


def run_one(name: str, fmt: str, base: str) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, __file__, "--consume", name, "--format", fmt, "--url", base],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"{name} on {fmt} failed:\n{out.stderr[-2000:]}")
    cpu, length = out.stdout.split()
    return float(cpu), int(length)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k events, 3 rounds")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--consume")
    parser.add_argument("--format")
    parser.add_argument("--url")
    parser.add_argument("--serve")
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.events, Path(args.serve)))
        return
    if args.consume:
        cpu, length = asyncio.run(consume(args.consume, args.format, args.url))
        print(cpu, length)
        return
    events = 10_000 if args.quick else args.events
    rounds = 3 if args.quick else args.rounds
    port_file = Path(f"/tmp/nbstream-bench-{os.getpid()}.port")
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port_file), "--events", str(events)]
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port_file.read_text()}"
        print(
            f"{events:,} events per stream, {rounds} rounds, consumer CPU seconds (median) and "
            "ratios within each round (median)\n"
        )
        print(
            "| format | floor s | httpx-sse s | nbstream s | openai s | nbstream / floor "
            "| httpx-sse / floor | openai / nbstream |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for fmt in STREAMS:
            names = ["floor", "httpx-sse", "nbstream"] + (["openai"] if fmt != "anthropic" else [])
            cpu: dict[str, list[float]] = {n: [] for n in names}
            lengths: dict[str, set[int]] = {n: set() for n in names}
            for r in range(rounds):
                order = names[r % len(names) :] + names[: r % len(names)]
                for name in order:
                    used, length = run_one(name, fmt, base)
                    cpu[name].append(used)
                    lengths[name].add(length)
            if len(set().union(*lengths.values())) != 1:
                raise RuntimeError(f"consumers disagree on the text's length: {lengths}")

            def ratio(a: str, b: str, cpu: dict[str, list[float]] = cpu) -> str:
                if a not in cpu or b not in cpu:
                    return "n/a"
                return (
                    f"{statistics.median(x / y for x, y in zip(cpu[a], cpu[b], strict=True)):.2f}x"
                )

            med = {n: statistics.median(v) for n, v in cpu.items()}
            print(
                f"| {fmt} | {med['floor']:.3f} | {med['httpx-sse']:.3f} | {med['nbstream']:.3f} "
                f"| {med.get('openai', float('nan')):.3f} | {ratio('nbstream', 'floor')} "
                f"| {ratio('httpx-sse', 'floor')} | {ratio('openai', 'nbstream')} |",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait()
        port_file.unlink(missing_ok=True)


if __name__ == "__main__":
    main()

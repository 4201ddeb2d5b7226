"""The ``nbstream`` command: ``nbstream serve`` (the embedded backend) and ``nbstream demo``.

``nbstream demo`` is the README's first command: it starts the backend in this process, streams
an answer to the terminal word by word through :func:`nbstream.astream`, and prints the timings.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from typing import TextIO

__all__ = ["main"]

_HOW_TO = """\
nbstream demo backend (deterministic answers, not a language model) on {url}

  OpenAI clients:   base_url="{url}/v1", api_key="anything"
  %%chat:           %config ChatMagics.base_url = "{url}/v1"
                    (or NBSTREAM_BASE_URL={url}/v1 in the environment before starting Jupyter)
  try it:           curl -N {url}/v1/chat/completions -H 'content-type: application/json' \\
                      -d '{{"model": "demo:tps=20", "stream": true, "messages": [{{"role": "user", "content": "hi"}}]}}'

Models: demo, echo, lorem, hostile. Pacing and faults follow the model name: demo:tps=20,fault=stall
Press Ctrl+C to stop."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nbstream", description="Streaming LLM answers in Jupyter."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the offline demo backend (not a language model)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: loopback only)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="port to bind, 0 for any free one (default: 8000)"
    )
    demo = commands.add_parser(
        "demo", help="stream an answer from the demo backend to this terminal"
    )
    demo.add_argument("prompt", nargs="?", default="Show me what a streamed answer can contain.")
    demo.add_argument(
        "--model", default="demo:tps=30", help="model and options (default: demo:tps=30)"
    )
    return parser


def serve(host: str, port: int, out: TextIO = sys.stdout) -> int:
    """Run the backend in the foreground until interrupted.

    Args:
        host: Address to bind.
        port: Port to bind (``0``: any free one).
        out: Where to print the URL and instructions.

    Returns:
        The exit status: 1 when the port could not be bound.
    """
    from ..server import ServerThread, create_app

    try:
        server = ServerThread(create_app(), host=host, port=port, log_level="info")
    except OSError as exc:
        print(
            f"nbstream serve: cannot listen on {host}:{port} ({exc.strerror}); try --port 0",
            file=sys.stderr,
        )
        return 1
    try:
        server.start()
        print(_HOW_TO.format(url=server.url), file=out, flush=True)
        while server.running:
            time.sleep(0.2)
    except KeyboardInterrupt:
        print("stopped", file=out)
    finally:
        server.stop()
    return 0


async def demo(prompt: str, model: str, out: TextIO = sys.stdout) -> int:
    """Stream one answer from an in-process backend to ``out``, then print its timings.

    Args:
        prompt: The user message.
        model: The model name, options included (``demo:tps=30``).
        out: Where to write.

    Returns:
        The exit status: 0 when the answer finished.
    """
    from .._engine.engine import astream
    from ..server import start

    with start() as server:
        print(
            f"[demo backend on {server.url}: deterministic answers, not a language model]\n",
            file=out,
        )
        stream = astream(
            [{"role": "user", "content": prompt}], model=model, base_url=server.openai_base_url
        )
        async for delta in stream:
            if delta.kind == "text":
                out.write(delta.text)
                out.flush()
        reply = stream.reply
    ttft = f"{reply.ttft:.3f} s" if reply.ttft is not None else "-"
    rate = f"{reply.tokens_per_s:.1f} tokens/s" if reply.tokens_per_s is not None else "-"
    print(
        f"\n\n[{reply.status}: first token after {ttft}, {reply.output_tokens} tokens "
        f"in {reply.duration:.2f} s, {rate}]",
        file=out,
    )
    return 0 if reply.status == "finished" else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nbstream`` command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args.host, args.port)
    try:
        return asyncio.run(demo(args.prompt, args.model))
    except KeyboardInterrupt:
        return 130

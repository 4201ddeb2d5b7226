"""The ``nbstream`` command: ``serve`` (the embedded backend), ``demo`` and ``record``.

``nbstream demo`` is the README's first command: it starts the backend in this process, streams
an answer to the terminal word by word through :func:`nbstream.astream`, and prints the timings.

``nbstream record URL PROMPT -m MODEL`` records one exchange with any server as a cassette,
printing the answer as it streams; ``nbstream serve --replay DIR`` answers every request from
the cassettes in ``DIR``, with their rhythm, to any client.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .._core.cassette import DEFAULT_DIRECTORY, CassetteSettings, parse_speed
from .._core.errors import NbstreamError

if TYPE_CHECKING:
    import httpx

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

_HOW_TO_REPLAY = """\
nbstream replay server on {url}: answers from the {n} cassettes in {dir}, with their rhythm

  OpenAI clients:   base_url="{url}/v1", api_key="anything"
  %%chat:           %config ChatMagics.base_url = "{url}/v1"
A request with no cassette gets a 404 naming the file it looked for. Press Ctrl+C to stop."""


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
    serve.add_argument(
        "--replay",
        metavar="DIR",
        help="answer every POST from the cassette recorded for it in DIR (any client, any path)",
    )
    serve.add_argument(
        "--speed", default="1", help="replay pace: 1 as recorded (default), 2, instant"
    )
    record = commands.add_parser(
        "record", help="ask a server once and save the exchange as a cassette"
    )
    record.add_argument("url", help="the server's base URL, e.g. http://127.0.0.1:8080/v1")
    record.add_argument("prompt", help="the user message")
    record.add_argument("-m", "--model", default="", help="the model to ask for")
    record.add_argument(
        "--api",
        default="openai-chat",
        help="openai-chat (default), openai-responses, anthropic, ollama",
    )
    record.add_argument("--system", help="a system prompt")
    record.add_argument(
        "--key-env",
        metavar="NAME",
        help="the environment variable holding the key for URL (never written to the cassette)",
    )
    record.add_argument(
        "--dir", default=DEFAULT_DIRECTORY, help="the cassettes' folder (default: cassettes)"
    )
    record.add_argument("--name", default="", help="put before the cassette's file name")
    record.add_argument("--no-stream", action="store_true", help="ask for the whole answer")
    demo = commands.add_parser(
        "demo", help="stream an answer from the demo backend to this terminal"
    )
    demo.add_argument("prompt", nargs="?", default="Show me what a streamed answer can contain.")
    demo.add_argument(
        "--model", default="demo:tps=30", help="model and options (default: demo:tps=30)"
    )
    return parser


def serve(
    host: str,
    port: int,
    out: TextIO = sys.stdout,
    *,
    replay: str | None = None,
    speed: float = 1.0,
) -> int:
    """Run the backend in the foreground until interrupted.

    Args:
        host: Address to bind.
        port: Port to bind (``0``: any free one).
        out: Where to print the URL and instructions.
        replay: A folder of cassettes to answer from instead of the demo models.
        speed: The replay pace.

    Returns:
        The exit status: 1 when the port could not be bound or the folder does not exist.
    """
    from ..server import ServerThread, create_app

    if replay is not None and not Path(replay).is_dir():
        print(f"nbstream serve: no folder {replay} to replay from", file=sys.stderr)
        return 1
    try:
        app = create_app(replay=replay, speed=speed)
        server = ServerThread(app, host=host, port=port, log_level="info")
    except OSError as exc:
        print(
            f"nbstream serve: cannot listen on {host}:{port} ({exc.strerror}); try --port 0",
            file=sys.stderr,
        )
        return 1
    try:
        server.start()
        how_to = _HOW_TO if replay is None else _HOW_TO_REPLAY
        count = len(list(Path(replay).glob("*.json"))) if replay is not None else 0
        print(how_to.format(url=server.url, dir=replay, n=count), file=out, flush=True)
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


async def record(
    url: str,
    prompt: str,
    *,
    model: str = "",
    api: str = "openai-chat",
    system: str | None = None,
    key_env: str | None = None,
    directory: str = DEFAULT_DIRECTORY,
    name: str = "",
    stream: bool = True,
    out: TextIO = sys.stdout,
) -> int:
    """Ask ``url`` once, print the answer as it streams, and save the exchange as a cassette.

    Args:
        url: The server's base URL.
        prompt: The user message.
        model: The model.
        api: The API family.
        system: A system prompt.
        key_env: The environment variable holding the key (bound to ``url``'s origin).
        directory: The cassettes' folder.
        name: Put before the file name.
        stream: Ask for a stream.
        out: Where to write.

    Returns:
        The exit status: 0 when the cassette was written (whatever the answer's status: a
        recorded failure is a cassette too).
    """
    import httpx

    from .._engine.engine import astream
    from .._engine.settings import Settings, env_layer, merge
    from .._http.cassette import CassetteTransport

    cassettes = CassetteSettings(mode="record", directory=directory, prefix=name)
    try:
        call = Settings.layer(base_url=url, model=model or None, api_key_env=key_env)
        settings = merge(env_layer(), call).resolve()
    except NbstreamError as exc:
        print(f"nbstream record: {exc}", file=sys.stderr)
        return 2
    for notice in settings.notices:
        print(f"[{notice}]", file=sys.stderr)
    recorders: list[CassetteTransport] = []

    def wrap(network: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        recorders.append(CassetteTransport(cassettes, network, secrets=[settings.api_key]))
        return recorders[-1]

    messages = [{"role": "user", "content": prompt}]
    if system:
        messages.insert(0, {"role": "system", "content": system})
    try:
        answer = astream(
            messages,
            model=settings.model,
            base_url=settings.base_url,
            api=api,
            api_key=settings.api_key,
            stream=stream,
            wrap_transport=wrap,
        )
    except NbstreamError as exc:
        print(f"nbstream record: {exc}", file=sys.stderr)
        return 2
    try:
        async for delta in answer:
            if delta.kind == "text":
                out.write(delta.text)
                out.flush()
    except (NbstreamError, httpx.HTTPError):
        pass  # the reply records the failure, described, and the failure is recorded too
    reply = answer.reply
    print(f"\n\n[{reply.status}{': ' + reply.error if reply.error else ''}]", file=out)
    events = [e for r in recorders for e in r.events]
    for event in events:
        print(f"[{event}]", file=out)
    return 0 if any(r.saved for r in recorders) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nbstream`` command line.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        try:
            speed = parse_speed(args.speed)
        except NbstreamError as exc:
            parser.error(str(exc))
        return serve(args.host, args.port, replay=args.replay, speed=speed)
    if args.command == "record":
        work = record(
            args.url,
            args.prompt,
            model=args.model,
            api=args.api,
            system=args.system,
            key_env=args.key_env,
            directory=args.dir,
            name=args.name,
            stream=not args.no_stream,
        )
    else:
        work = demo(args.prompt, args.model)
    try:
        return asyncio.run(work)
    except KeyboardInterrupt:
        return 130

"""Run one ``%%chat`` cell: options → settings → prompt → conversation → stream → turn.

:func:`run_cell` is what a rewritten ``%%chat`` cell awaits (see :mod:`.transform`).
:func:`run_cell_magic` serves callers of ``run_cell_magic("chat", …)``, which cannot await:
without a running loop (terminal IPython with autoawait off, a script) it runs the chat to its
end with :func:`asyncio.run`; inside a running loop (a kernel) it never nests a loop — it starts
the chat in the background and returns its :class:`~nbstream._chat.chat.ChatHandle`
(``await nbstream.wait()`` collects it).
"""

from __future__ import annotations

import asyncio
import collections
import re
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from .._chat.chat import ChatHandle
from .._chat.ipython import Markdown, display
from .._chat.run import Job, dry_run_request, open_stream, run_job
from .._core.conversation import Conversation, Turn
from .._core.errors import NbstreamError
from .._core.interpolate import placeholders
from .._core.reply import Reply
from .._core.secrets import redact
from .._engine.context import with_context
from .._engine.settings import Settings, check_no_key, env_layer, merge
from .._view.shell import BACKGROUND, shell_kind
from .args import CellOptions, parse_cell_line
from .commands import put_code_below

if TYPE_CHECKING:
    from .magics import ChatMagics

__all__ = ["Plan", "active", "plan", "run_cell", "run_cell_magic"]

#: The loaded :class:`~nbstream._magic.magics.ChatMagics` (set by ``%load_ext nbstream``).
active: ChatMagics | None = None


@dataclass
class Plan:
    """Everything one cell will do, decided before anything is sent (or started)."""

    options: CellOptions
    settings: Settings
    prompt: str
    job: Job
    conversation: Conversation
    key: str | None


def _magics() -> ChatMagics:
    if active is None:
        raise UsageError("the nbstream extension is not loaded: run %load_ext nbstream")
    return active


def plan(magics: ChatMagics, line: str, body: str) -> Plan:
    """Parse and resolve a ``%%chat`` cell without sending or starting anything.

    Args:
        magics: The loaded magics (session settings, conversations, the current cell id).
        line: The text after ``%%chat``.
        body: The cell's body: the prompt.

    Returns:
        The plan.

    Raises:
        UsageError: A bad option, a key on the line, an undefined ``{{name}}``, an empty
            prompt, no model for a configured endpoint (one line each).
    """
    try:
        check_no_key(line)
        options, cell = parse_cell_line(line)
        settings = merge(env_layer(), magics.layer(), cell).resolve()
        ns = magics.shell.user_ns if magics.shell is not None else {}
        text = body.strip()
        if not text:
            raise UsageError("the %%chat cell is empty: write the prompt below the %%chat line")
        if options.error:
            text += "\n\nThe last error:\n{{_error}}"
        ns = _with_last_error(ns, text, settings.system or "")
        asked = [{"role": "system", "content": settings.system}] if settings.system else []
        asked, context = with_context(
            [*asked, {"role": "user", "content": text}], ns, settings.context_budget
        )
    except NbstreamError as exc:
        raise UsageError(str(exc)) from None
    system = str(asked[0]["content"]) if settings.system else None
    content = asked[-1]["content"]
    prompt = content if isinstance(content, str) else _text_of(content)
    if not settings.model and settings.api != "custom":  # a home-made server may take none
        raise UsageError(
            f"no model for {settings.base_url}: pass -m NAME or run %chat config model=NAME "
            "(%chat models lists them)"
        )
    settings = replace(settings, system=system)  # what the messages say
    conversation = magics.chats.get(options.chat)
    key = magics.cell_id
    # --new forgets the conversation only when the request is really sent (see execute), so a
    # --dry-run changes nothing.
    if options.no_history or options.new:
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
    else:
        messages = conversation.messages(prompt, key=key, system=system)
    messages[-1]["content"] = content  # with its images, if any
    job = Job(messages, settings, wire=options.wire, context=context)
    return Plan(options, settings, prompt, job, conversation, key)


def _with_last_error(ns: Any, *texts: str) -> Any:
    """The namespace with ``_error``, the session's last exception, when a prompt asks for it.

    IPython keeps the last exception shown in ``sys.last_value`` (``InteractiveShell.
    _get_exc_info``), as the plain interpreter does; ``_error`` defined by the user wins.
    """
    if "_error" in ns or not any("_error" in placeholders(t) for t in texts):
        return ns
    last = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    if last is None:
        raise UsageError("no error to send: no cell has raised an exception in this session")
    return collections.ChainMap({"_error": last}, ns)


def _text_of(content: list[dict[str, Any]]) -> str:
    """The text a turn records for a prompt with images: its text, each image marked."""
    return "".join(
        str(p.get("text", "")) if p.get("type") == "text" else "[image]" for p in content
    )


def dry_run(p: Plan) -> Any:
    """What ``--dry-run`` shows: the exact request, the key masked; nothing sent or started."""
    try:
        request = dry_run_request(p.job)
    except NbstreamError as exc:
        raise UsageError(str(exc)) from None
    secrets = [p.settings.api_key]
    text = _short_images(redact(str(request), secrets))
    curl = _short_images(redact(request.as_curl(), secrets))
    notes = "".join(f"\n\n*{n}*" for n in p.job.notices)
    if p.settings.embedded:
        notes += (
            "\n\n*the embedded demo backend starts when a request is sent: its address is "
            "not known yet*"
        )
    return Markdown(
        f"**dry run** — nothing was sent ({p.job.provenance})\n\n{_fenced(text, 'http')}\n\n"
        f"{_fenced(curl, 'sh')}{notes}"
    )


# Base64 runs this long are image data: a figure is tens of kilobytes of it.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{200,}={0,2}")


def _short_images(text: str) -> str:
    """``text`` with image data shortened for display: its start and its size are kept."""
    return _BASE64_RUN.sub(
        lambda m: f"{m.group(0)[:24]}…[{len(m.group(0)) * 3 // 4:,} bytes of image data]", text
    )


def _fenced(text: str, info: str) -> str:
    # A fence longer than any backtick run inside, so a prompt holding ``` cannot close it early.
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


async def execute(p: Plan, *, show: bool = True) -> Reply:
    """Send the request, stream the answer, record the turn, store ``-o``.

    A cancelled turn is recorded with its partial text before the CancelledError propagates.
    """
    magics = _magics()
    try:
        stream = open_stream(p.job)
    except NbstreamError as exc:  # a setting the engine refuses, before anything is sent
        raise UsageError(str(exc)) from None
    if p.options.new:
        p.conversation.clear()
    try:
        reply = await run_job(p.job, show=show, stream=stream)
    except asyncio.CancelledError:
        _record(p, stream.reply, cancelled=True)
        raise
    _record(p, reply)
    magics.last_reply = reply
    if p.options.out and magics.shell is not None:
        magics.shell.user_ns[p.options.out] = reply
    # Not from a background chat: its cell has ended, the cell would land below the next one.
    if p.options.code and reply.code_blocks and not BACKGROUND.get():
        display(put_code_below(reply, len(reply.code_blocks), show_code=False))
    return reply


def _record(p: Plan, reply: Reply, *, cancelled: bool = False) -> None:
    if p.options.no_history:
        return
    p.conversation.record(
        Turn(
            p.prompt,
            reply.text,
            status="cancelled" if cancelled else reply.status,
            key=p.key,
            model=reply.model or p.settings.model,
            error=reply.error,
        )
    )


def _publisher(shell: str) -> Any:
    from .._chat.run import publish_reply

    return publish_reply if shell == "kernel" else None


def start_background(p: Plan) -> ChatHandle:
    """Start the chat as a background task; its view shows in this cell while it streams."""
    return ChatHandle(execute(p), publish=_publisher(shell_kind()), name=p.prompt[:40])


async def run_cell(line: str, body: str) -> None:
    """Run a ``%%chat`` cell (what the rewritten cell awaits).

    Args:
        line: The text after ``%%chat``.
        body: The prompt.

    Raises:
        UsageError: A mistake in the cell (one line, no traceback).
        asyncio.CancelledError: Interrupted; the queued cells do not run.
    """
    magics = _magics()
    p = plan(magics, line, body)
    if p.options.dry_run:
        display(dry_run(p))
        return
    if p.options.bg:
        handle = start_background(p)
        print(f"streaming in the background; `await nbstream.wait()` collects it ({handle.name!r})")
        return
    await execute(p)


def run_cell_magic(magics: ChatMagics, line: str, body: str) -> Any:
    """Serve ``run_cell_magic("chat", line, body)``, which cannot await.

    Returns:
        ``None`` after the chat when no loop runs; a :class:`~nbstream._chat.chat.ChatHandle` of a
        background chat when a loop is running (a kernel): nesting the loop would drop the
        kernel's messages (FACTS.md), so it is never done on this path.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_cell(line, body))
        return None
    p = plan(magics, line, body)
    if p.options.dry_run:
        return dry_run(p)
    handle = start_background(p)
    print(
        "run_cell_magic cannot wait in a running loop: streaming in the background; "
        "`await nbstream.wait()` collects it"
    )
    return handle

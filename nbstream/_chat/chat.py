"""``nbstream.chat`` (await it), ``chat_sync`` (for synchronous code), and background chats.

::

    reply = await nbstream.chat("Explain SSE in one paragraph", model="gpt-4o-mini")
    reply = nbstream.chat_sync("Same, from a script")

With nothing configured, the embedded demo backend answers and the view says so. A failed
request does not raise: the reply's ``status`` is ``"failed"`` and ``reply.raise_for_status()``
raises the error. An Interrupt (■) raises :class:`asyncio.CancelledError`.

Background chats (``%%chat --bg``) return a :class:`ChatHandle` at once. Output streamed by a
background task is not saved by headless runs (nbclient keeps only what the running cell
publishes), so ``await handle`` or ``await nbstream.wait()`` re-publishes each final answer from
the awaiting cell.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
from collections.abc import Callable, Coroutine, Generator, Sequence
from typing import TYPE_CHECKING, Any, Unpack

from .._core.context import ContextItem
from .._core.conversation import Message
from .._core.reply import Reply
from .._core.values import public
from .._engine.context import apply_context
from .._engine.settings import ChatOptions, Settings, env_layer, merge, takes_options
from .._providers.request import as_messages
from .._view.shell import BACKGROUND, shell_kind
from .sync import run_sync

if TYPE_CHECKING:
    import httpx

__all__ = ["ChatHandle", "chat", "chat_sync", "wait"]

_pending: list[ChatHandle] = []


class ChatHandle:
    """A chat streaming in the background; await it for its :class:`~nbstream.Reply`.

    Args:
        coro: The chat's coroutine; it starts at once as a task.
        publish: Shows the final answer in the cell that awaits the handle.
        name: What the chat asked, for the repr.
    """

    def __init__(
        self,
        coro: Coroutine[Any, Any, Reply],
        *,
        publish: Callable[[Reply], None] | None = None,
        name: str = "",
    ) -> None:
        # Its view streams after the cell returned: no Insert buttons (a cell "below" would land
        # under whatever cell runs next).
        context = contextvars.copy_context()
        context.run(BACKGROUND.set, True)
        self.task: asyncio.Task[Reply] = asyncio.get_running_loop().create_task(
            coro, context=context
        )
        self._publish = publish
        self.name = name
        _pending.append(self)

    def __repr__(self) -> str:
        state = "done" if self.task.done() else "streaming"
        return f"<ChatHandle {self.name!r} {state}>"

    def done(self) -> bool:
        """``True`` once the chat has ended."""
        return self.task.done()

    def cancel(self) -> None:
        """Cancel the chat (as the Cancel button does); the partial answer stays."""
        self.task.cancel()

    async def result(self, *, publish: bool = True) -> Reply:
        """Wait for the reply and, by default, show it again in the awaiting cell.

        Interrupting the wait does not cancel the chat itself (it is shielded).

        Args:
            publish: Re-publish the final answer from the awaiting cell.

        Returns:
            The reply.
        """
        try:
            reply = await asyncio.shield(self.task)
        finally:
            if self.task.done() and self in _pending:
                _pending.remove(self)
        if publish and self._publish is not None:
            self._publish(reply)
        return reply

    def __await__(self) -> Generator[Any, None, Reply]:
        return self.result().__await__()


@public
async def wait(*handles: ChatHandle) -> list[Reply]:
    """Wait for background chats and re-publish their answers from this cell.

    Args:
        handles: The chats to wait for (default: every background chat not yet awaited).

    Returns:
        Their replies, in the order they were started.
    """
    chosen = list(handles) if handles else list(_pending)
    return [await h.result() for h in chosen]


@public
@takes_options
async def chat(
    prompt_or_messages: str | Sequence[Message],
    *,
    display: bool | None = None,
    client: httpx.AsyncClient | None = None,
    **options: Unpack[ChatOptions],
) -> Reply:
    """Ask a model and return its reply, showing the answer as it streams.

    Options left out come from the environment (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``,
    ``NBSTREAM_MODEL`` …); with no server anywhere, the embedded demo backend answers (it starts
    then, not before).

    Args:
        prompt_or_messages: A prompt, or chat messages (``[{"role": …, "content": …}]``).
        display: Show the view. ``None``: in a kernel or terminal IPython, not in a script.
        client: An ``httpx.AsyncClient`` to reuse.
        **options: The chat's settings (below).

    Returns:
        The reply; check ``reply.status`` or call ``reply.raise_for_status()``.

    Raises:
        TypeError: A keyword that is not an option (body fields go in ``extra_body``).
        ConfigError: A setting is wrong (e.g. a bad ``NBSTREAM_`` variable), or ``record`` /
            ``replay`` with ``client``.
        InterpolationError: A ``{{name}}`` not in ``context``, or a name that looks like a
            secret.
        asyncio.CancelledError: Interrupted.
    """
    from .run import Job, run_job

    call = Settings.from_options(options, caller="chat")
    settings = merge(env_layer(), call).resolve()
    messages = as_messages(prompt_or_messages, settings.system)
    context: tuple[ContextItem, ...] = ()
    if settings.context:
        messages, context = apply_context(messages, settings.context, settings.context_budget)
        settings = dataclasses.replace(settings, context={})  # applied: not again by the engine
    job = Job(messages, settings, client=client, context=context)
    show = shell_kind() != "none" if display is None else display
    return await run_job(job, show=show)


@public
@takes_options
def chat_sync(
    prompt_or_messages: str | Sequence[Message],
    *,
    display: bool | None = None,
    client: httpx.AsyncClient | None = None,
    **options: Unpack[ChatOptions],
) -> Reply:
    """:func:`chat` for synchronous code: blocks until the reply has ended.

    Without a running event loop it uses :func:`asyncio.run`. Inside one (a notebook cell) it
    runs the chat in a nested loop with ``nest_asyncio2``, applied at that moment. The view's
    Cancel button cannot reach a blocking call (the click is handled after it returns); use
    Interrupt (■), or ``await nbstream.chat(…)`` to keep Cancel working.

    Args:
        prompt_or_messages: A prompt, or chat messages.
        display: As for :func:`chat`.
        client: As for :func:`chat`.
        **options: The chat's settings (below).

    Returns:
        The reply.

    Raises:
        TypeError: A keyword that is not an option (body fields go in ``extra_body``).
    """
    Settings.from_options(options, caller="chat_sync")  # a wrong keyword fails before any loop
    return run_sync(lambda: chat(prompt_or_messages, display=display, client=client, **options))

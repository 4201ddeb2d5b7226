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
from collections.abc import Callable, Coroutine, Generator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .._core.conversation import Message
from .._core.reply import Reply
from .._core.secrets import register_secret
from .._engine.settings import OPENAI_BASE_URL, Layer, env_layer, resolve
from .._providers.request import as_messages
from .sync import run_sync

if TYPE_CHECKING:
    import httpx

    from .._http.transport import Timeouts

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
        self.task: asyncio.Task[Reply] = asyncio.get_running_loop().create_task(coro)
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


async def wait(*handles: ChatHandle) -> list[Reply]:
    """Wait for background chats and re-publish their answers from this cell.

    Args:
        handles: The chats to wait for (default: every background chat not yet awaited).

    Returns:
        Their replies, in the order they were started.
    """
    chosen = list(handles) if handles else list(_pending)
    return [await h.result() for h in chosen]


async def chat(
    prompt_or_messages: str | Sequence[Message],
    *,
    display: bool | None = None,
    model: str | None = None,
    base_url: str | None = None,
    api: str | None = None,
    format: str | None = None,
    api_key: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    stream: bool = True,
    timeouts: Timeouts | None = None,
    retries: int | None = None,
    client: httpx.AsyncClient | None = None,
    **params: Any,
) -> Reply:
    """Ask a model and return its reply, showing the answer as it streams.

    Unset arguments come from the environment (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``,
    ``NBSTREAM_MODEL`` …); with no endpoint anywhere, the embedded demo backend answers.

    Args:
        prompt_or_messages: A prompt, or chat messages (``[{"role": …, "content": …}]``).
        display: Show the view. ``None``: in a kernel or terminal IPython, not in a script.
        model: Model name.
        base_url: The server's base URL.
        api: API family (``"openai-chat"``, ``"openai-responses"``, ``"anthropic"`` …).
        format: Wire format override (default: detected).
        api_key: A key for ``base_url`` (prefer the environment: a key in a notebook is saved
            with it). Without ``base_url`` it goes to api.openai.com only.
        system: System prompt.
        temperature: Sampling temperature.
        max_tokens: Output token limit.
        stream: ``False`` asks for the whole answer at once.
        timeouts: Engine timeouts.
        retries: How many times to send the request again when it fails before any byte of
            the answer (429, 502, 503, 504, a connection closed; default 2, ``0``: never).
        client: An ``httpx.AsyncClient`` to reuse.
        **params: Extra request body fields.

    Returns:
        The reply; check ``reply.status`` or call ``reply.raise_for_status()``.

    Raises:
        ConfigError: A setting is wrong (e.g. a bad ``NBSTREAM_`` variable).
        asyncio.CancelledError: Interrupted.
    """
    from .run import Job, run_job, shell_kind

    call = Layer(
        source="call",
        base_url=base_url,
        model=model,
        api=api,
        format=format,
        system=system,
        temperature=temperature,
        max_tokens=max_tokens,
    )
    settings = resolve(env_layer(), call)
    if api_key:
        register_secret(api_key)
        settings = replace(settings, api_key=api_key, key_env=None)
        if settings.embedded:  # an explicit key never goes to the demo backend
            settings = replace(settings, base_url=OPENAI_BASE_URL, embedded=False)
    job = Job(
        as_messages(prompt_or_messages, settings.system),
        settings,
        stream=stream,
        params=params,
        timeouts=timeouts,
        retries=retries,
        client=client,
    )
    show = shell_kind() != "none" if display is None else display
    return await run_job(job, show=show)


def chat_sync(prompt_or_messages: str | Sequence[Message], **kwargs: Any) -> Reply:
    """:func:`chat` for synchronous code: blocks until the reply has ended.

    Without a running event loop it uses :func:`asyncio.run`. Inside one (a notebook cell) it
    runs the chat in a nested loop with ``nest_asyncio2``, applied at that moment. The view's
    Cancel button cannot reach a blocking call (the click is handled after it returns); use
    Interrupt (■), or ``await nbstream.chat(…)`` to keep Cancel working.

    Args:
        prompt_or_messages: A prompt, or chat messages.
        **kwargs: As for :func:`chat`.

    Returns:
        The reply.
    """
    return run_sync(lambda: chat(prompt_or_messages, **kwargs))

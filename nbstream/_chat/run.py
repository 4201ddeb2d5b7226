"""Run one chat: resolved settings → the engine's stream → the view (or nothing) → a Reply.

Shared by :func:`nbstream.chat` and the ``%%chat`` magic. What it adds around the engine and
the view:

- the embedded demo backend when no endpoint is configured, with a visible notice;
- the ticker that lets an Interrupt (■) cancel within ~100 ms (:mod:`nbstream._engine.ticker`);
- the cancel reason (``"interrupted"``) recorded on the stream before the CancelledError
  propagates;
- the raw frames for ``--wire``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from .._core.conversation import Message
from .._core.errors import ConfigError
from .._core.reply import Reply
from .._core.secrets import redact
from .._core.stream import DeltaStream
from .._engine.settings import Settings, host_of
from .._engine.ticker import ticker
from .._http.transport import Timeouts, describe_http_error
from .wire import WirePanel

__all__ = [
    "DEMO_NOTICE",
    "OLD_KERNEL_NOTICE",
    "Job",
    "cancel_reaches_awaiting_cell",
    "list_models",
    "open_stream",
    "run_job",
    "shell_kind",
]

DEMO_NOTICE = (
    "demo backend, not a language model — set OPENAI_API_KEY, or %chat config base_url=… model=…"
)

_CLOSE_S = 2.0

OLD_KERNEL_NOTICE = "on ipykernel < 7.4 Cancel acts only after the cell: use Interrupt (■)"

Shell = Literal["kernel", "terminal", "none"]


def cancel_reaches_awaiting_cell() -> bool:
    """Whether this kernel handles widget messages while a cell awaits (ipykernel >= 7.4).

    Measured (FACTS.md): on 6.x and 7.3 a click during a top-level ``await`` is handled only
    after the cell, except on 7.3 with JupyterLab >= 4.4 (subshells), which we cannot detect.
    """
    module = sys.modules.get("ipykernel")
    version = str(getattr(module, "__version__", "0"))
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        return True  # a development version: assume current behaviour
    return (major, minor) >= (7, 4)


def shell_kind() -> Shell:
    """Where we run: an IPython kernel, terminal IPython, or plain Python.

    IPython is only consulted when something already imported it, so a plain script never
    loads it.
    """
    if "IPython" not in sys.modules:
        return "none"
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return "none"
    return "kernel" if getattr(shell, "kernel", None) is not None else "terminal"


def endpoint_of(settings: Settings) -> tuple[str, tuple[str, ...]]:
    """The base URL to use and the notices to show (the demo backend's when it is the one)."""
    if settings.base_url:
        return settings.base_url, settings.notices
    from ..server import shared

    return shared().openai_base_url, (DEMO_NOTICE, *settings.notices)


@dataclass
class Job:
    """One request to run.

    Attributes:
        messages: The chat messages (system prompt included).
        settings: Endpoint, model and key.
        stream: Ask for a stream (``--no-stream`` sets ``False``).
        wire: Keep the raw frames with their arrival times.
        params: Extra request body fields.
        timeouts: Engine timeouts, if not the defaults.
        retries: How many times a request that failed before its answer began is sent again,
            if not the engine's default (2).
        client: An ``httpx.AsyncClient`` to reuse.
        frames: Filled with ``(arrival_s, bytes)`` when ``wire`` is on.
    """

    messages: list[Message]
    settings: Settings
    stream: bool = True
    wire: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    timeouts: Timeouts | None = None
    retries: int | None = None
    client: httpx.AsyncClient | None = None
    frames: list[tuple[float, bytes]] = field(default_factory=list)
    base_url: str = ""
    notices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.base_url, self.notices = endpoint_of(self.settings)
        if shell_kind() == "kernel" and not cancel_reaches_awaiting_cell():
            self.notices = (*self.notices, OLD_KERNEL_NOTICE)

    @property
    def provenance(self) -> str:
        """``model @ host``: what answered, never a key or a path."""
        return f"{self.settings.model or '?'} @ {host_of(self.base_url)}"


def request_kwargs(job: Job) -> dict[str, Any]:
    """The keyword arguments for the engine (unset options left to the engine's defaults)."""
    s = job.settings
    kwargs: dict[str, Any] = {
        "model": s.model,
        "base_url": job.base_url,
        "api_key": s.api_key,
        "stream": job.stream,
        **job.params,
    }
    for name in ("api", "format", "temperature", "max_tokens"):
        value = getattr(s, name)
        if value is not None:
            kwargs[name] = value
    if job.timeouts is not None:
        kwargs["timeouts"] = job.timeouts
    if job.retries is not None:
        kwargs["retries"] = job.retries
    if job.client is not None:
        kwargs["client"] = job.client
    return kwargs


def open_stream(job: Job) -> DeltaStream:
    """Start the request: the engine's :class:`~nbstream.DeltaStream` (nothing sent yet)."""
    from .._engine.engine import astream

    kwargs = request_kwargs(job)
    if job.wire:
        started = time.monotonic()

        def on_bytes(chunk: bytes, *_: Any) -> None:
            job.frames.append((time.monotonic() - started, chunk))

        kwargs["on_bytes"] = on_bytes
    return astream(job.messages, **kwargs)


async def _drain(stream: DeltaStream) -> Reply:
    async for _ in stream:
        pass
    return stream.reply


async def run_job(job: Job, *, show: bool, stream: DeltaStream | None = None) -> Reply:
    """Run ``job`` to its end and return the reply.

    Args:
        job: What to ask.
        show: Show the notebook view (or plain text in a terminal); else consume quietly.
        stream: The stream, when the caller opened it to keep a handle on the partial reply.

    Returns:
        The reply: ``"finished"``, ``"truncated"``, ``"failed"`` (error in ``reply.error``)
        or ``"cancelled"`` by the Cancel button.

    Raises:
        asyncio.CancelledError: An interrupt or an outer cancellation, after the final render.
    """
    if show:
        # Imported before the request starts: the first import of the view (ipywidgets,
        # markdown-it, nh3) took 1.2 s in a fresh kernel and was counted as time to first token.
        from .._view.view import show_stream
    stream = stream or open_stream(job)
    # In a kernel the frames show live beside the answer; elsewhere they are printed at the end.
    panel = WirePanel(job.frames, live=show and shell_kind() == "kernel") if job.wire else None
    if panel is not None:
        panel.open()
    try:
        if show:
            # The view runs its own ticker (it also flushes throttled frames): none added here.
            return await show_stream(stream, job)
        async with ticker():
            try:
                return await _drain(stream)
            except Exception:  # noqa: BLE001 - the reply records the failure, described
                return stream.reply
    except asyncio.CancelledError:
        stream.note_cancel("interrupted")
        raise
    finally:
        if panel is not None:
            panel.close()
        # Bounded and shielded: the view already closed it; a stuck close must not hold the cell.
        with contextlib.suppress(Exception):
            await asyncio.shield(asyncio.wait_for(stream.aclose(), _CLOSE_S))


def list_models(settings: Settings, *, timeout: float = 10.0) -> list[str]:
    """The ids the endpoint's ``GET /models`` lists (for ``%chat models``).

    Args:
        settings: Endpoint and key.
        timeout: Seconds for the request.

    Returns:
        The model ids, sorted.

    Raises:
        ConfigError: The request failed (message redacted, one line).
    """
    base_url, _ = endpoint_of(settings)
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
    try:
        r = httpx.get(base_url.rstrip("/") + "/models", headers=headers, timeout=timeout)
        r.raise_for_status()
        data = r.json().get("data", [])
        return sorted(str(m.get("id", "")) for m in data if isinstance(m, dict))
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        raise ConfigError(
            "could not list models: " + describe_http_error(exc, [settings.api_key])
        ) from None


def publish_reply(reply: Reply) -> None:
    """Show a finished reply again, from the cell that is running now.

    A background chat's view was published by the cell that started it; headless runs keep only
    what the running cell publishes, so ``await handle`` / ``await nbstream.wait()`` call this.
    The bundle is the view's final form: sanitized HTML (model output is untrusted) as
    ``text/markdown``, the exact text as ``text/plain``, provenance in the metadata.
    """
    from .._view.paint import provenance, status_line
    from .._view.render import Renderer
    from .ipython import display

    body = Renderer().render(reply.text) if reply.text else ""
    status = redact(status_line(reply))
    display(
        {"text/markdown": f"{body}\n\n<sub>{status}</sub>", "text/plain": redact(reply.text)},
        metadata={"nbstream": provenance(reply)},
        raw=True,
    )

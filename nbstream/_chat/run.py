"""Run one chat: resolved settings → the engine's stream → the view (or nothing) → a Reply.

Shared by :func:`nbstream.chat` and the ``%%chat`` magic. What it adds around the engine and
the view:

- the embedded demo backend when no endpoint is configured, with a visible notice: started
  when the request is sent, never when a job is built, so ``--dry-run`` starts nothing;
- the ticker that lets an Interrupt (■) cancel within ~100 ms (:mod:`nbstream._engine.ticker`);
- the cancel reason (``"interrupted"``) recorded on the stream before the CancelledError
  propagates;
- the raw frames for ``--wire``;
- cassettes (the ``record`` / ``replay`` options): the engine's transport wrapped in a
  :class:`~nbstream._http.cassette.CassetteTransport` when the stream opens, and a notice saying
  so.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._core.cassette import CassetteSettings
from .._core.context import ContextItem
from .._core.conversation import Message
from .._core.errors import ConfigError
from .._core.reply import Reply
from .._core.stream import DeltaStream
from .._core.urls import host_of
from .._engine.settings import Settings, merge
from .._engine.ticker import ticker
from .._http.cassette import CassetteTransport
from .._http.transport import describe_http_error
from .._providers.request import PreparedRequest
from .._view.shell import cancel_reaches_awaiting_cell, shell_kind
from .wire import WirePanel

__all__ = [
    "DEMO_NOTICE",
    "EMBEDDED_PLACEHOLDER",
    "OLD_KERNEL_NOTICE",
    "Job",
    "dry_run_request",
    "list_models",
    "notebook_name",
    "open_stream",
    "publish_reply",
    "run_job",
]

DEMO_NOTICE = (
    "demo backend, not a language model — set OPENAI_API_KEY, or %chat config base_url=… model=…"
)

# What a dry run shows for the embedded backend, which starts only when a request is sent (its
# port is not known before): a name that can never resolve (RFC 6761 reserves .invalid).
EMBEDDED_PLACEHOLDER = "http://embedded-demo-backend.invalid/v1"

_CLOSE_S = 2.0

OLD_KERNEL_NOTICE = "on ipykernel < 7.4 Cancel acts only after the cell: use Interrupt (■)"


@dataclass
class Job:
    """One request to run; building it starts and sends nothing.

    Attributes:
        messages: The chat messages (system prompt included).
        settings: The chat's resolved settings (:meth:`Settings.resolve`); no base URL means
            the embedded demo backend, started by :func:`open_stream`.
        wire: Keep the raw frames with their arrival times.
        client: An ``httpx.AsyncClient`` to reuse.
        frames: Filled with ``(arrival_s, bytes)`` when ``wire`` is on.
        context: What the prompt's values were (shown by the view, kept on the reply).
        recorder: The transport that recorded or replayed, once the stream opened (its
            ``events`` say which cassette).
    """

    messages: list[Message]
    settings: Settings
    wire: bool = False
    client: httpx.AsyncClient | None = None
    frames: list[tuple[float, bytes]] = field(default_factory=list)
    context: tuple[ContextItem, ...] = ()
    recorder: CassetteTransport | None = None

    @property
    def cassettes(self) -> CassetteSettings:
        """Record or replay (the settings' ``record`` / ``replay``), new files named for the notebook."""
        return self.settings.cassettes(prefix=notebook_name())

    @property
    def notices(self) -> tuple[str, ...]:
        """Lines to show with the answer: the demo backend's, a key left out, an old kernel,
        record or replay."""
        notices: tuple[str, ...] = (DEMO_NOTICE,) if self.settings.embedded else ()
        notices += self.settings.notices
        if shell_kind() == "kernel" and not cancel_reaches_awaiting_cell():
            notices += (OLD_KERNEL_NOTICE,)
        cassettes = self.cassettes
        if cassettes.mode != "off":
            notices += (cassettes.describe(),)
        return notices

    @property
    def provenance(self) -> str:
        """``model @ host``: what answers, never a key or a path."""
        where = (
            "the embedded demo backend"
            if self.settings.embedded
            else host_of(self.settings.base_url)
        )
        return f"{self.settings.model or '?'} @ {where}"


def _placeholder(settings: Settings) -> Settings:
    """The settings aimed at :data:`EMBEDDED_PLACEHOLDER`: no backend starts, nothing answers."""
    return merge(settings, Settings.layer(base_url=EMBEDDED_PLACEHOLDER))


def _embedded(settings: Settings) -> Settings:
    """The settings aimed at the embedded backend, which starts now if it is not running."""
    from ..server import shared

    return merge(settings, Settings.layer(base_url=shared().openai_base_url))


def open_stream(job: Job) -> DeltaStream:
    """Start the request: the engine's :class:`~nbstream.DeltaStream` (nothing sent yet).

    With no base URL configured, this is where the embedded demo backend starts; with
    ``record`` or ``replay`` on, the engine's transport is wrapped here. A pure replay never
    reaches the network and cassettes match requests whatever their host, so it starts no
    backend: the request goes to :data:`EMBEDDED_PLACEHOLDER`, which nothing answers.
    """
    from .._engine.engine import stream_for

    settings = job.settings
    if settings.embedded:
        replay = job.cassettes.mode == "replay"
        settings = _placeholder(settings) if replay else _embedded(settings)
    on_bytes = None
    if job.wire:
        started = time.monotonic()

        def on_bytes(chunk: bytes, *_: Any) -> None:
            job.frames.append((time.monotonic() - started, chunk))

    wrap = None
    cassettes = job.cassettes
    if cassettes.mode != "off":
        if job.client is not None:
            raise ConfigError("record / replay need nbstream's own client: leave client= out")

        def wrap(network: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
            job.recorder = CassetteTransport(cassettes, network, secrets=[settings.api_key])
            return job.recorder

    stream = stream_for(
        job.messages, settings, client=job.client, on_bytes=on_bytes, wrap_transport=wrap
    )
    if settings.base_url == EMBEDDED_PLACEHOLDER:
        stream.builder.endpoint = ""  # no server answers: the status line says "replaying"
    return stream


def notebook_name() -> str:
    """The running notebook's name without its suffix, when Jupyter told the kernel, else ``""``.

    jupyter_server starts each kernel with ``JPY_SESSION_NAME`` set to the notebook's path.
    """
    path = os.environ.get("JPY_SESSION_NAME", "")
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if name.endswith(".ipynb") else ""


def dry_run_request(job: Job) -> PreparedRequest:
    """The request ``job`` would send, keys masked; sends nothing and starts nothing.

    With nothing configured, the URL is :data:`EMBEDDED_PLACEHOLDER`: the embedded backend
    starts only when a request is sent.
    """
    from .._engine.engine import request_for

    settings = job.settings
    if settings.embedded:
        settings = _placeholder(settings)
    return request_for(job.messages, settings)


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
                reply = await _drain(stream)
            except Exception:  # noqa: BLE001 - the reply records the failure, described
                reply = stream.reply
        return dataclasses.replace(reply, context=job.context) if job.context else reply
    except asyncio.CancelledError:
        stream.note_cancel("interrupted")
        raise
    finally:
        if panel is not None:
            panel.close()
        # Bounded and shielded: the view already closed it; a stuck close must not hold the cell.
        with contextlib.suppress(Exception):
            await asyncio.shield(asyncio.wait_for(stream.aclose(), _CLOSE_S))
        # A recording is written when the response closes (above); one that could not be (too
        # large, a folder that cannot be written) must not pass for recorded.
        for event in job.recorder.events if job.recorder is not None else ():
            if event.startswith("not recorded"):
                print(f"nbstream: {event}", file=sys.stderr)


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
    base_url = (_embedded(settings) if settings.embedded else settings).base_url
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
    The reply shows itself (``Reply._repr_mimebundle_``): the sanitized answer over its status
    line, provenance in the metadata.
    """
    from .._view import render  # noqa: F401 - hands the reply its sanitizing renderer
    from .ipython import display

    display(reply)

"""The final reply, and the builder that accumulates it from a stream of deltas.

:class:`ReplyBuilder` is what every consumer (the engine, the view, user code) feeds deltas into;
:meth:`ReplyBuilder.build` turns what arrived into an immutable :class:`Reply` with one of four
statuses:

- ``"finished"``: the format's terminal marker arrived and no error was reported;
- ``"truncated"``: the stream ended early, without its terminal marker; the text is kept;
- ``"failed"``: the server reported an error, or the connection or decoding failed; the text
  received so far is kept;
- ``"cancelled"``: the consumer cancelled (Cancel button, interrupt, timeout of the caller).

A reply shows itself in a notebook (``_repr_mimebundle_``): its answer as markdown with its status
line under it, its repr as plain text, and its provenance in the output's metadata. Model output
is untrusted and JupyterLab runs script in the outputs of the running session (FACTS.md), so the
markdown goes through the view's sanitizing renderer; the view hands it down with
:func:`set_markdown_renderer` when it loads, as imports point down only. Before that, a reply
shows its repr alone.
"""

from __future__ import annotations

import html
import time as _time
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from .context import ContextItem
from .context import metadata as context_metadata
from .deltas import (
    Delta,
    End,
    ErrorDelta,
    Finish,
    Metadata,
    Notice,
    ReasoningDelta,
    Retry,
    ServerToolCallDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from .errors import ServerReportedError
from .markdown import CodeBlock, code_blocks
from .secrets import redact
from .values import ValueRepr, public

__all__ = [
    "Reply",
    "ReplyBuilder",
    "ServerToolCall",
    "Status",
    "ToolCall",
    "provenance",
    "set_markdown_renderer",
    "status_line",
]

# Finish reasons that say "the model ended its answer", in any provider's spelling (Gemini's
# "STOP", Responses' "completed"): the status line names only the others (length, filters …).
_NATURAL_ENDS = frozenset({"stop", "end_turn", "completed", "complete", "eos"})

Status: TypeAlias = Literal["finished", "cancelled", "failed", "truncated"]

# A stream whose content deltas all arrived within this span was delivered in one burst (a
# buffering proxy, or a server that ignores pacing): the user saw no streaming.
_BURST_SPAN_S = 0.005

_TRUNCATED = "the stream ended before the server's end marker: the answer may be incomplete"


@public
@dataclass(frozen=True, slots=True, repr=False)
class ToolCall(ValueRepr):
    """One complete tool call, assembled from its :class:`~nbstream.ToolCallDelta` fragments.

    Attributes:
        index: Position among the reply's tool calls.
        id: The call id the server gave, or ``""``.
        name: The function name.
        arguments: The arguments as the JSON text the model wrote (not parsed: it may be invalid).
    """

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


@public
@dataclass(frozen=True, slots=True, repr=False)
class ServerToolCall(ValueRepr):
    """One tool call the server ran itself, assembled from :class:`~nbstream.ServerToolCallDelta` s.

    Anthropic's web search, web fetch, code execution and MCP connector calls, and the
    Responses API's built-in tools: already executed, shown for what they did, never a call for
    the caller's code to run (those are :class:`ToolCall` s).

    Attributes:
        index: Position among the reply's server tool calls.
        id: The call id the server gave, or ``""``.
        name: The tool's name (``"web_search"``, an MCP tool's name …).
        arguments: The call's input as JSON text.
        result: A one-line summary of what the call returned, or ``""`` if no result came.
    """

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""
    result: str = ""


@public
@dataclass(frozen=True, slots=True, repr=False)
class Reply(ValueRepr):
    """A finished (or ended) answer, whatever server and wire format produced it.

    Attributes:
        text: The answer's text, exactly as streamed.
        reasoning: Reasoning ("thinking") text, if the server streamed any.
        tool_calls: Tool calls the model made, for the caller's code to run.
        server_tool_calls: Tool calls the server ran itself during the reply (web search, code
            execution, MCP …), with a summary of each result.
        usage: Token counts, when the server reported them.
        finish_reason: The server's finish reason (``"stop"``, ``"length"`` …), if it sent one.
        model: The model that answered, as the server named it.
        response_id: The server's id of the response.
        format: The wire format used (``"openai-chat"``, ``"anthropic"`` …).
        status: ``"finished"``, ``"cancelled"``, ``"failed"`` or ``"truncated"``.
        error: What went wrong, one line, for ``"failed"`` (and the reason for ``"cancelled"``).
        streamed: ``False`` when the server answered with one JSON body.
        endpoint: Host (and port) of the server, never a key or a path with secrets.
        notes: One-line notes on how the answer arrived, each said once: a stream whose
            framing was repaired, the retries it took (``"retried once: 429 Too Many
            Requests"``).
        started: Monotonic time the request started.
        ended: Monotonic time the reply ended.
        deltas: Every delta in arrival order (their ``time`` is the arrival time).
        context: What the prompt's ``{{name}}`` values were (names, kinds, sizes, what was
            cut), when the chat was given any.
    """

    text: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    server_tool_calls: tuple[ServerToolCall, ...] = ()
    usage: Usage | None = None
    finish_reason: str | None = None
    model: str | None = None
    response_id: str | None = None
    format: str = ""
    status: Status = "finished"
    error: str | None = None
    streamed: bool = True
    endpoint: str = ""
    notes: tuple[str, ...] = ()
    started: float = field(default=0.0, repr=False)
    ended: float = field(default=0.0, repr=False)
    deltas: tuple[Delta, ...] = field(default=(), repr=False)
    exception: BaseException | None = field(default=None, repr=False, compare=False)
    context: tuple[ContextItem, ...] = field(default=(), repr=False, compare=False)

    def __str__(self) -> str:
        return self.text

    def _repr_mimebundle_(
        self, include: Container[str] | None = None, exclude: Container[str] | None = None
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """How IPython shows the reply: the answer and its status line, and where it came from.

        Args:
            include: Mimetypes IPython asks for (it filters the bundle itself).
            exclude: Mimetypes IPython leaves out (likewise).

        Returns:
            The bundle (``text/plain``: the repr; ``text/markdown``: the sanitized answer over
            the status line, once the view has loaded) and its metadata (``{"nbstream":
            provenance}``).
        """
        data = {"text/plain": redact(repr(self))}
        if _render_markdown is not None:
            body = _render_markdown(self.text) if self.text else ""
            line = html.escape(redact(status_line(self)))
            data["text/markdown"] = f"{body}\n\n<p><small>{line}</small></p>\n"
        return data, {"nbstream": provenance(self)}

    @property
    def ok(self) -> bool:
        """``True`` when the reply finished normally."""
        return self.status == "finished"

    @property
    def code_blocks(self) -> tuple[CodeBlock, ...]:
        """The answer's fenced code blocks, in order: each one's language and exact code.

        ``%chat code N`` puts block N (counted from 1) into a new cell.
        """
        return code_blocks(self.text)

    def raise_for_status(self) -> Reply:
        """Raise the error behind a ``"failed"`` reply; return the reply otherwise.

        Returns:
            This reply, so calls can be chained (``(await chat(...)).raise_for_status().text``).

        Raises:
            NbstreamError: The exception that failed the stream (``HTTPStatusError``,
                ``StreamTimeoutError`` …), or :class:`~nbstream.ServerReportedError` for an
                error the server reported inside the stream.
        """
        if self.status != "failed":
            return self
        if isinstance(self.exception, Exception):
            raise self.exception
        raise ServerReportedError(self.error or "the stream failed")

    @property
    def duration(self) -> float:
        """Seconds from the request's start to the reply's end."""
        return max(0.0, self.ended - self.started)

    @property
    def first_token_time(self) -> float | None:
        """Monotonic arrival time of the first text or reasoning delta, or ``None``."""
        for d in self.deltas:
            if isinstance(d, TextDelta | ReasoningDelta) and d.text:
                return d.time
        return None

    @property
    def ttft(self) -> float | None:
        """Time to first token: seconds from the request's start to the first text or reasoning."""
        first = self.first_token_time
        return None if first is None else max(0.0, first - self.started)

    @property
    def content_deltas(self) -> int:
        """How many text and reasoning deltas arrived (a proxy for tokens when usage is absent)."""
        return sum(1 for d in self.deltas if isinstance(d, TextDelta | ReasoningDelta) and d.text)

    @property
    def output_tokens(self) -> int:
        """Generated tokens: the server's count if it gave one, else the number of deltas."""
        if self.usage is not None and self.usage.output_tokens is not None:
            return self.usage.output_tokens
        return self.content_deltas

    @property
    def tokens_per_s(self) -> float | None:
        """Generation speed, or ``None`` when it cannot be measured.

        For a streamed reply: tokens after the first, over the time since the first arrived.
        When everything arrived at once (``streamed`` is False, or ``buffered``) that span is
        ~0 and the rate meaningless, so it is the whole request's throughput instead.
        """
        n = self.output_tokens
        if not self.streamed or self.buffered:
            span = self.duration
            return n / span if span > 0 and n > 0 else None
        first = self.first_token_time
        if first is None:
            return None
        span = self.ended - first
        if span <= 0 or n < 2:
            return None
        # The first token marks the start of the span, so it is not counted in the rate.
        return (n - 1) / span

    @property
    def arrivals(self) -> tuple[float, ...]:
        """Arrival time of every delta, in seconds since the request started."""
        return tuple(max(0.0, d.time - self.started) for d in self.deltas)

    @property
    def buffered(self) -> bool:
        """``True`` when a streamed reply arrived in one burst (as behind a buffering proxy)."""
        times = [d.time for d in self.deltas if isinstance(d, TextDelta | ReasoningDelta)]
        if not self.streamed or len(times) < 2:
            return False
        return max(times) - min(times) <= _BURST_SPAN_S


@public
class ReplyBuilder:
    """Accumulates deltas into a :class:`Reply`; cheap per delta, readable at any time.

    Args:
        started: Monotonic time the request started (default: now).
        format: The wire format, if already known (a :class:`~nbstream.Metadata` delta may
            tell it later).
        endpoint: Host of the server, for provenance.
    """

    def __init__(
        self, *, started: float | None = None, format: str = "", endpoint: str = ""
    ) -> None:
        self.started = _time.monotonic() if started is None else started
        self.format = format
        self.endpoint = endpoint
        self.model: str | None = None
        self.response_id: str | None = None
        self.streamed = True
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.error: str | None = None
        self.complete: bool | None = None
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._tools: dict[int, list[str]] = {}
        self._tool_heads: dict[int, tuple[str, str]] = {}
        self._server_tools: dict[int, list[str]] = {}
        self._server_heads: dict[int, tuple[str, str, str]] = {}
        self._deltas: list[Delta] = []
        self._text_cache: str | None = ""
        self._notes: list[str] = []
        self._retried: list[str] = []  # the reason of each retry, in order

    def add(self, delta: Delta) -> None:
        """Record one delta.

        Args:
            delta: The delta, in arrival order.
        """
        self._deltas.append(delta)
        if isinstance(delta, TextDelta):
            if delta.text:
                self._text.append(delta.text)
                self._text_cache = None
        elif isinstance(delta, ReasoningDelta):
            self._reasoning.append(delta.text)
        elif isinstance(delta, ToolCallDelta):
            old_id, old_name = self._tool_heads.get(delta.index, ("", ""))
            self._tool_heads[delta.index] = (delta.id or old_id, delta.name or old_name)
            self._tools.setdefault(delta.index, []).append(delta.arguments)
        elif isinstance(delta, ServerToolCallDelta):
            old_id, old_name, old_result = self._server_heads.get(delta.index, ("", "", ""))
            self._server_heads[delta.index] = (
                delta.id or old_id,
                delta.name or old_name,
                delta.result or old_result,
            )
            self._server_tools.setdefault(delta.index, []).append(delta.arguments)
        elif isinstance(delta, Usage):
            self.usage = delta if self.usage is None else self.usage.merged(delta)
        elif isinstance(delta, Finish):
            self.finish_reason = delta.reason
        elif isinstance(delta, ErrorDelta):
            # The first error is the cause; later ones are usually its consequences.
            if self.error is None:
                self.error = delta.message
        elif isinstance(delta, Metadata):
            self.model = delta.model or self.model
            self.response_id = delta.response_id or self.response_id
            self.format = delta.format or self.format
            if delta.streamed is not None:
                self.streamed = delta.streamed
        elif isinstance(delta, End):
            self.complete = delta.complete
        elif isinstance(delta, Notice):
            if delta.text not in self._notes:
                self._notes.append(delta.text)
        elif isinstance(delta, Retry):
            self._retried.append(delta.reason)

    @property
    def text(self) -> str:
        """The answer's text so far."""
        if self._text_cache is None:
            joined = "".join(self._text)
            self._text = [joined]
            self._text_cache = joined
        return self._text_cache

    @property
    def reasoning(self) -> str:
        """The reasoning text so far."""
        return "".join(self._reasoning)

    @property
    def deltas(self) -> tuple[Delta, ...]:
        """Every delta recorded so far."""
        return tuple(self._deltas)

    @property
    def notes(self) -> tuple[str, ...]:
        """The notes so far: each :class:`~nbstream.Notice` once, then one line for the retries."""
        if not self._retried:
            return tuple(self._notes)
        n = len(self._retried)
        times = {1: "once", 2: "twice"}.get(n, f"{n} times")
        reasons = "; ".join(dict.fromkeys(self._retried))  # each reason once, in order
        return (*self._notes, f"retried {times}: {reasons}")

    def build(
        self,
        *,
        status: Status | None = None,
        error: str | None = None,
        ended: float | None = None,
        exception: BaseException | None = None,
    ) -> Reply:
        """Return the reply as it stands.

        Args:
            status: Force a status (``"cancelled"``, or ``"failed"`` after an exception). By
                default it is derived: ``"failed"`` if the server reported an error,
                ``"truncated"`` if the stream ended without its terminal marker (or has not
                ended), else ``"finished"``.
            error: One-line description of what went wrong; overrides a reported error.
            ended: Monotonic end time (default: now).
            exception: The exception that ended the stream, kept for
                :meth:`Reply.raise_for_status`.

        Returns:
            An immutable :class:`Reply`.
        """
        message = error if error is not None else self.error
        if status is None:
            if self.error is not None:
                status = "failed"
            elif self.complete:
                status = "finished"
            else:
                status = "truncated"
        if status == "truncated" and message is None:
            message = _TRUNCATED
        tools = tuple(
            ToolCall(i, *self._tool_heads[i], "".join(self._tools[i])) for i in sorted(self._tools)
        )
        server_tools = tuple(
            ServerToolCall(i, *self._server_heads[i][:2], "".join(pieces), self._server_heads[i][2])
            for i, pieces in sorted(self._server_tools.items())
        )
        return Reply(
            text=self.text,
            reasoning=self.reasoning,
            tool_calls=tools,
            server_tool_calls=server_tools,
            usage=self.usage,
            finish_reason=self.finish_reason,
            model=self.model,
            response_id=self.response_id,
            format=self.format,
            status=status,
            error=message if status in ("failed", "cancelled", "truncated") else None,
            streamed=self.streamed,
            endpoint=self.endpoint,
            notes=self.notes,
            started=self.started,
            ended=_time.monotonic() if ended is None else ended,
            deltas=tuple(self._deltas),
            exception=exception,
        )


def status_line(reply: Reply, notice: str | None = None) -> str:
    """Describe how a reply ended, in one line: status, model, tokens, speed, timings, notes.

    Args:
        reply: The reply; each of its ``notes`` is said once, at the end.
        notice: A line to append (``"demo backend, not a language model"``).

    Returns:
        Plain text, e.g. ``"done · gemma · 1,234 tokens · 45.2 tok/s · first token 0.31 s · 12.3 s"``.
    """
    head = {"finished": "✓ done", "cancelled": "■ cancelled", "failed": "✗ failed"}.get(
        reply.status, "… truncated"
    )
    if reply.error:
        head += f": {reply.error}"
    parts = [head]
    parts += [p for p in (reply.model, reply.endpoint) if p]
    parts.append(f"{reply.output_tokens:,} tokens")
    if reply.tokens_per_s is not None:
        parts.append(f"{reply.tokens_per_s:.1f} tok/s")
    if reply.ttft is not None:
        parts.append(f"first token {reply.ttft:.2f} s")
    parts.append(f"{reply.duration:.1f} s")
    if reply.finish_reason and reply.finish_reason.lower() not in _NATURAL_ENDS:
        parts.append(f"finish: {reply.finish_reason}")
    parts += reply.notes
    line = " · ".join(parts)
    return f"{line} · {notice}" if notice else line


def provenance(reply: Reply) -> dict[str, Any]:
    """Return the metadata saved with the final output: where the answer came from and how.

    Args:
        reply: The reply (its ``endpoint`` is a host, never a key).

    Returns:
        A JSON-able dict for the output's ``metadata["nbstream"]``.
    """
    usage = reply.usage
    return {
        "model": reply.model,
        "endpoint": reply.endpoint or None,
        "format": reply.format or None,
        "status": reply.status,
        "error": reply.error,
        "finish_reason": reply.finish_reason,
        "response_id": reply.response_id,
        "notes": list(reply.notes),
        "usage": None
        if usage is None
        else {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
        },
        "timings": {
            "ttft_s": None if reply.ttft is None else round(reply.ttft, 4),
            "duration_s": round(reply.duration, 4),
            "tokens_per_s": None if reply.tokens_per_s is None else round(reply.tokens_per_s, 2),
            "output_tokens": reply.output_tokens,
        },
        # Names, kinds and sizes of the values sent: never their content.
        "context": context_metadata(reply.context) or None,
    }


# Set by the view (nbstream._view.render) when it loads: see the module docstring.
_render_markdown: Callable[[str], str] | None = None


def set_markdown_renderer(render: Callable[[str], str]) -> None:
    """Choose how a reply's markdown becomes safe to show (the view's sanitizing renderer).

    Args:
        render: Takes the answer's markdown, returns markdown that runs no script.
    """
    global _render_markdown
    _render_markdown = render

"""nbstream: streaming LLM answers in Jupyter, the way people expect.

Words appear as they are generated, the markdown renders as it grows, a Cancel button stops the
generation at once, and the finished answer stays in the notebook.

The public names below are imported lazily (PEP 562): ``import nbstream`` is cheap and loads
neither IPython nor ipywidgets until a name that needs them (``StreamView``, ``chat``, the
``%%chat`` magic) is first used. The layers, bottom to top, each a private package whose
imports point down only (``lint-imports`` checks it, see ``[tool.importlinter]``):

- ``_core`` (stdlib only): the deltas, :class:`Reply`, the errors, :class:`DeltaStream`;
- ``_sse`` (stdlib only): :class:`SSEDecoder`, :class:`NDJSONDecoder`;
- ``_http`` (httpx): :func:`aconnect_sse`, :func:`aiter_sse`; beside it ``_providers`` (pure):
  each API's request and wire format;
- ``_engine``: :func:`astream` (an async iterator of deltas from any server), :class:`Endpoint`;
- ``_view`` (Jupyter glue): :class:`StreamView`; beside it ``server``, the embedded backend;
- ``_chat``: :func:`chat`, :func:`chat_sync`, :func:`wait`;
- ``_magic``: the ``%%chat`` magic (``%load_ext nbstream``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ._chat.chat import chat, chat_sync, wait
    from ._core.deltas import (
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
    from ._core.errors import (
        AuthenticationError,
        CassetteError,
        ConfigError,
        EventTooLargeError,
        FormatError,
        HTTPStatusError,
        NbstreamError,
        RateLimitError,
        ServerReportedError,
        StreamError,
        StreamTimeoutError,
        UnsupportedContentTypeError,
    )
    from ._core.markdown import CodeBlock
    from ._core.reply import Reply, ReplyBuilder, ServerToolCall, ToolCall
    from ._core.stream import DeltaStream
    from ._engine.engine import Endpoint, astream
    from ._http.transport import EventSource, Timeouts, aconnect_sse, aiter_sse
    from ._sse.decoder import ServerSentEvent, SSEDecoder
    from ._sse.ndjson import NDJSONDecoder
    from ._view.view import StreamView

__version__ = "0.1.0"

# name -> module that defines it. Kept sorted by name; tests/unit/test_public_api.py checks that
# every name resolves and that __all__ matches this table.
_EXPORTS: dict[str, str] = {
    "AuthenticationError": "._core.errors",
    "CassetteError": "._core.errors",
    "CodeBlock": "._core.markdown",
    "ConfigError": "._core.errors",
    "Delta": "._core.deltas",
    "DeltaStream": "._core.stream",
    "End": "._core.deltas",
    "Endpoint": "._engine.engine",
    "ErrorDelta": "._core.deltas",
    "EventSource": "._http.transport",
    "EventTooLargeError": "._core.errors",
    "Finish": "._core.deltas",
    "FormatError": "._core.errors",
    "HTTPStatusError": "._core.errors",
    "Metadata": "._core.deltas",
    "NDJSONDecoder": "._sse.ndjson",
    "NbstreamError": "._core.errors",
    "Notice": "._core.deltas",
    "RateLimitError": "._core.errors",
    "ReasoningDelta": "._core.deltas",
    "Reply": "._core.reply",
    "ReplyBuilder": "._core.reply",
    "Retry": "._core.deltas",
    "SSEDecoder": "._sse.decoder",
    "ServerReportedError": "._core.errors",
    "ServerSentEvent": "._sse.decoder",
    "ServerToolCall": "._core.reply",
    "ServerToolCallDelta": "._core.deltas",
    "StreamError": "._core.errors",
    "StreamTimeoutError": "._core.errors",
    "StreamView": "._view.view",
    "TextDelta": "._core.deltas",
    "Timeouts": "._http.transport",
    "ToolCall": "._core.reply",
    "ToolCallDelta": "._core.deltas",
    "UnsupportedContentTypeError": "._core.errors",
    "Usage": "._core.deltas",
    "aconnect_sse": "._http.transport",
    "aiter_sse": "._http.transport",
    "astream": "._engine.engine",
    "chat": "._chat.chat",
    "chat_sync": "._chat.chat",
    "wait": "._chat.chat",
}

__all__ = sorted([*_EXPORTS, "load_ipython_extension", "unload_ipython_extension"])


def __getattr__(name: str) -> Any:
    if name == "server":  # the subpackage, as `import nbstream` users reach for it
        return importlib.import_module(".server", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nbstream' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # cache: later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the ``%%chat`` and ``%chat`` magics (``%load_ext nbstream``).

    Args:
        ipython: The running IPython shell.
    """
    from ._magic.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Remove what :func:`load_ipython_extension` registered (``%unload_ext nbstream``).

    Args:
        ipython: The running IPython shell.
    """
    from ._magic.magics import unload_ipython_extension as unload

    unload(ipython)

"""nbstream: streaming LLM answers in Jupyter, the way people expect.

Words appear as they are generated, the markdown renders as it grows, a Cancel button stops the
generation at once, and the finished answer stays in the notebook.

The public names below are imported lazily (PEP 562): ``import nbstream`` is cheap and loads
neither IPython nor ipywidgets until a name that needs them (``StreamView``, ``chat``, the
``%%chat`` magic) is first used. The layers, bottom to top:

- core (stdlib only): :class:`SSEDecoder`, :class:`NDJSONDecoder`, the deltas, :class:`Reply`;
- transport (httpx): :func:`aconnect_sse`, :func:`aiter_sse`;
- formats and engine: :func:`astream` (an async iterator of deltas from any server);
- Jupyter glue: :class:`StreamView`, :func:`chat`, the ``%%chat`` magic (``%load_ext nbstream``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ._chat import chat, chat_sync, wait
    from ._deltas import (
        Delta,
        End,
        ErrorDelta,
        Finish,
        Metadata,
        ReasoningDelta,
        ServerToolCallDelta,
        TextDelta,
        ToolCallDelta,
        Usage,
    )
    from ._engine import Endpoint, astream
    from ._errors import (
        AuthenticationError,
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
    from ._ndjson import NDJSONDecoder
    from ._reply import Reply, ReplyBuilder, ServerToolCall, ToolCall
    from ._sse import ServerSentEvent, SSEDecoder
    from ._stream import DeltaStream
    from ._transport import EventSource, Timeouts, aconnect_sse, aiter_sse
    from ._view import StreamView

__version__ = "0.1.0"

# name -> module that defines it. Kept sorted by name; tests/unit/test_public_api.py checks that
# every name resolves and that __all__ matches this table.
_EXPORTS: dict[str, str] = {
    "AuthenticationError": "._errors",
    "ConfigError": "._errors",
    "Delta": "._deltas",
    "DeltaStream": "._stream",
    "End": "._deltas",
    "Endpoint": "._engine",
    "ErrorDelta": "._deltas",
    "EventSource": "._transport",
    "EventTooLargeError": "._errors",
    "Finish": "._deltas",
    "FormatError": "._errors",
    "HTTPStatusError": "._errors",
    "Metadata": "._deltas",
    "NDJSONDecoder": "._ndjson",
    "NbstreamError": "._errors",
    "RateLimitError": "._errors",
    "ReasoningDelta": "._deltas",
    "Reply": "._reply",
    "ReplyBuilder": "._reply",
    "SSEDecoder": "._sse",
    "ServerReportedError": "._errors",
    "ServerSentEvent": "._sse",
    "ServerToolCall": "._reply",
    "ServerToolCallDelta": "._deltas",
    "StreamError": "._errors",
    "StreamTimeoutError": "._errors",
    "StreamView": "._view",
    "TextDelta": "._deltas",
    "Timeouts": "._transport",
    "ToolCall": "._reply",
    "ToolCallDelta": "._deltas",
    "UnsupportedContentTypeError": "._errors",
    "Usage": "._deltas",
    "aconnect_sse": "._transport",
    "aiter_sse": "._transport",
    "astream": "._engine",
    "chat": "._chat",
    "chat_sync": "._chat",
    "wait": "._chat",
}

__all__ = sorted([*_EXPORTS, "load_ipython_extension", "unload_ipython_extension"])


def __getattr__(name: str) -> Any:
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
    from ._magic import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Remove what :func:`load_ipython_extension` registered (``%unload_ext nbstream``).

    Args:
        ipython: The running IPython shell.
    """
    from ._magic import unload_ipython_extension as unload

    unload(ipython)

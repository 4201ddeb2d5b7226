"""The embedded backend: an offline server that streams like the real services, for demos and tests.

Real HTTP on the loopback interface, the real services' wire formats, deterministic answers,
controllable pacing and a gallery of faults. It is **not a language model**.

Start it with ``nbstream serve`` on the command line, or in Python::

    with nbstream.server.start() as server:          # a free loopback port, a daemon thread
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="any")
        ...
        server.log[-1].tokens_sent                   # what the server did, for assertions

Endpoints (POST): one per wire format, listed in ``_formats.FORMATS`` — ``/v1/chat/completions``
(OpenAI), ``/v1/messages`` (Anthropic), ``/api/chat`` (Ollama NDJSON), ``/seed/echo`` (a
home-made server) and the others; ``GET /`` lists them all. GET ``/v1/models``, ``/health``.

Models: ``demo`` (markdown answers chosen by keywords: code, math, table, long), ``echo`` (the
last user message), ``lorem`` (``n`` words), ``hostile`` (script-injection payloads); any other
name answers like ``demo``.

Options follow the model name after a colon, as ``key=value`` pairs separated by commas; a bare
word is a fault. The same text works in the ``X-Nbstream-Options`` header, and each key as a
query parameter (later sources win: model, header, query)::

    demo:tps=20,ttft=0.5          lorem:n=1000,tps=0          echo:stall,after=3

=============  =========  ==========================================================
option         default    meaning
=============  =========  ==========================================================
tps            40         tokens per second (0: as fast as possible)
ttft           0.15       seconds before the first token
jitter         0          random spread of each interval, fraction 0 to 1 (seeded)
seed           0          seed of the jitter
n              200        words of ``lorem``
fault          none       one of the faults below
after          5          tokens before a mid-stream fault
stall          3600       seconds a ``stall`` lasts
size           1000000    characters in the ``huge`` event
ping           0.05       seconds between ``: ping`` comments under ``crlf``
retry_after    1          the ``Retry-After`` of ``429``
=============  =========  ==========================================================

Faults: ``401`` (JSON error echoing the Authorization header), ``403``, ``429`` (with
``Retry-After``), ``500``, ``stream-options-400`` / ``stream-options-422`` (reject a body with
``stream_options``), ``stall``, ``disconnect`` (the server drops the connection),
``error-chunk`` (an in-band error as data), ``error-event`` (``event: error``), ``malformed``
(a cut JSON chunk), ``no-done`` (no terminal marker), ``no-stream`` (one JSON body although a
stream was asked for), ``buffer`` (everything at the end), ``crlf`` (sse-starlette's CRLF and
``: ping`` comments), ``bad-utf8`` (bytes 0xFF 0xFE in a token), ``huge`` (one event of ``size``
characters), ``gzip`` (``Content-Encoding: gzip``), ``empty`` (a 200 with no body, as llama.cpp
sends when the prompt exceeds its context). ``docs/backend.md`` has the full table.

Replay (``nbstream serve --replay DIR``, ``start(replay=DIR)``): instead of the demo models,
every POST to any path is answered from the cassette recorded for it, with its rhythm (see
:mod:`nbstream._core.cassette`); ``/v1/models`` lists the models the cassettes were made with.
"""

from __future__ import annotations

from ._app import create_app
from ._background import BackgroundServer, shared, start
from ._log import RequestLog, RequestRecord
from ._options import FAULTS, MODELS, OptionError, Options, parse_options
from ._thread import ServerThread

__all__ = [
    "FAULTS",
    "MODELS",
    "BackgroundServer",
    "OptionError",
    "Options",
    "RequestLog",
    "RequestRecord",
    "ServerThread",
    "create_app",
    "parse_options",
    "shared",
    "start",
]

"""The backend's Starlette application: routes, request parsing, status faults, responses.

Streams are written as raw bytes with :class:`~starlette.responses.StreamingResponse` so that
each format's bytes are exactly the real service's: sse-starlette always ends lines with CRLF
and adds ``: ping`` comments, which OpenAI, Anthropic and llama.cpp never send. sse-starlette
is used where that is the point: the ``crlf`` fault, which reproduces servers built on it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ._content import answer, tokenize
from ._formats import FORMATS, SeedEcho
from ._frames import Frame, Turn, WireFormat
from ._generate import HangUp, gzipped, paced_bytes, paced_frames
from ._log import RequestLog, RequestRecord
from ._options import MODELS, OptionError, Options, parse_options, split_model
from ._prompt import images_of
from ._replay import Replayer

__all__ = ["create_app"]

HEADER = "x-nbstream-options"

_STATUS_FAULTS: dict[str, tuple[int, str, str, str | None]] = {
    # fault: (status, OpenAI type / Anthropic type, message, OpenAI code)
    "403": (403, "permission_error", "You are not allowed to sample from this model.", None),
    "429": (
        429,
        "rate_limit_exceeded",
        "Rate limit reached; please try again later.",
        "rate_limit_exceeded",
    ),
    "500": (500, "server_error", "The server had an error while processing your request.", None),
    "503": (503, "server_error", "The server is overloaded or not ready yet.", None),
    "529": (529, "overloaded_error", "Overloaded", None),
}
_ANTHROPIC_TYPES = {
    403: "permission_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}

# Gateways in front of a model answer these with their own pages, not the API's JSON: nginx's
# 502 page, and Envoy's plain-text 504.
_GATEWAY_FAULTS: dict[str, tuple[int, str, str]] = {
    "502": (
        502,
        "text/html",
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n",
    ),
    "504": (504, "text/plain", "upstream request timeout"),
}

_SLOPPY = frozenset({"nolf", "single-lf"})


class _Repeats:
    """How many times each request was seen (the ``fails`` option), safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: Counter[tuple[str, ...]] = Counter()

    def count(self, request: Request, requested_model: str) -> int:
        """Count this request; return how many identical ones came before it."""
        key = (
            request.url.path,
            requested_model,
            request.headers.get(HEADER, ""),
            str(sorted(request.query_params.multi_items())),
        )
        with self._lock:
            seen = self._seen[key]
            self._seen[key] += 1
        return seen


class _DropHangUps(logging.Filter):
    """Keep uvicorn from logging the ``disconnect`` fault's intended exception as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], HangUp))


def create_app(
    log: RequestLog | None = None, *, replay: str | Path | None = None, speed: float = 1.0
) -> Starlette:
    """The backend as an ASGI application (serve it with uvicorn, or :func:`start` it).

    Args:
        log: Where to record requests; a new :class:`RequestLog` if not given. The application
            keeps it as ``app.state.log``.
        replay: A folder of cassettes: every POST, to any path, is answered from the cassette
            recorded for it (see :mod:`._replay`) instead of the demo models.
        speed: The replay pace (``1.0`` as recorded, ``math.inf`` at once).

    Returns:
        The Starlette application.
    """
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropHangUps) for f in logger.filters):
        logger.addFilter(_DropHangUps())
    request_log = log if log is not None else RequestLog()
    if replay is not None:
        replayer = Replayer(replay, speed, request_log)

        async def index(request: Request) -> Response:
            text = f"nbstream replay server: answers from the cassettes in {replayer.directory}\n"
            return PlainTextResponse(text)

        async def models(request: Request) -> Response:
            return _model_list(replayer.models())

        routes = [
            Route("/", index, methods=["GET"]),
            Route("/health", _health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/{path:path}", replayer.answer, methods=["POST"]),
        ]
    else:
        routes = [
            Route("/", _index, methods=["GET"]),
            Route("/health", _health, methods=["GET"]),
            Route("/v1/models", _models, methods=["GET"]),
        ]
        repeats = _Repeats()
        for path, fmt in FORMATS.items():
            routes.append(Route(path, _endpoint(fmt, request_log, repeats), methods=["POST"]))
    app = Starlette(routes=routes)
    app.state.log = request_log
    return app


def _endpoint(fmt: WireFormat, log: RequestLog, repeats: _Repeats) -> Any:
    async def endpoint(request: Request) -> Response:
        return await _handle(request, fmt, log, repeats)

    return endpoint


async def _index(request: Request) -> Response:
    lines = ["nbstream demo backend: deterministic answers, not a language model.", ""]
    lines += [f"POST {path}  ({fmt.name})" for path, fmt in FORMATS.items()]
    lines += [
        "GET  /v1/models",
        "",
        f"models: {', '.join(MODELS)}; options: demo:tps=20,fault=stall",
    ]
    return PlainTextResponse("\n".join(lines) + "\n")


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _models(request: Request) -> Response:
    return _model_list(MODELS)


def _model_list(names: Iterable[str]) -> Response:
    data = [{"id": m, "object": "model", "created": 0, "owned_by": "nbstream"} for m in names]
    return JSONResponse({"object": "list", "data": data})


async def _handle(
    request: Request, fmt: WireFormat, log: RequestLog, repeats: _Repeats
) -> Response:
    record = log.new(request.url.path)
    log.update(record, headers=dict(request.headers))
    try:
        body = json.loads(await request.body() or b"{}")
        if not isinstance(body, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        return _reject(
            log, record, fmt, 400, "invalid_request_error", f"the body is not a JSON object ({exc})"
        )
    # The model is in the body, or in the path for the APIs that name it there (a route with
    # a {model} parameter), or in the query.
    requested = str(
        body.get("model")
        or request.path_params.get("model")
        or request.query_params.get("model")
        or "demo"
    )
    name, option_text = split_model(requested)
    try:
        options = parse_options(option_text, request.headers.get(HEADER, ""), request.query_params)
    except OptionError as exc:
        return _reject(log, record, fmt, 400, "invalid_request_error", str(exc))
    if options.fails and options.fault and repeats.count(request, requested) >= options.fails:
        options = dataclasses.replace(options, fault=None)  # it failed enough times: answer
    model = "echo" if isinstance(fmt, SeedEcho) else name if name in MODELS else "demo"
    stream = bool(body.get("stream", fmt.stream_default))
    log.update(
        record,
        model=model,
        requested_model=requested,
        fault=options.fault,
        options=options.describe(),
        stream=stream,
    )
    rejection = _status_fault(request, body, fmt, options, log, record)
    if rejection is not None:
        return rejection
    prompt, prompt_tokens = fmt.prompt(body)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    turn = Turn(model=requested, prompt_tokens=prompt_tokens, include_usage=include_usage)
    tokens = tokenize(answer(model, prompt, options.n, images_of(body)))
    if options.fault == "empty":
        # llama.cpp answers a prompt longer than its context with a 200 and no body at all.
        log.end(record, "finished")
        return Response(b"", media_type=fmt.media_type)
    if not stream or options.fault == "no-stream":
        return await _whole(fmt, turn, tokens, options, log, record)
    frames = paced_frames(fmt, turn, tokens, options, log, record)
    headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    if options.fault == "crlf" and fmt.sse:
        return EventSourceResponse(
            _sse_events(frames), ping=options.ping, sep="\r\n", headers=headers
        )
    sloppy = options.fault if options.fault in _SLOPPY else None
    chunks = paced_bytes(frames, fmt, "\r\n" if options.fault == "crlf" else "\n", sloppy)
    if options.fault == "buffer":
        # A buffering proxy: nothing (not even the headers) until the whole answer is there.
        body_bytes = b"".join([chunk async for chunk in chunks])
        return Response(body_bytes, media_type=fmt.media_type, headers=headers)
    if options.fault == "gzip":
        chunks = gzipped(chunks)
        headers["content-encoding"] = "gzip"
    return StreamingResponse(chunks, media_type=fmt.media_type, headers=headers)


def _status_fault(
    request: Request,
    body: dict[str, Any],
    fmt: WireFormat,
    options: Options,
    log: RequestLog,
    record: RequestRecord,
) -> Response | None:
    fault = options.fault
    if fault == "401":
        # Some proxies echo the credential they rejected; the secrets tests rely on this.
        given = next(
            (
                request.headers[name]
                for name in ("authorization", "x-api-key", fmt.key_header)
                if name in request.headers
            ),
            "(none)",
        )
        message = f"Incorrect API key provided: {given}. Check the key you configured."
        kind = "authentication_error" if fmt.name == "anthropic" else "invalid_request_error"
        return _reject(log, record, fmt, 401, kind, message, "invalid_api_key")
    if fault in _STATUS_FAULTS:
        status, kind, message, code = _STATUS_FAULTS[fault]
        if fmt.name == "anthropic":
            kind = _ANTHROPIC_TYPES[status]
        retry = status in (429, 503)
        headers = {"retry-after": str(options.retry_after)} if retry else None
        return _reject(log, record, fmt, status, kind, message, code, headers)
    if fault in _GATEWAY_FAULTS:
        status, media_type, page = _GATEWAY_FAULTS[fault]
        log.update(record, status=status)
        log.end(record, "rejected")
        return Response(page, status_code=status, media_type=media_type)
    if fault in ("stream-options-400", "stream-options-422") and "stream_options" in body:
        log.update(record, status=int(fault[-3:]))
        log.end(record, "rejected")
        if fault.endswith("422"):
            # The shape of a FastAPI/pydantic server that forbids unknown fields (vLLM-like).
            detail = [
                {
                    "type": "extra_forbidden",
                    "loc": ["body", "stream_options"],
                    "msg": "Extra inputs are not permitted",
                    "input": body["stream_options"],
                }
            ]
            return JSONResponse({"detail": detail}, status_code=422)
        message = "Unrecognized request argument supplied: stream_options"
        return JSONResponse(fmt.http_error(400, "invalid_request_error", message), status_code=400)
    return None


def _reject(
    log: RequestLog,
    record: RequestRecord,
    fmt: WireFormat,
    status: int,
    kind: str,
    message: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    log.update(record, status=status)
    log.end(record, "rejected")
    return JSONResponse(
        fmt.http_error(status, kind, message, code), status_code=status, headers=headers
    )


async def _whole(
    fmt: WireFormat,
    turn: Turn,
    tokens: list[str],
    options: Options,
    log: RequestLog,
    record: RequestRecord,
) -> Response:
    # A non-streaming answer arrives when generation would have finished.
    await asyncio.sleep(options.ttft + options.interval * max(len(tokens) - 1, 0))
    for token in tokens:
        turn.add(token)
    log.update(record, tokens_sent=len(tokens))
    log.end(record, "finished")
    if fmt.name == "seed-plain":
        return PlainTextResponse(turn.so_far)
    return JSONResponse(fmt.whole(turn, turn.so_far))


async def _sse_events(frames: AsyncIterator[Frame]) -> AsyncIterator[ServerSentEvent]:
    # sse-starlette's pings are on a timer; one at the start makes the comment certain to appear.
    yield ServerSentEvent(comment="ping", sep="\r\n")
    async for frame in frames:
        yield ServerSentEvent(data=frame.data, event=frame.event, sep="\r\n")

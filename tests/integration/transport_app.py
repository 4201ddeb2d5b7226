"""A small starlette / sse-starlette app for the transport's integration tests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


class Observed:
    """What the server saw, shared with the test thread."""

    def __init__(self) -> None:
        self.disconnected_at: float | None = None
        self.disconnected = threading.Event()
        self.sent = 0

    def note_disconnect(self) -> None:
        self.disconnected_at = time.monotonic()
        self.disconnected.set()


def build_app(observed: Observed) -> Starlette:
    async def sse(request: Request) -> Response:
        # sse-starlette: CRLF line endings, ": ping" comments at the configured interval.
        async def events() -> AsyncIterator[dict[str, str]]:
            try:
                for i in range(1000):
                    observed.sent = i + 1
                    yield {"data": f'{{"n": {i}}}'}
                    await asyncio.sleep(float(request.query_params.get("gap", "0.02")))
            except asyncio.CancelledError:
                observed.note_disconnect()
                raise

        return EventSourceResponse(events(), ping=0.05)

    async def few(request: Request) -> Response:
        async def events() -> AsyncIterator[dict[str, str]]:
            for i in range(3):
                yield {"data": str(i), "id": str(i)}
                await asyncio.sleep(0.12)  # longer than the ping interval

        return EventSourceResponse(events(), ping=0.05)

    async def stall(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield b"data: 1\n\n"
            await asyncio.sleep(30)

        return StreamingResponse(body(), media_type="text/event-stream")

    async def slow_headers(request: Request) -> Response:
        # Never answer; uvicorn reports the client going away as an http.disconnect message.
        while (await request.receive())["type"] != "http.disconnect":
            pass
        observed.note_disconnect()
        return Response()

    async def error(request: Request) -> Response:
        code = int(request.path_params["code"])
        if code == 422:
            return JSONResponse(
                {"detail": [{"loc": ["body", "model"], "msg": "Field required"}]}, 422
            )
        if code == 500:
            return Response("upstream exploded", 500, media_type="text/plain")
        return JSONResponse({"error": {"message": f"error {code}"}}, code)

    return Starlette(
        routes=[
            Route("/sse", sse),
            Route("/few", few),
            Route("/stall", stall),
            Route("/slow-headers", slow_headers),
            Route("/error/{code}", error, methods=["GET", "POST"]),
        ]
    )

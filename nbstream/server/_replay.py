"""``nbstream serve --replay DIR``: answer any POST from the cassette recorded for it.

A classroom points every notebook (or any client: the official SDKs, curl) at one server that
plays recorded exchanges with their rhythm: the recorded status and headers, then the body's
chunks at their recorded times (divided by the speed), ending as the recording did — finished,
the connection dropped (raised as :class:`~nbstream.server._generate.HangUp`, so uvicorn closes
it without the final chunk), or left open and silent until the client gives up.

Requests are matched as the client-side replay matches them (:func:`nbstream._core.cassette.
request_key`): path, query and JSON body without credentials, the host and volatile fields, so a
request of the openai SDK finds the cassette that ``%%chat --record`` made. A request without a
cassette gets a 404 whose message names the file it looked for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from .._core.cassette import (
    Cassette,
    find,
    name_for,
    paced,
    read,
    recorded_request,
    request_key,
)
from .._core.errors import CassetteError
from ._generate import HangUp
from ._log import RequestLog, RequestRecord

__all__ = ["Replayer"]


class Replayer:
    """The replaying endpoint and the model list of a folder of cassettes.

    Args:
        directory: The folder of cassettes.
        speed: Replay pace (``1.0`` as recorded, ``math.inf`` at once).
        log: The request log to record each request in.
    """

    def __init__(self, directory: str | Path, speed: float, log: RequestLog) -> None:
        self.directory = Path(directory)
        self.speed = speed
        self.log = log

    def models(self) -> list[str]:
        """The models the folder's cassettes were recorded with (unreadable files skipped)."""
        found: set[str] = set()
        for path in sorted(self.directory.glob("*.json")):
            try:
                found.add(read(path).request.model)
            except CassetteError:
                continue
        return sorted(m for m in found if m)

    async def answer(self, request: Request) -> Response:
        """Answer one request from its cassette (a Starlette endpoint)."""
        record = self.log.new(request.url.path)
        self.log.update(record, headers=dict(request.headers))
        content = await request.body()
        headers = request.headers.items()
        recorded = recorded_request(request.method, str(request.url), headers, content)
        stream = bool(isinstance(recorded.json, dict) and recorded.json.get("stream"))
        self.log.update(record, model=recorded.model, requested_model=recorded.model, stream=stream)
        key = request_key(request.method, str(request.url), headers, content)
        path = find(self.directory, key)
        if path is None:
            wanted = self.directory / name_for(recorded, key)
            message = f"no cassette for this request: looked for {wanted} (any *-{key}.json)"
            return self._reject(record, 404, "not_found_error", message)
        try:
            cassette = read(path)
        except CassetteError as exc:
            return self._reject(record, 500, "server_error", str(exc))
        started = asyncio.get_running_loop().time()
        await asyncio.sleep(cassette.head_at / self.speed)
        self.log.update(record, status=cassette.status, fault=f"replay {path.name}")
        return StreamingResponse(
            self._body(cassette, started, record),
            status_code=cassette.status,
            headers=dict(cassette.headers),
        )

    async def _body(
        self, cassette: Cassette, started: float, record: RequestRecord
    ) -> AsyncIterator[bytes]:
        try:
            async for chunk in paced(cassette, self.speed, started):
                if record.first_byte is None:
                    self.log.update(record, first_byte=time.monotonic())
                yield chunk
            if cassette.end.how == "error":
                self.log.end(record, "hung-up")
                raise HangUp(f"replaying a dropped connection ({cassette.end.error})")
            self.log.end(record, "finished")
        finally:
            # Still running here means we were cancelled or closed early: the client went away.
            self.log.end(record, "disconnected")

    def _reject(self, record: RequestRecord, status: int, kind: str, message: str) -> Response:
        self.log.update(record, status=status)
        self.log.end(record, "rejected")
        body = {"error": {"message": message, "type": kind, "param": None, "code": "no_cassette"}}
        return JSONResponse(body, status_code=status)

"""Types of the C accelerator built from _sse_c.c (see nbstream._sse.PySSEDecoder)."""

from ._sse_event import ServerSentEvent

class SSEDecoder:
    last_event_id: str
    retry: int | None
    ended_mid_event: bool
    def __init__(self, max_event_size: int = ...) -> None: ...
    def decode(self, chunk: bytes, /) -> list[ServerSentEvent]: ...
    def flush(self) -> list[ServerSentEvent]: ...

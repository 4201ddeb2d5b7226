"""The C decoder (nbstream/_sse_c.c) against the pure-Python reference, call by call.

test_sse.py runs the spec's examples, every split point and the reference model against both
implementations; this module checks that they agree on everything else a caller can observe:
each ``decode`` call's events and errors (size limits included), the decoder's state between
calls, and the corners of the C API (input types, limits, subclassing, memory).
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbstream import EventTooLargeError, ServerSentEvent, SSEDecoder
from nbstream._sse import DEFAULT_MAX_EVENT_SIZE, PySSEDecoder, _sse_c

pytestmark = pytest.mark.skipif(
    _sse_c is None and not os.environ.get("CI"), reason="the C accelerator is not built here"
)


def test_the_accelerator_is_built_and_used() -> None:
    # CI installs with `pip install -e`, which compiles it: a missing one is a build failure.
    assert _sse_c is not None
    assert issubclass(SSEDecoder, _sse_c.SSEDecoder)
    assert SSEDecoder.__doc__ == PySSEDecoder.__doc__


def run(impl: type, chunks: list[bytes], **kw: int) -> list[object]:
    """Everything observable after each call: events or the error, and the state."""
    d = impl(**kw)
    seen: list[object] = []
    for chunk in chunks:
        try:
            out: object = d.decode(chunk)
        except EventTooLargeError as e:
            out = ("too large", str(e), e.limit)
        seen.append((out, d.last_event_id, d.retry))
    seen.append((d.flush(), d.last_event_id, d.retry, d.ended_mid_event, repr(d)))
    return seen


PIECES = st.sampled_from(
    [
        b"data",
        b"data: ",
        b"\n\ndata: ",
        b"d",
        b"ata: ",
        b"event: ",
        b"id: ",
        b"retry: ",
        b"retry",
        b":",
        b" ",
        b"\n",
        b"\r",
        b"\r\n",
        b"\n\n",
        b"x",
        b"12",
        b"\x00",
        b"\xef\xbb\xbf",
        b"\xef",
        b"\xbb",
        b"\xff",
        b"\xc3\xa9",
        b'{"a": 1}',
        b"ping",
    ]
)
CHUNKS = st.lists(
    st.lists(st.one_of(PIECES, st.binary(max_size=3)), max_size=8).map(b"".join), max_size=12
)


@settings(max_examples=1500, deadline=None)
@given(chunks=CHUNKS, limit=st.one_of(st.none(), st.integers(min_value=1, max_value=40)))
def test_agrees_with_python_call_by_call(chunks: list[bytes], limit: int | None) -> None:
    kw = {} if limit is None else {"max_event_size": limit}
    assert run(SSEDecoder, chunks, **kw) == run(PySSEDecoder, chunks, **kw)


@pytest.mark.parametrize(
    "chunks",
    [
        [b"\xef", b"\xbb", b"\xbf", b"data: a\n\n"],
        [b"\xef\xbb", b"data: a\n\n"],
        [b"\xef", b"", b"\xbb\n\n"],
        [b"\xef\xbb"],
        [b"data: a\r", b"", b"\n", b"\ndata: b\r", b"\r\n"],
        [b"data: " + b"a" * 30 + b"\r", b"\ndata: b\n\n"],
        [b": " + b"c" * 50, b"\n", b"data: ok\n\n"],
        [b"data: a\n\nid: 1\ndata: " + b"b" * 50 + b"\n\ndata: c\n\n", b"data: d\n\n"],
        [b"retry: " + b"9" * 5000 + b"\n\n", b"retry: 0012\n\n"],
        [b"event: t\ndata: 1\n\n" * 3, b"event: u\ndata: 2\n\nevent: t\ndata: 3\n\n"],
    ],
)
def test_agrees_with_python_on_edges(chunks: list[bytes]) -> None:
    assert run(SSEDecoder, chunks, max_event_size=40) == run(
        PySSEDecoder, chunks, max_event_size=40
    )
    assert run(SSEDecoder, chunks) == run(PySSEDecoder, chunks)


def test_inputs_and_arguments() -> None:
    d = SSEDecoder()
    assert d.decode(bytearray(b"data: a\n\n")) == [ServerSentEvent(data="a")]
    assert d.decode(memoryview(b"data: b\n\n")) == [ServerSentEvent(data="b")]
    with pytest.raises(TypeError):
        d.decode("data: c\n\n")  # type: ignore[arg-type]
    for impl in (SSEDecoder, PySSEDecoder):
        with pytest.raises(ValueError, match="must be positive, not 0"):
            impl(max_event_size=0)
        with pytest.raises(TypeError):
            impl(max_event_size=1.5)  # type: ignore[arg-type]
        assert impl(max_event_size=10**30).decode(b"data: big limit\n\n")[0].data == "big limit"
    error = run(SSEDecoder, [b"data: " + b"x" * 2000 + b"\n"], max_event_size=1000)[0]
    assert error == (("too large", error[0][1], 1000), "", None)  # type: ignore[index]
    assert "grew past 1,000 bytes" in error[0][1]  # type: ignore[index]


def test_default_limit_is_the_python_one() -> None:
    # _sse_c.c repeats DEFAULT_MAX_EVENT_SIZE (it cannot import nbstream._sse, which imports it).
    line = b"data: " + b"x" * DEFAULT_MAX_EVENT_SIZE + b"\n"
    for impl in (SSEDecoder, PySSEDecoder):
        with pytest.raises(EventTooLargeError) as info:
            impl().decode(line)
        assert info.value.limit == DEFAULT_MAX_EVENT_SIZE


def test_events_are_server_sent_events_with_arrival_time() -> None:
    before = time.monotonic()
    [event] = SSEDecoder().decode(b'event: e\nid: 7\nretry: 5\ndata: {"a": 1}\n\n')
    assert type(event) is ServerSentEvent
    assert (event.event, event.data, event.id, event.retry) == ("e", '{"a": 1}', "7", 5)
    assert before <= event.time <= time.monotonic()
    assert event.json() == {"a": 1}


def test_subclass_and_attributes() -> None:
    class Mine(SSEDecoder):
        pass

    d = Mine()
    d.note = "a subclass without __slots__ has a __dict__"  # type: ignore[attr-defined]
    assert d.decode(b"id: 3\ndata: a\n\n")[0].id == "3"
    assert (d.last_event_id, d.retry, d.ended_mid_event) == ("3", None, False)
    d.last_event_id = "resume"  # writable, as on the Python decoder
    assert d.last_event_id == "resume"
    with pytest.raises(AttributeError):
        del d.retry  # but always there: repr and dispatch read them back
    assert repr(d) == "SSEDecoder(last_event_id='resume', retry=None)"
    assert repr(SSEDecoder()) == "SSEDecoder(last_event_id='', retry=None)"


def test_reentrant_calls_are_refused() -> None:
    d = SSEDecoder()
    seen: list[str] = []

    class Sneaky:
        # Dropped while decode() replaces last_event_id: its finalizer calls back in.
        def __del__(self) -> None:
            try:
                d.decode(b"data: inner\n\n")
            except RuntimeError as e:
                seen.append(str(e))

    d.last_event_id = Sneaky()  # type: ignore[assignment]
    assert d.decode(b"data: outer\n\n") == [ServerSentEvent(data="outer")]
    assert seen == ["SSEDecoder: decode() or flush() called re-entrantly"]
    assert d.decode(b"data: after\n\n") == [ServerSentEvent(data="after")]


def test_memory_is_released_and_does_not_grow() -> None:
    d = SSEDecoder()
    body = b'data: {"choices": [{"delta": {"content": "x"}}]}\n\n'
    for _ in range(2000):
        d.decode(body)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(20_000):
            d.decode(body)
            d.decode(b"event: e\nid: 1\nretry: 5\ndata: a\r\n\r\n: c\n")
        d.decode(b"data: " + b"y" * 1_000_000 + b"\n")  # a huge line, then the event ends
        assert len(d.decode(b"\n")[0].data) == 1_000_000
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert grown < 100_000  # buffers above 64 KiB are freed once their event is done

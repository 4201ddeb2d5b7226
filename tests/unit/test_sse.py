"""SSEDecoder against the WHATWG spec: its examples, every split point, a reference model."""

from __future__ import annotations

import itertools
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbstream import EventTooLargeError, ServerSentEvent, SSEDecoder
from nbstream._sse.decoder import DEFAULT_MAX_EVENT_SIZE


def decode(body: bytes, chunks: list[int] | None = None, **kw: int) -> tuple[object, ...]:
    """Decode ``body`` cut at the given offsets; return everything observable."""
    d = SSEDecoder(**kw)
    events: list[ServerSentEvent] = []
    cuts = [0, *(chunks or []), len(body)]
    for a, b in itertools.pairwise(cuts):
        events += d.decode(body[a:b])
    events += d.flush()
    return events, d.last_event_id, d.retry, d.ended_mid_event


def reference(body: bytes) -> tuple[object, ...]:
    """The spec's algorithm, transcribed literally over decoded text (slow, obviously right)."""
    text = body.decode("utf-8", "replace")
    text = text.removeprefix("\ufeff")
    events: list[ServerSentEvent] = []
    data, etype, id_buf, last_id, retry, block_retry, in_event = "", "", "", "", None, None, False
    end = 0
    for m in re.finditer(r"([^\r\n]*)(\r\n|\r|\n)", text):
        end = m.end()
        line = m.group(1)
        if line == "":
            last_id = id_buf
            if data:
                events.append(
                    ServerSentEvent(
                        etype or "message", data.removesuffix("\n"), last_id, block_retry
                    )
                )
            data, etype, block_retry, in_event = "", "", None, False
            continue
        if line.startswith(":"):
            continue
        in_event = True
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            etype = value
        elif name == "data":
            data += value + "\n"
        elif name == "id" and "\0" not in value:
            id_buf = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = block_retry = int(value)
    rest = text[end:]
    return events, last_id, retry, in_event or (rest != "" and not rest.startswith(":"))


def test_spec_example_stock_ticker() -> None:
    body = b"data: YHOO\ndata: +2\ndata: 10\n\n"
    assert decode(body)[0] == [ServerSentEvent(data="YHOO\n+2\n10")]


def test_spec_example_ids_and_comments() -> None:
    body = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n"
    events, last_id, _, mid = decode(body)
    assert events == [
        ServerSentEvent(data="first event", id="1"),
        ServerSentEvent(data="second event"),
    ]
    assert last_id == ""  # "id" with no value resets it
    assert mid  # the third event never got its blank line: discarded, and reported


def test_spec_example_empty_data() -> None:
    events, *_ = decode(b"data\n\ndata\ndata\n\ndata:")
    assert [e.data for e in events] == ["", "\n"]


def test_spec_example_space_after_colon() -> None:
    events, *_ = decode(b"data:test\n\ndata: test\n\n")
    assert [e.data for e in events] == ["test", "test"]


def test_fields() -> None:
    body = (
        b"event: add\ndata: 1\nid: 7\nretry: 2500\n\n"
        b"data: 2\n\n"  # type resets to message, id persists, retry is per block
        b"id: a\x00b\nretry: 12x\nretry:\ndata: 3\n\n"  # NULL id and non-digit retry ignored
        b"id: 9\n\n"  # lone id: no event, but the last event id moves on
        b": keep-alive\n\n"
        b"data:  two spaces\nfoo: bar\nevent\n\n"
    )
    events, last_id, retry, mid = decode(body)
    assert events == [
        ServerSentEvent(event="add", data="1", id="7", retry=2500),
        ServerSentEvent(data="2", id="7"),
        ServerSentEvent(data="3", id="7"),
        ServerSentEvent(data=" two spaces", id="9"),
    ]
    assert (last_id, retry, mid) == ("9", 2500, False)


def test_line_endings_and_bom() -> None:
    lf = b"data: a\ndata: b\n\nevent: e\ndata: c\n\n"
    for body in (lf, lf.replace(b"\n", b"\r\n"), lf.replace(b"\n", b"\r"), b"\xef\xbb\xbf" + lf):
        assert decode(body)[0] == decode(lf)[0]
    # Only one BOM is stripped: a second one is part of the field name, which is then unknown.
    assert decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n")[0] == []


def test_invalid_utf8_is_replaced() -> None:
    events, *_ = decode(b"data: \xff\xc3\n\nevent: \xed\xa0\x80\ndata: ok\xe2\x82\n\n")
    assert [(e.event, e.data) for e in events] == [
        ("message", "\ufffd\ufffd"),
        ("\ufffd\ufffd\ufffd", "ok\ufffd"),
    ]


def test_event_repr_omits_defaults_and_json() -> None:
    event = ServerSentEvent(data='{"a": 1}', id="3")
    assert repr(event) == "ServerSentEvent(data='{\"a\": 1}', id='3')"
    assert event.json() == {"a": 1}
    assert ServerSentEvent(data="x", time=1.0) == ServerSentEvent(data="x", time=2.0)


REALISTIC = [
    b'\xef\xbb\xbfdata: {"choices":[{"delta":{"content":"h\xc3\xa9llo"}}]}\n\n: ping\n\n'
    b"event: done\nid: 42\nretry: 3000\ndata: [DONE]\n\n",
    b': ping - 2024\r\n\r\ndata: {"a":\r\ndata: 1}\r\n\r\nid: 5\r\n\r\ndata: \xe2\x82\xac\r\n\r\n',
    b"data: x\rdata: y\r\rdata: z\n\r\n",
]


# Streams of nothing but "data:" lines take the decoder's bulk and one-event fast paths; these
# bodies sit at the edges of those paths (several lines, empty lines, runs of blank lines, a
# comment or another field among them, CRLF and lone CR, invalid UTF-8, a NUL).
BULK = [
    b"data: a\n\ndata: b,\ndata: c\n\ndata: \n\ndata: \ndata: \ndata: x\n\n",
    b"data: a\n\n\ndata: b\n\n\n\ndata: c\ndata\ndata:d\n\n",
    b"data: a\n\n: c\n\ndata: b\nid: 4\n\ndata: c\nevent: e\n\ndata: d\n\n",
    b"data: a\r\n\r\ndata: b\r\ndata: c\r\n\r\ndata: d\r\rdata: e\n\r\n",
    b"data: \xff\xc3\n\ndata: \x00\n\ndata: \xe2\x82\xac\ndata: \xe2\n\n",
    # An event's last line and the next event's data must not combine into a "\ndata: "
    # (found by review: the Python bulk path once checked the pieces glued together).
    b"data: a\n\n\ndata: data: b\n\n",
    b"data: a\nd\n\ndata: ata: x\n\n",
    b"data: a\ndata\n\ndata: : b\n\n",
    # Named one-line events (Anthropic, Responses) take a bulk path of their own: an empty
    # name, a plain event among them, an event of two data lines, one with no data line, a
    # name line with no data, another field, a run of blank lines, CRLF, invalid UTF-8.
    b"event: a\ndata: 1\n\nevent: \ndata: 2\n\nevent: b\ndata: \n\n",
    b"event: a\ndata: 1\n\ndata: [DONE]\n\nevent: b\ndata: 2\n\n",
    b"event: a\ndata: 1\ndata: 2\n\nevent: b\ndata: 3\n\n",
    b"event: a\ndata: 1\n\nevent: b\n\nevent: c\ndata: 3\n\n",
    b"event: a\ndata: 1\n\nevent: b\nid: 9\ndata: 2\n\n\nevent: c\ndata: 3\n\n",
    b"event: a\r\ndata: 1\r\n\r\nevent: \xff\ndata: \xc3\n\nevent:b\ndata:2\n\n",
    b"event: a\ndata: 1\n\nevent: b\ndata: 2\nevent: c\n\nevent: d\ndata: 4\n\n",
]


@pytest.mark.parametrize("body", REALISTIC + BULK)
def test_every_split_point(body: bytes) -> None:
    whole = decode(body)
    assert whole == reference(body)
    for i in range(len(body) + 1):
        assert decode(body, [i]) == whole, i
    assert decode(body, list(range(1, len(body)))) == whole  # one byte at a time


FRAGMENTS = st.sampled_from(
    [
        b"data",
        b"data: ",
        b"\n\ndata: ",
        b"event: ",
        b"\ndata: ",
        b"\n\nevent: ",
        b"d",
        b"ata: ",
        b"event",
        b"id",
        b"retry",
        b":",
        b": ",
        b" ",
        b"\n",
        b"\r",
        b"\r\n",
        b"x",
        b"7",
        b"\x00",
        b"\xef\xbb\xbf",
        b"\xef",
        b"\xff",
        b"\xc3\xa9",
        b"\xe2\x82",
        b"foo",
        b"{",
    ]
)
STREAMS = st.lists(st.one_of(FRAGMENTS, st.binary(max_size=4)), max_size=40).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(body=STREAMS, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_agrees_with_reference_under_any_chunking(body: bytes, cuts: list[int]) -> None:
    expected = reference(body)
    assert decode(body) == expected
    assert decode(body, sorted(min(c, len(body)) for c in cuts)) == expected


def test_ten_megabyte_event_in_small_chunks() -> None:
    payload = b"A" * 10_000_000
    body = b"data: " + payload + b"\n\n"
    d = SSEDecoder()
    events = []
    for i in range(0, len(body), 64):
        events += d.decode(body[i : i + 64])
    assert len(events) == 1
    assert len(events[0].data) == 10_000_000


def test_max_event_size() -> None:
    d = SSEDecoder(max_event_size=1000)
    d.decode(b"data: " + b"a" * 500 + b"\n")
    with pytest.raises(EventTooLargeError, match="1,000 bytes") as info:
        d.decode(b"data: " + b"b" * 400 + b"\ndata: " + b"c" * 200)
    assert info.value.limit == 1000
    d2 = SSEDecoder(max_event_size=100)
    for _ in range(4):
        d2.decode(b"x" * 20)  # one unterminated line growing toward the limit
    with pytest.raises(EventTooLargeError):
        d2.decode(b"x" * 30)
    # A long comment is not an event: dropped as soon as its line ends.
    assert decode(b": " + b"z" * 5000 + b"\ndata: ok\n\n", max_event_size=200)[0] == [
        ServerSentEvent(data="ok")
    ]


def test_retry_beyond_int_string_limit() -> None:
    # int() refuses more than 4,300 digits; a malformed stream must still not raise.
    [event] = SSEDecoder().decode(b"retry: 1" + b"0" * 5000 + b"\ndata: x\n\n")
    assert event.retry == 10**5000


def test_id_of_an_event_dropped_as_too_large_still_counts() -> None:
    d = SSEDecoder(max_event_size=20)
    with pytest.raises(EventTooLargeError):
        d.decode(b"id: 5\ndata: " + b"x" * 30 + b"\n\n")
    # The id line was read before the event outgrew the limit: the next dispatch reports it.
    assert d.decode(b"data: a\n\n") == [ServerSentEvent(data="a", id="5")]
    assert d.last_event_id == "5"


def test_time_is_the_completing_chunk() -> None:
    d = SSEDecoder()
    assert d.decode(b"data: a") == []
    [event] = d.decode(b"\n\n")
    assert event.time > 0


@pytest.mark.parametrize("body", BULK)
def test_bulk_paths_agree_with_reference(body: bytes) -> None:
    whole = reference(body)
    for i, j in itertools.combinations(range(0, len(body) + 1, 2), 2):
        assert decode(body, [i, j]) == whole, (
            i,
            j,
        )  # every single cut: test_every_split_point
    # Events one per chunk, as servers write them.
    events = [e + b"\n\n" for e in body.replace(b"\r\n", b"\n").split(b"\n\n") if e]
    d = SSEDecoder()
    got = [ev for chunk in events for ev in d.decode(chunk)]
    assert got == reference(b"".join(events))[0]


def test_bulk_path_respects_the_size_limit() -> None:
    with pytest.raises(EventTooLargeError):
        decode(b"data: " + b"a" * 300 + b"\n\n", max_event_size=100)
    with pytest.raises(EventTooLargeError):
        decode(b"data: a\n\ndata: " + b"b" * 300 + b"\n\ndata: c\n\n", max_event_size=100)
    assert decode(b"data: a\n\n" * 50, max_event_size=100)[0] == [ServerSentEvent(data="a")] * 50


def test_event_value_contract() -> None:
    event = ServerSentEvent(event="e", data="d", id="1", retry=5, time=2.0)
    assert (event.event, event.data, event.id, event.retry, event.time) == ("e", "d", "1", 5, 2.0)
    assert hash(event) == hash(ServerSentEvent(event="e", data="d", id="1", retry=5))
    assert event != ("e", "d", "1", 5, 2.0)  # an event is a value, not a sequence
    with pytest.raises(AttributeError):
        event.data = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        assert event < event  # type: ignore[operator]
    assert repr(ServerSentEvent()) == "ServerSentEvent()"


def test_inputs_and_arguments() -> None:
    d = SSEDecoder()
    assert d.decode(bytearray(b"data: a\n\n")) == [ServerSentEvent(data="a")]
    with pytest.raises(TypeError):
        d.decode("data: c\n\n")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be positive, not 0"):
        SSEDecoder(max_event_size=0)
    with pytest.raises(TypeError):
        SSEDecoder(max_event_size=1.5)  # type: ignore[arg-type]
    assert SSEDecoder(max_event_size=10**30).decode(b"data: big limit\n\n")[0].data == "big limit"


def test_default_limit() -> None:
    with pytest.raises(EventTooLargeError) as info:
        SSEDecoder().decode(b"data: " + b"x" * DEFAULT_MAX_EVENT_SIZE + b"\n")
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
    d.last_event_id = "resume"
    assert d.last_event_id == "resume"
    assert repr(d) == "SSEDecoder(last_event_id='resume', retry=None)"
    assert repr(SSEDecoder()) == "SSEDecoder(last_event_id='', retry=None)"


# llama.cpp's server writes a mid-stream error as its own field line (tools/server/server.cpp:
# server_sent_event(sink, "error", error_data); utils.hpp writes "<name>: <json>\n\n").
LLAMACPP_ERROR = (
    b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'
    b'error: {"code":500,"message":"context shift is disabled","type":"server_error"}\n\n'
)


def test_an_error_field_is_ignored_by_the_spec_decoder() -> None:
    assert decode(LLAMACPP_ERROR) == reference(LLAMACPP_ERROR)
    d = SSEDecoder()
    assert [e.event for e in d.decode(LLAMACPP_ERROR)] == ["message"]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_an_error_field_is_an_error_event_when_asked(newline: bytes) -> None:
    body = LLAMACPP_ERROR.replace(b"\n", newline)
    expected = [
        ServerSentEvent(data='{"choices":[{"delta":{"content":"Hi"}}]}'),
        ServerSentEvent(
            event="error",
            data='{"code":500,"message":"context shift is disabled","type":"server_error"}',
        ),
    ]
    for cut in range(len(body) + 1):
        d = SSEDecoder(error_field=True)
        events = d.decode(body[:cut]) + d.decode(body[cut:]) + d.flush()
        assert (events, d.ended_mid_event) == (expected, False), cut

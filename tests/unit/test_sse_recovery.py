"""RecoveringSSEDecoder: sloppy framing read as events, well-formed streams exactly as the spec."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbstream import EventTooLargeError, ServerSentEvent, SSEDecoder
from nbstream._sse.recovery import NO_BLANK_LINES, NO_LINE_BREAKS, RecoveringSSEDecoder

from .test_sse import BULK, REALISTIC

# Payloads that make a bracket scanner's life hard: brackets, quotes, escapes, "data:" and
# line-break escapes inside strings, non-ASCII text.
VALUES = [
    json.dumps({"choices": [{"delta": {"content": "Hello"}}]}),
    json.dumps({"choices": [{"delta": {"content": ' {"x": [1]} data:{} '}}]}),
    json.dumps({"choices": [{"delta": {"content": 'a \\"quoted\\" \\\\ back\\\\'}}]}),
    json.dumps({"choices": [{"delta": {"content": "line\nbreak\r\n}]"}}]}),
    json.dumps({"choices": [{"delta": {"content": "héllo €"}}]}, ensure_ascii=False),
    json.dumps([{"nested": [[[]], {}]}]),
]
DATAS = [*VALUES, "[DONE]"]
NOLF = "".join(f"data:{v}" for v in DATAS).encode()
SINGLE_LF = "".join(f"data: {v}\n" for v in DATAS).encode()
WELL_FORMED = "".join(f"data: {v}\n\n" for v in DATAS).encode()


def decode(body: bytes, cuts: list[int] | None = None) -> tuple[object, ...]:
    """Decode ``body`` cut at the given offsets; return everything observable."""
    d = RecoveringSSEDecoder()
    events: list[ServerSentEvent] = []
    bounds = [0, *(cuts or []), len(body)]
    for a, b in itertools.pairwise(bounds):
        events += d.decode(body[a:b])
    events += d.flush()
    return events, d.note, d.last_event_id, d.retry, d.ended_mid_event


def spec(body: bytes, cuts: list[int] | None = None) -> tuple[object, ...]:
    """The spec-exact decoder's reading, in the same shape (no note)."""
    d = SSEDecoder()
    events: list[ServerSentEvent] = []
    bounds = [0, *(cuts or []), len(body)]
    for a, b in itertools.pairwise(bounds):
        events += d.decode(body[a:b])
    events += d.flush()
    return events, None, d.last_event_id, d.retry, d.ended_mid_event


def datas(result: tuple[object, ...]) -> list[str]:
    events = result[0]
    assert isinstance(events, list)
    return [e.data for e in events]


@pytest.mark.parametrize(
    ("body", "note"),
    [
        (NOLF, NO_LINE_BREAKS),
        (SINGLE_LF, NO_BLANK_LINES),
        (SINGLE_LF.replace(b"\n", b"\r\n"), NO_BLANK_LINES),
        (SINGLE_LF.replace(b"\n", b"\r"), NO_BLANK_LINES),
        (b"\xef\xbb\xbf" + NOLF, NO_LINE_BREAKS),
        ("".join(f"data: {v}" for v in DATAS).encode(), NO_LINE_BREAKS),
    ],
    ids=["no-line-breaks", "single-lf", "single-crlf", "single-cr", "bom", "with-space"],
)
def test_sloppy_framing_is_read_at_every_split_point(body: bytes, note: str) -> None:
    # The spec reads these as nothing at all.
    assert datas(spec(body)) == []
    whole = decode(body)
    assert datas(whole) == DATAS
    assert whole[1] == note
    assert whole[4] is False  # [DONE] ended the last record: nothing was cut
    for i in range(len(body) + 1):
        assert decode(body, [i]) == whole, i
    assert decode(body, list(range(1, len(body)))) == whole  # one byte at a time


@pytest.mark.parametrize("template", ["data:{}", "data: {}\n"], ids=["no-line-breaks", "single-lf"])
def test_words_appear_as_they_arrive(template: str) -> None:
    # One record per chunk, as a generator writes: the first event comes with the second
    # record (two complete values prove the framing sloppy), then each with its own record.
    records = [template.format(v).encode() for v in DATAS]
    d = RecoveringSSEDecoder()
    got = [[e.data for e in d.decode(r)] for r in records]
    assert got == [[], DATAS[:2], *([v] for v in DATAS[2:])]


def test_a_buffered_single_lf_body_ending_in_a_blank_line_is_split_too() -> None:
    # All at once, as behind a buffering proxy: the spec's one event is several JSON texts.
    body = SINGLE_LF + b"\n"
    assert datas(spec(body)) == ["\n".join(DATAS)]
    result = decode(body)
    assert datas(result) == DATAS
    assert result[1] == NO_BLANK_LINES


def test_event_fields_stay_with_their_records() -> None:
    # Anthropic's shape from a generator that ends each event with a single newline.
    body = (
        b'event: message_start\ndata: {"type":"message_start"}\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","t":"}"}\n'
        b": keep-alive\n"
        b'event: message_stop\ndata: {"type":"message_stop"}\n'
    )
    events = decode(body)[0]
    assert isinstance(events, list)
    assert [(e.event, json.loads(e.data)["type"]) for e in events] == [
        ("message_start", "message_start"),
        ("content_block_delta", "content_block_delta"),
        ("message_stop", "message_stop"),
    ]


def test_after_the_first_event_decode_is_the_spec_decoders_own() -> None:
    d = RecoveringSSEDecoder()
    assert d.decode(WELL_FORMED[:10]) == []
    first = d.decode(WELL_FORMED[10:])
    assert [e.data for e in first] == DATAS
    assert isinstance(d.decode.__self__, SSEDecoder)  # type: ignore[attr-defined]
    assert d.note is None


@pytest.mark.parametrize("body", REALISTIC + BULK + [WELL_FORMED])
def test_well_formed_streams_are_the_spec_decoders_at_every_split_point(body: bytes) -> None:
    whole = spec(body)
    assert decode(body) == whole
    for i in range(len(body) + 1):
        assert decode(body, [i]) == spec(body, [i]), i
    assert decode(body, list(range(1, len(body)))) == whole


LINES = st.sampled_from(
    [
        *(f"data: {v}" for v in VALUES),
        "data: [DONE]",
        "data: plain text",
        "data: {",
        'data: "x": 1}',
        "data:",
        "event: delta",
        "id: 7",
        "retry: 100",
        ": ping",
        "data",
    ]
)
# Well-formed events: any lines ended by a blank line, never two JSON values in one event.
EVENTS = st.lists(LINES, min_size=1, max_size=4).filter(
    lambda lines: (
        sum(line.startswith("data: {") or line.startswith("data: [{") for line in lines) < 2
    )
)
EOL = st.sampled_from(["\n", "\r\n", "\r"])


@settings(max_examples=300, deadline=None)
@given(
    events=st.lists(EVENTS, max_size=6),
    eol=EOL,
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=6),
)
def test_well_formed_streams_never_change(
    events: list[list[str]], eol: str, cuts: list[int]
) -> None:
    body = "".join(eol.join(lines) + eol + eol for lines in events).encode()
    at = sorted(min(c, len(body)) for c in cuts)
    assert decode(body, at) == spec(body, at)


def test_payloads_that_are_not_json_are_left_to_the_spec() -> None:
    for body in (b"data:hello data:world data:[DONE]", b"data: hello\ndata: world\n"):
        assert decode(body) == spec(body)


def test_a_record_cut_off_by_the_end_is_truncation() -> None:
    body = NOLF[: NOLF.index(b"data:[DONE]")] + b'data:{"choices":[{"del'
    events, note, *_, mid = decode(body)
    assert [e.data for e in events] == VALUES  # type: ignore[attr-defined]
    assert note == NO_LINE_BREAKS
    assert mid is True


def test_a_record_that_never_closes_is_bounded_by_the_event_size() -> None:
    d = RecoveringSSEDecoder(max_event_size=1000)
    assert [e.data for e in d.decode(NOLF)] == DATAS
    with pytest.raises(EventTooLargeError):
        d.decode(b'data:{"x": "' + b"y" * 2000)


def test_a_body_without_events_is_watched_only_so_long() -> None:
    # More than a megabyte with no event: left to the spec decoder (memory stays bounded).
    body = b": " + b"c" * 1_100_000 + b"\n\n" + WELL_FORMED
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    d = RecoveringSSEDecoder()
    events = [e for chunk in chunks for e in d.decode(chunk)]
    assert [e.data for e in events] == DATAS
    assert isinstance(d.decode.__self__, SSEDecoder)  # type: ignore[attr-defined]


def test_flush_starts_watching_a_new_stream() -> None:
    d = RecoveringSSEDecoder()
    assert [e.data for e in d.decode(NOLF)] == DATAS
    d.flush()
    assert d.note == NO_LINE_BREAKS  # said of the stream that was read
    assert [e.data for e in d.decode(WELL_FORMED)] == DATAS
    assert isinstance(d.decode.__self__, SSEDecoder)  # type: ignore[attr-defined]
    assert repr(d) == f"RecoveringSSEDecoder(note={NO_LINE_BREAKS!r})"


ANY = st.lists(
    st.one_of(
        st.sampled_from(
            [
                *(b"data:", b"data: ", b"d", b"ata:", b"{", b"}", b"[", b"]", b'"', b"\\"),
                *(b"\n", b"\r", b"\r\n", b'{"a":1}', b"[DONE]", b"event: e\n", b": c\n"),
                b"\xef\xbb\xbf",
            ]
        ),
        st.binary(max_size=3),
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(body=ANY, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_any_body_reads_the_same_however_it_is_cut(body: bytes, cuts: list[int]) -> None:
    # Whatever the bytes, the chunks never change the reading; without a note it is the spec's.
    at = sorted(min(c, len(body)) for c in cuts)
    result = decode(body, at)
    assert result == decode(body)
    if result[1] is None:
        assert result == spec(body, at)


def test_a_llamacpp_error_line_after_the_first_event_is_an_error_event() -> None:
    # llama.cpp: server_sent_event(sink, "error", error_data) in tools/server/server.cpp writes
    # "error: {json}\n\n"; it comes after events the decoder has already handed over.
    error = b'error: {"code":500,"message":"context shift is disabled","type":"server_error"}\n\n'
    body = WELL_FORMED[: WELL_FORMED.index(b"data: [DONE]")] + error
    for cut in (len(WELL_FORMED) // 2, len(body) - 9):
        events = decode(body, [cut])[0]
        assert isinstance(events, list)
        assert [(e.event, e.data) for e in events] == [
            *(("message", v) for v in VALUES),
            ("error", error[7:-2].decode()),
        ]

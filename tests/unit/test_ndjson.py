"""NDJSONDecoder: JSON lines, bare concatenated JSON, any chunking."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbstream import EventTooLargeError, NDJSONDecoder


def items(body: bytes, cuts: list[int] | None = None) -> tuple[list[str], bool]:
    d = NDJSONDecoder()
    out = []
    points = [0, *(cuts or []), len(body)]
    for a, b in itertools.pairwise(points):
        out += d.decode(body[a:b])
    out += d.flush()
    return [e.data for e in out], d.ended_mid_event


def test_lines_blank_lines_and_last_line_without_newline() -> None:
    body = b'{"a":1}\n\n  \r\n{"b":[1,2]}\r\n42\n"s"\ntrue'
    assert items(body) == (['{"a":1}', '{"b":[1,2]}', "42", '"s"', "true"], False)


def test_bare_concatenated_objects_and_strings_with_brackets() -> None:
    body = b'\xef\xbb\xbf{"a":"}{"}{"b":"\\"}"}[{"c":"\\\\"}]{"d":1}'
    assert items(body)[0] == ['{"a":"}{"}', '{"b":"\\"}"}', '[{"c":"\\\\"}]', '{"d":1}']


def test_truncated_object_is_reported() -> None:
    assert items(b'{"a":1}\n{"b": "unfinished') == (['{"a":1}'], True)


def test_invalid_utf8_replaced() -> None:
    assert items(b'{"a":"\xff"}\n') == (['{"a":"\ufffd"}'], False)


def test_every_split_point() -> None:
    body = b'{"a":"x\\\\"}{"b":"\\"{"}\n[1]\n{"c":{"d":"\xc3\xa9"}}\n7\n'
    whole = items(body)
    for i in range(len(body) + 1):
        for j in range(i, len(body) + 1, 3):
            assert items(body, [i, j]) == whole, (i, j)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\{}[] \n\u00e9'),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(JSON.filter(lambda v: isinstance(v, dict | list)), min_size=1, max_size=5),
    sep=st.sampled_from(["", "\n", "\r\n", " \n\n"]),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=6),
)
def test_any_objects_any_separator_any_chunking(
    values: list[object], sep: str, cuts: list[int]
) -> None:
    body = sep.join(json.dumps(v, ensure_ascii=False) for v in values).encode()
    got, mid = items(body, sorted(min(c, len(body)) for c in cuts))
    assert [json.loads(g) for g in got] == values
    assert not mid


def test_max_size() -> None:
    d = NDJSONDecoder(max_event_size=50)
    d.decode(b'{"a":"' + b"x" * 30)
    with pytest.raises(EventTooLargeError):
        d.decode(b"x" * 30)

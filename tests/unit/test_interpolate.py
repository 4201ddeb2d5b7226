"""Interpolation: ``{{name}}`` placeholders, the escape, and prompts full of braces."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbstream._core.errors import InterpolationError
from nbstream._core.interpolate import interpolate, placeholders


def test_replaces_a_name_and_a_dotted_attribute() -> None:
    ns = {"n": 3, "res": SimpleNamespace(text="hi")}
    assert interpolate("n={{n}}, text={{ res.text }}", ns) == "n=3, text=hi"


@pytest.mark.parametrize(
    "prompt",
    [
        '{"a": {"b": [1, 2]}, "c": "{x}"}',  # JSON: jupyter-ai issue #27
        "d = {'k': v for k, v in items}",
        "f'{x!r:>10}' and {x}",
        "{{ 1 + 1 }} {% for x in y %} {{x|upper}}",
        "def f():\n    return {}\n",
        "}} {{ {{",
    ],
)
def test_braces_that_are_not_placeholders_pass_through(prompt: str) -> None:
    assert interpolate(prompt, {}) == prompt


def test_json_value_is_inserted_verbatim() -> None:
    payload = json.dumps({"a": {"b": "{{x}}"}})
    # The value's own braces are not interpolated again.
    assert interpolate("data: {{payload}}", {"payload": payload}) == f"data: {payload}"


def test_escape_keeps_the_braces() -> None:
    assert interpolate(r"template: \{{name}} vs {{name}}", {"name": "Ada"}) == (
        "template: {{name}} vs Ada"
    )


def test_undefined_name_is_one_line_error_naming_the_escape() -> None:
    with pytest.raises(InterpolationError) as info:
        interpolate("use {{datframe}}", {"dataframe": 1})
    message = str(info.value)
    assert "datframe" in message
    assert r"\{{datframe}}" in message
    assert "\n" not in message


def test_missing_attribute_is_an_error() -> None:
    with pytest.raises(InterpolationError, match="has no attribute 'nope'"):
        interpolate("{{x.nope}}", {"x": 1})


def test_placeholders_lists_names_without_escapes() -> None:
    assert placeholders(r"{{a}} \{{b}} {{ c.d }}") == ["a", "c.d"]


@given(st.text(alphabet=st.sampled_from(list('{}"ab: \\,[]%\n'))))
def test_never_fails_on_text_without_defined_placeholders(text: str) -> None:
    # Every generated name is "a", "b", "ab"…: give them values so only structure matters.
    ns = {name: "V" for name in placeholders(text)}
    out = interpolate(text, ns)
    assert isinstance(out, str)
    if not placeholders(text) and "\\{{" not in text:
        assert out == text

"""Keys never reach what a person or a log can see."""

from __future__ import annotations

from nbstream._core.secrets import mask_key, redact, register_secret


def test_known_secret_is_masked_anywhere() -> None:
    key = "local-secret-value-123"
    assert redact(f"bad key {key}!", [key]) == "bad key ***!"
    assert key not in redact(f'{{"echo": "{key}{key}"}}', [key])


def test_registered_secret_is_masked_without_being_passed() -> None:
    register_secret("registered-key-xyz")
    assert redact("header registered-key-xyz") == "header ***"


def test_key_shapes_are_masked_even_when_unknown() -> None:
    assert redact("Authorization: Bearer abcdefghijklmnop") == "Authorization: Bearer ***"
    assert redact('{"x-api-key": "zzzzzzzzzzzz"}') == '{"x-api-key": "***"}'
    key = "sk-" + "A1b2" * 6
    assert redact(f"key {key} rejected") == "key *** rejected"
    assert redact("ordinary words stay") == "ordinary words stay"


def test_short_values_do_not_mask_ordinary_text() -> None:
    assert redact("a b c", ["a"]) == "a b c"


def test_mask_key() -> None:
    assert mask_key(None) == "(none)"
    assert mask_key("secret") == "***"

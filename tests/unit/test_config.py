"""Configuration layers, profiles, and the rules that keep keys where they belong."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbstream._core.errors import ConfigError
from nbstream._core.secrets import redact
from nbstream._engine.settings import (
    EMBEDDED_MODEL,
    OPENAI_BASE_URL,
    ProfileStore,
    Settings,
    check_no_key,
    env_layer,
    merge,
    profile,
)

Layer = Settings.layer


def resolve(*layers: Settings, environ: dict[str, str]) -> Settings:
    return merge(*layers).resolve(environ)


# Shaped like a provider key, built at run time so that secret scanners see no key here.
FAKE_KEY = "sk-" + "abcdefghijklmnopqrstu"

KEY = "sk-test-0123456789abcdefXYZ"


def test_nothing_configured_means_the_embedded_backend_without_a_key() -> None:
    s = resolve(env_layer({}), environ={})
    assert s.embedded
    assert s.base_url == ""
    assert s.model == EMBEDDED_MODEL
    assert s.api_key is None


def test_openai_key_alone_implies_openai_and_is_sent_there() -> None:
    env = {"OPENAI_API_KEY": KEY}
    s = resolve(env_layer(env), Layer(model="gpt-4o-mini"), environ=env)
    assert s.base_url == OPENAI_BASE_URL
    assert s.api_key == KEY
    assert s.api_key_env == "OPENAI_API_KEY"
    assert not s.embedded


def test_key_is_not_sent_to_another_base_url() -> None:
    env = {"OPENAI_API_KEY": KEY}
    s = resolve(env_layer(env), Layer(base_url="http://127.0.0.1:9/v1", model="m"), environ=env)
    assert s.api_key is None
    assert any("not sent to 127.0.0.1:9" in n for n in s.notices)


def test_same_origin_with_another_path_keeps_the_key() -> None:
    env = {"OPENAI_API_KEY": KEY}
    s = resolve(env_layer(env), Layer(base_url="https://API.openai.com:443/v2"), environ=env)
    assert s.api_key == KEY


def test_session_layer_binds_its_key_to_its_url() -> None:
    env = {"OPENAI_API_KEY": KEY, "GROQ_KEY": "gsk-another-secret-value"}
    session = Layer(
        base_url="https://api.groq.com/openai/v1", api_key_env="GROQ_KEY", model="llama"
    )
    s = resolve(env_layer(env), session, environ=env)
    assert s.api_key == "gsk-another-secret-value"
    # The same session key is withheld when one call points elsewhere.
    s2 = resolve(env_layer(env), session, Layer(base_url="http://localhost:8000"), environ=env)
    assert s2.api_key is None


def test_key_named_without_a_url_is_withheld() -> None:
    env = {"MY_KEY": KEY}
    s = resolve(Layer(api_key_env="MY_KEY"), Layer(base_url="http://x"), environ=env)
    assert s.api_key is None
    assert s.notices


def test_missing_variable_is_a_notice() -> None:
    s = resolve(Layer(base_url="http://x", api_key_env="NOPE"), environ={})
    assert s.api_key is None
    assert s.notices == ("$NOPE is not set: sending no API key",)


def test_later_layers_override_only_what_they_set() -> None:
    s = resolve(
        Layer(base_url="http://a", model="m1", temperature=0.5),
        Layer(model="m2"),
        Layer(max_tokens=7),
        environ={},
    )
    assert (s.base_url, s.model, s.temperature, s.max_tokens) == ("http://a", "m2", 0.5, 7)


def test_key_never_in_repr_or_describe() -> None:
    env = {"OPENAI_API_KEY": KEY}
    s = resolve(env_layer(env), environ=env)
    assert KEY not in repr(s)
    assert KEY not in str(s.describe())
    # resolve registered the key: it is masked wherever it later appears.
    assert KEY not in redact(f"401: bad header Authorization: {KEY}")


@pytest.mark.parametrize(
    "line",
    [
        "-m gpt --api-key " + FAKE_KEY,
        "api_key=abcdefghijkl",
        "Bearer abcdefghijklmnop",
    ],
)
def test_keys_typed_on_a_line_are_refused(line: str) -> None:
    with pytest.raises(ConfigError, match="environment variable"):
        check_no_key(line)


def test_ordinary_lines_pass() -> None:
    check_no_key("-m gpt-4o-mini --temperature 0.2 --chat work")


def test_env_name_must_be_a_name() -> None:
    with pytest.raises(ConfigError, match="NAME"):
        env_layer({"NBSTREAM_API_KEY_ENV": KEY})


def test_profiles_round_trip_and_store_no_keys(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "p" / "profiles.json")
    assert store.load() == {}
    groq = {"base_url": "https://api.groq.com/openai/v1", "key_env": "GROQ_KEY"}
    store.save("groq", profile("groq", groq))
    store.save(
        "local", profile("local", {"base_url": "http://127.0.0.1:8080/v1", "model": "gemma"})
    )
    loaded = store.load()
    assert loaded["groq"].api_key_env == "GROQ_KEY"
    assert loaded["local"].model == "gemma"
    with pytest.raises(ConfigError):
        profile("bad", {"key_env": KEY})


def test_bad_profile_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read profiles"):
        ProfileStore(path).load()

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


# -- one settings model: layers, precedence, unset apart from None and 0 ----------------------------


def test_each_environment_variable_sets_its_option() -> None:
    env = {
        "NBSTREAM_BASE_URL": "http://h:1/v1",
        "NBSTREAM_MODEL": "m",
        "NBSTREAM_API": "anthropic",
        "NBSTREAM_FORMAT": "json",
        "NBSTREAM_SYSTEM": "be brief",
        "NBSTREAM_TEMPERATURE": "0.25",
        "NBSTREAM_MAX_TOKENS": "12",
        "NBSTREAM_API_KEY_ENV": "MY_KEY",
    }
    layer = env_layer(env)
    assert layer.given == {
        "base_url", "model", "api", "format", "system", "temperature", "max_tokens", "api_key_env",
    }  # fmt: skip
    assert (layer.base_url, layer.model, layer.api, layer.format) == (
        "http://h:1/v1",
        "m",
        "anthropic",
        "json",
    )
    assert (layer.system, layer.temperature, layer.max_tokens) == ("be brief", 0.25, 12)
    assert layer.api_key_env == "MY_KEY"
    # NBSTREAM_BASE_URL wins over OPENAI_BASE_URL, which the openai client reads.
    assert env_layer({"OPENAI_BASE_URL": "http://o/v1"}).base_url == "http://o/v1"
    assert env_layer({**env, "OPENAI_BASE_URL": "http://o/v1"}).base_url == "http://h:1/v1"


def test_precedence_environment_then_session_then_call() -> None:
    env = env_layer({"NBSTREAM_MODEL": "from-env", "NBSTREAM_SYSTEM": "env system"})
    session = Settings.parse({"model": "from-session", "temperature": "0.5"}, where="%chat config")
    call = Layer(model="from-call")
    s = merge(env, session, call)
    assert (s.model, s.temperature, s.system) == ("from-call", 0.5, "env system")
    assert merge(env, session).model == "from-session"
    assert merge(call, session, env).model == "from-env"  # the order given is the order kept


def test_unset_is_not_none_and_zero_is_a_value() -> None:
    below = Layer(temperature=0.5, max_tokens=100, system="be brief")
    assert merge(below, Layer()).temperature == 0.5  # unset: the layer below decides
    cleared = merge(below, Layer(temperature=None, system=None))
    assert (cleared.temperature, cleared.system) == (None, None)  # an explicit None clears it
    zero = merge(below, Layer(temperature=0, max_tokens=0))
    assert (zero.temperature, zero.max_tokens) == (0, 0)
    # Text sources have no None: an empty value leaves the option unset.
    assert Settings.parse({"temperature": ""}, where="%chat config").given == frozenset()
    # An option that cannot be None is left unset by a None from code.
    assert merge(Layer(model="m"), Layer(model=None)).model == "m"


def test_an_explicit_none_temperature_is_not_sent() -> None:
    from nbstream._engine.engine import request_for

    layers = merge(Layer(base_url="http://h/v1", temperature=0.5), Layer(temperature=None))
    assert "temperature" not in request_for("hi", layers).json
    zero = merge(Layer(base_url="http://h/v1", temperature=0.5), Layer(temperature=0))
    assert request_for("hi", zero).json["temperature"] == 0


def test_setting_one_form_of_the_key_replaces_the_other() -> None:
    env = {"MY_KEY": KEY}
    s = merge(Layer(base_url="http://h/v1", api_key_env="MY_KEY"), Layer(api_key="")).resolve(env)
    assert s.api_key is None  # api_key="" in code: no key, whatever a variable says
    s = merge(
        Layer(base_url="http://h/v1", api_key="sk-code-0123456789"), Layer(api_key_env="MY_KEY")
    )
    assert s.resolve(env).api_key == KEY


def test_a_key_given_in_code_without_a_server_is_for_openai_only() -> None:
    s = Layer(api_key="sk-code-0123456789").resolve({})
    assert (s.base_url, s.api_key) == (OPENAI_BASE_URL, "sk-code-0123456789")
    with pytest.raises(ConfigError, match=r"key is for api\.openai\.com:443, not for h"):
        merge(Layer(api_key="sk-code-0123456789"), Layer(base_url="http://h/v1")).resolve({})


def test_credential_headers_stay_with_their_server() -> None:
    from nbstream._engine.endpoint import Endpoint

    ep = Settings.from_endpoint(Endpoint("http://a/v1", headers={"Cookie": "session=1"}))
    with pytest.raises(ConfigError, match=r"key is for a:80 \(in the Cookie header\), not for b"):
        merge(ep, Layer(base_url="http://b/v1")).resolve({})
    moved = merge(ep, Layer(base_url="http://b/v1", headers={}))
    assert moved.resolve({}).endpoint().headers == {}


def test_resolving_twice_changes_nothing() -> None:
    env = {"OPENAI_API_KEY": KEY}
    once = merge(env_layer(env), Layer(base_url="http://127.0.0.1:9/v1")).resolve(env)
    assert once.resolve(env) == once
    assert once.resolve(env).notices == once.notices


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            lambda: env_layer({"NBSTREAM_TEMPERATURE": "warm"}),
            "$NBSTREAM_TEMPERATURE takes a number, not 'warm'",
        ),
        (
            lambda: env_layer({"NBSTREAM_MAX_TOKENS": "1.5"}),
            "$NBSTREAM_MAX_TOKENS takes a whole number",
        ),
        (
            lambda: Settings.parse({"colour": "red"}, where="%chat config"),
            "unknown setting 'colour' in %chat config; settable: api, api_key_env, base_url",
        ),
        (
            lambda: Settings.parse({"token": "x"}, where="%chat config"),
            "a key typed in %chat config is saved with the notebook",
        ),
        (
            lambda: Settings.parse({"model": FAKE_KEY}, where="%chat config"),
            "an API key on model in %chat config",
        ),
        (
            lambda: Settings.parse(
                {"timeouts": "0"},
                where="the %%chat line",
                labels={"timeouts": "--timeout"},
                flags=True,
            ),
            "--timeout takes a number of seconds above 0, not '0'",
        ),
        (
            lambda: Settings.parse({"timeouts": "5"}, where="%chat config"),
            "unknown setting 'timeouts'",
        ),
        (lambda: profile("p", {"headers": "x"}), "profile 'p' cannot hold 'headers'"),
        (lambda: Layer(base_url="http://h:99999/v1").resolve({}), "bad port"),
    ],
)
def test_a_bad_setting_is_one_readable_config_error(source: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        source()  # type: ignore[operator]
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert FAKE_KEY not in text


def test_an_unknown_keyword_is_a_type_error_that_names_it() -> None:
    with pytest.raises(
        TypeError,
        match=r"chat\(\) got an unexpected keyword argument 'modle'; did you mean 'model'\?",
    ):
        Settings.from_options({"modle": "x"}, caller="chat")
    with pytest.raises(TypeError, match=r"'top_p'.*extra_body"):
        Settings.from_options({"top_p": 0.9}, caller="astream")


def test_an_endpoint_is_the_layer_under_the_other_keywords() -> None:
    from nbstream._engine.endpoint import Endpoint

    ep = Endpoint("http://h:1", api="anthropic", model="claude", format="anthropic")
    s = Settings.from_options({"endpoint": ep, "model": "other"}, caller="astream")
    assert (s.base_url, s.api, s.model, s.format) == (
        "http://h:1",
        "anthropic",
        "other",
        "anthropic",
    )
    with pytest.raises(TypeError, match="endpoint="):
        Settings.from_options({"endpoint": "http://h"}, caller="astream")


def test_the_keywords_and_the_settings_are_one_list() -> None:
    import dataclasses
    import inspect

    import nbstream
    from nbstream._engine.engine import prepare_request
    from nbstream._engine.settings import ChatOptions, options

    names = [name for name, _, _ in options()]
    declared = {f.name: f.type for f in dataclasses.fields(Settings) if f.name in names}
    typed = {k: v.__forward_arg__ for k, v in ChatOptions.__annotations__.items()}
    assert typed == {**declared, "endpoint": "Endpoint"}
    for func in (nbstream.chat, nbstream.chat_sync, nbstream.astream, prepare_request):
        params = inspect.signature(func).parameters
        assert [p for p in params if p in typed] == list(typed), func.__name__
        doc = inspect.getdoc(func) or ""
        assert all(f"\n    {name}: " in doc for name in typed), func.__name__


def test_every_session_option_is_settable_from_text_and_round_trips_through_a_profile(
    tmp_path: Path,
) -> None:
    from nbstream._engine.settings import options

    text = {"model": "m", "base_url": "http://h/v1", "api": "ollama", "format": "json",
            "system": "s", "temperature": "0.1", "max_tokens": "3", "retries": "0",
            "api_key_env": "K", "json_path": "data.text", "json_mode": "delta",
            "context_budget": "2000",
            "body": '{"query": "{prompt}"}', "record": "False", "replay": "auto",
            "cassette_dir": "lessons", "speed": "2.0"}  # fmt: skip
    assert set(text) == {name for name, opt, _ in options() if opt.session}
    store = ProfileStore(tmp_path / "profiles.json")
    store.save("all", profile("all", text))
    loaded = store.load()["all"]
    assert {k: str(getattr(loaded, k)) for k in text} == text


def test_a_layer_over_resolved_settings_changes_only_its_own_options() -> None:
    env = {"OPENAI_API_KEY": KEY}
    resolved = merge(env_layer(env), Layer(model="m")).resolve(env)
    more = merge(resolved, Layer(temperature=0.1))
    assert (more.api_key, more.model, more.temperature) == (KEY, "m", 0.1)
    assert more.resolve(env).api_key == KEY
    # Aimed at another server, the key stays behind (as the chat layer does for the demo backend).
    assert merge(resolved, Layer(base_url="http://127.0.0.1:9/v1")).resolve(env).api_key is None
    demo = merge(env_layer({}), Layer()).resolve({})
    assert merge(demo, Layer(base_url="http://127.0.0.1:9/v1")).model == EMBEDDED_MODEL

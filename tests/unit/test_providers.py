"""The provider registry: each provider is one entry, and what lists providers reads the registry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from nbstream._core.errors import ConfigError
from nbstream._engine.endpoint import SENSITIVE_HEADERS, Endpoint
from nbstream._magic.magics import ChatMagics
from nbstream._providers import registry
from nbstream._providers.provider import Capability, Provider, RequestRule, bearer
from nbstream._providers.registry import APIS, FORMAT_NAMES, KEY_HEADERS, PROVIDERS
from nbstream._providers.request import endpoint_url, mask_headers
from nbstream._providers.text import TextFormat

README = Path(__file__).resolve().parents[2] / "README.md"


def _table_rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Supported servers and formats", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `")]


def _row(p: Provider) -> str:
    carries = ", ".join(c for c in get_args(Capability) if c in p.capabilities) or "—"
    return f"| `{p.name}` | {p.servers} | {p.ends_with} | {carries} |"


def test_the_readme_table_is_the_registry() -> None:
    assert _table_rows() == [_row(p) for p in PROVIDERS if p.is_format]


def test_names_come_from_the_registry_in_its_order() -> None:
    assert tuple(p.name for p in PROVIDERS if p.request is not None) == APIS
    assert tuple(p.name for p in PROVIDERS if p.reader is not None) == FORMAT_NAMES
    assert APIS[0] == "openai-chat"  # the default API is listed first
    assert {"custom"} <= set(APIS) - set(FORMAT_NAMES)
    assert {"json", "text"} <= set(FORMAT_NAMES) - set(APIS)


def test_every_api_builds_a_request_and_reads_a_format() -> None:
    for p in PROVIDERS:
        if p.request is None:
            continue
        url = endpoint_url(p.name, "http://h:1/v1", model="m")
        assert url.startswith("http://h:1/")
        assert p.answers_in in FORMAT_NAMES


def test_the_magic_help_lists_every_api_and_format() -> None:
    doc = str(ChatMagics.chat.__doc__)  # what %%chat? shows
    help_text = " ".join(doc.split("options:", 1)[1].split())
    api = help_text.split("--api API", 1)[1].split("--format", 1)[0]
    fmt = help_text.split("--format FORMAT", 1)[1].split("--timeout", 1)[0]
    assert all(name in api for name in APIS)
    assert all(name in fmt for name in FORMAT_NAMES)
    assert all(name in str(ChatMagics.api.help) for name in APIS)


def test_every_key_header_is_masked_and_bound_to_its_host() -> None:
    assert "x-api-key" in KEY_HEADERS
    assert KEY_HEADERS <= SENSITIVE_HEADERS
    for header in KEY_HEADERS:
        assert mask_headers({header: "k-123"}) == {header: "***"}
        ep = Endpoint("http://a:1/v1", headers={header: "secret-value-1", "X-T": "1"})
        assert header in ep.credential_headers()
        assert dict(ep.replace(base_url="http://b:2/v1").headers) == {"X-T": "1"}


def test_a_provider_needs_a_request_side_or_a_reader() -> None:
    with pytest.raises(ValueError, match="neither a request side nor a reader"):
        Provider("nothing", "", "—")


def test_registration_mistakes_fail_at_import() -> None:
    def url(parts: object, model: str | None, stream: bool) -> str:
        return "http://h/"

    api = Provider("a", "", "—", request=RequestRule(url, lambda ask: {}), reads="missing")
    with pytest.raises(ValueError, match="reads 'missing', which is no format"):
        registry._index((api,))
    text = Provider("t", "", "—", reader=lambda options: TextFormat())
    with pytest.raises(ValueError, match="share a name"):
        registry._index((text, text))


def test_unknown_names_list_the_registry() -> None:
    with pytest.raises(ConfigError, match=re.escape(", ".join(APIS))):
        registry.request_rule("soap")
    with pytest.raises(ConfigError, match="unknown api"):
        registry.request_rule("json")  # a format, not an API


def test_bearer_is_the_default_header_rule() -> None:
    assert bearer(None) == {}
    assert bearer("k") == {"Authorization": "Bearer k"}

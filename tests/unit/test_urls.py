"""One reading of a URL: the origin a key is bound to, the host messages name, a bad port."""

from __future__ import annotations

import httpx
import pytest

from nbstream._core.errors import ConfigError
from nbstream._core.urls import host_of, origin, same_origin


def test_origin_fills_default_ports() -> None:
    assert origin("https://API.openai.com/v1") == ("https", "api.openai.com", 443)
    assert origin("http://h:8080/x") == ("http", "h", 8080)


def test_same_origin() -> None:
    assert same_origin("http://h:80/v1", "http://H/x")
    assert not same_origin("http://h", "https://h")
    assert not same_origin("http://h", "")


def test_host_of_names_a_port_only_when_it_is_not_the_default() -> None:
    assert host_of("http://127.0.0.1:8080/v1") == "127.0.0.1:8080"
    assert host_of("https://api.openai.com:443/v1") == "api.openai.com"
    assert host_of("https://user:secret@api.openai.com/v1?key=x") == "api.openai.com"
    # The transport hands over httpx URLs: the same answer.
    assert host_of(str(httpx.URL("http://127.0.0.1:9/v1/chat"))) == "127.0.0.1:9"


@pytest.mark.parametrize("url", ["http://h:99999/v1", "http://h:abc/v1", "http://h:-1"])
def test_a_bad_port_is_one_config_error_everywhere(url: str) -> None:
    for read in (origin, host_of, lambda u: same_origin(u, "http://h")):
        with pytest.raises(ConfigError, match="bad port") as caught:
            read(url)
        assert "\n" not in str(caught.value)

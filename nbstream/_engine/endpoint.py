"""Endpoint: where to send a chat request and how to read the answer, as one frozen value.

An :class:`Endpoint` bundles what a user configures once per server (URL, API, model, key,
headers, wire format, body template, timeouts) so that code can switch providers by switching
one value. Its ``repr`` and ``str`` never show the key, nor any credential header.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._core.errors import ConfigError
from .._core.secrets import redact, register_secret
from .._core.urls import origin
from .._core.values import ValueRepr, public
from .._providers.registry import APIS, FORMAT_NAMES, JsonMode
from .._providers.request import SENSITIVE_HEADERS, check_base_url, endpoint_url

if TYPE_CHECKING:
    from .._http.transport import Timeouts

__all__ = ["Endpoint"]


@public
@dataclass(frozen=True, slots=True, repr=False)
class Endpoint(ValueRepr):
    """A chat server and how to talk to it.

    Args:
        base_url: The server's base URL (``http://127.0.0.1:8080/v1``), or for ``api="custom"``
            the full URL to POST to.
        api: The API to speak: ``"openai-chat"`` (the default), ``"custom"`` for a home-made
            server (see ``body``), or another of the provider registry's APIs.
        model: The model name to ask for.
        api_key: The key; sent only to ``base_url``'s own host, never shown.
        headers: Extra headers (they replace ours of the same name).
        format: The answer's wire format: ``"auto"`` (by its shape, else the API's) or one of
            the provider registry's formats.
        json_path: For the ``json`` format: the text's field path (``"data.text"``).
        json_mode: For the ``json`` format: ``"delta"``, ``"cumulative"`` or ``"auto"``.
        body: For ``api="custom"``: the JSON body with ``{prompt}``, ``{messages}``,
            ``{model}``, ``{system}``, ``{stream}`` placeholders (a mapping or its JSON text).
        timeouts: Connect / first-byte / idle limits (:class:`nbstream.Timeouts`).

    Raises:
        ConfigError: An unknown API, format or JSON mode, or a base URL that is not http(s)
            or has a bad port.
    """

    base_url: str
    api: str = "openai-chat"
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict)
    format: str = "auto"
    json_path: str | None = None
    json_mode: JsonMode = "auto"
    body: Mapping[str, Any] | str | None = None
    timeouts: Timeouts | None = None

    def __post_init__(self) -> None:
        if self.api not in APIS:
            raise ConfigError(f"unknown api {self.api!r}; use one of: {', '.join(APIS)}")
        if self.format != "auto" and self.format not in FORMAT_NAMES:
            names = ", ".join(FORMAT_NAMES)
            raise ConfigError(f"unknown format {self.format!r}; use 'auto' or one of: {names}")
        if self.json_mode not in ("delta", "cumulative", "auto"):
            raise ConfigError(
                f"json_mode must be 'delta', 'cumulative' or 'auto', not {self.json_mode!r}"
            )
        check_base_url(self.base_url)  # now, not at the first request
        origin(self.base_url)  # and its port
        register_secret(self.api_key)
        for value in self.credential_headers().values():
            register_secret(value)

    @property
    def url(self) -> str:
        """The full URL a streamed request is POSTed to.

        Raises:
            ConfigError: The API names the model in its URL and the endpoint has none.
        """
        return endpoint_url(self.api, self.base_url, self.model)

    @property
    def host(self) -> str:
        """``host:port`` of the server, for provenance (never a path or a key)."""
        _, host, port = origin(self.base_url)
        return f"{host}:{port}" if port else host

    def credential_headers(self) -> dict[str, str]:
        """The configured headers that carry credentials."""
        return {k: v for k, v in self.headers.items() if k.lower() in SENSITIVE_HEADERS}

    def replace(self, **changes: Any) -> Endpoint:
        """Return a copy with some fields changed.

        A key (or credential header) is bound to the host it was given for: moving the
        endpoint to another host drops them unless the change sets them again.

        Args:
            **changes: Field values, as for the constructor.

        Returns:
            A new endpoint.
        """
        moved = "base_url" in changes and origin(changes["base_url"]) != origin(self.base_url)
        if moved:
            changes.setdefault("api_key", None)
            if "headers" not in changes:
                creds = self.credential_headers()
                changes["headers"] = {k: v for k, v in self.headers.items() if k not in creds}
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        return redact(ValueRepr.__repr__(self), [self.api_key, *self.credential_headers().values()])

    def __str__(self) -> str:
        return self.__repr__()

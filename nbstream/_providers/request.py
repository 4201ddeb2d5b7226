"""Requests: messages in, the URL, headers and JSON body the chosen API expects out (pure).

What is particular to each API (its URL rule, headers and body) is its provider's
(:mod:`.registry`); this module does what every request shares: normalising the messages,
checking the base URL, merging the endpoint's own headers and the extra body fields over the
provider's (a chat's ``extra_body``, merged last, so they can override anything), masking keys for
display (:class:`PreparedRequest`).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

from .._core.errors import ConfigError, FormatError
from .._core.secrets import MASK, redact
from .._core.values import ValueRepr
from .provider import Ask, has_images
from .registry import APIS, KEY_HEADERS, capabilities, request_rule

__all__ = [
    "SENSITIVE_HEADERS",
    "PreparedRequest",
    "as_messages",
    "build_body",
    "build_headers",
    "check_base_url",
    "endpoint_url",
    "mask_headers",
]

# Headers that carry credentials: the generic ones and each provider's key header. Masked
# wherever headers are shown, and bound to the host they were configured for, like a key.
SENSITIVE_HEADERS = (
    frozenset({"authorization", "api-key", "proxy-authorization", "cookie"}) | KEY_HEADERS
)


@dataclass(frozen=True, slots=True, repr=False)
class PreparedRequest(ValueRepr):
    """What would be sent, with every key masked: for ``%%chat --dry-run`` and logs.

    Attributes:
        method: ``"POST"``.
        url: The full URL.
        headers: Header names and values, secrets replaced by ``***``.
        json: The JSON body.
        format: The wire format that will read the answer (``"auto"`` until a response arrives).
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    format: str = "auto"

    def __str__(self) -> str:
        lines = [f"{self.method} {self.url}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return "\n".join([*lines, "", json.dumps(self.json, indent=2, ensure_ascii=False)])

    def as_curl(self) -> str:
        """The request as a ``curl`` command line (keys masked), to reproduce it in a shell."""
        parts = ["curl", "-N", "-X", self.method, shlex.quote(self.url)]
        for k, v in self.headers.items():
            parts += ["-H", shlex.quote(f"{k}: {v}")]
        parts += ["-H", shlex.quote("Content-Type: application/json")]
        parts += ["-d", shlex.quote(json.dumps(self.json, ensure_ascii=False))]
        return " ".join(parts)


def as_messages(
    prompt_or_messages: str | Sequence[Mapping[str, Any]], system: str | None = None
) -> list[dict[str, Any]]:
    """Normalise a prompt or a message list, with an optional system prompt first.

    Args:
        prompt_or_messages: A user prompt, or chat messages (``{"role": …, "content": …}``).
        system: A system prompt to put first (ignored when the messages already start with one).

    Returns:
        A new list of message dicts.

    Raises:
        FormatError: A message is not a mapping with a ``role``.
    """
    if isinstance(prompt_or_messages, str):
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt_or_messages}]
    else:
        messages = []
        for m in prompt_or_messages:
            if not isinstance(m, Mapping) or "role" not in m:
                raise FormatError(
                    f"a message must be a dict with 'role' and 'content', not {m!r:.60}"
                )
            messages.append(dict(m))
    if system and not (messages and messages[0].get("role") == "system"):
        messages.insert(0, {"role": "system", "content": system})
    return messages


def check_base_url(base_url: str) -> SplitResult:
    """Check that ``base_url`` is an http(s) URL, and split it.

    Args:
        base_url: The server's base URL, or a full endpoint URL.

    Returns:
        Its parts, the path's trailing ``/`` removed.

    Raises:
        ConfigError: ``base_url`` is not an http(s) URL.
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"base_url must be an http(s) URL such as http://127.0.0.1:8080/v1, not {redact(base_url)!r}"
        )
    return parts._replace(path=parts.path.rstrip("/"))


def endpoint_url(api: str, base_url: str, model: str | None = None, stream: bool = True) -> str:
    """The URL to POST to for ``api`` at ``base_url``.

    Args:
        api: One of the registry's APIs.
        base_url: The server's base URL (``http://127.0.0.1:8080/v1``) or a full endpoint URL.
        model: The model, for the APIs that name it in the URL.
        stream: Whether a stream is asked for, for the APIs whose URL says so.

    Returns:
        The full URL; the query string of ``base_url`` is kept.

    Raises:
        ConfigError: ``base_url`` is not an http(s) URL, ``api`` is unknown, or the API needs
            a model in its URL and none is given.
    """
    parts = check_base_url(base_url)
    return request_rule(api).url(parts, model, stream)


def build_headers(
    api: str, api_key: str | None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The headers for ``api``: authentication when a key is set, then ``extra`` on top.

    Args:
        api: One of the registry's APIs.
        api_key: The key, or ``None`` (then no authentication header is sent).
        extra: The endpoint's own headers; a name given here replaces ours (any case).

    Returns:
        Header names and values.
    """
    headers = request_rule(api).headers(api_key)
    for name, value in (extra or {}).items():
        for existing in [k for k in headers if k.lower() == name.lower()]:
            del headers[existing]
        headers[name] = value
    return headers


def mask_headers(headers: Mapping[str, str], secrets: Iterable[str | None] = ()) -> dict[str, str]:
    """Return ``headers`` with credentials replaced by ``***`` (for display).

    Args:
        headers: The headers as they would be sent.
        secrets: Keys to mask wherever they appear.

    Returns:
        A new dict; authentication headers keep their scheme (``Bearer ***``).
    """
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in SENSITIVE_HEADERS:
            scheme, _, rest = value.partition(" ")
            out[name] = f"{scheme} {MASK}" if rest and scheme.lower() == "bearer" else MASK
        else:
            out[name] = redact(value, secrets)
    return out


def build_body(
    api: str,
    messages: list[dict[str, Any]],
    *,
    model: str | None = None,
    stream: bool = True,
    temperature: float | None = None,
    max_tokens: int | None = None,
    include_usage: bool = True,
    template: Mapping[str, Any] | str | None = None,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body for ``api``.

    Args:
        api: One of the registry's APIs.
        messages: Chat messages, system prompt first if any (see :func:`as_messages`).
        model: The model name; left out of the body when ``None``.
        stream: Ask for a stream.
        temperature: Sampling temperature, when set.
        max_tokens: Output token limit, when set.
        include_usage: For streams that report usage only when asked (``openai-chat``): ask.
        template: For ``custom``: the body template
            (:func:`~nbstream._providers.template.render_template`).
        params: Extra body fields, merged last.

    Returns:
        The body.

    Raises:
        ConfigError: ``api`` is unknown, or the messages hold an image and it takes none.
        FormatError: ``template`` is a string that is not JSON.
    """
    if has_images(messages) and "images" not in capabilities(api):
        raise ConfigError(
            f"the {api} API takes no images: use an API that does "
            f"({', '.join(a for a in APIS if 'images' in capabilities(a))}), or leave the image "
            "out of the prompt"
        )
    ask = Ask(messages, model, stream, temperature, max_tokens, include_usage, template)
    body = request_rule(api).body(ask)
    return {**body, **(params or {})} if isinstance(body, dict) else body

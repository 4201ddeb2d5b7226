"""Request builders: messages in, the URL, headers and JSON body each API expects out (pure).

=================== ======================= ====================================================
api                 path added to base_url  body
=================== ======================= ====================================================
``openai-chat``     ``/chat/completions``   ``model``, ``messages``, ``stream``,
                                            ``stream_options.include_usage``, ``temperature``,
                                            ``max_tokens``
``openai-responses`` ``/responses``         ``model``, ``input``, ``instructions`` (the system
                                            prompt), ``stream``, ``max_output_tokens``
``anthropic``       ``/v1/messages``        ``model``, ``messages``, top-level ``system``,
                                            ``max_tokens`` (required by the API), ``stream``
``ollama``          ``/api/chat``           ``model``, ``messages``, ``stream``,
                                            ``options.temperature`` / ``options.num_predict``
``custom``          none: the URL as given  a body template (:func:`~nbstream._providers.template.render_template`)
=================== ======================= ====================================================

The OpenAI paths follow the OpenAI client's convention: ``base_url`` normally ends in ``/v1``;
a bare ``http://host:port`` gets ``/v1`` added. A ``base_url`` that already ends with the full
path is used as is. Extra body fields (``**params``) are passed through unchanged, last, so
they can override anything. The stream flag is always in the body: Qwen-style servers stream
only when it says ``"stream": true`` and Ollama streams unless it says ``false``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias
from urllib.parse import urlsplit, urlunsplit

from .._core.errors import ConfigError, FormatError
from .._core.secrets import MASK, SENSITIVE_HEADERS, redact
from .._core.values import ValueRepr
from .template import DEFAULT_TEMPLATE, render_template

__all__ = [
    "ANTHROPIC_VERSION",
    "APIS",
    "DEFAULT_ANTHROPIC_MAX_TOKENS",
    "Api",
    "PreparedRequest",
    "as_messages",
    "build_body",
    "build_headers",
    "endpoint_url",
    "mask_headers",
]

Api: TypeAlias = Literal["openai-chat", "openai-responses", "anthropic", "ollama", "custom"]
APIS: tuple[str, ...] = ("openai-chat", "openai-responses", "anthropic", "ollama", "custom")

# The Messages API rejects requests without this header; 2023-06-01 is the current version.
ANTHROPIC_VERSION = "2023-06-01"
# The Messages API requires max_tokens; the Anthropic SDK makes callers choose, we pick a
# value that lets ordinary answers finish.
DEFAULT_ANTHROPIC_MAX_TOKENS = 4096


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


def endpoint_url(api: str, base_url: str) -> str:
    """The URL to POST to for ``api`` at ``base_url``.

    Args:
        api: One of :data:`APIS`.
        base_url: The server's base URL (``http://127.0.0.1:8080/v1``) or a full endpoint URL.

    Returns:
        The full URL; the query string of ``base_url`` is kept.

    Raises:
        ConfigError: ``base_url`` is not an http(s) URL, or ``api`` is unknown.
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"base_url must be an http(s) URL such as http://127.0.0.1:8080/v1, not {redact(base_url)!r}"
        )
    path = parts.path.rstrip("/")
    if api in ("openai-chat", "openai-responses"):
        suffix = "/chat/completions" if api == "openai-chat" else "/responses"
        if not path.endswith(suffix):
            path = (path or "/v1") + suffix
    elif api == "anthropic":
        if not path.endswith("/messages"):
            path = (path if path.endswith("/v1") else path + "/v1") + "/messages"
    elif api == "ollama":
        if not path.endswith(("/api/chat", "/api/generate")):
            # Ollama's OpenAI-compatible base ends in /v1; the native API lives at the root.
            path = path.removesuffix("/v1")
            path = (path if path.endswith("/api") else path + "/api") + "/chat"
    elif api != "custom":
        raise ConfigError(f"unknown api {api!r}; use one of: {', '.join(APIS)}")
    return urlunsplit((parts.scheme, parts.netloc, path or "/", parts.query, ""))


def build_headers(
    api: str, api_key: str | None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The headers for ``api``: authentication when a key is set, then ``extra`` on top.

    Args:
        api: One of :data:`APIS`.
        api_key: The key, or ``None`` (then no authentication header is sent).
        extra: The endpoint's own headers; a name given here replaces ours (any case).

    Returns:
        Header names and values.
    """
    headers: dict[str, str] = {}
    if api == "anthropic":
        headers["anthropic-version"] = ANTHROPIC_VERSION
        if api_key:
            headers["x-api-key"] = api_key
    elif api_key:
        headers["Authorization"] = f"Bearer {api_key}"
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
        api: One of :data:`APIS`.
        messages: Chat messages, system prompt first if any (see :func:`as_messages`).
        model: The model name; left out of the body when ``None``.
        stream: Ask for a stream.
        temperature: Sampling temperature, when set.
        max_tokens: Output token limit, when set.
        include_usage: For ``openai-chat`` streams: ask for the usage chunk.
        template: For ``custom``: the body template (see :func:`render_template`).
        params: Extra body fields, merged last.

    Returns:
        The body.

    Raises:
        FormatError: ``template`` is a string that is not JSON.
    """
    body: dict[str, Any]
    if api == "anthropic":
        system, rest = _split_system(messages)
        body = {"model": model, "messages": rest}
        if system:
            body["system"] = system
        body["max_tokens"] = max_tokens if max_tokens is not None else DEFAULT_ANTHROPIC_MAX_TOKENS
        body["temperature"] = temperature
    elif api == "openai-responses":
        system, rest = _split_system(messages)
        body = {"model": model, "input": rest}
        if system:
            body["instructions"] = system
        body["temperature"] = temperature
        body["max_output_tokens"] = max_tokens
    elif api == "ollama":
        options = {"temperature": temperature, "num_predict": max_tokens}
        body = {"model": model, "messages": messages}
        if any(v is not None for v in options.values()):
            body["options"] = {k: v for k, v in options.items() if v is not None}
    elif api == "custom":
        values = {
            "model": model,
            "messages": messages,
            "prompt": _last_user_text(messages),
            "system": next((m.get("content") for m in messages if m.get("role") == "system"), None),
            "stream": stream,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        rendered = render_template(DEFAULT_TEMPLATE if template is None else template, values)
        return {**rendered, **(params or {})} if isinstance(rendered, dict) else rendered
    else:
        body = {"model": model, "messages": messages, "temperature": temperature}
        body["max_tokens"] = max_tokens
    body["stream"] = stream
    if api == "openai-chat" and stream and include_usage:
        body["stream_options"] = {"include_usage": True}
    body = {k: v for k, v in body.items() if v is not None}
    return {**body, **(params or {})}


def _split_system(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The system prompt (system messages joined) and the other messages: the APIs that take
    the system prompt as a top-level field reject a ``system`` role in the list."""
    system = "\n\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
    return system, [m for m in messages if m.get("role") != "system"]


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            content = m.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):  # content parts: keep the text parts
                return "".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return ""

"""What a provider is: one API's request rule and its answers' reader, as one registry entry.

A provider module (:mod:`.openai_chat`, :mod:`.anthropic` …) defines everything of its API —
the URL rule, the headers, the body builder, the stream parser, the terminal marker, what
``format="auto"`` recognises it by, its capabilities — and ends with one ``PROVIDER``. The
registry (:mod:`.registry`) lists those providers once; the engine's validation, the magic's
``--api`` and ``--format`` help, ``auto`` detection and the README's table of formats (checked
by a test) all read that list, so adding a provider is one module and one registry line.

A provider has up to two sides:

- the request side (a :class:`RequestRule`: URL rule, headers, body builder): the name is an
  API one can send to (``api=``);
- the answer side (``reader``): the name is a wire format (``format=``).

Most providers have both under one name. A home-made server's API (``custom``) has no format of
its own: its answers are read as ``reads`` says unless ``auto`` recognises their shape; the
``json`` and ``text`` formats have no API, since no request is built for them.

Helpers for the request side live here too: every provider needs a few of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias
from urllib.parse import SplitResult, urlunsplit

from ._common import WireFormat

__all__ = [
    "NOT_JSON",
    "Ask",
    "Capability",
    "JsonMode",
    "Provider",
    "ReadOptions",
    "RequestRule",
    "bearer",
    "compact",
    "has_images",
    "image_of",
    "last_user_text",
    "split_system",
    "with_path",
]

JsonMode: TypeAlias = Literal["delta", "cumulative", "auto"]

#: What a provider can carry: ``tools`` (the answer's tool calls are read), ``reasoning`` (its
#: reasoning is read), ``images`` (image parts of the messages reach the model), ``usage``
#: (token counts are read).
Capability: TypeAlias = Literal["tools", "reasoning", "images", "usage"]


class _NotJson:
    """The type of :data:`NOT_JSON`."""

    def __repr__(self) -> str:
        return "NOT_JSON"


#: What a sniffer is given for an event whose data is not JSON at all.
NOT_JSON: Final = _NotJson()


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read an answer, beyond its format's name (only the ``json`` format takes any).

    Attributes:
        json_path: The text's field path (``"data.text"``), ``None`` to guess it.
        json_mode: ``"delta"``, ``"cumulative"`` or ``"auto"``.
    """

    json_path: str | None = None
    json_mode: JsonMode = "auto"


@dataclass(frozen=True, slots=True)
class Ask:
    """What a body builder is given: the request, before it takes its API's shape.

    Attributes:
        messages: Chat messages, the system prompt first if any.
        model: The model name, or ``None``.
        stream: Ask for a stream.
        temperature: Sampling temperature, or ``None``.
        max_tokens: Output token limit, or ``None``.
        include_usage: For streams that report usage only when asked: ask.
        template: For home-made servers: the body template.
    """

    messages: list[dict[str, Any]]
    model: str | None = None
    stream: bool = True
    temperature: float | None = None
    max_tokens: int | None = None
    include_usage: bool = True
    template: Mapping[str, Any] | str | None = None


#: ``(base URL, split and its path's trailing "/" removed; model; stream) -> the URL to POST to``.
UrlRule: TypeAlias = Callable[[SplitResult, str | None, bool], str]
#: ``api_key (or None) -> the provider's own headers`` (authentication, version pins).
HeaderRule: TypeAlias = Callable[[str | None], dict[str, str]]
#: ``Ask -> the JSON body`` (extra body fields are merged over it by the caller).
BodyRule: TypeAlias = Callable[[Ask], Any]
#: ``ReadOptions -> a fresh stream parser for one response``.
Reader: TypeAlias = Callable[[ReadOptions], WireFormat]
#: ``(parsed JSON of a first event or a whole body, or NOT_JSON; streamed) -> "this is mine"``.
Sniffer: TypeAlias = Callable[[Any, bool], bool]


def bearer(api_key: str | None) -> dict[str, str]:
    """``Authorization: Bearer <key>`` when there is a key: what most APIs take."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


@dataclass(frozen=True, slots=True)
class RequestRule:
    """The request side of a provider: how to build a request to its API.

    Attributes:
        url: The URL rule.
        body: The body builder.
        headers: The provider's headers for a key (``Authorization: Bearer`` by default).
        key_header: The header its key travels in (lower case): masked and bound to the host.
    """

    url: UrlRule
    body: BodyRule
    headers: HeaderRule = bearer
    key_header: str = "authorization"


@dataclass(frozen=True, slots=True)
class Provider:
    """One API and its wire format, as the registry lists it.

    Attributes:
        name: The API's and the format's name (``"openai-chat"``).
        servers: Who speaks it, for the README's table.
        ends_with: Its terminal marker, for the README's table (``"—"``: none).
        capabilities: What it carries (see :data:`Capability`).
        request: How to build its requests; ``None`` for a format no request is built for.
        reader: Makes a fresh stream parser; ``None`` for an API without a format of its own.
        sniff: Recognises the provider's first event or body for ``format="auto"``.
        event_names: SSE event names that are the provider's alone (recognised by name).
        catch_all: ``sniff`` claims any shape the others did not: it is asked after them.
        reads: For an API: the format read when ``auto`` recognises nothing (default: ``name``).

    Raises:
        ValueError: A provider with neither a request side nor a reader.
    """

    name: str
    servers: str
    ends_with: str
    capabilities: frozenset[Capability] = frozenset()
    request: RequestRule | None = None
    reader: Reader | None = None
    sniff: Sniffer | None = None
    event_names: frozenset[str] = field(default_factory=frozenset)
    catch_all: bool = False
    reads: str | None = None

    def __post_init__(self) -> None:
        if self.request is None and self.reader is None:
            raise ValueError(f"provider {self.name!r} has neither a request side nor a reader")

    @property
    def is_api(self) -> bool:
        """``True`` when requests can be built for it (``api=name``)."""
        return self.request is not None

    @property
    def is_format(self) -> bool:
        """``True`` when its answers have a reader (``format=name``)."""
        return self.reader is not None

    @property
    def answers_in(self) -> str:
        """The format its answers are read in when their shape says nothing."""
        return self.reads or self.name


def with_path(parts: SplitResult, path: str, query: str | None = None) -> str:
    """The URL of ``parts`` with another path (``"/"`` when empty) and, if given, query."""
    return urlunsplit(
        (parts.scheme, parts.netloc, path or "/", parts.query if query is None else query, "")
    )


def compact(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` without its ``None`` fields: unset options are left to the server's defaults."""
    return {k: v for k, v in body.items() if v is not None}


def split_system(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The system prompt (system messages joined) and the other messages.

    The APIs that take the system prompt as a top-level field reject a ``system`` role in the
    list.
    """
    system = "\n\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
    return system, [m for m in messages if m.get("role") != "system"]


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """The text of the last user message (its text parts joined), or ``""``."""
    for m in reversed(messages):
        if m.get("role") == "user":
            content = m.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):  # content parts: keep the text parts
                return "".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return ""


def image_of(part: Any) -> tuple[str, str, str] | None:
    """Read an image part of a message in the one form messages carry it (OpenAI chat's).

    ``{"type": "image_url", "image_url": {"url": "data:image/png;base64,…"}}``: each provider
    renders it in its own API's form.

    Args:
        part: One content part.

    Returns:
        ``(url, mime, base64 data)`` (``mime`` and ``data`` empty for a URL that is not a
        base64 ``data:`` URL), or ``None`` when the part is not an image.
    """
    if not isinstance(part, Mapping) or part.get("type") != "image_url":
        return None
    value = part.get("image_url")
    url = value.get("url") if isinstance(value, Mapping) else value
    url = url if isinstance(url, str) else ""
    head, comma, data = url.partition(",")
    if url.startswith("data:") and comma and head.endswith(";base64"):
        return url, head.removeprefix("data:").removesuffix(";base64"), data
    return url, "", ""


def has_images(messages: list[dict[str, Any]]) -> bool:
    """Whether any message holds an image part (or Ollama's ``images`` list)."""
    for m in messages:
        content = m.get("content")
        if m.get("images") or (
            isinstance(content, list) and any(image_of(p) is not None for p in content)
        ):
            return True
    return False

"""The providers, listed once: every API and wire format nbstream speaks comes from here.

:data:`PROVIDERS` is the list; each entry is a provider module's ``PROVIDER`` (see
:mod:`.provider` for what one holds). The names it yields — :data:`APIS` for ``api=``,
:data:`FORMAT_NAMES` for ``format=`` — and the key headers to mask (:data:`KEY_HEADERS`) are
derived from it, and the README's table of formats is checked against it by a test.

``"auto"`` is resolved by :func:`choose_format` from the first event's shape (or the JSON body's
shape for a non-streamed answer): each provider's sniffer is asked in turn, the catch-all ones
(home-made servers' shapes) last. When the shape says nothing (an error object, ``[DONE]``, an
empty stream) the request's API decides. The chosen name is recorded on the reply
(:attr:`nbstream.Reply.format`).

Every format is made wrapped in :class:`~nbstream._providers._think.ThinkTagFormat`: whatever the
wire, an answer that opens with ``<think>…</think>`` (R1-style models behind a server without a
reasoning parser) has that block read as reasoning.
"""

from __future__ import annotations

import json
from typing import Any

from .._core.errors import ConfigError, FormatError
from . import anthropic, gemini, json_path, ollama, openai_chat, openai_responses, template, text
from ._common import DONE, EventLike, WireFormat
from ._think import ThinkTagFormat
from .provider import NOT_JSON, Capability, JsonMode, Provider, ReadOptions, RequestRule

__all__ = [
    "APIS",
    "FORMAT_NAMES",
    "KEY_HEADERS",
    "PROVIDERS",
    "EventLike",
    "JsonMode",
    "Provider",
    "WireFormat",
    "capabilities",
    "choose_format",
    "make_format",
    "request_rule",
    "sniff_body",
    "sniff_event",
]

#: Every provider, in the order names are listed to users.
PROVIDERS: tuple[Provider, ...] = (
    openai_chat.PROVIDER,
    openai_responses.PROVIDER,
    anthropic.PROVIDER,
    ollama.PROVIDER,
    gemini.PROVIDER,
    template.PROVIDER,
    json_path.PROVIDER,
    text.PROVIDER,
)


def _index(providers: tuple[Provider, ...]) -> dict[str, Provider]:
    """The providers by name, checked: a registration mistake fails at import, not in use."""
    by_name = {p.name: p for p in providers}
    if len(by_name) != len(providers):
        raise ValueError("two providers share a name")
    for p in providers:
        if p.is_api and not (p.answers_in in by_name and by_name[p.answers_in].is_format):
            raise ValueError(f"provider {p.name!r} reads {p.answers_in!r}, which is no format")
    return by_name


_BY_NAME = _index(PROVIDERS)

#: The names ``api=`` takes.
APIS: tuple[str, ...] = tuple(p.name for p in PROVIDERS if p.is_api)
#: The names ``format=`` takes (besides ``"auto"``).
FORMAT_NAMES: tuple[str, ...] = tuple(p.name for p in PROVIDERS if p.is_format)
#: The headers keys travel in (lower case): masked for display, bound to the key's host.
KEY_HEADERS: frozenset[str] = frozenset(p.request.key_header for p in PROVIDERS if p.request)

# Sniffers in the order they are asked: the catch-alls (home-made shapes) after the others.
_SNIFFERS = sorted((p for p in PROVIDERS if p.is_format and p.sniff), key=lambda p: p.catch_all)
# The format a field path means something to.
_JSON_PATH_FORMAT = json_path.PROVIDER.name


def request_rule(api: str) -> RequestRule:
    """How to build a request to an API.

    Args:
        api: One of :data:`APIS`.

    Returns:
        Its provider's request side.

    Raises:
        ConfigError: ``api`` is not one of :data:`APIS`.
    """
    found = _BY_NAME.get(api)
    if found is None or found.request is None:
        raise ConfigError(f"unknown api {api!r}; use one of: {', '.join(APIS)}")
    return found.request


def capabilities(api: str) -> frozenset[Capability]:
    """What an API's provider carries (``"images"`` …); empty for an unknown name."""
    found = _BY_NAME.get(api)
    return found.capabilities if found is not None else frozenset()


def make_format(
    name: str, *, json_path: str | None = None, json_mode: JsonMode = "auto"
) -> WireFormat:
    """Create a fresh format by name.

    Args:
        name: One of :data:`FORMAT_NAMES`.
        json_path: Field path for the ``json`` format (``None``: guessed).
        json_mode: ``"delta"``, ``"cumulative"`` or ``"auto"`` for the ``json`` format.

    Returns:
        A new, stateful :class:`WireFormat` for one response, its leading think block read as
        reasoning (:class:`~nbstream._providers._think.ThinkTagFormat`).

    Raises:
        FormatError: The name is unknown.
    """
    found = _BY_NAME.get(name)
    if found is None or found.reader is None:
        known = ", ".join(FORMAT_NAMES)
        raise FormatError(f"unknown wire format {name!r}; use 'auto' or one of: {known}")
    return ThinkTagFormat(found.reader(ReadOptions(json_path, json_mode)))


def sniff_event(item: EventLike) -> str | None:
    """Name the format a first event looks like, or ``None`` when its shape says nothing.

    Args:
        item: The first event of a stream.

    Returns:
        A format name, or ``None`` for ``[DONE]``, empty data and error objects (which every
        format reads), so that the request's API decides.
    """
    named = next((p.name for p in PROVIDERS if item.event in p.event_names), None)
    if named is not None:
        return named
    data = item.data.strip()
    if not data or data == DONE:
        return None
    try:
        obj = json.loads(data)
    except ValueError:
        obj = NOT_JSON
    return _shape(obj, streamed=True)


def sniff_body(obj: Any) -> str | None:
    """Name the format a complete (non-streamed) JSON answer looks like, or ``None``.

    Args:
        obj: The parsed body.

    Returns:
        A format name, or ``None`` for error objects.
    """
    return _shape(obj, streamed=False)


def _shape(obj: Any, *, streamed: bool) -> str | None:
    return next((p.name for p in _SNIFFERS if p.sniff and p.sniff(obj, streamed)), None)


def choose_format(
    format: str,
    *,
    api: str,
    first: EventLike | None = None,
    body: Any = None,
    json_path: str | None = None,
    json_mode: JsonMode = "auto",
) -> WireFormat:
    """Resolve ``format`` (a name or ``"auto"``) into a fresh format for one response.

    Args:
        format: A name from :data:`FORMAT_NAMES`, or ``"auto"``.
        api: The API the request was built for (one of :data:`APIS`).
        first: The stream's first event, if any arrived.
        body: The parsed JSON body, for a non-streamed answer.
        json_path: Field path for the ``json`` format.
        json_mode: Mode for the ``json`` format.

    Returns:
        The format; its ``name`` is the choice to record on the reply.

    Raises:
        FormatError: ``format`` is not a known name.
    """
    if format != "auto":
        return make_format(format, json_path=json_path, json_mode=json_mode)
    if json_path is not None:
        # A field path only means something to the json format: asking for one chooses it.
        return make_format(_JSON_PATH_FORMAT, json_path=json_path, json_mode=json_mode)
    guess: str | None = None
    if body is not None:
        guess = sniff_body(body)
    elif first is not None:
        guess = sniff_event(first)
    if guess is None:
        api_side = _BY_NAME.get(api)
        guess = api_side.answers_in if api_side is not None else _JSON_PATH_FORMAT
    return make_format(guess, json_path=json_path, json_mode=json_mode)

"""Cassettes: one recorded HTTP exchange per small JSON file, and how requests find theirs.

A cassette keeps what a client needs to live an exchange again: the request (to match it),
the response's status and headers, and the body's bytes with their arrival times. It is written
to be read by a person and diffed by git: JSON, one chunk a line, the bytes as text where they
are UTF-8::

    {
      "nbstream_cassette": 1,
      "key": "34d8f1cc3a21",
      "request": {"method": "POST", "url": "http://127.0.0.1:8080/v1/chat/completions",
                  "headers": {...}, "json": {"model": "gemma3", "messages": [...]}},
      "response": {"status": 200, "reason": "OK", "at": 0.0712, "headers": {...}},
      "chunks": [
        [0.0843, "data: {\\"choices\\":[{\\"delta\\":{\\"content\\":\\"The\\"}}]}\\n\\n"],
        [0.1021, {"base64": "/+4="}]
      ],
      "end": {"how": "eof", "at": 1.2305},
      "bytes": 4711
    }

Times are seconds since the request was sent (``response.at``: the headers arrived). ``end``
says how the body ended: ``eof`` (the server finished it), ``error`` (the connection failed,
``error`` names the httpx exception) or ``open`` (the client stopped reading while the body was
still open: a stall that timed out, a Cancel); a replay of ``open`` stays silent after its last
chunk, as the server did. ``bytes`` is the body's length, so a cassette cut short is caught;
``key`` is the request's match key (below), also the end of the file's name.

**What is never kept.** Credentials are *removed*, not masked: credential headers
(``Authorization``, ``x-api-key``, ``x-goog-api-key``, ``api-key``, ``Cookie``, ``Set-Cookie``,
anything named like an auth, key, secret, session or password header, and the account headers
``OpenAI-Organization`` / ``OpenAI-Project``), credential query parameters (``key``,
``api_key``, ``token`` …), user:password in the URL, and body fields named like credentials
(``api_key``, ``token``, ``password`` …). A known key of 16 characters or more that turns up
anywhere else (a server echoing it in a header or the body, a prompt quoting it), or its
base64, is replaced by ``***`` — as nbstream shows it live — and a header carrying one is
dropped. Framing headers (``Content-Length``, ``Transfer-Encoding``, ``Connection``, ``Host``)
are the replayer's business and not kept.

**Matching.** A request's key (:func:`request_key`) hashes its method, URL path,
non-credential query and JSON body, leaving out credentials (whatever key the client sends),
the host (a cassette answers wherever it is replayed: a classroom server, another port) and
the volatile fields :data:`VOLATILE_FIELDS`:
``stream_options`` (nbstream asks for usage, the SDKs do not, and the engine drops it for
servers that refuse it), ``user``, ``metadata`` and ``store`` (bookkeeping about the caller,
not the question). ``seed``, ``temperature`` and the rest decide the answer and are kept.

Files are named ``[<notebook>-]<first words of the prompt>-<model>-<key>.json``, so a reader
can tell which cell made one; a request finds its file by the key alone.

Stdlib only.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import math
import re
import zlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeAlias, get_args
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from .errors import CassetteError, ConfigError
from .secrets import KEY_SHAPES, MASK, known_secrets
from .values import ValueRepr

__all__ = [
    "DEFAULT_DIRECTORY",
    "INSTANT",
    "MAX_CASSETTE_BYTES",
    "VOLATILE_FIELDS",
    "Cassette",
    "CassetteSettings",
    "Chunk",
    "Ending",
    "Mode",
    "RecordedRequest",
    "credentials_in",
    "dumps",
    "find",
    "loads",
    "match_key",
    "name_for",
    "paced",
    "parse_speed",
    "read",
    "record",
    "recorded_request",
    "request_key",
    "write",
]

FORMAT_VERSION = 1
DEFAULT_DIRECTORY = "cassettes"
#: Refused when larger, on reading and on writing: a chat answer is kilobytes; tens of
#: megabytes is a runaway recording (or not a cassette), and it would sit in git forever.
MAX_CASSETTE_BYTES = 20 * 1024 * 1024
#: ``speed`` that plays every chunk at once.
INSTANT = math.inf
#: Top-level body fields left out of the match key (see the module docstring).
VOLATILE_FIELDS = frozenset({"stream_options", "user", "metadata", "store"})

Mode: TypeAlias = Literal["off", "record", "replay", "auto"]
How: TypeAlias = Literal["eof", "error", "open"]
Chunk: TypeAlias = tuple[float, bytes]

_CREDENTIAL_NAME = re.compile(
    r"(?i)^(?:authorization|proxy-authorization|cookie|set-cookie|api-key|x-api-key"
    r"|x-goog-api-key|openai-organization|openai-project)$"
    r"|auth|api[-_]?key|secret|passw|session|credential|access[-_]?token|x-.*-key$"
)
_CREDENTIAL_QUERY = re.compile(
    r"(?i)^(?:key|api[-_]?key|apikey|token|access[-_]?token|auth|sig|signature|password"
    r"|secret|client[-_]?secret|code)$"
)
_CREDENTIAL_FIELD = re.compile(
    r"(?i)^(?:api[-_]?key|apikey|x-api-key|access[-_]?token|auth[-_]?token|authorization"
    r"|token|password|passwd|secret|client[-_]?secret|key)$"
)
_FRAMING = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "host", "te", "upgrade"}
)
# Searched for in bodies only from this length: API keys are 20 to 100+ characters, while the
# dummy keys of local servers ("anything", "ollama", "EMPTY") are ordinary words that answers
# contain. Credential headers, query parameters and fields are removed whatever their length.
_MIN_SECRET = 16
_STEM_WORDS = 6


@dataclass(frozen=True, slots=True, repr=False)
class RecordedRequest(ValueRepr):
    """A request as a cassette keeps it: credentials removed.

    Attributes:
        method: ``"POST"`` …
        url: The URL without credentials (user:password, credential query parameters).
        headers: Header names (lower case) and values, credentials and framing removed.
        json: The body parsed as JSON, credential fields removed; ``None`` if not JSON.
        content: The body's bytes when it is not JSON.
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes = b""

    @property
    def model(self) -> str:
        """The ``model`` of a JSON body, or ``""``."""
        model = self.json.get("model") if isinstance(self.json, dict) else None
        return model if isinstance(model, str) else ""

    @property
    def prompt(self) -> str:
        """The last user text of the body (chat messages, Responses ``input``, ``prompt``)."""
        return _last_user_text(self.json)


@dataclass(frozen=True, slots=True, repr=False)
class Ending(ValueRepr):
    """How a recorded body ended.

    Attributes:
        how: ``"eof"``, ``"error"`` or ``"open"`` (see the module docstring).
        at: Seconds since the request was sent.
        error: For ``"error"``: the httpx exception's class name (``"RemoteProtocolError"``).
        message: For ``"error"``: its message.
    """

    how: How
    at: float
    error: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True, repr=False)
class Cassette(ValueRepr):
    """One recorded exchange.

    Attributes:
        request: The request, credentials removed.
        status: The response's status code.
        reason: Its reason phrase.
        headers: Its headers (lower-case names), credentials and framing removed.
        head_at: When the headers arrived, in seconds since the request was sent.
        chunks: The body as ``(seconds since the request was sent, bytes)``, in order.
        end: How the body ended.
        key: The request's match key (:func:`request_key` of the request as sent; by default
            :func:`match_key` of ``request``).
    """

    request: RecordedRequest
    status: int
    reason: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    head_at: float = 0.0
    chunks: tuple[Chunk, ...] = ()
    end: Ending = Ending("eof", 0.0)
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", match_key(self.request))

    @property
    def body(self) -> bytes:
        """The whole body."""
        return b"".join(data for _, data in self.chunks)

    def filename(self, prefix: str = "") -> str:
        """The file name this cassette is saved under (see :func:`name_for`)."""
        return name_for(self.request, self.key, prefix)


@dataclass(frozen=True, slots=True, repr=False)
class CassetteSettings(ValueRepr):
    """What to do with cassettes, for one chat.

    Attributes:
        mode: ``"off"``; ``"record"`` (ask the server, save the exchange, replacing any cassette
            of the same request); ``"replay"`` (answer from cassettes only; a request without
            one fails); ``"auto"`` (replay when there is a cassette, else ask and record).
        directory: Where cassettes are (relative paths: to the working directory, which in a
            notebook is the notebook's folder).
        speed: Replay pace: ``1.0`` the recorded rhythm, ``2.0`` twice as fast,
            :data:`INSTANT` everything at once.
        prefix: Put before new file names (the notebook's name).
    """

    mode: Mode = "off"
    directory: str = DEFAULT_DIRECTORY
    speed: float = 1.0
    prefix: str = ""

    def describe(self) -> str:
        """One line for the status line and ``%chat show``: what happens, and where."""
        pace = "instant" if self.speed == INSTANT else f"{self.speed:g}x"
        where = self.directory.rstrip("/") + "/"
        return {
            "off": "cassettes off",
            "record": f"recording to {where}",
            "replay": f"replaying from {where} ({pace})",
            "auto": f"replaying from {where} ({pace}), recording what is missing",
        }[self.mode]


def parse_speed(value: float | str) -> float:
    """Read a replay speed: a number above 0 (``1`` the recorded pace) or ``"instant"``.

    Raises:
        ConfigError: Anything else.
    """
    if isinstance(value, str) and value.strip().lower() == "instant":
        return INSTANT
    try:
        speed = float(value)
    except ValueError:
        speed = math.nan
    if not speed > 0:
        raise ConfigError(f"speed takes a number above 0 or 'instant', not {value!r}")
    return speed


# -- recording: what a cassette keeps of an exchange -------------------------------------------


def credentials_in(headers: Iterable[tuple[str, str]], url: str) -> list[str]:
    """The credentials a request carries: credential header values, query values, URL password.

    A ``Bearer``/``Basic`` header gives its token, and ``Basic`` also the decoded password.

    Args:
        headers: The request's headers.
        url: The request's URL.

    Returns:
        The secrets, to be removed wherever else they appear.
    """
    found: list[str] = []
    for name, value in headers:
        if not _CREDENTIAL_NAME.search(name):
            continue
        found.append(value)
        scheme, _, token = value.strip().partition(" ")
        if token:
            found.append(token.strip())
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(token.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                continue
            found += [decoded, decoded.partition(":")[2]]
    parts = urlsplit(url)
    found += [v for k, v in parse_qsl(parts.query) if _CREDENTIAL_QUERY.match(k)]
    if parts.password:
        found.append(unquote(parts.password))
    return [s for s in found if len(s) >= _MIN_SECRET]


def recorded_request(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    content: bytes,
    secrets: Iterable[str | None] = (),
) -> RecordedRequest:
    """A request as a cassette keeps it: credentials removed.

    Args:
        method: The HTTP method.
        url: The full URL.
        headers: The headers as sent.
        content: The body as sent.
        secrets: Keys in play, in addition to those the request carries and the registered ones.

    Returns:
        The request without credentials.
    """
    pairs = list(headers)
    return _without_credentials(
        method, url, pairs, content, _secrets([*secrets, *credentials_in(pairs, url)])
    )


def request_key(method: str, url: str, headers: Iterable[tuple[str, str]], content: bytes) -> str:
    """The match key of a request as sent (see :func:`match_key`).

    It depends on no key: credential headers, query parameters and body fields are removed,
    and nothing is searched for in the text, so the same question matches whoever asks it,
    with whatever key (a classroom's ``api_key="anything"`` included).

    Returns:
        12 hex digits.
    """
    return match_key(_without_credentials(method, url, list(headers), content, None))


def _without_credentials(
    method: str,
    url: str,
    pairs: list[tuple[str, str]],
    content: bytes,
    known: list[str] | None,
) -> RecordedRequest:
    """The request minus credentials; ``known`` secrets (if given) are also cut from the text."""
    kept: dict[str, str] = {}
    for name, value in pairs:
        lower = name.lower()
        if _CREDENTIAL_NAME.search(lower) or lower in _FRAMING or _holds(value, known or []):
            continue
        kept[lower] = f"{kept[lower]}, {value}" if lower in kept else value
    clean = _clean_url(url, known or [])
    try:
        body = json.loads(content) if content else None
    except ValueError:
        text = (
            content
            if known is None
            else _scrub_text(content.decode("utf-8", "replace"), known).encode()
        )
        return RecordedRequest(method.upper(), clean, kept, content=text)
    return RecordedRequest(method.upper(), clean, kept, json=_scrub_json(body, known))


def record(
    request: RecordedRequest,
    *,
    status: int,
    reason: str,
    headers: Iterable[tuple[str, str]],
    head_at: float,
    chunks: Sequence[Chunk],
    end: Ending,
    secrets: Iterable[str | None] = (),
    key: str = "",
) -> Cassette:
    """Make a cassette of an exchange, removing every credential from the response too.

    A ``gzip`` or ``deflate`` body is kept decoded (its header dropped), so that no key can hide
    inside compressed bytes and the chunks stay readable.

    Args:
        request: The request, from :func:`recorded_request`.
        status: The status code.
        reason: The reason phrase.
        headers: The response headers.
        head_at: Seconds from sending the request to the headers.
        chunks: The raw body as ``(seconds since sending, bytes)``.
        end: How the body ended.
        secrets: The keys in play (those of the original request included).
        key: The request's match key (:func:`request_key` of the request as sent).

    Returns:
        The cassette.

    Raises:
        CassetteError: The body is compressed in a way nbstream cannot read (``br``, ``zstd``),
            so it could not be checked for keys.
    """
    known = _secrets(secrets)
    kept: dict[str, str] = {}
    encoding = ""
    for name, value in headers:
        lower = name.lower()
        if lower == "content-encoding":
            encoding = value.strip().lower()
            continue
        if _CREDENTIAL_NAME.search(lower) or lower in _FRAMING or _holds(value, known):
            continue
        kept[lower] = f"{kept[lower]}, {value}" if lower in kept else value
    body = _decoded(chunks, encoding)
    if encoding and body is None:
        raise CassetteError(
            f"not recorded: the body is {encoding}-encoded, which nbstream cannot check for keys"
        )
    patterns = [s.encode() for s in known]
    patterns += [base64.b64encode(p) for p in patterns]
    return Cassette(
        request=request,
        status=status,
        reason=reason,
        headers=kept,
        head_at=head_at,
        chunks=tuple(_scrub_chunks(body if body is not None else list(chunks), patterns)),
        end=replace(end, message=_scrub_text(end.message, known)),
        key=key,
    )


def _secrets(extra: Iterable[str | None]) -> list[str]:
    found = {s for s in (*known_secrets(), *extra) if s and len(s) >= _MIN_SECRET}
    return sorted(found, key=len, reverse=True)  # longest first: a key before its prefix


def _holds(text: str, secrets: Sequence[str]) -> bool:
    return any(s in text for s in secrets) or bool(KEY_SHAPES.search(text))


def _scrub_text(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    # Provider key shapes (sk-…, sk-ant-…) only: the bearer shapes would cut ordinary prose.
    return KEY_SHAPES.sub(lambda m: MASK if m.group("key") else m.group(0), text)


def _scrub_json(value: Any, secrets: Sequence[str] | None) -> Any:
    if isinstance(value, dict):
        return {
            k: _scrub_json(v, secrets)
            for k, v in value.items()
            if not (_CREDENTIAL_FIELD.match(str(k)) and isinstance(v, str))
        }
    if isinstance(value, list):
        return [_scrub_json(v, secrets) for v in value]
    if isinstance(value, str) and secrets is not None:
        return _scrub_text(value, secrets)
    return value


def _clean_url(url: str, secrets: Sequence[str]) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _CREDENTIAL_QUERY.match(k)])
    path = parts.path
    for secret in secrets:
        path = path.replace(secret, "")
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _decoded(chunks: Sequence[Chunk], encoding: str) -> list[Chunk] | None:
    if encoding in ("", "identity"):
        return list(chunks)
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return None
    # zlib's "32 + MAX_WBITS" reads gzip and zlib headers alike; raw deflate needs -MAX_WBITS.
    wbits = 32 + zlib.MAX_WBITS
    if encoding == "deflate" and chunks and chunks[0][1][:1] not in (b"\x78", b"\x1f"):
        wbits = -zlib.MAX_WBITS
    decoder = zlib.decompressobj(wbits)
    out: list[Chunk] = []
    try:
        for at, data in chunks:
            plain = decoder.decompress(data)
            if plain:
                out.append((at, plain))
        rest = decoder.flush()
    except zlib.error:
        return None
    if rest:
        out.append((chunks[-1][0], rest))
    return out


def _scrub_chunks(chunks: list[Chunk], patterns: Sequence[bytes]) -> list[Chunk]:
    """Replace every pattern in the body by ``***``, even one split across chunks."""
    body = b"".join(data for _, data in chunks)
    spans: list[tuple[int, int]] = []
    for pattern in sorted({p for p in patterns if p}, key=len, reverse=True):
        start = body.find(pattern)
        while start >= 0:
            end = start + len(pattern)
            if not any(a < end and start < b for a, b in spans):
                spans.append((start, end))
            start = body.find(pattern, end)
    if not spans:
        return chunks
    spans.sort()
    out: list[Chunk] = []
    pos = 0
    for at, data in chunks:
        lo, hi = pos, pos + len(data)
        piece = bytearray()
        cursor = lo
        for a, b in spans:
            if b <= lo or a >= hi:
                continue
            if a > cursor:
                piece += body[cursor:a]
            if a >= lo:  # the replacement goes where the secret began
                piece += MASK.encode()
            cursor = max(cursor, min(b, hi))
        piece += body[cursor:hi]
        if piece:
            out.append((at, bytes(piece)))
        pos = hi
    return out


# -- matching and naming ------------------------------------------------------------------------


def match_key(request: RecordedRequest) -> str:
    """The key a request is matched by: 12 hex digits of a hash of what decides the answer.

    Method, URL path and non-credential query, and the body without the volatile fields;
    not the host, the headers or any credential.

    Args:
        request: The request, credentials removed (use :func:`request_key` for one as sent).

    Returns:
        The key.
    """
    parts = urlsplit(request.url)
    query = sorted(parse_qsl(parts.query))
    if isinstance(request.json, dict):
        body: Any = {k: v for k, v in request.json.items() if k not in VOLATILE_FIELDS}
    elif request.json is not None:
        body = request.json
    else:
        body = request.content.decode("utf-8", "replace")
    canonical = json.dumps(
        [request.method, parts.path.rstrip("/") or "/", query, body],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def name_for(request: RecordedRequest, key: str, prefix: str = "") -> str:
    """The file name of a request's cassette: ``[prefix-]<prompt words>-<model>-<key>.json``.

    Args:
        request: The request.
        key: Its match key.
        prefix: Put first (the notebook's name), if given.

    Returns:
        A file name (no directory).
    """
    words = " ".join(request.prompt.split()[:_STEM_WORDS])
    parts = [_slug(prefix, 40), _slug(words, 40), _slug(request.model, 32), key]
    return "-".join(p for p in parts if p) + ".json"


def find(directory: str | Path, key: str) -> Path | None:
    """The cassette for a match key in ``directory``, if there is one (any name ending in it)."""
    folder = Path(directory)
    if not folder.is_dir():
        return None
    found = sorted(folder.glob(f"*{key}.json"))
    return found[0] if found else None


def _slug(text: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def _last_user_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    for name in ("messages", "input", "contents"):
        items = body.get(name)
        if isinstance(items, str):
            return items
        if isinstance(items, list):
            for item in reversed(items):
                if isinstance(item, dict) and item.get("role", "user") == "user":
                    return _text_of(item.get("content", item.get("parts")))
    for name in ("prompt", "query", "input"):
        if isinstance(body.get(name), str):
            return str(body[name])
    return ""


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return ""


# -- the file ------------------------------------------------------------------------------------


def dumps(cassette: Cassette) -> str:
    """The cassette as JSON text: readable, one chunk a line, bytes as text where they are UTF-8."""
    request: dict[str, Any] = {
        "method": cassette.request.method,
        "url": cassette.request.url,
        "headers": dict(cassette.request.headers),
    }
    if cassette.request.json is not None:
        request["json"] = cassette.request.json
    elif cassette.request.content:
        request["content"] = _encode_bytes(cassette.request.content)
    response = {
        "status": cassette.status,
        "reason": cassette.reason,
        "at": round(cassette.head_at, 4),
        "headers": dict(cassette.headers),
    }
    end: dict[str, Any] = {"how": cassette.end.how, "at": round(cassette.end.at, 4)}
    if cassette.end.how == "error":
        end |= {"error": cassette.end.error, "message": cassette.end.message}
    chunks = ",\n".join(
        "    " + _compact([round(at, 4), _encode_bytes(data)]) for at, data in cassette.chunks
    )

    def block(value: Any) -> str:
        return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")

    return (
        "{\n"
        f'  "nbstream_cassette": {FORMAT_VERSION},\n'
        f'  "key": "{cassette.key}",\n'
        f'  "request": {block(request)},\n'
        f'  "response": {block(response)},\n'
        f'  "chunks": [{chr(10) + chunks + chr(10) + "  " if chunks else ""}],\n'
        f'  "end": {_compact(end)},\n'
        f'  "bytes": {len(cassette.body)}\n'
        "}\n"
    )


def loads(text: str | bytes, where: str = "the cassette") -> Cassette:
    """Read a cassette from its JSON text, checking every field.

    Args:
        text: The file's content.
        where: How to name it in errors (its path).

    Returns:
        The cassette.

    Raises:
        CassetteError: Not valid JSON, a field missing or wrong, or the chunks do not add up
            to the recorded length (cut short or edited).
    """
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise CassetteError(f"{where} is not valid JSON ({exc}): cut short? re-record it") from None
    try:
        return _parse(raw, where)
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise CassetteError(f"{where} is not a valid cassette ({detail}): re-record it") from None


def _parse(raw: Any, where: str) -> Cassette:
    if not isinstance(raw, dict) or raw.get("nbstream_cassette") != FORMAT_VERSION:
        raise ValueError(f'no "nbstream_cassette": {FORMAT_VERSION}')
    req, resp, end = raw["request"], raw["response"], raw["end"]
    request = RecordedRequest(
        method=_str(req["method"]),
        url=_str(req["url"]),
        headers=_headers(req.get("headers", {})),
        json=req.get("json"),
        content=_decode_bytes(req["content"]) if "content" in req else b"",
    )
    status = resp["status"]
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"status {status!r}")
    chunks: list[Chunk] = []
    last = 0.0
    for item in raw["chunks"]:
        if not isinstance(item, list) or len(item) != 2:
            raise ValueError(f"chunk {item!r:.40}")
        at = _time(item[0])
        if at < last:
            raise ValueError(f"chunk times go back ({at} after {last})")
        chunks.append((at, _decode_bytes(item[1])))
        last = at
    how = end["how"]
    if how not in get_args(How):
        raise ValueError(f"end.how {how!r}")
    ending = Ending(how, _time(end["at"]), str(end.get("error", "")), str(end.get("message", "")))
    if how == "error" and not ending.error.isidentifier():
        raise ValueError(f"end.error {ending.error!r}")
    size = sum(len(data) for _, data in chunks)
    if raw["bytes"] != size:
        raise CassetteError(
            f"{where}: its chunks hold {size:,} bytes but it recorded {raw['bytes']:,}: "
            'cut short or edited; re-record it (or correct "bytes")'
        )
    key = raw.get("key", "")
    if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{12}|", key):
        raise ValueError(f"key {key!r:.40}")
    return Cassette(
        key=key,
        request=request,
        status=status,
        reason=_str(resp.get("reason", "")),
        headers=_headers(resp.get("headers", {})),
        head_at=_time(resp.get("at", 0.0)),
        chunks=tuple(chunks),
        end=ending,
    )


def read(path: str | Path) -> Cassette:
    """Load a cassette file.

    Raises:
        CassetteError: Unreadable, over :data:`MAX_CASSETTE_BYTES`, or invalid (see :func:`loads`).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CASSETTE_BYTES:
            raise CassetteError(
                f"{path} is {size / 1e6:.1f} MB, over the {MAX_CASSETTE_BYTES // 2**20} MB "
                "cassette limit: not read"
            )
        text = path.read_bytes()
    except OSError as exc:
        raise CassetteError(f"cannot read {path}: {exc.strerror or exc}") from None
    return loads(text, str(path))


def write(directory: str | Path, cassette: Cassette, prefix: str = "") -> Path:
    """Save a cassette in ``directory``, replacing any cassette of the same request.

    Args:
        directory: The folder (created if missing).
        cassette: The exchange.
        prefix: Put before the file name (the notebook's name).

    Returns:
        The file written.

    Raises:
        CassetteError: Over :data:`MAX_CASSETTE_BYTES`, or the folder cannot be written.
    """
    data = dumps(cassette).encode()
    if len(data) > MAX_CASSETTE_BYTES:
        raise CassetteError(
            f"not recorded: the cassette would be {len(data) / 1e6:.1f} MB, over the "
            f"{MAX_CASSETTE_BYTES // 2**20} MB limit"
        )
    folder = Path(directory)
    path = folder / cassette.filename(prefix)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"*{cassette.key}.json"):
            if old != path:
                old.unlink()  # the same request recorded under another name (another notebook)
        partial = path.with_suffix(".json.partial")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: a reader never sees half a cassette
    except OSError as exc:
        raise CassetteError(f"not recorded: cannot write {path}: {exc.strerror or exc}") from None
    return path


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _encode_bytes(data: bytes) -> str | dict[str, str]:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def _decode_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and isinstance(value.get("base64"), str):
        return base64.b64decode(value["base64"], validate=True)
    raise ValueError(f"bytes must be text or {{'base64': …}}, not {value!r:.40}")


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r:.40}")
    return value


def _time(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e6:
        raise ValueError(f"time {value!r:.40}")
    return float(value)


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError("headers must map names to text")
    return dict(value)


# -- replaying -----------------------------------------------------------------------------------


async def paced(cassette: Cassette, speed: float, started: float) -> AsyncIterator[bytes]:
    """Yield a cassette's chunks at their recorded times divided by ``speed``.

    After the last chunk it waits for the recorded end: for ``"eof"`` and ``"error"`` it then
    returns (the caller raises the error); for ``"open"`` it never returns, as the server that
    went silent never spoke again — the client's own timeout or Cancel ends it. Every wait is
    an ordinary ``asyncio.sleep``: a cancellation ends the replay at once.

    Args:
        cassette: The exchange.
        speed: ``1.0`` for the recorded pace, :data:`INSTANT` for no waiting.
        started: The event loop's time (``loop.time()``) the request was sent at.

    Yields:
        The body's chunks.
    """
    loop = asyncio.get_running_loop()
    for at, data in cassette.chunks:
        await asyncio.sleep(max(0.0, started + at / speed - loop.time()))
        yield data
    await asyncio.sleep(max(0.0, started + cassette.end.at / speed - loop.time()))
    if cassette.end.how == "open":
        await loop.create_future()  # silence, until the client gives up

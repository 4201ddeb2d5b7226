"""A chat's settings: every option declared once, filled in layers, and the one way to an Endpoint.

:class:`Settings` holds what one chat is asked with: where (``base_url``, ``api``), what
(``model``, ``system``, sampling), how the answer is read (``format``, ``json_path`` …) and with
which key. Each option is one field below, declared with its doc and the sources that may set
it; the rest is derived from that one list: the keywords of ``chat``, ``chat_sync``,
``astream`` and ``prepare_request`` (:class:`ChatOptions`, and the signature ``help()`` shows),
the ``%%chat`` flags, the ``ChatMagics`` traits behind ``%config``, the keys ``%chat config``
and profiles accept, and the environment variables read.

Settings come in layers, lowest first; a later layer overrides an option only where it *sets*
it. A layer records which options it sets (``given``), so an explicit ``None`` or ``0`` is a
value, distinct from "unset":

1. the environment (:func:`env_layer`): ``NBSTREAM_BASE_URL`` (or ``OPENAI_BASE_URL``, what the
   openai client reads), ``NBSTREAM_MODEL``, ``NBSTREAM_API``, ``NBSTREAM_FORMAT``,
   ``NBSTREAM_SYSTEM``, ``NBSTREAM_TEMPERATURE``, ``NBSTREAM_MAX_TOKENS``, ``NBSTREAM_RETRIES``
   and ``NBSTREAM_API_KEY_ENV`` (the *name* of the variable holding the key); ``OPENAI_API_KEY``
   alone means api.openai.com with that key;
2. the session: ``%config ChatMagics.model = …``, ``%chat config model=…`` and
   ``%chat profile NAME`` all set the ``ChatMagics`` traits, so they are one layer in which the
   later command wins;
3. one cell's options (``%%chat -m … --base-url …``) or one call's keywords
   (``chat(model=…)``; an ``endpoint=`` goes first, the other keywords on top of it).

:meth:`Settings.resolve` then reads the key and fills the defaults; :meth:`Settings.endpoint`
turns the result into the :class:`~nbstream.Endpoint` the engine sends to. With no base URL
anywhere, the chat layer sends to the embedded demo backend, and says so.

Cassettes (record and replay, :mod:`nbstream._core.cassette`) are options too: ``record`` and
``replay`` (``NBSTREAM_RECORD=DIR`` / ``NBSTREAM_REPLAY=DIR``, ``%%chat --record`` / ``--replay``,
``%chat record …`` / ``%chat replay …``), ``cassette_dir`` and ``speed``. A layer that turns one
of ``record`` and ``replay`` on turns the other off, so the highest layer's choice wins; a folder
given to either is that layer's ``cassette_dir``. :meth:`Settings.cassettes` says what to do.

Keys: a key typed in a notebook is saved, shared and committed, so outside code a key is only
ever read from an environment variable, named by a layer (``api_key_env``); anything shaped like
a key on a magic line, in ``%chat config`` or in a profile is refused. A key is *bound* to the
base URL in force in the layer that configured it, and sent only when the final base URL has
the same origin (scheme, host, port): ``--base-url http://elsewhere`` never receives the key
configured for api.openai.com. A key from a variable is then left out with a notice; a key given
in code (``api_key=``, an ``Endpoint``'s, or a credential header such as ``Authorization``) is a
:class:`~nbstream.ConfigError`, because the code asked for something that must not happen. A key
given in code with no base URL anywhere goes to api.openai.com, as the openai client's does.

Named endpoints (``%chat profile``) are kept in ``profiles.json`` so that they outlive the kernel
(:class:`ProfileStore`): a profile is a layer of session settings, and holds the *name* of the
key's variable, never a key.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import json
import os
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar, cast

from .._core.cassette import DEFAULT_DIRECTORY, CassetteSettings, Mode, parse_speed
from .._core.errors import ConfigError
from .._core.secrets import KEY_SHAPES, redact, register_secret
from .._core.urls import host_of, origin, same_origin
from .._core.values import ValueRepr
from .._providers.registry import APIS, FORMAT_NAMES
from .._providers.request import SENSITIVE_HEADERS
from .endpoint import Endpoint

if TYPE_CHECKING:
    from .._http.transport import Timeouts
    from .._providers.registry import JsonMode

__all__ = [
    "EMBEDDED_MODEL",
    "KEY_HELP",
    "OPENAI_BASE_URL",
    "ChatOptions",
    "Option",
    "ProfileStore",
    "Settings",
    "check_env_name",
    "check_no_key",
    "config_dir",
    "env_layer",
    "merge",
    "option_name",
    "options",
    "profile",
    "takes_options",
]

OPENAI_BASE_URL = "https://api.openai.com/v1"
EMBEDDED_MODEL = "demo"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

KEY_HELP = (
    "set the key in an environment variable before starting Jupyter (e.g. OPENAI_API_KEY) "
    "and, if it is another variable, name it: %chat config api_key_env=NAME"
)

# Names under which people try to type a key where text is read: refused, never "unknown".
_KEY_NAMES = frozenset({"api_key", "key", "token", "password", "secret"})
# Other spellings of an option, where text is read (profiles have always said key_env).
_ALIASES = {"key_env": "api_key_env"}


def option_name(name: str) -> str:
    """The option a name typed by a person means: ``-`` read as ``_``, aliases resolved."""
    name = name.strip().replace("-", "_")
    return _ALIASES.get(name, name)


def check_no_key(text: str, where: str = "the magic line") -> None:
    """Refuse text that contains something shaped like an API key.

    A key typed in a cell is saved with the notebook, shared and committed, so it is refused
    instead of used.

    Args:
        text: What the user typed (a magic line, a ``key=value`` setting).
        where: Where it was typed, for the message.

    Raises:
        ConfigError: The text holds a key-shaped token; the message says how to set keys.
    """
    if KEY_SHAPES.search(text):
        raise ConfigError(f"an API key on {where} would be saved with the notebook: {KEY_HELP}")


def check_env_name(name: str) -> str:
    """Validate the *name* of an environment variable meant to hold a key.

    Args:
        name: e.g. ``"OPENAI_API_KEY"``.

    Returns:
        The name.

    Raises:
        ConfigError: It is not a variable name (most likely the key itself).
    """
    if not _ENV_NAME.match(name) or KEY_SHAPES.search(name):
        raise ConfigError(f"api_key_env takes the NAME of an environment variable: {KEY_HELP}")
    return name


# -- how an option is read from text ---------------------------------------------------------------

Kind = Literal["text", "number", "count", "seconds", "name", "switch", "cassette", "speed", "code"]
_ON = frozenset({"on", "true", "yes", "1"})
_OFF = frozenset({"off", "false", "no", "0"})


def _from_text(kind: Kind, value: object) -> object:
    """Read one value as typed by a person (or as a trait holds it); ValueError says what fits."""
    if kind == "number":
        try:
            return float(cast(Any, value))
        except (TypeError, ValueError):
            raise ValueError("a number") from None
    if kind == "count":
        try:
            return int(cast(Any, value))
        except (TypeError, ValueError):
            raise ValueError("a whole number") from None
    if kind == "seconds":
        try:
            seconds = float(cast(Any, value))
        except (TypeError, ValueError):
            seconds = 0.0
        if not seconds > 0:
            raise ValueError("a number of seconds above 0")
        from .._http.transport import Timeouts

        # One limit for every phase, as a person means it; connecting never waits longer than
        # the default connect limit (a reachable server connects in milliseconds).
        connect = Timeouts().connect
        return Timeouts(connect=min(seconds, connect or seconds), first_byte=seconds, idle=seconds)
    if kind == "name":
        return check_env_name(str(value))
    if kind == "switch":
        return bool(value)
    if kind == "cassette":
        if isinstance(value, bool):
            return value
        word = str(value).strip()
        if word.lower() in _ON | _OFF:
            return word.lower() in _ON
        return word  # "auto", or a folder
    if kind == "speed":
        try:
            return parse_speed(cast(Any, value))
        except (ConfigError, TypeError):
            raise ValueError("a number above 0 or 'instant'") from None
    return str(value)


@dataclass(frozen=True, slots=True)
class Option:
    """What one setting is, besides its type and default: the metadata of a :class:`Settings` field.

    Attributes:
        doc: What it means, one or two sentences (shown by ``help()``, ``%%chat?``, ``%config``).
        kind: How it is read from text: ``"text"``, ``"number"``, ``"count"`` (a whole number),
            ``"seconds"`` (one limit for every timeout), ``"name"`` (an environment variable's);
            ``"switch"``: only a ``%%chat`` flag that sets the opposite of the default;
            ``"cassette"``: ``on``/``off`` (``True``/``False``), ``auto`` or a folder (on,
            there), and a ``%%chat`` flag that turns it on; ``"speed"``: a number above 0 or
            ``instant``;
            ``"code"``: only from code.
        env: Environment variables that set it, first found wins.
        flags: The ``%%chat`` options that set it.
        metavar: The value's name in ``%%chat?``.
        session: Held by the session (a ``ChatMagics`` trait, a ``%chat config`` key, a profile
            field).
    """

    doc: str
    kind: Kind = "text"
    env: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    metavar: str | None = None
    session: bool = True


def _option(
    doc: str,
    default: Any = None,
    *,
    factory: Callable[[], Any] | None = None,
    shown: bool = True,
    **how: Any,
) -> Any:
    meta = {"option": Option(doc, **how)}
    if factory is not None:
        return field(default_factory=factory, repr=shown, metadata=meta)
    return field(default=default, repr=shown, metadata=meta)


def _empty() -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True, slots=True, repr=False)
class Settings(ValueRepr):
    """One chat's settings, or one layer of them (then ``given`` names the options it sets).

    Build layers with :meth:`layer` (code), :meth:`parse` (text) or :func:`env_layer`; put them
    together with :func:`merge`; :meth:`resolve` reads the key; :meth:`endpoint` gives the
    :class:`~nbstream.Endpoint`. The options are the fields with an :class:`Option` (see
    :func:`options`); the last four fields are bookkeeping.
    """

    model: str = _option(
        "The model to ask for; with nothing configured, the demo backend's ``demo``.",
        kind="text",
        env=("NBSTREAM_MODEL",),
        flags=("-m", "--model"),
    )
    base_url: str = _option(
        "The server's base URL, e.g. ``http://127.0.0.1:8080/v1`` (for ``api='custom'``: the "
        "URL to POST to). Set nowhere: the embedded demo backend.",
        "",
        env=("NBSTREAM_BASE_URL", "OPENAI_BASE_URL"),
        flags=("--base-url",),
    )
    api: str = _option(
        f"The API the request is built for: {', '.join(APIS)} (``custom``: a home-made "
        "server, see ``body``).",
        "openai-chat",
        env=("NBSTREAM_API",),
        flags=("--api",),
    )
    format: str = _option(
        "The answer's wire format, when the server speaks another than its API's: ``auto`` "
        f"(by the answer's shape, else the API's) or one of {', '.join(FORMAT_NAMES)}.",
        "auto",
        env=("NBSTREAM_FORMAT",),
        flags=("--format",),
    )
    system: str | None = _option(
        "The system prompt, put first; in a ``%%chat`` cell ``{{name}}`` takes a value from "
        "the notebook.",
        env=("NBSTREAM_SYSTEM",),
        flags=("--system",),
    )
    temperature: float | None = _option(
        "Sampling temperature.",
        kind="number",
        env=("NBSTREAM_TEMPERATURE",),
        flags=("--temperature",),
    )
    max_tokens: int | None = _option(
        "The most tokens to generate.",
        kind="count",
        env=("NBSTREAM_MAX_TOKENS",),
        flags=("--max-tokens",),
    )
    stream: bool = _option(
        "Stream the answer (the default); ``False``, or ``%%chat --no-stream``, asks for the "
        "whole answer at once, read into the same deltas.",
        True,
        kind="switch",
        flags=("--no-stream",),
        session=False,
    )
    timeouts: Timeouts | None = _option(  # noqa: RUF009 - a field(), built by _option
        "Connect, first-byte and idle limits (:class:`nbstream.Timeouts`); ``%%chat --timeout "
        "SECONDS`` sets one limit for all (default: 300 s to the first byte, 120 s between "
        "bytes).",
        kind="seconds",
        flags=("--timeout",),
        metavar="SECONDS",
        session=False,
    )
    retries: int = _option(
        "How many times a request that failed before any byte of its answer is sent again "
        "(429, 502, 503, 504, 529, a connection closed), waiting as long as the server asks, "
        "20 s at most in all; ``0``: never. Nothing is retried after the first byte.",
        2,
        kind="count",
        env=("NBSTREAM_RETRIES",),
        flags=("--retries",),
        metavar="N",
    )
    api_key_env: str | None = _option(
        "The NAME of the environment variable holding the key for the base URL set with it "
        "(the key itself is never a setting).",
        kind="name",
        env=("NBSTREAM_API_KEY_ENV",),
    )
    api_key: str | None = _option(
        "The key, when code holds it (prefer ``api_key_env``: a key in a notebook is saved with "
        "it). Sent only to the server it was given for (api.openai.com when no base URL is "
        "set); ``''`` or ``None``: no key.",
        kind="code",
        session=False,
        shown=False,
    )
    headers: Mapping[str, str] = _option(
        "Extra request headers (they replace ours of the same name); credential headers are "
        "bound to the base URL like a key.",
        kind="code",
        session=False,
        factory=_empty,
    )
    json_path: str | None = _option(
        "For the ``json`` format (home-made servers): the field path of the text in each item "
        "(``chunk``, ``data.text``); found by itself when not given.",
        flags=("--json-path",),
        metavar="PATH",
    )
    json_mode: JsonMode = _option(  # noqa: RUF009 - a field(), built by _option
        "For the ``json`` format: items carry a ``delta``, the ``cumulative`` text, or ``auto``.",
        "auto",
        flags=("--json-mode",),
        metavar="MODE",
    )
    body: Mapping[str, Any] | str | None = _option(
        "For ``api='custom'`` (a home-made server): the JSON body to send, with ``{prompt}``, "
        "``{messages}``, ``{model}``, ``{system}``, ``{stream}`` placeholders (a mapping or "
        'its JSON text, e.g. ``\'{"query": "{prompt}"}\'``).',
        flags=("--body",),
        metavar="JSON",
    )
    extra_body: Mapping[str, Any] = _option(
        "Extra request body fields, merged last so they win (``{'top_p': 0.9, 'seed': 1}``).",
        kind="code",
        session=False,
        factory=_empty,
    )
    context_budget: int = _option(
        "The most tokens (about 4 characters each) that ``{{name}}`` values may put in one "
        "prompt, shared among them; what is cut is said in the prompt. Images are not counted: "
        "they are sent downscaled.",
        4000,
        kind="count",
        env=("NBSTREAM_CONTEXT_BUDGET",),
        flags=("--context-budget",),
        metavar="TOKENS",
    )
    context: Mapping[str, Any] = _option(
        "Values for the prompt, by name (``{'df': df, 'fig': fig}``): ``{{name}}`` in the prompt "
        "or ``system`` takes one; the others follow the prompt, each under its name. Rendered "
        "within ``context_budget``; a figure or image is sent as an image.",
        kind="code",
        session=False,
        factory=_empty,
        shown=False,
    )
    record: bool | str = _option(
        "Save each exchange as a cassette (the request without its credentials, the answer's "
        "bytes with their arrival times): ``True`` into ``cassette_dir``, or a folder to "
        "record into. Replaces an earlier recording of the same request; turns ``replay`` off.",
        False,
        kind="cassette",
        env=("NBSTREAM_RECORD",),
        flags=("--record",),
    )
    replay: bool | str = _option(
        "Answer from cassettes, with their recorded rhythm, instead of the server: ``True`` "
        "from ``cassette_dir``, a folder, or ``'auto'`` (replay what has a cassette, ask and "
        "record the rest); a request with none fails, naming the file looked for. Turns "
        "``record`` off.",
        False,
        kind="cassette",
        env=("NBSTREAM_REPLAY",),
        flags=("--replay",),
    )
    cassette_dir: str = _option(
        "The cassettes' folder; relative to the working directory (in Jupyter, the notebook's "
        "folder).",
        DEFAULT_DIRECTORY,
        env=("NBSTREAM_CASSETTE_DIR",),
    )
    speed: float | str = _option(
        "Replay pace: ``1`` as recorded, ``2`` twice as fast, ``'instant'`` all at once.",
        1.0,
        kind="speed",
        env=("NBSTREAM_REPLAY_SPEED",),
        flags=("--speed",),
        metavar="X",
    )

    # Bookkeeping, not options.
    given: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    key_origin: str = field(default="", repr=False)  # the base URL in force where the key was set
    headers_origin: str = field(default="", repr=False)  # likewise for credential headers
    notices: tuple[str, ...] = ()

    # -- building layers ---------------------------------------------------------------------------

    @classmethod
    def layer(cls, **values: Any) -> Settings:
        """A layer that sets exactly the options given (an explicit ``None`` included).

        ``None`` for an option that cannot be ``None`` (``model``, ``base_url``, ``stream`` …)
        leaves it unset. Turning ``record`` or ``replay`` on also sets the other off, and a
        folder given to either sets ``cassette_dir``.

        Args:
            **values: Option values, as code gives them.

        Returns:
            The layer.

        Raises:
            TypeError: A name that is not an option.
            ConfigError: ``record`` and ``replay`` both on, or a bad ``speed``.
        """
        _check_names(values, "Settings.layer")
        given = {
            name: value for name, value in values.items() if value is not None or name in _NULLABLE
        }
        given = _cassette_options(given)
        return _bind(cls(**given, given=frozenset(given)), given)

    @classmethod
    def parse(
        cls,
        values: Mapping[str, object],
        *,
        where: str,
        labels: Mapping[str, str] | None = None,
        flags: bool = False,
    ) -> Settings:
        """A layer from values typed by a person: ``%chat config``, a profile, the environment.

        Empty values (``""``, ``None``) leave an option unset. Names may use ``-`` for ``_``
        and the alias ``key_env``.

        Args:
            values: Option names and their text (or a trait's value).
            where: Where they were typed, for messages (``"%chat config"``).
            labels: What to call each option in messages, by option name (default: its name).
            flags: The values come from ``%%chat`` flags, which set a few options more than
                the session holds (``--timeout``, ``--no-stream``).

        Returns:
            The layer.

        Raises:
            ConfigError: A key typed in, an unknown name, an option this source cannot set, a
                value of the wrong kind, or a key-shaped value (one line each).
        """
        labels = labels or {}
        settable = {f.name: opt for f, opt in _OPTIONS if opt.session or (flags and opt.flags)}
        parsed: dict[str, object] = {}
        for raw, value in values.items():
            name = option_name(raw)
            if name in _KEY_NAMES:
                raise ConfigError(f"a key typed in {where} is saved with the notebook: {KEY_HELP}")
            opt = settable.get(name)
            if opt is None:
                known = ", ".join(sorted(n for n, o in settable.items() if o.session))
                raise ConfigError(f"unknown setting {raw!r} in {where}; settable: {known}")
            if value is None or value == "":
                continue
            label = labels.get(name, name)
            if isinstance(value, str) and name != "system":
                # A system prompt is prose, and may quote anything; nothing else looks like a key.
                check_no_key(value, where=f"{label} in {where}")
            try:
                parsed[name] = _from_text(opt.kind, value)
            except ValueError as exc:
                shown = "" if opt.kind == "name" else f", not {redact(str(value))!r}"
                raise ConfigError(f"{label} takes {exc}{shown}") from None
        if parsed.get("record") and parsed.get("replay"):
            both = " and ".join(labels.get(n, n) for n in ("record", "replay"))
            raise ConfigError(
                f"{both} together in {where}: choose one (replay auto records what is missing)"
            )
        return cls.layer(**parsed)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, caller: str) -> Settings:
        """The layer one call's keywords make (``chat(model=…)``, ``astream(endpoint=…)``).

        Args:
            options: The keywords (:class:`ChatOptions`).
            caller: The public function's name, for the error.

        Returns:
            The endpoint's layer, if one was given, merged with the other keywords.

        Raises:
            TypeError: A keyword that is not an option, named (with the nearest option, and
                ``extra_body`` for request body fields).
        """
        values = dict(options)
        endpoint = values.pop("endpoint", None)
        _check_names(values, caller)
        call = cls.layer(**values)
        if endpoint is None:
            return call
        if not isinstance(endpoint, Endpoint):
            raise TypeError(f"{caller}() takes endpoint=nbstream.Endpoint(…), not {endpoint!r:.60}")
        return merge(cls.from_endpoint(endpoint), call)

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> Settings:
        """The layer an :class:`~nbstream.Endpoint` makes; its key stays bound to its URL.

        Args:
            endpoint: A configured endpoint.

        Returns:
            A layer setting every field the endpoint has.
        """
        values = {f.name: getattr(endpoint, f.name) for f in fields(Endpoint)}
        return cls.layer(**{k: v for k, v in values.items() if v is not None})

    # -- reading ---------------------------------------------------------------------------------

    @property
    def embedded(self) -> bool:
        """``True`` when no base URL is set: the chat layer sends to the embedded demo backend."""
        return not self.base_url

    def resolve(self, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the key and fill the defaults: the settings a request is built from.

        Args:
            environ: Where keys are read (default: ``os.environ``).

        Returns:
            The settings, with the key (only when the base URL has the origin of the URL it was
            configured with; else a notice says it was left out) and the demo backend's model
            when nothing is configured. Resolving again changes nothing.

        Raises:
            ConfigError: A key given in code bound to another server, a base URL with a bad
                port.
        """
        env = os.environ if environ is None else environ
        base_url, key_origin = self.base_url, self.key_origin
        if base_url:
            origin(base_url)  # a bad port is a mistake in the settings: say so now
        api_key: str | None = None
        notices: list[str] = []
        if self.api_key_env:
            # A key from a variable (a layer setting api_key clears api_key_env, and resolving
            # keeps both): read again every time, and left out, with a notice, where it is not
            # bound.
            name = check_env_name(self.api_key_env)
            value = env.get(name)
            if not value:
                notices.append(f"${name} is not set: sending no API key")
            elif not key_origin:
                notices.append(
                    f"${name} was named without a base URL: no key sent "
                    "(set base_url and api_key_env together)"
                )
            elif not same_origin(key_origin, base_url):
                notices.append(
                    f"the key in ${name} is for {host_of(key_origin)}: "
                    f"not sent to {host_of(base_url) if base_url else 'the demo backend'}"
                )
            else:
                api_key = value
                register_secret(value)
        elif self.api_key:
            # A key given in code: an explicit key without a server is for OpenAI, as in the
            # openai client; anywhere else it would go is a mistake in the code.
            api_key = self.api_key
            key_origin = key_origin or OPENAI_BASE_URL
            base_url = base_url or key_origin
            if not same_origin(key_origin, base_url):
                raise ConfigError(
                    f"the API key is for {_host_port(key_origin)}, not for {origin(base_url)[1]}:"
                    " pass api_key= for that server (api_key='' for none)"
                )
            register_secret(api_key)
        creds = [k for k in self.headers if k.lower() in SENSITIVE_HEADERS]
        if creds and not same_origin(self.headers_origin, base_url):
            bound = _host_port(self.headers_origin) if self.headers_origin else "no server"
            raise ConfigError(
                f"the API key is for {bound} (in the {', '.join(creds)} header), not for "
                f"{origin(base_url)[1] if base_url else 'the demo backend'}: pass headers= for "
                "that server"
            )
        return dataclasses.replace(
            self,
            given=_NAMES,  # resolved, it sets every option: a layer above changes only its own
            base_url=base_url,
            key_origin=key_origin,
            model=self.model or (EMBEDDED_MODEL if not base_url else ""),
            api_key=api_key,
            notices=tuple(notices),
        )

    def endpoint(self) -> Endpoint:
        """The :class:`~nbstream.Endpoint` these (resolved) settings send to.

        Returns:
            The endpoint: URL, API, model, key, headers, format, timeouts.

        Raises:
            ConfigError: No base URL (the chat layer fills in the embedded backend's before
                asking), or an endpoint field the endpoint refuses (an unknown API or format).
        """
        if not self.base_url:
            raise ConfigError(
                "no server given: pass base_url= (e.g. http://127.0.0.1:8080/v1) or endpoint="
            )
        # Every Endpoint field is an option of the same name (from_endpoint relies on it too).
        values = {f.name: getattr(self, f.name) for f in fields(Endpoint)}
        values.update(model=self.model or None, api_key=self.api_key or None)
        return Endpoint(**values)

    def cassettes(self, prefix: str = "") -> CassetteSettings:
        """What to do with cassettes: the mode ``record`` and ``replay`` give, folder, pace.

        Args:
            prefix: Put before the names of new cassettes (the notebook's name).

        Returns:
            The cassette settings (mode ``"off"`` when neither is on).
        """
        mode: Mode = (
            "auto"
            if self.replay == "auto"
            else "replay"
            if self.replay
            else "record"
            if self.record
            else "off"
        )
        speed = parse_speed(self.speed)
        return CassetteSettings(mode, self.cassette_dir or DEFAULT_DIRECTORY, speed, prefix)

    def as_text(self) -> dict[str, object]:
        """The session options this layer sets, as JSON-able values (a profile's file form)."""
        return {
            f.name: getattr(self, f.name)
            for f, opt in _OPTIONS
            if opt.session and f.name in self.given
        }

    def describe(self) -> dict[str, Any]:
        """The options as a dict for display, the key shown only as set / not set."""
        out = {f.name: getattr(self, f.name) for f, _ in _OPTIONS if f.name != "api_key"}
        out["api_key"] = "***" if self.api_key else "(none)"
        return out

    def __repr__(self) -> str:
        return redact(ValueRepr.__repr__(self), [self.api_key])


_OPTIONS: tuple[tuple[dataclasses.Field[Any], Option], ...] = tuple(
    (f, f.metadata["option"]) for f in fields(Settings) if "option" in f.metadata
)
_NAMES = frozenset(f.name for f, _ in _OPTIONS)
# Options that take None as a value: for the others, a None given in code means "unset".
_NULLABLE = frozenset(f.name for f, _ in _OPTIONS if "None" in str(f.type))


def options() -> tuple[tuple[str, Option, object], ...]:
    """Every option: its name, its :class:`Option` and its default, in declaration order."""
    return tuple(
        (
            f.name,
            opt,
            f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default,
        )
        for f, opt in _OPTIONS
    )


def _check_names(values: Mapping[str, Any], caller: str) -> None:
    for name in values:
        if name not in _NAMES:
            near = difflib.get_close_matches(name, [*_NAMES, "endpoint"], n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise TypeError(
                f"{caller}() got an unexpected keyword argument {name!r}{hint} "
                "(request body fields go in extra_body={...})"
            )


def _cassette_options(given: dict[str, Any]) -> dict[str, Any]:
    """One layer's cassette options made plain: a folder to ``cassette_dir``, one mode on."""
    record, replay = given.get("record"), given.get("replay")
    if record and replay:
        raise ConfigError(
            "record= and replay= together: choose one (replay='auto' records what is missing)"
        )
    if record == "auto":
        raise ConfigError(
            "record takes True, False or a folder; replay='auto' records what is missing"
        )
    out = dict(given)
    for name, value, other in (("record", record, "replay"), ("replay", replay, "record")):
        if name not in given:
            continue
        if not value:
            out[name] = False
            continue
        if isinstance(value, str) and value != "auto":
            out[name], out["cassette_dir"] = True, value
        # The highest layer's choice wins: turning one on turns off the other set below.
        out[other] = False
    if "speed" in given:
        out["speed"] = parse_speed(given["speed"])
    return out


def _bind(layer: Settings, given: Mapping[str, Any]) -> Settings:
    """Bind the key and the headers a layer sets to the base URL it sets, if any."""
    return dataclasses.replace(
        layer,
        key_origin=layer.base_url if {"api_key", "api_key_env"} & given.keys() else "",
        headers_origin=layer.base_url if "headers" in given else "",
    )


def _host_port(url: str) -> str:
    _, host, port = origin(url)
    return f"{host}:{port}" if port else host


def merge(*layers: Settings) -> Settings:
    """Put layers together, lowest first: a later layer wins for each option it sets.

    A key (``api_key`` or ``api_key_env``: setting one clears the other) and the credential
    headers stay bound to the base URL in force in the layer that set them.

    Args:
        layers: The layers, lowest priority first.

    Returns:
        One layer setting everything any of them sets.
    """
    values: dict[str, Any] = {}
    key_origin = headers_origin = ""
    for layer in layers:
        for name in layer.given:
            values[name] = getattr(layer, name)
        # A layer that sets no base URL binds what it sets to the one in force below it.
        own = "base_url" in layer.given
        if "api_key" in layer.given or "api_key_env" in layer.given:
            # One key: setting either form replaces the other.
            values["api_key"] = layer.api_key if "api_key" in layer.given else None
            values["api_key_env"] = layer.api_key_env if "api_key_env" in layer.given else None
            key_origin = layer.key_origin if own else values.get("base_url", "")
        if "headers" in layer.given:
            headers_origin = layer.headers_origin if own else values.get("base_url", "")
    merged = Settings(**values, given=frozenset(values))
    return dataclasses.replace(merged, key_origin=key_origin, headers_origin=headers_origin)


def env_layer(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings the environment gives.

    Args:
        environ: The environment (default: ``os.environ``).

    Returns:
        The environment's layer. ``OPENAI_API_KEY`` alone implies api.openai.com.

    Raises:
        ConfigError: A variable has a bad value (named, one line).
    """
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    labels: dict[str, str] = {}
    for name, opt, _ in options():
        found = next((var for var in opt.env if env.get(var)), None)
        if found is not None:
            values[name], labels[name] = env[found], f"${found}"
    if "api_key_env" not in values and env.get("OPENAI_API_KEY"):
        values["api_key_env"] = "OPENAI_API_KEY"
        values.setdefault("base_url", OPENAI_BASE_URL)
    return Settings.parse(values, where="the environment", labels=labels)


# -- the keywords of the public functions -----------------------------------------------------------


class ChatOptions(TypedDict, total=False):
    """The keywords ``chat``, ``chat_sync``, ``astream`` and ``prepare_request`` take.

    Each is a :class:`Settings` option, documented there (``help()`` shows the docs too), and
    ``endpoint``: a configured :class:`~nbstream.Endpoint` that the other keywords override.
    Anything else is a ``TypeError``: a field for the request body goes in ``extra_body``.
    """

    model: str
    base_url: str
    api: str
    format: str
    system: str | None
    temperature: float | None
    max_tokens: int | None
    stream: bool
    timeouts: Timeouts | None
    retries: int
    api_key_env: str | None
    api_key: str | None
    headers: Mapping[str, str]
    json_path: str | None
    json_mode: JsonMode
    body: Mapping[str, Any] | str | None
    extra_body: Mapping[str, Any]
    context_budget: int
    context: Mapping[str, Any]
    record: bool | str
    replay: bool | str
    cassette_dir: str
    speed: float | str
    endpoint: Endpoint


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET = _Unset()
F = TypeVar("F", bound=Callable[..., Any])

_ENDPOINT_DOC = "A configured :class:`~nbstream.Endpoint`; the other keywords override its fields."


def takes_options(func: F) -> F:
    """Show a function's ``**options: Unpack[ChatOptions]`` to ``help()`` as the keywords they are.

    IDEs read the ``TypedDict`` themselves; ``help()`` and IPython's ``?`` read the signature and
    the docstring, so both get every option (its default shown as ``<unset>``: left out, it comes
    from a lower layer) and its doc, from the one declaration above.

    Args:
        func: A function whose last parameter is ``**options: Unpack[ChatOptions]``.

    Returns:
        The same function.
    """
    sig = inspect.signature(func)
    own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    hints = ChatOptions.__annotations__
    keywords = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=_UNSET,
            annotation=getattr(hints[name], "__forward_arg__", hints[name]),
        )
        for name in hints
    ]
    docs = [(name, opt.doc) for name, opt, _ in options()] + [("endpoint", _ENDPOINT_DOC)]
    lines = "".join(
        "\n"
        + textwrap.fill(f"{name}: {doc}", 96, initial_indent=" " * 8, subsequent_indent=" " * 12)
        for name, doc in docs
    )
    target = cast(Any, func)
    target.__signature__ = sig.replace(parameters=[*own, *keywords])
    target.__doc__ = (func.__doc__ or "").rstrip() + "\n\n    Keyword Args:" + lines + "\n"
    return func


# -- profiles ----------------------------------------------------------------------------------------


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The directory holding ``profiles.json``: ``$NBSTREAM_CONFIG_DIR`` or the XDG default."""
    env = os.environ if environ is None else environ
    if env.get("NBSTREAM_CONFIG_DIR"):
        return Path(env["NBSTREAM_CONFIG_DIR"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "nbstream"


class ProfileStore:
    """Profiles kept in ``profiles.json`` so they outlive the kernel (no keys are stored).

    A profile is a named layer of session settings (``base_url``, ``api``, ``model``,
    ``api_key_env`` …), stored as ``{"NAME": {"option": value, …}}``.

    Args:
        path: The JSON file (default: ``config_dir() / "profiles.json"``).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "profiles.json"

    def load(self) -> dict[str, Settings]:
        """Read every profile; a missing file means none.

        Raises:
            ConfigError: The file is not valid profile JSON, or a profile holds something no
                profile may (an unknown name, a key).
        """
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read profiles from {self.path}: {exc}") from None
        if not isinstance(raw, dict) or not all(isinstance(b, dict) for b in raw.values()):
            raise ConfigError(f"bad profile in {self.path}: expected {{NAME: {{option: value}}}}")
        return {name: profile(name, body, where=str(self.path)) for name, body in raw.items()}

    def save(self, name: str, settings: Settings) -> None:
        """Add or replace one profile.

        Args:
            name: The profile's name.
            settings: Its layer (only session options are stored).
        """
        stored = {n: p.as_text() for n, p in self.load().items()}
        stored[name] = settings.as_text()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def profile(name: str, values: Mapping[str, object], *, where: str = "") -> Settings:
    """The layer a profile holds, checked as every session source is.

    Args:
        name: The profile's name.
        values: Its options, as text or JSON values.
        where: Where it is stored, for messages.

    Returns:
        The layer.

    Raises:
        ConfigError: An option a profile cannot hold, a bad value, or a key (one line).
    """
    session = {n for n, opt, _ in options() if opt.session}
    for raw in values:
        if option_name(raw) not in session | _KEY_NAMES:
            raise ConfigError(
                f"profile {name!r}{f' in {where}' if where else ''} cannot hold {raw!r}; "
                f"its fields are {', '.join(sorted(session))}"
            )
    return Settings.parse(values, where=f"profile {name!r}")

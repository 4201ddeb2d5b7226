"""The notebook as context: values rendered for a prompt within a budget, and what was sent.

``{{df}}`` in a prompt becomes what an analyst would say about ``df``, not whatever its repr
prints:

- a pandas or polars data frame: its shape, a table of columns, dtypes and missing counts, and
  the first rows as a markdown table; a series likewise;
- a numpy array: shape, dtype, min / max / mean / std, and numpy's own (summarised) repr;
- a long string, list, tuple, set or dict: cut, with a visible ``… (N more characters)``;
- anything else: its ``str()`` when its class defines one, else its ``repr()``, bounded;
- the last exception (:func:`render_error`): type, message and the frames of the user's own
  cells, without ANSI codes.

Every value of one prompt shares one budget of characters (:class:`Budget`); what was cut is
said in the prompt itself, so the model knows it sees part of the value. Images (figures) are
not rendered here: the chat layer turns them into an :class:`ImagePart`, which travels as an
image part of the message (:func:`message_content`).

Nothing here imports pandas, polars or numpy: a value is recognised by its class's module and
name, and read through its own methods. Stdlib only.
"""

from __future__ import annotations

import base64
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from .errors import InterpolationError
from .interpolate import placeholders, split
from .secrets import redact
from .values import ValueRepr

__all__ = [
    "CHARS_PER_TOKEN",
    "Budget",
    "ContextItem",
    "Filled",
    "ImagePart",
    "check_name",
    "fill",
    "image_size",
    "is_secret_name",
    "message_content",
    "metadata",
    "render_all",
    "render_error",
    "render_value",
    "strip_ansi",
]

#: Characters per token, the usual estimate for English text (OpenAI's tokenizer guide: "one
#: token is roughly 4 characters"); the budget is set in tokens and spent in characters.
CHARS_PER_TOKEN = 4

_SECRET_NAME = re.compile(r"(?i)(_key$|_token$|secret|passw(or)?d)")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
# Where IPython compiles cells: "<ipython-input-3-abc>" (IPython < 8.?) and, in ipykernel,
# "/tmp/ipykernel_<pid>/<hash>.py"; a terminal IPython 9 cell is "<ipython-input-…>" too.
_CELL_FILE = re.compile(r"^<ipython-input-|[/\\]ipykernel_\d+[/\\]|^<cell")
_CELL_WIDTH = 40  # a table cell longer than this is cut: one wide column must not eat the rows
_MIN_SHARE = 200  # every value gets at least this many characters, whatever was spent before


@dataclass(frozen=True, slots=True, repr=False)
class ImagePart(ValueRepr):
    """An image sent with a prompt (a PNG, usually of a figure).

    Attributes:
        data: The encoded image.
        mime: Its media type (``"image/png"``).
        width: Width in pixels, as sent.
        height: Height in pixels, as sent.
        thumbnail: A small PNG of it for the view (not sent), or ``None``.
    """

    data: bytes = field(default=b"", repr=False)
    mime: str = "image/png"
    width: int = 0
    height: int = 0
    thumbnail: bytes | None = field(default=None, repr=False)

    @property
    def data_url(self) -> str:
        """The image as a ``data:`` URL, the form OpenAI's chat API takes."""
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True, slots=True, repr=False)
class ContextItem(ValueRepr):
    """What one value contributed to a prompt: shown by the view, saved in the metadata.

    Attributes:
        name: The placeholder's name (``"df"``, ``"_error"``).
        kind: What it is (``"pandas.DataFrame"``, ``"image"``, ``"error"``).
        size: Its size as a person says it (``"1,000,000 rows, 3 columns"``).
        chars: Characters of text it put in the prompt (0 for an image).
        cut: What was left out, or ``None`` when it was sent whole.
        image: The image sent, for an image.
    """

    name: str
    kind: str
    size: str = ""
    chars: int = 0
    cut: str | None = None
    image: ImagePart | None = field(default=None, repr=False)


class Budget:
    """The characters the values of one prompt may still use, shared in order of appearance.

    Each value may use the remaining budget divided by the values still to come (so a small
    value leaves more to the next), and never less than a small floor: a value squeezed out
    entirely would tell the model nothing.

    Args:
        tokens: The budget in tokens (:data:`CHARS_PER_TOKEN` characters each).
    """

    def __init__(self, tokens: int) -> None:
        self.total = max(0, tokens) * CHARS_PER_TOKEN
        self.left = self.total

    def share(self, values_left: int) -> int:
        """The characters the next value may use, with ``values_left`` values still to render."""
        return max(_MIN_SHARE, self.left // max(1, values_left))

    def spend(self, chars: int) -> None:
        """Record ``chars`` characters used."""
        self.left = max(0, self.left - chars)


def is_secret_name(dotted: str) -> bool:
    """Whether a placeholder's name (or one of its dotted parts) looks like a credential.

    ``*_KEY``, ``*_TOKEN``, ``*SECRET*`` and ``*PASSWORD*``, in any case.
    """
    return any(_SECRET_NAME.search(part) for part in dotted.split("."))


def check_name(dotted: str) -> None:
    """Refuse a placeholder whose name looks like a credential.

    Raises:
        InterpolationError: The name looks like a key, token, secret or password.
    """
    if is_secret_name(dotted):
        raise InterpolationError(
            f"{{{{{dotted}}}}} looks like a secret (its name): it is never sent to a model; "
            "copy the value into a variable with another name if it is not one"
        )


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour and cursor codes (IPython colours its tracebacks)."""
    return _ANSI.sub("", text)


# -- values ------------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    cls = type(value)
    top = cls.__module__.split(".")[0]
    return cls.__name__ if top == "builtins" else f"{top}.{cls.__name__}"


def _cut(text: str, limit: int) -> tuple[str, str | None]:
    """``text`` within ``limit`` characters, with what was cut said at its end."""
    if len(text) <= limit:
        return text, None
    keep = max(0, limit - 40)
    more = len(text) - keep
    note = f"{more:,} more characters"
    return f"{text[:keep]}… ({note})", note


def _cell(value: Any) -> str:
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _rows_within(
    head: list[str], header: list[str], rows: list[list[str]], total: int, limit: int
) -> tuple[str, str | None]:
    """The head lines and as many rows as fit ``limit``, with the rows left out said."""
    lines = [*head, *_table(header, [])]
    used = sum(len(line) + 1 for line in lines)
    shown = 0
    for row in rows:
        line = "| " + " | ".join(row) + " |"
        if used + len(line) + 1 > limit - 60 and shown:
            break
        lines.append(line)
        used += len(line) + 1
        shown += 1
    cut = None
    if shown < total:
        cut = f"{total - shown:,} of {total:,} rows not shown"
        lines.append(f"… ({cut})")
    return "\n".join(lines), cut


def _frame(value: Any, limit: int, polars: bool) -> tuple[str, str, str | None]:
    n_rows, n_cols = value.shape
    names = [str(c) for c in value.columns]
    if polars:
        dtypes = [str(d) for d in value.dtypes]
        nulls = [int(n) for n in value.null_count().row(0)]
    else:
        dtypes = [str(d) for d in value.dtypes]
        nulls = [int(n) for n in value.isna().sum().tolist()]
    size = f"{n_rows:,} rows, {n_cols:,} columns"
    max_cols = 30
    cols = list(zip(names, dtypes, nulls, strict=True))[:max_cols]
    lines = [f"{_kind(value)} with {size}", ""]
    lines += _table(["column", "dtype", "missing"], [[_cell(n), d, f"{m:,}"] for n, d, m in cols])
    cuts: list[str] = []
    if n_cols > max_cols:
        cuts.append(f"{n_cols - max_cols:,} of {n_cols:,} columns not shown")
        lines.append(f"… ({cuts[-1]})")
    lines += ["", "First rows:", ""]
    wanted = min(n_rows, 50)
    head = value.head(wanted)
    shown_cols = names[:max_cols]
    if polars:
        rows = [[_cell(v) for v in row[:max_cols]] for row in head.rows()]
        header = shown_cols
    else:
        rows = [
            [_cell(index), *(_cell(v) for v in row[:max_cols])]
            for index, *row in head.itertuples(index=True, name=None)
        ]
        header = ["", *shown_cols]
    text, cut = _rows_within(lines, [_cell(h) for h in header], rows, n_rows, limit)
    if cut:
        cuts.append(cut)
    text, over = _cut(text, limit)
    return text, size, "; ".join([*cuts, *([over] if over else [])]) or None


def _series(value: Any, limit: int, polars: bool) -> tuple[str, str, str | None]:
    n = len(value)
    missing = int(value.null_count() if polars else value.isna().sum())
    size = f"{n:,} values"
    lines = [
        f"{_kind(value)} {value.name!r} with {size}, dtype {value.dtype}, {missing:,} missing",
        "",
    ]
    head = value.head(min(n, 50))
    if polars:
        rows = [[_cell(v)] for v in head.to_list()]
        header = [_cell(value.name)]
    else:
        rows = [[_cell(i), _cell(v)] for i, v in head.items()]
        header = ["", _cell(value.name)]
    text, cut = _rows_within(lines, header, rows, n, limit)
    text, over = _cut(text, limit)
    return text, size, cut or over


def _array(value: Any, limit: int) -> tuple[str, str, str | None]:
    shape = "x".join(f"{n:,}" for n in value.shape) or "scalar"
    size = f"shape {shape}"
    lines = [f"numpy.ndarray, shape {tuple(value.shape)}, dtype {value.dtype}"]
    if value.size and value.dtype.kind in "biuf":
        stats = {k: getattr(value, k)() for k in ("min", "max", "mean", "std")}
        lines.append(", ".join(f"{k} {float(v):.6g}" for k, v in stats.items()))
    # numpy's repr summarises arrays above 1,000 elements itself ("...").
    lines.append(repr(value))
    text, cut = _cut("\n".join(lines), limit)
    return text, size, cut


def _collection(value: Any, limit: int) -> tuple[str, str, str | None]:
    items = list(value.items()) if isinstance(value, Mapping) else list(value)
    size = f"{len(items):,} items"
    brackets: dict[type, str] = {dict: "{}", list: "[]", tuple: "()", set: "{}", frozenset: "{}"}
    opening, closing = tuple(brackets.get(type(value), "[]"))
    parts: list[str] = []
    used = 2
    for item in items:
        piece = f"{item[0]!r}: {item[1]!r}" if isinstance(value, Mapping) else repr(item)
        piece, _ = _cut(piece, max(80, limit // 4))
        if used + len(piece) + 2 > limit - 40 and parts:
            break
        parts.append(piece)
        used += len(piece) + 2
    left = len(items) - len(parts)
    cut = f"{left:,} more items" if left else None
    text = opening[0] + ", ".join(parts) + (f", … ({cut})" if cut else "") + closing[-1]
    text, over = _cut(text, limit)
    return text, size, cut or over


def render_value(value: Any, limit: int) -> tuple[str, str, str, str | None]:
    """Describe a value for a prompt in at most about ``limit`` characters.

    Args:
        value: Any value from the notebook.
        limit: The characters it may use.

    Returns:
        ``(text, kind, size, cut)``: what goes in the prompt, what the value is, its size, and
        what was left out (``None`` when nothing was).
    """
    cls = type(value)
    top, name = cls.__module__.split(".")[0], cls.__name__
    if top in ("pandas", "polars") and name == "DataFrame":
        text, size, cut = _frame(value, limit, polars=top == "polars")
    elif top in ("pandas", "polars") and name == "Series":
        text, size, cut = _series(value, limit, polars=top == "polars")
    elif top == "numpy" and name == "ndarray":
        text, size, cut = _array(value, limit)
    elif isinstance(value, str):
        size = f"{len(value):,} characters"
        text, cut = _cut(value, limit)
    elif isinstance(value, (list, tuple, set, frozenset, dict)):
        text, size, cut = _collection(value, limit)
    else:
        own_str = getattr(cls, "__str__", None) is not object.__str__
        whole = str(value) if own_str else repr(value)
        size = f"{len(whole):,} characters"
        text, cut = _cut(whole, limit)
    return redact(text), _kind(value), size, cut


# -- the last error ----------------------------------------------------------------------------------


def _cell_frame(filename: str) -> bool:
    return bool(_CELL_FILE.search(filename))


def render_error(
    exc: BaseException, tb: TracebackType | None = None, limit: int = 4000
) -> tuple[str, int]:
    """The last exception as the model should see it: type, message, the user's own frames.

    Frames of library code are left out (they are long and rarely the point), except the one
    that raised, named in one line; ANSI colour codes are removed.

    Args:
        exc: The exception.
        tb: Its traceback (default: ``exc.__traceback__``).
        limit: The characters it may use.

    Returns:
        ``(text, frames)``: the text and the number of the user's frames in it.
    """
    frames = traceback.extract_tb(tb if tb is not None else exc.__traceback__)
    mine = [f for f in frames if _cell_frame(f.filename)]
    message = strip_ansi("".join(traceback.format_exception_only(type(exc), exc))).strip()
    lines = ["Traceback of the notebook's own cells (most recent call last):"]
    for f in mine:
        lines.append(f"  Cell, line {f.lineno}, in {f.name}")
        if f.line:
            lines.append(f"    {f.line.strip()}")
    if frames and not _cell_frame(frames[-1].filename):
        last = frames[-1]
        lines.append(f"  (raised in {last.filename}, line {last.lineno}, in {last.name})")
    if not mine:
        lines.insert(1, "  (no frame from the notebook's cells)")
    lines.append(message)
    text, _ = _cut(redact("\n".join(lines)), limit)
    return text, len(mine)


# -- a prompt filled -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filled:
    """A prompt with its placeholders filled: the pieces to send and what each value was.

    Attributes:
        pieces: Text and images, in order.
        items: One entry per value, in order.
    """

    pieces: tuple[str | ImagePart, ...]
    items: tuple[ContextItem, ...]

    @property
    def text(self) -> str:
        """The text pieces joined (images left out)."""
        return "".join(p for p in self.pieces if isinstance(p, str))


#: ``value -> an ImagePart`` for a figure or an image, ``None`` for anything else.
ImageMaker = Callable[[Any], "ImagePart | None"]


def fill(
    text: str,
    namespace: Mapping[str, Any],
    budget: Budget,
    *,
    image: ImageMaker | None = None,
) -> Filled:
    """Fill the placeholders of ``text`` with the values of ``namespace``, within ``budget``.

    Args:
        text: The prompt as the user wrote it.
        namespace: Where names are looked up.
        budget: Shared by every value of the request (the system prompt's too).
        image: Turns a figure or image into an :class:`ImagePart` (``None``: no images).

    Returns:
        The pieces and what each value was.

    Raises:
        InterpolationError: An undefined name, or one that looks like a secret.
    """
    for dotted in placeholders(text):
        check_name(dotted)
    raw = split(text, namespace)
    values = [piece for piece in raw if not isinstance(piece, str)]
    rendered = iter(render_all(values, budget, image=image))
    pieces: list[str | ImagePart] = []
    items: list[ContextItem] = []
    for piece in raw:
        if isinstance(piece, str):
            pieces.append(piece)
        else:
            out, item = next(rendered)
            pieces.append(out)
            items.append(item)
    return Filled(tuple(pieces), tuple(items))


def render_all(
    values: list[tuple[str, Any]], budget: Budget, *, image: ImageMaker | None = None
) -> list[tuple[str | ImagePart, ContextItem]]:
    """Render named values in order, sharing ``budget``: text, or an image for a figure.

    Args:
        values: ``(name, value)`` pairs.
        budget: The characters left for this request's values.
        image: Turns a figure or image into an :class:`ImagePart`.

    Returns:
        What each value becomes in the prompt, and what it was.

    Raises:
        InterpolationError: A name that looks like a secret.
    """
    out: list[tuple[str | ImagePart, ContextItem]] = []
    for i, (name, value) in enumerate(values):
        check_name(name)
        picture = image(value) if image is not None else None
        if picture is not None:
            size = f"{picture.width}x{picture.height} px, {len(picture.data):,} bytes"
            out.append((picture, ContextItem(name, "image", size, image=picture)))
            continue
        share = budget.share(len(values) - i)
        if isinstance(value, BaseException):
            text, frames = render_error(value, limit=share)
            item = ContextItem(name, "error", f"{type(value).__name__}, {frames} cell frame(s)")
        elif _is_small_scalar(value):
            text = redact(str(value))
            item = ContextItem(name, _kind(value), f"{len(text):,} characters")
        else:
            text, kind, size, cut = render_value(value, share)
            item = ContextItem(name, kind, size, cut=cut)
        budget.spend(len(text))
        out.append((text, _with_chars(item, len(text))))
    return out


def _is_small_scalar(value: Any) -> bool:
    # Numbers and short strings read as they always did ({{n}} → "3"): nothing to describe.
    return isinstance(value, (int, float, complex)) or (
        isinstance(value, str) and len(value) <= _MIN_SHARE
    )


def _with_chars(item: ContextItem, chars: int) -> ContextItem:
    return ContextItem(item.name, item.kind, item.size, chars, item.cut, item.image)


def message_content(pieces: tuple[str | ImagePart, ...]) -> str | list[dict[str, Any]]:
    """A user message's ``content``: the text, or OpenAI-style parts when there are images.

    The parts are the one form of an image in a message (``{"type": "image_url", "image_url":
    {"url": "data:image/png;base64,…"}}``, as OpenAI's chat API takes it); each provider turns
    them into its API's own form.
    """
    if not any(isinstance(p, ImagePart) for p in pieces):
        return "".join(p for p in pieces if isinstance(p, str))
    parts: list[dict[str, Any]] = []
    for p in pieces:
        if isinstance(p, ImagePart):
            parts.append({"type": "image_url", "image_url": {"url": p.data_url}})
        elif p.strip():
            parts.append({"type": "text", "text": p})
    return parts


def metadata(items: tuple[ContextItem, ...]) -> list[dict[str, Any]]:
    """What the saved output records of the context: names, kinds and sizes, never content."""
    return [
        {"name": i.name, "kind": i.kind, "size": i.size, "chars": i.chars, "cut": i.cut}
        for i in items
    ]


def image_size(data: bytes) -> tuple[str, int, int]:
    """The media type and pixel size of a PNG or JPEG, read from its header.

    Args:
        data: The encoded image.

    Returns:
        ``(mime, width, height)``; ``("application/octet-stream", 0, 0)`` when it is neither.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        # The IHDR chunk comes first: width and height, 4 bytes each, big-endian (PNG spec 11.2.2).
        return "image/png", int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":
        at = 2
        while at + 9 < len(data) and data[at] == 0xFF:
            marker = data[at + 1]
            length = int.from_bytes(data[at + 2 : at + 4], "big")
            # SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height = int.from_bytes(data[at + 5 : at + 7], "big")
                width = int.from_bytes(data[at + 7 : at + 9], "big")
                return "image/jpeg", width, height
            at += 2 + length
        return "image/jpeg", 0, 0
    return "application/octet-stream", 0, 0

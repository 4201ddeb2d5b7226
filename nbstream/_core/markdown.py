"""Markdown that grows: which top-level blocks are settled, and healing of the unfinished tail.

Pure and stdlib only. The view renders a growing answer incrementally: blocks that later text
cannot change are rendered and sent once (:func:`settled_end`); only the live tail is re-rendered
per frame, after :func:`heal` has closed what is still open so that it displays sensibly.

When is a block settled? In CommonMark a blank line ends a paragraph, heading, table, quote or
math/code block, except when what follows continues the construct:

- inside a fenced code block (```` ``` ```` / ``~~~``) or a ``$$`` math block a blank line ends
  nothing (spec 4.5; mdit-py-plugins dollarmath with blank lines allowed);
- an indented line after a blank line continues a list item or an indented code block
  (spec 4.4, 5.2), so we wait for a line that starts in column 0;
- a list marker after a blank line may continue the list above and makes it *loose* (spec 5.3:
  a blank line between items changes every item's rendering), so a boundary before a list
  marker is never settled;
- a link reference definition may appear after the link that uses it (spec 4.7); that is the
  one case splitting cannot see, so the view re-renders settled blocks once at the end when the
  answer defines references.

A boundary is decided only when enough of the next line is known (``1`` may become ``1. item``).
Healing never touches the final render: the view renders the exact text once the stream ends.

One block can grow very long (a 5,000-token paragraph, a 300-line code block, a long list), and
re-sending it whole at every frame is quadratic. :func:`piece_cut` finds where such a block can be
shown in two pieces while it streams (after a sentence, before a list item or quote line, between
two lines of code); the view renders the whole block exactly once it settles.

:func:`code_blocks` lists the fenced code blocks of an answer (language and exact code), for
``reply.code_blocks``, ``%chat code`` and the view's Insert buttons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .values import ValueRepr, public

__all__ = ["CodeBlock", "code_blocks", "heal", "piece_cut", "settled_end"]

# A fence opening a line, or a list item's content ("- ```python", "1. ```bash").
_FENCE_OPEN = re.compile(r"((?: *(?:[-+*]|\d{1,9}[.)]) +)*)( {0,3})(`{3,}|~{3,})(.*)")
_LIST_MARKER = re.compile(r"(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
# An unfinished line that may still turn into a list marker: "-", "12", "12." …
_MAYBE_MARKER = re.compile(r"[-+*]|\d{1,9}[.)]?")
_TRAILING_MARKERS = re.compile(r"[*_~`$]+\Z")


# An open fence: its character, its length, and the column of its first character.
_Fence = tuple[str, int, int]


def _fence_opens(line: str) -> _Fence | None:
    match = _FENCE_OPEN.match(line)
    if match is None or (match.group(3)[0] == "`" and "`" in match.group(4)):
        return None
    return match.group(3)[0], len(match.group(3)), len(match.group(1)) + len(match.group(2))


def _fence_closes(line: str, char: str, length: int, column: int) -> bool:
    stripped = line.strip()
    # Up to 3 spaces more than the container's content (a list item's content column).
    container = 0 if column <= 3 else column
    return (
        len(line) - len(line.lstrip(" ")) <= container + 3
        and len(stripped) >= length
        and stripped == char * len(stripped)
    )


def _math_opens(line: str) -> tuple[bool, bool]:
    """Return (opens a $$ block, closes on the same line)."""
    stripped = line.strip()
    if len(line) - len(line.lstrip(" ")) > 3 or not stripped.startswith("$$"):
        return False, False
    return True, len(stripped) >= 4 and stripped.endswith("$$")


class _Scan:
    """Line-by-line block state of a text that starts at a settled boundary."""

    __slots__ = ("fence", "fence_line", "in_math", "last_blank_end", "math_line", "settled")

    fence: _Fence | None
    fence_line: int  # offset of the line that opened the fence
    in_math: bool
    math_line: int  # offset of the line that opened the $$ block
    settled: int
    last_blank_end: int  # offset just after the last blank line outside fences

    def __init__(self, text: str, start: int) -> None:
        self._reset(start)
        content_seen = False
        blank_pending = False
        pos, n = start, len(text)
        while pos < n:
            nl = text.find("\n", pos)
            complete = nl != -1
            line = text[pos:nl] if complete else text[pos:]
            if self.fence is not None:
                if complete and _fence_closes(line, *self.fence):
                    self.fence = None
            elif self.in_math:
                if complete and line.rstrip().endswith("$$"):
                    self.in_math = False
            elif not line.strip():
                if complete and content_seen:
                    blank_pending = True
                    self.last_blank_end = nl + 1
            else:
                if blank_pending and self._boundary(line, complete):
                    self.settled = pos
                blank_pending = False
                content_seen = True
                self._open_blocks(line, pos, complete)
            pos = nl + 1 if complete else n

    def _reset(self, start: int) -> None:
        self.fence, self.fence_line, self.in_math, self.math_line = None, -1, False, -1
        self.settled = self.last_blank_end = start

    @staticmethod
    def _boundary(line: str, complete: bool) -> bool:
        if line[0] in " \t" or _LIST_MARKER.match(line):
            return False
        # Undecided until the line says whether it is a list marker.
        return complete or not _MAYBE_MARKER.fullmatch(line)

    def _open_blocks(self, line: str, pos: int, complete: bool) -> None:
        fence = _fence_opens(line)
        if fence is not None:
            self.fence, self.fence_line = fence, pos
            return
        opens, closes = _math_opens(line)
        if opens and not (closes and complete):
            self.in_math, self.math_line = True, pos


def settled_end(text: str, start: int = 0) -> int:
    """Return the offset up to which ``text`` holds settled top-level blocks.

    Args:
        text: The answer so far.
        start: An offset already known to be a settled boundary (``0`` or an earlier result);
            scanning starts there, so the cost per call is the length of the live tail.

    Returns:
        An offset ``>= start`` at a line start: rendering ``text[start:result]`` alone gives the
        same HTML as it gets inside the whole text, whatever text follows.
    """
    return _Scan(text, start).settled


def heal(tail: str) -> str:
    """Close what is still open in an unfinished tail so that it displays sensibly.

    Closes an open code fence, and in the last block open code spans, ``**``, ``*``, ``_`` and
    ``~~``; holds back a half-written link or image (from its ``[``), a half-written formula
    (from its ``$``, ``$$``, ``\\(``, ``\\[`` or ``\\begin{…}``, or the whole open ``$$``
    block: a formula cut short is a TeX error, not a preview) and trailing marker characters.
    For display while streaming only.

    Args:
        tail: The live tail (the text after the last settled boundary).

    Returns:
        Markdown whose constructs are all closed.
    """
    scan = _Scan(tail, 0)
    if scan.fence is not None:
        char, length, column = scan.fence
        head = tail[: scan.fence_line]
        body = tail[scan.fence_line :]
        if "\n" not in body:  # the info string is still arriving
            return head.rstrip("\n") + "\n" if head.strip() else ""
        # Closed at the opener's column: inside a list item, a closer at column 0 would end the
        # item and open a second, empty code block.
        return body_with_newline(tail) + " " * column + char * length + "\n"
    if scan.in_math:
        return heal(tail[: scan.math_line])
    head, block = tail[: scan.last_blank_end], tail[scan.last_blank_end :]
    block = _TRAILING_MARKERS.sub("", block)
    cut, _ = _inline_scan(block)
    block = block[:cut]
    _, closers = _inline_scan(block)
    if closers:
        # A closer after whitespace cannot close (CommonMark 6.2: it must be right-flanking),
        # and a held-back link often leaves "**bold and " behind.
        block = block.rstrip()
    return head + block + "".join(reversed(closers))


_SENTENCE_END = re.compile(r"[.!?\u3002\uff01\uff1f][\"')\]\u201d\u2019]*[ \t]+(?=\S)")
_WORD_GAP = re.compile(r"[ \t]+(?=\w)")
_MAX_TRIES = 32  # candidate cuts checked for open inline markup, latest first
_QUOTE_OR_ITEM = re.compile(r"(?:>|(?:[-+*]|\d{1,9}[.)])[ \t])")


def piece_cut(block: str, start: int, least: int) -> tuple[int, str] | None:
    """Find where a long unsettled block can be cut into two pieces shown one above the other.

    For display while streaming only: each piece is rendered on its own, so the cut must leave
    two texts that each render like their part of the whole. Candidates, the latest one wins:

    - inside an open code fence, at a line start (the second piece reopens the fence);
    - before a line that starts a list item or continues a block quote;
    - after a sentence of a paragraph line (else between two words), where no inline construct
      (code span, emphasis, math, link) is open and what follows cannot start a block.

    Args:
        block: The live tail: one unsettled block (no blank line outside a fence).
        start: Where the current piece starts in ``block`` (an earlier cut, or 0).
        least: The smallest piece worth cutting off (``cut - start >= least``).

    Returns:
        ``(cut, prefix)``: the second piece is ``prefix + block[cut:]`` (``prefix`` reopens a
        fence, else ``""``), or ``None`` when the block cannot be cut sensibly (a table, a math
        block, several blocks, a single unbroken sentence).
    """
    scan = _Scan(block, 0)
    if scan.last_blank_end != 0 or scan.in_math:
        return None
    first_line = block[: block.find("\n")] if "\n" in block else block
    if "|" in first_line:  # a table: its rows mean nothing without the header
        return None
    lowest = start + least
    if scan.fence is not None:
        opener_end = block.find("\n", scan.fence_line)
        if opener_end == -1:
            return None
        cut = block.rfind("\n", max(lowest, opener_end + 1) - 1, len(block) - 1) + 1
        if cut > opener_end + 1 and cut >= lowest:
            return cut, block[scan.fence_line : opener_end + 1]
        return None
    best = -1
    # Line cuts: a list item or quote line at column 0, outside any fence.
    fence: _Fence | None = None
    pos = 0
    line_starts: list[int] = []
    while pos < len(block):
        nl = block.find("\n", pos)
        line = block[pos:] if nl == -1 else block[pos:nl]
        if fence is not None:
            if nl != -1 and _fence_closes(line, *fence):
                fence = None
        else:
            fence = _fence_opens(line)
            if fence is None and pos >= lowest and _QUOTE_OR_ITEM.match(line):
                best = pos
            line_starts.append(pos)
        if nl == -1:
            break
        pos = nl + 1
    # Sentence cuts in the last line, if it is plain paragraph text.
    last = line_starts[-1] if line_starts else 0
    line = block[last:]
    if fence is None and line and line[0] not in " \t" and not _QUOTE_OR_ITEM.match(line):
        # After a sentence if there is one, else between two words (an answer with no full stop).
        for pattern in (_SENTENCE_END, _WORD_GAP):
            tries = 0
            for match in reversed(list(pattern.finditer(block, max(last, lowest - 1)))):
                cut = match.end()
                tries += 1
                if cut <= best or cut < lowest or tries > _MAX_TRIES:
                    break
                rest = block[cut:]
                if not rest[0].isalnum() or _LIST_MARKER.match(rest):
                    continue
                held, stack = _inline_scan(block[start:cut])
                if held == cut - start and not stack:
                    best = cut
                    break
            if best > start:
                break
    return (best, "") if best > start else None


def body_with_newline(text: str) -> str:
    """Return ``text`` ending with a newline (a closing fence must start its own line)."""
    return text if text.endswith("\n") else text + "\n"


def _is_word(ch: str) -> bool:
    return ch.isalnum()


def _inline_scan(block: str) -> tuple[int, list[str]]:
    """Scan one block's inline markup.

    Returns:
        Where to cut a half-written link or image (``len(block)`` if none) and the stack of
        markers still open at the end, outermost first.
    """
    stack: list[str] = []
    brackets: list[int] = []  # offsets of unmatched "[" (or the "!" of "![")
    cut = len(block)
    i, n = 0, len(block)
    line_start = True
    while i < n:
        ch = block[i]
        if ch == "\\":
            end = _tex_math_end(block, i)
            if end == _OPEN:
                return min(cut, i), stack
            i = i + 2 if end == _NOT_MATH else end
            line_start = False
            continue
        if ch == "\n":
            i += 1
            line_start = True
            continue
        if ch == "`":
            j = i
            while j < n and block[j] == "`":
                j += 1
            run = block[i:j]
            end = block.find(run, j)
            while end != -1 and end + len(run) < n and block[end + len(run)] == "`":
                end = block.find(run, end + len(run) + 1)
            if end == -1:  # an open code span: the rest is code
                stack.append(run)
                break
            i = end + len(run)
            line_start = False
            continue
        if ch == "$":
            end = _dollar_math_end(block, i)
            if end == _OPEN:
                return min(cut, i), stack
            i = i + 1 if end == _NOT_MATH else end
            line_start = False
            continue
        if ch in "*_~":
            j = i
            while j < n and block[j] == ch:
                j += 1
            run = block[i:j]
            prev = block[i - 1] if i > 0 else ""
            nxt = block[j] if j < n else ""
            if ch == "*" and line_start and nxt == " " and len(run) == 1:  # a bullet
                i = j
                continue
            if ch == "~" and len(run) != 2:
                i = j
                continue
            if ch == "_" and _is_word(prev) and _is_word(nxt):  # snake_case, not emphasis
                i = j
                continue
            can_close = bool(prev) and not prev.isspace()
            can_open = bool(nxt) and not nxt.isspace()
            for part in ([run] if len(run) <= 2 else [run[:2], run[2:]]) if ch != "~" else [run]:
                if stack and stack[-1] == part and can_close:
                    stack.pop()
                elif can_open:
                    stack.append(part)
            i = j
            line_start = False
            continue
        if ch == "[" or (ch == "!" and block.startswith("[", i + 1)):
            brackets.append(i)
            i += 2 if ch == "!" else 1
            line_start = False
            continue
        if ch == "]" and brackets:
            opener = brackets.pop()
            if i + 1 >= n:  # "[text]" at the end: a link may follow
                return min(cut, opener), stack
            if block[i + 1] == "(":
                close = _link_end(block, i + 2)
                if close == -1:
                    return min(cut, opener), stack
                i = close + 1
                continue
        i += 1
        line_start = False
    if brackets:
        cut = min(cut, brackets[0])
    return cut, stack


# What the math scanners return besides an end offset.
_NOT_MATH, _OPEN = -1, -2
# A formula whose closer has not arrived is held back only this long (characters after its
# opener); beyond that the opener is taken for text (a "$HOME" in prose), so words keep flowing.
_HOLD_INLINE, _HOLD_DISPLAY = 200, 1000
_TEX_OPENERS = {"(": "\\)", "[": "\\]"}
_BEGIN = re.compile(r"\\begin\{([A-Za-z]+\*?)\}")


def _escaped(text: str, i: int) -> bool:
    """Whether the character at ``i`` is backslash-escaped (an odd run of backslashes before)."""
    run = 0
    while i - run - 1 >= 0 and text[i - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def _unescaped_find(text: str, needle: str, start: int) -> int:
    found = text.find(needle, start)
    while found != -1 and _escaped(text, found):
        found = text.find(needle, found + 1)
    return found


def _held(text: str, opener: int, limit: int) -> int:
    return _OPEN if len(text) - opener <= limit else _NOT_MATH


def _dollar_math_end(text: str, i: int) -> int:
    """Where the ``$`` / ``$$`` formula opening at ``i`` ends, as the view's parser reads it.

    The rule is pandoc's ``tex_math_dollars`` (what mdit-py-plugins' dollarmath applies with
    ``allow_space=False, allow_digits=False``): an opening ``$`` has a non-space right after it
    and no digit right before it; its closer is the next unescaped ``$``, which must have a
    non-space right before it and no digit right after it. So "$5 and $10" is text.

    Returns:
        The offset after the closer, :data:`_NOT_MATH`, or :data:`_OPEN` (an opener whose closer
        has not arrived yet).
    """
    n = len(text)
    if i > 0 and text[i - 1].isdigit():
        return _NOT_MATH
    if text.startswith("$$", i):
        end = _unescaped_find(text, "$$", i + 2)
        if end == -1:
            return _held(text, i, _HOLD_DISPLAY)
        return end + 2
    if i + 1 >= n:
        return _OPEN  # a lone "$" at the very end: wait for the next character
    if text[i + 1].isspace():
        return _NOT_MATH
    end = _unescaped_find(text, "$", i + 1)
    if end == -1:
        # "$5": currency far more often than a formula; shown as text until a closer arrives.
        return _NOT_MATH if text[i + 1].isdigit() else _held(text, i, _HOLD_INLINE)
    if text[end - 1].isspace():
        return _NOT_MATH
    if end + 1 >= n:
        return _OPEN  # a digit may still follow the closer ("$5 … $10")
    return _NOT_MATH if text[end + 1].isdigit() else end + 1


def _tex_math_end(text: str, i: int) -> int:
    """Where a ``\\(…\\)``, ``\\[…\\]`` or ``\\begin{env}…\\end{env}`` formula at ``i`` ends.

    Returns:
        The offset after the closer, :data:`_NOT_MATH` (``i`` starts an ordinary escape), or
        :data:`_OPEN` (its closer has not arrived yet).
    """
    nxt = text[i + 1 : i + 2]
    closer = _TEX_OPENERS.get(nxt)
    if closer is not None:
        end = text.find(closer, i + 2)
        if end == -1:
            return _held(text, i, _HOLD_INLINE if nxt == "(" else _HOLD_DISPLAY)
        return end + 2
    if nxt == "b":
        match = _BEGIN.match(text, i)
        if match is not None:
            end_tag = f"\\end{{{match.group(1)}}}"
            end = text.find(end_tag, match.end())
            if end == -1:
                return _held(text, i, _HOLD_DISPLAY)
            return end + len(end_tag)
        if "\\begin{".startswith(text[i : i + 7]) and i + 7 >= len(text):
            return _OPEN  # "\\beg" at the very end: it may become an environment
    return _NOT_MATH


def _link_end(block: str, start: int) -> int:
    """Offset of the ``)`` that ends a link destination starting at ``start``, or -1."""
    depth = 0
    for k in range(start, len(block)):
        c = block[k]
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return k
            depth -= 1
        elif c == "\n":  # a destination cannot span lines: not a link, scan on from here
            return k - 1
    return -1


# -- code blocks -----------------------------------------------------------------------------


@public
@dataclass(frozen=True, slots=True, repr=False)
class CodeBlock(ValueRepr):
    """One fenced code block of an answer.

    Attributes:
        language: The first word of the fence's info string (```` ```python ```` → ``"python"``),
            or ``""``.
        code: The code exactly as written, without the fences and without the indentation of
            the list item or fence it sits in.
    """

    language: str = ""
    code: str = ""


_QUOTE_MARK = re.compile(r" {0,3}> ?")
_ITEM_MARK = re.compile(r" *(?:[-+*]|\d{1,9}[.)])(?: +|$)")
_FENCE_AT = re.compile(r"( *)(`{3,}|~{3,})(.*)")


def _strip_quotes(line: str, depth: int | None = None) -> tuple[int, str]:
    """Remove block-quote markers (all of them, or exactly ``depth``); return (count, rest)."""
    count = 0
    while depth is None or count < depth:
        match = _QUOTE_MARK.match(line)
        if match is None:
            break
        line = line[match.end() :]
        count += 1
    return count, line


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def code_blocks(text: str) -> tuple[CodeBlock, ...]:
    """The fenced code blocks of ``text``, in order, as a CommonMark renderer reads them.

    Fences at the top level, in block quotes and in list items (also on the item's own line,
    ``1. ```bash``) are found; their content loses the indentation of the list item and of the
    fence (CommonMark 4.5: up to the fence's indentation is removed from each line). A fence
    that is never closed runs to the end of its container, or of the text. Indented code
    blocks are not fenced blocks and are not listed.

    Args:
        text: Markdown (an answer).

    Returns:
        One :class:`CodeBlock` per fenced block.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[CodeBlock] = []
    list_col = 0  # content column of the innermost list item seen (0: not in a list)
    after_blank = False
    i = 0
    while i < len(lines):
        depth, rest = _strip_quotes(lines[i])
        marker_end = 0
        while (item := _ITEM_MARK.match(rest, marker_end)) is not None and item.end() > marker_end:
            marker_end = item.end()
        fence = _FENCE_AT.match(rest, marker_end)
        if fence is not None and not (fence.group(2)[0] == "`" and "`" in fence.group(3)):
            column = marker_end + len(fence.group(1))
            container = marker_end if marker_end else (list_col if 0 < list_col <= column else 0)
            if column - container <= 3:
                char, length = fence.group(2)[0], len(fence.group(2))
                info = fence.group(3).strip().split()
                code, i = _fence_body(lines, i + 1, depth, column, container, char, length)
                blocks.append(CodeBlock(info[0] if info else "", code))
                list_col = container
                after_blank = False
                continue
        if marker_end:
            list_col = marker_end
        elif not rest.strip():
            after_blank = True
        elif after_blank and _indent(rest) < list_col:
            list_col = 0
        if rest.strip():
            after_blank = False
        i += 1
    return tuple(blocks)


def _fence_body(
    lines: list[str], i: int, depth: int, column: int, container: int, char: str, length: int
) -> tuple[str, int]:
    """Read a fence's content from line ``i``; return it and the index of the next line."""
    body: list[str] = []
    while i < len(lines):
        count, rest = _strip_quotes(lines[i], depth)
        if count < depth:
            break  # the block quote ended, and the code block with it
        if rest.strip():
            indent = _indent(rest)
            if indent < container:
                break  # the list item ended (code blocks have no lazy continuation lines)
            stripped = rest.strip()
            if (
                indent - container <= 3
                and len(stripped) >= length
                and stripped == char * len(stripped)
            ):
                return "\n".join(body), i + 1
        body.append(rest[min(column, _indent(rest)) :])
        i += 1
    while body and not body[-1].strip() and i >= len(lines):
        body.pop()  # an unclosed fence at the end: trailing blank lines are not code
    return "\n".join(body), i

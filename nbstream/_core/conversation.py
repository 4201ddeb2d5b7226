"""Multi-turn conversations that follow the notebook, not the order cells happened to run.

A conversation is a list of turns (prompt, answer, status). Each turn remembers the cell that
asked it (the ``cellId`` the frontend sends with ``execute_request``): re-running a cell
*replaces* its turn in place instead of appending a duplicate, and the context sent for it is
the turns before it — what the user sees above the cell.

What is sent back to the model:

- a finished turn: prompt and answer;
- a cancelled or truncated turn: prompt and the partial answer, marked as cut off, so the
  model does not take half a sentence for a whole one;
- a failed turn: nothing (an error message is not something the model said).

Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from .text import excerpt
from .values import ValueRepr

__all__ = ["Conversation", "Conversations", "Message", "Turn"]

Message: TypeAlias = dict[str, str]
TurnStatus: TypeAlias = Literal["finished", "cancelled", "failed", "truncated"]

DEFAULT = "default"
_MARKS = {
    "cancelled": "[answer cut off: cancelled by the user]",
    "truncated": "[answer cut off: the stream ended early]",
}


@dataclass(frozen=True, slots=True, repr=False)
class Turn(ValueRepr):
    """One question and its answer.

    Attributes:
        prompt: The user's prompt, after interpolation.
        answer: The answer's text (partial for a cancelled or truncated turn).
        status: How the answer ended.
        key: The cell that asked (``None`` outside a notebook frontend).
        model: The model that answered.
        error: The reason for a failed or cancelled turn.
    """

    prompt: str
    answer: str = ""
    status: TurnStatus = "finished"
    key: str | None = None
    model: str | None = None
    error: str | None = None

    def messages(self) -> list[Message]:
        """The chat messages this turn contributes to later requests (none when it failed)."""
        if self.status == "failed":
            return []
        answer = self.answer
        mark = _MARKS.get(self.status)
        if mark:
            answer = f"{answer}\n\n{mark}" if answer else mark
        return [{"role": "user", "content": self.prompt}, {"role": "assistant", "content": answer}]


class Conversation:
    """The turns of one named chat.

    Args:
        name: The chat's name (``--chat NAME``).
    """

    def __init__(self, name: str = DEFAULT) -> None:
        self.name = name
        self.turns: list[Turn] = []

    def __repr__(self) -> str:
        return f"Conversation({self.name!r}, turns={len(self.turns)})"

    def _index(self, key: str | None) -> int | None:
        if key is None:
            return None
        for i, turn in enumerate(self.turns):
            if turn.key == key:
                return i
        return None

    def context(self, key: str | None = None) -> list[Turn]:
        """The turns a new turn from cell ``key`` follows.

        Args:
            key: The asking cell's id.

        Returns:
            The turns before that cell's earlier turn when it is re-run, else all turns.
        """
        i = self._index(key)
        return list(self.turns if i is None else self.turns[:i])

    def messages(
        self, prompt: str, *, key: str | None = None, system: str | None = None
    ) -> list[Message]:
        """The messages to send for a new turn.

        Args:
            prompt: The new prompt.
            key: The asking cell's id.
            system: A system prompt to put first.

        Returns:
            System prompt, the context's turns (failed ones left out), then the prompt.
        """
        out: list[Message] = [{"role": "system", "content": system}] if system else []
        for turn in self.context(key):
            out.extend(turn.messages())
        out.append({"role": "user", "content": prompt})
        return out

    def record(self, turn: Turn) -> None:
        """Store a turn: in place of the same cell's earlier turn, else at the end.

        Args:
            turn: The finished (or ended) turn.
        """
        i = self._index(turn.key)
        if i is None:
            self.turns.append(turn)
        else:
            self.turns[i] = turn

    def clear(self) -> None:
        """Forget every turn."""
        self.turns.clear()

    def render(self) -> str:
        """The conversation as markdown, for ``%chat history``."""
        if not self.turns:
            return f"*chat `{self.name}`: no turns yet*"
        lines = [f"**chat `{self.name}`** — {len(self.turns)} turn(s)", ""]
        for n, turn in enumerate(self.turns, 1):
            tag = "" if turn.status == "finished" else f" *({turn.status}"
            if tag:
                tag += f": {turn.error})*" if turn.error else ")*"
            if turn.status == "failed":
                tag += " — not sent back"
            lines.append(f"{n}. **you:** {excerpt(turn.prompt, 120)}")
            lines.append(f"   **{turn.model or 'model'}:** {excerpt(turn.answer, 120)}{tag}")
        return "\n".join(lines)


class Conversations:
    """Every named chat of a session; ``"default"`` unless ``--chat NAME`` says otherwise."""

    def __init__(self) -> None:
        self._chats: dict[str, Conversation] = {}

    def get(self, name: str = DEFAULT) -> Conversation:
        """The chat called ``name``, created empty on first use."""
        chat = self._chats.get(name)
        if chat is None:
            chat = self._chats[name] = Conversation(name)
        return chat

    def names(self) -> list[str]:
        """Names of the chats that have turns or were used."""
        return sorted(self._chats)

    def reset(self, name: str | None = None) -> None:
        """Forget one chat's turns, or every chat's when ``name`` is ``None``."""
        if name is None:
            self._chats.clear()
        else:
            self._chats.pop(name, None)

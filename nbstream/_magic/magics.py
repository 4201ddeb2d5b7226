"""The ``%%chat`` and ``%chat`` magics: declarations and wiring only.

The work lives elsewhere, one job per module: options in :mod:`.args`, the cell rewrite
in :mod:`.transform`, running a cell in :mod:`.cell`, the ``%chat`` subcommands in
:mod:`.commands`, settings in :mod:`nbstream._engine.settings`, turns in
:mod:`nbstream._core.conversation`.

``%load_ext nbstream`` registers the magics, an input transformer that turns a ``%%chat`` cell
into a top-level ``await`` (so Run All waits for the answer), and a ``pre_run_cell`` hook that
remembers the cell id the frontend sent (ipykernel passes the ``cellId`` of the
``execute_request`` metadata to ``run_cell``, which hands it to the hook).

A failed request (401, 500, a dropped connection) shows its one-line error under the cell, keeps
any partial text and does not raise, so Run All goes on; ``-o VAR`` holds the ``"failed"``
:class:`~nbstream.Reply` (``VAR.raise_for_status()`` raises it). Mistakes in the cell itself
(a bad option, an undefined ``{{name}}``) raise :class:`~IPython.core.error.UsageError`.
"""

from __future__ import annotations

from typing import Any, cast

from IPython.core.error import UsageError
from IPython.core.interactiveshell import ExecutionInfo, InteractiveShell
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from traitlets import Float, Int, TraitType, Unicode

from .._core.conversation import Conversations
from .._core.errors import ConfigError
from .._core.reply import Reply
from .._engine.settings import Settings, options
from . import cell as _cell
from . import commands as _commands
from .args import cell_arguments, line_arguments, plain
from .transform import rewrite_chat_cell

__all__ = ["ChatMagics", "load_ipython_extension", "unload_ipython_extension"]


def _session_traits() -> dict[str, TraitType[Any, Any]]:
    """One ``%config``-able trait per session option, typed and documented from its declaration.

    A trait left at its default (``""`` or ``None``) sets nothing: the layers below it decide.
    """
    traits: dict[str, TraitType[Any, Any]] = {}
    for name, opt, _ in options():
        if not opt.session:
            continue
        text = plain(opt.doc)
        if opt.kind == "number":
            trait: TraitType[Any, Any] = Float(None, allow_none=True, help=text)
        elif opt.kind == "count":
            trait = Int(None, allow_none=True, help=text)
        else:
            trait = Unicode("", help=text)
        traits[name] = trait.tag(config=True)
    return traits


@magics_class
class ChatMagics(Magics):
    """``%%chat`` asks a model and streams the answer below the cell; ``%chat`` configures.

    Session defaults are traitlets: ``%config ChatMagics.model = "gpt-4o-mini"``, or
    ``%chat config model=gpt-4o-mini``. Keys are never settings: name the environment variable
    that holds one with ``api_key_env``.
    """

    # The traits are the session's settings (model, base_url, api … see %config ChatMagics),
    # declared once, with the settings (nbstream._engine.settings): added to the class body here
    # so that traitlets sets them up as if written out.
    locals().update(_session_traits())

    def __init__(self, shell: InteractiveShell, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self.chats = Conversations()
        self.cell_id: str | None = None
        self.last_reply: Reply | None = None  # for %chat code

    def layer(self) -> Settings:
        """The session's defaults (``%config``, ``%chat config``, ``%chat profile``) as a layer.

        Raises:
            UsageError: A trait holds something no setting may (a key, a bad variable name).
        """
        values = {name: getattr(self, name) for name in _session_traits()}
        try:
            return Settings.parse(values, where="%config ChatMagics")
        except ConfigError as exc:
            raise UsageError(str(exc)) from None

    def note_cell(self, info: ExecutionInfo) -> None:
        """``pre_run_cell`` hook: remember the id of the cell about to run (``None`` if unsent)."""
        self.cell_id = getattr(info, "cell_id", None)

    @cell_arguments
    @cell_magic
    def chat(self, line: str, cell: str) -> Any:
        """Ask a model; the answer streams below the cell.

        ``{{name}}`` in the prompt or system prompt inserts a value from the notebook
        (``\\{{name}}`` keeps the braces). Consecutive cells form a conversation; re-running a
        cell replaces its turn. Keys come only from environment variables (see ``%chat?``).
        """
        return _cell.run_cell_magic(self, line, cell)

    @line_arguments
    @line_magic("chat")  # type: ignore[arg-type]  # IPython's decorator is untyped
    def chat_line(self, line: str) -> Any:
        """Configure and inspect chats: ``%chat config|show|history|reset|models|profile|record|replay|code``."""
        return _commands.run(self, line)


# magic_arguments names the usage after the method ("%chat", "%chat_line"): say what users type.
def _rename_usage(func: Any, old: str, new: str) -> None:
    func.__doc__ = (func.__doc__ or "").replace(old, new, 1)


_rename_usage(ChatMagics.chat, "%chat [", "%%chat [")
_rename_usage(ChatMagics.chat_line, "%chat_line", "%chat")


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the magics, the ``%%chat`` cell rewrite and the cell-id hook.

    Args:
        ipython: The running shell.
    """
    if isinstance(_cell.active, ChatMagics):
        return  # loaded already: %load_ext twice must not register two transformers
    magics = ChatMagics(ipython)
    ipython.register_magics(magics)
    configurables = cast(list[Any], ipython.configurables)
    configurables.append(magics)  # so %config ChatMagics.… finds it
    ipython.input_transformers_cleanup.append(rewrite_chat_cell)
    ipython.events.register("pre_run_cell", magics.note_cell)
    _cell.active = magics


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """Undo :func:`load_ipython_extension`.

    Args:
        ipython: The running shell.
    """
    magics = _cell.active
    if not isinstance(magics, ChatMagics):
        return
    if rewrite_chat_cell in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.remove(rewrite_chat_cell)
    ipython.events.unregister("pre_run_cell", magics.note_cell)
    configurables = cast(list[Any], ipython.configurables)
    if magics in configurables:
        configurables.remove(magics)
    ipython.magics_manager.magics["cell"].pop("chat", None)
    ipython.magics_manager.magics["line"].pop("chat", None)
    _cell.active = None

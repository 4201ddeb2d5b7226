"""The public API: one sorted __all__, every name resolves, documented and typed."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
import typing

import pytest

import nbstream


def test_all_is_sorted_and_matches_the_export_table() -> None:
    assert nbstream.__all__ == sorted(nbstream.__all__)
    assert set(nbstream.__all__) == {
        *nbstream._EXPORTS,
        "load_ipython_extension",
        "unload_ipython_extension",
    }


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in nbstream.__all__:
        obj = getattr(nbstream, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"nbstream.{name} has no docstring"
            assert obj.__module__.split(".")[0] == "nbstream", name


def test_every_export_names_itself_nbstream() -> None:
    # As httpx's tests/test_exported_members.py: reprs, tracebacks and help() say nbstream.Reply.
    # Set where each is defined (nbstream._core.values.public), so that an object that reaches
    # the user before its name is looked up (a Reply, an error) says so too.
    for name in nbstream.__all__:
        obj = getattr(nbstream, name)
        if isinstance(obj, types.UnionType):  # Delta, a type alias: its members are the exports
            assert all(m.__module__ == "nbstream" for m in typing.get_args(obj)), name
            continue
        assert obj.__module__ == "nbstream", name
        assert obj.__qualname__ == name


def test_an_error_says_nbstream_in_a_traceback_before_its_name_is_looked_up() -> None:
    code = (
        "from nbstream._core.reply import Reply; "
        "Reply(status='failed', error='no', exception=None).raise_for_status()"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stderr.splitlines()[-1] == "nbstream.ServerReportedError: no"


def test_private_modules_are_not_public() -> None:
    assert not [n for n in nbstream.__all__ if n.startswith("_")]


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        nbstream.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_py_typed_is_shipped() -> None:
    from importlib.resources import files

    assert files("nbstream").joinpath("py.typed").is_file()


def test_import_is_cheap_and_loads_no_jupyter() -> None:
    code = (
        "import sys, nbstream; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('IPython', 'ipywidgets', 'ipykernel', 'nest_asyncio', 'nest_asyncio2', 'uvicorn')]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_embedded_backend_is_reachable_from_a_plain_import() -> None:
    # `import nbstream` then `nbstream.server.shared()`, as the notebooks write it: the
    # subpackage loads on first use, not at import (it brings uvicorn).
    code = (
        "import sys, nbstream; before = 'nbstream.server' in sys.modules; "
        "print(before, callable(nbstream.server.shared), 'nbstream.server' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False True True"

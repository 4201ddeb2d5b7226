"""The %%chat line: flags generated from the settings, an unknown one refused in one line."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from nbstream._engine.settings import options
from nbstream._magic.args import CellOptions, parse_cell_line
from nbstream._magic.magics import ChatMagics


def test_an_unknown_option_is_a_usage_error_naming_it() -> None:
    with pytest.raises(UsageError, match="--modle"):
        parse_cell_line("--modle x")


def test_a_bad_value_is_a_usage_error_naming_the_flag() -> None:
    with pytest.raises(UsageError, match="--timeout takes a number of seconds above 0, not '0'"):
        parse_cell_line("--timeout 0")
    with pytest.raises(UsageError, match="--temperature takes a number, not 'warm'"):
        parse_cell_line("--temperature warm")


def test_the_line_gives_a_layer_and_the_cells_own_options() -> None:
    cell, layer = parse_cell_line('-m x --system "be brief" --no-stream --timeout 2 --chat w -o r')
    assert cell == CellOptions(chat="w", out="r")
    assert layer.given == {"model", "system", "stream", "timeouts"}
    assert (layer.model, layer.system, layer.stream) == ("x", "be brief", False)
    assert layer.timeouts is not None
    assert layer.timeouts.idle == 2.0
    assert parse_cell_line("")[1].given == frozenset()


def test_help_and_traits_come_from_the_settings() -> None:
    help_text = " ".join((ChatMagics.chat.__doc__ or "").split())
    traits = ChatMagics.class_traits(config=True)
    for name, opt, _ in options():
        for flag in opt.flags:
            assert flag in help_text, flag
        assert (name in traits) == opt.session, name
    assert "%config ChatMagics.model" in help_text

"""The error tree: every exception nbstream raises is drawn, once, in the errors module."""

from __future__ import annotations

import inspect
import re

import nbstream._core.errors as errors


def test_the_docstring_draws_every_exception_under_its_parent() -> None:
    drawn: dict[str, int] = {}
    for line in (errors.__doc__ or "").splitlines():
        m = re.match(r"^([│ ]*)(?:[├└]── )?(\w+Error)\s{2,}\S", line)
        if m:
            drawn[m.group(2)] = len(m.group(1)) // 4 + (1 if "──" in line else 0)
    classes = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls) and issubclass(cls, errors.NbstreamError)
    }
    assert set(drawn) == set(classes)
    for name, cls in classes.items():
        parents = [b for b in cls.__bases__ if issubclass(b, errors.NbstreamError)]
        depth = 0 if not parents else drawn[parents[0].__name__] + 1
        assert drawn[name] == depth, name

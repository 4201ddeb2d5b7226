"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nbstream.server import BackgroundServer, start


@pytest.fixture(scope="session")
def backend() -> Iterator[BackgroundServer]:
    """The embedded backend on a free loopback port, shared by the whole session.

    ``backend.url``, ``backend.openai_base_url``; ``backend.log`` records every request (filter
    by ``id`` greater than the last one you saw, since other tests share it). Choose pacing and
    faults in the model name: ``"demo:tps=0,ttft=0"``, ``"lorem:n=50,fault=stall,after=3"``.
    """
    with start() as server:
        yield server

"""The SSE decoder's two implementations, for tests that must hold for both.

``nbstream.SSEDecoder`` is the C accelerator (nbstream/_sse_c.c) where it was built, else the
pure-Python reference ``PySSEDecoder``. CI builds it (``pip install -e``), so there a missing
accelerator is a failure (tests/unit/test_sse_c.py), not a silently halved test suite.
"""

from __future__ import annotations

import pytest

from nbstream._sse import PySSEDecoder, SSEDecoder, _sse_c

Decoder = type[SSEDecoder] | type[PySSEDecoder]

DECODERS: list[Decoder] = [PySSEDecoder]
if _sse_c is not None:
    DECODERS.append(SSEDecoder)

IMPLEMENTATIONS = pytest.mark.parametrize("impl", DECODERS, ids=["python", "c"][: len(DECODERS)])

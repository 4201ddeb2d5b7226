"""``python -m nbstream``: the same as the ``nbstream`` command."""

from __future__ import annotations

import sys

from ._chat.cli import main

if __name__ == "__main__":
    sys.exit(main())

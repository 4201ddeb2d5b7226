"""The ``%%chat`` and ``%chat`` magics (Jupyter glue, the top layer): IPython magics, their
arguments, the cell rewrite that makes Run All wait, and the ``%chat`` subcommands."""

"""The engine, async: settings → endpoint → request → one HTTP exchange → a stream of deltas.

No Jupyter here: :mod:`.settings` layers the configuration, :mod:`.endpoint` is the configured
server, :mod:`.engine` runs the exchange, :mod:`.ticker` keeps the loop waking during a stream.
"""

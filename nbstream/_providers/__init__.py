"""What each chat API looks like on the wire: pure, no I/O.

One module per provider (:mod:`.openai_chat`, :mod:`.anthropic` …), each holding everything of
its API — URL rule, headers, body builder, stream parser, terminal marker, capabilities — and
ending with its ``PROVIDER`` (:class:`.provider.Provider`); :mod:`.registry` lists them once.
:mod:`.request` builds a request through the registry; :mod:`._think` reads a leading
``<think>`` block as reasoning, whatever the format.
"""

"""Event framing: pure, stdlib only. Bytes in, :class:`~nbstream.ServerSentEvent` objects out,
for Server-Sent Events (:mod:`.decoder`) and newline-delimited JSON (:mod:`.ndjson`)."""

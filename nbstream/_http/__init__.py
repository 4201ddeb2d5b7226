"""The async HTTP transport, on httpx: a streamed response in, framed events out, with the
timeouts a notebook needs (:mod:`.transport`) and a one-line error for a non-2xx answer
(:mod:`.errors`)."""

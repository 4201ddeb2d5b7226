"""The core: pure, stdlib only. Values, deltas and the reply they build, the error tree, keys
kept out of sight, where a URL points (its origin and host), markdown healing, the redraw
throttle, conversations, prompt interpolation, and :class:`~nbstream.DeltaStream`, the seam
where the engine and the view meet.

It imports nothing else of nbstream, and no transport: the layers above lean on it.
"""

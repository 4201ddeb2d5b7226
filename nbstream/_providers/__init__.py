"""What each chat API looks like on the wire: pure, no I/O.

The request side (:mod:`.request`: URL, headers and body per API; :mod:`.template` for home-made
servers) and the answer side (one stream parser per wire format, chosen in :mod:`.registry`).
"""

"""The chat layer: :func:`nbstream.chat`, ``chat_sync`` and background chats, one run of a chat
(settings → engine → view → reply), the ``--wire`` panel, the one nested-loop runner, and the
``nbstream`` command. It picks the embedded backend when nothing is configured."""

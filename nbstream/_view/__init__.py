"""The notebook view (Jupyter glue): :class:`~nbstream.StreamView` shows a stream of deltas as
markdown that grows, with a status line and a Cancel button; ipywidgets and IPython's display
are imported here, lazily, where they are used."""

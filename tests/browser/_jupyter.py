"""Start real JupyterLab 4 and Notebook 7 servers for the browser tests, sealed off from the network.

Each server gets its own temporary root, config, data, runtime, settings and workspace
directories, so nothing from the developer's home (extensions, settings, workspaces, IPython
profiles) leaks in and nothing is left behind. Whatever in the frontend could reach the internet
is switched off the ways JupyterLab documents (docs: user/announcements):

- server side: ``LabApp.news_url=None`` and ``check_for_updates_class=NeverCheckForUpdate``;
- frontend: the ``@jupyterlab/apputils-extension:notification`` settings ``fetchNews: "false"``
  and ``checkForUpdates: false``; the announcements plugin and the extension manager (which
  lists PyPI) disabled through ``labconfig/page_config.json``.

``expose_app_in_browser`` makes ``window.jupyterapp`` available, as JupyterLab's own UI test
framework (Galata) does, so the tests can run commands (save, run all) and read kernel state.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Literal

__all__ = ["App", "JupyterServer"]

App = Literal["lab", "notebook"]

# Frontend settings, written as user settings (``<settings dir>/<package>/<plugin>.jupyterlab-settings``).
_USER_SETTINGS: dict[str, dict[str, object]] = {
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
        # Toasts would cover the outputs in screenshots.
        "doNotDisturbMode": True,
    },
}

# Plugins disabled for the page (read from ``<config dir>/labconfig/page_config.json``).
_DISABLED_EXTENSIONS = {
    "@jupyterlab/apputils-extension:announcements": True,
    "@jupyterlab/extensionmanager-extension": True,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class JupyterServer:
    """A ``jupyter lab`` or ``jupyter notebook`` server in a subprocess on 127.0.0.1.

    Args:
        app: ``"lab"`` for JupyterLab 4, ``"notebook"`` for Notebook 7.
        extra_env: Variables added to the server's environment (kernels inherit them).
    """

    def __init__(self, app: App, extra_env: dict[str, str] | None = None) -> None:
        self.app: App = app
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.base = Path(tempfile.mkdtemp(prefix=f"nbstream-{app}-"))
        self.root = self.base / "root"
        self.log_path = self.base / "server.log"
        self._extra_env = dict(extra_env or {})
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8890``."""
        return f"http://127.0.0.1:{self.port}"

    def doc_url(self, name: str) -> str:
        """The URL that opens notebook ``name`` (relative to the root) in this app."""
        prefix = "lab/tree" if self.app == "lab" else "notebooks"
        return f"{self.url}/{prefix}/{name}?token={self.token}"

    def _prepare(self) -> dict[str, str]:
        dirs = {
            name: self.base / name
            for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")
        }
        for path in (self.root, *dirs.values()):
            path.mkdir(parents=True, exist_ok=True)
        for plugin, values in _USER_SETTINGS.items():
            target = dirs["settings"] / f"{plugin}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        labconfig = dirs["config"] / "labconfig"
        labconfig.mkdir()
        (labconfig / "page_config.json").write_text(
            json.dumps({"disabledExtensions": _DISABLED_EXTENSIONS})
        )
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
            "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
            "IPYTHONDIR": str(dirs["ipython"]),
            # Kernels must not pick up a proxy: the embedded backend is on loopback.
            "NO_PROXY": "127.0.0.1,localhost",
            **self._extra_env,
        }
        env.pop("JUPYTER_PLATFORM_DIRS", None)
        return env

    def start(self, timeout: float = 90.0) -> JupyterServer:
        """Start the server and wait until its REST API answers.

        Args:
            timeout: Seconds to wait (a cold start on a loaded 2-core machine takes 3-10 s).

        Returns:
            This server, running.

        Raises:
            RuntimeError: The server exited or did not answer in time (its log is included).
        """
        env = self._prepare()
        app_cls = "LabApp" if self.app == "lab" else "JupyterNotebookApp"
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab" if self.app == "lab" else "notebook",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.terminals_enabled=False",
            "--ServerApp.use_redirect_file=False",
            # Both apps load the jupyterlab server extension, which holds the news/update check.
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            f"--{app_cls}.expose_app_in_browser=True",
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"jupyter {self.app} exited at start-up:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return self
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"jupyter {self.app} did not answer within {timeout:.0f} s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.2)

    def api(self, method: str, path: str, body: object = None) -> object:
        """Call the server's REST API with the token; return the decoded JSON (or ``None``)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def shutdown_kernels(self) -> None:
        """Delete every session (and so shut down its kernel) through the REST API."""
        sessions = self.api("GET", "/api/sessions")
        assert isinstance(sessions, list)
        for session in sessions:
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (SIGINT twice = Jupyter's "shut down without asking"), then clean up."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # Kernels first, so that no orphan kernel outlives the test session.
            with contextlib.suppress(OSError, urllib.error.URLError, AssertionError):
                self.shutdown_kernels()
            proc.send_signal(signal.SIGINT)
            time.sleep(0.1)
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(self.base, ignore_errors=True)

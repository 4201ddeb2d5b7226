"""Fixtures for the browser tests: one headless Chromium and one server per app, per session.

Locally, without Chromium or Playwright, every browser test skips with the reason. When the
environment variable ``CI`` is set (``.ci/run`` runs with ``CI=true``), a missing browser is a
failure: CI must never pass by skipping these tests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ._jupyter import App, JupyterServer
from ._notebook import NotebookPage

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "browser"

# Flags checked on this kind of machine (issue 8): no sandbox as root in a container, no GPU, and
# nothing that phones home (QUIC, component updates, sync, background networking).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Page errors that are not ours, each matched by a part of its message and of its stack:
# - Notebook 7 reads a settings schema before it is fetched while loading (harmless; issue 8);
# - ipywidgets' jupyterlab-manager (8.1.x) reads ``sessionContext.session.kernel.id`` on a
#   notebook opened without a kernel, where the session is null (measured here: its
#   ``async function ee(e){return await e.ready,e.session.kernel.id}``). Nothing shows on screen.
# Anything else fails the test.
KNOWN_PAGE_ERRORS = (
    ("reading 'schema'", ""),
    ("reading 'kernel'", "@jupyter-widgets/jupyterlab-manager"),
)


def is_known_page_error(error: str) -> bool:
    """Whether ``error`` (message, then stack) is one of :data:`KNOWN_PAGE_ERRORS`."""
    return any(message in error and stack in error for message, stack in KNOWN_PAGE_ERRORS)


def chromium_path() -> str | None:
    """Where Chromium is: ``$NBSTREAM_CHROMIUM`` if set, else ``chromium`` on PATH or /usr/bin."""
    override = os.environ.get("NBSTREAM_CHROMIUM")
    if override is not None:
        return override if Path(override).is_file() else None
    return shutil.which("chromium") or shutil.which("/usr/bin/chromium")


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install chromium, or set NBSTREAM_CHROMIUM)"
    return None


# Package scope, not session: Playwright's sync API keeps an event loop running on the main
# thread while it is started, and every async test after it in the same session then failed
# with "Runner.run() cannot be called from a running event loop". Stopping it when the browser
# package is done leaves the rest of the session a clean main thread.
@pytest.fixture(scope="package")
def chromium() -> Iterator[object]:
    """A persistent headless Chromium context with a fresh user-data dir (Playwright, sync API)."""
    problem = _missing_browser()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}: CI must run the browser tests, not skip them", pytrace=False)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="nbstream-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(30_000)
        # Nothing may leave the machine: every request to another host is aborted and recorded
        # (scenario 5 asserts that a remote image in an answer was never even requested).
        context.outside_requests = []  # type: ignore[attr-defined]

        def refuse(route: Any) -> None:
            context.outside_requests.append(route.request.url)  # type: ignore[attr-defined]
            route.abort()

        context.route(_is_outside, refuse)
        # A trace per test, kept only when it fails (what JupyterLab's own UI tests keep).
        context.tracing.start(snapshots=True, screenshots=False)
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="package", params=["lab", "notebook"], ids=["lab", "nb7"])
def jupyter(request: pytest.FixtureRequest, chromium: object) -> Iterator[JupyterServer]:
    """A JupyterLab 4 or Notebook 7 server (both params: every scenario runs in both apps)."""
    app: App = request.param
    server = JupyterServer(app).start()
    try:
        yield server
    finally:
        # The server's log (kernel starts, websocket errors) is kept with the screenshots.
        shutil.copyfile(server.log_path, ARTIFACTS / f"{app}-server.log")
        server.stop()


def _is_outside(url: str) -> bool:
    return not url.startswith(("http://127.0.0.1:", "data:", "blob:", "about:"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report: pytest.TestReport = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def nb(
    request: pytest.FixtureRequest, chromium: Any, jupyter: JupyterServer
) -> Iterator[NotebookPage]:
    """A fresh page on the app under test; fails the test on unexpected page errors.

    If the test fails: a screenshot and a Playwright trace (``playwright show-trace <zip>``) in
    ``artifacts/browser``. Always: the page closed, every kernel shut down.
    """
    chromium.tracing.start_chunk(title=request.node.name)
    notebook = NotebookPage(chromium.new_page(), jupyter, ARTIFACTS)
    chromium.outside_requests.clear()
    failed = True
    try:
        yield notebook
        report = getattr(request.node, "report_call", None)
        unexpected = [e for e in notebook.errors if not is_known_page_error(e)]
        failed = report is None or report.failed or bool(unexpected or chromium.outside_requests)
        assert not unexpected, f"page errors in {jupyter.app}: {unexpected}"
        assert not chromium.outside_requests, (
            f"the page tried to reach other hosts: {chromium.outside_requests}"
        )
    finally:
        if failed:
            notebook.screenshot(f"FAILED-{request.node.name}")
            chromium.tracing.stop_chunk(path=ARTIFACTS / f"trace-{request.node.name}.zip")
        else:
            chromium.tracing.stop_chunk()
        notebook.page.close()
        jupyter.shutdown_kernels()

"""The notebook as context in a real kernel, with real pandas, numpy and matplotlib."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from nbstream.server import BackgroundServer

from .harness import Kernel, run_notebook
from .test_magic import CLEAN_ENV, _usage_error, echo_kernel

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def k(backend: BackgroundServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    with echo_kernel(backend, tmp_path_factory.mktemp("cfg")) as running:
        running.ok("import matplotlib; matplotlib.use('Agg')")
        yield running


def test_a_million_row_frame_stays_within_the_budget_and_says_it_was_cut(k: Kernel) -> None:
    k.ok(
        "import numpy as np, pandas as pd\n"
        "df = pd.DataFrame({'x': np.arange(1_000_000), 'y': np.random.default_rng(0).random(1_000_000)})"
    )
    k.ok("%%chat --no-history -o r --context-budget 1000\nwhy is y skewed? {{df}}")
    ex = k.ok("print(len(r.text), r.status); print(r.text)")
    first, _, text = ex.stdout.partition("\n")
    chars, status = first.split()
    assert status == "finished"
    assert int(chars) <= 1000 * 4 + len("why is y skewed? ")
    assert "1,000,000 rows, 2 columns" in text
    assert "of 1,000,000 rows not shown" in text
    assert "| y | float64 | 0 |" in text


@pytest.mark.parametrize(
    "api", ["openai-chat", "openai-responses", "anthropic", "ollama", "gemini"]
)
def test_a_figure_reaches_the_backend_as_an_image_in_each_apis_form(k: Kernel, api: str) -> None:
    k.ok("import matplotlib.pyplot as plt\nfig, ax = plt.subplots(); ax.plot([1, 3, 2])")
    k.ok(f"%%chat --no-history -o r --api {api}\nwhat is wrong with this plot? {{{{fig}}}}")
    ex = k.ok("print(r.status); print(r.text)")
    assert ex.stdout.startswith("finished")
    assert "received 1 image(s)" in ex.stdout
    assert "image/png 640x480" in ex.stdout


def test_error_sends_the_cells_frames_of_the_last_exception(k: Kernel) -> None:
    ex = k.execute("def ratio(a, b):\n    return a / b\nratio(1, 0)")
    assert ex.status == "error"
    k.ok("%%chat --no-history -o r --error\nfix this")
    text = k.ok("print(r.text)").stdout
    assert "fix this" in text
    assert "ZeroDivisionError: division by zero" in text
    assert "return a / b" in text
    assert "ratio(1, 0)" in text
    assert "\x1b[" not in text


def test_a_key_like_variable_is_refused(k: Kernel) -> None:
    k.ok("SERVICE_API_KEY = 'not-really-a-key'")
    ex = k.execute("%%chat --no-history\nuse {{SERVICE_API_KEY}}")
    assert "looks like a secret" in _usage_error(ex)
    assert "not-really-a-key" not in json.dumps(ex.messages, default=str)


def test_a_headless_run_saves_the_context_section_and_its_metadata(
    backend: BackgroundServer,
) -> None:
    nb = run_notebook(
        [
            "%load_ext nbstream",
            f"%chat config base_url={backend.openai_base_url} model=echo",
            "import matplotlib; matplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
            "import pandas as pd\ndf = pd.DataFrame({'a': range(1000)})\n"
            "fig, ax = plt.subplots(); ax.plot([1, 2])",
            "%%chat\nlook at {{df}} and {{fig}}",
        ],
        env=CLEAN_ENV,
    )
    outputs = nb.cells[-1].outputs
    section = next(
        o for o in outputs if "nbstream-context" in o.get("data", {}).get("text/html", "")
    )
    assert "<details" in section["data"]["text/html"]
    assert 'src="data:image/png;base64,' in section["data"]["text/html"]
    saved = [
        o["metadata"]["nbstream"]
        for o in outputs
        if "status" in o.get("metadata", {}).get("nbstream", {})
    ]
    assert len(saved) == 1
    context = saved[0]["context"]
    assert [(c["name"], c["kind"]) for c in context] == [
        ("df", "pandas.DataFrame"),
        ("fig", "image"),
    ]
    assert context[0]["size"] == "1,000 rows, 1 columns"
    assert "| 0 |" not in json.dumps(context)  # names, kinds and sizes: never the content

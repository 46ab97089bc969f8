"""Shared fixtures: a seeded rng, figure clean-up, and a tiny CRM data set written in code."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SEGREPORT_ID_KEY", "test-key-0123456789abcdef")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20251122)


@pytest.fixture(autouse=True, scope="session")
def _scratch_outside_the_project(tmp_path_factory):
    """Notebooks and views run outside ``segreport run`` write their exports to the scratch
    folder (:func:`analysis.config.scratch_dir`); the tests' go to a temporary one, never to
    the checkout's ``scratch/`` (kernels started by papermill inherit the variable)."""
    from analysis.config import SCRATCH_ENV

    before = os.environ.get(SCRATCH_ENV)
    os.environ[SCRATCH_ENV] = str(tmp_path_factory.mktemp("scratch"))
    yield
    if before is None:
        os.environ.pop(SCRATCH_ENV, None)
    else:
        os.environ[SCRATCH_ENV] = before


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def tiny_tables(
    seed: int = 0, n_customers: int = 120, n_orders: int = 1500
) -> dict[str, pd.DataFrame]:
    """A small, clean data set over 2024-01-01..2025-12-31 in units north and south, with
    recognisable PII in the customers table."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:04d}" for i in range(n_customers)]
    units = rng.choice(["north", "south"], n_customers)
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "business_unit": units,
            "customer_type": rng.choice(
                ["individual", "enterprise", "government", "institution"], n_customers
            ),
            "signup_date": "2023-06-01",
            "name": [f"Zelda Quixote{i}" for i in range(n_customers)],
            "phone": [f"+1-555-01{i:04d}" for i in range(n_customers)],
            "email": [f"zq{i}@pii.example" for i in range(n_customers)],
        }
    )
    who = rng.integers(0, n_customers, n_orders)
    days = rng.integers(0, 731, n_orders)
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i:05d}" for i in range(n_orders)],
            "customer_id": np.asarray(ids)[who],
            "order_date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D")).strftime(
                "%Y-%m-%d"
            ),
            "amount": rng.gamma(2.0, 40.0, n_orders).round(2),
            "business_unit": units[who],
            "status": "completed",
        }
    )
    return {"customers": customers, "orders": orders}


def write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def browser():
    """The Debian chromium through playwright, launched with the flags the reports' PDFs are
    printed with (no download, nothing that phones home); the test skips without it."""
    from analysis.report.browser import FLAGS, chromium_path

    executable = chromium_path()
    if executable is None:
        pytest.skip("Debian chromium is not installed (make setup installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=executable, args=list(FLAGS))
        yield instance
        instance.close()


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    return write_tables(tmp_path / "data", tiny_tables())


@pytest.fixture
def params_for():
    """Resolved parameters for a data folder (fixed 'today' so future-date checks are stable)."""
    from analysis.config import load_params

    def make(data_dir: Path, **overrides):
        base = {"data_dir": str(data_dir), "quality": {"today": "2026-06-30"}}
        base.update(overrides)
        return load_params(overrides=base)

    return make


def run_notebook(
    report: str, tmp_path: Path, *, data_dir: Path, unit: str, period: str = "2025-Q4", **overrides
):
    """Execute ``notebooks/<report>.ipynb`` under plain papermill (reports and exports under
    ``tmp_path / "reports"``), assert it left no error and nothing on stderr, and return the
    executed notebook, its outputs and their HTML."""
    import nbformat
    import papermill as pm

    out = tmp_path / f"{report}.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / f"{report}.ipynb"),
        str(out),
        kernel_name="python3",
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        parameters={
            "period": period,
            "unit": unit,
            "data_dir": str(data_dir),
            "overrides": {
                "output_dir": str(tmp_path / "reports"),
                "quality.today": "2026-06-30",
                **overrides,
            },
        },
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    return nb, outputs, html


def report_context(
    tmp_path: Path,
    data,
    *,
    unit: str = "north",
    period: str = "2025-Q4",
    language: str = "en",
    data_end: pd.Timestamp | None = None,
    **overrides,
):
    """A ReportContext over in-memory tables, as a report notebook gets it (for view tests).

    ``data`` is an :class:`analysis.data.load.Dataset`; ``overrides`` are parameters
    (``segmentation={...}``); ``data_end`` defaults to the last order date.
    """
    from analysis.config import load_params
    from analysis.period import Period
    from analysis.report.context import ReportContext

    params = load_params(
        overrides={
            "output_dir": str(tmp_path / "reports"),
            "language": language,
            "quality": {"today": "2026-06-30"},
            **overrides,
        }
    )
    orders = data.orders
    if data_end is None and orders is not None and not orders.empty:
        data_end = orders["order_date"].max()
    return ReportContext(
        params=params, period=Period.parse(period), unit=unit, data=data, data_end=data_end
    )


@pytest.fixture
def shown(monkeypatch) -> list[str]:
    """Everything report sections display, as HTML strings; each figure as "<figure>"."""
    import matplotlib.pyplot as plt

    from analysis import plots
    from analysis.report import context as context_module

    out: list[str] = []

    def collect(obj, *args, **kwargs):  # noqa: ARG001
        if isinstance(getattr(obj, "data", None), str):
            out.append(obj.data)

    def figure(fig) -> None:
        out.append("<figure>")
        plt.close(fig)

    monkeypatch.setattr(context_module, "display", collect)
    monkeypatch.setattr(plots, "show_figure", figure)
    return out


def unguarded(source: str) -> str:
    """A report notebook's cell without its ``if applies:`` guard (every cell after the setup
    does nothing when the report does not apply), so tests can read the call it makes."""
    import textwrap

    head = "if applies:\n"
    return textwrap.dedent(source[len(head) :]).strip() if source.startswith(head) else source

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
os.environ.setdefault("SEGREPORT_ID_KEY", "test-key")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20251122)


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

"""ReportContext: where a notebook writes. Under ``segreport run`` into the run's staging
folder; run by hand (JupyterLab, plain papermill) into the scratch folder, never into a
published reports folder."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import report_context

from analysis.config import SCRATCH_ENV
from analysis.data.load import Dataset
from analysis.privacy import ENV_KEY, KEY_FILE


@pytest.fixture
def data() -> Dataset:
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "customer_id": ["a", "b"],
            "order_date": pd.to_datetime(["2025-10-01", "2025-11-01"]),
            "amount": [10.0, 20.0],
            "business_unit": "north",
        }
    )
    return Dataset(customers=None, orders=orders)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    folder = tmp_path / "scratch"
    monkeypatch.setenv(SCRATCH_ENV, str(folder))
    monkeypatch.delenv(ENV_KEY, raising=False)
    return folder


FRAME = pd.DataFrame({"customer_id": ["a"], "segment": ["Champions"]})


def test_by_hand_exports_go_to_the_scratch_folder(tmp_path, data, scratch):
    ctx = report_context(tmp_path, data, period="2025-Q4")
    assert not ctx.in_run
    path = ctx.export(FRAME, "rfm.csv")
    assert path == scratch / "2025-Q4" / "north" / "exports" / "rfm.csv"
    assert pd.read_csv(path, encoding="utf-8-sig").equals(FRAME)
    assert not (tmp_path / "reports").exists()


def test_an_explicit_export_dir_wins(tmp_path, data, scratch):
    mine = tmp_path / "mine"
    ctx = report_context(tmp_path, data, export_dir=str(mine))
    assert ctx.export(FRAME, "rfm.csv") == mine / "rfm.csv"
    assert not scratch.exists()


def test_under_the_runner_exports_go_to_its_staging_folder(tmp_path, data, scratch):
    staging = tmp_path / "reports" / "2025-Q4" / ".north.staging-1" / "exports"
    ctx = report_context(tmp_path, data, cache_dir=str(tmp_path / "cache"), export_dir=str(staging))
    assert ctx.in_run
    assert ctx.export(FRAME, "rfm.csv") == staging / "rfm.csv"
    assert not scratch.exists()


def test_by_hand_the_id_key_is_never_created_in_the_reports_folder(tmp_path, data, scratch):
    ids = pd.Series(["a", "b"])
    ctx = report_context(tmp_path, data)
    shown = ctx.pseudonymise(ids)
    assert not (tmp_path / "reports").exists()
    assert (scratch / KEY_FILE).is_file()
    assert shown.str.startswith("c-").all() and ctx.pseudonymise(ids).equals(shown)


def test_by_hand_an_existing_published_key_is_read_not_written(tmp_path, data, scratch):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / KEY_FILE).write_bytes(b"published-key-0123456789")
    before = (reports / KEY_FILE).stat().st_mtime_ns
    ctx = report_context(tmp_path, data)
    from analysis.privacy import pseudonymise

    ids = pd.Series(["a"])
    assert ctx.pseudonymise(ids).equals(pseudonymise(ids, b"published-key-0123456789"))
    assert (reports / KEY_FILE).stat().st_mtime_ns == before
    assert sorted(p.name for p in reports.iterdir()) == [KEY_FILE]
    assert not scratch.exists()

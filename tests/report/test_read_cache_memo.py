"""The clean tables are read once per kernel, and every report still gets its own copy."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from analysis.data.load import Dataset
from analysis.report import context
from analysis.report.context import read_cache, write_cache


@pytest.fixture
def cached(tmp_path):
    customers = pd.DataFrame({"customer_id": ["a", "b"], "business_unit": ["x", "x"]})
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "customer_id": ["a", "b"],
            "order_date": pd.to_datetime(["2025-01-01", "2025-01-02"]),
            "amount": [10.0, 20.0],
            "business_unit": ["x", "x"],
        }
    )
    write_cache(tmp_path, Dataset(customers=customers, orders=orders), {"sources": {}})
    context._TABLES.clear()
    return tmp_path


def test_a_second_read_reuses_the_tables_without_sharing_them(cached, monkeypatch):
    first, _ = read_cache(cached)
    reads = []
    real = pd.read_parquet
    monkeypatch.setattr(pd, "read_parquet", lambda *a, **k: reads.append(a) or real(*a, **k))
    first.orders["amount"] = 0.0  # a report changing its copy in place
    first.orders.loc[0, "customer_id"] = "zzz"
    second, _ = read_cache(cached)
    assert reads == []  # served from the memo
    assert second.orders["amount"].tolist() == [10.0, 20.0]
    assert second.orders["customer_id"].tolist() == ["a", "b"]
    assert second.orders is not first.orders


def test_a_rewritten_file_is_read_again(cached):
    first, _ = read_cache(cached)
    path = cached / "orders.parquet"
    changed = first.orders.assign(amount=[1.0, 2.0])
    changed.to_parquet(path, index=False)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second, _ = read_cache(cached)
    assert second.orders["amount"].tolist() == [1.0, 2.0]


def test_keep_false_reads_without_holding_the_tables(cached):
    data, _ = read_cache(cached, keep=False)
    assert data.orders["amount"].tolist() == [10.0, 20.0]
    assert context._TABLES == {}  # nothing held: the runner's process looks at every unit once


def test_planning_a_run_holds_no_unit_tables(tiny_dir, params_for, tmp_path):
    """The runner reads each unit's cache to decide what applies; it must not keep the last
    (company-wide) unit's tables in memory while the kernels run."""
    from analysis.report.runner import plan_run

    context._TABLES.clear()
    params = params_for(tiny_dir, output_dir=str(tmp_path / "reports"))
    plan = plan_run(params, units=["all"])
    assert plan.tasks
    assert context._TABLES == {}


def test_a_kernel_moving_to_another_unit_lets_the_last_units_tables_go(cached, tmp_path):
    from analysis.pipelines import shared

    shared._CURRENT[0] = None
    context._enter_unit(str(cached))
    read_cache(cached)
    context._enter_unit(str(cached))  # the unit's next report: its tables stay
    assert len(context._TABLES) == 1
    context._enter_unit(str(tmp_path / "another-unit"))
    assert context._TABLES == {}
    shared._CURRENT[0] = None

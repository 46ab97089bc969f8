"""The overview pipeline: the KPIs in one table (current, previous, a year earlier), the
trend and the mix, as a frozen result."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from test_overview import CUSTOMERS, ORDERS, Q4

from analysis.data.load import Dataset
from analysis.period import Period
from analysis.pipelines import overview as pipeline


def test_build_collects_the_kpis_in_one_table():
    result = pipeline.build(Dataset(customers=CUSTOMERS, orders=ORDERS), Q4, {})
    assert result.status == "ok"
    assert result.kpis.index.tolist() == list(pipeline.KPIS)
    assert result.kpis.columns.tolist() == [
        "current",
        "previous",
        "change",
        "year_ago",
        "change_yoy",
    ]
    assert result.kpis.loc["active", ["current", "previous", "year_ago"]].tolist() == [2, 2, 1]
    assert result.kpis.loc["new", "current"] == 1
    assert str(result.previous) == "2025-Q3" and str(result.year_ago) == "2024-Q4"
    assert result.trend_status == "ok" and result.trend_months == pipeline.TREND_MONTHS
    assert result.best_month == pd.Timestamp("2025-11-01")  # c's 100
    assert result.best_month_revenue == 100.0
    assert result.mix["customer_type"].tolist() == ["individual", "enterprise"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = "changed"


def test_a_period_without_orders_has_a_status():
    result = pipeline.build(
        Dataset(customers=CUSTOMERS, orders=ORDERS), Period.parse("2026-Q2"), {}
    )
    assert result.status == "no_orders_in_period"
    assert result.kpis.loc["orders", "current"] == 0
    empty = pipeline.build(Dataset(customers=CUSTOMERS, orders=ORDERS.iloc[:0]), Q4, {})
    assert empty.trend_status == "empty" and empty.best_month is None

"""Purchase days in a range, read from one pass over an orders frame, equal a pass over
the range itself; ranges that cut a day fall back to that pass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.churn import _common


def _orders(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 500
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    stamps = stamps + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    ids = [f"c{c}" if rng.random() > 0.03 else None for c in rng.integers(0, 40, n)]
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string[pyarrow]"),
            "order_date": stamps,
            "amount": rng.choice([-10.0, 0.0, 5.0, 12.5], n),
        }
    )


def _by_definition(orders: pd.DataFrame, start, end) -> pd.DataFrame:
    """Customer-days of the orders dated in [start, end) whose amounts sum above zero."""
    inside = orders["order_date"] < end
    if start is not None:
        inside &= orders["order_date"] >= start
    part = orders[inside].dropna(subset=["customer_id"])
    net = part.groupby(
        [part["customer_id"].astype("string"), part["order_date"].dt.normalize().rename("day")]
    )["amount"].sum()
    return net[net > 0].reset_index()[["customer_id", "day"]]


@pytest.mark.parametrize("seed", [0, 1])
def test_every_range_gives_the_purchase_days_by_definition(seed):
    orders = _orders(seed)
    rng = np.random.default_rng(seed + 10)
    for _ in range(40):
        start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(-20, 410)))
        end = start + pd.Timedelta(days=int(rng.integers(0, 120)))
        if rng.random() < 0.3:
            end += pd.Timedelta(hours=int(rng.integers(1, 23)))  # a range that cuts a day
        first = None if rng.random() < 0.2 else start
        found = _common.purchase_days(orders.copy(deep=False), first, end)
        truth = _by_definition(orders, first, end)
        assert found["customer_id"].tolist() == truth["customer_id"].tolist()
        assert found["day"].tolist() == truth["day"].tolist()


def test_one_pass_serves_every_midnight_range_of_a_frame(monkeypatch):
    orders = _orders(3)
    _common._DAYS.clear()
    passes = []
    real = _common._net_days
    monkeypatch.setattr(_common, "_net_days", lambda part: passes.append(len(part)) or real(part))
    snapshot = pd.Timestamp("2024-11-30")
    for months in range(4):
        end = snapshot - pd.DateOffset(months=months)
        _common.purchase_days(orders.copy(deep=False), end - pd.Timedelta(days=90), end)
    assert passes == [len(orders)]  # one pass over all orders, four ranges read from it
    _common.purchase_days(orders, snapshot, snapshot + pd.Timedelta(hours=6))
    assert len(passes) == 2  # a range inside a day: its own pass


def test_time_zone_aware_dates_give_the_days_by_definition():
    orders = _orders(4)
    orders["order_date"] = orders["order_date"].dt.tz_localize("Europe/Berlin")
    found = _common._net_days(orders)
    truth = _by_definition(orders, None, pd.Timestamp("2030-01-01", tz="Europe/Berlin"))
    assert found["customer_id"].tolist() == truth["customer_id"].tolist()
    assert found["day"].tolist() == truth["day"].tolist()


def test_the_day_table_keeps_its_types():
    found = _common._net_days(_orders(5))
    assert str(found["customer_id"].dtype) == "string"
    assert found["day"].dtype == _orders(5)["order_date"].dt.normalize().dtype
    assert found["customer_id"].notna().all() and len(found) > 0

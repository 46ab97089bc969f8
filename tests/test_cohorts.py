"""Cohorts and the revenue bridge (analysis.cohorts): hand-counted answers and the exact
identity of the bridge, with refunds and customers without orders in one period."""

import numpy as np
import pandas as pd
import pytest

from analysis import cohorts

Q3 = (pd.Timestamp("2025-07-01"), pd.Timestamp("2025-10-01"))
Q4 = (pd.Timestamp("2025-10-01"), pd.Timestamp("2026-01-01"))


def _orders(rows):
    frame = pd.DataFrame(
        rows, columns=["order_id", "customer_id", "order_date", "amount", "status"]
    )
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame


HAND = _orders(
    [
        ("1", "keep", "2025-07-10", 100.0, "completed"),
        ("2", "keep", "2025-10-10", 60.0, "completed"),
        ("3", "keep", "2025-11-10", 60.0, "completed"),
        ("4", "gone", "2025-08-01", 50.0, "completed"),
        ("5", "gone", "2025-10-20", -20.0, "returned"),  # a refund after leaving
        ("6", "fresh", "2025-12-01", 30.0, "completed"),
        ("7", "fresh", "2025-12-02", 99.0, "cancelled"),  # counts for nothing
        ("8", "ghost", "2025-09-01", -5.0, "returned"),  # refunds only, in both periods
        ("9", "ghost", "2025-11-01", -7.0, "returned"),
    ]
)


def test_bridge_hand_counted():
    bridge = cohorts.revenue_bridge(HAND, Q4, Q3).set_index("part")
    # Q3 revenue: 100 + 50 - 5 = 145; Q4: 120 - 20 + 30 - 7 = 123
    assert bridge.attrs["previous_revenue"] == pytest.approx(145.0)
    assert bridge.attrs["current_revenue"] == pytest.approx(123.0)
    assert bridge.loc["new", "value"] == pytest.approx(30.0)
    assert bridge.loc["lost", "value"] == pytest.approx(-20.0 - 50.0)
    assert bridge.loc["refunds_only", "value"] == pytest.approx(-7.0 - -5.0)
    # keep: 1 order of 100 -> 2 orders of 60: frequency (2 - 1) x 100, value (60 - 100) x 2
    assert bridge.loc["frequency", "value"] == pytest.approx(100.0)
    assert bridge.loc["order_value", "value"] == pytest.approx(-80.0)
    assert bridge["customers"].to_dict() == {
        "new": 1,
        "lost": 1,
        "refunds_only": 1,
        "frequency": 1,
        "order_value": 1,
    }
    assert bridge["value"].sum() == pytest.approx(bridge.attrs["change"])


@pytest.mark.parametrize("seed", range(5))
def test_bridge_parts_sum_exactly_to_the_change(seed):
    rng = np.random.default_rng(seed)
    n = 400
    amount = np.round(rng.gamma(2.0, 40.0, n), 2)
    refund = rng.random(n) < 0.15
    cancelled = ~refund & (rng.random(n) < 0.05)
    orders = _orders(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "customer_id": [f"c{k}" for k in rng.integers(0, 90, n)],
            "order_date": pd.Timestamp("2025-06-15")
            + pd.to_timedelta(rng.integers(0, 200, n), "D"),
            "amount": np.where(refund, -amount / 2, amount),
            "status": np.where(refund, "returned", np.where(cancelled, "cancelled", "completed")),
        }
    )
    bridge = cohorts.revenue_bridge(orders, Q4, Q3)
    kept = orders.loc[orders["status"] != "cancelled"]
    in_q3 = kept.loc[(kept["order_date"] >= Q3[0]) & (kept["order_date"] < Q3[1]), "amount"].sum()
    in_q4 = kept.loc[(kept["order_date"] >= Q4[0]) & (kept["order_date"] < Q4[1]), "amount"].sum()
    assert bridge.attrs["change"] == pytest.approx(in_q4 - in_q3, abs=1e-9)
    assert bridge["value"].sum() == pytest.approx(in_q4 - in_q3, abs=1e-6)


def test_bridge_with_an_empty_previous_period():
    bridge = cohorts.revenue_bridge(
        HAND, Q3, (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-01"))
    )
    parts = bridge.set_index("part")["value"]
    assert parts["new"] == pytest.approx(150.0) and parts["refunds_only"] == pytest.approx(-5.0)
    assert parts["frequency"] == parts["order_value"] == 0.0
    assert parts.sum() == pytest.approx(145.0)


def test_cohort_retention_triangle():
    orders = _orders(
        [
            ("1", "a", "2025-01-05", 10.0, "completed"),
            ("2", "a", "2025-04-05", 10.0, "completed"),
            ("3", "b", "2025-02-05", 10.0, "completed"),
            ("4", "b", "2025-08-05", 10.0, "completed"),
            ("5", "c", "2025-05-05", 10.0, "completed"),
            ("6", "c", "2025-06-05", -4.0, "returned"),
            ("7", "d", "2025-08-01", -3.0, "returned"),  # never bought: no cohort
        ]
    )
    tables = cohorts.cohort_tables(orders, pd.Timestamp("2025-10-01"))
    assert tables.sizes.to_dict() == {"2025-Q1": 2, "2025-Q2": 1}
    ret = tables.retention
    assert ret.loc["2025-Q1"].tolist() == [1.0, 0.5, 0.5]
    assert ret.loc["2025-Q2", 0] == 1.0 and ret.loc["2025-Q2", 1] == 0.0
    assert np.isnan(ret.loc["2025-Q2", 2])  # beyond the snapshot
    assert tables.revenue.loc["2025-Q2", 0] == pytest.approx(6.0)  # the refund counts
    monthly = cohorts.cohort_tables(orders, pd.Timestamp("2025-10-01"), freq="M")
    assert list(monthly.sizes.index) == ["2025-01", "2025-02", "2025-05"]
    with pytest.raises(ValueError, match="freq"):
        cohorts.cohort_tables(orders, pd.Timestamp("2025-10-01"), freq="W")

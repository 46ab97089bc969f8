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


def _reference_cohort_tables(orders, as_of, *, freq="Q", max_cohorts=12):
    """The definition, row by row in pandas (the implementation before it worked on
    integer codes): the fast one must give the same tables, bit for bit."""
    _counted, _is_sale, _label = cohorts._counted, cohorts._is_sale, cohorts._label
    CohortTables = cohorts.CohortTables
    if freq not in ("Q", "M"):
        raise ValueError(f"freq must be 'Q' or 'M', got {freq!r}")
    rows = _counted(orders)
    when = pd.to_datetime(rows["order_date"])
    rows = rows.loc[when < pd.Timestamp(as_of)]
    when = pd.to_datetime(rows["order_date"])
    period = when.dt.to_period(freq)
    ids = rows["customer_id"].astype(str)
    sale = _is_sale(rows)
    first = period[sale].groupby(ids[sale]).min()
    if first.empty:
        empty = pd.DataFrame()
        return CohortTables(pd.Series(dtype=np.int64), empty, empty, freq)
    cohort = ids.map(first)
    known = cohort.notna()
    label = {p: _label(p) for p in first.unique()}
    age = (period[known].astype("int64") - cohort[known].map(lambda p: p.ordinal)).astype(int)
    frame = pd.DataFrame(
        {
            "cohort": cohort[known].map(label),
            "age": age,
            "customer": ids[known],
            "amount": rows.loc[known, "amount"].astype(float),
            "sale": sale[known],
        }
    )
    sizes = first.map(label).value_counts().sort_index()
    sizes.index.name = "cohort"
    keep = sizes.index[-max_cohorts:]
    frame = frame.loc[frame["cohort"].isin(keep)]
    sizes = sizes.loc[keep]
    buyers = frame.loc[frame["sale"]].groupby(["cohort", "age"])["customer"].nunique()
    retention = buyers.unstack("age").reindex(index=keep)
    retention = retention.div(sizes, axis=0)
    revenue = frame.groupby(["cohort", "age"])["amount"].sum().unstack("age").reindex(index=keep)
    last = pd.Timestamp(as_of - pd.Timedelta(days=1)).to_period(freq).ordinal
    ages = range(0, int(retention.columns.max()) + 1 if len(retention.columns) else 1)
    retention = retention.reindex(columns=list(ages))
    revenue = revenue.reindex(columns=list(ages))
    ordinal = {label[p]: p.ordinal for p in label}
    for name in keep:
        observed = [a for a in ages if a <= last - ordinal[name]]
        retention.loc[name, observed] = retention.loc[name, observed].fillna(0.0)
        revenue.loc[name, observed] = revenue.loc[name, observed].fillna(0.0)
    retention.columns.name = revenue.columns.name = "periods_since"
    retention.index.name = revenue.index.name = "cohort"
    return CohortTables(sizes.astype(np.int64), retention, revenue, freq)


def _random_orders(rng, n):
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    status = rng.choice(["completed", "returned", "cancelled", None], n, p=[0.8, 0.1, 0.05, 0.05])
    amount = np.round(rng.gamma(2.0, 30.0, n), 2) * np.where(rng.random(n) < 0.1, -1, 1)
    frame = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": pd.array([f"c{k}" for k in rng.integers(0, n // 4 + 1, n)], "string"),
            "order_date": days + pd.to_timedelta(rng.integers(0, 86400, n), unit="s"),
            "amount": amount,
            "status": pd.array(status, "string"),
        }
    )
    return frame.sample(frac=1.0, random_state=int(rng.integers(1 << 30))).reset_index(drop=True)


@pytest.mark.parametrize("seed", range(12))
def test_cohort_tables_match_the_row_by_row_definition(seed):
    rng = np.random.default_rng(seed)
    orders = _random_orders(rng, int(rng.integers(5, 3000)))
    as_of = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(-10, 950)))
    for freq in ("Q", "M"):
        max_cohorts = int(rng.integers(1, 15))
        got = cohorts.cohort_tables(orders, as_of, freq=freq, max_cohorts=max_cohorts)
        want = _reference_cohort_tables(orders, as_of, freq=freq, max_cohorts=max_cohorts)
        pd.testing.assert_series_equal(got.sizes, want.sizes)
        for part in ("retention", "revenue"):
            pd.testing.assert_frame_equal(getattr(got, part), getattr(want, part), check_exact=True)


def test_cohort_tables_without_a_purchase_before_the_date():
    orders = _random_orders(np.random.default_rng(3), 200)
    for as_of in (pd.Timestamp("2022-06-01"), pd.Timestamp("2023-01-01")):
        got = cohorts.cohort_tables(orders, as_of)
        assert got.sizes.empty and got.retention.empty and got.revenue.empty
    refunds = orders.assign(amount=-orders["amount"].abs())
    assert cohorts.cohort_tables(refunds, pd.Timestamp("2025-01-01")).sizes.empty

"""The inter-purchase gaps are computed once per orders frame and give, for every snapshot
date, the numbers a query over the orders gives; the memo never answers for other data."""

from __future__ import annotations

import gc

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis import lifecycle
from analysis.framememo import FrameMemo


def _orders(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    customers = rng.integers(0, 60, n)
    days = rng.integers(0, 700, n)
    ids = [f"c{c}" if rng.random() > 0.02 else None for c in customers]
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string[pyarrow]"),
            "order_date": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(days, unit="D")
            + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s"),
            "amount": rng.choice([-15.0, 0.0, 9.5, 20.0, 42.0], n, p=[0.1, 0.05, 0.3, 0.3, 0.25]),
        }
    )


def _truth_gaps(orders: pd.DataFrame, end: str) -> np.ndarray:
    """The gaps by the definition, in pandas: purchase days are customer-days up to
    ``end`` whose orders sum to more than zero; a gap joins two consecutive ones."""
    frame = orders.dropna(subset=["customer_id"]).copy()
    frame["day"] = frame["order_date"].dt.normalize()
    frame = frame[frame["day"] <= pd.Timestamp(end)]
    totals = frame.groupby(["customer_id", "day"])["amount"].sum()
    days = totals[totals > 0].reset_index().sort_values(["customer_id", "day"])
    gaps = days.groupby("customer_id")["day"].diff().dropna().dt.days
    return gaps.to_numpy(dtype=np.int64)


def _duckdb_quantiles(gaps: np.ndarray, qs: tuple[float, ...]) -> tuple[float, ...]:
    select = ", ".join(f"quantile_cont(gap, {q})" for q in qs)
    con = duckdb.connect()
    try:
        con.register("truth", pd.DataFrame({"gap": gaps}))
        return tuple(con.execute(f"SELECT {select} FROM truth").fetchone())
    finally:
        con.close()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("end", ["2024-02-10", "2024-09-30", "2025-06-15 18:00", "2027-01-01"])
def test_quantiles_at_every_date_equal_those_of_the_gaps_by_definition(seed, end):
    orders = _orders(seed)
    qs = (0.1, 0.5, 0.8, 0.95)
    truth = _truth_gaps(orders, end)
    n_gaps, found = lifecycle.purchase_gap_quantiles(orders, end, qs)
    assert n_gaps == len(truth)
    if len(truth):
        assert found == _duckdb_quantiles(truth, qs)  # the same aggregate, bit for bit
        assert np.allclose(found, np.quantile(truth, qs), rtol=1e-12)
    else:
        assert all(np.isnan(found))


def test_billing_shares_and_median_equal_those_of_the_gaps_by_definition():
    # monthly bills with a little jitter: the share in the monthly band and the median
    rng = np.random.default_rng(5)
    rows = []
    for c in range(40):
        start = pd.Timestamp("2024-01-03") + pd.Timedelta(days=int(rng.integers(0, 20)))
        for k in range(14):
            rows.append(
                (f"s{c}", start + pd.Timedelta(days=30 * k + int(rng.integers(-2, 3))), 25.0)
            )
    bills = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    for end in ("2024-06-30", "2025-03-31"):
        truth = _truth_gaps(bills, end)
        found = lifecycle.billing_cycle(bills, end)
        assert found.n_gaps == len(truth)
        assert found.median_gap == float(np.median(truth))
        assert found.share == pytest.approx(((truth >= 27) & (truth <= 32)).mean(), rel=1e-15)
        assert found.cycle == "monthly" and found.scheme == "subscription"


def test_the_gaps_are_computed_once_for_the_copies_reports_get(monkeypatch):
    orders = _orders(3)
    lifecycle._GAPS.clear()
    calls = []
    real = lifecycle._duckdb

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "_duckdb", counting)
    first = lifecycle.purchase_gap_quantiles(orders, "2025-06-30", (0.9,))
    # another report's shallow copy, other dates, the billing cycle: no new pass
    copy = orders.copy(deep=False)
    assert lifecycle.purchase_gap_quantiles(copy, "2025-06-30", (0.9,)) == first
    lifecycle.purchase_gap_quantiles(copy, "2024-12-31", (0.8, 0.95))
    lifecycle.billing_cycle(copy, "2025-06-30")
    assert len(calls) == 1
    # a filtered frame and an edited column are other data: computed afresh, and right
    later = orders[orders["order_date"] >= "2024-06-01"]
    assert lifecycle.purchase_gap_quantiles(later, "2025-06-30", (0.9,))[0] == len(
        _truth_gaps(later, "2025-06-30")
    )
    edited = orders.copy(deep=False)
    edited["amount"] = edited["amount"].abs() + 1.0  # every day is a purchase day now
    assert lifecycle.purchase_gap_quantiles(edited, "2025-06-30", (0.9,))[0] == len(
        _truth_gaps(edited, "2025-06-30")
    )
    assert len(calls) == 3
    # the original's columns are unchanged by the edit of the copy: still the memo's answer
    assert lifecycle.purchase_gap_quantiles(orders, "2025-06-30", (0.9,)) == first
    assert len(calls) == 3


def test_a_frame_memo_forgets_data_that_was_freed():
    memo = FrameMemo(kept=4)
    calls = []
    frame = pd.DataFrame({"x": np.arange(5.0)})
    assert memo.get(frame, ["x"], "sum", lambda: calls.append(1) or 10.0) == 10.0
    del frame
    gc.collect()
    # new data, perhaps at the freed address: computed, never the old answer
    other = pd.DataFrame({"x": np.arange(5.0) * 2})
    assert memo.get(other, ["x"], "sum", lambda: calls.append(1) or 20.0) == 20.0
    assert len(calls) == 2


def test_a_frame_memo_keys_by_the_columns_data_and_the_extra_key():
    memo = FrameMemo(kept=2)
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "t": ["x", "y"]})
    frame["t"] = frame["t"].astype("string[pyarrow]")
    calls = []

    def get(columns, extra):
        return memo.get(frame, columns, extra, lambda: calls.append((columns, extra)) or len(calls))

    assert get(["a"], 1) == get(["a"], 1) == 1
    assert get(["b"], 1) == 2  # another column
    assert get(["a"], 2) == 3  # another extra key (and the oldest entry is dropped)
    assert get(["a"], 1) == 4  # dropped: kept=2
    assert get(["t"], 1) == 5 and get(["t"], 1) == 5  # Arrow-backed text is shared data
    masked = pd.DataFrame({"m": pd.array([1, None], dtype="Int64")})
    assert memo.get(masked, ["m"], 1, lambda: "computed") == "computed"  # not kept
    assert memo.get(masked, ["missing"], 1, lambda: "no column") == "no column"

"""Tests for analysis.value: RFM summary (against lifetimes and the published CDNOW summary),
RFM scores and their tie rule, segment maps, value tiers and the Pareto curve."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DataError, ParamsError
from analysis.value import (
    DEFAULT_SEGMENT_MAP,
    pareto_curve,
    quintile_scores,
    rfm_scores,
    rfm_segments,
    rfm_summary,
    segment_label,
    top_share,
    validate_segment_map,
    value_tiers,
)

ONLINE_RETAIL = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "online_retail.csv.gz"
AVG_MONTH_DAYS = 365.2425 / 12


def _reference_summary(orders, end, freq="D", customer_id_col="customer_id"):
    """lifetimes' summary (test-only reference), quiet about its pandas deprecations."""
    lifetimes_utils = pytest.importorskip("lifetimes.utils")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = lifetimes_utils.summary_data_from_transaction_data(
            orders,
            customer_id_col,
            "order_date",
            monetary_value_col="amount",
            observation_period_end=end,
            freq=freq,
        )
    out.index = out.index.astype(str)
    return out


def _assert_same_summary(ours, ref):
    assert list(ours.index) == list(ref.index)
    assert list(ours.columns) == ["frequency", "recency", "T", "monetary_value"]
    np.testing.assert_allclose(ours[ref.columns].to_numpy(), ref.to_numpy(), rtol=1e-9, atol=1e-9)


@pytest.fixture
def synthetic_orders(rng):
    """A messy log: times of day, same-day orders, refunds (some alone on a day, some netting
    a day to zero or below), and orders after the observation end."""
    n = 3000
    customers = np.array([f"C{i:04d}" for i in range(300)])
    cid = rng.choice(customers, n, p=rng.dirichlet(np.ones(300)))
    start = pd.Timestamp("2023-01-01")
    dates = start + pd.to_timedelta(rng.integers(0, 600 * 24 * 60, n), unit="min")
    amount = np.round(rng.lognormal(3.5, 0.8, n), 2)
    refund = rng.random(n) < 0.08
    amount[refund] = -np.round(amount[refund] * rng.uniform(0.2, 1.5, refund.sum()), 2)
    return pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "customer_id": cid,
            "order_date": dates,
            "amount": amount,
            "business_unit": "u1",
        }
    )


# --------------------------------------------------------------------------------------
# rfm_summary
# --------------------------------------------------------------------------------------


def test_rfm_summary_docstring_example_by_hand():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "a"],
            "order_date": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 18:00",
                    "2024-01-11 00:00",
                    "2024-01-05 00:00",
                    "2024-02-11 00:00",
                ]
            ),
            "amount": [10.0, 5.0, 20.0, 7.0, 99.0],
        }
    )
    out = rfm_summary(orders, "2024-01-31")
    assert out.loc["a"].tolist() == [1.0, 10.0, 30.0, 20.0]  # same day merged, Feb order ignored
    assert out.loc["b"].tolist() == [0.0, 0.0, 26.0, 0.0]
    assert out.index.name == "customer_id"
    assert out.attrs["time_unit"] == "D"


def test_rfm_summary_matches_lifetimes_daily(synthetic_orders):
    end = "2024-05-31"
    _assert_same_summary(
        rfm_summary(synthetic_orders, end), _reference_summary(synthetic_orders, end)
    )


def test_rfm_summary_refund_days_count_like_the_reference(synthetic_orders):
    ours = rfm_summary(synthetic_orders, "2024-05-31")
    # The fixture has refund-only days, so some repeat means are zero or negative, as in lifetimes.
    assert (ours["monetary_value"] < 0).any()


def test_rfm_summary_matches_lifetimes_weekly(synthetic_orders):
    end = "2024-05-31"  # a Friday: lifetimes would keep orders of Sat/Sun 1-2 June
    within = synthetic_orders[synthetic_orders["order_date"] < "2024-06-01"]
    ours = rfm_summary(synthetic_orders, end, time_unit="W")
    _assert_same_summary(ours, _reference_summary(within, end, freq="W"))
    assert ours.attrs["time_unit"] == "W"


def test_rfm_summary_weekly_ignores_orders_after_end_in_the_same_week():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "order_date": pd.to_datetime(["2024-05-01", "2024-06-02"]),  # 2 June: Sunday
            "amount": [1.0, 1.0],
        }
    )
    out = rfm_summary(orders, "2024-05-31", time_unit="W")
    assert out.loc["a", "frequency"] == 0.0


def test_rfm_summary_monthly_uses_average_gregorian_month(synthetic_orders):
    # lifetimes' freq="M" divided period differences by np.timedelta64(1, "M"), which pandas
    # < 2 read as 30.436875 days (pandas 3 refuses it). Rebuild that from month-start dates.
    end = "2024-05-31"
    within = synthetic_orders[synthetic_orders["order_date"] < "2024-06-01"].copy()
    within["order_date"] = within["order_date"].dt.to_period("M").dt.to_timestamp()
    ref = _reference_summary(within, "2024-05-01", freq="D")
    ref[["recency", "T"]] /= AVG_MONTH_DAYS
    _assert_same_summary(rfm_summary(synthetic_orders, end, time_unit="M"), ref)


def test_rfm_summary_from_parquet_equals_from_frame(synthetic_orders, tmp_path):
    path = tmp_path / "orders.parquet"
    synthetic_orders.to_parquet(path)
    pd.testing.assert_frame_equal(
        rfm_summary(str(path), "2024-05-31"), rfm_summary(synthetic_orders, "2024-05-31")
    )


def test_rfm_summary_drop_nonpositive_periods(synthetic_orders):
    end = "2024-05-31"
    days = synthetic_orders.assign(day=synthetic_orders["order_date"].dt.normalize())
    net = days.groupby(["customer_id", "day"])["amount"].transform("sum")
    ref = _reference_summary(synthetic_orders[net > 0], end)
    ours = rfm_summary(synthetic_orders, end, nonpositive_periods="drop")
    _assert_same_summary(ours, ref)
    assert (ours["monetary_value"] >= 0).all()


def _cdnow_dir() -> Path:
    lifetimes = pytest.importorskip("lifetimes")
    return Path(os.path.dirname(lifetimes.__file__)) / "datasets"


def test_rfm_summary_matches_lifetimes_on_cdnow_master_log():
    path = _cdnow_dir() / "CDNOW_master.txt"
    if not path.exists():
        pytest.skip("lifetimes does not ship the CDNOW transaction log")
    log = pd.read_csv(
        path,
        sep=r"\s+",
        skiprows=1,
        header=None,
        names=["customer_id", "date", "cds", "amount"],
        dtype={"customer_id": str, "date": str},
    )
    log["order_date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    for unit in ("D", "W"):
        ours = rfm_summary(log, "1998-06-30", time_unit=unit)
        _assert_same_summary(ours, _reference_summary(log, "1998-06-30", freq=unit))
    assert len(ours) == 23570


def test_rfm_summary_reproduces_published_cdnow_calibration_summary():
    """The 1/10 CDNOW sample, 39-week calibration period ending 1997-09-30, in weeks, gives
    the summary table of Fader, Hardie & Lee (2005) as shipped with lifetimes (2 decimals)."""
    sample, published = (
        _cdnow_dir() / "CDNOW_sample.txt",
        _cdnow_dir() / "cdnow_customers_summary_with_transactions.csv",
    )
    if not sample.exists() or not published.exists():
        pytest.skip("lifetimes does not ship the CDNOW sample")
    log = pd.read_csv(
        sample,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"master_id": str, "customer_id": str, "date": str},
    )
    log["order_date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    ours = rfm_summary(log, "1997-09-30")
    ours[["recency", "T"]] /= 7
    ours.index = ours.index.astype(int)
    pub = pd.read_csv(published, index_col=0).loc[ours.index]
    assert len(ours) == 2357
    np.testing.assert_array_equal(ours["frequency"], pub["x"])
    for ours_col, pub_col in (("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")):
        np.testing.assert_allclose(ours[ours_col], pub[pub_col], atol=0.005 + 1e-9)


@pytest.mark.skipif(not ONLINE_RETAIL.exists(), reason="online_retail.csv.gz not present")
def test_rfm_summary_matches_lifetimes_on_online_retail():
    raw = pd.read_csv(
        ONLINE_RETAIL,
        usecols=["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"],
        dtype={"InvoiceNo": str, "CustomerID": str},
    )
    raw = raw[raw["CustomerID"].notna() & ~raw["InvoiceNo"].str.startswith("C")]
    orders = pd.DataFrame(
        {
            "CustomerID": raw["CustomerID"],
            "order_date": pd.to_datetime(raw["InvoiceDate"]),
            "amount": raw["Quantity"] * raw["UnitPrice"],
        }
    )
    ours = rfm_summary(orders, "2011-12-09", customer_id_col="CustomerID")
    _assert_same_summary(
        ours, _reference_summary(orders, "2011-12-09", customer_id_col="CustomerID")
    )
    assert len(ours) == 4339


def test_rfm_summary_matches_lifetimes_on_the_sample_data():
    """The sample generator's orders, cleaned by the loader (refunds kept, cancellations
    out), as of the default period end."""
    from analysis.data.sample import generate_sample

    orders = generate_sample(2_000, seed=5).orders
    orders = orders.loc[
        (orders["status"] != "cancelled")
        & orders["customer_id"].notna()
        & (orders["order_date"] <= "2025-12-31")
    ]
    orders = orders[["customer_id", "order_date", "amount"]].drop_duplicates()
    ours = rfm_summary(orders, "2025-12-31")
    _assert_same_summary(ours, _reference_summary(orders, "2025-12-31"))
    assert len(ours) > 1_500


def test_rfm_summary_edge_cases():
    one = pd.DataFrame(
        {"customer_id": ["a"], "order_date": pd.to_datetime(["2024-01-01"]), "amount": [5.0]}
    )
    assert rfm_summary(one, "2024-01-01").loc["a"].tolist() == [0.0, 0.0, 0.0, 0.0]
    empty = rfm_summary(one, "2023-12-31")  # no order in the period
    assert empty.empty and list(empty.columns) == ["frequency", "recency", "T", "monetary_value"]
    refunds = one.assign(amount=[-5.0])
    assert rfm_summary(refunds, "2024-02-01").loc["a", "T"] == 31.0
    assert rfm_summary(refunds, "2024-02-01", nonpositive_periods="drop").empty
    no_money = rfm_summary(one, "2024-01-05", amount_col=None)
    assert list(no_money.columns) == ["frequency", "recency", "T"]


def test_rfm_summary_errors():
    orders = pd.DataFrame({"customer_id": ["a"], "order_date": pd.to_datetime(["2024-01-01"])})
    with pytest.raises(DataError, match="column 'amount'"):
        rfm_summary(orders, "2024-02-01")
    with pytest.raises(ParamsError, match="time_unit"):
        rfm_summary(orders, "2024-02-01", amount_col=None, time_unit="Q")
    with pytest.raises(ParamsError, match="observation_end"):
        rfm_summary(orders, "not a date", amount_col=None)
    with pytest.raises(DataError, match="does not exist"):
        rfm_summary("/nonexistent/orders.parquet", "2024-02-01")
    with pytest.raises(ParamsError, match="DataFrame"):
        rfm_summary([1, 2], "2024-02-01")
    text_amounts = orders.assign(amount=["12x"])
    with pytest.raises(DataError, match="cannot aggregate the orders.*'amount'"):
        rfm_summary(text_amounts, "2024-02-01")
    bad_dates = orders.assign(order_date=["not a date"], amount=[1.0])
    with pytest.raises(DataError, match="Conversion Error"):
        rfm_scores(bad_dates, "2024-02-01")


# --------------------------------------------------------------------------------------
# rfm_scores
# --------------------------------------------------------------------------------------


def _orders(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame


def test_rfm_scores_values_by_hand():
    orders = _orders(
        [
            ("a", "2024-03-01", 10.0),
            ("a", "2024-03-20", 30.0),
            ("a", "2024-03-20", -5.0),  # same-day refund: still a purchase day (net 25)
            ("b", "2024-02-01", 5.0),
            ("b", "2024-03-25", -5.0),  # refund-only day: not a purchase, reduces revenue
            ("c", "2024-03-30", 8.0),
            ("c", "2022-01-01", 100.0),  # outside the lookback: counts for nothing
            ("d", "2024-03-31", -3.0),  # refunds only: not scored
            ("e", "2024-04-02", 50.0),  # after as_of
        ]
    )
    out = rfm_scores(orders, "2024-03-31")
    assert list(out.index) == ["a", "b", "c"]
    assert out["recency_days"].tolist() == [11, 59, 1]
    assert out["frequency"].tolist() == [2, 1, 1]
    assert out["monetary"].tolist() == [35.0, 0.0, 8.0]
    assert out["r_score"].tolist() == [3, 1, 5]
    assert out["f_score"].tolist() == [5, 1, 1]
    assert out["m_score"].tolist() == [5, 1, 3]
    assert out["rfm_code"].tolist() == ["355", "111", "513"]


def test_quintile_scores_are_plain_quintiles_for_distinct_values(rng):
    values = rng.permutation(1000).astype(float)
    ours = quintile_scores(values)
    qcut = pd.qcut(pd.Series(values).rank(method="first"), 5, labels=False) + 1
    np.testing.assert_array_equal(ours, qcut.to_numpy())
    assert np.bincount(ours)[1:].tolist() == [200] * 5


def test_degenerate_frequency_ties_get_equal_scores(rng):
    # 70% of customers bought once, 15% twice, 10% three times, 5% more.
    freq = np.repeat([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [700, 150, 100, 10, 10, 10, 5, 5, 5, 5])
    ids = np.array([f"c{i:04d}" for i in rng.permutation(len(freq))])
    scores = quintile_scores(freq, ids, ties="group")
    for value in np.unique(freq):
        assert len(set(scores[freq == value])) == 1, f"frequency {value} split across scores"
    assert set(scores[freq == 1]) == {1}
    assert set(scores[freq == 2]) == {4}  # ranks 701-850 sit in the 4th fifth
    assert set(scores[freq >= 3]) == {5}
    # The rank-first rule splits the single buyers across scores 1-4, ordered by id.
    split = quintile_scores(freq, ids, ties="split")
    assert set(split[freq == 1]) == {1, 2, 3, 4}
    order = np.argsort(ids[freq == 1])
    assert np.all(np.diff(split[freq == 1][order]) >= 0)


def test_rfm_scores_all_bought_once_today_and_tie_rules():
    orders = _orders([(f"c{i}", "2024-03-31", float(i + 1)) for i in range(10)])
    out = rfm_scores(orders, "2024-03-31")
    assert set(out["r_score"]) == {5} and set(out["f_score"]) == {1}
    assert out["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    split = rfm_scores(orders, "2024-03-31", ties="split")
    assert sorted(split["f_score"]) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_rfm_scores_one_customer_and_empty():
    orders = _orders([("a", "2024-03-01", 10.0)])
    assert rfm_scores(orders, "2024-03-31")["rfm_code"].tolist() == ["333"]
    empty = rfm_scores(orders, "2025-06-30")  # nothing in the last 365 days
    assert empty.empty
    assert list(empty.columns) == [
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_code",
    ]
    everything = rfm_scores(orders, "2025-06-30", lookback_days=None)
    assert everything["frequency"].tolist() == [1]
    refunds_only = _orders([("a", "2024-03-01", -10.0)])
    assert rfm_scores(refunds_only, "2024-03-31").empty


def test_rfm_scores_parameter_errors():
    orders = _orders([("a", "2024-03-01", 10.0)])
    with pytest.raises(ParamsError, match="lookback_days"):
        rfm_scores(orders, "2024-03-31", lookback_days=0)
    with pytest.raises(ParamsError, match="ties"):
        rfm_scores(orders, "2024-03-31", ties="random")
    with pytest.raises(DataError, match="column 'spend'"):
        rfm_scores(orders, "2024-03-31", amount_col="spend")


# --------------------------------------------------------------------------------------
# Segments
# --------------------------------------------------------------------------------------


def test_default_segment_map_covers_every_cell_once():
    lookup = validate_segment_map(DEFAULT_SEGMENT_MAP)
    assert sorted(lookup) == sorted(f"{r}{f}" for r in range(1, 6) for f in range(1, 6))
    expected = {
        "55": "champions",
        "54": "champions",
        "45": "loyal",
        "34": "loyal",
        "53": "potential_loyalists",
        "42": "potential_loyalists",
        "51": "new",
        "41": "promising",
        "33": "need_attention",
        "32": "about_to_sleep",
        "31": "about_to_sleep",
        "24": "at_risk",
        "13": "at_risk",
        "25": "cant_lose_them",
        "15": "cant_lose_them",
        "22": "hibernating",
        "11": "hibernating",
    }
    for cell, segment in expected.items():
        assert lookup[cell] == segment
    assert len(DEFAULT_SEGMENT_MAP) == 10


def test_validate_segment_map_names_overlaps_and_gaps():
    broken = dict(DEFAULT_SEGMENT_MAP)
    broken["champions"] = ["r:4-5,f:4-5"]  # overlaps loyal on 44 and 45
    del broken["hibernating"]  # leaves 11, 12, 21, 22 uncovered
    with pytest.raises(ParamsError) as err:
        validate_segment_map(broken)
    text = str(err.value)
    assert "45 (champions & loyal)" in text and "44 (champions & loyal)" in text
    assert "cells in no segment: 22, 21, 12, 11" in text


@pytest.mark.parametrize(
    ("segment_map", "message"),
    [
        ({"Bad Key": ["r:1-5,f:1-5"]}, "snake_case"),
        ({"all": ["r:1-6,f:1-5"]}, "cannot read cell"),
        ({"all": ["r:5-1,f:1-5"]}, "backwards"),
        ({}, "non-empty"),
    ],
)
def test_validate_segment_map_rejects_bad_specs(segment_map, message):
    with pytest.raises(ParamsError, match=message):
        validate_segment_map(segment_map)


def test_rfm_segments_adds_categorical_in_map_order():
    scores = pd.DataFrame(
        {"r_score": [5, 1, 3, 5], "f_score": [5, 5, 3, 1]}, index=["a", "b", "c", "d"]
    )
    out = rfm_segments(scores)
    assert out["rfm_segment"].tolist() == ["champions", "cant_lose_them", "need_attention", "new"]
    assert list(out["rfm_segment"].cat.categories) == list(DEFAULT_SEGMENT_MAP)
    assert "rfm_segment" not in scores.columns  # input untouched
    custom = {"best": "r:4-5,f:1-5", "rest": ["r:1-3,f:1-5"]}
    assert rfm_segments(scores, custom)["rfm_segment"].tolist() == ["best", "rest", "rest", "best"]
    with pytest.raises(DataError, match="1-5"):
        rfm_segments(scores.assign(r_score=[6, 1, 1, 1]))


def test_segment_labels_come_from_catalog():
    assert segment_label("cant_lose_them") == "Can't lose them"
    assert segment_label("champions", "zh") == "冠军客户"
    assert segment_label("vip_buyers") == "Vip buyers"


# --------------------------------------------------------------------------------------
# Tiers, ABC, Pareto
# --------------------------------------------------------------------------------------


def test_value_tiers_by_hand():
    revenue = pd.Series([4.0, 50.0, 30.0, 10.0, 6.0, 0.0, -20.0], index=list("abcdefg"))
    out = value_tiers(revenue)
    assert list(out.index) == list("bcdeafg")
    assert out["rank"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    # shares of positive revenue (100): before = 0, .5, .8, .9, .96
    assert out["abc_class"].tolist() == ["A", "A", "B", "B", "C", "C", "C"]
    assert out["value_tier"].tolist() == ["high", "medium", "medium", "low", "low", "low", "low"]
    assert out.loc["g", "revenue_share"] == 0.0
    assert out["cumulative_share"].iloc[-1] == pytest.approx(1.0)


def test_value_tiers_equal_revenue_gets_equal_class():
    revenue = pd.Series([10.0] * 10)
    out = value_tiers(revenue)
    assert set(out["abc_class"]) == {"A"} and set(out["value_tier"]) == {"high"}


def test_value_tiers_no_positive_revenue_and_validation():
    out = value_tiers(pd.Series([0.0, -5.0], index=["a", "b"]))
    assert set(out["abc_class"]) == {"C"} and out["revenue_share"].isna().all()
    assert value_tiers(pd.Series([], dtype=float)).empty
    with pytest.raises(ParamsError, match="at most 1"):
        value_tiers(pd.Series([1.0]), a_share=0.9, b_share=0.2)
    with pytest.raises(ParamsError, match="high_share"):
        value_tiers(pd.Series([1.0]), high_share=0)
    with pytest.raises(DataError, match="numeric"):
        value_tiers(pd.Series(["x"]))


def test_pareto_curve_and_top_share():
    assert top_share(pd.Series([10.0] * 50), 0.2) == pytest.approx(0.2)
    assert top_share(pd.Series([80.0, 5.0, 5.0, 5.0, 5.0]), 0.2) == pytest.approx(0.8)
    assert top_share(pd.Series([80.0, 5.0, 5.0, 5.0, 5.0, -100.0]), 0.5) == pytest.approx(0.9)
    assert np.isnan(top_share(pd.Series([-1.0]), 0.2))
    assert np.isnan(top_share(pd.Series([], dtype=float), 0.2))
    curve = pareto_curve(pd.Series(np.arange(1000.0)), max_points=101)
    assert len(curve) == 101
    assert curve.iloc[0].tolist() == [0.0, 0.0] and curve.iloc[-1].tolist() == [1.0, 1.0]
    assert curve["revenue_share"].is_monotonic_increasing
    with pytest.raises(ParamsError, match="fraction"):
        top_share(pd.Series([1.0]), 1.5)


def test_duckdb_thread_cap_comes_from_the_runner(monkeypatch):
    import duckdb

    from analysis.value import duckdb_config

    monkeypatch.delenv("SEGREPORT_THREADS", raising=False)
    assert "threads" not in duckdb_config()
    monkeypatch.setenv("SEGREPORT_THREADS", "1")
    con = duckdb.connect(config=duckdb_config())
    assert con.execute("select current_setting('threads')").fetchone()[0] == 1
    monkeypatch.setenv("SEGREPORT_THREADS", "lots")  # not a number: ignored, not an error
    assert "threads" not in duckdb_config()


def test_dates_are_days_and_aware_ones_are_read_in_utc():
    # One definition (analysis.coerce.as_day): 01:00 at UTC+8 on 1 January is still
    # 31 December in UTC, so the order of 1 January is after the snapshot.
    orders = _orders([("a", "2023-12-01", 10.0), ("a", "2024-01-01", 20.0)])
    aware = rfm_scores(orders, "2024-01-01T01:00+08:00", lookback_days=None)
    plain = rfm_scores(orders, "2023-12-31", lookback_days=None)
    pd.testing.assert_frame_equal(aware, plain)
    assert aware.loc["a", "frequency"] == 1
    # a time of day is dropped: noon on a day is that whole day
    noon = rfm_summary(orders, "2024-01-01 12:00")
    assert noon.loc["a", ["frequency", "T"]].tolist() == [1.0, 31.0]


def test_duckdb_source_is_the_public_way_to_the_orders(tmp_path):
    from analysis.value import duckdb_source

    orders = _orders([("a", "2024-01-01", 10.0), ("b", "2024-01-02", 5.0)])
    with duckdb_source(orders, ["customer_id", "amount"]) as (con, src):
        assert con.execute(f"SELECT COUNT(*), SUM(amount) FROM {src}").fetchone() == (2, 15.0)
    path = tmp_path / "orders.parquet"
    orders.to_parquet(path)
    with duckdb_source(path, ["customer_id"]) as (con, src):
        assert con.execute(f"SELECT COUNT(*) FROM {src}").fetchone() == (2,)
    with pytest.raises(DataError, match="'order_id'"):
        with duckdb_source(orders, ["order_id"]):
            pass


# --------------------------------------------------------------------------- subscriptions


def _bills(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame


def test_subscription_scores_read_renewal_tenure_and_plan():
    """R by fixed renewal bands, F by tenure in bills (all history), M by the mean bill."""
    from analysis.value import subscription_scores

    rows = []
    plans = {
        "a": (24, 20.0, 3),
        "b": (12, 50.0, 3),
        "c": (6, 80.0, 34),
        "d": (3, 35.0, 55),
        "e": (2, 35.0, 100),
    }  # fmt: skip  (bills, monthly fee, days since last bill)
    as_of = pd.Timestamp("2025-12-31")
    for cid, (n, fee, since) in plans.items():
        last = as_of - pd.Timedelta(days=since)
        for k in range(n):
            rows.append((cid, last - pd.DateOffset(months=k), fee))
    out = subscription_scores(_bills(rows), as_of, renewed_days=32, at_risk_days=36,
                              lapsed_days=67, cycle_days=30.44)  # fmt: skip
    assert out["r_score"].to_dict() == {"a": 5, "b": 5, "c": 4, "d": 3, "e": 2}
    assert out["tenure_bills"].to_dict() == {"a": 24, "b": 12, "c": 6, "d": 3, "e": 2}
    # quintiles over 5 distinct values: one customer per score
    assert out["f_score"].to_dict() == {"a": 5, "b": 4, "c": 3, "d": 2, "e": 1}
    assert out["plan_value"].round(2).to_dict() == {
        "a": 20.0,
        "b": 50.0,
        "c": 80.0,
        "d": 35.0,
        "e": 35.0,
    }
    assert out.loc["c", "m_score"] == 5 and out.loc["a", "m_score"] == 1
    # recency and frequency keep the managerial RFM meaning (rfm_scores on the same bills)
    plain = rfm_scores(_bills(rows), as_of)
    pd.testing.assert_series_equal(out["recency_days"], plain["recency_days"])
    pd.testing.assert_series_equal(out["frequency"], plain["frequency"])
    assert out.loc["a", "frequency"] == 12  # a year of bills in the window, 24 ever


def _snapshot_params():
    from analysis.config import load_defaults

    return load_defaults()["value"]


def test_contractual_churners_are_never_loyal_or_scored():
    from value_shapes import DATA_END, telco_like

    from analysis import valuation

    customers, bills = telco_like()
    snap = valuation.value_snapshot(
        bills, customers, DATA_END, _snapshot_params(), churn_definition="contractual"
    )
    table = snap.table
    gone = set(customers.loc[customers["churn_date"] <= DATA_END, "customer_id"].astype(str))
    assert snap.scheme == "subscription" and snap.billing.cycle == "monthly"
    assert set(table.index[table["lifecycle_stage"] == "churned"]) == gone
    assert set(table.index[table["contract_ended"]]) == gone
    assert not table.loc[sorted(gone), "scored"].any()
    assert table.loc[sorted(gone), "rfm_segment"].isna().all()
    assert (table.loc[sorted(gone), "value_tier"] == "low").all()
    # without the contractual rule the same bills put recent churners among the buyers
    plain = valuation.value_snapshot(bills, customers, DATA_END, _snapshot_params())
    assert plain.table.loc[sorted(gone), "scored"].any()
    assert (plain.table["lifecycle_stage"] == "churned").sum() == 0


def test_recent_first_timers_must_be_first_timers():
    """Cell 51 (recent, one purchase in the window) holds a long-standing customer too: the
    segment 'new' keeps only those whose first purchase is recent."""
    from analysis import valuation

    orders = _bills(
        [("old", "2023-03-01", 30.0), ("old", "2025-12-20", 30.0), ("fresh", "2025-12-21", 30.0)]
        + [(f"r{i}", d, 20.0) for i in range(8) for d in ("2025-06-01", "2025-09-01", "2025-11-01")]
    )
    snap = valuation.value_snapshot(orders, None, "2025-12-31", _snapshot_params())
    seg = snap.table["rfm_segment"].astype(str)
    assert seg["fresh"] == "new" and seg["old"] == "promising"
    assert snap.table.loc["old", "lifecycle_stage"] != "new"


def test_subscription_actions_and_signals():
    from value_shapes import DATA_END, telco_like

    from analysis import valuation
    from analysis.playbook import load_playbook

    customers, bills = telco_like()
    snap = valuation.value_snapshot(
        bills, customers, DATA_END, _snapshot_params(), churn_definition="contractual"
    )
    playbook = load_playbook()
    actions = valuation.customer_actions(snap.table, playbook, "en", scheme="subscription")
    text = " ".join(actions["action"]).lower()
    assert "second purchase" not in text and "first-repeat" not in text
    assert "onboarding" in text  # new subscribers, in their own words
    signals = valuation.subscription_signals(snap.table)
    table = snap.table
    live = ~table["contract_ended"]
    manual = table["payment_method"].str.contains("check") & live
    assert signals["payment_method"].equals(manual.astype(bool))
    down = (table["plan_change"] == "down") & live
    assert down.any() and signals["plan_change"].equals(down)
    assert (actions.loc[manual, "subscription_action"].str.contains("automatic payment")).all()
    assert (actions.loc[~(manual | down | signals["renewal"]), "subscription_action"] == "").all()
    shop = valuation.customer_actions(snap.table, playbook, "en")
    assert (shop["subscription_action"] == "").all()

"""Tests for analysis.features: hand-computed values, point-in-time, optional inputs."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DataError, ParamsError
from analysis.features import (
    DEFAULT_FEATURES,
    FEATURE_SETS,
    customer_features,
    sanitize_name,
    select_features,
)

AS_OF = "2025-07-01"


def _days(a: str, b: str = AS_OF) -> int:
    return (date.fromisoformat(b) - date.fromisoformat(a)).days


@pytest.fixture
def orders() -> pd.DataFrame:
    rows = [
        # order_id, customer, date, amount, discount, category, channel, status
        ("o1", "A", "2025-01-10 09:00", 100.0, 20.0, "Food", "Web", "completed"),
        ("o2", "A", "2025-01-10 14:00", 50.0, 0.0, "Toys & Games", "Store", "completed"),
        ("o3", "A", "2025-03-01 10:00", 200.0, 0.0, "Food", "Web", "completed"),
        ("r1", "A", "2025-03-05 10:00", -50.0, 0.0, "Food", "Web", "returned"),
        ("o4", "B", "2025-06-30 23:00", 80.0, np.nan, None, "App", "completed"),
        ("o5", "B", "2025-07-01 00:00", 999.0, 0.0, "Food", "Web", "completed"),  # = as_of
        ("o6", "C", "2024-12-01 12:00", 30.0, 10.0, "Books", "Web", "completed"),
        ("o7", "D", "2025-08-01 12:00", 10.0, 0.0, "Food", "Web", "completed"),  # after
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "order_id",
            "customer_id",
            "order_date",
            "amount",
            "discount",
            "product_category",
            "channel",
            "status",
        ],
    )
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["business_unit"] = "retail"
    return frame


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "business_unit": "retail",
            "signup_date": pd.to_datetime(["2024-06-01", "2025-08-01", None, "2025-01-01"]),
        }
    )


@pytest.fixture
def surveys() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "response_id": ["s1", "s2", "s3", "s4", "s5"],
            "response_date": pd.to_datetime(
                ["2025-02-01", "2025-05-01", "2025-08-01", "2025-03-01", "2025-04-01"]
            ),
            "business_unit": "retail",
            "customer_id": ["A", "A", "A", None, "C"],
            "nps": [8, 4, 10, 0, 10],
            "csat": [4, 2, 5, 1, 5],
        }
    )


@pytest.fixture
def interactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "interaction_id": ["i1", "i2", "i3", "i4"],
            "customer_id": ["A", "A", "A", "C"],
            "business_unit": "retail",
            "date": pd.to_datetime(["2025-02-01", "2025-07-02", "2025-02-01", "2025-01-01"]),
            "type": ["complaint", "complaint", "inquiry", "Complaint"],
            "resolved": [True, False, True, True],
        }
    )


@pytest.fixture
def full(orders, customers, surveys, interactions) -> pd.DataFrame:
    return customer_features(
        orders,
        AS_OF,
        customers=customers,
        surveys=surveys,
        interactions=interactions,
        top_categories=2,
        top_channels=2,
    )


def test_one_row_per_customer_with_purchases_before_as_of(full):
    assert list(full.index) == ["A", "B", "C"]  # D only buys after as_of
    assert full.index.name == "customer_id"


def test_hand_computed_values(full):
    a, b, c = full.loc["A"], full.loc["B"], full.loc["C"]
    # recency in whole days from the last completed purchase day
    assert a["recency_days"] == _days("2025-03-01")
    assert b["recency_days"] == 1  # 2025-06-30 23:00; the as_of row is excluded
    assert c["recency_days"] == _days("2024-12-01")
    # frequency = purchase days (two orders on 2025-01-10 count once)
    assert (a["frequency"], b["frequency"], c["frequency"]) == (2, 1, 1)
    # monetary = net revenue including the refund
    assert a["monetary"] == pytest.approx(300.0)
    assert b["monetary"] == pytest.approx(80.0)
    assert a["log_monetary"] == pytest.approx(np.log1p(300.0))
    assert a["log_recency"] == pytest.approx(np.log1p(_days("2025-03-01")))
    assert a["log_frequency"] == pytest.approx(np.log1p(2))
    # tenure: signup when earlier than the first purchase; a signup after as_of is ignored
    assert a["tenure_days"] == _days("2024-06-01")
    assert b["tenure_days"] == 1
    assert c["tenure_days"] == _days("2024-12-01")  # no signup date
    # AOV = completed purchase value / completed orders
    assert a["avg_order_value"] == pytest.approx(350.0 / 3)
    assert a["log_avg_order_value"] == pytest.approx(np.log1p(350.0 / 3))
    # discount share = discount / (amount + discount) over completed rows; NaN discount = 0
    assert a["discount_share"] == pytest.approx(20.0 / 370.0)
    assert b["discount_share"] == pytest.approx(0.0)
    assert c["discount_share"] == pytest.approx(10.0 / 40.0)
    # return rate = returned rows / completed orders
    assert a["return_rate"] == pytest.approx(1 / 3)
    assert b["return_rate"] == 0.0
    # complaints: type complaint (any case), before as_of only
    assert (a["complaints"], b["complaints"], c["complaints"]) == (1, 0, 1)
    # satisfaction: mean csat before as_of; anonymous and later responses ignored
    assert a["satisfaction"] == pytest.approx(3.0)
    assert np.isnan(b["satisfaction"])
    assert c["satisfaction"] == pytest.approx(5.0)


def test_category_and_channel_shares(full):
    # category revenue: Food 300, Toys & Games 50, Books 30 -> top 2 + other (Books, missing)
    assert [c for c in full.columns if c.startswith("share_cat_")] == [
        "share_cat_food",
        "share_cat_toys_games",
        "share_cat_other",
    ]
    # channel revenue: Web 330, App 80, Store 50
    assert [c for c in full.columns if c.startswith("share_ch_")] == [
        "share_ch_web",
        "share_ch_app",
        "share_ch_other",
    ]
    a = full.loc["A"]
    assert a["share_cat_food"] == pytest.approx(300 / 350)
    assert a["share_cat_toys_games"] == pytest.approx(50 / 350)
    assert a["share_ch_other"] == pytest.approx(50 / 350)  # Store
    assert full.loc["B", "share_cat_other"] == pytest.approx(1.0)  # missing category
    assert full.loc["C", "share_cat_other"] == pytest.approx(1.0)  # Books
    shares = full.filter(like="share_cat_").sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    assert full.attrs["categories"] == ["Food", "Toys & Games"]
    assert full.attrs["share_columns"]["share_cat_toys_games"] == [
        "product_category",
        "Toys & Games",
    ]


def test_column_order_and_types(full):
    expected_start = [
        "recency_days",
        "frequency",
        "monetary",
        "log_recency",
        "log_frequency",
        "log_monetary",
        "tenure_days",
        "avg_order_value",
        "log_avg_order_value",
    ]
    assert list(full.columns[: len(expected_start)]) == expected_start
    assert list(full.columns[-4:]) == [
        "discount_share",
        "return_rate",
        "complaints",
        "satisfaction",
    ]
    assert full["frequency"].dtype == np.int64
    assert full["complaints"].dtype == np.int64
    assert full["monetary"].dtype == np.float64


def test_point_in_time_later_rows_do_not_matter(orders, customers, surveys, interactions, full):
    later_orders = orders.copy()
    after = later_orders["order_date"] >= pd.Timestamp(AS_OF)
    later_orders.loc[after, "amount"] = 12345.0
    later_orders.loc[after, "product_category"] = "Luxury"
    extra = pd.DataFrame(
        {
            "order_id": ["x1", "x2"],
            "customer_id": ["A", "Z"],
            "order_date": pd.to_datetime(["2025-07-01", "2026-01-01"]),
            "amount": [1e6, 1e6],
            "discount": [0.0, 0.0],
            "product_category": ["Luxury", "Luxury"],
            "channel": ["Phone", "Phone"],
            "status": ["completed", "returned"],
            "business_unit": "retail",
        }
    )
    later_orders = pd.concat([later_orders, extra], ignore_index=True)
    later_surveys = pd.concat(
        [surveys, surveys.assign(response_date=pd.Timestamp("2025-09-09"), csat=1)],
        ignore_index=True,
    )
    later_interactions = pd.concat(
        [interactions, interactions.assign(date=pd.Timestamp("2025-07-01"), type="complaint")],
        ignore_index=True,
    )
    again = customer_features(
        later_orders,
        AS_OF,
        customers=customers,
        surveys=later_surveys,
        interactions=later_interactions,
        top_categories=2,
        top_channels=2,
    )
    pd.testing.assert_frame_equal(again, full)


def test_optional_inputs_absent_means_columns_absent(orders):
    bare = orders[["order_id", "customer_id", "order_date", "amount"]]
    feats = customer_features(bare, AS_OF)
    for column in ("discount_share", "complaints", "satisfaction"):
        assert column not in feats.columns
    assert not any(c.startswith("share_") for c in feats.columns)
    assert "return_rate" in feats.columns  # negative amounts mark returns without status
    assert feats.loc["A", "return_rate"] == pytest.approx(1 / 3)
    assert feats.loc["A", "monetary"] == pytest.approx(300.0)


def test_parquet_input_matches_dataframe(tmp_path, orders, customers, surveys, interactions, full):
    paths = {}
    for name, frame in {
        "orders": orders,
        "customers": customers,
        "surveys": surveys,
        "interactions": interactions,
    }.items():
        paths[name] = tmp_path / f"{name}.parquet"
        frame.to_parquet(paths[name])
    from_files = customer_features(
        paths["orders"],
        AS_OF,
        customers=str(paths["customers"]),
        surveys=paths["surveys"],
        interactions=[paths["interactions"]],
        top_categories=2,
        top_channels=2,
    )
    pd.testing.assert_frame_equal(from_files, full)


def test_attrs_are_json_serialisable_for_parquet_cache(tmp_path, full):
    json.dumps(full.attrs)
    full.to_parquet(tmp_path / "features.parquet")


def test_business_unit_filter(orders):
    other = orders.assign(business_unit="b2b", customer_id=orders["customer_id"] + "x")
    both = pd.concat([orders, other], ignore_index=True)
    retail = customer_features(both, AS_OF, business_unit="retail")
    assert list(retail.index) == ["A", "B", "C"]
    pd.testing.assert_frame_equal(retail, customer_features(orders, AS_OF))


def test_explicit_categories_fix_the_columns(orders):
    feats = customer_features(orders, AS_OF, categories=["Books", "Garden"], channels=[])
    assert [c for c in feats.columns if c.startswith("share_cat")] == [
        "share_cat_books",
        "share_cat_garden",
        "share_cat_other",
    ]
    assert feats.loc["C", "share_cat_books"] == pytest.approx(1.0)
    assert feats.loc["A", "share_cat_garden"] == 0.0
    assert [c for c in feats.columns if c.startswith("share_ch")] == ["share_ch_other"]


def test_top_category_ties_are_deterministic(orders):
    tied = orders.copy()
    tied["product_category"] = ["b", "a", "b", "b", "a", "a", "c", "c"]
    tied["amount"] = [10.0, 10.0, 0.0, -1.0, 0.0, 1.0, 10.0, 1.0]
    # completed value before as_of: a 10, b 10, c 10 -> alphabetical
    feats = customer_features(tied, AS_OF, top_categories=2)
    assert feats.attrs["categories"] == ["a", "b"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Home & Garden", "home_garden"),
        ("  E-Commerce (APP) ", "e_commerce_app"),
        ("服装 / 鞋帽", "服装_鞋帽"),
        ("Ⅻ ＡＢＣ", "xii_abc"),  # NFKC folds full-width and compatibility characters
        ("!!!", "blank"),
        (2024, "2024"),
    ],
)
def test_sanitize_name(value, expected):
    assert sanitize_name(value) == expected
    assert ("share_cat_" + sanitize_name(value)).isidentifier()


def test_share_column_names_are_unique(orders):
    clash = orders.copy()
    clash["product_category"] = [
        "Home Garden",
        "home & garden",
        "Other",
        "Other",
        None,
        "x",
        "y",
        "z",
    ]
    feats = customer_features(clash, AS_OF, top_categories=3)
    cols = [c for c in feats.columns if c.startswith("share_cat_")]
    assert len(cols) == len(set(cols)) == 4
    assert "share_cat_other" in cols and "share_cat_other_2" in cols


def test_select_features_expands_patterns_and_skips_absent(full):
    cols = select_features(full)
    assert cols[:3] == ["log_recency", "log_frequency", "log_monetary"]
    assert "share_cat_food" in cols and "share_ch_other" in cols
    assert "monetary" not in cols
    assert select_features(["log_recency", "x"], "rfm") == ["log_recency"]
    assert select_features(full, ["satisfaction", "share_ch_*"])[0] == "satisfaction"
    assert set(FEATURE_SETS) >= {"default", "rfm", "compact"}
    assert FEATURE_SETS["default"] == DEFAULT_FEATURES
    with pytest.raises(ParamsError, match="unknown feature set 'nope'"):
        select_features(full, "nope")


def test_missing_required_column_is_named(orders):
    with pytest.raises(DataError, match="'amount'"):
        customer_features(orders.drop(columns="amount"), AS_OF)


def test_string_dates_are_rejected(orders):
    bad = orders.assign(order_date=orders["order_date"].astype(str))
    with pytest.raises(DataError, match="order_date.*date"):
        customer_features(bad, AS_OF)


def test_as_of_is_a_day_and_an_aware_one_is_read_in_utc(orders):
    # analysis.coerce.as_day: a time of day is dropped, so noon on 1 July is 1 July
    # (the order at 00:00 that day is still excluded) ...
    base = customer_features(orders, AS_OF)
    pd.testing.assert_frame_equal(customer_features(orders, "2025-07-01 12:00"), base)
    # ... and 07:00 at UTC+8 on 1 July is 23:00 on 30 June in UTC: the day before
    aware = customer_features(orders, "2025-07-01T07:00+08:00")
    pd.testing.assert_frame_equal(aware, customer_features(orders, "2025-06-30"))
    assert aware.attrs["as_of"] == "2025-06-30T00:00:00"
    assert "B" not in aware.index  # B's first purchase is on 30 June at 23:00


def test_bad_parameters(orders, surveys):
    with pytest.raises(ParamsError, match="as_of"):
        customer_features(orders, "not a date")
    with pytest.raises(ParamsError, match="top_categories"):
        customer_features(orders, AS_OF, top_categories=-1)
    with pytest.raises(DataError, match="business_unit"):
        customer_features(orders.drop(columns="business_unit"), AS_OF, business_unit="retail")
    # csat is optional: a survey without it gives no satisfaction feature, not an error
    without = customer_features(orders, AS_OF, surveys=surveys.drop(columns="csat"))
    assert "satisfaction" not in without.columns
    with pytest.raises(DataError, match="not found"):
        customer_features("/nonexistent/orders.parquet", AS_OF)


def test_satisfaction_column_can_be_nps(orders, surveys):
    feats = customer_features(orders, AS_OF, surveys=surveys, satisfaction_col="nps")
    assert feats.loc["A", "satisfaction"] == pytest.approx(6.0)


def test_category_values_are_literals_never_sql():
    """The share values are written into the SQL text (one text for every engine), so
    quotes, backslashes and comment marks must stay plain values."""
    odd = ["it's", "a\\b", "x' OR '1'='1", "-- c", "$1", "服装"]
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(odd))],
            "customer_id": "A",
            "order_date": pd.to_datetime("2025-01-02"),
            "amount": [float(i + 1) for i in range(len(odd))],
            "product_category": odd,
        }
    )
    feats = customer_features(orders, "2025-02-01", top_categories=len(odd))
    assert feats.attrs["categories"] == sorted(odd, key=odd.index, reverse=True)
    total = sum(range(1, len(odd) + 1))
    for column, (_, value) in feats.attrs["share_columns"].items():
        expected = 0.0 if value == "(other)" else (odd.index(value) + 1) / total
        assert feats.loc["A", column] == pytest.approx(expected)
    given = customer_features(orders, "2025-02-01", categories=["x' OR '1'='1"])
    assert given.loc["A", "share_cat_x_or_1_1"] == pytest.approx(3 / total)
    assert given.loc["A", "share_cat_other"] == pytest.approx(1 - 3 / total)

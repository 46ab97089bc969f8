"""The needs pipeline: a frozen result per unit and period, on hand-made data whose
answers are known, and on the shapes a business exports (survey only, no categories)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from analysis.config import load_params
from analysis.data.load import Dataset
from analysis.period import Period
from analysis.pipelines import applicability
from analysis.pipelines import needs as pipeline

PERIOD = Period.parse("2025-Q4")


@pytest.fixture
def params(tmp_path):
    return load_params(overrides={"output_dir": str(tmp_path / "r"), "unit": "north"})


def _data(n: int = 60, *, categories: bool = True, seed: int = 0) -> Dataset:
    """Half the customers buy on discount in cheap categories, half buy full price in a
    premium one; every customer has eight orders in 2025."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        bargain = i % 2 == 0
        for k in range(8):
            rows.append(
                {
                    "customer_id": f"C{i:03d}",
                    "order_date": pd.Timestamp("2025-01-03") + pd.Timedelta(days=40 * k + i),
                    "amount": float(rng.uniform(15, 25) if bargain else rng.uniform(150, 250)),
                    "discount": float(rng.uniform(4, 8)) if bargain else 0.0,
                    "product_category": "basics" if bargain else "luxury",
                }
            )
    orders = pd.DataFrame(rows)
    if not categories:
        orders = orders.drop(columns="product_category")
    orders["order_id"] = [f"O{i:05d}" for i in range(len(orders))]
    orders["business_unit"] = "north"
    orders["status"] = "completed"
    orders = orders.astype({"customer_id": "string", "business_unit": "string"})
    customers = pd.DataFrame(
        {
            "customer_id": pd.array([f"C{i:03d}" for i in range(n)], dtype="string"),
            "business_unit": "north",
            "customer_type": ["individual" if i % 3 else "enterprise" for i in range(n)],
            "signup_date": pd.Timestamp("2024-06-01"),
        }
    )
    return Dataset(customers=customers, orders=orders)


def test_build_classifies_and_breaks_down(params):
    result = pipeline.build(_data(), PERIOD, params)
    part = result.needs
    assert part.status == "ok" and part.source == "behaviour"
    needs = part.customers["need_type"]
    even = needs.index.str[1:].astype(int) % 2 == 0
    assert (needs[even] == "price").all() and (needs[~even] == "quality").all()
    assert part.mix.set_index("need_type")["customers"].to_dict() == {
        "price": 30,
        "quality": 30,
        "service": 0,
        "convenience": 0,
    }
    by_type = part.by_type
    assert by_type.loc["enterprise", "customers"] == 20
    np.testing.assert_allclose(
        by_type[["price", "quality", "service", "convenience"]].sum(axis=1), 1
    )
    assert part.by_segment is not None and part.by_segment["customers"].sum() == 60
    assert part.by_unit is None  # one unit's report
    assert list(part.export.columns) == ["customer_id", "need_type", "confidence", "evidence"]
    assert len(part.export) == 60 and part.export["evidence"].str.len().gt(0).all()
    assert set(part.signals["signal"]) >= {"discount_share", "premium_share"}
    assert part.premium == ("luxury",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.needs = None


def test_evidence_reads_in_both_languages(params):
    en = pipeline.build(_data(), PERIOD, params).needs.export
    zh = pipeline.build(_data(), PERIOD, {**params, "language": "zh"}).needs.export
    first = en.loc[en["need_type"] == "price", "evidence"].iloc[0]
    assert "median" in first and "%" in first
    assert "中位数" in zh.loc[zh["need_type"] == "price", "evidence"].iloc[0]


def test_need_mix_shares():
    frame = pd.DataFrame(
        {"need_type": ["price", "price", "quality", "service"], "g": ["a", "a", "a", "b"]}
    )
    mix = pipeline.need_mix(frame, "g")
    assert mix.loc["a", "price"] == pytest.approx(2 / 3) and mix.loc["b", "service"] == 1.0
    assert mix["customers"].tolist() == [3, 1]


def _survey(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    price = rng.integers(1, 6, n).astype(float)
    return pd.DataFrame(
        {
            "response_id": pd.array([f"R{i}" for i in range(n)], dtype="string"),
            "response_date": pd.Timestamp("2025-11-01"),
            "business_unit": "north",
            "customer_id": pd.array([f"S{i % 150:03d}" for i in range(n)], dtype="string"),
            "nps": price * 2 + rng.normal(0, 0.3, n),
            "rating_price": price,
            "rating_service": rng.integers(1, 6, n).astype(float),
        }
    )


def test_survey_only_data_gets_needs_from_the_survey(params):
    data = Dataset(customers=None, orders=None, survey_responses=_survey())
    assert applicability.reason("needs", data, params) is None
    part = pipeline.build(data, PERIOD, params).needs
    assert part.status == "ok" and part.source == "survey"
    assert len(part.export) == 150
    # the overall score follows the price rating: price is the need of most customers
    assert (part.customers["need_type"] == "price").mean() > 0.6
    assert part.by_segment is None
    assert pipeline.build(data, PERIOD, params).preferences.status == "no_purchases"


def test_data_without_categories_still_classifies(params):
    result = pipeline.build(_data(categories=False), PERIOD, params)
    part = result.needs
    assert part.status == "ok" and part.premium == ()
    assert "premium_share" not in set(part.signals["signal"])
    # preferences do not apply: a status, empty tables, no crash
    prefs = result.preferences
    assert prefs.status == "no_categories" and prefs.export.empty
    assert list(prefs.export.columns) == ["customer_id", "next_best_category", "score", "reason"]


def test_preferences_of_two_kinds_of_buyers(params):
    prefs = pipeline.build(_data(), PERIOD, params).preferences
    assert prefs.status == "ok" and prefs.grouping == "category"
    shares, index = prefs.by_need
    assert shares.loc["price", "basics"] == 1.0 and shares.loc["quality", "luxury"] == 1.0
    assert index.loc["price", "basics"] == pytest.approx(2.0)
    assert prefs.pairs.empty  # nobody buys both categories
    export = prefs.export.set_index("customer_id")
    assert export.loc["C000", "next_best_category"] == "basics"
    assert export.loc["C001", "next_best_category"] == "luxury"
    assert export["reason"].str.contains("regularly").all()
    # every customer bought in 2025-Q4 and before: all are evaluated, all hit
    assert prefs.evaluation.customers == 60 and prefs.evaluation.hit_rate == 1.0
    assert prefs.evaluation.baseline_hit_rate == pytest.approx(0.5)


def test_not_applicable_without_purchases_or_linked_answers(params):
    anonymous = _survey().assign(customer_id=pd.NA)
    data = Dataset(customers=None, orders=None, survey_responses=anonymous)
    found = applicability.reason("needs", data, params)
    assert found is not None and found.code == "no_need_signals"
    assert "survey answer" in found.text("en")
    assert found.text("zh")


def test_cohorts_and_bridge(params):
    part = pipeline.build(_data(), PERIOD, params).cohorts
    assert part.status == "ok" and str(part.previous) == "2025-Q3"
    assert part.cohorts.sizes.sum() == 60
    bridge = part.bridge
    assert bridge["value"].sum() == pytest.approx(bridge.attrs["change"])
    survey_only = Dataset(customers=None, orders=None, survey_responses=_survey())
    assert pipeline.build(survey_only, PERIOD, params).cohorts.status == "no_purchases"


def test_moments_of_the_next_period(params):
    data = _data()
    customers = data.customers.assign(
        birthday=["01-20" if i < 5 else None for i in range(60)],
        signup_date=pd.Timestamp("2024-02-15"),
    )
    part = pipeline.build(Dataset(customers=customers, orders=data.orders), PERIOD, params).moments
    assert part.status == "ok" and str(part.next_period) == "2026-Q1" and part.has_birthdays
    assert part.counts.loc["birthday", "total"] == 5
    assert part.counts.loc["anniversary", "total"] == 60  # two years on 15 Feb 2026
    assert list(part.export.columns) == ["customer_id", "moment", "date", "years", "value_tier"]
    assert set(part.export.loc[part.export["moment"] == "anniversary", "years"]) == {2}
    assert part.export["value_tier"].notna().all()


def test_need_summary_counts_and_values_each_need(params):
    """The public summary for other reports: per need the customers and their net revenue
    in the RFM window (every order of the fixture falls in the 365 days before the end)."""
    data = _data()
    result = pipeline.build(data, PERIOD, params)
    summary = result.need_summary
    assert tuple(summary.columns) == pipeline.NEED_SUMMARY_COLUMNS
    assert summary["need_type"].tolist() == ["price", "quality", "service", "convenience"]
    rows = summary.set_index("need_type")
    assert rows["customers"].to_dict() == {
        "price": 30,
        "quality": 30,
        "service": 0,
        "convenience": 0,
    }
    spent = data.orders.groupby("customer_id")["amount"].sum()
    bargain = spent.index.str[1:].astype(int) % 2 == 0
    assert rows.at["price", "value"] == pytest.approx(spent[bargain].sum())
    assert rows.at["quality", "value"] == pytest.approx(spent[~bargain].sum())
    assert rows.at["service", "value"] == 0.0 and np.isnan(rows.at["service", "mean_confidence"])
    assert rows["value_share"].sum() == pytest.approx(1.0)
    assert list(rows.columns) == list(pipeline.NEED_SUMMARY_COLUMNS[1:])


def test_top_cross_sell_per_segment(params):
    """Half the customers also buy a gift card with every basics order: within each
    segment the top pair is basics -> gift (or back), and the next-best category is named."""
    data = _data()
    orders = data.orders
    extra = orders.loc[orders["product_category"] == "basics"].assign(
        product_category="gift", amount=5.0, discount=0.0
    )
    extra["order_id"] = [f"G{i:05d}" for i in range(len(extra))]
    more = Dataset(customers=data.customers, orders=pd.concat([orders, extra], ignore_index=True))
    result = pipeline.build(more, PERIOD, params)
    top = result.top_cross_sell
    assert tuple(top.columns) == pipeline.TOP_CROSS_SELL_COLUMNS
    assert len(top) >= 1 and top["customers"].ge(pipeline.MIN_GROUP).all()
    paired = top.dropna(subset=["lift"])
    assert len(paired) >= 1
    for row in paired.itertuples():
        # half of the segment buys basics and always a gift too: support 1/2,
        # confidence 1, lift 1 / (1/2) = 2
        assert {row.antecedent, row.consequent} == {"basics", "gift"}
        assert (row.support, row.confidence, row.lift) == pytest.approx((0.5, 1.0, 2.0))
    segments = result.needs.customers["rfm_segment"].astype(str)
    assert top["customers"].sum() <= len(segments)
    assert top["next_best_category"].isin(["basics", "gift", "luxury"]).all()
    # without categories: an empty table with the documented columns
    plain = pipeline.build(_data(categories=False), PERIOD, params).top_cross_sell
    assert plain.empty and tuple(plain.columns) == pipeline.TOP_CROSS_SELL_COLUMNS


def test_coverage_counts_customers_without_evidence(params):
    data = _data()
    idle = pd.DataFrame(
        {
            "customer_id": pd.array(["Z1", "Z2"], dtype="string"),
            "business_unit": "north",
            "customer_type": "individual",
            "signup_date": pd.Timestamp("2025-12-01"),
        }
    )
    customers = pd.concat([data.customers, idle], ignore_index=True)
    part = pipeline.build(Dataset(customers=customers, orders=data.orders), PERIOD, params).needs
    assert part.known_customers == 62 and len(part.customers) == 60
    assert part.coverage == pytest.approx(60 / 62)
    assert "Z1" not in set(part.export["customer_id"])  # no evidence: no guess

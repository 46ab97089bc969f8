"""Strategy summary arithmetic: the KPI scorecard, segment overview, alerts and referrals
on hand-made tables whose answers are worked out by hand in the comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import satisfaction, strategy
from analysis.period import Period

Q4 = Period.parse("2025-Q4")


def _orders(rows, unit: str = "north") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["order_id"] = [f"O{i:04d}" for i in range(len(frame))]
    frame["business_unit"] = unit
    return frame


#: a: Q3 and twice in Q4 (plus a refund); b: Q3 only (churned); c: first purchase in Q4
#: (new); d: Q1, then Q4 (reactivated: silent in Q3, bought before it).
ORDERS = _orders(
    [
        ("a", "2025-08-01", 10.0),
        ("a", "2025-10-05", 20.0),
        ("a", "2025-11-01", 30.0),
        ("a", "2025-11-02", -5.0),
        ("b", "2025-09-01", 40.0),
        ("c", "2025-10-10", 50.0),
        ("d", "2025-03-01", 15.0),
        ("d", "2025-12-01", 25.0),
    ]
)
SURVEYS = pd.DataFrame(
    {
        "response_date": pd.to_datetime(["2025-10-01"] * 4 + ["2025-08-01"] * 2),
        "nps": [10, 10, 0, 7, 10, 9],
        "csat": [5, 4, 3, 1, 5, 5],
    }
)
INTERACTIONS = pd.DataFrame(
    {
        "date": pd.to_datetime(["2025-10-02", "2025-11-03", "2025-12-04", "2025-12-05"]),
        "type": ["complaint", "complaint", "complaint", "inquiry"],
        "resolved": [True, True, False, True],
        "resolution_hours": [10.0, 20.0, 100.0, 1.0],
    }
)


def test_period_values_by_hand():
    v = strategy.period_values(ORDERS, Q4, SURVEYS, INTERACTIONS)
    assert v["active"] == 3  # a, c, d
    assert v["new"] == 1  # c
    assert v["reactivated"] == 1  # d
    assert v["churned"] == 1  # b: active in Q3, not in Q4
    assert v["retention_rate"] == 0.5  # of {a, b} only a bought again
    assert v["churn_rate"] == 0.5
    assert v["revenue"] == 120.0  # 20 + 30 - 5 + 50 + 25
    assert v["revenue_per_customer"] == 40.0
    assert v["repeat_rate"] == pytest.approx(1 / 3)  # only a has two orders
    assert v["nps"] == 25.0  # 2 promoters, 1 detractor of 4
    assert v["csat"] == 0.5  # 5 and 4 of 4 answers
    assert v["complaint_rate"] == 1.0  # 3 complaints / 3 active
    assert v["resolution_hours"] == 15.0  # median of the resolved 10 h and 20 h


def test_scorecard_changes_by_hand():
    card = strategy.kpi_scorecard(ORDERS, Q4, SURVEYS, INTERACTIONS)
    assert card.index.tolist() == list(strategy.KPI_ORDER)
    assert card.at["active", "previous"] == 2  # a, b in Q3
    assert card.at["active", "change"] == 0.5  # relative: (3 - 2) / 2
    assert card.at["revenue", "change"] == pytest.approx(1.4)  # (120 - 50) / 50
    assert card.at["repeat_rate", "change"] == pytest.approx(1 / 3)  # points: 1/3 - 0
    assert card.at["nps", "previous"] == 100.0 and card.at["nps", "change"] == -75.0
    assert math.isnan(card.at["retention_rate", "previous"])  # nobody active in Q2
    assert math.isnan(card.at["retention_rate", "change"])
    # no order before 2024-12-31: the year-ago column is empty, so is every yoy change
    assert card["year_ago"].isna().all() and card["change_yoy"].isna().all()
    assert not card.at["churn_rate", "higher_is_better"]
    assert not card.at["complaint_rate", "higher_is_better"]
    assert card.at["resolution_hours", "kind"] == "hours"


def test_scorecard_without_surveys_or_interactions():
    card = strategy.kpi_scorecard(ORDERS, Q4)
    assert card.loc[["nps", "csat", "complaint_rate", "resolution_hours"], "current"].isna().all()
    assert card.at["active", "current"] == 3


def test_unit_comparison_splits_by_unit():
    both = pd.concat([ORDERS, _orders([("x", "2025-10-01", 500.0)], unit="south")])
    table = strategy.unit_comparison(both, Q4, SURVEYS.assign(business_unit="north"))
    assert table.index.tolist() == ["south", "north"]  # by revenue
    assert table.at["north", "revenue"] == 120.0 and table.at["south", "active"] == 1
    assert table.at["north", "nps"] == 25.0 and math.isnan(table.at["south", "nps"])
    assert table["revenue_share"].sum() == pytest.approx(1.0)


def test_segment_overview_and_shift_alerts():
    now = pd.DataFrame({"segment": ["x"] * 6 + ["y"] * 4, "revenue": [10.0] * 6 + [60.0] * 4})
    before = pd.DataFrame({"segment": ["x"] * 3 + ["y"] * 7, "revenue": 1.0})
    table = strategy.segment_overview(now, before, segments=["x", "y", "z"])
    assert table["customers"].tolist() == [6, 4, 0]
    assert table.at["y", "revenue_share"] == pytest.approx(240 / 300)
    assert table.at["x", "share_change"] == pytest.approx(0.3)  # 60% - 30%
    assert table.at["y", "change"] == -3
    alerts = strategy.segment_shift_alerts(table, {"x": False, "y": True})
    kinds = {a.kind: a for a in alerts}
    assert kinds["segment_grew"].values["segment"] == "x" and kinds["segment_grew"].tone == "bad"
    assert kinds["segment_shrank"].values["segment"] == "y"
    assert kinds["segment_grew"].score == pytest.approx(0.3 / 0.05)
    assert strategy.segment_overview(now)["previous_customers"].isna().all()


def test_value_at_risk_nps_and_ranking():
    risk = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "churn_probability": [0.9, 0.6, 0.2],
            "value_at_risk": [300.0, 100.0, 50.0],
            # the words carry each customer's own value; the feature is the reason
            "reason_1": ["2 complaint(s)", "3 complaint(s)", "fewer purchase days (1)"],
            "reason_feature_1": ["complaints", "complaints", "frequency"],
        }
    )
    var = strategy.value_at_risk_alert(risk, revenue_12m=2000.0)
    assert var.values["customers"] == 2 and var.values["value"] == 400.0
    assert var.values["share"] == 0.2 and var.score == pytest.approx(2.0)
    assert var.values["reason"] == "complaints" and var.values["reason_customers"] == 2
    # among the four high-risk customers below, "fewer purchase days (1)" is the most common
    # text, but purchase days (two different texts) ties complaints (two texts); ties go
    # by name, and a customer without a reason does not count
    more = pd.DataFrame(
        {
            "customer_id": list("abcde"),
            "churn_probability": [0.9, 0.8, 0.7, 0.6, 0.6],
            "value_at_risk": [1.0] * 5,
            "reason_1": [
                "fewer purchase days (1)",
                "fewer purchase days (2)",
                "1 complaint(s)",
                "2 complaint(s)",
                "",
            ],
            "reason_feature_1": ["frequency", "frequency", "complaints", "complaints", ""],
        }
    )
    tie = strategy.value_at_risk_alert(more, 100.0)
    assert tie.values["reason"] == "complaints" and tie.values["reason_customers"] == 2
    more.loc[4, ["reason_1", "reason_feature_1"]] = ["fewer purchase days (3)", "frequency"]
    most = strategy.value_at_risk_alert(more, 100.0)
    assert most.values["reason"] == "frequency" and most.values["reason_customers"] == 3
    no_codes = strategy.value_at_risk_alert(more.drop(columns="reason_feature_1"), 100.0)
    assert no_codes.values["reason"] is None  # words alone are not counted
    assert strategy.value_at_risk_alert(risk, 2000.0, high_risk=0.95) is None

    # 50/50 promoters/detractors vs 80/20: NPS 0 vs 60, SE = 100*sqrt(1/100) = 10 and
    # 100*sqrt((1 - 0.36)/100) = 8, so z = -60 / sqrt(164)
    change = strategy.nps_change(pd.Series([10] * 50 + [0] * 50), pd.Series([10] * 80 + [0] * 20))
    assert change["change"] == pytest.approx(-60.0)
    assert change["z"] == pytest.approx(-60 / math.sqrt(164))
    drop = strategy.nps_change_alert(change)
    assert drop.tone == "bad" and drop.score == pytest.approx(6.0)
    small = strategy.nps_change(pd.Series([10, 0]), pd.Series([10, 10]))
    assert strategy.nps_change_alert(small) is None  # bases below 30
    rise = strategy.nps_change_alert({**change, "change": 60.0})
    assert rise.tone == "good"

    outflow = strategy.lifecycle_outflow_alert(
        {"from_stage": "loyal", "to_stage": "at_risk", "count": 4, "share": 0.4}
    )
    assert outflow.score == pytest.approx(1.6)
    ranked = strategy.rank_alerts([None, rise, outflow, var, drop])
    assert [a.kind for a in ranked] == [
        "nps_change",
        "value_at_risk",
        "lifecycle_outflow",
        "nps_change",
    ]
    assert ranked[-1].tone == "good"  # good news last, however large


def test_fix_first_alert(rng):
    n = 400
    frame = pd.DataFrame(
        {
            "rating_a": rng.integers(1, 6, n),
            "rating_b": rng.integers(1, 6, n),
            "rating_c": rng.integers(1, 6, n),
        }
    )
    frame["rating_a"] = np.clip(frame["rating_a"] - 2, 1, 5)  # low performance
    score = 3 * frame["rating_a"] + 0.3 * frame["rating_b"] + rng.normal(0, 1, n)
    frame["nps"] = pd.qcut(score, 11, labels=False, duplicates="drop").astype(int)
    drivers = satisfaction.key_drivers(frame, "nps", ["rating_a", "rating_b", "rating_c"], n_boot=0)
    ipa = satisfaction.importance_performance(frame, ["rating_a", "rating_b", "rating_c"], drivers)
    alert = strategy.fix_first_alert(ipa)
    assert alert.values["attribute"] == "rating_a"
    assert alert.values["performance"] < alert.values["mean_performance"]


def test_referrals_by_hand():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "signup_date": pd.to_datetime(["2024-01-01"] * 4 + ["2026-03-01"]),
            "referred_by": [None, "a", "a", "", "a"],  # e signs up after the period
        }
    )
    rate = strategy.referral_rate(customers, ORDERS, Q4)
    assert rate["customers"] == 4 and rate["referred"] == 2 and rate["rate"] == 0.5
    assert rate["new"] == 1 and rate["new_rate"] == 1.0  # c, referred by a
    top = strategy.top_referrers(customers, ORDERS, Q4)
    assert top.index.tolist() == ["a"]
    assert top.at["a", "referred"] == 2 and top.at["a", "referred_active"] == 1  # b, c
    assert top.at["a", "referred_revenue"] == 50.0 and top.at["a", "referrer_active"]
    cmp = strategy.referral_comparison(customers, ORDERS, Q4)
    assert cmp.at["referred", "customers"] == 2
    assert cmp.at["referred", "revenue_per_customer"] == 25.0  # (0 + 50) / 2
    assert cmp.at["referred", "retention_rate"] == 0.0  # b bought in Q3, not in Q4
    assert cmp.at["not_referred", "retention_rate"] == 1.0  # a
    assert cmp.at["not_referred", "revenue_per_customer"] == pytest.approx(35.0)  # (45+25)/2

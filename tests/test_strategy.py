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
    # ten customers: 30 points is within the interval, sqrt(.6*.4/10 + .3*.7/10) = 0.212,
    # times 1.96 = 0.416, so nothing is raised
    assert strategy.segment_shift_alerts(table, {"x": False, "y": True}) == []
    # the same shares over 1,000 customers: interval 0.0416, the shift is real
    big = strategy.segment_overview(
        now.loc[now.index.repeat(100)], before.loc[before.index.repeat(100)], segments=["x", "y"]
    )
    alerts = strategy.segment_shift_alerts(big, {"x": False, "y": True})
    kinds = {a.kind: a for a in alerts}
    assert kinds["segment_grew"].values["segment"] == "x" and kinds["segment_grew"].tone == "bad"
    assert kinds["segment_shrank"].values["segment"] == "y"
    assert kinds["segment_grew"].score == pytest.approx(0.3 / 0.05)
    se = math.sqrt(0.6 * 0.4 / 1000 + 0.3 * 0.7 / 1000)
    assert kinds["segment_grew"].values["interval"] == pytest.approx(strategy.Z_95 * se)
    assert strategy.segment_overview(now)["previous_customers"].isna().all()


def _shares(counts: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"segment": [k for k, n in counts.items() for _ in range(n)], "revenue": 1.0}
    )


def test_share_shift_interval_by_hand():
    # x: 300 of 1,000 before, 330 of 1,000 now: se = sqrt(.33*.67/1000 + .3*.7/1000)
    table = strategy.segment_overview(
        _shares({"x": 330, "y": 670}), _shares({"x": 300, "y": 700}), segments=["x", "y"]
    )
    found = strategy.share_shift_intervals(table)
    se = math.sqrt(0.33 * 0.67 / 1000 + 0.3 * 0.7 / 1000)
    assert found.at["x", "interval"] == pytest.approx(1.959963984540054 * se)
    assert found.at["x", "interval"] == pytest.approx(0.0407, abs=1e-4)
    assert not found.at["x", "significant"]  # 3 points inside +-4.07


def test_a_within_noise_shift_is_not_raised_and_a_real_one_is():
    before = {"a": 400, "b": 300, "c": 200, "d": 100}
    # planted: a moves 1 point of 1,000 buyers (interval about 4.3 points): noise
    noise = strategy.segment_overview(
        _shares({"a": 410, "b": 290, "c": 200, "d": 100}), _shares(before), segments=list(before)
    )
    assert strategy.segment_shift_alerts(noise, {}) == []
    # planted: a moves 6 points of 10,000 buyers (interval about 1.4 points): real
    ten = {k: 10 * n for k, n in before.items()}
    real = strategy.segment_overview(
        _shares({"a": 4600, "b": 2400, "c": 2000, "d": 1000}), _shares(ten), segments=list(ten)
    )
    alerts = {a.kind: a for a in strategy.segment_shift_alerts(real, {"a": True, "b": True})}
    assert alerts["segment_grew"].values["segment"] == "a"
    assert alerts["segment_grew"].tone == "good"
    assert alerts["segment_shrank"].values["segment"] == "b"
    assert alerts["segment_shrank"].values["share_change"] == pytest.approx(-0.06)


def test_a_shift_of_zero_customers_is_never_raised():
    # x keeps its 5,000 customers while y doubles: x's share falls 17 points, far outside
    # the interval, but "-0 customers" is not a finding; y's growth is
    table = strategy.segment_overview(
        _shares({"x": 5000, "y": 10000}), _shares({"x": 5000, "y": 5000}), segments=["x", "y"]
    )
    found = strategy.share_shift_intervals(table)
    assert abs(found.at["x", "share_change"]) > 10 * found.at["x", "interval"]
    assert not found.at["x", "significant"] and found.at["y", "significant"]
    alerts = strategy.segment_shift_alerts(table, {})
    assert [a.values["segment"] for a in alerts] == ["y"]
    assert all(a.values["change"] != 0 for a in alerts)


def test_value_priority_keeps_high_for_the_few_that_hold_the_value():
    # the retail sample's RFM net revenue shares (2025-Q4), in percent: before, the
    # playbook made four of them High (and the company-wide report nine of ten)
    shares = {
        "champions": 40.1,
        "loyal": 27.4,
        "hibernating": 10.5,
        "at_risk": 7.1,
        "potential_loyalists": 5.8,
        "about_to_sleep": 3.1,
        "need_attention": 2.7,
        "promising": 1.6,
        "cant_lose_them": 1.5,
        "new": 0.2,
    }
    found = strategy.value_priority(pd.Series(shares))
    assert found[found == "high"].index.tolist() == ["champions", "loyal"]  # 67.5% of value
    assert found[found == "medium"].index.tolist() == ["hibernating", "at_risk"]  # to 85.1%
    assert (found == "low").sum() == 6
    # a flat spread: the first half takes at most two groups, then three medium at most
    flat = strategy.value_priority(pd.Series(10.0, index=list("abcdefghij")))
    assert flat.tolist() == ["high", "high", "medium", "medium", "medium"] + ["low"] * 5
    # one dominant group is the only high one; nothing positive: all low
    assert strategy.value_priority(pd.Series({"a": 90.0, "b": 6.0, "c": 4.0})).tolist() == [
        "high",
        "low",
        "low",
    ]
    assert set(strategy.value_priority(pd.Series({"a": 0.0, "b": -5.0}))) == {"low"}
    # a negative group (refunds) never counts, and does not change the others' shares
    assert strategy.value_priority(pd.Series({"a": 60.0, "b": 40.0, "c": -50.0})).tolist() == [
        "high",
        "medium",
        "low",
    ]


def test_value_priority_at_most_max_high_for_any_planted_spread(rng):
    for _ in range(50):
        values = pd.Series(rng.pareto(1.5, size=int(rng.integers(2, 15))) * 1000)
        found = strategy.value_priority(values)
        high = found == "high"
        assert high.sum() <= strategy.MAX_HIGH and (found == "medium").sum() <= strategy.MAX_MEDIUM
        # the high groups are the largest ones
        assert values[high].min() >= values[~high].max()


def test_actions_rank_by_money_at_stake():
    actions = strategy.rank_actions(
        [
            strategy.Action("segment", "loyal", 100, 5_000.0),
            None,
            strategy.Action("retain", "", 40, 8_000.0),
            strategy.Action("segment", "champions", 50, 12_000.0),
            strategy.Action("segment", "at_risk", 0, 9_000.0),  # nobody: left out
            strategy.Action("segment", "new", 10, 0.0),  # nothing at stake: left out
            strategy.Action("segment", "hibernating", 300, 1_000.0),
        ]
    )
    assert [(a.kind, a.key) for a in actions] == [
        ("segment", "champions"),
        ("retain", ""),
        ("segment", "loyal"),
    ]


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
    alert = strategy.fix_first_alert(ipa, frame, (1, 5))
    assert alert.values["attribute"] == "rating_a"
    assert alert.values["performance"] < alert.values["mean_performance"]
    # complete answers: the paired gap is exactly the attribute's mean minus the split
    gap = alert.values["performance"] - alert.values["mean_performance"]
    assert alert.values["gap"] == pytest.approx(gap)
    assert alert.values["gap"] + alert.values["interval"] < 0 and alert.values["n"] == n


def _ratings(rng, n: int, shift: float) -> pd.DataFrame:
    """Answers 1..5 where rating_a is the most important and ``shift`` lower on average."""
    mood = rng.normal(0, 0.8, n)  # each respondent's general mood moves all ratings

    def item(offset: float) -> np.ndarray:
        return np.clip(np.rint(4.0 + offset + mood + rng.normal(0, 0.7, n)), 1, 5)

    frame = pd.DataFrame(
        {"rating_a": item(-shift), "rating_b": item(0.05), "rating_c": item(-0.05)}
    )
    score = 3 * frame["rating_a"] + 0.5 * frame["rating_b"] + rng.normal(0, 1, n)
    frame["nps"] = pd.qcut(score.rank(method="first"), 11, labels=False).astype(int)
    return frame


def test_fix_first_within_its_interval_is_not_raised(rng):
    # planted: the important attribute is rated as the others (the services case: 4.05
    # against 4.06); it lands in the fix-first quadrant by a hair
    ratings = ["rating_a", "rating_b", "rating_c"]
    for _ in range(20):
        frame = _ratings(rng, 300, shift=0.0)
        drivers = satisfaction.key_drivers(frame, "nps", ratings, n_boot=0)
        ipa = satisfaction.importance_performance(frame, ratings, drivers)
        if ipa.fix_first_list == ["rating_a"]:
            break
    assert ipa.fix_first_list == ["rating_a"]
    row = ipa.table.loc["rating_a"]
    assert abs(row["performance"] - ipa.performance_split) < 0.1
    assert strategy.fix_first_alert(ipa, frame, (1, 5)) is None
    # planted: a real gap of 0.4 on the same number of answers is raised
    frame = _ratings(rng, 300, shift=0.4)
    drivers = satisfaction.key_drivers(frame, "nps", ratings, n_boot=0)
    ipa = satisfaction.importance_performance(frame, ratings, drivers)
    alert = strategy.fix_first_alert(ipa, frame, (1, 5))
    assert alert is not None and alert.values["attribute"] == "rating_a"
    assert alert.values["gap"] == pytest.approx(-0.4 * 2 / 3, abs=0.1)  # vs the mean of three


def test_attribute_gap_by_hand():
    # every response rates a two points below b: d = a - (a + b) / 2 = -1, no spread
    frame = pd.DataFrame({"a": [1, 2, 3] * 4, "b": [3, 4, 5] * 4, "c": [None] * 12})
    gap = strategy.attribute_gap(frame, "a", ["a", "b", "c"], (1, 5))
    assert gap == {"gap": -1.0, "interval": 0.0, "n": 12}
    # an answer outside the scale is left out, as in the importance-performance means
    frame.loc[0, "a"] = 9
    assert strategy.attribute_gap(frame, "a", ["a", "b"], (1, 5))["n"] == 11


def test_nps_change_within_noise_is_not_raised_and_a_real_one_is(rng):
    def answers(promoters: float, detractors: float, n: int) -> pd.Series:
        k = rng.choice([10, 8, 0], size=n, p=[promoters, 1 - promoters - detractors, detractors])
        return pd.Series(k)

    # planted: NPS 30 vs 27 on 200 answers each (SE about 6.5 points each): noise
    noise = strategy.nps_change(answers(0.45, 0.15, 200), answers(0.44, 0.17, 200))
    assert noise["p_value"] > 0.05
    assert strategy.nps_change_alert(noise) is None
    # planted: NPS 50 vs 20 on 400 answers each: real
    real = strategy.nps_change(answers(0.6, 0.1, 400), answers(0.4, 0.2, 400))
    alert = strategy.nps_change_alert(real)
    assert alert is not None and alert.tone == "good" and real["change"] > 15


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

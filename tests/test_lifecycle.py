"""Tests for analysis.lifecycle: planted stages, gap-quantile thresholds, transitions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from value_shapes import DATA_END, purchase_log, telco_like

from analysis.errors import DataError, ParamsError
from analysis.lifecycle import (
    FALLBACK_AT_RISK_DAYS,
    FALLBACK_LAPSED_DAYS,
    STAGES,
    BillingCycle,
    LifecycleThresholds,
    billing_cycle,
    cycle_thresholds,
    lifecycle_stages,
    lifecycle_thresholds,
    stage_label,
    stage_transitions,
)

AS_OF = "2024-06-30"
THRESHOLDS = LifecycleThresholds(
    at_risk_days=60, lapsed_days=120, new_days=30, loyal_min_repeat=3, lookback_days=365
)


def _orders(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame


@pytest.fixture
def planted():
    """One customer planted in each stage (and a few traps), as of 2024-06-30."""
    orders = _orders(
        [
            ("new", "2024-06-20", 20.0),
            ("active", "2024-03-01", 20.0),
            ("active", "2024-06-01", 20.0),
            ("loyal", "2023-05-01", 10.0),  # first purchase: never a repeat
            ("loyal", "2024-01-10", 10.0),
            ("loyal", "2024-03-10", 10.0),
            ("loyal", "2024-06-10", 10.0),
            ("at_risk", "2023-12-01", 30.0),
            ("at_risk", "2024-04-01", 30.0),  # 90 days ago
            ("lapsed", "2023-12-01", 30.0),  # 212 days ago
            ("lapsed_refund", "2024-01-01", 30.0),
            ("lapsed_refund", "2024-06-25", -30.0),  # a refund is not a purchase
            ("reactivated", "2023-01-01", 40.0),
            ("reactivated", "2023-03-01", 40.0),
            ("reactivated", "2024-06-15", 40.0),  # back after 472 days
            ("old_comeback", "2022-01-01", 40.0),
            ("old_comeback", "2024-05-20", 40.0),  # back 41 days ago: outside the recent window
            ("unknown", "2024-06-29", 5.0),  # not in the customers table
            ("future_buyer", "2024-07-05", 50.0),  # after as_of: still a prospect
            ("same_day", "2024-01-01", 10.0),
            ("same_day", "2024-06-28", 10.0),
            ("same_day", "2024-06-28", 10.0),  # same day: one purchase day
        ]
    )
    customers = pd.DataFrame(
        {
            "customer_id": [
                "prospect",
                "not_yet",
                "new",
                "active",
                "loyal",
                "at_risk",
                "lapsed",
                "lapsed_refund",
                "reactivated",
                "old_comeback",
                "future_buyer",
                "same_day",
            ],
            "signup_date": pd.to_datetime(["2024-02-01", "2024-07-10"] + ["2022-01-01"] * 10),
            "customer_type": ["individual", "enterprise"] + ["individual"] * 10,
        }
    )
    return customers, orders


def test_planted_stages(planted):
    customers, orders = planted
    out = lifecycle_stages(customers, orders, AS_OF, THRESHOLDS)
    got = out["stage"].astype(str).to_dict()
    assert got == {
        "prospect": "prospect",
        "future_buyer": "prospect",
        "new": "new",
        "active": "active",
        "loyal": "loyal",
        "at_risk": "at_risk",
        "lapsed": "lapsed",
        "lapsed_refund": "lapsed",
        "reactivated": "reactivated",
        "old_comeback": "active",
        "unknown": "new",
        "same_day": "reactivated",  # 179-day gap > 120, return 2 days ago
    }
    assert "not_yet" not in out.index  # signed up after as_of, never bought
    assert list(out["stage"].cat.categories) == list(STAGES)
    assert out.loc["loyal", "repeat_purchases"] == 3
    assert out.loc["at_risk", "days_since_last"] == 90
    assert out.loc["reactivated", "return_gap_days"] == 472
    assert np.isnan(out.loc["prospect", "days_since_last"])
    assert out.loc["prospect", "customer_type"] == "individual"
    assert out.attrs["thresholds"]["lapsed_days"] == 120


def test_stage_rule_order_new_beats_long_gap_and_boundaries():
    orders = _orders(
        [
            ("edge_risk", "2024-05-01", 1.0),  # exactly 60 days: not yet at risk
            ("edge_risk", "2023-12-01", 1.0),
            ("edge_lapsed", "2024-03-02", 1.0),  # exactly 120 days: at risk, not lapsed
            ("edge_lapsed", "2024-01-02", 1.0),
            ("edge_new", "2024-05-31", 1.0),  # first purchase 30 days ago: no longer new
        ]
    )
    out = lifecycle_stages(None, orders, AS_OF, THRESHOLDS)
    assert out["stage"].astype(str).to_dict() == {
        "edge_risk": "active",
        "edge_lapsed": "at_risk",
        "edge_new": "active",
    }


def test_edge_cases_no_orders_one_customer_all_refunds():
    customers = pd.DataFrame({"customer_id": ["a", "b"]})
    no_orders = _orders([])
    out = lifecycle_stages(customers, no_orders, AS_OF, THRESHOLDS)
    assert out["stage"].astype(str).tolist() == ["prospect", "prospect"]
    empty = lifecycle_stages(None, no_orders, AS_OF, THRESHOLDS)
    assert empty.empty and "stage" in empty.columns
    refunds = _orders([("a", "2024-06-01", -10.0)])
    staged = lifecycle_stages(customers, refunds, AS_OF, THRESHOLDS)
    assert staged["stage"].astype(str).tolist() == ["prospect", "prospect"]
    one = _orders([("a", "2024-06-01", 10.0)])
    th = lifecycle_thresholds(one, AS_OF)  # no gaps at all: fallback thresholds
    assert th.source == "fallback" and th.n_gaps == 0
    # 29 days since the first purchase < 90 fallback days
    assert lifecycle_stages(None, one, AS_OF)["stage"].astype(str).tolist() == ["new"]


def test_thresholds_follow_gap_quantiles(rng):
    rows = []
    gaps = []
    for i in range(300):
        day = pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 200)))
        rows.append((f"c{i}", day, 10.0))
        rows.append((f"c{i}", day, 5.0))  # same day: merged, no zero gap
        for _ in range(int(rng.integers(0, 6))):
            gap = int(rng.gamma(2.0, 20.0)) + 1
            day = day + pd.Timedelta(days=gap)
            gaps.append(gap)
            rows.append((f"c{i}", day, 10.0))
        rows.append((f"c{i}", day + pd.Timedelta(days=3), -50.0))  # refund-only day: no gap
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    th = lifecycle_thresholds(orders, "2030-01-01")
    q80, q95 = np.quantile(gaps, [0.80, 0.95])
    assert th.n_gaps == len(gaps) and th.source == "gaps"
    assert th.at_risk_days == int(np.ceil(q80))
    assert th.lapsed_days == int(np.ceil(q95))
    assert th.new_days == th.at_risk_days and th.overridden == ()
    custom = lifecycle_thresholds(orders, "2030-01-01", at_risk_quantile=0.5, lapsed_quantile=0.9)
    assert custom.at_risk_days == int(np.ceil(np.quantile(gaps, 0.5)))
    # orders after as_of are not learnt from
    early = lifecycle_thresholds(orders, "2019-12-31")
    assert early.n_gaps == 0 and early.at_risk_days == FALLBACK_AT_RISK_DAYS
    assert early.lapsed_days == FALLBACK_LAPSED_DAYS


def test_threshold_overrides_and_validation():
    orders = _orders([("a", "2024-01-01", 1.0), ("a", "2024-02-01", 1.0)])
    th = lifecycle_thresholds(orders, AS_OF, at_risk_days=45, new_days=14.2, loyal_min_repeat=5)
    assert (th.at_risk_days, th.lapsed_days, th.new_days, th.loyal_min_repeat) == (
        45,
        FALLBACK_LAPSED_DAYS,
        15,
        5,
    )
    assert th.overridden == ("at_risk_days", "new_days")
    assert th.as_dict()["overridden"] == ["at_risk_days", "new_days"]
    with pytest.raises(ParamsError, match="lapsed_days .* must be at least at_risk_days"):
        lifecycle_thresholds(orders, AS_OF, at_risk_days=100, lapsed_days=50)
    with pytest.raises(ParamsError, match="at_risk_quantile"):
        lifecycle_thresholds(orders, AS_OF, at_risk_quantile=0.96)
    with pytest.raises(ParamsError, match="at_risk_days must be at least 1"):
        lifecycle_thresholds(orders, AS_OF, at_risk_days=0)
    with pytest.raises(ParamsError, match="positive integer"):
        LifecycleThresholds(at_risk_days=10, lapsed_days=20, new_days=10, loyal_min_repeat=0)
    with pytest.raises(DataError, match="column 'amount'"):
        lifecycle_thresholds(orders.drop(columns="amount"), AS_OF)


def test_stage_transitions_counts_and_shares(planted):
    prev = pd.Series({"a": "new", "b": "active", "c": "active", "d": "loyal", "gone": "lapsed"})
    cur = pd.DataFrame(
        {"stage": ["active", "at_risk", "loyal", "loyal", "new"]}, index=["a", "b", "c", "d", "e"]
    )
    result = stage_transitions(prev, cur)
    counts, shares = result.counts, result.shares
    assert list(counts.index) == list(STAGES) and list(counts.columns) == list(STAGES)
    assert counts.loc["new", "active"] == 1
    assert counts.loc["active", "at_risk"] == 1 and counts.loc["active", "loyal"] == 1
    assert counts.loc["loyal", "loyal"] == 1
    assert counts.loc["prospect", "new"] == 1  # e was not known before
    assert counts.to_numpy().sum() == 5  # 'gone' is not in the current population
    assert shares.loc["active", "loyal"] == 0.5
    assert shares.loc["reactivated"].isna().all()
    np.testing.assert_allclose(shares.dropna().sum(axis=1), 1.0)
    # works directly on lifecycle_stages output
    customers, orders = planted
    now = lifecycle_stages(customers, orders, AS_OF, THRESHOLDS)
    before = lifecycle_stages(customers, orders, "2024-03-31", THRESHOLDS)
    moved = stage_transitions(before, now).counts
    assert moved.to_numpy().sum() == len(now)
    with pytest.raises(DataError, match="unknown lifecycle stage"):
        stage_transitions(pd.Series({"a": "vip"}), cur)


def test_stage_labels():
    assert stage_label("at_risk") == "Slipping"
    assert stage_label("reactivated", "zh") == "回归期"


# --------------------------------------------------------------------------- subscriptions


def _monthly(cid: str, first: str, last: str, amount: float = 30.0) -> list[tuple]:
    days = pd.date_range(first, last, freq=pd.DateOffset(months=1))
    return [(cid, d, amount) for d in days]


def test_billing_cycle_tells_bills_from_purchases():
    _, bills = telco_like()
    found = billing_cycle(bills, DATA_END)
    assert (found.scheme, found.cycle, found.low, found.high) == ("subscription", "monthly", 27, 32)
    # every gap of calendar-monthly bills is 28 to 31 days
    assert found.share == 1.0 and found.source == "detected"
    shop = billing_cycle(purchase_log(), DATA_END)
    assert shop.scheme == "transactional" and shop.share < 0.3
    forced = billing_cycle(purchase_log(), DATA_END, scheme="subscription")
    assert forced.subscription and forced.source == "param"
    assert billing_cycle(bills, DATA_END, scheme="transactional").scheme == "transactional"
    few = billing_cycle(_orders(_monthly("a", "2025-01-05", "2025-06-05")), DATA_END)
    assert few.scheme == "transactional" and few.source == "too_few_gaps" and few.n_gaps == 5


def test_billing_cycle_errors_name_the_parameter():
    orders = _orders(_monthly("a", "2025-01-05", "2025-06-05"))
    with pytest.raises(ParamsError, match="value.billing.scheme must be auto"):
        billing_cycle(orders, AS_OF, scheme="monthly")
    with pytest.raises(ParamsError, match="regular_share must be above 0 and at most 1, got 1.5"):
        billing_cycle(orders, AS_OF, regular_share=1.5)
    with pytest.raises(ParamsError, match="no customer has two bills"):
        billing_cycle(_orders([("a", "2024-01-01", 5.0)]), AS_OF, scheme="subscription")


def test_thresholds_follow_the_billing_cycle():
    monthly = BillingCycle("subscription", "monthly", 365.2425 / 12, 27, 32, 1.0, 100, 30.0)
    th = lifecycle_thresholds(_orders([("a", "2024-01-01", 5.0)]), AS_OF, billing=monthly)
    # one renewal overdue: 32 days + a grace of ceil(3.04) = 4; a second missed: + 31
    assert (th.at_risk_days, th.lapsed_days, th.source, th.scheme) == (
        36,
        67,
        "cycle",
        "subscription",
    )
    # loyal: renewed every month of the 365-day window (12 bills, 11 renewals)
    assert (th.loyal_min_repeat, th.lookback_days, th.new_days) == (11, 365, 92)
    yearly = BillingCycle("subscription", "yearly", 365.2425, 360, 370, 1.0, 100, 365.0)
    long = cycle_thresholds(yearly)
    assert long.at_risk_days == 370 + 37 and long.lapsed_days == 407 + 366
    assert long.loyal_min_repeat == 3 and long.lookback_days == math.ceil(4 * 365.2425)
    set_by_hand = cycle_thresholds(monthly, at_risk_days=40, new_days=60)
    assert (set_by_hand.at_risk_days, set_by_hand.lapsed_days) == (40, 67)
    assert set_by_hand.overridden == ("at_risk_days", "new_days")
    with pytest.raises(ParamsError, match="needs the billing cycle of a subscription"):
        cycle_thresholds(BillingCycle("transactional"))


def test_subscription_stages_count_missed_renewals():
    """As of 2024-06-30 with monthly thresholds (36 / 67 days): planted renewal standings."""
    rows = (
        _monthly("renewing", "2023-01-10", "2024-06-10")  # 20 days ago, 17 renewals in a year
        + _monthly("due", "2024-01-15", "2024-05-15")  # 46 days: one renewal overdue
        + _monthly("gone", "2023-06-01", "2024-03-01")  # 121 days: two or more missed
        + _monthly("starter", "2024-05-20", "2024-06-20")  # first bill 41 days ago
    )
    orders = _orders(rows)
    monthly = BillingCycle("subscription", "monthly", 365.2425 / 12, 27, 32, 1.0, 100, 30.0)
    th = lifecycle_thresholds(orders, AS_OF, billing=monthly)
    stages = lifecycle_stages(None, orders, AS_OF, th)["stage"].astype(str).to_dict()
    assert stages == {"due": "at_risk", "gone": "lapsed", "renewing": "loyal", "starter": "new"}


def test_contract_ended_is_its_own_stage_whatever_the_bills():
    orders = _orders(
        _monthly("left", "2023-01-10", "2024-06-10") + _monthly("stays", "2023-01-10", "2024-06-10")
    )
    th = LifecycleThresholds(at_risk_days=36, lapsed_days=67, new_days=90, loyal_min_repeat=3)
    out = lifecycle_stages(None, orders, AS_OF, th, churned=["left", "ghost"])
    assert out["stage"].astype(str).to_dict() == {
        "ghost": "churned",  # known only from the customers table: still a customer who left
        "left": "churned",  # billed 20 days ago, but the contract ended
        "stays": "loyal",
    }
    assert list(out["stage"].cat.categories)[-1] == "churned"
    before = pd.Series({"left": "loyal", "stays": "loyal"})
    moves = stage_transitions(before, out).counts
    assert moves.loc["loyal", "churned"] == 1 and moves.loc["prospect", "churned"] == 1

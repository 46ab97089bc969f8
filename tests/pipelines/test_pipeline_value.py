"""The value pipeline: one frozen result per unit and period, computed without a report
context, on hand-made orders whose figures are known."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from analysis import valuation
from analysis.config import load_params
from analysis.data.load import Dataset
from analysis.period import Period
from analysis.pipelines import value as pipeline
from analysis.pipelines.shared import SharedWork
from analysis.playbook import load_playbook

PERIOD = Period.parse("2025-Q4")


def _orders(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["order_id"] = [f"O{i:05d}" for i in range(len(frame))]
    frame["business_unit"] = "north"
    frame["status"] = np.where(frame["amount"] < 0, "returned", "completed")
    return frame.astype({"customer_id": "string", "business_unit": "string"})


def _customers(ids, types=None) -> pd.DataFrame:
    ids = list(ids)
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "business_unit": "north",
            "customer_type": types or ["individual"] * len(ids),
            "signup_date": pd.Timestamp("2023-01-01"),
        }
    )


@pytest.fixture
def params(tmp_path):
    return load_params(overrides={"output_dir": str(tmp_path / "r"), "unit": "north"})


HAND = [
    ("a", "2025-01-10", 40.0),  # bought before both snapshots
    ("a", "2025-06-20", 30.0),
    ("b", "2025-11-01", 20.0),  # first purchase in the period
    ("c", "2024-01-05", 60.0),  # outside both 365-day windows
]


def test_build_on_hand_made_orders(params):
    data = Dataset(customers=_customers("abcd", types=["government"] + ["individual"] * 3),
                   orders=_orders(HAND))  # fmt: skip
    result = pipeline.build(data, PERIOD, params)

    assert result.period == PERIOD and str(result.previous) == "2025-Q3"
    assert result.current.as_of == pd.Timestamp("2025-12-31")
    assert result.previous_snapshot.as_of == pd.Timestamp("2025-09-30")
    assert result.previous_snapshot.thresholds == result.current.thresholds
    assert result.buyers == 2 and result.status == "small_base" and result.has_previous
    assert result.orders_in_period == 1
    kpis = result.kpis
    assert kpis.loc["buyers"].tolist() == [2.0, 1.0, 1.0]  # a, then a and b: +100%
    assert kpis.loc["revenue", "current"] == 90.0 and kpis.loc["revenue", "previous"] == 70.0
    assert kpis.loc["revenue", "change"] == pytest.approx(20 / 70)
    assert "clv_total" not in kpis.index  # two buyers: no CLV model
    changes = result.segment_changes
    assert changes["customers"].sum() == 2 and changes["previous"].sum() == 1
    assert (changes["change"] == changes["customers"] - changes["previous"]).all()

    assert result.rfm.status == "ok" and sum(result.rfm.f_scores_used) > 0
    assert result.rfm.counts.to_numpy().sum() == 2
    assert result.pareto.status == "small_base" and result.pareto.curve is not None
    assert result.clv.status == "too_few_repeat" and result.clv.parameters is None
    assert result.clv.by_segment.column == "historical_value"
    lifecycle = result.lifecycle
    assert lifecycle.stages["customers"].sum() == 4 == lifecycle.stages["previous"].sum()
    # fallback thresholds (too few gaps): last purchase over 180 days ago is lapsed
    assert lifecycle.thresholds.source == "fallback"
    assert lifecycle.stages.loc["lapsed", "customers"] == 2  # a (194 days) and c
    assert lifecycle.stages.loc["prospect", "customers"] == 1  # d never bought
    assert result.types.status == "ok" and set(result.types.with_buyers) == {
        "government",
        "individual",
    }

    book = result.playbook_tables
    assert book.unscored == 2  # c and d get their stage's action
    assert book.stages["customers"].sum() == 4
    assert book.types.loc["government", "customers"] == 1
    # no interactions, so no "Resolve open complaints" (the playbook's needs)
    expected = valuation.customer_actions(
        result.current.table, load_playbook(), "en", separator="; ", available=()
    )
    pd.testing.assert_frame_equal(result.actions, expected)
    assert not result.actions["action"].str.contains("complaint").any()
    pd.testing.assert_frame_equal(
        result.export, valuation.export_frame(result.current.table, expected)
    )
    groups = result.export_groups
    assert groups["customers"].sum() == len(result.export) == 4
    rank = groups["priority"].map({"high": 0, "medium": 1, "low": 2})
    assert rank.is_monotonic_increasing

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.buyers = 3


def test_shared_work_changes_speed_not_the_result(params, tmp_path):
    data = Dataset(customers=_customers("abcd"), orders=_orders(HAND))
    alone = pipeline.build(data, PERIOD, params)
    shared = SharedWork("north", tmp_path / "cache")
    first = pipeline.build(data, PERIOD, params, shared=shared)
    again = pipeline.build(data, PERIOD, params, shared=shared)
    for result in (first, again):
        pd.testing.assert_frame_equal(result.export, alone.export)
        pd.testing.assert_frame_equal(result.kpis, alone.kpis)
        pd.testing.assert_frame_equal(result.lifecycle.stages, alone.lifecycle.stages)


def test_degenerate_data_gets_a_status_not_an_error(params):
    refunds = _orders([(f"C{i}", "2025-11-01", -25.0) for i in range(3)])
    result = pipeline.build(Dataset(customers=_customers(["C0", "C1", "C2"]), orders=refunds),
                            PERIOD, params)  # fmt: skip
    assert result.status == "no_buyers" and result.buyers == 0
    assert result.rfm.status == "no_buyers" and result.rfm.best_cell is None
    assert result.pareto.status == "no_buyers" and result.pareto.tiers is None
    assert result.clv.by_segment is None
    assert result.types.status == "no_buyers"
    assert result.playbook_tables.high_priority == ()
    assert result.export["monetary"].eq(-25.0).all()

    no_types = pipeline.build(Dataset(customers=None, orders=_orders(HAND)), PERIOD, params)
    assert no_types.types.status == "no_types" and no_types.types.summary is None
    quiet = pipeline.build(
        Dataset(customers=None, orders=_orders(HAND[:2])), PERIOD, params
    )  # nothing dated in 2025-Q4
    assert quiet.orders_in_period == 0 and quiet.buyers == 1


def test_action_table_lists_every_key_in_order():
    book = load_playbook()
    table = pipeline.action_table(
        book, "lifecycle_stage", ["lapsed", "prospect"], {"lapsed": 4}, "zh", separator="；"
    )
    assert table.index.tolist() == ["lapsed", "prospect"]
    assert table["customers"].tolist() == [4, 0]
    assert table.columns.tolist() == pipeline.ACTION_COLUMNS
    assert "；" in table.loc["lapsed", "action"]  # two actions, joined the Chinese way


# --------------------------------------------------------------------------- real shapes


def test_telco_like_subscription_with_contractual_churn(tmp_path):
    """Monthly bills and churn dates: the unit's churn rule is contractual (auto), so every
    customer whose contract ended by the period end is 'churned', never loyal or scored; the
    scheme is the subscription's and the churners of the quarter are an outflow."""
    from value_shapes import DATA_END, telco_like

    customers, bills = telco_like()
    params = load_params(
        overrides={
            "output_dir": str(tmp_path / "r"),
            "unit": "telecom",
            "churn": {"definition": "auto"},
        }  # fmt: skip
    )
    result = pipeline.build(Dataset(customers=customers, orders=bills), PERIOD, params)
    assert result.scheme == "subscription" and result.churn_definition == "contractual"
    assert result.billing.cycle == "monthly"
    table = result.current.table
    gone = customers.loc[customers["churn_date"] <= DATA_END, "customer_id"].astype(str)
    assert result.lifecycle.stages.loc["churned", "customers"] == len(gone)
    assert result.lifecycle.churned == len(gone)
    assert set(table.index[table["lifecycle_stage"] == "churned"]) == set(gone)
    before = customers.loc[
        customers["churn_date"] <= pd.Timestamp(PERIOD.previous().end), "customer_id"
    ]
    assert result.lifecycle.stages.loc["churned", "previous"] == len(before)
    # churned in the quarter = moved into 'churned' from another stage
    moved = result.lifecycle.transitions.counts["churned"].drop("churned").sum()
    assert moved == len(gone) - len(before) > 0
    assert (
        result.lifecycle.outflow is not None and result.lifecycle.outflow["to_stage"] == "churned"
    )
    assert set(result.export.loc[result.export["contract_ended"], "customer_id"]) == set(gone)
    # thresholds follow the monthly cycle; no degenerate "31 to 31" band
    th = result.lifecycle.thresholds
    assert th.source == "cycle" and th.lapsed_days > th.at_risk_days > 32
    # the subscription entries are used and the subscription actions counted
    assert "second purchase" not in " ".join(result.export["action"]).lower()
    subs = result.playbook_tables.subscription
    assert list(subs.index) == ["renewal", "plan_change", "payment_method"]
    live = ~table["contract_ended"]
    manual = table["payment_method"].str.contains("check") & live
    assert subs.loc["payment_method", "customers"] == int(manual.sum())
    # segments: the champions are current long-tenure subscribers
    champions = table.loc[table["rfm_segment"] == "champions"]
    assert len(champions) and (champions["r_score"] == 5).all()
    assert (champions["f_score"] >= 4).all()


def test_purchase_log_without_optional_columns_is_scored_as_purchases(tmp_path):
    from value_shapes import purchase_log

    params = load_params(overrides={"output_dir": str(tmp_path / "r"), "unit": "shop"})
    result = pipeline.build(Dataset(customers=None, orders=purchase_log()), PERIOD, params)
    assert result.scheme == "transactional" and result.churn_definition == "noncontractual"
    assert result.billing.share < 0.8
    assert result.playbook_tables.subscription is None
    assert len(result.playbook_tables.types) == 0  # no types, no empty Government row
    assert result.lifecycle.churned == 0 and result.lifecycle.thresholds.source == "gaps"
    assert "churned" in result.lifecycle.empty
    assert (result.export["subscription_action"] == "").all()

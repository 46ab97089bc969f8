"""analysis.pipelines.churn: a frozen, deterministic result, computed once per run, that
says which validation it used; and the churn view's charts drawn from it."""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import report_context

from analysis.config import load_params
from analysis.data.load import Dataset
from analysis.period import Period
from analysis.pipelines import churn as pipeline
from analysis.pipelines.shared import SharedWork
from analysis.report.views import churn as views


def _contractual(rng, churn_start: str, churn_end: str, n: int = 120, churners: int = 40):
    """Weekly buyers over 2024-2025; ``churners`` of them churn (dated, with a reason)
    between two days and stop buying then."""
    ids = [f"C{i:04d}" for i in range(n)]
    days = pd.date_range("2024-01-01", "2025-12-31", freq="7D")
    rows = [(cid, d + pd.Timedelta(days=int(rng.integers(0, 3)))) for cid in ids for d in days]
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date"])
    k = len(orders)
    orders["order_id"] = [f"O{i:07d}" for i in range(k)]
    orders["amount"] = rng.gamma(2.0, 30.0, k).round(2)
    orders["discount"] = np.where(rng.random(k) < 0.3, rng.uniform(1, 10, k), 0.0)
    orders["business_unit"] = "north"
    orders["status"] = "completed"
    span = (pd.Timestamp(churn_end) - pd.Timestamp(churn_start)).days
    gone = pd.Timestamp(churn_start) + pd.to_timedelta(rng.integers(0, span, churners), "D")
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "business_unit": "north",
            "customer_type": rng.choice(["individual", "enterprise"], n),
            "signup_date": pd.Timestamp("2023-06-01"),
            "churned": [i < churners for i in range(n)],
            "churn_date": list(gone) + [pd.NaT] * (n - churners),
            "churn_reason": list(rng.choice(["price", "service"], churners))
            + [None] * (n - churners),
        }
    )
    end = orders["customer_id"].map(customers.set_index("customer_id")["churn_date"])
    orders = orders.loc[end.isna() | (orders["order_date"] < end)].reset_index(drop=True)
    data = Dataset(
        customers=customers.astype({"customer_id": "string"}),
        orders=orders.astype({"customer_id": "string", "status": "string"}),
    )
    return data


def _params(tmp_path, **churn):
    params = load_params(overrides={"output_dir": str(tmp_path / "reports")})
    params["churn"] = {**params["churn"], "definition": "contractual", **churn}
    return params


PERIOD = Period.parse("2025-Q4")


def test_two_builds_give_identical_numbers_and_the_result_is_frozen(tmp_path, rng):
    data = _contractual(rng, "2025-08-01", "2025-12-20")
    params = _params(tmp_path)
    first = pipeline.build(data, PERIOD, params)
    second = pipeline.build(data, PERIOD, params)  # no cache folder: computed again
    assert first is not second and first.status == "ok"
    pd.testing.assert_frame_equal(first.warning_list, second.warning_list, check_exact=True)
    pd.testing.assert_frame_equal(first.drivers.summary, second.drivers.summary, check_exact=True)
    pd.testing.assert_frame_equal(first.risk.importance, second.risk.importance, check_exact=True)
    assert first.risk.auc_ == second.risk.auc_ and first.cv == second.cv
    pd.testing.assert_frame_equal(first.survival.table, second.survival.table, check_exact=True)
    assert (first.current, first.previous, first.window) == (
        second.current,
        second.previous,
        second.window,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.status = "changed"
    # the figures other reports quote
    assert first.definition == "contractual" and first.high_risk == 0.5
    assert first.high_risk_customers == int((first.warning_list["churn_probability"] >= 0.5).sum())
    high = first.warning_list["churn_probability"] >= 0.5  # value at risk: the high-risk ones
    assert first.value_at_risk == pytest.approx(first.warning_list.loc[high, "value_at_risk"].sum())
    assert {"customer_id", "churn_probability", "value_at_risk"} <= set(first.warning_list)


def test_a_run_computes_the_result_once(tmp_path, rng):
    data = _contractual(rng, "2025-08-01", "2025-12-20")
    params = {**_params(tmp_path), "cache_dir": str(tmp_path / "cache"), "unit": "north"}
    shared = SharedWork.from_params(params)
    first = pipeline.build(data, PERIOD, params, shared=shared)
    assert pipeline.build(data, PERIOD, params, shared=shared) is first
    other = {**params, "churn": {**params["churn"], "high_risk": 0.7}}
    assert pipeline.build(data, PERIOD, other, shared=shared) is not first


def test_holdout_check_is_not_called_out_of_time(tmp_path, rng, shown):
    """Two snapshots fit, but nobody churns in the training snapshot's window
    (2025-11-02 .. 2025-12-01): the models are checked on a held-out part of the test
    snapshot, and the report must not claim an out-of-time check."""
    data = _contractual(rng, "2025-12-03", "2025-12-28")
    ctx = report_context(tmp_path, data, data_end=pd.Timestamp("2025-12-31"))
    ctx.params["churn"] = {**ctx.params["churn"], "definition": "contractual"}
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    assert result.status == "ok" and result.snapshots.out_of_time
    assert result.train["churned"].sum() == 0 and result.validation is None
    assert result.risk_kind == "holdout" and result.validation_kind == "holdout"
    views.model_section(ctx, result)
    html = "".join(shown)
    assert "Out-of-time check" not in html
    assert "cannot train the models" in html and "held out from fitting" in html


def test_out_of_time_check_says_so(tmp_path, rng, shown):
    data = _contractual(rng, "2025-08-01", "2025-12-20")
    ctx = report_context(tmp_path, data, data_end=pd.Timestamp("2025-12-31"))
    ctx.params["churn"] = {**ctx.params["churn"], "definition": "contractual"}
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    assert result.validation_kind == "out_of_time" and result.risk_kind == "out_of_time"
    views.model_section(ctx, result)
    assert "Out-of-time check: both models were trained on" in "".join(shown)


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("few_events", "Too few churn events"),
        ("no_feature", "No attribute of the cause model varies"),
        ("no_convergence", "did not converge"),
    ],
)
def test_the_hazard_note_gives_the_real_reason(tmp_path, rng, shown, reason, words):
    data = _contractual(rng, "2025-08-01", "2025-12-20")
    ctx = report_context(tmp_path, data, data_end=pd.Timestamp("2025-12-31"))
    ctx.params["churn"] = {**ctx.params["churn"], "definition": "contractual"}
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    failed = dataclasses.replace(
        result,
        survival=dataclasses.replace(result.survival, hazards=None, hazards_reason=reason),
    )
    assert views.hazards_section(ctx, failed) is None
    html = "".join(shown)
    assert words in html
    if reason != "few_events":
        assert "Too few churn events" not in html


def test_charts_draw_on_the_given_or_current_axes(tmp_path, rng):
    data = _contractual(rng, "2025-08-01", "2025-12-20")
    ctx = report_context(tmp_path, data, data_end=pd.Timestamp("2025-12-31"))
    ctx.params["churn"] = {**ctx.params["churn"], "definition": "contractual"}
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    forest = views.forest_table(result.drivers.summary)
    assert forest["significant"].is_monotonic_decreasing and "label" in forest
    charts = [
        (views.plot_forest, forest, {}),
        (views.plot_gains, result.risk.gains, {}),
        (views.plot_calibration, result.risk.calibration, {}),
        (views.plot_importance, result.risk.importance, {}),
        (views.plot_survival, result.survival.by_stage, {"kind": "by_stage"}),
        (views.plot_reasons, result.reasons, {}),
    ]
    for plot, part, kw in charts:
        fig, ax = plt.subplots()
        assert plot(part, language="zh", ax=ax, **kw) is ax
        assert ax.get_title()  # every chart is titled
        plt.close(fig)
        plt.figure()
        assert plot(part, **kw) is plt.gca()  # no ax: the current Axes
        plt.close("all")

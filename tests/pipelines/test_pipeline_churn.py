"""analysis.pipelines.churn: a frozen, deterministic result, computed once per run, that
says which validation it used; and the churn view's charts drawn from it."""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import report_context

from analysis import churn as churn_models
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


def test_the_hazard_note_quotes_the_real_reason_and_counts(tmp_path, rng, shown):
    """The note says the reason the fit gave, with the counts of the customers it was
    tried on: "too few churn events" can only follow fewer than the minimum."""
    data = _contractual(rng, "2025-08-01", "2025-12-20")
    ctx = report_context(tmp_path, data, data_end=pd.Timestamp("2025-12-31"))
    ctx.params["churn"] = {**ctx.params["churn"], "definition": "contractual"}
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    surv = result.survival
    assert surv.hazards is not None and surv.hazard_n == (len(surv.table), 40)
    for reason, words in (
        ("few_events", "Only 4 churn events among the 120 customers"),
        ("no_feature", "No attribute of the cause model varies"),
        ("no_convergence", "did not converge"),
        ("no_attributes", "None of the 120 customers followed has the model"),
        ("failed", "could not be fitted on the 120 customers and 4 churn events followed (boom)"),
    ):
        shown.clear()
        failed = dataclasses.replace(
            result,
            survival=dataclasses.replace(
                surv, hazards=None, hazards_reason=reason, hazard_n=(120, 4), hazards_error="boom"
            ),
        )
        assert views.hazards_section(ctx, failed) is None
        html = "".join(shown)
        assert words in html, reason
        if reason != "few_events":
            assert "Only" not in html
    # the real few-events path: the count quoted is below the minimum
    frame = surv.table[["duration", "event"]].assign(x=rng.normal(size=len(surv.table)))
    frame["event"] = False
    frame.iloc[:3, frame.columns.get_loc("event")] = True
    with pytest.raises(churn_models.HazardModelError, match="only 3 churn events") as err:
        churn_models.hazard_ratios(frame, ["x"], min_events=pipeline.HAZARD_MIN_EVENTS)
    assert err.value.reason == "few_events"


def _validation_words(ctx, result, shown) -> str:
    shown.clear()
    views.definition_section(ctx, result)
    views.model_section(ctx, result)
    return "".join(shown)


def test_every_sentence_names_the_validation_the_table_shows(tmp_path, rng, shown):
    """Out of time, or held out (the older snapshot unusable): the definition text, the
    model text and the model table all say the same."""
    data = _contractual(rng, "2025-08-01", "2025-12-20")
    ctx = report_context(tmp_path, data, data_end=pd.Timestamp("2025-12-31"))
    ctx.params["churn"] = {**ctx.params["churn"], "definition": "contractual"}
    oot = pipeline.build(ctx.data, ctx.period, ctx.params)
    html = _validation_words(ctx, oot, shown)
    assert oot.validation_kind == "out_of_time"
    assert "Models are checked out of time" in html and "held-out 25%" not in html
    late = _contractual(rng, "2025-12-03", "2025-12-28")  # nobody churns in the training window
    ctx = report_context(tmp_path, late, data_end=pd.Timestamp("2025-12-31"))
    ctx.params["churn"] = {**ctx.params["churn"], "definition": "contractual"}
    held = pipeline.build(ctx.data, ctx.period, ctx.params)
    html = _validation_words(ctx, held, shown)
    assert held.validation_kind == "holdout"
    assert "checked out of time" not in html and "Out-of-time check" not in html
    assert "held-out 25% of customers" in html and "not out of time" in html


def _telco_export(rng, n: int = 1500, export: str = "2025-12-31") -> pd.DataFrame:
    """One row per customer, as the IBM Telco file: tenure in months, monthly charges,
    contract, churn flag (churners left in the export's last month)."""
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.21, 0.24])
    tenure = np.where(contract == "Month-to-month", rng.integers(1, 40, n), rng.integers(6, 73, n))
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.34, 0.44, 0.22])
    monthly = 20 + np.where(internet == "Fiber optic", 55, np.where(internet == "DSL", 30, 0))
    lin = (
        -1.2
        + 1.4 * (contract == "Month-to-month")
        - 0.04 * tenure
        + 0.8 * (internet == "Fiber optic")
    )
    return pd.DataFrame(
        {
            "customerID": [f"{i:04d}-TLC" for i in range(n)],
            "tenure": tenure,
            "Contract": contract,
            "InternetService": internet,
            "MonthlyCharges": (monthly + rng.normal(0, 5, n)).round(2),
            "Churn": np.where(rng.random(n) < 1 / (1 + np.exp(-lin)), "Yes", "No"),
        }
    ).assign(export=pd.Timestamp(export))


def _as_billing(export: pd.DataFrame) -> Dataset:
    """The export as the contract's tables: signup = export date - tenure months, one
    bill a month, churners' churn date in the export's last month."""
    end = export["export"].iloc[0]
    churned = export["Churn"].eq("Yes").to_numpy()
    signup = [end - pd.DateOffset(months=int(m)) for m in export["tenure"]]
    churn_date = [
        end - pd.Timedelta(days=int(i % 28)) if c else pd.NaT for i, c in enumerate(churned)
    ]
    customers = pd.DataFrame(
        {
            "customer_id": export["customerID"],
            "business_unit": "north",
            "signup_date": pd.to_datetime(signup),
            "churned": churned,
            "churn_date": pd.to_datetime(churn_date),
            "contract": export["Contract"],
            "internet_service": export["InternetService"],
        }
    )
    rows = []
    for cid, start, stop, months, fee in zip(
        customers["customer_id"],
        customers["signup_date"],
        customers["churn_date"],
        export["tenure"],
        export["MonthlyCharges"],
        strict=True,
    ):
        for k in range(int(months)):
            day = start + pd.DateOffset(months=k)
            if day >= end or (pd.notna(stop) and day >= stop):
                break
            rows.append((cid, day, fee))
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    orders["order_id"] = [f"B{i:07d}" for i in range(len(orders))]
    orders["business_unit"] = "north"
    orders["status"] = "completed"
    return Dataset(
        customers=customers.astype({"customer_id": "string"}),
        orders=orders.astype({"customer_id": "string", "status": "string"}),
    )


def test_a_one_row_per_customer_subscription_export_gives_a_sensible_report(tmp_path, rng, shown):
    data = _as_billing(_telco_export(rng))
    ctx = report_context(tmp_path, data, data_end=pd.Timestamp("2025-12-31"))
    ctx.params["churn"] = {
        **ctx.params["churn"],
        "definition": "contractual",
        "attributes": ["contract", "internet_service"],
    }
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    assert result.status == "ok" and result.modelled
    d = result.drivers
    # billing months are tenure: one is kept, with a note, and every estimate is sane
    assert d.dropped_.get("frequency") == "aliased"
    table = d.odds_ratios.set_index("feature")
    assert (
        table.loc["tenure_days", "odds_ratio"] < 0.7 and table.loc["tenure_days", "p_value"] < 0.01
    )
    assert table.loc["contract[Two year]", "odds_ratio"] < 0.5
    assert d.summary["identified"].all() and (d.summary["ci_high"] < 100).all()
    assert result.survival.hazards is not None  # the Cox fit converges once aliases are merged
    # the list: no reason on the billing artefact, the contract type said once
    words = set(result.warning_list[["reason_1", "reason_2", "reason_3"]].to_numpy().ravel())
    assert not any("purchase days" in w for w in words)
    assert any(s["text"] == "Contract: Month-to-month" for s in result.shared_reasons)
    forest = views.drivers_section(ctx, result)
    html = "".join(shown)
    assert "Purchase days moves with Tenure" in html and "e+" not in html
    fig, ax = plt.subplots(figsize=(11, views.forest_height(forest)))
    views.plot_forest(forest, ax=ax)
    plt.close(fig)
    views.early_warning_section(ctx, result)
    assert "high-risk customers share this: Contract: Month-to-month" in "".join(shown)


def test_a_purchase_log_without_customers_gives_a_sensible_report(tmp_path, rng):
    """CDNOW-like: one cohort of first purchases, then a purchase log of id, date, amount
    (customers derived from the orders)."""
    n = 1500
    first = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D")
    rows = []
    for i in range(n):
        day, rate = first[i], rng.gamma(0.6, 1 / 20)
        while day < pd.Timestamp("2025-12-31") and len(rows) < 60_000:
            rows.append((f"{i:05d}", day, float(rng.gamma(3.0, 15.0))))
            if rng.random() < 0.25:
                break
            day = day + pd.Timedelta(days=1 + int(rng.exponential(1 / max(rate, 1e-3))))
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    orders["order_id"] = [f"O{i:07d}" for i in range(len(orders))]
    orders["business_unit"] = "north"
    orders["status"] = "completed"
    first_day = orders.groupby("customer_id")["order_date"].min()
    customers = pd.DataFrame(
        {"customer_id": first_day.index, "business_unit": "north", "signup_date": first_day.values}
    )
    data = Dataset(
        customers=customers.astype({"customer_id": "string"}),
        orders=orders.astype({"customer_id": "string", "status": "string"}),
    )
    ctx = report_context(tmp_path, data, data_end=pd.Timestamp("2025-12-31"))
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    assert result.status == "ok" and result.definition == "noncontractual"
    d = result.drivers
    assert d.summary["identified"].all()
    significant = d.significant_features()
    used = set(result.warning_list[["reason_feature_1", "reason_feature_2"]].to_numpy().ravel())
    assert used - {""} <= significant  # a reason is always a significant attribute
    assert result.survival.hazards is not None or result.survival.hazards_reason


def test_a_survey_without_csat_leaves_satisfaction_out(tmp_path, rng, shown):
    data = _contractual(rng, "2025-08-01", "2025-12-20")
    ids = data.customers["customer_id"].iloc[:80]
    surveys = pd.DataFrame(
        {
            "response_id": [f"R{i}" for i in range(80)],
            "customer_id": ids.to_numpy(),
            "response_date": pd.Timestamp("2025-03-01"),
            "business_unit": "north",
            "nps": rng.integers(0, 11, 80),
        }
    ).astype({"customer_id": "string"})
    data = dataclasses.replace(data, survey_responses=surveys)
    ctx = report_context(tmp_path, data, data_end=pd.Timestamp("2025-12-31"))
    ctx.params["churn"] = {**ctx.params["churn"], "definition": "contractual"}
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    assert result.status == "ok" and "no_satisfaction_column" in result.notes
    assert "satisfaction" not in result.drivers.features_
    views.drivers_section(ctx, result)
    assert "The survey has no &#x27;csat&#x27; answers" in "".join(shown)
    # named in the parameters, the NPS answers become the satisfaction attribute
    ctx.params["features"] = {**ctx.params["features"], "satisfaction_col": "nps"}
    with_nps = pipeline.build(ctx.data, ctx.period, ctx.params)
    assert (
        "satisfaction" in with_nps.fit_frame.columns
        and "no_satisfaction_column" not in with_nps.notes
    )
    assert pipeline.satisfaction_scale(ctx.params) == (0, 10)


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

"""analysis.pipelines.satisfaction.build on tiny in-memory data: a frozen result of every
part the report shows, churn after a response with the unit's own churn definition and
window (the churn report's), and the degenerate statuses."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_tables

from analysis import churn
from analysis import satisfaction as sat
from analysis.config import load_params
from analysis.data.load import Dataset
from analysis.period import Period
from analysis.pipelines import satisfaction as pipeline

PERIOD = Period.parse("2025-Q4")


def _data(surveys: pd.DataFrame | None, customers: pd.DataFrame | None = None) -> Dataset:
    tables = tiny_tables()
    orders = tables["orders"].assign(order_date=lambda d: pd.to_datetime(d["order_date"]))
    customers = tables["customers"] if customers is None else customers
    return Dataset(
        customers=customers.astype({"customer_id": "string"}),
        orders=orders.astype({"customer_id": "string"}),
        survey_responses=surveys,
    ).for_unit("north")


def _surveys(seed: int = 2, n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    customers = tiny_tables()["customers"]
    north = customers.loc[customers["business_unit"] == "north", "customer_id"]
    quality = rng.integers(1, 6, n)
    return pd.DataFrame(
        {
            "response_id": [f"S{i:04d}" for i in range(n)],
            "response_date": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 731, n), "D"),
            "business_unit": "north",
            "customer_id": pd.array(rng.choice(north, n), dtype="string"),
            "nps": np.clip(2 * quality + rng.integers(-1, 2, n), 0, 10).astype(float),
            "csat": np.clip(quality + rng.integers(-1, 2, n), 1, 5).astype(float),
            "rating_product_quality": quality.astype(float),
            "rating_delivery": rng.integers(1, 6, n).astype(float),
            "comment": rng.choice(["great quality", "slow delivery", None], n),
            "touchpoint": rng.choice(["web", "store"], n),
        }
    )


def _params(**overrides) -> dict:
    params = load_params(overrides={"unit": "north", "quality": {"today": "2026-06-30"}})
    return {**params, "satisfaction": {"driver_bootstrap": 20}, **overrides}


def test_build_returns_a_frozen_result_of_every_part():
    data = _data(_surveys())
    before = data.survey_responses.copy()
    result = pipeline.build(data, PERIOD, _params())
    assert result.status == "ok" and result.period == PERIOD and result.unit == "north"
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = "no_responses"  # type: ignore[misc]
    assert result.charts == {"trend", "attributes", "drivers", "churn"}
    survey = result.survey
    expected = sat.score_comparison(
        survey.current,
        survey.previous,
        has_nps=True,
        overall="csat",
        days=(PERIOD.days, PERIOD.previous().days),
    )
    pd.testing.assert_frame_equal(result.kpis, expected)
    assert list(result.trend.trends) == ["nps", "csat"] and result.trend.count == 8
    assert result.trend.trends["nps"].index[-1] == "2025-Q4"
    assert result.trend.unit_changes is None  # one unit's report
    assert set(result.groups["dimension"]) == {"touchpoint", "customer_type"}
    assert result.attributes.distribution["top2"].is_monotonic_increasing
    assert result.drivers.drivers.index[0] == "rating_product_quality"  # nps built from it
    assert result.comments.worst == "detractor" and result.comments.n > 0
    assert result.groups_export.columns.tolist() == sat.GROUP_COLUMNS
    assert result.detractors.columns.tolist() == sat.DETRACTOR_COLUMNS
    assert result.follow_up["total"].sum() == len(result.detractors)
    pd.testing.assert_frame_equal(data.survey_responses, before)  # inputs unchanged


def test_churn_after_response_uses_the_churn_reports_window():
    data = _data(_surveys())
    params = _params()
    result = pipeline.build(data, PERIOD, params)
    link = result.links.churn
    opts = params["churn"]
    end = PERIOD.end_exclusive
    window = churn.churn_window(
        data.orders.loc[data.orders["order_date"] < end],
        end,
        quantile=opts["window_quantile"],
        min_days=opts["window_min_days"],
        max_days=opts["window_max_days"],
        window_days=opts["window_days"],
    )
    assert link.window == window and link.days == window.days
    assert link.definition == churn.resolve_definition(opts["definition"], data.customers)
    expected = sat.churn_after_response(
        result.survey.responses, data.orders, data.data_end, window_days=window.days
    )
    assert link.responses["churned"].tolist() == expected["churned"].tolist()
    assert link.data_end == data.data_end
    fixed = pipeline.build(data, PERIOD, _params(churn={**opts, "window_days": 30}))
    assert fixed.links.churn.days == 30 and fixed.links.churn.window.source == "param"


def test_contractual_units_churn_by_churn_date():
    customers = tiny_tables()["customers"]
    churned = np.arange(len(customers)) % 3 == 0
    customers = customers.assign(
        churned=pd.array(churned, dtype="boolean"),
        churn_date=pd.to_datetime(np.where(churned, "2025-03-01", None)),
    )
    data = _data(_surveys(), customers)
    result = pipeline.build(
        data, PERIOD, _params(churn={**_params()["churn"], "definition": "contractual"})
    )
    link = result.links.churn
    assert link.definition == "contractual"
    rows = link.responses
    # respondents who had churned before answering are not followed
    assert (rows["churn_date"].isna() | (rows["churn_date"] >= rows["response_date"])).all()
    window = pd.Timedelta(days=link.days)
    in_window = rows["churn_date"].notna() & (rows["churn_date"] < rows["response_date"] + window)
    assert rows["churned"].tolist() == in_window.tolist() and rows["churned"].any()


@pytest.mark.parametrize(
    ("surveys", "status"), [(None, "no_survey_file"), (_surveys().iloc[:0], "no_responses")]
)
def test_degenerate_units_say_why(surveys, status):
    result = pipeline.build(_data(surveys), PERIOD, _params())
    assert result.status == status and result.charts == frozenset()
    assert result.kpis is None and result.trend is None and result.links is None
    assert result.detractors.empty and result.groups_export.empty
    assert result.groups_export.columns.tolist() == sat.GROUP_COLUMNS

"""The report's building blocks in analysis.satisfaction on hand-made frames: the survey
of a period, response categories, the group table, churn after a response (both churn
definitions), follow-up actions, the improvement list and the detractor export."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import satisfaction as sat
from analysis.errors import DataError, ParamsError
from analysis.i18n import catalog
from analysis.period import Period


def _survey(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "response_id": [f"R{i}" for i in range(n)],
        "response_date": pd.to_datetime(["2025-11-15"] * n),
        "business_unit": ["north"] * n,
        "customer_id": pd.array([f"C{i:04d}" for i in range(n)], dtype="string"),
    }
    return pd.DataFrame({**base, **columns})


def _view(frame: pd.DataFrame, *, has_nps: bool = True, overall: str | None = "csat", **kw):
    ratings = tuple(c for c in frame.columns if c.startswith("rating_"))
    return sat.Survey(
        responses=frame,
        current=frame,
        previous=frame.iloc[:0],
        has_nps=has_nps,
        overall=overall,
        overall_scale=(1, 5),
        ratings=ratings,
        rating_scale=(1, 5),
        freq="Q",
        **kw,
    )


# --------------------------------------------------------------------------- the survey


def test_select_survey_splits_periods_and_finds_the_questions():
    responses = _survey(
        nps=[10, 3, 8, 9],
        csat=[5, 2, np.nan, 4],
        rating_price=[4, 1, 3, np.nan],
        rating_empty=[np.nan] * 4,
    ).assign(response_date=pd.to_datetime(["2025-08-01", "2025-10-05", "2025-12-31", "2026-01-01"]))
    customers = pd.DataFrame(
        {"customer_id": ["C0000", "C0001"], "customer_type": ["individual", "enterprise"]}
    )
    orders = pd.DataFrame(
        {
            "customer_id": ["C0001", "C0001", "C0001", "C0000"],
            "order_date": pd.to_datetime(["2025-01-01", "2025-02-01", "2026-02-01", "2025-03-01"]),
            "amount": [1.0, 1.0, 1.0, 1.0],
            "channel": ["web", "web", "store", "store"],
        }
    )
    survey = sat.select_survey(responses, customers, orders, Period.parse("2025-Q4"))
    assert survey.responses["response_id"].tolist() == ["R0", "R1", "R2"]  # after the end: out
    assert survey.current["response_id"].tolist() == ["R1", "R2"]
    assert survey.previous["response_id"].tolist() == ["R0"]
    assert survey.has_nps and survey.overall == "csat" and survey.outcome == "nps"
    assert survey.ratings == ("rating_price",) and survey.freq == "Q" and not survey.no_file
    assert survey.responses["customer_type"].tolist()[:2] == ["individual", "enterprise"]
    assert survey.responses["main_channel"].tolist()[:2] == ["store", "web"]
    assert survey.categories == ("detractor", "promoter")
    assert "main_channel" not in responses.columns  # the input is unchanged


def test_select_survey_without_a_file_is_empty():
    orders = pd.DataFrame(
        {"customer_id": ["a"], "order_date": pd.to_datetime(["2025-01-01"]), "amount": [1.0]}
    )
    survey = sat.select_survey(
        None, pd.DataFrame({"customer_id": ["a"]}), orders, Period.parse("2025-09")
    )
    assert survey.no_file and survey.empty and survey.outcome is None and survey.freq == "M"


def test_trend_periods_and_driver_window():
    assert sat.trend_periods(Period.parse("2025-Q1"), 3) == ["2024-Q3", "2024-Q4", "2025-Q1"]
    assert sat.trend_periods(Period.parse("2025-03"), 2) == ["2025-02", "2025-03"]
    start, end = sat.driver_window(Period.parse("2025-09"))
    assert (start, end) == (pd.Timestamp("2024-10-01"), pd.Timestamp("2025-10-01"))
    start, end = sat.driver_window(Period.parse("2025"))
    assert (start, end) == (pd.Timestamp("2025-01-01"), pd.Timestamp("2026-01-01"))


def test_attribute_name_is_catalogued_else_derived():
    assert (
        sat.attribute_name("rating_delivery")
        == catalog("en")["report_satisfaction.attribute.delivery"]
    )
    assert sat.attribute_name("rating_app_speed") == "app speed"


def test_response_category_without_nps_uses_the_overall_item():
    frame = _survey(csat=[5, 4, 3, 2, 1, np.nan, 7])
    cats = sat.response_category(frame, _view(frame, has_nps=False))
    assert cats.tolist()[:5] == [
        "satisfied",
        "satisfied",
        "neutral",
        "dissatisfied",
        "dissatisfied",
    ]
    assert cats.iloc[5:].isna().all()  # missing and out-of-scale answers have no category


# --------------------------------------------------------------------------- groups


def test_group_table_greys_small_bases_and_never_ranks_them():
    frame = _survey(
        nps=[10] * 30 + [0] * 25 + [8] * 5 + [9] * 5,
        csat=[5] * 30 + [1] * 30 + [4] * 5,
        touchpoint=["web"] * 30 + ["store"] * 30 + ["app"] * 5,
    )
    table = sat.group_table(frame, _view(frame), ["touchpoint"])
    assert table["group"].tolist() == ["web", "store", "app"]  # ranked first, small base last
    assert table["small_base"].tolist() == [False, False, True]
    assert table["rank"].tolist()[:2] == [1, 2] and pd.isna(table["rank"].iloc[2])
    assert table["nps_significant"].tolist()[:2] == [True, True]
    assert math.isnan(table.loc[2, "nps_p_adjusted"])
    assert set(table.columns) == set(sat.GROUP_COLUMNS) - {"period", "unit"}
    assert sat.group_dimensions(frame) == ["touchpoint"]  # one business unit: no grouping
    export = sat.groups_export(table, "2025-Q4", "north")
    assert export.columns.tolist() == sat.GROUP_COLUMNS and (export["unit"] == "north").all()
    assert sat.groups_export(None, "2025-Q4", "north").empty


# --------------------------------------------------------------------------- churn after a response


def test_churn_after_response_uses_only_fully_observed_windows():
    responses = _survey(nps=[10, 0, 5, 9, 8]).assign(
        response_date=pd.to_datetime(
            ["2025-01-10", "2025-01-10", "2025-03-01", "2025-11-01", "2025-02-01"]
        ),
        customer_id=pd.array(["A", "B", "C", "D", None], dtype="string"),
    )
    orders = pd.DataFrame(
        {
            "customer_id": pd.array(["A", "B", "B", "C", "C", "D"], dtype="string"),
            "order_date": pd.to_datetime(
                ["2025-02-20", "2025-01-10", "2025-06-01", "2025-02-01", "2025-03-20", "2025-11-20"]
            ),
            "amount": [50.0, 20.0, 30.0, 10.0, -10.0, 5.0],
        }
    )
    churn = sat.churn_after_response(responses, orders, pd.Timestamp("2025-12-31"), window_days=90)
    # D answered less than 90 days before the data end; the anonymous answer is not followed
    assert churn["customer_id"].tolist() == ["A", "B", "C"]
    # A bought 41 days later; B only on the response day and 142 days later; C only refunded
    assert churn["churned"].tolist() == [False, True, True]
    summary = sat.churn_by_category(churn, sat.response_category(churn, _view(churn)))
    assert summary.loc["detractor", "rate"] == 1.0 and summary.loc["promoter", "rate"] == 0.0
    assert summary.loc["detractor", "n"] == 2 and summary.attrs["worst"] == "detractor"
    # a 40-day window: A's purchase on day 41 is too late
    short = sat.churn_after_response(responses, orders, pd.Timestamp("2025-12-31"), window_days=40)
    assert short["customer_id"].tolist() == ["A", "B", "C", "D"]  # D's window is observed now
    assert short["churned"].tolist() == [True, True, True, False]  # D bought 19 days later
    with pytest.raises(ParamsError, match="definition"):
        sat.churn_after_response(responses, orders, None, window_days=90, definition="auto")


def test_churn_after_response_contractual_uses_churn_dates():
    responses = _survey(nps=[10, 0, 5, 9, 3]).assign(
        response_date=pd.to_datetime(["2025-01-10"] * 5),
        customer_id=pd.array(["A", "B", "C", "D", "E"], dtype="string"),
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D", "E"],
            "churned": pd.array([False, True, True, True, True], dtype="boolean"),
            # B churns 30 days later; C 100 days later; D before answering; E undated
            "churn_date": pd.to_datetime(["NaT", "2025-02-09", "2025-04-20", "2025-01-01", "NaT"]),
        }
    )
    orders = pd.DataFrame(
        {"customer_id": ["A"], "order_date": pd.to_datetime(["2025-12-01"]), "amount": [1.0]}
    )
    churn = sat.churn_after_response(
        responses,
        orders,
        pd.Timestamp("2025-12-31"),
        window_days=60,
        definition="contractual",
        customers=customers,
    )
    assert churn["customer_id"].tolist() == ["A", "B", "C"]
    assert churn["churned"].tolist() == [False, True, False]
    assert churn["churn_date"].isna().tolist() == [True, False, False]
    with pytest.raises(DataError, match="churn_date"):
        sat.churn_after_response(
            responses, orders, pd.Timestamp("2025-12-31"), window_days=60, definition="contractual"
        )


def test_churn_by_category_tests_worst_against_best_by_hand():
    churn = pd.DataFrame({"churned": [True] * 30 + [False] * 20 + [True] * 10 + [False] * 40})
    cats = pd.Series(["detractor"] * 50 + ["promoter"] * 50)
    summary = sat.churn_by_category(churn, cats)
    pooled = 40 / 100
    z = (0.6 - 0.2) / math.sqrt(pooled * (1 - pooled) * (1 / 50 + 1 / 50))
    assert summary.attrs["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)))
    low, high = sat.wilson_interval(30, 50)
    assert summary.loc["detractor", ["ci_low", "ci_high"]].tolist() == pytest.approx([low, high])


# --------------------------------------------------------------------------- actions


def test_follow_up_actions_name_the_lowest_rated_attribute():
    detractors = pd.DataFrame(
        {
            "nps": [2, 5, 6],
            "rating_delivery": [1, 4, 4],
            "rating_price": [2, 2, 3],
            "rating_app_speed": [5, 5, 1],
        }
    )
    out = sat.follow_up_actions(detractors, ["rating_delivery", "rating_price", "rating_app_speed"])
    assert out["lowest_rated_attribute"].tolist() == ["delivery", "price", "app_speed"]
    assert out["priority"].tolist() == ["high", "medium", "medium"]
    names = catalog("en")
    assert out.loc[0, "follow_up_action"] == names["report_satisfaction.follow_up.delivery"]
    assert "app speed" in out.loc[2, "follow_up_action"]  # generic text for unknown attributes
    calm = sat.follow_up_actions(
        detractors.assign(rating_price=4, rating_delivery=3, rating_app_speed=4), ["rating_price"]
    )
    assert calm["lowest_rated_attribute"].tolist() == ["", "", ""]
    zh = sat.follow_up_actions(detractors, ["rating_delivery"], language="zh")
    assert zh.loc[0, "follow_up_action"] == catalog("zh")["report_satisfaction.follow_up.delivery"]


def test_detractor_list_and_follow_up_counts():
    frame = _survey(
        nps=[0, 5, 10, 2, 6],
        csat=[1, 2, 5, 1, 3],
        rating_delivery=[1, 4, 5, 5, 4],
        comment=["mail me at x.y@pii.example", None, "great", "late", "meh"],
    )
    frame.loc[4, "customer_id"] = pd.NA  # anonymous detractor: cannot be contacted
    out = sat.detractor_list(_view(frame))
    assert out.columns.tolist() == sat.DETRACTOR_COLUMNS
    assert out["customer_id"].tolist() == ["C0000", "C0003", "C0001"]  # lowest score first
    assert out["priority"].tolist() == ["high", "high", "medium"]
    assert "x.y@pii.example" not in out["comment"].iloc[0] and "[email]" in out["comment"].iloc[0]
    counts = sat.follow_up_counts(out)
    assert counts["total"].sum() == 3 and counts.columns.tolist() == ["high", "medium", "total"]
    assert counts.iloc[0]["high"] >= counts.iloc[-1]["high"]
    assert sat.follow_up_counts(out.iloc[:0]).empty


def test_improvement_plan_lists_fix_first_attributes():
    frame = _survey(
        nps=[10, 9, 3, 0, 8, 10, 2, 7] * 10,
        rating_delivery=[5, 5, 1, 1, 4, 5, 1, 3] * 10,
        rating_price=[3, 3, 3, 3, 3, 4, 3, 3] * 10,
        rating_gift_wrap=[5, 5, 5, 5, 5, 5, 5, 5] * 10,
    )
    ipa = sat.importance_performance(
        frame,
        ["rating_delivery", "rating_price", "rating_gift_wrap"],
        {"rating_delivery": 80.0, "rating_price": 15.0, "rating_gift_wrap": 5.0},
    )
    plan = sat.improvement_plan(ipa)
    assert plan["attribute"].tolist() == list(ipa.fix_first_list)
    assert plan["priority"].tolist() == list(range(1, len(plan) + 1))
    assert (plan["action"].str.len() > 10).all()

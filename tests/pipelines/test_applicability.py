"""Whether a report applies, from the data's shape: every rule on planted data, at its edge."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data.load import Dataset
from analysis.period import Period
from analysis.pipelines import applicability
from analysis.pipelines.applicability import Reason, has_data_in, reason

PARAMS = {"period": "2025-Q4", "churn": {"min_customers": 50, "lookback_days": 365}}


def _orders(n_customers: int, day: str = "2025-11-15") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n_customers)],
            "customer_id": [f"C{i}" for i in range(n_customers)],
            "order_date": pd.Timestamp(day),
            "amount": 10.0,
            "business_unit": "north",
        }
    )


def _data(orders=None, surveys=None, customers=None) -> Dataset:
    if customers is None:
        ids = [] if orders is None else sorted(set(orders["customer_id"]))
        customers = pd.DataFrame({"customer_id": ids})
    return Dataset(customers=customers, orders=orders, survey_responses=surveys)


def _surveys(**columns) -> pd.DataFrame:
    base = {
        "response_id": ["R1", "R2"],
        "response_date": pd.to_datetime(["2025-10-02", "2025-12-31"]),
        "business_unit": "north",
    }
    return pd.DataFrame({**base, **columns})


@pytest.mark.parametrize("orders", [None, _orders(0)])
def test_reports_of_purchases_need_orders_the_summary_never_fails(orders):
    data = _data(orders, _surveys(nps=[9, 3]))
    for report in ("overview", "value", "segmentation", "churn"):
        assert reason(report, data, PARAMS) == Reason("no_orders")
    assert reason("summary", data, PARAMS) is None
    assert reason("satisfaction", data, PARAMS) is None
    assert reason("a_new_report", data, PARAMS) is None  # not listed: applies


def test_purchases_count_up_to_the_period_end_only():
    later = _orders(80, day="2026-01-01")  # the day after 2025-Q4
    found = reason("value", _data(later), PARAMS)
    assert found == Reason("no_purchases", {"end": "2025-12-31", "first": "2026-01-01"})
    assert reason("overview", _data(later), PARAMS) is None  # it has orders to show
    on_the_last_day = _orders(80, day="2025-12-31")
    assert reason("value", _data(on_the_last_day), PARAMS) is None
    assert reason("value", _data(later), {**PARAMS, "period": None}) is None  # no period


def test_churn_needs_min_customers_who_bought_within_the_lookback():
    assert reason("churn", _data(_orders(50)), PARAMS) is None
    found = reason("churn", _data(_orders(49)), PARAMS)
    assert found == Reason(
        "few_customers", {"n": 49, "minimum": 50, "days": 365, "end": "2025-12-31"}
    )
    # bought 366 days before the period end: outside the lookback, not counted
    old = _orders(60, day="2024-12-31")
    assert reason("churn", _data(old), PARAMS).values["n"] == 0
    assert reason("churn", _data(_orders(60, day="2025-01-01")), PARAMS) is None
    smaller = {**PARAMS, "churn": {"min_customers": 10, "lookback_days": 30}}
    assert reason("churn", _data(_orders(12, day="2025-12-02")), smaller) is None
    assert reason("churn", _data(_orders(12, day="2025-12-01")), smaller).code == "few_customers"


def _contract(churn_date: str | None, churned: bool = True) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C0", "C1"],
            "churned": [churned, False],
            "churn_date": pd.to_datetime([churn_date, None]),
        }
    )


def test_contractual_churn_columns_make_churn_apply_to_few_customers():
    few = _orders(2)
    auto = {**PARAMS, "churn": {**PARAMS["churn"], "definition": "auto"}}
    assert reason("churn", _data(few, customers=_contract("2025-11-30")), auto) is None
    # a churn dated after the period end is not known at the period end
    assert reason("churn", _data(few, customers=_contract("2026-01-05")), auto).code == (
        "few_customers"
    )
    not_churned = _contract("2025-11-30", churned=False)
    assert reason("churn", _data(few, customers=not_churned), auto).code == "few_customers"
    # told to ignore the churn columns, the rule is the purchase one
    assert reason("churn", _data(few, customers=_contract("2025-11-30")), PARAMS).code == (
        "few_customers"
    )


def test_an_explicit_contractual_definition_needs_its_columns():
    told = {**PARAMS, "churn": {**PARAMS["churn"], "definition": "contractual"}}
    assert reason("churn", _data(_orders(60)), told) == Reason(
        "no_contract_churn", {"end": "2025-12-31"}
    )
    assert reason("churn", _data(_orders(2), customers=_contract("2025-12-01")), told) is None


def test_satisfaction_needs_a_survey_with_a_score_up_to_the_period_end():
    orders = _orders(60)
    assert reason("satisfaction", _data(orders), PARAMS) == Reason("no_survey_file")
    empty = _surveys(nps=[9, 3]).iloc[:0]
    assert reason("satisfaction", _data(orders, empty), PARAMS) == Reason(
        "no_responses", {"end": "2025-12-31"}
    )
    later = _surveys(nps=[9, 3]).assign(response_date=pd.Timestamp("2026-01-01"))
    assert reason("satisfaction", _data(orders, later), PARAMS).code == "no_responses"
    no_score = _surveys(comment=["good", "bad"])
    assert reason("satisfaction", _data(orders, no_score), PARAMS) == Reason("no_scores")
    blank = _surveys(nps=[None, None], csat=[None, None])
    assert reason("satisfaction", _data(orders, blank), PARAMS) == Reason("no_scores")
    # any score counts: csat alone, one rating_* column, or a column with a declared scale
    assert reason("satisfaction", _data(orders, _surveys(csat=[None, 4])), PARAMS) is None
    assert reason("satisfaction", _data(orders, _surveys(rating_staff=[7, 9])), PARAMS) is None
    index = _surveys(loyalty_index=[6.5, 8.0])
    assert reason("satisfaction", _data(orders, index), PARAMS) == Reason("no_scores")
    declared = {**PARAMS, "survey": {"scales": {"loyalty_index": [1, 10]}}}
    assert reason("satisfaction", _data(orders, index), declared) is None


def test_the_reason_reads_in_the_report_language():
    found = Reason("few_customers", {"n": 123456, "minimum": 50, "days": 365, "end": "2025-12-31"})
    assert "Only 123,456 customers bought in the 365 days up to 2025-12-31" in found.text("en")
    one, none = (Reason("few_customers", {**found.values, "n": n}) for n in (1, 0))
    assert one.text("en").startswith("Only one customer bought in the 365 days")
    assert none.text("en").startswith("No customer bought in the 365 days")
    assert "只有 1 位客户" in one.text("zh") and "没有任何客户" in none.text("zh")
    assert "12.3万" in found.text("zh") and "2025-12-31" in found.text("zh")
    assert Reason.from_dict(found.to_dict()) == found
    for code in ("no_orders", "no_survey_file", "no_scores"):
        assert Reason(code).text("zh") and Reason(code).text("en")


def test_an_unknown_need_is_an_error_not_a_pass(monkeypatch):
    monkeypatch.setitem(applicability.NEEDS, "value", ("orders", "purchasez"))
    with pytest.raises(ValueError, match="unknown need 'purchasez'"):
        reason("value", _data(_orders(3)), PARAMS)


def test_a_unit_has_data_in_a_period_with_an_order_or_a_response_in_it():
    q4 = Period.parse("2025-Q4")
    assert has_data_in(_data(_orders(1, "2025-12-31")), q4)
    assert not has_data_in(_data(_orders(1, "2026-01-01")), q4)
    assert not has_data_in(_data(_orders(1, "2025-09-30")), q4)
    survey_only = _data(None, _surveys(nps=[9, 3]))
    assert has_data_in(survey_only, q4)
    assert not has_data_in(survey_only, Period.parse("2025-Q3"))
    assert not has_data_in(_data(None), q4)


def test_a_notebook_run_by_hand_shows_the_runners_note(tmp_path, shown):
    """ReportContext.not_applicable: the same reason and blocks as the runner's page."""
    from conftest import report_context

    from analysis.report.render import not_applicable_blocks

    ctx = report_context(tmp_path, _data(_orders(60)), language="zh")
    assert ctx.not_applicable("satisfaction") is True
    expected = [b.data for b in not_applicable_blocks(Reason("no_survey_file").text("zh"), "zh")]
    assert shown == expected and "files.survey_responses" in shown[1]
    shown.clear()
    assert ctx.not_applicable("value") is False and shown == []

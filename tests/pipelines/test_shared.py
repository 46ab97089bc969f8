"""SharedWork's memo of small derived results: computed once per run, unit and date, and
the same answer as without it."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import figures
from analysis.config import load_defaults
from analysis.data.load import Dataset
from analysis.figures import churn_rule, unit_figures
from analysis.period import Period
from analysis.pipelines import shared

Q4 = Period.parse("2025-Q4")


def _data(n_customers: int = 40) -> Dataset:
    rows = []
    for i in range(n_customers):
        for month in range(1 + i % 5, 13, 2 + i % 3):
            rows.append((f"c{i}", pd.Timestamp(2025, month, 1 + i % 27), 10.0 + i))
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    orders["order_id"] = [f"o{i}" for i in range(len(orders))]
    orders["business_unit"] = "retail"
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n_customers)]})
    return Dataset(customers=customers, orders=orders)


def _params(tmp_path, **extra):
    params = load_defaults()
    params["unit"] = "retail"
    params["churn"] = {**params["churn"], "window_days": 45}
    if tmp_path is not None:
        params["cache_dir"] = str(tmp_path / "cache" / "retail")
    params.update(extra)
    return params


@pytest.fixture(autouse=True)
def _empty_memo():
    shared._MEMO.clear()
    yield
    shared._MEMO.clear()


def _counting(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args[1:2])
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_the_churn_rule_is_worked_out_once_per_unit_and_date(tmp_path, monkeypatch):
    calls = _counting(monkeypatch, figures, "_churn_rule")
    data, params = _data(), _params(tmp_path)
    first = churn_rule(data, Q4.end_exclusive, params)
    # a report reads the unit's cached tables afresh: equal tables, new objects
    again = churn_rule(
        Dataset(customers=data.customers.copy(), orders=data.orders.copy()),
        Q4.end_exclusive,
        params,
    )
    assert again is first and len(calls) == 1
    churn_rule(data, Q4.start_ts, params)  # another date
    churn_rule(data, Q4.end_exclusive, {**params, "churn": {**params["churn"], "window_days": 60}})
    assert len(calls) == 3
    # the same answer as without the memo (no cache folder: computed every time)
    plain = churn_rule(data, Q4.end_exclusive, _params(None))
    assert plain == first and len(calls) == 4
    assert first.window_days == 45


def test_a_slice_of_the_data_never_meets_the_units_entry(tmp_path, monkeypatch):
    calls = _counting(monkeypatch, figures, "_churn_rule")
    data, params = _data(), _params(tmp_path)
    churn_rule(data, Q4.end_exclusive, params)
    fewer = Dataset(customers=data.customers, orders=data.orders.iloc[:-5])
    churn_rule(fewer, Q4.end_exclusive, params)
    assert len(calls) == 2


def test_unit_figures_memo_gives_the_computed_figures_and_risk_per_call(tmp_path, monkeypatch):
    calls = _counting(monkeypatch, figures, "_unit_figures")
    data, params = _data(), _params(tmp_path)
    expected = unit_figures(data, Q4, _params(None))  # computed without the memo
    warning = pd.DataFrame(
        {"churn_probability": [0.9, 0.7, 0.2], "value_at_risk": [100.0, 50.0, 10.0]}
    )
    with_risk = unit_figures(data, Q4, params, warning_list=warning)
    without = unit_figures(data, Q4, params)
    assert len(calls) == 2  # the plain call above, then once for the memo
    assert with_risk.current["value_at_risk"] == 150.0  # 0.9 and 0.7 are high risk
    assert with_risk.current["high_risk_customers"] == 2
    assert pd.isna(without.current["value_at_risk"])
    assert with_risk.to_json().keys() == expected.to_json().keys()
    for figure in figures.FIGURE_IDS:
        if figure not in ("value_at_risk", "high_risk_customers"):
            for which in ("current", "previous", "year_ago"):
                a = getattr(expected, which)[figure]
                b = getattr(without, which)[figure]
                assert (pd.isna(a) and pd.isna(b)) or a == b, (figure, which)
    assert without.to_json() == expected.to_json()
    # what one report changes in its copy, the next one does not see
    without.current["net_revenue"] = -1.0
    assert unit_figures(data, Q4, params).current["net_revenue"] == expected.current["net_revenue"]


def test_moving_to_another_unit_drops_what_was_kept_of_the_last(tmp_path, monkeypatch):
    """A kernel runs one unit's reports, then the next unit's: nothing kept for the first
    unit can serve the second, so it is let go; within a unit it stays."""
    calls = _counting(monkeypatch, figures, "_churn_rule")
    data, params = _data(), _params(tmp_path)
    shared._CURRENT[0] = None
    assert shared.enter_unit(params["cache_dir"]) is True
    first = churn_rule(data, Q4.end_exclusive, params)
    assert shared.enter_unit(params["cache_dir"]) is False  # the same unit's next report
    assert churn_rule(data, Q4.end_exclusive, params) is first and len(calls) == 1
    assert shared._MEMO
    other = str(tmp_path / "cache" / "ecommerce")
    assert shared.enter_unit(other) is True
    assert shared._MEMO == {} and shared._RESULTS == {} and shared._SNAPSHOTS == {}
    # coming back computes afresh, to the same answer
    shared.enter_unit(params["cache_dir"])
    again = churn_rule(data, Q4.end_exclusive, params)
    assert again is not first and again == first and len(calls) == 2
    shared._CURRENT[0] = None

"""The unit's business figures on planted data: each definition checked by hand."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.config import load_defaults
from analysis.data.load import Dataset
from analysis.figures import FIGURE_IDS, format_figure, risk_figures, unit_figures
from analysis.i18n import t
from analysis.period import Period

Q4 = Period.parse("2025-Q4")


def _params(**churn):
    params = load_defaults()
    params["churn"] = {**params["churn"], "window_days": 30, **churn}
    params["unit"] = "retail"
    return params


def _orders(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"], format="mixed")
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    frame["business_unit"] = "retail"
    return frame


@pytest.fixture
def planted() -> Dataset:
    orders = _orders(
        [
            ("a", "2025-09-20", 40.0),  # active when Q4 starts, buys in December: stays
            ("a", "2025-12-20", 100.0),
            ("b", "2025-09-25", 60.0),  # active when Q4 starts, silent in December: churned
            ("c", "2025-11-05", 50.0),  # first purchase in Q4: new
            ("d", "2025-01-10", 20.0),  # bought before Q3, not in Q3, back in Q4: reactivated
            ("d", "2025-11-10", 30.0),
            ("e", "2025-06-01", 10.0),  # only a refund in Q4: not active
            ("e", "2025-10-05", -10.0),
        ]
    )
    customers = pd.DataFrame({"customer_id": list("abcde")})
    return Dataset(customers=customers, orders=orders)


def test_planted_figures(planted):
    figures = unit_figures(planted, Q4, _params())
    now = figures.current
    assert now["active_customers"] == 3  # a, c, d
    assert now["new_customers"] == 1  # c
    assert now["reactivated_customers"] == 1  # d
    assert now["churned_customers"] == 1  # b, of the base a, b
    assert now["churn_rate"] == pytest.approx(0.5)
    assert now["retention_rate"] == pytest.approx(0.5)
    assert now["net_revenue"] == pytest.approx(100 + 50 + 30 - 10)
    assert math.isnan(now["nps"]) and math.isnan(now["value_at_risk"])
    assert figures.churn_definition == "noncontractual" and figures.churn_window_days == 30
    # Q3: active a, b; new a, b (first purchases); no reactivation
    assert figures.previous["active_customers"] == 2
    assert figures.previous["new_customers"] == 2


def test_contractual_churn_counts_churn_dates_in_the_period(planted):
    customers = pd.DataFrame(
        {
            "customer_id": list("abcde"),
            "signup_date": pd.to_datetime(["2024-01-01"] * 5),
            "churned": [False, True, True, True, False],
            # b churns in Q4, c before it (not in the base), d after it (not known yet)
            "churn_date": pd.to_datetime([None, "2025-11-15", "2025-08-01", "2026-02-01", None]),
        }
    )
    data = Dataset(customers=customers, orders=planted.orders)
    figures = unit_figures(data, Q4, _params(definition="contractual"))
    assert figures.churn_definition == "contractual"
    assert figures.current["churned_customers"] == 1
    assert figures.current["churn_rate"] == pytest.approx(1 / 4)  # base a, b, d, e


def test_risk_figures_count_only_the_high_risk_customers():
    scored = pd.DataFrame(
        {"churn_probability": [0.7, 0.2, 0.5], "value_at_risk": [70.0, 10.0, 5.0]}
    )
    assert risk_figures(scored, 0.5) == {"value_at_risk": 75.0, "high_risk_customers": 2.0}
    empty = risk_figures(None, 0.5)
    assert all(math.isnan(v) for v in empty.values())


def test_figures_json_is_strict_and_bilingual(planted, tmp_path):
    scored = pd.DataFrame({"churn_probability": [0.9], "value_at_risk": [12.5]})
    figures = unit_figures(planted, Q4, _params(), warning_list=scored)
    path = figures.write(tmp_path / "figures.json")
    data = json.loads(path.read_text(encoding="utf-8"), parse_constant=pytest.fail)
    assert set(FIGURE_IDS) <= set(data)
    assert data["active_customers"]["value"] == 3
    assert data["nps"]["value"] is None  # no answers: null, never NaN
    assert data["value_at_risk"]["value"] == 12.5
    assert data["value_at_risk"]["text_en"] == format_figure(12.5, "money", "en", "$")
    assert data["value_at_risk"]["text_en"].startswith("$1")
    assert data["churned_customers"]["label_en"] == "Churned this period"
    assert data["churned_customers"]["label_zh"] == "本期流失"
    assert "30" in data["churn_rate"]["definition_en"]
    assert data["_meta"]["churn_definition"] == "noncontractual"


def test_one_format_per_kind():
    assert format_figure(1234.0, "count", "en", "$") == "1,234"
    assert format_figure(0.2456, "rate", "en", "$") == "24.6%"
    assert format_figure(-12.34, "points", "en", "$") == "-12.3"
    assert format_figure(np.nan, "money", "en", "$") == "–"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_distinct_concepts_have_distinct_names(language):
    """A lifecycle stage, an RFM segment and a business figure never share a name: "lapsed"
    is not "churned this period", the stage "new" is not the new customers."""
    from analysis.lifecycle import STAGES, stage_label
    from analysis.value import segment_label

    params = load_defaults()
    names = {}
    for figure in FIGURE_IDS:
        names.setdefault(t(f"figures.{figure}.label", language), []).append(figure)
    for stage in STAGES:
        names.setdefault(stage_label(stage, language), []).append(f"stage {stage}")
    for segment in params["value"]["segment_map"]:
        names.setdefault(segment_label(segment, language), []).append(f"segment {segment}")
    shared = {name: owners for name, owners in names.items() if len(owners) > 1}
    assert not shared


def _customers_with_churn(ids):
    return pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": pd.Timestamp("2024-01-01"),
            "churned": [i % 4 == 0 for i in range(len(ids))],
            "churn_date": [
                pd.Timestamp("2025-11-15") if i % 4 == 0 else pd.NaT for i in range(len(ids))
            ],
        }
    )


def test_auto_is_contractual_for_bills_and_noncontractual_for_a_purchase_log(rng):
    ids = [f"c{i}" for i in range(40)]
    months = pd.date_range("2024-01-05", "2025-12-05", freq="MS") + pd.Timedelta(days=4)
    bills = _orders([(c, d.date().isoformat(), 30.0) for c in ids for d in months])
    data = Dataset(customers=_customers_with_churn(ids), orders=bills)
    figures = unit_figures(data, Q4, _params(definition="auto"))
    assert figures.churn_definition == "contractual"
    assert figures.current["churned_customers"] == 10  # the dated churners of Q4
    days = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, 400), unit="D")
    log = _orders([(ids[i % 40], d.date().isoformat(), 20.0) for i, d in enumerate(days)])
    shop = Dataset(customers=_customers_with_churn(ids), orders=log)
    assert unit_figures(shop, Q4, _params(definition="auto")).churn_definition == "noncontractual"
    forced = unit_figures(shop, Q4, _params(definition="contractual"))
    assert forced.churn_definition == "contractual"


def test_a_billed_unit_reads_its_definitions_in_bills():
    """Contractual churn chosen by auto means regular bills: the figures' definitions say
    bills; a purchase log (or contractual churn the user forced) keeps orders."""
    ids = [f"c{i}" for i in range(40)]
    months = pd.date_range("2024-01-05", "2025-12-05", freq="MS") + pd.Timedelta(days=4)
    bills = _orders([(c, d.date().isoformat(), 30.0) for c in ids for d in months])
    data = Dataset(customers=_customers_with_churn(ids), orders=bills)
    billed = unit_figures(data, Q4, _params(definition="auto"))
    assert billed.scheme == "subscription"
    forced = unit_figures(data, Q4, _params(definition="contractual"))
    assert forced.scheme == "transactional"
    for figure in ("active_customers", "new_customers", "reactivated_customers", "net_revenue"):
        for language, word in (("en", "bill"), ("zh", "账单")):
            assert word in billed.definition(figure, language), (figure, language)
            assert word not in forced.definition(figure, language), (figure, language)
        assert "order" not in billed.definition(figure, "en")
    assert billed.to_json()["net_revenue"]["definition_en"] == billed.definition("net_revenue")


def test_survey_only_data_has_no_order_figures_and_still_compares_nps():
    surveys = pd.DataFrame(
        {
            "response_id": [f"r{i}" for i in range(8)],
            "response_date": pd.to_datetime(["2025-08-10"] * 4 + ["2025-11-10"] * 4),
            "business_unit": "retail",
            "customer_id": pd.Series([None] * 8, dtype="string"),
            "nps": [10, 10, 9, 0, 10, 0, 0, 5],
        }
    )
    orders = _orders([]).astype({"amount": "float64"})
    data = Dataset(
        customers=pd.DataFrame({"customer_id": []}), orders=orders, survey_responses=surveys
    )
    figures = unit_figures(data, Q4, _params())
    for figure in ("active_customers", "new_customers", "net_revenue", "churned_customers"):
        assert math.isnan(figures.current[figure]), figure  # unknown, not zero
        assert figures.text(figure) == "–"
    assert figures.current["nps"] == pytest.approx((1 - 3) / 4 * 100)
    assert figures.previous["nps"] == pytest.approx((3 - 1) / 4 * 100)  # Q3 has answers


@pytest.mark.parametrize("shape", ["bills", "log", "later_only"])
def test_the_churn_rule_reads_nothing_on_or_after_its_date(shape, rng):
    """The rule gets the unit's whole orders frame: rows dated on or after its date (here
    an irregular burst after it, or every row) must not change it."""
    from analysis.figures import _churn_rule

    ids = [f"c{i}" for i in range(40)]
    months = pd.date_range("2024-01-05", "2025-12-05", freq="MS") + pd.Timedelta(days=4)
    if shape == "bills":
        rows = [(c, d.date().isoformat(), 30.0) for c in ids for d in months]
    else:
        start = "2026-02-01" if shape == "later_only" else "2024-01-01"
        days = pd.to_datetime(start) + pd.to_timedelta(rng.integers(0, 500, 600), unit="D")
        rows = [(ids[i % 40], d.date().isoformat(), 20.0) for i, d in enumerate(days)]
    end = pd.Timestamp("2026-01-01")
    later = pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.integers(0, 90, 300), unit="h")
    rows += [(ids[i % 40], d.strftime("%Y-%m-%d %H:%M:%S"), 15.0) for i, d in enumerate(later)]
    orders = _orders(rows)
    customers = _customers_with_churn(ids)
    params = _params(definition="auto", window_days=None)
    whole = _churn_rule(Dataset(customers=customers, orders=orders), end, params)
    cut = orders.loc[orders["order_date"] < end].reset_index(drop=True)
    assert whole == _churn_rule(Dataset(customers=customers, orders=cut), end, params)

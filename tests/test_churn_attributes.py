"""churn.attributes: auto picks the customer columns that describe customers in a few groups,
never ids, PII, dates, numbers or what records the churn; the cause model then recovers a
planted attribute effect; an explicit list is checked against the customers table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import report_context

from analysis.churn.design import (
    check_attributes,
    choose_attributes,
    cramers_v,
    leaking_attributes,
)
from analysis.data.load import Dataset
from analysis.errors import ParamsError
from analysis.pipelines import applicability
from analysis.pipelines import churn as pipeline
from analysis.report.views import churn as views

#: Planted: month-to-month customers' odds of leaving in a month are this many times those
#: of one-year customers (region has no effect).
PLANTED_OR = 3.0
END = pd.Timestamp("2026-01-01")  # 2025-Q4: data before this day


def _subscription(rng: np.random.Generator, n: int = 4000) -> Dataset:
    """Monthly bills from sign-up until a churn drawn month by month with the planted odds;
    the customers table carries the attributes a real export has, and some it must not use."""
    contract = rng.choice(["one_year", "month_to_month"], n, p=[0.6, 0.4])
    region = rng.choice(["north", "south", "east", "west"], n)
    base = 0.025
    logit = math.log(base / (1 - base)) + np.where(
        contract == "month_to_month", math.log(PLANTED_OR), 0
    )
    monthly = 1 / (1 + np.exp(-logit))
    signup = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D")
    fee = rng.uniform(20, 90, n).round(2)
    rows, churn_dates = [], []
    for i in range(n):
        gone = pd.NaT
        k = 0
        while True:
            day = signup[i] + pd.DateOffset(months=k)
            if day >= END:
                break
            rows.append((f"C{i:05d}", day, fee[i]))
            if rng.random() < monthly[i]:
                left = day + pd.Timedelta(days=int(rng.integers(1, 28)))
                gone = left if left < END else pd.NaT
                break
            k += 1
        churn_dates.append(gone)
    churned = pd.notna(pd.Series(churn_dates)).to_numpy()
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    orders["order_id"] = [f"B{i:07d}" for i in range(len(orders))]
    orders["business_unit"] = "north"
    orders["status"] = "completed"
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "business_unit": "north",
            "signup_date": signup,
            "contract": contract,
            "region": region,
            "age": rng.integers(18, 80, n).astype(float),  # a number: no automatic attribute
            "customer_ref": [f"REF-{i:06d}" for i in range(n)],  # an id by its values
            "address": rng.choice(["Main St 1", "Park Rd 2", "High St 3"], n),  # PII
            "churned": churned,
            "churn_date": churn_dates,
            "churn_reason": np.where(churned, rng.choice(["price", "service"], n), None),
            "account_status": np.where(churned, "Churned", "Active"),  # the label, in words
            # neutral name and values, but written after the churn: "Z9" only for churners
            "segment_code": np.where(churned, "Z9", rng.choice(["A1", "B2"], n)),
        }
    )
    return Dataset(
        customers=customers.astype({"customer_id": "string"}),
        orders=orders.astype({"customer_id": "string", "status": "string"}),
    )


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(7)
    return _subscription(rng)


def test_auto_selects_the_planted_attribute_and_recovers_its_odds_ratio(planted, tmp_path, shown):
    ctx = report_context(tmp_path, planted, data_end=END - pd.Timedelta(days=1))
    ctx.params["churn"] = {**ctx.params["churn"], "definition": "contractual"}
    assert ctx.params["churn"]["attributes"] == "auto"  # the default
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    assert result.status == "ok" and result.modelled
    choice = result.attributes
    assert choice.auto and set(choice.chosen) == {"contract", "region"}
    # never an id, PII, a number, a date or the structure
    for column, why in {
        "customer_id": "id_like",
        "customer_ref": "id_like",
        "address": "pii",
        "age": "numeric",
        "signup_date": "date",
        "business_unit": "structure",
    }.items():
        assert choice.skipped[column]["reason"] == why, column
    # what records the churn is left out, each for its own reason
    leaks = choice.leaks
    assert leaks["churn_reason"]["reason"] == "outcome"
    assert leaks["account_status"] == {"reason": "outcome_values", "level": "Churned"}
    assert leaks["segment_code"]["reason"] == "pure_level"
    assert leaks["segment_code"]["level"] == "Z9" and leaks["segment_code"]["n"] >= 30
    for frame in (result.score, result.test, result.train, result.fit_frame):
        assert not {"segment_code", "account_status", "churn_reason"} & set(frame.columns)
    assert "segment_code" not in result.final_model.features_
    # the cause model recovers the planted odds ratio within its interval
    table = result.drivers.odds_ratios.set_index("feature")
    row = table.loc["contract[month_to_month]"]
    assert row["ci_low"] <= PLANTED_OR <= row["ci_high"] and row["p_value"] < 0.001
    assert row["ci_low"] > 1.5  # and tells it apart from no effect
    regions = table.loc[[f for f in table.index if f.startswith("region[")]]
    assert ((regions["ci_low"] <= 1) & (regions["ci_high"] >= 1)).sum() >= 2  # noise stays noise
    # the report names the attributes tested and every column left out, with why
    views.drivers_section(ctx, result)
    html = "".join(shown)
    assert "Customer attributes tested, chosen from the customers table" in html
    assert "Contract" in html and "Region" in html
    assert "Segment code (all" in html and "&#x27;Z9&#x27; churned" in html.replace("'", "&#x27;")
    assert "Account status (its value" in html and "Churn reason (its name says" in html
    assert "Customer ref" not in html and "Address" not in html
    zh = " ".join(choice.sentences("zh"))
    assert "Segment code（“Z9”的" in zh and "全部流失" in zh  # the Chinese sentence, its brackets


def test_an_explicit_list_is_used_as_it_is(planted, tmp_path):
    ctx = report_context(tmp_path, planted, data_end=END - pd.Timedelta(days=1))
    ctx.params["churn"] = {
        **ctx.params["churn"],
        "definition": "contractual",
        "attributes": ["region"],
    }
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    assert result.attributes.chosen == ("region",) and not result.attributes.auto
    assert "contract" not in result.fit_frame.columns and "region" in result.fit_frame.columns
    assert result.attributes.sentences("en") == []  # nothing to say about a list


def test_cramers_v_equals_the_chi_square_definition(rng):
    from scipy.stats import chi2_contingency

    values = pd.Series(rng.choice(["a", "b", "c"], 500))
    y = rng.random(500) < np.where(values == "a", 0.6, 0.2)
    chi2 = chi2_contingency(pd.crosstab(values, y), correction=False)[0]
    assert cramers_v(values, y) == pytest.approx(math.sqrt(chi2 / 500))
    assert cramers_v(pd.Series(np.where(y, "x", "z")), y) == pytest.approx(1.0)
    assert cramers_v(pd.Series(["same"] * 500), y) == 0.0


def test_leaks_found_on_the_label_and_a_strong_real_effect_kept(rng):
    n = 2000
    y = rng.random(n) < 0.2
    frame = pd.DataFrame(
        {
            # a strong but honest attribute: churn 45% vs 8%
            "contract": np.where(rng.random(n) < 0.3, "monthly", "yearly"),
            # equal to the label but for 2% of rows: no pure level, V about 0.95
            "flag": np.where(y ^ (rng.random(n) < 0.02), "x", "y"),
            "churned": y,
        }
    )
    frame["churned"] = rng.random(n) < np.where(frame["contract"] == "monthly", 0.45, 0.08)
    frame["flag"] = np.where(frame["churned"] ^ (rng.random(n) < 0.02), "x", "y")
    frame["tiny"] = np.where(frame["churned"] & (np.arange(n) < 200), "gone", "kept")
    found = leaking_attributes(frame, ["contract", "flag", "tiny"])
    assert "contract" not in found
    assert found["flag"]["reason"] == "association" and found["flag"]["v"] >= 0.9
    assert found["tiny"]["reason"] == "pure_level" and found["tiny"]["level"] == "gone"
    # a pure level needs at least 30 customers: 20 churners of a level are chance
    small = frame.assign(tiny=np.where(frame["churned"] & (np.arange(n) < 60), "gone", "kept"))
    assert (small["tiny"] == "gone").sum() < 30
    assert "tiny" not in leaking_attributes(small, ["tiny"])


def test_auto_choice_rules_on_a_telco_like_export(rng):
    n = 600
    customers = pd.DataFrame(
        {
            "customer_id": [f"{i:04d}-ABCD" for i in range(n)],
            "gender": rng.choice(["Female", "Male"], n),
            "SeniorCitizen": rng.choice([0, 1], n),  # a 0/1 flag is a category
            "Partner": rng.choice([True, False], n),
            "Contract": rng.choice(["Month-to-month", "One year", "Two year"], n),
            "PaymentMethod": rng.choice(["Electronic check", "Mailed check", "Card"], n),
            "MonthlyCharges": rng.uniform(20, 100, n),  # a number
            "tenure": rng.integers(0, 72, n),  # measured at the export date
            "TotalCharges": rng.uniform(20, 7000, n).round(2).astype(str),  # numbers as text
            "tenure_group": rng.choice(["0-12", "13-24", "25+"], n),  # tenure, in bands
            "Status": rng.choice(["Active", "Cancelled"], n),  # churn words
            "City": [f"city{i % 40}" for i in range(n)],  # 40 levels: too many
            "Plan": np.r_[["rare"] * 5, rng.choice(["a", "b"], n - 5)],  # 5 rare: pooled
            "last_seen": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
            "signup_month": rng.choice(["2024-01", "2024-02", "2024-03"], n),
            "phone": rng.choice(["yes", "no"], n),  # PII by the contract, whatever it holds
        }
    )
    choice = choose_attributes(customers)
    assert choice.chosen == (
        "gender",
        "SeniorCitizen",
        "Partner",
        "Contract",
        "PaymentMethod",
        "Plan",
    )
    reasons = {c: v["reason"] for c, v in choice.skipped.items()}
    assert reasons == {
        "customer_id": "id_like",
        "MonthlyCharges": "numeric",
        "tenure": "export_date",
        "TotalCharges": "export_date",
        "tenure_group": "export_date",
        "Status": "outcome_values",
        "City": "too_many_levels",
        "last_seen": "date",
        "signup_month": "date",
        "phone": "pii",
    }
    # small levels (under 10 customers) holding more than 5% of the customers: no attribute
    scattered = np.r_[[f"r{i}" for i in range(8) for _ in range(5)], rng.choice(["a", "b"], n - 40)]
    assert choose_attributes(customers.assign(Plan=scattered)).skipped["Plan"] == {
        "reason": "small_levels"
    }
    assert choose_attributes(None).chosen == ()


def test_an_explicit_list_naming_unknown_or_pii_columns_is_refused():
    customers = pd.DataFrame({"customer_id": ["a"], "Contract": ["x"], "email": ["e"]})
    assert check_attributes(["Contract", "Contract"], customers) == ["Contract"]
    with pytest.raises(ParamsError, match=r"'churn.attributes' names column\(s\) 'contract'"):
        check_attributes(["contract"], customers)
    with pytest.raises(ParamsError, match="the customers table has customer_id, Contract"):
        check_attributes(["Plan"], customers)
    with pytest.raises(ParamsError, match="there is no customers table"):
        check_attributes(["Plan"], None)
    with pytest.raises(ParamsError, match="personal data column\\(s\\) 'email'"):
        check_attributes(["email"], customers)
    with pytest.raises(ParamsError, match="must be auto or a list"):
        choose_attributes(customers, "everything")


def test_unknown_attributes_stop_validate_and_run_with_exit_code_2(tiny_dir, tmp_path):
    from analysis.cli import main

    for command in ("validate", "run"):
        extra = ["--output", str(tmp_path / "out")] if command == "run" else []
        result = CliRunner().invoke(
            main,
            [
                command,
                "--data-dir",
                str(tiny_dir),
                "--period",
                "2025-Q3",
                "--reports",
                "churn",
                "--set",
                "churn.attributes=[region, contract_type]",
                "--set",
                "quality.today=2026-06-30",
                *extra,
            ],
        )
        assert result.exit_code == 2, (command, result.output)
        assert "parameter 'churn.attributes'" in result.output
        assert "'contract_type'" in result.output and "Traceback" not in result.output


def test_applicability_checks_the_list_only_for_the_churn_report():
    customers = pd.DataFrame({"customer_id": ["a"], "region": ["x"]})
    orders = pd.DataFrame(
        {
            "order_id": ["o"],
            "customer_id": ["a"],
            "order_date": pd.to_datetime(["2025-01-01"]),
            "amount": [1.0],
            "business_unit": ["u"],
        }
    )
    data = Dataset(customers=customers, orders=orders)
    params = {"churn": {"attributes": ["nope"], "min_customers": 1, "definition": "noncontractual"}}
    assert applicability.reason("value", data, params) is None
    with pytest.raises(ParamsError, match="'nope'"):
        applicability.reason("churn", data, params)
    assert (
        applicability.reason("churn", data, {"churn": {**params["churn"], "attributes": "auto"}})
        is None
    )


def test_the_subscription_sample_tests_its_contract_and_payment_method(tmp_path):
    """``segreport sample --shape subscription``: with no attribute listed, the planted
    contract and payment-method effects (truth.json ``churn_hazard``) are found."""
    import json

    from analysis.config import load_params
    from analysis.data.load import load_dataset
    from analysis.data.shapes import write_shape

    folder = write_shape(tmp_path / "sub", "subscription", n_customers=6000)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))["churn_hazard"]
    params = load_params(overrides={"data_dir": str(folder), "quality": {"today": "2026-06-30"}})
    data = load_dataset(params).for_unit("telecom")
    ctx = report_context(tmp_path, data, unit="telecom", data_end=END - pd.Timedelta(days=1))
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    assert result.definition == "contractual" and result.modelled
    assert {"contract", "payment_method", "plan"} <= set(result.attributes.chosen)
    assert {"tenure_months", "total_charges", "churn_reason"} <= set(result.attributes.leaks)
    table = result.drivers.odds_ratios.set_index("feature")
    # month-to-month against two-year: the planted monthly log-odds differ by 1.3 + 0.9
    planted = math.exp(truth["contract_month_to_month"] - truth["contract_two_year"])
    reference = result.drivers.summary.set_index("feature")
    if "contract[month_to_month]" in table.index:
        assert reference.loc["contract[month_to_month]", "reference"] == "two_year"
        row = table.loc["contract[month_to_month]"]
        assert row["ci_low"] <= planted <= row["ci_high"]
    else:  # month-to-month is the reference level: two-year is the inverse
        row = table.loc["contract[two_year]"]
        assert row["ci_low"] <= 1 / planted <= row["ci_high"]
    electronic = [f for f in table.index if f.startswith("payment_method[")]
    assert electronic and (table.loc[electronic, "p_value"] < 0.05).any()

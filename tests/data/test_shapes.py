"""The sample in every shape: deterministic, the documented tables, and a truth that holds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.data.billing import add_months
from analysis.data.shapes import SHAPES, write_shape
from analysis.errors import ParamsError

N = 600


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    return {s: write_shape(root / s, s, n_customers=N, seed=5) for s in SHAPES}


def _read(folder, table):
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("shape", SHAPES)
def test_same_seed_gives_byte_identical_files(tmp_path, shape):
    a = write_shape(tmp_path / "a", shape, n_customers=N, seed=5)
    b = write_shape(tmp_path / "b", shape, n_customers=N, seed=5)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    c = write_shape(tmp_path / "c", shape, n_customers=N, seed=6)
    assert (c / "truth.json").read_bytes() != (a / "truth.json").read_bytes()


@pytest.mark.parametrize(
    ("shape", "tables"),
    [
        ("transactional", {"customers", "orders", "survey_responses", "interactions"}),
        ("orders-only", {"orders"}),
        ("survey-only", {"survey_responses"}),
        ("subscription", {"customers", "orders", "interactions"}),
    ],
)
def test_each_shape_writes_its_tables_and_says_so(shapes, shape, tables):
    folder = shapes[shape]
    written = {p.name.removesuffix(".csv") for p in folder.glob("*.csv")}
    assert written == tables
    truth = json.loads((folder / "truth.json").read_text())
    assert truth["shape"]["name"] == shape
    assert set(truth["shape"]["tables"]) == tables
    for table in tables:
        assert len(_read(folder, table)) == truth["row_counts"][table]


def test_survey_only_has_no_response_ids(shapes):
    frame = _read(shapes["survey-only"], "survey_responses")
    assert "response_id" not in frame.columns
    truth = json.loads((shapes["survey-only"] / "truth.json").read_text())
    assert truth["shape"]["generated_response_ids"] == len(frame)
    assert truth["nps_drop"]["unit"] == "ecommerce"


def test_subscription_bills_follow_the_documented_rule(shapes):
    folder = shapes["subscription"]
    customers = _read(folder, "customers").set_index("customer_id")
    orders = _read(folder, "orders")
    # one line per month of tenure, dated signup + k months, amount = monthly charge
    per_customer = orders.groupby("customer_id").size()
    tenure = customers["tenure_months"].astype(int)
    assert per_customer.reindex(tenure.index, fill_value=0).equals(tenure)
    k = orders["order_id"].str.rsplit("-", n=1).str[1].astype(int) - 1
    signup = customers.loc[orders["customer_id"], "signup_date"].to_numpy(dtype="datetime64[D]")
    expected = add_months(signup, k.to_numpy())
    assert (orders["order_date"].to_numpy(dtype="datetime64[D]") == expected).all()
    monthly = customers.loc[orders["customer_id"], "monthly_charges"].astype(float).to_numpy()
    assert np.allclose(orders["amount"].astype(float), monthly)
    # a churner's last bill is in the month before they left; nobody is billed after
    churned = customers["churned"] == "true"
    last = pd.to_datetime(orders.groupby("customer_id")["order_date"].max())
    leave = pd.to_datetime(customers.loc[churned, "churn_date"])
    gap = (leave - last.reindex(leave.index)).dt.days
    assert (gap > 0).all() and (gap <= 31).all()
    assert pd.to_datetime(orders["order_date"]).max() <= pd.Timestamp("2025-12-31")


def test_subscription_truth_counts_the_churners(shapes):
    folder = shapes["subscription"]
    truth = json.loads((folder / "truth.json").read_text())
    customers = _read(folder, "customers")
    churn = pd.to_datetime(customers["churn_date"].replace("", None))
    by_quarter = churn.dropna().dt.to_period("Q").astype(str).str.replace("Q", "-Q")
    assert by_quarter.value_counts().to_dict() == truth["churned_by_quarter"]
    assert truth["churned_customers"] == int((customers["churned"] == "true").sum())
    assert truth["active_at_end"] + truth["churned_customers"] == N


def test_subscription_churn_drivers_are_recovered(tmp_path):
    """A discrete-time logit on the customer-months recovers the planted effects' signs."""
    folder = write_shape(tmp_path / "sub", "subscription", n_customers=4000, seed=11)
    customers = _read(folder, "customers")
    months = customers["tenure_months"].astype(int).to_numpy()
    rows = np.repeat(np.arange(len(customers)), months)
    last = np.cumsum(months) - 1
    event = np.zeros(len(rows))
    event[last[(customers["churned"] == "true").to_numpy() & (months > 0)]] = 1
    complaints = pd.read_csv(folder / "interactions.csv").query("type == 'complaint'")
    per_year = complaints.groupby("customer_id").size().reindex(customers["customer_id"])
    per_year = per_year.fillna(0).to_numpy() / np.maximum(months, 1) * 12
    x = pd.DataFrame(
        {
            "m2m": (customers["contract"] == "month_to_month").to_numpy()[rows],
            "two_year": (customers["contract"] == "two_year").to_numpy()[rows],
            "echeck": (customers["payment_method"] == "electronic_check").to_numpy()[rows],
            "charges10": customers["monthly_charges"].astype(float).to_numpy()[rows] / 10,
            "complaints": per_year[rows],
        }
    ).astype(float)
    fit = sm.Logit(event, sm.add_constant(x)).fit(disp=0)
    assert fit.params["m2m"] > 0.8 and fit.params["two_year"] < -0.3
    assert fit.params["echeck"] > 0.2 and fit.params["charges10"] > 0.03
    assert fit.params["complaints"] > 0.1


def test_unknown_shape_is_refused(tmp_path):
    with pytest.raises(ParamsError, match="shape must be one of"):
        write_shape(tmp_path / "x", "hourly")

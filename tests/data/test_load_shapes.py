"""Every shape of export loads: orders-only, survey-only, subscription (billing lines, or
derived from one row per customer), a mix per unit; files found by table name; ids made
from the row order; optional columns truly optional."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import tiny_tables, write_tables

from analysis.cli import main
from analysis.data import load_dataset
from analysis.data.billing import add_months, derive_billing, months_before
from analysis.data.load import empty_orders
from analysis.data.shapes import write_shape
from analysis.errors import DataError

N = 500


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def shape_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("shape_load")
    return {
        s: write_shape(root / s, s, n_customers=N, seed=9)
        for s in ("transactional", "orders-only", "survey-only", "subscription")
    }


def _truth(folder):
    return json.loads((folder / "truth.json").read_text())


# ---- the sample shapes through the loader and through validate ----------------------------
@pytest.mark.parametrize("shape", ["transactional", "orders-only", "survey-only", "subscription"])
def test_every_sample_shape_validates(shape_dirs, shape):
    result = invoke("validate", "--data-dir", str(shape_dirs[shape]))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    # the period is the latest complete one in the data (survey-only: by response dates)
    expected = "2025-Q3" if shape == "survey-only" else "2025-Q4"
    assert f"period {expected}" in result.output


def test_orders_only_derives_the_customers(shape_dirs, params_for):
    folder = shape_dirs["orders-only"]
    data = load_dataset(params_for(folder))
    assert data.survey_responses is None and data.interactions is None
    assert len(data.customers) == _truth(folder)["shape"]["derived_customers"]
    assert {"key": "quality.note.derived_customers"} in data.quality.notes
    assert data.units == sorted(_truth(folder)["units"])


def test_survey_only_loads_with_empty_orders_and_row_ids(shape_dirs, params_for):
    folder = shape_dirs["survey-only"]
    data = load_dataset(params_for(folder))
    truth = _truth(folder)
    # the orders table exists, empty, with the clean contract's columns and dtypes
    assert data.orders.empty
    assert data.orders.dtypes.to_dict() == empty_orders().dtypes.to_dict()
    assert data.customers.empty and "customer_id" in data.customers
    # every response got an id from its row, counted once per row
    surveys = data.survey_responses
    assert (
        data.quality.count("missing_id", "survey_responses")
        == truth["shape"]["generated_response_ids"]
    )
    assert surveys["response_id"].is_unique
    assert surveys["response_id"].iloc[0] == "generated-1"
    assert {"key": "quality.note.no_orders"} in data.quality.notes
    # units and the data date come from the responses
    assert data.units == sorted(truth["units"])
    assert data.data_end == surveys["response_date"].max().normalize()
    assert data.for_unit("ecommerce").orders.empty


def test_row_order_ids_are_stable_and_keep_identical_answers(tmp_path, params_for):
    surveys = pd.DataFrame(
        {
            "response_date": ["2025-01-05", "2025-01-05", "2025-01-06", "not a date"],
            "business_unit": ["north"] * 4,
            "nps": [9, 9, 3, 5],
        }
    )
    folder = write_tables(tmp_path / "s", {"survey_responses": surveys})
    params = params_for(folder, files={"orders": None})
    data = load_dataset(params)
    # two respondents answering alike are both kept; the unreadable date is removed,
    # and the ids stay those of their rows
    assert data.survey_responses["response_id"].tolist() == [
        "generated-1",
        "generated-2",
        "generated-3",
    ]
    assert data.quality.count("duplicate_rows") == 0
    assert data.quality.count("missing_id") == 3
    assert load_dataset(params).survey_responses.equals(data.survey_responses)


def test_survey_without_csat_loads_and_features_skip_satisfaction(tmp_path, params_for):
    tables = tiny_tables()
    tables["survey_responses"] = pd.DataFrame(
        {
            "response_id": ["S1", "S2", "S3"],
            "response_date": ["2025-01-05", "2025-02-06", "2025-03-01"],
            "business_unit": ["north"] * 3,
            "customer_id": ["C0001", "C0002", ""],
            "nps": [10, 2, 7],
        }
    )
    folder = write_tables(tmp_path / "d", tables)
    assert invoke("validate", "--data-dir", str(folder)).exit_code == 0
    data = load_dataset(params_for(folder))
    from analysis.features import customer_features

    feats = customer_features(data.orders, "2025-06-01", surveys=data.survey_responses)
    assert "satisfaction" not in feats  # no csat: no feature, no error
    by_nps = customer_features(
        data.orders, "2025-06-01", surveys=data.survey_responses, satisfaction_col="nps"
    )
    assert by_nps.loc["C0001", "satisfaction"] == 10 and by_nps.loc["C0002", "satisfaction"] == 2


# ---- subscription: billing lines derived from one row per customer ------------------------
def test_derived_billing_reproduces_the_samples_billing_lines(shape_dirs, params_for):
    folder = shape_dirs["subscription"]
    written = load_dataset(params_for(folder))
    derived = load_dataset(params_for(folder, files={"orders": None}))
    cols = ["order_id", "customer_id", "order_date", "amount", "business_unit"]
    a = written.orders[cols].sort_values("order_id").reset_index(drop=True)
    b = derived.orders[cols].sort_values("order_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    note = next(n for n in derived.quality.notes if n["key"] == "quality.note.derived_billing")
    assert note["lines"] == f"{_truth(folder)['billing_lines']:,}"
    assert note["data_date"] == "2025-12-31"  # the latest date in the data
    assert written.units == derived.units == ["telecom"]


def test_telco_style_export_gets_one_bill_per_month_of_tenure(tmp_path, params_for):
    """A one-row-per-customer export with no dates at all (IBM Telco): lines end at the
    data date, churners without a date left on it, sign-up is set from the tenure."""
    export = pd.DataFrame(
        {
            "customerID": ["7590-VHVEG", "5575-GNVDE", "3668-QPYBK", "9999-ZERO"],
            "tenure": ["1", "34", "2", "0"],
            "MonthlyCharges": ["29.85", "56.95", "53.85", "20.00"],
            "TotalCharges": ["29.85", "1889.5", "108.15", " "],
            "Churn": ["No", "No", "Yes", "No"],
            "Contract": ["Month-to-month", "One year", "Month-to-month", "Two year"],
        }
    )
    folder = write_tables(tmp_path / "telco", {"telco": export})
    params = params_for(
        folder,
        files={"customers": "telco.csv", "orders": None},
        columns={
            "customers": {
                "customer_id": "customerID",
                "business_unit": {"value": "telco"},
                "tenure_months": "tenure",
                "monthly_charges": "MonthlyCharges",
                "total_charges": "TotalCharges",
                "churned": "Churn",
            }
        },
        subscription={"data_date": "2024-06-30"},
    )
    data = load_dataset(params)
    lines = data.orders.groupby("customer_id").size()
    assert lines.to_dict() == {"7590-VHVEG": 1, "5575-GNVDE": 34, "3668-QPYBK": 2}
    cust = data.customers.set_index("customer_id")
    # the churner left on the data date; their two months end there
    assert cust.loc["3668-QPYBK", "churn_date"] == pd.Timestamp("2024-06-30")
    bills = data.orders.loc[data.orders["customer_id"] == "3668-QPYBK", "order_date"]
    assert bills.tolist() == [pd.Timestamp("2024-04-30"), pd.Timestamp("2024-05-30")]
    # an active customer's 34 months end with the data date: 2021-09-01 to 2024-06-30
    assert cust.loc["5575-GNVDE", "signup_date"] == pd.Timestamp("2021-09-01")
    assert data.orders.loc[data.orders["customer_id"] == "5575-GNVDE", "order_date"].max() == (
        pd.Timestamp("2024-06-01")
    )
    assert (data.orders["amount"] == data.orders["customer_id"].map(cust["monthly_charges"])).all()
    assert "9999-ZERO" in cust.index  # tenure 0: a customer without bills
    note = next(n for n in data.quality.notes if n["key"] == "quality.note.derived_billing")
    assert (note["lines"], note["without_lines"], note["churn_date_set"]) == ("37", "1", "1")


def test_export_without_any_date_needs_the_data_date(tmp_path, params_for):
    export = pd.DataFrame({"id": ["A", "B"], "tenure": [3, 4], "fee": [10, 12], "unit": "t"})
    folder = write_tables(tmp_path / "nodate", {"customers": export})
    params = params_for(
        folder,
        files={"orders": None},
        columns={
            "customers": {
                "customer_id": "id",
                "tenure_months": "tenure",
                "monthly_charges": "fee",
                "business_unit": "unit",
            }
        },
    )
    with pytest.raises(DataError, match="subscription.data_date") as info:
        load_dataset(params)
    assert "customers.csv" in str(info.value) and "tenure_months" in str(info.value)
    result = invoke("validate", "--data-dir", str(folder), "--set", "files.orders=null")
    assert result.exit_code == 2


def test_mlc_style_export_without_ids_gets_ids_from_rows(tmp_path, params_for):
    """MLC++ churn files have no customer id and charges spread over columns."""
    export = pd.DataFrame(
        {
            "Account length": ["3", "5", "3"],
            "Total day charge": ["10.0", "20.0", "10.0"],
            "Total eve charge": ["5.0", "1.5", "5.0"],
            "Churn": ["False", "True", "False"],
        }
    )
    folder = write_tables(tmp_path / "mlc", {"customers": export})
    params = params_for(
        folder,
        files={"orders": None},
        columns={
            "customers": {
                "tenure_months": "Account length",
                "monthly_charges": {"expr": "`Total day charge` + `Total eve charge`"},
                "churned": "Churn",
                "business_unit": {"value": "mobile"},
            }
        },
        subscription={"data_date": "2024-12-31"},
    )
    data = load_dataset(params)
    # rows 1 and 3 are alike but are two customers: both kept, ids from the row order
    assert data.customers["customer_id"].tolist() == ["generated-1", "generated-2", "generated-3"]
    assert data.quality.count("missing_id", "customers") == 3
    assert len(data.orders) == 11
    assert data.orders.groupby("customer_id")["amount"].first().tolist() == [15.0, 21.5, 15.0]


def test_billing_rule_helpers_match_pandas_dateoffset(rng):
    start = pd.to_datetime("2019-01-01") + pd.to_timedelta(rng.integers(0, 2500, 300), "D")
    months = rng.integers(-30, 30, 300)
    ours = add_months(start.to_numpy(dtype="datetime64[D]"), months)
    theirs = [s + pd.DateOffset(months=int(m)) for s, m in zip(start, months, strict=True)]
    assert (pd.to_datetime(ours) == pd.DatetimeIndex(theirs)).all()
    ends = start + pd.to_timedelta(rng.integers(0, 900, 300), "D")
    counted = months_before(start.to_numpy(dtype="datetime64[D]"), ends.to_numpy("datetime64[D]"))
    brute = [
        sum(1 for k in range(40) if s + pd.DateOffset(months=k) < e)
        for s, e in zip(start, ends, strict=True)
    ]
    assert counted.tolist() == brute


def test_derive_billing_names_what_is_missing():
    customers = pd.DataFrame({"customer_id": ["A"], "business_unit": ["x"], "tenure_months": [2]})
    with pytest.raises(DataError, match="monthly_charges"):
        derive_billing(customers, data_date=pd.Timestamp("2025-01-01"))
    with pytest.raises(DataError, match="business unit"):
        derive_billing(
            customers.drop(columns="business_unit").assign(monthly_charges=1.0),
            data_date=pd.Timestamp("2025-01-01"),
        )


# ---- mixes, file discovery, parquet round trip -------------------------------------------
def test_a_mix_per_unit_orders_here_surveys_only_there(tmp_path, params_for):
    tables = tiny_tables()
    tables["survey_responses"] = pd.DataFrame(
        {
            "response_id": [f"S{i}" for i in range(6)],
            "response_date": ["2025-11-0" + str(i + 1) for i in range(6)],
            "business_unit": ["west"] * 6,  # a unit with surveys only
            "nps": [10, 9, 8, 7, 3, 0],
        }
    )
    folder = write_tables(tmp_path / "mix", tables)
    data = load_dataset(params_for(folder))
    assert data.units == ["north", "south", "west"]
    west = data.for_unit("west")
    assert west.orders.empty and len(west.survey_responses) == 6
    result = invoke(
        "validate", "--data-dir", str(folder), "--period", "2025-Q4", "--set",
        "quality.today=2026-06-30",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "west/satisfaction: will run" in result.output


def test_subscription_units_beside_transactional_ones(tmp_path, params_for):
    """billing: derive adds lines for customers with tenure and no orders (a mix)."""
    tables = tiny_tables(n_customers=20, n_orders=100)
    subs = pd.DataFrame(
        {
            "customer_id": ["T1", "T2"],
            "business_unit": ["telecom", "telecom"],
            "tenure_months": [3, 5],
            "monthly_charges": [10.0, 20.0],
            "signup_date": ["2025-01-15", "2024-12-01"],
        }
    )
    tables["customers"] = pd.concat([tables["customers"], subs], ignore_index=True)
    folder = write_tables(tmp_path / "mixsub", tables)
    data = load_dataset(params_for(folder, subscription={"billing": "derive"}))
    assert data.units == ["north", "south", "telecom"]
    telecom = data.orders.loc[data.orders["business_unit"] == "telecom"]
    assert telecom.groupby("customer_id").size().to_dict() == {"T1": 3, "T2": 5}
    assert len(data.orders) == 100 + 8
    assert not load_dataset(params_for(folder)).orders["business_unit"].eq("telecom").any()


@pytest.mark.parametrize("suffix", [".csv.gz", ".parquet", ".xlsx", ".tsv"])
def test_tables_are_found_by_name_with_any_extension(tmp_path, params_for, suffix):
    tables = tiny_tables(n_customers=30, n_orders=200)
    folder = tmp_path / "ext"
    folder.mkdir()
    for name, frame in tables.items():
        path = folder / f"{name}{suffix}"
        if suffix == ".parquet":
            frame.to_parquet(path)
        elif suffix == ".xlsx":
            frame.to_excel(path, index=False)
        else:
            frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    data = load_dataset(params_for(folder))
    assert len(data.orders) == 200 and len(data.customers) == 30


def test_two_candidate_files_are_an_error_naming_both(tmp_path, params_for):
    folder = write_tables(tmp_path / "two", tiny_tables())
    tiny_tables()["orders"].to_parquet(folder / "orders.parquet")
    with pytest.raises(DataError, match=r"orders.csv, orders.parquet"):
        load_dataset(params_for(folder))


def test_a_named_file_that_is_missing_is_fatal(tmp_path, params_for):
    folder = write_tables(tmp_path / "named", tiny_tables())
    with pytest.raises(DataError, match="does not exist") as info:
        load_dataset(params_for(folder, files={"survey_responses": "answers.csv"}))
    assert "answers.csv" in str(info.value)


def test_no_orders_and_no_surveys_is_fatal(tmp_path, params_for):
    folder = write_tables(tmp_path / "cust", {"customers": tiny_tables()["customers"]})
    with pytest.raises(DataError, match="no orders and no survey responses"):
        load_dataset(params_for(folder))


def test_sample_parquet_runs_without_a_params_file(tmp_path):
    """segreport sample --format parquet is found by validate/run --data-dir as it is."""
    folder = tmp_path / "pq"
    assert invoke("sample", "--out", str(folder), "--format", "parquet", "--customers", "300")
    result = invoke("validate", "--data-dir", str(folder))
    assert result.exit_code == 0, result.output
    csv = tmp_path / "csv"
    invoke("sample", "--out", str(csv), "--customers", "300")
    a = invoke("validate", "--data-dir", str(csv)).output
    assert result.output.splitlines()[:6] == a.splitlines()[:6]  # same rows, same repairs
    assert not list(folder.glob("*.csv")) and list(folder.glob("orders.parquet"))


def test_loaded_shapes_keep_their_numbers_in_unit_slices(shape_dirs, params_for):
    data = load_dataset(params_for(shape_dirs["subscription"]))
    truth = _truth(shape_dirs["subscription"])
    churned = data.customers["churn_date"].dropna()
    quarters = churned.dt.to_period("Q").astype(str).str.replace("Q", "-Q").value_counts()
    assert quarters.to_dict() == truth["churned_by_quarter"]
    assert np.isclose(
        data.orders["amount"].sum(), pd.read_csv(shape_dirs["subscription"] / "orders.csv")[
            "amount"
        ].sum()
    )  # fmt: skip


@pytest.mark.parametrize(
    ("example", "file", "frame"),
    [
        (
            "telco.yaml",
            "WA_Fn-UseC_-Telco-Customer-Churn.csv",
            pd.DataFrame(
                {
                    "customerID": ["7590-VHVEG", "3668-QPYBK", "1452-KIOVK"],
                    "tenure": ["1", "2", "0"],
                    "Contract": ["Month-to-month", "One year", "Two year"],
                    "PaymentMethod": ["Electronic check", "Mailed check", "Credit card"],
                    "InternetService": ["DSL", "DSL", "No"],
                    "MonthlyCharges": ["29.85", "53.85", "19.70"],
                    "TotalCharges": ["29.85", "108.15", " "],
                    "Churn": ["No", "Yes", "No"],
                }
            ),
        ),
        (
            "mlc_churn.yaml",
            "churn-bigml-80.csv",
            pd.DataFrame(
                {
                    "State": ["KS", "OH"],
                    "Account length": ["128", "107"],
                    "International plan": ["No", "No"],
                    "Voice mail plan": ["Yes", "Yes"],
                    "Total day charge": ["45.07", "27.47"],
                    "Total eve charge": ["16.78", "16.62"],
                    "Total night charge": ["11.01", "11.45"],
                    "Total intl charge": ["2.7", "3.7"],
                    "Churn": ["False", "True"],
                }
            ),
        ),
    ],
)
def test_subscription_examples_load_their_exports(tmp_path, example, file, frame):
    from conftest import ROOT

    from analysis.config import load_params

    folder = tmp_path / "export"
    folder.mkdir()
    frame.to_csv(folder / file, index=False)
    params = load_params(
        params_file=ROOT / "params" / "examples" / example,
        overrides={"data_dir": str(folder), "quality": {"today": "2026-06-30"}},
    )
    data = load_dataset(params)
    months = pd.to_numeric(frame.iloc[:, 1] if example == "telco.yaml" else frame["Account length"])
    assert len(data.orders) == int(months.sum())
    assert len(data.customers) == len(frame)
    assert data.customers["churn_date"].notna().sum() == 1  # the churner left on the data date

import pandas as pd
import pytest

from analysis.data import schema
from analysis.errors import DataError, ParamsError

RAW = pd.DataFrame(
    {
        "InvoiceNo": ["536365", "C536379", "536366"],
        "Quantity": ["6", "-1", "2"],
        "Unit Price": ["2.55", "27.50", "1.85"],
        "Country": ["UK", "UK", "France"],
    }
)


def test_mapping_renames_derives_and_keeps_unmapped_columns():
    mapping = {
        "order_id": "InvoiceNo",
        "amount": {"expr": "Quantity * `Unit Price`"},
        "status": {"column": "InvoiceNo", "startswith": {"C": "cancelled"}, "default": "completed"},
        "business_unit": {"column": "Country", "map": {"UK": "uk"}, "default": "export"},
        "channel": {"value": "web"},
    }
    out = schema.apply_mapping(RAW, mapping, table="orders", file="retail.csv")
    assert out["amount"].round(2).tolist() == [15.3, -27.5, 3.7]
    assert out["status"].tolist() == ["completed", "cancelled", "completed"]
    assert out["business_unit"].tolist() == ["uk", "uk", "export"]
    assert out["channel"].tolist() == ["web"] * 3
    assert "Quantity" not in out.columns and "InvoiceNo" not in out.columns


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os')",
        "Quantity.real",
        "open('x')",
        "Quantity if 1 else 2",
        "'text'",
        "[Quantity]",
    ],
)
def test_expressions_are_not_code(expr):
    with pytest.raises(ParamsError, match="columns.orders.amount"):
        schema.apply_mapping(RAW, {"amount": {"expr": expr}}, table="orders", file="f.csv")


def test_mapping_to_a_missing_column_names_file_and_column():
    with pytest.raises(DataError) as info:
        schema.apply_mapping(RAW, {"customer_id": "CustomerID"}, table="orders", file="retail.csv")
    assert "retail.csv" in str(info.value) and "CustomerID" in str(info.value)


def test_required_column_missing_names_it():
    frame = pd.DataFrame(
        {"order_id": ["1"], "customer_id": ["c"], "amount": ["3"], "business_unit": ["x"]}
    )
    with pytest.raises(DataError) as info:
        schema.check_required(frame, "orders", "orders.csv")
    message = str(info.value)
    assert "'orders.csv'" in message and "'order_date'" in message and "columns:" in message


def test_clean_ids_and_dates():
    assert schema.clean_ids(pd.Series(["17850.0", " C1 ", "", None, "007"])).tolist()[:2] == [
        "17850",
        "C1",
    ]
    ids = schema.clean_ids(pd.Series(["", "007"]))
    assert ids.isna().tolist() == [True, False] and ids.iloc[1] == "007"
    dates = schema.to_dates(
        pd.Series(["2025-01-31", "2025-02-01 10:00:00", "31/01/2025", "x"]),
        date_format=None,
        dayfirst=True,
    )
    assert dates.iloc[0] == pd.Timestamp("2025-01-31") and dates.iloc[2] == pd.Timestamp(
        "2025-01-31"
    )
    assert pd.isna(dates.iloc[3])


# ---- birth_date (optional PII): read and checked like the other dates ---------------------
TODAY = "2026-01-15"


def test_birth_dates_are_read_and_blanks_are_fine():
    found = schema.check_birth_dates(
        pd.Series(["1980-02-29", "", "NULL", None, "1907-01-16"], dtype="string"),
        file="customers.csv",
        today=TODAY,
    )
    assert found.iloc[0] == pd.Timestamp("1980-02-29")
    assert found.iloc[1:4].isna().all()
    assert found.iloc[4] == pd.Timestamp("1907-01-16")  # 119 years old: plausible


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("not a date", "birth dates that cannot be read as dates: 1"),
        ("2026-03-01", "lie in the future (after 2026-01-15)"),
        ("1900-01-01", "are more than 120 years ago"),
    ],
)
def test_bad_birth_dates_name_file_column_problem_and_line_but_not_the_value(value, problem):
    values = pd.Series(["1980-05-01", value, "1990-07-12"], dtype="string")
    with pytest.raises(DataError) as info:
        schema.check_birth_dates(values, file="customers.csv", today=TODAY)
    message = str(info.value)
    assert "'customers.csv'" in message and "'birth_date'" in message and problem in message
    assert "data lines 3" in message  # the second data row, after the header
    assert value not in message and "1980-05-01" not in message  # personal data


def test_ambiguous_birth_dates_are_refused_without_showing_them():
    values = pd.Series(["01/02/1980", "03/04/1975"], dtype="string")
    with pytest.raises(DataError) as info:
        schema.check_birth_dates(values, file="customers.csv", today=TODAY)
    message = str(info.value)
    assert "'birth_date'" in message and "dayfirst" in message
    assert "01/02/1980" not in message
    with_order = schema.check_birth_dates(values, file="c.csv", today=TODAY, dayfirst=True)
    assert with_order.tolist() == [pd.Timestamp("1980-02-01"), pd.Timestamp("1975-04-03")]


def test_bad_birth_dates_are_a_counted_repair_on_load(tmp_path):
    """On load, an unreadable, future or placeholder birth date (1900-01-01) is set missing
    and counted per rule, the values never shown; the other customers keep theirs and the
    contract check passes. Ambiguous day/month order is still refused."""
    from analysis.config import load_params
    from analysis.data.load import load_dataset
    from analysis.data.sample import write_sample

    folder = write_sample(tmp_path / "data", n_customers=200, seed=3)
    params = load_params(overrides={"data_dir": str(folder), "quality": {"today": TODAY}})
    clean = load_dataset(params).customers.set_index("customer_id")["birth_date"]
    assert clean.notna().any()
    frame = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False)
    rows = frame.index[frame["birth_date"] != ""][:4]
    planted = {
        "2099-01-01": "future_date",
        "1900-01-01": "implausible_date",
        "not known": "bad_date",
    }
    for row, value in zip(rows, planted, strict=False):
        frame.loc[row, "birth_date"] = value
    frame.to_csv(folder / "customers.csv", index=False)
    data = load_dataset(params)
    got = data.customers.set_index("customer_id")["birth_date"]
    hit = frame.loc[rows[:3], "customer_id"]
    assert got[hit].isna().all()
    kept = frame.loc[rows[3], "customer_id"]
    assert got[kept] == clean[kept]  # untouched rows keep their birth date
    assert got.notna().sum() == clean.notna().sum() - 3
    repairs = data.quality.summary("en")
    text = repairs.to_string()
    for rule in planted.values():
        found = [
            r
            for r in data.quality.repairs
            if r.rule == rule and r.column == "birth_date" and r.table == "customers"
        ]
        assert sum(r.rows for r in found) == 1 and found[0].action == "set_missing", rule
        assert all(not e.examples for e in found)  # never shown
    assert "2099" not in text and "1900-01-01" not in text

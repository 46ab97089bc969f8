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

"""Data overview figures on hand-made orders: KPIs per period with their changes, the
monthly trend and the customer-type mix."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis import overview
from analysis.period import Period

Q4 = Period.parse("2025-Q4")


def orders_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    return frame


ORDERS = orders_frame(
    [
        ("O1", "a", "2024-11-02", 50.0),  # a year earlier
        ("O2", "a", "2025-08-15", 30.0),  # previous quarter
        ("O3", "b", "2025-09-01", 70.0),
        ("O4", "a", "2025-10-05", 40.0),  # report quarter
        ("O4", "a", "2025-10-05", 10.0),  # a second line of the same order
        ("O5", "c", "2025-11-20", 100.0),  # c's first purchase
        ("O6", "b", "2025-12-01", -20.0),  # a refund: net revenue, not an order
    ]
)
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["a", "b", "c", "d"],
        "customer_type": ["individual", "enterprise", "individual", None],
        "signup_date": pd.to_datetime(["2024-01-01", "2025-01-01", "2025-11-01", "2025-12-15"]),
    }
)


def test_period_kpis_by_hand():
    kpis = overview.period_kpis(ORDERS, CUSTOMERS, Q4)
    assert kpis == {
        "customers": 4.0,  # a, b, c bought and d signed up by 31 Dec
        "orders": 2.0,  # O4 and O5; the refund is not an order
        "revenue": 130.0,  # 40 + 10 + 100 - 20
        "active": 2.0,  # a and c
        "new": 1.0,  # c
        "revenue_per_active": 65.0,
    }


def test_kpi_table_compares_with_the_previous_period_and_a_year_earlier():
    table = overview.kpi_table(ORDERS, CUSTOMERS, Q4).set_index("kpi")
    assert table.loc["revenue", ["current", "previous", "year_ago"]].tolist() == [130, 100, 50]
    assert table.loc["revenue", "change"] == pytest.approx(0.3)
    assert table.loc["revenue", "change_yoy"] == pytest.approx(1.6)
    assert table.loc["new", "previous"] == 1.0  # b's first purchase was in Q3
    first = overview.kpi_table(ORDERS, CUSTOMERS, Period.parse("2024-Q4")).set_index("kpi")
    assert first["year_ago"].isna().all() and first["change_yoy"].isna().all()  # no data yet
    assert math.isnan(first.loc["active", "change"])  # nothing to compare with


def test_monthly_trend_starts_with_the_data_and_fills_empty_months():
    trend = overview.monthly_trend(ORDERS, pd.Timestamp("2025-12-31"), months=24)
    assert trend["month"].iloc[0] == pd.Timestamp("2024-11-01")  # the first order's month
    assert len(trend) == 14 and trend["revenue"].sum() == pytest.approx(280.0)
    december = trend.set_index("month").loc["2025-12-01"]
    assert december.tolist() == [-20.0, 0, 0]  # a refund only
    assert trend.set_index("month").loc["2025-01-01", "revenue"] == 0
    short = overview.monthly_trend(ORDERS, pd.Timestamp("2025-12-31"), months=3)
    assert short["month"].dt.month.tolist() == [10, 11, 12]


def test_customer_type_mix_by_revenue():
    mix = overview.customer_type_mix(CUSTOMERS, ORDERS, Q4)
    assert mix["customer_type"].tolist() == ["individual", "enterprise"]
    assert mix["customers"].tolist() == [2, 0]  # b only had a refund in Q4
    assert mix["revenue"].tolist() == [150.0, -20.0]
    assert mix["customer_share"].tolist() == [1.0, 0.0]
    no_types = overview.customer_type_mix(CUSTOMERS.drop(columns="customer_type"), ORDERS, Q4)
    assert no_types.empty and no_types.columns.tolist() == mix.columns.tolist()


@pytest.mark.parametrize("ids", ["string", "object", "int"])
def test_period_kpis_whatever_the_id_type(ids):
    """Text ids share the kept first purchases; other ids keep their type, so known
    customers still meet the customers table's ids."""
    number = {"a": 1, "b": 2, "c": 3, "d": 4}
    convert = {
        "string": lambda s: s.astype("string"),
        "object": lambda s: s.astype(object),
        "int": lambda s: s.map(number).astype("int64"),
    }[ids]
    orders = ORDERS.assign(customer_id=convert(ORDERS["customer_id"]))
    customers = CUSTOMERS.assign(customer_id=convert(CUSTOMERS["customer_id"]))
    want = overview.period_kpis(ORDERS, CUSTOMERS, Q4)
    assert overview.period_kpis(orders, customers, Q4) == want
    assert overview.period_kpis(orders.copy(deep=False), customers, Q4) == want  # kept

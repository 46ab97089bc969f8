"""Data overview: headline KPIs with period-over-period change, monthly trends, type mix.

Pure functions over clean tables (:class:`analysis.data.Dataset` members); no I/O.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .framememo import FrameMemo
from .period import Period

#: First purchases of the orders frames used last in this process: a unit's reports ask
#: for the KPIs of several periods, and each pass over the orders cost seconds at 1M
#: customers.
_FIRST = FrameMemo(kept=4)


def first_purchases(orders: pd.DataFrame) -> pd.Series:
    """Each customer's first purchase ever (an order row with a positive amount), indexed
    by ``customer_id`` as text; NaT for a customer with refunds only, who never bought.
    Kept per orders frame (:class:`analysis.framememo.FrameMemo`): callers must not
    change it."""
    return _FIRST.get(
        orders,
        ["customer_id", "order_date", "amount"],
        "first_purchase",
        lambda: (
            orders["order_date"]
            .where(orders["amount"] > 0)
            .groupby(orders["customer_id"].astype(str))
            .min()
        ),
    )


def period_kpis(orders: pd.DataFrame, customers: pd.DataFrame, period: Period) -> dict[str, float]:
    """Headline figures of one period.

    Returns
    -------
    dict
        ``customers`` (known customers signed up or first seen by the period end),
        ``orders`` (distinct purchase orders, refunds excluded), ``revenue`` (net, refunds
        subtracted), ``active`` (customers with a purchase in the period), ``new`` (first
        purchase ever in the period), ``revenue_per_active``.
    """
    inside = orders.loc[
        period.contains(orders["order_date"]), ["customer_id", "order_id", "amount"]
    ]
    purchases = inside.loc[inside["amount"] > 0]
    if pd.api.types.is_string_dtype(orders["customer_id"]):  # ids as text: shared
        first = first_purchases(orders).dropna()
    else:  # other ids keep their type, so they meet the customers table's
        first = orders.loc[orders["amount"] > 0].groupby("customer_id")["order_date"].min()
    seen = first.loc[first < period.end_exclusive].index
    if "signup_date" in customers.columns:
        signed = customers.loc[customers["signup_date"] < period.end_exclusive, "customer_id"]
        known = len(pd.Index(seen).append(pd.Index(signed)).unique())
    else:
        known = len(seen)
    active = purchases["customer_id"].nunique()
    revenue = float(inside["amount"].sum())
    return {
        "customers": float(known),
        "orders": float(purchases["order_id"].nunique()),
        "revenue": revenue,
        "active": float(active),
        "new": float(period.contains(first).sum()),
        "revenue_per_active": revenue / active if active else np.nan,
    }


def kpi_table(orders: pd.DataFrame, customers: pd.DataFrame, period: Period) -> pd.DataFrame:
    """KPIs of the period, the previous period and a year earlier, with relative changes.

    Columns: ``kpi, current, previous, change, year_ago, change_yoy``. A change is NaN when
    the comparison period has no data (its value is 0 or missing).
    """
    periods = {"current": period, "previous": period.previous(), "year_ago": period.year_ago()}
    first_order = orders["order_date"].min() if len(orders) else pd.NaT
    values = {}
    for name, p in periods.items():
        has_data = pd.notna(first_order) and first_order < p.end_exclusive
        values[name] = period_kpis(orders, customers, p) if has_data or name == "current" else {}
    frame = pd.DataFrame(values).reindex(columns=list(periods))
    frame.index.name = "kpi"

    def change(new: pd.Series, old: pd.Series) -> pd.Series:
        old = old.where(old != 0)
        return (new - old) / old.abs()

    frame["change"] = change(frame["current"], frame["previous"])
    frame["change_yoy"] = change(frame["current"], frame["year_ago"])
    return frame.reset_index()[["kpi", "current", "previous", "change", "year_ago", "change_yoy"]]


def monthly_trend(orders: pd.DataFrame, end: pd.Timestamp, months: int = 24) -> pd.DataFrame:
    """Revenue, orders and active customers per calendar month for the ``months`` up to
    ``end`` (months without orders appear with zeros)."""
    end = pd.Timestamp(end)
    start = (end - pd.DateOffset(months=months - 1)).to_period("M").to_timestamp()
    if len(orders):  # no empty months before the data begins
        start = max(start, orders["order_date"].min().to_period("M").to_timestamp())
    window = orders.loc[
        (orders["order_date"] >= start) & (orders["order_date"] <= end + pd.Timedelta(days=1))
    ]
    month = window["order_date"].dt.to_period("M").dt.to_timestamp()
    purchases = window["amount"] > 0
    grouped = pd.DataFrame(
        {
            "revenue": window["amount"].groupby(month).sum(),
            "orders": window.loc[purchases, "order_id"].groupby(month[purchases]).nunique(),
            "active": window.loc[purchases, "customer_id"].groupby(month[purchases]).nunique(),
        }
    )
    index = pd.date_range(start, end.to_period("M").to_timestamp(), freq="MS")
    grouped = grouped.reindex(index, fill_value=0).fillna(0)
    grouped.index.name = "month"
    return grouped.reset_index()


def customer_type_mix(
    customers: pd.DataFrame, orders: pd.DataFrame, period: Period
) -> pd.DataFrame:
    """Active customers and revenue of the period by ``customer_type`` with shares.

    Customers without a type are grouped as ``unknown``. Returns an empty frame with the
    same columns when there is no ``customer_type`` column.
    """
    columns = ["customer_type", "customers", "customer_share", "revenue", "revenue_share"]
    if "customer_type" not in customers.columns:
        return pd.DataFrame(columns=columns)
    inside = orders.loc[period.contains(orders["order_date"])]
    types = customers.set_index("customer_id")["customer_type"].astype("string").fillna("unknown")
    kind = inside["customer_id"].map(types).fillna("unknown")
    purchases = inside["amount"] > 0
    mix = pd.DataFrame(
        {
            "customers": inside.loc[purchases, "customer_id"].groupby(kind[purchases]).nunique(),
            "revenue": inside["amount"].groupby(kind).sum(),
        }
    ).fillna(0)
    mix.index.name = "customer_type"
    mix["customer_share"] = mix["customers"] / max(mix["customers"].sum(), 1)
    total = mix["revenue"].sum()
    mix["revenue_share"] = mix["revenue"] / total if total else np.nan
    return mix.sort_values("revenue", ascending=False).reset_index()[columns]

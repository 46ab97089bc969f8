"""Billing lines of a subscription business, derived from one row per customer.

Contractual exports (the IBM Telco file, the MLC++ churn file) carry one row per customer:
a tenure in months, a monthly and/or total charge, a churn flag, rarely dates. segreport's
reports read purchases from the orders table, so the billing history is derived here, by
one documented rule (data/README.md, "Subscription exports"):

* the customer's billing **ends** at ``churn_date`` for a churner, else the day after the
  data date (``subscription.data_date``; bills up to and including it). A churner without
  a ``churn_date`` left at the data date, which becomes their ``churn_date``;
* the **number of lines** is ``tenure_months`` rounded to whole months; without it, the
  months from ``signup_date`` to the end (one line per month started before the end);
* the lines are dated ``signup_date + k months`` (k = 0, 1, ...; a day past a month's end
  falls on its last day); without a ``signup_date`` it is ``end - tenure months`` and is
  written back to the customer. Lines dated on or after the end are not made;
* each line's **amount** is ``monthly_charges``; without it ``total_charges / lines``.

The lines get ``order_id`` ``<customer_id>-bill-<n>`` (n = 1 for the first month),
``status`` completed and the customer's ``business_unit``. What was derived is counted in
the quality report (a note with lines, customers, and customers without lines).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError

#: Contract columns of the customers table that the derivation reads (all optional).
SUBSCRIPTION_COLUMNS = ("tenure_months", "monthly_charges", "total_charges")


def add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """``days`` (datetime64[D]) plus whole ``months``; a day past the target month's end
    falls on its last day (31 Jan + 1 month = 28/29 Feb), as :class:`pandas.DateOffset`."""
    days = np.asarray(days, dtype="datetime64[D]")
    start = days.astype("datetime64[M]")
    day_of_month = (days - start.astype("datetime64[D]")).astype(np.int64)
    target = start + np.asarray(months, dtype=np.int64)
    month_len = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    return target.astype("datetime64[D]") + np.minimum(day_of_month, month_len - 1)


def months_before(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """How many of ``start + k months`` (k = 0, 1, ...) fall strictly before ``end``."""
    start = np.asarray(start, dtype="datetime64[D]")
    end = np.asarray(end, dtype="datetime64[D]")
    guess = (end.astype("datetime64[M]") - start.astype("datetime64[M]")).astype(np.int64) + 1
    guess = np.maximum(guess, 0)
    # the month difference overshoots by at most one (the end's day before the start's day)
    over = (guess > 0) & (add_months(start, np.maximum(guess - 1, 0)) >= end)
    return np.maximum(guess - over, 0)


def wants_billing(customers: pd.DataFrame | None, orders_present: bool, options: Mapping) -> bool:
    """Whether billing lines are derived (``subscription.billing``: auto | derive | off)."""
    mode = str(options.get("billing", "auto"))
    if customers is None or mode == "off":
        return False
    charges = {"monthly_charges", "total_charges"} & set(customers.columns)
    tenure = {"tenure_months", "signup_date"} & set(customers.columns)
    if mode == "derive":
        return True
    return not orders_present and bool(charges) and bool(tenure)


def derive_billing(
    customers: pd.DataFrame,
    *,
    data_date: pd.Timestamp,
    file: str = "customers",
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Monthly billing lines from one row per customer (see the module docstring).

    Parameters
    ----------
    customers
        The clean customers table: ``customer_id``, ``business_unit``, and
        ``tenure_months`` and/or ``signup_date``, ``monthly_charges`` and/or
        ``total_charges``; optional ``churned``, ``churn_date``.
    data_date
        The export's date: billing of customers still active runs through it.
    file
        The customers file, for error messages.

    Returns
    -------
    orders, customers, counts
        The billing lines (orders contract columns), the customers with the ``signup_date``
        and ``churn_date`` the rule filled in, and ``{"lines", "customers",
        "without_lines", "churn_date_set", "signup_date_set"}``.

    Raises
    ------
    DataError
        A column the rule needs is missing (naming the file and column).
    """
    have = set(customers.columns)
    if "business_unit" not in have:
        raise DataError(
            "billing lines are derived from the customers table, which has no business unit; "
            "map one, e.g. 'columns: {customers: {business_unit: {value: <unit name>}}}'.",
            file=file,
            column="business_unit",
        )
    if not {"monthly_charges", "total_charges"} & have:
        raise DataError(
            "billing lines are derived from the customers table, which has neither "
            "'monthly_charges' nor 'total_charges'; map the charge column in 'columns: "
            "{customers: ...}'.",
            file=file,
            column="monthly_charges",
        )
    if not {"tenure_months", "signup_date"} & have:
        raise DataError(
            "billing lines are derived from the customers table, which has neither "
            "'tenure_months' nor 'signup_date'; map the tenure column in 'columns: "
            "{customers: ...}'.",
            file=file,
            column="tenure_months",
        )
    out = customers.copy()
    n = len(out)
    data_day = np.datetime64(pd.Timestamp(data_date).normalize().date(), "D")
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    churn_date = (
        out["churn_date"].to_numpy(dtype="datetime64[D]") if "churn_date" in have else nat.copy()
    )
    churned = (
        out["churned"].fillna(False).to_numpy(dtype=bool)
        if "churned" in have
        else np.zeros(n, dtype=bool)
    )
    churned |= ~np.isnat(churn_date)
    set_churn = churned & np.isnat(churn_date)
    churn_date = np.where(set_churn, data_day, churn_date)
    end = np.where(churned, churn_date, data_day + 1)

    signup = out["signup_date"].to_numpy(dtype="datetime64[D]") if "signup_date" in have else nat
    if "tenure_months" in have:
        tenure = pd.to_numeric(out["tenure_months"], errors="coerce").to_numpy(dtype=float)
        lines = np.where(np.isnan(tenure), -1, np.floor(np.maximum(tenure, 0) + 0.5)).astype(
            np.int64
        )
    else:
        lines = np.full(n, -1, dtype=np.int64)
    from_signup = (lines < 0) & ~np.isnat(signup)
    lines[from_signup] = months_before(signup[from_signup], end[from_signup])
    set_signup = np.isnat(signup) & (lines >= 0)
    signup = np.where(set_signup, add_months(end, -np.maximum(lines, 0)), signup)

    monthly = (
        pd.to_numeric(out["monthly_charges"], errors="coerce").to_numpy(dtype=float)
        if "monthly_charges" in have
        else np.full(n, np.nan)
    )
    if "total_charges" in have:
        total = pd.to_numeric(out["total_charges"], errors="coerce").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            monthly = np.where(np.isnan(monthly) & (lines > 0), total / lines, monthly)
    usable = (lines > 0) & ~np.isnan(monthly) & (monthly != 0) & out["business_unit"].notna()
    counts_per = np.where(usable, np.maximum(lines, 0), 0)
    rows = np.repeat(np.arange(n), counts_per)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(counts_per) - counts_per, counts_per)
    dates = add_months(signup[rows], k)
    keep = dates < end[rows]
    rows, k, dates = rows[keep], k[keep], dates[keep]
    ids = out["customer_id"].astype("string").to_numpy()
    orders = pd.DataFrame(
        {
            "order_id": pd.array(
                [f"{c}-bill-{i + 1}" for c, i in zip(ids[rows], k, strict=True)], dtype="string"
            ),
            "customer_id": pd.array(ids[rows], dtype="string"),
            "order_date": dates.astype("datetime64[ns]"),
            "amount": monthly[rows].astype("float64"),
            "business_unit": pd.array(out["business_unit"].to_numpy()[rows], dtype="string"),
            "status": pd.array(["completed"] * len(rows), dtype="string"),
        }
    )
    if set_churn.any():
        out["churned"] = pd.array(churned, dtype="boolean")
        out["churn_date"] = churn_date.astype("datetime64[ns]")
    if set_signup.any():
        out["signup_date"] = signup.astype("datetime64[ns]")
    counts = {
        "lines": len(orders),
        "customers": int(orders["customer_id"].nunique()),
        "without_lines": int(n - orders["customer_id"].nunique()),
        "churn_date_set": int(set_churn.sum()),
        "signup_date_set": int((set_signup & (lines > 0)).sum()),
    }
    return orders, out, counts

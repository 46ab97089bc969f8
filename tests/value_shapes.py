"""Data of two real-export shapes for the value, lifecycle and playbook tests, made in code.

* :func:`telco_like`: a subscription unit as a Telco-style export becomes after billing
  lines are derived: one bill per month from sign-up until the churn date or the data end,
  a customers table with ``churned``, ``churn_date`` and ``payment_method``. The churners
  and their dates are planted (returned with the data).
* :func:`purchase_log`: a CDNOW-like log (customer, date, amount only: no channels,
  discounts, categories or customer types), irregular purchases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DATA_END = pd.Timestamp("2025-12-31")


def telco_like(n: int = 300, seed: int = 7, unit: str = "telecom"):
    """``(customers, orders)``: monthly bills, contractual churn planted at random dates."""
    rng = np.random.default_rng(seed)
    ids = [f"T{i:05d}" for i in range(n)]
    tenure = rng.integers(1, 60, size=n)  # months billed if nobody churned
    signup = [DATA_END - pd.DateOffset(months=int(m)) + pd.Timedelta(days=1) for m in tenure]
    churned = rng.random(n) < 0.3
    churn_date = []
    for start, months, gone in zip(signup, tenure, churned, strict=True):
        if gone:
            at = int(rng.integers(1, int(months) + 1))
            churn_date.append(min(start + pd.DateOffset(months=at) - pd.Timedelta(days=3),
                                  DATA_END))  # fmt: skip
        else:
            churn_date.append(pd.NaT)
    methods = rng.choice(
        [
            "Electronic check",
            "Mailed check",
            "Bank transfer (automatic)",
            "Credit card (automatic)",
        ],
        size=n,
    )
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "business_unit": unit,
            "signup_date": pd.to_datetime(signup),
            "churned": churned,
            "churn_date": pd.to_datetime(churn_date),
            "payment_method": methods,
        }
    )
    charge = rng.choice([20.0, 55.0, 80.0, 105.0], size=n)
    rows = []
    for cid, start, end, fee in zip(ids, signup, churn_date, charge, strict=True):
        stop = DATA_END if pd.isna(end) else end
        bills = pd.date_range(start, stop, freq=pd.DateOffset(months=1))
        for k, day in enumerate(bills):
            # a few downgrades on the last bill
            amount = fee * (0.6 if cid.endswith("7") and k == len(bills) - 1 and k else 1.0)
            rows.append((cid, day, amount))
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    orders["order_id"] = [f"B{i:07d}" for i in range(len(orders))]
    orders["business_unit"] = unit
    orders["status"] = "completed"
    orders = orders.astype({"customer_id": "string", "business_unit": "string"})
    return customers, orders


def purchase_log(n: int = 400, seed: int = 11, unit: str = "shop") -> pd.DataFrame:
    """Orders only, CDNOW-like: Poisson purchases at customer-specific rates, gamma spend."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        cid = f"P{i:05d}"
        day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 700)))
        rate = rng.gamma(1.0, 1 / 60)  # purchases per day
        while day <= DATA_END:
            rows.append((cid, day, float(round(rng.gamma(2.0, 20.0), 2)) + 1.0))
            if rng.random() < 0.25:  # drops out
                break
            day += pd.Timedelta(days=int(rng.exponential(1 / max(rate, 1e-3))) + 1)
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    orders["order_id"] = [f"O{i:07d}" for i in range(len(orders))]
    orders["business_unit"] = unit
    orders["status"] = "completed"
    return orders.astype({"customer_id": "string", "business_unit": "string"})

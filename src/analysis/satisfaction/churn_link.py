"""Do unhappy customers leave? Churn after a survey response, by response category.

Churn follows the unit's own definition and window, the ones the churn report uses
(:func:`analysis.churn.resolve_definition`, :func:`analysis.churn.churn_window`):

* ``noncontractual``: no purchase (an order with a positive amount) in the
  ``window_days`` after the response day;
* ``contractual``: the customer's ``churn_date`` falls in the ``window_days`` from the
  response day.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import DataError, ParamsError
from ._common import two_sided_normal_p
from .scores import wilson_interval

#: Response categories in display order (NPS ones, then those of the overall item).
CATEGORY_ORDER = ("detractor", "passive", "promoter", "dissatisfied", "neutral", "satisfied")


def _churn_dates(customers: pd.DataFrame | None) -> pd.DataFrame:
    """``churned`` (bool) and ``churn_date`` per customer id (string index)."""
    if customers is None or not {"customer_id", "churned", "churn_date"} <= set(customers.columns):
        raise DataError(
            "the contractual churn definition needs customers with churned and churn_date",
            file="customers",
            column="churn_date",
        )
    c = customers.drop_duplicates("customer_id")
    # the clean table holds a nullable boolean (data.schema.to_bools); missing = not churned
    flag = c["churned"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return pd.DataFrame(
        {"churned": flag, "churn_date": pd.to_datetime(c["churn_date"]).to_numpy()},
        index=pd.Index(c["customer_id"].astype("string"), name="customer_id"),
    )


def churn_after_response(
    responses: pd.DataFrame,
    orders: pd.DataFrame,
    data_end: pd.Timestamp | None,
    *,
    window_days: int,
    definition: str = "noncontractual",
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Whether each identified respondent churned within ``window_days`` after answering.

    Only responses at least ``window_days`` before ``data_end`` are eligible: for later
    ones the window is not fully observed. Anonymous responses cannot be followed and
    are left out; so are, under the contractual definition, respondents who had churned
    before answering and churners without a date (they cannot be placed in time).

    Parameters
    ----------
    responses
        Survey responses (``customer_id``, ``response_date``).
    orders
        Clean orders (``customer_id``, ``order_date``, ``amount``).
    data_end
        Last day of the data; None (no orders) leaves nothing eligible.
    window_days
        The churn window in days (the unit's, see :func:`analysis.churn.churn_window`).
    definition
        ``noncontractual`` or ``contractual`` (resolved, not ``auto``).
    customers
        Customers with ``churned`` and ``churn_date`` (``contractual`` only).

    Returns
    -------
    DataFrame
        The eligible responses (all input columns) plus ``next_purchase`` (date of the
        first purchase after the response day, NaT if none) and ``churned`` (bool);
        ``contractual`` adds ``churn_date``.

    Raises
    ------
    ParamsError
        For an unknown definition or a window below one day.
    DataError
        For ``contractual`` without churn columns in ``customers``.
    """
    if definition not in ("noncontractual", "contractual"):
        raise ParamsError(
            f"churn definition must be noncontractual or contractual, got {definition!r}"
        )
    if isinstance(window_days, bool) or not float(window_days) >= 1:
        raise ParamsError(f"churn window_days must be at least 1, got {window_days!r}")
    window = pd.Timedelta(days=int(window_days))
    ids = responses["customer_id"] if "customer_id" in responses.columns else None
    if ids is None or data_end is None or pd.isna(data_end):
        return responses.iloc[:0].assign(next_purchase=pd.NaT, churned=False)
    eligible = responses.loc[ids.notna() & (responses["response_date"] + window <= data_end)]
    dates = None
    if definition == "contractual":
        dates = _churn_dates(customers)
        found = dates.reindex(eligible["customer_id"].astype("string"))
        gone_before = found["churned"].fillna(False).to_numpy(dtype=bool) & (
            found["churn_date"].to_numpy() < eligible["response_date"].to_numpy()
        )
        undated = found["churned"].fillna(False).to_numpy(dtype=bool) & found[
            "churn_date"
        ].isna().to_numpy(dtype=bool)
        eligible = eligible.loc[~gone_before & ~undated]
    if eligible.empty:
        out = eligible.assign(next_purchase=pd.NaT, churned=pd.Series(dtype=bool))
        return out.assign(churn_date=pd.NaT) if dates is not None else out
    keys = eligible[["customer_id", "response_date"]].astype({"customer_id": "string"})
    keys = keys.assign(_row=np.arange(len(keys))).sort_values("response_date")
    bought = orders.loc[orders["amount"] > 0, ["customer_id", "order_date"]].astype(
        {"customer_id": "string"}
    )
    nxt = pd.merge_asof(
        keys,
        bought.sort_values("order_date"),
        left_on="response_date",
        right_on="order_date",
        by="customer_id",
        direction="forward",
        allow_exact_matches=False,
    ).sort_values("_row")
    out = eligible.assign(next_purchase=nxt["order_date"].to_numpy())
    if dates is None:
        out["churned"] = (
            out["next_purchase"].isna() | (out["next_purchase"] > out["response_date"] + window)
        ).astype(bool)
        return out
    found = dates.reindex(out["customer_id"].astype("string"))
    churn_date = found["churn_date"].where(found["churned"].fillna(False).astype(bool))
    out["churn_date"] = churn_date.to_numpy()
    out["churned"] = (
        (out["churn_date"] >= out["response_date"])
        & (out["churn_date"] < out["response_date"] + window)
    ).astype(bool)
    return out


def churn_by_category(churn: pd.DataFrame, categories: pd.Series) -> pd.DataFrame:
    """Churn rate per response category with Wilson 95% intervals.

    Parameters
    ----------
    churn
        :func:`churn_after_response` rows.
    categories
        Category of each response (:func:`~analysis.satisfaction.response_category`),
        aligned on ``churn``'s index; rows without one are left out.

    Returns
    -------
    DataFrame
        Index ``category`` (in :data:`CATEGORY_ORDER`); columns ``n, churned, rate,
        ci_low, ci_high``. ``attrs``: ``worst`` and ``best`` (detractor / promoter, else
        dissatisfied / satisfied, None when absent) and ``p_value``, a pooled
        two-proportion z-test of the worst category against the best.
    """
    frame = pd.DataFrame({"category": categories.reindex(churn.index), "churned": churn["churned"]})
    frame = frame.dropna(subset=["category"])
    rows = {}
    for cat, part in frame.groupby("category", sort=False):
        n, k = len(part), int(part["churned"].sum())
        low, high = wilson_interval(k, n)
        rows[cat] = dict(n=n, churned=k, rate=k / n if n else np.nan, ci_low=low, ci_high=high)
    order = [c for c in CATEGORY_ORDER if c in rows]
    out = pd.DataFrame.from_dict(rows, orient="index").reindex(order)
    out.index.name = "category"
    worst = next((c for c in ("detractor", "dissatisfied") if c in rows), None)
    best = next((c for c in ("promoter", "satisfied") if c in rows), None)
    p = np.nan
    if worst and best:
        (n1, k1), (n0, k0) = (
            (rows[worst]["n"], rows[worst]["churned"]),
            (rows[best]["n"], rows[best]["churned"]),
        )
        pooled = (k1 + k0) / (n1 + n0)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        p = two_sided_normal_p((k1 / n1 - k0 / n0) / se) if se > 0 else np.nan
    out.attrs.update(p_value=p, worst=worst, best=best)
    return out

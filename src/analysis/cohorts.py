"""Acquisition cohorts and the revenue bridge (issue #18).

* :func:`cohort_tables`: customers grouped by the period of their first completed purchase
  (month or quarter); for each cohort and each period since, the share still buying
  (retention) and the net revenue. A triangle: later cohorts have fewer periods.
* :func:`revenue_bridge`: net revenue of a period against the previous one, split into
  parts that sum exactly to the change:

  - **new**: customers with a completed order in the current period and none in the
    previous one: their revenue change;
  - **lost**: customers with an order in the previous period and none in the current one;
  - **refunds only**: customers with no completed order in either period whose refunds
    still move revenue;
  - for customers with orders in both periods (**existing**), with ``F`` their orders and
    ``A = R / F`` their revenue per order: **frequency** ``(F1 - F0) A0`` and **order
    value** ``(A1 - A0) F1``; the two sum to ``R1 - R0`` of those customers.

Revenue is net: completed sales plus refunds (negative amounts) dated in the period;
cancelled orders count for nothing. Pure functions: DataFrames in, new DataFrames out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .framememo import text_codes

__all__ = [
    "BRIDGE_PARTS",
    "CohortTables",
    "cohort_tables",
    "customer_period_totals",
    "revenue_bridge",
]

#: The parts of :func:`revenue_bridge`, in display order.
BRIDGE_PARTS = ("new", "lost", "refunds_only", "frequency", "order_value")


def _counted(orders: pd.DataFrame) -> pd.DataFrame:
    """Rows that move net revenue: not cancelled."""
    if "status" in orders.columns:
        return orders.loc[orders["status"].fillna("completed").astype(str).ne("cancelled")]
    return orders


def _is_sale(orders: pd.DataFrame) -> pd.Series:
    sale = orders["amount"] > 0
    if "status" in orders.columns:
        sale &= orders["status"].fillna("completed").astype(str).eq("completed")
    return sale


def customer_period_totals(
    orders: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Per customer, the net revenue and completed orders dated in ``[start, end)``.

    Returns
    -------
    DataFrame
        Index ``customer_id``; ``revenue`` (sales plus refunds) and ``orders`` (distinct
        completed sale orders; by ``order_id`` when present, else rows).
    """
    rows = _counted(orders)
    when = pd.to_datetime(rows["order_date"])
    rows = rows.loc[(when >= pd.Timestamp(start)) & (when < pd.Timestamp(end))]
    ids = rows["customer_id"].astype(str)
    revenue = rows["amount"].astype(float).groupby(ids).sum()
    sales = rows.loc[_is_sale(rows)]
    sale_ids = sales["customer_id"].astype(str)
    if "order_id" in sales.columns:
        count = sales["order_id"].astype(str).groupby(sale_ids).nunique()
    else:
        count = sale_ids.value_counts()
    out = pd.DataFrame({"revenue": revenue})
    out["orders"] = count.reindex(out.index, fill_value=0).astype(np.int64)
    out.index.name = "customer_id"
    return out.sort_index()


def revenue_bridge(
    orders: pd.DataFrame,
    current: tuple[pd.Timestamp, pd.Timestamp],
    previous: tuple[pd.Timestamp, pd.Timestamp],
) -> pd.DataFrame:
    """Net revenue of ``current`` against ``previous``, in parts that sum to the change.

    Parameters
    ----------
    orders
        Clean orders (``customer_id``, ``order_date``, ``amount``; optional ``status``,
        ``order_id``).
    current, previous
        ``(start, end)`` of each period, end exclusive.

    Returns
    -------
    DataFrame
        One row per part of :data:`BRIDGE_PARTS`: ``part``, ``customers`` and ``value``;
        ``attrs`` holds ``previous_revenue``, ``current_revenue`` and ``change``
        (``value.sum() == change`` up to rounding of floating point).

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 30.0, 5.0],
    ...     "order_date": pd.to_datetime(["2025-01-05", "2025-04-05", "2025-04-06"])})
    >>> bridge = revenue_bridge(orders, ("2025-04-01", "2025-07-01"), ("2025-01-01", "2025-04-01"))
    >>> bridge.set_index("part")["value"].to_dict()
    {'new': 5.0, 'lost': 0.0, 'refunds_only': 0.0, 'frequency': 0.0, 'order_value': 20.0}
    """
    before = customer_period_totals(orders, *previous)
    now = customer_period_totals(orders, *current)
    ids = before.index.union(now.index)
    r0 = before["revenue"].reindex(ids, fill_value=0.0)
    r1 = now["revenue"].reindex(ids, fill_value=0.0)
    f0 = before["orders"].reindex(ids, fill_value=0)
    f1 = now["orders"].reindex(ids, fill_value=0)
    groups = {
        "new": (f0 == 0) & (f1 > 0),
        "lost": (f0 > 0) & (f1 == 0),
        "refunds_only": (f0 == 0) & (f1 == 0),
        "existing": (f0 > 0) & (f1 > 0),
    }
    values = {k: float((r1 - r0)[m].sum()) for k, m in groups.items() if k != "existing"}
    both = groups["existing"]
    orders0, orders1 = float(f0[both].sum()), float(f1[both].sum())
    if both.any():
        per0 = float(r0[both].sum()) / orders0
        per1 = float(r1[both].sum()) / orders1
        values["frequency"] = (orders1 - orders0) * per0
        values["order_value"] = (per1 - per0) * orders1
    else:
        values["frequency"] = values["order_value"] = 0.0
    counts = {
        "new": int(groups["new"].sum()),
        "lost": int(groups["lost"].sum()),
        "refunds_only": int(groups["refunds_only"].sum()),
        "frequency": int(both.sum()),
        "order_value": int(both.sum()),
    }
    table = pd.DataFrame(
        {
            "part": list(BRIDGE_PARTS),
            "customers": [counts[k] for k in BRIDGE_PARTS],
            "value": [values[k] for k in BRIDGE_PARTS],
        }
    )
    previous_revenue, current_revenue = float(r0.sum()), float(r1.sum())
    table.attrs.update(
        previous_revenue=previous_revenue,
        current_revenue=current_revenue,
        change=current_revenue - previous_revenue,
        existing_orders=(orders0, orders1),
    )
    return table


def _label(period: pd.Period) -> str:
    """``2025-Q1`` or ``2025-03``: the project's period names."""
    if period.freqstr.startswith("Q"):
        return f"{period.year}-Q{period.quarter}"
    return f"{period.year}-{period.month:02d}"


@dataclass(frozen=True)
class CohortTables:
    """Cohorts by the period of the first completed purchase.

    Attributes
    ----------
    sizes
        Customers per cohort (index: cohort label such as ``2025-Q1`` or ``2025-03``).
    retention
        Cohort x periods since (0, 1, ...): share of the cohort with a completed order in
        that period (1.0 at 0); NaN where the period lies beyond the snapshot.
    revenue
        Cohort x periods since: net revenue of the cohort's customers in that period.
    freq
        ``"M"`` or ``"Q"``.
    """

    sizes: pd.Series
    retention: pd.DataFrame
    revenue: pd.DataFrame
    freq: str


def cohort_tables(
    orders: pd.DataFrame, as_of: pd.Timestamp, *, freq: str = "Q", max_cohorts: int = 12
) -> CohortTables:
    """Retention and revenue by acquisition cohort, up to (not including) ``as_of``.

    Parameters
    ----------
    orders
        Clean orders.
    as_of
        Rows on or after it are not used; periods that end after it are cut (the last one
        shown is the one containing ``as_of - 1 day``).
    freq
        ``"Q"`` (quarters) or ``"M"`` (months).
    max_cohorts
        Keep the latest this many cohorts (older ones are summed into none: left out).
    """
    if freq not in ("Q", "M"):
        raise ValueError(f"freq must be 'Q' or 'M', got {freq!r}")
    when = pd.to_datetime(orders["order_date"])
    inside = (when < pd.Timestamp(as_of)).to_numpy(dtype=bool, copy=True)
    if "status" in orders.columns:  # the rows that move net revenue: not cancelled
        inside &= orders["status"].fillna("completed").astype(str).ne("cancelled").to_numpy()
    # Integer work throughout: period ordinals and customer codes (boxing 2.5M Periods
    # and mapping 2.5M string ids cost seconds per call at 200k customers).
    period = when[inside].dt.to_period(freq).array.asi8
    codes, customers = text_codes(orders, "customer_id")
    codes = codes[inside]
    sale = _is_sale(orders).to_numpy(dtype=bool)[inside]
    counted = codes >= 0
    unseen = np.iinfo(np.int64).max
    first = np.full(len(customers), unseen, dtype=np.int64)
    np.minimum.at(first, codes[sale & counted], period[sale & counted])
    buyer_first = first[first != unseen]
    if buyer_first.size == 0:
        empty = pd.DataFrame()
        return CohortTables(pd.Series(dtype=np.int64), empty, empty, freq)
    ordinals, counts = np.unique(buyer_first, return_counts=True)
    labels = [_label(pd.Period(ordinal=int(o), freq=freq)) for o in ordinals]
    sizes = pd.Series(counts, index=pd.Index(labels, name="cohort"), name="count")
    sizes = sizes.sort_index()
    keep = sizes.index[-max_cohorts:]
    sizes = sizes.loc[keep]
    kept = np.asarray([ordinals[labels.index(name)] for name in keep], dtype=np.int64)
    # row -> position of its cohort in ``keep`` (-1: no cohort, or one left out)
    row_first = np.where(counted, first[np.where(counted, codes, 0)], unseen)
    order = np.argsort(kept)
    at = np.searchsorted(kept, row_first, sorter=order).clip(max=len(kept) - 1)
    slot = np.where(kept[order[at]] == row_first, order[at], -1)
    age = period - np.where(slot >= 0, row_first, 0)
    # ages before the first purchase (a refund first) are never shown
    used = (slot >= 0) & (age >= 0)
    width = int(age[used].max()) + 1
    cell = slot * width + age
    bought = used & sale
    pairs = np.sort(cell[bought] * np.int64(first.size) + codes[bought])
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]  # sorting beats np.unique's hash here
    cells, buyers = np.unique(pairs // first.size, return_counts=True)
    ages = list(range(0, int((cells % width).max()) + 1))
    shape = (len(keep), len(ages))
    retention = np.full(shape, np.nan)
    retention[cells // width, cells % width] = buyers / sizes.to_numpy()[cells // width]
    revenue = np.full(shape, np.nan)
    amount = orders["amount"].astype(float).to_numpy()[inside][used]
    sums = pd.Series(amount).groupby(cell[used]).sum()
    inside_ages = (sums.index % width) < len(ages)
    sums = sums[inside_ages]
    revenue[sums.index // width, sums.index % width] = sums.to_numpy()
    last = pd.Timestamp(as_of - pd.Timedelta(days=1)).to_period(freq).ordinal
    observed = np.arange(len(ages))[None, :] <= (last - kept)[:, None]
    retention = np.where(observed & np.isnan(retention), 0.0, retention)
    revenue = np.where(observed & np.isnan(revenue), 0.0, revenue)
    columns = pd.Index(ages, name="periods_since")
    index = pd.Index(keep, name="cohort")
    return CohortTables(
        sizes.astype(np.int64),
        pd.DataFrame(retention, index=index, columns=columns),
        pd.DataFrame(revenue, index=index, columns=columns),
        freq,
    )

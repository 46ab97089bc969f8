"""Important moments in the next period: birthdays and relationship anniversaries (issue #18).

A **birthday** comes from the customers' ``birthday`` (``MM-DD``; the scrubbed form of a
``birth_date``, :func:`analysis.privacy.with_birthday`); 29 February is greeted on 28
February in other years. A **relationship anniversary** is a whole number of years (one or
more) after the relationship began: the ``signup_date`` when known, else the first completed
purchase. Only ids, the kind of moment, its date and the customer's value tier leave this
module: no names or birth years.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["MOMENTS", "important_moments", "moment_counts"]

MOMENTS = ("birthday", "anniversary")


def _relationship_start(
    customers: pd.DataFrame | None, orders: pd.DataFrame | None, before: pd.Timestamp
) -> pd.Series:
    found = pd.Series(dtype="datetime64[ns]")
    if orders is not None and len(orders):
        sale = orders["amount"] > 0
        if "status" in orders.columns:
            sale &= orders["status"].fillna("completed").astype(str).eq("completed")
        rows = orders.loc[sale & (pd.to_datetime(orders["order_date"]) < before)]
        found = pd.to_datetime(rows["order_date"]).groupby(rows["customer_id"].astype(str)).min()
    if customers is not None and "signup_date" in customers.columns:
        signup = pd.to_datetime(customers["signup_date"], errors="coerce")
        signup.index = customers["customer_id"].astype(str)
        signup = signup.loc[signup.notna() & (signup < before)]
        signup = signup[~signup.index.duplicated()]
        found = signup.combine_first(found)
    return found.dt.normalize()


def important_moments(
    customers: pd.DataFrame | None,
    orders: pd.DataFrame | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """Birthdays and relationship anniversaries dated in ``[start, end)``.

    Parameters
    ----------
    customers
        Customers with ``customer_id`` and optionally ``birthday`` (``MM-DD``) and
        ``signup_date``.
    orders
        Clean orders (first purchases start a relationship without a signup date).
    start, end
        The window (the next period), end exclusive.

    Returns
    -------
    DataFrame
        ``customer_id``, ``moment`` (``birthday`` | ``anniversary``), ``date``, ``years``
        (whole years of the relationship; missing for a birthday), sorted by date.

    Examples
    --------
    >>> customers = pd.DataFrame({"customer_id": ["a"], "birthday": ["02-29"],
    ...     "signup_date": pd.to_datetime(["2023-03-05"])})
    >>> moments = important_moments(customers, None, pd.Timestamp("2026-01-01"),
    ...                             pd.Timestamp("2026-04-01"))
    >>> moments[["moment", "date"]].astype(str).values.tolist()
    [['birthday', '2026-02-28'], ['anniversary', '2026-03-05']]
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    rows: list[pd.DataFrame] = []
    years = range(start.year, end.year + 1)
    if customers is not None and "birthday" in customers.columns:
        known = customers.loc[customers["birthday"].notna(), ["customer_id", "birthday"]]
        ids = known["customer_id"].astype(str).to_numpy()
        for year in years:
            dates = pd.to_datetime(
                [f"{year}-{_on(md, year)}" for md in known["birthday"].astype(str)],
                errors="coerce",
            )
            inside = (dates >= start) & (dates < end)
            rows.append(
                pd.DataFrame(
                    {
                        "customer_id": ids[inside],
                        "moment": "birthday",
                        "date": dates[inside],
                        "years": pd.NA,
                    }
                )
            )
    began = _relationship_start(customers, orders, start)
    if len(began):
        for year in years:
            dates = pd.to_datetime(
                [f"{year}-{_on(d.strftime('%m-%d'), year)}" for d in began], errors="coerce"
            )
            whole = year - began.dt.year.to_numpy()
            inside = (dates >= start) & (dates < end) & (whole >= 1)
            rows.append(
                pd.DataFrame(
                    {
                        "customer_id": began.index.to_numpy()[inside],
                        "moment": "anniversary",
                        "date": dates[inside],
                        "years": whole[inside],
                    }
                )
            )
    if not rows:
        return pd.DataFrame(columns=["customer_id", "moment", "date", "years"])
    found = pd.concat([r for r in rows if len(r)] or rows[:1], ignore_index=True)
    found["years"] = found["years"].astype("Int64")
    return found.sort_values(["date", "moment", "customer_id"], kind="stable").reset_index(
        drop=True
    )


def _on(month_day: str, year: int) -> str:
    """29 February falls on 28 February outside leap years."""
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return "02-28" if month_day == "02-29" and not leap else month_day


def moment_counts(moments: pd.DataFrame, tiers: pd.Series | None) -> pd.DataFrame:
    """Customers per moment and value tier (``unknown`` without a tier).

    Returns
    -------
    DataFrame
        Index :data:`MOMENTS`, one column per tier plus ``total``.
    """
    tier = (
        tiers.reindex(moments["customer_id"].astype(str)).to_numpy()
        if tiers is not None
        else [None] * len(moments)
    )
    frame = moments.assign(tier=pd.Series(tier, index=moments.index).fillna("unknown"))
    counts = pd.crosstab(frame["moment"], frame["tier"]).reindex(index=list(MOMENTS), fill_value=0)
    first = [t for t in ("high", "medium", "low") if t in counts.columns]
    counts = counts[first + sorted(c for c in counts.columns if c not in first)]
    counts["total"] = counts.sum(axis=1)
    counts.columns.name = None
    return counts

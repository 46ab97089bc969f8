"""Strategy summary: the KPI scorecard, segment overview, ranked alerts and referral results.

Pure functions over clean tables (:class:`analysis.data.Dataset` members) and over the
other reports' exports; nothing here reads files, prints or renders. Every KPI is defined
once, in :func:`period_values`, and the same definition is used for the unit's scorecard,
the cross-unit table and the referred vs non-referred comparison.

Examples
--------
>>> import pandas as pd
>>> from analysis.period import Period
>>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 20.0],
...     "order_id": ["1", "2", "3"],
...     "order_date": pd.to_datetime(["2025-08-01", "2025-10-02", "2025-10-03"])})
>>> v = period_values(orders, Period.parse("2025-Q4"))
>>> v["active"], v["new"], v["retention_rate"]
(2.0, 1.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import satisfaction
from .figures import risk_figures
from .lookup import isin
from .overview import first_purchases
from .period import Period
from .satisfaction._common import clean_scores, scale_for

__all__ = [
    "HIGHER_IS_BETTER",
    "HIGH_SHARE",
    "KPI_KIND",
    "KPI_ORDER",
    "MAX_HIGH",
    "MAX_MEDIUM",
    "MEDIUM_SHARE",
    "UNIT_KPIS",
    "Z_95",
    "Action",
    "Alert",
    "attribute_gap",
    "fix_first_alert",
    "kpi_scorecard",
    "lifecycle_outflow_alert",
    "nps_change",
    "nps_change_alert",
    "period_values",
    "rank_actions",
    "rank_alerts",
    "referral_comparison",
    "referral_rate",
    "segment_overview",
    "segment_shift_alerts",
    "share_shift_intervals",
    "top_referrers",
    "unit_comparison",
    "value_at_risk_alert",
    "value_priority",
]

#: The scorecard's KPIs, in display order.
KPI_ORDER = (
    "active",
    "new",
    "churned",
    "reactivated",
    "retention_rate",
    "churn_rate",
    "revenue",
    "revenue_per_customer",
    "repeat_rate",
    "nps",
    "csat",
    "complaint_rate",
    "resolution_hours",
)
#: How each KPI is shown and compared: ``count``/``money``/``hours`` change relatively
#: (``+5%``), ``rate`` (a share 0-1) in percentage points, ``points`` (NPS) in points.
KPI_KIND = {
    "active": "count",
    "new": "count",
    "churned": "count",
    "reactivated": "count",
    "retention_rate": "rate",
    "churn_rate": "rate",
    "revenue": "money",
    "revenue_per_customer": "money",
    "repeat_rate": "rate",
    "nps": "points",
    "csat": "rate",
    "complaint_rate": "rate",
    "resolution_hours": "hours",
}
#: Whether an increase is good news (for the up/down marker's colour).
HIGHER_IS_BETTER = {
    "active": True,
    "new": True,
    "churned": False,
    "reactivated": True,
    "retention_rate": True,
    "churn_rate": False,
    "revenue": True,
    "revenue_per_customer": True,
    "repeat_rate": True,
    "nps": True,
    "csat": True,
    "complaint_rate": False,
    "resolution_hours": False,
}
#: The headline KPIs of the cross-unit comparison.
UNIT_KPIS = (
    "active",
    "new",
    "retention_rate",
    "revenue",
    "revenue_per_customer",
    "repeat_rate",
    "nps",
    "csat",
    "complaint_rate",
)
_RELATIVE = {"count", "money", "hours"}


# --------------------------------------------------------------------------- KPIs


def _purchases(
    orders: pd.DataFrame, period: Period, columns: tuple[str, ...] = ("customer_id",)
) -> pd.DataFrame:
    """The purchase rows (positive amount) of ``period``, only ``columns`` of them: a copy
    of every column of a few million order rows costs more than the counting."""
    inside = period.contains(orders["order_date"]).to_numpy() & (orders["amount"] > 0).to_numpy()
    return orders.loc[inside, list(columns)]


def _active(orders: pd.DataFrame, period: Period) -> pd.Index:
    return pd.Index(_purchases(orders, period)["customer_id"].astype(str).unique())


def period_values(
    orders: pd.DataFrame,
    period: Period,
    surveys: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
    *,
    csat_scale: tuple[int, int] = (1, 5),
    csat_top_box: int = 2,
) -> dict[str, float]:
    """The scorecard KPIs of one period.

    A *purchase* is an order row with a positive amount (refunds are negative rows); a
    customer is *active* in a period when they made a purchase in it.

    Parameters
    ----------
    orders
        Clean orders (``customer_id, order_id, order_date, amount``), any history.
    period
        The period to measure.
    surveys
        Survey responses (``response_date``, ``nps``, ``csat``) or None.
    interactions
        Interactions (``date``, ``type``, ``resolved``, ``resolution_hours``) or None.
    csat_scale, csat_top_box
        Declared CSAT scale and how many top levels count as satisfied.

    Returns
    -------
    dict
        ``active``: active customers. ``new``: active customers whose first purchase ever
        falls in the period. ``reactivated``: active customers who were not active in the
        previous period but bought before it (back after at least one silent period).
        ``churned``: customers active in the previous period but not in this one.
        ``retention_rate``: share of the previous period's active customers active again
        in this period; ``churn_rate`` = churned / previous active = 1 - retention (NaN
        without previous active customers). ``revenue``: net amount of all order rows in
        the period (refunds subtracted). ``revenue_per_customer``: revenue / active.
        ``repeat_rate``: share of active customers with two or more purchase orders in
        the period. ``nps``: Net Promoter Score (-100..100) of the responses dated in the
        period, ``csat``: their top-box share (0-1). ``complaint_rate``: complaints dated
        in the period per active customer. ``resolution_hours``: median resolution time of
        the period's resolved complaints. Values without a base are NaN.
    """
    purchases = _purchases(orders, period, ("customer_id", "order_id"))
    ids = purchases["customer_id"].astype(str)
    active = pd.Index(ids.unique())
    previous = period.previous()
    before = _active(orders, previous)
    first = first_purchases(orders)
    first_now = first.reindex(active)
    new = active[period.contains(first_now).to_numpy()]
    earlier = first_now < previous.start_ts
    reactivated = active[earlier.to_numpy() & ~isin(active, before)]
    kept = isin(before, active)
    n_active, n_before = len(active), len(before)
    revenue = float(orders.loc[period.contains(orders["order_date"]), "amount"].sum())
    order_counts = purchases.groupby(ids)["order_id"].nunique()
    values: dict[str, float] = {
        "active": float(n_active),
        "new": float(len(new)),
        "churned": float(n_before - kept.sum()),
        "reactivated": float(len(reactivated)),
        "retention_rate": float(kept.sum() / n_before) if n_before else np.nan,
        "churn_rate": float(1 - kept.sum() / n_before) if n_before else np.nan,
        "revenue": revenue,
        "revenue_per_customer": revenue / n_active if n_active else np.nan,
        "repeat_rate": float((order_counts >= 2).mean()) if n_active else np.nan,
        "nps": np.nan,
        "csat": np.nan,
        "complaint_rate": np.nan,
        "resolution_hours": np.nan,
    }
    if surveys is not None and len(surveys):
        answered = surveys.loc[period.contains(surveys["response_date"])]
        if "nps" in answered.columns:
            values["nps"] = satisfaction.nps(answered["nps"]).nps
        if "csat" in answered.columns:
            values["csat"] = satisfaction.csat(
                answered["csat"], scale=csat_scale, top_box=csat_top_box
            ).top_box
    if interactions is not None and "type" in interactions.columns:
        inside = interactions.loc[period.contains(interactions["date"])]
        complaints = inside.loc[inside["type"].astype(str) == "complaint"]
        if n_active:
            values["complaint_rate"] = len(complaints) / n_active
        if "resolution_hours" in complaints.columns:
            hours = pd.to_numeric(complaints["resolution_hours"], errors="coerce")
            if "resolved" in complaints.columns:
                hours = hours.loc[complaints["resolved"].astype("boolean").fillna(False)]
            hours = hours.dropna()
            if len(hours):
                values["resolution_hours"] = float(hours.median())
    return values


def _change(kind: str, new: float, old: float) -> float:
    """Relative change for counts, money and hours; a difference for rates and points."""
    if not (math.isfinite(new) and math.isfinite(old)):
        return np.nan
    if kind in _RELATIVE:
        return (new - old) / abs(old) if old else np.nan
    return new - old


#: Scorecard KPIs that are business figures of :mod:`analysis.figures` (KPI -> figure id).
FIGURE_OF_KPI = {
    "active": "active_customers",
    "new": "new_customers",
    "churned": "churned_customers",
    "reactivated": "reactivated_customers",
    "retention_rate": "retention_rate",
    "churn_rate": "churn_rate",
    "revenue": "net_revenue",
    "nps": "nps",
    "csat": "csat",
}


def kpi_scorecard(
    orders: pd.DataFrame,
    period: Period,
    surveys: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
    *,
    figures: Any = None,
    **options: Any,
) -> pd.DataFrame:
    """The KPIs of the period, the previous period and the same period a year earlier.

    A comparison period before the first order has no values (NaN), so no change either.
    ``options`` go to :func:`period_values`. With ``figures`` (the unit's
    :class:`analysis.figures.UnitFigures`), the KPIs of :data:`FIGURE_OF_KPI` take the
    figures' values, so the scorecard quotes the unit's one definition of churn.

    Returns
    -------
    pandas.DataFrame
        Index ``kpi`` (:data:`KPI_ORDER`); columns ``kind``, ``higher_is_better``,
        ``current``, ``previous``, ``change``, ``year_ago``, ``change_yoy``. A change is
        relative (0.05 = +5%) for counts, money and hours, and a difference for rates
        (share points, 0.01 = 1 pt) and the NPS (points).

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "a"], "amount": [10.0, 30.0],
    ...     "order_id": ["1", "2"], "order_date": pd.to_datetime(["2025-08-01", "2025-11-01"])})
    >>> card = kpi_scorecard(orders, Period.parse("2025-Q4"))
    >>> card.loc["revenue", ["current", "previous", "change"]].tolist()
    [30.0, 10.0, 2.0]
    """
    first = orders["order_date"].min() if len(orders) else pd.NaT
    columns = {}
    for name, p in (("current", period), ("previous", period.previous())):
        columns[name] = p
    columns["year_ago"] = period.year_ago()
    values = {}
    for name, p in columns.items():
        has_data = pd.notna(first) and first < p.end_exclusive
        values[name] = (
            period_values(orders, p, surveys, interactions, **options)
            if has_data or name == "current"
            else dict.fromkeys(KPI_ORDER, np.nan)
        )
    if figures is not None:
        for name in values:
            source = getattr(figures, name)
            for kpi, figure in FIGURE_OF_KPI.items():
                values[name][kpi] = source.get(figure, np.nan)
    frame = pd.DataFrame(values).reindex(list(KPI_ORDER)).astype(float)
    frame.index.name = "kpi"
    frame.insert(0, "higher_is_better", [HIGHER_IS_BETTER[k] for k in frame.index])
    frame.insert(0, "kind", [KPI_KIND[k] for k in frame.index])
    frame["change"] = [
        _change(KPI_KIND[k], frame.at[k, "current"], frame.at[k, "previous"]) for k in frame.index
    ]
    frame["change_yoy"] = [
        _change(KPI_KIND[k], frame.at[k, "current"], frame.at[k, "year_ago"]) for k in frame.index
    ]
    return frame[
        ["kind", "higher_is_better", "current", "previous", "change", "year_ago", "change_yoy"]
    ]


def unit_comparison(
    orders: pd.DataFrame,
    period: Period,
    surveys: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
    *,
    unit_col: str = "business_unit",
    figures: Mapping[str, Any] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """The headline KPIs (:data:`UNIT_KPIS`) of every business unit, with the change of
    revenue vs the previous period. ``figures`` maps a unit to its
    :class:`analysis.figures.UnitFigures` (see :func:`kpi_scorecard`).

    Returns
    -------
    pandas.DataFrame
        Index ``business_unit`` (units with orders, sorted by revenue, largest first);
        columns :data:`UNIT_KPIS`, ``revenue_change`` and ``revenue_share``.
    """
    rows = {}
    units = sorted(orders[unit_col].dropna().astype(str).unique())

    def own(frame: pd.DataFrame | None, unit: str) -> pd.DataFrame | None:
        if frame is None or unit_col not in frame.columns:
            return None
        return frame.loc[frame[unit_col].astype(str) == unit]

    for unit in units:
        card = kpi_scorecard(
            own(orders, unit),
            period,
            own(surveys, unit),
            own(interactions, unit),
            figures=(figures or {}).get(unit),
            **options,
        )
        row = card.loc[list(UNIT_KPIS), "current"].to_dict()
        row["revenue_change"] = card.at["revenue", "change"]
        rows[unit] = row
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[*UNIT_KPIS, "revenue_change"])
    frame.index.name = unit_col
    total = frame["revenue"].sum()
    frame["revenue_share"] = frame["revenue"] / total if total else np.nan
    return frame.sort_values("revenue", ascending=False).astype(float)


# --------------------------------------------------------------------------- segments


def segment_overview(
    current: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    *,
    segment_col: str = "segment",
    revenue_col: str = "revenue",
    segments: list[str] | None = None,
) -> pd.DataFrame:
    """Size and revenue share per segment, with the change vs an earlier assignment.

    Parameters
    ----------
    current, previous
        One row per customer: ``segment_col`` (NA = not in any segment, left out) and
        ``revenue_col``. ``previous`` may be None (no trend).
    segments
        Segment order; None: the segments of ``current`` by size.

    Returns
    -------
    pandas.DataFrame
        Index ``segment``; ``customers``, ``customer_share``, ``revenue``,
        ``revenue_share``, ``previous_customers``, ``previous_share``, ``change``
        (customers) and ``share_change`` (points of share, 0.01 = 1 pt); the previous
        columns are NaN without ``previous``.
    """
    now = current.dropna(subset=[segment_col])
    keys = now[segment_col].astype(str)
    counts = keys.value_counts()
    order = segments if segments is not None else counts.index.tolist()
    revenue = now[revenue_col].astype(float).groupby(keys).sum()
    table = pd.DataFrame(index=pd.Index(order, name="segment"))
    table["customers"] = counts.reindex(order, fill_value=0).astype(float)
    table["customer_share"] = table["customers"] / max(table["customers"].sum(), 1)
    table["revenue"] = revenue.reindex(order, fill_value=0.0)
    positive = table["revenue"].clip(lower=0).sum()
    table["revenue_share"] = table["revenue"] / positive if positive else np.nan
    if previous is not None:
        before = previous.dropna(subset=[segment_col])[segment_col].astype(str).value_counts()
        table["previous_customers"] = before.reindex(order, fill_value=0).astype(float)
        total = table["previous_customers"].sum()
        table["previous_share"] = table["previous_customers"] / total if total else np.nan
    else:
        table["previous_customers"] = np.nan
        table["previous_share"] = np.nan
    table["change"] = table["customers"] - table["previous_customers"]
    table["share_change"] = table["customer_share"] - table["previous_share"]
    return table


# --------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class Alert:
    """One finding for the manager.

    Attributes
    ----------
    kind
        ``segment_grew``, ``segment_shrank``, ``value_at_risk``, ``nps_change``,
        ``fix_first`` or ``lifecycle_outflow`` (the message key).
    tone
        ``bad`` (act on it), ``good`` (good news) or ``info``.
    score
        Ranking weight, larger first: the size of the finding relative to what counts as
        large for its kind (1.0 = large), halved for good news.
    values
        What the message needs (raw numbers and keys; wording is the caller's).
    """

    kind: str
    tone: str
    score: float
    values: dict[str, Any] = field(default_factory=dict)


def _tone_weight(tone: str) -> float:
    return 0.5 if tone == "good" else 1.0


#: The two-sided 95% normal quantile (scipy.stats.norm.ppf(0.975)): the half-width of a
#: 95% interval in standard errors, used by every "within its interval" check below.
Z_95 = 1.959963984540054


def share_shift_intervals(overview: pd.DataFrame, *, z: float = Z_95) -> pd.DataFrame:
    """Each segment's share change with its interval (two-proportion normal approximation).

    The share now is ``p1 = c1 / N1`` and before ``p0 = c0 / N0``; the change's standard
    error is ``sqrt(p1 (1 - p1) / N1 + p0 (1 - p0) / N0)`` (the Wald interval of a
    difference of two binomial proportions). The two assignments share many customers,
    which makes the true variance of the change smaller, so the interval is conservative:
    a change it calls real is real.

    Parameters
    ----------
    overview
        :func:`segment_overview` with a previous assignment.
    z
        Half-width of the interval in standard errors (:data:`Z_95`).

    Returns
    -------
    pandas.DataFrame
        Index ``segment``; ``share_change``, ``interval`` (the half-width, in share units),
        ``change`` (customers) and ``significant``: the change is outside its interval and
        the customer count moved (a "+0 customers" shift is never significant).

    Examples
    --------
    >>> table = segment_overview(
    ...     pd.DataFrame({"segment": ["x"] * 600 + ["y"] * 400, "revenue": 1.0}),
    ...     pd.DataFrame({"segment": ["x"] * 500 + ["y"] * 500, "revenue": 1.0}))
    >>> share_shift_intervals(table)["significant"].tolist()
    [True, True]
    """
    n1 = float(overview["customers"].sum())
    n0 = float(overview["previous_customers"].sum())
    p1 = overview["customer_share"].astype(float)
    p0 = overview["previous_share"].astype(float)
    if n1 > 0 and n0 > 0:
        se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    else:
        se = pd.Series(np.nan, index=overview.index)
    change = overview["share_change"].astype(float)
    counts = overview["change"].astype(float)
    frame = pd.DataFrame(
        {"share_change": change, "interval": z * se, "change": counts}, index=overview.index
    )
    frame["significant"] = (change.abs() > frame["interval"]) & counts.fillna(0).ne(0)
    return frame


def segment_shift_alerts(
    overview: pd.DataFrame,
    direction: Mapping[str, bool | None],
    *,
    large_shift: float = 0.05,
    min_shift: float = 0.005,
    z: float = Z_95,
) -> list[Alert]:
    """The segment whose share grew most and the one that shrank most, among the shifts
    outside their interval.

    A shift is raised only when it is outside its interval
    (:func:`share_shift_intervals`, 95% by default), the segment's customer count moved,
    and it is at least ``min_shift``; so a within-noise shift or a "+0 customers" shift is
    never an alert. It is scored ``|share change| / large_shift`` (5 points = 1.0); growth
    of a segment where growth is bad (``direction`` False) or shrinkage where it is good is
    ``bad``.

    Parameters
    ----------
    overview
        :func:`segment_overview` with a previous assignment.
    direction
        Segment -> True (growth is good), False (growth is bad) or None (neutral).
    z
        Half-width of the interval in standard errors.
    """
    intervals = share_shift_intervals(overview, z=z)
    kept = intervals.loc[intervals["significant"] & intervals["share_change"].notna()]
    moved = kept["share_change"]
    moved = moved.loc[moved.abs() >= min_shift]
    alerts = []
    for kind, key in (
        ("segment_grew", moved.idxmax() if len(moved) else None),
        ("segment_shrank", moved.idxmin() if len(moved) else None),
    ):
        if key is None:
            continue
        change = float(moved[key])
        if (kind == "segment_grew") != (change > 0):
            continue
        good = direction.get(key)
        tone = "info" if good is None else ("good" if (change > 0) == good else "bad")
        alerts.append(
            Alert(
                kind,
                tone,
                abs(change) / large_shift * _tone_weight(tone),
                {
                    "segment": key,
                    "share_change": change,
                    "interval": float(intervals.at[key, "interval"]),
                    "change": float(overview.at[key, "change"]),
                    "customers": float(overview.at[key, "customers"]),
                },
            )
        )
    return alerts


def value_at_risk_alert(
    risk: pd.DataFrame, revenue_12m: float, *, high_risk: float = 0.5, large_share: float = 0.1
) -> Alert | None:
    """Value at risk from the churn report's early-warning list (``churn_risk.csv``).

    Scored as the value at risk of the high-risk customers over the last 12 months'
    revenue, relative to ``large_share`` (10% of revenue = 1.0).

    Parameters
    ----------
    risk
        ``customer_id, churn_probability, value_at_risk, reason_feature_1`` per customer.
        The most common first reason is counted by its feature: the words of a reason
        carry each customer's own value ("fewer purchase days (2)"), so counting them
        would split one reason into many.
    revenue_12m
        Net revenue of the 12 months up to the period end.
    high_risk
        Churn probability from which a customer counts as high risk.

    Returns
    -------
    Alert or None
        None without customers at high risk.
    """
    high = risk.loc[risk["churn_probability"] >= high_risk]
    if high.empty:
        return None
    value = risk_figures(risk, high_risk)["value_at_risk"]
    top_reason, reason_customers = None, 0
    if "reason_feature_1" in high.columns:
        reasons = high["reason_feature_1"].dropna().astype(str)
        counts = reasons[reasons != ""].value_counts(sort=False)
        if len(counts):  # most customers first, ties by name
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            top_reason, reason_customers = ranked[0][0], int(ranked[0][1])
    share = value / revenue_12m if revenue_12m > 0 else np.nan
    return Alert(
        "value_at_risk",
        "bad",
        (share if math.isfinite(share) else 1.0) / large_share,
        {
            "customers": len(high),
            "value": value,
            "total_value": float(risk["value_at_risk"].sum()),
            "share": share,
            "reason": top_reason,
            "reason_customers": reason_customers,
            "high_risk": high_risk,
        },
    )


def nps_change(current: pd.Series, previous: pd.Series) -> dict[str, float]:
    """Compare the NPS of two sets of answers with a two-sample z test.

    A thin wrapper of :func:`analysis.satisfaction.nps_change` (the one implementation:
    ``z = (NPS1 - NPS0) / sqrt(SE1^2 + SE0^2)`` with trinomial standard errors,
    two-sided p-value), as the plain dict an :class:`Alert` carries.

    Returns
    -------
    dict
        ``nps``, ``previous_nps``, ``change`` (points), ``z``, ``p_value``, ``n``,
        ``previous_n`` (NaN statistics when either side has no answers).

    Examples
    --------
    >>> r = nps_change(pd.Series([10] * 50 + [0] * 50), pd.Series([10] * 80 + [0] * 20))
    >>> round(r["change"], 1), r["p_value"] < 0.001
    (-60.0, True)
    """
    found = satisfaction.nps_change(current, previous)
    return {
        "nps": float(found.current.nps),
        "previous_nps": found.previous.nps,
        "change": float(found.change),
        "z": float(found.z),
        "p_value": float(found.p_value),
        "n": found.current.n,
        "previous_n": found.previous.n,
    }


def nps_change_alert(
    change: Mapping[str, float], *, alpha: float = 0.05, min_base: int = 30, large: float = 10.0
) -> Alert | None:
    """An alert when the NPS changed significantly (``p < alpha``, both bases at least
    ``min_base``); scored ``|change| / large`` (10 points = 1.0), halved for a rise."""
    p = change.get("p_value", np.nan)
    if not (math.isfinite(p) and p < alpha) or min(change["n"], change["previous_n"]) < min_base:
        return None
    tone = "bad" if change["change"] < 0 else "good"
    return Alert(
        "nps_change", tone, abs(change["change"]) / large * _tone_weight(tone), dict(change)
    )


def attribute_gap(
    responses: pd.DataFrame,
    attribute: str,
    attributes: list[str],
    scale: tuple[int, int] | Mapping[str, tuple[int, int]] | None = None,
    *,
    z: float = Z_95,
) -> dict[str, float]:
    """How far one attribute's rating lies below the mean over the attributes, with its
    interval.

    Paired per response: ``d_i = x_ai - mean_j x_ji`` (the response's rating of the
    attribute minus its mean rating over the attributes it answered, at least two). The
    gap is the mean of ``d`` (with complete answers exactly the attribute's mean rating
    minus the mean of the attributes' means, the importance-performance split) and its
    interval ``z * sd(d) / sqrt(n)``. Pairing removes the respondent's general mood from
    the comparison, so a real gap is found with fewer answers than by comparing two means.

    Parameters
    ----------
    responses
        Survey responses with the rating columns (raw answers; invalid ones are left out
        as :func:`analysis.satisfaction.importance_performance` does).
    attribute, attributes
        The attribute compared and the attributes of the importance-performance analysis.
    scale
        Declared scale (one pair or per column).

    Returns
    -------
    dict
        ``gap`` (negative: below the mean), ``interval`` (half-width), ``n`` (responses).

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1, 2, 1, 2] * 10, "b": [4, 5, 4, 5] * 10})
    >>> round(attribute_gap(frame, "a", ["a", "b"], (1, 5))["gap"], 2)
    -1.5
    """
    valid = pd.DataFrame(
        {c: clean_scores(responses[c], scale_for(c, scale))[0] for c in attributes},
        index=responses.index,
    )
    answered = valid[attribute].notna() & (valid.notna().sum(axis=1) >= 2)
    d = (valid[attribute] - valid.mean(axis=1)).loc[answered]
    n = int(len(d))
    if n < 2:
        return {"gap": np.nan, "interval": np.nan, "n": n}
    return {
        "gap": float(d.mean()),
        "interval": float(z * d.std(ddof=1) / math.sqrt(n)),
        "n": n,
    }


def fix_first_alert(
    ipa: satisfaction.IPAResult,
    responses: pd.DataFrame,
    scale: tuple[int, int] | Mapping[str, tuple[int, int]] | None = None,
    *,
    score: float = 0.8,
    z: float = Z_95,
) -> Alert | None:
    """The most important attribute of the importance-performance "fix first" quadrant
    (high importance, low performance) whose rating is below the mean over the attributes
    by more than its interval (:func:`attribute_gap`); a fixed ``score`` as it has no
    natural size.

    An attribute rated 4.05 against a mean of 4.06 sits in the quadrant by a hair; it is
    not raised, and neither is any other whose gap is within its interval (None then).

    Parameters
    ----------
    ipa
        :func:`analysis.satisfaction.importance_performance`.
    responses, scale
        The answers the analysis used for performance and their declared scales.
    """
    attributes = list(ipa.table.index)
    for name in ipa.fix_first_list:
        gap = attribute_gap(responses, name, attributes, scale, z=z)
        if not (math.isfinite(gap["gap"]) and gap["gap"] + gap["interval"] < 0):
            continue
        row = ipa.table.loc[name]
        return Alert(
            "fix_first",
            "bad",
            score,
            {
                "attribute": name,
                "importance": float(row["importance"]),
                "performance": float(row["performance"]),
                "mean_performance": ipa.performance_split,
                "gap": gap["gap"],
                "interval": gap["interval"],
                "n": gap["n"],
            },
        )
    return None


def lifecycle_outflow_alert(
    outflow: Mapping[str, Any] | None, *, large_share: float = 0.25
) -> Alert | None:
    """The biggest move to a worse lifecycle stage
    (:func:`analysis.valuation.biggest_outflow`), scored as the share of the source stage
    that moved relative to ``large_share`` (a quarter = 1.0)."""
    if not outflow:
        return None
    share = float(outflow["share"])
    return Alert(
        "lifecycle_outflow",
        "bad",
        (share if math.isfinite(share) else 0.0) / large_share,
        dict(outflow),
    )


def rank_alerts(alerts: list[Alert | None]) -> list[Alert]:
    """Drop the empty ones and sort: things to act on first, then by score."""
    found = [a for a in alerts if a is not None]
    return sorted(found, key=lambda a: (a.tone == "good", -a.score))


# --------------------------------------------------------------------------- priority

#: Value-at-stake priority (:func:`value_priority`): the groups that together make up the
#: first half of the value at stake are "high" (at most :data:`MAX_HIGH` of them), the
#: next ones up to 80% "medium" (at most :data:`MAX_MEDIUM`), the rest "low".
HIGH_SHARE = 0.5
MEDIUM_SHARE = 0.8
MAX_HIGH = 2
MAX_MEDIUM = 3


def value_priority(
    value_at_stake: pd.Series,
    *,
    high_share: float = HIGH_SHARE,
    medium_share: float = MEDIUM_SHARE,
    max_high: int = MAX_HIGH,
    max_medium: int = MAX_MEDIUM,
) -> pd.Series:
    """Priority of each group from its value at stake, so that only a few are "high".

    The groups are sorted by value at stake (largest first, ties by key). A group is
    ``high`` when the groups before it hold less than ``high_share`` of the total (so the
    smallest set of groups that reaches it), at most ``max_high`` groups; then ``medium``
    while the groups before it hold less than ``medium_share``, at most ``max_medium``;
    every other group, and every group with no positive value, is ``low``. The total is
    the sum of the positive values.

    Parameters
    ----------
    value_at_stake
        Group key -> money at stake (e.g. the segment's net revenue of the RFM window).

    Returns
    -------
    pandas.Series
        Same index: ``high``, ``medium`` or ``low``.

    Examples
    --------
    >>> value_priority(pd.Series({"a": 50.0, "b": 30.0, "c": 15.0, "d": 5.0})).tolist()
    ['high', 'medium', 'low', 'low']
    >>> value_priority(pd.Series({"a": 40.0, "b": 30.0, "c": 20.0, "d": 10.0})).tolist()
    ['high', 'high', 'medium', 'low']
    """
    values = pd.to_numeric(value_at_stake, errors="coerce").astype(float).fillna(0.0)
    out = pd.Series("low", index=values.index, dtype="object")
    total = float(values.clip(lower=0).sum())
    if total <= 0:
        return out
    order = sorted(values.index, key=lambda k: (-values[k], str(k)))
    before, high, medium = 0.0, 0, 0
    for key in order:
        if values[key] <= 0:
            break
        if before / total < high_share and high < max_high:
            out[key], high = "high", high + 1
        elif before / total < medium_share and medium < max_medium:
            out[key], medium = "medium", medium + 1
        before += float(values[key])
    return out


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Action:
    """One thing to do now: who, how much money is at stake, and why.

    Attributes
    ----------
    kind
        ``retain`` (the churn report's high-risk customers) or ``segment`` (an RFM
        segment, its playbook entry).
    key
        The segment key (``""`` for ``retain``).
    customers
        How many customers the action reaches.
    value
        Money at stake: the value at risk of the high-risk customers, or the segment's
        net revenue of the RFM window.
    values
        The figures the sentence quotes (raw numbers and keys; wording is the caller's).
    """

    kind: str
    key: str
    customers: int
    value: float
    values: dict[str, Any] = field(default_factory=dict)


def rank_actions(actions: list[Action | None], n: int = 3) -> list[Action]:
    """The ``n`` actions with the most money at stake (ties by kind and key); actions
    that reach nobody or put no money at stake are left out."""
    found = [
        a
        for a in actions
        if a is not None and a.customers > 0 and math.isfinite(a.value) and a.value > 0
    ]
    return sorted(found, key=lambda a: (-a.value, a.kind, a.key))[:n]


# --------------------------------------------------------------------------- referral


def _referrer(customers: pd.DataFrame, ref_col: str) -> pd.Series:
    ref = customers.set_index(customers["customer_id"].astype(str))[ref_col]
    ref = ref.astype("string").str.strip()
    return ref.where(ref.notna() & (ref != ""))


def _known(customers: pd.DataFrame, orders: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Customers known by the period end (signed up, or a first purchase, before it)."""
    ids = customers["customer_id"].astype(str)
    seen = orders.loc[orders["order_date"] < period.end_exclusive, "customer_id"].astype(str)
    known = isin(ids, seen.unique())
    if "signup_date" in customers.columns:
        known |= pd.to_datetime(customers["signup_date"]).lt(period.end_exclusive).to_numpy()
    return customers.loc[known]


def referral_rate(
    customers: pd.DataFrame, orders: pd.DataFrame, period: Period, *, ref_col: str = "referred_by"
) -> dict[str, float]:
    """Share of customers referred by another customer.

    Returns
    -------
    dict
        ``customers`` (known by the period end), ``referred`` and ``rate`` (their share);
        ``new`` (first purchase in the period), ``new_referred`` and ``new_rate``.
    """
    known = _known(customers, orders, period)
    ref = _referrer(known, ref_col)
    positive = orders.loc[orders["amount"] > 0]
    first = positive.groupby(positive["customer_id"].astype(str))["order_date"].min()
    new_ids = first.index[period.contains(first).to_numpy()]
    new = ref.reindex(ref.index.intersection(new_ids))
    return {
        "customers": float(len(ref)),
        "referred": float(ref.notna().sum()),
        "rate": float(ref.notna().mean()) if len(ref) else np.nan,
        "new": float(len(new)),
        "new_referred": float(new.notna().sum()),
        "new_rate": float(new.notna().mean()) if len(new) else np.nan,
    }


def top_referrers(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    period: Period,
    *,
    ref_col: str = "referred_by",
    n: int = 10,
) -> pd.DataFrame:
    """The customers who brought the most referred customers (known by the period end).

    Returns
    -------
    pandas.DataFrame
        Index ``referrer`` (customer id); ``referred`` (customers they referred),
        ``referred_active`` (of them, active in the period), ``referred_revenue`` (the
        referred customers' net revenue in the period), ``referrer_active`` (whether the
        referrer bought in the period); most referrals first, then revenue.
    """
    ref = _referrer(_known(customers, orders, period), ref_col).dropna()
    columns = ["referred", "referred_active", "referred_revenue", "referrer_active"]
    if ref.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="referrer"), dtype=float)
    active = _active(orders, period)
    inside = orders.loc[period.contains(orders["order_date"])]
    revenue = inside["amount"].groupby(inside["customer_id"].astype(str)).sum()
    frame = pd.DataFrame(
        {
            "referrer": ref.to_numpy(),
            "active": isin(ref.index, active),
            "revenue": revenue.reindex(ref.index, fill_value=0.0).to_numpy(),
        }
    )
    table = frame.groupby("referrer").agg(
        referred=("active", "size"),
        referred_active=("active", "sum"),
        referred_revenue=("revenue", "sum"),
    )
    table["referrer_active"] = isin(table.index, active)
    table = table.sort_values(["referred", "referred_revenue"], ascending=False)
    return table.head(n)[columns]


def referral_comparison(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    period: Period,
    *,
    ref_col: str = "referred_by",
) -> pd.DataFrame:
    """Value and retention of referred vs non-referred customers.

    Returns
    -------
    pandas.DataFrame
        Index ``group`` (``referred``, ``not_referred``); ``customers`` (known by the
        period end), ``active``, ``active_share``, ``revenue_per_customer`` (net revenue
        in the period per known customer), ``revenue_per_active`` and ``retention_rate``
        (as in :func:`period_values`: share of the previous period's active customers of
        the group active again).
    """
    known = _known(customers, orders, period)
    ref = _referrer(known, ref_col)
    groups = {"referred": ref.index[ref.notna()], "not_referred": ref.index[ref.isna()]}
    active, before = _active(orders, period), _active(orders, period.previous())
    inside = orders.loc[period.contains(orders["order_date"])]
    revenue = inside["amount"].groupby(inside["customer_id"].astype(str)).sum()
    rows = {}
    for name, ids in groups.items():
        n = len(ids)
        act = ids.intersection(active)
        prev = ids.intersection(before)
        rev = float(revenue.reindex(ids, fill_value=0.0).sum())
        rows[name] = {
            "customers": float(n),
            "active": float(len(act)),
            "active_share": len(act) / n if n else np.nan,
            "revenue_per_customer": rev / n if n else np.nan,
            "revenue_per_active": rev / len(act) if len(act) else np.nan,
            "retention_rate": isin(prev, active).mean() if len(prev) else np.nan,
        }
    frame = pd.DataFrame.from_dict(rows, orient="index").astype(float)
    frame.index.name = "group"
    return frame

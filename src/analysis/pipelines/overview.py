"""The "Data overview and quality" report as one pure pipeline (issue #13).

:func:`build` returns a frozen :class:`OverviewResult`: the headline KPIs of the period
with the previous period and the same period a year earlier (``kpis``, the one place the
report's figures come from), the monthly trend of revenue and active customers, and the
customer-type mix of the period, all from :mod:`analysis.overview`. The view
(:mod:`analysis.report.views.overview`) only shows them; the data quality section comes
from the report context at the end of every report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import overview
from ..data.load import Dataset
from ..figures import UnitFigures, unit_figures
from ..period import Period
from .shared import SharedWork

__all__ = ["FIGURE_OF_KPI", "KPIS", "MONEY_KPIS", "TREND_MONTHS", "OverviewResult", "build"]

#: The headline KPIs, in display order (the index of :attr:`OverviewResult.kpis`).
KPIS = ("revenue", "active", "new", "orders", "revenue_per_active", "customers")
#: KPIs that are amounts of money (the others are counts).
MONEY_KPIS = frozenset({"revenue", "revenue_per_active"})
#: Overview KPIs that are business figures of :mod:`analysis.figures` (KPI -> figure id).
FIGURE_OF_KPI = {"revenue": "net_revenue", "active": "active_customers", "new": "new_customers"}
#: Months of history in the trend chart.
TREND_MONTHS = 24


@dataclass(frozen=True)
class OverviewResult:
    """What the overview report shows, for one unit and period.

    Attributes
    ----------
    status
        ``"ok"`` or ``"no_orders_in_period"`` (no purchase order in the period: the KPIs
        are zero, the comparisons still shown).
    period, previous, year_ago
        The report period and its two comparison periods.
    kpis
        Index ``kpi`` (:data:`KPIS`, in order): ``current``, ``previous``, ``change``
        (relative, NaN when the previous period has no data), ``year_ago`` and
        ``change_yoy``. Revenue, active and new customers are the unit's figures
        (:data:`FIGURE_OF_KPI`); see :func:`analysis.overview.period_kpis` for the others.
    figures
        The unit's figures without the risk model (:func:`analysis.figures.unit_figures`):
        the names and definitions the KPI cards link to.
    trend
        :func:`analysis.overview.monthly_trend` over :attr:`trend_months` up to the period
        end: ``month``, ``revenue``, ``orders``, ``active``.
    trend_months
        Months the trend covers at most.
    trend_status
        ``"ok"`` or ``"empty"`` (no revenue in those months: no chart).
    best_month, best_month_revenue
        The month with the most revenue in the trend and that revenue (None when empty).
    mix
        :func:`analysis.overview.customer_type_mix` of the period: ``customer_type``,
        ``customers``, ``customer_share``, ``revenue``, ``revenue_share``, by revenue
        (empty without customer types).
    """

    status: str
    period: Period
    previous: Period
    year_ago: Period
    kpis: pd.DataFrame
    trend: pd.DataFrame
    trend_months: int
    trend_status: str
    best_month: pd.Timestamp | None
    best_month_revenue: float | None
    mix: pd.DataFrame
    figures: UnitFigures


def build(
    data: Dataset,
    period: Period,
    params: Mapping[str, Any],
    *,
    shared: SharedWork | None = None,  # noqa: ARG001  (nothing of the overview is shared)
) -> OverviewResult:
    """Compute the overview report of one unit and period.

    Parameters
    ----------
    data
        The unit's clean data (orders and customers).
    period
        The report period.
    params
        The merged parameters (the churn rule of the unit's figures).
    shared
        The unit's shared work; the overview needs none of it.

    Returns
    -------
    OverviewResult

    Examples
    --------
    >>> result = build(ctx.data, ctx.period, ctx.params)  # doctest: +SKIP
    >>> result.kpis.loc["active", ["current", "previous", "year_ago"]]  # doctest: +SKIP
    """
    orders, customers = data.orders, data.customers
    kpis = overview.kpi_table(orders, customers, period).set_index("kpi").reindex(list(KPIS))
    figures = unit_figures(data, period, params)
    for kpi, figure in FIGURE_OF_KPI.items():
        for column in ("current", "previous", "year_ago"):
            kpis.loc[kpi, column] = getattr(figures, column)[figure]
    for column, base in (("change", "previous"), ("change_yoy", "year_ago")):
        old = kpis[base].where(kpis[base] != 0)
        kpis[column] = (kpis["current"] - old) / old.abs()
    trend = overview.monthly_trend(
        orders, period.end_exclusive - pd.Timedelta(days=1), TREND_MONTHS
    )
    empty = trend["revenue"].abs().sum() == 0
    best = None if empty else trend.loc[trend["revenue"].idxmax()]
    return OverviewResult(
        status="no_orders_in_period" if kpis.loc["orders", "current"] == 0 else "ok",
        period=period,
        previous=period.previous(),
        year_ago=period.year_ago(),
        kpis=kpis,
        trend=trend,
        trend_months=TREND_MONTHS,
        trend_status="empty" if empty else "ok",
        best_month=None if best is None else pd.Timestamp(best["month"]),
        best_month_revenue=None if best is None else float(best["revenue"]),
        mix=overview.customer_type_mix(customers, orders, period),
        figures=figures,
    )

"""Sections and charts of the "Data overview and quality" report.

Everything shown is computed by :func:`analysis.pipelines.overview.build` into an
:class:`~analysis.pipelines.overview.OverviewResult`; this module only displays it. A
section with a chart stops before it (the notebook draws the chart with the public
``plot_*`` functions) and a second function shows what follows the chart.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from ... import display as ui
from ... import plots
from ...i18n import Translator, catalog
from ...period import Period
from ...pipelines.overview import FIGURE_OF_KPI, MONEY_KPIS
from ..context import ReportContext
from ..wording import billed

if TYPE_CHECKING:  # the result type, for annotations only
    from ...pipelines.overview import OverviewResult

__all__ = [
    "glance_section",
    "kpi_section",
    "mix_section",
    "mix_table_section",
    "plot_active_trend",
    "plot_revenue_trend",
    "plot_type_mix",
    "trend_section",
    "trend_takeaway_section",
]


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _type_label(language: str, key: object) -> str:
    name = f"overview.type.{key}"
    return catalog(language)[name] if name in catalog(language) else str(key)


# --------------------------------------------------------------------------- KPIs


def _kpi_label(ctx: ReportContext, kpi: str, scheme: str | None = None) -> str:
    """A KPI's name: the unit figure's name where the KPI is a business figure; a billed
    unit's ``_subscription`` name ("Bills") where the catalog has one."""
    figure = FIGURE_OF_KPI.get(kpi)
    if figure:
        return ctx._(f"figures.{figure}.label")
    return ctx._(billed(ctx.language, f"overview.kpi.{kpi}", scheme))


#: The KPIs of the cards at the top (the others are in the appendix's table).
GLANCE_KPIS = ("revenue", "active", "new", "revenue_per_active")


def _best_month_in_period(result: OverviewResult) -> tuple[pd.Timestamp, float] | None:
    """The month of the report period with the most revenue (None without revenue)."""
    trend = result.trend
    if trend.empty:
        return None
    inside = trend.loc[result.period.contains(trend["month"])]
    if inside.empty or inside["revenue"].abs().sum() == 0:
        return None
    row = inside.loc[inside["revenue"].idxmax()]
    return pd.Timestamp(row["month"]), float(row["revenue"])


def _month_text(ctx: ReportContext, month: pd.Timestamp) -> str:
    if ctx.language == "zh":
        return f"{month.year}年{month.month}月"
    return ui.fmt_date(month, ctx.language)[-8:]


def glance_section(ctx: ReportContext, result: OverviewResult) -> list[str]:
    """The one-screen overview at the top: four key figures as cards (each linked to its
    definition where it is a unit figure), the findings in plain words, and where to read
    on. Returns the findings shown."""
    tr = ctx._
    table = result.kpis
    period = result.period
    ctx.heading("overview.glance.title")
    ctx.text(
        "overview.kpis.intro",
        period=str(period),
        start=period.start,
        end=period.end,
        previous=str(result.previous),
    )
    if result.status == "no_orders_in_period":
        ctx.note("overview.no_orders_in_period", "warning", period=str(period))
    vs = tr("common.vs_previous", period=str(result.previous))
    cards = [
        ui.KPI(
            _kpi_label(ctx, k, result.figures.scheme),
            (ctx.money if k in MONEY_KPIS else ctx.number)(table.loc[k, "current"]),
            _finite(table.loc[k, "change"]),
            vs,
            figure=FIGURE_OF_KPI.get(k),
        )
        for k in GLANCE_KPIS
        if k in table.index
    ]
    ctx.show(ui.kpi_cards(cards))
    found = _findings(ctx, result)
    ctx.show(ui.points(found))
    ctx.show(_read_more(ctx))
    return found


def _findings(ctx: ReportContext, result: OverviewResult) -> list[str]:
    tr = ctx._
    table = result.kpis
    revenue = ctx.money(table.loc["revenue", "current"])
    change, yoy = (
        _finite(table.loc["revenue", "change"]),
        _finite(table.loc["revenue", "change_yoy"]),
    )
    found = []
    if change is None:
        found.append(tr("overview.glance.revenue_flat", revenue=revenue))
    else:
        found.append(
            tr(
                "overview.glance.revenue_up" if change >= 0 else "overview.glance.revenue_down",
                revenue=revenue,
                change=ui.fmt_pct(abs(change)),
                previous=str(result.previous),
            )
        )
    if yoy is not None:
        found.append(
            tr(
                "overview.glance.yoy_up" if yoy >= 0 else "overview.glance.yoy_down",
                change=ui.fmt_pct(abs(yoy)),
                year_ago=str(result.year_ago),
            )
        )
    best = _best_month_in_period(result)
    if best is not None:
        found.append(
            tr(
                "overview.glance.best_month",
                month=_month_text(ctx, best[0]),
                revenue=ctx.money(best[1]),
                period=str(result.period),
            )
        )
    if not result.mix.empty:
        top = result.mix.iloc[0]
        found.append(
            tr(
                "overview.glance.top_type",
                type=_type_label(ctx.language, top["customer_type"]),
                share=ui.fmt_pct(top["revenue_share"]),
                customers=ui.fmt_pct(top["customer_share"]),
            )
        )
    return found


def _read_more(ctx: ReportContext) -> ui.Block:
    """Where to act and read on: the reports that say who to contact, and their lists."""
    tr = ctx._
    items = [
        ctx.link("summary", None, tr("overview.glance.link_summary")),
        ctx.link("value", "report_value.segments.title", tr("overview.glance.link_value")),
        ctx.link("churn", "report_churn.list.title", tr("overview.glance.link_churn")),
        ctx.link("segmentation", None, tr("overview.glance.link_segmentation")),
        ui.link(tr("overview.glance.link_figures"), "#sec-definitions"),
    ]
    return ui.block(
        f'<p class="sr-links">{ui.esc(tr("overview.glance.read_more"))} {" · ".join(items)}</p>'
    )


def kpi_section(ctx: ReportContext, result: OverviewResult) -> None:
    """The comparison table of every KPI (this period, previous, a year earlier) of
    ``result.kpis`` and its takeaway; the cards are in :func:`glance_section`. The report
    shows it in the appendix."""
    tr = ctx._
    ctx.heading("overview.kpis.title")
    table = result.kpis
    names = list(table.index)
    fmt = {k: (ctx.money if k in MONEY_KPIS else ctx.number) for k in names}
    shown = pd.DataFrame(
        {
            tr("overview.table.kpi"): [_kpi_label(ctx, k, result.figures.scheme) for k in names],
            tr("overview.table.current"): [fmt[k](table.loc[k, "current"]) for k in names],
            tr("overview.table.previous"): [fmt[k](table.loc[k, "previous"]) for k in names],
            tr("overview.table.change"): [
                ui.fmt_pct(_finite(table.loc[k, "change"]), signed=True) for k in names
            ],
            tr("overview.table.year_ago"): [fmt[k](table.loc[k, "year_ago"]) for k in names],
            tr("overview.table.change_yoy"): [
                ui.fmt_pct(_finite(table.loc[k, "change_yoy"]), signed=True) for k in names
            ],
        }
    )
    ctx.show(ui.table(shown))
    change = _finite(table.loc["revenue", "change"])
    values = dict(
        previous=str(result.previous),
        revenue=ctx.money(table.loc["revenue", "current"]),
        active=ctx.number(table.loc["active", "current"]),
    )
    if change is None:
        ctx.takeaway("overview.kpis.takeaway_flat", **values)
    else:
        key = "overview.kpis.takeaway_up" if change >= 0 else "overview.kpis.takeaway_down"
        ctx.takeaway(key, change=ui.fmt_pct(abs(change)), **values)


# --------------------------------------------------------------------------- trend


def trend_section(ctx: ReportContext, result: OverviewResult) -> None:
    """The trend heading, or a note when the months have no revenue (before
    :func:`plot_revenue_trend` and :func:`plot_active_trend`, drawn when
    ``result.trend_status == "ok"``)."""
    ctx.heading("overview.trend.title")
    if result.trend_status == "empty":
        ctx.note("overview.trend.empty", "warning", months=result.trend_months)


def _plot_monthly(
    trend: pd.DataFrame, column: str, period: Period | None, ax: Axes | None, kwargs
) -> Axes:
    ax = ax if ax is not None else plt.gca()
    highlight = (period.start, period.end) if period is not None else None
    plots.plot_trend(trend, x="month", y=column, highlight=highlight, ax=ax, **kwargs)
    if trend[column].min() >= 0:  # amounts and counts read from zero, not from the lowest month
        ax.set_ylim(bottom=0)
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=30)
    return ax


def plot_revenue_trend(
    trend: pd.DataFrame,
    *,
    period: Period | None = None,
    language: str = "en",
    currency: str = "$",
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Net revenue per month, with the report period shaded.

    Parameters
    ----------
    trend
        ``result.trend`` (``month``, ``revenue``).
    period
        The period to shade (None: no shading).
    language, currency
        Language of the title, currency symbol of the axis.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to :func:`analysis.plots.plot_trend` (``color`` defaults to the first
        palette colour).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _plot_monthly(trend, "revenue", period, ax, {"color": plots.PALETTE[0], **kwargs})
    ax.set_title(Translator(language)("overview.trend.revenue"))
    if language == "zh":  # 150万元 / 150万美元 as elsewhere in Chinese, not ¥1,500,000
        ax.yaxis.set_major_formatter(
            FuncFormatter(lambda v, _: ui.fmt_money_short(v, currency, language=language))
        )
    else:
        plots.thousands(ax, prefix=currency)
    return ax


def plot_active_trend(
    trend: pd.DataFrame,
    *,
    period: Period | None = None,
    language: str = "en",
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Active customers (with a purchase) per month, with the report period shaded; the
    parameters are those of :func:`plot_revenue_trend` (``trend`` needs ``active``)."""
    ax = _plot_monthly(trend, "active", period, ax, {"color": plots.PALETTE[1], **kwargs})
    ax.set_title(Translator(language)("overview.trend.active"))
    plots.thousands(ax)
    return ax


def trend_takeaway_section(ctx: ReportContext, result: OverviewResult) -> None:
    """After the trend charts: the best month of the report period, and of the months
    shown when that is another one."""
    if result.trend_status != "ok":
        return
    month = result.best_month
    inside = _best_month_in_period(result)
    values = dict(
        months=result.trend_months,
        best_month=_month_text(ctx, month),
        best=ctx.money(result.best_month_revenue),
    )
    if inside is None:
        ctx.takeaway("overview.trend.takeaway", **values)
    elif inside[0] == month:
        ctx.takeaway("overview.trend.takeaway_in_period", period=str(result.period), **values)
    else:
        ctx.takeaway(
            "overview.trend.takeaway_period",
            period=str(result.period),
            period_month=_month_text(ctx, inside[0]),
            period_best=ctx.money(inside[1]),
            **values,
        )


# --------------------------------------------------------------------------- mix


def mix_section(ctx: ReportContext, result: OverviewResult) -> None:
    """The customer-type mix heading, or a note without customer types (before
    :func:`plot_type_mix`, drawn when ``result.mix`` is not empty)."""
    ctx.heading("overview.mix.title")
    if result.mix.empty:
        ctx.note("overview.mix.none")


def plot_type_mix(
    mix: pd.DataFrame, *, language: str = "en", ax: Axes | None = None, **kwargs
) -> Axes:
    """Active customers of the period by customer type, as one 100% bar.

    Parameters
    ----------
    mix
        ``result.mix`` (``customer_type``, ``customer_share``).
    language
        Language of the labels.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to :func:`analysis.plots.plot_share_bar`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else plt.gca()
    labels = [_type_label(language, k) for k in mix["customer_type"]]
    plots.plot_share_bar(pd.Series(mix["customer_share"].to_numpy(), index=labels), ax=ax, **kwargs)
    ax.set_title(Translator(language)("overview.mix.chart"))
    return ax


def mix_table_section(ctx: ReportContext, result: OverviewResult) -> None:
    """After the mix chart: customers and revenue per type, and the takeaway."""
    mix = result.mix
    if mix.empty:
        return
    tr = ctx._
    labels = [_type_label(ctx.language, k) for k in mix["customer_type"]]
    shown = pd.DataFrame(
        {
            tr("overview.mix.col.type"): labels,
            tr("overview.mix.col.customers"): mix["customers"].astype(int),
            tr("overview.mix.col.customer_share"): mix["customer_share"],
            tr("overview.mix.col.revenue"): [ctx.money(v) for v in mix["revenue"]],
            tr("overview.mix.col.revenue_share"): mix["revenue_share"],
        }
    )
    ctx.show(
        ui.table(
            shown,
            formats={
                tr("overview.mix.col.customer_share"): "pct",
                tr("overview.mix.col.revenue_share"): "pct",
            },
        )
    )
    ctx.takeaway(
        "overview.mix.takeaway",
        top_type=labels[0],
        top_share=ui.fmt_pct(mix.iloc[0]["revenue_share"]),
    )

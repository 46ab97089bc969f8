"""Sections of the "Data overview and quality" report."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd

from ... import display as ui
from ... import overview, plots
from ..context import ReportContext

KPI_ORDER = ("revenue", "active", "new", "orders", "revenue_per_active", "customers")


def kpi_section(ctx: ReportContext) -> pd.DataFrame:
    """KPI cards and the comparison table (this period, previous, a year earlier)."""
    tr = ctx._
    ctx.heading("overview.kpis.title")
    ctx.text(
        "overview.kpis.intro",
        period=str(ctx.period),
        start=ctx.period.start,
        end=ctx.period.end,
        previous=str(ctx.previous),
    )
    table = overview.kpi_table(ctx.data.orders, ctx.data.customers, ctx.period).set_index("kpi")
    if table.loc["orders", "current"] == 0:
        ctx.note("overview.no_orders_in_period", "warning", period=str(ctx.period))
    money = {"revenue", "revenue_per_active"}
    fmt = {k: (ctx.money if k in money else ctx.number) for k in KPI_ORDER}
    vs = tr("common.vs_previous", period=str(ctx.previous))
    cards = [
        ui.KPI(
            tr(f"overview.kpi.{k}"),
            fmt[k](table.loc[k, "current"]),
            _finite(table.loc[k, "change"]),
            vs,
        )
        for k in KPI_ORDER
    ]
    ctx.show(ui.kpi_cards(cards))
    shown = pd.DataFrame(
        {
            tr("overview.table.kpi"): [tr(f"overview.kpi.{k}") for k in KPI_ORDER],
            tr("overview.table.current"): [fmt[k](table.loc[k, "current"]) for k in KPI_ORDER],
            tr("overview.table.previous"): [fmt[k](table.loc[k, "previous"]) for k in KPI_ORDER],
            tr("overview.table.change"): [
                ui.fmt_pct(_finite(table.loc[k, "change"]), signed=True) for k in KPI_ORDER
            ],
            tr("overview.table.year_ago"): [fmt[k](table.loc[k, "year_ago"]) for k in KPI_ORDER],
            tr("overview.table.change_yoy"): [
                ui.fmt_pct(_finite(table.loc[k, "change_yoy"]), signed=True) for k in KPI_ORDER
            ],
        }
    )
    ctx.show(ui.table(shown))
    change = _finite(table.loc["revenue", "change"])
    values = dict(
        previous=str(ctx.previous),
        revenue=ctx.money(table.loc["revenue", "current"]),
        active=ctx.number(table.loc["active", "current"]),
    )
    if change is None:
        ctx.takeaway("overview.kpis.takeaway_flat", **values)
    else:
        key = "overview.kpis.takeaway_up" if change >= 0 else "overview.kpis.takeaway_down"
        ctx.takeaway(key, change=ui.fmt_pct(abs(change)), **values)
    return table


def trend_section(ctx: ReportContext, months: int = 24) -> pd.DataFrame:
    """Monthly revenue and active customers, with the report period shaded."""
    tr = ctx._
    ctx.heading("overview.trend.title")
    trend = overview.monthly_trend(
        ctx.data.orders, ctx.period.end_exclusive - pd.Timedelta(days=1), months
    )
    if trend["revenue"].abs().sum() == 0:
        ctx.note("overview.trend.empty", "warning", months=months)
        return trend
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    plots.plot_trend(
        trend,
        x="month",
        y="revenue",
        highlight=(ctx.period.start, ctx.period.end),
        ax=axes[0],
        color=plots.PALETTE[0],
    )
    axes[0].set_title(tr("overview.trend.revenue"))
    plots.thousands(axes[0], prefix=ctx.params["currency"])
    axes[0].set_ylabel("")
    plots.plot_trend(
        trend,
        x="month",
        y="active",
        highlight=(ctx.period.start, ctx.period.end),
        ax=axes[1],
        color=plots.PALETTE[1],
    )
    axes[1].set_title(tr("overview.trend.active"))
    plots.thousands(axes[1])
    axes[1].set_ylabel("")
    for ax in axes:
        ax.tick_params(axis="x", rotation=30)
    plots.show_figure(fig)
    best = trend.loc[trend["revenue"].idxmax()]
    ctx.takeaway(
        "overview.trend.takeaway",
        months=months,
        best_month=ui.fmt_date(best["month"], ctx.language)[-8:]
        if ctx.language == "en"
        else f"{best['month'].year}年{best['month'].month}月",
        best=ctx.money(best["revenue"]),
    )
    return trend


def mix_section(ctx: ReportContext) -> pd.DataFrame:
    """Customer-type mix of active customers and revenue in the period."""
    tr = ctx._
    ctx.heading("overview.mix.title")
    mix = overview.customer_type_mix(ctx.data.customers, ctx.data.orders, ctx.period)
    if mix.empty:
        ctx.note("overview.mix.none")
        return mix
    labels = [
        tr(f"overview.type.{k}") if f"overview.type.{k}" in _catalog(ctx) else str(k)
        for k in mix["customer_type"]
    ]
    fig, ax = plt.subplots(figsize=(11, 1.4))
    plots.plot_share_bar(pd.Series(mix["customer_share"].to_numpy(), index=labels), ax=ax)
    ax.set_title(tr("overview.mix.chart"))
    plots.show_figure(fig)
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
    top = mix.iloc[0]
    ctx.takeaway(
        "overview.mix.takeaway", top_type=labels[0], top_share=ui.fmt_pct(top["revenue_share"])
    )
    return mix


def _catalog(ctx: ReportContext) -> dict:
    from ...i18n import catalog  # noqa: PLC0415

    return catalog(ctx.language)


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None

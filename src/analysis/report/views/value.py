"""Sections of the "Value and lifecycle" report (issue #3).

KPI cards (revenue concentration, buyers, and every RFM segment with its change vs the
previous period end), the RFM grid and the named segments, the Pareto curve with ABC
classes and value tiers, predicted CLV (BG/NBD + Gamma-Gamma) by segment, lifecycle stages
and their transitions, the breakdown by customer type, the playbook action per segment and
the CRM export ``rfm.csv``.

:func:`prepare` computes one :class:`ValueView` per report (two snapshots, at the period end
and at the previous period end, from :mod:`analysis.valuation`); every section takes the
context and that view and says what it did when the data are too thin: one customer, no
repeat buyers (no CLV model), only refunds, or no orders in the period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter

from ... import display as ui
from ... import plots, valuation
from ...i18n import catalog
from ...lifecycle import STAGES, StageTransitions, stage_label, stage_transitions
from ...playbook import action_for, load_playbook, validate_playbook
from ...value import VALUE_TIERS, segment_label
from ..context import ReportContext

P = "report_value"
#: Below this many buyers, scores and shares are shown with a small-base warning.
MIN_BASE = 20
#: Whether growth of a segment is good news (None: neither), for the KPI colours.
SEGMENT_DIRECTION = {
    "champions": True,
    "loyal": True,
    "potential_loyalists": True,
    "new": True,
    "promising": True,
    "need_attention": None,
    "about_to_sleep": False,
    "at_risk": False,
    "cant_lose_them": False,
    "hibernating": False,
}
SEGMENT_COLOURS = {
    "champions": "#1b6e3a",
    "loyal": "#3b8b5a",
    "potential_loyalists": "#8cc084",
    "new": "#2e86ab",
    "promising": "#5aa9e6",
    "need_attention": "#e0a458",
    "about_to_sleep": "#f18f01",
    "at_risk": "#c73e1d",
    "cant_lose_them": "#8b1e3f",
    "hibernating": "#9aa5b1",
}
_TIER_COLOURS = {"A": "#1f4e79", "B": "#5aa9e6", "C": "#d5dde5"}
#: Correlation of frequency and spend above which the Gamma-Gamma assumption is doubtful.
GG_CORRELATION_LIMIT = 0.3


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class ValueView:
    """What the sections show, computed once.

    Attributes
    ----------
    current, previous
        Value snapshots at the period end and at the previous period end (the previous one
        uses the current lifecycle thresholds and has no CLV fit).
    segments_now, segments_before
        :func:`analysis.valuation.segment_summary` of both.
    transitions
        Lifecycle stage transitions from the previous to the current snapshot.
    actions
        The playbook action of every customer of the current snapshot.
    playbook
        The validated playbook.
    orders_in_period
        Order rows (purchases and refunds) dated in the report period.
    """

    current: valuation.ValueSnapshot
    previous: valuation.ValueSnapshot
    segments_now: pd.DataFrame
    segments_before: pd.DataFrame
    transitions: StageTransitions
    actions: pd.DataFrame
    playbook: dict[str, Any]
    orders_in_period: int

    @property
    def buyers(self) -> int:
        """Customers with RFM scores at the period end."""
        return int(self.current.table["scored"].sum())


def prepare(ctx: ReportContext) -> ValueView:
    """Compute the :class:`ValueView` of the report's unit and period (no output).

    Raises
    ------
    ParamsError
        Invalid value parameters, or the playbook lacks an entry for a segment, stage or
        tier the report can produce (the message names it).
    """
    params = ctx.params["value"]
    playbook = load_playbook(ctx.params.get("playbook"))
    validate_playbook(
        playbook,
        required={
            "rfm_segment": list(params["segment_map"]),
            "lifecycle_stage": STAGES,
            "value_tier": VALUE_TIERS,
        },
    )
    orders = ctx.data.orders
    current = ctx.value_snapshot(ctx.period.end)
    previous = ctx.value_snapshot(
        ctx.previous.end, thresholds=current.thresholds, predict_clv=False
    )
    transitions = stage_transitions(
        previous.table["lifecycle_stage"], current.table["lifecycle_stage"]
    )
    actions = valuation.customer_actions(
        current.table, playbook, ctx.language, separator=_t(ctx, "separator")
    )
    return ValueView(
        current=current,
        previous=previous,
        segments_now=valuation.segment_summary(current.table, current.segments),
        segments_before=valuation.segment_summary(previous.table, previous.segments),
        transitions=transitions,
        actions=actions,
        playbook=playbook,
        orders_in_period=int(ctx.period.contains(orders["order_date"]).sum()),
    )


# --------------------------------------------------------------------------- wording


def _t(ctx: ReportContext, key: str, **values: object) -> str:
    return ctx._(f"{P}.{key}", **values)


def _segment(ctx: ReportContext, key: str) -> str:
    return segment_label(str(key), ctx.language)


def _stage(ctx: ReportContext, key: str) -> str:
    return stage_label(str(key), ctx.language)


def _type_label(ctx: ReportContext, key: object) -> str:
    names = catalog(ctx.language)
    name = f"{P}.type.{key}"
    return names[name] if name in names else str(key)


def _priority(ctx: ReportContext, key: str) -> str:
    return ctx._(f"playbook.priority.{key}")


def _pct(value: float | None, decimals: int = 1) -> str:
    return ui.fmt_pct(_finite(value), decimals=decimals)


def _pts(ctx: ReportContext, change: float) -> str:
    """A change of a share in percentage points: ``+1.2 pts``."""
    return _t(ctx, "pts", value=100 * change)


def _short_money(ctx: ReportContext, value: float) -> str:
    """Compact amounts for chart labels: ``$12.3k``, ``$1.2M``; ``¥1.2万`` in Chinese."""
    cur = ctx.params["currency"]
    sign = "-" if value < 0 else ""
    v = abs(value)
    if ctx.language == "zh":
        steps = ((1e8, "亿"), (1e4, "万"))
    else:
        steps = ((1e6, "M"), (1e3, "k"))
    for size, suffix in steps:
        if v >= size:
            return f"{sign}{cur}{v / size:.1f}".removesuffix(".0") + suffix
    return f"{sign}{cur}{v:,.0f}"


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _lookback(ctx: ReportContext) -> int:
    return int(ctx.params["value"]["lookback_days"])


# --------------------------------------------------------------------------- KPIs


def kpi_section(ctx: ReportContext, view: ValueView) -> pd.DataFrame:
    """KPI cards: top-20% revenue share, buyers and revenue, then every RFM segment's count
    and share, each with its change vs the previous period end.

    Returns
    -------
    pandas.DataFrame
        Index ``rfm_segment``: ``customers``, ``customer_share``, ``previous``,
        ``previous_share``, ``change`` (customers) and ``share_change``.
    """
    ctx.heading(f"{P}.kpis.title")
    cur, prev = view.current, view.previous
    fraction = float(ctx.params["value"].get("top_share_fraction", 0.2))
    ctx.text(
        f"{P}.kpis.intro",
        end=ui.fmt_date(cur.as_of, ctx.language),
        period=str(ctx.period),
        previous_end=ui.fmt_date(prev.as_of, ctx.language),
        previous=str(ctx.previous),
        lookback=_lookback(ctx),
    )
    if view.orders_in_period == 0:
        ctx.note(f"{P}.note.no_orders_in_period", "warning", period=str(ctx.period))
    if view.buyers == 0:
        ctx.note(
            f"{P}.note.no_buyers",
            "warning",
            lookback=_lookback(ctx),
            end=ui.fmt_date(cur.as_of, ctx.language),
        )
    elif view.buyers < MIN_BASE:
        ctx.note(f"{P}.note.small_base", "warning", n=view.buyers, lookback=_lookback(ctx))

    vs = ctx._("common.vs_previous", period=str(ctx.previous))
    none = ctx._("common.no_comparison")
    has_prev = len(prev.scored) > 0
    top_now = _top_share(cur, fraction)
    top_before = _top_share(prev, fraction)
    revenue_now, revenue_before = cur.scored["monetary"].sum(), prev.scored["monetary"].sum()
    buyers_before = len(prev.scored)

    def rel(now: float, before: float) -> float | None:
        return (now - before) / abs(before) if has_prev and before else None

    top_change = top_now - top_before if top_now is not None and top_before is not None else None
    cards = [
        ui.KPI(
            _t(ctx, "kpi.top_share", fraction=ui.fmt_pct(fraction, decimals=0)),
            _pct(top_now),
            top_change,
            vs if top_change is not None else none,
            higher_is_better=None,
            change_text=_pts(ctx, top_change) if top_change is not None else None,
        ),
        ui.KPI(
            _t(ctx, "kpi.buyers", lookback=_lookback(ctx)),
            ctx.number(view.buyers),
            rel(view.buyers, buyers_before),
            vs if has_prev else none,
        ),
        ui.KPI(
            _t(ctx, "kpi.revenue", lookback=_lookback(ctx)),
            ctx.money(revenue_now),
            rel(revenue_now, revenue_before),
            vs if has_prev else none,
        ),
    ]
    fit = cur.clv
    if fit is not None and fit.ok:
        cards.append(
            ui.KPI(
                _t(ctx, "kpi.clv_total", months=fit.horizon_months),
                ctx.money(cur.table["clv_12m"].sum()),
                None,
                "",
            )
        )
    ctx.show(ui.kpi_cards(cards))

    now, before = view.segments_now, view.segments_before
    table = pd.DataFrame(
        {
            "customers": now["customers"],
            "customer_share": now["customer_share"],
            "previous": before["customers"].reindex(now.index).fillna(0).astype("int64"),
            "previous_share": before["customer_share"].reindex(now.index),
        }
    )
    table["change"] = table["customers"] - table["previous"]
    table["share_change"] = table["customer_share"] - table["previous_share"]
    if view.buyers == 0:
        return table
    ctx.show(ui.heading(_t(ctx, "kpis.segments"), level=3))
    cards = []
    for key, row in table.iterrows():
        change = int(row["change"]) if has_prev else None
        share_change = _finite(row["share_change"]) if has_prev else None
        text = None
        if change is not None and share_change is not None:
            text = _t(ctx, "kpi.segment_change", count=f"{change:+,d}", pts=_pts(ctx, share_change))
        cards.append(
            ui.KPI(
                _segment(ctx, key),
                _t(
                    ctx,
                    "kpi.segment_value",
                    count=ctx.number(row["customers"]),
                    share=_pct(row["customer_share"]),
                ),
                float(change) if change is not None else None,
                vs if change is not None else none,
                higher_is_better=SEGMENT_DIRECTION.get(str(key)),
                change_text=text,
            )
        )
    ctx.show(ui.kpi_cards(cards))
    largest = table["customers"].idxmax()
    values = dict(
        largest=_segment(ctx, largest),
        share=_pct(table.loc[largest, "customer_share"]),
        fraction=ui.fmt_pct(fraction, decimals=0),
        top=_pct(top_now),
    )
    moved = table["share_change"].dropna()
    if has_prev and len(moved) and moved.abs().max() > 0:
        up, down = moved.idxmax(), moved.idxmin()
        ctx.takeaway(
            f"{P}.kpis.takeaway",
            grew=_segment(ctx, up),
            grew_by=_pts(ctx, moved[up]),
            shrank=_segment(ctx, down),
            shrank_by=_pts(ctx, moved[down]),
            previous=str(ctx.previous),
            **values,
        )
    else:
        key = "kpis.takeaway_unchanged" if has_prev else "kpis.takeaway_no_previous"
        ctx.takeaway(f"{P}.{key}", previous=str(ctx.previous), **values)
    return table


def _top_share(snapshot: valuation.ValueSnapshot, fraction: float) -> float | None:
    """Revenue share of the top ``fraction`` of buyers (None without positive revenue)."""
    from ...value import top_share  # noqa: PLC0415

    scored = snapshot.scored
    if scored.empty:
        return None
    return _finite(top_share(scored["monetary"], fraction))


# --------------------------------------------------------------------------- RFM


def rfm_section(ctx: ReportContext, view: ValueView) -> pd.DataFrame | None:
    """The RFM grid (segment map, customers and revenue per r x f cell) and the named
    segment table with the playbook action. Returns the segment table (None: no buyers)."""
    ctx.heading(f"{P}.rfm.title")
    if view.buyers == 0:
        ctx.note(f"{P}.rfm.none", "info", lookback=_lookback(ctx))
        return None
    cur = view.current
    ctx.text(f"{P}.rfm.intro", n=ctx.number(view.buyers), lookback=_lookback(ctx))
    counts, revenue = valuation.rfm_grid(cur.table)
    used = {int(f) for f in cur.scored["f_score"].dropna().unique()}
    if len(used) < 5 and view.buyers >= MIN_BASE:
        ctx.note(f"{P}.rfm.ties", "info", used=", ".join(str(f) for f in sorted(used)))
    cells = _segment_cells(ctx)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.9))
    _plot_segment_map(ctx, axes[0], cells, cur.segments)
    total_n, total_rev = counts.to_numpy().sum(), revenue.to_numpy().sum()
    plots.plot_heatmap(counts, fmt=",.0f", cmap="Blues", ax=axes[1])
    axes[1].set_title(_t(ctx, "rfm.chart_customers"))
    rev_labels = revenue.map(lambda v: _short_money(ctx, v))
    sns.heatmap(
        revenue.clip(lower=0),
        annot=rev_labels,
        fmt="",
        cmap="Greens",
        cbar=False,
        linewidths=0.5,
        linecolor="white",
        ax=axes[2],
        annot_kws={"fontsize": 8},
    )
    axes[2].set_title(_t(ctx, "rfm.chart_revenue"))
    for ax in axes:
        ax.set_xlabel(_t(ctx, "rfm.f_axis"))
        ax.set_ylabel(_t(ctx, "rfm.r_axis"))
        _draw_boundaries(ax, cells)
    plots.show_figure(fig)
    best = revenue.stack().idxmax()
    r, f = best
    ctx.takeaway(
        f"{P}.rfm.takeaway",
        r=r,
        f=f,
        segment=_segment(ctx, cells.get(f"{r}{f}", "")),
        customers=_pct(counts.loc[r, f] / total_n if total_n else None),
        revenue=_pct(revenue.loc[r, f] / total_rev if total_rev > 0 else None),
    )

    ctx.show(ui.heading(_t(ctx, "segments.title"), level=3))
    seg = view.segments_now
    actions = {
        key: action_for(view.playbook, "rfm_segment", key, ctx.language) for key in seg.index
    }
    col = {
        k: _t(ctx, f"col.{k}")
        for k in (
            "segment",
            "customers",
            "customer_share",
            "revenue_share",
            "avg_recency",
            "avg_frequency",
            "avg_monetary",
            "action",
        )
    }
    shown = pd.DataFrame(
        {
            col["segment"]: [_segment(ctx, k) for k in seg.index],
            col["customers"]: seg["customers"].astype(int).to_numpy(),
            col["customer_share"]: seg["customer_share"].to_numpy(),
            col["revenue_share"]: seg["revenue_share"].to_numpy(),
            col["avg_recency"]: seg["avg_recency"].to_numpy(),
            col["avg_frequency"]: seg["avg_frequency"].to_numpy(),
            col["avg_monetary"]: [ctx.money(_finite(v)) for v in seg["avg_monetary"]],
            col["action"]: [
                actions[k].action_text(_t(ctx, "separator")) if n else "–"
                for k, n in seg["customers"].items()
            ],
        }
    )
    ctx.show(
        ui.table(
            shown,
            formats={
                col["customer_share"]: "pct",
                col["revenue_share"]: "pct",
                col["avg_recency"]: "{:,.0f}",
                col["avg_frequency"]: "{:,.1f}",
            },
            muted_rows=(seg["customers"] == 0).tolist(),
        )
    )
    by_revenue = seg["revenue_share"].dropna()
    largest = seg["customers"].idxmax()
    if len(by_revenue):
        top = by_revenue.idxmax()
        ctx.takeaway(
            f"{P}.segments.takeaway",
            top=_segment(ctx, top),
            revenue=_pct(seg.loc[top, "revenue_share"]),
            customers=_pct(seg.loc[top, "customer_share"]),
            largest=_segment(ctx, largest),
            largest_share=_pct(seg.loc[largest, "customer_share"]),
        )
    else:
        ctx.takeaway(
            f"{P}.segments.takeaway_no_revenue",
            largest=_segment(ctx, largest),
            largest_share=_pct(seg.loc[largest, "customer_share"]),
        )
    return seg


def _segment_cells(ctx: ReportContext) -> dict[str, str]:
    from ...value import validate_segment_map  # noqa: PLC0415

    return validate_segment_map(ctx.params["value"]["segment_map"])


def _segment_colour(key: str, order: int) -> str:
    return SEGMENT_COLOURS.get(key, plots.PALETTE[order % len(plots.PALETTE)])


def _plot_segment_map(ctx: ReportContext, ax: plt.Axes, cells: dict[str, str], segments) -> None:
    """The 5 x 5 r x f grid coloured by segment, each segment named once."""
    order = {k: i for i, k in enumerate(segments)}
    grid = np.zeros((5, 5, 3))
    for cell, key in cells.items():
        r, f = int(cell[0]), int(cell[1])
        colour = plt.matplotlib.colors.to_rgb(_segment_colour(key, order[key]))
        grid[5 - r, f - 1] = [0.35 + 0.65 * c for c in colour]  # lightened, text stays legible
    ax.imshow(grid, aspect="auto", extent=(0, 5, 5, 0))
    for key in segments:
        spots = [(5 - int(c[0]), int(c[1]) - 1) for c, k in cells.items() if k == key]
        if not spots:
            continue
        rows = [s[0] for s in spots]
        cols = [s[1] for s in spots]
        block = (max(rows) - min(rows) + 1) * (max(cols) - min(cols) + 1)
        if block == len(spots):  # a rectangle: name it in its middle
            y, x = (min(rows) + max(rows)) / 2, (min(cols) + max(cols)) / 2
        else:  # any other shape: in the cell nearest its centre
            cy, cx = np.mean(rows), np.mean(cols)
            y, x = min(spots, key=lambda s: (s[0] - cy) ** 2 + (s[1] - cx) ** 2)
        width = max(s[1] for s in spots) - min(s[1] for s in spots) + 1
        ax.text(
            x + 0.5,
            y + 0.5,
            ui.wrap_label(_segment(ctx, key), 10 if width == 1 else 16, ctx.language),
            ha="center",
            va="center",
            fontsize=7.5,
            color="#1d2733",
        )
    ax.set_xticks(np.arange(5) + 0.5, labels=[str(f) for f in range(1, 6)])
    ax.set_yticks(np.arange(5) + 0.5, labels=[str(r) for r in range(5, 0, -1)])
    ax.set_xlim(0, 5)
    ax.set_ylim(5, 0)
    ax.grid(False)
    ax.set_title(_t(ctx, "rfm.chart_map"))


def _draw_boundaries(ax: plt.Axes, cells: dict[str, str]) -> None:
    """Dark lines between cells of different segments (heatmap coordinates: row 0 = r 5)."""
    owner = {(5 - int(c[0]), int(c[1]) - 1): k for c, k in cells.items()}
    for (row, col), key in owner.items():
        if col < 4 and owner[(row, col + 1)] != key:
            ax.plot([col + 1, col + 1], [row, row + 1], color="#1d2733", lw=1.6)
        if row < 4 and owner[(row + 1, col)] != key:
            ax.plot([col, col + 1], [row + 1, row + 1], color="#1d2733", lw=1.6)


# --------------------------------------------------------------------------- Pareto


def pareto_section(ctx: ReportContext, view: ValueView) -> pd.DataFrame | None:
    """The Pareto curve with the ABC thresholds, and the value-tier and ABC tables.
    Returns the tier table (None: no buyers)."""
    from ...value import pareto_curve  # noqa: PLC0415

    ctx.heading(f"{P}.pareto.title")
    if view.buyers == 0:
        ctx.note(f"{P}.note.no_buyers_short", "info")
        return None
    vp = ctx.params["value"]
    a, b = vp["abc"]["a_share"], vp["abc"]["b_share"]
    hi, med = vp["tiers"]["high_share"], vp["tiers"]["medium_share"]
    fraction = float(vp.get("top_share_fraction", 0.2))
    ctx.text(
        f"{P}.pareto.intro",
        lookback=_lookback(ctx),
        a=ui.fmt_pct(a, decimals=0),
        b=ui.fmt_pct(b, decimals=0),
        high=ui.fmt_pct(hi, decimals=0),
        medium=ui.fmt_pct(med, decimals=0),
    )
    scored = view.current.scored
    if not (scored["monetary"] > 0).any():
        ctx.note(f"{P}.pareto.no_revenue", "warning")
        return None
    curve = pareto_curve(scored["monetary"])
    abc = valuation.tier_summary(view.current.table, "abc_class")
    tiers = valuation.tier_summary(view.current.table, "value_tier")
    top = _top_share(view.current, fraction)
    if view.buyers < MIN_BASE:
        ctx.note(f"{P}.pareto.small", "info", n=view.buyers, min=MIN_BASE)
    else:
        _plot_pareto(ctx, curve, abc, a, b, fraction, top)
        a_customers = abc.loc["A", "customer_share"] if "A" in abc.index else None
        ctx.takeaway(
            f"{P}.pareto.takeaway",
            fraction=ui.fmt_pct(fraction, decimals=0),
            top=_pct(top),
            a_customers=_pct(a_customers),
            a=ui.fmt_pct(a, decimals=0),
        )
    _tier_tables(ctx, view, tiers, abc)
    return tiers


def _plot_pareto(
    ctx: ReportContext,
    curve: pd.DataFrame,
    abc: pd.DataFrame,
    a: float,
    b: float,
    fraction: float,
    top: float | None,
) -> None:
    """Lorenz-style curve over the ABC bands, with the A and A+B revenue lines."""
    fig, ax = plt.subplots(figsize=(11, 3.9))
    left = 0.0
    for cls in ("A", "B", "C"):
        width = float(abc.loc[cls, "customer_share"]) if cls in abc.index else 0.0
        if width > 0:
            ax.axvspan(left, left + width, color=_TIER_COLOURS[cls], alpha=0.25, lw=0)
            ax.text(
                left + width / 2,
                0.04,
                ctx._(f"value.abc.{cls}"),
                ha="center",
                fontsize=9,
                color="#1d2733",
            )
        left += width
    ax.plot(curve["customer_share"], curve["revenue_share"], color=plots.PALETTE[0], lw=2.2)
    ax.plot([0, 1], [0, 1], color="#9aa5b1", lw=1, ls=":")
    for share in (a, a + b):
        ax.axhline(share, color="#6c757d", lw=0.8, ls="--")
        ax.text(
            1.0,
            share,
            f" {ui.fmt_pct(share, decimals=0)}",
            va="center",
            fontsize=8,
            color="#6c757d",
        )
    if top is not None:
        ax.plot([fraction], [top], "o", color=plots.PALETTE[2], ms=7, zorder=5)
        ax.annotate(
            _t(ctx, "pareto.point", fraction=ui.fmt_pct(fraction, decimals=0), share=_pct(top, 0)),
            (fraction, top),
            xytext=(12, -18),
            textcoords="offset points",
            fontsize=9,
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    percent = FuncFormatter(lambda v, _: f"{v:.0%}")
    ax.xaxis.set_major_formatter(percent)
    ax.yaxis.set_major_formatter(percent)
    ax.set_xlabel(_t(ctx, "pareto.x"))
    ax.set_ylabel(_t(ctx, "pareto.y"))
    ax.set_title(_t(ctx, "pareto.chart"))
    plots.show_figure(fig)


def _tier_tables(
    ctx: ReportContext, view: ValueView, tiers: pd.DataFrame, abc: pd.DataFrame
) -> None:
    ctx.show(ui.heading(_t(ctx, "tiers.title"), level=3))
    c = {
        k: _t(ctx, f"col.{k}")
        for k in (
            "tier",
            "customers",
            "customer_share",
            "revenue",
            "revenue_share",
            "avg_monetary",
            "avg_clv",
            "action",
            "abc",
        )
    }
    sep = _t(ctx, "separator")
    shown = pd.DataFrame(
        {
            c["tier"]: [ctx._(f"value.tier.{k}") for k in tiers.index],
            c["customers"]: tiers["customers"].astype(int).to_numpy(),
            c["customer_share"]: tiers["customer_share"].to_numpy(),
            c["revenue"]: [ctx.money(v) for v in tiers["revenue"]],
            c["revenue_share"]: tiers["revenue_share"].to_numpy(),
            c["avg_monetary"]: [ctx.money(_finite(v)) for v in tiers["avg_monetary"]],
            c["avg_clv"]: [ctx.money(_finite(v)) for v in tiers["avg_clv"]],
            c["action"]: [
                action_for(view.playbook, "value_tier", k, ctx.language).action_text(sep)
                for k in tiers.index
            ],
        }
    )
    if not (view.current.clv and view.current.clv.ok):
        shown = shown.drop(columns=[c["avg_clv"]])
    formats = {c["customer_share"]: "pct", c["revenue_share"]: "pct"}
    ctx.show(ui.table(shown, formats=formats))
    shown = pd.DataFrame(
        {
            c["abc"]: [ctx._(f"value.abc.{k}") for k in abc.index],
            c["customers"]: abc["customers"].astype(int).to_numpy(),
            c["customer_share"]: abc["customer_share"].to_numpy(),
            c["revenue"]: [ctx.money(v) for v in abc["revenue"]],
            c["revenue_share"]: abc["revenue_share"].to_numpy(),
            c["avg_monetary"]: [ctx.money(_finite(v)) for v in abc["avg_monetary"]],
        }
    )
    ctx.show(ui.table(shown, formats=formats))
    ctx.takeaway(
        f"{P}.tiers.takeaway",
        high=_pct(tiers.loc["high", "customer_share"]),
        high_revenue=_pct(tiers.loc["high", "revenue_share"]),
        high_avg=ctx.money(_finite(tiers.loc["high", "avg_monetary"])),
        low_avg=ctx.money(_finite(tiers.loc["low", "avg_monetary"])),
    )


# --------------------------------------------------------------------------- CLV


def clv_section(ctx: ReportContext, view: ValueView) -> pd.DataFrame | None:
    """Predicted 12-month CLV and P(alive) by RFM segment, and the fitted parameters; when
    the models cannot be fitted, says why and shows historical value only. Returns the
    parameter table (None without a fit)."""
    ctx.heading(f"{P}.clv.title")
    cur = view.current
    fit = cur.clv
    table = cur.table
    if fit is None or not fit.ok:
        if fit is not None and fit.reason == "too_few_repeat":
            ctx.note(
                f"{P}.clv.too_few",
                "warning",
                n_repeat=ctx.number(fit.n_repeat),
                n=ctx.number(fit.n_customers),
                min=fit.min_repeat,
                end=ui.fmt_date(cur.as_of, ctx.language),
            )
        else:
            model = _t(ctx, f"clv.model.{fit.model if fit else 'bg'}")
            ctx.note(f"{P}.clv.no_fit", "warning", model=model)
        if view.buyers == 0:
            return None
        ctx.text(f"{P}.clv.historical_intro", end=ui.fmt_date(cur.as_of, ctx.language))
        _value_by_segment(ctx, view, "historical_value", _t(ctx, "clv.chart_historical"))
        seg = view.segments_now.dropna(subset=["median_historical"])
        if len(seg):
            best = seg["median_historical"].idxmax()
            ctx.takeaway(
                f"{P}.clv.takeaway_historical",
                segment=_segment(ctx, best),
                value=ctx.money(seg.loc[best, "median_historical"]),
            )
        return None

    ctx.text(
        f"{P}.clv.intro",
        n=ctx.number(fit.n_customers),
        n_repeat=ctx.number(fit.n_repeat),
        end=ui.fmt_date(cur.as_of, ctx.language),
        months=fit.horizon_months,
        rate=ui.fmt_pct(fit.discount_rate_annual, decimals=0),
    )
    predicted = table["clv_12m"].dropna()
    alive = table["p_alive"].dropna()
    cards = [
        ui.KPI(_t(ctx, "kpi.clv_total", months=fit.horizon_months), ctx.money(predicted.sum())),
        ui.KPI(_t(ctx, "clv.kpi.mean"), ctx.money(predicted.mean())),
        ui.KPI(
            _t(ctx, "clv.kpi.historical"),
            ctx.money(table.loc[table["first_purchase"].notna(), "historical_value"].mean()),
        ),
        ui.KPI(_t(ctx, "clv.kpi.alive"), _pct(alive.mean(), 0)),
        ui.KPI(_t(ctx, "clv.kpi.dormant"), ctx.number(int((alive < 0.5).sum()))),
    ]
    ctx.show(ui.kpi_cards(cards))
    if view.buyers:
        _value_by_segment(
            ctx, view, "clv_12m", _t(ctx, "clv.chart", months=fit.horizon_months), with_alive=True
        )
        seg = view.segments_now
        totals = seg["clv_total"].dropna()
        total = float(predicted.sum())
        if len(totals) and total > 0:
            top = totals.idxmax()
            best = seg["median_clv"].dropna().idxmax()
            ctx.takeaway(
                f"{P}.clv.takeaway",
                total=ctx.money(total),
                months=fit.horizon_months,
                top=_segment(ctx, top),
                top_share=_pct(totals[top] / total),
                best=_segment(ctx, best),
                best_value=ctx.money(seg.loc[best, "median_clv"]),
            )
    corr = _finite(getattr(fit.gg, "frequency_monetary_corr_", None))
    if corr is not None and abs(corr) > GG_CORRELATION_LIMIT:
        ctx.note("value.msg.gg_correlation", "info", corr=f"{corr:.2f}")

    ctx.show(ui.heading(_t(ctx, "clv.params_title"), level=3))
    params = fit.parameters()
    unit = _t(ctx, f"clv.time_unit.{fit.time_unit}")
    c = {k: _t(ctx, f"col.{k}") for k in ("model", "parameter", "estimate", "interval")}
    shown = pd.DataFrame(
        {
            c["model"]: [
                _t(ctx, f"clv.model.{'bg' if m == 'bg_nbd' else 'gg'}") for m in params["model"]
            ],
            c["parameter"]: [ctx._(f"value.param.{p}") for p in params["parameter"]],
            c["estimate"]: [_num(v) for v in params["estimate"]],
            c["interval"]: [
                f"{_num(lo)} – {_num(hi)}"
                for lo, hi in zip(params["lower_95"], params["upper_95"], strict=True)
            ],
        }
    )
    ctx.show(ui.table(shown))
    ctx.show(
        ui.paragraph(
            _t(
                ctx,
                "clv.params_note",
                unit=unit,
                ll=f"{fit.bg.log_likelihood_:,.1f}",
                n_gg=ctx.number(fit.gg.n_customers_),
            ),
            "sr-small",
        )
    )
    return params


def _num(value: float) -> str:
    value = float(value)
    if not math.isfinite(value):
        return "–"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _value_by_segment(
    ctx: ReportContext, view: ValueView, column: str, title: str, *, with_alive: bool = False
) -> None:
    """Box plot of a money column by RFM segment on a log scale (+ P(alive) bars)."""
    scored = view.current.scored
    keys = [k for k in view.current.segments if (scored["rfm_segment"] == k).any()]
    data = scored.loc[scored[column] > 0, ["rfm_segment", column]]
    labels = [_segment(ctx, k) for k in keys]
    palette = {_segment(ctx, k): _segment_colour(k, i) for i, k in enumerate(view.current.segments)}
    height = 1.2 + 0.36 * max(len(keys), 3)
    if with_alive:
        fig, axes = plt.subplots(
            1, 2, figsize=(11, height), gridspec_kw={"width_ratios": [2.6, 1]}, sharey=True
        )
        ax = axes[0]
    else:
        fig, ax = plt.subplots(figsize=(11, height))
    groups = [data.loc[data["rfm_segment"] == k, column].to_numpy() for k in keys]
    if any(len(g) for g in groups):
        # Whiskers at the 5th and 95th percentiles: on a log scale the 1.5-IQR rule of
        # thumb means little, and the extreme 10% are not what a manager acts on.
        boxes = ax.boxplot(
            groups,
            positions=np.arange(len(keys)),
            orientation="horizontal",
            whis=(5, 95),
            showfliers=False,
            patch_artist=True,
            widths=0.6,
            medianprops={"color": "#1d2733", "lw": 1.4},
        )
        for patch, key in zip(boxes["boxes"], keys, strict=True):
            patch.set_facecolor(palette[_segment(ctx, key)])
            patch.set_alpha(0.85)
        ax.set_xscale("log")
    ax.set_yticks(np.arange(len(keys)), labels=labels)
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _short_money(ctx, v)))
    ax.set_xlabel(title)
    ax.set_ylabel("")
    ax.set_title(title)
    if with_alive:
        alive = scored.groupby("rfm_segment", observed=False)["p_alive"].mean().reindex(keys)
        axes[1].barh(
            np.arange(len(keys)),
            alive.to_numpy(),
            color=[palette[_segment(ctx, k)] for k in keys],
            height=0.6,
        )
        for i, v in enumerate(alive.to_numpy()):
            if np.isfinite(v):
                axes[1].text(v + 0.01, i, f"{v:.0%}", va="center", fontsize=8)
        axes[1].set_xlim(0, 1.15)
        axes[1].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
        axes[1].set_title(_t(ctx, "clv.chart_alive"))
        axes[1].set_xlabel("")
        axes[1].grid(axis="y", visible=False)
    plots.show_figure(fig)
    left_out = int((scored[column] <= 0).sum() + scored[column].isna().sum())
    note = _t(ctx, "clv.box_note")
    if left_out:
        note += " " + _t(ctx, "clv.left_out", n=ctx.number(left_out))
    ctx.show(ui.paragraph(note, "sr-small"))


# --------------------------------------------------------------------------- lifecycle


def lifecycle_section(ctx: ReportContext, view: ValueView) -> pd.DataFrame:
    """Stages as of the period end with the thresholds used, stage counts vs the previous
    period end, and the transition matrix with the biggest outflow. Returns the stage table."""
    ctx.heading(f"{P}.lifecycle.title")
    cur, prev = view.current, view.previous
    th = cur.thresholds
    values = dict(
        at_risk_days=th.at_risk_days,
        lapsed_days=th.lapsed_days,
        new_days=th.new_days,
        loyal_min_repeat=th.loyal_min_repeat,
        lookback_days=th.lookback_days,
        n_gaps=ctx.number(th.n_gaps),
    )
    key = "value.msg.thresholds_learnt" if th.source == "gaps" else "value.msg.thresholds_fallback"
    ctx.text(key, **values)
    vp = ctx.params["value"]["lifecycle"]
    fallback = _t(ctx, "lifecycle.how.fallback")
    how = {
        "at_risk_days": _t(
            ctx, "lifecycle.how.learnt", q=ui.fmt_pct(vp.get("at_risk_quantile", 0.8), decimals=0)
        )
        if th.source == "gaps"
        else fallback,
        "lapsed_days": _t(
            ctx, "lifecycle.how.learnt", q=ui.fmt_pct(vp.get("lapsed_quantile", 0.95), decimals=0)
        )
        if th.source == "gaps"
        else fallback,
        "new_days": _t(ctx, "lifecycle.how.new"),
        "loyal_min_repeat": _t(ctx, "lifecycle.how.param"),
    }
    for name in th.overridden:
        how[name] = _t(ctx, "lifecycle.how.param")
    c = {k: _t(ctx, f"col.{k}") for k in ("threshold", "value", "how")}
    ctx.show(
        ui.table(
            pd.DataFrame(
                {
                    c["threshold"]: [_t(ctx, f"lifecycle.threshold.{k}") for k in how],
                    c["value"]: [
                        _t(ctx, "lifecycle.days", n=th.at_risk_days),
                        _t(ctx, "lifecycle.days", n=th.lapsed_days),
                        _t(ctx, "lifecycle.days", n=th.new_days),
                        _t(ctx, "lifecycle.repeats", n=th.loyal_min_repeat, days=th.lookback_days),
                    ],
                    c["how"]: list(how.values()),
                }
            )
        )
    )

    now = cur.table["lifecycle_stage"].value_counts().reindex(list(STAGES), fill_value=0)
    before = prev.table["lifecycle_stage"].value_counts().reindex(list(STAGES), fill_value=0)
    stages = pd.DataFrame({"customers": now, "previous": before})
    stages["share"] = stages["customers"] / max(int(now.sum()), 1)
    stages["change"] = stages["customers"] - stages["previous"]
    c = {
        k: _t(ctx, f"col.{k}")
        for k in (
            "stage",
            "definition",
            "customers",
            "share",
            "previous_count",
            "change",
        )
    }
    ctx.show(ui.heading(_t(ctx, "lifecycle.stages_title"), level=3))
    shown = pd.DataFrame(
        {
            c["stage"]: [_stage(ctx, k) for k in stages.index],
            c["definition"]: [ctx._(f"value.stage_desc.{k}", **values) for k in stages.index],
            c["customers"]: stages["customers"].astype(int).to_numpy(),
            c["share"]: stages["share"].to_numpy(),
            c["previous_count"]: stages["previous"].astype(int).to_numpy(),
            c["change"]: [f"{int(v):+,d}" for v in stages["change"]],
        }
    )
    ctx.show(
        ui.table(shown, formats={c["share"]: "pct"}, muted_rows=(stages["customers"] == 0).tolist())
    )
    if now.sum() == 0:
        ctx.note(f"{P}.lifecycle.none", "info")
        return stages

    ctx.show(ui.heading(_t(ctx, "lifecycle.transitions_title"), level=3))
    ctx.text(
        f"{P}.lifecycle.transitions_intro",
        previous_end=ui.fmt_date(prev.as_of, ctx.language),
        end=ui.fmt_date(cur.as_of, ctx.language),
    )
    counts, shares = view.transitions.counts, view.transitions.shares
    rows = [s for s in STAGES if counts.loc[s].sum() > 0]
    fig, ax = plt.subplots(figsize=(11, max(2.8, 1.2 + 0.62 * len(rows))))
    plots.plot_transitions(
        counts,
        shares,
        rows=rows,
        columns=list(STAGES),
        row_labels=[_stage(ctx, s) for s in rows],
        column_labels=[_stage(ctx, s) for s in STAGES],
        ax=ax,
    )
    ax.set_xlabel(_t(ctx, "lifecycle.to", end=ui.fmt_date(cur.as_of, ctx.language)))
    ax.set_ylabel(_t(ctx, "lifecycle.from", end=ui.fmt_date(prev.as_of, ctx.language)))
    ax.set_title(_t(ctx, "lifecycle.chart"))
    plots.show_figure(fig)
    outflow = valuation.biggest_outflow(counts)
    if outflow is None:
        ctx.takeaway(f"{P}.lifecycle.takeaway_none", previous=str(ctx.previous))
    else:
        ctx.takeaway(
            f"{P}.lifecycle.takeaway",
            count=ctx.number(outflow["count"]),
            share=_pct(outflow["share"]),
            source=_stage(ctx, outflow["from_stage"]),
            target=_stage(ctx, outflow["to_stage"]),
            previous=str(ctx.previous),
        )
    return stages


# --------------------------------------------------------------------------- customer types


def customer_type_section(ctx: ReportContext, view: ValueView) -> pd.DataFrame | None:
    """Segment mix and value per customer type. Returns the per-type table (None when the
    data have no customer types or no buyers)."""
    ctx.heading(f"{P}.types.title")
    table = view.current.table
    if table["customer_type"].notna().sum() == 0:
        ctx.note(f"{P}.types.none", "info")
        return None
    if view.buyers == 0:
        ctx.note(f"{P}.note.no_buyers_short", "info")
        return None
    summary, mix = valuation.type_breakdown(table, view.current.segments)
    with_buyers = summary.loc[summary["buyers"] > 0]
    labels = [_type_label(ctx, k) for k in with_buyers.index]
    fig, ax = plt.subplots(figsize=(11, 1.3 + 0.5 * len(with_buyers)))
    left = np.zeros(len(with_buyers))
    for i, key in enumerate(view.current.segments):
        widths = mix.loc[with_buyers.index, key].to_numpy()
        ax.barh(
            labels,
            widths,
            left=left,
            color=_segment_colour(key, i),
            label=_segment(ctx, key),
            height=0.62,
        )
        for y, (x0, w) in enumerate(zip(left, widths, strict=True)):
            if w >= 0.07:
                ax.text(
                    x0 + w / 2, y, f"{w:.0%}", ha="center", va="center", fontsize=8, color="white"
                )
        left += widths
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.grid(False)
    ax.set_title(_t(ctx, "types.chart"))
    ax.legend(ncol=5, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    plots.show_figure(fig)

    c = {
        k: _t(ctx, f"col.{k}")
        for k in (
            "type",
            "customers",
            "buyers",
            "buyer_share",
            "revenue",
            "revenue_share",
            "revenue_per_buyer",
            "avg_clv",
            "high_tier_share",
            "buying_share",
        )
    }
    shown = pd.DataFrame(
        {
            c["type"]: [_type_label(ctx, k) for k in summary.index],
            c["customers"]: summary["customers"].astype(int).to_numpy(),
            c["buyers"]: summary["buyers"].astype(int).to_numpy(),
            c["buyer_share"]: summary["buyer_share"].to_numpy(),
            c["revenue_share"]: summary["revenue_share"].to_numpy(),
            c["revenue_per_buyer"]: [ctx.money(_finite(v)) for v in summary["revenue_per_buyer"]],
            c["avg_clv"]: [ctx.money(_finite(v)) for v in summary["avg_clv"]],
            c["high_tier_share"]: summary["high_tier_share"].to_numpy(),
            c["buying_share"]: summary["buying_share"].to_numpy(),
        }
    )
    if not (view.current.clv and view.current.clv.ok):
        shown = shown.drop(columns=[c["avg_clv"]])
    ctx.show(
        ui.table(
            shown,
            formats={
                c[k]: "pct"
                for k in ("buyer_share", "revenue_share", "high_tier_share", "buying_share")
            },
        )
    )
    ctx.show(ui.paragraph(_t(ctx, "types.note"), "sr-small"))
    per_buyer = with_buyers["revenue_per_buyer"].dropna()
    if len(per_buyer):
        best = per_buyer.idxmax()
        ctx.takeaway(
            f"{P}.types.takeaway",
            type=_type_label(ctx, best),
            buyers=_pct(with_buyers.loc[best, "buyer_share"]),
            revenue=_pct(with_buyers.loc[best, "revenue_share"]),
            per_buyer=ctx.money(per_buyer[best]),
        )
    return summary


# --------------------------------------------------------------------------- playbook


def playbook_section(ctx: ReportContext, view: ValueView) -> pd.DataFrame:
    """The recommended action for each RFM segment, lifecycle stage and special customer
    type, from the playbook. Returns the segment table (keys, counts, priority)."""
    ctx.heading(f"{P}.playbook.title")
    ctx.text(f"{P}.playbook.intro", lookback=_lookback(ctx))
    sep = _t(ctx, "separator")
    table = view.current.table
    c = {
        k: _t(ctx, f"col.{k}")
        for k in (
            "segment",
            "stage",
            "type",
            "customers",
            "priority",
            "objective",
            "action",
            "channel",
            "offer",
        )
    }

    def rows(vocabulary: str, keys, counts, first: str) -> pd.DataFrame:
        entries = [action_for(view.playbook, vocabulary, k, ctx.language) for k in keys]
        names = {
            "rfm_segment": lambda k: _segment(ctx, k),
            "lifecycle_stage": lambda k: _stage(ctx, k),
            "customer_type": lambda k: _type_label(ctx, k),
        }[vocabulary]
        return pd.DataFrame(
            {
                first: [names(k) for k in keys],
                c["customers"]: [int(counts.get(k, 0)) for k in keys],
                c["priority"]: [_priority(ctx, e.priority) for e in entries],
                c["objective"]: [e.objective for e in entries],
                c["action"]: [e.action_text(sep) for e in entries],
                c["channel"]: [e.channel for e in entries],
                c["offer"]: [e.offer for e in entries],
            }
        )

    seg_counts = view.segments_now["customers"]
    keys = list(view.current.segments)
    ctx.show(
        ui.table(
            rows("rfm_segment", keys, seg_counts, c["segment"]),
            muted_rows=[seg_counts.get(k, 0) == 0 for k in keys],
        )
    )
    priorities = pd.Series(
        {k: view.playbook["rfm_segment"][k]["priority"] for k in keys}, dtype="object"
    )
    high = [k for k in keys if priorities[k] == "high" and seg_counts.get(k, 0) > 0]
    if view.buyers and high:
        n = int(seg_counts[high].sum())
        ctx.takeaway(
            f"{P}.playbook.takeaway",
            n=ctx.number(n),
            share=_pct(n / view.buyers),
            segments=_t(ctx, "list_separator").join(_segment(ctx, k) for k in high),
        )

    ctx.show(ui.heading(_t(ctx, "playbook.stages_title"), level=3))
    unscored = table.loc[~table["scored"], "lifecycle_stage"].astype(str).value_counts()
    ctx.text(
        f"{P}.playbook.stages_intro", n=ctx.number(int(unscored.sum())), lookback=_lookback(ctx)
    )
    stage_counts = table["lifecycle_stage"].astype(str).value_counts()
    ctx.show(
        ui.table(
            rows("lifecycle_stage", list(STAGES), stage_counts, c["stage"]),
            muted_rows=[stage_counts.get(k, 0) == 0 for k in STAGES],
        )
    )

    special = [k for k in (view.playbook.get("customer_type") or {})]
    if special:
        ctx.show(ui.heading(_t(ctx, "playbook.types_title"), level=3))
        type_counts = table["customer_type"].dropna().astype(str).value_counts()
        ctx.show(
            ui.table(
                rows("customer_type", special, type_counts, c["type"]),
                muted_rows=[type_counts.get(k, 0) == 0 for k in special],
            )
        )
    return pd.DataFrame({"customers": seg_counts, "priority": priorities})


# --------------------------------------------------------------------------- export


def export_frame(view: ValueView) -> pd.DataFrame:
    """The rows of ``rfm.csv`` (see :func:`analysis.valuation.export_frame`)."""
    return valuation.export_frame(view.current.table, view.actions)


def export_section(ctx: ReportContext, view: ValueView) -> Path:
    """Write ``exports/rfm.csv`` (one row per customer, real ids) and say what it holds."""
    frame = export_frame(view)
    path = ctx.export(frame, "rfm.csv")
    ctx.heading(f"{P}.export.title")
    cur = view.current
    ctx.text(
        f"{P}.export.intro",
        n=ctx.number(len(frame)),
        end=ui.fmt_date(cur.as_of, ctx.language),
        lookback=_lookback(ctx),
    )
    ctx.show(ui.paragraph(_t(ctx, "export.columns"), "sr-small"))
    if frame.empty:
        ctx.note(f"{P}.export.empty", "info")
        return path
    source = view.actions["action_source"]
    counts = source.value_counts()
    c = {k: _t(ctx, f"col.{k}") for k in ("group", "priority", "customers", "action")}
    rank = {"high": 0, "medium": 1, "low": 2}
    rows = []
    for key, n in counts.items():
        vocabulary, name = key.split(":", 1)
        entry = action_for(view.playbook, vocabulary, name, ctx.language)
        label = (
            _segment(ctx, name)
            if vocabulary == "rfm_segment"
            else _t(ctx, "export.stage_group", stage=_stage(ctx, name))
        )
        rows.append((rank[entry.priority], -int(n), label, entry, int(n)))
    rows.sort(key=lambda r: (r[0], r[1]))
    shown = pd.DataFrame(
        {
            c["group"]: [r[2] for r in rows],
            c["priority"]: [_priority(ctx, r[3].priority) for r in rows],
            c["customers"]: [r[4] for r in rows],
            c["action"]: [r[3].action_text(_t(ctx, "separator")) for r in rows],
        }
    )
    ctx.show(ui.table(shown))
    high = int((view.actions["priority"] == "high").sum())
    ctx.takeaway(
        f"{P}.export.takeaway",
        n=ctx.number(len(frame)),
        high=ctx.number(high),
        first=rows[0][2],
    )
    return path

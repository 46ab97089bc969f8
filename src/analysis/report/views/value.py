"""Sections and charts of the "Value and lifecycle" report (issue #3).

KPI cards (revenue concentration, buyers, and every RFM segment with its change vs the
previous period end), the RFM grid and the named segments, the Pareto curve with ABC
classes and value tiers, predicted CLV (BG/NBD + Gamma-Gamma) by segment, lifecycle stages
and their transitions, the breakdown by customer type, the playbook action per segment and
the CRM export ``rfm.csv``.

Everything shown is computed by :func:`analysis.pipelines.value.build` into a
:class:`~analysis.pipelines.value.ValueResult`; this module only displays it. A section
``xxx_section(ctx, result)`` shows text and tables; a section with a chart stops before it
(the notebook draws the chart with the public ``plot_*`` function of this module) and a
second function shows what follows the chart. Each plot function takes one part of the
result, draws on ``ax`` (default: the current Axes) and returns the Axes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from ... import display as ui
from ... import plots
from ...i18n import Translator, catalog, in_sentence, join_sentences
from ...lifecycle import stage_label
from ...valuation import SEGMENT_DIRECTION
from ...value import RFM8_CLASSES, segment_label
from ..context import ReportContext
from ..wording import billed

if TYPE_CHECKING:  # the result types, for annotations only
    from ...pipelines.value import (
        ClvPart,
        LifecyclePart,
        ParetoPart,
        RfmPart,
        TypesPart,
        ValueResult,
    )

__all__ = [
    "SEGMENT_COLOURS",
    "SEGMENT_DIRECTION",
    "clv_details_section",
    "clv_model_section",
    "clv_section",
    "customer_type_section",
    "customer_type_table_section",
    "export_section",
    "kpi_section",
    "lifecycle_section",
    "lifecycle_takeaway_section",
    "lifecycle_thresholds_section",
    "pareto_section",
    "playbook_section",
    "plot_alive",
    "plot_clv",
    "plot_customer_types",
    "plot_lifecycle",
    "plot_pareto",
    "plot_rfm_customers",
    "plot_rfm_revenue",
    "plot_rfm8_map",
    "plot_segment_map",
    "rfm_section",
    "scheme_note",
    "segment_colour",
    "segments_section",
    "short_money",
    "tiers_section",
]

P = "report_value"
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
_PERCENT = FuncFormatter(lambda v, _: f"{v:.0%}")


# --------------------------------------------------------------------------- wording


def _t(ctx: ReportContext, key: str, **values: object) -> str:
    return ctx._(f"{P}.{key}", **values)


def _one(ctx: ReportContext, key: str, n: int) -> str:
    """``key + "_one"`` for a count of one when the catalog has it ("1 customer")."""
    return f"{key}_one" if int(n) == 1 and f"{key}_one" in catalog(ctx.language) else key


def scheme_note(ctx: ReportContext, result: ValueResult) -> None:
    """Say how the orders were scored: as a subscription's bills (which cycle, from how many
    gaps) or as purchases, and why."""
    billing = result.billing
    if billing is None:
        return
    values = dict(
        share=ui.fmt_pct(billing.share, decimals=0) if math.isfinite(billing.share) else "–",
        n_gaps=ctx.number(billing.n_gaps),
        low=billing.low,
        high=billing.high,
    )
    if billing.source == "param" and not billing.subscription:
        ctx.note(f"{P}.scheme.forced", "info", scheme=_t(ctx, "scheme.name.transactional"))
    elif billing.subscription:
        cycle = ctx._(f"value.cycle.{billing.cycle}")
        ctx.note(
            f"{P}.scheme.subscription", "info", cycle=in_sentence(cycle, ctx.language), **values
        )
    elif billing.source == "too_few_gaps":
        ctx.note(f"{P}.scheme.transactional_few", "info", n_gaps=values["n_gaps"])
    else:
        ctx.note(f"{P}.scheme.transactional", "info", **values)


def _segment(language: str, key: object) -> str:
    return segment_label(str(key), language)


def _stage(language: str, key: object) -> str:
    return stage_label(str(key), language)


def _type_label(language: str, key: object) -> str:
    names = catalog(language)
    name = f"{P}.type.{key}"
    return names[name] if name in names else str(key)


def _priority(ctx: ReportContext, key: str) -> str:
    return ctx._(f"playbook.priority.{key}")


def _pct(value: float | None, decimals: int = 1) -> str:
    return ui.fmt_pct(_finite(value), decimals=decimals)


def _pts(ctx: ReportContext, change: float) -> str:
    """A change of a share in percentage points: ``+1.2 pts``."""
    return _t(ctx, "pts", value=100 * change)


def short_money(value: float, *, currency: str = "$", language: str = "en") -> str:
    """Compact amounts for chart labels: ``$12.3k``, ``$1.2M``; ``1.2万元`` in Chinese
    (:func:`analysis.display.fmt_money_short`)."""
    return ui.fmt_money_short(value, currency, language=language)


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def segment_colour(key: str, order: int) -> str:
    """The colour of an RFM segment (a palette colour for a segment of a custom map)."""
    return SEGMENT_COLOURS.get(key, plots.PALETTE[order % len(plots.PALETTE)])


# --------------------------------------------------------------------------- KPIs


def kpi_section(ctx: ReportContext, result: ValueResult) -> None:
    """The one-screen overview at the top: the key figures as cards (top-20% revenue
    share, buyers, revenue, predicted CLV, each with its change vs the previous period
    end: ``result.kpis``), the findings in plain words (with the value at risk of the
    unit's figures, linked to its definition) and where to act (the playbook, the export,
    the other reports). Each segment's change since then is in the named segment table
    (:func:`segments_section`)."""
    ctx.heading(f"{P}.kpis.title")
    cur, prev = result.current, result.previous_snapshot
    lookback = result.lookback_days
    fraction = result.top_share_fraction
    ctx.text(
        f"{P}.kpis.intro",
        end=ui.fmt_date(cur.as_of, ctx.language),
        period=str(result.period),
        previous_end=ui.fmt_date(prev.as_of, ctx.language),
        previous=str(result.previous),
        lookback=lookback,
    )
    if result.orders_in_period == 0:
        ctx.note(f"{P}.note.no_orders_in_period", "warning", period=str(result.period))
    if result.status == "no_buyers":
        ctx.note(
            f"{P}.note.no_buyers",
            "warning",
            lookback=lookback,
            end=ui.fmt_date(cur.as_of, ctx.language),
        )
    elif result.status == "small_base":
        ctx.note(f"{P}.note.small_base", "warning", n=result.buyers, lookback=lookback)

    vs = ctx._("common.vs_previous", period=str(result.previous))
    none = ctx._("common.no_comparison")
    has_prev = result.has_previous
    kpis = result.kpis
    top_change = _finite(kpis.loc["top_share", "change"])
    cards = [
        ui.KPI(
            _t(ctx, "kpi.top_share", fraction=ui.fmt_pct(fraction, decimals=0)),
            _pct(kpis.loc["top_share", "current"]),
            top_change,
            vs if top_change is not None else none,
            higher_is_better=None,
            change_text=_pts(ctx, top_change) if top_change is not None else None,
        ),
        ui.KPI(
            _t(ctx, "kpi.buyers", lookback=lookback),
            ctx.number(result.buyers),
            _finite(kpis.loc["buyers", "change"]),
            vs if has_prev else none,
        ),
        ui.KPI(
            _t(ctx, "kpi.revenue", lookback=lookback),
            ctx.money(float(kpis.loc["revenue", "current"])),
            _finite(kpis.loc["revenue", "change"]),
            vs if has_prev else none,
        ),
    ]
    if "clv_total" in kpis.index:
        cards.append(
            ui.KPI(
                _t(ctx, "kpi.clv_total", months=cur.clv.horizon_months),
                ctx.money(float(kpis.loc["clv_total", "current"])),
                None,
                "",
            )
        )
    ctx.show(ui.kpi_cards(cards))

    if result.buyers == 0:
        ctx.show(_act_links(ctx))
        return
    ctx.show(ui.points(_findings(ctx, result), markup=True))
    ctx.show(_act_links(ctx))


def _segments_takeaway(ctx: ReportContext, result: ValueResult) -> str:
    """The largest segment, the biggest moves since the previous period end and the
    revenue share of the top buyers, in one sentence."""
    table, kpis = result.segment_changes, result.kpis
    largest = result.rfm.largest_segment
    values = dict(
        largest=_segment(ctx.language, largest),
        share=_pct(table.loc[largest, "customer_share"]),
        fraction=ui.fmt_pct(result.top_share_fraction, decimals=0),
        top=_pct(kpis.loc["top_share", "current"]),
    )
    moved = table["share_change"].dropna()
    if result.has_previous and len(moved) and moved.abs().max() > 0:
        up, down = moved.idxmax(), moved.idxmin()
        return _t(
            ctx,
            "kpis.takeaway",
            grew=_segment(ctx.language, up),
            grew_by=_pts(ctx, moved[up]),
            shrank=_segment(ctx.language, down),
            shrank_by=_pts(ctx, moved[down]),
            previous=str(result.previous),
            **values,
        )
    key = "kpis.takeaway_unchanged" if result.has_previous else "kpis.takeaway_no_previous"
    return _t(ctx, key, previous=str(result.previous), **values)


def _findings(ctx: ReportContext, result: ValueResult) -> list[str]:
    """The overview's findings (escaped HTML, some with a link): segments, predicted
    value, the biggest move to a worse stage, who to act on and the value at risk."""
    esc = ui.esc
    found = [esc(_segments_takeaway(ctx, result))]
    clv = result.clv
    if clv.status == "ok" and clv.top_segment is not None:
        found.append(
            esc(
                _t(
                    ctx,
                    "clv.takeaway",
                    total=ctx.money(clv.total),
                    months=clv.fit.horizon_months,
                    top=_segment(ctx.language, clv.top_segment),
                    top_share=_pct(clv.top_segment_share),
                    best=_segment(ctx.language, clv.best_segment),
                    best_value=ctx.money(clv.best_segment_value),
                )
            )
        )
    outflow = result.lifecycle.outflow if result.lifecycle.status == "ok" else None
    if outflow is not None:
        found.append(esc(_outflow_text(ctx, result, outflow)))
    part = result.playbook_tables
    if part.high_priority:
        text = _t(
            ctx,
            "playbook.takeaway",
            n=ctx.number(part.high_priority_customers),
            share=_pct(part.high_priority_customers / result.buyers),
            segments=_t(ctx, "list_separator").join(
                _segment(ctx.language, k) for k in part.high_priority
            ),
        )
        found.append(f"{esc(text)} {ui.link(_t(ctx, 'glance.to_playbook'), '#sec-playbook')}")
    figures = ctx.figures()
    at_risk = _finite(figures.current.get("value_at_risk"))
    if at_risk is not None and at_risk > 0:
        text = _t(
            ctx,
            "glance.value_at_risk",
            value=figures.text("value_at_risk", ctx.language),
            n=figures.text("high_risk_customers", ctx.language),
        )
        found.append(
            f"{esc(text)} "
            f"{ui.figure_link(_t(ctx, 'glance.definition'), 'value_at_risk')} · "
            f"{ctx.link('churn', 'report_churn.list.title', _t(ctx, 'glance.to_churn'))}"
        )
    return found


def _act_links(ctx: ReportContext) -> ui.Block:
    """Where to act and read on: the actions and customer list of this report, and the
    reports with the other views of the same customers."""
    items = [
        ui.link(_t(ctx, "link.playbook"), "#sec-playbook"),
        ctx.export_link("rfm.csv", _t(ctx, "link.export")),
        ctx.link("churn", "report_churn.list.title", _t(ctx, "link.churn")),
        ctx.link(
            "segmentation", "report_segmentation.strategy.title", _t(ctx, "link.segmentation")
        ),
        ctx.link("summary", None, _t(ctx, "link.summary")),
    ]
    return ui.block(f'<p class="sr-links">{ui.esc(_t(ctx, "link.act"))} {" · ".join(items)}</p>')


# --------------------------------------------------------------------------- RFM


def rfm_section(ctx: ReportContext, result: ValueResult) -> None:
    """The RFM heading and intro (before the grid chart, :func:`plot_segment_map`,
    :func:`plot_rfm_customers` and :func:`plot_rfm_revenue`)."""
    ctx.heading(f"{P}.rfm.title")
    scheme_note(ctx, result)
    if result.rfm.status != "ok":
        ctx.note(f"{P}.rfm.none", "info", lookback=result.lookback_days)
        return
    sub = "_subscription" if result.rfm.scheme == "subscription" else ""
    # the eight RFM classes are not blocks of the grid: their intro says what they are
    intro = "value.rfm8.scores" if result.rfm.segment_scheme == "rfm8" else f"{P}.rfm.intro"
    ctx.text(f"{intro}{sub}", n=ctx.number(result.buyers), lookback=result.lookback_days)
    if result.rfm.segment_scheme == "rfm8":
        ctx.text(**rfm8_intro(result.rfm, ctx))
    used = result.rfm.f_scores_used
    if len(used) < 5 and result.status == "ok":
        ctx.note(f"{P}.rfm.ties{sub}", "info", used=", ".join(str(f) for f in used))


def segments_section(ctx: ReportContext, result: ValueResult) -> None:
    """After the grid chart: its takeaway, then the named segment table with each segment's
    change since the previous period end (nothing without buyers). The playbook action of
    each segment is in :func:`playbook_section`, with its objective, channel and offer."""
    rfm = result.rfm
    if rfm.status != "ok":
        return
    language = ctx.language
    r, f = rfm.best_cell
    ctx.takeaway(
        f"{P}.rfm.takeaway",
        r=r,
        f=f,
        segment=_segment(language, rfm.best_segment or ""),
        customers=_pct(rfm.best_customer_share),
        revenue=_pct(rfm.best_revenue_share),
    )

    ctx.show(
        ui.heading(
            _t(ctx, "segments.title"), level=3, anchor=ui.section_anchor(f"{P}.segments.title")
        )
    )
    seg = rfm.summary
    col = {
        k: _t(ctx, f"col.{k}")
        for k in (
            "segment",
            "customers",
            "customer_share",
            "change",
            "revenue_share",
            "avg_recency",
            "avg_frequency",
            "avg_monetary",
        )
    }
    empty = [k for k in seg.index if seg.loc[k, "customers"] == 0]
    seg = seg.loc[seg["customers"] > 0]
    shown = pd.DataFrame(
        {
            col["segment"]: [_segment(language, k) for k in seg.index],
            col["customers"]: seg["customers"].astype(int).to_numpy(),
            col["customer_share"]: seg["customer_share"].to_numpy(),
            col["change"]: _segment_changes(ctx, result, seg.index),
            col["revenue_share"]: seg["revenue_share"].to_numpy(),
            col["avg_recency"]: seg["avg_recency"].to_numpy(),
            col["avg_frequency"]: seg["avg_frequency"].to_numpy(),
            col["avg_monetary"]: [ctx.money(_finite(v)) for v in seg["avg_monetary"]],
        }
    )
    col["change"] = _t(ctx, "col.segment_change", previous=str(result.previous))
    shown = shown.rename(columns={_t(ctx, "col.change"): col["change"]})
    if not result.has_previous:
        shown = shown.drop(columns=[col["change"]])
    ctx.show(
        ui.table(
            shown,
            formats={
                col["customer_share"]: "pct",
                col["revenue_share"]: "pct",
                col["avg_recency"]: "{:,.0f}",
                col["avg_frequency"]: "{:,.1f}",
            },
        )
    )
    ctx.show(ui.links(_t(ctx, "segments.actions"), [(_t(ctx, "link.playbook"), "#sec-playbook")]))
    if empty:
        ctx.show(
            ui.paragraph(
                _t(
                    ctx,
                    "segments.empty",
                    segments=_t(ctx, "list_separator").join(_segment(language, k) for k in empty),
                ),
                "sr-small",
            )
        )
    largest = rfm.largest_segment
    values = dict(
        largest=_segment(language, largest),
        largest_share=_pct(seg.loc[largest, "customer_share"]),
    )
    if rfm.top_segment is not None:
        top = rfm.top_segment
        ctx.takeaway(
            f"{P}.segments.takeaway",
            top=_segment(language, top),
            revenue=_pct(seg.loc[top, "revenue_share"]),
            customers=_pct(seg.loc[top, "customer_share"]),
            **values,
        )
    else:
        ctx.takeaway(f"{P}.segments.takeaway_no_revenue", **values)


def _segment_changes(ctx: ReportContext, result: ValueResult, keys) -> list[str]:
    """Each segment's change in buyers and in share since the previous period end
    (``result.segment_changes``): ``+120 (+0.5 pts)``."""
    table = result.segment_changes
    out = []
    for key in keys:
        change, share = table.loc[key, "change"], _finite(table.loc[key, "share_change"])
        if not result.has_previous or share is None:
            out.append("–")
            continue
        out.append(_t(ctx, "kpi.segment_change", count=f"{int(change):+,d}", pts=_pts(ctx, share)))
    return out


def _rfm_axes(ax: Axes, cells, language: str, scheme: str = "transactional") -> None:
    tr = Translator(language)
    sub = "_subscription" if scheme == "subscription" else ""
    ax.set_xlabel(tr(f"{P}.rfm.f_axis{sub}"))
    ax.set_ylabel(tr(f"{P}.rfm.r_axis{sub}"))
    _draw_boundaries(ax, cells)


def _draw_boundaries(ax: Axes, cells) -> None:
    """Dark lines between cells of different segments (heatmap coordinates: row 0 = r 5)."""
    owner = {(5 - int(c[0]), int(c[1]) - 1): k for c, k in cells.items()}
    for (row, col), key in owner.items():
        if col < 4 and owner[(row, col + 1)] != key:
            ax.plot([col + 1, col + 1], [row, row + 1], color="#1d2733", lw=1.6)
        if row < 4 and owner[(row + 1, col)] != key:
            ax.plot([col, col + 1], [row + 1, row + 1], color="#1d2733", lw=1.6)


def rfm8_intro(part: RfmPart, ctx: ReportContext) -> dict[str, object]:
    """The message and values explaining the eight RFM classes' split values."""
    cut = part.rfm8_splits or {}
    sub = "_subscription" if part.scheme == "subscription" else ""
    return dict(
        key=f"value.rfm8.intro{sub}",
        split=ctx._(f"value.rfm8.split.{cut.get('split', 'mean')}"),
        # subscriptions: the split is on 6 - r_score; say it as an R score
        r=ui.fmt_number(
            (6 - cut["recency"]) if sub and "recency" in cut else cut.get("recency"),
            decimals=1,
            language=ctx.language,
        ),
        f=ui.fmt_number(cut.get("frequency"), decimals=1, language=ctx.language),
        m=ctx.money(cut.get("monetary")),
    )


def plot_rfm8_map(part: RfmPart, *, language: str = "en", ax: Axes | None = None) -> Axes:
    """The eight RFM classes as a 2 x 4 grid (R recent / far down, F and M across), each
    cell named and with its share of the buyers."""
    ax = ax if ax is not None else plt.gca()
    tr = Translator(language)
    order = {k: i for i, k in enumerate(part.segments)}
    shares = part.summary["customer_share"]
    columns = [(True, True), (False, True), (True, False), (False, False)]  # (F high, M high)
    for key, (recent, frequent, spend) in RFM8_CLASSES.items():
        row, col = (0 if recent else 1), columns.index((frequent, spend))
        colour = plt.matplotlib.colors.to_rgb(segment_colour(key, order.get(key, 0)))
        ax.add_patch(plt.Rectangle((col, row), 1, 1, color=[0.35 + 0.65 * c for c in colour], lw=0))
        share = shares.get(key)
        label = ui.wrap_label(_segment(language, key), 14, language)
        if share is not None and not pd.isna(share):
            label += f"\n{ui.fmt_pct(share, decimals=0 if share >= 0.1 else 1)}"
        ax.text(col + 0.5, row + 0.5, label, ha="center", va="center", fontsize=8)
    for x in (1, 2, 3):
        ax.plot([x, x], [0, 2], color="white", lw=2 if x != 2 else 3)
    ax.plot([0, 4], [1, 1], color="white", lw=3)
    f_word = {True: tr("value.rfm8.f_high"), False: tr("value.rfm8.f_low")}
    m_word = {True: tr("value.rfm8.m_high"), False: tr("value.rfm8.m_low")}
    ticks = [f"{f_word[f]}\n{m_word[m]}" for f, m in columns]
    ax.set_xticks(np.arange(4) + 0.5, labels=ticks)
    ax.set_yticks([0.5, 1.5], labels=[tr("value.rfm8.r_near"), tr("value.rfm8.r_far")])
    ax.set_xlim(0, 4)
    ax.set_ylim(2, 0)
    ax.grid(False)
    ax.set_title(tr("value.rfm8.chart_map"))
    return ax


def plot_segment_map(part: RfmPart, *, language: str = "en", ax: Axes | None = None) -> Axes:
    """The 5 x 5 r x f grid coloured by segment, each segment named once (the eight RFM
    classes, ``value.segment_scheme: rfm8``: :func:`plot_rfm8_map`).

    Parameters
    ----------
    part
        ``result.rfm`` (:class:`~analysis.pipelines.value.RfmPart`).
    language
        Language of the labels.
    ax
        Axes to draw on (default: the current Axes).

    Returns
    -------
    matplotlib.axes.Axes
    """
    if part.segment_scheme == "rfm8":
        return plot_rfm8_map(part, language=language, ax=ax)
    ax = ax if ax is not None else plt.gca()
    cells, segments = part.cells, part.segments
    order = {k: i for i, k in enumerate(segments)}
    grid = np.zeros((5, 5, 3))
    for cell, key in cells.items():
        r, f = int(cell[0]), int(cell[1])
        colour = plt.matplotlib.colors.to_rgb(segment_colour(key, order[key]))
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
            ui.wrap_label(_segment(language, key), 10 if width == 1 else 16, language),
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
    ax.set_title(Translator(language)(f"{P}.rfm.chart_map"))
    _rfm_axes(ax, cells, language, part.scheme)
    return ax


def plot_rfm_customers(
    part: RfmPart, *, language: str = "en", ax: Axes | None = None, **kwargs
) -> Axes:
    """Customers per r x f cell, annotated, with the segment boundaries.

    ``kwargs`` go to :func:`analysis.plots.plot_heatmap` (``cmap`` defaults to Blues).
    """
    ax = ax if ax is not None else plt.gca()
    plots.plot_heatmap(part.counts, fmt=",.0f", **{"cmap": "Blues", **kwargs}, ax=ax)
    ax.set_title(Translator(language)(f"{P}.rfm.chart_customers"))
    _rfm_axes(ax, part.cells, language, part.scheme)
    return ax


def plot_rfm_revenue(
    part: RfmPart,
    *,
    language: str = "en",
    currency: str = "$",
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Net window revenue per r x f cell (compact amounts), with the segment boundaries.

    ``kwargs`` go to :func:`seaborn.heatmap` (``cmap`` defaults to Greens).
    """
    ax = ax if ax is not None else plt.gca()
    labels = part.revenue.map(lambda v: short_money(v, currency=currency, language=language))
    options = {
        "cmap": "Greens",
        "cbar": False,
        "linewidths": 0.5,
        "linecolor": "white",
        "annot_kws": {"fontsize": 8},
        **kwargs,
    }
    sns.heatmap(part.revenue.clip(lower=0), annot=labels, fmt="", ax=ax, **options)
    ax.set_title(Translator(language)(f"{P}.rfm.chart_revenue"))
    _rfm_axes(ax, part.cells, language, part.scheme)
    return ax


# --------------------------------------------------------------------------- Pareto


def pareto_section(ctx: ReportContext, result: ValueResult) -> None:
    """The Pareto heading and intro, or why there is no curve (before :func:`plot_pareto`,
    drawn when ``result.pareto.status == "ok"``)."""
    part = result.pareto
    ctx.heading(f"{P}.pareto.title")
    if part.status == "no_buyers":
        ctx.note(f"{P}.note.no_buyers_short", "info")
        return
    ctx.text(
        f"{P}.pareto.intro",
        lookback=result.lookback_days,
        a=ui.fmt_pct(part.a_share, decimals=0),
        b=ui.fmt_pct(part.b_share, decimals=0),
        high=ui.fmt_pct(part.high_share, decimals=0),
        medium=ui.fmt_pct(part.medium_share, decimals=0),
    )
    if part.status == "no_revenue":
        ctx.note(f"{P}.pareto.no_revenue", "warning")
    elif part.status == "small_base":
        ctx.note(f"{P}.pareto.small", "info", n=result.buyers, min=part.min_base)


def plot_pareto(part: ParetoPart, *, language: str = "en", ax: Axes | None = None) -> Axes:
    """Lorenz-style curve of the buyers' revenue over the ABC bands, with the A and A+B
    revenue lines and the top-fraction point.

    Parameters
    ----------
    part
        ``result.pareto`` (:class:`~analysis.pipelines.value.ParetoPart`) with a curve.
    language
        Language of the labels.
    ax
        Axes to draw on (default: the current Axes).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else plt.gca()
    tr = Translator(language)
    abc, curve = part.abc, part.curve
    a, b, fraction, top = part.a_share, part.b_share, part.fraction, part.top_share
    left = 0.0
    for cls in ("A", "B", "C"):
        width = float(abc.loc[cls, "customer_share"]) if cls in abc.index else 0.0
        if width > 0:
            ax.axvspan(left, left + width, color=_TIER_COLOURS[cls], alpha=0.25, lw=0)
            ax.text(
                left + width / 2,
                0.04,
                tr(f"value.abc.{cls}"),
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
            tr(
                f"{P}.pareto.point",
                fraction=ui.fmt_pct(fraction, decimals=0),
                share=_pct(top, 0),
            ),
            (fraction, top),
            xytext=(12, -18),
            textcoords="offset points",
            fontsize=9,
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_formatter(_PERCENT)
    ax.yaxis.set_major_formatter(_PERCENT)
    ax.set_xlabel(tr(f"{P}.pareto.x"))
    ax.set_ylabel(tr(f"{P}.pareto.y"))
    ax.set_title(tr(f"{P}.pareto.chart"))
    return ax


def tiers_section(ctx: ReportContext, result: ValueResult) -> None:
    """After the Pareto chart: its takeaway, then the value-tier and ABC tables."""
    part = result.pareto
    if part.status not in ("ok", "small_base"):
        return
    if part.status == "ok":
        ctx.takeaway(
            f"{P}.pareto.takeaway",
            fraction=ui.fmt_pct(part.fraction, decimals=0),
            top=_pct(part.top_share),
            a_customers=_pct(part.a_customer_share),
            a=ui.fmt_pct(part.a_share, decimals=0),
        )
    tiers, abc = part.tiers, part.abc
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
    shown = pd.DataFrame(
        {
            c["tier"]: [ctx._(f"value.tier.{k}") for k in tiers.index],
            c["customers"]: tiers["customers"].astype(int).to_numpy(),
            c["customer_share"]: tiers["customer_share"].to_numpy(),
            c["revenue"]: [ctx.money(v) for v in tiers["revenue"]],
            c["revenue_share"]: tiers["revenue_share"].to_numpy(),
            c["avg_monetary"]: [ctx.money(_finite(v)) for v in tiers["avg_monetary"]],
            c["avg_clv"]: [ctx.money(_finite(v)) for v in tiers["avg_clv"]],
            c["action"]: part.tier_actions["action"].reindex(tiers.index).tolist(),
        }
    )
    if result.clv.status != "ok":
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


def clv_section(ctx: ReportContext, result: ValueResult) -> None:
    """Predicted 12-month CLV: intro and KPI cards, or why the models could not be fitted
    (before :func:`plot_clv` and :func:`plot_alive`, drawn when
    ``result.clv.by_segment`` is not None)."""
    ctx.heading(f"{P}.clv.title")
    part, cur = result.clv, result.current
    fit = part.fit
    end = ui.fmt_date(cur.as_of, ctx.language)
    if part.status != "ok":
        if part.status == "too_few_repeat":
            ctx.note(
                f"{P}.clv.too_few",
                "warning",
                n_repeat=ctx.number(fit.n_repeat),
                n=ctx.number(fit.n_customers),
                min=fit.min_repeat,
                end=end,
            )
        else:
            model = ctx._(
                billed(
                    ctx.language, f"{P}.clv.model.{fit.model if fit else 'bg'}", result.rfm.scheme
                )
            )
            ctx.note(f"{P}.clv.no_fit", "warning", model=model)
        if result.buyers:
            ctx.text(f"{P}.clv.historical_intro", end=end)
        return
    ctx.text(
        billed(ctx.language, f"{P}.clv.intro", result.scheme),
        n=ctx.number(fit.n_customers),
        n_repeat=ctx.number(fit.n_repeat),
        end=end,
        months=fit.horizon_months,
        rate=ui.fmt_pct(fit.discount_rate_annual, decimals=0),
    )
    cards = [
        ui.KPI(_t(ctx, "kpi.clv_total", months=fit.horizon_months), ctx.money(part.total)),
        ui.KPI(_t(ctx, "clv.kpi.mean"), ctx.money(part.mean)),
        ui.KPI(_t(ctx, "clv.kpi.historical"), ctx.money(part.historical_mean)),
        ui.KPI(_t(ctx, "clv.kpi.alive"), _pct(part.alive_mean, 0)),
        ui.KPI(_t(ctx, "clv.kpi.dormant"), ctx.number(part.dormant)),
    ]
    ctx.show(ui.kpi_cards(cards))


def _clv_title(part: ClvPart, language: str) -> str:
    tr = Translator(language)
    if part.status == "ok":
        return tr(f"{P}.clv.chart", months=part.fit.horizon_months)
    return tr(f"{P}.clv.chart_historical")


def plot_clv(
    part: ClvPart,
    *,
    language: str = "en",
    currency: str = "$",
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Box plot of predicted CLV (historical value without a fit) by RFM segment, on a log
    scale; whiskers at the 5th and 95th percentiles.

    Parameters
    ----------
    part
        ``result.clv`` (:class:`~analysis.pipelines.value.ClvPart`) with ``by_segment``.
    language, currency
        Language of the labels, currency symbol of the amounts.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.boxplot`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else plt.gca()
    values = part.by_segment
    keys = list(values.segments)
    palette = {k: segment_colour(k, i) for i, k in enumerate(values.all_segments)}
    groups = [
        values.values.loc[values.values["rfm_segment"] == k, "value"].to_numpy() for k in keys
    ]
    if any(len(g) for g in groups):
        # Whiskers at the 5th and 95th percentiles: on a log scale the 1.5-IQR rule of
        # thumb means little, and the extreme 10% are not what a manager acts on.
        options = {
            "orientation": "horizontal",
            "whis": (5, 95),
            "showfliers": False,
            "patch_artist": True,
            "widths": 0.6,
            "medianprops": {"color": "#1d2733", "lw": 1.4},
            **kwargs,
        }
        boxes = ax.boxplot(groups, positions=np.arange(len(keys)), **options)
        for patch, key in zip(boxes["boxes"], keys, strict=True):
            patch.set_facecolor(palette[key])
            patch.set_alpha(0.85)
        ax.set_xscale("log")
    ax.set_yticks(np.arange(len(keys)), labels=[_segment(language, k) for k in keys])
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _: short_money(v, currency=currency, language=language))
    )
    title = _clv_title(part, language)
    ax.set_xlabel(title)
    ax.set_ylabel("")
    ax.set_title(title)
    return ax


def plot_alive(part: ClvPart, *, language: str = "en", ax: Axes | None = None) -> Axes:
    """Mean P(alive) per RFM segment as bars, in the rows of :func:`plot_clv` (share its
    y axis: ``plt.subplots(1, 2, sharey=True)``)."""
    ax = ax if ax is not None else plt.gca()
    values = part.by_segment
    keys = list(values.segments)
    palette = {k: segment_colour(k, i) for i, k in enumerate(values.all_segments)}
    alive = values.alive.reindex(keys).to_numpy()
    ax.barh(np.arange(len(keys)), alive, color=[palette[k] for k in keys], height=0.6)
    for i, v in enumerate(alive):
        if np.isfinite(v):
            ax.text(v + 0.01, i, f"{v:.0%}", va="center", fontsize=8)
    ax.set_xlim(0, 1.15)
    ax.xaxis.set_major_formatter(_PERCENT)
    ax.set_title(Translator(language)(f"{P}.clv.chart_alive"))
    ax.set_xlabel("")
    ax.grid(axis="y", visible=False)
    return ax


def clv_details_section(ctx: ReportContext, result: ValueResult) -> None:
    """After the CLV chart: what it leaves out and the takeaway (the fitted parameters are
    in the appendix: :func:`clv_model_section`)."""
    part = result.clv
    if part.by_segment is not None:
        note = _t(ctx, "clv.box_note")
        if part.by_segment.left_out:
            left_out = _t(ctx, "clv.left_out", n=ctx.number(part.by_segment.left_out))
            note = join_sentences([note, left_out], ctx.language)
        ctx.show(ui.paragraph(note, "sr-small"))
    if part.status != "ok":
        if part.best_segment is not None:
            ctx.takeaway(
                f"{P}.clv.takeaway_historical",
                segment=_segment(ctx.language, part.best_segment),
                value=ctx.money(part.best_segment_value),
            )
        return
    fit = part.fit
    if part.top_segment is not None:
        ctx.takeaway(
            f"{P}.clv.takeaway",
            total=ctx.money(part.total),
            months=fit.horizon_months,
            top=_segment(ctx.language, part.top_segment),
            top_share=_pct(part.top_segment_share),
            best=_segment(ctx.language, part.best_segment),
            best_value=ctx.money(part.best_segment_value),
        )


def clv_model_section(ctx: ReportContext, result: ValueResult) -> None:
    """The fitted BG/NBD and Gamma-Gamma parameters with their intervals and the fit
    (for the appendix; nothing without a fit)."""
    part = result.clv
    if part.status != "ok":
        return
    fit = part.fit
    ctx.show(ui.heading(_t(ctx, "clv.params_title"), level=3))
    if part.gg_correlation is not None:
        ctx.note("value.msg.gg_correlation", "info", corr=f"{part.gg_correlation:.2f}")
    params = part.parameters
    unit = _t(ctx, f"clv.time_unit.{fit.time_unit}")
    c = {k: _t(ctx, f"col.{k}") for k in ("model", "parameter", "estimate", "interval")}
    shown = pd.DataFrame(
        {
            c["model"]: [
                ctx._(
                    billed(
                        ctx.language,
                        f"{P}.clv.model.{'bg' if m == 'bg_nbd' else 'gg'}",
                        result.rfm.scheme,
                    )
                )
                for m in params["model"]
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


def _num(value: float) -> str:
    value = float(value)
    if not math.isfinite(value):
        return "–"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


# --------------------------------------------------------------------------- lifecycle


def _outflow_text(ctx: ReportContext, result: ValueResult, outflow: dict) -> str:
    """The sentence on the period's biggest lifecycle outflow (the overview's finding and
    the lifecycle section's takeaway)."""
    return ctx._(
        _one(ctx, f"{P}.lifecycle.takeaway", outflow["count"]),
        count=ctx.number(outflow["count"]),
        share=_pct(outflow["share"]),
        source=_stage(ctx.language, outflow["from_stage"]),
        target=_stage(ctx.language, outflow["to_stage"]),
        previous=str(result.previous),
    )


def lifecycle_section(ctx: ReportContext, result: ValueResult) -> None:
    """Stages as of the period end with the thresholds used, stage counts vs the previous
    period end, and the transitions intro (before :func:`plot_lifecycle`, drawn when
    ``result.lifecycle.status == "ok"``)."""
    ctx.heading(f"{P}.lifecycle.title")
    part = result.lifecycle
    th = part.thresholds
    values = dict(
        at_risk_days=th.at_risk_days,
        lapsed_days=th.lapsed_days,
        new_days=th.new_days,
        loyal_min_repeat=th.loyal_min_repeat,
        lookback_days=th.lookback_days,
        n_gaps=ctx.number(th.n_gaps),
    )
    billing = th.billing
    if th.source == "cycle" and billing is not None:
        ctx.text(
            "value.msg.thresholds_cycle",
            cycle=ctx._(f"value.cycle.{billing.cycle}"),
            share=ui.fmt_pct(billing.share, decimals=0),
            low=billing.low,
            high=billing.high,
            **values,
        )
    else:
        key = (
            "value.msg.thresholds_learnt"
            if th.source == "gaps"
            else "value.msg.thresholds_fallback"
        )
        ctx.text(key, **values)

    stages = part.stages.drop(index=list(part.empty))
    c = {
        k: _t(ctx, f"col.{k}")
        for k in ("stage", "definition", "customers", "share", "previous_count", "change")
    }
    ctx.show(ui.heading(_t(ctx, "lifecycle.stages_title"), level=3))
    desc = "value.stage_desc_subscription" if part.scheme == "subscription" else "value.stage_desc"
    shown = pd.DataFrame(
        {
            c["stage"]: [_stage(ctx.language, k) for k in stages.index],
            c["definition"]: [ctx._(f"{desc}.{k}", **values) for k in stages.index],
            c["customers"]: stages["customers"].astype(int).to_numpy(),
            c["share"]: stages["share"].to_numpy(),
            c["previous_count"]: stages["previous"].astype(int).to_numpy(),
            c["change"]: [f"{int(v):+,d}" for v in stages["change"]],
        }
    )
    ctx.show(
        ui.table(shown, formats={c["share"]: "pct"}, muted_rows=(stages["customers"] == 0).tolist())
    )
    empty = [k for k in part.empty if k in part.columns]
    if empty and part.status == "ok":
        names = _t(ctx, "list_separator").join(_stage(ctx.language, k) for k in empty)
        ctx.show(ui.paragraph(_t(ctx, "lifecycle.empty_stages", stages=names), "sr-small"))
    if part.churned:
        ctx.note(
            _one(ctx, f"{P}.lifecycle.churned", part.churned),
            "info",
            n=ctx.number(part.churned),
            end=ui.fmt_date(part.as_of, ctx.language),
            stage=_stage(ctx.language, "churned"),
        )
    if part.status != "ok":
        ctx.note(f"{P}.lifecycle.none", "info")
        return
    ctx.show(ui.heading(_t(ctx, "lifecycle.transitions_title"), level=3))
    ctx.text(
        f"{P}.lifecycle.transitions_intro",
        previous_end=ui.fmt_date(part.previous_as_of, ctx.language),
        end=ui.fmt_date(part.as_of, ctx.language),
    )


def lifecycle_thresholds_section(ctx: ReportContext, result: ValueResult) -> None:
    """How each lifecycle threshold was set (learnt from the gaps between purchases, from
    the billing cycle, or from the parameters), for the appendix."""
    part = result.lifecycle
    th = part.thresholds
    ctx.show(ui.heading(_t(ctx, "lifecycle.thresholds_title"), level=3))
    if th.source == "cycle" and th.billing is not None:
        cycle = _t(ctx, "lifecycle.how.cycle")
        how = dict.fromkeys(("at_risk_days", "lapsed_days", "new_days", "loyal_min_repeat"), cycle)
    else:
        fallback = _t(ctx, "lifecycle.how.fallback")
        learnt = th.source == "gaps"
        how = {
            "at_risk_days": _t(
                ctx, "lifecycle.how.learnt", q=ui.fmt_pct(part.at_risk_quantile, decimals=0)
            )
            if learnt
            else fallback,
            "lapsed_days": _t(
                ctx, "lifecycle.how.learnt", q=ui.fmt_pct(part.lapsed_quantile, decimals=0)
            )
            if learnt
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
                        ctx._(
                            billed(ctx.language, f"{P}.lifecycle.repeats", result.scheme),
                            n=th.loyal_min_repeat,
                            days=th.lookback_days,
                        ),
                    ],
                    c["how"]: list(how.values()),
                }
            )
        )
    )


def plot_lifecycle(
    part: LifecyclePart, *, language: str = "en", ax: Axes | None = None, **kwargs
) -> Axes:
    """The stage transition matrix (previous period end -> period end), cells coloured by
    row share, annotated with share and count.

    Parameters
    ----------
    part
        ``result.lifecycle`` (:class:`~analysis.pipelines.value.LifecyclePart`).
    language
        Language of the labels.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to :func:`analysis.plots.plot_transitions` (e.g. ``fontsize``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else plt.gca()
    tr = Translator(language)
    rows = list(part.rows)
    plots.plot_transitions(
        part.transitions.counts,
        part.transitions.shares,
        rows=rows,
        columns=list(part.columns),
        row_labels=[_stage(language, s) for s in rows],
        column_labels=[_stage(language, s) for s in part.columns],
        ax=ax,
        **kwargs,
    )
    ax.set_xlabel(tr(f"{P}.lifecycle.to", end=ui.fmt_date(part.as_of, language)))
    ax.set_ylabel(tr(f"{P}.lifecycle.from", end=ui.fmt_date(part.previous_as_of, language)))
    ax.set_title(tr(f"{P}.lifecycle.chart"))
    return ax


def lifecycle_takeaway_section(ctx: ReportContext, result: ValueResult) -> None:
    """After the transition chart: the biggest move to a worse stage."""
    part = result.lifecycle
    if part.status != "ok":
        return
    outflow = part.outflow
    if outflow is None:
        ctx.takeaway(f"{P}.lifecycle.takeaway_none", previous=str(result.previous))
    else:
        ctx.show(ui.takeaway(_outflow_text(ctx, result, outflow)))


# --------------------------------------------------------------------------- customer types


def customer_type_section(ctx: ReportContext, result: ValueResult) -> None:
    """The customer-type heading, or why there is no breakdown (before
    :func:`plot_customer_types`, drawn when ``result.types.status == "ok"``)."""
    ctx.heading(f"{P}.types.title")
    if result.types.status == "no_types":
        ctx.note(f"{P}.types.none", "info")
    elif result.types.status == "no_buyers":
        ctx.note(f"{P}.note.no_buyers_short", "info")


def plot_customer_types(
    part: TypesPart, *, language: str = "en", ax: Axes | None = None, **kwargs
) -> Axes:
    """The RFM segment mix of each customer type with buyers, as 100% stacked bars.

    Parameters
    ----------
    part
        ``result.types`` (:class:`~analysis.pipelines.value.TypesPart`) with a mix.
    language
        Language of the labels.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else plt.gca()
    types = list(part.with_buyers)
    labels = [_type_label(language, k) for k in types]
    left = np.zeros(len(types))
    for i, key in enumerate(part.segments):
        widths = part.mix.loc[types, key].to_numpy()
        ax.barh(
            labels,
            widths,
            left=left,
            color=segment_colour(key, i),
            label=_segment(language, key),
            **{"height": 0.62, **kwargs},
        )
        for y, (x0, w) in enumerate(zip(left, widths, strict=True)):
            if w >= 0.07:
                ax.text(
                    x0 + w / 2, y, f"{w:.0%}", ha="center", va="center", fontsize=8, color="white"
                )
        left += widths
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(_PERCENT)
    ax.grid(False)
    ax.set_title(Translator(language)(f"{P}.types.chart"))
    ax.legend(ncol=5, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    return ax


def customer_type_table_section(ctx: ReportContext, result: ValueResult) -> None:
    """After the customer-type chart: value per type and the takeaway."""
    part = result.types
    if part.status != "ok":
        return
    summary = part.summary
    language = ctx.language
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
            c["type"]: [_type_label(language, k) for k in summary.index],
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
    if result.clv.status != "ok":
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
    best = part.best_type
    if best is not None:
        row = summary.loc[best]
        ctx.takeaway(
            f"{P}.types.takeaway",
            type=_type_label(language, best),
            buyers=_pct(row["buyer_share"]),
            revenue=_pct(row["revenue_share"]),
            per_buyer=ctx.money(row["revenue_per_buyer"]),
        )


# --------------------------------------------------------------------------- playbook


def _action_rows(ctx: ReportContext, table: pd.DataFrame, first: str, names) -> pd.DataFrame:
    c = {
        k: _t(ctx, f"col.{k}")
        for k in ("customers", "priority", "objective", "action", "channel", "offer")
    }
    return pd.DataFrame(
        {
            first: [names(k) for k in table.index],
            c["customers"]: [int(n) for n in table["customers"]],
            c["priority"]: [_priority(ctx, p) for p in table["priority"]],
            c["objective"]: table["objective"].tolist(),
            c["action"]: table["action"].tolist(),
            c["channel"]: table["channel"].tolist(),
            c["offer"]: table["offer"].tolist(),
        }
    )


def playbook_section(ctx: ReportContext, result: ValueResult) -> None:
    """The recommended action for each RFM segment, lifecycle stage and special customer
    type, from the playbook (``result.playbook_tables``)."""
    ctx.heading(f"{P}.playbook.title")
    part = result.playbook_tables
    accounts = [str(k) for k in part.types.index]  # the special types the unit has
    if result.scheme == "subscription":
        intro = "playbook.intro_subscription"
    else:
        intro = "playbook.intro" if accounts else "playbook.intro_no_types"
    if set(accounts) <= {"government", "institution"}:
        which = accounts[0] if len(accounts) == 1 else "both"
        names = _t(ctx, f"playbook.accounts.{which}") if accounts else ""
    else:  # a playbook with entries for other customer types: name them
        names = _t(ctx, "list_separator").join(_type_label(ctx.language, k) for k in accounts)
    ctx.text(f"{P}.{intro}", lookback=result.lookback_days, accounts=names)
    language = ctx.language
    segments = part.segments.loc[part.segments["customers"] > 0]
    ctx.show(
        ui.table(
            _action_rows(ctx, segments, _t(ctx, "col.segment"), lambda k: _segment(language, k))
        )
    )
    if part.high_priority:
        ctx.takeaway(
            f"{P}.playbook.takeaway",
            n=ctx.number(part.high_priority_customers),
            share=_pct(part.high_priority_customers / result.buyers),
            segments=_t(ctx, "list_separator").join(
                _segment(language, k) for k in part.high_priority
            ),
        )

    ctx.show(ui.heading(_t(ctx, "playbook.stages_title"), level=3))
    ctx.text(
        f"{P}.playbook.stages_intro",
        n=ctx.number(part.unscored),
        lookback=result.lookback_days,
    )
    stages = part.stages.loc[part.stages["customers"] > 0]
    ctx.show(
        ui.table(_action_rows(ctx, stages, _t(ctx, "col.stage"), lambda k: _stage(language, k)))
    )
    if part.subscription is not None:
        ctx.show(ui.heading(_t(ctx, "playbook.subscription_title"), level=3))
        ctx.text(f"{P}.playbook.subscription_intro")
        ctx.show(
            ui.table(
                _action_rows(
                    ctx,
                    part.subscription,
                    _t(ctx, "col.group"),
                    lambda k: _t(ctx, f"subscription.{k}"),
                ),
                muted_rows=(part.subscription["customers"] == 0).tolist(),
            )
        )
    if len(part.types):
        ctx.show(ui.heading(_t(ctx, "playbook.types_title"), level=3))
        ctx.show(
            ui.table(
                _action_rows(
                    ctx, part.types, _t(ctx, "col.type"), lambda k: _type_label(language, k)
                ),
                muted_rows=(part.types["customers"] == 0).tolist(),
            )
        )


# --------------------------------------------------------------------------- export


def export_section(ctx: ReportContext, result: ValueResult) -> Path:
    """Write ``exports/rfm.csv`` (``result.export``: one row per customer, real ids) with
    :meth:`ReportContext.export` and say what it holds. Returns the file's path."""
    frame = result.export
    path = ctx.export(frame, "rfm.csv")
    ctx.heading(f"{P}.export.title")
    sub = "_subscription" if result.scheme == "subscription" else ""
    intro = _t(
        ctx,
        f"export.intro{sub}",
        n=ctx.number(len(frame)),
        end=ui.fmt_date(result.current.as_of, ctx.language),
        lookback=result.lookback_days,
    )
    link = ctx.export_link("rfm.csv", "exports/rfm.csv")
    ctx.show(ui.block(f'<p class="sr-p">{ui.esc(intro)} {link}</p>'))
    ctx.show(ui.paragraph(_t(ctx, "export.columns"), "sr-small"))
    if frame.empty:
        ctx.note(f"{P}.export.empty", "info")
        return path
    groups = result.export_groups
    language = ctx.language
    labels = [
        _segment(language, key)
        if vocabulary == "rfm_segment"
        else _t(ctx, "export.stage_group", stage=_stage(language, key))
        for vocabulary, key in zip(groups["vocabulary"], groups["key"], strict=True)
    ]
    c = {k: _t(ctx, f"col.{k}") for k in ("group", "priority", "customers", "action")}
    shown = pd.DataFrame(
        {
            c["group"]: labels,
            c["priority"]: [_priority(ctx, p) for p in groups["priority"]],
            c["customers"]: [int(n) for n in groups["customers"]],
            c["action"]: groups["action"].tolist(),
        }
    )
    ctx.show(ui.table(shown))
    ctx.takeaway(
        f"{P}.export.takeaway",
        n=ctx.number(len(frame)),
        high=ctx.number(int((result.actions["priority"] == "high").sum())),
        first=labels[0],
    )
    return path

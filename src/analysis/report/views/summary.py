"""Sections of the "Strategy summary" report: the report a manager reads first.

What to do now (at most three actions ranked by the money at stake, each with who, why
linked to its source section and the export to act on), top alerts (only findings outside
their interval), needs and cross-sell, the KPI scorecard as cards (each KPI vs the previous
period and the same period a year earlier, with a marker that knows whether up is good),
the segment overview with the playbook entry of each RFM segment (and clustering segment),
referral results and, in the "all" report, the comparison across business units; the KPI
table with its definitions sits in the appendix. Everything shown is computed by
:func:`analysis.pipelines.summary.build`; the figures are the unit's figures, so they read
exactly as in the detail reports.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ... import display as ui
from ... import strategy
from ...churn import feature_label
from ...figures import format_figure
from ...i18n import in_sentence
from ...lifecycle import stage_label
from ...pipelines.needs import category_label
from ...pipelines.summary import SummaryResult
from ...playbook import action_for
from ...satisfaction import attribute_name
from ...value import segment_label
from ..context import ReportContext
from ..wording import billed

P = "report_summary"
#: Alerts shown at most.
MAX_ALERTS = 6
#: Fewest times the usual rate (lift) for a segment's cross-sell pair to be recommended:
#: a pair bought together only 2% more often than chance is no reason to cross-sell.
MIN_LIFT = 1.1


def _t(ctx: ReportContext, key: str, **values: object) -> str:
    return ctx._(f"{P}.{key}", **values)


def _finite(value: object) -> float | None:
    try:
        value = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _pct(value: object, decimals: int = 1) -> str:
    return ui.fmt_pct(_finite(value), decimals=decimals)


def _pts(ctx: ReportContext, value: float) -> str:
    return _t(ctx, "pts", value=value)


def kpi_label(ctx: ReportContext, kpi: str, scheme: str | None = None) -> str:
    """A KPI's name: the unit figure's name where the KPI is a business figure; a billed
    unit's own words (``scheme="subscription"``: bills, not orders) where the catalog has
    them."""
    figure = strategy.FIGURE_OF_KPI.get(kpi)
    if figure is not None:
        return ctx._(f"figures.{figure}.label")
    return ctx._(billed(ctx.language, f"{P}.kpi.{kpi}", scheme))


def shown_kpis(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard rows that have a value in some period: a KPI the unit's data cannot
    give (revenue without orders, NPS without a survey, complaints without interactions)
    is left out rather than shown as a row of dashes."""
    columns = [c for c in ("current", "previous", "year_ago") if c in card.columns]
    values = card[columns].apply(pd.to_numeric, errors="coerce")
    return card.loc[values.notna().any(axis=1)]


def kpi_value(ctx: ReportContext, kpi: str, value: object) -> str:
    """A KPI value in the report language (``–`` when there is none)."""
    v = _finite(value)
    if v is None:
        return "–"
    kind = strategy.KPI_KIND[kpi]
    if kind == "hours":
        return _t(ctx, "hours", value=v)
    return format_figure(v, kind, ctx.language, ctx.params["currency"])


def kpi_change(ctx: ReportContext, kpi: str, change: object) -> str | None:
    """A KPI change: relative (``+5.0%``) or in points (``+1.2 pts``); None without one."""
    c = _finite(change)
    if c is None:
        return None
    kind = strategy.KPI_KIND[kpi]
    if kind == "rate":
        return _pts(ctx, 100 * c)
    if kind == "points":
        return _pts(ctx, c)
    return ui.fmt_pct(c, signed=True)


def _delta_html(ctx: ReportContext, kpi: str, change: object, label: str) -> str:
    text = kpi_change(ctx, kpi, change)
    if text is None:
        return (
            f'<div class="sr-kpi-delta sr-neutral">– <span class="sr-kpi-vs">'
            f"{ui.esc(label)}</span></div>"
        )
    c = float(change)  # type: ignore[arg-type]
    arrow = "▲" if c > 0 else ("▼" if c < 0 else "■")
    good = strategy.HIGHER_IS_BETTER[kpi]
    css = "sr-neutral" if c == 0 else ("sr-good" if (c > 0) == good else "sr-bad")
    return (
        f'<div class="sr-kpi-delta {css}">{arrow} {ui.esc(text)} '
        f'<span class="sr-kpi-vs">{ui.esc(label)}</span></div>'
    )


def scorecard_cards(ctx: ReportContext, card: pd.DataFrame, scheme: str | None = None) -> ui.Block:
    """KPI cards with two changes each (vs the previous period, vs a year earlier), every
    value escaped; green when the change is good news, red when it is bad."""
    vs_prev = ctx._("common.vs_previous", period=str(ctx.previous))
    vs_year = ctx._("common.vs_previous", period=str(ctx.year_ago))
    cards = []
    for kpi, row in card.iterrows():
        cards.append(
            f'<div class="sr-kpi"><div class="sr-kpi-label">'
            f"{ui.figure_link(kpi_label(ctx, kpi, scheme), strategy.FIGURE_OF_KPI.get(kpi))}"
            f'</div><div class="sr-kpi-value">{ui.esc(kpi_value(ctx, kpi, row["current"]))}'
            f"</div>{_delta_html(ctx, kpi, row['change'], vs_prev)}"
            f"{_delta_html(ctx, kpi, row['change_yoy'], vs_year)}</div>"
        )
    return ui.block(f'<div class="sr-kpis">{"".join(cards)}</div>')


# --------------------------------------------------------------------------- actions


def _html_line(ctx: ReportContext, label_key: str, text: str, *links: str) -> str:
    """One line of an action: a bold label, escaped text and links (already HTML)."""
    label = ui.esc(_t(ctx, label_key))
    tail = "".join(f" {link}" for link in links)
    return f'<div class="sr-action-line"><strong>{label}</strong> {ui.esc(text)}{tail}</div>'


def _source_link(ctx: ReportContext, report: str, section: str) -> str:
    """A link to the section (a heading key) of another report, labelled "<report>:
    <section>", where a figure the summary quotes comes from."""
    label = _t(
        ctx, "actions.source", report=ctx._(f"report.{report}.title"), section=ctx._(section)
    )
    return ctx.link(report, section, label=label)


def _segment_link(ctx: ReportContext) -> str:
    return _source_link(ctx, "value", "report_value.rfm.title")


def _priority_label(ctx: ReportContext, priority: str) -> str:
    return ctx._(f"playbook.priority.{priority}")


def action_html(
    ctx: ReportContext, result: SummaryResult, rank: int, action: strategy.Action
) -> str:
    """One action as HTML: what to do, who (with the money at stake), why (with a link to
    the figure's source section) and the export to act on; every text escaped."""
    v = action.values
    lookback = int(ctx.params["value"]["lookback_days"])
    if action.kind == "retain":
        entry = action_for(
            result.playbook, "lifecycle_stage", "at_risk", ctx.language,
            scheme=result.scheme, available=result.available,
        )  # fmt: skip
        what = _t(ctx, "actions.retain.what", objective=entry.objective, action=entry.actions[0])
        who = _t(
            ctx,
            "actions.retain.who",
            n=ctx.number(action.customers),
            threshold=ui.fmt_pct(v["high_risk"], decimals=0),
            value=ctx.money(action.value),
        )
        why_key = "actions.retain.why" if v.get("reason") else "actions.retain.why_no_reason"
        why = _t(
            ctx,
            why_key,
            share=_pct(v["share"]),
            reason=feature_label(v["reason"], ctx.language) if v.get("reason") else "",
            reason_customers=ctx.number(v.get("reason_customers", 0)),
        )
        source = _source_link(ctx, "churn", "report_churn.list.title")
        export = ctx.export_link("churn_risk.csv")
        export_text = _t(ctx, "actions.retain.export")
    else:
        entry = action_for(
            result.playbook, "rfm_segment", action.key, ctx.language,
            scheme=result.scheme, available=result.available,
        )  # fmt: skip
        name = segment_label(action.key, ctx.language)
        what = _t(
            ctx, "actions.segment.what", segment=name, objective=entry.objective,
            action=entry.actions[0],
        )  # fmt: skip
        who = ctx._(
            billed(ctx.language, f"{P}.actions.segment.who", result.scheme),
            segment=name,
            n=ctx.number(action.customers),
            value=ctx.money(action.value),
            lookback=lookback,
            priority=_priority_label(ctx, v["priority"]),
        )
        change = _finite(v.get("change"))
        why_key = "actions.segment.why" if change is not None else "actions.segment.why_no_trend"
        why = ctx._(
            billed(ctx.language, f"{P}.{why_key}", result.scheme),
            revenue=_pct(v["revenue_share"]),
            share=_pct(v["customer_share"]),
            change=ctx._(
                billed(ctx.language, f"{P}.actions.change_customers", result.scheme),
                sign="-" if change < 0 else "+",
                moved=ctx.number(abs(change)),  # "-1 customer", not "-1 customers"
            )
            if change is not None
            else "",
            previous=str(ctx.previous),
        )
        source = _segment_link(ctx)
        export = ctx.export_link("rfm.csv")
        export_text = _t(ctx, "actions.segment.export", segment_key=action.key)
    return (
        f'<div class="sr-note sr-warning sr-action" id="action-{rank}">'
        f'<div class="sr-action-what"><strong>{rank}. {ui.esc(what)}</strong></div>'
        f"{_html_line(ctx, 'actions.label.who', who)}"
        f"{_html_line(ctx, 'actions.label.why', why, source)}"
        f'<div class="sr-action-line"><strong>{ui.esc(_t(ctx, "actions.label.export"))}'
        f"</strong> {export} {ui.esc(export_text)}</div></div>"
    )


def actions_section(ctx: ReportContext, result: SummaryResult) -> list[strategy.Action]:
    """What to do now: at most three actions, the most money at stake first (see
    :func:`analysis.strategy.rank_actions`), each with who, why and the export."""
    ctx.heading(f"{P}.actions.title")
    actions = list(result.actions)
    if not actions:
        ctx.note(f"{P}.actions.none", "ok")
        return actions
    ctx.text(f"{P}.actions.intro", n=len(actions))
    cards = "".join(action_html(ctx, result, i, a) for i, a in enumerate(actions, start=1))
    ctx.show(ui.block(f'<div class="sr-actions">{cards}</div>'))
    return actions


# --------------------------------------------------------------------------- KPIs


def kpi_section(ctx: ReportContext, result: SummaryResult) -> pd.DataFrame:
    """The scorecard as cards and the biggest good and bad change; the table with the
    definitions is :func:`kpi_table_section`, in the appendix."""
    ctx.heading(f"{P}.kpis.title")
    ctx.text(
        f"{P}.kpis.intro",
        period=str(ctx.period),
        previous=str(ctx.previous),
        year_ago=str(ctx.year_ago),
    )
    card = shown_kpis(result.scorecard)
    scheme = result.scheme
    ctx.show(scorecard_cards(ctx, card, scheme))
    good, bad = _movers(card)
    if good is None and bad is None:
        ctx.takeaway(f"{P}.kpis.takeaway_none", previous=str(ctx.previous))
    else:
        parts = []
        if good is not None:
            parts.append(
                _t(
                    ctx,
                    "kpis.better",
                    kpi=in_sentence(kpi_label(ctx, good, scheme), ctx.language),
                    change=kpi_change(ctx, good, card.at[good, "change"]),
                )
            )
        if bad is not None:
            parts.append(
                _t(
                    ctx,
                    "kpis.worse",
                    kpi=in_sentence(kpi_label(ctx, bad, scheme), ctx.language),
                    change=kpi_change(ctx, bad, card.at[bad, "change"]),
                )
            )
        moves = _t(ctx, "list_separator").join(parts)
        revenue = card["current"].get("revenue")
        if _finite(revenue) is None or _finite(card["current"].get("active")) is None:
            ctx.takeaway(f"{P}.kpis.takeaway_moves", previous=str(ctx.previous), moves=moves)
        else:
            ctx.takeaway(
                f"{P}.kpis.takeaway",
                previous=str(ctx.previous),
                revenue=kpi_value(ctx, "revenue", revenue),
                active=kpi_value(ctx, "active", card.at["active", "current"]),
                moves=moves,
            )
    return card


def kpi_table_section(ctx: ReportContext, result: SummaryResult) -> pd.DataFrame:
    """The scorecard as a table with each KPI's definition (for the appendix: the cards
    above show the same values)."""
    ctx.show(ui.heading(_t(ctx, "kpis.table_title"), level=3))
    card = shown_kpis(result.scorecard)
    scheme = result.scheme
    c = {
        k: _t(ctx, f"col.{k}")
        for k in ("kpi", "current", "previous", "change", "year_ago", "change_yoy", "definition")
    }
    shown = pd.DataFrame(
        {
            c["kpi"]: [kpi_label(ctx, k, scheme) for k in card.index],
            c["current"]: [kpi_value(ctx, k, v) for k, v in card["current"].items()],
            c["previous"]: [kpi_value(ctx, k, v) for k, v in card["previous"].items()],
            c["change"]: [kpi_change(ctx, k, v) or "–" for k, v in card["change"].items()],
            c["year_ago"]: [kpi_value(ctx, k, v) for k, v in card["year_ago"].items()],
            c["change_yoy"]: [kpi_change(ctx, k, v) or "–" for k, v in card["change_yoy"].items()],
            c["definition"]: [_definition(ctx, result, k) for k in card.index],
        }
    )
    ctx.show(ui.table(shown))
    return card


def _definition(ctx: ReportContext, result: SummaryResult, kpi: str) -> str:
    """A KPI's definition: the unit's figure definition where the KPI is a figure."""
    figure = strategy.FIGURE_OF_KPI.get(kpi)
    if figure is not None:
        return result.figures.definition(figure, ctx.language)
    return ctx._(billed(ctx.language, f"{P}.definition.{kpi}", result.scheme))


def _movers(card: pd.DataFrame) -> tuple[str | None, str | None]:
    """The KPI that improved most and the one that worsened most vs the previous period,
    comparing relative changes with rate changes at 1 pt = 5% (a rough common scale)."""
    scale = {"count": 1.0, "money": 1.0, "hours": 1.0, "rate": 5.0, "points": 0.05}
    signed = {}
    for kpi, row in card.iterrows():
        c = _finite(row["change"])
        if c is None or c == 0 or kpi in ("churn_rate", "churned"):  # mirrors of retention
            continue
        signed[kpi] = c * scale[row["kind"]] * (1 if row["higher_is_better"] else -1)
    if not signed:
        return None, None
    s = pd.Series(signed)
    return (s.idxmax() if s.max() > 0 else None), (s.idxmin() if s.min() < 0 else None)


# --------------------------------------------------------------------------- alerts


def alert_text(ctx: ReportContext, alert: strategy.Alert) -> str:
    """The sentence of one alert in the report language."""
    v = alert.values
    kind = alert.kind
    if kind in ("segment_grew", "segment_shrank"):
        return _t(
            ctx,
            f"alert.{kind}",
            segment=segment_label(v["segment"], ctx.language),
            pts=_pts(ctx, 100 * v["share_change"]),
            change=f"{int(v['change']):+,d}",
            customers=ctx.number(v["customers"]),
            previous=str(ctx.previous),
            interval=_t(ctx, "pts_plain", value=100 * v.get("interval", 0.0)),
        )
    if kind == "value_at_risk":
        key = "alert.value_at_risk" if v["reason"] else "alert.value_at_risk_no_reason"
        return _t(
            ctx,
            key,
            n=ctx.number(v["customers"]),
            value=ctx.money(v["value"]),
            share=_pct(v["share"]),
            threshold=ui.fmt_pct(v["high_risk"], decimals=0),
            reason=feature_label(v["reason"], ctx.language) if v["reason"] else "",
            reason_customers=ctx.number(v.get("reason_customers", 0)),
        )
    if kind == "nps_change":
        return _t(
            ctx,
            "alert.nps_down" if v["change"] < 0 else "alert.nps_up",
            previous_score=f"{v['previous_nps']:+.1f}",
            score=f"{v['nps']:+.1f}",
            change=_pts(ctx, v["change"]),
            p=_p_value(v["p_value"]),
            n=ctx.number(v["n"]),
            previous_n=ctx.number(v["previous_n"]),
            previous=str(ctx.previous),
        )
    if kind == "fix_first":
        return _t(
            ctx,
            "alert.fix_first",
            attribute=attribute_name(v["attribute"], ctx.language),
            importance=f"{v['importance']:.0f}",
            performance=f"{v['performance']:.2f}",
            mean=f"{v['mean_performance']:.2f}",
            gap=f"{-v['gap']:.2f}",
            interval=f"{v['interval']:.2f}",
            n=ctx.number(v["n"]),
        )
    return _t(
        ctx,
        "alert.lifecycle_outflow",
        n=ctx.number(v["count"]),
        share=_pct(v["share"]),
        source=stage_label(v["from_stage"], ctx.language),
        target=stage_label(v["to_stage"], ctx.language),
        previous=str(ctx.previous),
    )


def _p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def alerts_section(ctx: ReportContext, result: SummaryResult) -> list[strategy.Alert]:
    """The ranked alerts, each a boxed sentence (red: act on it, green: good news)."""
    ctx.heading(f"{P}.alerts.title")
    ctx.text(f"{P}.alerts.intro")
    shown = list(result.alerts[:MAX_ALERTS])
    if not shown:
        ctx.note(f"{P}.alerts.none", "ok")
    kinds = {"bad": "warning", "good": "ok", "info": "info"}
    for i, alert in enumerate(shown, start=1):
        ctx.show(ui.note(f"{i}. {alert_text(ctx, alert)}", kinds[alert.tone]))
    if result.risk is None:
        ctx.show(ui.paragraph(_t(ctx, "alerts.no_churn"), "sr-small"))
    elif ctx.unit == "all" and result.units is not None and len(result.units) > 1:
        # said once: the company's churn model is fitted on all units together
        ctx.show(ui.paragraph(_t(ctx, "all.own_basis"), "sr-small"))
    quiet = [k for k in ("segment_shift", "nps_change", "fix_first") if result.quiet.get(k)]
    if quiet:
        ctx.show(
            ui.paragraph(
                _t(
                    ctx,
                    "alerts.quiet",
                    items=_t(ctx, "list_separator").join(
                        _t(ctx, f"alerts.quiet_{k}") for k in quiet
                    ),
                ),
                "sr-small",
            )
        )
    if result.nps is not None and not any(a.kind == "nps_change" for a in shown):
        ctx.show(
            ui.paragraph(
                _t(
                    ctx,
                    "alerts.nps_stable",
                    score=f"{result.nps['nps']:+.1f}",
                    previous_score=f"{result.nps['previous_nps']:+.1f}",
                    previous=str(ctx.previous),
                ),
                "sr-small",
            )
        )
    return shown


# --------------------------------------------------------------------------- segments


def segments_section(ctx: ReportContext, result: SummaryResult) -> pd.DataFrame:
    """Per RFM segment: size, revenue share, trend and the playbook entry; then the
    clustering segments with their action when the segmentation report ran."""
    ctx.heading(f"{P}.segments.title")
    lookback = int(ctx.params["value"]["lookback_days"])
    table = result.rfm_overview
    if result.value_now.empty and result.clusters is None:  # no purchases at all
        ctx.note(f"{P}.segments.no_purchases", "info")
        return table
    ctx.show(
        ui.paragraph(
            ctx._(
                billed(ctx.language, f"{P}.segments.intro", result.scheme),
                lookback=lookback,
                previous=str(ctx.previous),
            )
        )
    )
    sep = _t(ctx, "separator")
    c = {
        k: _t(ctx, f"col.{k}")
        for k in (
            "segment",
            "customers",
            "share",
            "trend",
            "revenue_share",
            "priority",
            "objective",
            "actions",
            "channel",
            "offer",
        )
    }
    table = table.loc[(table["customers"] > 0) | (table["previous_customers"] > 0)]
    entries = {
        k: action_for(
            result.playbook,
            "rfm_segment",
            k,
            ctx.language,
            scheme=result.scheme,
            available=result.available,
        )
        for k in table.index
    }
    has_prev = table["previous_customers"].sum() > 0
    rank = {"high": 0, "medium": 1, "low": 2}
    # priority follows value at stake (analysis.strategy.value_priority), not the entry's
    priority = {k: str(result.rfm_priority.get(k, "low")) for k in table.index}
    order = sorted(table.index, key=lambda k: (rank[priority[k]], -table.at[k, "revenue"]))
    t = table.loc[order]
    names = [segment_label(k, ctx.language) for k in order]
    shown = pd.DataFrame(
        {
            c["segment"]: names,
            c["priority"]: [ctx._(f"playbook.priority.{priority[k]}") for k in order],
            c["customers"]: t["customers"].astype(int).to_numpy(),
            c["share"]: t["customer_share"].to_numpy(),
            c["trend"]: [
                _t(ctx, "trend_value", change=f"{int(ch):+,d}", pts=_pts(ctx, 100 * sc))
                if has_prev and _finite(sc) is not None
                else "–"
                for ch, sc in zip(t["change"], t["share_change"], strict=True)
            ],
            c["revenue_share"]: t["revenue_share"].to_numpy(),
        }
    )
    muted = (t["customers"] == 0).tolist()
    ctx.show(
        ui.table(shown, formats={c["share"]: "pct", c["revenue_share"]: "pct"}, muted_rows=muted)
    )
    if t["customers"].sum() > 0 and t["revenue"].clip(lower=0).sum() > 0:
        top = t["revenue_share"].astype(float).idxmax()
        high = [k for k in order if priority[k] == "high" and t.at[k, "customers"] > 0]
        ctx.takeaway(
            f"{P}.segments.takeaway",
            top=segment_label(top, ctx.language),
            top_revenue=_pct(t.at[top, "revenue_share"]),
            top_share=_pct(t.at[top, "customer_share"]),
            n=ctx.number(t.loc[high, "customers"].sum()),
            share=_pct(t.loc[high, "customer_share"].sum()),
        )
    else:
        ctx.note(f"{P}.segments.none", "info", lookback=lookback)
    ctx.show(ui.heading(_t(ctx, "segments.playbook_title"), level=3))
    playbook = pd.DataFrame(
        {
            c["segment"]: names,
            c["objective"]: [entries[k].objective for k in order],
            c["actions"]: [entries[k].action_text(sep) for k in order],
            c["channel"]: [entries[k].channel for k in order],
            c["offer"]: [entries[k].offer for k in order],
        }
    )
    ctx.show(ui.table(playbook, muted_rows=muted))
    _clusters(ctx, result)
    return table


def _clusters(ctx: ReportContext, result: SummaryResult) -> None:
    ctx.show(ui.heading(_t(ctx, "clusters.title"), level=3))
    if result.cluster_overview is None or result.clusters is None:
        ctx.note(f"{P}.clusters.missing", "info")
        return
    table, clusters = result.cluster_overview, result.clusters
    first = (
        clusters.assign(segment=clusters["segment_id"].astype(str))
        .drop_duplicates("segment")
        .set_index("segment")
    )
    c = {
        k: _t(ctx, f"col.{k}")
        for k in ("segment", "customers", "share", "revenue_share", "priority", "actions")
    }

    def field_of(key: str, column: str) -> str:
        return str(first.at[key, column]) if column in first.columns else "–"

    shown = pd.DataFrame(
        {
            c["segment"]: [field_of(k, "segment_name") for k in table.index],
            c["priority"]: [
                ctx._(f"playbook.priority.{result.cluster_priority.get(k, 'low')}")
                if result.cluster_priority is not None
                else "–"
                for k in table.index
            ],
            c["customers"]: table["customers"].astype(int).to_numpy(),
            c["share"]: table["customer_share"].to_numpy(),
            c["revenue_share"]: table["revenue_share"].to_numpy(),
            c["actions"]: [field_of(k, "action") for k in table.index],
        }
    )
    ctx.show(ui.table(shown, formats={c["share"]: "pct", c["revenue_share"]: "pct"}))
    if table["revenue"].clip(lower=0).sum() > 0:
        top = table["revenue_share"].astype(float).idxmax()
        ctx.takeaway(
            f"{P}.clusters.takeaway",
            name=field_of(top, "segment_name"),
            revenue=_pct(table.at[top, "revenue_share"]),
            share=_pct(table.at[top, "customer_share"]),
            k=len(table),
        )


# --------------------------------------------------------------------------- needs


def needs_section(ctx: ReportContext, result: SummaryResult) -> pd.DataFrame | None:
    """An action per need type (the playbook's ``need_type`` entries) with the customers
    and the value at stake of each need, the top cross-sell pair of each RFM segment and
    where the needs report's exports are. Returns the need table (None without needs)."""
    ctx.heading(f"{P}.needs.title")
    found = result.needs
    if found is None:
        ctx.note(f"{P}.needs.none", "info")
        return None
    lookback = int(ctx.params["value"]["lookback_days"])
    source = _source_link(ctx, "needs", "report_needs.actions.title")
    intro = _t(ctx, "needs.intro", lookback=lookback)
    ctx.show(ui.block(f'<p class="sr-p">{ui.esc(intro)} {source}</p>'))
    mix = found.mix
    entries = {
        k: action_for(
            result.playbook, "need_type", k, ctx.language,
            scheme=result.scheme, available=result.available,
        )
        for k in mix.index
    }  # fmt: skip
    c = {
        k: _t(ctx, f"col.{k}")
        for k in (
            "need",
            "customers",
            "share_classified",
            "value",
            "priority",
            "first_step",
            "offer",
        )
    }
    rank = {"high": 0, "medium": 1, "low": 2}
    order = sorted(mix.index, key=lambda k: (rank[mix.at[k, "priority"]], -mix.at[k, "value"]))
    shown = pd.DataFrame(
        {
            c["need"]: [ctx._(f"needs.need.{k}") for k in order],
            c["customers"]: [int(mix.at[k, "customers"]) for k in order],
            c["share_classified"]: [float(mix.at[k, "share"]) for k in order],
            c["value"]: [ctx.money(mix.at[k, "value"]) for k in order],
            c["priority"]: [_priority_label(ctx, mix.at[k, "priority"]) for k in order],
            c["first_step"]: [entries[k].actions[0] for k in order],
            c["offer"]: [entries[k].offer for k in order],
        }
    )
    ctx.show(
        ui.table(
            shown,
            formats={c["share_classified"]: "pct"},
            muted_rows=[int(mix.at[k, "customers"]) == 0 for k in order],
        )
    )
    top = order[0]
    if mix.at[top, "value"] > 0:
        ctx.takeaway(
            f"{P}.needs.takeaway",
            need=ctx._(f"needs.need.{top}"),
            n=ctx.number(mix.at[top, "customers"]),
            value=ctx.money(mix.at[top, "value"]),
            action=entries[top].actions[0],
        )
    _cross_sell(ctx, result)
    exports = [ctx.export_link("needs.csv")]
    key = "needs.exports"
    if found.recommended:
        exports.append(ctx.export_link("recommendations.csv"))
        key = "needs.exports_both"
    text = _t(ctx, key, n=ctx.number(found.classified), m=ctx.number(found.recommended))
    ctx.show(ui.block(f'<p class="sr-small">{ui.esc(text)} {" ".join(exports)}</p>'))
    return mix


def _cross_sell(ctx: ReportContext, result: SummaryResult) -> None:
    """The top cross-sell of each RFM segment, the segments with most net revenue first:
    the category most of its customers should be offered next (the needs report's
    next-best category) and its top pair of categories when that pair is bought together
    clearly more often than chance (lift at least :data:`MIN_LIFT`)."""
    found = result.needs
    if found is None or found.preferences_status != "ok" or found.cross_sell.empty:
        return
    pairs = found.cross_sell
    revenue = result.rfm_overview["revenue"]
    pairs = pairs.assign(_revenue=pairs["segment"].map(revenue).fillna(0.0))
    pairs = pairs.sort_values(["_revenue", "segment"], ascending=[False, True])
    strong = pairs["lift"].astype(float).fillna(0.0) >= MIN_LIFT
    ctx.show(ui.heading(_t(ctx, "needs.cross_sell_title"), level=3))
    language = ctx.language
    c = {
        k: _t(ctx, f"col.{k}")
        for k in ("segment", "next_best", "buyers_of", "also_buy", "confidence", "lift")
    }

    def pair_cell(column: str, row: pd.Series, ok: bool) -> str:
        return category_label(row[column], language) if ok else "–"

    rows = list(pairs.iterrows())
    ctx.show(
        ui.table(
            pd.DataFrame(
                {
                    c["segment"]: [segment_label(r["segment"], language) for _, r in rows],
                    c["next_best"]: [
                        _t(
                            ctx,
                            "needs.next_best_value",
                            category=category_label(r["next_best_category"], language),
                            n=ctx.number(r["next_best_customers"]),
                        )
                        for _, r in rows
                    ],
                    c["buyers_of"]: [
                        pair_cell("antecedent", r, ok)
                        for (_, r), ok in zip(rows, strong, strict=True)
                    ],
                    c["also_buy"]: [
                        pair_cell("consequent", r, ok)
                        for (_, r), ok in zip(rows, strong, strict=True)
                    ],
                    c["confidence"]: [
                        _pct(r["confidence"], 0) if ok else "–"
                        for (_, r), ok in zip(rows, strong, strict=True)
                    ],
                    c["lift"]: [
                        f"{float(r['lift']):.2f}" if ok else "–"
                        for (_, r), ok in zip(rows, strong, strict=True)
                    ],
                }
            )
        )
    )
    if strong.any():
        first = pairs.loc[strong].iloc[0]
        ctx.takeaway(
            f"{P}.needs.cross_sell_takeaway",
            segment=segment_label(first["segment"], language),
            a=category_label(first["antecedent"], language),
            b=category_label(first["consequent"], language),
            confidence=_pct(first["confidence"], 0),
            lift=f"{float(first['lift']):.2f}",
        )
    else:
        ctx.show(ui.paragraph(_t(ctx, "needs.no_cross_sell"), "sr-small"))


# --------------------------------------------------------------------------- referral


def referral_section(ctx: ReportContext, result: SummaryResult) -> dict[str, Any] | None:
    """Referral rate, top referrers (pseudonymised) and referred vs non-referred customers.
    Returns None (with a note) when the customers table has no ``referred_by``."""
    ctx.heading(f"{P}.referral.title")
    if result.referral is None:
        ctx.note(f"{P}.referral.none", "info")
        return None
    rate, compare, top = (result.referral[k] for k in ("rate", "compare", "top"))
    ctx.show(
        ui.kpi_cards(
            [
                ui.KPI(_t(ctx, "referral.kpi.rate"), _pct(rate["rate"]), None, "", None),
                ui.KPI(
                    _t(ctx, "referral.kpi.referred"), ctx.number(rate["referred"]), None, "", None
                ),
                ui.KPI(
                    _t(ctx, "referral.kpi.new_rate", period=str(ctx.period)),
                    _pct(rate["new_rate"]),
                    None,
                    "",
                    None,
                ),
            ]
        )
    )
    c = {
        k: _t(ctx, f"col.{k}")
        for k in (
            "group",
            "customers",
            "active_share",
            "revenue_per_customer",
            "revenue_per_active",
            "retention",
        )
    }
    ctx.show(ui.heading(_t(ctx, "referral.compare_title"), level=3))
    ctx.show(
        ui.table(
            pd.DataFrame(
                {
                    c["group"]: [_t(ctx, f"referral.group.{g}") for g in compare.index],
                    c["customers"]: compare["customers"].astype(int).to_numpy(),
                    c["active_share"]: compare["active_share"].to_numpy(),
                    c["revenue_per_customer"]: [
                        ctx.money(_finite(v)) for v in compare["revenue_per_customer"]
                    ],
                    c["revenue_per_active"]: [
                        ctx.money(_finite(v)) for v in compare["revenue_per_active"]
                    ],
                    c["retention"]: compare["retention_rate"].to_numpy(),
                }
            ),
            formats={c["active_share"]: "pct", c["retention"]: "pct"},
        )
    )
    ref, non = compare.loc["referred"], compare.loc["not_referred"]
    if (
        _finite(ref["revenue_per_customer"]) is not None
        and _finite(non["revenue_per_customer"]) is not None
    ):
        ctx.takeaway(
            f"{P}.referral.takeaway",
            rate=_pct(rate["rate"]),
            ref_value=ctx.money(ref["revenue_per_customer"]),
            non_value=ctx.money(non["revenue_per_customer"]),
            ref_retention=_pct(ref["retention_rate"]),
            non_retention=_pct(non["retention_rate"]),
            period=str(ctx.period),
        )
    if len(top):
        ctx.show(ui.heading(_t(ctx, "referral.top_title"), level=3))
        ids = ctx.pseudonymise(pd.Series(top.index.astype(str), dtype="string"))
        k = {
            k: _t(ctx, f"col.{k}")
            for k in (
                "referrer",
                "referred",
                "referred_active",
                "referred_revenue",
                "referrer_active",
            )
        }
        ctx.show(
            ui.table(
                pd.DataFrame(
                    {
                        k["referrer"]: ids.to_numpy(),
                        k["referred"]: top["referred"].astype(int).to_numpy(),
                        k["referred_active"]: top["referred_active"].astype(int).to_numpy(),
                        k["referred_revenue"]: [ctx.money(v) for v in top["referred_revenue"]],
                        k["referrer_active"]: [
                            _t(ctx, "yes") if v else _t(ctx, "no") for v in top["referrer_active"]
                        ],
                    }
                )
            )
        )
        ctx.show(ui.paragraph(_t(ctx, "referral.top_note"), "sr-small"))
    return dict(result.referral)


# --------------------------------------------------------------------------- units


def units_section(ctx: ReportContext, result: SummaryResult) -> pd.DataFrame | None:
    """In the "all" report: the headline KPIs of every business unit side by side, each
    from that unit's own figures. Shows nothing (returns None) in a single unit's report."""
    table = result.units
    if table is None:
        return None
    ctx.heading(f"{P}.units.title")
    ctx.text(f"{P}.units.intro", period=str(ctx.period), previous=str(ctx.previous))
    if table.empty:
        ctx.note(f"{P}.units.none", "info")
        return table
    c_unit = _t(ctx, "col.unit")
    shown = {c_unit: table.index.tolist()}
    for kpi in strategy.UNIT_KPIS:
        if table[kpi].notna().any():  # a KPI no unit's data gives is left out
            shown[kpi_label(ctx, kpi)] = [kpi_value(ctx, kpi, v) for v in table[kpi]]
    shown[_t(ctx, "col.revenue_change")] = [
        kpi_change(ctx, "revenue", v) or "–" for v in table["revenue_change"]
    ]
    shown[_t(ctx, "col.revenue_share")] = [_pct(v) for v in table["revenue_share"]]
    ctx.show(ui.table(pd.DataFrame(shown)))
    if len(table) > 1:
        rpc = table["revenue_per_customer"].dropna()
        retention = table["retention_rate"].dropna()
        ctx.takeaway(
            f"{P}.units.takeaway",
            top=table.index[0],
            share=_pct(table["revenue_share"].iloc[0]),
            best=rpc.idxmax() if len(rpc) else "–",
            best_value=ctx.money(rpc.max()) if len(rpc) else "–",
            low=retention.idxmin() if len(retention) else "–",
            low_value=_pct(retention.min()) if len(retention) else "–",
        )
    return table


# --------------------------------------------------------------------------- sources


def sources_section(ctx: ReportContext, result: SummaryResult) -> dict[str, Any]:  # noqa: ARG001
    """Where the summary's figures come from: the unit's figures file and the pipelines of
    the detail reports (the same numbers those reports print)."""
    ctx.show(ui.heading(_t(ctx, "sources.title"), level=3))
    ctx.show(ui.paragraph(_t(ctx, "sources.figures"), "sr-small"))
    ctx.show(ui.paragraph(_t(ctx, "sources.own"), "sr-small"))
    return {"figures": "figures.json"}


__all__ = [
    "action_html",
    "actions_section",
    "alert_text",
    "alerts_section",
    "kpi_change",
    "kpi_label",
    "kpi_section",
    "kpi_table_section",
    "kpi_value",
    "needs_section",
    "referral_section",
    "scorecard_cards",
    "segments_section",
    "shown_kpis",
    "sources_section",
    "units_section",
]

"""Sections and charts of the "Needs and preferences" report (issue #18).

Everything shown is computed by :func:`analysis.pipelines.needs.build` into a
:class:`~analysis.pipelines.needs.NeedsResult`; this module only displays it. A section
``xxx_section(ctx, result)`` shows text and tables; the notebook draws each chart with the
public ``plot_*`` function of this module, which takes one part of the result, draws on
``ax`` (default: the current Axes) and returns the Axes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from ... import display as ui
from ... import plots
from ...i18n import Translator, catalog
from ...needs import NEEDS
from ...pipelines.needs import category_label
from ...playbook import action_for, data_available, load_playbook
from ...value import segment_label
from ..context import ReportContext

if TYPE_CHECKING:  # the result types, for annotations only
    from ...pipelines.needs import NeedsResult

__all__ = [
    "NEED_COLOURS",
    "CLEAR_NEED",
    "export_section",
    "overview_section",
    "read_from",
    "actions_section",
    "mix_charts",
    "mix_section",
    "mix_tables_section",
    "affinity_charts",
    "bridge_section",
    "cohorts_section",
    "moments_section",
    "plot_bridge",
    "plot_cohorts",
    "evaluation_section",
    "pairs_section",
    "plot_affinity",
    "plot_need_mix",
    "preferences_section",
    "scorecard_section",
]

P = "report_needs"
#: Certainty (chance that the chosen need is right) from which a need counts as clear.
CLEAR_NEED = 0.5
#: Coverage from which the overview does not show a coverage card (everyone is classified).
FULL_COVERAGE = 0.995
NEED_COLOURS = {
    "price": "#e0a458",
    "quality": "#1f4e79",
    "service": "#3b8b5a",
    "convenience": "#5aa9e6",
}
_PERCENT = FuncFormatter(lambda v, _: f"{v:.0%}")


def _t(ctx: ReportContext, key: str, **values: object) -> str:
    return ctx._(f"{P}.{key}", **values)


def need_label(key: object, language: str) -> str:
    return Translator(language)(f"needs.need.{key}")


def _type_label(key: object, language: str) -> str:
    names = catalog(language)
    name = f"report_value.type.{key}"
    return names[name] if name in names else str(key)


def _group_label(by: str, key: object, language: str) -> str:
    if by == "rfm_segment":
        return segment_label(str(key), language)
    if by == "customer_type":
        return _type_label(key, language)
    if by == "need":
        return need_label(key, language)
    return str(key)


# --------------------------------------------------------------------------- needs


#: What each signal is called in the overview's "read from" list (report_needs.read.*).
_READ_FROM = {
    "discount_share": "discounts",
    "promotion_response": "discounts",
    "price_tier": "prices",
    "premium_share": "categories",
    "complaint_rate": "complaints",
    "contact_rate": "contacts",
    "digital_share": "channels",
    "off_hours_share": "timing",
}


def read_from(ctx: ReportContext, result: NeedsResult) -> str:
    """The behaviour the needs were read from, in words, naming only signals the unit's
    data has (``discounts, prices and complaints``)."""
    used = list(
        dict.fromkeys(_READ_FROM[s] for s in result.needs.signals["signal"] if s in _READ_FROM)
    )
    words = [_t(ctx, f"read.{k}") for k in used]
    if len(words) <= 1:
        return words[0] if words else ""
    return _t(ctx, "read.join", first=_t(ctx, "list_separator").join(words[:-1]), last=words[-1])


def _in_sentence(ctx: ReportContext, label: str) -> str:
    """A row label inside an English sentence starts in lower case."""
    return label[:1].lower() + label[1:] if ctx.language == "en" else label


def _needs_in_data(result: NeedsResult) -> list[str]:
    """The needs some signal of the unit's data points to (the others are never chosen)."""
    found = set(result.needs.signals["need"])
    return [k for k in NEEDS if k in found]


def overview_section(ctx: ReportContext, result: NeedsResult) -> None:
    """The one-screen overview that opens the report: the key figures as cards, up to four
    findings in plain words, and where to act (the exports and the other reports)."""
    part = result.needs
    ctx.heading(f"{P}.kpis.title")
    if part.status != "ok":
        ctx.note(f"{P}.needs.none", "info", end=ui.fmt_date(result.period.end, ctx.language))
        return
    end = ui.fmt_date(result.period.end, ctx.language)
    n = ctx.number(len(part.customers))
    if part.source == "survey":
        ctx.text(f"{P}.kpis.intro_survey", n=n, end=end)
    else:
        ctx.text(f"{P}.kpis.intro_{part.source}", n=n, end=end, signals=read_from(ctx, result))
    summary = result.need_summary.set_index("need_type")
    cards = [ui.KPI(_t(ctx, "kpi.classified"), n, None)]
    if part.coverage < FULL_COVERAGE:  # some customers have no evidence (NaN: unknown)
        cards.append(ui.KPI(_t(ctx, "kpi.coverage"), ui.fmt_pct(part.coverage), None))
    for need in _needs_in_data(result):
        cards.append(
            ui.KPI(
                _t(ctx, "kpi.need_share", need=need_label(need, ctx.language)),
                ui.fmt_pct(summary.at[need, "share"]),
                None,
                higher_is_better=None,
            )
        )
    ctx.show(ui.kpi_cards(cards))
    ctx.show(ui.points(_findings(ctx, result), markup=True))
    ctx.show(_where_to_act(ctx, result))


def _findings(ctx: ReportContext, result: NeedsResult) -> list[str]:
    """Up to four findings, escaped text with links to where to act."""
    part, language = result.needs, ctx.language
    summary = result.need_summary.set_index("need_type")
    top = summary.sort_values("customers", ascending=False, kind="stable").iloc[0]
    found = []
    value_share = top["value_share"]
    key = "glance.top_need_value" if value_share == value_share else "glance.top_need"
    found.append(
        ui.esc(
            _t(
                ctx,
                key,
                need=need_label(top.name, language),
                n=ctx.number(int(top["customers"])),
                share=ui.fmt_pct(top["share"]),
                value_share=ui.fmt_pct(value_share) if value_share == value_share else "",
            )
        )
        + " "
        + ui.link(_t(ctx, "glance.see_actions"), "#" + ui.section_anchor(f"{P}.actions.title"))
    )
    clear = int((part.customers["confidence"] >= CLEAR_NEED).sum())
    found.append(
        ui.esc(
            _t(
                ctx,
                "glance.clear",
                n=ctx.number(clear),
                share=ui.fmt_pct(clear / max(len(part.customers), 1)),
                cut=ui.fmt_pct(CLEAR_NEED, decimals=0),
            )
        )
        + " "
        + ctx.export_link("needs.csv")
    )
    prefs = result.preferences
    if prefs.status == "ok" and len(prefs.pairs):
        first = prefs.pairs.iloc[0]
        found.append(
            ui.esc(
                _t(
                    ctx,
                    "glance.pair",
                    a=category_label(first["antecedent"], language),
                    b=category_label(first["consequent"], language),
                    confidence=ui.fmt_pct(first["confidence"]),
                    lift=f"{first['lift']:.1f}",
                )
            )
            + " "
            + ctx.export_link("recommendations.csv")
        )
    cohorts = result.cohorts
    if cohorts.status == "ok" and cohorts.bridge is not None and len(cohorts.bridge):
        bridge = cohorts.bridge
        biggest = bridge.loc[bridge["value"].abs().idxmax()]
        found.append(
            ui.esc(
                _t(
                    ctx,
                    "glance.bridge",
                    change=ctx.money(bridge.attrs["change"]),
                    previous=str(cohorts.previous),
                    part=_in_sentence(ctx, _t(ctx, f"bridge.{biggest['part']}")),
                    value=ctx.money(biggest["value"]),
                )
            )
        )
    elif result.moments.status == "ok" and len(result.moments.export):
        found.append(
            ui.esc(
                _t(
                    ctx,
                    "glance.moments",
                    n=ctx.number(len(result.moments.export)),
                    period=str(result.moments.next_period),
                )
            )
            + " "
            + ctx.export_link("moments.csv")
        )
    return found[:4]


def _where_to_act(ctx: ReportContext, result: NeedsResult) -> ui.Block:
    items = [ctx.export_link("needs.csv")]
    if result.preferences.status == "ok":
        items.append(ctx.export_link("recommendations.csv"))
    if result.moments.status == "ok":
        items.append(ctx.export_link("moments.csv"))
    if result.needs.by_segment is not None:
        items.append(ctx.link("value", "report_value.segments.title", _t(ctx, "glance.link_value")))
    items.append(ctx.link("summary", None, _t(ctx, "glance.link_summary")))
    return ui.block(f'<p class="sr-links">{ui.esc(_t(ctx, "glance.act"))} {" · ".join(items)}</p>')


def mix_section(ctx: ReportContext, result: NeedsResult) -> None:
    """How needs are decided and the heading of the mix chart (drawn by
    :func:`plot_need_mix` when ``result.needs.by_segment`` or ``by_type`` exists)."""
    part = result.needs
    if part.status != "ok":
        return
    ctx.heading(f"{P}.mix.title")
    ctx.text(f"{P}.mix.intro")
    if part.premium:
        ctx.show(
            ui.paragraph(
                _t(ctx, "mix.premium", categories=_t(ctx, "list_separator").join(part.premium)),
                "sr-small",
            )
        )


def mix_charts(result: NeedsResult) -> list[tuple[str, pd.DataFrame]]:
    """The need mixes to draw with :func:`plot_need_mix`: by RFM segment, and by business
    unit for the whole company (the mix by customer type is a table)."""
    part = result.needs
    if part.status != "ok":
        return []
    return [
        (by, m)
        for by, m in (("rfm_segment", part.by_segment), ("business_unit", part.by_unit))
        if m is not None and len(m)
    ]


def plot_need_mix(
    mix: pd.DataFrame,
    *,
    by: str = "rfm_segment",
    language: str = "en",
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Need shares per group as 100% stacked horizontal bars (largest group on top).

    Parameters
    ----------
    mix
        :func:`analysis.pipelines.needs.need_mix` output.
    by
        The grouping (``rfm_segment``, ``customer_type`` or ``business_unit``): names the
        rows and the title.
    """
    ax = ax if ax is not None else plt.gca()
    tr = Translator(language)
    rows = list(mix.index)[::-1]
    left = pd.Series(0.0, index=rows)
    for need in NEEDS:
        share = mix.loc[rows, need].astype(float)
        ax.barh(
            range(len(rows)),
            share.to_numpy(),
            left=left.to_numpy(),
            color=NEED_COLOURS[need],
            label=need_label(need, language),
            **kwargs,
        )
        for i, (value, start) in enumerate(zip(share, left, strict=True)):
            if value >= 0.08:
                ax.text(
                    start + value / 2,
                    i,
                    f"{value:.0%}",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=8,
                )
        left += share.to_numpy()
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(
        [f"{_group_label(by, r, language)} ({int(mix.at[r, 'customers']):,})" for r in rows]
    )
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(_PERCENT)
    ax.grid(False)
    ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=8)
    ax.set_title(tr(f"{P}.mix.chart_{by}"), pad=22)
    return ax


def mix_tables_section(ctx: ReportContext, result: NeedsResult) -> None:
    """The need mix by customer type and by business unit as tables, with a takeaway."""
    part = result.needs
    if part.status != "ok":
        return
    language = ctx.language
    for by, frame in (("customer_type", part.by_type),):
        if frame is None:
            continue
        ctx.show(ui.heading(_t(ctx, f"mix.table_{by}"), level=3))
        shown = pd.DataFrame(
            {
                _t(ctx, f"col.{by}"): [_group_label(by, k, language) for k in frame.index],
                _t(ctx, "col.customers"): [int(n) for n in frame["customers"]],
                **{need_label(k, language): frame[k].tolist() for k in NEEDS},
            }
        )
        formats = {need_label(k, language): "pct" for k in NEEDS}
        ctx.show(ui.table(shown, formats=formats))
    if "price" in part.leading_segments:
        segment, share = part.leading_segments["price"]
        ctx.takeaway(
            f"{P}.mix.takeaway",
            segment=_group_label("rfm_segment", segment, language),
            share=ui.fmt_pct(share),
        )
    elif part.by_segment is None:
        ctx.note(f"{P}.mix.no_segments{'_survey' if part.source == 'survey' else ''}", "info")


def actions_section(ctx: ReportContext, result: NeedsResult) -> None:
    """What to do for each need the unit's data can show, with its customers and their
    value (``result.need_summary``, the same table the summary reads)."""
    part = result.needs
    if part.status != "ok":
        return
    ctx.heading(f"{P}.actions.title")
    intro = "actions.intro" if part.by_segment is not None else "actions.intro_alone"
    ctx.show(
        ui.block(f'<p class="sr-p">{ui.esc(_t(ctx, intro))} {ctx.export_link("needs.csv")}</p>')
    )
    language = ctx.language
    summary = result.need_summary.set_index("need_type")
    shown_needs = _needs_in_data(result)
    has_value = bool(summary["value"].sum() > 0)
    columns = {
        _t(ctx, "col.need"): [need_label(k, language) for k in shown_needs],
        _t(ctx, "col.customers"): [int(summary.at[k, "customers"]) for k in shown_needs],
    }
    if has_value:
        columns[_t(ctx, "col.revenue")] = [ctx.money(summary.at[k, "value"]) for k in shown_needs]
    # the playbook's need_type entries: the words the summary quotes for the same need
    data = ctx.data
    playbook = load_playbook(ctx.params.get("playbook"))
    available = data_available(data.orders, data.interactions, data.customers)
    entries = {
        k: action_for(playbook, "need_type", k, language, available=available) for k in shown_needs
    }
    sep = ctx._("report_summary.separator")
    columns[_t(ctx, "col.action")] = [entries[k].action_text(sep) for k in shown_needs]
    columns[_t(ctx, "col.offer")] = [entries[k].offer for k in shown_needs]
    ctx.show(
        ui.table(
            pd.DataFrame(columns),
            muted_rows=[int(summary.at[k, "customers"]) == 0 for k in shown_needs],
        )
    )
    if has_value:
        ctx.show(ui.paragraph(_t(ctx, "actions.value_basis"), "sr-small"))


def scorecard_section(ctx: ReportContext, result: NeedsResult) -> None:
    """For the appendix: how a need is decided, the signals the classification used, their
    weights and medians (the rule, open), the survey importances and how sure the
    classification is per need."""
    part = result.needs
    if part.status != "ok":
        return
    _subheading(ctx, f"{P}.scorecard.title")
    ctx.text(
        f"{P}.scorecard.method",
        z_score=ctx._("common.term.z_score"),
        few=_t(ctx, "scorecard.few_answers" if part.source == "survey" else "scorecard.few_orders"),
    )
    ctx.text(f"{P}.scorecard.intro")
    language = ctx.language
    table = part.signals
    shown = pd.DataFrame(
        {
            _t(ctx, "col.signal"): [ctx._(f"needs.signal.{s}") for s in table["signal"]],
            _t(ctx, "col.need"): [need_label(k, language) for k in table["need"]],
            _t(ctx, "col.weight"): [
                f"{w:.2f}" if d > 0 else f"−{w:.2f}"
                for w, d in zip(table["weight"], table["direction"], strict=True)
            ],
            _t(ctx, "col.customers"): [int(n) for n in table["customers"]],
            _t(ctx, "col.median"): [
                ui.fmt_pct(m) if k == "share" else ("–" if k == "survey" else f"{m:,.2f}")
                for m, k in zip(table["median"], table["kind"], strict=True)
            ],
        }
    )
    ctx.show(ui.table(shown))
    if part.importances:
        ctx.show(ui.paragraph(_t(ctx, "scorecard.importances"), "sr-small"))
        imp = pd.DataFrame(
            {
                _t(ctx, "col.rating"): list(part.importances),
                _t(ctx, "col.importance"): [round(v, 2) for v in part.importances.values()],
            }
        )
        ctx.show(ui.table(imp))
    summary = result.need_summary.set_index("need_type")
    shown_needs = [k for k in _needs_in_data(result) if summary.at[k, "customers"] > 0]
    ctx.show(ui.paragraph(_t(ctx, "scorecard.certainty"), "sr-small"))
    sure = pd.DataFrame(
        {
            _t(ctx, "col.need"): [need_label(k, language) for k in shown_needs],
            _t(ctx, "col.customers"): [int(summary.at[k, "customers"]) for k in shown_needs],
            _t(ctx, "col.certainty"): [
                ui.fmt_pct(summary.at[k, "mean_confidence"]) for k in shown_needs
            ],
        }
    )
    ctx.show(ui.table(sure))


def _subheading(ctx: ReportContext, key: str, **values: object) -> None:
    """A heading inside the appendix: level 3 (the contents list only the appendix), with
    the anchor of its message key."""
    ctx.show(ui.heading(ctx._(key, **values), level=3, anchor=ui.section_anchor(key)))


# --------------------------------------------------------------------------- preferences


def preferences_section(ctx: ReportContext, result: NeedsResult) -> None:
    """The preferences heading and how product groups were made, or why there are none
    (then the affinity charts, pairs and evaluation show nothing)."""
    part = result.preferences
    ctx.heading(f"{P}.prefs.title")
    if part.status != "ok":
        ctx.note(f"{P}.prefs.{part.status}", "info")
        return
    ctx.text(f"{P}.prefs.intro_{part.grouping}", n=ctx.number(len(part.categories)))
    top = part.categories.index[0]
    ctx.takeaway(
        f"{P}.prefs.takeaway",
        category=category_label(top, ctx.language),
        share=ui.fmt_pct(part.categories.iloc[0]),
    )


def affinity_charts(result: NeedsResult) -> list[tuple[str, pd.DataFrame]]:
    """The affinity indexes to draw with :func:`plot_affinity`: by RFM segment and by need."""
    part = result.preferences
    if part.status != "ok":
        return []
    found = [("rfm_segment", part.by_segment), ("need", part.by_need)]
    return [(by, pair[1]) for by, pair in found if pair is not None and len(pair[1])]


def plot_affinity(
    index: pd.DataFrame, *, by: str = "rfm_segment", language: str = "en", ax: Axes | None = None
) -> Axes:
    """Category affinity index per group as a heatmap (1 = as the whole base; above 1: the
    group buys the category more often)."""
    ax = ax if ax is not None else plt.gca()
    tr = Translator(language)
    shown = index.copy()
    shown.index = [_group_label(by, k, language) for k in shown.index]
    shown.columns = [category_label(c, language) for c in shown.columns]
    plots.plot_heatmap(shown, fmt=".2f", cmap="RdBu_r", center=1.0, ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(tr(f"{P}.prefs.chart_{by}"))
    ax.tick_params(axis="x", labelrotation=30)
    return ax


def pairs_section(ctx: ReportContext, result: NeedsResult) -> None:
    """The strongest cross-sell pairs, and the top pair of each RFM segment."""
    part = result.preferences
    if part.status != "ok":
        return
    ctx.show(ui.heading(_t(ctx, "prefs.pairs_title"), level=3))
    ctx.text(f"{P}.prefs.pairs_intro", support=ui.fmt_pct(part.min_support))
    if part.pairs.empty:
        ctx.note(f"{P}.prefs.no_pairs", "info", support=ui.fmt_pct(part.min_support))
        return
    language = ctx.language
    ctx.show(ui.table(_pairs_table(ctx, part.pairs.head(10), language), formats=_pair_formats(ctx)))
    first = part.pairs.iloc[0]
    ctx.takeaway(
        f"{P}.prefs.pairs_takeaway",
        a=category_label(first["antecedent"], language),
        b=category_label(first["consequent"], language),
        confidence=ui.fmt_pct(first["confidence"]),
        lift=f"{first['lift']:.2f}",
    )
    if len(part.segment_pairs):
        ctx.show(ui.heading(_t(ctx, "prefs.segment_pairs_title"), level=3))
        table = _pairs_table(ctx, part.segment_pairs, language)
        table.insert(
            0,
            _t(ctx, "col.segment"),
            [_group_label("rfm_segment", k, language) for k in part.segment_pairs["segment"]],
        )
        ctx.show(ui.table(table, formats=_pair_formats(ctx)))


def _pair_formats(ctx: ReportContext) -> dict[str, str]:
    return {
        ctx._("common.term.support"): "pct",
        ctx._("common.term.confidence"): "pct",
        ctx._("common.term.lift"): "{:.2f}",
    }


def _pairs_table(ctx: ReportContext, pairs: pd.DataFrame, language: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            _t(ctx, "col.antecedent"): [category_label(a, language) for a in pairs["antecedent"]],
            _t(ctx, "col.consequent"): [category_label(b, language) for b in pairs["consequent"]],
            _t(ctx, "col.customers"): [int(n) for n in pairs["customers"]],
            ctx._("common.term.support"): pairs["support"].astype(float).tolist(),
            ctx._("common.term.confidence"): pairs["confidence"].astype(float).tolist(),
            ctx._("common.term.lift"): pairs["lift"].astype(float).tolist(),
        }
    )


def evaluation_section(ctx: ReportContext, result: NeedsResult) -> None:
    """For the appendix: the next-best category against the popularity baseline on the
    period's hidden purchases."""
    part = result.preferences
    if part.status != "ok":
        return
    _subheading(ctx, f"{P}.prefs.eval_title")
    ev = part.evaluation
    if ev is None:
        ctx.note(f"{P}.prefs.no_eval", "info", period=str(result.period))
        return
    ctx.text(f"{P}.prefs.eval_intro", period=str(result.period), n=ctx.number(ev.customers))
    rows = [
        (_t(ctx, "eval.top1"), ev.hit_rate, ev.baseline_hit_rate),
        (_t(ctx, "eval.top3"), ev.hit_rate_top3, ev.baseline_hit_rate_top3),
        (
            _t(ctx, "eval.new", n=ctx.number(ev.new_customers)),
            ev.new_hit_rate,
            ev.new_baseline_hit_rate,
        ),
    ]
    shown = pd.DataFrame(
        {
            _t(ctx, "col.measure"): [r[0] for r in rows],
            _t(ctx, "col.model"): [ui.fmt_pct(r[1]) for r in rows],
            _t(ctx, "col.baseline"): [ui.fmt_pct(r[2]) for r in rows],
        }
    )
    ctx.show(ui.table(shown))
    better = ev.hit_rate > ev.baseline_hit_rate
    ctx.takeaway(
        f"{P}.prefs.eval_{'better' if better else 'not_better'}",
        model=ui.fmt_pct(ev.hit_rate),
        baseline=ui.fmt_pct(ev.baseline_hit_rate),
    )


# --------------------------------------------------------------------------- cohorts


def cohorts_section(ctx: ReportContext, result: NeedsResult) -> None:
    """The cohort heading and how to read the triangle (drawn by :func:`plot_cohorts` when
    ``result.cohorts.status == "ok"``)."""
    part = result.cohorts
    ctx.heading(f"{P}.cohorts.title")
    if part.status != "ok":
        ctx.note(f"{P}.cohorts.none", "info")
        return
    tables = part.cohorts
    ctx.text(f"{P}.cohorts.intro_{tables.freq}", n=ctx.number(len(tables.sizes)))
    one = tables.retention[1].dropna() if 1 in tables.retention.columns else pd.Series()
    if len(one):
        ctx.takeaway(
            f"{P}.cohorts.takeaway",
            best=one.idxmax(),
            best_share=ui.fmt_pct(one.max()),
            latest=one.index[-1],
            latest_share=ui.fmt_pct(one.iloc[-1]),
        )


def plot_cohorts(part, *, language: str = "en", ax: Axes | None = None) -> Axes:
    """The retention triangle: cohorts down, periods since the first purchase across."""
    ax = ax if ax is not None else plt.gca()
    tr = Translator(language)
    tables = part.cohorts
    shown = tables.retention.copy()
    shown.index = [f"{c} ({int(tables.sizes[c]):,})" for c in shown.index]
    plots.plot_heatmap(shown * 100, fmt=".0f", cmap="Blues", ax=ax)
    ax.set_xlabel(tr(f"{P}.cohorts.x_{tables.freq}"))
    ax.set_ylabel("")
    ax.set_title(tr(f"{P}.cohorts.chart"))
    return ax


def bridge_section(ctx: ReportContext, result: NeedsResult) -> None:
    """The revenue bridge as a table with a takeaway (after :func:`plot_bridge`)."""
    part = result.cohorts
    if part.status != "ok":
        return
    bridge = part.bridge
    ctx.show(ui.heading(_t(ctx, "bridge.title"), level=3))
    ctx.text(
        f"{P}.bridge.intro",
        previous=str(part.previous),
        period=str(result.period),
        start=ctx.money(bridge.attrs["previous_revenue"]),
        end=ctx.money(bridge.attrs["current_revenue"]),
    )
    shown = pd.DataFrame(
        {
            _t(ctx, "col.part"): [_t(ctx, f"bridge.{k}") for k in bridge["part"]],
            _t(ctx, "col.customers"): [int(n) for n in bridge["customers"]],
            _t(ctx, "col.value"): [ctx.money(v) for v in bridge["value"]],
        }
    )
    ctx.show(ui.table(shown))
    biggest = bridge.loc[bridge["value"].abs().idxmax()]
    ctx.takeaway(
        f"{P}.bridge.takeaway",
        change=ctx.money(bridge.attrs["change"]),
        part=_in_sentence(ctx, _t(ctx, f"bridge.{biggest['part']}")),
        value=ctx.money(biggest["value"]),
    )


def plot_bridge(part, *, language: str = "en", currency: str = "$", ax: Axes | None = None) -> Axes:
    """A waterfall from the previous period's net revenue to this period's."""
    ax = ax if ax is not None else plt.gca()
    tr = Translator(language)
    bridge = part.bridge
    start = bridge.attrs["previous_revenue"]
    labels = [str(part.previous), *(tr(f"{P}.bridge.{k}") for k in bridge["part"]), ""]
    labels[-1] = tr(f"{P}.bridge.end")
    level = start
    levels = [0.0, start]
    ax.bar(0, start, color="#9aa5b1")
    for i, value in enumerate(bridge["value"], start=1):
        colour = "#3b8b5a" if value >= 0 else "#c73e1d"
        ax.bar(i, value, bottom=level, color=colour)
        level += value
        levels.append(level)
    ax.bar(len(labels) - 1, level, color="#1f4e79")
    low, high = min(levels), max(levels)
    ax.set_ylim(low - 0.05 * (high - low), high + 0.08 * (high - low))
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=15)
    plots.thousands(ax, "y", prefix=currency)
    ax.set_title(tr(f"{P}.bridge.chart"))
    return ax


# --------------------------------------------------------------------------- moments


def moments_section(ctx: ReportContext, result: NeedsResult) -> None:
    """Birthdays and anniversaries of the next period, as counts by value tier."""
    part = result.moments
    ctx.heading(f"{P}.moments.title", period=str(part.next_period))
    if part.status != "ok":
        ctx.note(f"{P}.moments.none", "info")
        return
    ctx.text(f"{P}.moments.intro", period=str(part.next_period))
    if not part.has_birthdays:
        ctx.show(ui.paragraph(_t(ctx, "moments.no_birthdays"), "sr-small"))
    counts = part.counts
    names = catalog(ctx.language)
    tiers = [c for c in counts.columns if c != "total"]
    shown = pd.DataFrame(
        {
            _t(ctx, "col.moment"): [_t(ctx, f"moments.{k}") for k in counts.index],
            **{
                names.get(f"value.tier.{k}", _t(ctx, "moments.unscored")): [
                    int(n) for n in counts[k]
                ]
                for k in tiers
            },
            _t(ctx, "col.total"): [int(n) for n in counts["total"]],
        }
    )
    ctx.show(ui.table(shown))
    high = int(counts["high"].sum()) if "high" in counts.columns else 0
    ctx.takeaway(
        f"{P}.moments.takeaway",
        n=ctx.number(int(counts["total"].sum())),
        high=ctx.number(high),
        period=str(part.next_period),
    )


# --------------------------------------------------------------------------- export


def export_section(ctx: ReportContext, result: NeedsResult) -> list[Path]:
    """Write ``exports/needs.csv`` and ``exports/recommendations.csv`` (real ids) with
    :meth:`ReportContext.export` and say what they hold. Returns the files written."""
    written = []
    part = result.needs
    prefs = result.preferences
    if part.status != "ok" and prefs.status != "ok":
        return written
    ctx.heading(f"{P}.export.title")
    if part.status == "ok":
        written.append(ctx.export(part.export, "needs.csv"))
        ctx.text(f"{P}.export.needs", n=ctx.number(len(part.export)))
        confident = int((part.customers["confidence"] >= CLEAR_NEED).sum())
        ctx.takeaway(
            f"{P}.export.needs_takeaway",
            n=ctx.number(confident),
            share=ui.fmt_pct(confident / max(len(part.export), 1)),
        )
    if prefs.status == "ok":
        written.append(ctx.export(prefs.export, "recommendations.csv"))
        ctx.text(f"{P}.export.recommendations", n=ctx.number(len(prefs.export)))
    moments = result.moments
    if moments.status == "ok":
        written.append(ctx.export(moments.export, "moments.csv"))
        ctx.text(f"{P}.export.moments", n=ctx.number(len(moments.export)))
    return written

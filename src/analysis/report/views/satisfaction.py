"""Sections and charts of the "Satisfaction" report (issue #5): display only.

Everything shown is computed by :func:`analysis.pipelines.satisfaction.build`; each
section takes the context and that :class:`~analysis.pipelines.satisfaction.SatisfactionResult`
and shows a part of it: KPI cards with significance, the score trend with flagged
changes, NPS per customer group, attribute ratings and their reliability, key drivers
with the importance-performance matrix and the improvement list, comment themes, links
to customers (anonymous responses, segments, later churn) and the CRM exports.

The charts are public plotting functions (``plot_trend``, ``plot_diverging``,
``plot_drivers``, ``plot_ipa``, ``plot_churn_by_category``): they draw on ``ax`` (or the
current Axes), return it and never show or save, so the notebook draws them in its own
cells. A section whose chart sits in the middle is split in two: ``<part>_section``
before the chart, ``<part>_findings`` after it. A unit without survey responses gets a
short report: the first section says why and the others show nothing.

The report is written for a manager first (issue #17): :func:`kpi_section` is a one-screen
overview (NPS, CSAT, responses and what to fix first, findings, where to act); group
tables show the groups large enough to compare. The diagnostics follow ``ctx.appendix()``,
folded in the HTML: :func:`method_section` (how the scores are computed),
:func:`trend_detail`, :func:`groups_detail` (intervals, adjusted p-values, ranks),
:func:`attributes_detail` (Cronbach's alpha) and :func:`drivers_detail` (the key-driver
model and its fit). Statistical terms on the manager's pages carry a plain name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from ... import display as ui
from ... import plots
from ...config import unit_slug
from ...figures import FIGURE_KIND, format_figure
from ...i18n import catalog, join_sentences, t
from ...pipelines.satisfaction import ChurnWindow, SatisfactionResult
from ...satisfaction import (
    NPS_CATEGORIES,
    IPAResult,
    ScoreChange,
    Survey,
    attribute_name,
    scale_text,
)
from ...satisfaction import reliability_takeaway as _reliability_text
from ..context import ReportContext
from ..wording import MIN_SHARE_BASE

P = "report_satisfaction"
#: The exports for the CRM (real customer ids), written by :func:`export_section`.
DETRACTORS = "detractors.csv"
GROUPS = "satisfaction_groups.csv"
_FREQ_KINDS = ("quarter", "month", "year")
#: Colours of the response categories.
COLOURS = {
    "detractor": "#c73e1d",
    "passive": "#9aa5b1",
    "promoter": "#3b8b5a",
    "dissatisfied": "#c73e1d",
    "neutral": "#9aa5b1",
    "satisfied": "#3b8b5a",
}


# --------------------------------------------------------------------------- wording


#: Fewest answers a score or a share is shown on. Below it a row (a group, a period) shows
#: its number of answers only: "100%" of one respondent says nothing.
MIN_BASE = MIN_SHARE_BASE


def _t(ctx: ReportContext, key: str, **values: object) -> str:
    return ctx._(f"{P}.{key}", **values)


def _gap(ctx: ReportContext) -> str:
    """What separates a sentence from the link after it: a space, none in Chinese."""
    return "" if ctx.language == "zh" else " "


def _subheading(ctx: ReportContext, key: str, **values: object) -> None:
    """A heading inside the appendix: level 3, so the contents list only the appendix, with
    the anchor of its message key."""
    ctx.show(ui.heading(ctx._(key, **values), level=3, anchor=ui.section_anchor(key)))


def _interval(low: float, high: float, metric: str) -> str:
    """``low … high``, or an en dash for an interval of no width (one answer, or all
    answers alike: no interval was estimated) or a missing one."""
    a, b = _fmt_score(low, metric), _fmt_score(high, metric)
    return "–" if "–" in (a, b) or a == b else f"{a} … {b}"


def _shown_score(value: float, n: object, metric: str) -> str:
    """A score or share, or an en dash on fewer than :data:`MIN_BASE` answers."""
    return _fmt_score(value, metric) if _enough(n) else "–"


def _enough(n: object) -> bool:
    try:
        return float(n) >= MIN_BASE
    except (TypeError, ValueError):
        return False


def _value_label(ctx: ReportContext, dimension: str, value: object) -> str:
    dim = "channel" if dimension == "main_channel" else dimension
    key = f"{P}.value.{dim}.{value}"
    names = catalog(ctx.language)
    return names[key] if key in names else str(value)


def category_label(category: str, language: str = "en", *, prose: bool = False) -> str:
    """``Detractors`` as a label; ``detractors`` inside a sentence (``prose``)."""
    if prose:
        return t(f"{P}.category_prose.{category}", language)
    if category in NPS_CATEGORIES:
        return t(f"satisfaction.nps_category.{category}", language)
    return t(f"{P}.category.{category}", language)


def _fmt_p(p: float, *, relation: bool = False) -> str:
    """``0.0123`` -> ``0.012``; with ``relation`` -> ``= 0.012`` / ``< 0.001`` for prose."""
    if p is None or not math.isfinite(p):
        return "–"
    if p < 0.001:
        return "< 0.001"
    shown = f"{p:.3f}"
    if (float(shown) < 0.05) != (p < 0.05):  # 0.0498 must not read as 0.050
        shown = f"{p:.4f}"
    return f"= {shown}" if relation else shown


def _fmt_score(value: float, metric: str) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:+.0f}" if metric == "nps" else f"{value:.0%}"


def _headline(ctx: ReportContext, value: float, metric: str) -> str:
    """The period's NPS or CSAT as every report prints the unit's figure of it
    (:func:`analysis.figures.format_figure`)."""
    kind = FIGURE_KIND[metric]
    return format_figure(value, kind, ctx.language, ctx.params["currency"])


def _fmt_points(ctx: ReportContext, change: float, metric: str, *, signed: bool = True) -> str:
    """A change in NPS points or CSAT percentage points: ``+3.2 pts``."""
    size = change if metric == "nps" else 100 * change
    key = "unit.points" if metric == "nps" else "unit.pct_points"
    return _t(ctx, key + ("_signed" if signed else ""), value=size)


def score_label(survey: Survey, metric: str, language: str = "en") -> str:
    """Name of a headline score as the report prints it, with the real item and scale.

    ``NPS``; ``CSAT (top-2 box)`` for the contract's 1–5 ``csat`` question, with its scale
    when declared otherwise (``CSAT (top-2 box of 1–10)``); for another overall item its
    name (``Satisfaction index: top-2 box of 1–10``). ``metric`` is ``nps`` or ``csat``
    (the overall item's top-box share), or ``responses``.
    """
    if metric != "csat":
        return t(f"{P}.kpi.{metric}", language)
    item, scale = survey.overall, survey.overall_scale
    if item == "csat" or item is None:
        if tuple(scale) == (1, 5):
            return t(f"{P}.kpi.csat", language)
        return t(f"{P}.kpi.csat_scaled", language, scale=scale_text(scale))
    name = attribute_name(item, language)
    return t(
        f"{P}.kpi.csat_item", language, item=name[:1].upper() + name[1:], scale=scale_text(scale)
    )


def outcome_label(outcome: str, scale: Sequence[int], language: str = "en") -> str:
    """What a key-driver model explains, with its scale: ``likelihood to recommend (the
    NPS question, 0–10)``, ``overall satisfaction (the CSAT question, 1–5)``, or a rating
    or composite by name (``satisfaction index (1–10)``)."""
    text = scale_text(tuple(scale))
    if outcome in ("nps", "csat"):
        return t(f"{P}.drivers.outcome.{outcome}", language, scale=text)
    return t(
        f"{P}.drivers.outcome.other",
        language,
        name=attribute_name(outcome, language).lower()
        if language == "en"
        else attribute_name(outcome, language),
        scale=text,
    )


def _name(ctx: ReportContext, result: SatisfactionResult, metric: str) -> str:
    return score_label(result.survey, metric, ctx.language)


def _csat_definition(ctx: ReportContext, survey: Survey) -> str:
    """How the headline CSAT is computed, from the overall item's declared scale."""
    low, high = survey.overall_scale
    item = survey.overall
    key = "kpis.csat_definition" if item in ("csat", None) else "kpis.csat_definition_item"
    return _t(
        ctx,
        key,
        top=high - 1,
        high=high,
        scale=scale_text((low, high)),
        item=attribute_name(item, ctx.language) if item else "",
    )


def _period_word(ctx: ReportContext) -> str:
    kind = ctx.period.kind if ctx.period.kind in _FREQ_KINDS else "quarter"
    return _t(ctx, f"period_word.{kind}")


def _churn_key(key: str, definition: str) -> str:
    """The churn texts of a definition: ``links.churn_intro`` or ``..._contractual``."""
    return f"{key}_contractual" if definition == "contractual" else key


# --------------------------------------------------------------------------- charts


def plot_trend(
    table: pd.DataFrame,
    *,
    metric: str = "nps",
    changes: Sequence[ScoreChange] = (),
    period: str | None = None,
    language: str = "en",
    title: str | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """A score per period with its 95% interval; significant changes in red.

    Parameters
    ----------
    table
        One metric's trend (:func:`analysis.satisfaction.score_trend`: ``score``,
        ``ci_low``, ``ci_high``, ``small_base``; index the period labels).
    metric
        ``nps`` (points) or ``csat`` (a share, drawn in percent).
    changes
        Its significant changes (:class:`~analysis.satisfaction.ScoreChange`).
    period
        Label of the report period, shaded.
    language
        Language of the title.
    title
        The title (default: the metric's name); :func:`score_label` names the real item
        and scale.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.errorbar` (the line).

    Returns
    -------
    Axes
    """
    ax = ax if ax is not None else plt.gca()
    scale = 1.0 if metric == "nps" else 100.0
    x = np.arange(len(table))
    y = table["score"].to_numpy(dtype=float) * scale
    low = table["ci_low"].to_numpy(dtype=float) * scale
    high = table["ci_high"].to_numpy(dtype=float) * scale
    colour = kwargs.pop("color", plots.PALETTE[0] if metric == "nps" else plots.PALETTE[1])
    labels = list(table.index)
    if period is not None and str(period) in labels:
        i = labels.index(str(period))
        ax.axvspan(i - 0.45, i + 0.45, color="#f18f01", alpha=0.12, lw=0)
    ax.fill_between(x, low, high, color=colour, alpha=0.15, lw=0)
    style = dict(lw=2, marker="o", ms=6, capsize=3, elinewidth=1) | kwargs
    ax.errorbar(x, y, yerr=[y - low, high - y], color=colour, **style)
    small = table["small_base"].to_numpy(dtype=bool)
    if small.any():
        ax.plot(x[small], y[small], "o", ms=6, mfc="white", mec=colour, zorder=3)
    for change in changes:
        if change.period not in labels:
            continue
        i = labels.index(change.period)
        if i > 0:
            ax.plot([i - 1, i], [y[i - 1], y[i]], color="#c73e1d", lw=2.5, zorder=4)
        ax.plot(x[i], y[i], "o", ms=9, color="#c73e1d", zorder=5)
        ax.annotate(
            f"{change.change * scale:+.1f}*",
            (x[i], y[i]),
            textcoords="offset points",
            xytext=(-8, -14 if change.change < 0 else 6),
            ha="right",
            color="#c73e1d",
            fontsize=10,
            fontweight="bold",
        )
    ax.set_xticks(x, labels)
    if len(x) > 4:
        ax.tick_params(axis="x", rotation=35, labelsize=9)
    ax.set_title(title if title is not None else t(f"{P}.trend.chart.{metric}", language))
    if metric == "csat":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    finite = np.concatenate([low[np.isfinite(low)], high[np.isfinite(high)]])
    if finite.size:
        pad = max(5.0, 0.1 * (finite.max() - finite.min()))
        ax.set_ylim(finite.min() - pad, finite.max() + pad)
    ax.set_xlabel("")
    return ax


def plot_diverging(
    distribution: pd.DataFrame,
    *,
    levels: Sequence[int] = (1, 2, 3, 4, 5),
    period: str | None = None,
    language: str = "en",
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Diverging stacked bars of attribute ratings.

    Shares left of zero for the lower half of the scale, right for the upper half; the
    middle level (odd scales) straddles zero.

    Parameters
    ----------
    distribution
        :func:`analysis.satisfaction.rating_distribution` (one row per attribute, one
        column per level), in the order to draw from the bottom.
    levels
        The scale's levels.
    period
        Label of the period in the title.
    language
        Language of the title, legend and attribute names.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    Axes
    """
    ax = ax if ax is not None else plt.gca()
    levels = list(levels)
    k = len(levels)
    colours = list(sns.color_palette("RdBu", k))
    if k % 2:
        colours[k // 2] = (0.82, 0.82, 0.82)  # a visible neutral middle
    mid = (k - 1) / 2
    y = np.arange(len(distribution))
    shares = distribution[levels].fillna(0.0).to_numpy(dtype=float)
    lower = shares[:, : int(np.floor(mid))].sum(axis=1)
    centre = shares[:, int(mid)] / 2 if k % 2 else np.zeros(len(distribution))
    left = -(lower + centre)
    style = dict(edgecolor="white", height=0.7) | kwargs
    for j, level in enumerate(levels):
        width = shares[:, j]
        ax.barh(y, width, left=left, color=colours[j], label=str(level), **style)
        for yi, (l0, w) in enumerate(zip(left, width, strict=True)):
            if w >= 0.06:
                dark = j in (0, k - 1)
                ax.text(
                    l0 + w / 2,
                    yi,
                    f"{w:.0%}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "#222222",
                )
        left = left + width
    ax.axvline(0, color="#444444", lw=0.8)
    ax.set_yticks(y, [attribute_name(r, language) for r in distribution.index])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):.0%}"))
    bound = max(0.5, float(np.nanmax(np.abs(np.concatenate([-(lower + centre), left])))) + 0.05)
    ax.set_xlim(-bound, bound)
    ax.set_title(t(f"{P}.attributes.chart", language, period=str(period or "")))
    ax.legend(
        title=t(f"{P}.attributes.legend", language, low=levels[0], high=levels[-1]),
        ncol=k,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12 if len(distribution) > 3 else -0.25),
        frameon=False,
        fontsize=9,
        title_fontsize=9,
    )
    ax.grid(axis="y", visible=False)
    return ax


def plot_drivers(
    drivers: pd.DataFrame, *, language: str = "en", ax: Axes | None = None, **kwargs
) -> Axes:
    """Key drivers as horizontal bars of their share of R², with bootstrap intervals.

    Parameters
    ----------
    drivers
        :func:`analysis.satisfaction.key_drivers` (``share``, ``ci_low``, ``ci_high``,
        ``sign``; index the rating columns). An interval that could not be estimated
        (NaN) is not drawn and its label reads ``(–)``.
    language
        Language of the title and attribute names.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    Axes
    """
    ax = ax if ax is not None else plt.gca()
    order = drivers.sort_values("share")
    y = np.arange(len(order))
    share = order["share"].to_numpy(dtype=float)
    low = order["ci_low"].to_numpy(dtype=float)
    high = order["ci_high"].to_numpy(dtype=float)
    colours = [plots.PALETTE[0] if s > 0 else plots.PALETTE[6] for s in order["sign"]]
    ax.barh(y, share, **(dict(color=colours, height=0.6) | kwargs))
    # a percentile interval is drawn from its bounds: it need not contain the estimate
    # (small samples), and one that could not be estimated is left out
    known = np.isfinite(low) & np.isfinite(high)
    if known.any():
        ax.hlines(y[known], low[known], high[known], color="#333333", lw=1)
        for bound in (low, high):
            ax.plot(bound[known], y[known], "|", color="#333333", ms=7)
    right = np.where(known, np.maximum(high, share), share)
    for yi, s, h, k in zip(y, share, right, known, strict=True):
        ax.text(h + 1, yi, f"{s:.0f}%" if k else f"{s:.0f}% (–)", va="center", fontsize=9)
    ax.set_yticks(y, [attribute_name(a, language) for a in order.index])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_xlim(0, max(float(np.nanmax(right)) + 12, 10))
    ax.set_title(t(f"{P}.drivers.chart", language))
    ax.grid(axis="y", visible=False)
    return ax


def plot_ipa(ipa: IPAResult, *, language: str = "en", ax: Axes | None = None, **kwargs) -> Axes:
    """The importance-performance matrix: attributes by mean rating and importance, the
    quadrants split at the means, "fix first" in red.

    Parameters
    ----------
    ipa
        :func:`analysis.satisfaction.importance_performance`.
    language
        Language of the labels.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter`.

    Returns
    -------
    Axes
    """
    ax = ax if ax is not None else plt.gca()
    table = ipa.table
    x = table["performance"].to_numpy(dtype=float)
    y = table["importance"].to_numpy(dtype=float)
    xpad = max(0.15, 0.25 * (x.max() - x.min()))
    ypad = max(3.0, 0.25 * (y.max() - y.min()))
    xlim = (x.min() - xpad, x.max() + xpad)
    ylim = (max(0.0, y.min() - ypad), y.max() + ypad)
    ax.axvline(ipa.performance_split, color="#888888", lw=1, ls="--")
    ax.axhline(ipa.importance_split, color="#888888", lw=1, ls="--")
    corners = {
        "fix_first": (xlim[0], ylim[1], "left", "top"),
        "keep_up": (xlim[1], ylim[1], "right", "top"),
        "low_priority": (xlim[0], ylim[0], "left", "bottom"),
        "possible_overkill": (xlim[1], ylim[0], "right", "bottom"),
    }
    for quadrant, (cx, cy, ha, va) in corners.items():
        ax.text(
            cx,
            cy,
            t(f"satisfaction.quadrant.{quadrant}", language),
            ha=ha,
            va=va,
            fontsize=9,
            color="#c73e1d" if quadrant == "fix_first" else "#6c757d",
            fontweight="bold" if quadrant == "fix_first" else "normal",
        )
    colours = ["#c73e1d" if q == "fix_first" else plots.PALETTE[0] for q in table["quadrant"]]
    ax.scatter(x, y, **(dict(s=70, c=colours, zorder=3) | kwargs))
    for xi, yi, attr in zip(x, y, table.index, strict=True):
        ax.annotate(
            attribute_name(attr, language),
            (xi, yi),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=9,
        )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(t(f"{P}.ipa.x", language))
    ax.set_ylabel(t(f"{P}.ipa.y", language))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_title(t(f"{P}.ipa.chart", language))
    return ax


def plot_churn_by_category(
    summary: pd.DataFrame,
    *,
    days: int,
    definition: str = "noncontractual",
    language: str = "en",
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Churn rate after responding per response category, with 95% intervals.

    Parameters
    ----------
    summary
        :func:`analysis.satisfaction.churn_by_category` (``n``, ``rate``, ``ci_low``,
        ``ci_high``; index the categories, drawn top-down).
    days
        The churn window (in the title).
    definition
        ``noncontractual`` or ``contractual`` (the title's wording).
    language
        Language of the title and category labels.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    Axes
    """
    ax = ax if ax is not None else plt.gca()
    y = np.arange(len(summary))[::-1]
    rate = summary["rate"].to_numpy(dtype=float) * 100
    colours = [COLOURS[c] for c in summary.index]
    ax.barh(y, rate, **(dict(color=colours, height=0.6) | kwargs))
    ax.errorbar(
        rate,
        y,
        xerr=[rate - summary["ci_low"] * 100, summary["ci_high"] * 100 - rate],
        fmt="none",
        ecolor="#333333",
        capsize=3,
        lw=1,
    )
    for yi, r, h, n in zip(y, rate, summary["ci_high"] * 100, summary["n"], strict=True):
        ax.text(h + 1, yi, f"{r:.0f}%  (n = {int(n):,})", va="center", fontsize=9)
    ax.set_yticks(y, [category_label(c, language) for c in summary.index])
    ax.set_xlim(0, min(100, float((summary["ci_high"] * 100).max()) + 25))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_title(t(f"{P}.{_churn_key('links.churn_chart', definition)}", language, days=days))
    ax.grid(axis="y", visible=False)
    return ax


# --------------------------------------------------------------------------- KPIs


def kpi_section(ctx: ReportContext, result: SatisfactionResult) -> None:
    """The overview that opens the report, on one screen: NPS, CSAT and responses as cards
    (with their change vs the previous period and whether it is significant) and what to
    fix first when the driver weights allow it, up to four findings in plain words and
    where to act (the follow-up exports, the improvement list, the churn report's list).
    How the scores are computed is in the appendix (:func:`method_section`)."""
    ctx.heading(f"{P}.kpis.title")
    survey = result.survey
    if result.status != "ok":
        key = "no_file" if result.status == "no_survey_file" else "no_responses"
        ctx.note(f"{P}.empty.{key}", "warning", unit=ctx.unit_label, period=str(ctx.period))
        return
    if not survey.has_nps:
        ctx.note("satisfaction.note.no_nps")
    if survey.current.empty:
        ctx.note(f"{P}.empty.no_responses_in_period", "warning", period=str(ctx.period))
        return
    table = result.kpis
    vs = ctx._("common.vs_previous", period=str(ctx.previous))
    cards = []
    for metric, row in table.iterrows():
        if math.isfinite(row["change"]):
            verdict = _t(ctx, "kpi.significant" if row["significant"] else "kpi.not_significant")
            label = f"{vs} · {verdict}"
        else:
            label = ctx._("common.no_comparison")
        if metric == "responses":
            value, change_text = ctx.number(row["value"]), None
        else:
            value = _headline(ctx, row["value"], metric)
            change_text = (
                _fmt_points(ctx, row["change"], metric) if math.isfinite(row["change"]) else None
            )
        # the unit's figure when the card shows it (nps, the csat question), else the item
        quoted = metric == "nps" or (metric == "csat" and survey.overall == "csat")
        name = ctx._(f"figures.{metric}.label") if quoted else _name(ctx, result, metric)
        if quoted and metric == "csat" and tuple(survey.overall_scale) != (1, 5):
            name = f"{name} · {scale_text(survey.overall_scale)}"
        cards.append(
            ui.KPI(
                name,
                value,
                row["change"] if math.isfinite(row["change"]) else None,
                label,
                higher_is_better=(True if metric != "responses" else None)
                if row["significant"]
                else None,
                change_text=change_text,
                figure=metric if quoted else None,
            )
        )
    fix_first = _fix_first(result)
    if fix_first:
        cards.append(
            ui.KPI(
                _t(ctx, "kpi.fix_first"),
                _t(ctx, "separator_list").join(attribute_name(a, ctx.language) for a in fix_first),
            )
        )
    ctx.show(ui.kpi_cards(cards))
    if survey.outcome is None:
        findings = [_t(ctx, "kpis.no_scores", n=ctx.number(len(survey.current)))]
    else:
        findings = [_t(ctx, "kpis.finding", part=part) for part in _kpi_parts(ctx, table)]
    findings += [
        f for f in (_drivers_finding(ctx, result), _churn_finding(ctx, result)) if f is not None
    ]
    ctx.show(ui.points(findings[:4]))
    ctx.show(ui.links(_t(ctx, "overview.act"), _where_to_act(ctx, result)))


def _fix_first(result: SatisfactionResult) -> list[str]:
    """The fix-first attributes when the driver weights can single them out (not rough)."""
    part = result.drivers
    if "drivers" not in result.charts or part.drivers.attrs.get("rough"):
        return []
    return list(part.ipa.fix_first_list)


def _drivers_finding(ctx: ReportContext, result: SatisfactionResult) -> str | None:
    """What satisfaction depends on most, and what to fix first (or why not)."""
    if "drivers" not in result.charts:
        return None
    part = result.drivers
    top = part.drivers.head(2)
    names = _t(ctx, "separator_list").join(attribute_name(a, ctx.language) for a in top.index)
    fix_first = part.ipa.fix_first_list
    if fix_first and part.drivers.attrs.get("rough"):
        key = "overview.drivers_rough"
    elif fix_first:
        key = "overview.drivers_fix"
    else:
        key = "overview.drivers_keep"
    return _t(
        ctx,
        key,
        top=names,
        items=_t(ctx, "separator_list").join(attribute_name(a, ctx.language) for a in fix_first),
    )


def _churn_finding(ctx: ReportContext, result: SatisfactionResult) -> str | None:
    """Whether unhappy respondents stopped buying more often than happy ones."""
    if "churn" not in result.charts:
        return None
    churn = result.links.churn
    summary = churn.summary
    worst, best = summary.attrs["worst"], summary.attrs["best"]
    if not (worst and best):
        return None
    p = summary.attrs["p_value"]
    key = "overview.churn_sig" if p < 0.05 else "overview.churn_not_sig"
    return _t(
        ctx,
        _churn_key(key, churn.definition),
        worst=category_label(worst, ctx.language, prose=True),
        best=category_label(best, ctx.language, prose=True),
        worst_rate=summary.loc[worst, "rate"],
        best_rate=summary.loc[best, "rate"],
        days=churn.days,
    )


def _where_to_act(ctx: ReportContext, result: SatisfactionResult) -> list[tuple[str, str]]:
    """Links from the overview: the follow-up lists and their exports, the improvement list
    and the churn report's early-warning list."""
    items = []
    if not result.detractors.empty:
        items.append(
            (_t(ctx, "overview.act_follow_up"), "#" + ui.section_anchor(f"{P}.exports.title"))
        )
    items.append((_t(ctx, "overview.act_export", name=DETRACTORS), ui.export_href(DETRACTORS)))
    if _fix_first(result) and not result.drivers.plan.empty:
        items.append(
            (_t(ctx, "overview.act_improve"), "#" + ui.section_anchor(f"{P}.drivers.title"))
        )
    if result.links is not None and result.links.has_orders:
        items.append(
            (
                _t(ctx, "overview.act_churn", report=ctx._("report.churn.title")),
                ui.report_href("churn", "report_churn.list.title"),
            )
        )
    return items


def method_section(ctx: ReportContext, result: SatisfactionResult) -> None:
    """Appendix: how NPS and CSAT are computed and when a change is called significant."""
    if result.status != "ok":
        return
    survey = result.survey
    _subheading(ctx, f"{P}.method.title")
    definitions = []
    if survey.has_nps:
        definitions.append(_t(ctx, "kpis.nps_definition"))
    if survey.overall is not None:
        definitions.append(_csat_definition(ctx, survey))
    ctx.text(
        f"{P}.kpis.intro",
        period=str(ctx.period),
        start=ctx.period.start,
        end=ctx.period.end,
        previous=str(ctx.previous),
        definitions="".join(definitions),
    )


def _kpi_parts(ctx: ReportContext, table: pd.DataFrame) -> list[str]:
    parts = []
    for metric in ("nps", "csat"):
        if metric not in table.index:
            continue
        row = table.loc[metric]
        if not math.isfinite(row["change"]):
            change = _t(ctx, "kpis.change.none", previous=str(ctx.previous))
        else:
            direction = "down" if row["change"] < 0 else "up"
            key = f"kpis.change.{direction}_{'sig' if row['significant'] else 'not_sig'}"
            change = _t(
                ctx,
                key,
                size=_fmt_points(ctx, row["change"], metric),
                previous=str(ctx.previous),
                p=_fmt_p(row["p_value"], relation=True),
            )
        parts.append(
            _t(
                ctx,
                f"kpis.takeaway.{metric}",
                value=_headline(ctx, row["value"], metric),
                low=_fmt_score(row["ci_low"], metric),
                high=_fmt_score(row["ci_high"], metric),
                n=ctx.number(row["n"]),
                change=change,
            )
        )
    return parts


# --------------------------------------------------------------------------- trend


def trend_section(ctx: ReportContext, result: SatisfactionResult) -> None:
    """Heading of the trend (the chart follows: :func:`plot_trend` per metric), or why
    there is none."""
    if result.status != "ok":
        return
    ctx.heading(f"{P}.trend.title", per=_period_word(ctx))
    if result.survey.outcome is None:
        ctx.note(f"{P}.trend.no_scores", "info")
    elif not result.trend.shown:
        ctx.note(f"{P}.trend.empty", "warning")


def trend_findings(ctx: ReportContext, result: SatisfactionResult) -> None:
    """After the trend chart: its legend, the takeaway and the changes per unit
    (company-wide report); the table per period is in the appendix (:func:`trend_detail`)."""
    if "trend" not in result.charts:
        return
    trend = result.trend
    legend = _t(ctx, "trend.legend", min_base=result.min_base)
    if any(str(ctx.period) in table.index for table in trend.shown.values()):
        legend = join_sentences([legend, _t(ctx, "trend.legend_period")], ctx.language)
    ctx.show(ui.paragraph(legend, "sr-small"))
    word = _period_word(ctx)
    ctx.takeaway(
        f"{P}.trend.takeaway",
        text=_change_sentence(ctx, result, trend.changes, trend.count, word),
    )
    if trend.unit_changes is not None:
        _unit_changes(ctx, result, trend.unit_changes)


def trend_detail(ctx: ReportContext, result: SatisfactionResult) -> None:
    """Appendix: the trend per period (answers, each score with its interval and change)
    and why the cards and the chart may call the same change differently."""
    if "trend" not in result.charts:
        return
    trend = result.trend
    _subheading(ctx, f"{P}.trend_detail.title", per=_period_word(ctx))
    ctx.show(ui.table(_trend_display(ctx, result, trend.shown, trend.changes)))
    if trend.unit_changes is not None:
        _unit_changes(ctx, result, trend.unit_changes, detail=True)
    for note in trend.kpi_notes:
        ctx.show(
            ui.paragraph(
                _t(
                    ctx,
                    "trend.kpi_only",
                    metric=_name(ctx, result, note.metric),
                    size=_fmt_points(ctx, note.change, note.metric),
                    period=str(ctx.period),
                    p=_fmt_p(note.p_value, relation=True),
                    k=note.tested,
                    p_adj=_fmt_p(note.p_adjusted, relation=True),
                ),
                "sr-small",
            )
        )


def _trend_display(
    ctx: ReportContext,
    result: SatisfactionResult,
    trends: dict[str, pd.DataFrame],
    changes: dict[str, list[ScoreChange]],
) -> pd.DataFrame:
    """One row per period: answers, each score with its interval, and its change."""
    index = next(iter(trends.values())).index
    flagged = {(m, c.period) for m, cs in changes.items() for c in cs}
    out = pd.DataFrame({_t(ctx, "col.period"): list(index)})
    first = next(iter(trends.values())).reindex(index)
    out[_t(ctx, "col.n")] = [ctx.number(v) if pd.notna(v) else "–" for v in first["n"]]
    for metric, table in trends.items():
        table = table.reindex(index)
        name = _name(ctx, result, metric)
        out[_t(ctx, "trend.col.score", metric=name)] = [
            f"{_fmt_score(v, metric)}  ({_interval(a, b, metric)})"
            if pd.notna(v) and _enough(n)
            else "–"
            for v, a, b, n in zip(
                table["score"], table["ci_low"], table["ci_high"], first["n"], strict=True
            )
        ]
        out[_t(ctx, "trend.col.change", metric=name)] = [
            (_fmt_points(ctx, c, metric) if pd.notna(c) else "–")
            + (f" · {_t(ctx, 'col.significant_mark')}" if (metric, p) in flagged else "")
            for p, c in zip(index, table["change"], strict=True)
        ]
    return out


def _change_sentence(
    ctx: ReportContext,
    result: SatisfactionResult,
    changes: dict[str, list[ScoreChange]],
    count: int,
    word: str,
) -> str:
    parts = []
    for metric in ("nps", "csat"):
        if metric not in changes:
            continue
        name = _name(ctx, result, metric)
        found = sorted(changes[metric], key=lambda c: c.period)
        if not found:
            parts.append(_t(ctx, "trend.no_change", metric=name))
            continue
        for c in found:
            parts.append(
                _t(
                    ctx,
                    f"trend.change_{c.direction}",
                    metric=name,
                    size=_fmt_points(ctx, c.change, metric),
                    previous=c.previous_period,
                    period=c.period,
                    p=_fmt_p(c.p_adjusted, relation=True),
                )
            )
    return _t(ctx, "trend.sentence", parts=_t(ctx, "separator").join(parts), count=count, per=word)


def _unit_changes(
    ctx: ReportContext,
    result: SatisfactionResult,
    rows: list[tuple[str, ScoreChange]],
    *,
    detail: bool = False,
) -> None:
    """The significant changes of the business units (company-wide report), linked to each
    unit's report; the appendix's table (``detail``) adds the adjusted p-values."""
    if detail:
        if rows:
            _subheading(ctx, f"{P}.trend.units_title")
    else:
        ctx.show(ui.heading(_t(ctx, "trend.units_title"), level=3))
    if not rows:
        if not detail:
            ctx.takeaway(f"{P}.trend.units_none")
        return
    columns = {
        _t(ctx, "col.unit"): [c.group for _, c in rows],
        _t(ctx, "col.metric"): [_name(ctx, result, m) for m, _ in rows],
        _t(ctx, "col.period"): [f"{c.previous_period} → {c.period}" for _, c in rows],
        _t(ctx, "col.change"): [_fmt_points(ctx, c.change, m) for m, c in rows],
    }
    if detail:
        columns[_t(ctx, "col.p_adjusted")] = [_fmt_p(c.p_adjusted) for _, c in rows]
    ctx.show(ui.table(pd.DataFrame(columns)))
    if detail:
        return
    ctx.takeaway(f"{P}.trend.units_found", count=len(rows))
    units = list(dict.fromkeys(str(c.group) for _, c in rows))
    # each unit's report sits beside this one: <period>/<unit>/satisfaction.html
    ctx.show(
        ui.links(
            ctx._("common.see_also"),
            [(unit, f"../{unit_slug(unit)}/satisfaction.html#sec-trend") for unit in units],
        )
    )


# --------------------------------------------------------------------------- groups


def groups_section(ctx: ReportContext, result: SatisfactionResult) -> None:
    """NPS (or CSAT) per customer type, touchpoint, region and channel, tested vs the rest."""
    if result.status != "ok":
        return
    ctx.heading(f"{P}.groups.title")
    if result.groups is None:
        ctx.note(f"{P}.groups.none", "info", period=str(ctx.period))
        return
    _show_groups(ctx, result.groups, result)


def _show_groups(
    ctx: ReportContext, table: pd.DataFrame, result: SatisfactionResult, *, detail: bool = False
) -> None:
    """The group table (small bases greyed, never ranked) with its legend; the manager's
    version (the score, the gap to the rest and the verdict) ends in the takeaway, the
    appendix's (``detail``) adds each interval, adjusted p-value and rank."""
    survey = result.survey
    metric = "nps" if survey.has_nps else "csat"
    full = table
    if not detail:  # the groups too small to compare are listed in the appendix only
        table = table.loc[~table["small_base"].to_numpy(dtype=bool)]
    lo, hi = ("nps_ci_low", "nps_ci_high") if metric == "nps" else ("csat_ci_low", "csat_ci_high")
    value = "nps" if metric == "nps" else "csat_top_box"
    diff = "nps_diff_vs_rest" if metric == "nps" else "csat_diff_vs_rest"
    p_adj = f"{metric}_p_adjusted"
    sig = f"{metric}_significant"

    def verdict(row: pd.Series) -> str:
        if row["small_base"]:
            return _t(ctx, "groups.small_base")
        if not row[sig]:
            return _t(ctx, "groups.not_significant")
        return _t(ctx, "groups.above" if row[diff] > 0 else "groups.below")

    columns = {
        _t(ctx, "col.dimension"): [_t(ctx, f"dimension.{d}") for d in table["dimension"]],
        _t(ctx, "col.group"): [
            _value_label(ctx, d, g) for d, g in zip(table["dimension"], table["group"], strict=True)
        ],
        _t(ctx, "col.n"): table["n"].astype(int),
        _name(ctx, result, metric): [
            _shown_score(v, n, metric) for v, n in zip(table[value], table["n"], strict=True)
        ],
    }
    if detail:
        columns[_t(ctx, "col.interval")] = [
            _interval(a, b, metric) if _enough(n) else "–"
            for a, b, n in zip(table[lo], table[hi], table["n"], strict=True)
        ]
    columns[_t(ctx, "col.diff")] = [
        "–" if s or not math.isfinite(d) else _fmt_points(ctx, d, metric)
        for d, s in zip(table[diff], table["small_base"], strict=True)
    ]
    if detail:
        columns[_t(ctx, "col.p_adjusted")] = [_fmt_p(p) for p in table[p_adj]]
    columns[_t(ctx, "col.result")] = [verdict(r) for _, r in table.iterrows()]
    if detail:
        columns[_t(ctx, "col.rank")] = ["–" if pd.isna(r) else str(int(r)) for r in table["rank"]]
    shown = pd.DataFrame(columns)
    if metric == "nps" and survey.overall:
        shown[_name(ctx, result, "csat")] = [
            _shown_score(v, n, "csat")
            for v, n in zip(table["csat_top_box"], table["n"], strict=True)
        ]
    name = _name(ctx, result, metric)
    if detail:
        ctx.show(ui.table(shown, muted_rows=table["small_base"].tolist(), max_rows=200))
        legend = [
            _t(ctx, "groups.legend", min_base=result.min_base, metric=name),
            _t(ctx, "groups.legend_tiny", n=MIN_BASE),
        ]
        ctx.show(ui.paragraph(join_sentences(legend, ctx.language), "sr-small"))
        return
    if not table.empty:
        ctx.show(ui.table(shown, max_rows=200))
    small = len(full) - len(table)
    legend = [_t(ctx, "groups.legend_plain", metric=name)]
    if small:
        legend.append(_t(ctx, "groups.legend_small", n=small, min_base=result.min_base))
    ctx.show(ui.paragraph(join_sentences(legend, ctx.language), "sr-small"))
    ctx.takeaway(
        f"{P}.groups.takeaway",
        text=_groups_sentence(ctx, full, name, metric, value, diff, sig, result.min_base),
    )


def groups_detail(ctx: ReportContext, result: SatisfactionResult) -> None:
    """Appendix: the group tables (customer groups, and segments when there are any) with
    each interval, adjusted p-value and rank."""
    if result.status != "ok":
        return
    segments = result.links.segments if result.links is not None else None
    has_segments = segments is not None and not segments.empty and result.links.has_orders
    if result.groups is None and not has_segments:
        return
    _subheading(ctx, f"{P}.groups_detail.title")
    if result.groups is not None:
        _show_groups(ctx, result.groups, result, detail=True)
    if has_segments:
        metric = "nps" if result.survey.has_nps else "csat"
        ctx.show(ui.paragraph(_t(ctx, "links.segments", metric=_name(ctx, result, metric)), "sr-p"))
        _show_groups(ctx, segments, result, detail=True)


def _groups_sentence(
    ctx: ReportContext,
    table: pd.DataFrame,
    name: str,
    metric: str,
    value: str,
    diff: str,
    sig: str,
    min_base: int,
) -> str:
    hits = table.loc[table[sig].fillna(False).astype(bool) & ~table["small_base"]]
    if hits.empty:
        ranked = table.loc[~table["small_base"]]
        if len(ranked) < 2:
            return _t(ctx, "groups.too_small", metric=name, min_base=min_base)
        return _t(ctx, "groups.none_significant", metric=name)
    items = []
    for _, row in hits.sort_values(diff).iterrows():
        key = "groups.item_above" if row[diff] > 0 else "groups.item_below"
        items.append(
            _t(
                ctx,
                key,
                dimension=_t(ctx, f"dimension.{row['dimension']}"),
                group=_value_label(ctx, row["dimension"], row["group"]),
                score=_fmt_score(row[value], metric),
                size=_fmt_points(ctx, abs(row[diff]), metric, signed=False),
            )
        )
    return _t(ctx, "groups.significant", metric=name, items=_t(ctx, "separator").join(items))


# --------------------------------------------------------------------------- attributes


def attributes_section(ctx: ReportContext, result: SatisfactionResult) -> None:
    """Heading of the attribute ratings (the chart follows: :func:`plot_diverging`), or
    why there are none."""
    if result.status != "ok":
        return
    ctx.heading(f"{P}.attributes.title")
    if result.attributes is None:
        ctx.note(f"{P}.attributes.none", "info", period=str(ctx.period))


def attributes_findings(ctx: ReportContext, result: SatisfactionResult) -> None:
    """After the ratings chart: the lowest and the highest rated attribute (whether the
    ratings form a reliable scale is in the appendix: :func:`attributes_detail`)."""
    part = result.attributes
    if result.status != "ok" or part is None:
        return
    dist, worst, best = part.distribution, part.worst, part.best
    ctx.takeaway(
        f"{P}.attributes.takeaway",
        worst=attribute_name(worst, ctx.language),
        worst_mean=dist.loc[worst, "mean"],
        worst_low=dist.loc[worst, "bottom2"],
        best=attribute_name(best, ctx.language),
        best_mean=dist.loc[best, "mean"],
        best_high=dist.loc[best, "top2"],
    )


def attributes_detail(ctx: ReportContext, result: SatisfactionResult) -> None:
    """Appendix: whether the attribute ratings form a reliable scale (Cronbach's alpha)."""
    part = result.attributes
    if result.status != "ok" or part is None:
        return
    if not part.reliability_failed and part.reliability is None:
        return
    _subheading(ctx, f"{P}.attributes_detail.title")
    if part.reliability_failed:
        ctx.note(f"{P}.attributes.alpha_failed", "info")
    elif part.reliability is not None:
        ctx.show(
            ui.note(
                _reliability_text(part.reliability, ctx.language),
                "ok" if part.reliability.reliable else "warning",
            )
        )


# --------------------------------------------------------------------------- drivers


def drivers_section(ctx: ReportContext, result: SatisfactionResult) -> None:
    """Heading and a plain reading of the key drivers (the chart follows:
    :func:`plot_drivers` and :func:`plot_ipa`), or why there are none; the model behind
    them is in the appendix (:func:`drivers_detail`)."""
    if result.status != "ok":
        return
    ctx.heading(f"{P}.drivers.title")
    part = result.drivers
    if part is None:
        ctx.note(f"{P}.drivers.none", "info")
        return
    if part.status != "ok":
        ctx.note(f"{P}.drivers.failed", "warning", n=ctx.number(part.n_sample))
        if part.reason:
            ctx.show(ui.paragraph(part.reason, "sr-small"))
        return
    attrs = part.drivers.attrs
    ctx.text(
        f"{P}.drivers.intro_plain",
        outcome=outcome_label(part.outcome, part.scale, ctx.language),
        n=ctx.number(attrs["n"]),
        term=ctx._("common.term.importance"),
    )
    if attrs["rough"]:  # how far to trust the weights is the manager's business too
        ctx.show(
            ui.paragraph(
                _t(
                    ctx,
                    "drivers.rough",
                    n=ctx.number(attrs["n"]),
                    p=attrs["n_drivers"],
                    per=attrs["answers_per_driver"],
                    r2_adjusted=attrs["r2_adjusted"],
                ),
                "sr-small",
            )
        )


def drivers_detail(ctx: ReportContext, result: SatisfactionResult) -> None:
    """Appendix: the key-driver model (relative weights, the sample, R²) and what it left
    out."""
    part = result.drivers
    if result.status != "ok" or part is None or part.status != "ok":
        return
    _subheading(ctx, f"{P}.drivers_detail.title")
    attrs = part.drivers.attrs
    ctx.text(
        f"{P}.drivers.intro",
        outcome=outcome_label(part.outcome, part.scale, ctx.language),
        start=part.start.date(),
        end=(part.end - pd.Timedelta(days=1)).date(),
        n=ctx.number(attrs["n"]),
        r2=attrs["r2"],
    )
    for note in _driver_notes(ctx, attrs):
        ctx.show(ui.paragraph(note, "sr-small"))
    if part.performance_window:
        ctx.show(ui.paragraph(_t(ctx, "drivers.performance_window"), "sr-small"))


def _driver_notes(ctx: ReportContext, attrs: dict) -> list[str]:
    """What the key-driver model left out and how far to trust it, from its attrs."""
    notes = []
    if attrs["n_dropped"]:
        reasons = [
            _t(ctx, f"drivers.left_out.{reason}", n=ctx.number(count))
            for reason, count in attrs["dropped"].items()
            if count
        ]
        notes.append(
            _t(
                ctx,
                "drivers.rows_left_out",
                dropped=ctx.number(attrs["n_dropped"]),
                rows=ctx.number(attrs["n_rows"]),
                reasons=_t(ctx, "separator").join(reasons),
            )
        )
    if attrs["dropped_drivers"]:
        items = [
            _t(ctx, f"drivers.dropped.{why}", name=attribute_name(col, ctx.language))
            for col, why in attrs["dropped_drivers"].items()
        ]
        notes.append(_t(ctx, "drivers.dropped_drivers", items=_t(ctx, "separator").join(items)))
    if attrs["interval_note"] == "too_few_resamples":
        notes.append(
            _t(
                ctx,
                "drivers.no_intervals",
                ok=attrs["n_boot"] - attrs["n_boot_failed"],
                boot=attrs["n_boot"],
            )
        )
    return notes


def drivers_findings(ctx: ReportContext, result: SatisfactionResult) -> None:
    """After the drivers chart: the strongest drivers, the fix-first attributes and the
    recommended improvement list."""
    if "drivers" not in result.charts:
        return
    part = result.drivers
    top = part.drivers.head(3)
    ctx.takeaway(
        f"{P}.drivers.takeaway",
        outcome=outcome_label(part.outcome, part.scale, ctx.language),
        top=_t(ctx, "separator_list").join(
            _t(ctx, "drivers.item", name=attribute_name(a, ctx.language), share=s)
            for a, s in top["share"].items()
        ),
    )
    fix_first = part.ipa.fix_first_list
    if fix_first and part.drivers.attrs.get("rough"):
        # weights from too few answers cannot single out what to fix (the summary agrees)
        ctx.takeaway(
            f"{P}.ipa.rough",
            items=_t(ctx, "separator_list").join(
                attribute_name(a, ctx.language) for a in fix_first
            ),
        )
        return
    if fix_first:
        ctx.takeaway(
            f"{P}.ipa.takeaway",
            items=_t(ctx, "separator_list").join(
                attribute_name(a, ctx.language) for a in fix_first
            ),
        )
    else:
        ctx.takeaway(f"{P}.ipa.none")
    ctx.show(ui.heading(_t(ctx, "improve.title"), level=3))
    plan = part.plan
    if plan.empty:
        ctx.note(f"{P}.improve.none", "ok")
        return
    split = part.ipa.performance_split
    ctx.show(
        ui.table(
            pd.DataFrame(
                {
                    _t(ctx, "col.priority"): plan["priority"],
                    _t(ctx, "col.attribute"): plan["attribute_name"],
                    _t(ctx, "col.importance"): [f"{v:.0f}%" for v in plan["importance"]],
                    _t(ctx, "col.performance"): [
                        f"{p:.2f} / {split:.2f}" for p in plan["performance"]
                    ],
                    _t(ctx, "col.action"): plan["action"],
                }
            )
        )
    )


# --------------------------------------------------------------------------- comments


def comments_section(ctx: ReportContext, result: SatisfactionResult) -> None:
    """Distinctive terms of detractors vs promoters (jieba for Chinese) and a few masked
    example comments, without customer ids."""
    if result.status != "ok":
        return
    ctx.heading(f"{P}.comments.title")
    part = result.comments
    if part is None:
        ctx.note("satisfaction.note.no_comments")
        return
    worst, best, themes = part.worst, part.best, part.themes
    ctx.text(
        f"{P}.comments.intro",
        n=ctx.number(part.n),
        period=str(ctx.period),
        worst=category_label(worst, ctx.language, prose=True),
        best=category_label(best, ctx.language, prose=True),
    )
    columns = {}
    for cat in (worst, best):
        rows = themes.loc[themes["group"] == cat]
        columns[category_label(cat, ctx.language)] = [
            f"{term} ({count})" for term, count in zip(rows["term"], rows["count"], strict=True)
        ]
    depth = max([len(v) for v in columns.values()] + [0])
    if depth:
        shown = pd.DataFrame({k: v + [""] * (depth - len(v)) for k, v in columns.items()})
        ctx.show(ui.table(shown))
    picks = part.examples
    if not picks.empty:
        ctx.show(
            ui.table(
                pd.DataFrame(
                    {
                        _t(ctx, "col.category"): [
                            category_label(g, ctx.language) for g in picks["group"]
                        ],
                        ctx._("satisfaction.column.comment"): picks["comment"].to_numpy(),
                    }
                ),
                caption=_t(ctx, "comments.examples"),
            )
        )

    def terms(found: tuple[str, ...]) -> str:
        return _t(ctx, "separator_list").join(found) if found else _t(ctx, "comments.nothing")

    ctx.takeaway(
        f"{P}.comments.takeaway",
        worst=category_label(worst, ctx.language, prose=True),
        best=category_label(best, ctx.language, prose=True),
        worst_terms=terms(part.worst_terms),
        best_terms=terms(part.best_terms),
    )


# --------------------------------------------------------------------------- links


def links_section(ctx: ReportContext, result: SatisfactionResult) -> None:
    """Anonymous responses, NPS by segment (when segments exist) and the method of the
    churn comparison (the chart follows: :func:`plot_churn_by_category`)."""
    if result.status != "ok":
        return
    ctx.heading(f"{P}.links.title")
    links = result.links
    ctx.text(
        f"{P}.links.anonymous",
        anonymous=ctx.number(links.anonymous),
        n=ctx.number(links.n),
        share=ui.fmt_pct(links.anonymous / links.n if links.n else float("nan")),
        period=str(ctx.period),
    )
    if not links.has_orders:
        ctx.note(f"{P}.links.no_orders", "info")
        return
    if links.segments is not None and not links.segments.empty:
        metric = "nps" if result.survey.has_nps else "csat"
        ctx.show(ui.heading(_t(ctx, "links.segments", metric=_name(ctx, result, metric)), level=3))
        _show_groups(ctx, links.segments, result)
    churn = links.churn
    if churn is None:
        return
    ctx.show(ui.heading(_t(ctx, "links.churn_title"), level=3))
    if not churn.enough:
        ctx.note(
            f"{P}.{_churn_key('links.churn_none', churn.definition)}",
            "info",
            days=churn.days,
            min_base=result.min_base,
        )
        return
    ctx.text(
        f"{P}.{_churn_key('links.churn_intro', churn.definition)}",
        days=churn.days,
        n=ctx.number(int(churn.summary["n"].sum())),
        first=churn.first.date(),
        last=churn.last.date(),
        data_end=churn.data_end.date(),
    )
    link = ctx.link("churn", "report_churn.definition.title", _t(ctx, "links.churn_definition"))
    ctx.show(
        ui.block(
            f'<p class="sr-small">{ui.esc(_window_text(ctx, churn.window))}{_gap(ctx)}{link}</p>'
        )
    )


def _window_text(ctx: ReportContext, window: ChurnWindow) -> str:
    """Where the churn window comes from (the same as in the churn report)."""
    if window.source == "gaps":
        key = "links.churn_window.clipped" if window.clipped else "links.churn_window.gaps"
        return _t(ctx, key, days=window.days, pct=round(100 * window.quantile))
    return _t(ctx, f"links.churn_window.{window.source}", days=window.days)


def churn_findings(ctx: ReportContext, result: SatisfactionResult) -> None:
    """After the churn chart: do detractors churn more than promoters?"""
    if "churn" not in result.charts:
        return
    churn = result.links.churn
    summary = churn.summary
    worst, best = summary.attrs["worst"], summary.attrs["best"]
    if not (worst and best):
        return
    p = summary.attrs["p_value"]
    key = "links.churn_takeaway_sig" if p < 0.05 else "links.churn_takeaway_not_sig"
    ctx.takeaway(
        f"{P}.{_churn_key(key, churn.definition)}",
        worst=category_label(worst, ctx.language, prose=True),
        best=category_label(best, ctx.language, prose=True),
        worst_rate=summary.loc[worst, "rate"],
        best_rate=summary.loc[best, "rate"],
        days=churn.days,
        p=_fmt_p(p, relation=True),
    )
    ctx.show(
        ui.links(
            ctx._("common.see_also"),
            [
                (
                    _t(ctx, "links.churn_list", report=ctx._("report.churn.title")),
                    ui.report_href("churn", "report_churn.list.title"),
                ),
                (
                    _t(ctx, "links.churn_drivers", report=ctx._("report.churn.title")),
                    ui.report_href("churn", "report_churn.drivers.title"),
                ),
            ],
        )
    )


# --------------------------------------------------------------------------- exports


def export_section(ctx: ReportContext, result: SatisfactionResult) -> dict[str, Path]:
    """Write ``satisfaction_groups.csv`` and ``detractors.csv`` (real customer ids) and say
    what they hold; the page shows counts per action, never ids next to comments."""
    detractors = result.detractors
    paths = {
        "groups": ctx.export(result.groups_export, GROUPS),
        "detractors": ctx.export(detractors, DETRACTORS),
    }
    if result.status != "ok":
        return paths
    survey = result.survey
    ctx.heading(f"{P}.exports.title")
    ctx.text(
        f"{P}.exports.intro",
        groups=ctx.number(len(result.groups_export)),
        detractors=ctx.number(len(detractors)),
        period=str(ctx.period),
    )
    ctx.show(
        ui.links(
            _t(ctx, "exports.files"),
            [(name, ui.export_href(name)) for name in (DETRACTORS, GROUPS)],
        )
    )
    if not survey.has_nps and survey.overall:
        low, high = survey.overall_scale
        ctx.note(
            f"{P}.exports.no_nps",
            "info",
            cut=low + 1,
            scale=scale_text((low, high)),
            item=attribute_name(survey.overall, ctx.language),
        )
    if not detractors.empty:
        counts = result.follow_up
        ctx.show(
            ui.table(
                pd.DataFrame(
                    {
                        _t(ctx, "col.action"): counts.index,
                        _t(ctx, "col.high"): counts["high"],
                        _t(ctx, "col.medium"): counts["medium"],
                        _t(ctx, "col.customers"): counts["total"],
                    }
                )
            )
        )
        high = int((detractors["priority"] == "high").sum())
        ctx.takeaway(
            f"{P}.exports.takeaway" if survey.has_nps else f"{P}.exports.takeaway_no_nps",
            n=ctx.number(len(detractors)),
            high=ctx.number(high),
        )
    return paths

"""Sections and charts of the "Segmentation" report (issue #4).

KPI cards, the features and their preparation (missing values filled, features left out),
the choice of k (three internal indices over k, or the fixed k), the stability verdict, the
segment profiles (size and revenue, feature means, z-score heatmap, what sets each segment
apart), the composition by customer attributes, a 2-D map of the segments, the migration
from the previous period, the strategy table (segment -> playbook entry) and the CRM export
``segments.csv``.

Everything shown is computed by :func:`analysis.pipelines.segmentation.build`; the sections
here take the report context and its :class:`~analysis.pipelines.segmentation.SegmentationResult`
and only display. Each section says what happened when the data are thin: no customers,
fewer customers than segments, constant or missing features, customers who all look alike,
or no earlier customers to compare with.

Charts are public plotting functions in the seaborn manner (``plot_x(part, *, language=...,
ax=None) -> Axes``: they draw on ``ax``, or the current Axes, and neither show nor save);
the notebook draws them between the sections, so an analyst changes a chart in its cell.
A section whose chart comes next stops before it; the function named after it
(``k_table``, ``size_takeaway``, ``heatmap_takeaway``, ``composition_takeaway``,
``projection_takeaway``, ``migration_table``) continues after it.

Choice of k: the report follows ``segmentation.k``. By default (null) it lets the data
choose over ``k_range`` and shows the three indices, which of them prefer which k, and a
note when the choice sits at the edge of the range; an analyst who knows how many groups
the business can treat differently fixes k in the parameters, and the report says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb, to_rgba_array
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ... import display as ui
from ... import plots
from ...i18n import catalog, t
from ...playbook import ACCOUNT_TYPES
from ...segment_report import feature_label, raw_feature, value_label
from ..context import ReportContext
from ..wording import billed, describes_absent_data

if TYPE_CHECKING:
    from ...pipelines.segmentation import Migration, Projection, SegmentationResult

__all__ = [
    "composition_layout",
    "composition_section",
    "composition_takeaway",
    "distinguishing_section",
    "export_section",
    "features_section",
    "heatmap_section",
    "heatmap_size",
    "heatmap_takeaway",
    "k_section",
    "k_table",
    "kpi_section",
    "means_section",
    "migration_section",
    "migration_table",
    "plot_composition",
    "plot_k_indices",
    "plot_migration",
    "plot_profile_heatmap",
    "plot_projection",
    "plot_sizes",
    "profile_section",
    "projection_section",
    "projection_takeaway",
    "segment_label",
    "size_takeaway",
    "stability_section",
    "strategy_section",
]

P = "report_segmentation"
#: Rows and columns the migration adds to the segments (``analysis.segmentation.NEW`` /
#: ``GONE``).
_NEW, _GONE = "new", "gone"
#: The internal indices of the choice of k, and whether higher is better.
K_INDICES = (
    ("silhouette", True),
    ("calinski_harabasz", True),
    ("davies_bouldin", False),
)


# --------------------------------------------------------------------------- wording


def _t(ctx: ReportContext, key: str, *, scheme: str | None = None, **values: object) -> str:
    """A message of this report; ``scheme="subscription"`` picks its bill wording
    (:func:`analysis.report.wording.billed`) where the catalog has one."""
    return ctx._(billed(ctx.language, f"{P}.{key}", scheme), **values)


def _say(ctx: ReportContext, result: SegmentationResult, key: str, **values: object) -> None:
    """A paragraph of this report in the unit's words (bills for a subscription)."""
    ctx.show(ui.paragraph(_t(ctx, key, scheme=result.scheme, **values)))


def _tl(language: str, key: str, **values: object) -> str:
    return t(f"{P}.{key}", language, **values)


def _has(ctx: ReportContext, key: str) -> bool:
    return f"{P}.{key}" in catalog(ctx.language)


def _pct(value: float | None, decimals: int = 1) -> str:
    return ui.fmt_pct(_finite(value), decimals=decimals)


def _pts(ctx: ReportContext, change: float) -> str:
    return _t(ctx, "pts", value=100 * change)


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _fmt(value, spec: str) -> str:
    """``spec.format(value)``, or an en dash for a missing or infinite value."""
    value = _finite(value)
    return "–" if value is None else spec.format(value)


def _date(language: str, ts: pd.Timestamp) -> str:
    """The last day covered by an exclusive snapshot date."""
    return ui.fmt_date(ts - pd.Timedelta(days=1), language)


def _name(names: Mapping | pd.Series | None, segment) -> str:
    if names is None:
        return str(segment)
    return str(names.get(segment, segment))


def _seg(result: SegmentationResult, segment) -> str:
    return _name(result.names, segment)


def segment_label(segment: Any, name: str | None = None, language: str = "en") -> str:
    """``"2 · Mid-value frequent buyers"``: id and name, for charts and tables. A generated
    name's id suffix ("... (7)", added to keep names unique) is not repeated.

    Examples
    --------
    >>> segment_label(2, "Loyal buyers (2)")
    '2 · Loyal buyers'
    """
    name = str(segment) if name is None else str(name)
    suffix = t("segmentation.name.numbered", language, name="", id=segment)
    if name.endswith(suffix) and len(name) > len(suffix):
        name = name[: -len(suffix)]
    return _tl(language, "segment_label", id=segment, name=name)


def _seg_label(ctx: ReportContext, result: SegmentationResult, segment) -> str:
    return segment_label(segment, _seg(result, segment), ctx.language)


def _feature_label(ctx: ReportContext, result: SegmentationResult, column: str) -> str:
    return feature_label(
        column, ctx.language, share_columns=result.share_columns, scheme=result.scheme
    )


def _value_label(ctx: ReportContext, attribute: str, value: object) -> str:
    return value_label(attribute, value, ctx.language)


def _format_feature(ctx: ReportContext, column: str, value) -> str:
    """A feature mean in its own unit: days, counts, money, percentages."""
    value = _finite(value)
    if value is None:
        return "–"
    if column in ("monetary", "avg_order_value", "revenue_per_customer"):
        return ctx.money(value)
    if column in ("recency_days", "tenure_days"):
        return ctx.number(value)
    if column.startswith("share_") or column in ("discount_share", "return_rate"):
        return ui.fmt_pct(value)
    if column in ("frequency",):
        return ctx.number(value, 1)
    if column in ("complaints", "satisfaction"):
        return ctx.number(value, 2)
    return ctx.number(value, 2)


def _with_link(text: str, link: str, css: str = "sr-p") -> ui.Block:
    """A paragraph of escaped ``text`` followed by a link (HTML from :func:`ui.link`)."""
    return ui.block(f'<p class="{css}">{ui.esc(text)} {link}</p>')


def _colour(segment: int) -> str:
    return plots.PALETTE[int(segment) % len(plots.PALETTE)]


def _priority(ctx: ReportContext, key: str) -> str:
    return ctx._(f"playbook.priority.{key}")


def _percent_axis(ax: Axes) -> None:
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))


# --------------------------------------------------------------------------- KPIs


#: Which aspect of buying a model feature describes (the intro names only those used).
_ASPECTS = (
    ("recency", ("recency_days", "log_recency")),
    ("frequency", ("frequency", "log_frequency")),
    ("monetary", ("monetary", "log_monetary", "avg_order_value", "log_avg_order_value")),
    ("tenure", ("tenure_days",)),
    ("categories", ("share_cat_",)),
    ("channels", ("share_ch_",)),
    ("discounts", ("discount_share",)),
    ("returns", ("return_rate",)),
    ("complaints", ("complaints",)),
    ("satisfaction", ("satisfaction",)),
)


def used_aspects(features: Sequence[str]) -> list[str]:
    """The aspects (:data:`_ASPECTS` keys) of the features a model used, in order: a report
    names channels, discounts, returns or complaints only when the data had them."""
    names = [str(f) for f in features]
    return [
        key
        for key, prefixes in _ASPECTS
        if any(n == p or (p.endswith("_") and n.startswith(p)) for n in names for p in prefixes)
    ]


def _aspect_text(ctx: ReportContext, keys: Sequence[str], scheme: str | None = None) -> str:
    words = [_t(ctx, f"aspect.{k}", scheme=scheme) for k in keys]
    if len(words) <= 1:
        return "".join(words)
    return _t(ctx, "aspect_separator").join(words[:-1]) + _t(ctx, "aspect_and") + words[-1]


def kpi_section(ctx: ReportContext, result: SegmentationResult) -> pd.DataFrame | None:
    """The one-screen overview at the top: the key figures as cards (segments, customers
    segmented, the most valuable segment's share of revenue with its change vs the
    previous period end, the customers to act on first), the findings in plain words and
    where to act (this report's actions and export, the other reports).

    Returns
    -------
    pandas.DataFrame or None
        ``result.kpis``: index ``segment``: ``customers``, ``share``, ``period_share``,
        ``previous_share``, ``previous_period_share`` (None when there is nobody to segment).
    """
    ctx.heading(f"{P}.kpis.title")
    language = ctx.language
    if result.model is None:
        ctx.note(f"{P}.note.no_customers", "warning", end=_date(language, result.as_of))
        return None
    model = result.model
    n = len(result.features)
    _say(
        ctx,
        result,
        "kpis.intro",
        aspects=_aspect_text(ctx, used_aspects(model.features_), result.scheme),
        n=ctx.number(n),
        end=_date(language, result.as_of),
        period=result.period,
        previous_end=_date(language, result.previous_as_of),
    )
    vs = ctx._("common.vs_previous", period=result.previous_period)
    none = ctx._("common.no_comparison")
    table = result.kpis

    if result.fixed_k:
        how = _t(ctx, "kpi.k_fixed")
    elif model.k_ == 1:
        how = _t(ctx, "kpi.k_none")
    else:
        low, high = (int(v) for v in model.k_range)
        how = _t(ctx, "kpi.k_auto", low=low, high=high)
    n_prev = len(result.previous_labels) if result.previous_labels is not None else 0
    cards = [
        ui.KPI(_t(ctx, "kpi.segments"), ctx.number(result.k), None, "", None, how),
        ui.KPI(
            _t(ctx, "kpi.customers"),
            ctx.number(n),
            (n - n_prev) / n_prev if n_prev else None,
            vs if n_prev else none,
        ),
    ]
    top = 0  # ids are ordered by value: 0 is the most valuable segment
    if result.k > 1:
        now = _finite(table.loc[top, "period_share"])
        before = _finite(table.loc[top, "previous_period_share"])
        change = now - before if now is not None and before is not None else None
        cards.append(
            ui.KPI(
                _t(ctx, "kpi.top_revenue", name=_seg(result, top), period=result.period),
                _pct(now),
                change,
                vs if change is not None else none,
                higher_is_better=None,
                change_text=_pts(ctx, change) if change is not None else None,
            )
        )
    focus = result.focus
    if focus is not None:
        cards.append(
            ui.KPI(
                _t(ctx, "kpi.act_first"),
                ctx.number(focus["n_customers"]),
                None,
                "",
                None,
                _t(ctx, "kpi.act_first_share", share=_pct(focus["customer_share"])),
            )
        )
    ctx.show(ui.kpi_cards(cards))
    if result.k == 1:
        ctx.note(f"{P}.note.no_meaningful_one", "warning", n=ctx.number(n))
        ctx.show(_act_links(ctx))
        return table
    if not result.meaningful:
        text = _t(ctx, "note.no_meaningful")
        link = ui.link(_t(ctx, "link.stability"), "#sec-stability")
        ctx.show(ui.block(f'<div class="sr-note sr-warning">{ui.esc(text)} {link}</div>'))
    ctx.show(ui.points(_findings(ctx, result)))
    ctx.show(_act_links(ctx))
    return table


def _findings(ctx: ReportContext, result: SegmentationResult) -> list[str]:
    """The overview's findings in plain words: value, where to act first, the biggest
    movement and whether the segments hold."""
    table = result.kpis
    top = 0
    largest = int(table["customers"].idxmax())
    values = dict(
        k=result.k,
        top=_seg(result, top),
        top_customers=_pct(table.loc[top, "share"]),
        top_revenue=_pct(table.loc[top, "period_share"]),
        period=result.period,
        largest=_seg(result, largest),
        largest_share=_pct(table.loc[largest, "share"]),
    )
    found = [
        _t(ctx, "kpis.takeaway_no_revenue", **values)
        if _finite(table.loc[top, "period_share"]) is None
        else _t(ctx, "kpis.takeaway", **values)
    ]
    focus = result.focus
    if focus is not None:
        found.append(
            _t(
                ctx,
                "glance.focus",
                first=_t(ctx, "list_separator").join(_seg(result, s) for s in focus["first"]),
                n=ctx.number(focus["n_customers"]),
                share=_pct(focus["customer_share"]),
                revenue=_pct(focus["revenue_share"]),
                period=result.period,
            )
        )
    migration = result.transitions
    if migration is not None and migration.biggest is not None:
        move = migration.biggest
        found.append(
            _t(
                ctx,
                "glance.moved",
                count=ctx.number(move["count"]),
                source=_seg(result, move["source"]),
                target=_seg(result, move["target"]),
                previous=result.previous_period,
                stayed=_pct(migration.flows["stayed_share"]),
            )
        )
    stab = result.model.stability_
    if stab is not None:
        key = "glance.stable" if stab.stable else "glance.unstable"
        found.append(_t(ctx, key, term=ctx._("common.term.ari"), ari=stab.mean_ari))
    return found


def _act_links(ctx: ReportContext) -> ui.Block:
    """Where to act and read on: this report's actions and customer list, and the reports
    with the other views of the same customers."""
    items = [
        ui.link(_t(ctx, "link.strategy"), "#sec-strategy"),
        ctx.export_link("segments.csv", _t(ctx, "link.export")),
        ctx.link("value", "report_value.segments.title", _t(ctx, "link.value")),
        ctx.link("churn", "report_churn.list.title", _t(ctx, "link.churn")),
        ctx.link("summary", None, _t(ctx, "link.summary")),
    ]
    return ui.block(f'<p class="sr-links">{ui.esc(_t(ctx, "link.act"))} {" · ".join(items)}</p>')


# --------------------------------------------------------------------------- features


def features_section(ctx: ReportContext, result: SegmentationResult) -> pd.DataFrame | None:
    """The features clustered, how many values were missing and how they were filled,
    and the features left out (constant, mostly missing). Returns that table (``feature``,
    ``label``, ``missing``, ``share``, ``status``, ``used``)."""
    if result.model is None:
        return None
    model = result.model
    ctx.heading(f"{P}.features.title")
    _say(
        ctx,
        result,
        "features.intro" if model.features_ else "features.intro_none",
        n=ctx.number(len(result.features)),
        m=len(model.features_),
        end=_date(ctx.language, result.as_of),
        scaling=_t(ctx, f"scaling.{model.scaling}"),
        clip=model.clip if model.clip is not None else "–",
    )
    rows = []
    for row in result.feature_table.itertuples(index=False):
        if not row.used and describes_absent_data(row.feature, result.available):
            continue  # e.g. a return rate without any return: nothing to say about it
        if isinstance(row.dropped, str) and row.dropped:
            reason = ctx._(f"segmentation.reason.{row.dropped}")
            status = _t(ctx, "features.dropped", reason=reason)
        elif row.missing:
            status = _t(ctx, "features.imputed", value=_fill_text(ctx, row.feature, row.fill_value))
        else:
            status = _t(ctx, "features.used")
        rows.append(
            {
                "feature": row.feature,
                "label": _feature_label(ctx, result, row.feature),
                "missing": row.missing,
                "share": row.share_missing,
                "status": status,
                "used": row.used,
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    c = {k: _t(ctx, f"col.{k}") for k in ("feature", "missing", "missing_share", "treatment")}
    ctx.show(
        ui.table(
            pd.DataFrame(
                {
                    c["feature"]: table["label"],
                    c["missing"]: table["missing"],
                    c["missing_share"]: table["share"],
                    c["treatment"]: table["status"],
                }
            ),
            formats={c["missing_share"]: "pct"},
            muted_rows=(~table["used"]).tolist(),
            max_rows=100,
        )
    )
    for note in _model_notes(ctx, result):
        ctx.show(ui.paragraph(note, "sr-small"))
    imputed = table.loc[table["used"] & (table["missing"] > 0)]
    dropped = table.loc[~table["used"]]
    sep = _t(ctx, "list_separator")
    if len(imputed):
        ctx.takeaway(
            f"{P}.features.takeaway_imputed",
            n=ctx.number(int(imputed["missing"].sum())),
            features=sep.join(imputed["label"]),
            used=int(table["used"].sum()),
            dropped=len(dropped),
        )
    else:
        ctx.takeaway(
            f"{P}.features.takeaway",
            used=int(table["used"].sum()),
            dropped=len(dropped),
            dropped_names=sep.join(dropped["label"]) if len(dropped) else "–",
        )
    return table


def _fill_text(ctx: ReportContext, feature: str, value) -> str:
    value = _finite(value)
    if value is None:
        return "–"
    if feature.startswith("log_"):
        return _format_feature(ctx, raw_feature(feature), math.expm1(value))
    return _format_feature(ctx, feature, value)


def _model_notes(ctx: ReportContext, result: SegmentationResult) -> list[str]:
    """The model's notes that the feature table does not already show, plus ignored
    name overrides."""
    model = result.model
    shown = (  # the table shows these; the stability section states the last three
        "segmentation.note.dropped",
        "segmentation.note.imputed",
        "segmentation.note.unstable",
        "segmentation.note.not_meaningful",
        "segmentation.note.cannot_judge",
    )
    keep = [i for i, (key, _) in enumerate(model.notes_) if key not in shown]
    texts = model.notes_text(ctx.language)
    out = [texts[i] for i in keep]
    if result.name_notes:
        out.append(
            _t(ctx, "note.names_ignored", ids=", ".join(map(str, result.name_notes)), k=result.k)
        )
    return out


# --------------------------------------------------------------------------- k


def k_section(ctx: ReportContext, result: SegmentationResult) -> pd.DataFrame | None:
    """How many segments: the fixed k, or (when the data chose it) the range and the rule;
    the chart of the three indices (:func:`plot_k_indices` of ``result.k_choice``) and
    :func:`k_table` follow. Returns the scores table."""
    if result.model is None:
        return None
    model = result.model
    ctx.heading(f"{P}.k.title")
    scores = model.k_scores_
    min_share = ui.fmt_pct(model.min_segment_share)
    if model.k_ == 1 or scores.empty:
        ctx.note(f"{P}.k.one", "info", n=ctx.number(len(result.features)))
        return scores
    if result.fixed_k:
        row = scores.iloc[0]
        ctx.note(
            f"{P}.k.fixed",
            "info",
            k=model.k_,
            requested=int(model.k),
            silhouette=_fmt(row["silhouette"], "{:.3f}"),
            ch=_fmt(row["calinski_harabasz"], "{:,.0f}"),
            db=_fmt(row["davies_bouldin"], "{:.3f}"),
        )
        return scores
    low, high = (int(v) for v in model.k_range)
    rule = "rule_rank" if model.k_rule == "rank" else "rule_silhouette"
    ctx.text(f"{P}.k.intro", low=low, high=high, min_share=min_share)
    ctx.show(ui.paragraph(_t(ctx, f"k.{rule}", min_share=min_share), "sr-small"))
    return scores


def plot_k_indices(
    scores: pd.DataFrame,
    *,
    chosen: int | None = None,
    language: str = "en",
    axes: Sequence[Axes] | np.ndarray | None = None,
    color: str = "#1f4e79",
    highlight: str = "#f18f01",
) -> np.ndarray:
    """The three internal indices over k, one panel each, the chosen k marked.

    Parameters
    ----------
    scores
        ``SegmentationModel.k_scores_`` (``result.k_choice``): index k; ``silhouette``,
        ``calinski_harabasz``, ``davies_bouldin``, ``eligible`` (k below the minimum segment
        share are drawn hollow) and ``chosen``.
    chosen
        The k to mark; default the row flagged ``chosen``.
    language
        Language of titles and labels.
    axes
        Three Axes (default: three new panels in the current figure).
    color, highlight
        Line colour and the colour of the chosen k.

    Returns
    -------
    numpy.ndarray of Axes

    Examples
    --------
    >>> fig, axes = plt.subplots(1, 3, figsize=(11, 3.3))  # doctest: +SKIP
    >>> plot_k_indices(result.k_choice, axes=axes)  # doctest: +SKIP
    """
    axes = np.asarray(plt.gcf().subplots(1, 3) if axes is None else axes).ravel()
    if chosen is None and "chosen" in scores and scores["chosen"].astype(bool).any():
        chosen = int(scores.index[scores["chosen"].astype(bool)][0])
    ks = scores.index.to_numpy()
    eligible = scores["eligible"].astype(bool).to_numpy()
    for ax, (column, higher) in zip(axes, K_INDICES, strict=True):
        values = scores[column].to_numpy(dtype=float)
        ax.plot(ks, values, color=color, lw=1.6, zorder=1)
        ax.scatter(ks[eligible], values[eligible], color=color, s=26, zorder=2)
        if (~eligible).any():
            ax.scatter(
                ks[~eligible],
                values[~eligible],
                facecolors="white",
                edgecolors="#9aa5b1",
                s=34,
                zorder=2,
                label=_tl(language, "k.ineligible"),
            )
        if chosen is not None:
            ax.axvline(chosen, color=highlight, lw=1.4, ls="--", zorder=0)
            ax.scatter([chosen], [scores.loc[chosen, column]], color=highlight, s=80, zorder=3)
        direction = _tl(language, "k.higher" if higher else "k.lower")
        ax.set_title(
            _tl(language, "k.chart_title", index=_tl(language, f"k.chart.{column}"), how=direction)
        )
        ax.set_xlabel(_tl(language, "k.axis"))
        ax.set_xticks(ks)
        if (~eligible).any() and column == "silhouette":
            ax.legend(fontsize=8, frameon=False, loc="upper left")
    return axes


def k_table(ctx: ReportContext, result: SegmentationResult) -> pd.DataFrame | None:
    """After the chart of the indices: which k each index prefers, a note when the choice
    sits at the edge of the range, and the scores table. Returns the scores (None when the
    data did not choose k)."""
    scores = result.k_choice
    if scores is None:
        return None
    model = result.model
    min_share = ui.fmt_pct(model.min_segment_share)
    best = result.best_k
    agree = len(set(best.values())) == 1
    values = dict(
        k=int(model.k_),
        silhouette=best.get("silhouette", "–"),
        ch=best.get("calinski_harabasz", "–"),
        db=best.get("davies_bouldin", "–"),
        min_share=min_share,
    )
    ctx.takeaway(f"{P}.k.takeaway_agree" if agree else f"{P}.k.takeaway", **values)
    tried = [int(k) for k in scores.index]
    if int(model.k_) == max(tried) and len(tried) > 1:
        ctx.note(f"{P}.k.at_upper_edge", "info", k=int(model.k_), high=max(tried))
    elif int(model.k_) == min(tried) and len(tried) > 1:
        ctx.note(f"{P}.k.at_lower_edge", "info", k=int(model.k_), low=min(tried))
    c = {
        k: ctx._(f"segmentation.column.{k}")
        for k in ("silhouette", "calinski_harabasz", "davies_bouldin", "min_share", "eligible")
    }
    yes, no = _t(ctx, "yes"), _t(ctx, "no")
    shown = pd.DataFrame(
        {
            "k": [f"{k} ◀" if scores.loc[k, "chosen"] else str(k) for k in scores.index],
            c["silhouette"]: [_fmt(v, "{:.3f}") for v in scores["silhouette"]],
            c["calinski_harabasz"]: [_fmt(v, "{:,.0f}") for v in scores["calinski_harabasz"]],
            c["davies_bouldin"]: [_fmt(v, "{:.3f}") for v in scores["davies_bouldin"]],
            c["min_share"]: [ui.fmt_pct(v) for v in scores["min_share"]],
            c["eligible"]: [yes if e else no for e in scores["eligible"]],
            _t(ctx, "col.mean_rank"): [
                f"{v:.2f}" if _finite(v) is not None else "–" for v in scores["rank_score"]
            ],
        }
    )
    ctx.show(ui.table(shown, max_rows=50))
    return scores


# --------------------------------------------------------------------------- stability


def stability_section(ctx: ReportContext, result: SegmentationResult) -> dict[str, Any] | None:
    """The stability verdict (bootstrap adjusted Rand index, >= threshold: stable, else a
    warning) and whether the segments are distinct at all. Returns the figures."""
    if result.model is None:
        return None
    model = result.model
    ctx.heading(f"{P}.stability.title")
    if model.k_ == 1:
        ctx.note(f"{P}.note.no_meaningful_one", "warning", n=ctx.number(len(result.features)))
        return {"stable": None, "meaningful": False}
    stab = model.stability_
    figures = {
        "mean_ari": stab.mean_ari if stab else math.nan,
        "stable": stab.stable if stab else None,
        "meaningful": result.meaningful,
    }
    if stab is None:
        ctx.note(f"{P}.stability.not_checked", "info")
    else:
        values = dict(
            n=len(stab.ari),
            ari=stab.mean_ari,
            low=stab.min_ari,
            threshold=stab.threshold,
        )
        if stab.stable:
            ctx.note(f"{P}.stability.stable", "ok", **values)
        else:
            ctx.note(f"{P}.stability.unstable", "warning", **values)
    silhouette, null = _finite(model.silhouette_), _finite(model.null_silhouette_)
    if silhouette is None:
        ctx.note(f"{P}.stability.cannot_judge", "warning", n=ctx.number(len(result.features)))
    elif result.meaningful:
        ctx.note(
            f"{P}.stability.distinct",
            "ok",
            silhouette=silhouette,
            null=null if null is not None else math.nan,
        )
    else:
        ctx.note(
            f"{P}.stability.not_distinct",
            "warning",
            silhouette=silhouette,
            null=null if null is not None else math.nan,
        )
    ctx.show(ui.paragraph(_t(ctx, "stability.explain"), "sr-small"))
    return figures


# --------------------------------------------------------------------------- profiles


def profile_section(ctx: ReportContext, result: SegmentationResult) -> pd.DataFrame | None:
    """Size and revenue of each segment as a table; the chart (:func:`plot_sizes` of
    ``result.sizes``) and :func:`size_takeaway` follow. Returns the profile."""
    if result.model is None:
        return None
    ctx.heading(f"{P}.profiles.title")
    profile = result.profile
    _say(ctx, result, "profiles.intro", period=result.period)
    c = {
        k: _t(ctx, f"col.{k}")
        for k in (
            "segment",
            "customers",
            "customer_share",
            "revenue_share",
            "period_share",
            "revenue_per_customer",
        )
    }
    shown = pd.DataFrame(
        {
            c["segment"]: [_seg_label(ctx, result, s) for s in profile.index],
            c["customers"]: profile["n_customers"].astype(int).to_numpy(),
            c["customer_share"]: profile["share_customers"].to_numpy(),
            c["revenue_share"]: profile["share_revenue"].to_numpy(),
            c["period_share"]: profile["period_share"].to_numpy(),
            c["revenue_per_customer"]: [
                ctx.money(_finite(v)) for v in profile["revenue_per_customer"]
            ],
        }
    )
    period_col = _t(ctx, "col.period_share", period=result.period)
    shown = shown.rename(columns={c["period_share"]: period_col})
    ctx.show(
        ui.table(
            shown,
            formats={c["customer_share"]: "pct", c["revenue_share"]: "pct", period_col: "pct"},
        )
    )
    return profile


def plot_sizes(
    profile: pd.DataFrame,
    *,
    names: Mapping | pd.Series | None = None,
    period: str = "",
    language: str = "en",
    ax: Axes | None = None,
    colors: Sequence[str] = ("#9aa5b1", "#1f4e79"),
) -> Axes:
    """Each segment's share of customers and of the period's revenue, as paired bars.

    Parameters
    ----------
    profile
        Index segment; ``share_customers`` and ``period_share`` (``result.sizes``).
    names
        Segment id -> name (``result.names``); default the ids.
    period
        The period the revenue is of (legend).
    language
        Language of titles and labels.
    ax
        Axes to draw on (default the current Axes).
    colors
        Bar colours of customers and revenue.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else plt.gca()
    labels = [
        ui.wrap_label(segment_label(s, _name(names, s), language), 34, language)
        for s in profile.index
    ]
    y = np.arange(len(profile))
    height = 0.38
    series = (
        ("share_customers", _tl(language, "profiles.bar_customers"), colors[0]),
        ("period_share", _tl(language, "profiles.bar_revenue", period=period), colors[1]),
    )
    for offset, (column, label, colour) in zip((-height / 2, height / 2), series, strict=True):
        values = profile[column].fillna(0.0).to_numpy()
        ax.barh(y + offset, values, height=height, color=colour, label=label)
        for yi, v in zip(y + offset, values, strict=True):
            ax.text(v + 0.004, yi, f"{v:.0%}", va="center", fontsize=8)
    ax.set_yticks(y, labels=labels, fontsize=9)
    ax.invert_yaxis()
    _percent_axis(ax)
    ax.set_title(_tl(language, "profiles.chart"))
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.grid(axis="y", visible=False)
    return ax


def size_takeaway(ctx: ReportContext, result: SegmentationResult) -> None:
    """After the size chart: the segment with the most and the least revenue per share of
    customers."""
    if result.sizes is None:
        return
    profile, ratio = result.profile, result.revenue_ratio
    if ratio is not None and len(ratio):
        best, worst = int(ratio.idxmax()), int(ratio.idxmin())
        ctx.takeaway(
            f"{P}.profiles.size_takeaway",
            best=_seg(result, best),
            best_customers=_pct(profile.loc[best, "share_customers"]),
            best_revenue=_pct(profile.loc[best, "period_share"]),
            worst=_seg(result, worst),
            worst_customers=_pct(profile.loc[worst, "share_customers"]),
            worst_revenue=_pct(profile.loc[worst, "period_share"]),
            period=result.period,
        )
    else:
        ctx.takeaway(
            f"{P}.profiles.size_takeaway_no_revenue",
            largest=_seg(result, int(profile["n_customers"].idxmax())),
            period=result.period,
        )


def means_section(ctx: ReportContext, result: SegmentationResult) -> pd.DataFrame | None:
    """The feature means per segment and overall, in their own units. Returns
    ``result.means``."""
    means = result.means
    if result.model is None or means is None:
        return None
    ctx.show(ui.heading(_t(ctx, "profiles.means_title"), level=3))
    columns = list(means.index)
    table = pd.DataFrame(
        {_t(ctx, "col.feature"): [_feature_label(ctx, result, c) for c in columns]}
    )
    for s in result.segments:
        table[_seg_label(ctx, result, s)] = [
            _format_feature(ctx, c, means.loc[c, s]) for c in columns
        ]
    table[_t(ctx, "col.all")] = [_format_feature(ctx, c, means.loc[c, "all"]) for c in columns]
    ctx.show(ui.table(table, max_rows=100))
    ctx.show(ui.paragraph(_t(ctx, "profiles.means_note", scheme=result.scheme), "sr-small"))
    return means


def heatmap_section(ctx: ReportContext, result: SegmentationResult) -> None:
    """Title and introduction of the z-score heatmap (:func:`plot_profile_heatmap` of
    ``result.heatmap`` and :func:`heatmap_takeaway` follow)."""
    if result.heatmap is None:
        return
    ctx.show(ui.heading(_t(ctx, "profiles.heatmap_title"), level=3))
    _say(ctx, result, "profiles.heatmap_intro")


def heatmap_size(zscores: pd.DataFrame) -> tuple[float, float]:
    """A figure size (inches) that fits the heatmap of ``zscores``."""
    width = min(11.0, 3.2 + 0.55 * len(zscores.columns))
    return max(width, 7.5), 1.6 + 0.5 * len(zscores)


def plot_profile_heatmap(
    zscores: pd.DataFrame,
    *,
    names: Mapping | pd.Series | None = None,
    share_columns: Mapping | None = None,
    language: str = "en",
    limit: float = 2.5,
    fontsize: float = 7.5,
    scheme: str = "transactional",
    ax: Axes | None = None,
) -> Axes:
    """Segment means as population z-scores: one row per segment, one column per feature,
    each cell annotated (colours clipped at +-``limit``).

    Parameters
    ----------
    zscores
        Index segment, columns features (``result.heatmap``).
    names
        Segment id -> name (``result.names``); default the ids.
    share_columns
        ``result.share_columns``, so share features name their category or channel.
    language
        Language of titles and labels.
    limit
        The colour scale runs from -limit to +limit.
    fontsize
        Size of the cell values.
    scheme
        ``result.scheme``: a subscription's features are named in bills.
    ax
        Axes to draw on (default the current Axes).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else plt.gca()
    shown = zscores.copy()
    shown.index = [
        ui.wrap_label(segment_label(s, _name(names, s), language), 30, language)
        for s in zscores.index
    ]
    shown.columns = [
        ui.wrap_label(
            feature_label(c, language, share_columns=share_columns, scheme=scheme), 16, language
        )
        for c in zscores.columns
    ]
    _annotated_heatmap(ax, shown, limit=limit, fontsize=fontsize)
    ax.tick_params(axis="x", labelsize=8, rotation=90)
    ax.tick_params(axis="y", labelsize=8.5, rotation=0)
    ax.set_title(_tl(language, "profiles.heatmap_chart"))
    return ax


def _relative_luminance(colour) -> float:
    """Relative luminance of an sRGB colour (WCAG 2.0), as seaborn's heatmap reads it."""
    rgb = to_rgba_array(colour)[:, :3]
    rgb = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(rgb.dot([0.2126, 0.7152, 0.0722])[0])


def _annotated_heatmap(ax: Axes, data: pd.DataFrame, *, limit: float, fontsize: float) -> None:
    """The z-scores as ``sns.heatmap(data.clip(-limit, limit), annot=..., cmap="RdBu_r",
    linewidths=0.5, linecolor="white", cbar=False)`` draws them (cells, values, labels,
    no spines), without the full extra draw of the figure seaborn makes to test whether
    tick labels overlap (the caller sets their rotation)."""
    values = data.to_numpy(dtype=float)
    rows, columns = values.shape
    mesh = ax.pcolormesh(
        values.clip(-limit, limit),
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        linewidths=0.5,
        edgecolor="white",
    )
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set(xlim=(0, columns), ylim=(0, rows))
    ax.invert_yaxis()
    ax.set_xticks(np.arange(columns) + 0.5, labels=list(data.columns))
    ax.set_yticks(np.arange(rows) + 0.5, labels=list(data.index), va="center")
    mesh.update_scalarmappable()
    for (y, x), value, colour in zip(
        np.ndindex(rows, columns), values.flat, mesh.get_facecolors(), strict=True
    ):
        ink = ".15" if _relative_luminance(colour) > 0.408 else "w"  # seaborn's rule
        ax.text(
            x + 0.5,
            y + 0.5,
            f"{value:+.1f}",
            color=ink,
            ha="center",
            va="center",
            fontsize=fontsize,
        )


def heatmap_takeaway(ctx: ReportContext, result: SegmentationResult) -> None:
    """After the heatmap: the segment and feature furthest from average."""
    extreme = result.extreme
    if result.heatmap is None or extreme is None:
        return
    value = extreme["z"]
    ctx.takeaway(
        f"{P}.profiles.heatmap_takeaway_{'high' if value >= 0 else 'low'}",
        segment=_seg(result, extreme["segment"]),
        feature=_feature_label(ctx, result, extreme["feature"]),
        z=abs(value),
    )


_STRENGTH = {"strong": "much_", "clear": "", "slight": "slightly_"}


def distinguishing_section(ctx: ReportContext, result: SegmentationResult) -> pd.DataFrame | None:
    """What sets each segment apart, in words (the largest standardized mean differences,
    with the segment's and everybody else's mean). Returns ``result.distinguishing``."""
    table = result.distinguishing
    if result.heatmap is None or table is None:
        return None
    ctx.show(ui.heading(_t(ctx, "profiles.distinct_title"), level=3))
    rows = []
    for segment in result.segments:
        part = table.loc[table["segment"] == segment]
        items = [
            _t(
                ctx,
                "distinct.item",
                feature=_feature_label(ctx, result, row.raw_feature),
                how=_t(ctx, f"smd.{_STRENGTH[row.strength]}{row.direction}"),
                segment=_format_feature(ctx, row.raw_feature, row.raw_segment_mean),
                rest=_format_feature(ctx, row.raw_feature, row.raw_rest_mean),
            )
            for row in part.itertuples(index=False)
        ]
        rows.append((_seg_label(ctx, result, segment), _t(ctx, "separator").join(items)))
    shown = pd.DataFrame(rows, columns=[_t(ctx, "col.segment"), _t(ctx, "col.sets_apart")])
    ctx.show(ui.table(shown))
    ctx.show(ui.paragraph(_t(ctx, "profiles.distinct_note"), "sr-small"))
    return table


# --------------------------------------------------------------------------- composition


def composition_section(ctx: ReportContext, result: SegmentationResult) -> pd.DataFrame | None:
    """Customer type, region and demographic mix of each segment (the customers-table
    columns that exist): title and introduction; the chart (:func:`plot_composition` of
    ``result.composition_shares``) and :func:`composition_takeaway` follow. Returns the
    long composition table (None when there is nothing to show)."""
    if result.model is None:
        return None
    ctx.heading(f"{P}.composition.title")
    if result.composition is None:
        ctx.note(f"{P}.composition.none", "info")
        return None
    table = result.composition.table
    if result.k == 1:
        ctx.note(f"{P}.composition.one", "info")
        return table
    attributes = list(dict.fromkeys(table["attribute"]))
    ctx.text(
        f"{P}.composition.intro",
        attributes=_t(ctx, "list_separator").join(
            _attribute_label(ctx.language, a).lower() for a in attributes
        ),
    )
    return table


def composition_layout(
    shares: Mapping[str, pd.DataFrame],
) -> tuple[int, int, tuple[float, float]]:
    """Rows, columns and figure size (inches) of the composition chart: two panels a row,
    each as high as its bars."""
    ncols = 2 if len(shares) > 1 else 1
    nrows = math.ceil(len(shares) / ncols)
    k = len(next(iter(shares.values()))) - 1 if shares else 0
    panel_h = 1.6 + 0.36 * (k + 1)  # rows named (two lines at most) and the legend below
    return nrows, ncols, (11, panel_h * nrows + 0.2)


def plot_composition(
    shares: Mapping[str, pd.DataFrame],
    *,
    names: Mapping | pd.Series | None = None,
    language: str = "en",
    axes: Sequence[Axes] | np.ndarray | None = None,
    missing_color: str = "#d5dde5",
) -> np.ndarray:
    """The mix of each customer attribute per segment, as 100% stacked bars (one panel per
    attribute, the whole population as the last bar).

    Parameters
    ----------
    shares
        Attribute -> shares (rows: segments, then ``"all"``; columns: values in display
        order), i.e. ``result.composition_shares``.
    names
        Segment id -> name (``result.names``): rows are labelled ``id · name``; default
        the ids.
    language
        Language of titles, labels and values.
    axes
        At least one Axes per attribute (extra ones are hidden); default a grid of
        :func:`composition_layout` in the current figure.
    missing_color
        Colour of the "not recorded" part.

    Returns
    -------
    numpy.ndarray of Axes
    """
    if axes is None:
        nrows, ncols, _ = composition_layout(shares)
        axes = plt.gcf().subplots(nrows, ncols, squeeze=False)
    axes = np.asarray(axes).ravel()
    for ax, (attribute, frame) in zip(axes, shares.items(), strict=False):
        segments = [s for s in frame.index if s != "all"]
        rows = [
            ui.wrap_label(segment_label(s, _name(names, s), language), 34, language)
            for s in segments
        ]
        rows.append(_tl(language, "col.all"))
        colours = [
            missing_color if value == "(missing)" else plots.PALETTE[i % len(plots.PALETTE)]
            for i, value in enumerate(frame.columns)
        ]
        values = frame.to_numpy(dtype=float)
        _stacked_bars(ax, values, colours)
        left = np.zeros(len(frame))
        for j, colour in enumerate(colours):
            widths = values[:, j]
            ink = _ink(colour)
            for y, (x0, w) in enumerate(zip(left, widths, strict=True)):
                if w >= 0.09:
                    ax.text(
                        x0 + w / 2, y, f"{w:.0%}", ha="center", va="center", fontsize=7, color=ink
                    )
            left += widths
        ax.set_yticks(range(len(frame)), labels=rows, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        _percent_axis(ax)
        ax.grid(False)
        ax.set_title(_attribute_label(language, attribute), fontsize=10)
        ax.legend(
            handles=[
                Patch(facecolor=colour, label=value_label(attribute, value, language))
                for value, colour in zip(frame.columns, colours, strict=True)
            ],
            fontsize=7,
            frameon=False,
            ncol=min(4, len(frame.columns)),
            loc="upper center",
            bbox_to_anchor=(0.5, -0.16),  # below the percent ticks, not over them
            handlelength=1,
            columnspacing=0.8,
        )
    for ax in list(axes)[len(shares) :]:
        ax.set_visible(False)
    return axes


def composition_takeaway(ctx: ReportContext, result: SegmentationResult) -> None:
    """After the composition chart: the most over-represented group."""
    if result.composition_shares is None:
        return
    row = result.composition.highlight
    if row is None:
        ctx.takeaway(f"{P}.composition.takeaway_none")
        return
    ctx.takeaway(
        f"{P}.composition.takeaway",
        value=_value_label(ctx, row["attribute"], row["value"]),
        attribute=_attribute_label(ctx.language, row["attribute"]),
        segment=_seg(result, row["segment"]),
        share=_pct(row["share"]),
        overall=_pct(row["overall_share"]),
        times=row["index"] / 100.0,
    )


#: Height of one bar of the composition chart (rows are 1 apart).
_BAR_HEIGHT = 0.7


def _stacked_bars(ax: Axes, shares: np.ndarray, colours: list[str]) -> None:
    """Horizontal stacked bars, one row per row of ``shares`` (a column per stacked value,
    in ``colours``): what ``ax.barh(rows, shares[:, j], left=..., height=_BAR_HEIGHT)``
    per column draws, as one collection, without a patch and a data-limit update per bar
    (the composition chart has a few hundred)."""
    n, m = shares.shape
    right = np.cumsum(shares, axis=1)
    left = right - shares
    top = np.repeat(np.arange(n) - _BAR_HEIGHT / 2, m)
    bottom = top + _BAR_HEIGHT
    left, right = left.ravel(), right.ravel()
    verts = np.stack(
        [np.c_[left, top], np.c_[right, top], np.c_[right, bottom], np.c_[left, bottom]], axis=1
    )
    ax.add_collection(PolyCollection(verts, facecolors=np.tile(colours, n)), autolim=False)
    # the y range barh would set: the bars plus the axes' margin
    low, high = -_BAR_HEIGHT / 2, n - 1 + _BAR_HEIGHT / 2
    pad = ax.margins()[1] * (high - low)
    ax.set_ylim(low - pad, high + pad)


def _attribute_label(language: str, attribute: str) -> str:
    key = f"{P}.attribute.{attribute}"
    return t(key, language) if key in catalog(language) else str(attribute)


def _ink(colour: str) -> str:
    """White text on dark bars, dark text on light ones (relative luminance, sRGB)."""
    r, g, b = to_rgb(colour)
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else "#1d2733"


# --------------------------------------------------------------------------- projection


def projection_section(ctx: ReportContext, result: SegmentationResult) -> pd.DataFrame | None:
    """Title and introduction of the 2-D map (two principal components of the scaled
    features, a fixed-seed sample; :func:`plot_projection` of ``result.projection`` and
    :func:`projection_takeaway` follow). Returns the plotted points."""
    projection = result.projection
    if projection is None:
        return None
    ctx.heading(f"{P}.projection.title")
    points = projection.points
    ctx.text(
        f"{P}.projection.intro"
        if len(points) < projection.n_customers
        else f"{P}.projection.intro_all",
        n=ctx.number(len(points)),
        total=ctx.number(projection.n_customers),
    )
    return points


def plot_projection(
    projection: Projection,
    *,
    names: Mapping | pd.Series | None = None,
    language: str = "en",
    ax: Axes | None = None,
    s: float = 7,
    alpha: float = 0.45,
) -> Axes:
    """The customers on two principal components, coloured by segment, each segment's
    centre marked with its id.

    Parameters
    ----------
    projection
        ``result.projection`` (points, centres, explained variance).
    names
        Segment id -> name (``result.names``) for the legend; default the ids.
    language
        Language of titles and labels.
    ax
        Axes to draw on (default the current Axes).
    s, alpha
        Marker size and opacity of the points.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else plt.gca()
    points = projection.points
    for segment in projection.segments:
        part = points.loc[points["segment"] == segment]
        ax.scatter(
            part["pc1"],
            part["pc2"],
            s=s,
            alpha=alpha,
            color=_colour(segment),
            label=ui.wrap_label(
                segment_label(segment, _name(names, segment), language), 30, language
            ),
            linewidths=0,
        )
    for segment, row in projection.centres.iterrows():
        ax.text(
            row["pc1"],
            row["pc2"],
            str(segment),
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            color="white",
            bbox={"boxstyle": "circle,pad=0.25", "fc": _colour(int(segment)), "ec": "white"},
        )
    ax.set_xlabel(_tl(language, "projection.pc1"))
    ax.set_ylabel(_tl(language, "projection.pc2"))
    ax.set_title(_tl(language, "projection.chart", share=_pct(projection.explained, 0)))
    legend = ax.legend(
        fontsize=8,
        frameon=False,
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        markerscale=2.5,
    )
    for handle in legend.legend_handles:
        handle.set_alpha(1.0)
    return ax


def projection_takeaway(ctx: ReportContext, result: SegmentationResult) -> None:
    """After the map: which segment separates best and which worst in the picture."""
    projection = result.projection
    if projection is None:
        return
    own, ratio = projection.separation, projection.explained
    best, worst = int(own.idxmax()), int(own.idxmin())
    if own[best] - own[worst] < 0.05:
        ctx.takeaway(f"{P}.projection.takeaway_even", share=_pct(ratio, 0))
        return
    ctx.takeaway(
        f"{P}.projection.takeaway",
        share=_pct(ratio, 0),
        best=_seg(result, best),
        best_share=_pct(own[best], 0),
        worst=_seg(result, worst),
        worst_share=_pct(own[worst], 0),
    )


# --------------------------------------------------------------------------- migration


def migration_section(ctx: ReportContext, result: SegmentationResult) -> Migration | None:
    """Who moved where since the previous period end: the previous period's customers are
    placed in the current segments by the same fitted model; customers active (a purchase in
    the window) at either date are compared. Title, introduction, and a note when there is
    nothing to draw; the chart (:func:`plot_migration` of ``result.transitions``) and
    :func:`migration_table` follow. Returns ``result.migration``."""
    if result.model is None:
        return None
    language = ctx.language
    ctx.heading(f"{P}.migration.title")
    _say(
        ctx,
        result,
        "migration.intro",
        previous_end=_date(language, result.previous_as_of),
        end=_date(language, result.as_of),
        window=result.window_days,
    )
    migration = result.migration
    if migration is None:
        ctx.note(f"{P}.migration.none", "info", previous_end=_date(language, result.previous_as_of))
        return None
    if migration.total == 0:
        ctx.note(f"{P}.migration.nobody", "info", window=result.window_days)
    elif result.k == 1:
        ctx.show(
            ui.note(
                _t(
                    ctx,
                    "migration.one",
                    scheme=result.scheme,
                    new=ctx.number(migration.flows["new"]),
                    gone=ctx.number(migration.flows["gone"]),
                    previous=result.previous_period,
                ),
                "info",
            )
        )
    return migration


def plot_migration(
    migration: Migration,
    *,
    names: Mapping | pd.Series | None = None,
    language: str = "en",
    ax: Axes | None = None,
    fontsize: float = 8,
) -> Axes:
    """The migration matrix: customers from each previous segment (and new ones) to each
    current segment (or gone), with row shares.

    Parameters
    ----------
    migration
        ``result.transitions`` (counts, shares, the rows to draw and the two dates).
    names
        Segment id -> name (``result.names``); default the ids.
    language
        Language of titles and labels.
    ax
        Axes to draw on (default the current Axes).
    fontsize
        Size of the cell values.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else plt.gca()
    extra = {_NEW: _tl(language, "migration.new"), _GONE: _tl(language, "migration.gone")}

    def label(key, width):
        text = extra[key] if key in extra else segment_label(key, _name(names, key), language)
        return ui.wrap_label(text, width, language)

    rows, columns = list(migration.rows), list(migration.counts.columns)
    plots.plot_transitions(
        migration.counts,
        migration.shares,
        rows=rows,
        columns=columns,
        row_labels=[label(r, 24) for r in rows],
        column_labels=[label(c, 15) for c in columns],
        fontsize=fontsize,
        ax=ax,
    )
    ax.tick_params(axis="x", labelsize=7)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel(_tl(language, "migration.to", end=_date(language, migration.as_of)))
    ax.set_ylabel(_tl(language, "migration.from", end=_date(language, migration.previous_as_of)))
    ax.set_title(_tl(language, "migration.chart"))
    return ax


def migration_table(ctx: ReportContext, result: SegmentationResult) -> pd.DataFrame | None:
    """After the migration chart: the biggest movement and the flows in and out, in words,
    then the size of each segment before and after with its flows. Returns the flows
    (``result.migration.table``)."""
    migration = result.transitions
    if migration is None:
        return None
    flows, move = migration.flows, migration.biggest
    new_part = (
        _t(
            ctx,
            "migration.new_part",
            n=ctx.number(flows["new"]),
            to=_seg(result, flows["new_to"]),
        )
        if flows["new"]
        else _t(ctx, "migration.new_none")
    )
    gone_part = (
        _t(
            ctx,
            "migration.gone_part",
            scheme=result.scheme,
            n=ctx.number(flows["gone"]),
            source=_seg(result, flows["gone_from"]),
        )
        if flows["gone"]
        else _t(ctx, "migration.gone_none", scheme=result.scheme)
    )
    values = dict(
        previous=result.previous_period,
        stayed=_pct(flows["stayed_share"]),
        new_part=new_part,
        gone_part=gone_part,
    )
    if move is None:
        ctx.takeaway(f"{P}.migration.takeaway_none", **values)
    else:
        ctx.takeaway(
            f"{P}.migration.takeaway",
            count=ctx.number(move["count"]),
            share=_pct(move["share"]),
            source=_seg(result, move["source"]),
            target=_seg(result, move["target"]),
            **values,
        )
    # the matrix in numbers: size of each segment before and after, and the flows
    order = (
        "previous_active",
        "stayed",
        "moved_in",
        "new_in",
        "moved_out",
        "gone_out",
        "current_active",
        "net",
    )
    table = migration.table
    shown = pd.DataFrame(
        {_t(ctx, "col.segment"): [_seg_label(ctx, result, s) for s in table.index]}
    )
    for column in order:
        values_ = table[column].to_numpy()
        shown[_t(ctx, f"col.{column}")] = (
            [f"{v:+,d}" for v in values_] if column == "net" else values_
        )
    ctx.show(ui.table(shown))
    return table


# --------------------------------------------------------------------------- strategy


def strategy_section(ctx: ReportContext, result: SegmentationResult) -> pd.DataFrame | None:
    """Segment -> recommended action: the playbook's ``clustering_segment`` entry of the
    segment's profile rule (see :data:`analysis.playbook.CLUSTERING_RULES`). Returns
    ``result.strategy`` (rule, playbook vocabulary and key, priority)."""
    if result.model is None:
        return None
    ctx.heading(f"{P}.strategy.title")
    complaints = result.features.get("complaints")
    has_complaints = complaints is not None and bool(complaints.fillna(0).gt(0).any())
    _say(
        ctx,
        result,
        "strategy.intro",
        z=result.rule_z,
        complaints_rule=_t(ctx, "strategy.complaints_rule") if has_complaints else "",
    )
    sep = _t(ctx, "separator")
    c = {
        k: _t(ctx, f"col.{k}")
        for k in ("segment_customers", "why", "priority", "objective", "action", "channel_offer")
    }
    rows = []
    for s in result.segments:
        rule = result.rules.loc[s]
        action = result.actions[s]
        rows.append(
            {
                c["segment_customers"]: _t(
                    ctx,
                    "strategy.segment",
                    label=_seg_label(ctx, result, s),
                    n=ctx.number(int(result.profile.loc[s, "n_customers"])),
                ),
                c["priority"]: _priority(ctx, action.priority),
                c["why"]: _t(
                    ctx,
                    f"rule.{rule['rule']}",
                    scheme=result.scheme,
                    z=round(float(rule["z"]), 1) + 0.0,
                ),
                c["objective"]: action.objective,
                c["action"]: action.action_text(sep),
                c["channel_offer"]: _t(
                    ctx, "strategy.channel_offer", channel=action.channel, offer=action.offer
                ),
            }
        )
    ctx.show(ui.table(pd.DataFrame(rows)))
    if result.k == 1:
        link = ctx.link("value", "report_value.rfm.title", _t(ctx, "link.value_rfm"))
        ctx.show(_with_link(_t(ctx, "strategy.one"), link, "sr-small"))
    focus = result.focus
    if focus is not None:
        ctx.takeaway(
            f"{P}.strategy.takeaway",
            count=len(focus["segments"]),
            k=result.k,
            n=ctx.number(focus["n_customers"]),
            share=_pct(focus["customer_share"]),
            revenue=_pct(focus["revenue_share"]),
            period=result.period,
            first=_t(ctx, "list_separator").join(
                _t(ctx, "strategy.first", name=_seg(result, s), share=_pct(share))
                for s, share in zip(focus["first"], focus["first_shares"], strict=True)
            ),
        )
    else:
        ctx.takeaway(f"{P}.strategy.takeaway_no_high")
    accounts = [kind for kind in ACCOUNT_TYPES if kind in result.available]
    if accounts:  # only where the unit has such customers
        which = accounts[0] if len(accounts) == 1 else "both"
        note = _t(ctx, "strategy.note_accounts", accounts=_t(ctx, f"strategy.accounts.{which}"))
        link = ctx.link("value", "report_value.playbook.title", _t(ctx, "link.value_playbook"))
        ctx.show(_with_link(note, link, "sr-small"))
    else:
        ctx.show(ui.paragraph(_t(ctx, "strategy.note"), "sr-small"))
    return result.strategy


# --------------------------------------------------------------------------- export


def export_section(ctx: ReportContext, result: SegmentationResult) -> Path:
    """Write ``exports/segments.csv`` (``result.export``: one row per segmented customer,
    real ids) and say what it holds."""
    frame = result.export
    path = ctx.export(frame, "segments.csv")
    ctx.heading(f"{P}.export.title")
    if frame.empty:
        ctx.note(f"{P}.export.empty", "info")
        return path
    intro = _t(ctx, "export.intro", n=ctx.number(len(frame)), end=_date(ctx.language, result.as_of))
    ctx.show(_with_link(intro, ctx.export_link("segments.csv", "exports/segments.csv")))
    columns = _t(ctx, "list_separator").join(str(c) for c in frame.columns)
    ctx.show(ui.paragraph(_t(ctx, "export.columns", columns=columns), "sr-small"))
    counts = result.kpis["customers"].reindex(result.segments, fill_value=0)  # one row each
    c = {k: _t(ctx, f"col.{k}") for k in ("segment", "customers", "priority")}
    ctx.show(
        ui.table(
            pd.DataFrame(
                {
                    c["segment"]: [_seg_label(ctx, result, s) for s in result.segments],
                    c["customers"]: counts.to_numpy(),
                    c["priority"]: [
                        _priority(ctx, result.actions[s].priority) for s in result.segments
                    ],
                }
            )
        )
    )
    high = result.focus["n_customers"] if result.focus is not None else 0
    ctx.takeaway(f"{P}.export.takeaway", n=ctx.number(len(frame)), high=ctx.number(high))
    return path

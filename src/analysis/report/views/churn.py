"""Sections and charts of the "Churn causes and early warning" report (issue #6).

The numbers come from :func:`analysis.pipelines.churn.build`, a frozen
:class:`~analysis.pipelines.churn.ChurnResult`; every section takes the context and that
result and only displays. Sections show the text and tables; the charts are public
plotting functions (``plot_forest``, ``plot_gains``, ``plot_calibration``,
``plot_importance``, ``plot_dependence``, ``plot_survival``, ``plot_reasons``) that the
notebook draws in its own cells, so an analyst changes a chart there. A section returns
the part of the result its chart draws, or None when there is nothing to draw (then it
has said why). Whatever the data, the report renders: too few customers, too little
history, no churners, only churners, a single class in the test snapshot and perfectly
separating features each give a plain statement where a chart or model would have been.

The report is written for a manager first (issue #17): :func:`kpi_section` is a one-screen
overview (the unit's four churn figures, findings, where to act), then who to contact
(:func:`early_warning_section`), what goes with churn, stated reasons, survival and the
definition. The diagnostics follow ``ctx.appendix()``, folded in the HTML:
:func:`drivers_detail_section` (every term of the cause model, collinearity, the fit),
:func:`model_section`, :func:`dependence_section`, :func:`hazards_section` and
:func:`snapshots_section`; their headings are level 3, so the contents stay short.
Statistical terms on the manager's pages carry a plain name (``common.term.*``).
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, Locator, NullLocator

from ... import churn, lifecycle, plots
from ... import display as ui
from ...figures import UnitFigures
from ...i18n import catalog, t
from ...pipelines.churn import HAZARD_MIN_EVENTS, ChurnResult
from ...playbook import data_available
from ..context import ReportContext
from ..wording import billed, describes_absent_data

P = "report_churn"
#: The early-warning list for the CRM (real customer ids), written by the list section.
EXPORT = "churn_risk.csv"
_RED, _GREEN, _GREY = "#c73e1d", "#3b8b5a", "#9aa5b1"
#: Candidate tick sets of the odds-ratio axis, densest first; :class:`RatioLocator` takes
#: the densest whose labels do not touch at the drawn width.
_DECADES = [10.0**e for e in range(-3, 4)]
_RATIO_TICK_SETS = (
    (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50, 100),
    tuple(sorted({round(d * m, 6) for d in _DECADES for m in (1, 2, 5)})),
    tuple(sorted({round(d * m, 6) for d in _DECADES for m in (1, 3)})),
    tuple(_DECADES),
    (0.001, 0.01, 1, 100, 1000),
    (0.001, 1, 1000),
)
_PCT = FuncFormatter(lambda v, _: f"{v:.0f}%")


# --------------------------------------------------------------------------- wording
def _t(ctx: ReportContext, key: str, **values: object) -> str:
    return ctx._(f"{P}.{key}", **values)


def _m(language: str, key: str, **values: object) -> str:
    """A report message in ``language`` (for charts, which take a language, not a ctx)."""
    return t(f"{P}.{key}", language, **values)


def _date(ctx: ReportContext, ts: pd.Timestamp | None) -> str:
    return ui.fmt_date(ts, ctx.language) if ts is not None else "–"


def _pts(ctx: ReportContext, change: float) -> str:
    return _t(ctx, "unit.pct_points_signed", value=100 * change)


def _fmt_p(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "–"
    if p < 0.001:
        return "< 0.001"
    shown = f"{p:.3f}"
    if (float(shown) < 0.05) != (p < 0.05):
        shown = f"{p:.4f}"
    return shown


def _fmt_auc(value: float) -> str:
    return f"{value:.3f}" if value is not None and math.isfinite(value) else "–"


def _stage_label(language: str, stage: object) -> str:
    return lifecycle.stage_label(str(stage), language)


def _type_label(language: str, value: object) -> str:
    return churn.level_label("customer_type", value, language)


def _reason_label(language: str, reason: str) -> str:
    key = f"{P}.reason.{reason}"
    names = catalog(language)
    return names[key] if key in names else str(reason)


def _importance_label(language: str, feature: str, scheme: str | None = None) -> str:
    if feature.startswith("share_cat_"):
        return _m(language, "feature.share_cat", name=feature.removeprefix("share_cat_"))
    if feature.startswith("share_ch_"):
        return _m(language, "feature.share_ch", name=feature.removeprefix("share_ch_"))
    return churn.feature_label(feature, language, scheme=scheme)


def _plain(text: object) -> str:
    """Data text for a chart label: ``$`` would start matplotlib mathtext."""
    return str(text).replace("$", r"\$")


def _ax(ax: Axes | None) -> Axes:
    return ax if ax is not None else plt.gca()


def _gap(ctx: ReportContext) -> str:
    """What separates a sentence from the link after it: a space, none in Chinese."""
    return "" if ctx.language == "zh" else " "


def _subheading(ctx: ReportContext, key: str) -> None:
    """A heading inside the appendix: level 3, so the contents list only the appendix, with
    the anchor of its message key (links to it still find it)."""
    ctx.show(ui.heading(ctx._(key), level=3, anchor=ui.section_anchor(key)))


def _statement(ctx: ReportContext, result: ChurnResult) -> bool:
    """Say why there is no model (once, in the first model section); True when shown."""
    if result.status == "ok":
        return False
    values = dict(
        n=ctx.number(result.n_customers),
        minimum=int(result.options["min_customers"]),
        days=result.window.days,
        unit=ctx.unit_label,
        period=str(ctx.period),
    )
    if result.snapshots is not None and result.snapshots.labelled is not None:
        values["snapshot"] = _date(ctx, result.fit_snapshot or result.snapshots.labelled)
    else:
        values["snapshot"] = "–"
    if result.fit_frame is not None:
        values["n"] = ctx.number(len(result.fit_frame))
    ctx.note(f"{P}.status.{result.status}", "warning", **values)
    return True


# --------------------------------------------------------------------------- sections
def kpi_section(
    ctx: ReportContext, result: ChurnResult, figures: UnitFigures | None = None
) -> dict[str, float] | None:
    """The overview that opens the report, on one screen: the unit's four churn figures
    as cards (churned this period, churn rate, high-risk customers, value at risk; the
    same values, names and formats as in every other report, from ``figures``, by
    default :meth:`ReportContext.figures`), up to four findings in plain words and where
    to act (the early-warning list, its export, the value and satisfaction reports)."""
    ctx.heading(f"{P}.kpis.title")
    if result.status == "no_orders":
        ctx.note(f"{P}.status.no_orders", "warning", unit=ctx.unit_label, period=str(ctx.period))
        return None
    figures = figures if figures is not None else ctx.figures()
    language = ctx.language
    cur, prev = result.current, result.previous
    vs = ctx._("common.vs_previous", period=str(ctx.previous))
    comparable = prev is not None and prev.base > 0 and cur.base > 0
    rate_change = cur.rate - prev.rate if comparable else None

    def relative(a: float, b: float) -> float | None:
        return (a - b) / b if comparable and b else None

    cards = [
        ui.KPI(
            figures.label("churned_customers", language),
            figures.text("churned_customers", language),
            relative(cur.churned, prev.churned if prev else 0),
            vs,
            higher_is_better=False,
            figure="churned_customers",
        ),
        ui.KPI(
            figures.label("churn_rate", language),
            figures.text("churn_rate", language),
            rate_change,
            vs if comparable else ctx._("common.no_comparison"),
            higher_is_better=False,
            change_text=_pts(ctx, rate_change) if rate_change is not None else None,
            figure="churn_rate",
        ),
    ]
    at_risk = None
    if result.warning_list is not None:
        at_risk = figures.value("value_at_risk")
        cards.append(
            ui.KPI(
                figures.label("high_risk_customers", language),
                figures.text("high_risk_customers", language),
                figure="high_risk_customers",
            )
        )
        cards.append(
            ui.KPI(
                figures.label("value_at_risk", language),
                figures.text("value_at_risk", language),
                figure="value_at_risk",
            )
        )
    ctx.show(ui.kpi_cards(cards))
    findings = [_rate_finding(ctx, result, figures, rate_change, relative)]
    if at_risk is not None:
        findings.append(
            _t(
                ctx,
                "kpis.takeaway_risk",
                value=figures.text("value_at_risk", language),
                n=ctx.number(len(result.warning_list)),
                high=figures.text("high_risk_customers", language),
                threshold=ui.fmt_pct(result.high_risk, decimals=0),
                basis=_t(ctx, f"kpi.value_basis_{result.value_source}"),
            )
        )
    findings += [f for f in (_drivers_finding(ctx, result), _reasons_finding(ctx, result)) if f]
    ctx.show(ui.points(findings[:4]))
    ctx.show(ui.links(_t(ctx, "overview.act"), _where_to_act(ctx, result)))
    return {
        "rate": cur.rate,
        "previous_rate": prev.rate if prev else float("nan"),
        "churned": cur.churned,
        "revenue_lost": cur.revenue_lost,
        "value_at_risk": at_risk if at_risk is not None else float("nan"),
    }


def _rate_finding(
    ctx: ReportContext,
    result: ChurnResult,
    figures: UnitFigures,
    rate_change: float | None,
    relative: Any,
) -> str:
    """The period's churn in one sentence: rate, count, change and the revenue they took."""
    cur, prev = result.current, result.previous
    if cur.base == 0:
        return _t(ctx, "kpis.takeaway_no_base", period=str(ctx.period))
    if rate_change is None:
        change = _t(ctx, "kpis.change_none", previous=str(ctx.previous))
    else:
        direction = "up" if rate_change > 0 else ("down" if rate_change < 0 else "flat")
        change = _t(
            ctx,
            f"kpis.change_{direction}",
            size=_t(ctx, "unit.pct_points", value=abs(100 * rate_change)),
            previous=str(ctx.previous),
        )
    lost_change = relative(cur.revenue_lost, prev.revenue_lost if prev else 0)
    return _t(
        ctx,
        "kpis.takeaway" if lost_change is None else "kpis.takeaway_lost_change",
        period=str(ctx.period),
        rate=figures.text("churn_rate", ctx.language),
        churned=figures.text("churned_customers", ctx.language),
        base=ctx.number(cur.base),
        change=change,
        lost=ctx.money(cur.revenue_lost),
        lost_change=ui.fmt_pct(lost_change, signed=True) if lost_change is not None else "",
        previous=str(ctx.previous),
    )


def _drivers_finding(ctx: ReportContext, result: ChurnResult) -> str | None:
    """The two attributes most clearly associated with churn, in plain words."""
    if result.status != "ok" or result.drivers is None:
        return None
    forest = forest_table(result.drivers.summary, ctx.language, scheme=result.scheme)
    top = forest.loc[forest["significant"] & forest["identified"]].head(2)
    if top.empty:
        return _t(ctx, "overview.drivers_none")
    items = _t(ctx, "separator_list").join(
        _t(
            ctx,
            "overview.driver_more" if r > 1 else "overview.driver_less",
            label=label,
            ratio=fmt_ratio(r),
        )
        for label, r in zip(top["label"], top["odds_ratio"], strict=True)
    )
    return _t(ctx, "overview.drivers", items=items, term=ctx._("common.term.odds_ratio"))


def _reasons_finding(ctx: ReportContext, result: ChurnResult) -> str | None:
    """The most common stated reason for leaving, when churners state them."""
    reasons = result.reasons
    if reasons is None or reasons.empty:
        return None
    return _t(
        ctx,
        "overview.reason",
        top=_reason_label(ctx.language, reasons["reason"].iloc[0]),
        share=ui.fmt_pct(float(reasons["share"].iloc[0]), decimals=0),
    )


def _where_to_act(ctx: ReportContext, result: ChurnResult) -> list[tuple[str, str]]:
    """Links from the overview: this report's list and its export, the playbook of the
    value report and (with a survey) what drives satisfaction."""
    items = []
    if result.warning_list is not None:
        items.append((_t(ctx, "overview.act_list"), "#" + ui.section_anchor(f"{P}.list.title")))
    items.append((_t(ctx, "overview.act_export", name=EXPORT), ui.export_href(EXPORT)))
    items.append(
        (
            _t(ctx, "overview.act_value", report=ctx._("report.value.title")),
            ui.report_href("value", "report_value.playbook.title"),
        )
    )
    if ctx.data.survey_responses is not None and len(ctx.data.survey_responses):
        items.append(
            (
                _t(ctx, "overview.act_satisfaction", report=ctx._("report.satisfaction.title")),
                ui.report_href("satisfaction", "report_satisfaction.drivers.title"),
            )
        )
    return items


def definition_section(ctx: ReportContext, result: ChurnResult) -> None:
    """How churn is defined: the window (and where it came from), the churn rate of the
    cards, and how the models were checked (the snapshots are in the appendix:
    :func:`snapshots_section`)."""
    ctx.heading(f"{P}.definition.title")
    if result.status == "no_orders":
        return
    w = result.window
    ctx.text(
        f"{P}.kpis.intro_{result.definition}",
        period=str(ctx.period),
        days=w.days,
        previous=str(ctx.previous),
    )
    if result.definition == "contractual":
        ctx.text(f"{P}.definition.contractual", days=w.days)
    else:
        ctx.text(f"{P}.definition.noncontractual", days=w.days)
    scheme = result.scheme  # analysis.figures.wording_scheme
    if w.source == "gaps":
        ctx.text(
            billed(ctx.language, f"{P}.definition.window_gaps", scheme),
            days=w.days,
            pct=f"{100 * w.quantile:.0f}",
            n=ctx.number(w.n_gaps),
            raw=f"{w.gap_quantile_days:.0f}",
        )
        if w.clipped:
            ctx.note(
                f"{P}.definition.window_clipped",
                "info",
                raw=f"{w.gap_quantile_days:.0f}",
                low=result.options["window_min_days"],
                high=result.options["window_max_days"],
            )
    elif w.source == "fallback":
        key = billed(ctx.language, f"{P}.definition.window_fallback", scheme)
        ctx.note(key, "info", days=w.days, n=ctx.number(w.n_gaps))
    else:
        ctx.text(f"{P}.definition.window_param", days=w.days)
    _validation_statement(ctx, result)


def snapshots_section(ctx: ReportContext, result: ChurnResult) -> pd.DataFrame | None:
    """Appendix: the snapshots the models were trained, tested and scored on, and why no
    attribute sees the future."""
    snaps = result.snapshots
    if result.status == "no_orders" or snaps is None:
        return None
    _subheading(ctx, f"{P}.snapshots.title")
    w = result.window
    rows = []
    for role, ts, frame in (
        ("train", snaps.train, result.train),
        ("test", snaps.test, result.test),
        ("score", snaps.score, result.score),
    ):
        if ts is None:
            continue
        labelled = frame is not None and "churned" in frame.columns
        rows.append(
            {
                _t(ctx, "col.snapshot"): _t(ctx, f"snapshot.{role}"),
                _t(ctx, "col.date"): _date(ctx, ts),
                _t(ctx, "col.customers"): ctx.number(len(frame)) if frame is not None else "–",
                _t(ctx, "col.churn_rate"): ui.fmt_pct(float(frame["churned"].mean()))
                if labelled and len(frame)
                else "–",
                _t(ctx, "col.label_window"): _t(
                    ctx,
                    "snapshot.window",
                    start=_date(ctx, ts),
                    end=_date(ctx, ts + pd.Timedelta(days=w.days - 1)),
                )
                if role != "score"
                else _t(ctx, "snapshot.future"),
            }
        )
    table = pd.DataFrame(rows)
    ctx.show(ui.table(table))
    ctx.text(
        f"{P}.definition.no_leakage_{result.definition}",
        lookback=int(result.options["lookback_days"]),
    )
    return table


def _validation_statement(ctx: ReportContext, result: ChurnResult) -> None:
    """How the models were checked, from :attr:`ChurnResult.validation_kind`, the one
    source the model section's table and text also read."""
    if not result.modelled:
        return
    snaps, kind = result.snapshots, result.validation_kind
    if kind == "out_of_time":
        ctx.text(
            f"{P}.definition.checked_out_of_time",
            train=_date(ctx, snaps.train),
            test=_date(ctx, snaps.test),
        )
    elif kind == "holdout" and snaps.out_of_time:
        ctx.text(
            f"{P}.definition.checked_holdout_train_unusable",
            train=_date(ctx, snaps.train),
            test=_date(ctx, result.fit_snapshot),
        )
    elif kind == "holdout":
        ctx.note(f"{P}.definition.no_out_of_time", "info", days=result.window.days)
    else:
        ctx.text(f"{P}.definition.checked_none")


def drivers_section(ctx: ReportContext, result: ChurnResult) -> pd.DataFrame | None:
    """What goes with churn, for a manager: the strongest associations in sentences, how
    to read them and which attributes were tested; the full table of the cause model is
    in the appendix (:func:`drivers_detail_section`).

    Returns
    -------
    DataFrame or None
        The terms to draw with :func:`plot_forest`: those clearly associated with churn
        (p < 0.05, strongest first; every identified term when none is), with ``label``
        and ``significant``; None without a model.
    """
    ctx.heading(f"{P}.drivers.title")
    if result.status == "no_orders":
        return None
    if _statement(ctx, result):
        return None
    d = result.drivers
    ctx.text(
        f"{P}.drivers.intro",
        n=ctx.number(d.n_),
        churned=ctx.number(d.n_churned_),
        snapshot=_date(ctx, result.fit_snapshot),
        days=result.window.days,
        term=ctx._("common.term.odds_ratio"),
    )
    summary = forest_table(d.summary, ctx.language, scheme=result.scheme)
    readings, fit_notes = _driver_sentences(ctx, result)
    for sentence in readings:
        ctx.show(ui.paragraph(sentence))
    # the legend's example names complaints only when the model has them
    legend = _t(
        ctx, "drivers.legend" if "complaints" in result.features else "drivers.legend_plain"
    )
    appendix = ui.link(ctx._("common.appendix.title"), "#sec-appendix")
    ctx.show(ui.block(f'<p class="sr-small">{ui.esc(legend)}{_gap(ctx)}{appendix}</p>'))
    for sentence in result.attributes.sentences(ctx.language):  # churn.attributes: auto
        ctx.show(ui.paragraph(sentence, "sr-small"))
    if "no_satisfaction_column" in result.notes:
        ctx.show(
            ui.paragraph(
                _t(ctx, "drivers.no_satisfaction_column", column=result.satisfaction_column),
                "sr-small",
            )
        )
    top = summary.loc[summary["significant"]].head(2)
    if top.empty:
        ctx.takeaway(f"{P}.drivers.takeaway_none")
    else:
        ctx.takeaway(
            f"{P}.drivers.takeaway",
            drivers=_t(ctx, "separator_list").join(
                _t(ctx, "drivers.item", label=label, ratio=f"{r:.2f}")
                for label, r in zip(top["label"], top["odds_ratio"], strict=True)
            ),
            term=ctx._("common.term.odds_ratio"),
        )
    drawn = summary.loc[summary["identified"].to_numpy(dtype=bool)]
    if drawn.empty:
        return None
    clear = drawn.loc[drawn["significant"].to_numpy(dtype=bool)]
    return clear if not clear.empty else drawn


def _driver_sentences(ctx: ReportContext, result: ChurnResult) -> tuple[list[str], list[str]]:
    """:meth:`ChurnDrivers.sentences` split into what a manager reads (the strongest
    associations and the caveats that change their reading) and the notes on the fit
    itself (a penalised fit, strongly overlapping inputs) for the appendix."""
    d = result.drivers
    sentences = d.sentences(ctx.language, scheme=result.scheme)
    fit = {t("churn.sentence.penalised", ctx.language)}
    if (d.vif_["vif"] > 10).any() and sentences:  # the high-VIF note comes last
        fit.add(sentences[-1])
    return [s for s in sentences if s not in fit], [s for s in sentences if s in fit]


def drivers_detail_section(ctx: ReportContext, result: ChurnResult) -> pd.DataFrame | None:
    """Appendix: every term of the cause model (logistic regression) with its odds ratio,
    interval and p-value, the collinearity check, the notes on the fit and the columns
    left out. Returns the table as shown, or None without a model."""
    if result.status != "ok" or result.drivers is None:
        return None
    d = result.drivers
    _subheading(ctx, f"{P}.drivers_detail.title")
    summary = forest_table(d.summary, ctx.language, scheme=result.scheme)
    identified = summary["identified"].to_numpy(dtype=bool)
    readings = [
        _t(ctx, "drivers.not_identified")
        if not ok
        else (
            _t(ctx, "drivers.more" if r > 1 else "drivers.less")
            if sig
            else _t(ctx, "drivers.unclear")
        )
        for r, sig, ok in zip(
            summary["odds_ratio"], summary["significant"], identified, strict=True
        )
    ]
    shown = pd.DataFrame(
        {
            _t(ctx, "col.attribute"): summary["label"].to_numpy(),
            _t(ctx, "col.per"): [_per_text(ctx, row) for _, row in summary.iterrows()],
            _t(ctx, "col.odds_ratio"): [fmt_ratio(v) for v in summary["odds_ratio"]],
            _t(ctx, "col.interval"): [
                interval_text(lo, hi) if ok else _t(ctx, "drivers.interval_not_identified")
                for lo, hi, ok in zip(
                    summary["ci_low"], summary["ci_high"], identified, strict=True
                )
            ],
            _t(ctx, "col.p_value"): [_fmt_p(p) for p in summary["p_value"]],
            _t(ctx, "col.reading"): readings,
        }
    )
    ctx.text(f"{P}.drivers_detail.intro", n=ctx.number(d.n_))
    ctx.show(ui.table(shown, muted_rows=~summary["significant"].to_numpy(), max_rows=200))
    _, fit_notes = _driver_sentences(ctx, result)
    for sentence in fit_notes:
        ctx.show(ui.paragraph(sentence, "sr-small"))
    largest = float(d.vif_["vif"].max()) if not d.vif_.empty else 1.0
    if largest <= 10:
        key = "drivers.vif_ok" if largest < 5 else "drivers.vif_moderate"
        ctx.show(ui.paragraph(_t(ctx, key, largest=f"{largest:.1f}"), "sr-small"))
    # near-aliases are explained by the model's sentences; the rest are listed here
    # a measure of data the unit lacks (a return rate without returns) is not news
    available = data_available(ctx.data.orders, ctx.data.interactions, ctx.data.customers)
    dropped = {
        k: v
        for k, v in d.dropped_.items()
        if v not in ("aliased", "combination") and not describes_absent_data(k, available)
    }
    if dropped:
        ctx.show(
            ui.paragraph(
                _t(
                    ctx,
                    "drivers.dropped",
                    items=_t(ctx, "separator_list").join(
                        f"{churn.feature_label(k, ctx.language, scheme=result.scheme)} "
                        f"({_t(ctx, f'dropped.{v}')})"
                        for k, v in dropped.items()
                    ),
                ),
                "sr-small",
            )
        )
    return shown


def forest_table(
    summary: pd.DataFrame, language: str = "en", *, scheme: str | None = None
) -> pd.DataFrame:
    """:attr:`ChurnDrivers.summary` in reading order for the table and :func:`plot_forest`:
    significant terms first, strongest first, with ``label`` (the term in words, in bills
    for ``scheme="subscription"``), ``significant`` (p < 0.05) and ``strength``
    (|log odds ratio|)."""
    out = summary.copy()
    if "identified" not in out:
        out["identified"] = np.isfinite(out["odds_ratio"].to_numpy(dtype=float))
    out["strength"] = np.abs(np.log(out["odds_ratio"]))
    out["significant"] = out["p_value"] < 0.05
    out = out.sort_values(
        ["significant", "strength"], ascending=[False, False], kind="mergesort"
    ).reset_index(drop=True)
    out["label"] = [churn.term_label(summary, f, language, scheme=scheme) for f in out["feature"]]
    return out


def _per_text(ctx: ReportContext, row: pd.Series) -> str:
    if row["kind"] == "numeric":
        return _t(
            ctx, "drivers.per_sd", sd=churn.sd_text(str(row["source"]), row["sd"], ctx.language)
        )
    if row["kind"] == "missing":
        return _t(ctx, "drivers.per_missing")
    return _t(
        ctx,
        "drivers.per_level",
        reference=churn.level_label(str(row["source"]), row["reference"], ctx.language),
    )


def fmt_ratio(value: float) -> str:
    """An odds or hazard ratio for a table: two decimals, ``< 0.01`` below, whole numbers
    with separators from 100 on, ``–`` when unknown."""
    if value is None or not math.isfinite(value):
        return "–"
    if value < 0.005:
        return "< 0.01"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def interval_text(low: float, high: float) -> str:
    """A 95% interval of a ratio (``0.23 – 0.41``), with :func:`fmt_ratio`'s numbers."""
    return f"{fmt_ratio(low)} – {fmt_ratio(high)}"


class RatioLocator(Locator):
    """Ticks of a log-scale ratio axis whose labels never overlap.

    At draw time (when the axis has its final width) it takes the densest of the
    candidate sets (1, 2, 3, 5 ... per decade, down to one tick every three decades)
    whose labels, at the tick label font size, leave at least half a character of space
    between neighbours. The width of a label is estimated from its characters (digits
    and the point are at most 0.64 em wide in the fonts matplotlib ships).
    """

    def __init__(self, tick_sets: tuple[tuple[float, ...], ...] = _RATIO_TICK_SETS) -> None:
        self.tick_sets = tick_sets

    def __call__(self) -> list[float]:
        low, high = self.axis.get_view_interval()
        return self.tick_values(low, high)

    def tick_values(self, vmin: float, vmax: float) -> list[float]:
        low, high = sorted((float(vmin), float(vmax)))
        low = max(low, 1e-12)
        axes = self.axis.axes if self.axis is not None else None
        width_px, font_px = 600.0, 10.0
        if axes is not None and axes.figure is not None:
            width_px = max(float(axes.get_window_extent().width), 1.0)
            ticks = self.axis.get_major_ticks(1)
            size = ticks[0].label1.get_fontsize() if ticks else plt.rcParams["xtick.labelsize"]
            font_px = float(size if isinstance(size, int | float) else 10.0) * axes.figure.dpi / 72
        span = math.log(high) - math.log(low)
        chosen: list[float] = [1.0] if low <= 1 <= high else []
        for candidates in self.tick_sets:
            ticks = [v for v in candidates if low <= v <= high]
            if len(ticks) < 2:
                continue
            x = [width_px * (math.log(v) - math.log(low)) / span for v in ticks]
            half = [0.5 * 0.64 * font_px * len(f"{v:g}") for v in ticks]
            gaps_ok = all(
                x[i + 1] - x[i] >= half[i] + half[i + 1] + 0.5 * font_px
                for i in range(len(ticks) - 1)
            )
            chosen = ticks
            if gaps_ok:
                break
        return chosen


def plot_forest(
    forest: pd.DataFrame, *, language: str = "en", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Odds ratios with their 95% intervals on a log axis (a forest plot).

    Terms the data cannot pin down (``identified`` False: no estimate) are not drawn;
    intervals beyond 0.001 or 1000 are cut at the axis. Tick labels never overlap
    (:class:`RatioLocator`), however wide the range.

    Parameters
    ----------
    forest
        :func:`forest_table` (the return value of :func:`drivers_section`): ``label``,
        ``odds_ratio``, ``ci_low``, ``ci_high`` and ``significant``; drawn top to bottom.
    language
        Language of the axis texts.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to the point markers (``Axes.scatter``).

    Returns
    -------
    Axes
    """
    ax = _ax(ax)
    ratio_all = forest["odds_ratio"].to_numpy(dtype=float)
    keep = np.isfinite(ratio_all)
    if "identified" in forest:
        keep &= forest["identified"].to_numpy(dtype=bool)
    forest = forest.loc[keep]
    n = len(forest)
    y = np.arange(n)[::-1]
    ratio = forest["odds_ratio"].to_numpy(dtype=float)
    low = np.clip(forest["ci_low"].to_numpy(dtype=float), 1e-3, 1e3)
    high = np.clip(forest["ci_high"].to_numpy(dtype=float), 1e-3, 1e3)
    significant = (
        forest["significant"] if "significant" in forest else forest["p_value"] < 0.05
    ).to_numpy(dtype=bool)
    colours = [
        (_RED if r > 1 else _GREEN) if sig else _GREY
        for r, sig in zip(ratio, significant, strict=True)
    ]
    ax.hlines(y, low, high, colors=colours, lw=2)
    ax.scatter(np.clip(ratio, 1e-3, 1e3), y, **{"c": colours, "s": 46, "zorder": 3, **kwargs})
    ax.axvline(1.0, color="#555555", lw=1, ls="--")
    ax.set_xscale("log")
    lo = min(low.min(initial=1.0), 1 / 1.2)
    hi = max(high.max(initial=1.0), 1.2)
    ax.set_xlim(lo / 1.15, hi * 1.15)
    ax.xaxis.set_major_locator(RatioLocator())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_yticks(y, [_plain(v) for v in forest["label"]])
    ax.set_xlabel(_m(language, "drivers.axis"))
    ax.set_title(_m(language, "drivers.chart"))
    ax.grid(axis="y", visible=False)
    return ax


def forest_height(forest: pd.DataFrame) -> float:
    """Figure height (inches) that gives each drawn term of :func:`plot_forest` its row."""
    drawn = int(forest["identified"].sum()) if "identified" in forest else len(forest)
    return 0.42 * drawn + 1.3


def model_section(ctx: ReportContext, result: ChurnResult) -> churn.RiskEvaluation | None:
    """Appendix: model quality, the held-out AUCs (random CV beside them) and the risk
    model's calibration (what the ranking is worth is said with the list:
    :func:`early_warning_section`).

    Returns
    -------
    RiskEvaluation or None
        The risk model's evaluation to draw (:func:`plot_gains`, :func:`plot_calibration`,
        :func:`plot_importance`), or None when it cannot be measured.
    """
    _subheading(ctx, f"{P}.model.title")
    if result.status != "ok" or result.drivers is None:
        if result.status not in ("no_orders",):
            ctx.note(f"{P}.model.none", "info")
        return None
    snaps = result.snapshots
    rows = []
    if result.validation is not None:
        rows.append(("logistic", "out_of_time", result.validation.auc_))
    else:
        rows.append(("logistic", result.drivers.auc_kind_, result.drivers.auc_))
    if result.risk is not None:
        rows.append(("boosting", result.risk_kind, result.risk.auc_))
    for kind in ("logistic", "boosting"):
        mean, sd = result.cv.get(kind, (float("nan"), float("nan")))
        if math.isfinite(mean):
            rows.append((kind, "random_cv", mean))
    validated = result.validation_kind
    if validated == "out_of_time":
        refitted = result.fit_snapshot == snaps.test
        ctx.text(
            f"{P}.model.intro_oot" + ("" if refitted else "_not_refitted"),
            train=_date(ctx, snaps.train),
            test=_date(ctx, snaps.test),
            days=result.window.days,
        )
    elif validated == "holdout" and snaps.out_of_time:
        # two snapshots fit in the data, but the older one could not train the models
        ctx.text(
            f"{P}.model.intro_holdout_train_unusable",
            train=_date(ctx, snaps.train),
            test=_date(ctx, result.fit_snapshot),
        )
    elif validated == "holdout":
        ctx.text(f"{P}.model.intro_holdout")
    else:
        ctx.text(f"{P}.model.intro_none")
    table = pd.DataFrame(
        {
            _t(ctx, "col.model"): [_t(ctx, f"model.kind.{k}") for k, _, _ in rows],
            _t(ctx, "col.validation"): [_t(ctx, f"model.validation.{v}") for _, v, _ in rows],
            _t(ctx, "col.auc"): [_fmt_auc(a) for _, _, a in rows],
        }
    )
    ctx.show(ui.table(table, muted_rows=[v == "random_cv" for _, v, _ in rows]))
    ctx.text(f"{P}.model.auc_legend")
    single = "single_class_test" in result.notes or (
        result.risk is not None and "single_class_test" in result.risk.notes_
    )
    if single:
        ctx.note(f"{P}.model.single_class_test", "warning", test=_date(ctx, snaps.test))
    risk = _measured_risk(result)
    if risk is None:
        return None
    cal = risk.calibration
    if not cal.empty:
        gap = float(np.mean(np.abs(cal["predicted"] - cal["observed"])))
        key = "calibration" if gap <= 0.03 else "calibration_off"
        ctx.takeaway(f"{P}.model.{key}", gap=_t(ctx, "unit.pct_points", value=100 * gap))
    return risk


def _measured_risk(result: ChurnResult) -> churn.RiskEvaluation | None:
    """The risk model's evaluation when it could be measured (a test snapshot with
    churners and stayers), else None."""
    risk = result.risk
    single = "single_class_test" in result.notes or (
        risk is not None and "single_class_test" in risk.notes_
    )
    if result.status != "ok" or result.drivers is None or risk is None or single:
        return None
    return risk


def _ranking_takeaway(ctx: ReportContext, result: ChurnResult) -> None:
    """What contacting the list in its order is worth: the riskiest tenth's churn rate
    against the average and the share of churners the top of the list reaches."""
    risk = _measured_risk(result)
    if risk is None:
        return
    g = risk.gains
    ctx.takeaway(
        f"{P}.model.takeaway",
        auc=_fmt_auc(risk.auc_),
        lift=f"{risk.top_decile_lift_:.1f}",
        capture=ui.fmt_pct(float(g.loc[0, "cumulative_capture"]), decimals=0),
        capture3=ui.fmt_pct(float(g.loc[min(2, len(g) - 1), "cumulative_capture"]), decimals=0),
        base=ui.fmt_pct(risk.base_rate_),
        term=ctx._("common.term.auc"),
    )


def dependence_section(ctx: ReportContext, result: ChurnResult) -> dict[str, pd.DataFrame]:
    """How the risk model's prediction moves with its top numeric attributes (partial
    dependence), one panel each (drawn with :func:`plot_dependence`)."""
    risk = result.risk
    single = "single_class_test" in result.notes or (
        risk is not None and "single_class_test" in risk.notes_
    )
    if not result.modelled or risk is None or single or not risk.partial_dependence:
        return {}
    _subheading(ctx, f"{P}.model.pd_title")
    items = list(risk.partial_dependence.items())
    fig, axes = plt.subplots(1, len(items), figsize=(11, 3.2), squeeze=False, sharey=True)
    for ax, (feature, curve) in zip(axes[0], items, strict=True):
        plot_dependence(curve, feature=feature, language=ctx.language, scheme=result.scheme, ax=ax)
    fig.suptitle(_t(ctx, "model.pd_chart"), fontsize=12, fontweight="bold")
    plots.show_figure(fig)
    ctx.text(f"{P}.model.pd_legend")
    return dict(risk.partial_dependence)


def plot_gains(
    gains: pd.DataFrame, *, language: str = "en", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Cumulative gains: share of churners reached against share of customers contacted,
    highest risk first, with the random-order diagonal.

    Parameters
    ----------
    gains
        :func:`analysis.churn.gains_table` (``cumulative_share``, ``cumulative_capture``).
    language
        Language of the axis texts.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to the model's line (``Axes.plot``).

    Returns
    -------
    Axes
    """
    ax = _ax(ax)
    share = np.r_[0, gains["cumulative_share"].to_numpy(dtype=float)] * 100
    capture = np.r_[0, gains["cumulative_capture"].to_numpy(dtype=float)] * 100
    style = {"marker": "o", "ms": 4, "color": plots.PALETTE[0], **kwargs}
    ax.plot(share, capture, label=_m(language, "model.gains_model"), **style)
    ax.plot([0, 100], [0, 100], ls="--", color=_GREY, label=_m(language, "model.gains_random"))
    ax.set_xlabel(_m(language, "model.gains_x"))
    ax.set_ylabel(_m(language, "model.gains_y"))
    ax.xaxis.set_major_formatter(_PCT)
    ax.yaxis.set_major_formatter(_PCT)
    ax.set_title(_m(language, "model.gains_chart"))
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_calibration(
    calibration: pd.DataFrame, *, language: str = "en", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Observed against predicted churn rate per score band, with the diagonal of perfect
    calibration; an empty table leaves the Axes blank.

    Parameters
    ----------
    calibration
        :func:`analysis.churn.calibration_table` (``predicted``, ``observed``).
    language
        Language of the axis texts.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to the line (``Axes.plot``).

    Returns
    -------
    Axes
    """
    ax = _ax(ax)
    if calibration.empty:
        ax.axis("off")
        return ax
    top = max(float(calibration["predicted"].max()), float(calibration["observed"].max()))
    top *= 100 * 1.05
    ax.plot([0, top], [0, top], ls="--", color=_GREY)
    style = {"marker": "o", "ms": 4, "color": plots.PALETTE[2], **kwargs}
    ax.plot(100 * calibration["predicted"], 100 * calibration["observed"], **style)
    ax.set_xlabel(_m(language, "model.cal_x"))
    ax.set_ylabel(_m(language, "model.cal_y"))
    ax.xaxis.set_major_formatter(_PCT)
    ax.yaxis.set_major_formatter(_PCT)
    ax.set_title(_m(language, "model.cal_chart"))
    return ax


def plot_importance(
    importance: pd.DataFrame,
    *,
    language: str = "en",
    scheme: str | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Permutation importance (AUC lost when a column is shuffled), most important on top;
    an empty table leaves the Axes blank.

    Parameters
    ----------
    importance
        ``RiskEvaluation.importance`` (``feature``, ``importance``), e.g. its ``head(8)``.
    language
        Language of the feature names.
    scheme
        ``"subscription"`` names the features in bills (``ChurnResult.scheme``).
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to ``Axes.barh``.

    Returns
    -------
    Axes
    """
    ax = _ax(ax)
    if importance.empty:
        ax.axis("off")
        return ax
    y = np.arange(len(importance))[::-1]
    style = {"color": plots.PALETTE[1], "height": 0.6, **kwargs}
    ax.barh(y, importance["importance"].to_numpy(dtype=float), **style)
    labels = [_plain(_importance_label(language, f, scheme)) for f in importance["feature"]]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(_m(language, "model.imp_x"))
    ax.set_title(_m(language, "model.imp_chart"))
    ax.grid(axis="y", visible=False)
    return ax


def plot_dependence(
    curve: pd.DataFrame,
    *,
    feature: str,
    language: str = "en",
    scheme: str | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Partial dependence of the predicted churn probability on one attribute.

    Parameters
    ----------
    curve
        One value of ``RiskEvaluation.partial_dependence``: ``value``,
        ``churn_probability``.
    feature
        The attribute (for the axis label).
    language
        Language of the axis texts.
    ax
        Axes to draw on (default: the current Axes); the y label goes on the first column.
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    Axes
    """
    ax = _ax(ax)
    style = {"color": plots.PALETTE[0], "lw": 2, **kwargs}
    ax.plot(curve["value"], 100 * curve["churn_probability"], **style)
    ax.set_xlabel(_plain(churn.feature_label(feature, language, scheme=scheme)))
    ax.yaxis.set_major_formatter(_PCT)
    if _first_column(ax):
        ax.set_ylabel(_m(language, "model.pd_axis"))
    return ax


def _first_column(ax: Axes) -> bool:
    spec = ax.get_subplotspec()
    return spec is None or spec.is_first_col()


def survival_section(ctx: ReportContext, result: ChurnResult) -> dict[str, pd.DataFrame]:
    """Kaplan-Meier curves after a snapshot: the follow-up and the stage takeaway.

    Returns
    -------
    dict
        Panel kind (``by_stage``, ``by_type``, or ``overall`` when neither exists) -> its
        curves, to draw with :func:`plot_survival`; empty when there are none.
    """
    ctx.heading(f"{P}.survival.title")
    if result.status != "ok":
        ctx.note(f"{P}.survival.none", "info")
        return {}
    surv = result.survival
    if surv is None or surv.overall is None:
        ctx.note(f"{P}.survival.too_few", "info", minimum=int(result.options["min_customers"]))
        return {}
    table = surv.table
    ctx.text(
        f"{P}.survival.intro_{result.definition}",
        snapshot=_date(ctx, surv.snapshot),
        n=ctx.number(len(table)),
        events=ctx.number(int(table["event"].sum())),
        days=surv.horizon_days,
        window=result.window.days,
        term=ctx._("common.term.kaplan_meier"),
    )
    panels = {
        kind: curves
        for kind, curves in (("by_stage", surv.by_stage), ("by_type", surv.by_type))
        if curves is not None and not curves.empty
    } or {"overall": surv.overall}
    if surv.by_stage is not None and not surv.by_stage.empty:
        ends = surv.by_stage.groupby("group", sort=False).last()
        worst, best = ends["survival"].idxmin(), ends["survival"].idxmax()
        if len(ends) < 2 or worst == best:  # one stage: nothing to compare it with
            ctx.takeaway(
                f"{P}.survival.takeaway_one",
                days=surv.horizon_days,
                stage=_stage_label(ctx.language, worst),
                share=ui.fmt_pct(1 - float(ends.loc[worst, "survival"]), decimals=0),
            )
            return panels
        ctx.takeaway(
            f"{P}.survival.takeaway",
            days=surv.horizon_days,
            worst=_stage_label(ctx.language, worst),
            worst_share=ui.fmt_pct(1 - float(ends.loc[worst, "survival"]), decimals=0),
            best=_stage_label(ctx.language, best),
            best_share=ui.fmt_pct(1 - float(ends.loc[best, "survival"]), decimals=0),
        )
    return panels


def plot_survival(
    curves: pd.DataFrame,
    *,
    kind: str = "overall",
    language: str = "en",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Kaplan-Meier curves (share still a customer) with their 95% bands, one per group.

    Parameters
    ----------
    curves
        :func:`analysis.churn.km_curves` (``group``, ``time``, ``survival``, ``ci_low``,
        ``ci_high``, ``customers``).
    kind
        ``by_stage`` (groups are lifecycle stages), ``by_type`` (customer types) or
        ``overall``: how groups are named and the title.
    language
        Language of the texts.
    ax
        Axes to draw on (default: the current Axes); the y label goes on the first column.
    **kwargs
        Passed to the curves (``Axes.step``).

    Returns
    -------
    Axes
    """
    ax = _ax(ax)
    for i, (group, curve) in enumerate(curves.groupby("group", sort=False)):
        if kind == "by_stage":
            label = _stage_label(language, group)
        elif kind == "by_type":
            label = _type_label(language, group)
        else:
            label = _m(language, "survival.all")
        colour = plots.PALETTE[i % len(plots.PALETTE)]
        ax.step(
            curve["time"],
            100 * curve["survival"],
            where="post",
            **{"color": colour, **kwargs},
            label=_plain(f"{label} ({int(curve['customers'].iloc[0]):,})"),
        )
        ax.fill_between(
            curve["time"],
            100 * curve["ci_low"],
            100 * curve["ci_high"],
            step="post",
            color=colour,
            alpha=0.12,
            lw=0,
        )
    ax.set_xlabel(_m(language, "survival.x"))
    ax.set_title(_m(language, f"survival.chart.{kind}"))
    ax.yaxis.set_major_formatter(_PCT)
    ax.legend(fontsize=8, loc="lower left")
    if _first_column(ax):
        ax.set_ylabel(_m(language, "survival.y"))
    return ax


def hazards_section(ctx: ReportContext, result: ChurnResult) -> pd.DataFrame | None:
    """Appendix: the Cox hazard ratios of the cause-model attributes, or why there are
    none."""
    surv = result.survival
    if result.status != "ok" or surv is None or surv.overall is None:
        return None
    _subheading(ctx, f"{P}.survival.hazard_title")
    hazards = surv.hazards
    if hazards is None or hazards.empty:
        reason = surv.hazards_reason or "no_feature"
        key = "survival.no_hazards" if reason == "few_events" else f"survival.no_hazards_{reason}"
        n, events = surv.hazard_n or (0, 0)
        ctx.note(
            f"{P}.{key}",
            "info",
            n=ctx.number(n),
            events=ctx.number(events),
            minimum=HAZARD_MIN_EVENTS,
            followed=ctx.number(len(surv.table)),
            snapshot=_date(ctx, surv.snapshot),
            error=surv.hazards_error or "–",
        )
        return None
    hz = hazards.assign(strength=np.abs(np.log(hazards["hazard_ratio"])))
    hz = hz.assign(significant=hz["p_value"] < 0.05).sort_values(
        ["significant", "strength"], ascending=[False, False], kind="mergesort"
    )
    labels = [
        churn.term_label(
            hz.rename(columns={"hazard_ratio": "odds_ratio"}), f, ctx.language, scheme=result.scheme
        )
        for f in hz["feature"]
    ]
    shown = pd.DataFrame(
        {
            _t(ctx, "col.attribute"): labels,
            _t(ctx, "col.hazard_ratio"): [fmt_ratio(v) for v in hz["hazard_ratio"]],
            _t(ctx, "col.interval"): [
                interval_text(lo, hi)
                if math.isfinite(lo) and math.isfinite(hi)
                else _t(ctx, "drivers.interval_not_identified")
                for lo, hi in zip(hz["ci_low"], hz["ci_high"], strict=True)
            ],
            _t(ctx, "col.p_value"): [_fmt_p(p) for p in hz["p_value"]],
        }
    )
    ctx.show(ui.table(shown, muted_rows=~hz["significant"].to_numpy()))
    n, events = surv.hazard_n or (len(surv.table), int(surv.table["event"].sum()))
    ctx.text(f"{P}.survival.hazard_legend", n=ctx.number(n), events=ctx.number(events))
    top = hz.loc[hz["significant"]].head(1)
    if not top.empty:
        row = top.iloc[0]
        ctx.takeaway(
            f"{P}.survival.hazard_takeaway",
            feature=labels[0],
            ratio=f"{row['hazard_ratio']:.2f}",
        )
    return hazards


def reasons_section(ctx: ReportContext, result: ChurnResult) -> pd.DataFrame | None:
    """The stated churn reasons of the last 12 months (drawn with :func:`plot_reasons`)."""
    ctx.heading(f"{P}.reasons.title")
    reasons = result.reasons
    if reasons is None or reasons.empty:
        has_column = "churn_reason" in ctx.data.customers.columns
        ctx.note(f"{P}.reasons.{'none' if has_column else 'no_column'}", "info")
        return None
    end = ctx.period.end_exclusive
    total = int(reasons["customers"].sum())
    ctx.text(
        f"{P}.reasons.intro" + ("" if reasons.attrs.get("unstated", 0) else "_all_stated"),
        n=ctx.number(total),
        start=_date(ctx, end - pd.Timedelta(days=365)),
        end=_date(ctx, end - pd.Timedelta(days=1)),
        unstated=ctx.number(reasons.attrs.get("unstated", 0)),
    )
    labels = [_reason_label(ctx.language, r) for r in reasons["reason"]]
    k = int(np.searchsorted(reasons["cumulative_share"].to_numpy(), 0.8 - 1e-9) + 1)
    k = min(k, len(reasons))
    ctx.takeaway(
        f"{P}.reasons.takeaway",
        top=labels[0],
        top_share=ui.fmt_pct(float(reasons["share"].iloc[0]), decimals=0),
        k=k,
        reasons=_t(ctx, "separator_list").join(labels[:k]),
        share=ui.fmt_pct(float(reasons["cumulative_share"].iloc[k - 1]), decimals=0),
    )
    return reasons


def plot_reasons(
    reasons: pd.DataFrame, *, language: str = "en", ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Pareto chart of stated churn reasons: customers per reason (bars, with counts and
    shares) and the cumulative share (line, right axis).

    Parameters
    ----------
    reasons
        :func:`analysis.churn.reason_pareto` (``reason``, ``customers``, ``share``,
        ``cumulative_share``), most frequent first.
    language
        Language of the texts and the known reason names.
    ax
        Axes to draw on (default: the current Axes).
    **kwargs
        Passed to ``Axes.bar``.

    Returns
    -------
    Axes
        The bar Axes (the cumulative line is on its twin).
    """
    ax = _ax(ax)
    labels = [_reason_label(language, r) for r in reasons["reason"]]
    x = np.arange(len(reasons))
    ax.bar(x, reasons["customers"], **{"color": plots.PALETTE[0], "width": 0.6, **kwargs})
    for xi, count, share in zip(x, reasons["customers"], reasons["share"], strict=True):
        ax.text(xi, count, f"{int(count):,} ({share:.0%})", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [_plain(v) for v in labels])
    ax.set_ylabel(_m(language, "reasons.y"))
    ax.set_ylim(0, reasons["customers"].max() * 1.18)
    ax.grid(axis="x", visible=False)
    twin = ax.twinx()
    twin.plot(x, 100 * reasons["cumulative_share"], color=plots.PALETTE[2], marker="o", ms=4)
    twin.set_ylim(0, 105)
    twin.yaxis.set_major_formatter(_PCT)
    twin.set_ylabel(_m(language, "reasons.y2"))
    twin.grid(False)
    ax.set_title(_m(language, "reasons.chart"))
    ax.figure.sca(ax)  # twinx made the twin current; the bars stay the current Axes
    return ax


def early_warning_section(ctx: ReportContext, result: ChurnResult) -> pd.DataFrame | None:
    """Who to contact: the recommended actions with their customers and value at risk,
    every customer above the risk cut as a sortable list (pseudonymised ids), what the
    ranking is worth, and the export ``churn_risk.csv`` (real ids, sorted by value at
    risk)."""
    ctx.heading(f"{P}.list.title")
    frame = result.warning_list
    if frame is None:
        export = pd.DataFrame(columns=churn.EXPORT_COLUMNS)
        ctx.export(export, EXPORT)
        if result.status != "no_orders":
            ctx.note(f"{P}.list.none", "info")
        return export
    export = frame[churn.EXPORT_COLUMNS].copy()
    export["churn_probability"] = export["churn_probability"].round(4)
    export["value_at_risk"] = export["value_at_risk"].round(2)
    ctx.export(export, EXPORT)
    rows = int(result.options["list_rows"])
    summary = (
        frame.groupby("action", sort=False)
        .agg(customers=("customer_id", "size"), value_at_risk=("value_at_risk", "sum"))
        .sort_values("value_at_risk", ascending=False)
    )
    ctx.show(ui.heading(_t(ctx, "list.actions_title"), level=3))
    ctx.show(
        ui.table(
            pd.DataFrame(
                {
                    _t(ctx, "col.action"): summary.index,
                    _t(ctx, "col.customers"): [ctx.number(v) for v in summary["customers"]],
                    _t(ctx, "col.value_at_risk"): [ctx.money(v) for v in summary["value_at_risk"]],
                }
            )
        )
    )
    ctx.show(
        ui.paragraph(
            _t(ctx, "list.actions_legend" + ("" if result.playbook_used else "_no_playbook")),
            "sr-small",
        )
    )
    # every customer at or above the risk cut, sortable and paged (display.data_table caps
    # the page at DATA_TABLE_MAX_ROWS; the export has everyone)
    listed = frame[frame["churn_probability"] >= result.high_risk]
    ctx.show(ui.heading(_t(ctx, "list.customers_title"), level=3))
    ctx.text(
        f"{P}.list.listed" if len(listed) else f"{P}.list.listed_none",
        n=ctx.number(len(frame)),
        listed=ctx.number(len(listed)),
        rows=rows,
        cut=ui.fmt_pct(result.high_risk, decimals=0),
        value=_t(ctx, f"list.value_{result.value_source}"),
        snapshot=_date(ctx, result.snapshots.score - pd.Timedelta(days=1)),
        days=result.window.days,
    )
    top = frame.head(rows)
    total = len(listed) or len(top)
    listed = listed.head(ui.DATA_TABLE_MAX_ROWS) if len(listed) else top
    c = {k: _t(ctx, f"col.{k}") for k in ("probability", "value", "value_at_risk")}
    shown = pd.DataFrame(
        {
            _t(ctx, "col.customer"): ctx.pseudonymise(
                listed["customer_id"].astype("string")
            ).to_numpy(),
            _t(ctx, "col.stage"): [
                _stage_label(ctx.language, s) if isinstance(s, str) else "–"
                for s in listed["stage"]
            ],
            c["probability"]: listed["churn_probability"].to_numpy(dtype=float),
            c["value"]: listed["value"].to_numpy(dtype=float),
            c["value_at_risk"]: listed["value_at_risk"].to_numpy(dtype=float),
            _t(ctx, "col.reasons"): [
                _t(ctx, "separator_list").join(r for r in reasons if r) or "–"
                for reasons in listed[["reason_1", "reason_2", "reason_3"]].itertuples(index=False)
            ],
            _t(ctx, "col.action"): listed["action"].to_numpy(),
        }
    )
    money = {c["value"]: ctx.money, c["value_at_risk"]: ctx.money}
    ctx.show(
        ui.data_table(
            shown,
            id="churn-warning-list",
            page_size=rows,
            formats={c["probability"]: lambda p: ui.fmt_pct(p, decimals=0), **money},
            export=ui.export_href(EXPORT),
            language=ctx.language,
            total=total,
        )
    )
    high = result.high_risk_customers
    for item in result.shared_reasons:
        ctx.text(
            f"{P}.list.shared",
            share=ui.fmt_pct(item["share"], decimals=0),
            n=ctx.number(high),
            trait=item["text"],
        )
    total = float(frame["value_at_risk"].sum())
    top_share = float(top["value_at_risk"].sum()) / total if total > 0 else float("nan")
    decile = frame.head(max(1, len(frame) // 10))
    decile_share = float(decile["value_at_risk"].sum()) / total if total > 0 else float("nan")
    ctx.takeaway(
        f"{P}.list.takeaway",
        rows=rows,
        share=ui.fmt_pct(top_share, decimals=0),
        decile_share=ui.fmt_pct(decile_share, decimals=0),
    )
    _ranking_takeaway(ctx, result)
    text = _t(ctx, "list.export", n=ctx.number(len(export)))
    ctx.show(ui.block(f'<p class="sr-p">{ui.esc(text)}{_gap(ctx)}{ctx.export_link(EXPORT)}</p>'))
    return export


def caveats_section(ctx: ReportContext, result: ChurnResult) -> None:
    """How to read the report: associations, not causes."""
    if result.status == "no_orders":
        return
    ctx.heading(f"{P}.caveats.title")
    ctx.text(f"{P}.caveats.associations")
    ctx.text(f"{P}.caveats.use")

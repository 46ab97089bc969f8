"""Sections of the "Segmentation" report (issue #4).

KPI cards, the features and their preparation (missing values filled, features left out),
the choice of k (three internal indices over k, or the fixed k), the stability verdict, the
segment profiles (size and revenue, feature means, z-score heatmap, what sets each segment
apart), the composition by customer attributes, a 2-D map of the segments, the migration
from the previous period, the strategy table (segment -> playbook entry) and the CRM export
``segments.csv``.

:func:`prepare` fits the model once per report (:class:`SegmentationView`); every section
takes the context and that view and says what happened when the data are thin: no
customers, fewer customers than segments, constant or missing features, customers who all
look alike, or no earlier customers to compare with.

Choice of k: the report follows ``segmentation.k``. By default (null) it lets the data
choose over ``k_range`` and shows the three indices, which of them prefer which k, and a
note when the choice sits at the edge of the range; an analyst who knows how many groups
the business can treat differently fixes k in the parameters, and the report says so.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from seaborn.utils import relative_luminance

from ... import display as ui
from ... import plots
from ... import segment_report as sr
from ...features import customer_features
from ...i18n import catalog
from ...playbook import CLUSTERING_RULES, action_for, load_playbook, validate_playbook
from ...segmentation import (
    GONE,
    NEW,
    MigrationTable,
    SegmentationModel,
    distinguishing_features,
    projection_2d,
    segment_migration,
    segment_names,
    segment_profiles,
    zscore_profile,
)
from ..context import ReportContext

P = "report_segmentation"
#: Customers drawn in the 2-D map (a fixed-seed sample).
PROJECTION_SAMPLE = 3000
#: Distinguishing features listed per segment.
TOP_FEATURES = 3
#: Values shown per attribute in the composition chart (the rest is "other").
MAX_LEVELS = 6
#: Smallest number of customers behind a composition statement.
MIN_BASE = 20
#: Standardized mean differences from which a difference is "much" / not "slight".
SMD_STRONG, SMD_CLEAR = 1.2, 0.5
_LOG_TO_RAW = {
    "log_recency": "recency_days",
    "log_frequency": "frequency",
    "log_monetary": "monetary",
    "log_avg_order_value": "avg_order_value",
}
_RULE_TRAITS = ("log_recency", "log_frequency", "log_monetary", "tenure_days", "complaints")


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class SegmentationView:
    """What the sections show, computed once.

    Attributes
    ----------
    as_of, previous_as_of
        Snapshot dates (exclusive): the ends of the report period and of the previous one.
    features
        Customer features as of ``as_of``: every customer with a completed purchase before.
    model
        The fitted model; None when nobody bought before ``as_of``.
    labels, names
        Segment per customer; display name per segment.
    profile
        :func:`analysis.segmentation.segment_profiles` plus ``period_revenue`` and
        ``period_share`` (net revenue of the report period and its share).
    zscores
        Segment means of the model's numeric features as population z-scores.
    rules, actions
        The profile rule (:func:`analysis.segment_report.segment_rules`) and the playbook
        entry of each segment (``clustering_segment`` vocabulary, keyed by the rule).
    previous_labels
        The previous snapshot's customers placed in the same segments by the same model
        (None when nobody had bought by then).
    previous_revenue
        Revenue of the previous period per segment (of ``previous_labels``).
    migration
        Transitions of the customers active (a purchase in ``window_days``) at either date.
    window_days
        The activity window of the migration (``value.lookback_days``).
    name_notes
        Name overrides from the parameters that were ignored (segment ids not present).
    """

    as_of: pd.Timestamp
    previous_as_of: pd.Timestamp
    features: pd.DataFrame
    model: SegmentationModel | None
    labels: pd.Series
    names: pd.Series
    profile: pd.DataFrame
    zscores: pd.DataFrame
    rules: pd.DataFrame
    actions: dict
    playbook: dict
    previous_labels: pd.Series | None
    previous_revenue: pd.DataFrame | None
    migration: MigrationTable | None
    window_days: int
    name_notes: tuple[int, ...] = ()

    @property
    def k(self) -> int:
        return int(self.model.k_) if self.model is not None else 0

    @property
    def fixed_k(self) -> bool:
        return self.model is not None and self.model.k is not None

    @property
    def segments(self) -> list[int]:
        return list(range(self.k))

    @property
    def numeric_features(self) -> list[str]:
        """The model's numeric features (what the profiles compare)."""
        if self.model is None:
            return []
        return [
            c
            for c in self.model.features_
            if c in self.features.columns and pd.api.types.is_numeric_dtype(self.features.dtypes[c])
        ]

    @property
    def meaningful(self) -> bool:
        return self.model is not None and self.k > 1 and bool(self.model.meaningful_)


def _previous_features(ctx: ReportContext, current: pd.DataFrame, as_of) -> pd.DataFrame:
    """Features as of the previous period end with the *current* share columns, so the
    fitted model can place those customers (shared through the run cache when the top
    categories and channels are the same at both dates, recomputed otherwise)."""
    previous = ctx.customer_features(as_of)
    same = all(
        list(previous.attrs.get(key) or []) == list(current.attrs.get(key) or [])
        for key in ("categories", "channels")
    )
    if same:
        return previous
    options = ctx.params.get("features", {})
    return customer_features(
        ctx.data.orders,
        as_of,
        customers=ctx.data.customers,
        surveys=ctx.data.survey_responses,
        interactions=ctx.data.interactions,
        categories=current.attrs.get("categories"),
        channels=current.attrs.get("channels"),
        satisfaction_col=options.get("satisfaction_col", "csat"),
    )


def _with_attributes(
    features: pd.DataFrame, customers: pd.DataFrame | None, columns: list[str]
) -> pd.DataFrame:
    """Customer attributes (e.g. ``customer_type`` for k-prototypes) joined onto the
    features; a column the customers table lacks is left for the model to report."""
    present = [c for c in columns if customers is not None and c in customers and c not in features]
    if not present:
        return features
    table = customers.drop_duplicates("customer_id")
    table = table.set_axis(table["customer_id"].astype(str))[present]
    joined = features.join(table)
    joined.attrs = dict(features.attrs)
    return joined


def prepare(ctx: ReportContext) -> SegmentationView:
    """Fit the segmentation of the report's unit and period and place the previous
    period's customers in it (no output).

    Raises
    ------
    ParamsError
        Invalid ``segmentation`` parameters or name overrides, or a playbook without a
        ``clustering_segment`` entry for one of the profile rules (the message names it).
    DataError
        A feature named in ``segmentation.features`` does not exist.
    """
    params = ctx.params["segmentation"]
    window = int(ctx.params["value"]["lookback_days"])
    playbook = load_playbook(ctx.params.get("playbook"))
    validate_playbook(playbook, required={"clustering_segment": CLUSTERING_RULES})
    as_of, previous_as_of = ctx.period.end_exclusive, ctx.previous.end_exclusive
    categorical = list(params.get("categorical_features") or [])
    features = _with_attributes(ctx.customer_features(as_of), ctx.data.customers, categorical)
    empty = pd.DataFrame()
    if features.empty:
        return SegmentationView(
            as_of=as_of,
            previous_as_of=previous_as_of,
            features=features,
            model=None,
            labels=pd.Series(dtype="int64", name="segment"),
            names=pd.Series(dtype="object", name="segment_name"),
            profile=empty,
            zscores=empty,
            rules=empty,
            actions={},
            playbook=playbook,
            previous_labels=None,
            previous_revenue=None,
            migration=None,
            window_days=window,
        )
    with warnings.catch_warnings():
        # the structureless reference of a handful of customers has no silhouette; the
        # report says so ("cannot be judged"), the warning would only repeat it
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        model = sr.model_from_params(params).fit(features)
    labels = model.labels_
    k = int(model.k_)
    numeric = [
        c
        for c in model.features_
        if c in features.columns and pd.api.types.is_numeric_dtype(features.dtypes[c])
    ]
    profile = segment_profiles(features, labels)
    revenue = sr.period_revenue(ctx.data.orders, ctx.period.start_ts, as_of)
    current_revenue = sr.segment_revenue(labels, revenue, k)
    profile["period_revenue"] = current_revenue["revenue"]
    profile["period_share"] = current_revenue["share"]
    overrides = sr.name_overrides(params.get("names"))
    ignored = tuple(sorted(s for s in overrides if s not in range(k)))
    names = segment_names(
        profile,
        ctx.language,
        overrides={s: v for s, v in overrides.items() if s in range(k)},
        share_labels={
            column: _value_label(ctx, "category", value)
            for column, (_, value) in (features.attrs.get("share_columns") or {}).items()
            if not column.endswith("_other")
        },
    )
    # the population mean and std the names needed; pandas deep-copies attrs into every
    # frame derived from the profile, and the sections index it a few hundred times
    profile.attrs = {}
    # one z-score table for the heatmap (the model's features) and the rules (plus traits)
    rule_columns = list(dict.fromkeys([*numeric, *[c for c in _RULE_TRAITS if c in features]]))
    rules_z = (
        zscore_profile(features, labels, columns=rule_columns)
        if rule_columns
        else pd.DataFrame(index=pd.Index(range(k), name="segment"))
    )
    zscores = rules_z[numeric]
    rules = sr.segment_rules(rules_z.reindex(range(k)).fillna(0.0))
    actions = {
        s: action_for(playbook, "clustering_segment", rule, ctx.language)
        for s, rule in rules["rule"].items()
    }

    previous_labels = previous_revenue = migration = None
    previous = _with_attributes(
        _previous_features(ctx, features, previous_as_of), ctx.data.customers, categorical
    )
    if not previous.empty:
        previous_labels = model.predict(previous)
        before = sr.period_revenue(ctx.data.orders, ctx.previous.start_ts, previous_as_of)
        previous_revenue = sr.segment_revenue(previous_labels, before, k)
        migration = segment_migration(
            previous_labels[sr.active_mask(previous, window)],
            labels[sr.active_mask(features, window)],
        )
    return SegmentationView(
        as_of=as_of,
        previous_as_of=previous_as_of,
        features=features,
        model=model,
        labels=labels,
        names=names,
        profile=profile,
        zscores=zscores,
        rules=rules,
        actions=actions,
        playbook=playbook,
        previous_labels=previous_labels,
        previous_revenue=previous_revenue,
        migration=migration,
        window_days=window,
        name_notes=ignored,
    )


# --------------------------------------------------------------------------- wording


def _t(ctx: ReportContext, key: str, **values: object) -> str:
    return ctx._(f"{P}.{key}", **values)


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


def _date(ctx: ReportContext, ts: pd.Timestamp) -> str:
    """The last day covered by an exclusive snapshot date."""
    return ui.fmt_date(ts - pd.Timedelta(days=1), ctx.language)


def _seg(view: SegmentationView, segment) -> str:
    return str(view.names.get(segment, segment))


def _seg_label(ctx: ReportContext, view: SegmentationView, segment) -> str:
    """``"2 · Mid-value frequent buyers"``: id and name, for charts and tables. A generated
    name's id suffix ("... (7)", added to keep names unique) is not repeated."""
    name = _seg(view, segment)
    suffix = ctx._("segmentation.name.numbered", name="", id=segment)
    if name.endswith(suffix) and len(name) > len(suffix):
        name = name[: -len(suffix)]
    return _t(ctx, "segment_label", id=segment, name=name)


def _feature_label(ctx: ReportContext, view: SegmentationView, column: str) -> str:
    """Readable name of a feature column (share columns name their category / channel)."""
    column = str(column)
    if _has(ctx, f"feature.{column}"):
        return _t(ctx, f"feature.{column}")
    source = (view.features.attrs.get("share_columns") or {}).get(column)
    if column.startswith(("share_cat_", "share_ch_")):
        kind = "cat" if column.startswith("share_cat_") else "ch"
        if column.endswith("_other"):
            return _t(ctx, f"feature.share_{kind}_other")
        value = source[1] if source else column.split("_", 2)[2]
        return _t(ctx, f"feature.share_{kind}", value=_value_label(ctx, "category", value))
    return column


def _value_label(ctx: ReportContext, attribute: str, value: object) -> str:
    """A data value in the report language where the catalog knows it (types, regions ...)."""
    text = str(value)
    if text == "(missing)":
        return _t(ctx, "value.missing")
    if text == "(other)":
        return _t(ctx, "value.other")
    key = f"value.{attribute}.{text}"
    return _t(ctx, key) if _has(ctx, key) else text


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


def _raw(column: str) -> str:
    return _LOG_TO_RAW.get(column, column)


def _colour(segment: int) -> str:
    return plots.PALETTE[int(segment) % len(plots.PALETTE)]


def _priority(ctx: ReportContext, key: str) -> str:
    return ctx._(f"playbook.priority.{key}")


# --------------------------------------------------------------------------- KPIs


def kpi_section(ctx: ReportContext, view: SegmentationView) -> pd.DataFrame | None:
    """KPI cards: segments, stability, customers segmented, the largest and the most
    valuable segment with their change vs the previous period end.

    Returns
    -------
    pandas.DataFrame or None
        Index ``segment``: ``customers``, ``share``, ``previous_share``, ``period_share``,
        ``previous_period_share`` (None when there is nobody to segment).
    """
    ctx.heading(f"{P}.kpis.title")
    if view.model is None:
        ctx.note(f"{P}.note.no_customers", "warning", end=_date(ctx, view.as_of))
        return None
    model = view.model
    ctx.text(
        f"{P}.kpis.intro",
        n=ctx.number(len(view.features)),
        end=_date(ctx, view.as_of),
        period=str(ctx.period),
        previous_end=_date(ctx, view.previous_as_of),
    )
    vs = ctx._("common.vs_previous", period=str(ctx.previous))
    none = ctx._("common.no_comparison")
    profile = view.profile
    table = pd.DataFrame(
        {
            "customers": profile["n_customers"].astype("int64"),
            "share": profile["share_customers"],
            "period_share": profile["period_share"],
        }
    )
    has_prev = view.previous_labels is not None and len(view.previous_labels) > 0
    if has_prev:
        counts = view.previous_labels.value_counts().reindex(view.segments, fill_value=0)
        table["previous_share"] = counts / counts.sum()
        table["previous_period_share"] = view.previous_revenue["share"]
    else:
        table["previous_share"] = np.nan
        table["previous_period_share"] = np.nan

    if view.fixed_k:
        how = _t(ctx, "kpi.k_fixed")
    elif model.k_ == 1:
        how = _t(ctx, "kpi.k_none")
    else:
        low, high = (int(v) for v in model.k_range)
        how = _t(ctx, "kpi.k_auto", low=low, high=high)
    stab = model.stability_
    if model.k_ == 1:
        verdict, stab_note = "–", _t(ctx, "kpi.stability_one")
    elif stab is None:
        verdict = _t(ctx, "kpi.stability_none")
        stab_note = _t(ctx, "kpi.stability_not_checked")
    else:
        verdict = ctx._(f"segmentation.stability.{stab.verdict}")
        stab_note = _t(ctx, "kpi.ari", ari=stab.mean_ari)
    cards = [
        ui.KPI(_t(ctx, "kpi.segments"), ctx.number(view.k), None, "", None, how),
        ui.KPI(_t(ctx, "kpi.stability"), verdict, None, "", None, stab_note),
    ]
    n_prev = len(view.previous_labels) if has_prev else 0
    cards.append(
        ui.KPI(
            _t(ctx, "kpi.customers"),
            ctx.number(len(view.features)),
            (len(view.features) - n_prev) / n_prev if n_prev else None,
            vs if n_prev else none,
        )
    )
    largest = int(table["customers"].idxmax())
    top = 0  # ids are ordered by value: 0 is the most valuable segment
    pairs = (
        ("kpi.largest", largest, "share", "previous_share"),
        ("kpi.top_revenue", top, "period_share", "previous_period_share"),
    )
    for key, segment, column, previous in pairs if view.k > 1 else ():
        now, before = _finite(table.loc[segment, column]), _finite(table.loc[segment, previous])
        change = now - before if now is not None and before is not None else None
        cards.append(
            ui.KPI(
                _t(ctx, key, name=_seg(view, segment), period=str(ctx.period)),
                _pct(now),
                change,
                vs if change is not None else none,
                higher_is_better=None,
                change_text=_pts(ctx, change) if change is not None else None,
            )
        )
    ctx.show(ui.kpi_cards(cards))
    if view.k == 1:
        ctx.note(f"{P}.note.no_meaningful_one", "warning", n=ctx.number(len(view.features)))
        return table
    if not view.meaningful:
        ctx.note(f"{P}.note.no_meaningful", "warning")
    values = dict(
        k=view.k,
        top=_seg(view, top),
        top_customers=_pct(table.loc[top, "share"]),
        top_revenue=_pct(table.loc[top, "period_share"]),
        period=str(ctx.period),
        largest=_seg(view, largest),
        largest_share=_pct(table.loc[largest, "share"]),
    )
    if _finite(table.loc[top, "period_share"]) is None:
        ctx.takeaway(f"{P}.kpis.takeaway_no_revenue", **values)
    else:
        ctx.takeaway(f"{P}.kpis.takeaway", **values)
    return table


# --------------------------------------------------------------------------- features


def features_section(ctx: ReportContext, view: SegmentationView) -> pd.DataFrame | None:
    """The features clustered, how many values were missing and how they were filled,
    and the features left out (constant, mostly missing). Returns that table."""
    if view.model is None:
        return None
    model = view.model
    ctx.heading(f"{P}.features.title")
    ctx.text(
        f"{P}.features.intro" if model.features_ else f"{P}.features.intro_none",
        n=ctx.number(len(view.features)),
        m=len(model.features_),
        end=_date(ctx, view.as_of),
        scaling=_t(ctx, f"scaling.{model.scaling}"),
        clip=model.clip if model.clip is not None else "–",
    )
    imputation = model.imputation_
    rows = []
    for feature, row in imputation.iterrows():
        reason = model.dropped_features_.get(feature)
        n_missing = int(row["n_missing"])
        if reason:
            status = _t(ctx, "features.dropped", reason=ctx._(f"segmentation.reason.{reason}"))
        elif n_missing:
            fill = row["fill_value"]
            status = _t(ctx, "features.imputed", value=_fill_text(ctx, feature, fill))
        else:
            status = _t(ctx, "features.used")
        rows.append(
            {
                "feature": feature,
                "label": _feature_label(ctx, view, feature),
                "missing": n_missing,
                "share": float(row["share_missing"]),
                "status": status,
                "used": feature in model.features_,
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
    for note in _model_notes(ctx, view):
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
        return _format_feature(ctx, _raw(feature), math.expm1(value))
    return _format_feature(ctx, feature, value)


def _model_notes(ctx: ReportContext, view: SegmentationView) -> list[str]:
    """The model's notes that the feature table does not already show, plus ignored
    name overrides."""
    model = view.model
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
    if view.name_notes:
        out.append(
            _t(ctx, "note.names_ignored", ids=", ".join(map(str, view.name_notes)), k=view.k)
        )
    return out


# --------------------------------------------------------------------------- k


_INDICES = (
    ("silhouette", True),
    ("calinski_harabasz", True),
    ("davies_bouldin", False),
)


def k_section(ctx: ReportContext, view: SegmentationView) -> pd.DataFrame | None:
    """How many segments: the three indices over k with the choice marked (or the fixed k),
    the rule, and which k each index prefers. Returns the scores table."""
    if view.model is None:
        return None
    model = view.model
    ctx.heading(f"{P}.k.title")
    scores = model.k_scores_
    min_share = ui.fmt_pct(model.min_segment_share)
    if model.k_ == 1 or scores.empty:
        ctx.note(f"{P}.k.one", "info", n=ctx.number(len(view.features)))
        return scores
    if view.fixed_k:
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

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.3))
    ks = scores.index.to_numpy()
    eligible = scores["eligible"].astype(bool).to_numpy()
    for ax, (column, higher) in zip(axes, _INDICES, strict=True):
        values = scores[column].to_numpy(dtype=float)
        ax.plot(ks, values, color="#1f4e79", lw=1.6, zorder=1)
        ax.scatter(ks[eligible], values[eligible], color="#1f4e79", s=26, zorder=2)
        if (~eligible).any():
            ax.scatter(
                ks[~eligible],
                values[~eligible],
                facecolors="white",
                edgecolors="#9aa5b1",
                s=34,
                zorder=2,
                label=_t(ctx, "k.ineligible"),
            )
        chosen = int(model.k_)
        ax.axvline(chosen, color="#f18f01", lw=1.4, ls="--", zorder=0)
        ax.scatter([chosen], [scores.loc[chosen, column]], color="#f18f01", s=80, zorder=3)
        direction = _t(ctx, "k.higher" if higher else "k.lower")
        ax.set_title(_t(ctx, "k.chart_title", index=_t(ctx, f"k.chart.{column}"), how=direction))
        ax.set_xlabel(_t(ctx, "k.axis"))
        ax.set_xticks(ks)
        if (~eligible).any() and column == "silhouette":
            ax.legend(fontsize=8, frameon=False, loc="upper left")
    plots.show_figure(fig)

    best = sr.best_k_by_index(scores)
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


def stability_section(ctx: ReportContext, view: SegmentationView) -> dict[str, Any] | None:
    """The stability verdict (bootstrap adjusted Rand index, >= threshold: stable, else a
    warning) and whether the segments are distinct at all. Returns the figures."""
    if view.model is None:
        return None
    model = view.model
    ctx.heading(f"{P}.stability.title")
    if model.k_ == 1:
        ctx.note(f"{P}.note.no_meaningful_one", "warning", n=ctx.number(len(view.features)))
        return {"stable": None, "meaningful": False}
    stab = model.stability_
    result = {
        "mean_ari": stab.mean_ari if stab else math.nan,
        "stable": stab.stable if stab else None,
        "meaningful": view.meaningful,
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
        ctx.note(f"{P}.stability.cannot_judge", "warning", n=ctx.number(len(view.features)))
    elif view.meaningful:
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
    return result


# --------------------------------------------------------------------------- profiles


def profile_section(ctx: ReportContext, view: SegmentationView) -> pd.DataFrame | None:
    """Size and revenue of each segment (table and chart), the feature means, the z-score
    heatmap and, in words, what sets each segment apart. Returns the size table."""
    if view.model is None:
        return None
    ctx.heading(f"{P}.profiles.title")
    profile = view.profile
    ctx.text(f"{P}.profiles.intro", period=str(ctx.period))
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
            c["segment"]: [_seg_label(ctx, view, s) for s in profile.index],
            c["customers"]: profile["n_customers"].astype(int).to_numpy(),
            c["customer_share"]: profile["share_customers"].to_numpy(),
            c["revenue_share"]: profile["share_revenue"].to_numpy(),
            c["period_share"]: profile["period_share"].to_numpy(),
            c["revenue_per_customer"]: [
                ctx.money(_finite(v)) for v in profile["revenue_per_customer"]
            ],
        }
    )
    period_col = _t(ctx, "col.period_share", period=str(ctx.period))
    shown = shown.rename(columns={c["period_share"]: period_col})
    ctx.show(
        ui.table(
            shown,
            formats={c["customer_share"]: "pct", c["revenue_share"]: "pct", period_col: "pct"},
        )
    )
    if view.k > 1:
        _size_chart(ctx, view)
        ratio = (profile["period_share"] / profile["share_customers"]).replace(np.inf, np.nan)
        ratio = ratio.dropna()
        if len(ratio):
            best, worst = int(ratio.idxmax()), int(ratio.idxmin())
            ctx.takeaway(
                f"{P}.profiles.size_takeaway",
                best=_seg(view, best),
                best_customers=_pct(profile.loc[best, "share_customers"]),
                best_revenue=_pct(profile.loc[best, "period_share"]),
                worst=_seg(view, worst),
                worst_customers=_pct(profile.loc[worst, "share_customers"]),
                worst_revenue=_pct(profile.loc[worst, "period_share"]),
                period=str(ctx.period),
            )
        else:
            ctx.takeaway(
                f"{P}.profiles.size_takeaway_no_revenue",
                largest=_seg(view, int(profile["n_customers"].idxmax())),
                period=str(ctx.period),
            )
    _means_table(ctx, view)
    if view.k > 1 and view.numeric_features:
        _heatmap(ctx, view)
        _distinguishing(ctx, view)
    return profile


def _size_chart(ctx: ReportContext, view: SegmentationView) -> None:
    profile = view.profile
    labels = [ui.wrap_label(_seg_label(ctx, view, s), 34, ctx.language) for s in profile.index]
    y = np.arange(len(profile))
    fig, ax = plt.subplots(figsize=(11, 1.0 + 0.52 * len(profile)))
    height = 0.38
    series = (
        ("share_customers", _t(ctx, "profiles.bar_customers"), "#9aa5b1"),
        ("period_share", _t(ctx, "profiles.bar_revenue", period=str(ctx.period)), "#1f4e79"),
    )
    for offset, (column, label, colour) in zip((-height / 2, height / 2), series, strict=True):
        values = profile[column].fillna(0.0).to_numpy()
        ax.barh(y + offset, values, height=height, color=colour, label=label)
        for yi, v in zip(y + offset, values, strict=True):
            ax.text(v + 0.004, yi, f"{v:.0%}", va="center", fontsize=8)
    ax.set_yticks(y, labels=labels, fontsize=9)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_title(_t(ctx, "profiles.chart"))
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.grid(axis="y", visible=False)
    plots.show_figure(fig)


def _display_columns(view: SegmentationView) -> list[str]:
    """The features of the means table in their own units (log features -> raw)."""
    columns = [_raw(c) for c in view.numeric_features]
    if "satisfaction" in view.features.columns:
        columns.append("satisfaction")  # shown even when left out of the clustering
    return [c for c in dict.fromkeys(columns) if c in view.features.columns]


def _means_table(ctx: ReportContext, view: SegmentationView) -> None:
    columns = _display_columns(view)
    if not columns:
        return
    ctx.show(ui.heading(_t(ctx, "profiles.means_title"), level=3))
    means = view.features[columns].groupby(view.labels.to_numpy()).mean()
    overall = view.features[columns].mean()
    header = {s: _t(ctx, "segment_col", id=s) for s in view.segments}
    table = pd.DataFrame({_t(ctx, "col.feature"): [_feature_label(ctx, view, c) for c in columns]})
    for s in view.segments:
        table[header[s]] = [_format_feature(ctx, c, means.loc[s, c]) for c in columns]
    table[_t(ctx, "col.all")] = [_format_feature(ctx, c, overall[c]) for c in columns]
    ctx.show(ui.table(table, max_rows=100))
    ctx.show(ui.paragraph(_t(ctx, "profiles.means_note"), "sr-small"))


def _heatmap(ctx: ReportContext, view: SegmentationView) -> None:
    z = view.zscores[view.numeric_features]
    ctx.show(ui.heading(_t(ctx, "profiles.heatmap_title"), level=3))
    ctx.text(f"{P}.profiles.heatmap_intro")
    shown = z.copy()
    shown.index = [ui.wrap_label(_seg_label(ctx, view, s), 30, ctx.language) for s in z.index]
    shown.columns = [
        ui.wrap_label(_feature_label(ctx, view, c), 16, ctx.language) for c in z.columns
    ]
    width = min(11.0, 3.2 + 0.55 * len(z.columns))
    fig, ax = plt.subplots(figsize=(max(width, 7.5), 1.6 + 0.5 * len(z)))
    _annotated_heatmap(ax, shown, limit=2.5, fontsize=7.5)
    ax.tick_params(axis="x", labelsize=8, rotation=90)
    ax.tick_params(axis="y", labelsize=8.5, rotation=0)
    ax.set_title(_t(ctx, "profiles.heatmap_chart"))
    plots.show_figure(fig)
    stacked = z.stack()
    segment, feature = stacked.abs().idxmax()
    value = float(stacked[(segment, feature)])
    ctx.takeaway(
        f"{P}.profiles.heatmap_takeaway_{'high' if value >= 0 else 'low'}",
        segment=_seg(view, segment),
        feature=_feature_label(ctx, view, feature),
        z=abs(value),
    )


def _annotated_heatmap(ax: plt.Axes, data: pd.DataFrame, *, limit: float, fontsize: float) -> None:
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
        ink = ".15" if relative_luminance(colour) > 0.408 else "w"  # seaborn's rule
        ax.text(
            x + 0.5,
            y + 0.5,
            f"{value:+.1f}",
            color=ink,
            ha="center",
            va="center",
            fontsize=fontsize,
        )


def _distinguishing(ctx: ReportContext, view: SegmentationView) -> pd.DataFrame:
    ctx.show(ui.heading(_t(ctx, "profiles.distinct_title"), level=3))
    table = distinguishing_features(
        view.features, view.labels, top=TOP_FEATURES, columns=view.numeric_features
    )
    # means in the raw units, of the segment and of everybody else (missing values skipped)
    raw_columns = list(dict.fromkeys(_raw(f) for f in table["feature"]))
    groups = view.features[raw_columns].astype("float64").groupby(view.labels.to_numpy())
    sums, counts = groups.sum(), groups.count()
    segment_mean = sums / counts
    rest_mean = (sums.sum() - sums) / (counts.sum() - counts)
    rows = []
    for segment in view.segments:
        part = table.loc[table["segment"] == segment]
        items = []
        for _, row in part.iterrows():
            raw = _raw(row["feature"])
            mine, rest = segment_mean.loc[segment, raw], rest_mean.loc[segment, raw]
            size = abs(row["smd"])
            strength = "much_" if size >= SMD_STRONG else "" if size >= SMD_CLEAR else "slightly_"
            items.append(
                _t(
                    ctx,
                    "distinct.item",
                    feature=_feature_label(ctx, view, raw),
                    how=_t(ctx, f"smd.{strength}{row['direction']}"),
                    segment=_format_feature(ctx, raw, mine),
                    rest=_format_feature(ctx, raw, rest),
                )
            )
        rows.append((_seg_label(ctx, view, segment), _t(ctx, "separator").join(items)))
    shown = pd.DataFrame(rows, columns=[_t(ctx, "col.segment"), _t(ctx, "col.sets_apart")])
    ctx.show(ui.table(shown))
    ctx.show(ui.paragraph(_t(ctx, "profiles.distinct_note"), "sr-small"))
    return table


# --------------------------------------------------------------------------- composition


def composition_section(ctx: ReportContext, view: SegmentationView) -> pd.DataFrame | None:
    """Customer type, region and demographic mix of each segment (the customers-table
    columns that exist), with the most over-represented group named. Returns the long
    composition table (None when there is nothing to show)."""
    if view.model is None:
        return None
    ctx.heading(f"{P}.composition.title")
    table = sr.composition_table(ctx.data.customers, view.labels)
    if table.empty:
        ctx.note(f"{P}.composition.none", "info")
        return None
    if view.k == 1:
        ctx.note(f"{P}.composition.one", "info")
        return table
    attributes = list(dict.fromkeys(table["attribute"]))
    ctx.text(
        f"{P}.composition.intro",
        attributes=_t(ctx, "list_separator").join(
            _attribute_label(ctx, a).lower() for a in attributes
        ),
    )
    ncols = 2 if len(attributes) > 1 else 1
    nrows = math.ceil(len(attributes) / ncols)
    panel_h = 1.3 + 0.3 * (view.k + 1)
    fig, axes = plt.subplots(nrows, ncols, figsize=(11, panel_h * nrows + 0.2), squeeze=False)
    rows = [_t(ctx, "segment_short", id=s) for s in view.segments] + [_t(ctx, "col.all")]
    for ax, attribute in zip(axes.flat, attributes, strict=False):
        part = table.loc[table["attribute"] == attribute]
        mix = part.pivot_table(index="segment", columns="value", values="share", fill_value=0.0)
        overall = part.groupby("value")["overall_share"].first()
        order = _level_order(attribute, overall)
        keep = order[:MAX_LEVELS] if len(order) > MAX_LEVELS + 1 else order
        mix = mix.reindex(index=view.segments, columns=order, fill_value=0.0)
        shares = mix[keep].copy()
        all_row = overall.reindex(keep)
        if len(keep) < len(order):
            shares["(other)"] = mix[[v for v in order if v not in keep]].sum(axis=1)
            all_row["(other)"] = overall.reindex(order).drop(keep).sum()
        shares.loc["all"] = all_row
        colours = [
            "#d5dde5" if value == "(missing)" else plots.PALETTE[i % len(plots.PALETTE)]
            for i, value in enumerate(shares.columns)
        ]
        _stacked_bars(ax, shares.to_numpy(dtype=float), colours)
        left = np.zeros(len(shares))
        for value, colour in zip(shares.columns, colours, strict=True):
            widths = shares[value].to_numpy(dtype=float)
            ink = _ink(colour)
            for y, (x0, w) in enumerate(zip(left, widths, strict=True)):
                if w >= 0.09:
                    ax.text(
                        x0 + w / 2, y, f"{w:.0%}", ha="center", va="center", fontsize=7, color=ink
                    )
            left += widths
        ax.set_yticks(range(len(shares)), labels=rows, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.grid(False)
        ax.set_title(_attribute_label(ctx, attribute), fontsize=10)
        ax.legend(
            handles=[
                Patch(facecolor=colour, label=_value_label(ctx, attribute, value))
                for value, colour in zip(shares.columns, colours, strict=True)
            ],
            fontsize=7,
            frameon=False,
            ncol=min(4, len(shares.columns)),
            loc="upper center",
            bbox_to_anchor=(0.5, -0.06),
            handlelength=1,
            columnspacing=0.8,
        )
    for ax in list(axes.flat)[len(attributes) :]:
        ax.set_visible(False)
    plots.show_figure(fig)
    sizes = view.profile["n_customers"]
    base = table.assign(seg_n=table["segment"].map(sizes))
    candidates = base.loc[
        (base["value"] != "(missing)")
        & (base["n"] >= MIN_BASE)
        & (base["overall_share"] >= 0.05)
        & (base["overall_share"] < 0.95)
    ]
    if candidates.empty:
        ctx.takeaway(f"{P}.composition.takeaway_none")
    else:
        row = candidates.loc[candidates["index"].idxmax()]
        ctx.takeaway(
            f"{P}.composition.takeaway",
            value=_value_label(ctx, row["attribute"], row["value"]),
            attribute=_attribute_label(ctx, row["attribute"]),
            segment=_seg(view, int(row["segment"])),
            share=_pct(row["share"]),
            overall=_pct(row["overall_share"]),
            times=row["index"] / 100.0,
        )
    return table


#: Height of one bar of the composition chart (rows are 1 apart).
_BAR_HEIGHT = 0.7


def _stacked_bars(ax: plt.Axes, shares: np.ndarray, colours: list[str]) -> None:
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


def _attribute_label(ctx: ReportContext, attribute: str) -> str:
    key = f"attribute.{attribute}"
    return _t(ctx, key) if _has(ctx, key) else str(attribute)


#: Attributes whose values have a natural order (shown in it, not by size).
_LEVEL_ORDER = {
    "age_band": sr.AGE_LABELS,
    "income_band": ("low", "middle", "medium", "high", "very_high"),
}


def _level_order(attribute: str, overall: pd.Series) -> list:
    """Values of one attribute in display order: natural order where there is one, else
    largest first; missing values always last, so they never hide a real group."""
    values = [v for v in overall.sort_values(ascending=False).index if v != "(missing)"]
    natural = _LEVEL_ORDER.get(attribute)
    if natural:
        rank = {v: i for i, v in enumerate(natural)}
        values = sorted(values, key=lambda v: (rank.get(v, len(rank)), -overall[v]))
    return values + (["(missing)"] if "(missing)" in overall.index else [])


def _ink(colour: str) -> str:
    """White text on dark bars, dark text on light ones (relative luminance, sRGB)."""
    r, g, b = plt.matplotlib.colors.to_rgb(colour)
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else "#1d2733"


# --------------------------------------------------------------------------- projection


def projection_section(ctx: ReportContext, view: SegmentationView) -> pd.DataFrame | None:
    """A 2-D map of the customers (two principal components of the scaled features, a
    fixed-seed sample) coloured by segment. Returns the plotted points."""
    if view.model is None or view.k == 1 or not view.model.features_:
        return None
    ctx.heading(f"{P}.projection.title")
    scaled = view.model.transform(view.features)
    points = projection_2d(scaled, view.labels, sample=PROJECTION_SAMPLE, random_state=0)
    ratio = sum(points.attrs.get("explained_variance_ratio", [0.0, 0.0]))
    ctx.text(
        f"{P}.projection.intro"
        if len(points) < len(view.features)
        else f"{P}.projection.intro_all",
        n=ctx.number(len(points)),
        total=ctx.number(len(view.features)),
    )
    fig, ax = plt.subplots(figsize=(11, 5.6))
    centres = points.groupby("segment")[["pc1", "pc2"]].mean()
    for s in view.segments:
        part = points.loc[points["segment"] == s]
        ax.scatter(
            part["pc1"],
            part["pc2"],
            s=7,
            alpha=0.45,
            color=_colour(s),
            label=ui.wrap_label(_seg_label(ctx, view, s), 30, ctx.language),
            linewidths=0,
        )
    for s, row in centres.iterrows():
        ax.text(
            row["pc1"],
            row["pc2"],
            str(s),
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            color="white",
            bbox={"boxstyle": "circle,pad=0.25", "fc": _colour(int(s)), "ec": "white"},
        )
    ax.set_xlabel(_t(ctx, "projection.pc1"))
    ax.set_ylabel(_t(ctx, "projection.pc2"))
    ax.set_title(_t(ctx, "projection.chart", share=_pct(ratio, 0)))
    legend = ax.legend(
        fontsize=8,
        frameon=False,
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        markerscale=2.5,
    )
    for handle in legend.legend_handles:
        handle.set_alpha(1.0)
    plots.show_figure(fig)
    # how well each segment separates in this picture: share of its points nearest its centre
    xy = points[["pc1", "pc2"]].to_numpy()
    dist = ((xy[:, None, :] - centres.to_numpy()[None, :, :]) ** 2).sum(axis=2)
    nearest = centres.index.to_numpy()[dist.argmin(axis=1)]
    own = (
        pd.Series(nearest == points["segment"].to_numpy())
        .groupby(points["segment"].to_numpy())
        .mean()
    )
    best, worst = int(own.idxmax()), int(own.idxmin())
    if own[best] - own[worst] < 0.05:
        ctx.takeaway(f"{P}.projection.takeaway_even", share=_pct(ratio, 0))
        return points
    ctx.takeaway(
        f"{P}.projection.takeaway",
        share=_pct(ratio, 0),
        best=_seg(view, best),
        best_share=_pct(own[best], 0),
        worst=_seg(view, worst),
        worst_share=_pct(own[worst], 0),
    )
    return points


# --------------------------------------------------------------------------- migration


def migration_section(ctx: ReportContext, view: SegmentationView) -> MigrationTable | None:
    """Who moved where since the previous period end: the previous period's customers are
    placed in the current segments by the same fitted model; customers active (a purchase in
    the window) at either date are compared. Returns the transition table."""
    if view.model is None:
        return None
    ctx.heading(f"{P}.migration.title")
    ctx.text(
        f"{P}.migration.intro",
        previous_end=_date(ctx, view.previous_as_of),
        end=_date(ctx, view.as_of),
        window=view.window_days,
    )
    migration = view.migration
    if migration is None:
        ctx.note(f"{P}.migration.none", "info", previous_end=_date(ctx, view.previous_as_of))
        return None
    counts, shares = migration
    if counts.to_numpy().sum() == 0:
        ctx.note(f"{P}.migration.nobody", "info", window=view.window_days)
        return migration
    if view.k == 1:
        flows = sr.flow_summary(counts)
        ctx.note(
            f"{P}.migration.one",
            "info",
            new=ctx.number(flows["new"]),
            gone=ctx.number(flows["gone"]),
            previous=str(ctx.previous),
        )
        return migration
    row_labels = {NEW: _t(ctx, "migration.new")}
    col_labels = {GONE: _t(ctx, "migration.gone")}
    rows = [r for r in counts.index if counts.loc[r].sum() > 0]
    cols = list(counts.columns)

    def label(key, extra, width):
        if key in extra:
            return ui.wrap_label(extra[key], width, ctx.language)
        return ui.wrap_label(_seg_label(ctx, view, key), width, ctx.language)

    fig, ax = plt.subplots(figsize=(11, 1.4 + 0.62 * len(rows)))
    plots.plot_transitions(
        counts,
        shares,
        rows=rows,
        columns=cols,
        row_labels=[label(r, row_labels, 24) for r in rows],
        column_labels=[label(c, col_labels, 15) for c in cols],
        fontsize=8,
        ax=ax,
    )
    ax.tick_params(axis="x", labelsize=7)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel(_t(ctx, "migration.to", end=_date(ctx, view.as_of)))
    ax.set_ylabel(_t(ctx, "migration.from", end=_date(ctx, view.previous_as_of)))
    ax.set_title(_t(ctx, "migration.chart"))
    plots.show_figure(fig)

    flows = sr.flow_summary(counts)
    move = sr.biggest_movement(counts)
    new_part = (
        _t(ctx, "migration.new_part", n=ctx.number(flows["new"]), to=_seg(view, flows["new_to"]))
        if flows["new"]
        else _t(ctx, "migration.new_none")
    )
    gone_part = (
        _t(
            ctx,
            "migration.gone_part",
            n=ctx.number(flows["gone"]),
            source=_seg(view, flows["gone_from"]),
        )
        if flows["gone"]
        else _t(ctx, "migration.gone_none")
    )
    values = dict(
        previous=str(ctx.previous),
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
            source=_seg(view, move["source"]),
            target=_seg(view, move["target"]),
            **values,
        )

    # the matrix in numbers: size of each segment before and after, and the flows
    c = {
        k: _t(ctx, f"col.{k}")
        for k in ("segment", "previous_active", "current_active", "stayed", "moved_in", "new_in")
    }
    c["moved_out"] = _t(ctx, "col.moved_out")
    c["gone_out"] = _t(ctx, "col.gone_out")
    c["net"] = _t(ctx, "col.net")
    segs = [s for s in counts.columns if s != GONE]
    table = []
    for s in segs:
        before = int(counts.loc[s].sum()) if s in counts.index else 0
        after = int(counts[s].sum())
        stayed = int(counts.loc[s, s]) if s in counts.index else 0
        moved_in = int(counts.loc[[r for r in counts.index if r not in (NEW, s)], s].sum())
        new_in = int(counts.loc[NEW, s]) if NEW in counts.index else 0
        moved_out = int(counts.loc[s, [x for x in segs if x != s]].sum()) if before else 0
        gone_out = int(counts.loc[s, GONE]) if before else 0
        table.append(
            {
                c["segment"]: _seg_label(ctx, view, s),
                c["previous_active"]: before,
                c["stayed"]: stayed,
                c["moved_in"]: moved_in,
                c["new_in"]: new_in,
                c["moved_out"]: moved_out,
                c["gone_out"]: gone_out,
                c["current_active"]: after,
                c["net"]: f"{after - before:+,d}",
            }
        )
    ctx.show(ui.table(pd.DataFrame(table)))
    return migration


# --------------------------------------------------------------------------- strategy


def strategy_section(ctx: ReportContext, view: SegmentationView) -> pd.DataFrame | None:
    """Segment -> recommended action: the playbook's ``clustering_segment`` entry of the
    segment's profile rule (see :data:`analysis.playbook.CLUSTERING_RULES`). Returns the table
    (rule, playbook vocabulary and key, priority)."""
    if view.model is None:
        return None
    ctx.heading(f"{P}.strategy.title")
    ctx.text(f"{P}.strategy.intro", z=sr.RULE_Z)
    sep = _t(ctx, "separator")
    c = {
        k: _t(ctx, f"col.{k}")
        for k in ("segment_customers", "why", "priority", "objective", "action", "channel_offer")
    }
    rows = []
    for s in view.segments:
        rule = view.rules.loc[s]
        action = view.actions[s]
        rows.append(
            {
                c["segment_customers"]: _t(
                    ctx,
                    "strategy.segment",
                    label=_seg_label(ctx, view, s),
                    n=ctx.number(int(view.profile.loc[s, "n_customers"])),
                ),
                c["priority"]: _priority(ctx, action.priority),
                c["why"]: _t(ctx, f"rule.{rule['rule']}", z=round(float(rule["z"]), 1) + 0.0),
                c["objective"]: action.objective,
                c["action"]: action.action_text(sep),
                c["channel_offer"]: _t(
                    ctx, "strategy.channel_offer", channel=action.channel, offer=action.offer
                ),
            }
        )
    ctx.show(ui.table(pd.DataFrame(rows)))
    if view.k == 1:
        ctx.show(ui.paragraph(_t(ctx, "strategy.one"), "sr-small"))
    high = [s for s in view.segments if view.actions[s].priority == "high"]
    if high:
        n = int(view.profile.loc[high, "n_customers"].sum())
        revenue = view.profile.loc[high, "period_share"]
        ranked = revenue.fillna(0.0).sort_values(ascending=False, kind="mergesort")
        first = ranked[ranked > 0].index[:2] if (ranked > 0).any() else ranked.index[:1]
        ctx.takeaway(
            f"{P}.strategy.takeaway",
            count=len(high),
            k=view.k,
            n=ctx.number(n),
            share=_pct(n / len(view.features)),
            revenue=_pct(revenue.sum(min_count=1)),
            period=str(ctx.period),
            first=_t(ctx, "list_separator").join(
                _t(ctx, "strategy.first", name=_seg(view, s), share=_pct(revenue[s])) for s in first
            ),
        )
    else:
        ctx.takeaway(f"{P}.strategy.takeaway_no_high")
    ctx.show(ui.paragraph(_t(ctx, "strategy.note"), "sr-small"))
    return pd.DataFrame(
        {
            "rule": view.rules["rule"],
            "vocabulary": [view.actions[s].vocabulary for s in view.segments],
            "key": [view.actions[s].key for s in view.segments],
            "priority": [view.actions[s].priority for s in view.segments],
        },
        index=view.rules.index,
    )


# --------------------------------------------------------------------------- export


def export_frame(ctx: ReportContext, view: SegmentationView) -> pd.DataFrame:
    """The rows of ``segments.csv`` (see :func:`analysis.segment_report.export_frame`)."""
    if view.model is None:
        columns = ["customer_id", "segment_id", "segment_name", *sr.EXPORT_FEATURES]
        return pd.DataFrame(columns=[*columns, "action", "priority"])
    return sr.export_frame(
        view.features, view.labels, view.names, view.actions, separator=_t(ctx, "separator")
    )


def export_section(ctx: ReportContext, view: SegmentationView) -> Path:
    """Write ``exports/segments.csv`` (one row per segmented customer, real ids) and say
    what it holds."""
    frame = export_frame(ctx, view)
    path = ctx.export(frame, "segments.csv")
    ctx.heading(f"{P}.export.title")
    if frame.empty:
        ctx.note(f"{P}.export.empty", "info")
        return path
    ctx.text(f"{P}.export.intro", n=ctx.number(len(frame)), end=_date(ctx, view.as_of))
    ctx.show(ui.paragraph(_t(ctx, "export.columns"), "sr-small"))
    counts = frame["segment_id"].value_counts().reindex(view.segments, fill_value=0)
    c = {k: _t(ctx, f"col.{k}") for k in ("segment", "customers", "priority")}
    ctx.show(
        ui.table(
            pd.DataFrame(
                {
                    c["segment"]: [_seg_label(ctx, view, s) for s in view.segments],
                    c["customers"]: counts.to_numpy(),
                    c["priority"]: [
                        _priority(ctx, view.actions[s].priority) for s in view.segments
                    ],
                }
            )
        )
    )
    high = int((frame["priority"] == "high").sum())
    ctx.takeaway(f"{P}.export.takeaway", n=ctx.number(len(frame)), high=ctx.number(high))
    return path

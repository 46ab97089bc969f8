"""The "Segmentation" report's pipeline: clustering segments of one unit and period.

:func:`build` fits the :class:`~analysis.segmentation.SegmentationModel` configured by the
``segmentation:`` parameters on the unit's customer features as of the period end, names
and profiles the segments, places the previous period's customers in the same segments,
picks each segment's playbook entry from its profile rule and assembles every table the
report shows and the rows of ``segments.csv``. It returns a frozen
:class:`SegmentationResult`; the sections of :mod:`analysis.report.views.segmentation` only
display parts of it.

Thin data is a state of the result, not an error: ``status`` is ``"no_customers"`` when
nobody bought before the period end, ``"one_segment"`` when the customers all look alike
(or there is a single one), ``"ok"`` otherwise.

Examples
--------
>>> from analysis.pipelines import segmentation  # doctest: +SKIP
>>> result = segmentation.build(data, period, params)  # doctest: +SKIP
>>> result.export.head()  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import pandas as pd

from .. import segment_report as sr
from ..data.load import Dataset
from ..engine import engine_for
from ..features import customer_features
from ..i18n import t
from ..period import Period
from ..playbook import (
    CLUSTERING_RULES,
    PlaybookAction,
    action_for,
    data_available,
    load_playbook,
    validate_playbook,
)
from ..segmentation import (
    GONE,
    NEW,
    SegmentationModel,
    projection_2d,
    segment_migration,
    segment_names,
    segment_profiles,
    zscore_profile,
)
from ..strategy import value_priority
from .shared import SharedWork

__all__ = [
    "GONE",
    "NEW",
    "PROJECTION_SAMPLE",
    "STATUSES",
    "TOP_FEATURES",
    "Composition",
    "Migration",
    "Projection",
    "SegmentationResult",
    "assignments",
    "build",
]

#: Values of :attr:`SegmentationResult.status`.
STATUSES = ("ok", "one_segment", "no_customers")
#: Customers drawn in the 2-D map (a fixed-seed sample).
PROJECTION_SAMPLE = 3000
#: Distinguishing features listed per segment.
TOP_FEATURES = 3
#: Features the profile rules read (besides the model's numeric features).
_RULE_TRAITS = ("log_recency", "log_frequency", "log_monetary", "tenure_days", "complaints")
_EMPTY = MappingProxyType({})


# --------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class Composition:
    """Customer attributes per segment.

    Attributes
    ----------
    table
        :func:`analysis.segment_report.composition_table` (long: segment, attribute, value,
        n, share, overall_share, index).
    shares
        Attribute -> :func:`analysis.segment_report.composition_shares` (rows: segments,
        then ``"all"``), in the order of ``table``; empty when there is one segment.
    highlight
        :func:`analysis.segment_report.composition_highlight`: the most over-represented
        group, or None.
    """

    table: pd.DataFrame
    shares: Mapping[str, pd.DataFrame] = field(default_factory=lambda: _EMPTY)
    highlight: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Projection:
    """A 2-D map of the customers: two principal components of the scaled features.

    Attributes
    ----------
    points
        :func:`analysis.segmentation.projection_2d` of a fixed-seed sample of
        :data:`PROJECTION_SAMPLE` customers (``pc1``, ``pc2``, ``segment``).
    explained
        Share of the variance the two components hold.
    centres
        Mean position of each segment's points (index segment: ``pc1``, ``pc2``).
    separation
        Per segment, the share of its points nearest its own centre.
    n_customers
        Customers segmented (``len(points)`` is smaller when sampled).
    segments
        Every segment id (a small segment may have no point in the sample).
    """

    points: pd.DataFrame
    explained: float
    centres: pd.DataFrame
    separation: pd.Series
    n_customers: int
    segments: tuple[int, ...]


@dataclass(frozen=True)
class Migration:
    """Who moved where between the previous and the current period end.

    Customers active (a completed purchase in the ``window_days`` before a date) at either
    date, the previous ones placed in the current segments by the same fitted model.

    Attributes
    ----------
    counts, shares
        :func:`analysis.segmentation.segment_migration`: rows previous segment + ``"new"``,
        columns current segment + ``"gone"``.
    rows
        Rows with somebody in them (what the chart draws).
    flows
        :func:`analysis.segment_report.flow_summary`.
    biggest
        :func:`analysis.segment_report.biggest_movement` (None: nobody changed segment).
    table
        :func:`analysis.segment_report.migration_flows` (per current segment).
    previous_as_of, as_of
        The two snapshot dates (exclusive).
    """

    counts: pd.DataFrame
    shares: pd.DataFrame
    rows: tuple
    flows: Mapping[str, Any]
    biggest: Mapping[str, Any] | None
    table: pd.DataFrame
    previous_as_of: pd.Timestamp
    as_of: pd.Timestamp

    @property
    def total(self) -> int:
        """Customers in the table (active at either date)."""
        return int(self.counts.to_numpy().sum())


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class SegmentationResult:
    """Everything the "Segmentation" report shows, computed once.

    Attributes
    ----------
    status
        One of :data:`STATUSES`.
    period, previous_period
        Labels of the report period and of the previous one (``"2025-Q4"``).
    as_of, previous_as_of
        Snapshot dates (exclusive): the ends of the report period and of the previous one.
    window_days
        The activity window of the migration (``value.lookback_days``).
    language
        The language of the names and actions.
    scheme
        ``"subscription"`` when the orders are regular bills, else ``"transactional"``:
        names and actions speak of bills or of purchases.
    available
        The data the unit has (:func:`analysis.playbook.data_available`): sentences about
        complaints, channels, discounts, returns or customer types need it.
    features
        Customer features as of ``as_of`` (every customer with a completed purchase
        before), with the customer attributes the model clusters on.
    model
        The fitted model; None when nobody bought before ``as_of``.
    labels, names
        Segment per customer (index customer_id); display name per segment.
    profile
        :func:`analysis.segmentation.segment_profiles` plus ``period_revenue`` and
        ``period_share`` (net revenue of the report period and its share).
    numeric_features
        The model's numeric features (what the profiles compare).
    zscores
        Segment means of ``numeric_features`` as population z-scores.
    extreme
        The largest absolute z-score: ``segment``, ``feature``, ``z`` (None: no heatmap).
    means
        Feature means in their own units (log features shown raw; ``satisfaction`` even
        when left out of the clustering): index feature, columns the segment ids and
        ``"all"``.
    distinguishing
        :func:`analysis.segment_report.distinguishing_table` (top :data:`TOP_FEATURES`
        per segment).
    revenue_ratio
        Per segment, its share of the period's revenue over its share of customers
        (segments where it is undefined left out).
    kpis
        Index segment: ``customers``, ``share``, ``period_share``, ``previous_share``,
        ``previous_period_share`` (NaN without previous customers).
    feature_table
        One row per candidate feature: ``feature``, ``missing``, ``share_missing``,
        ``dropped`` (the reason key, or None), ``fill_value``, ``used``.
    best_k
        The k each internal index prefers (:func:`analysis.segment_report.best_k_by_index`).
    share_columns
        ``features.attrs["share_columns"]``: share column -> (kind, category / channel).
    rules, actions
        The profile rule (:func:`analysis.segment_report.segment_rules`) and the playbook
        entry (``clustering_segment`` vocabulary, keyed by the rule) of each segment.
    rule_z
        How far from average a trait must be for a rule (standard deviations).
    strategy
        Index segment: ``rule``, ``vocabulary``, ``key``, ``priority``.
    focus
        The high-priority segments: ``segments``, ``n_customers``, ``customer_share``,
        ``revenue_share`` (of the period) and ``first`` (the one or two with the largest
        period revenue); None when no segment has high priority.
    composition
        :class:`Composition`, or None (no segments, or no customers table to profile).
    projection
        :class:`Projection`, or None (fewer than two segments).
    previous_labels
        The previous snapshot's customers placed in the same segments by the same model
        (None when nobody had bought by then).
    previous_revenue
        Revenue of the previous period per segment (of ``previous_labels``).
    migration
        :class:`Migration`, or None (nobody before the previous period end).
    name_notes
        Name overrides from the parameters that were ignored (segment ids not present).
    export
        The rows of ``segments.csv`` (:func:`analysis.segment_report.export_frame`).
    """

    status: str
    period: str
    previous_period: str
    as_of: pd.Timestamp
    previous_as_of: pd.Timestamp
    window_days: int
    language: str
    features: pd.DataFrame
    model: SegmentationModel | None
    labels: pd.Series
    names: pd.Series
    export: pd.DataFrame
    profile: pd.DataFrame = field(default_factory=pd.DataFrame)
    numeric_features: tuple[str, ...] = ()
    zscores: pd.DataFrame = field(default_factory=pd.DataFrame)
    extreme: Mapping[str, Any] | None = None
    means: pd.DataFrame | None = None
    distinguishing: pd.DataFrame | None = None
    revenue_ratio: pd.Series | None = None
    kpis: pd.DataFrame | None = None
    feature_table: pd.DataFrame | None = None
    best_k: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    share_columns: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    rules: pd.DataFrame = field(default_factory=pd.DataFrame)
    actions: Mapping[int, PlaybookAction] = field(default_factory=lambda: _EMPTY)
    rule_z: float = sr.RULE_Z
    strategy: pd.DataFrame | None = None
    focus: Mapping[str, Any] | None = None
    composition: Composition | None = None
    projection: Projection | None = None
    previous_labels: pd.Series | None = None
    previous_revenue: pd.DataFrame | None = None
    migration: Migration | None = None
    scheme: str = "transactional"
    available: tuple[str, ...] = ()
    name_notes: tuple[int, ...] = ()

    # ---- derived ---------------------------------------------------------------------
    @property
    def k(self) -> int:
        """Number of segments (0 when nobody was segmented)."""
        return int(self.model.k_) if self.model is not None else 0

    @property
    def fixed_k(self) -> bool:
        """Whether ``segmentation.k`` fixed the number of segments."""
        return self.model is not None and self.model.k is not None

    @property
    def segments(self) -> list[int]:
        return list(range(self.k))

    @property
    def meaningful(self) -> bool:
        """More than one segment, and distinct from a structureless reference."""
        return self.model is not None and self.k > 1 and bool(self.model.meaningful_)

    # ---- what the charts draw (None: no chart) ---------------------------------------
    @property
    def k_choice(self) -> pd.DataFrame | None:
        """The three indices over k (``model.k_scores_``) when the data chose k."""
        if self.model is None or self.k == 1 or self.fixed_k or self.model.k_scores_.empty:
            return None
        return self.model.k_scores_

    @property
    def sizes(self) -> pd.DataFrame | None:
        """The profile (customer and period revenue shares) when there are segments."""
        return self.profile if self.k > 1 else None

    @property
    def heatmap(self) -> pd.DataFrame | None:
        """The z-scores of the numeric features when there are segments to compare."""
        return self.zscores if self.k > 1 and self.numeric_features else None

    @property
    def composition_shares(self) -> Mapping[str, pd.DataFrame] | None:
        """Attribute -> mix per segment, when there are segments and attributes."""
        if self.composition is None or not self.composition.shares:
            return None
        return self.composition.shares

    @property
    def transitions(self) -> Migration | None:
        """The migration when there are segments to move between and somebody in it."""
        migration = self.migration
        if migration is None or self.k == 1 or migration.total == 0:
            return None
        return migration


# --------------------------------------------------------------------------- build


def build(
    data: Dataset,
    period: Period,
    params: Mapping[str, Any],
    *,
    shared: SharedWork | None = None,
) -> SegmentationResult:
    """Segment the unit's customers as of the period end.

    Parameters
    ----------
    data
        The unit's clean data (``ReportContext.data``).
    period
        The report period; the previous period's end is the migration's start.
    params
        Merged parameters (``segmentation``, ``value.lookback_days``, ``features``,
        ``playbook``, ``language``, ``unit``).
    shared
        The unit's shared work; the result is computed once per (unit, period,
        parameters) in a run through :meth:`~analysis.pipelines.shared.SharedWork.once`,
        so the strategy summary reuses the segments. None: a fresh ``SharedWork``.

    Returns
    -------
    SegmentationResult

    Raises
    ------
    ParamsError
        Invalid ``segmentation`` parameters or name overrides, or a playbook without a
        ``clustering_segment`` entry for one of the profile rules (the message names it).
    DataError
        A feature named in ``segmentation.features`` does not exist.
    """
    work = shared or SharedWork(str(params.get("unit", "all")))
    return work.once("segmentation", period, params, lambda: _build(data, period, params, work))


def assignments(result: SegmentationResult) -> pd.DataFrame | None:
    """Each segmented customer's segment and recommended action, for other reports (the
    strategy summary): the ``customer_id``, ``segment_id``, ``segment_name``, ``priority``
    and ``action`` columns of ``segments.csv``, real ids. None when nobody was segmented.
    """
    if result.model is None:
        return None
    columns = ["customer_id", "segment_id", "segment_name", "priority", "action"]
    return result.export[columns].copy()


def _previous_features(
    data: Dataset,
    shared: SharedWork,
    params: Mapping[str, Any],
    current: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Features as of the previous period end with the *current* share columns, so the
    fitted model can place those customers (shared through the run cache when the top
    categories and channels are the same at both dates, recomputed otherwise)."""
    previous = shared.customer_features(data, as_of, params)
    same = all(
        list(previous.attrs.get(key) or []) == list(current.attrs.get(key) or [])
        for key in ("categories", "channels")
    )
    if same:
        return previous
    options = params.get("features") or {}
    return customer_features(
        data.orders,
        as_of,
        customers=data.customers,
        surveys=data.survey_responses,
        interactions=data.interactions,
        categories=current.attrs.get("categories"),
        channels=current.attrs.get("channels"),
        satisfaction_col=options.get("satisfaction_col", "csat"),
        engine=engine_for(params),
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


def _scheme(data: Dataset, as_of: pd.Timestamp, params: Mapping[str, Any]) -> str:
    """``"subscription"`` when the unit's orders are regular bills
    (:func:`analysis.lifecycle.billing_cycle` with ``value.billing``), else
    ``"transactional"``: segment names and actions speak of bills or of purchases."""
    from ..lifecycle import billing_cycle  # noqa: PLC0415

    if data.orders is None or data.orders.empty:
        return "transactional"
    detect = dict((params.get("value") or {}).get("billing") or {})
    detect.pop("segment_map", None)
    return billing_cycle(data.orders, as_of - pd.Timedelta(days=1), **detect).scheme


def _empty_export() -> pd.DataFrame:
    columns = ["customer_id", "segment_id", "segment_name", *sr.EXPORT_FEATURES]
    return pd.DataFrame(columns=[*columns, "action", "priority"])


def _build(
    data: Dataset, period: Period, params: Mapping[str, Any], shared: SharedWork
) -> SegmentationResult:
    options = params["segmentation"]
    language = str(params.get("language", "en"))
    window = int(params["value"]["lookback_days"])
    playbook = load_playbook(params.get("playbook"))
    validate_playbook(playbook, required={"clustering_segment": CLUSTERING_RULES})
    previous_period = period.previous()
    as_of, previous_as_of = period.end_exclusive, previous_period.end_exclusive
    categorical = list(options.get("categorical_features") or [])
    features = _with_attributes(
        shared.customer_features(data, as_of, params), data.customers, categorical
    )
    base = {
        "scheme": _scheme(data, as_of, params),
        "available": tuple(data_available(data.orders, data.interactions, data.customers)),
        "period": str(period),
        "previous_period": str(previous_period),
        "as_of": as_of,
        "previous_as_of": previous_as_of,
        "window_days": window,
        "language": language,
        "features": features,
    }
    if features.empty:
        return SegmentationResult(
            status="no_customers",
            model=None,
            labels=pd.Series(dtype="int64", name="segment"),
            names=pd.Series(dtype="object", name="segment_name"),
            export=_empty_export(),
            **base,
        )
    with warnings.catch_warnings():
        # the structureless reference of a handful of customers has no silhouette; the
        # report says so ("cannot be judged"), the warning would only repeat it
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        model = sr.model_from_params(options).fit(features)
    labels = model.labels_
    k = int(model.k_)
    segments = list(range(k))
    numeric = [
        c
        for c in model.features_
        if c in features.columns and pd.api.types.is_numeric_dtype(features.dtypes[c])
    ]
    share_columns = dict(features.attrs.get("share_columns") or {})
    profile = segment_profiles(features, labels)
    revenue = sr.period_revenue(data.orders, period.start_ts, as_of)
    current_revenue = sr.segment_revenue(labels, revenue, k)
    profile["period_revenue"] = current_revenue["revenue"]
    profile["period_share"] = current_revenue["share"]
    overrides = sr.name_overrides(options.get("names"))
    ignored = tuple(sorted(s for s in overrides if s not in range(k)))
    names = segment_names(
        profile,
        language,
        scheme=base["scheme"],
        overrides={s: v for s, v in overrides.items() if s in range(k)},
        share_labels={
            column: sr.value_label("category", value, language)
            for column, (_, value) in share_columns.items()
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
        else pd.DataFrame(index=pd.Index(segments, name="segment"))
    )
    zscores = rules_z[numeric]
    rules = sr.segment_rules(rules_z.reindex(segments).fillna(0.0))
    actions = {
        s: action_for(
            playbook, "clustering_segment", rule, language,
            scheme=base["scheme"], available=base["available"],
        )
        for s, rule in rules["rule"].items()
    }  # fmt: skip
    # priority follows the segment's value at stake, its net revenue of the period (the
    # same rule as the RFM segments and the summary), not the rule's playbook entry
    priority = value_priority(profile["period_revenue"].reindex(segments).fillna(0.0))
    actions = {s: replace(a, priority=str(priority[s])) for s, a in actions.items()}

    previous_labels = previous_revenue = migration = None
    previous = _with_attributes(
        _previous_features(data, shared, params, features, previous_as_of),
        data.customers,
        categorical,
    )
    if not previous.empty:
        previous_labels = model.predict(previous)
        before = sr.period_revenue(data.orders, previous_period.start_ts, previous_as_of)
        previous_revenue = sr.segment_revenue(previous_labels, before, k)
        migration = _migration(
            previous_labels[sr.active_mask(previous, window)],
            labels[sr.active_mask(features, window)],
            previous_as_of,
            as_of,
        )
    separator = t("report_segmentation.separator", language)
    return SegmentationResult(
        status="ok" if k > 1 else "one_segment",
        model=model,
        labels=labels,
        names=names,
        export=sr.export_frame(features, labels, names, actions, separator=separator),
        profile=profile,
        numeric_features=tuple(numeric),
        zscores=zscores,
        extreme=_extreme(zscores) if k > 1 and numeric else None,
        means=_means(features, labels, numeric, segments),
        distinguishing=(
            sr.distinguishing_table(features, labels, numeric, top=TOP_FEATURES)
            if k > 1 and numeric
            else None
        ),
        revenue_ratio=(
            (profile["period_share"] / profile["share_customers"])
            .replace([float("inf")], float("nan"))
            .dropna()
        ),
        kpis=_kpis(profile, previous_labels, previous_revenue, segments),
        feature_table=_feature_table(model),
        best_k=MappingProxyType(sr.best_k_by_index(model.k_scores_)),
        share_columns=MappingProxyType(share_columns),
        rules=rules,
        actions=MappingProxyType(actions),
        strategy=pd.DataFrame(
            {
                "rule": rules["rule"],
                "vocabulary": [actions[s].vocabulary for s in segments],
                "key": [actions[s].key for s in segments],
                "priority": [actions[s].priority for s in segments],
            },
            index=rules.index,
        ),
        focus=_focus(profile, actions, segments, len(features)),
        composition=_composition(data.customers, labels, profile, segments),
        projection=_projection(model, features, labels) if k > 1 and model.features_ else None,
        previous_labels=previous_labels,
        previous_revenue=previous_revenue,
        migration=migration,
        name_notes=ignored,
        **base,
    )


# --------------------------------------------------------------------------- parts


def _kpis(
    profile: pd.DataFrame,
    previous_labels: pd.Series | None,
    previous_revenue: pd.DataFrame | None,
    segments: list[int],
) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "customers": profile["n_customers"].astype("int64"),
            "share": profile["share_customers"],
            "period_share": profile["period_share"],
        }
    )
    if previous_labels is not None and len(previous_labels) > 0:
        counts = previous_labels.value_counts().reindex(segments, fill_value=0)
        table["previous_share"] = counts / counts.sum()
        table["previous_period_share"] = previous_revenue["share"]
    else:
        table["previous_share"] = float("nan")
        table["previous_period_share"] = float("nan")
    return table


def _feature_table(model: SegmentationModel) -> pd.DataFrame:
    rows = [
        {
            "feature": feature,
            "missing": int(row["n_missing"]),
            "share_missing": float(row["share_missing"]),
            "dropped": model.dropped_features_.get(feature) or None,
            "fill_value": row["fill_value"],
            "used": feature in model.features_,
        }
        for feature, row in model.imputation_.iterrows()
    ]
    columns = ["feature", "missing", "share_missing", "dropped", "fill_value", "used"]
    table = pd.DataFrame(rows, columns=columns)
    # pandas turns a None beside strings into NaN: keep "not dropped" as None
    table["dropped"] = pd.Series([r["dropped"] for r in rows], index=table.index, dtype=object)
    return table


def _means(
    features: pd.DataFrame, labels: pd.Series, numeric: list[str], segments: list[int]
) -> pd.DataFrame | None:
    columns = [sr.raw_feature(c) for c in numeric]
    if "satisfaction" in features.columns:
        columns.append("satisfaction")  # shown even when left out of the clustering
    columns = [c for c in dict.fromkeys(columns) if c in features.columns]
    if not columns:
        return None
    means = features[columns].groupby(labels.to_numpy()).mean()
    out = means.reindex(segments).T
    out["all"] = features[columns].mean()
    out.index.name = "feature"
    out.columns.name = None
    return out


def _extreme(zscores: pd.DataFrame) -> dict[str, Any]:
    stacked = zscores.stack()
    segment, feature = stacked.abs().idxmax()
    return {"segment": int(segment), "feature": feature, "z": float(stacked[(segment, feature)])}


def _focus(
    profile: pd.DataFrame,
    actions: Mapping[int, PlaybookAction],
    segments: list[int],
    n_total: int,
) -> dict[str, Any] | None:
    high = [s for s in segments if actions[s].priority == "high"]
    if not high:
        return None
    n = int(profile.loc[high, "n_customers"].sum())
    revenue = profile.loc[high, "period_share"]
    ranked = revenue.fillna(0.0).sort_values(ascending=False, kind="mergesort")
    first = ranked[ranked > 0].index[:2] if (ranked > 0).any() else ranked.index[:1]
    return {
        "segments": tuple(high),
        "n_customers": n,
        "customer_share": n / n_total,
        "revenue_share": revenue.sum(min_count=1),
        "first": tuple(int(s) for s in first),
        "first_shares": tuple(revenue[s] for s in first),
    }


def _composition(
    customers: pd.DataFrame | None,
    labels: pd.Series,
    profile: pd.DataFrame,
    segments: list[int],
) -> Composition | None:
    table = sr.composition_table(customers, labels)
    if table.empty:
        return None
    if len(segments) == 1:
        return Composition(table)
    attributes = list(dict.fromkeys(table["attribute"]))
    return Composition(
        table,
        MappingProxyType({a: sr.composition_shares(table, a, segments) for a in attributes}),
        sr.composition_highlight(table, profile["n_customers"]),
    )


def _projection(model: SegmentationModel, features: pd.DataFrame, labels: pd.Series) -> Projection:
    scaled = model.transform(features)
    points = projection_2d(scaled, labels, sample=PROJECTION_SAMPLE, random_state=0)
    centres, separation = sr.projection_separation(points)
    return Projection(
        points=points,
        explained=sum(points.attrs.get("explained_variance_ratio", [0.0, 0.0])),
        centres=centres,
        separation=separation,
        n_customers=len(features),
        segments=tuple(range(int(model.k_))),
    )


def _migration(
    previous: pd.Series, current: pd.Series, previous_as_of: pd.Timestamp, as_of: pd.Timestamp
) -> Migration:
    counts, shares = segment_migration(previous, current)
    return Migration(
        counts=counts,
        shares=shares,
        rows=tuple(r for r in counts.index if counts.loc[r].sum() > 0),
        flows=MappingProxyType(sr.flow_summary(counts)),
        biggest=sr.biggest_movement(counts),
        table=sr.migration_flows(counts),
        previous_as_of=previous_as_of,
        as_of=as_of,
    )

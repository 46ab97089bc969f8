"""Pure computations behind the "Segmentation" report (no display, no file access).

The clustering itself lives in :mod:`analysis.segmentation`; this module holds what the
report adds around it:

* :func:`model_from_params` builds a :class:`~analysis.segmentation.SegmentationModel`
  from the ``segmentation:`` parameters;
* :func:`active_mask` picks the *migration population*: customers with a completed purchase
  in the ``window_days`` before a snapshot. Features are cumulative (everybody who ever
  bought has a row), so without this window nobody would ever leave ("gone" would be 0);
  with it, "new" means newly active (first purchase or back after a long gap) and "gone"
  means no purchase for a year;
* :func:`period_revenue` and :func:`segment_revenue`: net revenue of a period per customer
  and per segment (the profiles' ``revenue`` is the net revenue of the whole history);
* :func:`best_k_by_index`: the k each internal index prefers, to show whether they agree;
* :func:`segment_rules`: the profile rule of each segment (rules on the segment's
  z-scores; the rule names are the playbook's ``clustering_segment`` vocabulary,
  :data:`analysis.playbook.CLUSTERING_RULES`), which keys its playbook entry;
* :func:`biggest_movement` and :func:`flow_summary` for the migration takeaway,
  :func:`migration_flows` for its table;
* :func:`distinguishing_table`: what sets each segment apart, with the means in raw units;
* :func:`projection_separation`: how well each segment separates in the 2-D map;
* :func:`age_bands`, :func:`composition_table`, :func:`composition_shares` and
  :func:`composition_highlight` for the composition chart and its takeaway;
* :func:`value_label` and :func:`feature_label`: data values and feature columns in the
  report language (the segment names quote them);
* :func:`export_frame`: the rows of ``segments.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import ParamsError
from .i18n import catalog, t
from .playbook import CLUSTERING_RULES, PlaybookAction
from .segmentation import GONE, NEW, SegmentationModel, composition, distinguishing_features

__all__ = [
    "AGE_LABELS",
    "COMPOSITION_ATTRIBUTES",
    "EXPORT_FEATURES",
    "MAX_LEVELS",
    "MIN_BASE",
    "RULE_Z",
    "active_mask",
    "age_bands",
    "best_k_by_index",
    "biggest_movement",
    "composition_highlight",
    "composition_shares",
    "composition_table",
    "distinguishing_table",
    "export_frame",
    "feature_label",
    "flow_summary",
    "level_order",
    "migration_flows",
    "model_from_params",
    "name_overrides",
    "period_revenue",
    "projection_separation",
    "raw_feature",
    "segment_revenue",
    "segment_rules",
    "value_label",
]

#: Message catalog prefix of the report's wording (labels of features and values).
_P = "report_segmentation"
#: Log features and the raw column they transform (means are shown in raw units).
_LOG_TO_RAW = {
    "log_recency": "recency_days",
    "log_frequency": "frequency",
    "log_monetary": "monetary",
    "log_avg_order_value": "avg_order_value",
}
#: Values shown per attribute in the composition chart (the rest is "other").
MAX_LEVELS = 6
#: Smallest number of customers behind a composition statement.
MIN_BASE = 20
#: Standardized mean differences from which a difference is "much" / not "slight".
SMD_STRONG, SMD_CLEAR = 1.2, 0.5

#: ``segmentation:`` parameters passed to the model unchanged.
_MODEL_KEYS = (
    "method",
    "k",
    "min_segment_share",
    "features",
    "categorical_features",
    "scaling",
    "clip",
    "max_missing_share",
    "k_rule",
    "silhouette_sample",
    "selection_sample",
    "n_bootstrap",
    "bootstrap_sample",
    "stability_threshold",
    "min_silhouette",
    "null_margin",
    "large_data_threshold",
    "n_init",
    "random_state",
)

#: Feature columns copied into ``segments.csv`` (those that exist), in this order.
EXPORT_FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "avg_order_value",
    "discount_share",
    "return_rate",
    "complaints",
    "satisfaction",
)

#: Customer attributes profiled per segment (those present in the customers table).
COMPOSITION_ATTRIBUTES = (
    "customer_type",
    "region",
    "age_band",
    "gender",
    "income_band",
    "acquisition_channel",
)

#: A segment trait counts when the segment mean is this many population standard
#: deviations from the overall mean (the same order as the names' "high/low value" cut).
RULE_Z = 0.5

_Z_COLUMNS = {
    "recency": ("log_recency", "recency_days"),
    "frequency": ("log_frequency", "frequency"),
    "monetary": ("log_monetary", "monetary"),
    "tenure": ("tenure_days",),
    "complaints": ("complaints",),
}
#: The z-score that decided each rule (shown as the reason).
_RULE_EVIDENCE = {
    "cant_lose": "recency",
    "at_risk": "recency",
    "lapsed": "recency",
    "complaints": "complaints",
    "new": "tenure",
    "champions": "frequency",
    "high_value": "monetary",
    "loyal": "frequency",
    "medium": "monetary",
    "low": "monetary",
}


# --------------------------------------------------------------------------- model
def model_from_params(params: Mapping[str, Any]) -> SegmentationModel:
    """A :class:`~analysis.segmentation.SegmentationModel` configured by the
    ``segmentation:`` parameters (``names`` is used by the report, not the model).

    Examples
    --------
    >>> from analysis.config import load_defaults
    >>> model_from_params(load_defaults()["segmentation"]).k_range
    (2, 10)
    """
    kwargs = {key: params[key] for key in _MODEL_KEYS if key in params}
    if "k_range" in params:
        kwargs["k_range"] = tuple(params["k_range"])
    if kwargs.get("categorical_features") == []:
        kwargs["categorical_features"] = None
    return SegmentationModel(**kwargs)


def name_overrides(names: Mapping[Any, Any] | None) -> dict[int, str]:
    """``segmentation.names`` with integer segment ids (YAML and ``--set`` give strings).

    Raises
    ------
    ParamsError
        If a key is not a whole number.
    """
    out: dict[int, str] = {}
    for key, value in (names or {}).items():
        try:
            out[int(str(key).strip())] = str(value)
        except ValueError:
            raise ParamsError(
                f"segmentation.names: keys must be segment ids (0, 1, ...), got {key!r}"
            ) from None
    return out


# --------------------------------------------------------------------------- wording
def value_label(attribute: str, value: object, language: str = "en") -> str:
    """A data value in the report language where the catalog knows it (customer types,
    regions, categories ...); the markers ``(missing)`` and ``(other)`` of
    :func:`analysis.segmentation.composition` as words; anything else unchanged.

    Examples
    --------
    >>> value_label("customer_type", "enterprise"), value_label("region", "Mars")
    ('Enterprises', 'Mars')
    """
    text = str(value)
    if text == "(missing)":
        return t(f"{_P}.value.missing", language)
    if text == "(other)":
        return t(f"{_P}.value.other", language)
    key = f"{_P}.value.{attribute}.{text}"
    return t(key, language) if key in catalog(language) else text


def feature_label(
    column: str,
    language: str = "en",
    *,
    share_columns: Mapping[str, Sequence[str]] | None = None,
    scheme: str = "transactional",
) -> str:
    """Readable name of a feature column; share columns name their category or channel.

    Parameters
    ----------
    column
        A feature column (``log_monetary``, ``share_cat_electronics`` ...).
    language
        ``"en"`` or ``"zh"``.
    share_columns
        ``features.attrs["share_columns"]`` of :func:`analysis.features.customer_features`:
        column -> (kind, value), so a shortened column name still shows its category.
    scheme
        ``"subscription"`` for a unit whose purchases are regular bills: the catalog's
        ``..._subscription`` names ("Days since last bill", "Average bill") where it has
        them.

    Examples
    --------
    >>> feature_label("log_monetary"), feature_label("share_ch_web")
    ('Net revenue to date', 'Spend via web')
    """
    column = str(column)
    names = catalog(language)

    def billed(key: str) -> str:
        variant = f"{key}_subscription"
        return variant if scheme == "subscription" and variant in names else key

    key = f"{_P}.feature.{column}"
    if key in names:
        return t(billed(key), language)
    if column.startswith(("share_cat_", "share_ch_")):
        kind = "cat" if column.startswith("share_cat_") else "ch"
        if column.endswith("_other"):
            return t(billed(f"{_P}.feature.share_{kind}_other"), language)
        source = (share_columns or {}).get(column)
        value = source[1] if source else column.split("_", 2)[2]
        return t(
            billed(f"{_P}.feature.share_{kind}"),
            language,
            value=value_label("category", value, language),
        )
    return column


def raw_feature(column: str) -> str:
    """The raw column a log feature transforms (``log_monetary`` -> ``monetary``)."""
    return _LOG_TO_RAW.get(column, column)


# --------------------------------------------------------------------------- populations
def active_mask(features: pd.DataFrame, window_days: int) -> pd.Series:
    """Customers with a completed purchase in the ``window_days`` before the snapshot.

    ``recency_days`` counts from the last purchase day to the (exclusive) snapshot date, so
    a purchase on the day before the snapshot has recency 1 and the window holds recency
    1..``window_days``.
    """
    return (features["recency_days"] <= int(window_days)).rename("active")


def period_revenue(
    orders: pd.DataFrame, start: pd.Timestamp, end_exclusive: pd.Timestamp
) -> pd.Series:
    """Net revenue (purchases minus refunds) per customer of orders dated in
    ``[start, end_exclusive)``, indexed by customer_id as str."""
    dates = orders["order_date"]
    inside = orders.loc[(dates >= start) & (dates < end_exclusive) & orders["customer_id"].notna()]
    revenue = inside.groupby(inside["customer_id"].astype(str))["amount"].sum()
    return revenue.astype("float64").rename("revenue").rename_axis("customer_id")


def segment_revenue(labels: pd.Series, revenue: pd.Series, k: int) -> pd.DataFrame:
    """Revenue per segment and its share.

    Parameters
    ----------
    labels
        Segment per customer (index customer_id).
    revenue
        Revenue per customer; customers without an entry count 0, revenue of customers
        without a segment is left out.
    k
        Number of segments (every id 0..k-1 gets a row).

    Returns
    -------
    DataFrame
        Index ``segment``: ``revenue``, ``share`` (NaN when total revenue is not positive).
    """
    joined = revenue.reindex(labels.index).fillna(0.0)
    by_segment = joined.groupby(labels.to_numpy()).sum().reindex(range(k), fill_value=0.0)
    total = float(by_segment.sum())
    share = by_segment / total if total > 0 else by_segment * math.nan
    out = pd.DataFrame({"revenue": by_segment, "share": share})
    out.index.name = "segment"
    return out


# --------------------------------------------------------------------------- k selection
def best_k_by_index(k_scores: pd.DataFrame) -> dict[str, int]:
    """The k each index prefers among the eligible candidates (all when none is eligible):
    highest silhouette and Calinski-Harabasz, lowest Davies-Bouldin; ties to the smaller k."""
    if k_scores.empty:
        return {}
    eligible = k_scores[k_scores["eligible"].astype(bool)] if "eligible" in k_scores else k_scores
    pool = eligible if not eligible.empty else k_scores
    out = {}
    for column, higher in (
        ("silhouette", True),
        ("calinski_harabasz", True),
        ("davies_bouldin", False),
    ):
        values = pool[column].dropna()
        if values.empty:
            continue
        best = values.max() if higher else values.min()
        out[column] = int(min(values.index[values == best]))
    return out


# --------------------------------------------------------------------------- actions
def _z(zscores: pd.DataFrame, segment: Any, trait: str) -> float:
    for column in _Z_COLUMNS[trait]:
        if column in zscores.columns:
            value = float(zscores.loc[segment, column])
            return value if math.isfinite(value) else 0.0
    return 0.0


def segment_rules(zscores: pd.DataFrame, *, threshold: float = RULE_Z) -> pd.DataFrame:
    """The profile rule of each segment: the key of its ``clustering_segment`` playbook
    entry (:data:`analysis.playbook.CLUSTERING_RULES`).

    Rules are tried in this order on the segment's z-scores (R = recency in days,
    F = purchase days, M = net revenue, T = tenure, C = complaints; ``t`` = ``threshold``);
    the first that applies wins:

    ==============  ====================================================================
    ``cant_lose``   R >= +t and M >= +t: valuable customers drifting away
    ``at_risk``     R >= +t and M > -t: buying less recently than most
    ``lapsed``      R >= +t (and low value)
    ``complaints``  C >= +t: service problems come first
    ``new``         T <= -t: recently acquired
    ``champions``   M >= +t and F >= +t
    ``high_value``  M >= +t (rare, large purchases)
    ``loyal``       M > -t and F >= +t
    ``medium``      M > -t
    ``low``         otherwise
    ==============  ====================================================================

    Parameters
    ----------
    zscores
        Output of :func:`analysis.segmentation.zscore_profile` (index segment). Missing
        trait columns count as average (z = 0).
    threshold
        How far from average (in standard deviations) a trait must be.

    Returns
    -------
    DataFrame
        Index ``segment``: ``rule``, ``vocabulary``, ``key``, ``trait`` (the z-score that
        decided) and ``z`` (its value).

    Examples
    --------
    >>> z = pd.DataFrame({"log_recency": [1.0, -1.0], "log_monetary": [0.0, 1.0],
    ...                   "log_frequency": [0.0, 1.0]}, index=[0, 1])
    >>> segment_rules(z)["rule"].tolist()
    ['at_risk', 'champions']
    """
    rows = []
    for segment in zscores.index:
        r, f, m = (_z(zscores, segment, x) for x in ("recency", "frequency", "monetary"))
        tenure, complaints = _z(zscores, segment, "tenure"), _z(zscores, segment, "complaints")
        if r >= threshold:
            rule = "cant_lose" if m >= threshold else "at_risk" if m > -threshold else "lapsed"
        elif complaints >= threshold:
            rule = "complaints"
        elif tenure <= -threshold:
            rule = "new"
        elif m >= threshold:
            rule = "champions" if f >= threshold else "high_value"
        elif m > -threshold:
            rule = "loyal" if f >= threshold else "medium"
        else:
            rule = "low"
        trait = _RULE_EVIDENCE[rule]
        vocabulary, key = CLUSTERING_RULES[rule]
        rows.append((segment, rule, vocabulary, key, trait, _z(zscores, segment, trait)))
    out = pd.DataFrame(rows, columns=["segment", "rule", "vocabulary", "key", "trait", "z"])
    return out.set_index("segment")


# --------------------------------------------------------------------------- profiles
def distinguishing_table(
    features: pd.DataFrame,
    labels: pd.Series,
    columns: Sequence[str],
    *,
    top: int = 3,
) -> pd.DataFrame:
    """:func:`analysis.segmentation.distinguishing_features` with the means in raw units.

    Returns
    -------
    DataFrame
        The columns of ``distinguishing_features`` plus ``raw_feature`` (the raw column of
        a log feature), ``raw_segment_mean`` / ``raw_rest_mean`` (its mean in the segment
        and over everybody else, missing values skipped) and ``strength``: ``"strong"``
        (absolute SMD >= 1.2), ``"clear"`` (>= 0.5) or ``"slight"``.
    """
    table = distinguishing_features(features, labels, top=top, columns=list(columns))
    raw = table["feature"].map(raw_feature)
    raw_columns = list(dict.fromkeys(raw))
    groups = features[raw_columns].astype("float64").groupby(labels.to_numpy())
    sums, counts = groups.sum(), groups.count()
    segment_mean = sums / counts
    rest_mean = (sums.sum() - sums) / (counts.sum() - counts)
    size = table["smd"].abs()
    return table.assign(
        raw_feature=raw,
        raw_segment_mean=[
            segment_mean.loc[s, c] for s, c in zip(table["segment"], raw, strict=True)
        ],
        raw_rest_mean=[rest_mean.loc[s, c] for s, c in zip(table["segment"], raw, strict=True)],
        strength=np.where(
            size >= SMD_STRONG, "strong", np.where(size >= SMD_CLEAR, "clear", "slight")
        ),
    )


def projection_separation(points: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Centres of the segments in a 2-D map and, per segment, the share of its points
    nearest its own centre (how well it separates in the picture).

    Parameters
    ----------
    points
        Output of :func:`analysis.segmentation.projection_2d` (``pc1``, ``pc2``, ``segment``).

    Returns
    -------
    (DataFrame, Series)
        Centres (index segment: ``pc1``, ``pc2``) and the own-centre share per segment.
    """
    centres = points.groupby("segment")[["pc1", "pc2"]].mean()
    xy = points[["pc1", "pc2"]].to_numpy()
    dist = ((xy[:, None, :] - centres.to_numpy()[None, :, :]) ** 2).sum(axis=2)
    nearest = centres.index.to_numpy()[dist.argmin(axis=1)]
    own = (
        pd.Series(nearest == points["segment"].to_numpy())
        .groupby(points["segment"].to_numpy())
        .mean()
    )
    return centres, own


# --------------------------------------------------------------------------- migration
def biggest_movement(counts: pd.DataFrame) -> dict[str, Any] | None:
    """The largest flow between two *different* segments of a migration count table
    (``new`` row and ``gone`` column excluded); ``share`` is of the source row's customers
    active at both dates. None when nobody changed segment."""
    segments = [c for c in counts.columns if c != GONE]
    rows = [r for r in counts.index if r != NEW]
    best = None
    for source in rows:
        stayed_active = int(counts.loc[source, segments].sum())
        for target in segments:
            if target == source:
                continue
            n = int(counts.loc[source, target])
            if n > 0 and (best is None or n > best["count"]):
                best = {
                    "source": source,
                    "target": target,
                    "count": n,
                    "share": n / stayed_active if stayed_active else math.nan,
                }
    return best


def flow_summary(counts: pd.DataFrame) -> dict[str, Any]:
    """Totals of a migration count table: ``stayed`` (same segment), ``moved`` (other
    segment), ``new`` and ``gone`` customers, ``stayed_share`` of the customers active at
    both dates, and the main destination of the new (``new_to``) and source of the gone
    (``gone_from``) customers (None when there are none)."""
    segments = [c for c in counts.columns if c != GONE]
    rows = [r for r in counts.index if r != NEW]
    both = counts.loc[rows, segments]
    stayed = int(sum(int(both.loc[s, s]) for s in rows if s in segments))
    total_both = int(both.to_numpy().sum())
    new_row = counts.loc[NEW, segments] if NEW in counts.index else pd.Series(dtype="int64")
    gone_col = counts.loc[rows, GONE] if GONE in counts.columns else pd.Series(dtype="int64")
    return {
        "stayed": stayed,
        "moved": total_both - stayed,
        "stayed_share": stayed / total_both if total_both else math.nan,
        "new": int(new_row.sum()),
        "gone": int(gone_col.sum()),
        "new_to": new_row.idxmax() if new_row.sum() > 0 else None,
        "gone_from": gone_col.idxmax() if gone_col.sum() > 0 else None,
    }


def migration_flows(counts: pd.DataFrame) -> pd.DataFrame:
    """The migration count table per current segment: customers active at the previous
    date (``previous_active``), who ``stayed``, ``moved_in`` from another segment, came in
    ``new``, ``moved_out`` to another segment or are ``gone_out``, those active now
    (``current_active``) and the ``net`` change. Index ``segment``."""
    segments = [s for s in counts.columns if s != GONE]
    rows = []
    for s in segments:
        before = int(counts.loc[s].sum()) if s in counts.index else 0
        after = int(counts[s].sum())
        rows.append(
            {
                "segment": s,
                "previous_active": before,
                "stayed": int(counts.loc[s, s]) if s in counts.index else 0,
                "moved_in": int(
                    counts.loc[[r for r in counts.index if r not in (NEW, s)], s].sum()
                ),
                "new_in": int(counts.loc[NEW, s]) if NEW in counts.index else 0,
                "moved_out": int(counts.loc[s, [x for x in segments if x != s]].sum())
                if before
                else 0,
                "gone_out": int(counts.loc[s, GONE]) if before else 0,
                "current_active": after,
                "net": after - before,
            }
        )
    columns = [
        "segment",
        "previous_active",
        "stayed",
        "moved_in",
        "new_in",
        "moved_out",
        "gone_out",
        "current_active",
        "net",
    ]
    return pd.DataFrame(rows, columns=columns).set_index("segment")


# --------------------------------------------------------------------------- composition
_AGE_EDGES = (0, 25, 35, 45, 55, 65, np.inf)
AGE_LABELS = ("<25", "25-34", "35-44", "45-54", "55-64", "65+")


def age_bands(ages: pd.Series) -> pd.Series:
    """Ages cut into bands ``<25, 25-34, ..., 65+`` (missing stays missing)."""
    values = pd.to_numeric(ages, errors="coerce")
    bands = pd.cut(values, bins=list(_AGE_EDGES), labels=list(AGE_LABELS), right=False)
    return bands.astype("object").where(values.notna(), None)


def composition_table(
    customers: pd.DataFrame | None,
    labels: pd.Series,
    attributes: Sequence[str] = COMPOSITION_ATTRIBUTES,
) -> pd.DataFrame:
    """:func:`analysis.segmentation.composition` over the attributes that exist, with
    ``age`` replaced by ``age_band``. Empty when there is no customers table."""
    columns = ["segment", "attribute", "value", "n", "share", "overall_share", "index"]
    if customers is None or customers.empty or "customer_id" not in customers.columns:
        return pd.DataFrame(columns=columns)
    table = customers.drop_duplicates("customer_id")
    if "age" in table.columns:
        table = table.assign(age_band=age_bands(table["age"]))
    present = [a for a in attributes if a in table.columns and table[a].notna().any()]
    if not present:
        return pd.DataFrame(columns=columns)
    return composition(table[["customer_id", *present]], labels, by=present)


#: Attributes whose values have a natural order (shown in it, not by size).
_LEVEL_ORDER = {
    "age_band": AGE_LABELS,
    "income_band": ("low", "middle", "medium", "high", "very_high"),
}


def level_order(attribute: str, overall: pd.Series) -> list:
    """Values of one attribute in display order: natural order where there is one, else
    largest first; missing values always last, so they never hide a real group.

    ``overall`` is the population share per value."""
    values = [v for v in overall.sort_values(ascending=False).index if v != "(missing)"]
    natural = _LEVEL_ORDER.get(attribute)
    if natural:
        rank = {v: i for i, v in enumerate(natural)}
        values = sorted(values, key=lambda v: (rank.get(v, len(rank)), -overall[v]))
    return values + (["(missing)"] if "(missing)" in overall.index else [])


def composition_shares(
    table: pd.DataFrame,
    attribute: str,
    segments: Sequence[int],
    *,
    max_levels: int = MAX_LEVELS,
) -> pd.DataFrame:
    """The mix of one attribute per segment, as the composition chart stacks it.

    Parameters
    ----------
    table
        Output of :func:`composition_table`.
    attribute
        One of its attributes.
    segments
        The segment ids (rows, in order).
    max_levels
        Values shown; when more than one more exists, the rest is summed into ``(other)``.

    Returns
    -------
    DataFrame
        Index: the segments, then ``"all"`` (the whole population); columns: the values
        in :func:`level_order`, then ``(other)`` when values were grouped; shares.
    """
    part = table.loc[table["attribute"] == attribute]
    mix = part.pivot_table(index="segment", columns="value", values="share", fill_value=0.0)
    overall = part.groupby("value")["overall_share"].first()
    order = level_order(attribute, overall)
    keep = order[:max_levels] if len(order) > max_levels + 1 else order
    mix = mix.reindex(index=list(segments), columns=order, fill_value=0.0)
    shares = mix[keep].copy()
    all_row = overall.reindex(keep)
    if len(keep) < len(order):
        shares["(other)"] = mix[[v for v in order if v not in keep]].sum(axis=1)
        all_row["(other)"] = overall.reindex(order).drop(keep).sum()
    shares.loc["all"] = all_row
    return shares


def composition_highlight(
    table: pd.DataFrame, sizes: pd.Series, *, min_base: int = MIN_BASE
) -> dict[str, Any] | None:
    """The most over-represented group of :func:`composition_table`: the row with the
    highest index among values that are recorded, held by at least ``min_base`` customers
    of the segment, and neither rare (< 5%) nor nearly everybody (>= 95%) overall. Its
    ``segment``, ``attribute``, ``value``, ``share``, ``overall_share`` and ``index``
    (None when no row qualifies). ``sizes`` is the number of customers per segment."""
    base = table.assign(seg_n=table["segment"].map(sizes))
    candidates = base.loc[
        (base["value"] != "(missing)")
        & (base["n"] >= min_base)
        & (base["overall_share"] >= 0.05)
        & (base["overall_share"] < 0.95)
    ]
    if candidates.empty:
        return None
    row = candidates.loc[candidates["index"].idxmax()]
    return {
        "segment": int(row["segment"]),
        "attribute": row["attribute"],
        "value": row["value"],
        "share": row["share"],
        "overall_share": row["overall_share"],
        "index": row["index"],
    }


# --------------------------------------------------------------------------- export
def export_frame(
    features: pd.DataFrame,
    labels: pd.Series,
    names: pd.Series,
    actions: Mapping[Any, PlaybookAction],
    *,
    separator: str = "; ",
) -> pd.DataFrame:
    """The rows of ``segments.csv``: one per segmented customer, real ids.

    Columns: ``customer_id``, ``segment_id``, ``segment_name``, the features of
    :data:`EXPORT_FEATURES` that exist, ``action`` (the segment's recommended actions) and
    ``priority``. Sorted by segment id, then customer id, so two runs give identical files.
    """
    keep = [c for c in EXPORT_FEATURES if c in features.columns]
    frame = features.loc[labels.index, keep].copy()
    for column in keep:
        if pd.api.types.is_float_dtype(frame[column]):
            decimals = 2 if column in ("monetary", "avg_order_value", "satisfaction") else 4
            frame[column] = frame[column].round(decimals)
    segment = labels.astype("int64")
    out = pd.DataFrame(
        {
            "customer_id": labels.index.astype(str),
            "segment_id": segment.to_numpy(),
            "segment_name": segment.map(names).to_numpy(),
        }
    )
    for column in keep:
        out[column] = frame[column].to_numpy()
    out["action"] = segment.map(lambda s: actions[s].action_text(separator)).to_numpy()
    out["priority"] = segment.map(lambda s: actions[s].priority).to_numpy()
    return out.sort_values(["segment_id", "customer_id"], kind="mergesort").reset_index(drop=True)

"""The "Needs and preferences" report as one pure pipeline (issue #18).

:func:`build` takes the unit's clean data, the report period and the merged parameters and
returns a frozen :class:`NeedsResult`:

* :class:`NeedsPart`: the primary need of every customer (:mod:`analysis.needs`), the need
  mix of the unit, per RFM segment, per customer type and per business unit, the scorecard
  of the signals used, and the rows of ``needs.csv``;
* :class:`PreferencesPart`: category affinity per segment and need, cross-sell pairs, the
  next-best category per customer (``recommendations.csv``) and its honest evaluation
  against the popularity baseline on the period's purchases (:mod:`analysis.preferences`);
* :class:`CohortsPart`: retention and revenue by acquisition cohort, and the revenue bridge
  of the period against the previous one (:mod:`analysis.cohorts`);
* :class:`MomentsPart`: birthdays and relationship anniversaries in the next period by
  value tier, and the rows of ``moments.csv`` (ids only; :mod:`analysis.moments`).

Nothing here displays or writes a file; the view (:mod:`analysis.report.views.needs`)
shows parts of the result. Every part carries a ``status`` saying when it does not apply.

Two small public tables are meant for other reports (the summary and the playbook read
them, never the parts): :attr:`NeedsResult.need_summary` (customers, value and the action
of each need) and :attr:`NeedsResult.top_cross_sell` (the cross-sell of each RFM segment).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import cohorts as cohort_model
from .. import moments as moment_model
from .. import needs as needs_model
from .. import preferences as prefs
from ..data.load import Dataset
from ..i18n import t
from ..period import Period
from .shared import SharedWork

__all__ = [
    "MIN_GROUP",
    "NEED_SUMMARY_COLUMNS",
    "TOP_CROSS_SELL_COLUMNS",
    "CohortsPart",
    "MomentsPart",
    "NeedsPart",
    "NeedsResult",
    "PreferencesPart",
    "build",
    "category_label",
    "evidence_text",
    "need_mix",
    "reason_text",
]

#: Fewest customers of a group whose need shares a takeaway quotes.
MIN_GROUP = 20
#: Columns of :attr:`NeedsResult.need_summary`.
NEED_SUMMARY_COLUMNS = (
    "need_type",
    "customers",
    "share",
    "mean_confidence",
    "value",
    "value_share",
)
#: Columns of :attr:`NeedsResult.top_cross_sell`.
TOP_CROSS_SELL_COLUMNS = (
    "segment",
    "customers",
    "antecedent",
    "consequent",
    "support",
    "confidence",
    "lift",
    "next_best_category",
    "next_best_customers",
)


@dataclass(frozen=True)
class NeedsPart:
    """Primary needs.

    Attributes
    ----------
    status
        ``"ok"`` or ``"no_signals"`` (no purchases and no linked survey answer up to the
        period end: the frames are empty).
    customers
        :func:`analysis.needs.classify_needs` joined with ``rfm_segment``,
        ``customer_type`` and ``business_unit`` where known (index ``customer_id``).
    mix
        Customers per need for the whole unit: ``need_type``, ``customers``, ``share``,
        ``mean_confidence``.
    by_segment, by_type, by_unit
        :func:`need_mix` by RFM segment, customer type and business unit (None when the
        grouping is unknown or, for ``by_unit``, the report is for one unit).
    signals
        The scorecard as used: ``signal``, ``need``, ``weight``, ``direction`` (+1 / -1),
        ``customers`` (with a value), ``median``; signals without data are left out.
    importances
        Survey rating -> correlation with the overall score.
    premium
        The premium categories of the quality signal.
    source
        ``"behaviour"``, ``"survey"`` (survey answers only) or ``"both"``.
    leading_segments
        Need -> (RFM segment, share): the segment of at least :data:`MIN_GROUP` customers
        where the need has its largest share.
    export
        Rows of ``needs.csv``: ``customer_id``, ``need_type``, ``confidence``,
        ``evidence`` (in the report language).
    known_customers
        Customers of the unit (the customers table, else everyone in the orders and
        surveys): the base of ``coverage``.
    coverage
        Share of the known customers that have evidence (a purchase or a linked survey
        answer up to the period end) and so a need; the others are not guessed.
    """

    status: str
    customers: pd.DataFrame
    mix: pd.DataFrame
    by_segment: pd.DataFrame | None
    by_type: pd.DataFrame | None
    by_unit: pd.DataFrame | None
    signals: pd.DataFrame
    importances: Mapping[str, float]
    premium: tuple[str, ...]
    source: str
    export: pd.DataFrame
    leading_segments: Mapping[str, tuple[str, float]]
    known_customers: int = 0
    coverage: float = math.nan


@dataclass(frozen=True)
class PreferencesPart:
    """Category preferences and the next-best category.

    Attributes
    ----------
    status
        ``"ok"``; ``"no_categories"`` (no product category, or fewer than two product
        groups: the other fields are empty) or ``"no_purchases"``.
    grouping
        How product groups were made (:func:`analysis.preferences.product_groups`).
    categories
        Product groups by share of customers who bought them (the popularity).
    by_segment, by_need
        :func:`analysis.preferences.category_affinity` (shares, index) by RFM segment and
        by primary need, groups of at least :data:`MIN_GROUP` customers (None without).
    pairs
        :func:`analysis.preferences.cross_sell_pairs` over the customers' purchases up to
        the period end, support at least ``min_support``; one row per pair of categories
        (the direction with the higher confidence).
    segment_pairs
        The top pair (by lift) within each RFM segment of at least :data:`MIN_GROUP`
        customers: ``segment``, ``antecedent``, ``consequent``, ``support``,
        ``confidence``, ``lift``.
    min_support
        The minimum support used.
    evaluation
        :class:`analysis.preferences.NextBestEvaluation` with the report period hidden
        (None when nobody bought both before and in it).
    export
        Rows of ``recommendations.csv``: ``customer_id``, ``next_best_category``,
        ``score``, ``reason``.
    """

    status: str
    grouping: str
    categories: pd.Series
    by_segment: tuple[pd.DataFrame, pd.DataFrame] | None
    by_need: tuple[pd.DataFrame, pd.DataFrame] | None
    pairs: pd.DataFrame
    segment_pairs: pd.DataFrame
    min_support: float
    evaluation: prefs.NextBestEvaluation | None
    export: pd.DataFrame


@dataclass(frozen=True)
class CohortsPart:
    """Acquisition cohorts and the revenue bridge.

    Attributes
    ----------
    status
        ``"ok"`` or ``"no_purchases"`` (no completed sale up to the period end).
    cohorts
        :class:`analysis.cohorts.CohortTables` (quarters, or months when ``period_type``
        is ``month``), the latest 12 cohorts up to the period end.
    bridge
        :func:`analysis.cohorts.revenue_bridge` of the period against the previous one.
    previous
        The previous period.
    """

    status: str
    cohorts: cohort_model.CohortTables | None
    bridge: pd.DataFrame | None
    previous: Period


@dataclass(frozen=True)
class MomentsPart:
    """Important moments of the next period.

    Attributes
    ----------
    status
        ``"ok"`` or ``"none"`` (no birthday and no relationship start is known).
    next_period
        The period the moments fall in.
    has_birthdays
        Whether the customers carry birth dates.
    counts
        :func:`analysis.moments.moment_counts` by value tier.
    export
        Rows of ``moments.csv``: ``customer_id``, ``moment``, ``date``, ``years``,
        ``value_tier``.
    """

    status: str
    next_period: Period
    has_birthdays: bool
    counts: pd.DataFrame
    export: pd.DataFrame


@dataclass(frozen=True)
class NeedsResult:
    """Everything the "Needs and preferences" report shows.

    Attributes
    ----------
    need_summary
        One row per need of :data:`analysis.needs.NEEDS` (all four, in that order; empty
        when no customer has evidence), for the summary and the playbook:
        ``need_type``; ``customers`` (with this primary need); ``share`` (of the classified
        customers); ``mean_confidence`` (NaN without customers); ``value`` (their net
        revenue in the value report's RFM window, the basis of its value tiers; 0 without
        purchases); ``value_share`` (of the classified customers' value; NaN when that is
        0). The action for each need is the playbook's ``need_type`` entry
        (:func:`analysis.playbook.action_for`), which the needs report and the summary
        both quote.
    top_cross_sell
        One row per RFM segment of at least :data:`MIN_GROUP` customers with purchases
        (empty when preferences do not apply): ``segment`` (RFM segment key); ``customers``
        (in the segment); ``antecedent``, ``consequent``, ``support``, ``confidence``,
        ``lift`` (the segment's pair with the highest lift at the minimum support; NaN /
        None when no pair reaches it); ``next_best_category`` (the most common next-best
        category of its customers) and ``next_best_customers`` (how many have it).
    """

    period: Period
    as_of: pd.Timestamp
    language: str
    needs: NeedsPart
    preferences: PreferencesPart
    cohorts: CohortsPart
    moments: MomentsPart
    need_summary: pd.DataFrame
    top_cross_sell: pd.DataFrame


def need_mix(customers: pd.DataFrame, by: str) -> pd.DataFrame:
    """Share of each need within each group of ``by``.

    Returns
    -------
    DataFrame
        Index: the groups (in order of size), columns :data:`analysis.needs.NEEDS` (shares
        summing to 1 per row) and ``customers`` (the group's size).

    Examples
    --------
    >>> frame = pd.DataFrame({"need_type": ["price", "price", "service"], "g": ["a", "a", "b"]})
    >>> need_mix(frame, "g")["price"].tolist()
    [1.0, 0.0]
    """
    known = customers.loc[customers[by].notna()]
    counts = pd.crosstab(known[by].astype(str), known["need_type"])
    counts = counts.reindex(columns=list(needs_model.NEEDS), fill_value=0)
    size = counts.sum(axis=1)
    shares = counts.div(size.where(size > 0), axis=0).fillna(0.0)
    shares["customers"] = size
    return shares.sort_values("customers", ascending=False, kind="stable")


def evidence_text(row: Mapping[str, Any], language: str) -> str:
    """The evidence of one classified customer in words, e.g. ``discount share 34%
    (median 8%)``."""
    signal = row.get("evidence_signal")
    if not isinstance(signal, str):
        return t("needs.evidence.none", language)
    kind = next(s.kind for s in needs_model.SIGNALS if s.name == signal)
    value, median = float(row["evidence_value"]), float(row["evidence_median"])
    label = t(f"needs.signal.{signal}", language)
    if kind == "share":
        return t(
            "needs.evidence.share",
            language,
            signal=label,
            value=f"{value:.0%}",
            median=f"{median:.0%}",
        )
    if kind == "rate":
        return t(
            "needs.evidence.rate",
            language,
            signal=label,
            value=f"{value:.1f}",
            median=f"{median:.1f}",
        )
    if kind == "index":
        ratio = math.exp(value) - 1.0
        key = "needs.evidence.index_above" if ratio >= 0 else "needs.evidence.index_below"
        return t(key, language, value=f"{abs(ratio):.0%}")
    return t("needs.evidence.survey", language, need=t(f"needs.need.{row['need_type']}", language))


def _needs_part(
    data: Dataset, as_of: pd.Timestamp, params: Mapping[str, Any], segments: pd.Series | None
) -> NeedsPart:
    options = params.get("needs") or {}
    language = str(params.get("language", "en"))
    # measured once: the classification and the scorecard both read them
    measured = needs_model.need_signals(
        data.orders,
        as_of,
        interactions=data.interactions,
        surveys=data.survey_responses,
        premium=options.get("premium_categories") or None,
        digital_channels=options.get("digital_channels") or None,
    )
    found = needs_model.classify_signals(measured)
    customers = found.copy()
    if segments is not None:
        customers["rfm_segment"] = segments.reindex(customers.index).astype("object")
    info = data.customers
    for column in ("customer_type", "business_unit"):
        if info is not None and column in info.columns:
            lookup = info.drop_duplicates("customer_id").set_index("customer_id")[column]
            lookup.index = lookup.index.astype(str)
            customers[column] = lookup.reindex(customers.index).astype("object")
    signals_table = _signal_table(measured, found.attrs["used"])
    kinds = set(signals_table["kind"])
    if kinds == {"survey"}:
        source = "survey"
    elif "survey" in kinds:
        source = "both"
    else:
        source = "behaviour"
    if found.empty:
        empty = pd.DataFrame(columns=["customer_id", "need_type", "confidence", "evidence"])
        return NeedsPart(
            "no_signals",
            customers,
            _mix(customers),
            None,
            None,
            None,
            signals_table,
            {},
            (),
            source,
            empty,
            {},
        )
    known = _known_customers(data)
    by_segment = need_mix(customers, "rfm_segment") if "rfm_segment" in customers else None
    by_type = need_mix(customers, "customer_type") if "customer_type" in customers else None
    by_unit = None
    if str(params.get("unit", "all")) == "all" and "business_unit" in customers:
        by_unit = need_mix(customers, "business_unit")
        by_unit = by_unit if len(by_unit) > 1 else None
    export = pd.DataFrame(
        {
            "customer_id": customers.index.astype(str),
            "need_type": customers["need_type"].to_numpy(),
            "confidence": customers["confidence"].round(3).to_numpy(),
            "evidence": [
                evidence_text(row, language) for row in found.reset_index().to_dict("records")
            ],
        }
    )
    return NeedsPart(
        "ok",
        customers,
        _mix(customers),
        by_segment if by_segment is not None and len(by_segment) else None,
        by_type if by_type is not None and len(by_type) else None,
        by_unit,
        signals_table,
        dict(found.attrs.get("importances", {})),
        tuple(found.attrs.get("premium", ())),
        source,
        export,
        _leading(by_segment),
        known,
        len(customers) / known if known else math.nan,
    )


def _known_customers(data: Dataset) -> int:
    if data.customers is not None and len(data.customers):
        return int(data.customers["customer_id"].nunique())
    ids = [
        frame["customer_id"].dropna().astype(str)
        for frame in (data.orders, data.survey_responses)
        if frame is not None and "customer_id" in frame.columns
    ]
    return int(pd.concat(ids).nunique()) if ids else 0


def _leading(mix: pd.DataFrame | None) -> dict[str, tuple[str, float]]:
    if mix is None:
        return {}
    big = mix.loc[mix["customers"] >= MIN_GROUP]
    return {
        need: (str(big[need].idxmax()), float(big[need].max()))
        for need in needs_model.NEEDS
        if len(big) and big[need].max() > 0
    }


def _mix(customers: pd.DataFrame) -> pd.DataFrame:
    rows = []
    total = max(len(customers), 1)
    for need in needs_model.NEEDS:
        members = customers.loc[customers["need_type"] == need] if len(customers) else customers
        rows.append(
            {
                "need_type": need,
                "customers": len(members),
                "share": len(members) / total,
                "mean_confidence": float(members["confidence"].mean()) if len(members) else None,
            }
        )
    return pd.DataFrame(rows)


def _signal_table(measured: needs_model.NeedSignals, used: tuple[str, ...]) -> pd.DataFrame:
    """The scorecard of the signals the classification used (``used``: its
    ``attrs["used"]``, the signals that vary), so their z-scores are not computed twice."""
    rows = [
        {
            "signal": s.name,
            "need": s.need,
            "weight": s.weight,
            "direction": s.sign,
            "kind": s.kind,
            "customers": int(measured.values[s.name].notna().sum()),
            "median": float(measured.values[s.name].median()),
        }
        for s in needs_model.SIGNALS
        if s.name in used
    ]
    columns = ["signal", "need", "weight", "direction", "kind", "customers", "median"]
    return pd.DataFrame(rows, columns=columns)


def category_label(key: object, language: str) -> str:
    """A product group's name: the keyword groups of
    :data:`analysis.preferences.PRODUCT_GROUP_RULES` in ``language``, a category from the
    data as it is."""
    from ..i18n import catalog  # noqa: PLC0415

    name = f"needs.group.{key}"
    return catalog(language).get(name, str(key))


def reason_text(row: Mapping[str, Any], language: str) -> str:
    """Why a category is a customer's next best, in words."""
    category = category_label(row["next_best_category"], language)
    if row["reason"] == "repeat":
        return t("needs.reason.repeat", language, category=category, n=int(row["own_orders"]))
    if isinstance(row.get("because"), str):
        return t(
            "needs.reason.cross_sell",
            language,
            category=category,
            because=category_label(row["because"], language),
            confidence=f"{float(row['confidence']):.0%}",
            lift=f"{float(row['lift']):.1f}",
        )
    return t("needs.reason.popular", language, category=category)


def _affinity(
    counts: pd.DataFrame, groups: pd.Series | None
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Affinity of the groups of at least MIN_GROUP customers (a handful of customers
    would show chance as preference)."""
    if groups is None:
        return None
    known = groups.reindex(counts.index).dropna()
    sizes = known.value_counts()
    kept = known.loc[known.isin(sizes.index[sizes >= MIN_GROUP])]
    if kept.empty:
        return None
    return prefs.category_affinity(counts, kept)


def _preferences_part(
    data: Dataset,
    period: Period,
    params: Mapping[str, Any],
    segments: pd.Series | None,
    need_of: pd.Series | None,
) -> PreferencesPart:
    options = params.get("preferences") or {}
    min_support = float(options.get("min_support", 0.02))
    language = str(params.get("language", "en"))
    empty = pd.DataFrame(columns=["customer_id", "next_best_category", "score", "reason"])

    def nothing(status: str, grouping: str = "none") -> PreferencesPart:
        return PreferencesPart(
            status,
            grouping,
            pd.Series(dtype=float),
            None,
            None,
            pd.DataFrame(),
            pd.DataFrame(),
            min_support,
            None,
            empty,
        )

    orders = data.orders
    if orders is None or orders.empty:
        return nothing("no_purchases")
    groups, grouping = prefs.product_groups(orders)
    end = pd.Timestamp(period.end_exclusive)
    counts = prefs.category_counts(orders, groups, end=end)
    if grouping == "none" or counts.shape[1] < 2:
        return nothing("no_categories", grouping)
    if counts.empty:
        return nothing("no_purchases", grouping)
    by_segment = _affinity(counts, segments)
    by_need = _affinity(counts, need_of)
    pairs = prefs.cross_sell_pairs(counts, min_support=min_support)
    # one row per pair of categories: the direction with the higher confidence
    key = pairs.apply(lambda r: tuple(sorted((r["antecedent"], r["consequent"]))), axis=1)
    pairs = pairs.loc[~key.duplicated()] if len(pairs) else pairs
    rows = []
    if segments is not None:
        known = segments.reindex(counts.index).dropna()
        for segment, members in known.groupby(known.astype(str)).groups.items():
            if len(members) < MIN_GROUP:
                continue
            found = prefs.cross_sell_pairs(counts.loc[members], min_support=min_support)
            found = found.loc[found["lift"] > 1.0] if len(found) else found  # else no cross-sell
            if len(found):
                rows.append({"segment": segment, **found.iloc[0].to_dict()})
    segment_pairs = pd.DataFrame(rows)
    ranked = prefs.next_best_categories(counts)
    export = pd.DataFrame(
        {
            "customer_id": ranked["customer_id"].astype(str).to_numpy(),
            "next_best_category": ranked["next_best_category"].to_numpy(),
            "score": ranked["score"].round(3).to_numpy(),
            "reason": [reason_text(r, language) for r in ranked.to_dict("records")],
        }
    )
    evaluation = prefs.evaluate_next_best(
        orders, groups, pd.Timestamp(period.start), pd.Timestamp(period.end_exclusive)
    )
    return PreferencesPart(
        "ok",
        grouping,
        prefs.popularity(counts),
        by_segment,
        by_need,
        pairs,
        segment_pairs,
        min_support,
        evaluation if evaluation.customers else None,
        export,
    )


def _cohorts_part(data: Dataset, period: Period, params: Mapping[str, Any]) -> CohortsPart:
    previous = period.previous()
    orders = data.orders
    if orders is None or orders.empty:
        return CohortsPart("no_purchases", None, None, previous)
    end = pd.Timestamp(period.end_exclusive)
    freq = "M" if str(params.get("period_type", "quarter")) == "month" else "Q"
    tables = cohort_model.cohort_tables(orders, end, freq=freq)
    if tables.sizes.empty:
        return CohortsPart("no_purchases", None, None, previous)
    bridge = cohort_model.revenue_bridge(
        orders,
        (pd.Timestamp(period.start), end),
        (pd.Timestamp(previous.start), pd.Timestamp(previous.end_exclusive)),
    )
    return CohortsPart("ok", tables, bridge, previous)


def _moments_part(data: Dataset, period: Period, tiers: pd.Series | None) -> MomentsPart:
    upcoming = period.shift(1)
    customers = data.customers
    has_birthdays = customers is not None and "birthday" in customers.columns
    found = moment_model.important_moments(
        customers,
        data.orders,
        pd.Timestamp(upcoming.start),
        pd.Timestamp(upcoming.end_exclusive),
    )
    columns = ["customer_id", "moment", "date", "years", "value_tier"]
    if found.empty and not has_birthdays and (data.orders is None or data.orders.empty):
        return MomentsPart("none", upcoming, False, pd.DataFrame(), pd.DataFrame(columns=columns))
    tier = tiers.reindex(found["customer_id"].astype(str)) if tiers is not None else None
    export = found.assign(
        value_tier=tier.to_numpy() if tier is not None else None,
        date=found["date"].dt.date.astype(str) if len(found) else found["date"],
    )[columns]
    return MomentsPart(
        "ok", upcoming, has_birthdays, moment_model.moment_counts(found, tiers), export
    )


def _need_summary(part: NeedsPart, value: pd.Series | None) -> pd.DataFrame:
    """:attr:`NeedsResult.need_summary` from the needs part and each customer's value."""
    if part.status != "ok":
        return pd.DataFrame(columns=list(NEED_SUMMARY_COLUMNS))
    customers = part.customers
    worth = (
        value.reindex(customers.index).fillna(0.0).astype(float)
        if value is not None
        else pd.Series(0.0, index=customers.index)
    )
    total = float(worth.sum())
    rows = []
    for need in needs_model.NEEDS:
        members = customers["need_type"] == need
        rows.append(
            {
                "need_type": need,
                "customers": int(members.sum()),
                "share": float(members.mean()) if len(members) else math.nan,
                "mean_confidence": (
                    float(customers.loc[members, "confidence"].mean())
                    if members.any()
                    else math.nan
                ),
                "value": float(worth[members].sum()),
                "value_share": float(worth[members].sum()) / total if total > 0 else math.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(NEED_SUMMARY_COLUMNS))


def _top_cross_sell(part: PreferencesPart, segments: pd.Series | None) -> pd.DataFrame:
    """:attr:`NeedsResult.top_cross_sell`: each segment's top pair and next-best category."""
    if part.status != "ok" or segments is None or part.export.empty:
        return pd.DataFrame(columns=list(TOP_CROSS_SELL_COLUMNS))
    next_best = part.export.set_index("customer_id")["next_best_category"]
    known = segments.reindex(next_best.index).dropna().astype(str)
    pairs = part.segment_pairs.set_index("segment") if len(part.segment_pairs) else None
    rows = []
    for segment, members in known.groupby(known).groups.items():
        if len(members) < MIN_GROUP:
            continue
        counts = next_best.loc[members].value_counts()
        row = {
            "segment": segment,
            "customers": len(members),
            "antecedent": None,
            "consequent": None,
            "support": math.nan,
            "confidence": math.nan,
            "lift": math.nan,
            "next_best_category": str(counts.index[0]),
            "next_best_customers": int(counts.iloc[0]),
        }
        if pairs is not None and segment in pairs.index:
            pair = pairs.loc[segment]
            row.update(
                antecedent=str(pair["antecedent"]),
                consequent=str(pair["consequent"]),
                support=float(pair["support"]),
                confidence=float(pair["confidence"]),
                lift=float(pair["lift"]),
            )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(TOP_CROSS_SELL_COLUMNS))
    return frame.sort_values("customers", ascending=False, kind="stable").reset_index(drop=True)


def build(
    data: Dataset,
    period: Period,
    params: Mapping[str, Any],
    *,
    shared: SharedWork | None = None,
) -> NeedsResult:
    """Compute everything the "Needs and preferences" report shows.

    Parameters
    ----------
    data
        The unit's clean :class:`~analysis.data.load.Dataset` (``orders`` or
        ``survey_responses`` may be None).
    period
        The report period; data up to its end are used.
    params
        Merged parameters: ``language``, ``unit``, ``needs`` (``premium_categories``,
        ``digital_channels``: lists overriding the defaults of :mod:`analysis.needs`),
        ``preferences`` (``min_support`` of the cross-sell pairs, default 0.02).
    shared
        The unit's :class:`~analysis.pipelines.shared.SharedWork` (the value snapshot
        giving the RFM segments is reused from the value report).

    Returns
    -------
    NeedsResult

    Examples
    --------
    >>> result = build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)  # doctest: +SKIP
    """
    shared = shared if shared is not None else SharedWork(str(params.get("unit", "all")))
    # once per run: the strategy summary quotes this result (need mix, cross-sell)
    return shared.once("needs", period, params, lambda: _build(data, period, params, shared))


def _build(
    data: Dataset, period: Period, params: Mapping[str, Any], shared: SharedWork
) -> NeedsResult:
    as_of = pd.Timestamp(period.end_exclusive)
    segments = tiers = value = None
    orders = data.orders
    if orders is not None and len(orders) and (pd.to_datetime(orders["order_date"]) < as_of).any():
        snapshot = shared.value_snapshot(data, period.end, params, predict_clv=False)
        table = snapshot.table
        segments = table.loc[table["scored"].astype(bool), "rfm_segment"].astype("object")
        segments.index = segments.index.astype(str)
        tiers = table.loc[table["scored"].astype(bool), "value_tier"].astype("object")
        tiers.index = tiers.index.astype(str)
        value = table["monetary"].astype(float)
        value.index = value.index.astype(str)
    needs_part = _needs_part(data, as_of, params, segments)
    need_of = needs_part.customers["need_type"] if needs_part.status == "ok" else None
    preferences = _preferences_part(data, period, params, segments, need_of)
    return NeedsResult(
        period=period,
        as_of=as_of,
        language=str(params.get("language", "en")),
        needs=needs_part,
        preferences=preferences,
        cohorts=_cohorts_part(data, period, params),
        moments=_moments_part(data, period, tiers),
        need_summary=_need_summary(needs_part, value),
        top_cross_sell=_top_cross_sell(preferences, segments),
    )

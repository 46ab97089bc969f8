"""The "Value and lifecycle" report as one pure pipeline (issue #3, issue #13).

:func:`build` takes the unit's clean data, the report period and the merged parameters
and returns a frozen :class:`ValueResult`: two value snapshots (the period end, with CLV,
and the previous period end, with the current lifecycle thresholds and no CLV fit) from
:mod:`analysis.valuation`, and every table the report shows or exports, one part per
section:

* :class:`ValueResult` ``kpis`` and ``segment_changes``: the headline figures and every
  RFM segment's size, each vs the previous period end;
* :class:`RfmPart`: the r x f grid and the named segments with their playbook action;
* :class:`ParetoPart`: the Pareto curve, ABC classes and value tiers;
* :class:`ClvPart`: the CLV fit (or why there is none) and value by segment;
* :class:`LifecyclePart`: stage counts and the transitions since the previous period end;
* :class:`TypesPart`: value and segment mix per customer type;
* :class:`PlaybookPart`: the playbook action of every segment, stage and special type;
* ``actions``, ``export`` and ``export_groups``: the per-customer actions, the rows of
  ``rfm.csv`` and the action groups they fall into.

Nothing here displays, writes a file or reads another report's export; the view
(:mod:`analysis.report.views.value`) shows parts of the result. Every part carries a
``status`` saying when the data are too thin: one customer, no repeat buyers (no CLV
model), only refunds, or no orders in the period.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import valuation
from ..data.load import Dataset
from ..i18n import t
from ..lifecycle import (
    STAGES,
    BillingCycle,
    LifecycleThresholds,
    StageTransitions,
    stage_transitions,
)
from ..period import Period
from ..playbook import (
    SUBSCRIPTION_ENTRIES,
    action_for,
    data_available,
    load_playbook,
    validate_playbook,
)
from ..value import VALUE_TIERS, pareto_curve, top_share, validate_segment_map
from .shared import SharedWork

__all__ = [
    "GG_CORRELATION_LIMIT",
    "MIN_BASE",
    "ClvPart",
    "LifecyclePart",
    "ParetoPart",
    "PlaybookPart",
    "RfmPart",
    "SegmentValues",
    "TypesPart",
    "ValueResult",
    "action_table",
    "build",
    "segment_values",
]

#: Below this many buyers, scores and shares are shown with a small-base warning and the
#: Pareto curve is not drawn.
MIN_BASE = 20
#: Correlation of frequency and spend above which the Gamma-Gamma assumption is doubtful.
GG_CORRELATION_LIMIT = 0.3
#: Playbook action columns of :func:`action_table`.
ACTION_COLUMNS = ["customers", "priority", "objective", "action", "channel", "offer"]
_PRIORITY_RANK = {"high": 0, "medium": 1, "low": 2}


# --------------------------------------------------------------------------- result parts


@dataclass(frozen=True)
class RfmPart:
    """The RFM grid and the named segments.

    Attributes
    ----------
    status
        ``"ok"`` or ``"no_buyers"`` (nobody bought in the RFM window: the other fields are
        empty).
    counts, revenue
        :func:`analysis.valuation.rfm_grid`: customers and net window revenue per
        (r_score, f_score) cell, r 5..1 down, f 1..5 across.
    cells
        The validated segment map: ``"rf"`` cell -> segment key (all 25 cells).
    segments
        Segment keys in display order.
    f_scores_used
        F scores that occur (sorted); fewer than 5 means ties (many one-time buyers).
    best_cell, best_segment, best_customer_share, best_revenue_share
        The cell with the most revenue ``(r, f)``, its segment, and its shares of the
        scored customers and of their revenue (None without revenue).
    summary
        :func:`analysis.valuation.segment_summary` joined with the segment's playbook entry
        (:func:`action_table` columns ``priority .. offer``; ``action`` is ``"–"`` for an
        empty segment).
    top_segment, largest_segment
        The segment with the largest revenue share (None without revenue) and the one with
        the most customers.
    scheme
        ``"subscription"`` (R = renewal standing, F = tenure in bills, M = mean bill) or
        ``"transactional"``.
    segment_scheme, rfm8_splits
        ``"rfm10"`` (segments are blocks of r x f cells) or ``"rfm8"`` (the eight RFM
        classes: ``cells`` is empty, ``best_segment`` is the class with the most revenue in
        the best cell, ``rfm8_splits`` the split values of
        :attr:`analysis.valuation.ValueSnapshot.rfm8_splits`).
    """

    status: str
    counts: pd.DataFrame
    revenue: pd.DataFrame
    cells: Mapping[str, str]
    segments: tuple[str, ...]
    f_scores_used: tuple[int, ...]
    best_cell: tuple[int, int] | None
    best_segment: str | None
    best_customer_share: float | None
    best_revenue_share: float | None
    summary: pd.DataFrame
    top_segment: str | None
    largest_segment: str | None
    scheme: str = "transactional"
    segment_scheme: str = "rfm10"
    rfm8_splits: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ParetoPart:
    """Revenue concentration: the Pareto curve, ABC classes and value tiers.

    Attributes
    ----------
    status
        ``"ok"``; ``"small_base"`` (fewer than :data:`MIN_BASE` buyers: tables without the
        curve chart); ``"no_revenue"`` (no buyer with positive revenue) or ``"no_buyers"``
        (both: only the thresholds are set).
    a_share, b_share, high_share, medium_share, fraction
        The ABC and tier thresholds (cumulative revenue shares) and the top fraction of
        buyers whose revenue share is quoted.
    curve
        :func:`analysis.value.pareto_curve` of the buyers' window revenue.
    abc, tiers
        :func:`analysis.valuation.tier_summary` by ABC class and by value tier.
    tier_actions
        The playbook entry of each value tier (:func:`action_table`).
    top_share
        Revenue share of the top ``fraction`` of buyers.
    a_customer_share
        Share of the buyers in class A (None without an A class).
    min_base
        Fewest buyers for the curve (:data:`MIN_BASE`).
    """

    status: str
    a_share: float
    b_share: float
    high_share: float
    medium_share: float
    fraction: float
    curve: pd.DataFrame | None = None
    abc: pd.DataFrame | None = None
    tiers: pd.DataFrame | None = None
    tier_actions: pd.DataFrame | None = None
    top_share: float | None = None
    a_customer_share: float | None = None
    min_base: int = MIN_BASE


@dataclass(frozen=True)
class SegmentValues:
    """A money column of the buyers by RFM segment, for a box plot on a log scale.

    Attributes
    ----------
    column
        ``"clv_12m"`` (predicted) or ``"historical_value"``.
    values
        Long frame of the buyers with a positive value: ``rfm_segment``, ``value``.
    segments
        Segments with at least one buyer, in display order (the rows of the chart).
    all_segments
        Every segment of the map in display order (fixes each segment's colour).
    alive
        Mean P(alive) per segment of ``segments`` (None without a CLV fit).
    left_out
        Buyers not in the chart: value zero, negative or missing (no log scale for them).
    """

    column: str
    values: pd.DataFrame
    segments: tuple[str, ...]
    all_segments: tuple[str, ...]
    alive: pd.Series | None
    left_out: int


@dataclass(frozen=True)
class ClvPart:
    """Predicted CLV (BG/NBD + Gamma-Gamma) or, without a fit, historical value.

    Attributes
    ----------
    status
        ``"ok"``, ``"too_few_repeat"`` or ``"no_fit"`` (see
        :class:`analysis.valuation.ClvFit`).
    fit
        The CLV fit of the current snapshot.
    total, mean, historical_mean, alive_mean, dormant
        With a fit: predicted CLV summed and averaged over the customers with a prediction,
        mean historical value of customers who ever bought, mean P(alive), and customers
        with P(alive) below 0.5 (NaN / 0 without a fit).
    by_segment
        :class:`SegmentValues` of ``clv_12m`` (with a fit) or ``historical_value`` (without);
        None when nobody bought in the RFM window.
    top_segment, top_segment_share
        With a fit: the segment with the largest predicted CLV total and its share of the
        total (None when no positive total).
    best_segment, best_segment_value
        The segment with the highest median CLV (median historical value without a fit),
        and that median.
    parameters
        :meth:`analysis.valuation.ClvFit.parameters` (None without a fit).
    gg_correlation
        Correlation of frequency and spend among repeat buyers, when above
        :data:`GG_CORRELATION_LIMIT` in absolute value (the Gamma-Gamma assumption is then
        doubtful); None otherwise.
    """

    status: str
    fit: valuation.ClvFit | None
    total: float = float("nan")
    mean: float = float("nan")
    historical_mean: float = float("nan")
    alive_mean: float = float("nan")
    dormant: int = 0
    by_segment: SegmentValues | None = None
    top_segment: str | None = None
    top_segment_share: float | None = None
    best_segment: str | None = None
    best_segment_value: float | None = None
    parameters: pd.DataFrame | None = None
    gg_correlation: float | None = None


@dataclass(frozen=True)
class LifecyclePart:
    """Lifecycle stages and their transitions since the previous period end.

    Attributes
    ----------
    status
        ``"ok"`` or ``"no_customers"`` (nobody known at the period end: no transitions).
    as_of, previous_as_of
        The two snapshot days.
    thresholds
        The thresholds of the current snapshot (the previous one uses the same).
    at_risk_quantile, lapsed_quantile
        The gap quantiles the day thresholds are learnt from (``value.lifecycle``).
    stages
        Index :data:`analysis.lifecycle.STAGES`: ``customers``, ``previous``, ``share`` (of
        all customers now) and ``change``.
    transitions
        :func:`analysis.lifecycle.stage_transitions` from the previous to the current
        snapshot.
    rows
        Stages with customers at the previous period end (the rows of the chart).
    outflow
        :func:`analysis.valuation.biggest_outflow` (None: nobody moved to a worse stage;
        moving to ``churned`` counts as worse).
    scheme
        ``"subscription"`` (thresholds follow the billing cycle) or ``"transactional"``.
    churned
        Customers whose contract ended by the period end (0 unless contractual).
    empty
        Stages without customers at either date (the stage table leaves them out).
    columns
        The stages the transition chart shows as columns: all but ``churned`` unless the
        unit's churn rule is contractual.
    contractual
        Whether the unit's churn rule is contractual.
    """

    status: str
    as_of: pd.Timestamp
    previous_as_of: pd.Timestamp
    thresholds: LifecycleThresholds
    at_risk_quantile: float
    lapsed_quantile: float
    stages: pd.DataFrame
    transitions: StageTransitions
    rows: tuple[str, ...]
    outflow: Mapping[str, Any] | None
    scheme: str = "transactional"
    churned: int = 0
    empty: tuple[str, ...] = ()
    contractual: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(s for s in STAGES if s != "churned" or self.contractual)


@dataclass(frozen=True)
class TypesPart:
    """Value and RFM segment mix per customer type.

    Attributes
    ----------
    status
        ``"ok"``, ``"no_types"`` (the data have no customer types) or ``"no_buyers"``.
    summary, mix
        :func:`analysis.valuation.type_breakdown` (None unless ``"ok"``).
    with_buyers
        Types with at least one buyer, in ``summary`` order (the bars of the chart).
    segments
        Segment keys in display order (the stacks of the chart).
    best_type
        The type with the highest revenue per buyer (None when no type has one).
    """

    status: str
    summary: pd.DataFrame | None = None
    mix: pd.DataFrame | None = None
    with_buyers: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    best_type: str | None = None


@dataclass(frozen=True)
class PlaybookPart:
    """The playbook action of every RFM segment, lifecycle stage and special customer type.

    Attributes
    ----------
    segments, stages, types
        :func:`action_table` of the map's segments (customers: scored ones), of every stage
        (customers: everybody) and of the customer types with their own entry.
    high_priority
        Non-empty segments whose entry has priority ``"high"``, in display order.
    high_priority_customers
        Buyers in them.
    unscored
        Customers without RFM scores (no purchase in the window), who get their stage's
        action.
    subscription
        Subscription scheme only: :func:`action_table` of the ``subscription`` entries
        (renewal, plan change, payment method) with the customers each applies to
        (:func:`analysis.valuation.subscription_signals`); None otherwise.

    Only customer types with customers are in ``types`` (no empty "Government 0" row).
    """

    segments: pd.DataFrame
    stages: pd.DataFrame
    types: pd.DataFrame
    high_priority: tuple[str, ...]
    high_priority_customers: int
    unscored: int
    subscription: pd.DataFrame | None = None


@dataclass(frozen=True)
class ValueResult:
    """Everything the value report shows and exports, for one unit and period.

    Attributes
    ----------
    status
        ``"ok"``, ``"small_base"`` (fewer than :data:`MIN_BASE` buyers) or ``"no_buyers"``.
    period, previous
        The report period and the one before it.
    current, previous_snapshot
        :class:`analysis.valuation.ValueSnapshot` at the period end (with CLV) and at the
        previous period end (current lifecycle thresholds, no CLV fit).
    lookback_days
        The RFM window (``value.lookback_days``).
    orders_in_period
        Order rows (purchases and refunds) dated in the report period.
    buyers
        Customers with RFM scores at the period end.
    has_previous
        Whether anybody had RFM scores at the previous period end (else no comparison).
    kpis
        Index ``kpi``: ``top_share`` (revenue share of the top ``top_share_fraction`` of
        buyers; ``change`` in share points), ``buyers``, ``revenue`` (net window revenue of
        the buyers; ``change`` relative) and, with a CLV fit, ``clv_total`` (no previous);
        columns ``current``, ``previous``, ``change`` (NaN: no comparison).
    top_share_fraction
        The top fraction of buyers quoted in ``kpis``.
    segment_changes
        Index ``rfm_segment``: ``customers``, ``customer_share``, ``previous``,
        ``previous_share``, ``change`` (customers) and ``share_change``.
    segments_now, segments_before
        :func:`analysis.valuation.segment_summary` of both snapshots.
    rfm, pareto, clv, lifecycle, types, playbook_tables
        The parts of the sections (see each class).
    playbook
        The validated playbook.
    actions
        :func:`analysis.valuation.customer_actions` of the current snapshot.
    export
        The rows of ``rfm.csv`` (:func:`analysis.valuation.export_frame`).
    export_groups
        The action groups of the export, most urgent first: ``vocabulary``, ``key``,
        ``priority``, ``customers``, ``action``.
    billing
        The billing cycle found in the orders (:func:`analysis.lifecycle.billing_cycle`).
    scheme
        ``"subscription"`` (regular bills: renewal standing, tenure in bills and plan value
        instead of purchase recency, frequency and spend; thresholds follow the cycle) or
        ``"transactional"``.
    churn_definition
        The unit's churn definition (``"contractual"``: customers whose contract ended are
        in the ``churned`` stage and not scored).
    """

    status: str
    period: Period
    previous: Period
    current: valuation.ValueSnapshot
    previous_snapshot: valuation.ValueSnapshot
    lookback_days: int
    orders_in_period: int
    buyers: int
    has_previous: bool
    kpis: pd.DataFrame
    top_share_fraction: float
    segment_changes: pd.DataFrame
    segments_now: pd.DataFrame
    segments_before: pd.DataFrame
    rfm: RfmPart
    pareto: ParetoPart
    clv: ClvPart
    lifecycle: LifecyclePart
    types: TypesPart
    playbook_tables: PlaybookPart
    playbook: Mapping[str, Any]
    actions: pd.DataFrame
    export: pd.DataFrame
    export_groups: pd.DataFrame
    billing: BillingCycle | None = None
    scheme: str = "transactional"
    churn_definition: str = "noncontractual"


# --------------------------------------------------------------------------- build


def build(
    data: Dataset,
    period: Period,
    params: Mapping[str, Any],
    *,
    shared: SharedWork | None = None,
) -> ValueResult:
    """Compute the value report of one unit and period.

    Parameters
    ----------
    data
        The unit's clean data (orders required; customers used when present).
    period
        The report period; its end is the snapshot day, the previous period's end the
        comparison.
    params
        The merged parameters (``value``, ``playbook``, ``language``, ``unit``, ...).
    shared
        The unit's :class:`~analysis.pipelines.shared.SharedWork` (memoised snapshots);
        None computes them afresh.

    Returns
    -------
    ValueResult

    Raises
    ------
    ParamsError
        Invalid value parameters, or the playbook lacks an entry for a segment, stage or
        tier the report can produce (the message names it).

    Examples
    --------
    >>> result = build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)  # doctest: +SKIP
    >>> result.segment_changes[["customers", "change"]]  # doctest: +SKIP
    """
    shared = shared if shared is not None else SharedWork(str(params.get("unit", "all")))
    vp = params["value"]
    language = str(params.get("language", "en"))
    separator = t("report_value.separator", language)
    playbook = load_playbook(params.get("playbook"))
    previous_period = period.previous()
    current = shared.value_snapshot(data, period.end, params)
    before = shared.value_snapshot(
        data, previous_period.end, params, thresholds=current.thresholds, predict_clv=False
    )
    scheme = current.scheme
    available = data_available(data.orders, data.interactions, data.customers)
    required = {
        "rfm_segment": list(current.segments),
        "lifecycle_stage": STAGES,
        "value_tier": VALUE_TIERS,
    }
    if scheme == "subscription":
        required["subscription"] = SUBSCRIPTION_ENTRIES
    validate_playbook(playbook, required=required)
    segments_now = valuation.segment_summary(current.table, current.segments)
    segments_before = valuation.segment_summary(before.table, before.segments)
    buyers = int(current.table["scored"].sum())
    has_previous = len(before.scored) > 0
    fraction = float(vp.get("top_share_fraction", 0.2))
    actions = valuation.customer_actions(
        current.table, playbook, language, separator=separator, scheme=scheme, available=available
    )
    orders = data.orders
    if buyers == 0:
        status = "no_buyers"
    elif buyers < MIN_BASE:
        status = "small_base"
    else:
        status = "ok"
    return ValueResult(
        status=status,
        period=period,
        previous=previous_period,
        current=current,
        previous_snapshot=before,
        lookback_days=int(vp["lookback_days"]),
        orders_in_period=int(period.contains(orders["order_date"]).sum()),
        buyers=buyers,
        has_previous=has_previous,
        kpis=_kpis(current, before, fraction, has_previous),
        top_share_fraction=fraction,
        segment_changes=_segment_changes(segments_now, segments_before),
        segments_now=segments_now,
        segments_before=segments_before,
        rfm=_rfm(current, segments_now, playbook, vp, language, separator, available),
        pareto=_pareto(current, buyers, playbook, vp, language, separator, scheme),
        clv=_clv(current, segments_now, buyers),
        lifecycle=_lifecycle(current, before, vp),
        types=_types(current, buyers),
        playbook_tables=_playbook_tables(
            current, segments_now, playbook, language, separator, buyers, available
        ),
        playbook=playbook,
        actions=actions,
        export=valuation.export_frame(current.table, actions),
        export_groups=_export_groups(
            actions, playbook, language, separator, scheme, available, current.table
        ),
        billing=current.billing,
        scheme=scheme,
        churn_definition=current.churn_definition,
    )


# --------------------------------------------------------------------------- KPIs


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _top_share(snapshot: valuation.ValueSnapshot, fraction: float) -> float | None:
    """Revenue share of the top ``fraction`` of buyers (None without positive revenue)."""
    scored = snapshot.scored
    if scored.empty:
        return None
    return _finite(top_share(scored["monetary"], fraction))


def _kpis(
    cur: valuation.ValueSnapshot,
    prev: valuation.ValueSnapshot,
    fraction: float,
    has_previous: bool,
) -> pd.DataFrame:
    def rel(now: float, before: float) -> float:
        return (now - before) / abs(before) if has_previous and before else np.nan

    top_now, top_before = _top_share(cur, fraction), _top_share(prev, fraction)
    buyers_now, buyers_before = int(cur.table["scored"].sum()), len(prev.scored)
    revenue_now = float(cur.scored["monetary"].sum())
    revenue_before = float(prev.scored["monetary"].sum())
    rows = {
        "top_share": (
            np.nan if top_now is None else top_now,
            np.nan if top_before is None else top_before,
            top_now - top_before if top_now is not None and top_before is not None else np.nan,
        ),
        "buyers": (buyers_now, buyers_before, rel(buyers_now, buyers_before)),
        "revenue": (revenue_now, revenue_before, rel(revenue_now, revenue_before)),
    }
    if cur.clv is not None and cur.clv.ok:
        rows["clv_total"] = (float(cur.table["clv_12m"].sum()), np.nan, np.nan)
    out = pd.DataFrame.from_dict(
        rows, orient="index", columns=["current", "previous", "change"], dtype="float64"
    )
    out.index.name = "kpi"
    return out


def _segment_changes(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "customers": now["customers"],
            "customer_share": now["customer_share"],
            "previous": before["customers"].reindex(now.index).fillna(0).astype("int64"),
            "previous_share": before["customer_share"].reindex(now.index),
        }
    )
    table["change"] = table["customers"] - table["previous"]
    table["share_change"] = table["customer_share"] - table["previous_share"]
    return table


# --------------------------------------------------------------------------- playbook


def action_table(
    playbook: Mapping[str, Any],
    vocabulary: str,
    keys: Sequence[str],
    counts: Mapping[str, int] | pd.Series,
    language: str = "en",
    *,
    separator: str = "; ",
    scheme: str = "transactional",
    available: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The playbook entry of each key of one vocabulary, with its customer count.

    Parameters
    ----------
    playbook
        A validated playbook (:func:`analysis.playbook.load_playbook`).
    vocabulary
        ``"rfm_segment"``, ``"lifecycle_stage"``, ``"value_tier"`` or ``"customer_type"``.
    keys
        The keys, in display order (each must have an entry).
    counts
        Customers per key (missing keys count 0).
    language
        Language of the entries.
    separator
        Joins an entry's actions into one line.
    scheme
        ``"subscription"`` uses the playbook's ``for_subscriptions`` entries where it has
        them (:func:`analysis.playbook.action_for`).
    available
        The data the unit has (:func:`analysis.playbook.data_available`): actions that need
        other data are left out; None keeps all.

    Returns
    -------
    pandas.DataFrame
        Index ``key`` (``keys``); columns ``customers``, ``priority`` (``high`` /
        ``medium`` / ``low``), ``objective``, ``action``, ``channel`` and ``offer``.

    Examples
    --------
    >>> from analysis.playbook import load_playbook
    >>> table = action_table(load_playbook(), "value_tier", ["high"], {"high": 3})
    >>> int(table.loc["high", "customers"]), table.loc["high", "priority"]
    (3, 'high')
    """
    entries = [
        action_for(playbook, vocabulary, k, language, scheme=scheme, available=available)
        for k in keys
    ]
    out = pd.DataFrame(
        {
            "customers": [int(counts.get(k, 0)) for k in keys],
            "priority": [e.priority for e in entries],
            "objective": [e.objective for e in entries],
            "action": [e.action_text(separator) for e in entries],
            "channel": [e.channel for e in entries],
            "offer": [e.offer for e in entries],
        },
        index=pd.Index(list(keys), name="key", dtype="object"),
    )
    return out.astype({"customers": "int64"})


def _playbook_tables(
    cur: valuation.ValueSnapshot,
    segments_now: pd.DataFrame,
    playbook: Mapping[str, Any],
    language: str,
    separator: str,
    buyers: int,
    available: Sequence[str] | None = None,
) -> PlaybookPart:
    table = cur.table
    keys = list(cur.segments)
    scheme = cur.scheme
    seg_counts = segments_now["customers"]
    segments = action_table(
        playbook,
        "rfm_segment",
        keys,
        seg_counts,
        language,
        separator=separator,
        scheme=scheme,
        available=available,
    )
    # a segment's priority follows its value at stake (one rule for every report)
    segments["priority"] = valuation.segment_priority(table).reindex(keys, fill_value="low")
    stage_counts = table["lifecycle_stage"].astype(str).value_counts()
    stages = action_table(
        playbook,
        "lifecycle_stage",
        list(STAGES),
        stage_counts,
        language,
        separator=separator,
        scheme=scheme,
        available=available,
    )
    type_counts = table["customer_type"].dropna().astype(str).value_counts()
    special = [k for k in playbook.get("customer_type") or {} if type_counts.get(k, 0) > 0]
    types = action_table(
        playbook, "customer_type", special, type_counts, language, separator=separator
    )
    subscription = None
    if scheme == "subscription":
        signals = valuation.subscription_signals(table).sum()
        subscription = action_table(
            playbook,
            "subscription",
            list(SUBSCRIPTION_ENTRIES),
            signals,
            language,
            separator=separator,
        )
    high = tuple(
        k for k in keys if segments.loc[k, "priority"] == "high" and seg_counts.get(k, 0) > 0
    )
    return PlaybookPart(
        segments=segments,
        stages=stages,
        types=types,
        high_priority=high if buyers else (),
        high_priority_customers=int(seg_counts[list(high)].sum()) if high else 0,
        unscored=int((~table["scored"]).sum()),
        subscription=subscription,
    )


def _export_groups(
    actions: pd.DataFrame,
    playbook: Mapping[str, Any],
    language: str,
    separator: str,
    scheme: str = "transactional",
    available: Sequence[str] | None = None,
    table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    priority = valuation.segment_priority(table).to_dict() if table is not None else {}
    rows = []
    for key, n in actions["action_source"].value_counts().items():
        vocabulary, name = key.split(":", 1)
        entry = action_for(playbook, vocabulary, name, language, scheme=scheme, available=available)
        level = priority.get(name, "low") if vocabulary == "rfm_segment" else entry.priority
        rows.append((vocabulary, name, level, int(n), entry.action_text(separator)))
    rows.sort(key=lambda r: (_PRIORITY_RANK[r[2]], -r[3]))
    columns = ["vocabulary", "key", "priority", "customers", "action"]
    return pd.DataFrame(rows, columns=columns).astype({"customers": "int64"})


# --------------------------------------------------------------------------- RFM


def _rfm(
    cur: valuation.ValueSnapshot,
    segments_now: pd.DataFrame,
    playbook: Mapping[str, Any],
    vp: Mapping[str, Any],
    language: str,
    separator: str,
    available: Sequence[str] | None = None,
) -> RfmPart:
    rfm8 = cur.segment_scheme == "rfm8"
    cells = {} if rfm8 else validate_segment_map(cur.segment_map or vp["segment_map"])
    counts, revenue = valuation.rfm_grid(cur.table)
    actions = action_table(
        playbook,
        "rfm_segment",
        list(segments_now.index),
        segments_now["customers"],
        language,
        separator=separator,
        scheme=cur.scheme,
        available=available,
    ).drop(columns="customers")
    summary = segments_now.join(actions)
    summary.loc[summary["customers"] == 0, "action"] = "–"
    summary.index.name = "rfm_segment"
    if not cur.table["scored"].any():
        return RfmPart(
            "no_buyers", counts, revenue, cells, cur.segments, (), None, None, None, None,
            summary, None, None, cur.scheme, cur.segment_scheme, cur.rfm8_splits,
        )  # fmt: skip
    used = tuple(sorted(int(f) for f in cur.scored["f_score"].dropna().unique()))
    total_n, total_rev = counts.to_numpy().sum(), revenue.to_numpy().sum()
    r, f = revenue.stack().idxmax()
    by_revenue = segments_now["revenue_share"].dropna()
    best_segment = cells.get(f"{r}{f}")
    if rfm8:  # the eight classes cut across the cells: the class with most of its revenue
        scored = cur.scored
        in_cell = scored.loc[(scored["r_score"] == r) & (scored["f_score"] == f)]
        by_class = in_cell.groupby("rfm_segment", observed=True)["monetary"].sum()
        best_segment = str(by_class.idxmax()) if len(by_class) else None
    return RfmPart(
        status="ok",
        counts=counts,
        revenue=revenue,
        cells=cells,
        segments=cur.segments,
        f_scores_used=used,
        best_cell=(int(r), int(f)),
        best_segment=best_segment,
        best_customer_share=counts.loc[r, f] / total_n if total_n else None,
        best_revenue_share=revenue.loc[r, f] / total_rev if total_rev > 0 else None,
        summary=summary,
        top_segment=by_revenue.idxmax() if len(by_revenue) else None,
        largest_segment=segments_now["customers"].idxmax(),
        scheme=cur.scheme,
        segment_scheme=cur.segment_scheme,
        rfm8_splits=cur.rfm8_splits,
    )


# --------------------------------------------------------------------------- Pareto


def _pareto(
    cur: valuation.ValueSnapshot,
    buyers: int,
    playbook: Mapping[str, Any],
    vp: Mapping[str, Any],
    language: str,
    separator: str,
    scheme: str = "transactional",
) -> ParetoPart:
    thresholds = dict(
        a_share=vp["abc"]["a_share"],
        b_share=vp["abc"]["b_share"],
        high_share=vp["tiers"]["high_share"],
        medium_share=vp["tiers"]["medium_share"],
        fraction=float(vp.get("top_share_fraction", 0.2)),
    )
    if buyers == 0:
        return ParetoPart("no_buyers", **thresholds)
    scored = cur.scored
    if not (scored["monetary"] > 0).any():
        return ParetoPart("no_revenue", **thresholds)
    abc = valuation.tier_summary(cur.table, "abc_class")
    tiers = valuation.tier_summary(cur.table, "value_tier")
    return ParetoPart(
        "small_base" if buyers < MIN_BASE else "ok",
        **thresholds,
        curve=pareto_curve(scored["monetary"]),
        abc=abc,
        tiers=tiers,
        tier_actions=action_table(
            playbook,
            "value_tier",
            list(tiers.index),
            tiers["customers"],
            language,
            separator=separator,
            scheme=scheme,
        ),
        top_share=_top_share(cur, thresholds["fraction"]),
        a_customer_share=_finite(abc.loc["A", "customer_share"]) if "A" in abc.index else None,
    )


# --------------------------------------------------------------------------- CLV


def segment_values(
    scored: pd.DataFrame, segments: Sequence[str], column: str, *, with_alive: bool = False
) -> SegmentValues:
    """A money column of the buyers by RFM segment (see :class:`SegmentValues`).

    Parameters
    ----------
    scored
        Buyers of a value snapshot (``rfm_segment``, ``column``; ``p_alive`` when
        ``with_alive``).
    segments
        Segment keys in display order.
    column
        The money column: ``"clv_12m"`` or ``"historical_value"``.
    with_alive
        Add the mean P(alive) per segment.

    Returns
    -------
    SegmentValues
    """
    keys = tuple(k for k in segments if (scored["rfm_segment"] == k).any())
    positive = scored.loc[scored[column] > 0, ["rfm_segment", column]]
    values = pd.DataFrame(
        {
            "rfm_segment": positive["rfm_segment"].astype("object").to_numpy(),
            "value": positive[column].to_numpy(dtype="float64"),
        },
        index=positive.index,
    )
    alive = None
    if with_alive:
        alive = scored.groupby("rfm_segment", observed=False)["p_alive"].mean().reindex(keys)
    left_out = int((scored[column] <= 0).sum() + scored[column].isna().sum())
    return SegmentValues(column, values, keys, tuple(segments), alive, left_out)


def _clv(cur: valuation.ValueSnapshot, segments_now: pd.DataFrame, buyers: int) -> ClvPart:
    fit = cur.clv
    table = cur.table
    if fit is None or not fit.ok:
        status = fit.reason if fit is not None else "no_fit"
        if buyers == 0:
            return ClvPart(status, fit)
        seg = segments_now.dropna(subset=["median_historical"])
        best = seg["median_historical"].idxmax() if len(seg) else None
        return ClvPart(
            status,
            fit,
            by_segment=segment_values(cur.scored, cur.segments, "historical_value"),
            best_segment=best,
            best_segment_value=float(seg.loc[best, "median_historical"]) if best else None,
        )
    predicted = table["clv_12m"].dropna()
    alive = table["p_alive"].dropna()
    total = float(predicted.sum())
    top = top_share_ = best = best_value = None
    by_segment = None
    if buyers:
        by_segment = segment_values(cur.scored, cur.segments, "clv_12m", with_alive=True)
        totals = segments_now["clv_total"].dropna()
        if len(totals) and total > 0:
            top = totals.idxmax()
            top_share_ = float(totals[top] / total)
            best = segments_now["median_clv"].dropna().idxmax()
            best_value = float(segments_now.loc[best, "median_clv"])
    corr = _finite(getattr(fit.gg, "frequency_monetary_corr_", None))
    return ClvPart(
        "ok",
        fit,
        total=total,
        mean=float(predicted.mean()),
        historical_mean=float(
            table.loc[table["first_purchase"].notna(), "historical_value"].mean()
        ),
        alive_mean=float(alive.mean()),
        dormant=int((alive < 0.5).sum()),
        by_segment=by_segment,
        top_segment=top,
        top_segment_share=top_share_,
        best_segment=best,
        best_segment_value=best_value,
        parameters=fit.parameters(),
        gg_correlation=corr if corr is not None and abs(corr) > GG_CORRELATION_LIMIT else None,
    )


# --------------------------------------------------------------------------- lifecycle


def _lifecycle(
    cur: valuation.ValueSnapshot, prev: valuation.ValueSnapshot, vp: Mapping[str, Any]
) -> LifecyclePart:
    now = cur.table["lifecycle_stage"].value_counts().reindex(list(STAGES), fill_value=0)
    before = prev.table["lifecycle_stage"].value_counts().reindex(list(STAGES), fill_value=0)
    stages = pd.DataFrame({"customers": now, "previous": before})
    stages["share"] = stages["customers"] / max(int(now.sum()), 1)
    stages["change"] = stages["customers"] - stages["previous"]
    stages.index.name = "lifecycle_stage"
    transitions = stage_transitions(prev.table["lifecycle_stage"], cur.table["lifecycle_stage"])
    counts = transitions.counts
    lifecycle_params = vp.get("lifecycle", {})
    return LifecyclePart(
        status="ok" if now.sum() > 0 else "no_customers",
        as_of=cur.as_of,
        previous_as_of=prev.as_of,
        thresholds=cur.thresholds,
        at_risk_quantile=float(lifecycle_params.get("at_risk_quantile", 0.8)),
        lapsed_quantile=float(lifecycle_params.get("lapsed_quantile", 0.95)),
        stages=stages,
        transitions=transitions,
        rows=tuple(s for s in STAGES if counts.loc[s].sum() > 0),
        outflow=valuation.biggest_outflow(counts),
        scheme=cur.scheme,
        churned=int(now["churned"]),
        empty=tuple(s for s in STAGES if now[s] == 0 and before[s] == 0),
        contractual=cur.churn_definition == "contractual",
    )


# --------------------------------------------------------------------------- customer types


def _types(cur: valuation.ValueSnapshot, buyers: int) -> TypesPart:
    table = cur.table
    if table["customer_type"].notna().sum() == 0:
        return TypesPart("no_types")
    if buyers == 0:
        return TypesPart("no_buyers")
    summary, mix = valuation.type_breakdown(table, cur.segments)
    with_buyers = summary.loc[summary["buyers"] > 0]
    per_buyer = with_buyers["revenue_per_buyer"].dropna()
    return TypesPart(
        "ok",
        summary=summary,
        mix=mix,
        with_buyers=tuple(with_buyers.index),
        segments=cur.segments,
        best_type=per_buyer.idxmax() if len(per_buyer) else None,
    )

"""The strategy summary: what to do now, ranked alerts, needs and cross-sell, scorecard,
segments with their playbook entries, referrals and (company-wide) the units side by side.

**What to do now** (:attr:`SummaryResult.actions`): at most three
:class:`~analysis.strategy.Action` s ranked by the money at stake: the churn report's
high-risk customers (their value at risk, the unit's figure) and the RFM segments of high
or medium priority (their net revenue of the RFM window). **Priority follows value at
stake** (:func:`analysis.strategy.value_priority`): the segments that together hold the
first half of the segments' net revenue are high, at most two of them; up to 80% medium, at
most three; the rest low. **An alert within its interval is not raised**: segment share
shifts (two-proportion interval), the NPS change (its z test) and fix-first (the
attribute's paired gap to the mean rating) are checked by their functions in
:mod:`analysis.strategy`; what was checked and found within noise is in
:attr:`SummaryResult.quiet`.

Every figure the summary quotes comes from the unit's figures
(:mod:`analysis.pipelines.figures`) and every segment from the pipelines that own it
(value snapshot, segmentation, churn), computed through the same
:class:`~analysis.pipelines.shared.SharedWork`, so the summary cannot disagree with the
detail reports, and it reads no other report's export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import satisfaction, segment_report, strategy, valuation
from ..data.load import Dataset
from ..figures import UnitFigures
from ..lifecycle import stage_transitions
from ..needs import NEEDS
from ..period import Period
from ..playbook import data_available, load_playbook
from .shared import SharedWork

__all__ = ["MIN_BASE", "NeedsSummary", "SummaryResult", "build"]

#: Fewest answers per period for an NPS comparison or a rating mean.
MIN_BASE = 30


@dataclass(frozen=True)
class NeedsSummary:
    """What the summary shows of the needs report (:mod:`analysis.pipelines.needs`).

    Attributes
    ----------
    status
        The needs part's status (``ok`` or ``no_signals``: the frames are empty).
    mix
        Index ``need_type`` (:data:`analysis.needs.NEEDS` order): ``customers``, ``share``
        (of the classified customers), ``value`` (their net revenue of the RFM window, as
        in the segments table) and ``priority`` (:func:`analysis.strategy.value_priority`
        of ``value``).
    cross_sell
        The needs report's top cross-sell per RFM segment
        (``top_cross_sell`` of :class:`analysis.pipelines.needs.NeedsResult`: ``segment``,
        ``customers``, the top pair's ``antecedent``, ``consequent``, ``support``,
        ``confidence``, ``lift`` (NaN without a pair), ``next_best_category`` and
        ``next_best_customers``), empty when preferences do not apply.
    preferences_status
        The preferences part's status (``ok``, ``no_categories``, ``no_purchases``).
    classified, recommended
        Rows of ``needs.csv`` and of ``recommendations.csv``.
    """

    status: str
    mix: pd.DataFrame
    cross_sell: pd.DataFrame
    preferences_status: str
    classified: int
    recommended: int


@dataclass(frozen=True)
class SummaryResult:
    """What the summary shows.

    Attributes
    ----------
    figures
        The unit's :class:`~analysis.figures.UnitFigures`.
    scorecard
        :func:`analysis.strategy.kpi_scorecard` with the figure-defined KPIs from ``figures``.
    value_now, value_before
        One row per customer (index ``customer_id``): ``rfm_segment``, ``monetary``,
        ``lifecycle_stage`` at the period end and at the previous period end.
    rfm_overview, cluster_overview
        :func:`analysis.strategy.segment_overview` of the RFM and the clustering segments
        (the latter None when the unit cannot be segmented).
    clusters
        ``customer_id, segment_id, segment_name, priority, action`` (None without segments).
    risk
        The churn model's scored list (None without a model).
    nps, ipa
        NPS change vs the previous period and the importance-performance result (or None).
    scheme, available
        The value snapshot's scoring scheme (``transactional`` or ``subscription``) and the
        data the unit has (:func:`analysis.playbook.data_available`): the playbook entries
        are looked up with both, as in the value report.
    units
        Company-wide report only: :func:`analysis.strategy.unit_comparison` with every unit's
        own figures; None otherwise.
    referral
        ``rate``, ``compare``, ``top`` (None without ``referred_by``).
    alerts
        :func:`analysis.strategy.rank_alerts`: only findings outside their interval.
    actions
        What to do now: :func:`analysis.strategy.rank_actions` (at most three).
    rfm_priority, cluster_priority
        Segment -> ``high`` / ``medium`` / ``low`` by value at stake
        (:func:`analysis.strategy.value_priority` of the segment's net revenue).
    needs
        :class:`NeedsSummary` (None when the needs report has no signals to classify).
    quiet
        Alert kind -> how many candidate findings were within their interval and not
        raised (``segment_shift``: segments whose share moved by 0.5 pt or more;
        ``nps_change``; ``fix_first``).
    """

    figures: UnitFigures
    scorecard: pd.DataFrame
    value_now: pd.DataFrame
    value_before: pd.DataFrame
    rfm_overview: pd.DataFrame
    cluster_overview: pd.DataFrame | None
    clusters: pd.DataFrame | None
    risk: pd.DataFrame | None
    nps: dict[str, float] | None
    ipa: satisfaction.IPAResult | None
    playbook: dict[str, Any]
    scheme: str
    available: tuple[str, ...]
    revenue_12m: float
    units: pd.DataFrame | None
    referral: dict[str, Any] | None
    alerts: tuple[strategy.Alert, ...] = field(default=())
    actions: tuple[strategy.Action, ...] = field(default=())
    rfm_priority: pd.Series | None = None
    cluster_priority: pd.Series | None = None
    needs: NeedsSummary | None = None
    quiet: dict[str, int] = field(default_factory=dict)


def _value_tables(
    data: Dataset, period: Period, params: Mapping[str, Any], shared: SharedWork
) -> tuple[pd.DataFrame, pd.DataFrame, str, list[str]]:
    columns = ["rfm_segment", "monetary", "lifecycle_stage"]
    snap = shared.value_snapshot(data, period.end, params, predict_clv=False)
    before = shared.value_snapshot(
        data, period.previous().end, params, thresholds=snap.thresholds, predict_clv=False
    )
    tables = []
    for frame in (snap.table[columns].copy(), before.table[columns].copy()):
        frame.index = frame.index.astype(str)
        tables.append(frame.astype({"rfm_segment": "object"}))
    return tables[0], tables[1], snap.scheme, list(snap.segments)


def _nps(data: Dataset, period: Period) -> dict[str, float] | None:
    surveys = data.survey_responses
    if surveys is None or not satisfaction.has_score(surveys, "nps"):
        return None
    now = surveys.loc[period.contains(surveys["response_date"]), "nps"]
    before = surveys.loc[period.previous().contains(surveys["response_date"]), "nps"]
    result = strategy.nps_change(now, before)
    return result if result["n"] else None


def _ipa(
    data: Dataset, period: Period, params: Mapping[str, Any], shared: SharedWork
) -> tuple[satisfaction.IPAResult, pd.DataFrame, dict[str, tuple[int, int]]] | None:
    """The satisfaction report's importance-performance result (its key drivers, declared
    scales and driver window), so "fix first" names what that report names; with the
    answers its performance comes from and their scales, for the gap's interval."""
    from . import satisfaction as satisfaction_report  # noqa: PLC0415

    result = satisfaction_report.build(data, period, params, shared=shared)
    drivers = result.drivers
    if drivers is None or drivers.status != "ok":
        return None
    if drivers.drivers.attrs.get("rough"):  # the satisfaction report names no fix-first then
        return None
    survey = result.survey
    if drivers.performance_window:  # as the satisfaction report: the driver window's answers
        responses = survey.responses
        inside = (responses["response_date"] >= drivers.start) & (
            responses["response_date"] < drivers.end
        )
        frame = responses.loc[inside]
    else:
        frame = survey.current
    return drivers.ipa, frame, survey.scales


def _clusters(
    data: Dataset, period: Period, params: Mapping[str, Any], shared: SharedWork
) -> pd.DataFrame | None:
    """The clustering segments of the segmentation pipeline, one row per customer."""
    from . import segmentation  # noqa: PLC0415

    result = segmentation.build(data, period, params, shared=shared)
    frame = segmentation.assignments(result)
    if frame is None or frame.empty:
        return None
    return frame


def _units(
    data: Dataset, period: Period, params: Mapping[str, Any], shared: SharedWork
) -> pd.DataFrame | None:
    """Company-wide: every unit's headline KPIs, each from that unit's own figures (the
    same numbers as the unit's own summary)."""
    from ..figures import unit_figures  # noqa: PLC0415

    if str(params.get("unit", "all")) != "all":
        return None
    figures = {
        unit: unit_figures(data.for_unit(unit), period, {**params, "unit": unit})
        for unit in data.units
    }
    return strategy.unit_comparison(
        data.orders, period, data.survey_responses, data.interactions, figures=figures
    )


def _referral(data: Dataset, period: Period) -> dict[str, Any] | None:
    customers, orders = data.customers, data.orders
    if "referred_by" not in customers.columns or customers["referred_by"].notna().sum() == 0:
        return None
    return {
        "rate": strategy.referral_rate(customers, orders, period),
        "compare": strategy.referral_comparison(customers, orders, period),
        "top": strategy.top_referrers(customers, orders, period, n=10),
    }


def _needs(
    data: Dataset, period: Period, params: Mapping[str, Any], shared: SharedWork
) -> NeedsSummary | None:
    """The needs report's need summary (customers and value per need) with a priority by
    value at stake, and its top cross-sell per segment
    (``need_summary`` and ``top_cross_sell`` of :class:`analysis.pipelines.needs.NeedsResult`)."""
    from . import needs as needs_report  # noqa: PLC0415

    result = needs_report.build(data, period, params, shared=shared)
    part, prefs = result.needs, result.preferences
    if part.status != "ok" or result.need_summary.empty:
        return None
    table = result.need_summary.set_index("need_type").reindex(list(NEEDS))
    mix = pd.DataFrame(
        {
            "customers": table["customers"].fillna(0).astype(int),
            "share": table["share"].astype(float).fillna(0.0),
            "value": table["value"].astype(float).fillna(0.0),
        }
    )
    mix.index.name = "need_type"
    mix["priority"] = strategy.value_priority(mix["value"])
    return NeedsSummary(
        status=part.status,
        mix=mix,
        cross_sell=result.top_cross_sell.reset_index(drop=True),
        preferences_status=prefs.status,
        classified=len(part.export),
        recommended=len(prefs.export),
    )


def _actions(
    rfm_overview: pd.DataFrame,
    rfm_priority: pd.Series,
    risk_alert: strategy.Alert | None,
    figures: UnitFigures,
) -> list[strategy.Action]:
    """What to do now: the high-risk customers (their value at risk) and every RFM segment
    of high or medium priority (its net revenue), the three with most money at stake."""
    candidates: list[strategy.Action | None] = []
    if risk_alert is not None:
        v = risk_alert.values
        candidates.append(
            strategy.Action(
                "retain",
                "",
                int(figures.value("high_risk_customers")),
                figures.value("value_at_risk"),
                {
                    "share": v["share"],
                    "high_risk": v["high_risk"],
                    "reason": v["reason"],
                    "reason_customers": v["reason_customers"],
                },
            )
        )
    has_previous = rfm_overview["previous_customers"].sum() > 0
    for key, row in rfm_overview.iterrows():
        if rfm_priority.get(key) not in ("high", "medium"):
            continue
        candidates.append(
            strategy.Action(
                "segment",
                str(key),
                int(row["customers"]),
                float(row["revenue"]),
                {
                    "priority": rfm_priority[key],
                    "revenue_share": float(row["revenue_share"]),
                    "customer_share": float(row["customer_share"]),
                    "change": float(row["change"]) if has_previous else np.nan,
                },
            )
        )
    return strategy.rank_actions(candidates)


def _shift_quiet(overview: pd.DataFrame, min_shift: float = 0.005) -> int:
    """Segments whose share moved by ``min_shift`` or more but within its interval (or with
    the same number of customers): considered and not raised."""
    if overview["previous_customers"].sum() <= 0:
        return 0
    found = strategy.share_shift_intervals(overview)
    moved = found["share_change"].abs() >= min_shift
    return int((moved & ~found["significant"]).sum())


def build(
    data: Dataset,
    period: Period,
    params: Mapping[str, Any],
    *,
    shared: SharedWork | None = None,
) -> SummaryResult:
    """The summary of the unit's period (see :class:`SummaryResult`)."""
    from . import churn  # noqa: PLC0415
    from . import figures as unit_figures  # noqa: PLC0415

    shared = shared or SharedWork(str(params.get("unit", "all")))
    figures = unit_figures.build(data, period, params, shared=shared)
    playbook = load_playbook(params.get("playbook"))
    scorecard = strategy.kpi_scorecard(
        data.orders, period, data.survey_responses, data.interactions, figures=figures
    )
    now, before, scheme, segments = _value_tables(data, period, params, shared)
    rfm_overview = strategy.segment_overview(
        now.rename(columns={"rfm_segment": "segment", "monetary": "revenue"}),
        before.rename(columns={"rfm_segment": "segment", "monetary": "revenue"}),
        segments=segments,
    )
    clusters = _clusters(data, period, params, shared)
    cluster_overview = None
    if clusters is not None:
        # the period's net revenue per customer, as the segmentation report shares it out
        revenue = segment_report.period_revenue(data.orders, period.start_ts, period.end_exclusive)
        frame = clusters.assign(
            segment=clusters["segment_id"].astype(str),
            revenue=clusters["customer_id"].astype(str).map(revenue).fillna(0.0),
        )
        order = sorted(frame["segment"].unique(), key=lambda s: (len(s), s))
        cluster_overview = strategy.segment_overview(frame, segments=order)
    risk = churn.build(data, period, params, shared=shared).warning_list
    orders = data.orders
    end = period.end_exclusive
    recent = (orders["order_date"] >= end - pd.Timedelta(days=365)) & (orders["order_date"] < end)
    revenue_12m = float(orders.loc[recent, "amount"].sum())
    nps = _nps(data, period)
    found_ipa = _ipa(data, period, params, shared)
    ipa = found_ipa[0] if found_ipa is not None else None
    high_risk = figures.high_risk
    quiet: dict[str, int] = {}
    alerts: list[strategy.Alert | None] = []
    if rfm_overview["previous_customers"].sum() > 0:
        alerts += strategy.segment_shift_alerts(rfm_overview, valuation.SEGMENT_DIRECTION)
        quiet["segment_shift"] = _shift_quiet(rfm_overview)
    risk_alert = None
    if risk is not None and len(risk):
        risk_alert = strategy.value_at_risk_alert(risk, revenue_12m, high_risk=high_risk)
        alerts.append(risk_alert)
    if nps is not None:
        nps_alert = strategy.nps_change_alert(nps, min_base=MIN_BASE)
        alerts.append(nps_alert)
        quiet["nps_change"] = int(nps_alert is None)
    if found_ipa is not None:
        fix = strategy.fix_first_alert(*found_ipa)
        alerts.append(fix)
        quiet["fix_first"] = int(fix is None and bool(found_ipa[0].fix_first_list))
    transitions = stage_transitions(
        before["lifecycle_stage"].astype(str), now["lifecycle_stage"].astype(str)
    )
    alerts.append(strategy.lifecycle_outflow_alert(valuation.biggest_outflow(transitions.counts)))
    # the priorities the value and segmentation reports show (value at stake): one truth
    rfm_priority = valuation.segment_priority(now).reindex(rfm_overview.index, fill_value="low")
    cluster_priority = None
    if cluster_overview is not None and clusters is not None:
        first = clusters.drop_duplicates("segment_id")
        cluster_priority = (
            pd.Series(first["priority"].to_numpy(), index=first["segment_id"].astype(str))
            .reindex(cluster_overview.index)
            .fillna("low")
        )
    return SummaryResult(
        figures=figures,
        scorecard=scorecard,
        value_now=now,
        value_before=before,
        rfm_overview=rfm_overview,
        cluster_overview=cluster_overview,
        clusters=clusters,
        risk=risk,
        nps=nps,
        ipa=ipa,
        playbook=playbook,
        scheme=scheme,
        available=tuple(data_available(data.orders, data.interactions, data.customers)),
        revenue_12m=revenue_12m,
        units=_units(data, period, params, shared),
        referral=_referral(data, period),
        alerts=tuple(strategy.rank_alerts(alerts)),
        actions=tuple(_actions(rfm_overview, rfm_priority, risk_alert, figures)),
        rfm_priority=rfm_priority,
        cluster_priority=cluster_priority,
        needs=_needs(data, period, params, shared),
        quiet=quiet,
    )

"""The strategy summary: scorecard, ranked alerts, segments with their playbook entries,
referrals and (company-wide) the units side by side.

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

import pandas as pd

from .. import satisfaction, segment_report, strategy, valuation
from ..data.load import Dataset
from ..figures import UnitFigures
from ..lifecycle import stage_transitions
from ..period import Period
from ..playbook import data_available, load_playbook
from .shared import SharedWork

__all__ = ["MIN_BASE", "SummaryResult", "build"]

#: Fewest answers per period for an NPS comparison or a rating mean.
MIN_BASE = 30


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
) -> satisfaction.IPAResult | None:
    """The satisfaction report's importance-performance result (its key drivers, declared
    scales and driver window), so "fix first" names what that report names."""
    from . import satisfaction as satisfaction_report  # noqa: PLC0415

    result = satisfaction_report.build(data, period, params, shared=shared)
    drivers = result.drivers
    if drivers is None or drivers.status != "ok":
        return None
    if drivers.drivers.attrs.get("rough"):  # the satisfaction report names no fix-first then
        return None
    return drivers.ipa


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
    ipa = _ipa(data, period, params, shared)
    high_risk = figures.high_risk
    alerts: list[strategy.Alert | None] = []
    if rfm_overview["previous_customers"].sum() > 0:
        alerts += strategy.segment_shift_alerts(rfm_overview, valuation.SEGMENT_DIRECTION)
    if risk is not None and len(risk):
        alerts.append(strategy.value_at_risk_alert(risk, revenue_12m, high_risk=high_risk))
    if nps is not None:
        alerts.append(strategy.nps_change_alert(nps, min_base=MIN_BASE))
    if ipa is not None:
        alerts.append(strategy.fix_first_alert(ipa))
    transitions = stage_transitions(
        before["lifecycle_stage"].astype(str), now["lifecycle_stage"].astype(str)
    )
    alerts.append(strategy.lifecycle_outflow_alert(valuation.biggest_outflow(transitions.counts)))
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
    )

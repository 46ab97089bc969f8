"""The "Satisfaction" report's pipeline: ``build(data, period, params) -> SatisfactionResult``.

Everything the report shows, computed once: the headline scores with their change vs the
previous period, the trend with its significant changes, scores per customer group,
attribute ratings and their reliability, key drivers with the importance-performance
matrix and the improvement list, comment themes, the links to customers (anonymous
answers, segments, churn after answering, with the unit's own churn definition and
window) and the rows of the two CRM exports. The statistics come from
:mod:`analysis.satisfaction` and :mod:`analysis.text`; the view
(:mod:`analysis.report.views.satisfaction`) only shows parts of the result.

A unit without survey responses (or a run without a survey file) gets a result whose
``status`` says why (``no_survey_file``, ``no_responses``) and whose parts are empty.

Example
-------
>>> from analysis.pipelines import satisfaction  # doctest: +SKIP
>>> result = satisfaction.build(ctx.data, ctx.period, ctx.params)  # doctest: +SKIP
>>> result.kpis.loc["nps", "value"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import churn, text
from .. import satisfaction as sat
from ..data.load import Dataset
from ..errors import AnalysisError
from ..figures import churn_rule
from ..period import Period
from .shared import SharedWork

ChurnWindow = churn.ChurnWindow

#: Bootstrap resamples of the key-driver intervals.
DRIVER_BOOTSTRAP = 200
#: Distinctive terms per category and example comments per category.
COMMENT_TERMS, COMMENT_EXAMPLES = 6, 3
#: Statuses of a result.
STATUSES = ("ok", "no_survey_file", "no_responses")


@dataclass(frozen=True)
class KpiTrendNote:
    """A headline change the period comparison calls significant and the trend does not
    (the trend corrects for every period-to-period comparison it shows).

    Attributes
    ----------
    metric : str
        ``nps`` or ``csat``.
    change, p_value : float
        The change of the period comparison and its p-value.
    tested : int
        Period-to-period comparisons tested in the trend.
    p_adjusted : float
        The trend's adjusted p-value of the report period.
    """

    metric: str
    change: float
    p_value: float
    tested: int
    p_adjusted: float


@dataclass(frozen=True)
class TrendPart:
    """Scores per period.

    Attributes
    ----------
    count : int
        Periods asked for (``trend_periods``).
    trends : dict of str to DataFrame
        :func:`analysis.satisfaction.score_trends` tables per metric.
    shown : dict of str to DataFrame
        The metrics with at least one answer in the periods shown (the chart's panels).
    changes : dict of str to list of ScoreChange
        Significant changes per metric (Benjamini-Hochberg over the periods shown).
    kpi_notes : tuple of KpiTrendNote
        Changes significant in the period comparison only.
    unit_changes : list of (str, ScoreChange) or None
        Significant changes per business unit (the company-wide report only).
    """

    count: int
    trends: dict[str, pd.DataFrame]
    shown: dict[str, pd.DataFrame]
    changes: dict[str, list[sat.ScoreChange]]
    kpi_notes: tuple[KpiTrendNote, ...] = ()
    unit_changes: list[tuple[str, sat.ScoreChange]] | None = None


@dataclass(frozen=True)
class AttributesPart:
    """Attribute ratings of the period.

    Attributes
    ----------
    distribution : DataFrame
        :func:`analysis.satisfaction.rating_distribution` of the rated attributes, with
        ``top2`` and ``bottom2`` shares, lowest ``top2`` first.
    levels : tuple of int
        The rating scale's levels.
    reliability : ReliabilityResult or None
        Cronbach's alpha (None with fewer than two ratings or when it failed).
    reliability_failed : bool
        Cronbach's alpha could not be computed.
    """

    distribution: pd.DataFrame
    levels: tuple[int, ...]
    reliability: sat.ReliabilityResult | None = None
    reliability_failed: bool = False

    @property
    def worst(self) -> str:
        """The attribute with the smallest top-2 share."""
        return self.distribution.index[0]

    @property
    def best(self) -> str:
        """The attribute with the largest top-2 share."""
        return self.distribution.index[-1]


@dataclass(frozen=True)
class DriversPart:
    """Key drivers, the importance-performance matrix and the improvement list.

    Attributes
    ----------
    status : str
        ``ok``, or ``failed`` when the driver model could not be fitted.
    outcome : str
        The outcome column (``survey.outcome``, else ``nps``, else the overall item).
    start, end : Timestamp
        The driver sample's dates ``[start, end)`` (:func:`analysis.satisfaction.driver_window`).
    n_sample : int
        Responses in that window.
    drivers : DataFrame or None
        :func:`analysis.satisfaction.key_drivers`.
    ipa : IPAResult or None
        :func:`analysis.satisfaction.importance_performance`.
    plan : DataFrame or None
        :func:`analysis.satisfaction.improvement_plan`.
    performance_window : bool
        Performance comes from the driver window, as the period had too few answers.
    reason : str or None
        Why the model could not be fitted (``status == "failed"``): rows left out and
        why, or the variation missing.
    """

    status: str
    outcome: str
    start: pd.Timestamp
    end: pd.Timestamp
    n_sample: int
    drivers: pd.DataFrame | None = None
    ipa: sat.IPAResult | None = None
    plan: pd.DataFrame | None = None
    performance_window: bool = False
    reason: str | None = None

    @property
    def scale(self) -> tuple[int, int] | None:
        """The outcome's declared scale (None when the model failed)."""
        if self.drivers is None:
            return None
        return tuple(self.drivers.attrs["scales"][self.outcome])


@dataclass(frozen=True)
class CommentsPart:
    """Comment themes of the worst vs the best category.

    Attributes
    ----------
    n : int
        Categorised comments of the period.
    worst, best : str
        The two categories compared (``detractor``/``promoter`` or
        ``dissatisfied``/``satisfied``).
    themes : DataFrame
        :func:`analysis.text.comment_themes` (``group, term, count``...).
    examples : DataFrame
        :func:`analysis.text.example_comments`, worst category first.
    worst_terms, best_terms : tuple of str
        The three most distinctive terms of each.
    """

    n: int
    worst: str
    best: str
    themes: pd.DataFrame
    examples: pd.DataFrame
    worst_terms: tuple[str, ...]
    best_terms: tuple[str, ...]


@dataclass(frozen=True)
class ChurnLinkPart:
    """Churn after a response, per response category.

    Attributes
    ----------
    definition : str
        The unit's churn definition (``noncontractual`` or ``contractual``), as in the
        churn report.
    window : ChurnWindow
        The unit's churn window (:func:`analysis.churn.churn_window`).
    responses : DataFrame
        :func:`analysis.satisfaction.churn_after_response` rows.
    summary : DataFrame
        :func:`analysis.satisfaction.churn_by_category`.
    data_end : Timestamp
        The last day of the unit's orders.
    enough : bool
        At least ``min_base`` categorised responses: the comparison is shown.
    """

    definition: str
    window: ChurnWindow
    responses: pd.DataFrame
    summary: pd.DataFrame
    data_end: pd.Timestamp
    enough: bool

    @property
    def days(self) -> int:
        return int(self.window.days)

    @property
    def first(self) -> pd.Timestamp:
        return self.responses["response_date"].min()

    @property
    def last(self) -> pd.Timestamp:
        return self.responses["response_date"].max()


@dataclass(frozen=True)
class LinksPart:
    """Links to customers.

    Attributes
    ----------
    anonymous, n : int
        Anonymous responses and all responses of the period.
    segments : DataFrame or None
        :func:`analysis.satisfaction.group_table` by the customers' RFM segment.
    churn : ChurnLinkPart or None
        None without orders or without a score.
    has_orders : bool
        The unit has purchases. Without them (a survey-only export) segments and churn
        after a response do not apply: the report says so instead.
    """

    anonymous: int
    n: int
    segments: pd.DataFrame | None = None
    churn: ChurnLinkPart | None = None
    has_orders: bool = True


@dataclass(frozen=True)
class SatisfactionResult:
    """Everything the "Satisfaction" report shows for one unit and period.

    Attributes
    ----------
    status : str
        ``ok``, ``no_survey_file`` (the run has no survey file) or ``no_responses`` (no
        response of the unit up to the period end); then every part below is None.
    period, previous : Period
        The report period and the previous one.
    unit : str
        The business unit (``all`` for the company).
    min_base : int
        Groups and periods with fewer answers are shown greyed, never tested.
    survey : Survey
        The responses and which questions were asked.
    kpis : DataFrame or None
        :func:`analysis.satisfaction.score_comparison` of the period vs the previous one.
    trend : TrendPart or None
    groups : DataFrame or None
        :func:`analysis.satisfaction.group_table` of the period (None: no grouping applies).
    attributes : AttributesPart or None
    drivers : DriversPart or None
        None without an outcome or with fewer than two ratings.
    comments : CommentsPart or None
        None without categorised comments.
    links : LinksPart or None
    detractors : DataFrame
        Rows of ``detractors.csv`` (:func:`analysis.satisfaction.detractor_list`).
    follow_up : DataFrame
        Detractors per follow-up action and priority.
    groups_export : DataFrame
        Rows of ``satisfaction_groups.csv``.
    """

    status: str
    period: Period
    previous: Period
    unit: str
    min_base: int
    survey: sat.Survey
    detractors: pd.DataFrame
    follow_up: pd.DataFrame
    groups_export: pd.DataFrame
    kpis: pd.DataFrame | None = None
    trend: TrendPart | None = None
    groups: pd.DataFrame | None = None
    attributes: AttributesPart | None = None
    drivers: DriversPart | None = None
    comments: CommentsPart | None = None
    links: LinksPart | None = None

    @property
    def charts(self) -> frozenset[str]:
        """The charts this result has: ``trend``, ``attributes``, ``drivers``, ``churn``."""
        found = set()
        if self.trend is not None and self.trend.shown and self.survey.outcome is not None:
            found.add("trend")
        if self.attributes is not None:
            found.add("attributes")
        if self.drivers is not None and self.drivers.status == "ok":
            found.add("drivers")
        if self.links is not None and self.links.churn is not None and self.links.churn.enough:
            found.add("churn")
        return frozenset(found)


def build(
    data: Dataset,
    period: Period,
    params: Mapping[str, Any],
    *,
    shared: SharedWork | None = None,
) -> SatisfactionResult:
    """The satisfaction report of ``data`` (one unit's clean tables) for ``period``.

    Parameters
    ----------
    data
        The unit's clean :class:`~analysis.data.load.Dataset`.
    period
        The report period.
    params
        Merged parameters: ``unit``, ``language``, ``trend_periods``, ``survey.scales``
        and ``survey.outcome`` (else ``quality.rating_scale``), ``churn`` (definition and window, as in the churn
        report), ``value`` (segments), optionally ``satisfaction.driver_bootstrap``.
    shared
        The unit's :class:`~analysis.pipelines.shared.SharedWork` (value snapshot for
        the segments); a fresh one when None.

    Returns
    -------
    SatisfactionResult
    """
    shared = shared if shared is not None else SharedWork.from_params(params)
    # once per run: the strategy summary's "fix first" reuses these key drivers
    return shared.once("satisfaction", period, params, lambda: _build(data, period, params, shared))


def _build(
    data: Dataset, period: Period, params: Mapping[str, Any], shared: SharedWork
) -> SatisfactionResult:
    unit = str(params.get("unit", "all"))
    language = str(params.get("language", "en"))
    options = dict(params.get("satisfaction") or {})
    min_base = int(options.get("min_base", sat.MIN_BASE))
    columns = () if data.survey_responses is None else data.survey_responses.columns
    survey = sat.select_survey(
        data.survey_responses,
        data.customers,
        data.orders,
        period,
        rating_scale=sat.rating_default(params),
        scales=sat.declared_scales(params, columns),
        outcome=sat.survey_outcome(params),
    )
    detractors = sat.detractor_list(survey, language)
    common = dict(
        period=period,
        previous=period.previous(),
        unit=unit,
        min_base=min_base,
        survey=survey,
        detractors=detractors,
        follow_up=sat.follow_up_counts(detractors),
    )
    if survey.empty:
        status = "no_survey_file" if survey.no_file else "no_responses"
        return SatisfactionResult(
            status=status, groups_export=sat.groups_export(None, str(period), unit), **common
        )
    kpis = sat.score_comparison(
        survey.current,
        survey.previous,
        has_nps=survey.has_nps,
        overall=survey.overall,
        overall_scale=survey.overall_scale,
        days=(period.days, period.previous().days),
    )
    groups = _groups(survey, min_base)
    return SatisfactionResult(
        status="ok",
        kpis=kpis,
        trend=_trend(survey, period, params, kpis, min_base),
        groups=groups,
        attributes=_attributes(survey),
        drivers=_drivers(survey, period, language, options, min_base),
        comments=_comments(survey),
        links=_links(data, period, params, survey, shared, min_base),
        groups_export=sat.groups_export(groups, str(period), unit),
        **common,
    )


# --------------------------------------------------------------------------- parts


def _trend(
    survey: sat.Survey,
    period: Period,
    params: Mapping[str, Any],
    kpis: pd.DataFrame,
    min_base: int,
) -> TrendPart:
    count = int(params.get("trend_periods") or 8)
    periods = sat.trend_periods(period, count)
    trends, changes = sat.score_trends(survey, periods, min_base=min_base)
    shown = {m: t for m, t in trends.items() if int(t["n"].sum()) > 0}
    if survey.outcome is None or not shown:
        return TrendPart(count, trends, shown, changes)
    label = str(period)
    notes = []
    for metric, table in shown.items():
        flagged = any(c.period == label for c in changes.get(metric, []))
        if flagged or metric not in kpis.index or label not in table.index:
            continue
        if not kpis.loc[metric, "significant"]:
            continue
        notes.append(
            KpiTrendNote(
                metric=metric,
                change=float(kpis.loc[metric, "change"]),
                p_value=float(kpis.loc[metric, "p_value"]),
                tested=int(table["p_value"].notna().sum()),
                p_adjusted=float(table.loc[label, "p_adjusted"]),
            )
        )
    by_unit = None
    if str(params.get("unit", "all")) == "all" and survey.responses["business_unit"].nunique() > 1:
        by_unit = sat.unit_changes(survey, periods, min_base=min_base)
    return TrendPart(count, trends, shown, changes, tuple(notes), by_unit)


def _groups(survey: sat.Survey, min_base: int) -> pd.DataFrame | None:
    frame = survey.current
    dims = sat.group_dimensions(frame)
    if frame.empty or not dims or survey.outcome is None:
        return None
    return sat.group_table(frame, survey, dims, min_base=min_base)


def _attributes(survey: sat.Survey) -> AttributesPart | None:
    frame = survey.current
    if not survey.ratings or frame.empty:
        return None
    ratings = list(survey.ratings)
    scales = survey.scales
    dist = sat.rating_distribution(frame, ratings, scale=scales)
    dist = dist.loc[dist["n"] > 0]
    if dist.empty:
        return None
    low = min(scales[c][0] for c in dist.index)
    high = max(scales[c][1] for c in dist.index)
    levels = tuple(range(low, high + 1))
    dist = dist.sort_values("top2", kind="mergesort")
    reliability, failed = None, False
    if len(ratings) >= 2:
        try:
            reliability = sat.cronbach_alpha(frame, ratings, scale=scales)
        except AnalysisError:
            failed = True
    return AttributesPart(dist, levels, reliability, failed)


def _drivers(
    survey: sat.Survey,
    period: Period,
    language: str,
    options: Mapping[str, Any],
    min_base: int,
) -> DriversPart | None:
    outcome = survey.outcome
    if outcome is None or len(survey.ratings) < 2:
        return None
    ratings = list(survey.ratings)
    start, end = sat.driver_window(period)
    responses = survey.responses
    sample = responses.loc[
        (responses["response_date"] >= start) & (responses["response_date"] < end)
    ]
    part = dict(outcome=outcome, start=start, end=end, n_sample=len(sample))
    try:
        drivers = sat.key_drivers(
            sample,
            outcome,
            ratings,
            n_boot=int(options.get("driver_bootstrap", DRIVER_BOOTSTRAP)),
            scale=survey.scales,
        )
    except AnalysisError as exc:
        return DriversPart(status="failed", reason=str(exc), **part)
    # drivers without variation or aliased with others are left out (drivers.attrs)
    ratings = list(drivers.index)
    # too few answers this period for stable means: performance from the driver window
    few = survey.current[ratings].notna().sum().min() < min_base
    ipa = sat.importance_performance(
        sample if few else survey.current,
        ratings,
        drivers,
        scale=survey.scales,
        language=language,
    )
    return DriversPart(
        status="ok",
        drivers=drivers,
        ipa=ipa,
        plan=sat.improvement_plan(ipa, language),
        performance_window=bool(few),
        **part,
    )


def _comments(survey: sat.Survey) -> CommentsPart | None:
    frame = survey.current
    if "comment" not in frame.columns or frame.empty:
        return None
    has_text = frame["comment"].notna() & (frame["comment"].astype("string").str.strip() != "")
    categories = sat.response_category(frame, survey).where(has_text)
    if categories.notna().sum() == 0:
        return None
    worst, best = survey.categories
    themes = text.comment_themes(frame["comment"], categories, top_n=COMMENT_TERMS, min_count=2)
    examples = text.example_comments(
        frame["comment"],
        categories.where(categories.isin([worst, best])),
        n=COMMENT_EXAMPLES,
        themes=themes,
    )
    if not examples.empty:
        examples = (
            examples.assign(order=examples["group"].map({worst: 0, best: 1}))
            .sort_values("order", kind="mergesort")
            .drop(columns="order")
        )

    def top(category: str) -> tuple[str, ...]:
        return tuple(themes.loc[themes["group"] == category, "term"].head(3))

    return CommentsPart(
        n=int(categories.notna().sum()),
        worst=worst,
        best=best,
        themes=themes,
        examples=examples,
        worst_terms=top(worst),
        best_terms=top(best),
    )


def segment_assignments(
    data: Dataset, period: Period, params: Mapping[str, Any], shared: SharedWork
) -> pd.DataFrame | None:
    """The customers' named RFM segment as of the period end, for NPS by segment.

    The value report's own rules and parameters (the same assignment it exports), from
    the unit's shared value snapshot.

    Returns
    -------
    DataFrame or None
        ``customer_id`` and ``segment`` (the segment's name in ``params["language"]``);
        None when there are no purchases to score.
    """
    from ..value import segment_label  # noqa: PLC0415

    if not has_orders(data):
        return None
    snapshot = shared.value_snapshot(data, period.end, params, predict_clv=False)
    table = snapshot.table.loc[snapshot.table["scored"]]
    if table.empty:
        return None
    language = str(params.get("language", "en"))
    labels = table["rfm_segment"].astype(str).map(lambda key: segment_label(key, language))
    return pd.DataFrame({"customer_id": table.index.astype(str), "segment": labels.to_numpy()})


def has_orders(data: Dataset) -> bool:
    """The unit has purchases (a survey-only export has none)."""
    return data.orders is not None and not data.orders.empty


def unit_churn(data: Dataset, period: Period, params: Mapping[str, Any]) -> tuple[str, ChurnWindow]:
    """The unit's churn definition and window as of the period end: the one rule of the
    churn report and the unit's figures (:func:`analysis.figures.churn_rule`).

    Returns
    -------
    (str, ChurnWindow)
    """
    rule = churn_rule(data, period.end_exclusive, params)
    definition, window = rule.definition, rule.window
    return definition, window


def _links(
    data: Dataset,
    period: Period,
    params: Mapping[str, Any],
    survey: sat.Survey,
    shared: SharedWork,
    min_base: int,
) -> LinksPart:
    current = survey.current
    anonymous = int(current["customer_id"].isna().sum())
    if not has_orders(data):
        return LinksPart(anonymous, len(current), has_orders=False)
    segment_table = None
    segments = segment_assignments(data, period, params, shared)
    if segments is not None and survey.outcome is not None and not current.empty:
        frame = current.merge(segments[["customer_id", "segment"]], on="customer_id", how="left")
        segment_table = sat.group_table(frame, survey, ["segment"], min_base=min_base)
    data_end = data.data_end
    if data_end is None or survey.outcome is None:
        return LinksPart(anonymous, len(current), segment_table)
    definition, window = unit_churn(data, period, params)
    responses = sat.churn_after_response(
        survey.responses,
        data.orders,
        data_end,
        window_days=window.days,
        definition=definition,
        customers=data.customers,
    )
    summary = sat.churn_by_category(responses, sat.response_category(responses, survey))
    enough = not summary.empty and int(summary["n"].sum()) >= min_base
    link = ChurnLinkPart(definition, window, responses, summary, pd.Timestamp(data_end), enough)
    return LinksPart(anonymous, len(current), segment_table, link)

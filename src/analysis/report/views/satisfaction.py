"""Sections of the "Satisfaction" report (issue #5).

KPI cards with significance, the score trend with flagged changes, NPS per customer
group, attribute ratings and their reliability, key drivers with the
importance-performance matrix and the improvement list, comment themes, links to
customers (anonymous responses, segments, later churn) and the CRM exports.

:func:`prepare` builds one :class:`SurveyView` per report; every section takes the
context and that view. A unit without survey responses (or a run without a survey
file) gets a short report: the first section says why and the others show nothing. A
survey without an NPS question is carried by CSAT and the attribute ratings. The
statistics come from :mod:`analysis.satisfaction` and :mod:`analysis.text`; the few
report-specific computations here (score comparison, churn after a response,
follow-up actions) are pure functions over DataFrames and are tested on their own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter
from scipy import stats

from ... import display as ui
from ... import plots, satisfaction, text
from ...errors import AnalysisError
from ...i18n import catalog
from ..context import ReportContext

P = "report_satisfaction"
#: Groups with fewer valid answers are shown greyed, never tested or ranked.
MIN_BASE = 30
#: Days without a purchase after a response that count as churn.
CHURN_WINDOW_DAYS = 90
#: Customer attributes joined onto the responses for the group tables.
CUSTOMER_ATTRIBUTES = ("customer_type", "region")
#: Grouping columns of the group table, in display order.
DIMENSIONS = ("business_unit", "customer_type", "touchpoint", "region", "channel", "main_channel")
#: Columns of ``detractors.csv``.
DETRACTOR_COLUMNS = [
    "customer_id",
    "business_unit",
    "response_id",
    "response_date",
    "nps",
    "csat",
    "touchpoint",
    "comment",
    "lowest_rated_attribute",
    "priority",
    "follow_up_action",
]
#: Columns of ``satisfaction_groups.csv``.
GROUP_COLUMNS = [
    "period",
    "unit",
    "dimension",
    "group",
    "n",
    "small_base",
    "rank",
    "nps",
    "nps_ci_low",
    "nps_ci_high",
    "promoters",
    "passives",
    "detractors",
    "nps_diff_vs_rest",
    "nps_p_value",
    "nps_p_adjusted",
    "nps_significant",
    "csat_n",
    "csat_top_box",
    "csat_ci_low",
    "csat_ci_high",
    "csat_mean",
    "csat_diff_vs_rest",
    "csat_p_adjusted",
    "csat_significant",
]
_FREQ = {"quarter": "Q", "month": "M", "year": "Y"}
_OVERALL_ITEMS = ("csat", "rating_overall", "rating_satisfaction", "rating_overall_satisfaction")
_COLOURS = {
    "detractor": "#c73e1d",
    "passive": "#9aa5b1",
    "promoter": "#3b8b5a",
    "dissatisfied": "#c73e1d",
    "neutral": "#9aa5b1",
    "satisfied": "#3b8b5a",
}


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class SurveyView:
    """The unit's survey responses as the report sees them.

    Attributes
    ----------
    responses : DataFrame
        Responses dated up to the period end, with the respondent's customer
        attributes (``customer_type``, ``region``) and ``main_channel`` joined on.
    current, previous : DataFrame
        The responses of the report period and of the previous period.
    has_nps : bool
        The survey asked the 0-10 recommendation question.
    overall : str or None
        Column of the overall satisfaction item (``csat``), None when there is none.
    overall_scale, rating_scale : tuple of int
        Declared scales of the overall item and of the attribute ratings.
    ratings : tuple of str
        Attribute rating columns (``rating_*``) with at least one answer.
    freq : str
        Trend frequency matching the period kind (``Q``, ``M`` or ``Y``).
    no_file : bool
        The run has no survey file at all.
    """

    responses: pd.DataFrame
    current: pd.DataFrame
    previous: pd.DataFrame
    has_nps: bool
    overall: str | None
    overall_scale: tuple[int, int]
    ratings: tuple[str, ...]
    rating_scale: tuple[int, int]
    freq: str
    no_file: bool = False

    @property
    def empty(self) -> bool:
        """No response of this unit up to the period end."""
        return self.responses.empty

    @property
    def outcome(self) -> str | None:
        """The headline score column: ``nps``, else the overall item."""
        return "nps" if self.has_nps else self.overall

    @property
    def scales(self) -> dict[str, tuple[int, int]]:
        """Declared scale of every score column, for the satisfaction functions."""
        out = {c: self.rating_scale for c in self.ratings}
        if self.overall:
            out[self.overall] = self.overall_scale
        return out


def with_customer_attributes(
    responses: pd.DataFrame, customers: pd.DataFrame, orders: pd.DataFrame, end: pd.Timestamp
) -> pd.DataFrame:
    """Responses with the respondent's attributes; a new frame, the inputs are unchanged.

    Adds ``customer_type`` and ``region`` from ``customers`` (when the survey does not
    carry them) and ``main_channel``: the channel of most of the customer's purchases
    before ``end`` (ties broken by name), when the orders have a ``channel`` column and
    the survey has none. Anonymous respondents get missing values.
    """
    out = responses.copy()
    if "customer_id" not in out.columns:
        out["customer_id"] = pd.Series(pd.NA, index=out.index, dtype="string")
    columns = [c for c in CUSTOMER_ATTRIBUTES if c in customers.columns and c not in out.columns]
    if columns:
        attrs = customers.drop_duplicates("customer_id").set_index("customer_id")[columns]
        out = out.join(attrs, on="customer_id")
    if "channel" not in out.columns and "channel" in orders.columns:
        bought = orders.loc[
            (orders["amount"] > 0) & (orders["order_date"] < end) & orders["channel"].notna(),
            ["customer_id", "channel"],
        ]
        main = (
            bought.groupby(["customer_id", "channel"], observed=True)
            .size()
            .rename("k")
            .reset_index()
            .sort_values(["customer_id", "k", "channel"], ascending=[True, False, True])
            .drop_duplicates("customer_id")
            .set_index("customer_id")["channel"]
        )
        out["main_channel"] = out["customer_id"].map(main)
    return out


def prepare(ctx: ReportContext) -> SurveyView:
    """The :class:`SurveyView` of the report's unit and period (no output)."""
    raw = ctx.data.survey_responses
    no_file = raw is None
    if raw is None:
        raw = pd.DataFrame(
            {
                "response_id": pd.Series(dtype="string"),
                "response_date": pd.Series(dtype="datetime64[ns]"),
                "business_unit": pd.Series(dtype="string"),
                "customer_id": pd.Series(dtype="string"),
            }
        )
    end = ctx.period.end_exclusive
    responses = raw.loc[raw["response_date"] < end].reset_index(drop=True)
    responses = with_customer_attributes(responses, ctx.data.customers, ctx.data.orders, end)
    rating_scale = tuple(ctx.params.get("quality", {}).get("rating_scale", (1, 5)))
    overall = next((c for c in _OVERALL_ITEMS if satisfaction.has_score(responses, c)), None)
    ratings = tuple(
        c
        for c in responses.columns
        if str(c).startswith("rating_") and c != overall and satisfaction.has_score(responses, c)
    )
    return SurveyView(
        responses=responses,
        current=responses.loc[ctx.period.contains(responses["response_date"])],
        previous=responses.loc[ctx.previous.contains(responses["response_date"])],
        has_nps=satisfaction.has_score(responses, "nps"),
        overall=overall,
        overall_scale=(1, 5) if overall == "csat" else rating_scale,
        ratings=ratings,
        rating_scale=rating_scale,
        freq=_FREQ.get(ctx.period.kind, "Q"),
        no_file=no_file,
    )


# --------------------------------------------------------------------------- statistics


def _two_sided_p(diff: float, se: float) -> float:
    if not (math.isfinite(diff) and math.isfinite(se)) or se <= 0:
        return float("nan")
    return float(2.0 * stats.norm.sf(abs(diff / se)))


def score_comparison(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    *,
    has_nps: bool,
    overall: str | None,
    overall_scale: tuple[int, int] = (1, 5),
    days: tuple[int, int] = (1, 1),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Headline scores of a period vs the previous one, each with a significance test.

    * NPS: difference of two independent estimates with the trinomial standard errors,
      ``z = (s1 - s0) / sqrt(SE1^2 + SE0^2)`` (as in :func:`satisfaction.detect_changes`).
    * CSAT top-2-box share: the same with binomial standard errors.
    * Response count: exact binomial test of ``n1`` out of ``n1 + n0`` against the
      share of days ``d1 / (d1 + d0)`` (equal daily response rates; periods may differ
      in length).

    One pre-specified comparison per metric, so no multiple-testing correction.

    Parameters
    ----------
    current, previous
        Responses of the two periods.
    has_nps, overall, overall_scale
        Which scores the survey has (see :class:`SurveyView`).
    days
        Lengths of the current and the previous period in days.
    alpha
        Significance level.

    Returns
    -------
    DataFrame
        Index ``metric`` (``nps``, ``csat``, ``responses``); columns ``value, ci_low,
        ci_high, n, previous, previous_n, change, p_value, significant``. NPS in points,
        CSAT as a share (0-1), responses as counts; ``change`` is absolute for the
        scores and relative for the count.
    """
    rows: dict[str, dict[str, float]] = {}
    if has_nps:
        a, b = satisfaction.nps(current["nps"]), satisfaction.nps(previous["nps"])
        change = a.nps - b.nps if a.n and b.n else np.nan
        rows["nps"] = dict(
            value=a.nps,
            ci_low=a.ci_low,
            ci_high=a.ci_high,
            n=a.n,
            previous=b.nps,
            previous_n=b.n,
            change=change,
            p_value=_two_sided_p(change, math.hypot(a.se, b.se)) if a.n and b.n else np.nan,
        )
    if overall:
        a = satisfaction.csat(current[overall], scale=overall_scale)
        b = satisfaction.csat(previous[overall], scale=overall_scale)
        change = a.top_box - b.top_box if a.n and b.n else np.nan
        se = (
            math.hypot(
                math.sqrt(a.top_box * (1 - a.top_box) / a.n),
                math.sqrt(b.top_box * (1 - b.top_box) / b.n),
            )
            if a.n and b.n
            else np.nan
        )
        rows["csat"] = dict(
            value=a.top_box,
            ci_low=a.ci_low,
            ci_high=a.ci_high,
            n=a.n,
            previous=b.top_box,
            previous_n=b.n,
            change=change,
            p_value=_two_sided_p(change, se),
        )
    n1, n0 = len(current), len(previous)
    p = np.nan
    if n0 > 0 and n1 + n0 > 0:
        p = stats.binomtest(n1, n1 + n0, days[0] / (days[0] + days[1])).pvalue
    rows["responses"] = dict(
        value=float(n1),
        ci_low=np.nan,
        ci_high=np.nan,
        n=n1,
        previous=float(n0),
        previous_n=n0,
        change=(n1 - n0) / n0 if n0 else np.nan,
        p_value=float(p),
    )
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "metric"
    out["significant"] = (out["p_value"] < alpha).fillna(False).astype(bool)
    return out


def trend_periods(ctx: ReportContext, count: int) -> list[str] | int:
    """Labels of the ``count`` periods ending with the report period (an int for ranges)."""
    if ctx.period.kind not in _FREQ:
        return count
    return [str(ctx.period.shift(-i)) for i in reversed(range(count))]


def score_trends(
    survey: SurveyView, periods: Sequence[str] | int, *, min_base: int = MIN_BASE
) -> tuple[dict[str, pd.DataFrame], dict[str, list[satisfaction.ScoreChange]]]:
    """Per metric (``nps``, ``csat``): the trend table and its significant changes.

    Changes come from :func:`satisfaction.detect_changes` over the periods shown (one
    Benjamini-Hochberg family per metric). Periods before the first response are left out.
    """
    trends: dict[str, pd.DataFrame] = {}
    changes: dict[str, list[satisfaction.ScoreChange]] = {}
    for metric, column in (("nps", "nps" if survey.has_nps else None), ("csat", survey.overall)):
        if column is None:
            continue
        options = dict(
            freq=survey.freq,
            periods=periods,
            score=metric,
            score_col=column,
            scale=None if metric == "nps" else survey.overall_scale,
            min_base=min_base,
        )
        table = satisfaction.score_trend(survey.responses, **options)
        answered = np.flatnonzero(table["n"].to_numpy() > 0)
        trends[metric] = table.iloc[answered[0] :] if answered.size else table.iloc[:0]
        changes[metric] = satisfaction.detect_changes(survey.responses, by=None, **options)
    return trends, changes


def response_category(frame: pd.DataFrame, survey: SurveyView) -> pd.Series:
    """Promoter / passive / detractor, or satisfied / neutral / dissatisfied without NPS.

    Without an NPS question the overall item is split into its top-2 box (satisfied),
    bottom-2 box (dissatisfied) and the rest (neutral).
    """
    if survey.has_nps:
        return satisfaction.nps_category(frame["nps"]).astype("object")
    if survey.overall is None:
        return pd.Series(np.nan, index=frame.index, dtype="object")
    low, high = survey.overall_scale
    values = pd.to_numeric(frame[survey.overall], errors="coerce")
    values = values.where(values.between(low, high))
    out = np.select(
        [values >= high - 1, values <= low + 1, values.notna()],
        ["satisfied", "dissatisfied", "neutral"],
        default="",
    )
    return pd.Series(out, index=frame.index, dtype="object").replace("", np.nan)


def churn_after_response(
    responses: pd.DataFrame,
    orders: pd.DataFrame,
    data_end: pd.Timestamp,
    *,
    window_days: int = CHURN_WINDOW_DAYS,
) -> pd.DataFrame:
    """Whether each identified respondent bought again within ``window_days`` after answering.

    Churn means no purchase (an order with a positive amount) in the ``window_days``
    after the response date. Only responses at least ``window_days`` before
    ``data_end`` are eligible: for later ones the window is not fully observed. Anonymous
    responses cannot be followed and are left out.

    Returns
    -------
    DataFrame
        The eligible responses (all input columns) plus ``next_purchase`` (date of the
        first purchase after the response, NaT if none) and ``churned`` (bool).
    """
    window = pd.Timedelta(days=window_days)
    ids = responses["customer_id"] if "customer_id" in responses.columns else None
    if ids is None or data_end is None or pd.isna(data_end):
        return responses.iloc[:0].assign(next_purchase=pd.NaT, churned=False)
    eligible = responses.loc[ids.notna() & (responses["response_date"] + window <= data_end)]
    if eligible.empty:
        return eligible.assign(next_purchase=pd.NaT, churned=pd.Series(dtype=bool))
    keys = eligible[["customer_id", "response_date"]].astype({"customer_id": "string"})
    keys = keys.assign(_row=np.arange(len(keys))).sort_values("response_date")
    bought = orders.loc[orders["amount"] > 0, ["customer_id", "order_date"]].astype(
        {"customer_id": "string"}
    )
    nxt = pd.merge_asof(
        keys,
        bought.sort_values("order_date"),
        left_on="response_date",
        right_on="order_date",
        by="customer_id",
        direction="forward",
        allow_exact_matches=False,
    ).sort_values("_row")
    next_purchase = nxt["order_date"].to_numpy()
    out = eligible.assign(next_purchase=next_purchase)
    out["churned"] = (
        out["next_purchase"].isna() | (out["next_purchase"] > out["response_date"] + window)
    ).astype(bool)
    return out


def churn_by_category(churn: pd.DataFrame, categories: pd.Series) -> pd.DataFrame:
    """Churn rate per response category with Wilson 95% intervals.

    Returns
    -------
    DataFrame
        Index ``category``; columns ``n, churned, rate, ci_low, ci_high``.
        ``attrs["p_value"]``: pooled two-proportion z-test of the worst category
        (detractors / dissatisfied) against the best (promoters / satisfied).
    """
    frame = pd.DataFrame({"category": categories.reindex(churn.index), "churned": churn["churned"]})
    frame = frame.dropna(subset=["category"])
    rows = {}
    for cat, part in frame.groupby("category", sort=False):
        n, k = len(part), int(part["churned"].sum())
        low, high = satisfaction.wilson_interval(k, n)
        rows[cat] = dict(n=n, churned=k, rate=k / n if n else np.nan, ci_low=low, ci_high=high)
    order = [
        c
        for c in ("detractor", "passive", "promoter", "dissatisfied", "neutral", "satisfied")
        if c in rows
    ]
    out = pd.DataFrame.from_dict(rows, orient="index").reindex(order)
    out.index.name = "category"
    worst = next((c for c in ("detractor", "dissatisfied") if c in rows), None)
    best = next((c for c in ("promoter", "satisfied") if c in rows), None)
    p = np.nan
    if worst and best:
        (n1, k1), (n0, k0) = (
            (rows[worst]["n"], rows[worst]["churned"]),
            (rows[best]["n"], rows[best]["churned"]),
        )
        pooled = (k1 + k0) / (n1 + n0)
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        p = _two_sided_p(k1 / n1 - k0 / n0, se)
    out.attrs.update(p_value=p, worst=worst, best=best)
    return out


def group_table(
    frame: pd.DataFrame,
    survey: SurveyView,
    dimensions: Sequence[str],
    *,
    min_base: int = MIN_BASE,
) -> pd.DataFrame:
    """NPS (and CSAT) of every group of every dimension, tested against the rest.

    Uses :func:`satisfaction.nps_by_group` and :func:`satisfaction.csat_by_group`
    (Welch / two-proportion tests, Benjamini-Hochberg within each dimension). The
    headline metric (NPS, else CSAT) decides ``small_base`` and ``rank``.

    Returns
    -------
    DataFrame
        One row per (dimension, group) with the columns of ``satisfaction_groups.csv``
        except ``period`` and ``unit``; ranked groups first (by rank), then small bases.
    """
    columns = [c for c in GROUP_COLUMNS if c not in ("period", "unit")]
    parts = []
    for dim in dimensions:
        out = None
        if survey.has_nps:
            nps = satisfaction.nps_by_group(frame, dim, min_base=min_base)
            out = pd.DataFrame(
                {
                    "n": nps["n"],
                    "small_base": nps["small_base"],
                    "rank": nps["rank"],
                    "nps": nps["nps"],
                    "nps_ci_low": nps["ci_low"],
                    "nps_ci_high": nps["ci_high"],
                    "promoters": nps["promoters"],
                    "passives": nps["passives"],
                    "detractors": nps["detractors"],
                    "nps_diff_vs_rest": nps["diff"],
                    "nps_p_value": nps["p_value"],
                    "nps_p_adjusted": nps["p_adjusted"],
                    "nps_significant": nps["significant"],
                }
            )
        if survey.overall:
            cs = satisfaction.csat_by_group(
                frame, dim, score_col=survey.overall, scale=survey.overall_scale, min_base=min_base
            )
            cs_part = pd.DataFrame(
                {
                    "csat_n": cs["n"],
                    "csat_top_box": cs["top_box"],
                    "csat_ci_low": cs["ci_low"],
                    "csat_ci_high": cs["ci_high"],
                    "csat_mean": cs["mean"],
                    "csat_diff_vs_rest": cs["diff"],
                    "csat_p_adjusted": cs["p_adjusted"],
                    "csat_significant": cs["significant"],
                }
            )
            if out is None:
                out = cs_part.assign(n=cs["n"], small_base=cs["small_base"], rank=cs["rank"])
            else:
                out = out.join(cs_part, how="left")
        if out is None or out.empty:
            continue
        out = out.reset_index(names="group").assign(dimension=dim)
        out["_ranked"] = out["rank"].isna()
        out = out.sort_values(["_ranked", "rank", "group"], kind="mergesort")
        parts.append(out.reindex(columns=columns))
    if not parts:
        return pd.DataFrame(columns=columns)
    table = pd.concat(parts, ignore_index=True)
    table["rank"] = table["rank"].astype("Int64")
    return table


def follow_up_actions(
    detractors: pd.DataFrame,
    ratings: Sequence[str],
    *,
    rating_scale: tuple[int, int] = (1, 5),
    language: str = "en",
) -> pd.DataFrame:
    """Lowest-rated attribute, priority and a follow-up action text for each detractor.

    Rules: a strong detractor (NPS 0-3, or the lowest answer of the overall item) gets
    priority ``high``, the others ``medium``. When an attribute is rated in the bottom
    two levels of its scale, the action addresses the lowest-rated one (the first in
    column order on ties); otherwise it is a call to learn the reason.

    Returns
    -------
    DataFrame
        Same index; columns ``lowest_rated_attribute`` (e.g. ``delivery``, empty when
        no attribute is low), ``priority`` and ``follow_up_action``.
    """
    low_cut = rating_scale[0] + 1
    if ratings:
        values = detractors[list(ratings)].apply(pd.to_numeric, errors="coerce")
        values = values.where((values >= rating_scale[0]) & (values <= rating_scale[1]))
        lowest_value = values.min(axis=1)
        lowest = values.fillna(np.inf).idxmin(axis=1).where(lowest_value <= low_cut)
    else:
        lowest = pd.Series(np.nan, index=detractors.index, dtype="object")
    if "nps" in detractors.columns and detractors["nps"].notna().any():
        strong = pd.to_numeric(detractors["nps"], errors="coerce") <= 3
    else:
        strong = pd.Series(True, index=detractors.index)
    names = catalog(language)
    actions = []
    for attr, is_strong in zip(lowest, strong, strict=True):
        if isinstance(attr, str):
            short = attr.removeprefix("rating_")
            key = f"{P}.follow_up.{short}"
            if key in names:
                actions.append(names[key])
            else:
                label = attribute_name(attr, language)
                actions.append(names[f"{P}.follow_up.generic_attribute"].format(attribute=label))
        else:
            actions.append(names[f"{P}.follow_up.{'call' if is_strong else 'email'}"])
    return pd.DataFrame(
        {
            "lowest_rated_attribute": [
                a.removeprefix("rating_") if isinstance(a, str) else "" for a in lowest
            ],
            "priority": np.where(strong, "high", "medium"),
            "follow_up_action": actions,
        },
        index=detractors.index,
    )


def segment_assignments(ctx: ReportContext) -> pd.DataFrame | None:
    """Hook: the customers' RFM or clustering segment, for NPS by segment.

    Returns a frame with ``customer_id`` and ``segment``: the customer's named RFM segment
    as of the period end, computed with the value report's own rules and parameters (the
    same assignment the value report exports). None when there are no purchases to score.
    """
    from ...value import segment_label  # noqa: PLC0415

    if ctx.data.orders.empty:
        return None
    snapshot = ctx.value_snapshot(ctx.period.end, predict_clv=False)
    table = snapshot.table.loc[snapshot.table["scored"]]
    if table.empty:
        return None
    labels = table["rfm_segment"].astype(str).map(lambda key: segment_label(key, ctx.language))
    return pd.DataFrame({"customer_id": table.index.astype(str), "segment": labels.to_numpy()})


# --------------------------------------------------------------------------- wording


def _t(ctx: ReportContext, key: str, **values: object) -> str:
    return ctx._(f"{P}.{key}", **values)


def attribute_name(column: str, language: str = "en") -> str:
    """Display name of a rating column: catalogued (``rating_delivery`` -> "Delivery"),
    else derived from the column name."""
    key = f"{P}.attribute.{str(column).removeprefix('rating_')}"
    names = catalog(language)
    return names[key] if key in names else satisfaction.attribute_label(column)


def _value_label(ctx: ReportContext, dimension: str, value: object) -> str:
    dim = "channel" if dimension == "main_channel" else dimension
    key = f"{P}.value.{dim}.{value}"
    names = catalog(ctx.language)
    return names[key] if key in names else str(value)


def _category_label(ctx: ReportContext, category: str, *, prose: bool = False) -> str:
    """``Detractors`` as a label; ``detractors`` inside a sentence (``prose``)."""
    if prose:
        return _t(ctx, f"category_prose.{category}")
    if category in satisfaction.NPS_CATEGORIES:
        return ctx._(f"satisfaction.nps_category.{category}")
    return _t(ctx, f"category.{category}")


def _fmt_p(p: float, *, relation: bool = False) -> str:
    """``0.0123`` -> ``0.012``; with ``relation`` -> ``= 0.012`` / ``< 0.001`` for prose."""
    if p is None or not math.isfinite(p):
        return "–"
    if p < 0.001:
        return "< 0.001"
    shown = f"{p:.3f}"
    if (float(shown) < 0.05) != (p < 0.05):  # 0.0498 must not read as 0.050
        shown = f"{p:.4f}"
    return f"= {shown}" if relation else shown


def _fmt_score(value: float, metric: str) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:+.0f}" if metric == "nps" else f"{value:.0%}"


def _fmt_points(ctx: ReportContext, change: float, metric: str, *, signed: bool = True) -> str:
    """A change in NPS points or CSAT percentage points: ``+3.2 pts``."""
    size = change if metric == "nps" else 100 * change
    key = "unit.points" if metric == "nps" else "unit.pct_points"
    return _t(ctx, key + ("_signed" if signed else ""), value=size)


def _period_word(ctx: ReportContext) -> str:
    kind = ctx.period.kind if ctx.period.kind in _FREQ else "quarter"
    return _t(ctx, f"period_word.{kind}")


# --------------------------------------------------------------------------- sections


def kpi_section(ctx: ReportContext, survey: SurveyView) -> pd.DataFrame | None:
    """KPI cards: NPS, CSAT and responses with change vs the previous period."""
    ctx.heading(f"{P}.kpis.title")
    if survey.empty:
        key = "no_file" if survey.no_file else "no_responses"
        ctx.note(f"{P}.empty.{key}", "warning", unit=ctx.unit_label, period=str(ctx.period))
        return None
    ctx.text(
        f"{P}.kpis.intro" if survey.has_nps else f"{P}.kpis.intro_no_nps",
        period=str(ctx.period),
        start=ctx.period.start,
        end=ctx.period.end,
        previous=str(ctx.previous),
    )
    if not survey.has_nps:
        ctx.note("satisfaction.note.no_nps")
    if survey.current.empty:
        ctx.note(f"{P}.empty.no_responses_in_period", "warning", period=str(ctx.period))
        return None
    table = score_comparison(
        survey.current,
        survey.previous,
        has_nps=survey.has_nps,
        overall=survey.overall,
        overall_scale=survey.overall_scale,
        days=(ctx.period.days, ctx.previous.days),
    )
    vs = ctx._("common.vs_previous", period=str(ctx.previous))
    cards = []
    for metric, row in table.iterrows():
        if math.isfinite(row["change"]):
            verdict = _t(ctx, "kpi.significant" if row["significant"] else "kpi.not_significant")
            label = f"{vs} · {verdict}"
        else:
            label = ctx._("common.no_comparison")
        if metric == "responses":
            value, change_text = ctx.number(row["value"]), None
        else:
            value = _fmt_score(row["value"], metric)
            change_text = (
                _fmt_points(ctx, row["change"], metric) if math.isfinite(row["change"]) else None
            )
        cards.append(
            ui.KPI(
                _t(ctx, f"kpi.{metric}"),
                value,
                row["change"] if math.isfinite(row["change"]) else None,
                label,
                higher_is_better=(True if metric != "responses" else None)
                if row["significant"]
                else None,
                change_text=change_text,
            )
        )
    ctx.show(ui.kpi_cards(cards))
    if survey.outcome is None:
        ctx.takeaway(f"{P}.kpis.no_scores", n=ctx.number(len(survey.current)))
    else:
        ctx.takeaway(f"{P}.kpis.takeaway", parts=_kpi_sentence(ctx, table))
    return table


def _kpi_sentence(ctx: ReportContext, table: pd.DataFrame) -> str:
    parts = []
    for metric in ("nps", "csat"):
        if metric not in table.index:
            continue
        row = table.loc[metric]
        if not math.isfinite(row["change"]):
            change = _t(ctx, "kpis.change.none", previous=str(ctx.previous))
        else:
            direction = "down" if row["change"] < 0 else "up"
            key = f"kpis.change.{direction}_{'sig' if row['significant'] else 'not_sig'}"
            change = _t(
                ctx,
                key,
                size=_fmt_points(ctx, row["change"], metric),
                previous=str(ctx.previous),
                p=_fmt_p(row["p_value"], relation=True),
            )
        parts.append(
            _t(
                ctx,
                f"kpis.takeaway.{metric}",
                value=_fmt_score(row["value"], metric),
                low=_fmt_score(row["ci_low"], metric),
                high=_fmt_score(row["ci_high"], metric),
                n=ctx.number(row["n"]),
                change=change,
            )
        )
    return _t(ctx, "separator").join(parts)


def trend_section(
    ctx: ReportContext, survey: SurveyView, periods: int | None = None
) -> dict[str, pd.DataFrame] | None:
    """NPS and CSAT per period with 95% intervals; significant changes flagged."""
    if survey.empty:
        return None
    count = int(periods or ctx.params.get("trend_periods", 8))
    word = _period_word(ctx)
    ctx.heading(f"{P}.trend.title", per=word)
    trends, changes = score_trends(survey, trend_periods(ctx, count))
    shown = {m: t for m, t in trends.items() if int(t["n"].sum()) > 0}
    if survey.outcome is None:
        ctx.note(f"{P}.trend.no_scores", "info")
        return trends
    if not shown:
        ctx.note(f"{P}.trend.empty", "warning")
        return trends
    fig, axes = plt.subplots(1, len(shown), figsize=(11, 3.8), squeeze=False)
    for ax, (metric, table) in zip(axes[0], shown.items(), strict=True):
        _plot_trend(ctx, ax, table, metric, changes.get(metric, []))
    plots.show_figure(fig)
    legend = _t(ctx, "trend.legend", min_base=MIN_BASE)
    if any(str(ctx.period) in t.index for t in shown.values()):
        legend += " " + _t(ctx, "trend.legend_period")
    ctx.show(ui.paragraph(legend, "sr-small"))
    ctx.show(ui.table(_trend_display(ctx, shown, changes)))
    ctx.takeaway(f"{P}.trend.takeaway", text=_change_sentence(ctx, changes, count, word))
    _explain_kpi_difference(ctx, survey, shown, changes)
    if ctx.unit == "all" and survey.responses["business_unit"].nunique() > 1:
        _unit_changes(ctx, survey, trend_periods(ctx, count))
    return trends


def _plot_trend(
    ctx: ReportContext,
    ax: plt.Axes,
    table: pd.DataFrame,
    metric: str,
    changes: list[satisfaction.ScoreChange],
) -> None:
    scale = 1.0 if metric == "nps" else 100.0
    x = np.arange(len(table))
    y = table["score"].to_numpy(dtype=float) * scale
    low = table["ci_low"].to_numpy(dtype=float) * scale
    high = table["ci_high"].to_numpy(dtype=float) * scale
    colour = plots.PALETTE[0] if metric == "nps" else plots.PALETTE[1]
    labels = list(table.index)
    if str(ctx.period) in labels:
        i = labels.index(str(ctx.period))
        ax.axvspan(i - 0.45, i + 0.45, color="#f18f01", alpha=0.12, lw=0)
    ax.fill_between(x, low, high, color=colour, alpha=0.15, lw=0)
    ax.errorbar(
        x,
        y,
        yerr=[y - low, high - y],
        color=colour,
        lw=2,
        marker="o",
        ms=6,
        capsize=3,
        elinewidth=1,
    )
    small = table["small_base"].to_numpy(dtype=bool)
    if small.any():
        ax.plot(x[small], y[small], "o", ms=6, mfc="white", mec=colour, zorder=3)
    for change in changes:
        if change.period not in labels:
            continue
        i = labels.index(change.period)
        if i > 0:
            ax.plot([i - 1, i], [y[i - 1], y[i]], color="#c73e1d", lw=2.5, zorder=4)
        ax.plot(x[i], y[i], "o", ms=9, color="#c73e1d", zorder=5)
        ax.annotate(
            f"{change.change * scale:+.1f}*",
            (x[i], y[i]),
            textcoords="offset points",
            xytext=(-8, -14 if change.change < 0 else 6),
            ha="right",
            color="#c73e1d",
            fontsize=10,
            fontweight="bold",
        )
    ax.set_xticks(x, labels)
    if len(x) > 4:
        ax.tick_params(axis="x", rotation=35, labelsize=9)
    ax.set_title(_t(ctx, f"trend.chart.{metric}"))
    if metric == "csat":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    finite = np.concatenate([low[np.isfinite(low)], high[np.isfinite(high)]])
    if finite.size:
        pad = max(5.0, 0.1 * (finite.max() - finite.min()))
        ax.set_ylim(finite.min() - pad, finite.max() + pad)
    ax.set_xlabel("")


def _trend_display(
    ctx: ReportContext,
    trends: dict[str, pd.DataFrame],
    changes: dict[str, list[satisfaction.ScoreChange]],
) -> pd.DataFrame:
    """One row per period: answers, each score with its interval, and its change."""
    index = next(iter(trends.values())).index
    flagged = {(m, c.period) for m, cs in changes.items() for c in cs}
    out = pd.DataFrame({_t(ctx, "col.period"): list(index)})
    first = next(iter(trends.values())).reindex(index)
    out[_t(ctx, "col.n")] = [ctx.number(v) if pd.notna(v) else "–" for v in first["n"]]
    for metric, table in trends.items():
        table = table.reindex(index)
        name = _t(ctx, f"kpi.{metric}")
        out[_t(ctx, "trend.col.score", metric=name)] = [
            f"{_fmt_score(v, metric)}  ({_fmt_score(a, metric)} … {_fmt_score(b, metric)})"
            if pd.notna(v)
            else "–"
            for v, a, b in zip(table["score"], table["ci_low"], table["ci_high"], strict=True)
        ]
        out[_t(ctx, "trend.col.change", metric=name)] = [
            (_fmt_points(ctx, c, metric) if pd.notna(c) else "–")
            + (f" · {_t(ctx, 'col.significant_mark')}" if (metric, p) in flagged else "")
            for p, c in zip(index, table["change"], strict=True)
        ]
    return out


def _change_sentence(
    ctx: ReportContext,
    changes: dict[str, list[satisfaction.ScoreChange]],
    count: int,
    word: str,
) -> str:
    parts = []
    for metric in ("nps", "csat"):
        if metric not in changes:
            continue
        name = _t(ctx, f"kpi.{metric}")
        found = sorted(changes[metric], key=lambda c: c.period)
        if not found:
            parts.append(_t(ctx, "trend.no_change", metric=name))
            continue
        for c in found:
            parts.append(
                _t(
                    ctx,
                    f"trend.change_{c.direction}",
                    metric=name,
                    size=_fmt_points(ctx, c.change, metric),
                    previous=c.previous_period,
                    period=c.period,
                    p=_fmt_p(c.p_adjusted, relation=True),
                )
            )
    return _t(ctx, "trend.sentence", parts=_t(ctx, "separator").join(parts), count=count, per=word)


def _explain_kpi_difference(
    ctx: ReportContext,
    survey: SurveyView,
    trends: dict[str, pd.DataFrame],
    changes: dict[str, list[satisfaction.ScoreChange]],
) -> None:
    """Say why a KPI card calls the latest change significant when the trend does not.

    The card tests one pre-specified comparison (this period vs the previous one); the
    trend corrects for every period-to-period comparison it shows, so a borderline
    change can pass the first and not the second.
    """
    period = str(ctx.period)
    kpis = score_comparison(
        survey.current,
        survey.previous,
        has_nps=survey.has_nps,
        overall=survey.overall,
        overall_scale=survey.overall_scale,
        days=(ctx.period.days, ctx.previous.days),
    )
    for metric, table in trends.items():
        flagged = any(c.period == period for c in changes.get(metric, []))
        if flagged or metric not in kpis.index or period not in table.index:
            continue
        if not kpis.loc[metric, "significant"]:
            continue
        tested = int(table["p_value"].notna().sum())
        ctx.show(
            ui.paragraph(
                _t(
                    ctx,
                    "trend.kpi_only",
                    metric=_t(ctx, f"kpi.{metric}"),
                    size=_fmt_points(ctx, kpis.loc[metric, "change"], metric),
                    period=period,
                    p=_fmt_p(kpis.loc[metric, "p_value"], relation=True),
                    k=tested,
                    p_adj=_fmt_p(table.loc[period, "p_adjusted"], relation=True),
                ),
                "sr-small",
            )
        )


def _unit_changes(ctx: ReportContext, survey: SurveyView, periods: list[str] | int) -> None:
    rows = []
    for metric, column in (("nps", "nps" if survey.has_nps else None), ("csat", survey.overall)):
        if column is None:
            continue
        found = satisfaction.detect_changes(
            survey.responses,
            by="business_unit",
            freq=survey.freq,
            periods=periods,
            score=metric,
            score_col=column,
            scale=None if metric == "nps" else survey.overall_scale,
            min_base=MIN_BASE,
        )
        rows += [(metric, c) for c in found]
    ctx.show(ui.heading(_t(ctx, "trend.units_title"), level=3))
    if not rows:
        ctx.takeaway(f"{P}.trend.units_none")
        return
    shown = pd.DataFrame(
        {
            _t(ctx, "col.unit"): [c.group for _, c in rows],
            _t(ctx, "col.metric"): [_t(ctx, f"kpi.{m}") for m, _ in rows],
            _t(ctx, "col.period"): [f"{c.previous_period} → {c.period}" for _, c in rows],
            _t(ctx, "col.change"): [_fmt_points(ctx, c.change, m) for m, c in rows],
            _t(ctx, "col.p_adjusted"): [_fmt_p(c.p_adjusted) for _, c in rows],
        }
    )
    ctx.show(ui.table(shown))
    ctx.takeaway(f"{P}.trend.units_found", count=len(rows))


def groups_section(ctx: ReportContext, survey: SurveyView) -> pd.DataFrame | None:
    """NPS (or CSAT) per customer type, touchpoint, region and channel, tested vs the rest."""
    if survey.empty:
        return None
    ctx.heading(f"{P}.groups.title")
    frame = survey.current
    dims = [d for d in DIMENSIONS if d in frame.columns and frame[d].dropna().nunique() >= 2]
    if frame.empty or not dims or survey.outcome is None:
        ctx.note(f"{P}.groups.none", "info", period=str(ctx.period))
        return group_table(frame, survey, [])
    table = group_table(frame, survey, dims)
    _show_groups(ctx, table, survey)
    return table


def _show_groups(ctx: ReportContext, table: pd.DataFrame, survey: SurveyView) -> None:
    """The group table (small bases greyed, never ranked), its legend and takeaway."""
    metric = "nps" if survey.has_nps else "csat"
    lo, hi = ("nps_ci_low", "nps_ci_high") if metric == "nps" else ("csat_ci_low", "csat_ci_high")
    value = "nps" if metric == "nps" else "csat_top_box"
    diff = "nps_diff_vs_rest" if metric == "nps" else "csat_diff_vs_rest"
    p_adj = f"{metric}_p_adjusted"
    sig = f"{metric}_significant"

    def verdict(row: pd.Series) -> str:
        if row["small_base"]:
            return _t(ctx, "groups.small_base")
        if not row[sig]:
            return _t(ctx, "groups.not_significant")
        return _t(ctx, "groups.above" if row[diff] > 0 else "groups.below")

    shown = pd.DataFrame(
        {
            _t(ctx, "col.dimension"): [_t(ctx, f"dimension.{d}") for d in table["dimension"]],
            _t(ctx, "col.group"): [
                _value_label(ctx, d, g)
                for d, g in zip(table["dimension"], table["group"], strict=True)
            ],
            _t(ctx, "col.n"): table["n"].astype(int),
            _t(ctx, f"kpi.{metric}"): [_fmt_score(v, metric) for v in table[value]],
            _t(ctx, "col.interval"): [
                f"{_fmt_score(a, metric)} … {_fmt_score(b, metric)}"
                for a, b in zip(table[lo], table[hi], strict=True)
            ],
            _t(ctx, "col.diff"): [
                "–" if s or not math.isfinite(d) else _fmt_points(ctx, d, metric)
                for d, s in zip(table[diff], table["small_base"], strict=True)
            ],
            _t(ctx, "col.p_adjusted"): [_fmt_p(p) for p in table[p_adj]],
            _t(ctx, "col.result"): [verdict(r) for _, r in table.iterrows()],
            _t(ctx, "col.rank"): ["–" if pd.isna(r) else str(int(r)) for r in table["rank"]],
        }
    )
    if metric == "nps" and survey.overall:
        shown[_t(ctx, "kpi.csat")] = [_fmt_score(v, "csat") for v in table["csat_top_box"]]
    ctx.show(ui.table(shown, muted_rows=table["small_base"].tolist(), max_rows=200))
    ctx.show(
        ui.paragraph(
            _t(ctx, "groups.legend", min_base=MIN_BASE, metric=_t(ctx, f"kpi.{metric}")),
            "sr-small",
        )
    )
    ctx.takeaway(
        f"{P}.groups.takeaway", text=_groups_sentence(ctx, table, metric, value, diff, sig)
    )


def _groups_sentence(
    ctx: ReportContext, table: pd.DataFrame, metric: str, value: str, diff: str, sig: str
) -> str:
    hits = table.loc[table[sig].fillna(False).astype(bool) & ~table["small_base"]]
    name = _t(ctx, f"kpi.{metric}")
    if hits.empty:
        ranked = table.loc[~table["small_base"]]
        if len(ranked) < 2:
            return _t(ctx, "groups.too_small", metric=name, min_base=MIN_BASE)
        return _t(ctx, "groups.none_significant", metric=name)
    items = []
    for _, row in hits.sort_values(diff).iterrows():
        key = "groups.item_above" if row[diff] > 0 else "groups.item_below"
        items.append(
            _t(
                ctx,
                key,
                dimension=_t(ctx, f"dimension.{row['dimension']}"),
                group=_value_label(ctx, row["dimension"], row["group"]),
                score=_fmt_score(row[value], metric),
                size=_fmt_points(ctx, abs(row[diff]), metric, signed=False),
            )
        )
    return _t(ctx, "groups.significant", metric=name, items=_t(ctx, "separator").join(items))


def attributes_section(ctx: ReportContext, survey: SurveyView) -> pd.DataFrame | None:
    """Diverging stacked bars of the attribute ratings; Cronbach's alpha with a flag."""
    if survey.empty:
        return None
    ctx.heading(f"{P}.attributes.title")
    frame = survey.current
    if not survey.ratings or frame.empty:
        ctx.note(f"{P}.attributes.none", "info", period=str(ctx.period))
        return None
    dist = satisfaction.rating_distribution(frame, list(survey.ratings), scale=survey.rating_scale)
    dist = dist.loc[dist["n"] > 0]
    if dist.empty:
        ctx.note(f"{P}.attributes.none", "info", period=str(ctx.period))
        return None
    low, high = survey.rating_scale
    levels = list(range(low, high + 1))
    top2 = dist[levels[-2:]].sum(axis=1)
    dist = dist.assign(top2=top2).sort_values("top2")
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(dist) + 1.4))
    _plot_diverging(ctx, ax, dist, levels)
    plots.show_figure(fig)
    best, worst = dist.index[-1], dist.index[0]
    bottom2 = dist[levels[:2]].sum(axis=1)
    ctx.takeaway(
        f"{P}.attributes.takeaway",
        worst=attribute_name(worst, ctx.language),
        worst_mean=dist.loc[worst, "mean"],
        worst_low=bottom2[worst],
        best=attribute_name(best, ctx.language),
        best_mean=dist.loc[best, "mean"],
        best_high=dist.loc[best, "top2"],
    )
    if len(survey.ratings) >= 2:
        try:
            rel = satisfaction.cronbach_alpha(
                frame, list(survey.ratings), scale=survey.rating_scale
            )
        except AnalysisError:
            ctx.note(f"{P}.attributes.alpha_failed", "info")
        else:
            ctx.show(
                ui.note(
                    satisfaction.reliability_takeaway(rel, ctx.language),
                    "ok" if rel.reliable else "warning",
                )
            )
    return dist


def _plot_diverging(
    ctx: ReportContext, ax: plt.Axes, dist: pd.DataFrame, levels: list[int]
) -> None:
    """Shares left of zero for the lower half of the scale, right for the upper half;
    the middle level (odd scales) straddles zero."""
    k = len(levels)
    colours = list(sns.color_palette("RdBu", k))
    if k % 2:
        colours[k // 2] = (0.82, 0.82, 0.82)  # a visible neutral middle
    mid = (k - 1) / 2
    y = np.arange(len(dist))
    shares = dist[levels].fillna(0.0).to_numpy(dtype=float)
    lower = shares[:, : int(np.floor(mid))].sum(axis=1)
    centre = shares[:, int(mid)] / 2 if k % 2 else np.zeros(len(dist))
    left = -(lower + centre)
    for j, level in enumerate(levels):
        width = shares[:, j]
        ax.barh(
            y, width, left=left, color=colours[j], edgecolor="white", height=0.7, label=str(level)
        )
        for yi, (l0, w) in enumerate(zip(left, width, strict=True)):
            if w >= 0.06:
                dark = j in (0, k - 1)
                ax.text(
                    l0 + w / 2,
                    yi,
                    f"{w:.0%}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "#222222",
                )
        left = left + width
    ax.axvline(0, color="#444444", lw=0.8)
    ax.set_yticks(y, [attribute_name(r, ctx.language) for r in dist.index])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):.0%}"))
    bound = max(0.5, float(np.nanmax(np.abs(np.concatenate([-(lower + centre), left])))) + 0.05)
    ax.set_xlim(-bound, bound)
    ax.set_title(_t(ctx, "attributes.chart", period=str(ctx.period)))
    ax.legend(
        title=_t(ctx, "attributes.legend", low=levels[0], high=levels[-1]),
        ncol=k,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12 if len(dist) > 3 else -0.25),
        frameon=False,
        fontsize=9,
        title_fontsize=9,
    )
    ax.grid(axis="y", visible=False)


def driver_window(ctx: ReportContext) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Dates of the key-driver sample: the 12 months (or the year) ending with the period.

    Importance is structural and needs many answers, so it is estimated on a year of
    responses; performance (mean ratings) is taken from the report period itself.
    """
    kind = ctx.period.kind
    if kind in ("quarter", "month"):
        first = ctx.period.shift(-3 if kind == "quarter" else -11)
        return first.start_ts, ctx.period.end_exclusive
    return ctx.period.start_ts, ctx.period.end_exclusive


def drivers_section(
    ctx: ReportContext, survey: SurveyView, n_boot: int = 200
) -> dict[str, object] | None:
    """Key drivers (relative weights with bootstrap intervals), the importance-performance
    matrix and the recommended improvement list."""
    if survey.empty:
        return None
    ctx.heading(f"{P}.drivers.title")
    outcome = survey.outcome
    if outcome is None or len(survey.ratings) < 2:
        ctx.note(f"{P}.drivers.none", "info")
        return None
    start, end = driver_window(ctx)
    sample = survey.responses.loc[
        (survey.responses["response_date"] >= start) & (survey.responses["response_date"] < end)
    ]
    try:
        drivers = satisfaction.key_drivers(
            sample, outcome, list(survey.ratings), n_boot=n_boot, scale=survey.scales
        )
    except AnalysisError:
        ctx.note(f"{P}.drivers.failed", "warning", n=len(sample))
        return None
    outcome_name = _t(ctx, "kpi.nps") if outcome == "nps" else _t(ctx, "kpi.csat")
    ctx.text(
        f"{P}.drivers.intro",
        outcome=outcome_name,
        start=start.date(),
        end=(end - pd.Timedelta(days=1)).date(),
        n=ctx.number(drivers.attrs["n"]),
        r2=drivers.attrs["r2"],
    )
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1, 1.15]})
    _plot_drivers(ctx, axes[0], drivers)
    perf_frame = survey.current
    if survey.current[list(survey.ratings)].notna().sum().min() < MIN_BASE:
        perf_frame = sample  # too few answers this period for stable means
    ipa = satisfaction.importance_performance(
        perf_frame, list(survey.ratings), drivers, scale=survey.rating_scale, language=ctx.language
    )
    _plot_ipa(ctx, axes[1], ipa)
    plots.show_figure(fig)
    top = drivers.head(3)
    ctx.takeaway(
        f"{P}.drivers.takeaway",
        outcome=outcome_name,
        top=_t(ctx, "separator_list").join(
            _t(ctx, "drivers.item", name=attribute_name(a, ctx.language), share=s)
            for a, s in top["share"].items()
        ),
    )
    if perf_frame is sample:
        ctx.show(ui.paragraph(_t(ctx, "drivers.performance_window"), "sr-small"))
    if ipa.fix_first_list:
        ctx.takeaway(
            f"{P}.ipa.takeaway",
            items=_t(ctx, "separator_list").join(
                attribute_name(a, ctx.language) for a in ipa.fix_first_list
            ),
        )
    else:
        ctx.takeaway(f"{P}.ipa.none")
    ctx.show(ui.heading(_t(ctx, "improve.title"), level=3))
    plan = improvement_plan(ipa, ctx.language)
    if plan.empty:
        ctx.note(f"{P}.improve.none", "ok")
    else:
        shown = pd.DataFrame(
            {
                _t(ctx, "col.priority"): plan["priority"],
                _t(ctx, "col.attribute"): plan["attribute_name"],
                _t(ctx, "col.importance"): [f"{v:.0f}%" for v in plan["importance"]],
                _t(ctx, "col.performance"): [
                    f"{p:.2f} / {ipa.performance_split:.2f}" for p in plan["performance"]
                ],
                _t(ctx, "col.action"): plan["action"],
            }
        )
        ctx.show(ui.table(shown))
    return {"drivers": drivers, "ipa": ipa, "plan": plan}


def improvement_plan(ipa: satisfaction.IPAResult, language: str = "en") -> pd.DataFrame:
    """The recommended improvement list: the fix-first attributes, most important first,
    each with a catalogued action (a generic one for attributes without their own).

    Returns
    -------
    DataFrame
        Columns ``priority`` (1, 2, ...), ``attribute``, ``attribute_name``,
        ``importance`` (percent), ``performance`` (mean rating) and ``action``.
    """
    names = catalog(language)
    rows = []
    for i, attr in enumerate(ipa.fix_first_list, start=1):
        label = attribute_name(attr, language)
        key = f"{P}.improve.{attr.removeprefix('rating_')}"
        action = (
            names[key] if key in names else names[f"{P}.improve.generic"].format(attribute=label)
        )
        rows.append(
            dict(
                priority=i,
                attribute=attr,
                attribute_name=label,
                importance=float(ipa.table.loc[attr, "importance"]),
                performance=float(ipa.table.loc[attr, "performance"]),
                action=action,
            )
        )
    columns = ["priority", "attribute", "attribute_name", "importance", "performance", "action"]
    return pd.DataFrame(rows, columns=columns)


def _plot_drivers(ctx: ReportContext, ax: plt.Axes, drivers: pd.DataFrame) -> None:
    order = drivers.sort_values("share")
    y = np.arange(len(order))
    share = order["share"].to_numpy(dtype=float)
    low = order["ci_low"].to_numpy(dtype=float)
    high = order["ci_high"].to_numpy(dtype=float)
    colours = [plots.PALETTE[0] if s > 0 else plots.PALETTE[6] for s in order["sign"]]
    ax.barh(y, share, color=colours, height=0.6)
    if np.isfinite(low).all():
        ax.errorbar(
            share,
            y,
            xerr=[share - low, high - share],
            fmt="none",
            ecolor="#333333",
            capsize=3,
            lw=1,
        )
    for yi, s, h in zip(y, share, np.where(np.isfinite(high), high, share), strict=True):
        ax.text(h + 1, yi, f"{s:.0f}%", va="center", fontsize=9)
    ax.set_yticks(y, [attribute_name(a, ctx.language) for a in order.index])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_xlim(0, max(np.nanmax(np.where(np.isfinite(high), high, share)) + 10, 10))
    ax.set_title(_t(ctx, "drivers.chart"))
    ax.grid(axis="y", visible=False)


def _plot_ipa(ctx: ReportContext, ax: plt.Axes, ipa: satisfaction.IPAResult) -> None:
    table = ipa.table
    x = table["performance"].to_numpy(dtype=float)
    y = table["importance"].to_numpy(dtype=float)
    xpad = max(0.15, 0.25 * (x.max() - x.min()))
    ypad = max(3.0, 0.25 * (y.max() - y.min()))
    xlim = (x.min() - xpad, x.max() + xpad)
    ylim = (max(0.0, y.min() - ypad), y.max() + ypad)
    ax.axvline(ipa.performance_split, color="#888888", lw=1, ls="--")
    ax.axhline(ipa.importance_split, color="#888888", lw=1, ls="--")
    corners = {
        "fix_first": (xlim[0], ylim[1], "left", "top"),
        "keep_up": (xlim[1], ylim[1], "right", "top"),
        "low_priority": (xlim[0], ylim[0], "left", "bottom"),
        "possible_overkill": (xlim[1], ylim[0], "right", "bottom"),
    }
    for quadrant, (cx, cy, ha, va) in corners.items():
        ax.text(
            cx,
            cy,
            ctx._(f"satisfaction.quadrant.{quadrant}"),
            ha=ha,
            va=va,
            fontsize=9,
            color="#c73e1d" if quadrant == "fix_first" else "#6c757d",
            fontweight="bold" if quadrant == "fix_first" else "normal",
        )
    colours = ["#c73e1d" if q == "fix_first" else plots.PALETTE[0] for q in table["quadrant"]]
    ax.scatter(x, y, s=70, c=colours, zorder=3)
    for xi, yi, attr in zip(x, y, table.index, strict=True):
        ax.annotate(
            attribute_name(attr, ctx.language),
            (xi, yi),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=9,
        )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(_t(ctx, "ipa.x"))
    ax.set_ylabel(_t(ctx, "ipa.y"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_title(_t(ctx, "ipa.chart"))


def comments_section(
    ctx: ReportContext, survey: SurveyView, top_n: int = 6, examples: int = 3
) -> pd.DataFrame | None:
    """Distinctive terms of detractors vs promoters (jieba for Chinese) and a few masked
    example comments, without customer ids."""
    if survey.empty:
        return None
    ctx.heading(f"{P}.comments.title")
    frame = survey.current
    if "comment" not in frame.columns or frame.empty:
        ctx.note("satisfaction.note.no_comments")
        return None
    has_text = frame["comment"].notna() & (frame["comment"].astype("string").str.strip() != "")
    categories = response_category(frame, survey).where(has_text)
    if categories.notna().sum() == 0:
        ctx.note("satisfaction.note.no_comments")
        return None
    worst, best = ("detractor", "promoter") if survey.has_nps else ("dissatisfied", "satisfied")
    themes = text.comment_themes(frame["comment"], categories, top_n=top_n, min_count=2)
    ctx.text(
        f"{P}.comments.intro",
        n=ctx.number(int(categories.notna().sum())),
        period=str(ctx.period),
        worst=_category_label(ctx, worst, prose=True),
        best=_category_label(ctx, best, prose=True),
    )
    columns = {}
    for cat in (worst, best):
        part = themes.loc[themes["group"] == cat]
        columns[_category_label(ctx, cat)] = [
            f"{term} ({count})" for term, count in zip(part["term"], part["count"], strict=True)
        ]
    depth = max([len(v) for v in columns.values()] + [0])
    if depth:
        shown = pd.DataFrame({k: v + [""] * (depth - len(v)) for k, v in columns.items()})
        ctx.show(ui.table(shown))
    picks = text.example_comments(
        frame["comment"],
        categories.where(categories.isin([worst, best])),
        n=examples,
        themes=themes,
    )
    if not picks.empty:
        picks = picks.assign(
            order=picks["group"].map({worst: 0, best: 1}),
        ).sort_values("order", kind="mergesort")
        ctx.show(
            ui.table(
                pd.DataFrame(
                    {
                        _t(ctx, "col.category"): [_category_label(ctx, g) for g in picks["group"]],
                        ctx._("satisfaction.column.comment"): picks["comment"].to_numpy(),
                    }
                ),
                caption=_t(ctx, "comments.examples"),
            )
        )

    def terms(cat: str) -> str:
        part = themes.loc[themes["group"] == cat, "term"].head(3).tolist()
        return _t(ctx, "separator_list").join(part) if part else _t(ctx, "comments.nothing")

    ctx.takeaway(
        f"{P}.comments.takeaway",
        worst=_category_label(ctx, worst, prose=True),
        best=_category_label(ctx, best, prose=True),
        worst_terms=terms(worst),
        best_terms=terms(best),
    )
    return themes


def links_section(ctx: ReportContext, survey: SurveyView) -> dict[str, object] | None:
    """Anonymous responses, NPS by segment (when segments exist) and later churn by category."""
    if survey.empty:
        return None
    ctx.heading(f"{P}.links.title")
    current = survey.current
    anonymous = int(current["customer_id"].isna().sum())
    ctx.text(
        f"{P}.links.anonymous",
        anonymous=ctx.number(anonymous),
        n=ctx.number(len(current)),
        share=ui.fmt_pct(anonymous / len(current) if len(current) else float("nan")),
        period=str(ctx.period),
    )
    result: dict[str, object] = {"anonymous": anonymous}
    segments = segment_assignments(ctx)
    if segments is not None and survey.outcome is not None and not current.empty:
        frame = current.merge(segments[["customer_id", "segment"]], on="customer_id", how="left")
        result["segments"] = table = group_table(frame, survey, ["segment"])
        if not table.empty:
            ctx.show(ui.heading(_t(ctx, "links.segments"), level=3))
            _show_groups(ctx, table, survey)
    if ctx.data_end is None or survey.outcome is None:
        return result
    churn = churn_after_response(survey.responses, ctx.data.orders, ctx.data_end)
    ctx.show(ui.heading(_t(ctx, "links.churn_title"), level=3))
    categories = response_category(churn, survey)
    summary = churn_by_category(churn, categories)
    result["churn"] = summary
    if summary.empty or summary["n"].sum() < MIN_BASE:
        ctx.note(f"{P}.links.churn_none", "info", days=CHURN_WINDOW_DAYS, min_base=MIN_BASE)
        return result
    first, last = churn["response_date"].min(), churn["response_date"].max()
    ctx.text(
        f"{P}.links.churn_intro",
        days=CHURN_WINDOW_DAYS,
        n=ctx.number(int(summary["n"].sum())),
        first=first.date(),
        last=last.date(),
        data_end=pd.Timestamp(ctx.data_end).date(),
    )
    fig, ax = plt.subplots(figsize=(7, 2.2 + 0.35 * len(summary)))
    y = np.arange(len(summary))[::-1]
    rate = summary["rate"].to_numpy(dtype=float) * 100
    ax.barh(y, rate, color=[_COLOURS[c] for c in summary.index], height=0.6)
    ax.errorbar(
        rate,
        y,
        xerr=[rate - summary["ci_low"] * 100, summary["ci_high"] * 100 - rate],
        fmt="none",
        ecolor="#333333",
        capsize=3,
        lw=1,
    )
    for yi, r, h, n in zip(y, rate, summary["ci_high"] * 100, summary["n"], strict=True):
        ax.text(h + 1, yi, f"{r:.0f}%  (n = {int(n):,})", va="center", fontsize=9)
    ax.set_yticks(y, [_category_label(ctx, c) for c in summary.index])
    ax.set_xlim(0, min(100, float((summary["ci_high"] * 100).max()) + 25))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_title(_t(ctx, "links.churn_chart", days=CHURN_WINDOW_DAYS))
    ax.grid(axis="y", visible=False)
    plots.show_figure(fig)
    worst, best = summary.attrs["worst"], summary.attrs["best"]
    if worst and best:
        p = summary.attrs["p_value"]
        key = "links.churn_takeaway_sig" if p < 0.05 else "links.churn_takeaway_not_sig"
        ctx.takeaway(
            f"{P}.{key}",
            worst=_category_label(ctx, worst, prose=True),
            best=_category_label(ctx, best, prose=True),
            worst_rate=summary.loc[worst, "rate"],
            best_rate=summary.loc[best, "rate"],
            days=CHURN_WINDOW_DAYS,
            p=_fmt_p(p, relation=True),
        )
    return result


def detractor_list(ctx: ReportContext, survey: SurveyView) -> pd.DataFrame:
    """The period's detractors with a customer id, for service follow-up (real ids).

    Without an NPS question the list holds dissatisfied respondents (the bottom two
    answers of the overall item) instead. No PII column; comments are masked.
    """
    frame = survey.current
    if frame.empty or survey.outcome is None:
        return pd.DataFrame(columns=DETRACTOR_COLUMNS)
    worst = "detractor" if survey.has_nps else "dissatisfied"
    chosen = frame.loc[
        (response_category(frame, survey) == worst) & frame["customer_id"].notna()
    ].copy()
    chosen = chosen.sort_values(
        ["nps" if survey.has_nps else survey.overall, "response_date"], kind="mergesort"
    )
    actions = follow_up_actions(
        chosen, survey.ratings, rating_scale=survey.rating_scale, language=ctx.language
    )
    out = pd.DataFrame(
        {
            "customer_id": chosen["customer_id"].astype("string"),
            "business_unit": chosen["business_unit"],
            "response_id": chosen["response_id"],
            "response_date": chosen["response_date"].dt.strftime("%Y-%m-%d"),
            "nps": chosen["nps"] if "nps" in chosen.columns else np.nan,
            "csat": chosen[survey.overall] if survey.overall else np.nan,
            "touchpoint": chosen["touchpoint"] if "touchpoint" in chosen.columns else pd.NA,
            "comment": chosen["comment"].map(text.mask_pii) if "comment" in chosen.columns else "",
        },
        index=chosen.index,
    ).join(actions)
    for col in ("nps", "csat"):
        out[col] = out[col].astype("Int64")
    return out[DETRACTOR_COLUMNS].reset_index(drop=True)


def export_section(
    ctx: ReportContext, survey: SurveyView, groups: pd.DataFrame | None
) -> dict[str, Path]:
    """Write ``satisfaction_groups.csv`` and ``detractors.csv`` (real customer ids) and say
    what they hold; the page shows counts per action, never ids next to comments."""
    groups = groups if groups is not None else pd.DataFrame(columns=GROUP_COLUMNS)
    groups = groups.assign(period=str(ctx.period), unit=ctx.unit).reindex(columns=GROUP_COLUMNS)
    floats = groups.select_dtypes("float").columns
    groups[floats] = groups[floats].round(4)
    detractors = detractor_list(ctx, survey)
    paths = {
        "groups": ctx.export(groups, "satisfaction_groups.csv"),
        "detractors": ctx.export(detractors, "detractors.csv"),
    }
    if survey.empty:
        return paths
    ctx.heading(f"{P}.exports.title")
    ctx.text(
        f"{P}.exports.intro",
        groups=ctx.number(len(groups)),
        detractors=ctx.number(len(detractors)),
        period=str(ctx.period),
    )
    if not survey.has_nps and survey.overall:
        ctx.note(f"{P}.exports.no_nps", "info")
    if not detractors.empty:
        counts = (
            pd.crosstab(detractors["follow_up_action"], detractors["priority"])
            .reindex(columns=["high", "medium"], fill_value=0)
            .assign(total=lambda d: d.sum(axis=1))
            .sort_values(["high", "total"], ascending=False, kind="mergesort")
        )
        ctx.show(
            ui.table(
                pd.DataFrame(
                    {
                        _t(ctx, "col.action"): counts.index,
                        _t(ctx, "col.high"): counts["high"].astype(int),
                        _t(ctx, "col.medium"): counts["medium"].astype(int),
                        _t(ctx, "col.customers"): counts["total"].astype(int),
                    }
                )
            )
        )
        high = int((detractors["priority"] == "high").sum())
        ctx.takeaway(f"{P}.exports.takeaway", n=ctx.number(len(detractors)), high=ctx.number(high))
    return paths

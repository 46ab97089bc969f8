"""The survey of one report: which responses, which questions, which dates.

:func:`select_survey` turns a unit's clean ``survey_responses`` into a :class:`Survey`:
the responses up to the period end with the respondents' customer attributes, those of
the period and of the previous one, and which questions were asked (NPS, an overall
satisfaction item, attribute ratings). The helpers around it answer the report's small
questions of wording and dates: a response's category (:func:`response_category`), the
periods of the trend (:func:`trend_periods`), the dates of the key-driver sample
(:func:`driver_window`) and an attribute's display name (:func:`attribute_name`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..i18n import catalog
from ..period import Period
from .scores import nps_category
from .takeaways import attribute_label

#: Groups with fewer valid answers are shown greyed, never tested or ranked.
MIN_BASE = 30
#: Customer attributes joined onto the responses for the group tables.
CUSTOMER_ATTRIBUTES = ("customer_type", "region")
#: Columns that can carry the overall satisfaction item, in order of preference.
OVERALL_ITEMS = ("csat", "rating_overall", "rating_satisfaction", "rating_overall_satisfaction")
#: Trend frequency of each period kind.
FREQ = {"quarter": "Q", "month": "M", "year": "Y"}
#: Catalog of the report's texts (attribute names, actions).
CATALOG = "report_satisfaction"


def has_score(frame: pd.DataFrame, column: str = "nps") -> bool:
    """True when the survey asked ``column`` (present with at least one answer).

    Notebooks use it to skip the NPS sections of a survey without an NPS question.
    """
    return column in frame.columns and bool(frame[column].notna().any())


@dataclass(frozen=True)
class Survey:
    """The unit's survey responses as one report sees them.

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
        Column of the overall satisfaction item (the headline CSAT): ``csat`` or an
        overall rating (:data:`OVERALL_ITEMS`), else ``survey.outcome``; None when there
        is none.
    overall_scale, rating_scale : tuple of int
        Declared scales of the overall item and the default of the attribute ratings.
    ratings : tuple of str
        Attribute rating columns (``rating_*``) with at least one answer.
    freq : str
        Trend frequency matching the period kind (``Q``, ``M`` or ``Y``).
    no_file : bool
        The run has no survey file at all.
    column_scales : dict of str to (int, int)
        Declared scale per column (``survey.scales``); a rating without one takes
        ``rating_scale``.
    outcome_column : str or None
        ``survey.outcome`` when it is set and answered: the column key drivers explain.
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
    column_scales: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    outcome_column: str | None = None

    @property
    def empty(self) -> bool:
        """No response of this unit up to the period end."""
        return self.responses.empty

    @property
    def outcome(self) -> str | None:
        """The column key drivers explain: ``survey.outcome``, else ``nps``, else the
        overall item."""
        if self.outcome_column is not None:
            return self.outcome_column
        return "nps" if self.has_nps else self.overall

    def scale_of(self, column: str) -> tuple[int, int]:
        """Declared scale of a score column of this survey."""
        if column == "nps":
            return (0, 10)
        if column == self.overall:
            return self.overall_scale
        if column == "csat":
            return tuple(self.column_scales.get(column, (1, 5)))
        return tuple(self.column_scales.get(column, self.rating_scale))

    @property
    def scales(self) -> dict[str, tuple[int, int]]:
        """Declared scale of every score column, for the satisfaction functions."""
        out = {c: self.scale_of(c) for c in self.ratings}
        if self.overall:
            out[self.overall] = self.overall_scale
        if self.outcome is not None:
            out[self.outcome] = self.scale_of(self.outcome)
        return out

    @property
    def categories(self) -> tuple[str, str]:
        """The worst and the best response category (see :func:`response_category`)."""
        return ("detractor", "promoter") if self.has_nps else ("dissatisfied", "satisfied")


def with_customer_attributes(
    responses: pd.DataFrame, customers: pd.DataFrame, orders: pd.DataFrame, end: pd.Timestamp
) -> pd.DataFrame:
    """Responses with the respondent's attributes; a new frame, the inputs are unchanged.

    Adds ``customer_type`` and ``region`` from ``customers`` (when the survey does not
    carry them) and ``main_channel``: the channel of most of the customer's purchases
    before ``end`` (ties broken by name), when the orders have a ``channel`` column and
    the survey has none. Anonymous respondents get missing values.

    Parameters
    ----------
    responses, customers, orders
        Clean survey responses, customers and orders of the unit.
    end
        Purchases strictly before this day decide the main channel.

    Returns
    -------
    DataFrame
        ``responses`` with ``customer_id`` (added empty when missing), the customer
        attributes and ``main_channel``.
    """
    out = responses.copy()
    if "customer_id" not in out.columns:
        out["customer_id"] = pd.Series(pd.NA, index=out.index, dtype="string")
    customers = customers if customers is not None else pd.DataFrame(columns=["customer_id"])
    orders = orders if orders is not None else pd.DataFrame()
    columns = [c for c in CUSTOMER_ATTRIBUTES if c in customers.columns and c not in out.columns]
    if columns and "customer_id" in customers.columns:
        attrs = customers.drop_duplicates("customer_id").set_index("customer_id")[columns]
        out = out.join(attrs, on="customer_id")
    if "channel" not in out.columns and {"channel", "amount", "order_date"} <= set(orders.columns):
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


def _no_responses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "response_id": pd.Series(dtype="string"),
            "response_date": pd.Series(dtype="datetime64[ns]"),
            "business_unit": pd.Series(dtype="string"),
            "customer_id": pd.Series(dtype="string"),
        }
    )


def select_survey(
    responses: pd.DataFrame | None,
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    period: Period,
    *,
    rating_scale: tuple[int, int] = (1, 5),
    scales: Mapping[str, tuple[int, int]] | None = None,
    outcome: str | None = None,
) -> Survey:
    """The :class:`Survey` of a unit for a report period.

    Parameters
    ----------
    responses
        The unit's clean ``survey_responses``; None when the run has no survey file.
    customers, orders
        The unit's clean customers and orders (customer attributes, main channel).
    period
        The report period: responses after its end are left out.
    rating_scale
        Default scale of the attribute ratings (``survey.scales["rating_*"]``, else
        ``quality.rating_scale``).
    scales
        Declared scale per column (:func:`analysis.satisfaction.declared_scales`);
        ``csat`` without one is 1-5, a rating without one ``rating_scale``.
    outcome
        ``survey.outcome``: the column key drivers explain (never a driver itself), and
        the overall satisfaction item when the survey has none of :data:`OVERALL_ITEMS`.
        None: ``nps`` when asked, else the overall item.

    Returns
    -------
    Survey
        Empty (``survey.empty``) when the unit has no response up to the period end.
    """
    no_file = responses is None
    raw = _no_responses() if responses is None else responses
    end = period.end_exclusive
    kept = raw.loc[raw["response_date"] < end].reset_index(drop=True)
    kept = with_customer_attributes(kept, customers, orders, end)
    rating_scale = (int(rating_scale[0]), int(rating_scale[1]))
    declared = {str(c): (int(v[0]), int(v[1])) for c, v in (scales or {}).items()}
    chosen = outcome if outcome is not None and has_score(kept, outcome) else None
    overall = next((c for c in OVERALL_ITEMS if has_score(kept, c)), None)
    if overall is None and chosen != "nps":
        overall = chosen  # the outcome is the only satisfaction item
    ratings = tuple(
        c
        for c in kept.columns
        if str(c).startswith("rating_") and c not in (overall, chosen) and has_score(kept, c)
    )
    default_overall = (1, 5) if overall == "csat" else rating_scale
    return Survey(
        responses=kept,
        current=kept.loc[period.contains(kept["response_date"])],
        previous=kept.loc[period.previous().contains(kept["response_date"])],
        has_nps=has_score(kept, "nps"),
        overall=overall,
        overall_scale=declared.get(overall, default_overall) if overall else default_overall,
        ratings=ratings,
        rating_scale=rating_scale,
        freq=FREQ.get(period.kind, "Q"),
        no_file=no_file,
        column_scales=declared,
        outcome_column=chosen,
    )


def response_category(frame: pd.DataFrame, survey: Survey) -> pd.Series:
    """Promoter / passive / detractor, or satisfied / neutral / dissatisfied without NPS.

    Without an NPS question the overall item is split into its top-2 box (satisfied),
    bottom-2 box (dissatisfied) and the rest (neutral). Missing and out-of-scale answers
    get no category (NaN).
    """
    if survey.has_nps:
        return nps_category(frame["nps"]).astype("object")
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


def trend_periods(period: Period, count: int) -> list[str] | int:
    """Labels of the ``count`` periods ending with ``period`` (just ``count`` for a range).

    Examples
    --------
    >>> trend_periods(Period.parse("2025-Q4"), 3)
    ['2025-Q2', '2025-Q3', '2025-Q4']
    """
    if period.kind not in FREQ:
        return count
    return [str(period.shift(-i)) for i in reversed(range(count))]


def driver_window(period: Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Dates ``[start, end)`` of the key-driver sample: the year ending with ``period``.

    Importance is structural and needs many answers, so it is estimated on a year of
    responses (the four quarters or twelve months ending with the period, or the period
    itself when it is a year or a range); performance (mean ratings) is taken from the
    report period itself.

    Examples
    --------
    >>> [str(d.date()) for d in driver_window(Period.parse("2025-Q4"))]
    ['2025-01-01', '2026-01-01']
    """
    kind = period.kind
    if kind in ("quarter", "month"):
        first = period.shift(-3 if kind == "quarter" else -11)
        return first.start_ts, period.end_exclusive
    return period.start_ts, period.end_exclusive


def attribute_name(column: str, language: str = "en") -> str:
    """Display name of a rating column: catalogued (``rating_delivery`` -> "Delivery"),
    else derived from the column name (``rating_app_speed`` -> "app speed")."""
    key = f"{CATALOG}.attribute.{str(column).removeprefix('rating_')}"
    names = catalog(language)
    return names[key] if key in names else attribute_label(column)

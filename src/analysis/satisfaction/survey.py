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

from dataclasses import dataclass

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
        Declared scale of the attribute ratings (``quality.rating_scale``); the overall
        item ``csat`` is always 1-5.

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
    overall = next((c for c in OVERALL_ITEMS if has_score(kept, c)), None)
    ratings = tuple(
        c
        for c in kept.columns
        if str(c).startswith("rating_") and c != overall and has_score(kept, c)
    )
    return Survey(
        responses=kept,
        current=kept.loc[period.contains(kept["response_date"])],
        previous=kept.loc[period.previous().contains(kept["response_date"])],
        has_nps=has_score(kept, "nps"),
        overall=overall,
        overall_scale=(1, 5) if overall == "csat" else rating_scale,
        ratings=ratings,
        rating_scale=rating_scale,
        freq=FREQ.get(period.kind, "Q"),
        no_file=no_file,
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

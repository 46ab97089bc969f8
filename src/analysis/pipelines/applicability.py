"""Whether a report applies to a unit's data, decided in one place from the data's shape.

A business exports what it has: orders only, a survey only, a subscription book, or a mix.
A report that has nothing to analyse is not a failure: the runner asks :func:`reason`
before executing a notebook and, when there is a reason, writes a short page saying it
(status ``not_applicable``) instead; a notebook run by hand asks through
:meth:`analysis.report.context.ReportContext.not_applicable`. Both read the same reason.

What each report needs (everything "up to the period end" means strictly before the day
after it, as the pipelines cut their data):

- ``overview``: orders.
- ``value``, ``segmentation``: purchases (orders) up to the period end.
- ``churn``: purchases up to the period end, and either contractual churn columns
  (``churned`` and ``churn_date`` on the customers table, with a dated churner known by
  then) or at least ``churn.min_customers`` customers who bought within
  ``churn.lookback_days`` before the period end (the population a non-contractual churn
  model is fitted on).
- ``satisfaction``: survey responses up to the period end with at least one score
  (``nps``, ``csat``, a ``rating_*`` column or a column with a declared scale).
- ``needs``: purchases up to the period end, or survey responses up to then that name a
  customer (survey-only data gets needs from the survey alone).
- ``summary`` always applies: it says what the unit's data lacks.

A report not listed (a new notebook) applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..data.load import Dataset
from ..i18n import t
from ..period import Period

#: What each report needs, checked in this order; the first missing need is the reason.
NEEDS: dict[str, tuple[str, ...]] = {
    "overview": ("orders",),
    "value": ("orders", "purchases"),
    "segmentation": ("orders", "purchases"),
    "churn": ("orders", "purchases", "churn_base"),
    "satisfaction": ("survey_file", "responses", "scores"),
    "needs": ("need_signals",),
    "summary": (),
}

#: The score columns a survey can carry besides ``rating_*`` and declared scales.
SCORE_COLUMNS = ("nps", "csat")


@dataclass(frozen=True)
class Reason:
    """Why a report does not apply: a message key (``report.not_applicable.<code>``) and the
    values its text needs. Counts stay numbers, formatted in the reader's language."""

    code: str
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"report.not_applicable.{self.code}"

    def text(self, language: str = "en") -> str:
        """The reason as a sentence in ``language``; a count ``n`` of 0 or 1 reads with its
        own wording (``<key>.zero``, ``<key>.one``) when the catalog has one."""
        from ..display import fmt_number  # noqa: PLC0415
        from ..i18n import catalog  # noqa: PLC0415

        values = {
            k: fmt_number(v, language=language) if isinstance(v, int) else v
            for k, v in self.values.items()
        }
        key = self.key
        form = {0: "zero", 1: "one"}.get(self.values.get("n"))
        if form and f"{key}.{form}" in catalog(language):
            key = f"{key}.{form}"
        return t(key, language, **values)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "values": dict(self.values)}

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any]) -> Reason:
        return cls(str(entry["code"]), dict(entry.get("values") or {}))


def _end(params: Mapping[str, Any]) -> pd.Timestamp | None:
    """The first instant after the report period (None: no period, all data counts)."""
    period = params.get("period")
    if period in (None, ""):
        return None
    return pd.Timestamp(Period.parse(str(period)).end_exclusive)


def _before(frame: pd.DataFrame, column: str, end: pd.Timestamp | None) -> pd.DataFrame:
    if end is None or column not in frame.columns:
        return frame
    return frame.loc[pd.to_datetime(frame[column]) < end]


def _day(end: pd.Timestamp | None) -> str:
    return "" if end is None else (end - pd.Timedelta(days=1)).date().isoformat()


def _score_columns(surveys: pd.DataFrame, params: Mapping[str, Any]) -> list[str]:
    declared = ((params.get("survey") or {}).get("scales") or {}).keys()
    return [
        c
        for c in surveys.columns
        if c in SCORE_COLUMNS or str(c).startswith("rating_") or c in declared
    ]


def _has_contractual_churn(data: Dataset, end: pd.Timestamp | None) -> bool:
    """The customers table carries ``churned`` and ``churn_date`` with a churner dated
    before ``end`` (a churn dated later is not known at the period end)."""
    from ..coerce import as_bool  # noqa: PLC0415

    customers = data.customers
    if customers is None or not {"churned", "churn_date"} <= set(customers.columns):
        return False
    dates = pd.to_datetime(customers["churn_date"], errors="coerce")
    known = dates.notna() if end is None else dates < end
    return bool((as_bool(customers["churned"]) & known).any())


def _missing(need: str, data: Dataset, params: Mapping[str, Any]) -> Reason | None:
    end = _end(params)
    orders = data.orders
    if need == "orders":
        if orders is None or orders.empty:
            return Reason("no_orders")
    elif need == "purchases":
        if _before(orders, "order_date", end).empty:
            first = pd.to_datetime(orders["order_date"]).min()
            return Reason("no_purchases", {"end": _day(end), "first": str(first.date())})
    elif need == "churn_base":
        opts = params.get("churn") or {}
        definition = str(opts.get("definition", "noncontractual"))
        contractual = _has_contractual_churn(data, end)
        if definition == "contractual" and not contractual:
            return Reason("no_contract_churn", {"end": _day(end)})
        if contractual and definition != "noncontractual":
            return None
        minimum = int(opts.get("min_customers", 50))
        days = int(opts.get("lookback_days", 365))
        recent = _before(orders, "order_date", end)
        if end is not None:
            recent = recent.loc[
                pd.to_datetime(recent["order_date"]) >= end - pd.Timedelta(days=days)
            ]
        n = int(recent["customer_id"].nunique())
        if n < minimum:
            return Reason(
                "few_customers", {"n": n, "minimum": minimum, "days": days, "end": _day(end)}
            )
    elif need == "survey_file":
        if data.survey_responses is None:
            return Reason("no_survey_file")
    elif need == "responses":
        if _before(data.survey_responses, "response_date", end).empty:
            return Reason("no_responses", {"end": _day(end)})
    elif need == "scores":
        surveys = _before(data.survey_responses, "response_date", end)
        columns = _score_columns(surveys, params)
        if not columns or surveys[columns].notna().to_numpy().sum() == 0:
            return Reason("no_scores")
    elif need == "need_signals":
        bought = orders is not None and not _before(orders, "order_date", end).empty
        surveys = data.survey_responses
        linked = surveys is not None and bool(
            _before(surveys, "response_date", end)["customer_id"].notna().any()
        )
        if not bought and not linked:
            return Reason("no_need_signals", {"end": _day(end)})
    else:  # a typo in NEEDS must not pass silently as "applies"
        raise ValueError(f"unknown need {need!r}")
    return None


def reason(report: str, data: Dataset, params: Mapping[str, Any]) -> Reason | None:
    """Why ``report`` does not apply to ``data`` (one unit's clean tables), or None.

    Parameters
    ----------
    report
        A report name (``value``, ``churn``, ...); one not in :data:`NEEDS` applies.
    data
        The unit's clean :class:`~analysis.data.load.Dataset`; ``orders`` or
        ``survey_responses`` may be None or empty.
    params
        Merged parameters: ``period`` (data after its end is not counted; None: all data),
        ``churn`` (``definition``, ``min_customers``, ``lookback_days``), ``survey.scales``.

    Returns
    -------
    Reason or None
        The first missing need of the report (see the module docstring), None when it
        applies.

    Raises
    ------
    ParamsError
        The report applies but a parameter names data that is not there (an explicit
        ``churn.attributes`` list with a column the customers table lacks).

    Examples
    --------
    >>> empty = Dataset(customers=pd.DataFrame({"customer_id": []}), orders=None)
    >>> reason("value", empty, {}).code, reason("summary", empty, {})
    ('no_orders', None)
    """
    for need in NEEDS.get(report, ()):
        found = _missing(need, data, params)
        if found is not None:
            return found
    _check_params(report, data, params)
    return None


def _check_params(report: str, data: Dataset, params: Mapping[str, Any]) -> None:
    """Parameters of a report that applies, checked against the data before it runs (so
    ``segreport validate`` and ``run`` stop with exit code 2 instead of a failed report)."""
    if report == "churn":
        from ..churn.design import check_attributes  # noqa: PLC0415

        requested = (params.get("churn") or {}).get("attributes", "auto")
        if requested != "auto":
            check_attributes(requested, data.customers)


def has_data_in(data: Dataset, period: Period) -> bool:
    """Whether the unit has an order or a survey response dated in ``period``: a unit
    without either has nothing to report for it (the runner lists it as skipped)."""
    for frame, column in (
        (data.orders, "order_date"),
        (data.survey_responses, "response_date"),
    ):
        present = frame is not None and len(frame) and column in frame.columns
        if present and period.contains(pd.to_datetime(frame[column])).any():
            return True
    return False

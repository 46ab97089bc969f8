"""The business figures of one (period, unit), defined once.

Every report that quotes active, new or churned customers, retention, net revenue, value at
risk, high-risk customers, NPS or CSAT takes the number from here, formatted by
:meth:`UnitFigures.text`, so the summary and the detail reports cannot disagree. The
figures are written to ``<period>/<unit>/figures.json`` with their labels and definitions in
both languages.

Definitions (the unit's own churn rule: contractual when the customers table carries churn
dates and ``churn.definition`` allows it, otherwise the purchase-gap window):

* **active customers**: customers with a purchase (an order with a positive amount) in the
  period;
* **new customers**: active customers whose first purchase ever falls in the period;
* **reactivated customers**: active customers without a purchase in the previous period who
  had bought before it;
* **churned customers** (churned this period): of the customers active when the period
  started, those who churned by its end (no purchase in the last ``window`` days of the
  period, or a contractual churn date in it);
* **churn rate** = churned / customers active at the start; **retention rate** = 1 - churn
  rate, on the same base;
* **net revenue**: the sum of all order amounts dated in the period (refunds subtract);
* **high-risk customers**: customers the churn risk model scores at or above
  ``churn.high_risk``; **value at risk**: the sum over them of churn probability x customer
  value (predicted 12-month CLV, or historical value);
* **NPS** (-100..100) and **CSAT** (top-box share) of the survey answers dated in the period.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import display as ui
from .data.load import Dataset
from .i18n import catalog, t
from .period import Period

__all__ = [
    "FIGURE_IDS",
    "FIGURE_KIND",
    "ChurnRule",
    "UnitFigures",
    "churn_rule",
    "format_figure",
    "known_customers",
    "period_figures",
    "risk_figures",
    "unit_figures",
]

#: The figures of ``figures.json``, in display order.
FIGURE_IDS = (
    "active_customers",
    "new_customers",
    "reactivated_customers",
    "churned_customers",
    "churn_rate",
    "retention_rate",
    "net_revenue",
    "value_at_risk",
    "high_risk_customers",
    "nps",
    "csat",
)
#: How each figure is shown: ``count``, ``money``, ``rate`` (a share 0-1) or ``points``.
FIGURE_KIND = {
    "active_customers": "count",
    "new_customers": "count",
    "reactivated_customers": "count",
    "churned_customers": "count",
    "churn_rate": "rate",
    "retention_rate": "rate",
    "net_revenue": "money",
    "value_at_risk": "money",
    "high_risk_customers": "count",
    "nps": "points",
    "csat": "rate",
}


@dataclass(frozen=True)
class ChurnRule:
    """How the unit defines churn as of a date: ``definition`` (``contractual`` or
    ``noncontractual``) and the ``window`` (:class:`analysis.churn.ChurnWindow`)."""

    definition: str
    window: Any

    @property
    def window_days(self) -> int:
        return int(self.window.days)


def churn_rule(data: Dataset, as_of: pd.Timestamp, params: Mapping[str, Any]) -> ChurnRule:
    """The unit's churn definition and window as known at ``as_of`` (exclusive).

    ``churn.definition: auto`` (the default) is ``contractual`` when the customers table
    carries dated churners and the orders are regular bills (or there are no orders): a
    subscription ends on a date, and its bills stop because of it. A purchase log keeps the
    ``noncontractual`` window even when its customers table records some churn dates, since
    its customers can also stop silently. An explicit ``contractual`` or ``noncontractual``
    is used as given. The churn report, the value snapshot, the satisfaction report's
    churn-after-answer link and these figures all use this rule. Within a run it is
    worked out once per unit and date (:func:`analysis.pipelines.shared.remember`).
    """
    from .pipelines.shared import remember  # noqa: PLC0415

    end = pd.Timestamp(as_of)
    return remember("churn_rule", data, params, (end,), lambda: _churn_rule(data, end, params))


def _churn_rule(data: Dataset, end: pd.Timestamp, params: Mapping[str, Any]) -> ChurnRule:
    from . import churn  # noqa: PLC0415  (churn imports heavy model code)

    opts = params.get("churn") or {}
    # the unit's whole frame: the window and the billing cycle read only the purchases
    # before ``end``, and on this frame they reuse its counted gaps (analysis.lifecycle)
    orders = data.orders
    window = churn.churn_window(
        orders,
        end,
        quantile=float(opts.get("window_quantile", 0.9)),
        min_days=int(opts.get("window_min_days", 30)),
        max_days=int(opts.get("window_max_days", 365)),
        window_days=opts.get("window_days"),
    )
    requested = str(opts.get("definition", "auto"))
    customers = known_customers(data, end)
    definition = churn.resolve_definition(requested, customers)
    if requested == "auto" and definition == "contractual" and not _bills(orders, end, params):
        definition = "noncontractual"
    return ChurnRule(definition, window)


def wording_scheme(definition: str, requested: object = "auto") -> str:
    """How the unit's reports speak of its purchases: ``subscription`` (bills, renewals)
    when churn is ``contractual`` by the ``requested`` ``churn.definition: auto``, which
    :func:`churn_rule` chooses only for regular bills (or a unit without orders); else
    ``transactional``."""
    auto = str(requested) == "auto"
    return "subscription" if definition == "contractual" and auto else "transactional"


def _bills(orders: pd.DataFrame, end: pd.Timestamp, params: Mapping[str, Any]) -> bool:
    """Whether ``orders`` are regular bills (:func:`analysis.lifecycle.billing_cycle` with
    ``value.billing``), or absent."""
    from .lifecycle import billing_cycle  # noqa: PLC0415

    if not (orders["order_date"] < end).any():  # no order before the snapshot
        return True
    billing = dict((params.get("value") or {}).get("billing") or {})
    found = billing_cycle(
        orders,
        end - pd.Timedelta(days=1),
        scheme=str(billing.get("scheme", "auto")),
        regular_share=float(billing.get("regular_share", 0.8)),
        min_gaps=int(billing.get("min_gaps", 30)),
    )
    return found.scheme == "subscription"


def known_customers(data: Dataset, end: pd.Timestamp) -> pd.DataFrame:
    """The customers table as known at ``end``: a churn dated later is not known yet."""
    from .coerce import as_bool  # noqa: PLC0415

    customers = data.customers.copy()
    if "churn_date" in customers.columns:
        later = pd.to_datetime(customers["churn_date"]) >= end
        customers.loc[later, "churn_date"] = pd.NaT
        if "churned" in customers.columns:
            customers["churned"] = as_bool(customers["churned"]) & ~later
        if "churn_reason" in customers.columns:
            customers["churn_reason"] = customers["churn_reason"].where(~later)
    customers["customer_id"] = customers["customer_id"].astype("string")
    return customers


def period_figures(
    data: Dataset, period: Period, params: Mapping[str, Any], rule: ChurnRule
) -> dict[str, float]:
    """Every figure of :data:`FIGURE_IDS` but the risk ones, for one period."""
    from . import churn, strategy  # noqa: PLC0415

    scale = _csat_scale(params)
    base = strategy.period_values(
        data.orders, period, data.survey_responses, None, csat_scale=scale
    )
    end = period.end_exclusive
    # all the orders, not those before ``end``: period_churn reads no row dated on or after
    # ``end`` anyway, and on the unit's own frame its purchase days are one shared pass
    # (a filtered copy per period made a pass over the orders each: 29 s at 1M customers)
    lost = churn.period_churn(
        data.orders,
        period.start_ts,
        end,
        rule.window_days,
        definition=rule.definition,
        customers=known_customers(data, end),
    )
    rate = float(lost.rate) if lost.base else np.nan
    if data.orders.empty:  # no order data at all (survey-only): unknown, not zero
        for key in ("active", "new", "reactivated", "revenue"):
            base[key] = np.nan
        if rule.definition == "noncontractual":
            lost = type(lost)(base=0, churned=0, rate=np.nan, revenue_lost=np.nan)
    return {
        "active_customers": base["active"],
        "new_customers": base["new"],
        "reactivated_customers": base["reactivated"],
        "churned_customers": float(lost.churned) if lost.base or not data.orders.empty else np.nan,
        "churn_rate": rate,
        "retention_rate": 1.0 - rate if lost.base else np.nan,
        "net_revenue": base["revenue"],
        "nps": base["nps"],
        "csat": base["csat"],
        "churn_base": float(lost.base),
        "revenue_lost": float(lost.revenue_lost),
    }


def _csat_scale(params: Mapping[str, Any]) -> tuple[int, int]:
    """The declared scale of the ``csat`` question (``survey.scales.csat``, else 1-5),
    read as the satisfaction report reads it."""
    from .satisfaction.scales import declared_scale  # noqa: PLC0415

    return declared_scale(params, "csat")


def risk_figures(warning_list: pd.DataFrame | None, high_risk: float) -> dict[str, float]:
    """``value_at_risk`` and ``high_risk_customers`` from the churn model's scored list
    (``churn_probability``, ``value_at_risk`` per customer); NaN without a model."""
    if warning_list is None or not len(warning_list):
        return {"value_at_risk": np.nan, "high_risk_customers": np.nan}
    high = warning_list.loc[warning_list["churn_probability"] >= high_risk]
    return {
        "value_at_risk": float(high["value_at_risk"].sum()),
        "high_risk_customers": float(len(high)),
    }


@dataclass(frozen=True)
class UnitFigures:
    """The figures of one (period, unit): ``current``, ``previous`` and ``year_ago`` map
    each id of :data:`FIGURE_IDS` to a number (NaN when there is no base)."""

    period: str
    unit: str
    churn_definition: str
    churn_window_days: int
    high_risk: float
    currency: str
    current: Mapping[str, float]
    previous: Mapping[str, float]
    year_ago: Mapping[str, float]
    extra: Mapping[str, Any] = field(default_factory=dict)
    scheme: str = "transactional"  # wording_scheme: "subscription" reads in bills

    def value(self, figure: str) -> float:
        return float(self.current[figure])

    def label(self, figure: str, language: str = "en") -> str:
        return t(f"figures.{figure}.label", language)

    def definition(self, figure: str, language: str = "en") -> str:
        key = f"figures.{figure}.definition_{self._variant(figure)}"
        if self.scheme == "subscription" and f"{key}_subscription" in catalog(language):
            key = f"{key}_subscription"
        return t(
            key,
            language,
            days=self.churn_window_days,
            high_risk=ui.fmt_pct(self.high_risk, decimals=0),
        )

    def _variant(self, figure: str) -> str:
        if figure in ("churned_customers", "churn_rate", "retention_rate"):
            return self.churn_definition
        return "any"

    def text(self, figure: str, language: str = "en", *, which: str = "current") -> str:
        """The figure as every report prints it."""
        return format_figure(
            getattr(self, which)[figure], FIGURE_KIND[figure], language, self.currency
        )

    def to_json(self) -> dict[str, Any]:
        """``{id: {"value", "previous", "year_ago", "kind", "label_en", "label_zh",
        "definition" (English), "definition_en", "definition_zh", "text_en", "text_zh"}}``
        plus ``_meta``; NaN is written as null. ``text_*`` is the figure as reports print it."""
        out: dict[str, Any] = {}
        for figure in FIGURE_IDS:
            out[figure] = {
                "value": _json_number(self.current[figure]),
                "previous": _json_number(self.previous.get(figure, np.nan)),
                "year_ago": _json_number(self.year_ago.get(figure, np.nan)),
                "kind": FIGURE_KIND[figure],
                "label_en": self.label(figure, "en"),
                "label_zh": self.label(figure, "zh"),
                "definition": self.definition(figure, "en"),
                "definition_en": self.definition(figure, "en"),
                "definition_zh": self.definition(figure, "zh"),
                "text_en": self.text(figure, "en"),
                "text_zh": self.text(figure, "zh"),
            }
        out["_meta"] = {
            "period": self.period,
            "unit": self.unit,
            "churn_definition": self.churn_definition,
            "churn_window_days": self.churn_window_days,
            "high_risk": self.high_risk,
        }
        return out

    def write(self, path: Path) -> Path:
        """Write :meth:`to_json` atomically to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps(self.to_json(), ensure_ascii=False, indent=1, allow_nan=False),
            encoding="utf-8",
        )
        os.replace(tmp, path)
        return path


def _json_number(value: object) -> float | int | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def format_figure(value: object, kind: str, language: str, currency: str) -> str:
    """One format per kind: counts with separators, money, rates as %, NPS as points."""
    if value is None or not math.isfinite(float(value)):
        return "–"
    number = float(value)
    if kind == "count":
        return ui.fmt_number(number, language=language)
    if kind == "money":
        return ui.fmt_money(number, currency, language=language)
    if kind == "rate":
        return ui.fmt_pct(number)
    return f"{number:.1f}"


def _first_day(data: Dataset) -> pd.Timestamp:
    """The first dated row of the unit (orders, else survey answers): comparison periods
    before it have no figures."""
    days = [data.orders["order_date"].min() if len(data.orders) else pd.NaT]
    surveys = data.survey_responses
    if surveys is not None and len(surveys):
        days.append(surveys["response_date"].min())
    days = [d for d in days if pd.notna(d)]
    return min(days) if days else pd.NaT


def unit_figures(
    data: Dataset,
    period: Period,
    params: Mapping[str, Any],
    *,
    warning_list: pd.DataFrame | None = None,
) -> UnitFigures:
    """The unit's figures of ``period``, the previous period and a year earlier.

    ``warning_list`` is the churn pipeline's scored list of the period end (value at risk
    and high-risk customers come from it); without it those two are NaN. The rest is
    worked out once per unit and period within a run
    (:func:`analysis.pipelines.shared.remember`).
    """
    from .pipelines.shared import remember  # noqa: PLC0415

    found = remember(
        "unit_figures", data, params, (period,), lambda: _unit_figures(data, period, params)
    )
    high_risk = float((params.get("churn") or {}).get("high_risk", 0.5))
    return replace(
        found,
        current={**found.current, **risk_figures(warning_list, high_risk)},
        previous=dict(found.previous),
        year_ago=dict(found.year_ago),
        extra=dict(found.extra),
    )


def _unit_figures(data: Dataset, period: Period, params: Mapping[str, Any]) -> UnitFigures:
    """:func:`unit_figures` without the risk figures (NaN)."""
    high_risk = float((params.get("churn") or {}).get("high_risk", 0.5))
    first = _first_day(data)
    # one churn rule for the three periods (the window learnt at this period's end), as the
    # churn report compares them
    rule = churn_rule(data, period.end_exclusive, params)
    values = {}
    for name, p in (
        ("current", period),
        ("previous", period.previous()),
        ("year_ago", period.year_ago()),
    ):
        if name != "current" and not (pd.notna(first) and first < p.end_exclusive):
            values[name] = dict.fromkeys(FIGURE_IDS, np.nan)
            continue
        values[name] = period_figures(data, p, params, rule)
    values["current"].update(risk_figures(None, high_risk))
    for name in ("previous", "year_ago"):
        values[name].setdefault("value_at_risk", np.nan)
        values[name].setdefault("high_risk_customers", np.nan)
    return UnitFigures(
        period=str(period),
        unit=str(params.get("unit", "all")),
        churn_definition=rule.definition,
        churn_window_days=rule.window_days,
        high_risk=high_risk,
        currency=str(params.get("currency", "$")),
        current=values["current"],
        previous=values["previous"],
        year_ago=values["year_ago"],
        scheme=wording_scheme(
            rule.definition, (params.get("churn") or {}).get("definition", "auto")
        ),
    )

"""One row per customer for a snapshot date: everything the value report shows and exports.

:func:`value_snapshot` assembles, from cleaned orders and the customers table,

* the managerial RFM of :func:`analysis.value.rfm_scores` (recency = days since the last
  purchase day, frequency = purchase days and monetary = net revenue, both over the
  ``lookback_days`` window), quintile scores and the named RFM segment;
* value tiers and ABC classes by cumulative share of that window revenue;
* historical value (net revenue of all orders up to the snapshot) and, from BG/NBD +
  Gamma-Gamma fitted on the buy-till-you-die summary of the whole history up to the
  snapshot, the discounted predicted CLV over the horizon and P(alive);
* the lifecycle stage.

**Two schemes.** A purchase log is scored the managerial RFM way. When the orders are
regular bills (:func:`analysis.lifecycle.billing_cycle`: a subscription), purchase recency
and frequency are the same for every current subscriber, so the scores read renewal
standing, tenure in bills and plan value instead (:func:`analysis.value.subscription_scores`)
and the lifecycle thresholds follow the billing cycle; ``ValueSnapshot.billing`` says which
scheme was used. **Contractual churn**: with the contractual churn definition, a customer
whose contract ended by the snapshot is in the ``churned`` stage and is not scored (a
cancelled customer is not a Champion, whatever their last bill).

The small tables the report draws (segment summary, RFM grid, tiers, customer types,
stage outflows) and the per-customer playbook action are pure functions of that frame.
Nothing here reads files, prints or plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import clv as clv_models
from . import lifecycle, value
from .errors import ModelError, ParamsError
from .lookup import isin
from .playbook import action_for

__all__ = [
    "BUYING_STAGES",
    "EXPORT_COLUMNS",
    "SEGMENT_DIRECTION",
    "ClvFit",
    "ValueSnapshot",
    "biggest_outflow",
    "contract_ended",
    "customer_actions",
    "export_frame",
    "fit_clv",
    "rfm_grid",
    "segment_map_for",
    "segment_scheme",
    "with_segment_scheme",
    "segment_summary",
    "subscription_signals",
    "tier_summary",
    "type_breakdown",
    "value_snapshot",
]

#: The first columns of ``rfm.csv``, in this order.
EXPORT_COLUMNS = [
    "customer_id",
    "recency",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_code",
    "rfm_segment",
    "value_tier",
    "abc_class",
    "clv_12m",
    "p_alive",
    "lifecycle_stage",
    "action",
]
#: Further columns of ``rfm.csv``, after :data:`EXPORT_COLUMNS`.
EXPORT_EXTRA_COLUMNS = [
    "customer_type",
    "historical_value",
    "first_purchase",
    "last_purchase",
    "action_source",
    "priority",
    "channel",
    "offer",
    "account_management",
    "subscription_action",
    "contract_ended",
    "tenure_bills",
    "plan_value",
    "plan_change",
]
#: Whether growth of an RFM segment is good news (None: neither); keys of the default
#: segment map. Colours the segment KPI cards and scores segment-shift alerts.
SEGMENT_DIRECTION = {
    "champions": True,
    "loyal": True,
    "potential_loyalists": True,
    "new": True,
    "promising": True,
    "need_attention": None,
    "about_to_sleep": False,
    "at_risk": False,
    "cant_lose_them": False,
    "hibernating": False,
    # rfm8: the recent classes growing is good news, the far ones (保持, 挽留) bad news
    "important_value": True,
    "important_retention": False,
    "important_development": True,
    "important_winback": False,
    "general_value": True,
    "general_retention": False,
    "general_development": True,
    "general_winback": False,
}
#: Stages of a customer who is still buying, and the order stages degrade in.
BUYING_STAGES = ("new", "active", "loyal", "reactivated")
_STAGE_HEALTH = {
    "prospect": None,
    "new": 2,
    "active": 2,
    "loyal": 2,
    "reactivated": 2,
    "at_risk": 1,
    "lapsed": 0,
    "churned": -1,
}
#: A bill this much above / below the one before is a plan change (``plan_change``).
PLAN_CHANGE_TOLERANCE = 0.05


# --------------------------------------------------------------------------- CLV


@dataclass(frozen=True)
class ClvFit:
    """The predictive CLV models of a snapshot, or why there are none.

    Attributes
    ----------
    bg, gg
        Fitted :class:`~analysis.clv.BetaGeoModel` and :class:`~analysis.clv.GammaGammaModel`
        (both None when ``reason`` is set).
    reason
        None when fitted; ``"too_few_repeat"`` (fewer than ``min_repeat`` customers with
        repeat purchases, or with a positive repeat spend for Gamma-Gamma) or ``"no_fit"``
        (the model did not converge or is not identified).
    model
        The model that failed: ``"bg"`` or ``"gg"``.
    detail
        The model's own (English) explanation.
    n_customers, n_repeat, min_repeat
        Customers in the summary, those with repeat purchases, and the minimum required.
    horizon_months, discount_rate_annual, time_unit
        The settings the CLV was computed with.
    """

    bg: clv_models.BetaGeoModel | None
    gg: clv_models.GammaGammaModel | None
    reason: str | None
    model: str | None
    detail: str
    n_customers: int
    n_repeat: int
    min_repeat: int
    horizon_months: int
    discount_rate_annual: float
    time_unit: str

    @property
    def ok(self) -> bool:
        return self.reason is None

    def parameters(self) -> pd.DataFrame:
        """Both models' estimates in one frame: ``model, parameter, estimate, std_error,
        lower_95, upper_95`` (empty when not fitted)."""
        columns = ["model", "parameter", "estimate", "std_error", "lower_95", "upper_95"]
        if not self.ok:
            return pd.DataFrame(columns=columns)
        parts = []
        for name, model in (("bg_nbd", self.bg), ("gamma_gamma", self.gg)):
            part = model.summary.reset_index()
            part.insert(0, "model", name)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)[columns]


def fit_clv(
    summary: pd.DataFrame,
    *,
    horizon_months: int = 12,
    discount_rate_annual: float = 0.10,
    penalizer_coef: float = 0.0,
    min_repeat_customers: int = clv_models.MIN_REPEAT_CUSTOMERS,
    time_unit: str = "D",
) -> ClvFit:
    """Fit BG/NBD and Gamma-Gamma on a :func:`analysis.value.rfm_summary`; never raises
    :class:`~analysis.errors.ModelError` but records why the models could not be fitted.

    Parameters
    ----------
    summary
        One row per customer: ``frequency, recency, T, monetary_value``.
    horizon_months, discount_rate_annual, penalizer_coef, min_repeat_customers
        The ``value.clv`` parameters.
    time_unit
        Unit of the summary (``value.time_unit``).

    Returns
    -------
    ClvFit
    """
    n_repeat = int((summary["frequency"] > 0).sum()) if len(summary) else 0
    n_spend = (
        int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())
        if len(summary)
        else 0
    )
    common = dict(
        n_customers=len(summary),
        n_repeat=n_repeat,
        min_repeat=int(min_repeat_customers),
        horizon_months=int(horizon_months),
        discount_rate_annual=float(discount_rate_annual),
        time_unit=time_unit,
    )
    options = dict(penalizer_coef=penalizer_coef, min_repeat_customers=min_repeat_customers)
    for model_name, usable in (("bg", n_repeat), ("gg", n_spend)):
        if usable < min_repeat_customers:
            return ClvFit(
                None,
                None,
                "too_few_repeat",
                model_name,
                f"{usable} usable repeat customers, {min_repeat_customers} needed",
                **common,
            )
    try:
        bg = clv_models.BetaGeoModel(**options).fit(summary)
    except ModelError as exc:
        return ClvFit(None, None, "no_fit", "bg", str(exc), **common)
    try:
        gg = clv_models.GammaGammaModel(**options).fit(summary)
    except ModelError as exc:
        return ClvFit(None, None, "no_fit", "gg", str(exc), **common)
    return ClvFit(bg, gg, None, None, "", **common)


# --------------------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class ValueSnapshot:
    """The value table of one snapshot date and what it was computed from.

    Attributes
    ----------
    as_of
        Snapshot day (orders after it are ignored).
    table
        One row per customer, index ``customer_id`` (str, sorted). Columns:
        ``customer_type``; ``scored`` (bought in the RFM window, so has scores);
        ``recency`` (days since the last purchase day, NaN for prospects), ``frequency``
        (purchase days in the window), ``monetary`` (net revenue in the window);
        ``r_score, f_score, m_score`` (Int64, NA when not scored), ``rfm_code``,
        ``rfm_segment`` (categorical of the map's segments); ``value_tier``, ``abc_class``;
        ``historical_value`` (net revenue to date); ``clv_12m``, ``p_alive``,
        ``expected_purchases`` (NaN without a CLV fit or purchase history);
        ``lifecycle_stage`` (categorical of :data:`analysis.lifecycle.STAGES`);
        ``first_purchase``, ``last_purchase``; ``contract_ended`` (contractual churn by
        the snapshot); ``tenure_bills``, ``plan_value`` and ``plan_change`` (``"up"``,
        ``"down"``, ``"same"``; subscription scheme only, else missing).
    summary
        The buy-till-you-die summary the CLV models were fitted on.
    thresholds
        Lifecycle thresholds used.
    clv
        The CLV fit, or None when not requested.
    segments
        Segment keys of the RFM map, in display order.
    churn_definition
        ``"contractual"`` (churn dates end a customer) or ``"noncontractual"``.
    segment_map
        The RFM segment map the segments come from (:func:`segment_map_for`); None under
        the ``rfm8`` scheme (its classes do not follow the r x f cells).
    segment_scheme
        ``"rfm10"`` (the r x f segment map) or ``"rfm8"`` (the eight RFM classes,
        :func:`analysis.value.rfm8_segments`).
    rfm8_splits
        Under ``rfm8``: the split each letter was compared with (``recency``,
        ``frequency``, ``monetary``) and ``split`` (``"mean"`` or ``"median"``); else None.
        Under the subscription scheme ``recency`` is on the scale ``6 - r_score`` (the
        renewal standing reversed), ``frequency`` on tenure in bills and ``monetary`` on
        the plan value.
    """

    as_of: pd.Timestamp
    table: pd.DataFrame
    summary: pd.DataFrame
    thresholds: lifecycle.LifecycleThresholds
    clv: ClvFit | None
    segments: tuple[str, ...]
    churn_definition: str = "noncontractual"
    segment_map: Mapping[str, Any] | None = None
    segment_scheme: str = "rfm10"
    rfm8_splits: Mapping[str, Any] | None = None

    @property
    def billing(self) -> lifecycle.BillingCycle | None:
        """The billing cycle the snapshot was scored with (None: not known)."""
        return self.thresholds.billing

    @property
    def scheme(self) -> str:
        """``"subscription"`` or ``"transactional"``."""
        return self.thresholds.scheme

    @property
    def scored(self) -> pd.DataFrame:
        """Customers with RFM scores (a purchase in the window)."""
        return self.table.loc[self.table["scored"]]


def value_snapshot(
    orders: pd.DataFrame,
    customers: pd.DataFrame | None,
    as_of: object,
    params: Mapping[str, Any],
    *,
    thresholds: lifecycle.LifecycleThresholds | None = None,
    predict_clv: bool = True,
    churn_definition: str = "noncontractual",
) -> ValueSnapshot:
    """Assemble the per-customer value table as of a day.

    Parameters
    ----------
    orders
        Cleaned orders (``customer_id, order_date, amount``), any history; only orders up to
        ``as_of`` are used.
    customers
        Customers table (``customer_id``; ``signup_date`` and ``customer_type`` used when
        present), or None.
    as_of
        Snapshot day.
    params
        The ``value`` section of the parameters (``lookback_days``, ``score_ties``,
        ``segment_scheme``, ``segment_map``, ``rfm8``, ``abc``, ``tiers``, ``clv``,
        ``lifecycle``, ``billing``, ``time_unit``, ``nonpositive_periods``).
        ``segment_scheme: auto`` needs the report language to resolve
        (:func:`with_segment_scheme`); here it reads as ``rfm10``.
    thresholds
        Lifecycle thresholds to use; None detects the billing scheme
        (``params["billing"]``) and learns them from the orders up to ``as_of`` (with the
        overrides in ``params["lifecycle"]``). Pass the current thresholds when computing
        an earlier snapshot, so transitions are not driven by changed thresholds (they
        carry the scheme).
    predict_clv
        Fit BG/NBD and Gamma-Gamma (None in ``clv`` otherwise).
    churn_definition
        The unit's churn definition (:func:`analysis.figures.churn_rule`): with
        ``"contractual"``, customers with a churn date on or before ``as_of`` are
        ``churned`` and not scored.

    Returns
    -------
    ValueSnapshot

    Examples
    --------
    >>> from analysis.config import load_defaults
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 20.0, 5.0],
    ...     "order_date": pd.to_datetime(["2025-01-05", "2025-03-01", "2025-02-01"])})
    >>> snap = value_snapshot(orders, None, "2025-03-31", load_defaults()["value"])
    >>> snap.table["lifecycle_stage"].astype(str).tolist()
    ['new', 'new']
    """
    as_of = pd.Timestamp(as_of).normalize()
    lookback = params.get("lookback_days")
    time_unit = params.get("time_unit", "D")

    if thresholds is None:
        detect = {k: v for k, v in (params.get("billing") or {}).items() if k != "segment_map"}
        billing = lifecycle.billing_cycle(orders, as_of, **detect)
        thresholds = lifecycle.lifecycle_thresholds(
            orders, as_of, billing=billing, **dict(params.get("lifecycle", {}))
        )
    ended = contract_ended(customers, as_of) if churn_definition == "contractual" else None
    live = orders
    if ended is not None and len(ended):
        live = orders.loc[~isin(orders["customer_id"].astype(str), ended)]
    ties = params.get("score_ties", "group")
    billing = thresholds.billing
    scheme = segment_scheme(params)
    segment_map = segment_map_for(params, billing)
    if billing is not None and billing.subscription:
        scores = value.subscription_scores(
            live,
            as_of,
            renewed_days=int(billing.high),
            at_risk_days=thresholds.at_risk_days,
            lapsed_days=thresholds.lapsed_days,
            cycle_days=billing.cycle_days,
            lookback_days=lookback,
            ties=ties,
        )
    else:
        scores = value.rfm_scores(live, as_of, lookback_days=lookback, ties=ties)
    splits = None
    if scheme == "rfm8":
        split = str((params.get("rfm8") or {}).get("split", "mean"))
        columns = value.RFM8_COLUMNS
        if billing is not None and billing.subscription:
            # Regular bills: every subscriber was billed within the cycle, so days since the
            # last bill say nothing; R is the renewal standing (r_score 5 = renewed this
            # cycle), reversed so that lower is more recent, F the tenure in bills, M the
            # plan value.
            scores = scores.assign(renewal_rank=6 - scores["r_score"])
            columns = ("renewal_rank", "tenure_bills", "plan_value")
        splits = {"split": split, **value.rfm8_splits(scores, split=split, columns=columns)}
        scores = value.rfm8_segments(scores, split=split, columns=columns, splits=splits)
        segment_map = None
        segments = tuple(value.RFM8_CLASSES)
    else:
        scores = value.rfm_segments(scores, segment_map)
        segments = tuple(segment_map)
    scores.index = scores.index.astype(str)

    stages = lifecycle.lifecycle_stages(customers, orders, as_of, thresholds, churned=ended)
    stages.index = stages.index.astype(str)
    if segment_map is not None:
        scores["rfm_segment"] = _first_timers_only(
            scores["rfm_segment"], stages["stage"], segment_map, thresholds.scheme
        )

    summary = value.rfm_summary(
        orders,
        as_of,
        time_unit=time_unit,
        nonpositive_periods=params.get("nonpositive_periods", "keep"),
    )
    summary.index = summary.index.astype(str)

    # only the three columns: a copy of every column of millions of rows costs more
    upto = orders.loc[
        orders["order_date"] < as_of + pd.Timedelta(days=1), ["customer_id", "order_date", "amount"]
    ]
    ids = upto["customer_id"].astype(str)
    historical = upto["amount"].groupby(ids).sum()
    if lookback is None:
        window_net = historical
    else:
        in_window = upto["order_date"].dt.normalize() >= as_of - pd.Timedelta(
            days=int(lookback) - 1
        )
        window_net = upto.loc[in_window, "amount"].groupby(ids[in_window]).sum()

    index = stages.index.union(summary.index).union(scores.index).sort_values()
    index.name = "customer_id"
    table = pd.DataFrame(index=index)
    table["customer_type"] = _customer_types(customers, index, stages)
    if customers is not None and "payment_method" in customers.columns:
        methods = customers.dropna(subset=["customer_id"]).drop_duplicates("customer_id")
        methods = methods.set_index(methods["customer_id"].astype(str))["payment_method"]
        table["payment_method"] = methods.reindex(index).astype("object")
    table["scored"] = isin(index, scores.index)
    table["recency"] = scores["recency_days"].reindex(index).astype("float64")
    table["recency"] = table["recency"].fillna(stages["days_since_last"].reindex(index))
    table["frequency"] = scores["frequency"].reindex(index).fillna(0).astype("int64")
    table["monetary"] = (
        scores["monetary"].reindex(index).fillna(window_net.reindex(index)).fillna(0.0)
    )
    for col in ("r_score", "f_score", "m_score"):
        table[col] = scores[col].reindex(index).astype("Int64")
    table["rfm_code"] = scores["rfm_code"].reindex(index)
    table["rfm_segment"] = pd.Categorical(
        scores["rfm_segment"].astype("object").reindex(index), categories=list(segments)
    )
    abc, tiers = params.get("abc", {}), params.get("tiers", {})
    gone = isin(index, [] if ended is None else ended)
    # A customer whose contract ended brings no revenue to rank: last tier, no share.
    ranks = value.value_tiers(table["monetary"].where(~gone, 0.0), **abc, **tiers)
    table["value_tier"] = ranks["value_tier"].reindex(index)
    table["abc_class"] = ranks["abc_class"].reindex(index)
    table["revenue_share"] = ranks["revenue_share"].reindex(index)
    table["historical_value"] = historical.reindex(index).fillna(0.0).astype("float64")
    table["contract_ended"] = gone
    for col in ("tenure_bills", "plan_value", "last_bill", "previous_bill"):
        source = scores[col] if col in scores.columns else pd.Series(dtype="float64")
        table[col] = source.reindex(index).astype("float64")
    table["plan_change"] = _plan_change(table["last_bill"], table["previous_bill"])
    table = table.drop(columns=["last_bill", "previous_bill"])

    clv_params = dict(params.get("clv", {}))
    fit = None
    table["clv_12m"] = np.nan
    table["p_alive"] = np.nan
    table["expected_purchases"] = np.nan
    if predict_clv:
        fit = fit_clv(summary, time_unit=time_unit, **clv_params)
        if fit.ok:
            predicted = clv_models.customer_lifetime_value(
                fit.bg,
                fit.gg,
                summary,
                horizon_months=fit.horizon_months,
                discount_rate_annual=fit.discount_rate_annual,
                time_unit=time_unit,
            )
            table["clv_12m"] = predicted["clv"].reindex(index)
            table["p_alive"] = predicted["p_alive"].reindex(index)
            table["expected_purchases"] = predicted["expected_purchases"].reindex(index)

    stage = stages["stage"].astype("object").reindex(index).fillna("prospect")
    table["lifecycle_stage"] = pd.Categorical(stage, categories=list(lifecycle.STAGES))
    table["first_purchase"] = stages["first_purchase"].reindex(index)
    table["last_purchase"] = stages["last_purchase"].reindex(index)
    return ValueSnapshot(
        as_of=as_of,
        table=table,
        summary=summary,
        thresholds=thresholds,
        clv=fit,
        segments=segments,
        churn_definition=churn_definition,
        segment_map=None if segment_map is None else dict(segment_map),
        segment_scheme=scheme,
        rfm8_splits=splits,
    )


def segment_scheme(params: Mapping[str, Any], language: str | None = None) -> str:
    """The RFM segment scheme of the ``value`` parameters: ``"rfm10"`` or ``"rfm8"``.

    ``value.segment_scheme: auto`` (the default) is ``rfm8``, the eight RFM classes Chinese
    CRM users know (RFM 八大类), for ``language="zh"`` and ``rfm10`` otherwise; without a
    language it reads as ``rfm10``.

    Raises
    ------
    ParamsError
        An unknown scheme.
    """
    scheme = str(params.get("segment_scheme", "rfm10"))
    if scheme == "auto":
        return "rfm8" if language == "zh" else "rfm10"
    if scheme not in value.SEGMENT_SCHEMES:
        raise ParamsError(
            f"value.segment_scheme must be auto, {' or '.join(value.SEGMENT_SCHEMES)}, "
            f"got {scheme!r}"
        )
    return scheme


def with_segment_scheme(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``value`` section of a full parameter set with ``segment_scheme`` resolved for
    the report language (see :func:`segment_scheme`), as :func:`value_snapshot` reads it."""
    section = dict(params["value"])
    section["segment_scheme"] = segment_scheme(section, params.get("language"))
    return section


def segment_map_for(
    params: Mapping[str, Any], billing: lifecycle.BillingCycle | None
) -> Mapping[str, Any]:
    """The RFM segment map of a scheme: ``value.billing.segment_map`` (default
    :data:`analysis.value.SUBSCRIPTION_SEGMENT_MAP`) for regular bills, else
    ``value.segment_map``."""
    if billing is not None and billing.subscription:
        return (params.get("billing") or {}).get("segment_map") or value.SUBSCRIPTION_SEGMENT_MAP
    return params.get("segment_map") or value.DEFAULT_SEGMENT_MAP


def contract_ended(customers: pd.DataFrame | None, as_of: object) -> pd.Index:
    """Ids (str) of the customers whose contract ended on or before ``as_of``: a churn date
    by then, and ``churned`` true where the table has that column (a churn date without the
    flag is not read as churn, as :func:`analysis.figures.known_customers`)."""
    if customers is None or "churn_date" not in customers.columns:
        return pd.Index([], dtype="object")
    from .coerce import as_bool  # noqa: PLC0415

    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    dates = pd.to_datetime(customers["churn_date"], errors="coerce")
    ended = dates.notna() & (dates < end)
    if "churned" in customers.columns:
        ended &= as_bool(customers["churned"]).fillna(False).astype(bool)
    ids = customers.loc[ended, "customer_id"].dropna().astype(str)
    return pd.Index(sorted(set(ids)), dtype="object")


#: The segment that promises first-timers, and where its other customers go per scheme.
NEW_SEGMENT = "new"
NOT_NEW_SEGMENT = {"transactional": "promising", "subscription": "potential_loyalists"}


def _first_timers_only(
    segment: pd.Series, stage: pd.Series, segment_map: Mapping[str, Any], scheme: str
) -> pd.Series:
    """The ``new`` segment ("Recent first-timers") holds only customers whose first purchase
    is recent (lifecycle stage ``new``, the same rule as the stage and close to the unit's
    new-customers figure); the rest of its cells (recent, one purchase in the window but an
    older history) go to ``promising`` (a subscription's to ``potential_loyalists``), so a
    long-standing customer never gets onboarding. Maps without both keys are left alone."""
    target = NOT_NEW_SEGMENT.get(scheme)
    if NEW_SEGMENT not in segment_map or target not in segment_map:
        return segment
    first_timer = stage.reindex(segment.index).astype("object") == "new"
    move = (segment.astype("object") == NEW_SEGMENT) & ~first_timer
    if not move.any():
        return segment
    out = segment.astype("object").where(~move, target)
    return pd.Categorical(out, categories=list(segment_map))


def _plan_change(last: pd.Series, previous: pd.Series) -> pd.Series:
    """``"up"`` / ``"down"`` when the last bill is more than :data:`PLAN_CHANGE_TOLERANCE`
    above / below the one before, ``"same"`` otherwise, missing without two bills."""
    ratio = last / previous.where(previous > 0)
    out = pd.Series(np.nan, index=last.index, dtype="object")
    out[ratio.notna()] = "same"
    out[ratio > 1 + PLAN_CHANGE_TOLERANCE] = "up"
    out[ratio < 1 - PLAN_CHANGE_TOLERANCE] = "down"
    return out


def _customer_types(
    customers: pd.DataFrame | None, index: pd.Index, stages: pd.DataFrame
) -> pd.Series:
    if customers is not None and "customer_type" in customers.columns:
        types = (
            customers.dropna(subset=["customer_id"])
            .drop_duplicates("customer_id")
            .set_index("customer_id")["customer_type"]
        )
        types.index = types.index.astype(str)
        return types.reindex(index).astype("object")
    if "customer_type" in stages.columns:
        return stages["customer_type"].reindex(index).astype("object")
    return pd.Series(np.nan, index=index, dtype="object")


# --------------------------------------------------------------------------- tables


def segment_summary(table: pd.DataFrame, segments: Sequence[str]) -> pd.DataFrame:
    """Size and value of each RFM segment among the scored customers.

    Returns
    -------
    pandas.DataFrame
        Index ``rfm_segment`` (all ``segments``, in order, empty ones included); columns
        ``customers``, ``customer_share``, ``revenue`` (net, in the window),
        ``revenue_share`` (of the scored customers' net revenue), ``avg_recency``,
        ``avg_frequency``, ``avg_monetary``, ``clv_total``, ``median_clv``, ``avg_p_alive``
        and ``median_historical``.
    """
    scored = table.loc[table["scored"]]
    groups = scored.groupby("rfm_segment", observed=False)
    out = pd.DataFrame(
        {
            "customers": groups.size(),
            "revenue": groups["monetary"].sum(),
            "avg_recency": groups["recency"].mean(),
            "avg_frequency": groups["frequency"].mean(),
            "avg_monetary": groups["monetary"].mean(),
            "clv_total": groups["clv_12m"].sum(min_count=1),
            "median_clv": groups["clv_12m"].median(),
            "avg_p_alive": groups["p_alive"].mean(),
            "median_historical": groups["historical_value"].median(),
        }
    ).reindex(list(segments))
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0)
    total, revenue = out["customers"].sum(), out["revenue"].sum()
    out["customer_share"] = out["customers"] / total if total else np.nan
    out["revenue_share"] = out["revenue"] / revenue if revenue > 0 else np.nan
    out.index.name = "rfm_segment"
    first = ["customers", "customer_share", "revenue", "revenue_share"]
    return out[first + [c for c in out.columns if c not in first]]


def rfm_grid(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers and net window revenue per (r_score, f_score) cell of the scored customers.

    Returns
    -------
    (counts, revenue)
        5 x 5 frames, index ``r_score`` 5..1 (top = most recent), columns ``f_score`` 1..5.
    """
    scored = table.loc[table["scored"]]
    r = scored["r_score"].astype("int64")
    f = scored["f_score"].astype("int64")
    counts = pd.crosstab(r, f).reindex(index=range(5, 0, -1), columns=range(1, 6), fill_value=0)
    revenue = (
        scored["monetary"]
        .groupby([r, f])
        .sum()
        .unstack()
        .reindex(index=range(5, 0, -1), columns=range(1, 6))
        .fillna(0.0)
    )
    for frame in (counts, revenue):
        frame.index.name, frame.columns.name = "r_score", "f_score"
    return counts.astype("int64"), revenue


def tier_summary(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Customers and revenue per value tier (``column="value_tier"``) or ABC class
    (``"abc_class"``) among the scored customers; same columns as :func:`segment_summary`'s
    first four, plus ``avg_monetary`` and ``avg_clv``."""
    scored = table.loc[table["scored"]]
    groups = scored.groupby(column, observed=False)
    out = pd.DataFrame(
        {
            "customers": groups.size(),
            "revenue": groups["monetary"].sum(),
            "avg_monetary": groups["monetary"].mean(),
            "avg_clv": groups["clv_12m"].mean(),
        }
    )
    total, revenue = out["customers"].sum(), out["revenue"].clip(lower=0).sum()
    out.insert(1, "customer_share", out["customers"] / total if total else np.nan)
    out.insert(
        3, "revenue_share", out["revenue"].clip(lower=0) / revenue if revenue > 0 else np.nan
    )
    return out


def type_breakdown(
    table: pd.DataFrame, segments: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Value per customer type, and the RFM segment mix of each type.

    Returns
    -------
    (summary, mix)
        ``summary``: index ``customer_type`` (types ordered by revenue, "unknown" for a
        missing type), columns ``customers`` (all known as of the snapshot), ``buyers``
        (scored), ``buyer_share`` (of all scored), ``revenue``, ``revenue_share``,
        ``revenue_per_buyer``, ``avg_clv``, ``high_tier_share`` (of the type's buyers),
        ``buying_share`` (customers in a buying lifecycle stage) and ``top_segment``.
        ``mix``: row shares of segments per type (scored customers), same row order.
    """
    frame = table.assign(customer_type=table["customer_type"].fillna("unknown").astype(str))
    scored = frame.loc[frame["scored"]]
    everyone = frame.groupby("customer_type")
    buyers = scored.groupby("customer_type")
    out = pd.DataFrame(
        {
            "customers": everyone.size(),
            "buyers": buyers.size(),
            "revenue": buyers["monetary"].sum(),
            "avg_clv": buyers["clv_12m"].mean(),
            "high_tier_share": buyers["value_tier"].apply(lambda s: (s == "high").mean()),
            "buying_share": everyone["lifecycle_stage"].apply(
                lambda s: s.isin(BUYING_STAGES).mean()
            ),
        }
    )
    out["buyers"] = out["buyers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0)
    n_buyers, revenue = out["buyers"].sum(), out["revenue"].clip(lower=0).sum()
    out["buyer_share"] = out["buyers"] / n_buyers if n_buyers else np.nan
    out["revenue_share"] = out["revenue"].clip(lower=0) / revenue if revenue > 0 else np.nan
    out["revenue_per_buyer"] = out["revenue"] / out["buyers"].where(out["buyers"] > 0)
    mix = pd.crosstab(scored["customer_type"], scored["rfm_segment"], normalize="index")
    mix = mix.reindex(index=out.index, columns=list(segments), fill_value=0.0).fillna(0.0)
    top = mix.idxmax(axis=1).where(mix.sum(axis=1) > 0)
    out["top_segment"] = top
    out = out.sort_values(["revenue", "customers"], ascending=False, kind="mergesort")
    out.index.name = "customer_type"
    columns = [
        "customers",
        "buyers",
        "buyer_share",
        "revenue",
        "revenue_share",
        "revenue_per_buyer",
        "avg_clv",
        "high_tier_share",
        "buying_share",
        "top_segment",
    ]
    return out[columns], mix.reindex(out.index)


def biggest_outflow(counts: pd.DataFrame) -> dict[str, Any] | None:
    """The largest move of customers to a worse lifecycle stage.

    Worse means from a buying stage (new, active, loyal, reactivated) to at risk, lapsed or
    churned (contract ended), from at risk to lapsed or churned, or from lapsed to churned. ``counts`` is :class:`analysis.lifecycle.StageTransitions`
    ``.counts``.

    Returns
    -------
    dict or None
        ``from_stage``, ``to_stage``, ``count`` and ``share`` (of the previous stage's
        customers); None when nobody moved to a worse stage.
    """
    best = None
    for src, row in counts.iterrows():
        for dst, n in row.items():
            h_src, h_dst = _STAGE_HEALTH.get(src), _STAGE_HEALTH.get(dst)
            if h_src is None or h_dst is None or h_dst >= h_src or n <= 0:
                continue
            if best is None or n > best["count"]:
                total = int(row.sum())
                best = {
                    "from_stage": src,
                    "to_stage": dst,
                    "count": int(n),
                    "share": n / total if total else float("nan"),
                }
    return best


# --------------------------------------------------------------------------- actions


def segment_priority(table: pd.DataFrame) -> pd.Series:
    """Priority of each RFM segment from the value at stake: its customers' net revenue in
    the RFM window (``monetary``), by :func:`analysis.strategy.value_priority` (the
    segments that together hold the first half of it are ``high``, at most two). The
    value report, ``rfm.csv`` and the summary all read this, so a segment has one
    priority in every report; the playbook entry's own ``priority`` is not used for RFM
    segments.

    Parameters
    ----------
    table
        A value snapshot's table (``rfm_segment``, ``monetary``).

    Returns
    -------
    pandas.Series
        Index: the segments that have customers; ``high``, ``medium`` or ``low``.
    """
    from .strategy import value_priority  # noqa: PLC0415  (strategy reads valuation's tables)

    scored = table["rfm_segment"].notna()
    revenue = (
        pd.to_numeric(table.loc[scored, "monetary"], errors="coerce")
        .fillna(0.0)
        .groupby(table.loc[scored, "rfm_segment"].astype("object").to_numpy())
        .sum()
    )
    return value_priority(revenue)


def customer_actions(
    table: pd.DataFrame,
    playbook: Mapping[str, Any],
    language: str = "en",
    *,
    separator: str = "; ",
    scheme: str = "transactional",
    available: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The recommended action for each customer, from the playbook.

    A scored customer gets the entry of their RFM segment; a customer without scores (no
    purchase in the RFM window: prospects, most lapsed customers and, with contractual
    churn, customers whose contract ended) the entry of their lifecycle stage. Customer
    types with their own entry (government, institution) also get ``account_management``:
    that entry's objective and actions, to follow alongside.

    Under the subscription scheme (``scheme="subscription"``) the entries come from the
    playbook's ``for_subscriptions`` section where it has one, and ``subscription_action``
    adds the subscription entries that apply: ``renewal`` (renewal due or one missed:
    r_score 4 or 3, or the at-risk stage), ``plan_change`` (the last bill is below the one
    before) and ``payment_method`` (a ``payment_method`` paid by hand,
    :data:`MANUAL_PAYMENT`). ``available`` (:func:`analysis.playbook.data_available`) leaves
    out actions that need data the unit does not have.

    Returns
    -------
    pandas.DataFrame
        Index of ``table``; columns ``action_source`` (``rfm_segment:<key>`` or
        ``lifecycle_stage:<key>``), ``action``, ``priority``, ``channel``, ``offer``,
        ``account_management`` and ``subscription_action`` (empty strings when nothing
        applies).
    """
    by_segment = table["rfm_segment"].astype("object")
    use_segment = table["scored"] & by_segment.notna()
    source = np.where(
        use_segment,
        "rfm_segment:" + by_segment.fillna("").astype(str),
        "lifecycle_stage:" + table["lifecycle_stage"].astype(str),
    )
    entries = {}
    for key in pd.unique(source):
        vocabulary, name = key.split(":", 1)
        entries[key] = action_for(
            playbook, vocabulary, name, language, scheme=scheme, available=available
        )
    priority = segment_priority(table).to_dict()  # value at stake, not the entry's own
    types = playbook.get("customer_type") or {}
    account = {}
    for kind in table["customer_type"].dropna().unique():
        if kind in types:
            entry = action_for(playbook, "customer_type", kind, language)
            account[kind] = f"{entry.objective}: {entry.action_text(separator)}"
    return pd.DataFrame(
        {
            "action_source": source,
            "action": [entries[s].action_text(separator) for s in source],
            "priority": [
                priority.get(s.split(":", 1)[1], "low")
                if s.startswith("rfm_segment:")
                else entries[s].priority
                for s in source
            ],
            "channel": [entries[s].channel for s in source],
            "offer": [entries[s].offer for s in source],
            "account_management": [account.get(k, "") for k in table["customer_type"]],
            "subscription_action": _subscription_actions(
                table, playbook, language, separator, scheme
            ),
        },
        index=table.index,
    )


#: ``payment_method`` values read as paid by hand, each bill (case-insensitive substrings:
#: "Electronic check", "mailed_check", "cash"); anything else is left alone.
MANUAL_PAYMENT = ("check", "cheque", "cash", "manual", "mail", "invoice", "现金", "支票", "手动")


def subscription_signals(table: pd.DataFrame) -> pd.DataFrame:
    """Which subscription entries apply to each customer (bool columns ``renewal``,
    ``plan_change``, ``payment_method``; see :func:`customer_actions`)."""
    live = ~table.get("contract_ended", pd.Series(False, index=table.index)).astype(bool)
    r = table["r_score"].astype("Float64")
    renewal = (r.isin([3, 4]).fillna(False) | (table["lifecycle_stage"] == "at_risk")) & live
    plan = table.get("plan_change", pd.Series(np.nan, index=table.index)) == "down"
    if "payment_method" in table.columns:
        method = table["payment_method"].astype("string").str.lower()
        manual = method.str.contains("|".join(MANUAL_PAYMENT), regex=True).fillna(False)
    else:
        manual = pd.Series(False, index=table.index)
    return pd.DataFrame(
        {
            "renewal": renewal.astype(bool),
            "plan_change": (plan & live).astype(bool),
            "payment_method": (manual & live).astype(bool),
        },
        index=table.index,
    )


def _subscription_actions(
    table: pd.DataFrame,
    playbook: Mapping[str, Any],
    language: str,
    separator: str,
    scheme: str,
) -> list[str]:
    if scheme != "subscription" or not len(table):
        return [""] * len(table)
    signals = subscription_signals(table)
    texts = {
        key: f"{e.objective}: {e.action_text(separator)}"
        for key in signals.columns
        if (e := action_for(playbook, "subscription", key, language))
    }
    out = []
    for row in signals.itertuples(index=False):
        out.append(" | ".join(texts[k] for k, on in zip(signals.columns, row, strict=True) if on))
    return out


def export_frame(table: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """The ``rfm.csv`` export: :data:`EXPORT_COLUMNS`, then :data:`EXPORT_EXTRA_COLUMNS`.

    Real customer ids; money rounded to cents, P(alive) to 4 decimals; dates as
    ``YYYY-MM-DD``; scores as integers (empty when not scored).
    """
    out = table.join(actions[[c for c in actions.columns]])
    out = out.reset_index()
    out["customer_id"] = out["customer_id"].astype(str)
    for col in ("monetary", "clv_12m", "historical_value", "plan_value"):
        out[col] = out[col].round(2)
    out["p_alive"] = out["p_alive"].round(4)
    out["tenure_bills"] = out["tenure_bills"].astype("Int64")
    out["recency"] = out["recency"].astype("Int64")
    for col in ("first_purchase", "last_purchase"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    for col in ("rfm_segment", "value_tier", "abc_class", "lifecycle_stage"):
        out[col] = out[col].astype("object")
    out = out[EXPORT_COLUMNS + EXPORT_EXTRA_COLUMNS]
    # Text columns hold None for "missing" (pd.NA in an object column is not a value).
    text = [c for c in out.columns if out[c].dtype == object]
    out[text] = out[text].astype("object").where(out[text].notna(), None)
    return out

"""Churn: leakage-free labels, an interpretable cause model, a predictive risk model,
survival curves, stated reasons and an early-warning list.

Definitions (DESIGN §5 "Churn causes", issue #6)
------------------------------------------------
*Non-contractual* (customers may simply stop buying): a customer is **active** while their
last purchase is less than ``window_days`` old and has **churned** once ``window_days``
pass without a purchase. The window comes from the distribution of gaps between
consecutive purchase days (:func:`churn_window`, by default the 90th percentile clipped
to 30..365 days): a silence longer than nine in ten normal repeat gaps is unusual.
At a snapshot ``s`` the modelling population is every customer with a purchase in the
``lookback_days`` before ``s``; the label is *no purchase in* ``[s, s + window)``.

*Contractual* (the customers table records the end): ``churned`` / ``churn_date`` /
``churn_reason``. At ``s`` the population is every customer not churned before ``s``; the
label is a ``churn_date`` in ``[s, s + window)``.

No leakage: features come from :func:`analysis.features.customer_features`, which reads
only rows dated strictly before the snapshot; the label only reads the window after it.
Validation is out of time (:func:`plan_snapshots`): a model trained at one snapshot is
tested on the labels of a later one; random cross-validation (:func:`random_cv_auc`) may be
shown next to it, never instead.

Models
------
* :func:`churn_drivers` - logistic regression (statsmodels) on any customer-level frame:
  odds ratios per standard deviation (numbers) or vs a reference level (categories), 95%
  intervals, p-values, held-out AUC, VIF, separation handling (Firth's penalised
  likelihood), per-customer contributions and plain-language sentences.
* :class:`ChurnRiskModel` + :func:`evaluate_risk_model` - gradient boosting
  (``HistGradientBoostingClassifier``): AUC, calibration, gains/lift, permutation
  importance, partial dependence.
* :func:`followup_table`, :func:`km_curves`, :func:`hazard_ratios` - Kaplan-Meier curves
  (``SurvfuncRight``) and a Cox model (Efron ties, as statsmodels ``PHReg``) of the time
  to churn after a snapshot.
* :func:`early_warning_list` - churn probability x customer value = value at risk, with
  the top three reasons in words and a recommended action.

Computation only: nothing here reads files, prints or draws.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, special, stats

from .errors import DataError, ModelError, ParamsError
from .i18n import catalog, t
from .lookup import isin

__all__ = [
    "DEFINITIONS",
    "DRIVER_FEATURES",
    "EXPORT_COLUMNS",
    "MIN_CUSTOMERS",
    "ChurnDrivers",
    "ChurnRiskModel",
    "ChurnWindow",
    "PeriodChurn",
    "RiskEvaluation",
    "Snapshots",
    "calibration_table",
    "churn_drivers",
    "churn_frame",
    "churn_labels",
    "churn_window",
    "customer_value",
    "early_warning_list",
    "evaluate_risk_model",
    "feature_label",
    "followup_table",
    "gains_table",
    "hazard_ratios",
    "km_curves",
    "period_churn",
    "plan_snapshots",
    "random_cv_auc",
    "reason_pareto",
    "resolve_definition",
]

DEFINITIONS = ("noncontractual", "contractual")
#: Fewer customers than this: no model is fitted (too little data to say anything).
MIN_CUSTOMERS = 50
#: Window used when there are too few repeat gaps to learn one from.
FALLBACK_WINDOW_DAYS = 90
#: Features of the cause model on our customer table (absent ones are skipped). Recency is
#: left out on purpose: a long silence is the symptom that defines churn, not a cause; it
#: stays in the predictive model.
DRIVER_FEATURES: tuple[str, ...] = (
    "frequency",
    "tenure_days",
    "avg_order_value",
    "discount_share",
    "return_rate",
    "complaints",
    "satisfaction",
    "customer_type",
)
#: Columns of ``exports/churn_risk.csv``, in order. ``reason_feature_N`` is the input column
#: behind ``reason_N`` (``frequency``, ``complaints`` ...), a stable code to filter or count
#: by, where the reason's words carry the customer's own value.
EXPORT_COLUMNS = [
    "customer_id",
    "churn_probability",
    "value_at_risk",
    "reason_1",
    "reason_2",
    "reason_3",
    "action",
    "reason_feature_1",
    "reason_feature_2",
    "reason_feature_3",
]

_Z95 = float(stats.norm.ppf(0.975))
_TRUE = {"1", "true", "t", "yes", "y", "churn", "churned", "是", "流失"}
_FALSE = {"0", "false", "f", "no", "n", "stay", "stayed", "retained", "active", "否", "未流失"}
_DATE_NAME = re.compile(r"(?i)(date|_at$|time$|timestamp)")
_ID_WORDS = {"id", "key", "uuid", "guid", "index", "row", "rownum", "row_id", "record_id"}
_ID_OWNER = re.compile(
    r"(customer|client|account|user|member|subscriber|cust|contract|order)[_\s-]?"
    r"(id|no|number|code|key)"
)


def _id_like_name(name: str) -> bool:
    """``customerID``, ``customer_id``, ``Client No``, ``id``, ``uuid``... (not ``prepaid``)."""
    low = name.strip().lower()
    return (
        low in _ID_WORDS
        or bool(re.search(r"[_\s-]id$", low))
        or bool(re.search(r"[a-z0-9](ID|Id)$", name.strip()))
        or bool(_ID_OWNER.fullmatch(low))
        or "uuid" in low
        or "guid" in low
    )


# --------------------------------------------------------------------------- small helpers
def _ts(value: object, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ParamsError(f"{name} must be a date, got {value!r}") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ParamsError(f"{name} must be a date, got {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    return ts.normalize()


def _require(frame: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"required column(s) {', '.join(repr(c) for c in missing)} missing; "
            f"columns present: {', '.join(map(str, frame.columns)) or '(none)'}.",
            file=table,
            column=missing[0],
        )


def _purchase_days(
    orders: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp
) -> pd.DataFrame:
    """Customer-days with a positive net amount in ``[start, end)``: ``customer_id, day``.

    A purchase day is a day whose orders sum to more than zero (as in
    :mod:`analysis.lifecycle`): a refund-only day is not a purchase.
    """
    _require(orders, "orders", ("customer_id", "order_date", "amount"))
    dates = orders["order_date"]
    mask = dates < end
    if start is not None:
        mask = mask & (dates >= start)
    part = orders.loc[mask, ["customer_id", "order_date", "amount"]]
    if part.empty:
        return pd.DataFrame(
            {"customer_id": pd.Series(dtype="string"), "day": pd.Series(dtype="datetime64[ns]")}
        )
    net = (
        part.assign(
            customer_id=part["customer_id"].astype("string"),
            day=part["order_date"].dt.normalize(),
        )
        .groupby(["customer_id", "day"], observed=True, sort=True)["amount"]
        .sum()
    )
    out = net[net > 0].reset_index()[["customer_id", "day"]]
    return out


def _thread_limits(*, openmp: int | None = None, blas: int | None = None) -> Any:
    """Context capping OpenMP / BLAS threads (``None``: leave as is).

    One ``threadpoolctl`` controller is kept (building one scans every loaded library, a
    few ms, and this runs around each fit and each scoring); it is rebuilt once a wanted
    library (scikit-learn's OpenMP) has been loaded since.
    """
    from threadpoolctl import ThreadpoolController  # noqa: PLC0415  (sklearn dependency)

    wanted = {api: n for api, n in (("openmp", openmp), ("blas", blas)) if n is not None}
    if not wanted:
        return contextlib.nullcontext()
    controller = _THREADPOOLS.get("controller")
    if controller is None or any(
        not controller.select(user_api=api).lib_controllers for api in wanted
    ):
        controller = _THREADPOOLS["controller"] = ThreadpoolController()
    return controller.limit(limits=wanted)


#: The cached ``threadpoolctl`` controller of :func:`_thread_limits`.
_THREADPOOLS: dict[str, Any] = {}


def _one_blas_thread(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``function`` with one BLAS thread. The logistic and Cox fits multiply matrices
    of a dozen columns: more threads cost more than they save there, and they would fight
    the other report workers for the cores."""

    @functools.wraps(function)
    def single(*args: Any, **kwargs: Any) -> Any:
        with _thread_limits(blas=1):
            return function(*args, **kwargs)

    return single


# --------------------------------------------------------------------------- window
@dataclass(frozen=True)
class ChurnWindow:
    """The churn window and where it came from.

    Attributes
    ----------
    days : int
        Days without a purchase after which a customer counts as churned.
    source : str
        ``"gaps"`` (learnt), ``"fallback"`` (too few gaps: :data:`FALLBACK_WINDOW_DAYS`)
        or ``"param"`` (set explicitly).
    quantile : float
        Gap quantile used.
    gap_quantile_days : float
        The raw quantile of the gaps (before rounding and clipping); NaN if not learnt.
    n_gaps : int
        Number of gaps between consecutive purchase days it was learnt from.
    clipped : bool
        The raw quantile fell outside ``[min_days, max_days]`` and was clipped.
    """

    days: int
    source: str
    quantile: float = 0.9
    gap_quantile_days: float = float("nan")
    n_gaps: int = 0
    clipped: bool = False


def churn_window(
    orders: pd.DataFrame,
    as_of: object,
    *,
    quantile: float = 0.9,
    min_days: int = 30,
    max_days: int = 365,
    min_gaps: int = 30,
    window_days: int | None = None,
) -> ChurnWindow:
    """Churn window from the inter-purchase-gap distribution.

    The ``quantile`` of the gaps in days between consecutive purchase days of the same
    customer (all customers, purchases before ``as_of``), rounded up and clipped to
    ``[min_days, max_days]``. Observed gaps are right-censored (the gap in progress is not
    seen), so the quantile leans short; the bounds keep it sensible.

    Parameters
    ----------
    orders
        Clean orders (``customer_id``, ``order_date``, ``amount``).
    as_of
        Only purchases strictly before this day are used.
    quantile
        Gap quantile, ``0 < quantile < 1`` (default 0.9).
    min_days, max_days
        Bounds of the learnt window.
    min_gaps
        With fewer gaps the fallback of 90 days (clipped to the bounds) is used.
    window_days
        An explicit window (``source="param"``); skips the learning.

    Returns
    -------
    ChurnWindow

    Raises
    ------
    ParamsError
        Bad quantile, bounds or window.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a"] * 4, "amount": 1.0,
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-02-10", "2024-03-01", "2024-05-01"])})
    >>> churn_window(orders, "2024-06-01", min_gaps=1, min_days=7).days  # gaps 40, 20, 61 days
    57
    """
    for name, value in (("min_days", min_days), ("max_days", max_days)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ParamsError(f"churn window {name} must be a positive whole number of days")
    if min_days > max_days:
        raise ParamsError(f"churn window min_days ({min_days}) is above max_days ({max_days})")
    if window_days is not None:
        if (
            isinstance(window_days, bool)
            or not isinstance(window_days, int | float | np.integer | np.floating)
            or not math.isfinite(float(window_days))
            or window_days < 1
        ):
            raise ParamsError(f"churn window_days must be a positive number, got {window_days!r}")
        return ChurnWindow(days=int(math.ceil(window_days)), source="param", quantile=quantile)
    if not isinstance(quantile, int | float) or not 0 < quantile < 1:
        raise ParamsError(f"churn window quantile must be between 0 and 1, got {quantile!r}")
    end = _ts(as_of, "as_of")
    days = _purchase_days(orders, None, end)
    gaps = days.groupby("customer_id", observed=True)["day"].diff().dt.days.dropna()
    n_gaps = int(len(gaps))
    if n_gaps < max(int(min_gaps), 1):
        fallback = int(min(max(FALLBACK_WINDOW_DAYS, min_days), max_days))
        return ChurnWindow(days=fallback, source="fallback", quantile=quantile, n_gaps=n_gaps)
    raw = float(np.quantile(gaps.to_numpy(dtype="float64"), quantile))
    learnt = max(1, math.ceil(raw))
    clipped = not min_days <= learnt <= max_days
    return ChurnWindow(
        days=int(min(max(learnt, min_days), max_days)),
        source="gaps",
        quantile=float(quantile),
        gap_quantile_days=raw,
        n_gaps=n_gaps,
        clipped=clipped,
    )


# --------------------------------------------------------------------------- snapshots
@dataclass(frozen=True)
class Snapshots:
    """Snapshot dates of one report (all exclusive bounds: data strictly before them).

    Attributes
    ----------
    score : Timestamp
        The report's "as of" (period end): current customers are scored here.
    test : Timestamp or None
        ``score - window``: the latest snapshot whose label window is fully observed.
    train : Timestamp or None
        ``test - window``: the training snapshot of the out-of-time check; its label window
        ends where the test one starts, so no label is seen twice.
    out_of_time : bool
        Both ``train`` and ``test`` have enough history before them.
    """

    score: pd.Timestamp
    test: pd.Timestamp | None
    train: pd.Timestamp | None
    window_days: int

    @property
    def out_of_time(self) -> bool:
        return self.train is not None and self.test is not None

    @property
    def labelled(self) -> pd.Timestamp | None:
        """The latest labelled snapshot (the one models are refitted on for scoring)."""
        return self.test


def plan_snapshots(
    as_of: object, data_start: object, window_days: int, *, min_history_days: int = 90
) -> Snapshots:
    """Place the scoring, test and training snapshots before ``as_of``.

    ``test = as_of - window`` and ``train = test - window``; a snapshot needs at least
    ``min_history_days`` of data before it, otherwise it is ``None`` (then the report
    falls back to a stratified hold-out split, or fits no model at all).

    Examples
    --------
    >>> s = plan_snapshots("2026-01-01", "2024-01-01", 90)
    >>> str(s.test.date()), str(s.train.date()), s.out_of_time
    ('2025-10-03', '2025-07-05', True)
    """
    score = _ts(as_of, "as_of")
    start = _ts(data_start, "data_start")
    window = pd.Timedelta(days=int(window_days))
    earliest = start + pd.Timedelta(days=int(min_history_days))
    test = score - window
    train = test - window
    return Snapshots(
        score=score,
        test=test if test >= earliest else None,
        train=train if train >= earliest and test >= earliest else None,
        window_days=int(window_days),
    )


# --------------------------------------------------------------------------- labels
def resolve_definition(definition: str, customers: pd.DataFrame | None) -> str:
    """``auto`` -> ``contractual`` when customers carry ``churned`` and ``churn_date`` with
    at least one dated churner, else ``noncontractual``; explicit values are checked."""
    if definition == "auto":
        if (
            customers is not None
            and {"churned", "churn_date"} <= set(customers.columns)
            and bool((_as_bool(customers["churned"]) & customers["churn_date"].notna()).any())
        ):
            return "contractual"
        return "noncontractual"
    if definition not in DEFINITIONS:
        raise ParamsError(
            f"churn definition must be auto, noncontractual or contractual, got {definition!r}"
        )
    if definition == "contractual":
        if customers is None:
            raise DataError("the contractual churn definition needs a customers table")
        _require(customers, "customers", ("customer_id", "churned", "churn_date"))
    return definition


def _as_bool(values: pd.Series) -> pd.Series:
    """A churned-flag column as plain bool (missing = False)."""
    if values.dtype == bool:
        return values
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    parsed = _binary_target(values, allow_missing=True)
    return parsed.fillna(0).astype(bool)


def churn_labels(
    orders: pd.DataFrame,
    as_of: object,
    window_days: int,
    *,
    definition: str = "noncontractual",
    customers: pd.DataFrame | None = None,
    lookback_days: int = 365,
) -> pd.Series:
    """Who is in the population at ``as_of`` and who churned in the window after it.

    Parameters
    ----------
    orders
        Clean orders (``customer_id``, ``order_date``, ``amount``).
    as_of
        Snapshot day (exclusive: data before it is history, the window starts on it).
    window_days
        Length of the label window.
    definition
        ``noncontractual``: population = a purchase in ``[as_of - lookback_days, as_of)``;
        churned = no purchase in ``[as_of, as_of + window_days)``.
        ``contractual``: population = customers signed up before ``as_of`` (or with a
        purchase before it) and not churned before it; churned = ``churn_date`` in the
        window. Churners without a ``churn_date`` cannot be placed in time and are left
        out (counted in ``attrs["undated"]``).
    customers
        Customers table (required for ``contractual``).
    lookback_days
        Non-contractual population window.

    Returns
    -------
    Series
        Bool ``churned`` indexed by ``customer_id`` (sorted), one row per customer of the
        population. The window must be observed in the data; the caller checks that.
    """
    s = _ts(as_of, "as_of")
    window = pd.Timedelta(days=int(window_days))
    if definition == "noncontractual":
        history = _purchase_days(orders, s - pd.Timedelta(days=int(lookback_days)), s)
        population = pd.Index(history["customer_id"].unique(), name="customer_id")
        after = _purchase_days(orders, s, s + window)
        churned = ~isin(population, after["customer_id"])
        out = pd.Series(churned, index=population, name="churned")
        out.attrs["undated"] = 0
        return out.sort_index()
    if definition != "contractual":
        raise ParamsError(f"unknown churn definition {definition!r}")
    if customers is None:
        raise DataError("the contractual churn definition needs a customers table")
    _require(customers, "customers", ("customer_id", "churned", "churn_date"))
    c = customers.drop_duplicates("customer_id").set_index(
        customers["customer_id"].astype("string").rename("customer_id")
    )
    flag = _as_bool(c["churned"])
    date = pd.to_datetime(c["churn_date"])
    undated = flag & date.isna()
    bought = pd.Index(orders.loc[orders["order_date"] < s, "customer_id"].astype("string").unique())
    known = isin(c.index, bought)
    if "signup_date" in c.columns:
        known = known | pd.to_datetime(c["signup_date"]).lt(s).to_numpy()
    gone_before = flag & date.lt(s)
    keep = known & ~gone_before.to_numpy() & ~undated.to_numpy()
    churned = (flag & date.ge(s) & date.lt(s + window))[keep]
    out = pd.Series(churned.to_numpy(dtype=bool), index=c.index[keep], name="churned")
    out.index.name = "customer_id"
    out.attrs["undated"] = int(undated.sum())
    return out.sort_index()


def churn_frame(
    orders: pd.DataFrame,
    as_of: object,
    *,
    window_days: int,
    definition: str = "noncontractual",
    customers: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
    lookback_days: int = 365,
    attributes: Sequence[str] = ("customer_type",),
    label: bool = True,
    features: Callable[..., pd.DataFrame] | None = None,
    categories: Sequence[str] | None = None,
    channels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Point-in-time features of the population at ``as_of``, with the churn label.

    Parameters
    ----------
    orders, customers, surveys, interactions
        Clean tables (DESIGN §3); only ``orders`` is required (``customers`` for the
        contractual definition).
    as_of
        Snapshot day: features use rows strictly before it.
    window_days, definition, lookback_days
        As in :func:`churn_labels` (who is in the population, and the label).
    attributes
        Customer columns joined as they are (fixed attributes such as ``customer_type``).
    label
        Add the ``churned`` label (reads the window after ``as_of``). Without it the
        population is the same, but nothing after ``as_of`` is read: use this to score
        current customers.
    features
        The feature builder, :func:`analysis.features.customer_features` by default.
    categories, channels
        Fix the category and channel share columns (e.g. to those of the snapshot a model
        was trained on), so frames of different snapshots have the same columns.

    Returns
    -------
    DataFrame
        Index ``customer_id``; feature columns (see :mod:`analysis.features`), attribute
        columns, and ``churned`` (bool) when ``label``. ``attrs``: ``as_of``,
        ``window_days``, ``definition``.

    Examples
    --------
    >>> frame = churn_frame(orders, "2025-10-01", window_days=90,        # doctest: +SKIP
    ...                     customers=customers, interactions=interactions)
    >>> churn_drivers(frame, "churned", DRIVER_FEATURES)                 # doctest: +SKIP
    """
    from .features import customer_features  # noqa: PLC0415  (DuckDB only when needed)

    s = _ts(as_of, "as_of")
    build = features or customer_features
    history = orders.loc[orders["order_date"] < s]
    population = churn_labels(
        history if not label else orders,
        s,
        window_days,
        definition=definition,
        customers=customers,
        lookback_days=lookback_days,
    )
    fixed = {
        k: list(v) for k, v in (("categories", categories), ("channels", channels)) if v is not None
    }
    feats = build(
        history,
        s,
        customers=customers,
        surveys=surveys,
        interactions=interactions,
        **fixed,
    )
    shares = {k: feats.attrs.get(k) for k in ("categories", "channels") if k in feats.attrs}
    frame = feats.loc[isin(feats.index, population.index)].copy()
    if customers is not None:
        cols = [a for a in attributes if a in customers.columns and a not in frame.columns]
        if cols:
            attrs = customers.drop_duplicates("customer_id").set_index(
                customers["customer_id"].astype("string").rename("customer_id")
            )[cols]
            frame = frame.join(attrs.reindex(frame.index))
            for col in cols:
                frame[col] = frame[col].astype("object").where(frame[col].notna(), None)
    if label:
        frame["churned"] = population.reindex(frame.index).to_numpy(dtype=bool)
    frame.index.name = "customer_id"
    frame.attrs.update(
        as_of=s.isoformat(), window_days=int(window_days), definition=str(definition), **shares
    )
    return frame


# --------------------------------------------------------------------------- period KPIs
@dataclass(frozen=True)
class PeriodChurn:
    """Churn of one period.

    Attributes
    ----------
    base : int
        Customers active at the start of the period (non-contractual: a purchase in the
        ``window_days`` before it; contractual: signed up and not churned before it).
    churned : int
        Of them, those churned by its end (non-contractual: no purchase in the last
        ``window_days`` of the period; contractual: ``churn_date`` in the period).
    rate : float
        ``churned / base`` (NaN without a base).
    revenue_lost : float
        The churned customers' net revenue in the 365 days before the period.
    customer_ids : tuple of str
        The churned customers.
    """

    base: int
    churned: int
    rate: float
    revenue_lost: float
    customer_ids: tuple[str, ...] = field(default=(), repr=False)


def period_churn(
    orders: pd.DataFrame,
    start: object,
    end_exclusive: object,
    window_days: int,
    *,
    definition: str = "noncontractual",
    customers: pd.DataFrame | None = None,
    revenue_days: int = 365,
) -> PeriodChurn:
    """Churn rate and revenue lost of the period ``[start, end_exclusive)``.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "b", "b"], "amount": 10.0,
    ...     "order_date": pd.to_datetime(["2025-06-20", "2025-06-25", "2025-09-15"])})
    >>> pc = period_churn(orders, "2025-07-01", "2025-10-01", 30)
    >>> pc.base, pc.churned, pc.rate
    (2, 1, 0.5)
    """
    start_ts, end_ts = _ts(start, "start"), _ts(end_exclusive, "end_exclusive")
    window = pd.Timedelta(days=int(window_days))
    if definition == "noncontractual":
        before = _purchase_days(orders, start_ts - window, start_ts)["customer_id"].unique()
        late = _purchase_days(orders, end_ts - window, end_ts)["customer_id"].unique()
        base = pd.Index(before)
        gone = base[~isin(base, late)]
    elif definition == "contractual":
        if customers is None:
            raise DataError("the contractual churn definition needs a customers table")
        _require(customers, "customers", ("customer_id", "churned", "churn_date"))
        c = customers.drop_duplicates("customer_id")
        flag = _as_bool(c["churned"]).to_numpy()
        date = pd.to_datetime(c["churn_date"])
        ids = c["customer_id"].astype("string")
        known = isin(ids, orders.loc[orders["order_date"] < start_ts, "customer_id"])
        if "signup_date" in c.columns:
            known = known | pd.to_datetime(c["signup_date"]).lt(start_ts).to_numpy()
        alive = known & ~(flag & date.lt(start_ts).to_numpy()) & ~(flag & date.isna().to_numpy())
        base = pd.Index(ids[alive])
        gone = pd.Index(
            ids[alive & flag & date.ge(start_ts).to_numpy() & date.lt(end_ts).to_numpy()]
        )
    else:
        raise ParamsError(f"unknown churn definition {definition!r}")
    lost = orders.loc[
        (orders["order_date"] >= start_ts - pd.Timedelta(days=int(revenue_days)))
        & (orders["order_date"] < start_ts)
        & isin(orders["customer_id"].astype("string"), gone),
        "amount",
    ].sum()
    n = len(base)
    return PeriodChurn(
        base=n,
        churned=len(gone),
        rate=len(gone) / n if n else float("nan"),
        revenue_lost=float(lost),
        customer_ids=tuple(sorted(map(str, gone))),
    )


# --------------------------------------------------------------------------- design matrix
def _binary_target(values: pd.Series, *, allow_missing: bool = False) -> pd.Series:
    """Boolean, 0/1 or yes/no-like values as float 0/1 (NaN where missing)."""
    s = pd.Series(values)
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    if pd.api.types.is_numeric_dtype(s):
        out = s.astype("float64")
        ok = out.isna() | out.isin([0.0, 1.0])
        if ok.all():
            return out
        raise ParamsError(
            "the churn target must be boolean, 0/1 or yes/no; it has other numbers "
            f"(e.g. {out[~ok].iloc[0]!r})"
        )
    text = s.astype("string").str.strip().str.lower()
    out = pd.Series(np.nan, index=s.index, dtype="float64")
    out[text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = 1.0
    out[text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = 0.0
    unknown = out.isna() & text.notna() & (text != "")
    if unknown.any():
        raise ParamsError(
            "the churn target must be boolean, 0/1 or yes/no; it has other values "
            f"(e.g. {s[unknown].iloc[0]!r})"
        )
    if not allow_missing and out.isna().all():
        raise ParamsError("the churn target has no values")
    return out


def _looks_numeric(values: pd.Series) -> pd.Series | None:
    """Text that is (almost) all numbers (e.g. "29.85", blanks) as floats, else None."""
    text = values.astype("string").str.strip()
    filled = (text.notna() & (text != "")).to_numpy(dtype=bool)
    if filled.sum() == 0:
        return None
    # parse each distinct text once (a category column has a handful of them)
    codes, uniques = pd.factorize(text.where(filled))
    numbers = pd.to_numeric(pd.Series(uniques, dtype="string"), errors="coerce")
    lookup = np.append(numbers.to_numpy(dtype="float64", na_value=np.nan), np.nan)
    parsed = lookup[codes]  # code -1 (missing) picks the trailing NaN
    if (~np.isnan(parsed[filled])).mean() >= 0.95:
        return pd.Series(parsed, index=values.index, name=values.name, dtype="float64")
    return None


def _classify_columns(
    frame: pd.DataFrame, columns: Sequence[str], *, max_levels: int, explicit: bool
) -> tuple[dict[str, str], dict[str, str]]:
    """Sort columns into ``numeric`` / ``categorical``; the rest go to ``dropped`` with why."""
    kinds: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for col in columns:
        values = frame[col]
        name = str(col)
        nonnull = values.dropna()
        if nonnull.empty:
            dropped[name] = "all_missing"
            continue
        if pd.api.types.is_datetime64_any_dtype(values) or isinstance(
            nonnull.iloc[0], pd.Timestamp
        ):
            dropped[name] = "date"
            continue
        unique = nonnull.nunique()
        if unique < 2:
            dropped[name] = "constant"
            continue
        id_name = _id_like_name(name)
        if pd.api.types.is_bool_dtype(values):
            kinds[name] = "categorical"
            continue
        if pd.api.types.is_numeric_dtype(values):
            if (
                not explicit
                and id_name
                and unique >= 0.9 * len(nonnull)
                and (
                    pd.api.types.is_integer_dtype(values)
                    or bool((nonnull == np.round(nonnull)).all())
                )
            ):
                dropped[name] = "id_like"
                continue
            kinds[name] = "numeric"
            continue
        numeric = _looks_numeric(values)
        if numeric is not None and numeric.nunique() > 20:
            kinds[name] = "numeric_text"
            continue
        if not explicit and (
            (id_name and unique >= 0.5 * len(nonnull))
            or (unique >= 0.9 * len(nonnull) and len(nonnull) > 20)
        ):
            dropped[name] = "id_like"
            continue
        if not explicit and _DATE_NAME.search(name) and unique > max_levels:
            parsed = pd.to_datetime(nonnull.astype("string"), errors="coerce", format="mixed")
            if parsed.notna().mean() > 0.9:
                dropped[name] = "date"
                continue
        kinds[name] = "categorical"
    return kinds, dropped


@dataclass
class _Design:
    """Turns a customer frame into the model matrix (fitted on the training frame).

    Numbers: missing values get the training mean plus a ``[missing]`` indicator term
    (when any are missing), then ``z = (x - mean) / sd`` with the training mean and
    population sd (ddof=0). Categories: one 0/1 term per level except the reference (the
    most frequent level; ties by name); missing is its own level ``(missing)``; levels
    with fewer than ``min_level_size`` rows are pooled into ``(other)``, which joins the
    reference level when it is itself that small (tiny groups would otherwise be
    separated perfectly by chance).
    """

    numeric: list[str]
    categorical: list[str]
    numeric_text: list[str]
    means: dict[str, float]
    sds: dict[str, float]
    with_missing: list[str]
    levels: dict[str, list[str]]
    reference: dict[str, str]
    pooled: dict[str, dict[str, str]]
    terms: list[str]
    term_feature: list[str]
    term_kind: list[str]
    term_level: list[object]

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        kinds: Mapping[str, str],
        *,
        min_level_size: int = 10,
        max_levels: int = 20,
    ) -> tuple[_Design, dict[str, str]]:
        dropped: dict[str, str] = {}
        numeric, numeric_text, categorical = [], [], []
        means, sds, with_missing = {}, {}, []
        levels, reference, pooled = {}, {}, {}
        terms, term_feature, term_kind, term_level = [], [], [], []
        for col, kind in kinds.items():
            if kind in ("numeric", "numeric_text"):
                x = _numeric_column(frame[col], kind)
                observed = x.dropna()
                if observed.nunique() < 2:
                    dropped[col] = "constant"
                    continue
                mean = float(observed.mean())
                filled = x.fillna(mean)
                sd = float(filled.std(ddof=0))
                if not math.isfinite(sd) or sd <= 0:
                    dropped[col] = "constant"
                    continue
                (numeric_text if kind == "numeric_text" else numeric).append(col)
                means[col], sds[col] = mean, sd
                terms.append(col)
                term_feature.append(col)
                term_kind.append("numeric")
                term_level.append(None)
                if x.isna().any():
                    with_missing.append(col)
                    terms.append(f"{col}[missing]")
                    term_feature.append(col)
                    term_kind.append("missing")
                    term_level.append(None)
            else:
                values = _category_values(frame[col])
                counts = values.value_counts()
                small = [lv for lv, k in counts.items() if k < min_level_size]
                mapping: dict[str, str] = {}
                if small and len(small) < len(counts):
                    big = counts.drop(small)
                    biggest = sorted(big.index, key=lambda lv: (-big[lv], str(lv)))[0]
                    pooled_size = int(counts[small].sum())
                    target = "(other)" if pooled_size >= min_level_size else biggest
                    mapping = {str(lv): target for lv in small}
                    values = values.replace(mapping)
                    counts = values.value_counts()
                if len(counts) < 2:
                    dropped[col] = "constant"
                    continue
                if len(counts) > max_levels:
                    dropped[col] = "too_many_levels"
                    continue
                ordered = sorted(counts.index, key=lambda lv: (-counts[lv], str(lv)))
                ref = ordered[0]
                others = sorted(ordered[1:], key=str)
                categorical.append(col)
                reference[col] = ref
                levels[col] = others
                pooled[col] = mapping
                for lv in others:
                    terms.append(f"{col}[{lv}]")
                    term_feature.append(col)
                    term_kind.append("level")
                    term_level.append(lv)
        design = cls(
            numeric=numeric,
            categorical=categorical,
            numeric_text=numeric_text,
            means=means,
            sds=sds,
            with_missing=with_missing,
            levels=levels,
            reference=reference,
            pooled=pooled,
            terms=terms,
            term_feature=term_feature,
            term_kind=term_kind,
            term_level=term_level,
        )
        return design, dropped

    @property
    def features(self) -> list[str]:
        return list(dict.fromkeys(self.term_feature))

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The model matrix (rows of ``frame``, one column per term; no constant)."""
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise DataError(
                f"column(s) {', '.join(map(repr, missing))} used by the model are missing",
                column=missing[0],
            )
        out = np.empty((len(frame), len(self.terms)), dtype="float64")
        cache: dict[str, pd.Series] = {}
        for j, (feature, kind, level) in enumerate(
            zip(self.term_feature, self.term_kind, self.term_level, strict=True)
        ):
            if kind in ("numeric", "missing"):
                if feature not in cache:
                    source = "numeric_text" if feature in self.numeric_text else "numeric"
                    cache[feature] = _numeric_column(frame[feature], source)
                x = cache[feature]
                if kind == "missing":
                    out[:, j] = x.isna().to_numpy(dtype="float64")
                else:
                    filled = x.fillna(self.means[feature]).to_numpy(dtype="float64")
                    out[:, j] = (filled - self.means[feature]) / self.sds[feature]
            else:
                if feature not in cache:
                    values = _category_values(frame[feature])
                    mapping = self.pooled.get(feature)
                    if mapping:
                        values = values.replace(mapping)
                    cache[feature] = values
                out[:, j] = (cache[feature] == level).to_numpy(dtype="float64")
        return out


def _numeric_column(values: pd.Series, kind: str) -> pd.Series:
    if kind == "numeric_text":
        parsed = _looks_numeric(values)
        if parsed is None:
            return pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
        return parsed
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):  # already numbers: no parsing needed
        x = values.to_numpy(dtype="float64", na_value=np.nan)
    else:
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(np.where(np.isfinite(x), x, np.nan), index=values.index, name=values.name)


def _category_values(values: pd.Series) -> pd.Series:
    text = pd.Series(values).astype("string").str.strip()
    return text.where(text.notna() & (text != ""), "(missing)").astype("object")


# --------------------------------------------------------------------------- logistic fits
@_one_blas_thread
def _drop_collinear(X: np.ndarray, terms: list[str]) -> list[int]:
    """Indices of terms to keep so that [1, X] has full column rank (QR with pivoting)."""
    if X.shape[1] == 0:
        return []
    full = np.column_stack([np.ones(len(X)), X])
    _, r, piv = linalg.qr(full, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    tol = diag.max() * max(full.shape) * np.finfo(float).eps * 1e3 if diag.size else 0
    rank = int((diag > tol).sum())
    kept = sorted(int(p) for p in piv[:rank])
    if 0 not in kept:  # the constant must stay; drop the last kept term instead
        kept = [0, *kept[:-1]]
    return [p - 1 for p in kept if p > 0]


def _firth_logit(
    X: np.ndarray, y: np.ndarray, *, max_iter: int = 200, tol: float = 1e-8
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Firth's bias-reduced logistic regression (Firth 1993; Heinze & Schemper 2002).

    Maximises ``l(b) + 0.5 log|X'WX|`` by Newton steps on the modified score
    ``X'(y - p + h (0.5 - p))`` (``h``: hat-matrix diagonal), with step halving. Estimates
    stay finite under (quasi-)complete separation. Returns params, covariance
    (``(X'WX)^-1`` at the estimate) and whether it converged.
    """
    beta = np.zeros(X.shape[1])

    def penalised(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        eta = X @ b
        p = special.expit(eta)
        w = np.clip(p * (1 - p), 1e-12, None)
        info = X.T @ (X * w[:, None])
        sign, logdet = np.linalg.slogdet(info)
        ll = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
        return ll + 0.5 * logdet if sign > 0 else -np.inf, p, info

    value, p, info = penalised(beta)
    converged = False
    for _ in range(max_iter):
        w = np.clip(p * (1 - p), 1e-12, None)
        inv = np.linalg.pinv(info)
        h = np.einsum("ij,jk,ik->i", X, inv, X) * w
        score = X.T @ (y - p + h * (0.5 - p))
        step = inv @ score
        step_max = np.abs(step).max()
        if step_max > 5:  # keep early steps sane
            step *= 5 / step_max
        for _half in range(30):
            candidate = beta + step
            new_value, new_p, new_info = penalised(candidate)
            if new_value >= value - 1e-12:
                break
            step = step / 2
        beta, value, p, info = candidate, new_value, new_p, new_info
        if np.abs(step).max() < tol:
            converged = True
            break
    return beta, np.linalg.pinv(info), converged


@dataclass
class _LogitFit:
    design: _Design
    kept: list[int]  # indices into design.terms
    params: np.ndarray  # constant first
    cov: np.ndarray
    penalised: bool
    converged: bool
    term_means: np.ndarray  # training mean of each kept term (for contributions)
    result: Any = None  # statsmodels results (None for the Firth fit)

    @property
    def terms(self) -> list[str]:
        return [self.design.terms[j] for j in self.kept]

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return self.design.transform(frame)[:, self.kept]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return special.expit(self.params[0] + self.matrix(frame) @ self.params[1:])


@_one_blas_thread
def _fit_logit(
    frame: pd.DataFrame,
    y: np.ndarray,
    kinds: Mapping[str, str],
    *,
    force_firth: bool = False,
) -> tuple[_LogitFit, dict[str, str]]:
    import statsmodels.api as sm  # noqa: PLC0415  (slow import, only when fitting)

    design, dropped = _Design.fit(frame, kinds)
    if not design.terms:
        raise ModelError("no usable feature is left for the churn model (see dropped_)")
    X = design.transform(frame)
    kept = _drop_collinear(X, design.terms)
    for j, term in enumerate(design.terms):
        if j not in kept:
            dropped[term] = "collinear"
    Xk = X[:, kept]
    Xc = np.column_stack([np.ones(len(Xk)), Xk])
    result, penalised, converged = None, False, True
    params = cov = None
    if not force_firth:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = sm.Logit(y, Xc).fit(method="newton", maxiter=100, disp=0)
                params = np.asarray(result.params, dtype="float64")
                cov = np.asarray(result.cov_params(), dtype="float64")
                converged = bool(result.mle_retvals.get("converged", True))
            except (np.linalg.LinAlgError, ValueError, OverflowError):
                result = None
    separated = (
        result is None
        or not converged
        or not np.all(np.isfinite(params))
        or not np.all(np.isfinite(np.diag(cov)))
        or np.abs(params[1:]).max(initial=0) > 12
        or np.sqrt(np.clip(np.diag(cov), 0, None)).max(initial=0) > 50
    )
    if force_firth or separated:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, cov, converged = _firth_logit(Xc, y)
        result, penalised = None, True
    fit = _LogitFit(
        design=design,
        kept=kept,
        params=params,
        cov=cov,
        penalised=penalised,
        converged=converged,
        term_means=Xk.mean(axis=0),
        result=result,
    )
    return fit, dropped


def _separating_features(frame: pd.DataFrame, y: np.ndarray, kinds: Mapping[str, str]) -> list[str]:
    """Features that on their own separate churners from the rest completely: a numeric
    threshold with every churner on one side, or a category whose levels each hold only
    one class. Usually the sign of a leak (a column recording the churn itself)."""
    out = []
    ones, zeros = y == 1, y == 0
    for col, kind in kinds.items():
        if kind in ("numeric", "numeric_text"):
            x = _numeric_column(frame[col], kind).to_numpy(dtype="float64")
            ok = np.isfinite(x)
            a, b = x[ok & ones], x[ok & zeros]
            if len(a) and len(b) and (a.min() > b.max() or a.max() < b.min()):
                out.append(col)
        else:
            values = _category_values(frame[col])
            mix = pd.crosstab(values, y)
            if mix.shape[1] == 2 and mix.shape[0] >= 2 and ((mix == 0).sum(axis=1) == 1).all():
                out.append(col)
    return out


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC of scores ``p`` for 0/1 labels ``y`` (NaN with a single class)."""
    return float(_auc_rows(y, np.asarray(p, dtype="float64")[None, :])[0])


def _auc_rows(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of ``scores`` (``m x n``) for the same 0/1 labels ``y``.

    The Mann-Whitney form, ``(R1 - n1 (n1 + 1) / 2) / (n1 n0)`` with ``R1`` the sum of the
    positives' average ranks (Hanley & McNeil 1982): the area under the ROC curve with ties
    counted one half, the value of ``sklearn.metrics.roc_auc_score``, without its per-call
    input checks (permutation importance scores dozens of rows at once).
    """
    positive = np.asarray(y, dtype="float64") == 1
    n1 = int(positive.sum())
    n0 = len(positive) - n1
    if n1 == 0 or n0 == 0:
        return np.full(len(scores), np.nan)
    ranks = stats.rankdata(scores, axis=1)
    return (ranks[:, positive].sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)


# --------------------------------------------------------------------------- cause model
@dataclass
class ChurnDrivers:
    """Result of :func:`churn_drivers`.

    Attributes
    ----------
    odds_ratios : DataFrame
        One row per model term: ``feature`` (the term: a column, ``col[level]`` for a
        category level vs the reference, ``col[missing]`` for "value missing"),
        ``odds_ratio`` (per standard deviation for numbers), ``ci_low``, ``ci_high`` (95%)
        and ``p_value``.
    summary : DataFrame
        The same terms with ``source`` (input column), ``kind`` (numeric / missing /
        level), ``level``, ``reference``, ``sd`` (of the column, for "per SD"), ``coef``,
        ``se`` and ``z``.
    auc_ : float
        Held-out AUC (out of time when ``test`` was given, else a stratified 25% split);
        NaN when it cannot be computed (see ``notes_``).
    auc_kind_ : str
        ``"out_of_time"``, ``"holdout"`` or ``"none"``.
    vif_ : DataFrame
        ``feature`` (term) and ``vif`` (variance inflation factor); above 10 means the term
        is nearly a combination of the others.
    n_, n_churned_ : int
        Rows fitted on, and churners among them.
    features_ : list of str
        Input columns the model uses.
    dropped_ : dict
        Column (or term) -> why it was left out: ``id_like``, ``date``, ``constant``,
        ``all_missing``, ``too_many_levels``, ``collinear``.
    reference_levels_ : dict
        Category column -> its reference level.
    separation_ : list of str
        Columns that on their own separate churners from the rest perfectly.
    penalised_ : bool
        Estimates come from Firth's penalised likelihood (separation, or no convergence).
    notes_ : list of str
        Codes of what the reader should know: ``penalised``, ``separation``,
        ``high_vif``, ``few_events``, ``single_class_test``, ``no_holdout``, ``missing_target``.
    """

    odds_ratios: pd.DataFrame
    summary: pd.DataFrame
    auc_: float
    auc_kind_: str
    vif_: pd.DataFrame
    n_: int
    n_churned_: int
    features_: list[str]
    dropped_: dict[str, str]
    reference_levels_: dict[str, object]
    separation_: list[str]
    penalised_: bool
    notes_: list[str]
    fit_: _LogitFit = field(repr=False)

    # ---- scoring ---------------------------------------------------------------------
    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Churn probability of each row of ``frame`` (same columns as the fit)."""
        return self.fit_.predict(frame)

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per-customer contribution of each input column to the log-odds of churn,
        relative to an average customer of the fit: ``sum_j b_j (x_ij - mean_j)`` over the
        column's terms. Positive = pushes this customer's churn risk up.

        Returns
        -------
        DataFrame
            Index of ``frame``, one column per feature in ``features_``.
        """
        X = self.fit_.matrix(frame)
        contrib = (X - self.fit_.term_means) * self.fit_.params[1:]
        sources = np.asarray([self.fit_.design.term_feature[j] for j in self.fit_.kept])
        out = np.zeros((len(frame), len(self.features_)), dtype="float64")
        for k, feature in enumerate(self.features_):
            cols = np.flatnonzero(sources == feature)
            if cols.size:
                out[:, k] = contrib[:, cols].sum(axis=1)
        return pd.DataFrame(out, index=frame.index, columns=self.features_)

    # ---- words -----------------------------------------------------------------------
    def sentences(self, language: str = "en", *, top: int = 3, alpha: float = 0.05) -> list[str]:
        """Plain-language sentences for the strongest significant drivers (associations,
        not causes), plus the caveats in ``notes_`` that change how to read them."""
        table = self.summary.loc[self.summary["p_value"] < alpha].copy()
        table["strength"] = np.abs(np.log(table["odds_ratio"]))
        table = table.sort_values("strength", ascending=False, kind="mergesort").head(top)
        out = [driver_sentence(row, language) for _, row in table.iterrows()]
        if not out:
            out.append(t("churn.sentence.none", language, alpha=alpha))
        if "separation" in self.notes_:
            out.append(
                t(
                    "churn.sentence.separation",
                    language,
                    features=", ".join(feature_label(f, language) for f in self.separation_),
                )
            )
        elif "penalised" in self.notes_:
            out.append(t("churn.sentence.penalised", language))
        high = self.vif_.loc[self.vif_["vif"] > 10, "feature"].tolist()
        if high:
            out.append(
                t(
                    "churn.sentence.high_vif",
                    language,
                    features=", ".join(term_label(self.summary, f, language) for f in high),
                )
            )
        return out


def churn_drivers(
    frame: pd.DataFrame,
    target: str | pd.Series,
    features: Sequence[str] | None = None,
    *,
    test: pd.DataFrame | None = None,
    test_size: float = 0.25,
    random_state: int = 0,
    max_levels: int = 20,
    min_customers: int = MIN_CUSTOMERS,
) -> ChurnDrivers:
    """Fit the interpretable churn model: a logistic regression with odds ratios.

    Works on any customer-level frame (ours, or a contractual export with arbitrary
    attribute columns); nothing but the target needs naming.

    * The target may be boolean, 0/1 or yes/no-like strings (``Yes``/``No``,
      ``true``/``false``, ``churned``, ``是``/``否``); rows with a missing target are left out.
    * Without ``features`` every column except the target is considered; id-like columns
      (``customerID``, ``*_id``, mostly-unique text or integer codes with an id name),
      dates, constants, empty columns and categories with more than ``max_levels`` levels
      are left out and listed in ``dropped_``. Text columns that hold numbers (with a few
      blanks) are read as numbers.
    * Categorical columns are one-hot encoded against a reference level (the most frequent);
      numeric columns are standardised (mean 0, sd 1), so odds ratios are per standard
      deviation. Missing numbers get the mean plus a ``[missing]`` indicator term.
    * statsmodels ``Logit`` (Newton). Under (quasi-)complete separation or without
      convergence the fit switches to Firth's penalised likelihood (finite estimates) and
      says so in ``notes_``; columns that separate on their own are named in ``separation_``.

    Parameters
    ----------
    frame
        One row per customer.
    target
        Name of the churn column in ``frame`` (and ``test``), or a Series aligned to
        ``frame``.
    features
        Columns to use; ``None`` = all usable ones. Named columns are never dropped as
        id-like.
    test
        A later snapshot with the same columns: the AUC is then measured out of time (fit
        on ``frame``, scored on ``test``). Without it, a stratified ``test_size`` split of
        ``frame`` is refitted to measure the held-out AUC; the odds ratios always come from
        the fit on all of ``frame``.
    test_size, random_state
        The hold-out split (``sklearn.model_selection.train_test_split`` with
        ``stratify=y``).
    max_levels
        Categories with more levels are left out.
    min_customers
        Fewer rows raise :class:`ModelError`.

    Returns
    -------
    ChurnDrivers

    Raises
    ------
    ModelError
        Fewer than ``min_customers`` rows, only one class in the target (no churner, or
        everyone churned), or no usable feature.
    ParamsError
        A target that is not boolean, 0/1 or yes/no, or an unknown feature name.

    Examples
    --------
    >>> result = churn_drivers(customers, "Churn")                     # doctest: +SKIP
    >>> result.odds_ratios.sort_values("p_value").head()               # doctest: +SKIP
    >>> result.auc_, result.sentences("en")                           # doctest: +SKIP
    """
    y_all, name = _target_values(frame, target)
    valid = y_all.notna().to_numpy()
    notes: list[str] = []
    if not valid.all():
        notes.append("missing_target")
    data = frame.loc[valid]
    y = y_all[valid].to_numpy(dtype="float64")
    if len(data) < min_customers:
        raise ModelError(
            f"only {len(data)} customers with a known churn status; the churn model needs "
            f"at least {min_customers}"
        )
    churners = int(y.sum())
    if churners == 0 or churners == len(y):
        what = "no customer churned" if churners == 0 else "every customer churned"
        raise ModelError(
            f"{what} ({len(y)} customers), so nothing distinguishes churners from the rest"
        )
    if features is None:
        columns = [c for c in data.columns if c != name]
        explicit = False
    else:
        unknown = [f for f in features if f not in data.columns]
        if unknown:
            raise ParamsError(
                f"churn feature(s) {', '.join(map(repr, unknown))} are not columns of the frame"
            )
        columns = [c for c in features if c != name]
        explicit = True
    kinds, dropped = _classify_columns(data, columns, max_levels=max_levels, explicit=explicit)
    if not kinds:
        raise ModelError("no usable feature for the churn model: " + _dropped_text(dropped))
    separation = _separating_features(data, y, kinds)
    fit, more = _fit_logit(data, y, kinds)
    dropped.update(more)
    if fit.penalised:
        notes.append("penalised")
    if separation:
        notes.append("separation")
    minority = min(churners, len(y) - churners)
    if minority < 10 * max(len(fit.kept), 1):
        notes.append("few_events")

    # held-out AUC
    auc, kind = float("nan"), "none"
    if test is not None:
        if name is None or name not in test.columns:
            raise ParamsError("the test frame needs the target column (name the target)")
        y_test_all, _ = _target_values(test, name)
        ok = y_test_all.notna().to_numpy()
        y_test = y_test_all[ok].to_numpy(dtype="float64")
        kind = "out_of_time"
        if len(np.unique(y_test)) < 2:
            notes.append("single_class_test")
        else:
            auc = _auc(y_test, fit.predict(test.loc[ok]))
    elif minority >= 4 and len(y) >= 8:
        from sklearn.model_selection import train_test_split  # noqa: PLC0415

        idx = np.arange(len(y))
        train_idx, test_idx = train_test_split(
            idx, test_size=test_size, random_state=random_state, stratify=y
        )
        kind = "holdout"
        part, _ = _fit_logit(data.iloc[train_idx], y[train_idx], kinds)
        auc = _auc(y[test_idx], part.predict(data.iloc[test_idx]))
    else:
        notes.append("no_holdout")

    summary = _summary_table(fit, data)
    vif = _vif(fit.matrix(data), fit.terms)
    if (vif["vif"] > 10).any():
        notes.append("high_vif")
    return ChurnDrivers(
        odds_ratios=summary[["feature", "odds_ratio", "ci_low", "ci_high", "p_value"]].copy(),
        summary=summary,
        auc_=auc,
        auc_kind_=kind,
        vif_=vif,
        n_=len(y),
        n_churned_=churners,
        features_=fit.design.features,
        dropped_=dropped,
        reference_levels_=dict(fit.design.reference),
        separation_=separation,
        penalised_=fit.penalised,
        notes_=notes,
        fit_=fit,
    )


def _target_values(frame: pd.DataFrame, target: str | pd.Series) -> tuple[pd.Series, str | None]:
    if isinstance(target, str):
        if target not in frame.columns:
            raise ParamsError(f"target column {target!r} is not in the frame")
        return _binary_target(frame[target], allow_missing=True), target
    series = pd.Series(target)
    if len(series) != len(frame):
        raise ParamsError("the target Series must have one value per row of the frame")
    values = _binary_target(series.reset_index(drop=True), allow_missing=True)
    values.index = frame.index
    return values, series.name if isinstance(series.name, str) else None


def _dropped_text(dropped: Mapping[str, str]) -> str:
    return ", ".join(f"{k} ({v})" for k, v in dropped.items()) or "(no columns)"


def _summary_table(fit: _LogitFit, frame: pd.DataFrame) -> pd.DataFrame:
    design = fit.design
    se = np.sqrt(np.clip(np.diag(fit.cov), 0, None))
    coef = fit.params[1:]
    se = se[1:]
    z = np.divide(coef, se, out=np.full_like(coef, np.nan), where=se > 0)
    p = 2 * stats.norm.sf(np.abs(z))
    rows = []
    for k, j in enumerate(fit.kept):
        feature = design.term_feature[j]
        kind = design.term_kind[j]
        rows.append(
            {
                "feature": design.terms[j],
                "source": feature,
                "kind": kind,
                "level": design.term_level[j],
                "reference": design.reference.get(feature),
                "sd": design.sds.get(feature, np.nan) if kind == "numeric" else np.nan,
                "mean": design.means.get(feature, np.nan) if kind == "numeric" else np.nan,
                "coef": coef[k],
                "se": se[k],
                "z": z[k],
                "p_value": p[k],
                "odds_ratio": math.exp(coef[k]),
                "ci_low": math.exp(coef[k] - _Z95 * se[k]),
                "ci_high": math.exp(coef[k] + _Z95 * se[k]),
            }
        )
    columns = [
        "feature",
        "source",
        "kind",
        "level",
        "reference",
        "sd",
        "mean",
        "coef",
        "se",
        "z",
        "p_value",
        "odds_ratio",
        "ci_low",
        "ci_high",
    ]
    return pd.DataFrame(rows, columns=columns)


@_one_blas_thread
def _vif(X: np.ndarray, terms: list[str]) -> pd.DataFrame:
    """Variance inflation factors: the diagonal of the inverse correlation matrix."""
    if X.shape[1] < 2:
        return pd.DataFrame({"feature": terms, "vif": np.ones(len(terms))})
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(X, rowvar=False)
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    vif = np.diag(np.linalg.pinv(corr))
    return pd.DataFrame({"feature": terms, "vif": np.maximum(vif, 1.0)})


# --------------------------------------------------------------------------- wording
def feature_label(feature: str, language: str = "en") -> str:
    """Display name of a feature (``churn.feature.<name>``), else the column name."""
    key = f"churn.feature.{feature}"
    names = catalog(language)
    return names[key] if key in names else str(feature)


def level_label(feature: str, level: object, language: str = "en") -> str:
    """Display name of a category level (``churn.level.<feature>.<level>``; customer
    types reuse ``overview.type.*``), else the level itself."""
    if level == "(missing)":
        return t("churn.level.missing", language)
    if level == "(other)":
        return t("churn.level.other", language)
    names = catalog(language)
    key = f"churn.level.{feature}.{level}"
    if key in names:
        return names[key]
    if feature == "customer_type" and f"overview.type.{level}" in names:
        return names[f"overview.type.{level}"]
    return str(level)


def term_label(summary: pd.DataFrame, term: str, language: str = "en") -> str:
    """Display name of a model term: ``Customer type: Enterprise (vs Individual)``."""
    row = summary.loc[summary["feature"] == term]
    if row.empty:
        return str(term)
    row = row.iloc[0]
    name = feature_label(row["source"], language)
    if row["kind"] == "level":
        return t(
            "churn.term.level",
            language,
            feature=name,
            level=level_label(row["source"], row["level"], language),
            reference=level_label(row["source"], row["reference"], language),
        )
    if row["kind"] == "missing":
        return t("churn.term.missing", language, feature=name)
    return name


def _fmt_sd(source: str, sd: float, language: str) -> str:
    if source in ("discount_share", "return_rate") or source.startswith("share_"):
        return f"{sd * 100:.1f} {t('churn.unit.pct_points', language)}"
    if source in ("tenure_days", "recency_days"):
        return f"{sd:,.0f} {t('churn.unit.days', language)}"
    if abs(sd) >= 100:
        return f"{sd:,.0f}"
    return f"{sd:,.2g}" if abs(sd) < 1 else f"{sd:,.1f}"


def driver_sentence(row: pd.Series, language: str = "en") -> str:
    """One sentence for one row of :attr:`ChurnDrivers.summary`."""
    ratio = row["odds_ratio"]
    values = dict(
        ratio=f"{ratio:.2f}",
        low=f"{row['ci_low']:.2f}",
        high=f"{row['ci_high']:.2f}",
        feature=feature_label(row["source"], language),
    )
    direction = "up" if ratio > 1 else "down"
    if row["kind"] == "level":
        return t(
            f"churn.sentence.level_{direction}",
            language,
            level=level_label(row["source"], row["level"], language),
            reference=level_label(row["source"], row["reference"], language),
            **values,
        )
    if row["kind"] == "missing":
        return t(f"churn.sentence.missing_{direction}", language, **values)
    return t(
        f"churn.sentence.numeric_{direction}",
        language,
        sd=_fmt_sd(str(row["source"]), float(row["sd"]), language),
        **values,
    )


# --------------------------------------------------------------------------- predictive
class ChurnRiskModel:
    """Gradient-boosted churn risk model (``HistGradientBoostingClassifier``).

    Numbers go in as they are (missing values are handled natively); text and boolean
    columns become categorical features (at most ``max_levels`` levels; rarer ones pooled).
    Id-like and date columns are left out as in :func:`churn_drivers`.

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to ``HistGradientBoostingClassifier``.
    max_levels
        Most levels kept per categorical column.
    n_threads
        OpenMP threads for fitting and scoring (``None``: all cores). The default of one
        suits report runs, which execute several notebooks side by side
        (``segreport run --jobs N``): more threads than free cores make OpenMP spin and
        run several times slower.
    random_state
        Seed of the booster.

    Attributes
    ----------
    features_ : list of str
        Columns used, in matrix order.
    categorical_ : dict
        Categorical column -> its known levels (code = position).
    model_ : HistGradientBoostingClassifier
    dropped_ : dict
        Columns left out and why.
    """

    def __init__(
        self,
        *,
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        max_levels: int = 30,
        n_threads: int | None = 1,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.n_threads = n_threads
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_levels = max_levels
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame, y: Sequence[object] | pd.Series) -> ChurnRiskModel:
        """Fit on a feature frame and the churn labels (bool, 0/1 or yes/no)."""
        from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: PLC0415

        target = _binary_target(pd.Series(np.asarray(y)), allow_missing=False)
        if target.isna().any():
            raise ParamsError("the churn labels of the risk model must not be missing")
        labels = target.to_numpy(dtype=int)
        if len(np.unique(labels)) < 2:
            raise ModelError("the risk model needs churners and non-churners to learn from")
        kinds, dropped = _classify_columns(
            frame, list(frame.columns), max_levels=10**9, explicit=False
        )
        self.features_ = list(kinds)
        self.kinds_ = kinds
        self.categorical_: dict[str, list[str]] = {}
        for col, kind in kinds.items():
            if kind == "categorical":
                counts = _category_values(frame[col]).value_counts()
                levels = sorted(counts.index[: self.max_levels].map(str))
                self.categorical_[col] = levels
        self.dropped_ = dropped
        X = self._matrix(frame)
        mask = [c in self.categorical_ for c in self.features_]
        self.model_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=mask if any(mask) else None,
            early_stopping=False,
            random_state=self.random_state,
        )
        with warnings.catch_warnings(), self._threads():
            warnings.simplefilter("ignore")
            self.model_.fit(X, labels)
        return self

    def _threads(self) -> Any:
        return _thread_limits(openmp=self.n_threads)

    def _predict_matrix(self, X: np.ndarray) -> np.ndarray:
        with self._threads():
            return self.model_.predict_proba(X)[:, 1]

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(frame), len(self.features_)), dtype="float64")
        for j, col in enumerate(self.features_):
            if col not in frame.columns:
                raise DataError(f"column {col!r} used by the risk model is missing", column=col)
            if col in self.categorical_:
                values = _category_values(frame[col]).astype(str)
                codes = pd.Index(self.categorical_[col]).get_indexer(values)
                out[:, j] = np.where(codes < 0, np.nan, codes)
            else:
                out[:, j] = _numeric_column(frame[col], self.kinds_[col]).to_numpy(dtype="float64")
        return out

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Churn probability per row."""
        if not hasattr(self, "model_"):
            raise ModelError("the risk model is not fitted")
        return self._predict_matrix(self._matrix(frame))


def gains_table(y: Sequence[int], p: Sequence[float], *, bins: int = 10) -> pd.DataFrame:
    """Lift / gains by score decile (highest risk first).

    Returns
    -------
    DataFrame
        ``decile`` (1 = highest scores), ``customers``, ``churners``, ``churn_rate``,
        ``lift`` (rate / overall rate), ``cumulative_share`` (of customers),
        ``cumulative_capture`` (share of all churners in deciles 1..k) and
        ``cumulative_lift``.
    """
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    n = len(y)
    order = np.argsort(-p, kind="mergesort")
    decile = np.empty(n, dtype=int)
    decile[order] = np.minimum((np.arange(n) * bins) // max(n, 1), bins - 1) + 1
    frame = pd.DataFrame({"decile": decile, "y": y})
    g = frame.groupby("decile")["y"].agg(["size", "sum"]).reindex(range(1, bins + 1), fill_value=0)
    overall = y.mean() if n else np.nan
    out = pd.DataFrame(
        {
            "decile": g.index.to_numpy(),
            "customers": g["size"].to_numpy(dtype=int),
            "churners": g["sum"].to_numpy(dtype=int),
        }
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["churn_rate"] = out["churners"] / out["customers"].where(out["customers"] > 0)
        out["lift"] = out["churn_rate"] / overall if overall > 0 else np.nan
        out["cumulative_share"] = out["customers"].cumsum() / n if n else np.nan
        total = out["churners"].sum()
        out["cumulative_capture"] = out["churners"].cumsum() / total if total else np.nan
        out["cumulative_lift"] = (
            out["cumulative_capture"] / out["cumulative_share"] if total else np.nan
        )
    return out


def calibration_table(y: Sequence[int], p: Sequence[float], *, bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed churn rate in quantile bins of the prediction
    (``sklearn.calibration.calibration_curve`` with ``strategy="quantile"``), with counts."""
    from sklearn.calibration import calibration_curve  # noqa: PLC0415

    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    if len(np.unique(y)) < 2:
        return pd.DataFrame(columns=["predicted", "observed", "customers"])
    bins = max(2, min(bins, len(np.unique(p))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="quantile")
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    counts = np.histogram(p, bins=edges)[0] if len(edges) > 1 else np.array([len(p)])
    counts = counts[counts > 0]
    if len(counts) != len(observed):
        counts = np.full(len(observed), np.nan)
    return pd.DataFrame({"predicted": predicted, "observed": observed, "customers": counts})


@dataclass
class RiskEvaluation:
    """Held-out evaluation of a :class:`ChurnRiskModel` (see :func:`evaluate_risk_model`).

    Attributes
    ----------
    auc_ : float
        ROC AUC on the evaluation labels (NaN with a single class).
    brier_ : float
        Mean squared error of the probabilities.
    base_rate_ : float
        Churn rate of the evaluation set.
    calibration : DataFrame
        :func:`calibration_table`.
    gains : DataFrame
        :func:`gains_table`.
    top_decile_lift_ : float
        Churn rate of the riskiest 10% / overall rate.
    importance : DataFrame
        ``feature``, ``importance`` (mean AUC drop when the column is shuffled), ``std``;
        most important first.
    partial_dependence : dict
        Feature -> DataFrame ``value``, ``churn_probability`` (average prediction with the
        feature set to ``value`` for everyone), for the top numeric features.
    notes_ : list of str
        ``single_class_test`` when AUC, lift and importance cannot be computed.
    """

    auc_: float
    brier_: float
    base_rate_: float
    n_: int
    calibration: pd.DataFrame
    gains: pd.DataFrame
    top_decile_lift_: float
    importance: pd.DataFrame
    partial_dependence: dict[str, pd.DataFrame]
    notes_: list[str]


def evaluate_risk_model(
    model: ChurnRiskModel,
    frame: pd.DataFrame,
    y: Sequence[object] | pd.Series,
    *,
    bins: int = 10,
    importance_rows: int = 1500,
    n_repeats: int = 3,
    top_dependence: int = 3,
    random_state: int = 0,
) -> RiskEvaluation:
    """AUC, calibration, gains/lift, permutation importance and partial dependence of a
    fitted risk model on held-out (ideally later) customers.

    Permutation importance (drop in ROC AUC, ``n_repeats`` shuffles) and partial
    dependence (``kind="average"``, 15-point grid between the 5th and 95th percentiles)
    run on at most ``importance_rows`` customers sampled with ``random_state``.
    """
    labels = _binary_target(pd.Series(np.asarray(y)), allow_missing=False).to_numpy(dtype=int)
    X = model._matrix(frame)
    p = model._predict_matrix(X)
    notes: list[str] = []
    single = len(np.unique(labels)) < 2
    if single:
        notes.append("single_class_test")
    gains = gains_table(labels, p, bins=bins)
    rng = np.random.default_rng(random_state)
    sample = (
        rng.choice(len(X), size=importance_rows, replace=False)
        if len(X) > importance_rows
        else np.arange(len(X))
    )
    Xs = X[sample]
    # per-tree scores of the sample: a changed column only re-runs the trees reading it
    trees = _TreeScores.build(model, Xs)
    if single:
        importance = pd.DataFrame(columns=["feature", "importance", "std"])
    else:
        importance = _permutation_importance(
            model,
            Xs,
            labels[sample],
            n_repeats=n_repeats,
            random_state=random_state,
            trees=trees,
        )
    dependence: dict[str, pd.DataFrame] = {}
    ranked = importance["feature"].tolist() if not importance.empty else model.features_
    numeric = [f for f in ranked if f not in model.categorical_]
    for feature in numeric[:top_dependence]:
        j = model.features_.index(feature)
        column = Xs[:, j]
        if np.isfinite(column).sum() < 10 or np.nanstd(column) == 0:
            continue
        curve = _partial_dependence(model, Xs, j, trees=trees)
        if curve is not None:
            grid, average = curve
            dependence[feature] = pd.DataFrame({"value": grid, "churn_probability": average})
    return RiskEvaluation(
        auc_=float("nan") if single else _auc(labels, p),
        brier_=float(np.mean((p - labels) ** 2)) if len(p) else float("nan"),
        base_rate_=float(labels.mean()) if len(labels) else float("nan"),
        n_=len(labels),
        calibration=calibration_table(labels, p, bins=bins),
        gains=gains,
        top_decile_lift_=float(gains.loc[0, "lift"]) if not single else float("nan"),
        importance=importance,
        partial_dependence=dependence,
        notes_=notes,
    )


class _TreeScores:
    """Per-tree raw scores of a fitted binary ``HistGradientBoostingClassifier`` on rows
    ``X``, to re-score ``X`` with one column changed by re-running only the trees that
    split on that column: the other trees' outputs cannot change. Permutation importance
    and partial dependence change one column at a time, and a tree splits on a few of the
    columns, so this does a fraction of the work of scoring every changed copy in full.

    Exact: the tree outputs are added up in the booster's own order (baseline, then tree
    after tree), so the probabilities are ``predict_proba``'s bit for bit, ties included
    (AUC counts ties). It reads scikit-learn internals (the trees of ``_predictors``, the
    column order of the categorical preprocessing), so :meth:`build` checks its
    probabilities of ``X`` against ``predict_proba`` and returns None when anything
    differs; callers then score in full.
    """

    def __init__(self, model: ChurnRiskModel, X: np.ndarray) -> None:
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads  # noqa: PLC0415

        booster = model.model_
        if booster.n_trees_per_iteration_ != 1:
            raise TypeError("not a binary booster")
        is_categorical = getattr(booster, "is_categorical_", None)
        if is_categorical is None or getattr(booster, "_preprocessor", None) is None:
            order = np.arange(X.shape[1])
        else:  # the preprocessing puts the categorical columns first (stable)
            mask = np.asarray(is_categorical, dtype=bool)
            order = np.r_[np.flatnonzero(mask), np.flatnonzero(~mask)]
        self.position = np.empty(len(order), dtype=int)  # input column -> booster column
        self.position[order] = np.arange(len(order))
        self.X = np.ascontiguousarray(X[:, order], dtype="float64")
        self.baseline = float(np.ravel(booster._baseline_prediction)[0])
        self.trees = [tree for iteration in booster._predictors for tree in iteration]
        self.splits_on = [
            set(np.unique(tree.nodes["feature_idx"][tree.nodes["is_leaf"] == 0]).tolist())
            for tree in self.trees
        ]
        self.bitsets, self.f_idx_map = booster._bin_mapper.make_known_categories_bitsets()
        self.n_threads = _openmp_effective_n_threads(model.n_threads)
        self.threads = model._threads
        with self.threads():
            self.per_tree = [self._predict(tree, self.X) for tree in self.trees]
        self.raw = self._add_up({}, (len(X),))

    @classmethod
    def build(cls, model: ChurnRiskModel, X: np.ndarray) -> _TreeScores | None:
        if not len(X):
            return None
        try:
            scores = cls(model, X)
            reference = model._predict_matrix(X)
        except (ImportError, AttributeError, TypeError, ValueError, KeyError, IndexError):
            return None
        return scores if np.array_equal(scores.proba(scores.raw), reference) else None

    @staticmethod
    def proba(raw: np.ndarray) -> np.ndarray:
        return special.expit(raw)

    def _predict(self, tree: Any, X: np.ndarray) -> np.ndarray:
        return tree.predict(X, self.bitsets, self.f_idx_map, self.n_threads)

    def _add_up(self, changed: dict[int, np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        """Baseline plus every tree's output, in the booster's order; ``changed`` replaces
        the outputs of some trees (broadcast against ``shape``)."""
        raw = np.zeros(shape) + self.baseline
        for k, scores in enumerate(self.per_tree):
            raw += changed.get(k, scores)
        return raw

    def proba_with(self, column: int, values: np.ndarray) -> np.ndarray:
        """Probabilities of the rows with input ``column`` set to each row of ``values``
        (``m x n``): an ``m x n`` array."""
        j = self.position[column]
        m, n = values.shape
        changed = np.repeat(self.X[None, :, :], m, axis=0)
        changed[:, :, j] = values
        changed = changed.reshape(m * n, -1)
        with self.threads():
            outputs = {
                k: self._predict(tree, changed).reshape(m, n)
                for k, (tree, used) in enumerate(zip(self.trees, self.splits_on, strict=True))
                if j in used
            }
        return self.proba(self._add_up(outputs, (m, n)))


def _permutation_importance(
    model: ChurnRiskModel,
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_repeats: int = 5,
    random_state: int = 0,
    trees: _TreeScores | None = None,
) -> pd.DataFrame:
    """Permutation importance (Breiman 2001; Fisher, Rudin & Dominici 2019): the mean drop
    in ROC AUC when one column is shuffled, over ``n_repeats`` shuffles.

    With ``trees`` (:class:`_TreeScores` of ``X``) a shuffled column only re-runs the
    trees that split on it; otherwise all shuffled copies are scored in one batch (scoring
    has a fixed cost per call). Both give the same numbers.
    """
    rng = np.random.default_rng(random_state)
    n, k = X.shape
    permutations = [[rng.permutation(n) for _ in range(n_repeats)] for _ in range(k)]
    if trees is not None:
        base = _auc(y, trees.proba(trees.raw))
        scores = np.concatenate(
            [
                trees.proba_with(j, np.stack([X[perm, j] for perm in permutations[j]]))
                for j in range(k)
            ]
        )
    else:
        base = _auc(y, model._predict_matrix(X))
        batch = np.repeat(X[None, :, :], k * n_repeats, axis=0)
        for j in range(k):
            for r, perm in enumerate(permutations[j]):
                batch[j * n_repeats + r, :, j] = X[perm, j]
        scores = model._predict_matrix(batch.reshape(-1, k)).reshape(k * n_repeats, n)
    drops = (base - _auc_rows(y, scores)).reshape(k, n_repeats)
    return (
        pd.DataFrame(
            {"feature": model.features_, "importance": drops.mean(axis=1), "std": drops.std(axis=1)}
        )
        .sort_values("importance", ascending=False, kind="mergesort")
        .reset_index(drop=True)
    )


def _partial_dependence(
    model: ChurnRiskModel,
    X: np.ndarray,
    column: int,
    *,
    grid_resolution: int = 15,
    percentiles: tuple[float, float] = (0.05, 0.95),
    trees: _TreeScores | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Partial dependence of the churn probability on one column (Friedman 2001): the
    average prediction over the rows of ``X`` with the column set to each grid value.

    The grid is that of ``sklearn.inspection.partial_dependence`` (``method="brute"``):
    the distinct values when there are fewer than ``grid_resolution``, else evenly spaced
    values between the ``percentiles`` of the column; None when those percentiles
    coincide (no grid). With ``trees`` only the trees that split on the column are re-run;
    otherwise scikit-learn computes it. Returns ``(grid, average)``.
    """
    if trees is None:
        from sklearn.inspection import partial_dependence  # noqa: PLC0415

        with warnings.catch_warnings(), model._threads():
            warnings.simplefilter("ignore")
            try:
                result = partial_dependence(
                    model.model_,
                    X,
                    [column],
                    kind="average",
                    response_method="predict_proba",
                    method="brute",
                    grid_resolution=grid_resolution,
                    percentiles=percentiles,
                )
            except ValueError:  # the percentiles coincide
                return None
        return result["grid_values"][0], result["average"][0]
    from scipy.stats.mstats import mquantiles  # noqa: PLC0415  (as scikit-learn's grid)

    values = X[:, column]
    grid = np.unique(values)
    if len(grid) >= grid_resolution:
        low, high = np.asarray(mquantiles(values, prob=percentiles, axis=0), dtype="float64")
        if np.allclose(low, high):
            return None
        grid = np.linspace(low, high, num=grid_resolution, endpoint=True)
    proba = trees.proba_with(column, np.repeat(grid[:, None], len(X), axis=1))
    return grid, proba.mean(axis=1)


def random_cv_auc(
    frame: pd.DataFrame,
    target: str,
    *,
    kind: str = "boosting",
    features: Sequence[str] | None = None,
    folds: int = 3,
    random_state: int = 0,
    **model_options: object,
) -> tuple[float, float]:
    """Mean and sd of the AUC over stratified random folds of one snapshot.

    Shown next to the out-of-time AUC, never instead of it: random folds mix customers of
    the same moment, so they tend to flatter a model that will score the future.
    ``kind`` is ``"boosting"`` (:class:`ChurnRiskModel`) or ``"logistic"`` (the
    :func:`churn_drivers` model). NaNs when a class has fewer members than ``folds``.
    """
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415

    y = _binary_target(frame[target], allow_missing=False).to_numpy(dtype=int)
    columns = [c for c in (features or frame.columns) if c != target]
    if np.bincount(y, minlength=2).min() < folds:
        return float("nan"), float("nan")
    scores = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        train, test = frame.iloc[train_idx], frame.iloc[test_idx]
        if kind == "boosting":
            model = ChurnRiskModel(random_state=random_state, **model_options)
            model.fit(train[columns], y[train_idx])
            p = model.predict_proba(test[columns])
        elif kind == "logistic":
            kinds, _ = _classify_columns(
                train, columns, max_levels=20, explicit=features is not None
            )
            fit, _ = _fit_logit(train, y[train_idx].astype(float), kinds)
            p = fit.predict(test)
        else:
            raise ParamsError(f"kind must be 'boosting' or 'logistic', got {kind!r}")
        scores.append(_auc(y[test_idx], p))
    return float(np.nanmean(scores)), float(np.nanstd(scores))


# --------------------------------------------------------------------------- survival
def followup_table(
    orders: pd.DataFrame,
    snapshot: object,
    until: object,
    window_days: int,
    *,
    definition: str = "noncontractual",
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Time from a snapshot to churn, for the customers active at the snapshot.

    Non-contractual: active = a purchase in the ``window_days`` before the snapshot; churn
    happens the day ``window_days`` pass without a purchase (the first gap longer than the
    window from the last purchase before the snapshot on). Contractual: customers not
    churned before the snapshot; churn on ``churn_date``. Follow-up ends at ``until``
    (exclusive): customers not churned by then are censored.

    Returns
    -------
    DataFrame
        Index ``customer_id``; ``duration`` (days after the snapshot, >= 1) and ``event``
        (bool, churned within the follow-up).
    """
    s, end = _ts(snapshot, "snapshot"), _ts(until, "until")
    if end <= s:
        raise ParamsError("the follow-up must end after the snapshot")
    horizon = float((end - s).days)
    W = int(window_days)
    if definition == "contractual":
        if customers is None:
            raise DataError("the contractual churn definition needs a customers table")
        labels = churn_labels(
            orders, s, max(int(horizon), 1), definition=definition, customers=customers
        )
        c = customers.drop_duplicates("customer_id").set_index(
            customers["customer_id"].astype("string").rename("customer_id")
        )
        date = pd.to_datetime(c["churn_date"]).reindex(labels.index)
        days = (date - s).dt.days.astype("float64") + 1
        event = labels.to_numpy(dtype=bool)
        duration = np.where(event, days.to_numpy(), horizon)
        return pd.DataFrame(
            {"duration": np.clip(duration, 1, None), "event": event}, index=labels.index
        )
    if definition != "noncontractual":
        raise ParamsError(f"unknown churn definition {definition!r}")
    days = _purchase_days(orders, s - pd.Timedelta(days=W), end)
    active = days.loc[days["day"] < s, "customer_id"].unique()
    days = days.loc[isin(days["customer_id"], active)]
    last_before = days.loc[days["day"] < s].groupby("customer_id", observed=True)["day"].max()
    days = days.loc[days["day"] >= days["customer_id"].map(last_before).astype("datetime64[ns]")]
    days = days.sort_values(["customer_id", "day"], kind="mergesort")
    nxt = days.groupby("customer_id", observed=True)["day"].shift(-1)
    gap = (nxt - days["day"]).dt.days.astype("float64").fillna(np.inf).to_numpy()
    churn_day = (days["day"] - s).dt.days.to_numpy(dtype="float64") + W + 1
    first = (
        pd.DataFrame(
            {
                "customer_id": days["customer_id"].to_numpy(),
                "t": np.where(gap > W, churn_day, np.inf),
            }
        )
        .groupby("customer_id", observed=True)["t"]
        .min()
    )
    event = first.to_numpy() <= horizon
    out = pd.DataFrame(
        {"duration": np.where(event, first.to_numpy(), horizon), "event": event},
        index=pd.Index(first.index.astype("string"), name="customer_id"),
    )
    out["duration"] = out["duration"].clip(lower=1)
    return out.sort_index()


def km_curves(
    frame: pd.DataFrame,
    *,
    duration: str = "duration",
    event: str = "event",
    group: str | None = None,
    min_group: int = 30,
) -> pd.DataFrame:
    """Kaplan-Meier survival curves (statsmodels ``SurvfuncRight``), overall or per group.

    Pointwise 95% intervals use the log(-log) transform. Groups with fewer than
    ``min_group`` customers are left out (``attrs["omitted"]``).

    Returns
    -------
    DataFrame
        ``group`` (``"all"`` without ``group``), ``time``, ``survival``, ``ci_low``,
        ``ci_high``, ``at_risk``, ``customers``; each curve starts at time 0 with survival 1.
        ``attrs["medians"]``: group -> median time to churn (NaN when not reached).
    """
    from statsmodels.duration.survfunc import SurvfuncRight  # noqa: PLC0415

    parts, omitted, medians = [], [], {}
    groups = (
        [("all", frame)]
        if group is None
        else [
            (g, part)
            for g, part in frame.groupby(
                frame[group].astype("object").where(frame[group].notna(), "(missing)"),
                sort=True,
            )
        ]
    )
    for name, part in groups:
        if len(part) < min_group:
            omitted.append(name)
            continue
        time = part[duration].to_numpy(dtype="float64")
        status = part[event].to_numpy(dtype=float)
        if status.sum() == 0:
            curve = pd.DataFrame(
                {
                    "time": [0.0, time.max()],
                    "survival": [1.0, 1.0],
                    "ci_low": [1.0, 1.0],
                    "ci_high": [1.0, 1.0],
                    "at_risk": [len(part), int((time >= time.max()).sum())],
                }
            )
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sf = SurvfuncRight(time, status)
            s = np.asarray(sf.surv_prob, dtype="float64")
            se = np.asarray(sf.surv_prob_se, dtype="float64")
            with np.errstate(divide="ignore", invalid="ignore"):
                log_s = np.log(s)
                se_ll = se / (s * np.abs(log_s))
                low = s ** np.exp(_Z95 * se_ll)
                high = s ** np.exp(-_Z95 * se_ll)
            low = np.where(np.isfinite(low), low, s)
            high = np.where(np.isfinite(high), high, s)
            curve = pd.DataFrame(
                {
                    "time": np.r_[0.0, sf.surv_times],
                    "survival": np.r_[1.0, s],
                    "ci_low": np.r_[1.0, low],
                    "ci_high": np.r_[1.0, high],
                    "at_risk": np.r_[len(part), sf.n_risk],
                }
            )
            last_t = float(time.max())
            if curve["time"].iloc[-1] < last_t:  # carry the curve to the end of follow-up
                tail = curve.iloc[[-1]].assign(time=last_t, at_risk=int((time >= last_t).sum()))
                curve = pd.concat([curve, tail], ignore_index=True)
        below = curve.loc[curve["survival"] <= 0.5, "time"]
        medians[name] = float(below.iloc[0]) if len(below) else float("nan")
        parts.append(curve.assign(group=name, customers=len(part)))
    columns = ["group", "time", "survival", "ci_low", "ci_high", "at_risk", "customers"]
    out = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    out.attrs["omitted"] = omitted
    out.attrs["medians"] = medians
    return out


@_one_blas_thread
def _cox_efron(
    duration: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray]:
    """Cox proportional-hazards coefficients and their covariance (the inverse of the
    observed information at the estimate), by Newton-Raphson with step halving on Efron's
    (1977) approximation of the partial likelihood for tied times: the model of
    statsmodels ``PHReg(ties="efron")``, vectorised over event times (``PHReg`` loops
    over them in Python).

    With ``d`` events ``D`` at a time whose risk set is ``R``, the ``l``-th of its ``d``
    factors (``l = 0..d-1``) has the denominator ``phi = S0(R) - l/d S0(D)``, with
    ``S0(A) = sum_A exp(x b)``; first and second derivatives use ``S1 = sum x exp(x b)`` and
    ``S2 = sum x x' exp(x b)`` the same way. ``S2`` is never formed per event time: the
    weights of ``1/phi`` are accumulated per row instead.
    """
    order = np.argsort(duration, kind="mergesort")
    time, dead, X = duration[order], event[order].astype(bool), X[order]
    n, p = X.shape
    times, ties = np.unique(time[dead], return_counts=True)
    first_at_risk = np.searchsorted(time, times, side="left")  # risk set: rows from here on
    k_event = np.searchsorted(times, time[dead])  # event time of each event row
    k_pair = np.repeat(np.arange(len(times)), ties)  # one (time, l) pair per event
    frac = (np.arange(len(k_pair)) - np.repeat(np.cumsum(ties) - ties, ties)) / ties[k_pair]
    times_up_to = np.searchsorted(times, time, side="right")  # event times <= each row's
    x_dead = X[dead].sum(axis=0)

    def parts(beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        eta = X @ beta
        top = eta.max(initial=0.0)
        w = np.exp(eta - top)  # scaled by exp(-top); the ratios below do not change
        wx = X * w[:, None]
        s0_risk = np.cumsum(w[::-1])[::-1][first_at_risk]
        s1_risk = np.cumsum(wx[::-1], axis=0)[::-1][first_at_risk]
        s0_dead = np.bincount(k_event, weights=w[dead], minlength=len(times))
        s1_dead = np.zeros((len(times), p))
        np.add.at(s1_dead, k_event, wx[dead])
        phi = s0_risk[k_pair] - frac * s0_dead[k_pair]
        mean_x = (s1_risk[k_pair] - frac[:, None] * s1_dead[k_pair]) / phi[:, None]
        loglik = float(eta[dead].sum() - (np.log(phi) + top).sum())
        gradient = x_dead - mean_x.sum(axis=0)
        # sum over pairs of S2/phi, as row weights: sum_k a_k S2(R_k) - sum_k b_k S2(D_k)
        a = np.bincount(k_pair, weights=1 / phi, minlength=len(times))
        b = np.bincount(k_pair, weights=frac / phi, minlength=len(times))
        weights = w * np.r_[0.0, np.cumsum(a)][times_up_to]
        weights[dead] -= w[dead] * b[k_event]
        information = (X * weights[:, None]).T @ X - mean_x.T @ mean_x
        return loglik, gradient, information

    beta = np.zeros(p)
    loglik, gradient, information = parts(beta)
    for _ in range(max_iter):
        step = np.linalg.solve(information, gradient)
        for _half in range(30):
            new = parts(beta + step)
            if np.isfinite(new[0]) and new[0] >= loglik - 1e-12 * (1 + abs(loglik)):
                break
            step = step / 2
        beta = beta + step
        loglik, gradient, information = new
        if np.abs(step).max(initial=0) < tol:
            break
    return beta, np.linalg.inv(information)


def hazard_ratios(
    frame: pd.DataFrame,
    features: Sequence[str],
    *,
    duration: str = "duration",
    event: str = "event",
    min_events: int = 10,
) -> pd.DataFrame:
    """Cox proportional-hazards model (Efron ties; the estimates of statsmodels ``PHReg``,
    computed by :func:`_cox_efron`).

    Numeric features are standardised and categories one-hot encoded against the most
    frequent level, exactly as in :func:`churn_drivers`, so a hazard ratio is per
    standard deviation or vs the reference level.

    Columns that on their own separate churners from the rest (infinite hazard ratio) are
    left out and listed in ``attrs["separating"]``.

    Returns
    -------
    DataFrame
        ``feature`` (term), ``source``, ``kind``, ``level``, ``reference``,
        ``hazard_ratio``, ``ci_low``, ``ci_high``, ``p_value``.

    Raises
    ------
    ModelError
        Fewer than ``min_events`` churn events or no usable feature.
    """
    events = int(frame[event].sum())
    if events < min_events:
        raise ModelError(f"only {events} churn events in the follow-up; need {min_events}")
    kinds, _ = _classify_columns(
        frame, [f for f in features if f in frame.columns], max_levels=20, explicit=True
    )
    # a column that alone separates churners has an infinite hazard ratio: leave it out
    separating = _separating_features(frame, frame[event].to_numpy(dtype=int), kinds)
    kinds = {k: v for k, v in kinds.items() if k not in separating}
    design, _ = _Design.fit(frame, kinds)
    if not design.terms:
        raise ModelError("no usable feature for the hazard model")
    X = design.transform(frame)
    kept = _drop_collinear(X, design.terms)
    X = X[:, kept]
    with np.errstate(all="ignore"):
        try:
            params, cov = _cox_efron(
                frame[duration].to_numpy(dtype="float64"),
                frame[event].to_numpy(dtype=bool),
                X,
            )
        except np.linalg.LinAlgError as exc:
            raise ModelError(
                "the hazard model did not converge (separated or collinear data)"
            ) from exc
        se = np.sqrt(np.diag(cov))
    if (
        not np.all(np.isfinite(params))
        or not np.all(np.isfinite(se))
        or np.abs(params).max(initial=0) > 12
    ):
        raise ModelError("the hazard model did not converge (separated or collinear data)")
    z = np.divide(params, se, out=np.full_like(params, np.nan), where=se > 0)
    rows = []
    for k, j in enumerate(kept):
        rows.append(
            {
                "feature": design.terms[j],
                "source": design.term_feature[j],
                "kind": design.term_kind[j],
                "level": design.term_level[j],
                "reference": design.reference.get(design.term_feature[j]),
                "hazard_ratio": float(np.exp(params[k])),
                "ci_low": float(np.exp(params[k] - _Z95 * se[k])),
                "ci_high": float(np.exp(params[k] + _Z95 * se[k])),
                "p_value": float(2 * stats.norm.sf(abs(z[k]))),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["separating"] = separating
    return out


# --------------------------------------------------------------------------- reasons
def reason_pareto(
    customers: pd.DataFrame | None,
    start: object,
    end_exclusive: object,
    *,
    reason_col: str = "churn_reason",
) -> pd.DataFrame:
    """Stated churn reasons of customers who churned in ``[start, end_exclusive)``, most
    frequent first, with shares and the cumulative share (a Pareto table).

    Returns an empty frame when the customers table has no reason column or nobody in the
    window stated one. ``attrs["unstated"]`` counts churners without a reason.
    """
    columns = ["reason", "customers", "share", "cumulative_share"]
    if customers is None or reason_col not in customers.columns or "churn_date" not in customers:
        out = pd.DataFrame(columns=columns)
        out.attrs["unstated"] = 0
        return out
    s, e = _ts(start, "start"), _ts(end_exclusive, "end_exclusive")
    date = pd.to_datetime(customers["churn_date"])
    flag = (
        _as_bool(customers["churned"]) if "churned" in customers.columns else date.notna()
    ).to_numpy(dtype=bool)
    gone = customers.loc[flag & date.ge(s).to_numpy() & date.lt(e).to_numpy()]
    reasons = gone[reason_col].astype("string").str.strip()
    stated = reasons[reasons.notna() & (reasons != "")]
    counts = stated.value_counts()
    counts = counts.iloc[np.lexsort((counts.index.astype(str), -counts.to_numpy()))]
    total = int(counts.sum())
    out = pd.DataFrame(
        {
            "reason": counts.index.astype(str),
            "customers": counts.to_numpy(dtype=int),
        }
    )
    out["share"] = out["customers"] / total if total else np.nan
    out["cumulative_share"] = out["share"].cumsum()
    out.attrs["unstated"] = int(len(gone) - total)
    return out[columns]


# --------------------------------------------------------------------------- value, list
def customer_value(
    orders: pd.DataFrame,
    as_of: object,
    *,
    method: str = "clv",
    horizon_months: int = 12,
    discount_rate_annual: float = 0.10,
    history_days: int = 365,
    min_repeat_customers: int = 20,
) -> pd.Series:
    """Value per customer for value at risk: predictive CLV when it can be fitted, else
    the net revenue of the last ``history_days``.

    ``method="clv"``: BG/NBD + Gamma-Gamma (:mod:`analysis.clv`) on the orders before
    ``as_of``, ``horizon_months`` ahead, discounted; falls back to history when a model
    cannot be fitted (too few repeat customers, no convergence). ``"historical"``: net
    revenue in ``[as_of - history_days, as_of)``. ``attrs["source"]`` says which was used.
    """
    from . import clv, value  # noqa: PLC0415

    s = _ts(as_of, "as_of")
    if method not in ("clv", "historical"):
        raise ParamsError(f"churn value method must be 'clv' or 'historical', got {method!r}")
    recent = orders.loc[
        (orders["order_date"] >= s - pd.Timedelta(days=int(history_days)))
        & (orders["order_date"] < s)
    ]
    historical = (
        recent.assign(customer_id=recent["customer_id"].astype("string"))
        .groupby("customer_id", observed=True)["amount"]
        .sum()
        .clip(lower=0)
        .astype("float64")
    )
    historical.attrs["source"] = "historical"
    if method == "historical":
        return historical
    try:
        with warnings.catch_warnings(), _thread_limits(blas=1):
            warnings.simplefilter("ignore")
            summary = value.rfm_summary(
                orders.loc[orders["order_date"] < s], s - pd.Timedelta(days=1)
            )
            summary = summary.loc[summary["T"] > 0]
            bg = clv.BetaGeoModel(min_repeat_customers=min_repeat_customers).fit(summary)
            gg = clv.GammaGammaModel(min_repeat_customers=min_repeat_customers).fit(summary)
            values = clv.customer_lifetime_value(
                bg,
                gg,
                summary,
                horizon_months=horizon_months,
                discount_rate_annual=discount_rate_annual,
            )["clv"]
    except (ModelError, DataError, ValueError, FloatingPointError, np.linalg.LinAlgError):
        return historical
    out = values.astype("float64").clip(lower=0)
    out.index = out.index.astype("string")
    if not np.isfinite(out.to_numpy()).all():
        return historical
    # customers the models cannot value (first purchase on the last day) keep their history
    out = out.combine_first(historical)
    out.index.name = "customer_id"
    out.attrs["source"] = "clv"
    return out


#: Reason key per (feature, direction) -> the action text key (``churn.action.<key>``).
_ACTION_FOR_REASON = {
    ("complaints", "high"): "service_recovery",
    ("satisfaction", "low"): "service_recovery",
    ("satisfaction", "missing"): "check_in",
    ("discount_share", "high"): "value_offer",
    ("tenure_days", "low"): "onboarding",
    ("frequency", "low"): "reengage",
    ("recency_days", "high"): "winback",
    ("return_rate", "high"): "product_fit",
    ("avg_order_value", "high"): "account_care",
    ("avg_order_value", "low"): "reengage",
}


def reason_text(
    feature: str, direction: str, values: np.ndarray, language: str = "en", currency: str = "$"
) -> list[str]:
    """Words for one reason on many customers: ``"3 complaint(s)"``, ``"shorter
    relationship (120 days)"``. ``direction`` is ``high``, ``low``, ``missing`` or ``level``;
    templates may use ``{value}``, ``{pct}`` and ``{money}``. Each distinct shown value is
    formatted once (a million customers share few distinct texts)."""
    names = catalog(language)
    values = np.asarray(values)
    if direction == "level":
        label = feature_label(feature, language)
        levels, inverse = np.unique(values.astype(str), return_inverse=True)
        texts = [
            t(
                "churn.reason.level",
                language,
                feature=label,
                level=level_label(feature, v, language),
            )
            for v in levels
        ]
        return [texts[i] for i in inverse.ravel()]
    key = f"churn.reason.{feature}.{direction}"
    label = ""
    if key not in names:
        key = f"churn.reason.generic.{direction}"
        label = feature_label(feature, language)
    template = names[key]
    if direction == "missing":
        return [template.format(feature=label, value="–", pct="–", money="–")] * len(values)
    x = values.astype("float64")
    # round to what the template shows, so equal texts share one format call
    if "{pct}" in template:
        shown = np.round(x, 2)
    elif "{money}" in template:
        shown = np.round(x, 0)
    else:
        shown = np.where(np.abs(x) >= 10, np.round(x, 0), np.round(x, 1))
    uniques, inverse = np.unique(shown, return_inverse=True)
    texts = []
    for u in uniques:
        if not math.isfinite(u):
            texts.append(template.format(feature=label, value="–", pct="–", money="–"))
            continue
        texts.append(
            template.format(
                feature=label,
                value=f"{u:,.0f}" if abs(u) >= 10 or u == round(u) else f"{u:,.1f}",
                pct=f"{u:.0%}",
                money=f"{'-' if u < 0 else ''}{currency}{abs(u):,.0f}",
            )
        )
    return [texts[i] for i in inverse.ravel()]


def _playbook_actions(
    playbook: Mapping[str, Any] | None, stages: Sequence[str], language: str, separator: str
) -> dict[str, str]:
    """Stage -> the playbook's action line (``lifecycle_stage`` vocabulary), for the stages
    the playbook has an entry for."""
    if not playbook:
        return {}
    from .playbook import action_for  # noqa: PLC0415

    out = {}
    entries = playbook.get("lifecycle_stage") or {}
    for stage in stages:
        if stage in entries:
            entry = action_for(playbook, "lifecycle_stage", stage, language)
            out[stage] = entry.action_text(separator)
    return out


def early_warning_list(
    frame: pd.DataFrame,
    probability: Sequence[float],
    value: pd.Series,
    drivers: ChurnDrivers | None,
    *,
    stages: pd.Series | None = None,
    playbook: Mapping[str, Any] | None = None,
    playbook_stages: Sequence[str] = ("at_risk", "lapsed"),
    language: str = "en",
    currency: str = "$",
    action_separator: str = "; ",
    top_reasons: int = 3,
) -> pd.DataFrame:
    """Current customers ranked by value at risk, with reasons and an action.

    ``value_at_risk = churn_probability * value`` (value: :func:`customer_value`, 0 when
    unknown). Reasons: the customer's largest positive contributions in the cause model
    (:meth:`ChurnDrivers.contributions`), in words with the customer's own value. The
    action follows the first reason (``churn.action.*``); customers whose lifecycle stage
    (``stages``) is one of ``playbook_stages`` get that stage's action from the
    ``playbook`` (:func:`analysis.playbook.action_for`, vocabulary ``lifecycle_stage``)
    instead: the win-back / retention treatment the business agreed on.

    Returns
    -------
    DataFrame
        :data:`EXPORT_COLUMNS` plus ``value``, ``stage`` and ``reason_feature_1..3``
        (the input columns behind the reasons); sorted by value at risk (ties by id).
    """
    p = np.asarray(probability, dtype="float64")
    if len(p) != len(frame):
        raise ParamsError("one churn probability per customer is needed")
    ids = pd.Index(frame.index.astype("string"), name="customer_id")
    worth = value.reindex(ids).fillna(0.0).to_numpy(dtype="float64")
    out = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "churn_probability": p,
            "value": worth,
            "value_at_risk": p * worth,
        }
    )
    reasons = [[""] * len(frame) for _ in range(top_reasons)]
    reason_features = [[""] * len(frame) for _ in range(top_reasons)]
    first_key = np.array(["default"] * len(frame), dtype=object)
    if drivers is not None and len(frame):
        contrib = drivers.contributions(frame)
        C = contrib.to_numpy(dtype="float64")
        order = np.argsort(-C, axis=1, kind="stable")[:, :top_reasons]
        names = np.asarray(contrib.columns)
        summary = drivers.summary
        kinds = summary.groupby("source")["kind"].agg(lambda k: set(k)).to_dict()
        for rank in range(min(top_reasons, C.shape[1])):
            col_idx = order[:, rank]
            positive = C[np.arange(len(C)), col_idx] > 1e-9
            for j in np.unique(col_idx[positive]):
                rows = np.flatnonzero(positive & (col_idx == j))
                feature = str(names[j])
                source = frame[feature]
                if "level" in kinds.get(feature, set()):
                    direction = np.array(["level"] * len(rows), dtype=object)
                    raw = source.iloc[rows].to_numpy(dtype=object)
                else:
                    kind = (
                        "numeric_text" if feature in drivers.fit_.design.numeric_text else "numeric"
                    )
                    raw = _numeric_column(source.iloc[rows], kind).to_numpy(dtype="float64")
                    mean = drivers.fit_.design.means.get(feature, 0.0)
                    direction = np.where(
                        np.isnan(raw), "missing", np.where(raw >= mean, "high", "low")
                    ).astype(object)
                for d in np.unique(direction):
                    sub = rows[direction == d]
                    texts = reason_text(feature, str(d), raw[direction == d], language, currency)
                    for r, text in zip(sub, texts, strict=True):
                        reasons[rank][r] = text
                        reason_features[rank][r] = feature
                    if rank == 0:
                        first_key[sub] = _ACTION_FOR_REASON.get((feature, str(d)), "default")
    for rank in range(top_reasons):
        out[f"reason_{rank + 1}"] = reasons[rank]
        out[f"reason_feature_{rank + 1}"] = reason_features[rank]
    action_texts = {k: t(f"churn.action.{k}", language) for k in set(first_key)}
    actions = np.array([action_texts[k] for k in first_key], dtype=object)
    stage_values = (
        stages.reindex(ids).astype("object").to_numpy()
        if stages is not None
        else np.full(len(frame), None, dtype=object)
    )
    stage_actions = _playbook_actions(playbook, playbook_stages, language, action_separator)
    for stage, text in stage_actions.items():
        actions[stage_values == stage] = text
    out["action"] = actions
    out["stage"] = stage_values
    out = out.sort_values(
        ["value_at_risk", "churn_probability", "customer_id"],
        ascending=[False, False, True],
        kind="mergesort",
    ).reset_index(drop=True)
    return out

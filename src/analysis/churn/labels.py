"""Churn labels without leakage: the churn window, snapshots, the population and its label
at a snapshot, the point-in-time churn frame, the churn of a period and stated reasons.

*Non-contractual* (customers may simply stop buying): a customer is **active** while their
last purchase is less than ``window_days`` old and has **churned** once ``window_days``
pass without a purchase. The window comes from the distribution of gaps between
consecutive purchase days (:func:`churn_window`, by default the 90th percentile clipped
to 30..365 days). *Contractual*: the customers table's ``churned`` / ``churn_date``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..coerce import as_bool, as_day
from ..errors import DataError, ParamsError
from ..lifecycle import purchase_gap_quantiles
from ..lookup import isin
from ._common import purchase_days, require_columns

DEFINITIONS = ("noncontractual", "contractual")

#: Window used when there are too few repeat gaps to learn one from.
FALLBACK_WINDOW_DAYS = 90


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
    customer (all customers, purchases before ``as_of``; the gaps of
    :func:`analysis.lifecycle.purchase_gap_quantiles`, as the lifecycle thresholds),
    rounded up and clipped to ``[min_days, max_days]``. Observed gaps are right-censored
    (the gap in progress is not seen), so the quantile leans short; the bounds keep it
    sensible.

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
    require_columns(orders, "orders", ("customer_id", "order_date", "amount"))
    # purchases strictly before as_of: up to and including the day before
    last_day = as_day(as_of, "as_of") - pd.Timedelta(days=1)
    n_gaps, (raw,) = purchase_gap_quantiles(orders, last_day, (float(quantile),))
    if n_gaps < max(int(min_gaps), 1):
        fallback = int(min(max(FALLBACK_WINDOW_DAYS, min_days), max_days))
        return ChurnWindow(days=fallback, source="fallback", quantile=quantile, n_gaps=n_gaps)
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
    score = as_day(as_of, "as_of")
    start = as_day(data_start, "data_start")
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
            and bool((as_bool(customers["churned"]) & customers["churn_date"].notna()).any())
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
        require_columns(customers, "customers", ("customer_id", "churned", "churn_date"))
    return definition


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
    s = as_day(as_of, "as_of")
    window = pd.Timedelta(days=int(window_days))
    if definition == "noncontractual":
        history = purchase_days(orders, s - pd.Timedelta(days=int(lookback_days)), s)
        population = pd.Index(history["customer_id"].unique(), name="customer_id")
        after = purchase_days(orders, s, s + window)
        churned = ~isin(population, after["customer_id"])
        out = pd.Series(churned, index=population, name="churned")
        out.attrs["undated"] = 0
        return out.sort_index()
    if definition != "contractual":
        raise ParamsError(f"unknown churn definition {definition!r}")
    if customers is None:
        raise DataError("the contractual churn definition needs a customers table")
    require_columns(customers, "customers", ("customer_id", "churned", "churn_date"))
    c = customers.drop_duplicates("customer_id").set_index(
        customers["customer_id"].astype("string").rename("customer_id")
    )
    flag = as_bool(c["churned"])
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
        The feature builder, :func:`analysis.features.customer_features` by default. It
        gets all of ``orders`` and ``as_of`` and must read only the rows dated before
        ``as_of``, as :func:`~analysis.features.customer_features` does.
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
    from ..features import customer_features  # noqa: PLC0415  (DuckDB only when needed)

    s = as_day(as_of, "as_of")
    build = features or customer_features
    # no copy of the orders before ``as_of``: the population reads only those (the label
    # the window after it, dropped without ``label``) and the builder filters them itself
    population = churn_labels(
        orders,
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
        orders,
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

    Point in time: no order dated on or after ``end_exclusive`` is read, so later rows in
    ``orders`` change nothing (the unit's whole frame can be passed for every period).

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "b", "b"], "amount": 10.0,
    ...     "order_date": pd.to_datetime(["2025-06-20", "2025-06-25", "2025-09-15"])})
    >>> pc = period_churn(orders, "2025-07-01", "2025-10-01", 30)
    >>> pc.base, pc.churned, pc.rate
    (2, 1, 0.5)
    """
    start_ts, end_ts = as_day(start, "start"), as_day(end_exclusive, "end_exclusive")
    window = pd.Timedelta(days=int(window_days))
    if definition == "noncontractual":
        before = purchase_days(orders, start_ts - window, start_ts)["customer_id"].unique()
        late = purchase_days(orders, end_ts - window, end_ts)["customer_id"].unique()
        base = pd.Index(before)
        gone = base[~isin(base, late)]
    elif definition == "contractual":
        if customers is None:
            raise DataError("the contractual churn definition needs a customers table")
        require_columns(customers, "customers", ("customer_id", "churned", "churn_date"))
        c = customers.drop_duplicates("customer_id")
        flag = as_bool(c["churned"]).to_numpy()
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
    s, e = as_day(start, "start"), as_day(end_exclusive, "end_exclusive")
    date = pd.to_datetime(customers["churn_date"])
    flag = (
        as_bool(customers["churned"]) if "churned" in customers.columns else date.notna()
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

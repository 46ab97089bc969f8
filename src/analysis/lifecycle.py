"""Customer lifecycle stages as of a date, their thresholds, and transitions between periods.

Stages, in their fixed display order (:data:`STAGES`):

``prospect``
    known customer (in the customers table, signed up by ``as_of``) with no purchase yet;
``new``
    first purchase within the last ``new_days`` days;
``active``
    bought within the last ``at_risk_days`` days, none of the more specific stages;
``loyal``
    active, with at least ``loyal_min_repeat`` repeat purchase days in the last
    ``lookback_days`` days (the very first purchase never counts as a repeat);
``at_risk``
    last purchase more than ``at_risk_days`` but at most ``lapsed_days`` days ago;
``lapsed``
    last purchase more than ``lapsed_days`` days ago;
``reactivated``
    active, and came back within the last ``new_days`` days after a gap between purchases
    longer than ``lapsed_days``;
``churned``
    contractual data only: the customer's contract ended (a churn date on or before
    ``as_of``, as the unit's churn rule :func:`analysis.figures.churn_rule` knows it). A
    customer who cancelled is never new, active or loyal, whatever their last bill.

Rules are applied in this order, the first that matches wins: churned, prospect, new, lapsed,
at_risk, reactivated, loyal, active. A purchase is a customer-day with a positive net amount (as in
:func:`analysis.value.rfm_scores`); a refund-only day is not a purchase.

The day thresholds come from the distribution of gaps between consecutive purchase days of
the same customer (all customers, all history up to ``as_of``): at risk beyond the 80th
percentile of gaps, lapsed beyond the 95th. A customer who has not bought for longer than 80%
(95%) of all observed repeat gaps is overdue (very overdue). Observed gaps are right-censored
(the gap in progress is not seen), so these quantiles lean short; they are meant as
business-rhythm defaults, and every threshold can be overridden from params.

**Subscriptions.** When the purchases are regular bills (:func:`billing_cycle`: most gaps
fall within one billing cycle, e.g. 27 to 32 days for monthly bills), the gap quantiles are
all about one cycle and say nothing about risk. The thresholds then follow the cycle
instead (:func:`lifecycle_thresholds` with ``billing``): at risk once a renewal is overdue
(no bill for one cycle plus a grace period), lapsed after a second missed renewal, and loyal
after renewing every cycle of the lookback window.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .coerce import as_day as _as_day
from .coerce import sql_date as _sql_date
from .coerce import sql_money
from .coerce import sql_quote as _quote
from .connections import connection
from .errors import DataError, ParamsError
from .framememo import FrameMemo
from .lookup import isin
from .value import OrdersSource, duckdb_config
from .value import duckdb_source as _duckdb

__all__ = [
    "BILLING_CYCLES",
    "BillingCycle",
    "FALLBACK_AT_RISK_DAYS",
    "FALLBACK_LAPSED_DAYS",
    "LifecycleThresholds",
    "STAGES",
    "StageTransitions",
    "billing_cycle",
    "lifecycle_stages",
    "lifecycle_thresholds",
    "purchase_gap_quantiles",
    "stage_label",
    "stage_transitions",
]

STAGES = (
    "prospect",
    "new",
    "active",
    "loyal",
    "at_risk",
    "lapsed",
    "reactivated",
    "churned",
)

#: Regular billing cycles :func:`billing_cycle` recognises: name, nominal length in days,
#: and the band of gaps (days, inclusive) that counts as one cycle (calendar months are 28
#: to 31 days; a bill may move by a day or two).
BILLING_CYCLES = (
    ("weekly", 7.0, 6, 8),
    ("fortnightly", 14.0, 13, 15),
    ("monthly", 365.2425 / 12, 27, 32),
    ("quarterly", 365.2425 / 4, 88, 94),
    ("half_yearly", 365.2425 / 2, 178, 187),
    ("yearly", 365.2425, 360, 370),
)

#: Used when fewer than ``min_gaps`` repeat gaps exist (too little history to learn from).
FALLBACK_AT_RISK_DAYS = 90
FALLBACK_LAPSED_DAYS = 180


@dataclass(frozen=True)
class BillingCycle:
    """What :func:`billing_cycle` found in the gaps between purchase days.

    Attributes
    ----------
    scheme
        ``"subscription"`` (regular bills: at least ``regular_share`` of the gaps fall in
        one cycle's band) or ``"transactional"``.
    cycle
        Name of the cycle (``"monthly"``, see :data:`BILLING_CYCLES`), or None.
    cycle_days
        Nominal length of the cycle in days (NaN without one).
    low, high
        The band of gaps (days) that counts as one cycle (0 without one).
    share
        Share of all gaps inside the band of the nearest cycle (NaN without gaps).
    n_gaps
        Gaps between consecutive purchase days looked at.
    median_gap
        Their median in days (NaN without gaps).
    source
        ``"detected"``, ``"too_few_gaps"`` (transactional by default) or ``"param"``
        (``value.billing.scheme`` forced it).
    """

    scheme: str
    cycle: str | None = None
    cycle_days: float = float("nan")
    low: int = 0
    high: int = 0
    share: float = float("nan")
    n_gaps: int = 0
    median_gap: float = float("nan")
    source: str = "detected"

    @property
    def subscription(self) -> bool:
        return self.scheme == "subscription"


@dataclass(frozen=True)
class LifecycleThresholds:
    """Thresholds of :func:`lifecycle_stages`, in days (``loyal_min_repeat`` in purchase days).

    Attributes
    ----------
    at_risk_days, lapsed_days
        A customer is at risk / lapsed when the last purchase is more than this many days ago.
    new_days
        A customer is new when the first purchase is less than this many days ago; also the
        window in which a return after a long gap counts as a reactivation.
    loyal_min_repeat
        Repeat purchase days in the lookback window that make an active customer loyal.
    lookback_days
        The window for ``loyal_min_repeat``.
    n_gaps
        Number of inter-purchase gaps the thresholds were learnt from.
    source
        ``"gaps"`` (learnt from the gap quantiles) or ``"fallback"`` (too few gaps; the
        module's fallback days were used).
    overridden
        Names of the thresholds set explicitly instead of learnt.
    billing
        The :class:`BillingCycle` of the orders when known. ``source`` is ``"cycle"`` when
        the thresholds follow a subscription's billing cycle.
    """

    at_risk_days: int
    lapsed_days: int
    new_days: int
    loyal_min_repeat: int = 3
    lookback_days: int = 365
    n_gaps: int = 0
    source: str = "gaps"
    overridden: tuple[str, ...] = field(default=())
    billing: BillingCycle | None = None

    @property
    def scheme(self) -> str:
        """``"subscription"`` or ``"transactional"`` (how the stages read the orders)."""
        return self.billing.scheme if self.billing is not None else "transactional"

    def __post_init__(self) -> None:
        for name in (
            "at_risk_days",
            "lapsed_days",
            "new_days",
            "loyal_min_repeat",
            "lookback_days",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ParamsError(
                    f"lifecycle threshold {name} must be a positive integer, got {value!r}"
                )
        if self.lapsed_days < self.at_risk_days:
            raise ParamsError(
                f"lifecycle threshold lapsed_days ({self.lapsed_days}) must be at least "
                f"at_risk_days ({self.at_risk_days})"
            )

    def as_dict(self) -> dict[str, object]:
        """Plain dict (for the report's parameter table and the manifest)."""
        out = asdict(self)
        out["overridden"] = list(self.overridden)
        out["scheme"] = self.scheme
        return out


def _day_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParamsError(f"lifecycle threshold {name} must be a number of days, got {value!r}")
    if not math.isfinite(float(value)) or float(value) < 1:
        raise ParamsError(f"lifecycle threshold {name} must be at least 1, got {value!r}")
    return int(math.ceil(float(value)))


def _purchase_days_sql(src: str, end: pd.Timestamp | None, cid: str, date: str, amount: str) -> str:
    day = f"CAST({_quote(date)} AS DATE)"
    until = "" if end is None else f" AND {day} <= {_sql_date(end)}"
    return f"""
        SELECT {_quote(cid)} AS cid, {day} AS d
        FROM {src}
        WHERE {_quote(cid)} IS NOT NULL{until}
        GROUP BY ALL
        HAVING SUM({sql_money(_quote(amount))}) > 0
    """


#: The gaps of the orders frames used last in this process (see :func:`_gap_counts`).
_GAPS = FrameMemo(kept=8)


def _gap_counts(
    orders: OrdersSource, cid: str, date: str, amount: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every inter-purchase gap of ``orders``, counted: ``(day, gap, count)`` arrays, the
    later purchase day (days since 1970-01-01), the gap in days and how many customers
    had that gap ending that day, sorted by day.

    The gaps up to any day ``end`` are exactly the rows with ``day <= end``: a purchase day
    is a customer-day whose orders sum to more than zero, which no later order changes,
    and two purchase days consecutive among all of a customer's are consecutive among
    those up to ``end``. So the gaps are computed once per orders frame (the unit's reports
    share its data: :class:`analysis.framememo.FrameMemo`) and every snapshot date, the
    billing cycle and the quantiles read them.
    """

    def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with _duckdb(orders, [cid, date, amount]) as (con, src):
            sql = f"""
                WITH days AS ({_purchase_days_sql(src, None, cid, date, amount)}),
                gaps AS (
                    SELECT d, date_diff('day', lag(d) OVER (PARTITION BY cid ORDER BY d), d)
                        AS gap
                    FROM days
                )
                SELECT CAST(date_diff('day', DATE '1970-01-01', d) AS BIGINT) AS day,
                    CAST(gap AS BIGINT) AS gap, COUNT(*) AS n
                FROM gaps WHERE gap IS NOT NULL
                GROUP BY ALL ORDER BY day, gap
            """
            found = con.execute(sql).fetchnumpy()
        out = tuple(np.asarray(found[name], dtype=np.int64) for name in ("day", "gap", "n"))
        for array in out:
            array.flags.writeable = False  # shared by every caller
        return out  # type: ignore[return-value]

    if isinstance(orders, pd.DataFrame):
        return _GAPS.get(orders, [cid, date, amount], "gaps", compute)
    return compute()


def _gaps_until(
    orders: OrdersSource, end: pd.Timestamp, cid: str, date: str, amount: str
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct gaps up to ``end`` (sorted) and how often each occurs."""
    day, gap, count = _gap_counts(orders, cid, date, amount)
    last = int((end.normalize() - pd.Timestamp("1970-01-01")).days)
    upto = int(np.searchsorted(day, last, side="right"))
    values, where = np.unique(gap[:upto], return_inverse=True)
    return values, np.bincount(where, weights=count[:upto], minlength=len(values)).astype(np.int64)


def _over_gaps(values: np.ndarray, counts: np.ndarray, select: str) -> tuple:
    """``SELECT {select} FROM gaps WHERE gap IS NOT NULL`` over the gaps ``values``
    repeated ``counts`` times, in DuckDB: the same aggregates (``quantile_cont``,
    ``median``, ``AVG``) over the same gaps as a query over the orders, so the same
    numbers to the last bit, without reading the orders again."""
    gaps = pd.DataFrame({"gap": np.repeat(values, counts)})
    with connection(duckdb_config(), spill=True) as con:  # the order queries' database
        con.register("_gaps", gaps)
        return con.execute(f"SELECT {select} FROM _gaps WHERE gap IS NOT NULL").fetchone()


def purchase_gap_quantiles(
    orders: OrdersSource,
    as_of: object,
    quantiles: tuple[float, ...],
    *,
    customer_id_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
) -> tuple[int, tuple[float, ...]]:
    """Quantiles of the gaps between consecutive purchase days of the same customer.

    The one definition of the inter-purchase gap that the lifecycle thresholds
    (:func:`lifecycle_thresholds`) and the churn window
    (:func:`analysis.churn.churn_window`) are learnt from. A purchase day is a
    customer-day on or before ``as_of`` whose orders sum to more than zero (a refund-only
    day is not a purchase); a gap is the number of days between two consecutive purchase
    days of one customer, over all customers. Quantiles interpolate linearly (DuckDB
    ``quantile_cont``, as ``numpy.quantile``), computed where the orders are (DuckDB), so
    no gap list is held in memory.

    Parameters
    ----------
    orders
        Cleaned orders (DataFrame or Parquet path).
    as_of
        Last day whose purchases count (inclusive).
    quantiles
        Quantiles wanted, each ``0 <= q <= 1``.
    customer_id_col, date_col, amount_col
        Column names.

    Returns
    -------
    tuple
        ``(n_gaps, values)``: the number of gaps and one value per quantile (NaN when
        there is no gap).

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "a"], "amount": 10.0,
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-31"])})
    >>> purchase_gap_quantiles(orders, "2024-03-01", (0.5,))   # gaps of 10 and 20 days
    (2, (15.0,))
    """
    wanted = [float(q) for q in quantiles]
    if any(not 0 <= q <= 1 for q in wanted):
        raise ParamsError(f"gap quantiles must be between 0 and 1, got {list(quantiles)!r}")
    end = _as_day(as_of, "as_of")
    columns = ", ".join(f"quantile_cont(gap, {q})" for q in wanted)
    values, counts = _gaps_until(orders, end, customer_id_col, date_col, amount_col)
    n_gaps, *found = _over_gaps(values, counts, "COUNT(gap)" + (f", {columns}" if columns else ""))
    n_gaps = int(n_gaps or 0)
    return n_gaps, tuple(float("nan") if v is None else float(v) for v in found)


def billing_cycle(
    orders: OrdersSource,
    as_of: object,
    *,
    scheme: str = "auto",
    regular_share: float = 0.8,
    min_gaps: int = 30,
    customer_id_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
) -> BillingCycle:
    """Whether the purchases are regular bills, and of which cycle.

    The gaps between consecutive purchase days (as :func:`purchase_gap_quantiles`) are
    compared with the bands of :data:`BILLING_CYCLES`: the cycle nearest to the median gap
    is the candidate, and the data are a subscription when at least ``regular_share`` of all
    gaps fall in its band (monthly bills: 27 to 32 days apart). A shop's purchase log rarely
    has even a third of its gaps in one band.

    Parameters
    ----------
    orders
        Cleaned orders (DataFrame or Parquet path); orders after ``as_of`` are ignored.
    as_of
        Snapshot day.
    scheme
        ``"auto"`` (detect), ``"subscription"`` (bills of the nearest cycle even when
        irregular) or ``"transactional"`` (never a subscription): ``value.billing.scheme``.
    regular_share
        Share of gaps in one band that makes the data a subscription.
    min_gaps
        Fewer gaps than this are too few to tell: transactional, unless forced.
    customer_id_col, date_col, amount_col
        Column names.

    Returns
    -------
    BillingCycle

    Raises
    ------
    ParamsError
        Unknown ``scheme`` or a ``regular_share`` outside (0, 1].

    Examples
    --------
    >>> days = pd.date_range("2024-01-15", periods=12, freq="MS") + pd.Timedelta(days=14)
    >>> bills = pd.DataFrame({"customer_id": "a", "order_date": days, "amount": 30.0})
    >>> found = billing_cycle(bills, "2024-12-31", min_gaps=5)
    >>> found.scheme, found.cycle, found.share
    ('subscription', 'monthly', 1.0)
    """
    if scheme not in ("auto", "subscription", "transactional"):
        raise ParamsError(
            f"value.billing.scheme must be auto, subscription or transactional, got {scheme!r}"
        )
    if isinstance(regular_share, bool) or not isinstance(regular_share, int | float):
        raise ParamsError(f"value.billing.regular_share must be a number, got {regular_share!r}")
    if not 0 < float(regular_share) <= 1:
        raise ParamsError(
            f"value.billing.regular_share must be above 0 and at most 1, got {regular_share!r}"
        )
    end = _as_day(as_of, "as_of")
    bands = ", ".join(
        f"AVG(CASE WHEN gap BETWEEN {low} AND {high} THEN 1.0 ELSE 0.0 END)"
        for _, _, low, high in BILLING_CYCLES
    )
    values, counts = _gaps_until(orders, end, customer_id_col, date_col, amount_col)
    n_gaps, median, *shares = _over_gaps(values, counts, f"COUNT(gap), median(gap), {bands}")
    n_gaps = int(n_gaps or 0)
    if scheme == "transactional":
        return BillingCycle("transactional", n_gaps=n_gaps, median_gap=_nan(median), source="param")
    if n_gaps == 0 or (scheme == "auto" and n_gaps < max(int(min_gaps), 1)):
        if scheme == "subscription":
            raise ParamsError(
                "value.billing.scheme is subscription, but no customer has two bills to "
                "learn the billing cycle from; set it to auto"
            )
        return BillingCycle(
            "transactional", n_gaps=n_gaps, median_gap=_nan(median), source="too_few_gaps"
        )
    median = float(median)
    nearest = min(
        range(len(BILLING_CYCLES)),
        key=lambda i: abs(math.log(median / BILLING_CYCLES[i][1])) if median > 0 else i,
    )
    name, days, low, high = BILLING_CYCLES[nearest]
    share = float(shares[nearest] or 0.0)
    regular = share >= float(regular_share)
    if scheme == "auto" and not regular:
        return BillingCycle(
            "transactional",
            name,
            days,
            low,
            high,
            share=share,
            n_gaps=n_gaps,
            median_gap=median,
        )
    return BillingCycle(
        "subscription",
        name,
        days,
        low,
        high,
        share=share,
        n_gaps=n_gaps,
        median_gap=median,
        source="detected" if scheme == "auto" else "param",
    )


def _nan(value: object) -> float:
    return float("nan") if value is None else float(value)


def cycle_thresholds(
    billing: BillingCycle,
    *,
    new_days: float | None = None,
    loyal_min_repeat: int = 3,
    lookback_days: int = 365,
    at_risk_days: float | None = None,
    lapsed_days: float | None = None,
    n_gaps: int = 0,
) -> LifecycleThresholds:
    """Lifecycle thresholds that follow a subscription's billing cycle.

    * at risk: no bill for longer than the cycle's band plus a grace period (a tenth of the
      cycle, at least 2 days): a renewal is overdue (monthly: 32 + 4 = 36 days);
    * lapsed: a second renewal missed (at risk plus one cycle; monthly: 67 days);
    * new: ``new_days`` (default three cycles);
    * loyal: renewed every cycle of the lookback window (at least ``loyal_min_repeat``
      renewals; the window grows to ``loyal_min_repeat + 1`` cycles for long cycles).

    Explicit ``at_risk_days`` / ``lapsed_days`` win, as in :func:`lifecycle_thresholds`.
    """
    if not billing.subscription:
        raise ParamsError("cycle_thresholds needs the billing cycle of a subscription")
    grace = max(2, math.ceil(0.1 * billing.cycle_days))
    risk = int(billing.high) + grace
    lapsed = risk + math.ceil(billing.cycle_days)
    overridden = []
    if at_risk_days is not None:
        risk = _day_count("at_risk_days", at_risk_days)
        overridden.append("at_risk_days")
        lapsed = max(lapsed, risk)
    if lapsed_days is not None:
        lapsed = _day_count("lapsed_days", lapsed_days)
        overridden.append("lapsed_days")
    new = math.ceil(3 * billing.cycle_days)
    if new_days is not None:
        new = _day_count("new_days", new_days)
        overridden.append("new_days")
    lookback = max(int(lookback_days), math.ceil((int(loyal_min_repeat) + 1) * billing.cycle_days))
    repeats = max(int(loyal_min_repeat), round(lookback / billing.cycle_days) - 1, 1)
    return LifecycleThresholds(
        at_risk_days=risk,
        lapsed_days=lapsed,
        new_days=new,
        loyal_min_repeat=repeats,
        lookback_days=lookback,
        n_gaps=n_gaps or billing.n_gaps,
        source="cycle",
        overridden=tuple(overridden),
        billing=billing,
    )


def lifecycle_thresholds(
    orders: OrdersSource,
    as_of: object,
    *,
    at_risk_quantile: float = 0.80,
    lapsed_quantile: float = 0.95,
    min_gaps: int = 30,
    at_risk_days: float | None = None,
    lapsed_days: float | None = None,
    new_days: float | None = None,
    loyal_min_repeat: int = 3,
    lookback_days: int = 365,
    billing: BillingCycle | None = None,
    customer_id_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
) -> LifecycleThresholds:
    """Learn lifecycle thresholds from the inter-purchase-gap distribution.

    With the :class:`BillingCycle` of a subscription (``billing``, from
    :func:`billing_cycle`) the thresholds follow the billing cycle instead
    (:func:`cycle_thresholds`): every gap is about one cycle, so its quantiles would put a
    customer at risk a day after the next bill is due.

    ``at_risk_days`` and ``lapsed_days`` are the ``at_risk_quantile`` and ``lapsed_quantile``
    quantiles (linear interpolation) of the gaps in days between consecutive purchase days of
    each customer, rounded up to whole days; ``new_days`` defaults to ``at_risk_days`` (a
    customer stays new while their first purchase is still within one normal repeat cycle).
    With fewer than ``min_gaps`` gaps the fallbacks (90 and 180 days) are used instead.

    Parameters
    ----------
    orders
        Cleaned orders (DataFrame or Parquet path); orders after ``as_of`` are ignored.
    as_of
        Snapshot day.
    at_risk_quantile, lapsed_quantile
        Gap quantiles for the two thresholds (``0 < at_risk < lapsed < 1``).
    min_gaps
        Minimum number of gaps to learn from.
    at_risk_days, lapsed_days, new_days
        Overrides in days (``None`` = learn). Overridden names are listed in ``overridden``.
    loyal_min_repeat, lookback_days
        Loyalty rule: repeat purchase days within the lookback window.
    billing
        The orders' billing cycle (None: purchases, not bills).
    customer_id_col, date_col, amount_col
        Column names.

    Returns
    -------
    LifecycleThresholds

    Raises
    ------
    ParamsError
        Bad quantiles or thresholds (e.g. lapsed below at risk).
    DataError
        A required column is missing.

    Examples
    --------
    >>> orders = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b", "b"],
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-31",
    ...                                   "2024-01-05", "2024-02-04"]),
    ...     "amount": 10.0})
    >>> th = lifecycle_thresholds(orders, "2024-03-01", min_gaps=1)
    >>> th.at_risk_days, th.lapsed_days, th.n_gaps   # gaps 10, 20, 30 days: 80% and 95% points
    (26, 29, 3)
    """
    for name, q in (("at_risk_quantile", at_risk_quantile), ("lapsed_quantile", lapsed_quantile)):
        if not isinstance(q, int | float) or not 0 < q < 1:
            raise ParamsError(f"{name} must be between 0 and 1, got {q!r}")
    if at_risk_quantile >= lapsed_quantile:
        raise ParamsError(
            f"at_risk_quantile ({at_risk_quantile}) must be below lapsed_quantile ({lapsed_quantile})"
        )
    if billing is not None and billing.subscription:
        return cycle_thresholds(
            billing,
            new_days=new_days,
            loyal_min_repeat=loyal_min_repeat,
            lookback_days=lookback_days,
            at_risk_days=at_risk_days,
            lapsed_days=lapsed_days,
        )
    n_gaps, (q_risk, q_lapsed) = purchase_gap_quantiles(
        orders,
        as_of,
        (at_risk_quantile, lapsed_quantile),
        customer_id_col=customer_id_col,
        date_col=date_col,
        amount_col=amount_col,
    )
    if n_gaps >= max(int(min_gaps), 1):
        source = "gaps"
        learnt_risk = max(1, math.ceil(q_risk))
        learnt_lapsed = max(learnt_risk, math.ceil(q_lapsed))
    else:
        source = "fallback"
        learnt_risk, learnt_lapsed = FALLBACK_AT_RISK_DAYS, FALLBACK_LAPSED_DAYS
    overridden = []
    risk = learnt_risk
    if at_risk_days is not None:
        risk = _day_count("at_risk_days", at_risk_days)
        overridden.append("at_risk_days")
    lapsed = learnt_lapsed
    if lapsed_days is not None:
        lapsed = _day_count("lapsed_days", lapsed_days)
        overridden.append("lapsed_days")
    elif at_risk_days is not None:
        lapsed = max(lapsed, risk)
    new = risk
    if new_days is not None:
        new = _day_count("new_days", new_days)
        overridden.append("new_days")
    return LifecycleThresholds(
        at_risk_days=risk,
        lapsed_days=lapsed,
        new_days=new,
        loyal_min_repeat=loyal_min_repeat,
        lookback_days=lookback_days,
        n_gaps=n_gaps,
        source=source,
        overridden=tuple(overridden),
        billing=billing,
    )


def lifecycle_stages(
    customers: pd.DataFrame | None,
    orders: OrdersSource,
    as_of: object,
    thresholds: LifecycleThresholds | None = None,
    *,
    churned: object = None,
    customer_id_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
    signup_col: str = "signup_date",
) -> pd.DataFrame:
    """Assign every customer one lifecycle stage as of a date (see the module docstring).

    Parameters
    ----------
    customers
        Customers table (``customer_id``; optional ``signup_date`` and ``customer_type``).
        Customers who signed up after ``as_of`` and never bought are left out. ``None``
        means only customers with orders (no prospects). Customers with orders but missing
        from this table are still staged.
    orders
        Cleaned orders (DataFrame or Parquet path).
    as_of
        Snapshot day; orders after it are ignored.
    thresholds
        From :func:`lifecycle_thresholds`; ``None`` learns them from ``orders``.
    churned
        Ids of the customers whose contract ended on or before ``as_of`` (contractual
        data, the unit's churn rule); they are ``churned`` whatever their purchases.
        None: no contractual churn.
    customer_id_col, date_col, amount_col, signup_col
        Column names.

    Returns
    -------
    pandas.DataFrame
        Index customer id (sorted). Columns: ``stage`` (categorical with all of
        :data:`STAGES`), ``first_purchase``, ``last_purchase`` (dates, NaT for prospects),
        ``days_since_first``, ``days_since_last`` (float, NaN for prospects),
        ``repeat_purchases`` (repeat purchase days in the lookback window), ``return_gap_days``
        (the longest gap ending in the recent window, NaN if none) and ``customer_type``
        when the customers table has it. ``attrs["thresholds"]`` holds the thresholds used.

    Raises
    ------
    DataError
        A required column is missing.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "b"], "amount": [5.0, 5.0],
    ...     "order_date": pd.to_datetime(["2024-06-25", "2023-01-10"])})
    >>> th = LifecycleThresholds(at_risk_days=60, lapsed_days=120, new_days=30)
    >>> lifecycle_stages(None, orders, "2024-06-30", th)["stage"].tolist()
    ['new', 'lapsed']
    """
    end = _as_day(as_of, "as_of")
    if thresholds is None:
        thresholds = lifecycle_thresholds(
            orders, end, customer_id_col=customer_id_col, date_col=date_col, amount_col=amount_col
        )
    elif not isinstance(thresholds, LifecycleThresholds):
        raise ParamsError("thresholds must be a LifecycleThresholds (see lifecycle_thresholds)")
    th = thresholds
    window = f"{_sql_date(end)} - INTERVAL {int(th.lookback_days)} DAY"
    recent = f"{_sql_date(end)} - INTERVAL {int(th.new_days)} DAY"
    with _duckdb(orders, [customer_id_col, date_col, amount_col]) as (con, src):
        sql = f"""
            WITH days AS ({_purchase_days_sql(src, end, customer_id_col, date_col, amount_col)}),
            gaps AS (
                SELECT cid, d,
                       date_diff('day', lag(d) OVER (PARTITION BY cid ORDER BY d), d) AS gap
                FROM days
            )
            SELECT cid AS {_quote(customer_id_col)},
                   MIN(d) AS first_purchase,
                   MAX(d) AS last_purchase,
                   COUNT(*) FILTER (WHERE gap IS NOT NULL AND d > {window}) AS repeat_purchases,
                   MAX(gap) FILTER (WHERE d > {recent}) AS return_gap_days
            FROM gaps
            GROUP BY cid
            ORDER BY cid
        """
        bought = con.sql(sql).to_arrow_table().to_pandas().set_index(customer_id_col)
    bought["first_purchase"] = pd.to_datetime(bought["first_purchase"])
    bought["last_purchase"] = pd.to_datetime(bought["last_purchase"])
    frame = _with_customers(bought, customers, end, customer_id_col, signup_col)

    gone = pd.Index([] if churned is None else list(churned)).astype("str")
    ended = isin(frame.index, gone)
    if churned is not None:
        extra = gone.difference(frame.index)
        if len(extra):
            # A churned customer missing from both tables is still a customer who left.
            frame = pd.concat([frame, pd.DataFrame(index=extra)]).sort_index()
            frame.index.name = customer_id_col
            ended = isin(frame.index, gone)
    has = frame["last_purchase"].notna()
    since_first = (end - frame["first_purchase"]).dt.days.astype("float64")
    since_last = (end - frame["last_purchase"]).dt.days.astype("float64")
    repeat = frame["repeat_purchases"].fillna(0).astype("int64")
    return_gap = frame["return_gap_days"].astype("float64")
    conditions = [
        pd.Series(ended, index=frame.index),
        ~has,
        since_first < th.new_days,
        since_last > th.lapsed_days,
        since_last > th.at_risk_days,
        return_gap > th.lapsed_days,
        repeat >= th.loyal_min_repeat,
    ]
    choices = ["churned", "prospect", "new", "lapsed", "at_risk", "reactivated", "loyal"]
    stage = np.select([c.to_numpy(dtype=bool) for c in conditions], choices, default="active")
    out = pd.DataFrame(
        {
            "stage": pd.Categorical(stage, categories=list(STAGES)),
            "first_purchase": frame["first_purchase"],
            "last_purchase": frame["last_purchase"],
            "days_since_first": since_first,
            "days_since_last": since_last,
            "repeat_purchases": repeat,
            "return_gap_days": return_gap,
        },
        index=frame.index,
    )
    if "customer_type" in frame.columns:
        out["customer_type"] = frame["customer_type"]
    out.attrs["thresholds"] = th.as_dict()
    return out


def _with_customers(
    bought: pd.DataFrame,
    customers: pd.DataFrame | None,
    end: pd.Timestamp,
    customer_id_col: str,
    signup_col: str,
) -> pd.DataFrame:
    """Outer-join purchase facts with the customers table (prospects have no purchases)."""
    if customers is None:
        frame = bought
    else:
        if not isinstance(customers, pd.DataFrame):
            raise ParamsError("customers must be a DataFrame or None")
        if customer_id_col not in customers.columns:
            raise DataError(
                "the required column is missing.", file="customers", column=customer_id_col
            )
        known = customers.dropna(subset=[customer_id_col])
        if signup_col in known.columns:
            signup = pd.to_datetime(known[signup_col], errors="coerce")
            # Not a customer yet on as_of (unless their orders say otherwise, handled below).
            known = known[~(signup.dt.normalize() > end)]
        keep = [customer_id_col] + (["customer_type"] if "customer_type" in known.columns else [])
        known = known[keep].drop_duplicates(customer_id_col).set_index(customer_id_col)
        # Ids are strings by contract; align both sides so the join cannot silently miss.
        known.index = known.index.astype("str")
        bought = bought.set_axis(bought.index.astype("str"))
        frame = bought.join(known, how="outer")
    frame.index.name = customer_id_col
    return frame.sort_index()


def stage_label(key: str, language: str = "en") -> str:
    """Display name of a stage key from the catalog (``value.stage.<key>``)."""
    from .i18n import t

    return t(f"value.stage.{key}", language)


@dataclass(frozen=True)
class StageTransitions:
    """Customer counts moving from each stage (rows, previous period) to each stage (columns,
    current period), and the same as row shares. Both are square in :data:`STAGES` order."""

    counts: pd.DataFrame
    shares: pd.DataFrame


def _stage_series(stages: pd.Series | pd.DataFrame, name: str) -> pd.Series:
    if isinstance(stages, pd.DataFrame):
        if "stage" not in stages.columns:
            raise DataError("the required column is missing.", file=name, column="stage")
        stages = stages["stage"]
    if not isinstance(stages, pd.Series):
        raise ParamsError(f"{name} must be a Series of stages or the output of lifecycle_stages")
    values = stages.astype("object")
    unknown = values[values.notna() & ~values.isin(STAGES)]
    if len(unknown):
        raise DataError(
            f"unknown lifecycle stage (expected one of {', '.join(STAGES)}).",
            file=name,
            column="stage",
            examples=sorted(set(map(str, unknown)))[:5],
        )
    if values.index.has_duplicates:
        raise DataError(
            "a customer appears twice.",
            file=name,
            examples=values.index[values.index.duplicated()][:5].tolist(),
        )
    return values


def stage_transitions(
    prev_stages: pd.Series | pd.DataFrame, cur_stages: pd.Series | pd.DataFrame
) -> StageTransitions:
    """Transition matrix of lifecycle stages between two snapshots.

    Customers are matched by index (customer id). The population is the current one: a
    customer missing from ``prev_stages`` (not yet known then) counts as coming from
    ``prospect``; a customer missing from ``cur_stages`` is left out.

    Parameters
    ----------
    prev_stages, cur_stages
        Stage per customer: a Series of stage keys, or the output of :func:`lifecycle_stages`.

    Returns
    -------
    StageTransitions
        ``counts`` (int) and ``shares`` (each row divided by its total; NaN for a stage that
        had no customers in the previous period). Index ``from_stage``, columns ``to_stage``,
        all stages in :data:`STAGES` order even when empty.

    Examples
    --------
    >>> prev = pd.Series({"a": "new", "b": "active"})
    >>> cur = pd.Series({"a": "active", "b": "at_risk", "c": "new"})
    >>> int(stage_transitions(prev, cur).counts.loc["prospect", "new"])
    1
    """
    prev = _stage_series(prev_stages, "previous stages")
    cur = _stage_series(cur_stages, "current stages").dropna()
    before = prev.reindex(cur.index).fillna("prospect")
    stages = list(STAGES)
    counts = (
        pd.crosstab(
            pd.Categorical(before, categories=stages),
            pd.Categorical(cur, categories=stages),
            dropna=False,
        )
        .reindex(index=stages, columns=stages, fill_value=0)
        .astype("int64")
    )
    counts.index.name, counts.columns.name = "from_stage", "to_stage"
    totals = counts.sum(axis=1)
    shares = counts.div(totals.where(totals > 0), axis=0)
    return StageTransitions(counts=counts, shares=shares)

"""Customer value: RFM summary and scores, named RFM segments, value tiers (Pareto / ABC).

Everything here is DataFrame in, DataFrame out. The two order-level functions
(:func:`rfm_summary`, :func:`rfm_scores`) aggregate in DuckDB and accept either a cleaned
orders DataFrame or the path of a Parquet file (or glob) holding one; everything after them
works on one row per customer.

Conventions shared by this module (and :mod:`analysis.lifecycle`):

* A **purchase period** is one customer-day (or customer-week / -month for
  ``time_unit="W"``/``"M"``). Orders of one customer in the same period are merged and their
  amounts summed; refunds (negative amounts) are netted into the period they are dated in.
* :func:`rfm_summary` follows the buy-till-you-die conventions exactly as the reference
  implementation (``lifetimes.utils.summary_data_from_transaction_data``): every period with
  at least one row counts, whatever the sign of its net total. A refund dated on a day without
  purchases is therefore a "repeat transaction" there, and ``monetary_value`` can be zero or
  negative. ``nonpositive_periods="drop"`` removes such periods first.
* :func:`rfm_scores` (the managerial RFM) counts only **purchase days**, customer-days whose
  net amount is positive; a refund-only day is not a purchase, but its amount still reduces
  ``monetary`` (net revenue).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from .coerce import as_day, sql_date, sql_money, sql_quote
from .connections import connection
from .errors import DataError, ParamsError

__all__ = [
    "ABC_CLASSES",
    "DUCKDB_CONFIG",
    "DEFAULT_SEGMENT_MAP",
    "RFM_SUMMARY_COLUMNS",
    "SUBSCRIPTION_SEGMENT_MAP",
    "RFM_SCORE_COLUMNS",
    "RFM8_CLASSES",
    "RFM8_SPLITS",
    "SEGMENT_SCHEMES",
    "OrdersSource",
    "VALUE_TIERS",
    "duckdb_config",
    "duckdb_source",
    "pareto_curve",
    "quintile_scores",
    "rfm8_segments",
    "rfm8_splits",
    "rfm_scores",
    "rfm_segments",
    "rfm_summary",
    "rfm_summary_sql",
    "check_rfm_options",
    "segment_label",
    "subscription_scores",
    "top_share",
    "validate_segment_map",
    "value_tiers",
]

OrdersSource = pd.DataFrame | str | os.PathLike
TimeUnit = Literal["D", "W", "M"]

RFM_SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")
RFM_SCORE_COLUMNS = (
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_code",
)
ABC_CLASSES = ("A", "B", "C")
VALUE_TIERS = ("high", "medium", "low")

# Length of one time unit in days, as the reference divides a period difference: a week is
# 7 days; a month is numpy's average Gregorian month (365.2425 / 12 = 30.436875 days), which
# is what ``np.timedelta64(1, "M")`` meant to pandas when lifetimes was written (pandas < 2).
_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.2425 / 12}
_UNIT_TRUNC = {"D": "day", "W": "week", "M": "month"}


# --------------------------------------------------------------------------------------
# Input handling shared with analysis.lifecycle
# --------------------------------------------------------------------------------------


def _is_path(source: object) -> bool:
    return isinstance(source, str | os.PathLike)


def _source_columns(con: duckdb.DuckDBPyConnection, source: OrdersSource) -> list[str]:
    if isinstance(source, pd.DataFrame):
        return [str(c) for c in source.columns]
    rows = con.execute(f"DESCRIBE SELECT * FROM {_parquet_scan(source)}").fetchall()
    return [r[0] for r in rows]


def _parquet_scan(path: str | os.PathLike) -> str:
    text = os.fspath(path).replace("'", "''")
    return f"read_parquet('{text}')"


def _require_columns(
    con: duckdb.DuckDBPyConnection, source: OrdersSource, columns: Iterable[str], table: str
) -> None:
    """Raise :class:`DataError` naming the first required column that is missing."""
    present = set(_source_columns(con, source))
    for col in columns:
        if col not in present:
            where = os.fspath(source) if _is_path(source) else table
            raise DataError(
                f"the required column is missing (columns present: {', '.join(sorted(present))}).",
                file=where,
                column=col,
            )


#: DuckDB settings for the order-level aggregations. DuckDB's own default memory limit is 80%
#: of RAM per process, which parallel report jobs would each claim; a fixed cap keeps one
#: job's peak small and predictable (10M orders: ~0.9 GB peak instead of ~1.1 GB, no slower),
#: and beyond it DuckDB spills to a private temporary directory instead of failing.
DUCKDB_CONFIG: dict[str, object] = {"memory_limit": "1GB", "preserve_insertion_order": False}


def duckdb_config(**extra: object) -> dict[str, object]:
    """:data:`DUCKDB_CONFIG` plus ``extra``, and a thread cap when the runner set one.

    DuckDB ignores ``OMP_NUM_THREADS`` and uses every core; when several report kernels run
    side by side the runner gives each its share in ``SEGREPORT_THREADS``.
    """
    config = {**DUCKDB_CONFIG, **extra}
    threads = os.environ.get("SEGREPORT_THREADS", "")
    if threads.isdigit() and int(threads) > 0:
        config["threads"] = int(threads)
    return config


@contextmanager
def duckdb_source(source: OrdersSource, columns: Sequence[str], table: str = "orders"):
    """Yield ``(connection, from_clause)`` for an orders DataFrame or Parquet path.

    The one way order-level code here and in :mod:`analysis.lifecycle` reaches DuckDB.
    Checks the source type, that a file exists and that ``columns`` are present. The
    connection is a new one to the process's in-memory database of :func:`duckdb_config`
    (:func:`analysis.connections.connection`: no database is built per query), which spills
    to a private temporary directory; it is closed on exit, and what was registered on it
    goes with it.

    Parameters
    ----------
    source
        Cleaned orders as a DataFrame (registered, never copied or changed), or the path of
        a Parquet file or glob.
    columns
        Columns the query needs.
    table
        Name of the input in error messages.

    Raises
    ------
    ParamsError
        ``source`` is neither a DataFrame nor a path.
    DataError
        The file does not exist, a column is missing, or a column has the wrong type
        (raised from inside the ``with`` block).

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a"], "amount": [1.0]})
    >>> with duckdb_source(orders, ["customer_id", "amount"]) as (con, src):
    ...     con.execute(f"SELECT SUM(amount) FROM {src}").fetchone()
    (1.0,)
    """
    if not isinstance(source, pd.DataFrame) and not _is_path(source):
        raise ParamsError(
            f"{table} must be a pandas DataFrame or the path of a Parquet file, "
            f"got {type(source).__name__}"
        )
    if (
        _is_path(source)
        and not any(c in os.fspath(source) for c in "*?[")
        and not Path(source).exists()
    ):
        raise DataError("the file does not exist.", file=os.fspath(source))
    with connection(duckdb_config(), spill=True) as con:
        _require_columns(con, source, columns, table)
        if isinstance(source, pd.DataFrame):
            # Only referenced columns are scanned; the frame is never copied or changed.
            con.register("_orders_src", source)
            from_clause = "_orders_src"
        else:
            from_clause = _parquet_scan(source)
        try:
            yield con, from_clause
        except (duckdb.ConversionException, duckdb.BinderException) as exc:
            # Wrong column types (text amounts, unparseable dates) surface here.
            first_line = str(exc).strip().splitlines()[0].rstrip(".")
            raise DataError(
                f"cannot aggregate the {table}: {first_line}. Check that "
                f"{', '.join(repr(c) for c in columns)} hold ids, dates and numbers.",
                file=os.fspath(source) if _is_path(source) else table,
            ) from exc


# --------------------------------------------------------------------------------------
# RFM summary (buy-till-you-die inputs)
# --------------------------------------------------------------------------------------


def check_rfm_options(time_unit: str, nonpositive_periods: str, amount_col: str | None) -> None:
    """Refuse options :func:`rfm_summary` (on any engine) cannot honour (ParamsError)."""
    if time_unit not in _UNIT_DAYS:
        raise ParamsError(f"time_unit must be one of 'D', 'W', 'M', got {time_unit!r}")
    if nonpositive_periods not in ("keep", "drop"):
        raise ParamsError(
            f"nonpositive_periods must be 'keep' or 'drop', got {nonpositive_periods!r}"
        )
    if nonpositive_periods == "drop" and amount_col is None:
        raise ParamsError("nonpositive_periods='drop' needs an amount column")


def rfm_summary(
    orders: OrdersSource,
    observation_end: object,
    *,
    customer_id_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str | None = "amount",
    time_unit: TimeUnit = "D",
    nonpositive_periods: Literal["keep", "drop"] = "keep",
) -> pd.DataFrame:
    """Summarise orders into the frequency / recency / T / monetary inputs of BG/NBD models.

    Orders of one customer in the same period (day, week or month) are merged into one
    transaction whose value is the sum of their amounts. With ``t_1 < ... < t_n`` the
    customer's transaction periods up to ``observation_end``:

    * ``frequency`` = n - 1, the number of *repeat* transaction periods;
    * ``recency`` = t_n - t_1 (0 when frequency is 0);
    * ``T`` = observation_end - t_1;
    * ``monetary_value`` = mean value of the repeat periods t_2..t_n (0 when frequency is 0).

    Results equal ``lifetimes.utils.summary_data_from_transaction_data(...,
    monetary_value_col=amount_col, observation_period_end=observation_end, freq=time_unit)``.
    Weeks are ISO weeks (Monday to Sunday) and months calendar months; a difference of periods
    is measured between their first days and divided by 7 days (``"W"``) or by the average
    Gregorian month of 30.436875 days (``"M"``), as the reference does. One deliberate
    difference: orders dated after ``observation_end`` are always ignored, whereas the
    reference keeps those that fall in the same week or month as ``observation_end``.

    Parameters
    ----------
    orders
        Cleaned orders (DataFrame, or path of a Parquet file or glob with the same columns).
    observation_end
        Last day of the observation period (anything ``pd.Timestamp`` accepts); orders dated
        after this day are ignored. Times of day are dropped; a time-zone-aware value is
        taken in UTC first (:func:`analysis.coerce.as_day`).
    customer_id_col, date_col, amount_col
        Column names. ``amount_col=None`` leaves out ``monetary_value``.
    time_unit
        ``"D"`` (days, default), ``"W"`` (weeks) or ``"M"`` (months): both the period
        orders are merged within and the unit of ``recency`` and ``T``.
    nonpositive_periods
        ``"keep"`` (default, the reference convention): a period counts as a transaction
        whatever the sign of its net amount. ``"drop"``: periods whose net amount is zero or
        negative (refund-only or fully refunded) are removed before anything is computed, so a
        customer with nothing but refunds disappears. Needs ``amount_col``.

    Returns
    -------
    pandas.DataFrame
        Index ``customer_id_col`` (sorted), float columns ``frequency``, ``recency``, ``T``
        and ``monetary_value``. Empty (same columns) when no order is on or before
        ``observation_end``. ``attrs["time_unit"]`` records the unit, so the CLV functions
        can check it.

    Raises
    ------
    DataError
        A required column is missing or the Parquet file does not exist.
    ParamsError
        Bad ``time_unit``, ``nonpositive_periods`` or ``observation_end``.

    Examples
    --------
    >>> orders = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-11", "2024-01-05"]),
    ...     "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> rfm_summary(orders, "2024-01-31")  # doctest: +NORMALIZE_WHITESPACE
                 frequency  recency     T  monetary_value
    customer_id
    a                  1.0     10.0  30.0            20.0
    b                  0.0      0.0  26.0             0.0
    """
    check_rfm_options(time_unit, nonpositive_periods, amount_col)
    end = as_day(observation_end, "observation_end")
    columns = [customer_id_col, date_col] + ([amount_col] if amount_col else [])
    with duckdb_source(orders, columns) as (con, src):
        sql = _rfm_summary_sql(
            src,
            end,
            customer_id_col=customer_id_col,
            date_col=date_col,
            amount_col=amount_col,
            time_unit=time_unit,
            nonpositive_periods=nonpositive_periods,
        )
        out = _arrow_to_frame(con.sql(sql).to_arrow_table(), customer_id_col)
    out.attrs["time_unit"] = time_unit
    return out


def _rfm_summary_sql(
    src: str,
    end: pd.Timestamp,
    *,
    customer_id_col: str,
    date_col: str,
    amount_col: str | None,
    time_unit: str,
    nonpositive_periods: str,
) -> str:
    cid, day = sql_quote(customer_id_col), f"CAST({sql_quote(date_col)} AS DATE)"
    period = (
        day if time_unit == "D" else f"CAST(date_trunc('{_UNIT_TRUNC[time_unit]}', {day}) AS DATE)"
    )
    end_period = (
        sql_date(end)
        if time_unit == "D"
        else f"CAST(date_trunc('{_UNIT_TRUNC[time_unit]}', {sql_date(end)}) AS DATE)"
    )
    divisor = _UNIT_DAYS[time_unit]
    value = f", COALESCE(SUM({sql_money(sql_quote(amount_col))}), 0) AS v" if amount_col else ""
    having = (
        "HAVING COALESCE(SUM(" + sql_money(sql_quote(amount_col)) + "), 0) > 0"
        if nonpositive_periods == "drop"
        else ""
    )
    # monetary = (sum of all periods - first period) / repeats: one aggregate pass, no window
    # or join; arg_min picks the value of the earliest period.
    monetary = (
        ", CASE WHEN COUNT(*) > 1 THEN (SUM(v) - arg_min(v, p)) / (COUNT(*) - 1) "
        "ELSE 0.0 END AS monetary_value"
        if amount_col
        else ""
    )
    return f"""
        WITH periods AS (
            SELECT {cid} AS cid, {period} AS p{value}
            FROM {src}
            WHERE {cid} IS NOT NULL AND {day} <= {sql_date(end)}
            GROUP BY ALL
            {having}
        )
        SELECT cid AS {cid},
               CAST(COUNT(*) - 1 AS DOUBLE) AS frequency,
               date_diff('day', MIN(p), MAX(p)) / {divisor} AS recency,
               date_diff('day', MIN(p), {end_period}) / {divisor} AS "T"
               {monetary}
        FROM periods
        GROUP BY cid
        ORDER BY cid
    """


#: The RFM summary's SQL text (DuckDB SQL), for other engines (:mod:`analysis.engine.rfm`).
rfm_summary_sql = _rfm_summary_sql


def _arrow_to_frame(table, index_col: str) -> pd.DataFrame:
    # self_destruct frees each Arrow column as soon as it is converted (lower peak memory).
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    return frame.set_index(index_col)


# --------------------------------------------------------------------------------------
# RFM scores
# --------------------------------------------------------------------------------------


def rfm_scores(
    orders: OrdersSource,
    as_of: object,
    *,
    lookback_days: int | None = 365,
    customer_id_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
    ties: Literal["group", "split"] = "group",
) -> pd.DataFrame:
    """Recency, frequency and monetary value with quintile scores 1-5 and the RFM code.

    A purchase day is a customer-day whose net amount (orders minus refunds dated that day)
    is positive. Scored are the customers with at least one purchase day in the lookback
    window ``(as_of - lookback_days, as_of]``; customers without one belong to the
    lifecycle report (lapsed), not to RFM scoring.

    * ``recency_days``: days from the last purchase day to ``as_of`` (0 = bought that day);
    * ``frequency``: purchase days in the window;
    * ``monetary``: net revenue in the window (refunds included, so it can be below the sum
      of purchases).

    **Scores.** Customers are ranked by the raw number, ascending (days, purchase days,
    revenue), and the mid-rank position ``(rank - 0.5) / n`` is cut into fifths: position in
    [0, 0.2) is score 1, ..., [0.8, 1) is score 5. ``recency_days`` is reversed (``r_score``
    5 = most recent). With distinct values this is the ordinary quintile split (``n = 5k``
    customers give ``k`` per score); a single customer scores 3.

    Ties (``ties="group"``, default): equal values always get equal scores; a tie group takes
    the rank of its first member (``rank(method="min")``). When 70% of customers bought
    once, all of them get ``f_score`` 1, scores 2-3 stay empty and the others get 4 or 5: the
    distribution is reported as it is instead of splitting identical customers at random.
    Likewise all customers who bought on ``as_of`` itself get ``r_score`` 5. ``ties="split"``
    is the plain rank-first rule (ties broken by customer id), which keeps the five groups
    equal-sized but gives identical customers different scores.

    Parameters
    ----------
    orders
        Cleaned orders (DataFrame or Parquet path).
    as_of
        Snapshot day; orders after it are ignored (read as :func:`analysis.coerce.as_day`).
    lookback_days
        Length of the window for frequency and monetary; ``None`` uses all history.
    customer_id_col, date_col, amount_col
        Column names.
    ties
        ``"group"`` (default) or ``"split"``, see above.

    Returns
    -------
    pandas.DataFrame
        Index customer id (sorted); columns ``recency_days`` (int), ``frequency`` (int),
        ``monetary`` (float), ``r_score``, ``f_score``, ``m_score`` (int 1-5) and ``rfm_code``
        (str, e.g. ``"535"``). Empty with these columns when no customer bought in the window.

    Raises
    ------
    DataError
        A required column is missing.
    ParamsError
        Bad ``lookback_days``, ``ties`` or ``as_of``.

    Examples
    --------
    >>> orders = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "c"],
    ...     "order_date": pd.to_datetime(["2024-03-01", "2024-03-20", "2024-02-01", "2024-03-30"]),
    ...     "amount": [10.0, 30.0, 5.0, 8.0]})
    >>> rfm_scores(orders, "2024-03-31")["rfm_code"].tolist()
    ['355', '111', '513']
    """
    if ties not in ("group", "split"):
        raise ParamsError(f"ties must be 'group' or 'split', got {ties!r}")
    if lookback_days is not None and (
        isinstance(lookback_days, bool)
        or not isinstance(lookback_days, int | np.integer)
        or lookback_days <= 0
    ):
        raise ParamsError(
            f"lookback_days must be a positive integer or None, got {lookback_days!r}"
        )
    end = as_day(as_of, "as_of")
    cid, day, amt = (
        sql_quote(customer_id_col),
        f"CAST({sql_quote(date_col)} AS DATE)",
        sql_quote(amount_col),
    )
    in_window = (
        "TRUE"
        if lookback_days is None
        else f"d > {sql_date(end)} - INTERVAL {int(lookback_days)} DAY"
    )
    with duckdb_source(orders, [customer_id_col, date_col, amount_col]) as (con, src):
        sql = f"""
            WITH days AS (
                SELECT {cid} AS cid, {day} AS d, COALESCE(SUM({sql_money(amt)}), 0) AS v
                FROM {src}
                WHERE {cid} IS NOT NULL AND {day} <= {sql_date(end)}
                GROUP BY ALL
            )
            SELECT cid AS {cid},
                   date_diff('day', MAX(d) FILTER (WHERE v > 0), {sql_date(end)}) AS recency_days,
                   COUNT(*) FILTER (WHERE v > 0 AND {in_window}) AS frequency,
                   COALESCE(SUM(v) FILTER (WHERE {in_window}), 0) AS monetary
            FROM days
            GROUP BY cid
            HAVING COUNT(*) FILTER (WHERE v > 0 AND {in_window}) > 0
            ORDER BY cid
        """
        frame = _arrow_to_frame(con.sql(sql).to_arrow_table(), customer_id_col)
    frame = frame.astype({"recency_days": "int64", "frequency": "int64", "monetary": "float64"})
    ids = frame.index.to_numpy()
    r = 6 - quintile_scores(frame["recency_days"].to_numpy(), ids, ties=ties)
    f = quintile_scores(frame["frequency"].to_numpy(), ids, ties=ties)
    m = quintile_scores(frame["monetary"].to_numpy(), ids, ties=ties)
    frame["r_score"], frame["f_score"], frame["m_score"] = r, f, m
    frame["rfm_code"] = pd.Series(r * 100 + f * 10 + m, index=frame.index).astype("str")
    return frame


def subscription_scores(
    orders: OrdersSource,
    as_of: object,
    *,
    renewed_days: int,
    at_risk_days: int,
    lapsed_days: int,
    cycle_days: float,
    lookback_days: int | None = 365,
    customer_id_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
    ties: Literal["group", "split"] = "group",
) -> pd.DataFrame:
    """RFM scores for regular bills: renewal standing, tenure and plan value.

    With monthly bills every current subscriber was billed in the last month, so purchase
    recency and purchase days in a year are the same for nearly everybody and their
    quintiles say nothing. The three scores are read the subscription's way instead, on the
    same customers as :func:`rfm_scores` (a bill in the lookback window) and into the same
    columns, so the segment map, the tiers and the playbook apply unchanged:

    * ``r_score`` (renewal standing, fixed bands, not quintiles): 5 renewed this cycle (last
      bill at most ``renewed_days`` ago), 4 renewal due (at most ``at_risk_days``), 3 one
      renewal missed (at most ``lapsed_days``), 2 two or three missed (at most
      ``lapsed_days + 2 cycles``), 1 longer;
    * ``f_score``: quintile of the tenure in bills (``tenure_bills``: bill days ever, up to
      ``as_of``), not bills in the window;
    * ``m_score``: quintile of the plan value (``plan_value``: mean net amount per bill in
      the window).

    ``recency_days``, ``frequency`` (bill days in the window) and ``monetary`` (net window
    revenue) keep their :func:`rfm_scores` meaning. ``last_bill`` and ``previous_bill``
    (net amounts of the last two bill days) show plan changes.

    Parameters
    ----------
    orders
        Cleaned orders (DataFrame or Parquet path): the bills.
    as_of
        Snapshot day.
    renewed_days, at_risk_days, lapsed_days, cycle_days
        The billing bands in days (:func:`analysis.lifecycle.cycle_thresholds`: the cycle's
        upper band, at risk and lapsed thresholds, nominal cycle length).
    lookback_days, customer_id_col, date_col, amount_col, ties
        As :func:`rfm_scores`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`rfm_scores` plus ``tenure_bills``, ``plan_value``,
        ``last_bill`` and ``previous_bill`` (NaN with a single bill).

    Examples
    --------
    >>> days = pd.to_datetime(["2024-10-05", "2024-11-05", "2024-12-05", "2024-11-20"])
    >>> bills = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "order_date": days,
    ...                       "amount": [30.0, 30.0, 50.0, 20.0]})
    >>> out = subscription_scores(bills, "2024-12-31", renewed_days=32, at_risk_days=36,
    ...                           lapsed_days=67, cycle_days=30.4)
    >>> out["r_score"].tolist(), out["tenure_bills"].tolist()
    ([5, 3], [3, 1])
    """
    base = rfm_scores(
        orders,
        as_of,
        lookback_days=lookback_days,
        customer_id_col=customer_id_col,
        date_col=date_col,
        amount_col=amount_col,
        ties=ties,
    )
    end = as_day(as_of, "as_of")
    cid, day, amt = (
        sql_quote(customer_id_col),
        f"CAST({sql_quote(date_col)} AS DATE)",
        sql_quote(amount_col),
    )
    with duckdb_source(orders, [customer_id_col, date_col, amount_col]) as (con, src):
        sql = f"""
            WITH days AS (
                SELECT {cid} AS cid, {day} AS d, SUM({sql_money(amt)}) AS v
                FROM {src}
                WHERE {cid} IS NOT NULL AND {day} <= {sql_date(end)}
                GROUP BY ALL
                HAVING SUM({sql_money(amt)}) > 0
            ),
            ranked AS (
                SELECT cid, v, row_number() OVER (PARTITION BY cid ORDER BY d DESC) AS k
                FROM days
            )
            SELECT cid AS {cid}, COUNT(*) AS tenure_bills,
                   MAX(v) FILTER (WHERE k = 1) AS last_bill,
                   MAX(v) FILTER (WHERE k = 2) AS previous_bill
            FROM ranked GROUP BY cid ORDER BY cid
        """
        bills = _arrow_to_frame(con.sql(sql).to_arrow_table(), customer_id_col)
    out = base.join(bills, how="left")
    out["tenure_bills"] = out["tenure_bills"].fillna(0).astype("int64")
    out["last_bill"] = out["last_bill"].astype("float64")
    out["previous_bill"] = out["previous_bill"].astype("float64")
    out["plan_value"] = out["monetary"] / out["frequency"].where(out["frequency"] > 0)
    recency = out["recency_days"].to_numpy()
    bands = [renewed_days, at_risk_days, lapsed_days, lapsed_days + 2 * cycle_days]
    r = np.select([recency <= b for b in bands], [5, 4, 3, 2], default=1).astype("int64")
    ids = out.index.to_numpy()
    f = quintile_scores(out["tenure_bills"].to_numpy(), ids, ties=ties)
    m = quintile_scores(out["plan_value"].fillna(0.0).to_numpy(), ids, ties=ties)
    out["r_score"], out["f_score"], out["m_score"] = r, f, m
    out["rfm_code"] = pd.Series(r * 100 + f * 10 + m, index=out.index).astype("str")
    return out


def quintile_scores(
    values: np.ndarray, ids: np.ndarray | None = None, *, ties: str = "group", n_bins: int = 5
) -> np.ndarray:
    """Scores 1..n_bins from the ascending rank position (see :func:`rfm_scores`).

    ``ties="group"`` gives tied values the position of their first member; ``"split"`` ranks
    them in the order of ``ids`` (then input order).
    """
    values = np.asarray(values)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype="int64")
    if ties == "group":
        rank = pd.Series(values).rank(method="min").to_numpy()
    else:
        keys = (np.arange(n),) if ids is None else (np.arange(n), np.asarray(ids))
        order = np.lexsort((*keys, values))
        rank = np.empty(n)
        rank[order] = np.arange(1, n + 1)
    # Mid-rank plotting position: n = 5k distinct values give k customers per score, one
    # customer scores 3, and a tie group at the bottom (rank 1) always scores 1.
    position = (rank - 0.5) / n
    return (np.floor(position * n_bins).astype("int64") + 1).clip(1, n_bins)


# --------------------------------------------------------------------------------------
# Named RFM segments
# --------------------------------------------------------------------------------------

#: Recency x frequency map (r_score, f_score), the widely published 10-segment layout.
#: Key = segment key (snake_case, display name in the catalog as ``value.segment.<key>``);
#: value = list of cells, each ``"RF"`` (``"51"`` = r 5, f 1) or a block
#: ``"r:LO-HI,f:LO-HI"`` (a bound may be a single number: ``"r:3,f:1-2"``). Order = display
#: order, best first. The 25 cells are covered exactly once.
DEFAULT_SEGMENT_MAP: dict[str, list[str]] = {
    "champions": ["r:5,f:4-5"],
    "loyal": ["r:3-4,f:4-5"],
    "potential_loyalists": ["r:4-5,f:2-3"],
    "new": ["51"],
    "promising": ["41"],
    "need_attention": ["33"],
    "about_to_sleep": ["r:3,f:1-2"],
    "at_risk": ["r:1-2,f:3-4"],
    "cant_lose_them": ["r:1-2,f:5"],
    "hibernating": ["r:1-2,f:1-2"],
}

#: The map used for regular bills (:func:`subscription_scores`: r_score is the renewal
#: standing, 5 renewed this cycle, 4 renewal due, 3 one renewal missed, 2 two or three, 1
#: more; f_score the tenure quintile). Same keys as :data:`DEFAULT_SEGMENT_MAP`, so the
#: playbook covers both.
SUBSCRIPTION_SEGMENT_MAP: dict[str, list[str]] = {
    "champions": ["r:5,f:4-5"],
    "loyal": ["r:4,f:4-5"],
    "potential_loyalists": ["r:5,f:2-3"],
    "new": ["51"],
    "promising": ["41"],
    "need_attention": ["r:4,f:2-3"],
    "about_to_sleep": ["r:3,f:1-2"],
    "at_risk": ["r:3,f:3-5"],
    "cant_lose_them": ["r:1-2,f:4-5"],
    "hibernating": ["r:1-2,f:1-3"],
}

_CELL_RE = re.compile(r"^\s*([1-5])([1-5])\s*$")
_BLOCK_RE = re.compile(
    r"^\s*r\s*:\s*([1-5])(?:\s*-\s*([1-5]))?\s*,\s*f\s*:\s*([1-5])(?:\s*-\s*([1-5]))?\s*$"
)
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ALL_CELLS = [f"{r}{f}" for r in range(5, 0, -1) for f in range(5, 0, -1)]


def _expand_cell_spec(spec: object, segment: str) -> list[str]:
    text = str(spec)
    if m := _CELL_RE.match(text):
        return [m.group(1) + m.group(2)]
    if m := _BLOCK_RE.match(text):
        r_lo, r_hi = int(m.group(1)), int(m.group(2) or m.group(1))
        f_lo, f_hi = int(m.group(3)), int(m.group(4) or m.group(3))
        if r_lo > r_hi or f_lo > f_hi:
            raise ParamsError(f"segment {segment!r}: range {text!r} runs backwards")
        return [f"{r}{f}" for r in range(r_lo, r_hi + 1) for f in range(f_lo, f_hi + 1)]
    raise ParamsError(
        f"segment {segment!r}: cannot read cell {text!r}; use 'RF' such as '55' or a block "
        "such as 'r:4-5,f:1-2'"
    )


def validate_segment_map(segment_map: Mapping[str, Sequence[str] | str]) -> dict[str, str]:
    """Check that a segment map covers the 25 (r_score, f_score) cells exactly once.

    Parameters
    ----------
    segment_map
        ``{segment_key: [cell, ...]}`` in the format of :data:`DEFAULT_SEGMENT_MAP`; a single
        string is accepted in place of a one-element list.

    Returns
    -------
    dict
        The lookup ``{"RF": segment_key}`` for all 25 cells.

    Raises
    ------
    ParamsError
        A key is not snake_case, a cell cannot be read, or cells overlap or are missing; the
        message names every overlapping cell (with its segments) and every gap cell.

    Examples
    --------
    >>> validate_segment_map(DEFAULT_SEGMENT_MAP)["55"]
    'champions'
    """
    if not isinstance(segment_map, Mapping) or not segment_map:
        raise ParamsError("the segment map must be a non-empty mapping {segment: [cells]}")
    owners: dict[str, list[str]] = {}
    for key, specs in segment_map.items():
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise ParamsError(
                f"segment key {key!r} must be snake_case (lower-case letters, digits, '_')"
            )
        if isinstance(specs, str):
            specs = [specs]
        for spec in specs:
            for cell in _expand_cell_spec(spec, key):
                owners.setdefault(cell, []).append(key)
    overlaps = {c: segs for c, segs in owners.items() if len(segs) > 1}
    gaps = [c for c in _ALL_CELLS if c not in owners]
    if overlaps or gaps:
        parts = []
        if overlaps:
            shown = ", ".join(
                f"{c} ({' & '.join(overlaps[c])})" for c in _ALL_CELLS if c in overlaps
            )
            parts.append(f"cells in more than one segment: {shown}")
        if gaps:
            parts.append(f"cells in no segment: {', '.join(gaps)}")
        raise ParamsError(
            "the RFM segment map must cover each of the 25 recency x frequency cells "
            "(written 'RF', r_score then f_score) exactly once; " + "; ".join(parts) + "."
        )
    return {cell: segs[0] for cell, segs in owners.items()}


def rfm_segments(
    scores: pd.DataFrame, segment_map: Mapping[str, Sequence[str] | str] | None = None
) -> pd.DataFrame:
    """Add the named segment of each customer's (r_score, f_score) cell.

    Parameters
    ----------
    scores
        Output of :func:`rfm_scores` (needs ``r_score`` and ``f_score``).
    segment_map
        Segment map (see :data:`DEFAULT_SEGMENT_MAP`); ``None`` uses the default.

    Returns
    -------
    pandas.DataFrame
        A copy of ``scores`` with ``rfm_segment``: a categorical of segment keys whose
        categories are all the map's segments in the map's order (empty segments included,
        so tables and charts show them).

    Raises
    ------
    DataError
        ``r_score`` or ``f_score`` is missing or outside 1-5.
    ParamsError
        The map is invalid (see :func:`validate_segment_map`).

    Examples
    --------
    >>> s = pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1]}, index=["a", "b"])
    >>> rfm_segments(s)["rfm_segment"].tolist()
    ['champions', 'hibernating']
    """
    mapping = DEFAULT_SEGMENT_MAP if segment_map is None else segment_map
    lookup = validate_segment_map(mapping)
    for col in ("r_score", "f_score"):
        if col not in scores.columns:
            raise DataError("the required column is missing.", file="RFM scores", column=col)
        bad = scores[col][~scores[col].isin(range(1, 6))]
        if len(bad):
            raise DataError(
                "scores must be integers 1-5.", file="RFM scores", column=col, examples=bad.tolist()
            )
    out = scores.copy()
    r_cell = scores["r_score"].astype("int64").astype(str)
    cells = r_cell + scores["f_score"].astype("int64").astype(str)
    out["rfm_segment"] = pd.Categorical(cells.map(lookup), categories=list(mapping))
    return out


# --------------------------------------------------------------------------------------
# The eight RFM classes (RFM 八大类)
# --------------------------------------------------------------------------------------

#: Segment schemes of ``value.segment_scheme``: ``rfm10`` (the recency x frequency map of
#: :data:`DEFAULT_SEGMENT_MAP`) or ``rfm8`` (the eight classes of :data:`RFM8_CLASSES`).
SEGMENT_SCHEMES = ("rfm10", "rfm8")
#: What each RFM letter is compared with under ``rfm8`` (``value.rfm8.split``).
RFM8_SPLITS = ("mean", "median")
#: The eight RFM classes used by Chinese CRM practice (重要价值客户 ... 一般挽留客户): key ->
#: (recent, frequent, high spend), each letter high or low against a split of the scored
#: customers. Order = display order: the four 重要 (high-spend) classes first.
RFM8_CLASSES: dict[str, tuple[bool, bool, bool]] = {
    "important_value": (True, True, True),  # 重要价值客户 R近 F高 M高
    "important_retention": (False, True, True),  # 重要保持客户 R远 F高 M高
    "important_development": (True, False, True),  # 重要发展客户 R近 F低 M高
    "important_winback": (False, False, True),  # 重要挽留客户 R远 F低 M高
    "general_value": (True, True, False),  # 一般价值客户 R近 F高 M低
    "general_retention": (False, True, False),  # 一般保持客户 R远 F高 M低
    "general_development": (True, False, False),  # 一般发展客户 R近 F低 M低
    "general_winback": (False, False, False),  # 一般挽留客户 R远 F低 M低
}
#: The raw measures the three letters read, in :func:`rfm_scores` output.
RFM8_COLUMNS = ("recency_days", "frequency", "monetary")


def _check_split(split: str) -> str:
    if split not in RFM8_SPLITS:
        raise ParamsError(
            f"value.rfm8.split must be one of {', '.join(RFM8_SPLITS)}, got {split!r}"
        )
    return split


def rfm8_splits(
    scores: pd.DataFrame, *, split: str = "mean", columns: Sequence[str] = RFM8_COLUMNS
) -> dict[str, float]:
    """The value each RFM letter is compared with: the mean (or median) of each measure.

    Parameters
    ----------
    scores
        One row per scored customer with the three ``columns``.
    split
        ``"mean"`` (default) or ``"median"``; missing values are left out.
    columns
        Recency (days since the last purchase), frequency and monetary columns, in this
        order.

    Returns
    -------
    dict
        ``{"recency": r, "frequency": f, "monetary": m}`` (NaN without customers).
    """
    _check_split(split)
    out = {}
    for name, col in zip(("recency", "frequency", "monetary"), columns, strict=True):
        values = pd.to_numeric(scores[col], errors="coerce").astype("float64")
        out[name] = float(values.mean() if split == "mean" else values.median())
    return out


def rfm8_segments(
    scores: pd.DataFrame,
    *,
    split: str = "mean",
    columns: Sequence[str] = RFM8_COLUMNS,
    splits: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Add each customer's class of the eight RFM classes (:data:`RFM8_CLASSES`).

    Each letter is high or low against a split of the customers in ``scores`` (the mean, or
    the median with ``split="median"``): **R近** (recent) is a recency in days *below* the
    split, **F高** / **M高** a frequency / monetary value *above* it.

    **Ties.** A value exactly at the split counts as low: R远 (not recent), F低, M低. So
    近 and 高 always mean strictly better than the split, and when every customer has the
    same value of a measure, all are on its low side. This matters for the median of
    frequency: when most customers bought once, the median is 1 and F高 means "bought on
    more than one day" instead of everybody. A missing value (a monetary value that cannot
    be computed) is also low.

    Parameters
    ----------
    scores
        One row per scored customer: recency, frequency and monetary columns
        (:func:`rfm_scores` output by default).
    split
        ``"mean"`` (default) or ``"median"``.
    columns
        The recency, frequency and monetary columns, in this order
        (:func:`subscription_scores`: ``recency_days``, ``tenure_bills``, ``plan_value``).
    splits
        Fixed split values ``{"recency", "frequency", "monetary"}`` instead of computing
        them from ``scores`` (to classify an earlier snapshot on the same scale).

    Returns
    -------
    pandas.DataFrame
        A copy of ``scores`` with ``rfm_segment``: a categorical of the eight class keys
        (all eight as categories, in display order).

    Raises
    ------
    DataError
        A column is missing.
    ParamsError
        ``split`` is not mean or median.

    Examples
    --------
    >>> s = pd.DataFrame({"recency_days": [5, 300], "frequency": [9, 1],
    ...                   "monetary": [900.0, 20.0]}, index=["a", "b"])
    >>> rfm8_segments(s)["rfm_segment"].tolist()
    ['important_value', 'general_winback']
    """
    _check_split(split)
    for col in columns:
        if col not in scores.columns:
            raise DataError("the required column is missing.", file="RFM scores", column=col)
    cut = dict(splits) if splits is not None else rfm8_splits(scores, split=split, columns=columns)
    r, f, m = (pd.to_numeric(scores[c], errors="coerce").astype("float64") for c in columns)
    # NaN comparisons are False: a missing value is on the low (far) side, as a tie is.
    recent = (r < cut["recency"]).to_numpy()
    frequent = (f > cut["frequency"]).to_numpy()
    spend = (m > cut["monetary"]).to_numpy()
    lookup = {flags: key for key, flags in RFM8_CLASSES.items()}
    keys = [
        lookup[(bool(a), bool(b), bool(c))] for a, b, c in zip(recent, frequent, spend, strict=True)
    ]
    out = scores.copy()
    out["rfm_segment"] = pd.Categorical(keys, categories=list(RFM8_CLASSES))
    return out


def segment_label(key: str, language: str = "en") -> str:
    """Display name of a segment key from the catalog (``value.segment.<key>``).

    Keys of a custom map without a catalog entry fall back to the key in sentence case
    (``"vip_buyers"`` -> ``"Vip buyers"``).
    """
    from .i18n import catalog

    text = catalog(language).get(f"value.segment.{key}")
    return text if text is not None else key.replace("_", " ").capitalize()


# --------------------------------------------------------------------------------------
# Value tiers, ABC and the Pareto curve
# --------------------------------------------------------------------------------------


def _revenue_series(revenue: pd.Series) -> pd.Series:
    if not isinstance(revenue, pd.Series):
        raise ParamsError(
            "revenue must be a pandas Series of revenue per customer (index = customer id)"
        )
    values = pd.to_numeric(revenue, errors="coerce")
    if values.isna().any():
        bad = revenue[values.isna()]
        raise DataError(
            "revenue must be numeric and not missing.",
            file="revenue per customer",
            examples=[f"{i}: {v!r}" for i, v in bad.head(5).items()],
        )
    return values.astype("float64")


def _check_share(name: str, value: float) -> float:
    if not isinstance(value, int | float | np.floating) or not 0 < float(value) <= 1:
        raise ParamsError(f"{name} must be a share in (0, 1], got {value!r}")
    return float(value)


def value_tiers(
    revenue: pd.Series,
    *,
    a_share: float = 0.80,
    b_share: float = 0.15,
    high_share: float = 0.50,
    medium_share: float = 0.40,
) -> pd.DataFrame:
    """ABC classes and high / medium / low value tiers by cumulative revenue share.

    Customers are sorted by revenue, highest first. A customer's class is decided by the
    revenue share earned by the customers ranked *above* it: while that share is below
    ``a_share`` the customer is ``A`` (so the customer who crosses the threshold is still
    ``A``), then ``B`` while it is below ``a_share + b_share``, then ``C``. Customers with
    equal revenue get the same class (their group is placed by its first member). Tiers work
    the same way with ``high_share`` and ``high_share + medium_share``.

    Defaults: A = customers making the top 80% of revenue, B = the next 15%, C = the last 5%;
    high = top 50%, medium = the next 40%, low = the last 10%.

    Shares are of *positive* revenue. Customers with zero or negative revenue (nothing
    bought, or refunds exceeding purchases) contribute nothing, always get ``C`` / ``low``,
    and have ``revenue_share`` 0. When no customer has positive revenue, every customer is
    ``C`` / ``low`` and the share columns are NaN.

    Parameters
    ----------
    revenue
        Net revenue per customer (index = customer id), e.g. ``rfm_scores(...)["monetary"]``.
    a_share, b_share
        Revenue shares of classes A and B (their sum at most 1; C is the rest).
    high_share, medium_share
        Revenue shares of tiers high and medium (their sum at most 1; low is the rest).

    Returns
    -------
    pandas.DataFrame
        One row per customer sorted by ``rank``; columns ``revenue``, ``rank`` (1 = highest
        revenue; ties broken by customer id), ``revenue_share``, ``cumulative_share``
        (including this customer), ``abc_class`` (categorical A/B/C) and ``value_tier``
        (categorical high/medium/low).

    Raises
    ------
    ParamsError
        A share is outside (0, 1] or the pair sums to more than 1.
    DataError
        Revenue is missing or not numeric.

    Examples
    --------
    >>> rev = pd.Series([50.0, 30.0, 10.0, 6.0, 4.0], index=list("abcde"))
    >>> value_tiers(rev)["abc_class"].tolist()
    ['A', 'A', 'B', 'B', 'C']
    """
    a, b = _check_share("a_share", a_share), _check_share("b_share", b_share)
    hi, med = _check_share("high_share", high_share), _check_share("medium_share", medium_share)
    for names, total in (
        (("a_share", "b_share"), a + b),
        (("high_share", "medium_share"), hi + med),
    ):
        if total > 1 + 1e-12:
            raise ParamsError(f"{names[0]} + {names[1]} must be at most 1, got {total:g}")
    values = _revenue_series(revenue)
    frame = pd.DataFrame({"revenue": values})
    frame.index.name = revenue.index.name
    order = np.lexsort((frame.index.to_numpy().astype(str), -frame["revenue"].to_numpy()))
    frame = frame.iloc[order]
    frame["rank"] = np.arange(1, len(frame) + 1)
    positive = frame["revenue"].clip(lower=0.0)
    total = positive.sum()
    if total > 0:
        share = positive / total
        cumulative = share.cumsum()
        before = (cumulative - share).groupby(frame["revenue"].to_numpy()).transform("min")
        frame["revenue_share"] = share
        frame["cumulative_share"] = cumulative.clip(upper=1.0)
        earning = frame["revenue"] > 0
        tol = 1e-12  # cumulative sums of floats: 0.8 must not read as 0.80000000001
        abc = np.where(before < a - tol, "A", np.where(before < a + b - tol, "B", "C"))
        tier = np.where(
            before < hi - tol, "high", np.where(before < hi + med - tol, "medium", "low")
        )
        abc = np.where(earning, abc, "C")
        tier = np.where(earning, tier, "low")
    else:
        frame["revenue_share"] = np.nan
        frame["cumulative_share"] = np.nan
        abc = np.full(len(frame), "C")
        tier = np.full(len(frame), "low")
    frame["abc_class"] = pd.Categorical(abc, categories=list(ABC_CLASSES))
    frame["value_tier"] = pd.Categorical(tier, categories=list(VALUE_TIERS))
    return frame


def pareto_curve(revenue: pd.Series, *, max_points: int | None = 201) -> pd.DataFrame:
    """Cumulative share of revenue against cumulative share of customers (Lorenz/Pareto).

    Customers are sorted by revenue, highest first; revenue below zero counts as zero (see
    :func:`value_tiers`), all customers count on the customer axis.

    Parameters
    ----------
    revenue
        Net revenue per customer.
    max_points
        Thin the curve to about this many points for plotting (endpoints kept); ``None``
        keeps one point per customer.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_share`` and ``revenue_share``, both from 0 to 1, starting at
        (0, 0). ``revenue_share`` is NaN when there is no positive revenue; the frame is
        just the (0, 0) point when there are no customers.

    Examples
    --------
    >>> pareto_curve(pd.Series([3.0, 1.0]), max_points=None)["revenue_share"].tolist()
    [0.0, 0.75, 1.0]
    """
    values = np.sort(_revenue_series(revenue).clip(lower=0.0).to_numpy())[::-1]
    n = len(values)
    total = values.sum()
    customer_share = np.arange(n + 1) / max(n, 1)
    if total > 0:
        revenue_share = np.concatenate([[0.0], np.cumsum(values) / total])
        revenue_share[-1] = 1.0
    else:
        revenue_share = np.concatenate([[0.0], np.full(n, np.nan)])
    if max_points is not None:
        if max_points < 2:
            raise ParamsError(f"max_points must be at least 2 or None, got {max_points!r}")
        if n + 1 > max_points:
            keep = np.unique(np.linspace(0, n, max_points).round().astype(int))
            customer_share, revenue_share = customer_share[keep], revenue_share[keep]
    return pd.DataFrame({"customer_share": customer_share, "revenue_share": revenue_share})


def top_share(revenue: pd.Series, fraction: float = 0.2) -> float:
    """Share of (positive) revenue earned by the top ``fraction`` of customers.

    Read off the Pareto curve with linear interpolation, so ``fraction=0.2`` with 12
    customers counts 2.4 customers. NaN when there is no customer or no positive revenue.

    Examples
    --------
    >>> top_share(pd.Series([80.0, 5.0, 5.0, 5.0, 5.0]), 0.2)
    0.8
    """
    if not isinstance(fraction, int | float | np.floating) or not 0 <= float(fraction) <= 1:
        raise ParamsError(f"fraction must be between 0 and 1, got {fraction!r}")
    curve = pareto_curve(revenue, max_points=None)
    if len(curve) < 2 or curve["revenue_share"].isna().any():
        return float("nan")
    return float(np.interp(fraction, curve["customer_share"], curve["revenue_share"]))

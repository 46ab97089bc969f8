"""Customer-level features as of a date, computed in DuckDB.

One row per customer who bought before ``as_of``; every number uses only rows dated
*strictly before* ``as_of`` (point-in-time), so the same table can feed segmentation
today and a churn model trained on an earlier snapshot without leakage.

The heavy step (orders -> customers) is SQL text written once in DuckDB SQL
(:class:`FeatureSQL`). It runs in an embedded DuckDB connection by default, or, transpiled
to Spark SQL (:mod:`analysis.engine.spark_sql`), on Spark (``engine="spark"``). The inputs
may be pandas DataFrames or Parquet files (a path, a glob, or a list of paths) of any size;
only the customer-level result is materialised in pandas. Money is summed as exact
decimals (:func:`analysis.coerce.sql_money`) on both engines.

Output columns (see :func:`customer_features`)
-----------------------------------------------
recency_days, frequency, monetary, log_recency, log_frequency, log_monetary, tenure_days,
avg_order_value, log_avg_order_value, share_cat_<category>..., share_cat_other,
share_ch_<channel>..., share_ch_other, discount_share, return_rate, complaints,
satisfaction. Columns whose input is missing are absent, never filled with zeros.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd

from .coerce import as_day, sql_money, sql_quote
from .engine import DuckDBEngine, Engine, TableSource, open_engine
from .errors import DataError, ParamsError

__all__ = [
    "FEATURE_SETS",
    "DEFAULT_FEATURES",
    "FeatureSQL",
    "customer_features",
    "sanitize_name",
    "select_features",
]

DateLike = str | date | datetime | pd.Timestamp

#: Named feature sets for clustering. Entries may be glob patterns (``share_cat_*``);
#: :func:`select_features` expands them against a feature table and skips absent columns.
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    # Behaviour: log R/F/M, tenure, order value (log), category and channel mix,
    # discounts, returns, complaints, satisfaction (DESIGN §5).
    "default": (
        "log_recency",
        "log_frequency",
        "log_monetary",
        "tenure_days",
        "log_avg_order_value",
        "share_cat_*",
        "share_ch_*",
        "discount_share",
        "return_rate",
        "complaints",
        "satisfaction",
    ),
    # The value core only: for a quick, easily explained segmentation.
    "rfm": ("log_recency", "log_frequency", "log_monetary"),
    # Value plus behaviour without the mix shares (few, dense features).
    "compact": (
        "log_recency",
        "log_frequency",
        "log_monetary",
        "tenure_days",
        "log_avg_order_value",
        "discount_share",
        "return_rate",
        "complaints",
        "satisfaction",
    ),
}
DEFAULT_FEATURES: tuple[str, ...] = FEATURE_SETS["default"]

_DATE_TYPES = ("DATE", "TIMESTAMP")


# --------------------------------------------------------------------------- names
def sanitize_name(value: object) -> str:
    """Turn a category or channel value into a safe, deterministic column-name part.

    Unicode NFKC normalisation, case folding, every run of characters that are not
    letters, digits or ``_`` becomes one ``_``, leading/trailing ``_`` are stripped.
    Letters of any script are kept (``服装`` stays ``服装``), so names stay readable
    for Chinese data while remaining valid Python identifiers after a prefix.
    An empty result becomes ``"blank"``.

    Examples
    --------
    >>> sanitize_name("Home & Garden")
    'home_garden'
    >>> sanitize_name("  E-Commerce (APP) ")
    'e_commerce_app'
    """
    text = unicodedata.normalize("NFKC", str(value)).casefold()
    text = re.sub(r"[^\w]+", "_", text).strip("_")
    text = re.sub(r"_+", "_", text)
    return text or "blank"


def _unique_names(values: Iterable[object], reserved: Iterable[str] = ("other",)) -> list[str]:
    """Sanitise ``values`` in order; later collisions get ``_2``, ``_3``, ..."""
    used = set(reserved)
    names = []
    for value in values:
        base = sanitize_name(value)
        name, i = base, 2
        while name in used:
            name, i = f"{base}_{i}", i + 1
        used.add(name)
        names.append(name)
    return names


def select_features(
    features: pd.DataFrame | Iterable[str], feature_set: str | Sequence[str] = "default"
) -> list[str]:
    """Resolve a feature set against the columns of a feature table.

    Parameters
    ----------
    features
        A feature table (or its column names), e.g. from :func:`customer_features`.
    feature_set
        The name of an entry in :data:`FEATURE_SETS`, or a sequence of column names and
        glob patterns (``"share_cat_*"``).

    Returns
    -------
    list of str
        Matching columns in set order (patterns expand in table order); names or
        patterns with no matching column are skipped, so absent optional inputs
        (no surveys, no channel column) simply leave their features out.

    Raises
    ------
    ParamsError
        If ``feature_set`` is an unknown name.

    Examples
    --------
    >>> select_features(["log_recency", "share_cat_food", "x"], "default")
    ['log_recency', 'share_cat_food']
    """
    columns = list(features.columns) if isinstance(features, pd.DataFrame) else list(features)
    if isinstance(feature_set, str):
        if feature_set not in FEATURE_SETS:
            raise ParamsError(
                f"unknown feature set {feature_set!r}; choose one of {', '.join(FEATURE_SETS)} "
                "or give a list of column names"
            )
        patterns: Sequence[str] = FEATURE_SETS[feature_set]
    else:
        patterns = list(feature_set)
    selected: list[str] = []
    for pattern in patterns:
        matches = (
            [c for c in columns if fnmatch.fnmatchcase(str(c), pattern)]
            if any(ch in pattern for ch in "*?[")
            else [pattern]
            if pattern in columns
            else []
        )
        selected.extend(m for m in matches if m not in selected)
    return selected


def _require(
    types: dict[str, str], table: str, required: Sequence[str], dates: Sequence[str] = ()
) -> None:
    missing = [c for c in required if c not in types]
    if missing:
        raise DataError(
            f"required column(s) {', '.join(repr(c) for c in missing)} missing; "
            f"columns present: {', '.join(types) or '(none)'}.",
            file=table,
            column=missing[0],
        )
    for column in dates:
        if not types[column].startswith(_DATE_TYPES):
            raise DataError(
                f"must be a date or datetime column, got type {types[column]}; "
                "parse dates when loading the data.",
                file=table,
                column=column,
            )


# --------------------------------------------------------------------------- main entry
def customer_features(
    orders: TableSource,
    as_of: DateLike,
    *,
    customers: TableSource | None = None,
    surveys: TableSource | None = None,
    interactions: TableSource | None = None,
    business_unit: str | None = None,
    top_categories: int = 5,
    top_channels: int = 4,
    categories: Sequence[str] | None = None,
    channels: Sequence[str] | None = None,
    satisfaction_col: str = "csat",
    con: duckdb.DuckDBPyConnection | None = None,
    engine: Engine | str | None = None,
) -> pd.DataFrame:
    """Build one row of behavioural features per customer, as of a date.

    Only rows dated strictly before ``as_of`` are used (``order_date < as_of``,
    ``response_date < as_of``, ``date < as_of``); changing or adding later rows never
    changes the result. A customer is included when they have at least one completed
    (non-returned) order row before ``as_of``.

    Parameters
    ----------
    orders
        Cleaned orders (DataFrame, or Parquet path / glob / list of paths) with
        ``order_id``, ``customer_id``, ``order_date`` (datetime) and ``amount`` (net;
        negative = refund); optional ``status``, ``discount``, ``product_category``,
        ``channel``, ``business_unit``. Without ``status`` a negative amount marks a
        return row. A missing ``discount`` value counts as no discount.
    as_of
        Snapshot date; exclusive upper bound of the data used. A day: a time of day is
        dropped and a time-zone-aware value is taken in UTC first
        (:func:`analysis.coerce.as_day`), so the result depends only on the date.
    customers
        Optional customers table; its ``signup_date`` (when earlier than the first
        purchase) starts the tenure.
    surveys
        Optional survey responses; gives ``satisfaction``. Anonymous responses (no
        ``customer_id``) are ignored.
    interactions
        Optional service interactions; gives ``complaints``.
    business_unit
        Keep only rows of this unit in every table (each table then needs a
        ``business_unit`` column). ``None`` uses all rows.
    top_categories, top_channels
        How many ``product_category`` / ``channel`` values get their own share column:
        the ones with the largest completed purchase value before ``as_of`` over all
        customers (ties by value name); the rest, and missing values, go to ``_other``.
    categories, channels
        Explicit values for the share columns instead of the top-N rule, e.g. the
        values of the current period when building the previous period's features
        for :func:`analysis.segmentation.segment_migration`. They are stored in
        ``result.attrs["categories"]`` / ``["channels"]``.
    satisfaction_col
        Survey column averaged into ``satisfaction`` (``"csat"``; ``"nps"`` or a
        ``rating_*`` column also work). A survey without it gives no ``satisfaction``.
    con
        DuckDB connection to use (a new in-memory one by default).
    engine
        Where the SQL runs: ``None`` / ``"duckdb"`` (embedded DuckDB, on ``con``),
        ``"spark"`` (a default local Spark session), or an engine from
        :func:`analysis.engine.open_engine` (``engine: spark`` with its ``spark:``
        parameters). The result is the same table on every engine.

    Returns
    -------
    DataFrame
        Index ``customer_id`` (str, sorted), one row per customer, columns:

        - ``recency_days``: whole days from the last completed purchase day to ``as_of``.
        - ``frequency``: number of distinct days with a completed purchase.
        - ``monetary``: net revenue, sum of ``amount`` over all rows (refunds included).
        - ``log_recency``, ``log_frequency``, ``log_monetary``: ``log1p`` of the above;
          monetary is clipped at 0 first.
        - ``tenure_days``: days from the first purchase (or ``signup_date`` when that is
          earlier) to ``as_of``.
        - ``avg_order_value``: completed purchase value / number of completed orders
          (distinct ``order_id``); ``log_avg_order_value`` is its ``log1p`` (clipped at 0).
        - ``share_cat_<name>`` ... ``share_cat_other``: share of the customer's completed
          purchase value per category (sums to 1; NaN when that value is 0). Column names
          come from :func:`sanitize_name`; ``result.attrs["share_columns"]`` maps each
          column to ``[source column, original value]``. Only when ``product_category`` exists.
        - ``share_ch_<name>`` ... ``share_ch_other``: the same per ``channel``.
        - ``discount_share``: sum(discount) / sum(amount + discount) over completed rows
          (only when ``discount`` exists).
        - ``return_rate``: returned rows / completed orders.
        - ``complaints``: interactions of type ``complaint`` before ``as_of`` (only when
          ``interactions`` is given; 0 for customers with none).
        - ``satisfaction``: mean ``satisfaction_col`` of the customer's responses before
          ``as_of``; NaN when none (only when ``surveys`` is given and has that column).

    Raises
    ------
    DataError
        If a needed column is missing or a date column is not a date.
    ParamsError
        If ``as_of`` or a count parameter is invalid.

    Examples
    --------
    >>> feats = customer_features(orders, "2026-01-01", surveys=surveys)  # doctest: +SKIP
    >>> feats.loc["C001", ["recency_days", "frequency", "monetary"]]  # doctest: +SKIP
    """
    as_of_ts = as_day(as_of, "as_of").to_pydatetime()
    for name, value in (("top_categories", top_categories), ("top_channels", top_channels)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ParamsError(f"{name} must be a non-negative integer, got {value!r}")

    own = engine is None or isinstance(engine, str)
    if engine is None or engine == "duckdb":
        runner: Engine = DuckDBEngine(con)
    elif isinstance(engine, str):
        runner = open_engine({"engine": engine})
    else:
        runner = engine
    try:
        return _build(
            runner,
            orders,
            as_of_ts,
            customers=customers,
            surveys=surveys,
            interactions=interactions,
            business_unit=business_unit,
            top_categories=int(top_categories),
            top_channels=int(top_channels),
            categories=categories,
            channels=channels,
            satisfaction_col=satisfaction_col,
        )
    finally:
        runner.release()
        if own and isinstance(runner, DuckDBEngine):
            runner.close()


def _sql_text(value: object) -> str:
    """A string literal in DuckDB SQL (sqlglot re-escapes it for Spark)."""
    return "'" + str(value).replace("'", "''") + "'"


class FeatureSQL:
    """The heavy step's SQL text, generated once in DuckDB SQL for every engine.

    Pure text: no connection. :func:`customer_features` registers the inputs with an
    engine, runs :meth:`top_values` (which categories / channels get a share column) and
    then :meth:`features`; :class:`analysis.engine.spark.SparkEngine` transpiles both.
    Values (the date, the unit, category names) are literals, never parameters, so the
    text is the whole query.

    Parameters
    ----------
    views
        ``{table: view name}`` for ``orders`` and optionally ``customers``, ``surveys``,
        ``interactions``.
    types
        ``{table: {column: upper-case type}}`` of those views.
    as_of
        Snapshot day (exclusive bound).
    business_unit, satisfaction_col
        As in :func:`customer_features`.
    """

    def __init__(
        self,
        views: dict[str, str],
        types: dict[str, dict[str, str]],
        as_of: datetime,
        *,
        business_unit: str | None = None,
        satisfaction_col: str = "csat",
    ) -> None:
        self.views, self.types = views, types
        self.as_of = pd.Timestamp(as_of).normalize()
        self.business_unit, self.satisfaction_col = business_unit, satisfaction_col
        unit_required = ("business_unit",) if business_unit is not None else ()
        _require(
            types["orders"],
            "orders",
            ("order_id", "customer_id", "order_date", "amount", *unit_required),
            dates=("order_date",),
        )
        if "customers" in views:
            _require(types["customers"], "customers", ("customer_id", *unit_required))
            if "signup_date" in types["customers"]:
                _require(types["customers"], "customers", (), dates=("signup_date",))
        if "interactions" in views:
            _require(
                types["interactions"],
                "interactions",
                ("customer_id", "date", "type", *unit_required),
                ("date",),
            )
        if "surveys" in views and satisfaction_col in types["surveys"]:
            _require(
                types["surveys"],
                "surveys",
                ("customer_id", "response_date", satisfaction_col, *unit_required),
                ("response_date",),
            )
        self.has = {
            c: c in types["orders"] for c in ("status", "discount", "product_category", "channel")
        }

    @property
    def _before(self) -> str:
        return f"TIMESTAMP '{self.as_of.strftime('%Y-%m-%d %H:%M:%S')}'"

    @property
    def _day(self) -> str:
        return f"DATE '{self.as_of.date().isoformat()}'"

    @property
    def _unit_filter(self) -> str:
        if self.business_unit is None:
            return ""
        return f" AND business_unit = {_sql_text(self.business_unit)}"

    def _order_cte(self) -> str:
        is_ret = (
            "coalesce(lower(CAST(status AS VARCHAR)) = 'returned', amount < 0)"
            if self.has["status"]
            else "amount < 0"
        )
        select = [
            "CAST(customer_id AS VARCHAR) AS cid",
            "CAST(order_id AS VARCHAR) AS oid",
            "CAST(order_date AS DATE) AS day",
            f"{sql_money('amount')} AS amount",
            f"{is_ret} AS is_ret",
        ]
        if self.has["discount"]:
            select.append(f"coalesce({sql_money('discount')}, 0) AS discount")
        if self.has["product_category"]:
            select.append("CAST(product_category AS VARCHAR) AS cat")
        if self.has["channel"]:
            select.append("CAST(channel AS VARCHAR) AS ch")
        return (
            f"o AS (SELECT {', '.join(select)} FROM {self.views['orders']} "
            f"WHERE order_date < {self._before} AND customer_id IS NOT NULL "
            f"AND amount IS NOT NULL{self._unit_filter})"
        )

    def mixes(self) -> list[tuple[str, str, str]]:
        """(prefix, SQL column, source column) of the share features the orders allow."""
        return [
            (prefix, col, source)
            for prefix, col, source in (
                ("share_cat_", "cat", "product_category"),
                ("share_ch_", "ch", "channel"),
            )
            if self.has[source]
        ]

    def top_values(self, col: str, top: int) -> str:
        """The ``top`` values of ``col`` (``cat`` / ``ch``) by completed purchase value
        before ``as_of`` (ties by value name): one column, best first."""
        return (
            f"WITH {self._order_cte()} SELECT {col}, sum(amount) AS value FROM o "
            f"WHERE NOT is_ret AND {col} IS NOT NULL GROUP BY {col} "
            f"ORDER BY value DESC, {col} ASC LIMIT {int(top)}"
        )

    def features(self, mix_specs: list[tuple[str, str, list[str]]]) -> tuple[str, list[str]]:
        """The feature query and its share columns, for the chosen share values
        (``[(prefix, SQL column, values)]``)."""
        aggregates = [
            "max(day) FILTER (WHERE NOT is_ret) AS last_day",
            "min(day) FILTER (WHERE NOT is_ret) AS first_day",
            "count(DISTINCT day) FILTER (WHERE NOT is_ret) AS frequency",
            "sum(amount) AS monetary",
            "sum(amount) FILTER (WHERE NOT is_ret) AS gross",
            "count(DISTINCT oid) FILTER (WHERE NOT is_ret) AS n_orders",
            "count(*) FILTER (WHERE is_ret) AS n_returns",
        ]
        if self.has["discount"]:
            aggregates.append("sum(discount) FILTER (WHERE NOT is_ret) AS disc")
        mix_outputs: list[str] = []
        for prefix, col, values in mix_specs:
            for name, value in zip(_unique_names(values), values, strict=True):
                aggregates.append(
                    f"coalesce(sum(amount) FILTER (WHERE NOT is_ret AND {col} = "
                    f"{_sql_text(value)}), 0) AS {sql_quote(prefix + name)}"
                )
                mix_outputs.append(prefix + name)
            if values:
                listed = ", ".join(_sql_text(v) for v in values)
                other = f"({col} IS NULL OR {col} NOT IN ({listed}))"
            else:
                other = "TRUE"
            aggregates.append(
                f"coalesce(sum(amount) FILTER (WHERE NOT is_ret AND {other}), 0) "
                f"AS {sql_quote(prefix + 'other')}"
            )
            mix_outputs.append(prefix + "other")

        ctes = [
            self._order_cte(),
            f"agg AS (SELECT cid, {', '.join(aggregates)} FROM o GROUP BY cid)",
        ]
        joins = []
        first_day = "a.first_day"
        unit_filter, before = self._unit_filter, self._before
        if "customers" in self.views and "signup_date" in self.types["customers"]:
            ctes.append(
                f"cust AS (SELECT CAST(customer_id AS VARCHAR) AS cid, "
                f"min(CAST(signup_date AS DATE)) AS signup_day FROM {self.views['customers']} "
                f"WHERE signup_date < {before} AND customer_id IS NOT NULL{unit_filter} "
                "GROUP BY 1)"
            )
            joins.append("LEFT JOIN cust USING (cid)")
            first_day = "least(a.first_day, cust.signup_day)"
        outputs = [
            "a.cid AS customer_id",
            f"date_diff('day', a.last_day, {self._day}) AS recency_days",
            "a.frequency",
            "a.monetary",
            f"date_diff('day', {first_day}, {self._day}) AS tenure_days",
            "a.gross / nullif(a.n_orders, 0) AS avg_order_value",
        ]
        outputs += [f"a.{sql_quote(c)} / nullif(a.gross, 0) AS {sql_quote(c)}" for c in mix_outputs]
        if self.has["discount"]:
            outputs.append("a.disc / nullif(a.gross + a.disc, 0) AS discount_share")
        outputs.append("a.n_returns / nullif(a.n_orders, 0) AS return_rate")
        if "interactions" in self.views:
            ctes.append(
                f"compl AS (SELECT CAST(customer_id AS VARCHAR) AS cid, count(*) AS n "
                f"FROM {self.views['interactions']} WHERE date < {before} "
                f"AND lower(CAST(type AS VARCHAR)) = 'complaint'{unit_filter} GROUP BY 1)"
            )
            joins.append("LEFT JOIN compl USING (cid)")
            outputs.append("coalesce(compl.n, 0) AS complaints")
        if "surveys" in self.views and self.satisfaction_col in self.types["surveys"]:
            ctes.append(
                f"sat AS (SELECT CAST(customer_id AS VARCHAR) AS cid, "
                f"avg(CAST({sql_quote(self.satisfaction_col)} AS DOUBLE)) AS s "
                f"FROM {self.views['surveys']} WHERE response_date < {before} "
                f"AND customer_id IS NOT NULL{unit_filter} GROUP BY 1)"
            )
            joins.append("LEFT JOIN sat USING (cid)")
            outputs.append("sat.s AS satisfaction")
        sql = (
            f"WITH {', '.join(ctes)} SELECT {', '.join(outputs)} FROM agg a {' '.join(joins)} "
            "WHERE a.last_day IS NOT NULL ORDER BY customer_id"
        )
        return sql, mix_outputs


def _build(
    engine: Engine,
    orders: TableSource,
    as_of: datetime,
    *,
    customers: TableSource | None,
    surveys: TableSource | None,
    interactions: TableSource | None,
    business_unit: str | None,
    top_categories: int,
    top_channels: int,
    categories: Sequence[str] | None,
    channels: Sequence[str] | None,
    satisfaction_col: str,
) -> pd.DataFrame:
    views: dict[str, str] = {}
    types: dict[str, dict[str, str]] = {}
    for table, source in (
        ("orders", orders),
        ("customers", customers),
        ("surveys", surveys),
        ("interactions", interactions),
    ):
        if source is not None:
            views[table], types[table] = engine.register(table, source)
    query = FeatureSQL(
        views, types, as_of, business_unit=business_unit, satisfaction_col=satisfaction_col
    )
    # Which categories / channels get a share column (point-in-time: from rows before as_of).
    share_columns: dict[str, tuple[str, str]] = {}
    mix_specs: list[tuple[str, str, list[str]]] = []
    for prefix, col, source_col in query.mixes():
        given = categories if col == "cat" else channels
        if given is not None:
            values = [str(v) for v in given]
        else:
            top = top_categories if col == "cat" else top_channels
            values = [str(v) for v in engine.query(query.top_values(col, top))[col]]
        mix_specs.append((prefix, col, values))
        for name, value in zip(_unique_names(values), values, strict=True):
            share_columns[prefix + name] = (source_col, value)
        share_columns[prefix + "other"] = (source_col, "(other)")
    sql, mix_outputs = query.features(mix_specs)
    return _finish(engine.query(sql), mix_outputs, share_columns, mix_specs, as_of)


def _finish(
    raw: pd.DataFrame,
    mix_outputs: list[str],
    share_columns: dict[str, tuple[str, str]],
    mix_specs: list[tuple[str, str, list[str]]],
    as_of: datetime,
) -> pd.DataFrame:
    frame = raw.set_index("customer_id")
    frame.index = frame.index.astype(str)
    out = pd.DataFrame(index=frame.index)
    out["recency_days"] = frame["recency_days"].astype("int64")
    out["frequency"] = frame["frequency"].astype("int64")
    out["monetary"] = frame["monetary"].astype("float64")
    out["log_recency"] = np.log1p(out["recency_days"].clip(lower=0).astype("float64"))
    out["log_frequency"] = np.log1p(out["frequency"].astype("float64"))
    out["log_monetary"] = np.log1p(out["monetary"].clip(lower=0))
    out["tenure_days"] = frame["tenure_days"].astype("int64")
    out["avg_order_value"] = frame["avg_order_value"].astype("float64")
    out["log_avg_order_value"] = np.log1p(out["avg_order_value"].clip(lower=0))
    for column in mix_outputs:
        out[column] = frame[column].astype("float64")
    for column in ("discount_share", "return_rate"):
        if column in frame:
            out[column] = frame[column].astype("float64")
    if "complaints" in frame:
        out["complaints"] = frame["complaints"].astype("int64")
    if "satisfaction" in frame:
        out["satisfaction"] = frame["satisfaction"].astype("float64")
    out.index.name = "customer_id"
    # attrs stay JSON-serialisable so the table can be cached as Parquet.
    out.attrs["as_of"] = pd.Timestamp(as_of).isoformat()
    out.attrs["share_columns"] = {k: list(v) for k, v in share_columns.items()}
    for prefix, _, values in mix_specs:
        out.attrs["categories" if prefix == "share_cat_" else "channels"] = list(values)
    return out

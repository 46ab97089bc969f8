"""The DuckDB -> Spark SQL translation, without a JVM (runs in the normal suite).

Every query of the heavy step, for every input shape, transpiles to Spark SQL that
parses and uses none of the constructs whose meaning differs; each override is pinned
by the rewrite it makes, and the DuckDB meaning it preserves is checked on DuckDB.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
import sqlglot

from analysis.engine.spark_sql import OVERRIDES, UnsupportedSQL, to_spark, unsafe_constructs
from analysis.features import FeatureSQL
from analysis.value import rfm_summary_sql

FULL = {
    "orders": {
        "order_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "order_date": "TIMESTAMP",
        "amount": "DOUBLE",
        "discount": "DOUBLE",
        "product_category": "VARCHAR",
        "channel": "VARCHAR",
        "status": "VARCHAR",
        "business_unit": "VARCHAR",
    },
    "customers": {"customer_id": "VARCHAR", "signup_date": "DATE", "business_unit": "VARCHAR"},
    "surveys": {
        "customer_id": "VARCHAR",
        "response_date": "TIMESTAMP",
        "csat": "DOUBLE",
        "business_unit": "VARCHAR",
    },
    "interactions": {
        "customer_id": "BIGINT",
        "date": "DATE",
        "type": "VARCHAR",
        "business_unit": "VARCHAR",
    },
}
MINIMAL = {
    "orders": {c: FULL["orders"][c] for c in ("order_id", "customer_id", "order_date", "amount")}
}


def _feature_queries(types: dict, unit: str | None) -> list[str]:
    views = {table: f"segreport_{table}_0" for table in types}
    query = FeatureSQL(views, types, pd.Timestamp("2025-03-31"), business_unit=unit)
    odd = ["It's", "back\\slash", "服装", 'q"uote', "50%_off", ""]
    specs = [(prefix, col, odd) for prefix, col, _ in query.mixes()]
    queries = [query.top_values(col, 5) for _, col, _ in query.mixes()]
    queries.append(query.features(specs)[0])
    queries.append(query.features([(p, c, []) for p, c, _ in specs])[0])
    return queries


def _rfm_queries() -> list[str]:
    return [
        rfm_summary_sql(
            "segreport_orders_0",
            pd.Timestamp("2025-03-31"),
            customer_id_col="customer_id",
            date_col="order_date",
            amount_col=amount,
            time_unit=unit,
            nonpositive_periods=rule,
        )
        for unit in ("D", "W", "M")
        for amount, rule in (("amount", "keep"), ("amount", "drop"), (None, "keep"))
    ]


ALL_QUERIES = (
    _feature_queries(FULL, None)
    + _feature_queries(FULL, "O'Brien & Co")
    + _feature_queries(MINIMAL, None)
    + _rfm_queries()
)


@pytest.mark.parametrize("sql", ALL_QUERIES, ids=range(len(ALL_QUERIES)))
def test_every_heavy_step_query_transpiles_to_safe_spark_sql(sql):
    spark = to_spark(sql, schema={f"segreport_{t}_0": c for t, c in FULL.items()})
    tree = sqlglot.parse_one(spark, read="spark")  # raises on invalid Spark SQL
    assert tree.find(sqlglot.exp.Select) is not None
    assert unsafe_constructs(spark) == []
    assert "$" not in spark  # literals only: the text is the whole query


def test_the_duckdb_originals_run_on_duckdb():
    con = duckdb.connect()
    for table, columns in FULL.items():
        cols = ", ".join(f'NULL::{kind} AS "{name}"' for name, kind in columns.items())
        con.execute(f"CREATE VIEW segreport_{table}_0 AS SELECT {cols} WHERE FALSE")
    for sql in ALL_QUERIES:
        assert con.execute(sql).fetchall() == []


def test_the_safety_check_catches_what_plain_sqlglot_leaves():
    raw = sqlglot.transpile(
        "SELECT quantile_cont(x, 0.5), median(x), stddev(x), date_diff('month', a, b) FROM t",
        read="duckdb",
        write="spark",
    )[0]
    assert set(unsafe_constructs(raw)) == {"PERCENTILE_CONT", "MEDIAN", "STDDEV", "DATEDIFF(MONTH)"}


SCHEMA = {"t": {"x": "DOUBLE", "d": "DECIMAL(38,6)", "i": "BIGINT", "a": "DATE", "b": "TIMESTAMP"}}

#: (override kind, DuckDB SQL, Spark SQL it must become)
REWRITES = [
    ("PercentileCont", "SELECT quantile_cont(x, 0.25) FROM t", "SELECT PERCENTILE(x, 0.25) FROM t"),
    ("Median", "SELECT median(x) FROM t", "SELECT PERCENTILE(x, 0.5) FROM t"),
    (
        "PercentileDisc",
        "SELECT quantile_disc(x, 0.9) FROM t",
        "SELECT PERCENTILE_DISC(0.9) WITHIN GROUP (ORDER BY x NULLS LAST) FROM t",
    ),
    (
        "Quantile",
        "SELECT quantile(x, 0.5) FROM t",
        "SELECT PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY x NULLS LAST) FROM t",
    ),
    ("Cast", "SELECT CAST(x AS BIGINT) FROM t", "SELECT CAST(BROUND(x) AS BIGINT) FROM t"),
    ("Cast", "SELECT CAST(d AS INTEGER) FROM t", "SELECT CAST(ROUND(d) AS INT) FROM t"),
    ("Cast", "SELECT CAST(i AS BIGINT) FROM t", "SELECT CAST(i AS BIGINT) FROM t"),
    ("Cast", "SELECT CAST(2.5 AS BIGINT) FROM t", "SELECT CAST(ROUND(2.5) AS BIGINT) FROM t"),
    (
        "Cast",
        "WITH w AS (SELECT x * 2 AS y FROM t) SELECT CAST(y AS BIGINT) FROM w",
        "WITH w AS (SELECT x * 2 AS y FROM t) SELECT CAST(BROUND(y) AS BIGINT) FROM w",
    ),
    (
        "DateDiff",
        "SELECT date_diff('month', a, b) FROM t",
        "SELECT ((YEAR(b) - YEAR(a)) * 12 + (MONTH(b) - MONTH(a))) FROM t",
    ),
    (
        "DateDiff",
        "SELECT date_diff('quarter', a, b) FROM t",
        "SELECT ((YEAR(b) - YEAR(a)) * 4 + (QUARTER(b) - QUARTER(a))) FROM t",
    ),
    ("DateDiff", "SELECT date_diff('year', a, b) FROM t", "SELECT (YEAR(b) - YEAR(a)) FROM t"),
    (
        "DateDiff",
        "SELECT date_diff('day', a, b) FROM t",
        "SELECT DATEDIFF(CAST(b AS DATE), CAST(a AS DATE)) FROM t",
    ),
    ("DayOfWeek", "SELECT dayofweek(a) FROM t", "SELECT (DAYOFWEEK(a) - 1) FROM t"),
    ("DayOfWeekIso", "SELECT isodow(a) FROM t", "SELECT (WEEKDAY(a) + 1) FROM t"),
    ("Div", "SELECT d / i FROM t", "SELECT CAST(d AS DOUBLE) / CAST(i AS DOUBLE) FROM t"),
    ("Stddev", "SELECT stddev(x) FROM t", "SELECT STDDEV_SAMP(x) FROM t"),
    ("Variance", "SELECT variance(x) FROM t", "SELECT VAR_SAMP(x) FROM t"),
]


@pytest.mark.parametrize(("kind", "duck", "spark"), REWRITES)
def test_each_override_rewrites_to_the_spark_construct_with_duckdbs_meaning(kind, duck, spark):
    assert to_spark(duck, schema=SCHEMA) == spark


def test_every_override_has_a_rewrite_test():
    assert {kind for kind, _, _ in REWRITES} == {k.__name__ for k in OVERRIDES}


def test_untouched_constructs_pass_through():
    assert to_spark("SELECT stddev_pop(x), i // 2, 'it''s' FROM t") == (
        "SELECT STDDEV_POP(x), i DIV 2, 'it\\'s' FROM t"
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT date_diff('week', a, b) FROM t", "date_diff('week'"),
        ("SELECT date_diff('hour', a, b) FROM t", "date_diff('hour'"),
        ("SELECT quantile_cont(x, [0.1, 0.5]) FROM t", "one quantile per call"),
    ],
)
def test_constructs_without_a_same_meaning_rewrite_are_refused(sql, message):
    with pytest.raises(UnsupportedSQL, match=message.replace("(", r"\(")):
        to_spark(sql)


def test_the_duckdb_meanings_the_overrides_keep():
    """What the rewrites reproduce on Spark (its side is checked in the spark lane)."""
    row = (
        duckdb.connect()
        .execute(
            "SELECT CAST(2.5::DOUBLE AS BIGINT), CAST(-2.5::DOUBLE AS BIGINT), "
            "CAST(3.5::DOUBLE AS BIGINT), CAST(2.5::DECIMAL(9,2) AS BIGINT), "
            "CAST(-2.5::DECIMAL(9,2) AS BIGINT), "
            "date_diff('month', DATE '2025-01-31', DATE '2025-02-01'), "
            "dayofweek(DATE '2025-11-30'), isodow(DATE '2025-11-30'), "
            "typeof(CAST(1 AS DECIMAL(38,6)) / 3)"
        )
        .fetchone()
    )
    assert row == (2, -2, 4, 3, -3, 1, 0, 7, "DOUBLE")

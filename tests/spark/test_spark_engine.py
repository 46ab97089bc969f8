"""DuckDB against Spark on crafted and edge-case rows (the ``spark`` lane).

Each override of :mod:`analysis.engine.spark_sql` is checked by value: the DuckDB query
on DuckDB and its transpiled form on Spark give the same numbers. Then the whole
customer feature table and the RFM summary: integers exact, floats to rtol 1e-9.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import spark_fixtures
from spark_edge_data import AS_OF, assert_same_table, edge_tables

from analysis.engine import DuckDBEngine, open_engine
from analysis.engine.rfm import rfm_summary as engine_rfm_summary
from analysis.errors import ParamsError
from analysis.features import customer_features
from analysis.value import rfm_summary

pytestmark = pytest.mark.spark


@pytest.fixture
def spark_engine():
    engine = spark_fixtures.engine()
    yield engine
    engine.release()


@pytest.fixture(scope="module")
def crafted() -> pd.DataFrame:
    """Ties, halves of both signs, NULLs; month ends, a leap day, a week around Sundays;
    timestamps either side of midnight."""
    x = [2.5, -2.5, 3.5, 0.5, -0.5, 1.4999999, 2.5, None, 7.0, 7.0, -3.5, 1e9 + 0.1, 1e9 + 0.2]
    a = pd.to_datetime(
        [
            "2024-01-31", "2024-02-29", "2023-12-31", "2024-03-01", "2024-03-02", "2024-03-03",
            "2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08", "2025-11-30",
            "2020-02-29",
        ]
    )  # fmt: skip
    b = pd.to_datetime(
        [
            "2024-02-01 00:00:00", "2024-03-31 23:59:59", "2024-01-01 00:00:01",
            "2024-03-31 00:00:00", "2025-02-28 12:00:00", "2024-03-03 23:59:59",
            "2023-03-04 00:00:00", "2024-03-05 00:00:00", "2024-06-30 00:00:00",
            "2024-04-01 00:00:00", "2024-12-31 23:59:59", "2026-01-01 00:00:00",
            "2021-02-28 00:00:00",
        ]
    )  # fmt: skip
    return pd.DataFrame(
        {"id": range(len(x)), "g": [i % 3 for i in range(len(x))], "x": x, "a": a, "b": b}
    )


def _both(sql: str, frame: pd.DataFrame, spark_engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    duck = DuckDBEngine()
    try:
        view, _ = duck.register("t", frame)
        expected = duck.query(sql.format(t=view))
    finally:
        duck.close()
    view, _ = spark_engine.register("t", frame)
    return expected, spark_engine.query(sql.format(t=view))


OVERRIDE_QUERIES = {
    "quantiles": "SELECT g, quantile_cont(x, 0.25) AS q1, median(x) AS m, "
    "quantile_disc(x, 0.9) AS qd, quantile(x, 0.5) AS q, quantile_cont(x, 0.9) AS q9 "
    "FROM {t} GROUP BY g ORDER BY g",
    "integer casts": "SELECT id, CAST(x AS BIGINT) AS ci, CAST(x * 3 AS BIGINT) AS c3, CAST(x / 1e6 AS INTEGER) AS c6, "
    "CAST(CAST(x AS DECIMAL(18, 1)) AS BIGINT) AS cd, CAST(2.5 AS BIGINT) AS lit "
    "FROM {t} WHERE x IS NOT NULL ORDER BY id",
    "date_diff": "SELECT id, date_diff('month', a, b) AS m, date_diff('quarter', a, b) AS q, "
    "date_diff('year', a, b) AS y, date_diff('day', a, b) AS d, "
    "date_diff('day', b, CAST(a AS TIMESTAMP) + INTERVAL 1 HOUR) AS d2, "
    "date_diff('month', CAST(b AS DATE), a) AS back FROM {t} ORDER BY id",
    "day of week": "SELECT id, dayofweek(a) AS dow, isodow(a) AS iso, dayofweek(b) AS dow_b "
    "FROM {t} ORDER BY id",
    "division": "SELECT g, sum(CAST(x AS DECIMAL(38, 6))) / count(x) AS mean_exact, "
    "sum(CAST(x AS DECIMAL(38, 6))) / 3 AS third, count(*) / 7 AS ints "
    "FROM {t} GROUP BY g ORDER BY g",
    "sample and population statistics": "SELECT g, stddev(x) AS sd, variance(x) AS var, "
    "stddev_pop(x) AS sd_pop, var_pop(x) AS var_pop, stddev_samp(x) AS sd_samp "
    "FROM {t} GROUP BY g ORDER BY g",
}


@pytest.mark.parametrize("name", list(OVERRIDE_QUERIES))
def test_each_override_gives_duckdbs_value_on_spark(name, crafted, spark_engine):
    expected, actual = _both(OVERRIDE_QUERIES[name], crafted, spark_engine)
    # integers exact; floats: the quantiles and divisions to rounding, the one-pass
    # variance updates of the two engines differ in the last bits only
    assert_same_table(expected, actual, rtol=1e-12 if name != "sample and population "
                      "statistics" else 1e-9)  # fmt: skip


def test_the_crafted_rows_reach_the_cases_that_differ(crafted):
    """Without the overrides these rows would differ (so the checks above can fail)."""
    x = crafted["x"].dropna()
    assert ((x * 2) % 2 == 1).sum() >= 4  # halves: rounding and truncation differ
    a, b = crafted["a"], crafted["b"]
    months = (b.dt.year - a.dt.year) * 12 + (b.dt.month - a.dt.month)
    elapsed = np.floor((b - a).dt.days / 30.44)
    assert (months != elapsed).any()  # boundaries counted vs elapsed months
    assert (a.dt.dayofweek == 6).sum() >= 2  # Sundays


@pytest.mark.parametrize("n_random", [0, 300])
@pytest.mark.parametrize("unit", [None, "retail"])
def test_feature_tables_are_the_same_on_both_engines(n_random, unit, spark_engine):
    tables = edge_tables(n_random=n_random)
    if unit is not None:  # categoricals, as a loader may give them (DuckDB ENUM, Arrow dictionary)
        for column in ("product_category", "channel"):
            tables["orders"][column] = tables["orders"][column].astype("category")
    kwargs = {
        "customers": tables["customers"],
        "surveys": tables["surveys"],
        "interactions": tables["interactions"],
        "business_unit": unit,
        "top_categories": 2,
    }
    expected = customer_features(tables["orders"], AS_OF, **kwargs)
    actual = customer_features(tables["orders"], AS_OF, engine=spark_engine, **kwargs)
    assert actual.index.tolist() == expected.index.tolist()
    assert actual.attrs == expected.attrs
    assert (actual.dtypes == expected.dtypes).all()
    assert_same_table(expected, actual, rtol=1e-9)
    assert "no_orders" not in actual.index and "later" not in actual.index
    if n_random == 0 and unit is None:
        # planted: A'pos and 服装 tie at 50 behind B\slash (110); the name breaks the tie
        assert actual.attrs["categories"] == ["B\\slash", "A'pos"]
        assert "ref" not in actual.index  # refunds only: no completed purchase
        assert actual.loc["pos_ret", ["monetary", "return_rate"]].tolist() == [100.0, 1.0]
        assert actual.loc["nul", "frequency"] == 1  # the NULL amount row is left out


def test_feature_tables_from_parquet_paths_are_the_same(tmp_path, spark_engine):
    tables = edge_tables(n_random=300)
    paths = {}
    for name, frame in tables.items():
        paths[name] = str(tmp_path / f"{name}.parquet")
        frame.to_parquet(paths[name], index=False)
    kwargs = {k: paths[k] for k in ("customers", "surveys", "interactions")}
    expected = customer_features(tables["orders"], AS_OF, **{k: tables[k] for k in kwargs})
    actual = customer_features(paths["orders"], AS_OF, engine=spark_engine, **kwargs)
    assert actual.attrs == expected.attrs
    assert_same_table(expected, actual, rtol=1e-9)


@pytest.mark.parametrize("time_unit", ["D", "W", "M"])
@pytest.mark.parametrize("rule", ["keep", "drop"])
def test_rfm_summary_is_the_same_on_both_engines(time_unit, rule, spark_engine):
    orders = edge_tables(n_random=300)["orders"].dropna(subset=["amount"])
    expected = rfm_summary(orders, AS_OF, time_unit=time_unit, nonpositive_periods=rule)
    actual = engine_rfm_summary(
        orders, AS_OF, engine=spark_engine, time_unit=time_unit, nonpositive_periods=rule
    )
    assert actual.index.tolist() == expected.index.astype(str).tolist()
    assert_same_table(expected.reset_index(drop=True), actual.reset_index(drop=True))
    assert actual.attrs["time_unit"] == time_unit


def test_open_engine_builds_the_session_from_params(spark_engine):
    engine = open_engine({"engine": "spark", "spark": {"master": "local[1]", "conf": {}}})
    assert engine.name == "spark"
    assert engine.session.conf.get("spark.sql.session.timeZone") == "UTC"
    with pytest.raises(ParamsError, match="timeZone must be UTC"):
        open_engine(
            {"engine": "spark", "spark": {"conf": {"spark.sql.session.timeZone": "Asia/Shanghai"}}}
        )

"""The ``engine`` and ``spark`` parameters, and the DuckDB engine (no JVM needed)."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from analysis.config import load_params
from analysis.engine import DuckDBEngine, engine_for, open_engine
from analysis.errors import DataError, ParamsError
from analysis.features import customer_features


def test_the_default_engine_is_duckdb():
    params = load_params()
    assert params["engine"] == "duckdb"
    assert isinstance(open_engine(params), DuckDBEngine)
    assert engine_for(params) is None and engine_for(None) is None  # the embedded default


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"engine": "polars"}, "'engine' must be one of duckdb, spark"),
        ({"spark": {"master": "localhost"}}, "is not a Spark master"),
        ({"spark": {"conf": {"spark.executor.memory": ["4g"]}}}, "spark.conf.spark.executor"),
    ],
)
def test_bad_engine_parameters_stop_with_a_message(overrides, message):
    with pytest.raises(ParamsError, match=message.replace(".", r"\.")):
        load_params(overrides=overrides)


@pytest.mark.parametrize(
    "master", ["local", "local[1]", "local[*]", "spark://h:7077", "yarn", "sc://h:15002"]
)
def test_spark_masters_of_every_kind_are_accepted(master):
    params = load_params(overrides={"engine": "spark", "spark": {"master": master}})
    assert params["spark"]["master"] == master and params["spark"]["conf"] == {}


@pytest.mark.skipif(importlib.util.find_spec("pyspark") is not None, reason="pyspark present")
def test_engine_spark_without_pyspark_says_what_to_install():
    with pytest.raises(ParamsError, match=r"pip install 'segreport\[spark\]'"):
        open_engine({"engine": "spark"})


def test_the_duckdb_engine_releases_its_views_and_checks_paths(tmp_path):
    engine = DuckDBEngine()
    view, types = engine.register("orders", pd.DataFrame({"a": [1, 2]}))
    assert types == {"a": "BIGINT"}
    assert engine.query(f"SELECT sum(a) AS s FROM {view}")["s"].tolist() == [3]
    engine.release()
    with pytest.raises(Exception, match=view):
        engine.query(f"SELECT * FROM {view}")
    with pytest.raises(DataError, match="file not found"):
        engine.register("orders", str(tmp_path / "missing.parquet"))
    engine.close()


def test_customer_features_takes_the_engine_by_name():
    orders = pd.DataFrame(
        {
            "order_id": ["1", "2"],
            "customer_id": ["a", "a"],
            "order_date": pd.to_datetime(["2025-01-01", "2025-01-03"]),
            "amount": [10.0, 5.5],
        }
    )
    by_name = customer_features(orders, "2025-02-01", engine="duckdb")
    assert by_name.loc["a", ["frequency", "monetary", "recency_days"]].tolist() == [2, 15.5, 29]
    pd.testing.assert_frame_equal(by_name, customer_features(orders, "2025-02-01"))

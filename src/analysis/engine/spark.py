"""The Spark engine: the heavy step's DuckDB SQL, transpiled, through ``spark.sql()``.

Needs the optional extra (``pip install 'segreport[spark]'``) and a Java runtime for a
local session; a cluster or Spark Connect server brings its own. Inputs are registered
as temporary views: Parquet paths are read by Spark itself (so on a cluster they must be
paths the executors can read: ``hdfs://``, ``s3a://``, a shared mount), DataFrames are
sent through Arrow.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlglot
from sqlglot import exp

from ..errors import ParamsError
from . import TableSource, parquet_paths, plain_index
from .spark_sql import to_spark

__all__ = ["DEFAULT_CONF", "SparkEngine", "spark_session"]

#: Settings every session gets unless ``spark.conf`` overrides them. The session time zone
#: is fixed: dates and timestamps must mean what they mean to DuckDB (UTC, as loaded).
DEFAULT_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
}


_LOG4J = (Path(__file__).parent / "log4j2.properties").as_uri()


def spark_session(options: Mapping[str, Any]):
    """A SparkSession from the ``spark:`` parameters (reused when one is running).

    Parameters
    ----------
    options
        ``master``: ``local[N]``, a cluster URL (``spark://host:7077``, ``yarn``,
        ``k8s://...``) or a Spark Connect URL (``sc://host:15002``); ``conf``: extra
        Spark settings (strings), e.g. ``spark.sql.shuffle.partitions``; ``app_name``.

    Raises
    ------
    ParamsError
        pyspark is not installed, the time zone is set to something else than UTC, or the
        session cannot start (no Java, bad master).
    """
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415
    except ImportError as exc:
        raise ParamsError(
            "engine: spark needs pyspark: pip install 'segreport[spark]' (and a Java runtime "
            "for a local session)"
        ) from exc
    master = str(options.get("master") or "local[2]")
    conf = {**DEFAULT_CONF, **{str(k): str(v) for k, v in (options.get("conf") or {}).items()}}
    if conf["spark.sql.session.timeZone"] != "UTC":
        raise ParamsError(
            "spark.conf: spark.sql.session.timeZone must be UTC (dates are compared as DuckDB "
            "compares them)"
        )
    builder = SparkSession.builder.appName(str(options.get("app_name") or "segreport"))
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    if master.startswith("sc://"):
        conf.pop("spark.ui.enabled")  # a server setting, not a client one
    else:  # the driver runs here: quiet its log (errors only) unless the user set options
        conf.setdefault("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_LOG4J}")
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # py4j / grpc errors have no common base class
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ParamsError(f"cannot start a Spark session on {master!r}: {first}") from exc


def _duckdb_type(spark_type: str) -> str:
    """A Spark type name as DuckDB spells it (for :func:`to_spark`'s cast rounding)."""
    try:
        return exp.DataType.build(spark_type, dialect="spark").sql("duckdb").upper()
    except sqlglot.errors.SqlglotError:
        return spark_type.upper()


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """A DataFrame as Arrow without dictionary columns (pandas categoricals), which
    Spark's Arrow reader does not take; values are unchanged."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    plain = pa.schema(
        [
            f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
            for f in table.schema
        ]
    )
    return table.cast(plain) if plain != table.schema else table


class SparkEngine:
    """Run the heavy step's DuckDB SQL on Spark (see :mod:`analysis.engine.spark_sql`).

    Parameters
    ----------
    session
        A SparkSession, e.g. from :func:`spark_session`.
    """

    name = "spark"

    def __init__(self, session: Any) -> None:
        self.session = session
        self._tag = uuid.uuid4().hex[:8]
        self._views: list[str] = []
        self._schema: dict[str, dict[str, str]] = {}

    def register(self, table: str, source: TableSource) -> tuple[str, dict[str, str]]:
        view = f"segreport_{table}_{self._tag}"
        if isinstance(source, pd.DataFrame):
            frame = self.session.createDataFrame(_arrow(plain_index(source)))
        else:
            frame = self.session.read.parquet(*parquet_paths(table, source))
        frame.createOrReplaceTempView(view)
        self._views.append(view)
        types = {f.name: _duckdb_type(f.dataType.simpleString()) for f in frame.schema.fields}
        self._schema[view] = types
        return view, types

    def query(self, sql: str) -> pd.DataFrame:
        return self.session.sql(to_spark(sql, schema=self._schema)).toPandas()

    def release(self) -> None:
        for view in self._views:
            self.session.catalog.dropTempView(view)
        self._views, self._schema = [], {}

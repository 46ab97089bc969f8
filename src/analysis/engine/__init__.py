"""Engines for the heavy step (orders -> one row per customer).

The step is written once in DuckDB SQL (:mod:`analysis.features`). An engine registers
the input tables under view names and runs that SQL:

- :class:`DuckDBEngine` (``engine: duckdb``, the default) runs it embedded;
- :class:`analysis.engine.spark.SparkEngine` (``engine: spark``) transpiles it with
  :func:`analysis.engine.spark_sql.to_spark` and runs it through ``spark.sql()`` on a
  session built from the ``spark:`` parameters (``local[N]``, a cluster, Spark Connect).

Both return the result as a pandas DataFrame; everything downstream is the same.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import duckdb
import pandas as pd

from ..connections import connect
from ..errors import DataError, ParamsError

__all__ = [
    "ENGINES",
    "DuckDBEngine",
    "engine_for",
    "Engine",
    "TableSource",
    "open_engine",
    "parquet_paths",
    "plain_index",
]

TableSource = pd.DataFrame | str | os.PathLike | Sequence[str | os.PathLike]
ENGINES = ("duckdb", "spark")


class Engine(Protocol):
    """What the heavy step needs from an engine."""

    name: str

    def register(self, table: str, source: TableSource) -> tuple[str, dict[str, str]]:
        """Make ``source`` queryable; return (view name, {column: upper-case type})."""

    def query(self, sql: str) -> pd.DataFrame:
        """Run one DuckDB SQL query (literals only) and return its rows."""

    def release(self) -> None:
        """Drop what :meth:`register` created; the engine stays usable."""


def parquet_paths(table: str, source: TableSource) -> list[str]:
    """A Parquet source as a list of paths; plain local paths must exist.

    Raises
    ------
    DataError
        No path given, or a (non-glob, local) file does not exist.
    """
    paths = [source] if isinstance(source, str | os.PathLike) else list(source)
    if not paths:
        raise DataError("no Parquet files given", file=table)
    paths = [os.fspath(p) for p in paths]
    for p in paths:
        remote = "://" in p
        if not remote and not any(ch in p for ch in "*?[") and not os.path.exists(p):
            raise DataError("file not found", file=p)
    return paths


class DuckDBEngine:
    """The embedded engine: DataFrames and Parquet files as views of one connection.

    Parameters
    ----------
    con
        Connection to use; a new in-memory one (closed by :meth:`close`) by default.
    """

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self._own = con is None
        # a connection to the process's database: building a database per engine cost
        # 36 ms (analysis.connections)
        self.con = connect() if con is None else con
        self._tag = uuid.uuid4().hex[:8]
        self._frames: list[str] = []
        self._views: list[str] = []

    def register(self, table: str, source: TableSource) -> tuple[str, dict[str, str]]:
        view = f"segreport_{table}_{self._tag}"
        if isinstance(source, pd.DataFrame):
            self.con.register(view, plain_index(source))
            self._frames.append(view)
        else:
            literal = ", ".join(
                "'" + p.replace("'", "''") + "'" for p in parquet_paths(table, source)
            )
            self.con.execute(
                f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM read_parquet([{literal}])"
            )
            self._views.append(view)
        described = self.con.execute(f"DESCRIBE SELECT * FROM {view}").fetchall()
        return view, {row[0]: str(row[1]).upper() for row in described}

    def query(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def release(self) -> None:
        for view in self._frames:
            self.con.unregister(view)
        for view in self._views:
            self.con.execute(f"DROP VIEW IF EXISTS {view}")
        self._frames, self._views = [], []

    def close(self) -> None:
        """:meth:`release`, and close the connection when this engine opened it."""
        self.release()
        if self._own:
            self.con.close()


def plain_index(frame: pd.DataFrame) -> pd.DataFrame:
    """A named index becomes a column (the contract columns may arrive as the index)."""
    if frame.index.name is not None and frame.index.name not in frame.columns:
        return frame.reset_index()
    return frame


def engine_for(params: Mapping[str, Any] | None) -> Engine | None:
    """:func:`open_engine` for ``engine: spark``; None (the embedded default, one DuckDB
    connection per call) for ``engine: duckdb``."""
    name = str((params or {}).get("engine") or "duckdb")
    return None if name == "duckdb" else open_engine(params)


def open_engine(params: Mapping[str, Any] | None = None) -> Engine:
    """The engine the parameters ask for (``engine:`` and ``spark:``; see params/default.yaml).

    Raises
    ------
    ParamsError
        Unknown engine, or ``engine: spark`` without pyspark / a usable session.
    """
    params = params or {}
    name = str(params.get("engine") or "duckdb")
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":
        from .spark import SparkEngine, spark_session  # noqa: PLC0415  (pyspark only here)

        return SparkEngine(spark_session(params.get("spark") or {}))
    raise ParamsError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")

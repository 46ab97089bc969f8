"""DuckDB connections: one database per process and settings, a fresh connection per use.

``duckdb.connect()`` builds a whole database instance (catalog, buffer manager, thread
pool): about 36 ms of CPU each time, and a 20k-customer pack opened some 230 of them in its
report kernels (8 CPU-seconds). A second connection to a database that is kept for the
process (``cursor()``) costs about 10 µs and is as separate for the way segreport uses it:
frames registered on it, temporary views and tables belong to that connection and go when it
closes. What the connections share are the database's settings (memory limit, threads,
spill directory), which are the same for every use of one :func:`connection` key.

A forked child (the runner's workers) gets a database of its own: the key includes the
process id.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import duckdb

__all__ = ["connect", "connection"]

_DATABASES: dict[tuple[object, ...], duckdb.DuckDBPyConnection] = {}
_LOCK = threading.Lock()


def _remove_when_done(folder: str, owner: int) -> None:
    """Remove ``folder`` when this process ends (not when a forked child does)."""

    def remove() -> None:
        if os.getpid() == owner:
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)


def connect(
    config: Mapping[str, object] | None = None, *, spill: bool = False
) -> duckdb.DuckDBPyConnection:
    """A new connection to this process's in-memory database with ``config``; the caller
    closes it (:func:`connection` does). Parameters as :func:`connection`."""
    config = config or {}
    key = (os.getpid(), spill, tuple(sorted((str(k), repr(v)) for k, v in config.items())))
    with _LOCK:
        base = _DATABASES.get(key)
        if base is None:
            settings = dict(config)
            if spill:
                folder = tempfile.mkdtemp(prefix="segreport-duckdb-")
                _remove_when_done(folder, os.getpid())
                settings["temp_directory"] = folder
            base = duckdb.connect(config=settings)
            _DATABASES[key] = base
        return base.cursor()


@contextmanager
def connection(
    config: Mapping[str, object] | None = None, *, spill: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A new connection to this process's in-memory database with ``config``, closed on
    exit.

    Parameters
    ----------
    config
        DuckDB settings of the database (``memory_limit``, ``threads``, ...); each distinct
        set has its own database.
    spill
        Give the database a private temporary directory (removed when the process ends)
        to spill to beyond its memory limit.

    Examples
    --------
    >>> with connection({"threads": 1}) as con:
    ...     con.execute("CREATE TEMP TABLE t AS SELECT 1 AS x").fetchall()
    ...     con.execute("SELECT x FROM t").fetchone()
    [(1,)]
    (1,)
    >>> with connection({"threads": 1}) as con:   # the next connection does not see it
    ...     con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 't'").fetchone()
    (0,)
    """
    con = connect(config, spill=spill)
    try:
        yield con
    finally:
        con.close()

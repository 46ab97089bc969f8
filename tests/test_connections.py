"""The process's DuckDB databases: one per settings, a separate connection per use."""

from __future__ import annotations

import os
import pickle

import pandas as pd
import pytest

from analysis import connections, value
from analysis.engine import DuckDBEngine


def test_what_one_connection_registers_the_next_does_not_see():
    frame = pd.DataFrame({"x": [1, 2, 3]})
    with connections.connection({"threads": 1}) as con:
        con.register("registered_here", frame)  # a name no Python variable has
        con.execute("CREATE TEMP TABLE made AS SELECT 7 AS y")
        con.execute("CREATE TEMP VIEW seen AS SELECT * FROM registered_here")
        assert con.execute("SELECT sum(x) FROM seen").fetchone() == (6,)
    with connections.connection({"threads": 1}) as con:
        names = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        assert "made" not in names and "seen" not in views
        with pytest.raises(Exception, match="registered_here"):
            con.execute("SELECT * FROM registered_here").fetchall()


def test_one_database_per_settings_and_process():
    with connections.connection({"threads": 1}) as a, connections.connection({"threads": 1}) as b:
        a.execute("CREATE TABLE shared_by_design AS SELECT 1 AS z")  # the database's schema
        assert b.execute("SELECT z FROM shared_by_design").fetchone() == (1,)
        a.execute("DROP TABLE shared_by_design")
    with connections.connection({"threads": 1, "memory_limit": "512MB"}) as other:
        setting = other.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        assert setting.replace(" ", "").lower() in {"512.0mib", "488.2mib", "512mb", "488mib"}
    before = len(connections._DATABASES)
    for settings in ({"threads": 1}, {"threads": 1, "memory_limit": "512MB"}):
        with connections.connection(settings):
            pass
    assert len(connections._DATABASES) == before  # the same settings: no new database
    with connections.connection({"threads": 1}, spill=True):
        pass
    assert len(connections._DATABASES) == before + 1  # a spill directory: its own database


def test_a_connection_closes_on_exit_even_after_an_error():
    with pytest.raises(ZeroDivisionError), connections.connection() as con:
        leaked = con
        1 / 0  # noqa: B018
    with pytest.raises(Exception, match="(?i)closed"):
        leaked.execute("SELECT 1")


def test_the_spill_database_has_a_private_temporary_directory():
    with connections.connection(value.duckdb_config(), spill=True) as con:
        folder = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert os.path.basename(folder).startswith("segreport-duckdb-")
    assert os.path.isdir(folder)  # kept for the process's next queries


def test_a_forked_child_opens_its_own_database():
    with connections.connection({"threads": 1}) as con:
        con.execute("SELECT 1").fetchall()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a query works and uses a database keyed by its own pid
        try:
            with connections.connection({"threads": 1}) as con:
                answer = con.execute("SELECT 41 + 1").fetchone()[0]
            mine = [key for key in connections._DATABASES if key[0] == os.getpid()]
            os.write(write, pickle.dumps((answer, len(mine))))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer, mine = pickle.loads(pipe.read())
    os.waitpid(pid, 0)
    assert answer == 42 and mine == 1


def test_engines_and_order_queries_do_not_build_a_database_each(monkeypatch):
    built = []
    real = connections.duckdb.connect
    monkeypatch.setattr(connections.duckdb, "connect", lambda **kw: built.append(1) or real(**kw))
    monkeypatch.setattr(connections, "_DATABASES", {})
    orders = pd.DataFrame({"customer_id": ["a", "b"], "amount": [1.0, 2.0]})
    for _ in range(5):
        with value.duckdb_source(orders, ["customer_id", "amount"]) as (con, src):
            assert con.execute(f"SELECT sum(amount) FROM {src}").fetchone() == (3.0,)
        engine = DuckDBEngine()
        view, _ = engine.register("orders", orders)
        assert len(engine.query(f"SELECT * FROM {view}")) == 2
        engine.close()
    assert len(built) == 2  # one database for the order queries, one for the engines

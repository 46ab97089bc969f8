"""The ``spark`` lane's one small local session, shared by every Spark test module.

Not a ``conftest.py``: a second one would shadow ``tests/conftest.py`` for the suite's
``from conftest import ...``. The session follows the issue: ``local[1]``, one shuffle
partition, UI off, UTC. Without pyspark or Java the tests asking for it skip, except in
the lane itself (``make test-spark`` sets ``SEGREPORT_SPARK_REQUIRED=1``), where they fail:
a lane whose session cannot start must not pass by skipping everything.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil

import pytest

SPARK_PARAMS = {
    "master": "local[1]",
    "conf": {"spark.sql.shuffle.partitions": "1", "spark.ui.enabled": "false"},
}


def spark_missing() -> str | None:
    """Why a Spark session cannot start here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install '.[spark]')"
    if shutil.which("java") is None:
        return "no Java runtime (apt-get install default-jre-headless)"
    return None


@functools.cache
def _session():
    from analysis.engine.spark import spark_session  # noqa: PLC0415

    session = spark_session(SPARK_PARAMS)
    session.sparkContext.setLogLevel("ERROR")
    return session


def unavailable(reason: str) -> None:
    """Skip the test without Spark, or fail it in the Spark lane."""
    if os.environ.get("SEGREPORT_SPARK_REQUIRED") == "1":
        pytest.fail(f"the Spark lane cannot run: {reason}")
    pytest.skip(reason)


def session():
    """The shared session (started on first use); skips the test without Spark."""
    reason = spark_missing()
    if reason:
        unavailable(reason)
    return _session()


def engine():
    """A :class:`analysis.engine.spark.SparkEngine` on the shared session."""
    from analysis.engine.spark import SparkEngine  # noqa: PLC0415

    return SparkEngine(session())

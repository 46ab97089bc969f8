"""``segreport run --set engine=spark`` gives the exports of the DuckDB run (spark lane).

One unit of a 1,500-customer sample (Parquet), HTML, the reports whose exports come from
the customer feature table (segmentation, summary) and two that sit beside it (value,
churn): the CRM exports of the two runs are equal (text exactly, numbers to rtol 1e-9), and the customer feature tables
the reports shared were made by Spark in the Spark run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import spark_fixtures
from spark_edge_data import assert_same_table

pytestmark = [pytest.mark.spark, pytest.mark.slow]
SEGREPORT = [sys.executable, "-m", "analysis.cli"]
UNIT = "retail"
REPORTS = "segmentation,summary,value,churn"


def _run(data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            *SEGREPORT,
            "run",
            "--data-dir",
            str(data),
            "--output",
            str(out),
            "--unit",
            UNIT,
            "--reports",
            REPORTS,
            "--formats",
            "html",
            "--jobs",
            "1",
            "--no-progress",
            "--set",
            "quality.today=2026-06-30",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """Both runs, once for the module (a failed run is reported by each test)."""
    reason = spark_fixtures.spark_missing()
    if reason:
        spark_fixtures.unavailable(reason)
    root = tmp_path_factory.mktemp("engines")
    data = root / "data"
    subprocess.run(
        [*SEGREPORT, "sample", "--out", str(data), "--customers", "1500", "--format", "parquet"],
        check=True,
        capture_output=True,
    )
    duck = _run(data, root / "duckdb")
    spark = _run(
        data,
        root / "spark",
        "--set",
        "engine=spark",
        "--set",
        "spark.master=local[1]",
        "--set",
        'spark.conf={"spark.sql.shuffle.partitions": 1}',
    )
    return {"duckdb": (root / "duckdb", duck), "spark": (root / "spark", spark)}


def _outputs(runs) -> tuple[Path, Path]:
    for _, proc in runs.values():
        assert proc.returncode == 0, proc.stderr[-3000:]
    return runs["duckdb"][0], runs["spark"][0]


def _exports(out: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(out.glob(f"*/{UNIT}/exports/*.csv"))}


def test_the_spark_run_writes_the_duckdb_runs_exports(runs):
    duck, spark = (_exports(out) for out in _outputs(runs))
    assert {"segments.csv", "rfm.csv", "churn_risk.csv"} <= set(duck)
    assert len(pd.read_csv(duck["segments.csv"])) > 0
    assert sorted(spark) == sorted(duck)
    for name, path in duck.items():
        expected, actual = pd.read_csv(path), pd.read_csv(spark[name])
        assert_same_table(expected, actual, rtol=1e-9)


def test_the_spark_run_computed_its_features_on_spark(runs):
    duck, spark = (
        sorted(out.glob(f".cache/*/units/{UNIT}/features/*.parquet")) for out in _outputs(runs)
    )
    assert duck and len(spark) == len(duck)
    # the engine is part of the cache name, so these were not copied from a DuckDB run
    assert {p.name for p in spark}.isdisjoint(p.name for p in duck)
    for d, s in zip(duck, sorted(spark, key=lambda p: p.name[:10]), strict=True):
        expected, actual = pd.read_parquet(d), pd.read_parquet(s)
        assert actual.index.equals(expected.index)
        assert_same_table(expected, actual, rtol=1e-9)

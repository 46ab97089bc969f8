"""The segreport command: exit codes, readable errors, the plan."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import tiny_tables, write_tables

from analysis.cli import main


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_missing_order_date_exits_2_naming_file_and_column(tmp_path):
    tables = tiny_tables()
    tables["orders"] = tables["orders"].drop(columns="order_date")
    folder = write_tables(tmp_path / "d", tables)
    result = invoke("run", "--data-dir", str(folder), "--output", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert "orders.csv" in result.output and "'order_date'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r" / "index.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "colour=red"], "unknown parameter 'colour'"),
        (["--unit", "../etc"], "not allowed"),
        (["--period", "2025-Q7"], "cannot read period"),
        (["--unit", "atlantis"], "no data of business unit 'atlantis'"),
        (
            ["--period", "2019-Q1", "--unit", "north"],
            "has no orders or survey responses in 2019-Q1",
        ),
        (["--reports", "nope"], "unknown report"),
    ],
)
def test_usage_errors_exit_2(tiny_dir, tmp_path, args, message):
    result = invoke("run", "--data-dir", str(tiny_dir), "--output", str(tmp_path / "r"), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_dry_run_prints_the_plan_without_running(tiny_dir, tmp_path):
    result = invoke(
        "run",
        "--data-dir",
        str(tiny_dir),
        "--output",
        str(tmp_path / "r"),
        "--period",
        "2025-Q2",
        "--dry-run",
        "--reports",
        "overview",
        "--set",
        "quality.today=2026-01-01",
    )
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines() if "\t" in line]
    assert [(unit, report) for unit, report, _ in lines] == [
        ("north", "overview"),
        ("south", "overview"),
        ("all", "overview"),
    ]
    assert lines[0][2].endswith("2025-Q2/north/overview.html")
    assert not (tmp_path / "r" / "2025-Q2" / "north" / "overview.html").exists()
    # the shared work was done once and cached per unit for the notebooks
    metas = list((tmp_path / "r" / ".cache").glob("*/units/north/meta.json"))
    assert len(metas) == 1 and json.loads(metas[0].read_text())["unit"] == "north"


def test_validate_lists_counted_repairs(tmp_path):
    tables = tiny_tables()
    tables["orders"] = pd.concat([tables["orders"], tables["orders"].iloc[:3]])  # 3 duplicates
    folder = write_tables(tmp_path / "d", tables)
    result = invoke("validate", "--data-dir", str(folder))
    assert result.exit_code == 0, result.output
    assert "orders.duplicate_rows: 3 row(s) removed" in result.output
    assert "units: north, south" in result.output

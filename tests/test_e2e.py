"""End to end: sample -> segreport run -> reports and portal; failures stay isolated."""

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from analysis.report.registry import all_reports

pytestmark = pytest.mark.slow
SEGREPORT = [sys.executable, "-m", "analysis.cli"]


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    subprocess.run(
        [*SEGREPORT, "sample", "--out", str(folder), "--customers", "500", "--seed", "7"],
        check=True,
        capture_output=True,
    )
    return folder


@pytest.fixture(scope="module")
def run_output(sample_dir, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("reports")
    proc = subprocess.run(
        [
            *SEGREPORT,
            "run",
            "--data-dir",
            str(sample_dir),
            "--output",
            str(out),
            "--jobs",
            "2",
            "--progress",
            "--set",
            "quality.today=2026-06-30",
        ],
        capture_output=True,
        text=True,
    )
    return out, proc


def test_run_produces_every_unit_and_the_portal(run_output):
    out, proc = run_output
    assert proc.returncode == 0, proc.stderr
    units = ["b2b", "ecommerce", "retail", "services", "all"]
    for unit in units:
        folder = out / "2025-Q4" / unit
        assert (folder / "overview.html").is_file()
        assert (folder / "executed" / "overview.ipynb").is_file()
        status = json.loads((folder / "status.json").read_text())
        reports = {r.name for r in all_reports()}
        assert set(status["reports"]) == reports  # every result of every unit was collected
        assert {r["status"] for r in status["reports"].values()} == {"ok"}
        for report in reports:  # each announced exactly once on the progress stream
            assert len(re.findall(rf"\] ok +{unit}/{report} ", proc.stderr)) == 1, proc.stderr
    assert f"{len(units) * len(all_reports())} report(s) ok, 0 failed" in proc.stderr
    portal = (out / "index.html").read_text()
    for unit in units[:-1]:
        assert f"2025-Q4/{unit}/overview.html" in portal
    assert "All units" in portal and "2025-Q4" in portal


def test_reports_have_header_no_code_no_stderr(run_output, sample_dir):
    out, _ = run_output
    page = (out / "2025-Q4" / "retail" / "overview.html").read_text()
    for text in ("retail", "2025-Q4", "2025-12-31", "Data quality", "Key figures"):
        assert text in page
    assert "open_report" not in page and "sr-stderr" not in page
    assert not re.search(r"<script|https?://", page)
    nb = nbformat.read(out / "2025-Q4" / "retail" / "executed" / "overview.ipynb", as_version=4)
    streams = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream" and o.name == "stderr"
    ]
    assert streams == []


def test_quality_counts_reach_the_report(run_output, sample_dir):
    out, _ = run_output
    truth = json.loads((sample_dir / "truth.json").read_text())
    page = (out / "2025-Q4" / "all" / "overview.html").read_text()
    assert "Exact duplicate rows" in page and "Cancelled order" in page
    assert f">{truth['dirty_rows']['cancelled_orders']:,}<" in page.replace("\n", "")


def test_no_pii_in_outputs(run_output, sample_dir):
    import pandas as pd

    out, _ = run_output
    customers = pd.read_csv(sample_dir / "customers.csv", dtype=str)
    pii = set(customers["email"].dropna()) | set(customers["phone"].dropna())
    text = "".join(
        p.read_text(errors="ignore") for p in out.rglob("*") if p.suffix in (".html", ".ipynb")
    )
    assert not [value for value in pii if value in text]


def test_a_failing_report_does_not_stop_the_others(sample_dir, tmp_path):
    from analysis.config import load_params
    from analysis.report import runner

    params = load_params(
        overrides={
            "data_dir": str(sample_dir),
            "output_dir": str(tmp_path / "r"),
            "quality": {"today": "2026-06-30"},
        }
    )
    plan = runner.plan_run(params, units=["retail", "b2b"], reports=["overview"])
    broken = nbformat.read(ROOT / "notebooks" / "overview.ipynb", as_version=4)
    broken.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('planted failure')"))
    nbformat.write(broken, tmp_path / "broken.ipynb")
    shutil.copy(ROOT / "notebooks" / "overview.ipynb", tmp_path / "overview.ipynb")
    plan.tasks[0].notebook = str(tmp_path / "broken.ipynb")
    results = runner.execute_plan(plan, jobs=1, progress=False)
    assert runner.exit_code(results) == 1
    by_unit = {r.unit: r for r in results}
    assert by_unit["retail"].status == "failed" and "planted failure" in by_unit["retail"].error
    assert by_unit["b2b"].status == "ok"
    assert Path(by_unit["retail"].executed).is_file()  # executed copy kept
    portal = (tmp_path / "r" / "index.html").read_text()
    assert "planted failure" in portal and "retail/overview.error.html" in portal


def test_a_mix_of_shapes_per_unit(tmp_path):
    """One export, three shapes: retail without surveys, b2b with surveys only (no orders,
    no interactions), the others complete. Each report of each unit is ok or says why it
    does not apply; the company-wide report has every part."""
    import pandas as pd

    data = tmp_path / "data"
    made = subprocess.run(
        [*SEGREPORT, "sample", "--out", str(data), "--customers", "300", "--seed", "11"],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    for table, unit in (
        ("survey_responses", "retail"),
        ("orders", "b2b"),
        ("interactions", "b2b"),
    ):
        frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
        frame.loc[frame["business_unit"] != unit].to_csv(data / f"{table}.csv", index=False)
    out = tmp_path / "reports"
    proc = subprocess.run(
        [
            *SEGREPORT,
            "run",
            "--data-dir",
            str(data),
            "--output",
            str(out),
            "--jobs",
            "2",
            "--set",
            "quality.today=2026-06-30",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    statuses = {
        unit: json.loads((out / "2025-Q4" / unit / "status.json").read_text())["reports"]
        for unit in ("retail", "b2b", "all")
    }

    def shown(unit, state):
        return {name for name, entry in statuses[unit].items() if entry["status"] == state}

    assert shown("retail", "not_applicable") == {"satisfaction"}
    assert shown("b2b", "not_applicable") == {"value", "segmentation", "churn", "overview"}
    # a survey-only unit: its survey answers name customers, so needs applies too
    assert shown("b2b", "ok") == {"satisfaction", "needs", "summary"}
    assert shown("all", "ok") == set(statuses["all"])
    reason = statuses["b2b"]["value"]["reason"]
    page = html.unescape((out / "2025-Q4" / "b2b" / "value.html").read_text())
    assert "no orders" in reason and reason in page


def test_the_runs_files_are_private(run_output):
    """Reports, exports (real ids) and the cache are for the running account only."""
    out, _ = run_output
    folder = out / "2025-Q4" / "retail"
    for path in [folder / "value.html", *sorted((folder / "exports").glob("*.csv"))]:
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert (folder / "exports").stat().st_mode & 0o777 == 0o700
    assert (out / ".cache").stat().st_mode & 0o777 == 0o700

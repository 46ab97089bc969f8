"""The shape matrix: every sample shape x every report gives "ok" or "not applicable", never
"failed", and ``segreport validate`` exits as ``segreport run`` does, on good and bad input.

Each shape is generated small (``segreport sample --shape S --customers N``), validated and
run through the CLI as a user would (HTML only, two jobs).
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.report.registry import all_reports

pytestmark = pytest.mark.slow
SEGREPORT = [sys.executable, "-m", "analysis.cli"]
TODAY = "quality.today=2026-06-30"
REPORTS = {r.name for r in all_reports()}
#: Customers per shape: enough for every model to fit, small enough for CI.
CUSTOMERS = {"transactional": 300, "orders-only": 300, "survey-only": 300, "subscription": 300}
#: The reports a shape cannot have: their pages say why (status not_applicable).
NOT_APPLICABLE = {
    "transactional": set(),
    "orders-only": {"satisfaction"},
    "survey-only": {"value", "segmentation", "churn", "overview"},
    "subscription": {"satisfaction"},  # the subscription sample has no survey file
}
#: What a small unit may lack besides: too few recent buyers for a churn model.
THIN_UNIT = {"churn"}
#: The table whose required column the bad input of a shape lacks, and that column.
BROKEN = {
    "transactional": ("orders", "order_date"),
    "orders-only": ("orders", "amount"),
    "survey-only": ("survey_responses", "response_date"),
    "subscription": ("orders", "order_date"),
}


def _segreport(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SEGREPORT, *args], capture_output=True, text=True, timeout=600)


def _sample(shape: str, folder: Path) -> Path:
    made = _segreport(
        "sample", "--shape", shape, "--out", str(folder), "--customers", str(CUSTOMERS[shape])
    )
    assert made.returncode == 0, made.stderr
    return folder


def _validate(folder: Path) -> subprocess.CompletedProcess:
    return _segreport("validate", "--data-dir", str(folder), "--set", TODAY)


def _run(folder: Path, out: Path) -> subprocess.CompletedProcess:
    return _segreport(
        "run",
        "--data-dir",
        str(folder),
        "--output",
        str(out),
        "--formats",
        "html",
        "--jobs",
        "2",
        "--no-progress",
        "--set",
        TODAY,
    )


@pytest.fixture(scope="module", params=sorted(CUSTOMERS))
def shape_run(request, tmp_path_factory):
    shape = request.param
    folder = _sample(shape, tmp_path_factory.mktemp(f"{shape}-data"))
    out = tmp_path_factory.mktemp(f"{shape}-reports")
    return shape, folder, out, _validate(folder), _run(folder, out)


def _statuses(out: Path) -> dict[str, dict]:
    return {
        path.parent.name: json.loads(path.read_text())
        for path in out.glob("*/*/status.json")
        if not any(part.startswith(".") for part in path.relative_to(out).parts)
    }


def test_every_report_of_every_unit_is_ok_or_not_applicable(shape_run):
    shape, folder, out, _, run = shape_run
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    statuses = _statuses(out)
    assert statuses, run.stderr
    truth = json.loads((folder / "truth.json").read_text())
    failed = {
        f"{unit}/{name}": entry.get("error")
        for unit, status in statuses.items()
        for name, entry in status["reports"].items()
        if entry["status"] not in ("ok", "not_applicable")
    }
    assert failed == {}, failed
    for unit, status in statuses.items():
        reports = status["reports"]
        assert set(reports) == REPORTS, unit
        shown = {name for name, entry in reports.items() if entry["status"] == "not_applicable"}
        why = (unit, {n: reports[n].get("reason") for n in shown})
        if status.get("covers_all") or unit == "all":  # the whole company has every part
            assert shown == NOT_APPLICABLE[shape], why
        else:
            assert NOT_APPLICABLE[shape] <= shown <= NOT_APPLICABLE[shape] | THIN_UNIT, why
        for name in shown:  # a page saying why, and no notebook run for it
            page = (out / status["period"] / unit / reports[name]["html"]).read_text()
            assert reports[name]["reason"] and reports[name]["reason"] in html.unescape(page)
            assert not (out / status["period"] / unit / "executed" / f"{name}.ipynb").exists()
    portal = (out / "index.html").read_text()
    answers = {e["status"] for status in statuses.values() for e in status["reports"].values()}
    assert ("pt-badge pt-not_applicable" in portal) == ("not_applicable" in answers)
    assert "pt-badge pt-failed" not in portal
    # every unit of the data, and "all" only when there is more than one (no duplicate)
    units = set(truth["units"])
    assert set(statuses) == (units | {"all"} if len(units) > 1 else units)


def test_validate_exits_as_run_does_on_good_input(shape_run):
    """validate exits as run does, and says which reports will run and which do not apply
    (with run's reason)."""
    _, _, out, validate, run = shape_run
    assert validate.returncode == run.returncode == 0, (validate.stderr, run.stderr)
    for unit, status in _statuses(out).items():
        for name, entry in status["reports"].items():
            said = f"  {unit}/{name}: will run"
            if entry["status"] == "not_applicable":
                said = f"  {unit}/{name}: not applicable: {entry['reason']}"
            assert said in validate.stdout.splitlines(), (said, validate.stdout)


@pytest.mark.parametrize("shape", sorted(BROKEN))
def test_validate_exits_as_run_does_on_bad_input(shape, tmp_path):
    """A required column missing from the shape's main table: both commands stop with exit
    code 2 and one readable message naming the file and the column, no traceback."""
    folder = _sample(shape, tmp_path / "data")
    table, column = BROKEN[shape]
    path = folder / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str)
    frame.drop(columns=column).to_csv(path, index=False)
    validate, run = _validate(folder), _run(folder, tmp_path / "reports")
    assert validate.returncode == run.returncode == 2, (validate.stderr, run.stderr)
    for proc in (validate, run):
        assert "Traceback" not in proc.stderr
        assert f"{table}.csv" in proc.stderr and column in proc.stderr, proc.stderr
    assert not list((tmp_path / "reports").glob("*/*/status.json"))

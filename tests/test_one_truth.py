"""One truth per (period, unit), over whole sample runs.

* every value of a unit's ``figures.json`` is printed, formatted the same way, in the
  strategy summary and in the detail report that owns it;
* a unit run alone gives the same exports and figures, byte for byte, as the same unit in a
  full run, and two full runs give identical exports.
"""

import hashlib
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
SEGREPORT = [sys.executable, "-m", "analysis.cli"]
PERIOD = "2025-Q4"
UNITS = ("b2b", "ecommerce", "retail", "services", "all")
#: Which detail report owns (and must print) each figure.
OWNER = {
    "churned_customers": "churn",
    "churn_rate": "churn",
    "value_at_risk": "churn",
    "high_risk_customers": "churn",
    "active_customers": "overview",
    "new_customers": "overview",
    "net_revenue": "overview",
    "nps": "satisfaction",
    "csat": "satisfaction",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    subprocess.run(
        [*SEGREPORT, "sample", "--out", str(folder), "--customers", "1500", "--seed", "11"],
        check=True,
        capture_output=True,
    )
    return folder


def _run(sample: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [
            *SEGREPORT,
            "run",
            "--data-dir",
            str(sample),
            "--output",
            str(out),
            "--period",
            PERIOD,
            "--set",
            "quality.today=2026-06-30",
            "--no-progress",
            *extra,
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def full(sample, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("full")
    _run(sample, out, "--jobs", "2")
    return out


def _text(page: Path) -> str:
    """The visible text of a report page, entities decoded, white space folded."""
    raw = page.read_text(encoding="utf-8")
    raw = re.sub(r"(?s)<(style|script)\b.*?</\1>", " ", raw)
    raw = re.sub(r"</?span\b[^>]*>", "", raw)  # inline: "<span>$</span>1,234" reads "$1,234"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


def _digests(folder: Path) -> dict[str, str]:
    files = sorted((folder / "exports").glob("*.csv")) + [folder / "figures.json"]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.parametrize("unit", UNITS)
def test_figures_json_is_strict_and_complete(full, unit):
    path = full / PERIOD / unit / "figures.json"
    figures = json.loads(path.read_text(encoding="utf-8"), parse_constant=pytest.fail)
    for figure in (
        "active_customers",
        "new_customers",
        "churned_customers",
        "churn_rate",
        "retention_rate",
        "net_revenue",
        "value_at_risk",
        "high_risk_customers",
        "nps",
        "csat",
    ):
        entry = figures[figure]
        assert {"value", "label_en", "label_zh", "definition"} <= set(entry)
        assert entry["definition"] == entry["definition_en"] and entry["definition_zh"]
    # retention and churn rate share one base
    churn, retention = figures["churn_rate"]["value"], figures["retention_rate"]["value"]
    assert churn + retention == pytest.approx(1.0)


@pytest.mark.parametrize("unit", UNITS)
def test_summary_and_owning_report_print_the_same_figures(full, unit):
    folder = full / PERIOD / unit
    figures = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    summary = _text(folder / "summary.html")
    for figure, entry in figures.items():
        if figure.startswith("_") or entry["value"] is None:
            continue
        if figure in ("value_at_risk", "high_risk_customers"):
            continue  # the summary quotes these in the value-at-risk alert, when it is raised
        assert entry["text_en"] in summary, (unit, figure, entry["text_en"])
    for figure, report in OWNER.items():
        entry = figures[figure]
        if entry["value"] is None:
            continue
        page = _text(folder / f"{report}.html")
        assert entry["text_en"] in page, (unit, figure, report, entry["text_en"])


def test_a_unit_alone_matches_the_unit_in_a_full_run(full, sample, tmp_path):
    _run(sample, tmp_path, "--unit", "retail")
    assert _digests(tmp_path / PERIOD / "retail") == _digests(full / PERIOD / "retail")


def test_two_full_runs_give_identical_exports(full, sample, tmp_path):
    _run(sample, tmp_path, "--jobs", "1")
    for unit in UNITS:
        assert _digests(tmp_path / PERIOD / unit) == _digests(full / PERIOD / unit), unit


@pytest.mark.parametrize("report", ["value", "churn", "segmentation"])
def test_plain_papermill_gives_the_runs_exports(full, sample, tmp_path, report):
    """The analyst's path (the notebook run by hand, loading the data itself) gives the same
    CRM lists and figures as the unit in a full run."""
    from conftest import run_notebook

    exports = tmp_path / "exports"
    run_notebook(report, tmp_path, data_dir=sample, unit="retail", export_dir=str(exports))
    published = full / PERIOD / "retail" / "exports"
    written = sorted(exports.glob("*.csv"))
    assert written
    for path in written:
        assert path.read_bytes() == (published / path.name).read_bytes(), path.name
    figures = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))
    expected = json.loads((full / PERIOD / "retail" / "figures.json").read_text(encoding="utf-8"))
    assert figures == expected

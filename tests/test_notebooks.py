"""Notebooks: committed clean and thin, parameters match params/default.yaml, and each runs
under plain papermill on tiny generated data."""

import ast
import json
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, run_notebook

from analysis.config import load_defaults
from analysis.report.registry import all_reports

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


REPORTS = all_reports()


def test_every_notebook_is_a_report_with_a_title():
    from analysis.i18n import catalog

    assert {Path(r.notebook).name for r in REPORTS} == {p.name for p in NOTEBOOKS}
    for report in REPORTS:
        assert f"report.{report.name}.title" in catalog("en")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_thin_notebook_with_known_parameters(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    names = {
        t.id
        for node in ast.walk(ast.parse(params[0].source))
        if isinstance(node, ast.Assign)
        for t in node.targets
    }
    assert names <= set(load_defaults()) | {"params_file", "overrides"}
    assert {"period", "unit"} <= names
    for cell in code:  # logic lives in src/analysis, not in notebooks
        tree = ast.parse(cell.source)
        assert not any(isinstance(n, ast.FunctionDef | ast.ClassDef) for n in ast.walk(tree))


def _published_tree(reports: Path) -> dict[str, str]:
    """Write a published reports folder as ``segreport run`` leaves it (the same names),
    and return every file's SHA-256 by relative path."""
    unit = reports / "2025-Q3" / "north"
    files = {
        "index.html": "<html>portal</html>",
        "2025-Q3/north/value.html": "<html>published</html>",
        "2025-Q3/north/manifest.json": "{}",
        "2025-Q3/north/figures.json": "{}",
        ".segreport.lock": "",
        **{
            f"2025-Q3/north/exports/{name}": "customer_id\npublished\n"
            for name in (
                "rfm.csv",
                "segments.csv",
                "churn_risk.csv",
                "satisfaction_groups.csv",
                "detractors.csv",
            )
        },
    }
    for name, text in files.items():
        (reports / name).parent.mkdir(parents=True, exist_ok=True)
        (reports / name).write_text(text)
    assert unit.is_dir()
    return _hashes(reports)


def _hashes(folder: Path) -> dict[str, str]:
    import hashlib

    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
@pytest.mark.parametrize("report", [r.name for r in REPORTS])
def test_runs_under_plain_papermill(report, tiny_dir, tmp_path, monkeypatch):
    # A run by hand (JupyterLab, plain papermill) leaves a published reports folder
    # byte-for-byte alone: exports and the id key go to the scratch folder, no lock is taken.
    published = _published_tree(tmp_path / "reports")
    scratch = tmp_path / "scratch"
    monkeypatch.setenv("SEGREPORT_SCRATCH", str(scratch))
    monkeypatch.delenv("SEGREPORT_ID_KEY", raising=False)  # the key file path is exercised
    _, _, html = run_notebook(report, tmp_path, data_dir=tiny_dir, unit="north", period="2025-Q3")
    assert "2025-Q3" in html and "Data quality" in html
    assert _hashes(tmp_path / "reports") == published
    if report == "value":  # its export went to the scratch folder instead
        assert (scratch / "2025-Q3" / "north" / "exports" / "rfm.csv").is_file()


def test_summary_runs_after_the_reports_it_reads():
    specs = {r.name: r for r in REPORTS}
    assert specs["summary"].runs_after and specs["summary"].order < specs["value"].order
    assert not any(r.runs_after for name, r in specs.items() if name != "summary")

"""Notebooks: committed clean and thin, parameters match params/default.yaml, and each runs
under plain papermill on tiny generated data."""

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, run_notebook

from analysis.config import load_defaults
from analysis.i18n import t
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_stops_cleanly_when_its_report_does_not_apply(path):
    """Right after the setup cell the notebook asks whether its report applies; every later
    code cell is guarded by the answer (plain papermill then shows only the short page)."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    setup = next(i for i, c in enumerate(code) if "open_report(globals())" in c.source)
    assert f'applies = not ctx.not_applicable("{path.stem}")' in code[setup].source
    for cell in code[setup + 1 :]:
        tree = ast.parse(cell.source)
        assert len(tree.body) == 1 and isinstance(tree.body[0], ast.If), cell.source[:60]
        assert ast.unparse(tree.body[0].test) == "applies" and not tree.body[0].orelse


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


def _with_survey(folder: Path, n: int = 240) -> None:
    """Add survey answers of the tiny data's customers over 2024-2025 (nps, csat)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    customers = pd.read_csv(folder / "customers.csv")
    who = rng.integers(0, len(customers), n)
    days = rng.integers(0, 731, n)
    pd.DataFrame(
        {
            "response_id": [f"R{i:04d}" for i in range(n)],
            "response_date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D")).strftime(
                "%Y-%m-%d"
            ),
            "business_unit": customers["business_unit"].to_numpy()[who],
            "customer_id": customers["customer_id"].to_numpy()[who],
            "nps": rng.integers(0, 11, n),
            "csat": rng.integers(1, 6, n),
        }
    ).to_csv(folder / "survey_responses.csv", index=False)


@pytest.mark.slow
@pytest.mark.parametrize("report", [r.name for r in REPORTS])
def test_runs_under_plain_papermill(report, tiny_dir, tmp_path, monkeypatch):
    # A run by hand (JupyterLab, plain papermill) leaves a published reports folder
    # byte-for-byte alone: exports and the id key go to the scratch folder, no lock is taken.
    published = _published_tree(tmp_path / "reports")
    scratch = tmp_path / "scratch"
    monkeypatch.setenv("SEGREPORT_SCRATCH", str(scratch))
    monkeypatch.delenv("SEGREPORT_ID_KEY", raising=False)  # the key file path is exercised
    if report == "satisfaction":  # the tiny data has no survey: that report would not apply
        _with_survey(tiny_dir)
    _, _, html = run_notebook(report, tmp_path, data_dir=tiny_dir, unit="north", period="2025-Q3")
    assert "2025-Q3" in html and "Data quality" in html
    assert t("report.not_applicable.title", "en") not in html  # it applies: the full report
    assert _hashes(tmp_path / "reports") == published
    if report == "value":  # its export went to the scratch folder instead
        assert (scratch / "2025-Q3" / "north" / "exports" / "rfm.csv").is_file()


@pytest.fixture(scope="module")
def shape_dirs(tmp_path_factory) -> dict[str, Path]:
    """Small orders-only and survey-only samples (``segreport sample --shape``)."""
    from analysis.data.shapes import write_shape

    return {
        shape: write_shape(tmp_path_factory.mktemp(shape), shape, n_customers=300)
        for shape in ("orders-only", "survey-only")
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("report", "shape", "code"),
    [
        ("satisfaction", "orders-only", "no_survey_file"),
        ("churn", "survey-only", "no_orders"),
        ("value", "survey-only", "no_orders"),
    ],
)
def test_a_report_that_does_not_apply_says_so_under_plain_papermill(
    report, shape, code, shape_dirs, tmp_path, monkeypatch
):
    """An operator's plain papermill run of a report the data cannot have: no error, no
    stderr (run_notebook checks both), the runner's short page, and nothing else."""
    import html as html_text

    from analysis.display import strip_notebook_style
    from analysis.report.render import not_applicable_blocks

    monkeypatch.setenv("SEGREPORT_SCRATCH", str(tmp_path / "scratch"))
    nb, outputs, html = run_notebook(
        report, tmp_path, data_dir=shape_dirs[shape], unit="all", period="2025-Q4"
    )
    reason = t(f"report.not_applicable.{code}", "en")
    assert reason in html_text.unescape(html)
    page = [b.data for b in not_applicable_blocks(reason, "en")]
    shown = [
        strip_notebook_style(o["data"]["text/html"])
        for o in outputs
        if "text/html" in o.get("data", {})
    ]
    assert shown == page  # exactly the runner's page: the cells below did nothing
    assert not [o for o in outputs if o.output_type == "stream"]
    assert "Data quality" not in html
    assert not (tmp_path / "scratch").exists()  # no export, no figures.json


def test_summary_runs_after_the_reports_it_reads():
    specs = {r.name: r for r in REPORTS}
    assert specs["summary"].runs_after and specs["summary"].order < specs["value"].order
    assert not any(r.runs_after for name, r in specs.items() if name != "summary")


# ---- outputs never reach git, nor notebooks/ when an analyst saves ---------------------------
def _load_script(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


strip_notebook = _load_script("strip_notebook")


def _executed(path: Path) -> dict:
    """``path`` as JupyterLab saves it after running all cells."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for n, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        cell["execution_count"] = n + 1
        cell["outputs"] = [
            {"output_type": "stream", "name": "stdout", "text": ["printed\n"]},
            {
                "output_type": "display_data",
                "data": {"text/html": ["<p>$17,655,653</p>"], "text/plain": ["<HTML>"]},
                "metadata": {},
            },
        ]
        cell["metadata"].update(execution={"iopub.status.busy": "2026-01-01"}, scrolled=True)
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.2", "mimetype": "x"}
    nb["metadata"]["papermill"] = {"duration": 1.0}
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stripping_restores_the_committed_notebook(path):
    committed = json.loads(path.read_text(encoding="utf-8"))
    executed = _executed(path)
    assert strip_notebook.has_outputs(executed) and not strip_notebook.has_outputs(committed)
    assert strip_notebook.strip(executed) == committed  # metadata (segreport, kernelspec) kept
    # a clean notebook as nbformat.write saves it (JupyterLab, papermill) keeps its bytes
    written = nbformat.writes(nbformat.read(path, as_version=4)) + "\n"
    assert strip_notebook.strip_text(written) == written


def test_the_filter_reads_stdin_and_checks_files(tmp_path):
    source = NOTEBOOKS[0]
    dirty = json.dumps(_executed(source), indent=1)
    script = str(ROOT / "scripts" / "strip_notebook.py")
    out = subprocess.run(
        [sys.executable, script], input=dirty.encode(), capture_output=True, check=True
    )
    assert json.loads(out.stdout) == json.loads(source.read_text(encoding="utf-8"))
    target = tmp_path / "x.ipynb"
    target.write_text(dirty, encoding="utf-8")
    assert subprocess.run([sys.executable, script, "--check", str(target)]).returncode == 1
    assert subprocess.run([sys.executable, script, str(target)]).returncode == 0
    assert subprocess.run([sys.executable, script, "--check", str(target)]).returncode == 0
    assert strip_notebook.strip_text("<<<<<<< not json") == "<<<<<<< not json"


def test_git_stores_notebooks_without_outputs(tmp_path):
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "notebooks").mkdir()
    shutil.copy(ROOT / "scripts" / "strip_notebook.py", repo / "scripts")
    shutil.copy(ROOT / ".gitattributes", repo)

    def git(*args, cwd=repo):
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout

    git("init", "-q")
    git("config", "user.email", "t@example.invalid")
    git("config", "user.name", "t")
    hooks = _load_script("install_notebook_hooks")
    assert hooks.install_git_filter(repo, sys.executable)
    source = NOTEBOOKS[0]
    saved = repo / "notebooks" / source.name
    saved.write_text(json.dumps(_executed(source), indent=1), encoding="utf-8")
    git("add", source.name, cwd=repo / "notebooks")  # from a subfolder, as analysts do
    git("commit", "-q", "-m", "x")
    stored = json.loads(git("show", f"HEAD:notebooks/{source.name}"))
    assert stored == json.loads(source.read_text(encoding="utf-8"))
    assert "printed" in saved.read_text(encoding="utf-8")  # the analyst's copy keeps outputs
    assert git("status", "--porcelain", "notebooks") == ""  # and git sees no change


# jupyter_server applies a configured hook twice and warns about "overriding" the first
@pytest.mark.filterwarnings("ignore:Overriding existing pre_save_hook:UserWarning")
def test_jupyter_saves_report_notebooks_without_outputs(tmp_path, monkeypatch):
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from traitlets.config.loader import PyFileConfigLoader

    hooks = _load_script("install_notebook_hooks")
    venv = tmp_path / "venv"
    kernel = venv / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    kernel.parent.mkdir(parents=True)
    kernel.write_text(json.dumps({"argv": ["python"], "display_name": "Python 3 (ipykernel)"}))
    stub = hooks.install_jupyter_config(venv, ROOT)
    assert hooks.name_the_kernel(venv) == kernel
    assert json.loads(kernel.read_text())["display_name"] == "Python 3 (segreport)"
    assert json.loads(kernel.read_text())["argv"] == ["python"]  # still the server's Python
    meta = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))["metadata"]
    assert meta["kernelspec"]["display_name"] == "Python 3 (segreport)"

    config = PyFileConfigLoader(stub.name, str(stub.parent)).load_config()
    hook = config.ContentsManager.pre_save_hook
    assert hook.__name__ == "pre_save_hook"
    # the hook strips this project's notebooks/ only (pointed at a stand-in folder here)
    monkeypatch.setitem(hook.__globals__, "NOTEBOOK_FOLDER", (tmp_path / "notebooks").resolve())
    manager = FileContentsManager(config=config, root_dir=str(tmp_path))
    assert manager.pre_save_hook is hook
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "scratch").mkdir()
    executed = _executed(NOTEBOOKS[0])
    for where in ("notebooks", "scratch"):
        model = {"type": "notebook", "format": "json", "content": json.loads(json.dumps(executed))}
        manager.save(model, f"{where}/a.ipynb")
    report = json.loads((tmp_path / "notebooks" / "a.ipynb").read_text(encoding="utf-8"))
    scratch = json.loads((tmp_path / "scratch" / "a.ipynb").read_text(encoding="utf-8"))
    assert not strip_notebook.has_outputs(report) and strip_notebook.has_outputs(scratch)

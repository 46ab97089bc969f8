"""pyproject.toml and environment.yml list the same dependencies."""

import json
import re
import tomllib

import pytest
import yaml
from conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = {_name(d): d.replace(" ", "") for d in project["dependencies"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and not dep.startswith(("python", "pip")):
            conda[_name(dep)] = dep.replace(" ", "")
    assert conda == pip_deps


def test_console_script_and_python_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["segreport"] == "analysis.cli:main"
    assert project["requires-python"] == ">=3.11"


# Private names still imported across modules by code being rewritten for issue 13 (the
# churn view); nothing may be added to this list.
PENDING_PRIVATE_IMPORTS: set[tuple[str, str]] = set()


def _private_imports(path, package_dir):
    """``(module, name)`` for every private name ``path`` takes from another analysis module:
    ``from .x import _y`` and ``x._y`` where ``x`` is an imported analysis module. A private
    submodule of the module's own package (``from . import _names``) is its own business."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            internal = node.level > 0 or (node.module or "").startswith("analysis")
            for alias in node.names:
                if not internal:
                    continue
                own_submodule = node.module is None and (path.parent / f"{alias.name}.py").is_file()
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    if not own_submodule:
                        found.add(f"{'.' * node.level}{node.module or ''}.{alias.name}")
                else:
                    modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.add(f"{node.value.id}.{node.attr}")
    return {(path.relative_to(package_dir).as_posix(), name) for name in found}


def test_no_module_imports_another_modules_private_names():
    package_dir = ROOT / "src" / "analysis"
    found = set()
    for path in sorted(package_dir.rglob("*.py")):
        found |= _private_imports(path, package_dir)
    assert found <= PENDING_PRIVATE_IMPORTS, sorted(found - PENDING_PRIVATE_IMPORTS)


def test_the_private_import_check_sees_both_forms(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from .value import OrdersSource, _duckdb\nfrom . import churn\nchurn._as_bool(1)\n"
        "import numpy as np\nnp._core\n"
    )
    assert _private_imports(module, tmp_path) == {
        ("m.py", ".value._duckdb"),
        ("m.py", "churn._as_bool"),
    }


def _run_all():
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benchmarks" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_bench_runs_the_benchmarks_the_readme_lists():
    run_all = _run_all()
    names = run_all.listed_scripts()
    assert names[0] == "run_pack.py" and "bench_rfm.py" in names and "run_all.py" not in names
    assert all((ROOT / "benchmarks" / n).is_file() for n in names)
    makefile = (ROOT / "Makefile").read_text()
    assert "benchmarks/run_all.py" in makefile


def test_run_all_records_each_script_and_goes_on_after_a_failure(tmp_path, capsys):
    run_all = _run_all()
    (tmp_path / "results").mkdir()
    (tmp_path / "README.md").write_text(
        "| script | what |\n|---|---|\n| `good.py` | writes |\n| `bad.py` | fails |\n"
    )
    (tmp_path / "good.py").write_text(
        "import pathlib, sys\n"
        "pathlib.Path(__file__).with_name('results').joinpath('good.json').write_text('{}')\n"
        "assert sys.argv[1:] == ['--quick']\n"
    )
    (tmp_path / "bad.py").write_text("raise SystemExit(3)\n")
    names = run_all.listed_scripts(tmp_path)
    assert names == ["good.py", "bad.py"]
    code, record = run_all.run(names, folder=tmp_path, extra=["--quick"])
    assert code == 1
    assert record["scripts"]["good.py"]["exit_code"] == 0
    assert record["scripts"]["good.py"]["results_written"] == ["good.json"]
    assert record["scripts"]["bad.py"]["exit_code"] == 3
    saved = json.loads((tmp_path / "results" / "run_all.json").read_text())
    assert saved["scripts"].keys() == {"good.py", "bad.py"}
    (tmp_path / "bad.py").unlink()
    with pytest.raises(SystemExit, match="missing: bad.py"):
        run_all.run(names, folder=tmp_path)


def _doc_text(path) -> str:
    """The docstrings and comments of a module."""
    import ast

    source = path.read_text(encoding="utf-8")
    docs = [
        ast.get_docstring(node) or ""
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    comments = [line for line in source.splitlines() if line.strip().startswith("#")]
    return "\n".join(docs + comments)


# Folders of the checkout a docstring may point into (reports/ and scratch/ are output), and
# the generated (git-ignored) ones inside them.
REPO_FOLDERS = ("benchmarks", "data", "examples", "jupyter", "notebooks", "params", "scripts")
GENERATED = ("data/sample", "data/cache", "benchmarks/out")


def test_docstrings_cite_only_files_and_names_that_exist():
    import importlib

    package = ROOT / "src" / "analysis"
    path_ref = re.compile(rf"\b((?:{'|'.join(REPO_FOLDERS)})/[\w./\-]*\w)")
    doc_ref = re.compile(r"\b([A-Z][A-Z_]+\.md)\b")  # README.md, DEVELOPERS.md ...
    name_ref = re.compile(r"\banalysis(?:\.[A-Za-z_]\w*)+")
    dead = []
    for module in sorted(package.rglob("*.py")):
        text = _doc_text(module)
        for ref in path_ref.findall(text):
            if ref.startswith(GENERATED) or "*" in ref:
                continue
            if not (ROOT / ref).exists():
                dead.append(f"{module.name}: {ref}")
        for ref in doc_ref.findall(text):
            if not any((folder / ref).exists() for folder in (ROOT, module.parent)):
                dead.append(f"{module.name}: {ref}")
        for ref in set(name_ref.findall(text)):
            parts, obj = ref.split("."), None
            for i in range(len(parts), 0, -1):
                try:
                    obj, rest = importlib.import_module(".".join(parts[:i])), parts[i:]
                    break
                except ImportError:
                    continue
            missing = object()  # a dataclass field defaulting to None exists all the same
            found = obj is not None
            for attr in rest if found else []:
                obj = getattr(obj, attr, missing)
                if obj is missing:
                    found = False
                    break
            if not found:
                dead.append(f"{module.name}: {ref}")
    assert not dead, dead

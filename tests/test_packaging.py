"""pyproject.toml and environment.yml list the same dependencies."""

import re
import tomllib

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
# churn package and the satisfaction trend module); nothing may be added to this list.
PENDING_PRIVATE_IMPORTS = {
    ("report/views/churn.py", "churn._as_bool"),
    ("report/views/churn.py", "churn._fmt_sd"),
    ("satisfaction/trend.py", ".scores._check_top_box"),
}


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

"""Views only display: no statistics or model libraries, and no sibling view."""

import ast
from pathlib import Path

import pytest
from conftest import ROOT

VIEWS = sorted((ROOT / "src" / "analysis" / "report" / "views").glob("*.py"))
FORBIDDEN = ("scipy", "sklearn", "statsmodels")


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every imported module of ``path`` (also inside functions), as (dotted name, level)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            found.append((base, node.level))
            if node.level == 1 and not base:  # from . import x
                found += [(alias.name, 1) for alias in node.names]
    return found


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: p.stem)
def test_views_import_no_statistics_and_no_sibling_view(path):
    for name, level in _imports(path):
        top = name.split(".")[0]
        assert top not in FORBIDDEN, f"{path.name} imports {name}"
        assert level != 1, f"{path.name} imports the sibling view {name!r}"
        assert not name.startswith("analysis.report.views"), f"{path.name} imports {name}"


def test_the_check_sees_imports(tmp_path):
    source = "from scipy import stats\nfrom .value import X\ndef f():\n    import sklearn\n"
    tree = Path(tmp_path / "view.py")
    tree.write_text(source)
    names = _imports(tree)
    assert ("scipy", 0) in names and ("value", 1) in names and ("sklearn", 0) in names

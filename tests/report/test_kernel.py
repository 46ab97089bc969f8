"""One kernel for many notebooks: each notebook still starts from a clean namespace, a
failing notebook does not spoil the next one, and a dead kernel is replaced."""

import nbformat
import pytest

from analysis.report.kernel import KernelSession

pytestmark = pytest.mark.slow


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    parameters = nbformat.v4.new_code_cell("value = 0")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return str(path)


def _outputs(path):
    nb = nbformat.read(path, as_version=4)
    return [o["text"] for cell in nb.cells for o in cell.get("outputs", []) if "text" in o]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    with KernelSession(tmp_path_factory.mktemp("cwd"), warm="import json") as s:
        yield s


def test_notebooks_share_the_kernel_but_not_the_namespace(session, tmp_path):
    first = _notebook(
        tmp_path / "a.ipynb",
        "import os\nleak = 'from a'\nimport matplotlib.pyplot as plt\nplt.figure()\nprint(os.getpid())",
    )
    second = _notebook(
        tmp_path / "b.ipynb",
        "import os\nprint(os.getpid())\nprint('leak' in dir(), 'value' in dir(), value)\n"
        "import matplotlib.pyplot as plt\nprint(len(plt.get_fignums()))",
    )
    session.execute_notebook(first, str(tmp_path / "a.out.ipynb"), {"value": 1})
    session.execute_notebook(second, str(tmp_path / "b.out.ipynb"), {"value": 2})
    pid_a = _outputs(tmp_path / "a.out.ipynb")[0].strip()
    pid_b, seen, figures = "".join(_outputs(tmp_path / "b.out.ipynb")).splitlines()
    assert pid_a == pid_b  # the same kernel process ran both
    assert seen == "False True 2"  # a's variable is gone; b's own parameter is there
    assert figures == "0"  # a's open figure was closed
    assert session.started == 1


def test_a_failing_notebook_does_not_spoil_the_next(session, tmp_path):
    broken = _notebook(tmp_path / "broken.ipynb", "half = 1\nraise ValueError('planted')")
    fine = _notebook(tmp_path / "fine.ipynb", "print('half' in dir(), value * 10)")
    with pytest.raises(Exception, match="planted"):
        session.execute_notebook(broken, str(tmp_path / "broken.out.ipynb"), {"value": 1})
    session.execute_notebook(fine, str(tmp_path / "fine.out.ipynb"), {"value": 4})
    assert _outputs(tmp_path / "fine.out.ipynb")[0].strip() == "False 40"


def test_a_dead_kernel_is_replaced(tmp_path):
    killer = _notebook(tmp_path / "kill.ipynb", "import os, signal\nos.kill(os.getpid(), 9)")
    after = _notebook(tmp_path / "after.ipynb", "print(value + 1)")
    with KernelSession(tmp_path) as session:
        with pytest.raises(Exception):  # noqa: B017,PT011  (papermill's dead-kernel error)
            session.execute_notebook(killer, str(tmp_path / "kill.out.ipynb"), {"value": 1})
        session.execute_notebook(after, str(tmp_path / "after.out.ipynb"), {"value": 1})
        assert session.started == 2
    assert _outputs(tmp_path / "after.out.ipynb")[0].strip() == "2"
    assert session.km is None  # closed on leaving the block


def test_warm_up_freezes_the_imported_stack_but_garbage_is_still_collected(tmp_path):
    from analysis.report.runner import GC_YOUNG_THRESHOLD, warm_code

    probe = _notebook(
        tmp_path / "probe.ipynb",
        "import gc, sys, weakref\n"
        "print(gc.get_freeze_count() > 10_000, 'analysis.report.context' in sys.modules)\n"
        "print(gc.get_threshold())\n"
        "class Node: pass\n"
        "a, b = Node(), Node()\n"
        "a.other, b.other = b, a\n"
        "ref = weakref.ref(a)\n"
        "del a, b\n"
        "gc.collect()\n"
        "print(ref() is None)",
    )
    with KernelSession(tmp_path, warm=warm_code(["overview"])) as session:
        session.execute_notebook(probe, str(tmp_path / "probe.out.ipynb"), {"value": 1})
    lines = "".join(_outputs(tmp_path / "probe.out.ipynb")).splitlines()
    # stack imported and frozen; young objects collected less often; a new cycle is freed
    assert lines == ["True True", f"({GC_YOUNG_THRESHOLD}, 20, 20)", "True"]


def test_after_a_reset_nothing_holds_the_last_notebooks_objects(session, tmp_path):
    # the namespace is cleared and figures are closed, so a collection frees a cycle and a
    # figure of the last notebook: no reference survives the reset (no output cache either)
    first = _notebook(
        tmp_path / "cycles.ipynb",
        "import sys, weakref\n"
        "import matplotlib.pyplot as plt\n"
        "class Node: pass\n"
        "a, b = Node(), Node()\n"
        "a.other, b.other = b, a\n"
        "fig = plt.figure()\n"
        "sys._segreport_probe = (weakref.ref(a), weakref.ref(fig))\n"
        "a",  # a displayed value: the output cache would keep it
    )
    second = _notebook(
        tmp_path / "after_reset.ipynb",
        "import gc, sys\n"
        "gc.collect()\n"
        "node, fig = sys._segreport_probe\n"
        "print(node() is None, fig() is None)",
    )
    session.execute_notebook(first, str(tmp_path / "cycles.out.ipynb"), {"value": 1})
    session.execute_notebook(second, str(tmp_path / "after_reset.out.ipynb"), {"value": 1})
    assert _outputs(tmp_path / "after_reset.out.ipynb")[0].strip() == "True True"

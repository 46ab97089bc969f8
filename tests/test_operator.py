"""Operator basics and run faults (issue 15): the run summary, the notification hook,
several periods, past runs, pruning, strict JSON, a portal built from disk, staging
folders on signals, unwritable output folders, relative paths, the Airflow example."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from conftest import ROOT

from analysis.cli import main
from analysis.errors import PeriodError
from analysis.period import Period
from analysis.report import portal, runner, runs

TODAY = "quality.today=2026-06-30"


def invoke(*args, **kwargs):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, **kwargs)


def strict_load(text: str):
    """json.loads that refuses NaN / Infinity (what a strict parser does)."""

    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


# ---- several periods ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2025-Q1..2025-Q4"], ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]),
        (["2024-Q4..2025-Q1"], ["2024-Q4", "2025-Q1"]),
        (["2025-11..2026-02"], ["2025-11", "2025-12", "2026-01", "2026-02"]),
        (["2023..2025"], ["2023", "2024", "2025"]),
        (["2025-Q3", "2025-Q1"], ["2025-Q3", "2025-Q1"]),  # repeated: every one, in order
        (["2025-Q1..2025-Q2", "2025-Q2", "2025-Q3"], ["2025-Q1", "2025-Q2", "2025-Q3"]),
        (["2025-07-01..2025-09-30"], ["2025-07-01..2025-09-30"]),  # an explicit range: one
        (["2025-Q2..2025-Q2"], ["2025-Q2"]),
        ([], []),
    ],
)
def test_period_values_expand_to_every_period(values, expected):
    assert runs.expand_periods(values) == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["2025-Q1..2025-09"], "mixes a quarter and a month"),
        (["2025-Q4..2025-Q1"], "ends before it starts"),
        (["2025-Q7"], "cannot read period"),
        (["2025-Q1..nope"], "cannot read period"),
    ],
)
def test_bad_period_values_are_refused(values, message):
    with pytest.raises(PeriodError, match=message):
        runs.expand_periods(values)


def test_a_repeated_period_plans_each_one_not_only_the_last(tiny_dir, tmp_path):
    result = invoke(
        "run", "--data-dir", str(tiny_dir), "--output", str(tmp_path / "r"),
        "--period", "2025-Q2", "--period", "2025-Q3..2025-Q4", "--unit", "north",
        "--reports", "overview", "--set", TODAY, "--dry-run",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    planned = [line.split("\t")[2] for line in result.output.splitlines() if "\t" in line]
    assert [Path(p).parts[-3] for p in planned] == ["2025-Q2", "2025-Q3", "2025-Q4"]
    assert not (tmp_path / "r" / "runs").exists()  # a dry run leaves no summary


def test_a_bad_period_range_exits_2_without_a_traceback(tiny_dir, tmp_path):
    result = invoke(
        "run", "--data-dir", str(tiny_dir), "--output", str(tmp_path / "r"),
        "--period", "2025-Q3..2025-01",
    )  # fmt: skip
    assert result.exit_code == 2 and "mixes a quarter and a month" in result.output
    assert "Traceback" not in result.output


# ---- strict JSON -------------------------------------------------------------------------------
def test_strict_json_has_no_nan_and_plain_values():
    import numpy as np
    import pandas as pd

    value = {
        "a": float("nan"),
        "b": [np.float64("inf"), np.int64(3), pd.NaT, pd.NA],
        "c": pd.Timestamp("2025-01-02"),
        "d": Path("/x"),
        "e": np.float32(0.5),
    }
    loaded = strict_load(runs.strict_json(value))
    assert loaded == {
        "a": None,
        "b": [None, 3, None, None],
        "c": "2025-01-02T00:00:00",
        "d": "/x",
        "e": 0.5,
    }


# ---- the notification hook ---------------------------------------------------------------------
def _summary(tmp_path, exit_code=0):
    summary = runs.RunSummary(tmp_path / "out")
    summary.periods = ["2025-Q4"]
    summary.finish(exit_code, None if exit_code == 0 else "bad input")
    summary.write()
    return summary


def test_the_hook_gets_the_summary_on_stdin_and_its_path_in_the_environment(tmp_path):
    got = tmp_path / "got.json"
    script = (
        "import json, os, sys; data = json.load(sys.stdin); "
        f"data['env_path'] = os.environ['SEGREPORT_SUMMARY']; "
        f"data['env_status'] = os.environ['SEGREPORT_STATUS']; "
        f"open({str(got)!r}, 'w').write(json.dumps(data))"
    )
    summary = _summary(tmp_path, exit_code=2)
    outcome = runs.notify([sys.executable, "-c", script], summary)
    assert outcome["ok"] and outcome["exit_code"] == 0
    data = json.loads(got.read_text())
    assert data["exit_code"] == 2 and data["status"] == "error" and data["error"] == "bad input"
    assert data["env_path"] == str(summary.path) and Path(data["env_path"]).is_file()
    assert data["env_status"] == "error"
    assert summary.notify == outcome


def test_a_failing_or_missing_hook_is_reported_never_raised(tmp_path):
    summary = _summary(tmp_path)
    failing = runs.notify(f"{sys.executable} -c 'import sys; sys.exit(7)'", summary)
    assert failing["ok"] is False and failing["error"].startswith("exit code 7")
    missing = runs.notify("/nonexistent/notify-me --now", summary)
    assert missing["ok"] is False and "nonexistent" in missing["error"]
    unreadable = runs.notify("echo 'unclosed", summary)
    assert unreadable["ok"] is False and "cannot read command" in unreadable["error"]
    assert summary.exit_code == 0  # the run's outcome is not the hook's


def test_the_hook_runs_without_a_shell(tmp_path):
    marker = tmp_path / "pwned"
    # a shell would run the substitution and the second command; without one they are words
    summary = _summary(tmp_path)
    outcome = runs.notify(f"echo $(touch {marker}) ; touch {marker}", summary)
    assert outcome["ok"] and not marker.exists()


# ---- leftovers, signals ------------------------------------------------------------------------
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_staging_folders_of_dead_runs_are_removed_live_ones_kept(tmp_path):
    out = tmp_path / "r"
    dead, live = _dead_pid(), os.getppid()
    stale = out / "2025-Q4" / f".north.staging-{dead}"
    old = out / "2025-Q4" / f".north.old-{dead}"
    cache_tmp = out / ".cache" / f".abc.tmp-{dead}"
    running = out / "2025-Q4" / f".south.staging-{live}"
    for folder in (stale, old, cache_tmp, running):
        (folder / "exports").mkdir(parents=True)
        (folder / "exports" / "rfm.csv").write_text("customer_id\nC0001\n")
    (out / "2025-Q4" / "north").mkdir()
    assert set(runs.remove_stale(out)) == {stale, old, cache_tmp}
    assert running.is_dir() and (out / "2025-Q4" / "north").is_dir()
    # under the run lock no other run writes: any other process's folder is stale
    with runner.RunLock(out) as lock:
        assert lock.removed == [running]
    assert not running.exists()


def test_sigterm_removes_the_staging_folders_of_the_run(tmp_path):
    out = tmp_path / "r"
    ready = tmp_path / "ready"
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from types import SimpleNamespace
        from analysis.period import Period
        from analysis.report import runner, runs

        out = Path({str(out)!r})
        staging = out / "2025-Q4" / f".north.staging-{{__import__('os').getpid()}}"

        class SlowWorkers:
            def run(self, batches, done):
                (staging / "exports").mkdir(parents=True)
                (staging / "exports" / "churn_risk.csv").write_text("customer_id\\nC0001\\n")
                Path({str(ready)!r}).write_text("go")
                time.sleep(60)

        task = SimpleNamespace(unit="north", runs_after=False)
        plan = SimpleNamespace(
            tasks=[task], prepared=SimpleNamespace(unit_meta={{}}), staging={{"north": staging}},
            skipped_units={{}}, units=["north"], output=out, period=Period.parse("2025-Q4"),
            params={{"language": "en", "reports": ["overview"]}},
        )
        try:
            with runs.stop_on_signals():
                runner.execute_plan(plan, workers=SlowWorkers())
        except runs.Interrupted as exc:
            print(exc, file=sys.stderr)
            sys.exit(exc.exit_code)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    for _ in range(300):
        if ready.exists() or child.poll() is not None:
            break
        import time

        time.sleep(0.05)
    assert ready.exists(), child.stderr.read()
    assert list((out / "2025-Q4").glob(".north.staging-*"))
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 128 + signal.SIGTERM, err
    assert "SIGTERM" in err and "Traceback" not in err
    assert not list((out / "2025-Q4").glob(".north.staging-*"))  # no real ids left behind


# ---- a swap that cannot be written -------------------------------------------------------------
def _fake_plan(out: Path) -> SimpleNamespace:
    period = Period.parse("2025-Q4")
    staging = out / period.slug / f".north.staging-{os.getpid()}"
    prepared = SimpleNamespace(
        unit_meta={}, sources={}, key="k", reused=False, data_end=None, units=["north", "south"]
    )
    return SimpleNamespace(
        output=out,
        period=period,
        staging={"north": staging},
        params={"language": "en"},
        prepared=prepared,
        unit_params={},
        units=["north"],
        skipped_units={},
        tasks=[],
    )


def _published(out: Path) -> Path:
    final = out / "2025-Q4" / "north"
    final.mkdir(parents=True)
    (final / "overview.html").write_text("good old report")
    (final / "status.json").write_text(json.dumps({"reports": {}}))
    return final


def _new_result(plan) -> runner.TaskResult:
    staging = plan.staging["north"]
    staging.mkdir(parents=True)
    (staging / "overview.html").write_text("new report")
    return runner.TaskResult(
        "overview", "north", "2025-Q4", "ok", html=str(staging / "overview.html"),
        seconds=float("nan"), finished_at="2026-01-01T10:00:00+00:00",
    )  # fmt: skip


@pytest.mark.parametrize("failing", ["swap", "copy"])
def test_a_full_disk_during_the_swap_keeps_the_earlier_reports(tmp_path, monkeypatch, failing):
    out = tmp_path / "r"
    final = _published(out)
    plan = _fake_plan(out)
    result = _new_result(plan)
    real_replace = os.replace

    def replace(src, dst):
        if failing == "swap" and ".staging-" in str(src):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real_replace(src, dst)

    def copy2(src, dst, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(runner.os, "replace", replace)
    if failing == "copy":
        monkeypatch.setattr(runner.shutil, "copy2", copy2)
    with pytest.raises(runs.OutputError) as caught:
        runner.finalize_unit(plan, "north", [result])
    message = str(caught.value)
    assert f"cannot write to the output folder {final}" in message
    assert "the disk is full" in message and "unchanged" in message
    assert (final / "overview.html").read_text() == "good old report"
    assert not list(final.parent.glob(".north.old-*"))
    runner.remove_staging(plan)
    assert not list(final.parent.glob(".north.*"))


def test_status_and_manifest_are_strict_json_with_the_reports_finish_time(tmp_path):
    out = tmp_path / "r"
    plan = _fake_plan(out)
    result = _new_result(plan)  # seconds is NaN
    runner.finalize_unit(plan, "north", [result])
    folder = out / "2025-Q4" / "north"
    status = strict_load((folder / "status.json").read_text())
    manifest = strict_load((folder / "manifest.json").read_text())
    assert status["reports"]["overview"]["finished_at"] == "2026-01-01T10:00:00+00:00"
    assert status["reports"]["overview"]["seconds"] is None
    assert manifest["reports"]["overview"]["seconds"] is None
    assert (folder / "overview.html").read_text() == "new report"


def test_a_read_only_output_folder_exits_2_naming_it(tiny_dir, tmp_path, monkeypatch):
    out = tmp_path / "r"
    out.mkdir()
    real_open = open

    def read_only(file, mode="r", *args, **kwargs):  # what chmod 0o555 does to a non-root user
        if str(file).startswith(str(out)) and any(c in mode for c in "wax+"):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", read_only)
    result = invoke(
        "run", "--data-dir", str(tiny_dir), "--output", str(out), "--set", TODAY,
        "--reports", "overview", "--unit", "north",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"cannot write to the output folder {out}" in result.output
    assert "not writable" in result.output and "Traceback" not in result.output


# ---- prune and past runs -----------------------------------------------------------------------
def _period_folder(out: Path, period: str, key: str) -> None:
    folder = out / Period.parse(period).slug / "north"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"cache": {"key": key}}))


def test_prune_keeps_the_newest_and_the_current_periods_and_their_caches(tmp_path):
    out = tmp_path / "r"
    for period, key in [("2024-Q4", "k1"), ("2025-Q1", "k2"), ("2025-Q2", "k2"), ("2025-Q3", "k3")]:
        _period_folder(out, period, key)
    _period_folder(out, "2023-01-01..2023-03-31", "k0")
    for key in ("k0", "k1", "k2", "k3", "k4", "k5"):
        (out / ".cache" / key).mkdir(parents=True)
    (out / "runs").mkdir()
    (out / runs.LAST_RUN).write_text(json.dumps({"periods": ["2024-Q4"], "cache_keys": ["k5"]}))
    expected = {
        out / "2025-Q1",
        out / "2023-01-01_2023-03-31",
        out / ".cache" / "k0",
        out / ".cache" / "k4",
    }
    planned = runs.prune(out, keep=2, dry_run=True)
    assert set(planned) == expected and all(p.exists() for p in planned)
    removed = runs.prune(out, keep=2, current_keys=["k4"])
    assert set(removed) == expected - {out / ".cache" / "k4"}
    assert not any(p.exists() for p in removed)
    # kept: newest two (2025-Q3, 2025-Q2), the last run's 2024-Q4, and the caches they use
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "2024-Q4", "2025-Q2", "2025-Q3", "last_run.json", "runs",
    ]  # fmt: skip
    assert sorted(p.name for p in (out / ".cache").iterdir()) == ["k1", "k2", "k3", "k4", "k5"]
    with pytest.raises(runs.ParamsError, match="at least 1"):
        runs.prune(out, keep=0)


def test_prune_and_runs_commands(tmp_path):
    out = tmp_path / "r"
    _period_folder(out, "2025-Q1", "k1")
    _period_folder(out, "2025-Q2", "k2")
    (out / ".cache" / "k1").mkdir(parents=True)
    dry = invoke("prune", "--output", str(out), "--keep", "1", "--dry-run")
    assert dry.exit_code == 0 and f"would remove {out / '2025-Q1'}" in dry.output
    assert (out / "2025-Q1").is_dir()
    done = invoke("prune", "--output", str(out), "--keep", "1")
    assert done.exit_code == 0 and f"removed {out / '2025-Q1'}" in done.output
    assert not (out / "2025-Q1").exists() and (out / "2025-Q2").is_dir()
    assert (out / "index.html").is_file()  # the portal follows
    bad = invoke("prune", "--output", str(out), "--keep", "0")
    assert bad.exit_code == 2 and "at least 1" in bad.output
    assert "no runs recorded" in invoke("runs", "--output", str(out)).output
    for code in (0, 2):
        summary = runs.RunSummary(out, periods=["2025-Q2"], units=["north"])
        summary.finish(code, None if code == 0 else "bad input")
        summary.write()
    listed = invoke("runs", "--output", str(out)).output.splitlines()
    assert len(listed) == 3 and listed[1].split("\t")[1:4] == ["ok", "0", "2025-Q2"]
    assert listed[2].split("\t")[1:3] == ["error", "2"]
    as_json = strict_load(invoke("runs", "--output", str(out), "--json", "--last", "1").output)
    assert [r["exit_code"] for r in as_json] == [2]


# ---- the portal from disk ----------------------------------------------------------------------
def test_the_portal_does_not_offer_a_report_deleted_since_the_run(tmp_path):
    folder = tmp_path / "r" / "2025-Q4" / "north"
    folder.mkdir(parents=True)
    entry = {"status": "ok", "html": "value.html", "pdf": "value.pdf", "finished_at": "x"}
    status = {
        "period": "2025-Q4",
        "unit": "north",
        "updated_at": "2026-01-01T00:00:00",
        "reports": {"value": entry, "overview": {**entry, "html": "overview.html", "pdf": None}},
    }
    (folder / "status.json").write_text(json.dumps(status))
    (folder / "overview.html").write_text("here")
    html = portal.render_portal(tmp_path / "r")
    assert 'href="2025-Q4/north/overview.html"' in html
    assert "value.html" not in html and "value.pdf" not in html  # deleted: no link
    assert html.count("pt-badge pt-ok") == 1 and html.count("pt-badge pt-missing") == 1
    assert "no longer on disk" in html


# ---- paths -------------------------------------------------------------------------------------
def test_relative_folders_resolve_against_the_working_directory(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(
        "run", "--data-dir", "data", "--output", "out", "--unit", "north", "--period",
        "2025-Q4", "--reports", "overview", "--set", TODAY, "--dry-run",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"data {tmp_path / 'data'}; output {tmp_path / 'out'}" in result.output
    assert (tmp_path / "out" / ".cache").is_dir()
    assert not (ROOT / "out").exists()


# ---- one real run: summary, hook, status, portal ----------------------------------------------
@pytest.mark.slow
def test_a_run_writes_its_summary_and_tells_the_hook(tiny_dir, tmp_path):
    out = tmp_path / "r"
    got = tmp_path / "hook.json"
    hook = f"{sys.executable} -c \"import sys; open({str(got)!r}, 'w').write(sys.stdin.read())\""
    result = invoke(
        "run", "--data-dir", str(tiny_dir), "--output", str(out), "--unit", "north",
        "--period", "2025-Q3..2025-Q4", "--reports", "overview", "--set", TODAY,
        "--summary-json", "-", "--notify", hook,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = strict_load(result.stdout)
    last = strict_load((out / runs.LAST_RUN).read_text())
    by_hook = strict_load(got.read_text())
    assert by_hook["run_id"] == last["run_id"] == printed["run_id"]
    assert printed["periods"] == ["2025-Q3", "2025-Q4"] and printed["exit_code"] == 0
    assert printed["counts"]["ok"] == 2 and printed["notify"]["ok"]
    assert Path(printed["summary"]) == out / "runs" / f"{printed['run_id']}.json"
    assert oct(Path(printed["summary"]).stat().st_mode & 0o777) == "0o600"
    for entry in printed["reports"]:
        assert Path(entry["html"]).is_file() and entry["status"] == "ok"
        assert entry["started_at"] <= entry["finished_at"]
        status = strict_load((Path(entry["html"]).parent / "status.json").read_text())
        assert status["reports"]["overview"]["finished_at"] == entry["finished_at"]
        strict_load((Path(entry["html"]).parent / "manifest.json").read_text())
    # a report deleted afterwards: the rebuilt portal no longer offers it
    (out / "2025-Q4" / "north" / "overview.html").unlink()
    assert invoke("portal", "--output", str(out)).exit_code == 0
    html = (out / "index.html").read_text()
    assert "2025-Q3/north/overview.html" in html and "2025-Q4/north/overview.html" not in html
    # bad input afterwards: exit 2, still a summary and a notification
    bad = invoke(
        "run", "--data-dir", str(tmp_path / "nowhere"), "--output", str(out), "--notify", hook
    )
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert strict_load(got.read_text())["status"] == "error"
    assert strict_load((out / runs.LAST_RUN).read_text())["exit_code"] == 2


@pytest.mark.slow
def test_a_disk_full_swap_in_a_real_run_exits_2_and_keeps_the_good_report(
    tiny_dir, tmp_path, monkeypatch
):
    out = tmp_path / "r"
    args = ["run", "--data-dir", str(tiny_dir), "--output", str(out), "--unit", "north",
            "--period", "2025-Q4", "--reports", "overview", "--set", TODAY]  # fmt: skip
    assert invoke(*args).exit_code == 0
    html = out / "2025-Q4" / "north" / "overview.html"
    good = html.read_bytes()
    real_replace = os.replace

    def replace(src, dst):
        if Path(src).name.startswith(".north.staging-"):  # the swap of the unit's folder
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(runner.os, "replace", replace)
    result = invoke(*args, "--summary-json", "-")
    assert result.exit_code == 2, result.output
    assert "the disk is full" in result.output and str(html.parent) in result.output
    assert "Traceback" not in result.output
    assert html.read_bytes() == good
    assert not [p for p in html.parent.parent.iterdir() if p.name.startswith(".")]
    last = strict_load((out / runs.LAST_RUN).read_text())
    assert last["exit_code"] == 2 and last["reports"][0]["status"] == "failed"


# ---- the Airflow example -----------------------------------------------------------------------
def _airflow_stub(monkeypatch):
    class AirflowException(Exception):
        pass

    class AirflowFailException(AirflowException):
        pass

    class DAG:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    class PythonOperator:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

        def __rshift__(self, other):
            return other

    modules = {
        "airflow": types.ModuleType("airflow"),
        "airflow.exceptions": types.ModuleType("airflow.exceptions"),
        "airflow.operators": types.ModuleType("airflow.operators"),
        "airflow.operators.python": types.ModuleType("airflow.operators.python"),
    }
    modules["airflow"].DAG = DAG
    modules["airflow.exceptions"].AirflowException = AirflowException
    modules["airflow.exceptions"].AirflowFailException = AirflowFailException
    modules["airflow.operators.python"].PythonOperator = PythonOperator
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return AirflowException, AirflowFailException


@pytest.mark.parametrize(
    ("code", "stderr", "retried"),
    [
        (2, "segreport: error: In file 'orders.csv', column 'amount': ...", False),
        (2, "segreport: error: another segreport run is writing to /srv (pid 1)", True),
        (1, "segreport: FAILED 2025-09 retail/churn: ...", True),
        (143, "segreport: error: the run was stopped (SIGTERM)", True),
    ],
)
def test_the_airflow_example_does_not_retry_bad_input(monkeypatch, code, stderr, retried):
    import importlib.util

    retry, no_retry = _airflow_stub(monkeypatch)
    spec = importlib.util.spec_from_file_location(
        "airflow_dag", ROOT / "examples" / "airflow_segreport_dag.py"
    )
    dag = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dag)
    assert dag.dag.kwargs["default_args"]["retries"] >= 1  # other failures are retried
    done = subprocess.CompletedProcess([], code, stdout="", stderr=stderr)
    monkeypatch.setattr(dag.subprocess, "run", lambda *a, **k: done)
    with pytest.raises(retry) as caught:
        dag.validate_input()
    assert isinstance(caught.value, no_retry) is not retried
    ok = subprocess.CompletedProcess([], 0, stdout='{"exit_code": 0}', stderr="")
    monkeypatch.setattr(dag.subprocess, "run", lambda *a, **k: ok)
    assert dag.run_reports("2025-09", "k" * 20) == {"exit_code": 0}

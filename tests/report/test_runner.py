"""Runs an operator can trust: cache reuse, atomic unit folders, locking, manifest."""

import json
import os
import time

import pandas as pd
import pytest
from conftest import tiny_tables, write_tables

from analysis.config import load_params
from analysis.errors import AnalysisError
from analysis.report import runner

pytestmark = pytest.mark.slow


def _params(data, out, **extra):
    overrides = {
        "data_dir": str(data),
        "output_dir": str(out),
        "quality": {"today": "2026-06-30"},
        "reports": ["overview"],
    }
    overrides.update(extra)
    return load_params(overrides=overrides)


@pytest.fixture
def data(tmp_path):
    return write_tables(tmp_path / "data", tiny_tables())


def _html_body(path):
    text = path.read_text()
    # the generation time differs between runs; everything else must be identical
    return "\n".join(
        line
        for line in text.splitlines()
        if "Generated" not in line
        and "生成" not in line
        and "sr-meta" not in line
        and "<dd>20" not in line
    )


def test_second_run_reuses_the_cache_and_gives_identical_outputs(data, tmp_path):
    params = _params(data, tmp_path / "r")
    plan1, results1 = runner.run(params, units=["north"])
    assert not plan1.prepared.reused and runner.exit_code(results1) == 0
    html = tmp_path / "r" / "2025-Q4" / "north" / "overview.html"
    first = _html_body(html)
    plan2, results2 = runner.run(params, units=["north"])
    assert plan2.prepared.reused and plan2.prepared.key == plan1.prepared.key
    assert _html_body(html) == first
    manifest = json.loads((html.parent / "manifest.json").read_text())
    assert manifest["cache"] == {"key": plan1.prepared.key, "reused": True}
    # changing the input changes the key; --force rebuilds even when nothing changed
    plan3 = runner.plan_run(params, units=["north"], force=True)
    assert not plan3.prepared.reused
    orders = pd.read_csv(data / "orders.csv")
    orders.loc[0, "amount"] = 999.0
    orders.to_csv(data / "orders.csv", index=False)
    plan4 = runner.plan_run(params, units=["north"])
    assert plan4.prepared.key != plan1.prepared.key and not plan4.prepared.reused


def test_failed_rerun_keeps_the_last_good_report(data, tmp_path):
    params = _params(data, tmp_path / "r")
    runner.run(params, units=["north"])
    folder = tmp_path / "r" / "2025-Q4" / "north"
    good = (folder / "overview.html").read_text()
    plan = runner.plan_run(params, units=["north"])
    broken = tmp_path / "broken.ipynb"
    broken.write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "id": "c1",
                        "metadata": {},
                        "outputs": [],
                        "execution_count": None,
                        "source": "1/0",
                    }
                ],
                "metadata": {
                    "kernelspec": {
                        "name": "python3",
                        "language": "python",
                        "display_name": "Python 3",
                    }
                },
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
    )
    plan.tasks[0].notebook = str(broken)
    results = runner.execute_plan(plan, progress=False)
    assert runner.exit_code(results) == 1
    assert (folder / "overview.html").read_text() == good  # last good report kept
    assert (folder / "overview.error.html").is_file()
    status = json.loads((folder / "status.json").read_text())["reports"]["overview"]
    assert status["status"] == "failed" and status["last_good_html"] == "overview.html"
    assert "ZeroDivisionError" in status["error"]
    portal = (tmp_path / "r" / "index.html").read_text()
    assert "Last good version" in portal and "ZeroDivisionError" in portal
    assert not [p for p in folder.parent.iterdir() if ".staging" in p.name or ".old" in p.name]
    # a later good run clears the error page
    runner.run(params, units=["north"])
    assert not (folder / "overview.error.html").exists()


def test_manifest_records_parameters_inputs_versions_and_quality(data, tmp_path, monkeypatch):
    params = _params(data, tmp_path / "r", currency="€")
    runner.run(params, units=["north"])
    manifest = json.loads((tmp_path / "r" / "2025-Q4" / "north" / "manifest.json").read_text())
    assert manifest["parameters"]["currency"] == "€"
    redacted = runner._redact({"db": {"password": "s3cret", "host": "h"}, "api_token": "t"})
    assert redacted == {"db": {"password": "***", "host": "h"}, "api_token": "***"}
    assert (
        manifest["inputs"]["orders"]["rows"] == 1500
        and len(manifest["inputs"]["orders"]["sha256"]) == 64
    )
    assert manifest["versions"]["pandas"] == pd.__version__
    assert manifest["reports"]["overview"]["status"] == "ok"
    assert manifest["reports"]["overview"]["timings"]["execute"] > 0
    assert isinstance(manifest["data_quality"], list)


def test_a_second_run_on_the_same_output_waits_or_refuses(tmp_path):
    out = tmp_path / "r"
    with runner.RunLock(out):
        with pytest.raises(AnalysisError, match="another segreport run is writing"):
            with runner.RunLock(out, wait=0.6):
                pass
    with runner.RunLock(out):  # released: free again
        pass


def test_lock_is_held_across_processes(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "r"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from analysis.report.runner import RunLock; "
            f"l = RunLock(Path({str(out)!r})); l.__enter__(); "
            "print('locked', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(AnalysisError, match=f"pid {holder.pid}"):
            with runner.RunLock(out, wait=1.0):
                pass
        assert time.monotonic() - started >= 0.9
    finally:
        holder.kill()
        holder.wait()
    with runner.RunLock(out):  # the dead holder's lock is gone with it
        pass
    assert os.path.exists(out / ".segreport.lock")


def test_the_kernel_runs_the_next_notebook_while_the_last_one_is_published(monkeypatch):
    """execute_unit: report N is rendered and printed while notebook N+1 executes; results
    come back in order, each announced once, after its own publishing."""
    import threading

    tasks = [
        runner.Task(name, "north", "2025-Q4", "nb", "out", "html", {}, {}, ("html", "pdf"), False)
        for name in ("value", "churn", "summary")
    ]
    log = []
    first_published = threading.Event()
    second_started = threading.Event()

    def run_notebook(task, session):
        log.append(f"run {task.report}")
        if task.report == "churn":
            second_started.set()
        return runner.TaskResult(task.report, task.unit, task.period, "ok")

    def publish(task, result):
        if task.report == "value":  # held until the kernel has moved on to the next notebook
            assert second_started.wait(timeout=10)
            first_published.set()
        log.append(f"publish {task.report}")
        result.pdf = f"{task.report}.pdf"
        return result

    announced = []
    monkeypatch.setattr(runner, "run_notebook", run_notebook)
    monkeypatch.setattr(runner, "publish", publish)
    results = runner.execute_unit(tasks, session=object(), done=announced.append)
    assert first_published.is_set()
    assert log.index("run churn") < log.index("publish value")
    assert [r.report for r in results] == ["value", "churn", "summary"]
    assert [r.report for r in announced] == ["value", "churn", "summary"]
    assert all(r.pdf == f"{r.report}.pdf" for r in announced)  # announced once published

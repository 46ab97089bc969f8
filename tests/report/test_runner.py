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


def _read(folder, name):
    return json.loads((folder / name).read_text())


def test_a_report_that_does_not_apply_gets_a_page_saying_why_not_a_failure(data, tmp_path):
    """tiny_tables has no survey file: the satisfaction report is not run, its page says
    why in the report language, and nothing counts as failed."""
    params = _params(data, tmp_path / "r", reports=["satisfaction"], language="zh")
    _, results = runner.run(params, units=["north"])
    (result,) = results
    assert (result.status, result.reason_code) == ("not_applicable", "no_survey_file")
    assert runner.exit_code(results) == 0
    folder = tmp_path / "r" / "2025-Q4" / "north"
    page = (folder / "satisfaction.html").read_text()
    for text in ("本报告不适用于这些数据", "files.survey_responses", "north", "2025-Q4"):
        assert text in page  # the reason, in Chinese, under the usual header
    assert 'class="sr-header"' in page and "Content-Security-Policy" in page
    assert "没有出错" in page and "<script" not in page
    assert not (folder / "executed" / "satisfaction.ipynb").exists()  # never executed
    assert "execute" not in result.timings
    entry = _read(folder, "status.json")["reports"]["satisfaction"]
    assert entry["status"] == "not_applicable" and entry["html"] == "satisfaction.html"
    assert entry["reason"] == result.reason and "files.survey_responses" in entry["reason"]
    assert "last_good_html" not in entry
    listed = _read(folder, "manifest.json")["reports"]["satisfaction"]
    assert listed["status"] == "not_applicable" and listed["reason_code"] == "no_survey_file"
    portal = (tmp_path / "r" / "index.html").read_text()
    assert 'pt-badge pt-not_applicable">不适用<' in portal and "pt-badge pt-failed" not in portal
    assert "north/satisfaction.html" in portal and "files.survey_responses" in portal


def _planted_notebook(path, source):
    cell = {
        "cell_type": "code",
        "id": "c1",
        "metadata": {},
        "outputs": [],
        "execution_count": None,
        "source": source,
    }
    kernel = {"kernelspec": {"name": "python3", "language": "python", "display_name": "P"}}
    notebook = {"cells": [cell], "metadata": kernel, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook))
    return str(path)


def test_a_report_that_stops_applying_leaves_nothing_of_its_earlier_runs(data, tmp_path):
    """ok (with an export), then failed (the last good export is kept), then not
    applicable: the export, the executed copy and the error page are gone."""
    params = _params(data, tmp_path / "r", reports=["satisfaction"])
    folder = tmp_path / "r" / "2025-Q4" / "north"
    writes = (
        "from pathlib import Path\n"
        "folder = Path(overrides['export_dir']); folder.mkdir(parents=True, exist_ok=True)\n"
        "(folder / 'detractors.csv').write_text('customer_id\\nC1\\n')"
    )
    for source in (writes, "raise RuntimeError('planted')"):
        plan = runner.plan_run(params, units=["north"])
        plan.tasks[0].not_applicable = None  # as if the report applied then
        plan.tasks[0].notebook = _planted_notebook(tmp_path / "planted.ipynb", source)
        runner.execute_plan(plan, progress=False)
        entry = _read(folder, "status.json")["reports"]["satisfaction"]
        assert entry["exports"] == ["detractors.csv"]  # written, then carried over
        assert (folder / "exports" / "detractors.csv").is_file()
    assert entry["status"] == "failed" and (folder / "satisfaction.error.html").is_file()
    assert (folder / "executed" / "satisfaction.ipynb").is_file()
    _, results = runner.run(params, units=["north"])
    assert [r.status for r in results] == ["not_applicable"]
    assert not (folder / "satisfaction.error.html").exists()
    assert not (folder / "executed" / "satisfaction.ipynb").exists()
    assert not (folder / "exports" / "detractors.csv").exists()
    entry = _read(folder, "status.json")["reports"]["satisfaction"]
    assert entry["status"] == "not_applicable" and "last_good_html" not in entry
    assert entry["exports"] == []
    assert "detractors.csv" not in (tmp_path / "r" / "index.html").read_text()


def test_a_single_unit_dataset_runs_no_duplicate_all(tmp_path):
    tables = tiny_tables()
    north = tables["customers"]["business_unit"] == "north"
    tables = {
        "customers": tables["customers"].loc[north],
        "orders": tables["orders"].loc[tables["orders"]["business_unit"] == "north"],
    }
    params = _params(write_tables(tmp_path / "data", tables), tmp_path / "r")
    for asked in (["all"], ["all", "north"], ["north"]):
        plan = runner.plan_run(params, units=asked)
        assert plan.units == ["north"] and {t.unit for t in plan.tasks} == {"north"}
    # an 'all' folder left by an older run is not a second row of the portal
    stale = tmp_path / "r" / "2025-Q4" / "all" / "status.json"
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"period": "2025-Q4", "unit": "all", "reports": {}}))
    runner.execute_plan(plan, progress=False)
    folder = tmp_path / "r" / "2025-Q4" / "north"
    assert _read(folder, "status.json")["covers_all"] is True
    portal = (tmp_path / "r" / "index.html").read_text()
    assert "p-2025-Q4-u-north" in portal and "p-2025-Q4-u-all" not in portal


def test_a_unit_with_survey_responses_but_no_orders_in_the_period_is_run(tmp_path):
    tables = tiny_tables()
    orders = tables["orders"]
    south = orders["business_unit"] == "south"
    # south's last order is a year before the period; its survey answers are in it
    orders.loc[south, "order_date"] = "2024-10-15"
    ids = orders.loc[south, "customer_id"].unique()[:30]
    tables["survey_responses"] = pd.DataFrame(
        {
            "response_id": [f"R{i}" for i in range(len(ids))],
            "response_date": "2025-11-20",
            "business_unit": "south",
            "customer_id": ids,
            "nps": [i % 11 for i in range(len(ids))],
        }
    )
    data = write_tables(tmp_path / "data", tables)
    params = _params(data, tmp_path / "r", reports=["satisfaction", "value", "churn"])
    plan = runner.plan_run(params, units=["all"])
    assert plan.skipped_units == {}
    why = {(t.unit, t.report): t.not_applicable for t in plan.tasks}
    assert why[("south", "satisfaction")] is None and why[("south", "value")] is None
    assert why[("north", "satisfaction")].code == "no_responses"  # the file has none of it
    assert why[("south", "churn")].code == "few_customers"  # nobody bought in the year
    assert why[("south", "churn")].values["n"] == 0
    # without the survey, south has nothing in the period: skipped, or refused when asked
    (data / "survey_responses.csv").unlink()
    plan = runner.plan_run(params, units=["all"])
    assert plan.skipped_units == {"south": "no orders or survey responses in 2025-Q4"}
    with pytest.raises(AnalysisError, match="'south' has no orders or survey responses in"):
        runner.plan_run(params, units=["south"])


def test_customer_ids_in_error_messages_are_pseudonymised(tmp_path):
    from types import SimpleNamespace

    import pandas as pd

    from analysis.privacy import id_key, pseudonymise
    from analysis.report.runner import _without_customer_ids

    cache = tmp_path / "cache"
    cache.mkdir()
    pd.DataFrame({"customer_id": ["C0001", "C0002"]}).to_parquet(cache / "customers.parquet")
    output = tmp_path / "reports"
    task = SimpleNamespace(
        parameters={"overrides": {"cache_dir": str(cache), "output_dir": str(output)}}
    )
    text = "KeyError: 'C0001' (customer C0002); C00011 and order O1 are not customers"
    shown = _without_customer_ids(text, task)
    key = id_key(output)
    alias = pseudonymise(pd.Series(["C0001", "C0002"]), key).tolist()
    assert shown == (
        f"KeyError: '{alias[0]}' (customer {alias[1]}); C00011 and order O1 are not customers"
    )
    assert "C0001'" not in shown and "C0002)" not in shown

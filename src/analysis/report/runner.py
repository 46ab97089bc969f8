"""Plan and execute a report run: (period, units, reports) -> executed notebooks + HTML.

The heavy shared work (loading, mapping, repairing the input) happens once per run in
:func:`plan_run`; each unit's clean slice is cached as Parquet and every notebook of that
unit reads the cache. Notebooks run through papermill's Python API, in a process pool when
``jobs > 1``. A failing notebook keeps its executed copy, gets an error page, does not stop
the others, and makes the run exit 1.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import check_name, project_root, resolve_path, unit_slug
from ..data.load import Dataset, load_dataset
from ..errors import DataError
from ..period import Period
from . import portal
from .context import choose_period, write_cache
from .registry import ReportSpec, get_reports
from .render import header_resources, print_pdf, render_error_page, render_html, write_atomic

STATUS_FILE = "status.json"
NOTEBOOK_PARAMETERS = ("period", "unit", "language", "data_dir")


@dataclass
class Task:
    report: str
    unit: str
    period: str
    notebook: str
    executed: str
    html: str
    parameters: dict[str, Any]
    resources: dict[str, Any]
    formats: tuple[str, ...] = ("html",)


@dataclass
class TaskResult:
    report: str
    unit: str
    period: str
    status: str  # ok | failed | skipped
    html: str | None = None
    executed: str | None = None
    error: str | None = None
    pdf: str | None = None
    pdf_error: str | None = None  # why no PDF was made (HTML is still fine)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class RunPlan:
    period: Period
    units: list[str]
    skipped_units: dict[str, str]
    tasks: list[Task]
    dataset: Dataset
    output: Path
    params: dict[str, Any]


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def params_hash(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]


def plan_run(
    params: dict[str, Any],
    *,
    units: list[str] | None = None,
    reports: list[str] | None = None,
    unit_params: Callable[[str], dict[str, Any]] | None = None,
) -> RunPlan:
    """Load the data once, choose the period and units, cache each unit's slice, and list
    the notebook executions.

    ``params`` are the run's parameters; ``unit_params(unit)`` gives a unit's own resolved
    parameters (with ``params/units/<unit>.yaml``), defaulting to ``params`` for every unit.

    Raises
    ------
    DataError
        Bad input, or a requested unit without orders in the period.
    """
    dataset = load_dataset(params)
    period = choose_period(params, dataset.data_end)
    output = resolve_path(params["output_dir"])
    requested = units or [params["unit"]]
    chosen = [*dataset.units, "all"] if "all" in requested else [check_name(u) for u in requested]
    slugs = [unit_slug(u) for u in chosen]
    if len(set(slugs)) < len(slugs):
        clash = sorted({u for u, s in zip(chosen, slugs, strict=True) if slugs.count(s) > 1})
        raise DataError(
            f"business units {clash} only differ in punctuation and would share a "
            "report folder; rename one in the data.",
            column="business_unit",
        )
    skipped: dict[str, str] = {}
    for unit in chosen:
        if unit == "all":
            continue
        if unit not in dataset.units:
            raise DataError(
                f"there are no orders of business unit '{unit}' "
                f"(units in the data: {', '.join(dataset.units)}).",
                column="business_unit",
            )
        orders = dataset.orders
        in_period = period.contains(orders.loc[orders["business_unit"] == unit, "order_date"]).any()
        if not in_period:
            if units and "all" not in units:
                raise DataError(
                    f"business unit '{unit}' has no orders in {period} "
                    f"({period.start} to {period.end}).",
                    column="order_date",
                )
            skipped[unit] = f"no orders in {period}"
    specs = get_reports(reports or params.get("reports"))
    root = project_root()
    tasks: list[Task] = []
    phash = params_hash(params)
    for unit in chosen:
        if unit in skipped:
            continue
        unit_dir = output / period.slug / unit_slug(unit)
        cache_dir = output / ".cache" / period.slug / unit_slug(unit)
        data = dataset.for_unit(unit)
        write_cache(
            cache_dir,
            data,
            {
                "period": str(period),
                "unit": unit,
                "data_end": dataset.data_end,
                "params_hash": phash,
                "sources": dataset.sources,
            },
        )
        own = unit_params(unit) if unit_params else params
        for spec in specs:
            tasks.append(_task(spec, unit, period, unit_dir, cache_dir, own, root, dataset))
    return RunPlan(period, chosen, skipped, tasks, dataset, output, params)


def _task(
    spec: ReportSpec,
    unit: str,
    period: Period,
    unit_dir: Path,
    cache_dir: Path,
    params: dict[str, Any],
    root: Path,
    dataset: Dataset,
) -> Task:
    resolved = _json_safe(params)
    resolved.update(
        unit=unit,
        period=str(period),
        cache_dir=str(cache_dir),
        output_dir=str(resolve_path(params["output_dir"])),
        data_dir=str(resolve_path(params["data_dir"])),
    )
    # The names of the notebooks' parameters cell; everything else rides in `overrides`,
    # so papermill sees no unknown parameter.
    parameters = {key: resolved.pop(key) for key in NOTEBOOK_PARAMETERS}
    parameters["overrides"] = resolved
    resources = header_resources(
        report=spec.name,
        unit=unit,
        period=str(period),
        data_end=dataset.data_end,
        language=params["language"],
        portal_href="../../index.html",
    )
    return Task(
        spec.name,
        unit,
        str(period),
        str(root / spec.notebook),
        str(unit_dir / "executed" / f"{spec.name}.ipynb"),
        str(unit_dir / f"{spec.name}.html"),
        parameters,
        resources,
        tuple(params.get("formats") or ["html"]),
    )


def execute_task(task: Task) -> TaskResult:
    """Run one notebook with papermill and render it; never raises."""
    import papermill as pm  # noqa: PLC0415  (heavy; imported in the worker)

    started = time.perf_counter()
    executed = Path(task.executed)
    executed.parent.mkdir(parents=True, exist_ok=True)
    tmp = executed.with_name(f".{executed.name}.{os.getpid()}.tmp.ipynb")
    result = TaskResult(task.report, task.unit, task.period, "ok", executed=str(executed))
    language = task.parameters.get("language", "en")
    try:
        pm.execute_notebook(
            task.notebook,
            str(tmp),
            parameters=task.parameters,
            cwd=str(Path(task.notebook).parent),
            progress_bar=False,
            log_output=False,
            kernel_name="python3",
            # the kernel's own start-up chatter is not the operator's concern
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
        result.timings["execute"] = time.perf_counter() - started
    except Exception as exc:  # papermill re-raises the notebook's error; keep the copy
        result.status = "failed"
        result.error = _error_summary(exc)
    finally:
        if tmp.exists():
            os.replace(tmp, executed)
    render_started = time.perf_counter()
    try:
        if result.status == "ok":
            render_html(executed, Path(task.html), task.resources)
            result.html = task.html
        else:
            error_page = Path(task.html).with_name(f"{task.report}.error.html")
            render_error_page(error_page, task.resources, result.error or "", language)
            result.html = str(error_page)
    except Exception as exc:  # a render failure is a report failure, not a crash of the run
        result.status = "failed"
        result.error = f"rendering failed: {exc}"
    result.timings["render"] = time.perf_counter() - render_started
    if result.status == "ok" and "pdf" in task.formats:
        pdf_started = time.perf_counter()
        pdf = Path(task.html).with_suffix(".pdf")
        try:
            print_pdf(Path(task.html), pdf)
            result.pdf = str(pdf)
        except Exception as exc:  # the HTML is good; say why there is no PDF
            result.pdf_error = str(exc)[:500]
        result.timings["pdf"] = time.perf_counter() - pdf_started
    result.seconds = time.perf_counter() - started
    return result


def _error_summary(exc: BaseException) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    if not getattr(exc, "ename", None):
        evalue += "\n" + "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return f"{ename}: {evalue}".strip()[:2000]


def execute_plan(plan: RunPlan, *, jobs: int = 1, progress: bool | None = None) -> list[TaskResult]:
    """Execute every task (in a process pool when ``jobs > 1``), record statuses, and
    rebuild the portal. Progress lines go to stderr on a terminal (or when asked)."""
    show = sys.stderr.isatty() if progress is None else progress
    results: list[TaskResult] = []
    total = len(plan.tasks)

    def report(done: TaskResult) -> None:
        results.append(done)
        if show:
            print(
                f"[{len(results)}/{total}] {done.status:<6} {done.unit}/{done.report} "
                f"({done.seconds:.1f}s)",
                file=sys.stderr,
                flush=True,
            )

    if jobs <= 1 or total <= 1:
        for task in plan.tasks:
            report(execute_task(task))
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [pool.submit(execute_task, task) for task in plan.tasks]
            for future in as_completed(futures):
                report(future.result())
    for unit, reason in plan.skipped_units.items():
        results.extend(
            TaskResult(spec.name, unit, str(plan.period), "skipped", error=reason)
            for spec in get_reports(plan.params.get("reports"))
        )
    write_statuses(plan, results)
    portal.write_portal(plan.output, plan.params["language"])
    return results


def write_statuses(plan: RunPlan, results: list[TaskResult]) -> None:
    """Merge this run's results into each unit's ``status.json`` (reports not re-run keep
    their earlier entry; a failed re-run keeps the link to the last good HTML)."""
    by_unit: dict[str, list[TaskResult]] = {}
    for r in results:
        by_unit.setdefault(r.unit, []).append(r)
    now = datetime.now().replace(microsecond=0).isoformat()
    for unit, unit_results in by_unit.items():
        folder = plan.output / plan.period.slug / unit_slug(unit)
        path = folder / STATUS_FILE
        status = json.loads(path.read_text()) if path.is_file() else {"reports": {}}
        own = plan.dataset.for_unit(unit)
        kept = sum(len(frame) for frame in own.tables().values() if frame is not None)
        status.update(
            period=str(plan.period),
            unit=unit,
            language=plan.params["language"],
            data_end=str(plan.dataset.data_end)[:10],
            updated_at=now,
            quality_headline=own.quality.headline(plan.params["language"], rows_kept=kept),
        )
        for r in unit_results:
            entry = asdict(r)
            entry["finished_at"] = now
            for key in ("html", "executed", "pdf"):
                if entry.get(key):
                    entry[key] = os.path.relpath(entry[key], folder)
            previous = status["reports"].get(r.report, {})
            if r.status == "failed" and previous.get("last_good_html"):
                entry["last_good_html"] = previous["last_good_html"]
            if r.status == "ok":
                entry["last_good_html"] = entry["html"]
            status["reports"][r.report] = entry
        write_atomic(path, json.dumps(status, indent=1, default=str))


def run(
    params: dict[str, Any],
    *,
    units: list[str] | None = None,
    reports: list[str] | None = None,
    jobs: int = 1,
    progress: bool | None = None,
) -> tuple[RunPlan, list[TaskResult]]:
    """Plan and execute; returns the plan and the results (see :func:`exit_code`)."""
    plan = plan_run(params, units=units, reports=reports)
    return plan, execute_plan(plan, jobs=jobs, progress=progress)


def exit_code(results: list[TaskResult]) -> int:
    """0 when every report succeeded (or was skipped for lack of data), else 1."""
    return 1 if any(r.status == "failed" for r in results) else 0

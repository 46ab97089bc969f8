"""Plan and execute a report run: (period, units, reports) -> executed notebooks + HTML.

The heavy shared work (loading, mapping, repairing the input) happens once per run in
:func:`plan_run`; each unit's clean slice is cached as Parquet and every notebook of that
unit reads the cache. Notebooks run through papermill's Python API, in a process pool when
``jobs > 1``. A failing notebook keeps its executed copy, gets an error page, does not stop
the others, and makes the run exit 1.

A report that does not apply to a unit's data (:func:`analysis.pipelines.applicability.reason`,
asked while planning) is not executed: it gets a short page saying why, through the report
template, and the status ``not_applicable``, which is an answer, not a failure (exit 0).
A dataset with a single business unit gets that unit's reports only: its "all" would be the
same report again.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import json
import multiprocessing
import os
import queue
import re
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import check_name, project_root, resolve_path, unit_slug
from ..errors import AnalysisError, DataError
from ..memory import give_back
from ..period import Period
from ..pipelines import applicability
from ..pipelines.applicability import Reason
from ..privacy import id_key, pseudonymise
from . import portal, runs
from .cache import Prepared, prepare
from .context import choose_period, read_cache
from .kernel import KernelSession
from .registry import ReportSpec, get_reports
from .render import (
    header_resources,
    print_pdf,
    render_error_page,
    render_html,
    render_not_applicable_page,
    write_atomic,
)
from .runs import OutputError, strict_json

#: Values of ``TaskResult.status``: ``not_applicable`` and ``skipped`` are answers, not
#: failures; only ``failed`` makes the run exit 1.
STATUSES = ("ok", "not_applicable", "failed", "skipped")
STATUS_FILE = "status.json"
MANIFEST_FILE = "manifest.json"
NOTEBOOK_PARAMETERS = ("period", "unit", "language", "data_dir")


class LockedError(AnalysisError):
    """Another run holds the output folder."""


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
    runs_after: bool = False
    not_applicable: Reason | None = None  # why the report does not apply: not executed


@dataclass
class TaskResult:
    report: str
    unit: str
    period: str
    status: str  # one of STATUSES
    html: str | None = None
    executed: str | None = None
    error: str | None = None
    pdf: str | None = None
    pdf_error: str | None = None  # why no PDF was made (HTML is still fine)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # not_applicable: why, in the report language
    reason_code: str | None = None  # not_applicable: the Reason code (no_orders, ...)
    exports: list[str] = field(default_factory=list)  # names of the CSVs it wrote
    started_at: str | None = None  # when its notebook started (ISO, local time with offset)
    finished_at: str | None = None  # when it was published (rendered, printed)


@dataclass
class RunPlan:
    period: Period
    units: list[str]
    skipped_units: dict[str, str]
    tasks: list[Task]
    prepared: Prepared
    output: Path
    params: dict[str, Any]
    staging: dict[str, Path] = field(default_factory=dict)  # unit -> its staging folder
    unit_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def final_html(self, task: Task) -> Path:
        """Where a task's HTML will be once its unit's folder is swapped in."""
        return self.output / self.period.slug / unit_slug(task.unit) / Path(task.html).name


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def plan_run(
    params: dict[str, Any],
    *,
    units: list[str] | None = None,
    reports: list[str] | None = None,
    unit_params: Callable[[str], dict[str, Any]] | None = None,
    force: bool = False,
) -> RunPlan:
    """Prepare the clean input once (or reuse the cache), choose the period and units, and
    list the notebook executions. Nothing under ``<output>/<period>/`` is touched yet.

    ``params`` are the run's parameters; ``unit_params(unit)`` gives a unit's own resolved
    parameters (with ``params/units/<unit>.yaml``), defaulting to ``params`` for every unit.

    Each task knows whether its report applies to the unit's data
    (:func:`analysis.pipelines.applicability.reason`, on the unit's cached clean tables);
    one that does not is given its reason (``Task.not_applicable``) and is not executed.
    When the data has one business unit, "all" is that unit (no second, identical report).

    Raises
    ------
    DataError
        Bad input, or a requested unit without orders or survey responses in the period.
    """
    output = resolve_path(params["output_dir"])
    with writing(output):
        runs.remove_stale(output)  # what killed runs left (real ids in staging folders)
        prepared = prepare(params, output, force=force)
        id_key(output)  # create the pseudonymisation key once, before notebooks run in parallel
    period = choose_period(params, prepared.data_end)
    requested = units or [params["unit"]]
    chosen = [*prepared.units, "all"] if "all" in requested else [check_name(u) for u in requested]
    if len(prepared.units) == 1:  # the company is its one unit: "all" would repeat it
        only = prepared.units[0]
        chosen = list(dict.fromkeys(only if u == "all" else u for u in chosen))
    slugs = [unit_slug(u) for u in chosen]
    if len(set(slugs)) < len(slugs):
        clash = sorted({u for u, s in zip(chosen, slugs, strict=True) if slugs.count(s) > 1})
        raise DataError(
            f"business units {clash} only differ in punctuation and would share a "
            "report folder; rename one in the data.",
            column="business_unit",
        )
    for unit in chosen:
        if unit != "all" and unit not in prepared.units:
            raise DataError(
                f"there is no data of business unit '{unit}' "
                f"(units in the data: {', '.join(prepared.units)}).",
                column="business_unit",
            )
    specs = get_reports(reports or params.get("reports"))
    root = project_root()
    plan = RunPlan(period, chosen, {}, [], prepared, output, params)
    for unit in chosen:
        data, _ = read_cache(prepared.unit_dir(unit), keep=False)
        if unit != "all" and not applicability.has_data_in(data, period):
            if units and "all" not in units:
                raise DataError(
                    f"business unit '{unit}' has no orders or survey responses in {period} "
                    f"({period.start} to {period.end}).",
                    column="order_date",
                )
            plan.skipped_units[unit] = f"no orders or survey responses in {period}"
            continue
        staging = output / period.slug / f".{unit_slug(unit)}.staging-{os.getpid()}"
        plan.staging[unit] = staging
        own = unit_params(unit) if unit_params else params
        plan.unit_params[unit] = own
        asked = {**own, "unit": unit, "period": str(period)}
        for spec in specs:
            task = _task(spec, unit, period, staging, prepared, own, root)
            task.not_applicable = applicability.reason(spec.name, data, asked)
            plan.tasks.append(task)
        del data
    give_back()  # the units' tables were read here once; the kernels need the memory
    return plan


def _task(
    spec: ReportSpec,
    unit: str,
    period: Period,
    staging: Path,
    prepared: Prepared,
    params: dict[str, Any],
    root: Path,
) -> Task:
    resolved = _json_safe(params)
    resolved.update(
        unit=unit,
        period=str(period),
        cache_dir=str(prepared.unit_dir(unit)),
        export_dir=str(staging / "exports"),
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
        data_end=prepared.data_end,
        language=params["language"],
        portal_href="../../index.html",
    )
    return Task(
        spec.name,
        unit,
        str(period),
        str(root / spec.notebook),
        str(staging / "executed" / f"{spec.name}.ipynb"),
        str(staging / f"{spec.name}.html"),
        parameters,
        resources,
        tuple(params.get("formats") or ["html"]),
        spec.runs_after,
    )


#: New container objects between two collections of the youngest generation in a kernel
#: (:func:`warm_code`; Python's default is 700).
GC_YOUNG_THRESHOLD = 20_000


def warm_code(reports: list[str]) -> str:
    """What a new kernel runs first: the imports every report needs, so the first notebook
    does not pay for them (about 2 s of pandas, scikit-learn, statsmodels, matplotlib).

    The objects those imports created live as long as the kernel, so they are then moved out
    of the garbage collector's sight (``gc.freeze``): the full collection in every reset
    between notebooks no longer walks them (0.07 s each time, about 0.6 s per unit). The
    youngest generation is collected after :data:`GC_YOUNG_THRESHOLD` new container
    objects instead of Python's 700: pandas and matplotlib allocate millions of short-lived
    ones, and a unit's seven notebooks spent 1.2 of 18.7 CPU-seconds in 1,400 collections
    (0.35 s in 38 with this threshold); cycles are still freed, a little later.
    """
    modules = ["analysis.report.context", "analysis.plots"]
    modules += [f"analysis.report.views.{name}" for name in reports]
    return _profile_code() + (
        "import importlib as _i\n"
        f"for _m in {modules!r}:\n"
        "    try:\n"
        "        _i.import_module(_m)\n"
        "    except ImportError:\n"
        "        pass\n"
        "del _i, _m\n"
        "import gc as _g\n"
        "_g.collect()\n"
        "_g.freeze()\n"
        f"_g.set_threshold({GC_YOUNG_THRESHOLD}, 20, 20)\n"
        "del _g\n"
    )


#: Environment variable naming a folder: each kernel then runs under cProfile and writes
#: ``kernel-<pid>.pstats`` there when it ends (for ``benchmarks/profile_pack.py``).
PROFILE_ENV = "SEGREPORT_PROFILE_DIR"


def _profile_code() -> str:
    """The warm-up lines that profile a kernel for its whole life, when :data:`PROFILE_ENV`
    names a folder (benchmarks only; nothing when unset)."""
    folder = os.environ.get(PROFILE_ENV)
    if not folder:
        return ""
    target = str(Path(folder).resolve() / "kernel-{pid}.pstats")
    return (
        "import atexit as _a, cProfile as _c, os as _o\n"
        "_p = _c.Profile()\n"
        f"_a.register(lambda p=_p, o=_o: (p.disable(), p.dump_stats({target!r}.format(pid=o.getpid()))))\n"
        "_p.enable()\n"
        "del _a, _c, _o, _p\n"
    )


def publish(task: Task, result: TaskResult) -> TaskResult:
    """Render an executed notebook (or its error page) and print the PDF; never raises."""
    result = add_pdf(task, render_report(task, result))
    result.finished_at = runs.now_iso()
    return result


def run_notebook(task: Task, session: KernelSession) -> TaskResult:
    """Execute one notebook in ``session``'s kernel; never raises (a failure is recorded in
    the result, and the executed copy is kept). A report that does not apply is not
    executed: its result says why (status ``not_applicable``)."""
    if task.not_applicable is not None:
        language = task.parameters.get("language") or "en"
        return TaskResult(
            task.report,
            task.unit,
            task.period,
            "not_applicable",
            reason=task.not_applicable.text(language),
            reason_code=task.not_applicable.code,
            started_at=runs.now_iso(),
        )
    started = time.perf_counter()
    executed = Path(task.executed)
    executed.parent.mkdir(parents=True, exist_ok=True)
    tmp = executed.with_name(f".{executed.name}.{os.getpid()}.tmp.ipynb")
    result = TaskResult(
        task.report, task.unit, task.period, "ok", executed=str(executed), started_at=runs.now_iso()
    )
    exports = Path(task.parameters.get("overrides", {}).get("export_dir") or executed.parent)
    since = time.time_ns()
    try:
        session.ready()  # the first notebook of a kernel also waits for its warm-up imports
        result.timings["kernel"] = time.perf_counter() - started
        session.execute_notebook(task.notebook, str(tmp), task.parameters, ready=False)
        result.timings["execute"] = time.perf_counter() - started - result.timings["kernel"]
    except Exception as exc:  # papermill re-raises the notebook's error; keep the copy
        result.status = "failed"
        result.error = _without_customer_ids(_error_summary(exc), task)
    finally:
        try:
            if tmp.exists():
                os.replace(tmp, executed)
        except OSError as exc:  # a full disk: this report fails, the run goes on
            result.status = "failed"
            result.error = f"the executed notebook could not be saved to {executed}: {exc}"
    if exports.is_dir():  # a unit's notebooks run one after another: these are this one's
        result.exports = sorted(
            p.name for p in exports.glob("*.csv") if p.stat().st_mtime_ns >= since
        )
    result.seconds = time.perf_counter() - started
    return result


def render_report(task: Task, result: TaskResult) -> TaskResult:
    """The report's HTML from its executed notebook, or an error page when it failed; a
    render failure fails the report. Never raises."""
    executed = Path(task.executed)
    language = task.parameters.get("language", "en")
    render_started = time.perf_counter()
    try:
        if result.status == "ok":
            render_html(executed, Path(task.html), task.resources)
            result.html = task.html
        elif result.status == "not_applicable":
            render_not_applicable_page(
                Path(task.html), task.resources, result.reason or "", language
            )
            result.html = task.html
        else:
            error_page = Path(task.html).with_name(f"{task.report}.error.html")
            render_error_page(error_page, task.resources, result.error or "", language)
            result.html = str(error_page)
    except Exception as exc:  # a render failure is a report failure, not a crash of the run
        result.status = "failed"
        result.error = f"rendering failed: {exc}"
    result.timings["render"] = time.perf_counter() - render_started
    result.seconds += result.timings["render"]
    return result


def add_pdf(task: Task, result: TaskResult) -> TaskResult:
    """Print a rendered report to PDF when the task asks for it; never raises (a failed
    print is recorded in ``result.pdf_error``, the HTML stays good)."""
    if result.status in ("ok", "not_applicable") and "pdf" in task.formats:
        pdf_started = time.perf_counter()
        pdf = Path(task.html).with_suffix(".pdf")
        try:
            print_pdf(Path(task.html), pdf)
            result.pdf = str(pdf)
        except Exception as exc:  # the HTML is good; say why there is no PDF
            result.pdf_error = str(exc)[:500]
        result.timings["pdf"] = time.perf_counter() - pdf_started
        result.seconds += result.timings["pdf"]
    return result


_TOKEN = re.compile(r"[^\s'\"`,;:()\[\]{}<>=|]+")


def _without_customer_ids(text: str, task: Task) -> str:
    """``text`` with every customer id of the task's unit pseudonymised, as in the reports:
    an error message lands in the error page, the portal and the run summary. Never raises
    (a text it cannot check is returned with a note instead of the ids)."""
    overrides = task.parameters.get("overrides", {})
    cache = overrides.get("cache_dir")
    try:
        if not cache or not (Path(cache) / "customers.parquet").is_file():
            return text
        ids = set(
            pd.read_parquet(Path(cache) / "customers.parquet", columns=["customer_id"])[
                "customer_id"
            ]
            .dropna()
            .astype(str)
        )
        key = id_key(resolve_path(overrides.get("output_dir") or "reports"))
        return _TOKEN.sub(
            lambda m: (
                pseudonymise(pd.Series([m.group(0)]), key)[0] if m.group(0) in ids else m.group(0)
            ),
            text,
        )
    except Exception:  # noqa: BLE001  (the error of a failed report must still be shown)
        return "the error message could not be checked for customer ids and is not shown"


def _error_summary(exc: BaseException) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    if not getattr(exc, "ename", None):
        evalue += "\n" + "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return f"{ename}: {evalue}".strip()[:2000]


# ---- workers ---------------------------------------------------------------------------------
# In a worker process: its kernel, and where to announce finished notebooks.
_session: KernelSession | None = None
_progress: Any = None


def _worker_init(warm: str, threads: int, progress: Any) -> None:
    global _session, _progress  # noqa: PLW0603
    _progress = progress
    _session = KernelSession(project_root() / "notebooks", warm=warm, threads=threads).start()
    atexit.register(_session.close)
    # Stopped by the run (or the scheduler): take the kernel along, then end at once (a
    # SystemExit would only fail the current task and the worker would go on).
    signal.signal(signal.SIGTERM, _worker_stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides, then stops us


def _worker_stop(signum: int, frame: Any) -> None:  # noqa: ARG001
    if _session is not None:
        _session.kill()
    os._exit(128 + signum)


def _worker_ready() -> int:
    return os.getpid()


def execute_unit(
    tasks: list[Task],
    session: KernelSession | None = None,
    done: Callable[[TaskResult], None] | None = None,
) -> list[TaskResult]:
    """One unit's notebooks, in order, in one kernel (the worker's unless given).

    Each report is rendered and printed to PDF on a background thread while the kernel
    already runs the next notebook (the kernel and chromium are processes of their own, and
    this one mostly waits for them), so the kernel does not sit idle. ``done`` (by default:
    announce on the worker's progress queue) is called for each report once it is
    published; all are when this returns.
    """
    session = session or _session
    done = done or _announce
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="segreport-publish") as publisher:
        futures = [
            publisher.submit(_publish_and_announce, task, run_notebook(task, session), done)
            for task in tasks
        ]
    return [future.result() for future in futures]


def _publish_and_announce(
    task: Task, result: TaskResult, done: Callable[[TaskResult], None]
) -> TaskResult:
    publish(task, result)
    done(result)
    return result


def _announce(result: TaskResult) -> None:
    if _progress is not None:
        _progress.put(result)


class Workers:
    """Where notebooks run: ``jobs`` worker processes (papermill's Python API in a process
    pool), each keeping one warm kernel for all the notebooks it is given; or, with one job,
    a kernel of this process.

    Create them before :func:`plan_run` so the kernels start and import the stack while the
    input is prepared; they are closed (kernels shut down) on leaving the ``with`` block.
    """

    def __init__(self, jobs: int = 1, reports: list[str] | None = None) -> None:
        self.jobs = max(1, int(jobs))
        self.reports = [spec.name for spec in get_reports(reports)]
        self.pool: ProcessPoolExecutor | None = None
        self.session: KernelSession | None = None
        self.queue: Any = None

    def __enter__(self) -> Workers:
        warm = warm_code(self.reports)
        if self.jobs == 1:
            self.session = KernelSession(project_root() / "notebooks", warm=warm).start()
        else:
            context = multiprocessing.get_context("spawn")
            self.queue = context.Queue()
            self.pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=context,
                initializer=_worker_init,
                # each kernel gets its share of the cores for OpenMP / BLAS
                initargs=(warm, max(1, (os.cpu_count() or 1) // self.jobs), self.queue),
            )
            for _ in range(self.jobs):  # start every worker (and its kernel) now
                self.pool.submit(_worker_ready)
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        if self.session is not None:
            if exc_type is not None:  # interrupted: do not wait for the notebook to finish
                self.session.kill()
            self.session.close()
        if self.pool is not None:
            if exc_type is not None:
                self.stop()
            self.pool.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> None:
        """End the worker processes now (each takes its kernel along), without waiting
        for the notebooks they run."""
        for process in list(getattr(self.pool, "_processes", {}).values()):
            with contextlib.suppress(OSError, ValueError):
                process.terminate()
        for process in list(getattr(self.pool, "_processes", {}).values()):
            with contextlib.suppress(OSError, ValueError, AssertionError):
                process.join(timeout=10)

    def run(self, units: list[list[Task]], done: Callable[[TaskResult], None]) -> None:
        """Execute each unit's task list (in order, in one kernel); ``done`` is called for
        every finished notebook as it finishes."""
        if self.pool is None:
            for tasks in units:
                execute_unit(tasks, self.session, done)
            return
        pending = {self.pool.submit(execute_unit, tasks): tasks for tasks in units}
        announced: set[tuple[str, str]] = set()

        def announce(result: TaskResult) -> None:
            if (result.unit, result.report) not in announced:
                announced.add((result.unit, result.report))
                done(result)

        while pending:
            finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            self._drain(announce)  # progress as each notebook finishes
            for future in finished:
                tasks = pending.pop(future)
                try:  # the unit's results are authoritative (the queue may lag behind)
                    results = future.result()
                except Exception as exc:  # noqa: BLE001  (a worker died: fail its notebooks)
                    error = f"the worker running {tasks[0].unit} stopped: {_error_summary(exc)}"
                    results = [
                        TaskResult(t.report, t.unit, t.period, "failed", error=error) for t in tasks
                    ]
                for result in results:
                    announce(result)

    def _drain(self, announce: Callable[[TaskResult], None]) -> None:
        while True:
            try:
                announce(self.queue.get_nowait())
            except queue.Empty:
                return


def unit_batches(plan: RunPlan) -> list[list[Task]]:
    """The plan's tasks grouped by unit (reports that read the others' exports last), the
    biggest unit first so the pool ends evenly."""
    by_unit: dict[str, list[Task]] = {}
    for task in plan.tasks:
        by_unit.setdefault(task.unit, []).append(task)
    meta = plan.prepared.unit_meta
    total = sum(m.get("rows", 0) for m in meta.values())

    def size(unit: str) -> int:
        return total if unit == "all" else meta.get(unit, {}).get("rows", 0)

    return [
        sorted(tasks, key=lambda t: t.runs_after)
        for unit, tasks in sorted(by_unit.items(), key=lambda item: -size(item[0]))
    ]


def execute_plan(
    plan: RunPlan,
    *,
    jobs: int = 1,
    progress: bool | None = None,
    workers: Workers | None = None,
) -> list[TaskResult]:
    """Execute every task (each unit's notebooks in one warm kernel; units spread over
    ``jobs`` worker processes), then swap each unit's new folder into place, write status
    and manifest, and rebuild the portal. Progress lines go to stderr on a terminal (or when
    asked); cron (no TTY) gets only the summary."""
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

    batches = unit_batches(plan)
    unpublished: list[str] = []
    try:
        if batches:
            if workers is None:
                with Workers(min(jobs, len(batches)), plan.params.get("reports")) as own:
                    own.run(batches, report)
            else:
                workers.run(batches, report)
        for unit, reason in plan.skipped_units.items():
            now = runs.now_iso()
            results.extend(
                TaskResult(
                    spec.name, unit, str(plan.period), "skipped", error=reason, finished_at=now
                )
                for spec in get_reports(plan.params.get("reports"))
            )
        for unit in plan.units:
            try:
                finalize_unit(plan, unit, [r for r in results if r.unit == unit])
            except OutputError as exc:  # the unit's earlier reports are untouched
                unpublished.append(str(exc))
                for r in results:
                    if r.unit == unit and r.status != "skipped":
                        r.status, r.error = "failed", f"not published: {exc}"
                        r.html = r.executed = r.pdf = None
    finally:
        remove_staging(plan)  # only left over when something crashed or was interrupted
    try:
        with writing(plan.output / "index.html"):
            portal.write_portal(plan.output, plan.params["language"])
    except OutputError as exc:
        unpublished.append(str(exc))
    if unpublished:
        error = OutputError(" ".join(dict.fromkeys(unpublished)))
        error.results = results
        raise error
    return results


def remove_staging(plan: RunPlan) -> None:
    """Remove the plan's staging folders (after a crash or an interrupt; a finished unit
    has none left). They hold real customer ids, so they never outlive the run."""
    for staging in plan.staging.values():
        shutil.rmtree(staging, ignore_errors=True)
        for retired in staging.parent.glob(f".*.old-{os.getpid()}"):
            _restore(retired)


def _restore(retired: Path) -> None:
    """Put a unit folder retired by an interrupted swap back in place."""
    final = retired.with_name(retired.name[1:].rsplit(".old-", 1)[0])
    if final.exists():
        shutil.rmtree(retired, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.replace(retired, final)


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "it is not writable (permission denied or a read-only file system)"
    return exc.strerror or str(exc)


@contextlib.contextmanager
def writing(folder: Path):
    """Turn an OSError while writing under ``folder`` into an :class:`OutputError` naming
    the folder, the file and the problem (exit code 2, no traceback)."""
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise OutputError(
            f"cannot write to the output folder {folder}{where}: {_os_problem(exc)}. "
            "Reports published there before are unchanged; free space or fix the "
            "permissions, or choose another folder with --output."
        ) from None


def finalize_unit(plan: RunPlan, unit: str, results: list[TaskResult]) -> None:
    """Make the unit's new folder complete, then swap it in with two renames.

    Files of the previous run that this run did not produce again are carried over: reports
    not re-run, and the last good HTML/PDF/exports of a report that failed now. A reader sees
    the old folder or the new one, never a mix, and a failed re-run never destroys a good
    report.
    """
    final = plan.output / plan.period.slug / unit_slug(unit)
    staging = plan.staging.get(unit) or final.with_name(f".{final.name}.staging-{os.getpid()}")
    with writing(final):
        _swap_in(plan, unit, results, final, staging)
    for r in results:  # point the results at where the files are now
        for key in ("html", "executed", "pdf"):
            value = getattr(r, key)
            if value and Path(value).is_relative_to(staging):
                setattr(r, key, str(final / Path(value).relative_to(staging)))


def _swap_in(
    plan: RunPlan, unit: str, results: list[TaskResult], final: Path, staging: Path
) -> None:
    staging.mkdir(parents=True, exist_ok=True)
    answered = {r.report for r in results if r.status in ("ok", "not_applicable")}
    stale = {f"{name}.error.html" for name in answered}
    # a report that no longer applies was not executed: its executed copy and exports
    # would be an older run's answer next to a page saying it does not apply
    gone = {r.report for r in results if r.status == "not_applicable"}
    stale |= {f"executed/{name}.ipynb" for name in gone}
    previous = _read_status(final / STATUS_FILE)["reports"]
    stale |= {
        f"exports/{name}" for report in gone for name in previous.get(report, {}).get("exports", [])
    }
    if final.is_dir():
        for old in final.rglob("*"):
            relative = old.relative_to(final)
            target = staging / relative
            if old.is_file() and not target.exists() and relative.as_posix() not in stale:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(old, target)
    now = runs.now_iso()
    status = _merge_status(final / STATUS_FILE, plan, unit, results, staging, now)
    write_atomic(staging / STATUS_FILE, strict_json(status, indent=1))
    write_atomic(staging / MANIFEST_FILE, strict_json(manifest(plan, unit, results, now), indent=1))
    retired = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        os.replace(final, retired)
    try:
        os.replace(staging, final)
    except OSError:
        if retired.exists() and not final.exists():
            os.replace(retired, final)  # the earlier reports stay published
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _read_status(path: Path) -> dict[str, Any]:
    """A unit's ``status.json``; an empty one when there is none (or it is unreadable)."""
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"reports": {}}
    return status if isinstance(status.get("reports"), dict) else {**status, "reports": {}}


def _merge_status(
    path: Path, plan: RunPlan, unit: str, results: list[TaskResult], folder: Path, now: str
) -> dict[str, Any]:
    status = _read_status(path)
    language = plan.params["language"]
    if unit in plan.prepared.unit_meta:
        quality = plan.prepared.quality(unit)
        headline = quality.headline(language, rows_kept=plan.prepared.unit_meta[unit]["rows"])
    else:
        headline = ""
    status.update(
        period=str(plan.period),
        unit=unit,
        language=language,
        data_end=str(plan.prepared.data_end)[:10],
        updated_at=now,
        quality_headline=headline,
        # the data has this one unit: its report is also the company's ("all" is not run)
        covers_all=plan.prepared.units == [unit],
    )
    for r in results:
        entry = asdict(r)
        entry["finished_at"] = r.finished_at or now
        for key in ("html", "executed", "pdf"):
            if entry.get(key):
                entry[key] = os.path.relpath(entry[key], folder)
        previous = status["reports"].get(r.report, {})
        if r.status == "ok":
            entry["last_good_html"] = entry["html"]
        elif previous.get("last_good_html"):
            entry["last_good_html"] = previous["last_good_html"]
            entry["pdf"] = previous.get("pdf")
        if r.status == "failed":  # its last good exports were carried over
            entry["exports"] = previous.get("exports", [])
        if r.status == "not_applicable":  # its page replaced any earlier report
            entry.pop("last_good_html", None)
        status["reports"][r.report] = entry
    return status


_SECRET = ("key", "secret", "password", "token", "credential")


def _redact(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _redact(v, k) for k, v in value.items()}
    if any(word in name.lower() for word in _SECRET) and value not in (None, ""):
        return "***"
    return value


def manifest(plan: RunPlan, unit: str, results: list[TaskResult], now: str) -> dict[str, Any]:
    """What produced this folder: parameters (secrets redacted), inputs, versions, timings,
    statuses and data-quality counts."""
    from importlib import metadata  # noqa: PLC0415

    versions = {"python": sys.version.split()[0]}
    for package in (
        "segreport",
        "pandas",
        "numpy",
        "scipy",
        "scikit-learn",
        "statsmodels",
        "duckdb",
        "pyarrow",
        "pandera",
        "matplotlib",
        "seaborn",
        "papermill",
        "nbconvert",
        "nbclient",
        "ipykernel",
        "jinja2",
        "pyyaml",
        "click",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    quality = plan.prepared.quality(unit) if unit in plan.prepared.unit_meta else None
    return {
        "generated_at": now,
        "period": str(plan.period),
        "unit": unit,
        "parameters": _redact(_json_safe(plan.unit_params.get(unit, plan.params))),
        "inputs": plan.prepared.sources,
        "cache": {"key": plan.prepared.key, "reused": plan.prepared.reused},
        "data_end": str(plan.prepared.data_end)[:10],
        "versions": versions,
        "reports": {
            r.report: {
                "status": r.status,
                "seconds": round(r.seconds, 3),
                "timings": {k: round(v, 3) for k, v in r.timings.items()},
                "error": r.error,
                "pdf_error": r.pdf_error,
                "reason": r.reason,
                "reason_code": r.reason_code,
            }
            for r in results
        },
        "data_quality": quality.to_frame().drop(columns="examples").to_dict(orient="records")
        if quality
        else [],
        "data_quality_notes": quality.notes if quality else [],
    }


class RunLock:
    """An exclusive lock on an output folder, so two runs cannot interleave their writes.

    The second run waits up to ``wait`` seconds, then refuses with a message naming the
    holder. The lock is an OS file lock: it is released when the process ends, even on a
    crash, so a stale lock file never blocks anyone.
    """

    def __init__(self, output: Path, wait: float = 0.0) -> None:
        self.path = output / ".segreport.lock"
        self.wait = wait
        self._fh = None

    def __enter__(self) -> RunLock:
        import fcntl  # noqa: PLC0415

        with writing(self.path.parent):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a+")  # noqa: SIM115
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._fh.seek(0)
                    holder = self._fh.read().strip() or "another process"
                    self._fh.close()
                    raise LockedError(
                        f"another segreport run is writing to {self.path.parent} ({holder}); "
                        "try again when it has finished, or use --wait SECONDS."
                    ) from None
                time.sleep(0.5)
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(
            f"pid {os.getpid()} since {datetime.now().replace(microsecond=0).isoformat()}"
        )
        self._fh.flush()
        # no other run writes here now: whatever staging folders exist were left by runs
        # that were killed (they hold real customer ids)
        self.removed = runs.remove_stale(self.path.parent, locked=True)
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl  # noqa: PLC0415

        if self._fh:
            self._fh.seek(0)
            self._fh.truncate()
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()


def run(
    params: dict[str, Any],
    *,
    units: list[str] | None = None,
    reports: list[str] | None = None,
    jobs: int = 1,
    progress: bool | None = None,
    force: bool = False,
    wait: float = 0.0,
) -> tuple[RunPlan, list[TaskResult]]:
    """Lock the output, plan and execute; returns the plan and the results."""
    with RunLock(resolve_path(params["output_dir"]), wait=wait):
        with Workers(jobs, reports or params.get("reports")) as workers:
            plan = plan_run(params, units=units, reports=reports, force=force)
            return plan, execute_plan(plan, progress=progress, workers=workers)


def exit_code(results: list[TaskResult]) -> int:
    """0 when no report failed (every report is ok, not applicable to the data, or skipped
    for lack of data in the period), else 1."""
    return 1 if any(r.status == "failed" for r in results) else 0

"""The ``segreport`` command.

Exit codes: 0 every report succeeded; 1 at least one report failed (the others were still
produced); 2 bad input or usage (a readable message, no traceback).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click

from . import __version__
from .config import load_params, parse_set, resolve_path
from .errors import AnalysisError, ParamsError


def _fail(exc: AnalysisError) -> None:
    click.echo(f"segreport: error: {exc}", err=True)
    sys.exit(exc.exit_code)


def _params(unit, params_file, sets, **extra) -> dict:
    overrides = parse_set(sets)
    for key, value in extra.items():
        if value is not None:
            overrides[key] = value
    return load_params(
        unit=unit if unit != "all" else None, params_file=params_file, overrides=overrides
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="segreport")
def main() -> None:
    """Customer classification and segmentation reports from CRM exports."""


def _private_files() -> None:
    """Files and folders a run writes (reports, exports with real ids, the cache) are for
    this account only (mode 0600 / 0700): the process's umask becomes 077, inherited by the
    kernels. ``SEGREPORT_UMASK`` (octal, e.g. 027 to let a web server's group read the
    reports) overrides it."""
    value = os.environ.get("SEGREPORT_UMASK", "077")
    try:
        mask = int(value, 8)
    except ValueError:
        _fail(ParamsError(f"SEGREPORT_UMASK must be an octal umask such as 077, got {value!r}"))
    os.umask(mask & 0o777)


def _here(path: str | None) -> str | None:
    """A folder given on the command line, relative to the working directory (where the
    operator typed it), not to the install folder."""
    return None if path is None else str(Path(path).expanduser().resolve())


@main.command()
@click.option(
    "--period",
    "periods",
    multiple=True,
    help="2025-Q3, 2025-09, 2025 or 2025-07-01..2025-09-30; a range of quarters, months or "
    "years (2025-Q1..2025-Q4) runs each of them; repeatable. "
    "Default: the latest complete period in the data.",
)
@click.option(
    "--unit",
    "units",
    multiple=True,
    default=["all"],
    show_default=True,
    help="Business unit (repeatable), or 'all' for every unit plus the company report.",
)
@click.option("--reports", help="Comma-separated report names. Default: all reports.")
@click.option("--formats", help="Comma-separated output formats: html, pdf.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Notebooks executed in parallel.",
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(dir_okay=False),
    help="A YAML file of parameters layered over params/default.yaml.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override one parameter, e.g. --set language=zh (repeatable).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Folder with the input files (relative to the working directory).",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False),
    help="Folder for the reports (relative to the working directory).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and exit without running.")
@click.option("--force", is_flag=True, help="Rebuild the cached clean input even if it is fresh.")
@click.option(
    "--wait",
    type=click.FloatRange(0),
    default=0,
    show_default=True,
    help="Seconds to wait when another run holds the output folder.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress lines on stderr (default: only on a terminal).",
)
@click.option(
    "--summary-json",
    metavar="PATH",
    help="Also write the run summary (JSON) to PATH, or '-' for stdout.",
)
@click.option(
    "--notify",
    "notify_cmd",
    metavar="CMD",
    help="Command run when the run ends or fails, with the summary JSON on stdin and its "
    "path in SEGREPORT_SUMMARY (no shell; default: the 'notify' parameter).",
)
def run(
    periods,
    units,
    reports,
    formats,
    jobs,
    params_file,
    sets,
    data_dir,
    output,
    dry_run,
    force,
    wait,
    progress,
    summary_json,
    notify_cmd,
) -> None:
    """Run the reports for one or more periods and units.

    Every run (not a dry run) leaves a summary, <output>/runs/<run id>.json and
    <output>/last_run.json. Exit codes: 0 all reports ok; 1 some report failed (the others
    are produced); 2 bad input, bad parameters, an output folder that cannot be written, or
    one that is busy; 128 + N when stopped by signal N.
    """
    from .report import runner, runs  # noqa: PLC0415  (keeps `segreport --help` fast)

    _private_files()
    summary = runs.RunSummary(Path(_here(output) or "reports"))
    error: AnalysisError | None = None
    results: list = []
    try:
        unit_list = list(dict.fromkeys(units)) or ["all"]
        period_list = runs.expand_periods(periods) or [None]
        options = dict(
            data_dir=_here(data_dir),
            output_dir=_here(output),
            reports=reports.split(",") if reports else None,
            formats=["html", *[f for f in formats.split(",") if f != "html"]] if formats else None,
        )
        first = unit_list[0] if len(unit_list) == 1 else None
        params = _params(first, params_file, sets, period=period_list[0], **options)
        notify_cmd = notify_cmd or params.get("notify") or None
        summary.output = resolve_path(params["output_dir"])
        summary.data_dir = resolve_path(params["data_dir"])
        with runs.stop_on_signals(), runner.RunLock(summary.output, wait=wait) as lock:
            for path in lock.removed:
                click.echo(f"segreport: removed {path} (left by an interrupted run)", err=True)
            try:
                results = _run_periods(
                    runner, summary, params, period_list, unit_list, options, params_file,
                    sets, jobs, force, dry_run, progress,
                )  # fmt: skip
                if dry_run:
                    return
                summary.finish(runner.exit_code(results))
            except AnalysisError as exc:
                summary.add_results(getattr(exc, "results", []))
                summary.finish(exc.exit_code, str(exc))
                raise
            except BaseException as exc:  # a bug: recorded and announced, then its traceback
                summary.finish(1, f"{type(exc).__name__}: {exc}")
                raise
            finally:
                if not dry_run:
                    summary.write()
    except AnalysisError as exc:
        error = exc
        if summary.exit_code is None:  # the lock was refused or the parameters are wrong
            summary.finish(exc.exit_code, str(exc))
    except Exception:
        _announce(summary, summary_json, notify_cmd)
        raise
    _announce(summary, summary_json, notify_cmd)
    if error is not None:
        _fail(error)
    _closing_lines(summary)
    sys.exit(summary.exit_code)


def _run_periods(
    runner, summary, params, period_list, unit_list, options, params_file, sets, jobs, force,
    dry_run, progress,
):  # fmt: skip
    """Plan every period first (bad input stops the run before any report is written),
    then execute them one after another with the same warm workers."""
    results = []
    with contextlib.ExitStack() as stack:
        # Kernels start (and import the stack) while the input is prepared.
        workers = (
            None
            if dry_run
            else stack.enter_context(
                runner.Workers(
                    jobs if "all" in unit_list else min(jobs, len(unit_list)),
                    params.get("reports"),
                )
            )
        )
        plans = []
        for n, period in enumerate(period_list):
            own = {**options, "period": period}
            plan = runner.plan_run(
                params if n == 0 else _params(None, params_file, sets, **own),
                units=unit_list,
                force=force and n == 0,
                unit_params=lambda u, own=own: _params(u, params_file, sets, **own),
            )
            plans.append(plan)
            summary.add_plan(plan)
            _describe(plan, dry_run)
        if dry_run:
            return []
        try:
            for plan in plans:
                # an OutputError carries the results of its period (recorded by the caller)
                done = runner.execute_plan(plan, progress=progress, workers=workers)
                summary.add_results(done)
                results += done
        finally:
            stack.close()  # workers stopped first: nothing writes into staging any more
            for plan in plans:
                runner.remove_staging(plan)
    return results


def _announce(summary, summary_json: str | None, notify_cmd: str | None) -> None:
    """Print or write the summary when asked, and run the notification command."""
    from .report import runs  # noqa: PLC0415

    if summary.exit_code is None:  # a dry run
        return
    outcome = runs.notify(notify_cmd, summary)
    if outcome is not None and not outcome["ok"]:
        click.echo(
            f"segreport: warning: the notification command failed ({outcome.get('error')}); "
            "the run's exit code is unchanged.",
            err=True,
        )
    for warning in summary.warnings:
        click.echo(f"segreport: warning: {warning}", err=True)
    if summary_json == "-":
        click.echo(summary.text())
    elif summary_json:
        try:
            Path(summary_json).expanduser().write_text(summary.text() + "\n", encoding="utf-8")
        except OSError as exc:
            click.echo(f"segreport: warning: cannot write {summary_json}: {exc}", err=True)


def _closing_lines(summary) -> None:
    data = summary.to_dict()
    counts = data["counts"]
    also = f", {counts['not_applicable']} not applicable" if counts["not_applicable"] else ""
    click.echo(
        f"segreport: {counts['ok']} report(s) ok, {counts['failed']} failed{also}; portal: "
        f"{data['portal']}; summary: {data['summary']}",
        err=True,
    )
    for r in data["reports"]:
        if r["status"] == "failed":
            first = r["error"].splitlines()[0] if r["error"] else ""
            click.echo(
                f"segreport: FAILED {r['period']} {r['unit']}/{r['report']}: {first}", err=True
            )


def _describe(plan, dry_run: bool) -> None:
    cache = "reused" if plan.prepared.reused else "built"
    click.echo(
        f"segreport: period {plan.period} ({plan.period.start} to {plan.period.end}), "
        f"units: {', '.join(u for u in plan.units if u not in plan.skipped_units)}; "
        f"{len(plan.tasks)} notebook(s); clean input {cache} "
        f"(cache {plan.prepared.key}); data {resolve_path(plan.params['data_dir'])}; "
        f"output {plan.output}",
        err=True,
    )
    for unit, reason in plan.skipped_units.items():
        click.echo(f"segreport: skipping unit {unit}: {reason}", err=True)
    if "pdf" in plan.params["formats"]:
        from .report.render import pdf_engine  # noqa: PLC0415

        if pdf_engine() is None:
            click.echo(
                "segreport: warning: PDF skipped: neither chromium nor weasyprint is "
                "installed (apt-get install chromium); HTML reports are produced as usual.",
                err=True,
            )
    if dry_run:
        for task in plan.tasks:
            click.echo(f"{task.unit}\t{task.report}\t{plan.final_html(task)}")


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="data/sample",
    show_default=True,
    help="Folder to write the sample tables into.",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--customers",
    "n_customers",
    type=click.IntRange(10, 50_000_000),
    default=20_000,
    show_default=True,
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True
)
@click.option(
    "--shape",
    type=click.Choice(["transactional", "subscription", "survey-only", "orders-only"]),
    default="transactional",
    show_default=True,
    help="Which kind of business export to imitate (data/README.md, 'The sample').",
)
def sample(out_dir, seed, n_customers, fmt, shape) -> None:
    """Generate deterministic synthetic CRM data with planted truth (truth.json)."""
    from .data.shapes import write_shape  # noqa: PLC0415

    try:
        path = write_shape(out_dir, shape, n_customers=n_customers, seed=seed, fmt=fmt)
    except AnalysisError as exc:
        _fail(exc)
    click.echo(
        f"segreport: {shape} sample data for {n_customers:,} customers written to {path}",
        err=True,
    )


@main.command()
@click.option("--period", help="As for 'run'. Default: the latest complete period in the data.")
@click.option(
    "--unit",
    "units",
    multiple=True,
    default=["all"],
    show_default=True,
    help="As for 'run' (repeatable).",
)
@click.option("--reports", help="Comma-separated report names, as for 'run'.")
@click.option("--params", "params_file", type=click.Path(dir_okay=False))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE")
@click.option("--data-dir", type=click.Path(file_okay=False))
def validate(period, units, reports, params_file, sets, data_dir) -> None:
    """Check the input as 'run' would, and list the repairs it needs.

    The check is the run's own preparation (loading, repairs, the per-unit slices, the
    period and unit choice, which reports apply), done in a temporary folder: whatever
    makes 'run' stop with exit code 2 makes 'validate' stop with the same message.
    """
    import tempfile  # noqa: PLC0415

    from .report import runner  # noqa: PLC0415

    try:
        unit_list = list(dict.fromkeys(units)) or ["all"]
        with tempfile.TemporaryDirectory(prefix="segreport-validate-") as tmp:
            options = dict(
                period=period,
                data_dir=_here(data_dir),
                output_dir=tmp,
                reports=reports.split(",") if reports else None,
            )
            params = _params(
                unit_list[0] if len(unit_list) == 1 else None, params_file, sets, **options
            )
            plan = runner.plan_run(
                params,
                units=unit_list,
                unit_params=lambda u: _params(u, params_file, sets, **options),
            )
            quality = plan.prepared.quality("all")
    except AnalysisError as exc:
        _fail(exc)
    prepared = plan.prepared
    click.echo(
        f"data as of {str(prepared.data_end)[:10]}; units: {', '.join(prepared.units)}; "
        f"period {plan.period} ({plan.period.start} to {plan.period.end})"
    )
    for table, rows in quality.rows_kept.items():
        click.echo(f"  {table}: {quality.rows_read.get(table, rows):,} rows read, {rows:,} kept")
    frame = quality.to_frame()
    if frame.empty:
        click.echo("no repairs needed")
    for row in frame.itertuples():
        column = f" ({row.column})" if row.column else ""
        click.echo(f"  repair: {row.table}.{row.rule}{column}: {row.rows:,} row(s) {row.action}")
    from .i18n import t  # noqa: PLC0415

    for item in quality.notes:
        values = {k: v for k, v in item.items() if k != "key"}
        click.echo(f"  note: {t(item['key'], 'en', **values)}")
    for unit, reason in plan.skipped_units.items():
        click.echo(f"  skipped unit {unit}: {reason}")
    for task in plan.tasks:
        why = getattr(task, "not_applicable", None)
        status = f"not applicable: {why.text('en')}" if why else "will run"
        click.echo(f"  {task.unit}/{task.report}: {status}")


_OUTPUT = click.option(
    "--output",
    type=click.Path(file_okay=False),
    help="The reports folder (relative to the working directory). Default: output_dir.",
)


def _output(output: str | None, sets=()) -> tuple[Path, dict]:
    params = _params(None, None, sets, output_dir=_here(output))
    return resolve_path(params["output_dir"]), params


@main.command()
@_OUTPUT
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE")
def portal(output, sets) -> None:
    """Rebuild reports/index.html from what is on disk."""
    from .report.portal import write_portal  # noqa: PLC0415
    from .report.runner import writing  # noqa: PLC0415

    try:
        folder, params = _output(output, sets)
        with writing(folder):
            click.echo(str(write_portal(folder, params["language"])))
    except AnalysisError as exc:
        _fail(exc)


@main.command(name="runs")
@_OUTPUT
@click.option("--last", type=click.IntRange(1), help="Only the last N runs.")
@click.option("--json", "as_json", is_flag=True, help="The summaries as a JSON list.")
def runs_command(output, last, as_json) -> None:
    """List past runs (from the summaries in <output>/runs/), oldest first."""
    from .report import runs  # noqa: PLC0415

    try:
        folder, _ = _output(output)
    except AnalysisError as exc:
        _fail(exc)
    found = runs.list_runs(folder)[-last:] if last else runs.list_runs(folder)
    if as_json:
        click.echo(runs.strict_json(found, indent=1))
        return
    if not found:
        click.echo(f"no runs recorded in {folder / runs.RUNS_DIR}")
        return
    click.echo("started\tstatus\texit\tperiods\tunits\tok\tfailed\tn/a\tseconds\trun id")
    for r in found:
        counts = r.get("counts") or {}
        click.echo(
            "\t".join(
                str(v)
                for v in (
                    (r.get("started_at") or "")[:19].replace("T", " "),
                    r.get("status"),
                    r.get("exit_code"),
                    ",".join(r.get("periods") or []) or "-",
                    ",".join(r.get("units") or []) or "-",
                    counts.get("ok", 0),
                    counts.get("failed", 0),
                    counts.get("not_applicable", 0),
                    r.get("seconds"),
                    r.get("run_id"),
                )
            )
        )


@main.command()
@_OUTPUT
@click.option("--keep", type=int, required=True, help="How many of the newest periods to keep.")
@click.option("--dry-run", is_flag=True, help="Only print what would be removed.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE")
@click.option("--data-dir", type=click.Path(file_okay=False))
def prune(output, keep, dry_run, sets, data_dir) -> None:
    """Remove old periods' report folders and cache entries no kept report uses.

    Never the newest KEEP periods, never the periods of the last run, never the cache
    entry of the current input. Prints every folder it removes (or would remove).
    """
    from .report import runner, runs  # noqa: PLC0415
    from .report.cache import cache_key  # noqa: PLC0415
    from .report.portal import write_portal  # noqa: PLC0415

    try:
        if keep < 1:
            raise ParamsError(f"--keep must be at least 1, got {keep}")
        params = _params(None, None, sets, output_dir=_here(output), data_dir=_here(data_dir))
        folder = resolve_path(params["output_dir"])
        try:  # the current input's entry stays (when the input is there to hash)
            current_keys = [cache_key(params)]
        except (AnalysisError, OSError):
            current_keys = []
        with runner.RunLock(folder), runner.writing(folder):
            removed = runs.prune(folder, keep=keep, current_keys=current_keys, dry_run=dry_run)
            if not dry_run and removed:
                write_portal(folder, params["language"])
    except AnalysisError as exc:
        _fail(exc)
    verb = "would remove" if dry_run else "removed"
    for path in removed:
        click.echo(f"{verb} {path}")
    click.echo(f"segreport: {verb} {len(removed)} folder(s) in {folder}", err=True)


if __name__ == "__main__":
    main()

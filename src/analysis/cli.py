"""The ``segreport`` command.

Exit codes: 0 every report succeeded; 1 at least one report failed (the others were still
produced); 2 bad input or usage (a readable message, no traceback).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from . import __version__
from .config import load_params, parse_set, resolve_path
from .errors import AnalysisError


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


@main.command()
@click.option(
    "--period",
    help="2025-Q3, 2025-09, 2025 or 2025-07-01..2025-09-30. "
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
@click.option("--data-dir", type=click.Path(file_okay=False), help="Folder with the input files.")
@click.option("--output", type=click.Path(file_okay=False), help="Folder for the reports.")
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
def run(
    period,
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
) -> None:
    """Run the reports for one period and one or more units.

    Exit codes: 0 all reports ok; 1 some report failed (the others are produced); 2 bad
    input, bad parameters, or the output folder is busy.
    """
    from .report import runner  # noqa: PLC0415  (keeps `segreport --help` fast)

    try:
        unit_list = list(dict.fromkeys(units)) or ["all"]
        options = dict(
            period=period,
            data_dir=data_dir,
            output_dir=output,
            reports=reports.split(",") if reports else None,
            formats=["html", *[f for f in formats.split(",") if f != "html"]] if formats else None,
        )
        params = _params(
            unit_list[0] if len(unit_list) == 1 else None, params_file, sets, **options
        )
        with (
            runner.RunLock(resolve_path(params["output_dir"]), wait=wait),
            contextlib.ExitStack() as stack,
        ):
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
            plan = runner.plan_run(
                params,
                units=unit_list,
                force=force,
                unit_params=lambda u: _params(u, params_file, sets, **options),
            )
            _describe(plan, dry_run)
            if dry_run:
                return
            results = runner.execute_plan(plan, progress=progress, workers=workers)
    except AnalysisError as exc:
        _fail(exc)
    failed = [r for r in results if r.status == "failed"]
    ok = sum(r.status == "ok" for r in results)
    not_applicable = sum(r.status == "not_applicable" for r in results)
    also = f", {not_applicable} not applicable" if not_applicable else ""
    click.echo(
        f"segreport: {ok} report(s) ok, {len(failed)} failed{also}; portal: "
        f"{Path(plan.output) / 'index.html'}",
        err=True,
    )
    for r in failed:
        first = r.error.splitlines()[0] if r.error else ""
        click.echo(f"segreport: FAILED {r.unit}/{r.report}: {first}", err=True)
    sys.exit(runner.exit_code(results))


def _describe(plan, dry_run: bool) -> None:
    cache = "reused" if plan.prepared.reused else "built"
    click.echo(
        f"segreport: period {plan.period} ({plan.period.start} to {plan.period.end}), "
        f"units: {', '.join(u for u in plan.units if u not in plan.skipped_units)}; "
        f"{len(plan.tasks)} notebook(s); clean input {cache} "
        f"(cache {plan.prepared.key}); output {plan.output}",
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
                data_dir=data_dir,
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


@main.command()
@click.option("--output", type=click.Path(file_okay=False), default="reports", show_default=True)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE")
def portal(output, sets) -> None:
    """Rebuild reports/index.html from what is on disk."""
    from .report.portal import write_portal  # noqa: PLC0415

    try:
        params = _params(None, None, sets)
    except AnalysisError as exc:
        _fail(exc)
    click.echo(str(write_portal(Path(output), params["language"])))


if __name__ == "__main__":
    main()

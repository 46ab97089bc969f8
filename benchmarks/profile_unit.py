"""Profile one unit's notebooks in the order the runner runs them, in this one process.

Usage: python benchmarks/profile_unit.py [--unit retail] [--period 2025-Q4]
       [--data-dir data/sample] [--reports value,churn] [--html DIR] [--cprofile FILE]

Prepares the unit's clean input as the runner does (cached under benchmarks/out/profile/),
then executes each notebook's code cells one after another in one namespace per notebook
(the parameters the runner injects replace the parameters cell), so the memo of
:class:`analysis.pipelines.shared.SharedWork` carries from one report to the next as in a
kernel. Displayed output is dropped. Prints each report's wall and CPU seconds; with
pyinstrument installed, ``--html DIR`` writes one profile per report, and ``--cprofile
FILE`` dumps the cProfile statistics of the whole unit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("MPLBACKEND", "Agg")

from analysis.config import load_params  # noqa: E402
from analysis.report import runner  # noqa: E402


def _cells(notebook: str) -> list[str]:
    nb = json.loads(Path(notebook).read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _rss_mib() -> tuple[float, float]:
    """This process's resident set size now and its peak, in MiB (Linux /proc)."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit", default="retail")
    parser.add_argument("--period", default=None)
    parser.add_argument("--data-dir", default=str(ROOT / "data" / "sample"))
    parser.add_argument("--reports", default=None, help="comma-separated (default: all)")
    parser.add_argument("--html", default=None, help="folder for pyinstrument profiles")
    parser.add_argument("--cprofile", default=None, help="file for cProfile statistics")
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE override")
    args = parser.parse_args()

    import IPython.display  # noqa: PLC0415

    IPython.display.display = lambda *a, **k: None  # the kernel would send it to the client

    out = ROOT / "benchmarks" / "out" / "profile"
    overrides: dict = {"data_dir": args.data_dir, "output_dir": str(out)}
    if args.period:
        overrides["period"] = args.period
    for item in args.set:
        key, _, value = item.partition("=")
        *parents, leaf = key.split(".")
        node = overrides
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    params = load_params(overrides=overrides)
    reports = args.reports.split(",") if args.reports else None
    plan = runner.plan_run(
        params,
        units=[args.unit],
        reports=reports,
        unit_params=lambda u: load_params(unit=None if u == "all" else u, overrides=overrides),
    )
    tasks = next(batch for batch in runner.unit_batches(plan) if batch[0].unit == args.unit)
    profiler = None
    if args.cprofile:
        import cProfile  # noqa: PLC0415

        profiler = cProfile.Profile()
    os.chdir(ROOT / "notebooks")
    totals = {"wall": 0.0, "cpu": 0.0}
    for task in tasks:
        if task.not_applicable is not None:
            print(f"{task.report:14s} not applicable")
            continue
        cells = _cells(task.notebook)
        namespace: dict = {"__name__": "__main__"}
        exec(cells[0], namespace)  # noqa: S102  (the parameters cell, then the runner's)
        namespace.update(task.parameters)
        session = None
        if args.html:
            from pyinstrument import Profiler  # noqa: PLC0415

            session = Profiler(interval=0.002)
            session.start()
        if profiler is not None:
            profiler.enable()
        wall, cpu = time.perf_counter(), time.process_time()
        for code in cells[1:]:
            exec(compile(code, task.report, "exec"), namespace)  # noqa: S102
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
        if session is not None:
            session.stop()
            Path(args.html).mkdir(parents=True, exist_ok=True)
            target = Path(args.html) / f"{args.unit}-{task.report}"
            target.with_suffix(".html").write_text(session.output_html())
            target.with_suffix(".txt").write_text(
                session.output_text(unicode=True, color=False, show_all=False)
            )
        import matplotlib.pyplot as plt  # noqa: PLC0415

        plt.close("all")
        totals["wall"] += wall
        totals["cpu"] += cpu
        rss, peak = _rss_mib()
        print(
            f"{task.report:14s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
            f"RSS after {rss:7,.0f} MiB  peak so far {peak:7,.0f} MiB",
            flush=True,
        )
    print(f"{'total':14s} wall {totals['wall']:6.2f} s  cpu {totals['cpu']:6.2f} s")
    if profiler is not None:
        profiler.dump_stats(args.cprofile)
    for staging in plan.staging.values():
        import shutil  # noqa: PLC0415

        shutil.rmtree(staging, ignore_errors=True)


if __name__ == "__main__":
    main()

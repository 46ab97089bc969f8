"""Profile one report notebook as the runner executes it (in a kernel, figures rendered).

Usage: python benchmarks/profile_notebook.py REPORT [--unit retail] [--period 2025-Q3]
       [--data-dir data/sample] [--lines 40] [--sort cumulative] [--repeat 2]
       [--save FILE]

Prepares the unit's clean input (cached under benchmarks/out/profile/), starts one warm
kernel (thread caps as in a ``--jobs 2`` run), executes the notebook ``--repeat`` times (the first run pays for imports; the
others show the steady state of a reused kernel) with cProfile enabled inside the kernel,
and prints per-cell durations plus the top functions of the last run.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from analysis.config import load_params  # noqa: E402
from analysis.report import runner  # noqa: E402
from analysis.report.kernel import KernelSession  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("--unit", default="retail")
    parser.add_argument("--period", default="2025-Q3")
    parser.add_argument("--data-dir", default=str(ROOT / "data" / "sample"))
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--save", type=Path, help="also keep the profile (pstats file) here")
    args = parser.parse_args()

    out = ROOT / "benchmarks" / "out" / "profile"
    overrides = {"period": args.period, "data_dir": args.data_dir, "output_dir": str(out)}
    params = load_params(overrides=overrides)
    plan = runner.plan_run(  # each unit with its own params/units/<unit>.yaml, as the CLI does
        params,
        units=[args.unit],
        reports=[args.report],
        unit_params=lambda u: load_params(unit=None if u == "all" else u, overrides=overrides),
    )
    task = next(t for t in plan.tasks if t.unit == args.unit)
    stats_file = Path(tempfile.mkdtemp()) / "profile.stats"
    threads = max(1, (os.cpu_count() or 1) // 2)
    warm = runner.warm_code([args.report])
    with KernelSession(ROOT / "notebooks", warm=warm, threads=threads) as session:
        for i in range(args.repeat):
            session.reset()
            session._execute("import cProfile as _c; _P = _c.Profile(); _P.enable()", wait=True)
            started = time.perf_counter()
            executed = Path(task.executed)
            executed.parent.mkdir(parents=True, exist_ok=True)
            import papermill as pm  # noqa: PLC0415

            pm.execute_notebook(
                task.notebook,
                str(executed),
                parameters=task.parameters,
                engine_name="segreport",
                km=session.km,
                kc=session.kc,
                progress_bar=False,
                request_save_on_cell_execute=False,
            )
            elapsed = time.perf_counter() - started
            session._execute(f"_P.disable(); _P.dump_stats({str(stats_file)!r})", wait=True)
            print(f"run {i + 1}: {elapsed:.2f} s")
    nb = json.loads(executed.read_text())
    for cell in nb["cells"]:
        duration = cell["metadata"].get("papermill", {}).get("duration") or 0
        if cell["cell_type"] == "code" and duration > 0.05:
            print(f"{duration:6.2f}  {''.join(cell['source']).replace(chr(10), ' | ')[:90]}")
    pstats.Stats(str(stats_file)).sort_stats(args.sort).print_stats(args.lines)
    if args.save:
        shutil.copyfile(stats_file, args.save)
    for staging in plan.staging.values():
        shutil.rmtree(staging, ignore_errors=True)


if __name__ == "__main__":
    main()

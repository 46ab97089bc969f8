"""Profile the worker side of one unit (papermill, nbconvert rendering) in this process.

Usage: python benchmarks/profile_worker.py [--unit retail] [--data-dir data/sample]
       [--out FILE.pstats]

Runs the unit's notebooks as a ``--jobs 1`` run does (one kernel, rendering on a thread)
with cProfile on in this process (the kernel is another process and not profiled), and
prints the CPU seconds of this process and the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from analysis.config import load_params  # noqa: E402
from analysis.report import runner  # noqa: E402
from analysis.report.kernel import KernelSession  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit", default="retail")
    parser.add_argument("--data-dir", default=str(ROOT / "data" / "sample"))
    parser.add_argument("--out", default=None)
    parser.add_argument("--lines", type=int, default=40)
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "out" / "profile-worker"
    overrides = {"data_dir": args.data_dir, "output_dir": str(out)}
    params = load_params(overrides=overrides)
    plan = runner.plan_run(
        params,
        units=[args.unit],
        unit_params=lambda u: load_params(unit=None if u == "all" else u, overrides=overrides),
    )
    tasks = next(batch for batch in runner.unit_batches(plan) if batch[0].unit == args.unit)
    reports = sorted({t.report for t in tasks})
    threads = max(1, (os.cpu_count() or 1) // 2)
    with KernelSession(ROOT / "notebooks", warm=runner.warm_code(reports), threads=threads) as s:
        s.ready()
        profiler = cProfile.Profile()
        wall, cpu = time.perf_counter(), time.process_time()
        profiler.enable()
        results = runner.execute_unit(tasks, s, done=lambda r: None)
        profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{len(results)} notebooks, wall {wall:.2f} s, cpu of this process {cpu:.2f} s")
    for r in results:
        print(
            r.report,
            r.status,
            {k: round(v, 2) for k, v in r.timings.items()},
            (r.error or "")[:800],
        )
    if args.out:
        profiler.dump_stats(args.out)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.lines)
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()

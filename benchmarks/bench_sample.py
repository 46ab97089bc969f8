"""Benchmark: ``analysis.data.sample.write_sample`` at 1M customers, CSV and Parquet.

Each format runs in its own subprocess, so peak memory (``ru_maxrss``) belongs to that
format alone. Inside it, ``write_sample`` (generation + writing) is timed ``N`` times and the
median is reported; generation alone is timed once as well, to show how the time splits.
Output goes to ``benchmarks/out/sample_<fmt>/`` (git-ignored); results to
``benchmarks/results/sample.json``, and a small table is printed.

Usage::

    PYTHONPATH=src python benchmarks/bench_sample.py [N] [--customers 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
RESULTS = HERE / "results" / "sample.json"
FORMATS = ("csv", "parquet")


def worker(fmt: str, n_customers: int, runs: int) -> dict:
    """Time generation once and ``write_sample`` ``runs`` times in this process."""
    from analysis.data import sample

    t0 = time.perf_counter()
    tables, _ = sample._generate(n_customers, 42)
    generate_s = time.perf_counter() - t0
    rows = {name: table.num_rows for name, table in tables.items()}
    del tables

    target = OUT / f"sample_{fmt}"
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sample.write_sample(target, n_customers=n_customers, seed=42, fmt=fmt)
        times.append(time.perf_counter() - t0)
    sizes = {p.name: p.stat().st_size for p in sorted(target.iterdir())}
    return {
        "format": fmt,
        "runs_seconds": [round(t, 2) for t in times],
        "median_seconds": round(statistics.median(times), 2),
        "generate_seconds": round(generate_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rows": rows,
        "bytes": sizes,
        "total_mb": round(sum(sizes.values()) / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=int, default=3, help="runs per format (median)")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--worker", choices=FORMATS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.customers, args.runs)))
        return 0

    OUT.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    results = {}
    for fmt in args.formats.split(","):
        print(f"{fmt}: {args.runs} run(s) at {args.customers:,} customers ...", flush=True)
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                str(args.runs),
                "--customers",
                str(args.customers),
                "--worker",
                fmt,
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        results[fmt] = json.loads(proc.stdout.strip().splitlines()[-1])

    import numpy
    import pandas
    import pyarrow

    report = {
        "benchmark": "analysis.data.sample.write_sample",
        "n_customers": args.customers,
        "runs": args.runs,
        "results": results,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "pandas": pandas.__version__,
            "pyarrow": pyarrow.__version__,
        },
        "recorded": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")

    print(f"\n{'format':8} {'median s':>9} {'generate s':>11} {'peak RSS MB':>12} {'files MB':>9}")
    for fmt, r in results.items():
        print(
            f"{fmt:8} {r['median_seconds']:9.1f} {r['generate_seconds']:11.1f} "
            f"{r['peak_rss_mb']:12d} {r['total_mb']:9.1f}"
        )
    rows = next(iter(results.values()))["rows"]
    print("rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    print(f"results: {RESULTS.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time the whole sample run (data generation excluded) and each notebook execution.

Usage: python benchmarks/bench_run.py [--repeat 3] [--customers 20000] [--jobs 2]

In the same run it measures a floor: starting one kernel through papermill on an empty
notebook that only imports the analysis stack. Results go to benchmarks/results/run.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
RESULTS = ROOT / "benchmarks" / "results"


def sample(customers: int) -> Path:
    folder = OUT / f"sample_{customers}"
    if not (folder / "orders.csv").is_file():
        subprocess.run([sys.executable, "-m", "analysis.cli", "sample", "--out", str(folder),
                        "--customers", str(customers)], check=True)
    return folder


def time_run(data: Path, jobs: int, extra: list[str]) -> tuple[float, dict[str, list[float]]]:
    output = Path(tempfile.mkdtemp(prefix="segreport-bench-"))
    try:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "analysis.cli", "run", "--data-dir", str(data),
                        "--output", str(output), "--jobs", str(jobs), "--no-progress", *extra],
                       check=True, capture_output=True)
        wall = time.perf_counter() - started
        per_report: dict[str, list[float]] = {}
        for status_file in output.glob("*/*/status.json"):
            for name, entry in json.loads(status_file.read_text())["reports"].items():
                per_report.setdefault(name, []).append(entry["timings"].get("execute", float("nan")))
        return wall, per_report
    finally:
        shutil.rmtree(output, ignore_errors=True)


def time_floor() -> float:
    """papermill + kernel start + importing the stack, with no analysis at all."""
    import papermill as pm

    folder = Path(tempfile.mkdtemp(prefix="segreport-floor-"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import pandas, matplotlib.pyplot, seaborn, duckdb\n"
                                          "import analysis.report.context")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "floor.ipynb")
    started = time.perf_counter()
    pm.execute_notebook(str(folder / "floor.ipynb"), str(folder / "out.ipynb"), progress_bar=False,
                        kernel_name="python3", extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    elapsed = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    data = sample(args.customers)
    floors = [time_floor() for _ in range(args.repeat)]
    walls, executes = [], {}
    for _ in range(args.repeat):
        wall, per_report = time_run(data, args.jobs, ["--set", "quality.today=2026-06-30"])
        walls.append(wall)
        for name, values in per_report.items():
            executes.setdefault(name, []).extend(values)
    result = {
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "customers": args.customers, "jobs": args.jobs, "repeat": args.repeat,
        "run_wall_median_s": statistics.median(walls), "run_wall_all_s": walls,
        "kernel_floor_median_s": statistics.median(floors),
        "notebook_execute_median_s": {k: statistics.median(v) for k, v in executes.items()},
        "notebooks_per_run": sum(len(v) for v in executes.values()) // args.repeat,
    }
    result["run_vs_floor_per_notebook"] = (
        result["run_wall_median_s"] / max(result["notebooks_per_run"], 1) / result["kernel_floor_median_s"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "run.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

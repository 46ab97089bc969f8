"""Time the full sample pack: every unit, every report, HTML and PDF, ``--jobs 2``.

Usage: python benchmarks/run_pack.py [--repeat 3] [--customers 20000] [--jobs 2] [--formats html,pdf]

Each repeat times a cold run (empty output folder, so the clean input is built) and then a
warm run on the same folder (clean input reused from the cache). In the same process it
measures the floor: papermill starting one kernel on a notebook that only imports the
analysis stack. Sample generation is excluded. Per-report execution, render and PDF times
come from the runs' status files. On Linux it also adds up the CPU time of every process the
run started (sampled from /proc every 0.1 s: the CLI, the worker processes, their kernels
and chromium), which shows where the cores went. Results: benchmarks/results/run_pack.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
RESULTS = ROOT / "benchmarks" / "results"


def sample(customers: int) -> Path:
    folder = OUT / f"sample_{customers}"
    if not (folder / "orders.csv").is_file():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "analysis.cli",
                "sample",
                "--out",
                str(folder),
                "--customers",
                str(customers),
            ],
            check=True,
        )
    return folder


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _kind(cmdline: bytes) -> str:
    if b"chromium" in cmdline:
        return "chromium"
    if b"ipykernel" in cmdline:
        return "kernels"
    if b"multiprocessing" in cmdline:
        return "workers"
    return "cli"


def _descendants_cpu(root: int, seen: dict[int, tuple[str, float]]) -> None:
    """Update ``seen`` (pid -> (kind, CPU seconds)) with ``root`` and its descendants."""
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        stats[int(entry.name)] = fields
    family = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                changed = True
    for pid in family & stats.keys():
        fields = stats[pid]
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        if pid not in seen:
            try:
                kind = _kind(Path(f"/proc/{pid}/cmdline").read_bytes())
            except OSError:
                continue
        else:
            kind = seen[pid][0]
        seen[pid] = (kind, cpu)


def one_run(data: Path, output: Path, jobs: int, formats: str) -> dict:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "analysis.cli",
            "run",
            "--data-dir",
            str(data),
            "--output",
            str(output),
            "--jobs",
            str(jobs),
            "--formats",
            formats,
            "--no-progress",
            "--set",
            "quality.today=2026-06-30",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: dict[int, tuple[str, float]] = {}
    errors = threading.Thread(target=lambda: setattr(proc, "err", proc.stderr.read()))
    errors.start()
    while proc.poll() is None:
        if Path("/proc").is_dir():
            _descendants_cpu(proc.pid, seen)
        time.sleep(0.1)
    errors.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"the run failed ({proc.returncode}):\n{proc.err[-2000:]}")
    cpu: dict[str, float] = {}
    for kind, seconds in seen.values():
        cpu[kind] = cpu.get(kind, 0.0) + seconds
    parts: dict[str, list[float]] = {"kernel": [], "execute": [], "render": [], "pdf": []}
    per_report: dict[str, list[float]] = {}
    for status_file in output.glob("*/*/status.json"):
        for name, entry in json.loads(status_file.read_text())["reports"].items():
            for key in parts:
                if key in entry["timings"]:
                    parts[key].append(entry["timings"][key])
            per_report.setdefault(name, []).append(entry["timings"].get("execute", float("nan")))
    return {"wall": wall, "parts": parts, "per_report": per_report, "cpu": cpu}


def floor() -> float:
    """papermill + kernel start + importing the stack, with no analysis at all."""
    import papermill as pm

    folder = Path(tempfile.mkdtemp(prefix="segreport-floor-"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import pandas, matplotlib.pyplot, seaborn, duckdb, sklearn, statsmodels.api\n"
            "import analysis.report.context"
        )
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, folder / "floor.ipynb")
    started = time.perf_counter()
    pm.execute_notebook(
        str(folder / "floor.ipynb"),
        str(folder / "out.ipynb"),
        progress_bar=False,
        kernel_name="python3",
        extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
    )
    elapsed = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--formats", default="html,pdf")
    args = parser.parse_args()
    data = sample(args.customers)
    floors, cold, warm = [], [], []
    for _ in range(args.repeat):
        floors.append(floor())
        output = Path(tempfile.mkdtemp(prefix="segreport-pack-"))
        try:
            cold.append(one_run(data, output, args.jobs, args.formats))
            warm.append(one_run(data, output, args.jobs, args.formats))
        finally:
            shutil.rmtree(output, ignore_errors=True)

    def med(values):
        return round(statistics.median(values), 3) if values else None

    notebooks = sum(len(v) for v in cold[0]["per_report"].values())
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "customers": args.customers,
        "jobs": args.jobs,
        "formats": args.formats,
        "repeat": args.repeat,
        "notebooks_per_pack": notebooks,
        "kernel_floor_median_s": med(floors),
        "cold_pack_median_s": med([r["wall"] for r in cold]),
        "warm_pack_median_s": med([r["wall"] for r in warm]),
        "cold_pack_all_s": [round(r["wall"], 2) for r in cold],
        "warm_pack_all_s": [round(r["wall"], 2) for r in warm],
        "per_notebook_median_s": {
            part: med([v for r in cold for v in r["parts"][part]])
            for part in ("kernel", "execute", "render", "pdf")
        },
        # summed over the pack (CPU-seconds spent in each part, both workers together)
        "pack_total_s": {
            part: round(statistics.median(sum(r["parts"][part]) for r in cold_runs), 2)
            for part in ("kernel", "execute", "render", "pdf")
            for cold_runs in [cold]
        },
        # CPU-seconds of the processes each cold run started, by kind, and their sum
        "cold_cpu_median_s": {
            kind: med([r["cpu"].get(kind, 0.0) for r in cold])
            for kind in ("cli", "workers", "kernels", "chromium")
        },
        "cold_cpu_total_median_s": med([sum(r["cpu"].values()) for r in cold]),
        "execute_median_by_report_s": {
            name: med([v for r in cold for v in r["per_report"].get(name, [])])
            for name in cold[0]["per_report"]
        },
    }
    result["cold_vs_floor_per_notebook"] = round(
        result["cold_pack_median_s"] * args.jobs / notebooks / result["kernel_floor_median_s"], 2
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "run_pack.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

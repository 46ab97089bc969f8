"""Time the report pack at several sizes: how the cost grows with the number of customers.

Usage: python benchmarks/bench_scale.py [--sizes 20000,200000,1000000] [--repeat 1]
       [--seed 42] [--jobs 2] [--baseline SRC] [--label NAME] [--cache DIR]

For each size it generates (once) a Parquet sample of that many customers and caches it
outside the repository (``~/.cache/segreport-bench/customers-<N>-seed-<S>-parquet``, kept
between runs; a ``.complete`` marker says the generator finished), then runs the pack as
an operator would: ``segreport run --formats html --jobs 2`` into an empty output folder
(so the clean input is built too). For every run it records the wall time, the CPU-seconds
of every process the run started by kind (the CLI, the worker processes, the kernels;
the /proc accounting of benchmarks/run_pack.py), the peak resident memory (of the largest
process and of all of them together, sampled every 0.1 s), the time before the first
notebook started (reading, validating, caching), each report's execute time (from the
run's ``runs/last_run.json``) and the load average before and after. Medians over
``--repeat`` runs, and the ratios 200k/20k and 1M/20k of the same code in the same run.

``--baseline SRC`` also runs another checkout of the code (``SRC/src`` on PYTHONPATH,
e.g. a ``git worktree`` of an older commit), interleaved with the current one (current,
baseline, current, baseline, ...), so before and after are measured in the same hour on
the same busy machine. Results: ``benchmarks/results/scale.json`` (a new run replaces it).
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
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from run_pack import _descendants_cpu  # noqa: E402  (the /proc CPU accounting)

RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_CACHE = Path.home() / ".cache" / "segreport-bench"
DEFAULT_SIZES = "20000,200000,1000000"
PERIOD_TODAY = "quality.today=2026-06-30"  # the sample's "today": the same periods every run


def sample(cache: Path, customers: int, seed: int) -> Path:
    """The cached Parquet sample of ``customers`` customers (generated when missing)."""
    folder = cache / f"customers-{customers}-seed-{seed}-parquet"
    marker = folder / ".complete"
    if marker.is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    command = [sys.executable, "-m", "analysis.cli", "sample", "--out", str(folder)]
    command += ["--customers", str(customers), "--seed", str(seed), "--format", "parquet"]
    subprocess.run(command, check=True, env=_env(None), stdout=subprocess.DEVNULL)
    marker.write_text(json.dumps({"seconds": round(time.perf_counter() - started, 1)}))
    return folder


def _env(src: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str((src or ROOT) / "src")
    return env


def _rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of a process in KiB; zeros when it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    values = {}
    for line in text.splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            values[line.split(":")[0]] = int(line.split()[1])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def one_run(data: Path, src: Path | None, jobs: int) -> dict:
    """One cold pack run (empty output folder), measured from outside."""
    output = Path(tempfile.mkdtemp(prefix="segreport-scale-"))
    load_before = os.getloadavg()
    command = [sys.executable, "-m", "analysis.cli", "run", "--data-dir", str(data)]
    command += ["--output", str(output), "--jobs", str(jobs), "--formats", "html"]
    command += ["--no-progress", "--set", PERIOD_TODAY]
    started = time.perf_counter()
    proc = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(src),
        cwd=str(src or ROOT),
    )
    seen: dict[int, tuple[str, float]] = {}
    peak_process: dict[int, int] = {}
    peak_total = 0
    at_peak: dict[str, int] = {}
    errors = threading.Thread(target=lambda: setattr(proc, "err", proc.stderr.read()))
    errors.start()
    while proc.poll() is None:
        _descendants_cpu(proc.pid, seen)
        total = 0
        by_kind: dict[str, int] = {}
        for pid, (kind, _) in seen.items():
            current, peak = _rss_kib(pid)
            total += current
            by_kind[kind] = by_kind.get(kind, 0) + current
            peak_process[pid] = max(peak_process.get(pid, 0), peak)
        if total > peak_total:
            peak_total, at_peak = total, by_kind
        time.sleep(0.1)
    errors.join()
    wall = time.perf_counter() - started
    try:
        if proc.returncode != 0:
            raise SystemExit(f"the run failed ({proc.returncode}):\n{proc.err[-3000:]}")
        summary = json.loads((output / "last_run.json").read_text())
    finally:
        shutil.rmtree(output, ignore_errors=True)
    cpu: dict[str, float] = {}
    peak_by_kind: dict[str, float] = {}
    for pid, (kind, seconds) in seen.items():
        cpu[kind] = round(cpu.get(kind, 0.0) + seconds, 2)
        peak_by_kind[kind] = max(peak_by_kind.get(kind, 0.0), peak_process.get(pid, 0) / 1024)
    run_start = datetime.fromisoformat(summary["started_at"])
    first = min(datetime.fromisoformat(r["started_at"]) for r in summary["reports"])
    execute: dict[str, float] = {}
    for report in summary["reports"]:
        name = f"{report['unit']}/{report['report']}"
        execute[name] = round(report["timings"].get("execute", float("nan")), 2)
    failed = [
        r["report"] for r in summary["reports"] if r["status"] not in ("ok", "not_applicable")
    ]
    return {
        "wall_s": round(wall, 2),
        "cpu_s": cpu,
        "cpu_total_s": round(sum(cpu.values()), 2),
        "peak_rss_process_mib": round(max(peak_process.values(), default=0) / 1024, 1),
        "peak_rss_total_mib": round(peak_total / 1024, 1),
        # the largest single process of each kind, and each kind's share of the total peak
        "peak_rss_process_by_kind_mib": {k: round(v, 1) for k, v in peak_by_kind.items()},
        "rss_at_total_peak_by_kind_mib": {k: round(v / 1024, 1) for k, v in at_peak.items()},
        "before_first_notebook_s": (first - run_start).total_seconds(),
        "execute_s": execute,
        "reports_failed": failed,
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def summarise(runs: list[dict]) -> dict:
    """Medians over repeats; per report the median execute time, plus each report's total
    over the units (what the pack spends on it)."""
    reports = sorted({name for run in runs for name in run["execute_s"]})
    per_report = {
        name: _median([r["execute_s"].get(name, float("nan")) for r in runs]) for name in reports
    }
    by_kind: dict[str, float] = {}
    for name, seconds in per_report.items():
        kind = name.split("/", 1)[1]
        by_kind[kind] = round(by_kind.get(kind, 0.0) + seconds, 2)
    kinds = sorted({kind for r in runs for kind in r["cpu_s"]})
    return {
        "wall_s": _median([r["wall_s"] for r in runs]),
        "cpu_total_s": _median([r["cpu_total_s"] for r in runs]),
        "cpu_s": {kind: _median([r["cpu_s"].get(kind, 0.0) for r in runs]) for kind in kinds},
        "peak_rss_process_mib": _median([r["peak_rss_process_mib"] for r in runs]),
        "peak_rss_total_mib": _median([r["peak_rss_total_mib"] for r in runs]),
        "before_first_notebook_s": _median([r["before_first_notebook_s"] for r in runs]),
        "execute_by_report_s": per_report,
        "execute_total_by_report_kind_s": by_kind,
        "runs": runs,
    }


def ratios(by_size: dict[int, dict]) -> dict:
    """Each size against the smallest: wall, CPU and peak memory (none before a version
    has its first run: results are written after every run)."""
    if not by_size:
        return {}
    base = min(by_size)
    out = {}
    for size in sorted(by_size):
        if size == base:
            continue
        key = f"{size}/{base}"
        out[key] = {
            measure: round(by_size[size][measure] / by_size[base][measure], 2)
            for measure in ("wall_s", "cpu_total_s", "peak_rss_process_mib", "peak_rss_total_mib")
            if by_size[base][measure]
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="customers, comma-separated")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--label", default="current", help="name of this checkout's results")
    parser.add_argument("--baseline", type=Path, help="another checkout to run interleaved")
    parser.add_argument("--baseline-label", default="baseline")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    versions: list[tuple[str, Path | None]] = [(args.label, None)]
    if args.baseline is not None:
        versions.append((args.baseline_label, args.baseline.resolve()))
    runs: dict[str, dict[int, list[dict]]] = {label: {} for label, _ in versions}
    samples = {size: sample(args.cache, size, args.seed) for size in sizes}
    for size in sizes:
        for _ in range(args.repeat):
            for label, src in versions:
                result = one_run(samples[size], src, args.jobs)
                runs[label].setdefault(size, []).append(result)
                print(
                    f"{label} {size:>9,} customers: {result['wall_s']:7.1f} s wall, "
                    f"{result['cpu_total_s']:7.1f} CPU-s, peak {result['peak_rss_total_mib']:,.0f} MiB "
                    f"(load {result['load_average_after'][0]:.1f})",
                    flush=True,
                )
                # written after every run, so a long run that is stopped keeps what it measured
                results = write_results(args, sizes, versions, runs)
    print(json.dumps({k: v for k, v in results.items() if k != "versions"}, indent=1))
    for label in results["versions"]:
        print(label, json.dumps(results["versions"][label]["ratios"]))


def write_results(args, sizes, versions, runs) -> dict:
    """Summarise the runs so far and write them to ``args.out``."""
    results: dict = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_end": [round(v, 2) for v in os.getloadavg()],
        },
        "command": f"segreport run --formats html --jobs {args.jobs} --set {PERIOD_TODAY}",
        "sizes": sizes,
        "seed": args.seed,
        "repeat": args.repeat,
        "finished_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "versions": {},
    }
    for label, src in versions:
        by_size = {size: summarise(found) for size, found in runs[label].items()}
        results["versions"][label] = {
            "source": str(src or ROOT),
            "commit": _commit(src or ROOT),
            "by_size": {str(size): value for size, value in by_size.items()},
            "ratios": ratios(by_size),
        }
    if args.baseline is not None and all(runs[label] for label, _ in versions):
        current, base = (results["versions"][label] for label, _ in versions)
        results["current_vs_baseline"] = {
            size: {
                measure: round(
                    current["by_size"][size][measure] / base["by_size"][size][measure], 2
                )
                for measure in ("wall_s", "cpu_total_s", "peak_rss_total_mib")
            }
            for size in current["by_size"]
            if size in base["by_size"]
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    return results


def _commit(folder: Path) -> str | None:
    try:
        return subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


if __name__ == "__main__":
    main()

"""Benchmark: loading the input (``analysis.data.load.load_dataset``: read, map, repair,
validate) against a plain pandas read of the same files, measured in the same run.

Cases:

- ``sample``: the bundled 20k-customer sample as CSV (``data/sample``);
- ``online_retail``: the UCI Online Retail export (``.csv.gz``, one row per invoice line,
  mapped by ``params/examples/online_retail.yaml``);
- ``parquet_100k``: the same at 100k customers (``--out ~/.cache/segreport-bench/100k``);
- ``parquet_1m``: a 1M-customer sample as Parquet (``segreport sample --customers 1000000
  --format parquet --out ~/.cache/segreport-bench/1m``; 12.86M orders).

Every measurement runs in a fresh subprocess, so its peak RSS (``ru_maxrss``) is its own.
``load`` is ``load_dataset`` on the case's parameters; ``baseline`` is ``pandas.read_csv`` /
``pandas.read_parquet`` of the same files with default options (no repair, no validation).
The median of ``--repeat`` runs is reported (wall seconds, and the CPU-seconds of the
process, threads included: on a shared host the CPU-seconds are the steadier figure),
with the ratios load / baseline. ``--src``
points the load measurement at another source tree (say an older checkout's ``src``), to
measure a before/after pair on the same host in the same hour.

Usage::

    .venv/bin/python benchmarks/bench_load.py [--case sample --case online_retail ...]
        [--repeat 3] [--src /tmp/old/src] [--label before] [--out results/load.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "load.json"
CASES = {
    "sample": {"data_dir": ROOT / "data" / "sample", "params_file": None},
    "online_retail": {
        "data_dir": Path("/work/shared/datasets"),
        "params_file": ROOT / "params" / "examples" / "online_retail.yaml",
    },
    "parquet_100k": {
        "data_dir": Path.home() / ".cache" / "segreport-bench" / "100k",
        "params_file": None,
    },
    "parquet_1m": {
        "data_dir": Path.home() / ".cache" / "segreport-bench" / "1m",
        "params_file": None,
    },
}

CHILD = r"""
import json, resource, sys, time
mode, data_dir, params_file = sys.argv[1], sys.argv[2], sys.argv[3] or None
t0 = time.perf_counter()
if mode == "load":
    from analysis.config import load_params
    from analysis.data.load import load_dataset, resolve_files
    from pathlib import Path
    params = load_params(params_file=params_file, overrides={"data_dir": data_dir})
    t0, c0 = time.perf_counter(), time.process_time()
    data = load_dataset(params)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows = {t: len(f) for t, f in data.tables().items() if f is not None}
    repairs = sum(r.rows for r in data.quality.repairs)
else:
    import pandas as pd
    from analysis.config import load_params
    from analysis.data.load import resolve_files
    from pathlib import Path
    params = load_params(params_file=params_file, overrides={"data_dir": data_dir})
    files = [p for p, _ in resolve_files(params, Path(data_dir)).values() if p is not None]
    t0, c0 = time.perf_counter(), time.process_time()
    rows = {}
    for path in files:
        name = path.name.lower()
        frame = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path)
        rows[path.name] = len(frame)
        del frame
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    repairs = None
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak, "rows": rows,
                  "repairs": repairs}))
"""


def measure(mode: str, case: str, src: str | None) -> dict:
    spec = CASES[case]
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    args = [
        sys.executable,
        "-c",
        CHILD,
        mode,
        str(spec["data_dir"]),
        str(spec["params_file"] or ""),
    ]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{case}/{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_case(case: str, repeat: int, src: str | None) -> dict:
    runs: dict[str, list[dict]] = {"load": [], "baseline": []}
    for _ in range(repeat):  # interleaved, so both see the same load on the host
        for mode in runs:
            runs[mode].append(measure(mode, case, src))
    out = {"case": case}
    for mode, results in runs.items():
        out[mode] = {
            "median_seconds": round(statistics.median(r["seconds"] for r in results), 2),
            "runs_seconds": [round(r["seconds"], 2) for r in results],
            "median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in results), 2),
            "median_peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in results)),
            "rows": results[0]["rows"],
        }
    out["load"]["repaired_rows"] = runs["load"][0]["repairs"]
    out["ratio_load_to_baseline"] = round(
        out["load"]["median_seconds"] / max(out["baseline"]["median_seconds"], 1e-9), 2
    )
    out["cpu_ratio_load_to_baseline"] = round(
        out["load"]["median_cpu_seconds"] / max(out["baseline"]["median_cpu_seconds"], 1e-9), 2
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--src", help="source tree to load with (default: the installed one)")
    parser.add_argument("--label", default="now", help="name of this measurement in the JSON")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    cases = args.case or list(CASES)
    results = {}
    for case in cases:
        if not Path(CASES[case]["data_dir"]).is_dir():
            print(f"skipped {case}: {CASES[case]['data_dir']} does not exist")
            continue
        results[case] = run_case(case, args.repeat, args.src)
        r = results[case]
        print(
            f"{case:14s} load {r['load']['median_seconds']:7.2f} s "
            f"({r['load']['median_cpu_seconds']:.1f} CPU-s) "
            f"{r['load']['median_peak_rss_mb']:6d} MB | baseline "
            f"{r['baseline']['median_seconds']:7.2f} s ({r['baseline']['median_cpu_seconds']:.1f}"
            f" CPU-s) {r['baseline']['median_peak_rss_mb']:6d} MB"
            f" | ratio {r['ratio_load_to_baseline']:.2f}",
            flush=True,
        )
    stored = json.loads(args.out.read_text()) if args.out.is_file() else {}
    stored[args.label] = {
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "repeat": args.repeat,
        "src": args.src or "installed",
        "cases": {**stored.get(args.label, {}).get("cases", {}), **results},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(stored, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()

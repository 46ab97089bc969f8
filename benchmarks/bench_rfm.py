"""Benchmark: RFM summary of 10M orders / 1M customers from Parquet.

Compares, each in its own subprocess (so peak memory, ``ru_maxrss``, is per method):

* ``ours``      - ``analysis.value.rfm_summary(path, end)`` -> pandas DataFrame
* ``floor``     - one hand-written DuckDB query over the file, fetched as an Arrow table
* ``floor_tuned`` - the same query with the DuckDB settings ``analysis.value`` uses
* ``pandas``    - read the three columns with pandas, then two groupbys
* ``lifetimes`` - read with pandas, then ``lifetimes.utils.summary_data_from_transaction_data``
* ``bgnbd``     - ``BetaGeoModel().fit`` on the resulting 1M-customer summary

Times are the median of ``--repeat`` runs inside the subprocess (lifetimes: one run). The
data are generated once (numpy, seeded) into ``benchmarks/out/`` (git-ignored) and reused.
Results go to ``benchmarks/results/rfm.json`` and a small table is printed.

Usage::

    PYTHONPATH=src python benchmarks/bench_rfm.py [--orders 10000000 --customers 1000000]
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
RESULTS = HERE / "results" / "rfm.json"
END = "2024-12-31"
GOAL_RATIO, GOAL_MB = 1.3, 1024

# The floor: the query an expert would write by hand for the same result (same columns,
# same order), with no Python around it.
FLOOR_SQL = """
WITH days AS (
    SELECT customer_id, CAST(order_date AS DATE) AS d, SUM(amount) AS v
    FROM read_parquet('{path}')
    WHERE CAST(order_date AS DATE) <= DATE '{end}'
    GROUP BY 1, 2
)
SELECT customer_id,
       COUNT(*) - 1 AS frequency,
       date_diff('day', MIN(d), MAX(d)) AS recency,
       date_diff('day', MIN(d), DATE '{end}') AS "T",
       CASE WHEN COUNT(*) > 1 THEN (SUM(v) - arg_min(v, d)) / (COUNT(*) - 1) ELSE 0 END
           AS monetary_value
FROM days
GROUP BY customer_id
ORDER BY customer_id
"""


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def generate(path: Path, n_orders: int, n_customers: int, seed: int = 42) -> None:
    """Write a synthetic orders file shaped like a retailer's: customers arrive over three
    years and stay for an exponential time (mean 18 months), with heavy-tailed purchase
    rates; orders fall at random times of day in each customer's active span, 3% are
    refunds, and there are columns the RFM summary does not need."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    day = 86_400
    horizon = 3 * 365 * day
    arrive = rng.integers(0, horizon, n_customers)
    stay = rng.exponential(1.5 * 365 * day, n_customers).astype("int64")
    span = np.minimum(arrive + stay, horizon) - arrive
    weights = rng.lognormal(0.0, 1.0, n_customers) * (1 + span / day) ** 0.5
    cdf = np.cumsum(weights) / weights.sum()
    ids = pa.array([f"C{i:07d}" for i in range(n_customers)], pa.string())
    units = pa.array(["north", "south", "east", "west", "online"])
    categories = pa.array(["books", "music", "video", "games", "toys", "garden", "food"])
    start = np.datetime64("2022-01-01T00:00:00", "s")
    tmp = path.with_suffix(".tmp")
    chunk = 1_000_000
    writer = None
    try:
        for lo in range(0, n_orders, chunk):
            n = min(chunk, n_orders - lo)
            cust = np.searchsorted(cdf, rng.random(n)).clip(0, n_customers - 1)
            offset = (rng.random(n) * span[cust]).astype("int64")
            # the first n_customers orders are every customer's first purchase
            position = np.arange(lo, lo + n)
            first = position < n_customers
            cust[first] = position[first]
            offset[first] = 0
            when = start + (arrive[cust] + offset).astype("timedelta64[s]")
            amount = np.round(rng.lognormal(3.5, 0.9, n), 2)
            refund = rng.random(n) < 0.03
            amount[refund] *= -1
            table = pa.table(
                {
                    "order_id": pa.array([f"O{i:09d}" for i in range(lo, lo + n)], pa.string()),
                    "customer_id": ids.take(pa.array(cust)),
                    "order_date": pa.array(when.astype("datetime64[us]")),
                    "amount": pa.array(amount),
                    "business_unit": units.take(pa.array(rng.integers(0, len(units), n))),
                    "product_category": categories.take(
                        pa.array(rng.integers(0, len(categories), n))
                    ),
                    "quantity": pa.array(rng.integers(1, 5, n)),
                }
            )
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=chunk)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(path)


def dataset(n_orders: int, n_customers: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"orders_{n_orders}_{n_customers}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        print(f"generating {path.name} ...", flush=True)
        # In a subprocess: the parent stays small, so its size cannot leak into the
        # children's memory figures.
        code = "import sys; sys.path.insert(0, sys.argv[1]); import bench_rfm, pathlib;"
        code += "bench_rfm.generate(pathlib.Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))"
        args = [str(HERE), str(path), str(n_orders), str(n_customers)]
        subprocess.run([sys.executable, "-c", code, *args], check=True)
        print(f"  done in {time.perf_counter() - t0:.1f}s", flush=True)
    return path


# --------------------------------------------------------------------------------------
# Methods (run inside a subprocess)
# --------------------------------------------------------------------------------------


def method_ours(path: str):
    from analysis.value import rfm_summary

    return rfm_summary(path, END)


def method_floor(path: str):
    import duckdb

    con = duckdb.connect()
    try:
        return con.sql(FLOOR_SQL.format(path=path, end=END)).to_arrow_table()
    finally:
        con.close()


def method_floor_tuned(path: str):
    """The floor query with the settings ``analysis.value`` uses (memory cap, no insertion
    order): separates the engine settings from our own overhead."""
    import tempfile

    import duckdb

    from analysis.value import DUCKDB_CONFIG

    with tempfile.TemporaryDirectory() as spill:
        con = duckdb.connect(config={**DUCKDB_CONFIG, "temp_directory": spill})
        try:
            return con.sql(FLOOR_SQL.format(path=path, end=END)).to_arrow_table()
        finally:
            con.close()


def method_pandas(path: str):
    import pandas as pd

    orders = pd.read_parquet(path, columns=["customer_id", "order_date", "amount"])
    orders = orders[orders["order_date"] < pd.Timestamp(END) + pd.Timedelta(days=1)]
    days = (
        orders.assign(d=orders["order_date"].dt.normalize())
        .groupby(["customer_id", "d"], sort=True)["amount"]
        .sum()
        .reset_index()
    )
    g = days.groupby("customer_id", sort=True)  # days are sorted: first() = first day
    out = g["d"].agg(["min", "max", "count"])
    total = g["amount"].sum()
    first = g["amount"].first()
    frequency = out["count"] - 1
    return pd.DataFrame(
        {
            "frequency": frequency.astype(float),
            "recency": (out["max"] - out["min"]).dt.days.astype(float),
            "T": (pd.Timestamp(END) - out["min"]).dt.days.astype(float),
            "monetary_value": ((total - first) / frequency.where(frequency > 0)).fillna(0.0),
        }
    )


def method_lifetimes(path: str):
    import warnings

    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    orders = pd.read_parquet(path, columns=["customer_id", "order_date", "amount"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return summary_data_from_transaction_data(
            orders, "customer_id", "order_date", "amount", observation_period_end=END
        )


METHODS = {
    "ours": method_ours,
    "floor": method_floor,
    "floor_tuned": method_floor_tuned,
    "pandas": method_pandas,
    "lifetimes": method_lifetimes,
}


def peak_memory_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM belongs to the process image, so
    unlike ``ru_maxrss`` it does not inherit the parent's size across fork + exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_child(method: str, path: str, repeat: int) -> dict:
    times = []
    extra: dict = {}
    if method == "bgnbd":
        from analysis.clv import BetaGeoModel
        from analysis.value import rfm_summary

        summary = rfm_summary(path, END)
        extra["n_customers"] = len(summary)
        extra["n_distinct_rows"] = int(
            summary[["frequency", "recency", "T"]].drop_duplicates().shape[0]
        )
        for _ in range(repeat):
            t0 = time.perf_counter()
            model = BetaGeoModel().fit(summary)
            times.append(time.perf_counter() - t0)
        extra["params"] = {k: round(v, 6) for k, v in model.params_.items()}
    else:
        fn = METHODS[method]
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = fn(path)
            times.append(time.perf_counter() - t0)
            extra["rows"] = int(result.num_rows if hasattr(result, "num_rows") else len(result))
            del result
    return {
        "method": method,
        "runs": repeat,
        "times_s": [round(t, 3) for t in times],
        "median_s": round(statistics.median(times), 3),
        "peak_mb": peak_memory_mb(),
        **extra,
    }


def run_in_subprocess(method: str, path: Path, repeat: int) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        method,
        "--path",
        str(path),
        "--repeat",
        str(repeat),
    ]
    env = dict(os.environ)
    src = str(HERE.parent / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"method": method, "error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def combine(method: str, runs: list[dict]) -> dict:
    """Merge single-run results: median time, largest peak memory."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    times = [r["times_s"][0] for r in runs]
    return {
        "method": method,
        "runs": len(runs),
        "times_s": times,
        "median_s": round(statistics.median(times), 3),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "rows": runs[0].get("rows"),
    }


def environment() -> dict:
    """Versions, and the peak memory of a child that only imports analysis.value (pandas,
    pyarrow, duckdb): the part of every figure that is not the computation."""
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1]); import bench_rfm, analysis.value;"
        "import duckdb, numpy, pandas;"
        "print(json.dumps({'duckdb': duckdb.__version__, 'pandas': pandas.__version__,"
        "'numpy': numpy.__version__, 'baseline_import_mb': bench_rfm.peak_memory_mb()}))"
    )
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
    out = subprocess.run(
        [sys.executable, "-c", code, str(HERE)], capture_output=True, text=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-lifetimes", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.path, args.repeat)))
        return

    path = dataset(args.orders, args.customers)
    # Rounds interleave the methods, one run per subprocess, so a busy neighbour on a shared
    # machine slows all of them alike; each method's time is the median over the rounds and
    # its peak memory the largest seen.
    methods = ["floor", "floor_tuned", "ours", "pandas"]
    runs: dict[str, list[dict]] = {m: [] for m in methods}
    for round_no in range(1, args.repeat + 1):
        for method in methods:
            print(f"round {round_no}: {method} ...", flush=True)
            runs[method].append(run_in_subprocess(method, path, 1))
    results = {m: combine(m, r) for m, r in runs.items()}
    if not args.skip_lifetimes:
        print("lifetimes (once) ...", flush=True)
        results["lifetimes"] = run_in_subprocess("lifetimes", path, 1)
    print(f"bgnbd fit x{args.repeat} ...", flush=True)
    results["bgnbd"] = run_in_subprocess("bgnbd", path, args.repeat)
    floor = results["floor"].get("median_s")
    for res in results.values():
        if floor and "median_s" in res and res["method"] != "bgnbd":
            res["vs_floor"] = round(res["median_s"] / floor, 2)
    ours = results["ours"]
    report = {
        "benchmark": "rfm_summary",
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "data": {
            "orders": args.orders,
            "customers": args.customers,
            "file_mb": round(path.stat().st_size / 2**20, 1),
            "observation_end": END,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            **environment(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "goal": {
            "max_ratio_vs_floor": GOAL_RATIO,
            "max_peak_mb": GOAL_MB,
            "ratio": ours.get("vs_floor"),
            "peak_mb": ours.get("peak_mb"),
            "met": bool(
                ours.get("vs_floor") is not None
                and ours["vs_floor"] <= GOAL_RATIO
                and ours["peak_mb"] <= GOAL_MB
            ),
        },
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    print(f"\n{args.orders:,} orders, {args.customers:,} customers, {report['data']['file_mb']} MB")
    print(f"{'method':<10} {'median s':>9} {'vs floor':>9} {'peak MB':>9}")
    for res in results.values():
        if "error" in res:
            print(f"{res['method']:<10} failed: {res['error']}")
            continue
        ratio = f"{res['vs_floor']:.2f}x" if "vs_floor" in res else ""
        print(f"{res['method']:<10} {res['median_s']:>9.2f} {ratio:>9} {res['peak_mb']:>9.0f}")
    goal = report["goal"]
    print(
        f"goal <= {GOAL_RATIO}x floor and <= {GOAL_MB} MB: "
        f"{'met' if goal['met'] else 'NOT met'} ({goal['ratio']}x, {goal['peak_mb']} MB)"
    )


if __name__ == "__main__":
    main()

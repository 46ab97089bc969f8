"""Benchmark: customer features from 10M orders, and segmentation of 1M customers.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_segmentation.py            # full size, 3 runs
    PYTHONPATH=src python benchmarks/bench_segmentation.py --quick    # small smoke run

Parts
-----
1. ``features``: :func:`analysis.features.customer_features` on seeded synthetic Parquet
   files (orders, customers, surveys, interactions) written once to ``benchmarks/out/``
   (git-ignored).
2. ``segmentation``: :class:`analysis.segmentation.SegmentationModel` with k chosen over
   2..10 on 1M customers x 10 features (a planted 6-cluster mixture, so the chosen k and
   the recovery can be checked), default parameters, 20 bootstrap refits included.
   Baselines in the same run: the naive loop (9 full-data KMeans fits + silhouette on a
   20k sample for each k) and one plain KMeans fit.
3. ``sensitivity``: the chosen k for other silhouette / selection sample sizes.

Each timed case is run ``--repeats`` times; medians go to
``benchmarks/results/segmentation.json`` and a table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import adjusted_rand_score, silhouette_score  # noqa: E402

from analysis.features import customer_features  # noqa: E402
from analysis.segmentation import SegmentationModel  # noqa: E402

AS_OF = "2026-01-01"
START = np.datetime64("2020-01-01")
END = np.datetime64("2025-12-31")
CATEGORIES = ["electronics", "home", "fashion", "grocery", "beauty", "sports", "toys", "books"]
CHANNELS = ["store", "web", "app", "phone"]
# planted behaviour groups: share, mean orders, log order value, discount share, return p
GROUPS = [
    (0.08, 40.0, 5.3, 0.04, 0.01),
    (0.22, 14.0, 4.2, 0.08, 0.02),
    (0.25, 8.0, 3.6, 0.40, 0.07),
    (0.15, 2.5, 6.4, 0.08, 0.03),
    (0.15, 1.5, 4.1, 0.15, 0.03),
    (0.15, 9.0, 4.3, 0.14, 0.03),
]


# ----------------------------------------------------------------------------- data
def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    text = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def _dictionary(codes: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(values))


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row from row-specific probabilities (vectorised)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return (u > cum).sum(axis=1)


def generate_orders(out: Path, n_orders: int, n_customers: int, seed: int = 7) -> dict[str, Path]:
    """Write seeded synthetic orders / customers / surveys / interactions as Parquet."""
    tag = f"{n_orders}_{n_customers}_{seed}"
    paths = {
        name: out / f"{name}_{tag}.parquet"
        for name in ("orders", "customers", "surveys", "interactions")
    }
    if all(p.exists() for p in paths.values()):
        return paths
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shares = np.array([g[0] for g in GROUPS])
    group = rng.choice(len(GROUPS), size=n_customers, p=shares / shares.sum())
    mean_orders = np.array([g[1] for g in GROUPS])[group]
    mean_orders *= n_orders / (mean_orders.sum() * 1.0)  # hit the requested size on average
    counts = 1 + rng.poisson(np.maximum(mean_orders - 1, 0.01))
    span_days = int((END - START).astype(int))
    first = rng.integers(0, span_days - 30, size=n_customers)
    signup = first - rng.integers(0, 200, size=n_customers)
    cust = np.repeat(np.arange(n_customers), counts)
    n = len(cust)
    day = first[cust] + (rng.random(n) * (span_days - first[cust])).astype(np.int64)
    g = group[cust]
    amount = np.exp(np.array([x[2] for x in GROUPS])[g] + rng.normal(0, 0.5, size=n)).round(2)
    discount = (amount * np.array([x[3] for x in GROUPS])[g] * rng.uniform(0.5, 1.5, size=n)).round(
        2
    )
    cat_pref = rng.dirichlet(np.ones(len(CATEGORIES)), size=len(GROUPS)) * 5 + 0.2
    ch_pref = rng.dirichlet(np.ones(len(CHANNELS)), size=len(GROUPS)) * 5 + 0.2
    category = _pick(rng, cat_pref[g])
    channel = _pick(rng, ch_pref[g])
    returned = rng.random(n) < np.array([x[4] for x in GROUPS])[g]
    # refund rows: negative share of the original amount, a few days later
    r_idx = np.flatnonzero(returned)
    order_no = np.arange(n)
    all_cust = np.concatenate([cust, cust[r_idx]])
    all_day = np.concatenate(
        [day, np.minimum(day[r_idx] + rng.integers(1, 20, len(r_idx)), span_days)]
    )
    all_amount = np.concatenate(
        [amount, -(amount[r_idx] * rng.uniform(0.3, 1, len(r_idx))).round(2)]
    )
    all_discount = np.concatenate([discount, np.zeros(len(r_idx))])
    all_cat = np.concatenate([category, category[r_idx]])
    all_ch = np.concatenate([channel, channel[r_idx]])
    status = np.concatenate([np.zeros(n, np.int32), np.ones(len(r_idx), np.int32)])
    all_order = np.concatenate([order_no, order_no[r_idx]])
    ts = (START + all_day.astype("timedelta64[D]")).astype("datetime64[ms]") + (
        rng.integers(8 * 3600, 22 * 3600, len(all_day)) * 1000
    ).astype("timedelta64[ms]")
    table = pa.table(
        {
            "order_id": _ids("O", all_order, 9),
            "customer_id": _ids("C", all_cust, 7),
            "order_date": pa.array(ts),
            "amount": all_amount,
            "business_unit": _dictionary(np.zeros(len(all_cust)), ["retail"]),
            "product_category": _dictionary(all_cat, CATEGORIES),
            "channel": _dictionary(all_ch, CHANNELS),
            "discount": all_discount,
            "status": _dictionary(status, ["completed", "returned"]),
        }
    )
    pq.write_table(table, paths["orders"], row_group_size=1 << 20)
    pq.write_table(
        pa.table(
            {
                "customer_id": _ids("C", np.arange(n_customers), 7),
                "business_unit": _dictionary(np.zeros(n_customers), ["retail"]),
                "signup_date": pa.array(
                    (START + signup.astype("timedelta64[D]")).astype("datetime64[ms]")
                ),
            }
        ),
        paths["customers"],
    )
    m = n_customers // 3
    who = rng.integers(0, n_customers, m)
    pq.write_table(
        pa.table(
            {
                "response_id": _ids("S", np.arange(m), 8),
                "response_date": pa.array(
                    (START + rng.integers(0, span_days, m).astype("timedelta64[D]")).astype(
                        "datetime64[ms]"
                    )
                ),
                "business_unit": _dictionary(np.zeros(m), ["retail"]),
                "customer_id": _ids("C", who, 7),
                "csat": rng.integers(1, 6, m),
            }
        ),
        paths["surveys"],
    )
    q = n_customers
    pq.write_table(
        pa.table(
            {
                "interaction_id": _ids("I", np.arange(q), 8),
                "customer_id": _ids("C", rng.integers(0, n_customers, q), 7),
                "business_unit": _dictionary(np.zeros(q), ["retail"]),
                "date": pa.array(
                    (START + rng.integers(0, span_days, q).astype("timedelta64[D]")).astype(
                        "datetime64[ms]"
                    )
                ),
                "type": _dictionary(rng.integers(0, 3, q), ["complaint", "inquiry", "call"]),
            }
        ),
        paths["interactions"],
    )
    return paths


def planted_matrix(n: int, d: int = 10, seed: int = 11) -> tuple[pd.DataFrame, np.ndarray]:
    """n x d Gaussian mixture with 6 clusters of unequal size (smallest 6%)."""
    rng = np.random.default_rng(seed)
    shares = np.array([0.30, 0.22, 0.16, 0.14, 0.12, 0.06])
    truth = rng.choice(6, size=n, p=shares)
    centers = rng.normal(0, 3.0, size=(6, d))
    X = centers[truth] + rng.normal(size=(n, d))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(d)])
    frame["monetary"] = np.exp(5 + 0.4 * centers[truth, 0] + 0.3 * rng.normal(size=n))
    return frame, truth


# ----------------------------------------------------------------------------- timing
def timed(fn, repeats: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def naive_loop(X: np.ndarray, ks: range, seed: int = 0) -> dict[int, float]:
    """The loop an analyst writes first: full-data KMeans and sampled silhouette per k."""
    scores = {}
    for k in ks:
        labels = KMeans(n_clusters=k, random_state=seed).fit_predict(X)
        scores[k] = float(silhouette_score(X, labels, sample_size=20_000, random_state=seed))
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="200k orders / 20k customers, 1 run")
    parser.add_argument("--skip-naive", action="store_true", help="skip the slow naive baseline")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument(
        "--results", type=Path, default=ROOT / "benchmarks" / "results" / "segmentation.json"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.orders, args.customers, args.repeats = 200_000, 20_000, 1
    ks = range(2, 11)
    cases: dict[str, dict] = {}

    print(f"generating / reusing data in {args.out} ...", flush=True)
    t0 = time.perf_counter()
    paths = generate_orders(args.out, args.orders, args.customers)
    n_rows = pq.ParquetFile(paths["orders"]).metadata.num_rows
    print(f"  {n_rows:,} order rows ready in {time.perf_counter() - t0:.1f}s", flush=True)

    # 1. features from Parquet
    def build():
        return customer_features(
            paths["orders"],
            AS_OF,
            customers=paths["customers"],
            surveys=paths["surveys"],
            interactions=paths["interactions"],
        )

    med, runs, feats = timed(build, args.repeats)
    cases["features_from_parquet"] = {
        "median_s": med,
        "runs_s": runs,
        "order_rows": n_rows,
        "customers": len(feats),
        "columns": len(feats.columns),
    }
    print(
        f"features: {len(feats):,} customers x {len(feats.columns)} columns, median {med:.2f}s",
        flush=True,
    )

    # 2. segmentation with k selection on n x 10
    frame, truth = planted_matrix(args.customers)
    cols = [c for c in frame.columns if c.startswith("x")]
    X = frame[cols].to_numpy()

    def ours():
        return SegmentationModel(features=cols, k_range=(2, 10), random_state=0).fit(frame)

    med, runs, model = timed(ours, args.repeats)
    cases["segmentation_k_selection"] = {
        "median_s": med,
        "runs_s": runs,
        "customers": len(frame),
        "features": len(cols),
        "chosen_k": model.k_,
        "ari_vs_planted": adjusted_rand_score(truth, model.labels_),
        "mean_bootstrap_ari": model.stability_.mean_ari,
        "meaningful": model.meaningful_,
        "method": model.method_,
        "phases_s_last_run": model.timings_,
        "k_scores": model.k_scores_.reset_index().to_dict(orient="records"),
        "params": {
            k: v
            for k, v in model.get_params().items()
            if k
            in (
                "selection_sample",
                "silhouette_sample",
                "n_init",
                "n_bootstrap",
                "large_data_threshold",
            )
        },
    }
    print(
        f"segmentation: k={model.k_} ARI={cases['segmentation_k_selection']['ari_vs_planted']:.3f} "
        f"median {med:.2f}s phases {model.timings_}",
        flush=True,
    )

    def ours_no_bootstrap():
        return SegmentationModel(features=cols, n_bootstrap=0, random_state=0).fit(frame)

    med, runs, m0 = timed(ours_no_bootstrap, args.repeats)
    cases["segmentation_k_selection_no_bootstrap"] = {
        "median_s": med,
        "runs_s": runs,
        "chosen_k": m0.k_,
    }

    med, runs, km = timed(lambda: KMeans(n_clusters=model.k_, random_state=0).fit(X), args.repeats)
    cases["plain_kmeans_single_fit"] = {
        "median_s": med,
        "runs_s": runs,
        "k": model.k_,
        "ari_vs_planted": adjusted_rand_score(truth, km.labels_),
    }
    print(f"plain KMeans k={model.k_}: median {med:.2f}s", flush=True)

    if not args.skip_naive:
        med, runs, scores = timed(lambda: naive_loop(X, ks), args.repeats)
        cases["naive_loop_baseline"] = {
            "median_s": med,
            "runs_s": runs,
            "silhouette_by_k": scores,
            "chosen_k_max_silhouette": max(scores, key=scores.get),
        }
        print(
            f"naive loop: median {med:.2f}s, best silhouette k={cases['naive_loop_baseline']['chosen_k_max_silhouette']}",
            flush=True,
        )

    # 3. sensitivity of the chosen k to the sample sizes (one run each)
    sensitivity = []
    for selection, sil in [
        (20_000, 2_000),
        (20_000, 5_000),
        (50_000, 5_000),
        (50_000, 10_000),
        (50_000, 20_000),
        (100_000, 10_000),
    ]:
        selection = min(selection, len(frame))
        t0 = time.perf_counter()
        m = SegmentationModel(
            features=cols,
            selection_sample=selection,
            silhouette_sample=sil,
            n_bootstrap=0,
            random_state=0,
        ).fit(frame)
        sensitivity.append(
            {
                "selection_sample": selection,
                "silhouette_sample": sil,
                "chosen_k": m.k_,
                "best_silhouette_k": int(m.k_scores_["silhouette"].idxmax()),
                "seconds": time.perf_counter() - t0,
            }
        )
        print(
            f"  selection {selection:>7,} silhouette {sil:>6,}: k={m.k_} ({sensitivity[-1]['seconds']:.1f}s)",
            flush=True,
        )

    result = {
        "benchmark": "segmentation",
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "sklearn": sklearn.__version__,
            "duckdb": duckdb.__version__,
            "load_average_at_end": os.getloadavg(),
        },
        "repeats": args.repeats,
        "goal_s": 20.0,
        "cases": cases,
        "sensitivity": sensitivity,
    }
    if not args.quick:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(
            json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8"
        )

    print()
    print(f"{'case':42s} {'median s':>9s}  {'runs':s}")
    for name, case in cases.items():
        runs = ", ".join(f"{r:.2f}" for r in case["runs_s"])
        print(f"{name:42s} {case['median_s']:9.2f}  [{runs}]")
    if not args.quick:
        print(f"\nwritten to {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

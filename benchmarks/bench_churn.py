"""Benchmark: fitting the churn models on 200k customers and scoring 1M customers.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_churn.py            # full size, 3 runs
    PYTHONPATH=src python benchmarks/bench_churn.py --quick    # small smoke run

Cases (customer-level frames shaped like :func:`analysis.churn.churn_frame` output: RFM,
tenure, order value, category and channel shares, discount share, return rate,
complaints, satisfaction with 75% missing, customer type and region; the churn label is
drawn from a planted logistic model, seeded):

1. ``fit_cause_model``: :func:`analysis.churn.churn_drivers` on the cause-model features
   (two statsmodels fits: all rows for the odds ratios, 75% for the held-out AUC).
2. ``fit_risk_model``: :class:`analysis.churn.ChurnRiskModel` (gradient boosting, one
   thread as in report runs) on every column.
3. ``evaluate_risk_model``: AUC, calibration, gains, permutation importance and partial
   dependence on 200k held-out customers.
4. ``score``: the early-warning list of 1M customers - churn probability from the risk
   model, per-customer contributions and top-3 reasons in words from the cause model,
   value at risk, actions, sorted. ``score_predict_only`` times the probabilities alone.

Each case runs ``--repeats`` times; medians go to ``benchmarks/results/churn.json`` and a
table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
import statsmodels  # noqa: E402

from analysis import churn  # noqa: E402

CATEGORIES = ["electronics", "home", "fashion", "grocery", "beauty", "sports"]
CHANNELS = ["store", "web", "app", "phone"]
TYPES = ["individual", "enterprise", "government", "institution"]
REGIONS = ["north", "south", "east", "west", "central"]


def customers(n: int, seed: int) -> pd.DataFrame:
    """A churn frame of ``n`` customers with a planted churn model (seeded)."""
    rng = np.random.default_rng(seed)
    frequency = rng.negative_binomial(2, 0.15, n) + 1
    tenure = rng.integers(30, 2200, n)
    aov = np.exp(rng.normal(4.3, 0.6, n))
    discount = rng.beta(1.5, 6.0, n)
    returns = rng.beta(0.6, 20.0, n)
    complaints = rng.poisson(0.8, n)
    satisfaction = np.clip(np.round(rng.normal(3.9, 0.8, n)), 1, 5)
    satisfaction[rng.random(n) < 0.75] = np.nan
    recency = rng.integers(0, 365, n)
    ctype = rng.choice(TYPES, n, p=[0.7, 0.2, 0.05, 0.05])
    z = lambda x: (x - np.nanmean(x)) / np.nanstd(x)  # noqa: E731
    lin = (
        -0.2
        + 1.0 * z(complaints)
        - 0.9 * z(np.log(frequency))
        - 0.4 * z(tenure)
        + 0.3 * z(discount)
        - 0.3 * np.nan_to_num(z(satisfaction))
        + 0.8 * z(recency)
        + 0.3 * (ctype == "institution")
    )
    churned = rng.random(n) < 1 / (1 + np.exp(-lin))
    cat = rng.dirichlet(np.ones(len(CATEGORIES)), n)
    chan = rng.dirichlet(np.ones(len(CHANNELS)), n)
    frame = pd.DataFrame(
        {
            "recency_days": recency,
            "frequency": frequency,
            "monetary": frequency * aov,
            "log_recency": np.log1p(recency),
            "log_frequency": np.log1p(frequency),
            "log_monetary": np.log1p(frequency * aov),
            "tenure_days": tenure,
            "avg_order_value": aov,
            "log_avg_order_value": np.log1p(aov),
            **{f"share_cat_{c}": cat[:, i] for i, c in enumerate(CATEGORIES)},
            **{f"share_ch_{c}": chan[:, i] for i, c in enumerate(CHANNELS)},
            "discount_share": discount,
            "return_rate": returns,
            "complaints": complaints,
            "satisfaction": satisfaction,
            "customer_type": ctype,
            "region": rng.choice(REGIONS, n),
            "churned": churned,
        },
        index=pd.Index([f"C{i:08d}" for i in range(n)], name="customer_id"),
    )
    return frame


def timed(fn, repeats: int) -> tuple[float, list[float], object]:
    runs, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), runs, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fit-customers", type=int, default=200_000)
    parser.add_argument("--score-customers", type=int, default=1_000_000)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "churn.json"))
    args = parser.parse_args()
    if args.quick:
        args.fit_customers, args.score_customers, args.repeats = 20_000, 100_000, 1

    train = customers(args.fit_customers, seed=1)
    test = customers(args.fit_customers, seed=2)
    score = customers(args.score_customers, seed=3).drop(columns="churned")
    features = [f for f in churn.DRIVER_FEATURES if f in train.columns]
    columns = [c for c in train.columns if c != "churned"]
    value = pd.Series(
        np.random.default_rng(4).gamma(2.0, 300.0, len(score)),
        index=score.index.astype("string"),
    )
    stages = pd.Series(
        np.random.default_rng(5).choice(["active", "loyal", "at_risk", "lapsed"], len(score)),
        index=score.index.astype("string"),
    )
    cases: dict[str, dict] = {}

    median, runs, drivers = timed(
        lambda: churn.churn_drivers(train, "churned", features), args.repeats
    )
    cases["fit_cause_model"] = {
        "median_s": median,
        "runs_s": runs,
        "customers": len(train),
        "terms": len(drivers.odds_ratios),
        "holdout_auc": round(drivers.auc_, 4),
    }
    median, runs, model = timed(
        lambda: churn.ChurnRiskModel().fit(train[columns], train["churned"]), args.repeats
    )
    cases["fit_risk_model"] = {
        "median_s": median,
        "runs_s": runs,
        "customers": len(train),
        "features": len(columns),
        "n_threads": model.n_threads,
    }
    median, runs, evaluation = timed(
        lambda: churn.evaluate_risk_model(model, test[columns], test["churned"]), args.repeats
    )
    cases["evaluate_risk_model"] = {
        "median_s": median,
        "runs_s": runs,
        "customers": len(test),
        "auc": round(evaluation.auc_, 4),
        "top_decile_lift": round(evaluation.top_decile_lift_, 3),
    }
    median, runs, _ = timed(lambda: model.predict_proba(score), args.repeats)
    cases["score_predict_only"] = {"median_s": median, "runs_s": runs, "customers": len(score)}

    def early_warning():
        p = model.predict_proba(score)
        return churn.early_warning_list(score, p, value, drivers, stages=stages)

    median, runs, table = timed(early_warning, args.repeats)
    cases["score"] = {
        "median_s": median,
        "runs_s": runs,
        "customers": len(score),
        "with_reasons": int((table["reason_1"] != "").sum()),
    }

    result = {
        "benchmark": "churn",
        "generated_at": datetime.now().replace(microsecond=0).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "sklearn": sklearn.__version__,
            "statsmodels": statsmodels.__version__,
            "load_average_at_end": list(os.getloadavg()),
        },
        "repeats": args.repeats,
        "quick": args.quick,
        "cases": cases,
    }
    if not args.quick:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{'case':<22} {'customers':>10} {'median s':>9}  runs")
    for name, case in cases.items():
        shown = ", ".join(f"{r:.2f}" for r in case["runs_s"])
        print(f"{name:<22} {case['customers']:>10,} {case['median_s']:>9.2f}  [{shown}]")


if __name__ == "__main__":
    main()

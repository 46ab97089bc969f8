"""Benchmark: the next-best category against the popularity baseline on held-out purchases.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_recommend.py           # sample + Online Retail
    PYTHONPATH=src python benchmarks/bench_recommend.py --quick   # a small sample only

For each data set the purchases of the last complete quarter are hidden; every customer
with purchases before it and at least one in it gets a next-best category from the history
alone (:func:`analysis.preferences.next_best_categories`), and the hit rate (the category
was bought in the hidden quarter) is compared with the most popular category for everyone
(:func:`analysis.preferences.evaluate_next_best`). The cross-sell rates count only the
customers who bought a category new to them, each method's best *new* category.

Data sets:

1. ``sample``: ``analysis.data.sample.generate_sample`` (20,000 customers, seed 42), its six
   product categories, hidden quarter 2025-Q4.
2. ``online_retail``: ``../shared/datasets/online_retail.csv.gz`` read through
   ``params/examples/online_retail.yaml`` (the project's loader and repairs); stock codes
   are grouped into product groups by the keyword rules on Description
   (:data:`analysis.preferences.PRODUCT_GROUP_RULES`, documented in data/README.md),
   hidden quarter 2011-Q3 (the last complete one; the data ends on 2011-12-09).

Figures and timings go to ``benchmarks/results/recommend.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import pandas as pd  # noqa: E402

from analysis import preferences  # noqa: E402
from analysis.config import load_params  # noqa: E402
from analysis.data.load import load_dataset  # noqa: E402
from analysis.data.sample import generate_sample  # noqa: E402
from analysis.period import Period  # noqa: E402

RETAIL = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "recommend.json"


def _case(name: str, orders: pd.DataFrame, quarter: str) -> dict:
    period = Period.parse(quarter)
    started = time.perf_counter()
    groups, method = preferences.product_groups(orders)
    evaluation = preferences.evaluate_next_best(
        orders, groups, pd.Timestamp(period.start), pd.Timestamp(period.end_exclusive)
    )
    seconds = time.perf_counter() - started
    share = groups.value_counts(normalize=True).round(4).to_dict()
    return {
        "data": name,
        "hidden_period": quarter,
        "grouping": method,
        "group_shares": {str(k): float(v) for k, v in share.items()},
        **{
            k: (round(v, 4) if isinstance(v, float) else v) for k, v in evaluation.to_dict().items()
        },
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 2,000-customer sample only")
    args = parser.parse_args()
    cases = []
    sample = generate_sample(2_000 if args.quick else 20_000, seed=42)
    cases.append(_case("sample", sample.orders, "2025-Q4"))
    if not args.quick and (RETAIL / "online_retail.csv.gz").is_file():
        params = load_params(
            params_file=str(ROOT / "params" / "examples" / "online_retail.yaml"),
            overrides={"data_dir": str(RETAIL), "quality": {"today": "2012-01-01"}},
        )
        started = time.perf_counter()
        data = load_dataset(params)
        loaded = time.perf_counter() - started
        case = _case("online_retail", data.orders, "2011-Q3")
        case["load_seconds"] = round(loaded, 2)
        cases.append(case)
    for case in cases:
        print(
            f"{case['data']:>14}: {case['customers']:,} customers, {case['categories']} groups "
            f"({case['grouping']}); hit rate {case['hit_rate']:.3f} vs popularity "
            f"{case['baseline_hit_rate']:.3f}; top 3 {case['hit_rate_top3']:.3f} vs "
            f"{case['baseline_hit_rate_top3']:.3f}; new category {case['new_hit_rate']:.3f} vs "
            f"{case['new_baseline_hit_rate']:.3f} ({case['new_customers']:,} customers)"
        )
    if args.quick:
        return
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "bench_recommend",
                "recorded_at": datetime.now().isoformat(timespec="seconds"),
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cases": cases,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

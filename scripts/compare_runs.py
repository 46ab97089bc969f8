"""Compare the exports of two report runs: every CSV and ``figures.json``, file by file.

Usage: python scripts/compare_runs.py OLD_OUTPUT NEW_OUTPUT [--rtol 0]

A speed-up must not change a result: run ``segreport run --output OLD`` before the change
and ``--output NEW`` after it, then compare. Files equal byte for byte are counted; for the
others the script names the columns that differ (numbers within ``--rtol`` count as equal)
and exits 1. HTML pages carry timings and are not compared.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

COMPARED = ("*.csv", "figures.json")


def _files(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for pattern in COMPARED:
        for path in root.rglob(pattern):
            if "runs" in path.relative_to(root).parts[:1]:
                continue
            found[str(path.relative_to(root))] = path
    return found


def _csv_differences(old: Path, new: Path, rtol: float) -> list[str]:
    a = pd.read_csv(old, dtype=str, keep_default_na=False)
    b = pd.read_csv(new, dtype=str, keep_default_na=False)
    if list(a.columns) != list(b.columns):
        return [f"columns {list(a.columns)} -> {list(b.columns)}"]
    if len(a) != len(b):
        return [f"rows {len(a)} -> {len(b)}"]
    out = []
    for col in a.columns:
        x, y = a[col], b[col]
        if x.equals(y):
            continue
        nx, ny = pd.to_numeric(x, errors="coerce"), pd.to_numeric(y, errors="coerce")
        numeric = nx.notna() | ny.notna()
        text_differs = (x != y) & ~numeric
        close = np.isclose(nx, ny, rtol=rtol, atol=0, equal_nan=True) | ~numeric
        if rtol > 0 and not text_differs.any() and close.all():
            continue
        rows = int((x != y).sum())
        worst = float(np.nanmax(np.abs(nx - ny))) if numeric.any() else float("nan")
        out.append(f"{col}: {rows} row(s) differ (max abs {worst:.3g})")
    return out


def _json_differences(old: Path, new: Path) -> list[str]:
    a, b = json.loads(old.read_text()), json.loads(new.read_text())
    out: list[str] = []

    def walk(x, y, where: str) -> None:
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y)):
                walk(x.get(key), y.get(key), f"{where}.{key}")
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (p, q) in enumerate(zip(x, y, strict=True)):
                walk(p, q, f"{where}[{i}]")
        elif x != y:
            out.append(f"{where}: {x!r} -> {y!r}")

    walk(a, b, "")
    return out[:20]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rtol", type=float, default=0.0)
    args = parser.parse_args()
    old, new = _files(args.old), _files(args.new)
    same, changed = 0, 0
    for name in sorted(set(old) | set(new)):
        if name not in old or name not in new:
            print(f"{name}: only in {'new' if name in new else 'old'}")
            changed += 1
            continue
        if old[name].read_bytes() == new[name].read_bytes():
            same += 1
            continue
        if name.endswith(".csv"):
            found = _csv_differences(old[name], new[name], args.rtol)
        else:
            found = _json_differences(old[name], new[name])
        if not found:
            same += 1
            continue
        changed += 1
        print(f"{name}:")
        for line in found:
            print(f"  {line}")
    print(f"{same} file(s) equal, {changed} differ")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared work done once: the clean input of every unit, cached as Parquet.

The cache key is a hash of the input files' bytes and of the parameters that change how
they are read and repaired (``files``, ``columns``, ``encoding``, ``date_format``,
``dayfirst``, ``quality`` with the effective "today", ``survey`` with the declared
scales). A later run with the same inputs and parameters reuses it without reading the
input again; ``--force`` rebuilds it. A cache
entry is written to a temporary folder and renamed into place, so a crashed run never leaves
a half-written entry that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import resolve_path, unit_slug
from ..data.io import file_digest
from ..data.load import load_dataset, resolve_files
from ..data.quality import DataQualityReport
from ..errors import DataError
from .context import CACHE_META, write_cache

READY = "ready.json"
DATA_PARAMS = (
    "files",
    "columns",
    "encoding",
    "date_format",
    "dayfirst",
    "timezone",
    "quality",
    "survey",
    "subscription",
)


@dataclass
class Prepared:
    """What a run needs to know about the clean input, without loading it."""

    key: str
    root: Path
    reused: bool
    data_end: pd.Timestamp | None
    units: list[str]
    sources: dict[str, dict[str, Any]]
    unit_meta: dict[str, dict[str, Any]]

    def unit_dir(self, unit: str) -> Path:
        return self.root / "units" / unit_slug(unit)

    def quality(self, unit: str) -> DataQualityReport:
        return DataQualityReport.from_dict(self.unit_meta[unit]["quality"])

    def has_orders_in(self, unit: str, start: date, end: date) -> bool:
        """Whether the unit has data to report in ``start..end``: orders, or for a unit
        without any order (survey-only) survey responses or interactions."""
        meta = self.unit_meta[unit]
        days = meta["order_days"] or meta.get("activity_days", [])
        return any(start.isoformat() <= d <= end.isoformat() for d in days)


def input_files(params: dict[str, Any]) -> dict[str, Path]:
    """The input files a run reads, found as :func:`analysis.data.load.resolve_files`
    finds them (a table named ``auto`` by its name with any supported extension)."""
    folder = resolve_path(params["data_dir"])
    found = resolve_files(params, folder)
    return {t: path for t, (path, _) in found.items() if path is not None and path.is_file()}


def cache_key(params: dict[str, Any]) -> str:
    """Hash of the input bytes and the reading/repair parameters."""
    relevant = {k: params.get(k) for k in DATA_PARAMS}
    relevant["today"] = str((params.get("quality") or {}).get("today") or date.today())
    digest = hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode())
    for table, path in sorted(input_files(params).items()):
        digest.update(f"{table}:{file_digest(path)}".encode())
    return digest.hexdigest()[:20]


def prepare(params: dict[str, Any], output: Path, *, force: bool = False) -> Prepared:
    """Load, repair and slice the input once per cache key (see module docstring)."""
    if not resolve_path(params["data_dir"]).is_dir():
        load_dataset(params)  # raises the readable "data folder does not exist" error
    key = cache_key(params)
    root = output / ".cache" / key
    if force and root.exists():
        shutil.rmtree(root, ignore_errors=True)
    if (root / READY).is_file():
        if _readable(root):
            return _from_ready(key, root, reused=True)
        shutil.rmtree(root, ignore_errors=True)  # damaged (a truncated file): rebuilt below
    dataset = load_dataset(params)
    private = output / ".cache"
    private.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(private, 0o700)  # the clean input is for this account only
    staging = private / f".{key}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    unit_meta: dict[str, dict[str, Any]] = {}
    for unit in [*dataset.units, "all"]:
        own = dataset.for_unit(unit)
        folder = staging / "units" / unit_slug(unit)
        write_cache(
            folder, own, {"unit": unit, "data_end": dataset.data_end, "sources": dataset.sources}
        )
        unit_meta[unit] = {
            "rows": int(sum(len(f) for f in own.tables().values() if f is not None)),
            "quality": own.quality.to_dict(),
            "order_days": [] if unit == "all" else _days(own.orders["order_date"]),
            "activity_days": [] if unit == "all" or not own.orders.empty else _activity(own),
        }
    ready = {
        "key": key,
        "data_end": dataset.data_end,
        "units": dataset.units,
        "sources": dataset.sources,
        "unit_meta": unit_meta,
    }
    (staging / READY).write_text(json.dumps(ready, default=str))
    try:
        os.replace(staging, root)
    except OSError:  # another run finished the same entry first: use theirs
        shutil.rmtree(staging, ignore_errors=True)
    return _from_ready(key, root, reused=False)


def _readable(root: Path) -> bool:
    """Whether every file of a cache entry can be read: ``ready.json`` and the meta data
    parse, and every Parquet file has its footer (a truncated file has none)."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    try:
        ready = json.loads((root / READY).read_text())
        for unit in ready["units"] + ["all"]:
            folder = root / "units" / unit_slug(unit)
            json.loads((folder / CACHE_META).read_text())
            json.loads((folder / "quality.json").read_text())
            for path in folder.glob("*.parquet"):
                pq.read_metadata(path)
    except (OSError, ValueError, KeyError, TypeError):  # ArrowInvalid is a ValueError
        return False
    return True


def _days(dates: pd.Series) -> list[str]:
    days = dates.dt.normalize().drop_duplicates().sort_values()
    return [d.date().isoformat() for d in days]


def _activity(data) -> list[str]:
    """The days a unit without orders has survey responses or interactions."""
    parts = [
        frame[column]
        for frame, column in ((data.survey_responses, "response_date"), (data.interactions, "date"))
        if frame is not None and not frame.empty
    ]
    return _days(pd.concat(parts)) if parts else []


def _from_ready(key: str, root: Path, *, reused: bool) -> Prepared:
    try:
        ready = json.loads((root / READY).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(
            f"the cache entry {root} is unreadable ({exc}); run again with --force."
        ) from None
    data_end = pd.Timestamp(ready["data_end"]) if ready.get("data_end") else None
    return Prepared(
        key, root, reused, data_end, ready["units"], ready["sources"], ready["unit_meta"]
    )

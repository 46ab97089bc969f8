"""Work several reports of one (period, unit) share, computed once.

:class:`SharedWork` memoises customer features and value snapshots in this process and,
when the run gives a cache folder, on disk, so the reports of a unit do not each
recompute them. The memo is keyed by everything that changes the result (the cache
folder, which is itself keyed by the input files and the reading parameters, the unit,
the date and the parameters used), so a warm kernel can make a result faster but never
different.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.load import Dataset

#: Value snapshots kept in this process: a unit's period end and previous period end,
#: with and without CLV, for a few units.
SNAPSHOTS_KEPT = 8
_SNAPSHOTS: dict[tuple, Any] = {}
#: Pipeline results kept in this process (see :meth:`SharedWork.once`).
RESULTS_KEPT = 16
_RESULTS: dict[tuple, Any] = {}
#: Small derived results kept in this process (see :func:`remember`): the churn rule and
#: the business figures of a unit at a few dates, for a few units.
MEMO_KEPT = 128
_MEMO: dict[tuple, Any] = {}
#: The cache folder of the unit whose reports this process runs now (see :func:`enter_unit`).
_CURRENT: list[str | None] = [None]


def enter_unit(cache_dir: str | os.PathLike | None) -> bool:
    """Note that this process now runs the reports of the unit cached in ``cache_dir``.

    A kernel runs one unit's reports, then the next unit's. Every memo of this module is
    keyed by the unit's cache folder, so when the folder changes nothing kept can serve
    again: it is all dropped (with results of :mod:`analysis.framememo` whose data is
    gone), instead of holding the last unit's snapshots and models, gigabytes at a million
    customers, while the next unit runs. Returns whether the unit changed.
    """
    current = None if cache_dir is None else str(cache_dir)
    if current == _CURRENT[0]:
        return False
    _CURRENT[0] = current
    _SNAPSHOTS.clear()
    _RESULTS.clear()
    _MEMO.clear()
    return True


def _key(params: Any) -> str:
    return json.dumps(params, sort_keys=True, default=str)


@dataclass(frozen=True)
class SharedWork:
    """Shared, memoised work of one unit's reports.

    Parameters
    ----------
    unit
        The unit the data belongs to (part of every memo key).
    cache_dir
        The run's cache folder of the unit (``params["cache_dir"]``), or None: then
        features are not kept on disk and snapshots are not memoised.
    """

    unit: str
    cache_dir: Path | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SharedWork:
        cache = params.get("cache_dir")
        return cls(str(params.get("unit", "all")), Path(cache) if cache else None)

    def customer_features(
        self, data: Dataset, as_of: pd.Timestamp, params: Mapping[str, Any]
    ) -> pd.DataFrame:
        """:func:`analysis.features.customer_features` of the unit as of ``as_of``."""
        from ..engine import engine_for  # noqa: PLC0415
        from ..features import customer_features  # noqa: PLC0415

        as_of = pd.Timestamp(as_of)
        options = dict(params.get("features") or {})
        engine = str(params.get("engine") or "duckdb")
        path = None
        if self.cache_dir is not None:
            # Same table on every engine; the name still says which one made it.
            keyed = options if engine == "duckdb" else {**options, "engine": engine}
            digest = hashlib.sha256(_key(keyed).encode()).hexdigest()[:12]
            name = f"{as_of.date().isoformat()}-{digest}.parquet"
            path = self.cache_dir / "features" / name
            if path.is_file():
                return pd.read_parquet(path)
        frame = customer_features(
            data.orders,
            as_of,
            customers=data.customers,
            surveys=data.survey_responses,
            interactions=data.interactions,
            top_categories=options.get("top_categories", 5),
            top_channels=options.get("top_channels", 4),
            satisfaction_col=options.get("satisfaction_col", "csat"),
            engine=engine_for(params),
        )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            frame.to_parquet(tmp)
            os.replace(tmp, path)
        return frame

    def value_snapshot(
        self,
        data: Dataset,
        as_of: pd.Timestamp,
        params: Mapping[str, Any],
        *,
        thresholds: Any = None,
        predict_clv: bool = True,
    ) -> Any:
        """:func:`analysis.valuation.value_snapshot` of the unit's orders as of ``as_of``.

        A snapshot with CLV also answers a request without it. Callers get a shallow copy
        (copy-on-write), so changing it cannot change what the next report sees.
        """
        from .. import valuation  # noqa: PLC0415
        from ..figures import churn_rule  # noqa: PLC0415

        as_of = pd.Timestamp(as_of).normalize()
        value_params = valuation.with_segment_scheme(params)  # auto: by the language
        # The unit's churn rule as known at the snapshot: contractual churners are churned.
        definition = "noncontractual"
        customers = data.customers
        if customers is not None and "churn_date" in customers.columns:
            definition = churn_rule(data, as_of + pd.Timedelta(days=1), params).definition
        key = (
            str(self.cache_dir),
            self.unit,
            as_of,
            _key(value_params),
            repr(thresholds),
            definition,
        )
        found = _SNAPSHOTS.get((*key, True)) or (
            None if predict_clv else _SNAPSHOTS.get((*key, False))
        )
        if found is None or self.cache_dir is None:
            found = valuation.value_snapshot(
                data.orders,
                data.customers,
                as_of,
                value_params,
                thresholds=thresholds,
                predict_clv=predict_clv,
                churn_definition=definition,
            )
            if self.cache_dir is not None:
                _SNAPSHOTS[(*key, predict_clv)] = found
                while len(_SNAPSHOTS) > SNAPSHOTS_KEPT:
                    _SNAPSHOTS.pop(next(iter(_SNAPSHOTS)))
        return replace(found, table=found.table.copy(deep=False))

    def once(
        self, name: str, period: Any, params: Mapping[str, Any], compute: Callable[[], Any]
    ) -> Any:
        """``compute()`` once per (report ``name``, unit, period, parameters) in this process.

        A pipeline whose result another report quotes (the churn model's risk list for the
        unit's figures, the segments for the summary) wraps its work in this, so the second
        report reuses the first one's result instead of fitting again. Without a cache
        folder nothing is memoised (each call computes).
        """
        if self.cache_dir is None:
            return compute()
        key = (name, str(self.cache_dir), self.unit, str(period), _key(_result_params(params)))
        if key not in _RESULTS:
            _RESULTS[key] = compute()
            while len(_RESULTS) > RESULTS_KEPT:
                _RESULTS.pop(next(iter(_RESULTS)))
        return _RESULTS[key]


def remember(
    name: str,
    data: Dataset,
    params: Mapping[str, Any],
    parts: tuple,
    compute: Callable[[], Any],
) -> Any:
    """``compute()`` once per (``name``, run cache folder, unit, ``parts``, parameters).

    For small results that several reports of a unit derive from its data at the same
    date (the churn rule, the business figures): each report reads the unit's cached
    tables afresh, so the memo is keyed, as :meth:`SharedWork.once` is, by the run's
    cache folder (``params["cache_dir"]``, itself keyed by the input files) and the unit,
    plus the row count of every table of ``data`` (a slice of the unit's data never meets
    the unit's entry). Without a cache folder nothing is memoised. The caller must not
    change what it gets back.
    """
    cache = params.get("cache_dir")
    if not cache:
        return compute()
    shape = tuple(None if frame is None else len(frame) for frame in data.tables().values())
    key = (
        name,
        str(cache),
        str(params.get("unit", "all")),
        shape,
        *(str(part) for part in parts),
        _key(_result_params(params)),
    )
    if key not in _MEMO:
        _MEMO[key] = compute()
        while len(_MEMO) > MEMO_KEPT:
            _MEMO.pop(next(iter(_MEMO)))
    return _MEMO[key]


def _result_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that can change a result (not where files go)."""
    ignored = {"output_dir", "export_dir", "cache_dir", "period", "overrides", "params_file"}
    return {k: v for k, v in params.items() if k not in ignored}

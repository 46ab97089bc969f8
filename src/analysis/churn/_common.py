"""Shared helpers of the churn package: input checks, purchase days, thread caps, ROC AUC.

Nothing here is public API; the public names are re-exported by :mod:`analysis.churn`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError
from ..framememo import FrameMemo

#: Two-sided 95% normal quantile (intervals of odds ratios, hazard ratios, survival).
Z95 = float(stats.norm.ppf(0.975))

#: A term whose standard error (log odds or log hazard, per SD or per level) is above this is not
#: identified by the data: its 95% interval would span more than a factor of 6 million
#: (e^(2 x 1.96 x 4)), which says nothing. Its estimate and interval are not shown.
MAX_IDENTIFIED_SE = 4.0


def require_columns(frame: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"required column(s) {', '.join(repr(c) for c in missing)} missing; "
            f"columns present: {', '.join(map(str, frame.columns)) or '(none)'}.",
            file=table,
            column=missing[0],
        )


def purchase_days(
    orders: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp
) -> pd.DataFrame:
    """Customer-days with a positive net amount in ``[start, end)``: ``customer_id, day``.

    A purchase day is a day whose orders sum to more than zero (as in
    :mod:`analysis.lifecycle`): a refund-only day is not a purchase. When ``start`` and
    ``end`` are midnights every day lies wholly inside or outside the range, so the rows
    are those of :func:`_all_purchase_days` (one pass per orders frame, shared by the
    churn model's many snapshots and windows) in the range.
    """
    require_columns(orders, "orders", ("customer_id", "order_date", "amount"))
    midnight = all(
        t is None or pd.Timestamp(t) == pd.Timestamp(t).normalize() for t in (start, end)
    )
    if midnight and orders["order_date"].dtype.kind == "M":
        table = _DAYS.get(
            orders,
            ["customer_id", "order_date", "amount"],
            "purchase_days",
            lambda: _net_days(orders),
        )
        day = table["day"]
        keep = day < end if start is None else (day >= start) & (day < end)
        if keep.any():
            return table.loc[keep.to_numpy()].reset_index(drop=True)
    dates = orders["order_date"]
    mask = dates < end
    if start is not None:
        mask = mask & (dates >= start)
    # (no purchase day in the range: the empty table as a pass over the range gives it)
    return _net_days(orders.loc[mask, ["customer_id", "order_date", "amount"]])


#: The purchase days of the orders frames used last (see :func:`purchase_days`).
_DAYS = FrameMemo(kept=4)


def _net_days(part: pd.DataFrame) -> pd.DataFrame:
    """Customer-days of ``part`` whose amounts sum to more than zero, sorted by customer
    and day."""
    if part.empty:
        return pd.DataFrame(
            {"customer_id": pd.Series(dtype="string"), "day": pd.Series(dtype="datetime64[ns]")}
        )
    net = (
        pd.DataFrame(
            {
                "customer_id": part["customer_id"].astype("string"),
                "day": part["order_date"].dt.normalize(),
                "amount": part["amount"],
            }
        )
        .groupby(["customer_id", "day"], observed=True, sort=True)["amount"]
        .sum()
    )
    return net[net > 0].reset_index()[["customer_id", "day"]]


def thread_limits(*, openmp: int | None = None, blas: int | None = None) -> Any:
    """Context capping OpenMP / BLAS threads (``None``: leave as is).

    One ``threadpoolctl`` controller is kept (building one scans every loaded library, a
    few ms, and this runs around each fit and each scoring); it is rebuilt once a wanted
    library (scikit-learn's OpenMP) has been loaded since.
    """
    from threadpoolctl import ThreadpoolController  # noqa: PLC0415  (sklearn dependency)

    wanted = {api: n for api, n in (("openmp", openmp), ("blas", blas)) if n is not None}
    if not wanted:
        return contextlib.nullcontext()
    controller = _THREADPOOLS.get("controller")
    if controller is None or any(
        not controller.select(user_api=api).lib_controllers for api in wanted
    ):
        controller = _THREADPOOLS["controller"] = ThreadpoolController()
    return controller.limit(limits=wanted)


#: The cached ``threadpoolctl`` controller of :func:`thread_limits`.
_THREADPOOLS: dict[str, Any] = {}


def one_blas_thread(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``function`` with one BLAS thread. The logistic and Cox fits multiply matrices
    of a dozen columns: more threads cost more than they save there, and they would fight
    the other report workers for the cores."""

    @functools.wraps(function)
    def single(*args: Any, **kwargs: Any) -> Any:
        with thread_limits(blas=1):
            return function(*args, **kwargs)

    return single


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC of scores ``p`` for 0/1 labels ``y`` (NaN with a single class)."""
    return float(roc_auc_rows(y, np.asarray(p, dtype="float64")[None, :])[0])


def roc_auc_rows(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of ``scores`` (``m x n``) for the same 0/1 labels ``y``.

    The Mann-Whitney form, ``(R1 - n1 (n1 + 1) / 2) / (n1 n0)`` with ``R1`` the sum of the
    positives' average ranks (Hanley & McNeil 1982): the area under the ROC curve with ties
    counted one half, the value of ``sklearn.metrics.roc_auc_score``, without its per-call
    input checks (permutation importance scores dozens of rows at once).
    """
    positive = np.asarray(y, dtype="float64") == 1
    n1 = int(positive.sum())
    n0 = len(positive) - n1
    if n1 == 0 or n0 == 0:
        return np.full(len(scores), np.nan)
    ranks = stats.rankdata(scores, axis=1)
    return (ranks[:, positive].sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)

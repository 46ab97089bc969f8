"""Results computed from a DataFrame's columns, kept while the columns' data live.

The reports of a unit run in one kernel and each gets its own shallow copy of the unit's
tables (:func:`analysis.report.context._cached_tables`). Those copies are new DataFrame
objects but hold the same column data: the same Arrow arrays, views of the same NumPy
buffers. :class:`FrameMemo` keys a result by that data (the object owning each column's
buffer and where in it the column lies), so a computation that several reports make from
the same orders (the inter-purchase gaps) runs once, while a filtered or edited frame,
whose columns are new data, is computed afresh.

The memo holds only weak references to the data: a result is forgotten, never reused
for other data, when the columns it came from are freed (its entry is dropped at the next
:meth:`FrameMemo.get` of that memo, or by :func:`prune` for every memo). pandas copies on write, so data
shared by two frames is not changed in place by either.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["FrameMemo", "prune", "text_codes"]

#: Every memo of the process, for :func:`prune`.
_MEMOS: weakref.WeakSet[FrameMemo] = weakref.WeakSet()


def _owner(series: pd.Series) -> tuple[object, Hashable] | None:
    """The object that owns ``series``' data and where the data lies in it, or None when
    the data is not shared storage (it would be a new object on every call)."""
    array = series.array
    arrow = getattr(array, "__arrow_array__", None)
    if arrow is not None and not isinstance(array, pd.arrays.NumpyExtensionArray):
        try:
            data = arrow()
        except (TypeError, ValueError, NotImplementedError):
            return None
        # Arrow arrays are immutable: the object is the data
        return (data, ()) if isinstance(data, pa.ChunkedArray | pa.Array) else None
    if not isinstance(array, pd.arrays.NumpyExtensionArray | pd.arrays.DatetimeArray):
        return None  # masked, categorical, ...: np.asarray would build a new array
    values = np.asarray(array)
    root = values
    while isinstance(root.base, np.ndarray):
        root = root.base
    where = (values.__array_interface__["data"][0], values.shape, values.strides, values.dtype.str)
    return root, where


class FrameMemo:
    """A bounded memo of results keyed by the data of some columns of a DataFrame.

    Parameters
    ----------
    kept
        Results kept (the oldest is dropped first).

    Examples
    --------
    >>> memo = FrameMemo(kept=4)
    >>> frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> calls = []
    >>> total = lambda f: memo.get(f, ["x"], "sum", lambda: calls.append(1) or f["x"].sum())
    >>> total(frame), total(frame.copy(deep=False)), len(calls)   # same data: once
    (np.float64(6.0), np.float64(6.0), 1)
    >>> total(frame[frame["x"] > 1]), len(calls)                    # other data: again
    (np.float64(5.0), 2)
    """

    def __init__(self, kept: int = 8) -> None:
        self.kept = int(kept)
        self._entries: OrderedDict[Hashable, tuple[list[weakref.ref], Any]] = OrderedDict()
        _MEMOS.add(self)

    def __len__(self) -> int:
        return len(self._entries)

    def prune(self) -> None:
        """Drop the results whose data has been freed (they can never be served again,
        and a result, such as a million customers' purchase days, can be large)."""
        for key in [k for k, (refs, _) in self._entries.items() if any(r() is None for r in refs)]:
            del self._entries[key]

    def get(
        self,
        frame: pd.DataFrame,
        columns: Sequence[str],
        extra: Hashable,
        compute: Callable[[], Any],
    ) -> Any:
        """``compute()``, or the result kept for the same data of ``columns`` and ``extra``.

        The caller must not change what it gets back (it is shared).
        """
        owners, places = [], []
        for column in columns:
            found = _owner(frame[column]) if column in frame.columns else None
            if found is None:
                return compute()
            owners.append(found[0])
            places.append(found[1])
        key = (tuple(id(o) for o in owners), tuple(places), tuple(columns), len(frame), extra)
        entry = self._entries.get(key)
        if entry is not None and all(
            ref() is owner for ref, owner in zip(entry[0], owners, strict=True)
        ):
            self._entries.move_to_end(key)
            return entry[1]
        result = compute()
        self.prune()
        try:
            refs = [weakref.ref(owner) for owner in owners]
        except TypeError:  # an owner without weak references: not kept
            return result
        self._entries[key] = (refs, result)
        while len(self._entries) > self.kept:
            self._entries.popitem(last=False)
        return result

    def clear(self) -> None:
        """Forget every result."""
        self._entries.clear()


def prune() -> None:
    """:meth:`FrameMemo.prune` on every memo of the process."""
    for memo in list(_MEMOS):
        memo.prune()


#: Codes of the frames' columns used last in this process (see :func:`text_codes`).
_CODES = FrameMemo(kept=8)


def text_codes(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(frame[column].astype(str), sort=True)``, kept for the column's data.

    Integer codes in place of string ids make group counts of millions of order lines cheap,
    and the reports of a unit factorise the same ``customer_id`` and ``order_id`` columns
    many times. ``codes[i]`` indexes ``uniques`` (sorted as Python sorts strings); a missing
    value is ``-1``. The arrays are shared: callers must not change them.
    """

    def compute() -> tuple[np.ndarray, pd.Index]:
        codes, uniques = pd.factorize(frame[column].astype(str), sort=True)
        codes = np.asarray(codes, dtype=np.int64)
        codes.flags.writeable = False
        return codes, pd.Index(uniques)

    return _CODES.get(frame, [column], ("text_codes", column), compute)

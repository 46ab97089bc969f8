"""Coercions used across the package: dates given as parameters, yes/no flags, SQL names.

One definition each, so a date parameter, a churned flag or a column name means the same
thing in every report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import ParamsError

__all__ = [
    "TRUE_WORDS",
    "FALSE_WORDS",
    "as_bool",
    "as_day",
    "binary_values",
    "sql_date",
    "sql_quote",
]

#: Words read as yes / no in flag columns (lower-cased, stripped).
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "churn", "churned", "是", "流失"})
FALSE_WORDS = frozenset(
    {"0", "false", "f", "no", "n", "stay", "stayed", "retained", "active", "否", "未流失"}
)


def as_day(value: object, name: str) -> pd.Timestamp:
    """A date parameter as a tz-naive midnight Timestamp.

    A time-zone-aware value is converted to UTC first, so "2025-01-01T01:00+08:00" is the
    31st of December.

    Raises
    ------
    ParamsError
        ``value`` is not a date (naming the parameter ``name``).
    """
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ParamsError(f"{name} must be a date, got {value!r}") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ParamsError(f"{name} must be a date, got {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    return ts.normalize()


def binary_values(
    values: pd.Series, *, allow_missing: bool = False, what: str = "the flag"
) -> pd.Series:
    """Boolean, 0/1 or yes/no-like values as float 0/1 (NaN where missing).

    Raises
    ------
    ParamsError
        Other numbers or words, or (unless ``allow_missing``) no values at all.
    """
    s = pd.Series(values)
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    if pd.api.types.is_numeric_dtype(s):
        out = s.astype("float64")
        ok = out.isna() | out.isin([0.0, 1.0])
        if ok.all():
            return out
        raise ParamsError(
            f"{what} must be boolean, 0/1 or yes/no; it has other numbers "
            f"(e.g. {out[~ok].iloc[0]!r})"
        )
    text = s.astype("string").str.strip().str.lower()
    out = pd.Series(np.nan, index=s.index, dtype="float64")
    out[text.isin(TRUE_WORDS).fillna(False).to_numpy(dtype=bool)] = 1.0
    out[text.isin(FALSE_WORDS).fillna(False).to_numpy(dtype=bool)] = 0.0
    unknown = out.isna() & text.notna() & (text != "")
    if unknown.any():
        raise ParamsError(
            f"{what} must be boolean, 0/1 or yes/no; it has other values "
            f"(e.g. {s[unknown].iloc[0]!r})"
        )
    if not allow_missing and out.isna().all():
        raise ParamsError(f"{what} has no values")
    return out


def as_bool(values: pd.Series) -> pd.Series:
    """A yes/no flag column (``churned``) as plain bool; missing counts as False."""
    if values.dtype == bool:
        return values
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    return binary_values(values, allow_missing=True).fillna(0).astype(bool)


def sql_quote(name: object) -> str:
    """A column name as a DuckDB (and Spark) identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def sql_money(expr: str) -> str:
    """An amount as an exact decimal in SQL, so sums do not depend on the thread count.

    DuckDB adds floating-point amounts in whatever order its threads meet them; the last
    bits of a sum then change with the number of threads, and a refund day summing to
    ``1e-15`` instead of 0 becomes a purchase day. Sums of DECIMAL(38, 6) are exact
    (amounts are money: six decimals are more than any currency has).
    """
    return f"CAST({expr} AS DECIMAL(38, 6))"


def sql_date(ts: pd.Timestamp) -> str:
    """A day as a SQL date literal."""
    return f"DATE '{pd.Timestamp(ts).date().isoformat()}'"

"""Shared helpers of the satisfaction package: input checks, score cleaning, BH.

Nothing here is public API; the public names are re-exported by
:mod:`analysis.satisfaction`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, ParamsError

TABLE = "survey_responses"

#: Declared scales of the contract's score columns; any other column defaults to 1-5.
DEFAULT_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5)}

Scale = tuple[int, int]


class MissingScoreError(DataError):
    """The survey has no such question: the score column is absent or entirely empty.

    Notebooks catch it to show the localized note ``satisfaction.note.no_score``
    instead of a section (a survey with only ratings and an overall item is valid).
    """

    def __init__(self, column: str) -> None:
        self.score_column = column
        kind = "NPS question" if column == "nps" else f"'{column}' question"
        super().__init__(
            f"The survey has no {kind}: the column is missing or has no answers, so this "
            "score cannot be computed. Sections that need only ratings still work.",
            file=TABLE,
            column=column,
        )


def require_columns(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    """Raise :class:`DataError` naming the first column of ``columns`` not in ``frame``."""
    if not isinstance(frame, pd.DataFrame):
        raise ParamsError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(map(str, list(frame.columns)[:12]))
        raise DataError(
            f"Required column '{missing[0]}' is missing (columns present: {shown}).",
            file=TABLE,
            column=str(missing[0]),
        )


def require_score(frame: pd.DataFrame, column: str) -> None:
    """Raise :class:`MissingScoreError` when ``column`` is absent or has no answers.

    An empty frame (no responses at all, e.g. a unit without surveys) is not a missing
    question: the functions then return empty results.
    """
    if column not in frame.columns or (len(frame) > 0 and frame[column].isna().all()):
        raise MissingScoreError(column)


def check_confidence(confidence: float, name: str = "confidence") -> float:
    """Validate a confidence level (or significance level) strictly inside (0, 1)."""
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise ParamsError(f"{name} must be a number between 0 and 1, got {confidence!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ParamsError(f"{name} must be strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def check_scale(scale: Sequence[int], name: str = "scale") -> Scale:
    """Validate an integer rating scale ``(low, high)`` with ``low < high``."""
    try:
        low, high = scale
    except (TypeError, ValueError):
        raise ParamsError(f"{name} must be a pair (low, high), got {scale!r}") from None
    if not all(float(v).is_integer() for v in (low, high)) or low >= high:
        raise ParamsError(f"{name} must be two integers with low < high, got {scale!r}")
    return int(low), int(high)


def check_positive_int(value: int, name: str, minimum: int = 1) -> int:
    """Validate an integer parameter ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParamsError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_top_box(top_box: int, scale: Scale) -> int:
    """Validate a top-box width: a positive number of levels that leaves part of ``scale``."""
    top_box = check_positive_int(top_box, "top_box")
    if top_box >= scale[1] - scale[0] + 1:
        raise ParamsError(f"top_box={top_box} covers the whole scale {scale}; use fewer levels")
    return top_box


def scale_for(column: str, scale: Scale | Mapping[str, Sequence[int]] | None) -> Scale:
    """Scale of ``column``: from a per-column mapping, a single pair, or the contract."""
    if isinstance(scale, Mapping):
        if column in scale:
            return check_scale(scale[column], f"scale[{column!r}]")
        return DEFAULT_SCALES.get(column, (1, 5))
    if scale is None:
        return DEFAULT_SCALES.get(column, (1, 5))
    return check_scale(scale)


def clean_scores(
    values: object, scale: Scale, *, whole: bool = False
) -> tuple[pd.Series, pd.Series]:
    """Split raw answers into valid scores and an invalid-answer mask.

    Missing answers (NA) are neither valid nor invalid. An answer is *invalid* when it
    is present but non-numeric or outside ``scale``; invalid answers are counted and
    excluded, never coerced (an 11 is not turned into a 10). A fraction inside the scale
    is valid (a composite index such as the mean of three 1-10 items is 8.67), unless
    ``whole`` asks for whole numbers (the 0-10 NPS question, whose categories are
    defined on whole answers). Numeric text such as ``"9"`` (CSV exports) counts as the
    number it spells.

    Returns
    -------
    valid : Series of float
        The score where valid, NaN elsewhere (same index as the input).
    invalid : Series of bool
        True where an answer is present but invalid.

    Examples
    --------
    >>> valid, invalid = clean_scores(pd.Series([8.5, 11, None]), (1, 10))
    >>> valid.tolist()[0], invalid.tolist()
    (8.5, [False, True, False])
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(np.ravel(values)))
    if series.dtype == bool or str(series.dtype) == "boolean":
        raise ParamsError("scores must be numbers, got a boolean column")
    present = series.notna()
    numeric = pd.to_numeric(series, errors="coerce").astype(float)
    low, high = scale
    ok = numeric.notna() & np.isfinite(numeric) & (numeric >= low) & (numeric <= high)
    if whole:
        ok &= numeric == np.round(numeric)
    # booleans hidden in object columns are not answers on a scale
    if series.dtype == object:
        ok &= ~series.map(lambda v: isinstance(v, (bool, np.bool_)))
    valid = numeric.where(ok)
    invalid = present & ~ok
    return valid, invalid


def scale_text(scale: Scale) -> str:
    """``(1, 10)`` -> ``"1–10"``, as labels print a scale."""
    return f"{scale[0]}–{scale[1]}"


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    """Benjamini-Hochberg (1995) adjusted p-values (step-up FDR control).

    ``p_adj[(i)] = min_{k >= i} min(1, m * p_(k) / k)`` over the m non-missing
    p-values sorted ascending; NaN p-values are not counted in m and stay NaN.

    Parameters
    ----------
    p_values
        Raw p-values in [0, 1]; NaN allowed.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = ~np.isnan(p)
    if not finite.any():
        return out
    if ((p[finite] < 0) | (p[finite] > 1)).any():
        raise ParamsError("p-values must lie in [0, 1]")
    values = p[finite]
    m = values.size
    order = np.argsort(values, kind="mergesort")
    scaled = values[order] * m / np.arange(1, m + 1)
    adjusted_sorted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    out[finite] = adjusted
    return out


def z_value(confidence: float) -> float:
    """Two-sided standard-normal critical value for ``confidence``."""
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def two_sided_normal_p(z: float) -> float:
    """Two-sided p-value of a standard-normal statistic (NaN stays NaN)."""
    if not np.isfinite(z):
        return float("nan")
    return float(2.0 * stats.norm.sf(abs(z)))

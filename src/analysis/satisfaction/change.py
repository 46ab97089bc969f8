"""A score of one period against another: the one significance test of a change.

Two periods' scores are independent estimates, so their difference is tested with
``z = (s1 - s0) / sqrt(SE1^2 + SE0^2)``, two-sided, with the trinomial standard error for
NPS (:func:`~analysis.satisfaction.nps_standard_error`) and the binomial one for a
top-box share. :func:`difference_test` is that test; the period comparison of the
report (:func:`score_comparison`), the trend (:func:`~analysis.satisfaction.score_trend`)
and the strategy summary (:func:`analysis.strategy.nps_change`) all call it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from .scores import NPSResult, csat, nps


class Difference(NamedTuple):
    """Result of :func:`difference_test` (floats, or arrays for array input)."""

    change: float | np.ndarray
    se: float | np.ndarray
    z: float | np.ndarray
    p_value: float | np.ndarray


def difference_test(
    score: float | Sequence[float] | np.ndarray,
    se: float | Sequence[float] | np.ndarray,
    previous_score: float | Sequence[float] | np.ndarray,
    previous_se: float | Sequence[float] | np.ndarray,
) -> Difference:
    """Two-sided z test of the difference of two independent estimates.

    ``change = score - previous_score``, ``se = sqrt(se^2 + previous_se^2)``,
    ``z = change / se`` and ``p = 2 * (1 - Phi(|z|))``.

    Parameters
    ----------
    score, se
        The newer estimate and its standard error (scalars or arrays of one length).
    previous_score, previous_se
        The older estimate and its standard error, in the same units.

    Returns
    -------
    Difference
        ``change``, ``se``, ``z`` and ``p_value``; ``z`` and ``p_value`` are NaN where
        the standard error is missing or not positive (no spread: nothing to test).
        Scalars in, floats out; arrays in, arrays out.

    Examples
    --------
    >>> d = difference_test(40.0, 3.0, 30.0, 4.0)
    >>> d.change, d.se, d.z, round(d.p_value, 4)
    (10.0, 5.0, 2.0, 0.0455)
    """
    s1, e1, s0, e0 = (np.asarray(v, dtype=float) for v in (score, se, previous_score, previous_se))
    change = s1 - s0
    change_se = np.sqrt(e1**2 + e0**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(change_se > 0, change / change_se, np.nan)
    p = 2.0 * stats.norm.sf(np.abs(z))  # NaN stays NaN
    if change.ndim == 0:
        return Difference(float(change), float(change_se), float(z), float(p))
    return Difference(change, change_se, z, p)


def share_standard_error(share: float, n: int) -> float:
    """Binomial standard error of a share, ``sqrt(p (1 - p) / n)`` (NaN when ``n == 0``)."""
    if not n:
        return float("nan")
    return float(math.sqrt(share * (1.0 - share) / n))


@dataclass(frozen=True)
class NPSChange:
    """The NPS of two sets of answers and the test of their difference.

    Attributes
    ----------
    current, previous : NPSResult
        The two scores (with their intervals and bases).
    change : float
        ``current.nps - previous.nps`` in points (NaN when either side has no answer).
    se, z, p_value : float
        Standard error of the change, z statistic and two-sided p-value (NaN when
        either side has no answer or neither has any spread).
    """

    current: NPSResult
    previous: NPSResult
    change: float
    se: float
    z: float
    p_value: float

    def significant(self, alpha: float = 0.05) -> bool:
        """The change is significant at ``alpha`` (False when it cannot be tested)."""
        return bool(math.isfinite(self.p_value) and self.p_value < alpha)


def nps_change(
    current: pd.Series | Sequence[object],
    previous: pd.Series | Sequence[object],
    *,
    confidence: float = 0.95,
) -> NPSChange:
    """Compare the NPS of two independent sets of answers (e.g. two periods).

    Each NPS comes from :func:`~analysis.satisfaction.nps` with its trinomial standard
    error ``100 * sqrt((p + d - (p - d)^2) / n)``; the change is tested with
    :func:`difference_test`.

    Parameters
    ----------
    current, previous
        Raw answers to the 0-10 question of the newer and the older set.
    confidence
        Level of the two intervals (the test is two-sided at any level).

    Returns
    -------
    NPSChange

    Examples
    --------
    >>> r = nps_change([10] * 50 + [0] * 50, [10] * 80 + [0] * 20)
    >>> round(r.change, 1), r.p_value < 0.001
    (-60.0, True)
    """
    now, before = nps(current, confidence=confidence), nps(previous, confidence=confidence)
    if not (now.n and before.n):
        nan = float("nan")
        return NPSChange(now, before, nan, nan, nan, nan)
    test = difference_test(now.nps, now.se, before.nps, before.se)
    return NPSChange(now, before, test.change, test.se, test.z, test.p_value)


def score_comparison(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    *,
    has_nps: bool,
    overall: str | None,
    overall_scale: tuple[int, int] = (1, 5),
    days: tuple[int, int] = (1, 1),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Headline scores of a period vs the previous one, each with a significance test.

    * NPS: :func:`nps_change` (difference of two independent estimates, trinomial SEs).
    * CSAT top-2-box share: :func:`difference_test` with binomial standard errors.
    * Response count: exact binomial test of ``n1`` out of ``n1 + n0`` against the
      share of days ``d1 / (d1 + d0)`` (equal daily response rates; periods may differ
      in length).

    One pre-specified comparison per metric, so no multiple-testing correction.

    Parameters
    ----------
    current, previous
        Responses of the two periods.
    has_nps, overall, overall_scale
        Which scores the survey has (see :class:`~analysis.satisfaction.Survey`).
    days
        Lengths of the current and the previous period in days.
    alpha
        Significance level.

    Returns
    -------
    DataFrame
        Index ``metric`` (``nps``, ``csat``, ``responses``); columns ``value, ci_low,
        ci_high, n, previous, previous_n, change, p_value, significant``. NPS in points,
        CSAT as a share (0-1), responses as counts; ``change`` is absolute for the
        scores and relative for the count.
    """
    rows: dict[str, dict[str, float]] = {}
    if has_nps:
        found = nps_change(current["nps"], previous["nps"])
        a, b = found.current, found.previous
        rows["nps"] = dict(
            value=a.nps,
            ci_low=a.ci_low,
            ci_high=a.ci_high,
            n=a.n,
            previous=b.nps,
            previous_n=b.n,
            change=found.change,
            p_value=found.p_value,
        )
    if overall:
        a = csat(current[overall], scale=overall_scale)
        b = csat(previous[overall], scale=overall_scale)
        test = difference_test(
            a.top_box,
            share_standard_error(a.top_box, a.n),
            b.top_box,
            share_standard_error(b.top_box, b.n),
        )
        rows["csat"] = dict(
            value=a.top_box,
            ci_low=a.ci_low,
            ci_high=a.ci_high,
            n=a.n,
            previous=b.top_box,
            previous_n=b.n,
            change=test.change if a.n and b.n else np.nan,
            p_value=test.p_value,
        )
    n1, n0 = len(current), len(previous)
    p = np.nan
    if n0 > 0:
        p = stats.binomtest(n1, n1 + n0, days[0] / (days[0] + days[1])).pvalue
    rows["responses"] = dict(
        value=float(n1),
        ci_low=np.nan,
        ci_high=np.nan,
        n=n1,
        previous=float(n0),
        previous_n=n0,
        change=(n1 - n0) / n0 if n0 else np.nan,
        p_value=float(p),
    )
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "metric"
    out["significant"] = (out["p_value"] < alpha).fillna(False).astype(bool)
    return out

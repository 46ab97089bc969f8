"""NPS and CSAT: point estimates with intervals, per group with tests.

Formulas
--------
* NPS (Reichheld 2003): promoters answer 9-10, passives 7-8, detractors 0-6 on the 0-10
  likelihood-to-recommend question; ``NPS = 100 * (p - d)`` with p, d the shares.
* Each respondent's recoded score X is +100 / 0 / -100, so NPS is a mean of X and the
  trinomial variance of one answer is ``p + d - (p - d)**2`` (in share units).
* CSAT top-box share: Wilson (1927) score interval; mean rating: Student-t interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ParamsError
from ._common import (
    benjamini_hochberg,
    check_confidence,
    check_positive_int,
    check_scale,
    check_top_box,
    clean_scores,
    require_columns,
    require_score,
    two_sided_normal_p,
    z_value,
)

NPS_SCALE = (0, 10)
NPS_CATEGORIES = ("detractor", "passive", "promoter")

_NPS_GROUP_COLUMNS = [
    "n",
    "n_invalid",
    "promoters",
    "passives",
    "detractors",
    "nps",
    "ci_low",
    "ci_high",
    "rest_n",
    "rest_nps",
    "diff",
    "p_value",
]
_CSAT_GROUP_COLUMNS = [
    "n",
    "n_invalid",
    "top_box",
    "ci_low",
    "ci_high",
    "mean",
    "mean_ci_low",
    "mean_ci_high",
    "rest_n",
    "rest_top_box",
    "diff",
    "p_value",
]


@dataclass(frozen=True)
class NPSResult:
    """Net Promoter Score of one set of answers.

    Attributes
    ----------
    n : int
        Valid answers used.
    promoters, passives, detractors : float
        Shares (0-1) of valid answers scoring 9-10, 7-8 and 0-6.
    nps : float
        ``100 * (promoters - detractors)``, between -100 and 100 (NaN when n == 0).
    ci_low, ci_high : float
        Interval bounds in NPS points (clipped to [-100, 100]).
    n_invalid : int
        Answers present but not an integer 0-10 (excluded, not coerced).
    n_missing : int
        Respondents who skipped the question (NA).
    confidence : float
        Confidence level of the interval.
    method : str
        ``"analytic"`` or ``"bootstrap"``.
    """

    n: int
    promoters: float
    passives: float
    detractors: float
    nps: float
    ci_low: float
    ci_high: float
    n_invalid: int
    n_missing: int = 0
    confidence: float = 0.95
    method: str = "analytic"

    @property
    def se(self) -> float:
        """Analytic standard error in NPS points, ``100 * sqrt((p + d - (p - d)^2) / n)``."""
        return nps_standard_error(self.promoters, self.detractors, self.n)


@dataclass(frozen=True)
class CSATResult:
    """Customer satisfaction of one set of answers on a rating scale.

    Attributes
    ----------
    n : int
        Valid answers used.
    top_box : float
        Share (0-1) of valid answers in the top ``top_box_levels`` levels of the scale.
    ci_low, ci_high : float
        Wilson score interval of ``top_box`` (shares).
    mean : float
        Mean rating.
    mean_ci_low, mean_ci_high : float
        Student-t interval of the mean (NaN when n < 2).
    n_invalid : int
        Answers present but not a number inside the scale (excluded, not coerced);
        fractions inside the scale (composite indexes) are valid.
    n_missing : int
        Respondents who skipped the question (NA).
    scale : tuple of int
        The declared scale ``(low, high)``.
    top_box_levels : int
        How many top levels count as satisfied (2 = "top-2-box").
    confidence : float
        Confidence level of both intervals.
    """

    n: int
    top_box: float
    ci_low: float
    ci_high: float
    mean: float
    mean_ci_low: float
    mean_ci_high: float
    n_invalid: int
    n_missing: int = 0
    scale: tuple[int, int] = (1, 5)
    top_box_levels: int = 2
    confidence: float = 0.95


# --------------------------------------------------------------------------- helpers


def nps_standard_error(promoters: float, detractors: float, n: int) -> float:
    """Standard error of an NPS in points: ``100 * sqrt((p + d - (p - d)**2) / n)``.

    The recoded answer X in {+1, 0, -1} has mean ``p - d`` and variance
    ``E[X^2] - E[X]^2 = p + d - (p - d)^2`` (trinomial), so the NPS, a mean of n such
    answers, has that variance divided by n.
    """
    if n <= 0:
        return float("nan")
    var = promoters + detractors - (promoters - detractors) ** 2
    return float(100.0 * np.sqrt(max(var, 0.0) / n))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval for a binomial share.

    ``(p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``.
    """
    if n <= 0:
        return float("nan"), float("nan")
    z = z_value(confidence)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def nps_category(scores: pd.Series | Sequence[object]) -> pd.Series:
    """Label each NPS answer as ``detractor`` (0-6), ``passive`` (7-8) or ``promoter`` (9-10).

    Missing and invalid answers get NA. The result is an ordered categorical with the
    input's index, ready to pass as ``groups`` to :func:`analysis.text.comment_themes`.

    Examples
    --------
    >>> nps_category([10, 7, 3, None, 11]).tolist()
    ['promoter', 'passive', 'detractor', nan, nan]
    """
    valid, _ = clean_scores(scores, NPS_SCALE, whole=True)
    labels = pd.cut(valid, bins=[-0.5, 6.5, 8.5, 10.5], labels=list(NPS_CATEGORIES))
    return pd.Series(
        pd.Categorical(labels, categories=NPS_CATEGORIES, ordered=True), index=valid.index
    )


def _check_method(method: str) -> str:
    if method not in ("analytic", "bootstrap"):
        raise ParamsError(f"method must be 'analytic' or 'bootstrap', got {method!r}")
    return method


def _nps_from_counts(
    counts: tuple[int, int, int],
    *,
    method: str,
    confidence: float,
    n_boot: int,
    rng: np.random.Generator | None,
    n_invalid: int = 0,
    n_missing: int = 0,
) -> NPSResult:
    """NPSResult from (promoters, passives, detractors) counts."""
    n_pro, n_pas, n_det = (int(c) for c in counts)
    n = n_pro + n_pas + n_det
    if n == 0:
        nan = float("nan")
        return NPSResult(0, nan, nan, nan, nan, nan, nan, n_invalid, n_missing, confidence, method)
    p, pa, d = n_pro / n, n_pas / n, n_det / n
    score = 100.0 * (p - d)
    if method == "analytic":
        half = z_value(confidence) * nps_standard_error(p, d, n)
        low, high = score - half, score + half
    else:
        # resampling n answers with replacement = a multinomial draw of the three counts
        rng = rng if rng is not None else np.random.default_rng(0)
        draws = rng.multinomial(n, [p, pa, d], size=n_boot)
        boot = 100.0 * (draws[:, 0] - draws[:, 2]) / n
        tail = (1.0 - confidence) / 2.0
        low, high = np.quantile(boot, [tail, 1.0 - tail])
    return NPSResult(
        n=n,
        promoters=p,
        passives=pa,
        detractors=d,
        nps=score,
        ci_low=float(max(-100.0, low)),
        ci_high=float(min(100.0, high)),
        n_invalid=n_invalid,
        n_missing=n_missing,
        confidence=confidence,
        method=method,
    )


def _counts(valid: pd.Series) -> tuple[int, int, int]:
    v = valid.dropna()
    return int((v >= 9).sum()), int(((v >= 7) & (v <= 8)).sum()), int((v <= 6).sum())


def _csat_from_valid(
    valid: np.ndarray,
    *,
    scale: tuple[int, int],
    top_box: int,
    confidence: float,
    n_invalid: int = 0,
    n_missing: int = 0,
) -> CSATResult:
    v = valid[~np.isnan(valid)]
    n = int(v.size)
    nan = float("nan")
    if n == 0:
        return CSATResult(
            0, nan, nan, nan, nan, nan, nan, n_invalid, n_missing, scale, top_box, confidence
        )
    hits = int((v >= scale[1] - top_box + 1).sum())
    low, high = wilson_interval(hits, n, confidence)
    mean = float(v.mean())
    if n >= 2:
        se = float(v.std(ddof=1)) / np.sqrt(n)
        half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * se
        m_low, m_high = float(mean - half), float(mean + half)
    else:
        m_low = m_high = nan
    return CSATResult(
        n=n,
        top_box=hits / n,
        ci_low=low,
        ci_high=high,
        mean=mean,
        mean_ci_low=m_low,
        mean_ci_high=m_high,
        n_invalid=n_invalid,
        n_missing=n_missing,
        scale=scale,
        top_box_levels=top_box,
        confidence=confidence,
    )


# --------------------------------------------------------------------------- single scores


def nps(
    scores: pd.Series | Sequence[object] | np.ndarray,
    *,
    method: Literal["analytic", "bootstrap"] = "analytic",
    confidence: float = 0.95,
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = 0,
) -> NPSResult:
    """Net Promoter Score with a confidence interval.

    Promoters answer 9-10, detractors 0-6, ``NPS = 100 * (p - d)``.

    The analytic interval is ``NPS +- z * SE`` with the trinomial standard error
    ``SE = 100 * sqrt((p + d - (p - d)^2) / n)``: each answer recoded +1 / 0 / -1 has
    variance ``p + d - (p - d)^2``, and the NPS is their mean. The bootstrap interval
    is the percentile interval of ``n_boot`` resamples (drawn as multinomial counts,
    which is the same as resampling answers). Both are clipped to [-100, 100].

    Parameters
    ----------
    scores
        Raw answers to the 0-10 question. NA means "not answered" (counted in
        ``n_missing``); non-numeric, non-integer or out-of-range answers are counted in
        ``n_invalid`` and excluded, never coerced.
    method
        ``"analytic"`` (default) or ``"bootstrap"``.
    confidence
        Confidence level of the interval.
    n_boot
        Bootstrap resamples (``method="bootstrap"`` only).
    random_state
        Seed or generator for the bootstrap.

    Returns
    -------
    NPSResult
        With ``n == 0`` and NaN scores when there is no valid answer.

    Raises
    ------
    ParamsError
        For an unknown method, a confidence outside (0, 1) or ``n_boot < 1``.

    Examples
    --------
    >>> r = nps([10, 9, 8, 7, 6, 0, 10, 10])
    >>> round(r.nps, 1), r.n
    (25.0, 8)
    """
    method = _check_method(method)
    confidence = check_confidence(confidence)
    n_boot = check_positive_int(n_boot, "n_boot")
    valid, invalid = clean_scores(scores, NPS_SCALE, whole=True)
    n_missing = int((valid.isna() & ~invalid).sum())
    return _nps_from_counts(
        _counts(valid),
        method=method,
        confidence=confidence,
        n_boot=n_boot,
        rng=np.random.default_rng(random_state),
        n_invalid=int(invalid.sum()),
        n_missing=n_missing,
    )


def csat(
    scores: pd.Series | Sequence[object] | np.ndarray,
    *,
    scale: tuple[int, int] = (1, 5),
    top_box: int = 2,
    confidence: float = 0.95,
) -> CSATResult:
    """CSAT: top-box share with a Wilson interval, and mean rating with a t-interval.

    Parameters
    ----------
    scores
        Raw answers on ``scale``. NA means "not answered"; non-numeric or out-of-range
        answers are counted in ``n_invalid`` and excluded, never coerced. Fractions
        inside the scale are valid (a composite index such as the mean of three items);
        an answer is in the top box when it is at least ``high - top_box + 1``.
    scale
        Declared scale ``(low, high)`` of the question, integers.
    top_box
        Number of top levels counted as satisfied (2 on a 1-5 scale = answers 4 and 5,
        on a 1-10 scale answers of 9 or more).
    confidence
        Confidence level of both intervals.

    Returns
    -------
    CSATResult
        With ``n == 0`` and NaN values when there is no valid answer.

    Raises
    ------
    ParamsError
        For a bad scale, ``top_box`` covering the whole scale, or a bad confidence.

    Examples
    --------
    >>> r = csat([5, 4, 3, 2, 5, 9])
    >>> r.n, r.top_box, r.n_invalid
    (5, 0.6, 1)
    """
    scale = check_scale(scale)
    top_box = check_top_box(top_box, scale)
    confidence = check_confidence(confidence)
    valid, invalid = clean_scores(scores, scale)
    return _csat_from_valid(
        valid.to_numpy(dtype=float),
        scale=scale,
        top_box=top_box,
        confidence=confidence,
        n_invalid=int(invalid.sum()),
        n_missing=int((valid.isna() & ~invalid).sum()),
    )


# --------------------------------------------------------------------------- per group


def _by_list(by: str | Sequence[str]) -> list[str]:
    if isinstance(by, str):
        return [by]
    by = list(by)
    if not by:
        raise ParamsError("by must name at least one grouping column")
    return by


def _finish_group_table(
    table: pd.DataFrame, *, score: str, alpha: float, min_base: int
) -> pd.DataFrame:
    """Add BH-adjusted p-values, significance, small-base flag and rank (in place)."""
    table["small_base"] = table["n"] < min_base
    table.loc[table["small_base"], "p_value"] = np.nan
    table["p_adjusted"] = benjamini_hochberg(table["p_value"].to_numpy(dtype=float))
    table["significant"] = (table["p_adjusted"] < alpha).fillna(False).astype(bool)
    ranked = table[score].where(~table["small_base"])
    table["rank"] = ranked.rank(ascending=False, method="min").astype("Int64")
    return table


def nps_by_group(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    *,
    score_col: str = "nps",
    min_base: int = 30,
    confidence: float = 0.95,
    alpha: float = 0.05,
    method: Literal["analytic", "bootstrap"] = "analytic",
    n_boot: int = 2000,
    random_state: int = 0,
) -> pd.DataFrame:
    """NPS per group with an interval and a test against the rest of the population.

    Each group is compared with all other respondents with a valid answer (including
    those whose group is missing): answers are recoded +100 / 0 / -100 and compared
    with Welch's unequal-variance t-test. P-values are adjusted across the groups with
    Benjamini-Hochberg. Groups with fewer than ``min_base`` valid answers are flagged
    ``small_base``: they are shown but not tested (p-values NA) and never ranked.

    Parameters
    ----------
    frame
        Survey responses, one row per response.
    by
        Grouping column(s): segment, customer_type, channel, touchpoint, region, unit...
        Rows with a missing group value form no group.
    score_col
        Column with the 0-10 answers.
    min_base
        Minimum valid answers for a group to be tested and ranked.
    confidence
        Confidence level of the intervals.
    alpha
        Significance level applied to the BH-adjusted p-values.
    method, n_boot, random_state
        Interval method as in :func:`nps`.

    Returns
    -------
    DataFrame
        Index: the group values (named after ``by``). Columns ``n, n_invalid,
        promoters, passives, detractors`` (shares), ``nps, ci_low, ci_high`` (points),
        ``rest_n, rest_nps, diff`` (group minus rest, points), ``p_value, p_adjusted,
        significant, small_base, rank`` (1 = highest NPS; NA for small bases).

    Raises
    ------
    MissingScoreError
        When the survey has no NPS question (``score_col`` absent or empty).
    DataError
        When a grouping column is missing.
    """
    by = _by_list(by)
    require_columns(frame, by)
    require_score(frame, score_col)
    min_base = check_positive_int(min_base, "min_base")
    confidence = check_confidence(confidence)
    alpha = check_confidence(alpha, "alpha")
    method = _check_method(method)
    n_boot = check_positive_int(n_boot, "n_boot")
    rng = np.random.default_rng(random_state)

    valid, invalid = clean_scores(frame[score_col], NPS_SCALE, whole=True)
    recoded = np.select([valid >= 9, valid <= 6], [100.0, -100.0], 0.0)
    recoded = pd.Series(np.where(valid.notna(), recoded, np.nan), index=frame.index)
    work = frame[by].assign(_x=recoded, _invalid=invalid)
    total_n = int(recoded.notna().sum())
    total_sum = float(np.nansum(recoded))
    total_sq = float(np.nansum(recoded**2))

    rows = []
    keys = []
    for key, part in work.groupby(by, dropna=True, sort=True, observed=True):
        x = part["_x"].dropna()
        counts = (int((x == 100).sum()), int((x == 0).sum()), int((x == -100).sum()))
        res = _nps_from_counts(
            counts,
            method=method,
            confidence=confidence,
            n_boot=n_boot,
            rng=rng,
            n_invalid=int(part["_invalid"].sum()),
        )
        rest_n = total_n - res.n
        rest_sum = total_sum - float(x.sum())
        rest_mean = rest_sum / rest_n if rest_n > 0 else np.nan
        p_value = np.nan
        if res.n >= 2 and rest_n >= 2:
            g_var = float(x.var(ddof=1))
            r_var = (total_sq - float((x**2).sum()) - rest_n * rest_mean**2) / (rest_n - 1)
            if g_var > 0 or r_var > 1e-9:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    p_value = stats.ttest_ind_from_stats(
                        res.nps,
                        np.sqrt(g_var),
                        res.n,
                        rest_mean,
                        np.sqrt(max(r_var, 0.0)),
                        rest_n,
                        equal_var=False,
                    ).pvalue
        keys.append(key[0] if len(by) == 1 else key)
        rows.append(
            {
                "n": res.n,
                "n_invalid": res.n_invalid,
                "promoters": res.promoters,
                "passives": res.passives,
                "detractors": res.detractors,
                "nps": res.nps,
                "ci_low": res.ci_low,
                "ci_high": res.ci_high,
                "rest_n": rest_n,
                "rest_nps": rest_mean,
                "diff": res.nps - rest_mean,
                "p_value": float(p_value),
            }
        )
    table = _group_frame(rows, keys, by, _NPS_GROUP_COLUMNS)
    return _finish_group_table(table, score="nps", alpha=alpha, min_base=min_base)


def _group_frame(rows: list[dict], keys: list, by: list[str], columns: list[str]) -> pd.DataFrame:
    if len(by) == 1:
        index = pd.Index(keys, name=by[0])
    else:
        index = (
            pd.MultiIndex.from_tuples(keys, names=by)
            if keys
            else pd.MultiIndex.from_arrays([[] for _ in by], names=by)
        )
    return (
        pd.DataFrame(rows, index=index, columns=columns)
        .astype({c: float for c in columns if c not in ("n", "n_invalid", "rest_n")})
        .astype({"n": int, "n_invalid": int, "rest_n": int})
    )


def csat_by_group(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    *,
    score_col: str = "csat",
    scale: tuple[int, int] = (1, 5),
    top_box: int = 2,
    min_base: int = 30,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """CSAT top-box share (and mean) per group with a test against the rest.

    The group's top-box share is compared with the share among all other respondents
    with a pooled two-proportion z-test; p-values are BH-adjusted across groups. Small
    bases (``n < min_base``) are shown but not tested and never ranked.

    Parameters
    ----------
    frame
        Survey responses, one row per response.
    by
        Grouping column(s). Rows with a missing group value form no group.
    score_col
        Column with the satisfaction answers (``csat`` or an overall rating item).
    scale, top_box
        Declared scale and number of top levels counted as satisfied.
    min_base, confidence, alpha
        As in :func:`nps_by_group`.

    Returns
    -------
    DataFrame
        Index: the group values. Columns ``n, n_invalid, top_box, ci_low, ci_high``
        (shares, Wilson), ``mean, mean_ci_low, mean_ci_high``, ``rest_n, rest_top_box,
        diff`` (share difference), ``p_value, p_adjusted, significant, small_base,
        rank`` (1 = highest top-box share; NA for small bases).

    Raises
    ------
    MissingScoreError
        When ``score_col`` is absent or empty.
    DataError
        When a grouping column is missing.
    """
    by = _by_list(by)
    require_columns(frame, by)
    require_score(frame, score_col)
    scale = check_scale(scale)
    top_box = check_top_box(top_box, scale)
    min_base = check_positive_int(min_base, "min_base")
    confidence = check_confidence(confidence)
    alpha = check_confidence(alpha, "alpha")

    valid, invalid = clean_scores(frame[score_col], scale)
    hit = (valid >= scale[1] - top_box + 1).where(valid.notna())
    work = frame[by].assign(_x=valid, _hit=hit, _invalid=invalid)
    total_n = int(valid.notna().sum())
    total_hits = int((hit == 1).sum())

    rows, keys = [], []
    for key, part in work.groupby(by, dropna=True, sort=True, observed=True):
        res = _csat_from_valid(
            part["_x"].to_numpy(dtype=float),
            scale=scale,
            top_box=top_box,
            confidence=confidence,
            n_invalid=int(part["_invalid"].sum()),
        )
        hits = int(round(res.top_box * res.n)) if res.n else 0
        rest_n = total_n - res.n
        rest_hits = total_hits - hits
        rest_share = rest_hits / rest_n if rest_n > 0 else np.nan
        p_value = np.nan
        if res.n > 0 and rest_n > 0:
            pooled = (hits + rest_hits) / (res.n + rest_n)
            se = np.sqrt(pooled * (1 - pooled) * (1 / res.n + 1 / rest_n))
            if se > 0:
                p_value = two_sided_normal_p((res.top_box - rest_share) / se)
        keys.append(key[0] if len(by) == 1 else key)
        rows.append(
            {
                "n": res.n,
                "n_invalid": res.n_invalid,
                "top_box": res.top_box,
                "ci_low": res.ci_low,
                "ci_high": res.ci_high,
                "mean": res.mean,
                "mean_ci_low": res.mean_ci_low,
                "mean_ci_high": res.mean_ci_high,
                "rest_n": rest_n,
                "rest_top_box": rest_share,
                "diff": res.top_box - rest_share,
                "p_value": float(p_value),
            }
        )
    table = _group_frame(rows, keys, by, _CSAT_GROUP_COLUMNS)
    return _finish_group_table(table, score="top_box", alpha=alpha, min_base=min_base)

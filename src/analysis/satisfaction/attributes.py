"""Attribute ratings: distributions, reliability, key drivers, importance-performance.

Key drivers use Johnson's (2000) relative weights: the drivers are replaced by their
closest orthogonal counterparts ``Z = X R^{-1/2}`` (R the driver correlation matrix),
the outcome is regressed on Z (``beta = R^{-1/2} r_xy``), and each driver's raw weight
is ``eps_j = sum_k lambda_jk^2 beta_k^2`` with ``Lambda = R^{1/2}``; the raw weights sum
to the model R^2. They approximate the general dominance (Shapley) decomposition of R^2
(Budescu 1993; LeBreton et al. 2004) at a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ModelError, ParamsError
from ..i18n import t
from ._common import (
    DEFAULT_SCALES,
    Scale,
    check_confidence,
    check_positive_int,
    clean_scores,
    require_columns,
    require_score,
    scale_for,
)

QUADRANTS = ("fix_first", "keep_up", "low_priority", "possible_overkill")


def _rating_columns(frame: pd.DataFrame, ratings: Sequence[str] | None) -> list[str]:
    if ratings is None:
        ratings = [c for c in frame.columns if str(c).startswith("rating_")]
        if not ratings:
            raise ParamsError("no rating_<name> columns found; pass the rating columns explicitly")
    elif isinstance(ratings, str):
        ratings = [ratings]
    ratings = list(ratings)
    if len(set(ratings)) != len(ratings):
        raise ParamsError(f"rating columns are listed twice: {ratings}")
    require_columns(frame, ratings)
    return ratings


def _clean_frame(
    frame: pd.DataFrame, columns: Sequence[str], scale: Scale | Mapping | None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Valid scores of ``columns`` (invalid answers become NaN) and invalid counts."""
    cleaned, invalid = {}, {}
    for col in columns:
        valid, bad = clean_scores(frame[col], scale_for(col, scale))
        cleaned[col] = valid
        invalid[col] = int(bad.sum())
    return pd.DataFrame(cleaned, index=frame.index), invalid


# --------------------------------------------------------------------------- distribution


def rating_distribution(
    frame: pd.DataFrame,
    ratings: Sequence[str] | None = None,
    scale: Scale | Mapping[str, Scale] = (1, 5),
) -> pd.DataFrame:
    """Share of answers at each level of each rating, for a diverging stacked bar.

    Parameters
    ----------
    frame
        Survey responses.
    ratings
        Rating columns; default: every ``rating_*`` column.
    scale
        Declared scale ``(low, high)``, or a mapping column -> scale when they differ.
        Out-of-range or non-integer answers are counted in ``n_invalid`` and excluded.

    Returns
    -------
    DataFrame
        Index: the rating columns (named ``rating``). One column per scale level
        (the integer level, shares of valid answers summing to 1 per row; a level a
        rating's own scale lacks is NaN), then ``n``, ``n_invalid`` and ``mean``.

    Examples
    --------
    >>> df = pd.DataFrame({"rating_speed": [1, 5, 5, 4]})
    >>> rating_distribution(df)[[1, 5, "n"]].iloc[0].tolist()
    [0.25, 0.5, 4.0]
    """
    ratings = _rating_columns(frame, ratings)
    if not isinstance(scale, Mapping):
        scale_for("x", scale)  # validate
    cleaned, invalid = _clean_frame(frame, ratings, scale)
    scales = {c: scale_for(c, scale) for c in ratings}
    levels = list(range(min(s[0] for s in scales.values()), max(s[1] for s in scales.values()) + 1))
    rows = []
    for col in ratings:
        v = cleaned[col].dropna()
        low, high = scales[col]
        n = int(v.size)
        row: dict[object, float] = {}
        for level in levels:
            row[level] = (
                (float((v == level).sum()) / n if n else np.nan) if low <= level <= high else np.nan
            )
        row.update(n=n, n_invalid=invalid[col], mean=float(v.mean()) if n else np.nan)
        rows.append(row)
    out = pd.DataFrame(
        rows, index=pd.Index(ratings, name="rating"), columns=[*levels, "n", "n_invalid", "mean"]
    )
    return out.astype({"n": int, "n_invalid": int})


# --------------------------------------------------------------------------- reliability


@dataclass(frozen=True, eq=False)
class ReliabilityResult:
    """Cronbach's alpha of a set of items.

    Attributes
    ----------
    alpha : float
        Cronbach's alpha.
    n : int
        Complete-case respondents used.
    n_items : int
        Number of items.
    reliable : bool
        ``alpha >= threshold``.
    threshold : float
        The reliability threshold (0.7 by convention, Nunnally 1978).
    n_dropped : int
        Respondents left out because an item was missing or invalid.
    item_stats : DataFrame
        Per item: ``item_total_r`` (corrected item-total correlation) and
        ``alpha_if_deleted``.
    """

    alpha: float
    n: int
    n_items: int
    reliable: bool
    threshold: float
    n_dropped: int
    item_stats: pd.DataFrame


def _alpha(values: np.ndarray) -> float:
    """Cronbach (1951): ``k/(k-1) * (1 - sum var(item) / var(total))`` (ddof=1)."""
    k = values.shape[1]
    total_var = values.sum(axis=1).var(ddof=1)
    if total_var <= 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - values.var(axis=0, ddof=1).sum() / total_var))


def cronbach_alpha(
    frame: pd.DataFrame,
    items: Sequence[str],
    *,
    scale: Scale | Mapping[str, Scale] = (1, 5),
    threshold: float = 0.7,
) -> ReliabilityResult:
    """Cronbach's alpha of rating items, on complete cases.

    ``alpha = k / (k - 1) * (1 - sum_i var(item_i) / var(sum of items))`` with sample
    variances (Cronbach 1951).

    Parameters
    ----------
    frame
        Survey responses.
    items
        At least two rating columns meant to measure one thing.
    scale
        Declared scale (or mapping column -> scale); invalid answers are excluded.
    threshold
        Alpha at or above which the scale is called reliable.

    Returns
    -------
    ReliabilityResult

    Raises
    ------
    ParamsError
        With fewer than two items.
    ModelError
        With fewer than three complete cases or no variance in the total score.
    """
    items = _rating_columns(frame, items)
    if len(items) < 2:
        raise ParamsError("Cronbach's alpha needs at least two items")
    cleaned, _ = _clean_frame(frame, items, scale)
    complete = cleaned.dropna()
    n = len(complete)
    if n < 3:
        raise ModelError(f"Cronbach's alpha needs at least 3 complete answers, got {n}")
    values = complete.to_numpy(dtype=float)
    alpha = _alpha(values)
    if np.isnan(alpha):
        raise ModelError("Cronbach's alpha is undefined: the summed score has no variance")
    stats_rows = []
    for j in range(len(items)):
        rest = np.delete(values, j, axis=1)
        rest_total = rest.sum(axis=1)
        r = (
            float(np.corrcoef(values[:, j], rest_total)[0, 1])
            if values[:, j].std() > 0 and rest_total.std() > 0
            else np.nan
        )
        stats_rows.append(
            {"item_total_r": r, "alpha_if_deleted": _alpha(rest) if rest.shape[1] >= 2 else np.nan}
        )
    item_stats = pd.DataFrame(stats_rows, index=pd.Index(items, name="item"))
    return ReliabilityResult(
        alpha=alpha,
        n=n,
        n_items=len(items),
        reliable=bool(alpha >= threshold),
        threshold=float(threshold),
        n_dropped=int(len(frame) - n),
        item_stats=item_stats,
    )


# --------------------------------------------------------------------------- key drivers


def relative_weights(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Johnson's (2000) relative weights of the columns of ``x`` for ``y``.

    Returns
    -------
    raw : ndarray
        Raw weights (sum = R^2).
    r2 : float
        R^2 of the multiple regression of y on x.
    beta : ndarray
        Standardized multiple-regression coefficients.

    Raises
    ------
    ModelError
        When a driver is constant or the drivers are perfectly collinear.
    """
    data = np.column_stack([x, y])
    sd = data.std(axis=0)
    if (sd <= 0).any():
        raise ModelError("a driver or the outcome has no variance")
    corr = np.corrcoef(data, rowvar=False)
    p = x.shape[1]
    rxx, rxy = corr[:p, :p], corr[:p, p]
    evals, evecs = np.linalg.eigh(rxx)
    if evals.min() <= 1e-10 * max(evals.max(), 1e-300):
        raise ModelError("drivers are perfectly collinear (their correlation matrix is singular)")
    lam = (evecs * np.sqrt(evals)) @ evecs.T  # R^{1/2}
    beta_z = (evecs / np.sqrt(evals)) @ evecs.T @ rxy  # R^{-1/2} r_xy
    raw = (lam**2) @ (beta_z**2)
    beta = np.linalg.solve(rxx, rxy)
    return raw, float(rxy @ beta), beta


def key_drivers(
    frame: pd.DataFrame,
    outcome: str,
    drivers: Sequence[str],
    *,
    n_boot: int = 200,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = 0,
    scale: Scale | Mapping[str, Scale] | None = None,
) -> pd.DataFrame:
    """Key-driver analysis with Johnson's (2000) relative weights and bootstrap intervals.

    Each driver's raw weight is its share of the outcome's explained variance (the raw
    weights sum to the multiple-regression R^2); ``share`` rescales them to percent.
    Intervals are bootstrap percentile intervals of the share (rows resampled with
    replacement). Only rows with a valid answer to the outcome and every driver are
    used (complete cases); invalid answers (outside the declared scale) count as
    missing.

    Parameters
    ----------
    frame
        Survey responses.
    outcome
        Outcome column: ``nps`` (0-10), ``csat`` or an overall rating.
    drivers
        Rating columns used as drivers (at least one, not the outcome).
    n_boot
        Bootstrap resamples; 0 skips the intervals (NaN).
    confidence
        Level of the percentile interval.
    random_state
        Seed or generator for the bootstrap.
    scale
        Declared scale of the columns: a pair for every rating, or a mapping column ->
        scale; ``nps`` and ``csat`` keep the contract's scale unless mapped.

    Returns
    -------
    DataFrame
        Index ``driver``, sorted by share (largest first). Columns ``raw_weight``
        (sums to R^2), ``share`` (percent, sums to 100), ``ci_low``, ``ci_high``
        (percent), ``sign`` (+1 / -1: sign of the standardized regression coefficient;
        a negative sign under positive correlation usually means suppression).
        ``attrs``: ``r2``, ``n`` (rows used), ``n_dropped`` (incomplete rows),
        ``n_invalid`` (invalid answers per column), ``n_boot_failed``.

    Raises
    ------
    MissingScoreError
        When the outcome question is absent or empty (e.g. no NPS question).
    ModelError
        With too few complete rows, a constant driver, or collinear drivers.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame(rng.integers(1, 6, size=(200, 2)), columns=["rating_a", "rating_b"])
    >>> df["csat"] = np.clip(df["rating_a"] + rng.integers(-1, 2, 200), 1, 5)
    >>> key_drivers(df, "csat", ["rating_a", "rating_b"], n_boot=0).index[0]
    'rating_a'
    """
    drivers = _rating_columns(frame, drivers)
    if outcome in drivers:
        raise ParamsError(f"the outcome {outcome!r} cannot also be a driver")
    require_score(frame, outcome)
    n_boot = check_positive_int(n_boot, "n_boot", minimum=0)
    confidence = check_confidence(confidence)
    if isinstance(scale, Mapping):
        scales = dict(scale)
    elif scale is None:
        scales = {}
    else:  # one pair for every rating; nps and csat keep the contract's scale
        pair = scale_for("x", scale)
        scales = {c: pair for c in [outcome, *drivers] if c not in DEFAULT_SCALES}
    cleaned, invalid = _clean_frame(frame, [outcome, *drivers], scales)
    complete = cleaned.dropna()
    n, p = len(complete), len(drivers)
    if n < p + 3:
        raise ModelError(
            f"key-driver analysis needs at least {p + 3} complete answers for {p} drivers, got {n}"
        )
    constant = [c for c in complete.columns if complete[c].nunique() < 2]
    if constant:
        raise ModelError(f"'{constant[0]}' has a single value in the complete answers; drop it")
    x = complete[drivers].to_numpy(dtype=float)
    y = complete[outcome].to_numpy(dtype=float)
    raw, r2, beta = relative_weights(x, y)
    share = 100.0 * raw / raw.sum()

    low = high = np.full(p, np.nan)
    failed = 0
    if n_boot > 0:
        rng = np.random.default_rng(random_state)
        boots = []
        for _ in range(n_boot):
            idx = rng.integers(0, n, n)
            try:
                b_raw, _, _ = relative_weights(x[idx], y[idx])
            except ModelError:
                failed += 1  # a resample with a constant or collinear column
                continue
            boots.append(100.0 * b_raw / b_raw.sum())
        if boots:
            tail = (1.0 - confidence) / 2.0
            low, high = np.quantile(np.array(boots), [tail, 1.0 - tail], axis=0)
    out = pd.DataFrame(
        {
            "raw_weight": raw,
            "share": share,
            "ci_low": low,
            "ci_high": high,
            "sign": np.sign(beta).astype(int),
        },
        index=pd.Index(drivers, name="driver"),
    ).sort_values("share", ascending=False, kind="mergesort")
    out.attrs.update(
        r2=r2,
        n=n,
        n_dropped=int(len(frame) - n),
        n_invalid=invalid,
        n_boot_failed=failed,
        outcome=outcome,
    )
    return out


# --------------------------------------------------------------------------- IPA


@dataclass(frozen=True, eq=False)
class IPAResult:
    """Importance-performance analysis.

    Attributes
    ----------
    table : DataFrame
        Index ``attribute``; columns ``performance`` (mean rating), ``importance``
        (relative-weight share, percent), ``n``, ``quadrant`` (key) and
        ``quadrant_label`` (localized), sorted by importance.
    fix_first_list : list of str
        Attributes in ``fix_first``, most important first.
    importance_split, performance_split : float
        The split points: the means of importance and of performance over attributes.
    """

    table: pd.DataFrame
    fix_first_list: list[str]
    importance_split: float
    performance_split: float


def _weights_series(weights: object) -> pd.Series:
    if isinstance(weights, pd.DataFrame):
        if "share" not in weights.columns:
            raise ParamsError("weights DataFrame must have a 'share' column (from key_drivers)")
        return weights["share"].astype(float)
    if isinstance(weights, pd.Series):
        return weights.astype(float)
    if isinstance(weights, Mapping):
        return pd.Series(dict(weights), dtype=float)
    raise ParamsError(
        "weights must be the key_drivers table, a Series or a mapping driver -> weight"
    )


def importance_performance(
    frame: pd.DataFrame,
    drivers: Sequence[str],
    weights: pd.DataFrame | pd.Series | Mapping[str, float],
    *,
    scale: Scale | Mapping[str, Scale] = (1, 5),
    language: str = "en",
) -> IPAResult:
    """Importance-performance matrix (Martilla & James 1977) of rating attributes.

    Performance is the mean rating of valid answers; importance is the derived
    importance (relative-weight share from :func:`key_drivers`). The split points are
    the **means** over the attributes of importance and of performance (data-centred
    crosshairs), and a value equal to its split counts as high:

    ===================  ================  ==================
    quadrant             importance        performance
    ===================  ================  ==================
    ``fix_first``        high              low
    ``keep_up``          high              high
    ``low_priority``     low               low
    ``possible_overkill`` low              high
    ===================  ================  ==================

    Parameters
    ----------
    frame
        Survey responses.
    drivers
        Rating columns (all on the same scale, so means compare).
    weights
        The :func:`key_drivers` table (its ``share`` column), or a Series / mapping
        attribute -> importance.
    scale
        Declared scale; invalid answers are excluded from the means.
    language
        Language of ``quadrant_label``.

    Returns
    -------
    IPAResult

    Raises
    ------
    ParamsError
        When a driver has no weight.
    """
    drivers = _rating_columns(frame, drivers)
    w = _weights_series(weights)
    missing = [d for d in drivers if d not in w.index or pd.isna(w[d])]
    if missing:
        raise ParamsError(f"no importance weight for '{missing[0]}'")
    cleaned, _ = _clean_frame(frame, drivers, scale)
    table = pd.DataFrame(
        {
            "performance": cleaned.mean(),
            "importance": w.reindex(drivers).to_numpy(dtype=float),
            "n": cleaned.notna().sum().astype(int),
        },
        index=pd.Index(drivers, name="attribute"),
    )
    imp_split = float(table["importance"].mean())
    perf_split = float(table["performance"].mean())
    high_imp = table["importance"] >= imp_split
    high_perf = table["performance"] >= perf_split
    table["quadrant"] = np.select(
        [high_imp & ~high_perf, high_imp & high_perf, ~high_imp & ~high_perf],
        ["fix_first", "keep_up", "low_priority"],
        "possible_overkill",
    )
    table["quadrant_label"] = [t(f"satisfaction.quadrant.{q}", language) for q in table["quadrant"]]
    table = table.sort_values("importance", ascending=False, kind="mergesort")
    fix_first = table.index[table["quadrant"] == "fix_first"].tolist()
    return IPAResult(table, fix_first, imp_split, perf_split)

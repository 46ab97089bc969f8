"""Attribute ratings: distributions, reliability, key drivers, importance-performance.

Key drivers use Johnson's (2000) relative weights: the drivers are replaced by their
closest orthogonal counterparts ``Z = X R^{-1/2}`` (R the driver correlation matrix),
the outcome is regressed on Z (``beta = R^{-1/2} r_xy``), and each driver's raw weight
is ``eps_j = sum_k lambda_jk^2 beta_k^2`` with ``Lambda = R^{1/2}``; the raw weights sum
to the model R^2. They approximate the general dominance (Shapley) decomposition of R^2
(Budescu 1993; LeBreton et al. 2004) at a fraction of the cost.
"""

from __future__ import annotations

import warnings
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
        Non-numeric or out-of-range answers are counted in ``n_invalid`` and excluded;
        a fraction inside the scale (a composite index) counts at its nearest level
        (halves round up), and ``top2`` / ``bottom2`` use the exact values.

    Returns
    -------
    DataFrame
        Index: the rating columns (named ``rating``). One column per scale level
        (the integer level, shares of valid answers summing to 1 per row; a level a
        rating's own scale lacks is NaN), then ``n``, ``n_invalid``, ``mean``, ``top2``
        and ``bottom2`` (shares of answers in the two highest / lowest levels of the
        rating's own scale: at least ``high - 1`` / at most ``low + 1``).

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
        at = np.floor(v + 0.5)  # a fraction (composite index) counts at its nearest level
        row: dict[object, float] = {}
        for level in levels:
            row[level] = (
                (float((at == level).sum()) / n if n else np.nan)
                if low <= level <= high
                else np.nan
            )
        row.update(
            n=n,
            n_invalid=invalid[col],
            mean=float(v.mean()) if n else np.nan,
            top2=float((v >= high - 1).mean()) if n else np.nan,
            bottom2=float((v <= low + 1).mean()) if n else np.nan,
        )
        rows.append(row)
    out = pd.DataFrame(
        rows,
        index=pd.Index(ratings, name="rating"),
        columns=[*levels, "n", "n_invalid", "mean", "top2", "bottom2"],
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


#: Fewer answers per driver than this: the weights are flagged as rough.
ANSWERS_PER_DRIVER = 10
#: Intervals need at least this share of the bootstrap resamples to fit.
MIN_BOOT_SHARE = 0.5


def _singular_driver(x: np.ndarray, names: list[str]) -> str | None:
    """The driver to leave out when the drivers' correlation matrix is singular: the one
    loading most on the null direction (the last listed of equals), else None."""
    corr = np.corrcoef(x, rowvar=False)
    evals, evecs = np.linalg.eigh(np.atleast_2d(corr))
    if evals.min() > 1e-10 * max(evals.max(), 1e-300):
        return None
    loading = np.abs(evecs[:, 0])
    top = np.flatnonzero(loading >= loading.max() - 1e-9)
    return names[int(top[-1])]


def _drop_reasons(
    raw: pd.DataFrame, invalid: pd.DataFrame, scales: Mapping[str, Scale]
) -> tuple[dict[str, int], str]:
    """Rows left out and why: ``out_of_scale`` (an answer outside its declared scale or
    no number) before ``missing`` (an item not answered), and a sentence saying so."""
    bad = invalid.any(axis=1)
    missing = raw.isna().any(axis=1) & ~bad
    counts = {"out_of_scale": int(bad.sum()), "missing": int(missing.sum())}
    parts = []
    if counts["out_of_scale"]:
        cols = [
            f"{c}: {int(invalid[c].sum())} outside {scales[c][0]}-{scales[c][1]}"
            for c in invalid.columns
            if invalid[c].any()
        ]
        hint = (
            "; declare the survey's scale with scale=(low, high) or a mapping column -> scale"
            if any(c != "nps" and invalid[c].any() for c in invalid.columns)
            else ""
        )
        parts.append(
            f"{counts['out_of_scale']} have an answer outside its declared scale or no number "
            f"({'; '.join(cols)}{hint})"
        )
    if counts["missing"]:
        cols = [f"{c}: {int(raw[c].isna().sum())}" for c in raw.columns if raw[c].isna().any()]
        parts.append(f"{counts['missing']} did not answer every item ({'; '.join(cols)})")
    return counts, ", ".join(parts)


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
    replacement). Every row with a valid answer to the outcome and every driver is used;
    a fraction inside the scale is valid (a composite outcome such as the mean of three
    items). Rows left out are counted by reason (``attrs["dropped"]``), and a
    ``UserWarning`` names answers outside the declared scale: nothing is dropped
    silently.

    Small samples degrade instead of failing: a driver without variation in the used
    rows, or one that is an exact combination of the others (aliased), is left out and
    named in ``attrs["dropped_drivers"]``; intervals that cannot be estimated (too few
    resamples fit) are NaN with ``attrs["interval_note"]`` saying why.

    Parameters
    ----------
    frame
        Survey responses.
    outcome
        Outcome column: ``nps`` (0-10), ``csat``, an overall rating or a composite index.
    drivers
        Rating columns used as drivers (at least one, not the outcome).
    n_boot
        Bootstrap resamples; 0 skips the intervals (NaN).
    confidence
        Level of the percentile interval.
    random_state
        Seed or generator for the bootstrap.
    scale
        Declared scale of the columns: a pair for the outcome and every driver (``nps``
        keeps 0-10), or a mapping column -> scale; a column the mapping lacks (and every
        column when None) takes the contract's default: ``nps`` 0-10, anything else 1-5.

    Returns
    -------
    DataFrame
        Index ``driver`` (the drivers kept), sorted by share (largest first). Columns
        ``raw_weight`` (sums to R^2), ``share`` (percent, sums to 100), ``ci_low``,
        ``ci_high`` (percent), ``sign`` (+1 / -1: sign of the standardized regression
        coefficient; a negative sign under positive correlation usually means
        suppression). ``attrs``: ``outcome``, ``scales`` (column -> scale used),
        ``r2``, ``r2_adjusted``, ``n`` (rows used), ``n_rows`` (rows given),
        ``n_dropped``, ``dropped`` (rows per reason: ``out_of_scale``, ``missing``),
        ``n_invalid`` (invalid answers per column), ``dropped_drivers`` (driver ->
        ``no_variation`` / ``aliased``), ``n_drivers`` (kept), ``answers_per_driver``, ``rough`` (fewer than
        :data:`ANSWERS_PER_DRIVER` answers per driver), ``n_boot``, ``n_boot_failed``,
        ``interval_note`` (None, ``not_requested`` or ``too_few_resamples``).

    Raises
    ------
    MissingScoreError
        When the outcome question is absent or empty (e.g. no NPS question).
    ModelError
        With too few usable rows (the message says how many rows were left out and
        why), an outcome without variation, or no driver left.

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
    columns = [outcome, *drivers]
    if isinstance(scale, Mapping):
        scales = {c: scale_for(c, scale) for c in columns}
    elif scale is None:
        scales = {c: DEFAULT_SCALES.get(c, (1, 5)) for c in columns}
    else:  # one pair for the outcome and every driver; nps is always 0-10
        pair = scale_for("x", scale)
        scales = {c: DEFAULT_SCALES["nps"] if c == "nps" else pair for c in columns}
    cleaned, bad = {}, {}
    for col in columns:
        cleaned[col], bad[col] = clean_scores(frame[col], scales[col], whole=col == "nps")
    cleaned = pd.DataFrame(cleaned, index=frame.index)
    bad = pd.DataFrame(bad, index=frame.index)
    invalid = {c: int(bad[c].sum()) for c in columns}
    dropped, why = _drop_reasons(frame[columns], bad, scales)
    if dropped["out_of_scale"]:
        warnings.warn(
            f"key_drivers left out {dropped['out_of_scale']} of {len(frame)} rows with an "
            f"answer outside its declared scale: {why}",
            UserWarning,
            stacklevel=2,
        )
    complete = cleaned.dropna()
    n = len(complete)
    dropped_drivers: dict[str, str] = {}
    kept = [d for d in drivers if complete[d].nunique() >= 2]
    dropped_drivers |= {d: "no_variation" for d in drivers if d not in kept}
    while len(kept) > 1 and n > len(kept):
        alias = _singular_driver(complete[kept].to_numpy(dtype=float), kept)
        if alias is None:
            break
        kept.remove(alias)
        dropped_drivers[alias] = "aliased"
    p = len(kept)
    need = p or len(drivers)
    if n < need + 3:
        reason = f"; of the {len(frame)} rows, {why}" if why else ""
        raise ModelError(
            f"key-driver analysis of '{outcome}' needs at least {need + 3} usable rows "
            f"for {need} driver(s), got {n}{reason}"
        )
    if not kept:
        raise ModelError(
            f"no driver of '{outcome}' varies in the {n} usable rows "
            f"({', '.join(dropped_drivers)}: a single value each)"
        )
    if complete[outcome].nunique() < 2:
        raise ModelError(
            f"the outcome '{outcome}' has a single value in the {n} usable rows; "
            "there is no variation to explain"
        )
    x = complete[kept].to_numpy(dtype=float)
    y = complete[outcome].to_numpy(dtype=float)
    raw, r2, beta = relative_weights(x, y)
    share = 100.0 * raw / raw.sum()

    low = high = np.full(p, np.nan)
    failed, note = 0, "not_requested" if n_boot == 0 else None
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
        if len(boots) >= max(2, MIN_BOOT_SHARE * n_boot):
            tail = (1.0 - confidence) / 2.0
            low, high = np.quantile(np.array(boots), [tail, 1.0 - tail], axis=0)
        else:
            note = "too_few_resamples"
    out = pd.DataFrame(
        {
            "raw_weight": raw,
            "share": share,
            "ci_low": low,
            "ci_high": high,
            "sign": np.sign(beta).astype(int),
        },
        index=pd.Index(kept, name="driver"),
    ).sort_values("share", ascending=False, kind="mergesort")
    out.attrs.update(
        outcome=outcome,
        scales=scales,
        r2=r2,
        r2_adjusted=1.0 - (1.0 - r2) * (n - 1) / (n - p - 1) if n > p + 1 else np.nan,
        n=n,
        n_rows=int(len(frame)),
        n_dropped=int(len(frame) - n),
        dropped=dropped,
        n_invalid=invalid,
        dropped_drivers=dropped_drivers,
        n_drivers=p,
        answers_per_driver=n / p,
        rough=bool(n < ANSWERS_PER_DRIVER * p),
        n_boot=n_boot,
        n_boot_failed=failed,
        interval_note=note,
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

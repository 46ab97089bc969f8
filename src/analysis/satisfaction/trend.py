"""Score trends over periods and the detection of significant changes.

A change between two periods is tested as a difference of two independent estimates,
``z = (s_t - s_{t-1}) / sqrt(SE_t^2 + SE_{t-1}^2)``, with the trinomial SE for NPS and
the binomial SE for a top-box share (:func:`~analysis.satisfaction.difference_test`,
the one implementation of that test). Across many comparisons (units x periods) the
p-values are adjusted with Benjamini-Hochberg, so a report does not cry wolf.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ..errors import DataError, ParamsError
from ._common import (
    TABLE,
    benjamini_hochberg,
    check_confidence,
    check_positive_int,
    check_top_box,
    clean_scores,
    require_columns,
    require_score,
    scale_for,
    z_value,
)
from .change import difference_test, share_standard_error
from .scores import NPS_SCALE, nps_standard_error, wilson_interval

if TYPE_CHECKING:
    from .survey import Survey

_TREND_COLUMNS = [
    "start",
    "end",
    "n",
    "n_invalid",
    "score",
    "ci_low",
    "ci_high",
    "se",
    "small_base",
    "previous_period",
    "previous_n",
    "previous_score",
    "change",
    "change_se",
    "z",
    "p_value",
    "p_adjusted",
    "significant_change",
]


@dataclass(frozen=True)
class ScoreChange:
    """One significant change of a score between two consecutive periods.

    Attributes
    ----------
    group : object
        The group value (e.g. the business unit), None for the whole population.
    by : str or None
        The grouping column.
    period, previous_period : str
        Period labels such as ``"2025-Q4"`` and ``"2025-Q3"``.
    metric : str
        ``"nps"`` (points) or ``"csat"`` (top-box share, 0-1).
    score, previous_score, change : float
        Scores and their difference (``score - previous_score``).
    direction : str
        ``"up"`` or ``"down"``.
    se, z, p_value, p_adjusted : float
        Standard error of the change, z statistic, raw and BH-adjusted p-values.
    n, previous_n : int
        Valid answers in each period.
    """

    group: object
    by: str | None
    period: str
    previous_period: str
    metric: str
    score: float
    previous_score: float
    change: float
    direction: str
    se: float
    z: float
    p_value: float
    p_adjusted: float
    n: int
    previous_n: int

    def to_dict(self) -> dict[str, object]:
        """The change as a plain dict (one row of a table)."""
        return asdict(self)


def period_label(period: pd.Period) -> str:
    """Readable label of a period: ``2025-Q4``, ``2025-09``, ``2025`` (else pandas' own)."""
    code = period.freqstr.split("-")[0]
    if code.startswith("Q"):
        return f"{period.year}-Q{period.quarter}"
    if code in ("M", "ME"):
        return f"{period.year}-{period.month:02d}"
    if code in ("Y", "YE", "A"):
        return str(period.year)
    return str(period)


def _check_freq(freq: str) -> str:
    freq = {"A": "Y", "QE": "Q", "ME": "M", "YE": "Y"}.get(freq, freq)
    try:
        pd.Period("2025-01-01", freq=freq)
    except (ValueError, TypeError):
        raise ParamsError(
            f"freq must be a period frequency such as 'Q', 'M' or 'Y', got {freq!r}"
        ) from None
    return freq


def _check_score(score: str) -> str:
    if score not in ("nps", "csat"):
        raise ParamsError(f"score must be 'nps' or 'csat', got {score!r}")
    return score


def _as_period(value: object, freq: str) -> pd.Period:
    try:
        if isinstance(value, pd.Period):
            return value.asfreq(freq)
        return pd.Period(str(value).replace("-Q", "Q"), freq=freq)
    except (ValueError, TypeError):
        raise ParamsError(f"cannot read {value!r} as a period of frequency {freq!r}") from None


def _period_stats(
    values: pd.Series,
    invalid: pd.Series,
    *,
    score: str,
    scale: tuple[int, int],
    top_box: int,
    confidence: float,
) -> dict[str, float]:
    v = values.dropna().to_numpy(dtype=float)
    n = int(v.size)
    out: dict[str, float] = {"n": n, "n_invalid": int(invalid.sum())}
    if n == 0:
        out.update(score=np.nan, ci_low=np.nan, ci_high=np.nan, se=np.nan)
        return out
    if score == "nps":
        p, d = float((v >= 9).mean()), float((v <= 6).mean())
        s = 100.0 * (p - d)
        se = nps_standard_error(p, d, n)
        half = z_value(confidence) * se
        out.update(score=s, ci_low=max(-100.0, s - half), ci_high=min(100.0, s + half), se=se)
    else:
        hits = int((v >= scale[1] - top_box + 1).sum())
        share = hits / n
        low, high = wilson_interval(hits, n, confidence)
        out.update(score=share, ci_low=low, ci_high=high, se=share_standard_error(share, n))
    return out


def _trend_table(
    frame: pd.DataFrame,
    *,
    date_col: str,
    freq: str,
    score: str,
    score_col: str,
    scale: tuple[int, int],
    top_box: int,
    min_base: int,
    confidence: float,
    alpha: float,
    periods: int | Sequence[object] | None,
) -> pd.DataFrame:
    """The trend of one population; inputs already validated."""
    valid, invalid = clean_scores(frame[score_col], scale, whole=score == "nps")
    period = frame[date_col].dt.to_period(freq)
    undated = int(period.isna().sum())
    if period.notna().any():
        full = pd.period_range(period.min(), period.max(), freq=freq)
    else:
        full = pd.PeriodIndex([], freq=freq)
    if periods is not None and not isinstance(periods, (int, np.integer)):
        wanted = [_as_period(p, freq) for p in periods]
        if wanted:
            full = pd.period_range(
                min(min(wanted), *full[:1]), max(max(wanted), *full[-1:]), freq=freq
            )

    rows = []
    positions = period.reset_index(drop=True).groupby(period.to_numpy(), sort=True).indices
    empty = np.array([], dtype=int)
    for p in full:
        idx = positions.get(p, empty)
        stats_ = _period_stats(
            valid.iloc[idx],
            invalid.iloc[idx],
            score=score,
            scale=scale,
            top_box=top_box,
            confidence=confidence,
        )
        rows.append({"start": p.start_time, "end": p.end_time.normalize(), **stats_})
    table = pd.DataFrame(rows, index=pd.Index([period_label(p) for p in full], name="period"))
    if table.empty:
        return pd.DataFrame(columns=_TREND_COLUMNS, index=pd.Index([], name="period"))
    table["small_base"] = table["n"] < min_base
    prev = table.shift(1)
    table["previous_period"] = [period_label(p - 1) for p in full]
    table["previous_n"] = prev["n"].fillna(0).astype(int)
    table["previous_score"] = prev["score"]
    test = difference_test(table["score"], table["se"], prev["score"], prev["se"])
    table["change"] = test.change
    table["change_se"] = test.se
    testable = (~table["small_base"]) & (prev["small_base"] == False) & (table["change_se"] > 0)  # noqa: E712
    table["z"] = pd.Series(test.z, index=table.index).where(testable)
    table["p_value"] = pd.Series(test.p_value, index=table.index).where(testable)

    if periods is not None:
        if isinstance(periods, (int, np.integer)):
            keep = table.index[-check_positive_int(int(periods), "periods") :]
        else:
            keep = [period_label(p) for p in wanted]
        table = table.loc[keep]
    table["p_adjusted"] = benjamini_hochberg(table["p_value"].to_numpy(dtype=float))
    table["significant_change"] = (table["p_adjusted"] < alpha).fillna(False).astype(bool)
    table = table[_TREND_COLUMNS]
    table.attrs["n_undated"] = undated
    return table


def _prepare(
    frame: pd.DataFrame,
    *,
    date_col: str,
    freq: str,
    score: str,
    score_col: str | None,
    scale: tuple[int, int] | None,
    top_box: int,
    min_base: int,
    confidence: float,
    alpha: float,
) -> dict[str, object]:
    score = _check_score(score)
    score_col = score_col or score
    require_columns(frame, [date_col])
    require_score(frame, score_col)
    if not pd.api.types.is_datetime64_any_dtype(frame[date_col]):
        raise DataError(
            f"Column '{date_col}' must hold dates (datetime64), got {frame[date_col].dtype}.",
            file=TABLE,
            column=date_col,
            examples=frame[date_col].head(3).tolist(),
        )
    scale_ = NPS_SCALE if score == "nps" else scale_for(score_col, scale)
    return {
        "date_col": date_col,
        "freq": _check_freq(freq),
        "score": score,
        "score_col": score_col,
        "scale": scale_,
        "top_box": check_top_box(top_box, scale_) if score == "csat" else top_box,
        "min_base": check_positive_int(min_base, "min_base"),
        "confidence": check_confidence(confidence),
        "alpha": check_confidence(alpha, "alpha"),
    }


def score_trend(
    frame: pd.DataFrame,
    *,
    date_col: str = "response_date",
    freq: str = "Q",
    periods: int | Sequence[object] | None = None,
    score: Literal["nps", "csat"] = "nps",
    score_col: str | None = None,
    scale: tuple[int, int] | None = None,
    top_box: int = 2,
    min_base: int = 30,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """A score per period, with its interval and the change vs the previous period.

    The change is tested as a difference of two independent estimates,
    ``z = change / sqrt(SE_t^2 + SE_{t-1}^2)`` (trinomial SE for NPS, binomial SE for
    the CSAT top-box share), two-sided; p-values are BH-adjusted across the periods
    shown. A period with fewer than ``min_base`` answers is flagged ``small_base`` and
    no change into or out of it is tested.

    Parameters
    ----------
    frame
        Survey responses of one population (filter the unit first, or see
        :func:`detect_changes` for all units at once).
    date_col
        Response date column (datetime64). Undated rows are left out and counted in
        ``attrs["n_undated"]``.
    freq
        Period frequency: ``"Q"`` (default), ``"M"``, ``"Y"``...
    periods
        None: every period from the first to the last response (gaps shown with
        ``n == 0``); an int N: the last N periods; a list of labels (``"2025-Q3"``) or
        ``pandas.Period``: those periods, each still compared with its calendar
        predecessor.
    score
        ``"nps"`` (points) or ``"csat"`` (top-box share, 0-1).
    score_col
        Column with the answers; defaults to ``score``. For a survey without an NPS
        question pass ``score="csat", score_col="rating_overall"`` (for instance).
    scale, top_box
        CSAT scale (default: the contract's for the column, else 1-5) and top levels.
    min_base, confidence, alpha
        Minimum base for a tested period, interval level, significance level.

    Returns
    -------
    DataFrame
        Index ``period`` (labels). Columns ``start, end, n, n_invalid, score, ci_low,
        ci_high, se, small_base, previous_period, previous_n, previous_score, change,
        change_se, z, p_value, p_adjusted, significant_change``. ``attrs["n_undated"]``
        counts rows without a date.

    Raises
    ------
    MissingScoreError
        When the survey has no such question.
    DataError
        When ``date_col`` is missing or does not hold dates.
    """
    opts = _prepare(
        frame,
        date_col=date_col,
        freq=freq,
        score=score,
        score_col=score_col,
        scale=scale,
        top_box=top_box,
        min_base=min_base,
        confidence=confidence,
        alpha=alpha,
    )
    return _trend_table(frame, periods=periods, **opts)


def detect_changes(
    frame: pd.DataFrame,
    *,
    by: str | None = "business_unit",
    date_col: str = "response_date",
    freq: str = "Q",
    periods: int | Sequence[object] | None = None,
    score: Literal["nps", "csat"] = "nps",
    score_col: str | None = None,
    scale: tuple[int, int] | None = None,
    top_box: int = 2,
    min_base: int = 30,
    alpha: float = 0.05,
    min_change: float = 0.0,
) -> list[ScoreChange]:
    """Meaningful period-on-period changes of a score, per group, across all groups.

    Every group's trend is computed as in :func:`score_trend`; then *all* the change
    tests (groups x periods) form one family whose p-values are adjusted together with
    Benjamini-Hochberg. A change is reported when its adjusted p-value is below
    ``alpha`` and its size is at least ``min_change`` (NPS points, or share for CSAT).

    Parameters
    ----------
    frame
        Survey responses.
    by
        Grouping column (default ``business_unit``); None for the whole population only.
    date_col, freq, periods, score, score_col, scale, top_box, min_base
        As in :func:`score_trend`.
    alpha
        Significance level for the BH-adjusted p-values (false discovery rate).
    min_change
        Smallest absolute change worth reporting (practical significance).

    Returns
    -------
    list of ScoreChange
        Most significant first; empty when nothing changed.

    Raises
    ------
    MissingScoreError
        When the survey has no such question.
    DataError
        When a column is missing.
    """
    opts = _prepare(
        frame,
        date_col=date_col,
        freq=freq,
        score=score,
        score_col=score_col,
        scale=scale,
        top_box=top_box,
        min_base=min_base,
        confidence=0.95,
        alpha=alpha,
    )
    if isinstance(min_change, bool) or not isinstance(min_change, (int, float)) or min_change < 0:
        raise ParamsError(f"min_change must be a number >= 0, got {min_change!r}")
    if by is not None:
        require_columns(frame, [by])
        parts = list(frame.groupby(by, sort=True, dropna=True, observed=True))
        parts = [(key[0] if isinstance(key, tuple) else key, part) for key, part in parts]
    else:
        parts = [(None, frame)]

    candidates = []
    for key, part in parts:
        table = _trend_table(part, periods=periods, **opts)
        for label, row in table.iterrows():
            if not np.isnan(row["p_value"]):
                candidates.append((key, label, row))
    p_adj = benjamini_hochberg([row["p_value"] for *_, row in candidates])
    found = []
    for (key, label, row), q in zip(candidates, p_adj, strict=True):
        if q < alpha and abs(row["change"]) >= min_change:
            found.append(
                ScoreChange(
                    group=key,
                    by=by,
                    period=label,
                    previous_period=str(row["previous_period"]),
                    metric=opts["score"],
                    score=float(row["score"]),
                    previous_score=float(row["previous_score"]),
                    change=float(row["change"]),
                    direction="up" if row["change"] > 0 else "down",
                    se=float(row["change_se"]),
                    z=float(row["z"]),
                    p_value=float(row["p_value"]),
                    p_adjusted=float(q),
                    n=int(row["n"]),
                    previous_n=int(row["previous_n"]),
                )
            )
    return sorted(found, key=lambda c: (c.p_adjusted, -abs(c.change)))


def score_trends(
    survey: Survey, periods: Sequence[str] | int, *, min_base: int = 30
) -> tuple[dict[str, pd.DataFrame], dict[str, list[ScoreChange]]]:
    """Per headline metric (``nps``, ``csat``) of a survey: its trend and significant changes.

    The trend is :func:`score_trend` over ``periods``, without the periods before the
    first response; the changes come from :func:`detect_changes` over the same periods
    (one Benjamini-Hochberg family per metric).

    Parameters
    ----------
    survey
        The report's :class:`~analysis.satisfaction.Survey`.
    periods
        Period labels (or a count) as in :func:`score_trend`.
    min_base
        Minimum answers of a tested period.

    Returns
    -------
    trends : dict of str to DataFrame
        The trend table of each metric the survey has.
    changes : dict of str to list of ScoreChange
        Its significant changes, most significant first.
    """
    trends: dict[str, pd.DataFrame] = {}
    changes: dict[str, list[ScoreChange]] = {}
    for metric, options in _metric_options(survey, periods, min_base):
        table = score_trend(survey.responses, **options)
        answered = np.flatnonzero(table["n"].to_numpy() > 0)
        trends[metric] = table.iloc[answered[0] :] if answered.size else table.iloc[:0]
        changes[metric] = detect_changes(survey.responses, by=None, **options)
    return trends, changes


def unit_changes(
    survey: Survey, periods: Sequence[str] | int, *, min_base: int = 30
) -> list[tuple[str, ScoreChange]]:
    """Significant changes of each headline metric per business unit, as (metric, change).

    :func:`detect_changes` by ``business_unit`` over ``periods``, one family per metric.
    """
    found: list[tuple[str, ScoreChange]] = []
    for metric, options in _metric_options(survey, periods, min_base):
        found += [
            (metric, c) for c in detect_changes(survey.responses, by="business_unit", **options)
        ]
    return found


def _metric_options(
    survey: Survey, periods: Sequence[str] | int, min_base: int
) -> list[tuple[str, dict[str, object]]]:
    out = []
    for metric, column in (("nps", "nps" if survey.has_nps else None), ("csat", survey.overall)):
        if column is None:
            continue
        options = dict(
            freq=survey.freq,
            periods=periods,
            score=metric,
            score_col=column,
            scale=None if metric == "nps" else survey.overall_scale,
            min_base=min_base,
        )
        out.append((metric, options))
    return out

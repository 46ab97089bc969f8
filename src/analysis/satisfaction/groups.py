"""NPS and CSAT of every customer group of a report, tested against the rest."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .scores import csat_by_group, nps_by_group
from .survey import MIN_BASE, Survey

#: Grouping columns of the group table, in display order.
DIMENSIONS = ("business_unit", "customer_type", "touchpoint", "region", "channel", "main_channel")
#: Columns of ``satisfaction_groups.csv``.
GROUP_COLUMNS = [
    "period",
    "unit",
    "dimension",
    "group",
    "n",
    "small_base",
    "rank",
    "nps",
    "nps_ci_low",
    "nps_ci_high",
    "promoters",
    "passives",
    "detractors",
    "nps_diff_vs_rest",
    "nps_p_value",
    "nps_p_adjusted",
    "nps_significant",
    "csat_n",
    "csat_top_box",
    "csat_ci_low",
    "csat_ci_high",
    "csat_mean",
    "csat_diff_vs_rest",
    "csat_p_adjusted",
    "csat_significant",
]


def group_dimensions(frame: pd.DataFrame) -> list[str]:
    """The :data:`DIMENSIONS` of ``frame`` with at least two groups, in display order."""
    return [d for d in DIMENSIONS if d in frame.columns and frame[d].dropna().nunique() >= 2]


def group_table(
    frame: pd.DataFrame,
    survey: Survey,
    dimensions: Sequence[str],
    *,
    min_base: int = MIN_BASE,
) -> pd.DataFrame:
    """NPS (and CSAT) of every group of every dimension, tested against the rest.

    Uses :func:`~analysis.satisfaction.nps_by_group` and
    :func:`~analysis.satisfaction.csat_by_group` (Welch / two-proportion tests,
    Benjamini-Hochberg within each dimension). The headline metric (NPS, else CSAT)
    decides ``small_base`` and ``rank``.

    Parameters
    ----------
    frame
        Responses (e.g. ``survey.current``, or with a ``segment`` column joined on).
    survey
        Which questions the survey has (NPS, the overall item and its scale).
    dimensions
        Grouping columns of ``frame``.
    min_base
        Groups with fewer valid answers are flagged ``small_base``: not tested, not ranked.

    Returns
    -------
    DataFrame
        One row per (dimension, group) with the columns of ``satisfaction_groups.csv``
        except ``period`` and ``unit``; ranked groups first (by rank), then small bases.
    """
    columns = [c for c in GROUP_COLUMNS if c not in ("period", "unit")]
    parts = []
    for dim in dimensions:
        out = None
        if survey.has_nps:
            nps = nps_by_group(frame, dim, min_base=min_base)
            out = pd.DataFrame(
                {
                    "n": nps["n"],
                    "small_base": nps["small_base"],
                    "rank": nps["rank"],
                    "nps": nps["nps"],
                    "nps_ci_low": nps["ci_low"],
                    "nps_ci_high": nps["ci_high"],
                    "promoters": nps["promoters"],
                    "passives": nps["passives"],
                    "detractors": nps["detractors"],
                    "nps_diff_vs_rest": nps["diff"],
                    "nps_p_value": nps["p_value"],
                    "nps_p_adjusted": nps["p_adjusted"],
                    "nps_significant": nps["significant"],
                }
            )
        if survey.overall:
            cs = csat_by_group(
                frame, dim, score_col=survey.overall, scale=survey.overall_scale, min_base=min_base
            )
            cs_part = pd.DataFrame(
                {
                    "csat_n": cs["n"],
                    "csat_top_box": cs["top_box"],
                    "csat_ci_low": cs["ci_low"],
                    "csat_ci_high": cs["ci_high"],
                    "csat_mean": cs["mean"],
                    "csat_diff_vs_rest": cs["diff"],
                    "csat_p_adjusted": cs["p_adjusted"],
                    "csat_significant": cs["significant"],
                }
            )
            if out is None:
                out = cs_part.assign(n=cs["n"], small_base=cs["small_base"], rank=cs["rank"])
            else:
                out = out.join(cs_part, how="left")
        if out is None or out.empty:
            continue
        out = out.reset_index(names="group").assign(dimension=dim)
        out["_ranked"] = out["rank"].isna()
        out = out.sort_values(["_ranked", "rank", "group"], kind="mergesort")
        parts.append(out.reindex(columns=columns))
    if not parts:
        return pd.DataFrame(columns=columns)
    table = pd.concat(parts, ignore_index=True)
    table["rank"] = table["rank"].astype("Int64")
    return table


def groups_export(table: pd.DataFrame | None, period: str, unit: str) -> pd.DataFrame:
    """The rows of ``satisfaction_groups.csv``: :func:`group_table` rows with the period
    and unit, in :data:`GROUP_COLUMNS` order, floats rounded to 4 decimals."""
    table = table if table is not None else pd.DataFrame(columns=GROUP_COLUMNS)
    out = table.assign(period=period, unit=unit).reindex(columns=GROUP_COLUMNS)
    floats = out.select_dtypes("float").columns
    out[floats] = out[floats].round(4)
    return out

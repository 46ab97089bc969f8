"""One-line takeaways for the satisfaction charts and tables, from the message catalogs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..i18n import join_sentences, t
from .attributes import IPAResult, ReliabilityResult
from .scores import CSATResult, NPSResult
from .trend import ScoreChange


def attribute_label(column: str) -> str:
    """Readable name of a rating column: ``rating_delivery_speed`` -> ``delivery speed``."""
    name = str(column)
    if name.startswith("rating_"):
        name = name[len("rating_") :]
    return name.replace("_", " ")


def _join(items: Sequence[str], language: str) -> str:
    return t("satisfaction.list_separator", language).join(items)


def nps_takeaway(result: NPSResult, language: str = "en") -> str:
    """``NPS is +32 (95% interval +28 to +36; 1,234 responses).``"""
    if result.n == 0:
        return t("satisfaction.takeaway.no_responses", language)
    return t(
        "satisfaction.takeaway.nps",
        language,
        nps=result.nps,
        low=result.ci_low,
        high=result.ci_high,
        n=result.n,
        level=100 * result.confidence,
    )


def csat_takeaway(result: CSATResult, language: str = "en") -> str:
    """``78% are satisfied (top-2 box; 95% interval 75% to 81%; 1,234 responses).``"""
    if result.n == 0:
        return t("satisfaction.takeaway.no_responses", language)
    return t(
        "satisfaction.takeaway.csat",
        language,
        share=result.top_box,
        low=result.ci_low,
        high=result.ci_high,
        n=result.n,
        level=100 * result.confidence,
        top_box=result.top_box_levels,
    )


def groups_takeaway(table: pd.DataFrame, language: str = "en", *, metric: str = "nps") -> str:
    """Best and worst ranked group of :func:`nps_by_group` / :func:`csat_by_group`."""
    column = "nps" if metric == "nps" else "top_box"
    ranked = table[table["rank"].notna()]
    if len(ranked) < 2:
        return t("satisfaction.takeaway.groups_none", language)
    best = ranked[column].idxmax()
    worst = ranked[column].idxmin()

    def fmt(value: float) -> str:
        return f"{value:+.0f}" if metric == "nps" else f"{value:.0%}"

    return t(
        "satisfaction.takeaway.groups",
        language,
        metric=t(f"satisfaction.metric.{metric}", language),
        best=best,
        best_score=fmt(ranked.loc[best, column]),
        worst=worst,
        worst_score=fmt(ranked.loc[worst, column]),
    )


def change_takeaway(
    changes: Sequence[ScoreChange], language: str = "en", *, metric: str = "nps"
) -> str:
    """Describe the most significant change of :func:`detect_changes` (or say there is none)."""
    if not changes:
        return t(
            "satisfaction.takeaway.no_change",
            language,
            metric=t(f"satisfaction.metric.{metric}", language),
        )
    c = changes[0]
    size_key = (
        "satisfaction.unit.points" if c.metric == "nps" else "satisfaction.unit.percentage_points"
    )
    size = t(size_key, language, value=abs(c.change) * (1 if c.metric == "nps" else 100))
    group = t("satisfaction.group.overall", language) if c.group is None else str(c.group)
    text = t(
        f"satisfaction.takeaway.change_{c.direction}",
        language,
        metric=t(f"satisfaction.metric.{c.metric}", language),
        group=group,
        size=size,
        previous=c.previous_period,
        period=c.period,
        p=c.p_adjusted,
    )
    if len(changes) > 1:
        more = t("satisfaction.takeaway.more_changes", language, count=len(changes) - 1)
        text = join_sentences([text, more], language)
    return text


def drivers_takeaway(drivers: pd.DataFrame, language: str = "en", *, top: int = 3) -> str:
    """``Top drivers of csat: delivery (38%), price (25%), support (15%) (R² = 0.52).``"""
    if drivers.empty:
        return t("satisfaction.takeaway.no_responses", language)
    head = drivers.sort_values("share", ascending=False).head(top)
    items = [f"{attribute_label(name)} ({share:.0f}%)" for name, share in head["share"].items()]
    outcome = drivers.attrs.get("outcome", "")
    outcome = (
        t(f"satisfaction.metric.{outcome}", language)
        if outcome in ("nps", "csat")
        else attribute_label(outcome)
    )
    return t(
        "satisfaction.takeaway.drivers",
        language,
        outcome=outcome,
        top=_join(items, language),
        r2=float(drivers.attrs.get("r2", np.nan)),
    )


def ipa_takeaway(ipa: IPAResult, language: str = "en") -> str:
    """Name the ``fix_first`` attributes, or say there are none."""
    if not ipa.fix_first_list:
        return t("satisfaction.takeaway.fix_first_none", language)
    items = _join([attribute_label(a) for a in ipa.fix_first_list], language)
    return t("satisfaction.takeaway.fix_first", language, items=items)


def reliability_takeaway(result: ReliabilityResult, language: str = "en") -> str:
    """Say whether the attribute ratings form a reliable scale."""
    key = (
        "satisfaction.takeaway.reliability_ok"
        if result.reliable
        else "satisfaction.takeaway.reliability_low"
    )
    return t(key, language, k=result.n_items, alpha=result.alpha, threshold=result.threshold)

"""What to do about it: the improvement list and the follow-up of each detractor.

The action texts come from the report's message catalog (``report_satisfaction``), one
per attribute where the catalog has one and a generic text otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..i18n import catalog
from ..text import mask_pii
from .attributes import IPAResult
from .survey import CATALOG, Survey, attribute_name, response_category

#: Columns of ``detractors.csv``.
DETRACTOR_COLUMNS = [
    "customer_id",
    "business_unit",
    "response_id",
    "response_date",
    "nps",
    "csat",
    "touchpoint",
    "comment",
    "lowest_rated_attribute",
    "priority",
    "follow_up_action",
]


def improvement_plan(ipa: IPAResult, language: str = "en") -> pd.DataFrame:
    """The recommended improvement list: the fix-first attributes, most important first,
    each with a catalogued action (a generic one for attributes without their own).

    Parameters
    ----------
    ipa
        The importance-performance matrix (:func:`~analysis.satisfaction.importance_performance`).
    language
        Language of the names and actions.

    Returns
    -------
    DataFrame
        Columns ``priority`` (1, 2, ...), ``attribute``, ``attribute_name``,
        ``importance`` (percent), ``performance`` (mean rating) and ``action``.
    """
    names = catalog(language)
    rows = []
    for i, attr in enumerate(ipa.fix_first_list, start=1):
        label = attribute_name(attr, language)
        key = f"{CATALOG}.improve.{attr.removeprefix('rating_')}"
        action = (
            names[key]
            if key in names
            else names[f"{CATALOG}.improve.generic"].format(attribute=label)
        )
        rows.append(
            dict(
                priority=i,
                attribute=attr,
                attribute_name=label,
                importance=float(ipa.table.loc[attr, "importance"]),
                performance=float(ipa.table.loc[attr, "performance"]),
                action=action,
            )
        )
    columns = ["priority", "attribute", "attribute_name", "importance", "performance", "action"]
    return pd.DataFrame(rows, columns=columns)


def follow_up_actions(
    detractors: pd.DataFrame,
    ratings: Sequence[str],
    *,
    rating_scale: tuple[int, int] | Mapping[str, tuple[int, int]] = (1, 5),
    language: str = "en",
) -> pd.DataFrame:
    """Lowest-rated attribute, priority and a follow-up action text for each detractor.

    Rules: a strong detractor (NPS 0-3, or the lowest answer of the overall item) gets
    priority ``high``, the others ``medium``. When an attribute is rated in the bottom
    two levels of its scale, the action addresses the lowest-rated one (the first in
    column order on ties); otherwise it is a call to learn the reason.

    Parameters
    ----------
    detractors
        The detractors' responses (``nps`` when asked, the rating columns).
    ratings
        Attribute rating columns.
    rating_scale
        Their declared scale, or a mapping column -> scale when they differ (the lowest
        rating is then the lowest position within its own scale).
    language
        Language of the action texts.

    Returns
    -------
    DataFrame
        Same index; columns ``lowest_rated_attribute`` (e.g. ``delivery``, empty when
        no attribute is low), ``priority`` and ``follow_up_action``.
    """
    if ratings:
        scales = {
            c: tuple(rating_scale.get(c, (1, 5)))
            if isinstance(rating_scale, Mapping)
            else tuple(rating_scale)
            for c in ratings
        }
        values = detractors[list(ratings)].apply(pd.to_numeric, errors="coerce")
        # position within each rating's own scale: 0 = its lowest level, 1 = its highest
        position = pd.DataFrame(
            {
                c: ((values[c] - lo) / (hi - lo)).where(values[c].between(lo, hi))
                for c, (lo, hi) in scales.items()
            },
            index=detractors.index,
        )
        low = (
            pd.DataFrame(
                {c: values[c] <= lo + 1 for c, (lo, _) in scales.items()}, index=detractors.index
            )
            & position.notna()
        )
        ranked = position.where(low)
        lowest = ranked.fillna(np.inf).idxmin(axis=1).where(low.any(axis=1))
    else:
        lowest = pd.Series(np.nan, index=detractors.index, dtype="object")
    if "nps" in detractors.columns and detractors["nps"].notna().any():
        strong = pd.to_numeric(detractors["nps"], errors="coerce") <= 3
    else:
        strong = pd.Series(True, index=detractors.index)
    names = catalog(language)
    actions = []
    for attr, is_strong in zip(lowest, strong, strict=True):
        if isinstance(attr, str):
            key = f"{CATALOG}.follow_up.{attr.removeprefix('rating_')}"
            if key in names:
                actions.append(names[key])
            else:
                label = attribute_name(attr, language)
                actions.append(
                    names[f"{CATALOG}.follow_up.generic_attribute"].format(attribute=label)
                )
        else:
            actions.append(names[f"{CATALOG}.follow_up.{'call' if is_strong else 'email'}"])
    return pd.DataFrame(
        {
            "lowest_rated_attribute": [
                a.removeprefix("rating_") if isinstance(a, str) else "" for a in lowest
            ],
            "priority": np.where(strong, "high", "medium"),
            "follow_up_action": actions,
        },
        index=detractors.index,
    )


def detractor_list(survey: Survey, language: str = "en") -> pd.DataFrame:
    """The period's detractors with a customer id, for service follow-up (real ids).

    Without an NPS question the list holds dissatisfied respondents (the bottom two
    answers of the overall item) instead. No PII column; comments are masked
    (:func:`analysis.text.mask_pii`).

    Returns
    -------
    DataFrame
        The rows of ``detractors.csv`` (:data:`DETRACTOR_COLUMNS`), lowest scores first.
    """
    frame = survey.current
    if frame.empty or survey.outcome is None:
        return pd.DataFrame(columns=DETRACTOR_COLUMNS)
    worst = survey.categories[0]
    chosen = frame.loc[
        (response_category(frame, survey) == worst) & frame["customer_id"].notna()
    ].copy()
    chosen = chosen.sort_values(
        ["nps" if survey.has_nps else survey.overall, "response_date"], kind="mergesort"
    )
    actions = follow_up_actions(
        chosen, survey.ratings, rating_scale=survey.scales, language=language
    )
    out = pd.DataFrame(
        {
            "customer_id": chosen["customer_id"].astype("string"),
            "business_unit": chosen["business_unit"],
            "response_id": chosen["response_id"],
            "response_date": chosen["response_date"].dt.strftime("%Y-%m-%d"),
            "nps": chosen["nps"] if "nps" in chosen.columns else np.nan,
            "csat": chosen[survey.overall] if survey.overall else np.nan,
            "touchpoint": chosen["touchpoint"] if "touchpoint" in chosen.columns else pd.NA,
            "comment": chosen["comment"].map(mask_pii) if "comment" in chosen.columns else "",
        },
        index=chosen.index,
    ).join(actions)
    for col in ("nps", "csat"):
        values = pd.to_numeric(out[col], errors="coerce")
        whole = bool((values.dropna() == values.dropna().round()).all())
        # a composite overall item keeps its fraction
        out[col] = values.astype("Int64") if whole else values.round(2)
    return out[DETRACTOR_COLUMNS].reset_index(drop=True)


def follow_up_counts(detractors: pd.DataFrame) -> pd.DataFrame:
    """Detractors per follow-up action and priority, most high-priority ones first.

    Returns
    -------
    DataFrame
        Index ``follow_up_action``; columns ``high``, ``medium`` and ``total`` (ints).
    """
    if detractors.empty:
        return pd.DataFrame({"high": [], "medium": [], "total": []}, dtype=int).rename_axis(
            "follow_up_action"
        )
    return (
        pd.crosstab(detractors["follow_up_action"], detractors["priority"])
        .reindex(columns=["high", "medium"], fill_value=0)
        .assign(total=lambda d: d.sum(axis=1))
        .sort_values(["high", "total"], ascending=False, kind="mergesort")
        .astype(int)
        .rename_axis(columns=None)
    )

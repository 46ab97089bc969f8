"""Satisfaction: NPS and CSAT with intervals and tests, trends, attribute ratings,
key drivers and the importance-performance matrix.

Every function takes the cleaned ``survey_responses`` table (or a column of it) and
returns a result object or a DataFrame; nothing here reads files or prints. Answers
outside a question's declared scale are counted (``n_invalid``) and excluded, never
coerced. A survey without an NPS question is valid: functions that need the NPS raise
:class:`MissingScoreError` (a :class:`~analysis.errors.DataError`), everything else
works on the ratings and an overall satisfaction item.

Examples
--------
>>> from analysis import satisfaction
>>> satisfaction.nps([10, 9, 3, 8]).nps
25.0
"""

from ._common import DEFAULT_SCALES, MissingScoreError, benjamini_hochberg
from .attributes import (
    QUADRANTS,
    IPAResult,
    ReliabilityResult,
    cronbach_alpha,
    importance_performance,
    key_drivers,
    rating_distribution,
    relative_weights,
)
from .scores import (
    NPS_CATEGORIES,
    CSATResult,
    NPSResult,
    csat,
    csat_by_group,
    nps,
    nps_by_group,
    nps_category,
    nps_standard_error,
    wilson_interval,
)
from .takeaways import (
    attribute_label,
    change_takeaway,
    csat_takeaway,
    drivers_takeaway,
    groups_takeaway,
    ipa_takeaway,
    nps_takeaway,
    reliability_takeaway,
)
from .trend import ScoreChange, detect_changes, period_label, score_trend


def has_score(frame, column: str = "nps") -> bool:  # noqa: ANN001
    """True when the survey asked ``column`` (present with at least one answer).

    Notebooks use it to skip the NPS sections of a survey without an NPS question.
    """
    return column in frame.columns and bool(frame[column].notna().any())


__all__ = [
    "DEFAULT_SCALES",
    "NPS_CATEGORIES",
    "QUADRANTS",
    "CSATResult",
    "IPAResult",
    "MissingScoreError",
    "NPSResult",
    "ReliabilityResult",
    "ScoreChange",
    "attribute_label",
    "benjamini_hochberg",
    "change_takeaway",
    "cronbach_alpha",
    "csat",
    "csat_by_group",
    "csat_takeaway",
    "detect_changes",
    "drivers_takeaway",
    "groups_takeaway",
    "has_score",
    "importance_performance",
    "ipa_takeaway",
    "key_drivers",
    "nps",
    "nps_by_group",
    "nps_category",
    "nps_standard_error",
    "nps_takeaway",
    "period_label",
    "rating_distribution",
    "reliability_takeaway",
    "relative_weights",
    "score_trend",
    "wilson_interval",
]

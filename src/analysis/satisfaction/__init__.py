"""Satisfaction: NPS and CSAT with intervals and tests, trends, attribute ratings,
key drivers and the importance-performance matrix.

Every function takes the cleaned ``survey_responses`` table (or a column of it) and
returns a result object or a DataFrame; nothing here reads files or prints. Answers
outside a question's declared scale are counted (``n_invalid``) and excluded, never
coerced; fractions inside a scale (composite indexes) are valid. Scales are declared in
the parameters (``survey.scales``, :mod:`analysis.satisfaction.scales`). A survey without an NPS question is valid: functions that need the NPS raise
:class:`MissingScoreError` (a :class:`~analysis.errors.DataError`), everything else
works on the ratings and an overall satisfaction item.

Examples
--------
>>> from analysis import satisfaction
>>> satisfaction.nps([10, 9, 3, 8]).nps
25.0
"""

from ._common import DEFAULT_SCALES, MissingScoreError, benjamini_hochberg, scale_text
from .actions import (
    DETRACTOR_COLUMNS,
    detractor_list,
    follow_up_actions,
    follow_up_counts,
    improvement_plan,
)
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
from .change import (
    Difference,
    NPSChange,
    difference_test,
    nps_change,
    score_comparison,
    share_standard_error,
)
from .churn_link import CATEGORY_ORDER, churn_after_response, churn_by_category
from .groups import DIMENSIONS, GROUP_COLUMNS, group_dimensions, group_table, groups_export
from .scales import (
    NPS_SCALE,
    RATING_DEFAULT,
    check_outcome,
    declared_scale,
    declared_scales,
    out_of_scale,
    rating_default,
    score_columns,
    survey_outcome,
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
from .survey import (
    CUSTOMER_ATTRIBUTES,
    MIN_BASE,
    OVERALL_ITEMS,
    Survey,
    attribute_name,
    driver_window,
    has_score,
    response_category,
    select_survey,
    trend_periods,
    with_customer_attributes,
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
from .trend import (
    ScoreChange,
    detect_changes,
    period_label,
    score_trend,
    score_trends,
    unit_changes,
)

__all__ = [
    "CATEGORY_ORDER",
    "CUSTOMER_ATTRIBUTES",
    "DEFAULT_SCALES",
    "DETRACTOR_COLUMNS",
    "DIMENSIONS",
    "GROUP_COLUMNS",
    "MIN_BASE",
    "NPS_CATEGORIES",
    "NPS_SCALE",
    "RATING_DEFAULT",
    "OVERALL_ITEMS",
    "QUADRANTS",
    "CSATResult",
    "Difference",
    "IPAResult",
    "MissingScoreError",
    "NPSChange",
    "NPSResult",
    "ReliabilityResult",
    "ScoreChange",
    "Survey",
    "attribute_label",
    "attribute_name",
    "benjamini_hochberg",
    "change_takeaway",
    "check_outcome",
    "churn_after_response",
    "churn_by_category",
    "cronbach_alpha",
    "csat",
    "csat_by_group",
    "csat_takeaway",
    "declared_scale",
    "declared_scales",
    "detect_changes",
    "detractor_list",
    "difference_test",
    "driver_window",
    "drivers_takeaway",
    "follow_up_actions",
    "follow_up_counts",
    "group_dimensions",
    "group_table",
    "groups_export",
    "groups_takeaway",
    "has_score",
    "importance_performance",
    "improvement_plan",
    "ipa_takeaway",
    "key_drivers",
    "nps",
    "nps_by_group",
    "nps_category",
    "nps_change",
    "nps_standard_error",
    "nps_takeaway",
    "out_of_scale",
    "period_label",
    "rating_default",
    "rating_distribution",
    "reliability_takeaway",
    "relative_weights",
    "response_category",
    "scale_text",
    "score_columns",
    "score_comparison",
    "score_trend",
    "score_trends",
    "select_survey",
    "share_standard_error",
    "survey_outcome",
    "trend_periods",
    "unit_changes",
    "wilson_interval",
    "with_customer_attributes",
]

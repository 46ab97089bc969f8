"""Declared scales of the survey's score columns and the survey's outcome, from params.

A real survey asks on whatever scale its designer chose: CSAT on 1-5 or 1-10, attribute
items on 1-7, a composite index (the mean of three 1-10 items) with fractional values.
The parameters declare them once and every part of segreport reads them from here::

    survey:
      scales:                 # column -> [low, high]
        csat: [1, 5]
        "rating_*": [1, 10]   # the default of every rating_<name> column
        rating_value: [1, 7]
      outcome: null           # the column key drivers explain; null = nps, else csat, ...

``nps`` is always 0-10 (its categories are defined on that scale). Without a
``rating_*`` entry the rating default is ``quality.rating_scale`` (its older name).
Fractions inside a scale are valid answers; only values outside it, or text that is no
number, are out of range.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..errors import DataError, ParamsError
from ._common import Scale, check_scale, clean_scores

#: The NPS question's fixed scale.
NPS_SCALE: Scale = (0, 10)
#: Key of ``survey.scales`` holding the default of every ``rating_<name>`` column.
RATING_DEFAULT = "rating_*"
#: Scale of ``csat`` when the parameters declare none.
CSAT_DEFAULT: Scale = (1, 5)


def _survey_options(params: Mapping[str, Any]) -> Mapping[str, Any]:
    survey = params.get("survey") or {}
    if not isinstance(survey, Mapping):
        raise ParamsError(f"parameter 'survey' must be a mapping, got {survey!r}")
    return survey


def rating_default(params: Mapping[str, Any]) -> Scale:
    """The scale of a ``rating_<name>`` column without its own entry: ``survey.scales
    ["rating_*"]``, else ``quality.rating_scale``, else 1-5."""
    scales = _survey_options(params).get("scales") or {}
    if scales.get(RATING_DEFAULT) is not None:
        return check_scale(scales[RATING_DEFAULT], f"survey.scales.{RATING_DEFAULT}")
    quality = params.get("quality") or {}
    return check_scale(quality.get("rating_scale") or (1, 5), "quality.rating_scale")


def declared_scale(params: Mapping[str, Any], column: str) -> Scale:
    """The declared scale of one score column (see the module docstring).

    Raises
    ------
    ParamsError
        For a malformed scale, or an ``nps`` scale other than 0-10.

    Examples
    --------
    >>> declared_scale({"survey": {"scales": {"csat": [1, 10]}}}, "csat")
    (1, 10)
    >>> declared_scale({"quality": {"rating_scale": [1, 7]}}, "rating_value")
    (1, 7)
    """
    scales = _survey_options(params).get("scales") or {}
    if not isinstance(scales, Mapping):
        raise ParamsError(
            f"parameter 'survey.scales' must map columns to [low, high], got {scales!r}"
        )
    if column == "nps":
        if "nps" in scales and check_scale(scales["nps"], "survey.scales.nps") != NPS_SCALE:
            raise ParamsError(
                f"survey.scales.nps is {list(scales['nps'])}, but the NPS question is always "
                "0-10 (promoters 9-10, detractors 0-6). Map a recommendation item on another "
                "scale to a rating_<name> column and declare its scale there."
            )
        return NPS_SCALE
    if scales.get(column) is not None:
        return check_scale(scales[column], f"survey.scales.{column}")
    if column == "csat":
        return CSAT_DEFAULT
    return rating_default(params)


def survey_outcome(params: Mapping[str, Any]) -> str | None:
    """``survey.outcome``: the column key drivers explain and the headline satisfaction
    item (None: ``nps`` when asked, else ``csat`` or an overall rating)."""
    outcome = _survey_options(params).get("outcome")
    if outcome is None:
        return None
    if not isinstance(outcome, str) or not outcome.strip():
        raise ParamsError(f"parameter 'survey.outcome' must be a column name, got {outcome!r}")
    return outcome


def score_columns(params: Mapping[str, Any], columns: Iterable[str]) -> list[str]:
    """The columns of ``columns`` that hold answers on a scale: ``nps``, ``csat``, every
    ``rating_<name>``, every column declared in ``survey.scales`` and the outcome."""
    scales = _survey_options(params).get("scales") or {}
    outcome = survey_outcome(params)
    return [
        str(c)
        for c in columns
        if c in ("nps", "csat")
        or str(c).startswith("rating_")
        or (c in scales and c != RATING_DEFAULT)
        or c == outcome
    ]


def declared_scales(params: Mapping[str, Any], columns: Iterable[str]) -> dict[str, Scale]:
    """The declared scale of every score column among ``columns`` (:func:`score_columns`).

    Examples
    --------
    >>> params = {"survey": {"scales": {"rating_*": [1, 10], "csat": [1, 10]}}}
    >>> declared_scales(params, ["csat", "rating_price", "comment"])
    {'csat': (1, 10), 'rating_price': (1, 10)}
    """
    scales = _survey_options(params).get("scales") or {}
    for key in scales:  # every declaration is checked, also of columns this file lacks
        if key == RATING_DEFAULT:
            rating_default(params)
        elif scales[key] is not None:
            declared_scale(params, str(key))
    return {c: declared_scale(params, c) for c in score_columns(params, columns)}


def check_outcome(params: Mapping[str, Any], columns: Iterable[str], file: str) -> None:
    """Raise :class:`DataError` (naming the file) when ``survey.outcome`` names a column
    the survey does not have."""
    outcome = survey_outcome(params)
    columns = [str(c) for c in columns]
    if outcome is not None and outcome not in columns:
        shown = ", ".join(columns[:15])
        raise DataError(
            f"the parameter survey.outcome names the column '{outcome}', which the survey "
            f"file does not have (it has: {shown}). Name one of its score columns, or map "
            "yours under columns: {survey_responses: ...}.",
            file=file,
            column=outcome,
        )


def out_of_scale(values: pd.Series, column: str, scale: Scale) -> tuple[pd.Series, pd.Series]:
    """Answers of one column as numbers, and the mask of those outside its scale.

    The rule of the data-quality repair ``out_of_range``: a present answer that is no
    number or lies outside ``scale`` is out of range (set missing, never coerced); a
    fraction inside the scale is valid, except for ``nps`` (whole answers 0-10).

    Returns
    -------
    (Series of float, Series of bool)
        The valid numbers (NaN elsewhere) and the out-of-range mask.
    """
    return clean_scores(values, scale, whole=column == "nps")

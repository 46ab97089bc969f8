"""The unit's business figures (:mod:`analysis.figures`) with the churn model's risk list.

``build`` is what every report quotes its figures from. Value at risk and high-risk
customers need the churn risk model, so this fits it through the churn pipeline; with a
:class:`~analysis.pipelines.shared.SharedWork` the model is fitted once per unit and
period and the churn report reuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..data.load import Dataset
from ..figures import UnitFigures, unit_figures
from ..period import Period
from .shared import SharedWork


def build(
    data: Dataset,
    period: Period,
    params: Mapping[str, Any],
    *,
    shared: SharedWork | None = None,
) -> UnitFigures:
    """:func:`analysis.figures.unit_figures` of the unit, value at risk included."""
    from . import churn  # noqa: PLC0415

    shared = shared or SharedWork(str(params.get("unit", "all")))

    def compute() -> UnitFigures:
        result = churn.build(data, period, params, shared=shared)
        return unit_figures(data, period, params, warning_list=result.warning_list)

    return shared.once("figures", period, params, compute)

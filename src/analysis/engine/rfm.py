"""The RFM summary (buy-till-you-die inputs) on any engine.

:func:`analysis.value.rfm_summary` generates its DuckDB SQL once; this runs the same text
through an engine, so on Spark it is transpiled (:mod:`analysis.engine.spark_sql`) like
the customer features. DuckDB stays the default and the reference.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from .. import value
from ..coerce import as_day
from ..errors import DataError
from . import Engine, TableSource

__all__ = ["rfm_summary"]


def rfm_summary(
    orders: TableSource,
    observation_end: object,
    *,
    engine: Engine | None = None,
    customer_id_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str | None = "amount",
    time_unit: Literal["D", "W", "M"] = "D",
    nonpositive_periods: Literal["keep", "drop"] = "keep",
) -> pd.DataFrame:
    """:func:`analysis.value.rfm_summary` computed by ``engine`` (DuckDB when None).

    Parameters and result as :func:`analysis.value.rfm_summary`; ``orders`` may also be
    a list of Parquet paths when an engine is given.

    Raises
    ------
    DataError
        A required column is missing.
    ParamsError
        Bad ``time_unit``, ``nonpositive_periods`` or ``observation_end``.
    """
    if engine is None:
        return value.rfm_summary(
            orders,
            observation_end,
            customer_id_col=customer_id_col,
            date_col=date_col,
            amount_col=amount_col,
            time_unit=time_unit,
            nonpositive_periods=nonpositive_periods,
        )
    value.check_rfm_options(time_unit, nonpositive_periods, amount_col)
    end = as_day(observation_end, "observation_end")
    view, types = engine.register("orders", orders)
    try:
        for column in [customer_id_col, date_col] + ([amount_col] if amount_col else []):
            if column not in types:
                raise DataError(
                    f"the required column is missing (columns present: {', '.join(types)}).",
                    file="orders",
                    column=column,
                )
        sql = value.rfm_summary_sql(
            view,
            end,
            customer_id_col=customer_id_col,
            date_col=date_col,
            amount_col=amount_col,
            time_unit=time_unit,
            nonpositive_periods=nonpositive_periods,
        )
        frame = engine.query(sql)
    finally:
        engine.release()
    frame = frame.set_index(customer_id_col)
    frame.index = frame.index.astype(str)
    out = frame.astype("float64")
    out.attrs["time_unit"] = time_unit
    return out

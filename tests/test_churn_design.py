"""churn.design.category_values: the text of each level worked out once per distinct value,
equal to the value-by-value definition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.churn.design import category_values


def _value_by_value(values: pd.Series) -> pd.Series:
    """The definition: stripped text, "(missing)" for a missing or blank value."""
    text = pd.Series(values).astype("string").str.strip()
    return text.where(text.notna() & (text != ""), "(missing)").astype("object")


CASES = [
    pd.Series(["a", " a", "b ", "", None, np.nan, "  "], name="plan"),
    pd.Series(["a", "b", None], dtype="string"),
    pd.Series(["a", "b", None], dtype="str"),
    pd.Series(pd.Categorical(["x", "y", None, "x"])),
    pd.Series([1.0, 2.0, np.nan, 1.0]),
    pd.Series([1, 2, 3], index=[5, 6, 7], name="n"),
    pd.Series([True, False, None], dtype=object),
    pd.Series([True, False]),
    pd.Series(pd.array([1, None, 3], dtype="Int64")),
    pd.Series([], dtype=object),
    pd.Series([], dtype="str"),
    pd.Series([1, "1", " 1"], dtype=object),
    pd.Series(["中文 ", "中文", "\t"], dtype="str"),
]


@pytest.mark.parametrize("values", CASES, ids=range(len(CASES)))
def test_category_values_equal_the_value_by_value_definition(values):
    found = category_values(values)
    expected = _value_by_value(values)
    pd.testing.assert_series_equal(found, expected)
    assert [type(v) for v in found] == [type(v) for v in expected]


def test_category_values_on_random_levels(rng):
    values = pd.Series(
        rng.choice(["retail", " b2b", "gov ", "", None], 5_000), index=rng.permutation(5_000)
    )
    found = category_values(values)
    pd.testing.assert_series_equal(found, _value_by_value(values))
    assert set(found) <= {"retail", "b2b", "gov", "(missing)"}

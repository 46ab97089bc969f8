"""The fast id membership test gives pandas' answer."""

import numpy as np
import pandas as pd
import pytest

from analysis.lookup import isin

IDS = pd.Series(["a", "b", None, "c", "a"], dtype="string")


@pytest.mark.parametrize(
    "members",
    [
        ["a", None],
        {"a", "c"},
        pd.Series(["c", "c"], dtype="string"),
        pd.Index([], dtype="string"),
        np.array(["b", "zz"], dtype=object),
    ],
)
@pytest.mark.parametrize("values", [IDS, pd.Index(IDS), IDS.astype(object)])
def test_membership_equals_pandas_isin(values, members):
    expected = values.isin(list(members) if isinstance(members, set) else members)
    assert isin(values, members).tolist() == list(np.asarray(expected, dtype=bool))

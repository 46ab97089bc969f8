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


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "string[python]", "str", object])
def test_random_ids_and_members_with_every_kind_of_missing_value_match_pandas(dtype):
    # the Arrow lookup (Arrow-backed strings) and the pandas one (the rest) on the same cases
    rng = np.random.default_rng(7)
    pool = ["a", "b", "c", "d", None, np.nan, pd.NA]
    kinds = {
        "list": list,
        "set": set,
        "index": lambda m: pd.Index(m, dtype=object),
        "series": lambda m: pd.Series(m, dtype="string"),
        "generator": lambda m: (x for x in m),
        "array": lambda m: np.array(m, dtype=object),
    }
    checked = 0
    for _ in range(150):
        values = [pool[i] for i in rng.integers(0, len(pool), rng.integers(0, 8))]
        members = [pool[i] for i in rng.integers(0, len(pool), rng.integers(0, 5))]
        for make in kinds.values():
            for wrap in (pd.Series, pd.Index):
                ids = wrap(values, dtype=dtype)
                expected = np.asarray(ids.isin(list(make(members))), dtype=bool)
                found = isin(ids, make(members))
                assert found.dtype == bool
                assert found.tolist() == expected.tolist(), (values, members)
                checked += 1
    assert checked == 150 * len(kinds) * 2


def test_arrow_ids_against_numbers_are_not_members():
    ids = pd.Series(["1", "2"], dtype="string[pyarrow]")
    assert isin(ids, [1, 2]).tolist() == ids.isin([1, 2]).tolist() == [False, False]

"""analysis.framememo: results kept for a frame's column data, and the shared text codes."""

import numpy as np
import pandas as pd
import pytest

from analysis import framememo


def _orders():
    return pd.DataFrame(
        {
            "customer_id": pd.array(["b", "a", None, "b", "c10", "c9"], "string"),
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )


def test_text_codes_are_the_sorted_factorisation_of_the_text():
    orders = _orders()
    codes, uniques = framememo.text_codes(orders, "customer_id")
    assert list(uniques) == ["a", "b", "c10", "c9"]  # as Python sorts text
    assert codes.tolist() == [1, 0, -1, 1, 2, 3]
    want_codes, want_uniques = pd.factorize(orders["customer_id"].astype(str), sort=True)
    np.testing.assert_array_equal(codes, want_codes)
    assert list(uniques) == list(want_uniques)
    with pytest.raises(ValueError):
        codes[0] = 5  # shared between callers: read-only


def test_text_codes_are_kept_for_the_same_data_only():
    orders = _orders()
    first = framememo.text_codes(orders, "customer_id")
    again = framememo.text_codes(orders.copy(deep=False), "customer_id")
    assert again[0] is first[0]  # a shallow copy holds the same data: computed once
    edited = orders.assign(customer_id=orders["customer_id"].str.upper())
    other = framememo.text_codes(edited, "customer_id")
    assert other[0] is not first[0] and list(other[1]) == ["A", "B", "C10", "C9"]
    part = framememo.text_codes(orders.iloc[:2], "customer_id")
    assert part[0].tolist() == [1, 0] and list(part[1]) == ["a", "b"]


def test_numeric_ids_are_coded_as_text():
    frame = pd.DataFrame({"customer_id": [10, 9, 10]})
    codes, uniques = framememo.text_codes(frame, "customer_id")
    assert list(uniques) == ["10", "9"] and codes.tolist() == [0, 1, 0]


def test_a_result_is_let_go_when_its_data_is_freed():
    import gc

    memo = framememo.FrameMemo(kept=8)
    kept = _orders()
    memo.get(kept, ["amount"], "sum", lambda: kept["amount"].sum())
    gone = pd.DataFrame({"amount": np.arange(1000.0)})
    memo.get(gone, ["amount"], "sum", lambda: 1.0)
    assert len(memo) == 2
    del gone
    gc.collect()
    framememo.prune()  # every memo of the process
    assert len(memo) == 1  # the freed frame's result is no longer held
    calls = []
    memo.get(kept, ["amount"], "sum", lambda: calls.append(1))
    assert calls == []  # the live frame's result still serves

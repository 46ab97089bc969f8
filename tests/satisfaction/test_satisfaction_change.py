"""analysis.satisfaction.change: the one test of a score change between two periods,
checked against hand computations, and the report's period comparison built on it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import satisfaction as sat
from analysis import strategy


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _survey(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "response_id": [f"R{i}" for i in range(n)],
        "response_date": pd.to_datetime(["2025-11-15"] * n),
        "business_unit": ["north"] * n,
        "customer_id": pd.array([f"C{i:04d}" for i in range(n)], dtype="string"),
    }
    return pd.DataFrame({**base, **columns})


def test_difference_test_hand_computed():
    d = sat.difference_test(40.0, 3.0, 30.0, 4.0)
    assert (d.change, d.se, d.z) == (10.0, 5.0, 2.0)
    assert d.p_value == pytest.approx(2 * (1 - _phi(2.0)))
    assert isinstance(d.p_value, float)


def test_difference_test_vectorised_and_degenerate():
    d = sat.difference_test([1.0, 5.0, np.nan], [0.0, 1.0, 1.0], [1.0, 2.0, 0.0], [0.0, 1.0, 1.0])
    assert d.change[1] == 3.0 and d.se[1] == pytest.approx(math.sqrt(2))
    assert d.z[1] == pytest.approx(3 / math.sqrt(2))
    # no spread on either side: nothing to test; a missing score: nothing to test
    assert math.isnan(d.z[0]) and math.isnan(d.p_value[0])
    assert math.isnan(d.p_value[2])


def test_nps_change_against_hand_computation():
    # current: 6 promoters, 2 passives, 2 detractors -> +40; previous 3/3/4 -> -10
    now = [10] * 6 + [8] * 2 + [3] * 2
    before = [9] * 3 + [7] * 3 + [0] * 4
    found = sat.nps_change(now, before)
    se1 = 100 * math.sqrt((0.6 + 0.2 - 0.4**2) / 10)
    se0 = 100 * math.sqrt((0.3 + 0.4 - 0.1**2) / 10)
    assert found.current.nps == pytest.approx(40.0) and found.previous.nps == pytest.approx(-10.0)
    assert found.change == pytest.approx(50.0) and found.se == pytest.approx(math.hypot(se1, se0))
    z = 50.0 / math.hypot(se1, se0)
    assert found.z == pytest.approx(z)
    assert found.p_value == pytest.approx(2 * (1 - _phi(z)))
    assert found.significant() == (found.p_value < 0.05)


def test_nps_change_without_answers_on_one_side_is_not_tested():
    found = sat.nps_change([10, 0, 9], [])
    assert found.current.n == 3 and found.previous.n == 0
    assert all(math.isnan(v) for v in (found.change, found.se, found.z, found.p_value))
    assert not found.significant()


def test_strategy_nps_change_is_the_same_test():
    now, before = pd.Series([10] * 50 + [0] * 50), pd.Series([10] * 80 + [0] * 20)
    found = sat.nps_change(now, before)
    wrapped = strategy.nps_change(now, before)
    assert wrapped == {
        "nps": found.current.nps,
        "previous_nps": found.previous.nps,
        "change": found.change,
        "z": found.z,
        "p_value": found.p_value,
        "n": 100,
        "previous_n": 100,
    }


def test_trend_change_is_the_same_test():
    rng = np.random.default_rng(5)
    dates = pd.to_datetime(["2025-08-15"] * 120 + ["2025-11-15"] * 150)
    frame = pd.DataFrame({"response_date": dates, "nps": rng.integers(0, 11, 270)})
    row = sat.score_trend(frame).loc["2025-Q4"]
    found = sat.nps_change(frame["nps"].iloc[120:], frame["nps"].iloc[:120])
    assert row["change"] == pytest.approx(found.change)
    assert row["z"] == pytest.approx(found.z) and row["p_value"] == pytest.approx(found.p_value)


def test_score_comparison_against_hand_computation():
    current = _survey(nps=[10] * 6 + [8] * 2 + [3] * 2, csat=[5] * 8 + [1] * 2)
    previous = _survey(nps=[9] * 3 + [7] * 3 + [0] * 4, csat=[4] * 5 + [2] * 5)
    table = sat.score_comparison(current, previous, has_nps=True, overall="csat", days=(92, 92))
    nps = table.loc["nps"]
    assert nps["value"] == pytest.approx(40.0) and nps["previous"] == pytest.approx(-10.0)
    assert nps["change"] == pytest.approx(50.0)
    se1 = 100 * math.sqrt((0.6 + 0.2 - 0.4**2) / 10)
    se0 = 100 * math.sqrt((0.3 + 0.4 - 0.1**2) / 10)
    z = 50.0 / math.hypot(se1, se0)
    assert nps["p_value"] == pytest.approx(2 * (1 - _phi(z)))
    csat = table.loc["csat"]
    assert csat["value"] == pytest.approx(0.8) and csat["change"] == pytest.approx(0.3)
    z_csat = 0.3 / math.hypot(math.sqrt(0.8 * 0.2 / 10), math.sqrt(0.5 * 0.5 / 10))
    assert csat["p_value"] == pytest.approx(2 * (1 - _phi(z_csat)))
    responses = table.loc["responses"]
    # equal counts over equal periods: exact binomial test gives p = 1, change 0
    assert responses["change"] == 0 and responses["p_value"] == pytest.approx(1.0)
    assert not responses["significant"]


def test_score_comparison_without_previous_responses_is_not_significant():
    table = sat.score_comparison(
        _survey(nps=[10, 0, 9]), _survey(nps=[]), has_nps=True, overall=None
    )
    assert list(table.index) == ["nps", "responses"]
    assert math.isnan(table.loc["nps", "change"]) and not table["significant"].any()

"""The sample cap of the risk model (``ChurnRiskModel(max_rows=...)``): on planted data the
capped model ranks unseen customers as well as the one fitted on everybody."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.churn import FIT_SAMPLE, ChurnRiskModel
from analysis.churn._common import roc_auc
from analysis.churn.risk import stratified_sample


def _planted(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers whose churn follows a planted logistic model (seeded)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "frequency": rng.negative_binomial(2, 0.2, n) + 1,
            "recency_days": rng.integers(0, 365, n),
            "complaints": rng.poisson(0.3, n),
            "plan": rng.choice(["basic", "plus", "pro"], n),
        }
    )
    eta = (
        -1.0
        - 0.25 * frame["frequency"]
        + 0.008 * frame["recency_days"]
        + 0.6 * frame["complaints"]
        + frame["plan"].map({"basic": 0.5, "plus": 0.0, "pro": -0.5})
    )
    churned = rng.random(n) < 1 / (1 + np.exp(-eta.to_numpy()))
    return frame, churned


def test_stratified_sample_keeps_the_churn_share():
    y = np.r_[np.ones(3_000, dtype=int), np.zeros(27_000, dtype=int)]
    keep = stratified_sample(y, 10_000, random_state=0)
    assert len(keep) == 10_000 and np.all(np.diff(keep) > 0)
    assert y[keep].mean() == pytest.approx(0.1, abs=1e-3)
    assert stratified_sample(y, 30_000) is None
    assert stratified_sample(y, None) is None


def test_capped_risk_model_agrees_with_the_full_one():
    frame, y = _planted(60_000, seed=1)
    test, y_test = _planted(20_000, seed=2)
    full = ChurnRiskModel(random_state=0).fit(frame, y)
    capped = ChurnRiskModel(max_rows=20_000, random_state=0).fit(frame, y)
    auc_full = roc_auc(y_test.astype(int), full.predict_proba(test))
    auc_capped = roc_auc(y_test.astype(int), capped.predict_proba(test))
    assert auc_full > 0.7
    assert abs(auc_full - auc_capped) < 0.01
    # the same seed draws the same sample: a refit gives the same probabilities
    again = ChurnRiskModel(max_rows=20_000, random_state=0).fit(frame, y)
    np.testing.assert_array_equal(again.predict_proba(test), capped.predict_proba(test))


def test_the_cap_leaves_the_bundled_sample_alone():
    # the bundled sample has 20k customers: no snapshot of it reaches the cap
    assert FIT_SAMPLE >= 5 * 20_000
    frame, y = _planted(2_000, seed=3)
    capped = ChurnRiskModel(max_rows=FIT_SAMPLE, random_state=0).fit(frame, y)
    full = ChurnRiskModel(random_state=0).fit(frame, y)
    np.testing.assert_array_equal(capped.predict_proba(frame), full.predict_proba(frame))

"""analysis.churn.drivers.newton_logit against statsmodels' Newton fit, and Firth's hat
diagonal against its definition."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm

from analysis.churn.drivers import firth_logit, newton_logit


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1202)


def _design(rng: np.random.Generator, n: int) -> np.ndarray:
    X = np.column_stack([rng.normal(size=n), rng.uniform(0, 400, size=n), rng.poisson(1.2, n)])
    return sm.add_constant(X.astype(float))


def test_newton_logit_equals_statsmodels_newton(rng):
    X = _design(rng, 5000)
    y = (rng.random(5000) < 1 / (1 + np.exp(-(-0.5 + 0.8 * X[:, 1] - 0.004 * X[:, 2])))).astype(
        float
    )
    params, cov, converged = newton_logit(X, y)
    reference = sm.Logit(y, X).fit(method="newton", maxiter=100, disp=0)
    assert converged and reference.mle_retvals["converged"]
    np.testing.assert_allclose(params, reference.params, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cov, reference.cov_params(), rtol=1e-10)


def test_newton_logit_on_separated_data_does_not_converge_like_statsmodels(rng):
    X = _design(rng, 2000)
    y = (X[:, 1] > 0.3).astype(float)  # one column separates the outcome perfectly
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params, _, converged = newton_logit(X, y)
        reference = sm.Logit(y, X).fit(method="newton", maxiter=100, disp=0)
    assert converged == bool(reference.mle_retvals["converged"])
    assert np.abs(params[1]) > 12  # diverging: the caller switches to Firth


def test_firth_hat_diagonal_is_that_of_the_weighted_design(rng):
    """The Firth fit's estimate solves its modified score equations, with the hat
    diagonal h = diag(W^1/2 X (X'WX)^-1 X' W^1/2) written out in full."""
    X = _design(rng, 400)
    y = (rng.random(400) < 0.3).astype(float)
    y[X[:, 3] > 3] = 1.0
    beta, cov, converged = firth_logit(X, y)
    assert converged
    p = 1 / (1 + np.exp(-(X @ beta)))
    root = np.sqrt(p * (1 - p))[:, None] * X
    h = np.diag(root @ np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None])) @ root.T)
    score = X.T @ (y - p + h * (0.5 - p))
    # zero up to the step tolerance, per unit of each column's size (one is in 0..400)
    np.testing.assert_allclose(score / np.abs(X).sum(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(cov, np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None])), rtol=1e-6)

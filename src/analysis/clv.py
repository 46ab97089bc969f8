"""Predictive customer lifetime value: BG/NBD, Gamma-Gamma, P(alive) and discounted CLV.

* :class:`BetaGeoModel` - the BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005,
  "Counting Your Customers the Easy Way", Marketing Science 24(2)): while alive a customer
  buys at rate lambda ~ Gamma(r, alpha); after each purchase they drop out with probability
  p ~ Beta(a, b).
* :class:`GammaGammaModel` - spend per transaction (Fader & Hardie 2013, "The Gamma-Gamma
  Model of Monetary Value"): a customer's transaction values are Gamma(p, nu) with
  nu ~ Gamma(q, gamma); the parameters are called ``p, q, v`` here (``v`` = gamma).
* :func:`customer_lifetime_value` - expected discounted margin over a horizon in monthly
  steps, the standard way of combining the two.

Both models are fitted by maximum likelihood on the summary produced by
:func:`analysis.value.rfm_summary`, in whatever time unit it was made: closed-form
log-likelihoods with analytic gradients (log-sum-exp for BG/NBD), optimised over the
log-parameters by L-BFGS, then polished by Newton steps; standard errors come from the
numerical Hessian at the estimate. Customers with the same ``(frequency, recency, T)`` are
pooled, special functions are evaluated once per distinct frequency, and large data start
from a fit on a fixed 20,000-row subset, so a million customers fit in about 5 seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from .errors import DataError, ModelError, ParamsError

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "MIN_REPEAT_CUSTOMERS",
    "customer_lifetime_value",
]

#: Default minimum number of repeat customers (frequency > 0) either model is fitted on.
#: Below it the dropout and spend parameters are not identified well enough to act on.
MIN_REPEAT_CUSTOMERS = 20

# Time units per month in the monthly CLV steps, as in the standard (lifetimes) recipe;
# "M" summaries measure months of 365.2425 / 12 days (see analysis.value.rfm_summary).
_UNITS_PER_MONTH = {"D": 30.0, "W": 4.345, "M": 1.0}

_Z95 = 1.959963984540054


# --------------------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------------------


def _check_hyper(penalizer_coef: float, max_iter: int, tol: float, min_repeat: int) -> None:
    if not np.isfinite(penalizer_coef) or penalizer_coef < 0:
        raise ParamsError(f"penalizer_coef must be >= 0, got {penalizer_coef!r}")
    if int(max_iter) < 1:
        raise ParamsError(f"max_iter must be >= 1, got {max_iter!r}")
    if not tol > 0:
        raise ParamsError(f"tol must be > 0, got {tol!r}")
    if int(min_repeat) < 1:
        raise ParamsError(f"min_repeat_customers must be >= 1, got {min_repeat!r}")


def _summary_arrays(summary: pd.DataFrame, columns: tuple[str, ...], what: str) -> list[np.ndarray]:
    if not isinstance(summary, pd.DataFrame):
        raise ParamsError(f"{what} needs a DataFrame with columns {', '.join(columns)}")
    for col in columns:
        if col not in summary.columns:
            raise DataError("the required column is missing.", file="customer summary", column=col)
    arrays = []
    for col in columns:
        values = pd.to_numeric(summary[col], errors="coerce").to_numpy(dtype="float64")
        bad = ~np.isfinite(values)
        if bad.any():
            raise DataError(
                "values must be finite numbers.",
                file="customer summary",
                column=col,
                examples=summary.index[bad][:5].tolist(),
            )
        arrays.append(values)
    return arrays


def _check_rfm(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, index: pd.Index) -> None:
    problems = [
        (x < 0, "frequency", "frequency must be >= 0"),
        (np.abs(x - np.round(x)) > 1e-9, "frequency", "frequency must be a whole number"),
        (t_x < 0, "recency", "recency must be >= 0"),
        (t_x > T + 1e-9, "recency", "recency must not exceed T"),
        ((x == 0) & (t_x != 0), "recency", "recency must be 0 when frequency is 0"),
    ]
    for mask, column, text in problems:
        if mask.any():
            raise DataError(
                f"{text}.",
                file="customer summary",
                column=column,
                examples=index[mask][:5].tolist(),
            )


def _pool(columns: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Pool identical rows; returns the distinct rows and how many customers each stands for."""
    frame = pd.DataFrame(columns)
    counts = frame.groupby(list(columns), sort=False).size()
    distinct = counts.index.to_frame(index=False)
    return {c: distinct[c].to_numpy(dtype="float64") for c in columns}, counts.to_numpy(
        dtype="float64"
    )


def _minimise(
    objective, x0: np.ndarray, *, max_iter: int, tol: float, hess_inv0: np.ndarray | None = None
) -> tuple[np.ndarray, bool, str]:
    """Minimise over the log-parameters; return (estimate, converged, message).

    ``objective(theta) -> (value, gradient)`` is the mean penalised negative log-likelihood,
    so ``tol`` is scale-free. With ``hess_inv0`` (an inverse-Hessian estimate from a
    subsample fit) fixed-curvature Newton steps go first; otherwise, or if they stall,
    L-BFGS; then Newton polishing if the gradient is still above ``tol``.
    """
    with np.errstate(all="ignore"):
        theta = np.asarray(x0, dtype="float64")
        done = False
        if hess_inv0 is not None:
            theta, done = _chord_newton(objective, theta, hess_inv0, tol=tol * 1e-2)
        message = "converged"
        if not done:
            res = optimize.minimize(
                objective,
                theta,
                jac=True,
                method="L-BFGS-B",
                options={
                    "maxiter": int(max_iter),
                    "ftol": 1e-15,
                    "gtol": tol * 1e-2,
                    "maxcor": 20,
                },
            )
            theta, message = res.x, str(res.message)
        value, grad = objective(theta)
        # Newton polishing when L-BFGS stopped short of tol (line-search trouble, flat
        # objective): a few steps on a finite-difference Hessian (2k gradient evaluations).
        for _ in range(20):
            if not np.all(np.isfinite(grad)) or np.max(np.abs(grad)) < tol:
                break
            hess = _fd_hessian(lambda t: objective(t)[1], theta)
            try:
                step = np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(step)):
                break
            improved = False
            for shrink in (1.0, 0.5, 0.25, 0.1):
                cand = theta - shrink * step
                cand_value, cand_grad = objective(cand)
                if np.isfinite(cand_value) and cand_value <= value + 1e-15 * abs(value):
                    theta, value, grad, improved = cand, cand_value, cand_grad, True
                    break
            if not improved:
                break
    finite = np.all(np.isfinite(theta)) and np.isfinite(value) and np.all(np.isfinite(grad))
    grad_ok = finite and np.max(np.abs(grad)) < max(tol, 1e-6)
    # Data are rescaled (time to max T = 1, money to mean 1), so a log-parameter beyond
    # +-15 (a parameter below 3e-7 or above 3e6) is a run to the boundary of the parameter
    # space - e.g. nobody ever drops out (a -> 0) - not an estimate.
    interior = finite and np.all(np.abs(theta) < _LOG_BOUND)
    converged = bool(finite and grad_ok and interior)
    if not finite:
        message = "the optimiser produced non-finite values"
    elif not interior:
        message = "a parameter ran to the boundary of the parameter space"
    elif not grad_ok:
        message = f"the gradient did not vanish ({message})"
    else:
        message = "converged"
    return theta, converged, message


_LOG_BOUND = 15.0

#: Above this many distinct rows, a fit first runs on a fixed random subset of this size
#: and starts the full-data optimisation from there (the estimate is still the full-data
#: maximum; the subset only saves most of the expensive iterations).
_WARM_START_ROWS = 20_000


def _penalised_objective(
    terms: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    weights: np.ndarray,
    units: np.ndarray,
    penalizer: float,
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """The objective the models minimise over log-parameters ``theta``: the weighted mean
    negative log-likelihood plus ``penalizer`` times the squared natural-scale parameters
    (lifetimes' convention; ``units`` undo the data rescaling), with its gradient.

    ``terms(params)`` returns each row's log-likelihood and its gradient in ``params``
    (shape ``(n_params, n_rows)``); the chain rule d/d(log p) = p d/dp gives the gradient in
    ``theta``. A non-finite value becomes +inf so the optimiser backs off.
    """
    total = weights.sum()

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        ll, grad = terms(params)
        value = -(weights @ ll) / total
        g = -(grad @ weights) / total
        if penalizer:
            natural = params * units
            value += penalizer * np.sum(natural**2)
            g = g + 2 * penalizer * natural * units
        return (value if np.isfinite(value) else np.inf), g * params

    return objective


def _fit_with_restarts(make_objective, n_rows: int, *, starts, max_iter: int, tol: float):
    """Minimise from a few starting points; return (theta, converged, message, value).

    ``make_objective(rows)`` builds the objective on a subset of the pooled rows.
    """
    full = make_objective(slice(None))
    curvature = [None] * len(starts)
    if n_rows > _WARM_START_ROWS:
        subset = np.sort(np.random.default_rng(0).choice(n_rows, _WARM_START_ROWS, replace=False))
        warm = make_objective(subset)
        for start in starts:
            theta, converged, _ = _minimise(warm, np.array(start), max_iter=max_iter, tol=tol)
            if converged:
                # The subsample's curvature (mean log-likelihood, so on the same scale)
                # seeds BFGS on the full data: a handful of full-data passes suffice.
                with np.errstate(all="ignore"):
                    hess = _fd_hessian(lambda t: warm(t)[1], theta)
                try:
                    inverse = np.linalg.inv(hess)
                    inverse = (inverse + inverse.T) / 2
                    np.linalg.cholesky(inverse)  # positive definite, or LinAlgError
                except np.linalg.LinAlgError:
                    inverse = None
                starts = [theta, *starts]
                curvature = [inverse, *curvature]
                break
    best = None
    for start, hess_inv0 in zip(starts, curvature, strict=True):
        theta, converged, message = _minimise(
            full, np.array(start), max_iter=max_iter, tol=tol, hess_inv0=hess_inv0
        )
        value = full(theta)[0]
        if best is None or (converged and (not best[1] or value < best[3])):
            best = (theta, converged, message, value)
        if converged:
            break
    return best


def _chord_newton(objective, theta: np.ndarray, hess_inv: np.ndarray, *, tol: float):
    """Newton steps with a fixed inverse Hessian (from a subsample), halving a step that
    does not lower the objective. Near the optimum each step costs one pass over the data
    and shrinks the error by the (small) mismatch of the two curvatures. Returns
    ``(theta, reached_tol)``; on a stall the caller falls back to L-BFGS."""
    value, grad = objective(theta)
    for _ in range(50):
        if not np.all(np.isfinite(grad)):
            return theta, False
        if np.max(np.abs(grad)) < tol:
            return theta, True
        step = hess_inv @ grad
        for shrink in (1.0, 0.5, 0.25, 0.125):
            cand = theta - shrink * step
            cand_value, cand_grad = objective(cand)
            if np.isfinite(cand_value) and cand_value <= value:
                theta, value, grad = cand, cand_value, cand_grad
                break
        else:
            return theta, False
    return theta, bool(np.max(np.abs(grad)) < tol)


def _fd_hessian(gradient, theta: np.ndarray) -> np.ndarray:
    """Central-difference Hessian from an analytic gradient, symmetrised."""
    k = len(theta)
    hess = np.empty((k, k))
    for i in range(k):
        h = 1e-5 * max(1.0, abs(theta[i]))
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        hess[:, i] = (gradient(up) - gradient(down)) / (2 * h)
    return (hess + hess.T) / 2


def _standard_errors(gradient_natural, params: np.ndarray) -> np.ndarray:
    """Standard errors from the inverse of the observed information (numerical Hessian of
    the total negative log-likelihood in the natural parameters); NaN if not invertible."""
    k = len(params)
    hess = np.empty((k, k))
    for i in range(k):
        h = 1e-5 * params[i]
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        hess[:, i] = (gradient_natural(up) - gradient_natural(down)) / (2 * h)
    hess = (hess + hess.T) / 2
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    var = np.diag(cov)
    return np.where(var > 0, np.sqrt(np.abs(var)), np.nan)


def _check_identified(se: np.ndarray, model: str) -> None:
    if not np.all(np.isfinite(se)):
        raise ModelError(
            f"{model} did not converge to a proper maximum: the likelihood is flat in some "
            "direction at the estimate (the information matrix is not positive definite), so "
            "the parameters are not identified by these data."
        )


def _summary_frame(
    names: tuple[str, ...], params: dict[str, float], se: np.ndarray
) -> pd.DataFrame:
    est = np.array([params[n] for n in names])
    # Wald interval on the log scale (parameters are positive): est * exp(+-z * se / est).
    spread = np.exp(_Z95 * se / est)
    frame = pd.DataFrame(
        {"estimate": est, "std_error": se, "lower_95": est / spread, "upper_95": est * spread},
        index=pd.Index(names, name="parameter"),
    )
    return frame


class _Fitted:
    """Helpers shared by the two models (kept private: not an API)."""

    _param_names: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        penalizer_coef: float = 0.0,
        max_iter: int = 1000,
        tol: float = 1e-8,
        min_repeat_customers: int = MIN_REPEAT_CUSTOMERS,
    ) -> None:
        self.penalizer_coef = penalizer_coef
        self.max_iter = max_iter
        self.tol = tol
        self.min_repeat_customers = min_repeat_customers

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ModelError(f"{type(self).__name__} is not fitted yet: call fit(summary) first")

    @property
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% intervals (one row per parameter)."""
        self._check_fitted()
        return _summary_frame(self._param_names, self.params_, self.standard_errors_)

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({hyper})"

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters, as scikit-learn's ``get_params``."""
        return {
            "penalizer_coef": self.penalizer_coef,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "min_repeat_customers": self.min_repeat_customers,
        }


# --------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------


def _levels(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct frequencies and the index of each row's: the special functions of the
    likelihoods depend on x only, and there are few distinct x, so they are computed once
    per level instead of once per customer."""
    return np.unique(x, return_inverse=True)


def _bgnbd_loglik_terms(r, alpha, a, b, t_x, T, levels, *, with_gradient: bool):
    """Per-customer BG/NBD log-likelihood (FHL 2005, eq. 6) and optionally its gradient.

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x)),
    summed as a log-sum-exp of the two terms. ``levels`` is ``_levels(x)``.
    """
    xu, idx = levels
    repeat_u = xu > 0
    xs = np.where(repeat_u, xu, 1.0)  # keeps gammaln(b + x - 1) finite where it is unused
    rxu = r + xu
    beta0 = special.gammaln(a + b) - special.gammaln(b) - special.gammaln(a + b + xu)
    common_u = special.gammaln(rxu) - special.gammaln(r) + r * np.log(alpha)
    alive_u = beta0 + special.gammaln(b + xu)
    dead_u = np.where(repeat_u, beta0 + np.log(a) + special.gammaln(b + xs - 1), -np.inf)
    rx = rxu[idx]
    log_at = np.log(alpha + T)
    log_atx = np.log(alpha + t_x)
    term_alive = alive_u[idx] - rx * log_at
    term_dead = dead_u[idx] - rx * log_atx
    top = np.maximum(term_alive, term_dead)
    e_alive = np.exp(term_alive - top)
    e_dead = np.exp(term_dead - top)
    total = e_alive + e_dead
    ll = common_u[idx] + top + np.log(total)
    if not with_gradient:
        return ll, None
    w_alive = e_alive / total
    w_dead = e_dead / total
    dig_ab = special.digamma(a + b)
    dig_abx = special.digamma(a + b + xu)
    d_r = (special.digamma(rxu) - special.digamma(r) + np.log(alpha))[idx] - (
        w_alive * log_at + w_dead * log_atx
    )
    d_alpha = r / alpha - rx * (w_alive / (alpha + T) + w_dead / (alpha + t_x))
    d_a = (dig_ab - dig_abx)[idx] + w_dead / a
    d_b = (
        (dig_ab - special.digamma(b) - dig_abx)[idx]
        + w_alive * special.digamma(b + xu)[idx]
        + w_dead * np.where(repeat_u, special.digamma(b + xs - 1), 0.0)[idx]
    )
    return ll, np.stack([d_r, d_alpha, d_a, d_b])


class BetaGeoModel(_Fitted):
    """BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

    Parameters
    ----------
    penalizer_coef
        L2 penalty ``penalizer_coef * sum(params**2)`` added to the mean negative
        log-likelihood (parameters in the summary's time unit); 0 = plain maximum likelihood.
    max_iter
        Maximum optimiser iterations.
    tol
        Convergence tolerance on the gradient of the mean negative log-likelihood with respect
        to the log-parameters.
    min_repeat_customers
        Fewer customers with ``frequency > 0`` than this raise :class:`ModelError`.

    Attributes
    ----------
    params_ : dict
        ``{"r", "alpha", "a", "b"}``; ``alpha`` is in the time unit of the fitted summary.
    standard_errors_ : numpy.ndarray
        From the numerical Hessian of the log-likelihood at the estimate.
    log_likelihood_ : float
        Total log-likelihood at the estimate (FHL 2005 report -9582.4 for CDNOW in weeks).
    converged_ : bool
        Always True after a successful ``fit`` (failure raises ``ModelError``).
    n_customers_, n_repeat_customers_ : int
        Customers fitted on, and those of them with repeat purchases.
    time_unit_ : str or None
        ``summary.attrs["time_unit"]`` when the summary came from ``rfm_summary``.

    Examples
    --------
    >>> from analysis.value import rfm_summary
    >>> model = BetaGeoModel().fit(summary)                       # doctest: +SKIP
    >>> model.p_alive(summary["frequency"], summary["recency"], summary["T"])  # doctest: +SKIP
    """

    _param_names = ("r", "alpha", "a", "b")

    def fit(self, summary: pd.DataFrame) -> BetaGeoModel:
        """Fit on a customer summary with columns ``frequency``, ``recency`` and ``T``.

        Parameters
        ----------
        summary
            One row per customer (e.g. :func:`analysis.value.rfm_summary`), any one time unit.

        Returns
        -------
        BetaGeoModel
            ``self``, fitted.

        Raises
        ------
        DataError
            Missing columns, non-finite values, negative or fractional frequency, recency
            above T, or recency without repeat purchases.
        ModelError
            Fewer than ``min_repeat_customers`` repeat customers, or no convergence.
        """
        _check_hyper(self.penalizer_coef, self.max_iter, self.tol, self.min_repeat_customers)
        x, t_x, T = _summary_arrays(summary, ("frequency", "recency", "T"), "BetaGeoModel.fit")
        _check_rfm(x, t_x, T, summary.index)
        n_repeat = int((x > 0).sum())
        if n_repeat < self.min_repeat_customers:
            raise ModelError(
                f"BG/NBD needs at least {self.min_repeat_customers} customers with repeat "
                f"purchases to estimate dropout; these data have {n_repeat} (of {len(x)} "
                "customers). Use a longer period or more units, or skip predictive CLV."
            )
        if float(T.max()) <= 0:
            raise ModelError("BG/NBD needs customers observed for some time (all T are 0).")
        pooled, weights = _pool({"x": x, "t_x": t_x, "T": T})
        # Time is rescaled so the longest T is 1: alpha is a time scale, so its estimate
        # scales back exactly, and the optimiser works on numbers of order one.
        scale = float(T.max())
        units = np.array([1.0, scale, 1.0, 1.0])

        def make_objective(rows: np.ndarray | slice):
            levels = _levels(pooled["x"][rows])
            t_x_s, T_s = pooled["t_x"][rows] / scale, pooled["T"][rows] / scale
            return _penalised_objective(
                lambda p: _bgnbd_loglik_terms(*p, t_x_s, T_s, levels, with_gradient=True),
                weights[rows],
                units,
                float(self.penalizer_coef),
            )

        best = _fit_with_restarts(
            make_objective,
            len(weights),
            starts=([0.0, 0.0, 0.0, 0.0], [-1.0, -1.0, -0.5, 0.5], [0.5, 1.0, 1.0, 1.5]),
            max_iter=self.max_iter,
            tol=self.tol,
        )
        theta, converged, message, _ = best
        if not converged:
            raise ModelError(
                f"BG/NBD did not converge: {message}. The data may not show the repeat-purchase "
                "and dropout pattern the model describes (e.g. almost nobody buys twice, or "
                "nobody ever stops buying)."
            )
        r, alpha, a, b = np.exp(theta)
        alpha *= scale
        self.params_ = {"r": float(r), "alpha": float(alpha), "a": float(a), "b": float(b)}
        natural = np.array([r, alpha, a, b])

        levels = _levels(pooled["x"])

        def total_gradient(params):
            _, grad = _bgnbd_loglik_terms(
                *params, pooled["t_x"], pooled["T"], levels, with_gradient=True
            )
            return -(grad @ weights)

        ll, _ = _bgnbd_loglik_terms(
            r, alpha, a, b, pooled["t_x"], pooled["T"], levels, with_gradient=False
        )
        self.log_likelihood_ = float(weights @ ll)
        self.standard_errors_ = _standard_errors(total_gradient, natural)
        _check_identified(self.standard_errors_, "BG/NBD")
        self.converged_ = True
        self.n_customers_ = len(x)
        self.n_repeat_customers_ = n_repeat
        self.time_unit_ = summary.attrs.get("time_unit")
        return self

    # -- predictions -------------------------------------------------------------------

    def _unpack(self):
        self._check_fitted()
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def p_alive(self, frequency, recency, T):
        """Probability that a customer is still active (FHL 2005, eq. 13; Fader et al. 2008
        note): ``1 / (1 + [x > 0] a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))``.

        Arguments broadcast; Series in give a Series (same index) out, arrays give arrays.
        Customers without repeat purchases have P(alive) = 1 in the BG/NBD model.
        """
        r, alpha, a, b = self._unpack()
        x, t_x, T_, index = _broadcast(frequency, recency, T)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_odds = (
                np.log(a)
                - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * (np.log(alpha + T_) - np.log(alpha + t_x))
            )
        out = np.where(x > 0, special.expit(-log_odds), 1.0)
        return _wrap(out, index, "p_alive")

    def expected_purchases(self, t, frequency, recency, T):
        """Expected number of purchases in the next ``t`` time units (FHL 2005, eq. 10).

        Uses Euler's transformation of the Gaussian hypergeometric function,
        ``2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1-r-x) 2F1(a+b-1-r, a-1; a+b+x-1; z)`` with
        ``z = t / (alpha + T + t)``, which stays finite for heavy buyers.
        """
        r, alpha, a, b = self._unpack()
        x, t_x, T_, index = _broadcast(frequency, recency, T)
        t = np.asarray(t, dtype="float64")
        if np.any(t < 0):
            raise ParamsError("t must be >= 0")
        if abs(a - 1) < 1e-8:  # removable singularity of the closed form
            a = 1 + 1e-8
        z = t / (alpha + T_ + t)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            hyp = special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
            numerator = (a + b + x - 1) / (a - 1) * (1 - np.power(1 - z, a - 1) * hyp)
            log_odds = (
                np.log(a)
                - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * (np.log(alpha + T_) - np.log(alpha + t_x))
            )
            denominator = 1 + np.where(x > 0, np.exp(np.minimum(log_odds, 700)), 0.0)
            out = numerator / denominator
        return _wrap(np.where(t == 0, 0.0, out), index, "expected_purchases")


def _broadcast(frequency, recency, T):
    index = None
    for arg in (frequency, recency, T):
        if isinstance(arg, pd.Series):
            index = arg.index
            break
    x, t_x, T_ = (np.asarray(v, dtype="float64") for v in (frequency, recency, T))
    x, t_x, T_ = np.broadcast_arrays(x, t_x, T_)
    return x, t_x, T_, index


def _wrap(values, index, name):
    values = np.asarray(values, dtype="float64")
    if index is not None and values.ndim == 1 and len(values) == len(index):
        return pd.Series(values, index=index, name=name)
    return values if values.ndim else float(values)


# --------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------


def _gg_loglik_terms(p, q, v, m, log_m, levels, *, with_gradient: bool):
    """Per-customer Gamma-Gamma log-likelihood of the mean spend m over x transactions
    (Fader & Hardie 2013, eq. 3):
    G(px+q)/(G(px)G(q)) * v^q m^(px-1) x^(px) / (v + m x)^(px+q).
    ``levels`` is ``_levels(x)``; ``log_m`` is ``log(m)`` (fixed during a fit)."""
    xu, idx = levels
    pxu = p * xu
    px = pxu[idx]
    x = xu[idx]
    vmx = v + m * x
    log_vmx = np.log(vmx)
    const_u = (
        special.gammaln(pxu + q) - special.gammaln(pxu) - special.gammaln(q) + pxu * np.log(xu)
    )
    ll = const_u[idx] + q * np.log(v) + (px - 1) * log_m - (px + q) * log_vmx
    if not with_gradient:
        return ll, None
    dig_u = special.digamma(pxu + q)
    d_p = x * ((dig_u - special.digamma(pxu) + np.log(xu))[idx] + log_m - log_vmx)
    d_q = (dig_u - special.digamma(q))[idx] + np.log(v) - log_vmx
    d_v = q / v - (px + q) / vmx
    return ll, np.stack([d_p, d_q, d_v])


class GammaGammaModel(_Fitted):
    """Gamma-Gamma model of spend per transaction (Fader & Hardie 2013), maximum likelihood.

    Fitted on the repeat customers only (``frequency > 0``), whose ``monetary_value`` is the
    mean of their repeat transactions; rows with ``monetary_value <= 0`` (refunds exceeding
    purchases) are left out of the fit and counted in ``n_excluded_``. The model assumes spend
    is independent of purchase frequency; ``frequency_monetary_corr_`` reports the
    correlation so a report can flag a violation (above about 0.3).

    Parameters
    ----------
    penalizer_coef, max_iter, tol, min_repeat_customers
        As in :class:`BetaGeoModel`.

    Attributes
    ----------
    params_ : dict
        ``{"p", "q", "v"}`` (``v`` is the scale, gamma in the paper).
    mean_value_ : float
        Population mean spend per transaction, ``p v / (q - 1)``.
    standard_errors_, log_likelihood_, converged_, n_customers_ : see BetaGeoModel
    n_excluded_ : int
        Repeat customers left out because their mean spend is not positive.
    frequency_monetary_corr_ : float
        Pearson correlation of frequency and monetary value among the fitted customers.
    """

    _param_names = ("p", "q", "v")

    def fit(self, summary: pd.DataFrame) -> GammaGammaModel:
        """Fit on a summary with ``frequency`` and ``monetary_value`` (other columns ignored).

        Raises
        ------
        DataError
            Missing columns or non-finite values.
        ModelError
            Fewer than ``min_repeat_customers`` repeat customers with positive spend, no
            convergence, or ``q <= 1`` (the mean spend would be infinite).
        """
        _check_hyper(self.penalizer_coef, self.max_iter, self.tol, self.min_repeat_customers)
        x_all, m_all = _summary_arrays(
            summary, ("frequency", "monetary_value"), "GammaGammaModel.fit"
        )
        repeat = x_all > 0
        usable = repeat & (m_all > 0)
        x, m = x_all[usable], m_all[usable]
        if len(x) < self.min_repeat_customers:
            raise ModelError(
                f"Gamma-Gamma needs at least {self.min_repeat_customers} repeat customers with a "
                f"positive mean spend; these data have {len(x)}. Use a longer period or more "
                "units, or skip predictive CLV."
            )
        pooled, weights = _pool({"x": x, "m": m})
        # Spend is rescaled to mean 1; v is a money scale and scales back exactly.
        scale = float(np.average(pooled["m"], weights=weights))
        units = np.array([1.0, 1.0, scale])

        def make_objective(rows: np.ndarray | slice):
            levels = _levels(pooled["x"][rows])
            m_s = pooled["m"][rows] / scale
            log_m = np.log(m_s)
            return _penalised_objective(
                lambda p: _gg_loglik_terms(*p, m_s, log_m, levels, with_gradient=True),
                weights[rows],
                units,
                float(self.penalizer_coef),
            )

        best = _fit_with_restarts(
            make_objective,
            len(weights),
            starts=([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2.0, 1.0, 2.0]),
            max_iter=self.max_iter,
            tol=self.tol,
        )
        theta, converged, message, _ = best
        if not converged and theta[1] > 10:
            # q -> infinity (with v/q fixed): customers' average spend levels do not differ
            # beyond chance, and the model has no finite maximum-likelihood estimate.
            raise ModelError(
                "Gamma-Gamma has no estimate: average spend per transaction hardly differs "
                "between customers (q runs to infinity), so every customer's expected spend "
                "is simply the overall average. Use historical value instead of predictive CLV."
            )
        if not converged:
            raise ModelError(
                f"Gamma-Gamma did not converge: {message}. Spend per transaction may be too "
                "heavy-tailed (a few huge values) for the model."
            )
        p, q, v = np.exp(theta)
        v *= scale
        if q <= 1:
            raise ModelError(
                f"Gamma-Gamma estimated q = {q:.3g} <= 1: spend is so heavy-tailed that the "
                "mean spend per transaction is infinite, so CLV cannot be computed."
            )
        self.params_ = {"p": float(p), "q": float(q), "v": float(v)}
        natural = np.array([p, q, v])

        levels = _levels(pooled["x"])
        log_m = np.log(pooled["m"])

        def total_gradient(params):
            _, grad = _gg_loglik_terms(*params, pooled["m"], log_m, levels, with_gradient=True)
            return -(grad @ weights)

        ll, _ = _gg_loglik_terms(p, q, v, pooled["m"], log_m, levels, with_gradient=False)
        self.log_likelihood_ = float(weights @ ll)
        self.standard_errors_ = _standard_errors(total_gradient, natural)
        _check_identified(self.standard_errors_, "Gamma-Gamma")
        self.mean_value_ = float(p * v / (q - 1))
        self.converged_ = True
        self.n_customers_ = int(len(x))
        self.n_excluded_ = int(repeat.sum() - usable.sum())
        self.frequency_monetary_corr_ = (
            float(np.corrcoef(x, m)[0, 1]) if np.std(x) > 0 and np.std(m) > 0 else float("nan")
        )
        self.time_unit_ = summary.attrs.get("time_unit")
        return self

    def conditional_expected_value(self, frequency, monetary_value):
        """Expected spend per future transaction given the past (Fader & Hardie 2013, eq. 5):
        ``(p (v + x m)) / (p x + q - 1)``, a weighted average of the population mean
        ``p v / (q - 1)`` and the customer's own mean ``m``.

        Customers without repeat purchases (``x = 0``) or with ``m <= 0`` get the population
        mean. Series in give a Series out.
        """
        self._check_fitted()
        p, q, v = (self.params_[k] for k in ("p", "q", "v"))
        index = next(
            (s.index for s in (frequency, monetary_value) if isinstance(s, pd.Series)), None
        )
        x, m = np.broadcast_arrays(
            np.asarray(frequency, dtype="float64"), np.asarray(monetary_value, dtype="float64")
        )
        own = (x > 0) & (m > 0)
        x_eff = np.where(own, x, 0.0)
        m_eff = np.where(own, m, 0.0)
        out = p * (v + x_eff * m_eff) / (p * x_eff + q - 1)
        return _wrap(out, index, "expected_value")


# --------------------------------------------------------------------------------------
# CLV
# --------------------------------------------------------------------------------------


def customer_lifetime_value(
    bg: BetaGeoModel,
    gg: GammaGammaModel,
    summary: pd.DataFrame,
    *,
    horizon_months: int = 12,
    discount_rate_annual: float = 0.10,
    time_unit: str = "D",
) -> pd.DataFrame:
    """Predicted, discounted customer lifetime value over a horizon, in monthly steps.

    ``CLV = sum_{k=1..H} E[spend] * (E[Y(k month)] - E[Y((k-1) month)]) / (1 + d)^k``, with
    ``E[Y(t)]`` from the BG/NBD model, ``E[spend]`` from the Gamma-Gamma model and the monthly
    rate ``d = (1 + discount_rate_annual)^(1/12) - 1``. A month is 30 days, 4.345 weeks or one
    ``"M"`` unit, as in the standard recipe (lifetimes' ``customer_lifetime_value``, which
    takes the monthly rate directly). Customers without repeat purchases, or whose mean
    repeat spend is not positive, are valued at the population mean spend.

    Parameters
    ----------
    bg, gg
        Fitted models (fitted on summaries in ``time_unit``).
    summary
        Customers to value: ``frequency``, ``recency``, ``T``, ``monetary_value``.
    horizon_months
        Number of months ahead (default 12).
    discount_rate_annual
        Annual discount rate (default 10%); 0 means no discounting.
    time_unit
        Time unit of the summary and models: ``"D"``, ``"W"`` or ``"M"``.

    Returns
    -------
    pandas.DataFrame
        Index of ``summary``; columns ``p_alive``, ``expected_purchases`` (over the horizon,
        undiscounted), ``expected_value`` (per transaction) and ``clv``.

    Raises
    ------
    ModelError
        A model is not fitted.
    ParamsError
        Bad horizon, rate or time unit, or ``time_unit`` differs from the unit recorded in the
        summary or the models.
    """
    if time_unit not in _UNITS_PER_MONTH:
        raise ParamsError(f"time_unit must be one of 'D', 'W', 'M', got {time_unit!r}")
    if (
        isinstance(horizon_months, bool)
        or not isinstance(horizon_months, int | np.integer)
        or horizon_months < 1
    ):
        raise ParamsError(f"horizon_months must be a positive integer, got {horizon_months!r}")
    if not (isinstance(discount_rate_annual, int | float) and 0 <= discount_rate_annual < 10):
        raise ParamsError(
            f"discount_rate_annual must be a rate such as 0.10, got {discount_rate_annual!r}"
        )
    for model, name in ((bg, "bg"), (gg, "gg")):
        if not isinstance(model, BetaGeoModel | GammaGammaModel):
            raise ParamsError(f"{name} must be a fitted model, got {type(model).__name__}")
        model._check_fitted()
    recorded = {
        "summary": summary.attrs.get("time_unit") if isinstance(summary, pd.DataFrame) else None,
        "bg": bg.time_unit_,
        "gg": gg.time_unit_,
    }
    for what, unit in recorded.items():
        if unit is not None and unit != time_unit:
            raise ParamsError(
                f"time_unit={time_unit!r} but the {what} was made in {unit!r}: fit and value "
                "customers in one time unit"
            )
    x, t_x, T, m = _summary_arrays(
        summary, ("frequency", "recency", "T", "monetary_value"), "customer_lifetime_value"
    )
    _check_rfm(x, t_x, T, summary.index)
    step = _UNITS_PER_MONTH[time_unit]
    monthly = (1 + discount_rate_annual) ** (1 / 12) - 1
    value = np.asarray(gg.conditional_expected_value(x, m), dtype="float64")
    previous = np.zeros_like(x)
    clv = np.zeros_like(x)
    for k in range(1, int(horizon_months) + 1):
        cumulative = np.asarray(bg.expected_purchases(k * step, x, t_x, T), dtype="float64")
        clv += value * (cumulative - previous) / (1 + monthly) ** k
        previous = cumulative
    return pd.DataFrame(
        {
            "p_alive": np.asarray(bg.p_alive(x, t_x, T), dtype="float64"),
            "expected_purchases": previous,
            "expected_value": value,
            "clv": clv,
        },
        index=summary.index,
    )

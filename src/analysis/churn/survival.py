"""Time to churn after a snapshot: follow-up table, Kaplan-Meier curves and a Cox
proportional-hazards model (Efron ties).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..coerce import as_day
from ..errors import DataError, ModelError, ParamsError
from ..lookup import isin
from ._common import MAX_IDENTIFIED_SE, Z95, one_blas_thread, purchase_days
from .design import (
    Design,
    classify_columns,
    drop_collinear,
    merge_aliases,
    separating_features,
)
from .labels import churn_labels

NO_CONVERGENCE = "the hazard model did not converge (separated or collinear data)"


class HazardModelError(ModelError):
    """:func:`hazard_ratios` could not fit the Cox model; ``reason`` says why, as a code a
    report can word: ``few_events`` (fewer churn events than needed), ``no_feature`` (no
    usable covariate) or ``no_convergence`` (separated or collinear data)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


# --------------------------------------------------------------------------- survival
def followup_table(
    orders: pd.DataFrame,
    snapshot: object,
    until: object,
    window_days: int,
    *,
    definition: str = "noncontractual",
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Time from a snapshot to churn, for the customers active at the snapshot.

    Non-contractual: active = a purchase in the ``window_days`` before the snapshot; churn
    happens the day ``window_days`` pass without a purchase (the first gap longer than the
    window from the last purchase before the snapshot on). Contractual: customers not
    churned before the snapshot; churn on ``churn_date``. Follow-up ends at ``until``
    (exclusive): customers not churned by then are censored.

    Returns
    -------
    DataFrame
        Index ``customer_id``; ``duration`` (days after the snapshot, >= 1) and ``event``
        (bool, churned within the follow-up).
    """
    s, end = as_day(snapshot, "snapshot"), as_day(until, "until")
    if end <= s:
        raise ParamsError("the follow-up must end after the snapshot")
    horizon = float((end - s).days)
    W = int(window_days)
    if definition == "contractual":
        if customers is None:
            raise DataError("the contractual churn definition needs a customers table")
        labels = churn_labels(
            orders, s, max(int(horizon), 1), definition=definition, customers=customers
        )
        c = customers.drop_duplicates("customer_id").set_index(
            customers["customer_id"].astype("string").rename("customer_id")
        )
        date = pd.to_datetime(c["churn_date"]).reindex(labels.index)
        days = (date - s).dt.days.astype("float64") + 1
        event = labels.to_numpy(dtype=bool)
        duration = np.where(event, days.to_numpy(), horizon)
        return pd.DataFrame(
            {"duration": np.clip(duration, 1, None), "event": event}, index=labels.index
        )
    if definition != "noncontractual":
        raise ParamsError(f"unknown churn definition {definition!r}")
    days = purchase_days(orders, s - pd.Timedelta(days=W), end)
    active = days.loc[days["day"] < s, "customer_id"].unique()
    days = days.loc[isin(days["customer_id"], active)]
    last_before = days.loc[days["day"] < s].groupby("customer_id", observed=True)["day"].max()
    days = days.loc[days["day"] >= days["customer_id"].map(last_before).astype("datetime64[ns]")]
    days = days.sort_values(["customer_id", "day"], kind="mergesort")
    nxt = days.groupby("customer_id", observed=True)["day"].shift(-1)
    gap = (nxt - days["day"]).dt.days.astype("float64").fillna(np.inf).to_numpy()
    churn_day = (days["day"] - s).dt.days.to_numpy(dtype="float64") + W + 1
    first = (
        pd.DataFrame(
            {
                "customer_id": days["customer_id"].to_numpy(),
                "t": np.where(gap > W, churn_day, np.inf),
            }
        )
        .groupby("customer_id", observed=True)["t"]
        .min()
    )
    event = first.to_numpy() <= horizon
    out = pd.DataFrame(
        {"duration": np.where(event, first.to_numpy(), horizon), "event": event},
        index=pd.Index(first.index.astype("string"), name="customer_id"),
    )
    out["duration"] = out["duration"].clip(lower=1)
    return out.sort_index()


def km_curves(
    frame: pd.DataFrame,
    *,
    duration: str = "duration",
    event: str = "event",
    group: str | None = None,
    min_group: int = 30,
) -> pd.DataFrame:
    """Kaplan-Meier survival curves (statsmodels ``SurvfuncRight``), overall or per group.

    Pointwise 95% intervals use the log(-log) transform. Groups with fewer than
    ``min_group`` customers are left out (``attrs["omitted"]``).

    Returns
    -------
    DataFrame
        ``group`` (``"all"`` without ``group``), ``time``, ``survival``, ``ci_low``,
        ``ci_high``, ``at_risk``, ``customers``; each curve starts at time 0 with survival 1.
        ``attrs["medians"]``: group -> median time to churn (NaN when not reached).
    """
    from statsmodels.duration.survfunc import SurvfuncRight  # noqa: PLC0415

    parts, omitted, medians = [], [], {}
    groups = (
        [("all", frame)]
        if group is None
        else [
            (g, part)
            for g, part in frame.groupby(
                frame[group].astype("object").where(frame[group].notna(), "(missing)"),
                sort=True,
            )
        ]
    )
    for name, part in groups:
        if len(part) < min_group:
            omitted.append(name)
            continue
        time = part[duration].to_numpy(dtype="float64")
        status = part[event].to_numpy(dtype=float)
        if status.sum() == 0:
            curve = pd.DataFrame(
                {
                    "time": [0.0, time.max()],
                    "survival": [1.0, 1.0],
                    "ci_low": [1.0, 1.0],
                    "ci_high": [1.0, 1.0],
                    "at_risk": [len(part), int((time >= time.max()).sum())],
                }
            )
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sf = SurvfuncRight(time, status)
            s = np.asarray(sf.surv_prob, dtype="float64")
            se = np.asarray(sf.surv_prob_se, dtype="float64")
            with np.errstate(divide="ignore", invalid="ignore"):
                log_s = np.log(s)
                se_ll = se / (s * np.abs(log_s))
                low = s ** np.exp(Z95 * se_ll)
                high = s ** np.exp(-Z95 * se_ll)
            low = np.where(np.isfinite(low), low, s)
            high = np.where(np.isfinite(high), high, s)
            curve = pd.DataFrame(
                {
                    "time": np.r_[0.0, sf.surv_times],
                    "survival": np.r_[1.0, s],
                    "ci_low": np.r_[1.0, low],
                    "ci_high": np.r_[1.0, high],
                    "at_risk": np.r_[len(part), sf.n_risk],
                }
            )
            last_t = float(time.max())
            if curve["time"].iloc[-1] < last_t:  # carry the curve to the end of follow-up
                tail = curve.iloc[[-1]].assign(time=last_t, at_risk=int((time >= last_t).sum()))
                curve = pd.concat([curve, tail], ignore_index=True)
        below = curve.loc[curve["survival"] <= 0.5, "time"]
        medians[name] = float(below.iloc[0]) if len(below) else float("nan")
        parts.append(curve.assign(group=name, customers=len(part)))
    columns = ["group", "time", "survival", "ci_low", "ci_high", "at_risk", "customers"]
    out = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    out.attrs["omitted"] = omitted
    out.attrs["medians"] = medians
    return out


@one_blas_thread
def cox_efron(
    duration: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray]:
    """Cox proportional-hazards coefficients and their covariance (the inverse of the
    observed information at the estimate), by Newton-Raphson with step halving on Efron's
    (1977) approximation of the partial likelihood for tied times: the model of
    statsmodels ``PHReg(ties="efron")``, vectorised over event times (``PHReg`` loops
    over them in Python).

    With ``d`` events ``D`` at a time whose risk set is ``R``, the ``l``-th of its ``d``
    factors (``l = 0..d-1``) has the denominator ``phi = S0(R) - l/d S0(D)``, with
    ``S0(A) = sum_A exp(x b)``; first and second derivatives use ``S1 = sum x exp(x b)`` and
    ``S2 = sum x x' exp(x b)`` the same way. ``S2`` is never formed per event time: the
    weights of ``1/phi`` are accumulated per row instead.
    """
    order = np.argsort(duration, kind="mergesort")
    time, dead, X = duration[order], event[order].astype(bool), X[order]
    n, p = X.shape
    times, ties = np.unique(time[dead], return_counts=True)
    first_at_risk = np.searchsorted(time, times, side="left")  # risk set: rows from here on
    k_event = np.searchsorted(times, time[dead])  # event time of each event row
    k_pair = np.repeat(np.arange(len(times)), ties)  # one (time, l) pair per event
    frac = (np.arange(len(k_pair)) - np.repeat(np.cumsum(ties) - ties, ties)) / ties[k_pair]
    times_up_to = np.searchsorted(times, time, side="right")  # event times <= each row's
    x_dead = X[dead].sum(axis=0)

    def parts(beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        eta = X @ beta
        top = eta.max(initial=0.0)
        w = np.exp(eta - top)  # scaled by exp(-top); the ratios below do not change
        wx = X * w[:, None]
        s0_risk = np.cumsum(w[::-1])[::-1][first_at_risk]
        s1_risk = np.cumsum(wx[::-1], axis=0)[::-1][first_at_risk]
        s0_dead = np.bincount(k_event, weights=w[dead], minlength=len(times))
        s1_dead = np.zeros((len(times), p))
        np.add.at(s1_dead, k_event, wx[dead])
        phi = s0_risk[k_pair] - frac * s0_dead[k_pair]
        mean_x = (s1_risk[k_pair] - frac[:, None] * s1_dead[k_pair]) / phi[:, None]
        loglik = float(eta[dead].sum() - (np.log(phi) + top).sum())
        gradient = x_dead - mean_x.sum(axis=0)
        # sum over pairs of S2/phi, as row weights: sum_k a_k S2(R_k) - sum_k b_k S2(D_k)
        a = np.bincount(k_pair, weights=1 / phi, minlength=len(times))
        b = np.bincount(k_pair, weights=frac / phi, minlength=len(times))
        weights = w * np.r_[0.0, np.cumsum(a)][times_up_to]
        weights[dead] -= w[dead] * b[k_event]
        information = (X * weights[:, None]).T @ X - mean_x.T @ mean_x
        return loglik, gradient, information

    beta = np.zeros(p)
    loglik, gradient, information = parts(beta)
    for _ in range(max_iter):
        step = np.linalg.solve(information, gradient)
        for _half in range(30):
            new = parts(beta + step)
            if np.isfinite(new[0]) and new[0] >= loglik - 1e-12 * (1 + abs(loglik)):
                break
            step = step / 2
        beta = beta + step
        loglik, gradient, information = new
        if np.abs(step).max(initial=0) < tol:
            break
    return beta, np.linalg.inv(information)


def _hazard_estimates(coef: float, se: float, z: float) -> dict[str, float | bool]:
    """Hazard ratio, interval and p-value of one term; NaN (``identified`` False) when the
    data cannot pin it down (standard error above ``MAX_IDENTIFIED_SE``)."""
    if not (np.isfinite(coef) and np.isfinite(se)) or se > MAX_IDENTIFIED_SE:
        nan = float("nan")
        return {
            "hazard_ratio": nan,
            "ci_low": nan,
            "ci_high": nan,
            "p_value": nan,
            "identified": False,
        }
    return {
        "hazard_ratio": float(np.exp(coef)),
        "ci_low": float(np.exp(coef - Z95 * se)),
        "ci_high": float(np.exp(coef + Z95 * se)),
        "p_value": float(2 * stats.norm.sf(abs(z))),
        "identified": True,
    }


def hazard_ratios(
    frame: pd.DataFrame,
    features: Sequence[str],
    *,
    duration: str = "duration",
    event: str = "event",
    min_events: int = 10,
) -> pd.DataFrame:
    """Cox proportional-hazards model (Efron ties; the estimates of statsmodels ``PHReg``,
    computed by :func:`cox_efron`).

    Numeric features are standardised and categories one-hot encoded against the most
    frequent level, exactly as in :func:`churn_drivers`, so a hazard ratio is per
    standard deviation or vs the reference level.

    Columns that on their own separate churners from the rest (infinite hazard ratio) are
    left out and listed in ``attrs["separating"]``.

    Returns
    -------
    DataFrame
        ``feature`` (term), ``source``, ``kind``, ``level``, ``reference``,
        ``hazard_ratio``, ``ci_low``, ``ci_high``, ``p_value``, ``identified`` (False: the
        data cannot pin the term down; its estimates are NaN). Near-aliased covariates
        are merged first (:func:`~analysis.churn.design.merge_aliases`, in
        ``attrs["aliases"]``).

    Raises
    ------
    HazardModelError
        (a :class:`~analysis.errors.ModelError`) Fewer than ``min_events`` churn events,
        no usable feature, or no convergence; its ``reason`` names which.
    """
    events = int(frame[event].sum())
    if events < min_events:
        raise HazardModelError(
            f"only {events} churn events in the follow-up; need {min_events}", "few_events"
        )
    kinds, _ = classify_columns(
        frame, [f for f in features if f in frame.columns], max_levels=20, explicit=True
    )
    # a column that alone separates churners has an infinite hazard ratio: leave it out
    separating = separating_features(frame, frame[event].to_numpy(dtype=int), kinds)
    kinds = {k: v for k, v in kinds.items() if k not in separating}
    design, _ = Design.fit(frame, kinds)
    if not design.terms:
        raise HazardModelError("no usable feature for the hazard model", "no_feature")
    X = design.transform(frame)
    distinct, aliases = merge_aliases(X, design, frame[event].to_numpy(dtype="float64"))
    rank_kept = drop_collinear(X[:, distinct], [design.terms[j] for j in distinct])
    kept = [distinct[k] for k in rank_kept]
    X = X[:, kept]
    with np.errstate(all="ignore"):
        try:
            params, cov = cox_efron(
                frame[duration].to_numpy(dtype="float64"),
                frame[event].to_numpy(dtype=bool),
                X,
            )
        except np.linalg.LinAlgError as exc:
            raise HazardModelError(NO_CONVERGENCE, "no_convergence") from exc
        se = np.sqrt(np.diag(cov))
    if (
        not np.all(np.isfinite(params))
        or not np.all(np.isfinite(se))
        or np.abs(params).max(initial=0) > 12
    ):
        raise HazardModelError(NO_CONVERGENCE, "no_convergence")
    z = np.divide(params, se, out=np.full_like(params, np.nan), where=se > 0)
    rows = []
    for k, j in enumerate(kept):
        rows.append(
            {
                "feature": design.terms[j],
                "source": design.term_feature[j],
                "kind": design.term_kind[j],
                "level": design.term_level[j],
                "reference": design.reference.get(design.term_feature[j]),
                **_hazard_estimates(params[k], se[k], z[k]),
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["separating"] = separating
    out.attrs["aliases"] = aliases
    return out

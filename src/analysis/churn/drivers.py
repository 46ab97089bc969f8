"""The interpretable churn model: logistic regression with odds ratios, intervals,
p-values, VIF, Firth's penalised likelihood under separation, and per-customer
contributions (:func:`churn_drivers`, :class:`ChurnDrivers`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from ..coerce import binary_values
from ..errors import ModelError, ParamsError
from ..i18n import t
from ._common import MAX_IDENTIFIED_SE, Z95, one_blas_thread, roc_auc
from .design import (
    Alias,
    Design,
    category_values,
    classify_columns,
    drop_collinear,
    merge_aliases,
    numeric_column,
    separating_features,
)
from .wording import driver_sentence, feature_label, term_label

#: Fewer customers than this: no model is fitted (too little data to say anything).
MIN_CUSTOMERS = 50


#: Features of the cause model on our customer table (absent ones are skipped). Recency is
#: left out on purpose: a long silence is the symptom that defines churn, not a cause; it
#: stays in the predictive model.
DRIVER_FEATURES: tuple[str, ...] = (
    "frequency",
    "tenure_days",
    "avg_order_value",
    "discount_share",
    "return_rate",
    "complaints",
    "satisfaction",
    "customer_type",
)


def firth_logit(
    X: np.ndarray, y: np.ndarray, *, max_iter: int = 200, tol: float = 1e-8
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Firth's bias-reduced logistic regression (Firth 1993; Heinze & Schemper 2002).

    Maximises ``l(b) + 0.5 log|X'WX|`` by Newton steps on the modified score
    ``X'(y - p + h (0.5 - p))`` (``h``: hat-matrix diagonal), with step halving. Estimates
    stay finite under (quasi-)complete separation. Returns params, covariance
    (``(X'WX)^-1`` at the estimate) and whether it converged.
    """
    beta = np.zeros(X.shape[1])

    def penalised(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        eta = X @ b
        p = special.expit(eta)
        w = np.clip(p * (1 - p), 1e-12, None)
        info = X.T @ (X * w[:, None])
        sign, logdet = np.linalg.slogdet(info)
        ll = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
        return ll + 0.5 * logdet if sign > 0 else -np.inf, p, info

    value, p, info = penalised(beta)
    converged = False
    for _ in range(max_iter):
        w = np.clip(p * (1 - p), 1e-12, None)
        inv = np.linalg.pinv(info)
        # hat diagonal x_i' inv x_i: one matrix product, then row dot products (a
        # three-operand einsum loops in C without BLAS, ~10x slower on 100k+ rows)
        h = np.einsum("ij,ij->i", X @ inv, X) * w
        score = X.T @ (y - p + h * (0.5 - p))
        step = inv @ score
        step_max = np.abs(step).max()
        if step_max > 5:  # keep early steps sane
            step *= 5 / step_max
        for _half in range(30):
            candidate = beta + step
            new_value, new_p, new_info = penalised(candidate)
            if new_value >= value - 1e-12:
                break
            step = step / 2
        beta, value, p, info = candidate, new_value, new_p, new_info
        if np.abs(step).max() < tol:
            converged = True
            break
    return beta, np.linalg.pinv(info), converged


def newton_logit(
    X: np.ndarray, y: np.ndarray, *, maxiter: int = 100, tol: float = 1e-8, ridge: float = 1e-10
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Maximum-likelihood logistic regression by Newton-Raphson, step for step what
    ``statsmodels`` ``Logit(y, X).fit(method="newton", maxiter=100)`` computes: start at
    zero, the mean log-likelihood's Hessian with ``ridge`` on its diagonal, stop when no
    coefficient moves by more than ``tol``, not converged after ``maxiter`` steps;
    covariance the inverse information at the estimate. It computes the probabilities
    once per step (statsmodels twice: for the score and for the Hessian), which matters
    when separated data run all ``maxiter`` steps on 100k+ customers before the Firth fit.
    Returns params, covariance and whether it converged.
    """
    n = len(y)
    beta = np.zeros(X.shape[1])
    previous = np.full(X.shape[1], np.inf)
    steps = 0
    while steps < maxiter and np.any(np.abs(beta - previous) > tol):
        p = 1 / (1 + np.exp(-(X @ beta)))
        hessian = np.dot(p * (1 - p) * X.T, X) / n  # of the negated mean log-likelihood
        hessian[np.diag_indices_from(hessian)] += ridge
        previous = beta
        beta = previous - np.linalg.solve(hessian, -(np.dot(y - p, X) / n))
        steps += 1
    p = 1 / (1 + np.exp(-(X @ beta)))
    cov = np.linalg.inv(np.dot(p * (1 - p) * X.T, X) / n) / n
    return beta, cov, steps < maxiter


@dataclass
class LogitFit:
    design: Design
    kept: list[int]  # indices into design.terms
    params: np.ndarray  # constant first
    cov: np.ndarray
    penalised: bool
    converged: bool
    term_means: np.ndarray  # training mean of each kept term (for contributions)
    aliases: list[Alias] = field(default_factory=list)  # near-aliased terms left out

    @property
    def terms(self) -> list[str]:
        return [self.design.terms[j] for j in self.kept]

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return self.design.transform(frame)[:, self.kept]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return special.expit(self.params[0] + self.matrix(frame) @ self.params[1:])


@one_blas_thread
def fit_logit(
    frame: pd.DataFrame,
    y: np.ndarray,
    kinds: Mapping[str, str],
    *,
    force_firth: bool = False,
) -> tuple[LogitFit, dict[str, str]]:
    design, dropped = Design.fit(frame, kinds)
    if not design.terms:
        raise ModelError("no usable feature is left for the churn model (see dropped_)")
    X = design.transform(frame)
    distinct, aliases = merge_aliases(X, design, y)
    rank_kept = drop_collinear(X[:, distinct], [design.terms[j] for j in distinct])
    kept = [distinct[k] for k in rank_kept]
    aliased = {a.dropped for a in aliases}
    for j, term in enumerate(design.terms):
        if term in aliased:
            dropped[term] = (
                "aliased" if any(a.kept for a in aliases if a.dropped == term) else "combination"
            )
        elif j not in kept:
            dropped[term] = "collinear"
    Xk = X[:, kept]
    Xc = np.column_stack([np.ones(len(Xk)), Xk])
    penalised, converged, fitted = False, True, False
    params = cov = None
    if not force_firth:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                params, cov, converged = newton_logit(Xc, y)
                fitted = True
            except (np.linalg.LinAlgError, ValueError, OverflowError):
                fitted = False
    separated = (
        not fitted
        or not converged
        or not np.all(np.isfinite(params))
        or not np.all(np.isfinite(np.diag(cov)))
        or np.abs(params[1:]).max(initial=0) > 12
        or np.sqrt(np.clip(np.diag(cov), 0, None)).max(initial=0) > 50
    )
    if force_firth or separated:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, cov, converged = firth_logit(Xc, y)
        penalised = True
    fit = LogitFit(
        design=design,
        kept=kept,
        params=params,
        cov=cov,
        penalised=penalised,
        converged=converged,
        term_means=Xk.mean(axis=0),
        aliases=aliases,
    )
    return fit, dropped


# --------------------------------------------------------------------------- cause model
@dataclass
class ChurnDrivers:
    """Result of :func:`churn_drivers`.

    Attributes
    ----------
    odds_ratios : DataFrame
        One row per model term: ``feature`` (the term: a column, ``col[level]`` for a
        category level vs the reference, ``col[missing]`` for "value missing"),
        ``odds_ratio`` (per standard deviation for numbers), ``ci_low``, ``ci_high`` (95%)
        and ``p_value``.
    summary : DataFrame
        The same terms with ``source`` (input column), ``kind`` (numeric / missing /
        level), ``level``, ``reference``, ``sd`` (of the column, for "per SD"), ``coef``,
        ``se`` and ``z``.
    auc_ : float
        Held-out AUC (out of time when ``test`` was given, else a stratified 25% split);
        NaN when it cannot be computed (see ``notes_``).
    auc_kind_ : str
        ``"out_of_time"``, ``"holdout"`` or ``"none"``.
    vif_ : DataFrame
        ``feature`` (term) and ``vif`` (variance inflation factor); above 10 means the term
        is nearly a combination of the others.
    n_, n_churned_ : int
        Rows fitted on, and churners among them.
    features_ : list of str
        Input columns the model uses.
    dropped_ : dict
        Column (or term) -> why it was left out: ``id_like``, ``date``, ``constant``,
        ``all_missing``, ``too_many_levels``, ``collinear``.
    reference_levels_ : dict
        Category column -> its reference level.
    separation_ : list of str
        Columns that on their own separate churners from the rest perfectly.
    penalised_ : bool
        Estimates come from Firth's penalised likelihood (separation, or no convergence).
    notes_ : list of str
        Codes of what the reader should know: ``penalised``, ``separation``,
        ``high_vif``, ``few_events``, ``single_class_test``, ``no_holdout``,
        ``missing_target``, ``aliased`` (near-aliased terms merged, see ``aliases_``),
        ``not_identified`` (terms whose effect the data cannot pin down: their
        ``identified`` is False and their estimates NaN in ``summary``).
    aliases_ : list of Alias
        Terms left out before the fit because they carry the same information as a kept
        one (or are nearly a combination of the others): :func:`~analysis.churn.design.merge_aliases`.
    retained_ : RetainedProfile
        How the customers who stayed score on each attribute (the reference of the
        early-warning reasons).
    """

    odds_ratios: pd.DataFrame
    summary: pd.DataFrame
    auc_: float
    auc_kind_: str
    vif_: pd.DataFrame
    n_: int
    n_churned_: int
    features_: list[str]
    dropped_: dict[str, str]
    reference_levels_: dict[str, object]
    separation_: list[str]
    penalised_: bool
    notes_: list[str]
    fit_: LogitFit = field(repr=False)
    aliases_: list[Alias] = field(default_factory=list)
    retained_: RetainedProfile | None = field(default=None, repr=False)

    # ---- scoring ---------------------------------------------------------------------
    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Churn probability of each row of ``frame`` (same columns as the fit)."""
        return self.fit_.predict(frame)

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per-customer contribution of each input column to the log-odds of churn,
        relative to an average customer of the fit: ``sum_j b_j (x_ij - mean_j)`` over the
        column's terms. Positive = pushes this customer's churn risk up.

        Returns
        -------
        DataFrame
            Index of ``frame``, one column per feature in ``features_``.
        """
        X = self.fit_.matrix(frame)
        contrib = (X - self.fit_.term_means) * self.fit_.params[1:]
        sources = np.asarray([self.fit_.design.term_feature[j] for j in self.fit_.kept])
        out = np.zeros((len(frame), len(self.features_)), dtype="float64")
        for k, feature in enumerate(self.features_):
            cols = np.flatnonzero(sources == feature)
            if cols.size:
                out[:, k] = contrib[:, cols].sum(axis=1)
        return pd.DataFrame(out, index=frame.index, columns=self.features_)

    def feature_scores(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each input column's part of the log-odds of churn, ``sum_j b_j x_ij`` over
        the column's identified terms (a term the data cannot pin down counts 0).

        Returns
        -------
        DataFrame
            Index of ``frame``, one column per feature in ``features_``.
        """
        return _feature_scores(
            self.fit_, self.summary, self.features_, self.fit_.matrix(frame), frame.index
        )

    def significant_features(self, alpha: float = 0.05) -> set[str]:
        """Input columns with at least one identified term of p-value below ``alpha``."""
        ok = self.summary["identified"] & (self.summary["p_value"] < alpha)
        return set(self.summary.loc[ok, "source"].astype(str))

    # ---- words -----------------------------------------------------------------------
    def sentences(
        self,
        language: str = "en",
        *,
        top: int = 3,
        alpha: float = 0.05,
        scheme: str | None = None,
    ) -> list[str]:
        """Plain-language sentences for the strongest significant drivers (associations,
        not causes), plus the caveats in ``notes_`` that change how to read them; ``scheme``
        ``"subscription"`` names the features in bills."""
        table = self.summary.loc[self.summary["p_value"] < alpha].copy()
        table["strength"] = np.abs(np.log(table["odds_ratio"]))
        table = table.sort_values("strength", ascending=False, kind="mergesort").head(top)
        out = [driver_sentence(row, language, scheme=scheme) for _, row in table.iterrows()]
        if not out:
            out.append(t("churn.sentence.none", language, alpha=alpha))
        if "separation" in self.notes_:
            out.append(
                t(
                    "churn.sentence.separation",
                    language,
                    features=", ".join(
                        feature_label(f, language, scheme=scheme) for f in self.separation_
                    ),
                )
            )
        elif "penalised" in self.notes_:
            out.append(t("churn.sentence.penalised", language))
        for alias in self.aliases_:
            if alias.kept:
                out.append(
                    t(
                        "churn.sentence.aliased",
                        language,
                        dropped=term_label(self.summary, alias.dropped, language, scheme=scheme)
                        if alias.dropped in set(self.summary["feature"])
                        else feature_label(alias.dropped, language, scheme=scheme),
                        kept=term_label(self.summary, alias.kept, language, scheme=scheme),
                        r=f"{alias.correlation:.2f}",
                    )
                )
            else:
                out.append(
                    t(
                        "churn.sentence.combination",
                        language,
                        dropped=feature_label(alias.dropped, language, scheme=scheme),
                        vif=f"{alias.vif:,.0f}",
                    )
                )
        unknown = self.summary.loc[~self.summary["identified"], "feature"].tolist()
        if unknown:
            out.append(
                t(
                    "churn.sentence.not_identified",
                    language,
                    features=", ".join(
                        term_label(self.summary, f, language, scheme=scheme) for f in unknown
                    ),
                )
            )
        high = self.vif_.loc[self.vif_["vif"] > 10, "feature"].tolist()
        if high:
            out.append(
                t(
                    "churn.sentence.high_vif",
                    language,
                    features=", ".join(
                        term_label(self.summary, f, language, scheme=scheme) for f in high
                    ),
                )
            )
        return out


def churn_drivers(
    frame: pd.DataFrame,
    target: str | pd.Series,
    features: Sequence[str] | None = None,
    *,
    test: pd.DataFrame | None = None,
    test_size: float = 0.25,
    random_state: int = 0,
    max_levels: int = 20,
    min_customers: int = MIN_CUSTOMERS,
) -> ChurnDrivers:
    """Fit the interpretable churn model: a logistic regression with odds ratios.

    Works on any customer-level frame (ours, or a contractual export with arbitrary
    attribute columns); nothing but the target needs naming.

    * The target may be boolean, 0/1 or yes/no-like strings (``Yes``/``No``,
      ``true``/``false``, ``churned``, ``是``/``否``); rows with a missing target are left out.
    * Without ``features`` every column except the target is considered; id-like columns
      (``customerID``, ``*_id``, mostly-unique text or integer codes with an id name),
      dates, constants, empty columns and categories with more than ``max_levels`` levels
      are left out and listed in ``dropped_``. Text columns that hold numbers (with a few
      blanks) are read as numbers.
    * Categorical columns are one-hot encoded against a reference level (the most frequent);
      numeric columns are standardised (mean 0, sd 1), so odds ratios are per standard
      deviation. Missing numbers get the mean plus a ``[missing]`` indicator term.
    * statsmodels ``Logit`` (Newton). Under (quasi-)complete separation or without
      convergence the fit switches to Firth's penalised likelihood (finite estimates) and
      says so in ``notes_``; columns that separate on their own are named in ``separation_``.

    Parameters
    ----------
    frame
        One row per customer.
    target
        Name of the churn column in ``frame`` (and ``test``), or a Series aligned to
        ``frame``.
    features
        Columns to use; ``None`` = all usable ones. Named columns are never dropped as
        id-like.
    test
        A later snapshot with the same columns: the AUC is then measured out of time (fit
        on ``frame``, scored on ``test``). Without it, a stratified ``test_size`` split of
        ``frame`` is refitted to measure the held-out AUC; the odds ratios always come from
        the fit on all of ``frame``.
    test_size, random_state
        The hold-out split (``sklearn.model_selection.train_test_split`` with
        ``stratify=y``).
    max_levels
        Categories with more levels are left out.
    min_customers
        Fewer rows raise :class:`ModelError`.

    Returns
    -------
    ChurnDrivers

    Raises
    ------
    ModelError
        Fewer than ``min_customers`` rows, only one class in the target (no churner, or
        everyone churned), or no usable feature.
    ParamsError
        A target that is not boolean, 0/1 or yes/no, or an unknown feature name.

    Examples
    --------
    >>> result = churn_drivers(customers, "Churn")                     # doctest: +SKIP
    >>> result.odds_ratios.sort_values("p_value").head()               # doctest: +SKIP
    >>> result.auc_, result.sentences("en")                           # doctest: +SKIP
    """
    y_all, name = _target_values(frame, target)
    valid = y_all.notna().to_numpy()
    notes: list[str] = []
    if not valid.all():
        notes.append("missing_target")
    data = frame.loc[valid]
    y = y_all[valid].to_numpy(dtype="float64")
    if len(data) < min_customers:
        raise ModelError(
            f"only {len(data)} customers with a known churn status; the churn model needs "
            f"at least {min_customers}"
        )
    churners = int(y.sum())
    if churners == 0 or churners == len(y):
        what = "no customer churned" if churners == 0 else "every customer churned"
        raise ModelError(
            f"{what} ({len(y)} customers), so nothing distinguishes churners from the rest"
        )
    if features is None:
        columns = [c for c in data.columns if c != name]
        explicit = False
    else:
        unknown = [f for f in features if f not in data.columns]
        if unknown:
            raise ParamsError(
                f"churn feature(s) {', '.join(map(repr, unknown))} are not columns of the frame"
            )
        columns = [c for c in features if c != name]
        explicit = True
    kinds, dropped = classify_columns(data, columns, max_levels=max_levels, explicit=explicit)
    if not kinds:
        raise ModelError("no usable feature for the churn model: " + _dropped_text(dropped))
    separation = separating_features(data, y, kinds)
    fit, more = fit_logit(data, y, kinds)
    dropped.update(more)
    if fit.penalised:
        notes.append("penalised")
    if separation:
        notes.append("separation")
    minority = min(churners, len(y) - churners)
    if minority < 10 * max(len(fit.kept), 1):
        notes.append("few_events")

    # held-out AUC
    auc, kind = float("nan"), "none"
    if test is not None:
        if name is None or name not in test.columns:
            raise ParamsError("the test frame needs the target column (name the target)")
        y_test_all, _ = _target_values(test, name)
        ok = y_test_all.notna().to_numpy()
        y_test = y_test_all[ok].to_numpy(dtype="float64")
        kind = "out_of_time"
        if len(np.unique(y_test)) < 2:
            notes.append("single_class_test")
        else:
            auc = roc_auc(y_test, fit.predict(test.loc[ok]))
    elif minority >= 4 and len(y) >= 8:
        from sklearn.model_selection import train_test_split  # noqa: PLC0415

        idx = np.arange(len(y))
        train_idx, test_idx = train_test_split(
            idx, test_size=test_size, random_state=random_state, stratify=y
        )
        kind = "holdout"
        part, _ = fit_logit(data.iloc[train_idx], y[train_idx], kinds)
        auc = roc_auc(y[test_idx], part.predict(data.iloc[test_idx]))
    else:
        notes.append("no_holdout")

    summary = _summary_table(fit, data)
    vif = _vif(fit.matrix(data), fit.terms)
    if (vif["vif"] > 10).any():
        notes.append("high_vif")
    if fit.aliases:
        notes.append("aliased")
    if not summary["identified"].all():
        notes.append("not_identified")
    return ChurnDrivers(
        odds_ratios=summary[["feature", "odds_ratio", "ci_low", "ci_high", "p_value"]].copy(),
        summary=summary,
        auc_=auc,
        auc_kind_=kind,
        vif_=vif,
        n_=len(y),
        n_churned_=churners,
        features_=fit.design.features,
        dropped_=dropped,
        reference_levels_=dict(fit.design.reference),
        separation_=separation,
        penalised_=fit.penalised,
        notes_=notes,
        fit_=fit,
        aliases_=list(fit.aliases),
        retained_=_retained_reference(fit, summary, data, y),
    )


def _target_values(frame: pd.DataFrame, target: str | pd.Series) -> tuple[pd.Series, str | None]:
    if isinstance(target, str):
        if target not in frame.columns:
            raise ParamsError(f"target column {target!r} is not in the frame")
        return binary_values(frame[target], allow_missing=True, what="the churn target"), target
    series = pd.Series(target)
    if len(series) != len(frame):
        raise ParamsError("the target Series must have one value per row of the frame")
    values = binary_values(
        series.reset_index(drop=True), allow_missing=True, what="the churn target"
    )
    values.index = frame.index
    return values, series.name if isinstance(series.name, str) else None


def _dropped_text(dropped: Mapping[str, str]) -> str:
    return ", ".join(f"{k} ({v})" for k, v in dropped.items()) or "(no columns)"


def _summary_table(fit: LogitFit, frame: pd.DataFrame) -> pd.DataFrame:
    design = fit.design
    se = np.sqrt(np.clip(np.diag(fit.cov), 0, None))
    coef = fit.params[1:]
    se = se[1:]
    z = np.divide(coef, se, out=np.full_like(coef, np.nan), where=se > 0)
    p = 2 * stats.norm.sf(np.abs(z))
    rows = []
    for k, j in enumerate(fit.kept):
        feature = design.term_feature[j]
        kind = design.term_kind[j]
        rows.append(
            {
                "feature": design.terms[j],
                "source": feature,
                "kind": kind,
                "level": design.term_level[j],
                "reference": design.reference.get(feature),
                "sd": design.sds.get(feature, np.nan) if kind == "numeric" else np.nan,
                "mean": design.means.get(feature, np.nan) if kind == "numeric" else np.nan,
                "coef": coef[k],
                "se": se[k],
                "z": z[k],
                **_estimates(coef[k], se[k], p[k]),
            }
        )
    columns = [
        "feature",
        "source",
        "kind",
        "level",
        "reference",
        "sd",
        "mean",
        "coef",
        "se",
        "z",
        "p_value",
        "odds_ratio",
        "ci_low",
        "ci_high",
        "identified",
    ]
    return pd.DataFrame(rows, columns=columns)


def _estimates(coef: float, se: float, p: float) -> dict[str, Any]:
    """Odds ratio, 95% interval and p-value of one term; all NaN (``identified`` False)
    when the data do not pin the term down (:data:`MAX_IDENTIFIED_SE`), so that an
    interval like 0.00 to 6e29 is never shown."""
    identified = bool(math.isfinite(coef) and math.isfinite(se) and se <= MAX_IDENTIFIED_SE)
    if not identified:
        nan = float("nan")
        return {
            "p_value": nan,
            "odds_ratio": nan,
            "ci_low": nan,
            "ci_high": nan,
            "identified": False,
        }
    return {
        "p_value": float(p),
        "odds_ratio": math.exp(coef),
        "ci_low": math.exp(coef - Z95 * se),
        "ci_high": math.exp(coef + Z95 * se),
        "identified": True,
    }


@one_blas_thread
def _vif(X: np.ndarray, terms: list[str]) -> pd.DataFrame:
    """Variance inflation factors: the diagonal of the inverse correlation matrix."""
    if X.shape[1] < 2:
        return pd.DataFrame({"feature": terms, "vif": np.ones(len(terms))})
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(X, rowvar=False)
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    vif = np.diag(np.linalg.pinv(corr))
    return pd.DataFrame({"feature": terms, "vif": np.maximum(vif, 1.0)})


@dataclass(frozen=True)
class RetainedProfile:
    """How the customers who stayed (label 0 in the fitted frame) score on each input
    column of the cause model: the reference an early-warning reason is measured from.

    Attributes
    ----------
    scores : dict
        Column -> the retained customers' sorted scores (``ChurnDrivers.feature_scores``).
    baseline : dict
        Column -> the median of those scores: the typical retained customer.
    typical : dict
        Column -> the retained customers' median value (numbers) or most common level
        (categories), for the reason's words.
    n : int
        Retained customers.
    """

    scores: dict[str, np.ndarray]
    baseline: dict[str, float]
    typical: dict[str, object]
    n: int

    def share_at_least(self, feature: str, scores: np.ndarray) -> np.ndarray:
        """Share of the retained customers whose score on ``feature`` is at least each of
        ``scores`` (as risky or riskier on that column)."""
        ref = self.scores.get(feature)
        if ref is None or not len(ref):
            return np.ones(len(scores))
        tolerance = 1e-9 * (1 + np.abs(scores))
        return (len(ref) - np.searchsorted(ref, scores - tolerance, side="left")) / len(ref)


def _feature_scores(
    fit: LogitFit, summary: pd.DataFrame, features: Sequence[str], X: np.ndarray, index: pd.Index
) -> pd.DataFrame:
    beta = np.where(summary["identified"].to_numpy(dtype=bool), fit.params[1:], 0.0)
    sources = np.asarray([fit.design.term_feature[j] for j in fit.kept])
    out = np.zeros((len(X), len(features)), dtype="float64")
    for k, feature in enumerate(features):
        cols = np.flatnonzero(sources == feature)
        if cols.size:
            out[:, k] = X[:, cols] @ beta[cols]
    return pd.DataFrame(out, index=index, columns=list(features))


def _retained_reference(
    fit: LogitFit, summary: pd.DataFrame, frame: pd.DataFrame, y: np.ndarray
) -> RetainedProfile:
    stayed = frame.loc[y == 0]
    features = fit.design.features
    scores = _feature_scores(fit, summary, features, fit.matrix(stayed), stayed.index)
    typical: dict[str, object] = {}
    for feature in features:
        if feature in fit.design.means:
            kind = "numeric_text" if feature in fit.design.numeric_text else "numeric"
            values = numeric_column(stayed[feature], kind)
            typical[feature] = float(values.median()) if values.notna().any() else float("nan")
        else:
            levels = category_values(stayed[feature]).value_counts()
            typical[feature] = levels.index[0] if len(levels) else None
    return RetainedProfile(
        scores={f: np.sort(scores[f].to_numpy()) for f in features},
        baseline={f: float(np.median(scores[f])) if len(scores) else 0.0 for f in features},
        typical=typical,
        n=len(stayed),
    )

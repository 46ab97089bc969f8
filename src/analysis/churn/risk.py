"""The predictive churn model: gradient boosting (:class:`ChurnRiskModel`) and its
held-out evaluation (AUC, calibration, gains/lift, permutation importance, partial
dependence), plus random cross-validated AUCs to show beside the out-of-time ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ..coerce import binary_values
from ..errors import DataError, ModelError, ParamsError
from ._common import roc_auc, roc_auc_rows, thread_limits
from .design import category_values, classify_columns, numeric_column
from .drivers import fit_logit

# --------------------------------------------------------------------------- predictive
#: Customers a risk model learns from at most (``ChurnRiskModel(max_rows=...)``, set by
#: the report's out-of-time and final fits): five times the bundled sample's snapshots.
FIT_SAMPLE = 100_000


def stratified_sample(
    y: np.ndarray, max_rows: int | None, *, random_state: int = 0
) -> np.ndarray | None:
    """Sorted positions of a stratified sample of ``max_rows`` of the 0/1 labels ``y``
    (``sklearn.model_selection.train_test_split`` with ``stratify=y``, seeded), or None
    when every row is kept: ``max_rows`` is None or not below ``len(y)``, or a class has
    fewer than two members (it cannot be stratified)."""
    if max_rows is None or len(y) <= max_rows or np.bincount(y, minlength=2).min() < 2:
        return None
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    keep, _ = train_test_split(
        np.arange(len(y)), train_size=int(max_rows), random_state=random_state, stratify=y
    )
    return np.sort(keep)


class ChurnRiskModel:
    """Gradient-boosted churn risk model (``HistGradientBoostingClassifier``).

    Numbers go in as they are (missing values are handled natively); text and boolean
    columns become categorical features (at most ``max_levels`` levels; rarer ones pooled).
    Id-like and date columns are left out as in :func:`churn_drivers`.

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization
        Passed to ``HistGradientBoostingClassifier``.
    max_levels
        Most levels kept per categorical column.
    n_threads
        OpenMP threads for fitting and scoring (``None``: all cores). The default of one
        suits report runs, which execute several notebooks side by side
        (``segreport run --jobs N``): more threads than free cores make OpenMP spin and
        run several times slower.
    max_rows
        Most customers the model learns from (:data:`FIT_SAMPLE`): above it, a stratified
        sample of that many (seeded with ``random_state``; churners keep their share), so
        the cost of a fit stops growing with the snapshot while a tree's leaf still holds
        hundreds of customers. Column kinds and levels then come from the sample too.
        ``None`` uses everybody.
    random_state
        Seed of the booster and of the sample.

    Attributes
    ----------
    features_ : list of str
        Columns used, in matrix order.
    categorical_ : dict
        Categorical column -> its known levels (code = position).
    model_ : HistGradientBoostingClassifier
    dropped_ : dict
        Columns left out and why.
    """

    def __init__(
        self,
        *,
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        max_levels: int = 30,
        n_threads: int | None = 1,
        max_rows: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.n_threads = n_threads
        self.max_rows = max_rows
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_levels = max_levels
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame, y: Sequence[object] | pd.Series) -> ChurnRiskModel:
        """Fit on a feature frame and the churn labels (bool, 0/1 or yes/no)."""
        from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: PLC0415

        target = binary_values(pd.Series(np.asarray(y)), what="the churn target")
        if target.isna().any():
            raise ParamsError("the churn labels of the risk model must not be missing")
        labels = target.to_numpy(dtype=int)
        if len(np.unique(labels)) < 2:
            raise ModelError("the risk model needs churners and non-churners to learn from")
        keep = stratified_sample(labels, self.max_rows, random_state=self.random_state)
        if keep is not None:
            frame, labels = frame.iloc[keep], labels[keep]
        kinds, dropped = classify_columns(
            frame, list(frame.columns), max_levels=10**9, explicit=False
        )
        self.features_ = list(kinds)
        self.kinds_ = kinds
        self.categorical_: dict[str, list[str]] = {}
        for col, kind in kinds.items():
            if kind == "categorical":
                counts = category_values(frame[col]).value_counts()
                levels = sorted(counts.index[: self.max_levels].map(str))
                self.categorical_[col] = levels
        self.dropped_ = dropped
        X = self._matrix(frame)
        mask = [c in self.categorical_ for c in self.features_]
        self.model_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=mask if any(mask) else None,
            early_stopping=False,
            random_state=self.random_state,
        )
        with warnings.catch_warnings(), self._threads():
            warnings.simplefilter("ignore")
            self.model_.fit(X, labels)
        return self

    def _threads(self) -> Any:
        return thread_limits(openmp=self.n_threads)

    def _predict_matrix(self, X: np.ndarray) -> np.ndarray:
        with self._threads():
            return self.model_.predict_proba(X)[:, 1]

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(frame), len(self.features_)), dtype="float64")
        for j, col in enumerate(self.features_):
            if col not in frame.columns:
                raise DataError(f"column {col!r} used by the risk model is missing", column=col)
            if col in self.categorical_:
                values = category_values(frame[col]).astype(str)
                codes = pd.Index(self.categorical_[col]).get_indexer(values)
                out[:, j] = np.where(codes < 0, np.nan, codes)
            else:
                out[:, j] = numeric_column(frame[col], self.kinds_[col]).to_numpy(dtype="float64")
        return out

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Churn probability per row."""
        if not hasattr(self, "model_"):
            raise ModelError("the risk model is not fitted")
        return self._predict_matrix(self._matrix(frame))


def gains_table(y: Sequence[int], p: Sequence[float], *, bins: int = 10) -> pd.DataFrame:
    """Lift / gains by score decile (highest risk first).

    Returns
    -------
    DataFrame
        ``decile`` (1 = highest scores), ``customers``, ``churners``, ``churn_rate``,
        ``lift`` (rate / overall rate), ``cumulative_share`` (of customers),
        ``cumulative_capture`` (share of all churners in deciles 1..k) and
        ``cumulative_lift``.
    """
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    n = len(y)
    order = np.argsort(-p, kind="mergesort")
    decile = np.empty(n, dtype=int)
    decile[order] = np.minimum((np.arange(n) * bins) // max(n, 1), bins - 1) + 1
    frame = pd.DataFrame({"decile": decile, "y": y})
    g = frame.groupby("decile")["y"].agg(["size", "sum"]).reindex(range(1, bins + 1), fill_value=0)
    overall = y.mean() if n else np.nan
    out = pd.DataFrame(
        {
            "decile": g.index.to_numpy(),
            "customers": g["size"].to_numpy(dtype=int),
            "churners": g["sum"].to_numpy(dtype=int),
        }
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["churn_rate"] = out["churners"] / out["customers"].where(out["customers"] > 0)
        out["lift"] = out["churn_rate"] / overall if overall > 0 else np.nan
        out["cumulative_share"] = out["customers"].cumsum() / n if n else np.nan
        total = out["churners"].sum()
        out["cumulative_capture"] = out["churners"].cumsum() / total if total else np.nan
        out["cumulative_lift"] = (
            out["cumulative_capture"] / out["cumulative_share"] if total else np.nan
        )
    return out


def calibration_table(y: Sequence[int], p: Sequence[float], *, bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed churn rate in quantile bins of the prediction
    (``sklearn.calibration.calibration_curve`` with ``strategy="quantile"``), with counts."""
    from sklearn.calibration import calibration_curve  # noqa: PLC0415

    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    if len(np.unique(y)) < 2:
        return pd.DataFrame(columns=["predicted", "observed", "customers"])
    bins = max(2, min(bins, len(np.unique(p))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="quantile")
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    counts = np.histogram(p, bins=edges)[0] if len(edges) > 1 else np.array([len(p)])
    counts = counts[counts > 0]
    if len(counts) != len(observed):
        counts = np.full(len(observed), np.nan)
    return pd.DataFrame({"predicted": predicted, "observed": observed, "customers": counts})


@dataclass
class RiskEvaluation:
    """Held-out evaluation of a :class:`ChurnRiskModel` (see :func:`evaluate_risk_model`).

    Attributes
    ----------
    auc_ : float
        ROC AUC on the evaluation labels (NaN with a single class).
    brier_ : float
        Mean squared error of the probabilities.
    base_rate_ : float
        Churn rate of the evaluation set.
    calibration : DataFrame
        :func:`calibration_table`.
    gains : DataFrame
        :func:`gains_table`.
    top_decile_lift_ : float
        Churn rate of the riskiest 10% / overall rate.
    importance : DataFrame
        ``feature``, ``importance`` (mean AUC drop when the column is shuffled), ``std``;
        most important first.
    partial_dependence : dict
        Feature -> DataFrame ``value``, ``churn_probability`` (average prediction with the
        feature set to ``value`` for everyone), for the top numeric features.
    notes_ : list of str
        ``single_class_test`` when AUC, lift and importance cannot be computed.
    """

    auc_: float
    brier_: float
    base_rate_: float
    n_: int
    calibration: pd.DataFrame
    gains: pd.DataFrame
    top_decile_lift_: float
    importance: pd.DataFrame
    partial_dependence: dict[str, pd.DataFrame]
    notes_: list[str]


def evaluate_risk_model(
    model: ChurnRiskModel,
    frame: pd.DataFrame,
    y: Sequence[object] | pd.Series,
    *,
    bins: int = 10,
    importance_rows: int = 1500,
    n_repeats: int = 3,
    top_dependence: int = 3,
    random_state: int = 0,
) -> RiskEvaluation:
    """AUC, calibration, gains/lift, permutation importance and partial dependence of a
    fitted risk model on held-out (ideally later) customers.

    Permutation importance (drop in ROC AUC, ``n_repeats`` shuffles) and partial
    dependence (``kind="average"``, 15-point grid between the 5th and 95th percentiles)
    run on at most ``importance_rows`` customers sampled with ``random_state``.
    """
    labels = binary_values(pd.Series(np.asarray(y)), what="the churn target").to_numpy(dtype=int)
    X = model._matrix(frame)
    p = model._predict_matrix(X)
    notes: list[str] = []
    single = len(np.unique(labels)) < 2
    if single:
        notes.append("single_class_test")
    gains = gains_table(labels, p, bins=bins)
    rng = np.random.default_rng(random_state)
    sample = (
        rng.choice(len(X), size=importance_rows, replace=False)
        if len(X) > importance_rows
        else np.arange(len(X))
    )
    Xs = X[sample]
    # per-tree scores of the sample: a changed column only re-runs the trees reading it
    trees = TreeScores.build(model, Xs)
    if single:
        importance = pd.DataFrame(columns=["feature", "importance", "std"])
    else:
        importance = permutation_importance(
            model,
            Xs,
            labels[sample],
            n_repeats=n_repeats,
            random_state=random_state,
            trees=trees,
        )
    dependence: dict[str, pd.DataFrame] = {}
    ranked = importance["feature"].tolist() if not importance.empty else model.features_
    numeric = [f for f in ranked if f not in model.categorical_]
    for feature in numeric[:top_dependence]:
        j = model.features_.index(feature)
        column = Xs[:, j]
        if np.isfinite(column).sum() < 10 or np.nanstd(column) == 0:
            continue
        curve = partial_dependence(model, Xs, j, trees=trees)
        if curve is not None:
            grid, average = curve
            dependence[feature] = pd.DataFrame({"value": grid, "churn_probability": average})
    return RiskEvaluation(
        auc_=float("nan") if single else roc_auc(labels, p),
        brier_=float(np.mean((p - labels) ** 2)) if len(p) else float("nan"),
        base_rate_=float(labels.mean()) if len(labels) else float("nan"),
        n_=len(labels),
        calibration=calibration_table(labels, p, bins=bins),
        gains=gains,
        top_decile_lift_=float(gains.loc[0, "lift"]) if not single else float("nan"),
        importance=importance,
        partial_dependence=dependence,
        notes_=notes,
    )


class TreeScores:
    """Per-tree raw scores of a fitted binary ``HistGradientBoostingClassifier`` on rows
    ``X``, to re-score ``X`` with one column changed by re-running only the trees that
    split on that column: the other trees' outputs cannot change. Permutation importance
    and partial dependence change one column at a time, and a tree splits on a few of the
    columns, so this does a fraction of the work of scoring every changed copy in full.

    Exact: the tree outputs are added up in the booster's own order (baseline, then tree
    after tree), so the probabilities are ``predict_proba``'s bit for bit, ties included
    (AUC counts ties). It reads scikit-learn internals (the trees of ``_predictors``, the
    column order of the categorical preprocessing), so :meth:`build` checks its
    probabilities of ``X`` against ``predict_proba`` and returns None when anything
    differs; callers then score in full.
    """

    def __init__(self, model: ChurnRiskModel, X: np.ndarray) -> None:
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads  # noqa: PLC0415

        booster = model.model_
        if booster.n_trees_per_iteration_ != 1:
            raise TypeError("not a binary booster")
        is_categorical = getattr(booster, "is_categorical_", None)
        if is_categorical is None or getattr(booster, "_preprocessor", None) is None:
            order = np.arange(X.shape[1])
        else:  # the preprocessing puts the categorical columns first (stable)
            mask = np.asarray(is_categorical, dtype=bool)
            order = np.r_[np.flatnonzero(mask), np.flatnonzero(~mask)]
        self.position = np.empty(len(order), dtype=int)  # input column -> booster column
        self.position[order] = np.arange(len(order))
        self.X = np.ascontiguousarray(X[:, order], dtype="float64")
        self.baseline = float(np.ravel(booster._baseline_prediction)[0])
        self.trees = [tree for iteration in booster._predictors for tree in iteration]
        self.splits_on = [
            set(np.unique(tree.nodes["feature_idx"][tree.nodes["is_leaf"] == 0]).tolist())
            for tree in self.trees
        ]
        self.bitsets, self.f_idx_map = booster._bin_mapper.make_known_categories_bitsets()
        self.n_threads = _openmp_effective_n_threads(model.n_threads)
        self.threads = model._threads
        with self.threads():
            self.per_tree = [self._predict(tree, self.X) for tree in self.trees]
        self.raw = self._add_up({}, (len(X),))

    @classmethod
    def build(cls, model: ChurnRiskModel, X: np.ndarray) -> TreeScores | None:
        if not len(X):
            return None
        try:
            scores = cls(model, X)
            reference = model._predict_matrix(X)
        except (ImportError, AttributeError, TypeError, ValueError, KeyError, IndexError):
            return None
        return scores if np.array_equal(scores.proba(scores.raw), reference) else None

    @staticmethod
    def proba(raw: np.ndarray) -> np.ndarray:
        return special.expit(raw)

    def _predict(self, tree: Any, X: np.ndarray) -> np.ndarray:
        return tree.predict(X, self.bitsets, self.f_idx_map, self.n_threads)

    def _add_up(self, changed: dict[int, np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        """Baseline plus every tree's output, in the booster's order; ``changed`` replaces
        the outputs of some trees (broadcast against ``shape``)."""
        raw = np.zeros(shape) + self.baseline
        for k, scores in enumerate(self.per_tree):
            raw += changed.get(k, scores)
        return raw

    def proba_with(self, column: int, values: np.ndarray) -> np.ndarray:
        """Probabilities of the rows with input ``column`` set to each row of ``values``
        (``m x n``): an ``m x n`` array."""
        j = self.position[column]
        m, n = values.shape
        changed = np.repeat(self.X[None, :, :], m, axis=0)
        changed[:, :, j] = values
        changed = changed.reshape(m * n, -1)
        with self.threads():
            outputs = {
                k: self._predict(tree, changed).reshape(m, n)
                for k, (tree, used) in enumerate(zip(self.trees, self.splits_on, strict=True))
                if j in used
            }
        return self.proba(self._add_up(outputs, (m, n)))


def permutation_importance(
    model: ChurnRiskModel,
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_repeats: int = 5,
    random_state: int = 0,
    trees: TreeScores | None = None,
) -> pd.DataFrame:
    """Permutation importance (Breiman 2001; Fisher, Rudin & Dominici 2019): the mean drop
    in ROC AUC when one column is shuffled, over ``n_repeats`` shuffles.

    With ``trees`` (:class:`TreeScores` of ``X``) a shuffled column only re-runs the
    trees that split on it; otherwise all shuffled copies are scored in one batch (scoring
    has a fixed cost per call). Both give the same numbers.
    """
    rng = np.random.default_rng(random_state)
    n, k = X.shape
    permutations = [[rng.permutation(n) for _ in range(n_repeats)] for _ in range(k)]
    if trees is not None:
        base = roc_auc(y, trees.proba(trees.raw))
        scores = np.concatenate(
            [
                trees.proba_with(j, np.stack([X[perm, j] for perm in permutations[j]]))
                for j in range(k)
            ]
        )
    else:
        base = roc_auc(y, model._predict_matrix(X))
        batch = np.repeat(X[None, :, :], k * n_repeats, axis=0)
        for j in range(k):
            for r, perm in enumerate(permutations[j]):
                batch[j * n_repeats + r, :, j] = X[perm, j]
        scores = model._predict_matrix(batch.reshape(-1, k)).reshape(k * n_repeats, n)
    drops = (base - roc_auc_rows(y, scores)).reshape(k, n_repeats)
    return (
        pd.DataFrame(
            {"feature": model.features_, "importance": drops.mean(axis=1), "std": drops.std(axis=1)}
        )
        .sort_values("importance", ascending=False, kind="mergesort")
        .reset_index(drop=True)
    )


def partial_dependence(
    model: ChurnRiskModel,
    X: np.ndarray,
    column: int,
    *,
    grid_resolution: int = 15,
    percentiles: tuple[float, float] = (0.05, 0.95),
    trees: TreeScores | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Partial dependence of the churn probability on one column (Friedman 2001): the
    average prediction over the rows of ``X`` with the column set to each grid value.

    The grid is that of ``sklearn.inspection.partial_dependence`` (``method="brute"``):
    the distinct values when there are fewer than ``grid_resolution``, else evenly spaced
    values between the ``percentiles`` of the column; None when those percentiles
    coincide (no grid). With ``trees`` only the trees that split on the column are re-run;
    otherwise scikit-learn computes it. Returns ``(grid, average)``.
    """
    if trees is None:
        from sklearn.inspection import partial_dependence as sklearn_pd  # noqa: PLC0415

        with warnings.catch_warnings(), model._threads():
            warnings.simplefilter("ignore")
            try:
                result = sklearn_pd(
                    model.model_,
                    X,
                    [column],
                    kind="average",
                    response_method="predict_proba",
                    method="brute",
                    grid_resolution=grid_resolution,
                    percentiles=percentiles,
                )
            except ValueError:  # the percentiles coincide
                return None
        return result["grid_values"][0], result["average"][0]
    from scipy.stats.mstats import mquantiles  # noqa: PLC0415  (as scikit-learn's grid)

    values = X[:, column]
    grid = np.unique(values)
    if len(grid) >= grid_resolution:
        low, high = np.asarray(mquantiles(values, prob=percentiles, axis=0), dtype="float64")
        if np.allclose(low, high):
            return None
        grid = np.linspace(low, high, num=grid_resolution, endpoint=True)
    proba = trees.proba_with(column, np.repeat(grid[:, None], len(X), axis=1))
    return grid, proba.mean(axis=1)


#: Customers the random-fold comparison uses at most (:func:`random_cv_auc`).
CV_SAMPLE = 50_000


def random_cv_auc(
    frame: pd.DataFrame,
    target: str,
    *,
    kind: str = "boosting",
    features: Sequence[str] | None = None,
    folds: int = 3,
    random_state: int = 0,
    max_rows: int | None = CV_SAMPLE,
    **model_options: object,
) -> tuple[float, float]:
    """Mean and sd of the AUC over stratified random folds of one snapshot.

    Shown next to the out-of-time AUC, never instead of it: random folds mix customers of
    the same moment, so they tend to flatter a model that will score the future.
    ``kind`` is ``"boosting"`` (:class:`ChurnRiskModel`) or ``"logistic"`` (the
    :func:`churn_drivers` model). NaNs when a class has fewer members than ``folds``.
    Above ``max_rows`` customers the folds are cut from a stratified sample of that many
    (seeded with ``random_state``; churners keep their share): the AUC of each fold is
    then measured on ~17,000 customers (standard error ~0.004) and the models learn from
    ~33,000, so the cost stops growing with the snapshot. ``None`` uses everybody.
    """
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415

    y = binary_values(frame[target], allow_missing=False, what="the churn target").to_numpy(
        dtype=int
    )
    keep = stratified_sample(y, max_rows, random_state=random_state)
    if keep is not None:
        frame, y = frame.iloc[keep], y[keep]
    columns = [c for c in (features or frame.columns) if c != target]
    if np.bincount(y, minlength=2).min() < folds:
        return float("nan"), float("nan")
    scores = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        train, test = frame.iloc[train_idx], frame.iloc[test_idx]
        if kind == "boosting":
            model = ChurnRiskModel(random_state=random_state, **model_options)
            model.fit(train[columns], y[train_idx])
            p = model.predict_proba(test[columns])
        elif kind == "logistic":
            kinds, _ = classify_columns(
                train, columns, max_levels=20, explicit=features is not None
            )
            fit, _ = fit_logit(train, y[train_idx].astype(float), kinds)
            p = fit.predict(test)
        else:
            raise ParamsError(f"kind must be 'boosting' or 'logistic', got {kind!r}")
        scores.append(roc_auc(y[test_idx], p))
    return float(np.nanmean(scores)), float(np.nanstd(scores))

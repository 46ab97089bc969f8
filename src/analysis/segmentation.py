"""Clustering segmentation: k selection, stability, profiles, names and migration.

The model works on one row per customer (see :mod:`analysis.features`):

1. pick the features (a named set from :data:`analysis.features.FEATURE_SETS`, by default
   the behavioural set), impute missing values with the feature median (counted), drop
   constant features (reported), scale;
2. choose k over ``k_range`` from three internal indices (silhouette on a fixed-seed sample,
   Calinski-Harabasz, Davies-Bouldin) with a minimum-segment-size rule, fitting the
   candidates on a fixed-seed sample of at most ``selection_sample`` customers;
3. fit the chosen k on all customers (KMeans; MiniBatchKMeans above
   ``large_data_threshold``; Gaussian mixture or k-prototypes on request), starting from the
   candidate's centres;
4. check that the segments mean something (silhouette against a structureless reference)
   and are stable (bootstrap refits, adjusted Rand index);
5. number the segments 0..k-1 by mean value, 0 = most valuable.

Profiles, z-score tables, distinguishing features, composition, a 2-D projection, readable
names and the migration table between periods are plain functions on DataFrames.
"""

from __future__ import annotations

import inspect
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import RobustScaler, StandardScaler
from threadpoolctl import ThreadpoolController

from .errors import DataError, ModelError, ParamsError
from .features import select_features
from .i18n import t

__all__ = [
    "KPrototypes",
    "MigrationTable",
    "SegmentationModel",
    "Stability",
    "composition",
    "distinguishing_features",
    "projection_2d",
    "segment_migration",
    "segment_names",
    "segment_profiles",
    "silhouette_many",
    "zscore_profile",
]

METHODS = ("kmeans", "minibatch", "gmm", "kprototypes")
SCALINGS = ("standard", "robust", "none")
K_RULES = ("rank", "silhouette")
NEW, GONE = "new", "gone"

# MiniBatchKMeans: large batches and early stopping after 5 steps without improvement;
# the final fit starts from centres already fitted on the selection sample.
_MINIBATCH_SIZE = 8192
_MINIBATCH_PATIENCE = 5
_SINGLE_THREAD_ROWS = 100_000
_NULL_SAMPLE = 2000
_NULL_REPEATS = 2
#: Default caps of the samples a fit draws (see :class:`SegmentationModel`, "Large data"),
#: fixed sizes so that the cost of choosing k and checking stability stops growing with the
#: number of customers.
SELECTION_SAMPLE = 20_000
SILHOUETTE_SAMPLE = 10_000
BOOTSTRAP_SAMPLE = 5_000
PROJECTION_FIT_SAMPLE = 20_000


# =========================================================================== metrics
def silhouette_many(
    X: np.ndarray, label_sets: Sequence[np.ndarray], *, chunk_size: int = 512
) -> np.ndarray:
    """Mean silhouette coefficient of several labelings of the same points at once.

    The pairwise Euclidean distances are computed once, block by block over the upper
    triangle (each block serves its rows and, transposed, its columns), and reduced per
    cluster for every labeling with one matrix product, so scoring k = 2..10 costs little
    more than scoring one k. Same definition as :func:`sklearn.metrics.silhouette_score`
    (Rousseeuw 1987; points in singleton clusters score 0).

    Parameters
    ----------
    X
        Points, shape (n, d).
    label_sets
        Integer labels (shape (n,)) per labeling; values need not be contiguous.
    chunk_size
        Rows and columns of one distance block (memory: ``12 * chunk_size**2`` bytes).

    Returns
    -------
    ndarray
        One silhouette per labeling; NaN when a labeling has fewer than 2 clusters
        or as many clusters as points.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = len(X)
    encoded, blocks, sizes = [], [], []
    offset = 0
    for labels in label_sets:
        _, codes = np.unique(np.asarray(labels), return_inverse=True)
        k = int(codes.max()) + 1 if n else 0
        encoded.append(codes)
        blocks.append((offset, k))
        sizes.append(np.bincount(codes, minlength=k).astype(np.float64))
        offset += k
    # Per-cluster distance sums by one matrix product with a one-hot matrix of every
    # labeling; float32 halves its cost (relative error ~1e-6, irrelevant for choosing k).
    onehot = np.zeros((n, offset), dtype=np.float32)
    for codes, (start, _) in zip(encoded, blocks, strict=True):
        onehot[np.arange(n), start + codes] = 1.0
    sums = np.zeros((n, offset))
    sq = np.einsum("ij,ij->i", X, X)
    size = max(1, min(int(chunk_size), n))
    buffer = np.empty(size * size)
    buffer32 = np.empty(size * size, dtype=np.float32)
    for i0 in range(0, n, size):
        i1 = min(i0 + size, n)
        for j0 in range(i0, n, size):
            j1 = min(j0 + size, n)
            shape = (i1 - i0, j1 - j0)
            d2 = buffer[: shape[0] * shape[1]].reshape(shape)
            np.matmul(X[i0:i1], X[j0:j1].T, out=d2)
            d2 *= -2.0
            d2 += sq[i0:i1, None]
            d2 += sq[None, j0:j1]
            np.maximum(d2, 0.0, out=d2)
            if i0 == j0:
                np.fill_diagonal(d2, 0.0)
            dist = buffer32[: shape[0] * shape[1]].reshape(shape)
            np.sqrt(d2, out=dist, casting="same_kind")
            sums[i0:i1] += dist @ onehot[j0:j1]
            if j0 != i0:  # the same block, seen from its columns
                sums[j0:j1] += dist.T @ onehot[i0:i1]
    result = np.full(len(label_sets), np.nan)
    rows = np.arange(n)
    for i, (codes, (start, k), size) in enumerate(zip(encoded, blocks, sizes, strict=True)):
        if k < 2 or k >= n:
            continue
        block = sums[:, start : start + k]
        own = size[codes]
        with np.errstate(divide="ignore", invalid="ignore"):
            a = block[rows, codes] / (own - 1)
            other = block / size
            other[rows, codes] = np.inf
            b = other.min(axis=1)
            s = (b - a) / np.maximum(a, b)
        s[own <= 1] = 0.0
        result[i] = float(np.nan_to_num(s).mean())
    return result


def _ari(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index (Hubert & Arabie 1985) via a bincount contingency table."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    table = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(np.float64)
    n = float(len(a))

    def comb2(x: np.ndarray | float) -> np.ndarray | float:
        return x * (x - 1) / 2.0

    index = comb2(table).sum()
    rows, cols = comb2(table.sum(1)).sum(), comb2(table.sum(0)).sum()
    expected = rows * cols / comb2(n) if n > 1 else 0.0
    maximum = (rows + cols) / 2.0
    if maximum == expected:  # both labelings trivial (one cluster or all singletons)
        return 1.0
    return float((index - expected) / (maximum - expected))


# =========================================================================== k-prototypes
class KPrototypes:
    """k-prototypes clustering for mixed numeric and categorical data (Huang 1997).

    The dissimilarity between a point and a prototype is the squared Euclidean distance
    over the numeric columns plus ``gamma`` times the number of categorical mismatches;
    prototypes are numeric means and categorical modes. Batch (Lloyd-style) updates,
    k-means++-style seeding with that dissimilarity, ``n_init`` restarts, best cost kept.

    Parameters
    ----------
    n_clusters
        Number of clusters.
    categorical
        Column indices holding categorical codes (non-negative integers; -1 = unseen).
    gamma
        Weight of one categorical mismatch. ``None``: half the mean standard deviation
        of the numeric columns (Huang suggests 1/3 to 2/3 of it); 1.0 when there are no
        numeric columns.
    n_init, max_iter
        Restarts and iterations per restart.
    random_state
        Seed.

    Attributes
    ----------
    centers_num_, centers_cat_ : ndarray
        Numeric means and categorical modes of each cluster.
    gamma_ : float
    labels_ : ndarray
    cost_ : float
        Total dissimilarity of the points to their prototypes.
    n_iter_ : int
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        categorical: Sequence[int] = (),
        gamma: float | None = None,
        n_init: int = 10,
        max_iter: int = 100,
        random_state: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.categorical = categorical
        self.gamma = gamma
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def _split(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float64)
        cat = np.zeros(X.shape[1], dtype=bool)
        cat[list(self.categorical)] = True
        return np.ascontiguousarray(X[:, ~cat]), X[:, cat].astype(np.int64)

    def _cost(self, num: np.ndarray, cat: np.ndarray, cn: np.ndarray, cc: np.ndarray) -> np.ndarray:
        cost = np.zeros((len(num), len(cn)))
        if num.shape[1]:
            cost += (
                np.einsum("ij,ij->i", num, num)[:, None]
                + np.einsum("ij,ij->i", cn, cn)[None, :]
                - 2.0 * num @ cn.T
            )
            np.maximum(cost, 0.0, out=cost)
        for j in range(len(cc)):
            cost[:, j] += self.gamma_ * (cat != cc[j]).sum(axis=1)
        return cost

    def _seed(self, num, cat, rng) -> tuple[np.ndarray, np.ndarray]:
        n = len(num)
        chosen = [int(rng.integers(n))]
        best = self._cost(num, cat, num[chosen], cat[chosen])[:, 0]
        for _ in range(1, self.n_clusters):
            total = best.sum()
            nxt = int(rng.choice(n, p=best / total)) if total > 0 else int(rng.integers(n))
            chosen.append(nxt)
            best = np.minimum(best, self._cost(num, cat, num[[nxt]], cat[[nxt]])[:, 0])
        return num[chosen].copy(), cat[chosen].copy()

    def _run(self, num, cat, cn, cc) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
        k = len(cn)
        labels = np.full(len(num), -1)
        n_iter = 0
        for _ in range(self.max_iter):
            n_iter += 1
            cost = self._cost(num, cat, cn, cc)
            new = cost.argmin(axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            point_cost = cost[np.arange(len(num)), labels]
            counts = np.bincount(labels, minlength=k)
            for j in range(k):
                members = labels == j
                if counts[j] == 0:  # empty cluster: restart it at the worst-served point
                    worst = int(point_cost.argmax())
                    cn[j], cc[j] = num[worst], cat[worst]
                    point_cost[worst] = 0.0
                    continue
                if num.shape[1]:
                    cn[j] = num[members].mean(axis=0)
                for c in range(cat.shape[1]):
                    cc[j, c] = np.bincount(cat[members, c]).argmax()  # ties -> smallest code
        cost = self._cost(num, cat, cn, cc)
        labels = cost.argmin(axis=1)
        return labels, cn, cc, float(cost[np.arange(len(num)), labels].sum()), n_iter

    def fit(self, X: np.ndarray, y: Any = None, *, init: tuple | None = None) -> KPrototypes:
        """Fit on ``X`` (numeric columns and integer-coded categorical columns)."""
        num, cat = self._split(X)
        if self.n_clusters < 1 or self.n_clusters > len(num):
            raise ModelError(f"k-prototypes needs 1 <= k <= {len(num)}, got {self.n_clusters}")
        if self.gamma is not None:
            self.gamma_ = float(self.gamma)
        elif num.shape[1]:
            self.gamma_ = 0.5 * float(num.std(axis=0).mean())
        else:
            self.gamma_ = 1.0
        rng = np.random.default_rng(self.random_state)
        best = None
        starts = [init] if init is not None else [None] * max(1, self.n_init)
        for start in starts:
            cn, cc = (
                (np.array(start[0], float), np.array(start[1], np.int64))
                if start is not None
                else self._seed(num, cat, rng)
            )
            result = self._run(num, cat, cn, cc)
            if best is None or result[3] < best[3] - 1e-12:
                best = result
        self.labels_, self.centers_num_, self.centers_cat_, self.cost_, self.n_iter_ = best
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Nearest prototype of each row."""
        num, cat = self._split(X)
        return self._cost(num, cat, self.centers_num_, self.centers_cat_).argmin(axis=1)


# =========================================================================== model
@dataclass(frozen=True)
class Stability:
    """Bootstrap stability of a segmentation.

    Attributes
    ----------
    ari
        Adjusted Rand index between each bootstrap refit's labels of the selection
        sample and the main fit's labels of the same customers.
    threshold
        ``mean_ari >= threshold`` is called stable.
    """

    ari: tuple[float, ...]
    threshold: float = 0.8

    @property
    def mean_ari(self) -> float:
        return float(np.mean(self.ari)) if self.ari else math.nan

    @property
    def min_ari(self) -> float:
        return float(np.min(self.ari)) if self.ari else math.nan

    @property
    def stable(self) -> bool:
        return bool(self.ari) and self.mean_ari >= self.threshold

    @property
    def verdict(self) -> str:
        return "stable" if self.stable else "unstable"

    def to_frame(self) -> pd.DataFrame:
        """One row per bootstrap refit: ``bootstrap``, ``ari``."""
        return pd.DataFrame({"bootstrap": range(len(self.ari)), "ari": list(self.ari)})


@dataclass
class _Prepared:
    """Design matrices of one fit/predict call."""

    fit: np.ndarray  # what the estimator consumes (numeric scaled [+ categorical codes])
    metric: np.ndarray  # Euclidean space for the indices (numeric scaled [+ weighted one-hot])
    index: pd.Index
    missing: dict[str, int] = field(default_factory=dict)


class SegmentationModel:
    """Customer segmentation by clustering, with automatic k, stability and stable ids.

    Parameters
    ----------
    method
        ``"kmeans"`` (default; MiniBatchKMeans is used automatically for the final fit when
        there are more than ``large_data_threshold`` customers), ``"minibatch"`` (always
        MiniBatchKMeans), ``"gmm"`` (Gaussian mixture, full covariances; hard labels) or
        ``"kprototypes"`` (numeric + categorical features, :class:`KPrototypes`).
    k
        Number of segments, or ``None`` to choose it over ``k_range``.
    k_range
        Inclusive range of k tried when ``k`` is None.
    min_segment_share
        A candidate k is *eligible* only if each of its segments holds at least this share
        of customers.
    features
        Feature columns: a list, a feature-set name (``"default"``, ``"rfm"``, ``"compact"``;
        see :func:`analysis.features.select_features`) or ``None`` for ``"default"``. When
        no column of the default set is present, all numeric columns are used.
    categorical_features
        Categorical columns for ``method="kprototypes"`` (e.g. ``["customer_type"]``).
    scaling
        ``"standard"`` (z-scores), ``"robust"`` (median/IQR) or ``"none"``.
    clip
        Scaled values are clipped to ``[-clip, clip]`` (winsorising in scaled units), so a
        handful of extreme customers (one order, returned: return rate 1) cannot claim a
        segment of their own. ``None`` keeps them.
    max_missing_share
        Features missing for more than this share of customers are dropped (reason
        ``"mostly_missing"``) rather than imputed: filling e.g. 80% of ``satisfaction``
        with one median would create an artificial spike. Others are imputed with the
        median (counted in ``imputation_``).
    gamma
        k-prototypes weight of a categorical mismatch; ``None``: half the mean standard
        deviation of the scaled numeric features (Huang 1997 suggests 1/3 to 2/3 of it),
        about 0.5 with standard scaling.
    k_rule
        How k is chosen among eligible candidates; see Notes.
    silhouette_sample
        Silhouette is computed on a fixed-seed sample of this many customers.
    selection_sample
        Candidate k are fitted on a fixed-seed sample of at most this many customers; the
        chosen k is then refitted on all customers from the candidate's centres. ``None``
        fits every candidate on all customers.
    n_bootstrap
        Bootstrap refits for :attr:`stability_` (0 skips the check): each refit uses the
        same procedure (method, k, ``n_init`` starts) on a resample, with replacement, of
        the selection sample and predicts the selection sample; its adjusted Rand index
        against the main labels of those customers is kept (Hennig 2007).
    bootstrap_sample
        Customers drawn (with replacement) from the selection sample for each bootstrap
        refit: an m-out-of-n bootstrap with ``m = min(bootstrap_sample, selection sample)``.
        ``None`` draws as many as the selection sample holds (the classical bootstrap).
    stability_threshold
        Mean ARI from which the segmentation is called stable.
    min_silhouette, null_margin
        The segmentation is *meaningful* when its silhouette is at least ``min_silhouette``
        and exceeds by at least ``null_margin`` the silhouette of the same k fitted to
        structureless data (a Gaussian with the data's mean and covariance).
    large_data_threshold
        Above this many customers the final fit uses MiniBatchKMeans (method ``"kmeans"``).
    n_init
        Restarts per candidate fit.
    order_by
        Column of ``X`` whose segment mean orders the ids (descending: id 0 is the most
        valuable). Falls back to ``log_monetary``, then to segment size, when absent.
    random_state
        Seed; turned into independent generators (sampling, fits, bootstrap) in ``fit``.

    Attributes
    ----------
    k_ : int
        Number of segments.
    labels_ : Series
        Segment id (0..k_-1) per row of the fitted data, indexed like ``X``.
    k_scores_ : DataFrame
        Index ``k``; columns ``silhouette``, ``calinski_harabasz``, ``davies_bouldin``,
        ``min_share``, ``eligible``, ``rank_score``, ``chosen``.
    silhouette_, null_silhouette_ : float
        Silhouette of the chosen candidate (on the silhouette sample) and of the
        structureless reference.
    meaningful_ : bool
    stability_ : Stability or None
        Bootstrap adjusted Rand indices, their mean and the stable/unstable verdict.
    gamma_ : float or None
        k-prototypes mismatch weight used (None without categorical features).
    scaler_ : fitted scaler (an identity StandardScaler when ``scaling="none"``)
    estimator_ : fitted clustering estimator (None when k_ == 1)
    method_ : str
        Algorithm used for the final fit (``"minibatch"`` when switched automatically).
    features_ : list of str
        Features used (after dropping constants); ``feature_names_in_`` all requested.
    imputation_ : DataFrame
        Per feature: ``n_missing``, ``share_missing``, ``fill_value`` (median; mode for
        categorical features). Missing and infinite values are imputed.
    dropped_features_ : dict
        Feature -> reason (``"constant"``, ``"all_missing"``, ``"mostly_missing"``).
    centers_ : DataFrame
        Segment centres in original feature units (numeric features).
    timings_ : dict
        Wall time in seconds of each phase of ``fit`` (prepare, sample, choose_k,
        final_fit, null_reference, stability).
    notes_ : list of (key, values)
        Catalog keys (``segmentation.note.*``) explaining decisions; see :meth:`notes_text`.

    Notes
    -----
    **Choice of k** (``k_rule="rank"``, default). For each k in ``k_range`` the candidate
    is scored by silhouette (higher is better; on ``silhouette_sample`` customers),
    Calinski-Harabasz (higher) and Davies-Bouldin (lower) on the selection sample. Only
    eligible k (smallest segment >= ``min_segment_share``) compete; each index ranks them
    (average ranks for ties) and the k with the lowest mean rank wins; ties go to the higher
    silhouette, then the smaller k. ``k_rule="silhouette"``: the eligible k with the highest
    silhouette (ties: smaller k). If no k is eligible, the k whose smallest segment is
    largest is taken and a note says so.

    **Large data.** Candidates are fitted on a fixed-seed sample of ``selection_sample``
    customers (``n_init`` k-means++ starts each); silhouette uses ``silhouette_sample`` of
    them (computed for all k from one distance matrix, :func:`silhouette_many`). Only the
    chosen k is fitted on all customers, starting from the candidate's centres (one start;
    when the selection sample is everybody the candidate itself is the fit). Bootstrap
    refits draw ``bootstrap_sample`` customers from the selection sample and are scored on
    it. The three caps are fixed sizes (defaults 20,000, 10,000 and 5,000), drawn with
    seeds from ``random_state``, so two fits give the same result and the cost of choosing
    k and of the stability check does not grow with the number of customers; only the
    final fit, the labels and the profiles are computed on everybody.

    **Stability** (Hennig 2007, "clusterboot"). Each of the ``n_bootstrap`` refits runs
    the whole procedure again from fresh starts (k-means++ seeding, ``n_init`` starts, the
    best kept) on a resample of ``bootstrap_sample`` customers of the selection sample,
    and is compared with the main labels of the selection sample. Cold starts are what
    make the check mean something: a refit started from the main centres, or from too
    few starts, either lands back on the main solution whatever the data (structureless
    data then pass as stable: on 20,000 uniform points the mean ARI was 0.90 from the
    main centres against 0.46 from fresh starts) or in a worse local optimum (stable
    data then look unstable). The cost is bounded by sampling instead: drawing fewer
    customers than the selection sample (an m-out-of-n bootstrap) makes each refit's
    centres a little noisier, so the index is slightly conservative (on planted blobs it
    stays within 0.03 of the full-size bootstrap; tests/test_sampling.py). k-means fits a
    resample as its distinct customers weighted by how often they were drawn, which is
    the same objective and seeding distribution as the repeated rows.

    **Meaningful segments.** A silhouette near that of structureless data means the
    "segments" are arbitrary cuts of one cloud. The reference fits k-means with the same k
    to Gaussian data with the mean and covariance of the (scaled) selection sample
    (2 x 2,000 points, in the spirit of the gap statistic, Tibshirani et al. 2001).
    ``meaningful_`` is True when ``silhouette_ >= min_silhouette`` (0.1) and
    ``silhouette_ - null_silhouette_ >= null_margin`` (0.05). Uniform or single-blob data
    fail it; they usually also fail the stability check (mean ARI < 0.8).

    **Edge cases.** Fewer than two distinct customers, or no non-constant feature: one
    segment, ``meaningful_ = False``. Fewer distinct customers than ``k``: k is reduced.

    **Segment ids** are ordered by the mean of ``order_by`` per segment, descending, ties by
    size (larger first): id 0 is the most valuable segment. Two fits with the same data and
    parameters give identical labels.

    Examples
    --------
    >>> model = SegmentationModel(k_range=(2, 8), random_state=0).fit(features)  # doctest: +SKIP
    >>> model.k_, model.meaningful_, model.stability_.verdict  # doctest: +SKIP
    >>> profile = segment_profiles(features, model.labels_)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        method: str = "kmeans",
        k: int | None = None,
        k_range: tuple[int, int] = (2, 10),
        min_segment_share: float = 0.03,
        features: Sequence[str] | str | None = None,
        categorical_features: Sequence[str] | None = None,
        scaling: str = "standard",
        clip: float | None = 3.0,
        max_missing_share: float = 0.5,
        gamma: float | None = None,
        k_rule: str = "rank",
        silhouette_sample: int = SILHOUETTE_SAMPLE,
        selection_sample: int | None = SELECTION_SAMPLE,
        n_bootstrap: int = 20,
        bootstrap_sample: int | None = BOOTSTRAP_SAMPLE,
        stability_threshold: float = 0.8,
        min_silhouette: float = 0.1,
        null_margin: float = 0.05,
        large_data_threshold: int = 200_000,
        n_init: int = 10,
        order_by: str | None = "monetary",
        random_state: int | None = 0,
    ) -> None:
        self.method = method
        self.k = k
        self.k_range = k_range
        self.min_segment_share = min_segment_share
        self.features = features
        self.categorical_features = categorical_features
        self.scaling = scaling
        self.clip = clip
        self.max_missing_share = max_missing_share
        self.gamma = gamma
        self.k_rule = k_rule
        self.silhouette_sample = silhouette_sample
        self.selection_sample = selection_sample
        self.n_bootstrap = n_bootstrap
        self.bootstrap_sample = bootstrap_sample
        self.stability_threshold = stability_threshold
        self.min_silhouette = min_silhouette
        self.null_margin = null_margin
        self.large_data_threshold = large_data_threshold
        self.n_init = n_init
        self.order_by = order_by
        self.random_state = random_state

    # ------------------------------------------------------------------ params
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyperparameters as a dict (scikit-learn convention)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> SegmentationModel:
        """Set hyperparameters (scikit-learn convention)."""
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ParamsError(f"unknown SegmentationModel parameter {name!r}")
            setattr(self, name, value)
        return self

    def _validate_params(self) -> None:
        def positive_int(name: str, value: Any, minimum: int = 1) -> None:
            if (
                not isinstance(value, (int, np.integer))
                or isinstance(value, bool)
                or value < minimum
            ):
                raise ParamsError(
                    f"segmentation: {name} must be an integer >= {minimum}, got {value!r}"
                )

        if self.method not in METHODS:
            raise ParamsError(
                f"segmentation: method must be one of {', '.join(METHODS)}, got {self.method!r}"
            )
        if self.scaling not in SCALINGS:
            raise ParamsError(
                f"segmentation: scaling must be one of {', '.join(SCALINGS)}, got {self.scaling!r}"
            )
        if self.k_rule not in K_RULES:
            raise ParamsError(
                f"segmentation: k_rule must be one of {', '.join(K_RULES)}, got {self.k_rule!r}"
            )
        if self.k is not None:
            positive_int("k", self.k)
        try:
            lo, hi = (int(v) for v in self.k_range)
        except (TypeError, ValueError):
            raise ParamsError(
                f"segmentation: k_range must be two integers, got {self.k_range!r}"
            ) from None
        if not 2 <= lo <= hi:
            raise ParamsError(
                f"segmentation: k_range must satisfy 2 <= low <= high, got {self.k_range!r}"
            )
        if self.clip is not None and not float(self.clip) > 0:
            raise ParamsError(f"segmentation: clip must be positive or null, got {self.clip!r}")
        if not 0 <= float(self.max_missing_share) <= 1:
            raise ParamsError(
                f"segmentation: max_missing_share must be in [0, 1], got {self.max_missing_share!r}"
            )
        if not 0 <= float(self.min_segment_share) < 1:
            raise ParamsError(
                f"segmentation: min_segment_share must be in [0, 1), got {self.min_segment_share!r}"
            )
        positive_int("silhouette_sample", self.silhouette_sample, 10)
        if self.selection_sample is not None:
            positive_int("selection_sample", self.selection_sample, 10)
        positive_int("n_bootstrap", self.n_bootstrap, 0)
        if self.bootstrap_sample is not None:
            positive_int("bootstrap_sample", self.bootstrap_sample, 10)
        positive_int("large_data_threshold", self.large_data_threshold)
        positive_int("n_init", self.n_init)
        if self.method == "kprototypes" and not self.categorical_features:
            raise ParamsError(
                "segmentation: method 'kprototypes' needs categorical_features "
                "(e.g. ['customer_type']); use 'kmeans' for numeric features only"
            )
        if self.method != "kprototypes" and self.categorical_features:
            raise ParamsError(
                "segmentation: categorical_features are only used by method 'kprototypes'"
            )

    # ------------------------------------------------------------------ features
    def _resolve_features(self, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
        categorical = list(self.categorical_features or [])
        if self.features is None or isinstance(self.features, str):
            numeric = select_features(frame, self.features or "default")
            if not numeric and self.features is None:
                numeric = [
                    c
                    for c in frame.columns
                    if c not in categorical
                    and pd.api.types.is_numeric_dtype(frame.dtypes[c])
                    and not pd.api.types.is_bool_dtype(frame.dtypes[c])
                ]
        else:
            numeric = [c for c in self.features if c not in categorical]
        numeric = [c for c in numeric if c not in categorical]
        missing = [c for c in [*numeric, *categorical] if c not in frame.columns]
        if missing:
            raise DataError(
                f"feature column(s) {', '.join(map(repr, missing))} not found; "
                f"available: {', '.join(map(str, frame.columns))}",
                file="features",
                column=missing[0],
            )
        for column in numeric:
            if not (
                pd.api.types.is_numeric_dtype(frame.dtypes[column])
                or pd.api.types.is_bool_dtype(frame.dtypes[column])
            ):
                raise DataError(
                    "is not numeric; pass it as a categorical feature with method 'kprototypes' "
                    "or encode it",
                    file="features",
                    column=column,
                    examples=frame[column].dropna().astype(str).unique()[:3],
                )
        if not numeric and not categorical:
            raise DataError("no feature columns to cluster on", file="features")
        return numeric, categorical

    def _numeric_matrix(self, frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
        values = (
            frame[list(columns)]
            .astype("float64")
            .to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        )
        values[~np.isfinite(values)] = np.nan
        return values

    def _prepare(self, frame: pd.DataFrame) -> _Prepared:
        """Impute, scale and encode ``frame`` with the fitted state."""
        missing_cols = [c for c in [*self._num_kept, *self._cat_kept] if c not in frame.columns]
        if missing_cols:
            raise DataError(
                f"feature column(s) {', '.join(map(repr, missing_cols))} used by the fitted "
                "model are missing (for another period build the features with the same "
                "categories=/channels= as the fitted period)",
                file="features",
                column=missing_cols[0],
            )
        missing: dict[str, int] = {}
        parts_fit, parts_metric = [], []
        if self._num_kept:
            values = self._numeric_matrix(frame, self._num_kept)
            holes = np.isnan(values)
            for j, column in enumerate(self._num_kept):
                missing[column] = int(holes[:, j].sum())
            values = np.where(holes, self._medians[None, :], values)
            scaled = self.scaler_.transform(values)
            if self.clip is not None:
                np.clip(scaled, -self.clip, self.clip, out=scaled)
            parts_fit.append(scaled)
            parts_metric.append(scaled)
        if self._cat_kept:
            codes = np.empty((len(frame), len(self._cat_kept)), dtype=np.int64)
            for j, column in enumerate(self._cat_kept):
                raw = frame[column].astype("object")
                holes = raw.isna().to_numpy()
                missing[column] = int(holes.sum())
                raw = raw.where(~holes, self._modes[column]).astype(str)
                levels = self._levels[column]
                codes[:, j] = pd.Categorical(raw, categories=levels).codes
            parts_fit.append(codes.astype(np.float64))
            weight = math.sqrt(self._gamma / 2.0)  # one mismatch = gamma in squared distance
            for j, column in enumerate(self._cat_kept):
                onehot = np.zeros((len(frame), len(self._levels[column])))
                ok = codes[:, j] >= 0
                onehot[np.flatnonzero(ok), codes[ok, j]] = weight
                parts_metric.append(onehot)
        fit = np.hstack(parts_fit) if parts_fit else np.zeros((len(frame), 0))
        metric = np.hstack(parts_metric) if parts_metric else np.zeros((len(frame), 0))
        return _Prepared(fit=fit, metric=metric, index=frame.index, missing=missing)

    def _learn_preprocessing(
        self, frame: pd.DataFrame, numeric: list[str], categorical: list[str]
    ) -> None:
        self.dropped_features_: dict[str, str] = {}
        rows = []
        values = self._numeric_matrix(frame, numeric) if numeric else np.zeros((len(frame), 0))
        keep_num, medians = [], []
        for j, column in enumerate(numeric):
            col = values[:, j]
            n_missing = int(np.isnan(col).sum())
            if n_missing == len(col):
                self.dropped_features_[column] = "all_missing"
                rows.append((column, n_missing, math.nan))
                continue
            if n_missing > self.max_missing_share * len(col):
                self.dropped_features_[column] = "mostly_missing"
                rows.append((column, n_missing, math.nan))
                continue
            median = float(np.nanmedian(col))
            rows.append((column, n_missing, median))
            filled = np.where(np.isnan(col), median, col)
            if np.ptp(filled) <= 1e-12 * max(1.0, abs(median)):
                self.dropped_features_[column] = "constant"
                continue
            keep_num.append(column)
            medians.append(median)
        self._num_kept = keep_num
        self._medians = np.array(medians, dtype=np.float64)
        self._modes: dict[str, str] = {}
        self._levels: dict[str, list[str]] = {}
        keep_cat = []
        for column in categorical:
            raw = frame[column].astype("object")
            n_missing = int(raw.isna().sum())
            present = raw.dropna().astype(str)
            if present.empty:
                self.dropped_features_[column] = "all_missing"
                rows.append((column, n_missing, None))
                continue
            if n_missing > self.max_missing_share * len(raw):
                self.dropped_features_[column] = "mostly_missing"
                rows.append((column, n_missing, None))
                continue
            counts = present.value_counts()
            mode = str(sorted(counts[counts == counts.max()].index)[0])
            rows.append((column, n_missing, mode))
            levels = sorted(set(present.unique()))
            if len(levels) < 2:
                self.dropped_features_[column] = "constant"
                continue
            keep_cat.append(column)
            self._modes[column] = mode
            self._levels[column] = levels
        self._cat_kept = keep_cat
        n = max(len(frame), 1)
        self.imputation_ = pd.DataFrame(
            {
                "n_missing": [r[1] for r in rows],
                "share_missing": [r[1] / n for r in rows],
                "fill_value": [r[2] for r in rows],
            },
            index=pd.Index([r[0] for r in rows], name="feature"),
        )
        if self.scaling == "standard":
            self.scaler_ = StandardScaler()
        elif self.scaling == "robust":
            self.scaler_ = RobustScaler()
        else:
            self.scaler_ = StandardScaler(with_mean=False, with_std=False)
        numeric_std = math.nan
        if keep_num:
            idx = [numeric.index(c) for c in keep_num]
            filled = np.where(np.isnan(values[:, idx]), self._medians[None, :], values[:, idx])
            scaled = self.scaler_.fit_transform(filled)
            if self.clip is not None:
                np.clip(scaled, -self.clip, self.clip, out=scaled)
            numeric_std = float(scaled.std(axis=0).mean())
        # Huang (1997): gamma between 1/3 and 2/3 of the mean numeric standard deviation.
        if self.gamma is not None:
            self._gamma = float(self.gamma)
        else:
            self._gamma = 0.5 * numeric_std if keep_num else 1.0
        self.gamma_ = self._gamma if categorical else None
        self.features_ = [*keep_num, *keep_cat]

    # ------------------------------------------------------------------ estimators
    def _estimator(
        self, k: int, seed: int, n_rows: int, init: Any = None, n_init: int | None = None
    ):
        method = self.method
        if method == "kmeans" and n_rows > self.large_data_threshold:
            method = "minibatch"
        n_init = 1 if init is not None else (n_init or self.n_init)
        if method == "kmeans":
            return KMeans(
                n_clusters=k,
                init=init if init is not None else "k-means++",
                n_init=n_init,
                random_state=seed,
            )
        if method == "minibatch":
            return MiniBatchKMeans(
                n_clusters=k,
                init=init if init is not None else "k-means++",
                n_init=n_init,
                batch_size=_MINIBATCH_SIZE,
                max_no_improvement=_MINIBATCH_PATIENCE,
                compute_labels=False,
                random_state=seed,
            )
        if method == "gmm":
            kwargs: dict[str, Any] = {}
            if init is not None:
                kwargs = {
                    "weights_init": init[0],
                    "means_init": init[1],
                    "precisions_init": init[2],
                }
            return GaussianMixture(
                n_components=k,
                covariance_type="full",
                n_init=n_init,
                reg_covar=1e-6,
                random_state=seed,
                **kwargs,
            )
        n_num = len(self._num_kept)
        return KPrototypes(
            k,
            categorical=list(range(n_num, n_num + len(self._cat_kept))),
            gamma=self._gamma,
            n_init=n_init,
            random_state=seed,
        )

    @staticmethod
    def _init_from(estimator) -> Any:
        if isinstance(estimator, (KMeans, MiniBatchKMeans)):
            return estimator.cluster_centers_
        if isinstance(estimator, GaussianMixture):
            return (estimator.weights_, estimator.means_, estimator.precisions_)
        return (estimator.centers_num_, estimator.centers_cat_)

    @staticmethod
    def _fit_estimator(estimator, Z: np.ndarray, init: Any = None):
        with _thread_limit(len(Z)):
            if isinstance(estimator, KPrototypes):
                return estimator.fit(Z, init=init)
            return estimator.fit(Z)

    def _fit_cold(self, k: int, seed: int, Z: np.ndarray, rows: np.ndarray | None = None):
        """Fit ``k`` clusters from ``n_init`` fresh starts (the candidates of the k choice,
        the bootstrap refits) on ``Z[rows]`` (``rows`` may repeat; all rows by default).

        k-means fits each distinct row of a resample once, weighted by how often it was
        drawn: the same objective, seeding distribution and Lloyd updates as the repeated
        rows, on about 63% of the rows for a bootstrap resample (1 - 1/e distinct).
        """
        m = len(Z) if rows is None else len(rows)
        estimator = self._estimator(k, seed, m)
        if rows is None:
            return self._fit_estimator(estimator, Z)
        unique, counts = np.unique(rows, return_counts=True)
        if not isinstance(estimator, (KMeans, MiniBatchKMeans)) or len(unique) < k:
            # other methods take no weights; a resample with fewer distinct customers
            # than k is fitted as drawn (k-means then warns and finds fewer clusters)
            return self._fit_estimator(estimator, Z[rows])
        with _thread_limit(m):
            return estimator.fit(Z[unique], sample_weight=counts.astype(np.float64))

    @staticmethod
    def _method_name(estimator) -> str:
        return {
            KMeans: "kmeans",
            MiniBatchKMeans: "minibatch",
            GaussianMixture: "gmm",
            KPrototypes: "kprototypes",
        }[type(estimator)]

    # ------------------------------------------------------------------ fit
    def fit(self, X: pd.DataFrame, y: Any = None) -> SegmentationModel:
        """Choose k (unless fixed), fit the segments and check them.

        Parameters
        ----------
        X
            One row per customer (e.g. :func:`analysis.features.customer_features`).
        y
            Ignored.

        Returns
        -------
        self

        Raises
        ------
        ParamsError
            If a hyperparameter is invalid.
        DataError
            If a feature column is missing or not numeric, or ``X`` is empty.
        """
        start = time.perf_counter()
        self._validate_params()
        frame = _as_frame(X)
        if len(frame) == 0:
            raise DataError("no customers to segment (the feature table is empty)", file="features")
        numeric, categorical = self._resolve_features(frame)
        self.feature_names_in_ = np.array([*numeric, *categorical], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.notes_: list[tuple[str, dict[str, Any]]] = []
        self._learn_preprocessing(frame, numeric, categorical)
        for feature, reason in self.dropped_features_.items():
            self.notes_.append(
                ("segmentation.note.dropped", {"feature": feature, "reason": reason})
            )
        for feature, row in self.imputation_.iterrows():
            if row["n_missing"] and feature not in self.dropped_features_:
                self.notes_.append(
                    (
                        "segmentation.note.imputed",
                        {"feature": feature, "count": int(row["n_missing"])},
                    )
                )

        streams = np.random.SeedSequence(_seed_entropy(self.random_state)).spawn(6)
        rng_sample, rng_sil, rng_cand, rng_final, rng_boot, rng_null = (
            np.random.default_rng(s) for s in streams
        )
        prepared = self._prepare(frame)
        Z, E = prepared.fit, prepared.metric
        n = len(Z)
        self.n_customers_ = n
        self.timings_: dict[str, float] = {}
        clock = _Clock(self.timings_)
        clock("prepare", start)
        self.method_ = self.method

        # Selection sample (fixed seed) and silhouette sample inside it.
        if self.selection_sample is not None and n > self.selection_sample:
            sel = np.sort(rng_sample.choice(n, self.selection_sample, replace=False))
            self.notes_.append(("segmentation.note.subsample", {"m": len(sel), "n": n}))
        else:
            sel = np.arange(n)
        Zs, Es = Z[sel], E[sel]
        m = len(sel)
        sil = (
            np.sort(rng_sil.choice(m, self.silhouette_sample, replace=False))
            if m > self.silhouette_sample
            else np.arange(m)
        )
        n_distinct = len(np.unique(Zs, axis=0)) if Zs.shape[1] else 1

        if Zs.shape[1] == 0 or n_distinct < 2 or (self.k is not None and self.k == 1):
            key = (
                "segmentation.note.no_features"
                if Zs.shape[1] == 0
                else "segmentation.note.one_segment"
            )
            if self.k != 1:
                self.notes_.append((key, {"n": n, "n_distinct": n_distinct}))
            return self._fit_single(frame, prepared)

        if self.k is not None:
            ks = [min(int(self.k), n_distinct)]
            if ks[0] < self.k:
                self.notes_.append(
                    (
                        "segmentation.note.k_reduced",
                        {"requested": int(self.k), "k": ks[0], "n_distinct": n_distinct},
                    )
                )
            if ks[0] < 2:
                return self._fit_single(frame, prepared)
        else:
            lo, hi = (int(v) for v in self.k_range)
            top = min(hi, n_distinct, m - 1)
            if top < lo:
                self.notes_.append(
                    (
                        "segmentation.note.k_range_reduced",
                        {"low": lo, "high": hi, "k": max(top, 1), "n_distinct": n_distinct},
                    )
                )
                if top < 2:
                    return self._fit_single(frame, prepared)
                ks = [top]
            else:
                ks = list(range(lo, top + 1))

        clock("sample")
        # Candidate fits on the selection sample.
        cand_seeds = rng_cand.integers(0, 2**31 - 1, size=len(ks))
        candidates, label_sets = {}, []
        for k, seed in zip(ks, cand_seeds, strict=True):
            est = self._fit_cold(k, int(seed), Zs)
            candidates[k] = est
            # KMeans keeps the labels of its final assignment step, which is predict(Zs)
            labels = est.labels_ if isinstance(est, KMeans) else est.predict(Zs)
            label_sets.append(np.asarray(labels))
        rows = []
        with _thread_limit(m):
            sils = silhouette_many(Es[sil], [labels[sil] for labels in label_sets])
            for k, labels, s in zip(ks, label_sets, sils, strict=True):
                counts = np.bincount(labels, minlength=k)
                present = int((counts > 0).sum())
                valid = 1 < present < m  # both indices need 2 <= clusters <= n - 1
                ch = calinski_harabasz_score(Es, labels) if valid else math.nan
                db = davies_bouldin_score(Es, labels) if valid else math.nan
                rows.append((k, s, ch, db, counts.min() / m))
        scores = pd.DataFrame(
            rows, columns=["k", "silhouette", "calinski_harabasz", "davies_bouldin", "min_share"]
        ).set_index("k")
        self.k_ = self._choose_k(scores, fixed=self.k is not None)
        self.k_scores_ = scores

        clock("choose_k")
        # Final fit on all customers, starting from the chosen candidate.
        chosen = candidates[self.k_]
        if m == n:
            self.estimator_ = chosen
        else:
            final = self._estimator(
                self.k_, int(rng_final.integers(0, 2**31 - 1)), n, init=self._init_from(chosen)
            )
            self.estimator_ = self._fit_estimator(final, Z, init=self._init_from(chosen))
        self.method_ = self._method_name(self.estimator_)
        if self.method_ == "minibatch" and self.method == "kmeans":
            self.notes_.append(
                ("segmentation.note.minibatch", {"n": n, "threshold": self.large_data_threshold})
            )
        raw = np.asarray(self.estimator_.predict(Z))
        self._label_map = self._order_segments(frame, raw, self.k_)
        labels = self._label_map[raw]
        self.labels_ = pd.Series(labels, index=prepared.index, name="segment", dtype="int64")
        self.centers_ = self._centers(frame, labels)

        clock("final_fit")
        # Meaningful? Compare with the same k on structureless data.
        self.silhouette_ = float(scores.loc[self.k_, "silhouette"])
        self.null_silhouette_ = self._null_silhouette(Es, self.k_, rng_null)
        self.meaningful_ = bool(
            np.isfinite(self.silhouette_)
            and self.silhouette_ >= self.min_silhouette
            and self.silhouette_ - self.null_silhouette_ >= self.null_margin
        )
        if not np.isfinite(self.silhouette_):
            self.notes_.append(("segmentation.note.cannot_judge", {"n": n, "k": self.k_}))
        elif not self.meaningful_:
            self.notes_.append(
                (
                    "segmentation.note.not_meaningful",
                    {"silhouette": self.silhouette_, "null": self.null_silhouette_},
                )
            )

        clock("null_reference")
        # Bootstrap stability (Hennig 2007, "clusterboot"): refit with the same procedure on
        # resamples of the selection sample, predict it, compare with its main labels (the
        # ARI of a random sample of 20,000 customers estimates that of everybody closely).
        self.stability_ = None
        if self.n_bootstrap:
            aris = []
            reference = raw[sel]
            size = m if self.bootstrap_sample is None else min(m, int(self.bootstrap_sample))
            seeds = rng_boot.integers(0, 2**31 - 1, size=self.n_bootstrap)
            for seed in seeds:
                gen = np.random.default_rng(int(seed))
                idx = gen.integers(0, m, size=size)
                with warnings.catch_warnings():
                    # a resample may hold fewer distinct customers than k: that is exactly
                    # the instability being measured, not something to warn about
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    est = self._fit_cold(self.k_, int(seed), Zs, rows=idx)
                with _thread_limit(m):
                    aris.append(_ari(np.asarray(est.predict(Zs)), reference))
            self.stability_ = Stability(
                tuple(float(a) for a in aris), float(self.stability_threshold)
            )
            if not self.stability_.stable:
                self.notes_.append(
                    (
                        "segmentation.note.unstable",
                        {"ari": self.stability_.mean_ari, "threshold": self.stability_threshold},
                    )
                )
        clock("stability")
        shares = np.bincount(labels, minlength=self.k_) / n
        if shares.min() < self.min_segment_share:
            self.notes_.append(
                (
                    "segmentation.note.small_segment",
                    {"share": float(shares.min()), "min_share": self.min_segment_share},
                )
            )
        return self

    def _choose_k(self, scores: pd.DataFrame, *, fixed: bool) -> int:
        scores["eligible"] = (scores["min_share"] >= self.min_segment_share) & scores[
            "silhouette"
        ].notna()
        scores["rank_score"] = np.nan
        scores["chosen"] = False
        if fixed:
            k = int(scores.index[0])
        else:
            eligible = scores[scores["eligible"]]
            if eligible.empty:
                ordered = scores.assign(_k=scores.index).sort_values(
                    ["min_share", "_k"], ascending=[False, True]
                )
                k = int(ordered.index[0])
                self.notes_.append(
                    (
                        "segmentation.note.no_eligible_k",
                        {
                            "low": int(scores.index.min()),
                            "high": int(scores.index.max()),
                            "min_share": self.min_segment_share,
                            "k": k,
                        },
                    )
                )
            else:
                rank = (
                    eligible["silhouette"].rank(ascending=False)
                    + eligible["calinski_harabasz"].rank(ascending=False)
                    + eligible["davies_bouldin"].rank(ascending=True)
                ) / 3.0
                scores.loc[eligible.index, "rank_score"] = rank
                key = rank if self.k_rule == "rank" else -eligible["silhouette"]
                k = int(
                    min(eligible.index, key=lambda j: (key[j], -eligible.loc[j, "silhouette"], j))
                )
        scores.loc[k, "chosen"] = True
        return k

    def _order_segments(self, frame: pd.DataFrame, raw: np.ndarray, k: int) -> np.ndarray:
        """Map raw cluster labels to ids ordered by value (descending), then size."""
        value_col = None
        for candidate in (self.order_by, "log_monetary"):
            if (
                candidate
                and candidate in frame.columns
                and pd.api.types.is_numeric_dtype(frame.dtypes[candidate])
            ):
                value_col = candidate
                break
        self.order_by_ = value_col
        sizes = np.bincount(raw, minlength=k)
        if value_col is not None:
            values = frame[value_col].to_numpy(dtype=np.float64, na_value=np.nan)
            ok = np.isfinite(values)
            sums = np.bincount(raw[ok], weights=values[ok], minlength=k)
            cnt = np.bincount(raw[ok], minlength=k)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.where(cnt > 0, sums / np.maximum(cnt, 1), -np.inf)
        else:
            means = np.zeros(k)
        order = sorted(range(k), key=lambda j: (-means[j], -sizes[j], j))
        mapping = np.empty(k, dtype=np.int64)
        mapping[order] = np.arange(k)
        return mapping

    def _centers(self, frame: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
        cols = self._num_kept
        if not cols:
            return pd.DataFrame(index=pd.RangeIndex(self.k_, name="segment"))
        values = self._numeric_matrix(frame, cols)
        values = np.where(np.isnan(values), self._medians[None, :], values)
        centers = pd.DataFrame(values, columns=cols).groupby(labels).mean()
        centers = centers.reindex(range(self.k_))
        centers.index.name = "segment"
        return centers

    def _null_silhouette(self, E: np.ndarray, k: int, rng: np.random.Generator) -> float:
        """Silhouette of k-means with k clusters on Gaussian data shaped like ``E``."""
        if len(E) < 3 or E.shape[1] == 0:
            return math.nan
        with _thread_limit(len(E)):
            mean = E.mean(axis=0)
            cov = np.atleast_2d(np.cov(E, rowvar=False))
        size = min(len(E), _NULL_SAMPLE)
        values = []
        for _ in range(_NULL_REPEATS):
            ref = rng.multivariate_normal(mean, cov, size=size, method="eigh")
            seed = int(rng.integers(0, 2**31 - 1))
            with _threadpools().limit(limits=1):
                labels = KMeans(n_clusters=k, n_init=2, random_state=seed).fit_predict(ref)
                values.append(silhouette_many(ref, [labels])[0])
        return float(np.nanmean(values))

    def _fit_single(self, frame: pd.DataFrame, prepared: _Prepared) -> SegmentationModel:
        self.k_ = 1
        self.method_ = "none"
        self.estimator_ = None
        self._label_map = np.zeros(1, dtype=np.int64)
        self.order_by_ = None
        self.labels_ = pd.Series(0, index=prepared.index, name="segment", dtype="int64")
        self.k_scores_ = pd.DataFrame(
            columns=[
                "silhouette",
                "calinski_harabasz",
                "davies_bouldin",
                "min_share",
                "eligible",
                "rank_score",
                "chosen",
            ],
            index=pd.Index([], name="k", dtype="int64"),
        )
        self.silhouette_ = math.nan
        self.null_silhouette_ = math.nan
        self.meaningful_ = False
        self.stability_ = None
        self.centers_ = self._centers(frame, np.zeros(len(frame), dtype=np.int64))
        return self

    # ------------------------------------------------------------------ use
    def _check_fitted(self) -> None:
        if not hasattr(self, "k_"):
            raise ModelError("this SegmentationModel is not fitted yet; call fit(features) first")

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Segment id of each row of ``X`` (same features as in ``fit``).

        Missing values are imputed with the medians learned in ``fit``. Use it to place
        another period's customers in the current segments (see :func:`segment_migration`).

        Returns
        -------
        Series
            ``segment`` (int), indexed like ``X``.
        """
        self._check_fitted()
        frame = _as_frame(X)
        if self.k_ == 1 or self.estimator_ is None:
            return pd.Series(0, index=frame.index, name="segment", dtype="int64")
        prepared = self._prepare(frame)
        raw = np.asarray(self.estimator_.predict(prepared.fit))
        return pd.Series(self._label_map[raw], index=frame.index, name="segment", dtype="int64")

    def fit_predict(self, X: pd.DataFrame, y: Any = None) -> pd.Series:
        """``fit(X).labels_``."""
        return self.fit(X).labels_

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The scaled feature space the model clusters in (for :func:`projection_2d`).

        Numeric features are imputed and scaled; for k-prototypes each categorical level
        is a column worth ``sqrt(gamma / 2)``, so squared Euclidean distance equals the
        k-prototypes dissimilarity.
        """
        self._check_fitted()
        frame = _as_frame(X)
        prepared = self._prepare(frame)
        columns = list(self._num_kept)
        for column in self._cat_kept:
            columns += [f"{column}={level}" for level in self._levels[column]]
        return pd.DataFrame(prepared.metric, index=frame.index, columns=columns)

    @property
    def summary(self) -> pd.Series:
        """Key figures of the fit: method, k, silhouette, reference, meaningful, stability."""
        self._check_fitted()
        stab = self.stability_
        return pd.Series(
            {
                "method": self.method_,
                "k": self.k_,
                "n_customers": self.n_customers_,
                "n_features": len(self.features_),
                "silhouette": self.silhouette_,
                "null_silhouette": self.null_silhouette_,
                "meaningful": self.meaningful_,
                "mean_ari": stab.mean_ari if stab else math.nan,
                "stable": stab.stable if stab else None,
            },
            name="segmentation",
        )

    def notes_text(self, language: str = "en") -> list[str]:
        """The fit's notes (``notes_``) as sentences from the message catalog."""
        self._check_fitted()
        out = []
        for key, values in self.notes_:
            values = dict(values)
            if "reason" in values:
                values["reason"] = t(f"segmentation.reason.{values['reason']}", language)
            out.append(t(key, language, **values))
        return out


class _Clock:
    """Record wall time per phase of ``fit`` into a dict (seconds)."""

    def __init__(self, store: dict[str, float]) -> None:
        self.store = store
        self.last = time.perf_counter()

    def __call__(self, phase: str, since: float | None = None) -> None:
        now = time.perf_counter()
        self.store[phase] = round(now - (self.last if since is None else since), 4)
        self.last = now


def _thread_limit(n_rows: int):
    """One OpenMP/BLAS thread for problems of up to ``_SINGLE_THREAD_ROWS`` rows.

    Lloyd iterations and the small matrix products of k-means++ on a few thousand rows
    are dominated by thread synchronisation; on a busy machine (reports run in parallel)
    multi-threading makes them 10-30x slower, never faster. Large fits keep the defaults.
    """
    if n_rows <= _SINGLE_THREAD_ROWS:
        return _threadpools().limit(limits=1)
    return nullcontext()


@cache
def _threadpools() -> ThreadpoolController:
    # Inspecting the loaded thread pools takes ~5 ms (more in a kernel with many
    # libraries); threadpool_limits() does it on every call, a fit enters ~50 limits.
    return ThreadpoolController()


def _seed_entropy(random_state: Any) -> int | None:
    if random_state is None:
        return None
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return int(random_state)


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim != 2:
        raise DataError(f"features must be a 2-D table, got shape {array.shape}", file="features")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


# =========================================================================== profiles
def _aligned(
    features: pd.DataFrame, labels: pd.Series | np.ndarray, name: str = "features"
) -> tuple[pd.DataFrame, pd.Series]:
    """Features and labels on the same rows (labels by index when a Series)."""
    if isinstance(labels, pd.Series):
        common = features.index.intersection(labels.index, sort=False)
        if len(common) == 0:
            raise DataError("labels share no index values (customer ids) with the table", file=name)
        labels = labels.loc[common]
        features = features.loc[common]
    else:
        labels = np.asarray(labels)
        if len(labels) != len(features):
            raise DataError(f"{len(labels)} labels for {len(features)} rows", file=name)
        labels = pd.Series(labels, index=features.index)
    labels = labels.rename("segment")
    keep = labels.notna().to_numpy()
    return features.loc[keep], labels.loc[keep].astype("int64")


def _numeric_columns(features: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        missing = [c for c in columns if c not in features.columns]
        if missing:
            raise DataError("column not found", file="features", column=missing[0])
        return list(columns)
    # dtypes, not features[c]: each column Series would deep-copy the frame's attrs
    dtypes = features.dtypes
    return [
        c
        for c in features.columns
        if pd.api.types.is_numeric_dtype(dtypes[c]) and not pd.api.types.is_bool_dtype(dtypes[c])
    ]


def segment_profiles(
    features: pd.DataFrame,
    labels: pd.Series | np.ndarray,
    *,
    revenue_col: str = "monetary",
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Size, revenue and feature means of each segment.

    Parameters
    ----------
    features
        One row per customer (index customer_id).
    labels
        Segment per customer: a Series aligned by index, or an array in row order.
    revenue_col
        Column summed into ``revenue`` (skipped when absent).
    columns
        Feature columns to average; default all numeric columns.

    Returns
    -------
    DataFrame
        Index ``segment``; columns ``n_customers``, ``share_customers``, ``revenue``,
        ``share_revenue``, ``revenue_per_customer`` (when ``revenue_col`` exists), then the
        mean of each feature. ``attrs["overall_mean"]`` / ``attrs["overall_std"]`` hold the
        whole population's mean and standard deviation (used by :func:`segment_names`).

    Examples
    --------
    >>> segment_profiles(feats, model.labels_)[["n_customers", "share_revenue"]]  # doctest: +SKIP
    """
    features, labels = _aligned(features, labels)
    cols = _numeric_columns(features, columns)
    groups = features.groupby(labels.to_numpy())
    out = pd.DataFrame({"n_customers": groups.size()})
    out["share_customers"] = out["n_customers"] / out["n_customers"].sum()
    if revenue_col in features.columns:
        revenue = groups[revenue_col].sum()
        out["revenue"] = revenue
        total = revenue.sum()
        out["share_revenue"] = revenue / total if total else math.nan
        out["revenue_per_customer"] = revenue / out["n_customers"]
    means = groups[cols].mean()
    out = out.join(means.drop(columns=[c for c in means.columns if c in out.columns]))
    out.index.name = "segment"
    out.attrs["overall_mean"] = features[cols].mean()
    out.attrs["overall_std"] = features[cols].std()
    return out


def zscore_profile(
    features: pd.DataFrame, labels: pd.Series | np.ndarray, *, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Segment means as z-scores of the whole population (for the profile heatmap).

    ``(mean in segment - overall mean) / overall standard deviation``; 0 for constant
    features. Index ``segment``, one column per feature.
    """
    features, labels = _aligned(features, labels)
    cols = _numeric_columns(features, columns)
    data = features[cols].astype("float64")
    std = data.std().replace(0.0, np.nan)
    z = (data.groupby(labels.to_numpy()).mean() - data.mean()) / std
    z = z.fillna(0.0)
    z.index.name = "segment"
    return z


def distinguishing_features(
    features: pd.DataFrame,
    labels: pd.Series | np.ndarray,
    *,
    top: int = 3,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The features that set each segment apart from the other customers.

    Standardized mean difference (Cohen's d with the average of the two variances, as in
    Austin 2009): ``(mean_in - mean_rest) / sqrt((var_in + var_rest) / 2)``; features are
    ranked by its absolute value (ties by name).

    Returns
    -------
    DataFrame
        Columns ``segment``, ``rank`` (1 = most distinguishing), ``feature``, ``smd``,
        ``segment_mean``, ``rest_mean``, ``direction`` (``"higher"`` / ``"lower"``).
    """
    features, labels = _aligned(features, labels)
    cols = _numeric_columns(features, columns)
    values = features[cols].to_numpy(dtype=np.float64, na_value=np.nan)
    segments, codes = np.unique(labels.to_numpy(), return_inverse=True)
    # Counts, sums and sums of squares per segment and column in one pass (matrix products
    # with the segment indicator), the rest of the customers as total minus segment; the
    # values are centred on the column means first so the variances lose no precision.
    # Missing values are left out of each column, as pandas' mean() and var() do.
    valid = np.isfinite(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
        centre = np.nan_to_num(np.nanmean(np.where(valid, values, np.nan), axis=0))
    centred = np.where(valid, values - centre, 0.0)
    indicator = np.zeros((len(codes), len(segments)))
    indicator[np.arange(len(codes)), codes] = 1.0
    n_in = indicator.T @ valid
    sum_in = indicator.T @ centred
    sq_in = indicator.T @ (centred * centred)
    n_out, sum_out, sq_out = (
        total.sum(axis=0) - part
        for total, part in ((valid, n_in), (centred, sum_in), (centred * centred, sq_in))
    )

    def moments(n: np.ndarray, total: np.ndarray, squares: np.ndarray):
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = total / n
            var = (squares - total * mean) / (n - 1)  # sample variance (ddof 1)
        var = np.where(n > 1, np.maximum(var, 0.0), 0.0)  # undefined: 0, like fillna(0)
        return mean + centre, var

    mean_in, var_in = moments(n_in, sum_in, sq_in)
    mean_out, var_out = moments(n_out, sum_out, sq_out)
    pooled = np.sqrt((var_in + var_out) / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        smd_all = np.where(pooled > 0, (mean_in - mean_out) / pooled, np.nan)
    smd_all = np.nan_to_num(smd_all, nan=0.0)
    rows = []
    for i, segment in enumerate(segments):
        if (codes == i).all():
            continue
        smd = dict(zip(cols, smd_all[i], strict=True))
        ranked = sorted(cols, key=lambda c: (-abs(smd[c]), c))[:top]
        for rank, column in enumerate(ranked, start=1):
            j = cols.index(column)
            rows.append(
                (
                    int(segment),
                    rank,
                    column,
                    float(smd[column]),
                    float(mean_in[i, j]),
                    float(mean_out[i, j]),
                    "higher" if smd[column] >= 0 else "lower",
                )
            )
    return pd.DataFrame(
        rows,
        columns=["segment", "rank", "feature", "smd", "segment_mean", "rest_mean", "direction"],
    )


_DEFAULT_COMPOSITION = ("customer_type", "region", "city", "gender", "income_band", "age")


def composition(
    customers: pd.DataFrame,
    labels: pd.Series,
    by: Sequence[str] | None = None,
    *,
    max_levels: int = 12,
) -> pd.DataFrame:
    """Who is in each segment: the mix of customer attributes per segment.

    Parameters
    ----------
    customers
        Customers table with ``customer_id`` (column or index).
    labels
        Segment per customer, indexed by customer_id.
    by
        Attribute columns; ``None`` uses those of ``customer_type, region, city, gender,
        income_band, age`` that exist. Numeric columns with more than ``max_levels``
        distinct values are cut into quintile bands. Missing values count as ``"(missing)"``.

    Returns
    -------
    DataFrame
        Long table: ``segment``, ``attribute``, ``value``, ``n``, ``share`` (within the
        segment), ``overall_share``, ``index`` (share / overall share x 100).

    Raises
    ------
    DataError
        If a requested column is missing or labels are not indexed by customer_id.
    """
    table = customers
    if "customer_id" in table.columns:
        table = table.drop_duplicates("customer_id").set_index("customer_id")
    table = table.set_axis(table.index.astype(str))  # a new frame: the input is not changed
    if not isinstance(labels, pd.Series):
        raise DataError("labels must be a Series indexed by customer_id", file="labels")
    labels = labels.set_axis(labels.index.astype(str))
    if by is None:
        by = [c for c in _DEFAULT_COMPOSITION if c in table.columns]
    else:
        missing = [c for c in by if c not in table.columns]
        if missing:
            raise DataError("column not found", file="customers", column=missing[0])
    joined = table.reindex(labels.index)
    rows = []
    for attribute in by:
        values = joined[attribute]
        if pd.api.types.is_numeric_dtype(values) and values.nunique() > max_levels:
            values = pd.qcut(values, 5, duplicates="drop").astype(str)
            values = values.where(joined[attribute].notna(), None)
        values = values.astype("object").where(values.notna(), "(missing)").astype(str)
        frame = pd.DataFrame({"segment": labels.to_numpy(), "value": values.to_numpy()})
        counts = frame.groupby(["segment", "value"]).size().rename("n").reset_index()
        seg_total = counts.groupby("segment")["n"].transform("sum")
        overall = frame["value"].value_counts(normalize=True)
        counts["share"] = counts["n"] / seg_total
        counts["overall_share"] = counts["value"].map(overall)
        counts["index"] = counts["share"] / counts["overall_share"] * 100.0
        counts.insert(1, "attribute", attribute)
        rows.append(counts)
    if not rows:
        return pd.DataFrame(
            columns=["segment", "attribute", "value", "n", "share", "overall_share", "index"]
        )
    return pd.concat(rows, ignore_index=True)


def projection_2d(
    X_scaled: pd.DataFrame | np.ndarray,
    labels: pd.Series | np.ndarray,
    *,
    sample: int | None = 5000,
    fit_sample: int | None = PROJECTION_FIT_SAMPLE,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Two principal components of the scaled features, for a scatter plot of segments.

    PCA is fitted on all rows, or on a fixed-seed sample of ``fit_sample`` rows when there
    are more (the axes of 20,000 rows match those of every row to a few thousandths); a
    fixed-seed sample of ``sample`` rows is returned (all rows when ``sample`` is None or
    larger). ``attrs["explained_variance_ratio"]`` holds the share of variance of each
    component.

    Returns
    -------
    DataFrame
        Columns ``pc1``, ``pc2``, ``segment``; index of ``X_scaled`` (row order kept).
    """
    frame = _as_frame(X_scaled)
    frame, labels = _aligned(frame, labels, name="X_scaled")
    values = frame.to_numpy(dtype=np.float64)
    n = len(values)
    rng = np.random.default_rng(random_state)
    keep = np.arange(n)
    if sample is not None and n > sample:
        keep = np.sort(rng.choice(n, sample, replace=False))
    fit_rows = None  # every row
    if fit_sample is not None and n > fit_sample:
        fit_rows = np.sort(rng.choice(n, fit_sample, replace=False))
    n_comp = min(2, values.shape[1], n)
    coords = np.zeros((len(keep), 2))
    ratio = np.zeros(2)
    if n_comp >= 1 and n > 1:
        fitted = values if fit_rows is None else values[fit_rows]
        # many more rows than columns: the eigenvectors of the d x d covariance matrix
        # are the components (same result as the SVD of the n x d data, ~10x faster)
        solver = "covariance_eigh" if len(fitted) >= 10 * values.shape[1] else "full"
        pca = PCA(n_components=n_comp, svd_solver=solver, random_state=0)
        with _thread_limit(len(fitted)):
            if fit_rows is None:
                coords[:, :n_comp] = pca.fit_transform(values)[keep]
            else:
                pca.fit(fitted)
                coords[:, :n_comp] = pca.transform(values[keep])
        ratio[:n_comp] = pca.explained_variance_ratio_
    out = pd.DataFrame(
        {"pc1": coords[:, 0], "pc2": coords[:, 1], "segment": labels.to_numpy()[keep]},
        index=frame.index[keep],
    )
    out.attrs["explained_variance_ratio"] = ratio.tolist()
    return out


# =========================================================================== names
# (trait, candidate columns in order of preference, sign): sign +1 means the trait
# applies when the segment is above average, -1 below.
_TRAITS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("frequent", ("log_frequency", "frequency"), +1),
    ("occasional", ("log_frequency", "frequency"), -1),
    ("lapsing", ("log_recency", "recency_days"), +1),
    ("recent", ("log_recency", "recency_days"), -1),
    ("new", ("tenure_days",), -1),
    ("longstanding", ("tenure_days",), +1),
    ("big_ticket", ("log_avg_order_value", "avg_order_value"), +1),
    ("small_basket", ("log_avg_order_value", "avg_order_value"), -1),
    ("discount", ("discount_share",), +1),
    ("returns", ("return_rate",), +1),
    ("complaints", ("complaints",), +1),
    ("dissatisfied", ("satisfaction",), -1),
    ("satisfied", ("satisfaction",), +1),
)
_TRAIT_MIN_Z = 0.3
_VALUE_Z = 0.5
_VALUE_COLUMNS = ("log_monetary", "monetary")
#: Average days since the last purchase from which a segment's name says it is lapsed,
#: whatever else sets it apart: half a year without a purchase is what a manager calls
#: lapsed, also where most customers buy rarely (so the population mean is high too).
LAPSED_DAYS = 180
#: Average days since the last purchase up to which a segment may be called recently
#: active (below the population mean is not enough when everybody's last purchase is old).
RECENT_DAYS = 90


def segment_names(
    profile: pd.DataFrame,
    language: str = "en",
    *,
    zscores: pd.DataFrame | None = None,
    overrides: Mapping[int, str] | None = None,
    share_labels: Mapping[str, str] | None = None,
    scheme: str = "transactional",
) -> pd.Series:
    """Readable, unique segment names built from the profiles.

    A name is ``<value level> <main trait>`` from the message catalog, e.g. "High-value
    frequent buyers" / "高价值高频客户". The value level is the segment's z-score of
    ``log_monetary`` (``monetary`` if absent; the log keeps a few very large customers
    from making every other segment "low"): >= 0.5 high, <= -0.5 low, otherwise mid.
    The main trait is the behaviour with the largest z-score in
    its direction (frequent/occasional, lapsing/recent, new/long-standing,
    big-ticket/small-basket, discount-driven, returns, complaints, (dis)satisfied), if at
    least 0.3; otherwise "customers". The name fits the segment's recency in days
    (``recency_days`` of the profile, when it has it): a segment whose customers bought on
    average :data:`LAPSED_DAYS` or more days ago is called lapsed ("Mid-value
    complaint-prone customers, lapsed"), and only one within :data:`RECENT_DAYS` days is
    called recently active. Names that would repeat get what sets each apart from the
    others of that name (the trait or category/channel share, ``share_labels``, most above
    their mean, by at least 0.3 standard deviations: "Low-value occasional buyers, mostly
    app"), rather than a trait they share; failing that, their next trait; failing that,
    the segment id.

    Parameters
    ----------
    profile
        Output of :func:`segment_profiles`.
    language
        Catalog language (``"en"`` or ``"zh"``).
    zscores
        Output of :func:`zscore_profile`; by default computed from the profile's
        ``attrs["overall_mean"]`` / ``attrs["overall_std"]``.
    overrides
        Segment id -> name, replacing generated names (e.g. from params).
    share_labels
        Share column -> the readable value it is the share of (``{"share_ch_app": "App"}``),
        for telling apart segments whose trait names are the same.
    scheme
        ``"subscription"`` when the unit's purchases are regular bills
        (:func:`analysis.lifecycle.billing_cycle`): the traits are then named in bill and
        plan words ("High-value high-bill subscribers", not "big-ticket buyers").

    Returns
    -------
    Series
        ``segment_name`` indexed by segment id.

    Raises
    ------
    ParamsError
        If z-scores cannot be derived, an override names an unknown segment, or the
        overrides make two names equal.
    """
    segments = list(profile.index)
    if zscores is None:
        mean, std = profile.attrs.get("overall_mean"), profile.attrs.get("overall_std")
        if mean is None or std is None:
            raise ParamsError(
                "segment_names needs z-scores: pass zscores=zscore_profile(features, labels) "
                "or a profile from segment_profiles()"
            )
        cols = [c for c in mean.index if c in profile.columns]
        zscores = ((profile[cols] - mean[cols]) / std[cols].replace(0.0, np.nan)).fillna(0.0)
    if len(segments) == 1:
        names = {segments[0]: t("segmentation.name.all", language)}
    else:
        names = _generate_names(
            profile, zscores, segments, language, share_labels or {}, scheme=scheme
        )
    if overrides:
        unknown = [s for s in overrides if s not in names]
        if unknown:
            raise ParamsError(
                f"segment name override for unknown segment(s) {unknown}; segments are {segments}"
            )
        names.update({s: str(v) for s, v in overrides.items()})
        if len(set(names.values())) < len(names):
            raise ParamsError(f"segment names must be unique, got {list(names.values())}")
    return pd.Series(names, name="segment_name").rename_axis("segment")


def _generate_names(
    profile: pd.DataFrame,
    zscores: pd.DataFrame,
    segments: list,
    language: str,
    share_labels: Mapping[str, str],
    *,
    scheme: str = "transactional",
) -> dict:
    billed = "_subscription" if scheme == "subscription" else ""

    def word(kind: str, trait: str) -> str:
        """A trait's noun (``kind="trait"``) or adjective (``"adj"``) in the unit's words."""
        return t(f"segmentation.name.{kind}{billed}.{trait}", language)

    value_col = next((c for c in _VALUE_COLUMNS if c in zscores.columns), None)
    days = profile["recency_days"] if "recency_days" in profile.columns else None
    ranked: dict = {}
    lapsed: dict = {}
    for seg in segments:
        vz = float(zscores.loc[seg, value_col]) if value_col and seg in zscores.index else 0.0
        level = "high" if vz >= _VALUE_Z else "low" if vz <= -_VALUE_Z else "mid"
        recency = float(days[seg]) if days is not None and seg in days.index else math.nan
        lapsed[seg] = bool(recency >= LAPSED_DAYS)
        traits = []
        for trait, cols, sign in _TRAITS:
            col = next((c for c in cols if c in zscores.columns), None)
            if col is None or seg not in zscores.index:
                continue
            if trait == "recent" and recency > RECENT_DAYS:
                continue  # below average, but not recent: no "recently active" name
            score = sign * float(zscores.loc[seg, col])
            if score >= _TRAIT_MIN_Z:
                traits.append((score, "lapsed" if trait == "lapsing" and lapsed[seg] else trait))
        traits.sort(key=lambda x: -x[0])  # stable: ties keep the _TRAITS order
        ranked[seg] = (level, [tr for _, tr in traits])

    def said(seg) -> set[str]:
        """The traits the base name says: the main one and the recency."""
        traits = ranked[seg][1]
        return {*traits[:1], *(["lapsed"] if lapsed[seg] else [])}

    def apart(seg, group: list) -> str | None:
        """What sets ``seg`` apart from the other segments it would share a name with: the
        trait (not already named) or category/channel share most above their mean."""
        others = [g for g in group if g != seg]
        named = {"lapsing" if tr == "lapsed" else tr for tr in said(seg)}
        named_columns = {cols for trait, cols, _ in _TRAITS if trait in named}
        best, phrase = _TRAIT_MIN_Z, None
        for trait, cols, sign in _TRAITS:
            col = next((c for c in cols if c in zscores.columns), None)
            if col is None or cols in named_columns:
                continue
            if trait == "recent" and not (days is None or float(days[seg]) <= RECENT_DAYS):
                continue
            gap = sign * float(zscores.loc[seg, col] - zscores.loc[others, col].mean())
            if gap > best:
                best, phrase = gap, word("adj", trait)
        for col, label in share_labels.items():
            if col in zscores.columns:
                gap = float(zscores.loc[seg, col] - zscores.loc[others, col].mean())
                if gap > best:
                    best, phrase = gap, t("segmentation.name.mostly", language, value=label)
        return phrase

    extras: dict = {}

    def name(seg, depth: int) -> str:
        """Depth 0: value level, main trait and recency; 1: plus what sets the segment
        apart from the others of its name (else its second trait); 2: plus the second
        trait; 3: plus the id."""
        level, traits = ranked[seg]
        value = t(f"segmentation.name.value.{level}", language)
        main = traits[0] if traits else "typical"
        text = t("segmentation.name.pattern", language, value=value, trait=word("trait", main))
        second = next((tr for tr in traits[1:] if tr not in said(seg)), None)
        added = []
        if depth >= 1 and extras.get(seg):
            added.append(extras[seg])
        if second is not None and (depth >= 2 or (depth == 1 and not extras.get(seg))):
            added.append(word("adj", second))
        if lapsed[seg] and main != "lapsed":
            added.append(word("adj", "lapsed"))
        for extra in added:
            text = t("segmentation.name.extended", language, name=text, extra=extra)
        if depth >= 3:
            text = t("segmentation.name.numbered", language, name=text, id=seg)
        return text

    depth = dict.fromkeys(segments, 0)
    for _ in range(4):
        names = {s: name(s, depth[s]) for s in segments}
        seen: dict[str, list] = {}
        for s, text in names.items():
            seen.setdefault(text, []).append(s)
        clashes = [group for group in seen.values() if len(group) > 1]
        if not clashes:
            return names
        for group in clashes:
            for s in group:
                if depth[s] == 0:
                    extras[s] = apart(s, group)
                depth[s] += 1
    return {s: name(s, 3) for s in segments}


# =========================================================================== migration
class MigrationTable(NamedTuple):
    """Customers moving between segments from one period to the next.

    Rows are the previous period's segment (plus ``"new"``: customers only in the current
    period), columns the current segment (plus ``"gone"``: customers only in the previous
    period). ``shares`` divides each row by its total.
    """

    counts: pd.DataFrame
    shares: pd.DataFrame


def segment_migration(prev_labels: pd.Series, cur_labels: pd.Series) -> MigrationTable:
    """Cross-tabulate segment membership of two periods.

    Both periods must be labelled by the *same* fitted model, e.g.
    ``prev = model.predict(features_prev)`` with ``features_prev`` built as of the previous
    period's end (same ``categories=`` / ``channels=``), and ``cur = model.labels_``.

    Parameters
    ----------
    prev_labels, cur_labels
        Segment per customer, indexed by customer_id.

    Returns
    -------
    MigrationTable
        ``counts`` (int) and ``shares`` (row shares; rows with no customers are 0), index
        ``previous`` = segments + ``"new"``, columns ``current`` = segments + ``"gone"``.

    Examples
    --------
    >>> counts, shares = segment_migration(model.predict(prev_feats), model.labels_)  # doctest: +SKIP
    """
    for name, labels in (("prev_labels", prev_labels), ("cur_labels", cur_labels)):
        if not isinstance(labels, pd.Series):
            raise DataError("must be a Series indexed by customer_id", file=name)
        if labels.index.has_duplicates:
            raise DataError(
                "customer ids are duplicated",
                file=name,
                examples=labels.index[labels.index.duplicated()][:3],
            )
    prev = prev_labels.dropna().astype("int64")
    cur = cur_labels.dropna().astype("int64")
    segments = sorted(set(prev.unique()) | set(cur.unique()))
    rows = [*segments, NEW]
    cols = [*segments, GONE]
    # every customer of either period once: the position of its segment, or the last
    # row ("new": not there before) / column ("gone": not there now)
    everyone = prev.index.union(cur.index, sort=False)
    position = pd.Index(segments)
    before = position.get_indexer(prev.reindex(everyone).fillna(-1).astype("int64"))
    after = position.get_indexer(cur.reindex(everyone).fillna(-1).astype("int64"))
    before[before < 0], after[after < 0] = len(segments), len(segments)
    cells = np.bincount(before * len(cols) + after, minlength=len(rows) * len(cols))
    counts = pd.DataFrame(
        cells.reshape(len(rows), len(cols)).astype("int64"),
        index=pd.Index(rows, name="previous", dtype="object"),
        columns=pd.Index(cols, name="current", dtype="object"),
    )
    totals = counts.sum(axis=1).replace(0, np.nan)
    shares = counts.div(totals, axis=0).fillna(0.0)
    return MigrationTable(counts, shares)

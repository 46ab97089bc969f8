"""What is sampled at scale agrees with the full computation (benchmarks/README.md, "What is
sampled at scale"): planted data large enough that every cap applies, the capped result
against the same analysis with the caps lifted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from analysis import segmentation as seg
from analysis.segmentation import SegmentationModel, projection_2d

#: Stated tolerance of the stability index (mean bootstrap ARI): the m-out-of-n bootstrap
#: against the full-size one on the same data.
STABILITY_TOLERANCE = 0.03
FEATS = [f"f{i}" for i in range(5)]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261202)


def blobs(
    rng: np.random.Generator, n: int, sep: float, shares=(4, 3, 2, 1.5)
) -> tuple[pd.DataFrame, np.ndarray]:
    """Unit-variance Gaussian blobs at ``sep`` x the unit vectors of 5-D space (6: well
    separated, 3: moderately overlapping, ARI of the best k-means about 0.89); cluster 0
    has the highest monetary value."""
    k = len(shares)
    centres = sep * np.eye(5)[:k]
    truth = rng.choice(k, size=n, p=np.asarray(shares) / sum(shares))
    frame = pd.DataFrame(centres[truth] + rng.normal(size=(n, 5)), columns=FEATS)
    frame["monetary"] = (k - truth) * 100.0 + rng.normal(scale=5.0, size=n)
    frame.index = pd.Index([f"C{i:06d}" for i in range(n)], name="customer_id")
    return frame, truth


# --------------------------------------------------------------------------- segmentation
@pytest.mark.parametrize("sep", [6.0, 3.0], ids=["separated", "overlapping"])
def test_sampled_segmentation_agrees_with_the_full_fit(rng, sep):
    n = 30_000  # above the selection sample (20,000) and six times the bootstrap sample
    frame, truth = blobs(rng, n, sep)
    options = {"features": FEATS, "k_range": (2, 6), "n_bootstrap": 8, "random_state": 3}
    sampled = SegmentationModel(**options).fit(frame)
    full = SegmentationModel(**options, selection_sample=None, bootstrap_sample=None).fit(frame)
    assert ("segmentation.note.subsample", {"m": 20_000, "n": n}) in sampled.notes_
    assert sampled.k_ == full.k_ == 4
    assert adjusted_rand_score(full.labels_, sampled.labels_) >= 0.98
    assert adjusted_rand_score(truth, sampled.labels_) >= (0.99 if sep == 6.0 else 0.85)
    assert abs(sampled.stability_.mean_ari - full.stability_.mean_ari) <= STABILITY_TOLERANCE
    assert sampled.stability_.stable and full.stability_.stable
    assert sampled.meaningful_ and full.meaningful_
    assert abs(sampled.silhouette_ - full.silhouette_) <= 0.01


def test_bootstrap_draws_the_capped_sample_and_scores_the_selection_sample(rng, monkeypatch):
    frame, _ = blobs(rng, 12_000, 6.0)
    drawn, scored = [], []
    fit_cold = SegmentationModel._fit_cold

    def recording(self, k, seed, Z, rows=None):
        if rows is not None:
            drawn.append(len(rows))
        estimator = fit_cold(self, k, seed, Z, rows=rows)
        if rows is not None:
            predict = estimator.predict
            estimator.predict = lambda X: (scored.append(len(X)), predict(X))[1]
        return estimator

    monkeypatch.setattr(SegmentationModel, "_fit_cold", recording)
    model = SegmentationModel(
        features=FEATS, k=4, n_bootstrap=3, selection_sample=8_000, bootstrap_sample=1_000
    ).fit(frame)
    assert drawn == [1_000] * 3 and scored == [8_000] * 3
    assert len(model.stability_.ari) == 3
    again = SegmentationModel(
        features=FEATS, k=4, n_bootstrap=3, selection_sample=8_000, bootstrap_sample=1_000
    ).fit(frame)
    assert again.stability_.ari == model.stability_.ari  # seeded: reproducible


def test_sampled_bootstrap_still_calls_structureless_data_unstable(rng):
    """Fresh starts on each (capped) resample keep the check honest: uniform noise is not
    'stable' (a refit warm-started from the main centres would call it stable)."""
    frame = pd.DataFrame(rng.uniform(size=(25_000, 5)), columns=FEATS)
    model = SegmentationModel(features=FEATS, k=6, n_bootstrap=8, random_state=1).fit(frame)
    assert model.stability_.mean_ari < 0.8 and not model.stability_.stable
    assert not model.meaningful_


def test_the_default_caps_are_the_documented_sizes():
    model = SegmentationModel()
    assert model.selection_sample == seg.SELECTION_SAMPLE == 20_000
    assert model.silhouette_sample == seg.SILHOUETTE_SAMPLE == 10_000
    assert model.bootstrap_sample == seg.BOOTSTRAP_SAMPLE == 5_000
    assert seg.PROJECTION_FIT_SAMPLE == 20_000


def test_projection_fitted_on_a_sample_matches_the_full_pca(rng):
    frame, truth = blobs(rng, 60_000, 3.0)
    X = frame[FEATS]
    labels = pd.Series(truth, index=frame.index)
    sampled = projection_2d(X, labels, sample=3000, random_state=0)
    full = projection_2d(X, labels, sample=3000, fit_sample=None, random_state=0)
    # the same customers are drawn, the axes agree up to sign
    pd.testing.assert_index_equal(sampled.index, full.index)
    for column in ("pc1", "pc2"):
        r = np.corrcoef(sampled[column], full[column])[0, 1]
        assert abs(r) >= 0.999
    np.testing.assert_allclose(
        sampled.attrs["explained_variance_ratio"], full.attrs["explained_variance_ratio"], atol=0.01
    )
    # and the full one is PCA of every row
    reference = PCA(n_components=2).fit(X.to_numpy()).transform(X.loc[full.index].to_numpy())
    np.testing.assert_allclose(
        np.abs(full[["pc1", "pc2"]].to_numpy()), np.abs(reference), atol=1e-8
    )
    # below the cap nothing is sampled: the same numbers as before the cap existed
    small = X.iloc[:15_000]
    np.testing.assert_array_equal(
        projection_2d(small, labels.iloc[:15_000]).to_numpy(),
        projection_2d(small, labels.iloc[:15_000], fit_sample=None).to_numpy(),
    )


# --------------------------------------------------------------------------- churn risk model
def planted_churn(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """A strong driver (recency), a weaker one (complaints) and two noise columns; the
    true churn log-odds are -1 + 2.5 * recency + 0.8 * complaints."""
    recency = rng.uniform(-1.0, 1.0, size=n)
    complaints = rng.poisson(0.7, size=n).astype(float)
    frame = pd.DataFrame(
        {
            "recency": recency,
            "complaints": complaints,
            "noise_a": rng.normal(size=n),
            "noise_b": rng.uniform(size=n),
        }
    )
    logit = -1.0 + 2.5 * recency + 0.8 * complaints
    frame["churned"] = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    return frame


def test_sampled_importance_and_dependence_agree_with_all_customers(rng):
    """evaluate_risk_model shuffles and sweeps 1,500 sampled customers; on planted data
    the ranking and the partial-dependence curves match those of all 12,000."""
    from analysis.churn import ChurnRiskModel, evaluate_risk_model

    train, test = planted_churn(rng, 12_000), planted_churn(rng, 12_000)
    columns = ["recency", "complaints", "noise_a", "noise_b"]
    model = ChurnRiskModel().fit(train[columns], train["churned"])
    sampled = evaluate_risk_model(model, test[columns], test["churned"])
    full = evaluate_risk_model(model, test[columns], test["churned"], importance_rows=len(test))
    assert sampled.n_ == full.n_ == len(test)  # AUC, calibration and lift use everybody
    assert sampled.auc_ == full.auc_
    ranked = sampled.importance["feature"].tolist()
    assert ranked[:2] == full.importance["feature"].tolist()[:2] == ["recency", "complaints"]
    strong = sampled.importance.set_index("feature")["importance"]
    reference = full.importance.set_index("feature")["importance"]
    assert abs(strong["recency"] - reference["recency"]) <= 0.25 * reference["recency"]
    assert set(sampled.partial_dependence) == set(full.partial_dependence)
    for feature, curve in sampled.partial_dependence.items():
        other = full.partial_dependence[feature]
        # the grids are percentiles of the sample and of everybody: compare on one grid
        values = np.interp(other["value"], curve["value"], curve["churn_probability"])
        inside = (other["value"] >= curve["value"].min()) & (other["value"] <= curve["value"].max())
        assert inside.sum() >= 0.6 * len(other)
        assert np.abs(values[inside] - other["churn_probability"][inside]).max() <= 0.03


@pytest.mark.parametrize("kind", ["boosting", "logistic"])
def test_random_fold_auc_on_a_sample_agrees_with_all_customers(rng, kind):
    from analysis.churn import random_cv_auc

    frame = planted_churn(rng, 24_000)
    sampled = random_cv_auc(frame, "churned", kind=kind, max_rows=8_000)
    full = random_cv_auc(frame, "churned", kind=kind, max_rows=None)
    assert abs(sampled[0] - full[0]) <= 0.015
    assert 0.75 <= full[0] <= 0.9  # the planted signal is found at all
    # below the cap nothing is sampled: the same folds, the same numbers
    small = frame.iloc[:6_000]
    assert random_cv_auc(small, "churned", kind=kind) == random_cv_auc(
        small, "churned", kind=kind, max_rows=None
    )

"""Tests for analysis.segmentation against planted clusters and hand-computed profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, silhouette_score

from analysis.errors import DataError, ModelError, ParamsError
from analysis.segmentation import (
    GONE,
    NEW,
    KPrototypes,
    SegmentationModel,
    _ari,
    composition,
    distinguishing_features,
    projection_2d,
    segment_migration,
    segment_names,
    segment_profiles,
    silhouette_many,
    zscore_profile,
)

FEATS = ["f0", "f1", "f2", "f3"]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


def planted(
    rng: np.random.Generator,
    sizes: tuple[int, ...] = (500, 350, 250, 150),
    *,
    d: int = 4,
    sep: float = 8.0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Well-separated Gaussian blobs at sep * e_i; cluster 0 has the highest monetary."""
    k = len(sizes)
    centers = sep * np.eye(max(d, k))[:k, :d]
    truth = np.repeat(np.arange(k), sizes)
    X = centers[truth] + rng.normal(size=(len(truth), d))
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(d)])
    frame["monetary"] = (k - truth) * 100.0 + rng.normal(scale=5, size=len(truth))
    frame.index = pd.Index([f"C{i:05d}" for i in range(len(frame))], name="customer_id")
    order = rng.permutation(len(frame))  # rows not grouped by cluster
    return frame.iloc[order], truth[order]


def fit(frame: pd.DataFrame, **kwargs) -> SegmentationModel:
    params = {"features": [c for c in frame.columns if c.startswith("f")], "n_bootstrap": 5}
    params.update(kwargs)
    return SegmentationModel(**params).fit(frame)


# --------------------------------------------------------------------------- metrics
def test_silhouette_many_matches_sklearn(rng):
    X = rng.normal(size=(300, 3))
    label_sets = [rng.integers(0, k, size=300) for k in (2, 3, 7)]
    label_sets.append(np.r_[np.zeros(299, int), 5])  # a singleton cluster scores 0
    got = silhouette_many(X, label_sets, chunk_size=64)
    want = [silhouette_score(X, labels) for labels in label_sets]
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.isnan(silhouette_many(X, [np.zeros(300, int)])[0])


def test_silhouette_many_blocks_match_sklearn_on_clusters(rng):
    # clustered points, uneven blocks (the last block of rows and columns is short)
    X = np.r_[rng.normal(size=(150, 2)), rng.normal(loc=6.0, size=(110, 2))]
    label_sets = [np.repeat([0, 1], [150, 110]), rng.integers(0, 4, size=260)]
    for chunk in (32, 100, 260, 1000):
        got = silhouette_many(X, label_sets, chunk_size=chunk)
        np.testing.assert_allclose(
            got, [silhouette_score(X, labels) for labels in label_sets], atol=1e-6
        )


def test_ari_matches_sklearn(rng):
    a = rng.integers(0, 4, size=1000)
    b = np.where(rng.random(1000) < 0.7, a, rng.integers(0, 5, size=1000))
    assert _ari(a, b) == pytest.approx(adjusted_rand_score(a, b))
    assert _ari(a, a) == pytest.approx(1.0)


# --------------------------------------------------------------------------- recovery
@pytest.mark.parametrize("k_rule", ["rank", "silhouette"])
def test_planted_clusters_recovered_and_k_chosen(rng, k_rule):
    frame, truth = planted(rng)
    model = fit(frame, k_rule=k_rule, random_state=1)
    assert model.k_ == 4
    assert adjusted_rand_score(truth, model.labels_) >= 0.9
    assert model.meaningful_
    assert model.stability_.stable and model.stability_.mean_ari >= 0.8
    scores = model.k_scores_
    assert list(scores.index) == list(range(2, 11))
    assert set(scores.columns) >= {
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "min_share",
        "eligible",
        "chosen",
    }
    assert scores["chosen"].sum() == 1 and scores["chosen"].idxmax() == 4
    assert scores.loc[4, "silhouette"] == scores["silhouette"].max()


def test_segment_ids_ordered_by_value_and_deterministic(rng):
    frame, truth = planted(rng)
    first = fit(frame, random_state=7)
    second = fit(frame, random_state=7)
    pd.testing.assert_series_equal(first.labels_, second.labels_)
    # monetary is highest in planted cluster 0, so ids equal the planted labels
    assert (first.labels_.to_numpy() == truth).mean() > 0.99
    means = frame.groupby(first.labels_)["monetary"].mean()
    assert means.is_monotonic_decreasing
    assert first.order_by_ == "monetary"
    # predict reproduces the labels and keeps the index
    pd.testing.assert_series_equal(first.predict(frame), first.labels_)


def test_gaussian_mixture_and_minibatch(rng):
    frame, truth = planted(rng, sizes=(300, 200, 150))
    gmm = fit(frame, method="gmm", k_range=(2, 5), n_bootstrap=3)
    assert gmm.k_ == 3 and gmm.method_ == "gmm"
    assert adjusted_rand_score(truth, gmm.labels_) >= 0.9

    big, big_truth = planted(rng, sizes=(1500, 1000, 500))
    model = fit(big, selection_sample=800, large_data_threshold=2000, k_range=(2, 5))
    assert model.method_ == "minibatch"
    assert model.k_ == 3
    assert adjusted_rand_score(big_truth, model.labels_) >= 0.9
    keys = [key for key, _ in model.notes_]
    assert "segmentation.note.minibatch" in keys and "segmentation.note.subsample" in keys


def test_fixed_k(rng):
    frame, truth = planted(rng)
    model = fit(frame, k=4)
    assert model.k_ == 4 and list(model.k_scores_.index) == [4]
    assert adjusted_rand_score(truth, model.labels_) >= 0.9
    assert fit(frame, k=2).k_ == 2


def test_min_segment_share_rule(rng):
    # three big clusters and one of 2% of customers, all equally far apart
    frame, truth = planted(rng, sizes=(650, 650, 660, 40))
    strict = fit(frame, min_segment_share=0.03)
    assert not strict.k_scores_.loc[4, "eligible"]
    assert strict.k_ == 3
    assert strict.labels_.value_counts(normalize=True).min() >= 0.03
    loose = fit(frame, min_segment_share=0.01)
    assert loose.k_ == 4
    assert adjusted_rand_score(truth, loose.labels_) >= 0.9


def test_no_eligible_k_falls_back_with_note(rng):
    frame, _ = planted(rng, sizes=(300, 300))
    model = fit(frame, k_range=(3, 4), min_segment_share=0.45)
    assert not model.k_scores_["eligible"].any()
    assert model.k_ in (3, 4)
    assert "segmentation.note.no_eligible_k" in [key for key, _ in model.notes_]


# --------------------------------------------------------------------------- no structure
def test_uniform_noise_is_flagged(rng):
    frame = pd.DataFrame(rng.uniform(size=(1500, 5)), columns=[f"f{i}" for i in range(5)])
    model = fit(frame, n_bootstrap=10)
    assert not (model.meaningful_ and model.stability_.stable)
    assert model.silhouette_ - model.null_silhouette_ < 0.05 or not model.stability_.stable


def test_single_gaussian_blob_is_not_meaningful(rng):
    frame = pd.DataFrame(rng.normal(size=(1500, 3)), columns=["f0", "f1", "f2"])
    model = fit(frame)
    assert not model.meaningful_
    assert "segmentation.note.not_meaningful" in [key for key, _ in model.notes_]


def test_all_customers_alike_gives_one_segment():
    frame = pd.DataFrame({"f0": [1.0] * 50, "f1": [2.0] * 50})
    model = fit(frame)
    assert model.k_ == 1 and not model.meaningful_
    assert (model.labels_ == 0).all()
    assert model.dropped_features_ == {"f0": "constant", "f1": "constant"}
    assert (model.predict(frame) == 0).all()
    assert "segmentation.note.no_features" in [key for key, _ in model.notes_]


# --------------------------------------------------------------------------- edge cases
def test_fewer_customers_than_k():
    frame = pd.DataFrame({"f0": [0.0, 0.0, 10.0, 10.0, 20.0], "f1": [1.0, 1.0, 5.0, 5.0, 9.0]})
    model = fit(frame, k=5)
    assert model.k_ == 3  # three distinct customers
    assert (
        "segmentation.note.k_reduced",
        {"requested": 5, "k": 3, "n_distinct": 3},
    ) in model.notes_
    assert model.labels_.nunique() == 3
    single = fit(frame.iloc[:1])
    assert single.k_ == 1 and not single.meaningful_


def test_constant_and_missing_features(rng):
    frame, truth = planted(rng)
    frame = frame.copy()
    frame["const"] = 3.0
    frame["empty"] = np.nan
    holes = rng.random(len(frame)) < 0.1
    frame.loc[holes, "f0"] = np.nan
    frame.iloc[:5, frame.columns.get_loc("f1")] = np.inf
    mostly = rng.random(len(frame)) < 0.8
    frame["sparse"] = np.where(mostly, np.nan, rng.normal(size=len(frame)))
    model = fit(frame, features=[*FEATS, "const", "empty", "sparse"])
    assert model.dropped_features_ == {
        "const": "constant",
        "empty": "all_missing",
        "sparse": "mostly_missing",
    }
    assert model.features_ == FEATS
    assert model.imputation_.loc["f0", "n_missing"] == holes.sum()
    assert model.imputation_.loc["f1", "n_missing"] == 5  # infinities count as missing
    assert model.imputation_.loc["f0", "fill_value"] == pytest.approx(
        frame["f0"].median(), rel=1e-12
    )
    assert model.imputation_.loc["f2", "n_missing"] == 0
    assert adjusted_rand_score(truth, model.labels_) >= 0.9
    texts = model.notes_text("en")
    assert any("f0" in text and "median" in text for text in texts)
    assert any("const" in text for text in model.notes_text("zh"))


def test_errors_name_the_problem(rng):
    frame, _ = planted(rng, sizes=(50, 50))
    with pytest.raises(ParamsError, match="method must be one of"):
        SegmentationModel(method="dbscan").fit(frame)
    with pytest.raises(ParamsError, match="k_range"):
        SegmentationModel(k_range=(1, 4)).fit(frame)
    with pytest.raises(ParamsError, match="categorical_features"):
        SegmentationModel(method="kprototypes").fit(frame)
    with pytest.raises(DataError, match="'nope'"):
        SegmentationModel(features=["f0", "nope"]).fit(frame)
    with pytest.raises(DataError, match="not numeric"):
        SegmentationModel(features=["f0", "kind"]).fit(frame.assign(kind="a"))
    with pytest.raises(DataError, match="empty"):
        SegmentationModel(features=["f0"]).fit(frame.iloc[:0])
    with pytest.raises(ModelError, match="not fitted"):
        SegmentationModel().predict(frame)
    model = fit(frame, k=2, n_bootstrap=0)
    with pytest.raises(DataError, match="f1"):
        model.predict(frame.drop(columns="f1"))


def test_get_set_params_and_init_has_no_logic():
    model = SegmentationModel(k=3, method="nonsense")  # validated in fit, not __init__
    assert model.get_params()["k"] == 3
    model.set_params(method="gmm")
    assert model.method == "gmm"
    with pytest.raises(ParamsError, match="unknown"):
        model.set_params(colour="red")


# --------------------------------------------------------------------------- k-prototypes
def planted_mixed(rng, n_per: int = 250):
    """Clusters 0 and 1 share their numeric centre and differ only in two categories."""
    truth = np.repeat([0, 1, 2], n_per)
    centers = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]])
    num = centers[truth] + rng.normal(size=(len(truth), 2))

    def noisy(levels: list[str]) -> np.ndarray:
        values = np.array(levels)[truth]
        flip = rng.random(len(truth)) < 0.08
        return np.where(flip, rng.choice(levels, size=len(truth)), values)

    frame = pd.DataFrame(
        {
            "f0": num[:, 0],
            "f1": num[:, 1],
            "kind": noisy(["x", "y", "z"]),
            "tier": noisy(["gold", "silver", "bronze"]),
            # uninformative: six equally likely levels (a binary noise column would be
            # as easy to "cluster" as the planted one; any categorical split is clean)
            "noise": rng.choice(list("pqrstu"), size=len(truth)),
        }
    )
    return frame, truth


def test_kprototypes_recovers_mixed_clusters(rng):
    frame, truth = planted_mixed(rng)
    model = fit(
        frame,
        method="kprototypes",
        categorical_features=["kind", "tier", "noise"],
        features=["f0", "f1"],
        k=3,
    )
    # (automatic k picks 2 here: the numeric split {0, 1} vs {2} is the dominant level of
    # this nested structure, and the internal indices reward it)
    assert adjusted_rand_score(truth, model.labels_) >= 0.9
    # numeric features alone cannot split clusters 0 and 1
    numeric_only = fit(frame, features=["f0", "f1"], k=3)
    assert adjusted_rand_score(truth, numeric_only.labels_) < 0.75
    emb = model.transform(frame)
    assert {"kind=x", "kind=y", "kind=z"} <= set(emb.columns)
    pd.testing.assert_series_equal(model.predict(frame), model.labels_)


def test_kprototypes_estimator_directly(rng):
    frame, truth = planted_mixed(rng, n_per=120)
    codes = [pd.Categorical(frame[c]).codes for c in ("kind", "tier")]
    X = np.column_stack([frame[["f0", "f1"]].to_numpy(), *codes])
    default = KPrototypes(3, categorical=[2, 3], random_state=0).fit(X)
    assert default.gamma_ == pytest.approx(0.5 * X[:, :2].std(axis=0).mean())
    # unscaled numeric columns: a mismatch must weigh more to split clusters 0 and 1
    km = KPrototypes(3, categorical=[2, 3], gamma=4.0, random_state=0).fit(X)
    assert adjusted_rand_score(truth, km.labels_) >= 0.85
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    # cost as defined by Huang (1997)
    cost = ((X[:, :2] - km.centers_num_[km.labels_]) ** 2).sum() + km.gamma_ * (
        X[:, 2:].astype(int) != km.centers_cat_[km.labels_]
    ).sum()
    assert km.cost_ == pytest.approx(cost)
    cat_only = KPrototypes(2, categorical=[0], random_state=0).fit(
        np.repeat([[0], [1]], 30, axis=0).astype(float)
    )
    assert sorted(np.bincount(cat_only.labels_)) == [30, 30]


# --------------------------------------------------------------------------- profiles
@pytest.fixture
def tiny() -> tuple[pd.DataFrame, pd.Series]:
    features = pd.DataFrame(
        {"monetary": [10.0, 20.0, 30.0, 40.0], "x": [1.0, 1.0, 3.0, 5.0]},
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )
    labels = pd.Series([0, 0, 1, 1], index=features.index, name="segment")
    return features, labels


def test_segment_profiles_by_hand(tiny):
    features, labels = tiny
    prof = segment_profiles(features, labels)
    assert list(prof["n_customers"]) == [2, 2]
    assert list(prof["share_customers"]) == [0.5, 0.5]
    assert prof["revenue"].tolist() == [30.0, 70.0]
    np.testing.assert_allclose(prof["share_revenue"], [0.3, 0.7])
    assert prof["revenue_per_customer"].tolist() == [15.0, 35.0]
    assert prof["x"].tolist() == [1.0, 4.0]
    # labels aligned by index, not by position
    shuffled = labels.iloc[::-1]
    pd.testing.assert_frame_equal(segment_profiles(features, shuffled), prof)


def test_zscore_profile_by_hand(tiny):
    features, labels = tiny
    z = zscore_profile(features, labels)
    sd = np.std([1, 1, 3, 5], ddof=1)
    assert z.loc[0, "x"] == pytest.approx((1 - 2.5) / sd)
    assert z.loc[1, "x"] == pytest.approx((4 - 2.5) / sd)
    constant = zscore_profile(features.assign(c=1.0), labels)
    assert (constant["c"] == 0).all()


def test_distinguishing_features_by_hand(tiny):
    features, labels = tiny
    table = distinguishing_features(features, labels, top=1, columns=["x"])
    row = table[table["segment"] == 0].iloc[0]
    # in: mean 1, var 0; rest: mean 4, var 2 -> d = -3 / sqrt((0 + 2) / 2)
    assert row["feature"] == "x" and row["smd"] == pytest.approx(-3.0)
    assert row["direction"] == "lower" and row["rank"] == 1


def test_distinguishing_features_finds_planted_feature(rng):
    n = 600
    labels = pd.Series(np.repeat([0, 1, 2], n // 3))
    features = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    features.loc[labels == 1, "b"] += 3
    features.loc[labels == 2, "c"] -= 2
    table = distinguishing_features(features, labels, top=2)
    top = table[table["rank"] == 1].set_index("segment")
    assert top.loc[1, "feature"] == "b" and top.loc[1, "direction"] == "higher"
    assert top.loc[2, "feature"] == "c" and top.loc[2, "direction"] == "lower"


def test_distinguishing_features_equal_the_per_segment_pandas_computation(rng):
    """The one-pass moments give the numbers of pandas' mean() and var() per segment and
    rest (missing values left out, a one-customer segment's variance taken as 0)."""
    n = 3000
    labels = pd.Series(rng.choice([0, 1, 2], size=n, p=[0.5, 0.3, 0.2]))
    labels.iloc[7] = 3  # a segment of one customer
    features = pd.DataFrame(
        {"a": rng.normal(1000, 300, n), "b": rng.exponential(size=n), "c": rng.normal(size=n)}
    )
    features.loc[rng.random(n) < 0.2, "b"] = np.nan
    features["c"] += 2.0 * (labels == 2)
    table = distinguishing_features(features, labels, top=3).set_index(["segment", "feature"])
    for segment in range(4):
        inside = (labels == segment).to_numpy()
        a, b = features[inside], features[~inside]
        pooled = np.sqrt((a.var().fillna(0) + b.var().fillna(0)) / 2.0)
        smd = ((a.mean() - b.mean()) / pooled.replace(0.0, np.nan)).fillna(0.0)
        for column in features.columns:
            row = table.loc[(segment, column)]
            assert row["smd"] == pytest.approx(smd[column], rel=1e-9, abs=1e-12)
            assert row["segment_mean"] == pytest.approx(a[column].mean(), rel=1e-12)
            assert row["rest_mean"] == pytest.approx(b[column].mean(), rel=1e-12)
    assert table.loc[(2, "c"), "direction"] == "higher"


def test_composition():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "customer_type": ["individual", "individual", "enterprise", None],
            "region": ["north", "south", "north", "north"],
        }
    )
    labels = pd.Series([0, 0, 1, 1], index=["a", "b", "c", "d"])
    table = composition(customers, labels)
    assert set(table["attribute"]) == {"customer_type", "region"}
    row = table.query("segment == 0 and attribute == 'customer_type' and value == 'individual'")
    assert row["n"].item() == 2 and row["share"].item() == 1.0
    assert row["overall_share"].item() == 0.5 and row["index"].item() == 200.0
    assert "(missing)" in set(table["value"])
    sums = table.groupby(["segment", "attribute"])["share"].sum()
    np.testing.assert_allclose(sums, 1.0)
    with pytest.raises(DataError, match="income_band"):
        composition(customers, labels, by=["income_band"])


def test_bootstrap_refit_fits_the_resample_by_weights(rng):
    """A resample is fitted as its distinct rows weighted by their counts: the same
    k-means objective as the repeated rows, so the same optimum."""
    frame, _ = planted(rng)
    model = fit(frame, k=4, n_bootstrap=0)
    Z = model._prepare(frame).fit
    rows = np.random.default_rng(5).integers(0, len(Z), size=len(Z))
    weighted = model._fit_cold(4, 11, Z, rows=rows)
    repeated = KMeans(n_clusters=4, n_init=10, random_state=11).fit(Z[rows])
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-9)
    np.testing.assert_allclose(
        np.sort(weighted.cluster_centers_, axis=0), np.sort(repeated.cluster_centers_, axis=0)
    )
    assert len(weighted.labels_) == len(np.unique(rows)) < len(rows)


def test_projection_2d_matches_the_svd(rng):
    frame, _ = planted(rng)
    model = fit(frame, k=4, n_bootstrap=0)
    scaled = model.transform(frame)
    proj = projection_2d(scaled, model.labels_, sample=None)
    svd = PCA(n_components=2, svd_solver="full").fit(scaled.to_numpy())
    np.testing.assert_allclose(proj[["pc1", "pc2"]], svd.transform(scaled.to_numpy()), atol=1e-9)
    np.testing.assert_allclose(
        proj.attrs["explained_variance_ratio"], svd.explained_variance_ratio_
    )


def test_projection_2d(rng):
    frame, truth = planted(rng)
    model = fit(frame, k=4, n_bootstrap=0)
    scaled = model.transform(frame)
    proj = projection_2d(scaled, model.labels_, sample=300, random_state=3)
    assert proj.shape == (300, 3) and list(proj.columns) == ["pc1", "pc2", "segment"]
    assert proj.index.isin(frame.index).all()
    pd.testing.assert_frame_equal(
        proj, projection_2d(scaled, model.labels_, sample=300, random_state=3)
    )
    ratio = proj.attrs["explained_variance_ratio"]
    assert ratio[0] >= ratio[1] > 0 and sum(ratio) <= 1 + 1e-9
    assert len(projection_2d(scaled, model.labels_, sample=None)) == len(frame)


# --------------------------------------------------------------------------- names
def named_segments(rng) -> pd.DataFrame:
    """Three behaviour profiles: VIPs, discount hunters, new customers."""
    n = 200
    seg = np.repeat([0, 1, 2], n)
    base = {
        "log_monetary": [9.0, 5.0, 4.5],
        "log_frequency": [4.0, 2.0, 0.8],
        "log_recency": [2.5, 4.5, 3.5],
        "tenure_days": [1600.0, 900.0, 60.0],
        "log_avg_order_value": [5.5, 3.6, 4.2],
        "discount_share": [0.05, 0.45, 0.15],
    }
    frame = pd.DataFrame(
        {k: np.array(v)[seg] * (1 + 0.05 * rng.normal(size=3 * n)) for k, v in base.items()}
    )
    frame["monetary"] = np.expm1(frame["log_monetary"])
    frame["segment"] = seg
    return frame


def test_segment_names_from_profiles(rng):
    frame = named_segments(rng)
    labels = frame.pop("segment")
    prof = segment_profiles(frame, labels)
    en = segment_names(prof, "en")
    assert en[0].startswith("High-value") and "frequent" in en[0]
    assert en[1].startswith("Low-value") and "discount" in en[1]
    assert "new customers" in en[2]
    assert en.is_unique and en.index.name == "segment"
    zh = segment_names(prof, "zh")
    assert zh.is_unique and zh[0].startswith("高价值") and "折扣" in zh[1]
    same = segment_names(prof, "en", zscores=zscore_profile(frame, labels))
    pd.testing.assert_series_equal(same, en)
    over = segment_names(prof, "en", overrides={1: "Bargain seekers"})
    assert over[1] == "Bargain seekers" and over[0] == en[0]
    with pytest.raises(ParamsError, match="unique"):
        segment_names(prof, "en", overrides={1: en[0]})
    with pytest.raises(ParamsError, match="unknown segment"):
        segment_names(prof, "en", overrides={9: "x"})


def test_segment_names_stay_unique_for_similar_segments(rng):
    frame = named_segments(rng)
    labels = frame.pop("segment").replace({2: 1})  # 0 vs. two identical halves of 1
    labels.iloc[-100:] = 2
    frame.iloc[-100:, frame.columns.get_loc("log_monetary")] += 0.01
    names = segment_names(segment_profiles(frame, labels), "en")
    assert names.is_unique
    assert segment_names(segment_profiles(frame, pd.Series(0, index=frame.index)))[0] == (
        "All customers"
    )


# --------------------------------------------------------------------------- migration
def test_segment_migration_by_hand():
    prev = pd.Series({"a": 0, "b": 1, "c": 1, "d": 0})
    cur = pd.Series({"a": 0, "b": 0, "c": 1, "e": 1})
    counts, shares = segment_migration(prev, cur)
    assert list(counts.index) == [0, 1, NEW] and list(counts.columns) == [0, 1, GONE]
    assert counts.loc[0].tolist() == [1, 0, 1]
    assert counts.loc[1].tolist() == [1, 1, 0]
    assert counts.loc[NEW].tolist() == [0, 1, 0]
    assert counts.to_numpy().sum() == 5
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert shares.loc[0, GONE] == 0.5


def test_migration_uses_the_fitted_model(rng):
    frame, _ = planted(rng)
    model = fit(frame, k=4, n_bootstrap=0)
    previous = frame.iloc[100:].copy()  # 100 customers are new this period
    previous.iloc[:50, :4] = previous.iloc[:50, :4].to_numpy()[::-1]  # some moved
    previous.index = previous.index.where(
        np.arange(len(previous)) < len(previous) - 30, "X" + previous.index
    )
    counts, shares = segment_migration(model.predict(previous), model.labels_)
    assert counts.loc[NEW].sum() == 130  # 100 + 30 renamed
    assert counts[GONE].sum() == 30
    stayed = np.trace(counts.loc[[0, 1, 2, 3], [0, 1, 2, 3]].to_numpy())
    assert stayed >= len(frame) - 100 - 30 - 50


# --------------------------------------------------------------------------- sample data
@pytest.fixture(scope="module")
def sample_data():
    sample = pytest.importorskip("analysis.data.sample")
    data = sample.generate_sample(20_000, seed=42)
    # the contract's cleaned orders: cancelled rows, rows without customer and duplicates go
    orders = data.orders[
        (data.orders["status"] != "cancelled") & data.orders["customer_id"].notna()
    ]
    return data, orders.drop_duplicates()


def sample_features(sample_data, as_of: str, **kwargs) -> pd.DataFrame:
    from analysis.features import customer_features

    data, orders = sample_data
    return customer_features(
        orders,
        as_of,
        customers=data.customers,
        surveys=data.survey_responses,
        interactions=data.interactions,
        **kwargs,
    )


def test_sample_generator_archetypes_recovered(sample_data):
    data, _ = sample_data
    features = sample_features(sample_data, "2026-01-01")
    truth = pd.Series(data.truth["segment_of_customer"])
    features = features.loc[features.index.intersection(truth.index)]
    truth = truth.loc[features.index]
    assert len(features) >= 0.99 * len(data.customers)
    # k = number of archetypes, as an analyst who knows the business would set it
    # (automatic k prefers 9-10 finer segments on these overlapping archetypes)
    model = SegmentationModel(k=6, n_bootstrap=5, random_state=0).fit(features)
    ari = adjusted_rand_score(truth, model.labels_)
    assert ari >= 0.8, ari
    assert model.dropped_features_ == {"satisfaction": "mostly_missing"}
    assert model.meaningful_ and model.stability_.stable
    names = segment_names(segment_profiles(features, model.labels_), "en")
    assert names.is_unique
    assert model.labels_[truth == "vip"].mode()[0] == 0  # the most valuable archetype is id 0

    # migration from the previous quarter with the same model and the same share columns
    previous = sample_features(
        sample_data,
        "2025-10-01",
        categories=features.attrs["categories"],
        channels=features.attrs["channels"],
    )
    counts, shares = segment_migration(model.predict(previous), model.labels_)
    assert counts.to_numpy().sum() == len(features.index.union(previous.index))
    assert counts[GONE].sum() == len(previous.index.difference(features.index))
    new_ids = features.index.difference(previous.index)
    assert counts.loc[NEW].sum() == len(new_ids)
    # customers first seen in 2025-Q4 are mostly the planted new customers ...
    assert (truth.loc[new_ids] == "new_customer").mean() >= 0.8
    # ... and land in the segment that holds the new-customer archetype
    new_segment = model.labels_[truth == "new_customer"].mode()[0]
    assert counts.loc[NEW].idxmax() == new_segment
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)


# --------------------------------------------------------------------------- misc
def test_summary_timings_and_scaling_options(rng):
    frame, truth = planted(rng, sizes=(200, 150, 100))
    model = fit(frame, k_range=(2, 5), n_bootstrap=0)
    assert model.stability_ is None
    assert set(model.timings_) == {
        "prepare",
        "sample",
        "choose_k",
        "final_fit",
        "null_reference",
        "stability",
    }
    summary = model.summary
    assert summary["k"] == 3 and summary["method"] == "kmeans" and summary["meaningful"]
    for scaling in ("robust", "none"):
        other = fit(frame, k=3, scaling=scaling, n_bootstrap=0)
        assert adjusted_rand_score(truth, other.labels_) >= 0.9
    assert fit(frame, k=3, clip=None, n_bootstrap=0).k_ == 3


def test_composition_does_not_change_its_input():
    customers = pd.DataFrame(
        {"customer_type": ["individual", "enterprise"]}, index=pd.Index([1, 2], name="cid")
    )
    before = customers.copy()
    table = composition(customers, pd.Series([0, 1], index=["1", "2"]), by=["customer_type"])
    assert len(table) == 2
    pd.testing.assert_frame_equal(customers, before)


def test_every_message_key_exists_in_both_languages():
    import re
    from pathlib import Path

    import analysis.segmentation as seg
    from analysis.i18n import catalog

    source = Path(seg.__file__).read_text(encoding="utf-8")
    keys = set(re.findall(r'"(segmentation\.[a-z_.]+[a-z])"', source))
    keys |= {
        f"segmentation.name.{kind}.{trait}"
        for trait, _, _ in seg._TRAITS
        for kind in ("trait", "adj")
    }
    keys |= {f"segmentation.name.value.{v}" for v in ("high", "mid", "low")}
    keys |= {f"segmentation.reason.{r}" for r in ("constant", "all_missing", "mostly_missing")}
    keys |= {"segmentation.name.trait.typical", "segmentation.name.numbered"}
    for language in ("en", "zh"):
        missing = keys - set(catalog(language))
        assert not missing, (language, missing)
    en = {k for k in catalog("en") if k.startswith("segmentation.")}
    zh = {k for k in catalog("zh") if k.startswith("segmentation.")}
    assert en == zh
    assert all(
        re.search(r"[\u4e00-\u9fff]", catalog("zh")[k])
        for k in zh
        if "name.pattern" not in k and "numbered" not in k and "extended" not in k
    )


def test_segments_with_the_same_traits_are_told_apart_by_what_differs():
    """Three planted segments share value level and their two top traits (low value,
    occasional, new); they differ in channel (app / store) and in discounts. Their names
    say what sets each apart, not the trait they share, instead of numbering them;
    segments with nothing apart get their next trait, then the id."""
    z = pd.DataFrame(
        {
            "log_monetary": [1.5, -1.0, -1.0, -1.0],
            "log_frequency": [1.5, -1.0, -1.0, -1.0],
            "tenure_days": [1.0, -0.8, -0.8, -0.8],
            "discount_share": [0.0, 0.0, 0.0, 0.6],
            "share_ch_app": [0.0, 1.0, -0.5, -0.5],
            "share_ch_store": [0.0, -0.5, 1.0, -0.5],
        },
        index=pd.Index(range(4), name="segment"),
    )
    labels = {"share_ch_app": "App", "share_ch_store": "Store"}
    names = segment_names(z, "en", zscores=z, share_labels=labels)
    assert names[1] == "Low-value occasional buyers, mostly App"
    assert names[2] == "Low-value occasional buyers, mostly Store"
    assert names[3] == "Low-value occasional buyers, discount-driven"
    zh = segment_names(z, "zh", zscores=z, share_labels={"share_ch_app": "应用"})
    assert "以应用为主" in zh[1] and zh.is_unique
    # without the channel labels, 1 and 2 differ in nothing that can be named: numbered
    plain = segment_names(z, "en", zscores=z)
    assert plain[1].endswith("(1)") and plain[2].endswith("(2)")
    assert plain[3] == "Low-value occasional buyers, discount-driven"


def _planted_profiles() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six planted segments (z-scores and raw mean recency in days), shaped like the
    company-wide sample: a recent VIP group, a complaint-prone group whose customers last
    bought 309 days ago on average, a below-average but old recency, and three low-value
    occasional newcomers that differ only in their main category."""
    z = pd.DataFrame(
        {
            "log_monetary": [1.5, 0.0, 0.1, -1.0, -1.0, -1.0],
            "log_frequency": [1.5, -0.2, 0.1, -1.0, -1.0, -1.0],
            "log_recency": [-1.2, 0.6, -0.4, 0.5, 0.5, 0.5],
            "tenure_days": [1.0, 0.0, 0.2, -0.8, -0.8, -0.8],
            "complaints": [0.0, 1.4, 0.0, 0.0, 0.0, 0.0],
            "discount_share": [0.0, 0.0, 0.6, 0.0, 0.0, 0.0],
            "share_cat_beauty": [0.0, 0.0, 0.0, 1.2, -0.4, -0.4],
            "share_cat_sports": [0.0, 0.0, 0.0, -0.4, 1.2, -0.4],
            "share_cat_fashion": [0.0, 0.0, 0.0, -0.4, -0.4, 1.2],
        },
        index=pd.Index(range(6), name="segment"),
    )
    profile = z.copy()
    profile["recency_days"] = [23.0, 309.0, 140.0, 233.0, 203.0, 246.0]
    return profile, z


SHARES = {
    "share_cat_beauty": "beauty",
    "share_cat_sports": "sports",
    "share_cat_fashion": "fashion",
}


def test_names_are_distinct_and_say_what_sets_alike_segments_apart():
    profile, z = _planted_profiles()
    names = segment_names(profile, "en", zscores=z, share_labels=SHARES)
    assert names.is_unique
    alike = [names[3], names[4], names[5]]
    for name, category in zip(alike, ("beauty", "sports", "fashion"), strict=True):
        assert name.startswith("Low-value occasional buyers") and f"mostly {category}" in name
        assert "new" not in name  # the trait all three share does not tell them apart
        assert not name.endswith(")")  # told apart in words, not by their id
    zh = segment_names(profile, "zh", zscores=z, share_labels={"share_cat_beauty": "美妆"})
    assert zh.is_unique and "以美妆为主" in zh[3]


def test_recency_words_fit_the_days_since_the_last_purchase():
    profile, z = _planted_profiles()
    names = segment_names(profile, "en", zscores=z, share_labels=SHARES)
    # 309 days on average: complaint-prone, and lapsed, not merely "mid-value"
    assert names[1] == "Mid-value complaint-prone customers, lapsed"
    assert names[0] == "High-value frequent buyers"  # 23 days: nothing to add
    # 140 days is below the average here, yet no "recently active" for it
    assert "recent" not in names[2] and "lapsed" not in names[2]
    for segment in (3, 4, 5):  # 203-246 days
        assert names[segment].endswith(", lapsed")
    days = profile["recency_days"]
    for segment, name in names.items():
        assert ("lapsed" in name) == (days[segment] >= 180), name
        assert "recently active" not in name or days[segment] <= 90, name
    zh = segment_names(profile, "zh", zscores=z)
    assert "长期未购" in zh[1] and "长期未购" not in zh[0]
    billed = segment_names(profile, "en", zscores=z, scheme="subscription")
    assert billed[1].endswith("no bill for months")


def test_a_lapsing_segment_is_named_lapsed_only_when_its_days_say_so():
    profile, z = _planted_profiles()
    z.loc[1, "complaints"] = 0.0  # recency is now the segment's main trait
    names = segment_names(profile, "en", zscores=z)
    assert names[1] == "Mid-value lapsed customers"
    profile.loc[1, "recency_days"] = 120.0
    assert segment_names(profile, "en", zscores=z)[1] == "Mid-value lapsing customers"
    z.loc[2, "discount_share"] = 0.0  # recency is segment 2's main trait too
    assert segment_names(profile, "en", zscores=z)[2] == "Mid-value customers"  # 140 days
    recent = profile.assign(recency_days=[23.0, 120.0, 60.0, 233.0, 203.0, 246.0])
    assert segment_names(recent, "en", zscores=z)[2] == "Mid-value recently active customers"

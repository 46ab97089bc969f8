"""The segmentation pipeline: one frozen result per unit, period and parameters, computed
without a report context, on planted behavioural groups (and on thin data)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis import segment_report as sr
from analysis.config import load_params
from analysis.data.load import Dataset
from analysis.period import Period
from analysis.pipelines import segmentation as pipeline
from analysis.pipelines.shared import SharedWork
from analysis.segmentation import segment_profiles

PERIOD = Period.parse("2025-Q4")


def _planted(n_per: int = 30, seed: int = 5) -> tuple[Dataset, dict[str, str]]:
    """Three groups: ``vip`` (every 10 days, large baskets), ``bargain`` (monthly, small
    discounted baskets) and ``new`` (first purchase in November 2025)."""
    rng = np.random.default_rng(seed)
    rows, truth = [], {}
    for g, group in enumerate(("vip", "bargain", "new")):
        for i in range(n_per):
            cid = f"C{g}{i:03d}"
            truth[cid] = group
            if group == "new":
                days = pd.Timestamp("2025-11-01") + pd.to_timedelta(
                    np.sort(rng.integers(0, 55, rng.integers(1, 3))), "D"
                )
            else:
                gap = 10 if group == "vip" else 30
                start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 20)))
                days = pd.date_range(start, "2025-12-25", freq=f"{gap}D")
            for day in days:
                amount = {"vip": rng.gamma(20, 10), "bargain": rng.gamma(10, 3)}.get(
                    group, rng.gamma(8, 8)
                )
                channel = {"vip": "store", "bargain": "web"}.get(group, "app")
                rows.append((cid, day, amount, "home", channel, 12.0 if group == "bargain" else 0))
    orders = pd.DataFrame(
        rows,
        columns=["customer_id", "order_date", "amount", "product_category", "channel", "discount"],
    )
    orders["order_id"] = [f"O{i:06d}" for i in range(len(orders))]
    orders["business_unit"] = "north"
    orders["status"] = "completed"
    orders = orders.astype({"customer_id": "string", "business_unit": "string"})
    ids = sorted(truth)
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "business_unit": "north",
            "customer_type": np.where([truth[c] == "vip" for c in ids], "enterprise", "individual"),
            "region": rng.choice(["north", "south"], len(ids)),
        }
    )
    return Dataset(customers=customers, orders=orders), truth


def _params(tmp_path, **segmentation) -> dict:
    return load_params(
        overrides={
            "output_dir": str(tmp_path / "reports"),
            "unit": "north",
            "segmentation": {"n_bootstrap": 2, "k_range": [2, 5], **segmentation},
        }
    )


@pytest.fixture(scope="module")
def planted():
    return _planted()


def test_build_recovers_the_groups_in_a_frozen_result(planted, tmp_path):
    data, truth = planted
    orders_before = data.orders.copy()
    result = pipeline.build(data, PERIOD, _params(tmp_path))
    pd.testing.assert_frame_equal(data.orders, orders_before)  # the input is left alone
    assert result.status == "ok" and result.k == 3 and result.meaningful
    assert adjusted_rand_score([truth[c] for c in result.labels.index], result.labels) == 1.0
    assert result.labels[[c for c in truth if truth[c] == "vip"]].eq(0).all()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = "changed"  # type: ignore[misc]
    # the tables the sections show, checked against their definitions
    assert result.period == "2025-Q4" and result.previous_period == "2025-Q3"
    assert result.as_of == pd.Timestamp("2026-01-01")
    assert result.kpis["customers"].sum() == len(truth)
    assert result.kpis["share"].sum() == pytest.approx(1.0)
    assert result.kpis["previous_share"].sum() == pytest.approx(1.0)
    profile = segment_profiles(result.features, result.labels)
    pd.testing.assert_series_equal(result.profile["n_customers"], profile["n_customers"])
    assert result.means["all"].to_dict() == pytest.approx(
        result.features[list(result.means.index)].mean().to_dict()
    )
    for s in result.segments:
        inside = result.features.loc[result.labels.index[result.labels == s], "frequency"]
        assert result.means.loc["frequency", s] == pytest.approx(inside.mean())
    assert set(result.distinguishing["segment"]) == set(result.segments)
    assert (result.distinguishing.groupby("segment").size() == pipeline.TOP_FEATURES).all()
    assert set(result.strategy.columns) == {"rule", "vocabulary", "key", "priority"}
    assert (result.strategy["vocabulary"] == "clustering_segment").all()
    new_segment = int(result.labels[[c for c in truth if truth[c] == "new"]].mode()[0])
    assert result.strategy.loc[new_segment, "rule"] == "new"
    # every chart has its part
    assert result.sizes is not None and result.heatmap is not None
    assert result.projection is not None and len(result.projection.points) == len(truth)
    assert result.projection.segments == (0, 1, 2)
    assert set(result.composition_shares) == {"customer_type", "region"}
    mix = result.composition_shares["customer_type"]
    assert list(mix.index) == [0, 1, 2, "all"]
    assert mix.sum(axis=1).to_numpy() == pytest.approx(1.0)
    assert mix.loc[0, "enterprise"] == 1.0  # the vip group is the enterprises
    migration = result.transitions
    assert migration is not None and migration.total > 0
    assert migration.table["current_active"].sum() == migration.counts.drop(index="new").pipe(
        lambda c: int(c.drop(columns="gone").to_numpy().sum())
    ) + int(migration.counts.loc["new"].drop("gone").sum())
    # the export: every customer once, sorted, the segment's action
    export = result.export
    assert sorted(export["customer_id"]) == sorted(truth)
    by_segment = export["segment_id"].value_counts().sort_index()
    assert by_segment.tolist() == result.kpis["customers"].tolist()
    high = int((export["priority"] == "high").sum())
    assert high == (result.focus["n_customers"] if result.focus is not None else 0)
    pd.testing.assert_frame_equal(
        export,
        sr.export_frame(result.features, result.labels, result.names, result.actions),
    )


def test_assignments_give_other_reports_the_segments(planted, tmp_path):
    data, _ = planted
    result = pipeline.build(data, PERIOD, _params(tmp_path))
    frame = pipeline.assignments(result)
    assert frame.columns.tolist() == [
        "customer_id",
        "segment_id",
        "segment_name",
        "priority",
        "action",
    ]
    assert len(frame) == len(result.labels) and frame["customer_id"].is_unique
    names = dict(zip(frame["segment_id"], frame["segment_name"], strict=False))
    assert names == result.names.to_dict()


def test_computed_once_per_unit_period_and_parameters(planted, tmp_path):
    data, _ = planted
    params = {**_params(tmp_path), "cache_dir": str(tmp_path / "cache")}
    shared = SharedWork.from_params(params)
    first = pipeline.build(data, PERIOD, params, shared=shared)
    assert pipeline.build(data, PERIOD, params, shared=SharedWork.from_params(params)) is first
    other = pipeline.build(data, PERIOD, {**params, "language": "zh"}, shared=shared)
    assert other is not first and other.language == "zh"
    assert other.export["segment_id"].tolist() == first.export["segment_id"].tolist()
    # without a cache folder nothing is memoised: a fresh, equal result
    again = pipeline.build(data, PERIOD, _params(tmp_path))
    assert again is not first
    pd.testing.assert_frame_equal(again.export, first.export)


def test_nobody_to_segment(planted, tmp_path):
    data, _ = planted
    result = pipeline.build(data, Period.parse("2023-Q4"), _params(tmp_path))
    assert result.status == "no_customers" and result.model is None and result.k == 0
    assert result.export.empty
    assert result.export.columns[:3].tolist() == ["customer_id", "segment_id", "segment_name"]
    assert pipeline.assignments(result) is None
    for part in ("k_choice", "sizes", "heatmap", "composition_shares", "transitions"):
        assert getattr(result, part) is None, part
    assert result.projection is None and result.migration is None


def test_customers_who_all_look_alike_form_one_segment(tmp_path):
    rows = [
        (f"C{i:03d}", pd.Timestamp(day), 40.0)
        for i in range(25)
        for day in ("2025-03-01", "2025-08-01", "2025-11-15")
    ]
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    orders["order_id"] = [f"O{i}" for i in range(len(orders))]
    orders["business_unit"] = "north"
    orders["status"] = "completed"
    result = pipeline.build(Dataset(customers=None, orders=orders), PERIOD, _params(tmp_path))
    assert result.status == "one_segment" and result.k == 1 and not result.meaningful
    assert result.export["segment_id"].eq(0).all() and len(result.export) == 25
    assert result.sizes is None and result.heatmap is None and result.projection is None
    assert result.transitions is None and result.migration is not None
    assert result.composition is None  # no customers table


def test_fixed_k_has_no_chart_of_the_indices(planted, tmp_path):
    data, _ = planted
    result = pipeline.build(data, PERIOD, _params(tmp_path, k=2))
    assert result.fixed_k and result.k == 2 and result.k_choice is None
    chosen = pipeline.build(data, PERIOD, _params(tmp_path))
    assert chosen.k_choice is not None and chosen.k_choice["chosen"].sum() == 1
    assert int(chosen.k_choice.index[chosen.k_choice["chosen"]][0]) == chosen.k
    assert set(chosen.best_k) == {"silhouette", "calinski_harabasz", "davies_bouldin"}

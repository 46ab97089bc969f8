"""Needs classification (analysis.needs) against planted and closed-form answers."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis import needs
from analysis.data import sample

AS_OF = pd.Timestamp("2026-01-01")


@pytest.fixture(scope="module")
def planted():
    data = sample.generate_sample(3000, seed=42)
    found = needs.classify_needs(
        data.orders, AS_OF, interactions=data.interactions, surveys=data.survey_responses
    )
    return data, found


def _completed_orders(orders: pd.DataFrame) -> pd.Series:
    sales = orders.loc[(orders["amount"] > 0) & (orders["status"] == "completed")]
    return sales.groupby("customer_id").size()


def test_balanced_accuracy_against_the_planted_needs(planted):
    data, found = planted
    truth = data.truth["need_of_customer"]
    assert set(truth.values()) == set(needs.NEEDS)
    # every customer with evidence (a purchase or a linked answer) is classified: in the
    # sample that is every customer, so the coverage is complete
    classified = found.loc[found.index.isin(list(truth))]
    assert len(classified) == len(truth)
    assert needs.balanced_accuracy(truth, classified["need_type"].to_dict()) >= 0.7
    # a need shows best in repeated behaviour: customers with three or more orders
    counts = _completed_orders(data.orders)
    repeat = found.loc[found.index.isin(counts.index[counts >= 3])]
    assert len(repeat) > 0.6 * len(found)
    assert needs.balanced_accuracy(truth, repeat["need_type"].to_dict()) >= 0.72
    # every need is recovered well above chance (0.25), not only the easy ones
    recall = classified["need_type"].eq(pd.Series(truth)).groupby(pd.Series(truth)).mean()
    assert recall.min() >= 0.5


def test_confidence_is_the_chance_of_being_right(planted):
    """The confidence is a probability: customers classified with confidence about p are
    right about p of the time (checked per quartile of confidence against the planted
    need)."""
    data, found = planted
    truth = pd.Series(data.truth["need_of_customer"])
    found = found.loc[found.index.isin(truth.index)]
    hit = found["need_type"].eq(truth.reindex(found.index))
    quartile = pd.qcut(found["confidence"], 4, labels=False)
    accuracy = hit.groupby(quartile).mean()
    confidence = found["confidence"].groupby(quartile).mean()
    np.testing.assert_allclose(accuracy, confidence, atol=0.08)
    assert accuracy.is_monotonic_increasing
    assert found["confidence"].between(0.0, 1.0).all()
    p = found[[f"p_{k}" for k in needs.NEEDS]]
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    chosen = p.to_numpy()[np.arange(len(p)), [needs.NEEDS.index(k) for k in found["need_type"]]]
    np.testing.assert_allclose(found["confidence"], chosen)


def test_need_probabilities_closed_form():
    """Two needs: P(A is the larger) = Phi((mA - mB) / sqrt(sA^2 + sB^2))."""
    from scipy.stats import norm

    scores = pd.DataFrame({"price": [0.0, 1.0, -0.5], "quality": [0.0, 0.2, 1.5]})
    spread = pd.DataFrame({"price": [1.0, 0.5, 0.3], "quality": [1.0, 0.4, 2.0]})
    p = needs.need_probabilities(scores, spread)
    expected = norm.cdf(
        (scores["price"] - scores["quality"]) / np.hypot(spread["price"], spread["quality"])
    )
    np.testing.assert_allclose(p["price"], expected, atol=5e-4)  # quadrature error
    np.testing.assert_allclose(p["price"] + p["quality"], 1.0)
    # a need without a score is never the strongest
    scores["service"] = np.nan
    spread["service"] = np.nan
    assert (needs.need_probabilities(scores, spread)["service"] == 0).all()


def test_planting_needs_leaves_every_table_unchanged(monkeypatch):
    tables, truth = sample.generate_tables(400, 5)
    monkeypatch.setattr(sample, "plant_needs", lambda cust, inter, seed: {})
    without, _ = sample.generate_tables(400, 5)
    assert truth["need_of_customer"]
    for name, table in tables.items():
        assert table.equals(without[name]), name


def test_planted_needs_are_not_a_copy_of_one_trait(planted):
    """The planted need is not trivially separable: the best single signal per need
    (its argmax alone) recovers it less well than the scorecard."""
    data, found = planted
    truth = data.truth["need_of_customer"]
    measured = needs.need_signals(data.orders, AS_OF, interactions=data.interactions)
    single = measured.values[["discount_share", "premium_share", "complaint_rate"]]
    ranks = single.rank(pct=True).set_axis(["price", "quality", "service"], axis=1)
    best_single = needs.balanced_accuracy(truth, ranks.idxmax(axis=1).to_dict())
    assert best_single < needs.balanced_accuracy(truth, found["need_type"].to_dict())


def _orders(rows):
    frame = pd.DataFrame(
        rows, columns=["customer_id", "order_date", "amount", "discount", "product_category"]
    )
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["status"] = "completed"
    return frame


def test_a_discount_buyer_is_price_driven_and_a_premium_buyer_quality_driven():
    rows = []
    for i in range(20):
        rows.append(("bargain", f"2025-01-{i + 1:02d}", 20.0, 10.0, "basics"))
        rows.append(("premium", f"2025-01-{i + 1:02d}", 200.0, 0.0, "luxury"))
        rows.append(("middle", f"2025-01-{i + 1:02d}", 40.0, 1.0 if i % 2 else 0.0, "basics"))
        rows.append(("middle2", f"2025-01-{i + 1:02d}", 45.0, 0.0, "mid" if i % 3 else "luxury"))
    found = needs.classify_needs(_orders(rows), "2025-03-01")
    assert found.at["bargain", "need_type"] == "price"
    assert found.at["premium", "need_type"] == "quality"
    assert found.at["bargain", "evidence_signal"] in {"discount_share", "promotion_response"}
    assert found.at["bargain", "evidence_value"] == pytest.approx(
        10 / 30 if found.at["bargain", "evidence_signal"] == "discount_share" else 1.0
    )
    # no channel or interaction data: those needs are never chosen and have no score
    assert found["score_service"].isna().all() and found["score_convenience"].isna().all()


def test_rows_after_the_snapshot_are_ignored():
    rows = [("a", "2025-01-05", 10.0, 5.0, "x"), ("b", "2025-01-05", 10.0, 0.0, "y")]
    late = [("a", "2025-06-05", 99.0, 0.0, "y"), ("c", "2025-06-05", 10.0, 0.0, "x")]
    early = needs.classify_needs(_orders(rows), "2025-02-01")
    both = needs.classify_needs(_orders(rows + late), "2025-02-01")
    pd.testing.assert_frame_equal(early, both)


def test_empirical_bayes_z_scores_closed_form():
    values = pd.DataFrame({"discount_share": [0.1, 0.2, 0.6]}, index=["a", "b", "c"])
    variances = pd.DataFrame({"discount_share": [0.01, 0.04, 0.0]}, index=values.index)
    z, scores = needs.need_scores(needs.NeedSignals(values, variances, {}))
    x = values["discount_share"]
    tau2 = x.var() - variances["discount_share"].mean()
    shrink = tau2 / (tau2 + variances["discount_share"])
    expected = shrink * (x - x.mean()) / math.sqrt(tau2)
    np.testing.assert_allclose(z["discount_share"], expected)
    # one signal of price: its score is the z-score over its spread among the customers
    # measured well (shrinkage factor at least WELL_MEASURED; here too few: all of them)
    np.testing.assert_allclose(scores["price"], expected / expected.std())
    assert scores[["quality", "service", "convenience"]].isna().all().all()


def test_survey_only_data_gets_needs_from_the_survey():
    rng = np.random.default_rng(0)
    n = 400
    ids = [f"S{i % 200:03d}" for i in range(n)]
    price = rng.integers(1, 6, n).astype(float)
    quality = rng.integers(1, 6, n).astype(float)
    # the overall score follows the price rating for the first 100 customers and the
    # quality rating for the others: their need is the rating that moves with it
    follows_price = np.array([int(i[1:]) < 100 for i in ids])
    overall = np.where(follows_price, price, quality) * 2 + rng.normal(0, 0.2, n)
    surveys = pd.DataFrame(
        {
            "response_id": range(n),
            "customer_id": ids,
            "response_date": pd.Timestamp("2025-05-01"),
            "nps": overall,
            "rating_price": price,
            "rating_product_quality": quality,
        }
    )
    found = needs.classify_needs(None, "2025-06-01", surveys=surveys)
    assert len(found) == 200
    truth = {i: "price" if int(i[1:]) < 100 else "quality" for i in found.index}
    assert needs.balanced_accuracy(truth, found["need_type"].to_dict()) >= 0.8
    assert found["evidence_signal"].str.startswith("survey_").all()
    assert set(found.attrs["importances"]) == {"rating_price", "rating_product_quality"}


def test_no_data_gives_no_customers():
    found = needs.classify_needs(None, "2025-06-01")
    assert found.empty and "need_type" in found.columns
    assert found.attrs["used"] == () and found.attrs["premium"] == ()


def test_signals_that_do_not_vary_score_nobody_and_the_result_says_which_were_used():
    # identical customers: no signal varies, so no z-score and nobody is classified; the
    # needs report's scorecard reads attrs["used"] on this path too
    rows = [(c, "2025-01-05", 20.0, 0.0, "basics") for c in ("a", "b", "c")]
    found = needs.classify_needs(_orders(rows), "2025-03-01")
    assert found.empty
    assert set(found.attrs) == {"importances", "premium", "used"}
    assert found.attrs["used"] == ()
    varied = needs.classify_needs(
        _orders([*rows, ("d", "2025-02-20", 90.0, 30.0, "basics")]), "2025-03-01"
    )
    assert set(varied.attrs) == {"importances", "premium", "used"}
    z, _ = needs.need_scores(
        needs.need_signals(
            _orders([*rows, ("d", "2025-02-20", 90.0, 30.0, "basics")]), "2025-03-01"
        )
    )
    assert varied.attrs["used"] == tuple(z.columns) and len(z.columns) > 0


def test_rating_names_map_to_needs():
    assert needs.rating_needs(
        ["rating_价格", "rating_staff_friendliness", "rating_delivery_speed", "rating_mood"]
    ) == {
        "rating_价格": "price",
        "rating_staff_friendliness": "service",
        "rating_delivery_speed": "convenience",
    }


def test_premium_categories_are_the_top_third_by_order_value():
    orders = pd.DataFrame(
        {"product_category": list("abcdef"), "amount": [60.0, 50.0, 40.0, 30.0, 20.0, 10.0]}
    )
    assert needs.premium_categories(orders) == ("a", "b")
    assert needs.premium_categories(orders.iloc[:1]) == ()


def test_balanced_accuracy_is_the_mean_recall():
    truth = {"a": "x", "b": "x", "c": "x", "d": "y"}
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y"}
    assert needs.balanced_accuracy(truth, predicted) == pytest.approx((2 / 3 + 1) / 2)
    with pytest.raises(ValueError, match="no customer"):
        needs.balanced_accuracy(truth, {"z": "x"})

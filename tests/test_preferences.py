"""Preferences (analysis.preferences): closed forms on tiny baskets, the keyword grouping,
and the next-best category against the popularity baseline on the sample."""

import numpy as np
import pandas as pd
import pytest

from analysis import preferences as pf
from analysis.data import sample

#: Five customers' categories: support, confidence and lift are countable by hand.
BASKETS = {
    "c1": ["bread", "milk"],
    "c2": ["bread", "milk", "jam"],
    "c3": ["bread"],
    "c4": ["milk", "jam"],
    "c5": ["jam"],
}


def _orders(baskets, start="2025-01-05"):
    rows = []
    for customer, cats in baskets.items():
        for k, cat in enumerate(cats):
            rows.append((f"{customer}-{k}", customer, start, 10.0, cat))
    frame = pd.DataFrame(
        rows, columns=["order_id", "customer_id", "order_date", "amount", "product_category"]
    )
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["status"] = "completed"
    return frame


def _counts(baskets):
    orders = _orders(baskets)
    groups, method = pf.product_groups(orders)
    assert method == "category"
    return pf.category_counts(orders, groups)


def test_cross_sell_pairs_closed_form():
    pairs = _counts(BASKETS).pipe(pf.cross_sell_pairs, min_support=0.0)
    rule = pairs.set_index(["antecedent", "consequent"])
    # bread: c1 c2 c3 (3/5); milk: c1 c2 c4 (3/5); jam: c2 c4 c5 (3/5)
    # bread & milk: c1 c2 -> support 2/5, confidence 2/3, lift (2/3) / (3/5) = 10/9
    assert rule.loc[("bread", "milk"), "customers"] == 2
    assert rule.loc[("bread", "milk"), "support"] == pytest.approx(2 / 5)
    assert rule.loc[("bread", "milk"), "confidence"] == pytest.approx(2 / 3)
    assert rule.loc[("bread", "milk"), "lift"] == pytest.approx(10 / 9)
    # bread & jam: only c2 -> support 1/5, confidence 1/3, lift (1/3) / (3/5) = 5/9
    assert rule.loc[("jam", "bread"), "lift"] == pytest.approx(5 / 9)
    assert len(pairs) == 6  # three pairs, both directions
    assert pairs["lift"].is_monotonic_decreasing


def test_minimum_support_drops_rare_pairs():
    pairs = _counts(BASKETS).pipe(pf.cross_sell_pairs, min_support=0.3)
    assert set(map(tuple, pairs[["antecedent", "consequent"]].to_numpy())) == {
        ("bread", "milk"),
        ("milk", "bread"),
        ("milk", "jam"),
        ("jam", "milk"),
    }


def test_affinity_index_against_the_base():
    counts = _counts(BASKETS)
    groups = pd.Series({"c1": "g", "c2": "g", "c3": "h", "c4": "h", "c5": "h"})
    shares, index = pf.category_affinity(counts, groups)
    # g: bread 2, milk 2, jam 1 of 5 orders; base: 3 of 9 each
    assert shares.loc["g", "bread"] == pytest.approx(2 / 5)
    assert index.loc["g", "bread"] == pytest.approx((2 / 5) / (3 / 9))
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)


def test_next_best_score_closed_form():
    counts = _counts(BASKETS)
    ranked = pf.next_best_categories(counts, top=3)
    row = ranked.set_index(["customer_id", "next_best_category"])
    # c3 bought bread once: P(milk | bread) = 2/3, P(jam | bread) = 1/3, so q = (0, 2/3, 1/3)
    # over (bread, milk, jam) and score = (n_c + 2 q_c) / (1 + 2)
    assert row.loc[("c3", "bread"), "score"] == pytest.approx(1 / 3)
    assert row.loc[("c3", "milk"), "score"] == pytest.approx((2 * 2 / 3) / 3)
    assert row.loc[("c3", "jam"), "score"] == pytest.approx((2 * 1 / 3) / 3)
    best = ranked.loc[(ranked["customer_id"] == "c3") & (ranked["rank"] == 1)].iloc[0]
    assert best["next_best_category"] == "milk" and best["reason"] == "cross_sell"
    assert best["because"] == "bread" and best["confidence"] == pytest.approx(2 / 3)
    assert best["lift"] == pytest.approx((2 / 3) / (3 / 5))
    scores = ranked.groupby("customer_id")["score"].sum()
    np.testing.assert_allclose(scores, 1.0)  # a distribution over the categories


def test_a_regular_buyer_gets_their_own_category():
    orders = _orders({"c1": ["tea"] * 6 + ["cake"], "c2": ["cake", "tea"], "c3": ["cake"]})
    groups, _ = pf.product_groups(orders)
    ranked = pf.next_best_categories(pf.category_counts(orders, groups))
    first = ranked.set_index("customer_id").loc["c1"]
    assert first["next_best_category"] == "tea" and first["reason"] == "repeat"
    assert first["own_orders"] == 6


def test_evaluation_hides_the_holdout():
    history = _orders(BASKETS)
    later = _orders({"c3": ["milk"], "c5": ["bread"], "new": ["milk"]}, start="2025-04-10")
    orders = pd.concat([history, later], ignore_index=True)
    groups, _ = pf.product_groups(orders)
    ev = pf.evaluate_next_best(
        orders, groups, pd.Timestamp("2025-04-01"), pd.Timestamp("2025-07-01")
    )
    # base: c3 and c5 (history and a holdout purchase); "new" has no history
    assert ev.customers == 2
    # c3 (bread) -> milk: a hit; c5 (jam) -> milk, P(milk | jam) = 2/3 > P(bread | jam): a miss
    assert ev.hit_rate == pytest.approx(0.5)
    # popularity: bread, jam and milk tie at 3/5; ties by name -> bread: c5 hit, c3 miss
    assert ev.baseline_hit_rate == pytest.approx(0.5)
    assert ev.hit_rate_top3 == 1.0 and ev.categories == 3


def test_keyword_groups_of_descriptions():
    descriptions = pd.Series(
        [
            "WHITE HANGING HEART T-LIGHT HOLDER",
            "JUMBO BAG RED RETROSPOT",
            "POSTAGE",
            "SET OF 3 CAKE TINS PANTRY DESIGN",
            "PAPER CHAIN KIT 50'S CHRISTMAS",
            "SOMETHING UNKNOWN",
            None,
        ]
    )
    assert pf.group_of_description(descriptions).tolist() == [
        "lighting",
        "bags",
        pf.NON_PRODUCT,
        "kitchen_dining",
        "christmas",
        "other",
        pd.NA,
    ]


def test_many_codes_are_grouped_by_description_and_non_products_left_out():
    n = 60
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "customer_id": [f"c{i % 5}" for i in range(n)],
            "order_date": pd.Timestamp("2025-01-01"),
            "amount": 5.0,
            "product_category": [f"SKU{i}" for i in range(n)],
            "Description": ["RED BAG" if i % 3 else "POSTAGE" for i in range(n)],
            "status": "completed",
        }
    )
    groups, method = pf.product_groups(orders)
    assert method == "description"
    counts = pf.category_counts(orders, groups)
    assert list(counts.columns) == ["bags"]
    assert pf.product_groups(orders.drop(columns="Description"))[1] == "top"
    assert pf.product_groups(orders.drop(columns="product_category"))[1] == "none"


def test_next_best_beats_popularity_on_the_sample():
    """Sample customers have their own category preferences (a Dirichlet mix per
    customer), so their history predicts the hidden quarter better than popularity."""
    data = sample.generate_sample(2000, seed=3)
    groups, _ = pf.product_groups(data.orders)
    ev = pf.evaluate_next_best(
        data.orders, groups, pd.Timestamp("2025-10-01"), pd.Timestamp("2026-01-01")
    )
    assert ev.customers > 500
    assert ev.hit_rate > ev.baseline_hit_rate + 0.1
    assert ev.hit_rate_top3 >= ev.baseline_hit_rate_top3


def _reference_category_counts(orders, groups, *, start=None, end=None):
    """The definition in pandas, over a table of the kept lines (the implementation before
    integer codes): the fast one must give the same table."""
    _sales, NON_PRODUCT = pf._sales, pf.NON_PRODUCT
    when = pd.to_datetime(orders["order_date"])
    keep = _sales(orders) & groups.notna() & groups.ne(NON_PRODUCT)
    if start is not None:
        keep &= when >= pd.Timestamp(start)
    if end is not None:
        keep &= when < pd.Timestamp(end)
    rows = orders.loc[keep]
    key = rows["order_id"].astype(str) if "order_id" in rows.columns else rows.index.astype(str)
    frame = pd.DataFrame(
        {
            "customer_id": rows["customer_id"].astype(str).to_numpy(),
            "group": groups[keep].astype(str).to_numpy(),
            "order": key.to_numpy(),
        }
    ).drop_duplicates()
    if frame.empty:
        counts = pd.crosstab(frame["customer_id"], frame["group"])
    else:  # the same table as a crosstab, many times faster
        counts = frame.groupby(["customer_id", "group"]).size().unstack(fill_value=0)
    counts.index.name, counts.columns.name = "customer_id", None
    return counts.sort_index(axis=0).sort_index(axis=1)


def _random_lines(rng, n, with_order_id=True):
    frame = pd.DataFrame(
        {
            "order_id": pd.array(
                [None if rng.random() < 0.02 else f"o{k}" for k in rng.integers(0, n // 2 + 1, n)],
                "string",
            ),
            "customer_id": pd.array([f"c{k}" for k in rng.integers(0, n // 5 + 1, n)], "string"),
            "order_date": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 400 * 24, n), unit="h"),
            "amount": np.round(rng.normal(40, 30, n), 2),
            "status": pd.array(
                rng.choice(
                    ["completed", "returned", None, "cancelled"], n, p=[0.85, 0.05, 0.05, 0.05]
                ),
                "string",
            ),
        }
    )
    frame.index = rng.permutation(n) * 3  # an index that is not 0..n-1
    if not with_order_id:
        frame = frame.drop(columns="order_id")
    choices = np.array(["food", "Home", "garden", "home", pf.NON_PRODUCT, None], dtype=object)
    groups = pd.Series(choices[rng.integers(0, len(choices), n)], index=frame.index, dtype=object)
    return frame, groups


@pytest.mark.parametrize("seed", range(10))
def test_category_counts_match_the_table_of_kept_lines(seed):
    rng = np.random.default_rng(seed)
    orders, groups = _random_lines(rng, int(rng.integers(1, 2500)), with_order_id=seed % 3 > 0)
    windows = [(None, None), (pd.Timestamp("2025-05-01"), None), (None, pd.Timestamp("2025-03-01"))]
    windows.append((pd.Timestamp("2025-02-01"), pd.Timestamp("2025-02-20")))
    windows.append((pd.Timestamp("2027-01-01"), None))  # nothing inside
    for start, end in windows:
        got = pf.category_counts(orders, groups, start=start, end=end)
        want = _reference_category_counts(orders, groups, start=start, end=end)
        pd.testing.assert_frame_equal(got, want, check_exact=True)

"""Tests of analysis.satisfaction against hand-computed cases, reference
implementations (scipy, statsmodels, an all-subsets Shapley decomposition written
here) and synthetic data with planted answers."""

from __future__ import annotations

import itertools
import math
import re
import string

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from analysis import satisfaction as sat
from analysis.errors import DataError, ModelError, ParamsError
from analysis.i18n import t

Z95 = 1.959963984540054


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20250101)


def draw_nps(rng: np.random.Generator, n: int, p: float, d: float) -> np.ndarray:
    """n answers 0-10 with promoter share p and detractor share d."""
    cat = rng.choice(3, size=n, p=[p, 1 - p - d, d])
    return np.where(
        cat == 0,
        rng.integers(9, 11, n),
        np.where(cat == 1, rng.integers(7, 9, n), rng.integers(0, 7, n)),
    )


def planted_survey(rng: np.random.Generator, n: int = 700) -> pd.DataFrame:
    """Three units x eight quarters; unit 'web' drops 25 NPS points in 2025-Q4."""
    base = {"web": (0.45, 0.20), "store": (0.35, 0.25), "phone": (0.50, 0.15)}
    parts = []
    for unit, (p, d) in base.items():
        for q in pd.period_range("2024Q1", "2025Q4", freq="Q"):
            pp, dd = (p - 0.125, d + 0.125) if (unit == "web" and str(q) == "2025Q4") else (p, d)
            days = (q.end_time - q.start_time).days
            dates = q.start_time + pd.to_timedelta(rng.integers(0, days + 1, n), unit="D")
            parts.append(
                pd.DataFrame(
                    {"business_unit": unit, "response_date": dates, "nps": draw_nps(rng, n, pp, dd)}
                )
            )
    frame = pd.concat(parts, ignore_index=True)
    frame["csat"] = np.clip(np.round(frame["nps"] / 2.5), 1, 5).astype(int)
    return frame


# --------------------------------------------------------------------------- NPS


def test_nps_hand_computed():
    r = sat.nps([10, 9, 8, 7, 6, 0, 10, 10])
    # 4 promoters, 2 passives, 2 detractors of 8
    assert (r.n, r.promoters, r.passives, r.detractors) == (8, 0.5, 0.25, 0.25)
    assert r.nps == pytest.approx(25.0)
    # var = p + d - (p - d)^2 = 0.75 - 0.0625 = 0.6875; SE = 100 * sqrt(0.6875 / 8)
    se = 100 * math.sqrt(0.6875 / 8)
    assert se == pytest.approx(29.3151, abs=1e-4)
    assert r.se == pytest.approx(se)
    assert r.ci_low == pytest.approx(25 - Z95 * se)
    assert r.ci_high == pytest.approx(25 + Z95 * se)


def test_nps_counts_invalid_and_missing_never_coerces():
    scores = pd.Series([10, 11, -1, 7.5, "x", None, "9", 6, np.nan, 0], dtype=object)
    r = sat.nps(scores)
    # valid: 10, "9", 6, 0 -> 2 promoters, 2 detractors; 11 is not turned into 10
    assert r.n == 4 and r.n_invalid == 4 and r.n_missing == 2
    assert r.nps == pytest.approx(0.0)


def test_nps_empty_gives_nan_not_error():
    r = sat.nps(pd.Series([None, np.nan], dtype=float))
    assert r.n == 0 and math.isnan(r.nps) and math.isnan(r.ci_low)


def test_nps_interval_is_clipped_and_degenerate_cases():
    r = sat.nps([10] * 5)
    assert r.nps == 100 and r.ci_high == 100 and r.ci_low == 100  # zero variance
    r = sat.nps([10, 10, 10, 0], method="bootstrap", n_boot=500)
    assert -100 <= r.ci_low <= r.nps <= r.ci_high <= 100


@pytest.mark.parametrize("method", ["analytic", "bootstrap"])
def test_nps_interval_coverage_by_simulation(method):
    rng = np.random.default_rng(7)
    p, d, n, sims = 0.40, 0.25, 300, 1000
    truth = 100 * (p - d)
    hits = 0
    for _ in range(sims):
        r = sat.nps(draw_nps(rng, n, p, d), method=method, n_boot=1000, random_state=rng)
        hits += r.ci_low <= truth <= r.ci_high
    assert 0.93 <= hits / sims <= 0.97


def test_nps_bootstrap_agrees_with_analytic_for_large_n(rng):
    scores = draw_nps(rng, 5000, 0.4, 0.2)
    a = sat.nps(scores)
    b = sat.nps(scores, method="bootstrap", n_boot=2000, random_state=1)
    assert b.ci_low == pytest.approx(a.ci_low, abs=0.6)
    assert b.ci_high == pytest.approx(a.ci_high, abs=0.6)
    assert sat.nps(scores, method="bootstrap", random_state=1) == sat.nps(
        scores, method="bootstrap", random_state=1
    )


def test_nps_parameter_errors():
    with pytest.raises(ParamsError, match="method"):
        sat.nps([10], method="exact")
    with pytest.raises(ParamsError, match="confidence"):
        sat.nps([10], confidence=95)
    with pytest.raises(ParamsError, match="n_boot"):
        sat.nps([10], n_boot=0)


def test_nps_category():
    cats = sat.nps_category(pd.Series([10, 9, 8, 7, 6, 0, None, 12], index=list("abcdefgh")))
    assert cats.tolist()[:6] == [
        "promoter",
        "promoter",
        "passive",
        "passive",
        "detractor",
        "detractor",
    ]
    assert cats.isna().tolist()[6:] == [True, True]
    assert list(cats.index) == list("abcdefgh")


# --------------------------------------------------------------------------- CSAT


def test_csat_hand_computed_and_reference():
    r = sat.csat([5, 4, 3, 2, 5, 9, None])
    assert (r.n, r.n_invalid, r.n_missing) == (5, 1, 1)
    assert r.top_box == pytest.approx(0.6) and r.mean == pytest.approx(3.8)
    # Wilson by hand: z^2 = 3.8415; centre = (0.6 + z^2/10) / (1 + z^2/5)
    z2 = Z95**2
    centre = (0.6 + z2 / 10) / (1 + z2 / 5)
    half = Z95 * math.sqrt(0.24 / 5 + z2 / 100) / (1 + z2 / 5)
    assert (r.ci_low, r.ci_high) == pytest.approx((centre - half, centre + half))
    assert (r.ci_low, r.ci_high) == pytest.approx(proportion_confint(3, 5, method="wilson"))
    low, high = stats.t.interval(0.95, 4, loc=3.8, scale=stats.sem([5, 4, 3, 2, 5]))
    assert (r.mean_ci_low, r.mean_ci_high) == pytest.approx((low, high))


def test_csat_top_box_and_scale():
    r = sat.csat([7, 6, 5, 1, 0, 8], scale=(1, 7), top_box=3)
    assert r.n == 4 and r.n_invalid == 2 and r.top_box == pytest.approx(0.75)
    with pytest.raises(ParamsError, match="top_box"):
        sat.csat([1, 2], top_box=5)
    with pytest.raises(ParamsError, match="scale"):
        sat.csat([1, 2], scale=(5, 1))


def test_csat_interval_coverage_by_simulation():
    rng = np.random.default_rng(11)
    probs = np.array([0.05, 0.10, 0.15, 0.40, 0.30])
    true_share, true_mean = 0.70, float(probs @ np.arange(1, 6))
    share_hits = mean_hits = 0
    for _ in range(1000):
        r = sat.csat(rng.choice(np.arange(1, 6), size=200, p=probs))
        share_hits += r.ci_low <= true_share <= r.ci_high
        mean_hits += r.mean_ci_low <= true_mean <= r.mean_ci_high
    assert 0.93 <= share_hits / 1000 <= 0.97
    assert 0.93 <= mean_hits / 1000 <= 0.97


# --------------------------------------------------------------------------- BH


def test_benjamini_hochberg_matches_statsmodels(rng):
    for size in (1, 5, 37):
        p = np.concatenate([rng.uniform(0, 1, size), rng.uniform(0, 0.01, size // 3)])
        expected = multipletests(p, method="fdr_bh")[1]
        assert sat.benjamini_hochberg(p) == pytest.approx(expected)
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan])
    out = sat.benjamini_hochberg(p)
    assert np.isnan(out[[1, 4]]).all()
    assert out[[0, 2, 3]] == pytest.approx(multipletests([0.01, 0.04, 0.03], method="fdr_bh")[1])
    with pytest.raises(ParamsError):
        sat.benjamini_hochberg([1.5])


# --------------------------------------------------------------------------- groups


def test_nps_by_group_against_welch_reference(rng):
    frame = pd.DataFrame(
        {
            "segment": np.repeat(["a", "b", "c", "tiny"], [400, 300, 500, 12]),
            "nps": np.concatenate(
                [
                    draw_nps(rng, 400, 0.6, 0.1),
                    draw_nps(rng, 300, 0.3, 0.3),
                    draw_nps(rng, 500, 0.4, 0.2),
                    draw_nps(rng, 12, 0.5, 0.2),
                ]
            ),
        }
    )
    frame.loc[5, "nps"] = 15  # invalid: counted, excluded
    table = sat.nps_by_group(frame, "segment", min_base=30)
    assert list(table.index) == ["a", "b", "c", "tiny"] and table.index.name == "segment"
    assert table.loc["a", "n"] == 399 and table.loc["a", "n_invalid"] == 1

    valid = frame[frame["nps"] <= 10]
    recoded = np.select([valid["nps"] >= 9, valid["nps"] <= 6], [100.0, -100.0], 0.0)
    for g in ["a", "b", "c"]:
        inside = (valid["segment"] == g).to_numpy()
        ref = stats.ttest_ind(recoded[inside], recoded[~inside], equal_var=False)
        assert table.loc[g, "p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert table.loc[g, "nps"] == pytest.approx(recoded[inside].mean())
        assert table.loc[g, "rest_nps"] == pytest.approx(recoded[~inside].mean())
    tested = table["p_value"].notna()
    assert table.loc[tested, "p_adjusted"].to_numpy() == pytest.approx(
        multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
    )
    # the planted best and worst groups are significant and ranked; the small base is not
    assert table.loc["a", "rank"] == 1 and table.loc["b", "rank"] == 3
    assert table.loc[["a", "b"], "significant"].all()
    assert table.loc["tiny", "small_base"] and pd.isna(table.loc["tiny", "rank"])
    assert pd.isna(table.loc["tiny", "p_value"]) and not table.loc["tiny", "significant"]
    assert str(table["rank"].dtype) == "Int64"


def test_csat_by_group_against_two_proportion_z(rng):
    frame = pd.DataFrame(
        {
            "channel": np.repeat(["app", "web", "store"], [300, 300, 300]),
            "csat": np.concatenate(
                [
                    rng.choice([2, 4, 5], 300, p=[0.1, 0.4, 0.5]),
                    rng.choice([2, 3, 4], 300, p=[0.3, 0.4, 0.3]),
                    rng.choice([1, 4, 5], 300, p=[0.3, 0.3, 0.4]),
                ]
            ),
        }
    )
    table = sat.csat_by_group(frame, "channel")
    hit = frame["csat"] >= 4
    for g in table.index:
        inside = frame["channel"] == g
        _, p = proportions_ztest(
            [hit[inside].sum(), hit[~inside].sum()], [inside.sum(), (~inside).sum()]
        )
        assert table.loc[g, "p_value"] == pytest.approx(p)
        assert table.loc[g, "top_box"] == pytest.approx(hit[inside].mean())
    assert table["rank"].tolist() == [1, 2, 3] or table.loc["app", "rank"] == 1
    assert table.loc["web", "rank"] == 3


def test_group_by_several_columns_and_missing_group_values(rng):
    frame = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", None], 600),
            "customer_type": rng.choice(["individual", "enterprise"], 600),
            "nps": draw_nps(rng, 600, 0.4, 0.2),
        }
    )
    table = sat.nps_by_group(frame, ["region", "customer_type"])
    assert table.index.names == ["region", "customer_type"] and len(table) == 4
    # rows without a region form no group but stay in the population ("rest")
    assert (table["n"] + table["rest_n"] == 600).all()


def test_group_errors():
    frame = pd.DataFrame({"segment": ["a"], "csat": [5]})
    with pytest.raises(DataError, match="'region'"):
        sat.nps_by_group(frame, "region")
    with pytest.raises(sat.MissingScoreError, match="no NPS question"):
        sat.nps_by_group(frame, "segment")
    with pytest.raises(ParamsError, match="min_base"):
        sat.csat_by_group(frame, "segment", min_base=0)


# --------------------------------------------------------------------------- trend


def test_score_trend_columns_and_arithmetic(rng):
    frame = planted_survey(rng, n=200)
    web = frame[frame["business_unit"] == "web"]
    trend = sat.score_trend(web)
    assert list(trend.index[:2]) == ["2024-Q1", "2024-Q2"] and len(trend) == 8
    q4 = web[web["response_date"] >= "2025-10-01"]["nps"]
    q3 = web[(web["response_date"] >= "2025-07-01") & (web["response_date"] < "2025-10-01")]["nps"]
    a, b = sat.nps(q4), sat.nps(q3)
    row = trend.loc["2025-Q4"]
    assert row["score"] == pytest.approx(a.nps) and row["previous_score"] == pytest.approx(b.nps)
    z = (a.nps - b.nps) / math.hypot(a.se, b.se)
    assert row["z"] == pytest.approx(z)
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert row["previous_period"] == "2025-Q3" and row["previous_n"] == 200
    assert pd.isna(trend.iloc[0]["p_value"])


def test_score_trend_periods_gaps_and_csat(rng):
    frame = planted_survey(rng, n=100)
    frame = frame[~frame["response_date"].between("2024-07-01", "2024-09-30")]
    trend = sat.score_trend(frame)
    assert trend.loc["2024-Q3", "n"] == 0 and pd.isna(trend.loc["2024-Q4", "p_value"])
    last2 = sat.score_trend(frame, periods=2)
    assert list(last2.index) == ["2025-Q3", "2025-Q4"] and not pd.isna(last2.iloc[0]["p_value"])
    chosen = sat.score_trend(frame, periods=["2025-Q4", "2025-Q1"], score="csat")
    assert list(chosen.index) == ["2025-Q4", "2025-Q1"]
    assert 0 <= chosen.loc["2025-Q4", "score"] <= 1
    monthly = sat.score_trend(frame, freq="M")
    assert monthly.index[0] == "2024-01" and monthly["n"].sum() == len(frame)
    small = sat.score_trend(frame, min_base=10_000)
    assert small["small_base"].all() and small["p_value"].isna().all()


def test_detect_changes_finds_only_the_planted_drop(rng):
    frame = planted_survey(rng)
    changes = sat.detect_changes(frame, by="business_unit")
    assert [(c.group, c.period, c.previous_period, c.direction) for c in changes] == [
        ("web", "2025-Q4", "2025-Q3", "down")
    ]
    c = changes[0]
    assert c.change < -15 and c.p_adjusted < 0.05 and c.n == 700
    assert sat.detect_changes(frame, by="business_unit", min_change=40) == []
    text = sat.change_takeaway(changes)
    assert "web" in text and "2025-Q4" in text and "fell" in text
    assert "下降" in sat.change_takeaway(changes, "zh")


def test_detect_changes_null_data_flags_nothing():
    # 20 seeds of data with no change at all: BH at 5% should flag (almost) nothing
    flagged = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        frame = planted_survey(rng, n=150)
        frame = frame[
            ~((frame["business_unit"] == "web") & (frame["response_date"] >= "2025-10-01"))
        ]
        flagged += bool(sat.detect_changes(frame))
    assert flagged <= 3


def test_trend_errors():
    frame = pd.DataFrame({"response_date": ["2025-01-01"], "nps": [10]})
    with pytest.raises(DataError, match="datetime64"):
        sat.score_trend(frame)
    frame["response_date"] = pd.to_datetime(frame["response_date"])
    with pytest.raises(ParamsError, match="freq"):
        sat.score_trend(frame, freq="fortnight")
    with pytest.raises(ParamsError, match="score"):
        sat.score_trend(frame, score="ces")


# --------------------------------------------------------------------------- attributes


def test_rating_distribution():
    frame = pd.DataFrame(
        {"rating_speed": [1, 5, 5, 4, 6, None], "rating_price": [2, 2, 3, 3, 3, 3]}
    )
    dist = sat.rating_distribution(frame)
    assert list(dist.index) == ["rating_speed", "rating_price"]
    assert dist.loc["rating_speed", [1, 2, 3, 4, 5]].tolist() == [0.25, 0, 0, 0.25, 0.5]
    assert dist.loc["rating_speed", "n"] == 4 and dist.loc["rating_speed", "n_invalid"] == 1
    assert dist[[1, 2, 3, 4, 5]].sum(axis=1).tolist() == pytest.approx([1, 1])
    mixed = sat.rating_distribution(frame, scale={"rating_speed": (1, 7), "rating_price": (1, 5)})
    assert pd.isna(mixed.loc["rating_price", 6]) and mixed.loc["rating_speed", 6] == pytest.approx(
        0.2
    )


def test_cronbach_alpha_hand_computed():
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 3, 5], "c": [1, 3, 4, 4]})
    # item variances 5/3, 19/12, 2 (sum 5.25); total scores 4, 8, 10, 13 have variance 14.25
    # alpha = 3/2 * (1 - 5.25 / 14.25) = 18/19
    r = sat.cronbach_alpha(frame, ["a", "b", "c"])
    assert r.alpha == pytest.approx(18 / 19) and r.reliable and r.n == 4 and r.n_items == 3
    # alpha if "c" is deleted: 2 * (1 - (5/3 + 19/12) / var(a + b))
    ab = frame["a"] + frame["b"]
    assert r.item_stats.loc["c", "alpha_if_deleted"] == pytest.approx(
        2 * (1 - (5 / 3 + 19 / 12) / ab.var())
    )


def test_cronbach_alpha_unreliable_and_errors(rng):
    frame = pd.DataFrame(rng.integers(1, 6, size=(300, 4)), columns=list("abcd"))
    r = sat.cronbach_alpha(frame, list("abcd"))
    assert r.alpha < 0.7 and not r.reliable
    frame.loc[0, "a"] = 9  # invalid: the row is dropped, and counted
    assert sat.cronbach_alpha(frame, list("abcd")).n_dropped == 1
    with pytest.raises(ParamsError, match="two items"):
        sat.cronbach_alpha(frame, ["a"])
    with pytest.raises(ModelError):
        sat.cronbach_alpha(frame.head(2), list("ab"))


def r_squared(x: np.ndarray, y: np.ndarray) -> float:
    """OLS R^2 with an intercept (reference for the tests)."""
    if x.shape[1] == 0:
        return 0.0
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    return float(1 - resid @ resid / ((y - y.mean()) @ (y - y.mean())))


def shapley_r2(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """General dominance weights: each driver's R^2 gain averaged over all orders."""
    p = x.shape[1]
    memo: dict[tuple[int, ...], float] = {}

    def r2(subset: tuple[int, ...]) -> float:
        if subset not in memo:
            memo[subset] = r_squared(x[:, list(subset)], y)
        return memo[subset]

    out = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for subset in itertools.combinations(others, size):
                out[j] += weight * (r2(tuple(sorted(subset + (j,)))) - r2(subset))
    return out


def test_key_drivers_orthogonal_closed_form(rng):
    # a full 5x5x5 factorial: the three drivers are exactly uncorrelated
    grid = np.array(list(itertools.product(range(1, 6), repeat=3)))
    y = np.clip(grid @ np.array([2, 1, 0]) - 5 + rng.integers(-2, 3, len(grid)), 0, 10)
    frame = pd.DataFrame(grid, columns=["rating_a", "rating_b", "rating_c"]).assign(nps=y)
    out = sat.key_drivers(frame, "nps", ["rating_a", "rating_b", "rating_c"], n_boot=50)
    for col in ["rating_a", "rating_b", "rating_c"]:
        r = np.corrcoef(frame[col], frame["nps"])[0, 1]
        assert out.loc[col, "raw_weight"] == pytest.approx(r**2, abs=1e-12)
    assert out["raw_weight"].sum() == pytest.approx(r_squared(grid.astype(float), y))
    assert out["share"].sum() == pytest.approx(100)
    assert list(out.index) == ["rating_a", "rating_b", "rating_c"] and out.index.name == "driver"
    assert out.attrs["n"] == 125 and out.attrs["r2"] == pytest.approx(out["raw_weight"].sum())


def test_key_drivers_approximate_shapley_on_correlated_drivers(rng):
    n = 800
    corr = np.array(
        [[1, 0.5, 0.3, 0.2], [0.5, 1, 0.4, 0.3], [0.3, 0.4, 1, 0.2], [0.2, 0.3, 0.2, 1]]
    )
    latent = rng.multivariate_normal(np.zeros(4), corr, size=n)
    ratings = np.clip(np.round(3 + latent), 1, 5)
    y = np.clip(
        np.round(5 + latent @ np.array([1.2, 0.7, 0.35, 0.0]) + rng.normal(0, 1.2, n)), 0, 10
    )
    names = ["rating_w", "rating_x", "rating_y", "rating_z"]
    frame = pd.DataFrame(ratings, columns=names).assign(nps=y)
    out = sat.key_drivers(frame, "nps", names, n_boot=100)
    dominance = pd.Series(shapley_r2(ratings, y), index=names)
    # Relative weights approximate general dominance weights closely (Johnson 2000;
    # LeBreton et al. 2004 report differences of about 0.01 R^2 or less); with
    # inter-driver correlations <= 0.5 the largest gap found in 20 random designs was
    # 0.008, so 0.01 (R^2 units) and 2 share points are tight but safe tolerances.
    assert out["raw_weight"].sum() == pytest.approx(dominance.sum(), abs=1e-9)  # both = R^2
    assert (out["raw_weight"] - dominance.reindex(out.index)).abs().max() < 0.01
    shares = 100 * dominance / dominance.sum()
    assert (out["share"] - shares.reindex(out.index)).abs().max() < 2.0
    assert list(out.index) == list(dominance.sort_values(ascending=False).index)
    assert list(out.index[:3]) == ["rating_w", "rating_x", "rating_y"]  # the planted order
    assert ((out["ci_low"] <= out["share"]) & (out["share"] <= out["ci_high"])).all()
    assert (out["sign"].loc[["rating_w", "rating_x", "rating_y"]] == 1).all()


def test_key_drivers_sign_bootstrap_and_counts(rng):
    n = 400
    a = rng.integers(1, 6, n)
    b = rng.integers(1, 6, n)
    y = np.clip(np.round(2 + a - 0.8 * b + rng.normal(0, 1, n) + 2), 1, 5)
    frame = pd.DataFrame({"rating_a": a, "rating_b": b, "csat": y})
    frame.loc[:9, "rating_b"] = np.nan
    frame.loc[10, "rating_a"] = 8  # outside 1-5: left out, and said so
    with pytest.warns(UserWarning, match=r"left out 1 of 400 rows.*rating_a: 1 outside 1-5"):
        out = sat.key_drivers(frame, "csat", ["rating_a", "rating_b"], n_boot=60, random_state=3)
    assert out.loc["rating_b", "sign"] == -1 and out.loc["rating_a", "sign"] == 1
    assert out.attrs["n"] == n - 11 and out.attrs["n_dropped"] == 11
    assert out.attrs["dropped"] == {"out_of_scale": 1, "missing": 10}
    assert out.attrs["n_invalid"]["rating_a"] == 1
    with pytest.warns(UserWarning):
        again = sat.key_drivers(frame, "csat", ["rating_a", "rating_b"], n_boot=60, random_state=3)
    pd.testing.assert_frame_equal(out, again)
    clean = frame.drop(index=10)
    none = sat.key_drivers(clean, "csat", ["rating_a", "rating_b"], n_boot=0)
    assert none["ci_low"].isna().all() and none.attrs["interval_note"] == "not_requested"


def test_key_drivers_leave_out_constant_and_aliased_drivers_and_say_so(rng):
    a = rng.integers(1, 6, 50)
    frame = pd.DataFrame(
        {
            "rating_a": a,
            "rating_b": a,
            "rating_c": 3,
            "rating_d": rng.integers(1, 6, 50),
            "csat": np.clip(a + rng.integers(-1, 2, 50), 1, 5),
        }
    )
    out = sat.key_drivers(frame, "csat", ["rating_a", "rating_b", "rating_c", "rating_d"], n_boot=0)
    # rating_b is rating_a again: one of the pair is left out (the later listed)
    assert out.attrs["dropped_drivers"] == {"rating_c": "no_variation", "rating_b": "aliased"}
    assert sorted(out.index) == ["rating_a", "rating_d"] and out.attrs["n_drivers"] == 2
    alone = sat.key_drivers(frame, "csat", ["rating_a", "rating_d"], n_boot=0)
    pd.testing.assert_frame_equal(out, alone, check_like=True)  # the same model


def test_key_drivers_errors_say_what_was_wrong(rng):
    a = rng.integers(1, 6, 50)
    frame = pd.DataFrame(
        {"rating_a": a, "rating_c": 3, "csat": rng.integers(1, 6, 50), "rating_x": a * 2}
    )
    with pytest.raises(ModelError, match="needs at least 4 usable rows for 1 driver"):
        sat.key_drivers(frame.head(3), "csat", ["rating_a"], n_boot=0)
    with pytest.raises(ModelError, match="single value"):
        sat.key_drivers(frame.assign(csat=4), "csat", ["rating_a"], n_boot=0)
    with pytest.raises(ModelError, match=r"no driver of 'csat' varies .*rating_c"):
        sat.key_drivers(frame, "csat", ["rating_c"], n_boot=0)
    # a 1-10 item read on the default 1-5 scale: the error names the column, the count
    # outside the scale and how to declare it, never a bare "got 0"
    ten = frame.assign(rating_x=np.r_[np.full(49, 8), 1])
    with (
        pytest.warns(UserWarning),
        pytest.raises(
            ModelError,
            match=r"got 1; of the 50 rows, 49 have an answer outside its declared scale .*"
            r"rating_x: 49 outside 1-5; declare the survey's scale with scale=",
        ),
    ):
        sat.key_drivers(ten, "csat", ["rating_x"], n_boot=0)
    with pytest.raises(sat.MissingScoreError, match="no NPS question"):
        sat.key_drivers(frame, "nps", ["rating_a"], n_boot=0)
    with pytest.raises(ParamsError, match="outcome"):
        sat.key_drivers(frame, "csat", ["csat", "rating_a"], n_boot=0)


def test_relative_weights_closed_form_continuous(rng):
    # QR of [1, noise]: the other columns are exactly centred and mutually orthogonal
    x = np.linalg.qr(np.column_stack([np.ones(200), rng.normal(size=(200, 3))]))[0][:, 1:]
    y = x @ np.array([3.0, 1.0, 0.5]) + rng.normal(0, 0.05, 200)
    raw, r2, _ = sat.relative_weights(x, y)
    expected = np.array([np.corrcoef(x[:, j], y)[0, 1] ** 2 for j in range(3)])
    assert raw == pytest.approx(expected, abs=1e-10)
    assert r2 == pytest.approx(r_squared(x, y))


def test_importance_performance_quadrants():
    frame = pd.DataFrame(
        {
            "rating_delivery": [2, 2, 3, 1],  # mean 2.0, important  -> fix first
            "rating_price": [5, 4, 5, 4],  # mean 4.5, important   -> keep up
            "rating_app": [2, 3, 2, 3],  # mean 2.5, unimportant  -> low priority
            "rating_wrapping": [5, 5, 5, 9],  # mean 5.0 (9 invalid), unimportant -> overkill
        }
    )
    weights = {"rating_delivery": 40, "rating_price": 35, "rating_app": 15, "rating_wrapping": 10}
    ipa = sat.importance_performance(frame, list(weights), weights)
    table = ipa.table
    assert ipa.importance_split == pytest.approx(25) and ipa.performance_split == pytest.approx(3.5)
    assert table["quadrant"].to_dict() == {
        "rating_delivery": "fix_first",
        "rating_price": "keep_up",
        "rating_app": "low_priority",
        "rating_wrapping": "possible_overkill",
    }
    assert ipa.fix_first_list == ["rating_delivery"]
    assert table.loc["rating_wrapping", "n"] == 3
    zh = sat.importance_performance(frame, list(weights), pd.Series(weights), language="zh")
    assert zh.table.loc["rating_delivery", "quadrant_label"] == "优先改进"
    with pytest.raises(ParamsError, match="no importance weight for .rating_price"):
        sat.importance_performance(frame, list(weights), {"rating_delivery": 1})
    assert "delivery" in sat.ipa_takeaway(ipa)


def test_importance_performance_takes_key_drivers_table(rng):
    n = 300
    a, b, c = (rng.integers(1, 6, n) for _ in range(3))
    frame = pd.DataFrame({"rating_a": a, "rating_b": b, "rating_c": c})
    frame["csat"] = np.clip(np.round(0.8 * a + 0.3 * b + rng.normal(0, 0.7, n) - 0.5), 1, 5)
    drivers = sat.key_drivers(frame, "csat", ["rating_a", "rating_b", "rating_c"], n_boot=0)
    ipa = sat.importance_performance(frame, ["rating_a", "rating_b", "rating_c"], drivers)
    assert ipa.table.loc["rating_a", "importance"] == pytest.approx(
        drivers.loc["rating_a", "share"]
    )


# --------------------------------------------------------------------------- no NPS question


def test_survey_without_nps_question(rng):
    n = 400
    latent = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "response_date": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "touchpoint": rng.choice(["app", "store"], n),
            "rating_speed": np.clip(np.round(3 + latent + rng.normal(0, 0.6, n)), 1, 5),
            "rating_staff": np.clip(np.round(3 + latent + rng.normal(0, 0.6, n)), 1, 5),
            "rating_overall": np.clip(np.round(3 + latent + rng.normal(0, 0.5, n)), 1, 5),
        }
    )
    assert not sat.has_score(frame, "nps") and sat.has_score(frame, "rating_overall")
    assert sat.cronbach_alpha(frame, ["rating_speed", "rating_staff"]).reliable
    assert len(sat.rating_distribution(frame)) == 3
    drivers = sat.key_drivers(frame, "rating_overall", ["rating_speed", "rating_staff"], n_boot=20)
    assert drivers["share"].sum() == pytest.approx(100)
    assert len(sat.csat_by_group(frame, "touchpoint", score_col="rating_overall")) == 2
    assert len(sat.score_trend(frame, score="csat", score_col="rating_overall")) == 4
    for call in (
        lambda: sat.nps_by_group(frame, "touchpoint"),
        lambda: sat.score_trend(frame),
        lambda: sat.detect_changes(frame, by="touchpoint"),
    ):
        with pytest.raises(sat.MissingScoreError, match="no NPS question") as info:
            call()
        assert isinstance(info.value, DataError) and info.value.column == "nps"
    frame["nps"] = np.nan  # the column exists but nobody was asked
    with pytest.raises(sat.MissingScoreError):
        sat.nps_by_group(frame, "touchpoint")
    assert sat.nps(frame["nps"]).n == 0


# --------------------------------------------------------------------------- catalogs and takeaways


def _placeholders(text: str) -> set[str]:
    """The fields a message fills in; an English plural choice ``{n|one|other}`` reads the
    count ``n`` (analysis.i18n.plural_forms)."""
    return {name.split("|")[0] for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_have_the_same_keys_and_placeholders():
    from pathlib import Path

    root = Path(sat.__file__).resolve().parents[1] / "messages"
    en = yaml.safe_load((root / "en" / "satisfaction.yaml").read_text(encoding="utf-8"))
    zh = yaml.safe_load((root / "zh" / "satisfaction.yaml").read_text(encoding="utf-8"))
    assert set(en) == set(zh)
    assert all(k.startswith("satisfaction.") for k in en)
    for key in en:
        assert _placeholders(en[key]) == _placeholders(zh[key]), key
    cjk = re.compile(r"[\u4e00-\u9fff]")
    untranslated = [
        k
        for k in zh
        if not cjk.search(zh[k])
        and k
        not in ("satisfaction.metric.nps", "satisfaction.column.nps", "satisfaction.list_separator")
    ]
    assert untranslated == []
    for q in sat.QUADRANTS:
        assert t(f"satisfaction.quadrant.{q}", "zh")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_takeaways_render(language, rng):
    assert "+25" in sat.nps_takeaway(sat.nps([10, 9, 8, 7, 6, 0, 10, 10]), language)
    assert "60%" in sat.csat_takeaway(sat.csat([5, 4, 3, 2, 5]), language)
    assert sat.nps_takeaway(sat.nps([None]), language) == t(
        "satisfaction.takeaway.no_responses", language
    )
    frame = pd.DataFrame({"g": np.repeat(["a", "b"], 100), "nps": draw_nps(rng, 200, 0.4, 0.2)})
    assert "a" in sat.groups_takeaway(sat.nps_by_group(frame, "g"), language)
    assert sat.change_takeaway([], language)
    rel = sat.cronbach_alpha(pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 3, 5]}), ["a", "b"])
    assert "0." in sat.reliability_takeaway(rel, language)


# --------------------------------------------------------------------------- bundled sample


@pytest.fixture(scope="module")
def sample():
    module = pytest.importorskip("analysis.data.sample")
    return module.generate_sample(n_customers=20_000, seed=42)


def test_sample_planted_nps_drop_is_the_only_change(sample):
    truth = sample.truth["nps_drop"]
    changes = sat.detect_changes(sample.survey_responses, by="business_unit")
    found = [(c.group, c.period, c.previous_period, c.direction) for c in changes]
    assert found == [(truth["unit"], truth["period"], truth["previous_period"], "down")]


def test_sample_planted_drivers_recovered_in_order(sample):
    truth = sample.truth["satisfaction_driver_weights"]
    survey = sample.survey_responses
    drivers = [c for c in survey.columns if c.startswith("rating_")]
    assert set(truth) <= set(drivers)
    out = sat.key_drivers(survey, "nps", sorted(truth), n_boot=50)
    expected = sorted(truth, key=truth.get, reverse=True)[:3]
    assert list(out.index[:3]) == expected


def test_empty_selection_gives_empty_results_not_missing_question():
    frame = pd.DataFrame(
        {
            "seg": ["a"],
            "business_unit": ["x"],
            "nps": [10],
            "csat": [5],
            "response_date": pd.to_datetime(["2025-01-01"]),
        }
    ).iloc[:0]
    assert sat.nps_by_group(frame, "seg").empty and sat.csat_by_group(frame, "seg").empty
    assert sat.score_trend(frame).empty and sat.detect_changes(frame) == []

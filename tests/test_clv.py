"""Tests for analysis.clv against published CDNOW estimates, lifetimes (test-only reference)
and data simulated from the models with known parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value
from analysis.errors import DataError, ModelError, ParamsError

lifetimes = pytest.importorskip("lifetimes")


@pytest.fixture(scope="module")
def cdnow():
    """CDNOW calibration summary (2,357 customers, weeks) with mean repeat spend."""
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

    return load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def bg_cdnow(cdnow):
    return BetaGeoModel().fit(cdnow)


@pytest.fixture(scope="module")
def gg_cdnow(cdnow):
    return GammaGammaModel().fit(cdnow)


@pytest.fixture(scope="module")
def reference_models(cdnow):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgf = lifetimes.BetaGeoFitter().fit(
            cdnow["frequency"].to_numpy(), cdnow["recency"].to_numpy(), cdnow["T"].to_numpy()
        )
        repeat = cdnow[cdnow["frequency"] > 0]
        ggf = lifetimes.GammaGammaFitter().fit(
            repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy()
        )
    return bgf, ggf


def simulate_bgnbd(rng, n, r, alpha, a, b, T):
    """Draw (frequency, recency, T) from the BG/NBD story: rate lambda ~ Gamma(r, alpha),
    dropout p ~ Beta(a, b) after each repeat purchase, first purchase at time 0."""
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    x, t_x = np.zeros(n), np.zeros(n)
    now = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        now[idx] += rng.exponential(1 / lam[idx])
        beyond = now[idx] > T[idx]
        alive[idx[beyond]] = False
        buy = idx[~beyond]
        x[buy] += 1
        t_x[buy] = now[buy]
        alive[buy[rng.random(len(buy)) < p[buy]]] = False
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T})


# --------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------


def test_bgnbd_reproduces_published_cdnow_estimates(bg_cdnow):
    # Fader, Hardie & Lee (2005), Table/Section 5: r=0.243, alpha=4.414, a=0.793, b=2.426,
    # LL=-9582.4; lifetimes' own test checks the same numbers to 3 decimals.
    got = bg_cdnow.params_
    for key, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert got[key] == pytest.approx(published, abs=5e-4), key
    assert bg_cdnow.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert bg_cdnow.converged_ and bg_cdnow.n_customers_ == 2357
    assert bg_cdnow.n_repeat_customers_ == 946


def test_bgnbd_conditional_expectation_matches_hardie_spreadsheet(bg_cdnow):
    # Expected purchases in the next 39 weeks for x=2, t_x=30.43, T=38.86 (FHL 2005): 1.226.
    assert bg_cdnow.expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=1e-3)


def test_bgnbd_matches_lifetimes(bg_cdnow, reference_models, cdnow):
    bgf, _ = reference_models
    for key in ("r", "alpha", "a", "b"):
        assert bg_cdnow.params_[key] == pytest.approx(bgf.params_[key], rel=1e-2)
    x, t_x, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(
        bg_cdnow.p_alive(x, t_x, T), bgf.conditional_probability_alive(x, t_x, T), rtol=1e-2
    )
    for t in (1.0, 10.0, 52.0):
        np.testing.assert_allclose(
            bg_cdnow.expected_purchases(t, x, t_x, T),
            bgf.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T),
            rtol=1e-2,
        )
    # Standard errors: the observed information, as lifetimes reports them.
    np.testing.assert_allclose(
        bg_cdnow.summary["std_error"].to_numpy(),
        bgf.summary.loc[["r", "alpha", "a", "b"], "se(coef)"].to_numpy(),
        rtol=1e-2,
    )


def test_bgnbd_predictions_keep_series_index_and_edge_values(bg_cdnow, reference_models, cdnow):
    p = bg_cdnow.p_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert isinstance(p, pd.Series) and p.index.equals(cdnow.index)
    assert (p[cdnow["frequency"] == 0] == 1.0).all()
    assert bg_cdnow.expected_purchases(0, 3, 10, 30) == 0.0
    # Heavy buyers stay finite and exact (Euler's transformation of 2F1).
    bgf, _ = reference_models
    x = np.array([50.0, 400.0, 2000.0])
    np.testing.assert_allclose(
        bg_cdnow.expected_purchases(52, x, 39, 39),
        bgf.conditional_expected_number_of_purchases_up_to_time(52, x, 39, 39),
        rtol=1e-2,
    )
    assert bg_cdnow.expected_purchases(52, 2000, 39, 39) > 1500


def test_bgnbd_recovers_simulated_parameters(rng):
    truth = {"r": 0.6, "alpha": 12.0, "a": 0.8, "b": 2.5}
    summary = simulate_bgnbd(rng, 8000, *truth.values(), T=rng.uniform(30, 80, 8000))
    model = BetaGeoModel().fit(summary)
    se = model.summary["std_error"]
    for key, value in truth.items():
        assert abs(model.params_[key] - value) < 3 * se[key], (key, model.params_[key], se[key])


def test_bgnbd_time_scale_is_equivariant(cdnow):
    weeks = BetaGeoModel().fit(cdnow)
    days = BetaGeoModel().fit(cdnow.assign(recency=cdnow["recency"] * 7, T=cdnow["T"] * 7))
    assert days.params_["alpha"] == pytest.approx(7 * weeks.params_["alpha"], rel=1e-5)
    assert days.params_["r"] == pytest.approx(weeks.params_["r"], rel=1e-5)


def test_bgnbd_penalizer_shrinks(cdnow, bg_cdnow):
    penalised = BetaGeoModel(penalizer_coef=0.01).fit(cdnow)
    plain = np.array(list(bg_cdnow.params_.values()))
    shrunk = np.array(list(penalised.params_.values()))
    assert np.sum(shrunk**2) < np.sum(plain**2)


def test_bgnbd_model_errors(rng):
    few = pd.DataFrame(
        {"frequency": [0.0] * 50 + [1.0] * 5, "recency": [0.0] * 50 + [3.0] * 5, "T": 10.0}
    )
    with pytest.raises(
        ModelError, match="at least 20 customers with repeat purchases.*these data have 5"
    ):
        BetaGeoModel().fit(few)
    once = pd.DataFrame({"frequency": 0.0, "recency": 0.0, "T": rng.uniform(1, 50, 100)})
    with pytest.raises(ModelError, match="have 0"):
        BetaGeoModel().fit(once)
    # Everyone still buying at the very end: nobody drops out, a -> 0 at the boundary.
    never_stop = pd.DataFrame({"frequency": np.arange(200) % 5 + 1.0, "recency": 50.0, "T": 50.0})
    with pytest.raises(ModelError, match="did not converge"):
        BetaGeoModel().fit(never_stop)
    with pytest.raises(ModelError, match="not fitted"):
        BetaGeoModel().p_alive(1, 1, 2)


def test_bgnbd_data_errors():
    with pytest.raises(DataError, match="column 'T'"):
        BetaGeoModel().fit(pd.DataFrame({"frequency": [1.0], "recency": [1.0]}))
    with pytest.raises(DataError, match="recency must not exceed T"):
        BetaGeoModel().fit(pd.DataFrame({"frequency": [1.0], "recency": [5.0], "T": [4.0]}))
    with pytest.raises(DataError, match="whole number"):
        BetaGeoModel().fit(pd.DataFrame({"frequency": [1.5], "recency": [1.0], "T": [4.0]}))
    with pytest.raises(ParamsError, match="penalizer_coef"):
        BetaGeoModel(penalizer_coef=-1).fit(
            pd.DataFrame({"frequency": [1.0], "recency": [1.0], "T": [4.0]})
        )


# --------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------


def test_gamma_gamma_reproduces_published_cdnow_estimates(gg_cdnow):
    # Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value": p=6.25, q=3.74,
    # gamma=15.44, LL=-4055.92 on the 946 CDNOW repeat customers. The published values have
    # two decimals and lifetimes' copy of the data rounds spend to cents: within 0.2%.
    got = gg_cdnow.params_
    assert got["p"] == pytest.approx(6.25, rel=2e-3)
    assert got["q"] == pytest.approx(3.74, rel=2e-3)
    assert got["v"] == pytest.approx(15.44, rel=2e-3)
    assert gg_cdnow.log_likelihood_ == pytest.approx(-4055.92, abs=0.01)
    assert gg_cdnow.n_customers_ == 946 and gg_cdnow.n_excluded_ == 0
    assert gg_cdnow.mean_value_ == pytest.approx(got["p"] * got["v"] / (got["q"] - 1))


def test_gamma_gamma_matches_lifetimes(gg_cdnow, reference_models, cdnow):
    _, ggf = reference_models
    for key in ("p", "q", "v"):
        assert gg_cdnow.params_[key] == pytest.approx(ggf.params_[key], rel=1e-2)
    ours = gg_cdnow.conditional_expected_value(cdnow["frequency"], cdnow["monetary_value"])
    ref = ggf.conditional_expected_average_profit(cdnow["frequency"], cdnow["monetary_value"])
    np.testing.assert_allclose(ours.to_numpy(), np.asarray(ref), rtol=1e-2)
    assert (ours[cdnow["frequency"] == 0] == gg_cdnow.mean_value_).all()


def test_gamma_gamma_recovers_simulated_parameters(rng):
    truth = {"p": 4.0, "q": 5.0, "v": 60.0}
    n = 4000
    x = rng.integers(1, 12, n).astype(float)
    nu = rng.gamma(truth["q"], 1 / truth["v"], n)
    spend = np.array(
        [rng.gamma(truth["p"], 1 / nu_i, int(k)).mean() for nu_i, k in zip(nu, x, strict=True)]
    )
    model = GammaGammaModel().fit(pd.DataFrame({"frequency": x, "monetary_value": spend}))
    se = model.summary["std_error"]
    for key, value in truth.items():
        assert abs(model.params_[key] - value) < 3 * se[key], (key, model.params_[key], se[key])


def test_gamma_gamma_excludes_nonpositive_spend_and_errors(cdnow):
    data = cdnow.copy()
    data.iloc[:3, data.columns.get_loc("monetary_value")] = -5.0  # customers 1-3: refunds
    model = GammaGammaModel().fit(data)
    assert model.n_excluded_ == 2  # customers 1 and 2 repeat, customer 3 never did
    assert model.conditional_expected_value(2, -5.0) == pytest.approx(model.mean_value_)
    few = cdnow[cdnow["frequency"] > 0].head(10)
    with pytest.raises(ModelError, match="at least 20 repeat customers"):
        GammaGammaModel().fit(few)
    with pytest.raises(DataError, match="column 'monetary_value'"):
        GammaGammaModel().fit(cdnow[["frequency", "recency", "T"]])
    # Every customer spends the same on average: q -> infinity, no finite estimate.
    same = pd.DataFrame({"frequency": np.tile([1.0, 2.0, 4.0], 40), "monetary_value": 25.0})
    same["monetary_value"] += np.tile([-1.0, 0.0, 1.0], 40) * 0.01
    with pytest.raises(ModelError, match="hardly differs between customers"):
        GammaGammaModel().fit(same)


# --------------------------------------------------------------------------------------
# CLV
# --------------------------------------------------------------------------------------


def test_clv_matches_lifetimes_recipe(bg_cdnow, gg_cdnow, reference_models, cdnow):
    bgf, ggf = reference_models
    monthly = 1.10 ** (1 / 12) - 1
    ours = customer_lifetime_value(bg_cdnow, gg_cdnow, cdnow, time_unit="W")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ggf.customer_lifetime_value(
            bgf,
            cdnow["frequency"],
            cdnow["recency"],
            cdnow["T"],
            cdnow["monetary_value"],
            time=12,
            discount_rate=monthly,
            freq="W",
        )
    np.testing.assert_allclose(ours["clv"].to_numpy(), ref.to_numpy(), rtol=1e-2)
    assert list(ours.columns) == ["p_alive", "expected_purchases", "expected_value", "clv"]
    assert ours.index.equals(cdnow.index)
    # Customers without repeat purchases are valued at the population mean spend.
    once = ours[cdnow["frequency"] == 0]
    assert (once["expected_value"] == gg_cdnow.mean_value_).all() and (once["clv"] > 0).all()


def test_clv_discounting_and_horizon(bg_cdnow, gg_cdnow, cdnow):
    flat = customer_lifetime_value(
        bg_cdnow, gg_cdnow, cdnow, time_unit="W", discount_rate_annual=0.0
    )
    discounted = customer_lifetime_value(bg_cdnow, gg_cdnow, cdnow, time_unit="W")
    np.testing.assert_allclose(flat["clv"], flat["expected_purchases"] * flat["expected_value"])
    assert (discounted["clv"] < flat["clv"]).all()
    longer = customer_lifetime_value(bg_cdnow, gg_cdnow, cdnow, time_unit="W", horizon_months=24)
    assert (longer["clv"] > discounted["clv"]).all()


def test_clv_checks_time_unit_and_params(bg_cdnow, gg_cdnow, cdnow):
    tagged = cdnow.copy()
    tagged.attrs["time_unit"] = "D"
    with pytest.raises(ParamsError, match="summary was made in 'D'"):
        customer_lifetime_value(bg_cdnow, gg_cdnow, tagged, time_unit="W")
    with pytest.raises(ParamsError, match="horizon_months"):
        customer_lifetime_value(bg_cdnow, gg_cdnow, cdnow, horizon_months=0, time_unit="W")
    with pytest.raises(ModelError, match="not fitted"):
        customer_lifetime_value(BetaGeoModel(), gg_cdnow, cdnow, time_unit="W")


def test_end_to_end_from_orders_in_days(rng):
    """rfm_summary -> both models -> CLV on simulated orders; the time unit travels along."""
    from analysis.value import rfm_summary

    summary = simulate_bgnbd(
        rng, 1500, 0.5, 20.0, 0.7, 3.0, T=rng.integers(60, 400, 1500).astype(float)
    )
    rows = []
    end = pd.Timestamp("2024-12-31")
    for i, (x, t_x, T) in enumerate(summary[["frequency", "recency", "T"]].itertuples(index=False)):
        first = end - pd.Timedelta(days=int(T))
        days = np.unique(np.round(np.sort(rng.uniform(0, t_x, int(x))))) if x else []
        level = rng.gamma(4.0, 5.0)  # customers differ in how much they spend
        for offset in [0.0, *days]:
            rows.append((f"c{i}", first + pd.Timedelta(days=float(offset)), level * rng.gamma(3)))
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    rfm = rfm_summary(orders, end)
    bg = BetaGeoModel().fit(rfm)
    gg = GammaGammaModel().fit(rfm)
    assert bg.time_unit_ == "D" and gg.time_unit_ == "D"
    clv = customer_lifetime_value(bg, gg, rfm)
    assert len(clv) == len(rfm) and clv["clv"].notna().all() and (clv["clv"] >= 0).all()

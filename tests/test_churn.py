"""analysis.churn: labels without leakage, the cause model against statsmodels and the
planted truth, edge cases, a telecom-style contractual frame, the risk model, survival and
the early-warning list."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis import churn
from analysis.churn._common import roc_auc, roc_auc_rows
from analysis.churn.risk import TreeScores, partial_dependence, permutation_importance
from analysis.churn.survival import cox_efron
from analysis.errors import ModelError, ParamsError

END = pd.Timestamp("2026-01-01")  # the sample's 2025-Q4 report: data before this day


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The default 20,000-customer sample, cleaned as the reports see it, and its truth."""
    from analysis.config import load_params
    from analysis.data.load import load_dataset
    from analysis.data.sample import write_sample

    folder = write_sample(tmp_path_factory.mktemp("churn_sample"), n_customers=20_000, seed=42)
    params = load_params(overrides={"data_dir": str(folder), "quality": {"today": "2026-06-30"}})
    data = load_dataset(params)
    import json

    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return data, truth


def _frame_kw(data, window: int) -> dict:
    return dict(
        window_days=window,
        customers=data.customers,
        surveys=data.survey_responses,
        interactions=data.interactions,
    )


def _logit_fixture(rng: np.random.Generator, n: int = 300) -> pd.DataFrame:
    x1 = rng.normal(50, 10, n)
    x2 = rng.gamma(2.0, 3.0, n)
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    lin = -0.5 + 0.06 * (x1 - 50) - 0.15 * x2 + np.where(plan == "pro", -1.0, 0.0) + 0.8
    churned = rng.random(n) < 1 / (1 + np.exp(-lin))
    return pd.DataFrame({"x1": x1, "x2": x2, "plan": plan, "churned": churned})


# --------------------------------------------------------------------------- window, labels
def test_window_from_gaps_with_bounds_fallback_and_param():
    orders = pd.DataFrame(
        {
            "customer_id": ["a"] * 4 + ["b"] * 2,
            "order_date": pd.to_datetime(
                ["2024-01-01", "2024-02-10", "2024-03-01", "2024-05-01", "2024-01-05", "2024-01-15"]
            ),
            "amount": [10.0, 10.0, 10.0, 10.0, 5.0, -5.0],  # b's second day is a refund only
        }
    )
    w = churn.churn_window(orders, "2024-06-01", min_gaps=1, min_days=7)
    assert (w.days, w.n_gaps, w.source) == (57, 3, "gaps")  # 90th pct of 40, 20, 61 -> 56.8
    assert np.isclose(w.gap_quantile_days, np.quantile([40, 20, 61], 0.9))
    clipped = churn.churn_window(orders, "2024-06-01", min_gaps=1, min_days=7, max_days=30)
    assert clipped.days == 30 and clipped.clipped
    fallback = churn.churn_window(orders, "2024-06-01")  # fewer than 30 gaps
    assert (fallback.days, fallback.source) == (90, "fallback")
    assert churn.churn_window(orders, "2024-06-01", window_days=45).source == "param"
    with pytest.raises(ParamsError, match="quantile"):
        churn.churn_window(orders, "2024-06-01", quantile=1.5)


def test_snapshots_need_history():
    s = churn.plan_snapshots("2026-01-01", "2024-01-01", 90)
    assert s.test == pd.Timestamp("2025-10-03") and s.train == pd.Timestamp("2025-07-05")
    assert s.out_of_time
    short = churn.plan_snapshots("2026-01-01", "2025-07-01", 60)
    assert short.test is not None and short.train is None and not short.out_of_time
    assert churn.plan_snapshots("2026-01-01", "2025-11-01", 60).test is None


def test_labels_noncontractual_and_contractual():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "d"],
            "order_date": pd.to_datetime(
                ["2025-01-10", "2025-07-10", "2025-05-01", "2023-01-01", "2025-06-20"]
            ),
            "amount": 10.0,
        }
    )
    labels = churn.churn_labels(orders, "2025-07-01", 30)
    # c last bought more than 365 days before: not in the population
    assert labels.to_dict() == {"a": False, "b": True, "d": True}
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "signup_date": pd.to_datetime(["2024-01-01"] * 4 + ["2025-08-01"]),
            "churned": [False, True, True, True, False],
            "churn_date": pd.to_datetime([None, "2025-07-15", "2025-03-01", None, None]),
        }
    )
    contractual = churn.churn_labels(
        orders, "2025-07-01", 30, definition="contractual", customers=customers
    )
    # c churned before the snapshot, d has no churn date, e signed up later
    assert contractual.to_dict() == {"a": False, "b": True}
    assert contractual.attrs["undated"] == 1


def test_period_churn_both_definitions():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "b", "b", "c"],
            "order_date": pd.to_datetime(["2025-06-20", "2025-06-25", "2025-09-15", "2025-05-20"]),
            "amount": [10.0, 20.0, 30.0, 40.0],
        }
    )
    pc = churn.period_churn(orders, "2025-07-01", "2025-10-01", 30)
    assert (pc.base, pc.churned, pc.customer_ids) == (2, 1, ("a",))
    assert pc.rate == 0.5 and pc.revenue_lost == 10.0
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "signup_date": pd.to_datetime(["2024-01-01"] * 3),
            "churned": [True, False, True],
            "churn_date": pd.to_datetime(["2025-08-01", None, "2025-05-01"]),
        }
    )
    pc = churn.period_churn(
        orders, "2025-07-01", "2025-10-01", 30, definition="contractual", customers=customers
    )
    assert (pc.base, pc.churned, pc.revenue_lost) == (2, 1, 10.0)


# --------------------------------------------------------------------------- no leakage
def test_changing_data_after_the_snapshot_cannot_change_the_features(sample, rng):
    data, _ = sample
    snapshot = pd.Timestamp("2025-07-01")
    kw = _frame_kw(data, 90)
    before = churn.churn_frame(data.orders, snapshot, **kw)

    orders = data.orders.copy()
    later = orders["order_date"] >= snapshot
    orders.loc[later, "amount"] *= rng.uniform(0.1, 5.0, later.sum())  # change later orders
    orders.loc[later, "discount"] = 99.0
    orders = orders.drop(orders.index[later][::3])  # drop a third of them
    extra = orders.loc[orders["order_date"] < snapshot].sample(500, random_state=1)
    extra = extra.assign(
        order_date=snapshot + pd.Timedelta(days=3), order_id=lambda d: d.order_id + "x"
    )
    orders = pd.concat([orders, extra], ignore_index=True)  # and add new later orders
    surveys = data.survey_responses.copy()
    s_later = surveys["response_date"] >= snapshot
    surveys.loc[s_later, "csat"] = 1.0
    interactions = data.interactions.copy()
    i_later = interactions["date"] >= snapshot
    interactions.loc[i_later, "type"] = "complaint"
    customers = data.customers.copy()
    customers["churn_date"] = customers["churn_date"].where(
        customers["churn_date"] < snapshot, snapshot + pd.Timedelta(days=10)
    )
    after = churn.churn_frame(
        orders,
        snapshot,
        window_days=90,
        customers=customers,
        surveys=surveys,
        interactions=interactions,
    )
    features = [c for c in before.columns if c != "churned"]
    pd.testing.assert_frame_equal(before[features], after[features])
    assert not before["churned"].equals(after["churned"])  # the label does look ahead
    unlabelled = churn.churn_frame(orders, snapshot, label=False, **{**kw, "surveys": surveys})
    pd.testing.assert_frame_equal(before[features], unlabelled[features])


# --------------------------------------------------------------------------- cause model
@pytest.mark.parametrize("which", ["train", "test"])
def test_planted_churn_drivers_are_recovered(sample, which):
    data, truth = sample
    window = churn.churn_window(data.orders, END)
    snaps = churn.plan_snapshots(END, data.orders["order_date"].min(), window.days)
    frame = churn.churn_frame(data.orders, getattr(snaps, which), **_frame_kw(data, window.days))
    features = [f for f in churn.DRIVER_FEATURES if f in frame.columns]
    result = churn.churn_drivers(frame, "churned", features)
    table = result.odds_ratios.set_index("feature")
    recovered = {}
    for name, sign in truth["churn_drivers"].items():
        ratio, p = table.loc[name, "odds_ratio"], table.loc[name, "p_value"]
        recovered[name] = (round(ratio, 3), p)
        assert np.sign(math.log(ratio)) == sign, (name, ratio)
        assert p < 0.01, (name, p)
    assert result.auc_kind_ == "holdout" and result.auc_ > 0.75
    assert not result.penalised_ and result.notes_ == []


def test_odds_ratios_equal_a_direct_statsmodels_fit(rng):
    frame = _logit_fixture(rng)
    result = churn.churn_drivers(frame, "churned")
    # the same model by hand: z-scores (ddof=0), dummies against the most frequent level
    X = pd.DataFrame(
        {
            "x1": (frame.x1 - frame.x1.mean()) / frame.x1.std(ddof=0),
            "x2": (frame.x2 - frame.x2.mean()) / frame.x2.std(ddof=0),
            "plan[plus]": (frame.plan == "plus").astype(float),
            "plan[pro]": (frame.plan == "pro").astype(float),
        }
    )
    fit = sm.Logit(frame.churned.astype(float), sm.add_constant(X)).fit(disp=0)
    table = result.odds_ratios.set_index("feature")
    assert list(table.index) == list(X.columns)
    np.testing.assert_allclose(table["odds_ratio"], np.exp(fit.params[X.columns]), rtol=1e-6)
    ci = np.exp(fit.conf_int().loc[X.columns])
    np.testing.assert_allclose(table["ci_low"], ci[0], rtol=1e-6)
    np.testing.assert_allclose(table["ci_high"], ci[1], rtol=1e-6)
    np.testing.assert_allclose(table["p_value"], fit.pvalues[X.columns], rtol=1e-5)
    assert result.reference_levels_ == {"plan": "basic"}
    assert result.odds_ratios.columns.tolist() == [
        "feature",
        "odds_ratio",
        "ci_low",
        "ci_high",
        "p_value",
    ]
    # the VIF is the diagonal of the inverse correlation matrix of the design
    vif = np.diag(np.linalg.inv(np.corrcoef(X.to_numpy(), rowvar=False)))
    np.testing.assert_allclose(result.vif_["vif"], vif, rtol=1e-6)
    # contributions sum to the linear predictor minus its mean
    contrib = result.contributions(frame)
    eta = fit.predict(sm.add_constant(X), which="linear")
    np.testing.assert_allclose(contrib.sum(axis=1), eta - eta.mean(), atol=1e-8)
    np.testing.assert_allclose(result.predict_proba(frame), fit.predict(sm.add_constant(X)))


def test_target_may_be_bool_01_or_yes_no(rng):
    frame = _logit_fixture(rng)
    reference = churn.churn_drivers(frame, "churned").odds_ratios
    for values in (
        frame.churned.astype(int),
        np.where(frame.churned, "Yes", "No"),
        np.where(frame.churned, " yes", "NO "),
    ):
        other = churn.churn_drivers(frame.assign(churned=values), "churned").odds_ratios
        pd.testing.assert_frame_equal(reference, other)
    with pytest.raises(ParamsError, match="boolean, 0/1 or yes/no"):
        churn.churn_drivers(frame.assign(churned=np.where(frame.churned, "gone", "x")), "churned")
    with pytest.raises(ParamsError, match="not columns"):
        churn.churn_drivers(frame, "churned", ["nope"])


def test_id_like_and_date_columns_are_left_out(rng):
    frame = _logit_fixture(rng).assign(
        customerID=[f"{i:04d}-ABCDE" for i in range(300)],
        account_no=np.arange(300),
        signup=pd.date_range("2024-01-01", periods=300, freq="D"),
        prepaid=rng.normal(size=300),  # not an id, though it ends in "id"
    )
    result = churn.churn_drivers(frame, "churned")
    assert result.dropped_ == {"customerID": "id_like", "account_no": "id_like", "signup": "date"}
    assert "prepaid" in result.features_


# --------------------------------------------------------------------------- edge cases
def test_no_churners_all_churners_and_too_few_customers(rng):
    frame = _logit_fixture(rng)
    with pytest.raises(ModelError, match="no customer churned"):
        churn.churn_drivers(frame.assign(churned=False), "churned")
    with pytest.raises(ModelError, match="every customer churned"):
        churn.churn_drivers(frame.assign(churned=1), "churned")
    with pytest.raises(ModelError, match="at least 50"):
        churn.churn_drivers(frame.head(49), "churned")


def test_perfect_separation_gives_finite_penalised_estimates_and_a_statement(rng):
    frame = _logit_fixture(rng)
    frame["leak"] = np.where(frame.churned, 10.0, 0.0) + rng.uniform(0, 1, len(frame))
    result = churn.churn_drivers(frame, "churned")
    assert result.separation_ == ["leak"] and result.penalised_
    assert {"separation", "penalised"} <= set(result.notes_)
    assert np.isfinite(result.odds_ratios[["odds_ratio", "ci_low", "ci_high"]].to_numpy()).all()
    assert result.odds_ratios.set_index("feature").loc["leak", "odds_ratio"] > 10
    text = " ".join(result.sentences("en"))
    assert "Leak alone separates churners from the rest perfectly" in text
    assert "完全分开" in " ".join(result.sentences("zh"))


def test_single_class_in_the_test_snapshot(rng):
    frame = _logit_fixture(rng)
    later = _logit_fixture(np.random.default_rng(5)).assign(churned=False)
    result = churn.churn_drivers(frame, "churned", test=later)
    assert result.auc_kind_ == "out_of_time" and math.isnan(result.auc_)
    assert "single_class_test" in result.notes_
    model = churn.ChurnRiskModel().fit(frame.drop(columns="churned"), frame.churned)
    evaluation = churn.evaluate_risk_model(model, later.drop(columns="churned"), later.churned)
    assert math.isnan(evaluation.auc_) and evaluation.notes_ == ["single_class_test"]
    assert evaluation.importance.empty


# --------------------------------------------------------------------------- telecom-style
def _telco(n: int, seed: int) -> pd.DataFrame:
    """A contractual churn table shaped like the public telecom churn data sets."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.21, 0.24])
    tenure = np.where(
        contract == "Month-to-month", rng.integers(0, 40, n), rng.integers(0, 73, n)
    ).astype(int)
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.34, 0.44, 0.22])
    monthly = np.round(
        20
        + np.select([internet == "Fiber optic", internet == "DSL"], [65, 35], 0)
        + rng.normal(0, 8, n),
        2,
    )
    payment = rng.choice(
        [
            "Electronic check",
            "Mailed check",
            "Bank transfer (automatic)",
            "Credit card (automatic)",
        ],
        n,
    )
    senior = (rng.random(n) < 0.16).astype(int)
    lin = (
        -1.6
        + np.select([contract == "Month-to-month", contract == "One year"], [1.6, 0.4], 0)
        - 0.035 * tenure
        + 0.6 * (internet == "Fiber optic")
        + 0.45 * (payment == "Electronic check")
        + 0.3 * senior
        + 0.01 * (monthly - 65)
    )
    churn_flag = rng.random(n) < 1 / (1 + np.exp(-lin))
    total = np.round(monthly * tenure + rng.normal(0, 20, n).clip(0), 2).astype(str)
    total[tenure == 0] = " "  # as in the public data: blank for brand-new customers
    return pd.DataFrame(
        {
            "customerID": [
                f"{rng.integers(1000, 9999)}-{''.join(rng.choice(list('ABCDEFGHIJKLMNOPQRSTUVWXYZ'), 5))}"
                for _ in range(n)
            ],
            "gender": rng.choice(["Female", "Male"], n),
            "SeniorCitizen": senior,
            "Partner": rng.choice(["Yes", "No"], n),
            "tenure": tenure,
            "Contract": contract,
            "InternetService": internet,
            "PaperlessBilling": rng.choice(["Yes", "No"], n, p=[0.6, 0.4]),
            "PaymentMethod": payment,
            "MonthlyCharges": monthly,
            "TotalCharges": total,
            "Churn": np.where(churn_flag, "Yes", "No"),
        }
    )


def test_telecom_style_contractual_frame_beats_a_plain_logistic_baseline(capsys):
    """No per-dataset code beyond naming the target. Baselines on the same split: a plain
    ``LogisticRegression`` on the numeric columns (must not beat us), and one on every
    column one-hot encoded by hand (the same information: we must match it)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    frame = _telco(4000, seed=11)
    result = churn.churn_drivers(frame, "Churn")  # nothing but the target is named
    assert result.dropped_ == {"customerID": "id_like"}
    assert "TotalCharges" in result.fit_.design.numeric_text  # " " blanks -> missing numbers
    assert result.reference_levels_["Contract"] == "Month-to-month"
    # the same stratified 25% split; baseline: plain logistic regression on the numbers
    y = (frame["Churn"] == "Yes").to_numpy()
    train, test = train_test_split(np.arange(len(y)), test_size=0.25, random_state=0, stratify=y)
    numbers = frame[["tenure", "MonthlyCharges"]].assign(
        TotalCharges=pd.to_numeric(frame["TotalCharges"], errors="coerce").fillna(0)
    )
    baseline = LogisticRegression(max_iter=1000).fit(numbers.iloc[train], y[train])
    baseline_auc = roc_auc_score(y[test], baseline.predict_proba(numbers.iloc[test])[:, 1])
    encoded = pd.get_dummies(
        frame.drop(columns=["customerID", "Churn"]).assign(TotalCharges=numbers.TotalCharges),
        drop_first=True,
    ).astype(float)
    full = LogisticRegression(max_iter=5000).fit(encoded.iloc[train], y[train])
    full_auc = roc_auc_score(y[test], full.predict_proba(encoded.iloc[test])[:, 1])
    with capsys.disabled():
        print(
            f"\n[telecom-style] churn_drivers AUC {result.auc_:.4f}; plain logistic baseline "
            f"(numeric columns) {baseline_auc:.4f}; hand one-hot logistic {full_auc:.4f}"
        )
    assert result.auc_kind_ == "holdout"
    assert result.auc_ >= baseline_auc
    assert result.auc_ >= full_auc - 0.01
    assert "high_vif" in result.notes_  # TotalCharges ~ tenure x MonthlyCharges
    table = result.odds_ratios.set_index("feature")
    assert (
        table.loc["Contract[Two year]", "odds_ratio"]
        < 1
        < table.loc["PaymentMethod[Electronic check]", "odds_ratio"]
    )


# --------------------------------------------------------------------------- risk model
def test_gains_and_calibration_tables():
    y = np.r_[np.ones(10), np.zeros(90)]
    p = np.linspace(1, 0, 100)  # a perfect ranking
    gains = churn.gains_table(y, p)
    assert gains["churners"].tolist() == [10] + [0] * 9
    assert gains.loc[0, "lift"] == 10 and gains["cumulative_capture"].iloc[-1] == 1
    cal = churn.calibration_table(y, p, bins=5)
    assert len(cal) == 5 and cal["observed"].iloc[-1] == 0.5


def test_risk_model_learns_and_explains(rng):
    frame = _logit_fixture(rng, n=2000)
    frame["noise"] = rng.normal(size=len(frame))
    train, test = frame.iloc[:1500], frame.iloc[1500:]
    model = churn.ChurnRiskModel().fit(train.drop(columns="churned"), train.churned)
    assert model.categorical_ == {"plan": ["basic", "plus", "pro"]}
    ev = churn.evaluate_risk_model(model, test.drop(columns="churned"), test.churned)
    assert ev.auc_ > 0.6 and ev.top_decile_lift_ > 1.2
    assert ev.importance["feature"].iloc[-1] in ("noise", "plan", "x2", "x1")
    assert (
        ev.importance.set_index("feature").loc["x2", "importance"]
        > ev.importance.set_index("feature").loc["noise", "importance"]
    )
    curve = ev.partial_dependence["x2"]
    assert curve["churn_probability"].iloc[0] > curve["churn_probability"].iloc[-1]
    mean, sd = churn.random_cv_auc(frame, "churned", kind="logistic", features=["x1", "x2", "plan"])
    assert 0.6 < mean < 1 and sd >= 0


def test_auc_equals_scikit_learn_with_ties(rng):
    from sklearn.metrics import roc_auc_score

    y = rng.integers(0, 2, 400)
    scores = np.stack([np.round(rng.random(400), 1), y + rng.normal(0, 0.8, 400), -y * 1.0])
    np.testing.assert_allclose(
        roc_auc_rows(y, scores), [roc_auc_score(y, s) for s in scores], rtol=1e-12
    )
    assert roc_auc(y.astype(bool), scores[0]) == pytest.approx(roc_auc_score(y, scores[0]))
    assert math.isnan(roc_auc(np.ones(5), np.arange(5.0)))


def test_importance_and_dependence_shortcuts_equal_full_scoring(rng):
    """Permutation importance and partial dependence re-run only the trees that read the
    changed column: the numbers must be those of scoring every changed copy in full (and
    of scikit-learn's partial_dependence), with a categorical column (which the booster
    moves to the front), a numeric column with missing values and many tied scores."""
    frame = _logit_fixture(rng, n=2000)
    frame["noise"] = np.where(rng.random(len(frame)) < 0.3, np.nan, rng.normal(size=len(frame)))
    model = churn.ChurnRiskModel().fit(frame.drop(columns="churned"), frame.churned)
    X = model._matrix(frame)[:700]
    y = frame.churned.to_numpy(dtype=int)[:700]
    trees = TreeScores.build(model, X)
    assert trees is not None  # the shortcut is taken with this scikit-learn
    fast = permutation_importance(model, X, y, n_repeats=3, trees=trees)
    full = permutation_importance(model, X, y, n_repeats=3)
    pd.testing.assert_frame_equal(fast, full, check_exact=True)  # same sums, same ties
    for feature in ("x1", "x2", "noise"):
        j = model.features_.index(feature)
        grid, average = partial_dependence(model, X, j, trees=trees)
        reference_grid, reference = partial_dependence(model, X, j)  # scikit-learn
        np.testing.assert_array_equal(grid, reference_grid)
        np.testing.assert_allclose(average, reference, rtol=1e-12)


# --------------------------------------------------------------------------- survival
def test_followup_times_and_kaplan_meier_against_hand_values():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c", "c"],
            "order_date": pd.to_datetime(
                ["2025-05-20", "2025-06-10", "2025-07-20", "2025-06-25", "2025-06-01", "2025-06-28"]
            ),
            "amount": 10.0,
        }
    )
    table = churn.followup_table(orders, "2025-07-01", "2025-10-01", 30)
    # a: gap 10 Jun -> 20 Jul (40 > 30 days) -> churned 30 days after 10 Jun: day 10 Jul
    assert table.loc["a", "duration"] == 10 and table.loc["a", "event"]
    assert table.loc["b", "duration"] == 25 and table.loc["c", "duration"] == 28
    assert "d" not in table.index
    km = churn.km_curves(
        pd.DataFrame({"duration": [2, 3, 3, 5, 8], "event": [1, 1, 0, 1, 0]}), min_group=1
    )
    # S(2) = 4/5, S(3) = 4/5 * 3/4, S(5) = 3/5 * 1/2
    steps = km.drop_duplicates("time").set_index("time")["survival"]
    assert np.allclose(steps[[0.0, 2.0, 3.0, 5.0]], [1, 0.8, 0.6, 0.3])


def test_hazard_ratio_of_a_planted_binary_effect(rng):
    n = 3000
    group = rng.choice(["a", "b"], n, p=[0.6, 0.4])
    rate = np.where(group == "b", 2.0, 1.0) / 100  # b churns twice as fast
    time = rng.exponential(1 / rate)
    frame = pd.DataFrame({"duration": np.minimum(time, 150), "event": time < 150, "group": group})
    hz = churn.hazard_ratios(frame, ["group"]).set_index("feature")
    assert hz.loc["group[b]", "ci_low"] < 2 < hz.loc["group[b]", "ci_high"]
    with pytest.raises(ModelError, match="churn events"):
        churn.hazard_ratios(frame.assign(event=False), ["group"])


def test_cox_fit_equals_statsmodels_phreg_with_tied_times(rng):
    from statsmodels.duration.hazard_regression import PHReg

    n = 800
    X = np.column_stack([rng.normal(size=n), rng.random(n) < 0.4, rng.gamma(2.0, 1.0, n)])
    time = np.ceil(rng.exponential(30 / np.exp(X @ np.array([0.5, 0.7, -0.2]))))  # many ties
    event = time < 40
    duration = np.minimum(time, 40)
    params, cov = cox_efron(duration, event, X)
    reference = PHReg(duration, X, status=event.astype(float), ties="efron").fit()
    np.testing.assert_allclose(params, reference.params, rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), reference.bse, rtol=1e-8)


# --------------------------------------------------------------------------- reasons, list
def test_reason_pareto_orders_reasons():
    customers = pd.DataFrame(
        {
            "customer_id": list("abcdef"),
            "churned": [True] * 5 + [False],
            "churn_date": pd.to_datetime(["2025-03-01"] * 4 + ["2024-01-01", None]),
            "churn_reason": ["price", "service", "price", None, "price", None],
        }
    )
    table = churn.reason_pareto(customers, "2025-01-01", "2026-01-01")
    assert table["reason"].tolist() == ["price", "service"]
    assert table["customers"].tolist() == [2, 1] and table["cumulative_share"].iloc[-1] == 1
    assert table.attrs["unstated"] == 1
    assert churn.reason_pareto(
        customers.drop(columns="churn_reason"), "2025-01-01", "2026-01-01"
    ).empty


def test_early_warning_list_ranks_by_value_at_risk_with_reasons_and_actions(rng):
    frame = _logit_fixture(rng).rename(columns={"x2": "complaints"})
    frame.index = pd.Index([f"C{i:03d}" for i in range(len(frame))], name="customer_id")
    frame["complaints"] = np.round(frame["complaints"])
    # complaints raise churn in this fixture's cause model
    frame["churned"] = rng.random(len(frame)) < 1 / (1 + np.exp(2 - 0.4 * frame["complaints"]))
    drivers = churn.churn_drivers(frame, "churned", ["complaints", "plan"])
    scored = frame.drop(columns="churned")
    p = drivers.predict_proba(scored)
    value = pd.Series(100.0, index=scored.index.astype("string"))
    value.iloc[:5] = 10_000.0
    stages = pd.Series("active", index=scored.index.astype("string"))
    stages.iloc[0] = "lapsed"
    playbook = {
        "lifecycle_stage": {
            "lapsed": {
                "objective": {"en": "Win back", "zh": "赢回"},
                "actions": {"en": ["Win-back offer"], "zh": ["赢回优惠"]},
                "channel": {"en": "E-mail", "zh": "邮件"},
                "offer": {"en": "Voucher", "zh": "优惠券"},
                "priority": "medium",
            }
        }
    }
    out = churn.early_warning_list(
        scored, p, value, drivers, stages=stages, playbook=playbook, language="en"
    )
    assert out[churn.EXPORT_COLUMNS].columns.tolist() == churn.EXPORT_COLUMNS
    assert out["value_at_risk"].is_monotonic_decreasing
    assert set(out["customer_id"].head(5)) == set(scored.index[:5])
    np.testing.assert_allclose(out["value_at_risk"], out["churn_probability"] * out["value"])
    lapsed = out.set_index("customer_id").loc["C000"]
    assert lapsed["action"] == "Win-back offer"
    many = out.loc[(out["reason_feature_1"] == "complaints") & (out["customer_id"] != "C000")].iloc[
        0
    ]
    n = scored.loc[many["customer_id"], "complaints"]
    typical = frame.loc[~frame["churned"], "complaints"].median()  # the stayers' typical
    assert many["reason_1"] == f"{n:,.0f} complaint(s) vs {typical:,.0f} for customers who stay"
    assert many["action"].startswith("Service recovery")
    zh = churn.early_warning_list(scored, p, value, drivers, language="zh")
    assert zh.loc[zh["reason_feature_1"] == "complaints", "reason_1"].iloc[0].startswith("投诉")


def test_customer_value_falls_back_to_history():
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_date": pd.to_datetime(["2025-01-05", "2025-03-01", "2025-06-01"]),
            "amount": [50.0, 70.0, 30.0],
        }
    )
    value = churn.customer_value(orders, "2025-07-01")
    assert value.attrs["source"] == "historical"  # two customers: no CLV model
    assert value.to_dict() == {"a": 120.0, "b": 30.0}


def test_definition_is_chosen_in_params():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "churned": ["yes", "no"],
            "churn_date": pd.to_datetime(["2025-01-01", None]),
        }
    )
    assert churn.resolve_definition("auto", customers) == "contractual"
    assert churn.resolve_definition("auto", customers.drop(columns="churned")) == "noncontractual"
    assert churn.resolve_definition("noncontractual", customers) == "noncontractual"
    with pytest.raises(ParamsError, match="auto, noncontractual or contractual"):
        churn.resolve_definition("monthly", customers)
    with pytest.raises(Exception, match="churned"):
        churn.resolve_definition("contractual", customers.drop(columns="churned"))


def test_window_and_lifecycle_thresholds_learn_from_the_same_gaps():
    from analysis import lifecycle

    orders = pd.DataFrame(
        {
            "customer_id": ["a"] * 4 + ["b"] * 3,
            "order_date": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-02-10",
                    "2024-03-01",
                    "2024-05-01",
                    "2024-01-05",
                    "2024-01-15",
                    "2024-05-31",  # the day before as_of: counted by both
                ]
            ),
            "amount": [10.0, 10.0, 10.0, 10.0, 5.0, -5.0, 8.0],  # b's 15 Jan is a refund only
        }
    )
    gaps = [40, 20, 61, 147]  # a: 40, 20, 61; b: 5 Jan -> 31 May
    n, (q90, q80) = lifecycle.purchase_gap_quantiles(orders, "2024-05-31", (0.9, 0.8))
    assert n == 4 and q90 == pytest.approx(np.quantile(gaps, 0.9))
    window = churn.churn_window(orders, "2024-06-01", min_gaps=1, min_days=7)
    assert (window.n_gaps, window.gap_quantile_days) == (n, q90)
    th = lifecycle.lifecycle_thresholds(orders, "2024-05-31", min_gaps=1)
    assert th.n_gaps == n and th.at_risk_days == math.ceil(q80)
    # purchases on the as_of day itself are not part of the churn window's history
    assert churn.churn_window(orders, "2024-05-31", min_gaps=1, min_days=7).n_gaps == 3
    assert lifecycle.purchase_gap_quantiles(orders.iloc[:0], "2024-05-31", (0.5,))[0] == 0


def test_hazard_model_errors_name_their_reason(rng):
    n = 300
    frame = pd.DataFrame(
        {
            "duration": rng.integers(1, 100, n).astype(float),
            "event": rng.random(n) < 0.3,
            "group": rng.choice(["a", "b"], n),
            "constant": 1.0,
        }
    )
    with pytest.raises(churn.HazardModelError, match="churn events") as few:
        churn.hazard_ratios(frame.assign(event=False), ["group"])
    assert few.value.reason == "few_events" and isinstance(few.value, ModelError)
    with pytest.raises(churn.HazardModelError, match="no usable feature") as none:
        churn.hazard_ratios(frame, ["constant"])
    assert none.value.reason == "no_feature"


# --------------------------------------------------------------------------- real exports (#14)
def test_aliased_features_are_merged_before_the_logit(rng):
    """Monthly bills: purchase days follow tenure (r > 0.99). The model keeps tenure only,
    with the estimate of a fit on tenure alone, and says why; no interval is absurd."""
    n = 800
    tenure = rng.uniform(30, 2000, n)
    frame = pd.DataFrame(
        {
            "tenure_days": tenure,
            "frequency": np.round(tenure / 30.4) + rng.integers(0, 2, n),
            "avg_order_value": rng.gamma(4.0, 20.0, n),
        }
    )
    frame["churned"] = rng.random(n) < 1 / (1 + np.exp(-(0.5 - 0.0015 * tenure)))
    result = churn.churn_drivers(frame, "churned")
    assert result.dropped_ == {"frequency": "aliased"} and "aliased" in result.notes_
    (alias,) = result.aliases_
    assert (alias.dropped, alias.kept) == ("frequency", "tenure_days") and alias.correlation > 0.99
    # the truth: a logit on the standardised kept attributes alone
    z = (
        frame[["tenure_days", "avg_order_value"]] - frame[["tenure_days", "avg_order_value"]].mean()
    ) / frame[["tenure_days", "avg_order_value"]].std(ddof=0)
    ref = sm.Logit(frame["churned"].astype(float), sm.add_constant(z)).fit(disp=0)
    table = result.odds_ratios.set_index("feature")
    assert table.loc["tenure_days", "odds_ratio"] == pytest.approx(
        math.exp(ref.params["tenure_days"]), rel=1e-6
    )
    assert (
        table.loc["tenure_days", "odds_ratio"] < 0.6 and table.loc["tenure_days", "p_value"] < 1e-6
    )
    assert (table["ci_high"] < 10).all() and (table["ci_low"] > 0.1).all()
    text = " ".join(result.sentences("en"))
    assert "Purchase days moves with Tenure (correlation 1.00)" in text


def test_a_near_combination_is_left_out_and_a_huge_standard_error_is_not_identified(rng):
    n = 600
    a, b = rng.normal(0, 1, n), rng.normal(0, 1, n)
    frame = pd.DataFrame({"a": a, "b": b, "total": a + b + rng.normal(0, 0.05, n)})
    frame["churned"] = rng.random(n) < 1 / (1 + np.exp(-a))
    result = churn.churn_drivers(frame, "churned")
    assert result.dropped_ == {"total": "combination"}
    assert any("nearly a combination" in s for s in result.sentences("en"))
    # an estimate whose standard error is beyond MAX_IDENTIFIED_SE carries no numbers
    from analysis.churn.drivers import _estimates

    huge = _estimates(-1.77, 36.0, 0.96)  # the 0.00 - 6e29 interval of issue 14
    assert not huge["identified"] and all(
        math.isnan(huge[k]) for k in ("odds_ratio", "ci_low", "ci_high", "p_value")
    )
    fine = _estimates(0.5, 0.2, 0.01)
    assert fine["identified"] and fine["ci_high"] == pytest.approx(math.exp(0.5 + 1.959964 * 0.2))


def _planted_reasons(rng, n: int = 3000) -> pd.DataFrame:
    """Customers of one cohort (tenure 500-530 days: no one's tenure is unusual);
    complaints drive churn; returns are rare and lower churn a little; order value is
    noise. The true reason of a high-risk customer is complaints."""
    frame = pd.DataFrame(
        {
            "tenure_days": rng.uniform(500, 530, n),
            "complaints": rng.poisson(0.6, n).astype(float),
            "return_rate": np.where(rng.random(n) < 0.15, rng.uniform(0.05, 0.5, n), 0.0),
            "avg_order_value": rng.gamma(4.0, 20.0, n),
        },
        index=pd.Index([f"K{i:05d}" for i in range(n)], name="customer_id"),
    )
    lin = (
        -1.2
        + 1.1 * frame["complaints"]
        + 0.01 * (frame["tenure_days"] - 515)
        - 2.0 * frame["return_rate"]
    )
    frame["churned"] = rng.random(n) < 1 / (1 + np.exp(-lin))
    return frame


def test_warning_reasons_are_what_sets_a_customer_apart_from_the_stayers(rng):
    frame = _planted_reasons(rng)
    drivers = churn.churn_drivers(frame, "churned")
    scored = frame.drop(columns="churned")
    p = drivers.predict_proba(scored)
    out = churn.early_warning_list(scored, p, pd.Series(1.0, index=scored.index), drivers)
    stayers = frame.loc[~frame["churned"]]
    coef = drivers.summary.set_index("feature")["coef"]
    reasons = out[["customer_id", "reason_feature_1", "reason_feature_2", "reason_feature_3"]].melt(
        id_vars="customer_id",
        value_vars=["reason_feature_1", "reason_feature_2", "reason_feature_3"],
    )
    reasons = reasons.loc[reasons["value"] != ""]
    for _, row in reasons.iterrows():
        feature, x = row["value"], scored.loc[row["customer_id"], row["value"]]
        q1, q3 = stayers[feature].quantile([0.25, 0.75])
        # the customer is on the risky side of three in four stayers
        assert (x > q3) if coef[feature] > 0 else (x < q1), (feature, x)
    high = out.loc[out["churn_probability"] >= 0.5]
    assert len(high) > 100
    # the planted driver, wherever the customer has more complaints than 3 in 4 stayers
    many = high["customer_id"].map(scored["complaints"]) > stayers["complaints"].quantile(0.75)
    assert many.sum() > 100 and (high.loc[many, "reason_feature_1"] == "complaints").all()
    assert (high.loc[~many, "reason_feature_1"] != "complaints").all()
    words = " ".join(out[["reason_1", "reason_2", "reason_3"]].to_numpy().ravel())
    assert "fewer returns" not in words  # 0% returns is what most stayers have
    assert "order value" not in words  # noise (p >= 0.05) is never a reason
    assert "relationship" not in words  # a cohort: nobody's tenure is unusual
    first = high.iloc[0]
    n = scored.loc[first["customer_id"], "complaints"]
    typical = stayers["complaints"].median()
    assert first["reason_1"] == f"{n:,.0f} complaint(s) vs {typical:,.0f} for customers who stay"
    assert first["action"].startswith("Service recovery")


def test_a_reason_with_the_same_words_for_nearly_every_high_risk_customer_is_said_once(rng):
    """Month-to-month plans churn; nearly every high-risk customer is on one. That is
    stated once (attrs), not repeated in every row, and still picks their action."""
    n = 2000
    frame = pd.DataFrame(
        {
            "plan": rng.choice(["monthly", "annual", "two_year"], n, p=[0.3, 0.35, 0.35]),
            "complaints": rng.poisson(0.5, n).astype(float),
        },
        index=pd.Index([f"P{i:05d}" for i in range(n)], name="customer_id"),
    )
    lin = -3.0 + 3.5 * (frame["plan"] == "monthly") + 0.8 * frame["complaints"]
    frame["churned"] = rng.random(n) < 1 / (1 + np.exp(-lin))
    drivers = churn.churn_drivers(frame, "churned")
    scored = frame.drop(columns="churned")
    p = drivers.predict_proba(scored)
    out = churn.early_warning_list(scored, p, pd.Series(1.0, index=scored.index), drivers)
    (shared,) = out.attrs["shared_reasons"]
    assert shared["feature"] == "plan" and shared["level"] == "monthly" and shared["share"] > 0.9
    assert shared["text"] == "Plan: monthly"
    words = out[["reason_1", "reason_2", "reason_3"]].to_numpy().ravel()
    assert "Plan: monthly" not in set(words)
    high = out.loc[out["churn_probability"] >= 0.5]
    assert high["reason_feature_1"].isin(["complaints", ""]).all()


@pytest.mark.parametrize("definition", ["noncontractual", "contractual"])
def test_period_churn_reads_nothing_on_or_after_the_period_end(definition):
    """The figures pass the unit's whole orders frame for every period: rows dated on or
    after the end must change nothing (a fractional-day order included)."""
    rng = np.random.default_rng(7)
    n = 3000
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700 * 24, n), unit="h")
    orders = pd.DataFrame(
        {
            "customer_id": pd.array([f"c{k}" for k in rng.integers(0, 300, n)], "string"),
            "order_date": stamps,
            "amount": rng.choice([-15.0, 20.0, 35.5, 60.0], n),
        }
    )
    signup = pd.Timestamp("2023-06-01") + pd.to_timedelta(rng.integers(0, 500, 300), unit="D")
    gone = rng.random(300) < 0.4
    customers = pd.DataFrame(
        {
            "customer_id": [f"c{k}" for k in range(300)],
            "signup_date": signup,
            "churned": gone,
            "churn_date": (signup + pd.to_timedelta(rng.integers(30, 600, 300), unit="D")).where(
                gone
            ),
        }
    )
    for start, end in [("2024-07-01", "2024-10-01"), ("2025-01-01", "2025-04-01")]:
        end_ts = pd.Timestamp(end)
        kw = {"definition": definition, "customers": customers}
        whole = churn.period_churn(orders, start, end, 60, **kw)
        before = churn.period_churn(orders.loc[orders["order_date"] < end_ts], start, end, 60, **kw)
        assert whole == before and whole.base > 0

"""Tests for analysis.data.sample: determinism, the contract, integrity, and that every
planted truth can be recovered with independent, simple analysis code."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from analysis.data import sample
from analysis.data.sample import generate_sample, write_sample
from analysis.errors import ParamsError

COLUMNS = {
    "customers": [
        "customer_id",
        "business_unit",
        "customer_type",
        "signup_date",
        "region",
        "city",
        "age",
        "birth_date",
        "gender",
        "income_band",
        "acquisition_channel",
        "referred_by",
        "churned",
        "churn_date",
        "churn_reason",
        "name",
        "phone",
        "email",
        "address",
    ],
    "orders": [
        "order_id",
        "customer_id",
        "order_date",
        "amount",
        "business_unit",
        "quantity",
        "product_category",
        "channel",
        "discount",
        "status",
    ],
    "survey_responses": [
        "response_id",
        "response_date",
        "business_unit",
        "customer_id",
        "nps",
        "csat",
        "rating_product_quality",
        "rating_delivery",
        "rating_service",
        "rating_price",
        "rating_website",
        "comment",
        "touchpoint",
    ],
    "interactions": [
        "interaction_id",
        "customer_id",
        "business_unit",
        "date",
        "type",
        "resolved",
        "resolution_hours",
        "topic",
    ],
}
DATES = {
    "customers": ["signup_date", "birth_date", "churn_date"],
    "orders": ["order_date"],
    "survey_responses": ["response_date"],
    "interactions": ["date"],
}
START, END, SNAPSHOT = (
    pd.Timestamp("2024-01-01"),
    pd.Timestamp("2025-12-31"),
    pd.Timestamp("2025-09-30"),
)


@pytest.fixture(scope="module")
def small():
    return generate_sample(3_000, seed=7)


@pytest.fixture(scope="module")
def default():
    """The default size, used by the recoverability checks (generation takes < 1 s)."""
    return generate_sample()


@pytest.fixture(scope="module")
def clean_orders(default):
    """Orders after the documented repairs: duplicates, unknown/missing customers, future
    dates and cancelled orders removed (written here independently of the package)."""
    o = default.orders.drop_duplicates()
    o = o[o.customer_id.isin(default.customers.customer_id) & (o.order_date <= END)]
    return o[o.status != "cancelled"]


# ---- determinism ---------------------------------------------------------------------------
def test_same_seed_gives_identical_data(small):
    again = generate_sample(3_000, seed=7)
    for name, frame in small.tables().items():
        pd.testing.assert_frame_equal(frame, again.tables()[name])
    assert small.truth == again.truth


def test_different_seed_gives_different_data(small):
    other = generate_sample(3_000, seed=8)
    assert not small.orders.amount.equals(other.orders.amount)
    assert small.truth["segment_of_customer"] != other.truth["segment_of_customer"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_byte_identical_files(tmp_path, fmt):
    a = write_sample(tmp_path / "a", n_customers=500, seed=3, fmt=fmt)
    b = write_sample(tmp_path / "b", n_customers=500, seed=3, fmt=fmt)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    assert files == sorted([f"{t}.{fmt}" for t in COLUMNS] + ["truth.json"])
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# ---- contract and files --------------------------------------------------------------------
def test_columns_follow_the_contract(small):
    for name, frame in small.tables().items():
        assert list(frame.columns) == COLUMNS[name]
        for col in DATES[name]:
            assert pd.api.types.is_datetime64_any_dtype(frame[col]), (name, col)


def test_csv_files_parse_with_plain_pandas(tmp_path):
    out = write_sample(tmp_path / "s", n_customers=800, seed=5)
    frames = {t: pd.read_csv(out / f"{t}.csv", encoding="utf-8") for t in COLUMNS}
    for name, frame in frames.items():
        assert list(frame.columns) == COLUMNS[name]
        for col in DATES[name]:
            parsed = pd.to_datetime(frame[col], format="%Y-%m-%d")  # ISO dates, or raises
            assert parsed.notna().sum() == frame[col].notna().sum()
    o, s, c, i = (frames[t] for t in ("orders", "survey_responses", "customers", "interactions"))
    for col in ("amount", "discount", "quantity"):
        assert pd.api.types.is_numeric_dtype(o[col]), col
    for col in ("nps", "csat", "rating_delivery"):
        assert pd.api.types.is_integer_dtype(s[col]), col
    assert c.churned.dtype == bool and i.resolved.dtype == bool
    assert pd.api.types.is_float_dtype(i.resolution_hours)
    assert c.customer_id.str.fullmatch(r"C\d{7}").all()
    assert o.order_id.str.fullmatch(r"O\d{8,}").all()
    assert s.response_id.str.fullmatch(r"S\d{8,}").all()
    assert i.interaction_id.str.fullmatch(r"I\d{8,}").all()
    assert c.name.str.contains(r"[\u4e00-\u9fff]").any()  # UTF-8 Chinese survived
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert len(truth["segment_of_customer"]) == len(c) == truth["n_customers"]
    assert set(truth["segment_of_customer"]) == set(c.customer_id)


def test_parquet_holds_the_same_data(tmp_path):
    out = write_sample(tmp_path / "p", n_customers=600, seed=9, fmt="parquet")
    mem = generate_sample(600, seed=9)
    for name, frame in mem.tables().items():
        disk = pd.read_parquet(out / f"{name}.parquet")
        assert list(disk.columns) == list(frame.columns)
        for col in DATES[name]:
            disk[col] = pd.to_datetime(disk[col]).astype(frame[col].dtype)
        pd.testing.assert_frame_equal(disk, frame, check_dtype=False)


def test_write_replaces_existing_output_and_leaves_no_temp_dirs(tmp_path):
    out = tmp_path / "sample"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    write_sample(out, n_customers=300, seed=1)
    assert not (out / "stale.txt").exists()
    assert (out / "orders.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["sample"]


def test_interrupted_write_keeps_previous_data_set(tmp_path, monkeypatch):
    out = tmp_path / "sample"
    write_sample(out, n_customers=300, seed=1)
    before = (out / "orders.csv").read_bytes()
    calls = []

    def failing(table, path, fmt):
        calls.append(path.name)
        if len(calls) == 2:
            raise KeyboardInterrupt  # an interrupted run, mid-way
        path.write_text("partial")

    monkeypatch.setattr(sample, "write_table", failing)
    with pytest.raises(KeyboardInterrupt):
        write_sample(out, n_customers=300, seed=2)
    assert (out / "orders.csv").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["sample"]
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        write_sample(tmp_path / "fresh", n_customers=300, seed=2)
    assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_customers": 10}, "n_customers must be between"),
        ({"n_customers": 3.5}, "n_customers must be an integer"),
        ({"n_customers": True}, "n_customers must be an integer"),
        ({"seed": -1}, "seed must be a non-negative integer"),
    ],
)
def test_bad_parameters_raise_params_error(kwargs, match):
    with pytest.raises(ParamsError, match=match):
        generate_sample(**{"n_customers": 300, **kwargs})


def test_bad_format_or_target_raises_params_error(tmp_path):
    with pytest.raises(ParamsError, match="fmt must be 'csv' or 'parquet'"):
        write_sample(tmp_path / "x", n_customers=300, fmt="xlsx")
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(ParamsError, match="is not a directory"):
        write_sample(target, n_customers=300)


# ---- integrity -----------------------------------------------------------------------------
def test_referential_integrity_apart_from_planted_rows(small):
    c, o, s, i = small.customers, small.orders, small.survey_responses, small.interactions
    dirty = small.truth["dirty_rows"]
    known = set(c.customer_id)
    assert c.customer_id.is_unique
    assert o.customer_id.isna().sum() == dirty["missing_customer_orders"]
    unknown = o.customer_id.notna() & ~o.customer_id.isin(known)
    assert unknown.sum() == dirty["unknown_customer_orders"]
    assert i.customer_id.isin(known).all()
    assert s.customer_id.dropna().isin(known).all()
    assert o.order_id.nunique() == len(o) - dirty["duplicate_orders"]
    assert s.response_id.is_unique and i.interaction_id.is_unique


def test_each_customer_stays_in_one_unit(small):
    c = small.customers.set_index("customer_id")
    for frame in (small.orders, small.survey_responses, small.interactions):
        rows = frame[frame.customer_id.isin(c.index)]
        assert (
            rows.business_unit.to_numpy() == c.business_unit.reindex(rows.customer_id).to_numpy()
        ).all()


def test_referrals_point_to_earlier_customers_of_the_same_unit(default):
    c = default.customers.set_index("customer_id")
    ref = c[c.referred_by.notna()]
    assert 0.10 <= len(ref) / len(c) <= 0.15
    referrer = c.loc[ref.referred_by]
    assert (referrer.business_unit.to_numpy() == ref.business_unit.to_numpy()).all()
    assert (referrer.signup_date.to_numpy() <= ref.signup_date.to_numpy()).all()
    assert (referrer.index.to_numpy() < ref.index.to_numpy()).all()
    assert (ref.acquisition_channel == "referral").all()


def test_units_archetypes_and_customer_types_all_present(default):
    c = default.customers
    arch = c.customer_id.map(default.truth["segment_of_customer"])
    share = pd.crosstab(c.business_unit, arch, normalize="index")
    assert share.shape == (4, 6)
    assert (share >= 0.05).all().all()
    assert set(c.customer_type) == {"individual", "enterprise", "government", "institution"}
    org = c[c.customer_type != "individual"]
    assert org.business_unit.isin(["b2b", "services"]).mean() > 0.75
    assert pd.crosstab(c.business_unit, c.customer_type).gt(0).all().all()


def test_planted_dirty_rows_are_counted_exactly(small):
    o, s = small.orders, small.survey_responses
    dirty = small.truth["dirty_rows"]
    assert o.duplicated().sum() == dirty["duplicate_orders"]
    assert (o.order_date.dt.year == 2030).sum() == dirty["future_orders"]
    assert (o.order_date > END).sum() == dirty["future_orders"]
    assert (~s.nps.between(0, 10)).sum() == dirty["survey_nps_out_of_range"]
    assert (~s.csat.between(1, 5)).sum() == dirty["survey_csat_out_of_range"]
    dedup = o.drop_duplicates()
    assert (dedup.status == "cancelled").sum() == dirty["cancelled_orders"]
    assert (dedup.status == "returned").sum() == dirty["returned_orders"]
    assert 0 < dirty["duplicate_orders"] < 100


def test_orders_look_like_orders(default):
    o = default.orders
    done = o[o.status == "completed"]
    assert (o.quantity >= 1).all() and (o.discount >= 0).all()
    assert (done.amount > 0).all() and (o[o.status == "cancelled"].amount > 0).all()
    assert (o[o.status == "returned"].amount < 0).all()
    share = o.status.value_counts(normalize=True)
    assert 0.025 <= share["cancelled"] <= 0.035
    assert 0.02 <= share["returned"] <= 0.03
    in_window = o[o.order_date <= END]
    assert in_window.order_date.min() >= START
    assert set(o.product_category) == set(sample.CATEGORIES)
    assert set(o.channel) == set(sample.CHANNELS)
    assert set(default.interactions.type) == set(sample.INTERACTION_TYPES)


def test_default_size(default):
    n = len(default.customers)
    assert n == 20_000
    assert 230_000 <= len(default.orders) <= 270_000
    assert 5_500 <= len(default.survey_responses) <= 6_500
    s = default.survey_responses
    assert 0.22 <= s.customer_id.isna().mean() <= 0.28
    per_cell = s.groupby([s.business_unit, s.response_date.dt.to_period("Q")]).size()
    assert len(per_cell) == 32 and per_cell.min() >= 150


def test_churn_columns_are_consistent_with_orders(default):
    c = default.customers
    churned = c[c.churned]
    assert c.churn_date.notna().eq(c.churned).all()
    assert c.churn_reason.notna().eq(c.churned).all()
    assert set(churned.churn_reason) <= set(sample.CHURN_REASONS)
    assert churned.churn_date.between(START, END).all()
    o = default.orders
    o = o[
        (o.status == "completed") & o.customer_id.isin(churned.customer_id) & (o.order_date <= END)
    ]  # not the planted 2030 rows
    last = o.groupby("customer_id").order_date.max()
    assert (last < churned.set_index("customer_id").churn_date.reindex(last.index)).all()
    # reasons follow traits: price is the most common reason among discount hunters
    arch = churned.customer_id.map(default.truth["segment_of_customer"])
    top = churned[arch == "discount_hunter"].churn_reason.value_counts().index[0]
    assert top == "price"


def test_pii_is_recognisable(default):
    c, s = default.customers, default.survey_responses
    phone = r"\+1-555-\d{4}-\d{3}|1\d{2}-\d{4}-\d{4}"
    assert c.phone.str.fullmatch(phone).all()
    assert c.email.str.fullmatch(r"[a-z]+\.[a-z]+\d+@example\.com").all()
    assert c.email.is_unique
    assert c.name.str.contains(r"[\u4e00-\u9fff]").mean() > 0.4
    assert c.name.str.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+").mean() > 0.2
    with_pii = s.comment.str.contains(rf"@example\.com|{phone}", na=False)
    assert with_pii.sum() == default.truth["dirty_rows"]["survey_comments_with_pii"] > 0
    # real customers' phone numbers appear in some comments, so masking can be tested
    quoted = s.comment[with_pii].str.extractall(f"({phone})")[0]
    assert quoted.isin(set(c.phone)).any()


def test_comment_themes_differ_between_promoters_and_detractors(default):
    s = default.survey_responses
    det, pro = s[s.nps.between(0, 6)].comment, s[s.nps.between(9, 10)].comment
    for text in ("配送太慢", "late delivery", "价格太贵", "rude staff"):
        assert det.str.contains(text, regex=False).sum() > 3, text
        assert pro.str.contains(text, regex=False).sum() == 0, text
    for text in ("great quality", "服务很好"):
        assert pro.str.contains(text, regex=False).sum() > 3, text
        assert det.str.contains(text, regex=False).sum() == 0, text
    assert 0.3 <= s.comment.notna().mean() <= 0.7


def test_truth_has_the_documented_keys(small):
    t = small.truth
    for key in (
        "seed",
        "n_customers",
        "start",
        "end",
        "units",
        "segment_of_customer",
        "archetypes",
        "churn_drivers",
        "satisfaction_driver_weights",
        "nps_outcome",
        "nps_drop",
        "dirty_rows",
    ):
        assert key in t, key
    assert t["churn_drivers"] == {
        "complaints": 1,
        "satisfaction": -1,
        "discount_share": 1,
        "tenure_days": -1,
        "frequency": -1,
    }
    assert abs(sum(t["satisfaction_driver_weights"].values()) - 1) < 1e-9
    assert set(t["segment_of_customer"].values()) == set(t["archetypes"])
    assert {k: t["nps_drop"][k] for k in ("unit", "period", "previous_period")} == {
        "unit": "ecommerce",
        "period": "2025-Q4",
        "previous_period": "2025-Q3",
    }
    json.dumps(t)  # serialisable


# ---- planted truths, recovered with independent code ---------------------------------------
def _customer_features(data, orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Customer-level features from data up to ``as_of`` (completed orders define activity)."""
    o = orders[orders.order_date <= as_of]
    done = o[o.status == "completed"]
    g = done.groupby("customer_id")
    f = pd.DataFrame({"frequency": g.size(), "aov": g.amount.mean(), "last": g.order_date.max()})
    f["recency"] = (as_of - f["last"]).dt.days
    f["monetary"] = o.groupby("customer_id").amount.sum().reindex(f.index).clip(lower=1.0)
    f["discount_share"] = g.discount.sum() / (g.amount.sum() + g.discount.sum())
    f["return_rate"] = (
        o[o.status == "returned"].groupby("customer_id").size().reindex(f.index, fill_value=0)
        / f.frequency
    )
    it = data.interactions
    f["complaints"] = (
        it[(it.date <= as_of) & (it.type == "complaint")]
        .groupby("customer_id")
        .size()
        .reindex(f.index, fill_value=0)
    )
    s = data.survey_responses
    s = s[(s.response_date <= as_of) & s.csat.between(1, 5)]
    f["satisfaction"] = s.groupby("customer_id").csat.mean().reindex(f.index)
    signup = data.customers.set_index("customer_id").signup_date.reindex(f.index)
    f["tenure_days"] = (as_of - signup).dt.days
    for col in ("channel", "product_category"):
        f = f.join(
            pd.crosstab(done.customer_id, done[col], normalize="index").add_prefix(f"{col}_")
        )
    return f


def test_archetypes_are_recovered_by_kmeans(default, clean_orders):
    f = _customer_features(default, clean_orders, END)
    truth = f.index.map(default.truth["segment_of_customer"])
    X = pd.DataFrame(
        {
            "log_recency": np.log1p(f.recency),
            "log_frequency": np.log(f.frequency),
            "log_monetary": np.log(f.monetary),
            "tenure_days": f.tenure_days,
            "log_aov": np.log(f.aov),
            "discount_share": f.discount_share,
            "return_rate": f.return_rate,
            "log_complaints": np.log1p(f.complaints),
            "digital_share": f.channel_web + f.channel_app,
            "store_share": f.channel_store,
            "durables_share": f.product_category_electronics + f.product_category_home,
            "grocery_share": f.product_category_grocery,
        }
    )
    X = X.clip(X.quantile(0.01), X.quantile(0.99), axis=1)  # winsorise long tails
    labels = KMeans(6, n_init=10, random_state=0).fit_predict(StandardScaler().fit_transform(X))
    assert adjusted_rand_score(truth, labels) >= 0.8
    # the archetypes differ in the expected directions
    med = f.groupby(truth)[
        ["frequency", "aov", "discount_share", "recency", "complaints", "tenure_days"]
    ].median()
    assert med.frequency.idxmax() == "vip" and med.aov.idxmax() == "big_ticket_occasional"
    assert med.discount_share.idxmax() == "discount_hunter"
    assert med.recency.idxmax() == "lapsing" and med.tenure_days.idxmin() == "new_customer"
    assert f.complaints.groupby(truth).mean().idxmax() == "lapsing"


def test_churn_drivers_are_recovered_at_the_snapshot(default, clean_orders):
    f = _customer_features(default, clean_orders, SNAPSHOT)
    after = clean_orders[
        (clean_orders.status == "completed")
        & (clean_orders.order_date > SNAPSHOT)
        & (clean_orders.order_date <= SNAPSHOT + pd.Timedelta(days=90))
    ]
    y = (~f.index.isin(after.customer_id)).astype(int)
    drivers = default.truth["churn_drivers"]
    X = f[list(drivers)].assign(satisfaction=f.satisfaction.fillna(f.satisfaction.mean()))
    for frequency in (f.frequency, np.log(f.frequency)):  # either scale of frequency
        Xs = X.assign(frequency=frequency)
        Xs = (Xs - Xs.mean()) / Xs.std()
        fit = sm.Logit(y, sm.add_constant(Xs)).fit(disp=0)
        for name, sign in drivers.items():
            assert np.sign(fit.params[name]) == sign, (name, fit.params[name])
            assert fit.pvalues[name] < 0.01, (name, fit.pvalues[name])


def _relative_weights(X: pd.DataFrame, y: pd.Series) -> pd.Series:
    """Johnson's (2000) relative weights, rescaled to sum to 1."""
    Z = ((X - X.mean()) / X.std()).to_numpy()
    yz = ((y - y.mean()) / y.std()).to_numpy()
    R = np.corrcoef(Z, rowvar=False)
    values, vectors = np.linalg.eigh(R)
    lam = vectors @ np.diag(np.sqrt(values)) @ vectors.T
    beta = np.linalg.solve(lam, Z.T @ yz / (len(yz) - 1))
    raw = (lam**2) @ (beta**2)
    return pd.Series(raw / raw.sum(), index=X.columns)


def test_satisfaction_drivers_are_ranked_correctly(default):
    s = default.survey_responses
    s = s[s.nps.between(0, 10) & s.csat.between(1, 5)]
    weights = pd.Series(default.truth["satisfaction_driver_weights"])
    ratings = s[list(weights.index)].astype(float)
    corr = ratings.corr().to_numpy()[np.triu_indices(5, 1)]
    assert corr.min() >= 0.3 and corr.max() <= 0.5
    top3 = list(weights.sort_values(ascending=False).index[:3])
    for outcome in ("nps", "csat"):
        rw = _relative_weights(ratings, s[outcome].astype(float))
        assert list(rw.sort_values(ascending=False).index[:3]) == top3, (outcome, rw)


def test_nps_drop_is_planted_only_in_ecommerce_q4(default):
    s = default.survey_responses
    s = s[s.nps.between(0, 10)]
    s = s.assign(
        quarter=s.response_date.dt.to_period("Q"),
        score=np.select([s.nps >= 9, s.nps <= 6], [100.0, -100.0], 0.0),
    )
    quarters = sorted(s.quarter.unique())
    for unit, rows in s.groupby("business_unit"):
        for q1, q2 in zip(quarters[:-1], quarters[1:], strict=True):
            a, b = rows[rows.quarter == q1].score, rows[rows.quarter == q2].score
            p = stats.ttest_ind(a, b, equal_var=False).pvalue
            if unit == "ecommerce" and str(q2) == "2025Q4":
                assert -30 <= b.mean() - a.mean() <= -18
                assert p < 0.01
                assert abs(b.mean() - a.mean() - default.truth["nps_drop"]["planted_change"]) < 0.5
            else:
                assert p > 0.05, (unit, q1, q2, b.mean() - a.mean(), p)
    # the drop comes mostly from delivery
    eco = s[(s.business_unit == "ecommerce") & s.quarter.astype(str).isin(["2025Q3", "2025Q4"])]
    change = (
        eco.groupby(eco.quarter.astype(str))[[c for c in s.columns if c.startswith("rating_")]]
        .mean()
        .diff()
        .iloc[-1]
    )
    assert change.idxmin() == "rating_delivery" and change["rating_delivery"] < -0.4

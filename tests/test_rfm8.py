"""The eight RFM classes (RFM 八大类, ``value.segment_scheme: rfm8``) on planted data."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis import valuation
from analysis.config import load_defaults
from analysis.errors import DataError, ParamsError
from analysis.i18n import catalog
from analysis.playbook import action_for, load_playbook, validate_playbook
from analysis.value import RFM8_CLASSES, rfm8_segments, rfm8_splits

#: The issue's table (#17): class -> Chinese name and the letters R近/远, F高/低, M高/低.
ISSUE_TABLE = {
    "important_value": ("重要价值客户", "近", "高", "高"),
    "important_retention": ("重要保持客户", "远", "高", "高"),
    "important_development": ("重要发展客户", "近", "低", "高"),
    "important_winback": ("重要挽留客户", "远", "低", "高"),
    "general_value": ("一般价值客户", "近", "高", "低"),
    "general_retention": ("一般保持客户", "远", "高", "低"),
    "general_development": ("一般发展客户", "近", "低", "低"),
    "general_winback": ("一般挽留客户", "远", "低", "低"),
}


def _planted(rng: np.random.Generator, per_class: int = 12) -> tuple[pd.DataFrame, pd.Series]:
    """Customers whose three measures are each far on one side of both the mean and the
    median (balanced classes, small noise), with the class they must get."""
    rows, truth = [], []
    for recent, frequent, spend in itertools.product([True, False], repeat=3):
        for _ in range(per_class):
            rows.append(
                {
                    "recency_days": (rng.integers(1, 20) if recent else rng.integers(200, 360)),
                    "frequency": (rng.integers(15, 30) if frequent else rng.integers(1, 3)),
                    "monetary": (rng.uniform(3000, 6000) if spend else rng.uniform(20, 90)),
                }
            )
            truth.append(
                next(k for k, flags in RFM8_CLASSES.items() if flags == (recent, frequent, spend))
            )
    index = [f"c{n:04d}" for n in range(len(rows))]
    frame = pd.DataFrame(rows, index=index)
    order = rng.permutation(len(frame))  # classes interleaved, not in blocks
    return frame.iloc[order], pd.Series(truth, index=index).iloc[order]


@pytest.mark.parametrize("split", ["mean", "median"])
def test_every_planted_customer_gets_its_class(rng, split):
    scores, truth = _planted(rng)
    out = rfm8_segments(scores, split=split)
    assert out["rfm_segment"].astype(str).tolist() == truth.tolist()
    assert list(out["rfm_segment"].cat.categories) == list(RFM8_CLASSES)
    assert out.index.equals(scores.index)
    assert (out.drop(columns="rfm_segment") == scores).all().all()  # input columns unchanged


def test_class_flags_follow_the_issue_table():
    for key, (name, r, f, m) in ISSUE_TABLE.items():
        assert RFM8_CLASSES[key] == (r == "近", f == "高", m == "高")
        assert catalog("zh")[f"value.segment.{key}"] == name
        assert catalog("en")[f"value.segment.{key}"]
    assert len(set(RFM8_CLASSES.values())) == 8
    assert len({catalog("en")[f"value.segment.{k}"] for k in RFM8_CLASSES}) == 8


def test_splits_are_the_mean_or_the_median():
    scores = pd.DataFrame(
        {"recency_days": [1, 2, 3, 100], "frequency": [1, 1, 1, 9], "monetary": [10.0] * 3 + [1e4]}
    )
    assert rfm8_splits(scores) == pytest.approx(
        {"recency": 26.5, "frequency": 3.0, "monetary": 2507.5}
    )
    assert rfm8_splits(scores, split="median") == pytest.approx(
        {"recency": 2.5, "frequency": 1.0, "monetary": 10.0}
    )


def test_mean_and_median_differ_on_skewed_spend():
    # Monetary 10, 10, 10, 100, 5000: mean 1026, median 10. The customer spending 100 is
    # above the median (M高) but below the mean (M低).
    scores = pd.DataFrame(
        {
            "recency_days": [5, 5, 5, 5, 5],
            "frequency": [3, 3, 3, 3, 3],
            "monetary": [10.0, 10.0, 10.0, 100.0, 5000.0],
        },
        index=list("abcde"),
    )
    by_mean = rfm8_segments(scores)["rfm_segment"].astype(str)
    by_median = rfm8_segments(scores, split="median")["rfm_segment"].astype(str)
    # recency and frequency are constant: at the split, so R远 and F低 for everybody
    assert by_mean["d"] == "general_winback" and by_median["d"] == "important_winback"
    assert by_mean["e"] == by_median["e"] == "important_winback"
    assert (by_mean[["a", "b", "c"]] == "general_winback").all()
    assert (by_median[["a", "b", "c"]] == "general_winback").all()


def test_a_value_exactly_at_the_split_is_low_or_far():
    # mean = median = 20 days, 2 purchase days, 200 revenue; "mid" sits exactly on all three
    scores = pd.DataFrame(
        {
            "recency_days": [10, 20, 30],
            "frequency": [3, 2, 1],
            "monetary": [300.0, 200.0, 100.0],
        },
        index=["best", "mid", "worst"],
    )
    for split in ("mean", "median"):
        out = rfm8_segments(scores, split=split)["rfm_segment"].astype(str)
        assert out.to_dict() == {
            "best": "important_value",
            "mid": "general_winback",
            "worst": "general_winback",
        }
    # one step better than the split on each letter flips exactly that letter
    for col, step, key in (
        ("recency_days", -1, "general_development"),
        ("frequency", 1, "general_retention"),
        ("monetary", 1.0, "important_winback"),
    ):
        moved = scores.copy()
        moved.loc["mid", col] += step
        fixed = rfm8_splits(scores)
        out = rfm8_segments(moved, splits=fixed)["rfm_segment"].astype(str)
        assert out["mid"] == key


def test_identical_customers_are_all_on_the_low_side():
    scores = pd.DataFrame({"recency_days": [7] * 4, "frequency": [2] * 4, "monetary": [50.0] * 4})
    assert set(rfm8_segments(scores)["rfm_segment"].astype(str)) == {"general_winback"}


def test_missing_monetary_is_low_and_other_columns_can_be_named():
    scores = pd.DataFrame(
        {"recency_days": [1, 50], "tenure_bills": [20, 2], "plan_value": [np.nan, 10.0]},
        index=["a", "b"],
    )
    out = rfm8_segments(scores, columns=("recency_days", "tenure_bills", "plan_value"))
    assert out["rfm_segment"].astype(str).tolist() == ["general_value", "general_winback"]


def test_empty_and_bad_input():
    empty = pd.DataFrame({"recency_days": [], "frequency": [], "monetary": []})
    out = rfm8_segments(empty)
    assert len(out) == 0 and list(out["rfm_segment"].cat.categories) == list(RFM8_CLASSES)
    with pytest.raises(DataError, match="monetary"):
        rfm8_segments(empty.drop(columns="monetary"))
    with pytest.raises(ParamsError, match="value.rfm8.split.*mean, median.*'mode'"):
        rfm8_segments(empty, split="mode")


def test_scheme_resolution():
    assert valuation.segment_scheme({"segment_scheme": "auto"}, "zh") == "rfm8"
    assert valuation.segment_scheme({"segment_scheme": "auto"}, "en") == "rfm10"
    assert valuation.segment_scheme({"segment_scheme": "auto"}) == "rfm10"
    assert valuation.segment_scheme({"segment_scheme": "rfm10"}, "zh") == "rfm10"
    assert valuation.segment_scheme({"segment_scheme": "rfm8"}, "en") == "rfm8"
    with pytest.raises(ParamsError, match="value.segment_scheme.*'rfm9'"):
        valuation.segment_scheme({"segment_scheme": "rfm9"})
    defaults = load_defaults()
    assert defaults["value"]["segment_scheme"] == "auto"
    assert defaults["value"]["rfm8"] == {"split": "mean"}
    zh = valuation.with_segment_scheme({**defaults, "language": "zh"})
    assert zh["segment_scheme"] == "rfm8" and defaults["value"]["segment_scheme"] == "auto"


def _planted_orders(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, str]]:
    """A purchase log where each customer's class is set by construction: recent buyers
    last bought 1-10 days before the snapshot, the others 250-300 days; frequent buyers
    bought on 12 days, the others on 1; big spenders 6,000 in all, the others 5 an order."""
    as_of = pd.Timestamp("2025-06-30")
    rows, truth = [], {}
    for n, (recent, frequent, spend) in enumerate(itertools.product([True, False], repeat=3)):
        for j in range(5):
            cid = f"k{n}{j}"
            truth[cid] = next(
                k for k, flags in RFM8_CLASSES.items() if flags == (recent, frequent, spend)
            )
            last = int(rng.integers(1, 10)) if recent else int(rng.integers(250, 300))
            days = [last] + ([last + 3 * i for i in range(1, 12)] if frequent else [])
            for d in days:
                rows.append(
                    {
                        "order_id": f"o{len(rows)}",
                        "customer_id": cid,
                        "order_date": as_of - pd.Timedelta(days=d),
                        "amount": 6000.0 / len(days) if spend else 5.0,
                    }
                )
    return pd.DataFrame(rows), truth


def test_value_snapshot_gives_planted_classes_and_exports_them(rng):
    orders, truth = _planted_orders(rng)
    params = {**load_defaults()["value"], "segment_scheme": "rfm8"}
    snap = valuation.value_snapshot(orders, None, "2025-06-30", params, predict_clv=False)
    assert snap.segment_scheme == "rfm8" and snap.segment_map is None
    assert snap.segments == tuple(RFM8_CLASSES)
    got = snap.table["rfm_segment"].astype(str).to_dict()
    assert got == truth
    # the split values are the means of the scored customers' raw measures
    scored = snap.scored
    assert snap.rfm8_splits["split"] == "mean"
    assert snap.rfm8_splits["recency"] == pytest.approx(scored["recency"].mean())
    assert snap.rfm8_splits["monetary"] == pytest.approx(scored["monetary"].mean())
    summary = valuation.segment_summary(snap.table, snap.segments)
    assert summary["customers"].tolist() == [5] * 8
    playbook = load_playbook()
    actions = valuation.customer_actions(snap.table, playbook, "zh")
    export = valuation.export_frame(snap.table, actions)
    row = export.set_index("customer_id").loc["k00"]
    assert row["rfm_segment"] == "important_value"
    assert row["action_source"] == "rfm_segment:important_value"
    assert row["action"] == action_for(
        playbook, "rfm_segment", "important_value", "zh"
    ).action_text("; ")
    # the default scheme (no language) is unchanged: the ten-segment map
    ten = valuation.value_snapshot(orders, None, "2025-06-30", load_defaults()["value"],
                                   predict_clv=False)  # fmt: skip
    assert ten.segment_scheme == "rfm10" and "champions" in ten.segments


def test_playbook_has_an_entry_for_every_class_in_both_languages():
    playbook = load_playbook()
    validate_playbook(playbook, required={"rfm_segment": list(RFM8_CLASSES)})
    priorities = {k: action_for(playbook, "rfm_segment", k).priority for k in RFM8_CLASSES}
    # priority follows value at stake: only the two high-spend, frequent classes are high
    assert {k for k, p in priorities.items() if p == "high"} == {
        "important_value",
        "important_retention",
    }
    for key in RFM8_CLASSES:
        for language in ("en", "zh"):
            entry = action_for(playbook, "rfm_segment", key, language)
            assert entry.objective and entry.actions and entry.channel and entry.offer


def test_a_key_under_both_rfm_sections_is_refused():
    playbook = load_playbook()
    broken = {**playbook, "rfm8_segment": {**playbook["rfm8_segment"]}}
    broken["rfm8_segment"]["champions"] = playbook["rfm_segment"]["champions"]
    with pytest.raises(ParamsError, match="'champions' is under both rfm_segment and rfm8"):
        validate_playbook(broken, required={})


def test_value_pipeline_and_chart_with_the_eight_classes(rng, tmp_path):
    import matplotlib.pyplot as plt
    from conftest import report_context

    from analysis.data.load import Dataset
    from analysis.pipelines import value as pipeline
    from analysis.report.views import value as views

    orders, truth = _planted_orders(rng)
    orders = orders.assign(business_unit="north", status="completed")
    orders = orders.astype({"customer_id": "string", "business_unit": "string"})
    customers = pd.DataFrame(
        {
            "customer_id": pd.array(sorted(truth), dtype="string"),
            "business_unit": "north",
            "customer_type": "individual",
            "signup_date": pd.Timestamp("2023-01-01"),
        }
    )
    ctx = report_context(
        tmp_path, Dataset(customers=customers, orders=orders), period="2025-Q2", language="zh"
    )
    result = pipeline.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    rfm = result.rfm
    assert rfm.segment_scheme == "rfm8" and rfm.cells == {}  # language zh: rfm8 by default
    assert rfm.segments == tuple(RFM8_CLASSES)
    assert rfm.summary["customers"].tolist() == [5] * 8
    # the best r x f cell is named by the class holding most of its revenue
    r, f = rfm.best_cell
    scored = result.current.scored
    cell = scored.loc[(scored["r_score"] == r) & (scored["f_score"] == f)]
    revenue = cell.groupby(cell["rfm_segment"].astype(str))["monetary"].sum()
    assert rfm.best_segment == revenue.idxmax()
    assert rfm.best_revenue_share == pytest.approx(
        cell["monetary"].sum() / scored["monetary"].sum()
    )
    assert dict(zip(result.export["customer_id"], result.export["rfm_segment"], strict=True)) == (
        truth
    )
    plt.figure()
    ax = views.plot_segment_map(rfm, language="zh")
    names = {t.get_text().split("\n")[0] for t in ax.texts}
    assert names == {catalog("zh")[f"value.segment.{k}"] for k in RFM8_CLASSES}
    assert [t.get_text() for t in ax.get_yticklabels()] == ["R近", "R远"]
    assert all(t.get_text().split("\n")[1] == "12%" for t in ax.texts)  # 5 of 40 each


def test_bad_scheme_or_split_is_refused_when_parameters_load():
    from analysis.config import load_params

    with pytest.raises(ParamsError, match="'value.segment_scheme' must be one of auto, rfm10"):
        load_params(overrides={"value": {"segment_scheme": "rfm9"}})
    with pytest.raises(ParamsError, match="'value.rfm8.split' must be one of mean, median"):
        load_params(overrides={"value": {"rfm8": {"split": "mode"}}})
    params = load_params(
        overrides={"value": {"segment_scheme": "rfm8", "rfm8": {"split": "median"}}}
    )
    assert valuation.with_segment_scheme(params)["rfm8"] == {"split": "median"}


def test_subscriptions_read_r_as_the_renewal_standing():
    """Monthly bills: subscribers who renewed this cycle are R近, overdue ones R远 (days
    since the last bill would split current subscribers by their billing day: the one
    billed 27 days ago is above the mean of 26 days);
    F = tenure in bills, M = the plan value."""
    as_of = pd.Timestamp("2025-06-30")
    rows, truth = [], {}
    for n, (renewed, long_tenure, big_plan) in enumerate(
        itertools.product([True, False], repeat=3)
    ):
        for j in range(5):
            cid = f"s{n}{j}"
            truth[cid] = next(
                k for k, flags in RFM8_CLASSES.items() if flags == (renewed, long_tenure, big_plan)
            )
            # renewed: billed 3-27 days ago (spread over the cycle); overdue: 35-39 days
            last = as_of - pd.Timedelta(days=3 + 6 * j if renewed else 35 + j)
            for i in range(24 if long_tenure else 4):
                rows.append(
                    {
                        "order_id": f"b{len(rows)}",
                        "customer_id": cid,
                        "order_date": last - pd.DateOffset(months=i),
                        "amount": 99.0 if big_plan else 9.0,
                    }
                )
    orders = pd.DataFrame(rows)
    params = {**load_defaults()["value"], "segment_scheme": "rfm8"}
    params["billing"] = {**params["billing"], "scheme": "subscription"}
    snap = valuation.value_snapshot(orders, None, as_of, params, predict_clv=False)
    assert snap.scheme == "subscription"
    assert snap.table["rfm_segment"].astype(str).to_dict() == truth
    # the R split is on 6 - r_score: renewed subscribers score 5 (rank 1)
    renewed = snap.table.loc[[c for c, k in truth.items() if RFM8_CLASSES[k][0]]]
    assert (renewed["r_score"] == 5).all()
    assert 1 < snap.rfm8_splits["recency"] < 6 - snap.table["r_score"].min()

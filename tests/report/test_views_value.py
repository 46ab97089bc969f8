"""The "Value and lifecycle" report: the per-customer value table on hand-made orders, the
sections in-process on bad input (one customer, nobody buying twice, only refunds, a period
without orders), lifecycle stages against the archetypes planted in the sample, and the
notebook under papermill."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, report_context, run_notebook

from analysis import valuation
from analysis.config import load_defaults, load_params
from analysis.data.load import Dataset
from analysis.i18n import catalog
from analysis.lifecycle import LifecycleThresholds, stage_transitions
from analysis.pipelines import value as pipeline
from analysis.playbook import load_playbook
from analysis.report.views import value as views
from analysis.value import segment_label

NOTEBOOK = ROOT / "notebooks" / "value.ipynb"
VALUE = load_defaults()["value"]


# --------------------------------------------------------------------------- helpers


def _orders(rows, unit: str = "north") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["order_id"] = [f"O{i:05d}" for i in range(len(frame))]
    frame["business_unit"] = unit
    frame["status"] = np.where(frame["amount"] < 0, "returned", "completed")
    return frame.astype({"customer_id": "string", "business_unit": "string"})


def _customers(ids, types=None, signup="2023-01-01", unit: str = "north") -> pd.DataFrame:
    ids = list(ids)
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="string"),
            "business_unit": unit,
            "customer_type": types or ["individual"] * len(ids),
            "signup_date": pd.Timestamp(signup),
        }
    )


def _context(tmp_path: Path, customers, orders, period="2025-Q4", language="en"):
    data = Dataset(customers=customers, orders=orders)
    return report_context(tmp_path, data, period=period, language=language)


def _notebook_cells() -> list[str]:
    """The code cells of the value notebook after its parameters cell."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return code[1:]


def _run(ctx, monkeypatch, *, applies: bool | None = None) -> dict:
    """Run the value notebook's own cells in-process on ``ctx`` (what papermill runs, without
    a kernel): the pipeline, every section and every chart cell. Returns the notebook's
    namespace (``result``, ``rfm_csv``). ``applies`` overrides what the setup cell decided,
    as an analyst running the cells anyway would."""
    from analysis.report import context as context_module

    monkeypatch.setattr(context_module, "open_report", lambda namespace: ctx)
    namespace: dict = {}
    setup, *cells = _notebook_cells()
    exec(compile(setup, str(NOTEBOOK), "exec"), namespace)  # noqa: S102
    if applies is not None:
        namespace["applies"] = applies
    for source in cells:
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)  # noqa: S102
    return namespace


def _btyd_orders(n_customers: int = 60, seed: int = 1) -> pd.DataFrame:
    """Purchases as BG/NBD assumes them (Poisson buying at a gamma-distributed rate, dropout
    with a beta-distributed probability after each purchase), 2024-2025."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_customers):
        rate = rng.gamma(2.0, 1 / 60.0)  # purchases per day: about one a month on average
        dropout = rng.beta(1.0, 6.0)
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 400)))
        while day <= pd.Timestamp("2025-12-31"):
            rows.append((f"C{i:03d}", day, float(rng.gamma(3.0, 20.0 + 10 * (i % 3)))))
            if rng.random() < dropout:
                break
            day += pd.Timedelta(days=max(1, int(rng.exponential(1 / rate))))
    return _orders(rows)


def _clockwork_orders(n_customers: int = 40, seed: int = 3) -> pd.DataFrame:
    """Everybody buys every 20-60 days until a random stop: too regular for BG/NBD, whose
    fit runs to the boundary of its parameter space (no proper maximum)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_customers):
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 200)))
        stop = pd.Timestamp("2025-12-31") - pd.Timedelta(days=int(rng.integers(0, 400)))
        while day <= stop:
            rows.append((f"C{i:03d}", day, float(rng.gamma(2.0, 40.0))))
            day += pd.Timedelta(days=int(rng.integers(20, 60)))
    return _orders(rows)


# --------------------------------------------------------------------------- value table


def test_value_table_by_hand():
    orders = _orders(
        [
            ("a", "2024-03-01", 100.0),  # outside the 365-day window of 2025-06-30
            ("a", "2025-01-10", 40.0),
            ("a", "2025-01-10", 10.0),  # same day: one purchase day
            ("a", "2025-06-20", 30.0),
            ("a", "2025-06-25", -30.0),  # refund-only day: not a purchase, nets revenue
            ("b", "2025-06-29", 20.0),
            ("c", "2024-01-05", 60.0),  # lapsed: no purchase in the window
            ("d", "2025-07-05", 10.0),  # after the snapshot: ignored
        ]
    )
    customers = _customers(["a", "b", "c", "d", "e"], types=["government"] + ["individual"] * 4)
    snap = valuation.value_snapshot(orders, customers, "2025-06-30", VALUE)
    t = snap.table
    assert t.index.tolist() == ["a", "b", "c", "d", "e"]
    assert t["scored"].tolist() == [True, True, False, False, False]
    assert t.loc["a", ["recency", "frequency", "monetary"]].tolist() == [10, 2, 50.0]
    assert t.loc["a", "historical_value"] == 150.0
    assert t.loc["b", ["recency", "frequency", "monetary"]].tolist() == [1, 1, 20.0]
    assert t.loc["c", "recency"] == (pd.Timestamp("2025-06-30") - pd.Timestamp("2024-01-05")).days
    assert t.loc["c", "frequency"] == 0 and pd.isna(t.loc["c", "r_score"])
    assert t.loc["c", "value_tier"] == "low" and t.loc["c", "abc_class"] == "C"
    assert t["lifecycle_stage"].astype(str).to_dict() == {
        "a": "active",
        "b": "new",
        "c": "lapsed",
        "d": "prospect",  # bought only after the snapshot
        "e": "prospect",
    }
    assert t.loc["a", "customer_type"] == "government"
    # two buyers: a (R 5? no - b is more recent) -> b r 5, a r 2; a buys more and spends more
    assert t.loc["b", "r_score"] > t.loc["a", "r_score"]
    assert t.loc["a", "f_score"] > t.loc["b", "f_score"]
    assert snap.clv.reason == "too_few_repeat" and np.isnan(t["clv_12m"]).all()

    actions = valuation.customer_actions(t, load_playbook(), "en")
    assert actions.loc["a", "action_source"].startswith("rfm_segment:")
    assert actions.loc["c", "action_source"] == "lifecycle_stage:lapsed"
    assert actions.loc["e", "action_source"] == "lifecycle_stage:prospect"
    assert "Compliance-aware" in actions.loc["a", "account_management"]
    assert actions.loc["b", "account_management"] == ""
    export = valuation.export_frame(t, actions)
    assert export.columns[:15].tolist() == valuation.EXPORT_COLUMNS
    assert export["customer_id"].tolist() == ["a", "b", "c", "d", "e"]


def test_tables_and_outflow():
    orders = _btyd_orders()
    snap = valuation.value_snapshot(orders, None, "2025-12-31", VALUE, predict_clv=False)
    seg = valuation.segment_summary(snap.table, snap.segments)
    assert seg.index.tolist() == list(VALUE["segment_map"])
    assert seg["customers"].sum() == snap.table["scored"].sum()
    assert seg["customer_share"].sum() == pytest.approx(1.0)
    assert seg["revenue_share"].sum() == pytest.approx(1.0)
    counts, revenue = valuation.rfm_grid(snap.table)
    assert counts.index.tolist() == [5, 4, 3, 2, 1] and counts.columns.tolist() == [1, 2, 3, 4, 5]
    assert counts.to_numpy().sum() == seg["customers"].sum()
    assert revenue.to_numpy().sum() == pytest.approx(seg["revenue"].sum())
    tiers = valuation.tier_summary(snap.table, "value_tier")
    assert tiers.index.tolist() == ["high", "medium", "low"]
    assert tiers.loc["high", "revenue_share"] == pytest.approx(0.5, abs=0.1)

    prev = pd.Series({"a": "loyal", "b": "loyal", "c": "active", "d": "at_risk", "e": "new"})
    cur = pd.Series({"a": "at_risk", "b": "at_risk", "c": "lapsed", "d": "lapsed", "e": "new"})
    out = valuation.biggest_outflow(stage_transitions(prev, cur).counts)
    assert out == {"from_stage": "loyal", "to_stage": "at_risk", "count": 2, "share": 1.0}
    same = pd.Series({"a": "loyal", "b": "new"})
    assert valuation.biggest_outflow(stage_transitions(same, same).counts) is None


# --------------------------------------------------------------------------- bad input


def test_report_on_regular_data_shows_every_section(tmp_path, shown, monkeypatch):
    orders = _btyd_orders(60)
    types = ["individual", "enterprise", "government", "institution"] * 15
    customers = _customers([f"C{i:03d}" for i in range(60)], types=types)
    out = _run(_context(tmp_path, customers, orders), monkeypatch)
    result = out["result"]
    html = "\n".join(shown)
    for key in (
        "kpis.title",
        "rfm.title",
        "segments.title",
        "pareto.title",
        "clv.title",
        "lifecycle.title",
        "types.title",
        "playbook.title",
        "export.title",
    ):
        assert catalog("en")[f"report_value.{key}"] in html
    assert result.current.clv.ok, result.current.clv.detail
    assert result.clv.parameters is not None and set(result.clv.parameters["parameter"]) == {
        "r",
        "alpha",
        "a",
        "b",
        "p",
        "q",
        "v",
    }
    assert html.count("<figure>") == 5  # RFM grid, Pareto, CLV, transitions, types
    assert html.count("sr-takeaway") >= 9
    assert "The biggest outflow since 2025-Q3" in html or "No customer moved" in html
    assert "technical warning" not in html
    export = pd.read_csv(out["rfm_csv"], dtype={"customer_id": str})
    assert export.columns[:15].tolist() == valuation.EXPORT_COLUMNS
    assert set(export["customer_id"]) == set(customers["customer_id"])
    assert export["action"].str.len().gt(10).all()
    assert not re.search(r"\bC0\d\d\b", html)  # no customer id on the page


def test_one_customer(tmp_path, shown, monkeypatch):
    orders = _orders([("solo", "2025-03-01", 50.0), ("solo", "2025-11-20", 70.0)])
    out = _run(_context(tmp_path, _customers(["solo"]), orders), monkeypatch)
    result = out["result"]
    html = "\n".join(shown)
    assert "Very few customers bought" in html and "(1)" in html
    assert "Predictive CLV is not shown: only 1 of 1 customer " in html
    assert "standard thresholds of 90 and 180 days" in html  # too few gaps to learn from
    assert result.segment_changes["customers"].sum() == 1
    export = pd.read_csv(out["rfm_csv"])
    assert export["customer_id"].tolist() == ["solo"]
    assert export.loc[0, "rfm_code"] == 333  # a single customer scores 3 everywhere
    assert export.loc[0, "rfm_segment"] == "need_attention"
    # back on 20 Nov after 264 days away, more than the 180-day fallback: reactivated
    assert pd.isna(export.loc[0, "clv_12m"]) and export.loc[0, "lifecycle_stage"] == "reactivated"


def test_model_that_does_not_converge(tmp_path, shown, monkeypatch):
    orders = _clockwork_orders()
    out = _run(
        _context(tmp_path, _customers(sorted(orders["customer_id"].unique())), orders), monkeypatch
    )
    result = out["result"]
    html = "\n".join(shown)
    fit = result.current.clv
    assert fit.reason == "no_fit" and fit.model == "bg" and fit.n_repeat >= 20
    assert "Predictive CLV is not shown: the model Purchase forecast (BG/NBD) could not" in html
    assert "Shown instead: the historical value" in html
    assert result.clv.parameters is None and result.clv.status != "ok"
    assert pd.read_csv(out["rfm_csv"])["p_alive"].isna().all()


def test_every_customer_bought_once(tmp_path, shown, monkeypatch):
    rng = np.random.default_rng(5)
    days = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, 50), "D")
    orders = _orders([(f"C{i:03d}", d, 30.0 + i) for i, d in enumerate(days)])
    out = _run(_context(tmp_path, _customers(sorted(orders["customer_id"])), orders), monkeypatch)
    result = out["result"]
    html = "\n".join(shown)
    assert result.current.clv.reason == "too_few_repeat"
    assert "Predictive CLV is not shown: only 0 of 50 customers bought on more than one day" in html
    assert "Shown instead: the historical value" in html
    assert "only the F scores 1 occur" in html
    assert result.clv.parameters is None and result.clv.status != "ok"
    export = pd.read_csv(out["rfm_csv"])
    assert len(export) == 50 and export["clv_12m"].isna().all() and (export["f_score"] == 1).all()
    assert set(export["rfm_segment"]) <= {"new", "promising", "about_to_sleep", "hibernating"}


def test_all_refunds(tmp_path, shown, monkeypatch):
    orders = _orders([(f"C{i:03d}", "2025-11-01", -25.0) for i in range(5)])
    out = _run(_context(tmp_path, _customers(sorted(orders["customer_id"])), orders), monkeypatch)
    result = out["result"]
    html = "\n".join(shown)
    assert "No customer made a purchase in the 365 days up to 31 Dec 2025" in html
    assert "No customer bought in the last 365 days, so there is nothing to score" in html
    assert result.rfm.status == "no_buyers" and result.pareto.status == "no_buyers"
    assert result.buyers == 0 and result.status == "no_buyers"
    export = pd.read_csv(out["rfm_csv"])
    assert len(export) == 5 and (export["lifecycle_stage"] == "prospect").all()
    assert export["rfm_segment"].isna().all() and export["frequency"].eq(0).all()
    assert export["monetary"].eq(-25.0).all() and export["historical_value"].eq(-25.0).all()
    assert export["action"].str.contains("First-purchase incentive").all()


def test_period_without_orders(tmp_path, shown, monkeypatch):
    orders = _btyd_orders(40, seed=2)
    orders = orders.loc[orders["order_date"] < "2025-07-01"]
    customers = _customers(sorted(orders["customer_id"].unique()))
    out = _run(_context(tmp_path, customers, orders), monkeypatch)
    result = out["result"]
    html = "\n".join(shown)
    assert "There are no orders in 2025-Q4" in html
    assert result.orders_in_period == 0 and result.buyers > 0
    stages = result.lifecycle.stages
    assert stages.loc[["new", "active", "loyal", "reactivated"], "customers"].sum() == 0


def test_period_before_any_order_and_chinese(tmp_path, shown, monkeypatch):
    from analysis.plots import set_theme

    set_theme("zh")  # as open_report does: a CJK font for the chart labels
    orders = _btyd_orders(10)
    customers = _customers(sorted(orders["customer_id"].unique()), signup="2023-01-01")
    # the period ends before the first order: the notebook says the report does not apply
    out = _run(_context(tmp_path, customers, orders, period="2023-Q4", language="zh"), monkeypatch)
    assert out["applies"] is False and "result" not in out
    assert "该业务单元在报告期结束（2023-12-31）之前没有任何购买" in "\n".join(shown)
    # run anyway, the pipeline and views say nobody bought, in Chinese
    shown.clear()
    ctx = _context(tmp_path, customers, orders, period="2023-Q4", language="zh")
    out = _run(ctx, monkeypatch, applies=True)
    result = out["result"]
    html = "\n".join(shown)
    assert "价值概览" in html and "生命周期阶段" in html and "CRM 客户名单" in html
    assert "没有客户购买" in html
    assert result.lifecycle.stages.loc["prospect", "customers"] == 10
    export = pd.read_csv(out["rfm_csv"])
    assert export["action"].str.contains("首单激励").all()


def test_plot_functions_draw_on_the_current_axes_by_default(tmp_path):
    """Each chart of the report is a public function of one result part: given no ``ax``
    it draws on the current Axes and returns it; nothing is shown or saved."""
    import matplotlib.pyplot as plt

    orders = _btyd_orders(60)
    types = ["individual", "enterprise", "government", "institution"] * 15
    ctx = _context(tmp_path, _customers([f"C{i:03d}" for i in range(60)], types=types), orders)
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    assert result.clv.status == "ok" and result.types.status == "ok"
    labels = {segment_label(k, "en") for k in result.rfm.segments}

    def fresh():
        plt.figure()
        return plt.gca()

    ax = fresh()
    assert views.plot_segment_map(result.rfm) is ax
    assert labels <= {t.get_text().replace("\n", " ") for t in ax.texts}
    ax = fresh()
    assert views.plot_rfm_customers(result.rfm) is ax
    shown = sum(int(t.get_text().replace(",", "")) for t in ax.texts if t.get_text())
    assert shown == result.buyers  # every buyer in one cell
    ax = fresh()
    assert views.plot_rfm_revenue(result.rfm, currency="€") is ax
    assert any(t.get_text().startswith("€") for t in ax.texts)
    ax = fresh()
    assert views.plot_pareto(result.pareto) is ax
    assert ax.get_title() == catalog("en")["report_value.pareto.chart"]
    ax = fresh()
    assert views.plot_clv(result.clv) is ax
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == [segment_label(k, "en") for k in result.clv.by_segment.segments]
    ax = fresh()
    assert views.plot_alive(result.clv) is ax
    assert len(ax.patches) == len(result.clv.by_segment.segments)
    ax = fresh()
    assert views.plot_lifecycle(result.lifecycle, language="zh") is ax
    assert ax.get_title() == catalog("zh")["report_value.lifecycle.chart"]
    ax = fresh()
    assert views.plot_customer_types(result.types) is ax
    assert len(ax.get_legend().get_texts()) == len(result.types.segments)
    assert plt.get_fignums()  # drawn, not shown or closed


def test_custom_segment_map_needs_playbook_entries(tmp_path):
    from analysis.errors import ParamsError

    orders = _btyd_orders(10)
    ctx = _context(tmp_path, _customers(sorted(orders["customer_id"].unique())), orders)
    ctx.params["value"]["segment_map"] = {"champions": ["r:4-5,f:1-5"], "sleepers": ["r:1-3,f:1-5"]}
    with pytest.raises(ParamsError, match=r"no entry for rfm_segment 'sleepers'"):
        pipeline.build(ctx.data, ctx.period, ctx.params)


def test_notebook_is_thin_with_the_shared_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    overview = nbformat.read(ROOT / "notebooks" / "overview.ipynb", as_version=4)

    def params(book):
        return [c.source for c in book.cells if "parameters" in c.metadata.get("tags", [])]

    assert params(nb) == params(overview) and len(params(nb)) == 1
    assert nb.metadata["segreport"] == {"report": "value", "order": 20}
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(c.get("outputs", []) == [] for c in nb.cells if c.cell_type == "code")
    assert "report.value.title" in catalog("en") and "report.value.title" in catalog("zh")


# --------------------------------------------------------------------------- planted truth


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    from analysis.data.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("valuesample"), n_customers=4000, seed=42)


def test_lifecycle_stages_match_the_planted_archetypes(sample_dir):
    """As of the data end (2025-12-31), with the thresholds learned from the purchase gaps.

    Thresholds, from the archetypes in ``truth.json``:
    * ``lapsing`` customers stop 150-365 days before the end and the learned lapsed
      threshold is below 150 days, so all of them must be lapsed (>= 95% allows for none).
    * ``new_customer`` signed up in the last four months with 1-3 orders: never loyal (at
      most 2 repeats) nor lapsed; and with ``new_days`` set to the 122-day signup window
      every one of them is new. Conversely, the "new" stage is almost only them (>= 90%).
    * ``vip`` buy about 26 days a year: >= 85% loyal (the rest churned, planted ~7%).
    * ``loyal_regular`` buy about monthly (mean gap ~43 days); with an at-risk threshold of
      ~55 days about 28% of them are between purchases at any time, plus ~8% churned, so
      we expect ~65% in a buying stage and assert >= 55%, and fewer lapsed than 25%.
    """
    from analysis.data.load import load_dataset

    truth = json.loads((sample_dir / "truth.json").read_text())["segment_of_customer"]
    params = load_params(
        overrides={"data_dir": str(sample_dir), "quality": {"today": "2026-06-30"}}
    )
    data = load_dataset(params)
    snap = valuation.value_snapshot(
        data.orders, data.customers, "2025-12-31", params["value"], predict_clv=False
    )
    table = snap.table.assign(archetype=snap.table.index.map(truth))
    stage = table["lifecycle_stage"].astype(str)
    share = pd.crosstab(table["archetype"], stage, normalize="index")
    assert snap.thresholds.source == "gaps" and snap.thresholds.lapsed_days < 150

    assert share.loc["lapsing", "lapsed"] >= 0.95
    new = share.loc["new_customer"]
    assert new.get("loyal", 0) == 0 and new.get("lapsed", 0) == 0
    assert new[["new", "active", "at_risk"]].sum() >= 0.95
    assert (table.loc[stage == "new", "archetype"] == "new_customer").mean() >= 0.90
    assert share.loc["vip", "loyal"] >= 0.85
    buying = ["new", "active", "loyal", "reactivated"]
    assert share.loc["loyal_regular", share.columns.intersection(buying)].sum() >= 0.55
    assert share.loc["loyal_regular", "lapsed"] < 0.25

    window = LifecycleThresholds(
        at_risk_days=snap.thresholds.at_risk_days,
        lapsed_days=snap.thresholds.lapsed_days,
        new_days=122,
    )
    wide = valuation.value_snapshot(
        data.orders,
        data.customers,
        "2025-12-31",
        params["value"],
        thresholds=window,
        predict_clv=False,
    )
    planted_new = [c for c, a in truth.items() if a == "new_customer" and c in wide.table.index]
    assert (wide.table.loc[planted_new, "lifecycle_stage"] == "new").mean() >= 0.95


# --------------------------------------------------------------------------- notebook


@pytest.mark.slow
def test_notebook_runs_on_the_sample(sample_dir, tmp_path):

    exports = tmp_path / "exports"  # run by hand, a notebook exports where it is told
    nb, outputs, _ = run_notebook(
        "value", tmp_path, data_dir=sample_dir, unit="retail", export_dir=str(exports)
    )
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 5
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    en = catalog("en")
    for key in (
        "kpis.title",
        "rfm.title",
        "pareto.title",
        "clv.title",
        "lifecycle.title",
        "types.title",
        "playbook.title",
        "export.title",
    ):
        assert f">{en[f'report_value.{key}']}</h2>" in html
    assert "Predictive CLV is not shown" not in html and "technical warning" not in html
    assert not re.search(r"\bC\d{7}\b", html)

    export = pd.read_csv(exports / "rfm.csv", dtype={"customer_id": str})
    assert export.columns[:15].tolist() == valuation.EXPORT_COLUMNS
    assert export["customer_id"].str.fullmatch(r"C\d{7}").all()  # real ids, not hashes
    assert export["customer_id"].is_unique
    assert not {"name", "phone", "email", "address"} & set(export.columns)
    orders = pd.read_csv(sample_dir / "orders.csv", dtype=str)
    retail = set(orders.loc[orders["business_unit"] == "retail", "customer_id"].dropna())
    customers = pd.read_csv(sample_dir / "customers.csv", dtype=str)
    retail |= set(customers.loc[customers["business_unit"] == "retail", "customer_id"])
    assert set(export["customer_id"]) <= retail
    scored = export["rfm_segment"].notna()
    assert export.loc[scored, ["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    assert export["p_alive"].dropna().between(0, 1).all() and export["clv_12m"].notna().mean() > 0.9
    assert export["action"].notna().all()


def test_value_snapshot_is_computed_once_per_run_and_callers_cannot_change_it(
    tmp_path, monkeypatch
):
    """The value, satisfaction and summary reports of a unit share one snapshot per day
    while they run in the same kernel (same cache folder and value parameters)."""
    orders = _orders(
        [("a", "2025-01-05", 10.0), ("a", "2025-11-01", 20.0), ("b", "2025-12-01", 5.0)]
    )
    calls = []
    real = valuation.value_snapshot
    monkeypatch.setattr(
        valuation, "value_snapshot", lambda *a, **k: calls.append(k) or real(*a, **k)
    )
    first = _context(tmp_path, _customers("ab"), orders)
    first.params["cache_dir"] = str(tmp_path / "cache" / "north")
    with_clv = first.value_snapshot(first.period.end)
    with_clv.table["rfm_segment"] = "tampered"  # a report changing its copy ...
    second = _context(tmp_path, _customers("ab"), orders)  # the next notebook of the unit
    second.params["cache_dir"] = first.params["cache_dir"]
    again = second.value_snapshot(second.period.end, predict_clv=False)
    assert len(calls) == 1  # served from the first computation (with CLV answers without)
    assert "tampered" not in set(again.table["rfm_segment"].astype(str))  # ... did not leak
    pd.testing.assert_frame_equal(
        again.table, real(orders, _customers("ab"), second.period.end, VALUE).table
    )
    second.params["value"] = {**second.params["value"], "lookback_days": 90}
    second.value_snapshot(second.period.end)  # other parameters: computed afresh
    standalone = _context(tmp_path, _customers("ab"), orders)  # no run cache: never shared
    standalone.value_snapshot(standalone.period.end)
    assert len(calls) == 3


# --------------------------------------------------------------------------- real shapes


def test_report_on_a_subscription_says_what_it_did(tmp_path, shown, monkeypatch):
    """Telco-like bills with contractual churn: the page names the scheme, never calls a
    churn-filled quarter outflow-free, shows no degenerate "31 to 31 days" band, hides empty
    rows and gives subscribers their own entries."""
    from value_shapes import telco_like

    customers, bills = telco_like()
    data = Dataset(customers=customers, orders=bills)
    ctx = report_context(tmp_path, data, period="2025-Q4", language="en", unit="telecom",
                         churn={"definition": "auto"})  # fmt: skip
    out = _run(ctx, monkeypatch)
    html = "\n".join(shown)
    result = out["result"]
    assert result.scheme == "subscription"
    assert "Monthly billing detected" in html and "Scored as a subscription" in html
    assert "No customer moved to a worse stage" not in html
    assert "moved from" in html and "Contract ended" in html
    assert not re.search(r"\b(\d+) to \1 days\b", html)
    assert "Government" not in html and "Institution" not in html
    assert "second purchase" not in html.lower() and "first-repeat" not in html.lower()
    assert "Subscription actions" in html
    assert not re.search(r"\b1 customers\b", html)


def test_report_on_a_purchase_log_says_it_scored_purchases(tmp_path, shown, monkeypatch):
    from value_shapes import purchase_log

    orders = purchase_log(unit="north")
    ids = orders["customer_id"].unique()
    # as the loader derives them from an orders-only export: ids and unit, nothing else
    customers = pd.DataFrame({"customer_id": ids, "business_unit": "north"})
    out = _run(_context(tmp_path, customers, orders), monkeypatch)
    html = "\n".join(shown)
    assert out["result"].scheme == "transactional"
    assert "Scored as purchases" in html
    assert "government and institution" not in html  # no customer types in the data
    assert "Contract ended" not in html  # an empty stage is not listed


def test_the_overview_comes_first_and_the_model_details_go_to_the_appendix(
    tmp_path, shown, monkeypatch
):
    orders = _btyd_orders(60)
    customers = _customers([f"C{i:03d}" for i in range(60)])
    out = _run(_context(tmp_path, customers, orders), monkeypatch)
    result = out["result"]
    html = "\n".join(shown)
    en = catalog("en")
    glance = html.index(f">{en['report_value.kpis.title']}</h2>")
    rfm = html.index(f">{en['report_value.rfm.title']}</h2>")
    top = html[glance:rfm]
    # the key figures as four cards, the findings and where to act, before any detail
    assert top.count('class="sr-kpi"') == 4
    assert top.count("<li>") >= 3
    assert 'href="exports/rfm.csv"' in top and 'href="#sec-playbook"' in top
    assert 'href="churn.html#sec-list"' in top and 'href="summary.html"' in top
    assert 'href="segmentation.html#sec-strategy"' in top
    high = result.playbook_tables.high_priority_customers
    assert f"{high} buyers" in top or not result.playbook_tables.high_priority
    # the sections another report links to are there
    assert 'id="sec-playbook"' in html and 'id="sec-segments"' in html
    # the fitted parameters and the thresholds table follow the appendix heading, after
    # everything a manager reads
    appendix = html.index('id="sec-appendix"')
    assert html.index(f">{en['report_value.export.title']}</h2>") < appendix
    assert appendix < html.index(en["report_value.clv.params_title"])
    assert appendix < html.index(en["report_value.lifecycle.thresholds_title"])
    # plain names, the term in brackets
    assert "purchase forecast model (BG/NBD" in html and "chance still active (P(alive))" in html
    # the same numbers as before: the CLV total of the card is the result's, and each
    # segment's change (once cards) is a column of the named segment table
    assert ctx_money(out, result.clv.total) in top
    assert ">Since 2025-Q3</th>" in html
    changes = result.segment_changes.loc[result.segment_changes["customers"] > 0]
    for change, share in zip(changes["change"], changes["share_change"], strict=True):
        assert f">{int(change):+,d} ({100 * share:+.1f} pts)</td>" in html


def ctx_money(out, value) -> str:
    """A money amount as the page shows it (the dollar sign is set apart in HTML)."""
    return out["ctx"].money(value).replace("$", "<span>$</span>")

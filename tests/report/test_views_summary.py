"""The "Strategy summary" report: its pipeline and sections in-process (quoting the unit's
figures and the other reports' pipelines), the planted ecommerce 2025-Q4 NPS drop as an alert on the 20k sample, Chinese,
the "all" comparison, and the notebook under papermill."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import ROOT, report_context, run_notebook, tiny_tables

from analysis import strategy
from analysis.config import load_params
from analysis.data.load import Dataset
from analysis.i18n import catalog
from analysis.period import Period
from analysis.pipelines import churn, segmentation, summary
from analysis.report.context import ReportContext
from analysis.report.views import summary as views

NOTEBOOK = ROOT / "notebooks" / "summary.ipynb"
SAMPLE = ROOT / "data" / "sample"


def _tiny(unit: str = "north") -> Dataset:
    tables = tiny_tables()
    customers = tables["customers"].astype({"customer_id": "string"})
    customers["signup_date"] = pd.to_datetime(customers["signup_date"])
    customers["referred_by"] = [
        f"C{i // 7:04d}" if i % 4 == 0 else None for i in range(len(customers))
    ]
    orders = tables["orders"].astype({"customer_id": "string", "business_unit": "string"})
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    if unit != "all":
        customers = customers.loc[customers["business_unit"] == unit]
        orders = orders.loc[orders["business_unit"] == unit]
    return Dataset(customers=customers.reset_index(drop=True), orders=orders.reset_index(drop=True))


def _context(tmp_path: Path, data: Dataset, unit="north", period="2025-Q4", language="en"):
    return report_context(tmp_path, data, unit=unit, period=period, language=language)


def _run(ctx) -> dict:
    """The sections in the notebook's order: actions first, the KPI table in the appendix."""
    result = summary.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    out = {"result": result, "actions": views.actions_section(ctx, result)}
    out["alerts"] = views.alerts_section(ctx, result)
    out["needs"] = views.needs_section(ctx, result)
    out["kpis"] = views.kpi_section(ctx, result)
    out["segments"] = views.segments_section(ctx, result)
    out["referral"] = views.referral_section(ctx, result)
    out["units"] = views.units_section(ctx, result)
    out["sources"] = views.sources_section(ctx, result)
    ctx.appendix()
    out["kpi_table"] = views.kpi_table_section(ctx, result)
    ctx.finish()
    return out


def test_sections_on_tiny_data(tmp_path, shown):
    result = _run(_context(tmp_path, _tiny()))
    html = "\n".join(shown)
    en = catalog("en")
    for key in ("actions.title", "kpis.title", "alerts.title", "segments.title", "referral.title"):
        assert en[f"report_summary.{key}"] in html
    # actions come first, the KPI table (with its definitions) after the appendix heading
    assert html.index(en["report_summary.actions.title"]) < html.index(
        en["report_summary.alerts.title"]
    )
    assert html.index('id="sec-appendix"') < html.index(en["report_summary.kpis.table_title"])
    assert result["sources"] == {"figures": "figures.json"}
    assert result["units"] is None and en["report_summary.units.title"] not in html
    # every KPI the data gives a value for: vs previous and vs a year ago; the others
    # (NPS without a survey, ...) are left out rather than shown as dashes
    card = result["kpis"]
    periods = card[["current", "previous", "year_ago"]].apply(pd.to_numeric, errors="coerce")
    assert periods.notna().any(axis=1).all() and 0 < len(card) <= 13
    assert html.count("sr-kpi-delta") == 2 * len(card)
    assert result["segments"]["customers"].sum() > 0
    assert result["referral"]["rate"]["referred"] > 0
    assert not re.search(r"\bC0\d{3}\b", html)  # referrer ids are pseudonymised
    assert "technical warning" not in html
    # figure KPIs link to the definitions list that closes every report
    assert 'href="#figure-active_customers"' in html and 'id="figure-active_customers"' in html


def test_the_summary_quotes_the_figures_and_the_other_pipelines(tmp_path, shown):
    data = _tiny()
    ctx = _context(tmp_path, data)
    result = _run(ctx)["result"]
    figures = ctx.figures()
    card = result.scorecard
    for kpi, figure in strategy.FIGURE_OF_KPI.items():
        expected = figures.current[figure]
        assert card.at[kpi, "current"] == pytest.approx(expected, nan_ok=True), kpi
    churned = churn.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    if churned.warning_list is None:
        assert result.risk is None
    else:
        pd.testing.assert_frame_equal(result.risk, churned.warning_list)
    segments = segmentation.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    clusters = segmentation.assignments(segments)
    if clusters is None:
        assert result.clusters is None
    else:
        pd.testing.assert_frame_equal(result.clusters, clusters)


def test_planted_nps_drop_is_an_alert_on_the_sample(tmp_path, shown):
    from analysis.data.load import load_dataset
    from analysis.data.sample import write_sample

    sample = SAMPLE
    if not (sample / "survey_responses.csv").is_file():  # a fresh clone: generate it (~2 s)
        sample = write_sample(tmp_path / "sample", n_customers=20_000, seed=42)
    params = load_params(
        overrides={
            "data_dir": str(sample),
            "output_dir": str(tmp_path / "reports"),
            "export_dir": str(tmp_path / "exports"),
            "quality": {"today": "2026-06-30"},
        }
    )
    data = load_dataset(params).for_unit("ecommerce")
    params["unit"] = "ecommerce"
    ctx = ReportContext(
        params=params,
        period=Period.parse("2025-Q4"),
        unit="ecommerce",
        data=data,
        data_end=data.orders["order_date"].max(),
    )
    result = summary.build(ctx.data, ctx.period, ctx.params)
    nps = [a for a in result.alerts if a.kind == "nps_change"]
    assert nps and nps[0].tone == "bad"
    assert nps[0].values["change"] < -15 and nps[0].values["p_value"] < 0.05  # planted -23.6
    assert result.alerts[0].kind == "nps_change"  # the largest finding comes first
    fix = [a for a in result.alerts if a.kind == "fix_first"]
    assert fix and fix[0].values["attribute"] == "rating_delivery"  # lowered 1.15 sd
    # the value-at-risk alert quotes the unit's figures
    risk = [a for a in result.alerts if a.kind == "value_at_risk"]
    assert risk and risk[0].values["value"] == result.figures.value("value_at_risk")
    assert risk[0].values["customers"] == result.figures.value("high_risk_customers")
    views.alerts_section(ctx, result)
    page = "\n".join(shown)
    assert "NPS fell from" in page
    assert result.figures.text("value_at_risk").replace("$", "<span>$</span>") in page


def test_all_units_comparison_in_chinese(tmp_path, shown):
    from analysis.plots import set_theme

    set_theme("zh")
    result = _run(_context(tmp_path, _tiny("all"), unit="all", language="zh"))
    html = "\n".join(shown)
    assert "KPI 记分卡" in html and "业务单元对比" in html and "重点预警" in html
    assert sorted(result["units"].index) == ["north", "south"]
    assert result["units"]["revenue_share"].sum() == pytest.approx(1.0)
    for key in ("figures.retention_rate.label", "figures.nps.label"):
        assert catalog("zh")[key] in html
    assert "Active customers" not in html


def test_notebook_is_thin_with_the_shared_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    overview = nbformat.read(ROOT / "notebooks" / "overview.ipynb", as_version=4)

    def params(book):
        return [c.source for c in book.cells if "parameters" in c.metadata.get("tags", [])]

    assert params(nb) == params(overview) and len(params(nb)) == 1
    assert nb.metadata["segreport"] == {"report": "summary", "order": 10, "runs_after": True}
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(c.get("outputs", []) == [] for c in nb.cells if c.cell_type == "code")
    assert not any(re.search(r"^\s*(def|class) ", c.source, re.M) for c in nb.cells)
    assert "report.summary.title" in catalog("en") and "report.summary.title" in catalog("zh")


@pytest.mark.slow
def test_notebook_runs_without_the_other_reports(tmp_path):
    from conftest import write_tables

    data_dir = write_tables(tmp_path / "data", tiny_tables())
    nb, outputs, _ = run_notebook("summary", tmp_path, data_dir=data_dir, unit="all")
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    en = catalog("en")
    for key in ("kpis.title", "alerts.title", "segments.title", "referral.title", "units.title"):
        assert f">{en[f'report_summary.{key}']}</h2>" in html
    assert "technical warning" not in html


@pytest.mark.parametrize("language", ["en", "zh"])
def test_actions_say_who_why_and_the_export_with_the_pipelines_figures(tmp_path, shown, language):
    # the tiny data's churn probabilities sit near 5.6%: a low cut gives high-risk customers
    ctx = _context(tmp_path, _tiny(), language=language)
    ctx.params["churn"]["high_risk"] = 0.05
    out = _run(ctx)
    result, actions = out["result"], out["actions"]
    html = "\n".join(shown)
    names = catalog(language)
    assert 1 <= len(actions) <= 3
    assert [a.value for a in actions] == sorted((a.value for a in actions), reverse=True)
    # the first section shown is the actions block
    assert shown[0].startswith('<h2 id="sec-actions"')
    assert f">{names['report_summary.actions.title']}</h2>" in shown[0]
    assert html.count('class="sr-note sr-warning sr-action"') == len(actions)
    overview = result.rfm_overview
    for action in actions:
        if action.kind == "retain":  # the unit's figures, as the churn report prints them
            assert action.value == result.figures.value("value_at_risk")
            assert action.customers == result.figures.value("high_risk_customers")
            assert 'href="churn.html#sec-list"' in html
            assert 'href="exports/churn_risk.csv"' in html
        else:  # the segment's row of the segments table
            assert action.value == overview.at[action.key, "revenue"]
            assert action.customers == overview.at[action.key, "customers"]
            assert result.rfm_priority[action.key] in ("high", "medium")
            assert 'href="value.html#sec-rfm"' in html and 'href="exports/rfm.csv"' in html
        assert ctx.money(action.value) in re.sub(r"</?span\b[^>]*>", "", html)
    # priority follows value at stake: at most two High segments, the largest ones
    high = result.rfm_priority[result.rfm_priority == "high"].index
    assert 1 <= len(high) <= strategy.MAX_HIGH
    assert overview.loc[high, "revenue"].min() >= overview.drop(high)["revenue"].max()


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory):
    """The retail unit of a 1,500-customer sample (categories, discounts, channels and
    service contacts: what the needs classification reads), with its parameters."""
    from analysis.data.load import load_dataset
    from analysis.data.sample import write_sample

    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder, n_customers=1500, seed=3)
    params = load_params(overrides={"data_dir": str(folder), "quality": {"today": "2026-06-30"}})
    return load_dataset(params).for_unit("retail")


def test_needs_section_shows_an_action_per_need_and_the_exports(tmp_path, shown, small_sample):
    from analysis.needs import NEEDS
    from analysis.pipelines import needs as needs_report
    from analysis.playbook import action_for

    ctx = _context(tmp_path, small_sample, unit="retail")
    result = summary.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    mix = views.needs_section(ctx, result)
    html = "\n".join(shown)
    assert list(mix.index) == list(NEEDS)
    # the same classification as the needs report
    own = needs_report.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared).needs
    expected = own.mix.set_index("need_type")["customers"].reindex(list(NEEDS), fill_value=0)
    assert mix["customers"].tolist() == expected.astype(int).tolist()
    assert mix["customers"].sum() == result.needs.classified == len(own.export)
    # each need's value at stake is its customers' net revenue in the segments table
    assert mix["value"].sum() == pytest.approx(result.rfm_overview["revenue"].sum())
    assert (mix["priority"] == "high").sum() <= strategy.MAX_HIGH
    for need in NEEDS:
        entry = action_for(result.playbook, "need_type", need, "en", available=result.available)
        assert entry.offer in html
    assert 'href="exports/needs.csv"' in html and 'href="needs.html#sec-actions"' in html
    assert (result.needs.recommended > 0) == ('href="exports/recommendations.csv"' in html)
    # the cross-sell of each segment is the needs report's own
    report = needs_report.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    pd.testing.assert_frame_equal(result.needs.cross_sell, report.top_cross_sell)
    pairs = result.needs.cross_sell
    assert len(pairs)
    for _, row in pairs.iterrows():  # every segment's next-best category and its customers
        label = needs_report.category_label(row["next_best_category"], "en")
        assert f"{label} ({row['next_best_customers']:,})" in html
    strong = pairs.loc[pairs["lift"].astype(float).fillna(0) >= views.MIN_LIFT]
    for _, row in strong.iterrows():
        assert f"{row['lift']:.2f}" in html
    weak = pairs.loc[pairs["lift"].astype(float).fillna(0) < views.MIN_LIFT]
    for _, row in weak.iterrows():
        if pd.notna(row["lift"]):
            assert f"<td>{row['lift']:.2f}</td>" not in html


def test_needs_and_cross_sell_without_categories(tmp_path, shown, small_sample):
    data = small_sample
    orders = data.orders.assign(product_category="all")
    ctx = _context(tmp_path, Dataset(customers=data.customers, orders=orders), unit="retail")
    result = summary.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    assert result.needs.preferences_status == "no_categories"
    assert result.needs.cross_sell.empty
    views.needs_section(ctx, result)
    html = "\n".join(shown)
    assert catalog("en")["report_summary.needs.cross_sell_title"] not in html
    assert "recommendations.csv" not in html


def test_needs_report_and_summary_give_each_need_the_same_action(tmp_path, shown, small_sample):
    """One wording per need: the needs report's actions table quotes the playbook entry the
    summary quotes (first step and offer), never its own text."""
    from analysis.needs import NEEDS
    from analysis.pipelines import needs as needs_report
    from analysis.report.views import needs as needs_views

    ctx = _context(tmp_path, small_sample, unit="retail")
    result = summary.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    views.needs_section(ctx, result)
    summary_html = "\n".join(shown)
    shown.clear()
    report = needs_report.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    needs_views.actions_section(ctx, report)
    needs_html = "\n".join(shown)
    from analysis.playbook import action_for

    for need in NEEDS:
        if int(result.needs.mix.at[need, "customers"]) == 0:
            continue
        entry = action_for(result.playbook, "need_type", need, "en", available=result.available)
        for words in (entry.actions[0], entry.offer):
            escaped = words.replace("&", "&amp;")
            assert escaped in summary_html and escaped in needs_html, (need, words)

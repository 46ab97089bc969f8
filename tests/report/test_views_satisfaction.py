"""The "Satisfaction" report's view: it only displays (no statistics imported, no other
view), its charts draw on the Axes they are given, its sections show the pipeline's result
in-process on tiny data (no survey file, a unit without responses, no NPS question), and the
notebook runs under papermill on generated data with a planted NPS drop and planted XSS
comments. The computations are tested in tests/satisfaction/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, report_context, run_notebook, tiny_tables, unguarded, write_tables

from analysis import plots
from analysis import satisfaction as sat
from analysis.config import load_params
from analysis.data.load import Dataset
from analysis.i18n import catalog
from analysis.pipelines import satisfaction as pipeline
from analysis.report.views import satisfaction as view

NOTEBOOK = ROOT / "notebooks" / "satisfaction.ipynb"
XSS = "<script>alert(1)</script> <img src=x onerror=alert(1)> parcel late"
PII_EMAIL = "zelda.quixote@pii.example"
#: The appendix's sections, in the notebook's order.
APPENDIX = (
    "method_section",
    "trend_detail",
    "groups_detail",
    "attributes_detail",
    "drivers_detail",
)


# --------------------------------------------------------------------------- helpers


def _context(tmp_path: Path, tables: dict[str, pd.DataFrame | None], unit: str = "north"):
    orders = tables["orders"].assign(order_date=lambda d: pd.to_datetime(d["order_date"]))
    customers = tables["customers"].astype({"customer_id": "string"})
    orders = orders.astype({"customer_id": "string"})
    surveys = tables.get("survey_responses")
    data = Dataset(customers=customers, orders=orders, survey_responses=surveys)
    ctx = report_context(
        tmp_path, data.for_unit(unit), unit=unit, data_end=orders["order_date"].max()
    )
    ctx.params["export_dir"] = str(tmp_path / "exports")
    return ctx


def _tiny_surveys(seed: int = 1, n: int = 400) -> pd.DataFrame:
    """Survey answers of the tiny data set's customers, 2024-2025, unit north only."""
    rng = np.random.default_rng(seed)
    tables = tiny_tables()
    north = tables["customers"].loc[tables["customers"]["business_unit"] == "north"]
    quality = rng.integers(1, 6, n)
    return pd.DataFrame(
        {
            "response_id": [f"S{i:04d}" for i in range(n)],
            "response_date": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 731, n), "D"),
            "business_unit": "north",
            "customer_id": pd.array(rng.choice(north["customer_id"], n), dtype="string"),
            "csat": np.clip(quality + rng.integers(-1, 2, n), 1, 5).astype(float),
            "rating_product_quality": quality.astype(float),
            "rating_delivery": rng.integers(1, 6, n).astype(float),
            "rating_price": rng.integers(1, 6, n).astype(float),
            "comment": rng.choice(["great quality", "slow delivery", "质量很差", None], n),
            "touchpoint": rng.choice(["web", "store"], n),
        }
    )


def _build(ctx):
    """The pipeline as the notebook calls it (fewer bootstrap resamples, for speed)."""
    params = {**ctx.params, "satisfaction": {"driver_bootstrap": 20}}
    return pipeline.build(ctx.data, ctx.period, params, shared=ctx.shared)


def _run_sections(ctx):
    """The notebook's cells, charts included."""
    result = _build(ctx)
    view.kpi_section(ctx, result)
    view.trend_section(ctx, result)
    if "trend" in result.charts:
        fig, axes = plt.subplots(1, len(result.trend.shown), squeeze=False)
        for ax, (metric, table) in zip(axes[0], result.trend.shown.items(), strict=True):
            view.plot_trend(table, metric=metric, changes=result.trend.changes[metric], ax=ax)
        plots.show_figure(fig)
    view.trend_findings(ctx, result)
    view.groups_section(ctx, result)
    view.attributes_section(ctx, result)
    if "attributes" in result.charts:
        fig, ax = plt.subplots()
        view.plot_diverging(result.attributes.distribution, levels=result.attributes.levels, ax=ax)
        plots.show_figure(fig)
    view.attributes_findings(ctx, result)
    view.drivers_section(ctx, result)
    if "drivers" in result.charts:
        fig, (left, right) = plt.subplots(1, 2)
        view.plot_drivers(result.drivers.drivers, ax=left)
        view.plot_ipa(result.drivers.ipa, ax=right)
        plots.show_figure(fig)
    view.drivers_findings(ctx, result)
    view.comments_section(ctx, result)
    view.links_section(ctx, result)
    if "churn" in result.charts:
        fig, ax = plt.subplots()
        view.plot_churn_by_category(result.links.churn.summary, days=result.links.churn.days, ax=ax)
        plots.show_figure(fig)
    view.churn_findings(ctx, result)
    exports = view.export_section(ctx, result)
    if result.status == "ok":  # the appendix of a report with responses
        ctx.appendix()
        for detail in APPENDIX:
            getattr(view, detail)(ctx, result)
    return result, exports


# --------------------------------------------------------------------------- the view only displays


def test_view_imports_no_statistics_and_no_other_view():
    source = Path(view.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    banned = ("scipy", "sklearn", "statsmodels")
    assert not [m for m in imported if m.split(".")[0] in banned], imported
    # siblings: ``from . import x``/``from .x import``, or analysis.report.views.<x>
    assert not [m for m in imported if m.startswith(".") and not m.startswith("..")], imported
    assert not [m for m in imported if "report.views" in m], imported


def test_plots_draw_on_the_given_or_current_axes(tmp_path):
    tables = {**tiny_tables(), "survey_responses": _tiny_surveys()}
    result = _build(_context(tmp_path, tables))
    trend = result.trend.shown["csat"]
    fig, ax = plt.subplots()
    assert view.plot_trend(trend, metric="csat", period="2025-Q4", ax=ax) is ax
    assert ax.get_title() == catalog("en")["report_satisfaction.trend.chart.csat"]
    fig, ax = plt.subplots()  # no ax: the current Axes
    assert view.plot_drivers(result.drivers.drivers, language="zh") is ax
    assert ax.get_title() == catalog("zh")["report_satisfaction.drivers.chart"]
    assert view.plot_ipa(result.drivers.ipa, ax=plt.subplots()[1]).get_xlabel()
    dist = result.attributes.distribution
    bars = view.plot_diverging(dist, levels=result.attributes.levels, ax=plt.subplots()[1])
    assert [tick.get_text() for tick in bars.get_yticklabels()] == [
        sat.attribute_name(c) for c in dist.index
    ]
    churn = result.links.churn
    chart = view.plot_churn_by_category(churn.summary, days=churn.days, ax=plt.subplots()[1])
    assert f"{churn.days} days" in chart.get_title()


# --------------------------------------------------------------------------- sections in-process


def test_no_survey_file_gives_a_short_report(tmp_path, shown):
    ctx = _context(tmp_path, tiny_tables())
    result, _ = _run_sections(ctx)
    assert result.status == "no_survey_file" and result.survey.no_file and result.survey.empty
    assert result.charts == frozenset() and result.kpis is None and result.links is None
    html = "".join(shown)
    assert html.count('class="sr-h"') == 1 and "There is no survey file" in html
    exports = ctx.export_folder()
    assert pd.read_csv(exports / "detractors.csv").columns.tolist() == sat.DETRACTOR_COLUMNS
    assert pd.read_csv(exports / "satisfaction_groups.csv").columns.tolist() == sat.GROUP_COLUMNS


def test_unit_without_responses_gives_a_short_report_in_chinese(tmp_path, shown):
    tables = {**tiny_tables(), "survey_responses": _tiny_surveys()}
    ctx = _context(tmp_path, tables, unit="south")
    ctx.params["language"] = "zh"
    result, _ = _run_sections(ctx)
    assert result.status == "no_responses" and result.survey.empty
    assert not result.survey.no_file
    html = "".join(shown)
    assert html.count('class="sr-h"') == 1 and "没有任何问卷答卷" in html


def test_survey_without_nps_renders_from_csat_and_ratings(tmp_path, shown):
    tables = {**tiny_tables(), "survey_responses": _tiny_surveys()}
    ctx = _context(tmp_path, tables)
    result, _ = _run_sections(ctx)
    survey = result.survey
    assert not survey.has_nps and survey.outcome == "csat"
    assert list(result.kpis.index) == ["csat", "responses"]
    assert result.drivers.drivers.index[0] == "rating_product_quality"  # csat built from it
    assert {"trend", "attributes", "drivers"} <= result.charts
    html = "".join(shown)
    assert "no NPS question" in html and "CSAT" in html
    for title in ("Trend per quarter", "Attribute ratings", "What drives satisfaction"):
        assert title in html
    assert html.count("<figure>") == len(result.charts)
    detractors = pd.read_csv(ctx.export_folder() / "detractors.csv")
    assert len(detractors) and detractors["csat"].le(2).all() and detractors["nps"].isna().all()


def test_survey_with_ratings_only_still_renders(tmp_path, shown):
    surveys = _tiny_surveys().drop(columns=["csat"])
    ctx = _context(tmp_path, {**tiny_tables(), "survey_responses": surveys})
    result, _ = _run_sections(ctx)
    assert result.survey.outcome is None and result.attributes is not None
    html = "".join(shown)
    assert "neither an NPS nor an overall satisfaction question" in html
    assert "Attribute ratings" in html and result.drivers is None
    assert result.charts == {"attributes"} and html.count("<figure>") == 1


def test_churn_link_shows_the_units_window(tmp_path, shown):
    rng = np.random.default_rng(3)
    surveys = _tiny_surveys().assign(nps=lambda d: rng.integers(0, 11, len(d)).astype(float))
    ctx = _context(tmp_path, {**tiny_tables(), "survey_responses": surveys})
    ctx.params["churn"] = {**ctx.params["churn"], "window_days": 45}
    result = _build(ctx)
    churn = result.links.churn
    assert churn.days == 45 and churn.window.source == "param"
    assert churn.definition == "noncontractual"
    view.links_section(ctx, result)
    view.churn_findings(ctx, result)
    html = "".join(shown)
    assert "no purchase in the 45 days after the response" in html
    assert "set in the parameters" in html and "90 days" not in html


def test_segment_hook_adds_nps_by_segment(tmp_path, shown, monkeypatch):
    rng = np.random.default_rng(3)
    surveys = _tiny_surveys().assign(nps=lambda d: rng.integers(0, 11, len(d)).astype(float))
    customers = tiny_tables()["customers"]
    segments = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].astype("string"),
            "segment": np.where(np.arange(len(customers)) % 2, "Champions", "<b>At risk</b>"),
        }
    )
    monkeypatch.setattr(pipeline, "segment_assignments", lambda *args: segments)
    ctx = _context(tmp_path, {**tiny_tables(), "survey_responses": surveys})
    result = _build(ctx)
    view.links_section(ctx, result)
    assert set(result.links.segments["group"]) == {"Champions", "<b>At risk</b>"}
    small = int(result.links.segments["small_base"].sum())
    manager = "".join(shown)
    assert "NPS by customer segment" in manager
    if small:  # segments too small to compare are left to the appendix, and counted
        assert f"{small} group" in manager and "the appendix lists every group" in manager
    shown.clear()
    view.groups_detail(ctx, result)
    html = "".join(shown)
    assert "NPS by customer segment" in html and "&lt;b&gt;At risk&lt;/b&gt;" in html
    assert "<b>At risk" not in manager + html


# --------------------------------------------------------------------------- notebook


def test_notebook_is_thin_with_the_shared_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    overview = nbformat.read(ROOT / "notebooks" / "overview.ipynb", as_version=4)

    def params(book):
        return [c.source for c in book.cells if "parameters" in c.metadata.get("tags", [])]

    assert params(nb) == params(overview)
    assert nb.metadata["segreport"] == {"report": "satisfaction", "order": 40}
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(c.get("outputs", []) == [] for c in nb.cells if c.cell_type == "code")
    code = [unguarded(c.source) for c in nb.cells if c.cell_type == "code"]
    # the pipeline call is visible, and the charts are drawn in the notebook's own cells
    assert (
        "result = satisfaction.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)" in code
    )
    for chart in ("plot_trend", "plot_diverging", "plot_drivers", "plot_ipa"):
        assert any(f"view.{chart}(" in cell and "show_figure(fig)" in cell for cell in code)
    assert code[-1] == "ctx.finish()"
    assert "report.satisfaction.title" in catalog("en") and "report.satisfaction.title" in catalog(
        "zh"
    )


@pytest.fixture(scope="module")
def planted_sample(tmp_path_factory) -> Path:
    """The 20,000-customer sample (NPS drop planted in ecommerce 2025-Q4) with XSS and an
    e-mail address planted in the comments of eight identified ecommerce detractors."""
    from analysis.data.sample import write_sample

    folder = write_sample(tmp_path_factory.mktemp("satsample"), n_customers=20_000, seed=42)
    path = folder / "survey_responses.csv"
    surveys = pd.read_csv(path, dtype=str, keep_default_na=False)
    target = surveys.index[
        (surveys["business_unit"] == "ecommerce")
        & (surveys["response_date"] >= "2025-10-01")
        & (surveys["customer_id"] != "")
        & surveys["nps"].isin([str(v) for v in range(7)])
    ][:8]
    surveys.loc[target, "comment"] = XSS
    surveys.loc[target[0], "comment"] = f"{XSS} mail me at {PII_EMAIL}"
    surveys.to_csv(path, index=False)
    return folder


@pytest.mark.slow
def test_ecommerce_report_flags_the_planted_drop_and_escapes_comments(planted_sample, tmp_path):

    from analysis.report.render import header_resources, render_html

    reports = tmp_path / "reports"
    exports = reports / "2025-Q4" / "ecommerce" / "exports"
    nb, outputs, _ = run_notebook(
        "satisfaction", tmp_path, data_dir=planted_sample, unit="ecommerce", export_dir=str(exports)
    )
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 4  # trend, ratings, ...
    page = render_html(
        nb,
        tmp_path / "satisfaction.html",
        header_resources(
            report="satisfaction",
            unit="ecommerce",
            period="2025-Q4",
            data_end="2025-12-31",
            language="en",
        ),
    ).read_text(encoding="utf-8")

    # the planted drop is reported as significant, in the KPI takeaway and in the trend
    assert re.search(r"NPS fell significantly, -2\d\.\d pts from 2025-Q3 to 2025-Q4", page)
    assert "a significant drop" in page
    assert "CSAT (top-2 box) shows no significant change" in page
    assert "technical warning" not in page
    # XSS is inert: escaped text present, no markup from data
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    images = re.findall(r"<img\b[^>]*>", page)  # only our own charts, as data URIs
    assert images and all(
        re.fullmatch(r'<img alt="[^"<>]+" src="data:image/png;base64,[^"]+"/?>', i) for i in images
    )
    # comments are masked and no customer id appears anywhere on the page
    assert PII_EMAIL not in page and "[email]" in page
    assert not re.search(r"\bC\d{7}\b", page)

    detractors = pd.read_csv(exports / "detractors.csv", dtype={"customer_id": str})
    assert detractors.columns.tolist() == sat.DETRACTOR_COLUMNS
    assert len(detractors) > 20 and detractors["nps"].between(0, 6).all()
    assert detractors["customer_id"].str.fullmatch(r"C\d{7}").all()  # real ids, not hashes
    assert (detractors["business_unit"] == "ecommerce").all()
    assert detractors["response_date"].between("2025-10-01", "2025-12-31").all()
    assert detractors["follow_up_action"].str.len().gt(10).all()
    assert not detractors["comment"].fillna("").str.contains(PII_EMAIL, regex=False).any()
    assert not {"name", "phone", "email", "address"} & set(detractors.columns)
    groups = pd.read_csv(exports / "satisfaction_groups.csv")
    assert groups.columns.tolist() == sat.GROUP_COLUMNS
    assert {"customer_type", "touchpoint", "region"} <= set(groups["dimension"])
    assert groups.loc[groups["small_base"], "rank"].isna().all()


@pytest.mark.slow
def test_runner_renders_a_survey_without_nps_and_a_unit_without_responses(tmp_path):
    from analysis.report.runner import run

    tables = {**tiny_tables(), "survey_responses": _tiny_surveys()}
    data = write_tables(tmp_path / "data", tables)
    params = load_params(
        overrides={
            "data_dir": str(data),
            "output_dir": str(tmp_path / "reports"),
            "period": "2025-Q4",
            "language": "zh",
            "quality": {"today": "2026-06-30"},
        }
    )
    _, results = run(params, units=["north", "south"], reports=["satisfaction"], progress=False)
    # south has no response: a short page, "not applicable" for the runner
    assert [r.status for r in results] == ["ok", "not_applicable"], results
    north = (tmp_path / "reports" / "2025-Q4" / "north" / "satisfaction.html").read_text("utf-8")
    south = (tmp_path / "reports" / "2025-Q4" / "south" / "satisfaction.html").read_text("utf-8")
    assert "本次调查没有 NPS 问题" in north and "满意度的驱动因素" in north
    assert "没有任何问卷" in south and "满意度的驱动因素" not in south
    for page in (north, south):
        assert "Traceback" not in page and "技术警告" not in page


# --------------------------------------------------------------------------- real surveys


def test_plot_drivers_draws_intervals_that_miss_the_estimate_and_leaves_out_missing_ones():
    # small samples: a percentile interval need not contain the estimate, and some cannot
    # be estimated at all ('xerr' must not contain negative values, issue 14)
    drivers = pd.DataFrame(
        {
            "share": [50.0, 30.0, 20.0],
            "ci_low": [40.0, 32.0, np.nan],
            "ci_high": [60.0, 45.0, np.nan],
            "sign": [1, 1, -1],
        },
        index=pd.Index(["rating_a", "rating_b", "rating_c"], name="driver"),
    )
    fig, ax = plt.subplots()
    view.plot_drivers(drivers, ax=ax)
    lines = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"]
    assert len(lines) == 1 and len(lines[0].get_segments()) == 2  # the two known intervals
    labels = [t.get_text() for t in ax.texts]
    assert "20% (–)" in labels and "30%" in labels


def _ten_point_surveys(rng, n: int, p: int, *, start: str = "2025-10-01") -> pd.DataFrame:
    latent = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            f"rating_a{j:02d}": np.clip(np.round(6 + latent + rng.normal(0, 2, n)), 1, 10)
            for j in range(p)
        }
    )
    three = np.clip(np.round(6 + 1.6 * latent[:, None] + rng.normal(0, 1.2, (n, 3))), 1, 10)
    return frame.assign(
        satisfaction_index=three.mean(axis=1),
        response_id=[f"R{i}" for i in range(n)],
        response_date=pd.date_range(start, periods=n, freq="D"),
        business_unit="north",
        customer_id=pd.array([pd.NA] * n, dtype="string"),
    )


def test_small_unit_with_a_composite_outcome_names_its_scale(tmp_path, shown, rng):
    """44 respondents, 21 attributes on 1-10, no csat: the outcome is a composite index."""
    surveys = _ten_point_surveys(rng, 44, 21)
    ctx = _context(tmp_path, {**tiny_tables(), "survey_responses": surveys})
    ctx.params["survey"] = {
        "scales": {"rating_*": [1, 10], "satisfaction_index": [1, 10]},
        "outcome": "satisfaction_index",
    }
    result, _ = _run_sections(ctx)
    assert result.drivers.status == "ok" and "drivers" in result.charts
    html = "".join(shown)
    assert "explained variation in satisfaction index (1–10)" in html
    assert "the share answering 9 or higher on satisfaction index (1–10; top-2 box)" in html
    assert "44 complete answers for 21 attributes" in html  # the weights are called rough
    for wrong in ("4 or 5", "CSAT (top-2 box)", "explained variation in CSAT"):
        assert wrong not in html
    assert "Satisfaction index: top-2 box of 1–10" in html  # the card names the item


def test_survey_only_data_says_links_do_not_apply(tmp_path, shown, rng):
    surveys = _ten_point_surveys(rng, 120, 4, start="2025-09-01")
    tables = tiny_tables()
    orders = tables["orders"].iloc[0:0].assign(order_date=pd.Series(dtype="datetime64[ns]"))
    data = Dataset(
        customers=tables["customers"].iloc[0:0].astype({"customer_id": "string"}),
        orders=orders.astype({"customer_id": "string"}),
        survey_responses=surveys,
    )
    ctx = report_context(tmp_path, data.for_unit("north"), unit="north")
    ctx.params["export_dir"] = str(tmp_path / "exports")
    ctx.params["survey"] = {"scales": {"rating_*": [1, 10]}, "outcome": "satisfaction_index"}
    result, _ = _run_sections(ctx)
    assert result.status == "ok" and result.links.has_orders is False
    html = "".join(shown)
    assert "Not applicable to this data: it has no purchases" in html
    assert "What drives satisfaction" in html and "Traceback" not in html


def test_company_report_links_each_unit_with_a_change_and_keeps_p_for_the_appendix(tmp_path, shown):
    """The company-wide trend names the units whose score changed significantly and links
    to each unit's report (beside this one); the adjusted p-values are in the appendix."""
    import dataclasses

    ctx = _context(tmp_path, {**tiny_tables(), "survey_responses": _tiny_surveys()})
    result = _build(ctx)
    assert "trend" in result.charts
    change = sat.ScoreChange(
        group="east coast", by="business_unit", period="2025-Q4", previous_period="2025-Q3",
        metric="csat", score=0.6, previous_score=0.75, change=-0.15, direction="down",
        se=0.05, z=-3.0, p_value=0.0027, p_adjusted=0.0123, n=200, previous_n=210,
    )  # fmt: skip
    trend = dataclasses.replace(result.trend, unit_changes=[("csat", change)])
    result = dataclasses.replace(result, trend=trend)
    view.trend_findings(ctx, result)
    manager = "".join(shown)
    assert "1 significant change(s) in individual business units" in manager
    assert 'href="../east_coast/satisfaction.html#sec-trend"' in manager
    assert "-15.0 pts" in manager and "0.012" not in manager
    shown.clear()
    view.trend_detail(ctx, result)
    assert "0.012" in "".join(shown) and "Adjusted p-value" in "".join(shown)

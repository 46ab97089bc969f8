"""The "Data overview and quality" report: the notebook's cells in-process (pipeline,
sections and the charts drawn in the cells) and the public plot functions."""

from __future__ import annotations

import nbformat
import pandas as pd
from conftest import ROOT, report_context, tiny_tables

from analysis.data.load import Dataset
from analysis.i18n import catalog
from analysis.pipelines import overview as pipeline
from analysis.report.views import overview as views

NOTEBOOK = ROOT / "notebooks" / "overview.ipynb"


def _tiny(**drop) -> Dataset:
    tables = tiny_tables()
    customers = tables["customers"].assign(signup_date=pd.Timestamp("2023-06-01"))
    orders = tables["orders"].assign(order_date=pd.to_datetime(tables["orders"]["order_date"]))
    if drop.get("types"):
        customers = customers.drop(columns="customer_type")
    return Dataset(customers=customers, orders=orders)


def _run(ctx, monkeypatch) -> dict:
    """The overview notebook's code cells after the parameters cell, run in-process."""
    from analysis.report import context as context_module

    monkeypatch.setattr(context_module, "open_report", lambda namespace: ctx)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    namespace: dict = {}
    for source in [c.source for c in nb.cells if c.cell_type == "code"][1:]:
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)  # noqa: S102
    return namespace


def test_notebook_shows_every_section_with_its_charts(tmp_path, shown, monkeypatch):
    ctx = report_context(tmp_path, _tiny())
    result = _run(ctx, monkeypatch)["result"]
    html = "\n".join(shown)
    en = catalog("en")
    for key in ("overview.kpis.title", "overview.trend.title", "overview.mix.title"):
        assert en[key] in html
    assert html.count("<figure>") == 2  # the trend pair and the type mix
    assert html.count("sr-takeaway") == 3
    revenue = ctx.number(result.kpis.loc["revenue", "current"])
    assert f"{revenue}</div>" in html and f"{revenue}</td>" in html  # card and table
    assert "Data quality" in html


def test_sections_say_when_there_is_nothing_to_show(tmp_path, shown, monkeypatch):
    ctx = report_context(tmp_path, _tiny(types=True), period="2026-Q2")
    result = _run(ctx, monkeypatch)["result"]
    html = "\n".join(shown)
    assert result.status == "no_orders_in_period" and result.mix.empty
    assert "There are no orders in 2026-Q2; the figures below are zero" in html
    assert "no customer_type column" in html
    assert html.count("<figure>") == 1  # the trend only: no type mix without types


def test_plot_functions_draw_on_the_current_axes_by_default(tmp_path):
    import matplotlib.pyplot as plt

    ctx = report_context(tmp_path, _tiny())
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    plt.figure()
    ax = plt.gca()
    assert views.plot_revenue_trend(result.trend, period=result.period, currency="€") is ax
    assert ax.get_title() == catalog("en")["overview.trend.revenue"]
    assert len(ax.patches) == 1  # the shaded period
    plt.figure()
    ax = plt.gca()
    assert views.plot_active_trend(result.trend, language="zh") is ax
    assert ax.get_title() == catalog("zh")["overview.trend.active"] and not ax.patches
    plt.figure()
    ax = plt.gca()
    assert views.plot_type_mix(result.mix) is ax
    assert len(ax.patches) == len(result.mix)


def test_the_overview_comes_first_and_the_comparison_table_goes_to_the_appendix(
    tmp_path, shown, monkeypatch
):
    ctx = report_context(tmp_path, _tiny())
    result = _run(ctx, monkeypatch)["result"]
    html = "\n".join(shown)
    en = catalog("en")
    glance = html.index(en["overview.glance.title"])
    assert glance < html.index(en["overview.trend.title"]) < html.index(en["overview.mix.title"])
    appendix = html.index('id="sec-appendix"')
    assert html.index(en["overview.mix.title"]) < appendix < html.index(en["overview.kpis.title"])
    top = html[glance : html.index(en["overview.trend.title"])]
    # four cards, the unit figures among them linked to their definitions
    assert top.count('class="sr-kpi"') == 4
    assert 'href="#figure-net_revenue"' in top and 'href="#figure-active_customers"' in top
    assert top.count("<li>") >= 2 and ctx.number(result.kpis.loc["revenue", "current"]) in top
    # where to act: the other reports, at their sections
    assert 'href="churn.html#sec-list"' in top and 'href="value.html#sec-segments"' in top
    assert 'href="summary.html"' in top


def test_the_best_month_is_one_of_the_period(tmp_path):
    ctx = report_context(tmp_path, _tiny())
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    best = views._best_month_in_period(result)
    inside = result.trend.loc[result.period.contains(result.trend["month"])]
    assert best is not None and result.period.contains(pd.Series([best[0]])).all()
    assert best[1] == inside["revenue"].max()


def test_trend_charts_start_at_zero(tmp_path):
    import matplotlib.pyplot as plt

    ctx = report_context(tmp_path, _tiny())
    result = pipeline.build(ctx.data, ctx.period, ctx.params)
    plt.figure()
    assert views.plot_revenue_trend(result.trend, period=result.period).get_ylim()[0] == 0
    plt.figure()
    assert views.plot_active_trend(result.trend).get_ylim()[0] == 0

"""The "Strategy summary" report: sections in-process with and without the other reports'
exports, the planted ecommerce 2025-Q4 NPS drop as an alert on the 20k sample, Chinese,
the "all" comparison, and the notebook under papermill."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import ROOT, report_context, run_notebook, tiny_tables

from analysis.config import load_params
from analysis.data.load import Dataset
from analysis.i18n import catalog
from analysis.period import Period
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
    view = views.prepare(ctx)
    out = {"view": view, "kpis": views.kpi_section(ctx, view)}
    out["alerts"] = views.alerts_section(ctx, view)
    out["segments"] = views.segments_section(ctx, view)
    out["referral"] = views.referral_section(ctx, view)
    out["units"] = views.units_section(ctx, view)
    out["sources"] = views.sources_section(ctx, view)
    ctx.finish()
    return out


def test_fallback_without_exports(tmp_path, shown):
    result = _run(_context(tmp_path, _tiny()))
    html = "\n".join(shown)
    en = catalog("en")
    for key in ("kpis.title", "alerts.title", "segments.title", "referral.title"):
        assert en[f"report_summary.{key}"] in html
    assert result["sources"] == {
        "rfm.csv": "computed",
        "segments.csv": "missing",
        "churn_risk.csv": "missing",
    }
    assert "rfm.csv was not found, so the RFM segments" in html
    assert en["report_summary.clusters.missing"] in html
    assert "Value at risk is not shown" in html
    assert result["units"] is None and en["report_summary.units.title"] not in html
    assert html.count("sr-kpi-delta") == 2 * 13  # every KPI: vs previous and vs a year ago
    assert result["segments"]["customers"].sum() > 0
    assert result["referral"]["rate"]["referred"] > 0
    assert not re.search(r"\bC0\d{3}\b", html)  # referrer ids are pseudonymised
    assert "technical warning" not in html


def test_reads_the_other_reports_exports(tmp_path, shown):
    data = _tiny()
    ctx = _context(tmp_path, data)
    ids = sorted(data.orders["customer_id"].unique())
    folder = views.export_dir(ctx)
    folder.mkdir(parents=True)
    rfm = pd.DataFrame(
        {
            "customer_id": ids,
            "rfm_segment": ["champions", "hibernating"] * (len(ids) // 2)
            + ["new"] * (len(ids) % 2),
            "monetary": 100.0,
            "lifecycle_stage": "active",
        }
    )
    rfm.to_csv(folder / "rfm.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame(
        {
            "customer_id": ids,
            "segment_id": [i % 2 for i in range(len(ids))],
            "segment_name": ["Big <b>spenders</b>", "Bargain hunters"] * (len(ids) // 2)
            + ["Big <b>spenders</b>"] * (len(ids) % 2),
            "action": "Call them",
            "priority": "high",
        }
    ).to_csv(folder / "segments.csv", index=False)
    pd.DataFrame(
        {
            "customer_id": ids[:3],
            "churn_probability": [0.9, 0.7, 0.1],
            "value_at_risk": [1000.0, 500.0, 10.0],
            "reason_1": ["4 complaint(s)", "5 complaint(s)", "price"],
            "reason_feature_1": ["complaints", "complaints", "avg_order_value"],
        }
    ).to_csv(folder / "churn_risk.csv", index=False)
    result = _run(ctx)
    html = "\n".join(shown)
    assert set(result["sources"].values()) == {"export"}
    view = result["view"]
    assert view.rfm_overview.at["champions", "customers"] == len(ids) // 2
    assert view.cluster_overview["customers"].sum() == len(ids)
    assert "Big &lt;b&gt;spenders&lt;/b&gt;" in html and "<b>spenders" not in html
    var = [a for a in view.alerts if a.kind == "value_at_risk"]
    assert var and var[0].values["value"] == 1500.0
    assert "most common first reason: Complaints (2 customers;" in html


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
            "quality": {"today": "2026-06-30"},
        }
    )
    data = load_dataset(params).for_unit("ecommerce")
    ctx = ReportContext(
        params=params,
        period=Period.parse("2025-Q4"),
        unit="ecommerce",
        data=data,
        data_end=data.orders["order_date"].max(),
    )
    view = views.prepare(ctx)
    nps = [a for a in view.alerts if a.kind == "nps_change"]
    assert nps and nps[0].tone == "bad"
    assert nps[0].values["change"] < -15 and nps[0].values["p_value"] < 0.05  # planted -23.6
    assert view.alerts[0].kind == "nps_change"  # the largest finding comes first
    fix = [a for a in view.alerts if a.kind == "fix_first"]
    assert fix and fix[0].values["attribute"] == "rating_delivery"  # lowered 1.15 sd
    views.alerts_section(ctx, view)
    assert "NPS fell from" in "\n".join(shown)


def test_all_units_comparison_in_chinese(tmp_path, shown):
    from analysis.plots import set_theme

    set_theme("zh")
    result = _run(_context(tmp_path, _tiny("all"), unit="all", language="zh"))
    html = "\n".join(shown)
    assert "KPI 记分卡" in html and "业务单元对比" in html and "重点预警" in html
    assert sorted(result["units"].index) == ["north", "south"]
    assert result["units"]["revenue_share"].sum() == pytest.approx(1.0)
    for key in ("report_summary.kpi.retention_rate", "report_summary.kpi.nps"):
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

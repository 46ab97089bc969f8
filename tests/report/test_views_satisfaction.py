"""The "Satisfaction" report: its computations on hand-made frames, its sections in-process
on tiny data (no survey file, a unit without responses, no NPS question), and the notebook
under papermill on generated data with a planted NPS drop and planted XSS comments."""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, report_context, run_notebook, tiny_tables, write_tables

from analysis.config import load_params
from analysis.data.load import Dataset
from analysis.i18n import catalog
from analysis.report.views import satisfaction as views

NOTEBOOK = ROOT / "notebooks" / "satisfaction.ipynb"
XSS = "<script>alert(1)</script> <img src=x onerror=alert(1)> parcel late"
PII_EMAIL = "zelda.quixote@pii.example"


# --------------------------------------------------------------------------- helpers


def _survey(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "response_id": [f"R{i}" for i in range(n)],
        "response_date": pd.to_datetime(["2025-11-15"] * n),
        "business_unit": ["north"] * n,
        "customer_id": pd.array([f"C{i:04d}" for i in range(n)], dtype="string"),
    }
    return pd.DataFrame({**base, **columns})


def _view(frame: pd.DataFrame, *, has_nps: bool = True, overall: str | None = "csat", **kw):
    ratings = tuple(c for c in frame.columns if c.startswith("rating_"))
    return views.SurveyView(
        responses=frame,
        current=frame,
        previous=frame.iloc[:0],
        has_nps=has_nps,
        overall=overall,
        overall_scale=(1, 5),
        ratings=ratings,
        rating_scale=(1, 5),
        freq="Q",
        **kw,
    )


def _context(tmp_path: Path, tables: dict[str, pd.DataFrame | None], unit: str = "north"):
    orders = tables["orders"].assign(order_date=lambda d: pd.to_datetime(d["order_date"]))
    customers = tables["customers"].astype({"customer_id": "string"})
    orders = orders.astype({"customer_id": "string"})
    surveys = tables.get("survey_responses")
    data = Dataset(customers=customers, orders=orders, survey_responses=surveys)
    return report_context(
        tmp_path, data.for_unit(unit), unit=unit, data_end=orders["order_date"].max()
    )


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


def _run_sections(ctx) -> dict:
    survey = views.prepare(ctx)
    out = {"survey": survey, "kpis": views.kpi_section(ctx, survey)}
    out["trend"] = views.trend_section(ctx, survey)
    out["groups"] = views.groups_section(ctx, survey)
    out["ratings"] = views.attributes_section(ctx, survey)
    out["drivers"] = views.drivers_section(ctx, survey, n_boot=20)
    out["themes"] = views.comments_section(ctx, survey)
    out["links"] = views.links_section(ctx, survey)
    out["exports"] = views.export_section(ctx, survey, out["groups"])
    return out


# --------------------------------------------------------------------------- computations


def test_score_comparison_against_hand_computation():
    # current: 6 promoters, 2 passives, 2 detractors -> NPS +40; previous: 3/3/4 -> -10
    current = _survey(nps=[10] * 6 + [8] * 2 + [3] * 2, csat=[5] * 8 + [1] * 2)
    previous = _survey(nps=[9] * 3 + [7] * 3 + [0] * 4, csat=[4] * 5 + [2] * 5)
    table = views.score_comparison(current, previous, has_nps=True, overall="csat", days=(92, 92))
    nps = table.loc["nps"]
    assert nps["value"] == pytest.approx(40.0) and nps["previous"] == pytest.approx(-10.0)
    assert nps["change"] == pytest.approx(50.0)
    se1 = 100 * math.sqrt((0.6 + 0.2 - 0.4**2) / 10)
    se0 = 100 * math.sqrt((0.3 + 0.4 - 0.1**2) / 10)
    z = 50.0 / math.hypot(se1, se0)
    assert nps["p_value"] == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(z / math.sqrt(2)))))
    csat = table.loc["csat"]
    assert csat["value"] == pytest.approx(0.8) and csat["change"] == pytest.approx(0.3)
    responses = table.loc["responses"]
    # equal counts over equal periods: exact binomial test gives p = 1, change 0
    assert responses["change"] == 0 and responses["p_value"] == pytest.approx(1.0)
    assert not responses["significant"]


def test_score_comparison_without_previous_responses_is_not_significant():
    table = views.score_comparison(
        _survey(nps=[10, 0, 9]), _survey(nps=[]), has_nps=True, overall=None
    )
    assert list(table.index) == ["nps", "responses"]
    assert math.isnan(table.loc["nps", "change"]) and not table["significant"].any()


def test_churn_after_response_uses_only_fully_observed_windows():
    responses = _survey(nps=[10, 0, 5, 9, 8]).assign(
        response_date=pd.to_datetime(
            ["2025-01-10", "2025-01-10", "2025-03-01", "2025-11-01", "2025-02-01"]
        ),
        customer_id=pd.array(["A", "B", "C", "D", None], dtype="string"),
    )
    orders = pd.DataFrame(
        {
            "customer_id": pd.array(["A", "B", "B", "C", "C", "D"], dtype="string"),
            "order_date": pd.to_datetime(
                ["2025-02-20", "2025-01-10", "2025-06-01", "2025-02-01", "2025-03-20", "2025-11-20"]
            ),
            "amount": [50.0, 20.0, 30.0, 10.0, -10.0, 5.0],
        }
    )
    churn = views.churn_after_response(responses, orders, pd.Timestamp("2025-12-31"))
    # D answered less than 90 days before the data end; the anonymous answer is not followed
    assert churn["customer_id"].tolist() == ["A", "B", "C"]
    # A bought 41 days later; B only on the response day and 142 days later; C only refunded
    assert churn["churned"].tolist() == [False, True, True]
    summary = views.churn_by_category(churn, views.response_category(churn, _view(churn)))
    assert summary.loc["detractor", "rate"] == 1.0 and summary.loc["promoter", "rate"] == 0.0
    assert summary.loc["detractor", "n"] == 2 and summary.attrs["worst"] == "detractor"


def test_follow_up_actions_name_the_lowest_rated_attribute():
    detractors = pd.DataFrame(
        {
            "nps": [2, 5, 6],
            "rating_delivery": [1, 4, 4],
            "rating_price": [2, 2, 3],
            "rating_app_speed": [5, 5, 1],
        }
    )
    out = views.follow_up_actions(
        detractors, ["rating_delivery", "rating_price", "rating_app_speed"]
    )
    assert out["lowest_rated_attribute"].tolist() == ["delivery", "price", "app_speed"]
    assert out["priority"].tolist() == ["high", "medium", "medium"]
    names = catalog("en")
    assert out.loc[0, "follow_up_action"] == names["report_satisfaction.follow_up.delivery"]
    assert "app speed" in out.loc[2, "follow_up_action"]  # generic text for unknown attributes
    calm = views.follow_up_actions(
        detractors.assign(rating_price=4, rating_delivery=3, rating_app_speed=4), ["rating_price"]
    )
    assert calm["lowest_rated_attribute"].tolist() == ["", "", ""]
    zh = views.follow_up_actions(detractors, ["rating_delivery"], language="zh")
    assert zh.loc[0, "follow_up_action"] == catalog("zh")["report_satisfaction.follow_up.delivery"]


def test_group_table_greys_small_bases_and_never_ranks_them():
    frame = _survey(
        nps=[10] * 30 + [0] * 25 + [8] * 5 + [9] * 5,
        csat=[5] * 30 + [1] * 30 + [4] * 5,
        touchpoint=["web"] * 30 + ["store"] * 30 + ["app"] * 5,
    )
    table = views.group_table(frame, _view(frame), ["touchpoint"])
    assert table["group"].tolist() == ["web", "store", "app"]  # ranked first, small base last
    assert table["small_base"].tolist() == [False, False, True]
    assert table["rank"].tolist()[:2] == [1, 2] and pd.isna(table["rank"].iloc[2])
    assert table["nps_significant"].tolist()[:2] == [True, True]
    assert math.isnan(table.loc[2, "nps_p_adjusted"])
    assert set(table.columns) == set(views.GROUP_COLUMNS) - {"period", "unit"}


def test_response_category_without_nps_uses_the_overall_item():
    frame = _survey(csat=[5, 4, 3, 2, 1, np.nan, 7])
    cats = views.response_category(frame, _view(frame, has_nps=False))
    assert cats.tolist()[:5] == [
        "satisfied",
        "satisfied",
        "neutral",
        "dissatisfied",
        "dissatisfied",
    ]
    assert cats.iloc[5:].isna().all()  # missing and out-of-scale answers have no category


# --------------------------------------------------------------------------- sections in-process


def test_no_survey_file_gives_a_short_report(tmp_path, shown):
    ctx = _context(tmp_path, tiny_tables())
    out = _run_sections(ctx)
    assert out["survey"].no_file and out["survey"].empty
    html = "".join(shown)
    assert html.count('class="sr-h"') == 1 and "There is no survey file" in html
    exports = ctx.output_dir / "exports"
    assert pd.read_csv(exports / "detractors.csv").columns.tolist() == views.DETRACTOR_COLUMNS
    assert pd.read_csv(exports / "satisfaction_groups.csv").columns.tolist() == views.GROUP_COLUMNS


def test_unit_without_responses_gives_a_short_report_in_chinese(tmp_path, shown):
    tables = {**tiny_tables(), "survey_responses": _tiny_surveys()}
    ctx = _context(tmp_path, tables, unit="south")
    ctx.params["language"] = "zh"
    out = _run_sections(ctx)
    assert out["survey"].empty and not out["survey"].no_file
    html = "".join(shown)
    assert html.count('class="sr-h"') == 1 and "没有任何问卷答卷" in html


def test_survey_without_nps_renders_from_csat_and_ratings(tmp_path, shown):
    tables = {**tiny_tables(), "survey_responses": _tiny_surveys()}
    ctx = _context(tmp_path, tables)
    out = _run_sections(ctx)
    survey = out["survey"]
    assert not survey.has_nps and survey.outcome == "csat"
    assert list(out["kpis"].index) == ["csat", "responses"]
    assert out["drivers"]["drivers"].index[0] == "rating_product_quality"  # csat built from it
    html = "".join(shown)
    assert "no NPS question" in html and "CSAT" in html
    for title in ("Trend per quarter", "Attribute ratings", "What drives satisfaction"):
        assert title in html
    detractors = pd.read_csv(ctx.output_dir / "exports" / "detractors.csv")
    assert len(detractors) and detractors["csat"].le(2).all() and detractors["nps"].isna().all()


def test_survey_with_ratings_only_still_renders(tmp_path, shown):
    surveys = _tiny_surveys().drop(columns=["csat"])
    ctx = _context(tmp_path, {**tiny_tables(), "survey_responses": surveys})
    out = _run_sections(ctx)
    assert out["survey"].outcome is None and out["ratings"] is not None
    html = "".join(shown)
    assert "neither an NPS nor an overall satisfaction question" in html
    assert "Attribute ratings" in html and out["drivers"] is None


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
    monkeypatch.setattr(views, "segment_assignments", lambda ctx: segments)
    ctx = _context(tmp_path, {**tiny_tables(), "survey_responses": surveys})
    survey = views.prepare(ctx)
    result = views.links_section(ctx, survey)
    assert set(result["segments"]["group"]) == {"Champions", "<b>At risk</b>"}
    html = "".join(shown)
    assert "NPS by customer segment" in html and "&lt;b&gt;At risk&lt;/b&gt;" in html
    assert "<b>At risk" not in html


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

    nb, outputs, _ = run_notebook(
        "satisfaction", tmp_path, data_dir=planted_sample, unit="ecommerce"
    )
    reports = tmp_path / "reports"
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
        re.fullmatch(r'<img alt="Chart" src="data:image/png;base64,[^"]+"/?>', i) for i in images
    )
    # comments are masked and no customer id appears anywhere on the page
    assert PII_EMAIL not in page and "[email]" in page
    assert not re.search(r"\bC\d{7}\b", page)

    exports = reports / "2025-Q4" / "ecommerce" / "exports"
    detractors = pd.read_csv(exports / "detractors.csv", dtype={"customer_id": str})
    assert detractors.columns.tolist() == views.DETRACTOR_COLUMNS
    assert len(detractors) > 20 and detractors["nps"].between(0, 6).all()
    assert detractors["customer_id"].str.fullmatch(r"C\d{7}").all()  # real ids, not hashes
    assert (detractors["business_unit"] == "ecommerce").all()
    assert detractors["response_date"].between("2025-10-01", "2025-12-31").all()
    assert detractors["follow_up_action"].str.len().gt(10).all()
    assert not detractors["comment"].fillna("").str.contains(PII_EMAIL, regex=False).any()
    assert not {"name", "phone", "email", "address"} & set(detractors.columns)
    groups = pd.read_csv(exports / "satisfaction_groups.csv")
    assert groups.columns.tolist() == views.GROUP_COLUMNS
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
    assert [r.status for r in results] == ["ok", "ok"], results
    north = (tmp_path / "reports" / "2025-Q4" / "north" / "satisfaction.html").read_text("utf-8")
    south = (tmp_path / "reports" / "2025-Q4" / "south" / "satisfaction.html").read_text("utf-8")
    assert "本次调查没有 NPS 问题" in north and "满意度的驱动因素" in north
    assert "没有任何问卷答卷" in south and "满意度的驱动因素" not in south
    for page in (north, south):
        assert "Traceback" not in page and "技术警告" not in page

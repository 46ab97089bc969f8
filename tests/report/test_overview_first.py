"""The churn and satisfaction reports open with a one-screen overview (issue #17): the key
figures as cards linking to their definitions, a few findings, where to act (the list, the
exports, the other reports); diagnostics sit in the folded appendix, and the manager's
part names statistical terms plainly with the term in brackets.

The sections run in-process in the notebooks' order on hand-made data; their output is
rendered with the report template, read as HTML and (with the Debian chromium) measured
at 1280 px."""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
from conftest import tiny_tables
from nbformat.v4 import new_code_cell, new_notebook, new_output
from test_views_churn import SECTIONS, _contractual
from test_views_churn import _context as churn_context
from test_views_churn import _run as run_churn
from test_views_satisfaction import _context as satisfaction_context
from test_views_satisfaction import _run_sections as run_satisfaction
from test_views_satisfaction import _tiny_surveys

from analysis.report.render import header_resources, render_html

#: The screen a manager sees first at 1280 px, with a little slack for fonts.
SCREEN_PX = 900


def _page(tmp_path, shown: list[str], report: str) -> str:
    """The collected section output as the rendered report (appendix folded)."""
    outputs = [
        new_output("display_data", data={"text/html": html}) for html in shown if html != "<figure>"
    ]
    nb = nbformat.from_dict(new_notebook(cells=[new_code_cell("", outputs=outputs)]))
    resources = header_resources(
        report=report, unit="north", period="2025-Q4", data_end="2025-12-31", language="en"
    )
    return render_html(nb, tmp_path / f"{report}.html", resources).read_text(encoding="utf-8")


def _parts(page: str) -> tuple[str, str, str]:
    """The overview (first section), the manager's pages (up to the appendix) and the
    appendix of a rendered report."""
    start = re.search(r'<h2[^>]*\bid="sec-kpis"', page).start()
    appendix = page.index('<details class="sr-appendix"')
    second = page.index("<h2 ", start + 1)
    return page[start:second], page[start:appendix], page[appendix:]


def _plain(text: str) -> str:
    return re.sub(r"<[^>]+>", " ", text)


@pytest.fixture
def churn_page(tmp_path, shown, rng):
    orders, customers = _contractual(rng, churn_start="2025-08-01", churn_end="2025-12-20")
    ctx = churn_context(tmp_path, orders, customers, {"definition": "contractual"})
    result, _ = run_churn(ctx)
    assert result.status == "ok" and result.risk is not None
    assert SECTIONS.index("caveats_section") < SECTIONS.index("drivers_detail_section")
    # run_churn shows the sections in the notebook's order; the notebook starts the
    # appendix before its first diagnostics section
    first = shown.index(next(h for h in shown if "Cause model: every attribute" in h))
    shown.insert(first, _appendix_block(ctx))
    return _page(tmp_path, shown, "churn"), result


def _appendix_block(ctx) -> str:
    from analysis import display as ui

    return ui.appendix_heading(ctx._("common.appendix.title"), ctx._("common.appendix.intro")).data


def test_churn_opens_with_the_four_figures_findings_and_where_to_act(churn_page):
    page, result = churn_page
    overview, _, _ = _parts(page)
    figures = re.findall(r'href="#figure-([a-z_]+)"', overview)
    assert figures == ["churned_customers", "churn_rate", "high_risk_customers", "value_at_risk"]
    findings = re.findall(r"<li>(.*?)</li>", overview.split('class="sr-points"')[1])
    assert 2 <= len(findings) <= 4
    assert "churned" in findings[0] and "at risk" in findings[1]
    # where to act: the list on this page, its export, the value report's playbook
    assert 'href="#sec-list"' in overview
    assert 'href="exports/churn_risk.csv"' in overview
    assert 'href="value.html#sec-playbook"' in overview
    # the strongest clear driver is named, with its odds ratio in plain words
    summary = result.drivers.summary
    clear = summary.loc[summary["identified"] & (summary["p_value"] < 0.05)]
    if clear.empty:
        assert "No customer attribute goes clearly with churn" in overview
    else:
        strongest = clear.loc[(clear["odds_ratio"].map(np.log).abs()).idxmax()]
        assert "times as likely (odds ratio)" in overview
        assert f"{strongest['odds_ratio']:.2f}" in overview


def test_churn_diagnostics_sit_in_the_appendix(churn_page):
    page, _ = churn_page
    _, manager, appendix = _parts(page)
    text = _plain(manager)
    for jargon in ("VIF", "variance inflation", "Cox", "Firth", "cross-validation"):
        assert jargon not in text, jargon
    # a term a manager meets comes with its plain name
    assert text.count("AUC") == text.count("ranking accuracy (AUC)")
    assert text.count("Kaplan-Meier") == text.count("share still active over time (Kaplan-Meier)")
    assert "<th>Odds ratio</th>" not in manager and "<th>Odds ratio</th>" in appendix
    assert "<th>AUC</th>" in appendix and "Cox model" in appendix
    assert "Snapshots the models learnt from" in appendix
    # the early-warning list stays a sortable table, linked to its export
    assert 'id="churn-warning-list"' in manager and 'href="exports/churn_risk.csv"' in manager


@pytest.fixture
def satisfaction_page(tmp_path, shown):
    rng = np.random.default_rng(3)
    surveys = _tiny_surveys().assign(nps=lambda d: rng.integers(0, 11, len(d)).astype(float))
    ctx = satisfaction_context(tmp_path, {**tiny_tables(), "survey_responses": surveys})
    result, _ = run_satisfaction(ctx)
    assert result.status == "ok" and "drivers" in result.charts
    return _page(tmp_path, shown, "satisfaction"), result


def test_satisfaction_opens_with_scores_findings_and_where_to_act(satisfaction_page):
    page, result = satisfaction_page
    overview, _, _ = _parts(page)
    survey = result.survey
    quoted = ["nps"] * survey.has_nps + ["csat"] * (survey.overall == "csat")
    assert re.findall(r'href="#figure-([a-z_]+)"', overview) == quoted
    fix_first = result.drivers.ipa.fix_first_list
    rough = result.drivers.drivers.attrs["rough"]
    assert ("Fix first" in overview) == bool(fix_first and not rough)
    findings = re.findall(r"<li>(.*?)</li>", overview.split('class="sr-points"')[1])
    assert survey.has_nps and 2 <= len(findings) <= 4
    assert findings[0].startswith("NPS is") and "likely range" in findings[0]
    assert "(p-value" in findings[0]
    assert 'href="exports/detractors.csv"' in overview
    assert 'href="churn.html#sec-list"' in overview


def test_satisfaction_diagnostics_sit_in_the_appendix(satisfaction_page):
    page, _ = satisfaction_page
    _, manager, appendix = _parts(page)
    text = _plain(manager)
    for jargon in ("Cronbach", "R²", "Johnson", "bootstrap", "Adjusted p"):
        assert jargon not in text, jargon
    assert "Cronbach" in appendix and "R²" in appendix and "Adjusted p-value" in appendix
    assert "weight in satisfaction (importance)" in text
    assert 'href="churn.html#sec-definition"' in manager  # the churn window's source


@pytest.mark.browser
@pytest.mark.parametrize("report", ["churn", "satisfaction"])
def test_the_overview_fits_one_screen_at_1280_px(report, request, tmp_path, browser):
    page_html, _ = request.getfixturevalue(f"{report}_page")
    path = tmp_path / f"{report}-shown.html"
    path.write_text(page_html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": SCREEN_PX})
    page.goto(path.as_uri())
    tops = page.evaluate(
        "[...document.querySelectorAll('main h2')].map(h => h.getBoundingClientRect().top"
        " + window.scrollY)"
    )
    closed = page.evaluate("document.querySelector('details.sr-appendix').open")
    page.close()
    assert len(tops) >= 2 and tops[1] <= SCREEN_PX, tops  # the next section starts on screen
    assert closed is False


def test_a_link_after_a_chinese_sentence_follows_it_without_a_space(tmp_path, shown, rng):
    orders, customers = _contractual(rng, churn_start="2025-08-01", churn_end="2025-12-20")
    ctx = churn_context(tmp_path, orders, customers, {"definition": "contractual"}, language="zh")
    run_churn(ctx)
    html = "".join(shown)
    assert '按风险价值排序：<a class="sr-link" href="exports/churn_risk.csv">' in html
    assert '数字见：<a class="sr-link" href="#sec-appendix">' in html

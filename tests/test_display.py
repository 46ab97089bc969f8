"""Display helpers escape everything that comes from data and format numbers per language."""

import pandas as pd

from analysis import display as ui

XSS = ['<script>alert("x")</script>', "<img src=x onerror=alert(1)>", '" onmouseover="alert(1)']


def test_table_escapes_cells_and_headers():
    frame = pd.DataFrame({"<b>name</b>": XSS, "n": [1, 2, 3]})
    html = ui.table(frame).data
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&quot; onmouseover=&quot;" in html


def test_blocks_escape_text():
    for block in (
        ui.takeaway(XSS[0]),
        ui.note(XSS[1]),
        ui.heading(XSS[0]),
        ui.paragraph(XSS[1]),
        ui.kpi_cards([ui.KPI(XSS[0], XSS[1], 0.1, XSS[2])]),
    ):
        assert "<script>" not in block.data and "<img" not in block.data


def test_kpi_colour_knows_whether_up_is_good():
    up_good = ui.kpi_cards([ui.KPI("Revenue", "$1", 0.1, "vs Q2", higher_is_better=True)]).data
    up_bad = ui.kpi_cards([ui.KPI("Churn", "5%", 0.1, "vs Q2", higher_is_better=False)]).data
    assert "sr-good" in up_good and "▲" in up_good
    assert "sr-bad" in up_bad


def test_number_formats_per_language():
    assert ui.fmt_number(1234567) == "1,234,567"
    assert ui.fmt_number(1234567, language="zh") == "123.5万"
    assert ui.fmt_number(3.2e8, language="zh") == "3.20亿"
    assert ui.fmt_money(-1500.4, "¥") == "-¥1,500"
    assert ui.fmt_pct(0.1234, signed=True) == "+12.3%"
    assert ui.fmt_pct(float("nan")) == "–"
    assert ui.fmt_date("2025-09-30", "zh") == "2025年9月30日"
    assert ui.fmt_date("2025-09-30", "en") == "30 Sep 2025"

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


# ---- "$" is text, never LaTeX maths ---------------------------------------------------------
MONEY = "$17,655,653 over the next 12 months ($1.2 per $)"


def _text_runs(markup: str) -> list[str]:
    """The runs of text between tags: what MathJax and KaTeX search for maths delimiters
    (a pair of "$" opens maths only within one run)."""
    import re

    return [run for run in re.split(r"<[^>]*>", markup) if run]


def _visible(markup: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]*>", "", markup))


def _blocks_with(text: str):
    frame = pd.DataFrame({text: [text, 1.0]})
    return {
        "paragraph": ui.paragraph(text),
        "takeaway": ui.takeaway(text),
        "note": ui.note(text, "warning"),
        "heading": ui.heading(text),
        "table": ui.table(frame, caption=text),
        "kpi_cards": ui.kpi_cards([ui.KPI(text, text, 0.1, text)]),
        "kpi_change_text": ui.kpi_cards([ui.KPI("x", "1", 0.1, "vs", change_text=text)]),
    }


def test_every_block_keeps_dollars_out_of_maths():
    for name, block in _blocks_with(MONEY).items():
        runs = _text_runs(block.data)
        # every "$" is alone in its element, so no two can pair up as maths delimiters
        assert all(run == "$" for run in runs if "$" in run), (name, runs)
        assert MONEY in _visible(block.data), name  # and the reader still sees "$"


def test_dollar_escaping_leaves_attributes_and_other_text_alone():
    assert ui.esc("a $ b") == "a <span>$</span> b"
    assert ui.esc("<$>") == "&lt;<span>$</span>&gt;"
    assert ui.esc(None) == "–" and ui.esc(float("nan")) == "–"
    assert ui.esc_attr('"$"') == "&quot;$&quot;"
    heading = ui.heading("Revenue in $").data
    assert 'id="s-revenue-in"' in heading  # the anchor is built from letters only


def test_rendered_report_shows_a_literal_dollar(tmp_path):
    import nbformat

    from analysis.report.render import header_resources, render_html

    block = ui.kpi_cards([ui.KPI("Revenue", "$17,655,653", 0.1, "vs 2025-Q3")])
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "x",
            outputs=[nbformat.v4.new_output("display_data", {"text/html": block._repr_html_()})],
        )
    ]
    resources = header_resources(
        report="value", unit="north", period="2025-Q3", data_end=None, language="en"
    )
    page = render_html(nb, tmp_path / "value.html", resources).read_text(encoding="utf-8")
    assert "$17,655,653" in _visible(page)
    assert "<span>$</span>17,655,653" in page


# ---- blocks carry their styles into notebooks ------------------------------------------------
class _Shell:
    execution_count = 1


def test_a_displayed_block_carries_the_styles_once_per_cell(monkeypatch):
    shell = _Shell()
    monkeypatch.setattr(ui, "get_ipython", lambda: shell)
    monkeypatch.setattr(ui, "_styled_cell", [None])
    first, second = ui.paragraph("one"), ui.takeaway("two")
    a, b = first._repr_html_(), second._repr_html_()
    assert a.startswith('<div class="sr-nb"><style data-segreport>') and a.endswith("</div>")
    assert a.count("<style") == 1 and "<style" not in b  # the same cell: styled once
    assert b == f'<div class="sr-nb">{second.data}</div>'
    shell.execution_count = 2  # the next cell (or the same cell run again) has them again
    assert first._repr_html_().count("<style") == 1
    shell.history_manager = type("History", (), {"session_number": 7})()
    assert first._repr_html_().count("<style") == 1  # a reset kernel (new session) again
    monkeypatch.setattr(ui, "get_ipython", lambda: None)  # outside a kernel: always
    assert first._repr_html_().count("<style") == 1


def test_the_report_html_is_the_block_itself():
    block = ui.table(pd.DataFrame({"a": [1]}))
    assert ui.strip_notebook_style(block._repr_html_()) == block.data
    assert ui.strip_notebook_style('<div class="sr-nb">x</div>') == "x"
    other = "<div>not ours</div>"
    assert ui.strip_notebook_style(other) == other


def test_notebook_styles_are_the_report_rules_scoped_to_blocks():
    import re

    from analysis.report.render import css

    notebook = ui.notebook_css()
    selectors = [s.strip() for sel in re.findall(r"([^{}]+)\{", notebook) for s in sel.split(",")]
    assert selectors and all(s.startswith(".sr-nb") for s in selectors)  # Lab itself untouched
    # every block rule of the report is there, with the same declarations
    for rule_selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", ui.block_css()):
        for sel in rule_selectors.split(","):
            assert f".sr-nb {sel.strip()} {{{body}}}" in notebook or (
                f".sr-nb {sel.strip()}," in notebook and body in notebook
            )
        assert body in css()  # and the report's stylesheet has them too
    assert "--ink:#1d2733" in notebook and "font-family" in notebook  # colours, typography


def test_custom_markup_can_be_a_block():
    card = ui.block(f'<div class="sr-kpis">{ui.esc("$5")}</div>')
    assert isinstance(card, ui.Block) and card.data == '<div class="sr-kpis"><span>$</span>5</div>'

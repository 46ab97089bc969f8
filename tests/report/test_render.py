"""Our nbconvert template: no code, no prompts, no stderr, nothing remote, scripts blocked."""

import re
from datetime import datetime

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from analysis.report.render import header_resources, render_error_page, render_html

SECRET_CODE = "very_secret_source_code = 42"


def _notebook():
    nb = new_notebook()
    cell = new_code_cell(SECRET_CODE)
    cell.outputs = [
        new_output("stream", name="stderr", text="UserWarning: something noisy\n"),
        new_output("stream", name="stdout", text="printed line\n"),
        new_output("display_data", data={"text/html": '<h2 id="s-one" class="sr-h">One</h2>'}),
        new_output("execute_result", data={"text/plain": "<Axes: >"}, execution_count=1),
        new_output("display_data", data={"text/html": '<h2 class="sr-h" id="s-two">Two</h2>'}),
        new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}),
    ]
    notes = new_markdown_cell("# Analyst notes that stay out of the report")
    return nbformat.from_dict({**nb, "cells": [notes, cell]})


def test_report_html_is_clean_and_self_contained(tmp_path):
    res = header_resources(
        report="overview", unit="north", period="2025-Q3", data_end="2025-12-31", language="en"
    )
    page = render_html(_notebook(), tmp_path / "r.html", res).read_text()
    assert SECRET_CODE not in page and "In&nbsp;[" not in page and "In [" not in page
    assert "something noisy" not in page  # stderr never shows
    assert "printed line" in page
    assert "&lt;Axes" not in page  # bare reprs are not shown
    assert "Analyst notes" not in page  # untagged markdown stays in the notebook
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"<script|<link|@import|https?://", page)
    assert 'href="#s-one"' in page and 'href="#s-two"' in page  # table of contents
    for text in ("north", "2025-Q3", "2025-07-01", "2025-12-31", "Data overview and quality"):
        assert text in page


def test_header_and_error_page_in_chinese(tmp_path):
    res = header_resources(
        report="overview", unit="all", period="2025-Q3", data_end=None, language="zh"
    )
    page = render_error_page(
        tmp_path / "e.html", res, "DataError: <script>x</script>", "zh"
    ).read_text()
    assert "全部业务单元" in page and "本报告未能生成" in page
    assert "<script>x" not in page and "&lt;script&gt;x" in page


def test_blocks_render_as_before_their_notebook_styles(tmp_path):
    # A block displayed in a notebook carries a <style> for JupyterLab; the report shows
    # the block itself (its rules are in the page's stylesheet), so the HTML is the same.
    import pandas as pd

    from analysis import display as ui
    from analysis.report.render import css

    blocks = [ui.heading("Value"), ui.table(pd.DataFrame({"a": [1.5]})), ui.takeaway("$5 more")]

    def notebook(html_of):
        nb = new_notebook()
        cell = new_code_cell("x")
        cell.outputs = [new_output("display_data", data={"text/html": html_of(b)}) for b in blocks]
        return nbformat.from_dict({**nb, "cells": [cell]})

    res = header_resources(
        report="value",
        unit="north",
        period="2025-Q3",
        data_end=None,
        language="en",
        generated_at=datetime(2026, 1, 1),
    )
    shown = render_html(notebook(lambda b: b._repr_html_()), tmp_path / "a.html", res)
    plain = render_html(notebook(lambda b: b.data), tmp_path / "b.html", res)
    page = shown.read_text(encoding="utf-8")
    assert page == plain.read_text(encoding="utf-8")
    assert "sr-nb" not in page and "data-segreport" not in page
    assert page.count("<style") == 1 and css() in page

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


def _page_with(tmp_path, blocks, name="t.html"):
    nb = new_notebook()
    cell = new_code_cell("x")
    cell.outputs = [new_output("display_data", data={"text/html": b.data}) for b in blocks]
    res = header_resources(
        report="churn", unit="north", period="2025-Q3", data_end=None, language="en"
    )
    return render_html(nbformat.from_dict({**nb, "cells": [cell]}), tmp_path / name, res)


def test_a_sortable_list_brings_its_script_pinned_by_hash(tmp_path):
    import base64
    import hashlib

    import pandas as pd

    from analysis import display as ui

    frame = pd.DataFrame({"who": ["<img src=x onerror=alert(1)>", "b"], "value": [2.5, 10.0]})
    page = _page_with(tmp_path, [ui.data_table(frame, id="t1", page_size=1)]).read_text()
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1 and "sr-dt" in scripts[0]
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    meta = re.search(r'<meta [^>]*http-equiv="Content-Security-Policy"[^>]*>', page)[0]
    csp = re.search(r'content="([^"]+)"', meta)[1]
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    # raw numbers kept for sorting, the rows past the first page marked for print
    assert 'data-v="10.0"' in page and page.count('class="sr-dt-rest"') == 1
    # a page without a list stays script-free and its policy unchanged
    plain = _page_with(tmp_path, [ui.table(frame)], "p.html").read_text()
    assert "<script" not in plain and "script-src" not in plain


def test_a_long_list_is_capped_with_a_note(tmp_path):
    import pandas as pd

    from analysis import display as ui

    frame = pd.DataFrame({"n": range(30)})
    block = ui.data_table(frame, id="t", page_size=5, max_rows=12, export="exports/x.csv")
    assert block.data.count("<tr") == 13  # header + 12 rows
    assert "the first 12 of 30 rows; exports/x.csv has every row" in block.data
    # a caller that cut its rows already says how many the list has
    cut = ui.data_table(frame.head(12), id="t", export="exports/x.csv", total=30).data
    assert cut.count("<tr") == 13 and "the first 12 of 30 rows" in cut
    assert "has every row" not in ui.data_table(frame, id="t", export="x.csv").data
    zh = ui.data_table(frame, id="t", max_rows=12, export="x.csv", language="zh").data
    assert "30 行中的前 12 行" in zh and "筛选" in zh


def test_charts_take_their_takeaway_as_alt_text(tmp_path):
    from analysis import display as ui

    png = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    nb = new_notebook()
    cell = new_code_cell("x")
    cell.outputs = [
        new_output("display_data", data=png),
        new_output("display_data", data={"text/html": ui.takeaway('Revenue <b>"up"</b> $5').data}),
        new_output("display_data", data=png),  # a heading comes before any takeaway
        new_output("display_data", data={"text/html": ui.heading("Next").data}),
        new_output("display_data", data={"text/html": ui.takeaway("Not about that chart").data}),
        new_output("display_data", data=png, metadata={"image/png": {"alt": "Set by hand"}}),
        new_output("display_data", data={"text/html": ui.takeaway("Ignored").data}),
        # a section that states its finding first, then shows it
        new_output("display_data", data={"text/html": ui.heading("Finding first").data}),
        new_output("display_data", data={"text/html": ui.takeaway("Churn fell by half").data}),
        new_output("display_data", data=png),
        new_output("display_data", data={"text/html": ui.heading("Last").data}),
        new_output("display_data", data=png),  # no takeaway in its section: its heading
    ]
    res = header_resources(
        report="overview", unit="north", period="2025-Q3", data_end=None, language="en"
    )
    page = render_html(nbformat.from_dict({**nb, "cells": [cell]}), tmp_path / "a.html", res)
    from html.parser import HTMLParser

    alts = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: tag == "img" and alts.append(dict(attrs)["alt"])
    parser.feed(page.read_text())
    assert alts == [
        'Revenue <b>"up"</b> $5',
        "Chart",
        "Set by hand",
        "Churn fell by half",
        "Last",
    ]  # text, as the reader hears it
    assert "<b>" not in page.read_text()

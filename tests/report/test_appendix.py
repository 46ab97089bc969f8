"""The appendix folds into a closed <details> (open in print); sections have language-free
anchors that links from other reports and to exports find."""

import re

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from analysis import display as ui
from analysis.report.render import fold_appendix, header_resources, printable, render_html


def _html(block):
    return new_output("display_data", data={"text/html": block.data})


def _report(tmp_path, blocks):
    nb = new_notebook(cells=[new_code_cell("", outputs=[_html(b) for b in blocks])])
    res = header_resources(
        report="churn", unit="north", period="2025-Q3", data_end="2025-12-31", language="en"
    )
    return render_html(nbformat.from_dict(nb), tmp_path / "r.html", res).read_text()


def test_section_anchor_comes_from_the_key_not_the_words():
    assert ui.section_anchor("report_churn.drivers.title") == "sec-drivers"
    assert ui.section_anchor("report_value.clv.by_segment.title") == "sec-clv-by_segment"
    assert ui.report_href("churn", "report_churn.drivers.title") == "churn.html#sec-drivers"
    assert ui.report_href("value") == "value.html"
    assert 'href="exports/early_warning.csv"' in ui.link(
        "list", ui.export_href("early_warning.csv")
    )
    # a label from data is escaped; the href is the helpers' own
    assert "<b>" not in ui.link("<b>x</b>", "value.html")


def test_appendix_is_folded_up_to_the_definitions(tmp_path):
    page = _report(
        tmp_path,
        [
            ui.heading("Drivers", anchor="sec-drivers"),
            ui.paragraph("what a manager reads"),
            ui.appendix_heading("Appendix", "for analysts"),
            ui.paragraph("model fit table"),
            ui.paragraph("parameter table"),
            ui.heading("Figure definitions", anchor="sec-definitions"),
            ui.paragraph("definitions text"),
        ],
    )
    details = re.search(
        r'<details class="sr-appendix" id="sec-appendix">(.*?)</details>', page, re.S
    )
    assert details is not None
    inside = details[1]
    assert "<summary>" in inside and "Appendix" in inside and "for analysts" in inside
    assert "model fit table" in inside and "parameter table" in inside
    assert "what a manager reads" not in inside and "definitions text" not in inside
    assert page.index("what a manager reads") < details.start()
    assert page.index("definitions text") > details.end()
    assert 'href="#sec-appendix"' in page  # the contents list it
    assert "<details open" not in page  # closed on screen ...
    assert '<details open class="sr-appendix"' in printable(page)  # ... open in print
    assert "<script" not in page


def test_appendix_without_definitions_closes_before_the_end():
    page = (
        "<main>"
        + '<div class="sr-out">'
        + ui.appendix_heading("Appendix").data
        + "</div>"
        + '<div class="sr-out"><p>fit</p></div></main>'
    )
    folded = fold_appendix(page)
    assert folded.count("<details") == 1 and folded.count("</details>") == 1
    assert folded.index("<p>fit</p>") < folded.index("</details>") < folded.index("</main>")
    assert fold_appendix("<main>no appendix</main>") == "<main>no appendix</main>"

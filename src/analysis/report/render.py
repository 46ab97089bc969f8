"""Rendering executed notebooks to self-contained HTML with our own nbconvert template.

The template (``templates/segreport``) shows outputs only: no code, no prompts, no stderr,
no remote script, style or font, and a Content-Security-Policy that blocks network loads
and every script but one: a page with a sortable list (:func:`analysis.display.data_table`)
carries the project's own ``templates/datatable.js`` once, inline, allowed by its sha256
(computed here from the exact text, so editing the script cannot break the pin). Writes
are atomic (temporary file, then rename).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import os
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import nbformat

from .. import __version__
from ..display import APPENDIX_CLASS, block_css, strip_notebook_style
from ..i18n import t
from ..period import Period

TEMPLATES = Path(__file__).parent / "templates"
_H2 = re.compile(r"<h2\b([^>]*)>(.*?)</h2>", re.S)
_ID = re.compile(r'\bid="([^"]+)"')


_BLOCKS = re.compile(r"^/\* blocks\.css\b.*\*/\n", re.M)


@cache
def css() -> str:
    """The report stylesheet: ``report.css`` (the page) with ``blocks.css`` (the blocks the
    display helpers build, which notebooks carry too) in its place."""
    page = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return _BLOCKS.sub(lambda _: block_css(), page, count=1)


@cache
def table_script() -> str:
    """The script of the sortable lists (``templates/datatable.js``), as the page embeds it."""
    return (TEMPLATES / "datatable.js").read_text(encoding="utf-8")


def script_hash(script: str) -> str:
    """The CSP source allowing exactly this inline script: ``'sha256-<base64 digest>'``."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


_CSP_START = "content=\"default-src 'none';"
# only the display helper writes this element unescaped; data reaches the page escaped
_DATA_TABLE = '<div class="sr-dt" '


def with_table_script(page: str) -> str:
    """``page`` with the sortable lists' script and its hash in the Content-Security-Policy
    when it has a :func:`analysis.display.data_table`; other pages stay script-free."""
    if _DATA_TABLE not in page or _CSP_START not in page:
        return page
    script = table_script()
    page = page.replace(_CSP_START, f"{_CSP_START} script-src {script_hash(script)};", 1)
    head, tag, tail = page.rpartition("</body>")
    if not tag:
        return page + f"<script>{script}</script>"
    return f"{head}<script>{script}</script>\n{tag}{tail}"


_TAKEAWAY = re.compile(r'<p class="sr-takeaway">(.*?)</p>', re.S)
_TAG = re.compile(r"<[^>]+>")
_HEADING = re.compile(r'<h[1-6][^>]*class="sr-h[^"]*"[^>]*>(.*?)</h[1-6]>', re.S)


def _html_text(markup: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", markup)).split())


def _chart_alt_texts(outputs: list) -> None:
    """Give each chart the alt text of its takeaway: the first takeaway block after the
    chart, before the next chart or heading; failing that, the takeaway just before it in
    the same section (a section that states its finding first, then shows it). An alt the
    notebook set (:func:`analysis.plots.show_figure` ``alt=``) is kept; a chart without a
    takeaway in its section is named by the section's heading, and one before any heading
    keeps the generic label the template writes."""
    pending: list = []  # (chart, the section's takeaway before it)
    before: str | None = None  # the latest takeaway of the current section
    title: str | None = None  # the current section's heading

    def settle() -> None:
        for chart, earlier in pending:
            if earlier is not None or title is not None:
                chart["metadata"]["alt"] = earlier if earlier is not None else title

    for output in outputs:
        data = output.get("data") or {}
        markup = data.get("text/html")
        if "image/png" in data:
            meta = output.setdefault("metadata", {})
            shape = meta.get("image/png") if isinstance(meta.get("image/png"), dict) else {}
            if not (shape.get("alt") or meta.get("alt")):
                pending.append((output, before))
        elif isinstance(markup, str):
            found = _TAKEAWAY.search(markup)
            if found and pending:  # the charts' own takeaway: not one for a later chart
                for chart, _ in pending:
                    chart["metadata"]["alt"] = _html_text(found[1])
                pending, before = [], None
            elif found:
                before = _html_text(found[1])
            elif 'class="sr-h' in markup:
                settle()
                heading = _HEADING.search(markup)
                pending, before = [], None
                title = _html_text(heading[1]) if heading else None
    settle()


def without_notebook_styles(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose HTML outputs are the blocks as the report shows them: the
    notebook-only wrapper and styles of :class:`analysis.display.Block` removed (the page
    has those rules once, in its head), and charts with their takeaway as alt text."""
    nb = copy.deepcopy(nb)
    outputs = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            if isinstance(data.get("text/html"), list):
                data["text/html"] = "".join(data["text/html"])
            if isinstance(data.get("text/html"), str):
                data["text/html"] = strip_notebook_style(data["text/html"])
            outputs.append(output)
    _chart_alt_texts(outputs)
    return nb


@cache
@cache
def _exporter_class() -> type:
    """nbconvert's HTML exporter without its last step: it parses every page again with
    BeautifulSoup to add alt texts and tab stops to JupyterLab's own markup, which our
    template never writes (every image has an alt; there are no input cells). That pass
    was 7.2 of the 7.8 CPU-seconds of rendering the sample's 35 pages."""
    from nbconvert import HTMLExporter  # noqa: PLC0415  (slow import, only when rendering)
    from nbconvert.exporters.templateexporter import TemplateExporter  # noqa: PLC0415
    from nbconvert.filters.highlight import Highlight2HTML  # noqa: PLC0415
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter  # noqa: PLC0415

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            resources = self._init_resources(resources)
            self.register_filter(
                "highlight_code",
                self.filters.get("highlight_code", Highlight2HTML(parent=self)),
            )
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources
                ),
            )
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return ReportExporter


def _exporter():
    return _exporter_class()(
        template_name="segreport",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def css_string(text: str) -> str:
    """A CSS string literal that cannot end the string or the style element."""
    out = []
    for ch in text:
        if ch.isalnum() or ch in " .,:;-_()·/&+%#@!?'" or ord(ch) > 127:
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return '"' + "".join(out) + '"'


def header_resources(
    *,
    report: str,
    unit: str,
    period: str,
    data_end: Any,
    language: str,
    generated_at: datetime | None = None,
    portal_href: str | None = None,
) -> dict:
    """Everything the template shows around the outputs, translated."""
    p = Period.parse(period)
    generated_at = generated_at or datetime.now().replace(microsecond=0)
    data_date = str(data_end)[:10] if data_end is not None else "–"
    return {
        "version": __version__,
        "html_lang": "zh-CN" if language == "zh" else "en",
        "title": t(f"report.{report}.title", language),
        "unit_label": t("common.all_units", language) if unit == "all" else unit,
        "period": period,
        "period_range": f"{p.start.isoformat()} – {p.end.isoformat()}",
        "data_date": data_date,
        "generated_at": generated_at.strftime("%Y-%m-%d %H:%M"),
        "portal_href": portal_href,
        "css": css(),
        "print_header": css_string(
            " · ".join(
                [
                    t(f"report.{report}.title", language),
                    t("common.all_units", language) if unit == "all" else unit,
                    period,
                ]
            )
        ),
        "footer": t("report.footer", language, version=__version__),
        "labels": {
            k: t(f"report.label.{k}", language)
            for k in ("unit", "period", "data_date", "generated", "portal", "chart", "contents")
        },
    }


def _add_toc(page: str, label: str) -> str:
    entries = [
        (_ID.search(attrs)[1], title)
        for attrs, title in _H2.findall(page)
        if "sr-h" in attrs and _ID.search(attrs)
    ]
    if len(entries) < 2:
        return page.replace("<!--SR-TOC-->", "")
    items = "".join(f'<li><a href="#{anchor}">{title}</a></li>' for anchor, title in entries)
    toc = f'<nav class="sr-toc" aria-label="{html.escape(label)}"><ol>{items}</ol></nav>'
    return page.replace("<!--SR-TOC-->", toc, 1)


# (the exporter may reorder a tag's attributes: match each one on its own)
_APPENDIX = re.compile(
    r'<div class="sr-out"><h2 [^>]*\b'
    + re.escape(APPENDIX_CLASS)
    + r"\b[^>]*>(.*?)</h2>(.*?)</div>",
    re.S,
)
_DEFINITIONS = re.compile(r'<div class="sr-out"><h2 [^>]*\bid="sec-definitions"')


def fold_appendix(page: str) -> str:
    """The report's appendix (:func:`analysis.display.appendix_heading` and every output
    after it, up to the figure definitions) as a closed ``<details>``: one click opens it,
    with no script."""
    found = _APPENDIX.search(page)
    if found is None:
        return page
    definitions = _DEFINITIONS.search(page, found.end())
    end = definitions.start() if definitions else page.find("</main>", found.end())
    if end < 0:
        end = len(page)
    opening = (
        '<details class="sr-appendix" id="sec-appendix"><summary>'
        f'<h2 class="sr-h">{found[1]}</h2></summary>'
        + (f'<div class="sr-out">{found[2]}</div>' if found[2] else "")
    )
    return page[: found.start()] + opening + page[found.end() : end] + "</details>\n" + page[end:]


def printable(page: str) -> str:
    """A rendered report as printed: the appendix open (a PDF cannot open it)."""
    return page.replace('<details class="sr-appendix"', '<details open class="sr-appendix"')


def render_html(notebook: Path | nbformat.NotebookNode, target: Path, resources: dict) -> Path:
    """Render an executed notebook to ``target`` with the segreport template."""
    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, str | Path) else notebook
    nb = without_notebook_styles(nb)
    body, _ = _exporter().from_notebook_node(nb, resources={"segreport": resources})
    page = fold_appendix(_add_toc(body, resources["labels"]["contents"]))
    write_atomic(target, with_table_script(page))
    return target


def render_error_page(target: Path, resources: dict, error: str, language: str) -> Path:
    """A short page saying the report failed and why (the executed notebook has details)."""
    page = f"""<!DOCTYPE html>
<html lang="{resources["html_lang"]}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{html.escape(resources["title"])} · {html.escape(t("portal.status.failed", language))}</title>
<style>{resources["css"]}</style></head><body>
<header class="sr-header"><div class="sr-brand">segreport</div><h1>{html.escape(resources["title"])}</h1>
<dl class="sr-meta"><div><dt>{html.escape(resources["labels"]["unit"])}</dt><dd>{html.escape(resources["unit_label"])}</dd></div>
<div><dt>{html.escape(resources["labels"]["period"])}</dt><dd>{html.escape(resources["period"])}</dd></div></dl></header>
<main class="sr-main"><h2 class="sr-h">{html.escape(t("report.failed.title", language))}</h2>
<div class="sr-error">{html.escape(error)}</div>
<p class="sr-p">{html.escape(t("report.failed.hint", language))}</p></main></body></html>"""
    write_atomic(target, page)
    return target


def not_applicable_blocks(text: str, language: str) -> list:
    """What a report that does not apply shows: a heading, the reason (``text``, from
    :meth:`analysis.pipelines.applicability.Reason.text`) and that nothing failed. The
    runner's page and :meth:`analysis.report.context.ReportContext.not_applicable` show
    these same blocks."""
    from .. import display as ui  # noqa: PLC0415

    return [
        ui.heading(t("report.not_applicable.title", language)),
        ui.note(text, "info"),
        ui.paragraph(t("report.not_applicable.hint", language), "sr-small"),
    ]


def render_not_applicable_page(target: Path, resources: dict, text: str, language: str) -> Path:
    """The page of a report that does not apply: :func:`not_applicable_blocks` rendered
    through the report template (the usual header, styles and footer), without running
    the report's notebook."""
    outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": block.data})
        for block in not_applicable_blocks(text, language)
    ]
    cell = nbformat.v4.new_code_cell("", outputs=outputs)
    return render_html(nbformat.v4.new_notebook(cells=[cell]), target, resources)


# ---- PDF -------------------------------------------------------------------------------------
def pdf_engine() -> str | None:
    """``chromium`` when the Debian browser is installed, else ``weasyprint`` when that package
    imports, else None (PDF is then skipped with one warning)."""
    from .browser import chromium_path  # noqa: PLC0415

    if chromium_path() is not None:
        return "chromium"
    try:
        import weasyprint  # noqa: F401, PLC0415
    except Exception:  # noqa: BLE001  (missing, or its system libraries are)
        return None
    return "weasyprint"


def print_pdf(html_path: Path, pdf_path: Path) -> str:
    """Print a rendered report to A4 PDF (print CSS: page numbers, a header with report, unit
    and period, charts not split). Returns the engine used.

    chromium is this process's long-lived headless browser (:mod:`.browser`); a browser that
    failed is replaced and the page tried once more.

    Raises
    ------
    RuntimeError
        No engine is available, or printing failed.
    """
    engine = pdf_engine()
    tmp = pdf_path.with_name(f".{pdf_path.name}.{os.getpid()}.tmp")
    try:
        if engine == "chromium":
            from .browser import BrowserError, close_shared_browser, shared_browser  # noqa: PLC0415

            try:
                shared_browser().print_pdf(html_path, tmp, transform=printable)
            except BrowserError:
                close_shared_browser()
                try:
                    shared_browser().print_pdf(html_path, tmp, transform=printable)
                except BrowserError as exc:
                    raise RuntimeError(f"chromium could not print {html_path.name}: {exc}") from exc
        elif engine == "weasyprint":
            import weasyprint  # noqa: PLC0415

            text = printable(html_path.read_text(encoding="utf-8"))
            weasyprint.HTML(string=text, base_url=str(html_path.parent)).write_pdf(str(tmp))
        else:
            raise RuntimeError("no PDF engine: install the Debian package chromium (or weasyprint)")
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise RuntimeError(f"{engine} wrote no PDF for {html_path.name}")
        os.replace(tmp, pdf_path)
    finally:
        tmp.unlink(missing_ok=True)
    return engine

"""Notebook display helpers: headings, KPI cards, escaped tables, takeaways, notes.

Every helper returns a :class:`Block` (an ``IPython.display.HTML``) built from escaped text:
values that come from data (names, categories, comments, unit names) can never inject
markup, and a ``$`` never starts LaTeX maths in JupyterLab (see :func:`esc`). Number and
date formats follow the report language.

A block looks the same in JupyterLab as in the rendered report: displayed in a notebook it
carries the block styles (``report/templates/blocks.css``, the rules the report's own
stylesheet includes) once per cell, scoped to the block. The HTML renderer removes that
notebook-only wrapping again (:func:`strip_notebook_style`), so reports are unchanged.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
from IPython import get_ipython
from IPython.display import HTML

from .i18n import t

TEMPLATES = Path(__file__).parent / "report" / "templates"

# A "$" alone in its own element: MathJax (JupyterLab, classic Notebook) and KaTeX only pair
# maths delimiters within one run of text, so "$5 or $6" stays text, and the element is
# invisible in the rendered HTML. HTML entities would not do: "&#36;" is a "$" again by the
# time the typesetter reads the page.
DOLLAR = "<span>$</span>"


def esc(value: object) -> str:
    """Text as HTML element content: escaped, with every ``$`` kept out of LaTeX maths.

    None/NaN become an en dash. For attribute values use :func:`esc_attr`.

    Examples
    --------
    >>> esc("<b>$5</b>")
    '&lt;b&gt;<span>$</span>5&lt;/b&gt;'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    return html.escape(str(value), quote=True).replace("$", DOLLAR)


def esc_attr(value: object) -> str:
    """Text as an HTML attribute value (quoted): escaped, ``$`` left as it is."""
    return html.escape(str(value), quote=True)


# ---- styles carried into notebooks -------------------------------------------------------
#: The element wrapping a block displayed in a notebook; its class scopes the block styles.
NOTEBOOK_WRAPPER = ('<div class="sr-nb">', "</div>")
_STYLE_OPEN = "<style data-segreport>"

# JupyterLab gives output tables its own look (centred, fixed layout, zebra rows, cells
# right-aligned); the report has none of that, so undo it for our tables. With the
# ``.sr-nb`` prefix these rules outweigh Lab's, or tie and win by coming later in the page.
_NOTEBOOK_RESETS = """\
.sr-nb .sr-table { margin:0; table-layout:auto; border:none; color:var(--ink); }
.sr-nb .sr-table th, .sr-nb .sr-table td { text-align:left; line-height:inherit; max-width:none; }
.sr-nb .sr-table tbody tr, .sr-nb .sr-table tbody tr:hover { background:transparent; }
"""


@cache
def block_css() -> str:
    """The styles of the blocks these helpers build (``templates/blocks.css``)."""
    return (TEMPLATES / "blocks.css").read_text(encoding="utf-8")


def _declarations(css: str, selector: str) -> str:
    found = re.search(rf"(?:^|\}})\s*{re.escape(selector)}\s*\{{([^}}]*)\}}", css)
    return found[1].strip().rstrip(";") if found else ""


@cache
def notebook_css() -> str:
    """:func:`block_css` scoped to ``.sr-nb``, with the report's colours and typography.

    Only the blocks are styled, never JupyterLab itself: every rule starts with ``.sr-nb``.
    """
    page = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    base = "; ".join(
        part for part in (_declarations(page, ":root"), _declarations(page, "body")) if part
    )
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", block_css()):
        scoped = ", ".join(f".sr-nb {s.strip()}" for s in selectors.split(","))
        rules.append(f"{scoped} {{{body}}}")
    return f".sr-nb {{ {base}; }}\n" + "\n".join(rules) + "\n" + _NOTEBOOK_RESETS


_styled_cell: list[object] = [None]


def _style_once_per_cell() -> str:
    """The ``<style>`` element, unless a block of this cell execution already carried it.

    Once per cell rather than once per kernel: clearing or re-running one cell never leaves
    the others unstyled, and an executed notebook stays small.
    """
    shell = get_ipython()
    if shell is None:  # not in a kernel: every block carries it
        return f"{_STYLE_OPEN}{notebook_css()}</style>"
    # the history session tells cells apart across kernel resets (the runner resets its
    # warm kernel between notebooks, and the execution count starts again at 1)
    session = getattr(getattr(shell, "history_manager", None), "session_number", None)
    cell = (id(shell), session, shell.execution_count)
    if _styled_cell[0] == cell:
        return ""
    _styled_cell[0] = cell
    return f"{_STYLE_OPEN}{notebook_css()}</style>"


class Block(HTML):
    """A report block: HTML made of escaped pieces.

    ``data`` is the block as the report shows it. Displayed in a notebook
    (``_repr_html_``), it is wrapped in ``<div class="sr-nb">`` with the block styles,
    once per cell, so JupyterLab shows it as the rendered report does; the renderer
    removes that wrapping (:func:`strip_notebook_style`).
    """

    def _repr_html_(self) -> str:
        start, end = NOTEBOOK_WRAPPER
        return f"{start}{_style_once_per_cell()}{self.data}{end}"


def block(markup: str) -> Block:
    """Wrap markup built from :func:`esc`-ed pieces as a :class:`Block` (styled in notebooks).

    For views that assemble their own HTML (for example their own KPI cards) so it looks
    and escapes like the helpers' blocks.
    """
    return Block(markup)


_NOTEBOOK_STYLE = re.compile(r"<style data-segreport>.*?</style>", re.S)


def strip_notebook_style(text: str) -> str:
    """A displayed block's HTML as the report shows it: without the notebook wrapper and
    style of :meth:`Block._repr_html_`. Other HTML is returned unchanged."""
    start, end = NOTEBOOK_WRAPPER
    if not (text.startswith(start) and text.endswith(end)):
        return text
    inner = text[len(start) : len(text) - len(end)]
    if inner.startswith(_STYLE_OPEN):
        inner = _NOTEBOOK_STYLE.sub("", inner, count=1)
    return inner


# ---- number formatting -----------------------------------------------------------------
def fmt_number(value: float | int | None, *, decimals: int = 0, language: str = "en") -> str:
    """``12345.6`` -> ``12,346``; large values in Chinese use 万/亿."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or value is pd.NA:
        return "–"
    if language == "zh" and abs(value) >= 1e8:
        return f"{value / 1e8:,.{max(decimals, 2)}f}亿"
    if language == "zh" and abs(value) >= 1e5:
        return f"{value / 1e4:,.{max(decimals, 1)}f}万"
    return f"{value:,.{decimals}f}"


#: The Chinese word of a currency, written after the amount ("100.9万元", "100.9万美元"):
#: ``currency`` symbols and ISO codes as the ``currency`` parameter may give them.
CURRENCY_WORDS_ZH = {
    **dict.fromkeys(("¥", "￥", "CNY", "RMB", "元", "人民币", "CN¥"), "元"),
    **dict.fromkeys(("$", "US$", "USD", "美元"), "美元"),
    **dict.fromkeys(("HK$", "HKD", "港元", "港币"), "港元"),
    **dict.fromkeys(("NT$", "TWD", "新台币"), "新台币"),
    **dict.fromkeys(("MOP", "MOP$", "澳门元"), "澳门元"),
    **dict.fromkeys(("€", "EUR", "欧元"), "欧元"),
    **dict.fromkeys(("£", "GBP", "英镑"), "英镑"),
    **dict.fromkeys(("JP¥", "JPY", "円", "日元"), "日元"),
    **dict.fromkeys(("₩", "KRW", "韩元"), "韩元"),
    **dict.fromkeys(("S$", "SGD", "新加坡元"), "新加坡元"),
    **dict.fromkeys(("A$", "AUD", "澳元"), "澳元"),
    **dict.fromkeys(("C$", "CAD", "加元"), "加元"),
}
_HAN = re.compile(r"[\u3400-\u9fff]")


def currency_word_zh(currency: str) -> str | None:
    """The word a Chinese text writes after an amount of ``currency`` (``"¥"`` -> ``"元"``,
    ``"$"`` -> ``"美元"``); a currency written in Chinese characters is its own word; None
    for a symbol we cannot name (its amounts keep the symbol in front, without 万/亿)."""
    text = str(currency).strip()
    word = CURRENCY_WORDS_ZH.get(text) or CURRENCY_WORDS_ZH.get(text.upper())
    if word is None and _HAN.search(text):
        word = text
    return word


def _signed(sign: str, body: str) -> str:
    # a value that rounds to zero shows no minus sign ("-0" is not an amount)
    return body if not any(ch in "123456789" for ch in body) else sign + body


def fmt_money(
    value: float | None, currency: str = "$", *, language: str = "en", decimals: int = 0
) -> str:
    """An amount with its currency: ``-$1,500`` in English; in Chinese the currency word
    after the number, with 万/亿 from 100,000: ``-1,500元``, ``100.9万元``, ``3.20亿美元``
    (never ``$100.9万``). A symbol without a Chinese word (:data:`CURRENCY_WORDS_ZH`) stays
    in front and the number is written out (``₫1,009,000``).

    Examples
    --------
    >>> fmt_money(1_009_000, "$", language="zh")
    '100.9万美元'
    >>> fmt_money(-1_009_000, "¥", language="zh")
    '-100.9万元'
    """
    if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    sign = "-" if value < 0 else ""
    if language == "zh":
        word = currency_word_zh(currency)
        if word is not None:
            return _signed(
                sign, f"{fmt_number(abs(value), decimals=decimals, language='zh')}{word}"
            )
        return _signed(sign, f"{currency}{fmt_number(abs(value), decimals=decimals)}")
    return _signed(
        sign, f"{currency}{fmt_number(abs(value), decimals=decimals, language=language)}"
    )


def fmt_money_short(value: float, currency: str = "$", *, language: str = "en") -> str:
    """A compact amount for chart labels: ``$12.3k``, ``-$1.2M``; in Chinese ``1.2万元``,
    ``3.5亿美元`` (1 decimal, a trailing ``.0`` dropped; amounts below 10,000 / 1,000 in
    full)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    word = currency_word_zh(currency) if language == "zh" else None
    steps = ((1e8, "亿"), (1e4, "万")) if word is not None else ((1e6, "M"), (1e3, "k"))
    body = f"{v:,.0f}"
    for size, suffix in steps:
        if v >= size:
            body = f"{v / size:,.1f}".removesuffix(".0") + suffix
            break
    if word is not None:
        return _signed(sign, f"{body}{word}")
    return _signed(sign, f"{currency}{body}")


def fmt_pct(value: float | None, *, decimals: int = 1, signed: bool = False) -> str:
    """``0.123`` -> ``12.3%``; ``signed`` adds ``+`` for increases."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value * 100:{'+' if signed else ''}.{decimals}f}%"


def fmt_date(value, language: str = "en") -> str:
    if value is None or pd.isna(value):
        return "–"
    ts = pd.Timestamp(value)
    return f"{ts.year}年{ts.month}月{ts.day}日" if language == "zh" else ts.strftime("%d %b %Y")


def wrap_label(text: str, width: int, language: str) -> str:
    """Break a label into lines of about ``width`` Latin characters (a Chinese character
    counts two); a Chinese line of one or two characters joins the line before."""
    if language == "zh":
        step = max(2, width // 2)
        lines = [text[i : i + step] for i in range(0, len(text), step)]
        if len(lines) > 1 and len(lines[-1]) <= 2:
            lines[-2:] = [lines[-2] + lines[-1]]
        return "\n".join(lines)
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


# ---- blocks ---------------------------------------------------------------------------
def section_anchor(key: str) -> str:
    """The id of the section a message key heads, the same in every language:
    ``report_churn.drivers.title`` -> ``sec-drivers``. Another report links to it with
    :func:`report_link`."""
    parts = key.split(".")
    if parts and parts[0].startswith("report_"):
        parts = parts[1:]
    if parts and parts[-1] == "title":
        parts = parts[:-1]
    slug = "-".join(parts) or "top"
    return "sec-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in slug.lower())


def heading(text: str, level: int = 2, *, anchor: str | None = None) -> Block:
    """A section heading; level-2 headings make the report's table of contents.

    ``anchor`` is the heading's id (:func:`section_anchor` of its message key, so links
    from other reports find it in either language); without one, the id is built from the
    text."""
    if anchor is None:
        anchor = "s-" + "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:60]
    return Block(f'<h{level} id="{esc_attr(anchor)}" class="sr-h">{esc(text)}</h{level}>')


def report_href(report: str, section: str | None = None) -> str:
    """Where another report of the same unit and period is, relative to a report page:
    ``churn.html`` or ``churn.html#sec-drivers`` (``section`` is a message key, as given to
    :func:`section_anchor`, or an anchor)."""
    href = f"{report}.html"
    if section:
        href += "#" + (section if section.startswith("sec-") else section_anchor(section))
    return href


def export_href(name: str) -> str:
    """Where an export of the unit is, relative to a report page (``exports/<name>``)."""
    return f"exports/{name}"


def link(label: str, href: str) -> str:
    """``label`` as escaped HTML linking to ``href`` (a relative link the helpers above
    built, never data)."""
    return f'<a class="sr-link" href="{esc_attr(href)}">{esc(label)}</a>'


def links(label: str, items: Sequence[tuple[str, str]]) -> Block:
    """A line of links: ``label: first · second``, each ``(text, href)``."""
    shown = " · ".join(link(text, href) for text, href in items)
    gap = "" if label.endswith(("：", "，", "。", "；")) else " "  # Chinese punctuation is wide
    return Block(f'<p class="sr-links">{esc(label)}{gap}{shown}</p>')


def points(items: Sequence[str], *, markup: bool = False) -> Block:
    """A short list of findings (the overview at the top of a report): each item escaped
    text, or, with ``markup=True``, HTML the caller built from escaped pieces and
    :func:`link`."""
    shown = "".join(f"<li>{item if markup else esc(item)}</li>" for item in items)
    return Block(f'<ul class="sr-points">{shown}</ul>')


#: The class of the heading that opens a report's appendix; the renderer turns it and what
#: follows it (up to the figure definitions) into a closed ``<details>``.
APPENDIX_CLASS = "sr-appendix-start"


def appendix_heading(text: str, intro: str = "") -> Block:
    """The heading of a report's appendix (model fit, parameters, diagnostics).

    In JupyterLab it is a plain heading; the rendered HTML folds it and everything up to
    the figure definitions into a closed ``<details>`` (no script needed), and the PDF
    prints it open at the end."""
    body = f'<p class="sr-small">{esc(intro)}</p>' if intro else ""
    return Block(f'<h2 id="sec-appendix" class="sr-h {APPENDIX_CLASS}">{esc(text)}</h2>{body}')


def paragraph(text: str, css: str = "sr-p") -> Block:
    return Block(f'<p class="{esc_attr(css)}">{esc(text)}</p>')


def takeaway(text: str) -> Block:
    """The one-sentence conclusion shown under a chart or table."""
    return Block(f'<p class="sr-takeaway">{esc(text)}</p>')


def note(text: str, kind: str = "info") -> Block:
    """A boxed statement: ``info``, ``warning`` (e.g. "too little data to fit") or ``ok``."""
    return Block(f'<div class="sr-note sr-{esc_attr(kind)}">{esc(text)}</div>')


@dataclass
class KPI:
    """One KPI card: value, and its change vs a comparison period.

    ``higher_is_better`` decides the colour of the change (``None``: neutral).
    """

    label: str
    value: str
    change: float | None = None  # relative change (0.05 = +5%) or None
    change_label: str = ""  # e.g. "vs 2025-Q2"
    higher_is_better: bool | None = True
    change_text: str | None = None  # preformatted change (e.g. "+3.2 pts")
    figure: str | None = None  # a business figure's id: the label links to its definition


def figure_anchor(figure: str) -> str:
    """The id of a business figure's definition in every report (:func:`figure_definitions`)."""
    return "figure-" + "".join(ch if ch.isalnum() or ch == "_" else "-" for ch in figure)


def figure_link(label: str, figure: str | None) -> str:
    """``label`` as escaped HTML, linking to the figure's definition when ``figure`` is set."""
    if not figure:
        return esc(label)
    return f'<a class="sr-def" href="#{esc_attr(figure_anchor(figure))}">{esc(label)}</a>'


def figure_definitions(rows: Sequence[tuple[str, str, str, str]]) -> Block:
    """The definitions list every quoted figure links to: ``(figure id, name, value,
    definition)`` per row."""
    items = "".join(
        f'<dt id="{esc_attr(figure_anchor(figure))}">{esc(name)}: {esc(value)}</dt>'
        f"<dd>{esc(definition)}</dd>"
        for figure, name, value, definition in rows
    )
    return Block(f'<dl class="sr-defs">{items}</dl>')


def kpi_cards(kpis: Sequence[KPI]) -> Block:
    cards = []
    for k in kpis:
        delta = ""
        if k.change is not None and math.isfinite(k.change) or k.change_text:
            change = k.change or 0.0
            arrow = "▲" if change > 0 else ("▼" if change < 0 else "■")
            good = (
                None
                if k.higher_is_better is None or change == 0
                else (change > 0) == k.higher_is_better
            )
            css = "sr-neutral" if good is None else ("sr-good" if good else "sr-bad")
            text = k.change_text or fmt_pct(change, signed=True)
            delta = (
                f'<div class="sr-kpi-delta {css}">{arrow} {esc(text)} '
                f'<span class="sr-kpi-vs">{esc(k.change_label)}</span></div>'
            )
        cards.append(
            f'<div class="sr-kpi"><div class="sr-kpi-label">{figure_link(k.label, k.figure)}</div>'
            f'<div class="sr-kpi-value">{esc(k.value)}</div>{delta}</div>'
        )
    return Block(f'<div class="sr-kpis">{"".join(cards)}</div>')


def table(
    frame: pd.DataFrame,
    *,
    formats: dict[str, str] | None = None,
    max_rows: int = 50,
    index: bool = False,
    muted_rows: Iterable[bool] | None = None,
    caption: str | None = None,
) -> Block:
    """An escaped HTML table. ``formats`` maps columns to ``{:,.0f}``-style formats or to
    ``pct``/``pct_signed``; ``muted_rows`` greys rows (e.g. small bases)."""
    formats = formats or {}
    frame = frame.reset_index() if index else frame
    shown = frame.head(max_rows)
    muted = list(muted_rows)[: len(shown)] if muted_rows is not None else [False] * len(shown)
    head = "".join(f"<th>{esc(c)}</th>" for c in shown.columns)
    rows = []
    for is_muted, (_, row) in zip(muted, shown.iterrows(), strict=False):
        cells = []
        for column, value in row.items():
            spec = formats.get(column)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if spec and value is not None and not pd.isna(value):
                if spec == "pct":
                    text = fmt_pct(float(value))
                elif spec == "pct_signed":
                    text = fmt_pct(float(value), signed=True)
                else:
                    text = spec.format(value)
            elif numeric and not pd.isna(value):
                text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
            else:
                text = value
            cells.append(f'<td class="{"sr-num" if numeric else ""}">{esc(text)}</td>')
        rows.append(f'<tr class="{"sr-muted" if is_muted else ""}">{"".join(cells)}</tr>')
    more = ""
    if len(frame) > max_rows:
        more = f'<p class="sr-more">{len(frame) - max_rows:,} more rows not shown.</p>'
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return Block(
        f'<div class="sr-table-wrap"><table class="sr-table">{cap}<thead><tr>{head}'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}</div>"
    )


#: Rows a :func:`data_table` writes into the page at most. Each row of the early-warning
#: list is about 0.5 kB of HTML, so a list of 5,000 keeps the page near 2.5 MB however
#: large the unit; the rest is in the export the note names (every row, real ids).
DATA_TABLE_MAX_ROWS = 5_000


def _cell_value(value: object) -> str | None:
    """The sort key of a numeric cell (``data-v``), None for text and missing values."""
    if isinstance(value, bool) or value is None or value is pd.NA:
        return None
    if isinstance(value, int | float) and math.isfinite(float(value)):
        return repr(float(value))
    return None


def data_table(
    frame: pd.DataFrame,
    *,
    id: str,  # noqa: A002  (the element id, as in HTML)
    page_size: int = 25,
    formats: dict[str, object] | None = None,
    max_rows: int = DATA_TABLE_MAX_ROWS,
    export: str | None = None,
    language: str = "en",
    total: int | None = None,
) -> Block:
    """A long list the reader can sort, filter and page in the browser.

    The table is plain escaped HTML with every row (up to ``max_rows``); the report's own
    script (``report/templates/datatable.js``, allowed by its hash in the page's
    Content-Security-Policy, see :func:`analysis.report.render.render_html`) only hides and
    reorders those rows. Without scripts the whole table shows in a scroll box. Printed,
    the page shows the rows on screen (the first ``page_size`` without scripts) and says
    where the full list is.

    Parameters
    ----------
    frame : DataFrame
        The rows, with raw values: numbers sort as numbers (their value is kept in
        ``data-v``), whatever ``formats`` shows.
    id : str
        The table's element id (unique on the page).
    page_size : int
        Rows per page in the browser.
    formats : dict, optional
        Column -> callable (value -> text) or ``{:,.0f}``-style format.
    max_rows : int
        Rows written into the page at most (:data:`DATA_TABLE_MAX_ROWS`); a note names
        the rows left out and ``export``.
    export : str, optional
        The export holding every row (``"churn_risk.csv"``), named in the notes.
    language : str
        Report language of the controls.
    total : int, optional
        Rows of the whole list when ``frame`` is already cut to its first rows (so a
        caller with a million rows formats only what the page shows); default
        ``len(frame)``.

    Returns
    -------
    Block
    """
    formats = formats or {}
    page_size = max(1, int(page_size))
    shown = frame.head(max_rows)
    numeric = {c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c].dtype)}
    head = "".join(
        ('<th scope="col" class="sr-num">' if c in numeric else '<th scope="col">')
        + f"{esc(c)}</th>"
        for c in shown.columns
    )
    rows = []
    for i, row in enumerate(shown.itertuples(index=False, name=None)):
        cells = []
        for column, value in zip(shown.columns, row, strict=True):
            key = _cell_value(value)
            spec = formats.get(column)
            if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                text = None
            elif callable(spec):
                text = spec(value)
            elif isinstance(spec, str):
                text = spec.format(value)
            elif key is not None:
                text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
            else:
                text = value
            attrs = f' class="sr-num" data-v="{key}"' if key is not None else ""
            cells.append(f"<td{attrs}>{esc(text)}</td>")
        rest = ' class="sr-dt-rest"' if i >= page_size else ""
        rows.append(f"<tr{rest}>{''.join(cells)}</tr>")
    notes = []
    total = max(len(frame), total or 0)
    if total > len(shown):
        values = {"shown": f"{len(shown):,}", "n": f"{total:,}"}
        notes.append(
            t("table.capped", language, **values, export=export)
            if export
            else t("table.capped_no_export", language, **values)
        )
    print_note = t(
        "table.print" if export else "table.print_no_export",
        language,
        rows=f"{page_size:,}",
        export=export,
    )
    bar = (
        f'<div class="sr-dt-bar" hidden><input type="search" class="sr-dt-filter" '
        f'placeholder="{esc_attr(t("table.filter", language))}" '
        f'aria-label="{esc_attr(t("table.filter", language))}" aria-controls="{esc_attr(id)}">'
        f'<span class="sr-dt-info" aria-live="polite" '
        f'data-text="{esc_attr(t("table.info", language, start="%1", end="%2", total="%3"))}" '
        f'data-none="{esc_attr(t("table.no_match", language))}"></span>'
        f'<button type="button" class="sr-dt-prev">{esc(t("table.previous", language))}</button>'
        f'<button type="button" class="sr-dt-next">{esc(t("table.next", language))}</button>'
        f"</div>"
    )
    more = "".join(f'<p class="sr-more">{esc(n)}</p>' for n in notes)
    return Block(
        f'<div class="sr-dt" data-page-size="{page_size}" '
        f'data-sort-label="{esc_attr(t("table.sort", language))}">{bar}'
        f'<div class="sr-table-wrap sr-dt-scroll"><table class="sr-table" id="{esc_attr(id)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        f'{more}<p class="sr-more sr-dt-print">{esc(print_note)}</p></div>'
    )


def quality_section(quality, language: str = "en") -> list[Block]:
    """The "Data quality" block every report ends with: every counted repair."""
    blocks = [heading(t("quality.title", language), anchor="sec-quality")]
    summary = quality.summary(language)
    if summary.empty:
        blocks.append(note(t("quality.none", language), "ok"))
    else:
        blocks.append(paragraph(t("quality.intro", language)))
        blocks.append(table(summary, max_rows=100))
    for item in quality.notes:
        values = {k: v for k, v in item.items() if k != "key"}
        blocks.append(paragraph(t(item["key"], language, **values), "sr-small"))
    return blocks

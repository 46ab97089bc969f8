"""Notebook display helpers: headings, KPI cards, escaped tables, takeaways, notes.

Every helper returns an ``IPython.display.HTML`` object built from escaped text: values
that come from data (names, categories, comments, unit names) can never inject markup.
Number and date formats follow the report language.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from IPython.display import HTML

from .i18n import t


def esc(value: object) -> str:
    """HTML-escape anything (None/NaN become an en dash)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    return html.escape(str(value), quote=True)


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


def fmt_money(
    value: float | None, currency: str = "$", *, language: str = "en", decimals: int = 0
) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    sign = "-" if value < 0 else ""
    return f"{sign}{currency}{fmt_number(abs(value), decimals=decimals, language=language)}"


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
def heading(text: str, level: int = 2) -> HTML:
    """A section heading; level-2 headings make the report's table of contents."""
    anchor = "s-" + "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")[:60]
    return HTML(f'<h{level} id="{esc(anchor)}" class="sr-h">{esc(text)}</h{level}>')


def paragraph(text: str, css: str = "sr-p") -> HTML:
    return HTML(f'<p class="{css}">{esc(text)}</p>')


def takeaway(text: str) -> HTML:
    """The one-sentence conclusion shown under a chart or table."""
    return HTML(f'<p class="sr-takeaway">{esc(text)}</p>')


def note(text: str, kind: str = "info") -> HTML:
    """A boxed statement: ``info``, ``warning`` (e.g. "too little data to fit") or ``ok``."""
    return HTML(f'<div class="sr-note sr-{esc(kind)}">{esc(text)}</div>')


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


def kpi_cards(kpis: Sequence[KPI]) -> HTML:
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
            f'<div class="sr-kpi"><div class="sr-kpi-label">{esc(k.label)}</div>'
            f'<div class="sr-kpi-value">{esc(k.value)}</div>{delta}</div>'
        )
    return HTML(f'<div class="sr-kpis">{"".join(cards)}</div>')


def table(
    frame: pd.DataFrame,
    *,
    formats: dict[str, str] | None = None,
    max_rows: int = 50,
    index: bool = False,
    muted_rows: Iterable[bool] | None = None,
    caption: str | None = None,
) -> HTML:
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
    return HTML(
        f'<div class="sr-table-wrap"><table class="sr-table">{cap}<thead><tr>{head}'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}</div>"
    )


def quality_section(quality, language: str = "en") -> list[HTML]:
    """The "Data quality" block every report ends with: every counted repair."""
    blocks = [heading(t("quality.title", language))]
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

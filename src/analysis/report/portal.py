"""The manager's entry page ``reports/index.html``: periods x units x reports with status.

Built from the ``status.json`` files the runner leaves in ``<period>/<unit>/``, so it always
reflects what is on disk, including runs of other units or earlier periods. Static HTML with
inline CSS and no script: it works offline and from a file share.

Navigation: the bar at the top jumps to a period; above each period's table an index of
its units links to each unit's row (``#p-2025-Q3-u-retail``, the unit part being
:func:`analysis.config.unit_slug`). The linked row is the URL's target, and CSS
(``:target``/``:has``) then shows that row alone, a unit filter without script (the page's
Content-Security-Policy allows none); a browser without ``:has`` still jumps to the row and
marks it. The period link clears the filter.

A report that does not apply to a unit's data has its own badge ("not applicable", never
"failed"), a link to its page and the reason. A unit that is the whole company (the data has
one unit) is shown once: an "all" row of the same period is left out.
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

from .. import __version__
from ..config import unit_slug
from ..errors import ParamsError
from ..i18n import t
from .registry import all_reports
from .render import css, write_atomic


def collect_statuses(output: Path) -> list[dict]:
    statuses = []
    for path in sorted(output.glob("*/*/status.json")):
        if any(part.startswith(".") for part in path.relative_to(output).parts):
            continue  # a staging or retired folder left by an interrupted run
        try:
            status = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        status["_dir"] = path.parent.relative_to(output).as_posix()
        statuses.append(status)
    return statuses


def _on_disk(output: Path | None, folder: str, target: str | None) -> bool:
    """Whether a file a status names is still there (it may have been deleted since)."""
    return bool(target) and (output is None or (Path(output) / folder / target).is_file())


def _file_link(
    folder: str, target: str | None, text: str, css_class: str = "", output: Path | None = None
) -> str:
    if not _on_disk(output, folder, target):
        return ""
    href = quote(f"{folder}/{target}")
    return f'<a class="{css_class}" href="{escape(href)}">{escape(text)}</a>'


def _cell(status: dict, report: str, language: str, output: Path | None = None) -> str:
    """A report's cell. Built from what is on disk: a report whose file was deleted since
    its run is "missing", never "OK / Open", and links go only to files that exist."""
    entry = status.get("reports", {}).get(report)
    if not entry:
        return '<td class="pt-none">–</td>'
    folder = status["_dir"]
    state = entry.get("status", "failed")
    if state in ("ok", "not_applicable") and not _on_disk(output, folder, entry.get("html")):
        state = "missing"

    def link(target: str | None, text: str, css_class: str = "") -> str:
        return _file_link(folder, target, text, css_class, output)

    label = t(f"portal.status.{state}", language)
    parts = [f'<span class="pt-badge pt-{escape(state)}">{escape(label)}</span>']
    if state == "ok":
        parts.append(link(entry.get("html"), t("portal.open", language), "pt-open"))
        if entry.get("pdf"):
            parts.append(link(entry["pdf"], "PDF"))
        elif entry.get("pdf_error"):
            parts.append(
                f'<span class="pt-badge pt-skipped">{escape(t("portal.pdf_skipped", language))}</span>'
            )
    elif state == "not_applicable":
        parts.append(link(entry.get("html"), t("portal.why", language), "pt-open"))
        if entry.get("pdf"):
            parts.append(link(entry["pdf"], "PDF"))
        parts.append(f'<div class="pt-reason">{escape(entry.get("reason") or "")}</div>')
    elif state == "failed":
        parts.append(link(entry.get("html"), t("portal.error_page", language)))
        if entry.get("last_good_html"):
            parts.append(link(entry["last_good_html"], t("portal.last_good", language)))
        parts.append(f'<div class="pt-err">{escape((entry.get("error") or "")[:160])}</div>')
    elif state == "missing":
        parts.append(f'<div class="pt-err">{escape(t("portal.missing", language))}</div>')
    elif entry.get("error"):  # skipped: why (no data in the period), not an error
        parts.append(f'<div class="pt-reason">{escape(entry["error"])}</div>')
    when = (entry.get("finished_at") or "")[:16].replace("T", " ")
    if when:
        parts.append(f'<div class="pt-when">{escape(when)}</div>')
    return f"<td>{' '.join(parts)}</td>"


def _unit_anchor(period: str, unit: str, taken: set[str]) -> str:
    """The id of a unit's row in a period, ``p-<period>-u-<slug>``, unique in the page.

    The slug (:func:`analysis.config.unit_slug`, the unit's folder name) has no spaces or
    markup characters; Chinese stays, which ids and fragments allow."""
    try:
        slug = unit_slug(unit)
    except ParamsError:  # a status.json edited by hand; the row still gets an id
        slug = "unit"
    anchor, n = f"p-{period}-u-{slug}", 1
    while anchor in taken:
        n += 1
        anchor = f"p-{period}-u-{slug}-{n}"
    taken.add(anchor)
    return anchor


def _unit_index(period: str, links: list[tuple[str, str]], language: str) -> str:
    """The unit filter above a period's table: a link to each unit's row, then one back to
    the whole table."""
    if len(links) < 2:
        return ""
    items = "".join(f'<a href="#{escape(a)}">{escape(label)}</a>' for a, label in links)
    title = escape(t("portal.units", language))
    return (
        f'<nav class="pt-units" aria-label="{title} {escape(period)}">'
        f'<span class="pt-units-label">{title}</span>{items}'
        f'<a class="pt-show-all" href="#p-{escape(period)}">'
        f"{escape(t('portal.show_all', language))}</a></nav>"
    )


#: The figures a unit's card shows, in order (from ``figures.json``, see
#: :meth:`analysis.figures.UnitFigures.to_json`), and whether a rise is good news.
CARD_FIGURES = {
    "net_revenue": True,
    "active_customers": True,
    "churn_rate": False,
    "value_at_risk": False,
    "nps": True,
    "csat": True,
}


def read_figures(output: Path, folder: str) -> dict:
    """A unit's ``figures.json`` (beside its exports), or ``{}`` when missing or unreadable."""
    try:
        data = json.loads(Path(output, folder, "figures.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _change(entry: dict, good_if_up: bool, language: str) -> str:
    """The change against the previous period: relative for counts and money, in points
    for rates and NPS; coloured by whether it is good news."""
    value, previous = entry.get("value"), entry.get("previous")
    if not isinstance(value, int | float) or not isinstance(previous, int | float):
        return ""
    kind = entry.get("kind")
    if kind in ("rate", "points"):
        diff = (value - previous) * (100 if kind == "rate" else 1)
        text = t("portal.pts", language, value=f"{diff:+.1f}")
    elif previous > 0:
        diff = value / previous - 1
        text = f"{diff * 100:+.0f}%"
    else:
        return ""
    if round(diff, 3) == 0:
        return f'<span class="pt-kf-d sr-neutral">■ {escape(text)}</span>'
    css = "sr-good" if (diff > 0) == good_if_up else "sr-bad"
    arrow = "▲" if diff > 0 else "▼"
    return f'<span class="pt-kf-d {css}">{arrow} {escape(text)}</span>'


def _figure_card(figures: dict, unit_label: str, anchor: str, language: str) -> str:
    """One unit's card: up to four key figures with their change."""
    lines = []
    for figure, good_if_up in CARD_FIGURES.items():
        entry = figures.get(figure)
        if not isinstance(entry, dict) or entry.get("value") is None or len(lines) == 4:
            continue
        label = entry.get(f"label_{language}") or entry.get("label_en") or figure
        text = entry.get(f"text_{language}") or entry.get("text_en") or ""
        lines.append(
            f"<div><dt>{escape(str(label))}</dt><dd>{escape(str(text))} "
            f"{_change(entry, good_if_up, language)}</dd></div>"
        )
    if not lines:
        return ""
    return (
        f'<div class="pt-card"><a class="pt-card-unit" href="#{escape(anchor)}">'
        f"{escape(unit_label)}</a><dl>{''.join(lines)}</dl></div>"
    )


def render_portal(output: Path, language: str = "en") -> str:
    statuses = collect_statuses(output)
    periods = sorted({s["period"] for s in statuses}, reverse=True)
    latest = max((s.get("updated_at", "") for s in statuses), default="")
    reports = list(all_reports())
    nav = "".join(f'<a href="#p-{escape(p)}">{escape(p)}</a>' for p in periods)
    sections = []
    taken = {f"p-{p}" for p in periods}
    for period in periods:
        rows, unit_links, cards = [], [], []
        in_period = sorted(
            (s for s in statuses if s["period"] == period),
            key=lambda s: (s["unit"] == "all", s["unit"]),
        )
        if any(s.get("covers_all") and s["unit"] != "all" for s in in_period):
            # the data has one unit, whose report is the company's: "all" is not a second row
            in_period = [s for s in in_period if s["unit"] != "all"]
        for status in in_period:
            unit = status["unit"]
            unit_label = t("common.all_units", language) if unit == "all" else unit
            anchor = _unit_anchor(period, unit, taken)
            unit_links.append((anchor, unit_label))
            cards.append(
                _figure_card(read_figures(output, status["_dir"]), unit_label, anchor, language)
            )
            exports = Path(output, status["_dir"], "exports")
            export_links = (
                " ".join(
                    _file_link(status["_dir"], f"exports/{p.name}", p.name)
                    for p in sorted(exports.glob("*.csv"))
                )
                if exports.is_dir()
                else ""
            )
            fresh = ' class="pt-latest"' if status.get("updated_at") == latest else ""
            cells = "".join(_cell(status, r.name, language, output) for r in reports)
            rows.append(
                f'<tr id="{escape(anchor)}"{fresh}><th scope="row">{escape(unit_label)}'
                f'<div class="pt-q">{escape(status.get("quality_headline", ""))}</div>'
                f'<div class="pt-x">{export_links}</div></th>{cells}</tr>'
            )
        head = "".join(f"<th>{escape(t(f'report.{r.name}.title', language))}</th>" for r in reports)
        card_block = ""
        if any(cards):
            card_block = (
                f'<h3 class="sr-h">{escape(t("portal.key_figures", language))}</h3>'
                f'<p class="sr-small">{escape(t("portal.key_figures_hint", language))}</p>'
                f'<div class="pt-cards">{"".join(cards)}</div>'
            )
        sections.append(
            f'<section id="p-{escape(period)}"><h2 class="sr-h">{escape(t("portal.period", language))} '
            f"{escape(period)}</h2>{card_block}{_unit_index(period, unit_links, language)}"
            f'<div class="sr-table-wrap"><table class="sr-table pt-grid"><thead><tr>'
            f"<th>{escape(t('report.label.unit', language))}</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div></section>"
        )
    body = "".join(sections) or f'<p class="sr-p">{escape(t("portal.empty", language))}</p>'
    generated = datetime.now().strftime("%Y-%m-%d %H:%M")
    extra_css = """
.pt-nav { padding:10px 40px; background:#f6f8fa; border-bottom:1px solid #e3e8ee; display:flex; gap:18px; flex-wrap:wrap; }
.pt-nav a { color:#1f4e79; font-weight:600; text-decoration:none; }
.pt-badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; margin-right:6px; }
.pt-missing { background:#fdf3e1; color:#8a5a00; }
.pt-ok { background:#e3f4e8; color:#2f7d4f; } .pt-failed { background:#fdecea; color:#b3261e; } .pt-skipped { background:#eef0f3; color:#5b6775; }
.pt-not_applicable { background:#e8eef8; color:#1f4e79; border:1px dashed #8aa4c8; }
.pt-err, .pt-when, .pt-q, .pt-reason { font-size:11.5px; color:#5b6775; margin-top:3px; } .pt-err { color:#b3261e; }
.pt-x a { font-size:11.5px; margin-right:6px; }
.sr-main { max-width:1500px; } .pt-grid td, .pt-grid th { min-width:96px; } .pt-grid a { margin-right:6px; }
.pt-grid { width:100%; } .pt-grid th, .pt-grid td { padding:5px 7px; } .pt-grid thead th { white-space:normal; }
.pt-x a { display:inline-block; overflow-wrap:anywhere; }
.pt-cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(230px, 1fr)); gap:10px; margin:6px 0 16px; }
.pt-card { border:1px solid #e3e8ee; border-radius:8px; padding:10px 12px; font-size:13px; }
.pt-card-unit { font-weight:600; color:#1f4e79; text-decoration:none; }
.pt-card dl { margin:6px 0 0; } .pt-card dl div { display:flex; justify-content:space-between; gap:8px; }
.pt-card dt { color:#5b6775; } .pt-card dd { margin:0; font-weight:600; text-align:right; white-space:nowrap; }
.pt-kf-d { font-weight:400; font-size:11.5px; }
tr.pt-latest th:first-child { border-left:4px solid #f18f01; }
.pt-units { display:flex; flex-wrap:wrap; gap:4px 12px; align-items:baseline; margin:0 0 10px; font-size:13px; }
.pt-units a { color:#1f4e79; text-decoration:none; white-space:nowrap; }
.pt-units-label { font-weight:600; color:#5b6775; } .pt-units a.pt-show-all { font-style:italic; }
.pt-grid tr:target th, .pt-grid tr:target td { background:#fff4e0; }
.pt-grid tbody:has(tr:target) tr:not(:target) { display:none; }
"""
    lang = "zh-CN" if language == "zh" else "en"
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t("portal.title", language))}</title><style>{css()}{extra_css}</style></head><body>
<header class="sr-header"><div class="sr-brand">segreport</div><h1>{escape(t("portal.title", language))}</h1>
<dl class="sr-meta"><div><dt>{escape(t("report.label.generated", language))}</dt><dd>{escape(generated)}</dd></div></dl></header>
<nav class="pt-nav">{nav}</nav>
<main class="sr-main">{body}
<p class="sr-small">{escape(t("portal.legend", language))}</p></main>
<footer class="sr-footer">{escape(t("report.footer", language, version=__version__))}</footer></body></html>"""


def write_portal(output: Path, language: str = "en") -> Path:
    path = Path(output) / "index.html"
    write_atomic(path, render_portal(Path(output), language))
    return path

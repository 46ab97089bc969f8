"""The portal page: unit navigation without script (every link resolves to a row of the
page), names escaped, the latest row marked, and leftovers of interrupted runs ignored."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from analysis.config import unit_slug
from analysis.report.portal import render_portal

#: The 37 countries of the UCI Online Retail data set, as its units.
ONLINE_RETAIL_UNITS = (
    "Australia",
    "Austria",
    "Bahrain",
    "Belgium",
    "Brazil",
    "Canada",
    "Channel Islands",
    "Cyprus",
    "Czech Republic",
    "Denmark",
    "EIRE",
    "European Community",
    "Finland",
    "France",
    "Germany",
    "Greece",
    "Iceland",
    "Israel",
    "Italy",
    "Japan",
    "Lebanon",
    "Lithuania",
    "Malta",
    "Netherlands",
    "Norway",
    "Poland",
    "Portugal",
    "RSA",
    "Saudi Arabia",
    "Singapore",
    "Spain",
    "Sweden",
    "Switzerland",
    "USA",
    "United Arab Emirates",
    "United Kingdom",
    "Unspecified",
)
INJECTION = "<img src=x onerror=alert(1)>\"'&"


class _Page(HTMLParser):
    """Ids of the page, links of the unit indexes, and the rows of the grids."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.unit_links: list[tuple[str, str]] = []  # (href, text)
        self.rows: dict[str, str] = {}  # row id -> class
        self.scripts = 0
        self._in_units = False
        self._href: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "script" or any(k.startswith("on") for k in a):
            self.scripts += 1
        if tag == "nav" and "pt-units" in (a.get("class") or ""):
            self._in_units = True
        elif tag == "a" and self._in_units:
            self._href = a.get("href")
        elif tag == "tr" and "id" in a:
            self.rows[a["id"]] = a.get("class") or ""

    def handle_data(self, data):
        if self._href is not None:
            self.unit_links.append((self._href, data))
            self._href = None

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_units = False


def _status(output: Path, period: str, folder: str, unit: str, updated_at: str) -> None:
    path = output / period / folder / "status.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    status = {
        "period": period,
        "unit": unit,
        "updated_at": updated_at,
        "quality_headline": f"rows of {unit}",
        "reports": {"overview": {"status": "ok", "html": "overview.html"}},
    }
    path.write_text(json.dumps(status), encoding="utf-8")
    (path.parent / "overview.html").write_text("report")  # the portal shows what is on disk


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_unit_index_links_resolve_to_rows_of_the_page(tmp_path):
    units = [*ONLINE_RETAIL_UNITS, "零售 北区", "all"]
    for unit in units:
        _status(tmp_path, "2025-Q4", unit_slug(unit), unit, "2026-01-02T06:00:00")
    for unit in ("Germany", "France"):
        _status(tmp_path, "2025-Q3", unit_slug(unit), unit, "2025-10-02T06:00:00")
    _status(tmp_path, "2025-Q4", "Spain", "Spain", "2026-01-03T06:00:00")  # latest run
    # a staging folder left by an interrupted run is not a unit
    _status(tmp_path, "2025-Q4", ".France.staging-99", "France", "2026-01-04T06:00:00")

    html = render_portal(tmp_path, "en")
    page = _parse(html)
    assert len(page.ids) == len(set(page.ids))  # ids are unique
    assert page.scripts == 0 and "Content-Security-Policy" in html
    hrefs = [href for href, _ in page.unit_links]
    assert all(href.startswith("#") for href in hrefs)
    assert {href[1:] for href in hrefs} <= set(page.ids)  # every link lands on the page
    # one link per unit and period, plus "show every unit" (the period's section)
    q4 = [(h, text) for h, text in page.unit_links if h.startswith("#p-2025-Q4")]
    assert len(q4) == len(units) + 1 and q4[-1] == ("#p-2025-Q4", "show every unit")
    assert len(set(q4)) == len(q4)
    links = dict((text, href) for href, text in q4)
    assert links["United Kingdom"] == "#p-2025-Q4-u-United_Kingdom"
    assert links["零售 北区"] == "#p-2025-Q4-u-零售_北区"
    assert links["All units"] == "#p-2025-Q4-u-all"
    assert set(page.rows) == {h[1:] for h, _ in page.unit_links if "-u-" in h}
    assert "#p-2025-Q3-u-Germany" in hrefs and "#p-2025-Q3-u-France" in hrefs
    # the latest run stays marked; the staging leftover is not shown
    assert [r for r, css in page.rows.items() if "pt-latest" in css] == ["p-2025-Q4-u-Spain"]
    assert html.count("rows of France") == 2  # Q3 and Q4, not the staging folder
    # the filter is CSS on the targeted row
    assert "tbody:has(tr:target) tr:not(:target)" in html


def test_unit_names_are_escaped_everywhere(tmp_path):
    _status(tmp_path, "2025-Q4", unit_slug(INJECTION), INJECTION, "2026-01-02T06:00:00")
    # a hand-edited status.json whose unit could not be a folder name still gets a row id
    _status(tmp_path, "2025-Q4", "edited", '<b>"x"</b>', "2026-01-02T06:00:00")
    _status(tmp_path, "2025-Q4", "north", "north", "2026-01-02T06:00:00")

    html = render_portal(tmp_path, "zh")
    page = _parse(html)
    assert page.scripts == 0
    assert "<img" not in html and "<b>" not in html and "onerror=alert" in html
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;" in html
    texts = {text: href for href, text in page.unit_links}
    assert set(texts) == {INJECTION, '<b>"x"</b>', "north", "显示全部业务单元"}
    slug = unit_slug(INJECTION)
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789_")
    assert texts[INJECTION] == f"#p-2025-Q4-u-{slug}"
    assert texts['<b>"x"</b>'] == "#p-2025-Q4-u-unit"
    assert {href[1:] for href in texts.values()} <= set(page.ids)
    assert len(page.ids) == len(set(page.ids))


def test_a_single_unit_needs_no_index(tmp_path):
    _status(tmp_path, "2025-Q4", "north", "north", "2026-01-02T06:00:00")
    page = _parse(render_portal(tmp_path, "en"))
    assert page.unit_links == []
    assert list(page.rows) == ["p-2025-Q4-u-north"]


def _reports_status(output: Path, folder: str, unit: str, reports: dict, **extra) -> None:
    path = output / "2025-Q4" / folder / "status.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    status = {"period": "2025-Q4", "unit": unit, "updated_at": "2026-01-02T06:00:00"}
    path.write_text(json.dumps({**status, "reports": reports, **extra}), encoding="utf-8")
    for entry in reports.values():  # the portal shows what is on disk
        for key in ("html", "pdf", "last_good_html"):
            if entry.get(key):
                (path.parent / entry[key]).write_text("report")


def test_not_applicable_has_its_own_badge_a_link_and_the_reason(tmp_path):
    reason = 'This run has no survey file <b>"x"</b>.'
    _reports_status(
        tmp_path,
        "north",
        "north",
        {
            "satisfaction": {
                "status": "not_applicable",
                "html": "satisfaction.html",
                "reason": reason,
            },
            "overview": {"status": "failed", "html": "overview.error.html", "error": "boom"},
        },
    )
    for language, label in (("en", "Not applicable"), ("zh", "不适用")):
        html = render_portal(tmp_path, language)
        assert f'<span class="pt-badge pt-not_applicable">{label}</span>' in html
        assert html.count("pt-badge pt-failed") == 1  # the failed report only
        assert 'href="2025-Q4/north/satisfaction.html"' in html
        assert "This run has no survey file &lt;b&gt;&quot;x&quot;&lt;/b&gt;." in html
        assert "<b>" not in html


def test_a_unit_that_is_the_whole_company_is_shown_once(tmp_path):
    ok = {"overview": {"status": "ok", "html": "overview.html"}}
    _reports_status(tmp_path, "telecom", "telecom", ok, covers_all=True)
    _reports_status(tmp_path, "all", "all", ok)  # left by an older run
    page = _parse(render_portal(tmp_path, "en"))
    assert list(page.rows) == ["p-2025-Q4-u-telecom"]
    # with several units, "all" is the company row as before
    _reports_status(tmp_path, "telecom", "telecom", ok, covers_all=False)
    _reports_status(tmp_path, "mobile", "mobile", ok, covers_all=False)
    page = _parse(render_portal(tmp_path, "en"))
    assert set(page.rows) == {"p-2025-Q4-u-telecom", "p-2025-Q4-u-mobile", "p-2025-Q4-u-all"}


def _figures(output: Path, period: str, folder: str, figures: dict) -> None:
    (output / period / folder / "figures.json").write_text(json.dumps(figures), encoding="utf-8")


def _entry(value, previous, kind, label, text):
    # the fields of analysis.figures.UnitFigures.to_json the portal reads
    return {
        "value": value,
        "previous": previous,
        "year_ago": None,
        "kind": kind,
        "label_en": label,
        "label_zh": f"{label}（中）",
        "text_en": text,
        "text_zh": f"{text}（中）",
    }


def test_each_unit_shows_its_key_figures_with_their_change(tmp_path):
    for unit in ("north", "south", "east"):
        _status(tmp_path, "2025-Q4", unit, unit, "2026-01-02T06:00:00")
    _figures(
        tmp_path,
        "2025-Q4",
        "north",
        {
            "net_revenue": _entry(110_000.0, 100_000.0, "money", "Net revenue", "$110,000"),
            "active_customers": _entry(450, 500, "count", "Active customers", "450"),
            "churn_rate": _entry(0.12, 0.10, "rate", "Churn rate", "12.0%"),
            "value_at_risk": _entry(5_000.0, None, "money", "Value at risk", "$5,000"),
            "nps": _entry(None, 20, "points", "NPS", "–"),
            "_meta": {"period": "2025-Q4", "unit": "north"},
        },
    )
    _figures(tmp_path, "2025-Q4", "south", {"net_revenue": _entry(1, 1, "money", INJECTION, "1")})
    (tmp_path / "2025-Q4" / "east" / "figures.json").write_text("{not json", encoding="utf-8")

    html = render_portal(tmp_path, "en")
    cards = re.findall(r'<div class="pt-card">(.*?)</dl></div>', html, re.S)
    assert len(cards) == 2  # east's file is unreadable: no card, no error
    north = next(c for c in cards if "#p-2025-Q4-u-north" in c)
    assert "$110,000" in north and 'sr-good">▲ +10%' in north  # more revenue: good
    assert 'sr-bad">▼ -10%' in north  # fewer active customers: bad
    assert 'sr-bad">▲ +2.0 pts' in north  # churn up 2 points: bad
    assert "$5,000" in north and "Value at risk" in north  # no previous: no change shown
    assert "NPS" not in north  # no value this period
    south = next(c for c in cards if "#p-2025-Q4-u-south" in c)
    assert "<img" not in south and "&lt;img src=x" in south and "■ +0%" in south
    zh = render_portal(tmp_path, "zh")
    assert "关键指标" in zh and "Net revenue（中）" in zh and "$110,000（中）" in zh
    assert "+2.0 个百分点" in zh

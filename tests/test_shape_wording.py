"""Wording that fits the data (#14 item 6): the reports of each sample shape, rendered as a
user runs them, say nothing about data the unit does not have, use the unit's own nouns
(bills for a subscription), make counts agree with their nouns and compare groups only when
there are two.

Each shape is generated small (``segreport sample --shape S --customers N``) and run through
the CLI (HTML only); the checks read the text of every rendered page.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from analysis.i18n import t

SEGREPORT = [sys.executable, "-m", "analysis.cli"]
SHAPES = ("subscription", "survey-only", "orders-only")
#: The reports whose wording is checked here.
REPORTS = {"overview", "value", "segmentation", "satisfaction", "churn", "summary", "needs"}
#: Small units make counts of one and tiny survey bases likely.
CUSTOMERS = 300
slow = pytest.mark.slow


class _Text(HTMLParser):
    """The visible text of a page, one line per block element or table cell."""

    BLOCKS = {"p", "div", "tr", "li", "h1", "h2", "h3", "h4", "br", "td", "th", "caption"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):  # noqa: ARG002
        if tag in ("script", "style"):
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n" if tag not in ("td", "th") else " | ")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def _page_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return re.sub(r"\n\s*\n+", "\n", "".join(parser.parts))


def _body(text: str) -> str:
    """The report's own text: up to the closing figure definitions and data quality (their
    wording belongs to the one-truth figures and the loader, checked elsewhere)."""
    cut = text.rfind("\nKey figures of ")
    return text[:cut] if cut > 0 else text


@pytest.fixture(scope="module", params=SHAPES)
def shape_pages(request, tmp_path_factory):
    """``(shape, data folder, {(unit, report): body text})`` of one sample shape."""
    shape = request.param
    folder = tmp_path_factory.mktemp(f"{shape}-data")
    out = tmp_path_factory.mktemp(f"{shape}-reports")
    made = subprocess.run(
        [*SEGREPORT, "sample", "--shape", shape, "--out", str(folder), "--customers",
         str(CUSTOMERS)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    run = subprocess.run(
        [*SEGREPORT, "run", "--data-dir", str(folder), "--output", str(out), "--formats",
         "html", "--jobs", "2", "--no-progress", "--set", "quality.today=2026-06-30",
         "--reports", ",".join(sorted(REPORTS))],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    comments = _comments(folder)
    pages = {}
    for path in sorted(out.glob("*/*/*.html")):
        if path.stem not in REPORTS:
            continue
        text = _body(_page_text(path))
        for comment in comments:  # customers' own words may say anything
            text = text.replace(comment, "")
        pages[(path.parent.name, path.stem)] = text
    assert pages
    return shape, folder, pages


def _comments(folder: Path) -> list[str]:
    path = folder / "survey_responses.csv"
    if not path.exists():
        return []
    frame = pd.read_csv(path, dtype=str)
    if "comment" not in frame.columns:
        return []
    return sorted({c for c in frame["comment"].dropna() if c.strip()}, key=len, reverse=True)


def _has(folder: Path, table: str) -> bool:
    return (folder / f"{table}.csv").exists()


def _hits(pages: dict, pattern: str, reports: set[str] | None = None) -> dict:
    found = {}
    for (unit, report), text in pages.items():
        if reports is not None and report not in reports:
            continue
        lines = [line for line in text.splitlines() if re.search(pattern, line, re.I)]
        if lines:
            found[f"{unit}/{report}"] = lines[:3]
    return found


@slow
def test_counts_agree_with_their_nouns(shape_pages):
    _, _, pages = shape_pages
    nouns = (
        "customers|detractors|promoters|passives|orders|bills|purchases|respondents|answers|"
        "responses|buyers|comments|segments|groups|churners|subscribers|rows|repairs|features|"
        "attributes|accounts|complaints|days|purchase days|members"
    )
    assert _hits(pages, rf"(?<![\d.,])\b1 ({nouns})\b") == {}


@slow
def test_subscription_units_speak_of_bills(shape_pages):
    """A billed unit's segments, value, summary, churn model terms and overview counts
    speak of bills and subscribers (the figure definitions: tests/test_figures.py)."""
    shape, _, pages = shape_pages
    if shape != "subscription":
        pytest.skip("only a billed unit")
    shop_words = (
        r"big-ticket|small-basket|small baskets|repeat-purchase|second purchase|first-repeat"
    )
    assert _hits(pages, shop_words, {"segmentation", "value", "summary"}) == {}
    assert _hits(pages, r"\borders\b|\ban order\b|order value", {"segmentation", "value"}) == {}
    assert _hits(pages, r"consecutive purchases|repeat purchases", {"churn"}) == {}
    # the churn model's features and reasons, and the overview's counts, in bills
    in_orders = r"order value|purchase days|since last purchase|\bper order\b|\bbought\b"
    assert _hits(pages, in_orders, {"churn"}) == {}
    assert _hits(pages, r"\borders?\b", {"overview"}) == {}
    names = "|".join(t(f"segmentation.name.trait.{k}", "en") for k in ("big_ticket", "frequent"))
    assert _hits(pages, names) == {}


@slow
def test_customer_type_notes_only_for_types_present(shape_pages):
    _, folder, pages = shape_pages
    types: set[str] = set()
    if _has(folder, "customers"):
        customers = pd.read_csv(folder / "customers.csv", dtype=str)
        if "customer_type" in customers.columns:
            types = set(customers["customer_type"].dropna().str.lower())
    for kind in ("government", "institution"):
        if kind not in types:
            assert _hits(pages, kind) == {}, kind


@slow
def test_no_sentence_about_data_the_unit_lacks(shape_pages):
    shape, folder, pages = shape_pages
    orders = pd.read_csv(folder / "orders.csv", dtype=str) if _has(folder, "orders") else None
    if not _has(folder, "interactions"):
        assert _hits(pages, r"complain") == {}
    if orders is None or "channel" not in orders.columns:
        assert _hits(pages, r"channel mix|sales channels?|by channel|channels, ") == {}
    if orders is None or "discount" not in orders.columns:
        assert _hits(pages, r"discount-driven|discount share|on discount|discounts,") == {}
    returns = orders is not None and (
        pd.to_numeric(orders["amount"]).lt(0).any()
        or ("status" in orders.columns and orders["status"].eq("returned").any())
    )
    if not returns:
        assert _hits(pages, r"return rate|\breturns\b|returners|\breturned\b") == {}, shape
    if orders is None:  # survey-only: no purchase behind any follow-up action
        said = r"\borders\b|\ban order\b|\bthe order\b|order value|purchase path|\breturns\b"
        assert _hits(pages, said, {"satisfaction"}) == {}


@slow
def test_needs_are_read_only_from_signals_the_data_has(shape_pages):
    """The needs report names the behaviour it read each need from: only what the unit's
    files hold (and all of it), and a survey-only unit's page never speaks of orders."""
    shape, folder, pages = shape_pages
    needs = {unit: text for (unit, report), text in pages.items() if report == "needs"}
    assert needs, shape
    orders = pd.read_csv(folder / "orders.csv", dtype=str) if _has(folder, "orders") else None
    kinds: set[str] = set()
    if _has(folder, "interactions"):
        kinds = set(pd.read_csv(folder / "interactions.csv", dtype=str)["type"].str.lower())

    def column(name: str) -> bool:
        return orders is not None and name in orders.columns and orders[name].notna().any()

    has = {
        "discounts": column("discount"),
        "prices within each category": orders is not None,
        "premium categories": column("product_category"),
        "complaints": "complaint" in kinds,
        "service contacts": bool(kinds & {"inquiry", "call", "email"}),
        "ordering channels": column("channel"),
    }
    for unit, text in needs.items():
        intro = next(line for line in text.splitlines() if line.startswith("The primary need"))
        if orders is None:
            assert "from the survey answers alone" in intro, unit
            assert _hits({(unit, "needs"): text}, r"\borders?\b|\ban order\b|order value") == {}
            continue
        said = intro.split("read from their", 1)[1]
        for phrase, present in has.items():
            # a unit may lack a signal the files have (no variation): never the reverse
            assert present or phrase not in said, (unit, phrase)
        if unit == "all":  # the whole company has every kind of data in the files
            assert [p for p, present in has.items() if present and p not in said] == [], said


@slow
def test_needs_page_opens_with_its_overview_and_ends_with_the_appendix(shape_pages):
    """#17 layout: the overview (cards, findings, where to act) first, then the detail,
    then the diagnostics in the appendix (the scorecard and its weights)."""
    _, _, pages = shape_pages
    for (unit, report), text in pages.items():
        if report != "needs":
            continue
        lines = text.splitlines()
        glance = lines.index("Needs at a glance", lines.index("Needs at a glance") + 1)
        actions = lines.index("What to do for each need", glance)
        appendix = lines.index("Appendix: how the figures were computed", actions)
        scorecard = lines.index("The scorecard", appendix)
        assert glance < actions < appendix < scorecard, unit
        overview = "\n".join(lines[glance:actions])
        assert "Act on it: needs.csv" in overview, unit
        assert "Weight" not in overview and "z-score" not in overview, unit
        assert "z-score" in "\n".join(lines[appendix:]), unit


@slow
def test_comparisons_have_two_groups(shape_pages):
    _, _, pages = shape_pages
    same = r"who were ([\w' -]+?) at the snapshot churned, against [\d.]+% of those who were \1\."
    assert _hits(pages, same) == {}
    assert _hits(pages, r"(\d[\d.]*)% of ([\w' -]+?) churned against \1% of \2\b") == {}


@slow
def test_tiny_bases_show_counts_not_shares(shape_pages):
    """Below the documented minimum base a group row shows its count, not a percentage or
    an interval; an interval of zero width is never shown."""
    from analysis.report.views.satisfaction import MIN_BASE

    _, _, pages = shape_pages
    tiny = {}
    for (unit, report), text in pages.items():
        if report != "satisfaction":
            continue
        for line in text.splitlines():
            cells = [c.strip() for c in line.split(" | ")]
            if len(cells) < 5 or not cells[3].isdigit():
                continue  # not a group row: | grouping | group | answers | ...
            if int(cells[3]) < MIN_BASE and any("%" in c or "…" in c for c in cells[4:]):
                tiny[f"{unit}: {line}"] = cells[3]
    assert tiny == {}
    assert _hits(pages, r"([+-]?\d+%?)\s+…\s+\1(?![\d.])") == {}


@slow
def test_company_summary_says_its_basis_is_its_own(shape_pages):
    """Once, in the company report of several units that has a churn model (value at
    risk): its model, window and value basis are its own; never in a unit's summary."""
    _, folder, pages = shape_pages
    said = t("report_summary.all.own_basis", "en")
    units = {unit for unit, _ in pages}
    company = len(units) > 1 and _has(folder, "orders")
    for (unit, report), text in pages.items():
        if report == "summary":
            assert text.count(said) == (1 if unit == "all" and company else 0), unit
    if company:
        assert "all" in units


def test_quality_headline_counts_rows_and_repairs_apart():
    """8 clean rows, 2 removed (duplicates) and 3 values set missing on kept rows: 10 rows
    were checked and 5 repairs made (a refund is counted in the table, not a repair)."""
    from analysis.data.quality import DataQualityReport, Repair

    report = DataQualityReport(
        [
            Repair("orders", "duplicate_rows", "removed", 2),
            Repair("survey_responses", "out_of_range", "set_missing", 3),
            Repair("orders", "refund", "kept", 4),
        ],
        {"orders": 10},
        {"orders": 8},
    )
    assert report.headline("en", rows_kept=8) == (
        "10 input rows checked, 5 repairs made (one row may need several)"
    )
    one = DataQualityReport([Repair("orders", "bad_date", "removed", 1)], {"orders": 4}, {})
    assert one.headline("en", rows_kept=3).startswith("4 input rows checked, 1 repair made")

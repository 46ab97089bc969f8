"""Security and privacy audit on a run over data seeded with recognisable PII and hostile
strings: no PII anywhere in HTML, PDF or executed notebooks; pseudonymised ids in HTML and
real ids in exports; no other unit's customers; injected markup stays inert in chromium."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.slow]
SEGREPORT = [sys.executable, "-m", "analysis.cli"]
XSS = {
    "comment": '<script>window.__xss="comment"</script><img src=x onerror="window.__xss=1">',
    "category": '<img src=x onerror="window.__xss=2">',
    "unit": "<svg onload=window.__xss=3>",
    "name": '<script>window.__xss="name"</script>',
}


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    data = root / "data"
    subprocess.run(
        [*SEGREPORT, "sample", "--out", str(data), "--customers", "1500", "--seed", "11"],
        check=True,
        capture_output=True,
    )
    customers = pd.read_csv(data / "customers.csv", dtype=str, keep_default_na=False)
    orders = pd.read_csv(data / "orders.csv", dtype=str, keep_default_na=False)
    surveys = pd.read_csv(data / "survey_responses.csv", dtype=str, keep_default_na=False)
    # hostile strings where data reaches the reports
    customers.loc[customers.index[:5], "name"] = XSS["name"]
    orders.loc[orders.index[::7], "product_category"] = XSS["category"]
    detractors = surveys.index[pd.to_numeric(surveys["nps"], errors="coerce") <= 6]
    surveys.loc[detractors[:40], "comment"] = XSS["comment"] + " call me at 138-1234-5678"
    services = customers["business_unit"] == "services"
    customers.loc[services, "business_unit"] = XSS["unit"]
    orders.loc[orders["business_unit"] == "services", "business_unit"] = XSS["unit"]
    surveys.loc[surveys["business_unit"] == "services", "business_unit"] = XSS["unit"]
    interactions = pd.read_csv(data / "interactions.csv", dtype=str, keep_default_na=False)
    interactions.loc[interactions["business_unit"] == "services", "business_unit"] = XSS["unit"]
    for name, frame in (
        ("customers", customers),
        ("orders", orders),
        ("survey_responses", surveys),
        ("interactions", interactions),
    ):
        frame.to_csv(data / f"{name}.csv", index=False)
    out = root / "reports"
    formats = "html,pdf" if shutil.which("chromium") else "html"
    proc = subprocess.run(
        [
            *SEGREPORT,
            "run",
            "--data-dir",
            str(data),
            "--output",
            str(out),
            "--unit",
            "retail",
            "--unit",
            XSS["unit"],
            "--jobs",
            "2",
            "--formats",
            formats,
            "--set",
            "quality.today=2026-06-30",
            "--set",
            'currency="$<b>',
        ],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "SEGREPORT_ID_KEY": "audit-key-0123456789abcdef"},
    )
    assert proc.returncode == 0, proc.stderr
    return {"data": data, "out": out, "customers": customers, "orders": orders}


def _texts(folder: Path, suffixes=(".html", ".ipynb")) -> dict[Path, str]:
    texts = {p: p.read_text(errors="ignore") for p in folder.rglob("*") if p.suffix in suffixes}
    if shutil.which("pdftotext"):
        for pdf in folder.rglob("*.pdf"):
            texts[pdf] = subprocess.run(
                ["pdftotext", str(pdf), "-"], capture_output=True, text=True
            ).stdout
    return texts


def test_no_pii_in_any_output(audit):
    pii = set()
    for column in ("name", "phone", "email", "address"):
        pii |= {v for v in audit["customers"][column] if len(v) >= 6}
    pii.discard(XSS["name"])
    leaks = {str(p): [v for v in pii if v in text] for p, text in _texts(audit["out"]).items()}
    assert {p: v for p, v in leaks.items() if v} == {}
    assert not any("138-1234-5678" in text for text in _texts(audit["out"]).values())


def test_customer_ids_are_pseudonymised_in_html_and_real_in_exports(audit):
    ids = set(audit["customers"]["customer_id"])
    html = {p: t for p, t in _texts(audit["out"], (".html",)).items() if p.suffix == ".html"}
    found = {str(p): sorted(set(re.findall(r"C\d{7}", t)) & ids)[:3] for p, t in html.items()}
    assert {p: v for p, v in found.items() if v} == {}
    exports = list(audit["out"].rglob("exports/*.csv"))
    assert exports
    for path in exports:
        frame = pd.read_csv(path, dtype=str)
        if "customer_id" in frame.columns and len(frame):
            assert frame["customer_id"].str.fullmatch(r"C\d{7}").all(), path  # real ids


def test_a_units_outputs_hold_only_its_customers(audit):
    orders = audit["orders"]
    retail = set(orders.loc[orders["business_unit"] == "retail", "customer_id"])
    others = set(orders.loc[orders["business_unit"] != "retail", "customer_id"]) - retail
    folder = audit["out"] / "2025-Q4" / "retail"
    for path in folder.rglob("*"):
        if path.suffix in (".csv", ".html", ".ipynb"):
            text = path.read_text(errors="ignore")
            assert not [c for c in re.findall(r"C\d{7}", text) if c in others], path


def test_hostile_strings_are_escaped(audit):
    for path, text in _texts(audit["out"], (".html",)).items():
        if path.suffix != ".html":
            continue
        for raw in XSS.values():
            assert raw not in text, (path, raw)
        assert "$<b>" not in text  # a parameter value is data, escaped like any other


def test_hostile_strings_are_inert_in_chromium(audit):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    pages = sorted(audit["out"].rglob("*.html"))
    assert len(pages) >= 5
    from analysis.report.browser import FLAGS

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=list(FLAGS))
        for path in pages:
            page = browser.new_page()
            requests, dialogs = [], []
            page.on("request", lambda r, requests=requests: requests.append(r.url))
            page.on("dialog", lambda d, dialogs=dialogs: (dialogs.append(d.message), d.dismiss()))
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            assert dialogs == [], path
            assert page.evaluate("window.__xss") is None, path
            assert [u for u in requests if not u.startswith(("file://", "data:"))] == [], path
            page.close()
        browser.close()

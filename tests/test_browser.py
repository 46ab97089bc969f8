"""Open rendered reports in the Debian chromium (through playwright) and watch the network."""

import pytest
from conftest import tiny_tables, write_tables

from analysis.report.browser import FLAGS as PDF_FLAGS
from analysis.report.browser import chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = chromium_path()
FLAGS = list(PDF_FLAGS)  # the flags the reports' PDFs are printed with


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (make setup installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from analysis.config import load_params
    from analysis.report import runner

    tmp = tmp_path_factory.mktemp("browser")
    tables = tiny_tables()
    tables["customers"].loc[0, "customer_type"] = '<img src=x onerror="window.__xss=1">'
    folder = write_tables(tmp / "data", tables)
    params = load_params(
        overrides={
            "data_dir": str(folder),
            "output_dir": str(tmp / "r"),
            "quality": {"today": "2026-06-30"},
        }
    )
    plan, results = runner.run(params, units=["north"], progress=False)
    assert runner.exit_code(results) == 0, [r.error for r in results]
    return tmp / "r"


def _open(browser, path):
    page = browser.new_page()
    requests, dialogs = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("networkidle")
    return page, requests, dialogs


@pytest.mark.parametrize("relative", ["2025-Q4/north/overview.html", "index.html"])
def test_no_request_leaves_the_page(browser, rendered, relative):
    page, requests, dialogs = _open(browser, rendered / relative)
    leaving = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert leaving == []
    assert dialogs == []
    assert page.evaluate("window.__xss") is None  # injected markup stayed text
    page.close()


def test_report_shows_its_sections(browser, rendered):
    page, _, _ = _open(browser, rendered / "2025-Q4/north/overview.html")
    assert page.locator("nav.sr-toc a").count() >= 3
    assert page.locator("img").count() >= 2  # charts
    text = page.inner_text("body")
    assert "Key figures" in text and "Data quality" in text
    page.screenshot(path=str(rendered / "overview.png"), full_page=True)
    page.close()


def test_chinese_summary_screenshot(browser, tmp_path):
    """The strategy summary in Chinese, opened in chromium; the screenshot is kept under
    reports/screenshots/ for a person to look at."""
    from conftest import ROOT

    from analysis.config import load_params
    from analysis.data.sample import write_sample
    from analysis.report import runner

    data = write_sample(tmp_path / "sample", n_customers=1500, seed=3)
    params = load_params(
        overrides={
            "data_dir": str(data),
            "output_dir": str(tmp_path / "r"),
            "language": "zh",
            "quality": {"today": "2026-06-30"},
        }
    )
    _, results = runner.run(params, units=["ecommerce"], reports=["summary"], progress=False)
    assert runner.exit_code(results) == 0, [r.error for r in results]
    page, requests, _ = _open(browser, tmp_path / "r" / "2025-Q4" / "ecommerce" / "summary.html")
    text = page.inner_text("body")
    for heading in ("策略摘要", "KPI 记分卡", "数据质量"):
        assert heading in text, heading
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    shots = ROOT / "reports" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "summary_zh.png"), full_page=True)
    page.close()
    assert (shots / "summary_zh.png").stat().st_size > 10_000

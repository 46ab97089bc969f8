"""Open rendered reports in the Debian chromium (through playwright) and watch the network."""

import re

import pytest
from conftest import ROOT, tiny_tables, write_tables

pytestmark = [pytest.mark.browser, pytest.mark.slow]
INJECTED = "<img src=x onerror=window.__xss=2>"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from analysis.config import load_params
    from analysis.report import runner

    tmp = tmp_path_factory.mktemp("browser")
    tables = tiny_tables()
    tables["customers"].loc[0, "customer_type"] = '<img src=x onerror="window.__xss=1">'
    folder = write_tables(tmp / "data", tables)
    # markup in the playbook's actions reaches the early-warning list's action column
    playbook = (ROOT / "params" / "playbook.yaml").read_text(encoding="utf-8")
    playbook = re.sub(r"(actions:\n\s+en: \[)", rf"\1'{INJECTED}', ", playbook)
    (tmp / "playbook.yaml").write_text(playbook, encoding="utf-8")
    params = load_params(
        overrides={
            "data_dir": str(folder),
            "output_dir": str(tmp / "r"),
            "quality": {"today": "2026-06-30"},
            "playbook": str(tmp / "playbook.yaml"),
            "churn": {"list_rows": 5, "high_risk": 0.05},  # the tiny data: all near 5.6%
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


@pytest.mark.parametrize(
    "relative", ["2025-Q4/north/overview.html", "2025-Q4/north/churn.html", "index.html"]
)
def test_no_request_leaves_the_page(browser, rendered, relative):
    page, requests, dialogs = _open(browser, rendered / relative)
    leaving = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert leaving == []
    assert dialogs == []
    assert page.evaluate("window.__xss") is None  # injected markup stayed text
    assert page.locator("img[src=x]").count() == 0
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


LIST = "#churn-warning-list"
_ROWS = f"""() => Array.from(document.querySelectorAll('{LIST} tbody tr'))
    .filter(r => r.offsetParent !== null)"""


def _visible_column(page, col):
    """The shown rows' cells of column ``col``: (text, data-v)."""
    return page.evaluate(
        f"""() => ({_ROWS})().map(r => [r.cells[{col}].textContent,
            r.cells[{col}].getAttribute('data-v')])"""
    )


def _column(page, name):
    heads = page.locator(f"{LIST} thead th").all_inner_texts()
    return next(i for i, h in enumerate(heads) if h.strip().startswith(name))


def test_early_warning_list_sorts_filters_and_pages(browser, rendered):
    page, requests, _ = _open(browser, rendered / "2025-Q4/north/churn.html")
    total = page.locator(f"{LIST} tbody tr").count()
    assert total > 5  # every customer above the cut, not only list_rows
    assert page.locator(f"{LIST} tbody tr:visible").count() == 5  # one page of list_rows
    info = page.locator(".sr-dt-info").inner_text()
    assert f"of {total}" in info
    page.click(".sr-dt-next")
    assert page.locator(".sr-dt-info").inner_text().startswith("Rows 6–")

    # sort by value (not the initial order, which is by value at risk): numbers, not text
    value = _column(page, "Value")
    initial = [v for _, v in _visible_column(page, value)]
    page.locator(f"{LIST} thead th").nth(value).click()  # numbers: highest first
    page.locator(f"{LIST} thead th").nth(value).click()  # then lowest first
    order = page.evaluate(
        f"""() => Array.from(document.querySelectorAll('{LIST} tbody tr'))
            .map(r => r.cells[{value}].getAttribute('data-v'))"""
    )
    keys = [float(v) for v in order]
    assert keys == sorted(keys) and keys[-1] > keys[0]
    assert page.locator(f"{LIST} thead th").nth(value).get_attribute("aria-sort") == "ascending"
    assert [v for _, v in _visible_column(page, value)] != initial
    texts = [t for t, _ in _visible_column(page, value)]
    assert page.locator(".sr-dt-info").inner_text().startswith("Rows 1–5")
    assert len(texts) == 5

    # filter on one customer's pseudonym: only that row shows
    who = page.locator(f"{LIST} tbody tr").nth(total - 1).locator("td").first.inner_text()
    page.fill(".sr-dt-filter", who)
    shown = _visible_column(page, 0)
    assert [t for t, _ in shown] == [who]
    page.fill(".sr-dt-filter", "no such customer at all")
    assert page.locator(f"{LIST} tbody tr:visible").count() == 0
    assert "No row matches" in page.locator(".sr-dt-info").inner_text()

    # markup from the data is text in the table, and it did nothing
    page.fill(".sr-dt-filter", INJECTED)
    assert page.locator(f"{LIST} tbody tr:visible").count() >= 1
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    page.close()


def test_early_warning_list_without_scripts_is_the_whole_table(browser, rendered):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto((rendered / "2025-Q4/north/churn.html").as_uri())
    rows = page.locator(f"{LIST} tbody tr")
    assert rows.count() > 5
    assert page.locator(f"{LIST} tbody tr:visible").count() == rows.count()
    assert page.locator(".sr-dt-bar:visible").count() == 0  # no dead controls
    box = page.evaluate(
        f"""() => {{ const s = getComputedStyle(document.querySelector('{LIST}').parentElement);
            return [s.overflowY, s.maxHeight]; }}"""
    )
    assert box[0] == "auto" and box[1].endswith("px")
    context.close()


# every table fits its box or sits in one that scrolls sideways (overflow-x auto/scroll)
_CLIPPED_TABLES = """() => Array.from(document.querySelectorAll('table')).filter(table => {
    for (let el = table.parentElement; el && el !== document.body; el = el.parentElement) {
        const overflow = getComputedStyle(el).overflowX;
        if (overflow === 'auto' || overflow === 'scroll') return false;
        if (table.scrollWidth > el.clientWidth + 1) return true;
    }
    return table.getBoundingClientRect().right > document.documentElement.clientWidth + 1;
}).map(t => t.querySelector('th') ? t.querySelector('th').textContent : t.outerHTML.slice(0, 80))"""


def test_no_table_is_clipped_at_1280_px(browser, rendered, tmp_path):
    pages = sorted(rendered.glob("2025-Q4/north/*.html"))
    assert len(pages) >= 5
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    for path in pages:
        page = context.new_page()
        page.goto(path.as_uri())
        assert page.evaluate(_CLIPPED_TABLES) == [], path.name
        # the page itself never scrolls sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, path.name
        page.screenshot(path=str(tmp_path / f"{path.stem}.png"), full_page=True)
        page.close()
    # the check itself finds a wide table outside a scroll box
    page = context.new_page()
    page.set_content(
        '<div style="width:300px"><table><tr><th>wide</th>'
        '<td style="min-width:2000px">x</td></tr></table></div>'
        '<div style="width:300px;overflow-x:auto"><table><tr><th>boxed</th>'
        '<td style="min-width:2000px">x</td></tr></table></div>'
    )
    assert page.evaluate(_CLIPPED_TABLES) == ["wide"]
    context.close()
    assert all((tmp_path / f"{p.stem}.png").stat().st_size > 10_000 for p in pages)


def test_charts_say_their_takeaway_as_alt_text(browser, rendered):
    page, _, _ = _open(browser, rendered / "2025-Q4/north/overview.html")
    alts = page.eval_on_selector_all("figure.sr-fig img", "els => els.map(e => e.alt)")
    assert alts and all(alts)
    assert sum(alt not in ("Chart", "") for alt in alts) >= 1
    page.close()


def test_portal_fits_1280_px_and_shows_key_figures(browser, rendered):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto((rendered / "index.html").as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.evaluate(_CLIPPED_TABLES) == []
    card = page.locator(".pt-card").first.inner_text()
    assert "Active customers" in card or "Net revenue" in card
    context.close()

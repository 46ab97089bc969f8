"""The strategy summary's first screen holds the actions (issue #17): rendered by
``segreport run`` and opened in the Debian chromium at 1280 x 900 px, in English and
Chinese, the "What to do now" block is the first section and ends above 900 px."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]
#: The first screen of a laptop: 1280 px wide, about 900 px tall.
SCREEN = {"width": 1280, "height": 900}
UNIT = "retail"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from analysis.data.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("sample"), n_customers=1500, seed=3)


def _render(sample, folder, language: str):
    from analysis.config import load_params
    from analysis.report import runner

    params = load_params(
        overrides={
            "data_dir": str(sample),
            "output_dir": str(folder),
            "language": language,
            "quality": {"today": "2026-06-30"},
        }
    )
    _, results = runner.run(params, units=[UNIT], reports=["summary"], progress=False)
    assert runner.exit_code(results) == 0, [r.error for r in results]
    return folder / "2025-Q4" / UNIT / "summary.html"


_LAYOUT = """() => {
  const sections = [...document.querySelectorAll('h2.sr-h')];
  const actions = [...document.querySelectorAll('.sr-action')];
  return {
    first: sections.length ? sections[0].id : null,
    top: sections.length ? sections[0].getBoundingClientRect().top : null,
    bottoms: actions.map(e => e.getBoundingClientRect().bottom + window.scrollY),
    texts: actions.map(e => e.innerText),
    width: document.documentElement.scrollWidth,
  };
}"""


@pytest.mark.parametrize(
    ("language", "title", "who"),
    [("en", "What to do now", "Who:"), ("zh", "当前要做的事", "对象：")],
)
def test_the_first_screen_holds_the_actions(browser, sample, tmp_path, language, title, who):
    page_path = _render(sample, tmp_path / language, language)
    page = browser.new_page(viewport=SCREEN)
    page.goto(page_path.as_uri())
    page.wait_for_load_state("networkidle")
    layout = page.evaluate(_LAYOUT)
    shot = tmp_path / f"summary_first_screen_{language}.png"
    page.screenshot(path=str(shot))  # the first screen only, for a person to look at
    page.close()
    assert layout["first"] == "sec-actions"  # the first section of the page
    assert 1 <= len(layout["bottoms"]) <= 3
    assert max(layout["bottoms"]) <= SCREEN["height"], layout["bottoms"]
    assert layout["width"] <= SCREEN["width"]  # nothing runs off to the right
    for text in layout["texts"]:  # who, why and the export of every action are on screen
        assert who in text and ".csv" in text
    html = page_path.read_text(encoding="utf-8")
    assert f">{title}</h2>" in html
    assert html.index('id="sec-actions"') < html.index('id="sec-alerts"')
    # the KPI table with its definitions sits in the appendix, after the cards
    assert html.index('class="sr-kpis"') < html.index('id="sec-appendix"')

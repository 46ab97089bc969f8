"""Page lengths of rendered reports, as a manager scrolls them: the height in CSS pixels at
1280 px wide in the Debian chromium, and the number of 900 px screens.

    python scripts/page_lengths.py REPORTS_DIR [--label NAME] [--json OUT]

REPORTS_DIR is a ``segreport run`` output folder; every ``<period>/<unit>/<report>.html``
in it is measured (error pages and portals are skipped). With ``--json`` the figures are
merged into OUT under NAME, so a before and an after can sit side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

WIDTH, SCREEN = 1280, 900


def measure(folder: Path) -> dict[str, dict[str, int]]:
    """``{"<unit>/<report>": {"height": px, "screens": n}}`` for every report page."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    from analysis.report.browser import FLAGS, chromium_path  # noqa: PLC0415

    folder = folder.resolve()  # a file URI needs an absolute path
    pages = sorted(p for p in folder.glob("*/*/*.html") if not p.name.endswith(".error.html"))
    found: dict[str, dict[str, int]] = {}
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=chromium_path(), args=list(FLAGS))
        page = browser.new_page(viewport={"width": WIDTH, "height": SCREEN})
        for path in pages:
            page.goto(path.as_uri())
            height = int(page.evaluate("document.documentElement.scrollHeight"))
            found[f"{path.parent.name}/{path.stem}"] = {
                "height": height,
                "screens": -(-height // SCREEN),
            }
        browser.close()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path)
    parser.add_argument("--label", default="now")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    figures = measure(args.reports)
    for name, value in figures.items():
        print(f"{name:32s} {value['height']:7,d} px  {value['screens']:3d} screens")
    if args.json:
        merged = json.loads(args.json.read_text()) if args.json.is_file() else {}
        merged[args.label] = figures
        args.json.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

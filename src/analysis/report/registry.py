"""The reports segreport knows: every notebook in ``notebooks/`` whose metadata carries a
``segreport`` entry (``{"report": "value", "order": 20}``). A new report is a notebook plus
its title in the message catalogs (``report.<name>.title``); nothing else to register.
``"runs_after": true`` makes a report run after the unit's other reports, so it can read
their exports (the strategy summary does)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..config import project_root
from ..errors import ParamsError


@dataclass(frozen=True)
class ReportSpec:
    name: str  # file stem of the rendered HTML
    notebook: str  # path relative to the project root
    order: int  # position in the portal (the summary comes first)
    runs_after: bool = False  # executed after the unit's other reports (reads their exports)


@cache
def _discover(root: Path) -> tuple[ReportSpec, ...]:
    specs = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("segreport")
        if meta:
            specs.append(
                ReportSpec(
                    meta["report"],
                    path.relative_to(root).as_posix(),
                    int(meta.get("order", 100)),
                    bool(meta.get("runs_after", False)),
                )
            )
    return tuple(sorted(specs, key=lambda s: (s.order, s.name)))


def all_reports() -> tuple[ReportSpec, ...]:
    return _discover(project_root())


def get_reports(names: list[str] | None = None) -> list[ReportSpec]:
    """The reports to run, in portal order; ``None`` means all."""
    known = {r.name: r for r in all_reports()}
    if names is None:
        return list(known.values())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ParamsError(f"unknown report(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return sorted((known[n] for n in dict.fromkeys(names)), key=lambda r: r.order)

"""The reports segreport knows. A new report is one entry here plus its notebook in
``notebooks/`` and its title in the message catalogs (``report.<name>.title``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParamsError


@dataclass(frozen=True)
class ReportSpec:
    name: str  # file stem of the notebook and of the rendered HTML
    notebook: str  # path relative to the project root
    order: int  # position in the portal


REPORTS: tuple[ReportSpec, ...] = (ReportSpec("overview", "notebooks/overview.ipynb", 90),)


def get_reports(names: list[str] | None = None) -> list[ReportSpec]:
    """The reports to run, in portal order; ``None`` means all."""
    known = {r.name: r for r in REPORTS}
    if names is None:
        return sorted(REPORTS, key=lambda r: r.order)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ParamsError(f"unknown report(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return sorted((known[n] for n in dict.fromkeys(names)), key=lambda r: r.order)

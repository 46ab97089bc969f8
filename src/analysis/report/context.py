"""What a report notebook gets: parameters, period, the unit's clean data, and helpers.

A notebook's second cell is always::

    from analysis.report.context import open_report
    ctx = open_report(globals())

It works the same under ``segreport run`` (which prepared and cached the unit's data once
for all reports), under plain ``papermill -p period 2025-Q3 -p unit retail`` and in
JupyterLab with the defaults (both load the data themselves).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import display

from .. import display as ui
from .. import framememo
from ..config import notebook_params, resolve_path, scratch_dir, unit_slug
from ..data.load import TABLE_ORDER, Dataset, load_dataset
from ..data.quality import DataQualityReport
from ..errors import DataError
from ..figures import UnitFigures
from ..i18n import Translator
from ..memory import give_back
from ..period import Period
from ..pipelines.shared import SharedWork, enter_unit
from ..privacy import KEY_FILE, id_key, neutralise_formulas, pseudonymise, scrub_dataset

CACHE_META = "meta.json"


def choose_period(params: Mapping[str, Any], data_end: pd.Timestamp | None) -> Period:
    """The requested period, or the latest complete one in the data."""
    if params.get("period") is not None:
        return Period.parse(str(params["period"]))
    if data_end is None:
        raise DataError("there are no orders, so no period can be chosen; set --period.")
    return Period.latest_complete(data_end, params.get("period_type", "quarter"))


def write_cache(folder: Path, data: Dataset, meta: dict[str, Any]) -> None:
    """Save a unit's clean tables (Parquet), quality report and meta data for the notebooks."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = scrub_dataset(data)  # no PII in the cache: names masked in text, PII columns gone
    for name, frame in data.tables().items():
        if frame is not None:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    (folder / "quality.json").write_text(json.dumps(data.quality.to_dict(), default=str))
    (folder / CACHE_META).write_text(json.dumps(meta, default=str, indent=1))


def read_cache(folder: Path, *, keep: bool = True) -> tuple[Dataset, dict[str, Any]]:
    """A unit's clean tables as :func:`write_cache` saved them.

    ``keep`` holds the tables in this process's memo for the next report of the unit (a
    kernel); ``keep=False`` reads them without holding them (the runner's own process,
    which looks at every unit once and would otherwise keep the company-wide tables, 3 GB
    at a million customers, for the whole run).

    Raises
    ------
    DataError
        A cache file is missing or damaged (a truncated Parquet file): the message says to
        run again with ``--force`` (``segreport run`` itself rebuilds a damaged entry).
    """
    try:
        meta = json.loads((folder / CACHE_META).read_text())
        tables = _cached_tables(folder) if keep else _read_tables(folder)
        quality = DataQualityReport.from_dict(json.loads((folder / "quality.json").read_text()))
    except (OSError, ValueError) as exc:  # ArrowInvalid and JSONDecodeError are ValueErrors
        raise DataError(
            f"the cached clean input cannot be read ({exc}); run 'segreport run' again with "
            "--force to rebuild it.",
            file=str(folder),
        ) from None
    return Dataset(**tables, quality=quality, sources=meta.get("sources", {})), meta


#: The clean tables last read in this process (:func:`_cached_tables`): the reports of a
#: unit run one after another in one kernel and each would read the same files again
#: (0.3 s per report at 200,000 customers).
_TABLES: dict[tuple, dict[str, pd.DataFrame | None]] = {}


def _cached_tables(folder: Path) -> dict[str, pd.DataFrame | None]:
    """The unit's Parquet tables, read once per process while the files are unchanged.

    The memo is keyed by each file's path, size and modification time, and holds one unit.
    Every caller gets its own shallow copies: pandas copies on write, so a report that
    changes a table (adds a column, edits a value) changes only its copy, and the next
    report sees the files' content exactly as a fresh kernel would.
    """
    paths, stamps = _table_files(folder)
    key = (
        str(folder.resolve()),
        tuple((name, st.st_size, st.st_mtime_ns) for name, st in stamps.items()),
    )
    if key not in _TABLES:
        _TABLES.clear()
        _TABLES[key] = _read_tables(folder)
    return {
        name: None if frame is None else frame.copy(deep=False)
        for name, frame in _TABLES[key].items()
    }


def _table_files(folder: Path) -> tuple[dict[str, Path], dict[str, os.stat_result]]:
    paths = {name: folder / f"{name}.parquet" for name in TABLE_ORDER}
    return paths, {name: path.stat() for name, path in paths.items() if path.exists()}


def _read_tables(folder: Path) -> dict[str, pd.DataFrame | None]:
    paths, stamps = _table_files(folder)
    return {name: pd.read_parquet(path) if name in stamps else None for name, path in paths.items()}


@dataclass
class ReportContext:
    """Everything a report needs for one (period, unit)."""

    params: dict[str, Any]
    period: Period
    unit: str
    data: Dataset
    data_end: pd.Timestamp | None
    generated_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # the pipelines read the unit and period from the parameters: one source for both
        self.params = {**self.params, "unit": self.unit, "period": str(self.period)}

    @property
    def language(self) -> str:
        return self.params["language"]

    @property
    def _(self) -> Translator:
        return Translator(self.language)

    @property
    def previous(self) -> Period:
        return self.period.previous()

    @property
    def year_ago(self) -> Period:
        return self.period.year_ago()

    @property
    def unit_label(self) -> str:
        return self._("common.all_units") if self.unit == "all" else self.unit

    @property
    def output_dir(self) -> Path:
        """Where this report's files go: ``<output_dir>/<period>/<unit>/``."""
        return resolve_path(self.params["output_dir"]) / self.period.slug / unit_slug(self.unit)

    # ---- helpers for notebooks -----------------------------------------------------------
    def money(self, value: float | None) -> str:
        return ui.fmt_money(value, self.params["currency"], language=self.language)

    def number(self, value: float | None, decimals: int = 0) -> str:
        return ui.fmt_number(value, decimals=decimals, language=self.language)

    def show(self, *blocks) -> None:
        """Display blocks (HTML objects, figures) in order."""
        for block in blocks:
            if isinstance(block, list | tuple):
                self.show(*block)
            else:
                display(block)

    def heading(self, key: str, **values: object) -> None:
        """A section heading from a message key; its id (:func:`analysis.display.section_anchor`)
        comes from the key, so :meth:`link` finds it from any report, in any language."""
        display(ui.heading(self._(key, **values), anchor=ui.section_anchor(key)))

    def link(self, report: str, section: str | None = None, label: str | None = None) -> str:
        """HTML linking to another report of this unit and period (at the section a heading
        key names, e.g. ``"report_churn.drivers.title"``), labelled with the report's title
        unless ``label`` is given."""
        text = label if label is not None else self._(f"report.{report}.title")
        return ui.link(text, ui.report_href(report, section))

    def export_link(self, name: str, label: str | None = None) -> str:
        """HTML linking to one of this unit's exports (``exports/<name>``)."""
        return ui.link(label if label is not None else name, ui.export_href(name))

    def appendix(self, intro_key: str | None = None) -> None:
        """Start the report's appendix: diagnostics an analyst checks and a manager skips
        (model fit, parameters, indices). Everything shown after it, up to the figure
        definitions of :meth:`finish`, is folded into a closed ``<details>`` in the HTML."""
        intro = self._(intro_key) if intro_key else self._("common.appendix.intro")
        display(ui.appendix_heading(self._("common.appendix.title"), intro))

    def text(self, key: str, **values: object) -> None:
        display(ui.paragraph(self._(key, **values)))

    def takeaway(self, key: str, **values: object) -> None:
        display(ui.takeaway(self._(key, **values)))

    def note(self, key: str, kind: str = "info", **values: object) -> None:
        display(ui.note(self._(key, **values), kind))

    @property
    def in_run(self) -> bool:
        """Whether ``segreport run`` executes this notebook: the runner hands every notebook
        the unit's prepared input (``cache_dir``) and a staging folder for its exports
        (``export_dir``); JupyterLab and plain papermill give neither."""
        return bool(self.params.get("cache_dir"))

    def pseudonymise(self, ids: pd.Series) -> pd.Series:
        """Customer ids as shown in HTML: keyed hashes unless ``pseudonymise_ids`` is false.

        The key is ``$SEGREPORT_ID_KEY``, else the reports folder's key file (the runner
        creates it before notebooks start; outside a run it is only read), else, outside a
        run, a key file in the scratch folder: a notebook never creates files in a reports
        folder.
        """
        if not self.params.get("pseudonymise_ids", True):
            return ids
        folder = resolve_path(self.params["output_dir"])
        if not self.in_run and not (folder / KEY_FILE).is_file():
            folder = scratch_dir()
        return pseudonymise(ids, id_key(folder))

    def export_folder(self) -> Path:
        """Where this report's CSV exports go (the unit's ``figures.json`` sits beside it).

        ``export_dir`` when set: by ``segreport run`` (its staging folder, published
        atomically under the run's lock) or by an analyst on purpose. Otherwise, in
        JupyterLab and plain papermill, ``<scratch>/<period>/<unit>/exports/``
        (:func:`analysis.config.scratch_dir`, ``<project>/scratch`` by default): a notebook
        run by hand never overwrites a published report's exports.
        """
        if self.params.get("export_dir"):
            return resolve_path(self.params["export_dir"])
        return scratch_dir() / self.period.slug / unit_slug(self.unit) / "exports"

    def export(self, frame: pd.DataFrame, name: str) -> Path:
        """Write a CRM-ready CSV (real customer ids) to :meth:`export_folder` ``/ name``.

        Under ``segreport run`` that is ``exports/<name>`` beside the report's HTML; run by
        hand, the scratch folder (see :meth:`export_folder`). The file is written whole
        (temporary file, then rename) with a BOM, so Excel opens Chinese text right.
        """
        folder = self.export_folder()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        # a cell such as "=HYPERLINK(...)" from a comment or an id would run in Excel
        safe, _ = neutralise_formulas(frame)
        safe.to_csv(tmp, index=False, encoding="utf-8-sig")  # BOM: Excel opens Chinese right
        tmp.replace(path)
        return path

    @property
    def shared(self) -> SharedWork:
        """The unit's shared work (features, value snapshots), memoised for the run."""
        return SharedWork.from_params({**self.params, "unit": self.unit})

    def figures(self) -> UnitFigures:
        """The unit's business figures (:mod:`analysis.figures`), computed once per run and
        written to ``figures.json`` beside this report's exports folder."""
        from ..pipelines import figures as unit_figures  # noqa: PLC0415

        found = unit_figures.build(self.data, self.period, self.params, shared=self.shared)
        found.write(self.export_folder().parent / "figures.json")
        return found

    def customer_features(self, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """Point-in-time customer features of this unit as of ``as_of`` (default: the period
        end), computed once and shared by every report of the unit."""
        as_of = pd.Timestamp(as_of) if as_of is not None else self.period.end_exclusive
        return self.shared.customer_features(self.data, as_of, self.params)

    def value_snapshot(
        self,
        as_of: pd.Timestamp,
        *,
        thresholds: Any = None,
        predict_clv: bool = True,
    ) -> Any:
        """:meth:`analysis.pipelines.shared.SharedWork.value_snapshot` of this unit."""
        return self.shared.value_snapshot(
            self.data, as_of, self.params, thresholds=thresholds, predict_clv=predict_clv
        )

    def not_applicable(self, report: str) -> bool:
        """Whether ``report`` does not apply to this unit's data
        (:func:`analysis.pipelines.applicability.reason`); if so, shows the note the
        runner's page shows (why, and that nothing failed). ``segreport run`` does not
        execute such a notebook at all; under plain papermill or in JupyterLab every
        report notebook asks right after its setup, ``applies = not
        ctx.not_applicable("churn")``, and guards each later cell with ``if applies:``, so
        the page is all it shows (no error, papermill exits 0).

        Raises
        ------
        ParamsError
            The report applies but a parameter names data that is not there
            (:func:`analysis.pipelines.applicability.reason`)."""
        from ..pipelines.applicability import reason  # noqa: PLC0415
        from .render import not_applicable_blocks  # noqa: PLC0415

        found = reason(report, self.data, self.params)
        if found is not None:
            self.show(not_applicable_blocks(found.text(self.language), self.language))
        return found is not None

    def show_quality(self) -> None:
        self.show(ui.quality_section(self.data.quality, self.language))
        surveys = self.data.survey_responses
        anonymous = 0 if surveys is None else int(surveys["customer_id"].isna().sum())
        if anonymous:  # counted per unit here, not at load time (the load is company-wide)
            display(ui.paragraph(self._("quality.note.anonymous", n=f"{anonymous:,}"), "sr-small"))

    def show_definitions(self) -> UnitFigures:
        """The unit's figures with their values and definitions; every figure a report
        quotes links here (``#figure-<id>``). Also writes ``figures.json``."""
        from ..figures import FIGURE_IDS  # noqa: PLC0415

        figures = self.figures()
        display(
            ui.heading(
                self._("figures.title", unit=self.unit_label, period=str(self.period)),
                anchor="sec-definitions",
            )
        )
        rows = [
            (
                figure,
                figures.label(figure, self.language),
                figures.text(figure, self.language),
                figures.definition(figure, self.language),
            )
            for figure in FIGURE_IDS
        ]
        display(ui.figure_definitions(rows))
        return figures

    def finish(self) -> None:
        """Last cell: the unit's figures and their definitions, data quality, and any
        technical warnings the run produced."""
        self.show_definitions()
        self.show_quality()
        if self.warnings:
            display(ui.note(self._("common.technical_warnings", n=len(self.warnings)), "info"))


def _capture_warnings(sink: list[str]) -> None:
    """Route Python warnings into ``sink`` so none reach stderr (a pink box in the HTML);
    the report mentions how many there were and the executed notebook keeps the text."""

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
        sink.append(f"{category.__name__}: {message}")

    warnings.showwarning = show
    warnings.simplefilter("default")


def _enter_unit(cache: str) -> None:
    """A kernel moving on to another unit's reports drops what it kept of the last unit:
    the pipelines' memos, the last unit's tables, then the memo results of those tables and
    the cycles they were part of, before the new unit's tables are read; the freed pages go
    back to the system (:func:`analysis.memory.give_back`)."""
    if not enter_unit(cache):
        return
    _TABLES.clear()
    framememo.prune()
    give_back()


def open_report(namespace: Mapping[str, Any]) -> ReportContext:
    """Resolve parameters from a notebook's globals and load the unit's data.

    Uses the runner's cache (``cache_dir``) when given, so the heavy work is done once per
    (period, unit); otherwise loads and cleans the input itself.
    """
    params = notebook_params(namespace)
    sink: list[str] = []
    _capture_warnings(sink)
    from ..plots import set_theme  # noqa: PLC0415  (import matplotlib only for reports)

    set_theme(params["language"])
    pd.set_option("display.max_columns", 30)
    unit = params["unit"]
    cache = params.get("cache_dir")
    if cache and (Path(cache) / CACHE_META).is_file():
        _enter_unit(cache)
        data, meta = read_cache(Path(cache))
        data_end = pd.Timestamp(meta["data_end"]) if meta.get("data_end") else None
        period = choose_period(params, data_end)
    else:
        full = load_dataset(params)
        data_end = full.data_end
        period = choose_period(params, data_end)
        data = scrub_dataset(full.for_unit(unit))  # as the runner's cache holds it
        if unit != "all" and unit not in full.units:
            raise DataError(
                f"there are no orders of business unit '{unit}' "
                f"(units in the data: {', '.join(full.units)}).",
                column="business_unit",
            )
    params["period"] = str(period)
    return ReportContext(
        params=params, period=period, unit=unit, data=data, data_end=data_end, warnings=sink
    )

"""What an operator needs around a run: its summary, a notification, past runs, pruning,
stale staging folders, signals, and several periods in one run.

A run leaves a machine-readable summary (strict JSON, no NaN) in the output folder, as
``runs/<run id>.json`` and ``last_run.json``: the periods, units, every report with its
status, timings and files, the exit code and the error if the run stopped. A notification
command (``--notify CMD`` or the ``notify`` parameter) gets that summary on stdin and its
path in ``SEGREPORT_SUMMARY``; it is run without a shell (the command line is split like a
shell would, nothing in the data is ever interpreted) and a failing command is reported,
never changing the run's exit code.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..errors import AnalysisError, ParamsError, PeriodError
from ..period import Period

RUNS_DIR = "runs"
LAST_RUN = "last_run.json"
SUMMARY_ENV = "SEGREPORT_SUMMARY"
NOTIFY_TIMEOUT = 120.0
#: staging and retired unit folders (``.<unit>.staging-<pid>``, ``.<unit>.old-<pid>``) and
#: half-written cache entries (``.<key>.tmp-<pid>``)
_LEFTOVER = re.compile(r"^\..+\.(?:staging|old|tmp)-(\d+)$")


class OutputError(AnalysisError):
    """The output folder cannot be written (read-only, full disk): exit code 2."""


class Interrupted(AnalysisError):
    """The run was stopped by a signal (SIGTERM, SIGINT)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        name = signal.Signals(signum).name
        super().__init__(
            f"the run was stopped ({name}); its unfinished work was removed and the reports "
            "published before stay as they were."
        )


# ---- strict JSON ------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """``value`` with only what strict JSON holds: NaN and infinities become ``null``,
    NumPy scalars Python numbers, dates and paths text."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if hasattr(value, "item") and not isinstance(value, int | float):  # NumPy scalar
        with contextlib.suppress(Exception):
            value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if isinstance(value, datetime | date):
        return None if value != value else value.isoformat()  # noqa: PLR0124  (NaT)
    try:  # pandas NA / NaT
        import pandas as pd  # noqa: PLC0415

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def strict_json(value: Any, **kwargs: Any) -> str:
    """JSON that any parser reads: :func:`plain` values, ``allow_nan=False``."""
    return json.dumps(plain(value), allow_nan=False, ensure_ascii=False, **kwargs)


def now_iso() -> str:
    return datetime.now().astimezone().replace(microsecond=0).isoformat()


# ---- periods ----------------------------------------------------------------------------------
def expand_periods(values: list[str] | tuple[str, ...] | None) -> list[str]:
    """The periods of ``--period`` values, in order, each once.

    A value is one period (``2025-Q3``, ``2025-09``, ``2025``, ``2025-07-01..2025-09-30``)
    or a range of quarters, months or years, ``2025-Q1..2025-Q4``: every period from the
    first to the last. Both ends of a range are of one kind.

    Raises
    ------
    PeriodError
        A value that is neither, or a range that ends before it starts.
    """
    out: list[str] = []
    for raw in values or []:
        text = str(raw).strip()
        first, sep, last = text.partition("..")
        if sep:
            try:
                a, b = Period.parse(first), Period.parse(last)
            except PeriodError:
                a = b = None
            if a is not None and b is not None and a.kind != "range":
                if a.kind != b.kind:
                    raise PeriodError(
                        f"period range {text!r} mixes a {a.kind} and a {b.kind}; give both "
                        "ends as quarters (2025-Q1..2025-Q4), months (2025-01..2025-06) or years"
                    )
                if b.start < a.start:
                    raise PeriodError(f"period range {text!r} ends before it starts")
                step = a
                while step.start <= b.start:
                    out.append(str(step))
                    step = step.shift(1)
                continue
        out.append(str(Period.parse(text)))
    return list(dict.fromkeys(out))


# ---- the summary ------------------------------------------------------------------------------
@dataclass
class RunSummary:
    """What a run did, for machines: written as strict JSON (see :meth:`to_dict`)."""

    output: Path
    data_dir: Path | None = None
    started_at: str = field(default_factory=now_iso)
    run_id: str = field(
        default_factory=lambda: f"{datetime.now().strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
    )
    periods: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    skipped_units: dict[str, dict[str, str]] = field(default_factory=dict)
    cache_keys: list[str] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    finished_at: str | None = None
    notify: dict[str, Any] | None = None
    seconds: float | None = None
    _clock: float = field(default_factory=time.monotonic)

    def add_plan(self, plan: Any) -> None:
        period = str(plan.period)
        if period not in self.periods:
            self.periods.append(period)
        for unit in plan.units:
            if unit not in self.units:
                self.units.append(unit)
        for unit, reason in plan.skipped_units.items():
            self.skipped_units.setdefault(period, {})[unit] = reason
        if plan.prepared.key not in self.cache_keys:
            self.cache_keys.append(plan.prepared.key)

    def add_results(self, results: list[Any]) -> None:
        for r in results:
            self.reports.append(
                {
                    "period": r.period,
                    "unit": r.unit,
                    "report": r.report,
                    "status": r.status,
                    "seconds": round(r.seconds, 3),
                    "timings": {k: round(v, 3) for k, v in r.timings.items()},
                    "started_at": getattr(r, "started_at", None),
                    "finished_at": getattr(r, "finished_at", None),
                    "html": r.html,
                    "pdf": r.pdf,
                    "exports": list(r.exports),
                    "error": r.error,
                    "pdf_error": r.pdf_error,
                    "reason": r.reason,
                }
            )

    def finish(self, exit_code: int, error: str | None = None) -> None:
        self.exit_code = exit_code
        self.error = error
        self.finished_at = now_iso()
        self.seconds = round(time.monotonic() - self._clock, 3)

    @property
    def path(self) -> Path:
        return self.output / RUNS_DIR / f"{self.run_id}.json"

    def to_dict(self) -> dict[str, Any]:
        counts = {s: 0 for s in ("ok", "not_applicable", "failed", "skipped")}
        for entry in self.reports:
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
        if self.exit_code is None:
            state = "running"
        elif self.exit_code == 0:
            state = "ok"
        elif self.exit_code == 1:
            state = "failed"
        else:
            state = "error"
        return {
            "schema": 1,
            "run_id": self.run_id,
            "status": state,
            "exit_code": self.exit_code,
            "error": self.error,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds": self.seconds,
            "periods": self.periods,
            "units": self.units,
            "skipped_units": self.skipped_units,
            "counts": counts,
            "reports": self.reports,
            "output": str(self.output),
            "data_dir": str(self.data_dir) if self.data_dir else None,
            "portal": str(self.output / "index.html"),
            "summary": str(self.path),
            "cache_keys": self.cache_keys,
            "warnings": self.warnings,
            "notify": self.notify,
        }

    def text(self) -> str:
        return strict_json(self.to_dict(), indent=1)

    def write(self) -> Path | None:
        """Write ``runs/<run id>.json`` and ``last_run.json`` (0600); on a folder that cannot
        be written, a warning in the summary instead (never raises)."""
        try:
            folder = self.output / RUNS_DIR
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            text = self.text()
            for path in (self.path, self.output / LAST_RUN):
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                os.replace(tmp, path)
        except OSError as exc:
            self.warnings.append(f"the run summary could not be written to {self.output}: {exc}")
            return None
        return self.path


# ---- notification -----------------------------------------------------------------------------
def notify(command: str | list[str] | None, summary: RunSummary) -> dict[str, Any] | None:
    """Run the notification command with the summary JSON on stdin and its path in
    ``SEGREPORT_SUMMARY`` (plus ``SEGREPORT_EXIT_CODE`` and ``SEGREPORT_STATUS``).

    The command is split into words (:func:`shlex.split`) and run without a shell, so no
    text of the data or the summary is ever interpreted. Never raises: the outcome is
    returned (and recorded in the summary), a failure does not change the run's exit code.
    """
    if not command:
        return None
    try:
        argv = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    except ValueError as exc:
        outcome = {"command": str(command), "ok": False, "error": f"cannot read command: {exc}"}
        summary.notify = outcome
        return outcome
    if not argv:
        return None
    data = summary.to_dict()
    env = {
        **os.environ,
        SUMMARY_ENV: str(summary.path) if summary.path.is_file() else "",
        "SEGREPORT_EXIT_CODE": str(summary.exit_code),
        "SEGREPORT_STATUS": data["status"],
    }
    outcome: dict[str, Any] = {"command": shlex.join(argv), "ok": False}
    try:
        done = subprocess.run(  # noqa: S603  (argv list, no shell)
            argv,
            input=strict_json(data, indent=1),
            text=True,
            env=env,
            capture_output=True,
            timeout=NOTIFY_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        outcome["error"] = str(exc)
    else:
        outcome["exit_code"] = done.returncode
        outcome["ok"] = done.returncode == 0
        if done.returncode != 0:
            tail = (done.stderr or done.stdout or "").strip().splitlines()[-3:]
            outcome["error"] = f"exit code {done.returncode}" + (
                f": {' '.join(tail)[:300]}" if tail else ""
            )
    summary.notify = outcome
    return outcome


# ---- past runs --------------------------------------------------------------------------------
def list_runs(output: Path) -> list[dict[str, Any]]:
    """The summaries under ``<output>/runs/``, oldest first (unreadable ones are left out)."""
    runs = []
    for path in sorted((Path(output) / RUNS_DIR).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "run_id" in data:
            runs.append(data)
    return sorted(runs, key=lambda r: (r.get("started_at") or "", r["run_id"]))


# ---- leftovers --------------------------------------------------------------------------------
def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def leftovers(output: Path) -> list[Path]:
    """Staging and retired unit folders and half-written cache entries under ``output``."""
    output = Path(output)
    found: list[Path] = []
    for parent in [*(p for p in output.iterdir() if p.is_dir()), output / ".cache"]:
        if not parent.is_dir():
            continue
        with contextlib.suppress(OSError):
            found += [p for p in parent.iterdir() if _LEFTOVER.match(p.name)]
    return sorted(found)


def remove_stale(output: Path, *, locked: bool = False) -> list[Path]:
    """Remove what interrupted runs left (staging folders hold real customer ids).

    With ``locked`` (the caller holds the output's :class:`~analysis.report.runner.RunLock`,
    so no other run is writing), every leftover of another process is stale; otherwise only
    those of processes that are gone."""
    output = Path(output)
    if not output.is_dir():
        return []
    removed = []
    for path in leftovers(output):
        pid = int(_LEFTOVER.match(path.name)[1])
        if pid == os.getpid() or (not locked and pid_alive(pid)):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
        if not path.exists():
            removed.append(path)
    return removed


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM (and SIGINT) into :class:`Interrupted`, so ``finally`` blocks remove
    staging folders before the process ends (the default SIGTERM ends it on the spot)."""

    def handler(signum: int, frame: Any) -> None:  # noqa: ARG001
        # once: a second signal while cleaning up must not interrupt the clean-up
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum)

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread: signals cannot be caught here
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# ---- pruning ----------------------------------------------------------------------------------
def _period_of(folder: Path) -> Period | None:
    if folder.name.startswith(".") or not folder.is_dir():
        return None
    try:
        return Period.parse(folder.name.replace("_", ".."))
    except PeriodError:
        return None


def prune(
    output: Path,
    *,
    keep: int,
    current: list[str] | tuple[str, ...] = (),
    current_keys: list[str] | tuple[str, ...] = (),
    dry_run: bool = False,
) -> list[Path]:
    """Remove the report folders of old periods and cache entries nobody uses.

    The ``keep`` newest periods (by their dates) stay, and so do ``current`` (the periods of
    the last run) whatever their age. A cache entry stays when the last run or a kept
    period's manifest used it, or it is one of ``current_keys``; everything else under
    ``.cache`` goes, with the leftovers of interrupted runs. Returns what was (with
    ``dry_run``: would be) removed.
    """
    if keep < 1:
        raise ParamsError(f"--keep must be at least 1, got {keep}")
    output = Path(output)
    if not output.is_dir():
        return []
    last = {}
    with contextlib.suppress(OSError, ValueError):
        last = json.loads((output / LAST_RUN).read_text(encoding="utf-8"))
    current_set = {str(Period.parse(p)) for p in current} | set(last.get("periods") or [])
    folders = sorted(
        ((p, f) for f in output.iterdir() if (p := _period_of(f)) is not None),
        key=lambda item: (item[0].end, item[0].start),
        reverse=True,
    )
    kept = {f for _, f in folders[:keep]} | {f for p, f in folders if str(p) in current_set}
    doomed = [f for _, f in folders if f not in kept]
    used = set(current_keys) | set(last.get("cache_keys") or [])
    for folder in kept:
        for path in folder.glob("*/manifest.json"):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                used.add(json.loads(path.read_text(encoding="utf-8"))["cache"]["key"])
    cache = output / ".cache"
    if cache.is_dir():
        doomed += sorted(p for p in cache.iterdir() if p.is_dir() and p.name not in used)
    doomed += [p for p in leftovers(output) if p not in doomed and not p.is_relative_to(cache)]
    if not dry_run:
        for path in doomed:
            shutil.rmtree(path, ignore_errors=True)
    return doomed

"""Run the benchmarks listed in ``benchmarks/README.md`` and record the run (``make bench``).

The scripts are the ones in the README's table of scripts (``| `bench_rfm.py` | ... |``),
in its order, so the README stays the one list. They run one after another, never side by
side (each measures time, and two would measure each other), each in its own process with
this Python and ``src`` on ``PYTHONPATH``. Every script writes its own results to
``benchmarks/results/<name>.json``; this script records the run itself in
``benchmarks/results/run_all.json``: per script the command, exit code, wall time, the load
average after it, and which result files it rewrote. A failing script does not stop the
others; the exit code is 1 when any failed.

Usage::

    python benchmarks/run_all.py                      # every script, with its defaults
    python benchmarks/run_all.py --list               # the scripts the README lists
    python benchmarks/run_all.py --only bench_rfm bench_churn
    python benchmarks/run_all.py --dry-run            # print the commands only
    python benchmarks/run_all.py --only bench_churn -- --quick   # arguments for the scripts
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: A row of the README's script table: ``| `name.py` | what it times |``.
_ROW = re.compile(r"^\|\s*`([A-Za-z0-9_]+\.py)`\s*\|", re.M)


def listed_scripts(folder: Path = HERE) -> list[str]:
    """The scripts the README's table lists, in its order (without this one)."""
    text = (folder / "README.md").read_text(encoding="utf-8")
    names = [n for n in dict.fromkeys(_ROW.findall(text)) if n != Path(__file__).name]
    if not names:
        raise SystemExit(f"run_all: {folder / 'README.md'} lists no benchmark script")
    return names


def _result_files(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (folder / "results").glob("*.json")}


def run(
    names: list[str],
    *,
    folder: Path = HERE,
    extra: list[str] | None = None,
    dry_run: bool = False,
) -> tuple[int, dict]:
    """Run ``names`` (script file names) from ``folder``; return the exit code and the record."""
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise SystemExit(f"run_all: listed in the README but missing: {', '.join(missing)}")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
    }
    record: dict = {
        "started": datetime.now().replace(microsecond=0).isoformat(),
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "scripts": {},
    }
    failed = 0
    for name in names:
        command = [sys.executable, str(folder / name), *(extra or [])]
        shown = " ".join([Path(command[0]).name, f"benchmarks/{name}", *(extra or [])])
        print(f"run_all: {shown}", flush=True)
        if dry_run:
            continue
        before = _result_files(folder)
        start = time.perf_counter()
        code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        seconds = time.perf_counter() - start
        after = _result_files(folder)
        failed += code != 0
        record["scripts"][name] = {
            "command": shown,
            "exit_code": code,
            "seconds": round(seconds, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "results_written": sorted(n for n, t in after.items() if before.get(n) != t),
        }
        print(f"run_all: {name} {'ok' if code == 0 else f'failed ({code})'} in {seconds:.1f} s")
    if not dry_run:
        record["finished"] = datetime.now().replace(microsecond=0).isoformat()
        out = folder / "results" / "run_all.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(f"run_all: {len(names) - failed} ok, {failed} failed; recorded in {out}")
    return (1 if failed else 0), record


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="scripts to run (bench_rfm or bench_rfm.py)"
    )
    parser.add_argument("--list", action="store_true", help="list the scripts and exit")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    args = parser.parse_args(argv)
    names = listed_scripts()
    if args.list:
        for name in names:
            print(f"{name}{'' if (HERE / name).is_file() else '  (missing)'}")
        return 0
    if args.only:
        wanted = [n if n.endswith(".py") else f"{n}.py" for n in args.only]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            parser.error(
                f"not in benchmarks/README.md: {', '.join(unknown)} (known: {', '.join(names)})"
            )
        names = [n for n in names if n in wanted]
    code, _ = run(names, extra=extra, dry_run=args.dry_run)
    return code


if __name__ == "__main__":
    sys.exit(main())

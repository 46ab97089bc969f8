"""Profile a whole pack run: every kernel under cProfile, the profiles summed.

Usage: python benchmarks/profile_pack.py [--data-dir DIR] [--jobs 2] [--lines 40]
       [--sort tottime] [--filter src/analysis] [--save FILE] [-- extra run options]

Runs ``segreport run --formats html`` on ``--data-dir`` (default: the bundled sample) into a
temporary folder with :data:`analysis.report.runner.PROFILE_ENV` set, so each kernel writes
its profile when it ends, then prints the summed top functions (optionally only those whose
file matches ``--filter``). Profiling slows Python-heavy code more than compiled code, so
read the shares, not the seconds; ``bench_scale.py`` gives the honest times.
"""

from __future__ import annotations

import argparse
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from analysis.report.runner import PROFILE_ENV  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / "data" / "sample"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--filter", default=None, help="only functions whose path matches this")
    parser.add_argument("--save", type=Path, help="also keep the summed profile here")
    parser.add_argument("extra", nargs="*", help="more options for segreport run (after --)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="segreport-profile-"))
    profiles = work / "profiles"
    profiles.mkdir()
    command = [sys.executable, "-m", "analysis.cli", "run", "--data-dir", args.data_dir]
    command += ["--output", str(work / "reports"), "--jobs", str(args.jobs)]
    command += ["--formats", "html", "--no-progress", *args.extra]
    env = {**os.environ, PROFILE_ENV: str(profiles), "PYTHONPATH": str(ROOT / "src")}
    try:
        subprocess.run(command, check=True, env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL)
        files = sorted(str(p) for p in profiles.glob("kernel-*.pstats"))
        if not files:
            raise SystemExit("no kernel wrote a profile")
        stats = pstats.Stats(*files)
        print(f"{len(files)} kernel profile(s) summed")
        stats.sort_stats(args.sort)
        restrictions = [args.filter] if args.filter else []
        stats.print_stats(*restrictions, args.lines)
        if args.save:
            stats.dump_stats(args.save)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

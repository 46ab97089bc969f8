#!/usr/bin/env python3
"""Install what keeps the report notebooks clean (run by ``make setup``; idempotent).

* git: the clean filter ``nbstrip`` (``scripts/strip_notebook.py``) that ``.gitattributes``
  names for ``notebooks/*.ipynb``, so git stores them without outputs;
* Jupyter: ``<venv>/etc/jupyter/jupyter_server_config.py`` loading
  ``jupyter/jupyter_server_config.py``, so every Jupyter server started from the venv saves
  ``notebooks/*.ipynb`` without outputs;
* the venv's ``python3`` kernel is shown as "Python 3 (segreport)", the name the notebooks'
  metadata carries, so saving a notebook in JupyterLab leaves its kernelspec as it is. The
  kernel command is untouched: it runs the Python of the Jupyter server, the venv's.

Usage: ``python scripts/install_notebook_hooks.py [--venv .venv] [--repo .]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNEL_DISPLAY_NAME = "Python 3 (segreport)"
STUB_HEADER = "# Written by make setup (scripts/install_notebook_hooks.py): the project's settings."


def install_git_filter(repo: Path, python: str) -> bool:
    """Configure the ``nbstrip`` filter in ``repo``; False when it is not a git checkout."""
    inside = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    if inside.returncode != 0:
        return False
    settings = {
        # git runs filters from the top of the work tree, so relative paths hold
        "filter.nbstrip.clean": f"{python} scripts/strip_notebook.py",
        "filter.nbstrip.smudge": "cat",
        # a filter that cannot run stops `git add` instead of storing outputs
        "filter.nbstrip.required": "true",
    }
    for key, value in settings.items():
        subprocess.run(["git", "-C", str(repo), "config", key, value], check=True)
    return True


def install_jupyter_config(venv: Path, project: Path) -> Path:
    """Point the venv's Jupyter server config at ``jupyter/jupyter_server_config.py``."""
    target = venv / "etc" / "jupyter" / "jupyter_server_config.py"
    target.parent.mkdir(parents=True, exist_ok=True)
    config = (project / "jupyter" / "jupyter_server_config.py").resolve()
    target.write_text(f"{STUB_HEADER}\nload_subconfig({str(config)!r})\n", encoding="utf-8")
    return target


def name_the_kernel(venv: Path) -> Path | None:
    """Give the venv's ``python3`` kernelspec the display name the notebooks carry."""
    spec = venv / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    if not spec.is_file():
        return None
    kernel = json.loads(spec.read_text(encoding="utf-8"))
    if kernel.get("display_name") != KERNEL_DISPLAY_NAME:
        kernel["display_name"] = KERNEL_DISPLAY_NAME
        spec.write_text(json.dumps(kernel, indent=1) + "\n", encoding="utf-8")
    return spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv")
    parser.add_argument("--repo", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    python = f"{args.venv.name}/bin/python" if args.venv.parent == args.repo else sys.executable
    if not install_git_filter(args.repo, python):
        print("segreport: not a git checkout; the notebook output filter is not installed")
    install_jupyter_config(args.venv, args.repo)
    name_the_kernel(args.venv)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Keep report notebooks free of outputs: a git clean filter, a Jupyter pre-save hook, a check.

The notebooks in ``notebooks/`` are committed without outputs (an executed copy lives in
``reports/<period>/<unit>/executed/``). ``make setup`` installs this script twice:

* as the git clean filter ``nbstrip`` (``.gitattributes``: ``notebooks/*.ipynb
  filter=nbstrip``), so what git stores is stripped even when the file on disk has outputs;
* as a pre-save hook of the Jupyter server (``jupyter/jupyter_server_config.py``), so a
  notebook under ``notebooks/`` that an analyst saves in JupyterLab is written stripped.

Stripping empties every code cell's ``outputs`` and ``execution_count``, drops the
metadata that running or viewing a notebook adds (execution timings, collapsed/scrolled
state, papermill's records) and reduces ``language_info`` to the language name. Everything
else (sources, cell ids and tags, the ``segreport`` entry, the kernelspec) is kept, in its
order, so a notebook that is already clean comes out byte for byte as it went in.

Standard library only, so git can run it before anything is installed::

    python scripts/strip_notebook.py < in.ipynb > out.ipynb   # filter: stdin to stdout
    python scripts/strip_notebook.py notebooks/*.ipynb         # strip files in place
    python scripts/strip_notebook.py --check notebooks/*.ipynb # exit 1 if one has outputs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: Cell metadata written by running or viewing a notebook (JupyterLab, the classic
#: Notebook's ExecuteTime extension, papermill), never by its author.
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime", "papermill")
#: Notebook metadata of the same kind.
VOLATILE_NOTEBOOK_METADATA = ("papermill", "widgets")
#: The folder whose notebooks the pre-save hook strips: this project's ``notebooks/``.
NOTEBOOK_FOLDER = Path(__file__).resolve().parent.parent / "notebooks"


def strip(nb: dict[str, Any]) -> dict[str, Any]:
    """Strip a notebook (a parsed ``.ipynb`` mapping) in place and return it."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        meta = cell.get("metadata")
        if isinstance(meta, dict):
            for key in VOLATILE_CELL_METADATA:
                meta.pop(key, None)
    meta = nb.get("metadata")
    if isinstance(meta, dict):
        for key in VOLATILE_NOTEBOOK_METADATA:
            meta.pop(key, None)
        info = meta.get("language_info")
        if isinstance(info, dict) and "name" in info:
            meta["language_info"] = {"name": info["name"]}
    return nb


def has_outputs(nb: dict[str, Any]) -> bool:
    """Whether a notebook has anything :func:`strip` would remove."""
    before = json.dumps(nb, sort_keys=True)
    return json.dumps(strip(json.loads(before)), sort_keys=True) != before


def dumps(nb: dict[str, Any]) -> str:
    """The notebook as nbformat writes it (one-space indent, UTF-8 text, final newline);
    keys keep their order, so an unchanged notebook keeps its bytes."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def strip_text(text: str) -> str:
    """A notebook's text, stripped. Text that is not a notebook (a merge in progress) is
    returned unchanged: a filter must not lose what it cannot read."""
    try:
        nb = json.loads(text)
    except ValueError:
        print("strip_notebook: not valid JSON, left unchanged", file=sys.stderr)
        return text
    if not isinstance(nb, dict) or "cells" not in nb:
        return text
    return dumps(strip(nb))


def pre_save_hook(
    model: dict[str, Any], path: str, contents_manager: Any = None, **kwargs: Any
) -> None:
    """Jupyter server pre-save hook: strip the report notebooks (``notebooks/*.ipynb``).

    ``path`` is relative to the server's root (``contents_manager.root_dir``; ``make lab``
    serves the project root). Notebooks anywhere else (scratch work) keep their outputs.
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    root = Path(getattr(contents_manager, "root_dir", None) or ".")
    target = (root / path.lstrip("/")).resolve()
    if target.parent == NOTEBOOK_FOLDER:
        strip(model["content"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="notebooks (none: stdin to stdout)")
    parser.add_argument("--check", action="store_true", help="only report notebooks with outputs")
    args = parser.parse_args(argv)
    if not args.files:
        text = sys.stdin.buffer.read().decode("utf-8")
        sys.stdout.buffer.write(strip_text(text).encode("utf-8"))
        return 0
    dirty = []
    for path in args.files:
        text = path.read_text(encoding="utf-8")
        clean = strip_text(text)
        if clean != text:
            dirty.append(path)
            if not args.check:
                path.write_text(clean, encoding="utf-8")
    for path in dirty:
        print(f"{'has outputs' if args.check else 'stripped'}: {path}")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    sys.exit(main())

"""Jupyter server settings for this project, loaded by every server started from .venv.

``make setup`` points ``.venv/etc/jupyter/jupyter_server_config.py`` at this file, so
``make lab`` (and a plain ``.venv/bin/jupyter lab``) save the report notebooks in
``notebooks/`` without outputs: what an analyst saves stays as clean as what is committed
(``scripts/strip_notebook.py``, which is also the git clean filter). Notebooks elsewhere,
scratch work included, keep their outputs.
"""

import importlib.util
from pathlib import Path

_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "strip_notebook.py"
_spec = importlib.util.spec_from_file_location("segreport_strip_notebook", _SCRIPT)
_strip = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_strip)

c = get_config()  # noqa: F821  (provided by the Jupyter config loader)
c.ContentsManager.pre_save_hook = _strip.pre_save_hook

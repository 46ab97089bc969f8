"""Running and rendering reports: registry (which reports exist), context (what a notebook
gets), runner (plan, papermill, status), render (HTML through our template) and portal."""

import sys

# nbformat validates notebooks with jsonschema, which imports the optional package
# rfc3987_syntax when it is installed (jupyterlab's jupyter-events pulls it in). That import
# compiles a grammar and takes about 1.8 s in every process that loads nbformat: the CLI and
# each worker. Notebook validation never checks IRI formats, so unless something has loaded
# it already, the package is treated as absent here.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

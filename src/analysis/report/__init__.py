"""Running and rendering reports: registry (which reports exist), context (what a notebook
gets), runner (plan, papermill, status), render (HTML through our template) and portal."""

"""segreport: customer classification and segmentation reports from CRM exports.

The package is imported as ``analysis`` (``from analysis import value``); the console
command is ``segreport``. Importing it has no side effects.
"""

__version__ = "0.1.0"

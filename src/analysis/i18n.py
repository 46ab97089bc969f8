"""Message catalogs: every piece of report text comes from here.

Catalogs live in ``analysis/messages/<language>/*.yaml``; each file is a flat mapping of
dotted keys to strings (``value.segment.champions: Champions``). Files are merged per
language, so each module owns its own file and nobody edits a shared one. A key defined
twice in one language is an error, and ``tests/test_i18n.py`` fails when a key exists in
one language but not the other.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from .config import parse_yaml
from .errors import ParamsError

LANGUAGES = ("en", "zh")
_ROOT = Path(__file__).parent / "messages"


@cache
def catalog(language: str) -> dict[str, str]:
    """Return the merged catalog of one language (read once, then cached)."""
    if language not in LANGUAGES:
        raise ParamsError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    merged: dict[str, str] = {}
    for path in sorted((_ROOT / language).glob("*.yaml")):
        entries = parse_yaml(path.read_text(encoding="utf-8")) or {}
        for key, text in entries.items():
            if key in merged:
                raise ParamsError(f"message key {key!r} is defined twice ({path.name})")
            merged[str(key)] = str(text)
    return merged


def t(key: str, language: str = "en", /, **values: object) -> str:
    """Translate ``key`` into ``language`` and fill ``{placeholders}`` from ``values``.

    Examples
    --------
    >>> t("common.customers", "en")
    'Customers'
    """
    try:
        text = catalog(language)[key]
    except KeyError:
        raise KeyError(f"no message {key!r} in the {language!r} catalog") from None
    return text.format(**values) if values else text


class Translator:
    """A ``t`` bound to one language, handy in notebooks: ``_ = Translator('zh')``."""

    def __init__(self, language: str = "en") -> None:
        catalog(language)
        self.language = language

    def __call__(self, key: str, /, **values: object) -> str:
        return t(key, self.language, **values)


def in_sentence(label: str, language: str = "en") -> str:
    """A label as it reads inside a sentence: in English, "New customers" becomes "new
    customers"; acronyms ("NPS", "CSAT (top-2-box)") and other languages are unchanged."""
    if language == "en" and len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label

"""Message catalogs: every piece of report text comes from here.

Catalogs live in ``analysis/messages/<language>/*.yaml``; each file is a flat mapping of
dotted keys to strings (``value.segment.champions: Champions``). Files are merged per
language, so each module owns its own file and nobody edits a shared one. A key defined
twice in one language is an error, and ``tests/test_i18n.py`` fails when a key exists in
one language but not the other.
"""

from __future__ import annotations

import re
import string
from functools import cache
from pathlib import Path

from .config import parse_yaml
from .errors import ParamsError

LANGUAGES = ("en", "zh")
_ROOT = Path(__file__).parent / "messages"
#: Files in a language folder that are not messages (the Chinese glossary).
NOT_MESSAGES = ("glossary.yaml",)


@cache
def catalog(language: str) -> dict[str, str]:
    """Return the merged catalog of one language (read once, then cached)."""
    if language not in LANGUAGES:
        raise ParamsError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    merged: dict[str, str] = {}
    for path in sorted((_ROOT / language).glob("*.yaml")):
        if path.name in NOT_MESSAGES:
            continue
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
    if language == "zh":
        return format_cjk(text, **values)
    text = plural_forms(text, values)
    return text.format(**values) if values else text


#: ``{n|customer|customers}``: the first form when the value ``n`` is 1, else the second.
_PLURAL = re.compile(r"\{(\w+)\|([^{}|]*)\|([^{}|]*)\}")


def plural_forms(template: str, values: dict[str, object]) -> str:
    """Choose the singular or plural form of each ``{name|one|other}`` in an English
    message from the count ``values[name]`` (a number, or a formatted number such as
    ``"1,234"``), so that counts agree with their nouns: ``"{n} {n|customer|customers}"``
    reads "1 customer", "2 customers". Chinese has no plural and does not use it.

    Examples
    --------
    >>> plural_forms("{n} {n|detractor is|detractors are} waiting", {"n": 1})
    '{n} detractor is waiting'
    """

    def choose(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        try:
            one = float(str(value).replace(",", "").strip()) == 1
        except ValueError:
            one = False
        return match.group(2) if one else match.group(3)

    return _PLURAL.sub(choose, template) if "|" in template else template


#: Characters of Chinese text: CJK punctuation, ideographs, full-width forms, and the curly
#: quotes Chinese text puts around terms.
CJK_CHARS = (
    "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2018\u2019\u201c\u201d"
)
#: A space between two CJK characters: never right in Chinese text.
CJK_SPACE = re.compile(f"(?<=[{CJK_CHARS}])[ \u00a0]+(?=[{CJK_CHARS}])")
_OPEN, _CLOSE = "\x02", "\x03"  # mark where a filled-in value starts and ends


class _MarkingFormatter(string.Formatter):
    def format_field(self, value: object, format_spec: str) -> str:
        return _OPEN + super().format_field(value, format_spec) + _CLOSE


_MARKER = _MarkingFormatter()
_AROUND_VALUE = re.compile(
    f"(?<=[{CJK_CHARS}]){_CLOSE}[ ]+(?={_OPEN}?[{CJK_CHARS}])"
    f"|(?<=[{CJK_CHARS}])[ ]+(?={_OPEN}[{CJK_CHARS}])"
)
_VALUE = re.compile(f"{_OPEN}(.*?){_CLOSE}", re.S)


def format_cjk(template: str, /, **values: object) -> str:
    """Fill a Chinese message: like ``template.format(**values)``, but without a space
    between two CJK characters where the message meets a filled-in value
    (``"{kpi} 改善最多"`` with 新客户 reads "新客户改善最多"; with NPS, "NPS 改善最多") or
    inside the message's own text. Spaces inside a value (a customer's comment, a category
    name) are the data's and stay.

    Examples
    --------
    >>> format_cjk("{kpi} 改善最多（{change}）", kpi="新客户", change="+3")
    '新客户改善最多（+3）'
    >>> format_cjk("{kpi} 改善最多", kpi="NPS")
    'NPS 改善最多'
    """
    if not values:  # a template returned for the caller to fill (as ``t`` without values)
        return CJK_SPACE.sub("", template)
    marked = _MARKER.vformat(template, (), values)
    pieces = _VALUE.split(marked)  # even: the message's text, odd: values
    for i in range(0, len(pieces), 2):
        pieces[i] = CJK_SPACE.sub("", pieces[i])
    # re-mark the values (split removed the markers) to find the joins around them
    marked = "".join(f"{_OPEN}{p}{_CLOSE}" if i % 2 else p for i, p in enumerate(pieces))
    joined = _AROUND_VALUE.sub(lambda m: _CLOSE if m.group(0).startswith(_CLOSE) else "", marked)
    return joined.replace(_OPEN, "").replace(_CLOSE, "")


class Translator:
    """A ``t`` bound to one language, handy in notebooks: ``_ = Translator('zh')``."""

    def __init__(self, language: str = "en") -> None:
        catalog(language)
        self.language = language

    def __call__(self, key: str, /, **values: object) -> str:
        return t(key, self.language, **values)


def join_sentences(parts, language: str = "en") -> str:
    """Sentences as one paragraph: a space between them in English, none in Chinese (a
    Chinese full stop takes no space after it). Empty parts are left out.

    Examples
    --------
    >>> join_sentences(["校正后仍然显著。", "阴影列为报告期。"], "zh")
    '校正后仍然显著。阴影列为报告期。'
    >>> join_sentences(["Still significant.", "The shaded column is the period."], "en")
    'Still significant. The shaded column is the period.'
    """
    kept = [str(p).strip() for p in parts if p is not None and str(p).strip()]
    return ("" if language == "zh" else " ").join(kept)


def in_sentence(label: str, language: str = "en") -> str:
    """A label as it reads inside a sentence: in English, "New customers" becomes "new
    customers"; acronyms ("NPS", "CSAT (top-2-box)") and other languages are unchanged."""
    if language == "en" and len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


# ---- the Chinese glossary --------------------------------------------------------------


def glossary(language: str = "zh") -> dict[str, dict[str, object]]:
    """The glossary of a language (``messages/<language>/glossary.yaml``): concept id ->
    ``{"term": ..., "keys": [...], "match": regex}``; empty when there is none."""
    path = _ROOT / language / "glossary.yaml"
    if not path.exists():
        return {}
    return parse_yaml(path.read_text(encoding="utf-8")) or {}


def glossary_problems(messages: dict[str, str], terms: dict[str, dict[str, object]]) -> list[str]:
    """What breaks "one concept, one term; one term, one concept" in a catalogue.

    Parameters
    ----------
    messages
        A merged catalogue (:func:`catalog`).
    terms
        A glossary (:func:`glossary`): each concept's ``term`` and the keys naming it
        (``keys`` listed, ``match`` a regular expression on key names).

    Returns
    -------
    list of str
        One line per problem, empty when the catalogue keeps the glossary: a concept's key
        that is missing or reads another term (a concept with two terms), a term given to
        two concepts, and a key outside a concept that is labelled with its term (a term
        naming two concepts).
    """
    problems: list[str] = []
    owner: dict[str, str] = {}
    concept_keys: dict[str, set[str]] = {}
    for concept, entry in terms.items():
        term = str(entry.get("term", "")).strip()
        if not term:
            problems.append(f"{concept}: no term")
            continue
        if term in owner:
            problems.append(f"term {term!r} names two concepts: {owner[term]} and {concept}")
        owner.setdefault(term, concept)
        keys = {str(k) for k in entry.get("keys") or []}
        if entry.get("match"):
            pattern = re.compile(str(entry["match"]))
            matched = {k for k in messages if pattern.search(k)}
            if not matched:
                problems.append(f"{concept}: no message key matches {entry['match']!r}")
            keys |= matched
        concept_keys[concept] = keys
        for key in sorted(keys):
            if key not in messages:
                problems.append(f"{concept}: key {key!r} is not in the catalogue")
            elif messages[key].strip() != term:
                problems.append(
                    f"concept {concept} has two terms: {term!r} (glossary) and "
                    f"{messages[key]!r} ({key})"
                )
    claimed = {k for keys in concept_keys.values() for k in keys}
    for key, text in messages.items():
        concept = owner.get(text.strip())
        if concept is not None and key not in claimed:
            problems.append(
                f"term {text.strip()!r} of {concept} also labels {key!r}: a term names one "
                "concept (list the key under the concept, or give it its own term)"
            )
    return problems

"""The playbook: what to do with each group of customers, in every report language.

``params/playbook.yaml`` maps each *vocabulary* of segment keys to one entry per key::

    rfm_segment:                 # vocabulary
      champions:                 # key, as the analysis produces it
        objective: {en: ..., zh: ...}
        actions:   {en: [..., ...], zh: [..., ...]}   # a list, or one string
        channel:   {en: ..., zh: ...}
        offer:     {en: ..., zh: ...}
        priority:  high          # high | medium | low (labels come from the catalog)

Vocabularies (:data:`VOCABULARIES`): ``rfm_segment`` (the keys of the RFM segment map;
the eight RFM classes of ``value.segment_scheme: rfm8`` sit in their own section
``rfm8_segment``, read as part of this vocabulary),
``lifecycle_stage`` (:data:`analysis.lifecycle.STAGES`), ``value_tier`` (high / medium /
low), ``customer_type`` (only the types that need their own handling, by default
government and institution), ``clustering_segment`` (the profile rules of the
clustering segments, :data:`CLUSTERING_RULES`, which
:func:`analysis.segment_report.segment_rules` assigns), ``subscription`` (what only
subscription businesses need: ``renewal``, ``plan_change``, ``payment_method``) and
``need_type`` (the primary need of the needs report, :data:`NEED_TYPES`: ``price``,
``quality``, ``service``, ``convenience``; the strategy summary shows one action per need).

**Subscriptions.** A business that bills regularly (``value.billing``) needs other words
than a shop: no "second-purchase incentive" for a new subscriber, but onboarding to the
first renewals. The optional section ``for_subscriptions`` holds entries of the same
vocabularies and keys that replace the general ones for such a unit
(``action_for(..., scheme="subscription")``); a key it does not list keeps its general
entry. Text sits next to its translation
in the one file, so whoever edits an action sees both languages; field and priority
*labels* come from the message catalog (``playbook.*``).

:func:`load_playbook` reads and checks the structure; :func:`validate_playbook` also checks
that every segment an analysis can produce has an entry and names the first one missing;
:func:`action_for` looks one entry up in one language. Nothing here prints or renders.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from .config import project_root, read_yaml
from .errors import ParamsError
from .i18n import LANGUAGES
from .needs import NEEDS as NEED_TYPES  # keys of the need_type vocabulary

__all__ = [
    "ACCOUNT_TYPES",
    "CLUSTERING_RULES",
    "DEFAULT_REQUIRED",
    "FIELDS",
    "NEEDS",
    "NEED_TYPES",
    "PRIORITIES",
    "RFM8_SECTION",
    "SUBSCRIPTION_ENTRIES",
    "SUBSCRIPTION_SECTION",
    "VOCABULARIES",
    "PlaybookAction",
    "action_for",
    "data_available",
    "load_playbook",
    "playbook_frame",
    "validate_playbook",
]

#: Segment vocabularies a playbook may hold, in display order.
VOCABULARIES = (
    "rfm_segment",
    "lifecycle_stage",
    "value_tier",
    "customer_type",
    "clustering_segment",
    "subscription",
    "need_type",
)
#: The section of entries that replace the general ones for subscription businesses.
SUBSCRIPTION_SECTION = "for_subscriptions"
#: The section with the ``rfm_segment`` entries of the eight RFM classes
#: (``value.segment_scheme: rfm8``, :data:`analysis.value.RFM8_CLASSES`), kept apart from
#: the ten-segment map's; read as part of the ``rfm_segment`` vocabulary.
RFM8_SECTION = "rfm8_segment"
#: Keys of the ``subscription`` vocabulary.
SUBSCRIPTION_ENTRIES = ("renewal", "plan_change", "payment_method")
#: Fields of every entry; all but ``priority`` are text in every language.
FIELDS = ("objective", "actions", "channel", "offer", "priority")
#: The optional field ``needs``: ``{data: [action numbers, 1-based]}``, actions that make
#: sense only when the unit's data has it ("Resolve open complaints" needs complaints).
NEEDS = ("complaints", "channels", "discounts", "returns", "categories", "customer_types")
PRIORITIES = ("high", "medium", "low")
#: Customer types with their own account management (the ``customer_type`` vocabulary's
#: default entries); :func:`data_available` lists those a unit's customers include.
ACCOUNT_TYPES = ("government", "institution")

#: The ``clustering_segment`` vocabulary: the profile rules a clustering segment can get
#: (:func:`analysis.segment_report.segment_rules` tries them in this order on the segment's
#: z-scores), each with the entry of another vocabulary it corresponds to (shown beside
#: the rule, never used instead of it). The playbook owns its vocabularies, so the
#: segment rules import this table from here and the imports go one way.
CLUSTERING_RULES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "cant_lose": ("rfm_segment", "cant_lose_them"),
        "at_risk": ("lifecycle_stage", "at_risk"),
        "lapsed": ("lifecycle_stage", "lapsed"),
        "complaints": ("lifecycle_stage", "at_risk"),
        "new": ("lifecycle_stage", "new"),
        "champions": ("rfm_segment", "champions"),
        "high_value": ("value_tier", "high"),
        "loyal": ("rfm_segment", "loyal"),
        "medium": ("value_tier", "medium"),
        "low": ("value_tier", "low"),
    }
)

#: What the analyses produce with default parameters: every key needs an entry. A custom
#: RFM segment map replaces the ``rfm_segment`` keys (see the value report). Read-only:
#: copy it (``dict(DEFAULT_REQUIRED)``) to extend it.
DEFAULT_REQUIRED: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "rfm_segment": (
            "champions",
            "loyal",
            "potential_loyalists",
            "new",
            "promising",
            "need_attention",
            "about_to_sleep",
            "at_risk",
            "cant_lose_them",
            "hibernating",
        ),
        "lifecycle_stage": (
            "prospect",
            "new",
            "active",
            "loyal",
            "at_risk",
            "lapsed",
            "reactivated",
            "churned",
        ),
        "value_tier": ("high", "medium", "low"),
        "customer_type": ("government", "institution"),
        "clustering_segment": tuple(CLUSTERING_RULES),
        "subscription": SUBSCRIPTION_ENTRIES,
        "need_type": NEED_TYPES,
    }
)


@dataclass(frozen=True)
class PlaybookAction:
    """One playbook entry in one language.

    Attributes
    ----------
    vocabulary, key
        Where the entry sits (``"rfm_segment"``, ``"champions"``).
    objective, channel, offer
        Text in the requested language.
    actions
        The recommended actions, in order.
    priority
        ``high``, ``medium`` or ``low`` (a key; the label is ``playbook.priority.<key>``).
    """

    vocabulary: str
    key: str
    objective: str
    actions: tuple[str, ...]
    channel: str
    offer: str
    priority: str

    def action_text(self, separator: str = "; ") -> str:
        """The actions as one line (for tables and CSV exports)."""
        return separator.join(self.actions)


def default_path() -> Path:
    """``params/playbook.yaml`` of the project."""
    return project_root() / "params" / "playbook.yaml"


def load_playbook(path: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """Read a playbook file and check its structure.

    Parameters
    ----------
    path
        YAML file; ``None`` reads ``params/playbook.yaml`` of the project.

    Returns
    -------
    dict
        ``{vocabulary: {key: entry}}`` as written in the file.

    Raises
    ------
    ParamsError
        The file is missing or not YAML, or an entry is malformed (see
        :func:`validate_playbook`; which segments must be present is checked there, with
        the segments of the caller's analysis).

    Examples
    --------
    >>> playbook = load_playbook()
    >>> action_for(playbook, "value_tier", "high", "en").priority
    'high'
    """
    playbook = read_yaml(default_path() if path is None else path)
    validate_playbook(playbook, required={})
    return playbook


def _entries(playbook: Mapping[str, Any], vocabulary: str) -> dict[str, Any]:
    """The entries of a vocabulary; ``rfm_segment`` includes :data:`RFM8_SECTION`."""
    entries = dict(playbook.get(vocabulary) or {})
    if vocabulary == "rfm_segment":
        entries.update(playbook.get(RFM8_SECTION) or {})
    return entries


def _where(vocabulary: str, key: object, field: str | None = None) -> str:
    return f"{vocabulary}.{key}" + (f".{field}" if field else "")


def _check_text(value: object, where: str, *, allow_list: bool) -> None:
    if not isinstance(value, Mapping):
        raise ParamsError(
            f"playbook {where} must give the text in every language, as "
            f"{{{', '.join(f'{lang}: ...' for lang in LANGUAGES)}}}; got {value!r}"
        )
    unknown = [lang for lang in value if lang not in LANGUAGES]
    if unknown:
        raise ParamsError(
            f"playbook {where} has text in an unknown language {unknown[0]!r} "
            f"(languages: {', '.join(LANGUAGES)})"
        )
    for lang in LANGUAGES:
        text = value.get(lang)
        items = text if allow_list and isinstance(text, list) else [text]
        if not items or not all(isinstance(t, str) and t.strip() for t in items):
            raise ParamsError(f"playbook {where} has no {lang} text")


def _check_entry(vocabulary: str, key: object, entry: object) -> None:
    if not isinstance(entry, Mapping):
        raise ParamsError(
            f"playbook {_where(vocabulary, key)} must be a mapping with {', '.join(FIELDS)}"
        )
    unknown = [f for f in entry if f not in (*FIELDS, "needs")]
    if unknown:
        raise ParamsError(
            f"playbook {_where(vocabulary, key)} has an unknown field {unknown[0]!r} "
            f"(fields: {', '.join(FIELDS)})"
        )
    for field in FIELDS:
        if field not in entry:
            raise ParamsError(f"playbook {_where(vocabulary, key)} has no {field!r}")
        if field == "priority":
            if entry[field] not in PRIORITIES:
                raise ParamsError(
                    f"playbook {_where(vocabulary, key, field)} must be one of "
                    f"{', '.join(PRIORITIES)}, got {entry[field]!r}"
                )
        else:
            _check_text(entry[field], _where(vocabulary, key, field), allow_list=field == "actions")
    needs = entry.get("needs") or {}
    if not isinstance(needs, Mapping):
        raise ParamsError(
            f"playbook {_where(vocabulary, key, 'needs')} must map data ({', '.join(NEEDS)}) "
            "to the numbers of the actions that need it"
        )
    count = min(len(t) if isinstance(t, list) else 1 for t in entry["actions"].values())
    for data, numbers in needs.items():
        if data not in NEEDS:
            raise ParamsError(
                f"playbook {_where(vocabulary, key, 'needs')} names unknown data {data!r} "
                f"(known: {', '.join(NEEDS)})"
            )
        if not isinstance(numbers, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= count for n in numbers
        ):
            raise ParamsError(
                f"playbook {_where(vocabulary, key, 'needs')}.{data} must list action "
                f"numbers from 1 to {count}, got {numbers!r}"
            )


def _check_entries(vocabularies: Mapping[str, Any], prefix: str) -> None:
    for vocabulary, entries in vocabularies.items():
        if entries is None:
            continue
        if not isinstance(entries, Mapping):
            raise ParamsError(f"playbook {prefix}{vocabulary} must map each segment to its entry")
        for key, entry in entries.items():
            _check_entry(f"{prefix}{vocabulary}", key, entry)


def validate_playbook(
    playbook: Mapping[str, Any], required: Mapping[str, Iterable[str]] | None = None
) -> None:
    """Check a playbook's structure and that it has an entry for every required segment.

    Parameters
    ----------
    playbook
        ``{vocabulary: {key: entry}}`` (see the module docstring).
    required
        ``{vocabulary: keys}`` the caller's analyses can produce; ``None`` means
        :data:`DEFAULT_REQUIRED` (what every analysis produces with default parameters,
        including every rule of :data:`CLUSTERING_RULES` under ``clustering_segment``),
        ``{}`` checks the structure only.

    Raises
    ------
    ParamsError
        An unknown vocabulary (a typo such as ``rfm_segments``); an entry without one of
        :data:`FIELDS`, with an unknown field, with text missing in a language, or with an
        unknown priority; or a required segment without an entry. The message names the
        vocabulary, the segment and the field.

    Examples
    --------
    >>> validate_playbook({"value_tier": {}}, required={"value_tier": ["high"]})
    Traceback (most recent call last):
    ...
    analysis.errors.ParamsError: the playbook has no entry for value_tier 'high' ...
    """
    if not isinstance(playbook, Mapping):
        raise ParamsError("the playbook must be a mapping {vocabulary: {segment: entry}}")
    required = DEFAULT_REQUIRED if required is None else required
    general = {k: v for k, v in playbook.items() if k != SUBSCRIPTION_SECTION}
    for vocabulary in [*general, *required]:
        if vocabulary not in VOCABULARIES and vocabulary != RFM8_SECTION:
            raise ParamsError(
                f"the playbook has an unknown vocabulary {vocabulary!r} "
                f"(known: {', '.join(VOCABULARIES)}, and {SUBSCRIPTION_SECTION})"
            )
    _check_entries(general, "")
    both = set(playbook.get("rfm_segment") or {}) & set(playbook.get(RFM8_SECTION) or {})
    if both:
        raise ParamsError(
            f"playbook segment {sorted(both)[0]!r} is under both rfm_segment and {RFM8_SECTION}; "
            "keep one entry"
        )
    variants = playbook.get(SUBSCRIPTION_SECTION) or {}
    if not isinstance(variants, Mapping):
        raise ParamsError(f"playbook {SUBSCRIPTION_SECTION} must map vocabularies to their entries")
    for vocabulary in variants:
        if vocabulary not in VOCABULARIES:
            raise ParamsError(
                f"playbook {SUBSCRIPTION_SECTION} has an unknown vocabulary {vocabulary!r} "
                f"(known: {', '.join(VOCABULARIES)})"
            )
    _check_entries(variants, f"{SUBSCRIPTION_SECTION}.")
    for vocabulary, keys in required.items():
        present = _entries(playbook, vocabulary)
        for key in keys:
            if key not in present:
                raise ParamsError(
                    f"the playbook has no entry for {vocabulary} {key!r} (every segment the "
                    f"analyses can produce needs one); add '{key}:' under '{vocabulary}:' in "
                    "params/playbook.yaml"
                )


def action_for(
    playbook: Mapping[str, Any],
    vocabulary: str,
    key: str,
    language: str = "en",
    *,
    scheme: str = "transactional",
    available: Iterable[str] | None = None,
) -> PlaybookAction:
    """The entry for one segment in one language.

    Parameters
    ----------
    playbook
        A loaded playbook.
    vocabulary
        One of :data:`VOCABULARIES`.
    key
        The segment key (``"champions"``, ``"at_risk"``, ``"high"``, ``"government"``,
        ``"high_value"``).
    language
        ``"en"`` or ``"zh"``.
    scheme
        ``"subscription"`` takes the entry of ``for_subscriptions`` when it has one;
        ``"transactional"`` (default) the general entry.
    available
        The data the unit has (:data:`NEEDS` names); actions the entry's ``needs`` ties to
        other data are left out. None keeps every action.

    Returns
    -------
    PlaybookAction

    Raises
    ------
    ParamsError
        Unknown vocabulary or language, or no entry for ``key``.

    Examples
    --------
    >>> action_for(load_playbook(), "lifecycle_stage", "lapsed", "en").priority
    'medium'
    """
    if vocabulary == RFM8_SECTION:  # its entries are rfm_segment entries
        vocabulary = "rfm_segment"
    if vocabulary not in VOCABULARIES:
        raise ParamsError(
            f"unknown playbook vocabulary {vocabulary!r} (known: {', '.join(VOCABULARIES)})"
        )
    if language not in LANGUAGES:
        raise ParamsError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    entries = _entries(playbook, vocabulary)
    variants = (playbook.get(SUBSCRIPTION_SECTION) or {}).get(vocabulary) or {}
    if scheme == "subscription" and key in variants:
        entries = variants
    if key not in entries:
        raise ParamsError(f"the playbook has no entry for {vocabulary} {key!r}")
    entry = entries[key]
    actions = entry["actions"][language]
    actions = actions if isinstance(actions, list) else [actions]
    if available is not None:
        have = set(available)
        drop = {n for data, numbers in (entry.get("needs") or {}).items() if data not in have
                for n in numbers}  # fmt: skip
        kept = [a for i, a in enumerate(actions, start=1) if i not in drop]
        actions = kept or actions[:1]
    return PlaybookAction(
        vocabulary=vocabulary,
        key=str(key),
        objective=entry["objective"][language].strip(),
        actions=tuple(a.strip() for a in actions),
        channel=entry["channel"][language].strip(),
        offer=entry["offer"][language].strip(),
        priority=entry["priority"],
    )


def data_available(
    orders: pd.DataFrame | None,
    interactions: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
) -> tuple[str, ...]:
    """Which of :data:`NEEDS` a unit's data has: complaints (an interaction of type
    complaint), channels / categories (two or more values), discounts (a positive
    discount), returns (a returned order or a refund), customer_types (a known type),
    then each of :data:`ACCOUNT_TYPES` its customers include ("government"), so that a
    sentence about those customers is written only where there are some."""
    have = []
    if (
        interactions is not None
        and "type" in interactions.columns
        and interactions["type"].astype("string").eq("complaint").any()
    ):
        have.append("complaints")
    if orders is not None and len(orders):
        if "channel" in orders.columns and orders["channel"].nunique(dropna=True) > 1:
            have.append("channels")
        if (
            "discount" in orders.columns
            and pd.to_numeric(orders["discount"], errors="coerce").gt(0).any()
        ):
            have.append("discounts")
        returned = orders["amount"].lt(0).any() if "amount" in orders.columns else False
        if "status" in orders.columns:
            returned = returned or orders["status"].astype("string").eq("returned").any()
        if returned:
            have.append("returns")
        if "product_category" in orders.columns and orders["product_category"].nunique() > 1:
            have.append("categories")
    if (
        customers is not None
        and "customer_type" in customers.columns
        and customers["customer_type"].notna().any()
    ):
        have.append("customer_types")
        present = set(
            customers["customer_type"].dropna().astype(str).str.strip().str.lower().unique()
        )
        have.extend(kind for kind in ACCOUNT_TYPES if kind in present)
    return tuple(have)


def playbook_frame(
    playbook: Mapping[str, Any],
    vocabulary: str,
    language: str = "en",
    keys: Iterable[str] | None = None,
    *,
    separator: str = "; ",
    scheme: str = "transactional",
) -> pd.DataFrame:
    """The entries of one vocabulary as a table (one row per key, in ``keys`` order).

    Returns
    -------
    pandas.DataFrame
        Index ``key``; columns ``objective``, ``actions`` (joined with ``separator``),
        ``channel``, ``offer`` and ``priority``. Keys without an entry are left out.
    """
    entries = _entries(playbook, vocabulary)
    keys = list(entries) if keys is None else [k for k in keys if k in entries]
    rows = []
    for key in keys:
        a = action_for(playbook, vocabulary, key, language, scheme=scheme)
        rows.append(
            {
                "key": key,
                "objective": a.objective,
                "actions": a.action_text(separator),
                "channel": a.channel,
                "offer": a.offer,
                "priority": a.priority,
            }
        )
    columns = ["key", "objective", "actions", "channel", "offer", "priority"]
    return pd.DataFrame(rows, columns=columns).set_index("key")

"""Wording that fits the unit's data, shared by the views.

A unit whose purchases are regular bills (``scheme == "subscription"``,
:func:`analysis.lifecycle.billing_cycle`) reads its own nouns: a message key may have a
``<key>_subscription`` variant in the catalog ("bills", "subscribers"), used for such a
unit instead of the general one. Counts agree with their nouns through the catalog's
``{n|one|other}`` choices (:func:`analysis.i18n.plural_forms`); :func:`one` picks a whole
``<key>_one`` message where a sentence reads differently for a single thing.
"""

from __future__ import annotations

from ..i18n import catalog

#: The smallest base (answers, customers) a share is shown on; below it the count is shown.
MIN_SHARE_BASE = 5


def billed(language: str, key: str, scheme: str | None) -> str:
    """``key + "_subscription"`` for a billed unit when the catalog has that variant."""
    if scheme == "subscription" and f"{key}_subscription" in catalog(language):
        return f"{key}_subscription"
    return key


def one(language: str, key: str, n: object) -> str:
    """``key + "_one"`` for a count of one when the catalog has it ("1 customer's ...")."""
    try:
        single = float(str(n).replace(",", "")) == 1
    except ValueError:
        single = False
    return f"{key}_one" if single and f"{key}_one" in catalog(language) else key


#: Feature columns (or prefixes ending in ``_``) -> the data they describe
#: (:data:`analysis.playbook.NEEDS`).
_FEATURE_NEEDS = (
    ("return_rate", "returns"),
    ("discount_share", "discounts"),
    ("complaints", "complaints"),
    ("share_ch_", "channels"),
    ("share_cat_", "categories"),
)


def describes_absent_data(feature: str, available: tuple[str, ...] | list[str]) -> bool:
    """Whether ``feature`` measures something the unit's data does not have (a return
    rate without any return, a discount share without discounts): a row about it would
    only say that it is missing, so it is not shown."""
    name = str(feature).removeprefix("log_")
    for column, need in _FEATURE_NEEDS:
        if name == column or (column.endswith("_") and name.startswith(column)):
            return need not in available
    return False

"""Words for the churn models: feature, level and term names, "per SD" units and one
sentence per driver, in the report language (``churn.*`` message keys).

A unit billed regularly (``scheme="subscription"``) reads its features in bills: a
``churn.feature.<name>_subscription`` message ("Average bill") replaces the general one
("Average order value") where the catalog has it.
"""

from __future__ import annotations

import re

import pandas as pd

from ..i18n import catalog, t


# --------------------------------------------------------------------------- wording
def feature_label(feature: str, language: str = "en", *, scheme: str | None = None) -> str:
    """Display name of a feature (``churn.feature.<name>``, or its ``_subscription``
    variant for a billed unit), else the column name in words: ``internet_service`` and
    ``InternetService`` read "Internet service"."""
    key = f"churn.feature.{feature}"
    names = catalog(language)
    if scheme == "subscription" and f"{key}_subscription" in names:
        return names[f"{key}_subscription"]
    return names[key] if key in names else column_words(str(feature))


def column_words(name: str) -> str:
    """A column name as words: underscores and camel case split, the first letter
    capitalised (``monthly_charges``, ``MonthlyCharges`` -> "Monthly charges"); names
    with other characters (``月消费``) and all-capital ones (``NPS``) are kept."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_ ]*", name) or name.isupper():
        return name
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.replace("_", " "))
    words = [w if w.isupper() and len(w) > 1 else w.lower() for w in spaced.split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def level_label(feature: str, level: object, language: str = "en") -> str:
    """Display name of a category level (``churn.level.<feature>.<level>``; customer
    types reuse ``overview.type.*``), else the level itself."""
    if level == "(missing)":
        return t("churn.level.missing", language)
    if level == "(other)":
        return t("churn.level.other", language)
    names = catalog(language)
    key = f"churn.level.{feature}.{level}"
    if key in names:
        return names[key]
    if feature == "customer_type" and f"overview.type.{level}" in names:
        return names[f"overview.type.{level}"]
    return str(level)


def term_label(
    summary: pd.DataFrame, term: str, language: str = "en", *, scheme: str | None = None
) -> str:
    """Display name of a model term: ``Customer type: Enterprise (vs Individual)``."""
    row = summary.loc[summary["feature"] == term]
    if row.empty:
        return str(term)
    row = row.iloc[0]
    name = feature_label(row["source"], language, scheme=scheme)
    if row["kind"] == "level":
        return t(
            "churn.term.level",
            language,
            feature=name,
            level=level_label(row["source"], row["level"], language),
            reference=level_label(row["source"], row["reference"], language),
        )
    if row["kind"] == "missing":
        return t("churn.term.missing", language, feature=name)
    return name


def sd_text(source: str, sd: float, language: str) -> str:
    if source in ("discount_share", "return_rate") or source.startswith("share_"):
        return f"{sd * 100:.1f} {t('churn.unit.pct_points', language)}"
    if source in ("tenure_days", "recency_days"):
        return f"{sd:,.0f} {t('churn.unit.days', language)}"
    if abs(sd) >= 100:
        return f"{sd:,.0f}"
    return f"{sd:,.2g}" if abs(sd) < 1 else f"{sd:,.1f}"


def driver_sentence(row: pd.Series, language: str = "en", *, scheme: str | None = None) -> str:
    """One sentence for one row of :attr:`ChurnDrivers.summary`."""
    ratio = row["odds_ratio"]
    values = dict(
        ratio=f"{ratio:.2f}",
        low=f"{row['ci_low']:.2f}",
        high=f"{row['ci_high']:.2f}",
        feature=feature_label(row["source"], language, scheme=scheme),
    )
    direction = "up" if ratio > 1 else "down"
    if row["kind"] == "level":
        return t(
            f"churn.sentence.level_{direction}",
            language,
            level=level_label(row["source"], row["level"], language),
            reference=level_label(row["source"], row["reference"], language),
            **values,
        )
    if row["kind"] == "missing":
        return t(f"churn.sentence.missing_{direction}", language, **values)
    return t(
        f"churn.sentence.numeric_{direction}",
        language,
        sd=sd_text(str(row["source"]), float(row["sd"]), language),
        **values,
    )

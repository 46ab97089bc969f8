"""The design matrix of the churn models: which columns are numbers, categories, ids or
dates; standardised numbers with missing indicators, one-hot categories against a
reference level; collinear and separating columns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg

from ..errors import DataError, ParamsError
from ._common import one_blas_thread

_DATE_NAME = re.compile(r"(?i)(date|_at$|time$|timestamp)")
_ID_WORDS = {"id", "key", "uuid", "guid", "index", "row", "rownum", "row_id", "record_id"}
_ID_OWNER = re.compile(
    r"(customer|client|account|user|member|subscriber|cust|contract|order)[_\s-]?"
    r"(id|no|number|code|key)"
)


def id_like_name(name: str) -> bool:
    """``customerID``, ``customer_id``, ``Client No``, ``id``, ``uuid``... (not ``prepaid``)."""
    low = name.strip().lower()
    return (
        low in _ID_WORDS
        or bool(re.search(r"[_\s-]id$", low))
        or bool(re.search(r"[a-z0-9](ID|Id)$", name.strip()))
        or bool(_ID_OWNER.fullmatch(low))
        or "uuid" in low
        or "guid" in low
    )


def looks_numeric(values: pd.Series) -> pd.Series | None:
    """Text that is (almost) all numbers (e.g. "29.85", blanks) as floats, else None."""
    text = values.astype("string").str.strip()
    filled = (text.notna() & (text != "")).to_numpy(dtype=bool)
    if filled.sum() == 0:
        return None
    # parse each distinct text once (a category column has a handful of them)
    codes, uniques = pd.factorize(text.where(filled))
    numbers = pd.to_numeric(pd.Series(uniques, dtype="string"), errors="coerce")
    lookup = np.append(numbers.to_numpy(dtype="float64", na_value=np.nan), np.nan)
    parsed = lookup[codes]  # code -1 (missing) picks the trailing NaN
    if (~np.isnan(parsed[filled])).mean() >= 0.95:
        return pd.Series(parsed, index=values.index, name=values.name, dtype="float64")
    return None


def classify_columns(
    frame: pd.DataFrame, columns: Sequence[str], *, max_levels: int, explicit: bool
) -> tuple[dict[str, str], dict[str, str]]:
    """Sort columns into ``numeric`` / ``categorical``; the rest go to ``dropped`` with why."""
    kinds: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for col in columns:
        values = frame[col]
        name = str(col)
        nonnull = values.dropna()
        if nonnull.empty:
            dropped[name] = "all_missing"
            continue
        if pd.api.types.is_datetime64_any_dtype(values) or isinstance(
            nonnull.iloc[0], pd.Timestamp
        ):
            dropped[name] = "date"
            continue
        unique = nonnull.nunique()
        if unique < 2:
            dropped[name] = "constant"
            continue
        id_name = id_like_name(name)
        if pd.api.types.is_bool_dtype(values):
            kinds[name] = "categorical"
            continue
        if pd.api.types.is_numeric_dtype(values):
            if (
                not explicit
                and id_name
                and unique >= 0.9 * len(nonnull)
                and (
                    pd.api.types.is_integer_dtype(values)
                    or bool((nonnull == np.round(nonnull)).all())
                )
            ):
                dropped[name] = "id_like"
                continue
            kinds[name] = "numeric"
            continue
        numeric = looks_numeric(values)
        if numeric is not None and numeric.nunique() > 20:
            kinds[name] = "numeric_text"
            continue
        if not explicit and (
            (id_name and unique >= 0.5 * len(nonnull))
            or (unique >= 0.9 * len(nonnull) and len(nonnull) > 20)
        ):
            dropped[name] = "id_like"
            continue
        if not explicit and _DATE_NAME.search(name) and unique > max_levels:
            parsed = pd.to_datetime(nonnull.astype("string"), errors="coerce", format="mixed")
            if parsed.notna().mean() > 0.9:
                dropped[name] = "date"
                continue
        kinds[name] = "categorical"
    return kinds, dropped


@dataclass
class Design:
    """Turns a customer frame into the model matrix (fitted on the training frame).

    Numbers: missing values get the training mean plus a ``[missing]`` indicator term
    (when any are missing), then ``z = (x - mean) / sd`` with the training mean and
    population sd (ddof=0). Categories: one 0/1 term per level except the reference (the
    most frequent level; ties by name); missing is its own level ``(missing)``; levels
    with fewer than ``min_level_size`` rows are pooled into ``(other)``, which joins the
    reference level when it is itself that small (tiny groups would otherwise be
    separated perfectly by chance).
    """

    numeric: list[str]
    categorical: list[str]
    numeric_text: list[str]
    means: dict[str, float]
    sds: dict[str, float]
    with_missing: list[str]
    levels: dict[str, list[str]]
    reference: dict[str, str]
    pooled: dict[str, dict[str, str]]
    terms: list[str]
    term_feature: list[str]
    term_kind: list[str]
    term_level: list[object]

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        kinds: Mapping[str, str],
        *,
        min_level_size: int = 10,
        max_levels: int = 20,
    ) -> tuple[Design, dict[str, str]]:
        dropped: dict[str, str] = {}
        numeric, numeric_text, categorical = [], [], []
        means, sds, with_missing = {}, {}, []
        levels, reference, pooled = {}, {}, {}
        terms, term_feature, term_kind, term_level = [], [], [], []
        for col, kind in kinds.items():
            if kind in ("numeric", "numeric_text"):
                x = numeric_column(frame[col], kind)
                observed = x.dropna()
                if observed.nunique() < 2:
                    dropped[col] = "constant"
                    continue
                mean = float(observed.mean())
                filled = x.fillna(mean)
                sd = float(filled.std(ddof=0))
                if not math.isfinite(sd) or sd <= 0:
                    dropped[col] = "constant"
                    continue
                (numeric_text if kind == "numeric_text" else numeric).append(col)
                means[col], sds[col] = mean, sd
                terms.append(col)
                term_feature.append(col)
                term_kind.append("numeric")
                term_level.append(None)
                if x.isna().any():
                    with_missing.append(col)
                    terms.append(f"{col}[missing]")
                    term_feature.append(col)
                    term_kind.append("missing")
                    term_level.append(None)
            else:
                values = category_values(frame[col])
                counts = values.value_counts()
                small = [lv for lv, k in counts.items() if k < min_level_size]
                mapping: dict[str, str] = {}
                if small and len(small) < len(counts):
                    big = counts.drop(small)
                    biggest = sorted(big.index, key=lambda lv: (-big[lv], str(lv)))[0]
                    pooled_size = int(counts[small].sum())
                    target = "(other)" if pooled_size >= min_level_size else biggest
                    mapping = {str(lv): target for lv in small}
                    values = values.replace(mapping)
                    counts = values.value_counts()
                if len(counts) < 2:
                    dropped[col] = "constant"
                    continue
                if len(counts) > max_levels:
                    dropped[col] = "too_many_levels"
                    continue
                ordered = sorted(counts.index, key=lambda lv: (-counts[lv], str(lv)))
                ref = ordered[0]
                others = sorted(ordered[1:], key=str)
                categorical.append(col)
                reference[col] = ref
                levels[col] = others
                pooled[col] = mapping
                for lv in others:
                    terms.append(f"{col}[{lv}]")
                    term_feature.append(col)
                    term_kind.append("level")
                    term_level.append(lv)
        design = cls(
            numeric=numeric,
            categorical=categorical,
            numeric_text=numeric_text,
            means=means,
            sds=sds,
            with_missing=with_missing,
            levels=levels,
            reference=reference,
            pooled=pooled,
            terms=terms,
            term_feature=term_feature,
            term_kind=term_kind,
            term_level=term_level,
        )
        return design, dropped

    @property
    def features(self) -> list[str]:
        return list(dict.fromkeys(self.term_feature))

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The model matrix (rows of ``frame``, one column per term; no constant)."""
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise DataError(
                f"column(s) {', '.join(map(repr, missing))} used by the model are missing",
                column=missing[0],
            )
        out = np.empty((len(frame), len(self.terms)), dtype="float64")
        cache: dict[str, pd.Series] = {}
        for j, (feature, kind, level) in enumerate(
            zip(self.term_feature, self.term_kind, self.term_level, strict=True)
        ):
            if kind in ("numeric", "missing"):
                if feature not in cache:
                    source = "numeric_text" if feature in self.numeric_text else "numeric"
                    cache[feature] = numeric_column(frame[feature], source)
                x = cache[feature]
                if kind == "missing":
                    out[:, j] = x.isna().to_numpy(dtype="float64")
                else:
                    filled = x.fillna(self.means[feature]).to_numpy(dtype="float64")
                    out[:, j] = (filled - self.means[feature]) / self.sds[feature]
            else:
                if feature not in cache:
                    values = category_values(frame[feature])
                    mapping = self.pooled.get(feature)
                    if mapping:
                        values = values.replace(mapping)
                    cache[feature] = values
                out[:, j] = (cache[feature] == level).to_numpy(dtype="float64")
        return out


def numeric_column(values: pd.Series, kind: str) -> pd.Series:
    if kind == "numeric_text":
        parsed = looks_numeric(values)
        if parsed is None:
            return pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
        return parsed
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):  # already numbers: no parsing needed
        x = values.to_numpy(dtype="float64", na_value=np.nan)
    else:
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(np.where(np.isfinite(x), x, np.nan), index=values.index, name=values.name)


def category_values(values: pd.Series) -> pd.Series:
    """Each value as stripped text (object dtype), ``"(missing)"`` for a missing or blank
    one; index and name kept. The text is worked out once per distinct value (a model
    reads its category columns many times over, and they have few levels)."""
    values = pd.Series(values)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques).astype("string").str.strip()
    labels = text.where(text.notna() & (text != ""), "(missing)").to_numpy(dtype=object)
    labels = np.append(labels, "(missing)")  # code -1: a missing value
    return pd.Series(labels[codes], index=values.index, name=values.name, dtype=object)


@one_blas_thread
def drop_collinear(X: np.ndarray, terms: list[str]) -> list[int]:
    """Indices of terms to keep so that [1, X] has full column rank (QR with pivoting)."""
    if X.shape[1] == 0:
        return []
    full = np.column_stack([np.ones(len(X)), X])
    _, r, piv = linalg.qr(full, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    tol = diag.max() * max(full.shape) * np.finfo(float).eps * 1e3 if diag.size else 0
    rank = int((diag > tol).sum())
    kept = sorted(int(p) for p in piv[:rank])
    if 0 not in kept:  # the constant must stay; drop the last kept term instead
        kept = [0, *kept[:-1]]
    return [p - 1 for p in kept if p > 0]


#: Two numeric terms correlated at least this much (in absolute value) carry the same
#: information: the model keeps one (:func:`merge_aliases`). With monthly billing lines,
#: purchase days and tenure correlate at 0.999.
ALIAS_CORRELATION = 0.95
#: A numeric term whose variance inflation factor stays above this after the aliases are
#: merged is nearly a combination of the others (R^2 > 0.97) and is left out.
MAX_VIF = 30.0
#: Which of two aliased attributes is kept, earlier first: the simpler, more basic
#: quantity (tenure is how long, purchase days follow from it with regular billing).
ALIAS_PREFERENCE = (
    "tenure_days",
    "avg_order_value",
    "satisfaction",
    "complaints",
    "frequency",
    "monetary",
)


@dataclass(frozen=True)
class Alias:
    """A term left out because it carries the same information as another.

    Attributes
    ----------
    dropped, kept : str
        The term left out and the one the model keeps (``kept`` is ``""`` when the term
        is nearly a combination of several others, ``vif`` then set).
    correlation : float
        Their correlation (NaN for a combination).
    vif : float
        Variance inflation factor of the dropped term (NaN for a pair).
    """

    dropped: str
    kept: str
    correlation: float = float("nan")
    vif: float = float("nan")


@one_blas_thread
def merge_aliases(
    X: np.ndarray,
    design: Design,
    y: np.ndarray | None = None,
    *,
    threshold: float = ALIAS_CORRELATION,
    max_vif: float = MAX_VIF,
) -> tuple[list[int], list[Alias]]:
    """Columns of ``X`` to keep so that no two numeric terms are near-aliases and no
    numeric term is nearly a combination of the others, and what was left out.

    Exactly or nearly collinear terms make a logit or Cox fit non-identified: the
    coefficients of the pair trade off against each other and their standard errors
    explode (an interval of 0.00 to 6e29), while either term alone is well estimated.
    So, before the fit:

    1. of every pair of numeric terms with ``|r| >= threshold`` one is kept: the one
       earlier in :data:`ALIAS_PREFERENCE`, else the one more correlated with ``y``,
       else the one listed first;
    2. then, while the largest variance inflation factor of a numeric term is above
       ``max_vif``, that term is left out.

    Category levels and missing indicators are never dropped here (a level cannot leave
    its category); exact collinearity among them is :func:`drop_collinear`'s job.

    Returns
    -------
    kept : list of int
        Indices of the columns kept, in order.
    aliases : list of Alias
    """
    terms, kinds, sources = design.terms, design.term_kind, design.term_feature
    n_terms = X.shape[1]
    numeric = [j for j in range(n_terms) if kinds[j] == "numeric"]
    keep = set(range(n_terms))
    aliases: list[Alias] = []
    if len(numeric) < 2 or len(X) < 3:
        return sorted(keep), aliases
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(X[:, numeric], rowvar=False)
        target = (
            np.abs(
                np.nan_to_num(
                    np.corrcoef(np.column_stack([X[:, numeric], y]), rowvar=False)[-1, :-1]
                )
            )
            if y is not None and np.std(y) > 0
            else np.zeros(len(numeric))
        )
    corr = np.nan_to_num(corr)

    def rank(k: int) -> tuple:
        name = sources[numeric[k]]
        preferred = (
            ALIAS_PREFERENCE.index(name) if name in ALIAS_PREFERENCE else len(ALIAS_PREFERENCE)
        )
        return (preferred, -round(float(target[k]), 3), k)

    pairs = sorted(
        (-abs(corr[a, b]), a, b)
        for a in range(len(numeric))
        for b in range(a + 1, len(numeric))
        if abs(corr[a, b]) >= threshold
    )
    gone: set[int] = set()
    for _strength, a, b in pairs:
        if a in gone or b in gone:
            continue
        first, second = sorted((a, b), key=rank)
        gone.add(second)
        keep.discard(numeric[second])
        aliases.append(
            Alias(
                dropped=terms[numeric[second]],
                kept=terms[numeric[first]],
                correlation=float(corr[a, b]),
            )
        )
    while True:
        cols = sorted(keep)
        if len(cols) < 2:
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.nan_to_num(np.corrcoef(X[:, cols], rowvar=False))
        np.fill_diagonal(c, 1.0)
        vif = np.diag(np.linalg.pinv(c))
        candidates = [(vif[i], j) for i, j in enumerate(cols) if kinds[j] == "numeric"]
        if not candidates:
            break
        worst, j = max(candidates, key=lambda item: (item[0], -item[1]))
        if not worst > max_vif:
            break
        keep.discard(j)
        aliases.append(Alias(dropped=terms[j], kept="", vif=float(worst)))
    return sorted(keep), aliases


def separating_features(frame: pd.DataFrame, y: np.ndarray, kinds: Mapping[str, str]) -> list[str]:
    """Features that on their own separate churners from the rest completely: a numeric
    threshold with every churner on one side, or a category whose levels each hold only
    one class. Usually the sign of a leak (a column recording the churn itself)."""
    out = []
    ones, zeros = y == 1, y == 0
    for col, kind in kinds.items():
        if kind in ("numeric", "numeric_text"):
            x = numeric_column(frame[col], kind).to_numpy(dtype="float64")
            ok = np.isfinite(x)
            a, b = x[ok & ones], x[ok & zeros]
            if len(a) and len(b) and (a.min() > b.max() or a.max() < b.min()):
                out.append(col)
        else:
            values = category_values(frame[col])
            mix = pd.crosstab(values, y)
            if mix.shape[1] == 2 and mix.shape[0] >= 2 and ((mix == 0).sum(axis=1) == 1).all():
                out.append(col)
    return out


# --------------------------------------------------------------------------- attributes
#: ``churn.attributes: auto`` takes customer columns with at most this many levels ...
AUTO_MAX_LEVELS = 20
#: ... and at least two levels of this many customers (smaller levels, together at most
#: :data:`AUTO_SMALL_SHARE` of the customers, are pooled by :class:`Design`).
AUTO_MIN_LEVEL = 10
AUTO_SMALL_SHARE = 0.05
#: A level of at least this many customers who all churned records the churn ...
LEAK_MIN_LEVEL = 30
#: ... as does an association with the churn label of Cramér's V at least this strong.
LEAK_CRAMERS_V = 0.9

#: Columns of the contract's customers table that are never attributes: ids and
#: structure, and the churn record itself (its flag and date are the label's source).
CONTRACT_NOT_ATTRIBUTES = {
    "customer_id": "id_like",
    "referred_by": "id_like",
    "business_unit": "structure",
    "signup_date": "date",
    "churned": "label",
    "churn_date": "label",
    "churn_reason": "outcome",
    "tenure_months": "export_date",
    "total_charges": "export_date",
    "monthly_charges": "numeric",
}
#: Reasons for leaving a column out that mean it records the outcome: these are said in
#: the report (the column's name and why), the others are simply not attributes.
LEAK_REASONS = ("outcome", "outcome_values", "export_date", "pure_level", "association")

# a name that says the column records the churn (its flag, date, reason or state)
_OUTCOME_NAME = re.compile(
    r"(?i)(churn|attrition|cancel|terminat|disconnect|deactivat|defect|exited|retained"
    r"|retention|流失|退订|注销|解约|离网|销户)"
)
# a quantity measured at the export date: it ends at a churner's churn, so it knows it
_EXPORT_DATE_NAME = re.compile(
    r"(?i)(tenure|total[_\s-]?charges?|totalcharges|lifetime|months?[_\s-]?(active|as[_\s-]"
    r"customer|since)|days[_\s-]?(active|since)|在网|累计)"
)
#: Values that mean "this customer has left": a status column holding one is the outcome.
CHURN_WORDS = frozenset(
    {
        "churn",
        "churned",
        "cancelled",
        "canceled",
        "terminated",
        "closed",
        "inactive",
        "left",
        "lost",
        "former",
        "ended",
        "expired",
        "exited",
        "disconnected",
        "deactivated",
        "discontinued",
        "lapsed",
        "流失",
        "已流失",
        "注销",
        "已注销",
        "退订",
        "已退订",
        "解约",
        "已解约",
        "离网",
        "停用",
    }
)


@dataclass(frozen=True)
class AttributeChoice:
    """Which customer columns the churn models test as attributes, and why others not.

    Attributes
    ----------
    chosen : tuple of str
        The attributes, in the table's column order.
    auto : bool
        Chosen by ``churn.attributes: auto`` (False: the parameter's list).
    skipped : Mapping
        Column -> ``{"reason": code, ...}`` for every customer column left out by the
        automatic choice. Codes: ``id_like``, ``pii``, ``structure``, ``label``, ``date``,
        ``numeric``, ``constant``, ``all_missing``, ``too_many_levels``, ``small_levels``
        and the leaks of :data:`LEAK_REASONS` (``outcome``: the name says it records the
        churn; ``outcome_values``: a value means churned, in ``level``; ``export_date``:
        measured at the export date; ``pure_level``: the ``n`` customers of ``level`` all
        churned; ``association``: Cramér's V ``v`` with the churn label).
    """

    chosen: tuple[str, ...] = ()
    auto: bool = True
    skipped: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    @property
    def leaks(self) -> dict[str, Mapping[str, object]]:
        """The columns left out because they record the outcome (the report names them),
        except the churn label's own columns."""
        return {c: v for c, v in self.skipped.items() if v["reason"] in LEAK_REASONS}

    def sentences(self, language: str = "en") -> list[str]:
        """For the report: the attributes chosen automatically, and the columns left out
        because they record the outcome, each with why (nothing for an explicit list)."""
        from ..display import fmt_number  # noqa: PLC0415
        from ..i18n import t  # noqa: PLC0415
        from .wording import feature_label  # noqa: PLC0415

        if not self.auto:
            return []
        key = "report_churn.drivers"
        separator = t("report_churn.separator_list", language)
        out = [
            t(
                f"{key}.attributes_auto",
                language,
                items=separator.join(feature_label(c, language) for c in self.chosen),
            )
            if self.chosen
            else t(f"{key}.attributes_auto_none", language)
        ]
        leaks = self.leaks
        if leaks:
            leak = "report_churn.attribute_leak"
            items = separator.join(
                t(
                    f"{leak}.item",
                    language,
                    column=feature_label(c, language),
                    why=t(
                        f"{leak}.{v['reason']}",
                        language,
                        **{
                            k: fmt_number(x, language=language) if k == "n" else x
                            for k, x in v.items()
                        },
                    ),
                )
                for c, v in leaks.items()
            )
            out.append(t(f"{key}.attributes_left_out", language, items=items))
        return out

    def without(self, leaks: Mapping[str, Mapping[str, object]]) -> AttributeChoice:
        """This choice with ``leaks`` (found on the labelled frames) moved to ``skipped``."""
        return AttributeChoice(
            chosen=tuple(c for c in self.chosen if c not in leaks),
            auto=self.auto,
            skipped={**self.skipped, **leaks},
        )


def _is_flag(values: pd.Series) -> bool:
    """Numbers that are a yes/no flag coded 0/1 (e.g. Telco's ``SeniorCitizen``)."""
    observed = set(pd.unique(values.dropna()))
    return len(observed) == 2 and observed <= {0, 1}


def _dates(levels: pd.Index) -> bool:
    """Levels (up to 50 looked at) that are nearly all dates written with digits."""
    sample = pd.Series(levels[:50].astype("string"))
    dated = (
        sample.str.contains(r"\d", regex=True)
        & pd.to_datetime(sample, errors="coerce", format="mixed").notna()
    )
    return bool(dated.mean() > 0.9)


def _skip_reason(
    name: str, values: pd.Series, *, max_levels: int, min_level: int
) -> dict[str, object] | None:
    """Why a customer column is no automatic attribute, or None when it is one."""
    from ..data.schema import PII_COLUMNS  # noqa: PLC0415

    if name in CONTRACT_NOT_ATTRIBUTES:
        return {"reason": CONTRACT_NOT_ATTRIBUTES[name]}
    if name in PII_COLUMNS:
        return {"reason": "pii"}
    if _OUTCOME_NAME.search(name):
        return {"reason": "outcome"}
    if _EXPORT_DATE_NAME.search(name):
        return {"reason": "export_date"}
    nonnull = values.dropna()
    if nonnull.empty:
        return {"reason": "all_missing"}
    if pd.api.types.is_datetime64_any_dtype(values) or isinstance(nonnull.iloc[0], pd.Timestamp):
        return {"reason": "date"}
    if id_like_name(name):
        return {"reason": "id_like"}
    if pd.api.types.is_bool_dtype(values):
        text = values.astype("object")
    elif pd.api.types.is_numeric_dtype(values):
        if not _is_flag(values):
            return {"reason": "numeric"}
        text = values.astype("object")
    else:
        numbers = looks_numeric(values)
        if numbers is not None and not _is_flag(numbers):
            return {"reason": "numeric"}
        text = values
    levels = category_values(text)
    levels = levels.loc[levels != "(missing)"]
    words = sorted({lv for lv in levels.unique() if str(lv).strip().lower() in CHURN_WORDS})
    if words:
        return {"reason": "outcome_values", "level": words[0]}
    counts = levels.value_counts()
    if len(counts) < 2:
        return {"reason": "constant"}
    if _dates(counts.index):
        return {"reason": "date"}
    if len(counts) > max_levels:
        if len(counts) >= 0.5 * len(levels):
            return {"reason": "id_like"}
        return {"reason": "too_many_levels", "levels": int(len(counts))}
    big = counts.loc[counts >= min_level]
    if len(big) < 2 or counts.loc[counts < min_level].sum() > AUTO_SMALL_SHARE * len(levels):
        return {"reason": "small_levels"}
    return None


def choose_attributes(
    customers: pd.DataFrame | None,
    requested: str | Sequence[str] = "auto",
    *,
    max_levels: int = AUTO_MAX_LEVELS,
    min_level: int = AUTO_MIN_LEVEL,
) -> AttributeChoice:
    """The customer attributes of the churn models (``churn.attributes``).

    ``auto`` takes every customer column that describes the customer in a few groups:
    categories (text, yes/no, or numbers coded 0/1) with 2 to ``max_levels`` levels, at
    least two of them held by ``min_level`` customers or more, the smaller ones together
    at most 5% of the customers. Never chosen: ids, the contract's PII columns
    (``name``, ``phone``, ``email``, ``address``), structure (``business_unit``), dates,
    other numbers, and columns that record the outcome rather than explain it: the churn
    columns, a name that says churn (cancel, terminated, retention...), a quantity
    measured at the export date (tenure, total charges: they stop growing at a churn), a
    column with a churn word among its values (a status of ``Churned``, ``Closed``,
    ``Cancelled``...). :func:`leaking_attributes` then checks the chosen ones against
    the churn label. A list is taken as it is, after :func:`check_attributes`.

    Parameters
    ----------
    customers
        The customers table (None: no attribute).
    requested
        ``"auto"`` or a list of column names.

    Returns
    -------
    AttributeChoice

    Raises
    ------
    ParamsError
        ``requested`` is neither ``auto`` nor a list, or names a column the customers table
        does not have (:func:`check_attributes`).

    Examples
    --------
    >>> customers = pd.DataFrame({"customer_id": [f"C{i}" for i in range(40)],
    ...     "contract": ["monthly", "yearly"] * 20, "email": "x@example.com"})
    >>> choose_attributes(customers).chosen
    ('contract',)
    """
    if not isinstance(requested, str):
        names = check_attributes(requested, customers)
        return AttributeChoice(chosen=tuple(names), auto=False)
    if requested != "auto":
        raise ParamsError(
            f"parameter 'churn.attributes' must be auto or a list of customer columns, "
            f"got {requested!r}"
        )
    if customers is None:
        return AttributeChoice()
    chosen, skipped = [], {}
    for col in customers.columns:
        why = _skip_reason(str(col), customers[col], max_levels=max_levels, min_level=min_level)
        if why is None:
            chosen.append(str(col))
        else:
            skipped[str(col)] = why
    return AttributeChoice(chosen=tuple(chosen), auto=True, skipped=skipped)


def check_attributes(names: object, customers: pd.DataFrame | None) -> list[str]:
    """The attribute names of an explicit ``churn.attributes`` list, checked.

    Raises
    ------
    ParamsError
        ``names`` is not a list of strings, a name is a PII column (never used in a
        model), or the customers table (or its absence) does not have a name; the message
        names the parameter, the columns and the columns there are.
    """
    from ..data.schema import PII_COLUMNS  # noqa: PLC0415

    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ParamsError(
            f"parameter 'churn.attributes' must be auto or a list of customer columns, "
            f"got {names!r}"
        )
    pii = [n for n in names if n in PII_COLUMNS]
    if pii:
        raise ParamsError(
            f"parameter 'churn.attributes' names the personal data column(s) "
            f"{', '.join(map(repr, pii))}, which are never used in reports or models"
        )
    have = [] if customers is None else [str(c) for c in customers.columns]
    unknown = [n for n in names if n not in have]
    if unknown:
        where = (
            "there is no customers table"
            if customers is None
            else "the customers table has " + ", ".join(have)
        )
        raise ParamsError(
            f"parameter 'churn.attributes' names column(s) {', '.join(map(repr, unknown))} "
            f"that are not in the customers data ({where}); list customer columns after the "
            "column mapping, or use auto"
        )
    return list(dict.fromkeys(names))


def cramers_v(values: pd.Series, y: np.ndarray) -> float:
    """Cramér's V of a category and a 0/1 label: ``sqrt(chi2 / (n * (min(r, c) - 1)))``
    (Cramér 1946), chi-square without continuity correction; 0 when either is constant."""
    table = pd.crosstab(category_values(values), np.asarray(y)).to_numpy(dtype="float64")
    if table.shape[0] < 2 or table.shape[1] < 2:
        return 0.0
    n = table.sum()
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return math.sqrt(chi2 / (n * (min(table.shape) - 1)))


def leaking_attributes(
    frame: pd.DataFrame,
    columns: Sequence[str],
    label: str = "churned",
    *,
    min_level: int = LEAK_MIN_LEVEL,
    max_v: float = LEAK_CRAMERS_V,
) -> dict[str, dict[str, object]]:
    """Attributes that know the churn label rather than explain it, on a labelled frame.

    A level of at least ``min_level`` customers who all churned (a customer attribute
    does not decide a churn that surely: it was written after it), or Cramér's V with
    the label of at least ``max_v``.

    Returns
    -------
    dict
        Column -> ``{"reason": "pure_level", "level", "n"}`` or
        ``{"reason": "association", "v"}``.
    """
    out: dict[str, dict[str, object]] = {}
    if label not in frame.columns or frame.empty:
        return out
    y = frame[label].to_numpy(dtype=bool)
    for col in columns:
        if col not in frame.columns:
            continue
        values = category_values(frame[col])
        mix = pd.crosstab(values, y)
        if True in mix.columns:
            size = mix.sum(axis=1)
            pure = mix.index[(size >= min_level) & (mix[True] == size)]
            if len(pure):
                level = sorted(pure, key=lambda lv: (-size[lv], str(lv)))[0]
                out[col] = {"reason": "pure_level", "level": str(level), "n": int(size[level])}
                continue
        v = cramers_v(values, y)
        if v >= max_v:
            out[col] = {"reason": "association", "v": round(v, 2)}
    return out

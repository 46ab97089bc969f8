"""The design matrix of the churn models: which columns are numbers, categories, ids or
dates; standardised numbers with missing indicators, one-hot categories against a
reference level; collinear and separating columns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg

from ..errors import DataError
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
    text = pd.Series(values).astype("string").str.strip()
    return text.where(text.notna() & (text != ""), "(missing)").astype("object")


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

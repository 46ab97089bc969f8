"""The data contract (DESIGN §3): tables, columns, types, and the column mapping.

Four tables. Starred (required) columns must be present after the ``columns:`` mapping is
applied; everything else is optional and extra columns are kept.

The mapping (``columns:`` in params) renames or derives contract columns per table::

    columns:
      orders:
        order_id: InvoiceNo                        # rename a source column
        amount: {expr: "Quantity * UnitPrice"}     # arithmetic on source columns
        status: {column: InvoiceNo, startswith: {C: cancelled}, default: completed}
        business_unit: {value: uk}                 # a constant
        channel: {column: Source, map: {W: web, S: store}, default: other}

Expressions allow column names, numbers, ``+ - * /`` and parentheses; a column name that is
not an identifier is written in backticks (`` `Unit Price` ``). Nothing is evaluated as
Python: the expression is parsed with :mod:`ast` and only those node types are accepted.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, ParamsError


@dataclass(frozen=True)
class Table:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    dates: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()


TABLES: dict[str, Table] = {
    "customers": Table(
        "customers",
        required=("customer_id",),
        optional=(
            "business_unit",
            "customer_type",
            "signup_date",
            "region",
            "city",
            "age",
            "birth_date",
            "gender",
            "income_band",
            "acquisition_channel",
            "referred_by",
            "churned",
            "churn_date",
            "churn_reason",
            "name",
            "phone",
            "email",
            "address",
        ),
        dates=("signup_date", "churn_date"),
        numbers=("age",),
        ids=("customer_id", "referred_by"),
    ),
    "orders": Table(
        "orders",
        required=("order_id", "customer_id", "order_date", "amount", "business_unit"),
        optional=("quantity", "product_category", "channel", "discount", "status"),
        dates=("order_date",),
        numbers=("amount", "quantity", "discount"),
        ids=("order_id", "customer_id"),
    ),
    "survey_responses": Table(
        "survey_responses",
        required=("response_id", "response_date", "business_unit"),
        optional=("customer_id", "nps", "csat", "comment", "touchpoint"),
        dates=("response_date",),
        numbers=("nps", "csat"),
        ids=("response_id", "customer_id"),
    ),
    "interactions": Table(
        "interactions",
        required=("interaction_id", "customer_id", "business_unit", "date"),
        optional=("type", "resolved", "resolution_hours", "topic"),
        dates=("date",),
        numbers=("resolution_hours",),
        ids=("interaction_id", "customer_id"),
    ),
}

#: Never cached or reported; ``birth_date`` leaves only its month and day (``birthday``,
#: :func:`analysis.privacy.scrub_dataset`) for the birthdays of the "Needs" report.
PII_COLUMNS = ("name", "phone", "email", "address", "birth_date")
CUSTOMER_TYPES = ("individual", "enterprise", "government", "institution")
ORDER_STATUSES = ("completed", "cancelled", "returned")
INTERACTION_TYPES = ("complaint", "inquiry", "visit", "call", "email", "campaign")
RATING_PREFIX = "rating_"

_TRUE = {"true", "1", "yes", "y", "t", "是"}
_FALSE = {"false", "0", "no", "n", "f", "否"}


# ---- column mapping ----------------------------------------------------------------------
_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.UAdd,
)


def _evaluate_expr(expr: str, frame: pd.DataFrame, table: str, target: str, file: str) -> pd.Series:
    names: dict[str, str] = {}

    def quote(match: re.Match) -> str:
        alias = f"__c{len(names)}"
        names[alias] = match.group(1)
        return alias

    text = re.sub(r"`([^`]+)`", quote, expr)
    where = f"columns.{table}.{target}"
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ParamsError(f"{where}: cannot read expression {expr!r}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ParamsError(
                f"{where}: expression {expr!r} may only use column names, numbers, "
                "+ - * / and parentheses"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ParamsError(f"{where}: only numbers are allowed as constants in {expr!r}")

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            column = names.get(node.id, node.id)
            if column not in frame.columns:
                raise DataError(
                    f"the expression {expr!r} for '{target}' uses column '{column}', "
                    f"which is not in the file (columns: {', '.join(map(str, frame.columns))}).",
                    file=file,
                    column=column,
                )
            parsed = parse_numbers(frame[column], file=file, column=column)
            converted[column] = int(parsed.decimal_comma.sum())
            return parsed.values
        if isinstance(node, ast.UnaryOp):
            inner = value(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        left, right = value(node.left), value(node.right)
        op = node.op
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if np.isscalar(right) and right == 0:
            raise ParamsError(f"{where}: expression {expr!r} divides by zero")
        with np.errstate(divide="ignore", invalid="ignore"):
            return left / right  # a row dividing by zero gives no number (counted later)

    converted: dict[str, int] = {}
    result = value(tree)
    if np.isscalar(result):
        result = pd.Series(result, index=frame.index)
    result = pd.Series(result, index=frame.index, dtype="float64")
    result = result.mask(np.isinf(result))
    result.attrs["decimal_comma"] = {c: n for c, n in converted.items() if n}
    return result


def apply_mapping(
    frame: pd.DataFrame, mapping: Mapping[str, Any] | None, *, table: str, file: str
) -> pd.DataFrame:
    """Rename and derive contract columns as the ``columns.<table>`` params say.

    Source columns that are not mapped are kept under their own names. A mapped source
    column that is missing from the file is a :class:`DataError` naming file and column.
    """
    if not mapping:
        return frame
    if not isinstance(mapping, Mapping):
        raise ParamsError(f"columns.{table} must be a mapping of contract column -> source")
    out = frame.copy()
    derived: dict[str, pd.Series] = {}
    for target, spec in mapping.items():
        where = f"columns.{table}.{target}"
        if isinstance(spec, str):
            if spec not in frame.columns:
                raise DataError(
                    f"the column mapping says '{target}' comes from '{spec}', but the file has "
                    f"no such column (columns: {', '.join(map(str, frame.columns))}).",
                    file=file,
                    column=spec,
                )
            derived[target] = frame[spec]
        elif isinstance(spec, Mapping) and "expr" in spec:
            derived[target] = _evaluate_expr(str(spec["expr"]), frame, table, target, file)
        elif isinstance(spec, Mapping) and "value" in spec:
            derived[target] = pd.Series(spec["value"], index=frame.index, dtype="object")
        elif isinstance(spec, Mapping) and "column" in spec:
            source = spec["column"]
            if source not in frame.columns:
                raise DataError(
                    f"the column mapping for '{target}' reads '{source}', which "
                    "is not in the file.",
                    file=file,
                    column=source,
                )
            text = frame[source].astype("string")
            result = pd.Series(spec.get("default"), index=frame.index, dtype="object")
            if "startswith" in spec:
                for prefix, label in spec["startswith"].items():
                    result[text.str.startswith(str(prefix), na=False)] = label
            elif "map" in spec:
                mapped = text.map({str(k): v for k, v in spec["map"].items()})
                result = mapped.where(mapped.notna(), result)
            else:
                result = frame[source]
            derived[target] = result
        else:
            raise ParamsError(
                f"{where}: use a source column name, {{expr: ...}}, {{value: ...}} or "
                "{column: ..., startswith|map: ..., default: ...}"
            )
    # Source columns consumed by the mapping are dropped (they live on under the contract
    # name); unmapped source columns are kept as extra attributes.
    used: set[str] = set()
    for spec in mapping.values():
        if isinstance(spec, str):
            used.add(spec)
        elif isinstance(spec, Mapping) and "column" in spec:
            used.add(str(spec["column"]))
        elif isinstance(spec, Mapping) and "expr" in spec:
            for quoted, bare in re.findall(r"`([^`]+)`|([A-Za-z_]\w*)", str(spec["expr"])):
                used.add(quoted or bare)
    out = out.drop(columns=[c for c in used if c in out.columns and c not in derived])
    commas: dict[str, int] = {}
    for target, series in derived.items():
        commas.update(getattr(series, "attrs", {}).get("decimal_comma", {}))
        out[target] = series
    out.attrs = {**frame.attrs, "decimal_comma": commas}
    return out


def check_required(frame: pd.DataFrame, table: str, file: str) -> None:
    """Raise a :class:`DataError` naming the first missing required column."""
    missing = [c for c in TABLES[table].required if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:20]))
        raise DataError(
            f"the required column '{missing[0]}' of the {table} table is missing"
            + (f" (also missing: {', '.join(missing[1:])})" if missing[1:] else "")
            + f". The file has: {have}. Rename it in the file or map it with "
            f"'columns: {{{table}: {{{missing[0]}: <your column>}}}}' in the parameters.",
            file=file,
            column=missing[0],
        )


# ---- type conversion helpers -------------------------------------------------------------
#: Cell texts that mean "no value" in id, unit, category, date and number columns (compared
#: case-insensitively). Free text (comments, names) is kept as written.
NULL_TOKENS = frozenset(
    {"null", "none", "nan", "n/a", "#n/a", "-", "--", "nil", "(null)", "<na>", "(blank)"}
)
#: Also null in ids, dates and numbers ("NA" may be a region or a unit: North America).
NULL_TOKENS_STRICT = NULL_TOKENS | {"na", "?", "#null!", "undefined"}


def null_tokens(series: pd.Series, *, strict: bool = True) -> pd.Series:
    """Trimmed text with empty cells and :data:`NULL_TOKENS` as missing (NA)."""
    text = series.astype("string").str.strip()
    tokens = NULL_TOKENS_STRICT if strict else NULL_TOKENS
    return text.mask((text == "") | text.str.lower().isin(tokens))


def clean_ids(series: pd.Series) -> pd.Series:
    """Identifiers as trimmed text; ``17850.0`` (a float-formatted integer) becomes ``17850``;
    empty cells and null tokens (``NULL``, ``N/A``, ``None``, ``-``) are missing."""
    text = null_tokens(series)
    dotted = text.str.contains(".", regex=False, na=False)
    if not dotted.any():
        return text
    return text.mask(dotted, text[dotted].str.replace(r"^(\d+)\.0+$", r"\1", regex=True))


@dataclass(frozen=True)
class ParsedDates:
    """Dates read from text: ``values`` (naive, in the chosen zone), ``zoned`` (a mask of
    the cells that carried a time zone and were converted) and ``order`` (``ymd``, ``dmy``
    or ``mdy``: how numeric day/month dates were read)."""

    values: pd.Series
    zoned: pd.Series
    order: str


_ZONE = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE
)
_DAY_MONTH = r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})((?:[ T].*)?)$"


def parse_dates(
    series: pd.Series,
    *,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
    file: str | None = None,
    column: str | None = None,
) -> ParsedDates:
    """Parse a date column; unreadable cells become NaT (the caller counts them).

    Cells with a time zone (``2024-01-01T23:30:00+08:00``, ``...Z``) are converted to
    ``timezone`` and kept without it; cells without one are taken as already in it.
    Without ``date_format``, ISO dates are read as such; numeric day/month dates
    (``13.01.2024``, ``01/13/2024``) are read in one order for the whole column: the order
    the cells that can only be read one way show (a day above 12), else ``dayfirst``.

    Raises
    ------
    DataError
        The column's rows disagree (some can only be day-first, others only month-first),
        or no row decides and ``dayfirst`` is not set.
    ParamsError
        ``date_format`` is not a usable format.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        return _typed_dates(series, timezone)
    text = null_tokens(series)
    zoned = text.str.contains(_ZONE, na=False)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if zoned.any():
        try:
            stamped = pd.to_datetime(text[zoned], utc=True, errors="coerce", format="mixed")
            out[zoned] = stamped.dt.tz_convert(timezone).dt.tz_localize(None)
        except (ValueError, TypeError):
            pass  # left NaT: counted as unreadable
    plain = text.mask(zoned)
    order = "ymd"
    if date_format:
        try:
            parsed = pd.to_datetime(plain, format=date_format, errors="coerce")
        except ValueError as exc:
            raise ParamsError(
                f"parameter 'date_format' {date_format!r} cannot be used to read dates: {exc}"
            ) from None
        out = out.fillna(parsed.astype("datetime64[ns]"))
        return ParsedDates(out, zoned, "format")
    try:
        iso = pd.to_datetime(plain, format="ISO8601", errors="coerce")
    except ValueError:
        iso = pd.Series(pd.NaT, index=series.index)
    out = out.fillna(iso.astype("datetime64[ns]"))
    rest = plain.mask(iso.notna())
    if rest.notna().any():
        parts = rest.str.extract(_DAY_MONTH)
        numeric = parts[0].notna()
        if numeric.any():
            first = parts.loc[numeric, 0].astype(int)
            second = parts.loc[numeric, 2].astype(int)
            day_first = rest[numeric][first > 12]
            month_first = rest[numeric][second > 12]
            where = f"column '{column}'" if column else "the dates"
            if len(day_first) and len(month_first):
                raise DataError(
                    "the dates are written day-first in some rows and month-first in others, "
                    "so none can be trusted; set 'date_format' (e.g. %d.%m.%Y) to the one "
                    "that is right, or fix the export.",
                    file=file,
                    column=column,
                    examples=[*day_first.head(2), *month_first.head(2)],
                )
            if dayfirst is None:
                if len(day_first) or len(month_first):
                    use_dayfirst = bool(len(day_first))
                else:
                    ambiguous = rest[numeric][first != second]
                    if len(ambiguous):
                        raise DataError(
                            f"{where} can be read day-first or month-first (no day above 12 "
                            "decides it); set 'dayfirst: true' or 'dayfirst: false', or "
                            "'date_format'.",
                            file=file,
                            column=column,
                            examples=ambiguous.head(3).tolist(),
                        )
                    use_dayfirst = False
            else:
                use_dayfirst = bool(dayfirst)
            order = "dmy" if use_dayfirst else "mdy"
            day, month = (parts[0], parts[2]) if use_dayfirst else (parts[2], parts[0])
            year = parts[3].where(parts[3].str.len() == 4, "20" + parts[3])
            two = parts[3].str.len() == 2
            year = year.mask(two & (parts[3].astype(float) >= 69), "19" + parts[3])
            iso_text = (
                year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) + parts[4].fillna("")
            )
            converted = pd.to_datetime(iso_text[numeric], format="ISO8601", errors="coerce")
            out[numeric] = converted.astype("datetime64[ns]")
            rest = rest.mask(numeric)
        if rest.notna().any():  # month names and the like: one reading per cell
            other = pd.to_datetime(
                rest, errors="coerce", dayfirst=bool(dayfirst), format="mixed"
            ).astype("datetime64[ns]")
            out = out.fillna(other)
    return ParsedDates(out, zoned, order)


def _typed_dates(series: pd.Series, timezone: str) -> ParsedDates:
    """Dates that are already dates (a Parquet date or timestamp column): a time zone is
    converted to ``timezone`` and dropped, as for text; dates beyond what nanoseconds hold
    (before 1677 or after 2262) are unreadable, as the same text is."""
    zoned = pd.Series(series.dt.tz is not None, index=series.index) & series.notna()
    if series.dt.tz is not None:
        series = series.dt.tz_convert(timezone).dt.tz_localize(None)
    if series.dtype != "datetime64[ns]":
        inside = (series >= pd.Timestamp.min) & (series <= pd.Timestamp.max)
        series = series.where(inside).astype("datetime64[ns]")
    return ParsedDates(series, zoned, "typed")


def to_dates(
    series: pd.Series, *, date_format: str | None, dayfirst: bool | None = False
) -> pd.Series:
    """Parse dates (:func:`parse_dates`, values only); unparseable cells become NaT."""
    return parse_dates(series, date_format=date_format, dayfirst=dayfirst).values


_COMMA_DECIMAL = re.compile(r"^[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+$")
_DOT_DECIMAL = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d+$|^[-+]?\d{1,3}(?:,\d{3}){2,}$")
_EITHER = re.compile(r"^[-+]?\d{1,3}[.,]\d{3}$")  # 1,234 or 1.234: a thousands group or not
_GROUP_SPACE = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?:\D|$))")


@dataclass(frozen=True)
class ParsedNumbers:
    """Numbers read from text: ``values`` (float, NaN where unreadable) and
    ``decimal_comma`` (a mask of the cells read with a decimal comma)."""

    values: pd.Series
    decimal_comma: pd.Series


def parse_numbers(
    series: pd.Series, *, file: str | None = None, column: str | None = None
) -> ParsedNumbers:
    """Parse a number column, telling a decimal comma (``741,60``) from a thousands
    separator (``1,234.50``) for the whole column.

    A column with decimal-comma numbers (a comma followed by other than three digits, or
    ``1.234,56``) and none written the other way is read with a decimal comma (dots are
    then thousands separators); otherwise commas are thousands separators. Spaces between
    digit groups (``1 234,56``) are dropped.

    Raises
    ------
    DataError
        Both ways appear in the column (``741,60`` and ``741.60``): it cannot be read safely.
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = pd.to_numeric(series, errors="coerce").astype("float64")
        values = values.mask(np.isinf(values))
        return ParsedNumbers(values, pd.Series(False, index=series.index))
    # each distinct text is parsed once (an amount column repeats its values many times)
    codes, distinct = pd.factorize(null_tokens(series), use_na_sentinel=True)
    unique = pd.Series(distinct, dtype="object").str.replace(_GROUP_SPACE, "", regex=True)
    either = unique.str.match(_EITHER)
    comma = unique[unique.str.match(_COMMA_DECIMAL) & ~either]
    dot = unique[unique.str.match(_DOT_DECIMAL) & ~either]
    if len(comma) and len(dot):
        raise DataError(
            "numbers are written with a decimal comma in some rows and a decimal point in "
            "others, so they cannot be read safely; export them one way.",
            file=file,
            column=column,
            examples=[*comma.head(2), *dot.head(2)],
        )
    if len(comma):
        flagged = unique.str.contains(",", regex=False, na=False)
        normal = unique.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        flagged = pd.Series(False, index=unique.index)
        normal = unique.str.replace(",", "", regex=False)
    parsed = pd.to_numeric(normal, errors="coerce").astype("float64").to_numpy(copy=True)
    parsed[np.isinf(parsed)] = np.nan
    missing = codes < 0
    values = np.where(
        missing, np.nan, parsed[np.where(missing, 0, codes)] if len(parsed) else np.nan
    )
    marked = np.where(
        missing,
        False,
        flagged.to_numpy(dtype=bool)[np.where(missing, 0, codes)] if len(parsed) else False,
    )
    values = pd.Series(values, index=series.index, dtype="float64")
    return ParsedNumbers(values, pd.Series(marked, index=series.index) & values.notna())


def to_numbers(series: pd.Series) -> pd.Series:
    """Parse numbers (:func:`parse_numbers`, values only); unreadable cells become NaN."""
    return parse_numbers(series).values


def to_bools(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(_TRUE)] = True
    out[text.isin(_FALSE)] = False
    return out


# ---- pandera schemas: the contract as it holds after cleaning ----------------------------
def _pandera():
    """``pandera.pandas``, imported without its side effects when pyspark is installed (the
    ``[spark]`` extra): pandera then imports ``pyspark.pandas`` (seconds, and a warning on
    stderr under pandas 3) and sets ``SPARK_LOCAL_IP``, which would bind a later Spark
    driver to 127.0.0.1. Neither is needed to validate pandas frames."""
    if "pandera.pandas" in sys.modules:
        return sys.modules["pandera.pandas"]
    saved = {k: os.environ.get(k) for k in ("SPARK_LOCAL_IP", "PYARROW_IGNORE_TIMEZONE")}
    blocked = "pyspark.pandas" not in sys.modules
    if blocked:
        sys.modules["pyspark.pandas"] = None  # an ImportError, which pandera ignores
    try:
        import pandera.pandas as pa  # noqa: PLC0415
    finally:
        if blocked:
            del sys.modules["pyspark.pandas"]
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
    return pa


@cache
def schemas() -> dict:
    """The pandera schema of each clean table (built on first use: pandera is slow to import
    and notebooks reading the runner's cache never need it)."""
    pa = _pandera()

    def schema(table: str, columns: dict) -> pa.DataFrameSchema:
        return pa.DataFrameSchema(columns, strict=False, name=table, coerce=False)

    text = dict(nullable=True, required=False)
    return {
        "customers": schema(
            "customers",
            {
                "customer_id": pa.Column(pa.String, nullable=False, unique=True),
                "signup_date": pa.Column("datetime64[ns]", **text),
                "age": pa.Column(float, pa.Check.in_range(0, 120), **text),
                "churned": pa.Column("boolean", **text),
            },
        ),
        "orders": schema(
            "orders",
            {
                "order_id": pa.Column(pa.String, nullable=False),
                "customer_id": pa.Column(pa.String, nullable=False),
                "order_date": pa.Column("datetime64[ns]", nullable=False),
                "amount": pa.Column(float, nullable=False),
                "business_unit": pa.Column(pa.String, nullable=False),
                "status": pa.Column(pa.String, pa.Check.isin(["completed", "returned"]), **text),
            },
        ),
        "survey_responses": schema(
            "survey_responses",
            {
                "response_id": pa.Column(pa.String, nullable=False, unique=True),
                "response_date": pa.Column("datetime64[ns]", nullable=False),
                "business_unit": pa.Column(pa.String, nullable=False),
                "nps": pa.Column(float, pa.Check.isin(list(range(11))), **text),
                "csat": pa.Column(float, **text),  # its scale is declared (survey.scales)
            },
        ),
        "interactions": schema(
            "interactions",
            {
                "interaction_id": pa.Column(pa.String, nullable=False),
                "customer_id": pa.Column(pa.String, nullable=False),
                "business_unit": pa.Column(pa.String, nullable=False),
                "date": pa.Column("datetime64[ns]", nullable=False),
            },
        ),
    }


#: Oldest plausible age in years: a birth date further back is a placeholder (1900-01-01),
#: not a customer's birthday (the same bound as the ``age`` column).
MAX_AGE_YEARS = 120


def check_birth_dates(
    values: pd.Series,
    *,
    file: str,
    today: pd.Timestamp | str | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> pd.Series:
    """Read and check the optional ``birth_date`` column of the customers (PII).

    A birth date must be a readable date, not after ``today`` and at most
    :data:`MAX_AGE_YEARS` years before it. Empty cells and null tokens are fine (the column
    is optional). The error never shows a birth date, only how many break the rule and
    the first lines (data rows counted from 2, after the header).

    Parameters
    ----------
    values
        The ``birth_date`` column as read (text, or dates from Parquet).
    file
        The customers file, for the message.
    today
        The reference day (default: today, UTC).
    date_format, dayfirst
        As for the other dates (:func:`parse_dates`).

    Returns
    -------
    Series
        The birth dates as dates (NaT where empty).

    Raises
    ------
    DataError
        Some birth dates cannot be read, lie in the future or are implausibly old; or
        day-first and month-first cannot be told apart.

    Examples
    --------
    >>> check_birth_dates(pd.Series(["1980-02-29", None]), file="c.csv", today="2026-01-01").tolist()
    [Timestamp('1980-02-29 00:00:00'), NaT]
    """
    raw = values if pd.api.types.is_datetime64_any_dtype(values) else null_tokens(values)
    try:
        parsed = parse_dates(raw, date_format=date_format, dayfirst=dayfirst).values
    except DataError as exc:  # its examples would be birth dates: say it without them
        raise DataError(
            exc.problem.replace("the dates", "the birth dates"), file=file, column="birth_date"
        ) from None
    day = pd.Timestamp(today) if today is not None else pd.Timestamp.now("UTC")
    day = day.tz_localize(None).normalize() if day.tzinfo else day.normalize()
    oldest = day - pd.DateOffset(years=MAX_AGE_YEARS)
    problems = (
        (parsed.isna() & raw.notna(), "cannot be read as dates"),
        (parsed > day, f"lie in the future (after {day.date()})"),
        (parsed < oldest, f"are more than {MAX_AGE_YEARS} years ago (placeholders?)"),
    )
    for bad, what in problems:
        if bad.any():
            where = bad.index[bad.to_numpy()][:5]  # the loader keeps the file's row numbers
            lines = [str(int(i) + 2) if isinstance(i, (int, np.integer)) else str(i) for i in where]
            raise DataError(
                f"birth dates that {what}: {int(bad.sum())}, e.g. on data lines {', '.join(lines)} "
                "(values not shown: birth dates are personal data). Correct or empty those "
                "cells; the column is optional.",
                file=file,
                column="birth_date",
            )
    return parsed


def validate_contract(frame: pd.DataFrame, table: str, file: str) -> pd.DataFrame:
    """Check a cleaned table against its pandera schema; a failure is a :class:`DataError`
    naming the file, the column and example rows (it means a repair rule is missing)."""
    _pandera()
    from pandera.errors import SchemaErrors  # noqa: PLC0415

    if table == "customers" and "birth_date" in frame.columns:
        check_birth_dates(frame["birth_date"], file=file)
    try:
        return schemas()[table].validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        first = cases.iloc[0]
        examples = cases["failure_case"].astype(str).head(5).tolist()
        raise DataError(
            f"after cleaning, the {table} table still breaks the contract: {first['check']}.",
            file=file,
            column=str(first.get("column")),
            examples=examples,
        ) from None

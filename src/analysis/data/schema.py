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
import re
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

PII_COLUMNS = ("name", "phone", "email", "address")
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
            return pd.to_numeric(frame[column], errors="coerce")
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
        return left / right

    result = value(tree)
    if np.isscalar(result):
        result = pd.Series(result, index=frame.index)
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
    for target, series in derived.items():
        out[target] = series
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
def clean_ids(series: pd.Series) -> pd.Series:
    """Identifiers as trimmed text; ``17850.0`` (a float-formatted integer) becomes ``17850``."""
    text = series.astype("string").str.strip()
    text = text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    return text.mask(text == "")


def to_dates(series: pd.Series, *, date_format: str | None, dayfirst: bool) -> pd.Series:
    """Parse dates; unparseable cells become NaT (the caller counts them)."""
    text = series.astype("string").str.strip()
    if date_format:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    else:
        try:
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except ValueError:
            parsed = pd.Series(pd.NaT, index=series.index)
        if parsed.notna().sum() < text.notna().sum():  # not ISO: let pandas infer
            other = pd.to_datetime(text, errors="coerce", dayfirst=dayfirst, format="mixed")
            parsed = parsed.fillna(other)
    return parsed.astype("datetime64[ns]")


def to_numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(
        series.astype("string").str.strip().str.replace(",", ""), errors="coerce"
    ).astype("float64")


def to_bools(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(_TRUE)] = True
    out[text.isin(_FALSE)] = False
    return out


# ---- pandera schemas: the contract as it holds after cleaning ----------------------------
@cache
def schemas() -> dict:
    """The pandera schema of each clean table (built on first use: pandera is slow to import
    and notebooks reading the runner's cache never need it)."""
    import pandera.pandas as pa  # noqa: PLC0415

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


def validate_contract(frame: pd.DataFrame, table: str, file: str) -> pd.DataFrame:
    """Check a cleaned table against its pandera schema; a failure is a :class:`DataError`
    naming the file, the column and example rows (it means a repair rule is missing)."""
    from pandera.errors import SchemaErrors  # noqa: PLC0415

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

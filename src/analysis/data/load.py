"""Load the four input tables, apply the column mapping, repair and validate them once.

:func:`load_dataset` is where data enters segreport: everything after it works on clean,
typed tables that satisfy the contract (DESIGN §3), and every repair is counted in
``Dataset.quality``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import resolve_path
from ..errors import DataError, ParamsError
from ..lookup import isin
from . import billing, schema
from .io import file_digest, find_table, read_table
from .quality import DataQualityReport, Repair

TABLE_ORDER = ("customers", "orders", "survey_responses", "interactions")
#: Tables whose id column may be absent from an export (one row per respondent or per
#: customer): the ids are then made from the row order, and the repair is counted.
ROW_ORDER_IDS = {"survey_responses": "response_id", "customers": "customer_id"}
#: Dates before ``quality.earliest_date`` (default) are placeholders (1900-01-01, 1970-01-01).
DEFAULT_EARLIEST = "1980-01-01"
#: Without ``quality.max_amount``, an amount above this many times the 99th percentile of
#: the absolute amounts is implausible (a typo or a placeholder such as 1e18).
AMOUNT_SPREAD = 10_000
#: A discount above this share of the order's gross value (amount + discount) is implausible.
MAX_DISCOUNT_SHARE = 0.95
#: An orders export where at least this share of rows repeat an order id is one of order
#: lines (several rows per order), else one of orders (a repeated id is a second version).
LINE_EXPORT_SHARE = 0.05


@dataclass
class Dataset:
    """Clean input tables plus the quality report and where they came from."""

    customers: pd.DataFrame
    orders: pd.DataFrame
    survey_responses: pd.DataFrame | None = None
    interactions: pd.DataFrame | None = None
    quality: DataQualityReport = field(default_factory=DataQualityReport)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def data_end(self) -> pd.Timestamp | None:
        """The "data date" shown in report headers: the last order date; without orders
        (survey-only data) the last survey response or interaction date."""
        if not self.orders.empty:
            return self.orders["order_date"].max().normalize()
        last = [
            frame[column].max()
            for frame, column in (
                (self.survey_responses, "response_date"),
                (self.interactions, "date"),
            )
            if frame is not None and not frame.empty
        ]
        return max(last).normalize() if last else None

    @property
    def units(self) -> list[str]:
        """Business units with orders, survey responses or interactions."""
        found: set[str] = set()
        for frame in (self.orders, self.survey_responses, self.interactions):
            if frame is not None:
                found |= set(frame["business_unit"].dropna().unique().tolist())
        return sorted(found)

    def tables(self) -> dict[str, pd.DataFrame | None]:
        return {name: getattr(self, name) for name in TABLE_ORDER}

    def for_unit(self, unit: str) -> Dataset:
        """Only the unit's orders, surveys and interactions, and the customers who have
        any of them (or whose ``business_unit`` is the unit). ``all`` returns everything."""
        if unit == "all":
            return self

        def own(frame: pd.DataFrame | None) -> pd.DataFrame | None:
            if frame is None:
                return None
            return frame.loc[frame["business_unit"] == unit].reset_index(drop=True)

        orders, surveys, interactions = (
            own(self.orders),
            own(self.survey_responses),
            own(self.interactions),
        )
        # answers and contacts of customers who belong to other units only stay out
        # (counted at loading as other_unit_customer)
        pairs = self._unit_pairs
        if surveys is not None:
            surveys = surveys.loc[~other_unit_rows(surveys, pairs)].reset_index(drop=True)
        if interactions is not None:
            interactions = interactions.loc[~other_unit_rows(interactions, pairs)]
            interactions = interactions.reset_index(drop=True)
        ids = [orders["customer_id"]]
        if interactions is not None:
            ids.append(interactions["customer_id"])
        members = _member(self.customers["customer_id"], pd.concat(ids, ignore_index=True))
        if "business_unit" in self.customers.columns:
            members |= (self.customers["business_unit"] == unit).fillna(False).to_numpy(bool)
        return replace(
            self,
            customers=self.customers.loc[members].reset_index(drop=True),
            orders=orders,
            survey_responses=surveys,
            interactions=interactions,
            quality=self.quality.for_unit(unit),
        )

    @cached_property
    def _unit_pairs(self) -> pd.DataFrame:
        return unit_pairs(self.customers, self.orders)


def unit_pairs(customers: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """The (customer_id, business_unit) pairs of who belongs where: the units a customer
    has orders in, and the customers table's ``business_unit``."""
    parts = [orders[["customer_id", "business_unit"]]]
    if "business_unit" in customers.columns:
        parts.append(customers[["customer_id", "business_unit"]])
    pairs = pd.concat(parts, ignore_index=True).dropna().astype("string")
    return pairs.loc[~_duplicated(pairs).to_numpy()].reset_index(drop=True)


def other_unit_rows(frame: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Rows (survey answers, interactions) filed under a unit their customer does not
    belong to, while belonging to another: the unit's reports leave them out. Anonymous
    rows and customers who belong to no unit stay."""
    if frame.empty or "customer_id" not in frame.columns or pairs.empty:
        return np.zeros(len(frame), dtype=bool)
    ids = frame["customer_id"].astype("string")
    somewhere = _member(ids, pairs["customer_id"])
    key = ids.fillna("") + "\x1f" + frame["business_unit"].astype("string").fillna("")
    here = _member(key, pairs["customer_id"] + "\x1f" + pairs["business_unit"])
    return somewhere & ~here & ids.notna().to_numpy(bool)


# ---- array helpers: the loader works on millions of rows ------------------------------------
def _arrow(values) -> Any:
    """``values`` (a Series, an Index or a collection) as one Arrow array of text, or None
    when they are not all text."""
    import pyarrow as pa  # noqa: PLC0415

    if isinstance(values, set | frozenset):
        values = list(values)
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_null(array.type):
        array = array.cast(pa.large_string())
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return None
    return array.cast(pa.large_string())


def _member(values, members) -> np.ndarray:
    """:func:`analysis.lookup.isin` (a missing value is a member when ``members`` holds
    one), by Arrow's hash lookup when both sides are text."""
    import pyarrow.compute as pc  # noqa: PLC0415

    left, right = _arrow(values), _arrow(members)
    if left is None or right is None:
        return isin(values, members)
    found = pc.is_in(left, value_set=right.unique(), skip_nulls=False)
    return found.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _codes(series: pd.Series) -> np.ndarray:
    """One integer per value (equal values, and all missing values, share one), >= 0."""
    import pyarrow.compute as pc  # noqa: PLC0415

    array = _arrow(series) if not _typed(series) else None
    if array is not None:
        encoded = pc.dictionary_encode(array)
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        return codes.astype(np.int64, copy=False) + 1
    codes, _ = pd.factorize(series.to_numpy() if _typed(series) else series)
    return codes.astype(np.int64, copy=False) + 1


def _duplicated(frame: pd.DataFrame | pd.Series, keep: str | bool = "first") -> pd.Series:
    """``frame.duplicated(keep=keep)``, with the rows keyed by integer codes column by
    column. Typed columns go first (cheap to encode), and after each column only the rows
    whose key so far repeats stay candidates: a row unique in some columns is unique, so
    long text columns (order ids) are encoded only for the few rows that may repeat."""
    columns = [frame] if isinstance(frame, pd.Series) else [frame[c] for c in frame.columns]
    columns.sort(key=lambda column: not _typed(column))
    size = len(frame)
    rows = np.arange(size)
    key, cardinality = np.zeros(size, dtype=np.int64), 1
    for column in columns:
        if not len(rows):
            break
        codes = _codes(column if len(rows) == size else column.iloc[rows])
        card = int(codes.max()) + 1
        if cardinality * card >= 2**62:  # renumber the combinations seen so far
            key, uniques = pd.factorize(key)
            cardinality = len(uniques)
        key, cardinality = key * card + codes, cardinality * card
        repeats = pd.Series(key).duplicated(keep=False).to_numpy()
        if not repeats.all():
            rows, key = rows[repeats], key[repeats]
    out = np.zeros(size, dtype=bool)
    if len(rows):
        out[rows] = pd.Series(key).duplicated(keep=keep).to_numpy()
    return pd.Series(out, index=frame.index)


def _without(frame: pd.DataFrame, mask) -> pd.DataFrame:
    """``frame`` without the rows of ``mask``; when there are none, a shallow copy (the
    cleaners then set columns on it without touching the caller's frame)."""
    mask = np.asarray(mask, dtype=bool) if not isinstance(mask, pd.Series) else mask
    if not mask.any():
        return frame.copy(deep=False)
    return frame.loc[~mask]


def _prepare(frame: pd.DataFrame, table: str, file: str, params: dict, report) -> pd.DataFrame:
    """Mapping, required-column check and type conversion of one raw table."""
    mapping = (params.get("columns") or {}).get(table)
    frame = schema.apply_mapping(frame, mapping, table=table, file=file)
    spec = schema.TABLES[table]
    parsed = {*spec.dates, *spec.numbers, *spec.ids}
    for column in frame.columns:  # typed Parquet columns the loader does not parse are
        if column not in parsed and _typed(frame[column]):  # text, as from a CSV file
            frame[column] = frame[column].astype("string")
    for source, rows in (frame.attrs.get("decimal_comma") or {}).items():
        report.repairs.append(Repair(table, "decimal_comma", "converted", rows, column=source))
    rows_id = ROW_ORDER_IDS.get(table)
    if rows_id and rows_id not in frame.columns:  # made from the row order (counted)
        frame[rows_id] = pd.Series(pd.NA, index=frame.index, dtype="string")
    schema.check_required(frame, table, file)
    for column in spec.ids:
        if column in frame.columns:
            frame[column] = schema.clean_ids(frame[column])
    for column in (
        "business_unit",
        "status",
        "customer_type",
        "type",
        "channel",
        "product_category",
        "touchpoint",
        "region",
        "city",
        "gender",
    ):
        if column in frame.columns:  # empty cells and null tokens ("NULL", "N/A") missing
            frame[column] = schema.null_tokens(frame[column], strict=False)
    for column in ("status", "customer_type", "type"):
        if column in frame.columns:
            frame[column] = frame[column].str.lower()
    return frame


def _typed(series: pd.Series) -> bool:
    kind = series.dtype
    return pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_datetime64_any_dtype(kind)


def _read_dates(frame, file, column, params):
    """A date column as read (null tokens blank; typed dates from Parquet stay typed) and
    :func:`schema.parse_dates` of it with the file's date options."""
    raw = frame[column]
    if not pd.api.types.is_datetime64_any_dtype(raw):
        raw = schema.null_tokens(raw)
    read = schema.parse_dates(
        raw,
        date_format=params.get("date_format"),
        dayfirst=params.get("dayfirst"),
        timezone=params.get("timezone") or "UTC",
        file=file,
        column=column,
    )
    return raw, read


def _parse_dates(frame, table, file, column, report, params, *, required: bool):
    raw, read = _read_dates(frame, file, column, params)
    parsed = read.values
    if read.zoned.any():
        report.record(
            table,
            "time_zone",
            "converted",
            read.zoned,
            frame,
            column=column,
            example_cols=[column],
        )
    bad = parsed.isna() & raw.notna()
    if required:
        bad |= raw.isna()
    if required and bad.all() and len(frame):
        raise DataError(
            f"no value of the date column '{column}' can be read as a date.",
            file=file,
            column=column,
            examples=raw.dropna().head(5).tolist(),
        )
    frame[column] = parsed
    if bad.any():
        if required:
            report.record(
                table, "bad_date", "removed", bad, frame, column=column, example_cols=[column]
            )
            frame = _without(frame, bad)
        else:
            report.record(table, "bad_date", "set_missing", bad, frame, column=column)
            frame.loc[bad, column] = pd.NaT
    earliest = _earliest_date(params)
    early = frame[column] < earliest
    if early.any():  # placeholders such as 1900-01-01 or 1970-01-01
        if required:
            report.record(
                table,
                "implausible_date",
                "removed",
                early,
                frame,
                column=column,
                example_cols=[column],
                amount_col="amount",
            )
            frame = _without(frame, early)
        else:
            report.record(
                table,
                "implausible_date",
                "set_missing",
                early,
                frame,
                column=column,
                example_cols=[column],
            )
            frame.loc[early, column] = pd.NaT
    return frame


def _earliest_date(params) -> pd.Timestamp:
    """``quality.earliest_date``: dates before it are placeholders, not real dates."""
    value = (params.get("quality") or {}).get("earliest_date") or DEFAULT_EARLIEST
    return pd.Timestamp(str(value)).normalize()


def _numbers(frame, table, file, column, report, *, rule="bad_number"):
    """Read a number column (:func:`analysis.data.schema.parse_numbers`); a decimal comma
    is counted as converted, and with ``rule`` cells that are not numbers are counted as
    set to missing."""
    raw = frame[column]
    if not pd.api.types.is_numeric_dtype(raw):
        raw = schema.null_tokens(raw)
    read = schema.parse_numbers(raw, file=file, column=column)
    if read.decimal_comma.any():
        report.record(table, "decimal_comma", "converted", read.decimal_comma, frame, column=column)
    bad = read.values.isna() & raw.notna()
    frame[column] = read.values
    if rule and bad.any():
        report.record(table, rule, "set_missing", bad, frame, column=column, example_cols=[column])
    return bad


def _drop_future(frame, table, column, report, today):
    future = frame[column] > pd.Timestamp(today) + pd.Timedelta(days=1)
    if future.any():
        report.record(
            table,
            "future_date",
            "removed",
            future,
            frame,
            column=column,
            example_cols=[column],
            amount_col="amount",
        )
    return _without(frame, future)


def _generate_ids(frame, table, column, prefix, report):
    """Ids for rows without one, from the row order: ``<prefix><n>`` for the n-th data row
    of the file (stable: the same file gives the same ids)."""
    missing = frame[column].isna()
    if missing.any():
        report.record(table, "missing_id", "generated", missing, frame, column=column)
        rows = np.asarray(frame.index[missing.to_numpy()], dtype=np.int64) + 1
        frame.loc[missing, column] = [f"{prefix}{n}" for n in rows]
    return frame


def _without_ids(frame, table, column, report):
    """An export without ids: exact duplicate rows are kept (two respondents may answer
    alike, and nothing tells them from a repeated row), and the fact is noted."""
    if len(frame) and frame[column].isna().all():
        report.notes.append({"key": "quality.note.ids_from_rows", "table": table})
        return True
    return False


def _drop_missing(frame, table, column, rule, report, amount_col=None):
    missing = frame[column].isna()
    if missing.any():
        report.record(table, rule, "removed", missing, frame, column=column, amount_col=amount_col)
    return _without(frame, missing)


def _drop_duplicates(frame, table, report):
    dupes = _duplicated(frame, keep="first")
    if dupes.any():
        report.record(table, "duplicate_rows", "removed", dupes, frame)
    return _without(frame, dupes)


def _clean_orders(raw, file, params, report, today):
    frame = _drop_duplicates(raw, "orders", report)
    del raw  # freed once cleaning filters rows (load_dataset keeps no reference)
    frame = _prepare(frame, "orders", file, params, report)
    frame = _drop_missing(frame, "orders", "business_unit", "missing_business_unit", report)
    frame = _parse_dates(frame, "orders", file, "order_date", report, params, required=True)
    shown = frame["amount"].head(5).tolist()
    _numbers(frame, "orders", file, "amount", report, rule=None)
    bad = frame["amount"].isna()
    if bad.all() and len(frame):
        raise DataError(
            "no value of 'amount' is a number.", file=file, column="amount", examples=shown
        )
    if bad.any():
        report.record("orders", "bad_amount", "removed", bad, frame, column="amount")
        frame = _without(frame, bad)
    frame = _drop_implausible_amounts(frame, params, report)
    for column in ("quantity", "discount"):
        if column in frame.columns:
            _numbers(frame, "orders", file, column, report)
    frame = _drop_future(frame, "orders", "order_date", report, today)
    frame = _drop_missing(frame, "orders", "customer_id", "missing_customer_id", report, "amount")
    frame = _generate_ids(frame, "orders", "order_id", "generated-", report)
    frame = _drop_conflicting_orders(frame, report)
    _check_quantity_and_discount(frame, report)
    if "status" not in frame.columns:
        frame["status"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    status = frame["status"]
    unknown = status.notna() & ~status.isin(schema.ORDER_STATUSES)
    if unknown.any():
        report.record(
            "orders",
            "unknown_status",
            "kept",
            unknown,
            frame,
            column="status",
            example_cols=["status"],
        )
    cancelled = status == "cancelled"
    if cancelled.any():
        report.record("orders", "cancelled", "excluded", cancelled, frame, amount_col="amount")
        frame = _without(frame, cancelled.fillna(False))
    zero = frame["amount"] == 0
    if zero.any():
        report.record("orders", "zero_amount", "removed", zero, frame)
        frame = _without(frame, zero)
    refund = frame["amount"] < 0
    if refund.any():
        report.record("orders", "refund", "kept", refund, frame, amount_col="amount")
    # Refund rows are "returned", everything else that remains is a completed purchase.
    frame["status"] = np.where(refund, "returned", "completed")
    frame["status"] = frame["status"].astype("string")
    return frame.reset_index(drop=True)


def _drop_implausible_amounts(frame, params, report):
    """Amounts beyond ``quality.max_amount`` (absolute), or without it beyond
    :data:`AMOUNT_SPREAD` times the 99th percentile of the absolute amounts: removed."""
    size = frame["amount"].abs()
    limit = (params.get("quality") or {}).get("max_amount")
    if limit is None:
        nonzero = size[size > 0]
        if len(nonzero) < 20:
            return frame
        limit = AMOUNT_SPREAD * float(nonzero.quantile(0.99))
    wild = size > float(limit)
    if wild.any():
        report.record(
            "orders",
            "implausible_amount",
            "removed",
            wild,
            frame,
            column="amount",
            amount_col="amount",
            example_cols=["order_id", "amount"],
        )
        frame = _without(frame, wild)
    return frame


def _drop_conflicting_orders(frame, report):
    """One order id on rows that disagree, in an export of one row per order (fewer than
    :data:`LINE_EXPORT_SHARE` of the rows repeat an id): the rows are versions of one order
    and the first is kept. In an export of order lines (ids repeat by design, as in UCI
    Online Retail) every line is kept."""
    repeated = _duplicated(frame["order_id"], keep=False)
    if not repeated.any() or repeated.mean() >= LINE_EXPORT_SHARE:
        return frame
    conflict = _duplicated(frame["order_id"], keep="first")
    report.record(
        "orders",
        "duplicate_order_id",
        "removed",
        conflict,
        frame,
        column="order_id",
        amount_col="amount",
        example_cols=["order_id", "amount"],
    )
    return _without(frame, conflict)


def _check_quantity_and_discount(frame, report):
    """A negative quantity on a sale (a refund may carry one), and a discount below zero
    or above :data:`MAX_DISCOUNT_SHARE` of the order's gross value (amount paid plus
    discount: a discount many times the amount paid), cannot be right: set to missing."""
    checks = []
    if "quantity" in frame.columns:
        checks.append(("quantity", (frame["quantity"] < 0) & (frame["amount"] > 0)))
    if "discount" in frame.columns:
        gross = frame["amount"].abs() + frame["discount"]
        checks.append(
            ("discount", (frame["discount"] < 0) | (frame["discount"] > MAX_DISCOUNT_SHARE * gross))
        )
    for column, odd in checks:
        if odd.any():
            report.record(
                "orders",
                "implausible_value",
                "set_missing",
                odd,
                frame,
                column=column,
                example_cols=["order_id", column, "amount"],
            )
            frame.loc[odd, column] = np.nan


def _birth_dates(frame, file, report, params, today):
    """The optional ``birth_date`` (PII): read with the file's date options; an unreadable
    value, one after ``today`` or one more than :data:`schema.MAX_AGE_YEARS` years before
    it (placeholders such as 1900-01-01) is set missing and counted, never shown: the
    quality table names the rule and the count only. ``quality.earliest_date`` does not
    apply (real births come before it)."""
    try:
        raw, read = _read_dates(frame, file, "birth_date", params)
    except DataError as exc:  # its examples would be birth dates: say it without them
        raise DataError(
            exc.problem.replace("the dates", "the birth dates"), file=file, column="birth_date"
        ) from None
    parsed = read.values
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    day = pd.Timestamp(today).normalize()
    rules = (
        ("bad_date", parsed.isna() & raw.notna()),
        ("future_date", parsed > day),
        ("implausible_date", parsed < day - pd.DateOffset(years=schema.MAX_AGE_YEARS)),
    )
    frame["birth_date"] = parsed
    for rule, bad in rules:
        if bad.any():  # no example columns: birth dates are personal data
            report.record("customers", rule, "set_missing", bad, frame, column="birth_date")
            frame.loc[bad, "birth_date"] = pd.NaT
    return frame


def _clean_customers(raw, file, params, report, today):
    frame = _prepare(raw, "customers", file, params, report)
    if _without_ids(frame, "customers", "customer_id", report):
        frame = _generate_ids(frame, "customers", "customer_id", "generated-", report)
        frame.attrs["generated_ids"] = True  # fine alone (billing derived from it), not with orders
    else:
        frame = _drop_duplicates(frame, "customers", report)
        frame = _drop_missing(frame, "customers", "customer_id", "missing_customer_id", report)
    dupes = _duplicated(frame["customer_id"], keep="first")
    if dupes.any():
        report.record(
            "customers",
            "duplicate_customer_id",
            "removed",
            dupes,
            frame,
            column="customer_id",
            example_cols=["customer_id"],
        )
        frame = _without(frame, dupes)
    for column in ("signup_date", "churn_date"):
        if column in frame.columns:
            frame = _parse_dates(frame, "customers", file, column, report, params, required=False)
            future = frame[column] > pd.Timestamp(today) + pd.Timedelta(days=1)
            if future.any():
                report.record(
                    "customers", "future_date", "set_missing", future, frame, column=column
                )
                frame.loc[future, column] = pd.NaT
    if "birth_date" in frame.columns:
        frame = _birth_dates(frame, file, report, params, today)
    if "age" in frame.columns:
        _numbers(frame, "customers", file, "age", report)
        bad = (frame["age"] < 0) | (frame["age"] > 120)
        if bad.any():
            report.record("customers", "out_of_range", "set_missing", bad, frame, column="age")
            frame.loc[bad, "age"] = np.nan
    if "churned" in frame.columns:
        frame["churned"] = schema.to_bools(frame["churned"])
    for column in billing.SUBSCRIPTION_COLUMNS:
        if column in frame.columns:
            _numbers(frame, "customers", file, column, report)
    if "customer_type" in frame.columns:
        odd = frame["customer_type"].notna() & ~frame["customer_type"].isin(schema.CUSTOMER_TYPES)
        if odd.any():
            report.record(
                "customers",
                "unknown_category",
                "kept",
                odd,
                frame,
                column="customer_type",
                example_cols=["customer_type"],
            )
            frame.loc[odd, "customer_type"] = "other"
    return frame.reset_index(drop=True)


def _clean_surveys(raw, file, params, report, today):
    frame = _prepare(raw, "survey_responses", file, params, report)
    if not _without_ids(frame, "survey_responses", "response_id", report):
        frame = _drop_duplicates(frame, "survey_responses", report)
    frame = _drop_missing(
        frame, "survey_responses", "business_unit", "missing_business_unit", report
    )
    frame = _parse_dates(
        frame, "survey_responses", file, "response_date", report, params, required=True
    )
    frame = _drop_future(frame, "survey_responses", "response_date", report, today)
    frame = _generate_ids(frame, "survey_responses", "response_id", "generated-", report)
    dupes = _duplicated(frame["response_id"], keep="first")
    if dupes.any():  # same id, different content: keep the answers, make the id unique
        report.record(
            "survey_responses", "missing_id", "generated", dupes, frame, column="response_id"
        )
        frame.loc[dupes, "response_id"] = (
            frame.loc[dupes, "response_id"]
            + "-"
            + pd.Series(range(int(dupes.sum())), index=frame.index[dupes]).astype(str)
        )
    # declared scales (survey.scales); a fraction inside a scale is a valid answer
    from ..satisfaction import scales as survey_scales  # noqa: PLC0415

    survey_scales.check_outcome(params, frame.columns, file)
    for column, scale in survey_scales.declared_scales(params, frame.columns).items():
        given = schema.null_tokens(frame[column]).notna()
        _numbers(frame, "survey_responses", file, column, report, rule=None)
        values, _ = survey_scales.out_of_scale(frame[column], column, scale)
        invalid = given & values.isna()  # outside the scale, or no number
        if invalid.any():
            report.record(
                "survey_responses",
                "out_of_range",
                "set_missing",
                invalid,
                frame,
                column=column,
                example_cols=["response_id", column],
            )
        frame[column] = values.mask(invalid)
    if "customer_id" not in frame.columns:
        frame["customer_id"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame.reset_index(drop=True)


def _clean_interactions(raw, file, params, report, today):
    frame = _drop_duplicates(raw, "interactions", report)
    frame = _prepare(frame, "interactions", file, params, report)
    frame = _drop_missing(frame, "interactions", "business_unit", "missing_business_unit", report)
    frame = _drop_missing(frame, "interactions", "customer_id", "missing_customer_id", report)
    frame = _parse_dates(frame, "interactions", file, "date", report, params, required=True)
    frame = _drop_future(frame, "interactions", "date", report, today)
    frame = _generate_ids(frame, "interactions", "interaction_id", "generated-", report)
    if "type" in frame.columns:
        odd = frame["type"].notna() & ~frame["type"].isin(schema.INTERACTION_TYPES)
        if odd.any():
            report.record(
                "interactions",
                "unknown_category",
                "kept",
                odd,
                frame,
                column="type",
                example_cols=["type"],
            )
            frame.loc[odd, "type"] = "other"
    if "resolved" in frame.columns:
        frame["resolved"] = schema.to_bools(frame["resolved"])
    if "resolution_hours" in frame.columns:
        _numbers(frame, "interactions", file, "resolution_hours", report)
    return frame.reset_index(drop=True)


def _customers_from_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """When there is no customers file: one row per customer, signup = first order,
    business_unit = the unit with most of their orders."""
    first = orders.groupby("customer_id", sort=True)["order_date"].min()
    unit = (
        orders.groupby(["customer_id", "business_unit"])
        .size()
        .reset_index(name="n")
        .sort_values(["customer_id", "n", "business_unit"], ascending=[True, False, True])
        .drop_duplicates("customer_id")
        .set_index("customer_id")["business_unit"]
    )
    frame = pd.DataFrame(
        {
            "customer_id": first.index.astype("string"),
            "signup_date": first.to_numpy(),
            "business_unit": unit.reindex(first.index).to_numpy(),
        }
    )
    frame["business_unit"] = frame["business_unit"].astype("string")
    return frame


def _add_unknown_customers(customers, frame, table, report):
    known = _member(frame["customer_id"], customers["customer_id"])
    unknown = pd.Series(~known, index=frame.index)
    if not unknown.any():
        return customers
    report.record(
        table,
        "unknown_customer",
        "added",
        unknown,
        frame,
        column="customer_id",
        amount_col="amount" if "amount" in frame.columns else None,
        example_cols=["customer_id"],
    )
    new_ids = frame.loc[unknown, "customer_id"].drop_duplicates()
    stub = pd.DataFrame({"customer_id": new_ids.astype("string").to_numpy()})
    if "business_unit" in customers.columns:
        units = (
            frame.loc[unknown]
            .drop_duplicates("customer_id")
            .set_index("customer_id")["business_unit"]
        )
        stub["business_unit"] = units.reindex(new_ids).to_numpy()
    return pd.concat([customers, stub], ignore_index=True)


def resolve_files(params: dict[str, Any], folder: Path) -> dict[str, tuple[Path | None, str]]:
    """Where each table comes from: ``(path, how)`` per table in :data:`TABLE_ORDER`.

    ``files.<table>`` is a file name (inside ``folder`` unless absolute; ``how`` is
    ``"named"``), ``auto`` (found by the table name with any supported extension,
    :func:`analysis.data.io.find_table`; ``"auto"``, path None when there is none) or null
    (no such table; ``"none"``). A named ``<table>.csv`` that does not exist is looked for
    as ``auto`` (the name older parameter files carry as their default).
    """
    files = params.get("files") or {}
    out: dict[str, tuple[Path | None, str]] = {}
    for table in TABLE_ORDER:
        name = files.get(table, "auto")
        if name is None or str(name).strip() in ("", "none", "null"):
            out[table] = (None, "none")
            continue
        name = str(name).strip()
        if name != "auto":
            path = Path(name) if Path(name).is_absolute() else folder / name
            if path.exists() or name != f"{table}.csv":
                out[table] = (path, "named")
                continue
        out[table] = (find_table(folder, table), "auto")
    return out


def empty_orders() -> pd.DataFrame:
    """An orders table without rows, with the clean contract's columns and dtypes."""
    return pd.DataFrame(
        {
            "order_id": pd.Series(dtype="string"),
            "customer_id": pd.Series(dtype="string"),
            "order_date": pd.Series(dtype="datetime64[ns]"),
            "amount": pd.Series(dtype="float64"),
            "business_unit": pd.Series(dtype="string"),
            "status": pd.Series(dtype="string"),
        }
    )


def load_dataset(params: dict[str, Any], *, data_dir: str | os.PathLike | None = None) -> Dataset:
    """Read, map, repair and validate the input tables named in ``params``.

    Every shape of data loads (data/README.md): transactional, orders-only (customers are
    derived from the orders), survey-only (no orders: an empty orders table), subscription
    exports with one row per customer (billing lines derived by
    :func:`analysis.data.billing.derive_billing`), and any mix per unit.

    Parameters
    ----------
    params
        Resolved parameters (:func:`analysis.config.load_params`): ``data_dir``, ``files``,
        ``columns``, ``encoding``, ``date_format``, ``dayfirst``, ``quality``,
        ``subscription``.
    data_dir
        Overrides ``params["data_dir"]``.

    Returns
    -------
    Dataset
        Clean tables; ``quality`` counts every repair and notes what was derived.

    Raises
    ------
    DataError
        A named file or a required column is missing, a file cannot be parsed, an orders
        file leaves no usable order, or there is neither an order nor a survey response.
    """
    folder = resolve_path(data_dir or params["data_dir"])
    if not folder.is_dir():
        raise DataError(
            "the data folder does not exist. Generate the sample with "
            "'segreport sample' or point --data-dir at your exports.",
            file=str(folder),
        )
    today = (params.get("quality") or {}).get("today") or date.today()
    try:
        today = pd.Timestamp(today).normalize()
    except (ValueError, TypeError):
        raise ParamsError(
            f"parameter 'quality.today' must be a date (YYYY-MM-DD), got {today!r}"
        ) from None
    report = DataQualityReport()
    cleaners = {
        "customers": _clean_customers,
        "orders": _clean_orders,
        "survey_responses": _clean_surveys,
        "interactions": _clean_interactions,
    }
    tables: dict[str, pd.DataFrame | None] = {}
    sources: dict[str, dict[str, Any]] = {}
    where = resolve_files(params, folder)
    for table in ("orders", "customers", "survey_responses", "interactions"):
        path, how = where[table]
        if path is None:
            tables[table] = None
            if how == "auto" and table != "orders":  # looked for by name: no such data
                report.notes.append(
                    {"key": "quality.note.no_file", "table": table, "file": f"{table}.*"}
                )
            continue
        raw = read_table(path, encoding=params.get("encoding", "auto"))
        malformed = raw.attrs.get("malformed_rows") or []
        report.rows_read[table] = len(raw) + sum(span for _, span, _ in malformed)
        if malformed:
            report.repairs.append(
                Repair(
                    table,
                    "malformed_row",
                    "removed",
                    sum(span for _, span, _ in malformed),
                    examples=[f"line {n}: {text}" for n, _, text in malformed[:3]],
                )
            )
        sources[table] = {"file": str(path), "sha256": file_digest(path), "rows": len(raw)}
        # the cleaner holds the only reference, so the raw frame is freed as it is cleaned
        pending, raw = [raw], None
        tables[table] = cleaners[table](pending.pop(), str(path), params, report, today)
    orders, customers = tables["orders"], tables["customers"]
    if orders is not None and orders.empty:
        raise DataError("no usable orders remain after cleaning.", file=sources["orders"]["file"])
    if orders is not None and customers is not None and customers.attrs.get("generated_ids"):
        # ids made from the row order cannot match the customer ids of the orders
        raise DataError(
            "the customers file has no customer_id column, so its rows cannot be matched to "
            "the orders' customer ids; map the id column with "
            "'columns: {customers: {customer_id: <your column>}}' (see data/README.md).",
            file=sources["customers"]["file"],
            column="customer_id",
        )
    options = params.get("subscription") or {}
    if billing.wants_billing(customers, orders is not None, options):
        file = sources["customers"]["file"]
        data_date = _billing_data_date(options, customers, tables, file)
        billed, customers, counts = billing.derive_billing(
            _without_orders(customers, orders), data_date=data_date, file=file
        )
        customers = _merge_back(tables["customers"], customers)
        orders = billed if orders is None else pd.concat([orders, billed], ignore_index=True)
        report.notes.append(
            {
                "key": "quality.note.derived_billing",
                "data_date": str(data_date.date()),
                **{k: f"{v:,}" for k, v in counts.items()},
            }
        )
    if orders is None:
        orders = empty_orders()
        surveys = tables["survey_responses"]
        if surveys is None or surveys.empty:
            raise DataError(
                "there are no orders and no survey responses, so there is nothing to report. "
                "Name the orders file with 'files: {orders: <file>}' (or derive billing lines "
                "from a subscription export, see data/README.md), or the survey file with "
                "'files: {survey_responses: <file>}'.",
                file=str(folder),
            )
        report.notes.append({"key": "quality.note.no_orders"})
    if customers is None:
        customers = _customers_from_orders(orders)
        if not orders.empty:
            report.notes.append({"key": "quality.note.derived_customers"})
    customers = _add_unknown_customers(customers, orders, "orders", report)
    if tables["interactions"] is not None:
        customers = _add_unknown_customers(
            customers, tables["interactions"], "interactions", report
        )
    tables["customers"], tables["orders"] = customers, orders
    _count_links(tables, report)
    for table, frame in tables.items():
        if frame is None:
            continue
        tables[table] = schema.validate_contract(
            frame, table, sources.get(table, {}).get("file", table)
        )
        report.rows_kept[table] = len(frame)
    return Dataset(
        customers=tables["customers"],
        orders=tables["orders"],
        survey_responses=tables["survey_responses"],
        interactions=tables["interactions"],
        quality=report,
        sources=sources,
    )


def _count_links(tables, report) -> None:
    """Survey answers of customers not in the customers table (kept, counted), and survey
    answers and interactions filed under a unit their customer does not belong to (left
    out of that unit's reports by :meth:`Dataset.for_unit`, counted here). Without any
    customer (survey-only data) there is no list to be missing from."""
    customers, pairs = tables["customers"], None
    surveys = tables["survey_responses"]
    if surveys is not None and not surveys.empty and not customers.empty:
        unknown = surveys["customer_id"].notna() & ~pd.Series(
            _member(surveys["customer_id"], customers["customer_id"]), index=surveys.index
        )
        if unknown.any():
            report.record(
                "survey_responses",
                "unknown_customer",
                "kept",
                unknown,
                surveys,
                column="customer_id",
                example_cols=["response_id", "customer_id"],
            )
    for table in ("survey_responses", "interactions"):
        frame = tables[table]
        if frame is None or frame.empty:
            continue
        pairs = unit_pairs(customers, tables["orders"]) if pairs is None else pairs
        other = pd.Series(other_unit_rows(frame, pairs), index=frame.index)
        if other.any():
            report.record(
                table,
                "other_unit_customer",
                "left_out",
                other,
                frame,
                column="customer_id",
                example_cols=["customer_id", "business_unit"],
            )


def _billing_data_date(options, customers, tables, file) -> pd.Timestamp:
    """``subscription.data_date``, else the latest date in the data (an order, a churn, a
    sign-up, an answer or a contact cannot be later than the export)."""
    if options.get("data_date"):
        return pd.Timestamp(options["data_date"]).normalize()
    found = [customers[c].max() for c in ("churn_date", "signup_date") if c in customers]
    for table, column in (
        ("orders", "order_date"),
        ("survey_responses", "response_date"),
        ("interactions", "date"),
    ):
        if tables.get(table) is not None and not tables[table].empty:
            found.append(tables[table][column].max())
    found = [d for d in found if pd.notna(d)]
    if not found:
        raise DataError(
            "billing lines are derived from tenure, but the data carries no date to end them "
            "on; set 'subscription.data_date' to the export's date (YYYY-MM-DD).",
            file=file,
            column="tenure_months",
        )
    return pd.Timestamp(max(found)).normalize()


def _without_orders(customers: pd.DataFrame, orders: pd.DataFrame | None) -> pd.DataFrame:
    """The customers billing lines are derived for: those without order rows."""
    if orders is None:
        return customers
    return customers.loc[~_member(customers["customer_id"], orders["customer_id"])]


def _merge_back(all_customers: pd.DataFrame, billed: pd.DataFrame) -> pd.DataFrame:
    """The customers table with the dates the billing rule filled in for ``billed``."""
    if len(billed) == len(all_customers):
        return billed.reset_index(drop=True)
    out = all_customers.copy()
    for column in ("signup_date", "churn_date", "churned"):
        if column in billed.columns:
            if column not in out.columns:
                out[column] = pd.Series(pd.NA, index=out.index, dtype=billed[column].dtype)
            out.loc[billed.index, column] = billed[column]
    return out

"""Repairs of input data, each done by a documented rule and counted.

Nothing is dropped silently: every rule that removes, changes or adds rows records a
:class:`Repair` (table, rule, business unit, rows, amount, action, examples) in the
:class:`DataQualityReport`, and every report shows the repairs of its unit in its
"Data quality" section. The rules (data/README.md lists them for users):

========================  ===============================================================
rule                      action
========================  ===============================================================
duplicate_rows            exact duplicate rows (all source columns equal): removed; kept
                          in a survey/customers export without ids (two people may answer
                          alike)
missing_id                no order/response/interaction id, or a survey/customers export
                          without an id column: an id is made from the row order
                          (``generated-<n>``, the n-th data row)
missing_customer_id       no customer id (orders, interactions): removed
missing_business_unit     no business unit: removed
unknown_customer          order/interaction of a customer not in customers: a stub
                          customer is added (attributes unknown), rows kept
duplicate_customer_id     customers listed twice: the first row is kept
bad_date                  date that cannot be read: removed
future_date               date after the reference day (quality.today): removed
bad_amount                amount that is not a number: removed
zero_amount               order with amount 0: removed (no monetary value)
cancelled                 status cancelled: excluded from revenue and purchases
refund                    negative amount (returns, credit notes): kept as negative revenue
unknown_status            status not completed/cancelled/returned: treated as completed
out_of_range              value outside its scale (nps 0-10, csat 1-5, rating_*, age
                          0-120): set to missing, never coerced
unknown_category          customer_type or interaction type outside the contract: kept
                          as "other"
name_in_text              a known customer's name typed into a comment or topic: masked
                          as "[name]" (phone numbers and e-mails are masked too, later)
malformed_row             a CSV record whose number of fields differs from the header's,
                          or a quoted field holding a whole further row (a stray quote):
                          removed (rows = the file lines it spans); above 5% of the rows
                          the file is refused
time_zone                 a date with a time zone (+08:00, Z): converted to the
                          ``timezone`` parameter (default UTC), the zone dropped
decimal_comma             a number column written with decimal commas (741,60): read as
                          741.60 (a column mixing 741,60 and 741.60 is refused)
bad_number                an optional number (quantity, discount, age, ...) that is not
                          a number: set to missing
implausible_date          a date before ``quality.earliest_date`` (1900-01-01 and other
                          placeholders): removed (required dates) or set to missing
implausible_amount        an amount beyond ``quality.max_amount`` (absolute), by default
                          beyond 10,000 times the 99th percentile of the amounts: removed
implausible_value         a negative quantity on a sale, a discount below zero or above
                          95% of the gross value (amount + discount): set to missing
duplicate_order_id        an order id on two rows of an export of one row per order
                          (fewer than 5% of rows repeat an id): the first row kept (an
                          export of order lines keeps every line)
other_unit_customer       a survey answer or interaction filed under a unit its customer
                          does not belong to (they belong to another): left out of that
                          unit's reports
========================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import pandas as pd

from ..i18n import t

#: The rules, in the order reports list them.
RULES = (
    "duplicate_rows",
    "missing_id",
    "missing_customer_id",
    "missing_business_unit",
    "unknown_customer",
    "duplicate_customer_id",
    "bad_date",
    "future_date",
    "bad_amount",
    "zero_amount",
    "cancelled",
    "refund",
    "unknown_status",
    "out_of_range",
    "unknown_category",
    "name_in_text",
    "malformed_row",
    "time_zone",
    "decimal_comma",
    "bad_number",
    "implausible_date",
    "implausible_amount",
    "implausible_value",
    "duplicate_order_id",
    "other_unit_customer",
)
ACTIONS = (
    "removed",
    "kept",
    "set_missing",
    "generated",
    "added",
    "excluded",
    "masked",
    "converted",
    "left_out",
)


@dataclass
class Repair:
    """One counted repair: ``rows`` rows of ``table`` in ``unit`` hit by ``rule``."""

    table: str
    rule: str
    action: str
    rows: int
    unit: str | None = None
    column: str | None = None
    amount: float | None = None
    examples: list[str] = field(default_factory=list)


@dataclass
class DataQualityReport:
    """Counts of every repair made while loading, plus the rows read and kept per table."""

    repairs: list[Repair] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_kept: dict[str, int] = field(default_factory=dict)
    notes: list[dict] = field(default_factory=list)  # {'key': catalog key, **values}

    def record(
        self,
        table: str,
        rule: str,
        action: str,
        mask: pd.Series,
        frame: pd.DataFrame,
        *,
        column: str | None = None,
        amount_col: str | None = None,
        example_cols: Iterable[str] = (),
    ) -> int:
        """Count the rows where ``mask`` is true, split by business unit when known."""
        assert rule in RULES and action in ACTIONS, (rule, action)
        mask = mask.fillna(False).astype(bool)
        hit = frame.loc[mask]
        if hit.empty:
            return 0
        units = (
            hit["business_unit"].astype("string").fillna("")
            if "business_unit" in hit.columns
            else pd.Series("", index=hit.index, dtype="string")
        )
        shown = [c for c in example_cols if c in hit.columns]
        for unit, rows in hit.groupby(units, sort=True):
            amount = None
            if amount_col and amount_col in rows.columns:
                amount = float(pd.to_numeric(rows[amount_col], errors="coerce").sum())
            examples = []
            if shown:
                examples = [
                    ", ".join(f"{c}={v}" for c, v in zip(shown, values, strict=True))
                    for values in rows[shown].head(3).astype(str).itertuples(index=False)
                ]
            self.repairs.append(
                Repair(table, rule, action, len(rows), unit or None, column, amount, examples)
            )
        return int(mask.sum())

    # ---- views -----------------------------------------------------------------------
    def for_unit(self, unit: str) -> DataQualityReport:
        """The repairs of one unit; rows whose unit is unknown are shown in every unit."""
        if unit == "all":
            return self
        keep = [r for r in self.repairs if r.unit in (unit, None)]
        return DataQualityReport(keep, dict(self.rows_read), dict(self.rows_kept), list(self.notes))

    def count(self, rule: str, table: str | None = None) -> int:
        return sum(
            r.rows for r in self.repairs if r.rule == rule and (table is None or r.table == table)
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per (table, rule, column, action), units summed."""
        columns = ["table", "rule", "column", "action", "rows", "amount", "examples"]
        if not self.repairs:
            return pd.DataFrame(columns=columns)
        frame = pd.DataFrame([asdict(r) for r in self.repairs])
        frame["column"] = frame["column"].fillna("")
        grouped = (
            frame.groupby(["table", "rule", "column", "action"], sort=False)
            .agg(
                rows=("rows", "sum"),
                amount=("amount", lambda s: s.sum(min_count=1)),
                examples=("examples", lambda s: [e for lst in s for e in lst][:3]),
            )
            .reset_index()
        )
        order = {rule: i for i, rule in enumerate(RULES)}
        grouped["_order"] = grouped["rule"].map(order)
        return grouped.sort_values(["table", "_order"], kind="stable").drop(columns="_order")[
            columns
        ]

    def summary(self, language: str = "en") -> pd.DataFrame:
        """The table a report shows: what was found, how many rows, what was done."""
        frame = self.to_frame()
        return pd.DataFrame(
            {
                t("quality.col.table", language): [
                    t(f"quality.table.{x}", language) for x in frame["table"]
                ],
                t("quality.col.issue", language): [
                    t(f"quality.rule.{r}", language) + (f" ({c})" if c else "")
                    for r, c in zip(frame["rule"], frame["column"], strict=True)
                ],
                t("quality.col.rows", language): frame["rows"].astype(int).tolist(),
                t("quality.col.action", language): [
                    t(f"quality.action.{a}", language) for a in frame["action"]
                ],
            }
        )

    def headline(self, language: str = "en", *, rows_kept: int | None = None) -> str:
        """One line for the portal: the input rows checked, and the repairs made to them
        (apart: one row may need several repairs, and a repaired row is still one row).

        ``rows_kept`` is the number of clean rows of the unit; with it the rows checked are
        those plus the unit's rows removed. Without it the whole input's row count is used.
        """
        fixed = sum(r.rows for r in self.repairs if r.rule != "refund")
        removed = sum(r.rows for r in self.repairs if r.action in ("removed", "left_out"))
        total = sum(self.rows_read.values()) if rows_kept is None else rows_kept + removed
        return t("quality.headline", language, fixed=f"{fixed:,}", read=f"{total:,}")

    def to_dict(self) -> dict:
        return {
            "repairs": [asdict(r) for r in self.repairs],
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict) -> DataQualityReport:
        return cls(
            [Repair(**r) for r in data.get("repairs", [])],
            dict(data.get("rows_read", {})),
            dict(data.get("rows_kept", {})),
            list(data.get("notes", [])),
        )

"""Reporting periods: ``2025-Q3``, ``2025-09``, ``2025`` or an explicit ``2025-07-01..2025-09-30``.

A :class:`Period` is a closed date range with a kind (quarter, month, year, range). Its
end is the snapshot date of a report. ``previous()`` is the period of the same length just
before it and ``year_ago()`` the same period one year earlier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from .errors import PeriodError

_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/|:|\s+to\s+)\s*(\d{4}-\d{2}-\d{2})$")

KINDS = ("quarter", "month", "year", "range")


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period.

    Parameters
    ----------
    start, end
        First and last day, both included.
    kind
        One of ``quarter``, ``month``, ``year`` or ``range``.

    Examples
    --------
    >>> p = Period.parse("2025-Q3")
    >>> p.start, p.end
    (datetime.date(2025, 7, 1), datetime.date(2025, 9, 30))
    >>> str(p.previous()), str(p.year_ago())
    ('2025-Q2', '2024-Q3')
    """

    start: date
    end: date
    kind: str = "range"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise PeriodError(f"period kind must be one of {KINDS}, got {self.kind!r}")
        if self.end < self.start:
            raise PeriodError(f"period ends ({self.end}) before it starts ({self.start})")

    # ---- construction -------------------------------------------------------------
    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """Parse ``2025-Q3``, ``2025-09``, ``2025`` or ``2025-07-01..2025-09-30``."""
        if isinstance(text, Period):
            return text
        if not isinstance(text, str | int):
            raise PeriodError(f"period must be a string such as '2025-Q3', got {text!r}")
        s = str(text).strip()
        try:
            if m := _QUARTER.match(s):
                return cls.quarter(int(m[1]), int(m[2]))
            if m := _MONTH.match(s):
                return cls.month(int(m[1]), int(m[2]))
            if m := _YEAR.match(s):
                return cls.year(int(m[1]))
            if m := _RANGE.match(s):
                return cls(date.fromisoformat(m[1]), date.fromisoformat(m[2]), "range")
        except ValueError as exc:  # e.g. month 13, day 31 of February
            raise PeriodError(f"period {s!r} is not a valid date: {exc}") from None
        raise PeriodError(
            f"cannot read period {s!r}; use 2025-Q3 (quarter), 2025-09 (month), "
            "2025 (year) or 2025-07-01..2025-09-30 (explicit range)"
        )

    @classmethod
    def quarter(cls, year: int, q: int) -> Period:
        if not 1 <= q <= 4:
            raise PeriodError(f"period quarter must be 1-4, got {q}")
        return cls(date(year, 3 * q - 2, 1), _month_end(year, 3 * q), "quarter")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        if not 1 <= month <= 12:
            raise PeriodError(f"period month must be 1-12, got {month}")
        return cls(date(year, month, 1), _month_end(year, month), "month")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), "year")

    @classmethod
    def latest_complete(cls, data_end: date | pd.Timestamp, kind: str = "quarter") -> Period:
        """The last period of ``kind`` that ends on or before ``data_end``.

        Data is complete for a period when the data reaches its last day, so a data set
        ending 2025-12-31 gives 2025-Q4 and one ending 2025-12-30 gives 2025-Q3.
        """
        d = pd.Timestamp(data_end).date()
        if kind == "quarter":
            p = cls.quarter(d.year, (d.month - 1) // 3 + 1)
        elif kind == "month":
            p = cls.month(d.year, d.month)
        elif kind == "year":
            p = cls.year(d.year)
        else:
            raise PeriodError(f"period_type must be quarter, month or year, got {kind!r}")
        return p if p.end <= d else p.previous()

    # ---- navigation ------------------------------------------------------------------
    def shift(self, steps: int) -> Period:
        """The period ``steps`` periods later (negative: earlier)."""
        if self.kind == "quarter":
            index = self.start.year * 4 + (self.start.month - 1) // 3 + steps
            return Period.quarter(index // 4, index % 4 + 1)
        if self.kind == "month":
            index = self.start.year * 12 + self.start.month - 1 + steps
            return Period.month(index // 12, index % 12 + 1)
        if self.kind == "year":
            return Period.year(self.start.year + steps)
        length = self.end - self.start + timedelta(days=1)
        return Period(self.start + steps * length, self.end + steps * length, "range")

    def previous(self) -> Period:
        return self.shift(-1)

    def year_ago(self) -> Period:
        """The same period one year earlier."""
        if self.kind in ("quarter", "month", "year"):
            return self.shift({"quarter": -4, "month": -12, "year": -1}[self.kind])
        start = pd.Timestamp(self.start) - pd.DateOffset(years=1)
        end = pd.Timestamp(self.end) - pd.DateOffset(years=1)
        return Period(start.date(), end.date(), "range")

    # ---- helpers -----------------------------------------------------------------------
    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.start)

    @property
    def end_exclusive(self) -> pd.Timestamp:
        """Midnight after the last day: ``order_date < end_exclusive`` is inside."""
        return pd.Timestamp(self.end) + pd.Timedelta(days=1)

    def contains(self, dates: pd.Series) -> pd.Series:
        """Boolean mask of the timestamps that fall inside the period."""
        return (dates >= self.start_ts) & (dates < self.end_exclusive)

    def __str__(self) -> str:
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "year":
            return f"{self.start.year}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def slug(self) -> str:
        """A path-safe name: ``2025-Q3``, or ``2025-07-01_2025-09-30`` for a range."""
        return str(self).replace("..", "_")

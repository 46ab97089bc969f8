from datetime import date

import pandas as pd
import pytest

from analysis.errors import PeriodError
from analysis.period import Period


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("2025-Q3", date(2025, 7, 1), date(2025, 9, 30), "quarter"),
        ("2025q1", date(2025, 1, 1), date(2025, 3, 31), "quarter"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month"),
        ("2025", date(2025, 1, 1), date(2025, 12, 31), "year"),
        ("2025-07-15..2025-08-14", date(2025, 7, 15), date(2025, 8, 14), "range"),
    ],
)
def test_parse(text, start, end, kind):
    p = Period.parse(text)
    assert (p.start, p.end, p.kind) == (start, end, kind)
    assert Period.parse(str(p)) == p  # str round-trips


@pytest.mark.parametrize(
    ("text", "previous", "year_ago"),
    [
        ("2025-Q1", "2024-Q4", "2024-Q1"),
        ("2025-01", "2024-12", "2024-01"),
        ("2025", "2024", "2024"),
        ("2025-03-01..2025-03-10", "2025-02-19..2025-02-28", "2024-03-01..2024-03-10"),
    ],
)
def test_previous_and_year_ago(text, previous, year_ago):
    p = Period.parse(text)
    assert str(p.previous()) == previous
    assert str(p.year_ago()) == year_ago


@pytest.mark.parametrize("bad", ["2025-Q5", "2025-13", "Q3", "2025-02-30..2025-03-01", "../x", ""])
def test_rejects_bad_periods(bad):
    with pytest.raises(PeriodError, match="period"):
        Period.parse(bad)


def test_range_must_not_end_before_start():
    with pytest.raises(PeriodError, match="before it starts"):
        Period.parse("2025-03-10..2025-03-01")


@pytest.mark.parametrize(
    ("data_end", "kind", "expected"),
    [
        ("2025-12-31", "quarter", "2025-Q4"),
        ("2025-12-30", "quarter", "2025-Q3"),
        ("2025-11-30", "month", "2025-11"),
        ("2025-11-29", "month", "2025-10"),
        ("2025-06-30", "year", "2024"),
    ],
)
def test_latest_complete(data_end, kind, expected):
    assert str(Period.latest_complete(pd.Timestamp(data_end), kind)) == expected


def test_contains_is_inclusive_of_the_whole_last_day():
    p = Period.parse("2025-Q3")
    dates = pd.Series(
        pd.to_datetime(
            ["2025-06-30 23:59", "2025-07-01 00:00", "2025-09-30 23:00", "2025-10-01 00:00"]
        )
    )
    assert p.contains(dates).tolist() == [False, True, True, False]


def test_slug_is_path_safe():
    assert Period.parse("2025-07-01..2025-09-30").slug == "2025-07-01_2025-09-30"

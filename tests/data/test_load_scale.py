"""Loading at scale (issue 16): the fast paths give what the record-by-record reader and
pandas give.

- CSV files of one record per line are parsed by Arrow (:func:`analysis.data.io.
  _read_lines_arrow`); every other file by the :mod:`csv` module (``_read_records``).
  Both must give the same frame and name the same malformed rows, on random messy files.
- The loader's repairs are counted the same whichever reader ran, and they agree with
  counts computed here independently (the csv module and plain pandas).
- Parquet keeps numbers and dates typed; the clean tables equal those loaded from the
  same sample as CSV (row counts, exact decimal sums, distinct customers, repairs).
- The row-key helpers equal pandas' ``duplicated`` and ``isin``.
"""

from __future__ import annotations

import csv
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from analysis.config import load_params
from analysis.data import io as data_io
from analysis.data import load as data_load
from analysis.data.load import load_dataset
from analysis.data.sample import write_sample
from analysis.errors import DataError

TODAY = "2026-01-15"


# ---- the two CSV readers agree ------------------------------------------------------------
FIELDS = ["a", "b c", "", " x ", '"q, r"', '"say ""hi"""', '""', "1.5", "é", "家", "  "]


def _random_file(rng: np.random.Generator, sep: str, width: int) -> bytes:
    lines = [sep.join(f"h{i}" for i in range(width))]
    for _ in range(rng.integers(1, 60)):
        roll = rng.random()
        if roll < 0.05:
            lines.append("")  # a blank line
        elif roll < 0.08:
            lines.append("   ")  # a line of spaces: blank for the csv module too
        else:
            count = width if rng.random() < 0.8 else int(rng.integers(1, width + 3))
            fields = [str(rng.choice(FIELDS)).replace(",", sep) for _ in range(count)]
            lines.append(sep.join(fields))
    ending = "\r\n" if rng.random() < 0.3 else "\n"
    return (ending.join(lines) + (ending if rng.random() < 0.7 else "")).encode("utf-8")


def _both(data: bytes, sep: str):
    buf = np.frombuffer(data, dtype=np.uint8)
    fast, slow = None, None
    try:
        fast = data_io._read_lines_arrow(data, buf, sep, "f.csv")
    except DataError as exc:
        fast = str(exc)
    try:
        slow = data_io._read_records(data.decode("utf-8"), sep, "f.csv")
    except DataError as exc:
        slow = str(exc)
    return fast, slow


@pytest.mark.parametrize("seed", range(40))
def test_arrow_and_csv_module_read_one_record_per_line_files_alike(seed):
    rng = np.random.default_rng(seed)
    sep = str(rng.choice([",", ";", "\t", "|"]))
    data = _random_file(rng, sep, int(rng.integers(1, 5)))
    assert data_io._one_record_per_line(np.frombuffer(data, dtype=np.uint8), ord(sep))
    fast, slow = _both(data, sep)
    if isinstance(slow, str):  # refused (too many malformed rows): refused alike
        assert fast == slow
        return
    pd.testing.assert_frame_equal(fast, slow)
    assert fast.attrs["malformed_rows"] == slow.attrs["malformed_rows"]


@pytest.mark.parametrize(
    "text",
    [
        'id,name\n1,"two\nlines"\n',  # a quoted line break: one record spans lines
        'id,name\n1,ab"c\n',  # a quote inside a field
        'id,name\n1,"abc"d\n',  # text after a closing quote
        'id,name\n1,"open\n2,x\n',  # a stray quote
        "id,name\r1,x\r",  # old Mac line ends
        "id,name\n1,x\x00\n",  # a NUL byte
    ],
)
def test_files_the_fast_reader_cannot_vouch_for_go_record_by_record(text):
    data = text.encode()
    assert not data_io._one_record_per_line(np.frombuffer(data, dtype=np.uint8), ord(","))


def test_a_stray_quote_is_still_found_and_named(tmp_path):
    rows = [f"{i},c{i},2024-01-{i % 28 + 1:02d},{i}.5" for i in range(1, 200)]
    rows[50] = '51,"c51,2024-01-24,51.5'  # swallows the rows after it up to the next quote
    rows[52] = '53,c53",2024-01-26,53.5'
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_date,amount\n" + "\n".join(rows) + "\n")
    frame = data_io.read_table(path)
    assert [(line, span) for line, span, _ in frame.attrs["malformed_rows"]] == [(52, 3)]
    assert len(frame) == 199 - 3


# ---- repairs: the same whichever reader runs, and as counted independently -------------
def _messy_orders(folder):
    """A sample's orders with rows that break in ways both readers must see alike."""
    path = folder / "orders.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    header, body = lines[0], [line for line in lines[1:] if line]
    width = len(next(csv.reader([header])))
    body[5] = body[5] + ",extra"  # a field too many
    body[9] = ",".join(next(csv.reader([body[9]]))[:-1])  # a field too few
    body[11:11] = [body[12], body[12]]  # duplicate rows
    body[20] = ""  # a blank line
    body[30] = " " * 3  # spaces only
    body.insert(40, ",".join([""] * width))  # an empty record (every field empty)
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    return path


def _repairs(data) -> list[tuple]:
    return sorted(
        (r.table, r.rule, r.action, r.unit or "", r.column or "", r.rows, r.examples)
        for r in data.quality.repairs
    )


def test_repair_counts_are_the_same_with_either_reader(tmp_path, monkeypatch):
    folder = write_sample(tmp_path / "data", n_customers=300, seed=7)
    path = _messy_orders(folder)
    params = load_params(overrides={"data_dir": str(folder), "quality": {"today": TODAY}})
    fast = load_dataset(params)
    monkeypatch.setattr(data_io, "_one_record_per_line", lambda buf, sep: False)
    slow = load_dataset(params)
    assert _repairs(fast) == _repairs(slow)
    assert fast.quality.rows_read == slow.quality.rows_read
    for table, frame in fast.tables().items():
        pd.testing.assert_frame_equal(frame, slow.tables()[table], check_dtype=False)

    # counted independently: the csv module for malformed rows, pandas for duplicates
    with open(path, newline="", encoding="utf-8") as fh:
        records = [r for r in csv.reader(fh) if r and not (len(r) == 1 and not r[0].strip())]
    width = len(records[0])
    good = [r for r in records[1:] if len(r) == width]
    assert fast.quality.count("malformed_row", "orders") == len(records) - 1 - len(good)
    raw = pd.DataFrame(good, columns=records[0])
    assert fast.quality.count("duplicate_rows", "orders") == int(raw.duplicated().sum())
    assert fast.quality.rows_read["orders"] == len(records) - 1


# ---- Parquet stays typed and loads what the same CSV loads -------------------------------
def _aggregates(data) -> dict:
    orders = data.orders
    return {
        "rows": {t: len(f) for t, f in data.tables().items() if f is not None},
        "revenue": sum((Decimal(repr(float(x))) for x in orders["amount"]), Decimal(0)),
        "revenue_by_unit": {
            unit: sum((Decimal(repr(float(x))) for x in group), Decimal(0))
            for unit, group in orders.groupby("business_unit")["amount"]
        },
        "customers": orders["customer_id"].nunique(),
        "dates": (orders["order_date"].min(), orders["order_date"].max()),
        "signups": int(data.customers["signup_date"].notna().sum()),
        "nps": float(data.survey_responses["nps"].sum()),
        "repairs": _repairs(data),
    }


def test_parquet_loads_the_same_tables_as_csv(tmp_path):
    csv_dir = write_sample(tmp_path / "csv", n_customers=400, seed=11)
    parquet_dir = write_sample(tmp_path / "pq", n_customers=400, seed=11, fmt="parquet")
    loaded = [
        load_dataset(load_params(overrides={"data_dir": str(d), "quality": {"today": TODAY}}))
        for d in (csv_dir, parquet_dir)
    ]
    from_csv, from_parquet = (_aggregates(d) for d in loaded)
    assert from_csv == from_parquet
    for table in ("orders", "customers", "survey_responses", "interactions"):
        a, b = (getattr(d, table) for d in loaded)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_parquet_dates_with_a_time_zone_are_converted_and_counted(tmp_path):
    folder = write_sample(tmp_path / "data", n_customers=200, seed=3, fmt="parquet")
    orders = pd.read_parquet(folder / "orders.parquet")
    stamps = pd.to_datetime(orders["order_date"]) + pd.Timedelta(hours=23, minutes=30)
    orders["order_date"] = stamps.dt.tz_localize("Asia/Shanghai")
    orders.to_parquet(folder / "orders.parquet")
    data = load_dataset(
        load_params(overrides={"data_dir": str(folder), "quality": {"today": TODAY}})
    )
    converted = data.quality.count("time_zone", "orders")
    assert converted == data.quality.rows_read["orders"] - data.quality.count(
        "duplicate_rows", "orders"
    )
    # 23:30 in Shanghai is 15:30 UTC the same day
    assert (data.orders["order_date"].dt.hour == 15).all()


# ---- row keys ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(20))
def test_duplicated_equals_pandas(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 80))
    frame = pd.DataFrame(
        {
            "text": pd.Series(rng.choice(["x", "y", "z"], n), dtype="str").mask(
                rng.random(n) < 0.2
            ),
            "number": rng.choice([1.0, 2.0, np.nan], n),
            "date": pd.to_datetime(rng.choice(["2024-01-01", "2024-01-02"], n)),
            "object": pd.Series(rng.choice(["p", "q"], n), dtype=object),
        }
    )
    for keep in ("first", "last", False):
        expected = frame.duplicated(keep=keep).to_numpy()
        assert (data_load._duplicated(frame, keep=keep).to_numpy() == expected).all()
        for column in frame.columns:
            expected = frame[column].duplicated(keep=keep).to_numpy()
            assert (data_load._duplicated(frame[column], keep=keep).to_numpy() == expected).all()


def test_member_equals_pandas_isin_with_missing_values():
    values = pd.Series(["a", None, "c", "d"], dtype="string")
    assert data_load._member(values, ["c", "a"]).tolist() == [True, False, True, False]
    assert data_load._member(values, pd.Series(["d", None])).tolist() == [
        False,
        True,
        False,
        True,
    ]
    assert data_load._member(values, set()).tolist() == [False] * 4


def test_the_fast_reader_names_malformed_lines_after_blank_lines():
    # Arrow numbers rows without the empty lines; the file's line numbers are restored
    data = b"\n\nid,v\n1,2\n\n\r\n3\n4,5\n" + b"6,7\n" * 40
    frame = data_io._read_lines_arrow(data, np.frombuffer(data, np.uint8), ",", "x.csv")
    assert frame.attrs["malformed_rows"] == [(7, 1, "3")]
    assert frame["id"].tolist()[:2] == ["1", "4"]

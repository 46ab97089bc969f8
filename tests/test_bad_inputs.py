"""A catalogue of hostile inputs (issue 15): each ends in a clear error (exit code 2, the
file, the column and an example named, no traceback) or in a documented, counted repair
whose corrected value is checked against the clean file.

Every case starts from a copy of one small generated sample. Error cases run
``segreport validate`` in a subprocess (all of them at once, two at a time); repair cases
load the copy in-process (:func:`analysis.data.load.load_dataset`).
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis.config import load_params
from analysis.data.load import load_dataset
from analysis.data.sample import write_sample
from analysis.errors import AnalysisError, DataError

TODAY = "2026-01-15"
SEGREPORT = str(Path(sys.executable).with_name("segreport"))


# ---- the clean sample and helpers to spoil a copy ------------------------------------------
@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("clean") / "data", n_customers=200, seed=15)


def _read(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def _write(folder: Path, table: str, frame: pd.DataFrame, **options) -> None:
    frame.to_csv(folder / f"{table}.csv", index=False, **options)


def _edit(table: str, rows, column: str, value) -> Any:
    """A mutation setting ``column`` of the rows (positions) to ``value``."""

    def mutate(folder: Path) -> None:
        frame = _read(folder, table)
        frame.loc[[r for r in rows if r < len(frame)], column] = value
        _write(folder, table, frame)

    return mutate


def _lines(table: str, change) -> Any:
    """A mutation of the raw lines of a CSV file: ``change(lines) -> lines``."""

    def mutate(folder: Path) -> None:
        path = folder / f"{table}.csv"
        lines = path.read_text(encoding="utf-8").split("\n")
        path.write_text("\n".join(change(lines)), encoding="utf-8")

    return mutate


def _params(folder: Path, **sets) -> dict:
    overrides = {"data_dir": str(folder), "quality": {"today": TODAY}}
    for key, value in sets.items():
        node = overrides
        *parents, leaf = key.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return load_params(overrides=overrides)


def _load(folder: Path, **sets):
    return load_dataset(_params(folder, **sets))


# ---- error cases: segreport validate exits 2 with a message naming what is wrong ----------
@dataclass
class Refused:
    name: str
    mutate: Any = None
    args: tuple[str, ...] = ()
    expect: tuple[str, ...] = ()  # substrings of stderr (file, column, example, problem)
    params_yaml: str | None = None
    code: int = 2


def _truncate(path_name: str, keep: float = 0.5):
    def mutate(folder: Path) -> None:
        path = folder / path_name
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    return mutate


def _gzip(table: str, then=None):
    def mutate(folder: Path) -> None:
        path = folder / f"{table}.csv"
        with gzip.open(folder / f"{table}.csv.gz", "wb") as fh:
            fh.write(path.read_bytes())
        path.unlink()
        if then:
            then(folder)

    return mutate


def _parquet(table: str, then=None):
    def mutate(folder: Path) -> None:
        _read(folder, table).to_parquet(folder / f"{table}.parquet")
        (folder / f"{table}.csv").unlink()
        if then:
            then(folder)

    return mutate


def _mixed_encoding(folder: Path) -> None:
    frame = _read(folder, "orders")
    frame["product_category"] = "家居"
    half = len(frame) // 2
    head = frame.iloc[:half].to_csv(index=False).encode("utf-8")
    tail = frame.iloc[half:].to_csv(index=False, header=False).encode("gbk")
    (folder / "orders.csv").write_bytes(head + tail)


#: Rows written in the first encoding; the second starts on the line after them (the
#: header is line 1), so the message can be checked for both line numbers.
MIXED_HEAD = 40


def _two_encodings(first: str, first_text: str, second: str, second_text: str):
    """Orders whose first :data:`MIXED_HEAD` rows are in one encoding and the rest in
    another, each with text that encoding writes with bytes >= 0x80."""

    def mutate(folder: Path) -> None:
        frame = _read(folder, "orders")
        head, tail = frame.iloc[:MIXED_HEAD].copy(), frame.iloc[MIXED_HEAD:].copy()
        head["product_category"], tail["product_category"] = first_text, second_text
        data = head.to_csv(index=False).encode(first)
        data += tail.to_csv(index=False, header=False).encode(second)
        (folder / "orders.csv").write_bytes(data)

    return mutate


def _dates(table: str, column: str, style) -> Any:
    def mutate(folder: Path) -> None:
        frame = _read(folder, table)
        parsed = pd.to_datetime(frame[column], errors="coerce")
        frame[column] = [style(i, d) if pd.notna(d) else "" for i, d in enumerate(parsed)]
        _write(folder, table, frame)

    return mutate


def _both_orders(i, d):  # day-first on even rows, month-first on odd rows
    return d.strftime("%d/%m/%Y") if i % 2 else d.strftime("%m/%d/%Y")


def _ambiguous_only(i, d):  # every day and month at most 12
    return f"{(d.day % 12) + 1:02d}/{d.month:02d}/{d.year}"


def _mixed_decimals(folder: Path) -> None:
    frame = _read(folder, "orders")
    frame.loc[:9, "amount"] = [a.replace(".", ",") for a in frame.loc[:9, "amount"]]
    frame.loc[10:19, "amount"] = "12.34"
    _write(folder, "orders", frame)


def _shift_fields(share: float):
    def change(lines):
        step = max(int(1 / share), 1)
        return [
            line.replace('","', '";"', 1) if 0 < i < len(lines) - 1 and i % step == 0 else line
            for i, line in enumerate(lines)
        ]

    return _lines("orders", change)


EXPR_DIV0 = "columns:\n  orders:\n    amount: {expr: 'amount / 0'}\n"
EXPR_MISSING = "columns:\n  orders:\n    amount: {expr: 'Quantity * UnitPrice'}\n"


def _drop_column(table: str, column: str):
    def mutate(folder: Path) -> None:
        _write(folder, table, _read(folder, table).drop(columns=[column]))

    return mutate


REFUSED = [
    Refused(
        "customers_without_ids_beside_orders",
        _drop_column("customers", "customer_id"),
        expect=("customers.csv", "customer_id", "cannot be matched"),
    ),
    Refused(
        "truncated_csv_gz",
        _gzip("orders", _truncate("orders.csv.gz")),
        expect=("orders.csv.gz", "truncated"),
    ),
    Refused(
        "truncated_parquet_input",
        _parquet("orders", _truncate("orders.parquet")),
        expect=("orders.parquet", "cannot be parsed"),
    ),
    Refused(
        "today_not_a_date",
        args=("--set", "quality.today=notadate"),
        expect=("quality.today", "notadate"),
    ),
    Refused(
        "earliest_not_a_date",
        args=("--set", "quality.earliest_date=someday"),
        expect=("quality.earliest_date", "someday"),
    ),
    Refused(
        "data_date_not_a_date",
        args=("--set", "subscription.data_date=2024-13-45"),
        expect=("subscription.data_date", "2024-13-45"),
    ),
    Refused("bad_date_directive", args=("--set", "date_format=%Q"), expect=("date_format", "%Q")),
    Refused(
        "date_format_without_directive",
        args=("--set", "date_format=yyyy-mm-dd"),
        expect=("date_format", "yyyy-mm-dd"),
    ),
    Refused(
        "share_above_one",
        args=("--set", "value.abc.a_share=5"),
        expect=("value.abc.a_share", "between 0 and 1"),
    ),
    Refused(
        "shares_add_above_one",
        args=("--set", "value.abc.b_share=0.5"),
        expect=("value.abc.a_share", "value.abc.b_share", "more than 1"),
    ),
    Refused(
        "negative_days",
        args=("--set", "churn.window_min_days=-3"),
        expect=("churn.window_min_days", "negative"),
    ),
    Refused(
        "negative_max_amount",
        args=("--set", "quality.max_amount=-5"),
        expect=("quality.max_amount", "negative"),
    ),
    Refused(
        "min_above_max",
        args=("--set", "churn.window_min_days=400"),
        expect=("window_min_days", "window_max_days"),
    ),
    Refused("unknown_encoding", args=("--set", "encoding=klingon"), expect=("encoding", "klingon")),
    Refused(
        "unknown_timezone", args=("--set", "timezone=Mars/Base"), expect=("timezone", "Mars/Base")
    ),
    Refused(
        "expr_divides_by_zero",
        params_yaml=EXPR_DIV0,
        expect=("columns.orders.amount", "divides by zero"),
    ),
    Refused("expr_unknown_column", params_yaml=EXPR_MISSING, expect=("orders.csv", "Quantity")),
    Refused(
        "mixed_encodings", _mixed_encoding, expect=("orders.csv", "mixes text encodings", "line")
    ),
    *[
        Refused(
            f"mixed_{name}",
            _two_encodings(*spec),
            # the line where each encoding starts (a byte-order mark claims line 1)
            expect=(
                "orders.csv",
                "mixes text encodings",
                f"line {1 if spec[0] == 'utf-8-sig' else 2} ",
                f"line {MIXED_HEAD + 2} ",
            ),
        )
        for name, spec in {
            "utf8_latin_then_gbk": ("utf-8", "décoration", "gbk", "家居用品"),
            "utf8_latin_then_cp1252": ("utf-8", "décoration", "cp1252", "décoration"),
            "cp1252_then_utf8_latin": ("cp1252", "Müller & Söhne", "utf-8", "Müller & Söhne"),
            "utf8_chinese_then_gbk": ("utf-8", "家居用品", "gbk", "家居用品"),
            "utf8_bom_then_gbk": ("utf-8-sig", "café", "gbk", "家居"),
            "gbk_then_utf8_latin": ("gbk", "家居用品", "utf-8", "café crème"),
            "gbk_then_utf8_chinese": ("gbk", "家居用品", "utf-8", "家居用品"),
        }.items()
    ],
    Refused(
        "day_month_disagree",
        _dates("orders", "order_date", _both_orders),
        expect=("orders.csv", "order_date", "day-first", "month-first"),
    ),
    Refused(
        "day_month_undecided",
        _dates("orders", "order_date", _ambiguous_only),
        expect=("orders.csv", "order_date", "dayfirst"),
    ),
    Refused(
        "decimal_comma_and_point",
        _mixed_decimals,
        expect=("orders.csv", "amount", "decimal comma", "12.34"),
    ),
    Refused("many_malformed_rows", _shift_fields(0.2), expect=("orders.csv", "fields", "line ")),
    Refused(
        "missing_required_column",
        lambda f: _write(f, "orders", _read(f, "orders").drop(columns="order_date")),
        expect=("orders.csv", "order_date"),
    ),
    Refused(
        "no_amount_is_a_number",
        _edit("orders", range(10_000), "amount", "n/a"),
        expect=("orders.csv", "amount"),
    ),
    Refused(
        "no_date_can_be_read",
        _edit("orders", range(10_000), "order_date", "soon"),
        expect=("orders.csv", "order_date", "soon"),
    ),
    Refused(
        "date_format_matches_nothing",
        args=("--set", "date_format=%d.%m.%Y"),
        expect=("orders.csv", "order_date"),
    ),
    Refused("unknown_unit", args=("--unit", "atlantis"), expect=("business_unit", "atlantis")),
    Refused(
        "header_only_orders",
        lambda f: (f / "orders.csv").write_text(
            (f / "orders.csv").read_text().split("\n")[0] + "\n"
        ),
        expect=("orders.csv", "no usable orders"),
    ),
    Refused(
        "two_files_for_one_table",
        lambda f: _read(f, "orders").to_parquet(f / "orders.parquet"),
        expect=("orders.csv", "orders.parquet"),
    ),
    # not refused: these crashed or misread before and now load (exit 0, no traceback)
    Refused(
        "blank_customer_unit_validates", _edit("customers", [0, 5], "business_unit", ""), code=0
    ),
    Refused(
        "time_zones_validate",
        _edit("orders", range(0, 60, 3), "order_date", "2025-03-01T23:30:00+08:00"),
        code=0,
    ),
]


def _run_validate(case: Refused, clean: Path, root: Path) -> subprocess.CompletedProcess:
    folder = root / case.name
    shutil.copytree(clean, folder)
    if case.mutate:
        case.mutate(folder)
    args = [SEGREPORT, "validate", "--data-dir", str(folder), "--set", f"quality.today={TODAY}"]
    if case.params_yaml:
        (root / f"{case.name}.yaml").write_text(case.params_yaml)
        args += ["--params", str(root / f"{case.name}.yaml")]
    return subprocess.run(
        [*args, *case.args], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def validated(clean, tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("refused")
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(lambda c: (c.name, _run_validate(c, clean, root)), REFUSED)
        return dict(runs)


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.name)
def test_bad_input_is_refused_clearly(case, validated):
    run = validated[case.name]
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == case.code, (run.stdout, run.stderr)
    if case.code == 2:
        assert run.stderr.startswith("segreport: error: "), run.stderr
        for text in case.expect:
            assert text in run.stderr, (text, run.stderr)


# ---- repairs: loaded, counted, and the corrected value equals the clean file's ------------
@pytest.fixture(scope="module")
def clean_data(clean):
    return _load(clean)


@pytest.fixture
def spoil(clean, tmp_path):
    def make(*mutations) -> Path:
        folder = tmp_path / "data"
        shutil.copytree(clean, folder)
        for mutate in mutations:
            mutate(folder)
        return folder

    return make


def _count(data, rule, table=None, column=None) -> int:
    return sum(
        r.rows
        for r in data.quality.repairs
        if r.rule == rule
        and (table is None or r.table == table)
        and (column is None or r.column == column)
    )


def _revenue(data) -> float:
    return round(float(data.orders["amount"].sum()), 2)


def test_blank_business_unit_of_a_customer_loads_and_slices(spoil, clean_data):
    data = _load(spoil(_edit("customers", [0, 1, 2], "business_unit", "")))
    assert data.customers["business_unit"].isna().sum() == 3
    for unit in data.units:  # for_unit crashed on the missing unit ('members |= ...')
        own = data.for_unit(unit)
        assert set(own.orders["customer_id"]) <= set(own.customers["customer_id"])
    assert _revenue(data) == _revenue(clean_data)


@pytest.mark.parametrize(
    ("stamp", "zone", "expected"),
    [
        ("2025-03-01T23:30:00+08:00", "UTC", "2025-03-01 15:30"),
        ("2025-03-01T23:30:00Z", "Asia/Shanghai", "2025-03-02 07:30"),
        ("2025-03-01 23:30:00-05:00", "UTC", "2025-03-02 04:30"),
    ],
)
def test_time_zones_are_converted_to_one_zone_and_counted(spoil, stamp, zone, expected):
    rows = range(0, 40, 4)
    data = _load(spoil(_edit("orders", rows, "order_date", stamp)), timezone=zone)
    assert _count(data, "time_zone", "orders", "order_date") == len(rows)
    assert data.orders["order_date"].dt.tz is None
    assert (data.orders["order_date"] == pd.Timestamp(expected)).sum() >= len(rows) - 1


def test_time_zones_on_every_row(spoil, clean_data):
    def every_row(folder):
        frame = _read(folder, "orders")
        frame["order_date"] = frame["order_date"] + "T00:00:00Z"
        _write(folder, "orders", frame)

    data = _load(spoil(every_row))
    rows = data.quality.rows_read["orders"] - _count(data, "duplicate_rows", "orders")
    assert _count(data, "time_zone", "orders") == rows
    assert _revenue(data) == _revenue(clean_data)
    pd.testing.assert_series_equal(
        data.orders["order_date"].reset_index(drop=True),
        clean_data.orders["order_date"].reset_index(drop=True),
    )


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("cp1252", "décoration"),
        ("latin-1", "Müller & Söhne"),
        ("cp1252", "“smart” quotes – café"),
        ("gbk", "家居用品"),
        ("gb18030", "家居用品 €"),
        ("gbk", "毛巾 茅台"),  # GBK bytes C3 AB / C3 A9: valid UTF-8 ("ë", "é") by chance
        ("utf-8", "décoration 家居"),
        ("utf-8-sig", "décoration 家居"),
        ("cp1252", "Straße – “Zoë”"),
    ],
)
def test_encodings_are_detected_honestly(spoil, encoding, text):
    def write(folder):
        frame = _read(folder, "orders")
        frame.loc[::7, "product_category"] = text
        frame.to_csv(folder / "orders.csv", index=False, encoding=encoding)

    data = _load(spoil(write))
    categories = set(data.orders["product_category"].dropna())
    assert text in categories
    assert not any("閏" in c or "Ã" in c for c in categories)


def test_gbk_female_marker_that_happens_to_be_utf8_is_not_mixed(spoil):
    # GBK "女" (C5 AE) is also valid UTF-8 ("Ů"): not proof of a UTF-8 part
    def write(folder):
        frame = _read(folder, "customers")
        frame["gender"] = ["女" if i % 2 else "男" for i in range(len(frame))]
        frame["name"] = "x"
        frame["address"] = "x"
        frame.to_csv(folder / "customers.csv", index=False, encoding="gbk")

    data = _load(spoil(write))
    assert set(data.customers["gender"].dropna()) == {"女", "男"}


@pytest.mark.parametrize("sep", [",", ";"])
def test_decimal_commas_are_read_right_and_counted(spoil, clean_data, sep):
    def write(folder):
        frame = _read(folder, "orders")
        frame["amount"] = frame["amount"].str.replace(".", ",", regex=False)
        frame.to_csv(folder / "orders.csv", index=False, sep=sep)

    data = _load(spoil(write))
    assert _revenue(data) == _revenue(clean_data)
    assert _count(data, "decimal_comma", "orders", "amount") > 0


def test_thousands_separators_stay_thousands(spoil, clean_data):
    def write(folder):
        frame = _read(folder, "orders")
        frame.loc[0, "amount"] = "1,234.50"
        _write(folder, "orders", frame)

    data = _load(spoil(write))
    assert (data.orders["amount"] == 1234.5).any()
    assert _count(data, "decimal_comma") == 0


def test_decimal_commas_in_a_survey_score(spoil, clean):
    def write(folder):
        frame = _read(folder, "survey_responses")
        frame.loc[0, "csat"] = "4,5"
        _write(folder, "survey_responses", frame)

    data = _load(spoil(write))
    first = _read(clean, "survey_responses").loc[0, "response_id"]
    row = data.survey_responses.set_index("response_id").loc[first]
    assert row["csat"] == 4.5


@pytest.mark.parametrize(
    ("pattern", "sets"),
    [("%d.%m.%Y", {}), ("%m/%d/%Y", {}), ("%d/%m/%y", {}), ("%d-%m-%Y", {"dayfirst": True})],
)
def test_day_month_dates_are_read_in_one_order(spoil, clean_data, pattern, sets):
    data = _load(spoil(_dates("orders", "order_date", lambda i, d: d.strftime(pattern))), **sets)
    pd.testing.assert_series_equal(
        data.orders["order_date"].reset_index(drop=True),
        clean_data.orders["order_date"].reset_index(drop=True),
    )


def test_ambiguous_dates_follow_dayfirst_when_given(spoil):
    folder = spoil(_dates("orders", "order_date", _ambiguous_only))
    first = _load(folder, dayfirst=True).orders["order_date"]
    second = _load(folder, dayfirst=False).orders["order_date"]
    assert (first != second).any()  # the parameter decides, and each reading is whole


def test_placeholder_order_dates_are_removed_and_counted(spoil, clean_data):
    data = _load(spoil(_edit("orders", [3, 4, 5], "order_date", "1900-01-01")))
    assert _count(data, "implausible_date", "orders", "order_date") == 3
    assert data.orders["order_date"].min() >= pd.Timestamp("1980-01-01")
    assert len(data.orders) == len(clean_data.orders) - 3


def test_placeholder_signup_dates_are_set_missing(spoil):
    data = _load(spoil(_edit("customers", [0, 1], "signup_date", "1900-01-01")))
    assert _count(data, "implausible_date", "customers", "signup_date") == 2
    assert (data.customers["signup_date"].dropna() >= pd.Timestamp("1980-01-01")).all()


def test_earliest_date_is_a_parameter(spoil, clean_data):
    data = _load(spoil(), quality__earliest_date="2025-01-01")
    assert _count(data, "implausible_date", "orders") > 0
    later = clean_data.orders.loc[clean_data.orders["order_date"] >= "2025-01-01"]
    assert len(data.orders) == len(later) and _revenue(data) == round(later["amount"].sum(), 2)


def test_a_wild_amount_is_removed_and_counted(spoil, clean_data):
    folder = spoil()
    frame = _read(folder, "orders")
    kept = frame.loc[frame["status"] == "completed"].index[0]
    original = float(frame.loc[kept, "amount"])
    frame.loc[kept, "amount"] = "1e18"
    _write(folder, "orders", frame)
    data = _load(folder)
    assert _count(data, "implausible_amount", "orders", "amount") == 1
    assert _revenue(data) == round(_revenue(clean_data) - original, 2)


def test_max_amount_is_a_parameter(spoil, clean_data):
    data = _load(spoil(), quality__max_amount=500)
    assert _count(data, "implausible_amount") > 0
    below = clean_data.orders.loc[clean_data.orders["amount"].abs() <= 500]
    assert len(data.orders) == len(below) and _revenue(data) == round(below["amount"].sum(), 2)


@pytest.mark.parametrize("token", ["NULL", "N/A", "None", "-", "null", "#N/A", "  "])
def test_null_tokens_are_missing_customer_ids(spoil, clean_data, token):
    data = _load(spoil(_edit("orders", [1, 2], "customer_id", token)))
    assert _count(data, "missing_customer_id", "orders") == 2 + _count(
        clean_data, "missing_customer_id", "orders"
    )
    assert token.strip() not in set(data.customers["customer_id"])


def test_null_token_business_unit_is_missing(spoil, clean_data):
    data = _load(spoil(_edit("orders", [1], "business_unit", "NULL")))
    assert "NULL" not in data.units
    assert _count(data, "missing_business_unit", "orders") == 1


def test_one_order_id_with_two_amounts_keeps_the_first(spoil):
    folder = spoil()
    frame = _read(folder, "orders")
    row = frame.loc[frame["status"] == "completed"].iloc[[0]].copy()
    first = float(row["amount"].iloc[0])
    row["amount"] = "999.99"
    _write(folder, "orders", pd.concat([frame, row], ignore_index=True))
    data = _load(folder)
    assert _count(data, "duplicate_order_id", "orders", "order_id") == 1
    kept = data.orders.loc[data.orders["order_id"] == row["order_id"].iloc[0], "amount"]
    assert kept.tolist() == [first]


def test_order_lines_sharing_an_id_are_kept(spoil, clean_data):
    def lines(folder):  # an export of order lines: ids repeat, products differ
        frame = _read(folder, "orders").drop_duplicates(ignore_index=True)
        frame["order_id"] = [f"INV{i // 3}" for i in range(len(frame))]
        frame["product_category"] = frame["product_category"] + [
            str(i % 3) for i in range(len(frame))
        ]
        _write(folder, "orders", frame)

    data = _load(spoil(lines))
    assert _count(data, "duplicate_order_id") == 0
    assert _revenue(data) == _revenue(clean_data)


def _stray_quote(folder):
    path = folder / "orders.csv"
    lines = path.read_text().split("\n")
    lines[10] = lines[10].replace('","', ",", 1)  # two fields run together: one field fewer
    path.write_text("\n".join(lines))


def _unclosed_quote(folder):
    path = folder / "orders.csv"
    frame = _read(folder, "orders")
    text = frame.to_csv(index=False, quoting=0).split("\n")  # minimal quoting: none here
    text[20] = text[20].replace(",", ',"', 4).replace(',"', ",", 3)  # opens a quote, never closed
    text[22] = text[22].replace(",", '",', 1)  # ... until a quote two lines later
    path.write_text("\n".join(text))


def test_a_row_with_a_field_too_few_is_removed_and_counted(spoil, clean_data):
    data = _load(spoil(_stray_quote))
    repair = [r for r in data.quality.repairs if r.rule == "malformed_row"]
    assert [r.rows for r in repair] == [1]
    assert repair[0].examples[0].startswith("line 11:")
    assert len(data.orders) == len(clean_data.orders) - 1


def test_a_quote_swallowing_rows_is_counted(spoil, clean_data):
    data = _load(spoil(_unclosed_quote))
    assert _count(data, "malformed_row", "orders") == 3  # the lines 21-23 it spans
    assert len(data.orders) == len(clean_data.orders) - 3


def test_negative_quantity_and_huge_discounts_are_counted(spoil):
    folder = spoil()
    frame = _read(folder, "orders")
    sale = frame.index[frame["status"] == "completed"][:4]
    frame.loc[sale[0], "quantity"] = "-5"
    frame.loc[sale[1], "discount"] = "99999"
    frame.loc[sale[2], "discount"] = "-10"
    _write(folder, "orders", frame)
    data = _load(folder).orders.set_index("order_id")
    quality = _load(folder)
    assert _count(quality, "implausible_value", "orders", "quantity") == 1
    assert _count(quality, "implausible_value", "orders", "discount") == 2
    assert pd.isna(data.loc[frame.loc[sale[0], "order_id"], "quantity"])
    assert pd.isna(data.loc[frame.loc[sale[1], "order_id"], "discount"])
    assert data.loc[frame.loc[sale[3], "order_id"], "discount"] == float(
        frame.loc[sale[3], "discount"]
    )


def test_a_quantity_that_is_not_a_number_is_counted(spoil):
    data = _load(spoil(_edit("orders", [0, 1], "quantity", "lots")))
    assert _count(data, "bad_number", "orders", "quantity") == 2


def test_a_row_dividing_by_zero_in_an_expression_is_counted(spoil, clean_data):
    folder = spoil(_edit("orders", [0], "quantity", "0"))
    data = _load(folder, columns={"orders": {"amount": {"expr": "amount / quantity * quantity"}}})
    assert _count(data, "bad_amount", "orders") == 1 + _count(clean_data, "bad_amount", "orders")


def test_surveys_of_unknown_customers_are_counted(spoil):
    data = _load(spoil(_edit("survey_responses", [0, 1, 2], "customer_id", "C9999999")))
    assert _count(data, "unknown_customer", "survey_responses") == 3


def _other_unit(table: str, id_column: str):
    """A row of ``table`` moved to a unit its (known) customer does not belong to."""

    def mutate(folder):
        frame = _read(folder, table)
        orders = _read(folder, "orders")
        units = orders.groupby("customer_id")["business_unit"].agg(set)
        single = units[units.map(len) == 1]
        mask = frame["customer_id"].isin(single.index)
        row = frame.index[mask][0]
        own = next(iter(single[frame.loc[row, "customer_id"]]))
        other = sorted(set(orders["business_unit"]) - {own})[0]
        frame.loc[row, "business_unit"] = other
        _write(folder, table, frame)
        (folder / "moved.txt").write_text(f"{frame.loc[row, id_column]},{other}")

    return mutate


@pytest.mark.parametrize(
    ("table", "id_column"),
    [("survey_responses", "response_id"), ("interactions", "interaction_id")],
)
def test_rows_of_another_units_customer_stay_out_of_the_unit(spoil, table, id_column):
    folder = spoil(_other_unit(table, id_column))
    moved, unit = (folder / "moved.txt").read_text().split(",")
    data = _load(folder)
    assert _count(data, "other_unit_customer", table) >= 1
    own = getattr(data.for_unit(unit), table)
    assert moved not in set(own[id_column])
    assert moved in set(getattr(data, table)[id_column])  # the company view keeps it
    assert any(r.rule == "other_unit_customer" for r in data.quality.for_unit(unit).repairs)


def test_a_damaged_cache_entry_is_rebuilt(clean, tmp_path):
    from analysis.report.cache import prepare
    from analysis.report.context import read_cache

    params = _params(clean)
    first = prepare(params, tmp_path)
    victim = next((first.root / "units").glob("*/orders.parquet"))
    victim.write_bytes(victim.read_bytes()[:100])
    with pytest.raises(DataError, match="--force"):
        read_cache(victim.parent)
    again = prepare(params, tmp_path)
    assert not again.reused
    data, _ = read_cache(victim.parent)
    assert len(data.orders) > 0


def test_expression_errors_are_user_errors(clean):
    with pytest.raises(AnalysisError, match="divides by zero"):
        _load(clean, columns={"orders": {"amount": {"expr": "1 / 0"}}})

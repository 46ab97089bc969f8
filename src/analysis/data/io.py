"""Reading input tables: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, Latin-1/CP1252; plain or
.gz), Parquet, Excel.

Every column is read as text first, so identifiers such as ``00123`` keep their leading
zeros and nothing is guessed; :mod:`analysis.data.schema` then converts the contract columns
to their types and counts what it could not convert.

CSV files are read whole, decoded in one encoding and split into records by the
:mod:`csv` module, so that a problem is named by its line:

- the encoding is detected over the whole file (:func:`detect_encoding`); a file that is
  UTF-8 in part and something else in part is refused, naming the first line of each;
- the delimiter (``,``, ``;``, tab or ``|``) is the one the header line uses;
- a record whose number of fields differs from the header's, or a quoted field that
  swallows a whole following row (a stray quote), is removed and counted
  (``frame.attrs["malformed_rows"]``: the loader records the repair ``malformed_row``); when
  more than :data:`MAX_MALFORMED_SHARE` of the rows are malformed the file is refused.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
#: Encodings ``encoding="auto"`` chooses from (see :func:`detect_encoding`).
AUTO_ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "cp1252", "latin-1")
#: Delimiters a CSV header may use; the one it uses most is taken.
DELIMITERS = (",", ";", "\t", "|")
#: Above this share of malformed records a file is refused rather than repaired.
MAX_MALFORMED_SHARE = 0.05
_HIGH = re.compile(rb"[\x80-\xff]")
_HIGH_RUNS = re.compile(rb"[\x80-\xff]+")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in (*CSV_SUFFIXES, *PARQUET_SUFFIXES, *EXCEL_SUFFIXES):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, uncompressed for ``.gz``; a truncated or damaged archive is a
    :class:`DataError` naming the file."""
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(
            f"the compressed file is truncated or damaged ({exc}); export it again.",
            file=str(path),
        ) from None
    except OSError as exc:
        raise DataError(f"the file cannot be read ({exc}).", file=str(path)) from None


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def _legacy_encoding(sample: bytes) -> str:
    """GB18030 for Chinese text, else CP1252 (or Latin-1), judged from the runs of bytes
    >= 0x80: a GBK character is two such bytes, so Chinese text has runs of even length,
    while accented Latin letters stand alone between ASCII letters ("d\\xe9coration")."""
    runs = _HIGH_RUNS.findall(sample)
    odd = sum(len(run) % 2 for run in runs)
    if runs and odd * 2 <= len(runs):
        try:
            sample.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _detect(data: bytes, file: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
        try:
            body.decode("utf-8")
            return "utf-8-sig"
        except UnicodeDecodeError as exc:
            bad = _line_of(data, exc.start + 3)
            raise DataError(
                f"the file starts as UTF-8 (it has a UTF-8 byte-order mark) but line {bad} is "
                "not UTF-8: it mixes text encodings. Save it again in one encoding.",
                file=file,
            ) from None
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    utf8_lines: list[int] = []
    other_lines: list[int] = []
    other: list[bytes] = []
    lines = data.split(b"\n")
    for number, line in enumerate(lines, 1):
        if not _HIGH.search(line):
            continue
        try:
            line.decode("utf-8")
            utf8_lines.append(number)
        except UnicodeDecodeError:
            other_lines.append(number)
            other.append(line)
    legacy = _legacy_encoding(b"\n".join(other))
    # A legacy line may decode as UTF-8 by chance (GBK "女" is the UTF-8 "Ů"); only text
    # UTF-8 would write (a CJK character for Chinese text, any letter otherwise) counts.
    floor = 0x800 if legacy == "gb18030" else 0x80
    strong = [n for n in utf8_lines if any(ord(ch) >= floor for ch in lines[n - 1].decode("utf-8"))]
    if strong:
        raise DataError(
            f"the file mixes text encodings: line {strong[0]} is UTF-8, but line "
            f"{other_lines[0]} is not ({len(other_lines):,} such line(s); they read as "
            f"{legacy}). Save the file again in one encoding (UTF-8), or set the "
            "'encoding' parameter if one encoding is right for every line.",
            file=file,
            examples=[f"line {n}" for n in other_lines[:3]],
        )
    return legacy


def detect_encoding(path: str | os.PathLike) -> str:
    """Detect the text encoding of a CSV file from all of its bytes.

    A UTF-8 byte-order mark gives ``utf-8-sig``; text that decodes as UTF-8 gives
    ``utf-8``; otherwise ``gb18030`` for Chinese text (GBK and GB2312 too) and ``cp1252``
    (or ``latin-1``) for Western text, told apart by how bytes >= 0x80 group (two per
    Chinese character, one per accented letter).

    Raises
    ------
    DataError
        When the file is UTF-8 in part and in another encoding in part (naming the first
        line of each), or cannot be read.
    """
    path = Path(path)
    return _detect(_read_bytes(path), str(path))


def read_table(
    path: str | os.PathLike,
    *,
    encoding: str = "auto",
    sheet: str | int = 0,
) -> pd.DataFrame:
    """Read one input table with every column as text (missing cells as NA).

    Parameters
    ----------
    path
        A ``.csv``/``.csv.gz``/``.tsv``, ``.parquet`` or ``.xlsx`` file.
    encoding
        ``auto`` (see :func:`detect_encoding`) or a Python codec name; CSV only.
    sheet
        Excel sheet name or index.

    Returns
    -------
    DataFrame
        ``attrs["encoding"]`` is the encoding used (CSV), ``attrs["malformed_rows"]`` the
        records removed for a wrong number of fields, as ``(line, text)`` pairs.

    Raises
    ------
    DataError
        The file is missing, truncated, cannot be parsed or decoded, has no header row, or
        too many of its rows are malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("the file does not exist.", file=str(path))
    suffix = _suffix(path)
    try:
        if suffix in PARQUET_SUFFIXES:
            frame = pd.read_parquet(path)
            frame = frame.astype({c: "string" for c in frame.columns})
        elif suffix in EXCEL_SUFFIXES:
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str)
        else:
            frame = _read_csv(path, encoding, "\t" if ".tsv" in suffix else None)
    except DataError:
        raise
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, ImportError) as exc:
        raise DataError(f"the file cannot be parsed: {exc}", file=str(path)) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.columns.duplicated().any():
        dupes = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise DataError(f"the header repeats column names {dupes}.", file=str(path))
    return frame


def _decode(data: bytes, encoding: str, file: str) -> tuple[str, str]:
    chosen = _detect(data, file) if encoding == "auto" else encoding
    try:
        return data.decode(chosen), chosen
    except UnicodeDecodeError as exc:
        raise DataError(
            f"the file cannot be decoded as {chosen} (line {_line_of(data, exc.start)}); set "
            "the 'encoding' parameter to the file's encoding.",
            file=file,
        ) from None
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}.", file=file) from None


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path, encoding: str, sep: str | None) -> pd.DataFrame:
    file = str(path)
    data = _read_bytes(path)
    text, chosen = _decode(data, encoding, file)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise DataError("the file is empty (no header row).", file=file)
    sep = sep or _delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header: list[str] | None = None
    rows: list[list[str]] = []
    malformed: list[tuple[int, int, str]] = []  # (first line, lines spanned, text)
    last_line = 0
    try:
        for record in reader:
            first, last_line = last_line + 1, reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # a blank line
            if header is None:
                header = [c.strip() for c in record]
                continue
            # a record on one line holds no newline, so it cannot have swallowed a row
            spans = last_line > first
            if len(record) != len(header) or (spans and _swallows_a_row(record, sep, len(header))):
                shown = sep.join(record)[:120].replace("\n", "\\n")
                malformed.append((first, last_line - first + 1, shown))
                continue
            rows.append(record)
    except csv.Error as exc:
        raise DataError(
            f"the file cannot be parsed as CSV near line {reader.line_num}: {exc}.", file=file
        ) from None
    if header is None:
        raise DataError("the file is empty (no header row).", file=file)
    names = [name or f"Unnamed: {i}" for i, name in enumerate(header)]
    if len(set(names)) < len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"the header repeats column names {dupes}.", file=file)
    lost = sum(span for _, span, _ in malformed)
    if malformed and lost > MAX_MALFORMED_SHARE * (len(rows) + lost):
        raise DataError(
            f"{lost:,} of {len(rows) + lost:,} rows do not have the header's {len(header)} "
            f"fields (delimiter {sep!r}); a stray quote, an unquoted delimiter or a wrong "
            "delimiter. Fix the export (quote text fields) and load it again.",
            file=file,
            examples=[f"line {n}: {shown}" for n, _, shown in malformed[:3]],
        )
    frame = (
        pd.DataFrame(rows, columns=names, dtype=object)
        if rows
        else pd.DataFrame(columns=names, dtype=object)
    )
    frame = frame.where(frame != "", np.nan)
    frame.attrs["encoding"] = chosen
    frame.attrs["malformed_rows"] = [(n, span, shown) for n, span, shown in malformed]
    return frame


def _swallows_a_row(record: list[str], sep: str, width: int) -> bool:
    """Whether a quoted field holds a line that looks like a whole row (as many delimiters
    as a row has): an unclosed quote that ran on into the next record."""
    need = max(width - 1, 3)
    for value in record:
        if "\n" in value:
            for line in value.split("\n")[1:]:
                if line.count(sep) >= need:
                    return True
    return False


#: Extensions tried, in this order, when a table's file is found by its name (``auto``).
FIND_SUFFIXES = (*CSV_SUFFIXES, *PARQUET_SUFFIXES, *EXCEL_SUFFIXES)


def find_table(folder: str | os.PathLike, table: str) -> Path | None:
    """The file of ``table`` in ``folder`` found by its name with any supported extension
    (``orders.csv``, ``orders.csv.gz``, ``orders.parquet``, ``orders.xlsx``, ...; the
    name's case is ignored), or None when there is none.

    Raises
    ------
    DataError
        When two files could be the table (say ``orders.csv`` and ``orders.parquet``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    wanted = {f"{table}{suffix}" for suffix in FIND_SUFFIXES}
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower() in wanted)
    if len(found) > 1:
        raise DataError(
            f"the {table} table could be any of {', '.join(p.name for p in found)}; keep "
            f"one, or name it with 'files: {{{table}: <file>}}' in the parameters.",
            file=str(folder),
        )
    return found[0] if found else None


def file_digest(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, for the manifest and the cache key."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()

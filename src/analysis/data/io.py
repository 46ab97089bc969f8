"""Reading input tables: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, Latin-1/CP1252; plain or
.gz), Parquet, Excel.

Every CSV column is read as text first, so identifiers such as ``00123`` keep their
leading zeros and nothing is guessed; :mod:`analysis.data.schema` then converts the
contract columns to their types and counts what it could not convert.

CSV files are checked and parsed without a Python step per row, and a problem is still
named by its line:

- the encoding is detected over the whole file (:func:`detect_encoding`): UTF-8 is
  validated chunk by chunk, never decoded whole; a file that is UTF-8 in part and
  something else in part is refused, naming the first line of each;
- the delimiter (``,``, ``;``, tab or ``|``) is the one the header line uses;
- a file where every line is one record (no quoted line break, every quote opening,
  closing or doubled inside a field: :func:`_one_record_per_line`, array operations over
  the bytes) is parsed by Arrow's C++ CSV reader; only rows with a wrong number of fields
  reach Python. Any other file is read record by record with the :mod:`csv` module, which
  also finds a quoted field that swallows whole following rows (a stray quote);
- a record whose number of fields differs from the header's, or that swallowed a row, is
  removed and counted (``frame.attrs["malformed_rows"]``: the loader records the repair
  ``malformed_row``); when more than :data:`MAX_MALFORMED_SHARE` of the rows are
  malformed the file is refused.

Parquet files keep their column types (numbers, dates, timestamps, booleans): converting
them to text for the loader to parse back would cost more than the rest of loading.
Text comes back as pandas' Arrow-backed ``str`` dtype, missing cells as NA.
"""

from __future__ import annotations

import codecs
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


#: A line holding a byte that is not UTF-8 (decoded with ``surrogateescape``).
_NOT_UTF8_LINE = re.compile(r"^[^\n]*[\udc80-\udcff][^\n]*", re.M)
_UTF8_ONLY = r"^(?=[^\n\udc80-\udcff]*$)[^\n]*?"
_LATIN = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"  # Latin letters beyond ASCII
_LATIN1 = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff"
#: Text only UTF-8 writes, on a line that is all UTF-8: any letter beyond ASCII, against a
#: Western legacy encoding (CP1252 bytes are almost never valid UTF-8 by chance) ...
_UTF8_AGAINST_WESTERN = re.compile(_UTF8_ONLY + r"[^\x00-\x7f]", re.M)
#: ... and against GB18030, whose two-byte characters are valid UTF-8 by chance when the
#: first byte is C2-DF and the second 80-BF (GBK "女" reads as UTF-8 "Ů"): a character
#: from U+0800 (a CJK character, a typographic quote), or an accented Latin letter inside
#: a Latin word ("décoration", "Müller", "café", "École"), which a GBK character read as
#: UTF-8 never is but by rare chance.
_UTF8_AGAINST_GB = re.compile(
    _UTF8_ONLY
    + r"(?:[\u0800-\ud7ff\ue000-\U0010ffff]"
    + rf"|[A-Za-z][{_LATIN}]+[A-Za-z]"
    + rf"|[A-Za-z]{{2,}}[{_LATIN1}](?![^\W\d_])"
    + rf"|(?<![^\W\d_])[{_LATIN1}][a-z]{{2,}})",
    re.M,
)
_CHUNK = 1 << 23  # 8 MB: UTF-8 is checked chunk by chunk, never decoded whole


def _is_utf8(data: bytes | memoryview) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), _CHUNK):
            decoder.decode(view[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _detect(data: bytes, file: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        if _is_utf8(memoryview(data)[3:]):
            return "utf-8-sig"
        bad = _line_of(data, _first_not_utf8(data, 3))
        raise DataError(
            "the file mixes text encodings: line 1 is UTF-8 (it starts with a UTF-8 "
            f"byte-order mark), but line {bad} is not UTF-8. Save the file again in one "
            "encoding (UTF-8).",
            file=file,
            examples=["line 1: UTF-8", f"line {bad}: not UTF-8"],
        )
    if _is_utf8(data):
        return "utf-8"
    text = data.decode("utf-8", "surrogateescape")
    other = _NOT_UTF8_LINE.findall(text)
    first_other = _NOT_UTF8_LINE.search(text)
    legacy = _legacy_encoding(b"\n".join(line.encode("utf-8", "surrogateescape") for line in other))
    evidence = _UTF8_AGAINST_GB if legacy == "gb18030" else _UTF8_AGAINST_WESTERN
    strong = evidence.search(text)
    if strong:
        utf8_line = text.count("\n", 0, strong.start()) + 1
        other_line = text.count("\n", 0, first_other.start()) + 1
        first, second = sorted(
            [(utf8_line, "UTF-8"), (other_line, f"{legacy}, not UTF-8")], key=lambda x: x[0]
        )
        raise DataError(
            f"the file mixes text encodings: line {first[0]} is {first[1]}, but line "
            f"{second[0]} is {second[1]} ({len(other):,} line(s) are not UTF-8). Save the "
            "file again in one encoding (UTF-8), or set the 'encoding' parameter if one "
            "encoding is right for every line.",
            file=file,
            examples=[f"line {utf8_line}: UTF-8", f"line {other_line}: {legacy}"],
        )
    return legacy


def _first_not_utf8(data: bytes, start: int) -> int:
    try:
        data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start + start
    return len(data)


def detect_encoding(path: str | os.PathLike) -> str:
    """Detect the text encoding of a CSV file from all of its bytes.

    A UTF-8 byte-order mark gives ``utf-8-sig``; text that decodes as UTF-8 gives
    ``utf-8``; otherwise ``gb18030`` for Chinese text (GBK and GB2312 too) and ``cp1252``
    (or ``latin-1``) for Western text, told apart by how bytes >= 0x80 group (two per
    Chinese character, one per accented letter). A line that is valid UTF-8 in a file that
    is not proves a second encoding only when its text is one UTF-8 writes and the legacy
    encoding would not produce by chance (:data:`_UTF8_AGAINST_GB`).

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
    """Read one input table: CSV and Excel columns as text, Parquet columns in their own
    types (text, numbers, dates, booleans; anything else as text); missing cells as NA.

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
            frame = _read_parquet(path)
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


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file column by column: text as text, and numbers, dates, timestamps and
    booleans in their own types (converting them to text only for the loader to parse
    them back would cost more than the rest of loading). A date column becomes a
    datetime column; a column of any other type (decimals, lists) is read as text."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    table = pq.read_table(path)
    index = (table.schema.pandas_metadata or {}).get("index_columns", [])
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in index:  # a pandas index written with the frame: not data
            continue
        kind = column.type
        if pa.types.is_dictionary(kind):
            column, kind = column.cast(kind.value_type), kind.value_type
        typed = (
            pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind)
            or pa.types.is_date(kind)
            or pa.types.is_timestamp(kind)
        )
        if pa.types.is_date(kind):
            column = column.cast(pa.timestamp("ms"))
        elif not typed and not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            column = pa.array(column.to_pandas().astype("string"), type=pa.string())
        columns[str(name)] = column
    table = pa.table(columns)
    del columns  # so that converting frees each Arrow column as it goes
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    for name in frame.columns:  # booleans with gaps come back as objects
        if frame[name].dtype == object:
            frame[name] = frame[name].astype("string")
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


def _utf8_bytes(data: bytes, encoding: str, file: str) -> tuple[bytes, str]:
    """The file's text as UTF-8 bytes without a byte-order mark, and the encoding it was
    read in. A UTF-8 file is used as it is (checked, not decoded); any other encoding is
    decoded and written as UTF-8."""
    chosen = _detect(data, file) if encoding == "auto" else encoding
    try:
        name = codecs.lookup(chosen).name
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}.", file=file) from None
    if name in ("utf-8", "utf-8-sig"):
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        if encoding == "auto" or _is_utf8(body):
            return body, chosen
    text, chosen = _decode(data, chosen, file)
    return text.lstrip("\ufeff").encode("utf-8"), chosen


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path, encoding: str, sep: str | None) -> pd.DataFrame:
    file = str(path)
    data, chosen = _utf8_bytes(_read_bytes(path), encoding, file)
    if not data.strip():
        raise DataError("the file is empty (no header row).", file=file)
    first_line = data.split(b"\n", 1)[0].decode("utf-8", "replace")
    sep = sep or _delimiter(first_line)
    buf = np.frombuffer(data, dtype=np.uint8)
    if _one_record_per_line(buf, ord(sep)):
        frame = _read_lines_arrow(data, buf, sep, file)
    else:  # quoted line breaks or quotes inside fields: the csv module, record by record
        frame = _read_records(data.decode("utf-8"), sep, file)
    frame.attrs["encoding"] = chosen
    return frame


_QUOTE, _LF, _CR = ord('"'), ord("\n"), ord("\r")


def _one_record_per_line(buf: np.ndarray, sep: int) -> bool:
    """Whether every line of the UTF-8 bytes is one CSV record that any reader splits the
    same way (:mod:`csv` and Arrow alike): lines end in ``\n`` or ``\r\n``, there is no NUL
    byte, and every quote opens a field (at the start of the line or after a delimiter),
    closes it (before a delimiter or the line end) or is doubled inside it, with no line
    break inside a quoted field. Checked with array operations over the bytes."""
    size = len(buf)
    if not size or (buf == 0).any():
        return False
    cr = np.flatnonzero(buf == _CR)
    if len(cr) and (cr[-1] == size - 1 or (buf[np.minimum(cr + 1, size - 1)] != _LF).any()):
        return False
    quotes = np.flatnonzero(buf == _QUOTE)
    if not len(quotes):
        return True
    if len(quotes) % 2:
        return False
    opens, closes = quotes[0::2], quotes[1::2]
    breaks = np.flatnonzero(buf == _LF)
    if (np.searchsorted(breaks, opens) != np.searchsorted(breaks, closes)).any():
        return False  # a line break inside quotes: one record spans lines
    before = buf[np.maximum(opens - 1, 0)]
    doubled_open = opens - 1 == np.concatenate(([-2], closes[:-1]))
    at_start = (opens == 0) | (before == sep) | (before == _LF)
    if not (at_start | doubled_open).all():
        return False
    after = buf[np.minimum(closes + 1, size - 1)]
    doubled_close = closes + 1 == np.concatenate((opens[1:], [-2]))
    at_end = (closes == size - 1) | (after == sep) | (after == _LF) | (after == _CR)
    return bool((at_end | doubled_close).all())


def _blank(record: list[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def _header(data: bytes, sep: str, file: str) -> tuple[list[str], int, int]:
    """The header (the first record that is not blank), its line number and where the
    data after it starts."""
    position, line = 0, 0
    while position < len(data):
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end
        line += 1
        record = next(csv.reader([data[position:end].decode("utf-8").rstrip("\r")], delimiter=sep))
        position = end + 1
        if not _blank(record):
            return [c.strip() for c in record], line, position
    raise DataError("the file is empty (no header row).", file=file)


def _names(header: list[str], file: str) -> list[str]:
    names = [name or f"Unnamed: {i}" for i, name in enumerate(header)]
    if len(set(names)) < len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"the header repeats column names {dupes}.", file=file)
    return names


def _read_lines_arrow(data: bytes, buf: np.ndarray, sep: str, file: str) -> pd.DataFrame:
    """A file of one record per line (:func:`_one_record_per_line`), parsed by Arrow's
    CSV reader in C++; only the rows with a wrong number of fields reach Python (to be
    named by their line, as :func:`_read_records` names them)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415
    from pyarrow import csv as pa_csv  # noqa: PLC0415

    header, header_line, start = _header(data, sep, file)
    names = _names(header, file)
    width = len(names)
    keys = [f"c{i}" for i in range(width)]
    invalid: list[tuple[int, list[str]]] = []

    def on_invalid(row) -> str:
        record = next(csv.reader([row.text], delimiter=sep), [])
        if not _blank(record):
            invalid.append((row.number, record))
        return "skip"

    if not data[start:].strip(b"\r\n"):  # a header and no data row
        frame = _empty(names)
        frame.attrs["malformed_rows"] = []
        return frame
    table = pa_csv.read_csv(
        pa.BufferReader(memoryview(data)[start:]),
        read_options=pa_csv.ReadOptions(column_names=keys, use_threads=False),
        parse_options=pa_csv.ParseOptions(
            delimiter=sep,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=True,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(keys, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if width == 1 and table.num_rows:  # a blank line is no record (as csv.reader reads it)
        table = table.filter(pc.not_equal(pc.utf8_trim_whitespace(table.column(0)), ""))
    malformed = []
    if invalid:
        lines = _non_empty_lines(buf[start:])
        for number, record in invalid:
            shown = sep.join(record)[:120].replace("\n", "\\n")
            malformed.append((header_line + int(lines[number - 1]) + 1, 1, shown))
    _refuse_many_malformed(malformed, table.num_rows, width, sep, file)
    columns = {}
    for key, name in zip(keys, names, strict=True):
        column = table.column(key)
        columns[name] = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    frame = pa.table(columns).to_pandas() if table.num_rows else _empty(names)
    frame.attrs["malformed_rows"] = malformed
    return frame


def _empty(names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype="str") for name in names})


def _non_empty_lines(buf: np.ndarray) -> np.ndarray:
    """The 0-based numbers of the lines that are not empty (as Arrow numbers its rows)."""
    breaks = np.flatnonzero(buf == _LF)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(buf)]))
    length = ends - starts
    empty = (length == 0) | ((length == 1) & (buf[np.minimum(starts, len(buf) - 1)] == _CR))
    return np.flatnonzero(~empty)


def _refuse_many_malformed(malformed, kept: int, width: int, sep: str, file: str) -> None:
    lost = sum(span for _, span, _ in malformed)
    if malformed and lost > MAX_MALFORMED_SHARE * (kept + lost):
        raise DataError(
            f"{lost:,} of {kept + lost:,} rows do not have the header's {width} "
            f"fields (delimiter {sep!r}); a stray quote, an unquoted delimiter or a wrong "
            "delimiter. Fix the export (quote text fields) and load it again.",
            file=file,
            examples=[f"line {n}: {shown}" for n, _, shown in malformed[:3]],
        )


def _read_records(text: str, sep: str, file: str) -> pd.DataFrame:
    """Any CSV file, record by record with the :mod:`csv` module: for files where a record
    may span lines (a quoted line break) or a quote sits inside a field, so that a record
    that swallowed a row (a stray quote) is found and named by its lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header: list[str] | None = None
    rows: list[list[str]] = []
    malformed: list[tuple[int, int, str]] = []  # (first line, lines spanned, text)
    last_line = 0
    try:
        for record in reader:
            first, last_line = last_line + 1, reader.line_num
            if _blank(record):
                continue
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
    names = _names(header, file)
    _refuse_many_malformed(malformed, len(rows), len(header), sep, file)
    if not rows:
        frame = _empty(names)
    else:
        frame = pd.DataFrame(rows, columns=names, dtype=object)
        frame = frame.where(frame != "", np.nan).astype("str")
    frame.attrs["malformed_rows"] = malformed
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

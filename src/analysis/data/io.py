"""Reading input tables: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030; plain or .gz), Parquet, Excel.

Every column is read as text first (``dtype=str``), so identifiers such as ``00123`` keep
their leading zeros and nothing is guessed; :mod:`analysis.data.schema` then converts the
contract columns to their types and counts what it could not convert.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import pandas as pd

from ..errors import DataError

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
#: Encodings tried in order by ``encoding="auto"``. GB18030 is a superset of GBK and GB2312.
AUTO_ENCODINGS = ("utf-8", "gb18030")
_SNIFF_BYTES = 1 << 20


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in (*CSV_SUFFIXES, *PARQUET_SUFFIXES, *EXCEL_SUFFIXES):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def detect_encoding(path: str | os.PathLike) -> str:
    """Guess the text encoding of a CSV file from its first megabyte.

    A UTF-8 byte-order mark gives ``utf-8-sig``; text that decodes as UTF-8 gives ``utf-8``;
    otherwise ``gb18030`` (Chinese Excel exports), which decodes GBK and GB2312 too.

    Raises
    ------
    DataError
        When neither encoding can read the file.
    """
    path = Path(path)
    with _open_bytes(path) as fh:
        head = fh.read(_SNIFF_BYTES)
        more = bool(fh.read(1))
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if more:  # do not judge a multi-byte character cut at the sniff boundary
        cut = head.rfind(b"\n")
        head = head[: cut + 1] if cut > 0 else head
    for encoding in AUTO_ENCODINGS:
        try:
            head.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    raise DataError(
        "the file is neither UTF-8 nor GB18030/GBK text; set the 'encoding' parameter "
        "to its encoding (for example latin-1 or big5).",
        file=str(path),
    )


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

    Raises
    ------
    DataError
        The file is missing, cannot be parsed, or has no header row.
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
            frame = _read_csv(path, encoding, sep="\t" if ".tsv" in suffix else ",")
    except DataError:
        raise
    except (ValueError, OSError, pd.errors.ParserError, ImportError) as exc:
        raise DataError(f"the file cannot be parsed: {exc}", file=str(path)) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.columns.duplicated().any():
        dupes = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise DataError(f"the header repeats column names {dupes}.", file=str(path))
    return frame


def _read_csv(path: Path, encoding: str, sep: str) -> pd.DataFrame:
    chosen = detect_encoding(path) if encoding == "auto" else encoding
    options = dict(dtype=str, keep_default_na=False, na_values=[""], sep=sep)
    try:
        frame = pd.read_csv(path, encoding=chosen, **options)
        header = pd.read_csv(path, encoding=chosen, header=None, nrows=1, **options)
        names = [str(v).strip() for v in header.iloc[0]] if len(header) else []
        if len(set(names)) < len(names):  # pandas silently renames repeats to "a.1"
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise DataError(f"the header repeats column names {dupes}.", file=str(path))
        return frame
    except UnicodeDecodeError:
        if encoding != "auto" or chosen == "gb18030":
            raise DataError(
                f"the file cannot be decoded as {chosen}; set the 'encoding' parameter.",
                file=str(path),
            ) from None
        # UTF-8 at the start, something else further down: Chinese exports mix these.
        return pd.read_csv(path, encoding="gb18030", **options)
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty (no header row).", file=str(path)) from None
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}.", file=str(path)) from None


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

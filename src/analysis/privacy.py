"""Pseudonymised customer ids and PII scrubbing for rendered reports.

Reports show customer ids as keyed hashes (HMAC-SHA256, truncated) so a reader can follow
one customer through a report without learning the real id; exports keep real ids for the
CRM. The key comes from the environment variable ``SEGREPORT_ID_KEY``; without it a random
key is created once in the output folder (``.segreport_id_key``, readable by the owner
only) so pseudonyms stay stable between runs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Any

import pandas as pd

from .data.schema import PII_COLUMNS
from .errors import ParamsError

ENV_KEY = "SEGREPORT_ID_KEY"
KEY_FILE = ".segreport_id_key"
#: Shortest accepted pseudonymisation key.
MIN_KEY_BYTES = 16


def id_key(output_dir: str | os.PathLike | None = None) -> bytes:
    """The pseudonymisation key: ``$SEGREPORT_ID_KEY``, else the output folder's key file."""
    env = os.environ.get(ENV_KEY)
    if env is not None:
        return _checked(env.encode("utf-8"), f"the environment variable {ENV_KEY}")
    folder = Path(output_dir or ".")
    path = folder / KEY_FILE
    if path.is_file():
        return _checked(path.read_bytes().strip(), f"the key file {path}")
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    # Write a private temporary file, then link it into place: exactly one of several
    # notebooks starting at once creates the key, and nobody ever reads a half-written one.
    tmp = folder / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    try:
        os.link(tmp, path)
    except FileExistsError:  # another process won the race: use its key
        key = path.read_bytes().strip()
    finally:
        tmp.unlink(missing_ok=True)
    return key


#: Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?$")


def _checked(key: bytes, where: str) -> bytes:
    """Refuse a key that makes pseudonyms reversible: empty, or shorter than
    :data:`MIN_KEY_BYTES` (HMAC with a guessable key is a plain hash)."""
    if len(key) < MIN_KEY_BYTES:
        raise ParamsError(
            f"{where} holds a pseudonymisation key of {len(key)} byte(s); at least "
            f"{MIN_KEY_BYTES} random characters are needed, or pseudonyms could be reversed. "
            f"Set {ENV_KEY} to a long random string (e.g. `openssl rand -hex 32`), or delete "
            "the key file to have a new one made."
        )
    return key


def neutralise_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, made inert with a leading
    apostrophe (``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``). A negative number stays a
    number; non-text values are returned as they are.

    Examples
    --------
    >>> neutralise_cell("=cmd|' /C calc'!A0"), neutralise_cell("-12.5"), neutralise_cell("@x")
    ("'=cmd|' /C calc'!A0", '-12.5', "'@x")
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    if _NUMBER.match(value):
        return value
    return "'" + value


def neutralise_formulas(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Every text cell of ``frame`` through :func:`neutralise_cell` (a copy), and how many
    cells changed. Column names are text cells too."""
    out = frame.copy()
    changed = 0
    for column in out.columns:
        values = out[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        try:  # only the cells that start like a formula need a look (a vectorised test)
            suspect = values.str.startswith(FORMULA_START, na=False).astype(bool)
        except AttributeError:  # an object column without any text
            continue
        if not suspect.any():
            continue
        before = values[suspect]
        fixed = before.map(neutralise_cell)
        moved = (fixed != before).to_numpy(dtype=bool)
        if moved.any():
            changed += int(moved.sum())
            values = values.copy()
            values[suspect] = fixed
            out[column] = values
    names = [neutralise_cell(str(c)) for c in out.columns]
    changed += sum(str(a) != str(b) for a, b in zip(names, out.columns, strict=True))
    out.columns = names
    return out, changed


def pseudonymise(ids: pd.Series, key: bytes, *, length: int = 10) -> pd.Series:
    """Replace each id by ``c-`` + the first ``length`` hex digits of HMAC-SHA256(key, id).

    The same id and key always give the same pseudonym; without the key it cannot be
    reversed by trying candidate ids.
    """

    def one(value: object) -> object:
        if pd.isna(value):
            return value
        digest = hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
        return f"c-{digest[:length]}"

    return ids.map(one)


def drop_pii(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` without the PII columns (name, phone, email, address)."""
    return frame.drop(columns=[c for c in PII_COLUMNS if c in frame.columns])


#: Free-text columns in which a known customer name is masked (table -> columns).
TEXT_COLUMNS = {"survey_responses": ("comment",), "interactions": ("topic", "note", "notes")}
NAME_TOKEN = "[name]"
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _name_candidates(name: object) -> list[str]:
    """The forms of a customer name worth masking: the full name and, for Latin names, each
    part of three letters or more (a first name alone is a name too)."""
    if not isinstance(name, str) or not name.strip():
        return []
    full = " ".join(name.split())
    if _CJK.search(full):  # Chinese names are 2-4 characters; mask only the full name
        return [full] if len(full) >= 2 else []
    parts = [w for w in _WORD.findall(full) if len(w) >= 3]
    return [full, *parts] if len(full) >= 3 else []


def mask_names(texts: pd.Series, names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Replace known customer names in ``texts`` with ``[name]``.

    ``names`` are the customers' names (any order); Latin names match as whole words, case
    folded; Chinese names as substrings. Returns the masked texts and a boolean Series of
    the rows that changed.
    """
    latin, cjk = set(), set()
    for name in names.dropna().unique():
        for form in _name_candidates(name):
            (cjk if _CJK.search(form) else latin).add(form.casefold())
    if not latin and not cjk:
        return texts, pd.Series(False, index=texts.index)
    pattern_cjk = (
        re.compile("|".join(sorted(map(re.escape, cjk), key=len, reverse=True))) if cjk else None
    )
    longest = max((len(w.split()) for w in latin), default=1)

    def one(text: object) -> object:
        if not isinstance(text, str) or not text:
            return text
        out = text
        if latin:
            words = list(_WORD.finditer(out))
            spans = []
            i = 0
            while i < len(words):
                hit = None
                for size in range(min(longest, len(words) - i), 0, -1):
                    start, end = words[i].start(), words[i + size - 1].end()
                    phrase = " ".join(w.group(0) for w in words[i : i + size]).casefold()
                    if phrase in latin:
                        hit = (start, end, size)
                        break
                if hit:
                    spans.append(hit[:2])
                    i += hit[2]
                else:
                    i += 1
            for start, end in reversed(spans):
                out = out[:start] + NAME_TOKEN + out[end:]
        if pattern_cjk is not None:
            out = pattern_cjk.sub(NAME_TOKEN, out)
        return out

    masked = texts.map(one)
    # missing texts (NaN or pd.NA) compare as equal: only real text can change
    changed = masked.fillna("").astype("object").ne(texts.fillna("").astype("object"))
    changed &= texts.notna()
    return masked, changed


def scrub_dataset(data: Any) -> Any:
    """A :class:`~analysis.data.load.Dataset` fit to be cached and reported: known customer
    names masked in free text (counted as the repair ``name_in_text``), then the PII
    columns (name, phone, email, address, birth_date) dropped from every table; a birth
    date leaves its month and day only (:func:`with_birthday`)."""
    from dataclasses import replace  # noqa: PLC0415

    names = data.customers["name"] if "name" in data.customers.columns else None
    tables = {}
    for table, columns in TEXT_COLUMNS.items():
        frame = getattr(data, table)
        if frame is None:
            continue
        frame = frame.copy()
        for column in columns:
            if names is None or column not in frame.columns:
                continue
            frame[column], changed = mask_names(frame[column], names)
            data.quality.record(table, "name_in_text", "masked", changed, frame, column=column)
        tables[table] = drop_pii(frame)
    return replace(data, customers=drop_pii(with_birthday(data.customers)), **tables)


def with_birthday(customers: pd.DataFrame) -> pd.DataFrame:
    """``customers`` with ``birthday`` (``MM-DD``, no year) beside a ``birth_date``
    column, so the birth date itself (PII) can be dropped while birthdays can still be
    greeted; unreadable dates give no birthday."""
    if customers is None or "birth_date" not in customers.columns:
        return customers
    born = pd.to_datetime(customers["birth_date"], errors="coerce")
    return customers.assign(birthday=born.dt.strftime("%m-%d").where(born.notna()))

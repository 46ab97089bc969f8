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
import secrets
from pathlib import Path

import pandas as pd

from .data.schema import PII_COLUMNS

ENV_KEY = "SEGREPORT_ID_KEY"
KEY_FILE = ".segreport_id_key"


def id_key(output_dir: str | os.PathLike | None = None) -> bytes:
    """The pseudonymisation key: ``$SEGREPORT_ID_KEY``, else the output folder's key file."""
    env = os.environ.get(ENV_KEY)
    if env:
        return env.encode("utf-8")
    folder = Path(output_dir or ".")
    path = folder / KEY_FILE
    if path.is_file():
        return path.read_bytes().strip()
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

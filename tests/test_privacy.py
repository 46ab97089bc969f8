"""Pseudonymised ids: keyed, stable, and one key even when many processes start at once."""

import multiprocessing

import pandas as pd
import pytest

from analysis import privacy
from analysis.errors import ParamsError


def test_pseudonyms_are_keyed_and_stable():
    ids = pd.Series(["C1", "C2", "C1", None])
    a = privacy.pseudonymise(ids, b"key-a")
    assert a[0] == a[2] and a[0] != a[1] and pd.isna(a[3])
    assert a[0].startswith("c-") and len(a[0]) == 12
    assert privacy.pseudonymise(ids, b"key-b")[0] != a[0]


def _key(folder):
    return privacy.id_key(folder)


def test_one_key_when_processes_race(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.ENV_KEY, raising=False)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        keys = pool.map(_key, [tmp_path] * 8)
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert (tmp_path / privacy.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [privacy.KEY_FILE]


def test_environment_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(privacy.ENV_KEY, "from-the-environment")
    assert privacy.id_key(tmp_path) == b"from-the-environment"
    assert not (tmp_path / privacy.KEY_FILE).exists()


@pytest.mark.parametrize("key", ["", "short", "x" * 15])
def test_empty_or_short_keys_are_refused(tmp_path, monkeypatch, key):
    monkeypatch.setenv(privacy.ENV_KEY, key)
    with pytest.raises(ParamsError, match=r"SEGREPORT_ID_KEY holds a pseudonymisation key of \d+"):
        privacy.id_key(tmp_path)
    monkeypatch.delenv(privacy.ENV_KEY)
    (tmp_path / privacy.KEY_FILE).write_text(key + "\n")
    with pytest.raises(ParamsError, match="key file"):
        privacy.id_key(tmp_path)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+north", "'+north"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tinjected", "'\tinjected"),
        ("\rinjected", "'\rinjected"),
        ("-12", "-12"),
        ("-12.50", "-12.50"),
        ("-1e3", "-1e3"),
        ("plain", "plain"),
        ("a=b", "a=b"),
    ],
)
def test_formula_cells_are_neutralised(cell, expected):
    assert privacy.neutralise_cell(cell) == expected


def test_neutralise_formulas_counts_and_keeps_numbers():
    frame = pd.DataFrame(
        {"customer_id": ["=cmd|x", "C2", None], "amount": [-5.0, 1.0, 2.0], "=bad": ["a", "b", "c"]}
    )
    safe, changed = privacy.neutralise_formulas(frame)
    assert changed == 2
    assert safe["customer_id"].tolist()[:2] == ["'=cmd|x", "C2"] and pd.isna(safe.iloc[2, 0])
    assert safe["amount"].tolist() == [-5.0, 1.0, 2.0]
    assert list(safe.columns) == ["customer_id", "amount", "'=bad"]
    assert frame.iloc[0, 0] == "=cmd|x"  # the input is not changed

"""Pseudonymised ids: keyed, stable, and one key even when many processes start at once."""

import multiprocessing

import pandas as pd

from analysis import privacy


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
    monkeypatch.setenv(privacy.ENV_KEY, "from-env")
    assert privacy.id_key(tmp_path) == b"from-env"
    assert not (tmp_path / privacy.KEY_FILE).exists()

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


def test_known_names_are_masked_in_comments():
    names = pd.Series(["Anna Keller", "李小龙", None, "Bo"])
    texts = pd.Series(
        [
            "Anna was great, thanks anna!",
            "Ask for Mrs Keller next time",
            "李小龙的服务很好",
            "Annabelle is not Anna",  # a longer word is not the name
            None,
            "Bo said hi",  # two-letter parts are too short to mask alone
            "nothing here",
        ]
    )
    masked, changed = privacy.mask_names(texts, names)
    assert masked.tolist()[:4] == [
        "[name] was great, thanks [name]!",
        "Ask for Mrs [name] next time",
        "[name]的服务很好",
        "Annabelle is not [name]",
    ]
    assert pd.isna(masked[4]) and masked[5] == "Bo said hi" and masked[6] == "nothing here"
    assert changed.tolist() == [True, True, True, True, False, False, False]


def test_scrub_dataset_masks_counts_and_drops_pii():
    from analysis.data.load import Dataset

    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "name": ["Anna Keller", "Li Wei"],
            "email": ["a@x.org", "l@y.org"],
            "phone": ["1", "2"],
        }
    )
    surveys = pd.DataFrame(
        {
            "response_id": ["R1", "R2"],
            "customer_id": ["C1", None],
            "business_unit": ["north", "north"],
            "comment": ["Keller here, bad delivery", "ok"],
        }
    )
    orders = pd.DataFrame(columns=["order_id", "customer_id", "order_date", "amount"])
    data = Dataset(customers=customers, orders=orders, survey_responses=surveys)
    clean = privacy.scrub_dataset(data)
    assert clean.survey_responses["comment"].tolist() == ["[name] here, bad delivery", "ok"]
    assert list(clean.customers.columns) == ["customer_id"]
    assert data.quality.count("name_in_text") == 1
    assert surveys["comment"][0].startswith("Keller")  # the input is not changed


def test_neutralise_formulas_equals_the_cell_by_cell_rule_on_random_frames():
    """The vectorised pass changes exactly the cells neutralise_cell changes, counts them,
    and leaves every other cell (numbers in text columns, missing values) as it was."""
    import numpy as np
    import pandas as pd

    from analysis.privacy import neutralise_cell, neutralise_formulas

    rng = np.random.default_rng(0)
    pool = ["=1+1", "-12.5", "-x", "@a", "\tq", "ok", "", None, np.nan, 5, -3.2, "+1", "\r", "中文"]
    for _ in range(200):
        n = int(rng.integers(0, 25))
        columns = {}
        for name in ("a", "=b", "c"):
            values = [pool[i] for i in rng.integers(0, len(pool), n)]
            kind = int(rng.integers(0, 3))
            if kind == 1:
                values = [v if isinstance(v, str) else None for v in values]
            columns[name] = pd.Series(values, dtype="string" if kind == 1 else object)
        frame = pd.DataFrame(columns)
        out, changed = neutralise_formulas(frame)
        expected = 1  # the column name "=b"
        for name, new_name in zip(frame.columns, out.columns, strict=True):
            assert new_name == neutralise_cell(name)
            for before, after in zip(frame[name], out[new_name], strict=True):
                if isinstance(before, str):
                    assert after == neutralise_cell(before)
                    expected += after != before
                else:
                    assert after is before or (pd.isna(after) and pd.isna(before))
        assert changed == expected

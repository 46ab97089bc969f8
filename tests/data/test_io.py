import gzip

import pandas as pd
import pytest

from analysis.data.io import detect_encoding, read_table
from analysis.errors import DataError

CHINESE = pd.DataFrame(
    {"customer_id": ["00123", "C2"], "name": ["张伟", "王芳"], "city": ["北京", "上海"]}
)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_detects_encoding_and_reads_chinese(tmp_path, encoding, expected):
    path = tmp_path / "customers.csv"
    CHINESE.to_csv(path, index=False, encoding=encoding)
    assert detect_encoding(path) == expected
    frame = read_table(path)
    assert frame["name"].tolist() == ["张伟", "王芳"]
    assert frame["city"].tolist() == ["北京", "上海"]
    assert list(frame.columns) == ["customer_id", "name", "city"]  # no BOM in the first name
    assert frame["customer_id"].iloc[0] == "00123"  # ids stay text: leading zeros kept


def test_explicit_encoding_and_gzip(tmp_path):
    path = tmp_path / "customers.csv.gz"
    with gzip.open(path, "wt", encoding="gbk") as fh:
        CHINESE.to_csv(fh, index=False)
    assert read_table(path, encoding="gbk")["name"].tolist() == ["张伟", "王芳"]
    assert read_table(path)["name"].tolist() == ["张伟", "王芳"]


def test_gbk_after_a_long_ascii_prefix_is_still_read(tmp_path):
    # The sniffer sees only ASCII in the first megabyte; the reader must recover.
    rows = pd.DataFrame({"customer_id": [f"C{i}" for i in range(60_000)], "name": "Smith"})
    rows = pd.concat([rows, pd.DataFrame({"customer_id": ["C-last"], "name": ["张伟"]})])
    path = tmp_path / "big.csv"
    rows.to_csv(path, index=False, encoding="gbk")
    assert read_table(path)["name"].iloc[-1] == "张伟"


def test_parquet_and_excel(tmp_path):
    CHINESE.to_parquet(tmp_path / "c.parquet")
    assert read_table(tmp_path / "c.parquet")["name"].tolist() == ["张伟", "王芳"]
    CHINESE.to_excel(tmp_path / "c.xlsx", index=False)
    assert read_table(tmp_path / "c.xlsx")["customer_id"].tolist() == ["00123", "C2"]


def test_missing_and_unparseable_files_name_the_file(tmp_path):
    with pytest.raises(DataError, match="missing.csv.*does not exist"):
        read_table(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.csv"):
        read_table(empty)
    dupes = tmp_path / "dupes.csv"
    dupes.write_text("a,a\n1,2\n")
    with pytest.raises(DataError, match="repeats column names"):
        read_table(dupes)


def test_undecodable_file_with_wrong_explicit_encoding(tmp_path):
    path = tmp_path / "x.csv"
    CHINESE.to_csv(path, index=False, encoding="gbk")
    with pytest.raises(DataError, match="cannot be decoded as utf-8"):
        read_table(path, encoding="utf-8")

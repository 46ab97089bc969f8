"""Tests of analysis.text: PII masking, jieba segmentation, comment themes, examples."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import satisfaction as sat
from analysis import text
from analysis.errors import ParamsError

MASKED = [
    ("call me at 13812345678", "call me at [phone]"),
    ("+86 138 1234 5678", "[phone]"),
    ("0086 13812345678", "[phone]"),
    ("138-1234-5678", "[phone]"),
    ("电话：13912345678，谢谢", "电话：[phone]，谢谢"),
    ("，请打电话给我 139-1234-5678", "，请打电话给我 [phone]"),
    ("+1 (415) 555-2671", "[phone]"),
    ("415-555-2671 after 5pm", "[phone] after 5pm"),
    ("(415) 555-2671", "[phone]"),
    ("+44 20 7946 0958", "[phone]"),
    ("020 7946 0958", "[phone]"),
    ("010-12345678", "[phone]"),
    ("(0755) 8888 8888", "[phone]"),
    ("400-820-8820", "[phone]"),
    ("5551234567", "[phone]"),
    ("john.doe+crm@example.co.uk", "[email]"),
    ("张三 zhang_san@163.com 谢谢", "张三 [email] 谢谢"),
    ("邮箱abc@qq.com谢谢", "邮箱[email]谢谢"),
    ("Contact me at guest.01234@example.com.", "Contact me at [email]."),
]
KEPT = [
    "order 2025-10-01 arrived",
    "price 1,299.00",
    "order #12345",
    "order 12345678",
    "waited 3 days",
    "2025年10月1日到货",
    "version 2.0.1",
    "at 10:30",
    "01-02-2025",
    "2025.10.01",
    "paid 300.00 on 12/10/2025",
    "订单号 20251001",
    "等了 15 天",
]


@pytest.mark.parametrize(("raw", "masked"), MASKED)
def test_mask_pii_masks_phones_and_emails(raw, masked):
    assert text.mask_pii(raw) == masked


@pytest.mark.parametrize("raw", KEPT)
def test_mask_pii_keeps_dates_prices_and_short_numbers(raw):
    assert text.mask_pii(raw) == raw


def test_mask_pii_missing_and_custom_tokens():
    assert text.mask_pii(None) == "" and text.mask_pii(pd.NA) == "" and text.mask_pii(np.nan) == ""
    assert text.mask_pii("a@b.cn 13812345678", email_token="<e>", phone_token="<p>") == "<e> <p>"


def test_jieba_segments_words_not_characters():
    terms = text.comment_terms("配送太慢了，客服态度也不好", language="zh")
    assert {"配送", "太慢", "客服", "不好"} <= terms
    assert "配送太慢" in terms  # a Chinese bigram, written without a space
    assert not {"配", "送", "了", "也", "，"} & terms


def test_english_tokens_stopwords_negations_and_bigrams():
    terms = text.comment_terms("Delivery was NOT fast, and I didn't like the box!")
    assert {"delivery", "fast", "not fast", "not like", "box"} <= terms
    assert not {"was", "and", "the", "i", "fast and"} & terms
    assert "delivery not" not in terms  # "was" (a stopword) breaks the run


def test_masked_pii_never_becomes_a_term():
    terms = text.comment_terms("call 13812345678 or mail li@x.com")
    assert not any(ch.isdigit() for term in terms for ch in term)
    assert not {"phone", "email", "li", "com"} & terms


def test_jieba_is_quiet_on_first_use():
    # a fresh interpreter: jieba's first use logs "Building prefix dict..." unless quietened
    src = Path(text.__file__).resolve().parents[1]
    code = "from analysis import text; print(sorted(text.comment_terms('配送太慢了')))"
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0 and done.stderr == ""
    assert "太慢" in done.stdout


def planted_comments(rng: np.random.Generator) -> tuple[pd.Series, pd.Series]:
    detractor = [
        "Delivery was slow and the box was damaged",
        "slow delivery again",
        "配送太慢了",
        "客服态度不好，配送太慢",
        "the app keeps crashing, slow delivery",
    ]
    promoter = [
        "Great price and friendly staff",
        "great price!",
        "质量很好，价格实惠",
        "friendly staff, great quality",
        "价格实惠，物流很快",
    ]
    passive = ["it was ok", "nothing special", "还行"]
    comments, groups = [], []
    for label, bank, k in (
        ("detractor", detractor, 60),
        ("promoter", promoter, 80),
        ("passive", passive, 30),
    ):
        comments += list(rng.choice(bank, k))
        groups += [label] * k
    comments += ["", None, "call me 13812345678"]
    groups += ["detractor", "promoter", None]
    return pd.Series(comments, dtype=object), pd.Series(groups)


def test_comment_themes_recover_planted_terms():
    comments, groups = planted_comments(np.random.default_rng(5))
    themes = text.comment_themes(comments, groups, top_n=6)
    assert list(themes.columns) == [
        "group",
        "rank",
        "term",
        "count",
        "share",
        "other_count",
        "log_odds",
        "z",
    ]
    top = themes.groupby("group")["term"].apply(list).to_dict()
    assert {"slow delivery", "配送太慢"} & set(top["detractor"][:3])
    assert {"great price", "价格实惠", "friendly staff"} & set(top["promoter"][:3])
    assert (themes["z"] > 0).all()
    # counts are comments mentioning the term, checked against a direct count
    det = comments[groups == "detractor"].dropna()
    row = themes[(themes["group"] == "detractor") & (themes["term"] == "slow delivery")].iloc[0]
    assert row["count"] == sum("slow delivery" in c for c in det)
    assert row["other_count"] == sum(
        "slow delivery" in str(c) for c in comments[groups != "detractor"]
    )


def test_comment_themes_log_odds_formula():
    # two groups, hand-countable: term "slow" in 3 of group a's comments, 1 of group b's
    comments = ["slow", "slow", "slow", "fine", "slow", "fine", "fine", "fine"]
    groups = ["a"] * 4 + ["b"] * 4
    themes = text.comment_themes(comments, groups, min_count=1, bigrams=False)
    row = themes[(themes["group"] == "a") & (themes["term"] == "slow")].iloc[0]
    # pooled counts: slow 4, fine 4 -> prior a_w = 4 each, a_0 = 8; n_a = n_b = 4
    y_i, y_j, a_w, a_0, n_i, n_j = 3, 1, 4, 8, 4, 4
    delta = np.log((y_i + a_w) / (n_i + a_0 - y_i - a_w)) - np.log(
        (y_j + a_w) / (n_j + a_0 - y_j - a_w)
    )
    z = delta / np.sqrt(1 / (y_i + a_w) + 1 / (y_j + a_w))
    assert row["log_odds"] == pytest.approx(delta) and row["z"] == pytest.approx(z)
    assert row["count"] == 3 and row["other_count"] == 1 and row["share"] == pytest.approx(0.75)


def test_comment_themes_single_group_and_empty():
    themes = text.comment_themes(["slow delivery"] * 4, None, min_count=1)
    assert set(themes["group"]) == {"all"} and themes["z"].isna().all()
    assert text.comment_themes([], []).empty
    with pytest.raises(ParamsError, match="length"):
        text.comment_themes(["a"], ["x", "y"])
    with pytest.raises(ParamsError, match="language"):
        text.comment_themes(["a"], ["x"], language="fr")


def test_example_comments_are_masked_reproducible_and_id_free():
    comments = pd.Series(
        [
            "slow delivery, call me at 13812345678",
            "slow delivery",
            "bad",
            "配送太慢了，邮箱 li@qq.com",
            "great price",
            "great price and staff",
            "x" * 500,
        ],
        index=[f"C{i}" for i in range(7)],
    )
    groups = pd.Series(["detractor"] * 4 + ["promoter"] * 3, index=comments.index)
    themes = text.comment_themes(comments, groups, min_count=1)
    out = text.example_comments(comments, groups, n=2, themes=themes, max_length=100)
    assert list(out.columns) == ["group", "comment"]
    assert out.groupby("group").size().to_dict() == {"detractor": 2, "promoter": 2}
    joined = " ".join(out["comment"])
    assert "13812345678" not in joined and "li@qq.com" not in joined
    assert not any(c.startswith("C") and c[1:].isdigit() for c in out["comment"])
    assert all(len(c) <= 100 for c in out["comment"])
    again = text.example_comments(comments, groups, n=2, themes=themes, max_length=100)
    pd.testing.assert_frame_equal(out, again)
    assert text.example_comments([None, ""], ["a", "a"]).empty


@pytest.fixture(scope="module")
def sample():
    module = pytest.importorskip("analysis.data.sample")
    return module.generate_sample(n_customers=20_000, seed=42)


def test_sample_comment_themes_and_pii(sample):
    survey = sample.survey_responses
    groups = sat.nps_category(survey["nps"])
    themes = text.comment_themes(survey["comment"], groups, top_n=10)
    assert {"detractor", "promoter"} <= set(themes["group"])
    assert themes["term"].str.contains(r"\d{7}|@", regex=True).sum() == 0
    examples = text.example_comments(survey["comment"], groups, n=3, themes=themes)
    masked = survey["comment"].map(text.mask_pii)
    n_pii = sample.truth["dirty_rows"]["survey_comments_with_pii"]
    assert (masked.str.contains(r"\[(?:phone|email)\]", regex=True)).sum() == n_pii
    assert not examples["comment"].str.contains("@", regex=False).any()

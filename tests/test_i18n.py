"""Message catalogs: every key in both languages, with the same placeholders."""

import string

import pytest

from analysis.i18n import LANGUAGES, Translator, catalog, t


def _fields(text: str) -> set[str]:
    """Placeholders of a message; a plural choice ``{n|customer|customers}`` counts as
    ``n`` (English only: Chinese has no plural)."""
    return {f.split("|")[0] for _, f, _, _ in string.Formatter().parse(text) if f}


def test_catalogs_have_the_same_keys():
    en, zh = catalog("en"), catalog("zh")
    assert sorted(set(en) - set(zh)) == [], "keys missing in zh"
    assert sorted(set(zh) - set(en)) == [], "keys missing in en"


@pytest.mark.parametrize("key", sorted(catalog("en")))
def test_placeholders_match(key):
    assert _fields(catalog("en")[key]) == _fields(catalog("zh")[key]), key


def test_chinese_catalog_is_chinese():
    zh = catalog("zh")
    with_han = [k for k, v in zh.items() if any("\u4e00" <= ch <= "\u9fff" for ch in v)]
    assert len(with_han) / len(zh) > 0.9


def test_translate_and_errors():
    assert t("common.customers", "zh") == "客户"
    assert (
        Translator("en")("quality.headline", fixed="3", read="10")
        == "10 input rows checked, 3 repairs made (one row may need several)"
    )
    with pytest.raises(KeyError, match="no message"):
        t("no.such.key", "en")
    with pytest.raises(Exception, match="language"):
        catalog("fr")
    assert set(LANGUAGES) == {"en", "zh"}


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "1 customer is"), ("1", "1 customer is"), (0, "0 customers are"), (2, "2 customers are"),
     ("1,000", "1,000 customers are"), (1.0, "1.0 customer is"), ("–", "– customers are")],
)  # fmt: skip
def test_counts_agree_with_their_nouns(n, expected):
    from analysis.i18n import plural_forms

    template = "{n} {n|customer is|customers are}"
    assert plural_forms(template, {"n": n}).format(n=n) == expected


@pytest.mark.parametrize(
    ("label", "language", "expected"),
    [
        ("New customers", "en", "new customers"),
        ("Repeat-purchase rate", "en", "repeat-purchase rate"),
        ("NPS", "en", "NPS"),
        ("CSAT (top-2-box)", "en", "CSAT (top-2-box)"),
        ("A", "en", "A"),
        ("", "en", ""),
        ("新客户", "zh", "新客户"),
        ("New customers", "zh", "New customers"),
    ],
)
def test_labels_inside_sentences(label, language, expected):
    from analysis.i18n import in_sentence

    assert in_sentence(label, language) == expected

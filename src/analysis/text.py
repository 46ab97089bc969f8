"""Survey comments: PII masking, themes (promoters vs detractors), example quotes.

English comments are tokenised with a regular expression and a stopword list;
Chinese comments are segmented into words with jieba (never split into single
characters). Negations ("not", "no", 不, 没) are kept, so "not good" survives as a
bigram. Distinctiveness is the log-odds ratio with an informative Dirichlet prior
(Monroe, Colaresi & Quinn 2008, "Fightin' Words", eq. 16-22): for term w in group i
against all other comments j,

``delta_w = log((y_wi + a_w) / (n_i + a_0 - y_wi - a_w))
          - log((y_wj + a_w) / (n_j + a_0 - y_wj - a_w))``,
``var(delta_w) ~ 1 / (y_wi + a_w) + 1 / (y_wj + a_w)``, ``z_w = delta_w / sqrt(var)``,

with the prior ``a_w`` proportional to the term's pooled count. Masking happens before
anything else, so no phone number or e-mail address reaches a theme or an example.
HTML escaping is the renderer's job.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Literal

import numpy as np
import pandas as pd

from .errors import ParamsError

EMAIL_TOKEN = "[email]"
PHONE_TOKEN = "[phone]"

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)

# Candidate phone numbers; each match is then checked for its digit count, so that
# dates (2025-10-01), prices and short order numbers are left alone.
_PHONE_PATTERNS = [
    # international with + or 00: +44 20 7946 0958, +1 (415) 555-2671, 0086 138...
    r"(?:\+|00)[1-9]\d{0,2}(?:[ .\-]?\(?\d{1,4}\)?){2,6}",
    # Chinese mobile: 13812345678, 138 1234 5678, 138-1234-5678
    r"1[3-9]\d(?:[ \-]?\d{4}){2}",
    # North American: (415) 555-2671, 415-555-2671, 415.555.2671
    r"(?:\(\d{3}\)[ ]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}",
    # Chinese service numbers: 400-820-8820, 800 820 8820
    r"[48]00[ \-]?\d{3}[ \-]?\d{4}",
    # trunk-prefixed landlines: 010-12345678, (021) 62345678, 020 7946 0958, 0755-8888888-123
    r"(?:\(0\d{1,3}\)|0\d{1,3})[ \-]?\d{3,8}(?:[ \-]\d{3,4})?(?:-\d{1,4})?",
    # any other long run of digits (10-15) is a phone number or another identifier
    r"\d{10,15}",
]
_PHONE = re.compile(r"(?<![0-9A-Za-z+])(?:" + "|".join(_PHONE_PATTERNS) + r")(?![0-9A-Za-z])")


def _phone_or_keep(match: re.Match[str], token: str) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    return (
        token if 7 <= digits <= 15 and (digits >= 9 or text.startswith(("+", "00", "("))) else text
    )


def mask_pii(
    text: object, *, email_token: str = EMAIL_TOKEN, phone_token: str = PHONE_TOKEN
) -> str:
    """Replace e-mail addresses and phone numbers in ``text`` with placeholder tokens.

    Recognised phone formats: international with ``+`` or ``00`` and a country code,
    Chinese mobile numbers (11 digits starting 13-19, with or without +86 and
    spaces/hyphens), North American ``(415) 555-2671``, Chinese 400/800 service
    numbers, trunk-prefixed landlines (``010-12345678``, ``020 7946 0958``) and any
    bare run of 10-15 digits. Dates, prices and short order numbers are kept. Missing
    values (None, NA) give an empty string.

    Parameters
    ----------
    text
        A comment.
    email_token, phone_token
        Replacement strings.

    Returns
    -------
    str
        The masked comment.

    Examples
    --------
    >>> mask_pii("call 138 1234 5678 or mail li.lei@example.com on 2025-10-01")
    'call [phone] or mail [email] on 2025-10-01'
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    text = str(text)
    text = _EMAIL.sub(email_token, text)
    return _PHONE.sub(lambda m: _phone_or_keep(m, phone_token), text)


# --------------------------------------------------------------------------- tokenising

# English stopwords (function words), without negations: "not good" must survive.
_EN_STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "of",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "get",
        "got",
        "im",
        "ive",
        "id",
        "its",
        "it's",
        "i'm",
        "i've",
        "i'd",
        "you're",
        "they're",
        "we're",
        "s",
        "t",
        "ll",
        "re",
        "ve",
        "d",
        "m",
        "o",
        "y",
        "one",
        "us",
        "really",
        "much",
        "even",
        "still",
        "well",
    ]
)
_EN_NEGATIONS = {
    "don't",
    "doesn't",
    "didn't",
    "isn't",
    "wasn't",
    "aren't",
    "weren't",
    "can't",
    "cannot",
    "won't",
    "wouldn't",
    "couldn't",
    "shouldn't",
    "haven't",
    "hasn't",
    "hadn't",
    "never",
}

# Chinese function words and particles (negations 不 / 没 / 没有 are kept).
_ZH_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "我",
        "你",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "也",
        "就",
        "都",
        "和",
        "与",
        "及",
        "在",
        "有",
        "这",
        "那",
        "这个",
        "那个",
        "一个",
        "还",
        "又",
        "吧",
        "吗",
        "呢",
        "啊",
        "呀",
        "哦",
        "嗯",
        "啦",
        "嘛",
        "再",
        "很",
        "非常",
        "比较",
        "挺",
        "太",
        "真",
        "真的",
        "会",
        "能",
        "要",
        "让",
        "把",
        "被",
        "给",
        "对",
        "从",
        "到",
        "为",
        "为了",
        "着",
        "过",
        "得",
        "地",
        "之",
        "而",
        "并",
        "但",
        "但是",
        "如果",
        "因为",
        "所以",
        "就是",
        "还是",
        "以及",
        "或",
        "或者",
        "一下",
        "一些",
        "一点",
        "有点",
        "自己",
        "什么",
        "怎么",
        "这样",
        "那样",
        "已经",
        "可以",
        "觉得",
        "感觉",
        "东西",
        "次",
        "个",
        "些",
        "里",
        "上",
        "下",
        "后",
        "前",
    ]
)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_EN_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_MASKS = re.compile(re.escape(EMAIL_TOKEN) + "|" + re.escape(PHONE_TOKEN))
_WORDLIKE = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@cache
def _jieba():  # noqa: ANN202
    """jieba, imported on first use with its logging quietened (it logs to stderr)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _is_cjk(token: str) -> bool:
    return bool(_CJK.search(token))


def _segments(text: str, language: str) -> list[list[str]]:
    """Token runs of one (masked) comment; punctuation and stopwords break runs."""
    text = _MASKS.sub(" ", text)
    use_jieba = language == "zh" or (language == "auto" and _is_cjk(text))
    if use_jieba:
        raw = [tok.strip().lower() for tok in _jieba().lcut(text)]
    else:
        raw = re.findall(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", text.lower())
    runs: list[list[str]] = [[]]
    for tok in raw:
        if tok in _EN_NEGATIONS:
            tok = "not"
        if not tok or not _WORDLIKE.search(tok) or tok in _EN_STOPWORDS or tok in _ZH_STOPWORDS:
            if runs[-1]:
                runs.append([])
            continue
        if not _is_cjk(tok) and (len(tok) < 2 or tok.isdigit()):
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(tok)
    return [r for r in runs if r]


def _terms_and_pairs(
    text: object, language: str, bigrams: bool
) -> tuple[set[str], dict[str, tuple[str, str]]]:
    terms: set[str] = set()
    pairs: dict[str, tuple[str, str]] = {}
    for run in _segments(mask_pii(text), language):
        terms.update(run)
        if bigrams:
            for a, b in zip(run, run[1:], strict=False):
                sep = "" if _is_cjk(a) and _is_cjk(b) else " "
                pairs[a + sep + b] = (a, b)
    terms.update(pairs)
    return terms, pairs


def comment_terms(text: object, *, language: str = "auto", bigrams: bool = True) -> set[str]:
    """The distinct terms (words and adjacent-word bigrams) of one comment.

    The comment is masked first (:func:`mask_pii`). Chinese bigrams are written without
    a space (``配送太慢``), English ones with one (``not fast``). A bigram never spans a
    stopword or punctuation; English negations (``didn't``) become ``not``.

    Examples
    --------
    >>> sorted(comment_terms("Delivery was not fast!"))
    ['delivery', 'fast', 'not', 'not fast']
    """
    return _terms_and_pairs(text, _check_language(language), bigrams)[0]


def _check_language(language: str) -> str:
    if language not in ("auto", "en", "zh"):
        raise ParamsError(f"language must be 'auto', 'en' or 'zh', got {language!r}")
    return language


def _aligned(comments: Iterable[object], groups: object) -> pd.DataFrame:
    comments = comments if isinstance(comments, pd.Series) else pd.Series(list(comments))
    if groups is None:
        groups = pd.Series("all", index=comments.index)
    elif not isinstance(groups, pd.Series):
        groups = pd.Series(list(groups))
    if len(groups) != len(comments):
        raise ParamsError(
            f"comments and groups differ in length ({len(comments)} vs {len(groups)})"
        )
    if not groups.index.equals(comments.index):
        groups = pd.Series(groups.to_numpy(), index=comments.index)
    text = comments.map(mask_pii)
    frame = pd.DataFrame({"comment": text, "group": groups})
    frame = frame[frame["group"].notna() & (frame["comment"].str.strip() != "")]
    return frame


# --------------------------------------------------------------------------- themes


def comment_themes(
    comments: pd.Series | Sequence[object],
    groups: pd.Series | Sequence[object] | None,
    *,
    language: Literal["auto", "en", "zh"] = "auto",
    top_n: int = 10,
    min_count: int = 3,
    bigrams: bool = True,
    prior_strength: float = 1.0,
) -> pd.DataFrame:
    """Most distinctive words and bigrams of each group's comments.

    Each group (e.g. promoters vs detractors, from
    :func:`analysis.satisfaction.nps_category`) is compared with all other comments.
    Counts are *comments mentioning the term* (a term repeated in one comment counts
    once). The score is the log-odds z-score with an informative Dirichlet prior
    (Monroe et al. 2008); the prior of a term is ``prior_strength`` times its pooled
    count, which keeps rare terms from topping the list.

    Parameters
    ----------
    comments
        Comment texts (NA and empty ones are skipped). Masked before use.
    groups
        Group label of each comment, aligned with ``comments``; None puts all
        comments in one group ``"all"`` (then ranked by count, ``z`` NaN).
    language
        ``"auto"`` (jieba for comments containing Chinese characters, the English
        tokenizer otherwise), ``"en"`` or ``"zh"``.
    top_n
        Terms kept per group.
    min_count
        Minimum comments in the group mentioning a term.
    bigrams
        Also count adjacent-word pairs.
    prior_strength
        Scale of the Dirichlet prior relative to the pooled counts.

    Returns
    -------
    DataFrame
        Columns ``group, rank, term, count`` (comments in the group with the term),
        ``share`` (of the group's comments), ``other_count``, ``log_odds``, ``z``;
        only terms over-represented in the group (``z > 0``), best first.

    Examples
    --------
    >>> themes = comment_themes(["slow delivery"] * 5 + ["great price"] * 5,
    ...                         ["detractor"] * 5 + ["promoter"] * 5, top_n=1)
    >>> themes[["group", "term"]].values.tolist()
    [['detractor', 'slow delivery'], ['promoter', 'great price']]
    """
    language = _check_language(language)
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ParamsError(f"top_n must be an integer >= 1, got {top_n!r}")
    if prior_strength <= 0:
        raise ParamsError(f"prior_strength must be > 0, got {prior_strength!r}")
    frame = _aligned(comments, groups)
    columns = ["group", "rank", "term", "count", "share", "other_count", "log_odds", "z"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    extracted = [_terms_and_pairs(c, language, bigrams) for c in frame["comment"]]
    terms = pd.Series([e[0] for e in extracted], index=frame.index)
    pairs: dict[str, tuple[str, str]] = {}
    for _, found in extracted:
        pairs.update(found)
    per_group: dict[object, Counter[str]] = {}
    n_comments: dict[object, int] = {}
    for group, sets in terms.groupby(frame["group"], sort=True, observed=True):
        counter: Counter[str] = Counter()
        for s in sets:
            counter.update(s)
        per_group[group] = counter
        n_comments[group] = len(sets)
    pooled: Counter[str] = Counter()
    for counter in per_group.values():
        pooled.update(counter)
    vocab = pd.Index(sorted(pooled))
    total = pd.Series(pooled).reindex(vocab).to_numpy(dtype=float)
    alpha_w = prior_strength * total
    alpha_0 = alpha_w.sum()
    n_total = total.sum()

    rows = []
    for group, counter in per_group.items():
        y_i = pd.Series(counter, dtype=float).reindex(vocab, fill_value=0.0).to_numpy()
        y_j = total - y_i
        n_i, n_j = y_i.sum(), n_total - y_i.sum()
        if len(per_group) > 1:
            delta = np.log((y_i + alpha_w) / (n_i + alpha_0 - y_i - alpha_w)) - np.log(
                (y_j + alpha_w) / (n_j + alpha_0 - y_j - alpha_w)
            )
            z = delta / np.sqrt(1.0 / (y_i + alpha_w) + 1.0 / (y_j + alpha_w))
        else:
            delta = z = np.full(len(vocab), np.nan)
        table = pd.DataFrame(
            {
                "term": vocab,
                "count": y_i.astype(int),
                "other_count": y_j.astype(int),
                "log_odds": delta,
                "z": z,
            }
        )
        table = table[table["count"] >= min_count]
        if len(per_group) > 1:
            table = table[table["z"] > 0].sort_values(
                ["z", "count", "term"], ascending=[False, False, True]
            )
        else:
            table = table.sort_values(["count", "term"], ascending=[False, True])
        table = (
            _drop_subsumed(table, pairs)
            .head(top_n)
            .assign(group=group, share=lambda d, size=n_comments[group]: d["count"] / size)
        )
        table["rank"] = np.arange(1, len(table) + 1)
        rows.append(table)
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)
    return out[columns].reset_index(drop=True)


def _drop_subsumed(
    table: pd.DataFrame, pairs: dict[str, tuple[str, str]], ratio: float = 0.8
) -> pd.DataFrame:
    """Drop a word shown by a listed bigram that holds most of its mentions
    (``太贵`` when ``价格太贵`` covers >= 80% of its comments), to avoid repeats."""
    counts = dict(zip(table["term"], table["count"], strict=True))
    covered: set[str] = set()
    for term, count in counts.items():
        for part in pairs.get(term, ()):
            if part in counts and count >= ratio * counts[part]:
                covered.add(part)
    return table[~table["term"].isin(covered)]


def example_comments(
    comments: pd.Series | Sequence[object],
    groups: pd.Series | Sequence[object] | None,
    *,
    n: int = 3,
    themes: pd.DataFrame | None = None,
    language: Literal["auto", "en", "zh"] = "auto",
    max_length: int = 240,
    min_length: int = 8,
    random_state: int = 0,
) -> pd.DataFrame:
    """A few masked example comments per group, to quote next to the themes.

    Comments mentioning more of the group's themes come first (when ``themes`` from
    :func:`comment_themes` is given), then comments of at least ``min_length``
    characters; ties are broken by a seeded shuffle, so the choice is reproducible.
    Long comments are cut at ``max_length`` characters with an ellipsis. Only the group
    and the masked text are returned (no ids). HTML escaping is the renderer's job.

    Parameters
    ----------
    comments, groups
        As in :func:`comment_themes`.
    n
        Comments per group.
    themes
        Output of :func:`comment_themes` for the same comments, or None.
    language
        Tokenizer used to match themes.
    max_length, min_length
        Length to cut at; preferred minimum length.
    random_state
        Seed of the tie-breaking shuffle.

    Returns
    -------
    DataFrame
        Columns ``group, comment``.
    """
    language = _check_language(language)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParamsError(f"n must be an integer >= 1, got {n!r}")
    frame = _aligned(comments, groups).reset_index(drop=True)
    if frame.empty:
        return pd.DataFrame(columns=["group", "comment"])
    rng = np.random.default_rng(random_state)
    frame["_order"] = rng.permutation(len(frame))
    frame["_short"] = frame["comment"].str.len() < min_length
    frame["_hits"] = 0
    if themes is not None and not themes.empty:
        wanted = themes.groupby("group", observed=True)["term"].apply(set).to_dict()
        frame["_hits"] = [
            len(comment_terms(c, language=language) & wanted.get(g, set()))
            for c, g in zip(frame["comment"], frame["group"], strict=True)
        ]
    frame = frame.drop_duplicates(["group", "comment"])
    frame = frame.sort_values(
        ["group", "_hits", "_short", "_order"], ascending=[True, False, True, True]
    )
    picked = frame.groupby("group", sort=True, observed=True).head(n)

    def cut(text: str) -> str:
        text = " ".join(text.split())
        return text if len(text) <= max_length else text[: max_length - 1].rstrip() + "…"

    return pd.DataFrame(
        {"group": picked["group"].to_numpy(), "comment": picked["comment"].map(cut).to_numpy()}
    )

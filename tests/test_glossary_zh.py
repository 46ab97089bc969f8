"""The Chinese glossary: one concept, one term; one term, one concept (issue #17)."""

from __future__ import annotations

import re

import pytest

from analysis.i18n import catalog, glossary, glossary_problems


@pytest.fixture(scope="module")
def zh() -> dict[str, str]:
    return dict(catalog("zh"))


@pytest.fixture(scope="module")
def terms() -> dict[str, dict[str, object]]:
    return glossary("zh")


def test_the_shipped_catalogue_keeps_the_glossary(zh, terms):
    assert glossary_problems(zh, terms) == []


def test_each_term_names_one_concept_and_each_concept_has_one_term(zh, terms):
    by_term: dict[str, list[str]] = {}
    for concept, entry in terms.items():
        by_term.setdefault(entry["term"], []).append(concept)
    assert {t: c for t, c in by_term.items() if len(c) > 1} == {}
    # the concept -> term map, built from the catalogue through the key names
    built: dict[str, set[str]] = {}
    problems = glossary_problems(zh, terms)
    for concept, entry in terms.items():
        keys = set(entry.get("keys") or [])
        if entry.get("match"):
            keys |= {k for k in zh if re.search(entry["match"], k)}
        built[concept] = {zh[k] for k in keys}
        assert built[concept] <= {entry["term"]}, (concept, built[concept])
    assert not problems


def test_the_issue_conventions(terms):
    term = {concept: entry["term"] for concept, entry in terms.items()}
    assert term["figure.new_customers"] == "新客户"
    assert term["figure.active_customers"].startswith("活跃")
    assert term["figure.reactivated_customers"].startswith("回流")
    assert term["figure.churned_customers"] == "本期流失"
    assert "流失预警" in term["churn.warning_list"] and "流失预警" in term["churn.risk_model"]
    assert term["stage.lapsed"].startswith("沉睡")
    assert [term[f"abc.{c}"] for c in "ABC"] == ["关键客户", "主要客户", "普通客户"]
    assert [term[f"nps.{g}"] for g in ("promoter", "passive", "detractor")] == [
        "推荐者",
        "被动者",
        "贬损者",
    ]
    # 流失 is churn's word: no lifecycle stage or RFM segment uses it
    for concept, text in term.items():
        if concept.startswith(("stage.", "rfm10.", "rfm8.", "trait.")):
            assert "流失" not in text, (concept, text)


def test_the_glossary_is_not_a_message_file(zh, terms):
    assert terms and not any(key in zh for key in terms)
    assert "figure.new_customers" not in zh


# --------------------------------------------------------------------------- conflicts


def test_fails_when_one_term_names_two_concepts(zh, terms):
    # the catalogue before issue #17: NPS passives and the CSAT middle box were both 中立者
    broken = {**zh, "satisfaction.nps_category.passive": "中立者"}
    problems = glossary_problems(broken, terms)
    assert any(
        "nps.passive has two terms" in p and "'中立者' (satisfaction.nps_category.passive)" in p
        for p in problems
    ), problems
    # a label outside every concept that reuses a concept's term
    reused = {**zh, "report_value.kpi.lost": "本期流失"}
    problems = glossary_problems(reused, terms)
    assert problems == [
        "term '本期流失' of figure.churned_customers also labels 'report_value.kpi.lost': a "
        "term names one concept (list the key under the concept, or give it its own term)"
    ]


def test_fails_when_the_glossary_gives_one_term_to_two_concepts(zh, terms):
    doubled = {**terms, "stage.lapsed": {**terms["stage.lapsed"], "term": "本期流失"}}
    problems = glossary_problems({**zh, "value.stage.lapsed": "本期流失"}, doubled)
    assert any(
        "term '本期流失' names two concepts: figure.churned_customers and stage.lapsed" in p
        for p in problems
    ), problems


def test_fails_when_one_concept_has_two_terms():
    messages = {
        "figures.new_customers.label": "新客户",
        "overview.kpi.new": "新顾客",
        "segmentation.migration.new": "新激活客户",
    }
    fixture = {
        "figure.new_customers": {
            "term": "新客户",
            "keys": ["figures.new_customers.label", "overview.kpi.new"],
        },
        "migration.newly_active": {"term": "新激活客户", "match": r"\.migration\.new$"},
        "stage.none": {"term": "无此阶段", "match": r"^value\.stage\.none$"},
        "figure.gone": {"term": "已删除", "keys": ["figures.gone.label"]},
    }
    assert glossary_problems(messages, fixture) == [
        "concept figure.new_customers has two terms: '新客户' (glossary) and '新顾客' "
        "(overview.kpi.new)",
        "stage.none: no message key matches '^value\\\\.stage\\\\.none$'",
        "figure.gone: key 'figures.gone.label' is not in the catalogue",
    ]

"""Tests for analysis.playbook: the shipped playbook, validation errors naming what is wrong,
and look-ups in both languages."""

from __future__ import annotations

import copy
import itertools

import pandas as pd
import pytest
import yaml

from analysis import segment_report as sr
from analysis.errors import ParamsError
from analysis.i18n import LANGUAGES, catalog
from analysis.lifecycle import STAGES
from analysis.playbook import (
    CLUSTERING_RULES,
    DEFAULT_REQUIRED,
    FIELDS,
    PRIORITIES,
    SUBSCRIPTION_ENTRIES,
    SUBSCRIPTION_SECTION,
    VOCABULARIES,
    action_for,
    data_available,
    load_playbook,
    playbook_frame,
    validate_playbook,
)
from analysis.value import DEFAULT_SEGMENT_MAP, VALUE_TIERS


@pytest.fixture(scope="module")
def shipped() -> dict:
    return load_playbook()


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_shipped_playbook_covers_every_vocabulary(shipped):
    validate_playbook(shipped)  # DEFAULT_REQUIRED
    assert set(shipped["rfm_segment"]) == set(DEFAULT_SEGMENT_MAP)
    assert set(shipped["lifecycle_stage"]) == set(STAGES)
    assert set(shipped["value_tier"]) == set(VALUE_TIERS)
    assert {"government", "institution"} <= set(shipped["customer_type"])
    assert set(DEFAULT_REQUIRED["rfm_segment"]) == set(DEFAULT_SEGMENT_MAP)
    assert DEFAULT_REQUIRED["clustering_segment"] == tuple(CLUSTERING_RULES)
    assert set(CLUSTERING_RULES) <= set(shipped["clustering_segment"])


def test_every_clustering_segment_the_rules_produce_has_an_entry(shipped):
    # drive segment_rules over every profile a segment can have (each trait well below,
    # at or well above average) rather than trusting the CLUSTERING_RULES table alone
    traits = ["log_recency", "log_frequency", "log_monetary", "tenure_days", "complaints"]
    grid = pd.DataFrame(list(itertools.product([-1.0, 0.0, 1.0], repeat=5)), columns=traits)
    produced = set(sr.segment_rules(grid)["rule"])
    assert produced == set(CLUSTERING_RULES)
    assert len(produced) == 10
    for rule in produced:
        for language in LANGUAGES:
            entry = action_for(shipped, "clustering_segment", rule, language)
            assert entry.vocabulary == "clustering_segment" and entry.key == rule


def _all_entries(playbook):
    for vocabulary, entries in playbook.items():
        if vocabulary == SUBSCRIPTION_SECTION:
            for inner, variants in entries.items():
                for key in variants:
                    yield inner, key, "subscription"
        else:
            for key in entries:
                yield vocabulary, key, "transactional"


def test_both_languages_present_and_really_translated(shipped):
    for vocabulary, key, scheme in _all_entries(shipped):
        en = action_for(shipped, vocabulary, key, "en", scheme=scheme)
        zh = action_for(shipped, vocabulary, key, "zh", scheme=scheme)
        assert en.priority == zh.priority in PRIORITIES
        assert len(en.actions) == len(zh.actions) >= 1, (vocabulary, key)
        for text in (en.objective, en.channel, en.offer, *en.actions):
            assert text and not _has_han(text), (vocabulary, key, text)
        for text in (zh.objective, zh.channel, zh.offer, *zh.actions):
            assert _has_han(text), (vocabulary, key, text)


def test_defaults_follow_the_seed_strategies(shipped):
    def text(vocabulary, key):
        a = action_for(shipped, vocabulary, key, "en")
        return f"{a.objective} {a.action_text()} {a.offer}".lower()

    assert "dedicated account service" in text("value_tier", "high")
    assert "exclusive" in text("value_tier", "high")
    assert "nurture" in text("value_tier", "medium") and "upsell" in text("value_tier", "medium")
    assert "low-cost digital" in text("value_tier", "low")
    assert "onboarding" in text("rfm_segment", "new") and "first-repeat" in text(
        "rfm_segment", "new"
    )
    for key in ("at_risk", "cant_lose_them"):
        assert "proactive outreach" in text("rfm_segment", key)
    assert "win-back" in text("rfm_segment", "hibernating")
    assert "win-back" in text("lifecycle_stage", "lapsed")
    for key in ("loyal", "champions"):
        assert "loyalty points" in text("rfm_segment", key) or "points" in text("rfm_segment", key)
        assert "referral" in text("rfm_segment", key)
    for key in ("government", "institution"):
        assert "compliance-aware account management" in text("customer_type", key)
    assert action_for(shipped, "rfm_segment", "at_risk", "en").priority == "high"


def test_clustering_defaults_follow_the_seed_strategies(shipped):
    def text(key):
        a = action_for(shipped, "clustering_segment", key, "en")
        return f"{a.objective} {a.action_text()} {a.offer}".lower()

    def priority(key):
        return action_for(shipped, "clustering_segment", key, "en").priority

    for key in ("high_value", "champions"):
        assert "dedicated account service" in text(key) and "exclusive" in text(key)
    assert "nurture" in text("medium") and "upsell" in text("medium")
    assert "low-cost digital" in text("low")
    assert "onboarding" in text("new") and "first-repeat" in text("new")
    for key in ("at_risk", "cant_lose"):
        assert "proactive outreach" in text(key) and priority(key) == "high"
    assert "win-back" in text("lapsed")
    for key in ("loyal", "champions"):
        assert "loyalty" in text(key) and "points" in text(key) and "referral" in text(key)
    assert "service recovery" in text("complaints") and priority("complaints") == "high"
    discount = text("discount_driven")
    assert "margin" in discount and "bundles" in discount and "member prices" in discount
    assert "instead of blanket discounts" in discount
    assert priority("low") == "low"


def test_missing_entry_is_named(shipped):
    broken = copy.deepcopy(shipped)
    del broken["rfm_segment"]["cant_lose_them"]
    with pytest.raises(ParamsError, match=r"no entry for rfm_segment 'cant_lose_them'"):
        validate_playbook(broken)
    # a custom segment map brings its own required keys
    with pytest.raises(ParamsError, match=r"rfm_segment 'vip_buyers'"):
        validate_playbook(shipped, required={"rfm_segment": ["champions", "vip_buyers"]})
    # structure-only validation accepts the gap
    validate_playbook(broken, required={})


@pytest.mark.parametrize("rule", list(CLUSTERING_RULES))
def test_missing_clustering_segment_is_named(shipped, rule):
    broken = copy.deepcopy(shipped)
    del broken["clustering_segment"][rule]
    message = rf"no entry for clustering_segment '{rule}'.*under 'clustering_segment:'"
    with pytest.raises(ParamsError, match=message):
        validate_playbook(broken)
    with pytest.raises(ParamsError, match=message):
        validate_playbook(broken, required={"clustering_segment": CLUSTERING_RULES})
    validate_playbook(broken, required={"rfm_segment": DEFAULT_SEGMENT_MAP})


def test_unknown_vocabulary_is_rejected(shipped):
    typo = {**shipped, "rfm_segments": shipped["rfm_segment"]}
    with pytest.raises(ParamsError, match=r"unknown vocabulary 'rfm_segments'.*known: "):
        validate_playbook(typo)
    with pytest.raises(ParamsError, match=r"unknown vocabulary 'clusters'"):
        validate_playbook(shipped, required={"clusters": ["a"]})
    with pytest.raises(ParamsError, match=r"unknown playbook vocabulary 'segment'"):
        action_for(shipped, "segment", "champions", "en")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e["objective"].pop("zh"), r"rfm_segment\.loyal\.objective has no zh text"),
        (lambda e: e["offer"].update(en=" "), r"rfm_segment\.loyal\.offer has no en text"),
        (lambda e: e["actions"].update(zh=[]), r"rfm_segment\.loyal\.actions has no zh text"),
        (lambda e: e["channel"].update(fr="e-mail"), r"unknown language 'fr'"),
        (lambda e: e.update(channel="e-mail"), r"loyal\.channel must give the text in every"),
        (lambda e: e.pop("priority"), r"rfm_segment\.loyal has no 'priority'"),
        (lambda e: e.update(priority="urgent"), r"priority must be one of high, medium, low"),
        (lambda e: e.update(action=e["actions"]), r"unknown field 'action'"),
    ],
)
def test_malformed_entries_are_named(shipped, change, message):
    broken = copy.deepcopy(shipped)
    change(broken["rfm_segment"]["loyal"])
    with pytest.raises(ParamsError, match=message):
        validate_playbook(broken)


def test_load_checks_structure_and_reads_custom_files(tmp_path, shipped):
    custom = {"value_tier": copy.deepcopy(shipped["value_tier"])}
    custom["value_tier"]["high"]["actions"] = {"en": "Call them", "zh": "给他们打电话"}
    path = tmp_path / "playbook.yaml"
    path.write_text(yaml.safe_dump(custom, allow_unicode=True), encoding="utf-8")
    loaded = load_playbook(path)
    assert action_for(loaded, "value_tier", "high", "zh").actions == ("给他们打电话",)
    with pytest.raises(ParamsError, match=r"no entry for rfm_segment 'champions'"):
        validate_playbook(loaded)
    custom["value_tier"]["low"]["priority"] = "none"
    path.write_text(yaml.safe_dump(custom, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ParamsError, match=r"value_tier\.low\.priority"):
        load_playbook(path)
    with pytest.raises(ParamsError, match="does not exist"):
        load_playbook(tmp_path / "missing.yaml")


def test_lookup_errors_and_table(shipped):
    with pytest.raises(ParamsError, match=r"no entry for lifecycle_stage 'dormant'"):
        action_for(shipped, "lifecycle_stage", "dormant", "en")
    with pytest.raises(ParamsError, match="language"):
        action_for(shipped, "lifecycle_stage", "new", "fr")
    frame = playbook_frame(
        shipped, "value_tier", "zh", keys=["low", "high", "nope"], separator="；"
    )
    assert frame.index.tolist() == ["low", "high"]
    assert frame.columns.tolist() == ["objective", "actions", "channel", "offer", "priority"]
    assert "；" in frame.loc["high", "actions"]


def test_labels_in_the_catalogs():
    for language in LANGUAGES:
        names = catalog(language)
        for key in (
            *(f"playbook.field.{f}" for f in FIELDS),
            *(f"playbook.priority.{p}" for p in PRIORITIES),
        ):
            assert key in names
        for vocabulary in VOCABULARIES:
            assert f"playbook.vocabulary.{vocabulary}" in names


def test_imports_go_one_way_segment_rules_use_the_playbook():
    """The playbook owns its vocabularies (the clustering rules included): it imports no
    analysis module, and the segment rules take their names from it."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    import analysis.playbook as playbook_module

    tree = ast.parse(Path(playbook_module.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not imported & {"segment_report", "segmentation", "valuation", "lifecycle", "value"}
    code = "import sys, analysis.playbook; print('analysis.segment_report' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert sr.CLUSTERING_RULES is CLUSTERING_RULES
    assert tuple(sr.segment_rules(pd.DataFrame({"log_recency": [1.0]}))["rule"]) == ("at_risk",)
    # the defaults are read-only: extending them needs a copy
    with pytest.raises(TypeError):
        DEFAULT_REQUIRED["clustering_segment"] = ()  # type: ignore[index]


def test_actions_that_need_missing_data_are_left_out(shipped):
    """'Resolve open complaints' is advice only where complaints are logged."""
    full = action_for(shipped, "lifecycle_stage", "at_risk", "en")
    assert any("complaint" in a.lower() for a in full.actions)
    without = action_for(shipped, "lifecycle_stage", "at_risk", "en", available=())
    assert not any("complaint" in a.lower() for a in without.actions)
    assert len(without.actions) == len(full.actions) - 1
    kept = action_for(shipped, "lifecycle_stage", "at_risk", "zh", available=("complaints",))
    assert len(kept.actions) == len(full.actions)
    bad = copy.deepcopy(shipped)
    bad["lifecycle_stage"]["at_risk"]["needs"] = {"complaints": [9]}
    with pytest.raises(
        ParamsError,
        match=r"lifecycle_stage.at_risk.needs.complaints must list action numbers from 1 to 3, got \[9\]",
    ):
        validate_playbook(bad, required={})
    bad["lifecycle_stage"]["at_risk"]["needs"] = {"weather": [1]}
    with pytest.raises(ParamsError, match="names unknown data 'weather'"):
        validate_playbook(bad, required={})


def test_data_available_reads_the_data():
    orders = pd.DataFrame({"customer_id": ["a", "b"], "amount": [5.0, -2.0],
                           "channel": ["web", "store"], "discount": [0.0, 0.0]})  # fmt: skip
    interactions = pd.DataFrame({"type": ["inquiry", "complaint"]})
    assert data_available(orders, interactions) == ("complaints", "channels", "returns")
    assert data_available(orders[["customer_id", "amount"]].iloc[:1]) == ()


def test_subscription_variants_replace_purchase_wording(shipped):
    for key in ("new",):
        shop = action_for(shipped, "rfm_segment", key, "en")
        sub = action_for(shipped, "rfm_segment", key, "en", scheme="subscription")
        assert "second purchase" in shop.objective.lower()
        assert "renewal" in sub.objective.lower() and "purchase" not in sub.action_text().lower()
    for key in SUBSCRIPTION_ENTRIES:
        assert action_for(shipped, "subscription", key, "zh").actions
    # a key without a variant keeps its general entry
    tier = action_for(shipped, "value_tier", "high", "en", scheme="subscription")
    assert tier == action_for(shipped, "value_tier", "high", "en")


def test_every_need_type_has_an_entry_in_both_languages(shipped):
    from analysis.needs import NEEDS

    assert DEFAULT_REQUIRED["need_type"] == NEEDS
    assert set(shipped["need_type"]) == set(NEEDS)
    for need in NEEDS:
        en = action_for(shipped, "need_type", need, "en")
        zh = action_for(shipped, "need_type", need, "zh")
        assert len(en.actions) == len(zh.actions) == 3, need
        assert _has_han(zh.objective) and not _has_han(en.objective)
    # the service approach answers complaints only where the unit has them
    service = action_for(shipped, "need_type", "service", "en", available=())
    assert not any("complaint" in a.lower() for a in service.actions)
    assert any(
        "complaint" in a.lower() for a in action_for(shipped, "need_type", "service").actions
    )
    for lang in LANGUAGES:
        assert catalog(lang)["playbook.vocabulary.need_type"]


def test_missing_need_type_entry_is_named(shipped):
    broken = copy.deepcopy(shipped)
    del broken["need_type"]["convenience"]
    with pytest.raises(ParamsError, match="need_type 'convenience'"):
        validate_playbook(broken)

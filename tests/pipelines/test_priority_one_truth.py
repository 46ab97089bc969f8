"""A segment has one priority in every report: the value report's table, rfm.csv, the
segmentation report and the summary all follow its value at stake
(:func:`analysis.strategy.value_priority`), so only a few segments are "high"."""

import pandas as pd
import pytest
from conftest import report_context

from analysis import strategy, valuation
from analysis.config import load_params
from analysis.data.load import load_dataset
from analysis.data.sample import write_sample
from analysis.pipelines import segmentation, summary
from analysis.pipelines import value as value_pipeline


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder, n_customers=1500, seed=3)
    params = load_params(overrides={"data_dir": str(folder), "quality": {"today": "2026-06-30"}})
    return load_dataset(params)


def test_segment_priority_is_the_value_at_stake_rule():
    table = pd.DataFrame(
        {
            "rfm_segment": ["a", "a", "b", "c", "d", None],
            "monetary": [30.0, 20.0, 30.0, 15.0, 5.0, 999.0],  # the unscored row is left out
        }
    )
    got = valuation.segment_priority(table)
    assert got.to_dict() == {"a": "high", "b": "medium", "c": "low", "d": "low"}
    assert got.equals(
        strategy.value_priority(pd.Series({"a": 50.0, "b": 30.0, "c": 15.0, "d": 5.0}))
    )


@pytest.mark.parametrize("unit", ["retail", "all"])
def test_every_report_gives_a_segment_the_same_priority(tmp_path, sample, unit):
    data = sample if unit == "all" else sample.for_unit(unit)
    ctx = report_context(tmp_path, data, unit=unit)
    value = value_pipeline.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    seg = segmentation.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)
    summ = summary.build(ctx.data, ctx.period, ctx.params, shared=ctx.shared)

    # RFM segments: the value report's playbook table, rfm.csv's rows and the summary
    table = value.playbook_tables.segments
    has_customers = table["customers"] > 0
    shown = table.loc[has_customers, "priority"]
    assert shown.to_dict() == summ.rfm_priority.reindex(shown.index).to_dict()
    revenue = value.current.table.groupby(value.current.table["rfm_segment"].astype("object"))[
        "monetary"
    ].sum()
    assert shown.to_dict() == strategy.value_priority(revenue).reindex(shown.index).to_dict()
    assert (shown == "high").sum() <= strategy.MAX_HIGH
    per_customer = value.actions.loc[value.actions["action_source"].str.startswith("rfm_segment:")]
    for source, level in per_customer.groupby("action_source")["priority"].first().items():
        assert level == shown[source.split(":", 1)[1]]
    groups = value.export_groups.loc[value.export_groups["vocabulary"] == "rfm_segment"]
    for _, row in groups.iterrows():
        assert row["priority"] == shown[row["key"]]

    # clustering segments: the segmentation report (and segments.csv) and the summary
    if seg.strategy is not None:
        own = {str(s): p for s, p in seg.strategy["priority"].items()}
        assert own == summ.cluster_priority.to_dict()
        assert sum(p == "high" for p in own.values()) <= strategy.MAX_HIGH
        assert set(own.values()) <= {"high", "medium", "low"}

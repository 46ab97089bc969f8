"""Real surveys: declared scales, fractional composite answers, small units, surveys without
csat and survey-only data.

The composite key-driver test checks :func:`analysis.satisfaction.key_drivers` against an
independent computation of Johnson's (2000) relative weights written here from the paper:
the eigen decomposition of the predictor correlation matrix gives the orthogonal
counterparts Z of the standardized drivers, the outcome is regressed on Z by least squares
on the data themselves, and the weights are ``sum_k Lambda_jk^2 beta_k^2``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_tables, write_tables

from analysis import satisfaction as sat
from analysis.config import load_params
from analysis.data.load import Dataset, load_dataset
from analysis.errors import DataError, ParamsError
from analysis.period import Period
from analysis.pipelines import satisfaction as pipeline

ITEMS = [f"rating_item{j}" for j in range(1, 8)]


def _composite_survey(rng: np.random.Generator, n: int = 250) -> pd.DataFrame:
    """An ECSI-like survey: seven 1-10 items and an outcome that is the mean of three 1-10
    items (fractional in about two rows of three)."""
    latent = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            item: np.clip(np.round(5.5 + (0.4 + 0.2 * j) * latent + rng.normal(0, 1.5, n)), 1, 10)
            for j, item in enumerate(ITEMS)
        }
    )
    three = np.clip(np.round(6 + 1.6 * latent[:, None] + rng.normal(0, 1.2, (n, 3))), 1, 10)
    frame["csat"] = three.mean(axis=1)
    return frame


def johnson_relative_weights(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Johnson (2000), from the paper: Z = X_s V diag(1/sqrt(l)) V', y on Z by least
    squares, Lambda = V diag(sqrt(l)) V', eps_j = sum_k Lambda_jk^2 beta_k^2."""
    xs = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    ys = (y - y.mean()) / y.std(ddof=1)
    corr = xs.T @ xs / (len(xs) - 1)
    values, vectors = np.linalg.eigh(corr)
    z = xs @ vectors @ np.diag(values**-0.5) @ vectors.T
    beta = np.linalg.lstsq(z, ys, rcond=None)[0]
    lam = vectors @ np.diag(values**0.5) @ vectors.T
    return (lam**2) @ (beta**2)


def test_composite_outcome_uses_every_row_and_matches_independent_relative_weights(rng):
    frame = _composite_survey(rng)
    fractional = int((frame["csat"] % 1 != 0).sum())
    assert fractional > 100  # the case of the issue: most rows are not whole numbers
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is left out, so nothing to warn about
        out = sat.key_drivers(frame, "csat", ITEMS, n_boot=0, scale=(1, 10))
    # an outcome named csat takes the declared 1-10 scale, not the contract's 1-5
    assert out.attrs["scales"]["csat"] == (1, 10)
    assert out.attrs["n"] == 250 and out.attrs["n_dropped"] == 0
    assert out.attrs["dropped"] == {"out_of_scale": 0, "missing": 0}
    expected = pd.Series(
        johnson_relative_weights(frame[ITEMS].to_numpy(float), frame["csat"].to_numpy(float)),
        index=ITEMS,
    )
    assert out["raw_weight"].to_numpy() == pytest.approx(
        expected.reindex(out.index).to_numpy(), abs=1e-10
    )
    # the raw weights sum to the R^2 of the ordinary regression on every row
    design = np.column_stack([np.ones(250), frame[ITEMS].to_numpy(float)])
    fitted = design @ np.linalg.lstsq(design, frame["csat"].to_numpy(float), rcond=None)[0]
    r2 = (
        1
        - ((frame["csat"] - fitted) ** 2).sum()
        / ((frame["csat"] - frame["csat"].mean()) ** 2).sum()
    )
    assert out.attrs["r2"] == pytest.approx(r2, abs=1e-10)
    assert out["raw_weight"].sum() == pytest.approx(r2, abs=1e-10)


def test_a_mapping_scale_works_as_the_pair_and_an_undeclared_scale_is_never_silent(rng):
    frame = _composite_survey(rng)
    pair = sat.key_drivers(frame, "csat", ITEMS, n_boot=0, scale=(1, 10))
    mapping = sat.key_drivers(
        frame, "csat", ITEMS, n_boot=0, scale={c: (1, 10) for c in ["csat", *ITEMS]}
    )
    pd.testing.assert_frame_equal(pair.drop(columns=[]), mapping)
    # without the declared scale (contract default 1-5) the rows above 5 are left out,
    # with a warning and the count per reason: never silently
    with pytest.warns(UserWarning, match=r"rows with an answer outside its declared scale"):
        default = sat.key_drivers(frame, "csat", ITEMS[:2], n_boot=0)
    dropped = default.attrs["dropped"]["out_of_scale"]
    assert dropped > 0 and default.attrs["n"] + dropped == 250


def test_fractional_answers_inside_the_scale_are_valid_outside_are_not():
    valid, invalid = sat.out_of_scale(
        pd.Series([8.67, 10.0, 10.5, 0.5, "x", None]), "csat", (1, 10)
    )
    assert valid.tolist()[:2] == [8.67, 10.0]
    assert invalid.tolist() == [False, False, True, True, True, False]
    # the NPS question keeps whole answers 0-10
    _, bad = sat.out_of_scale(pd.Series([8.5, 9.0]), "nps", (0, 10))
    assert bad.tolist() == [True, False]
    # CSAT top-2 box of a 1-10 composite: 9 or more
    result = sat.csat([8.67, 9.0, 9.33, 10.0, 4.5], scale=(1, 10))
    assert result.n == 5 and result.top_box == pytest.approx(0.6)


def test_declared_scales_from_params():
    params = {
        "quality": {"rating_scale": [1, 5]},
        "survey": {"scales": {"csat": [1, 10], "rating_*": [1, 7], "rating_value": [0, 10]}},
    }
    scales = sat.declared_scales(params, ["nps", "csat", "rating_a", "rating_value", "comment"])
    assert scales == {"nps": (0, 10), "csat": (1, 10), "rating_a": (1, 7), "rating_value": (0, 10)}
    # the older quality.rating_scale still sets the ratings' default
    assert sat.declared_scale({"quality": {"rating_scale": [1, 10]}}, "rating_a") == (1, 10)
    assert sat.declared_scale({}, "csat") == (1, 5)
    with pytest.raises(ParamsError, match=r"survey.scales.nps is \[1, 5\].*always 0-10"):
        sat.declared_scales({"survey": {"scales": {"nps": [1, 5]}}}, ["nps"])
    with pytest.raises(ParamsError, match=r"scale\[|survey.scales.csat must be two integers"):
        sat.declared_scales({"survey": {"scales": {"csat": [5, 1]}}}, [])  # checked anyway
    with pytest.raises(ParamsError, match="survey.outcome"):
        sat.survey_outcome({"survey": {"outcome": ""}})


def _survey_file(tmp_path, frame: pd.DataFrame, **params):
    tables = {**tiny_tables(), "survey_responses": frame}
    folder = write_tables(tmp_path / "data", tables)
    return load_params(
        overrides={"data_dir": str(folder), "quality": {"today": "2026-06-30"}, **params}
    )


def _dated(frame: pd.DataFrame, unit: str = "north") -> pd.DataFrame:
    n = len(frame)
    return frame.assign(
        response_id=[f"R{i}" for i in range(n)],
        response_date=pd.date_range("2025-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        business_unit=unit,
    )


def test_loading_keeps_fractional_answers_and_counts_only_values_outside_the_scale(rng, tmp_path):
    frame = _dated(_composite_survey(rng, n=120))
    frame.loc[0, "csat"] = 11.0  # outside 1-10: the one real repair
    frame["rating_item1"] = frame["rating_item1"].astype(object)
    frame.loc[1, "rating_item1"] = "lots"  # no number ("n/a" is a null token: missing)
    params = _survey_file(
        tmp_path, frame, survey={"scales": {"csat": [1, 10], "rating_*": [1, 10]}}
    )
    data = load_dataset(params)
    clean = data.survey_responses
    assert clean["csat"].notna().sum() == 119  # every fractional answer kept
    assert (clean["csat"] % 1 != 0).sum() > 50
    repairs = {
        (r.column, r.rule): r.rows for r in data.quality.repairs if r.table == "survey_responses"
    }
    assert repairs == {("csat", "out_of_range"): 1, ("rating_item1", "out_of_range"): 1}
    # the same file with the contract's 1-5 csat: every answer above 5 is out of range,
    # and counted as such
    default = load_dataset(_survey_file(tmp_path, frame, quality={"rating_scale": [1, 10]}))
    rows = {r.column: r.rows for r in default.quality.repairs if r.rule == "out_of_range"}
    assert rows["csat"] == int((pd.to_numeric(frame["csat"]) > 5).sum())


def test_an_outcome_the_survey_lacks_is_a_clear_error(rng, tmp_path):
    frame = _dated(_composite_survey(rng, n=20))
    params = _survey_file(tmp_path, frame, survey={"outcome": "satisfaction_index"})
    with pytest.raises(
        DataError, match=r"survey.outcome names the column 'satisfaction_index'"
    ) as err:
        load_dataset(params)
    assert err.value.column == "satisfaction_index" and "survey_responses" in str(err.value.file)


# --------------------------------------------------------------------------- the pipeline


PERIOD = Period.parse("2025-Q2")


def _dataset(surveys: pd.DataFrame, *, orders: bool = True) -> Dataset:
    tables = tiny_tables()
    order_table = tables["orders"].assign(order_date=lambda d: pd.to_datetime(d["order_date"]))
    if not orders:
        order_table = order_table.iloc[0:0]
    return Dataset(
        customers=tables["customers"].astype({"customer_id": "string"}).iloc[0 if orders else 0 :],
        orders=order_table.astype({"customer_id": "string"}),
        survey_responses=surveys.assign(
            response_date=lambda d: pd.to_datetime(d["response_date"]),
            customer_id=pd.array([pd.NA] * len(surveys), dtype="string"),
        ),
    ).for_unit("north")


def _params(**survey) -> dict:
    params = load_params(
        overrides={"unit": "north", "quality": {"today": "2026-06-30"}, "survey": survey}
    )
    return {**params, "satisfaction": {"driver_bootstrap": 40}}


def test_survey_only_composite_outcome_without_csat(rng):
    """No orders, no csat: the composite index is the outcome, on its declared scale."""
    surveys = _dated(_composite_survey(rng).rename(columns={"csat": "satisfaction_index"}))
    surveys["response_date"] = pd.date_range("2025-04-01", periods=len(surveys), freq="8h")
    params = _params(
        scales={"rating_*": [1, 10], "satisfaction_index": [1, 10]}, outcome="satisfaction_index"
    )
    result = pipeline.build(_dataset(surveys, orders=False), PERIOD, params)
    survey = result.survey
    assert result.status == "ok" and survey.overall == "satisfaction_index"
    assert survey.outcome == "satisfaction_index" and survey.overall_scale == (1, 10)
    assert "satisfaction_index" not in survey.ratings and len(survey.ratings) == 7
    # every one of the 250 answers is used: fractional values are valid
    assert result.kpis.loc["csat", "n"] == 250
    drivers = result.drivers
    assert drivers.status == "ok" and drivers.drivers.attrs["n"] == 250 and drivers.scale == (1, 10)
    expected = johnson_relative_weights(
        surveys[ITEMS].to_numpy(float), surveys["satisfaction_index"].to_numpy(float)
    )
    assert drivers.drivers["raw_weight"].reindex(ITEMS).to_numpy() == pytest.approx(
        expected, abs=1e-10
    )
    # top-2 box of 1-10: answers of 9 or more, over all 250 answers
    top = float((surveys["satisfaction_index"] >= 9).mean())
    assert result.kpis.loc["csat", "value"] == pytest.approx(top)
    # segments and churn after a response do not apply without purchases
    assert result.links.has_orders is False
    assert result.links.churn is None and result.links.segments is None
    assert "churn" not in result.charts


def test_small_unit_of_44_respondents_and_21_drivers_degrades_gracefully(rng):
    n, p = 44, 21
    latent = rng.normal(size=n)
    surveys = pd.DataFrame(
        {
            f"rating_a{j:02d}": np.clip(np.round(6 + latent + rng.normal(0, 2, n)), 1, 10)
            for j in range(p)
        }
    )
    surveys["csat"] = np.clip(np.round(6 + 1.5 * latent + rng.normal(0, 1, n)), 1, 10)
    surveys = _dated(surveys)
    surveys["response_date"] = pd.date_range("2025-04-01", periods=n, freq="D")
    params = _params(scales={"rating_*": [1, 10], "csat": [1, 10]})
    result = pipeline.build(_dataset(surveys), PERIOD, params)
    part = result.drivers
    assert part.status == "ok", part.reason
    attrs = part.drivers.attrs
    assert attrs["n"] == 44 and attrs["rough"] and attrs["answers_per_driver"] < 10
    table = part.drivers
    # each interval is either estimated (finite, ordered) or missing with a stated reason
    known = table["ci_low"].notna() & table["ci_high"].notna()
    assert (table.loc[known, "ci_low"] <= table.loc[known, "ci_high"]).all()
    assert known.all() or attrs["interval_note"] == "too_few_resamples"
    assert table["share"].sum() == pytest.approx(100.0)

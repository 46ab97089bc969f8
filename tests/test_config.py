import pytest

from analysis import config
from analysis.errors import ParamsError


def test_defaults_load_and_validate():
    params = config.load_params()
    assert params["unit"] == "all" and params["language"] == "en"
    config.validate(params, config.load_defaults())


def test_unit_file_is_layered(tmp_path):
    params = config.load_params(unit="retail")
    assert params["unit"] == "retail"


def test_set_overrides_are_typed_and_nested():
    overrides = config.parse_set(
        ["language=zh", "trend_periods=4", "quality.rating_scale=[1, 7]", "currency=€"]
    )
    assert overrides == {
        "language": "zh",
        "trend_periods": 4,
        "currency": "€",
        "quality": {"rating_scale": [1, 7]},
    }
    params = config.load_params(overrides=overrides)
    assert params["quality"]["rating_scale"] == [1, 7]
    assert params["quality"]["today"] is None  # sibling keys survive the merge


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("colour=blue", "unknown parameter 'colour'"),
        ("quality.bogus=1", "unknown parameter 'quality.bogus'"),
        ("trend_periods=many", "parameter 'trend_periods' must be a whole number"),
        ("dayfirst=3", "parameter 'dayfirst' must be true/false"),
        ("formats=html", "parameter 'formats' must be a list"),
        ("language=fr", "language"),
        ("unit=../etc", "not allowed"),
        ("unit=a/b", "not allowed"),
        ("unit=.ssh", "not allowed"),
        ("period=2025-Q9", "cannot read period"),
    ],
)
def test_bad_values_name_the_key(assignment, message):
    with pytest.raises(ParamsError, match=message):
        config.load_params(overrides=config.parse_set([assignment]))


def test_params_are_data_not_code():
    evil = "__import__('os').system('echo pwned')"
    params = config.load_params(overrides=config.parse_set([f"currency={evil}"]))
    assert params["currency"] == evil
    quoted = config.parse_set(['currency="a\\nb\'c"'])
    assert config.load_params(overrides=quoted)["currency"] == "a\nb'c"


def test_params_file_layer(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("language: zh\nquality: {today: '2026-01-01'}\n")
    params = config.load_params(params_file=f)
    assert params["language"] == "zh" and params["quality"]["today"] == "2026-01-01"
    f.write_text("- not a mapping\n")
    with pytest.raises(ParamsError, match="must hold a mapping"):
        config.load_params(params_file=f)
    with pytest.raises(ParamsError, match="does not exist"):
        config.load_params(params_file=tmp_path / "missing.yaml")


def test_notebook_params_pick_known_names_and_ignore_modules():
    import math

    namespace = {
        "period": "2025-Q2",
        "unit": "north",
        "language": None,
        "math": math,
        "In": ["x"],
        "overrides": {"quality.today": "2026-01-01", "currency": "¥"},
    }
    params = config.notebook_params(namespace)
    assert params["period"] == "2025-Q2" and params["unit"] == "north"
    assert params["language"] == "en"  # None means default
    assert params["quality"]["today"] == "2026-01-01" and params["currency"] == "¥"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("retail", "retail"),
        ("b2b", "b2b"),
        ("East-2", "East-2"),
        ("x.y", "x.y"),
        ("United Kingdom", "United_Kingdom"),
        ("华东", "华东"),
        ("R&D <unit>", "R_D__unit_"),
    ],
)
def test_unit_names_and_their_folders(name, slug):
    assert config.check_name(name) == name
    assert config.unit_slug(name) == slug


@pytest.mark.parametrize(
    "name", ["..", "../x", "a/b", ".hidden", "a\\b", "", "x" * 101, "a..b", "a\nb"]
)
def test_check_name_rejects_traversal(name):
    with pytest.raises(ParamsError):
        config.check_name(name)


def test_scratch_folder_defaults_to_the_project(monkeypatch, tmp_path):
    from analysis.config import SCRATCH_ENV, project_root, scratch_dir

    monkeypatch.delenv(SCRATCH_ENV, raising=False)
    assert scratch_dir() == project_root() / "scratch"
    assert scratch_dir(tmp_path) == tmp_path / "scratch"
    monkeypatch.setenv(SCRATCH_ENV, str(tmp_path / "elsewhere"))
    assert scratch_dir() == tmp_path / "elsewhere"

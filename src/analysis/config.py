"""Parameters: load YAML, merge overrides, validate. Importing this module has no side effects.

Parameters are layered, later layers winning:

1. ``params/default.yaml`` (the schema: every known key with its default),
2. ``params/units/<unit>.yaml`` when it exists,
3. a user file (``--params FILE`` / ``params_file``),
4. ``--set key=value`` overrides (dotted keys, YAML-typed values) or papermill parameters.

Validation rejects unknown keys and wrong types and names the key. A key whose default is
``null`` takes the type listed in :data:`NULLABLE_TYPES`; mappings listed in
:data:`OPEN_MAPPINGS` accept user-defined keys (column mappings, playbooks).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .errors import ParamsError
from .period import Period

PACKAGE_DIR = Path(__file__).resolve().parent

#: Keys whose default is null, and the type(s) they accept otherwise.
NULLABLE_TYPES: dict[str, tuple[type, ...]] = {
    "period": (str, int),
    "params_file": (str,),
    "cache_dir": (str,),
    "export_dir": (str,),
    "reports": (list,),
    "date_format": (str,),
    "dayfirst": (bool,),
    "quality.today": (str, date),
    "quality.max_amount": (int, float),
    "files.customers": (str,),
    "files.survey_responses": (str,),
    "files.interactions": (str,),
    "subscription.data_date": (str, date),
    "value.lifecycle.at_risk_days": (int, float),
    "value.lifecycle.lapsed_days": (int, float),
    "value.lifecycle.new_days": (int, float),
    "playbook": (str,),
    "segmentation.k": (int,),
    "segmentation.selection_sample": (int,),
    "segmentation.bootstrap_sample": (int,),
    "churn.window_days": (int, float),
    "survey.outcome": (str,),
}

#: Keys whose value may take one of several types (their default shows one of them).
UNION_TYPES: dict[str, tuple[type, ...]] = {
    "segmentation.features": (str, list),
    "churn.attributes": (str, list),
    "quality.earliest_date": (str, date),
}

#: Keys whose value is one of a few words.
CHOICE_KEYS: dict[str, tuple[str, ...]] = {
    "value.segment_scheme": ("auto", "rfm10", "rfm8"),
    "value.rfm8.split": ("mean", "median"),
    "engine": ("duckdb", "spark"),
}

#: Mappings whose keys are the user's to choose (validated by the code that reads them).
OPEN_MAPPINGS = (
    "columns",
    "files",
    "units",
    "value.segment_map",
    "value.billing.segment_map",
    "segmentation.names",
    "survey.scales",
    "spark.conf",
)

# Unit names end up in paths and HTML: letters, digits, '_', '-' and '.', not starting with '.'.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$")


#: Environment variable that moves the scratch folder (see :func:`scratch_dir`).
SCRATCH_ENV = "SEGREPORT_SCRATCH"


def scratch_dir(root: Path | None = None) -> Path:
    """Where a notebook run outside ``segreport run`` writes: ``$SEGREPORT_SCRATCH``, else
    ``<project>/scratch`` (git-ignored).

    JupyterLab and plain papermill runs put their CSV exports (and ``figures.json``) under
    ``<scratch>/<period>/<unit>/exports/``, and create the pseudonymisation key here when
    the reports folder has none, so they never change a published reports folder. Only
    ``segreport run`` writes there (through its staging folder, under its lock); an analyst
    who wants the files elsewhere sets ``export_dir``.
    """
    env = os.environ.get(SCRATCH_ENV, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    return (root or project_root()) / "scratch"


def project_root() -> Path:
    """The folder holding ``params/default.yaml``: the checkout this package lives in,
    else the first such folder above the current directory, else the current directory."""
    candidates = [PACKAGE_DIR.parent.parent, *Path.cwd().resolve().parents]
    candidates.insert(1, Path.cwd().resolve())
    for folder in candidates:
        if (folder / "params" / "default.yaml").is_file():
            return folder
    return Path.cwd().resolve()


#: libyaml's safe loader when PyYAML was built with it (about 10x faster), else PyYAML's.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load`` through :data:`YAML_LOADER` (same safe subset, faster)."""
    return yaml.load(text, Loader=YAML_LOADER)  # noqa: S506  (a safe loader)


def read_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping, with errors that name the file."""
    path = Path(path)
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParamsError(f"parameter file '{path}' does not exist") from None
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date like 2024-13-45
        raise ParamsError(f"parameter file '{path}' is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamsError(f"parameter file '{path}' must hold a mapping of key: value")
    return data


def load_defaults(root: Path | None = None) -> dict[str, Any]:
    return read_yaml((root or project_root()) / "params" / "default.yaml")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``override``; nested mappings merge, everything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def nest(dotted: Mapping[str, Any]) -> dict[str, Any]:
    """Turn ``{"a.b": 1, "c": 2}`` into ``{"a": {"b": 1}, "c": 2}``."""
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        key = str(key).strip()
        if not key:
            raise ParamsError("an override has an empty key")
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ParamsError(f"override {key!r}: {part!r} is set twice with different shapes")
        node[leaf] = value
    return out


def parse_set(assignments: Iterable[str]) -> dict[str, Any]:
    """Turn ``["a.b=1", "language=zh"]`` into ``{"a": {"b": 1}, "language": "zh"}``.

    Values are read as YAML scalars (``1`` is an int, ``true`` a bool, ``[a, b]`` a list),
    never evaluated as code; text that is not valid YAML stays a plain string.
    """
    pairs: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ParamsError(f"--set expects key=value, got {item!r}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except (yaml.YAMLError, ValueError):  # ValueError: a date like 2024-13-45
            value = raw
        pairs[key.strip()] = value
    return nest(pairs)


def _type_names(types: tuple[type, ...]) -> str:
    names = {
        bool: "true/false",
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }
    return " or ".join(names.get(t, t.__name__) for t in types)


def _accepts(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def validate(params: Mapping[str, Any], defaults: Mapping[str, Any], prefix: str = "") -> None:
    """Check ``params`` against the schema given by ``defaults``.

    Raises
    ------
    ParamsError
        Naming the first unknown key or the first value of the wrong type.
    """
    for key, value in params.items():
        dotted = f"{prefix}{key}"
        if key not in defaults:
            known = ", ".join(sorted(map(str, defaults))) or "(none)"
            raise ParamsError(f"unknown parameter '{dotted}'. Known keys here: {known}")
        default = defaults[key]
        if value is None:
            if default is not None and dotted not in NULLABLE_TYPES:
                raise ParamsError(f"parameter '{dotted}' may not be empty (null)")
            continue
        if default is None:
            types = NULLABLE_TYPES.get(dotted)
            if types is None:
                raise ParamsError(f"parameter '{dotted}' has no declared type (schema bug)")
        else:
            types = (dict,) if isinstance(default, dict) else (type(default),)
            if isinstance(default, float):
                types = (float, int)
            types = UNION_TYPES.get(dotted, types)
        if not _accepts(value, types):
            raise ParamsError(
                f"parameter '{dotted}' must be {_type_names(types)}, "
                f"got {type(value).__name__} {value!r}"
            )
        if isinstance(default, dict) and dotted not in OPEN_MAPPINGS:
            validate(value, default, prefix=f"{dotted}.")


#: Parameters holding a date (``YYYY-MM-DD``).
DATE_KEYS = ("quality.today", "quality.earliest_date", "subscription.data_date")
#: Numbers that are shares or probabilities: between 0 and 1 (by the last part of the key).
_UNIT_INTERVAL = re.compile(r"(_share|_quantile|_fraction|^high_risk|^stability_threshold)$")
#: Numbers that may be negative (every other number of the schema is a count, a length of
#: time, a size or a rate, never below zero).
SIGNED_KEYS = ("segmentation.min_silhouette",)
#: (first, second): the two shares may not add up to more than 1.
SHARE_PAIRS = (
    ("value.abc.a_share", "value.abc.b_share"),
    ("value.tiers.high_share", "value.tiers.medium_share"),
)
#: (lower, upper): the first must be below (or equal to) the second.
ORDERED_PAIRS = (
    ("value.lifecycle.at_risk_quantile", "value.lifecycle.lapsed_quantile"),
    ("churn.window_min_days", "churn.window_max_days"),
)


def _get(params: Mapping[str, Any], dotted: str) -> Any:
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _numbers(params: Mapping[str, Any], defaults: Mapping[str, Any], prefix: str = ""):
    for key, value in params.items():
        dotted = f"{prefix}{key}"
        if dotted in OPEN_MAPPINGS:
            continue
        default = defaults.get(key) if isinstance(defaults, Mapping) else None
        if isinstance(value, Mapping):
            yield from _numbers(
                value, default if isinstance(default, Mapping) else {}, f"{dotted}."
            )
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield dotted, value


def check_values(params: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """Check the values of typed parameters: dates are dates, ``date_format`` is a usable
    format, ``encoding`` and ``timezone`` exist, shares are between 0 and 1 (and pairs of
    shares add up to at most 1), counts and lengths of time are not negative.

    Raises
    ------
    ParamsError
        Naming the first parameter whose value cannot be used, and the value.
    """
    import codecs  # noqa: PLC0415
    import math  # noqa: PLC0415
    from datetime import datetime  # noqa: PLC0415

    for key in DATE_KEYS:
        value = _get(params, key)
        if isinstance(value, str):
            try:
                date.fromisoformat(value.strip())
            except ValueError:
                raise ParamsError(
                    f"parameter '{key}' must be a date written YYYY-MM-DD, got {value!r}"
                ) from None
    fmt = params.get("date_format")
    if fmt is not None:
        problem = "" if "%" in fmt else "it has no % directive"
        try:
            datetime.strptime("", fmt)
        except ValueError as exc:
            if "does not match format" not in str(exc):
                problem = str(exc)
        if problem:
            raise ParamsError(
                f"parameter 'date_format' {fmt!r} is not a date format ({problem}); use "
                "strftime directives such as %d.%m.%Y or %m/%d/%Y %H:%M"
            )
    encoding = params.get("encoding")
    if isinstance(encoding, str) and encoding != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ParamsError(
                f"parameter 'encoding' {encoding!r} is not a known text encoding (use auto, "
                "utf-8, gb18030, cp1252, latin-1, ...)"
            ) from None
    zone = params.get("timezone")
    if isinstance(zone, str):
        import zoneinfo  # noqa: PLC0415

        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ParamsError(
                f"parameter 'timezone' {zone!r} is not a time zone name (e.g. UTC, "
                "Asia/Shanghai, Europe/Berlin)"
            ) from None
    for key, value in _numbers(params, defaults):
        leaf = key.rsplit(".", 1)[-1]
        if not math.isfinite(value):
            raise ParamsError(f"parameter '{key}' must be a finite number, got {value!r}")
        if _UNIT_INTERVAL.search(leaf) and not 0 <= value <= 1:
            raise ParamsError(
                f"parameter '{key}' is a share: it must be between 0 and 1, got {value!r}"
            )
        if value < 0 and key not in SIGNED_KEYS:
            raise ParamsError(f"parameter '{key}' may not be negative, got {value!r}")
    for first, second in SHARE_PAIRS:
        a, b = _get(params, first), _get(params, second)
        if isinstance(a, int | float) and isinstance(b, int | float) and a + b > 1:
            raise ParamsError(
                f"parameters '{first}' ({a}) and '{second}' ({b}) add up to more than 1"
            )
    for low, high in ORDERED_PAIRS:
        a, b = _get(params, low), _get(params, high)
        if isinstance(a, int | float) and isinstance(b, int | float) and a > b:
            raise ParamsError(f"parameter '{low}' ({a}) must not exceed '{high}' ({b})")
    for key, choices in CHOICE_KEYS.items():
        value = _get(params, key)
        if value is not None and value not in choices:
            raise ParamsError(
                f"parameter '{key}' must be one of {', '.join(choices)}, got {value!r}"
            )
    _check_engine(params)


#: ``spark.master`` forms: local[N], a standalone / Kubernetes / Connect URL, or yarn.
_SPARK_MASTER = re.compile(r"^(local(\[(\d+|\*)(,\d+)?\])?|yarn|(spark|k8s|sc)://\S+)$")


def _check_engine(params: Mapping[str, Any]) -> None:
    """``spark.master`` has a known form; ``spark.conf`` values are plain values (Spark
    settings are text). ``engine`` itself is in :data:`CHOICE_KEYS`."""
    master = _get(params, "spark.master")
    if isinstance(master, str) and not _SPARK_MASTER.match(master.strip()):
        raise ParamsError(
            f"parameter 'spark.master' {master!r} is not a Spark master: use local[N], "
            "spark://host:7077, yarn, k8s://https://host:port or sc://host:15002 (Spark Connect)"
        )
    for key, value in (_get(params, "spark.conf") or {}).items():
        if not isinstance(value, str | int | float | bool):
            raise ParamsError(
                f"parameter 'spark.conf.{key}' must be a text, number or true/false, "
                f"got {type(value).__name__}"
            )


def check_name(value: str, what: str = "unit") -> str:
    """Validate a unit name given by a user or found in the data.

    Any text is a fine display name (spaces, Chinese), but never one that could steer a path:
    no ``/`` or ``\\``, no ``..``, no leading ``.``, no control characters, at most 100
    characters. Paths use :func:`unit_slug`.
    """
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > 100
        or any(sep in value for sep in ("/", "\\", ".."))
        or value.startswith(".")
        or any(ord(ch) < 32 for ch in value)
    ):
        raise ParamsError(
            f"{what} {value!r} is not allowed: at most 100 characters, without '/', '\\', "
            "'..', control characters or a leading '.'"
        )
    return value


def unit_slug(unit: str) -> str:
    """The folder name of a unit: the name itself when it is plain (letters, digits, ``_``,
    ``-``, ``.``), else the name with every other character replaced by ``_``."""
    check_name(unit)
    if _SAFE_NAME.match(unit):
        return unit
    return "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in unit)


def load_params(
    *,
    unit: str | None = None,
    params_file: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    root: Path | None = None,
) -> dict[str, Any]:
    """Resolve the full parameter set for one run (see module docstring for the layers).

    Examples
    --------
    >>> p = load_params(overrides={"language": "zh"})
    >>> p["language"]
    'zh'
    """
    root = root or project_root()
    defaults = load_defaults(root)
    layers: list[Mapping[str, Any]] = []
    overrides = dict(overrides or {})
    unit = overrides.get("unit", unit)
    if unit is not None:
        check_name(str(unit))
        unit_file = root / "params" / "units" / f"{unit_slug(str(unit))}.yaml"
        if unit_file.is_file():
            layers.append(read_yaml(unit_file))
    params_file = overrides.pop("params_file", None) or params_file
    if params_file:
        path = Path(params_file)
        layers.append(read_yaml(path if path.is_absolute() else _resolve(path, root)))
    layers.append(overrides)
    params = copy.deepcopy(defaults)
    for layer in layers:
        validate(layer, defaults)
        params = deep_merge(params, layer)
    if unit is not None:
        params["unit"] = str(unit)
    validate(params, defaults)
    check_values(params, defaults)
    check_name(params["unit"])
    if params.get("period") is not None:
        Period.parse(str(params["period"]))  # fail early on a bad period
    unknown_formats = set(params["formats"]) - {"html", "pdf"}
    if unknown_formats or "html" not in params["formats"]:
        raise ParamsError(
            f"parameter 'formats' takes html and optionally pdf, got {params['formats']}"
        )
    if params["language"] not in ("en", "zh"):
        raise ParamsError(f"parameter 'language' must be en or zh, got {params['language']!r}")
    return params


def _resolve(path: Path, root: Path) -> Path:
    """Relative paths are taken from the current directory when they exist there, else
    from the project root (notebooks run inside ``notebooks/``)."""
    return path if path.exists() else root / path


def resolve_path(value: str | os.PathLike, root: Path | None = None) -> Path:
    """Resolve a path parameter (data_dir, output_dir) to an absolute path."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    return _resolve(path, root or project_root()).resolve()


def notebook_params(namespace: Mapping[str, Any], root: Path | None = None) -> dict[str, Any]:
    """Collect parameters from a notebook's globals (the ``parameters`` cell plus whatever
    papermill injected) and resolve them with :func:`load_params`.

    Every top-level key of ``params/default.yaml`` can be set in the notebook or injected with
    ``papermill -p key value`` / ``-f file.yaml``; ``None`` means "use the default". Names that
    are not parameters (modules, functions, IPython's ``In``/``Out``) are ignored.
    """
    root = root or project_root()
    defaults = load_defaults(root)
    plain = (str, int, float, bool, list, dict)
    given = {
        key: namespace[key]
        for key in defaults
        if key in namespace and namespace[key] is not None and isinstance(namespace[key], plain)
    }
    extra = namespace.get("overrides") or {}
    if not isinstance(extra, Mapping):
        raise ParamsError("notebook parameter 'overrides' must be a mapping of dotted keys")
    merged = deep_merge(given, nest(extra))
    return load_params(
        unit=merged.pop("unit", None),
        params_file=namespace.get("params_file"),
        overrides=merged,
        root=root,
    )

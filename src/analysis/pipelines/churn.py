"""The churn report's pipeline: labels, cause and risk models, survival and the
early-warning list of one (period, unit), as a frozen :class:`ChurnResult`.

Time layout (see :func:`analysis.churn.plan_snapshots`): the report's "as of" is the
period end; current customers are scored there. The latest labelled snapshot is one
churn window earlier (its window ends at the period end), the training snapshot one
window before that, so the out-of-time check trains on the older labels and tests on the
newer ones. Only data before the period end is read, so a re-run later gives the same
result. Whatever the data, :func:`build` returns a result: too few customers, too little
history, no churners, only churners, a single class in the test snapshot and perfectly
separating features each give a ``status`` or a note instead of a model.

Every random step has a fixed seed (the hold-out split, the boosting and its sample of at
most :data:`analysis.churn.FIT_SAMPLE` customers, the permutation importance sample, the
cross-validation folds), so two builds on the same input give the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import churn, lifecycle
from ..churn.design import AttributeChoice, choose_attributes, leaking_attributes
from ..data.load import Dataset
from ..errors import AnalysisError, ModelError
from ..figures import churn_rule, known_customers, risk_figures, wording_scheme
from ..i18n import t
from ..period import Period
from ..playbook import data_available
from .shared import SharedWork

__all__ = ["PLAYBOOK_STAGES", "ChurnResult", "ChurnSurvival", "build", "period_tables"]

#: Customers in these lifecycle stages get the playbook's stage action in the list.
PLAYBOOK_STAGES = ("at_risk", "lapsed")
#: Share of a labelled snapshot held out when no later snapshot can test the models.
HOLDOUT_SHARE = 0.25
#: Seed of every random step (hold-out split, boosting, importance sample, CV folds).
RANDOM_STATE = 0
#: Fewest churn events in the follow-up for the hazard model.
HAZARD_MIN_EVENTS = 10


@dataclass(frozen=True)
class ChurnSurvival:
    """Follow-up after a snapshot: Kaplan-Meier curves and the Cox hazard ratios.

    Attributes
    ----------
    snapshot : Timestamp
        Start of the follow-up (``follow_up_days`` before the period end, or the latest
        labelled snapshot when the data do not go back that far).
    horizon_days : int
        Days the customers were followed (the snapshot to the period end).
    table : DataFrame
        :func:`analysis.churn.followup_table`, with ``stage`` (lifecycle stage at the
        snapshot) and ``customer_type`` when known.
    overall, by_stage, by_type : DataFrame or None
        :func:`analysis.churn.km_curves` of everyone, per lifecycle stage and per
        customer type (None when there are too few customers, no stage, or one type).
    hazards : DataFrame or None
        :func:`analysis.churn.hazard_ratios`; None when it could not be fitted.
    hazard_n : tuple of int or None
        Customers and churn events the hazard model was fitted on, or would have been
        (the customers followed who have the model's attributes at the snapshot); set
        whenever a fit was tried, so a statement about it quotes the real counts.
    hazards_reason : str or None
        Why there are no hazard ratios: ``few_events`` (fewer churn events than
        :data:`HAZARD_MIN_EVENTS` among ``hazard_n``), ``no_feature`` (no covariate varies),
        ``no_convergence`` (separated data), ``no_attributes`` (no customer followed has
        the model's attributes at the snapshot) or ``failed`` (the fit raised another
        error, kept in ``hazards_error``).
    hazards_error : str or None
        The error message when ``hazards_reason`` is ``failed``.
    """

    snapshot: pd.Timestamp
    horizon_days: int
    table: pd.DataFrame
    overall: pd.DataFrame | None = None
    by_stage: pd.DataFrame | None = None
    by_type: pd.DataFrame | None = None
    hazards: pd.DataFrame | None = None
    hazard_n: tuple[int, int] | None = None
    hazards_reason: str | None = None
    hazards_error: str | None = None


@dataclass(frozen=True)
class ChurnResult:
    """Everything the churn report shows, computed once by :func:`build`.

    Attributes
    ----------
    status : str
        ``ok``; or why no model is shown: ``no_orders``, ``too_few`` (fewer customers
        than ``min_customers``), ``no_history`` (no labelled snapshot fits in the data),
        ``no_churners``, ``all_churners``, ``no_model`` (no usable attribute).
    definition : str
        ``noncontractual`` or ``contractual``.
    window : ChurnWindow
        The churn window and where it came from.
    options : Mapping
        The ``churn:`` parameters used.
    high_risk : float
        Churn probability from which a customer counts as high risk (``churn.high_risk``).
    snapshots : Snapshots or None
        Scoring, test and training snapshot dates.
    current, previous : PeriodChurn or None
        Churn of the report period and of the one before.
    n_customers : int
        Current customers (scored at the period end).
    score, train, test : DataFrame or None
        Features of the current customers; the labelled training and test snapshots.
    fit_frame : DataFrame or None
        The labelled snapshot the shown cause model and the scoring model were fitted on.
    fit_snapshot : Timestamp or None
        Its date.
    features : tuple of str
        Cause-model attributes present in the data.
    attributes : AttributeChoice
        The customer attributes tested (``churn.attributes``: chosen automatically, or the
        parameter's list) and, for ``auto``, every customer column left out and why;
        ``attributes.leaks`` are the columns left out because they record the outcome.
    drivers : ChurnDrivers or None
        Cause model on ``fit_frame`` (odds ratios shown; contributions give the reasons).
    validation : ChurnDrivers or None
        Cause model trained on the training snapshot, AUC on the test snapshot.
    risk : RiskEvaluation or None
        Gradient boosting checked on unseen customers (see ``risk_kind``); it learns from
        at most :data:`analysis.churn.FIT_SAMPLE` customers (a seeded stratified sample of
        a larger snapshot) and is evaluated on all of them.
    risk_kind : str
        ``out_of_time`` (trained on the older labels, evaluated on the newer ones),
        ``holdout`` (a stratified 25% of ``fit_frame``) or ``none``.
    cv : Mapping
        ``{"logistic": (mean, sd), "boosting": (mean, sd)}``: random 3-fold CV AUCs.
    warning_list : DataFrame or None
        :func:`analysis.churn.early_warning_list` of the current customers:
        ``customer_id, churn_probability`` (rounded to the 4 decimals of the export),
        ``value, value_at_risk, reason_1..3, reason_feature_1..3, action, stage``.
    value_source : str
        ``clv`` or ``historical`` (the value behind value at risk).
    survival : ChurnSurvival or None
    reasons : DataFrame or None
        :func:`analysis.churn.reason_pareto` of the last 365 days.
    notes : tuple of str
        Codes of statements for the report (``single_class_test``, ``no_playbook``,
        ``no_satisfaction_column``: the survey has no ``features.satisfaction_col``, so
        satisfaction is not an attribute).
    shared_reasons : tuple of dict
        Reasons nearly every high-risk customer shares (``warning_list.attrs
        ["shared_reasons"]``, see :func:`analysis.churn.early_warning_list`): stated once,
        not in each row.
    satisfaction_column : str
        The survey column behind the ``satisfaction`` attribute.
    playbook_used : bool
        The list's actions for at-risk and lapsed customers come from the playbook.
    final_model : ChurnRiskModel or None
        The risk model refitted on ``fit_frame`` (at most
        :data:`analysis.churn.FIT_SAMPLE` of its customers) that scored the current
        customers.
    """

    status: str
    definition: str
    window: churn.ChurnWindow
    options: Mapping[str, Any]
    high_risk: float
    snapshots: churn.Snapshots | None = None
    current: churn.PeriodChurn | None = None
    previous: churn.PeriodChurn | None = None
    n_customers: int = 0
    score: pd.DataFrame | None = None
    train: pd.DataFrame | None = None
    test: pd.DataFrame | None = None
    fit_frame: pd.DataFrame | None = None
    fit_snapshot: pd.Timestamp | None = None
    features: tuple[str, ...] = ()
    attributes: AttributeChoice = field(default_factory=AttributeChoice)
    drivers: churn.ChurnDrivers | None = None
    validation: churn.ChurnDrivers | None = None
    risk: churn.RiskEvaluation | None = None
    risk_kind: str = "none"
    cv: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    warning_list: pd.DataFrame | None = None
    value_source: str = "historical"
    survival: ChurnSurvival | None = None
    reasons: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    shared_reasons: tuple[dict[str, Any], ...] = ()
    satisfaction_column: str = "csat"
    playbook_used: bool = False
    final_model: churn.ChurnRiskModel | None = field(default=None, repr=False)

    @property
    def scheme(self) -> str:
        """``subscription`` when churn is contractual by ``churn.definition: auto``, which
        :func:`analysis.figures.churn_rule` chooses only for regular bills: the report then
        names its features in bills ("Average bill"); else ``transactional``."""
        return wording_scheme(self.definition, self.options.get("definition", "auto"))

    @property
    def modelled(self) -> bool:
        """A cause model was fitted (the model sections have something to show)."""
        return self.status == "ok" and self.drivers is not None

    @property
    def validation_kind(self) -> str:
        """How the models were checked on customers they had not seen: ``out_of_time``
        (trained on the training snapshot, scored on the later test snapshot), ``holdout``
        (a random share of one snapshot) or ``none``."""
        if self.validation is not None or self.risk_kind == "out_of_time":
            return "out_of_time"
        if self.risk_kind == "holdout" or (
            self.drivers is not None and self.drivers.auc_kind_ == "holdout"
        ):
            return "holdout"
        return "none"

    @property
    def high_risk_customers(self) -> int:
        """Current customers with a churn probability of at least :attr:`high_risk`
        (:func:`analysis.figures.risk_figures`; 0 without a list)."""
        if self.warning_list is None:
            return 0
        return int(risk_figures(self.warning_list, self.high_risk)["high_risk_customers"])

    @property
    def value_at_risk(self) -> float:
        """Value at risk of the high-risk customers (:func:`analysis.figures.risk_figures`;
        NaN without a list)."""
        return float(risk_figures(self.warning_list, self.high_risk)["value_at_risk"])


def _customer_features(params: Mapping[str, Any]):
    """The feature builder with the unit's ``features:`` options (``satisfaction_col``)."""
    from functools import partial  # noqa: PLC0415

    from ..engine import engine_for  # noqa: PLC0415
    from ..features import customer_features  # noqa: PLC0415  (DuckDB only when needed)

    return partial(
        customer_features, satisfaction_col=satisfaction_column(params), engine=engine_for(params)
    )


def period_tables(data: Dataset, period: Period) -> dict[str, pd.DataFrame | None]:
    """The unit's tables as known at the period end: later rows dropped, later churn
    undone (a churn dated after the period end is not known yet).

    Returns
    -------
    dict
        ``orders``, ``customers`` (``customer_id`` as string), ``surveys``,
        ``interactions``.
    """
    end = period.end_exclusive
    orders = data.orders.loc[data.orders["order_date"] < end]
    surveys = data.survey_responses
    if surveys is not None:
        surveys = surveys.loc[surveys["response_date"] < end]
    interactions = data.interactions
    if interactions is not None:
        interactions = interactions.loc[interactions["date"] < end]
    customers = known_customers(data, end)
    return {
        "orders": orders,
        "customers": customers,
        "surveys": surveys,
        "interactions": interactions,
    }


def build(
    data: Dataset,
    period: Period,
    params: Mapping[str, Any],
    *,
    shared: SharedWork | None = None,
) -> ChurnResult:
    """The churn report of one unit and period.

    Parameters
    ----------
    data
        The unit's clean tables (``ctx.data``).
    period
        The report period; its end is the "as of" of the scores.
    params
        Merged parameters (``ctx.params``): the ``churn:`` section, ``language`` (the
        list's reasons and actions), ``currency`` and ``playbook``.
    shared
        Work shared by the unit's reports. With a run's cache folder the result is
        computed once per (unit, period, parameters) in the process, so a report quoting
        churn figures reuses it.

    Returns
    -------
    ChurnResult

    Examples
    --------
    >>> result = build(ctx.data, ctx.period, ctx.params)             # doctest: +SKIP
    >>> result.current.rate, result.high_risk_customers              # doctest: +SKIP
    """
    work = shared or SharedWork(str(params.get("unit", "all")))
    return work.once("churn", period, params, lambda: _build(data, period, params))


def _build(data: Dataset, period: Period, params: Mapping[str, Any]) -> ChurnResult:
    opts = dict(params["churn"])
    tables = period_tables(data, period)
    orders, customers = tables["orders"], tables["customers"]
    end = period.end_exclusive
    rule = churn_rule(data, end, params)  # the unit's one churn rule (analysis.figures)
    definition, window = rule.definition, rule.window
    parts: dict[str, Any] = {
        "status": "ok",
        "definition": definition,
        "window": window,
        "options": opts,
        "high_risk": float(opts["high_risk"]),
    }
    choice = choose_attributes(customers, opts["attributes"])
    parts["attributes"] = choice
    if orders.empty:
        return ChurnResult(**{**parts, "status": "no_orders"})
    W = window.days
    kw = dict(definition=definition, customers=customers)
    previous = period.previous()
    parts["current"] = churn.period_churn(orders, period.start_ts, end, W, **kw)
    parts["previous"] = churn.period_churn(
        orders, previous.start_ts, previous.end_exclusive, W, **kw
    )
    parts["reasons"] = churn.reason_pareto(customers, end - pd.Timedelta(days=365), end)
    column = satisfaction_column(params)
    parts["satisfaction_column"] = column
    surveys = tables["surveys"]
    if surveys is not None and (column not in surveys.columns or not surveys[column].notna().any()):
        # a survey without the satisfaction item (nps only, or ratings under other
        # names): satisfaction is no attribute, the others still explain churn
        surveys = None
        parts["notes"] = ("no_satisfaction_column",)
    frame_kw = dict(
        features=_customer_features(params),
        window_days=W,
        definition=definition,
        customers=customers,
        surveys=surveys,
        interactions=tables["interactions"],
        lookback_days=int(opts["lookback_days"]),
        attributes=choice.chosen,
    )
    score = churn.churn_frame(orders, end, label=False, **frame_kw)
    parts["score"] = score
    # every snapshot gets the share columns of the scored one, so models fitted on earlier
    # snapshots can score the current customers even when the top categories changed
    frame_kw.update(categories=score.attrs.get("categories"), channels=score.attrs.get("channels"))
    parts["n_customers"] = len(score)
    minimum = int(opts["min_customers"])
    if len(score) < minimum:
        return ChurnResult(**{**parts, "status": "too_few"})
    snaps = churn.plan_snapshots(end, orders["order_date"].min(), W)
    parts["snapshots"] = snaps
    if snaps.test is None:
        return ChurnResult(**{**parts, "status": "no_history"})
    parts["test"] = churn.churn_frame(orders, snaps.test, **frame_kw)
    if snaps.out_of_time:
        parts["train"] = churn.churn_frame(orders, snaps.train, **frame_kw)
    if choice.auto:
        # an automatic attribute that knows the label on either labelled snapshot records
        # the churn rather than explains it: out of every frame and model, with a note
        leaks = {}
        for frame in (parts["test"], parts.get("train")):
            if frame is not None:
                found = leaking_attributes(frame, [c for c in choice.chosen if c not in leaks])
                leaks.update(found)
        if leaks:
            choice = choice.without(leaks)
            parts["attributes"] = choice
            frame_kw["attributes"] = choice.chosen
            for key in ("score", "test", "train"):
                if parts.get(key) is not None:
                    parts[key] = parts[key].drop(columns=list(leaks), errors="ignore")
    fitted = _fit_models(
        parts.get("train"), parts["test"], snaps, {**opts, "attributes": choice.chosen}, minimum
    )
    fitted["notes"] = (*parts.get("notes", ()), *fitted.get("notes", ()))
    parts.update(fitted)
    if parts["status"] != "ok":
        return ChurnResult(**parts)
    parts.update(_score_customers(parts, tables, end, params))
    parts["survival"] = _survival(parts, tables, frame_kw)
    return ChurnResult(**parts)


def _classes(frame: pd.DataFrame | None) -> int:
    return 0 if frame is None or frame.empty else int(frame["churned"].nunique())


def _fit_models(
    train: pd.DataFrame | None,
    test: pd.DataFrame,
    snaps: churn.Snapshots,
    opts: Mapping[str, Any],
    minimum: int,
) -> dict[str, Any]:
    """Cause and risk models with their validation (a status on edge cases)."""
    usable_test = len(test) >= minimum and _classes(test) == 2
    usable_train = train is not None and len(train) >= minimum and _classes(train) == 2
    if not usable_test and not usable_train:
        base = train if train is not None and len(train) >= minimum else test
        if len(base) < minimum:
            status = "too_few"
        elif bool(base["churned"].all()):
            status = "all_churners"
        else:
            status = "no_churners"
        return {"status": status, "fit_frame": base}
    out: dict[str, Any] = {"status": "ok", "notes": () if usable_test else ("single_class_test",)}
    fit_frame = test if usable_test else train
    out["fit_frame"] = fit_frame
    out["fit_snapshot"] = snaps.test if usable_test else snaps.train
    # the cause model reads the driver features and the customer attributes the
    # parameters name (a contract type, a plan): both describe the customer
    named = dict.fromkeys([*opts["driver_features"], *opts["attributes"]])
    wanted = [f for f in named if f in fit_frame.columns]
    out["features"] = tuple(wanted)
    try:
        out["drivers"] = churn.churn_drivers(
            fit_frame,
            "churned",
            wanted or None,
            min_customers=minimum,
            test_size=HOLDOUT_SHARE,
            random_state=RANDOM_STATE,
        )
    except ModelError:
        return {**out, "status": "no_model"}
    if usable_train:
        try:
            out["validation"] = churn.churn_drivers(
                train, "churned", wanted or None, test=test, min_customers=minimum
            )
        except ModelError:
            # the older snapshot cannot train the cause model: neither model is then
            # checked out of time (one validation for both, as the report says)
            usable_train = False
    model_columns = [c for c in fit_frame.columns if c != "churned"]
    if usable_train:
        model = _risk_model().fit(train[model_columns], train["churned"])
        out["risk"] = churn.evaluate_risk_model(
            model, test[model_columns], test["churned"], random_state=RANDOM_STATE
        )
        out["risk_kind"] = "out_of_time"
    else:
        from sklearn.model_selection import train_test_split  # noqa: PLC0415

        y = fit_frame["churned"].to_numpy()
        if min(y.sum(), len(y) - y.sum()) >= 4:
            fit_idx, hold_idx = train_test_split(
                np.arange(len(fit_frame)),
                test_size=HOLDOUT_SHARE,
                random_state=RANDOM_STATE,
                stratify=y,
            )
            part = fit_frame.iloc[fit_idx]
            model = _risk_model().fit(part[model_columns], part["churned"])
            hold = fit_frame.iloc[hold_idx]
            out["risk"] = churn.evaluate_risk_model(
                model, hold[model_columns], hold["churned"], random_state=RANDOM_STATE
            )
            out["risk_kind"] = "holdout"
    out["cv"] = {
        "logistic": churn.random_cv_auc(
            fit_frame,
            "churned",
            kind="logistic",
            features=wanted or None,
            random_state=RANDOM_STATE,
        ),
        "boosting": churn.random_cv_auc(
            fit_frame, "churned", kind="boosting", random_state=RANDOM_STATE
        ),
    }
    out["final_model"] = _risk_model().fit(fit_frame[model_columns], fit_frame["churned"])
    return out


def _risk_model() -> churn.ChurnRiskModel:
    """The gradient boosting of the out-of-time, hold-out and final fits: on at most
    :data:`analysis.churn.FIT_SAMPLE` customers of a snapshot (a seeded stratified sample
    above it), so its cost stops growing with the unit; the bundled sample is far below."""
    return churn.ChurnRiskModel(max_rows=churn.FIT_SAMPLE, random_state=RANDOM_STATE)


def _score_customers(
    parts: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame | None],
    end: pd.Timestamp,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """The early-warning list of the current customers."""
    opts, score = parts["options"], parts["score"]
    language = str(params.get("language", "en"))
    # to the 4 decimals the export carries, so that this report, churn_risk.csv and the
    # summary (which reads it) count the same customers at or above a threshold
    probability = np.round(parts["final_model"].predict_proba(score), 4)
    value = churn.customer_value(tables["orders"], end, method=str(opts["value"]))
    stages = lifecycle.lifecycle_stages(tables["customers"], tables["orders"], end)["stage"]
    stages.index = stages.index.astype("string")
    playbook, notes = _load_playbook(params), tuple(parts.get("notes", ()))
    if playbook is None:
        notes = (*notes, "no_playbook")
    warning_list = churn.early_warning_list(
        score,
        probability,
        value,
        parts["drivers"],
        stages=stages.astype("object"),
        playbook=playbook,
        playbook_stages=PLAYBOOK_STAGES,
        available=data_available(tables["orders"], tables["interactions"], tables["customers"]),
        language=language,
        currency=params.get("currency", "$"),
        action_separator=t("report_churn.separator_actions", language),
        high_risk=float(opts["high_risk"]),
        satisfaction_scale=satisfaction_scale(params),
        scheme=wording_scheme(parts["definition"], opts.get("definition", "auto")),
    )
    return {
        "warning_list": warning_list,
        "shared_reasons": tuple(warning_list.attrs.get("shared_reasons", ())),
        "value_source": value.attrs.get("source", "historical"),
        "playbook_used": playbook is not None,
        "notes": notes,
    }


def _load_playbook(params: Mapping[str, Any]) -> dict | None:
    """The playbook (``params/playbook.yaml`` or the ``playbook`` parameter), or None when
    it cannot be read: the list then uses the churn report's own actions."""
    from ..playbook import load_playbook  # noqa: PLC0415

    try:
        return load_playbook(params.get("playbook"))
    except AnalysisError:
        return None


def _survival(
    parts: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame | None],
    frame_kw: Mapping[str, Any],
) -> ChurnSurvival:
    """Follow-up after a snapshot: Kaplan-Meier by stage and type, Cox hazard ratios."""
    orders, customers = tables["orders"], tables["customers"]
    opts, snaps = parts["options"], parts["snapshots"]
    end = snaps.score
    start = orders["order_date"].min()
    wanted = end - pd.Timedelta(days=int(opts["follow_up_days"]))
    snapshot = wanted if wanted >= start + pd.Timedelta(days=90) else snaps.labelled
    table = churn.followup_table(
        orders,
        snapshot,
        end,
        parts["window"].days,
        definition=parts["definition"],
        customers=customers,
    )
    horizon = int((end - snapshot).days)
    if len(table) < int(opts["min_customers"]):
        return ChurnSurvival(snapshot=snapshot, horizon_days=horizon, table=table)
    before = orders.loc[orders["order_date"] < snapshot]
    stages = lifecycle.lifecycle_stages(customers, before, snapshot)["stage"]
    stages.index = stages.index.astype("string")
    table = table.join(stages.astype("object").rename("stage"))
    if "customer_type" in customers.columns:
        types = customers.drop_duplicates("customer_id").set_index("customer_id")["customer_type"]
        table = table.join(types.astype("object").rename("customer_type"))
    curves: dict[str, Any] = {"overall": churn.km_curves(table)}
    if table["stage"].notna().any():
        curves["by_stage"] = churn.km_curves(table.dropna(subset=["stage"]), group="stage")
    if "customer_type" in table.columns and table["customer_type"].nunique() > 1:
        curves["by_type"] = churn.km_curves(
            table.dropna(subset=["customer_type"]), group="customer_type"
        )
    features = churn.churn_frame(orders, snapshot, label=False, **frame_kw)
    covariates = [f for f in parts["features"] if f in features.columns]
    frame = table[["duration", "event"]].join(features[covariates], how="inner")
    counts = (len(frame), int(frame["event"].sum()))
    base = dict(snapshot=snapshot, horizon_days=horizon, table=table, hazard_n=counts, **curves)
    if frame.empty:
        return ChurnSurvival(**base, hazards_reason="no_attributes")
    try:
        hazards = churn.hazard_ratios(frame, covariates, min_events=HAZARD_MIN_EVENTS)
    except churn.HazardModelError as exc:
        return ChurnSurvival(**base, hazards_reason=exc.reason)
    except (ModelError, ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        # any other failure is said as such, never as "too few churn events"
        return ChurnSurvival(**base, hazards_reason="failed", hazards_error=str(exc))
    return ChurnSurvival(**base, hazards=hazards)


def satisfaction_column(params: Mapping[str, Any]) -> str:
    """The survey column behind the ``satisfaction`` attribute (``features.satisfaction_col``)."""
    return str((params.get("features") or {}).get("satisfaction_col") or "csat")


def satisfaction_scale(params: Mapping[str, Any]) -> tuple[float, float]:
    """The declared scale of :func:`satisfaction_column`: ``survey.scales`` when it names
    the column, NPS 0-10, CSAT 1-5, other ratings ``quality.rating_scale``."""
    column = satisfaction_column(params)
    scales = (params.get("survey") or {}).get("scales") or {}
    if column == "nps":
        return (0, 10)
    declared = scales.get(column)
    if declared is None and column != "csat" and column.startswith("rating_"):
        declared = scales.get("rating_*") or (params.get("quality") or {}).get("rating_scale")
    if declared is None:
        return (1, 5)
    low, high = declared
    return (float(low), float(high))

"""Sections of the "Churn causes and early warning" report (issue #6).

:func:`prepare` does all the computing for one (period, unit) and returns a
:class:`ChurnView`; every section takes the context and that view and only displays.
Whatever the data, the report renders: too few customers, too little history, no
churners, only churners, a single class in the test snapshot and perfectly separating
features each give a plain statement where a chart or model would have been.

Time layout (see :func:`analysis.churn.plan_snapshots`): the report's "as of" is the
period end; current customers are scored there. The latest labelled snapshot is one
churn window earlier (its window ends at the period end), the training snapshot one
window before that, so the out-of-time check trains on the older labels and tests on the
newer ones. Only data before the period end is read, so a re-run later gives the same
report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from ... import churn, lifecycle, plots
from ... import display as ui
from ...errors import AnalysisError, ModelError
from ...i18n import catalog
from ..context import ReportContext

P = "report_churn"

#: Defaults of the ``churn:`` parameters (read with ``ctx.params.get("churn", {})``).
DEFAULTS: dict[str, Any] = {
    "definition": "noncontractual",  # noncontractual | contractual | auto
    "window_days": None,  # None: learnt from the purchase gaps
    "window_quantile": 0.9,
    "window_min_days": 30,
    "window_max_days": 365,
    "lookback_days": 365,  # non-contractual population: bought within this many days
    "driver_features": list(churn.DRIVER_FEATURES),
    "attributes": ["customer_type", "region"],  # customer columns joined as features
    "min_customers": churn.MIN_CUSTOMERS,
    "value": "clv",  # clv | historical
    "follow_up_days": 365,  # survival: follow customers this long after a snapshot
    "list_rows": 20,  # rows of the early-warning list shown in the report
    "high_risk": 0.5,  # churn probability counted as "high risk" in the KPI
}
#: Customers in these lifecycle stages get the playbook's stage action in the list.
PLAYBOOK_STAGES = ("at_risk", "lapsed")
_RED, _GREEN, _GREY = "#c73e1d", "#3b8b5a", "#9aa5b1"
_RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50, 100)


# --------------------------------------------------------------------------- the data
@dataclass
class ChurnView:
    """Everything the sections show, computed once by :func:`prepare`.

    Attributes
    ----------
    status : str
        ``ok``; or why no model is shown: ``no_orders``, ``too_few`` (fewer customers
        than ``min_customers``), ``no_history`` (no labelled snapshot fits in the data),
        ``no_churners``, ``all_churners``.
    definition : str
        ``noncontractual`` or ``contractual``.
    window : ChurnWindow
    snapshots : Snapshots or None
    current, previous : PeriodChurn or None
        Churn of the report period and of the one before.
    score : DataFrame or None
        Current customers (features at the period end).
    fit_frame : DataFrame or None
        The labelled snapshot the shown cause model and the scoring model were fitted on.
    drivers : ChurnDrivers or None
        Cause model on ``fit_frame`` (odds ratios shown; contributions give the reasons).
    validation : ChurnDrivers or None
        Cause model trained on the training snapshot, AUC on the test snapshot.
    risk : RiskEvaluation or None
        Gradient boosting trained on the older labels, evaluated on the newer ones.
    risk_kind : str
        ``out_of_time`` or ``holdout`` (a stratified split when only one snapshot fits).
    cv : dict
        ``{"logistic": (mean, sd), "boosting": (mean, sd)}``: random 3-fold CV AUCs.
    warning_list : DataFrame or None
        :func:`analysis.churn.early_warning_list` of the current customers.
    value_source : str
        ``clv`` or ``historical``.
    survival : dict
        ``snapshot``, ``table`` (follow-up with stage and type), ``by_stage``,
        ``by_type`` (Kaplan-Meier), ``hazards`` (Cox table or None).
    reasons : DataFrame
        :func:`analysis.churn.reason_pareto` of the last 365 days.
    notes : list of str
        Keys of statements for the sections (e.g. ``single_class_test``).
    """

    status: str
    definition: str
    window: churn.ChurnWindow
    options: dict[str, Any]
    snapshots: churn.Snapshots | None = None
    current: churn.PeriodChurn | None = None
    previous: churn.PeriodChurn | None = None
    n_customers: int = 0
    score: pd.DataFrame | None = None
    train: pd.DataFrame | None = None
    test: pd.DataFrame | None = None
    fit_frame: pd.DataFrame | None = None
    fit_snapshot: pd.Timestamp | None = None
    features: list[str] = field(default_factory=list)
    drivers: churn.ChurnDrivers | None = None
    validation: churn.ChurnDrivers | None = None
    risk: churn.RiskEvaluation | None = None
    risk_kind: str = "none"
    cv: dict[str, tuple[float, float]] = field(default_factory=dict)
    warning_list: pd.DataFrame | None = None
    value_source: str = "historical"
    survival: dict[str, Any] = field(default_factory=dict)
    reasons: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    playbook_used: bool = False
    final_model: churn.ChurnRiskModel | None = field(default=None, repr=False)

    @property
    def modelled(self) -> bool:
        return self.status == "ok" and self.drivers is not None


def options(ctx: ReportContext) -> dict[str, Any]:
    """The ``churn:`` parameters over :data:`DEFAULTS`."""
    given = ctx.params.get("churn") or {}
    return {**DEFAULTS, **{k: v for k, v in given.items() if v is not None or k == "window_days"}}


def _period_data(ctx: ReportContext) -> dict[str, pd.DataFrame | None]:
    """The unit's tables as known at the period end: later rows dropped, later churn
    undone (a churn dated after the period end is not known yet)."""
    end = ctx.period.end_exclusive
    data = ctx.data
    orders = data.orders.loc[data.orders["order_date"] < end]
    surveys = data.survey_responses
    if surveys is not None:
        surveys = surveys.loc[surveys["response_date"] < end]
    interactions = data.interactions
    if interactions is not None:
        interactions = interactions.loc[interactions["date"] < end]
    customers = data.customers.copy()
    if "churn_date" in customers.columns:
        later = pd.to_datetime(customers["churn_date"]) >= end
        customers.loc[later, "churn_date"] = pd.NaT
        if "churned" in customers.columns:
            customers["churned"] = churn._as_bool(customers["churned"]) & ~later
        if "churn_reason" in customers.columns:
            customers["churn_reason"] = customers["churn_reason"].where(~later)
    customers["customer_id"] = customers["customer_id"].astype("string")
    return {
        "orders": orders,
        "customers": customers,
        "surveys": surveys,
        "interactions": interactions,
    }


def prepare(ctx: ReportContext) -> ChurnView:
    """Compute the whole report for the context's unit and period (no output)."""
    opts = options(ctx)
    tables = _period_data(ctx)
    orders, customers = tables["orders"], tables["customers"]
    end = ctx.period.end_exclusive
    definition = churn.resolve_definition(str(opts["definition"]), customers)
    window = churn.churn_window(
        orders,
        end,
        quantile=float(opts["window_quantile"]),
        min_days=int(opts["window_min_days"]),
        max_days=int(opts["window_max_days"]),
        window_days=opts["window_days"],
    )
    view = ChurnView(status="ok", definition=definition, window=window, options=opts)
    if orders.empty:
        view.status = "no_orders"
        return view
    W = window.days
    kw = dict(definition=definition, customers=customers)
    view.current = churn.period_churn(orders, ctx.period.start_ts, end, W, **kw)
    view.previous = churn.period_churn(
        orders, ctx.previous.start_ts, ctx.previous.end_exclusive, W, **kw
    )
    view.reasons = churn.reason_pareto(customers, end - pd.Timedelta(days=365), end)
    frame_kw = dict(
        window_days=W,
        definition=definition,
        customers=customers,
        surveys=tables["surveys"],
        interactions=tables["interactions"],
        lookback_days=int(opts["lookback_days"]),
        attributes=tuple(opts["attributes"]),
    )
    view.score = churn.churn_frame(orders, end, label=False, **frame_kw)
    # every snapshot gets the share columns of the scored one, so models fitted on earlier
    # snapshots can score the current customers even when the top categories changed
    frame_kw.update(
        categories=view.score.attrs.get("categories"), channels=view.score.attrs.get("channels")
    )
    view.n_customers = len(view.score)
    minimum = int(opts["min_customers"])
    if view.n_customers < minimum:
        view.status = "too_few"
        return view
    snaps = churn.plan_snapshots(end, orders["order_date"].min(), W)
    view.snapshots = snaps
    if snaps.test is None:
        view.status = "no_history"
        return view
    view.test = churn.churn_frame(orders, snaps.test, **frame_kw)
    if snaps.out_of_time:
        view.train = churn.churn_frame(orders, snaps.train, **frame_kw)
    _fit_models(view, minimum)
    if view.status != "ok":
        return view
    _score_customers(ctx, view, tables)
    _survival(view, tables, frame_kw)
    return view


def _classes(frame: pd.DataFrame | None) -> int:
    return 0 if frame is None or frame.empty else int(frame["churned"].nunique())


def _fit_models(view: ChurnView, minimum: int) -> None:
    """Cause and risk models with their validation (sets status on edge cases)."""
    test, train = view.test, view.train
    usable_test = len(test) >= minimum and _classes(test) == 2
    usable_train = train is not None and len(train) >= minimum and _classes(train) == 2
    if not usable_test and not usable_train:
        base = train if train is not None and len(train) >= minimum else test
        if len(base) < minimum:
            view.status = "too_few"
        elif bool(base["churned"].all()):
            view.status = "all_churners"
        else:
            view.status = "no_churners"
        view.fit_frame = base
        return
    if not usable_test:
        view.notes.append("single_class_test")
    view.fit_frame = test if usable_test else train
    view.fit_snapshot = view.snapshots.test if usable_test else view.snapshots.train
    wanted = [f for f in view.options["driver_features"] if f in view.fit_frame.columns]
    view.features = wanted
    try:
        view.drivers = churn.churn_drivers(
            view.fit_frame, "churned", wanted or None, min_customers=minimum
        )
    except ModelError:
        view.status = "no_model"
        return
    if usable_train:
        view.validation = churn.churn_drivers(
            train, "churned", wanted or None, test=test, min_customers=minimum
        )
    model_columns = [c for c in view.fit_frame.columns if c != "churned"]
    if usable_train:
        model = churn.ChurnRiskModel().fit(train[model_columns], train["churned"])
        view.risk = churn.evaluate_risk_model(model, test[model_columns], test["churned"])
        view.risk_kind = "out_of_time"
    else:
        from sklearn.model_selection import train_test_split  # noqa: PLC0415

        frame = view.fit_frame
        y = frame["churned"].to_numpy()
        if min(y.sum(), len(y) - y.sum()) >= 4:
            fit_idx, hold_idx = train_test_split(
                np.arange(len(frame)), test_size=0.25, random_state=0, stratify=y
            )
            part = frame.iloc[fit_idx]
            model = churn.ChurnRiskModel().fit(part[model_columns], part["churned"])
            hold = frame.iloc[hold_idx]
            view.risk = churn.evaluate_risk_model(model, hold[model_columns], hold["churned"])
            view.risk_kind = "holdout"
    view.cv = {
        "logistic": churn.random_cv_auc(
            view.fit_frame, "churned", kind="logistic", features=wanted or None
        ),
        "boosting": churn.random_cv_auc(view.fit_frame, "churned", kind="boosting"),
    }
    view.final_model = churn.ChurnRiskModel().fit(
        view.fit_frame[model_columns], view.fit_frame["churned"]
    )


def _score_customers(
    ctx: ReportContext, view: ChurnView, tables: dict[str, pd.DataFrame | None]
) -> None:
    end = ctx.period.end_exclusive
    score = view.score
    # to the 4 decimals the export carries, so that this report, churn_risk.csv and the
    # summary (which reads it) count the same customers at or above a threshold
    probability = np.round(view.final_model.predict_proba(score), 4)
    value = churn.customer_value(tables["orders"], end, method=str(view.options["value"]))
    view.value_source = value.attrs.get("source", "historical")
    stages = lifecycle.lifecycle_stages(tables["customers"], tables["orders"], end)["stage"]
    stages.index = stages.index.astype("string")
    playbook = _load_playbook(ctx, view)
    view.warning_list = churn.early_warning_list(
        score,
        probability,
        value,
        view.drivers,
        stages=stages.astype("object"),
        playbook=playbook,
        playbook_stages=PLAYBOOK_STAGES,
        language=ctx.language,
        currency=ctx.params.get("currency", "$"),
        action_separator=_t(ctx, "separator_actions"),
    )


def _load_playbook(ctx: ReportContext, view: ChurnView) -> dict | None:
    """The playbook (``params/playbook.yaml`` or the ``playbook`` parameter), or None with
    a note when it cannot be read: the list then uses the churn report's own actions."""
    try:
        from ...playbook import load_playbook  # noqa: PLC0415
    except ImportError:
        return None
    try:
        playbook = load_playbook(ctx.params.get("playbook"))
    except AnalysisError:
        view.notes.append("no_playbook")
        return None
    view.playbook_used = True
    return playbook


def _survival(
    view: ChurnView, tables: dict[str, pd.DataFrame | None], frame_kw: dict[str, Any]
) -> None:
    """Follow-up after a snapshot: Kaplan-Meier by stage and type, Cox hazard ratios."""
    orders, customers = tables["orders"], tables["customers"]
    end = view.snapshots.score
    start = orders["order_date"].min()
    wanted = end - pd.Timedelta(days=int(view.options["follow_up_days"]))
    snapshot = wanted if wanted >= start + pd.Timedelta(days=90) else view.snapshots.labelled
    table = churn.followup_table(
        orders, snapshot, end, view.window.days, definition=view.definition, customers=customers
    )
    if len(table) < int(view.options["min_customers"]):
        view.survival = {"snapshot": snapshot, "table": table}
        return
    before = orders.loc[orders["order_date"] < snapshot]
    stages = lifecycle.lifecycle_stages(customers, before, snapshot)["stage"]
    stages.index = stages.index.astype("string")
    table = table.join(stages.astype("object").rename("stage"))
    if "customer_type" in customers.columns:
        types = customers.drop_duplicates("customer_id").set_index("customer_id")["customer_type"]
        table = table.join(types.astype("object").rename("customer_type"))
    out: dict[str, Any] = {"snapshot": snapshot, "table": table}
    out["overall"] = churn.km_curves(table)
    if table["stage"].notna().any():
        out["by_stage"] = churn.km_curves(table.dropna(subset=["stage"]), group="stage")
    if "customer_type" in table.columns and table["customer_type"].nunique() > 1:
        out["by_type"] = churn.km_curves(
            table.dropna(subset=["customer_type"]), group="customer_type"
        )
    features = churn.churn_frame(orders, snapshot, label=False, **frame_kw)
    covariates = [f for f in view.features if f in features.columns]
    frame = table[["duration", "event"]].join(features[covariates], how="inner")
    try:
        out["hazards"] = churn.hazard_ratios(frame, covariates)
        out["hazard_n"] = (len(frame), int(frame["event"].sum()))
    except ModelError:
        out["hazards"] = None
    view.survival = out


# --------------------------------------------------------------------------- wording
def _t(ctx: ReportContext, key: str, **values: object) -> str:
    return ctx._(f"{P}.{key}", **values)


def _date(ctx: ReportContext, ts: pd.Timestamp | None) -> str:
    return ui.fmt_date(ts, ctx.language) if ts is not None else "–"


def _pts(ctx: ReportContext, change: float) -> str:
    return _t(ctx, "unit.pct_points_signed", value=100 * change)


def _fmt_p(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "–"
    if p < 0.001:
        return "< 0.001"
    shown = f"{p:.3f}"
    if (float(shown) < 0.05) != (p < 0.05):
        shown = f"{p:.4f}"
    return shown


def _fmt_auc(value: float) -> str:
    return f"{value:.3f}" if value is not None and math.isfinite(value) else "–"


def _stage_label(ctx: ReportContext, stage: object) -> str:
    return lifecycle.stage_label(str(stage), ctx.language)


def _type_label(ctx: ReportContext, value: object) -> str:
    return churn.level_label("customer_type", value, ctx.language)


def _reason_label(ctx: ReportContext, reason: str) -> str:
    key = f"{P}.reason.{reason}"
    names = catalog(ctx.language)
    return names[key] if key in names else str(reason)


def _plain(text: object) -> str:
    """Data text for a chart label: ``$`` would start matplotlib mathtext."""
    return str(text).replace("$", r"\$")


def _statement(ctx: ReportContext, view: ChurnView) -> bool:
    """Say why there is no model (once, in the first model section); True when shown."""
    if view.status == "ok":
        return False
    values = dict(
        n=ctx.number(view.n_customers),
        minimum=int(view.options["min_customers"]),
        days=view.window.days,
        unit=ctx.unit_label,
        period=str(ctx.period),
    )
    if view.snapshots is not None and view.snapshots.labelled is not None:
        values["snapshot"] = _date(ctx, view.fit_snapshot or view.snapshots.labelled)
    else:
        values["snapshot"] = "–"
    if view.fit_frame is not None:
        values["n"] = ctx.number(len(view.fit_frame))
    ctx.note(f"{P}.status.{view.status}", "warning", **values)
    return True


# --------------------------------------------------------------------------- sections
def kpi_section(ctx: ReportContext, view: ChurnView) -> dict[str, float] | None:
    """KPI cards: churn rate (vs previous period), churned customers, revenue lost,
    value at risk and customers at high risk."""
    ctx.heading(f"{P}.kpis.title")
    if view.status == "no_orders":
        ctx.note(f"{P}.status.no_orders", "warning", unit=ctx.unit_label, period=str(ctx.period))
        return None
    cur, prev = view.current, view.previous
    ctx.text(
        f"{P}.kpis.intro_{view.definition}",
        period=str(ctx.period),
        days=view.window.days,
        previous=str(ctx.previous),
    )
    vs = ctx._("common.vs_previous", period=str(ctx.previous))
    comparable = prev is not None and prev.base > 0 and cur.base > 0
    rate_change = cur.rate - prev.rate if comparable else None

    def relative(a: float, b: float) -> float | None:
        return (a - b) / b if comparable and b else None

    cards = [
        ui.KPI(
            _t(ctx, "kpi.rate"),
            ui.fmt_pct(cur.rate),
            rate_change,
            vs if comparable else ctx._("common.no_comparison"),
            higher_is_better=False,
            change_text=_pts(ctx, rate_change) if rate_change is not None else None,
        ),
        ui.KPI(
            _t(ctx, "kpi.churned"),
            ctx.number(cur.churned),
            relative(cur.churned, prev.churned if prev else 0),
            vs,
            higher_is_better=False,
        ),
        ui.KPI(
            _t(ctx, "kpi.revenue_lost"),
            ctx.money(cur.revenue_lost),
            relative(cur.revenue_lost, prev.revenue_lost if prev else 0),
            vs,
            higher_is_better=False,
        ),
    ]
    at_risk = high = None
    if view.warning_list is not None:
        at_risk = float(view.warning_list["value_at_risk"].sum())
        high = int(
            (view.warning_list["churn_probability"] >= float(view.options["high_risk"])).sum()
        )
        cards.append(ui.KPI(_t(ctx, f"kpi.value_at_risk_{view.value_source}"), ctx.money(at_risk)))
        cards.append(ui.KPI(_t(ctx, "kpi.high_risk"), ctx.number(high)))
    ctx.show(ui.kpi_cards(cards))
    if cur.base == 0:
        ctx.takeaway(f"{P}.kpis.takeaway_no_base", period=str(ctx.period))
    else:
        if rate_change is None:
            change = _t(ctx, "kpis.change_none", previous=str(ctx.previous))
        else:
            direction = "up" if rate_change > 0 else ("down" if rate_change < 0 else "flat")
            change = _t(
                ctx,
                f"kpis.change_{direction}",
                size=_t(ctx, "unit.pct_points", value=abs(100 * rate_change)),
                previous=str(ctx.previous),
            )
        ctx.takeaway(
            f"{P}.kpis.takeaway",
            period=str(ctx.period),
            rate=ui.fmt_pct(cur.rate),
            churned=ctx.number(cur.churned),
            base=ctx.number(cur.base),
            change=change,
            lost=ctx.money(cur.revenue_lost),
        )
    if at_risk is not None:
        ctx.takeaway(
            f"{P}.kpis.takeaway_risk",
            value=ctx.money(at_risk),
            n=ctx.number(len(view.warning_list)),
            high=ctx.number(high),
            threshold=ui.fmt_pct(float(view.options["high_risk"]), decimals=0),
        )
    return {
        "rate": cur.rate,
        "previous_rate": prev.rate if prev else float("nan"),
        "churned": cur.churned,
        "revenue_lost": cur.revenue_lost,
        "value_at_risk": at_risk if at_risk is not None else float("nan"),
    }


def definition_section(ctx: ReportContext, view: ChurnView) -> pd.DataFrame | None:
    """How churn is defined: the window (and where it came from) and the snapshots."""
    ctx.heading(f"{P}.definition.title")
    if view.status == "no_orders":
        return None
    w = view.window
    if view.definition == "contractual":
        ctx.text(f"{P}.definition.contractual", days=w.days)
    else:
        ctx.text(f"{P}.definition.noncontractual", days=w.days)
    if w.source == "gaps":
        ctx.text(
            f"{P}.definition.window_gaps",
            days=w.days,
            pct=f"{100 * w.quantile:.0f}",
            n=ctx.number(w.n_gaps),
            raw=f"{w.gap_quantile_days:.0f}",
        )
        if w.clipped:
            ctx.note(
                f"{P}.definition.window_clipped",
                "info",
                raw=f"{w.gap_quantile_days:.0f}",
                low=view.options["window_min_days"],
                high=view.options["window_max_days"],
            )
    elif w.source == "fallback":
        ctx.note(f"{P}.definition.window_fallback", "info", days=w.days, n=ctx.number(w.n_gaps))
    else:
        ctx.text(f"{P}.definition.window_param", days=w.days)
    snaps = view.snapshots
    if snaps is None:
        return None
    rows = []
    for role, ts, frame in (
        ("train", snaps.train, view.train),
        ("test", snaps.test, view.test),
        ("score", snaps.score, view.score),
    ):
        if ts is None:
            continue
        labelled = frame is not None and "churned" in frame.columns
        rows.append(
            {
                _t(ctx, "col.snapshot"): _t(ctx, f"snapshot.{role}"),
                _t(ctx, "col.date"): _date(ctx, ts),
                _t(ctx, "col.customers"): ctx.number(len(frame)) if frame is not None else "–",
                _t(ctx, "col.churn_rate"): ui.fmt_pct(float(frame["churned"].mean()))
                if labelled and len(frame)
                else "–",
                _t(ctx, "col.label_window"): _t(
                    ctx,
                    "snapshot.window",
                    start=_date(ctx, ts),
                    end=_date(ctx, ts + pd.Timedelta(days=w.days - 1)),
                )
                if role != "score"
                else _t(ctx, "snapshot.future"),
            }
        )
    table = pd.DataFrame(rows)
    ctx.show(ui.table(table))
    ctx.text(
        f"{P}.definition.no_leakage_{view.definition}",
        lookback=int(view.options["lookback_days"]),
    )
    if not snaps.out_of_time:
        ctx.note(f"{P}.definition.no_out_of_time", "info", days=w.days)
    return table


def drivers_section(ctx: ReportContext, view: ChurnView) -> pd.DataFrame | None:
    """The cause model: odds-ratio table and chart, sentences, caveats."""
    ctx.heading(f"{P}.drivers.title")
    if view.status == "no_orders":
        return None
    if _statement(ctx, view):
        return None
    d = view.drivers
    ctx.text(
        f"{P}.drivers.intro",
        n=ctx.number(d.n_),
        churned=ctx.number(d.n_churned_),
        snapshot=_date(ctx, view.fit_snapshot),
        days=view.window.days,
    )
    summary = d.summary.copy()
    summary["strength"] = np.abs(np.log(summary["odds_ratio"]))
    summary["significant"] = summary["p_value"] < 0.05
    summary = summary.sort_values(
        ["significant", "strength"], ascending=[False, False], kind="mergesort"
    ).reset_index(drop=True)
    labels = [churn.term_label(d.summary, f, ctx.language) for f in summary["feature"]]
    readings = [
        _t(ctx, "drivers.more" if r > 1 else "drivers.less") if sig else _t(ctx, "drivers.unclear")
        for r, sig in zip(summary["odds_ratio"], summary["significant"], strict=True)
    ]
    shown = pd.DataFrame(
        {
            _t(ctx, "col.attribute"): labels,
            _t(ctx, "col.per"): [_per_text(ctx, row) for _, row in summary.iterrows()],
            _t(ctx, "col.odds_ratio"): [f"{v:.2f}" for v in summary["odds_ratio"]],
            _t(ctx, "col.interval"): [
                f"{lo:.2f} – {hi:.2f}"
                for lo, hi in zip(summary["ci_low"], summary["ci_high"], strict=True)
            ],
            _t(ctx, "col.p_value"): [_fmt_p(p) for p in summary["p_value"]],
            _t(ctx, "col.reading"): readings,
        }
    )
    _plot_forest(ctx, summary, labels)
    ctx.show(ui.table(shown, muted_rows=~summary["significant"].to_numpy()))
    ctx.text(f"{P}.drivers.legend")
    for sentence in d.sentences(ctx.language):
        ctx.show(ui.paragraph(sentence))
    largest = float(d.vif_["vif"].max()) if not d.vif_.empty else 1.0
    if largest <= 10:
        key = "drivers.vif_ok" if largest < 5 else "drivers.vif_moderate"
        ctx.show(ui.paragraph(_t(ctx, key, largest=f"{largest:.1f}"), "sr-small"))
    dropped = d.dropped_
    if dropped:
        ctx.show(
            ui.paragraph(
                _t(
                    ctx,
                    "drivers.dropped",
                    items=_t(ctx, "separator_list").join(
                        f"{churn.feature_label(k, ctx.language)} ({_t(ctx, f'dropped.{v}')})"
                        for k, v in dropped.items()
                    ),
                ),
                "sr-small",
            )
        )
    top = summary.loc[summary["significant"]].head(2)
    if top.empty:
        ctx.takeaway(f"{P}.drivers.takeaway_none")
    else:
        ctx.takeaway(
            f"{P}.drivers.takeaway",
            drivers=_t(ctx, "separator_list").join(
                f"{churn.term_label(d.summary, f, ctx.language)} ({r:.2f})"
                for f, r in zip(top["feature"], top["odds_ratio"], strict=True)
            ),
        )
    return d.odds_ratios


def _per_text(ctx: ReportContext, row: pd.Series) -> str:
    if row["kind"] == "numeric":
        return _t(
            ctx, "drivers.per_sd", sd=churn._fmt_sd(str(row["source"]), row["sd"], ctx.language)
        )
    if row["kind"] == "missing":
        return _t(ctx, "drivers.per_missing")
    return _t(
        ctx, "drivers.per_level", reference=_type_or_level(ctx, row["source"], row["reference"])
    )


def _type_or_level(ctx: ReportContext, feature: str, level: object) -> str:
    return churn.level_label(str(feature), level, ctx.language)


def _plot_forest(ctx: ReportContext, summary: pd.DataFrame, labels: list[str]) -> None:
    n = len(summary)
    fig, ax = plt.subplots(figsize=(11, 0.42 * n + 1.3))
    y = np.arange(n)[::-1]
    ratio = summary["odds_ratio"].to_numpy(dtype=float)
    low = summary["ci_low"].to_numpy(dtype=float)
    high = summary["ci_high"].to_numpy(dtype=float)
    colours = [
        (_RED if r > 1 else _GREEN) if sig else _GREY
        for r, sig in zip(ratio, summary["significant"], strict=True)
    ]
    ax.hlines(y, low, high, colors=colours, lw=2)
    ax.scatter(ratio, y, c=colours, s=46, zorder=3)
    ax.axvline(1.0, color="#555555", lw=1, ls="--")
    ax.set_xscale("log")
    lo = max(min(low.min(), 1 / 1.2), 1e-3)
    hi = min(max(high.max(), 1.2), 1e3)
    ax.set_xlim(lo / 1.15, hi * 1.15)
    ticks = [v for v in _RATIO_TICKS if lo / 1.15 <= v <= hi * 1.15]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_yticks(y, [_plain(v) for v in labels])
    ax.set_xlabel(_t(ctx, "drivers.axis"))
    ax.set_title(_t(ctx, "drivers.chart"))
    ax.grid(axis="y", visible=False)
    plots.show_figure(fig)


def model_section(ctx: ReportContext, view: ChurnView) -> dict[str, Any] | None:
    """Model quality: out-of-time AUCs (random CV beside them), gains/lift, calibration,
    permutation importance and partial dependence of the risk model."""
    ctx.heading(f"{P}.model.title")
    if view.status != "ok" or view.drivers is None:
        if view.status not in ("no_orders",):
            ctx.note(f"{P}.model.none", "info")
        return None
    snaps = view.snapshots
    rows = []
    if view.validation is not None:
        rows.append(("logistic", "out_of_time", view.validation.auc_))
    else:
        rows.append(("logistic", view.drivers.auc_kind_, view.drivers.auc_))
    if view.risk is not None:
        rows.append(("boosting", view.risk_kind, view.risk.auc_))
    for kind in ("logistic", "boosting"):
        mean, sd = view.cv.get(kind, (float("nan"), float("nan")))
        if math.isfinite(mean):
            rows.append((kind, "random_cv", mean))
    if snaps.out_of_time:
        ctx.text(
            f"{P}.model.intro_oot",
            train=_date(ctx, snaps.train),
            test=_date(ctx, snaps.test),
            days=view.window.days,
        )
    else:
        ctx.text(f"{P}.model.intro_holdout")
    table = pd.DataFrame(
        {
            _t(ctx, "col.model"): [_t(ctx, f"model.kind.{k}") for k, _, _ in rows],
            _t(ctx, "col.validation"): [_t(ctx, f"model.validation.{v}") for _, v, _ in rows],
            _t(ctx, "col.auc"): [_fmt_auc(a) for _, _, a in rows],
        }
    )
    ctx.show(ui.table(table, muted_rows=[v == "random_cv" for _, v, _ in rows]))
    ctx.text(f"{P}.model.auc_legend")
    single = "single_class_test" in view.notes or (
        view.risk is not None and "single_class_test" in view.risk.notes_
    )
    if single:
        ctx.note(f"{P}.model.single_class_test", "warning", test=_date(ctx, snaps.test))
    risk = view.risk
    if risk is None or single:
        return {"table": table}
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.7))
    _plot_gains(ctx, axes[0], risk.gains)
    _plot_calibration(ctx, axes[1], risk.calibration)
    _plot_importance(ctx, axes[2], risk.importance.head(8))
    plots.show_figure(fig)
    g = risk.gains
    ctx.takeaway(
        f"{P}.model.takeaway",
        auc=_fmt_auc(risk.auc_),
        lift=f"{risk.top_decile_lift_:.1f}",
        capture=ui.fmt_pct(float(g.loc[0, "cumulative_capture"]), decimals=0),
        capture3=ui.fmt_pct(float(g.loc[min(2, len(g) - 1), "cumulative_capture"]), decimals=0),
        base=ui.fmt_pct(risk.base_rate_),
    )
    cal = risk.calibration
    if not cal.empty:
        gap = float(np.mean(np.abs(cal["predicted"] - cal["observed"])))
        key = "calibration" if gap <= 0.03 else "calibration_off"
        ctx.takeaway(f"{P}.model.{key}", gap=_t(ctx, "unit.pct_points", value=100 * gap))
    if risk.partial_dependence:
        ctx.show(ui.heading(_t(ctx, "model.pd_title"), level=3))
        items = list(risk.partial_dependence.items())
        fig, axes = plt.subplots(1, len(items), figsize=(11, 3.2), squeeze=False, sharey=True)
        for ax, (feature, curve) in zip(axes[0], items, strict=True):
            ax.plot(curve["value"], 100 * curve["churn_probability"], color=plots.PALETTE[0], lw=2)
            ax.set_xlabel(_plain(churn.feature_label(feature, ctx.language)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
        axes[0][0].set_ylabel(_t(ctx, "model.pd_axis"))
        fig.suptitle(_t(ctx, "model.pd_chart"), fontsize=12, fontweight="bold")
        plots.show_figure(fig)
        ctx.text(f"{P}.model.pd_legend")
    return {"table": table, "gains": risk.gains, "calibration": cal, "importance": risk.importance}


def _plot_gains(ctx: ReportContext, ax: plt.Axes, gains: pd.DataFrame) -> None:
    share = np.r_[0, gains["cumulative_share"].to_numpy(dtype=float)] * 100
    capture = np.r_[0, gains["cumulative_capture"].to_numpy(dtype=float)] * 100
    ax.plot(
        share, capture, marker="o", ms=4, color=plots.PALETTE[0], label=_t(ctx, "model.gains_model")
    )
    ax.plot([0, 100], [0, 100], ls="--", color=_GREY, label=_t(ctx, "model.gains_random"))
    ax.set_xlabel(_t(ctx, "model.gains_x"))
    ax.set_ylabel(_t(ctx, "model.gains_y"))
    pct = FuncFormatter(lambda v, _: f"{v:.0f}%")
    ax.xaxis.set_major_formatter(pct)
    ax.yaxis.set_major_formatter(pct)
    ax.set_title(_t(ctx, "model.gains_chart"))
    ax.legend(fontsize=8, loc="lower right")


def _plot_calibration(ctx: ReportContext, ax: plt.Axes, cal: pd.DataFrame) -> None:
    if cal.empty:
        ax.axis("off")
        return
    top = max(float(cal["predicted"].max()), float(cal["observed"].max())) * 100 * 1.05
    ax.plot([0, top], [0, top], ls="--", color=_GREY)
    ax.plot(100 * cal["predicted"], 100 * cal["observed"], marker="o", ms=4, color=plots.PALETTE[2])
    ax.set_xlabel(_t(ctx, "model.cal_x"))
    ax.set_ylabel(_t(ctx, "model.cal_y"))
    pct = FuncFormatter(lambda v, _: f"{v:.0f}%")
    ax.xaxis.set_major_formatter(pct)
    ax.yaxis.set_major_formatter(pct)
    ax.set_title(_t(ctx, "model.cal_chart"))


def _plot_importance(ctx: ReportContext, ax: plt.Axes, imp: pd.DataFrame) -> None:
    if imp.empty:
        ax.axis("off")
        return
    y = np.arange(len(imp))[::-1]
    ax.barh(y, imp["importance"].to_numpy(dtype=float), color=plots.PALETTE[1], height=0.6)
    ax.set_yticks(y, [_plain(_importance_label(ctx, f)) for f in imp["feature"]], fontsize=8)
    ax.set_xlabel(_t(ctx, "model.imp_x"))
    ax.set_title(_t(ctx, "model.imp_chart"))
    ax.grid(axis="y", visible=False)


def _importance_label(ctx: ReportContext, feature: str) -> str:
    if feature.startswith("share_cat_"):
        return _t(ctx, "feature.share_cat", name=feature.removeprefix("share_cat_"))
    if feature.startswith("share_ch_"):
        return _t(ctx, "feature.share_ch", name=feature.removeprefix("share_ch_"))
    return churn.feature_label(feature, ctx.language)


def survival_section(ctx: ReportContext, view: ChurnView) -> dict[str, Any] | None:
    """Kaplan-Meier curves after a snapshot (by lifecycle stage, by customer type) and the
    Cox hazard ratios of the cause-model attributes."""
    ctx.heading(f"{P}.survival.title")
    if view.status != "ok":
        ctx.note(f"{P}.survival.none", "info")
        return None
    surv = view.survival
    table = surv.get("table")
    if table is None or "overall" not in surv:
        ctx.note(f"{P}.survival.too_few", "info", minimum=int(view.options["min_customers"]))
        return None
    horizon = int((view.snapshots.score - surv["snapshot"]).days)
    ctx.text(
        f"{P}.survival.intro_{view.definition}",
        snapshot=_date(ctx, surv["snapshot"]),
        n=ctx.number(len(table)),
        events=ctx.number(int(table["event"].sum())),
        days=horizon,
        window=view.window.days,
    )
    panels = [(k, surv[k]) for k in ("by_stage", "by_type") if k in surv and not surv[k].empty]
    if not panels:
        panels = [("overall", surv["overall"])]
    fig, axes = plt.subplots(1, len(panels), figsize=(11, 3.9), squeeze=False, sharey=True)
    for ax, (kind, curves) in zip(axes[0], panels, strict=True):
        for i, (group, curve) in enumerate(curves.groupby("group", sort=False)):
            label = (
                _stage_label(ctx, group)
                if kind == "by_stage"
                else _type_label(ctx, group)
                if kind == "by_type"
                else _t(ctx, "survival.all")
            )
            colour = plots.PALETTE[i % len(plots.PALETTE)]
            ax.step(
                curve["time"],
                100 * curve["survival"],
                where="post",
                color=colour,
                label=_plain(f"{label} ({int(curve['customers'].iloc[0]):,})"),
            )
            ax.fill_between(
                curve["time"],
                100 * curve["ci_low"],
                100 * curve["ci_high"],
                step="post",
                color=colour,
                alpha=0.12,
                lw=0,
            )
        ax.set_xlabel(_t(ctx, "survival.x"))
        ax.set_title(_t(ctx, f"survival.chart.{kind}"))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
        ax.legend(fontsize=8, loc="lower left")
    axes[0][0].set_ylabel(_t(ctx, "survival.y"))
    plots.show_figure(fig)
    if "by_stage" in surv and not surv["by_stage"].empty:
        ends = surv["by_stage"].groupby("group", sort=False).last()
        worst, best = ends["survival"].idxmin(), ends["survival"].idxmax()
        ctx.takeaway(
            f"{P}.survival.takeaway",
            days=horizon,
            worst=_stage_label(ctx, worst),
            worst_share=ui.fmt_pct(1 - float(ends.loc[worst, "survival"]), decimals=0),
            best=_stage_label(ctx, best),
            best_share=ui.fmt_pct(1 - float(ends.loc[best, "survival"]), decimals=0),
        )
    hazards = surv.get("hazards")
    if hazards is None or hazards.empty:
        ctx.note(f"{P}.survival.no_hazards", "info")
        return surv
    ctx.show(ui.heading(_t(ctx, "survival.hazard_title"), level=3))
    hz = hazards.assign(strength=np.abs(np.log(hazards["hazard_ratio"])))
    hz = hz.assign(significant=hz["p_value"] < 0.05).sort_values(
        ["significant", "strength"], ascending=[False, False], kind="mergesort"
    )
    labels = [
        churn.term_label(hz.rename(columns={"hazard_ratio": "odds_ratio"}), f, ctx.language)
        for f in hz["feature"]
    ]
    shown = pd.DataFrame(
        {
            _t(ctx, "col.attribute"): labels,
            _t(ctx, "col.hazard_ratio"): [f"{v:.2f}" for v in hz["hazard_ratio"]],
            _t(ctx, "col.interval"): [
                f"{lo:.2f} – {hi:.2f}" for lo, hi in zip(hz["ci_low"], hz["ci_high"], strict=True)
            ],
            _t(ctx, "col.p_value"): [_fmt_p(p) for p in hz["p_value"]],
        }
    )
    ctx.show(ui.table(shown, muted_rows=~hz["significant"].to_numpy()))
    n, events = surv.get("hazard_n", (len(table), int(table["event"].sum())))
    ctx.text(f"{P}.survival.hazard_legend", n=ctx.number(n), events=ctx.number(events))
    top = hz.loc[hz["significant"]].head(1)
    if not top.empty:
        row = top.iloc[0]
        ctx.takeaway(
            f"{P}.survival.hazard_takeaway",
            feature=labels[0],
            ratio=f"{row['hazard_ratio']:.2f}",
        )
    return surv


def reasons_section(ctx: ReportContext, view: ChurnView) -> pd.DataFrame | None:
    """Pareto chart of the stated churn reasons of the last 12 months."""
    ctx.heading(f"{P}.reasons.title")
    reasons = view.reasons
    if reasons is None or reasons.empty:
        has_column = "churn_reason" in ctx.data.customers.columns
        ctx.note(f"{P}.reasons.{'none' if has_column else 'no_column'}", "info")
        return None
    end = ctx.period.end_exclusive
    total = int(reasons["customers"].sum())
    ctx.text(
        f"{P}.reasons.intro" + ("" if reasons.attrs.get("unstated", 0) else "_all_stated"),
        n=ctx.number(total),
        start=_date(ctx, end - pd.Timedelta(days=365)),
        end=_date(ctx, end - pd.Timedelta(days=1)),
        unstated=ctx.number(reasons.attrs.get("unstated", 0)),
    )
    labels = [_reason_label(ctx, r) for r in reasons["reason"]]
    fig, ax = plt.subplots(figsize=(11, 3.6))
    x = np.arange(len(reasons))
    ax.bar(x, reasons["customers"], color=plots.PALETTE[0], width=0.6)
    for xi, count, share in zip(x, reasons["customers"], reasons["share"], strict=True):
        ax.text(xi, count, f"{int(count):,} ({share:.0%})", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [_plain(v) for v in labels])
    ax.set_ylabel(_t(ctx, "reasons.y"))
    ax.set_ylim(0, reasons["customers"].max() * 1.18)
    ax.grid(axis="x", visible=False)
    twin = ax.twinx()
    twin.plot(x, 100 * reasons["cumulative_share"], color=plots.PALETTE[2], marker="o", ms=4)
    twin.set_ylim(0, 105)
    twin.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    twin.set_ylabel(_t(ctx, "reasons.y2"))
    twin.grid(False)
    ax.set_title(_t(ctx, "reasons.chart"))
    plots.show_figure(fig)
    k = int(np.searchsorted(reasons["cumulative_share"].to_numpy(), 0.8 - 1e-9) + 1)
    k = min(k, len(reasons))
    ctx.takeaway(
        f"{P}.reasons.takeaway",
        top=labels[0],
        top_share=ui.fmt_pct(float(reasons["share"].iloc[0]), decimals=0),
        k=k,
        reasons=_t(ctx, "separator_list").join(labels[:k]),
        share=ui.fmt_pct(float(reasons["cumulative_share"].iloc[k - 1]), decimals=0),
    )
    return reasons


def early_warning_section(ctx: ReportContext, view: ChurnView) -> pd.DataFrame | None:
    """Top of the early-warning list (pseudonymised ids), actions summary, and the export
    ``churn_risk.csv`` (real ids, sorted by value at risk)."""
    ctx.heading(f"{P}.list.title")
    frame = view.warning_list
    if frame is None:
        export = pd.DataFrame(columns=churn.EXPORT_COLUMNS)
        ctx.export(export, "churn_risk.csv")
        if view.status != "no_orders":
            ctx.note(f"{P}.list.none", "info")
        return export
    export = frame[churn.EXPORT_COLUMNS].copy()
    export["churn_probability"] = export["churn_probability"].round(4)
    export["value_at_risk"] = export["value_at_risk"].round(2)
    ctx.export(export, "churn_risk.csv")
    rows = int(view.options["list_rows"])
    ctx.text(
        f"{P}.list.intro_{view.value_source}",
        n=ctx.number(len(frame)),
        rows=rows,
        snapshot=_date(ctx, view.snapshots.score - pd.Timedelta(days=1)),
        days=view.window.days,
    )
    top = frame.head(rows)
    shown = pd.DataFrame(
        {
            _t(ctx, "col.customer"): ctx.pseudonymise(
                top["customer_id"].astype("string")
            ).to_numpy(),
            _t(ctx, "col.stage"): [
                _stage_label(ctx, s) if isinstance(s, str) else "–" for s in top["stage"]
            ],
            _t(ctx, "col.probability"): [
                ui.fmt_pct(p, decimals=0) for p in top["churn_probability"]
            ],
            _t(ctx, "col.value"): [ctx.money(v) for v in top["value"]],
            _t(ctx, "col.value_at_risk"): [ctx.money(v) for v in top["value_at_risk"]],
            _t(ctx, "col.reasons"): [
                _t(ctx, "separator_list").join(r for r in reasons if r)
                for reasons in top[["reason_1", "reason_2", "reason_3"]].itertuples(index=False)
            ],
            _t(ctx, "col.action"): top["action"].to_numpy(),
        }
    )
    ctx.show(ui.table(shown, max_rows=rows))
    total = float(frame["value_at_risk"].sum())
    top_share = float(top["value_at_risk"].sum()) / total if total > 0 else float("nan")
    decile = frame.head(max(1, len(frame) // 10))
    decile_share = float(decile["value_at_risk"].sum()) / total if total > 0 else float("nan")
    ctx.takeaway(
        f"{P}.list.takeaway",
        rows=rows,
        share=ui.fmt_pct(top_share, decimals=0),
        decile_share=ui.fmt_pct(decile_share, decimals=0),
    )
    summary = (
        frame.groupby("action", sort=False)
        .agg(customers=("customer_id", "size"), value_at_risk=("value_at_risk", "sum"))
        .sort_values("value_at_risk", ascending=False)
    )
    ctx.show(ui.heading(_t(ctx, "list.actions_title"), level=3))
    ctx.show(
        ui.table(
            pd.DataFrame(
                {
                    _t(ctx, "col.action"): summary.index,
                    _t(ctx, "col.customers"): [ctx.number(v) for v in summary["customers"]],
                    _t(ctx, "col.value_at_risk"): [ctx.money(v) for v in summary["value_at_risk"]],
                }
            )
        )
    )
    ctx.text(f"{P}.list.actions_legend" + ("" if view.playbook_used else "_no_playbook"))
    ctx.text(f"{P}.list.export", n=ctx.number(len(export)))
    return export


def caveats_section(ctx: ReportContext, view: ChurnView) -> None:
    """How to read the report: associations, not causes."""
    if view.status == "no_orders":
        return
    ctx.heading(f"{P}.caveats.title")
    ctx.text(f"{P}.caveats.associations")
    ctx.text(f"{P}.caveats.use")

"""Churn: leakage-free labels, an interpretable cause model, a predictive risk model,
survival curves, stated reasons and an early-warning list.

Definitions (DESIGN §5 "Churn causes", issue #6)
------------------------------------------------
*Non-contractual* (customers may simply stop buying): a customer is **active** while their
last purchase is less than ``window_days`` old and has **churned** once ``window_days``
pass without a purchase. The window comes from the distribution of gaps between
consecutive purchase days (:func:`churn_window`, by default the 90th percentile clipped
to 30..365 days): a silence longer than nine in ten normal repeat gaps is unusual.
At a snapshot ``s`` the modelling population is every customer with a purchase in the
``lookback_days`` before ``s``; the label is *no purchase in* ``[s, s + window)``.

*Contractual* (the customers table records the end): ``churned`` / ``churn_date`` /
``churn_reason``. At ``s`` the population is every customer not churned before ``s``; the
label is a ``churn_date`` in ``[s, s + window)``.

No leakage: features come from :func:`analysis.features.customer_features`, which reads
only rows dated strictly before the snapshot; the label only reads the window after it.
Validation is out of time (:func:`plan_snapshots`): a model trained at one snapshot is
tested on the labels of a later one; random cross-validation (:func:`random_cv_auc`) may be
shown next to it, never instead.

Models
------
* :func:`churn_drivers` - logistic regression (statsmodels) on any customer-level frame:
  odds ratios per standard deviation (numbers) or vs a reference level (categories), 95%
  intervals, p-values, held-out AUC, VIF, separation handling (Firth's penalised
  likelihood), per-customer contributions and plain-language sentences.
* :class:`ChurnRiskModel` + :func:`evaluate_risk_model` - gradient boosting
  (``HistGradientBoostingClassifier``): AUC, calibration, gains/lift, permutation
  importance, partial dependence.
* :func:`followup_table`, :func:`km_curves`, :func:`hazard_ratios` - Kaplan-Meier curves
  (``SurvfuncRight``) and a Cox model (Efron ties, as statsmodels ``PHReg``) of the time
  to churn after a snapshot.
* :func:`early_warning_list` - churn probability x customer value = value at risk, with
  the top three reasons in words and a recommended action.

Modules: :mod:`~analysis.churn.labels` (window, snapshots, labels, frames, period churn,
stated reasons), :mod:`~analysis.churn.design` (the model matrix),
:mod:`~analysis.churn.drivers` (cause model), :mod:`~analysis.churn.risk` (risk model and
its evaluation), :mod:`~analysis.churn.survival`, :mod:`~analysis.churn.warning`
(value at risk, reasons, actions) and :mod:`~analysis.churn.wording`. The report's
pipeline is :mod:`analysis.pipelines.churn`.

Computation only: nothing here reads files, prints or draws.
"""

from .design import Design
from .drivers import DRIVER_FEATURES, MIN_CUSTOMERS, ChurnDrivers, churn_drivers
from .labels import (
    DEFINITIONS,
    FALLBACK_WINDOW_DAYS,
    ChurnWindow,
    PeriodChurn,
    Snapshots,
    churn_frame,
    churn_labels,
    churn_window,
    period_churn,
    plan_snapshots,
    reason_pareto,
    resolve_definition,
)
from .risk import (
    FIT_SAMPLE,
    ChurnRiskModel,
    RiskEvaluation,
    calibration_table,
    evaluate_risk_model,
    gains_table,
    random_cv_auc,
)
from .survival import HazardModelError, followup_table, hazard_ratios, km_curves
from .warning import EXPORT_COLUMNS, customer_value, early_warning_list, reason_text
from .wording import driver_sentence, feature_label, level_label, sd_text, term_label

__all__ = [
    "DEFINITIONS",
    "DRIVER_FEATURES",
    "EXPORT_COLUMNS",
    "FALLBACK_WINDOW_DAYS",
    "FIT_SAMPLE",
    "MIN_CUSTOMERS",
    "ChurnDrivers",
    "ChurnRiskModel",
    "ChurnWindow",
    "Design",
    "HazardModelError",
    "PeriodChurn",
    "RiskEvaluation",
    "Snapshots",
    "calibration_table",
    "churn_drivers",
    "churn_frame",
    "churn_labels",
    "churn_window",
    "customer_value",
    "driver_sentence",
    "early_warning_list",
    "evaluate_risk_model",
    "feature_label",
    "followup_table",
    "gains_table",
    "hazard_ratios",
    "km_curves",
    "level_label",
    "period_churn",
    "plan_snapshots",
    "random_cv_auc",
    "reason_pareto",
    "reason_text",
    "resolve_definition",
    "sd_text",
    "term_label",
]

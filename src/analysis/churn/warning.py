"""The early-warning list: customer value, churn probability x value = value at risk,
the top reasons in words and a recommended action per customer.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..coerce import as_day
from ..errors import DataError, ModelError, ParamsError
from ..i18n import catalog, t
from ._common import thread_limits
from .design import numeric_column
from .drivers import ChurnDrivers
from .wording import feature_label, level_label

#: Columns of ``exports/churn_risk.csv``, in order. ``reason_feature_N`` is the input column
#: behind ``reason_N`` (``frequency``, ``complaints`` ...), a stable code to filter or count
#: by, where the reason's words carry the customer's own value.
EXPORT_COLUMNS = [
    "customer_id",
    "churn_probability",
    "value_at_risk",
    "reason_1",
    "reason_2",
    "reason_3",
    "action",
    "reason_feature_1",
    "reason_feature_2",
    "reason_feature_3",
]


# --------------------------------------------------------------------------- value, list
def customer_value(
    orders: pd.DataFrame,
    as_of: object,
    *,
    method: str = "clv",
    horizon_months: int = 12,
    discount_rate_annual: float = 0.10,
    history_days: int = 365,
    min_repeat_customers: int = 20,
) -> pd.Series:
    """Value per customer for value at risk: predictive CLV when it can be fitted, else
    the net revenue of the last ``history_days``.

    ``method="clv"``: BG/NBD + Gamma-Gamma (:mod:`analysis.clv`) on the orders before
    ``as_of``, ``horizon_months`` ahead, discounted; falls back to history when a model
    cannot be fitted (too few repeat customers, no convergence). ``"historical"``: net
    revenue in ``[as_of - history_days, as_of)``. ``attrs["source"]`` says which was used.
    """
    from .. import clv, value  # noqa: PLC0415

    s = as_day(as_of, "as_of")
    if method not in ("clv", "historical"):
        raise ParamsError(f"churn value method must be 'clv' or 'historical', got {method!r}")
    recent = orders.loc[
        (orders["order_date"] >= s - pd.Timedelta(days=int(history_days)))
        & (orders["order_date"] < s)
    ]
    historical = (
        recent.assign(customer_id=recent["customer_id"].astype("string"))
        .groupby("customer_id", observed=True)["amount"]
        .sum()
        .clip(lower=0)
        .astype("float64")
    )
    historical.attrs["source"] = "historical"
    if method == "historical":
        return historical
    try:
        with warnings.catch_warnings(), thread_limits(blas=1):
            warnings.simplefilter("ignore")
            summary = value.rfm_summary(
                orders.loc[orders["order_date"] < s], s - pd.Timedelta(days=1)
            )
            summary = summary.loc[summary["T"] > 0]
            bg = clv.BetaGeoModel(min_repeat_customers=min_repeat_customers).fit(summary)
            gg = clv.GammaGammaModel(min_repeat_customers=min_repeat_customers).fit(summary)
            values = clv.customer_lifetime_value(
                bg,
                gg,
                summary,
                horizon_months=horizon_months,
                discount_rate_annual=discount_rate_annual,
            )["clv"]
    except (ModelError, DataError, ValueError, FloatingPointError, np.linalg.LinAlgError):
        return historical
    out = values.astype("float64").clip(lower=0)
    out.index = out.index.astype("string")
    if not np.isfinite(out.to_numpy()).all():
        return historical
    # customers the models cannot value (first purchase on the last day) keep their history
    out = out.combine_first(historical)
    out.index.name = "customer_id"
    out.attrs["source"] = "clv"
    return out


#: Reason key per (feature, direction) -> the action text key (``churn.action.<key>``).
_ACTION_FOR_REASON = {
    ("complaints", "high"): "service_recovery",
    ("satisfaction", "low"): "service_recovery",
    ("satisfaction", "missing"): "check_in",
    ("discount_share", "high"): "value_offer",
    ("tenure_days", "low"): "onboarding",
    ("frequency", "low"): "reengage",
    ("recency_days", "high"): "winback",
    ("return_rate", "high"): "product_fit",
    ("avg_order_value", "high"): "account_care",
    ("avg_order_value", "low"): "reengage",
}


def reason_text(
    feature: str, direction: str, values: np.ndarray, language: str = "en", currency: str = "$"
) -> list[str]:
    """Words for one reason on many customers: ``"3 complaint(s)"``, ``"shorter
    relationship (120 days)"``. ``direction`` is ``high``, ``low``, ``missing`` or ``level``;
    templates may use ``{value}``, ``{pct}`` and ``{money}``. Each distinct shown value is
    formatted once (a million customers share few distinct texts)."""
    names = catalog(language)
    values = np.asarray(values)
    if direction == "level":
        label = feature_label(feature, language)
        levels, inverse = np.unique(values.astype(str), return_inverse=True)
        texts = [
            t(
                "churn.reason.level",
                language,
                feature=label,
                level=level_label(feature, v, language),
            )
            for v in levels
        ]
        return [texts[i] for i in inverse.ravel()]
    key = f"churn.reason.{feature}.{direction}"
    label = ""
    if key not in names:
        key = f"churn.reason.generic.{direction}"
        label = feature_label(feature, language)
    template = names[key]
    if direction == "missing":
        return [template.format(feature=label, value="–", pct="–", money="–")] * len(values)
    x = values.astype("float64")
    # round to what the template shows, so equal texts share one format call
    if "{pct}" in template:
        shown = np.round(x, 2)
    elif "{money}" in template:
        shown = np.round(x, 0)
    else:
        shown = np.where(np.abs(x) >= 10, np.round(x, 0), np.round(x, 1))
    uniques, inverse = np.unique(shown, return_inverse=True)
    texts = []
    for u in uniques:
        if not math.isfinite(u):
            texts.append(template.format(feature=label, value="–", pct="–", money="–"))
            continue
        texts.append(
            template.format(
                feature=label,
                value=f"{u:,.0f}" if abs(u) >= 10 or u == round(u) else f"{u:,.1f}",
                pct=f"{u:.0%}",
                money=f"{'-' if u < 0 else ''}{currency}{abs(u):,.0f}",
            )
        )
    return [texts[i] for i in inverse.ravel()]


def _playbook_actions(
    playbook: Mapping[str, Any] | None, stages: Sequence[str], language: str, separator: str
) -> dict[str, str]:
    """Stage -> the playbook's action line (``lifecycle_stage`` vocabulary), for the stages
    the playbook has an entry for."""
    if not playbook:
        return {}
    from ..playbook import action_for  # noqa: PLC0415

    out = {}
    entries = playbook.get("lifecycle_stage") or {}
    for stage in stages:
        if stage in entries:
            entry = action_for(playbook, "lifecycle_stage", stage, language)
            out[stage] = entry.action_text(separator)
    return out


def early_warning_list(
    frame: pd.DataFrame,
    probability: Sequence[float],
    value: pd.Series,
    drivers: ChurnDrivers | None,
    *,
    stages: pd.Series | None = None,
    playbook: Mapping[str, Any] | None = None,
    playbook_stages: Sequence[str] = ("at_risk", "lapsed"),
    language: str = "en",
    currency: str = "$",
    action_separator: str = "; ",
    top_reasons: int = 3,
) -> pd.DataFrame:
    """Current customers ranked by value at risk, with reasons and an action.

    ``value_at_risk = churn_probability * value`` (value: :func:`customer_value`, 0 when
    unknown). Reasons: the customer's largest positive contributions in the cause model
    (:meth:`ChurnDrivers.contributions`), in words with the customer's own value. The
    action follows the first reason (``churn.action.*``); customers whose lifecycle stage
    (``stages``) is one of ``playbook_stages`` get that stage's action from the
    ``playbook`` (:func:`analysis.playbook.action_for`, vocabulary ``lifecycle_stage``)
    instead: the win-back / retention treatment the business agreed on.

    Returns
    -------
    DataFrame
        :data:`EXPORT_COLUMNS` plus ``value``, ``stage`` and ``reason_feature_1..3``
        (the input columns behind the reasons); sorted by value at risk (ties by id).
    """
    p = np.asarray(probability, dtype="float64")
    if len(p) != len(frame):
        raise ParamsError("one churn probability per customer is needed")
    ids = pd.Index(frame.index.astype("string"), name="customer_id")
    worth = value.reindex(ids).fillna(0.0).to_numpy(dtype="float64")
    out = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "churn_probability": p,
            "value": worth,
            "value_at_risk": p * worth,
        }
    )
    reasons = [[""] * len(frame) for _ in range(top_reasons)]
    reason_features = [[""] * len(frame) for _ in range(top_reasons)]
    first_key = np.array(["default"] * len(frame), dtype=object)
    if drivers is not None and len(frame):
        contrib = drivers.contributions(frame)
        C = contrib.to_numpy(dtype="float64")
        order = np.argsort(-C, axis=1, kind="stable")[:, :top_reasons]
        names = np.asarray(contrib.columns)
        summary = drivers.summary
        kinds = summary.groupby("source")["kind"].agg(lambda k: set(k)).to_dict()
        for rank in range(min(top_reasons, C.shape[1])):
            col_idx = order[:, rank]
            positive = C[np.arange(len(C)), col_idx] > 1e-9
            for j in np.unique(col_idx[positive]):
                rows = np.flatnonzero(positive & (col_idx == j))
                feature = str(names[j])
                source = frame[feature]
                if "level" in kinds.get(feature, set()):
                    direction = np.array(["level"] * len(rows), dtype=object)
                    raw = source.iloc[rows].to_numpy(dtype=object)
                else:
                    kind = (
                        "numeric_text" if feature in drivers.fit_.design.numeric_text else "numeric"
                    )
                    raw = numeric_column(source.iloc[rows], kind).to_numpy(dtype="float64")
                    mean = drivers.fit_.design.means.get(feature, 0.0)
                    direction = np.where(
                        np.isnan(raw), "missing", np.where(raw >= mean, "high", "low")
                    ).astype(object)
                for d in np.unique(direction):
                    sub = rows[direction == d]
                    texts = reason_text(feature, str(d), raw[direction == d], language, currency)
                    for r, text in zip(sub, texts, strict=True):
                        reasons[rank][r] = text
                        reason_features[rank][r] = feature
                    if rank == 0:
                        first_key[sub] = _ACTION_FOR_REASON.get((feature, str(d)), "default")
    for rank in range(top_reasons):
        out[f"reason_{rank + 1}"] = reasons[rank]
        out[f"reason_feature_{rank + 1}"] = reason_features[rank]
    action_texts = {k: t(f"churn.action.{k}", language) for k in set(first_key)}
    actions = np.array([action_texts[k] for k in first_key], dtype=object)
    stage_values = (
        stages.reindex(ids).astype("object").to_numpy()
        if stages is not None
        else np.full(len(frame), None, dtype=object)
    )
    stage_actions = _playbook_actions(playbook, playbook_stages, language, action_separator)
    for stage, text in stage_actions.items():
        actions[stage_values == stage] = text
    out["action"] = actions
    out["stage"] = stage_values
    out = out.sort_values(
        ["value_at_risk", "churn_probability", "customer_id"],
        ascending=[False, False, True],
        kind="mergesort",
    ).reset_index(drop=True)
    return out

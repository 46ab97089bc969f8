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
from ..display import fmt_money
from ..errors import DataError, ModelError, ParamsError
from ..i18n import catalog, t
from ._common import thread_limits
from .design import category_values, numeric_column
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
    feature: str,
    direction: str,
    values: np.ndarray,
    language: str = "en",
    currency: str = "$",
    *,
    typical: object = None,
    scale_max: float = 5,
    scheme: str | None = None,
) -> list[str]:
    """Words for one reason on many customers: ``"3 complaint(s)"``, ``"shorter
    relationship (120 days)"``. ``direction`` is ``high``, ``low``, ``missing`` or ``level``;
    templates may use ``{value}``, ``{pct}``, ``{money}`` and ``{scale_max}`` (the top of
    the satisfaction scale). With ``typical`` (the retained customers' median, for
    ``high`` / ``low``) the words add it: ``"shorter relationship (120 days) vs 900 for
    customers who stay"``. Each distinct shown value is formatted once (a million
    customers share few distinct texts). ``scheme="subscription"`` reads in bills (a
    ``<key>_subscription`` template or feature name where the catalog has one)."""
    names = catalog(language)
    values = np.asarray(values)
    if direction == "level":
        label = feature_label(feature, language, scheme=scheme)
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
    if scheme == "subscription" and f"{key}_subscription" in names:
        key = f"{key}_subscription"
    label = ""
    if key not in names:
        key = f"churn.reason.generic.{direction}"
        label = feature_label(feature, language, scheme=scheme)
    template = names[key]
    scale = _number(scale_max)
    if direction == "missing":
        text = template.format(feature=label, value="–", pct="–", money="–", scale_max=scale)
        return [text] * len(values)
    x = values.astype("float64")
    # round to what the template shows, so equal texts share one format call
    if "{pct}" in template:
        shown = np.round(x, 2)
    elif "{money}" in template:
        shown = np.round(x, 0)
    else:
        shown = np.where(np.abs(x) >= 10, np.round(x, 0), np.round(x, 1))
    suffix = ""
    if typical is not None and isinstance(typical, int | float) and math.isfinite(typical):
        suffix = t(
            "churn.reason.vs_typical",
            language,
            typical=_shown(template, float(typical), currency, language)["shown"],
        )
    uniques, inverse = np.unique(shown, return_inverse=True)
    texts = []
    for u in uniques:
        if not math.isfinite(u):
            texts.append(
                template.format(feature=label, value="–", pct="–", money="–", scale_max=scale)
            )
            continue
        texts.append(
            template.format(
                feature=label, scale_max=scale, **_shown(template, float(u), currency, language)
            )
            + suffix
        )
    return [texts[i] for i in inverse.ravel()]


def _number(u: float) -> str:
    return f"{u:,.0f}" if abs(u) >= 10 or u == round(u) else f"{u:,.1f}"


def _shown(template: str, u: float, currency: str, language: str = "en") -> dict[str, str]:
    """``value``, ``pct`` and ``money`` of one number, and ``shown``: the one the template
    uses (to quote the typical value the same way). Money is written the report
    language's way (``$1,329``; ``1,329元`` / ``1,329美元`` in Chinese)."""
    out = {
        "value": _number(u),
        "pct": f"{u:.0%}",
        "money": fmt_money(u, currency, language=language),
    }
    used = "pct" if "{pct}" in template else ("money" if "{money}" in template else "value")
    out["shown"] = out[used]
    return {**out}


def _playbook_actions(
    playbook: Mapping[str, Any] | None,
    stages: Sequence[str],
    language: str,
    separator: str,
    available: Sequence[str] | None = None,
    scheme: str | None = None,
) -> dict[str, str]:
    """Stage -> the playbook's action line (``lifecycle_stage`` vocabulary; a billed unit's
    ``for_subscriptions`` entry where there is one), for the stages the playbook has an
    entry for."""
    if not playbook:
        return {}
    from ..playbook import action_for  # noqa: PLC0415

    out = {}
    entries = playbook.get("lifecycle_stage") or {}
    for stage in stages:
        if stage in entries:
            entry = action_for(
                playbook,
                "lifecycle_stage",
                stage,
                language,
                scheme=scheme or "transactional",
                available=available,
            )
            out[stage] = entry.action_text(separator)
    return out


#: Defaults of the early-warning reasons (see :func:`early_warning_list`).
REASON_MIN_EFFECT = 0.2
REASON_UNUSUAL_SHARE = 0.25
REASON_UNUSUAL_LEVEL_SHARE = 0.5
REASON_MAX_SHARED = 0.9
#: A trait is only called "shared by the high-risk group" among at least this many.
REASON_MIN_GROUP = 20


def early_warning_list(
    frame: pd.DataFrame,
    probability: Sequence[float],
    value: pd.Series,
    drivers: ChurnDrivers | None,
    *,
    stages: pd.Series | None = None,
    playbook: Mapping[str, Any] | None = None,
    playbook_stages: Sequence[str] = ("at_risk", "lapsed"),
    available: Sequence[str] | None = None,
    language: str = "en",
    currency: str = "$",
    action_separator: str = "; ",
    top_reasons: int = 3,
    high_risk: float = 0.5,
    alpha: float = 0.05,
    min_effect: float = REASON_MIN_EFFECT,
    unusual_share: float = REASON_UNUSUAL_SHARE,
    unusual_level_share: float = REASON_UNUSUAL_LEVEL_SHARE,
    max_shared: float = REASON_MAX_SHARED,
    satisfaction_scale: tuple[float, float] = (1, 5),
    scheme: str | None = None,
) -> pd.DataFrame:
    """Current customers ranked by value at risk, with reasons and an action (the
    reasons read in bills when ``scheme`` is ``"subscription"``).

    ``value_at_risk = churn_probability * value`` (value: :func:`customer_value`, 0 when
    unknown).

    **Reasons** say what sets this customer apart from the customers who stay, on an
    attribute the cause model links to churn. An attribute is a reason for a customer
    when all of these hold:

    * the cause model links it to churn (an identified term with p < ``alpha``);
    * it raises this customer's risk against a typical retained customer: the
      customer's part of the log-odds (:meth:`ChurnDrivers.feature_scores`) minus the
      median part among the retained customers of the fit is at least ``min_effect``
      (0.2: odds about 1.22 times higher). A value on the side that lowers risk, or a
      coefficient near zero, is never a reason;
    * the customer's value is unusual among the retained customers: at most
      ``unusual_share`` of them (a quarter) are as risky on it (numbers), or at most
      ``unusual_level_share`` (half) share the level or a riskier one (categories, and
      "not known"). A value most stayers have (no returns, the usual tenure of a cohort)
      is never a reason;
    * it is not the same for nearly the whole high-risk group: a reason whose words are
      the same ("Contract: Month-to-month", "longer relationship (518 days)") for more
      than ``max_shared`` of the customers with a probability of at least ``high_risk``
      (when there are 20 or more) tells them apart from nobody on the list. It is taken out of the rows and returned once in
      ``attrs["shared_reasons"]``; it still chooses the action of the customers who
      carry it and have no reason of their own.

    Up to ``top_reasons`` reasons per customer, the strongest first, in words with the
    customer's value and the retained customers' typical one. A customer may have none.
    The action follows the first reason (``churn.action.*``); customers whose lifecycle
    stage (``stages``) is one of ``playbook_stages`` get that stage's action from the
    ``playbook`` (:func:`analysis.playbook.action_for`, vocabulary ``lifecycle_stage``)
    instead: the win-back / retention treatment the business agreed on.

    Returns
    -------
    DataFrame
        :data:`EXPORT_COLUMNS` plus ``value``, ``stage`` and ``reason_feature_1..3``
        (the input columns behind the reasons); sorted by value at risk (ties by id).
        ``attrs["shared_reasons"]``: list of dicts ``feature``, ``direction``,
        ``level``, ``share`` (of the high-risk group), ``customers`` and ``text``.
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
    shared: list[dict[str, Any]] = []
    if drivers is not None and drivers.retained_ is not None and len(frame):
        picked, keys, raws, shared, carried = _pick_reasons(
            frame,
            p,
            drivers,
            top=top_reasons,
            high_risk=high_risk,
            alpha=alpha,
            min_effect=min_effect,
            unusual_share=unusual_share,
            unusual_level_share=unusual_level_share,
            max_shared=max_shared,
        )
        profile = drivers.retained_
        for rank in range(picked.shape[1]):
            col_idx = picked[:, rank]
            for j in np.unique(col_idx[col_idx >= 0]):
                rows = np.flatnonzero(col_idx == j)
                feature = str(drivers.features_[j])
                direction = keys[j][rows]
                for d in np.unique(direction):
                    sub = rows[direction == d]
                    texts = reason_text(
                        feature,
                        str(d),
                        raws[j][sub],
                        language,
                        currency,
                        typical=profile.typical.get(feature) if d in ("high", "low") else None,
                        scale_max=satisfaction_scale[1],
                        scheme=scheme,
                    )
                    for r, text in zip(sub, texts, strict=True):
                        reasons[rank][r] = text
                        reason_features[rank][r] = feature
                    if rank == 0:
                        first_key[sub] = _ACTION_FOR_REASON.get((feature, str(d)), "default")
        # a shared reason is not repeated in the rows, but still chooses the action of
        # those without a reason of their own
        for carriers, feature, direction in carried:
            alone = carriers & (picked[:, 0] < 0) & (first_key == "default")
            first_key[alone] = _ACTION_FOR_REASON.get((feature, direction), "default")
        for item in shared:
            item["text"] = reason_text(
                item["feature"],
                item["direction"],
                np.asarray([item["level"] if item["direction"] == "level" else item["value"]]),
                language,
                currency,
                scale_max=satisfaction_scale[1],
                scheme=scheme,
            )[0]
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
    # ``available`` (analysis.playbook.data_available): no "resolve open complaints"
    # where no complaint is logged
    stage_actions = _playbook_actions(
        playbook, playbook_stages, language, action_separator, available, scheme
    )
    for stage, text in stage_actions.items():
        actions[stage_values == stage] = text
    out["action"] = actions
    out["stage"] = stage_values
    out = out.sort_values(
        ["value_at_risk", "churn_probability", "customer_id"],
        ascending=[False, False, True],
        kind="mergesort",
    ).reset_index(drop=True)
    out.attrs["shared_reasons"] = shared
    return out


def _pick_reasons(
    frame: pd.DataFrame,
    p: np.ndarray,
    drivers: ChurnDrivers,
    *,
    top: int,
    high_risk: float,
    alpha: float,
    min_effect: float,
    unusual_share: float,
    unusual_level_share: float,
    max_shared: float,
) -> tuple[
    np.ndarray,
    list[np.ndarray],
    list[np.ndarray],
    list[dict[str, Any]],
    list[tuple[np.ndarray, str, str]],
]:
    """The reasons of :func:`early_warning_list`: per customer the indices (into
    ``drivers.features_``) of up to ``top`` reasons (-1: none), and per feature the
    reason key (``high``/``low``/``missing``/``level``) and raw value of each customer,
    and the reasons the high-risk group shares (with the rows that carry each)."""
    profile = drivers.retained_
    features = list(drivers.features_)
    scores = drivers.feature_scores(frame).to_numpy(dtype="float64")
    n, k = scores.shape
    effect = np.full((n, k), -np.inf)
    eligible = np.zeros((n, k), dtype=bool)
    keys: list[np.ndarray] = []
    raws: list[np.ndarray] = []
    groups: list[np.ndarray] = []  # what two customers must share to share the reason
    significant = drivers.significant_features(alpha)
    design = drivers.fit_.design
    for j, feature in enumerate(features):
        source = frame[feature]
        if feature in design.means:  # a number (maybe with a missing indicator)
            kind = "numeric_text" if feature in design.numeric_text else "numeric"
            raw = numeric_column(source, kind).to_numpy(dtype="float64")
            missing = np.isnan(raw)
            typical = profile.typical.get(feature, np.nan)
            key = np.where(missing, "missing", np.where(raw >= typical, "high", "low"))
            # two customers share a reason when its words are the same ("518 days")
            group = np.asarray(key, dtype=object).copy()
            for d in ("high", "low"):
                rows = key == d
                if rows.any():
                    group[rows] = reason_text(feature, d, raw[rows], "en")
        else:
            raw = category_values(source).to_numpy(dtype=object)
            missing = np.zeros(n, dtype=bool)
            key = np.full(n, "level", dtype=object)
            group = raw.astype(str)
        keys.append(key.astype(object))
        raws.append(raw)
        groups.append(np.asarray(group).astype(str))
        if feature not in significant:
            continue
        lift = scores[:, j] - profile.baseline.get(feature, 0.0)
        share = profile.share_at_least(feature, scores[:, j])
        limit = np.where(missing | (key == "level"), unusual_level_share, unusual_share)
        eligible[:, j] = (lift >= min_effect) & (share <= limit)
        effect[:, j] = lift
    shared: list[dict[str, Any]] = []
    carried: list[tuple[np.ndarray, str, str]] = []
    high = p >= high_risk
    if high.sum() >= REASON_MIN_GROUP:
        for j, feature in enumerate(features):
            rows = eligible[:, j] & high
            if not rows.any():
                continue
            values, counts = np.unique(groups[j][rows], return_counts=True)
            for value, count in zip(values, counts, strict=True):
                share = count / high.sum()
                if share <= max_shared:
                    continue
                carriers = eligible[:, j] & (groups[j] == value)
                eligible[carriers, j] = False
                direction = str(keys[j][carriers][0])
                carried.append((carriers, feature, direction))
                level = raws[j][carriers][0] if direction == "level" else None
                numbers = raws[j][carriers & high] if direction != "level" else None
                shared.append(
                    {
                        "feature": feature,
                        "direction": direction,
                        "level": level,
                        "value": float(np.nanmedian(numbers))
                        if numbers is not None and direction != "missing"
                        else float("nan"),
                        "share": float(share),
                        "customers": int(count),
                    }
                )
    effect = np.where(eligible, effect, -np.inf)
    order = np.argsort(-effect, axis=1, kind="stable")[:, :top]
    chosen = np.take_along_axis(eligible, order, axis=1)
    picked = np.where(chosen, order, -1)
    # reasons fill the first columns: a customer with one reason has it in reason_1
    picked = _compact(picked)
    return picked, keys, raws, shared, carried


def _compact(picked: np.ndarray) -> np.ndarray:
    """Move each row's reasons (>= 0) to its first columns, keeping their order."""
    out = np.full_like(picked, -1)
    valid = picked >= 0
    position = np.cumsum(valid, axis=1) - 1
    rows, cols = np.nonzero(valid)
    out[rows, position[rows, cols]] = picked[rows, cols]
    return out

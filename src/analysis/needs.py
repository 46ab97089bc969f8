"""Primary need per customer: price, quality, service or convenience (issue #18).

The rule is a transparent scorecard, not a fitted black box:

1. Each **signal** of :data:`SIGNALS` is measured per customer from the data that exists
   (orders, interactions, linked survey answers) up to the snapshot. Shares and rates are
   shrunk towards the population value (:data:`PRIOR_ORDERS` pseudo-orders,
   :data:`PRIOR_YEARS` pseudo-years), so one order or one complaint does not decide.
2. Every signal is standardised over the customers (z-score); a signal whose data is missing
   or constant is left out.
3. A need's score is the weighted sum of its signals' z-scores (weights in :data:`SIGNALS`),
   standardised over the customers: how much the need stands out in this customer against
   the others. Each score carries its uncertainty (the posterior spread left by the
   shrinkage: a customer with one order has a wide one).
4. From the scores and their spreads, :func:`need_probabilities` gives the probability that
   each need is the customer's strongest (independent normal posteriors, Gauss-Hermite
   quadrature). The **primary need** is the need whose probability is largest against its
   share of the whole base (``P_k / mean(P_k)``: the decision that maximises the expected
   balanced accuracy, so a need that is harder to measure is not drowned out by the others);
   the **confidence** is the probability of the chosen need (calibrated: on the sample,
   customers with confidence 0.8 are right about 80% of the time); the **evidence** is the
   signal that contributed most to the chosen need's score.

Survey answers link to a customer through ``customer_id``. A rating column maps to a need by
its name (:data:`RATING_KEYWORDS`). Its *importance* is its correlation with the overall
score (``nps``, else ``csat``, else the mean rating) over all answers; a customer's survey
signal for that need is how closely the rating moves with the customer's own overall score
(``-|z(rating) - z(overall)|``: the attribute that explains the customer's verdict), weighted
by the importance. Survey-only data gets needs from the survey alone.

Every function is pure: DataFrames in, new DataFrames out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

__all__ = [
    "DIGITAL_KEYWORDS",
    "NEEDS",
    "RATING_KEYWORDS",
    "SIGNALS",
    "NeedSignals",
    "Signal",
    "balanced_accuracy",
    "classify_needs",
    "classify_signals",
    "need_probabilities",
    "need_scores",
    "need_signals",
    "premium_categories",
    "rating_needs",
]

NEEDS = ("price", "quality", "service", "convenience")
#: Quadrature nodes of :func:`need_probabilities` (mean error about 1e-4; at most about 0.02
#: when one need's spread is a tenth of another's).
QUADRATURE_NODES = 40
_CHUNK = 50_000  # customers per quadrature block
#: Fewest repeat observations (sum of n - 1 over customers) to estimate the noise of a
#: signal from the data; with fewer, :data:`FALLBACK_NOISE_SHARE` of its variance is noise.
MIN_REPEAT_DOF = 10
FALLBACK_NOISE_SHARE = 0.5
#: Channel names (lower case, substring match) that count as convenient ordering.
DIGITAL_KEYWORDS = (
    "web",
    "app",
    "online",
    "mobile",
    "internet",
    "digital",
    "ecommerce",
    "e-commerce",
    "delivery",
    "线上",
    "网",
    "小程序",
    "电商",
    "外卖",
    "配送",
)
#: Rating-name keywords (lower case, substring match) of each need, checked in this order.
RATING_KEYWORDS: dict[str, tuple[str, ...]] = {
    "price": ("price", "value", "cost", "fee", "价格", "价", "费"),
    "quality": ("quality", "product", "质量", "品质", "产品"),
    "service": ("service", "support", "staff", "agent", "服务", "客服"),
    "convenience": (
        "delivery",
        "website",
        "app",
        "convenien",
        "speed",
        "ease",
        "checkout",
        "配送",
        "便利",
        "便捷",
        "网站",
        "物流",
    ),
}
_CONTACT_TYPES = ("inquiry", "call", "email")


@dataclass(frozen=True)
class Signal:
    """One measured signal of a need.

    Attributes
    ----------
    name
        Column name in :func:`need_signals`' output.
    need
        The need it points to.
    weight
        Its weight in the need's score.
    sign
        +1 when a high value points to the need, -1 when a low value does.
    kind
        ``"share"`` (shown as a percentage), ``"rate"`` (per year), ``"index"`` or
        ``"survey"``.
    """

    name: str
    need: str
    weight: float
    sign: int = 1
    kind: str = "share"


#: The scorecard. ``price_tier`` appears twice: a high price tier points to quality, a low
#: one to price.
SIGNALS: tuple[Signal, ...] = (
    Signal("discount_share", "price", 1.0),
    Signal("promotion_response", "price", 1.0),
    Signal("price_tier", "price", 0.5, -1, "index"),
    Signal("premium_share", "quality", 1.0),
    Signal("price_tier", "quality", 0.5, 1, "index"),
    Signal("complaint_rate", "service", 1.0, 1, "rate"),
    Signal("contact_rate", "service", 0.25, 1, "rate"),
    Signal("digital_share", "convenience", 1.0),
    Signal("off_hours_share", "convenience", 0.5),
    Signal("survey_price", "price", 0.5, 1, "survey"),
    Signal("survey_quality", "quality", 0.5, 1, "survey"),
    Signal("survey_service", "service", 0.5, 1, "survey"),
    Signal("survey_convenience", "convenience", 0.5, 1, "survey"),
)


@dataclass(frozen=True)
class NeedSignals:
    """Measured signals: values, their sampling variances, the survey importances and the
    premium categories of the quality signal."""

    values: pd.DataFrame
    variances: pd.DataFrame
    importances: Mapping[str, float]
    premium: tuple[str, ...] = ()


def premium_categories(orders: pd.DataFrame) -> tuple[str, ...]:
    """The premium categories: the top third (at least one) of the categories by mean
    completed order amount, when the orders carry at least two categories.

    Examples
    --------
    >>> orders = pd.DataFrame({"product_category": list("aabbc"), "amount": [9, 11, 1, 1, 5]})
    >>> premium_categories(orders)
    ('a',)
    """
    if "product_category" not in orders.columns:
        return ()
    sales = _sales(orders)
    means = sales.groupby("product_category")["amount"].mean().dropna()
    if len(means) < 2:
        return ()
    top = max(1, math.ceil(len(means) / 3))
    ranked = means.sort_values(ascending=False, kind="stable")
    return tuple(str(c) for c in ranked.index[:top])


def _sales(orders: pd.DataFrame) -> pd.DataFrame:
    """Completed sale rows (no cancellations, no refunds)."""
    keep = orders["amount"] > 0
    if "status" in orders.columns:
        keep &= orders["status"].fillna("completed").astype(str).eq("completed")
    return orders.loc[keep]


def _is_digital(channels: pd.Series, names: Sequence[str] | None) -> pd.Series:
    text = channels.fillna("").astype(str).str.lower()
    if names is not None:
        return text.isin([str(n).lower() for n in names])
    pattern = "|".join(DIGITAL_KEYWORDS)
    return text.str.contains(pattern, regex=True)


def _customer_means(
    values: pd.Series, codes: np.ndarray, customers: pd.Index
) -> tuple[pd.Series, pd.Series]:
    """Per customer: the mean of per-order ``values`` and its sampling variance (the pooled
    within-customer variance over the customer's number of orders).

    ``codes, customers`` is :func:`pandas.factorize` of the rows' customer ids (-1: no
    customer, left out): grouping by the integer codes instead of the Arrow-backed ids
    gives the same means without hashing the ids again for every signal.
    """
    known = codes >= 0
    grouped = values[known].groupby(codes[known])
    mean = grouped.mean()
    n = grouped.size().astype(float)
    centred = values - np.where(known, mean.to_numpy()[codes], np.nan)
    mean.index = n.index = customers
    dof = float((n - 1).sum())
    if dof >= MIN_REPEAT_DOF:
        within = float((centred**2).sum()) / dof
    else:  # too few repeat answers to tell noise from difference: assume half is noise
        within = FALLBACK_NOISE_SHARE * float(values.var() or 0.0)
    return mean, within / n


def rating_needs(columns: Sequence[str]) -> dict[str, str]:
    """Rating column -> need, by :data:`RATING_KEYWORDS` (the first need whose keyword is
    in the column name); columns matching no need are left out.

    Examples
    --------
    >>> rating_needs(["rating_price", "rating_delivery", "rating_mood"])
    {'rating_price': 'price', 'rating_delivery': 'convenience'}
    """
    found = {}
    for column in columns:
        name = str(column).lower().removeprefix("rating_")
        for need, words in RATING_KEYWORDS.items():
            if any(w in name for w in words):
                found[column] = need
                break
    return found


def need_signals(
    orders: pd.DataFrame | None,
    as_of: pd.Timestamp,
    *,
    interactions: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    premium: Sequence[str] | None = None,
    digital_channels: Sequence[str] | None = None,
) -> NeedSignals:
    """Raw need signals per customer from the rows dated before ``as_of``.

    Parameters
    ----------
    orders
        Clean orders (``customer_id``, ``order_date``, ``amount``; optional ``status``,
        ``discount``, ``product_category``, ``channel``) or None.
    as_of
        Snapshot: rows on or after it are not used.
    interactions
        Optional interactions (``customer_id``, ``date``, ``type``).
    surveys
        Optional survey responses (``customer_id``, ``response_date``, ``rating_*``,
        ``nps``/``csat``); anonymous answers only count towards the importances.
    premium
        Premium categories (default :func:`premium_categories` of the orders).
    digital_channels
        Channel values that count as digital (default: :data:`DIGITAL_KEYWORDS`).

    Returns
    -------
    NeedSignals
        ``values``: one row per customer (index ``customer_id``) with the signal columns
        whose data exists (names of :data:`SIGNALS`; a customer's mean per order, rate per
        year or mean survey score); ``variances``: the sampling variance of each value;
        ``importances``: rating column -> correlation with the overall score;
        ``premium``: the premium categories used (``premium``, else those of
        :func:`premium_categories` of the completed sales before ``as_of``).
    """
    as_of = pd.Timestamp(as_of)
    values: dict[str, pd.Series] = {}
    variances: dict[str, pd.Series] = {}
    importances: dict[str, float] = {}
    premium_used = tuple(premium) if premium is not None else ()
    if orders is not None and len(orders):
        found = _order_signals(orders, as_of, interactions, premium, digital_channels)
        values.update(found[0])
        variances.update(found[1])
        premium_used = found[2]
    if surveys is not None and len(surveys):
        found_values, found_variances, importances = _survey_signals(surveys, as_of)
        values.update(found_values)
        variances.update(found_variances)
    table = pd.DataFrame(values)
    noise = pd.DataFrame(variances).reindex(index=table.index, columns=table.columns)
    table.index.name = noise.index.name = "customer_id"
    if table.empty:
        table = table.set_axis(table.index.astype("string"))
        noise = noise.set_axis(noise.index.astype("string"))
    return NeedSignals(table.sort_index(), noise.sort_index(), importances, premium_used)


def _order_signals(
    orders: pd.DataFrame,
    as_of: pd.Timestamp,
    interactions: pd.DataFrame | None,
    premium: Sequence[str] | None,
    digital_channels: Sequence[str] | None,
) -> tuple[dict[str, pd.Series], dict[str, pd.Series], tuple[str, ...]]:
    sales = _sales(orders.loc[pd.to_datetime(orders["order_date"]) < as_of])
    values: dict[str, pd.Series] = {}
    variances: dict[str, pd.Series] = {}
    tops = tuple(premium) if premium is not None else ()
    if sales.empty:
        return values, variances, tops
    codes, customers = pd.factorize(sales["customer_id"].astype(str), sort=True)
    customers = customers.rename("customer_id")

    def add(name: str, per_order: pd.Series) -> None:
        values[name], variances[name] = _customer_means(per_order.astype(float), codes, customers)

    if "discount" in sales.columns and sales["discount"].fillna(0).gt(0).any():
        discount = sales["discount"].fillna(0.0).clip(lower=0.0)
        add("discount_share", discount / (sales["amount"] + discount))
        add("promotion_response", discount.gt(0))
    has_category = "product_category" in sales.columns and sales["product_category"].notna().any()
    if has_category:
        if premium is None:
            tops = premium_categories(sales)
        if tops:
            add("premium_share", sales["product_category"].astype("string").isin(list(tops)))
        group = sales["product_category"].astype("string").fillna("_none")
    else:
        group = pd.Series("_all", index=sales.index)
    # the price level before any discount: a net amount would count the discount twice
    gross = sales["amount"].astype(float)
    if "discount" in sales.columns:
        gross = gross + sales["discount"].fillna(0.0).clip(lower=0.0)
    index = np.log(gross / gross.groupby(group).transform("median"))
    if index.std() > 0:
        add("price_tier", index)
    if "channel" in sales.columns and sales["channel"].notna().any():
        digital = _is_digital(sales["channel"], digital_channels)
        if digital.any() and not digital.all():
            add("digital_share", digital)
    when = pd.to_datetime(sales["order_date"])
    if (when != when.dt.normalize()).any():  # order times exist: evenings and weekends
        hour = when.dt.hour
        add("off_hours_share", (when.dt.dayofweek >= 5) | (hour < 8) | (hour >= 20))
    if interactions is not None and len(interactions) and "type" in interactions.columns:
        known = codes >= 0
        first = when[known].groupby(codes[known]).min().set_axis(customers)
        years = (as_of - first).dt.days.clip(lower=30) / 365.25
        rows = interactions.loc[pd.to_datetime(interactions["date"]) < as_of]
        kind = rows["type"].astype("string").str.lower().fillna("")
        # each interaction's customer among those with sales (-1: none, not counted)
        who = customers.get_indexer(rows["customer_id"].astype(str))
        for column, mask in (
            ("complaint_rate", kind.eq("complaint")),
            ("contact_rate", kind.isin(_CONTACT_TYPES)),
        ):
            if mask.any():
                hits = who[mask.to_numpy() & (who >= 0)]
                count = pd.Series(np.bincount(hits, minlength=len(customers)), index=customers)
                rate = count.astype(float) / years
                values[column] = rate
                variances[column] = max(float(rate.mean()), 1e-12) / years  # Poisson
    return values, variances, tops


def _survey_signals(
    surveys: pd.DataFrame, as_of: pd.Timestamp
) -> tuple[dict[str, pd.Series], dict[str, pd.Series], dict[str, float]]:
    rows = surveys.loc[pd.to_datetime(surveys["response_date"]) < as_of]
    mapping = rating_needs([c for c in rows.columns if str(c).startswith("rating_")])
    mapping = {c: k for c, k in mapping.items() if rows[c].notna().sum() >= 3}
    if not mapping or rows.empty:
        return {}, {}, {}
    ratings = rows[list(mapping)].astype(float)
    overall = None
    for column in ("nps", "csat"):
        if column in rows.columns and rows[column].notna().sum() >= 3:
            overall = rows[column].astype(float)
            break
    if overall is None:
        overall = ratings.mean(axis=1)

    def z(x: pd.Series) -> pd.Series:
        sd = x.std()
        return (x - x.mean()) / sd if sd and sd > 0 else x * np.nan

    importances = {c: float(ratings[c].corr(overall)) for c in mapping}
    zo = z(overall)
    linked = rows["customer_id"].notna()
    ids = rows.loc[linked, "customer_id"].astype(str)
    values: dict[str, pd.Series] = {}
    variances: dict[str, pd.Series] = {}
    for need in NEEDS:
        per_column = []
        for c in (c for c, k in mapping.items() if k == need):
            weight = max(importances[c], 0.0) if math.isfinite(importances[c]) else 0.0
            per_column.append(-(z(ratings[c]) - zo).abs() * weight)
        if not per_column:
            continue
        score = pd.concat(per_column, axis=1).mean(axis=1).loc[linked].dropna()
        if score.empty:
            continue
        name = f"survey_{need}"
        codes, customers = pd.factorize(ids.loc[score.index], sort=True)
        values[name], variances[name] = _customer_means(
            score, codes, customers.rename("customer_id")
        )
    return values, variances, importances


def need_scores(signals: NeedSignals) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Standardised signals (empirical-Bayes z-scores) and the need scores.

    A customer's value ``x`` with sampling variance ``v`` becomes
    ``z = B (x - mu) / tau`` with ``B = tau^2 / (tau^2 + v)``: ``mu`` is the mean over the
    customers and ``tau^2`` the between-customer variance (the variance of the values less
    their mean sampling variance). A customer with little data is pulled towards zero, so
    one order or one complaint does not decide; a customer without a value of a signal gets
    zero (the population mean). Signals that do not vary are left out.

    Returns
    -------
    (DataFrame, DataFrame)
        The z-scores of the signals used (same index as ``signals.values``) and the need
        scores (columns :data:`NEEDS`: the weighted sum of the need's signals, standardised
        over the customers; NaN for a need without any signal in the data).
        ``scores.attrs["spread"]`` holds the posterior standard deviation of each score
        (same shape, on the same scale) for :func:`need_probabilities`.
    """
    table = signals.values
    kinds = {s.name: s.kind for s in SIGNALS}
    z = pd.DataFrame(index=table.index)
    # posterior variance of each standardised signal: 1 - B (all prior when missing)
    unknown = pd.DataFrame(index=table.index)
    for column in table.columns:
        x = table[column].astype(float)
        v = signals.variances[column].astype(float).reindex(x.index)
        present = x.notna()
        if present.sum() < 2:
            continue
        mu = float(x[present].mean())
        tau2 = float(x[present].var()) - float(v[present].mean())
        if not tau2 > 0:
            continue
        shrink = tau2 / (tau2 + v.fillna(0.0))
        if kinds.get(column) == "rate":  # skewed: the log of the shrunk rate
            shrunk = np.log((mu + shrink * (x - mu)).clip(lower=1e-9)).fillna(np.log(mu))
            sd = float(shrunk.std())
            z[column] = (shrunk - shrunk.mean()) / sd if sd > 0 else shrunk * 0.0
        else:
            z[column] = (shrink * (x - mu) / math.sqrt(tau2)).fillna(0.0)
        unknown[column] = (1.0 - shrink).where(present, 1.0)
    scores = pd.DataFrame(index=table.index, columns=list(NEEDS), dtype=float)
    spread = pd.DataFrame(index=table.index, columns=list(NEEDS), dtype=float)
    for need in NEEDS:
        used = [s for s in SIGNALS if s.need == need and s.name in z.columns]
        if not used:
            continue
        score = sum(s.weight * s.sign * z[s.name] for s in used)
        variance = sum(s.weight**2 * unknown[s.name] for s in used)
        # standardised over the customers: how much the need stands out in a customer
        # against the others, whichever signals measure it and however precisely
        sd = float(score.std()) if len(score) > 1 else 0.0
        scores[need] = score / sd if sd > 0 else score * 0.0
        spread[need] = np.sqrt(variance) / sd if sd > 0 else np.sqrt(variance)
    scores.attrs["spread"] = spread
    return z, scores


def need_probabilities(
    scores: pd.DataFrame, spread: pd.DataFrame, *, nodes: int = QUADRATURE_NODES
) -> pd.DataFrame:
    """Probability that each need is the customer's strongest.

    Each need's true score is taken as normal around its estimate (``scores``) with the
    posterior standard deviation ``spread``, independently across needs, so
    ``P(k) = E[prod_{j != k} Phi((T_k - m_j) / s_j)]`` with ``T_k ~ N(m_k, s_k^2)``,
    integrated by Gauss-Hermite quadrature. Needs without a score (NaN) get 0.

    Examples
    --------
    >>> scores = pd.DataFrame({"price": [0.0, 2.0], "quality": [0.0, 0.0]})
    >>> spread = pd.DataFrame({"price": [1.0, 0.1], "quality": [1.0, 0.1]})
    >>> need_probabilities(scores, spread).round(3)["price"].tolist()
    [0.5, 1.0]
    """
    columns = [c for c in scores.columns if scores[c].notna().any()]
    mean = scores[columns].to_numpy(dtype=float)
    sd = np.maximum(spread[columns].to_numpy(dtype=float), 1e-6)
    points, weights = np.polynomial.hermite_e.hermegauss(nodes)
    weights = weights / weights.sum()
    out = np.zeros_like(mean)
    for rows in range(0, len(mean), _CHUNK):  # bounded memory: chunk x nodes at a time
        m, v = mean[rows : rows + _CHUNK], sd[rows : rows + _CHUNK]
        for k in range(m.shape[1]):
            draw = m[:, k : k + 1] + v[:, k : k + 1] * points[None, :]
            inside = np.ones_like(draw)
            for j in range(m.shape[1]):
                if j != k:
                    inside *= ndtr((draw - m[:, j : j + 1]) / v[:, j : j + 1])
            out[rows : rows + _CHUNK, k] = inside @ weights
    probabilities = pd.DataFrame(0.0, index=scores.index, columns=scores.columns)
    probabilities[columns] = out / out.sum(axis=1, keepdims=True)
    return probabilities


def classify_needs(
    orders: pd.DataFrame | None,
    as_of: pd.Timestamp,
    *,
    interactions: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    premium: Sequence[str] | None = None,
    digital_channels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The primary need of every customer with purchases or linked survey answers.

    Parameters
    ----------
    orders, as_of, interactions, surveys, premium, digital_channels
        As in :func:`need_signals`.

    Returns
    -------
    DataFrame
        Index ``customer_id``; columns ``need_type`` (one of :data:`NEEDS`), ``confidence``
        (the probability, 0..1, that the chosen need is the customer's strongest, from
        :func:`need_probabilities`), ``evidence_signal`` (the signal that contributed most),
        ``evidence_value`` (its raw value), ``evidence_median`` (its median over the
        customers), ``score_<need>`` and ``p_<need>`` (the probability) for every need, and
        ``signals`` (how many signals the customer had). Customers without any signal are
        left out (they have no evidence: nothing is guessed for them).
        ``attrs["importances"]`` holds the survey importances, ``attrs["premium"]`` the
        premium categories used, ``attrs["used"]`` the signals that entered the scores
        (those that vary; the columns of :func:`need_scores`' z-scores).

    Examples
    --------
    >>> orders = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b"], "order_date": pd.to_datetime(["2025-01-01"] * 4),
    ...     "amount": [10.0, 10.0, 15.0, 15.0], "discount": [5.0, 5.0, 0.0, 0.0]})
    >>> classify_needs(orders, "2025-02-01")["need_type"].tolist()
    ['price', 'price']
    """
    measured = need_signals(
        orders,
        as_of,
        interactions=interactions,
        surveys=surveys,
        premium=premium,
        digital_channels=digital_channels,
    )
    return classify_signals(measured)


def classify_signals(measured: NeedSignals) -> pd.DataFrame:
    """The primary need of every customer from signals already measured.

    :func:`classify_needs` is ``classify_signals(need_signals(...))``; a caller that also
    shows the signals (the needs report's scorecard) measures them once and passes them.

    Parameters
    ----------
    measured
        :func:`need_signals`.

    Returns
    -------
    DataFrame
        As :func:`classify_needs`.
    """
    z, scores = need_scores(measured)
    spread = scores.attrs["spread"]
    signals, importances = measured.values, dict(measured.importances)
    scored = scores.notna().any(axis=1) & signals.notna().any(axis=1)
    z, scores, signals = z.loc[scored], scores.loc[scored], signals.loc[scored]
    spread = spread.loc[scored]
    columns = ["need_type", "confidence", "evidence_signal", "evidence_value", "evidence_median"]
    if scores.empty:
        out = pd.DataFrame(
            columns=[
                *columns,
                *(f"score_{k}" for k in NEEDS),
                *(f"p_{k}" for k in NEEDS),
                "signals",
            ]
        )
        out.index.name = "customer_id"
        out.attrs.update(importances=importances, premium=(), used=tuple(z.columns))
        return out
    probabilities = need_probabilities(scores, spread)
    # the balanced decision: each need's probability against its share of the whole base
    base = probabilities.mean().where(lambda p: p > 0)
    best = (probabilities / base).fillna(-1.0).to_numpy().argmax(axis=1)
    confidence = probabilities.to_numpy()[np.arange(len(best)), best]
    need = np.array(NEEDS)[best]
    # evidence: the signal of the winning need with the largest weighted contribution
    evidence = pd.Series(pd.NA, index=scores.index, dtype="object")
    contribution = pd.Series(-np.inf, index=scores.index)
    for s in SIGNALS:
        if s.name not in z.columns:
            continue
        part = (s.weight * s.sign * z[s.name]).where(need == s.need)
        better = part.notna() & (part > contribution)
        evidence[better] = s.name
        contribution[better] = part[better]
    # each customer's evidence as a column position (-1: none), to read values in one pass
    where = signals.columns.get_indexer(evidence.to_numpy())
    has = where >= 0
    raw = signals.to_numpy(dtype=float)[np.arange(len(where)), where]
    medians = signals.median().to_numpy(dtype=float)[where]
    out = pd.DataFrame(
        {
            "need_type": need,
            "confidence": confidence,
            "evidence_signal": evidence.to_numpy(),
            "evidence_value": np.where(has, raw, math.nan),
            "evidence_median": np.where(has, medians, math.nan),
            **{f"score_{k}": scores[k].to_numpy() for k in NEEDS},
            **{f"p_{k}": probabilities[k].to_numpy() for k in NEEDS},
            "signals": signals.notna().sum(axis=1).to_numpy(),
        },
        index=scores.index,
    )
    out.attrs.update(importances=importances, premium=measured.premium, used=tuple(z.columns))
    return out


def balanced_accuracy(truth: Mapping[str, str], predicted: Mapping[str, str]) -> float:
    """Mean recall over the true classes, on the customers in both mappings.

    Examples
    --------
    >>> balanced_accuracy({"a": "x", "b": "x", "c": "y"}, {"a": "x", "b": "y", "c": "y"})
    0.75
    """
    common = [k for k in truth if k in predicted]
    if not common:
        raise ValueError("no customer is in both the truth and the prediction")
    t = pd.Series([truth[k] for k in common])
    p = pd.Series([predicted[k] for k in common])
    return float((t == p).groupby(t).mean().mean())

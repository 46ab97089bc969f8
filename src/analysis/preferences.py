"""Category preferences, cross-sell pairs and a next-best category per customer (issue #18).

* :func:`product_groups` turns order lines into readable product groups: the
  ``product_category`` as it is, or, when there are more than :data:`MAX_CATEGORIES`
  distinct values (stock codes) and the orders carry a description, the keyword rules of
  :data:`PRODUCT_GROUP_RULES` on the description (first rule that matches wins; postage,
  fees and manual adjustments are not products).
* :func:`category_counts`: orders per customer and group in a date window.
* :func:`category_affinity`: each group of customers' share of orders per category and its
  index against the whole base (1 = as everyone, 2 = twice as often).
* :func:`cross_sell_pairs`: association rules between categories over customers (the
  "basket" is a customer's set of categories): support ``P(A and B)``, confidence
  ``P(B | A)`` and lift ``P(B | A) / P(B)``, above a minimum support.
* :func:`next_best_categories`: the category a customer most likely buys next,
  ``(n_c + m q_c) / (n + m)``: the customer's own orders per category ``n_c`` blended with
  ``q_c``, what customers who bought the same categories also buy (the confidences of the
  pairs), with ``m`` = :data:`PRIOR_ORDERS` pseudo-orders.
* :func:`evaluate_next_best`: the honest check. Purchases of a holdout window are hidden,
  predictions come from the history before it, and the hit rate is compared with the
  popularity baseline (the most bought category for everyone).

Every function is pure: DataFrames in, new DataFrames out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .framememo import text_codes

__all__ = [
    "MAX_CATEGORIES",
    "NON_PRODUCT",
    "PRODUCT_GROUP_RULES",
    "NextBestEvaluation",
    "category_affinity",
    "category_counts",
    "cross_sell_pairs",
    "evaluate_next_best",
    "group_of_description",
    "next_best_categories",
    "popularity",
    "product_groups",
]

#: More distinct categories than this (stock codes) are grouped by description keywords.
MAX_CATEGORIES = 40
#: Without a description, categories beyond this many (by orders) are pooled as ``other``.
TOP_CATEGORIES = 30
#: Pseudo-orders at the cross-sell estimate added to a customer's own category counts.
PRIOR_ORDERS = 2.0
#: The group of lines that are not products (postage, fees, manual adjustments).
NON_PRODUCT = "non_product"
#: Keyword rules on a product description (lower case, substring match), checked in order.
PRODUCT_GROUP_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        NON_PRODUCT,
        (
            "postage",
            "carriage",
            "manual",
            "dotcom",
            "bank charges",
            "amazon fee",
            "samples",
            "adjust bad debt",
            "cruk commission",
        ),
    ),
    ("christmas", ("christmas", "xmas", "advent", "santa", "reindeer", "snowflake", "bauble")),
    ("bags", ("bag", "tote", "purse", "shopper")),
    ("lighting", ("candle", "t-light", "tlight", "lantern", "light", "lamp")),
    (
        "stationery_wrap",
        (
            "card",
            "wrap",
            "paper",
            "tissue",
            "ribbon",
            "notebook",
            "pencil",
            "sticker",
            "gift tag",
            "envelope",
            "journal",
            "stationery",
            "diary",
            "pen ",
        ),
    ),
    (
        "kitchen_dining",
        (
            "mug",
            "cup",
            "teapot",
            "tea ",
            "plate",
            "bowl",
            "cake",
            "baking",
            "kitchen",
            "jar",
            "spoon",
            "napkin",
            "lunch box",
            "tin",
            "bottle",
            "glass",
            "tray",
            "coaster",
            "jug",
            "recipe",
            "cutlery",
            "egg",
            "apron",
            "oven",
            "straw",
        ),
    ),
    (
        "toys_kids",
        (
            "toy",
            "game",
            "children",
            "child",
            "doll",
            "puzzle",
            "spaceboy",
            "kids",
            "jigsaw",
            "crayon",
            "skittles",
            "playhouse",
            "rocking horse",
            "soldier",
        ),
    ),
    (
        "jewellery_accessories",
        (
            "necklace",
            "bracelet",
            "earring",
            "ring",
            "brooch",
            "hair",
            "umbrella",
            "jewel",
            "charm",
            "sunglasses",
            "scarf",
            "handbag",
            "wallet",
        ),
    ),
    ("garden_outdoor", ("garden", "plant", "flower pot", "watering", "bird", "parasol", "picnic")),
    (
        "home_decor",
        (
            "heart",
            "sign",
            "frame",
            "clock",
            "decoration",
            "ornament",
            "hanging",
            "cushion",
            "doormat",
            "vintage",
            "holder",
            "wall",
            "mirror",
            "box",
            "basket",
            "storage",
            "hook",
            "drawer",
            "blanket",
            "quilt",
            "vase",
            "wreath",
            "bunting",
            "garland",
            "door",
        ),
    ),
)
_DESCRIPTION_COLUMNS = ("description", "Description", "product_description", "product_name")


def group_of_description(descriptions: pd.Series) -> pd.Series:
    """The product group of each description by :data:`PRODUCT_GROUP_RULES` (``other`` when
    no rule matches, missing stays missing).

    Examples
    --------
    >>> group_of_description(pd.Series(["WHITE HANGING HEART T-LIGHT HOLDER", "POSTAGE"])).tolist()
    ['lighting', 'non_product']
    """
    text = descriptions.astype("string").str.lower()
    out = pd.Series(pd.NA, index=descriptions.index, dtype="object")
    out[text.notna()] = "other"
    undecided = text.notna()
    for group, words in PRODUCT_GROUP_RULES:
        pattern = "|".join(map(_escape, words))
        hit = undecided & text.str.contains(pattern, regex=True).fillna(False)
        out[hit] = group
        undecided &= ~hit
    return out


def _escape(word: str) -> str:
    import re  # noqa: PLC0415

    return re.escape(word)


def product_groups(orders: pd.DataFrame) -> tuple[pd.Series, str]:
    """The product group of every order line, and how it was decided.

    Returns
    -------
    (Series, str)
        Groups aligned with ``orders`` (missing where the line has no category), and the
        method: ``"category"`` (``product_category`` as it is), ``"description"`` (keyword
        rules on the description, more than :data:`MAX_CATEGORIES` categories), ``"top"``
        (the :data:`TOP_CATEGORIES` most ordered categories, the rest ``other``) or
        ``"none"`` (no category column).
    """
    if "product_category" not in orders.columns or orders["product_category"].isna().all():
        return pd.Series(pd.NA, index=orders.index, dtype="object"), "none"
    categories = orders["product_category"].astype("string")
    if categories.nunique() <= MAX_CATEGORIES:
        return categories.astype("object"), "category"
    column = next((c for c in _DESCRIPTION_COLUMNS if c in orders.columns), None)
    if column is not None and orders[column].notna().mean() >= 0.5:
        return group_of_description(orders[column]), "description"
    top = categories.value_counts().index[:TOP_CATEGORIES]
    grouped = categories.where(categories.isin(top) | categories.isna(), "other")
    return grouped.astype("object"), "top"


def _sales(orders: pd.DataFrame) -> pd.Series:
    keep = orders["amount"] > 0
    if "status" in orders.columns:
        keep &= orders["status"].fillna("completed").astype(str).eq("completed")
    return keep


def category_counts(
    orders: pd.DataFrame,
    groups: pd.Series,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Orders per customer (rows, ``customer_id``) and product group (columns) of the
    completed sales dated in ``[start, end)`` (open ends: no limit); an order with lines
    in two groups counts once in each, non-product lines are left out."""
    when = pd.to_datetime(orders["order_date"])
    keep = _sales(orders) & groups.notna() & groups.ne(NON_PRODUCT)
    if start is not None:
        keep &= when >= pd.Timestamp(start)
    if end is not None:
        keep &= when < pd.Timestamp(end)
    keep = keep.to_numpy(dtype=bool)
    # Integer codes, sorted as the table's rows and columns are: no string table of the
    # kept lines is built (that cost seconds per call at 200k customers).
    customer, customers = text_codes(orders, "customer_id")
    customer = customer[keep]
    group, names = pd.factorize(groups[keep].astype(str), sort=True)
    if "order_id" in orders.columns:
        line, lines = text_codes(orders, "order_id")
    else:
        line, lines = pd.factorize(orders.index.astype(str), sort=True)
    line = line[keep]
    line = np.where(line < 0, len(lines), line)  # lines without an order id: one order
    named = customer >= 0  # a missing customer id counts nowhere
    if not named.any():
        empty = pd.Index([], dtype=object)
        return pd.DataFrame(index=empty.rename("customer_id"), columns=empty)
    n_customers, n_groups = len(customers), len(names)
    cell = customer[named].astype(np.int64) * n_groups + group[named]
    line = line[named]
    order = np.lexsort((line, cell))
    cell, line = cell[order], line[order]
    once = np.r_[True, (cell[1:] != cell[:-1]) | (line[1:] != line[:-1])]  # per order, group
    counts = np.bincount(cell[once], minlength=n_customers * n_groups)
    counts = counts.reshape(n_customers, n_groups)
    rows, columns = counts.any(axis=1), counts.any(axis=0)
    frame = pd.DataFrame(counts[rows][:, columns], index=customers[rows], columns=names[columns])
    frame.index.name, frame.columns.name = "customer_id", None
    return frame


def category_affinity(counts: pd.DataFrame, groups: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Share of orders per category within each customer group, and its affinity index.

    Parameters
    ----------
    counts
        :func:`category_counts` (customers x categories).
    groups
        Customer id -> group (segment, need, ...); customers without a group are left out.

    Returns
    -------
    (DataFrame, DataFrame)
        ``shares``: groups x categories, each row summing to 1; ``index``: the shares over
        the whole base's shares (1 = as everyone).
    """
    known = groups.reindex(counts.index).dropna()
    by_group = counts.loc[known.index].groupby(known.astype(str)).sum()
    shares = by_group.div(by_group.sum(axis=1).where(lambda s: s > 0), axis=0).fillna(0.0)
    base = counts.sum() / max(counts.to_numpy().sum(), 1)
    index = shares.div(base.where(base > 0), axis=1)
    return shares, index


def cross_sell_pairs(counts: pd.DataFrame, *, min_support: float = 0.02) -> pd.DataFrame:
    """Association rules A -> B between categories over customers.

    A customer's basket is the set of categories they bought. With ``N`` customers,
    ``support = #(A and B) / N``, ``confidence = #(A and B) / #A`` and
    ``lift = confidence / (#B / N)`` (Agrawal et al. 1993; Brin et al. 1997).

    Parameters
    ----------
    counts
        :func:`category_counts` (customers x categories; any positive count is "bought").
    min_support
        Pairs bought together by fewer than this share of customers are left out.

    Returns
    -------
    DataFrame
        ``antecedent``, ``consequent``, ``customers`` (both bought), ``support``,
        ``confidence``, ``lift``; sorted by lift, then confidence (both directions of a
        pair are rows).

    Examples
    --------
    >>> counts = pd.DataFrame({"a": [1, 1, 0, 1], "b": [1, 1, 1, 0]})
    >>> rule = cross_sell_pairs(counts, min_support=0.5).iloc[0]
    >>> rule["support"], round(rule["confidence"], 3)
    (0.5, 0.667)
    """
    columns = ["antecedent", "consequent", "customers", "support", "confidence", "lift"]
    bought = (counts > 0).astype(np.int64)
    n = len(bought)
    if n == 0 or bought.shape[1] < 2:
        return pd.DataFrame(columns=columns)
    both = bought.T @ bought  # co-occurrence: customers who bought both
    single = np.diag(both.to_numpy()).astype(float)
    names = list(bought.columns)
    rows = []
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            k = int(both.iat[i, j])
            if i == j or k == 0 or k / n < min_support:
                continue
            confidence = k / single[i]
            rows.append((a, b, k, k / n, confidence, confidence / (single[j] / n)))
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(
        ["lift", "confidence", "antecedent", "consequent"],
        ascending=[False, False, True, True],
        kind="stable",
    ).reset_index(drop=True)


def popularity(counts: pd.DataFrame) -> pd.Series:
    """Share of customers who bought each category (highest first, ties by name)."""
    if counts.empty:
        return pd.Series(dtype=float)
    share = (counts > 0).mean()
    order = sorted(share.index, key=lambda c: (-share[c], str(c)))
    return share.loc[order]


def _conditional(counts: pd.DataFrame) -> pd.DataFrame:
    """P(customer bought column | bought row), zero on the diagonal."""
    bought = (counts > 0).to_numpy(dtype=float)
    both = bought.T @ bought
    single = np.diag(both).copy()
    cond = np.divide(both, single[:, None], out=np.zeros_like(both), where=single[:, None] > 0)
    np.fill_diagonal(cond, 0.0)
    return pd.DataFrame(cond, index=counts.columns, columns=counts.columns)


def next_best_categories(
    history: pd.DataFrame, *, reference: pd.DataFrame | None = None, top: int = 1
) -> pd.DataFrame:
    """The category each customer most likely buys next, with its score and reason.

    ``score_c = (n_c + m q_c) / (n + m)``: ``n_c`` the customer's orders in category ``c``,
    ``n`` all their orders, ``m`` = :data:`PRIOR_ORDERS`, and ``q_c`` the cross-sell
    estimate: the mean, weighted by the customer's orders per category ``a``, of
    ``P(c | a)`` over customers (normalised to sum to 1; the popularity when the customer
    has no order).

    Parameters
    ----------
    history
        :func:`category_counts` of the customers to score.
    reference
        The counts the pair confidences and the popularity are learnt from (default:
        ``history``).
    top
        How many categories per customer (rank 1 first).

    Returns
    -------
    DataFrame
        ``customer_id``, ``rank``, ``next_best_category``, ``score`` (0..1),
        ``reason`` (``"repeat"``: the customer's own orders carry most of the score;
        ``"cross_sell"``: the pair estimate does), ``because`` (for a cross-sell: the
        category of the customer's whose pair contributes most), ``confidence`` and
        ``lift`` of that pair, ``own_orders`` (``n_c``).
    """
    reference = history if reference is None else reference
    categories = sorted(set(history.columns) | set(reference.columns))
    hist = history.reindex(columns=categories, fill_value=0).astype(float)
    ref = reference.reindex(columns=categories, fill_value=0)
    cond = _conditional(ref)
    pop = popularity(ref).reindex(categories).fillna(0.0)
    base_rate = pop.to_numpy()
    n = hist.sum(axis=1).to_numpy()
    weighted = hist.to_numpy() @ cond.to_numpy()  # sum_a n_a P(c | a)
    total = weighted.sum(axis=1, keepdims=True)
    pop_q = base_rate / base_rate.sum() if base_rate.sum() > 0 else base_rate
    q = np.where(total > 0, weighted / np.where(total > 0, total, 1.0), pop_q[None, :])
    own = hist.to_numpy()
    score = (own + PRIOR_ORDERS * q) / (n[:, None] + PRIOR_ORDERS)
    top = max(1, min(int(top), len(categories)))
    order = np.argsort(-score, axis=1, kind="stable")[:, :top]
    rows_i = np.repeat(np.arange(len(hist)), top)
    cols_j = order.reshape(-1)
    own_ij = own[rows_i, cols_j]
    q_ij = q[rows_i, cols_j]
    repeat = own_ij >= PRIOR_ORDERS * q_ij
    # the customer's category whose pair contributes most to a cross-sell
    cond_values = cond.to_numpy()
    contributions = own[rows_i, :] * cond_values[:, cols_j].T
    k = contributions.argmax(axis=1)
    has_pair = ~repeat & (contributions.max(axis=1) > 0)
    confidence = np.where(has_pair, cond_values[k, cols_j], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(has_pair & (base_rate[cols_j] > 0), confidence / base_rate[cols_j], np.nan)
    names = np.array(categories, dtype=object)
    return pd.DataFrame(
        {
            "customer_id": hist.index.to_numpy()[rows_i],
            "rank": np.tile(np.arange(1, top + 1), len(hist)),
            "next_best_category": names[cols_j],
            "score": score[rows_i, cols_j],
            "reason": np.where(repeat, "repeat", "cross_sell"),
            "because": np.where(has_pair, names[k], None),
            "confidence": confidence,
            "lift": lift,
            "own_orders": own_ij.astype(np.int64),
        }
    )


@dataclass(frozen=True)
class NextBestEvaluation:
    """Hit rates of the next-best category against the popularity baseline.

    Attributes
    ----------
    customers
        Customers with history before the holdout and a purchase in it (the base).
    hit_rate, baseline_hit_rate
        Share of them whose top category is one they bought in the holdout: the model and
        the most popular category for everyone.
    hit_rate_top3, baseline_hit_rate_top3
        The same with three categories each.
    new_customers, new_hit_rate, new_baseline_hit_rate
        Cross-sell only: customers who bought a category new to them in the holdout; the
        share whose best *new* category (model vs most popular new one) was among those.
    categories
        Number of product groups.
    """

    customers: int
    hit_rate: float
    baseline_hit_rate: float
    hit_rate_top3: float
    baseline_hit_rate_top3: float
    new_customers: int
    new_hit_rate: float
    new_baseline_hit_rate: float
    categories: int

    def to_dict(self) -> dict[str, float | int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def evaluate_next_best(
    orders: pd.DataFrame,
    groups: pd.Series,
    holdout_start: pd.Timestamp,
    holdout_end: pd.Timestamp,
) -> NextBestEvaluation:
    """Hide the purchases in ``[holdout_start, holdout_end)``, predict from the history
    before it, and compare the hit rate with the popularity baseline.

    Parameters
    ----------
    orders
        Clean orders (``customer_id``, ``order_date``, ``amount``, optional ``status``,
        ``order_id``).
    groups
        Product group of every order line (:func:`product_groups`).
    holdout_start, holdout_end
        The hidden window.
    """
    history = category_counts(orders, groups, end=holdout_start)
    future = category_counts(orders, groups, start=holdout_start, end=holdout_end)
    base = history.index.intersection(future.index)
    categories = sorted(set(history.columns) | set(future.columns))
    if len(base) == 0 or not categories:
        nan = math.nan
        return NextBestEvaluation(0, nan, nan, nan, nan, 0, nan, nan, len(categories))
    hist = history.reindex(columns=categories, fill_value=0)
    fut = (future.reindex(index=base, columns=categories, fill_value=0) > 0).to_numpy()
    owned = (hist.loc[base] > 0).to_numpy()
    c = len(categories)
    k = min(3, c)
    ranked = next_best_categories(hist.loc[base], reference=hist, top=c)
    position = {g: j for j, g in enumerate(categories)}
    picks = ranked["next_best_category"].map(position).to_numpy().reshape(len(base), c)
    pop = popularity(hist).reindex(categories).fillna(0.0)
    pop_order = np.array([position[g] for g in sorted(categories, key=lambda g: (-pop[g], g))])
    rows = np.arange(len(base))[:, None]

    def hit(columns: np.ndarray) -> float:
        return float(fut[rows, columns].any(axis=1).mean())

    model1, model3 = hit(picks[:, :1]), hit(picks[:, :k])
    everyone = np.broadcast_to(pop_order, (len(base), c))
    base1, base3 = hit(everyone[:, :1]), hit(everyone[:, :k])
    # cross-sell: categories new to the customer only (the first ranked one not owned)
    new_bought = fut & ~owned
    movers = new_bought.any(axis=1) & ~owned.all(axis=1)

    def first_new(columns: np.ndarray) -> np.ndarray:
        fresh = ~owned[rows, columns]
        return columns[np.arange(len(base)), fresh.argmax(axis=1)]

    model_new = new_bought[np.arange(len(base)), first_new(picks)][movers]
    base_new = new_bought[np.arange(len(base)), first_new(everyone)][movers]
    movers_n = int(movers.sum())
    return NextBestEvaluation(
        customers=len(base),
        hit_rate=model1,
        baseline_hit_rate=base1,
        hit_rate_top3=model3,
        baseline_hit_rate_top3=base3,
        new_customers=movers_n,
        new_hit_rate=float(model_new.mean()) if movers_n else math.nan,
        new_baseline_hit_rate=float(base_new.mean()) if movers_n else math.nan,
        categories=len(categories),
    )

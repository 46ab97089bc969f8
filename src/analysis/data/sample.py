"""Deterministic synthetic CRM data with a planted truth.

:func:`generate_sample` builds the four contract tables (DESIGN §3) for a made-up company
with four business units, two years of orders (2024-01-01 to 2025-12-31), survey responses
and service interactions. The data carry answers that downstream analyses are tested
against, all recorded in ``SampleData.truth`` (and ``truth.json`` by :func:`write_sample`):

* six customer **archetypes** (``vip``, ``loyal_regular``, ``discount_hunter``,
  ``big_ticket_occasional``, ``new_customer``, ``lapsing``) present in every unit, that
  differ in recency, frequency, order value, tenure, category and channel mix, discount
  share, return rate, complaints and satisfaction;
* a latent **churn hazard** per customer driven by complaints (+), satisfaction (-),
  discount share (+), tenure (-) and purchase frequency (-), within archetypes as well as
  between them; churned customers stop buying at their churn time;
* **satisfaction drivers**: overall satisfaction of a response is a weighted sum of its
  standardised attribute ratings plus noise; ``nps`` and ``csat`` are discretised from it;
* an **NPS drop** in ``ecommerce`` in 2025-Q4, carried mostly by worse delivery ratings, and
  no change anywhere else;
* a planted **primary need** per customer (price, quality, service, convenience) from the
  customer's discount propensity, category and channel preferences and service contacts,
  drawn from a separate random stream so that every table stays as it was;
* a handful of **dirty rows**, each kind counted exactly.

Everything is vectorised numpy driven by one ``np.random.default_rng(seed)``: the same seed
gives identical frames and byte-identical files. Strings (ids, names, comments) are built
with pyarrow compute, so a million customers take seconds, not minutes.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ParamsError
from . import _names as names

__all__ = [
    "ARCHETYPES",
    "CHURN_DRIVERS",
    "SATISFACTION_DRIVER_WEIGHTS",
    "SampleData",
    "generate_sample",
    "write_sample",
]

# ---- calendar ------------------------------------------------------------------------------
START = date(2024, 1, 1)
END = date(2025, 12, 31)
SNAPSHOT = date(2025, 9, 30)  # the churn check's "as of" date (truth.churn_check)
CHURN_WINDOW_DAYS = 90
_EPOCH = date(1970, 1, 1)


def _day(value: date | str) -> int:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return (value - _EPOCH).days


START_DAY, END_DAY, SNAPSHOT_DAY = _day(START), _day(END), _day(SNAPSHOT)
QUARTERS = tuple(f"{y}-Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4))
_QUARTER_START = np.array(
    [_day(date(y, m, 1)) for y in (2024, 2025) for m in (1, 4, 7, 10)] + [END_DAY + 1]
)

# ---- vocabularies --------------------------------------------------------------------------
UNITS = ("retail", "ecommerce", "b2b", "services")
CUSTOMER_TYPES = ("individual", "enterprise", "government", "institution")
CATEGORIES = ("electronics", "home", "fashion", "grocery", "beauty", "sports")
CHANNELS = ("store", "web", "app", "phone", "partner")
STATUSES = ("completed", "cancelled", "returned")
INTERACTION_TYPES = ("complaint", "inquiry", "visit", "call", "email", "campaign")
TOPICS = ("billing", "delivery", "product", "account", "other")
TOUCHPOINTS = ("store", "web", "app", "call_center", "delivery")
RATINGS = ("product_quality", "delivery", "service", "price", "website")
CHURN_REASONS = ("price", "service", "competitor", "moved", "no_need")
GENDERS = ("F", "M")
INCOME_BANDS = ("low", "middle", "high", "very_high")
ACQUISITION_CHANNELS = (
    "organic",
    "paid_search",
    "social",
    "store",
    "partner",
    "sales_team",
    "referral",
)

CHURN_DRIVERS: dict[str, int] = {
    "complaints": 1,
    "satisfaction": -1,
    "discount_share": 1,
    "tenure_days": -1,
    "frequency": -1,
}
SATISFACTION_DRIVER_WEIGHTS: dict[str, float] = {
    "rating_product_quality": 0.35,
    "rating_delivery": 0.25,
    "rating_service": 0.20,
    "rating_price": 0.12,
    "rating_website": 0.08,
}


@dataclass(frozen=True)
class _Archetype:
    description: str
    orders_per_month: float  # median purchase rate while active (new_customer: 1-3 orders)
    avg_order_value: float  # net, before unit multiplier
    discount_share: float  # mean discount / gross
    return_rate: float  # probability that a completed order is (partly) refunded
    complaints_per_year: float
    satisfaction: float  # mean of the latent satisfaction (sd 1)
    churn_hazard: float  # mean churn hazard per year (lapsing: churn time is planted)
    signup: tuple[str, str]
    category_mix: tuple[float, ...]  # CATEGORIES order
    channel_mix: tuple[float, ...]  # CHANNELS order
    age: float
    income_mix: tuple[float, ...]  # INCOME_BANDS order


ARCHETYPES: dict[str, _Archetype] = {
    "vip": _Archetype(
        "very frequent, high order value, long tenure, low discount, satisfied",
        orders_per_month=2.2,
        avg_order_value=240.0,
        discount_share=0.04,
        return_rate=0.015,
        complaints_per_year=0.15,
        satisfaction=0.7,
        churn_hazard=0.04,
        signup=("2020-01-01", "2022-12-31"),
        category_mix=(0.22, 0.22, 0.24, 0.08, 0.14, 0.10),
        channel_mix=(0.30, 0.22, 0.38, 0.05, 0.05),
        age=48,
        income_mix=(0.05, 0.2, 0.4, 0.35),
    ),
    "loyal_regular": _Archetype(
        "buys about monthly, mid order value, mostly in store, groceries",
        orders_per_month=0.7,
        avg_order_value=65.0,
        discount_share=0.08,
        return_rate=0.015,
        complaints_per_year=0.2,
        satisfaction=0.35,
        churn_hazard=0.04,
        signup=("2020-01-01", "2024-06-30"),
        category_mix=(0.06, 0.14, 0.14, 0.44, 0.12, 0.10),
        channel_mix=(0.72, 0.10, 0.08, 0.07, 0.03),
        age=52,
        income_mix=(0.2, 0.45, 0.25, 0.1),
    ),
    "discount_hunter": _Archetype(
        "mid frequency, low order value, high discount share, web/app, returns more",
        orders_per_month=0.55,
        avg_order_value=30.0,
        discount_share=0.45,
        return_rate=0.07,
        complaints_per_year=0.35,
        satisfaction=0.0,
        churn_hazard=0.22,
        signup=("2021-06-01", "2024-09-30"),
        category_mix=(0.10, 0.08, 0.36, 0.12, 0.24, 0.10),
        channel_mix=(0.06, 0.46, 0.42, 0.02, 0.04),
        age=33,
        income_mix=(0.35, 0.45, 0.15, 0.05),
    ),
    "big_ticket_occasional": _Archetype(
        "rare purchases of high value, electronics and home",
        orders_per_month=0.2,
        avg_order_value=650.0,
        discount_share=0.08,
        return_rate=0.03,
        complaints_per_year=0.3,
        satisfaction=0.25,
        churn_hazard=0.10,
        signup=("2020-01-01", "2024-12-31"),
        category_mix=(0.45, 0.35, 0.06, 0.03, 0.03, 0.08),
        channel_mix=(0.40, 0.42, 0.06, 0.04, 0.08),
        age=42,
        income_mix=(0.1, 0.35, 0.35, 0.2),
    ),
    "new_customer": _Archetype(
        "signed up in the last four months of the window, one to three orders",
        orders_per_month=0.0,
        avg_order_value=70.0,
        discount_share=0.10,
        return_rate=0.025,
        complaints_per_year=0.3,
        satisfaction=0.2,
        churn_hazard=0.2,
        signup=("2025-09-01", "2025-12-15"),
        category_mix=(0.16, 0.14, 0.24, 0.16, 0.16, 0.14),
        channel_mix=(0.34, 0.34, 0.22, 0.05, 0.05),
        age=35,
        income_mix=(0.25, 0.45, 0.2, 0.1),
    ),
    "lapsing": _Archetype(
        "bought regularly, stopped 5-12 months before the end, complains, dissatisfied",
        orders_per_month=0.65,
        avg_order_value=85.0,
        discount_share=0.28,
        return_rate=0.03,
        complaints_per_year=1.5,
        satisfaction=-0.8,
        churn_hazard=float("nan"),
        signup=("2022-06-01", "2023-12-31"),
        category_mix=(0.10, 0.14, 0.18, 0.30, 0.14, 0.14),
        channel_mix=(0.32, 0.34, 0.18, 0.12, 0.04),
        age=45,
        income_mix=(0.25, 0.45, 0.2, 0.1),
    ),
}
_ARCH_NAMES = tuple(ARCHETYPES)
_LAPSE_DAYS_BEFORE_END = (150, 365)  # lapsing customers stop 5-12 months before END
_NEW_ORDER_COUNTS = ((1, 2, 3), (0.45, 0.35, 0.20))

# Per unit: customer share, archetype mix (ARCHETYPES order), customer-type mix, amount
# multiplier (kept <= 1.5 so archetypes look alike across units), channel tilt.
_UNIT_SHARE = np.array([0.35, 0.30, 0.15, 0.20])
_UNIT_ARCH_MIX = np.array(
    [
        [0.08, 0.22, 0.20, 0.17, 0.14, 0.19],
        [0.07, 0.18, 0.25, 0.15, 0.16, 0.19],
        [0.10, 0.22, 0.14, 0.22, 0.14, 0.18],
        [0.09, 0.24, 0.17, 0.18, 0.13, 0.19],
    ]
)
_UNIT_TYPE_MIX = np.array(
    [
        [0.95, 0.03, 0.01, 0.01],
        [0.94, 0.04, 0.01, 0.01],
        [0.10, 0.62, 0.14, 0.14],
        [0.45, 0.30, 0.12, 0.13],
    ]
)
_UNIT_AMOUNT = np.array([1.0, 0.9, 1.35, 1.2])
_UNIT_CHANNEL_TILT = np.array(
    [
        [1.2, 1.0, 1.0, 1.0, 0.8],
        [0.6, 1.2, 1.2, 0.8, 1.0],
        [1.0, 1.0, 0.8, 1.5, 1.5],
        [1.0, 1.0, 1.0, 1.3, 1.0],
    ]
)
_CATEGORY_PRICE = np.array([1.6, 1.3, 0.9, 0.6, 0.8, 1.0])
_CATEGORY_QTY = np.array([0.1, 0.3, 0.6, 2.0, 1.0, 0.4])
_TYPE_QTY = np.array([1.0, 3.0, 2.5, 2.5])
_MIX_CONCENTRATION = 40.0  # Dirichlet concentration of a customer's category/channel mix
_CANCEL_RATE = 0.03

# churn hazard: log-hazard loadings of the within-archetype latent traits (per sd)
_HAZARD_LOADINGS = {
    "satisfaction": 1.0,
    "complaints": 0.55,
    "discount_share": 0.8,
    "tenure_days": 0.7,
    "frequency": 0.5,
}
# early-life churn: hazard x (1 + K exp(-age / tau)), age = days since signup
_EARLY_HAZARD_BUMP, _EARLY_HAZARD_DAYS = 5.0, 300.0
_COMPLAINT_SAT_CORR = 0.25
_PRE_CHURN_COMPLAINT = (0.45, 0.7)  # P(complaint shortly before churn): others, lapsing
_REFERRED_HAZARD = 0.75

# surveys
_RESPONSES_PER_CUSTOMER = 0.3
_ANONYMOUS_SHARE = 0.25
_SURVEY_UNIT_WEIGHT = np.array([1.0, 1.3, 1.0, 1.0])
_SURVEY_QUARTER_WEIGHT = np.array([0.92] * 4 + [1.08] * 4)
_UNIT_NPS = np.array([0.28, 0.32, 0.18, 0.24])  # baseline NPS (fraction) per unit
_CELL_NPS_JITTER = 0.01
_NPS_DROP, _CSAT_TOP2_DROP = 0.24, 0.12
_CSAT_MIX = np.array([0.04, 0.07, 0.18, 0.39, 0.32])
_RATING_OFFSET = np.array([0.3, 0.1, 0.15, -0.3, 0.0])
_RATING_THRESHOLDS = np.array([-1.9, -1.2, -0.35, 0.65])
_RATING_LOADING_CUSTOMER = 0.6  # on the customer's latent satisfaction
_RATING_LOADING_RESPONSE = 0.20  # on a response-level general impression
_SATISFACTION_R2 = 0.55  # share of latent satisfaction explained by the ratings
_DROP_UNIT, _DROP_QUARTER = 1, 7  # ecommerce, 2025-Q4
_DROP_SHIFT = np.array([0.05, 1.15, 0.15, 0.0, 0.0])  # sd lowered, per rating
_TOUCHPOINT_MIX = np.array(
    [
        [0.60, 0.10, 0.10, 0.10, 0.10],
        [0.02, 0.35, 0.33, 0.10, 0.20],
        [0.15, 0.25, 0.05, 0.45, 0.10],
        [0.35, 0.20, 0.15, 0.25, 0.05],
    ]
)

# interactions
_GENERAL_CONTACTS_PER_YEAR = np.array([1.6, 1.3, 2.0, 1.8])
_CONTACT_TYPE_MIX = np.array(
    [  # inquiry, visit, call, email, campaign
        [0.25, 0.30, 0.15, 0.10, 0.20],
        [0.30, 0.02, 0.15, 0.23, 0.30],
        [0.25, 0.15, 0.30, 0.20, 0.10],
        [0.25, 0.20, 0.25, 0.15, 0.15],
    ]
)
_TOPIC_MIX = np.array(
    [  # per INTERACTION_TYPES: billing, delivery, product, account, other
        [0.20, 0.35, 0.30, 0.05, 0.10],
        [0.30, 0.10, 0.25, 0.30, 0.05],
        [0.05, 0.05, 0.60, 0.10, 0.20],
        [0.25, 0.20, 0.25, 0.20, 0.10],
        [0.25, 0.20, 0.20, 0.25, 0.10],
        [0.00, 0.00, 0.30, 0.00, 0.70],
    ]
)
_MEDIAN_RESOLUTION_HOURS = np.array([36.0, 4.0, 1.0, 3.0, 6.0, 1.0])

# dirty rows per 20,000 customers (at least 2 of each)
_DIRTY_PER_20K = {
    "duplicate_orders": 30,
    "unknown_customer_orders": 12,
    "missing_customer_orders": 10,
    "future_orders": 8,
    "survey_nps_out_of_range": 6,
    "survey_csat_out_of_range": 4,
}
_PII_COMMENT_SHARE = 0.004
_UNKNOWN_CUSTOMER_BASE = 9_000_000
MAX_CUSTOMERS = 5_000_000
MIN_CUSTOMERS = 200

TABLE_NAMES = ("customers", "orders", "survey_responses", "interactions")


@dataclass(frozen=True)
class SampleData:
    """The four contract tables plus the planted truth.

    Attributes
    ----------
    customers, orders, survey_responses, interactions
        DataFrames with the contract columns (DESIGN §3). Dates are ``datetime64``,
        identifiers and labels ``str``, missing values NaN/NaT.
    truth
        What was planted (see :func:`generate_sample`); JSON-serialisable.
    """

    customers: pd.DataFrame
    orders: pd.DataFrame
    survey_responses: pd.DataFrame
    interactions: pd.DataFrame
    truth: dict[str, Any] = field(repr=False)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The four tables by contract name."""
        return {name: getattr(self, name) for name in TABLE_NAMES}


def generate_sample(n_customers: int = 20_000, *, seed: int = 42) -> SampleData:
    """Generate the synthetic CRM data set in memory.

    Parameters
    ----------
    n_customers
        Number of customers (200 to 5,000,000). The default gives about 255k order rows,
        6k survey responses and 65k interactions.
    seed
        Seed of the single random generator; the same seed gives identical data.

    Returns
    -------
    SampleData
        ``customers``, ``orders``, ``survey_responses``, ``interactions`` and ``truth`` with
        keys ``seed``, ``n_customers``, ``start``, ``end``, ``units``, ``segment_of_customer``,
        ``archetypes``, ``churn_drivers``, ``churn_check``, ``satisfaction_driver_weights``,
        ``nps_outcome``, ``nps_drop``, ``dirty_rows``, ``row_counts``, ``need_of_customer``
        (customer id -> planted primary need, :func:`plant_needs`) and ``needs`` (its rule).

    Raises
    ------
    ParamsError
        If ``n_customers`` or ``seed`` is out of range.

    Examples
    --------
    >>> data = generate_sample(2_000, seed=1)
    >>> sorted(data.truth["churn_drivers"])
    ['complaints', 'discount_share', 'frequency', 'satisfaction', 'tenure_days']
    """
    tables, truth = generate_tables(n_customers, seed)
    frames = {name: table.to_pandas(date_as_object=False) for name, table in tables.items()}
    return SampleData(**frames, truth=truth)


def write_sample(
    out_dir: str | Path, *, n_customers: int = 20_000, seed: int = 42, fmt: str = "csv"
) -> Path:
    """Generate the sample and write it to ``out_dir``.

    Writes ``customers``, ``orders``, ``survey_responses`` and ``interactions`` as ``.csv``
    (UTF-8, ISO dates, empty cells for missing values) or ``.parquet``, plus ``truth.json``.
    Files go to a temporary directory beside ``out_dir`` that then replaces it, so an
    interrupted run never leaves half a data set behind (an existing ``out_dir`` is
    replaced only once the new one is complete).

    Parameters
    ----------
    out_dir
        Target directory; created, or replaced if it exists.
    n_customers, seed
        As in :func:`generate_sample`.
    fmt
        ``"csv"`` or ``"parquet"``.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    ParamsError
        For an unknown ``fmt``, bad sizes, or an ``out_dir`` that is an existing file.

    Examples
    --------
    >>> path = write_sample("data/sample", n_customers=2_000)  # doctest: +SKIP
    """
    if fmt not in ("csv", "parquet"):
        raise ParamsError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ParamsError(f"out_dir {str(out)!r} exists and is not a directory")
    tables, truth = generate_tables(n_customers, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        tmp.chmod(0o755)
        for name, table in tables.items():
            write_table(table, tmp / f"{name}.{fmt}", fmt)
        with open(tmp / "truth.json", "w", encoding="utf-8") as fh:
            json.dump(truth, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        if out.exists():
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            out.rename(old)
            try:
                tmp.rename(out)
            except BaseException:
                old.rename(out)  # put the previous data set back
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def write_table(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed", batch_size=65_536))
    else:
        import pyarrow.parquet as pq

        pq.write_table(table, path, compression="zstd")


# =============================================================================================
# generation
# =============================================================================================
def check_args(n_customers: int, seed: int) -> None:
    if isinstance(n_customers, bool) or not isinstance(n_customers, int | np.integer):
        raise ParamsError(f"n_customers must be an integer, got {n_customers!r}")
    if not MIN_CUSTOMERS <= n_customers <= MAX_CUSTOMERS:
        raise ParamsError(
            f"n_customers must be between {MIN_CUSTOMERS:,} and {MAX_CUSTOMERS:,}, "
            f"got {n_customers:,}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParamsError(f"seed must be a non-negative integer, got {seed!r}")


def generate_tables(n_customers: int, seed: int) -> tuple[dict[str, pa.Table], dict[str, Any]]:
    check_args(n_customers, seed)
    n = int(n_customers)
    rng = np.random.default_rng(int(seed))
    dirty = {k: max(2, round(v * n / 20_000)) for k, v in _DIRTY_PER_20K.items()}

    cust = _draw_customers(rng, n)
    cust["seed"] = np.array(int(seed))  # for the separate streams (birth dates)
    orders = _draw_orders(rng, cust)
    inter = _draw_interactions(rng, cust)
    _draw_churn_reasons(rng, cust, inter)
    _draw_referrers(rng, cust)
    _draw_attributes(rng, cust)
    pii = _draw_pii(rng, cust)
    surveys, nps_truth = _draw_surveys(rng, cust, orders)

    counts = {
        "cancelled_orders": int((orders["status"] == 1).sum()),
        "returned_orders": int((orders["status"] == 2).sum()),
    }
    orders = _dirty_orders(rng, orders, dirty, n)
    surveys = _dirty_surveys(rng, surveys, dirty)
    comments, n_pii_comments = _survey_comments(rng, surveys, cust, pii)

    tables = {
        "customers": _customers_table(cust, pii),
        "orders": _orders_table(orders),
        "survey_responses": _surveys_table(surveys, comments),
        "interactions": _interactions_table(inter, cust),
    }
    truth = _truth(
        n,
        seed,
        cust,
        nps_truth,
        {**dirty, **counts},
        n_pii_comments,
        {k: t.num_rows for k, t in tables.items()},
    )
    truth["need_of_customer"] = plant_needs(cust, inter, seed)
    truth["needs"] = dict(_NEED_TRUTH)
    return tables, truth


# ---- planted primary needs (issue #18) ------------------------------------------------------
#: The four primary needs, in the order of :func:`plant_needs`'s score columns.
NEEDS = ("price", "quality", "service", "convenience")
#: Noise added to the standardised latent traits before the argmax: a need is recoverable
#: from behaviour, but a customer near a tie can go either way.
_NEED_NOISE_SD = 0.1
#: Entropy of the separate random stream the needs draw from: drawing them never changes a
#: value of the four tables (which all come from the main stream).
_NEED_STREAM = 18
_PREMIUM_CATEGORIES = _CATEGORY_PRICE > 1.0  # electronics, home
_DIGITAL_CHANNELS = np.isin(CHANNELS, ("web", "app"))
_NEED_TRUTH = {
    "labels": list(NEEDS),
    "rule": "argmax over z(trait) + N(0, 0.1^2) noise from a separate stream; traits: "
    "price = logit(latent discount share), quality = latent share of premium categories "
    "(electronics, home), service = log((complaints + 0.25 x inquiries, calls and emails "
    "+ 0.5) / (active years + 1)) of the drawn interactions, convenience = latent share of "
    "digital channels (web, app); z = standardised over all customers",
}


#: Entropy of the separate stream birth dates are drawn from (every other column unchanged).
_BIRTH_STREAM = 19


def birth_days(cust: dict[str, np.ndarray]) -> np.ndarray:
    """Birth dates (days since 1970-01-01) of the customers, consistent with their age at
    the end of the data (the ``age`` column); drawn from a separate stream of the seed."""
    rng = np.random.default_rng([int(cust["seed"]), _BIRTH_STREAM])
    age = cust["attrs"]["age"].astype(np.int64)
    # born between age + 1 years and age years before END (exclusive): that age on END
    days_back = np.floor((age + rng.random(len(age))) * 365.2425).astype(np.int64)
    return END_DAY - days_back


def plant_needs(
    cust: dict[str, np.ndarray], inter: dict[str, np.ndarray], seed: int
) -> dict[str, str]:
    """Customer id -> planted primary need: the need whose trait stands out most
    (standardised over the customers), after a little noise from a separate stream.

    The traits are the customer's latent discount propensity, category and channel
    preferences, and the service contacts drawn for them (a latent complaint rate of a
    fraction of a complaint a year would be a need nobody could see)."""
    rng = np.random.default_rng([int(seed), _NEED_STREAM])
    n = int(cust["n"])
    disc = np.clip(cust["disc"], 1e-6, 1 - 1e-6)
    years = np.maximum(cust["active_to"] - cust["active_from"], 30.0) / 365.25
    complaints = np.bincount(inter["cust"][inter["type"] == 0], minlength=n)
    contact_types = [INTERACTION_TYPES.index(k) for k in ("inquiry", "call", "email")]
    contacts = np.bincount(inter["cust"][np.isin(inter["type"], contact_types)], minlength=n)
    traits = np.column_stack(
        [
            _logit(disc),
            cust["cat_p"][:, _PREMIUM_CATEGORIES].sum(axis=1),
            np.log((complaints + 0.25 * contacts + 0.5) / (years + 1.0)),
            cust["chan_p"][:, _DIGITAL_CHANNELS].sum(axis=1),
        ]
    )
    z = (traits - traits.mean(axis=0)) / np.maximum(traits.std(axis=0), 1e-12)
    need = np.argmax(z + _NEED_NOISE_SD * rng.standard_normal(z.shape), axis=1)
    ids = make_ids("C", np.arange(1, len(need) + 1), 7).to_pylist()
    return dict(zip(ids, np.array(NEEDS)[need].tolist(), strict=True))


# ---- small vectorised helpers --------------------------------------------------------------
def _pick_rows(
    rng: np.random.Generator,
    probs: np.ndarray,
    rows: np.ndarray | None = None,
    chunk: int = 1_000_000,
) -> np.ndarray:
    """Draw one category per row from per-row probabilities (``probs[rows]``), in chunks."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    m = len(rows) if rows is not None else len(probs)
    out = np.empty(m, dtype=np.int8)
    for s in range(0, m, chunk):
        block = cum[rows[s : s + chunk]] if rows is not None else cum[s : s + chunk]
        u = rng.random(len(block))
        out[s : s + chunk] = np.minimum((u[:, None] >= block).sum(axis=1), probs.shape[1] - 1)
    return out


def pick(rng: np.random.Generator, p: np.ndarray | list[float], size: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.minimum(
        np.searchsorted(np.cumsum(p / p.sum()), rng.random(size), side="right"), len(p) - 1
    ).astype(np.int8)


def _dirichlet_rows(
    rng: np.random.Generator, means: np.ndarray, concentration: float
) -> np.ndarray:
    g = rng.gamma(np.maximum(means * concentration, 1e-3))
    return g / g.sum(axis=1, keepdims=True)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float | np.ndarray) -> float | np.ndarray:
    return np.log(p / (1 - p))


def _group_standardise(x: np.ndarray, group: np.ndarray, k: int) -> np.ndarray:
    cnt = np.maximum(np.bincount(group, minlength=k), 1)
    mean = np.bincount(group, x, minlength=k) / cnt
    var = np.bincount(group, (x - mean[group]) ** 2, minlength=k) / cnt
    return (x - mean[group]) / np.sqrt(np.maximum(var[group], 1e-12))


def _quarter_of(day: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(_QUARTER_START, day, side="right") - 1, 0, 7)


def make_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded identifiers (``C0000001``) built directly as an Arrow string buffer."""
    v = np.asarray(numbers, dtype=np.int64)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    w = len(head) + width
    buf = np.empty((len(v), w), dtype=np.uint8)
    buf[:, : len(head)] = head
    for k in range(width):  # one pass per digit position, not per row
        buf[:, w - 1 - k] = 48 + (v // 10**k) % 10
    offsets = np.arange(len(v) + 1, dtype=np.int64) * w
    if offsets[-1] < 2**31:
        return pa.StringArray.from_buffers(
            len(v), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(buf.ravel())
        )
    return pa.LargeStringArray.from_buffers(
        len(v), pa.py_buffer(offsets), pa.py_buffer(buf.ravel())
    ).cast(pa.string())


def weighted_labels(
    vocab: tuple[str, ...] | list[str], codes: np.ndarray, mask: np.ndarray | None = None
) -> pa.Array:
    """``vocab[codes]`` as an Arrow string array; ``mask`` marks nulls."""
    idx = pa.array(np.asarray(codes, dtype=np.int32), mask=mask)
    return pa.array(list(vocab), type=pa.string()).take(idx)


def _dates(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), mask=mask).view(pa.date32())


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _by_variant(variant: np.ndarray, builders: list[Callable[[np.ndarray], pa.Array]]) -> pa.Array:
    """Build a string column whose rows follow different templates.

    ``builders[v](rows)`` returns the strings of the rows with ``variant == v``.
    """
    order = np.argsort(variant, kind="stable")
    bounds = np.searchsorted(variant[order], np.arange(len(builders) + 1))
    pieces = [builders[v](order[bounds[v] : bounds[v + 1]]) for v in range(len(builders))]
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return pa.concat_arrays([p.cast(pa.string()) for p in pieces]).take(pa.array(inverse))


# ---- customers -----------------------------------------------------------------------------
def _draw_customers(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    n_arch = len(ARCHETYPES)
    arch_list = list(ARCHETYPES.values())
    unit = pick(rng, _UNIT_SHARE, n)
    arch = _pick_rows(rng, _UNIT_ARCH_MIX, unit)
    ctype = _pick_rows(rng, _UNIT_TYPE_MIX, unit)
    lo = np.array([_day(a.signup[0]) for a in arch_list])
    hi = np.array([_day(a.signup[1]) for a in arch_list])
    signup = (lo[arch] + np.floor(rng.random(n) * (hi[arch] - lo[arch] + 1))).astype(np.int64)

    # customer numbers follow signup order, so ids grow with signup date
    order = np.argsort(signup, kind="stable")
    unit, arch, ctype, signup = unit[order], arch[order], ctype[order], signup[order]

    sat_mean = np.array([a.satisfaction for a in arch_list])
    eps_sat = rng.standard_normal(n)
    xi_rate = rng.standard_normal(n)
    xi_disc = rng.standard_normal(n)
    xi_comp = _COMPLAINT_SAT_CORR * -eps_sat + np.sqrt(
        1 - _COMPLAINT_SAT_CORR**2
    ) * rng.standard_normal(n)
    referred = rng.random(n) < 0.125

    rate = (
        np.array([a.orders_per_month for a in arch_list])[arch]
        * np.exp(0.35 * xi_rate - 0.35**2 / 2)
        * 12
        / 365.25
    )  # orders per day
    disc = _expit(_logit(np.array([a.discount_share for a in arch_list]))[arch] + 0.6 * xi_disc)
    comp_rate = (
        np.array([a.complaints_per_year for a in arch_list])[arch]
        * np.exp(0.6 * xi_comp - 0.18)
        / 365.25
    )
    aov = (
        np.array([a.avg_order_value for a in arch_list])[arch]
        * _UNIT_AMOUNT[unit]
        * np.exp(0.25 * rng.standard_normal(n) - 0.25**2 / 2)
    )
    ret = np.array([a.return_rate for a in arch_list])[arch] * np.exp(
        0.3 * rng.standard_normal(n) - 0.045
    )

    # latent churn hazard: archetype base times within-archetype drivers
    z_tenure = _group_standardise(np.log(END_DAY + 30.0 - signup), arch, n_arch)
    L = _HAZARD_LOADINGS
    lin = (
        L["satisfaction"] * -eps_sat
        + L["complaints"] * xi_comp
        + L["discount_share"] * xi_disc
        - L["tenure_days"] * z_tenure
        - L["frequency"] * xi_rate
    )
    var = (
        sum(v**2 for v in L.values())
        + 2 * L["satisfaction"] * L["complaints"] * _COMPLAINT_SAT_CORR
    )
    hazard = (
        np.array([a.churn_hazard for a in arch_list])[arch]
        * np.exp(lin - var / 2)
        * np.where(referred, _REFERRED_HAZARD, 1.0)
    )
    active_from = np.maximum(signup, START_DAY).astype(float)
    lapsing = arch == _ARCH_NAMES.index("lapsing")
    churn_time = active_from + _churn_delay(
        rng.exponential(size=n), hazard / 365.25, active_from - signup
    )
    lo_l, hi_l = _LAPSE_DAYS_BEFORE_END
    churn_time[lapsing] = END_DAY - hi_l + rng.random(lapsing.sum()) * (hi_l - lo_l)
    churn_day = np.floor(churn_time).astype(np.int64) + 1  # first day without purchases
    churned = churn_day <= END_DAY
    active_to = np.minimum(churn_time, END_DAY + 1.0)  # exclusive

    # channel mix tilted by unit, category mix by archetype, each varied per customer
    chan_mean = np.array([a.channel_mix for a in arch_list])[arch] * _UNIT_CHANNEL_TILT[unit]
    chan_mean /= chan_mean.sum(axis=1, keepdims=True)
    cat_mean = np.array([a.category_mix for a in arch_list])[arch]
    return {
        "n": np.array(n),
        "unit": unit,
        "arch": arch,
        "ctype": ctype,
        "signup": signup,
        "sat": sat_mean[arch] + eps_sat,
        "eps_sat": eps_sat,
        "xi_rate": xi_rate,
        "xi_disc": xi_disc,
        "xi_comp": xi_comp,
        "referred": referred,
        "rate": rate,
        "disc": disc,
        "comp_rate": comp_rate,
        "aov": aov,
        "ret": ret,
        "hazard": hazard,
        "active_from": active_from,
        "active_to": active_to,
        "churn_time": churn_time,
        "churn_day": churn_day,
        "churned": churned,
        "chan_p": _dirichlet_rows(rng, chan_mean, _MIX_CONCENTRATION),
        "cat_p": _dirichlet_rows(rng, cat_mean, _MIX_CONCENTRATION),
    }


def _churn_delay(draw: np.ndarray, hazard_per_day: np.ndarray, age0: np.ndarray) -> np.ndarray:
    """Days from the start of observation to churn.

    The hazard is ``h (1 + K exp(-age / tau))`` (new relationships are fragile), so the
    cumulative hazard after ``x`` days is ``h (x + K tau (exp(-age0/tau) - exp(-(age0+x)/tau)))``;
    it is set equal to the unit-exponential ``draw`` and solved by bisection (vectorised).
    NaN hazards (planted churn times) give NaN.
    """
    K, tau = _EARLY_HAZARD_BUMP, _EARLY_HAZARD_DAYS
    h = np.where(np.isfinite(hazard_per_day), hazard_per_day, 1.0)
    lo, hi = np.zeros_like(draw), draw / h  # without the bump: an upper bound
    e0 = np.exp(-age0 / tau)
    for _ in range(40):
        mid = (lo + hi) / 2
        over = h * (mid + K * tau * (e0 - e0 * np.exp(-mid / tau))) > draw
        hi, lo = np.where(over, mid, hi), np.where(over, lo, mid)
    return np.where(np.isfinite(hazard_per_day), (lo + hi) / 2, np.nan)


def _draw_referrers(rng: np.random.Generator, cust: dict[str, np.ndarray]) -> None:
    """Referrer: an earlier customer of the same unit, preferring vip and loyal customers."""
    n = int(cust["n"])
    unit, arch = cust["unit"], cust["arch"]
    by_unit = np.argsort(unit, kind="stable")  # within a unit still in signup order
    start = np.searchsorted(unit[by_unit], np.arange(len(UNITS)))
    pos = np.empty(n, dtype=np.int64)
    pos[by_unit] = np.arange(n) - start[unit[by_unit]]
    referred = cust["referred"] & (pos > 0)
    propensity = np.array([3.0, 2.0, 1.0, 1.0, 0.5, 0.5])
    rows = np.flatnonzero(referred)
    best = np.full(len(rows), -1, dtype=np.int64)
    best_score = np.full(len(rows), -np.inf)
    for _ in range(3):  # best of three random earlier candidates
        cand = by_unit[
            start[unit[rows]] + np.floor(rng.random(len(rows)) * pos[rows]).astype(np.int64)
        ]
        score = propensity[arch[cand]] * rng.random(len(rows))
        better = score > best_score
        best[better], best_score[better] = cand[better], score[better]
    referrer = np.full(n, -1, dtype=np.int64)
    referrer[rows] = best
    cust["referrer"] = referrer
    cust["referred"] = referred


def _draw_attributes(rng: np.random.Generator, cust: dict[str, np.ndarray]) -> None:
    """Demographics (people only) and acquisition channel, shaped by archetype."""
    n = int(cust["n"])
    arch_list = list(ARCHETYPES.values())
    arch = cust["arch"]
    age = np.clip(
        np.round(np.array([a.age for a in arch_list])[arch] + 12 * rng.standard_normal(n)), 18, 90
    ).astype(np.int64)
    gender = pick(rng, [0.52, 0.46, 0.02], n).astype(np.int64)
    gender[gender == 2] = -1
    income = _pick_rows(rng, np.array([a.income_mix for a in arch_list]), arch)
    person_mix = np.array(
        [  # organic, paid_search, social, store, partner
            [0.35, 0.15, 0.10, 0.30, 0.10],
            [0.30, 0.10, 0.10, 0.45, 0.05],
            [0.15, 0.35, 0.40, 0.05, 0.05],
            [0.30, 0.30, 0.10, 0.20, 0.10],
            [0.20, 0.35, 0.35, 0.05, 0.05],
            [0.35, 0.20, 0.15, 0.25, 0.05],
        ]
    )
    acquisition = _pick_rows(rng, np.hstack([person_mix, np.zeros((6, 2))]), arch)
    org = cust["ctype"] != 0
    acquisition[org] = np.array([0, 4, 5])[pick(rng, [0.15, 0.25, 0.60], int(org.sum()))]
    acquisition[cust["referred"]] = ACQUISITION_CHANNELS.index("referral")
    cust["attrs"] = {"age": age, "gender": gender, "income": income, "acquisition": acquisition}


def _draw_churn_reasons(
    rng: np.random.Generator, cust: dict[str, np.ndarray], inter: dict[str, np.ndarray]
) -> None:
    n = int(cust["n"])
    complaints = np.bincount(inter["cust"][inter["type"] == 0], minlength=n)
    d, low_sat = (
        cust["disc"],
        -cust["eps_sat"] - np.array([a.satisfaction for a in ARCHETYPES.values()])[cust["arch"]],
    )
    big = (cust["arch"] == _ARCH_NAMES.index("big_ticket_occasional")).astype(float)
    scores = np.column_stack(
        [
            0.2 + 4.0 * d,  # price
            -0.6 + 0.8 * np.minimum(complaints, 4) + 0.5 * low_sat,  # service
            0.1 + 2.0 * d + 0.3 * low_sat,  # competitor
            np.zeros(n),  # moved
            -0.2 + 0.8 * big,  # no_need
        ]
    )
    reason = _pick_rows(rng, np.exp(scores))
    cust["churn_reason"] = np.where(cust["churned"], reason, -1)
    cust["complaints"] = complaints


# ---- orders --------------------------------------------------------------------------------
def _draw_orders(rng: np.random.Generator, cust: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n = int(cust["n"])
    a, b = cust["active_from"], cust["active_to"]
    span = np.maximum(b - a, 0.0)
    new = cust["arch"] == _ARCH_NAMES.index("new_customer")
    count = np.maximum(rng.poisson(cust["rate"] * span), 1)
    values, probs = _NEW_ORDER_COUNTS
    count[new] = np.array(values)[pick(rng, probs, int(new.sum()))]
    c = np.repeat(np.arange(n, dtype=np.int32), count)
    first = np.cumsum(count) - count
    day = np.floor(a[c] + rng.random(len(c)) * span[c]).astype(np.int32)
    # customers who sign up inside the window buy within two weeks of signing up
    joined = cust["signup"] >= START_DAY
    jf = first[joined]
    day[jf] = np.floor(a[joined] + rng.random(joined.sum()) * np.minimum(span[joined], 14))
    day = np.minimum(day, END_DAY)

    arch = cust["arch"][c]
    cat = _pick_rows(rng, cust["cat_p"], c)
    chan = _pick_rows(rng, cust["chan_p"], c)
    arch_cat = np.array([x.category_mix for x in ARCHETYPES.values()])
    price_norm = _CATEGORY_PRICE[None, :] / (arch_cat @ _CATEGORY_PRICE)[:, None]
    amount = (
        cust["aov"][c]
        * price_norm[arch, cat]
        * np.exp(0.45 * rng.standard_normal(len(c)) - 0.45**2 / 2)
    )
    amount = np.maximum(np.round(amount, 2), 0.5)
    qty = (1 + rng.poisson(_CATEGORY_QTY[cat] * _TYPE_QTY[cust["ctype"][c]])).astype(np.int32)

    # discount: some orders carry one; depth so that the customer's mean share is ~disc
    d = cust["disc"][c]
    p_disc = np.minimum(1.0, 2.5 * d + 0.1)
    depth = np.clip(d / p_disc, 0.01, 0.75)
    k = 10.0
    share = np.clip(rng.beta(depth * k, (1 - depth) * k), 0.0, 0.8)
    share[rng.random(len(c)) >= p_disc] = 0.0
    discount = np.round(amount * share / (1 - share), 2)
    del d, p_disc, depth, share

    status = np.zeros(len(c), dtype=np.int8)
    not_first = np.ones(len(c), dtype=bool)
    not_first[first] = False
    status[not_first & (rng.random(len(c)) < _CANCEL_RATE * len(c) / max(not_first.sum(), 1))] = 1

    # refunds: a later 'returned' row with a negative amount and its own id
    ret = (status == 0) & (rng.random(len(c)) < cust["ret"][c])
    r = np.flatnonzero(ret)
    lag = 1 + rng.geometric(0.1, size=len(r))
    last_day = np.maximum(day[r], np.ceil(cust["active_to"][c[r]]).astype(np.int64) - 1)
    r_day = np.minimum(np.minimum(day[r] + lag, last_day), END_DAY).astype(np.int32)
    full = rng.random(len(r)) < 0.6
    frac = np.where(full, 1.0, 0.3 + 0.6 * rng.random(len(r)))
    r_amount = -np.maximum(np.round(amount[r] * frac, 2), 0.01)
    r_qty = np.where(full, qty[r], np.maximum(1, np.round(qty[r] * frac))).astype(np.int32)

    cols = {
        "cust": np.concatenate([c, c[r]]),
        "day": np.concatenate([day, r_day]),
        "amount": np.concatenate([amount, r_amount]),
        "qty": np.concatenate([qty, r_qty]),
        "cat": np.concatenate([cat, cat[r]]),
        "chan": np.concatenate([chan, chan[r]]),
        "discount": np.concatenate([discount, np.zeros(len(r))]),
        "status": np.concatenate([status, np.full(len(r), 2, dtype=np.int8)]),
    }
    del c, day, amount, qty, cat, chan, discount, status
    order = np.argsort(cols["day"].astype(np.int64) * (n + 1) + cols["cust"], kind="stable")
    out = {k: v[order] for k, v in cols.items()}
    del cols
    out["unit"] = cust["unit"][out["cust"]]
    out["missing"] = np.zeros(len(order), dtype=bool)
    return out


def _insert(
    cols: dict[str, np.ndarray], new: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Insert the rows of ``new`` at random positions of ``cols``."""
    m = len(next(iter(cols.values())))
    k = len(next(iter(new.values())))
    pos = np.sort(rng.integers(0, m + 1, size=k))
    return {name: np.insert(cols[name], pos, new[name], axis=0) for name in cols}


def _dirty_orders(
    rng: np.random.Generator, o: dict[str, np.ndarray], dirty: dict[str, int], n: int
) -> dict[str, np.ndarray]:
    m = len(o["day"])
    clean_rows = np.flatnonzero(o["status"] == 0)
    o = dict(o)
    o["number"] = np.zeros(m, dtype=np.int64)  # order number, set after insertion

    def copies(k: int) -> dict[str, np.ndarray]:
        src = rng.choice(clean_rows, size=k, replace=False)
        return {name: v[src].copy() for name, v in o.items()}

    unknown = copies(dirty["unknown_customer_orders"])
    unknown["cust"] = _UNKNOWN_CUSTOMER_BASE + 1 + np.arange(len(unknown["cust"]))
    missing = copies(dirty["missing_customer_orders"])
    missing["missing"][:] = True
    future = copies(dirty["future_orders"])
    future["day"] = _day("2030-01-01") + rng.integers(0, 365, size=len(future["day"]))
    new = {name: np.concatenate([unknown[name], missing[name], future[name]]) for name in o}
    o = _insert(o, new, rng)
    o["number"] = np.arange(1, len(o["day"]) + 1)

    # exact duplicates: the same row (same order_id) again, right after the original
    src = np.sort(
        rng.choice(np.flatnonzero(o["status"] == 0), size=dirty["duplicate_orders"], replace=False)
    )
    return {name: np.insert(v, src + 1, v[src]) for name, v in o.items()}


def _orders_table(o: dict[str, np.ndarray]) -> pa.Table:
    width = max(8, len(str(int(o["number"].max()))))
    cust_num = np.where(o["cust"] >= _UNKNOWN_CUSTOMER_BASE, o["cust"], o["cust"] + 1)
    return pa.table(
        {
            "order_id": make_ids("O", o["number"], width),
            "customer_id": pc.if_else(
                pa.array(o["missing"]), pa.scalar(None, pa.string()), make_ids("C", cust_num, 7)
            ),
            "order_date": _dates(o["day"]),
            "amount": pa.array(o["amount"], pa.float64()),
            "business_unit": weighted_labels(UNITS, o["unit"]),
            "quantity": pa.array(o["qty"], pa.int64()),
            "product_category": weighted_labels(CATEGORIES, o["cat"]),
            "channel": weighted_labels(CHANNELS, o["chan"]),
            "discount": pa.array(o["discount"], pa.float64()),
            "status": weighted_labels(STATUSES, o["status"]),
        }
    )


# ---- interactions --------------------------------------------------------------------------
def _draw_interactions(
    rng: np.random.Generator, cust: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    n = int(cust["n"])
    a, b = cust["active_from"], cust["active_to"]
    unit = cust["unit"]
    # general contacts run until two months after churn (win-back campaigns, questions)
    g_end = np.minimum(b + 60.0, END_DAY + 1.0)
    g_count = rng.poisson(
        _GENERAL_CONTACTS_PER_YEAR[unit]
        / 365.25
        * (g_end - a)
        * np.exp(0.3 * rng.standard_normal(n) - 0.045)
    )
    gc = np.repeat(np.arange(n), g_count)
    g_day = np.floor(a[gc] + rng.random(len(gc)) * (g_end - a)[gc])
    g_type = 1 + _pick_rows(rng, _CONTACT_TYPE_MIX, unit[gc])

    # complaints while active, plus one shortly before churn for many churners
    c_count = rng.poisson(cust["comp_rate"] * np.maximum(b - a, 0.0))
    cc = np.repeat(np.arange(n), c_count)
    c_day = np.floor(a[cc] + rng.random(len(cc)) * (b - a)[cc])
    lapsing = cust["arch"] == _ARCH_NAMES.index("lapsing")
    p_trigger = np.where(lapsing, _PRE_CHURN_COMPLAINT[1], _PRE_CHURN_COMPLAINT[0])
    trig = np.flatnonzero(cust["churned"] & (rng.random(n) < p_trigger))
    t_day = np.floor(np.maximum(a[trig], cust["churn_time"][trig] - 3 - 72 * rng.random(len(trig))))

    c = np.concatenate([gc, cc, trig])
    day = np.minimum(np.concatenate([g_day, c_day, t_day]), END_DAY).astype(np.int64)
    typ = np.concatenate([g_type, np.zeros(len(cc) + len(trig), dtype=np.int8)])
    order = np.argsort(day * (n + 1) + c, kind="stable")
    c, day, typ = c[order], day[order], typ[order]
    m = len(c)
    is_complaint = typ == 0
    p_resolved = np.where(is_complaint, _expit(1.2 + 0.4 * cust["eps_sat"][c]), 0.95)
    resolved = rng.random(m) < p_resolved
    hours = np.round(_MEDIAN_RESOLUTION_HOURS[typ] * np.exp(rng.standard_normal(m)), 1)
    hours = np.maximum(hours, 0.1)
    topic_mix = _TOPIC_MIX[typ].copy()
    # delivery topics are more common in ecommerce
    topic_mix[:, 1] *= np.where(unit[c] == 1, 2.0, 1.0)
    topic = _pick_rows(rng, topic_mix)
    return {
        "cust": c,
        "day": day,
        "type": typ,
        "resolved": resolved,
        "hours": hours,
        "topic": topic,
        "unit": unit[c],
    }


def _interactions_table(i: dict[str, np.ndarray], cust: dict[str, np.ndarray]) -> pa.Table:
    width = max(8, len(str(len(i["day"]))))
    return pa.table(
        {
            "interaction_id": make_ids("I", np.arange(1, len(i["day"]) + 1), width),
            "customer_id": make_ids("C", i["cust"] + 1, 7),
            "business_unit": weighted_labels(UNITS, i["unit"]),
            "date": _dates(i["day"]),
            "type": weighted_labels(INTERACTION_TYPES, i["type"]),
            "resolved": pa.array(i["resolved"]),
            "resolution_hours": pa.array(i["hours"], mask=~i["resolved"]),
            "topic": weighted_labels(TOPICS, i["topic"]),
        }
    )


# ---- surveys -------------------------------------------------------------------------------
def _draw_surveys(
    rng: np.random.Generator, cust: dict[str, np.ndarray], o: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    n = int(cust["n"])
    n_units, n_q = len(UNITS), len(QUARTERS)
    total = max(round(_RESPONSES_PER_CUSTOMER * n), n_units * n_q)
    weight = np.outer(_SURVEY_UNIT_WEIGHT, _SURVEY_QUARTER_WEIGHT).ravel()
    # survey volumes are quotas per unit-quarter (largest-remainder rounding)
    quota = total * weight / weight.sum()
    count = np.floor(quota).astype(np.int64)
    count[np.argsort(count - quota, kind="stable")[: total - count.sum()]] += 1
    cell = np.repeat(np.arange(n_units * n_q), count)
    R = len(cell)
    r_unit, r_q = cell // n_q, cell % n_q

    # identified responses: a customer active in the unit-quarter (each such customer equally
    # likely), answering within a week of one of their orders in it
    done = o["status"] == 0
    oc, od = o["cust"][done], o["day"][done]
    ocell = o["unit"][done].astype(np.int64) * n_q + _quarter_of(od)
    key = ocell * n + oc
    srt = np.argsort(key, kind="stable")
    skey = key[srt]
    run_start = np.flatnonzero(np.r_[True, skey[1:] != skey[:-1]])
    run_len = np.diff(np.r_[run_start, len(skey)])
    w = np.repeat(1.0 / run_len, run_len)
    cw = np.cumsum(w)
    scell = skey // n
    c_lo = np.searchsorted(scell, np.arange(n_units * n_q))
    c_hi = np.searchsorted(scell, np.arange(n_units * n_q), side="right")
    base = np.where(c_lo > 0, cw[np.maximum(c_lo - 1, 0)], 0.0)
    cell_w = np.where(c_hi > c_lo, cw[np.maximum(c_hi - 1, 0)] - base, 0.0)
    identified = (rng.random(R) >= _ANONYMOUS_SHARE) & (cell_w[cell] > 0)
    target = base[cell] + rng.random(R) * cell_w[cell]
    pos = np.clip(
        np.searchsorted(cw, target, side="right"),
        c_lo[cell],
        np.maximum(c_hi[cell] - 1, c_lo[cell]),
    )
    src = srt[np.minimum(pos, len(srt) - 1)] if len(srt) else np.zeros(R, dtype=np.int64)
    q_start, q_end = _QUARTER_START[r_q], _QUARTER_START[r_q + 1] - 1
    r_cust = np.where(identified, oc[src] if len(oc) else 0, -1)
    day_ident = np.minimum(od[src] + rng.integers(0, 8, size=R), q_end) if len(od) else q_start
    day_anon = q_start + np.floor(rng.random(R) * (q_end - q_start + 1)).astype(np.int64)
    r_day = np.where(identified, day_ident, day_anon)

    # ratings: latent per attribute = customer satisfaction + response impression + noise
    sat = np.where(
        identified, cust["sat"][np.maximum(r_cust, 0)], 0.15 + 1.1 * rng.standard_normal(R)
    )
    g = rng.standard_normal(R)
    lu, lg = _RATING_LOADING_CUSTOMER, _RATING_LOADING_RESPONSE
    e_sd = np.sqrt(max(1 - lu**2 * 1.2 - lg**2, 0.05))
    z = (lu * sat + lg * g)[:, None] + e_sd * rng.standard_normal((R, len(RATINGS)))
    z += _RATING_OFFSET
    drop = (r_unit == _DROP_UNIT) & (r_q == _DROP_QUARTER)
    z_drop = z - np.where(drop[:, None], _DROP_SHIFT[None, :], 0.0)
    rating_base = 1 + (z[:, :, None] > _RATING_THRESHOLDS).sum(axis=2)  # for z() moments
    rating = 1 + (z_drop[:, :, None] > _RATING_THRESHOLDS).sum(axis=2)

    # overall satisfaction = sum_k w_k z(rating_k) + noise; z() uses moments without the drop
    wts = np.array(list(SATISFACTION_DRIVER_WEIGHTS.values()))
    mu, sd = rating_base.mean(axis=0), rating_base.std(axis=0)
    s_signal = ((rating - mu) / sd) @ wts
    noise_sd = np.sqrt(s_signal.var() * (1 - _SATISFACTION_R2) / _SATISFACTION_R2)
    s = s_signal + noise_sd * rng.standard_normal(R)

    # discretise within each unit-quarter at that cell's target shares: the unit's baseline
    # plus a little noise, lowered in the planted cell. Shifts in who answers between periods
    # then do not move NPS, while within a cell the ratings still decide who scores high.
    n_cells = n_units * n_q
    drop_cell = _DROP_UNIT * n_q + _DROP_QUARTER
    nps_target = _UNIT_NPS[np.arange(n_cells) // n_q] + _CELL_NPS_JITTER * rng.standard_normal(
        n_cells
    )
    nps_target[[drop_cell - 1, drop_cell]] = _UNIT_NPS[_DROP_UNIT]  # the planted change is exact
    nps_target[drop_cell] -= _NPS_DROP
    nps = _discretise_by_cell(s, cell, np.array([_nps_mix(t) for t in nps_target]))
    s_csat = s + 0.3 * noise_sd * rng.standard_normal(R)
    tilt = _CELL_NPS_JITTER * rng.standard_normal(n_cells)
    tilt[drop_cell] -= _CSAT_TOP2_DROP
    csat = 1 + _discretise_by_cell(s_csat, cell, np.array([_csat_mix(t) for t in tilt]))

    touch = _pick_rows(rng, _TOUCHPOINT_MIX, r_unit)
    order = np.argsort(r_day * (n_cells + 1) + cell, kind="stable")
    surveys = {
        "cust": r_cust[order],
        "day": r_day[order],
        "unit": r_unit[order].astype(np.int8),
        "nps": nps[order].astype(np.int64),
        "csat": csat[order].astype(np.int64),
        "ratings": rating[order].astype(np.int64),
        "touch": touch[order],
    }
    nps_realised = _nps_by_cell(surveys)
    q3, q4 = QUARTERS.index("2025-Q3"), QUARTERS.index("2025-Q4")
    truth = {
        "unit": UNITS[_DROP_UNIT],
        "period": QUARTERS[_DROP_QUARTER],
        "previous_period": QUARTERS[_DROP_QUARTER - 1],
        "planted_change": round(nps_realised[_DROP_UNIT][q4] - nps_realised[_DROP_UNIT][q3], 1),
        "planted_target": round(-100 * _NPS_DROP, 1),
        "mechanism": "in that unit-quarter the latent ratings are lowered ("
        + ", ".join(
            f"rating_{k} by {v:.2f} sd" for k, v in zip(RATINGS, _DROP_SHIFT, strict=True) if v
        )
        + f") and the NPS target drops by {100 * _NPS_DROP:.0f} points (CSAT top-2-box by "
        f"{100 * _CSAT_TOP2_DROP:.0f}); every other unit-quarter keeps its unit's baseline",
        "baseline_nps": {
            u: round(100 * float(v), 1) for u, v in zip(UNITS, _UNIT_NPS, strict=True)
        },
        "nps_by_unit_quarter": {
            UNITS[u]: {QUARTERS[q]: nps_realised[u][q] for q in range(n_q)} for u in range(n_units)
        },
    }
    return surveys, truth


def _nps_mix(nps: float) -> np.ndarray:
    """Shares of the scores 0..10 for a given NPS (fraction), passives fixed at 30%."""
    promoters = 0.35 + nps / 2
    detractors = 0.35 - nps / 2
    det = np.array([0.06, 0.04, 0.07, 0.10, 0.12, 0.25, 0.36]) * detractors
    pas = np.array([0.45, 0.55]) * 0.30
    pro = np.array([0.45, 0.55]) * promoters
    return np.concatenate([det, pas, pro])


def _csat_mix(tilt: float) -> np.ndarray:
    p = _CSAT_MIX.copy()
    p[3:] += tilt / 2
    p[:3] -= tilt / 2 * p[:3] / p[:3].sum()
    return p


def _discretise_by_cell(value: np.ndarray, cell: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Levels ``0..k-1`` by rank of ``value`` within each cell, at the cumulative ``probs`` of
    that cell (row ``c`` of ``probs`` for cell ``c``)."""
    order = np.lexsort((value, cell))
    n_cells = probs.shape[0]
    size = np.bincount(cell, minlength=n_cells)
    lo = np.searchsorted(cell[order], np.arange(n_cells))
    rank = np.empty(len(value), dtype=np.int64)
    rank[order] = np.arange(len(value)) - lo[cell[order]]
    cum = np.cumsum(probs, axis=1)[:, :-1]  # k-1 cut points
    cuts = np.round(cum * size[:, None]).astype(np.int64)
    return (rank[:, None] >= cuts[cell]).sum(axis=1)


def _nps_by_cell(s: dict[str, np.ndarray]) -> list[list[float]]:
    q = _quarter_of(s["day"])
    score = np.where(s["nps"] >= 9, 1.0, np.where(s["nps"] <= 6, -1.0, 0.0))
    cell = s["unit"].astype(np.int64) * len(QUARTERS) + q
    k = len(UNITS) * len(QUARTERS)
    val = (
        100 * np.bincount(cell, score, minlength=k) / np.maximum(np.bincount(cell, minlength=k), 1)
    )
    return [
        [round(float(v), 1) for v in val[u * len(QUARTERS) : (u + 1) * len(QUARTERS)]]
        for u in range(len(UNITS))
    ]


def _dirty_surveys(
    rng: np.random.Generator, s: dict[str, np.ndarray], dirty: dict[str, int]
) -> dict[str, np.ndarray]:
    R = len(s["day"])
    k_nps, k_csat = dirty["survey_nps_out_of_range"], dirty["survey_csat_out_of_range"]
    src = rng.choice(R, size=k_nps + k_csat, replace=False)
    new = {name: v[src].copy() for name, v in s.items()}
    new["nps"][:k_nps] = np.where(rng.random(k_nps) < 0.5, 11, -1)
    new["csat"][k_nps:] = np.where(rng.random(k_csat) < 0.5, 7, 0)
    out = _insert(s, new, rng)
    out["number"] = np.arange(1, len(out["day"]) + 1)
    return out


def _survey_comments(
    rng: np.random.Generator,
    s: dict[str, np.ndarray],
    cust: dict[str, np.ndarray],
    pii: dict[str, Any],
) -> tuple[pa.Array, int]:
    """Comments themed by sentiment and by the best/worst rated attribute, in the
    respondent's language; a few carry a phone number or e-mail address."""
    R = len(s["day"])
    nps = s["nps"]
    sentiment = np.where(nps <= 6, 0, np.where(nps >= 9, 1, 2))  # negative, positive, neutral
    has = rng.random(R) < np.array([0.6, 0.4, 0.3])[sentiment]
    known = s["cust"] >= 0
    zh_customer = pii["zh"][np.maximum(s["cust"], 0)]
    p_zh = np.where(known, np.where(zh_customer, 0.85, 0.15), 0.5)
    zh = rng.random(R) < p_zh
    rel = s["ratings"] + 0.01 * rng.random(s["ratings"].shape)
    attr = np.where(sentiment == 0, rel.argmin(axis=1), rel.argmax(axis=1))
    variant = rng.integers(0, 3, size=R)

    bank: list[str] = []
    offsets = {}
    for lang, neg, pos, neu in (
        ("en", names.COMMENTS_NEGATIVE_EN, names.COMMENTS_POSITIVE_EN, names.COMMENTS_NEUTRAL_EN),
        ("zh", names.COMMENTS_NEGATIVE_ZH, names.COMMENTS_POSITIVE_ZH, names.COMMENTS_NEUTRAL_ZH),
    ):
        offsets[lang] = len(bank)
        bank += [t for group in neg for t in group] + [t for group in pos for t in group] + neu
    per_lang = 15 + 15 + len(names.COMMENTS_NEUTRAL_EN)
    idx = np.where(
        sentiment == 2,
        30 + rng.integers(0, len(names.COMMENTS_NEUTRAL_EN), size=R),
        sentiment * 15 + attr * 3 + variant,
    ) + np.where(zh, per_lang, 0)
    comments = pa.array(bank).take(pa.array(idx.astype(np.int32), mask=~has))

    rows = np.flatnonzero(has)
    k = min(len(rows), max(2, round(_PII_COMMENT_SHARE * len(rows))))
    chosen = np.sort(rng.choice(rows, size=k, replace=False))
    use_phone = np.arange(k) % 2 == 0
    c = s["cust"][chosen]
    fake_phone = _join(
        "139-",
        make_ids("", rng.integers(0, 10_000, k), 4),
        "-",
        make_ids("", rng.integers(0, 10_000, k), 4),
    )
    fake_email = _join("guest.", make_ids("", rng.integers(0, 100_000, k), 5), "@example.com")
    phone = pc.if_else(pa.array(c >= 0), pii["phone"].take(pa.array(np.maximum(c, 0))), fake_phone)
    email = pc.if_else(pa.array(c >= 0), pii["email"].take(pa.array(np.maximum(c, 0))), fake_email)
    contact = pc.if_else(pa.array(use_phone), phone, email)
    lead = pc.if_else(
        pa.array(zh[chosen]),
        pa.array(np.where(use_phone, "，请打电话给我 ", "，请发邮件到 ")),
        pa.array(np.where(use_phone, ". Please call me at ", ". Contact me at ")),
    )
    with_pii = _join(comments.take(pa.array(chosen)), lead, contact)
    values = comments.to_numpy(zero_copy_only=False).astype(object)
    values[chosen] = with_pii.to_numpy(zero_copy_only=False)
    return pa.array(values, type=pa.string()), k


def _surveys_table(s: dict[str, np.ndarray], comments: pa.Array) -> pa.Table:
    width = max(8, len(str(len(s["day"]))))
    cols: dict[str, pa.Array] = {
        "response_id": make_ids("S", s["number"], width),
        "response_date": _dates(s["day"]),
        "business_unit": weighted_labels(UNITS, s["unit"]),
        "customer_id": pc.if_else(
            pa.array(s["cust"] < 0),
            pa.scalar(None, pa.string()),
            make_ids("C", np.maximum(s["cust"], 0) + 1, 7),
        ),
        "nps": pa.array(s["nps"]),
        "csat": pa.array(s["csat"]),
    }
    for k, name in enumerate(RATINGS):
        cols[f"rating_{name}"] = pa.array(s["ratings"][:, k])
    cols["comment"] = comments
    cols["touchpoint"] = weighted_labels(TOUCHPOINTS, s["touch"])
    return pa.table(cols)


# ---- personal data -------------------------------------------------------------------------
def _draw_pii(rng: np.random.Generator, cust: dict[str, np.ndarray]) -> dict[str, Any]:
    """Fake but realistic PII: English and Chinese names, phones, e-mails, addresses."""
    n = int(cust["n"])
    ctype = cust["ctype"]
    person = ctype == 0
    zh = rng.random(n) < 0.6
    city_w = np.array(names.CITY_WEIGHTS, dtype=float)
    intl = np.array([c[1] == "" for c in names.CITIES])
    city = np.where(
        zh,
        pick(rng, np.where(intl, 0.0, city_w), n),
        pick(rng, np.where(intl, 4 * city_w, city_w), n),
    )
    zh_addr = zh & ~intl[city]
    num = np.arange(1, n + 1)
    num_str = pa.array(num).cast(pa.string())
    city_en = [c[0] for c in names.CITIES]
    city_zh = [c[1] or c[0] for c in names.CITIES]
    city_zh_short = [c[1][:-1] if c[1] else c[0] for c in names.CITIES]
    city_slug = [c[0].lower().replace(" ", "").replace("'", "") for c in names.CITIES]
    r_first = rng.integers(0, len(names.EN_FIRST), n)
    r_last = rng.integers(0, len(names.EN_LAST), n)
    r_sur = rng.integers(0, len(names.ZH_SURNAME), n)
    r_given = rng.integers(0, len(names.ZH_GIVEN), n)
    r_brand_en = rng.integers(0, len(names.EN_BRANDS), n)
    r_brand_zh = rng.integers(0, len(names.ZH_BRANDS), n)
    r_ind = rng.integers(0, 8, n)
    r_suffix = rng.integers(0, len(names.EN_COMPANY_SUFFIX), n)
    r_agency = rng.integers(0, 5, n)
    house = rng.integers(1, 400, n)
    r_street = rng.integers(0, len(names.EN_STREETS), n)
    r_road = rng.integers(0, len(names.ZH_ROADS), n)
    bldg, room = rng.integers(1, 30, n), rng.integers(101, 2300, n)
    ph_pre = rng.integers(0, len(names.MOBILE_PREFIXES), n)
    ph_a, ph_b = rng.integers(0, 10_000, n), rng.integers(0, 10_000, n)

    def lab(vocab, codes, rows):
        return weighted_labels(vocab, codes[rows])

    def en_person(r):
        return _join(lab(names.EN_FIRST, r_first, r), " ", lab(names.EN_LAST, r_last, r))

    def zh_person(r):
        return _join(
            lab([x[0] for x in names.ZH_SURNAME], r_sur, r),
            lab([x[0] for x in names.ZH_GIVEN], r_given, r),
        )

    def en_company(r):
        return _join(
            lab(names.EN_BRANDS, r_brand_en, r),
            " ",
            lab(names.EN_INDUSTRIES, r_ind, r),
            " ",
            lab(names.EN_COMPANY_SUFFIX, r_suffix, r),
        )

    def zh_company(r):
        return _join(
            lab(city_zh_short, city, r),
            lab([x[0] for x in names.ZH_BRANDS], r_brand_zh, r),
            lab(names.ZH_INDUSTRIES, r_ind, r),
            "有限公司",
        )

    def en_agency(r):
        return _join("City of ", lab(city_en, city, r), " ", lab(names.EN_AGENCIES, r_agency, r))

    def zh_agency(r):
        return _join(lab(city_zh, city, r), lab(names.ZH_AGENCIES, r_agency, r))

    def en_inst(r):
        return _join(lab(city_en, city, r), " ", lab(names.EN_INSTITUTIONS, r_agency, r))

    def zh_inst(r):
        return _join(lab(city_zh_short, city, r), lab(names.ZH_INSTITUTIONS, r_agency, r))

    kind = ctype.astype(np.int64) * 2 + zh  # (type, language)
    name = _by_variant(
        kind, [en_person, zh_person, en_company, zh_company, en_agency, zh_agency, en_inst, zh_inst]
    )

    def email_person_en(r):
        return _join(
            pc.utf8_lower(lab(names.EN_FIRST, r_first, r)),
            ".",
            pc.utf8_lower(lab(names.EN_LAST, r_last, r)),
            num_str.take(pa.array(r)),
            "@example.com",
        )

    def email_person_zh(r):
        return _join(
            lab([x[1] for x in names.ZH_GIVEN], r_given, r),
            ".",
            lab([x[1] for x in names.ZH_SURNAME], r_sur, r),
            num_str.take(pa.array(r)),
            "@example.com",
        )

    def email_company_en(r):
        return _join(
            "info.",
            pc.utf8_lower(lab(names.EN_BRANDS, r_brand_en, r)),
            num_str.take(pa.array(r)),
            "@example.com",
        )

    def email_company_zh(r):
        return _join(
            "info.",
            lab([x[1] for x in names.ZH_BRANDS], r_brand_zh, r),
            num_str.take(pa.array(r)),
            "@example.com",
        )

    def email_public(r):
        return _join("office.", lab(city_slug, city, r), num_str.take(pa.array(r)), "@example.com")

    email_kind = np.where(kind < 4, kind, 4)
    email = _by_variant(
        email_kind,
        [email_person_en, email_person_zh, email_company_en, email_company_zh, email_public],
    )

    def phone_en(r):
        return _join("+1-555-", make_ids("", ph_a[r], 4), "-", make_ids("", ph_b[r] % 1000, 3))

    def phone_zh(r):
        return _join(
            lab(names.MOBILE_PREFIXES, ph_pre, r),
            "-",
            make_ids("", ph_a[r], 4),
            "-",
            make_ids("", ph_b[r], 4),
        )

    phone = _by_variant(zh.astype(np.int64), [phone_en, phone_zh])
    house_str = pa.array(house).cast(pa.string())

    def addr_en(r):
        return _join(
            house_str.take(pa.array(r)),
            " ",
            lab(names.EN_STREETS, r_street, r),
            ", ",
            lab(city_en, city, r),
        )

    def addr_zh(r):
        return _join(
            lab(city_zh, city, r),
            lab(names.ZH_ROADS, r_road, r),
            house_str.take(pa.array(r)),
            "号",
            pc.if_else(
                pa.array(person[r]),
                _join(
                    pa.array(bldg[r]).cast(pa.string()),
                    "栋",
                    pa.array(room[r]).cast(pa.string()),
                    "室",
                ),
                "",
            ),
        )

    address = _by_variant(zh_addr.astype(np.int64), [addr_en, addr_zh])
    return {
        "zh": zh,
        "city": city,
        "name": name,
        "email": email,
        "phone": phone,
        "address": address,
    }


def _customers_table(cust: dict[str, np.ndarray], pii: dict[str, Any]) -> pa.Table:
    n = int(cust["n"])
    attrs = cust["attrs"]
    region_of_city = [c[2] for c in names.CITIES]
    city_en = [c[0] for c in names.CITIES]
    person = cust["ctype"] == 0
    churned = cust["churned"]
    return pa.table(
        {
            "customer_id": make_ids("C", np.arange(1, n + 1), 7),
            "business_unit": weighted_labels(UNITS, cust["unit"]),
            "customer_type": weighted_labels(CUSTOMER_TYPES, cust["ctype"]),
            "signup_date": _dates(cust["signup"]),
            "region": weighted_labels(region_of_city, pii["city"]),
            "city": weighted_labels(city_en, pii["city"]),
            "age": pa.array(attrs["age"], mask=~person),
            "birth_date": _dates(birth_days(cust), mask=~person),
            "gender": weighted_labels(
                GENDERS, attrs["gender"], mask=~person | (attrs["gender"] < 0)
            ),
            "income_band": weighted_labels(INCOME_BANDS, attrs["income"], mask=~person),
            "acquisition_channel": weighted_labels(ACQUISITION_CHANNELS, attrs["acquisition"]),
            "referred_by": pc.if_else(
                pa.array(cust["referrer"] < 0),
                pa.scalar(None, pa.string()),
                make_ids("C", np.maximum(cust["referrer"], 0) + 1, 7),
            ),
            "churned": pa.array(churned),
            "churn_date": _dates(np.minimum(cust["churn_day"], END_DAY), mask=~churned),
            "churn_reason": weighted_labels(
                CHURN_REASONS, np.maximum(cust["churn_reason"], 0), mask=~churned
            ),
            "name": pii["name"],
            "phone": pii["phone"],
            "email": pii["email"],
            "address": pii["address"],
        }
    )


# ---- truth ---------------------------------------------------------------------------------
def _truth(
    n: int,
    seed: int,
    cust: dict[str, np.ndarray],
    nps_truth: dict[str, Any],
    dirty: dict[str, int],
    n_pii_comments: int,
    row_counts: dict[str, int],
) -> dict[str, Any]:
    arch = cust["arch"]
    archetypes = {}
    for k, (name, a) in enumerate(ARCHETYPES.items()):
        members = arch == k
        archetypes[name] = {
            "description": a.description,
            "customers": int(members.sum()),
            "share": round(float(members.mean()), 4),
            "orders_per_month": a.orders_per_month if name != "new_customer" else None,
            "orders_if_new": list(_NEW_ORDER_COUNTS[0]) if name == "new_customer" else None,
            "avg_order_value": a.avg_order_value,
            "discount_share": a.discount_share,
            "return_rate": a.return_rate,
            "complaints_per_year": a.complaints_per_year,
            "latent_satisfaction_mean": a.satisfaction,
            "churn_hazard_per_year": None if name == "lapsing" else a.churn_hazard,
            "lapse_days_before_end": list(_LAPSE_DAYS_BEFORE_END) if name == "lapsing" else None,
            "signup_range": list(a.signup),
            "category_mix": dict(zip(CATEGORIES, a.category_mix, strict=True)),
            "channel_mix": dict(zip(CHANNELS, a.channel_mix, strict=True)),
            "churned_share": round(float(cust["churned"][members].mean()), 4)
            if members.any()
            else 0.0,
        }
    segment = dict(
        zip(
            make_ids("C", np.arange(1, n + 1), 7).to_pylist(),
            np.array(_ARCH_NAMES)[arch].tolist(),
            strict=True,
        )
    )
    return {
        "seed": int(seed),
        "n_customers": n,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "units": list(UNITS),
        "customer_types": list(CUSTOMER_TYPES),
        "archetypes": archetypes,
        "churn_drivers": dict(CHURN_DRIVERS),
        "churn_check": {
            "snapshot": SNAPSHOT.isoformat(),
            "window_days": CHURN_WINDOW_DAYS,
            "label": "no completed order in the 90 days after the snapshot",
            "features": {
                "complaints": "complaint interactions before the snapshot",
                "satisfaction": "mean csat of the customer's survey responses before the snapshot",
                "discount_share": "sum(discount) / sum(amount + discount), completed orders",
                "tenure_days": "snapshot - signup_date (relationship tenure; days since the "
                "first order in the data are left-truncated at the window start and, given "
                "frequency, do not carry the planted sign)",
                "frequency": "completed orders before the snapshot",
            },
            "hazard_loadings": dict(_HAZARD_LOADINGS),
            "churned_customers": int(cust["churned"].sum()),
        },
        "satisfaction_driver_weights": dict(SATISFACTION_DRIVER_WEIGHTS),
        "nps_outcome": {
            "columns": ["nps", "csat"],
            "latent": "sum_k w_k * z(rating_k) + noise, R^2 about "
            f"{_SATISFACTION_R2:.2f}; nps and csat (csat with a little extra noise) are "
            "discretised from it by rank within each unit-quarter, at that cell's target "
            "score shares",
            "primary": "nps",
            "rating_scale": [1, 5],
            "rating_intercorrelation": "about 0.3-0.5",
        },
        "nps_drop": nps_truth,
        "dirty_rows": {**dirty, "survey_comments_with_pii": n_pii_comments},
        "row_counts": row_counts,
        "segment_of_customer": segment,
    }

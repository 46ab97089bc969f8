"""Sample data sets in every shape a business exports, each with its planted truth.

``segreport sample --shape SHAPE`` writes one of:

``transactional``
    The full sample (:func:`analysis.data.sample.write_sample`): customers, orders,
    survey responses, interactions, four units.
``orders-only``
    Only the orders table of the transactional sample (customers are derived from the
    orders when loading). ``truth.json`` adds ``shape.derived_customers``: the customers
    the loader must derive (a customer id on a usable order: not cancelled, not dated in
    the future, amount not zero).
``survey-only``
    Only the survey responses of the transactional sample, exported **without response
    ids** (ids are then made from the row order, one counted repair per row). There is no
    orders file; the NPS drop and the satisfaction driver weights are still planted.
``subscription``
    A contractual business (one unit, ``telecom``): customers with ``signup_date``,
    ``churned``, ``churn_date``, ``contract``, ``payment_method``, ``plan``,
    ``tenure_months``, ``monthly_charges`` and ``total_charges``; monthly billing lines
    as orders (``signup_date + k months``, exactly what :mod:`analysis.data.billing`
    derives from the customers table alone); complaint and inquiry interactions. Churn is
    planted as a monthly hazard with known log-odds effects (``truth.churn_hazard``) and
    the contractual churners of every quarter are counted (``truth.churned_by_quarter``).

Every shape is deterministic by seed (same seed, byte-identical files) and its
``truth.json`` has a ``shape`` block naming the tables written, the tables absent and what
the loader must repair or derive.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ParamsError
from . import sample as base
from .billing import add_months, months_before

SHAPES = ("transactional", "orders-only", "survey-only", "subscription")

# ---- subscription: the planted business ------------------------------------------------
SUB_UNIT = "telecom"
SUB_START = np.datetime64("2019-01-01", "D")
SUB_END = np.datetime64("2025-12-31", "D")  # the data date: bills run through it
CONTRACTS = ("month_to_month", "one_year", "two_year")
CONTRACT_MIX = (0.55, 0.25, 0.20)
PAYMENTS = ("electronic_check", "mailed_check", "bank_transfer", "credit_card")
PAYMENT_MIX = (0.34, 0.20, 0.23, 0.23)
PLANS = ("basic", "standard", "premium")
PLAN_MIX = (0.35, 0.45, 0.20)
PLAN_PRICE = (25.0, 60.0, 95.0)
REGIONS = ("north", "east", "south", "west")
#: Monthly churn hazard: expit(intercept + sum of effects), effects in log-odds.
CHURN_HAZARD = {
    "intercept": -4.6,
    "contract_month_to_month": 1.3,
    "contract_two_year": -0.9,
    "payment_electronic_check": 0.6,
    "monthly_charges_per_10": 0.12,
    "complaints_per_year": 0.45,
}
CHURN_REASONS = ("price", "service", "competitor", "moved", "no_need")
_COMPLAINT_SCALE = 0.7  # complaint rate per year ~ Gamma(1, 0.7)
_INQUIRIES_PER_YEAR = 1.5


def write_shape(
    out_dir: str | Path,
    shape: str = "transactional",
    *,
    n_customers: int = 20_000,
    seed: int = 42,
    fmt: str = "csv",
) -> Path:
    """Write the sample of one shape (see the module docstring) to ``out_dir``.

    Parameters
    ----------
    out_dir
        Target directory; created, or replaced once the new data set is complete.
    shape
        One of :data:`SHAPES`.
    n_customers, seed
        Size and seed (as :func:`analysis.data.sample.generate_sample`).
    fmt
        ``"csv"`` or ``"parquet"``.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    ParamsError
        An unknown shape or format, bad sizes, or an ``out_dir`` that is a file.

    Examples
    --------
    >>> write_shape("/tmp/sub", "subscription", n_customers=2_000)  # doctest: +SKIP
    """
    if shape not in SHAPES:
        raise ParamsError(f"shape must be one of {', '.join(SHAPES)}; got {shape!r}")
    if shape == "transactional":
        path = base.write_sample(out_dir, n_customers=n_customers, seed=seed, fmt=fmt)
        truth_file = path / "truth.json"
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        truth["shape"] = {"name": shape, "tables": list(base.TABLE_NAMES), "absent": []}
        _dump(truth, truth_file)
        return path
    if fmt not in ("csv", "parquet"):
        raise ParamsError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ParamsError(f"out_dir {str(out)!r} exists and is not a directory")
    if shape == "subscription":
        tables, truth = _subscription(n_customers, seed)
    else:
        full, truth = base.generate_tables(n_customers, seed)
        tables, truth = _slice_transactional(shape, full, truth)
    _write_atomic(out, tables, truth, fmt)
    return out


def _dump(truth: dict[str, Any], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=1)
        fh.write("\n")


def _write_atomic(out: Path, tables: dict[str, pa.Table], truth: dict, fmt: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        tmp.chmod(0o755)
        for name, table in tables.items():
            base.write_table(table, tmp / f"{name}.{fmt}", fmt)
        _dump(truth, tmp / "truth.json")
        if out.exists():
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            out.rename(old)
            try:
                tmp.rename(out)
            except BaseException:
                old.rename(out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ---- slices of the transactional sample ------------------------------------------------
def _slice_transactional(
    shape: str, full: dict[str, pa.Table], truth: dict[str, Any]
) -> tuple[dict[str, pa.Table], dict[str, Any]]:
    absent = [t for t in base.TABLE_NAMES]
    if shape == "orders-only":
        orders = full["orders"]
        usable = pc.and_(
            pc.and_(
                pc.not_equal(orders["status"], "cancelled"),
                pc.less_equal(orders["order_date"], pa.scalar(base.END, pa.date32())),
            ),
            pc.and_(pc.not_equal(orders["amount"], 0.0), pc.is_valid(orders["customer_id"])),
        )
        derived = pc.count_distinct(orders.filter(usable)["customer_id"]).as_py()
        tables = {"orders": orders}
        info = {
            "derived_customers": int(derived),
            "note": "no customers file: customers are derived from the orders "
            "(first order = sign-up); no surveys or interactions",
        }
        for key in ("satisfaction_driver_weights", "nps_outcome", "nps_drop"):
            truth.pop(key, None)
    else:  # survey-only
        surveys = full["survey_responses"]
        surveys = surveys.drop_columns(["response_id"])
        tables = {"survey_responses": surveys}
        info = {
            "generated_response_ids": surveys.num_rows,
            "note": "survey responses exported without response ids (made from the row "
            "order when loading); no orders, customers or interactions file",
        }
        for key in ("archetypes", "churn_drivers", "churn_check", "segment_of_customer"):
            truth.pop(key, None)
    truth["shape"] = {
        "name": shape,
        "tables": list(tables),
        "absent": [t for t in absent if t not in tables],
        **info,
    }
    truth["row_counts"] = {k: t.num_rows for k, t in tables.items()}
    return tables, truth


# ---- subscription ----------------------------------------------------------------------
def _subscription(n_customers: int, seed: int) -> tuple[dict[str, pa.Table], dict[str, Any]]:
    base.check_args(n_customers, seed)
    n = int(n_customers)
    rng = np.random.default_rng([int(seed), 7])
    contract = base.pick(rng, CONTRACT_MIX, n)
    payment = base.pick(rng, PAYMENT_MIX, n)
    plan = base.pick(rng, PLAN_MIX, n)
    region = base.pick(rng, (1, 1, 1, 1), n)
    ctype = np.where(rng.random(n) < 0.12, 1, 0).astype(np.int8)  # individual | enterprise
    monthly = np.round(np.asarray(PLAN_PRICE)[plan] * rng.uniform(0.85, 1.15, n), 2)
    complaint_rate = rng.gamma(1.0, _COMPLAINT_SCALE, n)
    span = int((SUB_END - SUB_START).astype(int))
    signup = SUB_START + rng.integers(0, span + 1, n).astype("timedelta64[D]")
    h = CHURN_HAZARD
    logit = (
        h["intercept"]
        + h["contract_month_to_month"] * (contract == 0)
        + h["contract_two_year"] * (contract == 2)
        + h["payment_electronic_check"] * (payment == 0)
        + h["monthly_charges_per_10"] * (monthly - 60.0) / 10.0
        + h["complaints_per_year"] * complaint_rate
    )
    hazard = 1.0 / (1.0 + np.exp(-logit))
    paid = rng.geometric(hazard)  # months paid before leaving (>= 1)
    last_bill = add_months(signup, paid - 1)
    in_month = ((add_months(signup, paid) - last_bill).astype(np.int64)).clip(min=1)
    leave = last_bill + np.floor(rng.random(n) * in_month).astype("timedelta64[D]") + 1
    churned = leave <= SUB_END
    end = np.where(churned, leave, SUB_END + 1)
    tenure = months_before(signup, end)
    total = np.round(tenure * monthly, 2)
    churn_reason = base.pick(rng, (0.3, 0.25, 0.25, 0.1, 0.1), n)

    # billing lines: signup + k months, k < tenure
    rows = np.repeat(np.arange(n), tenure)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(tenure) - tenure, tenure)
    bill_day = add_months(signup[rows], k)
    cust_ids = base.make_ids("C", np.arange(1, n + 1), 7)
    orders = pa.table(
        {
            "order_id": pc.binary_join_element_wise(
                cust_ids.take(pa.array(rows)), pa.array((k + 1).astype(str)), "-bill-"
            ),
            "customer_id": cust_ids.take(pa.array(rows)),
            "order_date": pa.array(bill_day),
            "amount": pa.array(monthly[rows], pa.float64()),
            "business_unit": pa.array([SUB_UNIT] * len(rows), pa.string()),
            "product_category": base.weighted_labels(PLANS, plan[rows]),
            "status": pa.array(["completed"] * len(rows), pa.string()),
        }
    )

    # interactions: complaints (rate per customer) and inquiries over the customer's life
    life_years = (np.minimum(end, SUB_END + 1) - signup).astype(np.int64) / 365.25
    n_compl = rng.poisson(complaint_rate * life_years)
    n_inq = rng.poisson(_INQUIRIES_PER_YEAR * life_years)
    counts = n_compl + n_inq
    who = np.repeat(np.arange(n), counts)
    within = np.arange(len(who)) - np.repeat(np.cumsum(counts) - counts, counts)
    kind = (within >= n_compl[who]).astype(np.int8)  # 0 complaint, 1 inquiry
    life_days = (np.minimum(end, SUB_END + 1) - signup).astype(np.int64)
    offset = np.floor(rng.random(len(who)) * np.maximum(life_days[who], 1)).astype(np.int64)
    day = signup[who] + offset.astype("timedelta64[D]")
    order = np.lexsort((kind, day, who))
    who, kind, day = who[order], kind[order], day[order]
    interactions = pa.table(
        {
            "interaction_id": base.make_ids("I", np.arange(1, len(who) + 1), 8),
            "customer_id": cust_ids.take(pa.array(who)),
            "business_unit": pa.array([SUB_UNIT] * len(who), pa.string()),
            "date": pa.array(day),
            "type": base.weighted_labels(("complaint", "inquiry"), kind),
            "resolved": pa.array(rng.random(len(who)) < 0.8),
            "topic": base.weighted_labels(
                ("billing", "network", "contract", "device"),
                base.pick(rng, (0.4, 0.3, 0.2, 0.1), len(who)),
            ),
        }
    )
    customers = pa.table(
        {
            "customer_id": cust_ids,
            "business_unit": pa.array([SUB_UNIT] * n, pa.string()),
            "customer_type": base.weighted_labels(("individual", "enterprise"), ctype),
            "signup_date": pa.array(signup),
            "region": base.weighted_labels(REGIONS, region),
            "contract": base.weighted_labels(CONTRACTS, contract),
            "payment_method": base.weighted_labels(PAYMENTS, payment),
            "plan": base.weighted_labels(PLANS, plan),
            "tenure_months": pa.array(tenure, pa.int64()),
            "monthly_charges": pa.array(monthly, pa.float64()),
            "total_charges": pa.array(total, pa.float64()),
            "churned": pa.array(churned),
            "churn_date": pa.array(
                np.where(churned, leave, np.datetime64("NaT", "D")), mask=~churned
            ),
            "churn_reason": base.weighted_labels(CHURN_REASONS, churn_reason, mask=~churned),
        }
    )
    tables = {"customers": customers, "orders": orders, "interactions": interactions}
    quarters = {}
    leave_churned = leave[churned].astype("datetime64[M]").astype(np.int64)
    years, months = leave_churned // 12 + 1970, leave_churned % 12
    labels = [f"{y}-Q{m // 3 + 1}" for y, m in zip(years, months, strict=True)]
    for label in sorted(set(labels)):
        quarters[label] = labels.count(label)
    truth = {
        "seed": int(seed),
        "n_customers": n,
        "start": str(SUB_START),
        "end": str(SUB_END),
        "data_date": str(SUB_END),
        "units": [SUB_UNIT],
        "shape": {
            "name": "subscription",
            "tables": list(tables),
            "absent": ["survey_responses"],
            "billing_rule": "one line per month: signup_date + k months for k < "
            "tenure_months, amount monthly_charges; derived identically from the customers "
            "table alone with files.orders: null",
            "note": "contractual churn: churned + churn_date; run with churn.definition "
            "contractual (or auto)",
        },
        "churn_hazard": {
            "unit": "log-odds of leaving in a month",
            **CHURN_HAZARD,
            "drivers": {
                "contract": "month_to_month churns most, two_year least",
                "payment_method": "electronic_check churns more",
                "monthly_charges": "higher charges churn more",
                "complaints": "more complaints churn more",
            },
        },
        "churned_customers": int(churned.sum()),
        "active_at_end": int((~churned).sum()),
        "churned_by_quarter": quarters,
        "billing_lines": int(len(rows)),
        "row_counts": {k_: t.num_rows for k_, t in tables.items()},
    }
    return tables, truth

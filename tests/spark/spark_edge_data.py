"""Edge-case CRM tables for comparing the engines (DuckDB against Spark).

Ties in the top-category ranking, month ends and a leap day, Sundays, NULL and refund
amounts, a returned order with a positive amount, orders on and after ``as_of``, a
customer with only refunds, customers without orders, categories with quotes,
backslashes and Chinese text, amounts with many decimals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

AS_OF = "2024-03-31"


def edge_tables(seed: int = 7, n_random: int = 300) -> dict[str, pd.DataFrame]:
    """``orders``, ``customers``, ``surveys``, ``interactions`` with hand-placed edge rows
    plus ``n_random`` seeded random orders (so sums have many terms)."""
    rows = [
        # order_id, customer, date, amount, discount, category, channel, status
        ("t1", "tie1", "2024-01-31 23:59:59", 50.0, 0.0, "A'pos", "Web", "completed"),
        ("t2", "tie2", "2024-02-29 00:00:00", 50.0, 5.0, "B\\slash", "Web", "completed"),
        ("t3", "tie3", "2024-03-03 12:00:00", 50.0, None, "服装", "Store", "completed"),  # Sunday
        ("t4", "tie3", "2024-03-03 18:00:00", 0.1, 0.0, "x", "Store", "completed"),
        ("t5", "tie3", "2024-03-03 18:00:00", 0.2, 0.0, "x", "Store", "completed"),
        ("n1", "nul", "2024-02-04 10:00:00", None, 1.0, "A'pos", "App", "completed"),  # NULL
        ("n2", "nul", "2024-02-11 10:00:00", 19.99, 0.0, None, None, "completed"),  # Sunday
        ("r1", "ref", "2023-12-31 10:00:00", -30.0, 0.0, "A'pos", "Web", "returned"),
        ("r2", "ref", "2024-01-31 10:00:00", -5.5, 0.0, "A'pos", "Web", None),
        ("p1", "pos_ret", "2023-11-30 10:00:00", 40.0, 0.0, "B\\slash", "Web", "returned"),
        ("p2", "pos_ret", "2023-11-30 10:00:00", 60.0, 0.0, "B\\slash", "Web", "completed"),
        ("e1", "edge", "2024-03-30 23:59:59", 1e-6, 0.0, "x", "Web", "COMPLETED"),
        ("e2", "edge", "2024-03-31 00:00:00", 999.0, 0.0, "x", "Web", "completed"),  # = as_of
        ("e3", "later", "2024-04-01 00:00:00", 10.0, 0.0, "x", "Web", "completed"),
    ]
    orders = pd.DataFrame(
        rows,
        columns=[
            "order_id",
            "customer_id",
            "order_date",
            "amount",
            "discount",
            "product_category",
            "channel",
            "status",
        ],
    )
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2022-12-31") + pd.to_timedelta(rng.integers(0, 460, n_random), "D")
    seconds = pd.to_timedelta(rng.integers(0, 86400, n_random), "s")
    random = pd.DataFrame(
        {
            "order_id": [f"g{i}" for i in range(n_random)],
            "customer_id": [f"c{int(k):03d}" for k in rng.integers(0, 60, n_random)],
            "order_date": (days + seconds).astype(str),
            "amount": np.round(rng.gamma(2.0, 40.0, n_random), 6)
            * np.where(rng.random(n_random) < 0.08, -1, 1),
            "discount": np.where(
                rng.random(n_random) < 0.3, np.round(rng.random(n_random) * 9, 2), 0
            ),
            "product_category": rng.choice(["x", "y", "A'pos", "服装", None], n_random),
            "channel": rng.choice(["Web", "Store", "App"], n_random),
            "status": rng.choice(["completed", "completed", "returned", "cancelled"], n_random),
        }
    )
    # one duplicate order id across two rows (count distinct) and repeated same-day orders
    if n_random >= 2:
        same = ["order_id", "customer_id", "order_date"]
        random.loc[1, same] = random.loc[0, same].to_numpy()
    orders = pd.concat([orders, random], ignore_index=True)
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    orders["business_unit"] = np.where(orders.index % 5 == 0, "b2b", "retail")

    ids = sorted(set(orders["customer_id"])) + ["no_orders", "no_orders_2"]
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "business_unit": "retail",
            "signup_date": pd.to_datetime(
                [
                    None if i % 7 == 0 else pd.Timestamp("2022-06-30") + pd.Timedelta(days=13 * i)
                    for i in range(len(ids))
                ]
            ),
        }
    )
    surveys = pd.DataFrame(
        {
            "response_id": [f"s{i}" for i in range(8)],
            "response_date": pd.to_datetime(
                ["2024-01-07", "2024-02-29", "2024-03-31", "2023-12-31"] * 2
            ),
            "business_unit": "retail",
            "customer_id": ["tie1", "tie1", "tie1", None, "c001", "c002", "no_orders", "nul"],
            "csat": [5, 4, 1, 3, 2, None, 5, 4],
        }
    )
    interactions = pd.DataFrame(
        {
            "interaction_id": [f"i{i}" for i in range(6)],
            "customer_id": ["tie1", "tie1", "ref", "c001", "no_orders", "edge"],
            "business_unit": "retail",
            "date": pd.to_datetime(
                ["2024-03-30", "2024-03-31", "2024-01-01", "2023-02-28", "2024-01-01", "2024-03-01"]
            ),
            "type": ["complaint", "complaint", "Complaint", "inquiry", "complaint", "complaint"],
        }
    )
    return {
        "orders": orders,
        "customers": customers,
        "surveys": surveys,
        "interactions": interactions,
    }


def assert_same_table(expected: pd.DataFrame, actual: pd.DataFrame, *, rtol: float = 1e-9) -> None:
    """Same columns and rows; integer columns exactly equal, others within ``rtol``
    (NaN matches NaN), text exactly equal."""
    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected)
    for column in expected.columns:
        a, b = expected[column], actual[column]
        if pd.api.types.is_integer_dtype(a) or pd.api.types.is_integer_dtype(b):
            assert pd.api.types.is_integer_dtype(a) and pd.api.types.is_integer_dtype(b), column
            assert np.array_equal(a.to_numpy(), b.to_numpy()), column
        elif pd.api.types.is_numeric_dtype(a) or pd.api.types.is_numeric_dtype(b):
            x, y = a.astype("float64").to_numpy(), b.astype("float64").to_numpy()
            assert np.allclose(x, y, rtol=rtol, atol=0, equal_nan=True), (column, x, y)
        else:
            assert (
                a.astype(object).where(a.notna(), None).tolist()
                == b.astype(object).where(b.notna(), None).tolist()
            ), column

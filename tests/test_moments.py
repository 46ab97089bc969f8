"""Important moments (analysis.moments) and the birth date's privacy handling."""

import pandas as pd

from analysis import moments
from analysis.data.load import Dataset
from analysis.data.quality import DataQualityReport
from analysis.privacy import scrub_dataset, with_birthday

Q1 = (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-04-01"))


def test_birthdays_and_anniversaries_in_the_window():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "birthday": ["01-15", "02-29", "07-01", None, "03-31"],
            "signup_date": pd.to_datetime(
                ["2024-02-10", "2025-12-31", "2025-02-01", None, "2026-01-10"]
            ),
        }
    )
    orders = pd.DataFrame(
        {
            "customer_id": ["d", "d"],
            "order_date": pd.to_datetime(["2023-03-30", "2025-06-01"]),
            "amount": [10.0, 5.0],
            "status": "completed",
        }
    )
    found = moments.important_moments(customers, orders, *Q1)
    got = {(r.customer_id, r.moment, str(r.date.date()), r.years) for r in found.itertuples()}
    assert got == {
        ("a", "birthday", "2026-01-15", pd.NA),
        ("b", "birthday", "2026-02-28", pd.NA),  # 29 Feb outside a leap year
        ("e", "birthday", "2026-03-31", pd.NA),
        ("a", "anniversary", "2026-02-10", 2),
        ("c", "anniversary", "2026-02-01", 1),
        ("d", "anniversary", "2026-03-30", 3),  # first purchase without a signup date
    }
    assert found["date"].is_monotonic_increasing
    # b signed up on 31 Dec 2025 (no whole year yet); e signs up inside the window
    assert not found.loc[found["moment"] == "anniversary", "customer_id"].isin(["b", "e"]).any()
    assert set(found.loc[found["moment"] == "anniversary", "years"]) == {1, 2, 3}


def test_a_window_across_the_new_year():
    customers = pd.DataFrame({"customer_id": ["x", "y"], "birthday": ["12-31", "01-01"]})
    found = moments.important_moments(
        customers, None, pd.Timestamp("2025-12-01"), pd.Timestamp("2026-01-02")
    )
    assert found["date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-12-31", "2026-01-01"]


def test_counts_by_value_tier():
    found = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "moment": ["birthday", "birthday", "anniversary"]}
    )
    tiers = pd.Series({"a": "high", "b": "low"})
    counts = moments.moment_counts(found, tiers)
    assert list(counts.columns) == ["high", "low", "unknown", "total"]
    assert counts.loc["birthday", "total"] == 2 and counts.loc["anniversary", "unknown"] == 1


def test_birth_dates_are_pii_only_month_and_day_survive_the_scrub():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "birth_date": ["1980-03-14", "not a date"],
            "name": ["Ann", "Bo"],
        }
    )
    assert with_birthday(customers)["birthday"].tolist()[0] == "03-14"
    data = Dataset(customers=customers, orders=None, quality=DataQualityReport())
    scrubbed = scrub_dataset(data).customers
    assert "birth_date" not in scrubbed.columns and "name" not in scrubbed.columns
    assert scrubbed["birthday"].iloc[0] == "03-14" and pd.isna(scrubbed["birthday"].iloc[1])
    assert not scrubbed.astype(str).apply(lambda c: c.str.contains("1980")).any().any()


def test_sample_birth_dates_agree_with_age():
    from analysis.data.sample import generate_sample

    customers = generate_sample(300, seed=2).customers
    people = customers.loc[customers["age"].notna()]
    end = pd.Timestamp("2025-12-31")
    born = pd.to_datetime(people["birth_date"])
    had_birthday = (born.dt.month * 100 + born.dt.day) <= end.month * 100 + end.day
    age_at_end = end.year - born.dt.year - (~had_birthday).astype(int)
    assert (age_at_end == people["age"]).all()
    assert customers.loc[customers["age"].isna(), "birth_date"].isna().all()  # people only

"""A month's cost per provider and model, summed by the database: exact decimals, month bounds in UTC,
unpriced records counted apart, credentials keyed by id."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from byway.core.periods import current_period
from byway.core.periods import month_range as month
from byway.core.usage_record import UsageRecord
from byway.store import Store
from byway.store.costs import ModelCost, month_costs


def rec(n: int, at: datetime, *, provider: str = "oa", model: str = "gpt-4o-mini", cost: str | None = "0.1",
        credential: str | None = None, tokens_in: int = 10, tokens_out: int = 5) -> UsageRecord:
    return UsageRecord(request_id=f"req_{n}", created_at=at.timestamp(), user_id="u1", key_id="k1",
                       credential=credential, provider=provider, model=model, endpoint="chat.completions",
                       stream=False, tokens_in=tokens_in, tokens_out=tokens_out,
                       cost=None if cost is None else Decimal(cost))


def test_month_bounds_and_bad_periods() -> None:
    assert month("2025-02") == (datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))
    assert month("2024-12") == (datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
    for bad in ("2025-13", "2025-00", "2025-1", "25-01", "2025-01-01", "", "abcd-ef", "0000-05"):
        with pytest.raises(ValueError):
            month(bad)
    assert current_period(datetime(2025, 7, 31, 23, 59, tzinfo=UTC)) == "2025-07"


async def test_costs_per_provider_and_model_for_the_month(store: Store) -> None:
    june = datetime(2025, 6, 1, 0, 0, 0, tzinfo=UTC)
    last_instant_of_may = datetime(2025, 5, 31, 23, 59, 59, 999000, tzinfo=UTC)
    july = datetime(2025, 7, 1, tzinfo=UTC)
    mid = datetime(2025, 6, 15, 12, tzinfo=UTC)
    await store.usage.insert([
        rec(1, june, cost="0.0000001"),
        rec(2, mid, cost="0.00000015"),
        rec(3, mid, cost="1.2345678901"),
        rec(4, mid, cost=None, tokens_in=7, tokens_out=0),  # price unknown
        rec(5, mid, model="gpt-4o", cost="0.3"),
        rec(6, mid, provider="mine", credential="cred_a", cost="0.25"),
        rec(7, mid, provider="mine", credential="cred_b", cost="0.5"),
        rec(8, mid, provider="mine", credential="cred_b", cost="0.5", model="gpt-4o"),
        rec(9, last_instant_of_may, cost="100"),  # not June
        rec(10, july, cost="100"),  # not June
    ])
    rows = await month_costs(store.engine, "2025-06")
    assert rows == [
        ModelCost(provider="credential:cred_a", name="mine", model="gpt-4o-mini", requests=1, unpriced_requests=0,
                  cost=Decimal("0.25"), tokens_in=10, tokens_out=5),
        ModelCost(provider="credential:cred_b", name="mine", model="gpt-4o", requests=1, unpriced_requests=0,
                  cost=Decimal("0.5"), tokens_in=10, tokens_out=5),
        ModelCost(provider="credential:cred_b", name="mine", model="gpt-4o-mini", requests=1, unpriced_requests=0,
                  cost=Decimal("0.5"), tokens_in=10, tokens_out=5),
        ModelCost(provider="oa", name="oa", model="gpt-4o", requests=1, unpriced_requests=0, cost=Decimal("0.3"),
                  tokens_in=10, tokens_out=5),
        ModelCost(provider="oa", name="oa", model="gpt-4o-mini", requests=4, unpriced_requests=1,
                  cost=Decimal("1.2345681401"), tokens_in=37, tokens_out=15),
    ]
    assert all(isinstance(r.cost, Decimal) for r in rows)
    assert [r.cost for r in await month_costs(store.engine, "2025-05")] == [Decimal(100)]
    assert [r.requests for r in await month_costs(store.engine, "2025-07")] == [1]
    assert await month_costs(store.engine, "2025-08") == []


async def test_a_month_of_only_unpriced_records_costs_zero_not_null(store: Store) -> None:
    at = datetime(2025, 6, 2, tzinfo=UTC)
    await store.usage.insert([rec(1, at, cost=None), rec(2, at, cost=None)])
    [row] = await month_costs(store.engine, "2025-06")
    assert row.cost == Decimal(0) and row.requests == 2 and row.unpriced_requests == 2

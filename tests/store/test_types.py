"""Money and time columns behave identically on SQLite and PostgreSQL: exact decimals to the last
of 10 places (sums included), timezone-aware UTC times to the microsecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select
from sqlalchemy.exc import StatementError

from byway.store import Store
from byway.store.types import Money, UTCDateTime, to_money

_meta = MetaData()
ledger = Table("ledger_test", _meta, Column("id", Integer, primary_key=True, autoincrement=False),
               Column("amount", Money()), Column("at", UTCDateTime()))

AMOUNTS = [Decimal("12345678.1234567891"), Decimal("-99999999.9999999999"), Decimal("0.0000000001"),
           Decimal("0"), Decimal("3.14159265358979323846"), Decimal("0.00000000005"), Decimal("0.00000000015")]
# what comes back: 10 places, half-even rounding beyond them
EXPECTED = [Decimal("12345678.1234567891"), Decimal("-99999999.9999999999"), Decimal("0.0000000001"),
            Decimal("0E-10"), Decimal("3.1415926536"), Decimal("0E-10"), Decimal("0.0000000002")]


@pytest.fixture
async def table(store: Store) -> Store:
    async with store.engine.begin() as db:
        await db.run_sync(_meta.create_all)
    return store


async def test_money_round_trips_to_the_last_digit(table: Store) -> None:
    async with table.engine.begin() as db:
        await db.execute(insert(ledger), [{"id": i, "amount": a} for i, a in enumerate(AMOUNTS)])
        await db.execute(insert(ledger).values(id=99, amount=None))
    async with table.engine.connect() as db:
        back = (await db.execute(select(ledger.c.amount).order_by(ledger.c.id))).scalars().all()
    assert back[:-1] == EXPECTED
    assert [str(v) for v in back[:2]] == ["12345678.1234567891", "-99999999.9999999999"]
    assert all(isinstance(v, Decimal) for v in back[:-1]) and back[-1] is None


async def test_sums_and_comparisons_stay_exact(table: Store) -> None:
    parts = [Decimal("0.1000000001")] * 10 + [Decimal("1234567.0000000009")]
    async with table.engine.begin() as db:
        await db.execute(insert(ledger), [{"id": i, "amount": a} for i, a in enumerate(parts)])
    async with table.engine.connect() as db:
        total = (await db.execute(select(func.sum(ledger.c.amount)))).scalar_one()
        big = (await db.execute(select(func.count()).where(ledger.c.amount > Decimal("0.1000000001")))).scalar_one()
    assert total == Decimal("1234568.0000000019")
    assert isinstance(total, Decimal)
    assert big == 1


async def test_money_out_of_range_is_refused(table: Store) -> None:
    with pytest.raises(StatementError, match="out of range"):
        async with table.engine.begin() as db:
            await db.execute(insert(ledger).values(id=1, amount=Decimal("100000000")))
    with pytest.raises(ValueError, match="not a money amount"):
        to_money("ten")
    with pytest.raises(ValueError):
        to_money(Decimal("NaN"))
    assert to_money(0.1) == Decimal("0.1") and to_money("2") == Decimal("2.0000000000")


async def test_times_are_aware_utc_to_the_microsecond(table: Store) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    times = [datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC), datetime(2024, 3, 1, 5, 29, 59, 1, tzinfo=india),
             datetime(1999, 12, 31, 19, 0, tzinfo=timezone(timedelta(hours=-5)))]
    async with table.engine.begin() as db:
        await db.execute(insert(ledger), [{"id": i, "at": t} for i, t in enumerate(times)])
    async with table.engine.connect() as db:
        back = (await db.execute(select(ledger.c.at).order_by(ledger.c.id))).scalars().all()
        later = (await db.execute(select(ledger.c.id).where(ledger.c.at > times[1]).order_by(ledger.c.id))).scalars()
        assert list(later) == [0]
    assert back == times
    assert all(t.tzinfo is UTC for t in back)
    assert back[1].isoformat() == "2024-02-29T23:59:59.000001+00:00"
    assert back[2].isoformat() == "2000-01-01T00:00:00+00:00"


async def test_naive_times_are_refused(table: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with table.engine.begin() as db:
            await db.execute(insert(ledger).values(id=1, at=datetime(2024, 1, 1)))

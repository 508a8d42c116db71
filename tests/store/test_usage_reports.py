"""Usage reports on SQLite and PostgreSQL: hand-made records (unknown costs, cached and reasoning tokens,
two users, records on UTC month and day boundaries) summed by the database, compared with exact sums."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from byway.core.periods import current_period, month_range
from byway.core.usage_record import AttemptRecord, UsageRecord
from byway.store import ADMIN, As, Store, async_url
from byway.store.usage_reports import LogFilter, UsageReports

ADA, BOB = "usr_ada", "usr_bob"
ADA_KEY, BOB_KEY = "key_ada", "key_bob"
_counter = iter(range(1, 1_000_000))


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def rec(when: str, **kw: Any) -> UsageRecord:
    values: dict[str, Any] = {
        "request_id": f"req_{next(_counter):06d}", "created_at": at(when), "user_id": ADA, "key_id": ADA_KEY,
        "credential": None, "provider": "oa", "model": "gpt-4o-mini", "endpoint": "chat.completions",
        "stream": False, "tokens_in": 100, "tokens_out": 10, "cost": Decimal("0.0000210000"),
        "latency_ms": 100.0, "attempts": (AttemptRecord("oa", "gpt-4o-mini", 200, 95.5),)}
    values.update(kw)
    return UsageRecord(**values)


# March 2025 (UTC) and its neighbours. Costs have ten decimal places; some are unknown.
FEB_LAST = rec("2025-02-28T23:59:59.999999", cost=Decimal("5"))
MAR_FIRST = rec("2025-03-01T00:00:00", cost=Decimal("0.0000000001"), tokens_in=7, tokens_out=3)
MAR_10_LATE = rec("2025-03-10T23:59:59.500000", provider="an", model="claude-3-5-haiku-latest",
                  cost=Decimal("0.1234567891"), tokens_in=2000, tokens_out=500, cached_tokens=1500,
                  cache_write_tokens=200, latency_ms=300.0, ttft_ms=120.5, stream=True,
                  endpoint="messages")
MAR_11_EARLY = rec("2025-03-11T00:00:00", model="o3-mini", cost=Decimal("0.0450000000"), tokens_in=400,
                   tokens_out=900, reasoning_tokens=640, latency_ms=500.0)
MAR_11_UNPRICED = rec("2025-03-11T08:30:00", provider="mine", credential="cred_mine", model="llama-local",
                      cost=None, tokens_in=50, tokens_out=60, latency_ms=40.0, estimated=True)
MAR_11_FAILED = rec("2025-03-11T09:00:00", cost=None, tokens_in=0, tokens_out=0, status_code=502, success=False,
                    error="every target failed", latency_ms=20.0,
                    attempts=(AttemptRecord("oa", "gpt-4o-mini", 500, 10.0), AttemptRecord("oa", "gpt-4o-mini", 0, 10.0)))
BOB_MAR = rec("2025-03-20T12:00:00", user_id=BOB, key_id=BOB_KEY, provider="an", model="claude-3-5-haiku-latest",
              cost=Decimal("1.0000000009"), tokens_in=3000, tokens_out=100, cached_tokens=1000, latency_ms=700.0)
MASTER_MAR = rec("2025-03-31T23:59:59.999999", user_id=None, key_id=None, cost=Decimal("0.5"), tokens_in=10,
                 tokens_out=20, latency_ms=60.0)
APR_FIRST = rec("2025-04-01T00:00:00", cost=Decimal("7"), user_id=BOB, key_id=BOB_KEY)
ALL = [FEB_LAST, MAR_FIRST, MAR_10_LATE, MAR_11_EARLY, MAR_11_UNPRICED, MAR_11_FAILED, BOB_MAR, MASTER_MAR,
       APR_FIRST]
MARCH = [MAR_FIRST, MAR_10_LATE, MAR_11_EARLY, MAR_11_UNPRICED, MAR_11_FAILED, BOB_MAR, MASTER_MAR]


@pytest.fixture
async def reports(store: Store) -> UsageReports:
    await store.usage.insert(ALL)
    return UsageReports(store.engine)


def known(records: list[UsageRecord]) -> Decimal:
    return sum((r.cost for r in records if r.cost is not None), Decimal(0))


async def test_a_months_summary_counts_that_utc_month_only_with_exact_sums(reports: UsageReports) -> None:
    s = await reports.summary(ADMIN, "2025-03")
    assert s.period == "2025-03"
    assert s.total_spent == Decimal("1.6684567901") == known(MARCH)
    assert (s.requests, s.tokens_in, s.tokens_out) == (7, 5467, 1583)
    assert (s.errors, s.unpriced) == (1, 2)
    by = {p.provider: p for p in s.by_provider}
    assert [p.provider for p in s.by_provider] == ["oa", "an", "mine"]  # the busiest first
    oa = by["oa"]
    assert oa.spent == Decimal("0.5450000001") and oa.requests == 4 and oa.errors == 1 and oa.unpriced == 1
    assert (oa.tokens_in, oa.tokens_out) == (417, 923)
    assert oa.avg_latency_ms == pytest.approx((100 + 500 + 20 + 60) / 4) and oa.error_rate == 0.25
    an = by["an"]
    assert an.spent == Decimal("1.1234567900") and an.requests == 2 and an.errors == 0 and an.error_rate == 0.0
    assert an.avg_latency_ms == pytest.approx(500.0)
    assert by["mine"].spent == Decimal(0) and by["mine"].unpriced == 1 and by["mine"].requests == 1

    feb = await reports.summary(ADMIN, "2025-02")
    assert (feb.total_spent, feb.requests) == (Decimal(5), 1)
    empty = await reports.summary(ADMIN, "2024-12")
    assert (empty.total_spent, empty.requests, empty.tokens_in, empty.by_provider) == (Decimal(0), 0, 0, [])


async def test_a_member_sees_only_their_own_records(reports: UsageReports) -> None:
    ada = As("member", ADA)
    mine = [r for r in MARCH if r.user_id == ADA]
    s = await reports.summary(ada, "2025-03")
    assert s.total_spent == known(mine) == Decimal("0.1684567892") and s.requests == len(mine) == 5
    bob = await reports.summary(As("member", BOB), "2025-03")
    assert bob.total_spent == Decimal("1.0000000009") and bob.requests == 1
    assert [p.provider for p in bob.by_provider] == ["an"]
    nobody = await reports.summary(As("member", None), "2025-03")
    assert nobody.requests == 0 and nobody.total_spent == Decimal(0)
    logs = await reports.logs(ada, LogFilter(user_id=BOB))  # asking for another's records finds nothing
    assert logs == []
    users = await reports.grouped(ada, "user", *month_range("2025-03"))
    assert [(g.group, g.requests) for g in users] == [(ADA, 5)]
    exported = [r async for chunk in reports.export(As("member", BOB)) for r in chunk]
    assert [r.request_id for r in exported] == [BOB_MAR.request_id, APR_FIRST.request_id]


async def test_usage_grouped_by_utc_day(reports: UsageReports) -> None:
    days = await reports.grouped(ADMIN, "day", *month_range("2025-03"))
    assert [(d.group, d.requests, d.cost) for d in days] == [
        ("2025-03-01", 1, Decimal("0.0000000001")),
        ("2025-03-10", 1, Decimal("0.1234567891")),
        ("2025-03-11", 3, Decimal("0.0450000000")),
        ("2025-03-20", 1, Decimal("1.0000000009")),
        ("2025-03-31", 1, Decimal("0.5")),
    ]
    eleventh = days[2]
    assert (eleventh.tokens_in, eleventh.tokens_out, eleventh.reasoning_tokens, eleventh.errors,
            eleventh.unpriced) == (450, 960, 640, 1, 2)
    assert days[1].cached_tokens == 1500
    # a range of whole days is half-open at midnight: the 11th alone
    only = await reports.grouped(ADMIN, "day", datetime(2025, 3, 11, tzinfo=UTC), datetime(2025, 3, 12, tzinfo=UTC))
    assert [(d.group, d.requests) for d in only] == [("2025-03-11", 3)]


@pytest.mark.parametrize("group_by", ["day", "provider", "model", "key", "user"])
async def test_every_grouping_sums_to_the_months_totals(reports: UsageReports, group_by: str) -> None:
    groups = await reports.grouped(ADMIN, group_by, *month_range("2025-03"))  # type: ignore[arg-type]
    summary = await reports.summary(ADMIN, "2025-03")
    assert sum((g.cost for g in groups), Decimal(0)) == summary.total_spent
    assert sum(g.requests for g in groups) == summary.requests
    assert sum(g.tokens_in for g in groups) == summary.tokens_in
    assert sum(g.cached_tokens for g in groups) == sum(r.cached_tokens for r in MARCH) == 2500
    assert sum(g.reasoning_tokens for g in groups) == 640
    assert sum(g.unpriced for g in groups) == 2 and sum(g.errors for g in groups) == 1


async def test_groups_by_key_and_user_put_the_master_keys_records_last(reports: UsageReports) -> None:
    keys = await reports.grouped(ADMIN, "key", *month_range("2025-03"))
    assert [(g.group, g.requests, g.cost) for g in keys] == [
        (ADA_KEY, 5, Decimal("0.1684567892")), (BOB_KEY, 1, Decimal("1.0000000009")), (None, 1, Decimal("0.5"))]
    models = await reports.grouped(ADMIN, "model", *month_range("2025-03"))
    assert [g.group for g in models] == ["claude-3-5-haiku-latest", "gpt-4o-mini", "llama-local", "o3-mini"]
    with pytest.raises(ValueError):
        await reports.grouped(ADMIN, "week", *month_range("2025-03"))  # type: ignore[arg-type]


async def test_day_grouping_is_utc_whatever_the_database_session_time_zone(store: Store,
                                                                           database_url: str) -> None:
    await store.usage.insert([MAR_10_LATE, MAR_11_EARLY])
    if database_url.startswith("postgresql"):
        engine = create_async_engine(async_url(database_url),
                                     connect_args={"server_settings": {"timezone": "Pacific/Kiritimati"}})
    else:
        engine = store.engine
    try:
        days = await UsageReports(engine).grouped(ADMIN, "day", *month_range("2025-03"))
    finally:
        if engine is not store.engine:
            await engine.dispose()
    assert [(d.group, d.requests) for d in days] == [("2025-03-10", 1), ("2025-03-11", 1)]


def _same(found: UsageRecord, made: UsageRecord) -> None:
    assert found.created_at == pytest.approx(made.created_at, abs=1e-6)
    assert msgspec.structs.replace(found, created_at=made.created_at) == made


async def test_logs_carry_every_field_newest_first_with_filters(reports: UsageReports) -> None:
    newest = await reports.logs(ADMIN, limit=3)
    assert [r.request_id for r in newest] == [APR_FIRST.request_id, MASTER_MAR.request_id, BOB_MAR.request_id]
    failed = await reports.logs(ADMIN, LogFilter(status="error"))
    assert len(failed) == 1
    _same(failed[0], MAR_11_FAILED)
    assert failed[0].attempts == (AttemptRecord("oa", "gpt-4o-mini", 500, 10.0),
                                  AttemptRecord("oa", "gpt-4o-mini", 0, 10.0))
    assert [r.request_id for r in await reports.logs(ADMIN, LogFilter(status=502))] == [MAR_11_FAILED.request_id]
    assert len(await reports.logs(ADMIN, LogFilter(status="success"))) == len(ALL) - 1
    assert len(await reports.logs(ADMIN, LogFilter(status=200))) == len(ALL) - 1
    streamed = await reports.logs(ADMIN, LogFilter(provider="an", model="claude-3-5-haiku-latest", user_id=ADA))
    assert len(streamed) == 1
    _same(streamed[0], MAR_10_LATE)
    unpriced = await reports.logs(ADMIN, LogFilter(provider="mine"))
    _same(unpriced[0], MAR_11_UNPRICED)
    assert unpriced[0].cost is None and unpriced[0].estimated and unpriced[0].credential == "cred_mine"
    march = await reports.logs(ADMIN, LogFilter(start=datetime(2025, 3, 1, tzinfo=UTC),
                                                end=datetime(2025, 4, 1, tzinfo=UTC)), limit=1000)
    assert sorted(r.request_id for r in march) == sorted(r.request_id for r in MARCH)
    assert [r.request_id for r in await reports.logs(ADMIN, LogFilter(key_id=BOB_KEY))] == [
        APR_FIRST.request_id, BOB_MAR.request_id]


async def test_logs_page_with_limit_and_offset(reports: UsageReports) -> None:
    everything = await reports.logs(ADMIN, limit=1000)
    assert len(everything) == len(ALL)
    assert [r.created_at for r in everything] == sorted((r.created_at for r in everything), reverse=True)
    pages = [await reports.logs(ADMIN, limit=4, offset=n) for n in (0, 4, 8)]
    assert [len(p) for p in pages] == [4, 4, 1]
    assert [r.request_id for p in pages for r in p] == [r.request_id for r in everything]
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
        with pytest.raises(ValueError):
            await reports.logs(ADMIN, **bad)


async def test_export_reads_in_chunks_oldest_first(store: Store) -> None:
    base = datetime(2025, 5, 2, 10, tzinfo=UTC)
    made = [rec((base + timedelta(seconds=i // 3)).replace(tzinfo=None).isoformat(), cost=Decimal(i) / 1000,
                user_id=ADA if i % 2 else BOB) for i in range(23)]  # three records share each second
    await store.usage.insert(list(reversed(made)))
    reports = UsageReports(store.engine)
    chunks = [chunk async for chunk in reports.export(ADMIN, chunk=5)]
    assert [len(c) for c in chunks] == [5, 5, 5, 5, 3]
    seen = [r for c in chunks for r in c]
    assert sorted(r.request_id for r in seen) == sorted(r.request_id for r in made)
    assert [r.created_at for r in seen] == sorted(r.created_at for r in seen)
    assert sum((r.cost or Decimal(0) for r in seen), Decimal(0)) == Decimal("0.253")
    ranged = [r async for c in reports.export(ADMIN, base + timedelta(seconds=2), base + timedelta(seconds=4),
                                                 chunk=4) for r in c]
    assert len(ranged) == 6
    ada = [r async for c in reports.export(As("member", ADA), chunk=5) for r in c]
    assert len(ada) == 11 and {r.user_id for r in ada} == {ADA}
    assert [c async for c in reports.export(ADMIN, base + timedelta(days=1))] == []


def test_months_are_utc_calendar_months() -> None:
    assert month_range("2025-12") == (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    assert month_range("2024-02") == (datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))
    for bad in ("2025-13", "2025-00", "2025-3", "25-03", "2025-03-01", "", "0000-01"):
        with pytest.raises(ValueError):
            month_range(bad)
    assert current_period(datetime(2025, 3, 31, 23, 59, tzinfo=UTC)) == "2025-03"

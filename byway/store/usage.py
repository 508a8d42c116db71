"""Usage records: written in batches by the ledger's writer (a replayed record is inserted once, by its
request id), and the month's spend per budget scope read back at start."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql

from byway.core.usage_record import UsageRecord
from byway.store._sql import Repo
from byway.store.schema import usage_records
from byway.store.types import MONEY_DIGITS, MONEY_PLACES, to_money


def row(record: UsageRecord) -> dict[str, Any]:
    """``record`` as a ``usage_records`` row."""
    values = msgspec.structs.asdict(record)
    del values["overhead_ms"]
    values["created_at"] = datetime.fromtimestamp(record.created_at, UTC)
    values["attempts"] = [msgspec.structs.asdict(a) for a in record.attempts]
    values["cost"] = None if record.cost is None else to_money(record.cost)
    return values


_FIELDS = ("request_id", "created_at", "user_id", "key_id", "credential", "provider", "model", "endpoint", "stream",
           "tokens_in", "tokens_out", "cached_tokens", "cache_write_tokens", "reasoning_tokens", "cost", "estimated",
           "latency_ms", "ttft_ms", "status_code", "success", "error", "attempts")
_ROW = "(" + ", ".join("?" for _ in _FIELDS) + ")"
# Rows per INSERT: one statement per run of rows, so the driver hands the interpreter lock over once per run
# rather than twice per row; a few fixed sizes, so SQLite's statement cache holds a few statements, not one
# (of up to 11,000 parameters) per batch size.
_RUNS = (500, 50, 1)


def _sqlite_insert(rows: int) -> str:
    return (f"INSERT INTO usage_records ({', '.join(_FIELDS)}) VALUES " + ", ".join([_ROW] * rows)
            + " ON CONFLICT (request_id) DO NOTHING")


_SQLITE_INSERTS = {rows: _sqlite_insert(rows) for rows in _RUNS}
_JSON = msgspec.json.Encoder()
_UNITS = Decimal(10) ** MONEY_PLACES
_MAX_UNITS = 10 ** MONEY_DIGITS


def sqlite_values(r: UsageRecord) -> tuple[Any, ...]:
    """``r`` as SQLite stores a ``usage_records`` row through the column types (``UTCDateTime`` as naive UTC
    text, ``Money`` as integer units of 1e-10, JSON as text), built directly: the writer stores every request
    this way, and the generic path costs three times as much."""
    t = datetime.fromtimestamp(r.created_at, UTC)
    created = f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}.{t.microsecond:06d}"
    cost = None
    if r.cost is not None:
        cost = int((r.cost * _UNITS).to_integral_value(ROUND_HALF_EVEN))  # as Money rounds
        if abs(cost) >= _MAX_UNITS:
            to_money(r.cost)  # raises the store's own out-of-range error
    attempts = _JSON.encode(r.attempts).decode()  # as the JSON column writes it: objects, as text
    return (r.request_id, created, r.user_id, r.key_id, r.credential, r.provider, r.model,
            r.endpoint, r.stream, r.tokens_in, r.tokens_out, r.cached_tokens, r.cache_write_tokens,
            r.reasoning_tokens, cost, r.estimated, r.latency_ms, r.ttft_ms, r.status_code, r.success, r.error,
            attempts)


class UsageRepo(Repo):
    async def insert(self, batch: Sequence[UsageRecord]) -> None:
        """Store ``batch`` in one transaction; records already stored (same request id) are left as they are."""
        if not batch:
            return
        if self.engine.dialect.name == "sqlite":
            rows = [sqlite_values(r) for r in batch]
            async with self._write() as db:
                start = 0
                for size in _RUNS:
                    runs = (len(rows) - start) // size
                    if runs == 0:
                        continue
                    if size == 1:
                        await db.exec_driver_sql(_SQLITE_INSERTS[1], rows[start:])
                        break
                    for _ in range(runs):
                        values = tuple(value for row in rows[start:start + size] for value in row)
                        await db.exec_driver_sql(_SQLITE_INSERTS[size], values)
                        start += size
            return
        statement = postgresql.insert(usage_records).on_conflict_do_nothing(index_elements=["request_id"])
        async with self._write() as db:
            await db.execute(statement, [row(r) for r in batch])

    async def spent(self, since: datetime) -> dict[str, Decimal]:
        """What was spent since ``since``, per budget scope (``user:ID``, ``key:ID``, ``credential:ID``,
        ``provider:NAME`` for the config's providers)."""
        t = usage_records.c
        recent = t.created_at >= since
        totals: dict[str, Decimal] = {}
        queries = (
            ("user:", select(t.user_id, func.sum(t.cost)).where(recent, t.user_id.is_not(None)).group_by(t.user_id)),
            ("key:", select(t.key_id, func.sum(t.cost)).where(recent, t.key_id.is_not(None)).group_by(t.key_id)),
            ("credential:", select(t.credential, func.sum(t.cost)).where(recent, t.credential.is_not(None))
             .group_by(t.credential)),
            ("provider:", select(t.provider, func.sum(t.cost)).where(recent, t.credential.is_(None))
             .group_by(t.provider)),
        )
        async with self.engine.connect() as db:
            for prefix, query in queries:
                for name, total in await db.execute(query):
                    if total is not None:
                        totals[prefix + name] = total  # Money's result type: an exact Decimal on both databases
        return totals

    async def spent_by_credential(self, since: datetime, credential_ids: Sequence[str]) -> dict[str, Decimal]:
        """What each of ``credential_ids`` spent since ``since`` (credentials that spent nothing are absent)."""
        if not credential_ids:
            return {}
        t = usage_records.c
        query = (select(t.credential, func.sum(t.cost))
                 .where(t.created_at >= since, t.credential.in_(list(credential_ids))).group_by(t.credential))
        async with self.engine.connect() as db:
            return {name: total for name, total in await db.execute(query) if total is not None}

    async def count(self) -> int:
        async with self.engine.connect() as db:
            return int((await db.execute(select(func.count()).select_from(usage_records))).scalar_one())


"""Reading the usage records back: a month's summary, usage grouped by day, provider, model, key or user,
the request log with filters, and an export in chunks. Read only; every query is the actor's (a member:
only records with their user id; an admin: everything) and is computed by the database, on SQLite and
PostgreSQL alike. Sums of ``cost`` are exact decimals (the ``Money`` type), and the sums count only known
costs: records with an unknown price are counted apart as ``unpriced``.

Times are UTC. A period is a calendar month ``YYYY-MM``; a range is half-open, ``start <= t < end``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

import msgspec
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from byway.core.periods import month_range
from byway.core.usage_record import AttemptRecord, UsageRecord
from byway.store.schema import usage_records
from byway.store.scope import Actor, owned_by

GroupBy = Literal["day", "provider", "model", "key", "user"]
GROUPINGS: tuple[str, ...] = get_args(GroupBy)
StatusFilter = int | Literal["error", "success"]
MAX_LOGS = 1000
EXPORT_CHUNK = 500

_t = usage_records.c
_ZERO = Decimal(0)


class ProviderUsage(msgspec.Struct, frozen=True, kw_only=True):
    provider: str
    spent: Decimal  # known costs only
    requests: int
    tokens_in: int
    tokens_out: int
    avg_latency_ms: float
    errors: int
    unpriced: int  # requests whose price is unknown (their cost is not in ``spent``)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    period: str
    total_spent: Decimal
    requests: int
    tokens_in: int
    tokens_out: int
    errors: int
    unpriced: int
    by_provider: list[ProviderUsage]


class GroupUsage(msgspec.Struct, frozen=True, kw_only=True):
    group: str | None  # None: records without a key or user (made with the master key)
    requests: int
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    reasoning_tokens: int
    cost: Decimal  # known costs only
    errors: int
    unpriced: int


class LogFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which records the log shows; None everywhere: all of the actor's."""

    provider: str | None = None
    model: str | None = None
    status: StatusFilter | None = None  # a status code, or every failure / every success
    user_id: str | None = None
    key_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _totals() -> tuple[Any, ...]:
    return (func.count().label("requests"), func.sum(_t.tokens_in).label("tokens_in"),
            func.sum(_t.tokens_out).label("tokens_out"), func.sum(_t.cost).label("spent"),
            _count_if(_t.success.is_(False)).label("errors"), _count_if(_t.cost.is_(None)).label("unpriced"))


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _money(value: Any) -> Decimal:
    return value if value is not None else _ZERO  # Money's result type: an exact Decimal on both databases


def _to_record(row: Any) -> UsageRecord:
    values = dict(row._mapping)
    values.pop("id", None)
    values["created_at"] = values["created_at"].timestamp()
    values["attempts"] = tuple(msgspec.convert(values["attempts"] or [], list[AttemptRecord]))
    return UsageRecord(**values)


class UsageReports:
    """The read side of ``usage_records``. Cheap to make: it holds only the engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def _scoped(self, query: Select[Any], actor: Actor, start: datetime | None, end: datetime | None) -> Select[Any]:
        if (mine := owned_by(actor, _t.user_id)) is not None:
            query = query.where(mine)
        if start is not None:
            query = query.where(_t.created_at >= start)
        if end is not None:
            query = query.where(_t.created_at < end)
        return query

    async def summary(self, actor: Actor, period: str) -> Summary:
        """The month ``period`` in all and per provider (by name, the busiest first)."""
        start, end = month_range(period)
        whole = self._scoped(select(*_totals()), actor, start, end)
        per_provider = self._scoped(select(_t.provider, *_totals(), func.avg(_t.latency_ms).label("latency")),
                                    actor, start, end).group_by(_t.provider)
        async with self.engine.connect() as db:
            total = (await db.execute(whole)).one()
            rows = (await db.execute(per_provider)).all()
        providers = [ProviderUsage(provider=r.provider, spent=_money(r.spent), requests=_int(r.requests),
                                   tokens_in=_int(r.tokens_in), tokens_out=_int(r.tokens_out),
                                   avg_latency_ms=float(r.latency or 0.0), errors=_int(r.errors),
                                   unpriced=_int(r.unpriced)) for r in rows]
        providers.sort(key=lambda p: (-p.requests, p.provider))
        return Summary(period=period, total_spent=_money(total.spent), requests=_int(total.requests),
                       tokens_in=_int(total.tokens_in), tokens_out=_int(total.tokens_out), errors=_int(total.errors),
                       unpriced=_int(total.unpriced), by_provider=providers)

    def _group_column(self, group_by: GroupBy) -> ColumnElement[Any]:
        if group_by == "day":
            if self.engine.dialect.name == "postgresql":
                return func.to_char(func.timezone("UTC", _t.created_at), "YYYY-MM-DD")
            return func.strftime("%Y-%m-%d", _t.created_at)  # SQLite keeps naive UTC text
        columns = {"provider": _t.provider, "model": _t.model, "key": _t.key_id, "user": _t.user_id}
        return columns[group_by]

    async def grouped(self, actor: Actor, group_by: GroupBy, start: datetime, end: datetime) -> list[GroupUsage]:
        """Usage in ``[start, end)`` per day (UTC date, ``YYYY-MM-DD``), provider, model, key id or user id,
        ordered by group (days in order; a group of None last)."""
        if group_by not in GROUPINGS:
            raise ValueError(f"group_by must be one of {', '.join(GROUPINGS)}, not {group_by!r}")
        group = self._group_column(group_by).label("grp")
        query = self._scoped(select(group, *_totals(), func.sum(_t.cached_tokens).label("cached"),
                                    func.sum(_t.reasoning_tokens).label("reasoning")), actor, start, end)
        async with self.engine.connect() as db:
            rows = (await db.execute(query.group_by(group))).all()
        found = [GroupUsage(group=r.grp, requests=_int(r.requests), tokens_in=_int(r.tokens_in),
                            tokens_out=_int(r.tokens_out), cached_tokens=_int(r.cached),
                            reasoning_tokens=_int(r.reasoning), cost=_money(r.spent), errors=_int(r.errors),
                            unpriced=_int(r.unpriced)) for r in rows]
        found.sort(key=lambda g: (g.group is None, g.group or ""))
        return found

    async def logs(self, actor: Actor, where: LogFilter | None = None, *, limit: int = 100,
                   offset: int = 0) -> list[UsageRecord]:
        """The actor's records matching ``where``, newest first; ``limit`` at most 1000."""
        if not 0 < limit <= MAX_LOGS:
            raise ValueError(f"limit must be between 1 and {MAX_LOGS}")
        if offset < 0:
            raise ValueError("offset must not be negative")
        where = where or LogFilter()
        query = self._scoped(select(usage_records), actor, where.start, where.end)
        for condition in _filters(where):
            query = query.where(condition)
        query = query.order_by(_t.created_at.desc(), _t.id.desc()).limit(limit).offset(offset)
        async with self.engine.connect() as db:
            return [_to_record(r) for r in await db.execute(query)]

    async def export(self, actor: Actor, start: datetime | None = None, end: datetime | None = None, *,
                     chunk: int = EXPORT_CHUNK) -> AsyncIterator[list[UsageRecord]]:
        """The actor's records in ``[start, end)``, oldest first, ``chunk`` at a time: each chunk is its own
        short query resuming after the last record sent (by time, then id), so the table is never held in
        memory and no transaction stays open while the caller writes a chunk out."""
        after: tuple[datetime, int] | None = None
        base = self._scoped(select(usage_records), actor, start, end).order_by(_t.created_at, _t.id).limit(chunk)
        while True:
            query = base
            if after is not None:
                at, last_id = after
                query = query.where(or_(_t.created_at > at, and_(_t.created_at == at, _t.id > last_id)))
            async with self.engine.connect() as db:
                rows = (await db.execute(query)).all()
            if not rows:
                return
            yield [_to_record(r) for r in rows]
            if len(rows) < chunk:
                return
            after = (rows[-1].created_at, rows[-1].id)


def _filters(where: LogFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.provider is not None:
        found.append(_t.provider == where.provider)
    if where.model is not None:
        found.append(_t.model == where.model)
    if where.user_id is not None:
        found.append(_t.user_id == where.user_id)
    if where.key_id is not None:
        found.append(_t.key_id == where.key_id)
    status = where.status
    if status == "error":
        found.append(_t.success.is_(False))
    elif status == "success":
        found.append(_t.success.is_(True))
    elif isinstance(status, int):
        found.append(_t.status_code == status)
    return found


__all__ = ["EXPORT_CHUNK", "GROUPINGS", "MAX_LOGS", "GroupBy", "GroupUsage", "LogFilter", "ProviderUsage",
           "StatusFilter", "Summary", "UsageReports"]

"""A month's cost per provider and model, summed by the database from the usage records (exact: ``SUM``
of a Money column is a Decimal on SQLite and PostgreSQL alike). Providers are keyed as the statistics and
budgets key them: a config provider by its name, a stored credential as ``credential:ID``."""

from __future__ import annotations

from decimal import Decimal

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from byway.core.periods import month_range
from byway.store.schema import usage_records


class ModelCost(msgspec.Struct, frozen=True, kw_only=True):
    provider: str  # the config name, or credential:ID
    name: str  # the provider (or credential) name the records carry
    model: str
    requests: int
    unpriced_requests: int  # records with cost unknown (not in ``cost``)
    cost: Decimal
    tokens_in: int
    tokens_out: int


async def month_costs(engine: AsyncEngine, period: str) -> list[ModelCost]:
    """Cost, requests and tokens per (provider, model) for ``period``, ordered by provider and model."""
    start, end = month_range(period)
    t = usage_records.c
    query = (
        select(t.provider, t.credential, t.model, func.count(), func.count(t.cost), func.sum(t.cost),
               func.sum(t.tokens_in), func.sum(t.tokens_out))
        .where(t.created_at >= start, t.created_at < end)
        .group_by(t.provider, t.credential, t.model)
    )
    found: list[ModelCost] = []
    async with engine.connect() as db:
        for name, credential, model, requests, priced, total, tokens_in, tokens_out in await db.execute(query):
            found.append(ModelCost(
                provider=f"credential:{credential}" if credential else name, name=name, model=model,
                requests=int(requests), unpriced_requests=int(requests) - int(priced),
                cost=total if total is not None else Decimal(0),  # Money's result type: an exact Decimal
                tokens_in=int(tokens_in or 0), tokens_out=int(tokens_out or 0)))
    found.sort(key=lambda c: (c.provider, c.model))
    return found

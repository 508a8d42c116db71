"""Budget alerts: a budget that crossed its owner's alert threshold, kept once per budget scope and month.

The budgets raise an alert (``byway.accounting.budgets.Alert``); the alert desk stores it here and
delivers it to the webhook. Storing is what makes an alert once-only: the ``(scope, period)`` pair is
unique, so a second alert for the same budget and month — from a restart or another worker — is not
stored again and not delivered again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

import msgspec
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from byway.store import ids
from byway.store._sql import Repo, records
from byway.store.schema import budget_alerts
from byway.store.scope import Actor, owned_by
from byway.store.types import utcnow

ALERT = "alert"


class AlertFacts(Protocol):
    """What an alert says (``byway.accounting.budgets.Alert`` is one)."""

    @property
    def scope(self) -> str: ...  # user:ID, key:ID, credential:ID or provider:NAME

    @property
    def period(self) -> str: ...  # YYYY-MM, UTC

    @property
    def user_id(self) -> str | None: ...

    @property
    def percent(self) -> int: ...

    @property
    def spent(self) -> Decimal: ...

    @property
    def budget(self) -> Decimal: ...

    @property
    def at(self) -> float: ...  # unix seconds


class StoredAlert(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    scope: str
    period: str
    user_id: str | None  # whose alert it is (None: a config provider's, for admins)
    percent: int
    spent: Decimal
    budget: Decimal
    created_at: datetime
    delivered_at: datetime | None  # when the webhook took it (None: not delivered, or no webhook)


class AlertsRepo(Repo):
    async def insert(self, alert: AlertFacts) -> StoredAlert | None:
        """Store ``alert``; None when an alert for its scope and period is already stored (nothing changes)."""
        stored = StoredAlert(id=ids.new_id(ALERT), scope=alert.scope, period=alert.period, user_id=alert.user_id,
                             percent=alert.percent, spent=alert.spent, budget=alert.budget,
                             created_at=datetime.fromtimestamp(alert.at, UTC), delivered_at=None)
        builder = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        statement = (builder(budget_alerts).values(**msgspec.structs.asdict(stored))
                     .on_conflict_do_nothing(index_elements=["scope", "period"]).returning(budget_alerts.c.id))
        async with self._write() as db:
            inserted = (await db.execute(statement)).first()
        return stored if inserted is not None else None

    async def list(self, actor: Actor, period: str | None = None) -> list[StoredAlert]:
        """The actor's alerts (an admin's: all), newest first; only ``period``'s when given."""
        query = select(budget_alerts).order_by(budget_alerts.c.created_at.desc(), budget_alerts.c.id.desc())
        if (mine := owned_by(actor, budget_alerts.c.user_id)) is not None:
            query = query.where(mine)
        if period is not None:
            query = query.where(budget_alerts.c.period == period)
        async with self.engine.connect() as db:
            return records(StoredAlert, await db.execute(query))

    async def scopes_alerted(self, period: str) -> set[str]:
        """The budget scopes already alerted in ``period`` (so a restarted gateway does not alert them again)."""
        query = select(budget_alerts.c.scope).where(budget_alerts.c.period == period)
        async with self.engine.connect() as db:
            return set((await db.execute(query)).scalars())

    async def mark_delivered(self, alert_id: str, at: datetime | None = None) -> bool:
        """Record that the webhook took the alert; False when there is no such alert."""
        statement = (update(budget_alerts).where(budget_alerts.c.id == alert_id)
                     .values(delivered_at=at or utcnow()))
        async with self._write() as db:
            return (await db.execute(statement)).rowcount == 1

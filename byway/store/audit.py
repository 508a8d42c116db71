"""The audit log: who changed what, when. Details never hold a secret: values under secret-looking
names are replaced with ``***`` before they are written."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select

from byway.store._sql import Repo, records
from byway.store.schema import audit_log
from byway.store.scope import Actor, actor_label, owned_by
from byway.store.types import utcnow

REDACTED = "***"
_SECRET_WORDS = frozenset({"key", "apikey", "secret", "password", "passwd", "token", "credentials", "ciphertext",
                           "private", "authorization", "cookie"})
_NOT_SECRET = frozenset({"key_hint", "key_id"})
_WORDS = re.compile(r"[a-z0-9]+")


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None
    detail: dict[str, Any] | None


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered not in _NOT_SECRET and not _SECRET_WORDS.isdisjoint(_WORDS.findall(lowered))


def redact(value: Any) -> Any:
    """``value`` with everything under a secret-looking key replaced by ``***`` (nested too)."""
    if isinstance(value, dict):
        return {k: REDACTED if _secret_name(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


class AuditLog(Repo):
    async def record(self, actor: Actor, action: str, object_type: str, object_id: str | None = None,
                     detail: dict[str, Any] | None = None) -> None:
        values = {"at": utcnow(), "actor": actor_label(actor), "action": action, "object_type": object_type,
                  "object_id": object_id, "detail": redact(detail) if detail is not None else None}
        async with self._write() as db:
            await db.execute(audit_log.insert().values(**values))

    async def list(self, actor: Actor, *, object_type: str | None = None, object_id: str | None = None,
                   limit: int = 100, offset: int = 0) -> list[AuditEntry]:
        """Newest first. A member sees only what they did."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(min(limit, 1000)).offset(offset)
        if (mine := owned_by(actor, audit_log.c.actor)) is not None:
            query = query.where(mine)
        if object_type is not None:
            query = query.where(audit_log.c.object_type == object_type)
        if object_id is not None:
            query = query.where(audit_log.c.object_id == object_id)
        async with self.engine.connect() as db:
            return records(AuditEntry, await db.execute(query))

"""Gateway API keys: ``byw-`` and 256 random bits, shown once, stored only as a SHA-256 hash.

A slow hash would add nothing: the keys are random, not chosen by people, so there is no
dictionary to guess from. Lookup hashes the presented key and finds the row by that hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec
from sqlalchemy import func, literal, select, update

from byway.store import ids
from byway.store._sql import Repo, record, records
from byway.store.schema import gateway_keys
from byway.store.scope import Actor, owned_by
from byway.store.types import UTCDateTime, utcnow

KEY_PREFIX = "byw-"
Problem = Literal["unknown", "revoked", "expired"]


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_hint(key: str) -> str:
    """What lists show of a key: its prefix and first 4 random characters, and its last 4."""
    return f"{key[:8]}…{key[-4:]}"


class GatewayKey(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    user_id: str
    name: str
    key_hash: str
    hint: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    allowed_models: list[str] | None
    monthly_budget: Decimal | None
    rpm_limit: int | None
    tpm_limit: int | None
    last_used_at: datetime | None

    def problem(self, now: datetime) -> Problem | None:
        """Why the key cannot be used at ``now`` (None: it can)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return None


class NewKey(msgspec.Struct, kw_only=True):
    name: str
    expires_at: datetime | None = None
    allowed_models: list[str] | None = None
    monthly_budget: Decimal | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None


class KeyLookup(msgspec.Struct, frozen=True):
    """A presented key's row (when known) and why it cannot be used (None: it can)."""

    key: GatewayKey | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


class KeysRepo(Repo):
    async def create(self, user_id: str, new: NewKey) -> tuple[GatewayKey, str]:
        """A new key for ``user_id``: the stored record and the plaintext key, which is not kept."""
        if new.expires_at is not None and new.expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware (UTC)")
        plaintext = generate_key()
        key = GatewayKey(id=ids.new_id(ids.KEY), user_id=user_id, key_hash=hash_key(plaintext),
                         hint=display_hint(plaintext), created_at=utcnow(), revoked_at=None, last_used_at=None,
                         **msgspec.structs.asdict(new))
        async with self._write(missing=f"no user {user_id}") as db:
            await db.execute(gateway_keys.insert().values(**msgspec.structs.asdict(key)))
        return key, plaintext

    async def get(self, actor: Actor, key_id: str) -> GatewayKey | None:
        query = select(gateway_keys).where(gateway_keys.c.id == key_id)
        if (mine := owned_by(actor, gateway_keys.c.user_id)) is not None:
            query = query.where(mine)
        async with self.engine.connect() as db:
            row = (await db.execute(query)).first()
        return record(GatewayKey, row) if row else None

    async def list(self, actor: Actor, user_id: str | None = None) -> list[GatewayKey]:
        """The actor's keys (an admin's: everyone's, or ``user_id``'s)."""
        query = select(gateway_keys).order_by(gateway_keys.c.created_at, gateway_keys.c.id)
        if (mine := owned_by(actor, gateway_keys.c.user_id)) is not None:
            query = query.where(mine)
        if user_id is not None:
            query = query.where(gateway_keys.c.user_id == user_id)
        async with self.engine.connect() as db:
            return records(GatewayKey, await db.execute(query))

    async def load_all(self) -> list[GatewayKey]:
        async with self.engine.connect() as db:
            return records(GatewayKey, await db.execute(select(gateway_keys)))

    async def revoke(self, actor: Actor, key_id: str) -> GatewayKey | None:
        """Revoke the key (once: a second revoke keeps the first time). None when not the actor's."""
        statement = (update(gateway_keys).where(gateway_keys.c.id == key_id)
                     .values(revoked_at=func.coalesce(gateway_keys.c.revoked_at, literal(utcnow(), UTCDateTime()))))
        if (mine := owned_by(actor, gateway_keys.c.user_id)) is not None:
            statement = statement.where(mine)
        async with self._write() as db:
            row = (await db.execute(statement.returning(gateway_keys))).first()
        return record(GatewayKey, row) if row else None

    async def lookup(self, presented: str, now: datetime | None = None) -> KeyLookup:
        """The key a caller presented, and whether it is usable: unknown, revoked or expired."""
        digest = hash_key(presented)
        async with self.engine.connect() as db:
            row = (await db.execute(select(gateway_keys).where(gateway_keys.c.key_hash == digest))).first()
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            return KeyLookup(None, "unknown")
        key = record(GatewayKey, row)
        return KeyLookup(key, key.problem(now or utcnow()))

    async def touch(self, used: Mapping[str, datetime]) -> None:
        """Record when keys were last used (batched by the caller); never moves a time backwards."""
        if not used:
            return
        column = gateway_keys.c.last_used_at
        async with self._write() as db:
            for key_id, at in used.items():
                await db.execute(update(gateway_keys).where(gateway_keys.c.id == key_id,
                                                            (column.is_(None)) | (column < at))
                                 .values(last_used_at=at))

"""The versions of the key-encryption key, known by fingerprint (never the key itself).

Each secret key the gateway has used gets a version number; credentials record the version their
secret was sealed under. A fingerprint lets a starting gateway tell which version its secret is,
and say clearly when it was given a secret the database does not know.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import func, literal, select, text, update

from byway.store._sql import Repo, records
from byway.store.schema import vault_keys
from byway.store.types import UTCDateTime, utcnow


class KeyVersion(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    fingerprint: str
    created_at: datetime
    retired_at: datetime | None


class VaultKeysRepo(Repo):
    async def all(self) -> list[KeyVersion]:
        async with self.engine.connect() as db:
            return records(KeyVersion, await db.execute(select(vault_keys).order_by(vault_keys.c.version)))

    async def find(self, fingerprint: str) -> KeyVersion | None:
        async with self.engine.connect() as db:
            rows = await db.execute(select(vault_keys).where(vault_keys.c.fingerprint == fingerprint))
            found = records(KeyVersion, rows)
        return found[0] if found else None

    async def register(self, fingerprint: str) -> KeyVersion:
        """The version of this fingerprint, adding it as the next version when it is new."""
        async with self._write() as db:
            if db.dialect.name == "postgresql":  # SQLite's write transaction already excludes other writers
                await db.execute(text("LOCK TABLE vault_keys IN EXCLUSIVE MODE"))
            rows = await db.execute(select(vault_keys).where(vault_keys.c.fingerprint == fingerprint))
            found = records(KeyVersion, rows)
            if found:
                return found[0]
            newest = (await db.execute(select(func.max(vault_keys.c.version)))).scalar()
            version = KeyVersion(version=(newest or 0) + 1, fingerprint=fingerprint, created_at=utcnow(),
                                 retired_at=None)
            await db.execute(vault_keys.insert().values(**msgspec.structs.asdict(version)))
        return version

    async def retire(self, version: int) -> None:
        now = literal(utcnow(), UTCDateTime())
        async with self._write() as db:
            await db.execute(update(vault_keys).where(vault_keys.c.version == version)
                             .values(retired_at=func.coalesce(vault_keys.c.retired_at, now)))

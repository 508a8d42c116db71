"""Keeping the in-memory directory in step with the database.

Every change to accounts — through the API, the CLI, or another gateway process — writes an audit
entry naming the object it changed. The audit log is therefore the change feed: its ids are the
version counter. ``sync()`` reads the entries after the last one seen and reloads just the objects
they name; the process that made a change syncs at once, the others on their next poll (every few
seconds). Audit ids can become visible out of order when transactions on PostgreSQL commit out of
order, so ids skipped over are watched for a while (``GAP_SECONDS``) in case they appear late; a
batch too large to replay reloads everything.

The feed also writes back when keys were last used (``touch``), batched per poll.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from byway.accounts.directory import Directory, Loaded
from byway.accounts.provider import provider_config
from byway.store import ADMIN, Store, StoredCredential
from byway.store.schema import audit_log
from byway.vault import Keyring, VaultError

log = logging.getLogger("byway.accounts")

BATCH = 1000
GAP_SECONDS = 30.0
_MAX_GAP_SPAN = 10_000


class Feed:
    def __init__(self, store: Store, directory: Directory, keyring: Callable[[], Keyring],
                 on_rotation: Callable[[], Awaitable[None]] | None = None) -> None:
        self.store = store
        self.directory = directory
        self._keyring = keyring
        self._on_rotation = on_rotation
        self._high = 0
        self._gaps: dict[int, float] = {}
        self._lock = asyncio.Lock()
        self.loaded = False

    async def load_all(self) -> None:
        async with self._lock:
            await self._load_all()

    async def _load_all(self) -> None:
        async with self.store.engine.connect() as db:
            high = (await db.execute(select(func.max(audit_log.c.id)))).scalar() or 0
        users = await self.store.users.load_all()
        keys = await self.store.keys.load_all()
        stored = await self.store.credentials.load_all()
        prefs = await self.store.preferences.load_all()
        d = self.directory
        d.clear()
        for user in users:
            d.put_user(user)
        for key in keys:
            d.put_key(key)
        for row in stored:
            d.put_credential(self.open(row))
        for user_id, p in prefs.items():
            d.put_preferences(user_id, p)
        d.refresh()
        self._high = high
        self._gaps = {}
        self.loaded = True
        log.info("accounts loaded: %r", d)

    def open(self, stored: StoredCredential) -> Loaded:
        """The credential with its provider connection; a secret that will not open leaves it unusable
        (and says so in the log, without any secret material)."""
        c = stored.credential
        try:
            return Loaded(c, provider_config(c, self._keyring().open_stored(stored)))
        except (VaultError, ValueError) as e:
            log.error("credential %s (%r) cannot be used: %s", c.id, c.name, e)
            return Loaded(c, None, str(e))

    async def sync(self) -> int:
        """Apply the changes made since the last sync; the number of audit entries applied."""
        async with self._lock:
            if not self.loaded:
                await self._load_all()
                return 0
            low = (min(self._gaps) - 1) if self._gaps else self._high
            query = (select(audit_log.c.id, audit_log.c.object_type, audit_log.c.object_id)
                     .where(audit_log.c.id > low).order_by(audit_log.c.id).limit(BATCH + 1))
            async with self.store.engine.connect() as db:
                rows = (await db.execute(query)).all()
            if len(rows) > BATCH:
                await self._load_all()
                return len(rows)
            fresh = [(r.object_type, r.object_id) for r in rows if r.id > self._high or r.id in self._gaps]
            self._track(row.id for row in rows)
            if fresh:
                await self._apply(fresh)
            return len(fresh)

    def _track(self, ids: Iterable[int]) -> None:
        seen = set(ids)
        high = max(seen, default=self._high)
        now = time.monotonic()
        if high > self._high and high - self._high < _MAX_GAP_SPAN:
            for missing in range(self._high + 1, high):
                if missing not in seen:
                    self._gaps[missing] = now
        for found in seen:
            self._gaps.pop(found, None)
        self._gaps = {i: at for i, at in self._gaps.items() if now - at < GAP_SECONDS}
        self._high = max(self._high, high)

    async def _apply(self, changes: list[tuple[str, Any]]) -> None:
        kinds: dict[str, set[str]] = {}
        for object_type, object_id in changes:
            if object_id is not None:
                kinds.setdefault(object_type, set()).add(object_id)
        if "vault" in kinds and self._on_rotation is not None:
            await self._on_rotation()
        d = self.directory
        for user_id in kinds.get("user", ()):
            user = await self.store.users.get(ADMIN, user_id)
            if user is None:
                d.drop_user(user_id)
            else:
                d.put_user(user)
        for key_id in kinds.get("key", ()):
            key = await self.store.keys.get(ADMIN, key_id)
            if key is None:
                d.drop_key(key_id)
            else:
                d.put_key(key)
        for credential_id in kinds.get("credential", ()):
            stored = await self.store.credentials.sealed(ADMIN, credential_id)
            if stored is None:
                d.drop_credential(credential_id)
            else:
                d.put_credential(self.open(stored))
        for user_id in kinds.get("preferences", ()):
            prefs = await self.store.preferences.get(ADMIN, user_id)
            if prefs is not None and user_id in d.users:
                d.put_preferences(user_id, prefs)
        d.refresh()

    async def flush_used(self) -> None:
        """Write when keys were last used (at most once per key per poll)."""
        used = self.directory.used
        if not used:
            return
        self.directory.used = {}
        await self.store.keys.touch({key_id: datetime.fromtimestamp(at, UTC) for key_id, at in used.items()})

    async def run(self, every: float) -> None:
        """Poll for changes until cancelled; a database that does not answer is reported and retried."""
        failing = False
        while True:
            await asyncio.sleep(every)
            try:
                await self.sync()
                await self.flush_used()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if not failing:
                    log.warning("accounts: cannot read changes from the database (%s); retrying",
                                str(e).splitlines()[0] if str(e) else type(e).__name__)
                failing = True
            else:
                if failing:
                    log.warning("accounts: reading changes from the database again")
                failing = False

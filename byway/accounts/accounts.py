"""The gateway's accounts: the store and vault behind, the in-memory directory in front, and the
operations the management API and the CLI share (``users``, ``keys``, ``credentials``, ``preferences``).

    accounts = Accounts(database_url, secret, transport=transport)
    await accounts.start()          # schema, vault, first admin, everything loaded, polling for changes
    principal = accounts.directory.authenticate("byw-...")   # the request path: memory only
    await accounts.close()

Every change goes to the database, then into the audit log (the change feed), then back into the
directory through the feed, the same way another process's changes arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text

from byway.accounts.checks import ProviderCheck
from byway.accounts.credentials import CredentialOps
from byway.accounts.directory import Directory
from byway.accounts.errors import VaultUnavailable
from byway.accounts.feed import Feed
from byway.accounts.guard import BaseURLGuard, GuardedTransport
from byway.accounts.keys import KeyOps
from byway.accounts.preferences import PreferenceOps
from byway.accounts.secret_key import SecretKey, open_keyring
from byway.accounts.users import UserOps
from byway.providers.transport import Transport
from byway.store import Actor, Passwords, Store, upgrade
from byway.vault import CredentialVault, Keyring, VaultError, rotate

log = logging.getLogger("byway.accounts")

POLL_SECONDS = 2.0
READY_TIMEOUT = 2.0


class Accounts:
    def __init__(self, database_url: str, secret: SecretKey, *, transport: Transport | None = None,
                 allow_private_base_urls: bool = False, config_providers: Iterable[str] = (),
                 poll_seconds: float = POLL_SECONDS, passwords: Passwords | None = None,
                 guard: BaseURLGuard | None = None) -> None:
        self.database_url = database_url
        self.secret = secret
        self.store = Store.open(database_url, passwords)
        self.transport = transport or Transport()
        self._own_transport = transport is None
        guarded = self.transport if isinstance(self.transport, GuardedTransport) else None
        self.directory = Directory(on_added=guarded.guard if guarded else None,
                                   on_removed=guarded.unguard if guarded else None)
        self.guard = guard or BaseURLGuard(allow_private_base_urls)
        self.checker = ProviderCheck(self.transport)
        self.config_providers = frozenset(config_providers)
        self.poll_seconds = poll_seconds
        self._vault: CredentialVault | None = None
        self.vault_stale = False  # the secret key was rotated elsewhere and cannot be re-read here
        self.owner_id: str | None = None
        self.feed = Feed(self.store, self.directory, self.keyring, self._rotated)
        self.users = UserOps(self)
        self.keys = KeyOps(self)
        self.credentials = CredentialOps(self)
        self.preferences = PreferenceOps(self)
        self._poller: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"Accounts({self.store!r}, {self.directory!r})"

    # --- life cycle -----------------------------------------------------------------------------------

    async def open(self) -> None:
        """Bring the schema up to date, open the vault, and make the first admin on a first start."""
        await upgrade(self.database_url)
        self._vault = CredentialVault(self.store, await open_keyring(self.store, self.secret))
        self.owner_id = await self.users.ensure_owner(os.environ.get("BYWAY_ADMIN_EMAIL"),
                                                      os.environ.get("BYWAY_ADMIN_PASSWORD"))

    async def start(self) -> None:
        """``open()``, load everything into the directory, and follow changes from other processes."""
        await self.open()
        await self.feed.load_all()
        if self.poll_seconds > 0:
            self._poller = asyncio.create_task(self.feed.run(self.poll_seconds), name="byway-accounts-feed")

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        with contextlib.suppress(Exception):
            await self.feed.flush_used()
        await self.store.close()
        await self.guard.close()
        if self._own_transport:
            await self.transport.close()

    async def __aenter__(self) -> Accounts:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- shared by the operations ---------------------------------------------------------------------

    @property
    def vault(self) -> CredentialVault:
        if self._vault is None:
            raise RuntimeError("Accounts.open() has not run")
        return self._vault

    def keyring(self) -> Keyring:
        return self.vault.keyring

    def sealing(self) -> CredentialVault:
        """The vault, for an operation that seals a secret."""
        if self.vault_stale:
            raise VaultUnavailable("the secret key was rotated by another process: restart this gateway with "
                                   "the new secret key before adding or changing provider keys")
        return self.vault

    async def changed(self, actor: Actor, action: str, object_type: str, object_id: str | None,
                      detail: dict[str, Any] | None = None) -> None:
        """Record a change in the audit log and bring the directory up to date with it."""
        await self.store.audit.record(actor, action, object_type, object_id, detail)
        if self.feed.loaded:
            await self.feed.sync()

    async def database_problem(self) -> str | None:
        """None when the database answers, else what is wrong (for ``/health/ready``)."""
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                async with self.store.engine.connect() as db:
                    await db.execute(text("SELECT 1"))
        except TimeoutError:
            return f"unreachable: no answer within {READY_TIMEOUT:g} s"
        except Exception as e:
            return f"unreachable: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
        return None

    async def _rotated(self) -> None:
        """The secret key was rotated (by ``byway rotate-secret``): switch to the new one if it can be
        read from where it lives, and re-seal anything this process sealed with the old one meanwhile."""
        fresh = self.secret.reread()
        if fresh.value == self.secret.value:
            if self.secret.source != "file" and not self.vault_stale:
                self.vault_stale = True
                log.warning("the secret key was rotated; restart this gateway with the new secret key "
                            "(credentials in memory keep working until then)")
            return
        old = self.secret.value
        try:
            keyring = await Keyring.load(self.store, fresh.value, previous_secret=old)
            await rotate(self.store, old, fresh.value)
        except VaultError as e:
            self.vault_stale = True
            log.error("the secret key was rotated but this gateway cannot switch to it: %s", e)
            return
        self.secret = fresh
        self.vault.keyring = keyring
        log.info("switched to the rotated secret key (version %d)", keyring.current.version)

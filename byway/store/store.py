"""The store: one engine and a repository per aggregate, opened together."""

from __future__ import annotations

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from byway.store.alerts import AlertsRepo
from byway.store.audit import AuditLog
from byway.store.credentials import CredentialsRepo
from byway.store.database import create_engine
from byway.store.keys import KeysRepo
from byway.store.passwords import Passwords
from byway.store.preferences import PreferencesRepo
from byway.store.usage import UsageRepo
from byway.store.users import UsersRepo
from byway.store.vault_keys import VaultKeysRepo


class Store:
    """The repositories over one engine. ``Store.open(url)`` makes the engine; ``close()`` disposes of it.
    Nothing is global: the server makes one at start and passes it to who needs it."""

    def __init__(self, engine: AsyncEngine, passwords: Passwords | None = None) -> None:
        self.engine = engine
        self.users = UsersRepo(engine, passwords)
        self.keys = KeysRepo(engine)
        self.credentials = CredentialsRepo(engine)
        self.preferences = PreferencesRepo(engine)
        self.audit = AuditLog(engine)
        self.vault_keys = VaultKeysRepo(engine)
        self.usage = UsageRepo(engine)
        self.alerts = AlertsRepo(engine)

    @classmethod
    def open(cls, database_url: str | URL, passwords: Passwords | None = None) -> Store:
        return cls(create_engine(database_url), passwords)

    async def close(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)})"

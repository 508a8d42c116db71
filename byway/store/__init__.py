"""Persistence: the schema, its migrations and a repository per aggregate, on SQLite or PostgreSQL.

    from byway.store import Store, upgrade

    await upgrade("sqlite:///byway-data/byway.db")       # or postgresql://user:pw@host/db
    store = Store.open("sqlite:///byway-data/byway.db")
    user = await store.users.create("ada@example.com", password="...", role="admin")
"""

from byway.store.audit import AuditEntry, AuditLog
from byway.store.credentials import (
    Credential,
    CredentialPatch,
    CredentialsRepo,
    NewCredential,
    SealedSecret,
    StoredCredential,
)
from byway.store.database import create_engine
from byway.store.errors import DuplicateError, ForbiddenError, MissingError, StoreError
from byway.store.keys import GatewayKey, KeyLookup, KeysRepo, NewKey
from byway.store.migrate import current, head, upgrade
from byway.store.passwords import Passwords
from byway.store.preferences import Preferences, PreferencesRepo
from byway.store.scope import ADMIN, Actor, As
from byway.store.store import Store
from byway.store.url import DatabaseURLError, async_url
from byway.store.users import User, UserPatch, UsersRepo
from byway.store.vault_keys import KeyVersion, VaultKeysRepo

__all__ = [
    "ADMIN", "Actor", "As", "AuditEntry", "AuditLog", "Credential", "CredentialPatch", "CredentialsRepo",
    "DatabaseURLError", "DuplicateError", "ForbiddenError", "GatewayKey", "KeyLookup", "KeyVersion", "KeysRepo",
    "MissingError", "NewCredential", "NewKey", "Passwords", "Preferences", "PreferencesRepo", "SealedSecret",
    "Store", "StoreError", "StoredCredential", "User", "UserPatch", "UsersRepo", "VaultKeysRepo", "async_url",
    "create_engine", "current", "head", "upgrade",
]

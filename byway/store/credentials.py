"""Provider credentials (BYOK): the connection settings in the clear, the secret only as ciphertext.

The store never sees a secret: :mod:`byway.vault` seals it and hands over a :class:`SealedSecret`.
A credential's owner and provider type are fixed at creation (the vault binds the ciphertext to
them); everything else may change. ``user_id`` None means the gateway itself owns it (made with the
master key). Shared credentials are visible to every member, but only their owner or an admin may
read their sealed secret or change them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, delete, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from byway.store._sql import Repo, changes, record
from byway.store.errors import ForbiddenError
from byway.store.schema import credentials
from byway.store.scope import Actor, is_admin, owned_by
from byway.store.types import utcnow

_SECRET_COLUMNS = frozenset({"ciphertext", "nonce"})
_COLUMNS = tuple(c for c in credentials.c if c.name not in _SECRET_COLUMNS)
_UNSET: Any = msgspec.UNSET


class SealedSecret(msgspec.Struct, frozen=True):
    """A credential's secret as stored: AES-GCM ciphertext, its nonce, and the key version used."""

    ciphertext: bytes
    nonce: bytes
    kek_version: int

    def __repr__(self) -> str:
        return f"SealedSecret(<{len(self.ciphertext)} bytes>, kek_version={self.kek_version})"


class Credential(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    user_id: str | None
    shared: bool
    provider_type: str
    name: str
    kek_version: int
    key_hint: str
    base_url: str | None
    model: str | None
    models: list[str] | None
    is_active: bool
    is_default: bool
    is_valid: bool | None
    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    rate_limit_rpm: int | None
    monthly_budget: Decimal | None
    priority: int
    cost_per_1k_input: Decimal | None
    cost_per_1k_output: Decimal | None
    extra: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    rate_limit_tpm: int | None = None  # tokens per minute through this credential (None: no limit)


class NewCredential(msgspec.Struct, kw_only=True):
    """A credential's settings at creation (the secret travels separately, sealed)."""

    provider_type: str
    name: str
    user_id: str | None
    shared: bool = False
    base_url: str | None = None
    model: str | None = None
    models: list[str] | None = None
    is_active: bool = True
    is_default: bool = False
    is_valid: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    rate_limit_rpm: int | None = None
    rate_limit_tpm: int | None = None
    monthly_budget: Decimal | None = None
    priority: int = 100
    cost_per_1k_input: Decimal | None = None
    cost_per_1k_output: Decimal | None = None
    extra: dict[str, Any] | None = None


class CredentialPatch(msgspec.Struct, kw_only=True):
    """The settings to change; ``shared`` only by an admin."""

    name: str | msgspec.UnsetType = _UNSET
    shared: bool | msgspec.UnsetType = _UNSET
    base_url: str | msgspec.UnsetType | None = _UNSET
    model: str | msgspec.UnsetType | None = _UNSET
    models: list[str] | msgspec.UnsetType | None = _UNSET
    is_active: bool | msgspec.UnsetType = _UNSET
    is_default: bool | msgspec.UnsetType = _UNSET
    is_valid: bool | msgspec.UnsetType | None = _UNSET
    temperature: float | msgspec.UnsetType | None = _UNSET
    top_p: float | msgspec.UnsetType | None = _UNSET
    max_tokens: int | msgspec.UnsetType | None = _UNSET
    rate_limit_rpm: int | msgspec.UnsetType | None = _UNSET
    rate_limit_tpm: int | msgspec.UnsetType | None = _UNSET
    monthly_budget: Decimal | msgspec.UnsetType | None = _UNSET
    priority: int | msgspec.UnsetType = _UNSET
    cost_per_1k_input: Decimal | msgspec.UnsetType | None = _UNSET
    cost_per_1k_output: Decimal | msgspec.UnsetType | None = _UNSET
    extra: dict[str, Any] | msgspec.UnsetType | None = _UNSET


class StoredCredential(msgspec.Struct, frozen=True):
    credential: Credential
    sealed: SealedSecret


def _visible_to(actor: Actor) -> ColumnElement[bool] | None:
    """Own and shared credentials for a member; everything for an admin."""
    mine = owned_by(actor, credentials.c.user_id)
    return None if mine is None else or_(mine, credentials.c.shared == true())


def _stored(row: Any) -> StoredCredential:
    mapping = dict(row._mapping)
    sealed = SealedSecret(bytes(mapping.pop("ciphertext")), bytes(mapping.pop("nonce")), mapping["kek_version"])
    return StoredCredential(Credential(**mapping), sealed)


def _owner_is(owner: str | None) -> ColumnElement[bool]:
    return credentials.c.user_id.is_(None) if owner is None else credentials.c.user_id == owner


class CredentialsRepo(Repo):
    async def insert(self, credential_id: str, new: NewCredential, key_hint: str, sealed: SealedSecret) -> Credential:
        """Store a credential under ``credential_id`` (the id its secret was sealed for).
        DuplicateError("name") when its owner already has that name; MissingError for an unknown owner."""
        now = utcnow()
        values = msgspec.structs.asdict(new) | {"id": credential_id, "key_hint": key_hint, "created_at": now,
                                                "updated_at": now, "ciphertext": sealed.ciphertext,
                                                "nonce": sealed.nonce, "kek_version": sealed.kek_version}
        async with self._write(("name", f"a credential named {new.name!r} exists"),
                               missing=f"no user {new.user_id}") as db:
            if new.is_default:
                await self._clear_default(db, new.user_id, credential_id)
            row = (await db.execute(credentials.insert().values(**values).returning(*_COLUMNS))).one()
        return record(Credential, row)

    async def get(self, actor: Actor, credential_id: str) -> Credential | None:
        """The credential if the actor owns it, it is shared, or the actor is an admin."""
        query = select(*_COLUMNS).where(credentials.c.id == credential_id)
        if (visible := _visible_to(actor)) is not None:
            query = query.where(visible)
        async with self.engine.connect() as db:
            row = (await db.execute(query)).first()
        return record(Credential, row) if row else None

    async def list(self, actor: Actor) -> list[Credential]:
        query = select(*_COLUMNS).order_by(credentials.c.priority, credentials.c.created_at, credentials.c.id)
        if (visible := _visible_to(actor)) is not None:
            query = query.where(visible)
        async with self.engine.connect() as db:
            return [record(Credential, row) for row in await db.execute(query)]

    async def sealed(self, actor: Actor, credential_id: str) -> StoredCredential | None:
        """The credential with its sealed secret: for its owner or an admin only (never via sharing)."""
        query = select(credentials).where(credentials.c.id == credential_id)
        if (mine := owned_by(actor, credentials.c.user_id)) is not None:
            query = query.where(mine)
        async with self.engine.connect() as db:
            row = (await db.execute(query)).first()
        return _stored(row) if row else None

    async def load_all(self) -> list[StoredCredential]:
        """Every credential with its sealed secret, for the gateway's in-memory table."""
        async with self.engine.connect() as db:
            return [_stored(row) for row in await db.execute(select(credentials).order_by(credentials.c.id))]

    async def update(self, actor: Actor, credential_id: str, patch: CredentialPatch) -> Credential | None:
        values = changes(patch)
        if "shared" in values and not is_admin(actor):
            raise ForbiddenError("only an admin may share a credential")
        if not values:
            return await self._owned(actor, credential_id)
        values["updated_at"] = utcnow()
        statement = update(credentials).where(credentials.c.id == credential_id).values(**values)
        if (mine := owned_by(actor, credentials.c.user_id)) is not None:
            statement = statement.where(mine)
        async with self._write(("name", f"a credential named {values.get('name')!r} exists")) as db:
            row = (await db.execute(statement.returning(*_COLUMNS))).first()
            if row is not None and values.get("is_default"):
                await self._clear_default(db, row.user_id, credential_id)
        return record(Credential, row) if row else None

    async def replace_secret(self, actor: Actor, credential_id: str, key_hint: str,
                             sealed: SealedSecret) -> Credential | None:
        """Put a new sealed secret (a changed API key) in place; None when not the actor's to change."""
        statement = (update(credentials).where(credentials.c.id == credential_id)
                     .values(ciphertext=sealed.ciphertext, nonce=sealed.nonce, kek_version=sealed.kek_version,
                             key_hint=key_hint, updated_at=utcnow()))
        if (mine := owned_by(actor, credentials.c.user_id)) is not None:
            statement = statement.where(mine)
        async with self._write() as db:
            row = (await db.execute(statement.returning(*_COLUMNS))).first()
        return record(Credential, row) if row else None

    async def reseal(self, credential_id: str, expected: SealedSecret, sealed: SealedSecret) -> bool:
        """Swap ``expected`` for ``sealed`` (key rotation), only if the row still holds ``expected``:
        False means it changed meanwhile (or is gone) and should be read again."""
        statement = (update(credentials)
                     .where(credentials.c.id == credential_id, credentials.c.nonce == expected.nonce,
                            credentials.c.kek_version == expected.kek_version)
                     .values(ciphertext=sealed.ciphertext, nonce=sealed.nonce, kek_version=sealed.kek_version))
        async with self._write() as db:
            return (await db.execute(statement)).rowcount == 1

    async def sealed_by_id(self, credential_id: str) -> StoredCredential | None:
        async with self.engine.connect() as db:
            row = (await db.execute(select(credentials).where(credentials.c.id == credential_id))).first()
        return _stored(row) if row else None

    async def ids_not_under(self, kek_version: int) -> list[str]:
        """Credentials whose secret is sealed under another key version than ``kek_version``."""
        query = select(credentials.c.id).where(credentials.c.kek_version != kek_version).order_by(credentials.c.id)
        async with self.engine.connect() as db:
            return list((await db.execute(query)).scalars())

    async def versions_in_use(self) -> set[int]:
        async with self.engine.connect() as db:
            return set((await db.execute(select(credentials.c.kek_version).distinct())).scalars())

    async def delete(self, actor: Actor, credential_id: str) -> bool:
        statement = delete(credentials).where(credentials.c.id == credential_id)
        if (mine := owned_by(actor, credentials.c.user_id)) is not None:
            statement = statement.where(mine)
        async with self._write() as db:
            return (await db.execute(statement)).rowcount == 1

    async def _owned(self, actor: Actor, credential_id: str) -> Credential | None:
        found = await self.sealed(actor, credential_id)
        return found.credential if found else None

    @staticmethod
    async def _clear_default(db: AsyncConnection, owner: str | None, keep: str) -> None:
        """One default per owner: the newly marked one wins."""
        await db.execute(update(credentials).where(_owner_is(owner), credentials.c.id != keep,
                                                   credentials.c.is_default == true()).values(is_default=False))

"""Accounts: who may sign in to the dashboard and own keys and credentials."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from byway.store import ids
from byway.store._sql import Repo, changes, record, records
from byway.store.errors import ForbiddenError
from byway.store.passwords import Passwords
from byway.store.schema import users
from byway.store.scope import ADMIN, Actor, is_admin, owned_by
from byway.store.types import utcnow

Role = Literal["admin", "member"]
_ADMIN_FIELDS = frozenset({"role", "monthly_budget", "is_active", "rpm_limit", "tpm_limit"})


class User(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    email: str
    role: Role
    monthly_budget: Decimal | None
    is_active: bool
    created_at: datetime
    # requests and tokens per minute across all the user's keys (None: no limit)
    rpm_limit: int | None = None
    tpm_limit: int | None = None


class UserPatch(msgspec.Struct, kw_only=True):
    """The fields to change; members may change only their own ``email``."""

    email: str | msgspec.UnsetType = msgspec.UNSET
    role: Role | msgspec.UnsetType = msgspec.UNSET
    monthly_budget: Decimal | msgspec.UnsetType | None = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET
    rpm_limit: int | msgspec.UnsetType | None = msgspec.UNSET
    tpm_limit: int | msgspec.UnsetType | None = msgspec.UNSET


_COLUMNS = (users.c.id, users.c.email, users.c.role, users.c.monthly_budget, users.c.is_active, users.c.created_at,
            users.c.rpm_limit, users.c.tpm_limit)


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email.strip("@"):
        raise ValueError(f"not an email address: {email!r}")
    return email


class UsersRepo(Repo):
    def __init__(self, engine: AsyncEngine, passwords: Passwords | None = None) -> None:
        super().__init__(engine)
        self.passwords = passwords or Passwords()

    async def create(self, email: str, *, password: str | None = None, role: Role = "member",
                     monthly_budget: Decimal | None = None, rpm_limit: int | None = None,
                     tpm_limit: int | None = None) -> User:
        """Add a user (an admin's action; the caller checks that). DuplicateError("email") when taken."""
        if role not in ("admin", "member"):
            raise ValueError(f"role must be admin or member, not {role!r}")
        user = User(id=ids.new_id(ids.USER), email=normalize_email(email), role=role, monthly_budget=monthly_budget,
                    is_active=True, created_at=utcnow(), rpm_limit=rpm_limit, tpm_limit=tpm_limit)
        password_hash = await self.passwords.hash(password) if password is not None else None
        async with self._write(("email", f"a user with email {user.email} exists")) as db:
            await db.execute(users.insert().values(**msgspec.structs.asdict(user), password_hash=password_hash))
        return user

    async def get(self, actor: Actor, user_id: str) -> User | None:
        query = select(*_COLUMNS).where(users.c.id == user_id)
        if (mine := owned_by(actor, users.c.id)) is not None:
            query = query.where(mine)
        async with self.engine.connect() as db:
            row = (await db.execute(query)).first()
        return record(User, row) if row else None

    async def by_email(self, email: str) -> User | None:
        async with self.engine.connect() as db:
            row = (await db.execute(select(*_COLUMNS).where(users.c.email == email.strip().lower()))).first()
        return record(User, row) if row else None

    async def list(self, actor: Actor) -> list[User]:
        query = select(*_COLUMNS).order_by(users.c.created_at, users.c.id)
        if (mine := owned_by(actor, users.c.id)) is not None:
            query = query.where(mine)
        async with self.engine.connect() as db:
            return records(User, await db.execute(query))

    async def load_all(self) -> list[User]:
        return await self.list(ADMIN)

    async def update(self, actor: Actor, user_id: str, patch: UserPatch) -> User | None:
        values = changes(patch)
        if not is_admin(actor) and _ADMIN_FIELDS & values.keys() and actor.user_id == user_id:
            raise ForbiddenError("only an admin may change a user's role, budget, limits or active flag")
        if "email" in values:
            values["email"] = normalize_email(values["email"])
        if values.get("role", "admin") not in ("admin", "member"):
            raise ValueError(f"role must be admin or member, not {values['role']!r}")
        if not values:
            return await self.get(actor, user_id)
        statement = update(users).where(users.c.id == user_id).values(**values).returning(*_COLUMNS)
        if (mine := owned_by(actor, users.c.id)) is not None:
            statement = statement.where(mine)
        async with self._write(("email", f"a user with email {values.get('email')} exists")) as db:
            row = (await db.execute(statement)).first()
        return record(User, row) if row else None

    async def set_password(self, actor: Actor, user_id: str, password: str | None) -> bool:
        """Set (or with None, remove) a password. False when the user is not the actor's to change."""
        password_hash = await self.passwords.hash(password) if password is not None else None
        statement = update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        if (mine := owned_by(actor, users.c.id)) is not None:
            statement = statement.where(mine)
        async with self._write() as db:
            return (await db.execute(statement)).rowcount == 1

    async def delete(self, actor: Actor, user_id: str) -> bool:
        """Remove a user with their keys, credentials and preferences (admins only)."""
        if not is_admin(actor):
            if actor.user_id == user_id:
                raise ForbiddenError("only an admin may delete a user")
            return False
        async with self._write() as db:
            return (await db.execute(delete(users).where(users.c.id == user_id))).rowcount == 1

    async def authenticate(self, email: str, password: str) -> User | None:
        """The active user with this email and password, else None. A hash made with weaker
        parameters than the current ones is replaced on success."""
        query = select(*_COLUMNS, users.c.password_hash).where(users.c.email == email.strip().lower())
        async with self.engine.connect() as db:
            row = (await db.execute(query)).first()
        if row is None or row.password_hash is None or not row.is_active:
            return None
        ok, stale = await self.passwords.verify(row.password_hash, password)
        if not ok:
            return None
        if stale:
            fresh = await self.passwords.hash(password)
            async with self._write() as db:
                await db.execute(update(users).where(users.c.id == row.id, users.c.password_hash == row.password_hash)
                                 .values(password_hash=fresh))
        mapping = dict(row._mapping)
        del mapping["password_hash"]
        return User(**mapping)

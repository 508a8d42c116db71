"""Users: admins manage them; a member sees and changes only themselves (and only their email and
password). The first admin is made on the first start: the owner of the master key."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from msgspec import UNSET, UnsetType

from byway.accounts.errors import Conflict, Unprocessable, missing
from byway.accounts.inputs import UserChange, UserInput
from byway.core import PermissionDeniedError
from byway.store import ADMIN, Actor, DuplicateError, ForbiddenError, User, UserPatch, UsersRepo
from byway.store.scope import is_admin
from byway.store.users import normalize_email

if TYPE_CHECKING:
    from byway.accounts.accounts import Accounts

OWNER_EMAIL = "admin@localhost"


def require_admin(actor: Actor, what: str) -> None:
    if not is_admin(actor):
        raise PermissionDeniedError(f"only an admin may {what}")


def _email(value: str, param: str = "email") -> str:
    try:
        return normalize_email(value)
    except ValueError as e:
        raise Unprocessable(str(e), param=param) from None


class UserOps:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    @property
    def _repo(self) -> UsersRepo:
        return self.accounts.store.users

    async def ensure_owner(self, email: str | None = None, password: str | None = None) -> str | None:
        """The first admin's id, making them on a first start (no users yet) as the master key's owner."""
        users = await self._repo.load_all()
        if not users:
            try:
                owner = await self._repo.create(email or OWNER_EMAIL, password=password, role="admin")
            except DuplicateError:  # another worker made them first
                users = await self._repo.load_all()
            else:
                await self.accounts.store.audit.record(ADMIN, "user.create", "user", owner.id,
                                                       {"email": owner.email, "role": "admin", "first_start": True})
                return owner.id
        admins = [u for u in users if u.role == "admin" and u.is_active]
        return admins[0].id if admins else None

    async def create(self, actor: Actor, new: UserInput) -> User:
        require_admin(actor, "create users")
        try:
            user = await self._repo.create(_email(new.email), password=new.password, role=new.role,
                                           monthly_budget=money(new.monthly_budget),
                                           rpm_limit=positive(new.rpm_limit, "rpm_limit"),
                                           tpm_limit=positive(new.tpm_limit, "tpm_limit"))
        except DuplicateError as e:
            raise Conflict(str(e), param="email", code="email_taken") from None
        await self.accounts.changed(actor, "user.create", "user", user.id, {"email": user.email, "role": user.role})
        return user

    async def list(self, actor: Actor) -> list[User]:
        return await self._repo.list(actor)

    async def get(self, actor: Actor, user_id: str) -> User:
        user = await self._repo.get(actor, user_id)
        if user is None:
            raise missing("user", user_id)
        return user

    async def update(self, actor: Actor, user_id: str, change: UserChange) -> User:
        if not is_admin(actor) and actor.user_id != user_id:
            raise missing("user", user_id)
        if actor.user_id == user_id and (change.role == "member" or change.is_active is False) and is_admin(actor):
            raise Unprocessable("an admin cannot demote or deactivate themselves", param="role")
        email = _email(change.email) if isinstance(change.email, str) else UNSET
        budget = change.monthly_budget if change.monthly_budget is UNSET else money(change.monthly_budget)
        patch = UserPatch(email=email, role=change.role, is_active=change.is_active, monthly_budget=budget,
                          rpm_limit=limit(change.rpm_limit, "rpm_limit"),
                          tpm_limit=limit(change.tpm_limit, "tpm_limit"))
        try:
            user = await self._repo.update(actor, user_id, patch)
        except ForbiddenError as e:
            raise PermissionDeniedError(str(e)) from None
        except DuplicateError as e:
            raise Conflict(str(e), param="email", code="email_taken") from None
        if user is None:
            raise missing("user", user_id)
        if change.password is not UNSET:
            await self._repo.set_password(actor, user_id, change.password)
        fields = sorted(f for f in change.__struct_fields__ if getattr(change, f) is not UNSET)
        await self.accounts.changed(actor, "user.update", "user", user.id, {"fields": fields})
        return user

    async def delete(self, actor: Actor, user_id: str) -> None:
        require_admin(actor, "delete users")
        if actor.user_id == user_id:
            raise Unprocessable("you cannot delete yourself", param="id")
        if not await self._repo.delete(actor, user_id):
            raise missing("user", user_id)
        await self.accounts.changed(actor, "user.delete", "user", user_id)
        if user_id == self.accounts.owner_id:
            self.accounts.owner_id = await self.ensure_owner()

    async def owner(self, actor: Actor) -> str:
        """Whose account an action of ``actor`` is on: their own, or the owner admin's for the master key."""
        if actor.user_id is not None:
            return actor.user_id
        if self.accounts.owner_id is None:
            raise Unprocessable("no admin user exists to act for the master key: give user_id", param="user_id")
        return self.accounts.owner_id



def positive(value: int | None, param: str) -> int | None:
    """A rate limit as given: a whole number of 1 or more (None: no limit). The API's decoder already refuses
    others; this holds for callers that build the input documents themselves (the CLI)."""
    if value is not None and value < 1:
        raise Unprocessable(f"{param} must be a whole number of 1 or more", param=param)
    return value


def limit(value: int | UnsetType | None, param: str) -> int | UnsetType | None:
    """A rate limit in a change: left as not given, or checked like :func:`positive`."""
    return value if isinstance(value, UnsetType) else positive(value, param)


def money(value: Decimal | None, param: str = "monthly_budget") -> Decimal | None:
    """A budget or price as given: 0 or more."""
    if value is None:
        return None
    if not value.is_finite() or value < 0:
        raise Unprocessable(f"{param} must be a number of 0 or more", param=param)
    return value

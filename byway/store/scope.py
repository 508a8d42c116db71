"""Who is acting, as the repositories need it: admins see everything, members only their own.

Any object with ``role`` and ``user_id`` attributes is an actor — ``byway.core.Principal`` is one.
A member without a user id owns nothing.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec
from sqlalchemy import ColumnElement, false

MASTER = "master"


class Actor(Protocol):
    @property
    def role(self) -> Literal["admin", "member"]: ...

    @property
    def user_id(self) -> str | None: ...


class As(msgspec.Struct, frozen=True):
    """A plain actor, for callers without a principal (the CLI, tests)."""

    role: Literal["admin", "member"]
    user_id: str | None = None


ADMIN = As("admin")


def is_admin(actor: Actor) -> bool:
    return actor.role == "admin"


def owned_by(actor: Actor, owner_column: ColumnElement[str | None]) -> ColumnElement[bool] | None:
    """The WHERE clause limiting rows to the actor's own (None: no limit, for admins)."""
    if is_admin(actor):
        return None
    if actor.user_id is None:
        return false()
    return owner_column == actor.user_id


def actor_label(actor: Actor) -> str:
    """How the audit log names the actor: the user id, or ``master`` for the master key."""
    return actor.user_id or MASTER

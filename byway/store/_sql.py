"""Small helpers the repositories share: turning rows into records, and unique-violation reporting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from byway.store.database import writer
from byway.store.errors import DuplicateError, MissingError

R = TypeVar("R", bound=msgspec.Struct)


def record(cls: type[R], row: Row[Any]) -> R:
    return cls(**row._mapping)


def records(cls: type[R], rows: Iterable[Row[Any]]) -> list[R]:
    return [cls(**row._mapping) for row in rows]


def changes(patch: msgspec.Struct) -> dict[str, Any]:
    """The fields of ``patch`` that were given (not ``msgspec.UNSET``)."""
    return {name: value for name in patch.__struct_fields__
            if (value := getattr(patch, name)) is not msgspec.UNSET}


class Repo:
    """Base of the repositories: reads on the engine, writes in a write transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._writer = writer(engine)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.engine.url.render_as_string(hide_password=True)})"

    @asynccontextmanager
    async def _write(self, duplicate: tuple[str, str] | None = None,
                     missing: str | None = None) -> AsyncIterator[AsyncConnection]:
        """A write transaction. When given, a unique violation becomes ``DuplicateError(*duplicate)`` and
        a foreign-key violation ``MissingError(missing)``."""
        try:
            async with self._writer.begin() as connection:
                yield connection
        except IntegrityError as e:
            text = str(e.orig).lower()
            if duplicate is not None and ("unique" in text or "duplicate key" in text):
                raise DuplicateError(*duplicate) from None
            if missing is not None and "foreign key" in text:
                raise MissingError(missing) from None
            raise

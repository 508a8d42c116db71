"""Alembic's entry point. Byway runs migrations itself (:func:`byway.store.migrate.upgrade`) and hands
over an open connection in ``config.attributes["connection"]``. For ``alembic revision
--autogenerate`` during development, ``sqlalchemy.url`` in the Alembic config (or ``BYWAY_DATABASE_URL``)
names the database instead."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from byway.store.database import create_engine
from byway.store.schema import metadata


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def _migrate_url(url: str) -> None:
    engine = create_engine(url, pooled=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
            await connection.commit()
    finally:
        await engine.dispose()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or os.environ.get("BYWAY_DATABASE_URL")
    if not url:
        raise SystemExit("set sqlalchemy.url or BYWAY_DATABASE_URL to say which database to migrate")
    asyncio.run(_migrate_url(url))


if context.is_offline_mode():
    raise SystemExit("Byway's migrations run online only: byway db upgrade")
_main()

"""Bringing a database's schema up to date with the migrations shipped in this package.

``await upgrade(url)`` is safe to call at every start and from several processes at once: all pending
revisions run in one transaction, under an advisory lock on PostgreSQL and the write lock on SQLite,
so a second caller waits and then finds nothing to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from byway.store.database import create_engine, writer
from byway.store.url import is_memory, is_sqlite

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x6279_7761_79  # "byway", the PostgreSQL advisory lock taken while migrating
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision shipped."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


async def upgrade(database_url: str | URL, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` to the database at ``database_url``."""
    engine = create_engine(database_url, pooled=False)
    try:
        await upgrade_engine(engine, revision)
    finally:
        await engine.dispose()


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    async with _alembic_lock(), _sqlite_file_lock(engine), writer(engine).connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
        await connection.commit()


@contextlib.asynccontextmanager
async def _sqlite_file_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """On a SQLite file, hold ``<file>.migrate.lock`` while migrating. The write lock alone is not enough
    on a brand-new file: until one process has switched it to WAL, two processes can hold different kinds
    of lock (one in WAL, one not) and both migrate."""
    url = engine.url
    if not is_sqlite(url) or is_memory(url) or not url.database:
        yield
        return
    fd = os.open(f"{url.database}.migrate.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _alembic_lock() -> asyncio.Lock:
    """Alembic keeps its running context in module globals, so one process runs one migration at a time
    (other processes are held off by the database locks above)."""
    loop = asyncio.get_running_loop()
    lock = _LOCKS.get(loop)
    if lock is None:
        lock = _LOCKS[loop] = asyncio.Lock()
    return lock


async def current(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())

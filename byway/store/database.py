"""Opening the database: one async engine per process, set up for each backend.

SQLite runs in WAL mode with foreign keys on and a busy timeout. Its driver's own transaction
handling is switched off so Byway issues ``BEGIN`` itself: a plain deferred ``BEGIN`` for reads and
``BEGIN IMMEDIATE`` for writes (through :func:`writer`), so two writers queue on the busy timeout
instead of failing mid-transaction, and DDL runs inside transactions (migrations are atomic).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, StaticPool

from byway.store.url import async_url, is_memory, is_sqlite

SQLITE_BUSY_TIMEOUT_MS = 10_000
_WRITE = "byway_write"


def _json_dumps(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def create_engine(database_url: str | URL, *, pooled: bool = True, echo: bool = False) -> AsyncEngine:
    """An engine for ``database_url`` as users write it (see :mod:`byway.store.url`).

    ``pooled=False`` opens a connection per use (for one-off work such as migrations).
    """
    url = async_url(database_url)
    options: dict[str, Any] = {"echo": echo, "json_serializer": _json_dumps, "json_deserializer": msgspec.json.decode}
    if is_memory(url):
        options["poolclass"] = StaticPool
    elif not pooled:
        options["poolclass"] = NullPool
    elif not is_sqlite(url):
        options["pool_pre_ping"] = True
    if is_sqlite(url):
        if not is_memory(url) and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **options)
        _prepare_sqlite(engine)
        return engine
    return create_async_engine(url, **options)


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine, marked so a SQLite transaction takes the write lock when it begins."""
    return engine.execution_options(**{_WRITE: True})


def _prepare_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # Byway sends BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

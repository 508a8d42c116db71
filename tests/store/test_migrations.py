"""Migrations: they build the schema the code expects, on an empty database, and do nothing the
second time (or when two processes start at once)."""

from __future__ import annotations

import asyncio
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from byway.store import Store, create_engine, current, head, upgrade
from byway.store.schema import metadata, users
from tests.store.databases import FAST_PASSWORDS

TABLES = {"users", "gateway_keys", "credentials", "preferences", "audit_log", "vault_keys"}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as db:
            return set(await db.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_builds_every_table_on_an_empty_database(blank_url: str) -> None:
    assert await _tables(blank_url) == set()
    await upgrade(blank_url)
    assert await _tables(blank_url) == TABLES | {"alembic_version"}
    engine = create_engine(blank_url)
    try:
        assert await current(engine) == head() == "0001"
    finally:
        await engine.dispose()


async def test_upgrade_twice_changes_nothing_and_keeps_data(blank_url: str) -> None:
    await upgrade(blank_url)
    async with Store.open(blank_url, FAST_PASSWORDS) as store:
        ada = await store.users.create("ada@example.com", role="admin")
    await upgrade(blank_url)
    await upgrade(blank_url)
    assert await _tables(blank_url) == TABLES | {"alembic_version"}
    async with Store.open(blank_url, FAST_PASSWORDS) as store, store.engine.connect() as db:
        emails = (await db.execute(select(users.c.id, users.c.email))).all()
    assert [tuple(row) for row in emails] == [(ada.id, "ada@example.com")]


async def test_concurrent_upgrades_at_start_both_succeed(blank_url: str) -> None:
    await asyncio.gather(*(upgrade(blank_url) for _ in range(4)))
    engine = create_engine(blank_url)
    try:
        assert await current(engine) == head()
    finally:
        await engine.dispose()


async def test_migrated_schema_is_exactly_the_declared_schema(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as db:
            differences = await db.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}),
                                              metadata))
    finally:
        await engine.dispose()
    assert differences == []


async def test_processes_starting_together_migrate_once(blank_url: str) -> None:
    """Several workers upgrading the same database at the same moment: all succeed, one schema."""
    script = "import asyncio, sys; from byway.store import upgrade; asyncio.run(upgrade(sys.argv[1]))"
    workers = [await asyncio.create_subprocess_exec(sys.executable, "-c", script, blank_url,
                                                    stderr=asyncio.subprocess.PIPE) for _ in range(2)]
    results = [(await w.wait(), (await w.stderr.read()).decode()) for w in workers]  # type: ignore[union-attr]
    assert results == [(0, "")] * 2
    assert await _tables(blank_url) == TABLES | {"alembic_version"}

"""Migrations: they build the schema the code expects, on an empty database, and do nothing the
second time (or when two processes start at once)."""

from __future__ import annotations

import asyncio
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from byway.store import ADMIN, Store, create_engine, current, head, upgrade
from byway.store.schema import metadata, users
from tests.store.databases import FAST_PASSWORDS

TABLES = {"users", "gateway_keys", "credentials", "preferences", "audit_log", "vault_keys", "usage_records",
          "budget_alerts"}


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
        assert await current(engine) == head() == "0002"
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
                                                    stderr=asyncio.subprocess.PIPE) for _ in range(4)]
    results = [(await w.wait(), (await w.stderr.read()).decode()) for w in workers]  # type: ignore[union-attr]
    assert results == [(0, "")] * 4
    assert await _tables(blank_url) == TABLES | {"alembic_version"}


async def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as db:
            return {c["name"] for c in await db.run_sync(lambda sync: inspect(sync).get_columns(table))}
    finally:
        await engine.dispose()


async def test_0002_downgrades_to_0001_keeping_users_and_their_credentials(blank_url: str) -> None:
    """Going back drops what 0002 added (the limit columns too) and nothing else: no row is lost."""
    from alembic import command

    from byway.store.credentials import NewCredential, SealedSecret
    from byway.store.migrate import alembic_config

    await upgrade(blank_url)
    assert {"rpm_limit", "tpm_limit"} <= await _columns(blank_url, "users")
    assert "rate_limit_tpm" in await _columns(blank_url, "credentials")
    async with Store.open(blank_url, FAST_PASSWORDS) as store:
        ada = await store.users.create("ada@example.com", rpm_limit=60, tpm_limit=1000)
        await store.credentials.insert("cred_" + "0" * 32, NewCredential(provider_type="openai", name="oa",
                                                                         user_id=ada.id, rate_limit_tpm=500),
                                       "sk-…abcd", SealedSecret(b"x" * 32, b"n" * 12, 1))
    engine = create_engine(blank_url)
    try:
        async with engine.connect() as db:
            await db.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0001"))
            await db.commit()
        assert await current(engine) == "0001"
    finally:
        await engine.dispose()
    assert await _tables(blank_url) == TABLES - {"usage_records", "budget_alerts"} | {"alembic_version"}
    assert not {"rpm_limit", "tpm_limit"} & await _columns(blank_url, "users")
    assert "rate_limit_tpm" not in await _columns(blank_url, "credentials")
    await upgrade(blank_url)
    async with Store.open(blank_url, FAST_PASSWORDS) as store:
        again = await store.users.get(ADMIN, ada.id)
        kept = await store.credentials.list(ADMIN)
    assert again is not None and (again.email, again.rpm_limit, again.tpm_limit) == ("ada@example.com", None, None)
    assert [(c.name, c.user_id, c.rate_limit_tpm) for c in kept] == [("oa", ada.id, None)]

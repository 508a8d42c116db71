"""The engine: SQLite in WAL mode with foreign keys, writers that queue instead of failing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from byway.store import ADMIN, DuplicateError, NewCredential, SealedSecret, Store, create_engine


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'nested' / 'byway.db'}")
    try:
        async with engine.connect() as db:
            assert (await db.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await db.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await db.execute(text("PRAGMA busy_timeout"))).scalar() == 10_000
        assert (tmp_path / "nested" / "byway.db").exists()
    finally:
        await engine.dispose()


async def test_many_concurrent_writers_all_succeed(store: Store) -> None:
    created = await asyncio.gather(*(store.users.create(f"user{i}@example.com") for i in range(25)))
    assert len({u.id for u in created}) == 25
    assert sorted(u.email for u in await store.users.list(ADMIN)) == sorted(f"user{i}@example.com" for i in range(25))


async def test_a_failed_write_leaves_nothing_behind(store: Store) -> None:
    await store.credentials.insert("cred_" + "1" * 32, NewCredential(provider_type="openai", name="a", user_id=None,
                                                                     is_default=True),
                                   "h", SealedSecret(b"c" * 20, b"n" * 12, 1))
    with pytest.raises(DuplicateError):
        await store.credentials.insert("cred_" + "2" * 32, NewCredential(provider_type="openai", name="a",
                                                                         user_id=None, is_default=True),
                                       "h", SealedSecret(b"c" * 20, b"n" * 12, 1))
    (only,) = await store.credentials.list(ADMIN)
    assert only.id == "cred_" + "1" * 32 and only.is_default  # the clearing of defaults was rolled back too

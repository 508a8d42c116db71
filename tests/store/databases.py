"""Fixtures that run a test on SQLite and on PostgreSQL: ``blank_url`` (an empty database),
``database_url`` (migrated) and ``store`` (a :class:`~byway.store.Store` on it).

Without PostgreSQL the PostgreSQL half is skipped locally and fails in CI (``CI=true``).
Import these names into a conftest to use them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from byway.store import Passwords, Store, upgrade
from tests.store.postgres import PostgresServer, shared

# Cheap argon2id parameters: the tests exercise the logic, not the cost.
FAST_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
BACKENDS = ("sqlite", "postgresql")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    found = shared()
    if isinstance(found, str):
        if _in_ci():
            pytest.fail(f"{found}; CI must run the store suite on PostgreSQL (scripts/test.sh installs it as root)",
                        pytrace=False)
        pytest.skip(f"{found}: the PostgreSQL half of the store suite is skipped (it fails in CI)")
    yield found


@pytest.fixture(params=BACKENDS)
async def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'byway.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        yield await server.fresh()


@pytest.fixture
async def database_url(blank_url: str) -> str:
    await upgrade(blank_url)
    return blank_url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    async with Store.open(database_url, FAST_PASSWORDS) as opened:
        yield opened

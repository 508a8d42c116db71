"""Database URLs as users write them map to the async drivers."""

from __future__ import annotations

import pytest

from byway.store import DatabaseURLError, async_url


@pytest.mark.parametrize(("given", "driver", "database"), [
    ("sqlite:///byway-data/byway.db", "sqlite+aiosqlite", "byway-data/byway.db"),
    ("sqlite:////var/lib/byway/byway.db", "sqlite+aiosqlite", "/var/lib/byway/byway.db"),
    ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite", "x.db"),
    ("postgresql://u:p@db.internal:5432/byway", "postgresql+asyncpg", "byway"),
    ("postgres://u@db/byway", "postgresql+asyncpg", "byway"),
    ("postgresql+asyncpg://u@db/byway", "postgresql+asyncpg", "byway"),
])
def test_driver_is_chosen_for_a_bare_scheme(given: str, driver: str, database: str) -> None:
    url = async_url(given)
    assert (url.drivername, url.database) == (driver, database)


def test_credentials_host_and_libpq_sslmode_survive() -> None:
    url = async_url("postgresql://byway:p%40ss@db.internal:6543/prod?sslmode=require")
    assert (url.username, url.password, url.host, url.port) == ("byway", "p@ss", "db.internal", 6543)
    assert dict(url.query) == {"ssl": "require"}


@pytest.mark.parametrize("given", ["mysql://u@h/db", "not a url", "redis://localhost"])
def test_other_databases_are_refused_without_echoing_passwords(given: str) -> None:
    with pytest.raises(DatabaseURLError, match="database_url"):
        async_url(given)
    with pytest.raises(DatabaseURLError) as raised:
        async_url("mysql://user:hunter2@h/db")
    assert "hunter2" not in str(raised.value)

"""Every store test runs on SQLite and on a PostgreSQL server the session starts itself."""

from tests.store.databases import blank_url, database_url, postgres, store

__all__ = ["blank_url", "database_url", "postgres", "store"]

"""The vault tests run on SQLite and PostgreSQL with the store suite's fixtures."""

from tests.store.databases import blank_url, database_url, postgres, store

__all__ = ["blank_url", "database_url", "postgres", "store"]

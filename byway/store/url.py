"""Database URLs as users write them, mapped to the async drivers Byway uses.

``postgresql://`` and ``postgres://`` become ``postgresql+asyncpg://`` (a libpq ``sslmode`` becomes
asyncpg's ``ssl``); ``sqlite:///path`` becomes ``sqlite+aiosqlite:///path``. A URL that already names
a driver is kept as written.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

_DRIVERS = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}


class DatabaseURLError(ValueError):
    """A database URL Byway cannot use."""


def async_url(database_url: str | URL) -> URL:
    """The SQLAlchemy URL, with the async driver chosen for a bare scheme."""
    try:
        url = make_url(database_url)
    except Exception as e:  # SQLAlchemy raises ArgumentError with the offending text
        raise DatabaseURLError(f"database_url: cannot parse {_masked(database_url)!r}") from e
    driver = _DRIVERS.get(url.drivername)
    if driver is not None:
        url = url.set(drivername=driver)
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseURLError(f"database_url: unsupported database {url.get_backend_name()!r} "
                               "(use sqlite:///path or postgresql://user:password@host/db)")
    if url.drivername == "postgresql+asyncpg" and "sslmode" in url.query:
        query = dict(url.query)
        query["ssl"] = query.pop("sslmode")
        url = url.set(query=query)
    return url


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def is_memory(url: URL) -> bool:
    return is_sqlite(url) and url.database in (None, "", ":memory:")


def _masked(database_url: str | URL) -> str:
    text = str(database_url)
    scheme, sep, rest = text.partition("://")
    if sep and "@" in rest:
        return f"{scheme}://***@{rest.rpartition('@')[2]}"
    return text

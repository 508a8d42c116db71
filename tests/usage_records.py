"""Reading a test gateway's usage records straight from its database."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from byway.store import Store
from byway.store.schema import usage_records


def records(work: Path) -> dict[str, dict[str, Any]]:
    """The stored usage records by request id (what the database holds now)."""
    return asyncio.run(_records(work))


async def _records(work: Path) -> dict[str, Any]:
    store = Store.open(f"sqlite:///{work / 'data' / 'byway.db'}")
    try:
        async with store.engine.connect() as db:
            rows = (await db.execute(select(usage_records))).mappings().all()
    finally:
        await store.close()
    found: dict[str, Any] = {}
    for row in rows:
        assert row["request_id"] not in found
        found[row["request_id"]] = dict(row)
    return found


def wait_for(work: Path, ids: set[str], timeout: float = 10.0) -> dict[str, Any]:
    """The records once every one of ``ids`` is stored (or ``timeout`` has passed)."""
    deadline = time.time() + timeout
    while True:
        found = records(work)
        if ids <= set(found) or time.time() > deadline:
            return found
        time.sleep(0.1)

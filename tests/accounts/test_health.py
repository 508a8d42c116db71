"""``/health/ready`` asks the accounts' own database connection (SQLite or PostgreSQL)."""

from __future__ import annotations

from byway.store import create_engine
from tests.accounts.conftest import Gateway


async def test_ready_reports_the_database(gateway: Gateway) -> None:
    ok = await gateway.client.get("/health/ready")
    assert ok.status_code == 200 and ok.json() == {"status": "ok", "database": "ok"}
    store = gateway.accounts.store
    working = store.engine
    store.engine = create_engine("postgresql://nobody@127.0.0.1:1/nothing")  # a PostgreSQL that is not there
    try:
        down = await gateway.client.get("/health/ready")
    finally:
        await store.engine.dispose()
        store.engine = working
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable" and down.json()["database"].startswith("unreachable:")
    assert (await gateway.client.get("/health")).json() == {"status": "ok"}

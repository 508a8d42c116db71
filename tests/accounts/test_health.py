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


async def test_provider_health_per_connection_for_admins(gateway: Gateway) -> None:
    ann = await gateway.member("ann@example.com")
    bob = await gateway.member("bob@example.com")
    await gateway.credential(ann, "mine", "sk-ann-openai")
    await gateway.credential(bob, "mine", "sk-bob-openai")
    for who in (ann, ann, bob):
        assert (await gateway.chat(who, "mine:gpt-4o-mini")).status_code == 200
    assert (await gateway.chat(None, "oa:gpt-4o-mini")).status_code == 200
    report = await gateway.call("GET", "/api/providers/health")
    assert report.status_code == 200
    rows = {r["connection"]: r for r in report.json()["data"]}
    assert rows["oa"]["requests"] == 1 and rows["oa"]["status"] == "healthy"
    assert rows["an"]["status"] == "unknown" and rows["an"]["requests"] == 0
    mine = sorted((r["requests"], r["provider"]) for c, r in rows.items() if c.startswith("credential:"))
    assert mine == [(1, "mine"), (2, "mine")]  # two users' credentials of one name, kept apart
    assert all(r["circuit"] == "closed" and r["latency_p50_ms"] is not None for r in rows.values() if r["requests"])
    checked = await gateway.call("GET", "/api/providers/health?check=true")
    rows = {r["connection"]: r for r in checked.json()["data"]}
    assert rows["an"]["last_check_ok"] is True and rows["an"]["requests"] == 1
    denied = await gateway.call("GET", "/api/providers/health", ann)
    assert denied.status_code == 403


async def test_metrics_are_for_admins(gateway: Gateway) -> None:
    ann = await gateway.member("ann-metrics@example.com")
    assert (await gateway.chat(None, "oa:gpt-4o-mini")).status_code == 200
    scraped = await gateway.call("GET", "/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    assert 'byway_provider_calls_total{connection="oa",provider="oa"} 1.0' in scraped.text
    assert 'byway_circuit_state{connection="an",provider="an"} 0.0' in scraped.text
    assert (await gateway.call("GET", "/metrics", ann)).status_code == 403
    assert (await gateway.client.get("/metrics")).status_code == 401

"""The provider monitoring API: ``/api/providers/status``, ``/metrics``, ``/metrics/{provider}``,
``/metrics/reset`` and ``/costs``.

Most tests run the real app in process (its lifespan, ledger and database on SQLite) with traffic to the
mock providers, and with records fed straight to the statistics and the database where a case is hard to
provoke (a credential's error, an unpriced model, a cost below a millionth). The last test does the same
through a real ``byway serve``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from byway.core.usage_record import UsageRecord
from byway.mock import MockServer
from tests.accounts.conftest import Gateway
from tests.accounts.conftest import serving as in_process
from tests.serving import serving

ADMIN_ROUTES = (("GET", "/api/providers/status"), ("GET", "/api/providers/metrics"),
                ("GET", "/api/providers/metrics/oa"), ("POST", "/api/providers/metrics/reset"),
                ("GET", "/api/providers/costs"), ("GET", "/api/providers/health"))


@pytest.fixture
async def gateway(tmp_path: Path, mock: MockServer) -> AsyncIterator[Gateway]:
    async with in_process(tmp_path, mock.url) as opened:
        yield opened


def this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def rec(n: int, *, provider: str = "oa", model: str = "gpt-4o-mini", cost: str | None = "0.001",
        at: float | None = None, **fields: Any) -> UsageRecord:
    values: dict[str, Any] = dict(
        request_id=f"req_fed_{n}", created_at=at if at is not None else datetime.now(UTC).timestamp(),
        user_id=None, key_id=None, credential=None, provider=provider, model=model, endpoint="chat.completions",
        stream=False, tokens_in=10, tokens_out=4, cost=None if cost is None else Decimal(cost), latency_ms=20.0)
    values.update(fields)
    return UsageRecord(**values)


async def feed(gateway: Gateway, records: list[UsageRecord]) -> None:
    """What the ledger's writer does with a batch: store it, then hand it to the statistics."""
    await gateway.accounts.store.usage.insert(records)
    gateway.app.gateway.stats.add(records)


async def test_traffic_shows_in_metrics_with_exact_cost(gateway: Gateway) -> None:
    costs_of: dict[str, Decimal] = {}
    for text in ("hello", "a somewhat longer question about the weather", "hi"):
        done = await gateway.chat(None, "oa:gpt-4o-mini", text)
        assert done.status_code == 200, done.text
        costs_of[text] = Decimal(done.headers["x-byway-cost-usd"])
    streamed = await gateway.chat(None, "oa:gpt-4o-mini", "hello", stream=True,
                                  stream_options={"include_usage": True})
    assert streamed.status_code == 200 and "data: [DONE]" in streamed.text
    flaky = await gateway.call("POST", "/api/credentials", json={
        "provider_type": "openai", "name": "flaky", "api_key": "sk-flaky", "validate": False,
        "base_url": f"{gateway.mock_url}/fault/status=500/openai/v1", "model": "gpt-4o-mini"})
    assert flaky.status_code == 201, flaky.text
    failed = await gateway.chat(None, "flaky:gpt-4o-mini")
    assert failed.status_code == 502
    answer = await gateway.call("GET", "/api/providers/metrics")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    rows = {row["provider"]: row for row in body["data"]}
    flaky_key = f"credential:{flaky.json()['id']}"
    assert list(rows) == ["oa", "an", flaky_key]  # every configured provider, idle ones too, then the rest
    oa = rows["oa"]
    assert (oa["requests"], oa["successes"], oa["errors"], oa["streams"], oa["error_rate"]) == (4, 4, 0, 1, 0.0)
    # the streamed "hello" costs what the non-streamed one did
    assert Decimal(oa["cost"]) == sum(costs_of.values()) + costs_of["hello"]
    assert oa["status_codes"] == {"200": 4} and oa["last_error"] is None
    assert oa["latency_p50_ms"] > 0 and oa["latency_p95_ms"] >= oa["latency_p50_ms"] and oa["ttft_avg_ms"] > 0
    [mini] = oa["models"]
    assert mini["model"] == "gpt-4o-mini" and mini["cost"] == oa["cost"] and mini["tokens_in"] == oa["tokens_in"]
    assert rows["an"]["requests"] == 0 and rows["an"]["cost"] == "0" and rows["an"]["latency_p50_ms"] is None
    broken = rows[flaky_key]
    assert (broken["name"], broken["requests"], broken["errors"], broken["error_rate"]) == ("flaky", 1, 1, 1.0)
    assert broken["status_codes"] == {"502": 1} and broken["cost"] == "0"
    assert broken["last_error"] and broken["last_error_at"].endswith("Z")
    assert body["totals"]["requests"] == 5 and body["totals"]["errors"] == 1 and body["totals"]["cost"] == oa["cost"]
    assert datetime.fromisoformat(body["since"]) <= datetime.now(UTC)
    costs = (await gateway.call("GET", "/api/providers/costs")).json()
    assert costs["period"] == this_month()
    assert costs["total_cost"] == oa["cost"] == costs["since_start"]["total_cost"]  # database == memory
    by = {p["provider"]: p for p in costs["by_provider"]}
    assert set(by) == {"oa", flaky_key}
    assert by["oa"]["requests"] == 4 and by["oa"]["tokens_in"] == oa["tokens_in"]
    assert by["oa"]["tokens_out"] == oa["tokens_out"] and by[flaky_key]["cost"] == "0"
    one = await gateway.call("GET", "/api/providers/metrics/oa")
    assert one.status_code == 200 and one.json() == oa


async def test_fed_records_exact_sums_money_strings_and_credentials(gateway: Gateway) -> None:
    ann = await gateway.member("ann-metrics@example.com")
    mine = await gateway.credential(ann, "mine", "sk-ann-openai")
    key = f"credential:{mine['id']}"
    await feed(gateway, [
        rec(1, cost="0.00000015"),
        rec(2, cost="0.0000001"),
        rec(3, cost="1.2345678901"),
        rec(4, model="byway-unpriced-model", cost=None, estimated=True),
        rec(5, provider="mine", credential=mine["id"], cost="0.25", user_id=ann.user_id, stream=True, ttft_ms=8.0),
        rec(6, provider="mine", credential=mine["id"], cost="0", status_code=429, success=False, error="slow down",
            user_id=ann.user_id),
    ])
    body = (await gateway.call("GET", "/api/providers/metrics")).json()
    rows = {row["provider"]: row for row in body["data"]}
    assert list(rows) == ["oa", "an", key]
    oa = rows["oa"]
    assert oa["cost"] == "1.2345681401" and oa["unpriced_requests"] == 1 and oa["estimated_requests"] == 1
    models = {m["model"]: m for m in oa["models"]}
    assert models["byway-unpriced-model"]["cost"] == "0" and models["byway-unpriced-model"]["unpriced_requests"] == 1
    assert models["gpt-4o-mini"]["cost"] == "1.2345681401"
    theirs = rows[key]
    assert theirs["name"] == "mine" and theirs["cost"] == "0.25" and theirs["errors"] == 1
    assert theirs["last_error"] == "slow down" and theirs["status_codes"] == {"200": 1, "429": 1}
    assert theirs["ttft_avg_ms"] == 8.0
    assert body["totals"]["cost"] == "1.4845681401" and body["totals"]["requests"] == 6
    tiny = (await gateway.call("GET", "/api/providers/metrics/oa")).json()
    assert tiny["cost"] == "1.2345681401"
    await feed(gateway, [rec(7, provider="an", model="claude-3-5-haiku-latest", cost="0.00000015")])
    an = (await gateway.call("GET", "/api/providers/metrics/an")).json()
    assert an["cost"] == "0.00000015"  # fixed notation, never 1.5E-7
    assert (await gateway.call("GET", f"/api/providers/metrics/{key}")).json()["cost"] == "0.25"
    costs = (await gateway.call("GET", "/api/providers/costs")).json()
    by = {p["provider"]: p for p in costs["by_provider"]}
    assert by["oa"]["cost"] == "1.2345681401" and by["oa"]["unpriced_requests"] == 1 and by["oa"]["requests"] == 4
    assert {m["model"]: m["cost"] for m in by["oa"]["models"]} == {"byway-unpriced-model": "0",
                                                                  "gpt-4o-mini": "1.2345681401"}
    assert by[key]["name"] == "mine" and by[key]["cost"] == "0.25" and by[key]["requests"] == 2
    assert by["an"]["cost"] == "0.00000015"
    assert costs["total_cost"] == "1.4845682901"
    assert costs["unpriced_requests"] == 1 and costs["requests"] == 7
    assert costs["since_start"]["total_cost"] == "1.4845682901"


async def test_one_provider_unknown_idle_and_credential(gateway: Gateway) -> None:
    missing = await gateway.call("GET", "/api/providers/metrics/nowhere")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"message": "no provider nowhere", "type": "invalid_request_error",
                                        "param": None, "code": "provider_not_found"}}
    idle = await gateway.call("GET", "/api/providers/metrics/an")
    assert idle.status_code == 200 and idle.json()["requests"] == 0 and idle.json()["models"] == []
    bob = await gateway.member("bob-metrics@example.com")
    theirs = await gateway.credential(bob, "bobs", "sk-bob-openai")
    quiet = await gateway.call("GET", f"/api/providers/metrics/credential:{theirs['id']}")
    assert quiet.status_code == 200 and quiet.json()["name"] == "bobs" and quiet.json()["requests"] == 0


async def test_reset_clears_the_statistics_but_not_the_database(gateway: Gateway) -> None:
    for _ in range(2):
        assert (await gateway.chat(None, "oa:gpt-4o-mini")).status_code == 200
    before = (await gateway.call("GET", "/api/providers/metrics")).json()
    assert before["totals"]["requests"] == 2
    reset = await gateway.call("POST", "/api/providers/metrics/reset")
    assert reset.status_code == 204 and reset.content == b""
    after = (await gateway.call("GET", "/api/providers/metrics")).json()
    assert after["totals"]["requests"] == 0 and after["totals"]["cost"] == "0"
    assert all(row["requests"] == 0 for row in after["data"])
    assert datetime.fromisoformat(after["since"]) > datetime.fromisoformat(before["since"])
    costs = (await gateway.call("GET", "/api/providers/costs")).json()
    assert costs["requests"] == 2 and costs["total_cost"] == before["totals"]["cost"]
    assert costs["since_start"]["requests"] == 0
    assert (await gateway.chat(None, "oa:gpt-4o-mini")).status_code == 200
    again = (await gateway.call("GET", "/api/providers/metrics/oa")).json()
    assert again["requests"] == 1


async def test_status_lists_configured_providers_and_credentials_seen(gateway: Gateway) -> None:
    cat = await gateway.member("cat-status@example.com")
    theirs = await gateway.credential(cat, "cats", "sk-cat-openai", models=["gpt-4o-mini"])
    assert (await gateway.chat(cat, "cats:gpt-4o-mini")).status_code == 200
    assert (await gateway.chat(None, "oa:gpt-4o-mini")).status_code == 200
    answer = await gateway.call("GET", "/api/providers/status")
    assert answer.status_code == 200
    rows = {row["provider"]: row for row in answer.json()["data"]}
    key = f"credential:{theirs['id']}"
    assert set(rows) == {"oa", "an", key}
    assert rows["oa"] == {"provider": "oa", "name": "oa", "source": "config", "type": "openai", "user_id": None,
                          "enabled": True, "models": ["gpt-4o-mini", "gpt-4o"], "status": "healthy",
                          "reason": rows["oa"]["reason"], "circuit": "closed", "requests": 1, "errors": 0,
                          "error_rate": 0.0}
    assert rows["an"]["type"] == "anthropic" and rows["an"]["status"] == "unknown" and rows["an"]["requests"] == 0
    assert rows[key]["source"] == "credential" and rows[key]["type"] == "openai" and rows[key]["name"] == "cats"
    assert rows[key]["user_id"] == cat.user_id and rows[key]["enabled"] is True and rows[key]["requests"] == 1
    assert rows[key]["models"] == ["gpt-4o-mini"]


async def test_costs_for_another_month_and_bad_periods(gateway: Gateway) -> None:
    march = datetime(2025, 3, 31, 23, 59, 59, tzinfo=UTC).timestamp()
    april = datetime(2025, 4, 1, tzinfo=UTC).timestamp()
    await feed(gateway, [rec(1, at=march, cost="0.5"), rec(2, at=march, cost="0.25", model="gpt-4o"),
                         rec(3, at=april, cost="7")])
    march_costs = (await gateway.call("GET", "/api/providers/costs?period=2025-03")).json()
    assert march_costs["period"] == "2025-03" and march_costs["total_cost"] == "0.75"
    [oa] = march_costs["by_provider"]
    assert [(m["model"], m["cost"]) for m in oa["models"]] == [("gpt-4o", "0.25"), ("gpt-4o-mini", "0.5")]
    assert (await gateway.call("GET", "/api/providers/costs?period=2025-04")).json()["total_cost"] == "7"
    empty = (await gateway.call("GET", "/api/providers/costs?period=2024-01")).json()
    assert empty["by_provider"] == [] and empty["total_cost"] == "0" and empty["requests"] == 0
    for bad in ("2025-13", "March", "2025-3", "2025-03-01"):
        refused = await gateway.call("GET", f"/api/providers/costs?period={bad}")
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["param"] == "period" and refused.json()["error"]["code"] == "invalid_value"
        assert refused.json()["error"]["type"] == "invalid_request_error"


async def test_members_get_403_on_every_monitoring_route(gateway: Gateway) -> None:
    dan = await gateway.member("dan-monitor@example.com")
    assert (await gateway.chat(None, "oa:gpt-4o-mini")).status_code == 200
    for method, path in ADMIN_ROUTES:
        denied = await gateway.call(method, path, dan)
        assert denied.status_code == 403, (method, path)
        assert denied.json()["error"]["type"] == "permission_error", (method, path)
        assert denied.json()["error"]["code"] == "permission_denied"
    assert (await gateway.call("GET", "/metrics", dan)).status_code == 403
    assert (await gateway.call("GET", "/api/providers/metrics/oa")).json()["requests"] == 1  # the reset was refused
    for method, path in ADMIN_ROUTES:
        assert (await gateway.client.request(method, path)).status_code == 401


async def test_a_gateway_without_statistics_says_so(gateway: Gateway) -> None:
    kept = gateway.app.gateway.stats
    gateway.app.gateway.stats = None
    try:
        for method, path in (("GET", "/api/providers/metrics"), ("GET", "/api/providers/metrics/oa"),
                             ("POST", "/api/providers/metrics/reset")):
            answer = await gateway.call(method, path)
            assert answer.status_code == 503 and answer.json()["error"]["code"] == "metering_off"
        status = (await gateway.call("GET", "/api/providers/status")).json()["data"]
        assert {row["provider"]: row["requests"] for row in status} == {"oa": None, "an": None}
        assert (await gateway.call("GET", "/api/providers/costs")).json()["since_start"] is None
    finally:
        gateway.app.gateway.stats = kept


# --- through a real ``byway serve`` ------------------------------------------------------------------

MASTER = "byw-master-e2e-monitoring-0123456789"


@pytest.fixture(scope="module")
def served(mock: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("monitoring")
    config = work / "byway.yaml"
    config.write_text(f"""
providers:
  - name: oa
    type: openai
    api_key: sk-mock-openai
    base_url: {mock.url}/openai/v1
    models: [gpt-4o-mini, byway-unpriced-model]
  - name: an
    type: anthropic
    api_key: sk-ant-mock
    base_url: {mock.url}/anthropic
    models: [claude-3-5-haiku-latest]
  - name: broken
    type: openai
    api_key: sk-mock
    base_url: {mock.url}/fault/status=500/openai/v1
""")
    with serving(config, work, MASTER) as url:
        yield url


def test_monitoring_through_byway_serve(served: str) -> None:
    client = openai.OpenAI(base_url=served + "/v1", api_key=MASTER, max_retries=0, timeout=30)
    header_costs = Decimal(0)
    for text in ("hello", "how are you"):
        raw = client.chat.completions.with_raw_response.create(
            model="oa:gpt-4o-mini", messages=[{"role": "user", "content": text}])
        header_costs += Decimal(raw.headers["x-byway-cost-usd"])
    unpriced = client.chat.completions.with_raw_response.create(
        model="oa:byway-unpriced-model", messages=[{"role": "user", "content": "hello"}])
    assert unpriced.http_response.status_code == 200
    with pytest.raises(openai.APIStatusError):
        client.chat.completions.create(model="broken:gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    api = httpx.Client(base_url=served, headers={"authorization": f"Bearer {MASTER}"}, timeout=30)
    metrics = api.get("/api/providers/metrics").json()
    rows = {row["provider"]: row for row in metrics["data"]}
    assert [rows[p]["requests"] for p in ("oa", "an", "broken")] == [3, 0, 1]
    oa = rows["oa"]
    assert Decimal(oa["cost"]) == header_costs and oa["unpriced_requests"] == 1
    assert rows["broken"]["errors"] == 1 and rows["broken"]["error_rate"] == 1.0
    assert rows["broken"]["status_codes"] == {"502": 1} and rows["broken"]["cost"] == "0"
    assert metrics["totals"]["requests"] == 4
    status = {row["provider"]: row for row in api.get("/api/providers/status").json()["data"]}
    assert status["oa"]["requests"] == 3 and status["oa"]["status"] == "healthy"
    assert status["broken"]["errors"] == 1 and status["broken"]["error_rate"] == 1.0
    costs = api.get(f"/api/providers/costs?period={this_month()}").json()
    assert Decimal(costs["total_cost"]) == header_costs and costs["unpriced_requests"] == 1
    by = {p["provider"]: p for p in costs["by_provider"]}
    assert by["oa"]["requests"] == 3 and by["broken"]["requests"] == 1
    assert costs["since_start"]["total_cost"] == costs["total_cost"]
    assert api.post("/api/providers/metrics/reset").status_code == 204
    assert api.get("/api/providers/metrics").json()["totals"]["requests"] == 0
    assert api.get("/api/providers/metrics/nowhere").status_code == 404

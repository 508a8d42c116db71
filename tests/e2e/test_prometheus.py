"""``GET /metrics`` in Prometheus text format, parsed back with ``prometheus_client``'s own parser:
requests and errors by provider, model and status; latency and overhead histograms; tokens by type; known
cost and unpriced requests; budget spend and remainder; the circuit and provider-call families. In
process (the real app, ledger and database) and once through ``byway serve``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from byway.core.usage_record import UsageRecord
from byway.mock import MockServer
from tests.accounts.conftest import Gateway
from tests.accounts.conftest import serving as in_process
from tests.serving import serving


@pytest.fixture
async def gateway(tmp_path: Path, mock: MockServer) -> AsyncIterator[Gateway]:
    async with in_process(tmp_path, mock.url) as opened:
        yield opened


class Scrape:
    """A parsed exposition: samples by name, looked up by their labels."""

    def __init__(self, text: str) -> None:
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples: dict[str, list[Sample]] = {}
        for family in self.families.values():
            for sample in family.samples:
                self.samples.setdefault(sample.name, []).append(sample)

    def value(self, name: str, **labels: str) -> float:
        found = [s.value for s in self.samples.get(name, []) if s.labels == labels]
        assert len(found) == 1, (name, labels, self.samples.get(name))
        return found[0]

    def labelled(self, name: str) -> list[dict[str, str]]:
        return [s.labels for s in self.samples.get(name, [])]

    def buckets(self, name: str, provider: str) -> list[tuple[float, float]]:
        found = [(float(s.labels["le"]), s.value) for s in self.samples.get(name + "_bucket", [])
                 if s.labels["provider"] == provider]
        return sorted(found)


async def scrape(gateway: Gateway) -> Scrape:
    answer = await gateway.call("GET", "/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape(answer.text)


def rec(n: int, **fields: Any) -> UsageRecord:
    values: dict[str, Any] = dict(
        request_id=f"req_prom_{n}", created_at=datetime.now(UTC).timestamp(), user_id=None, key_id=None,
        credential=None, provider="an", model="claude-3-5-haiku-latest", endpoint="messages", stream=False,
        tokens_in=1000, tokens_out=50, cached_tokens=600, cache_write_tokens=200, reasoning_tokens=30,
        cost=Decimal("0.0012345"), latency_ms=700.0, overhead_ms=0.4)
    values.update(fields)
    return UsageRecord(**values)


async def test_usage_families_match_the_traffic(gateway: Gateway) -> None:
    costs = Decimal(0)
    for text in ("hello", "tell me more", "hello"):
        done = await gateway.chat(None, "oa:gpt-4o-mini", text)
        assert done.status_code == 200
        costs += Decimal(done.headers["x-byway-cost-usd"])
    wide = await gateway.call("POST", "/api/credentials", json={
        "provider_type": "openai", "name": "wide", "api_key": "sk-wide", "validate": False,
        "base_url": f"{gateway.mock_url}/openai/v1", "model": "byway-unpriced-model"})
    assert wide.status_code == 201
    assert (await gateway.chat(None, "wide:byway-unpriced-model")).status_code == 200
    flaky = await gateway.call("POST", "/api/credentials", json={
        "provider_type": "openai", "name": "flaky", "api_key": "sk-flaky", "validate": False,
        "base_url": f"{gateway.mock_url}/fault/status=500/openai/v1", "model": "gpt-4o-mini"})
    assert flaky.status_code == 201
    assert (await gateway.chat(None, "flaky:gpt-4o-mini")).status_code == 502
    records = [rec(1), rec(2, cost=None, model="claude-unpriced", status_code=429, success=False, error="busy",
                           latency_ms=12_000.0, overhead_ms=30.0)]
    await gateway.accounts.store.usage.insert(records)
    gateway.app.gateway.stats.add(records)

    seen = await scrape(gateway)
    flaky_key, wide_key = f"credential:{flaky.json()['id']}", f"credential:{wide.json()['id']}"
    mini = {"provider": "oa", "model": "gpt-4o-mini"}
    assert seen.value("byway_requests_total", **mini, status="200") == 3
    assert seen.value("byway_requests_total", provider=wide_key, model="byway-unpriced-model", status="200") == 1
    assert seen.value("byway_requests_total", provider=flaky_key, model="gpt-4o-mini", status="502") == 1
    assert seen.value("byway_request_errors_total", provider=flaky_key, model="gpt-4o-mini", status="502") == 1
    assert seen.value("byway_request_errors_total", provider="an", model="claude-unpriced", status="429") == 1
    assert {"provider": "oa", "model": "gpt-4o-mini", "status": "200"} not in seen.labelled(
        "byway_request_errors_total")
    assert seen.value("byway_cost_usd_total", **mini) == pytest.approx(float(costs), rel=1e-12)
    assert seen.value("byway_cost_usd_total", provider="an", model="claude-3-5-haiku-latest") == 0.0012345
    assert seen.value("byway_unpriced_requests_total", provider=wide_key, model="byway-unpriced-model") == 1
    assert seen.value("byway_cost_usd_total", provider=wide_key, model="byway-unpriced-model") == 0
    assert seen.value("byway_unpriced_requests_total", **mini) == 0
    assert seen.value("byway_unpriced_requests_total", provider="an", model="claude-unpriced") == 1
    haiku = {"provider": "an", "model": "claude-3-5-haiku-latest"}
    assert [seen.value("byway_tokens_total", **haiku, type=t)
            for t in ("input", "output", "cached", "cache_write", "reasoning")] == [1000, 50, 600, 200, 30]
    metrics = (await gateway.call("GET", "/api/providers/metrics/oa")).json()
    assert seen.value("byway_tokens_total", **mini, type="input") == metrics["tokens_in"] > 0
    assert seen.value("byway_tokens_total", **mini, type="output") == metrics["tokens_out"] > 0
    assert seen.families["byway_request_latency_seconds"].type == "histogram"
    assert seen.families["byway_overhead_seconds"].type == "histogram"
    for name in ("byway_request_latency_seconds", "byway_overhead_seconds"):
        for provider, requests in (("oa", 3), (wide_key, 1), (flaky_key, 1), ("an", 2)):
            buckets = seen.buckets(name, provider)
            counts = [count for _, count in buckets]
            assert counts == sorted(counts) and buckets[-1] == (float("inf"), requests), (name, provider)
            assert seen.value(name + "_count", provider=provider) == requests
            assert seen.value(name + "_sum", provider=provider) > 0
    an_latency = dict(seen.buckets("byway_request_latency_seconds", "an"))
    assert an_latency[0.5] == 0 and an_latency[1.0] == 1 and an_latency[10.0] == 1 and an_latency[30.0] == 2
    assert seen.value("byway_request_latency_seconds_sum", provider="an") == pytest.approx(12.7)
    an_overhead = dict(seen.buckets("byway_overhead_seconds", "an"))
    assert an_overhead[0.00025] == 0 and an_overhead[0.0005] == 1 and an_overhead[0.025] == 1
    assert an_overhead[0.05] == 2
    # the families that were there before stay
    assert seen.value("byway_circuit_state", provider="oa", connection="oa") == 0
    assert seen.value("byway_provider_calls_total", provider="oa", connection="oa") == 3


async def test_budget_gauges_follow_spend(gateway: Gateway) -> None:
    made = await gateway.call("POST", "/api/users", json={"email": "eve-budget@example.com", "role": "member"})
    key = await gateway.call("POST", "/api/keys", json={"name": "capped", "user_id": made.json()["id"],
                                                        "monthly_budget": "5"})
    assert key.status_code == 201, key.text
    headers = {"authorization": f"Bearer {key.json()['key']}"}
    spent = Decimal(0)
    for _ in range(2):
        done = await gateway.client.post("/v1/chat/completions", headers=headers, json={
            "model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]})
        assert done.status_code == 200, done.text
        spent += Decimal(done.headers["x-byway-cost-usd"])
    seen = await scrape(gateway)
    scope = {"scope": f"key:{key.json()['id']}", "period": datetime.now(UTC).strftime("%Y-%m")}
    assert seen.value("byway_budget_spent_usd", **scope) == pytest.approx(float(spent), rel=1e-12)
    assert seen.value("byway_budget_remaining_usd", **scope) == pytest.approx(float(Decimal(5) - spent), rel=1e-12)
    assert seen.families["byway_budget_remaining_usd"].type == "gauge"


async def test_a_reset_empties_the_usage_families(gateway: Gateway) -> None:
    assert (await gateway.chat(None, "oa:gpt-4o-mini")).status_code == 200
    assert (await scrape(gateway)).value("byway_requests_total", provider="oa", model="gpt-4o-mini",
                                         status="200") == 1
    assert (await gateway.call("POST", "/api/providers/metrics/reset")).status_code == 204
    after = await scrape(gateway)
    for name in ("byway_requests_total", "byway_tokens_total", "byway_cost_usd_total",
                 "byway_request_latency_seconds_bucket", "byway_overhead_seconds_count"):
        assert after.samples.get(name, []) == [], name
    assert after.value("byway_provider_calls_total", provider="oa", connection="oa") == 1  # health is live state


MASTER = "byw-master-e2e-prometheus-0123456789"


@pytest.fixture(scope="module")
def served(mock: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("prometheus")
    config = work / "byway.yaml"
    config.write_text(f"""
providers:
  - name: oa
    type: openai
    api_key: sk-mock-openai
    base_url: {mock.url}/openai/v1
    models: [gpt-4o-mini]
  - name: an
    type: anthropic
    api_key: sk-ant-mock
    base_url: {mock.url}/anthropic
    models: [claude-3-5-haiku-latest]
""")
    with serving(config, work, MASTER) as url:
        yield url


def test_scrape_through_byway_serve(served: str) -> None:
    client = openai.OpenAI(base_url=served + "/v1", api_key=MASTER, max_retries=0, timeout=30)
    cost = Decimal(0)
    for _ in range(3):
        raw = client.chat.completions.with_raw_response.create(
            model="oa:gpt-4o-mini", messages=[{"role": "user", "content": "hello"}])
        cost += Decimal(raw.headers["x-byway-cost-usd"])
    stream = client.chat.completions.create(model="an:claude-3-5-haiku-latest", stream=True,
                                            messages=[{"role": "user", "content": "hello"}],
                                            stream_options={"include_usage": True})
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Echo: hello"
    scraped = httpx.get(served + "/metrics", headers={"authorization": f"Bearer {MASTER}"}, timeout=30)
    assert scraped.status_code == 200
    seen = Scrape(scraped.text)
    assert seen.value("byway_requests_total", provider="oa", model="gpt-4o-mini", status="200") == 3
    assert seen.value("byway_requests_total", provider="an", model="claude-3-5-haiku-latest", status="200") == 1
    assert seen.value("byway_cost_usd_total", provider="oa", model="gpt-4o-mini") == pytest.approx(float(cost))
    assert seen.value("byway_cost_usd_total", provider="an", model="claude-3-5-haiku-latest") > 0
    assert seen.value("byway_request_latency_seconds_count", provider="oa") == 3
    assert seen.value("byway_overhead_seconds_count", provider="an") == 1
    assert seen.value("byway_tokens_total", provider="an", model="claude-3-5-haiku-latest", type="output") > 0
    assert httpx.get(served + "/metrics", timeout=30).status_code == 401

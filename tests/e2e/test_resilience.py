"""Routing and resilience through a real ``byway serve`` against the mock's faults: retries, failover,
circuit breakers, pooled strategies, timeouts and the outbound proxy."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from aiohttp import ClientSession, web

from byway.mock import MockServer, running
from tests.serving import free_port, serving

MASTER = "byw-master-resilience-0123456789"


def _config(mock: str, proxy: str) -> str:
    def provider(name: str, path: str = "/openai/v1", fault: str = "", **extra: object) -> str:
        base = f"{mock}/fault/{fault}{path}" if fault else f"{mock}{path}"
        lines = [f"  - name: {name}", "    type: openai", "    api_key: sk-mock", f"    base_url: {base}"]
        lines += [f"    {k}: {v}" for k, v in extra.items()]
        return "\n".join(lines) + "\n"

    return (
        "circuit_breaker: {failures: 3, cooldown: 1.0}\n"
        "retry: {base_delay: 0.05, max_delay: 0.2, max_wait: 5}\n"
        "providers:\n"
        + provider("primary", fault="status=500,times=4")
        + "  - name: backup\n    type: anthropic\n    api_key: sk-ant-mock\n"
          f"    base_url: {mock}/anthropic\n"
        + provider("flaky", fault="status=429,retry_after=1,times=1", retries=2)
        + provider("flaky5xx", fault="status=503,times=2,latency_ms=1", retries=3)
        + provider("flaky5xx2", fault="status=503,times=2,latency_ms=2")
        + provider("refuses", fault="status=400", retries=3)
        + provider("heavy", weight=3)
        + provider("light", weight=1)
        + provider("fast")
        + provider("slow", fault="latency_ms=150")
        + provider("cut", fault="cut_after=3")
        + provider("stalls", fault="stall_ms=800", idle_timeout=0.3)
        + provider("hanging", fault="latency_ms=3000", timeout=0.4)
        + provider("proxied", proxy=proxy)
        + "routes:\n"
        "  - {name: guarded, mode: fallback, targets: [primary:gpt-4o-mini, backup:claude-3-5-haiku-latest]}\n"
        "  - {name: careful, mode: fallback, targets: [refuses:gpt-4o-mini, backup:claude-3-5-haiku-latest]}\n"
        "  - {name: split, mode: pooled, strategy: weighted, targets: [heavy:gpt-4o-mini, light:gpt-4o-mini]}\n"
        "  - {name: quick, mode: pooled, strategy: least_latency, targets: [slow:gpt-4o-mini, fast:gpt-4o-mini]}\n"
        "  - {name: thrifty, mode: pooled, strategy: cheapest, targets: [fast:gpt-4o, fast:gpt-4o-mini]}\n"
        "  - {name: turns, mode: pooled, strategy: round_robin, targets: [heavy:gpt-4o-mini, light:gpt-4o-mini]}\n"
        "  - {name: fragile, mode: fallback, targets: [cut:gpt-4o-mini, backup:claude-3-5-haiku-latest]}\n"
        "  - {name: retried, mode: fallback, retries: 1, targets: [flaky5xx2:gpt-4o-mini]}\n"
    )


class Proxy:
    """A plain forward HTTP proxy that counts what passes through it."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(str(request.url))
        async with ClientSession() as session, session.request(
                request.method, str(request.url), data=await request.read(),
                headers={k: v for k, v in request.headers.items() if k.lower() not in ("host", "proxy-connection")},
        ) as upstream:
            body = await upstream.read()
            return web.Response(status=upstream.status, body=body,
                                headers={"content-type": upstream.headers.get("content-type", "application/json")})


@pytest.fixture(scope="module")
def proxy() -> Iterator[tuple[Proxy, str]]:
    import asyncio
    import threading

    proxy = Proxy()
    port = free_port()
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield proxy, f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with running() as server:
        yield server


@pytest.fixture(scope="module")
def client(mock: MockServer, proxy: tuple[Proxy, str], tmp_path_factory: pytest.TempPathFactory,
           ) -> Iterator[openai.OpenAI]:
    work: Path = tmp_path_factory.mktemp("resilience")
    config = work / "byway.yaml"
    config.write_text(_config(mock.url, proxy[1]))
    with serving(config, work, MASTER) as url:
        yield openai.OpenAI(base_url=url + "/v1", api_key=MASTER, max_retries=0, timeout=30)


def scrape(client: openai.OpenAI) -> str:
    import urllib.request

    request = urllib.request.Request(str(client.base_url).removesuffix("/v1/") + "/metrics",
                                     headers={"Authorization": f"Bearer {MASTER}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.headers["content-type"].startswith("text/plain")
        return answer.read().decode()


def ask(client: openai.OpenAI, model: str, **kw: object):  # type: ignore[no-untyped-def]
    return client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "Hello there"}], **kw)  # type: ignore[call-overload]


def test_breaker_keeps_a_failing_primary_out_until_it_recovers(client: openai.OpenAI) -> None:
    served = []
    for _ in range(3):  # three 500s in a row open the primary's circuit; the backup serves each request
        raw = ask(client, "guarded")
        served.append((raw.headers["x-byway-provider"], raw.headers["x-byway-attempts"]))
    assert served == [("backup", "2")] * 3
    for _ in range(5):  # open: the primary is not even tried
        raw = ask(client, "guarded")
        assert (raw.headers["x-byway-provider"], raw.headers["x-byway-attempts"]) == ("backup", "1")
    time.sleep(1.1)  # cooldown over: one probe, which meets the fault's fourth and last 500
    raw = ask(client, "guarded")
    assert (raw.headers["x-byway-provider"], raw.headers["x-byway-attempts"]) == ("backup", "2")
    raw = ask(client, "guarded")
    assert (raw.headers["x-byway-provider"], raw.headers["x-byway-attempts"]) == ("backup", "1")
    assert 'byway_circuit_state{connection="primary",provider="primary"} 2.0' in scrape(client)
    time.sleep(1.1)  # the primary has recovered: the probe succeeds and closes the circuit
    for _ in range(3):
        raw = ask(client, "guarded")
        assert (raw.headers["x-byway-provider"], raw.headers["x-byway-attempts"]) == ("primary", "1")
        assert raw.parse().choices[0].message.content == "Echo: Hello there"
    metrics = scrape(client)
    assert 'byway_circuit_state{connection="primary",provider="primary"} 0.0' in metrics
    assert 'byway_circuit_opened_total{connection="primary",provider="primary"} 2.0' in metrics
    assert 'byway_provider_call_errors_total{connection="primary",provider="primary"} 4.0' in metrics
    assert 'byway_provider_calls_total{connection="primary",provider="primary"} 7.0' in metrics


def test_429_with_retry_after_is_retried_after_waiting(client: openai.OpenAI) -> None:
    started = time.perf_counter()
    raw = ask(client, "flaky:gpt-4o-mini")
    waited = time.perf_counter() - started
    assert raw.parse().choices[0].message.content == "Echo: Hello there"
    assert raw.headers["x-byway-attempts"] == "2"
    assert waited >= 1.0


def test_5xx_is_retried_with_backoff_on_the_same_target(client: openai.OpenAI) -> None:
    raw = ask(client, "flaky5xx:gpt-4o-mini")  # 503, 503, then an answer: the provider allows 3 retries
    assert raw.headers["x-byway-attempts"] == "3"
    assert raw.parse().choices[0].message.content == "Echo: Hello there"
    with pytest.raises(openai.APIStatusError) as info:  # the route allows 1 retry: two 503s exhaust it
        ask(client, "retried")
    assert info.value.status_code == 502
    assert info.value.message.count("flaky5xx2:gpt-4o-mini -> 503") == 2


def test_upstream_400_is_neither_retried_nor_failed_over(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        ask(client, "careful")
    assert info.value.response.headers["x-byway-attempts"] == "1"
    assert "refuses" in info.value.message


def test_pooled_weighted_three_to_one(client: openai.OpenAI) -> None:
    counts = Counter(ask(client, "split").headers["x-byway-provider"] for _ in range(400))
    # binomial(400, 0.75): mean 300, standard deviation 8.7; 3.5 deviations either side
    assert 270 <= counts["heavy"] <= 330 and counts["heavy"] + counts["light"] == 400


def test_pooled_round_robin_alternates(client: openai.OpenAI) -> None:
    served = [ask(client, "turns").headers["x-byway-provider"] for _ in range(6)]
    assert served in (["heavy", "light"] * 3, ["light", "heavy"] * 3)


def test_least_latency_moves_traffic_off_the_slow_target(client: openai.OpenAI) -> None:
    counts = Counter(ask(client, "quick").headers["x-byway-provider"] for _ in range(30))
    assert counts["slow"] <= 2  # measured once, then avoided
    assert counts["fast"] >= 28


def test_cheapest_picks_the_cheaper_model(client: openai.OpenAI) -> None:
    for _ in range(3):
        assert ask(client, "thrifty").headers["x-byway-model"] == "gpt-4o-mini"


def test_a_stream_cut_midway_ends_with_an_error_and_no_second_attempt(client: openai.OpenAI,
                                                                     mock: MockServer) -> None:
    before = mock.stats()["paths"].get("/anthropic/v1/messages", 0)
    stream = client.chat.completions.create(model="fragile", stream=True,
                                            messages=[{"role": "user", "content": "Hello there, how are you?"}])
    with pytest.raises(openai.APIError) as info:
        for _ in stream:
            pass
    assert "connection lost" in str(info.value.message) or "cut" in str(info.value.message)
    assert mock.stats()["paths"].get("/anthropic/v1/messages", 0) == before


def test_idle_stream_times_out_with_an_error_event(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="stalls:gpt-4o-mini", stream=True,
                                            messages=[{"role": "user", "content": "Hello there"}])
    with pytest.raises(openai.APIError) as info:
        for _ in stream:
            pass
    assert "within 0.3 s" in str(info.value.message)


def test_no_answer_is_a_504(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        ask(client, "hanging:gpt-4o-mini")
    assert info.value.status_code == 504
    assert info.value.code == "timeout"


def test_provider_proxy_carries_the_request(client: openai.OpenAI, proxy: tuple[Proxy, str],
                                            mock: MockServer) -> None:
    seen = len(proxy[0].seen)
    raw = ask(client, "proxied:gpt-4o-mini")
    assert raw.parse().choices[0].message.content == "Echo: Hello there"
    assert proxy[0].seen[seen:] == [f"{mock.url}/openai/v1/chat/completions"]
    ask(client, "fast:gpt-4o-mini")
    assert len(proxy[0].seen) == seen + 1  # providers without a proxy go direct



@pytest.mark.parametrize(("no_proxy", "through_proxy"), [("", True), ("127.0.0.1", False)])
def test_https_proxy_and_no_proxy_from_the_environment(mock: MockServer, proxy: tuple[Proxy, str],
                                                        tmp_path: Path, no_proxy: str, through_proxy: bool) -> None:
    config = tmp_path / "byway.yaml"
    config.write_text(f"providers:\n  - {{name: oa, type: openai, api_key: sk-mock, base_url: {mock.url}/openai/v1}}\n")
    seen = len(proxy[0].seen)
    env = {"HTTP_PROXY": proxy[1], "http_proxy": proxy[1], "NO_PROXY": no_proxy, "no_proxy": no_proxy}
    with serving(config, tmp_path, MASTER, env=env) as url:
        gateway = openai.OpenAI(base_url=url + "/v1", api_key=MASTER, max_retries=0, timeout=30)
        assert ask(gateway, "oa:gpt-4o-mini").parse().choices[0].message.content == "Echo: Hello there"
    assert len(proxy[0].seen) == seen + (1 if through_proxy else 0)

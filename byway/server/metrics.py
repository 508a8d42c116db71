"""``GET /metrics``: Prometheus text format, for admins (the master key or an admin's gateway key).

Everything here is read from state the gateway keeps anyway, when the scrape comes, so serving requests
pays nothing for it: per provider connection, the circuit breaker's state and how often it opened, and
the calls, failures and recent latency quantiles of the health book.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from byway.core import PermissionDeniedError
from byway.engine import Engine
from byway.server.asgi import Receive, Send, answer
from byway.server.context import Gateway, RequestContext

CIRCUIT_STATES = {"closed": 0, "half_open": 1, "open": 2}
_CONTENT_TYPE = (b"content-type", b"text/plain; version=0.0.4; charset=utf-8")


class EngineCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        labels = ["provider", "connection"]
        state = GaugeMetricFamily("byway_circuit_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open",
                                  labels=labels)
        opened = CounterMetricFamily("byway_circuit_opened", "Times the circuit breaker opened", labels=labels)
        calls = CounterMetricFamily("byway_provider_calls", "Upstream calls (retries included)", labels=labels)
        failures = CounterMetricFamily("byway_provider_call_errors", "Upstream calls that failed", labels=labels)
        latency = GaugeMetricFamily("byway_provider_latency_seconds",
                                    "Latency of recent successful upstream calls", labels=[*labels, "quantile"])
        for report in self.engine.health_report():
            key = [report.provider, report.connection]
            state.add_metric(key, CIRCUIT_STATES.get(report.circuit, 0))
            opened.add_metric(key, self.engine.breakers.get(report.connection).opened)
            calls.add_metric(key, report.requests)
            failures.add_metric(key, report.errors)
            for quantile, value in (("0.5", report.latency_p50_ms), ("0.95", report.latency_p95_ms)):
                if value is not None:
                    latency.add_metric([*key, quantile], value / 1000)
        yield from (state, opened, calls, failures, latency)


_REGISTRIES: weakref.WeakKeyDictionary[Engine, CollectorRegistry] = weakref.WeakKeyDictionary()


def registry_for(engine: Engine) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(engine))
    return registry


async def metrics(gateway: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    principal = gateway.principal(ctx.headers)
    if principal.role != "admin":
        raise PermissionDeniedError("/metrics is for admins")
    registry = _REGISTRIES.get(gateway.engine)
    if registry is None:
        registry = _REGISTRIES[gateway.engine] = registry_for(gateway.engine)
    await answer(send, 200, generate_latest(registry), [_CONTENT_TYPE])

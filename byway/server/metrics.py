"""``GET /metrics``: Prometheus text format, for admins (the master key or an admin's gateway key).

Everything here is read from state the gateway keeps anyway, when the scrape comes, so serving requests
pays nothing for it:

- per provider connection, the circuit breaker's state and how often it opened, and the upstream calls,
  failures and recent latency quantiles of the health book;
- from the provider statistics (fed by the usage ledger, since start or the last reset): client requests
  and errors by provider, model and status; latency and Byway-overhead histograms by provider; tokens by
  type; known cost and unpriced requests by provider and model;
- each budget's spend and what remains of it this month.

Providers are named by connection key (a config provider's name, or ``credential:ID``). The scrape first
waits for the ledger to store and count what was recorded so far.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from byway.accounting.budgets import BudgetState
from byway.accounting.stats import Buckets, ProviderStats
from byway.core import PermissionDeniedError
from byway.engine import Engine
from byway.server.asgi import Receive, Send, answer
from byway.server.context import Gateway, RequestContext

CIRCUIT_STATES = {"closed": 0, "half_open": 1, "open": 2}
_CONTENT_TYPE = (b"content-type", b"text/plain; version=0.0.4; charset=utf-8")
MODEL_LABELS = ["provider", "model"]


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


class UsageCollector(Collector):
    """The provider statistics, read when the scrape comes (``gateway.stats`` may be set after start)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = weakref.ref(gateway)

    def collect(self) -> Iterator[Metric]:
        gateway = self._gateway()
        stats = gateway.stats if gateway is not None else None
        if stats is None:
            return
        yield from usage_families(stats)


class BudgetCollector(Collector):
    """Each budget's spend and remainder this month (reservations held count as spent), from the gate."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = weakref.ref(gateway)

    def collect(self) -> Iterator[Metric]:
        gateway = self._gateway()
        if gateway is not None:
            yield from budget_families(gateway.engine.gate.budgets.snapshot())


def usage_families(stats: ProviderStats) -> Iterator[Metric]:
    requests = CounterMetricFamily("byway_requests", "Client requests that reached a provider",
                                   labels=[*MODEL_LABELS, "status"])
    errors = CounterMetricFamily("byway_request_errors", "Client requests that failed",
                                 labels=[*MODEL_LABELS, "status"])
    tokens = CounterMetricFamily("byway_tokens", "Tokens by type (input includes cached input)",
                                 labels=[*MODEL_LABELS, "type"])
    cost = CounterMetricFamily("byway_cost_usd", "Known cost of the requests, USD", labels=MODEL_LABELS)
    unpriced = CounterMetricFamily("byway_unpriced_requests", "Requests recorded with cost unknown (no price)",
                                   labels=MODEL_LABELS)
    for provider in stats.providers():
        for m in provider.models:
            labels = [provider.provider, m.model]
            for status, count in m.status_codes.items():
                requests.add_metric([*labels, status], count)
            for status, count in m.error_status_codes.items():
                errors.add_metric([*labels, status], count)
            for kind, count in (("input", m.tokens_in), ("output", m.tokens_out), ("cached", m.cached_tokens),
                                ("cache_write", m.cache_write_tokens), ("reasoning", m.reasoning_tokens)):
                tokens.add_metric([*labels, kind], count)
            cost.add_metric(labels, float(m.cost))  # float only here, at the output boundary
            unpriced.add_metric(labels, m.unpriced_requests)
    latency = HistogramMetricFamily("byway_request_latency_seconds",
                                    "Client request latency, upstream included", labels=["provider"])
    overhead = HistogramMetricFamily("byway_overhead_seconds", "Time spent in Byway itself per request",
                                     labels=["provider"])
    for h in stats.histograms():
        latency.add_metric([h.provider], _buckets(h.latency), h.latency.sum_ms / 1000)
        overhead.add_metric([h.provider], _buckets(h.overhead), h.overhead.sum_ms / 1000)
    yield from (requests, errors, latency, overhead, tokens, cost, unpriced)


def budget_families(states: Iterable[BudgetState]) -> Iterator[Metric]:
    remaining = GaugeMetricFamily("byway_budget_remaining_usd", "Budget left this month (reservations held)",
                                  labels=["scope", "period"])
    spent = GaugeMetricFamily("byway_budget_spent_usd", "Spent this month against the budget",
                              labels=["scope", "period"])
    for state in states:
        labels = [state.scope, state.period]
        remaining.add_metric(labels, float(state.remaining))
        spent.add_metric(labels, float(state.spent))
    yield from (remaining, spent)


def _buckets(b: Buckets) -> list[tuple[str, float]]:
    bounds = [repr(bound / 1000) for bound in b.bounds_ms] + ["+Inf"]
    return list(zip(bounds, (float(c) for c in b.cumulative), strict=True))


_REGISTRIES: weakref.WeakKeyDictionary[Gateway, CollectorRegistry] = weakref.WeakKeyDictionary()


def registry_for(gateway: Gateway) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(gateway.engine))
    registry.register(UsageCollector(gateway))
    registry.register(BudgetCollector(gateway))
    return registry


async def metrics(gateway: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    principal = gateway.principal(ctx.headers)
    if principal.role != "admin":
        raise PermissionDeniedError("/metrics is for admins")
    if gateway.ledger is not None:
        gateway.ledger.publish()  # the figures come from the statistics, not the database: no need to wait for it
    registry = _REGISTRIES.get(gateway)
    if registry is None:
        registry = _REGISTRIES[gateway] = registry_for(gateway)
    await answer(send, 200, generate_latest(registry), [_CONTENT_TYPE])

"""Provider statistics in memory, since start or the last reset: what the monitoring API and ``/metrics``
read. Fed with batches of usage records by the ledger's writer (a ledger listener), so the request path
pays nothing; adding a batch costs O(batch).

Statistics are kept per provider connection, named the way budgets and health name them: a provider from
the config file by its name, a stored credential as ``credential:ID`` (credential names are only unique per
user). Within a provider they are also kept per model, for Prometheus' labels.

Latency quantiles come from a bounded window of each provider's most recent requests; every other figure
(counts, tokens, exact cost, averages, histograms) covers every request since ``since``.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from byway.core.usage_record import UsageRecord

WINDOW = 1000  # recent latencies kept per provider for p50/p95
# Histogram upper bounds, milliseconds (Prometheus' ``le``; +Inf is implied).
LATENCY_BUCKETS_MS: tuple[float, ...] = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000,
                                         120_000)
OVERHEAD_BUCKETS_MS: tuple[float, ...] = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000)
TOKEN_TYPES = ("input", "output", "cached", "cache_write", "reasoning")


def connection_of(record: UsageRecord) -> str:
    """The key ``record`` is counted under: ``credential:ID`` for a stored credential, else the provider."""
    return f"credential:{record.credential}" if record.credential else record.provider


# --- documents (what the read methods answer) ---------------------------------------------------------


class ModelMetrics(msgspec.Struct, kw_only=True):
    model: str
    requests: int
    errors: int
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost: Decimal  # USD, the requests whose price is known
    unpriced_requests: int  # requests recorded with cost unknown
    status_codes: dict[str, int]  # requests per status code
    error_status_codes: dict[str, int]  # failed requests per status code


class Totals(msgspec.Struct, kw_only=True):
    requests: int
    successes: int
    errors: int
    error_rate: float
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost: Decimal
    unpriced_requests: int
    estimated_requests: int
    streams: int


class ProviderMetrics(Totals, kw_only=True):
    """One provider's figures: the totals' counts, and latency, status codes, last error and per model."""

    provider: str  # the connection key: the config name, or credential:ID
    name: str  # the name requests used (a credential's own name)
    latency_avg_ms: float | None
    latency_p50_ms: float | None  # over the last WINDOW requests
    latency_p95_ms: float | None
    ttft_avg_ms: float | None  # streams and other requests that reported a time to first token
    status_codes: dict[str, int]
    last_error: str | None
    last_error_at: datetime | None
    models: list[ModelMetrics]


class Buckets(msgspec.Struct, frozen=True, kw_only=True):
    """A histogram as Prometheus wants it: cumulative counts per upper bound (the last bound is +Inf)."""

    bounds_ms: tuple[float, ...]
    cumulative: tuple[int, ...]  # one more than bounds_ms: the +Inf bucket, equal to count
    sum_ms: float
    count: int


class ProviderHistograms(msgspec.Struct, frozen=True, kw_only=True):
    provider: str
    latency: Buckets
    overhead: Buckets


# --- the counters ------------------------------------------------------------------------------------


class _Histogram:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one: above every bound
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # le semantics: value <= bound
        self.sum += value

    def buckets(self) -> Buckets:
        running, cumulative = 0, []
        for count in self.counts:
            running += count
            cumulative.append(running)
        return Buckets(bounds_ms=self.bounds, cumulative=tuple(cumulative), sum_ms=self.sum, count=running)


class _Tally:
    """What providers and models both count."""

    __slots__ = (
        "cache_write",
        "cached",
        "cost",
        "errors",
        "estimated",
        "reasoning",
        "requests",
        "streams",
        "tokens_in",
        "tokens_out",
        "unpriced",
    )

    def __init__(self) -> None:
        self.requests = self.errors = self.estimated = self.streams = self.unpriced = 0
        self.tokens_in = self.tokens_out = self.cached = self.cache_write = self.reasoning = 0
        self.cost = Decimal(0)

    def add(self, r: UsageRecord) -> None:
        self.requests += 1
        if not r.success:
            self.errors += 1
        if r.estimated:
            self.estimated += 1
        if r.stream:
            self.streams += 1
        self.tokens_in += r.tokens_in
        self.tokens_out += r.tokens_out
        self.cached += r.cached_tokens
        self.cache_write += r.cache_write_tokens
        self.reasoning += r.reasoning_tokens
        if r.cost is None:
            self.unpriced += 1
        else:
            self.cost += r.cost

    def merge(self, other: _Tally) -> None:
        for name in _Tally.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def totals(self) -> Totals:
        return Totals(requests=self.requests, successes=self.requests - self.errors, errors=self.errors,
                      error_rate=_rate(self.errors, self.requests), tokens_in=self.tokens_in,
                      tokens_out=self.tokens_out, cached_tokens=self.cached, cache_write_tokens=self.cache_write,
                      reasoning_tokens=self.reasoning, cost=self.cost, unpriced_requests=self.unpriced,
                      estimated_requests=self.estimated, streams=self.streams)


class _Model(_Tally):
    __slots__ = ("error_statuses", "statuses")

    def __init__(self) -> None:
        super().__init__()
        self.statuses: dict[int, int] = {}
        self.error_statuses: dict[int, int] = {}

    def add(self, r: UsageRecord) -> None:
        super().add(r)
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        if not r.success:
            self.error_statuses[r.status_code] = self.error_statuses.get(r.status_code, 0) + 1

    def metrics(self, model: str) -> ModelMetrics:
        return ModelMetrics(model=model, requests=self.requests, errors=self.errors, tokens_in=self.tokens_in,
                            tokens_out=self.tokens_out, cached_tokens=self.cached,
                            cache_write_tokens=self.cache_write, reasoning_tokens=self.reasoning, cost=self.cost,
                            unpriced_requests=self.unpriced, status_codes=_codes(self.statuses),
                            error_status_codes=_codes(self.error_statuses))


class _Provider(_Tally):
    __slots__ = ("last_error", "last_error_at", "latency", "latency_sum", "models", "name", "overhead", "recent",
                 "statuses", "ttft_count", "ttft_sum")

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.models: dict[str, _Model] = {}
        self.statuses: dict[int, int] = {}
        self.recent: deque[float] = deque(maxlen=WINDOW)
        self.latency_sum = 0.0
        self.ttft_sum = 0.0
        self.ttft_count = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.latency = _Histogram(LATENCY_BUCKETS_MS)
        self.overhead = _Histogram(OVERHEAD_BUCKETS_MS)

    def add(self, r: UsageRecord) -> None:
        super().add(r)
        model = self.models.get(r.model)
        if model is None:
            model = self.models[r.model] = _Model()
        model.add(r)
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        self.recent.append(r.latency_ms)
        self.latency_sum += r.latency_ms
        self.latency.observe(r.latency_ms)
        self.overhead.observe(r.overhead_ms)
        if r.ttft_ms is not None:
            self.ttft_sum += r.ttft_ms
            self.ttft_count += 1
        if not r.success and (self.last_error_at is None or r.created_at >= self.last_error_at):
            self.last_error = r.error or f"status {r.status_code}"
            self.last_error_at = r.created_at

    def metrics(self, key: str) -> ProviderMetrics:
        ordered = sorted(self.recent)
        return ProviderMetrics(
            provider=key, name=self.name, requests=self.requests, successes=self.requests - self.errors,
            errors=self.errors, error_rate=_rate(self.errors, self.requests), tokens_in=self.tokens_in,
            tokens_out=self.tokens_out, cached_tokens=self.cached, cache_write_tokens=self.cache_write,
            reasoning_tokens=self.reasoning, cost=self.cost, unpriced_requests=self.unpriced,
            estimated_requests=self.estimated, streams=self.streams,
            latency_avg_ms=round(self.latency_sum / self.requests, 3) if self.requests else None,
            latency_p50_ms=quantile(ordered, 0.5), latency_p95_ms=quantile(ordered, 0.95),
            ttft_avg_ms=round(self.ttft_sum / self.ttft_count, 3) if self.ttft_count else None,
            status_codes=_codes(self.statuses), last_error=self.last_error,
            last_error_at=None if self.last_error_at is None else datetime.fromtimestamp(self.last_error_at, UTC),
            models=[self.models[m].metrics(m) for m in sorted(self.models)])


class ProviderStats:
    """The statistics. Fed by the ledger's rounds and read by handlers, all on the event loop: nothing
    here needs a lock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._providers: dict[str, _Provider] = {}
        self._since = clock()

    @property
    def since(self) -> datetime:
        """When the window began: the start, or the last reset (UTC)."""
        return datetime.fromtimestamp(self._since, UTC)

    def add(self, records: Sequence[UsageRecord]) -> None:
        providers = self._providers
        for record in records:
            key = connection_of(record)
            entry = providers.get(key)
            if entry is None:
                entry = providers[key] = _Provider(record.provider)
            entry.add(record)

    def reset(self) -> None:
        self._providers = {}
        self._since = self._clock()

    def providers(self) -> list[ProviderMetrics]:
        """Every provider that served a request in the window, by key."""
        return [self._providers[k].metrics(k) for k in sorted(self._providers)]

    def provider(self, key: str) -> ProviderMetrics | None:
        entry = self._providers.get(key)
        return None if entry is None else entry.metrics(key)

    def totals(self) -> Totals:
        tally = _Tally()
        for entry in self._providers.values():
            tally.merge(entry)
        return tally.totals()

    def histograms(self) -> list[ProviderHistograms]:
        """Each provider's latency and overhead histograms (for Prometheus)."""
        return [ProviderHistograms(provider=k, latency=e.latency.buckets(), overhead=e.overhead.buckets())
                for k, e in sorted(self._providers.items())]


def idle(key: str, name: str) -> ProviderMetrics:
    """The metrics of a provider that served nothing in the window: zeros."""
    return _Provider(name).metrics(key)


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The nearest-rank ``q`` quantile of sorted values: the smallest value at or above which lie a share
    ``q`` of them (p50 of 1..100 is 50, p95 is 95)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q * len(ordered) - 1e-9))  # the tolerance absorbs binary fractions (0.95 * 20)
    return round(ordered[rank - 1], 3)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _codes(counts: dict[int, int]) -> dict[str, int]:
    return {str(code): counts[code] for code in sorted(counts)}

"""Provider statistics from hand-made usage records: exact decimal sums, per-model and per-status counts,
nearest-rank quantiles over a bounded window, histograms, the last error, and reset."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

from byway.accounting.stats import (
    LATENCY_BUCKETS_MS,
    OVERHEAD_BUCKETS_MS,
    WINDOW,
    ProviderStats,
    connection_of,
    idle,
    quantile,
)
from byway.core.usage_record import UsageRecord

T0 = 1_750_000_000.0


def rec(n: int, *, provider: str = "oa", model: str = "gpt-4o-mini", cost: str | None = "0.0000123",
        status: int = 200, success: bool = True, **fields: object) -> UsageRecord:
    values: dict[str, object] = dict(
        request_id=f"req_{n}", created_at=T0 + n, user_id="u1", key_id="k1", credential=None, provider=provider,
        model=model, endpoint="chat.completions", stream=False, tokens_in=100, tokens_out=20,
        cost=None if cost is None else Decimal(cost), latency_ms=40.0, status_code=status, success=success)
    values.update(fields)
    return UsageRecord(**values)  # type: ignore[arg-type]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_sums_are_exact_decimals_and_counts_split_by_model_and_status() -> None:
    stats = ProviderStats()
    costs = ["0.1", "0.2", "0.0000001", "0.00000015", "1.2345678901"]
    stats.add([rec(i, cost=c) for i, c in enumerate(costs)])
    stats.add([
        rec(10, model="gpt-4o", cost=None, tokens_in=7, tokens_out=3, cached_tokens=4, reasoning_tokens=2,
            cache_write_tokens=1, estimated=True, stream=True, ttft_ms=30.0),
        rec(11, model="gpt-4o", cost=None, status=502, success=False, error="upstream said no", tokens_out=0),
        rec(12, cost="0.3", status=429, success=False, error="slow down"),
    ])
    [oa] = stats.providers()
    assert oa.provider == "oa" and oa.name == "oa"
    assert oa.cost == Decimal("1.8345681401")  # 0.1+0.2+0.0000001+0.00000015+1.2345678901+0.3, no float in it
    assert (oa.requests, oa.successes, oa.errors) == (8, 6, 2)
    assert oa.error_rate == 0.25
    assert (oa.unpriced_requests, oa.estimated_requests, oa.streams) == (2, 1, 1)
    assert oa.tokens_in == 100 * 7 + 7 and oa.tokens_out == 20 * 6 + 3 + 0
    assert (oa.cached_tokens, oa.cache_write_tokens, oa.reasoning_tokens) == (4, 1, 2)
    assert oa.status_codes == {"200": 6, "429": 1, "502": 1}
    assert oa.ttft_avg_ms == 30.0
    by_model = {m.model: m for m in oa.models}
    assert list(by_model) == ["gpt-4o", "gpt-4o-mini"]
    mini, big = by_model["gpt-4o-mini"], by_model["gpt-4o"]
    assert mini.cost == Decimal("1.8345681401") and mini.requests == 6 and mini.unpriced_requests == 0
    assert mini.status_codes == {"200": 5, "429": 1} and mini.error_status_codes == {"429": 1}
    assert big.cost == Decimal(0) and big.unpriced_requests == 2 and big.errors == 1
    assert big.status_codes == {"200": 1, "502": 1} and big.error_status_codes == {"502": 1}
    assert (big.tokens_in, big.tokens_out, big.cached_tokens) == (107, 3, 4)
    totals = stats.totals()
    assert totals.cost == oa.cost and totals.requests == 8 and totals.errors == 2 and totals.error_rate == 0.25


def test_the_last_error_is_the_latest_by_record_time() -> None:
    stats = ProviderStats()
    stats.add([rec(5, status=500, success=False, error="later"), rec(2, status=503, success=False, error="earlier"),
               rec(9)])
    [oa] = stats.providers()
    assert oa.last_error == "later"
    assert oa.last_error_at == datetime.fromtimestamp(T0 + 5, UTC)
    stats.add([rec(20, status=504, success=False, error=None)])
    assert stats.provider("oa").last_error == "status 504"  # type: ignore[union-attr]


def test_credentials_are_kept_apart_by_id_and_totals_span_providers() -> None:
    stats = ProviderStats()
    stats.add([rec(1, provider="mine", credential="cred_a", cost="0.5"),
               rec(2, provider="mine", credential="cred_b", cost="0.25"),
               rec(3, provider="mine", credential="cred_b", cost="0.25"),
               rec(4, provider="an", model="claude-3-5-haiku-latest", cost="1")])
    assert connection_of(rec(1, provider="mine", credential="cred_a")) == "credential:cred_a"
    rows = {m.provider: m for m in stats.providers()}
    assert list(rows) == ["an", "credential:cred_a", "credential:cred_b"]
    assert rows["credential:cred_b"].name == "mine" and rows["credential:cred_b"].cost == Decimal("0.50")
    assert rows["credential:cred_b"].requests == 2 and rows["credential:cred_a"].requests == 1
    assert stats.totals().cost == Decimal("2.00") and stats.totals().requests == 4
    assert stats.provider("mine") is None and stats.provider("credential:cred_a") is not None


def test_latency_average_covers_everything_and_quantiles_the_recent_window() -> None:
    stats = ProviderStats()
    stats.add([rec(i, latency_ms=float(i)) for i in range(1, 101)])
    oa = stats.provider("oa")
    assert oa is not None
    assert (oa.latency_p50_ms, oa.latency_p95_ms) == (50.0, 95.0)  # nearest rank
    assert oa.latency_avg_ms == 50.5
    # a long run of slow requests pushes the early fast ones out of the window, not out of the average
    stats.add([rec(1000 + i, latency_ms=1000.0) for i in range(WINDOW)])
    oa = stats.provider("oa")
    assert oa is not None and oa.latency_p50_ms == 1000.0 and oa.latency_p95_ms == 1000.0
    assert oa.latency_avg_ms == round((5050 + 1000 * WINDOW) / (100 + WINDOW), 3)


def test_quantile_edges() -> None:
    assert quantile([], 0.5) is None
    assert quantile([7.0], 0.5) == 7.0 and quantile([7.0], 0.95) == 7.0
    assert quantile([float(v) for v in range(1, 21)], 0.95) == 19.0  # 0.95 * 20 is 19, not 20
    assert quantile([1.0, 2.0], 0.5) == 1.0 and quantile([1.0, 2.0], 0.95) == 2.0


def test_histograms_are_cumulative_with_le_bounds() -> None:
    stats = ProviderStats()
    latencies = [10.0, 25.0, 25.5, 700.0, 999_999.0]  # 25 sits in le=25; the last is above every bound
    overheads = [0.05, 0.3, 0.3, 2.0, 5000.0]
    stats.add([rec(i, latency_ms=lat, overhead_ms=ov) for i, (lat, ov) in enumerate(zip(latencies, overheads, strict=True))])
    [h] = stats.histograms()
    assert h.provider == "oa"
    latency = dict(zip(h.latency.bounds_ms, h.latency.cumulative[:-1], strict=True))
    assert h.latency.bounds_ms == LATENCY_BUCKETS_MS and len(h.latency.cumulative) == len(LATENCY_BUCKETS_MS) + 1
    assert latency[25] == 2 and latency[50] == 3 and latency[500] == 3 and latency[1000] == 4
    assert latency[LATENCY_BUCKETS_MS[-1]] == 4 and h.latency.cumulative[-1] == 5 == h.latency.count
    assert h.latency.sum_ms == sum(latencies)
    overhead = dict(zip(h.overhead.bounds_ms, h.overhead.cumulative[:-1], strict=True))
    assert h.overhead.bounds_ms == OVERHEAD_BUCKETS_MS
    assert overhead[0.1] == 1 and overhead[0.25] == 1 and overhead[0.5] == 3 and overhead[2.5] == 4
    assert h.overhead.cumulative[-2] == 4 and h.overhead.cumulative[-1] == 5
    assert list(h.latency.cumulative) == sorted(h.latency.cumulative)


def test_reset_starts_afresh_and_moves_since() -> None:
    clock = Clock(T0)
    stats = ProviderStats(clock=clock)
    assert stats.since == datetime.fromtimestamp(T0, UTC)
    stats.add([rec(1, cost="2"), rec(2, provider="an", cost=None)])
    assert stats.totals().requests == 2
    clock.now = T0 + 3600
    stats.reset()
    assert stats.since == datetime.fromtimestamp(T0 + 3600, UTC)
    assert stats.providers() == [] and stats.histograms() == [] and stats.provider("oa") is None
    totals = stats.totals()
    assert (totals.requests, totals.cost, totals.unpriced_requests, totals.error_rate) == (0, Decimal(0), 0, 0.0)
    stats.add([rec(3, cost="0.75")])
    [oa] = stats.providers()
    assert oa.requests == 1 and oa.cost == Decimal("0.75")


def test_an_idle_provider_reads_as_zeros() -> None:
    empty = idle("an", "an")
    assert (empty.provider, empty.requests, empty.cost, empty.error_rate) == ("an", 0, Decimal(0), 0.0)
    assert empty.latency_p50_ms is None and empty.latency_avg_ms is None and empty.models == []


def test_adding_from_another_thread_while_reading_loses_nothing() -> None:
    stats = ProviderStats()
    batches = [[rec(b * 100 + i, model=f"m{i % 7}", cost="0.0001") for i in range(100)] for b in range(50)]

    def write() -> None:
        for batch in batches:
            stats.add(batch)

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        stats.providers()
        stats.histograms()
    writer.join()
    [oa] = stats.providers()
    assert oa.requests == 5000 and oa.cost == Decimal("0.5000") and len(oa.models) == 7

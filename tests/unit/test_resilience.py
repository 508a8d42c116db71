"""Retry delays, circuit breakers and passive health, on a fake clock."""

from __future__ import annotations

import random

import pytest

from byway.core import (
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from byway.routing.breaker import Breaker, BreakerConfig, Breakers, is_failure
from byway.routing.health import HealthBook
from byway.routing.retry import RetryPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(max_wait=5)
    assert policy.delay(0, UpstreamRateLimitError("slow down", retry_after=1.5)) == 1.5
    assert policy.delay(3, UpstreamRateLimitError("slow down", retry_after=5)) == 5
    assert policy.delay(0, UpstreamRateLimitError("slow down", retry_after=60)) is None


def test_backoff_doubles_with_full_jitter_and_stops_at_the_ceiling() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3)
    rng = random.Random(7)
    error = UpstreamUnavailableError("502", upstream_status=502)
    for retry, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 3.0), (8, 3.0)]:
        waits = [policy.delay(retry, error, rng) for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)  # type: ignore[operator]
        assert max(waits) > ceiling * 0.8  # type: ignore[type-var]  # jitter spreads over the whole range


@pytest.mark.parametrize(("error", "failed"), [
    (UpstreamUnavailableError("500", upstream_status=500), True),
    (UpstreamUnavailableError("connection refused"), True),
    (UpstreamTimeoutError("no answer"), True),
    (UpstreamRateLimitError("429", upstream_status=429), False),
    (UpstreamInvalidRequestError("400", upstream_status=400), False),
    (UpstreamAuthError("401", upstream_status=401), False),
])
def test_what_counts_against_a_provider(error: UpstreamUnavailableError, failed: bool) -> None:
    assert is_failure(error) is failed


def test_opens_after_consecutive_failures_then_half_opens_with_one_probe() -> None:
    clock = Clock()
    breaker = Breaker(BreakerConfig(failures=3, cooldown=10), clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record(failed=True)
    breaker.record(failed=False)  # a success resets the run
    for _ in range(3):
        breaker.record(failed=True)
    assert breaker.state == "open" and not breaker.allow()
    assert breaker.retry_in() == 10
    clock.now += 9.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow()  # the probe
    assert breaker.state == "half_open"
    assert not breaker.allow()  # only one at a time
    breaker.record(failed=True)
    assert breaker.state == "open" and breaker.opened == 2
    clock.now += 10
    assert breaker.allow()
    breaker.record(failed=False)
    assert breaker.state == "closed" and breaker.allow() and breaker.allow()


def test_opens_on_error_rate_over_the_window_once_enough_requests_were_made() -> None:
    clock = Clock()
    breaker = Breaker(BreakerConfig(failures=100, error_rate=0.5, window=60, min_requests=10), clock)
    for i in range(9):
        breaker.record(failed=i % 3 != 0)  # 6 of 9 failed, but fewer than 10 requests
    assert breaker.state == "closed"
    breaker.record(failed=True)
    assert breaker.state == "open"


def test_old_requests_leave_the_window() -> None:
    clock = Clock()
    breaker = Breaker(BreakerConfig(failures=100, error_rate=0.5, window=60, min_requests=4), clock)
    for _ in range(3):
        breaker.record(failed=True)
    clock.now += 61
    for _ in range(3):
        breaker.record(failed=False)
    breaker.record(failed=True)
    assert breaker.state == "closed"  # 1 of 4 in the window


def test_breakers_are_per_connection() -> None:
    board = Breakers(BreakerConfig(failures=1))
    board.get("a").record(failed=True)
    assert board.states() == {"a": "open"}
    assert board.get("b").allow()


def test_health_report() -> None:
    book = HealthBook(clock=lambda: 1_700_000_000.0)
    board = Breakers(BreakerConfig(failures=2))
    assert book.report("p", "p", board.get("p")).status == "unknown"
    for ms in range(1, 101):
        book.record("p", "p", float(ms), ok=True)
    healthy = book.report("p", "p", board.get("p"))
    assert (healthy.status, healthy.latency_p50_ms, healthy.latency_p95_ms) == ("healthy", 51.0, 95.0)
    assert healthy.error_rate == 0 and healthy.requests == 100
    for _ in range(20):
        book.record("p", "p", 5.0, ok=False, error="500 from upstream")
    degraded = book.report("p", "p", board.get("p"))
    assert degraded.status == "degraded" and "17% of the last 120 calls failed" == degraded.reason
    assert degraded.last_error == "500 from upstream" and degraded.last_error_at == 1_700_000_000.0
    board.get("p").record(failed=True)
    board.get("p").record(failed=True)
    down = book.report("p", "p", board.get("p"))
    assert down.status == "down" and down.circuit == "open" and "500 from upstream" in down.reason


def test_moving_average_follows_recent_latency() -> None:
    book = HealthBook()
    for _ in range(30):
        book.record("p", "p", 100.0, ok=True)
    for _ in range(30):
        book.record("p", "p", 10.0, ok=True)
    assert book.average_latency("p") == pytest.approx(10.0, abs=0.2)
    assert book.average_latency("nobody") is None


def test_connections_with_the_same_name_keep_apart() -> None:
    book = HealthBook()
    board = Breakers(BreakerConfig(failures=1))
    book.record("credential:a1", "my-openai", 10.0, ok=False, error="500")
    board.get("credential:a1").record(failed=True)
    book.record("credential:b2", "my-openai", 12.0, ok=True)
    assert book.connections() == {"credential:a1": "my-openai", "credential:b2": "my-openai"}
    assert book.report("credential:a1", "my-openai", board.get("credential:a1")).status == "down"
    other = book.report("credential:b2", "my-openai", board.get("credential:b2"))
    assert (other.status, other.provider, other.connection) == ("healthy", "my-openai", "credential:b2")

"""Passive health from live traffic (and active checks when they are on): per provider connection, the
latency of recent calls (p50, p95 and a moving average for least-latency routing), the error rate, the
last error, and a verdict — healthy, degraded or down — with the reason."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

import msgspec

from byway.routing.breaker import Breaker

Verdict = Literal["healthy", "degraded", "down", "unknown"]
SAMPLES = 200  # recent calls kept per provider
EWMA_WEIGHT = 0.2  # how much the newest latency moves the moving average
DEGRADED_ERROR_RATE = 0.1


class Health(msgspec.Struct, kw_only=True):
    provider: str  # the provider's (or credential's) name
    connection: str  # its connection id (see ProviderConfig.connection_id)
    status: Verdict
    reason: str
    requests: int
    errors: int
    error_rate: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_avg_ms: float | None  # the moving average least-latency routing uses
    circuit: str
    last_error: str | None = None
    last_error_at: float | None = None  # unix time
    last_checked_at: float | None = None  # unix time of the last active check
    last_check_ok: bool | None = None  # whether it succeeded


class _Stats:
    __slots__ = ("check_ok", "checked_at", "errors", "ewma", "last_error", "last_error_at", "name", "requests",
                 "samples")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.samples: deque[tuple[float, bool]] = deque(maxlen=SAMPLES)  # (latency ms, ok)
        self.ewma: float | None = None
        self.requests = 0
        self.errors = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.checked_at: float | None = None
        self.check_ok: bool | None = None


class HealthBook:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._stats: dict[str, _Stats] = {}

    def _get(self, connection: str, name: str) -> _Stats:
        stats = self._stats.get(connection)
        if stats is None:
            stats = self._stats[connection] = _Stats(name)
        return stats

    def record(self, connection: str, name: str, latency_ms: float, ok: bool, error: str | None = None) -> None:
        stats = self._get(connection, name)
        stats.samples.append((latency_ms, ok))
        stats.requests += 1
        if ok:
            stats.ewma = latency_ms if stats.ewma is None else stats.ewma + EWMA_WEIGHT * (latency_ms - stats.ewma)
        else:
            stats.errors += 1
            stats.last_error = error
            stats.last_error_at = self._clock()

    def checked(self, connection: str, name: str, ok: bool) -> None:
        stats = self._get(connection, name)
        stats.checked_at = self._clock()
        stats.check_ok = ok

    def average_latency(self, connection: str) -> float | None:
        stats = self._stats.get(connection)
        return stats.ewma if stats else None

    def connections(self) -> dict[str, str]:
        """Every connection with recorded traffic or checks: id -> name."""
        return {connection: stats.name for connection, stats in self._stats.items()}

    def reset(self) -> None:
        self._stats.clear()

    def report(self, connection: str, name: str, breaker: Breaker | None) -> Health:
        stats = self._stats.get(connection) or _Stats(name)
        latencies = sorted(ms for ms, ok in stats.samples if ok)
        recent_errors = sum(1 for _, ok in stats.samples if not ok)
        rate = recent_errors / len(stats.samples) if stats.samples else 0.0
        circuit = breaker.state if breaker is not None else "closed"
        if circuit == "open":
            status: Verdict = "down"
            reason = f"circuit open after repeated failures (last: {stats.last_error})"
        elif circuit == "half_open":
            status, reason = "degraded", "circuit half-open: probing whether the provider recovered"
        elif not stats.samples:
            status, reason = "unknown", "no traffic yet"
        elif rate > DEGRADED_ERROR_RATE:
            status, reason = "degraded", f"{rate:.0%} of the last {len(stats.samples)} calls failed"
        else:
            done = len(stats.samples)
            status, reason = "healthy", f"{done - recent_errors} of the last {done} calls succeeded"
        return Health(provider=name, connection=connection, status=status, reason=reason, requests=stats.requests,
                      errors=stats.errors,
                      error_rate=round(rate, 4), latency_p50_ms=_quantile(latencies, 0.5),
                      latency_p95_ms=_quantile(latencies, 0.95), latency_avg_ms=stats.ewma, circuit=circuit,
                      last_error=stats.last_error, last_error_at=stats.last_error_at,
                      last_checked_at=stats.checked_at, last_check_ok=stats.check_ok)


def _quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 3)

"""Circuit breakers, one per provider connection (a configured provider or a user's credential).

Closed: requests flow; the breaker opens after ``failures`` consecutive failures, or when more than
``error_rate`` of the requests in the last ``window`` seconds failed (once at least ``min_requests``
were made). Open: the target is skipped until ``cooldown`` has passed. Half-open: one request is let
through as a probe; its success closes the breaker, its failure opens it for another cooldown.

A failure is what says the provider is unwell: a 5xx, a timeout, a connection error. An answer that
says the request was wrong (4xx) or too many (429) shows the provider is up.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

import msgspec

from byway.core import ProviderError, UpstreamRateLimitError

State = Literal["closed", "open", "half_open"]


class BreakerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    failures: int = 5
    error_rate: float = 0.5
    window: float = 60.0
    min_requests: int = 20
    cooldown: float = 30.0


def is_failure(error: ProviderError) -> bool:
    """Whether ``error`` counts against the provider's health."""
    if isinstance(error, UpstreamRateLimitError):
        return False
    return error.upstream_status is None or error.upstream_status >= 500


class Breaker:
    __slots__ = ("_buckets", "_clock", "_config", "_consecutive", "_failed", "_opened_at", "_probing", "_total",
                 "opened", "state")

    def __init__(self, config: BreakerConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self.state: State = "closed"
        self._consecutive = 0
        # requests in the window, counted per whole second: [second, requests, failures], with running totals,
        # so recording is O(1) and memory is bounded by the window's length in seconds
        self._buckets: deque[list[int]] = deque()
        self._total = 0
        self._failed = 0
        self._opened_at = 0.0
        self._probing = False
        self.opened = 0  # how many times it opened, for metrics

    def allow(self) -> bool:
        """Whether a request may go to this target now (a half-open breaker lets one probe through)."""
        if self.state == "closed":
            return True
        if self.state == "open":
            if self._clock() - self._opened_at < self._config.cooldown:
                return False
            self.state = "half_open"
            self._probing = False
        if self._probing:
            return False
        self._probing = True
        return True

    def record(self, failed: bool) -> None:
        now = self._clock()
        if self.state == "half_open":
            self._probing = False
            if failed:
                self._open(now)
            else:
                self._close()
            return
        if self.state == "open":
            return  # an answer to a request sent before the breaker opened
        second = int(now)
        buckets = self._buckets
        if buckets and buckets[-1][0] == second:
            bucket = buckets[-1]
        else:
            bucket = [second, 0, 0]
            buckets.append(bucket)
            horizon = now - self._config.window
            while buckets[0][0] < horizon:
                _, requests, failures = buckets.popleft()
                self._total -= requests
                self._failed -= failures
        bucket[1] += 1
        self._total += 1
        if failed:
            bucket[2] += 1
            self._failed += 1
            self._consecutive += 1
        else:
            self._consecutive = 0
        if self._consecutive >= self._config.failures:
            self._open(now)
        elif self._total >= self._config.min_requests and self._failed > self._config.error_rate * self._total:
            self._open(now)

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when it would now)."""
        if self.state != "open":
            return 0.0
        return max(0.0, self._config.cooldown - (self._clock() - self._opened_at))

    def _open(self, now: float) -> None:
        self.state = "open"
        self._opened_at = now
        self._consecutive = 0
        self._forget()
        self.opened += 1

    def _close(self) -> None:
        self.state = "closed"
        self._consecutive = 0
        self._forget()

    def _forget(self) -> None:
        self._buckets.clear()
        self._total = self._failed = 0


class Breakers:
    """The breaker of every provider connection, made on first use."""

    def __init__(self, config: BreakerConfig | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or BreakerConfig()
        self._clock = clock
        self._by_name: dict[str, Breaker] = {}

    def get(self, name: str) -> Breaker:
        breaker = self._by_name.get(name)
        if breaker is None:
            breaker = self._by_name[name] = Breaker(self.config, self._clock)
        return breaker

    def states(self) -> dict[str, State]:
        return {name: b.state for name, b in self._by_name.items()}

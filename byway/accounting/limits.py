"""Rate limits: requests and tokens per minute, over a sliding window of one-second buckets.

``RateLimits`` is what the gate needs from a backend: take one request (and an estimate of its tokens)
from several scopes at once, all or none, or say how long until that would succeed; and correct a
scope's tokens once the real count is known. A scope is a ``Limit`` (its ``rpm`` and ``tpm``; one
with neither is passed over). ``MemoryRateLimits`` keeps the windows in this process;
a shared backend (for several replicas) implements the same two calls.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Protocol

from byway.core.principal import Limit

WINDOW_SECONDS = 60.0


class RateLimits(Protocol):
    def acquire(self, claims: Sequence[Limit], tokens: int, now: float) -> tuple[str, float] | None:
        """Count one request of ``tokens`` against every claim, or none of them: None when admitted, else
        the scope that refused and the seconds until it would admit."""
        ...

    def adjust(self, claims: Sequence[Limit], tokens: int, now: float) -> None:
        """Add ``tokens`` (negative to give back) to the claims' token windows."""
        ...


class _Window:
    """One scope's last minute, in one-second buckets (``[second, requests, tokens]``, oldest first): memory
    stays at most 60 buckets whatever the traffic, and a limit is exact to the second."""

    __slots__ = ("buckets", "requests", "used")

    def __init__(self) -> None:
        self.buckets: deque[list[int]] = deque()
        self.requests = 0
        self.used = 0

    def expire(self, now: float) -> None:
        buckets = self.buckets
        edge = now - WINDOW_SECONDS
        while buckets and buckets[0][0] <= edge:
            _, requests, tokens = buckets.popleft()
            self.requests -= requests
            self.used -= tokens

    def add(self, now: float, requests: int, tokens: int) -> None:
        second = int(now)
        buckets = self.buckets
        if buckets and buckets[-1][0] == second:
            bucket = buckets[-1]
            bucket[1] += requests
            bucket[2] += tokens
        else:
            buckets.append([second, requests, tokens])
        self.requests += requests
        self.used += tokens

    def wait(self, claim: Limit, tokens: int, now: float) -> float | None:
        """Seconds until this window admits one more request of ``tokens``; None: now."""
        if claim.rpm is not None and self.requests >= claim.rpm:
            return self._until(now, 1, self.requests - claim.rpm + 1)
        if claim.tpm is not None and self.used > 0 and self.used + tokens > claim.tpm:
            return self._until(now, 2, self.used + tokens - claim.tpm)
        return None

    def _until(self, now: float, column: int, to_free: int) -> float:
        """When enough of the oldest buckets have left the window to free ``to_free`` of ``column``."""
        freed = 0
        for bucket in self.buckets:
            freed += bucket[column]
            if freed >= to_free:
                return bucket[0] + WINDOW_SECONDS - now
        return WINDOW_SECONDS


class MemoryRateLimits:
    """Sliding windows in this process: exact to the second, and atomic because nothing here awaits."""

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}

    def acquire(self, claims: Sequence[Limit], tokens: int, now: float) -> tuple[str, float] | None:
        windows = []
        for claim in claims:
            if claim.rpm is None and claim.tpm is None:
                continue
            window = self._windows.get(claim.scope)
            if window is None:
                window = self._windows[claim.scope] = _Window()
            window.expire(now)
            wait = window.wait(claim, tokens, now)
            if wait is not None:
                return claim.scope, max(wait, 0.001)
            windows.append((claim, window))
        for claim, window in windows:
            window.add(now, 1, tokens if claim.tpm is not None else 0)
        return None

    def adjust(self, claims: Sequence[Limit], tokens: int, now: float) -> None:
        if not tokens:
            return
        for claim in claims:
            if claim.tpm is None:
                continue
            window = self._windows.get(claim.scope)
            if window is None:
                window = self._windows[claim.scope] = _Window()
            window.add(now, 0, tokens)

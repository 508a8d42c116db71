"""Rate limits: requests and tokens per minute, over a sliding window.

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
    __slots__ = ("requests", "tokens", "used")

    def __init__(self) -> None:
        self.requests: deque[float] = deque()
        self.tokens: deque[tuple[float, int]] = deque()
        self.used = 0

    def expire(self, now: float) -> None:
        edge = now - WINDOW_SECONDS
        requests = self.requests
        while requests and requests[0] <= edge:
            requests.popleft()
        tokens = self.tokens
        while tokens and tokens[0][0] <= edge:
            self.used -= tokens.popleft()[1]

    def wait(self, claim: Limit, tokens: int, now: float) -> float | None:
        """Seconds until this window admits one more request of ``tokens``; None: now."""
        if claim.rpm is not None and len(self.requests) >= claim.rpm:
            # the request that leaves the window first makes room
            return self.requests[len(self.requests) - claim.rpm] + WINDOW_SECONDS - now
        if claim.tpm is not None and self.used > 0 and self.used + tokens > claim.tpm:
            to_free = self.used + tokens - claim.tpm
            freed = 0
            for at, count in self.tokens:
                freed += count
                if freed >= to_free:
                    return at + WINDOW_SECONDS - now
            return WINDOW_SECONDS
        return None


class MemoryRateLimits:
    """Sliding windows in this process: exact, and atomic because nothing here awaits."""

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
            if claim.rpm is not None:
                window.requests.append(now)
            if claim.tpm is not None and tokens:
                window.tokens.append((now, tokens))
                window.used += tokens
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
            window.tokens.append((now, tokens))
            window.used += tokens

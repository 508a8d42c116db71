"""Sliding-window rate limits: N requests a minute, tokens a minute, all scopes or none."""

from __future__ import annotations

import pytest

from byway.accounting.limits import MemoryRateLimits
from byway.core.principal import Limit


def test_n_requests_a_minute_then_the_wait_until_the_first_leaves_the_window() -> None:
    limits = MemoryRateLimits()
    claim = [Limit(scope="key:a", rpm=3, tpm=None)]
    for at in (0.0, 10.0, 20.0):
        assert limits.acquire(claim, 0, at) is None
    assert limits.acquire(claim, 0, 30.0) == ("key:a", pytest.approx(30.0))
    assert limits.acquire(claim, 0, 59.9) == ("key:a", pytest.approx(0.1))
    assert limits.acquire(claim, 0, 60.0) is None  # the request at 0 has left the window
    assert limits.acquire(claim, 0, 61.0) == ("key:a", pytest.approx(9.0))


def test_tokens_a_minute_with_settlement_corrections() -> None:
    limits = MemoryRateLimits()
    claim = [Limit(scope="user:u", rpm=None, tpm=1000)]
    assert limits.acquire(claim, 600, 0.0) is None
    assert limits.acquire(claim, 300, 5.0) is None
    scope, wait = limits.acquire(claim, 200, 6.0)  # 1100 > 1000: wait for the 600 from t=0 to leave
    assert scope == "user:u" and wait == pytest.approx(54.0)
    limits.adjust(claim, -500, 7.0)  # the first request really used 100 tokens
    assert limits.acquire(claim, 200, 8.0) is None


def test_one_request_over_the_token_limit_goes_when_the_window_is_empty() -> None:
    limits = MemoryRateLimits()
    claim = [Limit(scope="key:k", rpm=None, tpm=100)]
    assert limits.acquire(claim, 5000, 0.0) is None
    assert limits.acquire(claim, 1, 1.0) is not None


def test_all_scopes_or_none() -> None:
    limits = MemoryRateLimits()
    user = Limit(scope="user:u", rpm=10, tpm=None)
    key = Limit(scope="key:k", rpm=1, tpm=None)
    assert limits.acquire([user, key], 0, 0.0) is None
    assert limits.acquire([user, key], 0, 1.0) == ("key:k", pytest.approx(59.0))
    # the refused request counted against neither: the user still has 9 left
    other = Limit(scope="key:other", rpm=100, tpm=None)
    for at in range(9):
        assert limits.acquire([user, other], 0, 2.0 + at) is None
    assert limits.acquire([user, other], 0, 20.0) == ("user:u", pytest.approx(40.0))


def test_a_busy_scope_keeps_one_bucket_a_second_not_one_entry_a_request() -> None:
    limits = MemoryRateLimits()
    claim = [Limit(scope="key:busy", rpm=10**9, tpm=10**12)]
    for n in range(100_000):  # a thousand requests a second for 100 seconds
        at = n / 1000
        assert limits.acquire(claim, 30, at) is None
        limits.adjust(claim, -10, at)
    window = limits._windows["key:busy"]
    assert len(window.buckets) <= 61
    assert window.requests == 60_000 and window.used == 60_000 * 20  # exactly the last minute's

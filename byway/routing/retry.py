"""How long to wait before trying the same target again: exponential backoff with full jitter, or what
the provider asked for (``retry-after`` / ``retry-after-ms``) when it asked, up to a cap."""

from __future__ import annotations

import random

import msgspec

from byway.core import ProviderError


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    base_delay: float = 0.25  # seconds before the first retry, doubled for each later one
    max_delay: float = 8.0  # the backoff never waits longer than this
    max_wait: float = 30.0  # a provider's retry-after above this is not waited for: the next target is tried

    def delay(self, retry: int, error: ProviderError, rng: random.Random | None = None) -> float | None:
        """Seconds to wait before retry number ``retry`` (0 for the first) after ``error``; None when the
        provider asks for a longer wait than ``max_wait``."""
        asked = getattr(error, "retry_after", None)
        if asked is not None:
            return float(asked) if asked <= self.max_wait else None
        ceiling = min(self.max_delay, self.base_delay * (2 ** retry))
        return (rng or random).uniform(0, ceiling)

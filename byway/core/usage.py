"""Token usage, normalised across providers."""

from __future__ import annotations

from decimal import Decimal

import msgspec

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """What a text of ``text`` comes to in tokens when nobody counted: about four characters a token
    (rounded up) for the tokenizers in use. Everything that estimates usage uses this one rule."""
    return -(-len(text) // CHARS_PER_TOKEN)


class Usage(msgspec.Struct):
    """Tokens of one exchange.

    ``input_tokens`` is the whole prompt, cached and cache-written tokens
    included; ``cached_tokens`` and ``cache_write_tokens`` are the parts of it
    read from and written to the provider's prompt cache. ``output_tokens`` is
    everything generated, ``reasoning_tokens`` included. ``provider_cost`` is
    the price the provider itself reported (OpenRouter does), if any.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    provider_cost: Decimal | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def merge(self, other: Usage) -> Usage:
        """Combine a partial report with a later one: later non-zero figures win."""
        return Usage(
            input_tokens=other.input_tokens or self.input_tokens,
            output_tokens=other.output_tokens or self.output_tokens,
            cached_tokens=other.cached_tokens or self.cached_tokens,
            cache_write_tokens=other.cache_write_tokens or self.cache_write_tokens,
            reasoning_tokens=other.reasoning_tokens or self.reasoning_tokens,
            provider_cost=other.provider_cost if other.provider_cost is not None else self.provider_cost,
        )

"""What a request cost: genai-prices as the catalogue, config and credential overrides on top.

Looking a model up in genai-prices and running its generic calculator costs
hundreds of microseconds, so the looked-up price is cached per (provider,
model) and flat per-token prices are applied here with ``Decimal`` arithmetic,
exactly as the catalogue would; tiered prices go through the catalogue's own
calculator.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import msgspec
from genai_prices import Usage as CatalogueUsage
from genai_prices import data_snapshot

from byway.core import Usage
from byway.providers.config import ModelPrice, ProviderConfig, ProviderType

_MILLION = Decimal(1_000_000)
_CACHE_SECONDS = 3600.0

# Our provider type -> the catalogue's provider id (None: let the catalogue guess from the model).
_CATALOGUE_IDS: dict[ProviderType, str | None] = {
    ProviderType.OPENAI: "openai", ProviderType.AZURE: "azure", ProviderType.ANTHROPIC: "anthropic",
    ProviderType.GEMINI: "google", ProviderType.VERTEX: "google", ProviderType.BEDROCK: "aws",
    ProviderType.MISTRAL: "mistral", ProviderType.GROQ: "groq", ProviderType.TOGETHER: "together",
    ProviderType.COHERE: "cohere", ProviderType.XAI: "x-ai", ProviderType.OPENROUTER: "openrouter",
    ProviderType.HUGGINGFACE: None, ProviderType.OLLAMA: None, ProviderType.DEEPSEEK: "deepseek",
    ProviderType.FIREWORKS: "fireworks", ProviderType.OPENAI_COMPATIBLE: None,
}


class Rates(msgspec.Struct, frozen=True):
    """USD per 1M tokens. ``tiered`` rates can't be applied flat: the catalogue prices those."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    tiered: object | None = None  # the catalogue's ModelPrice when any price is tiered


def _flat(value: object) -> Decimal | None:
    return value if isinstance(value, Decimal) or value is None else None


class PriceBook:
    """Answers "what did this cost" for a provider and model; ``None`` when nobody knows."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[float, Rates | None]] = {}

    def rates(self, provider: ProviderConfig, model: str) -> Rates | None:
        if provider.prices and model in provider.prices:
            p: ModelPrice = provider.prices[model]
            return Rates(input=p.input, output=p.output, cached_input=p.cached_input, cache_write=p.cache_write)
        key = (provider.provider_type.value, model)
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        rates = _lookup(provider.provider_type, model)
        self._cache[key] = (now + _CACHE_SECONDS, rates)
        return rates

    def cost(self, provider: ProviderConfig, model: str, usage: Usage) -> Decimal | None:
        """The exact cost of ``usage``; the provider's own figure when it reported one and no
        override is configured."""
        if usage.provider_cost is not None and not (provider.prices and model in provider.prices):
            return usage.provider_cost * provider.cost_multiplier
        rates = self.rates(provider, model)
        if rates is None:
            return None
        return apply_rates(rates, usage) * provider.cost_multiplier


def apply_rates(rates: Rates, usage: Usage) -> Decimal:
    if rates.tiered is not None:
        calc = rates.tiered.calc_price(_catalogue_usage(usage))  # type: ignore[attr-defined]
        return calc["total_price"]
    cached = usage.cached_tokens
    written = usage.cache_write_tokens
    fresh = usage.input_tokens - cached - written
    total = Decimal(fresh) * rates.input + Decimal(usage.output_tokens) * rates.output
    if cached:
        total += Decimal(cached) * (rates.cached_input if rates.cached_input is not None else rates.input)
    if written:
        total += Decimal(written) * (rates.cache_write if rates.cache_write is not None else rates.input)
    return total / _MILLION


def _catalogue_usage(usage: Usage) -> CatalogueUsage:
    return CatalogueUsage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                          cache_read_tokens=usage.cached_tokens or None,
                          cache_write_tokens=usage.cache_write_tokens or None)


def _lookup(provider_type: ProviderType, model: str) -> Rates | None:
    snapshot = data_snapshot.get_snapshot()
    try:
        _, found = snapshot.find_provider_model(model, None, _CATALOGUE_IDS.get(provider_type), None)
    except LookupError:
        return None
    price = found.get_prices(datetime.now(tz=UTC))
    values = (price.input_mtok, price.output_mtok, price.cache_read_mtok, price.cache_write_mtok)
    if any(v is not None and _flat(v) is None for v in values):
        return Rates(input=Decimal(0), output=Decimal(0), tiered=price)
    return Rates(input=price.input_mtok or Decimal(0), output=price.output_mtok or Decimal(0),
                 cached_input=price.cache_read_mtok, cache_write=price.cache_write_mtok)

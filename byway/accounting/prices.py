"""What a request cost: genai-prices as the catalogue, config and credential overrides on top.

Looking a model up in genai-prices and running its generic calculator costs
hundreds of microseconds, so the looked-up price is cached per (provider,
model) and flat per-token prices are applied here with ``Decimal`` arithmetic,
exactly as the catalogue would; so are tiered prices (the tier the prompt
size falls in, for every token of the call, as the catalogue's tiers work).
Prices the flat rates cannot state -- a fee per request, a price of its own
for reasoning tokens -- go through the catalogue's own calculator.

A cached price is kept until the catalogue's next price change for that model
(a dated price starting, DeepSeek's off-peak hours beginning or ending), and an
hour at most, so a cost is always the price in force when it is computed.

Our ``Usage`` maps onto the catalogue's as every provider's usage extractor in
genai-prices does: ``input_tokens`` is the whole prompt (cache reads and writes
are parts of it), ``output_tokens`` everything generated (reasoning is a part
of it, priced apart only where the catalogue gives reasoning a price).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from typing import Any

import msgspec
from genai_prices import Usage as CatalogueUsage
from genai_prices import data_snapshot
from genai_prices.types import ModelInfo, StartDateConstraint, TieredPrices, TimeOfDateConstraint
from genai_prices.types import ModelPrice as CataloguePrice

from byway.core import Usage
from byway.providers.config import ModelPrice, ProviderConfig, ProviderType

_MILLION = Decimal(1_000_000)
_CACHE_SECONDS = 3600.0
_NO_LOOKUP = "-"  # a provider type whose models no catalogue entry describes

# Our provider type -> the catalogue's provider id (None: let the catalogue guess from the model name).
# Ollama runs models locally: a hosted vendor's price for a model of the same name would be wrong, so its
# models are priced only by the config's ``prices``.
_CATALOGUE_IDS: dict[ProviderType, str | None] = {
    ProviderType.OPENAI: "openai", ProviderType.AZURE: "azure", ProviderType.ANTHROPIC: "anthropic",
    ProviderType.GEMINI: "google", ProviderType.VERTEX: "google", ProviderType.BEDROCK: "aws",
    ProviderType.MISTRAL: "mistral", ProviderType.GROQ: "groq", ProviderType.TOGETHER: "together",
    ProviderType.COHERE: "cohere", ProviderType.XAI: "x-ai", ProviderType.OPENROUTER: "openrouter",
    ProviderType.HUGGINGFACE: None, ProviderType.OLLAMA: _NO_LOOKUP, ProviderType.DEEPSEEK: "deepseek",
    ProviderType.FIREWORKS: "fireworks", ProviderType.OPENAI_COMPATIBLE: None,
}

# The catalogue's price keys the flat rates apply exactly. Other keys price usage Byway never reports
# (audio, images, web searches, 1-hour cache writes), which the catalogue counts as zero too -- except these:
_TIER_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
_FLAT_KEYS = frozenset(_TIER_KEYS)
_CALCULATOR_KEYS = frozenset({"output_reasoning_mtok", "requests_kcount"})


class Rates(msgspec.Struct, frozen=True):
    """USD per 1M tokens.

    ``catalogue`` is the catalogue's own price when the four rates alone don't say it: tiers by prompt size
    (``tiers``: the input, output, cache read and cache write prices, each flat or tiered), or a fee per
    request or a reasoning price (the catalogue's calculator applies those). The four rates then hold the
    highest price any tier reaches -- an upper bound, for estimates and comparisons -- while ``apply_rates``
    charges the tier the usage falls in.
    """

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    catalogue: CataloguePrice | None = None
    tiers: tuple[Decimal | TieredPrices | None, ...] | None = None  # only tiers: applied here, no calculator


class _Cached(msgspec.Struct, frozen=True):
    since: float  # unix seconds: the rates hold from here...
    until: float  # ...to here
    rates: Rates | None


class PriceBook:
    """Answers "what did this cost" for a provider and model; ``None`` when nobody knows."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], _Cached] = {}

    def rates(self, provider: ProviderConfig, model: str, at: float | None = None) -> Rates | None:
        """The rates in force at ``at`` (unix seconds; now by default)."""
        if provider.prices and model in provider.prices:
            p: ModelPrice = provider.prices[model]
            return Rates(input=p.input, output=p.output, cached_input=p.cached_input, cache_write=p.cache_write)
        now = time.time() if at is None else at
        key = (provider.provider_type.value, model)
        hit = self._cache.get(key)
        if hit is not None and hit.since <= now < hit.until:
            return hit.rates
        rates, until = _lookup(provider.provider_type, model, now)
        self._cache[key] = _Cached(now, until, rates)
        return rates

    def cost(self, provider: ProviderConfig, model: str, usage: Usage, at: float | None = None) -> Decimal | None:
        """The exact cost of ``usage`` at ``at`` (unix seconds; now by default); the provider's own figure
        when it reported one and no override is configured; ``None`` when the price is unknown."""
        if usage.provider_cost is not None and not (provider.prices and model in provider.prices):
            return usage.provider_cost * provider.cost_multiplier
        rates = self.rates(provider, model, at)
        if rates is None:
            return None
        return apply_rates(rates, usage) * provider.cost_multiplier


def apply_rates(rates: Rates, usage: Usage) -> Decimal:
    if rates.catalogue is not None:
        if rates.tiers is None:
            return rates.catalogue.calc_price(catalogue_usage(usage))["total_price"]
        rates = _tier_for(rates.tiers, max(usage.input_tokens, usage.cached_tokens + usage.cache_write_tokens))
    cached = usage.cached_tokens
    written = usage.cache_write_tokens
    fresh = max(usage.input_tokens - cached - written, 0)
    total = Decimal(fresh) * rates.input + Decimal(usage.output_tokens) * rates.output
    if cached:
        total += Decimal(cached) * (rates.cached_input if rates.cached_input is not None else rates.input)
    if written:
        total += Decimal(written) * (rates.cache_write if rates.cache_write is not None else rates.input)
    return total / _MILLION


def catalogue_usage(usage: Usage) -> CatalogueUsage:
    """Our usage as genai-prices counts it (its totals never smaller than their parts, which it refuses)."""
    return CatalogueUsage(
        input_tokens=max(usage.input_tokens, usage.cached_tokens + usage.cache_write_tokens),
        output_tokens=max(usage.output_tokens, usage.reasoning_tokens),
        cache_read_tokens=usage.cached_tokens or None, cache_write_tokens=usage.cache_write_tokens or None,
        output_reasoning_tokens=usage.reasoning_tokens or None)


def _lookup(provider_type: ProviderType, model: str, now: float) -> tuple[Rates | None, float]:
    """The rates at ``now`` and until when they hold."""
    catalogue_id = _CATALOGUE_IDS.get(provider_type)
    horizon = now + _CACHE_SECONDS
    if catalogue_id == _NO_LOOKUP:
        return None, horizon
    try:
        _, found = data_snapshot.get_snapshot().find_provider_model(model, None, catalogue_id, None)
    except LookupError:
        return None, horizon
    moment = datetime.fromtimestamp(now, tz=UTC)
    return _rates_of(found.get_prices(moment)), min(horizon, _next_change(found, moment))


def _rates_of(price: CataloguePrice) -> Rates | None:
    values: dict[str, Any] = {k: v for k, v in vars(price).items() if v is not None and not k.startswith("_")}
    tokens = (values.get("input_mtok"), values.get("output_mtok"))
    if values and tokens == (None, None):
        return None  # priced only in units Byway does not meter (audio hours, characters, pages)
    flat = {k: v for k, v in values.items() if k in _FLAT_KEYS}
    tiered = any(isinstance(v, TieredPrices) for v in flat.values())
    calculator = bool(_CALCULATOR_KEYS & values.keys())
    if tiered or calculator:
        return Rates(input=_ceiling(flat.get("input_mtok")), output=_ceiling(flat.get("output_mtok")),
                     cached_input=_ceiling_or_none(flat.get("cache_read_mtok")),
                     cache_write=_ceiling_or_none(flat.get("cache_write_mtok")), catalogue=price,
                     tiers=None if calculator else tuple(flat.get(k) for k in _TIER_KEYS))
    return Rates(input=flat.get("input_mtok") or Decimal(0), output=flat.get("output_mtok") or Decimal(0),
                 cached_input=flat.get("cache_read_mtok"), cache_write=flat.get("cache_write_mtok"))


def _tier_for(tiers: tuple[Decimal | TieredPrices | None, ...], prompt_tokens: int) -> Rates:
    """The flat rates of the tier a prompt of ``prompt_tokens`` falls in: the last tier whose start it exceeds."""
    def pick(value: Decimal | TieredPrices | None) -> Decimal | None:
        if not isinstance(value, TieredPrices):
            return value
        for tier in reversed(value.tiers):
            if prompt_tokens > tier.start:
                return tier.price
        return value.base

    input_price, output_price, cache_read, cache_write = (pick(v) for v in tiers)
    return Rates(input=input_price or Decimal(0), output=output_price or Decimal(0), cached_input=cache_read,
                 cache_write=cache_write)


def _ceiling(value: Decimal | TieredPrices | None) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, TieredPrices):
        return max([value.base, *(tier.price for tier in value.tiers)])
    return value


def _ceiling_or_none(value: Decimal | TieredPrices | None) -> Decimal | None:
    return None if value is None else _ceiling(value)


def _next_change(model: ModelInfo, moment: datetime) -> float:
    """When the model's price next changes after ``moment`` (unix seconds; infinity when it never does)."""
    if not isinstance(model.prices, list):
        return float("inf")
    changes: list[datetime] = []
    for conditional in model.prices:
        constraint = conditional.constraint
        if isinstance(constraint, StartDateConstraint):
            changes.append(_midnight(constraint.start_date))
        elif isinstance(constraint, TimeOfDateConstraint):
            for day in (moment.date(), moment.date() + timedelta(days=1)):
                changes += [_at(day, constraint.start_time), _at(day, constraint.end_time)]
    later = [c for c in changes if c > moment]
    return min(later).timestamp() if later else float("inf")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _at(day: date, moment: clock) -> datetime:
    zone = moment.tzinfo or UTC
    return datetime.combine(day, moment.replace(tzinfo=None), tzinfo=zone).astimezone(UTC)

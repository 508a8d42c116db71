from decimal import Decimal

import pytest
from genai_prices import Usage as CatalogueUsage
from genai_prices import calc_price

from byway.accounting.prices import _CATALOGUE_IDS, PriceBook
from byway.core import Usage
from byway.providers.config import ModelPrice, ProviderConfig, ProviderType


@pytest.mark.parametrize(("ptype", "model", "usage"), [
    ("openai", "gpt-4o-mini", Usage(1000, 500, cached_tokens=200)),
    ("openai", "o3-mini", Usage(12345, 6789, reasoning_tokens=5000)),
    ("anthropic", "claude-3-5-haiku-latest", Usage(3000, 500, cached_tokens=1000, cache_write_tokens=500)),
    ("groq", "llama-3.3-70b-versatile", Usage(77, 3)),
    ("deepseek", "deepseek-chat", Usage(5000, 100, cached_tokens=4000)),
    ("gemini", "gemini-2.5-pro", Usage(300_000, 100)),  # tiered: above 200k input tokens
])
def test_cost_equals_the_catalogue_to_the_last_digit(ptype, model, usage):
    provider = ProviderConfig(provider_type=ProviderType(ptype))
    ours = PriceBook().cost(provider, model, usage)
    reference = calc_price(
        CatalogueUsage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                       cache_read_tokens=usage.cached_tokens or None,
                       cache_write_tokens=usage.cache_write_tokens or None),
        model, provider_id=_CATALOGUE_IDS[provider.provider_type]).total_price
    assert isinstance(ours, Decimal)
    assert ours == reference


def test_config_prices_override_and_multiplier():
    provider = ProviderConfig(provider_type=ProviderType.OPENAI, cost_multiplier=1.5, prices={
        "gpt-4o-mini": ModelPrice(input=Decimal("1"), output=Decimal("2"), cached_input=Decimal("0.5"))})
    cost = PriceBook().cost(provider, "gpt-4o-mini", Usage(1_000_000, 500_000, cached_tokens=200_000))
    # 800k fresh * $1 + 200k cached * $0.5 + 500k out * $2, per 1M, times 1.5
    assert cost == Decimal("2.85")


def test_provider_reported_cost_and_unknown_models():
    book = PriceBook()
    provider = ProviderConfig(provider_type=ProviderType.OPENROUTER)
    assert book.cost(provider, "openai/gpt-4o-mini", Usage(10, 10, provider_cost=Decimal("0.0000123"))) == \
        Decimal("0.0000123")
    local = ProviderConfig(provider_type=ProviderType.OLLAMA)
    assert book.cost(local, "my-own-finetune-xyz", Usage(10, 10)) is None

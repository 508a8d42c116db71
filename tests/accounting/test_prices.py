"""The price book: overrides win (config ``prices``, a credential's price, the multiplier), a provider's own
reported cost is used, unknown prices stay unknown, and catalogue prices are applied exactly as genai-prices
applies them, at the moment of the call (tiers, a separate reasoning price, dated and time-of-day prices)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from genai_prices import Usage as CatalogueUsage
from genai_prices import calc_price

from byway.accounting.prices import PriceBook, apply_rates, catalogue_usage
from byway.accounts.provider import credential_price
from byway.core import Usage
from byway.engine import Engine
from byway.providers.config import ModelPrice, ProviderConfig, ProviderType

MILLION = Decimal(1_000_000)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def catalogue(usage: Usage, model: str, provider_id: str, when: float | None = None) -> Decimal:
    moment = datetime.fromtimestamp(when, tz=UTC) if when is not None else None
    return calc_price(catalogue_usage(usage), model, provider_id=provider_id,
                      genai_request_timestamp=moment).total_price


# --- overrides ------------------------------------------------------------------------------------------------


def test_config_prices_win_over_the_catalogue_with_cached_input_and_cache_write() -> None:
    price = ModelPrice(input=Decimal("1"), output=Decimal("5"), cached_input=Decimal("0.1"),
                       cache_write=Decimal("1.25"))
    provider = ProviderConfig(provider_type=ProviderType.ANTHROPIC, prices={"claude-3-5-haiku-latest": price})
    usage = Usage(input_tokens=10_000, output_tokens=1_000, cached_tokens=6_000, cache_write_tokens=2_000)
    # 2,000 fresh x $1 + 6,000 read x $0.1 + 2,000 written x $1.25 + 1,000 out x $5, per 1M tokens
    assert PriceBook().cost(provider, "claude-3-5-haiku-latest", usage) == Decimal("0.0101")
    catalogue_price = catalogue(usage, "claude-3-5-haiku-latest", "anthropic")
    assert catalogue_price != Decimal("0.0101")
    # another model of the same provider still comes from the catalogue
    other = Usage(input_tokens=3_000, output_tokens=200)
    assert PriceBook().cost(provider, "claude-sonnet-4-20250514", other) == \
        catalogue(other, "claude-sonnet-4-20250514", "anthropic")


def test_an_override_without_cache_prices_bills_cached_tokens_at_the_input_price() -> None:
    provider = ProviderConfig(provider_type=ProviderType.OPENAI,
                              prices={"gpt-4o": ModelPrice(input=Decimal("2"), output=Decimal("8"))})
    usage = Usage(input_tokens=4_000, output_tokens=1_000, cached_tokens=3_000)
    assert PriceBook().cost(provider, "gpt-4o", usage) == Decimal("0.016")  # (4,000 x 2 + 1,000 x 8) / 1M


def test_a_credentials_price_per_1k_prices_every_model_it_serves() -> None:
    provider = ProviderConfig(provider_type=ProviderType.OPENAI, name="mine")
    provider.prices = credential_price(Decimal("0.003"), Decimal("0.015"))  # type: ignore[assignment]
    book = PriceBook()
    usage = Usage(input_tokens=1_234, output_tokens=567, cached_tokens=1_024)
    expected = (Decimal(1_234) * Decimal("0.003") + Decimal(567) * Decimal("0.015")) / 1_000
    assert expected == Decimal("0.012207")
    assert book.cost(provider, "gpt-4o-mini", usage) == expected  # not the catalogue's gpt-4o-mini price
    assert book.cost(provider, "a-model-no-catalogue-knows", usage) == expected
    assert credential_price(Decimal("0.003"), None) is None  # half a price is no price


def test_the_cost_multiplier_scales_every_source_of_price() -> None:
    usage = Usage(input_tokens=10_000, output_tokens=2_000, cached_tokens=4_096)
    book = PriceBook()
    scaled = ProviderConfig(provider_type=ProviderType.OPENAI, cost_multiplier=Decimal("1.2"))
    assert book.cost(scaled, "gpt-4o-mini", usage) == catalogue(usage, "gpt-4o-mini", "openai") * Decimal("1.2")
    overridden = ProviderConfig(provider_type=ProviderType.OPENAI, cost_multiplier=1.5,  # type: ignore[arg-type]
                                prices={"gpt-4o-mini": ModelPrice(input=Decimal("1"), output=Decimal("2"),
                                                                  cached_input=Decimal("0.5"))})
    # (5,904 x $1 + 4,096 x $0.5 + 2,000 x $2) / 1M x 1.5
    assert book.cost(overridden, "gpt-4o-mini", usage) == Decimal("0.017928")
    reported = Usage(input_tokens=10, output_tokens=10, provider_cost=Decimal("0.0000123"))
    router = ProviderConfig(provider_type=ProviderType.OPENROUTER, cost_multiplier=Decimal("2"))
    assert book.cost(router, "openai/gpt-4o-mini", reported) == Decimal("0.0000246")


def test_a_reported_provider_cost_is_used_unless_a_price_is_configured() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=0, provider_cost=Decimal("0.000417"))
    router = ProviderConfig(provider_type=ProviderType.OPENROUTER)
    assert PriceBook().cost(router, "openai/gpt-4o-mini", usage) == Decimal("0.000417")
    priced = ProviderConfig(provider_type=ProviderType.OPENROUTER,
                            prices={"openai/gpt-4o-mini": ModelPrice(input=Decimal("0.2"), output=Decimal("0.8"))})
    assert PriceBook().cost(priced, "openai/gpt-4o-mini", usage) == Decimal("0.2")


# --- unknown and free ----------------------------------------------------------------------------------------


def test_an_unknown_price_is_none_never_zero() -> None:
    book = PriceBook()
    usage = Usage(input_tokens=100, output_tokens=100)
    assert book.cost(ProviderConfig(provider_type=ProviderType.OPENAI), "gpt-nobody-knows", usage) is None
    compatible = ProviderConfig(provider_type=ProviderType.OPENAI_COMPATIBLE)
    assert book.cost(compatible, "my-own-finetune-xyz", usage) is None
    # priced in audio hours only: our tokens cannot be priced with that
    assert book.cost(ProviderConfig(provider_type=ProviderType.OPENAI), "whisper-1", usage) is None
    assert book.rates(ProviderConfig(provider_type=ProviderType.OPENAI), "whisper-1") is None


def test_local_ollama_models_are_not_priced_as_a_hosted_vendors_model_of_the_same_name() -> None:
    book = PriceBook()
    usage = Usage(input_tokens=1_000, output_tokens=1_000)
    local = ProviderConfig(provider_type=ProviderType.OLLAMA)
    # the catalogue would match "deepseek-r1" to DeepSeek's hosted API; a local 8B distillation is not that
    assert book.cost(local, "deepseek-r1:8b", usage) is None
    priced = ProviderConfig(provider_type=ProviderType.OLLAMA,
                            prices={"deepseek-r1:8b": ModelPrice(input=Decimal("0.01"), output=Decimal("0.02"))})
    assert book.cost(priced, "deepseek-r1:8b", usage) == Decimal("0.00003")


def test_a_model_the_catalogue_lists_as_free_costs_exactly_zero() -> None:
    provider = ProviderConfig(provider_type=ProviderType.OPENROUTER)
    cost = PriceBook().cost(provider, "meta-llama/llama-3.3-70b-instruct:free", Usage(5_000, 700))
    assert cost == Decimal(0) and cost is not None


# --- catalogue prices beyond flat rates -----------------------------------------------------------------------


def test_tiered_rates_give_their_ceiling_and_charge_the_tier_the_prompt_falls_in() -> None:
    book = PriceBook()
    provider = ProviderConfig(provider_type=ProviderType.GEMINI)
    rates = book.rates(provider, "gemini-2.5-pro")
    assert rates is not None and rates.catalogue is not None
    assert (rates.input, rates.output, rates.cached_input) == (Decimal("2.5"), Decimal("15"), Decimal("0.25"))
    small, large = Usage(100_000, 1_000, reasoning_tokens=400), Usage(300_000, 1_000, reasoning_tokens=400)
    assert apply_rates(rates, small) == (Decimal(100_000) * Decimal("1.25") + Decimal(1_000) * 10) / MILLION
    assert apply_rates(rates, large) == (Decimal(300_000) * Decimal("2.5") + Decimal(1_000) * 15) / MILLION
    # what the cheapest-route strategy compares is never zero for a tiered model
    engine = Engine([provider])
    assert engine._typical_price(provider, "gemini-2.5-pro") == Decimal("17.5")


def test_a_separate_reasoning_price_is_charged_as_the_catalogue_charges_it() -> None:
    provider = ProviderConfig(provider_type=ProviderType.OPENROUTER)
    usage = Usage(input_tokens=1_000, output_tokens=500, reasoning_tokens=300)
    cost = PriceBook().cost(provider, "perplexity/sonar-deep-research", usage)
    # 1,000 in x $2 + 200 visible out x $8 + 300 reasoning x $3, per 1M
    assert cost == Decimal("0.0045")
    reference = calc_price(CatalogueUsage(input_tokens=1_000, output_tokens=500, output_reasoning_tokens=300),
                           "perplexity/sonar-deep-research", provider_id="openrouter").total_price
    assert cost == reference


def test_time_of_day_prices_follow_the_clock_through_the_cache() -> None:
    """DeepSeek's off-peak discount: the cached price must not outlive the window it came from."""
    book = PriceBook()
    provider = ProviderConfig(provider_type=ProviderType.DEEPSEEK)
    usage = Usage(input_tokens=5_000, output_tokens=300, cached_tokens=4_096)
    moments = ["2026-11-20T16:29:59", "2026-11-20T16:30:00", "2026-11-20T16:29:59", "2026-11-21T00:29:59",
               "2026-11-21T00:30:00", "2026-11-21T12:00:00"]
    costs = [book.cost(provider, "deepseek-chat", usage, at=at(m)) for m in moments]
    assert costs == [catalogue(usage, "deepseek-chat", "deepseek", at(m)) for m in moments]
    peak = (Decimal(904) * Decimal("0.27") + Decimal(4_096) * Decimal("0.07") + Decimal(300) * Decimal("1.1")) / MILLION
    off_peak = (Decimal(904) * Decimal("0.135") + Decimal(4_096) * Decimal("0.035")
                + Decimal(300) * Decimal("0.55")) / MILLION
    assert costs == [peak, off_peak, peak, off_peak, peak, peak]


def test_a_dated_price_change_takes_effect_at_midnight_utc_through_the_cache() -> None:
    book = PriceBook()
    provider = ProviderConfig(provider_type=ProviderType.ANTHROPIC)
    usage = Usage(input_tokens=250_000, output_tokens=1_000)
    before = book.cost(provider, "claude-sonnet-4-6", usage, at=at("2026-03-12T23:59:59"))
    after = book.cost(provider, "claude-sonnet-4-6", usage, at=at("2026-03-13T00:00:00"))
    assert before == catalogue(usage, "claude-sonnet-4-6", "anthropic", at("2026-03-12T23:59:59"))
    assert after == catalogue(usage, "claude-sonnet-4-6", "anthropic", at("2026-03-13T00:00:00"))
    assert before == (Decimal(250_000) * 6 + Decimal(1_000) * Decimal("22.5")) / MILLION  # the long-context tier
    assert after == (Decimal(250_000) * 3 + Decimal(1_000) * 15) / MILLION  # one flat price from that day


def test_inconsistent_counts_are_priced_not_refused() -> None:
    """A provider reporting more cached tokens than prompt tokens still gets a cost (never an exception on the
    request path): the prompt is taken to be at least its parts."""
    book = PriceBook()
    odd = Usage(input_tokens=100, output_tokens=10, cached_tokens=150)
    flat = book.cost(ProviderConfig(provider_type=ProviderType.OPENAI), "gpt-4o-mini", odd)
    assert flat == (Decimal(150) * Decimal("0.075") + Decimal(10) * Decimal("0.6")) / MILLION
    tiered = book.cost(ProviderConfig(provider_type=ProviderType.GEMINI), "gemini-2.5-pro", odd)
    assert tiered == (Decimal(150) * Decimal("0.125") + Decimal(10) * 10) / MILLION


def test_tiers_applied_without_the_calculator_match_it_at_and_around_every_threshold() -> None:
    """Tiered prices are applied by the price book itself (the catalogue's calculator is ten times slower); at,
    just below and just above each threshold, with cache reads and writes and reasoning, the two agree."""
    cases = [(ProviderType.GEMINI, "gemini-2.5-pro", "google", 200_000),
             (ProviderType.ANTHROPIC, "claude-sonnet-4-5", "anthropic", 200_000),
             (ProviderType.OPENAI, "gpt-5.4", "openai", 272_000),
             (ProviderType.XAI, "grok-4.20", "x-ai", 199_999)]
    book = PriceBook()
    for provider_type, model, provider_id, threshold in cases:
        provider = ProviderConfig(provider_type=provider_type)
        rates = book.rates(provider, model)
        assert rates is not None and rates.tiers is not None
        costs: dict[int, Decimal | None] = {}
        for prompt in (1_000, threshold - 1, threshold, threshold + 1, threshold * 3):
            usage = Usage(input_tokens=prompt, output_tokens=3_333, cached_tokens=prompt // 2,
                          cache_write_tokens=prompt // 5 if provider_type is ProviderType.ANTHROPIC else 0,
                          reasoning_tokens=1_111)
            costs[prompt] = book.cost(provider, model, usage)
            assert costs[prompt] == catalogue(usage, model, provider_id), (model, prompt)
        below, above = costs[threshold], costs[threshold + 1]
        assert below is not None and above is not None and above > below * Decimal("1.3")  # one token, next tier

"""Ordering a pooled route's targets."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

from byway.providers.config import ProviderConfig
from byway.routing.health import HealthBook
from byway.routing.strategies import Strategies
from byway.routing.targets import Target


def target(name: str, model: str = "m", weight: float = 1.0) -> Target:
    return Target(ProviderConfig(provider_type="openai", name=name, weight=weight), model)  # type: ignore[arg-type]


def test_weighted_three_to_one_over_400_requests() -> None:
    strategies = Strategies(HealthBook(), rng=random.Random(2026))
    heavy, light = target("heavy", weight=3), target("light", weight=1)
    firsts = Counter(strategies.order("r", "weighted", [heavy, light])[0].provider.name for _ in range(400))
    # binomial(400, 0.75): mean 300, standard deviation 8.7; 3.5 deviations either side
    assert 270 <= firsts["heavy"] <= 330
    assert firsts["heavy"] + firsts["light"] == 400


def test_weighted_keeps_every_target_as_fallback_and_zero_weight_last() -> None:
    strategies = Strategies(HealthBook(), rng=random.Random(1))
    targets = [target("a", weight=0), target("b"), target("c")]
    for _ in range(50):
        ordered = strategies.order("r", "weighted", targets)
        assert sorted(t.provider.name for t in ordered) == ["a", "b", "c"]
        assert ordered[-1].provider.name == "a"


def test_round_robin_rotates_per_route() -> None:
    strategies = Strategies(HealthBook())
    targets = [target("a"), target("b"), target("c")]
    firsts = [strategies.order("r1", "round_robin", targets)[0].provider.name for _ in range(4)]
    assert firsts == ["a", "b", "c", "a"]
    assert strategies.order("r2", "round_robin", targets)[0].provider.name == "a"
    assert [t.provider.name for t in strategies.order("r1", "round_robin", targets)] == ["b", "c", "a"]


def test_least_latency_prefers_the_fast_and_measures_the_unknown_first() -> None:
    health = HealthBook()
    for _ in range(10):
        health.record("slow", "slow", 300.0, ok=True)
        health.record("fast", "fast", 20.0, ok=True)
    strategies = Strategies(health)
    names = [t.provider.name for t in strategies.order("r", "least_latency",
                                                       [target("slow"), target("fast"), target("new")])]
    assert names == ["new", "fast", "slow"]


def test_cheapest_by_price_with_unpriced_last() -> None:
    prices = {"mini": Decimal("0.75"), "big": Decimal("12.5")}
    strategies = Strategies(HealthBook(), price_of=lambda provider, model: prices.get(model))
    ordered = strategies.order("r", "cheapest", [target("a", "big"), target("b", "unknown"), target("c", "mini")])
    assert [t.model for t in ordered] == ["mini", "big", "unknown"]

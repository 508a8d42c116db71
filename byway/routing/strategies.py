"""Ordering a pooled route's targets for one request: the first is tried first, the rest are the fallback
chain in the same order.

- ``weighted``: drawn at random in proportion to each provider's ``weight`` (without replacement).
- ``round_robin``: each request starts one further along the list.
- ``least_latency``: by the moving average of recent latency (targets with no measurement yet first, so
  they get measured).
- ``cheapest``: by the catalogue (or configured) price of a typical exchange; unpriced targets last.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from decimal import Decimal

from byway.providers.config import ProviderConfig
from byway.routing.health import HealthBook
from byway.routing.targets import Target

PriceOf = Callable[[ProviderConfig, str], Decimal | None]
_UNPRICED = Decimal("Infinity")


class Strategies:
    def __init__(self, health: HealthBook, price_of: PriceOf | None = None,
                 rng: random.Random | None = None) -> None:
        self.health = health
        self.price_of = price_of
        self.rng = rng or random.Random()
        self._turns: dict[str, itertools.count[int]] = {}

    def order(self, route: str, strategy: str, targets: list[Target]) -> list[Target]:
        if len(targets) < 2:
            return targets
        if strategy == "weighted":
            return self._weighted(targets)
        if strategy == "round_robin":
            turn = next(self._turns.setdefault(route, itertools.count())) % len(targets)
            return targets[turn:] + targets[:turn]
        if strategy == "least_latency":
            return sorted(targets, key=lambda t: self.health.average_latency(t.provider.connection_id) or 0.0)
        if strategy == "cheapest":
            return sorted(targets, key=self._price)
        raise ValueError(f"unknown routing strategy {strategy!r}")

    def _weighted(self, targets: list[Target]) -> list[Target]:
        # Efraimidis-Spirakis: sort by u ** (1 / weight), largest first; a weight of 0 goes last.
        def key(target: Target) -> float:
            weight = target.provider.weight
            return self.rng.random() ** (1.0 / weight) if weight > 0 else -1.0

        return sorted(targets, key=key, reverse=True)

    def _price(self, target: Target) -> Decimal:
        price = self.price_of(target.provider, target.model) if self.price_of else None
        return _UNPRICED if price is None else price

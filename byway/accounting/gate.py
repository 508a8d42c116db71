"""The gate in front of the provider call: rate limits and budget reservations.

``Gate.open`` admits a request for its caller (the user's and the key's requests- and tokens-per-minute)
and hands back a ``Pass``. The failover loop calls ``Pass.enter(provider, model)`` before each target it
tries — the target's own rate limit, and a reservation of the worst case at that target's prices against
every budget that applies (the user's, the key's, the credential's or config provider's) — and
``leave()`` when the target failed. The engine settles the pass with the real usage and cost, or
releases it. Every limit and budget is a ``Limit``: the caller's come with its principal, a provider's
are made once and kept.
"""

from __future__ import annotations

import time
from decimal import Decimal

from byway.accounting.budgets import Budgets, Reservation
from byway.accounting.estimate import prompt_tokens
from byway.accounting.limits import MemoryRateLimits, RateLimits
from byway.accounting.prices import PriceBook
from byway.core import BudgetExceededError, ChatRequest, RateLimitError, Usage
from byway.core.principal import Limit, Principal
from byway.providers.config import ProviderConfig

DEFAULT_MAX_OUTPUT_TOKENS = 4096
_NONE: tuple[Limit, ...] = ()
_ZERO = Decimal(0)


def scope_of(provider: ProviderConfig) -> str:
    """The budget and rate-limit scope of a provider connection: a stored credential's, or a config
    provider's by name."""
    connection = provider.connection_id
    return connection if connection.startswith("credential:") else "provider:" + provider.name


class Gate:
    def __init__(self, prices: PriceBook, limits: RateLimits | None = None, budgets: Budgets | None = None,
                 default_max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS) -> None:
        self.prices = prices
        self.limits = limits or MemoryRateLimits()
        self.budgets = budgets or Budgets()
        self.default_max_output_tokens = default_max_output_tokens
        self._providers: dict[str, Limit] = {}

    def open(self, principal: Principal, request: ChatRequest | None = None, *, prompt: int | None = None,
             max_output: int | None = None) -> Pass:
        """A pass for one request; raises ``RateLimitError`` when the caller's own limits refuse it.
        ``prompt``: the prompt's tokens when known without ``request`` (embeddings)."""
        admission = Pass(self, principal, request, prompt, max_output)
        limits = principal.limits
        if limits:
            tpm = False
            rates = False
            for limit in limits:
                if limit.tpm is not None:
                    tpm = rates = True
                elif limit.rpm is not None:
                    rates = True
            if rates:
                charged = admission.prompt if tpm else 0
                refused = self.limits.acquire(limits, charged, time.monotonic())
                if refused is not None:
                    raise _rate_limited(*refused)
                admission.rate_claims = limits
                admission.charged = charged
        return admission

    def provider_limit(self, provider: ProviderConfig) -> Limit | None:
        """The provider connection's own limits and budget as a ``Limit`` (None: it has none)."""
        if provider.rpm_limit is None and provider.tpm_limit is None and provider.monthly_budget is None:
            return None
        scope = scope_of(provider)
        known = self._providers.get(scope)
        if known is None or (known.rpm, known.tpm, known.monthly_budget, known.owner) != \
                (provider.rpm_limit, provider.tpm_limit, provider.monthly_budget, provider.owner):
            known = self._providers[scope] = Limit(scope=scope, rpm=provider.rpm_limit, tpm=provider.tpm_limit,
                                                   monthly_budget=provider.monthly_budget, owner=provider.owner)
        return known


class Pass:
    """One request's admission: what it charged to rate limits and holds against budgets."""

    __slots__ = ("_max_output", "_prompt", "charged", "gate", "principal", "rate_claims", "request", "reservation",
                 "target_rates")

    def __init__(self, gate: Gate, principal: Principal, request: ChatRequest | None, prompt: int | None,
                 max_output: int | None) -> None:
        self.gate = gate
        self.principal = principal
        self.request = request
        self._prompt = prompt
        self._max_output = max_output
        self.rate_claims: tuple[Limit, ...] = _NONE
        self.target_rates: tuple[Limit, ...] = _NONE
        self.reservation: Reservation | None = None
        self.charged = 0  # tokens charged to the token limits so far (the prompt's estimate)

    @property
    def prompt(self) -> int:
        """The prompt's estimated tokens (worked out once, when first needed)."""
        if self._prompt is None:
            self._prompt = prompt_tokens(self.request) if self.request is not None else 0
        return self._prompt

    @property
    def max_output(self) -> int:
        if self._max_output is None:
            asked = self.request.max_tokens if self.request is not None else None
            self._max_output = asked if asked is not None else self.gate.default_max_output_tokens
        return self._max_output

    def enter(self, provider: ProviderConfig, model: str) -> None:
        """Admit the request to ``model`` on ``provider``: raises ``BudgetExceededError`` or
        ``RateLimitError`` naming what refused, and then the failover loop moves on to the next target."""
        gate = self.gate
        own = gate.provider_limit(provider)
        budgets: tuple[Limit, ...] = tuple(x for x in self.principal.limits if x.monthly_budget is not None)
        if own is not None and own.monthly_budget is not None:
            budgets += (own,)
        if budgets:
            worst = gate.prices.cost(provider, model, Usage(input_tokens=self.prompt, output_tokens=self.max_output))
            held = gate.budgets.reserve(budgets, worst or _ZERO)
            if isinstance(held, Limit):
                raise _over_budget(gate.budgets, held, worst)
            self.reservation = held
        if own is not None and (own.rpm is not None or own.tpm is not None):
            tokens = self.prompt if own.tpm is not None else 0
            refused = gate.limits.acquire((own,), tokens, time.monotonic())
            if refused is not None:
                self.leave()
                raise _rate_limited(*refused)
            self.target_rates = (own,)
            self.charged = max(self.charged, tokens)

    def leave(self) -> None:
        """The target failed: give back what was reserved for it."""
        if self.reservation is not None:
            self.gate.budgets.release(self.reservation)
            self.reservation = None
        self.target_rates = _NONE

    def settle(self, usage: Usage, cost: Decimal | None) -> None:
        """The request is over: book its real cost, and correct the token windows to its real tokens."""
        if self.reservation is not None:
            self.gate.budgets.settle(self.reservation, cost)
            self.reservation = None
        if self.charged or self.rate_claims or self.target_rates:
            claims = self.rate_claims + self.target_rates
            self.gate.limits.adjust(claims, usage.total_tokens - self.charged, time.monotonic())

    def release(self) -> None:
        """The request failed everywhere: nothing was spent."""
        self.leave()


def _rate_limited(scope: str, wait: float) -> RateLimitError:
    return RateLimitError(f"rate limit of {scope} reached; retry in {wait:.1f} s", retry_after=wait)


def _over_budget(budgets: Budgets, limit: Limit, worst: Decimal | None) -> BudgetExceededError:
    spent = budgets.spent(limit.scope)
    cost = f"; this request may cost up to {worst:.6f} USD" if worst else ""
    return BudgetExceededError(f"the monthly budget of {limit.scope} ({limit.monthly_budget} USD) is exhausted: "
                               f"{spent:.6f} USD spent this month{cost}")

"""The gate in front of the provider call: rate limits and budget reservations.

``Gate.open`` admits a request for its caller (the user's and the key's requests- and tokens-per-minute)
and hands back a ``Pass``. The failover loop calls ``Pass.enter(provider, model)`` before each target it tries —
the target's own rate limit, and a reservation of the worst case at that target's prices against every
budget that applies (the user's, the key's, the credential's or config provider's) — and ``leave()``
when the target failed. The engine settles the pass with the real usage and cost, or releases it.
"""

from __future__ import annotations

import time
from decimal import Decimal

from byway.accounting.budgets import BudgetClaim, Budgets, Reservation
from byway.accounting.estimate import prompt_tokens
from byway.accounting.limits import MemoryRateLimits, RateClaim, RateLimits
from byway.accounting.prices import PriceBook
from byway.core import BudgetExceededError, ChatRequest, RateLimitError, Usage
from byway.core.principal import Principal
from byway.providers.config import ProviderConfig

DEFAULT_MAX_OUTPUT_TOKENS = 4096
_NO_RATES: tuple[RateClaim, ...] = ()


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

    def open(self, principal: Principal, request: ChatRequest | None = None, *, prompt: int | None = None,
             max_output: int | None = None) -> Pass:
        """A pass for one request; raises ``RateLimitError`` when the caller's own limits refuse it.
        ``prompt``: the prompt's tokens when known without ``request`` (embeddings)."""
        admission = Pass(self, principal, request, prompt, max_output)
        claims = tuple(RateClaim(limit.scope, limit.rpm, limit.tpm) for limit in principal.limits
                       if limit.rpm is not None or limit.tpm is not None)
        if claims:
            admission.rate_claims = claims
            charged = admission.prompt if any(c.tpm is not None for c in claims) else 0
            refused = self.limits.acquire(claims, charged, time.monotonic())
            if refused is not None:
                raise _rate_limited(*refused)
            admission.charged = charged
        return admission


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
        self.rate_claims: tuple[RateClaim, ...] = _NO_RATES
        self.target_rates: tuple[RateClaim, ...] = _NO_RATES
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
        claims = [BudgetClaim(limit.scope, limit.monthly_budget, limit.alert_percent, limit.owner)
                  for limit in self.principal.limits if limit.monthly_budget is not None]
        scope = None
        if provider.monthly_budget is not None:
            scope = scope_of(provider)
            claims.append(BudgetClaim(scope, provider.monthly_budget, owner=self.principal.user_id))
        gate = self.gate
        if claims:
            worst = gate.prices.cost(provider, model, Usage(input_tokens=self.prompt,
                                                                   output_tokens=self.max_output))
            held = gate.budgets.reserve(claims, worst or Decimal(0))
            if isinstance(held, BudgetClaim):
                raise _over_budget(gate.budgets, held, worst)
            self.reservation = held
        if provider.rpm_limit is not None or provider.tpm_limit is not None:
            rates = (RateClaim(scope or scope_of(provider), provider.rpm_limit, provider.tpm_limit),)
            tokens = self.prompt if provider.tpm_limit is not None else 0
            refused = gate.limits.acquire(rates, tokens, time.monotonic())
            if refused is not None:
                self.leave()
                raise _rate_limited(*refused)
            self.target_rates = rates
            self.charged = max(self.charged, tokens)

    def leave(self) -> None:
        """The target failed: give back what was reserved for it."""
        if self.reservation is not None:
            self.gate.budgets.release(self.reservation)
            self.reservation = None
        self.target_rates = _NO_RATES

    def settle(self, usage: Usage, cost: Decimal | None) -> None:
        """The request is over: book its real cost, and correct the token windows to its real tokens."""
        if self.reservation is not None:
            self.gate.budgets.settle(self.reservation, cost)
            self.reservation = None
        claims = self.rate_claims + self.target_rates
        if claims:
            self.gate.limits.adjust(claims, usage.total_tokens - self.charged, time.monotonic())

    def release(self) -> None:
        """The request failed everywhere: nothing was spent."""
        self.leave()


def _rate_limited(scope: str, wait: float) -> RateLimitError:
    return RateLimitError(f"rate limit of {scope} reached; retry in {wait:.1f} s", retry_after=wait)


def _over_budget(budgets: Budgets, claim: BudgetClaim, worst: Decimal | None) -> BudgetExceededError:
    spent = budgets.spent(claim.scope)
    cost = f"; this request may cost up to {worst:.6f} USD" if worst else ""
    return BudgetExceededError(f"the monthly budget of {claim.scope} ({claim.budget} USD) is exhausted: "
                               f"{spent:.6f} USD spent this month{cost}")

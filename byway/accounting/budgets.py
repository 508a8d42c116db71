"""Monthly budgets (UTC calendar months): reserve the worst case before a call, settle to the real cost
after it, so concurrent requests cannot spend past a budget between them.

A reservation is taken against every budget that applies to a request at once, or against none: a
request is admitted when, for each budget, what is spent plus what is reserved plus this request's worst
case stays within it. Nothing here awaits, so in one process that check and the booking are one step.
When a settlement carries spend across the owner's alert threshold, ``on_alert`` hears it once per budget
and month. A budget is a ``Limit`` with a ``monthly_budget`` (one without is passed over).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal

import msgspec

from byway.core.periods import period_of
from byway.core.principal import Limit

_ZERO = Decimal(0)


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    scope: str
    period: str  # YYYY-MM, UTC
    user_id: str | None
    percent: int
    spent: Decimal
    budget: Decimal
    at: float  # unix seconds


class BudgetState(msgspec.Struct, frozen=True, kw_only=True):
    scope: str
    period: str
    budget: Decimal
    spent: Decimal
    reserved: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent - self.reserved


class Reservation:
    """What one request holds against its budgets until it settles (or is released)."""

    __slots__ = ("amount", "claims", "open")

    def __init__(self, claims: list[Limit], amount: Decimal) -> None:
        self.claims = claims
        self.amount = amount
        self.open = True


class Budgets:
    """The spend and reservations of the current month, per scope, in this process (loaded from the
    usage records at start)."""

    def __init__(self, on_alert: Callable[[Alert], None] | None = None) -> None:
        self.on_alert = on_alert
        self._spent: dict[str, Decimal] = {}
        self._reserved: dict[str, Decimal] = {}
        self._budgets: dict[str, Decimal] = {}  # the budget each scope was last seen with
        self._alerted: set[str] = set()
        self.period, self._period_end = period_of(time.time())

    def _roll(self, now: float) -> None:
        if now >= self._period_end:
            self.period, self._period_end = period_of(now)
            self._spent = {}
            self._alerted = set()

    def load(self, spent: dict[str, Decimal], alerted: set[str], period: str) -> None:
        """Start from what the usage records say was spent this month, and the alerts already raised."""
        self._roll(time.time())
        if period == self.period:
            for scope, amount in spent.items():
                self._spent[scope] = self._spent.get(scope, _ZERO) + amount
            self._alerted |= alerted

    def reserve(self, limits: Sequence[Limit], amount: Decimal, now: float | None = None) -> Reservation | Limit:
        """Reserve ``amount`` against the budget of every limit that has one, or refuse: then the limit
        whose budget is in the way."""
        self._roll(time.time() if now is None else now)
        spent = self._spent
        reserved = self._reserved
        claims = []
        for limit in limits:
            budget = limit.monthly_budget
            if budget is None:
                continue
            held = spent.get(limit.scope, _ZERO) + reserved.get(limit.scope, _ZERO)
            if held >= budget or held + amount > budget:
                return limit
            claims.append(limit)
        for limit in claims:
            scope = limit.scope
            reserved[scope] = reserved.get(scope, _ZERO) + amount
            self._budgets[scope] = limit.monthly_budget  # type: ignore[assignment]
        return Reservation(claims, amount)

    def settle(self, reservation: Reservation, cost: Decimal | None, now: float | None = None) -> None:
        """Replace the reservation with what the request really cost (None: unknown, nothing is booked)."""
        if not reservation.open:
            return
        reservation.open = False
        now = time.time() if now is None else now
        self._roll(now)
        reserved = self._reserved
        for limit in reservation.claims:
            scope = limit.scope
            reserved[scope] -= reservation.amount
            if not cost:
                continue
            before = self._spent.get(scope, _ZERO)
            after = self._spent[scope] = before + cost
            if scope in self._alerted:
                continue
            budget: Decimal = limit.monthly_budget  # type: ignore[assignment]
            threshold = budget * limit.alert_percent / 100
            if before < threshold <= after:
                self._alerted.add(scope)
                if self.on_alert is not None:
                    self.on_alert(Alert(scope=scope, period=self.period, user_id=limit.owner,
                                        percent=limit.alert_percent, spent=after, budget=budget, at=now))

    def release(self, reservation: Reservation) -> None:
        self.settle(reservation, None)

    def spent(self, scope: str) -> Decimal:
        self._roll(time.time())
        return self._spent.get(scope, _ZERO)

    def snapshot(self) -> list[BudgetState]:
        self._roll(time.time())
        return [BudgetState(scope=scope, period=self.period, budget=budget, spent=self._spent.get(scope, _ZERO),
                            reserved=self._reserved.get(scope, _ZERO)) for scope, budget in self._budgets.items()]

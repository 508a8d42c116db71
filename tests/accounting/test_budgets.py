"""Budgets: reserve the worst case against every budget at once, settle to the real cost, alert once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from byway.accounting.budgets import Alert, Budgets, Reservation
from byway.core.periods import month_range, period_of
from byway.core.principal import Limit


def test_reservations_hold_the_budget_until_they_settle() -> None:
    budgets = Budgets()
    claim = [Limit(scope="key:k", monthly_budget=Decimal("1.00"))]
    held = [budgets.reserve(claim, Decimal("0.30")) for _ in range(4)]
    assert [isinstance(h, Reservation) for h in held] == [True, True, True, False]
    assert held[3] == claim[0]
    budgets.settle(held[0], Decimal("0.05"))  # it cost less than its worst case: the rest comes back
    assert isinstance(budgets.reserve(claim, Decimal("0.30")), Reservation)
    [state] = budgets.snapshot()
    assert (state.spent, state.reserved, state.remaining) == (Decimal("0.05"), Decimal("0.90"), Decimal("0.05"))


def test_one_budget_in_the_way_refuses_and_books_nothing_anywhere() -> None:
    budgets = Budgets()
    user = Limit(scope="user:u", monthly_budget=Decimal("10"))
    key = Limit(scope="key:k", monthly_budget=Decimal("0.10"))
    assert budgets.reserve([user, key], Decimal("0.20")) == key
    budgets.reserve([user], Decimal("1"))
    states = {s.scope: s for s in budgets.snapshot()}
    assert states["user:u"].reserved == Decimal("1")
    assert "key:k" not in states


def test_an_exhausted_budget_refuses_even_a_request_of_unknown_price() -> None:
    budgets = Budgets()
    claim = [Limit(scope="provider:oa", monthly_budget=Decimal("0.5"))]
    held = budgets.reserve(claim, Decimal("0.5"))
    assert isinstance(held, Reservation)
    budgets.settle(held, Decimal("0.5"))
    assert budgets.reserve(claim, Decimal(0)) == claim[0]


def test_release_and_a_second_settlement_book_nothing() -> None:
    budgets = Budgets()
    claim = [Limit(scope="key:k", monthly_budget=Decimal("1"))]
    held = budgets.reserve(claim, Decimal("0.4"))
    assert isinstance(held, Reservation)
    budgets.release(held)
    budgets.settle(held, Decimal("0.4"))
    assert budgets.spent("key:k") == 0
    assert budgets.snapshot()[0].reserved == 0


def test_crossing_the_alert_threshold_alerts_once_per_month() -> None:
    alerts: list[Alert] = []
    budgets = Budgets(on_alert=alerts.append)
    claim = [Limit(scope="user:u", monthly_budget=Decimal("10"), alert_percent=50, owner="u")]
    for cost in ("3", "1.99", "0.02", "2"):
        held = budgets.reserve(claim, Decimal(0))
        assert isinstance(held, Reservation)
        budgets.settle(held, Decimal(cost))
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.scope, alert.user_id, alert.percent, alert.spent, alert.budget) == \
        ("user:u", "u", 50, Decimal("5.01"), Decimal("10"))
    assert alert.period == budgets.period


def test_spend_loaded_at_start_counts_and_known_alerts_are_not_raised_again() -> None:
    alerts: list[Alert] = []
    budgets = Budgets(on_alert=alerts.append)
    budgets.load({"user:u": Decimal("7")}, {"user:u"}, budgets.period)
    claim = [Limit(scope="user:u", monthly_budget=Decimal("10"), alert_percent=80, owner="u")]
    assert budgets.reserve(claim, Decimal("3.01")) == claim[0]
    held = budgets.reserve(claim, Decimal("2"))
    assert isinstance(held, Reservation)
    budgets.settle(held, Decimal("2"))
    assert alerts == [] and budgets.spent("user:u") == Decimal("9")
    budgets.load({"user:u": Decimal("100")}, set(), "1999-01")  # another month's figures are not this one's
    assert budgets.spent("user:u") == Decimal("9")


def test_months_are_utc_calendar_months() -> None:
    assert period_of(1704067199.0)[0] == "2023-12"  # 2023-12-31T23:59:59Z
    period, end = period_of(1704067200.0)
    assert period == "2024-01" and end == 1706745600.0  # 2024-02-01T00:00:00Z
    assert period_of(1733011200.0 - 1)[1] == 1733011200.0  # the last second of November 2024
    start, end = month_range("2024-12")
    assert (start.isoformat(), end.isoformat()) == ("2024-12-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00")
    for bad in ("2024-13", "2024-00", "0000-01", "2024-1", "24-01", "2024-01-01", " 2024-01"):
        with pytest.raises(ValueError):
            month_range(bad)

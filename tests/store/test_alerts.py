"""Budget alerts on SQLite and PostgreSQL: stored once per budget and month, listed per owner newest first,
marked delivered."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from byway.accounting.budgets import Alert
from byway.store import ADMIN, As, Store


def alert(scope: str, period: str = "2025-03", *, user_id: str | None = "usr_ada", percent: int = 80,
          spent: str = "8.0000000001", budget: str = "10", at: str = "2025-03-14T09:26:53.25") -> Alert:
    return Alert(scope=scope, period=period, user_id=user_id, percent=percent, spent=Decimal(spent),
                 budget=Decimal(budget), at=datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp())


async def test_an_alert_is_stored_once_per_scope_and_month(store: Store) -> None:
    first = await store.alerts.insert(alert("user:usr_ada"))
    assert first is not None and first.id.startswith("alert_")
    assert (first.scope, first.period, first.user_id, first.percent) == ("user:usr_ada", "2025-03", "usr_ada", 80)
    assert first.spent == Decimal("8.0000000001") and first.budget == Decimal(10)
    assert first.created_at == datetime(2025, 3, 14, 9, 26, 53, 250000, tzinfo=UTC) and first.delivered_at is None

    again = await store.alerts.insert(alert("user:usr_ada", spent="9.5", at="2025-03-20T00:00:00"))
    assert again is None  # already alerted this month: nothing stored, nothing changed
    [kept] = await store.alerts.list(ADMIN)
    assert kept == first and kept.spent == Decimal("8.0000000001")

    april = await store.alerts.insert(alert("user:usr_ada", "2025-04", at="2025-04-02T00:00:00"))
    other = await store.alerts.insert(alert("key:key_ada"))
    assert april is not None and other is not None
    assert len(await store.alerts.list(ADMIN)) == 3
    assert await store.alerts.scopes_alerted("2025-03") == {"user:usr_ada", "key:key_ada"}
    assert await store.alerts.scopes_alerted("2025-04") == {"user:usr_ada"}
    assert await store.alerts.scopes_alerted("2025-05") == set()


async def test_members_see_their_own_alerts_newest_first(store: Store) -> None:
    await store.alerts.insert(alert("user:usr_ada", at="2025-03-01T10:00:00"))
    await store.alerts.insert(alert("credential:cred_ada", at="2025-03-05T10:00:00", percent=90))
    await store.alerts.insert(alert("user:usr_bob", user_id="usr_bob", at="2025-03-03T10:00:00"))
    await store.alerts.insert(alert("provider:oa", user_id=None, budget="100", at="2025-03-04T10:00:00"))
    await store.alerts.insert(alert("user:usr_ada", "2025-02", at="2025-02-27T10:00:00"))

    ada = await store.alerts.list(As("member", "usr_ada"))
    assert [(a.scope, a.period) for a in ada] == [("credential:cred_ada", "2025-03"), ("user:usr_ada", "2025-03"),
                                                 ("user:usr_ada", "2025-02")]
    assert [a.scope for a in await store.alerts.list(As("member", "usr_ada"), "2025-02")] == ["user:usr_ada"]
    assert [a.scope for a in await store.alerts.list(As("member", "usr_bob"))] == ["user:usr_bob"]
    assert await store.alerts.list(As("member", None)) == []
    everyone = await store.alerts.list(ADMIN, "2025-03")
    assert [a.scope for a in everyone] == ["credential:cred_ada", "provider:oa", "user:usr_bob", "user:usr_ada"]
    assert everyone[1].user_id is None and everyone[1].budget == Decimal(100)


async def test_marking_an_alert_delivered(store: Store) -> None:
    stored = await store.alerts.insert(alert("user:usr_ada"))
    assert stored is not None
    when = datetime(2025, 3, 14, 9, 27, tzinfo=UTC)
    assert await store.alerts.mark_delivered(stored.id, when) is True
    [found] = await store.alerts.list(ADMIN)
    assert found.delivered_at == when
    assert await store.alerts.mark_delivered("alert_nope") is False

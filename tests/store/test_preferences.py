"""Preferences: defaults until saved, replaced whole, private to their user."""

from __future__ import annotations

import pytest

from byway.store import ADMIN, As, MissingError, Preferences, Store


async def test_defaults_until_saved_then_exactly_what_was_saved(store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    me = As("member", ada.id)
    defaults = await store.preferences.get(me, ada.id)
    assert defaults == Preferences()
    assert defaults is not None and defaults.quota_alert_percent == 80 and defaults.store_conversation_history is False
    wanted = Preferences(default_provider="oa", fallback_provider="an", preferred_models=["oa:gpt-4o-mini", "smart"],
                         auto_switch_provider=True, max_tokens_per_request=4096, quota_alert_percent=95,
                         store_conversation_history=True)
    assert await store.preferences.put(me, ada.id, wanted) is True
    assert await store.preferences.get(me, ada.id) == wanted
    assert await store.preferences.put(me, ada.id, Preferences(quota_alert_percent=10)) is True
    assert await store.preferences.get(me, ada.id) == Preferences(quota_alert_percent=10)
    assert await store.preferences.load_all() == {ada.id: Preferences(quota_alert_percent=10)}


async def test_members_cannot_read_or_write_anyone_elses(store: Store) -> None:
    a = await store.users.create("a@example.com")
    b = await store.users.create("b@example.com")
    await store.preferences.put(As("member", b.id), b.id, Preferences(default_provider="theirs"))
    member_a = As("member", a.id)
    assert await store.preferences.get(member_a, b.id) is None
    assert await store.preferences.put(member_a, b.id, Preferences(default_provider="hijacked")) is False
    assert await store.preferences.get(As("member", None), b.id) is None
    theirs = await store.preferences.get(ADMIN, b.id)
    assert theirs is not None and theirs.default_provider == "theirs"


async def test_values_are_checked_and_the_user_must_exist(store: Store) -> None:
    with pytest.raises(ValueError, match="quota_alert_percent"):
        Preferences(quota_alert_percent=101)
    with pytest.raises(ValueError, match="max_tokens_per_request"):
        Preferences(max_tokens_per_request=0)
    with pytest.raises(MissingError):
        await store.preferences.put(ADMIN, "usr_nobody", Preferences())

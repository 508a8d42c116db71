"""The audit log: who did what, newest first, never a secret."""

from __future__ import annotations

from datetime import UTC, datetime

from byway.store import ADMIN, As, Store
from byway.store.audit import redact


async def test_entries_come_back_newest_first_with_their_details(store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    before = datetime.now(UTC)
    await store.audit.record(ADMIN, "user.create", "user", ada.id, {"email": ada.email, "role": "member"})
    await store.audit.record(As("member", ada.id), "key.create", "key", "key_1", {"name": "ci"})
    await store.audit.record(As("member", ada.id), "key.revoke", "key", "key_1")
    entries = await store.audit.list(ADMIN)
    assert [(e.action, e.actor, e.object_id) for e in entries] == [
        ("key.revoke", ada.id, "key_1"), ("key.create", ada.id, "key_1"), ("user.create", "master", ada.id)]
    assert entries[2].detail == {"email": "ada@example.com", "role": "member"}
    assert entries[0].detail is None
    assert all(e.at.tzinfo is UTC and e.at >= before for e in entries)
    assert [e.action for e in await store.audit.list(ADMIN, object_type="user")] == ["user.create"]
    assert [e.action for e in await store.audit.list(ADMIN, object_id="key_1", limit=1)] == ["key.revoke"]
    assert [e.action for e in await store.audit.list(ADMIN, limit=1, offset=1)] == ["key.create"]


async def test_members_see_only_what_they_did(store: Store) -> None:
    a = await store.users.create("a@example.com")
    b = await store.users.create("b@example.com")
    await store.audit.record(As("member", a.id), "credential.create", "credential", "cred_a")
    await store.audit.record(As("member", b.id), "credential.create", "credential", "cred_b")
    assert [e.object_id for e in await store.audit.list(As("member", a.id))] == ["cred_a"]
    assert len(await store.audit.list(ADMIN)) == 2


async def test_secret_values_never_reach_the_log(store: Store) -> None:
    detail = {"name": "prod", "api_key": "sk-proj-abcdef0123456789", "key_hint": "sk-p…6789",
              "nested": {"aws_secret_access_key": "wJalrXUtnFEMI", "aws_session_token": "FQoGZXIvYXdz",
                         "region": "us-east-1"},
              "fields": [{"password": "hunter2"}, {"credentials_json": "{...}"}], "max_tokens": 100}
    await store.audit.record(ADMIN, "credential.create", "credential", "cred_1", detail)
    (entry,) = await store.audit.list(ADMIN)
    assert entry.detail == {"name": "prod", "api_key": "***", "key_hint": "sk-p…6789",
                            "nested": {"aws_secret_access_key": "***", "aws_session_token": "***",
                                       "region": "us-east-1"},
                            "fields": [{"password": "***"}, {"credentials_json": "***"}], "max_tokens": 100}
    assert redact({"master_key": "x", "Authorization": "Bearer y", "key_id": "key_1"}) == {
        "master_key": "***", "Authorization": "***", "key_id": "key_1"}

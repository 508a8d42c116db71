"""Users and gateway keys through the management API, and what a key then does on /v1."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from byway.accounts.errors import Unprocessable
from byway.accounts.inputs import UserChange, UserInput
from byway.store import ADMIN
from byway.store.keys import hash_key
from tests.accounts.conftest import Gateway


async def test_first_start_makes_the_owner_admin(gateway: Gateway) -> None:
    users = (await gateway.call("GET", "/api/users")).json()["data"]
    assert [(u["email"], u["role"]) for u in users] == [("admin@localhost", "admin")]
    assert gateway.accounts.owner_id == users[0]["id"]
    audit = await gateway.accounts.store.audit.list(ADMIN, object_type="user")
    assert audit[0].detail == {"email": "admin@localhost", "role": "admin", "first_start": True}


async def test_users_are_created_listed_changed_and_deleted_by_admins(gateway: Gateway) -> None:
    made = await gateway.call("POST", "/api/users", json={"email": " Ada@Example.com ", "role": "member",
                                                           "password": "correct horse", "monthly_budget": "25.50"})
    assert made.status_code == 201
    ada = made.json()
    assert ada["email"] == "ada@example.com" and ada["role"] == "member" and ada["monthly_budget"] == "25.5"
    assert ada["id"].startswith("usr_") and ada["is_active"] is True and "password" not in ada
    assert await gateway.accounts.store.users.authenticate("ada@example.com", "correct horse") is not None
    duplicate = await gateway.call("POST", "/api/users", json={"email": "ada@example.com"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["param"] == "email"
    listed = (await gateway.call("GET", "/api/users")).json()["data"]
    assert {u["email"] for u in listed} == {"admin@localhost", "ada@example.com"}
    changed = await gateway.call("PATCH", f"/api/users/{ada['id']}", json={"role": "admin", "monthly_budget": None})
    assert changed.status_code == 200 and changed.json()["role"] == "admin" and changed.json()["monthly_budget"] is None
    assert (await gateway.call("DELETE", f"/api/users/{ada['id']}")).status_code == 204
    assert (await gateway.call("GET", f"/api/users/{ada['id']}")).status_code == 404
    actions = [e.action for e in await gateway.accounts.store.audit.list(ADMIN, object_id=ada["id"])]
    assert actions == ["user.delete", "user.update", "user.create"]


async def test_admins_set_and_clear_a_users_rate_limits(gateway: Gateway) -> None:
    made = await gateway.call("POST", "/api/users", json={"email": "ada@example.com", "rpm_limit": 60,
                                                           "tpm_limit": 120000})
    assert made.status_code == 201
    ada = made.json()
    assert (ada["rpm_limit"], ada["tpm_limit"]) == (60, 120000)
    plain = (await gateway.call("POST", "/api/users", json={"email": "bob@example.com"})).json()
    assert (plain["rpm_limit"], plain["tpm_limit"]) == (None, None)
    changed = await gateway.call("PATCH", f"/api/users/{ada['id']}", json={"rpm_limit": 5})
    assert changed.status_code == 200 and (changed.json()["rpm_limit"], changed.json()["tpm_limit"]) == (5, 120000)
    cleared = await gateway.call("PATCH", f"/api/users/{ada['id']}", json={"tpm_limit": None})
    assert (cleared.json()["rpm_limit"], cleared.json()["tpm_limit"]) == (5, None)
    shown = (await gateway.call("GET", f"/api/users/{ada['id']}")).json()
    assert (shown["rpm_limit"], shown["tpm_limit"]) == (5, None)
    listed = {u["email"]: (u["rpm_limit"], u["tpm_limit"]) for u in (await gateway.call("GET", "/api/users")).json()
              ["data"]}
    assert listed == {"admin@localhost": (None, None), "ada@example.com": (5, None), "bob@example.com": (None, None)}
    audit = await gateway.accounts.store.audit.list(ADMIN, object_id=ada["id"])
    assert [e.detail for e in audit if e.action == "user.update"] == [{"fields": ["tpm_limit"]},
                                                                      {"fields": ["rpm_limit"]}]


async def test_rate_limits_of_0_or_less_are_422_naming_the_field(gateway: Gateway) -> None:
    ada = (await gateway.call("POST", "/api/users", json={"email": "ada@example.com", "rpm_limit": 3})).json()
    for field in ("rpm_limit", "tpm_limit"):
        for value in (0, -5, 1.5, "10"):
            for method, path, body in [("POST", "/api/users", {"email": "x@example.com", field: value}),
                                       ("PATCH", f"/api/users/{ada['id']}", {field: value})]:
                answer = await gateway.call(method, path, json=body)
                assert answer.status_code == 422, (method, body, answer.text)
                error = answer.json()["error"]
                assert error["param"] == field and error["type"] == "invalid_request_error", (method, body, error)
    assert [u["email"] for u in (await gateway.call("GET", "/api/users")).json()["data"]] == [
        "admin@localhost", "ada@example.com"]
    assert (await gateway.call("GET", f"/api/users/{ada['id']}")).json()["rpm_limit"] == 3


async def test_operations_refuse_limits_below_1_from_documents_built_in_code(gateway: Gateway) -> None:
    """The CLI and library callers build input documents directly, past the API's decoder."""
    users = gateway.accounts.users
    with pytest.raises(Unprocessable) as raised:
        await users.create(ADMIN, UserInput(email="ada@example.com", rpm_limit=0))
    assert raised.value.param == "rpm_limit" and "1 or more" in str(raised.value)
    assert await gateway.accounts.store.users.by_email("ada@example.com") is None
    ada = await users.create(ADMIN, UserInput(email="ada@example.com", tpm_limit=1))
    assert (ada.rpm_limit, ada.tpm_limit) == (None, 1)
    with pytest.raises(Unprocessable) as raised:
        await users.update(ADMIN, ada.id, UserChange(tpm_limit=-1))
    assert raised.value.param == "tpm_limit"
    kept = await users.update(ADMIN, ada.id, UserChange(rpm_limit=2))
    assert (kept.rpm_limit, kept.tpm_limit) == (2, 1)


async def test_a_member_cannot_lift_their_own_rate_limits(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    await gateway.call("PATCH", f"/api/users/{bob.user_id}", json={"rpm_limit": 10, "tpm_limit": 1000})
    for body in ({"rpm_limit": 100000}, {"tpm_limit": None}, {"email": "b@example.com", "rpm_limit": None}):
        answer = await gateway.call("PATCH", f"/api/users/{bob.user_id}", bob, json=body)
        assert answer.status_code == 403, (body, answer.text)
        assert answer.json()["error"]["type"] == "permission_error"
    me = (await gateway.call("GET", f"/api/users/{bob.user_id}", bob)).json()
    assert (me["email"], me["rpm_limit"], me["tpm_limit"]) == ("bob@example.com", 10, 1000)


async def test_bad_user_documents_are_422_naming_the_field(gateway: Gateway) -> None:
    cases = [({"email": "ada@example.com", "role": "owner"}, "role"),
             ({"email": "not-an-email"}, "email"),
             ({"email": "ada@example.com", "password": "short"}, "password"),
             ({"email": "ada@example.com", "nickname": "a"}, "nickname"),
             ({}, "email"),
             ({"email": "ada@example.com", "monthly_budget": "-1"}, "monthly_budget")]
    for body, param in cases:
        answer = await gateway.call("POST", "/api/users", json=body)
        assert answer.status_code == 422, (body, answer.text)
        error = answer.json()["error"]
        assert error["param"] == param and error["type"] == "invalid_request_error", (body, error)
    malformed = await gateway.client.post("/api/users", content=b"{nope", headers=gateway.master)
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "invalid_json"


async def test_members_cannot_manage_users(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    carol = await gateway.member("carol@example.com")
    assert (await gateway.call("POST", "/api/users", bob, json={"email": "x@example.com"})).status_code == 403
    assert (await gateway.call("DELETE", f"/api/users/{carol.user_id}", bob)).status_code == 403
    mine = (await gateway.call("GET", "/api/users", bob)).json()["data"]
    assert [u["email"] for u in mine] == ["bob@example.com"]
    assert (await gateway.call("GET", f"/api/users/{carol.user_id}", bob)).status_code == 404
    assert (await gateway.call("PATCH", f"/api/users/{carol.user_id}", bob, json={"email": "c@x.io"})).status_code == 404
    promote = await gateway.call("PATCH", f"/api/users/{bob.user_id}", bob, json={"role": "admin"})
    assert promote.status_code == 403
    renamed = await gateway.call("PATCH", f"/api/users/{bob.user_id}", bob, json={"email": "robert@example.com"})
    assert renamed.status_code == 200 and renamed.json()["email"] == "robert@example.com"
    me = (await gateway.call("GET", "/api/me", bob)).json()
    assert me == {"kind": "key", "role": "member", "user_id": bob.user_id, "key_id": bob.key_id,
                  "email": "robert@example.com"}


async def test_a_key_is_shown_once_and_stored_as_a_hash(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    made = await gateway.call("POST", "/api/keys", bob, json={
        "name": "ci", "allowed_models": ["oa:gpt-4o-mini"], "monthly_budget": 10, "rpm_limit": 60,
        "tpm_limit": 1000, "expires_at": "2099-01-01T00:00:00Z"})
    assert made.status_code == 201
    key = made.json()
    plaintext = key["key"]
    assert plaintext.startswith("byw-") and len(plaintext) >= 4 + 43  # 256 random bits, base64url
    assert key["hint"] == f"{plaintext[:8]}…{plaintext[-4:]}" and key["user_id"] == bob.user_id
    assert key["expires_at"] == "2099-01-01T00:00:00Z" and key["monthly_budget"] == "10" and key["status"] == "active"
    stored = await gateway.accounts.store.keys.get(ADMIN, key["id"])
    assert stored.key_hash == hash_key(plaintext)
    listed = (await gateway.call("GET", "/api/keys", bob)).json()["data"]
    assert {k["id"] for k in listed} == {bob.key_id, key["id"]}
    assert all("key" not in k and "key_hash" not in k for k in listed)
    assert (await gateway.call("GET", f"/api/keys/{key['id']}", bob)).json()["rpm_limit"] == 60


async def test_bad_key_documents(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    for body, param in [({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
                        ({"name": "x", "expires_at": "2099-01-01T00:00:00"}, "expires_at"),
                        ({"name": ""}, "name"), ({"name": "x", "rpm_limit": 0}, "rpm_limit"),
                        ({"name": "x", "allowed_models": [" "]}, "allowed_models")]:
        answer = await gateway.call("POST", "/api/keys", bob, json=body)
        assert answer.status_code == 422 and answer.json()["error"]["param"] == param, (body, answer.text)


async def test_the_master_key_makes_keys_for_its_owner(gateway: Gateway) -> None:
    made = (await gateway.call("POST", "/api/keys", json={"name": "admin laptop"})).json()
    assert made["user_id"] == gateway.accounts.owner_id
    admin = {"authorization": f"Bearer {made['key']}"}
    me = (await gateway.client.get("/api/me", headers=admin)).json()
    assert me["role"] == "admin" and me["email"] == "admin@localhost"
    assert (await gateway.client.get("/api/users", headers=admin)).json()["data"][0]["email"] == "admin@localhost"


async def test_a_gateway_key_serves_requests_until_revoked(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    ok = await gateway.chat(bob, "oa:gpt-4o-mini", "hi there")
    assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"] == "Echo: hi there"
    assert (await gateway.call("DELETE", f"/api/keys/{bob.key_id}", bob)).status_code == 204
    refused = await gateway.chat(bob, "oa:gpt-4o-mini")
    assert refused.status_code == 401
    assert refused.json()["error"] == {"message": "this API key has been revoked", "type": "authentication_error",
                                       "param": None, "code": "invalid_api_key"}
    assert (await gateway.call("GET", "/api/keys", bob)).status_code == 401
    listed = (await gateway.call("GET", f"/api/keys?user_id={bob.user_id}")).json()["data"]
    assert listed[0]["status"] == "revoked" and listed[0]["revoked_at"] is not None


async def test_an_expired_key_is_refused_on_the_next_request(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    made = (await gateway.call("POST", "/api/keys", bob, json={"name": "brief", "expires_at": soon})).json()
    brief = {"authorization": f"Bearer {made['key']}"}
    assert (await gateway.client.get("/v1/models", headers=brief)).status_code == 200
    await asyncio.sleep(1.1)
    expired = await gateway.client.get("/v1/models", headers=brief)
    assert expired.status_code == 401 and expired.json()["error"]["message"] == "this API key has expired"
    listed = {k["id"]: k["status"] for k in (await gateway.call("GET", "/api/keys", bob)).json()["data"]}
    assert listed[made["id"]] == "expired" and listed[bob.key_id] == "active"


async def test_unknown_keys_and_deactivated_users_are_401(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    unknown = await gateway.client.get("/v1/models", headers={"authorization": "Bearer byw-" + "x" * 43})
    assert unknown.status_code == 401 and unknown.json()["error"]["message"] == "invalid API key"
    await gateway.call("PATCH", f"/api/users/{bob.user_id}", json={"is_active": False})
    off = await gateway.chat(bob, "oa:gpt-4o-mini")
    assert off.status_code == 401 and "deactivated" in off.json()["error"]["message"]
    await gateway.call("PATCH", f"/api/users/{bob.user_id}", json={"is_active": True})
    assert (await gateway.chat(bob, "oa:gpt-4o-mini")).status_code == 200
    await gateway.call("DELETE", f"/api/users/{bob.user_id}")
    gone = await gateway.chat(bob, "oa:gpt-4o-mini")
    assert gone.status_code == 401 and gone.json()["error"]["message"] == "invalid API key"


async def test_allowed_models_are_honoured(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    made = (await gateway.call("POST", "/api/keys", bob, json={"name": "narrow",
                                                               "allowed_models": ["oa:gpt-4o-mini"]})).json()
    narrow = {"authorization": f"Bearer {made['key']}"}
    body = {"model": "oa:gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    assert (await gateway.client.post("/v1/chat/completions", json=body, headers=narrow)).status_code == 200
    other = await gateway.client.post("/v1/chat/completions", json=body | {"model": "an:claude-3-5-haiku-latest"},
                                      headers=narrow)
    assert other.status_code == 403 and other.json()["error"]["type"] == "permission_error"
    models = (await gateway.client.get("/v1/models", headers=narrow)).json()["data"]
    assert [m["id"] for m in models] == ["oa:gpt-4o-mini"]


async def test_last_use_is_written_back_in_batches(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    assert (await gateway.accounts.store.keys.get(ADMIN, bob.key_id)).last_used_at is None
    for _ in range(3):
        assert (await gateway.chat(bob, "oa:gpt-4o-mini")).status_code == 200
    assert bob.key_id in gateway.accounts.directory.used
    await gateway.accounts.feed.flush_used()
    used = (await gateway.accounts.store.keys.get(ADMIN, bob.key_id)).last_used_at
    assert used is not None and (datetime.now(UTC) - used).total_seconds() < 10
    assert gateway.accounts.directory.used == {}

"""One member can neither see nor use another's credentials or keys, by any endpoint or by naming them in
a model string: the answer is 404, exactly as for an object that does not exist."""

from __future__ import annotations

import httpx
import pytest

from tests.accounts.conftest import Gateway, Member, mock_requests


def _same_404(answer: httpx.Response, kind: str, object_id: str) -> None:
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"] == {"message": f"no {kind} {object_id}", "type": "invalid_request_error",
                                      "param": None, "code": f"{kind}_not_found"}


@pytest.fixture
async def pair(gateway: Gateway) -> tuple[Member, Member, dict]:
    alice = await gateway.member("alice@example.com")
    bob = await gateway.member("bob@example.com")
    bobs = await gateway.credential(bob, "bobs", "sk-bob-private-0001", model="gpt-4o-mini")
    return alice, bob, bobs


async def test_credentials_of_another_member_are_404_by_every_endpoint(gateway: Gateway, pair) -> None:
    alice, bob, bobs = pair
    cid = bobs["id"]
    assert (await gateway.call("GET", "/api/credentials", alice)).json() == {"data": []}
    for method, path, body in [("GET", f"/api/credentials/{cid}", None),
                               ("PATCH", f"/api/credentials/{cid}", {"name": "stolen"}),
                               ("PATCH", f"/api/credentials/{cid}", {"api_key": "sk-alice", "validate": False}),
                               ("DELETE", f"/api/credentials/{cid}", None),
                               ("POST", f"/api/credentials/{cid}/test", None),
                               ("GET", f"/api/models?credential={cid}", None)]:
        _same_404(await gateway.call(method, path, alice, json=body), "credential", cid)
        nowhere = path.replace(cid, "cred_" + "0" * 32)
        _same_404(await gateway.call(method, nowhere, alice, json=body), "credential", "cred_" + "0" * 32)
    still = await gateway.call("GET", f"/api/credentials/{cid}", bob)
    assert still.json()["name"] == "bobs" and still.json()["key_hint"] == "sk-b…0001"
    assert (await gateway.chat(bob, "bobs")).status_code == 200


async def test_naming_another_members_credential_in_a_model_is_model_not_found(gateway: Gateway, pair) -> None:
    alice, _, bobs = pair
    for model in ("bobs", "bobs:gpt-4o-mini", cid := bobs["id"], f"{cid}:gpt-4o-mini"):
        answer = await gateway.chat(alice, model)
        assert answer.status_code == 404, (model, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "model_not_found" and "bobs" not in error["message"].split("available:")[1], error
        streamed = await gateway.chat(alice, model, stream=True)
        assert streamed.status_code == 404
        messages = await gateway.client.post("/v1/messages", headers={"x-api-key": alice.key}, json={
            "model": model, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]})
        assert messages.status_code == 404 and messages.json()["error"]["type"] == "not_found_error"
        embedded = await gateway.call("POST", "/v1/embeddings", alice, json={"model": model, "input": "x"})
        assert embedded.status_code == 404
    listed = [m["id"] for m in (await gateway.client.get("/v1/models", headers=alice.headers)).json()["data"]]
    assert not any(m.startswith("bobs") for m in listed)
    # nor the admin: an admin manages every credential but routes only through their own and shared ones
    assert (await gateway.chat(None, "bobs")).status_code == 404


async def test_keys_of_another_member_are_404(gateway: Gateway, pair) -> None:
    alice, bob, _ = pair
    _same_404(await gateway.call("GET", f"/api/keys/{bob.key_id}", alice), "key", bob.key_id)
    _same_404(await gateway.call("DELETE", f"/api/keys/{bob.key_id}", alice), "key", bob.key_id)
    listed = (await gateway.call("GET", f"/api/keys?user_id={bob.user_id}", alice)).json()["data"]
    assert [k["id"] for k in listed] == []
    assert {k["id"] for k in (await gateway.call("GET", "/api/keys", alice)).json()["data"]} == {alice.key_id}
    _same_404(await gateway.call("POST", "/api/keys", alice, json={"name": "x", "user_id": bob.user_id}),
              "user", bob.user_id)
    _same_404(await gateway.call("POST", "/api/credentials", alice, json={
        "provider_type": "openai", "api_key": "sk-x", "user_id": bob.user_id, "validate": False}), "user", bob.user_id)
    assert (await gateway.chat(bob, "oa:gpt-4o-mini")).status_code == 200  # bob's key still works
    assert len((await gateway.call("GET", "/api/keys", None)).json()["data"]) == 2  # the admin sees both


async def test_shared_credentials_are_usable_but_never_revealed_or_changed_by_members(gateway: Gateway,
                                                                                      pair) -> None:
    alice, bob, _ = pair
    team = await gateway.credential(None, "team", "sk-team-shared-9999", shared=True, model="gpt-4o")
    assert team["user_id"] is None and team["shared"] is True and team["key_hint"] == "sk-t…9999"
    seen = (await gateway.call("GET", f"/api/credentials/{team['id']}", alice)).json()
    assert seen["name"] == "team" and seen["key_hint"] is None
    assert [c["key_hint"] for c in (await gateway.call("GET", "/api/credentials", alice)).json()["data"]] == [None]
    used = await gateway.chat(alice, "team")
    assert used.status_code == 200 and used.headers["x-byway-model"] == "gpt-4o"
    assert (await gateway.call("POST", f"/api/credentials/{team['id']}/test", alice)).json()["ok"] is True
    for method, body in (("PATCH", {"temperature": 1.0}), ("DELETE", None)):
        answer = await gateway.call(method, f"/api/credentials/{team['id']}", alice, json=body)
        assert answer.status_code == 403 and answer.json()["error"]["type"] == "permission_error"
    # a member's own credential of the same name wins for them, and only for them
    await gateway.credential(bob, "team", "sk-bob-own-team")
    assert (await gateway.chat(bob, "team")).status_code == 200
    assert mock_requests(gateway)[-1]["headers"]["Authorization"] == "Bearer sk-bob-own-team"
    assert (await gateway.chat(alice, "team")).status_code == 200
    assert mock_requests(gateway)[-1]["headers"]["Authorization"] == "Bearer sk-team-shared-9999"

"""``/api/me/preferences`` and what preferences do to a user's requests."""

from __future__ import annotations

from byway.store import ADMIN
from tests.accounts.conftest import Gateway, mock_requests

DEFAULTS = {"default_provider": None, "fallback_provider": None, "preferred_models": None,
            "auto_switch_provider": False, "max_tokens_per_request": None, "quota_alert_percent": 80,
            "store_conversation_history": False}


async def test_preferences_round_trip_and_are_checked(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    assert (await gateway.call("GET", "/api/me/preferences", bob)).json() == DEFAULTS
    await gateway.credential(bob, "mine", "sk-pref-1")
    wanted = DEFAULTS | {"default_provider": "mine", "fallback_provider": "oa", "preferred_models": ["gpt-4o"],
                         "auto_switch_provider": True, "quota_alert_percent": 90, "store_conversation_history": True}
    put = await gateway.call("PUT", "/api/me/preferences", bob, json=wanted)
    assert put.status_code == 200 and put.json() == wanted
    assert (await gateway.call("GET", "/api/me/preferences", bob)).json() == wanted
    for body, param in (({"default_provider": "someone-elses"}, "default_provider"),
                        ({"quota_alert_percent": 101}, "quota_alert_percent"),
                        ({"max_tokens_per_request": 0}, "max_tokens_per_request"),
                        ({"theme": "dark"}, "theme")):
        answer = await gateway.call("PUT", "/api/me/preferences", bob, json=body)
        assert answer.status_code == 422 and answer.json()["error"]["param"] == param, (body, answer.text)
    alice = await gateway.member("alice@example.com")
    assert (await gateway.call("GET", "/api/me/preferences", alice)).json() == DEFAULTS
    mine = await gateway.call("PUT", "/api/me/preferences", alice, json={"default_provider": "mine"})
    assert mine.status_code == 422  # bob's credential is not hers to route to
    owner = await gateway.call("PUT", "/api/me/preferences", json={"quota_alert_percent": 50})
    assert owner.status_code == 200
    assert (await gateway.accounts.store.preferences.get(ADMIN, bob.user_id)).quota_alert_percent == 90
    admin = await gateway.accounts.store.preferences.load_all()
    assert admin[gateway.accounts.owner_id].quota_alert_percent == 50


async def test_bare_model_names_go_to_the_default_then_own_credentials_then_the_config(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    await gateway.credential(bob, "mine", "sk-pref-default", models=["gpt-4o-mini", "house-model"])
    own = await gateway.chat(bob, "gpt-4o-mini")
    assert own.status_code == 200 and own.headers["x-byway-provider"] == "mine"  # his catalogue before the config's
    assert mock_requests(gateway)[-1]["headers"]["Authorization"] == "Bearer sk-pref-default"
    assert (await gateway.chat(bob, "house-model")).headers["x-byway-provider"] == "mine"
    assert (await gateway.chat(bob, "gpt-4o")).headers["x-byway-provider"] == "oa"  # not in his catalogue
    await gateway.call("PUT", "/api/me/preferences", bob, json={"default_provider": "oa"})
    preferred = await gateway.chat(bob, "gpt-4o-mini")
    assert preferred.status_code == 200 and preferred.headers["x-byway-provider"] == "oa"
    assert (await gateway.chat(bob, "house-model")).headers["x-byway-provider"] == "mine"  # oa does not list it
    assert (await gateway.chat(bob, "mine:gpt-4o-mini")).headers["x-byway-provider"] == "mine"
    other = await gateway.member("carol@example.com")
    assert (await gateway.chat(other, "gpt-4o-mini")).headers["x-byway-provider"] == "oa"
    assert (await gateway.chat(other, "house-model")).status_code == 404


async def test_a_default_credential_is_the_default_provider(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    await gateway.credential(bob, "first", "sk-first", is_default=True)
    await gateway.credential(bob, "second", "sk-second", is_default=True)  # the newly marked one wins
    answer = await gateway.chat(bob, "gpt-4o")
    assert answer.headers["x-byway-provider"] == "second"
    listed = {c["name"]: c["is_default"] for c in (await gateway.call("GET", "/api/credentials", bob)).json()["data"]}
    assert listed == {"first": False, "second": True}


async def test_max_tokens_per_request_clamps(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    await gateway.call("PUT", "/api/me/preferences", bob, json={"max_tokens_per_request": 5})
    for asked, sent in ((None, 5), (3, 3), (500, 5)):
        extra = {} if asked is None else {"max_tokens": asked}
        answer = await gateway.chat(bob, "oa:gpt-4o-mini", "a fairly long question to answer", **extra)
        assert answer.status_code == 200
        assert mock_requests(gateway)[-1]["body"]["max_completion_tokens"] == sent, asked
    clipped = await gateway.chat(bob, "oa:gpt-4o-mini", "a fairly long question to answer with many words")
    assert clipped.json()["choices"][0]["finish_reason"] == "length"
    assert clipped.json()["usage"]["completion_tokens"] <= 5
    messages = await gateway.client.post("/v1/messages", headers={"x-api-key": bob.key}, json={
        "model": "an:claude-3-5-haiku-latest", "max_tokens": 1000, "messages": [{"role": "user", "content": "hi"}]})
    assert messages.status_code == 200 and mock_requests(gateway)[-1]["body"]["max_tokens"] == 5

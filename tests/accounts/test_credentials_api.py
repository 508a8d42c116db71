"""Provider credentials through the management API: checked with the provider (the mocks refuse keys
starting with ``bad``), sealed, shown by hint only, and used on /v1 by their owner."""

from __future__ import annotations

from decimal import Decimal

from byway.store import ADMIN
from tests.accounts.conftest import Gateway, credential_rows, mock_requests


async def test_an_invalid_key_is_422_with_the_providers_reason_and_nothing_is_stored(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    for kind, base in (("openai", "/openai/v1"), ("anthropic", "/anthropic"), ("mistral", "/mistral/v1"),
                       ("cohere", "/cohere"), ("gemini", "/gemini")):
        refused = await gateway.call("POST", "/api/credentials", bob, json={
            "provider_type": kind, "name": f"mine-{kind}", "api_key": "bad-key-123456",
            "base_url": gateway.mock_url + base})
        assert refused.status_code == 422, (kind, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "invalid_provider_key" and error["param"] == "api_key", (kind, error)
        assert error["message"].startswith("the provider refused the key: "), error
    assert "Incorrect API key" in error["message"] or "API key" in error["message"]
    assert await credential_rows(gateway) == 0
    assert (await gateway.call("GET", "/api/credentials", bob)).json() == {"data": []}
    assert [e.action for e in await gateway.accounts.store.audit.list(ADMIN, object_type="credential")] == []


async def test_a_valid_key_is_stored_sealed_and_shown_by_hint(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    made = await gateway.credential(bob, "mine", "sk-bob-abcdefghijklmnop-wxyz", model="gpt-4o-mini",
                                    models=["gpt-4o-mini", "gpt-4o"], temperature=0.25, top_p=0.5, max_tokens=64,
                                    rate_limit_rpm=30, monthly_budget="12.5", priority=3, is_default=True,
                                    cost_per_1k_input="0.001", cost_per_1k_output="0.002")
    assert made["id"].startswith("cred_") and made["name"] == "mine" and made["provider_type"] == "openai"
    assert made["key_hint"] == "sk-b…wxyz" and "api_key" not in made
    assert made["is_valid"] is True and made["is_default"] is True and made["user_id"] == bob.user_id
    assert (made["monthly_budget"], made["monthly_spent"], made["cost_per_1k_input"]) == ("12.5", "0", "0.001")
    assert (made["temperature"], made["top_p"], made["max_tokens"], made["rate_limit_rpm"]) == (0.25, 0.5, 64, 30)
    raw = await gateway.accounts.store.credentials.sealed(ADMIN, made["id"])
    assert b"sk-bob-abcdefghijklmnop-wxyz" not in raw.sealed.ciphertext
    assert dict(gateway.accounts.keyring().open_stored(raw)) == {"api_key": "sk-bob-abcdefghijklmnop-wxyz"}
    assert (await gateway.call("GET", f"/api/credentials/{made['id']}", bob)).json() == made
    validated = [r for r in mock_requests(gateway) if r["path"] == "/openai/v1/models"]
    assert validated[-1]["headers"]["Authorization"] == "Bearer sk-bob-abcdefghijklmnop-wxyz"


async def test_the_owner_uses_the_credential_by_name_with_its_defaults(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    await gateway.credential(bob, "mine", "sk-bob-0001", model="gpt-4o", temperature=0.25, max_tokens=50,
                             cost_per_1k_input="1", cost_per_1k_output="2")
    answer = await gateway.chat(bob, "mine", "first")
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-byway-provider"] == "mine" and answer.headers["x-byway-model"] == "gpt-4o"
    sent = mock_requests(gateway)[-1]
    assert sent["headers"]["Authorization"] == "Bearer sk-bob-0001"
    assert sent["body"]["model"] == "gpt-4o" and sent["body"]["temperature"] == 0.25
    assert sent["body"]["max_completion_tokens"] == 50
    usage = answer.json()["usage"]
    expected = (Decimal(usage["prompt_tokens"]) * 1 + Decimal(usage["completion_tokens"]) * 2) / 1000
    assert Decimal(answer.headers["x-byway-cost-usd"]) == expected
    explicit = await gateway.chat(bob, "mine:gpt-4o-mini", "second", temperature=0.9, max_tokens=7)
    assert explicit.status_code == 200 and explicit.headers["x-byway-model"] == "gpt-4o-mini"
    sent = mock_requests(gateway)[-1]["body"]
    assert (sent["temperature"], sent["max_completion_tokens"]) == (0.9, 7)
    models = [m["id"] for m in (await gateway.client.get("/v1/models", headers=bob.headers)).json()["data"]]
    assert models[0] == "mine:gpt-4o" and "oa:gpt-4o-mini" in models


async def test_update_revalidates_a_new_key_and_keeps_the_old_one_on_refusal(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    made = await gateway.credential(bob, "mine", "sk-bob-first-1111")
    path = f"/api/credentials/{made['id']}"
    refused = await gateway.call("PATCH", path, bob, json={"api_key": "bad-new-key"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_provider_key"
    assert (await gateway.call("GET", path, bob)).json()["key_hint"] == "sk-b…1111"
    changed = await gateway.call("PATCH", path, bob, json={"api_key": "sk-bob-second-2222", "name": "renamed",
                                                           "temperature": 1.5, "is_active": True})
    assert changed.status_code == 200, changed.text
    shown = changed.json()
    assert (shown["key_hint"], shown["name"], shown["temperature"], shown["is_valid"]) == \
        ("sk-b…2222", "renamed", 1.5, True)
    assert (await gateway.chat(bob, "renamed:gpt-4o-mini")).status_code == 200
    assert mock_requests(gateway)[-1]["headers"]["Authorization"] == "Bearer sk-bob-second-2222"
    assert (await gateway.chat(bob, "mine:gpt-4o-mini")).status_code == 404
    unchecked = await gateway.call("PATCH", path, bob, json={"api_key": "bad-but-unchecked", "validate": False})
    assert unchecked.status_code == 200 and unchecked.json()["is_valid"] is None
    broken = await gateway.chat(bob, "renamed:gpt-4o-mini")
    assert broken.status_code == 502 and broken.json()["error"]["code"] == "provider_auth_failed"
    off = await gateway.call("PATCH", path, bob, json={"is_active": False})
    assert off.json()["is_active"] is False
    assert (await gateway.chat(bob, "renamed:gpt-4o-mini")).status_code == 503
    audit = [e.detail for e in await gateway.accounts.store.audit.list(ADMIN, object_id=made["id"])]
    assert all("bad-but-unchecked" not in repr(d) and "sk-bob" not in repr(d) for d in audit)


async def test_test_validate_and_models(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    made = await gateway.credential(bob, "mine", "sk-bob-0001")
    tested = await gateway.call("POST", f"/api/credentials/{made['id']}/test", bob)
    assert tested.status_code == 200 and tested.json()["ok"] is True and tested.json()["error"] is None
    assert tested.json()["latency_ms"] >= 0
    await gateway.call("PATCH", f"/api/credentials/{made['id']}", bob, json={"api_key": "bad-x", "validate": False})
    failed = (await gateway.call("POST", f"/api/credentials/{made['id']}/test", bob)).json()
    assert failed["ok"] is False and "Incorrect API key" in failed["error"]
    assert (await gateway.call("GET", f"/api/credentials/{made['id']}", bob)).json()["is_valid"] is False
    good = await gateway.call("POST", "/api/credentials/validate", bob, json={
        "provider_type": "anthropic", "api_key": "sk-ant-good", "base_url": gateway.mock_url + "/anthropic"})
    assert good.json() == {"valid": True, "error": None}
    bad = await gateway.call("POST", "/api/credentials/validate", bob, json={
        "provider_type": "anthropic", "api_key": "bad-ant", "base_url": gateway.mock_url + "/anthropic"})
    assert bad.status_code == 200 and bad.json()["valid"] is False and "invalid x-api-key" in bad.json()["error"]
    assert await credential_rows(gateway) == 1
    listing = await gateway.call("GET", f"/api/models?credential={made['id']}")  # the admin, with the bad key
    assert listing.status_code == 502 and listing.json()["error"]["code"] == "provider_auth_failed"
    await gateway.call("PATCH", f"/api/credentials/{made['id']}", bob, json={"api_key": "sk-good-again"})
    listing = await gateway.call("GET", f"/api/models?credential={made['id']}", bob)
    ids = [m["id"] for m in listing.json()["data"]]
    assert "gpt-4o-mini" in ids and listing.json()["data"][0]["owned_by"] == "mine"
    mine = [m["id"] for m in (await gateway.call("GET", "/api/models", bob)).json()["data"]]
    assert "mine:gpt-4o-mini" in mine and "oa:gpt-4o" in mine


async def test_bad_credential_documents(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    base = {"provider_type": "openai", "api_key": "sk-x", "base_url": gateway.mock_url + "/openai/v1"}
    cases = [({"provider_type": "nope", "api_key": "k"}, "provider_type", "invalid_value"),
             (base | {"name": "a:b"}, "name", "invalid_value"),
             (base | {"temperature": 3}, "temperature", "invalid_value"),
             (base | {"region": "us-east-1"}, "region", "unknown_field"),
             ({"provider_type": "openai", "base_url": base["base_url"]}, "api_key", "missing_field"),
             ({"provider_type": "azure", "api_key": "k"}, "base_url", "missing_field"),
             ({"provider_type": "bedrock", "aws_access_key_id": "AKIA"}, "aws_secret_access_key", "missing_field"),
             ({"provider_type": "vertex", "credentials_json": "{not json"}, "credentials_json", "invalid_value"),
             ({"provider_type": "openai_compatible", "base_url": base["base_url"]}, "model", "invalid_value"),
             (base | {"cost_per_1k_input": "0.1"}, "cost_per_1k_output", "invalid_value"),
             (base | {"monthly_budget": "-3"}, "monthly_budget", "invalid_value"),
             (base | {"base_url": "ftp://example.com"}, "base_url", "blocked_url"),
             (base | {"shared": True}, "shared", "permission_denied")]
    for body, param, code in cases:
        answer = await gateway.call("POST", "/api/credentials", bob, json=body)
        assert answer.status_code in (422, 403), (body, answer.text)
        assert (answer.json()["error"]["param"], answer.json()["error"]["code"]) == (param, code), (body, answer.text)
    await gateway.credential(bob, "mine", "sk-1")
    again = await gateway.call("POST", "/api/credentials", bob, json=base | {"name": "mine"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "name_taken"
    assert await credential_rows(gateway) == 1


async def test_a_token_limit_is_set_changed_and_cleared(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    made = await gateway.credential(bob, "mine", "sk-bob-tpm-0001", rate_limit_rpm=30, rate_limit_tpm=50000)
    assert (made["rate_limit_rpm"], made["rate_limit_tpm"]) == (30, 50000)
    other = await gateway.credential(bob, "other", "sk-bob-tpm-0002")
    assert other["rate_limit_tpm"] is None
    path = f"/api/credentials/{made['id']}"
    changed = await gateway.call("PATCH", path, bob, json={"rate_limit_tpm": 700})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["rate_limit_rpm"], changed.json()["rate_limit_tpm"]) == (30, 700)
    assert (await gateway.call("GET", path, bob)).json()["rate_limit_tpm"] == 700
    listed = {c["name"]: c["rate_limit_tpm"] for c in (await gateway.call("GET", "/api/credentials", bob)).json()
              ["data"]}
    assert listed == {"mine": 700, "other": None}
    cleared = await gateway.call("PATCH", path, bob, json={"rate_limit_tpm": None})
    assert cleared.json()["rate_limit_tpm"] is None and cleared.json()["rate_limit_rpm"] == 30
    audit = await gateway.accounts.store.audit.list(ADMIN, object_id=made["id"])
    assert [e.detail for e in audit if e.action == "credential.update"] == [{"fields": ["rate_limit_tpm"]}] * 2
    for value in (0, -1, 2.5):
        for method, where, body in [("POST", "/api/credentials", {"provider_type": "openai", "name": "x",
                                                                  "api_key": "sk-x", "rate_limit_tpm": value,
                                                                  "base_url": gateway.mock_url + "/openai/v1"}),
                                    ("PATCH", path, {"rate_limit_tpm": value})]:
            answer = await gateway.call(method, where, bob, json=body)
            assert answer.status_code == 422, (method, value, answer.text)
            assert answer.json()["error"]["param"] == "rate_limit_tpm", (method, value, answer.text)
    assert await credential_rows(gateway) == 2
    assert (await gateway.call("GET", path, bob)).json()["rate_limit_tpm"] is None


async def test_type_specific_fields_split_between_vault_and_columns(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    aws = await gateway.call("POST", "/api/credentials", bob, json={
        "provider_type": "bedrock", "name": "aws", "aws_access_key_id": "AKIAMOCK12345678",
        "aws_secret_access_key": "aws-secret-value-abcdef", "region": "eu-west-1",
        "base_url": gateway.mock_url + "/bedrock", "model": "amazon.nova-lite-v1:0"})
    assert aws.status_code == 201, aws.text
    shown = aws.json()
    assert shown["region"] == "eu-west-1" and shown["key_hint"] == "AKIA…5678"
    assert "aws_secret_access_key" not in shown and "aws-secret" not in aws.text
    row = await gateway.accounts.store.credentials.sealed(ADMIN, shown["id"])
    assert row.credential.extra == {"region": "eu-west-1"}
    assert dict(gateway.accounts.keyring().open_stored(row)) == {"aws_access_key_id": "AKIAMOCK12345678",
                                                                 "aws_secret_access_key": "aws-secret-value-abcdef"}
    said = await gateway.chat(bob, "aws", "over bedrock")
    assert said.status_code == 200 and said.json()["choices"][0]["message"]["content"] == "Echo: over bedrock"
    refused = await gateway.call("POST", "/api/credentials", bob, json={
        "provider_type": "bedrock", "name": "aws2", "aws_access_key_id": "bad-AKIA",
        "aws_secret_access_key": "whatever", "region": "eu-west-1", "base_url": gateway.mock_url + "/bedrock"})
    assert refused.status_code == 422 and refused.json()["error"]["param"] == "aws_access_key_id"
    account = {"type": "service_account", "client_email": "svc@proj.iam.gserviceaccount.com",
               "private_key": "-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n",
               "private_key_id": "kid-0123456789", "token_uri": gateway.mock_url + "/vertex/token"}
    vertex = await gateway.call("POST", "/api/credentials", bob, json={
        "provider_type": "vertex", "name": "gcp", "credentials_json": account, "project": "proj-1",
        "location": "europe-west4", "validate": False})
    assert vertex.status_code == 201, vertex.text
    assert (vertex.json()["project"], vertex.json()["location"], vertex.json()["key_hint"]) == \
        ("proj-1", "europe-west4", "kid…789")
    assert "not-a-real-key" not in vertex.text and vertex.json()["is_valid"] is None
    azure = await gateway.call("POST", "/api/credentials", bob, json={
        "provider_type": "azure", "name": "az", "api_key": "az-key-123456", "base_url": gateway.mock_url + "/azure",
        "api_version": "2024-10-21", "model": "my-deployment", "validate": False})
    assert azure.status_code == 201 and azure.json()["api_version"] == "2024-10-21"
    said = await gateway.chat(bob, "az", "over azure")
    assert said.status_code == 200 and said.json()["choices"][0]["message"]["content"] == "Echo: over azure"
    assert mock_requests(gateway)[-1]["path"] == "/azure/openai/deployments/my-deployment/chat/completions"


async def test_delete_and_provider_types(gateway: Gateway) -> None:
    bob = await gateway.member("bob@example.com")
    made = await gateway.credential(bob, "mine", "sk-1")
    assert (await gateway.call("DELETE", f"/api/credentials/{made['id']}", bob)).status_code == 204
    assert (await gateway.call("GET", f"/api/credentials/{made['id']}", bob)).status_code == 404
    assert (await gateway.chat(bob, "mine")).status_code == 404
    assert await credential_rows(gateway) == 0
    types = {t["type"]: t for t in (await gateway.call("GET", "/api/provider-types", bob)).json()["data"]}
    assert len(types) == 17
    assert types["openai"]["key_url"] == "https://platform.openai.com/api-keys"
    assert types["openai"]["default_model"] == "gpt-4o-mini" and "gpt-4o" in types["openai"]["suggested_models"]
    assert [(f["name"], f["secret"], f["required"]) for f in types["bedrock"]["fields"]][:4] == [
        ("aws_access_key_id", True, True), ("aws_secret_access_key", True, True),
        ("aws_session_token", True, False), ("region", False, True)]
    assert types["azure"]["fields"][1] == {"name": "base_url", "label": "Base URL", "secret": False,
                                           "required": True, "kind": "url", "default": None}

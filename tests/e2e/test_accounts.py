"""Accounts through a real ``byway serve``: a member's gateway key and their own credential, used with the
official openai SDK; isolation, revocation and expiry on the wire; a restart keeps everything; and no
plaintext secret reaches the SQLite files or the server's log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from byway.mock import MockServer
from tests.serving import serving

MASTER = "byw-master-e2e-accounts-0123456789"
ALICE_PROVIDER_KEY = "sk-alice-e2e-provider-key-QW7PZ3"
BOB_PROVIDER_KEY = "sk-bob-e2e-provider-key-M4XK9T"
REFUSED_PROVIDER_KEY = "bad-e2e-refused-key-R2D2C3"


def _config(work: Path, mock: MockServer) -> Path:
    config = work / "byway.yaml"
    config.write_text(f"""
allow_private_base_urls: true
providers:
  - name: oa
    type: openai
    api_key: sk-config-e2e
    base_url: {mock.url}/openai/v1
    models: [gpt-4o-mini]
""")
    return config


class Api:
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.master = {"authorization": f"Bearer {MASTER}"}

    def __call__(self, method: str, path: str, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {key}"} if key else self.master
        return self.http.request(method, path, headers=headers, **kw)

    def sdk(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=str(self.http.base_url) + "/v1", api_key=key, max_retries=0, timeout=30)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("accounts")


@pytest.fixture(scope="module")
def first_run(work: Path, mock: MockServer) -> Iterator[dict[str, Any]]:
    """Everything the first ``byway serve`` made, with its log, after it stopped."""
    made: dict[str, Any] = {}
    with serving(_config(work, mock), work, MASTER) as url:
        api = Api(url)
        for name in ("alice", "bob"):
            user = api("POST", "/api/users", json={"email": f"{name}@example.com", "role": "member"}).json()
            key = api("POST", "/api/keys", json={"name": f"{name}'s key", "user_id": user["id"]}).json()
            made[name] = {"user": user["id"], "key": key["key"], "key_id": key["id"]}
        alice, bob = made["alice"], made["bob"]
        limited = api("PATCH", f"/api/users/{alice['user']}", json={"rpm_limit": 1000, "tpm_limit": 2_000_000})
        lift = api("PATCH", f"/api/users/{alice['user']}", alice["key"], json={"rpm_limit": None})
        zero = api("POST", "/api/users", json={"email": "zero@example.com", "tpm_limit": 0})
        made["limits"] = (limited.status_code, limited.json(), lift.status_code, zero.status_code,
                          zero.json()["error"]["param"])
        refused = api("POST", "/api/credentials", alice["key"], json={
            "provider_type": "openai", "name": "mine", "api_key": REFUSED_PROVIDER_KEY,
            "base_url": f"{mock.url}/openai/v1"})
        made["refused"] = (refused.status_code, refused.json()["error"]["code"])
        mine = api("POST", "/api/credentials", alice["key"], json={
            "provider_type": "openai", "name": "mine", "api_key": ALICE_PROVIDER_KEY, "model": "gpt-4o",
            "models": ["gpt-4o", "gpt-4o-mini"], "base_url": f"{mock.url}/openai/v1", "temperature": 0.4,
            "rate_limit_tpm": 500_000})
        assert mine.status_code == 201, mine.text
        made["mine"] = mine.json()
        bobs = api("POST", "/api/credentials", bob["key"], json={
            "provider_type": "anthropic", "name": "bobs", "api_key": BOB_PROVIDER_KEY,
            "base_url": f"{mock.url}/anthropic", "model": "claude-3-5-haiku-latest"})
        assert bobs.status_code == 201, bobs.text
        prefs = api("PUT", "/api/me/preferences", alice["key"], json={"default_provider": "mine",
                                                                        "quota_alert_percent": 70})
        assert prefs.status_code == 200

        client = api.sdk(alice["key"])
        done = client.chat.completions.create(model="mine", messages=[{"role": "user", "content": "own key"}])
        made["answer"] = (done.choices[0].message.content, done.model)
        stream = client.chat.completions.create(model="mine:gpt-4o-mini", stream=True,
                                                stream_options={"include_usage": True},
                                                messages=[{"role": "user", "content": "streamed"}])
        chunks = list(stream)
        made["streamed"] = ("".join(c.choices[0].delta.content or "" for c in chunks if c.choices),
                            chunks[-1].usage.completion_tokens if chunks[-1].usage else None)
        bare = client.chat.completions.with_raw_response.create(model="gpt-4o-mini",
                                                                messages=[{"role": "user", "content": "bare"}])
        made["bare_provider"] = bare.headers["x-byway-provider"]
        for model in ("bobs", "bobs:claude-3-5-haiku-latest"):
            with pytest.raises(openai.NotFoundError) as info:
                client.chat.completions.create(model=model, messages=[{"role": "user", "content": "theirs"}])
            made.setdefault("theirs", []).append(info.value.status_code)
        made["their_credential"] = api("GET", f"/api/credentials/{bobs.json()['id']}", alice["key"]).status_code
        assert api.sdk(bob["key"]).chat.completions.create(
            model="bobs", messages=[{"role": "user", "content": "mine"}]).choices[0].message.content == "Echo: mine"

        api("DELETE", f"/api/keys/{bob['key_id']}", bob["key"])
        with pytest.raises(openai.AuthenticationError) as info:
            api.sdk(bob["key"]).chat.completions.create(model="bobs", messages=[{"role": "user", "content": "x"}])
        made["revoked"] = (info.value.status_code, info.value.body)
        soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        brief = api("POST", "/api/keys", alice["key"], json={"name": "brief", "expires_at": soon}).json()
        made["brief_before"] = api.sdk(brief["key"]).models.list().data[0].id
        time.sleep(1.2)
        with pytest.raises(openai.AuthenticationError) as info:
            api.sdk(brief["key"]).models.list()
        made["expired"] = info.value.status_code
        made["gateway_keys"] = [alice["key"], bob["key"], brief["key"]]
    made["log"] = (work / "serve.log").read_bytes()
    return made


def test_a_member_uses_their_own_credential_through_the_sdk(first_run: dict[str, Any]) -> None:
    assert first_run["refused"] == (422, "invalid_provider_key")
    assert first_run["answer"] == ("Echo: own key", "gpt-4o")
    assert first_run["streamed"][0] == "Echo: streamed" and first_run["streamed"][1] == 4
    assert first_run["bare_provider"] == "mine"  # her default provider


def test_admins_set_rate_limits_that_members_cannot_lift(first_run: dict[str, Any]) -> None:
    status, shown, lift, zero, param = first_run["limits"]
    assert status == 200 and (shown["email"], shown["rpm_limit"], shown["tpm_limit"]) == ("alice@example.com", 1000,
                                                                                           2_000_000)
    assert lift == 403 and (zero, param) == (422, "tpm_limit")
    assert first_run["mine"]["rate_limit_tpm"] == 500_000 and first_run["mine"]["rate_limit_rpm"] is None


def test_nobody_reaches_another_members_credential(first_run: dict[str, Any]) -> None:
    assert first_run["theirs"] == [404, 404]
    assert first_run["their_credential"] == 404


def test_revoked_and_expired_keys_are_refused(first_run: dict[str, Any]) -> None:
    status, body = first_run["revoked"]
    assert status == 401 and body["message"] == "this API key has been revoked"
    assert first_run["brief_before"] == "mine:gpt-4o" and first_run["expired"] == 401


def _secrets(first_run: dict[str, Any]) -> list[bytes]:
    return [s.encode() for s in (ALICE_PROVIDER_KEY, BOB_PROVIDER_KEY, REFUSED_PROVIDER_KEY, MASTER,
                                 *first_run["gateway_keys"])]


def _database_bytes(work: Path) -> bytes:
    files = sorted((work / "data").glob("byway.db*"))
    assert files and files[0].name == "byway.db"
    return b"".join(f.read_bytes() for f in files)


def test_no_plaintext_secret_in_the_database_files_or_the_log(first_run: dict[str, Any], work: Path) -> None:
    stored = _database_bytes(work)
    assert b"mine" in stored and b"alice@example.com" in stored  # the right files, with the data in them
    for secret in _secrets(first_run):
        assert secret not in stored, secret
        assert secret not in first_run["log"], secret
        assert secret[-12:] not in stored  # not even the tail beyond the four-character hint


def test_a_restart_keeps_users_keys_credentials_and_preferences(first_run: dict[str, Any], work: Path,
                                                                 mock: MockServer) -> None:
    alice, bob = first_run["alice"], first_run["bob"]
    with serving(_config(work, mock), work, MASTER) as url:
        api = Api(url)
        users = {u["email"]: u for u in api("GET", "/api/users").json()["data"]}
        assert sorted(users) == ["admin@localhost", "alice@example.com", "bob@example.com"]
        assert (users["alice@example.com"]["rpm_limit"], users["alice@example.com"]["tpm_limit"]) == (1000, 2_000_000)
        assert (users["bob@example.com"]["rpm_limit"], users["bob@example.com"]["tpm_limit"]) == (None, None)
        keys = {k["id"]: k["status"] for k in api("GET", "/api/keys").json()["data"]}
        assert keys[alice["key_id"]] == "active" and keys[bob["key_id"]] == "revoked"
        shown = api("GET", f"/api/credentials/{first_run['mine']['id']}", alice["key"]).json()
        # what alice's requests spent through her credential is read back from the usage records
        assert Decimal(shown["monthly_spent"]) > 0
        assert shown == first_run["mine"] | {"is_valid": True, "monthly_spent": shown["monthly_spent"]}
        prefs = api("GET", "/api/me/preferences", alice["key"]).json()
        assert (prefs["default_provider"], prefs["quota_alert_percent"]) == ("mine", 70)
        answer = api.sdk(alice["key"]).chat.completions.create(
            model="mine", messages=[{"role": "user", "content": "after restart"}])
        assert answer.choices[0].message.content == "Echo: after restart"
        with pytest.raises(openai.AuthenticationError):
            api.sdk(bob["key"]).models.list()
        last_used = [k for k in api("GET", "/api/keys").json()["data"] if k["id"] == alice["key_id"]]
        assert last_used[0]["last_used_at"] is not None  # written back at the first run's shutdown
    log = (work / "serve.log").read_bytes()
    stored = _database_bytes(work)
    for secret in _secrets(first_run):
        assert secret not in log and secret not in stored


def test_serve_refuses_a_secret_key_the_database_does_not_know(first_run: dict[str, Any], work: Path,
                                                                mock: MockServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(BYWAY_MASTER_KEY=MASTER, BYWAY_DATA_DIR=str(work / "data"),
               BYWAY_SECRET_KEY="a-different-secret-key-than-the-vaults-0123")
    done = subprocess.run([sys.executable, "-m", "byway.cli", "serve", "--config", str(_config(work, mock)),
                           "--port", "9"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2
    assert "this secret key is not one this database knows" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1

"""The SSRF guard on users' base URLs (``allow_private_base_urls: false``): refused with 422 when saved,
and refused again at connection time, so a name that later resolves inside (DNS rebinding) gets nowhere."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from byway.mock import MockServer
from tests.accounts.conftest import Gateway, credential_rows, mock_total, serving, settings_for


class FlippingResolver(AbstractResolver):
    """DNS under the test's control: ``rebind.test`` answers a public address first, then loopback."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET,
                      ) -> list[ResolveResult]:
        self.asked.append(host)
        if host == "rebind.test":
            address = "93.184.216.34" if self.asked.count(host) == 1 else "127.0.0.1"
        elif host == "public.test":
            address = "93.184.216.34"
        elif host == "localhost":
            address = "127.0.0.1"
        else:
            raise OSError(socket.EAI_NONAME, "Name or service not known")
        return [ResolveResult(hostname=host, host=address, port=port, family=socket.AF_INET, proto=0,
                              flags=socket.AI_NUMERICHOST)]

    async def close(self) -> None:
        pass


@pytest.fixture
def resolver() -> FlippingResolver:
    return FlippingResolver()


@pytest.fixture
async def guarded(tmp_path: Path, mock: MockServer, resolver: FlippingResolver) -> AsyncIterator[Gateway]:
    async with serving(tmp_path, mock.url, allow_private=False, resolver=resolver) as opened:
        yield opened


async def test_private_base_urls_are_refused_when_saved(guarded: Gateway) -> None:
    bob = await guarded.member("bob@example.com")
    port = guarded.mock_url.rsplit(":", 1)[1]
    for url in (guarded.mock_url + "/openai/v1", f"http://localhost:{port}/openai/v1", "http://169.254.169.254/v1",
                "http://10.1.2.3/v1", "http://192.168.0.10:8080/v1", "http://[::1]:8080/v1",
                "http://[::ffff:127.0.0.1]/v1", "http://0.0.0.0/v1", "http://100.64.0.1/v1",
                "http://unresolvable.invalid/v1"):
        for validate in (True, False):
            answer = await guarded.call("POST", "/api/credentials", bob, json={
                "provider_type": "openai", "api_key": "sk-x", "base_url": url, "validate": validate})
            assert answer.status_code == 422, (url, answer.text)
            error = answer.json()["error"]
            assert error["param"] == "base_url" and error["code"] in ("blocked_url", "unresolvable_url"), error
    checked = await guarded.call("POST", "/api/credentials/validate", bob, json={
        "provider_type": "openai", "api_key": "sk-x", "base_url": "http://127.0.0.1:1/v1"})
    assert checked.status_code == 422 and checked.json()["error"]["code"] == "blocked_url"
    account = {"client_email": "svc@p.iam.gserviceaccount.com", "private_key": "k",
               "token_uri": "http://169.254.169.254/token"}
    vertex = await guarded.call("POST", "/api/credentials", bob, json={
        "provider_type": "vertex", "credentials_json": account, "project": "p", "validate": False})
    assert vertex.status_code == 422 and vertex.json()["error"]["param"] == "credentials_json.token_uri"
    assert await credential_rows(guarded) == 0
    public = await guarded.call("POST", "/api/credentials", bob, json={
        "provider_type": "openai", "name": "pub", "api_key": "sk-x", "base_url": "https://public.test/v1",
        "validate": False})
    assert public.status_code == 201, public.text
    moved = await guarded.call("PATCH", f"/api/credentials/{public.json()['id']}", bob,
                               json={"base_url": "http://127.0.0.1:8000/v1", "validate": False})
    assert moved.status_code == 422 and moved.json()["error"]["code"] == "blocked_url"
    assert (await guarded.call("GET", f"/api/credentials/{public.json()['id']}", bob)).json()["base_url"] == \
        "https://public.test/v1"


async def test_dns_rebinding_is_stopped_at_connection_time(guarded: Gateway, resolver: FlippingResolver) -> None:
    bob = await guarded.member("bob@example.com")
    port = guarded.mock_url.rsplit(":", 1)[1]
    made = await guarded.call("POST", "/api/credentials", bob, json={
        "provider_type": "openai", "name": "sneaky", "api_key": "sk-x", "base_url": f"http://rebind.test:{port}/openai/v1",
        "validate": False})
    assert made.status_code == 201, made.text  # it resolved to a public address when saved
    before = mock_total(guarded)
    answer = await guarded.chat(bob, "sneaky")
    assert answer.status_code == 400, answer.text
    assert "private, loopback or link-local" in answer.json()["error"]["message"]
    assert resolver.asked.count("rebind.test") >= 2
    assert mock_total(guarded) == before  # the mock on loopback was never reached
    tested = (await guarded.call("POST", f"/api/credentials/{made.json()['id']}/test", bob)).json()
    assert tested["ok"] is False and "private" in tested["error"]


async def test_config_providers_are_trusted_with_the_guard_on(guarded: Gateway) -> None:
    bob = await guarded.member("bob@example.com")
    answer = await guarded.chat(bob, "oa:gpt-4o-mini", "trusted")
    assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["content"] == "Echo: trusted"


async def test_a_credential_saved_while_allowed_is_refused_once_the_guard_is_on(tmp_path: Path,
                                                                              mock: MockServer) -> None:
    settings = settings_for(tmp_path)
    async with serving(tmp_path, mock.url, allow_private=True, settings=settings) as open_gateway:
        bob = await open_gateway.member("bob@example.com")
        await open_gateway.credential(bob, "local", "sk-local-1")
        assert (await open_gateway.chat(bob, "local")).status_code == 200
    async with serving(tmp_path, mock.url, allow_private=False, settings=settings) as closed:
        before = mock_total(closed)
        refused = await closed.client.post("/v1/chat/completions", headers=bob.headers, json={
            "model": "local", "messages": [{"role": "user", "content": "hi"}]})
        assert refused.status_code == 400 and "127.0.0.1 is a private" in refused.json()["error"]["message"]
        assert mock_total(closed) == before

"""Vertex service-account tokens: a real JWT grant (signed with a key made here) exchanged with the mock's
token endpoint over loopback through Byway's Transport; caching, one refresh at a time, and failures."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import msgspec
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from byway.core import ChatRequest, Message, TextPart, UpstreamAuthError, UpstreamUnavailableError
from byway.mock import MockServer, running
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.gemini import GeminiAdapter
from byway.providers.transport import Transport
from byway.providers.vertex_auth import SCOPE, VertexAuth, parse_service_account

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                       serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with running() as server:
        yield server


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    transport = Transport()
    yield transport
    await transport.close()


def key_file(mock: MockServer, email: str = "svc@proj-1.iam.gserviceaccount.com", *, token_path: str = "/vertex/token",
             private_key: str = PEM) -> str:
    return msgspec.json.encode({
        "type": "service_account", "project_id": "proj-1", "private_key_id": "key-1", "private_key": private_key,
        "client_email": email, "client_id": "1234", "token_uri": mock.url + token_path}).decode()


def provider(credentials: str, name: str = "vx", **kw: object) -> ProviderConfig:
    return ProviderConfig(provider_type=ProviderType.VERTEX, name=name, credentials_json=credentials, **kw)


def token_requests(mock: MockServer) -> list[dict]:
    return [r for r in mock.requests() if r["path"] == "/vertex/token"]


def b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


async def test_the_grant_is_a_signed_jwt_for_the_token_uri(mock: MockServer, transport: Transport) -> None:
    credentials = key_file(mock)
    token = await VertexAuth().token(provider(credentials, name="grant"), transport)
    assert token.startswith("ya29.mock.")
    form = parse_qs(token_requests(mock)[-1]["body"])
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    header, claims, signature = form["assertion"][0].split(".")
    assert msgspec.json.decode(b64(header)) == {"alg": "RS256", "typ": "JWT", "kid": "key-1"}
    body = msgspec.json.decode(b64(claims))
    assert (body["iss"], body["scope"], body["aud"]) == ("svc@proj-1.iam.gserviceaccount.com", SCOPE,
                                                          mock.url + "/vertex/token")
    assert body["exp"] - body["iat"] == 3600
    # signed with the service account's key: the public half verifies it
    KEY.public_key().verify(b64(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())


async def test_one_exchange_for_concurrent_requests(mock: MockServer, transport: Transport) -> None:
    auth, config = VertexAuth(), provider(key_file(mock, "many@proj-1.iam.gserviceaccount.com"), name="many")
    before = len(token_requests(mock))
    tokens = await asyncio.gather(*(auth.token(config, transport) for _ in range(8)))
    assert len(set(tokens)) == 1
    assert len(token_requests(mock)) == before + 1
    assert await auth.token(config, transport) == tokens[0]
    assert len(token_requests(mock)) == before + 1


async def test_refreshed_five_minutes_before_expiry(mock: MockServer, transport: Transport) -> None:
    now = [1000.0]
    auth, config = VertexAuth(clock=lambda: now[0]), provider(key_file(mock), name="clock")
    before = len(token_requests(mock))
    first = await auth.token(config, transport)
    now[0] += 3599 - 301  # the mock's tokens live 3599 s
    assert await auth.token(config, transport) == first
    assert len(token_requests(mock)) == before + 1
    now[0] += 2
    await auth.token(config, transport)
    assert len(token_requests(mock)) == before + 2


async def test_refused_exchange_names_the_provider_and_hides_the_key(mock: MockServer, transport: Transport) -> None:
    config = provider(key_file(mock, "bad-svc@proj-1.iam.gserviceaccount.com"), name="vx-bad")
    with pytest.raises(UpstreamAuthError) as caught:
        await VertexAuth().token(config, transport)
    error = caught.value
    assert error.message == ("vx-bad: the service-account token exchange was refused (HTTP 400, invalid_grant: "
                             "Invalid JWT Signature.)")
    assert (error.status, error.code, error.provider, error.upstream_status) == (502, "provider_auth_failed", "vx-bad",
                                                                                 400)
    assert "PRIVATE KEY" not in str(error) and not error.retryable


async def test_unreadable_key_is_refused_before_any_request(mock: MockServer, transport: Transport) -> None:
    before = len(token_requests(mock))
    config = provider(key_file(mock, private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
    with pytest.raises(UpstreamAuthError, match="vx: the Vertex service-account private key is unreadable"):
        await VertexAuth().token(config, transport)
    with pytest.raises(UpstreamAuthError, match="lack client_email or private_key"):
        await VertexAuth().token(provider('{"type": "service_account"}'), transport)
    with pytest.raises(UpstreamAuthError, match="not a service-account JSON key"):
        await VertexAuth().token(provider("not json"), transport)
    assert len(token_requests(mock)) == before


async def test_credentials_file(mock: MockServer, transport: Transport, tmp_path: Path) -> None:
    path = tmp_path / "sa.json"
    path.write_text(key_file(mock))
    config = ProviderConfig(provider_type=ProviderType.VERTEX, name="file", credentials_file=str(path))
    assert (await VertexAuth().token(config, transport)).startswith("ya29.mock.")
    missing = ProviderConfig(provider_type=ProviderType.VERTEX, name="gone", credentials_file=str(tmp_path / "no.json"))
    with pytest.raises(UpstreamAuthError, match="gone: cannot read the Vertex credentials file"):
        await VertexAuth().token(missing, transport)
    with pytest.raises(UpstreamAuthError, match="needs service-account credentials"):
        await VertexAuth().token(ProviderConfig(provider_type=ProviderType.VERTEX, name="none"), transport)


async def test_token_endpoint_outage_is_retryable(mock: MockServer, transport: Transport) -> None:
    config = provider(key_file(mock, token_path="/fault/status=503/vertex/token"), name="down")
    with pytest.raises(UpstreamUnavailableError) as caught:
        await VertexAuth().token(config, transport)
    assert caught.value.retryable and caught.value.upstream_status == 503
    assert caught.value.message.startswith("down: the service-account token exchange was refused (HTTP 503")


async def test_authorize_adds_the_token_and_the_key_files_project(mock: MockServer, transport: Transport) -> None:
    adapter = GeminiAdapter(spec_for(ProviderType.VERTEX))
    config = provider(key_file(mock), name="noproj", base_url=mock.url + "/vertex")
    call = adapter.chat_call(config, ChatRequest(model="gemini-2.0-flash", messages=[
        Message(role="user", parts=[TextPart("hi")])]))
    assert "/projects/{project}/" in call.url
    ready = await adapter.authorize(config, call, transport)
    assert ready.url == (mock.url + "/vertex/v1/projects/proj-1/locations/us-central1/publishers/google/models/"
                                    "gemini-2.0-flash:generateContent")
    assert ready.headers["authorization"].startswith("Bearer ya29.mock.")
    assert ready.body == call.body and "authorization" not in call.headers


def test_service_account_repr_hides_the_key() -> None:
    account = parse_service_account("vx", msgspec.json.encode({"client_email": "a@b", "private_key": PEM}))
    assert "PRIVATE" not in repr(account) and account.token_uri == "https://oauth2.googleapis.com/token"

"""SigV4 signing of Bedrock calls, checked on what actually reaches the server.

A loopback server records each request as it arrives (raw path, headers, body), sent by Byway's own
transport. The signature is then recomputed from those bytes for the same fixed timestamp, once with
botocore and once by hand from the SigV4 specification, so a path that the transport rewrote after signing
(``%3A`` sent as ``:``) or a header signed but not sent would show up as a mismatch.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import botocore.auth
import msgspec
import pytest
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from byway.core import ChatRequest, EmbeddingRequest, Message, TextPart
from byway.providers.bedrock import BedrockAdapter
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.transport import Transport

ADAPTER = BedrockAdapter(spec_for(ProviderType.BEDROCK))
ACCESS_KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
FIXED = datetime.datetime(2025, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)
ANSWER = {"output": {"message": {"role": "assistant", "content": [{"text": "Hi!"}]}}, "stopReason": "end_turn",
          "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}, "metrics": {"latencyMs": 1}}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: FIXED.replace(tzinfo=None))


class Seen:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Seen]]:
    seen = Seen()

    async def record(request: web.Request) -> web.Response:
        seen.requests.append({"method": request.method, "raw_path": request.raw_path, "headers": request.headers.copy(),
                              "body": await request.read()})
        return web.json_response(ANSWER)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/bedrock", seen
    finally:
        await runner.cleanup()


def provider(base: str, token: str | None = None) -> ProviderConfig:
    return ProviderConfig(provider_type=ProviderType.BEDROCK, name="aws", base_url=base, region="us-west-2",
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET, aws_session_token=token)


async def send(base: str, call_for: Any, token: str | None = None) -> None:
    transport = Transport()
    try:
        target = provider(base, token)
        upstream = await transport.open(target, call_for(target))
        assert upstream.status == 200
        await upstream.read(target)
    finally:
        await transport.close()


def parse_authorization(value: str) -> tuple[str, list[str], str]:
    scheme, _, rest = value.partition(" ")
    assert scheme == "AWS4-HMAC-SHA256"
    fields = dict(item.strip().split("=", 1) for item in rest.split(","))
    return fields["Credential"], fields["SignedHeaders"].split(";"), fields["Signature"]


def botocore_signature(seen: dict[str, Any], signed: list[str], token: str | None) -> str:
    """The signature botocore computes for the request as it arrived."""
    headers = {name: seen["headers"][name] for name in signed if name != "host"}
    host = seen["headers"]["host"]
    request = AWSRequest(method=seen["method"], url=f"http://{host}{seen['raw_path']}", data=seen["body"],
                         headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET, token), "bedrock", "us-west-2").add_auth(request)
    return parse_authorization(request.headers["Authorization"])[2]


def spec_signature(seen: dict[str, Any], signed: list[str]) -> str:
    """The signature by the SigV4 specification, by hand: canonical request, string to sign, derived key."""
    path, _, query = seen["raw_path"].partition("?")
    canonical = "\n".join([
        seen["method"],
        quote(path, safe="/-_.~"),  # non-S3 services: the path as sent, URI-encoded once more
        "&".join(sorted(query.split("&"))) if query else "",
        "".join(f"{name}:{' '.join(seen['headers'][name].split())}\n" for name in signed),
        ";".join(signed),
        hashlib.sha256(seen["body"]).hexdigest(),
    ])
    stamp = seen["headers"]["x-amz-date"]
    scope = f"{stamp[:8]}/us-west-2/bedrock/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"AWS4{SECRET}".encode()
    for part in (stamp[:8], "us-west-2", "bedrock", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def check(seen: dict[str, Any], token: str | None = None) -> list[str]:
    credential, signed, signature = parse_authorization(seen["headers"]["Authorization"])
    assert credential == f"{ACCESS_KEY}/20250304/us-west-2/bedrock/aws4_request"
    assert seen["headers"]["x-amz-date"] == "20250304T050607Z"
    assert signed == sorted(signed) and {"host", "x-amz-date"} <= set(signed)
    assert botocore_signature(seen, signed, token) == signature
    assert spec_signature(seen, signed) == signature
    return signed


def chat(model: str, stream: bool = False) -> Any:
    request = ChatRequest(model=model, messages=[Message(role="user", parts=[TextPart("Hello")])], stream=stream)
    return lambda target: ADAPTER.chat_call(target, request)


async def test_converse_signature_matches_what_arrived(server: tuple[str, Seen]) -> None:
    base, seen = server
    await send(base, chat("us.amazon.nova-micro-v1:0"))
    (request,) = seen.requests
    assert request["raw_path"] == "/bedrock/model/us.amazon.nova-micro-v1:0/converse"
    assert check(request) == ["accept", "content-type", "host", "x-amz-date"]
    assert msgspec.json.decode(request["body"])["messages"][0]["content"] == [{"text": "Hello"}]


async def test_arn_model_signature_matches_what_arrived(server: tuple[str, Seen]) -> None:
    base, seen = server
    arn = "arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/abc123"
    await send(base, chat(arn, stream=True))
    (request,) = seen.requests
    assert request["raw_path"] == ("/bedrock/model/arn:aws:bedrock:us-west-2:123456789012:"
                                   "application-inference-profile%2Fabc123/converse-stream")
    check(request)


async def test_session_token_is_signed(server: tuple[str, Seen]) -> None:
    base, seen = server
    await send(base, chat("amazon.nova-lite-v1:0"), token="FwoGZXIvYXdzEXAMPLE//token==")
    (request,) = seen.requests
    assert request["headers"]["x-amz-security-token"] == "FwoGZXIvYXdzEXAMPLE//token=="
    assert "x-amz-security-token" in check(request, token="FwoGZXIvYXdzEXAMPLE//token==")


async def test_models_and_embeddings_calls_are_signed(server: tuple[str, Seen]) -> None:
    base, seen = server
    await send(base, ADAPTER.models_call)
    embed = EmbeddingRequest(model="amazon.titan-embed-text-v2:0", inputs=["a"])
    await send(base, lambda target: ADAPTER.embeddings_calls(target, embed)[0])
    models, invoke = seen.requests
    assert (models["method"], models["raw_path"], models["body"]) == ("GET", "/bedrock/foundation-models", b"")
    assert check(models) == ["accept", "host", "x-amz-date"]
    assert invoke["raw_path"] == "/bedrock/model/amazon.titan-embed-text-v2:0/invoke"
    check(invoke)


def test_a_changed_path_or_body_breaks_the_signature() -> None:
    target = provider("http://127.0.0.1:9/bedrock")
    call = chat("us.amazon.nova-micro-v1:0")(target)
    headers = {k.lower(): v for k, v in call.headers.items()}
    headers["host"] = "127.0.0.1:9"
    seen = {"method": "POST", "raw_path": "/bedrock/model/us.amazon.nova-micro-v1:0/converse", "headers": headers,
            "body": call.body}
    _, signed, signature = parse_authorization(headers["authorization"])
    assert spec_signature(seen, signed) == signature
    encoded = {**seen, "raw_path": "/bedrock/model/us.amazon.nova-micro-v1%3A0/converse"}
    assert spec_signature(encoded, signed) != signature
    tampered = {**seen, "body": call.body.replace(b"Hello", b"Hellp")}
    assert spec_signature(tampered, signed) != signature

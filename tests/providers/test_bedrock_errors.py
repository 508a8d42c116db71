"""Bedrock error answers (``x-amzn-ErrorType`` header or body ``__type``/``code``, ``message``/``Message``) as
typed errors."""

from __future__ import annotations

import msgspec
import pytest

from byway.core import (
    ProviderError,
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamModelNotFoundError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from byway.providers.bedrock import BedrockAdapter
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType

ADAPTER = BedrockAdapter(spec_for(ProviderType.BEDROCK))
PROVIDER = ProviderConfig(provider_type=ProviderType.BEDROCK, name="aws", aws_access_key_id="AKID",
                          aws_secret_access_key="s")
NAMESPACE = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


def parse(status: int, kind: str | None, message: str, *, field: str = "message",
          headers: dict[str, str] | None = None) -> ProviderError:
    all_headers = {"content-type": "application/json", **(headers or {})}
    if kind is not None:
        all_headers["x-amzn-ErrorType"] = kind + NAMESPACE
    return ADAPTER.parse_error(PROVIDER, status, all_headers, msgspec.json.encode({field: message}))


@pytest.mark.parametrize(("status", "kind", "error", "ours"), [
    (429, "ThrottlingException", UpstreamRateLimitError, 429),
    (400, "ServiceQuotaExceededException", UpstreamRateLimitError, 429),
    (400, "ValidationException", UpstreamInvalidRequestError, 400),
    (403, "AccessDeniedException", UpstreamAuthError, 502),
    (403, "UnrecognizedClientException", UpstreamAuthError, 502),
    (403, "ExpiredTokenException", UpstreamAuthError, 502),
    (403, "InvalidSignatureException", UpstreamAuthError, 502),
    (403, "MissingAuthenticationTokenException", UpstreamAuthError, 502),
    (404, "ResourceNotFoundException", UpstreamModelNotFoundError, 404),
    (503, "ServiceUnavailableException", UpstreamUnavailableError, 502),
    (429, "ModelNotReadyException", UpstreamUnavailableError, 502),
    (500, "InternalServerException", UpstreamUnavailableError, 502),
    (424, "ModelErrorException", UpstreamUnavailableError, 502),
    (408, "ModelTimeoutException", UpstreamTimeoutError, 504),
])
def test_error_kinds(status: int, kind: str, error: type, ours: int) -> None:
    parsed = parse(status, kind, "Something specific happened.")
    assert type(parsed) is error
    assert (parsed.status, parsed.upstream_status, parsed.provider) == (ours, status, "aws")
    assert parsed.message == f"aws: {kind}: Something specific happened."


def test_retryable_kinds() -> None:
    assert parse(429, "ThrottlingException", "slow down").retryable
    assert parse(503, "ServiceUnavailableException", "busy").retryable
    assert parse(408, "ModelTimeoutException", "late").retryable
    assert not parse(400, "ValidationException", "bad").retryable
    assert not parse(403, "AccessDeniedException", "no").retryable


def test_throttling_keeps_retry_after() -> None:
    parsed = parse(429, "ThrottlingException", "Too many requests, please wait before trying again.",
                   headers={"retry-after": "7"})
    assert isinstance(parsed, UpstreamRateLimitError)
    assert parsed.retry_after == 7.0 and parsed.headers() == {"retry-after": "7"}


@pytest.mark.parametrize("message", [
    "The provided model identifier is invalid.",
    "Model us.foo.bar-v1:0 not found.",
    "The model anthropic.claude-9 does not exist.",
])
def test_unknown_model_validation_is_model_not_found(message: str) -> None:
    parsed = parse(400, "ValidationException", message)
    assert isinstance(parsed, UpstreamModelNotFoundError)
    assert (parsed.status, parsed.code) == (404, "model_not_found")


def test_other_validation_messages_stay_invalid_requests() -> None:
    parsed = parse(400, "ValidationException", "Invocation of model ID anthropic.claude-sonnet-4-5 with on-demand "
                                               "throughput isn't supported. Retry your request with the ID or ARN of "
                                               "an inference profile that contains this model.")
    assert isinstance(parsed, UpstreamInvalidRequestError)
    assert (parsed.status, parsed.code) == (400, "ValidationException")


def test_kind_from_the_body_and_capitalised_message() -> None:
    body = msgspec.json.encode({"__type": "com.amazon.coral.service#UnrecognizedClientException",
                                "Message": "The security token included in the request is invalid."})
    parsed = ADAPTER.parse_error(PROVIDER, 403, {}, body)
    assert isinstance(parsed, UpstreamAuthError)
    assert parsed.message == "aws: UnrecognizedClientException: The security token included in the request is invalid."
    coded = ADAPTER.parse_error(PROVIDER, 400, {}, msgspec.json.encode({"code": "ThrottlingException",
                                                                        "message": "slow"}))
    assert isinstance(coded, UpstreamRateLimitError)


def test_header_lookup_is_case_insensitive_for_plain_dicts() -> None:
    parsed = ADAPTER.parse_error(PROVIDER, 429, {"x-amzn-errortype": "ThrottlingException"},
                                 b'{"message": "Rate exceeded"}')
    assert isinstance(parsed, UpstreamRateLimitError)


def test_no_kind_falls_back_to_the_status() -> None:
    assert isinstance(parse(429, None, "Rate exceeded"), UpstreamRateLimitError)
    assert isinstance(parse(403, None, "Forbidden"), UpstreamAuthError)
    assert isinstance(parse(502, None, "Bad gateway"), UpstreamUnavailableError)
    odd = ADAPTER.parse_error(PROVIDER, 500, {}, b"<html>oops</html>")
    assert isinstance(odd, UpstreamUnavailableError)
    assert odd.message == "aws: HTTP 500: <html>oops</html>"

"""The OpenAI and Anthropic error envelopes for every typed error."""

from __future__ import annotations

import anthropic
import httpx2
import msgspec
import openai
import pytest

from byway.api.errors import anthropic_error, openai_error
from byway.core import (
    AuthenticationError,
    BudgetExceededError,
    ByWayError,
    InvalidRequestError,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    RateLimitError,
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamModelNotFoundError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from byway.core import errors as core_errors
from byway.providers.errors import error_for_status
from tests.api._sdk import anthropic_client, openai_client

# (error, status, OpenAI type, code, Anthropic type, Anthropic status)
CASES: list[tuple[ByWayError, int, str, str | None, str, int]] = [
    (ByWayError("internal failure"), 500, "upstream_error", None, "api_error", 500),
    (InvalidRequestError("bad temperature", param="temperature"), 400, "invalid_request_error", None,
     "invalid_request_error", 400),
    (AuthenticationError("Invalid API key."), 401, "authentication_error", "invalid_api_key",
     "authentication_error", 401),
    (PermissionDeniedError("Model not allowed for this key."), 403, "permission_error", "permission_denied",
     "permission_error", 403),
    (NotFoundError("No such thing."), 404, "invalid_request_error", "not_found", "not_found_error", 404),
    (ModelNotFoundError("Unknown model 'x'. Available: a, b"), 404, "invalid_request_error", "model_not_found",
     "not_found_error", 404),
    (BudgetExceededError("Monthly budget exhausted."), 402, "insufficient_quota", "budget_exceeded",
     "billing_error", 402),
    (RateLimitError("Too many requests.", retry_after=2.5), 429, "rate_limit_error", "rate_limit_exceeded",
     "rate_limit_error", 429),
    (ProviderError("boom", provider="oa"), 502, "upstream_error", "upstream_error", "api_error", 502),
    (UpstreamInvalidRequestError("messages: too long", provider="an", upstream_status=400), 400,
     "invalid_request_error", "invalid_request", "invalid_request_error", 400),
    (UpstreamModelNotFoundError("model gpt-9 does not exist", provider="oa", upstream_status=404), 404,
     "invalid_request_error", "model_not_found", "not_found_error", 404),
    (UpstreamAuthError("invalid x-api-key", provider="an", upstream_status=401), 502, "upstream_error",
     "provider_auth_failed", "api_error", 502),
    (UpstreamRateLimitError("slow down", provider="oa", upstream_status=429, retry_after=30), 429,
     "rate_limit_error", "rate_limit_exceeded", "rate_limit_error", 429),
    (UpstreamTimeoutError("no answer in 120 s", provider="gm"), 504, "upstream_error", "timeout",
     "timeout_error", 504),
    (UpstreamUnavailableError("HTTP 500", provider="oa", upstream_status=500), 502, "upstream_error",
     "upstream_error", "api_error", 502),
    (UpstreamUnavailableError("Overloaded", provider="an", upstream_status=529), 502, "upstream_error",
     "upstream_error", "overloaded_error", 503),
    (UpstreamUnavailableError("all targets failed: oa 500; an 529", status=503), 503, "upstream_error",
     "upstream_error", "overloaded_error", 503),
]


def test_every_error_class_is_covered() -> None:
    classes = {c for c in vars(core_errors).values() if isinstance(c, type) and issubclass(c, ByWayError)}
    assert classes == {type(err) for err, *_ in CASES}


@pytest.mark.parametrize(("err", "status", "oa_type", "code", "an_type", "an_status"), CASES,
                         ids=[type(c[0]).__name__ + str(i) for i, c in enumerate(CASES)])
def test_openai_envelope(err: ByWayError, status: int, oa_type: str, code: str | None, an_type: str,
                         an_status: int) -> None:
    got_status, headers, body = openai_error(err)
    assert got_status == status
    envelope = msgspec.json.decode(body)
    assert list(envelope) == ["error"]
    assert envelope["error"] == {"message": envelope["error"]["message"], "type": oa_type, "param": err.param,
                                 "code": code}
    assert err.message in envelope["error"]["message"]
    if isinstance(err, ProviderError) and err.provider:
        assert envelope["error"]["message"].startswith(f"{err.provider}: ")
    assert headers == err.headers()


@pytest.mark.parametrize(("err", "status", "oa_type", "code", "an_type", "an_status"), CASES,
                         ids=[type(c[0]).__name__ + str(i) for i, c in enumerate(CASES)])
def test_anthropic_envelope(err: ByWayError, status: int, oa_type: str, code: str | None, an_type: str,
                            an_status: int) -> None:
    got_status, headers, body = anthropic_error(err)
    assert got_status == an_status
    envelope = msgspec.json.decode(body)
    assert envelope == {"type": "error", "error": {"type": an_type, "message": envelope["error"]["message"]}}
    assert err.message in envelope["error"]["message"]
    assert headers == err.headers()


def test_retry_after_header() -> None:
    assert openai_error(RateLimitError("wait", retry_after=2.5))[1] == {"retry-after": "3"}
    assert anthropic_error(RateLimitError("wait", retry_after=0.2))[1] == {"retry-after": "1"}
    assert openai_error(UpstreamRateLimitError("wait", provider="oa", retry_after=30))[1] == {"retry-after": "30"}
    assert openai_error(RateLimitError("wait"))[1] == {}


def test_param_is_carried() -> None:
    _, _, body = openai_error(InvalidRequestError("Missing 'messages[2].tool_call_id'.",
                                                  param="messages[2].tool_call_id"))
    assert msgspec.json.decode(body)["error"]["param"] == "messages[2].tool_call_id"


def test_provider_named_once() -> None:
    err = error_for_status("oa", 400, "Invalid 'messages'")  # already says "oa: ..."
    _, _, body = openai_error(err)
    assert msgspec.json.decode(body)["error"]["message"] == "oa: Invalid 'messages'"
    _, _, body = openai_error(UpstreamUnavailableError("reset by peer", provider="groq"))
    assert msgspec.json.decode(body)["error"]["message"] == "groq: reset by peer"


@pytest.mark.parametrize(("err", "exc_type"), [
    (InvalidRequestError("bad", param="model"), openai.BadRequestError),
    (AuthenticationError("who?"), openai.AuthenticationError),
    (PermissionDeniedError("no"), openai.PermissionDeniedError),
    (ModelNotFoundError("no such model"), openai.NotFoundError),
    (RateLimitError("slow", retry_after=1), openai.RateLimitError),
    (UpstreamTimeoutError("late", provider="oa"), openai.InternalServerError),
])
def test_openai_sdk_raises_the_right_class(err: ByWayError, exc_type: type[openai.APIStatusError]) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        status, headers, body = openai_error(err)
        return httpx2.Response(status, content=body, headers={"content-type": "application/json", **headers})

    with pytest.raises(exc_type) as info:
        openai_client(handler).chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == err.status
    assert err.message in info.value.message
    assert info.value.code == err.code and info.value.param == err.param


@pytest.mark.parametrize(("err", "exc_type"), [
    (InvalidRequestError("bad"), anthropic.BadRequestError),
    (AuthenticationError("who?"), anthropic.AuthenticationError),
    (PermissionDeniedError("no"), anthropic.PermissionDeniedError),
    (ModelNotFoundError("no such model"), anthropic.NotFoundError),
    (RateLimitError("slow", retry_after=1), anthropic.RateLimitError),
    (UpstreamUnavailableError("Overloaded", provider="an", upstream_status=529), anthropic.InternalServerError),
])
def test_anthropic_sdk_raises_the_right_class(err: ByWayError, exc_type: type[anthropic.APIStatusError]) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        status, headers, body = anthropic_error(err)
        return httpx2.Response(status, content=body, headers={"content-type": "application/json", **headers})

    with pytest.raises(exc_type) as info:
        anthropic_client(handler).messages.create(model="m", max_tokens=10,
                                                  messages=[{"role": "user", "content": "x"}])
    assert err.message in info.value.message
    body = info.value.body
    assert isinstance(body, dict) and body["type"] == "error"

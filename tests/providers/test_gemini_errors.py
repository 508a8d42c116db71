"""Google's error envelope mapped to Byway's typed errors (Gemini and Vertex)."""

from __future__ import annotations

import msgspec
import pytest

from byway.core import (
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamModelNotFoundError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.gemini import GeminiAdapter
from byway.providers.gemini_errors import duration_seconds

GEMINI = GeminiAdapter(spec_for(ProviderType.GEMINI))
PROVIDER = ProviderConfig(provider_type=ProviderType.GEMINI, name="gm", api_key="k")
RPC = "type.googleapis.com/google.rpc."


def envelope(code: int, status: str, message: str, *details: dict) -> bytes:
    error: dict = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = list(details)
    return msgspec.json.encode({"error": error})


BAD_KEY = envelope(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                   {"@type": RPC + "ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"}},
                   {"@type": RPC + "LocalizedMessage", "locale": "en-US",
                    "message": "API key not valid. Please pass a valid API key."})


def test_bad_api_key_is_an_auth_failure_not_a_bad_request() -> None:
    error = GEMINI.parse_error(PROVIDER, 400, {}, BAD_KEY)
    assert isinstance(error, UpstreamAuthError)
    assert (error.status, error.code, error.kind, error.upstream_status) == (502, "provider_auth_failed", "upstream", 400)
    assert error.message == "gm: API key not valid. Please pass a valid API key. (API_KEY_INVALID)"
    assert error.provider == "gm" and not error.retryable


def test_unknown_model() -> None:
    body = envelope(404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta, or is not supported for "
                                      "generateContent. Call ModelService.ListModels to see the list of available "
                                      "models and their supported methods.")
    error = GEMINI.parse_error(PROVIDER, 404, {}, body)
    assert isinstance(error, UpstreamModelNotFoundError)
    assert (error.status, error.code) == (404, "model_not_found")
    assert "models/gemini-9 is not found" in error.message


def test_quota_with_retry_info() -> None:
    body = envelope(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan.",
                    {"@type": RPC + "QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerMinute"}]},
                    {"@type": RPC + "RetryInfo", "retryDelay": "21.5s"})
    error = GEMINI.parse_error(PROVIDER, 429, {"retry-after": "3"}, body)
    assert isinstance(error, UpstreamRateLimitError)
    assert (error.status, error.retry_after, error.retryable) == (429, 21.5, True)
    assert error.headers() == {"retry-after": "22"}


def test_quota_without_retry_info_uses_the_header() -> None:
    body = envelope(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
    error = GEMINI.parse_error(PROVIDER, 429, {"retry-after": "4"}, body)
    assert isinstance(error, UpstreamRateLimitError) and error.retry_after == 4.0


def test_invalid_argument() -> None:
    body = envelope(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified")
    error = GEMINI.parse_error(PROVIDER, 400, {}, body)
    assert isinstance(error, UpstreamInvalidRequestError)
    assert (error.status, error.code) == (400, "invalid_argument")
    assert error.message == "gm: * GenerateContentRequest.contents: contents is not specified"


def test_failed_precondition_is_the_callers_problem() -> None:
    body = envelope(400, "FAILED_PRECONDITION", "User location is not supported for the API use.")
    error = GEMINI.parse_error(PROVIDER, 400, {}, body)
    assert isinstance(error, UpstreamInvalidRequestError) and error.code == "failed_precondition"


@pytest.mark.parametrize(("status", "name", "kind"), [
    (500, "INTERNAL", UpstreamUnavailableError), (503, "UNAVAILABLE", UpstreamUnavailableError),
    (504, "DEADLINE_EXCEEDED", UpstreamTimeoutError)])
def test_server_side_failures_are_retryable(status: int, name: str, kind: type) -> None:
    error = GEMINI.parse_error(PROVIDER, status, {}, envelope(status, name, "The model is overloaded."))
    assert type(error) is kind and error.retryable and error.upstream_status == status


def test_permission_denied_is_an_auth_failure() -> None:
    body = envelope(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established "
                                              "identity). Please use API Key or other form of API consumer identity "
                                              "to call this API.")
    error = GEMINI.parse_error(PROVIDER, 403, {}, body)
    assert isinstance(error, UpstreamAuthError) and error.status == 502


def test_list_wrapped_envelope_and_plain_text() -> None:
    wrapped = b"[" + envelope(404, "NOT_FOUND", "models/x is not found") + b"]"
    assert isinstance(GEMINI.parse_error(PROVIDER, 404, {}, wrapped), UpstreamModelNotFoundError)
    plain = GEMINI.parse_error(PROVIDER, 502, {}, b"<html>Bad Gateway</html>")
    assert isinstance(plain, UpstreamUnavailableError)
    assert plain.message == "gm: HTTP 502: <html>Bad Gateway</html>"


def test_vertex_refused_token_is_forgotten() -> None:
    vertex = GeminiAdapter(spec_for(ProviderType.VERTEX))
    provider = ProviderConfig(provider_type=ProviderType.VERTEX, name="vx", project="p", credentials_json="{}")
    key = vertex.auth._key(provider)
    vertex.auth._tokens[key] = object()  # stands for a cached token
    body = envelope(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.",
                    {"@type": RPC + "ErrorInfo", "reason": "ACCESS_TOKEN_EXPIRED"})
    error = vertex.parse_error(provider, 401, {}, body)
    assert isinstance(error, UpstreamAuthError) and "ACCESS_TOKEN_EXPIRED" in error.message
    assert key not in vertex.auth._tokens


def test_durations() -> None:
    assert [duration_seconds(v) for v in ("21s", "0.250s", "1.5", "", None, "xs")] == [21.0, 0.25, None, None, None,
                                                                                       None]

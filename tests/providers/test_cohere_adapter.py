"""The Cohere adapter beyond chat bodies: registry, error answers, model list, key validation, embeddings."""

from __future__ import annotations

import msgspec
import pytest

from byway.core import (
    EmbeddingRequest,
    ProviderError,
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamModelNotFoundError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    Usage,
)
from byway.providers.catalog import spec_for
from byway.providers.cohere import CohereAdapter
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.registry import adapter_for

ADAPTER = CohereAdapter(spec_for(ProviderType.COHERE))
PROVIDER = ProviderConfig(provider_type=ProviderType.COHERE, name="co", api_key="co-key")


def error(status: int, body: bytes, headers: dict[str, str] | None = None) -> ProviderError:
    return ADAPTER.parse_error(PROVIDER, status, headers or {}, body)


def test_registry_gives_the_cohere_adapter() -> None:
    made = adapter_for(ProviderType.COHERE)
    assert isinstance(made, CohereAdapter)
    assert made.family == "cohere"
    assert adapter_for("cohere") is made


# -- errors ----------------------------------------------------------------------------------------------------


def test_an_invalid_api_token_is_a_provider_auth_failure() -> None:
    failed = error(401, b'{"id":"8e1c","message":"invalid api token"}')
    assert isinstance(failed, UpstreamAuthError)
    assert (failed.status, failed.code, failed.upstream_status) == (502, "provider_auth_failed", 401)
    assert failed.message == "co: invalid api token"
    assert failed.retryable is False


def test_an_unknown_model_is_model_not_found() -> None:
    body = (b'{"message":"model \'command-x\' not found, make sure the correct model ID was used and that you '
            b'have access to the model."}')
    missing = error(404, body)
    assert isinstance(missing, UpstreamModelNotFoundError)
    assert (missing.status, missing.code) == (404, "model_not_found")
    assert "command-x" in missing.message
    assert isinstance(error(400, body), UpstreamModelNotFoundError)


def test_rate_limits_carry_retry_after() -> None:
    limited = error(429, b'{"message":"You are using a Trial key, which is limited to 20 API calls / minute."}',
                    {"retry-after": "7"})
    assert isinstance(limited, UpstreamRateLimitError)
    assert limited.retry_after == 7.0
    assert limited.retryable is True
    assert "Trial key" in limited.message


@pytest.mark.parametrize(("status", "kind", "retryable"), [
    (400, UpstreamInvalidRequestError, False),
    (422, UpstreamInvalidRequestError, False),
    (498, UpstreamAuthError, False),
    (499, UpstreamUnavailableError, True),
    (500, UpstreamUnavailableError, True),
    (503, UpstreamUnavailableError, True),
    (504, UpstreamTimeoutError, True),
])
def test_statuses(status: int, kind: type, retryable: bool) -> None:
    failed = error(status, b'{"message":"invalid request: messages must not be empty"}')
    assert type(failed) is kind
    assert failed.retryable is retryable
    assert failed.message == "co: invalid request: messages must not be empty"
    assert failed.upstream_status == status


def test_bodies_that_are_not_cohere_s_envelope() -> None:
    assert error(502, b"<html>Bad Gateway</html>").message == "co: HTTP 502: <html>Bad Gateway</html>"
    assert error(503, b"").message == "co: HTTP 503"
    assert error(500, b'{"detail":"x"}').message == 'co: HTTP 500: {"detail":"x"}'


# -- models and validation -------------------------------------------------------------------------------------


def test_model_list_call_and_names() -> None:
    call = ADAPTER.models_call(PROVIDER)
    assert (call.method, call.url) == ("GET", "https://api.cohere.com/v1/models?endpoint=chat&page_size=1000")
    assert call.headers["authorization"] == "Bearer co-key"
    assert "content-type" not in call.headers
    assert call.body is None
    body = (b'{"models":[{"name":"command-a-03-2025","endpoints":["chat"],"finetuned":false,"context_length":256000,'
            b'"features":["tools"]},{"name":"command-r7b-12-2024","endpoints":["chat"]},{"endpoints":["chat"]}],'
            b'"next_page_token":""}')
    assert ADAPTER.parse_models(PROVIDER, body) == ["command-a-03-2025", "command-r7b-12-2024"]
    with pytest.raises(UpstreamUnavailableError):
        ADAPTER.parse_models(PROVIDER, b'{"models": "none"}')


def test_key_validation_asks_for_one_model() -> None:
    call = ADAPTER.validate_call(PROVIDER)
    assert (call.method, call.url) == ("GET", "https://api.cohere.com/v1/models?page_size=1")
    assert call.headers["authorization"] == "Bearer co-key"


# -- embeddings ------------------------------------------------------------------------------------------------


def test_embedding_calls_default_the_input_type_and_ask_for_floats() -> None:
    request = EmbeddingRequest(model="embed-v4.0", inputs=["a", "b"], dimensions=512)
    (call,) = ADAPTER.embeddings_calls(PROVIDER, request)
    assert (call.method, call.url) == ("POST", "https://api.cohere.com/v2/embed")
    assert msgspec.json.decode(call.body) == {"model": "embed-v4.0", "texts": ["a", "b"],
                                              "input_type": "search_document", "embedding_types": ["float"],
                                              "output_dimension": 512}
    query = EmbeddingRequest(model="embed-english-v3.0", inputs=["q"], input_type="search_query")
    body = msgspec.json.decode(ADAPTER.embeddings_calls(PROVIDER, query)[0].body)
    assert body["input_type"] == "search_query"
    assert "output_dimension" not in body


def test_more_than_96_texts_take_several_calls_and_answers_are_joined_in_order() -> None:
    texts = [f"t{i}" for i in range(100)]
    request = EmbeddingRequest(model="embed-v4.0", inputs=texts)
    calls = ADAPTER.embeddings_calls(PROVIDER, request)
    assert [len(msgspec.json.decode(c.body)["texts"]) for c in calls] == [96, 4]
    assert msgspec.json.decode(calls[1].body)["texts"] == ["t96", "t97", "t98", "t99"]

    def answer(first: int, count: int, billed: int) -> bytes:
        return msgspec.json.encode({"id": "e", "embeddings": {"float": [[float(first + i)] for i in range(count)]},
                                    "texts": texts[first:first + count], "response_type": "embeddings_by_type",
                                    "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": billed}}})

    result = ADAPTER.parse_embeddings(PROVIDER, request, [answer(0, 96, 96), answer(96, 4, 4)])
    assert [v[0] for v in result.vectors] == [float(i) for i in range(100)]
    assert result.usage == Usage(input_tokens=100)
    assert (result.model, result.provider) == ("embed-v4.0", "co")


def test_embedding_answers_that_do_not_fit() -> None:
    request = EmbeddingRequest(model="embed-v4.0", inputs=["a", "b"])
    with pytest.raises(UpstreamUnavailableError, match="1 embeddings for 2 texts"):
        ADAPTER.parse_embeddings(PROVIDER, request, [b'{"id":"e","embeddings":{"float":[[0.1]]}}'])
    with pytest.raises(UpstreamUnavailableError, match="no float embeddings"):
        ADAPTER.parse_embeddings(PROVIDER, request, [b'{"id":"e","embeddings":{"int8":[[1],[2]]}}'])
    with pytest.raises(UpstreamUnavailableError, match="unreadable"):
        ADAPTER.parse_embeddings(PROVIDER, request, [b"oops"])

"""parse_error on recorded and documented error answers of the OpenAI family."""

from __future__ import annotations

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
from byway.providers.catalog import SPECS
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.ollama import OllamaAdapter
from byway.providers.openai import OpenAIAdapter
from tests.vectors import cassette


def parse(kind: ProviderType, status: int, body: bytes, headers: dict[str, str] | None = None,
          name: str = "") -> ProviderError:
    if kind is ProviderType.OLLAMA:  # Ollama's OpenAI-compatible API is a mode of its own adapter
        provider = ProviderConfig(provider_type=kind, name=name or kind.value, base_url="https://x.test", api="openai")
        return OllamaAdapter(SPECS[kind]).parse_error(provider, status, headers or {}, body)
    provider = ProviderConfig(provider_type=kind, name=name or kind.value, base_url="https://x.test/v1")
    return OpenAIAdapter(SPECS[kind]).parse_error(provider, status, headers or {}, body)


def parse_recorded(kind: ProviderType, folder: str, name: str, index: int = 0, title: str = "") -> ProviderError:
    item = cassette(folder, name).interactions[index]
    return parse(kind, item.response.status, item.response.body_bytes(), item.response.headers, name=title)


@pytest.mark.parametrize(("kind", "name", "model"), [
    (ProviderType.GROQ, "test_model_name_suggestion[groq]", "llama-3.3-70b-versatlie"),
    (ProviderType.OPENAI, "test_model_name_suggestion[openai-chat]", "gpt-5.2-proo"),
])
def test_unknown_model_is_model_not_found_naming_the_provider(kind: ProviderType, name: str, model: str) -> None:
    error = parse_recorded(kind, "test_model_name_suggestions", name, title="team-llm")
    assert isinstance(error, UpstreamModelNotFoundError)
    assert error.status == 404
    assert error.code == "model_not_found"
    assert error.upstream_status == 404
    assert error.provider == "team-llm"
    assert error.message.startswith("team-llm: The model `")
    assert model in error.message
    assert error.retryable is False


def test_model_not_found_code_on_a_400_is_still_model_not_found() -> None:
    error = parse_recorded(ProviderType.OPENAI, "test_model_name_suggestions", "test_inferred_model_name_suggestion")
    assert isinstance(error, UpstreamModelNotFoundError)
    assert error.upstream_status == 400
    assert "'gpt-5.2-proo' does not exist" in error.message


def test_groq_regular_unknown_model() -> None:
    error = parse_recorded(ProviderType.GROQ, "test_groq", "test_tool_regular_error")
    assert isinstance(error, UpstreamModelNotFoundError)
    assert "`non-existent`" in error.message


def test_groq_tool_use_failed_is_an_invalid_request_with_its_code() -> None:
    error = parse_recorded(ProviderType.GROQ, "test_groq", "test_tool_use_failed_error")
    assert isinstance(error, UpstreamInvalidRequestError)
    assert error.status == 400
    assert error.code == "tool_use_failed"
    assert "did not match schema" in error.message
    with_text = parse_recorded(ProviderType.GROQ, "test_groq", "test_tool_use_failed_error_with_text")
    assert isinstance(with_text, UpstreamInvalidRequestError)  # "model did not call a tool" is not a missing model
    assert with_text.message == "groq: Tool choice is required, but model did not call a tool"


@pytest.mark.parametrize("name", ["test_openai_o1_mini_system_role[developer]",
                                  "test_openai_web_search_tool_model_not_supported"])
def test_openai_unsupported_feature_is_invalid_request_not_model_missing(name: str) -> None:
    error = parse_recorded(ProviderType.OPENAI, "test_openai", name)
    assert isinstance(error, UpstreamInvalidRequestError)
    assert error.status == 400


def test_openai_unsupported_value_keeps_message_and_code() -> None:
    error = parse_recorded(ProviderType.OPENAI, "test_openai", "test_openai_o1_mini_system_role[system]")
    assert error.code == "unsupported_value"
    assert error.message == ("openai: Unsupported value: 'messages[0].role' does not support 'system' "
                             "with this model.")


def test_openrouter_429_carries_the_upstream_reason_and_retry_after() -> None:
    item = cassette("test_openrouter", "test_openrouter_errors_raised").interactions[0]
    error = parse(ProviderType.OPENROUTER, 429, item.response.body_bytes(), {"retry-after": "7"})
    assert isinstance(error, UpstreamRateLimitError)
    assert error.retry_after == 7.0
    assert error.retryable is True
    assert error.headers() == {"retry-after": "7"}
    assert error.message.startswith("openrouter: Provider returned error (google/gemini-2.0-flash-exp:free is "
                                    "temporarily rate-limited upstream.")
    assert error.code == "rate_limit_exceeded"  # OpenRouter's numeric code 429 is not kept


def test_mistral_validation_error_envelope() -> None:
    body = (b'{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","metadata"],'
            b'"msg":"Extra inputs are not permitted","input":{"a":"b"}}]},"type":"invalid_request_error",'
            b'"param":null,"code":null}')
    error = parse(ProviderType.MISTRAL, 422, body)
    assert isinstance(error, UpstreamInvalidRequestError)
    assert error.message == "mistral: body.metadata: Extra inputs are not permitted"


def test_mistral_invalid_model() -> None:
    body = b'{"object":"error","message":"Invalid model: mistral-tiny-nope","type":"invalid_model","param":null,' \
           b'"code":"1500"}'
    error = parse(ProviderType.MISTRAL, 400, body)
    assert isinstance(error, UpstreamModelNotFoundError)
    assert error.message == "mistral: Invalid model: mistral-tiny-nope"


@pytest.mark.parametrize(("status", "body", "kind", "message"), [
    (404, b'{"error": "Model meta-llama/Nope does not exist"}', UpstreamModelNotFoundError,
     "huggingface: Model meta-llama/Nope does not exist"),
    (400, b'{"error": "Input validation error: `inputs` must have less than 4096 tokens"}',
     UpstreamInvalidRequestError, "huggingface: Input validation error: `inputs` must have less than 4096 tokens"),
    (400, b'{"detail": [{"loc": ["body", "messages"], "msg": "field required"}]}', UpstreamInvalidRequestError,
     "huggingface: body.messages: field required"),
    (503, b'{"detail": "Service Unavailable"}', UpstreamUnavailableError, "huggingface: Service Unavailable"),
])
def test_huggingface_error_shapes(status: int, body: bytes, kind: type, message: str) -> None:
    error = parse(ProviderType.HUGGINGFACE, status, body)
    assert type(error) is kind
    assert error.message == message


def test_xai_string_error_with_code() -> None:
    body = b'{"code":"Client specified an invalid argument","error":"Incorrect API key provided: xa***x."}'
    error = parse(ProviderType.XAI, 400, body)
    assert isinstance(error, UpstreamInvalidRequestError)
    assert error.message == "xai: Incorrect API key provided: xa***x."


def test_bad_key_is_upstream_auth_error() -> None:
    body = (b'{"error":{"message":"Incorrect API key provided: sk-abc. You can find your API key at '
            b'https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,'
            b'"code":"invalid_api_key"}}')
    error = parse(ProviderType.OPENAI, 401, body)
    assert isinstance(error, UpstreamAuthError)
    assert error.status == 502
    assert error.code == "provider_auth_failed"
    assert "Incorrect API key provided" in error.message


def test_plain_text_and_empty_bodies() -> None:
    gateway = parse(ProviderType.OLLAMA, 502, b"<html><body>Bad Gateway</body></html>\n")
    assert isinstance(gateway, UpstreamUnavailableError)
    assert gateway.retryable is True
    assert gateway.message == "ollama: <html><body>Bad Gateway</body></html>"
    empty = parse(ProviderType.TOGETHER, 503, b"")
    assert empty.message == "together: HTTP 503"
    timeout = parse(ProviderType.FIREWORKS, 504, b"upstream request timeout")
    assert isinstance(timeout, UpstreamTimeoutError)


def test_long_messages_are_cut() -> None:
    error = parse(ProviderType.OPENAI_COMPATIBLE, 500, b"x" * 5000)
    assert len(error.message) < 700

"""The Ollama adapter: its OpenAI mode on the recorded test_ollama traffic (Ollama's OpenAI-compatible API),
native error answers, model lists, key validation and embeddings in both modes."""

from __future__ import annotations

import msgspec
import pytest

from byway.core import (
    ChatRequest,
    EmbeddingRequest,
    Message,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    UpstreamAuthError,
    UpstreamInvalidRequestError,
    UpstreamModelNotFoundError,
    UpstreamUnavailableError,
    Usage,
)
from byway.providers.catalog import spec_for
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.ollama import OllamaAdapter
from byway.providers.openai import OpenAIAdapter
from byway.providers.openai_stream import OpenAIStreamDecoder
from byway.providers.registry import adapter_for
from tests.vectors import cassette

ADAPTER = OllamaAdapter(spec_for(ProviderType.OLLAMA))
LOCAL = ProviderConfig(provider_type=ProviderType.OLLAMA, name="local")
OPENAI_MODE = ProviderConfig(provider_type=ProviderType.OLLAMA, name="local", api="openai")


def test_registry_gives_the_ollama_adapter() -> None:
    made = adapter_for(ProviderType.OLLAMA)
    assert isinstance(made, OllamaAdapter)
    assert (made.family, made.inline_images) == ("ollama", True)
    assert adapter_for("ollama") is made


# -- OpenAI mode -----------------------------------------------------------------------------------------------


def test_openai_mode_delegates_to_an_openai_adapter_at_v1() -> None:
    assert isinstance(ADAPTER.openai, OpenAIAdapter)
    assert (ADAPTER.openai.spec.family, ADAPTER.openai.spec.default_base_url) == ("openai", "http://localhost:11434/v1")
    assert ADAPTER.openai.spec.type is ProviderType.OLLAMA
    request = ChatRequest(model="qwen3:0.6b", messages=[Message(role="user", parts=[TextPart("hi")])], max_tokens=9)
    ours = ADAPTER.chat_call(OPENAI_MODE, request)
    direct = ADAPTER.openai.chat_call(OPENAI_MODE, request)
    assert ours.url == "http://localhost:11434/v1/chat/completions"
    assert (ours.body, ours.headers) == (direct.body, direct.headers)
    assert isinstance(ADAPTER.stream_decoder(OPENAI_MODE, request), OpenAIStreamDecoder)


@pytest.mark.parametrize(("base", "url"), [
    ("http://gpu:11434", "http://gpu:11434/v1/chat/completions"),
    ("http://gpu:11434/", "http://gpu:11434/v1/chat/completions"),
    ("https://ollama.com/v1", "https://ollama.com/v1/chat/completions"),
])
def test_openai_mode_base_urls(base: str, url: str) -> None:
    provider = ProviderConfig(provider_type=ProviderType.OLLAMA, base_url=base, api="openai", api_key="tok")
    call = ADAPTER.chat_call(provider, ChatRequest(model="m", messages=[Message(role="user", parts=[TextPart("x")])]))
    assert call.url == url
    assert call.headers["authorization"] == "Bearer tok"
    assert ADAPTER.models_call(provider).url == url.replace("/chat/completions", "/models")


def test_the_recorded_json_schema_request_is_rebuilt_in_openai_mode() -> None:
    item = cassette("test_ollama", "test_ollama_local_native_output_uses_json_schema").interactions[0]
    recorded = item.request.body
    fmt = recorded["response_format"]["json_schema"]
    request = ChatRequest(model=recorded["model"], messages=[Message(role="user", parts=[TextPart(
        recorded["messages"][0]["content"])])], response_format=ResponseFormat(
        "json_schema", schema=fmt["schema"], name=fmt["name"]))
    provider = ProviderConfig(provider_type=ProviderType.OLLAMA, base_url="http://localhost:11434", api="openai")
    call = ADAPTER.chat_call(provider, request)
    assert call.url == item.request.uri
    assert msgspec.json.decode(call.body) == recorded


def test_the_recorded_answers_parse_in_openai_mode() -> None:
    tape = cassette("test_ollama", "test_ollama_cloud_tool_output")
    first = ADAPTER.parse_chat(OPENAI_MODE, tape.interactions[0].response.body_bytes())
    assert first.text == "Paris."
    assert isinstance(first.parts[0], ThinkingPart)
    assert first.usage == Usage(input_tokens=134, output_tokens=122)
    second = ADAPTER.parse_chat(OPENAI_MODE, tape.interactions[1].response.body_bytes())
    assert second.tool_calls == [ToolCallPart(id="call_o2vnpxrw", name="final_result",
                                              arguments='{"city":"Paris","country":"France"}')]
    assert second.stop_reason == "tool_calls"
    prompted = cassette("test_ollama", "test_ollama_cloud_prompted_output").interactions[0]
    assert msgspec.json.decode(ADAPTER.parse_chat(OPENAI_MODE, prompted.response.body_bytes()).text) == {
        "name": "Loki", "animal": "cat", "age": 3}


def test_openai_mode_errors_are_read_in_openai_s_envelope() -> None:
    body = b'{"error":{"message":"model \\"qwen9\\" not found, try pulling it first","type":"api_error"}}'
    missing = ADAPTER.parse_error(OPENAI_MODE, 404, {}, body)
    assert isinstance(missing, UpstreamModelNotFoundError)
    assert 'qwen9' in missing.message


# -- native errors ---------------------------------------------------------------------------------------------


def test_native_errors() -> None:
    missing = ADAPTER.parse_error(LOCAL, 404, {}, b'{"error":"model \\"llama9\\" not found, try pulling it first"}')
    assert isinstance(missing, UpstreamModelNotFoundError)
    assert missing.message == 'local: model "llama9" not found, try pulling it first'
    tools = ADAPTER.parse_error(LOCAL, 400, {}, b'{"error":"registry.ollama.ai/library/gemma:2b does not support tools"}')
    assert isinstance(tools, UpstreamInvalidRequestError)
    assert tools.message.endswith("does not support tools")
    assert isinstance(ADAPTER.parse_error(LOCAL, 401, {}, b'{"error":"unauthorized"}'), UpstreamAuthError)
    busy = ADAPTER.parse_error(LOCAL, 503, {}, b"<html>busy</html>")
    assert isinstance(busy, UpstreamUnavailableError)
    assert busy.message == "local: HTTP 503: <html>busy</html>"


# -- models and validation -------------------------------------------------------------------------------------


def test_native_model_list_is_the_tags() -> None:
    call = ADAPTER.models_call(LOCAL)
    assert (call.method, call.url, call.body) == ("GET", "http://localhost:11434/api/tags", None)
    assert "content-type" not in call.headers
    assert ADAPTER.validate_call(LOCAL).url == "http://localhost:11434/api/tags"
    body = (b'{"models":[{"name":"llama3.2:latest","model":"llama3.2:latest","size":2019393189,'
            b'"details":{"family":"llama"}},{"model":"qwen3:0.6b"},{"size":1}]}')
    assert ADAPTER.parse_models(LOCAL, body) == ["llama3.2:latest", "qwen3:0.6b"]
    with pytest.raises(UpstreamUnavailableError):
        ADAPTER.parse_models(LOCAL, b"[]")


def test_openai_mode_model_list() -> None:
    body = b'{"object":"list","data":[{"id":"qwen3:0.6b","object":"model","owned_by":"library"}]}'
    assert ADAPTER.parse_models(OPENAI_MODE, body) == ["qwen3:0.6b"]
    assert ADAPTER.validate_call(OPENAI_MODE).url == "http://localhost:11434/v1/models"


# -- embeddings ------------------------------------------------------------------------------------------------


def test_native_embeddings() -> None:
    request = EmbeddingRequest(model="nomic-embed-text", inputs=["a", "b c"], dimensions=256)
    (call,) = ADAPTER.embeddings_calls(LOCAL, request)
    assert (call.method, call.url) == ("POST", "http://localhost:11434/api/embed")
    assert msgspec.json.decode(call.body) == {"model": "nomic-embed-text", "input": ["a", "b c"], "dimensions": 256}
    answer = b'{"model":"nomic-embed-text","embeddings":[[0.1,0.2],[0.3,0.4]],"total_duration":14143917,' \
             b'"load_duration":1019500,"prompt_eval_count":8}'
    result = ADAPTER.parse_embeddings(LOCAL, request, [answer])
    assert result.vectors == [[0.1, 0.2], [0.3, 0.4]]
    assert result.usage == Usage(input_tokens=8)
    assert (result.model, result.provider) == ("nomic-embed-text", "local")
    with pytest.raises(UpstreamUnavailableError, match="1 embeddings for 2 inputs"):
        ADAPTER.parse_embeddings(LOCAL, request, [b'{"embeddings":[[0.1]]}'])
    with pytest.raises(UpstreamUnavailableError, match="unreadable"):
        ADAPTER.parse_embeddings(LOCAL, request, [b"{}"])


def test_wire_family_follows_the_chosen_api() -> None:
    from byway.providers.config import ProviderConfig, ProviderType
    from byway.providers.registry import adapter_for

    adapter = adapter_for(ProviderType.OLLAMA)
    assert adapter.wire_family(ProviderConfig(provider_type=ProviderType.OLLAMA)) == "ollama"
    assert adapter.wire_family(ProviderConfig(provider_type=ProviderType.OLLAMA, api="openai")) == "openai"
    assert adapter_for(ProviderType.GROQ).wire_family(ProviderConfig(provider_type=ProviderType.GROQ)) == "openai"

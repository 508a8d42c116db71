"""Request building for every OpenAI-family provider type: URLs, auth, body fields and per-type quirks."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from byway.core import (
    ChatRequest,
    ImagePart,
    InvalidRequestError,
    Message,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    UpstreamUnavailableError,
)
from byway.providers.catalog import SPECS
from byway.providers.config import ProviderConfig, ProviderType
from byway.providers.ollama import OllamaAdapter
from byway.providers.openai import OpenAIAdapter
from byway.providers.openai_request import mistral_tool_id
from byway.providers.registry import adapter_for

OPENAI_FAMILY = [t for t, spec in SPECS.items() if spec.family == "openai"]


def adapter(kind: ProviderType) -> OpenAIAdapter | OllamaAdapter:
    """The adapter speaking Chat Completions for ``kind``; Ollama speaks it through its own adapter's OpenAI mode."""
    return OllamaAdapter(SPECS[kind]) if kind is ProviderType.OLLAMA else OpenAIAdapter(SPECS[kind])


def config(kind: ProviderType, **kw: Any) -> ProviderConfig:
    kw.setdefault("api_key", "sk-test")
    if kind is ProviderType.OLLAMA:
        kw.setdefault("api", "openai")
    return ProviderConfig(provider_type=kind, **kw)


def body_of(kind: ProviderType, request: ChatRequest, **kw: Any) -> dict[str, Any]:
    call = adapter(kind).chat_call(config(kind, base_url=kw.pop("base_url", "https://example.test/v1"), **kw),
                                   request)
    assert call.body is not None
    return msgspec.json.decode(call.body)


def user(text: str) -> Message:
    return Message(role="user", parts=[TextPart(text)])


def simple(**kw: Any) -> ChatRequest:
    return ChatRequest(model=kw.pop("model", "m-1"), messages=kw.pop("messages", [user("hi")]), **kw)


# --- registry ---------------------------------------------------------------------------------------

def test_family_covers_the_brief_types() -> None:
    assert {t.value for t in OPENAI_FAMILY} == {
        "openai", "azure", "mistral", "groq", "together", "xai", "openrouter", "huggingface",
        "deepseek", "fireworks", "openai_compatible"}
    assert SPECS[ProviderType.OLLAMA].family == "ollama"  # its OpenAI-compatible API is a mode of its own adapter


@pytest.mark.parametrize("kind", OPENAI_FAMILY)
def test_registry_gives_one_cached_openai_adapter_per_type(kind: ProviderType) -> None:
    first = adapter_for(kind)
    assert isinstance(first, OpenAIAdapter)
    assert first.family == "openai"
    assert first.spec.type == kind
    assert adapter_for(kind.value) is first


def test_registry_has_an_adapter_for_every_type_and_refuses_unknown_ones() -> None:
    families = {kind: adapter_for(kind).family for kind in ProviderType}
    assert families[ProviderType.GEMINI] == families[ProviderType.VERTEX] == "gemini"
    assert families[ProviderType.BEDROCK] == "bedrock"
    assert families[ProviderType.COHERE] == "cohere"
    assert families[ProviderType.OLLAMA] == "ollama"
    assert families[ProviderType.GROQ] == "openai"
    with pytest.raises(InvalidRequestError, match="unknown provider type 'telepathy'"):
        adapter_for("telepathy")


def test_registry_loads_anthropic_lazily() -> None:
    made = adapter_for(ProviderType.ANTHROPIC)
    assert made.family == "anthropic"
    assert adapter_for("anthropic") is made


def test_adapter_refuses_a_spec_of_another_family() -> None:
    with pytest.raises(ValueError, match="not an OpenAI-family"):
        OpenAIAdapter(SPECS[ProviderType.ANTHROPIC])


# --- URLs and auth ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "url"), [
    (ProviderType.OPENAI, "https://api.openai.com/v1/chat/completions"),
    (ProviderType.MISTRAL, "https://api.mistral.ai/v1/chat/completions"),
    (ProviderType.GROQ, "https://api.groq.com/openai/v1/chat/completions"),
    (ProviderType.TOGETHER, "https://api.together.xyz/v1/chat/completions"),
    (ProviderType.XAI, "https://api.x.ai/v1/chat/completions"),
    (ProviderType.OPENROUTER, "https://openrouter.ai/api/v1/chat/completions"),
    (ProviderType.HUGGINGFACE, "https://router.huggingface.co/v1/chat/completions"),
    (ProviderType.OLLAMA, "http://localhost:11434/v1/chat/completions"),
    (ProviderType.DEEPSEEK, "https://api.deepseek.com/v1/chat/completions"),
    (ProviderType.FIREWORKS, "https://api.fireworks.ai/inference/v1/chat/completions"),
])
def test_default_urls_and_bearer_auth(kind: ProviderType, url: str) -> None:
    call = adapter(kind).chat_call(config(kind, api_key="sk-abc"), simple())
    assert call.method == "POST"
    assert call.url == url
    assert call.headers["authorization"] == "Bearer sk-abc"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["accept"] == "application/json"
    assert "api-key" not in call.headers


def test_base_url_override_is_used_without_its_trailing_slash() -> None:
    call = adapter(ProviderType.OPENAI).chat_call(
        config(ProviderType.OPENAI, base_url="http://127.0.0.1:9200/openai/v1/"), simple())
    assert call.url == "http://127.0.0.1:9200/openai/v1/chat/completions"


@pytest.mark.parametrize("kind", [ProviderType.OPENAI_COMPATIBLE, ProviderType.AZURE])
def test_missing_base_url_is_an_invalid_request_naming_base_url(kind: ProviderType) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        adapter(kind).chat_call(config(kind, name="mine"), simple())
    assert caught.value.param == "base_url"
    assert "base_url" in caught.value.message
    assert "mine" in caught.value.message


def test_azure_deployment_url_api_version_and_api_key_header() -> None:
    az = adapter(ProviderType.AZURE)
    provider = config(ProviderType.AZURE, api_key="az-key", base_url="https://res.openai.azure.com")
    call = az.chat_call(provider, simple(model="gpt4o-prod"))
    assert call.url == ("https://res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions"
                        "?api-version=2024-10-21")
    assert call.headers["api-key"] == "az-key"
    assert "authorization" not in call.headers
    dated = config(ProviderType.AZURE, base_url="https://res.openai.azure.com", api_version="2025-01-01-preview")
    assert az.chat_call(dated, simple(model="d")).url.endswith("/openai/deployments/d/chat/completions"
                                                               "?api-version=2025-01-01-preview")


def test_azure_v1_endpoint_takes_the_model_in_the_body() -> None:
    provider = config(ProviderType.AZURE, base_url="https://res.openai.azure.com/openai/v1")
    call = adapter(ProviderType.AZURE).chat_call(provider, simple(model="gpt-4o"))
    assert call.url == "https://res.openai.azure.com/openai/v1/chat/completions"
    assert msgspec.json.decode(call.body)["model"] == "gpt-4o"


def test_ollama_sends_no_auth_without_a_key_and_bearer_with_one() -> None:
    ollama = adapter(ProviderType.OLLAMA)
    bare = ollama.chat_call(ProviderConfig(provider_type=ProviderType.OLLAMA, api="openai"),
                            simple(model="llama3.1:8b"))
    assert bare.url == "http://localhost:11434/v1/chat/completions"
    assert "authorization" not in bare.headers
    assert "api-key" not in bare.headers
    keyed = ollama.chat_call(config(ProviderType.OLLAMA, api_key="tok"), simple())
    assert keyed.headers["authorization"] == "Bearer tok"


def test_provider_headers_are_added_and_may_override() -> None:
    provider = config(ProviderType.OPENROUTER, headers={"HTTP-Referer": "https://byway.test", "accept": "*/*"})
    call = adapter(ProviderType.OPENROUTER).chat_call(provider, simple())
    assert call.headers["HTTP-Referer"] == "https://byway.test"
    assert call.headers["accept"] == "*/*"
    assert call.headers["authorization"] == "Bearer sk-test"


def test_streaming_call_accepts_event_stream() -> None:
    call = adapter(ProviderType.OPENAI).chat_call(config(ProviderType.OPENAI), simple(stream=True))
    assert call.headers["accept"] == "text/event-stream"


# --- body fields ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", OPENAI_FAMILY)
def test_max_tokens_field_per_type(kind: ProviderType) -> None:
    body = body_of(kind, simple(max_tokens=321))
    expected = "max_completion_tokens" if kind in (ProviderType.OPENAI, ProviderType.AZURE) else "max_tokens"
    other = "max_tokens" if expected == "max_completion_tokens" else "max_completion_tokens"
    assert body[expected] == 321
    assert other not in body


@pytest.mark.parametrize("kind", OPENAI_FAMILY)
def test_streams_always_ask_for_usage_where_the_api_accepts_it(kind: ProviderType) -> None:
    body = body_of(kind, simple(stream=True))
    assert body["stream"] is True
    if kind in (ProviderType.GROQ, ProviderType.MISTRAL):  # both refuse the field and send usage unasked
        assert "stream_options" not in body
    else:
        assert body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("kind", OPENAI_FAMILY)
def test_plain_requests_say_stream_false_and_no_stream_options(kind: ProviderType) -> None:
    body = body_of(kind, simple())
    assert body["stream"] is False
    assert "stream_options" not in body


def test_every_openai_field_in_the_body() -> None:
    weather = Tool(name="get_weather", description="Weather for a city",
                   parameters={"type": "object", "properties": {"city": {"type": "string"}},
                               "required": ["city"]}, strict=True)
    request = ChatRequest(
        model="gpt-4o-mini", messages=[user("hi")], tools=[weather], tool_choice=ToolChoice(mode="required"),
        parallel_tool_calls=False,
        response_format=ResponseFormat(type="json_schema", name="City", schema={"type": "object"}, strict=True),
        temperature=0.2, top_p=0.9, max_tokens=50, stop=["END"], seed=7, user="u-1",
        metadata={"team": "blue"}, reasoning_effort="low",
    )
    body = body_of(ProviderType.OPENAI, request)
    assert body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {
            "name": "get_weather", "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            "strict": True}}],
        "parallel_tool_calls": False,
        "tool_choice": "required",
        "response_format": {"type": "json_schema",
                            "json_schema": {"name": "City", "schema": {"type": "object"}, "strict": True}},
        "temperature": 0.2,
        "top_p": 0.9,
        "max_completion_tokens": 50,
        "stop": ["END"],
        "seed": 7,
        "user": "u-1",
        "metadata": {"team": "blue"},
        "reasoning_effort": "low",
        "stream": False,
    }


def test_metadata_is_openai_only_and_parallel_tool_calls_needs_tools() -> None:
    body = body_of(ProviderType.GROQ, simple(metadata={"a": "b"}, parallel_tool_calls=True, seed=3, user="x"))
    assert "metadata" not in body
    assert "parallel_tool_calls" not in body
    assert body["seed"] == 3
    assert body["user"] == "x"


@pytest.mark.parametrize(("choice", "wire"), [
    (ToolChoice(mode="auto"), "auto"),
    (ToolChoice(mode="none"), "none"),
    (ToolChoice(mode="required"), "required"),
    (ToolChoice(mode="tool", name="get_weather"), {"type": "function", "function": {"name": "get_weather"}}),
])
def test_tool_choice_encoding(choice: ToolChoice, wire: Any) -> None:
    assert body_of(ProviderType.OPENAI, simple(tool_choice=choice))["tool_choice"] == wire


def test_json_object_and_text_response_formats() -> None:
    assert body_of(ProviderType.DEEPSEEK, simple(response_format=ResponseFormat(type="json_object"))
                   )["response_format"] == {"type": "json_object"}
    unnamed = body_of(ProviderType.OPENAI, simple(response_format=ResponseFormat(
        type="json_schema", schema={"type": "object", "properties": {}})))["response_format"]
    assert unnamed == {"type": "json_schema",
                       "json_schema": {"name": "response", "schema": {"type": "object", "properties": {}}}}


def test_extra_fields_merge_only_from_the_openai_family_and_never_override() -> None:
    extra = {"logprobs": True, "top_logprobs": 2, "model": "hijack", "frequency_penalty": 0.5}
    body = body_of(ProviderType.OPENAI, simple(extra=extra, extra_family="openai"))
    assert body["logprobs"] is True
    assert body["top_logprobs"] == 2
    assert body["frequency_penalty"] == 0.5
    assert body["model"] == "m-1"
    foreign = body_of(ProviderType.OPENAI, simple(extra={"top_k": 5}, extra_family="anthropic"))
    assert "top_k" not in foreign


# --- messages ---------------------------------------------------------------------------------------

PNG = "iVBORw0KGgo="


def conversation() -> list[Message]:
    return [
        Message(role="system", parts=[TextPart("Be brief.")]),
        Message(role="developer", parts=[TextPart("Use metric units.")]),
        Message(role="user", parts=[TextPart("What is this and how warm is Paris?"),
                                    ImagePart(data=PNG, media_type="image/png", detail="low"),
                                    ImagePart(url="https://example.test/cat.jpg")], name="alice"),
        Message(role="assistant", parts=[
            ThinkingPart(text="Need the weather tool."),
            TextPart("Checking."),
            ToolCallPart(id="call_abc123def456", name="get_weather", arguments='{"city":"Paris"}'),
            ToolCallPart(id="toolu_01XYZ", name="get_time", arguments="{}"),
        ]),
        Message(role="tool", parts=[
            ToolResultPart(tool_call_id="call_abc123def456", content=[TextPart("21C"), ImagePart(
                data="R0lGOD", media_type="image/gif")]),
        ]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="toolu_01XYZ", content=[TextPart("noon")])]),
        Message(role="user", parts=[TextPart("Thanks")]),
    ]


def test_conversation_encoding_for_openai() -> None:
    messages = body_of(ProviderType.OPENAI, simple(messages=conversation()))["messages"]
    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": "Use metric units."},
        {"role": "user", "name": "alice", "content": [
            {"type": "text", "text": "What is this and how warm is Paris?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}},
            {"type": "image_url", "image_url": {"url": "https://example.test/cat.jpg"}},
        ]},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "call_abc123def456", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
            {"id": "toolu_01XYZ", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "call_abc123def456", "content": "21C"},
        {"role": "tool", "tool_call_id": "toolu_01XYZ", "content": "noon"},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/gif;base64,R0lGOD"}}]},
        {"role": "user", "content": "Thanks"},
    ]


def test_developer_becomes_system_where_unsupported() -> None:
    messages = body_of(ProviderType.GROQ, simple(messages=conversation()))["messages"]
    assert [m["role"] for m in messages[:2]] == ["system", "system"]
    assert messages[1]["content"] == "Use metric units."


def test_images_only_tool_result_gets_a_pointer_text() -> None:
    request = simple(messages=[
        Message(role="assistant", parts=[ToolCallPart(id="c1", name="shot")]),
        Message(role="tool", parts=[ToolResultPart(tool_call_id="c1", content=[ImagePart(url="https://x.test/a.png")])]),
    ])
    messages = body_of(ProviderType.OPENAI, request)["messages"]
    assert messages[0] == {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "shot", "arguments": "{}"}}]}
    assert messages[1]["role"] == "tool"
    assert "image" in messages[1]["content"]
    assert messages[2] == {"role": "user", "content": [{"type": "image_url",
                                                        "image_url": {"url": "https://x.test/a.png"}}]}


def test_tool_results_inside_a_user_message_come_first() -> None:
    request = simple(messages=[Message(role="user", parts=[
        ToolResultPart(tool_call_id="c9", content=[TextPart("42")]), TextPart("and now?")])])
    assert body_of(ProviderType.OPENAI, request)["messages"] == [
        {"role": "tool", "tool_call_id": "c9", "content": "42"},
        {"role": "user", "content": "and now?"},
    ]


def test_deepseek_gets_reasoning_content_back_on_assistant_turns() -> None:
    messages = body_of(ProviderType.DEEPSEEK, simple(messages=conversation()))["messages"]
    assistant = next(m for m in messages if m["role"] == "assistant")
    assert assistant["reasoning_content"] == "Need the weather tool."
    plain_calls = body_of(ProviderType.DEEPSEEK, simple(messages=[
        Message(role="assistant", parts=[ToolCallPart(id="x", name="f")])]))["messages"][0]
    assert plain_calls["reasoning_content"] == ""
    openai = body_of(ProviderType.OPENAI, simple(messages=conversation()))["messages"]
    assert all("reasoning_content" not in m for m in openai)


# --- Mistral ----------------------------------------------------------------------------------------

NINE = re.compile(r"^[A-Za-z0-9]{9}$")


def test_mistral_tool_ids_are_nine_alphanumerics_and_still_match() -> None:
    messages = body_of(ProviderType.MISTRAL, simple(messages=conversation()))["messages"]
    assistant = next(m for m in messages if m["role"] == "assistant")
    ids = [c["id"] for c in assistant["tool_calls"]]
    answers = [m["tool_call_id"] for m in messages if m["role"] == "tool"]
    assert all(NINE.match(i) for i in ids)
    assert ids == answers
    assert ids[0] != ids[1]
    assert ids == [mistral_tool_id("call_abc123def456"), mistral_tool_id("toolu_01XYZ")]


def test_mistral_tool_id_mapping_is_stable_and_keeps_native_ids() -> None:
    assert mistral_tool_id("FI5qQGzDE") == "FI5qQGzDE"
    assert mistral_tool_id("call_abc") == mistral_tool_id("call_abc")
    assert NINE.match(mistral_tool_id("call_abc"))
    assert NINE.match(mistral_tool_id("tooluse_é"))
    assert mistral_tool_id("abc_12345") != "abc_12345"  # nine characters, but not all alphanumeric
    assert len({mistral_tool_id(f"call_{n}") for n in range(2000)}) == 2000


def test_mistral_spellings_and_forbidden_fields() -> None:
    body = body_of(ProviderType.MISTRAL, simple(
        messages=[Message(role="user", parts=[TextPart("hi")], name="alice")],
        tool_choice=ToolChoice(mode="required"), seed=11, user="u", reasoning_effort="high", metadata={"a": "b"},
        max_tokens=20))
    assert body["tool_choice"] == "any"
    assert body["random_seed"] == 11
    assert body["max_tokens"] == 20
    for absent in ("seed", "user", "reasoning_effort", "metadata", "max_completion_tokens"):
        assert absent not in body
    assert body["messages"] == [{"role": "user", "content": "hi"}]


# --- models -----------------------------------------------------------------------------------------

def test_models_calls() -> None:
    call = adapter(ProviderType.GROQ).models_call(config(ProviderType.GROQ, api_key="g"))
    assert (call.method, call.url, call.body) == ("GET", "https://api.groq.com/openai/v1/models", None)
    assert call.headers["authorization"] == "Bearer g"
    assert "content-type" not in call.headers
    az = adapter(ProviderType.AZURE).models_call(
        config(ProviderType.AZURE, base_url="https://res.openai.azure.com", api_version="2024-06-01"))
    assert az.url == "https://res.openai.azure.com/openai/models?api-version=2024-06-01"
    assert az.headers["api-key"] == "sk-test"


def test_parse_models_list_shapes() -> None:
    oa = adapter(ProviderType.OPENAI)
    provider = config(ProviderType.OPENAI)
    listing = b'{"object":"list","data":[{"id":"gpt-4o","object":"model","owned_by":"system"},{"id":"o3-mini"}]}'
    assert oa.parse_models(provider, listing) == ["gpt-4o", "o3-mini"]
    assert oa.parse_models(provider, b'[{"id":"meta-llama/Llama-3-8b","type":"chat"}]') == ["meta-llama/Llama-3-8b"]
    with pytest.raises(UpstreamUnavailableError, match="openai: unreadable model list"):
        oa.parse_models(provider, b"<html>oops</html>")
